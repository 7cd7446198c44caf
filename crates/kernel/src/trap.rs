//! Traps from user mode: Linux's arch/riscv/kernel/entry.S `handle_exception`
//! and `ret_from_exception`, traps.c (`do_trap_ecall_u`,
//! `do_trap_insn_illegal`, `do_trap_break`, the misaligned handlers),
//! arch/riscv/mm/fault.c (`do_page_fault`), signal.c's `do_signal` on the
//! way back to user mode, and the TLB maintenance of
//! arch/riscv/mm/tlbflush.c that follows a page-table change.
//!
//! [`hart_main`] is one hart's host thread, its idle loop: it takes the
//! next runnable task from the run queue, switches to it (`__switch_to`,
//! `switch_mm`) and runs it until it leaves the hart: its slice ran out
//! and another task waits, it sleeps (a system call returned
//! [`Flow::Block`]), it stopped, or it died. The kernel handles each trap
//! on the same thread and resumes the task.
//!
//! Faults and illegal instructions raise signals (`force_sig_fault`); a
//! handler runs them, otherwise their default action ends the process with
//! Linux's report: `show_signal_msg`'s "segfault at ..." for SIGSEGV and
//! SIGBUS, riscv's `do_trap` "unhandled signal ..." for the others.
//!
//! After a kernel panic on any hart ([`crate::panic`]), every hart stops at
//! its next trap or time-slice end, leaving its task as it is.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use mm::fault::{handle_mm_fault, Access as FaultAccess, FaultError};
use mm::percpu::Cpu;
use mm::pgtable::FlushRange;
use mm::vmstat::VmEventItem;
use rv64::{Access, Exit, Hart};

use crate::errno;
use crate::kernel::Kernel;
use crate::mm_ref::MmGrab;
use crate::sched::{self, wait, TASK_STOPPED};
use crate::sigcore::{self, Deliver, SigQueued, Target};
use crate::strace;
use crate::syscall::{self, Flow, Sys};
use crate::task::{lock, TaskRef};
use crate::time::clocksource::HartClock;
use crate::time::Stopwatch;

pub use crate::sigcore::{SIGBUS, SIGILL, SIGSEGV, SIGTRAP};

/// The register holding the syscall number (a7) and the first argument (a0).
const A7: usize = 17;
const A0: usize = 10;
const SP: usize = 2;

/// `si_code`s of the faults.
const SEGV_MAPERR: i32 = 1;
const SEGV_ACCERR: i32 = 2;
const BUS_ADRALN: i32 = 1;
const BUS_ADRERR: i32 = 2;
const ILL_ILLOPC: i32 = 1;
const TRAP_BRKPT: i32 = 1;

/// One hart's thread: the idle loop. The hart holds its CPU (mm's `Cpu`
/// claim) only while it runs a task: an idle hart has released it, so
/// another CPU that must drain this one's per-CPU lists (memory pressure)
/// does it itself instead of waiting for a hart parked on the run queue,
/// as Linux's idle loop answers IPIs.
pub fn hart_main(k: &Kernel, id: usize) {
    let mut hart = Hart::new(id, k.machine.clone());
    sched::set_this_hart(id);
    let _det = crate::time::det::hart_enter(k, id);
    let stop = || k.panic.panicked();
    let poll = || k.poll_tty_signals();
    // The clock as this hart last read it (Linux's `rq->clock`): the end
    // of a task's run is the switch's time for `put_prev_task`, the next
    // pick and the next task's start, with no read of their own.
    let mut now = k.rq.now();
    // The CPU, claimed from the first task to the next wait for work: a
    // hart going from one task to the next keeps it.
    let mut cpu: Option<Cpu<'static>> = None;
    // System calls made here, for `--stats` (added up at the end, as
    // `instructions`: one shared counter bumped per call would move its
    // cache line between harts each time).
    let mut calls = 0u64;
    // The hart's clock between readings of the run queue's (the trap edges
    // inside a run).
    let mut clock = HartClock::default();
    loop {
        let picked = {
            let mut idle = || cpu = None;
            k.rq.pick_next_task(id, &stop, &poll, &mut idle, now)
        };
        let Some((task, at)) = picked else {
            break;
        };
        now = at;
        sched::note_hart_clock(now);
        if cpu.is_none() {
            match k.mem.cpu(id) {
                Ok(c) => cpu = Some(c),
                Err(e) => {
                    k.console(&format!("ferrite: hart {id}: cannot claim CPU: {e}\n"));
                    sched::put_prev_task(&task, id, now);
                    return;
                }
            }
        }
        let Some(c) = cpu.as_ref() else {
            break;
        };
        // A drain another CPU asked of this one (memory pressure) is
        // served at every switch, as it was when the CPU was let go.
        c.poll();
        task.cpu.store(id as i32, Relaxed);
        if let Some(t) = &k.config.trace {
            crate::trace::hooks::switch_in(t, &k.rq, id, &task);
        }
        let leave = run_task(k, c, &mut hart, &task, &mut now, &mut calls, &mut clock);
        if let Some(t) = &k.config.trace {
            crate::trace::hooks::switch_out(t, &k.rq, id, &task);
        }
        crate::panic::set_current(0, b"");
        if leave == Leave::Halt {
            break;
        }
        sched::put_prev_task(&task, id, now);
    }
    drop(cpu);
    k.syscalls.fetch_add(calls, Relaxed);
    k.instructions.fetch_add(hart.instret(), Relaxed);
}

/// Why a task left the hart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Leave {
    /// Still runnable, or asleep, or stopped: `put_prev_task` decides.
    Switch,
    /// It is dead.
    Dead,
    /// The kernel panicked or shut down: stop.
    Halt,
}

/// How a run of a task ended ([`run_user`]): it left the hart, or it must
/// die, which [`run_task`] carries out once the run's references to its mm
/// and files are dropped (`exit_files` closes the last reference).
enum End {
    Leave(Leave),
    /// `do_exit(status)` of this thread.
    Exit(i32),
    /// `do_group_exit(status)`.
    ExitGroup(i32),
}

/// `switch_mm`: load `mm` into the hart: its page table and its ASID
/// ([`crate::asid`]) into satp. The TLB keeps other mms' entries under
/// their ASIDs, so nothing is flushed unless the allocator says so (the
/// first load after an ASID rollover, or ASIDs disabled).
fn switch_mm(k: &Kernel, hart: &mut Hart, mm: &MmGrab) -> bool {
    let Some(satp) = mm.satp() else {
        return false;
    };
    // Into the mm's `mm_cpumask` before the hart can cache a translation
    // of it (the ordering is `mm_cpumask_set_cpu`'s).
    mm.mm_cpumask_set_cpu(hart.id());
    let s = k.asids.switch_mm(hart.id(), &mm.context_id);
    hart.set_satp(satp | (s.asid << 44));
    if s.flush_all {
        hart.flush_tlb(None);
    }
    let bit = 1 << (hart.id() % 64);
    // `flush_icache_deferred`: a `riscv_flush_icache` since this hart last
    // ran the mm.
    if mm.icache_stale_mask.load(Relaxed) & bit != 0
        && mm.icache_stale_mask.fetch_and(!bit, SeqCst) & bit != 0
    {
        hart.flush_icache();
    }
    true
}

/// `current` is `task` on this hart (for /proc's and the panic report's
/// comm): copies its name, allocating and checking nothing.
fn set_current_task(cpu: &Cpu<'static>, task: &TaskRef) {
    let c = task.comm.get();
    cpu.set_comm_bytes(&c);
    crate::panic::set_current(task.pid(), &c);
}

/// The system call the task is returning from, for `do_signal`'s restart
/// rules.
#[derive(Clone, Copy)]
struct InSyscall {
    /// The return value (maybe an -ERESTART* code).
    ret: i64,
    /// a0 as the call found it.
    orig_a0: u64,
}

/// `__switch_to` into `task`, run it until it leaves the hart. `now` is
/// the hart's clock: the switch's time on entry, the last reading on
/// return.
fn run_task(
    k: &Kernel,
    cpu: &Cpu<'static>,
    hart: &mut Hart,
    task: &TaskRef,
    now: &mut u64,
    calls: &mut u64,
    clock: &mut HartClock,
) -> Leave {
    wait::finish_wait(task);
    // The registers, and `current->mm` and `current->files` for the whole
    // run: a system call borrows them, taking no reference of its own.
    // Only the task itself replaces them (exec, exit), and it does so
    // here; they are kept in the task between its runs.
    let ctx = {
        let mut t = lock(&task.thread);
        t.regs.restore(hart);
        t.run_ctx.take()
    };
    set_current_task(cpu, task);
    let (mm, fs, fd_cache) = match ctx {
        Some(c) => (c.mm, c.fs, c.fd_cache),
        None => {
            let Some(mm) = task.mm_grab() else {
                return Leave::Dead;
            };
            let Some(fs) = task.fs() else {
                return die(k, cpu, task, sigcore::SIGKILL);
            };
            (mm, fs, Default::default())
        }
    };
    if !switch_mm(k, hart, &mm) {
        drop((mm, fs, fd_cache));
        return die(k, cpu, task, SIGSEGV);
    }
    let mut s = Sys {
        cpu,
        k,
        task,
        mm,
        fs,
        fd_cache,
    };
    let start = *now;
    let end = run_user(&mut s, hart, now, calls, clock);
    if *now == start {
        // It left without a system call's last lap (preempted, stopped,
        // dead): the switch's time is read now.
        *now = k.rq.now();
    }
    if let End::Leave(Leave::Switch) = end {
        // `switch_to`'s save, before `put_prev_task` lets another hart
        // take the task.
        let mut t = lock(&task.thread);
        t.regs.save(hart);
        t.run_ctx = Some(crate::task::RunCtx {
            mm: s.mm,
            fs: s.fs,
            fd_cache: s.fd_cache,
        });
    } else {
        drop(s);
    }
    match end {
        End::Leave(l) => l,
        End::Exit(status) => {
            crate::exit::do_exit(k, cpu, task, status);
            Leave::Dead
        }
        End::ExitGroup(status) => die_status(k, cpu, task, status),
    }
}

/// The trap loop of one run of `s.task`: user mode until a trap, the
/// trap's handling, `ret_to_user` (signals, preemption), again.
fn run_user(
    s: &mut Sys<'_>,
    hart: &mut Hart,
    now: &mut u64,
    calls: &mut u64,
    clock: &mut HartClock,
) -> End {
    let (k, cpu, task) = (s.k, s.cpu, s.task);
    // A task that slept in a system call re-executes it first (it finds
    // its signal itself and returns -ERESTART*): no delivery before that.
    // (Only the task's own hart reads and writes the flag; the run queue's
    // locks order a sleep on one hart before the run on another.)
    let mut resuming = task.restart_in_syscall.load(Relaxed);
    if resuming {
        task.restart_in_syscall.store(false, Relaxed);
    }
    let mut last: Option<InSyscall> = None;
    // Instructions left in the task's time slice, counted exactly across
    // traps (and, in deterministic mode, across the hart's turns): the
    // period of the scheduler tick in instructions.
    let mut slice = k.config.quantum;
    // The stopwatch started where the last system call ended, which times
    // the next run (one clock read per trap edge, not two); the first one
    // starts at the switch.
    let mut stamp: Option<Stopwatch> = Some(Stopwatch::user_at(k, hart, *now));
    let hart_id = hart.id();
    // Time this task has run on the hart (user and system, as the
    // stopwatch measured it) since the last tick: no clock read of its own.
    let mut since_tick: u64 = 0;
    // The hart's last reading, for wake-ups it makes; `now` takes only the
    // run queue's clock (the run's last lap): timers and the scheduler
    // never see an interpolated time.
    let seen = |w: &Stopwatch| {
        if let Some(t) = w.started() {
            sched::note_hart_clock(t);
        }
    };
    loop {
        if k.panic.panicked() || k.rq.is_shutdown() {
            return End::Leave(Leave::Halt);
        }
        // Deterministic mode: wait for this hart's turn, fire its timers;
        // run to the end of the turn, the next timer or the slice.
        let budget = if k.rq.det().is_some() {
            match crate::time::det::run_budget(k, cpu, hart) {
                Some(b) => b.min(slice),
                None => slice,
            }
        } else {
            slice
        };
        if k.panic.panicked() || k.rq.is_shutdown() {
            return End::Leave(Leave::Halt);
        }
        if !resuming && task.sigpending.load(SeqCst) {
            stamp = None;
            // `exit_to_user_mode_loop`: while a signal the mask (now the
            // last handler's) lets through is pending, it gets its frame
            // on top of the last, so the handler set up last runs first.
            // Only the first may restart the interrupted call.
            let mut l = last.take();
            loop {
                match do_signal(k, cpu, hart, task, &s.mm, l.take()) {
                    SigOutcome::Frame if task.sigpending.load(SeqCst) => {}
                    SigOutcome::Run | SigOutcome::Frame => break,
                    SigOutcome::Exit(code) => return End::ExitGroup(code),
                    SigOutcome::Stop => {
                        return End::Leave(Leave::Switch);
                    }
                }
            }
        } else if let Some(l) = last.take() {
            // No signal: an -ERESTART* code must still never reach user.
            restart_without_handler(hart, l);
        }
        // `preempt_schedule` on the way back to user mode: the tick, a
        // wake-up or a policy change asked this hart to reschedule.
        if k.rq.need_resched(hart_id) {
            crate::task::add_own(&task.nivcsw, 1);
            return End::Leave(Leave::Switch);
        }
        let t0 = stamp.take().unwrap_or_else(|| Stopwatch::user(k, hart));
        let (exit, t1) = if std::mem::take(&mut resuming) && k.rq.det().is_none() {
            // The woken task's pc is on the ecall of the call it slept in
            // (`Flow::Block`): carry on with that call (Linux's sleeper
            // returns into its wait loop) without a pass through user mode
            // that would only trap again.
            (Exit::Ecall, t0)
        } else {
            let at = hart.instret();
            let exit = hart.run(budget);
            slice = slice.saturating_sub(hart.instret() - at);
            let (ran, t1) = t0.lap_on(k, hart, false, clock);
            seen(&t1);
            account_cputime(k, task, hart_id, ran, true);
            if k.panic.panicked() || k.rq.is_shutdown() {
                return End::Leave(Leave::Halt);
            }
            // The scheduler tick (at every end of a slice, and at least
            // every TICK_NS of the hart's time).
            since_tick += ran;
            if matches!(exit, Exit::Budget) || since_tick >= sched::TICK_NS {
                since_tick = 0;
                k.rq.tick(hart_id);
            }
            (exit, t1)
        };
        match exit {
            Exit::Ecall => {
                let r = syscall_trap(s, hart, calls);
                // The run's last reading is the run queue's clock (the
                // switch's time); the others are the hart's.
                let (sys, t2) = if matches!(r, SysOutcome::Leave(_)) {
                    let l = t1.lap(k, hart, true);
                    if let Some(t) = l.1.started() {
                        clock.anchor(t);
                        *now = t;
                    }
                    l
                } else {
                    t1.lap_on(k, hart, true, clock)
                };
                seen(&t2);
                since_tick += sys;
                account_cputime(k, task, hart_id, sys, false);
                match r {
                    SysOutcome::Continue(l) => {
                        last = l;
                        stamp = Some(t2);
                    }
                    SysOutcome::Leave(l) => return l,
                }
            }
            Exit::PageFault { addr, access } => {
                k.page_faults.fetch_add(1, Relaxed);
                let a = match access {
                    Access::Load => FaultAccess::Read,
                    Access::Store => FaultAccess::Write,
                    Access::Fetch => FaultAccess::Exec,
                };
                match handle_mm_fault(cpu, &s.mm, addr as usize, a) {
                    Ok(()) => {
                        sync_tlb(k, hart, &s.mm);
                        // A fault on a PTE that was already fixed (another
                        // hart, or a stale TLB entry): flush this page, as
                        // Linux's spurious-fault path does
                        // (for this address space: its ASID's entry).
                        hart.flush_tlb_page(addr);
                    }
                    Err(FaultError::Oom) => {
                        // `pagefault_out_of_memory`: the OOM killer picks a
                        // victim; this task retries its fault a little
                        // later (or dies, if it is the victim).
                        match crate::oom_kill::out_of_memory(k, cpu, task) {
                            crate::oom_kill::OomAction::Retry => {
                                sched::set_current_state(task, sched::TASK_INTERRUPTIBLE);
                                k.rq.arm_wake(task, k.rq.now() + 1_000_000);
                                return End::Leave(Leave::Switch);
                            }
                            crate::oom_kill::OomAction::KillCurrent => sigcore::send_sig_info(
                                task,
                                SigQueued::kernel(sigcore::SIGKILL),
                                Target::Group,
                            ),
                        }
                    }
                    Err(e) => {
                        sync_tlb(k, hart, &s.mm);
                        let sig = e.signo();
                        let code = match (sig, e) {
                            (SIGBUS, _) => BUS_ADRERR,
                            (_, FaultError::MapErr) => SEGV_MAPERR,
                            _ => SEGV_ACCERR,
                        };
                        if unhandled(task, sig) {
                            report_fault(k, hart, task, &s.mm, addr, access, e);
                        }
                        force_sig_fault(task, sig, code, addr);
                    }
                }
            }
            Exit::Illegal { bits } => {
                if unhandled(task, SIGILL) {
                    report_trap(k, hart, task, SIGILL, ILL_ILLOPC, hart.pc(), Some(bits));
                }
                force_sig_fault(task, SIGILL, ILL_ILLOPC, hart.pc());
            }
            Exit::Breakpoint => {
                if unhandled(task, SIGTRAP) {
                    report_trap(k, hart, task, SIGTRAP, TRAP_BRKPT, hart.pc(), None);
                }
                force_sig_fault(task, SIGTRAP, TRAP_BRKPT, hart.pc());
            }
            Exit::Misaligned { addr, .. } => {
                // BUS_ADRALN: Linux does not emulate misaligned atomics.
                if unhandled(task, SIGBUS) {
                    report_trap(k, hart, task, SIGBUS, BUS_ADRALN, addr, None);
                }
                force_sig_fault(task, SIGBUS, BUS_ADRALN, addr);
            }
            Exit::Budget => {
                k.rq.run_timers();
                k.poll_tty_signals();
                if slice == 0 {
                    slice = k.config.quantum;
                }
            }
        }
    }
}

/// `account_user_time` (`user`) or `account_system_time`: `ns` of guest
/// execution or of kernel work for `task` on `cpu`.
#[inline]
fn account_cputime(k: &Kernel, task: &TaskRef, cpu: usize, ns: u64, user: bool) {
    let c = k.rq.cpustat.get(cpu);
    if user {
        crate::task::add_own(&task.utime, ns);
        if let Some(c) = c {
            c.account_user(ns);
        }
    } else {
        crate::task::add_own(&task.stime, ns);
        if let Some(c) = c {
            c.account_system(ns);
        }
    }
    crate::itimer::account_cpu(task, ns, user);
}

enum SysOutcome {
    Continue(Option<InSyscall>),
    Leave(End),
}

/// `do_trap_ecall_u`: run the system call in a7 with a0..a5.
fn syscall_trap(s: &mut Sys<'_>, hart: &mut Hart, calls: &mut u64) -> SysOutcome {
    let (k, cpu, task) = (s.k, s.cpu, s.task);
    // The count for `--stats` (see `hart_main`); fault injection numbers
    // each call at once.
    *calls += 1;
    #[cfg(feature = "fault-injection")]
    {
        let n = k.syscalls.fetch_add(*calls, Relaxed) + *calls;
        *calls = 0;
        crate::panic::inject_at_syscall(n);
    }
    let nr = hart.x(A7);
    let args = [
        hart.x(A0),
        hart.x(A0 + 1),
        hart.x(A0 + 2),
        hart.x(A0 + 3),
        hart.x(A0 + 4),
        hart.x(A0 + 5),
    ];
    hart.set_pc(hart.pc().wrapping_add(4));
    if syscall::needs_regs(nr) {
        lock(&task.thread).regs.save(hart);
    }
    if !syscall::file::FdCache::keeps(nr) {
        s.fd_cache.clear();
    }
    let faults = s.mm.mem().vmstat.event(VmEventItem::PgFault);
    let flow = syscall::dispatch(s, nr, args);
    if k.config.strace {
        strace::trace(s, nr, args, flow);
    }
    if touches_mm(nr, faults != s.mm.mem().vmstat.event(VmEventItem::PgFault)) {
        sync_tlb(k, hart, &s.mm);
    }
    if !matches!(flow, Flow::Block) {
        task.restart.clear();
    }
    match flow {
        Flow::Return(v) => {
            hart.set_x(A0, v as u64);
            SysOutcome::Continue(Some(InSyscall {
                ret: v,
                orig_a0: args[0],
            }))
        }
        Flow::Yield(v) => {
            hart.set_x(A0, v as u64);
            task.count_nvcsw();
            // `do_sched_yield`: the class requeues it and asks for a
            // reschedule if another task of its class waits.
            k.rq.sched.yield_task(hart.id(), task, k.rq.now());
            if k.rq.need_resched(hart.id()) {
                return SysOutcome::Leave(End::Leave(Leave::Switch));
            }
            SysOutcome::Continue(None)
        }
        Flow::Block => {
            // Sleep; run the call again when woken (pc back on the ecall,
            // the arguments untouched).
            hart.set_pc(hart.pc().wrapping_sub(4));
            task.count_nvcsw();
            task.restart_in_syscall.store(true, Relaxed);
            SysOutcome::Leave(End::Leave(Leave::Switch))
        }
        Flow::NewRegs => {
            lock(&task.thread).regs.restore(hart);
            SysOutcome::Continue(None)
        }
        Flow::Exec => {
            lock(&task.thread).regs.restore(hart);
            let Some(new) = task.mm_grab() else {
                return SysOutcome::Leave(End::ExitGroup(SIGSEGV));
            };
            s.mm = new;
            // `sched_exec`: the exec'd task may be placed on another CPU
            // (it moves when it next leaves this one).
            let kick = k.rq.sched.sched_exec(hart.id(), task);
            k.rq.kick(kick);
            set_current_task(cpu, task);
            if !switch_mm(k, hart, &s.mm) {
                return SysOutcome::Leave(End::ExitGroup(SIGSEGV));
            }
            SysOutcome::Continue(None)
        }
        Flow::Exit(status) => SysOutcome::Leave(End::Exit(status)),
        Flow::ExitGroup(status) => SysOutcome::Leave(End::ExitGroup(status)),
    }
}

/// The task dies of `sig` (group exit).
fn die(k: &Kernel, cpu: &Cpu<'static>, task: &TaskRef, sig: i32) -> Leave {
    die_status(k, cpu, task, sig)
}

/// `do_group_exit(status)` of the current task.
fn die_status(k: &Kernel, cpu: &Cpu<'static>, task: &TaskRef, status: i32) -> Leave {
    let status = crate::exit::do_group_exit(task, status);
    crate::exit::do_exit(k, cpu, task, status);
    Leave::Dead
}

/// What `do_signal` left the task to do.
enum SigOutcome {
    Run,
    /// A handler's frame was set up: the task runs it.
    Frame,
    Exit(i32),
    Stop,
}

/// Carry out riscv's restart decision ([`crate::signal::handle_restart`])
/// on the hart. ferrite restarts an -ERESTART_RESTARTBLOCK call itself
/// (what it must keep is in `task.restart`) where Linux runs
/// `restart_syscall`.
fn apply_restart(hart: &mut Hart, l: InSyscall, sa_flags: u64, has_handler: bool) -> bool {
    use crate::signal::RestartAction;
    match crate::signal::handle_restart(l.ret, sa_flags, has_handler) {
        RestartAction::None => false,
        RestartAction::Eintr => {
            hart.set_x(A0, (-(errno::EINTR as i64)) as u64);
            true
        }
        RestartAction::Restart | RestartAction::RestartBlock => {
            hart.set_x(A0, l.orig_a0);
            hart.set_pc(hart.pc().wrapping_sub(4));
            false
        }
    }
}

/// The restart rules when no handler runs (`do_signal`'s tail).
fn restart_without_handler(hart: &mut Hart, l: InSyscall) {
    apply_restart(hart, l, 0, false);
}

/// `do_signal` / `arch_do_signal_or_restart`.
fn do_signal(
    k: &Kernel,
    cpu: &Cpu<'static>,
    hart: &mut Hart,
    task: &TaskRef,
    mm: &MmGrab,
    last: Option<InSyscall>,
) -> SigOutcome {
    match sigcore::get_signal(k, task) {
        Deliver::Exit(code) => SigOutcome::Exit(code),
        Deliver::Stop => {
            if let Some(l) = last {
                restart_without_handler(hart, l);
            }
            let _ = TASK_STOPPED;
            SigOutcome::Stop
        }
        Deliver::None => {
            if let Some(l) = last {
                restart_without_handler(hart, l);
            }
            SigOutcome::Run
        }
        Deliver::Handler(info, action) => {
            if let Some(l) = last {
                if apply_restart(hart, l, action.flags, true) {
                    // EINTR: what the call kept for its restart is void.
                    task.restart.lock().take();
                }
            }
            handle_signal(k, cpu, hart, task, mm, info, action)
        }
    }
}

/// `handle_signal`: build the signal frame and enter the handler, with the
/// mask extended by `sa_mask` (and the signal itself unless SA_NODEFER).
fn handle_signal(
    k: &Kernel,
    cpu: &Cpu<'static>,
    hart: &mut Hart,
    task: &TaskRef,
    mm: &MmGrab,
    info: SigQueued,
    action: crate::task::SigAction,
) -> SigOutcome {
    match crate::signal_deliver::setup_rt_frame(k, cpu, hart, task, mm, &info, &action) {
        Ok(()) => {
            sigcore::recalc_sigpending(task);
            SigOutcome::Frame
        }
        // A frame that cannot be written: SIGSEGV (`force_sigsegv`).
        Err(_) => {
            if info.signo == SIGSEGV {
                SigOutcome::Exit(SIGSEGV)
            } else {
                force_sig_fault(task, SIGSEGV, 0x80, 0);
                SigOutcome::Run
            }
        }
    }
}

/// Whether `sig` would kill `task` (no handler, or blocked/ignored which
/// `force_sig` overrides): Linux prints the fault report only then.
fn unhandled(task: &TaskRef, sig: i32) -> bool {
    let a = sigcore::action_of(task, sig);
    a.handler <= 1 || task.blocked() & sigcore::sigbit(sig) != 0
}

/// `force_sig_fault`: a synchronous signal for this thread; if it is
/// blocked or ignored it is unblocked and reset to the default, so it
/// cannot be lost.
fn force_sig_fault(task: &TaskRef, sig: i32, code: i32, addr: u64) {
    let a = sigcore::action_of(task, sig);
    let blocked = task.blocked() & sigcore::sigbit(sig) != 0;
    if a.handler == sigcore::SIG_IGN || blocked {
        let sh = lock(&task.sighand).clone();
        if a.handler == sigcore::SIG_IGN {
            lock(&sh.action)[(sig - 1) as usize] = Default::default();
        }
        lock(&task.sig).blocked &= !sigcore::sigbit(sig);
    }
    let _ = sigcore::send_signal(task, SigQueued::fault(sig, code, addr), Target::Thread);
    task.sigpending.store(true, SeqCst);
}

/// Syscalls that cannot change a page table (so need no TLB maintenance
/// afterwards): the identity calls and the scheduler's.
fn touches_mm(nr: u64, faulted: bool) -> bool {
    use syscall::nr::*;
    match nr {
        GETPID | GETTID | GETPPID | GETUID | GETEUID | GETGID | GETEGID | SCHED_YIELD | EXIT
        | EXIT_GROUP => false,
        // Their only way to change a page table is a fault on the user
        // buffer (copy-on-write, demand paging), counted in PGFAULT (by
        // any CPU: another's fault meanwhile only costs a needless look).
        READ | WRITE | READV | WRITEV | PREAD64 | PWRITE64 | CLOCK_GETTIME | GETTIMEOFDAY => {
            faulted
        }
        _ => true,
    }
}

/// Carry out the TLB flushes the mm recorded (`flush_tlb_range` /
/// `flush_tlb_mm`) for the mm's ASID: locally, and by shootdown on every
/// other hart in the mm's `mm_cpumask` (kept in the mm); and the instruction-cache flush a
/// newly executable page needs. The page-cache walkers that change other
/// mms' page tables flush those mms' harts themselves, at once, through
/// mm's flush hook (installed in `Kernel::boot`); what they change is
/// also in the mm's pending flush, carried out here.
pub fn sync_tlb(k: &Kernel, hart: &mut Hart, mm: &mm::mmap::MmStruct<'static>) {
    let f = mm.take_tlb_flush();
    if f.needs_icache_flush() {
        k.machine.flush_icache_all();
        hart.flush_icache();
    }
    let range = match f.range() {
        FlushRange::None => return,
        FlushRange::Range { start, end } => Some((start as u64, end as u64)),
        FlushRange::All => None,
    };
    // By the mm's ASID: here (it is this hart's current one) and on every
    // other hart that ran the mm, whatever it runs now (its entries stay
    // under the ASID after it switched away). ASID 0: everything.
    let asid = k.asids.mm_asid(&mm.context_id);
    // `f.cpus()` is the mm's `mm_cpumask`, read after the changes.
    let others = f.cpus() & !(1u64 << (hart.id() % 64));
    if asid == 0 {
        hart.flush_tlb(range);
        if others != 0 {
            k.machine.flush_tlb(others, range);
        }
    } else {
        hart.flush_tlb_asid(asid, range);
        if others != 0 {
            k.machine.flush_tlb_asid(others, asid, range);
        }
    }
}

/// Linux's `show_signal_msg` for a fatal SIGSEGV/SIGBUS from a fault:
/// `comm[pid]: segfault at ADDR ip PC sp SP error CODE in FILE[START+SIZE]`.
fn report_fault(
    k: &Kernel,
    hart: &Hart,
    task: &TaskRef,
    mm: &mm::mmap::MmStruct<'static>,
    addr: u64,
    access: Access,
    e: FaultError,
) {
    // The x86 error-code bits Linux prints: 1 = protection (a VMA exists),
    // 2 = write, 4 = user mode; 16 = instruction fetch.
    let mut code = 4u64;
    if e != FaultError::MapErr {
        code |= 1;
    }
    match access {
        Access::Store => code |= 2,
        Access::Fetch => code |= 16,
        Access::Load => {}
    }
    let what = if e == FaultError::Sigbus {
        "bus error"
    } else {
        "segfault"
    };
    let pc = hart.pc();
    let mut msg = format!(
        "{}[{}]: {what} at {addr:x} ip {pc:016x} sp {:016x} error {code:x}",
        task.comm(),
        task.tgid,
        hart.x(SP)
    );
    msg.push_str(&vma_of(mm, pc));
    msg.push('\n');
    k.console(&msg);
}

/// riscv's `do_trap` report for other fatal traps.
fn report_trap(
    k: &Kernel,
    hart: &Hart,
    task: &TaskRef,
    sig: i32,
    code: i32,
    addr: u64,
    bits: Option<u32>,
) {
    let mut msg = format!(
        "{}[{}]: unhandled signal {sig} code 0x{code:x} at 0x{addr:016x}",
        task.comm(),
        task.tgid
    );
    if let Some(b) = bits {
        msg.push_str(&format!(" (instruction 0x{b:08x}, ip {:016x})", hart.pc()));
    }
    msg.push('\n');
    k.console(&msg);
}

/// `print_vma_addr`: " in NAME[START+SIZE]" for the file mapping holding
/// `ip`, or nothing.
fn vma_of(mm: &mm::mmap::MmStruct<'static>, ip: u64) -> String {
    let rows = mm::proc::maps_rows(mm);
    for r in rows {
        if (r.start..r.end).contains(&ip) {
            if let Some(name) = r.name.as_deref().filter(|n| n.starts_with('/')) {
                let base = name.rsplit('/').next().unwrap_or(name);
                return format!(" in {base}[{:x}+{:x}]", r.start, r.end - r.start);
            }
        }
    }
    String::new()
}
