//! The lab's checks of SCHED_WRR that are pure policy, on the simulated
//! machine.

mod common;

use common::*;
use sched::*;

#[test]
fn pinned_shares_follow_weights() {
    let mut m = Sim::new(2);
    let ws = [1u32, 5, 10, 20];
    let ts: Vec<_> = ws.iter().map(|&w| m.spawn(SCHED_WRR, w, 1)).collect();
    // 100 rounds of 360 ms.
    m.run_ms(36_000);
    let total: u64 = ts.iter().map(|t| m.info(t).sum_exec_runtime).sum();
    let sw: u32 = ws.iter().sum();
    for (t, &w) in ts.iter().zip(&ws) {
        let share = m.info(t).sum_exec_runtime as f64 / total as f64;
        let want = w as f64 / sw as f64;
        assert!(
            (share - want).abs() <= 0.02 * want,
            "w={w}: {share} vs {want}"
        );
        assert_eq!(m.info(t).cpu, 0);
    }
}

#[test]
fn bursts_are_weight_times_10ms() {
    let mut m = Sim::new(1);
    let ws = [1u32, 5, 10, 20];
    let ts: Vec<_> = ws.iter().map(|&w| m.spawn(SCHED_WRR, w, 0)).collect();
    m.run_ms(2_000);
    let b = bursts(&m.events(), 0);
    assert!(b.len() > 10);
    for (pid, len) in b {
        let i = ts.iter().position(|t| t.pid == pid).unwrap();
        assert_eq!(len, ws[i] as u64 * 10 * MS, "pid {pid}");
    }
}

#[test]
fn alone_task_is_refilled_without_switching() {
    let mut m = Sim::new(1);
    let t = m.spawn(SCHED_WRR, 3, 0);
    m.run_ms(200);
    let ev = m.events();
    let switches = ev.iter().filter(|e| matches!(e, Ev::Switch { .. })).count();
    let refills = ev
        .iter()
        .filter(
            |e| matches!(e, Ev::Refill { pid, slice, .. } if *pid == t.pid && *slice == 30 * MS),
        )
        .count();
    assert_eq!(switches, 1);
    assert_eq!(refills, 6);
}

#[test]
fn raised_weight_keeps_current_burst() {
    let mut m = Sim::new(1);
    let a = m.spawn(SCHED_WRR, 10, 0);
    let b = m.spawn(SCHED_WRR, 10, 0);
    m.run_ms(30);
    assert_eq!(m.running_on(0), Some(a.pid));
    m.s.set_wrr_weight(&a, 20, m.now).unwrap();
    assert_eq!(m.s.rq(0).wrr_weight(), 30, "the total follows at once");
    m.run_ms(600);
    let bs = bursts(&m.events(), 0);
    assert_eq!(
        bs[0],
        (a.pid, 100 * MS),
        "the running burst keeps its length"
    );
    assert_eq!(bs[1], (b.pid, 100 * MS));
    assert_eq!(
        bs[2],
        (a.pid, 200 * MS),
        "the next burst uses the new weight"
    );
    // Lowered mid-slice likewise.
    let _ = b;
}

#[test]
fn fork_inherits_weight_with_fresh_slice() {
    let mut m = Sim::new(1);
    let p = m.spawn(SCHED_WRR, 7, 0);
    m.run_ms(25);
    assert_eq!(m.info(&p).wrr_time_slice, 45 * MS);
    let c = m.fork(&p, false);
    let i = m.info(&c);
    assert_eq!(i.policy, SCHED_WRR);
    assert_eq!(i.wrr_weight, 7);
    assert_eq!(i.wrr_time_slice, 70 * MS);
    assert_eq!(m.s.rq(0).wrr_weight(), 14);
}

#[test]
fn entering_wrr_resets_weight() {
    let mut m = Sim::new(1);
    let t = m.spawn(SCHED_WRR, 5, 0);
    let attr = |policy, priority| SchedAttr {
        policy,
        priority,
        nice: None,
        reset_on_fork: false,
    };
    let _ = m.s.setscheduler(&t, attr(SCHED_NORMAL, 0), 0).unwrap();
    assert_eq!(m.s.rq(0).wrr_weight(), 0);
    let _ = m.s.setscheduler(&t, attr(SCHED_WRR, 0), 0).unwrap();
    assert_eq!(m.info(&t).wrr_weight, 10);
    assert_eq!(m.info(&t).wrr_time_slice, 100 * MS);
    assert_eq!(m.s.rq(0).wrr_weight(), 10);
    let _ = m.s.setscheduler(&t, attr(SCHED_WRR, 20), 0).unwrap();
    assert_eq!(m.info(&t).wrr_weight, 20);
    assert_eq!(m.info(&t).rr_interval_ns, 200 * MS);
    assert_eq!(
        m.s.setscheduler(&t, attr(SCHED_WRR, 21), 0),
        Err(SchedError::Invalid)
    );
    assert_eq!(m.s.set_wrr_weight(&t, 0, 0), Err(SchedError::Invalid));
    let _ = m.s.setscheduler(&t, attr(SCHED_FIFO, 10), 0).unwrap();
    assert_eq!(m.s.set_wrr_weight(&t, 5, 0), Err(SchedError::Invalid));
    assert!(m.s.check_totals().is_ok());
}

#[test]
fn sequential_forks_spread_by_weight() {
    let mut m = Sim::new(4);
    let p = m.spawn(SCHED_WRR, 10, 0);
    m.run_ms(1);
    let cs: Vec<_> = (0..7).map(|_| m.fork(&p, false)).collect();
    let cpus: Vec<usize> = cs.iter().map(|c| m.info(c).cpu).collect();
    assert_eq!(cpus, vec![1, 2, 3, 0, 1, 2, 3]);
    assert_eq!(m.weights(), vec![20, 20, 20, 20]);
}

#[test]
fn placement_ties_go_to_the_thread_group() {
    let mut m = Sim::new(3);
    // CPU 0: a task of group A; CPU 1: one of group B; CPU 2: one of C.
    let a = m.spawn(SCHED_WRR, 10, 1);
    let b = m.spawn(SCHED_WRR, 10, 2);
    let c = m.spawn(SCHED_WRR, 10, 4);
    for t in [&a, &b, &c] {
        t.mask.store(0, std::sync::atomic::Ordering::Relaxed);
    }
    // A thread of B goes beside B (equal weights everywhere).
    let tb = m.fork(&b, true);
    assert_eq!(m.info(&tb).cpu, 1);
    // A new process ties everywhere but CPU 1: lowest id among ties.
    let x = m.fork(&c, false);
    assert_eq!(m.info(&x).cpu, 0);
    // A thread of C: CPU 2 is lightest (10) alone.
    let tc = m.fork(&c, true);
    assert_eq!(m.info(&tc).cpu, 2);
    // Now all at 20: a thread of A prefers CPU 0 (A is there), over 1 and 2.
    let ta = m.fork(&a, true);
    assert_eq!(m.info(&ta).cpu, 0);
}

#[test]
fn placement_honours_affinity() {
    let mut m = Sim::new(4);
    let p = m.spawn(SCHED_WRR, 10, 0b1100);
    let c = m.fork(&p, false);
    assert_eq!(m.info(&p).cpu, 2);
    assert_eq!(m.info(&c).cpu, 3);
}

fn release_all(m: &mut Sim, keep_pinned: &[i32]) {
    for t in m.tasks.clone() {
        if !keep_pinned.contains(&t.pid) {
            t.mask.store(0, std::sync::atomic::Ordering::Relaxed);
            let _ = m.s.set_cpus_allowed(&t, m.now);
        }
    }
}

#[test]
fn periodic_balance_converges_one_move_per_period() {
    let mut m = Sim::new(4);
    m.s.tunables
        .idle_balance
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let ws = [20u32, 10, 10, 5, 5, 5, 1, 1, 20, 10, 3, 7];
    let ts: Vec<_> = ws.iter().map(|&w| m.spawn(SCHED_WRR, w, 1)).collect();
    let pinned = [ts[1].pid, ts[4].pid];
    m.run_ms(10);
    release_all(&mut m, &pinned);
    m.clear_events();
    let mut last_period_moves: Vec<u64> = Vec::new();
    for _ in 0..20_000 {
        m.step();
        for e in m.events() {
            if let Ev::Migrate {
                now,
                pid,
                from,
                to,
                why,
            } = e
            {
                assert_eq!(why, MigrateReason::Balance);
                assert!(!pinned.contains(&pid), "pinned task moved");
                assert_ne!(
                    m.running_before_balance[from],
                    Some(pid),
                    "running task moved"
                );
                last_period_moves.push(now);
                // No reversal: the source is still at least as heavy.
                let w = m.weights();
                assert!(w[from] >= w[to], "reversed: {w:?}");
            }
        }
        m.clear_events();
    }
    for pair in last_period_moves.windows(2) {
        assert!(pair[1] - pair[0] >= 500 * MS, "two moves in one period");
    }
    let w = m.weights();
    let (mx, mn) = (*w.iter().max().unwrap(), *w.iter().min().unwrap());
    assert!(mx - mn <= 20, "not converged: {w:?}");
    assert!(!last_period_moves.is_empty());
    // Converged: no move in the last few periods.
    assert!(last_period_moves.last().unwrap() + 2_000 * MS < m.now);
    assert!(m.s.check_totals().is_ok());
}

#[test]
fn idle_cpu_pulls_at_once() {
    let mut m = Sim::new(2);
    let ts: Vec<_> = (0..3).map(|_| m.spawn(SCHED_WRR, 10, 1)).collect();
    m.run_ms(5);
    assert_eq!(m.weights(), vec![30, 0]);
    for t in &ts {
        t.mask.store(0, std::sync::atomic::Ordering::Relaxed);
    }
    m.clear_events();
    m.step();
    let ev = m.events();
    assert!(ev.iter().any(|e| matches!(
        e,
        Ev::Migrate {
            from: 0,
            to: 1,
            why: MigrateReason::IdleBalance,
            ..
        }
    )));
    assert_eq!(m.weights(), vec![20, 10]);
    assert!(m.running_on(1).is_some());
}

#[test]
fn sleep_keeps_slice_and_goes_to_tail() {
    let mut m = Sim::new(1);
    let a = m.spawn(SCHED_WRR, 10, 0);
    let b = m.spawn(SCHED_WRR, 10, 0);
    let c = m.spawn(SCHED_WRR, 10, 0);
    m.run_ms(40);
    m.sleep(&a);
    assert_eq!(m.info(&a).wrr_time_slice, 60 * MS);
    assert_eq!(m.s.rq(0).wrr_weight(), 20);
    m.wake(&a);
    assert_eq!(m.s.rq(0).wrr_weight(), 30);
    let order: Vec<i32> =
        m.s.dump_rq(0)
            .wrr_tasks
            .iter()
            .map(|t| t.task.pid)
            .collect();
    assert_eq!(order, vec![b.pid, c.pid, a.pid]);
    assert_eq!(m.info(&a).wrr_time_slice, 60 * MS);
}

#[test]
fn rt_starves_wrr_but_for_throttling() {
    let mut m = Sim::new(1);
    let w = m.spawn(SCHED_WRR, 10, 0);
    let r = m.spawn(SCHED_FIFO, 50, 0);
    m.run_ms(10_000);
    let (wi, ri) = (m.info(&w), m.info(&r));
    let share = wi.sum_exec_runtime as f64 / (wi.sum_exec_runtime + ri.sum_exec_runtime) as f64;
    assert!((share - 0.05).abs() < 0.005, "WRR share under RT: {share}");
}

#[test]
fn wrr_starves_normal() {
    let mut m = Sim::new(1);
    let n = m.spawn(SCHED_NORMAL, 0, 0);
    let w = m.spawn(SCHED_WRR, 1, 0);
    m.run_ms(2_000);
    assert!(m.info(&w).sum_exec_runtime >= 1_999 * MS);
    assert!(m.info(&n).sum_exec_runtime <= MS);
}

#[test]
fn rr_slices_and_fifo_priority() {
    let mut m = Sim::new(1);
    let a = m.spawn(SCHED_RR, 10, 0);
    let b = m.spawn(SCHED_RR, 10, 0);
    let lo = m.spawn(SCHED_FIFO, 5, 0);
    m.s.tunables
        .rt_runtime_ns
        .store(-1, std::sync::atomic::Ordering::Relaxed);
    m.run_ms(1_000);
    let bs = bursts(&m.events(), 0);
    for &(p, len) in &bs {
        assert!(p == a.pid || p == b.pid);
        assert_eq!(len, 100 * MS);
    }
    assert_eq!(m.info(&lo).sum_exec_runtime, 0);
}

#[test]
fn fair_shares_follow_nice() {
    let mut m = Sim::new(1);
    let a = m.spawn(SCHED_NORMAL, 0, 0);
    let b = m.spawn(SCHED_NORMAL, 0, 0);
    m.s.set_nice(&b, 5, 0);
    m.run_ms(10_000);
    let (ea, eb) = (
        m.info(&a).sum_exec_runtime as f64,
        m.info(&b).sum_exec_runtime as f64,
    );
    let want = 1024.0 / (1024.0 + 335.0);
    let got = ea / (ea + eb);
    assert!((got - want).abs() < 0.02, "{got} vs {want}");
}

#[test]
fn ten_thousand_tasks() {
    let mut m = Sim::new(4);
    m.s.observer
        .on
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let p = m.spawn(SCHED_WRR, 10, 0);
    for i in 0..9_999 {
        let c = m.fork(&p, false);
        let _ = m.s.set_wrr_weight(&c, 1 + (i % 20), 0);
    }
    m.run_ms(1_000);
    let w = m.weights();
    let (mx, mn) = (*w.iter().max().unwrap(), *w.iter().min().unwrap());
    assert!(mx - mn <= 20, "{w:?}");
    let n: u32 = (0..4).map(|c| m.s.rq(c).nr_running()).sum();
    assert_eq!(n, 10_000);
    assert!(m.s.check_totals().is_ok());
}

#[test]
fn affinity_moves_queued_and_running_tasks() {
    let mut m = Sim::new(2);
    let a = m.spawn(SCHED_WRR, 10, 1);
    let b = m.spawn(SCHED_WRR, 10, 1);
    m.run_ms(1);
    assert_eq!(m.running_on(0), Some(a.pid));
    // The queued one moves at once.
    b.mask.store(2, std::sync::atomic::Ordering::Relaxed);
    let _ = m.s.set_cpus_allowed(&b, m.now);
    assert_eq!(m.info(&b).cpu, 1);
    // The running one moves when it leaves its CPU.
    a.mask.store(2, std::sync::atomic::Ordering::Relaxed);
    let k = m.s.set_cpus_allowed(&a, m.now);
    assert_eq!(k.0, 1);
    m.step();
    assert_eq!(m.info(&a).cpu, 1);
    assert_eq!(m.weights(), vec![0, 20]);
    assert!(m.s.check_totals().is_ok());
}
