//! Random operation sequences keep every CPU's totals equal to a
//! recomputation from the tasks (the lab's "total weights stay exact").

mod common;

use std::sync::atomic::Ordering::Relaxed;

use common::*;
use proptest::prelude::*;
use sched::*;

#[derive(Clone, Debug)]
enum Op {
    Fork(usize, bool),
    Sleep(usize),
    Wake(usize),
    Exit(usize),
    Weight(usize, u32),
    Policy(usize, u32, u32),
    Mask(usize, u64),
    Yield(usize),
    Step(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<usize>(), any::<bool>()).prop_map(|(i, t)| Op::Fork(i, t)),
        any::<usize>().prop_map(Op::Sleep),
        any::<usize>().prop_map(Op::Wake),
        any::<usize>().prop_map(Op::Exit),
        (any::<usize>(), 0u32..23).prop_map(|(i, w)| Op::Weight(i, w)),
        (
            any::<usize>(),
            prop::sample::select(vec![0u32, 1, 2, 3, 5, 7, 7, 7]),
            0u32..25
        )
            .prop_map(|(i, p, q)| Op::Policy(i, p, q)),
        (any::<usize>(), 0u64..16).prop_map(|(i, m)| Op::Mask(i, m)),
        any::<usize>().prop_map(Op::Yield),
        (1u8..120).prop_map(Op::Step),
    ]
}

fn check(m: &Sim, dead: &[bool]) {
    assert!(m.s.check_totals().is_ok(), "check_totals reported a drift");
    let n = m.cur.len();
    let mut w = vec![0u64; n];
    let mut nr = vec![0u32; n];
    for (i, t) in m.tasks.iter().enumerate() {
        if dead[i] || t.asleep.load(Relaxed) {
            continue;
        }
        let inf = m.info(t);
        assert!(inf.on_rq);
        nr[inf.cpu] += 1;
        if inf.policy == SCHED_WRR {
            w[inf.cpu] += inf.wrr_weight as u64;
        }
    }
    for c in 0..n {
        assert_eq!(m.s.rq(c).wrr_weight(), w[c], "cpu {c} weight");
        assert_eq!(m.s.rq(c).nr_running(), nr[c], "cpu {c} nr_running");
        assert_eq!(m.s.dump_rq(c).wrr_total_weight, w[c]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn totals_stay_exact(ops in prop::collection::vec(op(), 1..120)) {
        let mut m = Sim::new(4);
        m.s.observer.on.store(false, Relaxed);
        m.s.tunables.wrr_balance_interval_ns.store(20 * MS, Relaxed);
        m.spawn(SCHED_WRR, 10, 0);
        let mut dead = vec![false];
        for o in ops {
            let len = m.tasks.len();
            let live = |i: usize| i % len;
            match o {
                Op::Fork(i, thread) => {
                    let p = m.tasks[live(i)].clone();
                    if !dead[live(i)] && !p.asleep.load(Relaxed) {
                        m.fork(&p, thread);
                        dead.push(false);
                    }
                }
                Op::Sleep(c) => {
                    m.schedule_idle();
                    if let Some(t) = m.cur[c % 4].clone() {
                        m.sleep(&t);
                    }
                }
                Op::Wake(i) => {
                    let t = m.tasks[live(i)].clone();
                    if !dead[live(i)] {
                        m.wake(&t);
                    }
                }
                Op::Exit(c) => {
                    m.schedule_idle();
                    if let Some(t) = m.cur[c % 4].clone() {
                        let i = m.tasks.iter().position(|x| x.pid == t.pid).unwrap();
                        m.sleep(&t);
                        dead[i] = true;
                    }
                }
                Op::Weight(i, w) => {
                    let t = m.tasks[live(i)].clone();
                    let r = m.s.set_wrr_weight(&t, w, m.now);
                    let ok = (1..=20).contains(&w) && m.info(&t).policy == SCHED_WRR;
                    prop_assert_eq!(r.is_ok(), ok);
                }
                Op::Policy(i, p, q) => {
                    let t = m.tasks[live(i)].clone();
                    let attr = SchedAttr { policy: p, priority: q, nice: None, reset_on_fork: false };
                    let r = m.s.setscheduler(&t, attr, m.now);
                    prop_assert_eq!(r.is_ok(), check_attr(&attr).is_ok());
                    if r.is_ok() {
                        prop_assert_eq!(m.info(&t).policy, p);
                    }
                }
                Op::Mask(i, mask) => {
                    let t = m.tasks[live(i)].clone();
                    t.mask.store(mask, Relaxed);
                    let _ = m.s.set_cpus_allowed(&t, m.now);
                }
                Op::Yield(c) => {
                    if let Some(t) = m.cur[c % 4].clone() {
                        m.s.yield_task(c % 4, &t, m.now);
                    }
                }
                Op::Step(n) => m.run_ms(n as u64),
            }
            check(&m, &dead);
        }
        // Every runnable task's CPU is allowed once it has left its CPU.
        m.run_ms(1);
        for (i, t) in m.tasks.iter().enumerate() {
            if dead[i] || t.asleep.load(Relaxed) || m.cpu_running(t).is_some() {
                continue;
            }
            let inf = m.info(t);
            prop_assert!(cpu_allowed(t.mask.load(Relaxed), inf.cpu) || t.mask.load(Relaxed) & 0xf == 0);
        }
    }
}
