//! Traps from user mode: Linux's arch/riscv/kernel/entry.S `handle_exception`
//! and traps.c (`do_trap_ecall_u`, `do_trap_insn_illegal`,
//! `do_trap_break`, the misaligned handlers), arch/riscv/mm/fault.c
//! (`do_page_fault`), and the TLB maintenance of arch/riscv/mm/tlbflush.c
//! that follows a page-table change.
//!
//! [`hart_main`] is one hart's host thread: it takes tasks from the run
//! queue and runs each until it exits or yields. The hart stops at every
//! trap; the kernel handles it on the same thread and resumes the task.
//!
//! After a kernel panic on any hart ([`crate::panic`]), every hart stops
//! at its next trap or time-slice end: the task it ran is left as it is
//! (the machine is halted, nothing is torn down).
//!
//! Where ferrite differs: signals are not delivered yet, so every signal a
//! trap raises is fatal (Linux's default action for SIGSEGV, SIGBUS, SIGILL,
//! SIGTRAP); the report for SIGSEGV and SIGBUS has the form of Linux's
//! `show_signal_msg` ("segfault at ... ip ... sp ... error ..."), others
//! that of riscv's `do_trap` ("unhandled signal ...").

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use mm::fault::{handle_mm_fault, Access as FaultAccess, FaultError};
use mm::percpu::Cpu;
use mm::pgtable::FlushRange;
use rv64::{Access, Exit, Hart};

use crate::kernel::{ExitStatus, Kernel};
use crate::strace;
use crate::syscall::{self, Flow, Sys};
use crate::task::Task;

/// `SIGILL`.
pub const SIGILL: i32 = 4;
/// `SIGTRAP`.
pub const SIGTRAP: i32 = 5;
/// `SIGBUS`.
pub const SIGBUS: i32 = 7;
/// `SIGSEGV`.
pub const SIGSEGV: i32 = 11;

/// The register holding the syscall number (a7) and the first argument (a0).
const A7: usize = 17;
const A0: usize = 10;
const SP: usize = 2;

/// One hart's thread: run tasks until shutdown. The hart holds its CPU
/// (mm's `Cpu` claim) only while it runs a task: an idle hart has released
/// it, so another CPU that must drain this one's per-CPU lists (memory
/// pressure) does it itself instead of waiting for a hart asleep in the
/// run queue, as Linux's idle loop answers IPIs.
pub fn hart_main(k: &Kernel, id: usize) {
    let mut hart = Hart::new(id, k.machine.clone());
    while let Some(task) = k.pick_next_task() {
        let cpu = match k.mem.cpu(id) {
            Ok(c) => c,
            Err(e) => {
                k.console(&format!("ferrite: hart {id}: cannot claim CPU: {e}\n"));
                k.requeue(task);
                return;
            }
        };
        run_task(k, &cpu, &mut hart, task);
    }
    k.instructions.fetch_add(hart.instret(), Relaxed);
}

/// Why a task left the hart.
enum Leave {
    /// It is still runnable: back on the run queue.
    Preempted,
    /// It exited.
    Exit(ExitStatus),
    /// The kernel panicked: stop.
    Halt,
}

/// `__switch_to` into `task`, run it until it leaves the hart, and switch
/// out.
fn run_task(k: &Kernel, cpu: &Cpu<'static>, hart: &mut Hart, mut task: Task) {
    task.ts.regs.restore(hart);
    // `current->comm`, for the reports mm prints on this CPU and for a
    // panic's.
    cpu.set_comm(&task.ts.comm());
    crate::panic::set_current(task.ts.pid, &task.ts.comm());
    let Some(satp) = task.mm().satp() else {
        k.do_exit(cpu, task, ExitStatus::Signaled(SIGSEGV));
        return;
    };
    // `switch_mm`: into the mm's `mm_cpumask` before the hart can cache a
    // translation of it (the ordering is `mm_cpumask_set_cpu`'s).
    task.mm().mm_cpumask_set_cpu(hart.id());
    hart.set_satp(satp);
    let bit = 1 << (hart.id() % 64);
    // `flush_icache_deferred`: a `riscv_flush_icache` since this hart last
    // ran the mm.
    if task.proc.icache_stale_mask.load(Relaxed) & bit != 0
        && task.proc.icache_stale_mask.fetch_and(!bit, SeqCst) & bit != 0
    {
        hart.flush_icache();
    }
    let leave = run_user(k, cpu, hart, &mut task);
    task.ts.regs.save(hart);
    crate::panic::set_current(0, "");
    match leave {
        Leave::Preempted => k.requeue(task),
        Leave::Exit(status) => k.do_exit(cpu, task, status),
        // A halted machine tears nothing down.
        Leave::Halt => std::mem::forget(task),
    }
}

/// Run the task's user code, handling traps, until it must leave the hart.
fn run_user(k: &Kernel, cpu: &Cpu<'static>, hart: &mut Hart, task: &mut Task) -> Leave {
    loop {
        let exit = hart.run(k.config.quantum);
        if k.panic.panicked() {
            return Leave::Halt;
        }
        match exit {
            Exit::Ecall => {
                let _n = k.syscalls.fetch_add(1, Relaxed) + 1;
                #[cfg(feature = "fault-injection")]
                crate::panic::inject_at_syscall(_n);
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
                let mut s = Sys { cpu, k, task };
                let flow = syscall::dispatch(&mut s, nr, args);
                if k.config.strace {
                    strace::trace(&s, nr, args, flow);
                }
                if touches_mm(nr) {
                    sync_tlb(k, hart, task);
                }
                match flow {
                    Flow::Return(v) => hart.set_x(A0, v as u64),
                    Flow::Yield(v) => {
                        hart.set_x(A0, v as u64);
                        task.proc.nvcsw.fetch_add(1, Relaxed);
                        if k.others_waiting() {
                            return Leave::Preempted;
                        }
                    }
                    Flow::Exit(status) => {
                        return Leave::Exit(ExitStatus::Exited((status >> 8) as u8));
                    }
                }
            }
            Exit::PageFault { addr, access } => {
                k.page_faults.fetch_add(1, Relaxed);
                let a = match access {
                    Access::Load => FaultAccess::Read,
                    Access::Store => FaultAccess::Write,
                    Access::Fetch => FaultAccess::Exec,
                };
                match handle_mm_fault(cpu, task.mm(), addr as usize, a) {
                    Ok(()) => {
                        sync_tlb(k, hart, task);
                        // A fault on a PTE that was already fixed (another
                        // hart, or a stale TLB entry): flush this page, as
                        // Linux's spurious-fault path does.
                        let page = addr & !0xfff;
                        hart.flush_tlb(Some((page, page + 0x1000)));
                    }
                    Err(FaultError::Oom) => {
                        // No OOM killer yet: the task that could not get
                        // memory dies (Linux's pagefault_out_of_memory
                        // would pick a victim).
                        k.console(&format!(
                            "Out of memory: killed process {} ({})\n",
                            task.ts.pid,
                            task.ts.comm()
                        ));
                        return Leave::Exit(ExitStatus::Signaled(9));
                    }
                    Err(e) => {
                        sync_tlb(k, hart, task);
                        let sig = e.signo();
                        report_fault(k, hart, task, addr, access, e);
                        return Leave::Exit(ExitStatus::Signaled(sig));
                    }
                }
            }
            Exit::Illegal { bits } => {
                report_trap(k, hart, task, SIGILL, 1, hart.pc(), Some(bits));
                return Leave::Exit(ExitStatus::Signaled(SIGILL));
            }
            Exit::Breakpoint => {
                report_trap(k, hart, task, SIGTRAP, 1, hart.pc(), None);
                return Leave::Exit(ExitStatus::Signaled(SIGTRAP));
            }
            Exit::Misaligned { addr, .. } => {
                // BUS_ADRALN: Linux does not emulate misaligned atomics.
                report_trap(k, hart, task, SIGBUS, 1, addr, None);
                return Leave::Exit(ExitStatus::Signaled(SIGBUS));
            }
            Exit::Budget => {
                if k.others_waiting() {
                    task.proc.nivcsw.fetch_add(1, Relaxed);
                    return Leave::Preempted;
                }
            }
        }
    }
}

/// Syscalls that cannot change a page table (so need no TLB maintenance
/// afterwards): the identity calls and the scheduler's.
fn touches_mm(nr: u64) -> bool {
    use syscall::nr::*;
    !matches!(
        nr,
        GETPID
            | GETTID
            | GETPPID
            | GETUID
            | GETEUID
            | GETGID
            | GETEGID
            | SCHED_YIELD
            | EXIT
            | EXIT_GROUP
    )
}

/// Carry out the TLB flushes the mm recorded (`flush_tlb_range` /
/// `flush_tlb_mm`): locally, and by shootdown on every other hart in the
/// mm's `mm_cpumask` (kept in the mm); and the instruction-cache flush a
/// newly executable page needs. The page-cache walkers that change other
/// mms' page tables flush those mms' harts themselves, at once, through
/// mm's flush hook (installed in `Kernel::boot`); what they change is
/// also in the mm's pending flush, carried out here.
pub fn sync_tlb(k: &Kernel, hart: &mut Hart, task: &Task) {
    let f = task.mm().take_tlb_flush();
    if f.needs_icache_flush() {
        k.machine.flush_icache_all();
        hart.flush_icache();
    }
    let range = match f.range() {
        FlushRange::None => return,
        FlushRange::Range { start, end } => Some((start as u64, end as u64)),
        FlushRange::All => None,
    };
    hart.flush_tlb(range);
    // `f.cpus()` is the mm's `mm_cpumask`, read after the changes.
    let others = f.cpus() & !(1u64 << (hart.id() % 64));
    if others != 0 {
        k.machine.flush_tlb(others, range);
    }
}

/// Linux's `show_signal_msg` for a fatal SIGSEGV/SIGBUS from a fault:
/// `comm[pid]: segfault at ADDR ip PC sp SP error CODE in FILE[START+SIZE]`.
fn report_fault(k: &Kernel, hart: &Hart, task: &Task, addr: u64, access: Access, e: FaultError) {
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
        task.ts.comm(),
        task.ts.pid,
        hart.x(SP)
    );
    msg.push_str(&vma_of(task, pc));
    msg.push('\n');
    k.console(&msg);
}

/// riscv's `do_trap` report for other fatal traps.
fn report_trap(
    k: &Kernel,
    hart: &Hart,
    task: &Task,
    sig: i32,
    code: i32,
    addr: u64,
    bits: Option<u32>,
) {
    let mut msg = format!(
        "{}[{}]: unhandled signal {sig} code 0x{code:x} at 0x{addr:016x}",
        task.ts.comm(),
        task.ts.pid
    );
    if let Some(b) = bits {
        msg.push_str(&format!(" (instruction 0x{b:08x}, ip {:016x})", hart.pc()));
    }
    msg.push('\n');
    k.console(&msg);
}

/// `print_vma_addr`: " in NAME[START+SIZE]" for the file mapping holding
/// `ip`, or nothing.
fn vma_of(task: &Task, ip: u64) -> String {
    let rows = mm::proc::maps_rows(task.mm());
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
