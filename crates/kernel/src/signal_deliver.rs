//! Entering a signal handler and leaving it: arch/riscv/kernel/signal.c's
//! `handle_signal`/`setup_rt_frame` and `sys_rt_sigreturn`, plus
//! `sigaltstack(2)` and `rt_sigsuspend(2)` (kernel/signal.c), over the
//! frame layout in [`crate::signal::frame`].
//!
//! The handler returns through the vDSO's `__vdso_rt_sigreturn` (its `ra`),
//! as on Linux riscv, where `sa_restorer` does not exist.

use mm::percpu::Cpu;
use rv64::Hart;

use crate::errno::{Errno, EFAULT, EINVAL};
use crate::kernel::Kernel;
use crate::mm_ref::MmGrab;
use crate::sigcore::{self, SigQueued};
use crate::signal::frame::{self, Ksignal};
use crate::signal::siginfo::{SigFields, SigInfo};
use crate::signal::StackT;
use crate::syscall::{Flow, Sys, SysResult};
use crate::task::{lock, Regs, SigAction, TaskRef};

/// The user-visible `siginfo` of a queued signal.
pub fn to_siginfo(q: &SigQueued) -> SigInfo {
    let fields = if q.signo == sigcore::SIGCHLD && q.code > 0 {
        SigFields::Chld {
            pid: q.pid,
            uid: q.uid,
            status: q.status,
            utime: q.utime as i64,
            stime: q.stime as i64,
        }
    } else if q.code > 0 && q.code != sigcore::SI_KERNEL {
        SigFields::Fault { addr: q.addr }
    } else if q.code == sigcore::SI_USER
        || q.code == sigcore::SI_KERNEL
        || q.code == sigcore::SI_TKILL
    {
        SigFields::Kill {
            pid: q.pid,
            uid: q.uid,
        }
    } else {
        SigFields::Rt {
            pid: q.pid,
            uid: q.uid,
            value: q.addr,
        }
    };
    SigInfo::new(q.signo, q.errno, q.code, fields)
}

/// Build the frame for `info` and point the hart at the handler
/// (`handle_signal` after the restart fix-up, which the caller made on
/// the hart's registers). On success the task's mask and alternate stack
/// are updated (`signal_delivered`).
pub fn setup_rt_frame(
    k: &Kernel,
    cpu: &Cpu<'static>,
    hart: &mut Hart,
    task: &TaskRef,
    mm: &MmGrab,
    info: &SigQueued,
    action: &SigAction,
) -> Result<(), Errno> {
    let restorer = crate::exec::Vdso::get(k.mem)?
        .sigreturn_addr(cpu, mm)
        .ok_or(EFAULT)?;
    let mut regs = Regs::default();
    regs.save(hart);
    let ksig = Ksignal {
        sig: info.signo,
        info: to_siginfo(info),
        handler: action.handler,
        sa_flags: action.flags,
    };
    let (old_mask, sas) = {
        let mut s = lock(&task.sig);
        // A mask saved by sigsuspend is the one the handler returns to.
        let old = s.saved_mask.take().unwrap_or(s.blocked);
        (old, s.altstack)
    };
    let mut write = |addr: u64, b: &[u8]| -> Result<(), Errno> {
        mm::uaccess::copy_to_user(cpu, mm, addr as usize, b)
    };
    let new = frame::setup_rt_frame(&regs, &ksig, old_mask, &sas, restorer, &mut write)?;
    new.restore(hart);
    let mut s = lock(&task.sig);
    let blocked = s.blocked;
    let mut alt = s.altstack;
    s.blocked =
        crate::signal::signal_delivered(blocked, action.mask, action.flags, info.signo, &mut alt);
    s.altstack = alt;
    Ok(())
}

/// `rt_sigreturn`: the registers, mask and alternate stack saved in the
/// frame at the user sp (from `task.regs`, saved by the trap loop).
pub fn restore_rt_frame(s: &mut Sys<'_>) -> Result<(), Errno> {
    let sp = lock(&s.task.thread).regs.x[2];
    let (cpu, mm) = (s.cpu, &s.mm);
    let mut read = |addr: u64, b: &mut [u8]| -> Result<(), Errno> {
        mm::uaccess::copy_from_user(cpu, mm, b, addr as usize)
    };
    let r = frame::restore_sigcontext(&mut read, sp)?;
    {
        let mut t = lock(&s.task.sig);
        t.blocked = r.mask & !sigcore::UNBLOCKABLE;
        let mut alt = t.altstack;
        alt.restore(&r.uc_stack, r.regs.x[2]);
        t.altstack = alt;
    }
    lock(&s.task.thread).regs = r.regs;
    s.task.restart.lock().take();
    // The restored mask may unblock something pending.
    s.task
        .sigpending
        .store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(())
}

/// `sigaltstack(2)`.
pub fn sys_sigaltstack(s: &mut Sys<'_>, uss: u64, uoss: u64) -> SysResult {
    let sp = lock(&s.task.thread).regs.x[2];
    let new = if uss != 0 {
        let b = s.read_user(uss, crate::signal::STACK_T_SIZE)?;
        let arr: [u8; crate::signal::STACK_T_SIZE] = b.try_into().map_err(|_| EFAULT)?;
        Some(StackT::from_bytes(&arr))
    } else {
        None
    };
    let old = {
        let mut t = lock(&s.task.sig);
        let mut alt = t.altstack;
        let old = alt.do_sigaltstack(new.as_ref(), sp, crate::signal::MINSIGSTKSZ)?;
        t.altstack = alt;
        old
    };
    if uoss != 0 {
        s.write_user(uoss, &old.to_bytes())?;
    }
    Ok(0)
}

/// `rt_sigsuspend(2)`: wait for a signal with `mask` as the blocked set;
/// the old mask comes back after the handler (`saved_sigmask`). Always
/// -EINTR (through -ERESTARTNOHAND) once a signal is delivered.
pub fn sys_rt_sigsuspend(s: &mut Sys<'_>, mask: u64, size: u64) -> Flow {
    if size != 8 {
        return Flow::Return(-(EINVAL as i64));
    }
    let new = match s.read_u64(mask) {
        Ok(m) => m & !sigcore::UNBLOCKABLE,
        Err(e) => return Flow::Return(-(e as i64)),
    };
    {
        let mut t = lock(&s.task.sig);
        if t.saved_mask.is_none() {
            t.saved_mask = Some(t.blocked);
        }
        t.blocked = new;
    }
    crate::sched::set_current_state(s.task, crate::sched::TASK_INTERRUPTIBLE);
    // A signal that came while blocked woke nobody and set no flag: look
    // at the pending sets under the new mask (`set_current_blocked`'s
    // `recalc_sigpending`).
    if sigcore::recalc_sigpending(s.task) {
        s.task
            .sigpending
            .store(true, std::sync::atomic::Ordering::SeqCst);
        crate::sched::set_running(s.task);
        return Flow::Return(-(crate::errno::ERESTARTNOHAND as i64));
    }
    Flow::Block
}
