//! Interpreter throughput: a CPU-bound RV64 loop on one hart over a
//! hand-built Sv48 page table, reported as guest instructions per second.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rv64::Exit;
use std::time::Duration;

#[path = "../tests/common/mod.rs"]
mod common;
use common::asm::*;
use common::*;

/// An endless loop of 8 instructions: ALU work plus a load and a store.
fn mixed_loop() -> Vec<u32> {
    let mut p = li(S0, DATA);
    p.extend([
        addi(A0, ZERO, 0),
        // loop:
        add(A2, A2, A0),
        xori(A3, A2, 0x55),
        slli(A4, A3, 3),
        ld(A5, S0, 0),
        add(A5, A5, A4),
        sd(A5, S0, 8),
        addi(A0, A0, 1),
        jal(ZERO, -28),
    ]);
    p
}

/// A pure ALU loop with a conditional branch (8 instructions).
fn alu_loop() -> Vec<u32> {
    vec![
        addi(A1, ZERO, 1000),
        // outer:
        addi(A0, ZERO, 0),
        // inner:
        add(A2, A2, A0),
        op(4, 0, A3, A3, A2),
        srli(A4, A3, 7),
        sub(A5, A4, A2),
        mul(A3, A5, A0),
        addi(A0, A0, 1),
        bne(A0, A1, -24),
        jal(ZERO, -32),
    ]
}

/// This thread's CPU time: on a loaded host the wall clock also counts time
/// the thread spent waiting for a CPU, so both figures are reported.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn bench(c: &mut Criterion) {
    const N: u64 = 10_000_000;
    let mut g = c.benchmark_group("interp");
    g.throughput(Throughput::Elements(N));
    g.sample_size(20);
    for (name, prog) in [("mixed_loop", mixed_loop()), ("alu_loop", alu_loop())] {
        let mut env = Env::new(1);
        env.load(&prog);
        let mut h = env.hart(0);
        h.set_pc(CODE);
        g.bench_function(format!("{name}/wall"), |b| {
            b.iter(|| {
                let e = h.run(N);
                assert_eq!(e, Exit::Budget);
            })
        });
        g.bench_function(format!("{name}/cpu_time"), |b| {
            b.iter_custom(|iters| {
                let t0 = thread_cpu_time();
                for _ in 0..iters {
                    assert_eq!(h.run(N), Exit::Budget);
                }
                thread_cpu_time() - t0
            })
        });
    }
    // a real compiled program (tests/fixtures/prog.elf), start to exit
    let elf = include_bytes!("../tests/fixtures/prog.elf");
    let count = {
        let mut env = Env::new(1);
        let mut h = common::elf::load(&mut env, elf);
        common::elf::run_to_exit(&mut env, &mut h);
        h.instret()
    };
    g.throughput(Throughput::Elements(count));
    g.bench_function("prog_elf/cpu_time", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut env = Env::new(1);
                let mut h = common::elf::load(&mut env, elf);
                let t0 = thread_cpu_time();
                common::elf::run_to_exit(&mut env, &mut h);
                total += thread_cpu_time() - t0;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
