//! The scheduler's /proc files: kernel/sched/debug.c's `/proc/sched_debug`
//! (per-CPU run queues, with a section for the lab's WRR queue listing each
//! task's weight and remaining slice) and `/proc/PID/sched`
//! (`proc_sched_show_task`), and the `/proc/sys/kernel/sched_*` knobs.
//!
//! Where ferrite differs: the layout follows Linux's (`.name : value`
//! lines, times in ms with 6 decimals), but only the fields ferrite's
//! scheduler keeps are listed; the knobs are read-only.

use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;

use crate::pid::TaskTable;
use crate::task::TaskRef;

use super::{task_info, RunQueue};

/// ns as Linux's `SPLIT_NS` prints them: ms with 6 decimals.
fn ms(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000, ns % 1_000_000)
}

fn policy_name(p: u32) -> &'static str {
    match p {
        super::SCHED_NORMAL => "SCHED_NORMAL",
        super::SCHED_FIFO => "SCHED_FIFO",
        super::SCHED_RR => "SCHED_RR",
        super::SCHED_BATCH => "SCHED_BATCH",
        super::SCHED_IDLE => "SCHED_IDLE",
        super::SCHED_WRR => "SCHED_WRR",
        _ => "?",
    }
}

/// `/proc/sched_debug`.
pub fn sched_debug(rq: &RunQueue, table: &TaskTable) -> String {
    let s = &rq.sched;
    let now = rq.now();
    let tun = &s.tunables;
    let mut o = String::new();
    let _ = writeln!(o, "Sched Debug Version: v0.11, ferrite");
    let _ = writeln!(o, "ktime                                   : {}", ms(now));
    let _ = writeln!(o, "\nsysctl_sched");
    let _ = writeln!(
        o,
        "  .sysctl_sched_rt_period                : {}",
        tun.rt_period_ns.load(Relaxed) / 1000
    );
    let _ = writeln!(
        o,
        "  .sysctl_sched_rt_runtime               : {}",
        tun.rt_runtime_ns.load(Relaxed) / 1000
    );
    let _ = writeln!(
        o,
        "  .sysctl_sched_wrr_balance_interval     : {}",
        ms(tun.wrr_balance_interval_ns.load(Relaxed))
    );
    let _ = writeln!(
        o,
        "  .wrr_balance_moves                     : {}",
        s.nr_balance_moves.load(Relaxed)
    );
    for cpu in 0..s.nr_cpus() {
        let d = s.dump_rq(cpu);
        let _ = writeln!(o, "\ncpu#{cpu}");
        let _ = writeln!(o, "  .nr_running                    : {}", d.nr_running);
        let _ = writeln!(
            o,
            "  .curr->pid                     : {}",
            d.curr.map_or(0, |t| t.pid)
        );
        let _ = writeln!(o, "  .clock                         : {}", ms(d.clock));
        let _ = writeln!(o, "\nrt_rq[{cpu}]:");
        let _ = writeln!(o, "  .rt_nr_running                 : {}", d.rt_nr_running);
        let _ = writeln!(
            o,
            "  .rt_throttled                  : {}",
            u8::from(d.rt_throttled)
        );
        let _ = writeln!(o, "  .rt_time                       : {}", ms(d.rt_time));
        let _ = writeln!(o, "\ncfs_rq[{cpu}]:");
        let _ = writeln!(o, "  .nr_running                    : {}", d.cfs_nr_running);
        let _ = writeln!(
            o,
            "  .min_vruntime                  : {}",
            ms(d.min_vruntime)
        );
        let _ = writeln!(o, "\nwrr_rq[{cpu}]:");
        let _ = writeln!(o, "  .wrr_nr_running                : {}", d.wrr_nr_running);
        let _ = writeln!(
            o,
            "  .wrr_total_weight              : {}",
            d.wrr_total_weight
        );
        let _ = writeln!(o, "\nrunnable WRR tasks:");
        let _ = writeln!(
            o,
            " S            task   PID   TGID  weight    slice-left(ms)"
        );
        let _ = writeln!(
            o,
            "-------------------------------------------------------------"
        );
        for t in &d.wrr_tasks {
            let comm = table.find(t.task.pid).map(|p| p.comm()).unwrap_or_default();
            let _ = writeln!(
                o,
                " {} {:>15} {:>5} {:>6} {:>7} {:>17}",
                if t.running { '>' } else { ' ' },
                comm,
                t.task.pid,
                t.task.tgid,
                t.weight,
                ms(t.time_slice)
            );
        }
    }
    o
}

/// `/proc/PID/sched`.
pub fn proc_pid_sched(p: &TaskRef) -> String {
    let i = task_info(p);
    let mut o = String::new();
    let threads = p.signal.live.load(Relaxed).max(0);
    let _ = writeln!(o, "{} ({}, #threads: {threads})", p.comm(), p.pid);
    let _ = writeln!(o, "{}", "-".repeat(67));
    let mut row = |name: &str, v: String| {
        let _ = writeln!(o, "{name:<45}: {v:>21}");
    };
    let nv = p.nvcsw.load(Relaxed);
    let ni = p.nivcsw.load(Relaxed);
    row("se.vruntime", ms(i.vruntime));
    row("se.sum_exec_runtime", ms(i.sum_exec_runtime));
    row("se.nr_migrations", i.nr_migrations.to_string());
    row("nr_switches", (nv + ni).to_string());
    row("nr_voluntary_switches", nv.to_string());
    row("nr_involuntary_switches", ni.to_string());
    row(
        "se.load.weight",
        (::sched::nice_to_weight(i.nice) as u64 * 1024).to_string(),
    );
    row("policy", i.policy.to_string());
    row("policy_name", policy_name(i.policy).to_string());
    row("prio", i.prio.to_string());
    row("rt_priority", i.rt_priority.to_string());
    row("wrr.weight", i.wrr_weight.to_string());
    row("wrr.time_slice", ms(i.wrr_time_slice));
    row("wrr.slice_len", ms(i.wrr_slice_len));
    row("cpu", i.cpu.to_string());
    o
}

/// `/proc/sys/kernel/NAME` of the scheduler's knobs.
pub fn sysctl(rq: &RunQueue, name: &str) -> Option<String> {
    let t = &rq.sched.tunables;
    Some(match name {
        "sched_rt_period_us" => format!("{}\n", t.rt_period_ns.load(Relaxed) / 1000),
        "sched_rt_runtime_us" => {
            let r = t.rt_runtime_ns.load(Relaxed);
            format!("{}\n", if r < 0 { -1 } else { r / 1000 })
        }
        "sched_rr_timeslice_ms" => format!("{}\n", ::sched::RR_TIMESLICE_NS / 1_000_000),
        "sched_wrr_balance_interval_ms" => {
            format!("{}\n", t.wrr_balance_interval_ns.load(Relaxed) / 1_000_000)
        }
        _ => return None,
    })
}

/// The knobs' names.
pub const SYSCTLS: [&str; 4] = [
    "sched_rr_timeslice_ms",
    "sched_rt_period_us",
    "sched_rt_runtime_us",
    "sched_wrr_balance_interval_ms",
];

/// What /proc/PID/stat's scheduling fields say: priority, nice,
/// rt_priority, policy.
pub fn stat_fields(p: &TaskRef) -> (i32, i32, u32, u32) {
    let i = task_info(p);
    (i.prio - 100, i.nice, i.rt_priority, i.policy)
}

/// `/proc/schedstat` (kernel/sched/stats.c, version 15): per CPU
/// `yld_count`, 0, `sched_count`, `sched_goidle`, `ttwu_count`,
/// `ttwu_local`, `rq_cpu_time`, `run_delay`, `pcount`. ferrite has no
/// scheduling domains, so no `domain` lines.
pub fn schedstat(rq: &RunQueue) -> String {
    let s = &rq.sched;
    // jiffies at HZ = 250.
    let mut o = format!("version 15\ntimestamp {}\n", rq.now() / 4_000_000);
    for cpu in 0..s.nr_cpus() {
        let st = s.dump_rq(cpu).stats;
        let _ = writeln!(
            o,
            "cpu{cpu} {} 0 {} {} {} {} {} {} {}",
            st.yld_count,
            st.sched_count,
            st.sched_goidle,
            st.ttwu_count,
            st.ttwu_local,
            st.rq_cpu_time,
            st.run_delay,
            st.pcount
        );
    }
    o
}

/// `/proc/PID/schedstat`: ns on the CPU, ns waiting for it, times run.
pub fn proc_pid_schedstat(p: &TaskRef) -> String {
    let i = task_info(p);
    format!("{} {} {}\n", i.sum_exec_runtime, i.run_delay, i.pcount)
}

/// A write of `v` to `/proc/sys/kernel/NAME` of the scheduler's knobs
/// (`sched_rt_handler`'s checks: the runtime is -1 or at most the period;
/// both and the WRR balance interval positive).
pub fn sysctl_write(rq: &RunQueue, name: &str, v: i32) -> Result<(), crate::errno::Errno> {
    use crate::errno::EINVAL;
    let t = &rq.sched.tunables;
    match name {
        "sched_rt_period_us" => {
            let runtime = t.rt_runtime_ns.load(Relaxed);
            if v <= 0 || (runtime >= 0 && (v as i64) * 1000 < runtime) {
                return Err(EINVAL);
            }
            t.rt_period_ns.store(v as u64 * 1000, Relaxed);
        }
        "sched_rt_runtime_us" => {
            let period = t.rt_period_ns.load(Relaxed) as i64;
            if v < -1 || (v as i64) * 1000 > period {
                return Err(EINVAL);
            }
            let ns = if v < 0 { -1 } else { v as i64 * 1000 };
            t.rt_runtime_ns.store(ns, Relaxed);
        }
        "sched_wrr_balance_interval_ms" => {
            if v <= 0 {
                return Err(EINVAL);
            }
            t.wrr_balance_interval_ns
                .store(v as u64 * 1_000_000, Relaxed);
        }
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// The knobs a write may change.
pub fn sysctl_writable(name: &str) -> bool {
    matches!(
        name,
        "sched_rt_period_us" | "sched_rt_runtime_us" | "sched_wrr_balance_interval_ms"
    )
}
