//! The OOM killer: mm/oom_kill.c's `out_of_memory`, `select_bad_process`
//! (the badness of a process is its resident and page-table memory) and
//! `oom_kill_process`, entered from a page fault that found no memory
//! (`pagefault_out_of_memory`).
//!
//! The process with the most resident pages dies with SIGKILL; init is
//! never chosen. While a victim is still dying, no other one is chosen
//! (Linux's `oom_evaluate_task` aborts on a task with
//! `tsk_is_oom_victim`): the faulting task waits a little and retries its
//! fault.
//!
//! Where ferrite differs: no `oom_score_adj` (every process counts
//! alike), no oom_reaper (the victim frees its memory when it runs its
//! exit), and the report is the one "Killed process" line.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use mm::mmap::RssCounter;
use mm::percpu::Cpu;

use crate::kernel::Kernel;
use crate::sigcore::{self, SigQueued, Target};
use crate::task::{TaskRef, EXIT_ALIVE};

/// What the faulting task does next.
pub enum OomAction {
    /// A victim was killed or is dying: wait a little, then retry.
    Retry,
    /// Nobody else can be killed: the faulting task itself dies.
    KillCurrent,
}

/// Resident anon, file and shmem pages, and with `cpu` the total size.
fn rss(t: &TaskRef, cpu: Option<&Cpu<'static>>) -> (usize, usize, usize, usize) {
    // try_lock: a task may hold its own locks while it waits for memory
    // (the allocator drains this CPU meanwhile only if this one polls);
    // such a task is skipped rather than waited for.
    let grab = t.mm.try_lock().and_then(|m| m.as_ref().map(|m| m.grab()));
    match grab {
        Some(m) => (
            m.get_mm_counter(RssCounter::AnonPages),
            m.get_mm_counter(RssCounter::FilePages),
            m.get_mm_counter(RssCounter::ShmemPages),
            cpu.map_or(0, |c| m.mmap_read_lock(c).total_vm),
        ),
        None => (0, 0, 0, 0),
    }
}

/// `out_of_memory` for a fault of `current`.
pub fn out_of_memory(k: &Kernel, cpu: &Cpu<'static>, current: &TaskRef) -> OomAction {
    // A victim still dying: wait for it.
    let prev = k.oom_victim.load(SeqCst);
    if prev != 0 {
        if let Some(v) = k.tasks.find_process(prev) {
            if v.signal.live.load(SeqCst) > 0 {
                return if prev == current.tgid {
                    OomAction::KillCurrent
                } else {
                    OomAction::Retry
                };
            }
        }
    }
    let mut best: Option<(usize, TaskRef)> = None;
    for p in k.tasks.processes() {
        if p.tgid == 1 || p.exit_state.load(Relaxed) != EXIT_ALIVE {
            continue;
        }
        let (anon, file, shmem, _) = rss(&p, None);
        let points = anon + file + shmem;
        if best.as_ref().is_none_or(|(b, _)| points > *b) {
            best = Some((points, p));
        }
    }
    // Nobody else: the faulting process itself (even init: Linux would
    // panic, "Out of memory and no killable processes"; ferrite ends the
    // process, and with init the run).
    let victim = match best {
        Some((_, v)) => v,
        None => k
            .tasks
            .find_process(current.tgid)
            .unwrap_or_else(|| current.clone()),
    };
    let (anon, file, shmem, total_vm) = rss(&victim, Some(cpu));
    let kb = mm::page::PAGE_SIZE / 1024;
    k.console(&format!(
        "Out of memory: Killed process {} ({}) total-vm:{}kB, anon-rss:{}kB, file-rss:{}kB, shmem-rss:{}kB, UID:{} pgtables:0kB oom_score_adj:0\n",
        victim.tgid,
        victim.comm(),
        total_vm * kb,
        anon * kb,
        file * kb,
        shmem * kb,
        victim.cred.try_lock().map_or(0, |c| c.uid)
    ));
    k.oom_victim.store(victim.tgid, SeqCst);
    sigcore::send_sig_info(&victim, SigQueued::kernel(sigcore::SIGKILL), Target::Group);
    if victim.tgid == current.tgid {
        OomAction::KillCurrent
    } else {
        OomAction::Retry
    }
}
