//! The run queues under real concurrency: one host thread per CPU runs the
//! kernel's protocol (pick, tick, sleep, yield, put_prev, balance) while
//! another wakes, forks, kills and changes policies, weights and
//! affinities at random, with each task's own lock (Linux's `pi_lock`)
//! held across every call that names the task, as ferrite's kernel does.
//! At the end every CPU's totals must match the tasks. A deadlock fails
//! the watchdog. `soak_10_minutes` (ignored) is the long version.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use sched::*;

mod common;
use common::{PiState as St, SimTask as T};

struct World {
    s: Sched<T>,
    clock: AtomicU64,
    tasks: Mutex<Vec<Arc<T>>>,
    next_pid: AtomicU64,
    stop: AtomicBool,
    cpus: usize,
}

/// xorshift64*.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

impl World {
    fn now(&self) -> u64 {
        self.clock.fetch_add(50_000, Relaxed)
    }

    /// A new task, not yet visible to the others (as a child before
    /// copy_process links it in): TASK_RUNNING but on no queue.
    fn new_task(&self, tgid: Option<i32>, policy: u32, param: u32) -> Arc<T> {
        let pid = self.next_pid.fetch_add(1, Relaxed) as i32;
        Arc::new(T {
            pid,
            tgid: tgid.unwrap_or(pid),
            mask: AtomicU64::new(0),
            asleep: AtomicBool::new(false),
            pi: Mutex::new(St {
                running: true,
                ..St::default()
            }),
            ent: SchedEntities::new(policy, param),
        })
    }

    /// Link the new task in and queue it.
    fn wake_up_new(&self, t: &Arc<T>) {
        self.tasks.lock().unwrap().push(t.clone());
        let mut st = t.pi.lock().unwrap();
        st.on_rq = true;
        let _ = self.s.wake_up_new_task(t.clone(), self.now());
    }

    fn try_to_wake_up(&self, t: &Arc<T>) {
        let mut st = t.pi.lock().unwrap();
        if st.dead || st.running {
            return;
        }
        st.running = true;
        if !st.on_rq && !st.on_cpu {
            st.on_rq = true;
            let _ = self.s.activate_task(t.clone(), self.now());
        }
    }

    fn put_prev(&self, cpu: usize, t: &Arc<T>) {
        let mut st = t.pi.lock().unwrap();
        st.on_cpu = false;
        let runnable = st.running && !st.dead;
        st.on_rq = runnable;
        let _ = self.s.put_prev_task(cpu, t, runnable, self.now());
    }

    fn random_change(&self, t: &Arc<T>, r: &mut Rng) {
        let st = t.pi.lock().unwrap();
        match r.below(4) {
            0 => {
                let _ = self.s.set_wrr_weight(t, 1 + r.below(20) as u32, self.now());
            }
            1 => {
                let (policy, prio) = match r.below(6) {
                    0 => (SCHED_FIFO, 1 + r.below(99) as u32),
                    1 => (SCHED_RR, 1 + r.below(99) as u32),
                    2 => (SCHED_NORMAL, 0),
                    3 => (SCHED_BATCH, 0),
                    _ => (SCHED_WRR, r.below(21) as u32),
                };
                let a = SchedAttr {
                    policy,
                    priority: prio,
                    nice: None,
                    reset_on_fork: false,
                };
                let _ = self.s.setscheduler(t, a, self.now()).unwrap();
            }
            2 => {
                let m = r.below(1 << self.cpus);
                t.mask.store(m, Relaxed);
                let _ = self.s.set_cpus_allowed(t, self.now());
            }
            _ => self.s.set_nice(t, r.below(40) as i32 - 20, self.now()),
        }
        drop(st);
    }
}

fn cpu_loop(w: &World, cpu: usize, seed: u64) {
    let mut r = Rng(seed | 1);
    while !w.stop.load(Relaxed) {
        let Some(t) = w.s.pick_next_task(cpu, w.now()) else {
            let _ = w.s.balance_tick(w.now());
            thread::yield_now();
            continue;
        };
        {
            let mut st = t.pi.lock().unwrap();
            st.on_rq = false;
            st.on_cpu = true;
        }
        for _ in 0..1 + r.below(8) {
            if w.s.task_tick(cpu, w.now()) {
                w.s.test_and_clear_need_resched(cpu);
                break;
            }
            let _ = w.s.balance_tick(w.now());
        }
        match r.below(10) {
            0 | 1 => t.pi.lock().unwrap().running = false, // sleeps
            2 => w.s.yield_task(cpu, &t, w.now()),
            3 => {
                // The running task changes itself, or forks.
                if r.below(2) == 0 {
                    w.random_change(&t, &mut r);
                } else if w.tasks.lock().unwrap().len() < 400 {
                    let c = w.new_task(if r.below(2) == 0 { Some(t.tgid) } else { None }, 0, 0);
                    {
                        let _g = t.pi.lock().unwrap();
                        w.s.sched_fork(&t, &c);
                    }
                    w.wake_up_new(&c);
                }
            }
            4 => {
                let _ = w.s.sched_exec(cpu, &t);
            }
            5 if r.below(20) == 0 => t.pi.lock().unwrap().dead = true, // exits
            _ => {}
        }
        w.put_prev(cpu, &t);
    }
}

fn run(cpus: usize, secs: f64, seed: u64) {
    let w = Arc::new(World {
        s: Sched::new(cpus, NoObserver),
        clock: AtomicU64::new(1),
        tasks: Mutex::new(Vec::new()),
        next_pid: AtomicU64::new(1),
        stop: AtomicBool::new(false),
        cpus,
    });
    w.s.tunables
        .wrr_balance_interval_ns
        .store(2_000_000, Relaxed);
    for i in 0..24 {
        let t = w.new_task(None, SCHED_WRR, 1 + i % 20);
        w.wake_up_new(&t);
    }
    let done = Arc::new(AtomicBool::new(false));
    let mut hs = Vec::new();
    for cpu in 0..cpus {
        let w = w.clone();
        hs.push(thread::spawn(move || {
            cpu_loop(&w, cpu, seed.wrapping_mul(cpu as u64 + 7))
        }));
    }
    let ww = w.clone();
    let waker = thread::spawn(move || {
        let mut r = Rng(seed ^ 0x9e37_79b9);
        let end = Instant::now() + Duration::from_secs_f64(secs);
        let mut checks = 0u64;
        while Instant::now() < end {
            let t = {
                let ts = ww.tasks.lock().unwrap();
                ts[r.below(ts.len() as u64) as usize].clone()
            };
            match r.below(4) {
                0 | 1 => ww.try_to_wake_up(&t),
                2 => ww.random_change(&t, &mut r),
                _ => {
                    if r.below(50) == 0 {
                        assert!(ww.s.check_totals().is_ok(), "totals drifted");
                        checks += 1;
                    }
                }
            }
        }
        ww.stop.store(true, SeqCst);
        checks
    });
    // Watchdog: a deadlock never lets the threads finish.
    let start = Instant::now();
    let limit = Duration::from_secs_f64(secs + 30.0);
    let wd = done.clone();
    let watchdog = thread::spawn(move || {
        while !wd.load(SeqCst) {
            assert!(start.elapsed() < limit, "deadlock: the CPUs did not stop");
            thread::sleep(Duration::from_millis(50));
        }
    });
    let checks = waker.join().unwrap();
    for h in hs {
        h.join().unwrap();
    }
    done.store(true, SeqCst);
    watchdog.join().unwrap();
    assert!(checks > 0);
    assert!(w.s.check_totals().is_ok());
    // Every live runnable task is queued exactly once; nothing else is.
    let ts = w.tasks.lock().unwrap().clone();
    let mut nr = vec![0u32; cpus];
    let mut weight = vec![0u64; cpus];
    for t in &ts {
        let st = t.pi.lock().unwrap();
        let i = w.s.task_info(t);
        assert!(!st.on_cpu);
        assert_eq!(i.on_rq, st.running && !st.dead, "pid {}", t.pid);
        assert_eq!(st.on_rq, i.on_rq);
        if i.on_rq {
            nr[i.cpu] += 1;
            if i.policy == SCHED_WRR {
                weight[i.cpu] += i.wrr_weight as u64;
            }
            assert!(
                cpu_allowed(t.mask.load(Relaxed), i.cpu)
                    || t.mask.load(Relaxed) >> cpus == 0
                        && t.mask.load(Relaxed) & ((1 << cpus) - 1) == 0
            );
        }
    }
    for c in 0..cpus {
        assert_eq!(w.s.rq(c).nr_running(), nr[c], "cpu {c}");
        assert_eq!(w.s.rq(c).wrr_weight(), weight[c], "cpu {c}");
    }
}

#[test]
fn four_cpus_three_seconds() {
    run(4, 3.0, 0x1234_5678);
}

#[test]
fn two_cpus_two_seconds() {
    run(2, 2.0, 42);
}

/// The soak: mixed rt/wrr/normal, sleeps and wake-ups, weight
/// changes, forks, exits and balancing for 10 minutes.
#[test]
#[ignore]
fn soak_10_minutes() {
    run(4, 600.0, 7);
}
