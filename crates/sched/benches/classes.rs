//! Enqueue + pick + dequeue on one CPU with 10, 100, 1000 and 10,000
//! runnable tasks, for the wrr, rt and fair classes: wrr and rt must be
//! flat (O(1)), fair O(log n).
//!
//! One iteration: a sleeping task is woken (`activate_task`: placement
//! and enqueue at the tail), the CPU picks its next task (the head) and
//! that task goes to sleep (`put_prev_task` with runnable = false:
//! dequeue). The number of runnable tasks stays N.
//!
//! Run: `CARGO_TARGET_DIR=target cargo bench -p sched --bench classes`

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sched::*;

struct T {
    pid: i32,
    mask: AtomicU64,
    ent: SchedEntities<T>,
}

// SAFETY: the entities are a field of the Arc'd object, which never moves.
unsafe impl SchedTask for T {
    type Ref = Arc<T>;
    fn entities(&self) -> &SchedEntities<Self> {
        &self.ent
    }
    fn pid(&self) -> i32 {
        self.pid
    }
    fn tgid(&self) -> i32 {
        self.pid
    }
    fn cpus_allowed(&self) -> u64 {
        self.mask.load(Relaxed)
    }
}

fn task(pid: i32, policy: u32, param: u32) -> Arc<T> {
    Arc::new(T {
        pid,
        mask: AtomicU64::new(0),
        ent: SchedEntities::new(policy, param),
    })
}

fn classes(c: &mut Criterion) {
    for (name, policy) in [("wrr", SCHED_WRR), ("rt", SCHED_RR), ("fair", SCHED_NORMAL)] {
        let mut g = c.benchmark_group(format!("enqueue_pick_dequeue/{name}"));
        for n in [10usize, 100, 1000, 10_000] {
            let s: Sched<T> = Sched::new(1, NoObserver);
            s.tunables.rt_runtime_ns.store(-1, Relaxed);
            let param = |i: usize| match policy {
                SCHED_WRR => 1 + (i % 20) as u32,
                SCHED_RR => 1 + (i % 99) as u32,
                _ => 0,
            };
            let mut now = 1u64;
            for i in 0..n {
                let t = task(i as i32 + 1, policy, param(i));
                let _ = s.wake_up_new_task(t, now);
            }
            let mut asleep = task(n as i32 + 1, policy, param(n));
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    now += 1_000;
                    let _ = s.activate_task(asleep.clone(), now);
                    let r = s.pick_next_task(0, now).expect("a runnable task");
                    let _ = s.put_prev_task(0, black_box(&r), false, now);
                    asleep = r;
                })
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = classes
}
criterion_main!(benches);
