//! The signal calls on dispositions and masks: kernel/signal.c's
//! `rt_sigaction`, `rt_sigprocmask`, `rt_sigpending`, and `rt_sigreturn`
//! (arch/riscv/kernel/signal.c). Sending is in [`crate::sigcore`].

use std::sync::atomic::Ordering::SeqCst;

use super::{Flow, Sys, SysResult};
use crate::errno::{EFAULT, EINVAL};
use crate::sigcore::{self, DefaultAction, SIG_DFL, SIG_IGN};
use crate::task::{lock, SigAction, NSIG};

/// `SIGKILL`.
pub const SIGKILL: u64 = 9;
/// `SIGSTOP`.
pub const SIGSTOP: u64 = 19;
/// `sizeof(sigset_t)` as the kernel sees it.
const SIGSET_SIZE: u64 = 8;
/// `SIG_BLOCK`, `SIG_UNBLOCK`, `SIG_SETMASK`.
const SIG_BLOCK: u64 = 0;
const SIG_UNBLOCK: u64 = 1;
const SIG_SETMASK: u64 = 2;

fn bit(sig: u64) -> u64 {
    1 << (sig - 1)
}

fn sigaction_bytes(a: &SigAction) -> [u8; 24] {
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&a.handler.to_le_bytes());
    b[8..16].copy_from_slice(&a.flags.to_le_bytes());
    b[16..].copy_from_slice(&a.mask.to_le_bytes());
    b
}

/// `rt_sigaction(2)`.
pub fn sys_rt_sigaction(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [sig, act, oact, size, _, _] = a;
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    if sig == 0 || sig > NSIG as u64 {
        return Err(EINVAL);
    }
    let new = if act != 0 {
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(EINVAL);
        }
        let b = s.read_array::<24>(act)?;
        let word = |i: usize| {
            b[i * 8..i * 8 + 8]
                .try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| EFAULT)
        };
        Some(SigAction {
            handler: word(0)?,
            flags: word(1)?,
            // SIGKILL and SIGSTOP can never be blocked.
            mask: word(2)? & !(bit(SIGKILL) | bit(SIGSTOP)),
        })
    } else {
        None
    };
    let idx = (sig - 1) as usize;
    let sh = lock(&s.task.sighand).clone();
    let old = {
        let mut actions = lock(&sh.action);
        let old = actions[idx];
        if let Some(n) = new {
            actions[idx] = n;
        }
        old
    };
    if let Some(n) = new {
        // POSIX: setting a pending signal to be ignored discards it.
        let sig = sig as i32;
        let ignored = n.handler == SIG_IGN
            || (n.handler == SIG_DFL && sigcore::default_action(sig) == DefaultAction::Ign);
        if ignored {
            flush_pending(s, sig);
        }
    }
    if oact != 0 {
        s.write_user(oact, &sigaction_bytes(&old))?;
    }
    Ok(0)
}

/// Discard pending instances of `sig` in the group and its threads.
fn flush_pending(s: &Sys<'_>, sig: i32) {
    let b = sigcore::sigbit(sig);
    {
        let mut g = lock(&s.task.signal.group);
        g.pending &= !b;
        g.queue.retain(|q| q.signo != sig);
    }
    for t in lock(&s.task.signal.threads).iter() {
        let mut ts = lock(&t.sig);
        ts.pending &= !b;
        ts.queue.retain(|q| q.signo != sig);
    }
}

/// `rt_sigprocmask(2)`.
pub fn sys_rt_sigprocmask(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [how, set, oset, size, _, _] = a;
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let old = s.task.blocked();
    let new = if set != 0 {
        let v = s.read_u64(set)?;
        let m = match how {
            SIG_BLOCK => old | v,
            SIG_UNBLOCK => old & !v,
            SIG_SETMASK => v,
            _ => return Err(EINVAL),
        };
        Some(m & !(bit(SIGKILL) | bit(SIGSTOP)))
    } else {
        None
    };
    if oset != 0 {
        s.write_u64(oset, old)?;
    }
    if let Some(m) = new {
        lock(&s.task.sig).blocked = m;
        // Something unblocked may be pending: look at it on the way out.
        s.task.sigpending.store(true, SeqCst);
    }
    Ok(0)
}

/// `rt_sigpending(2)`: blocked signals pending for the thread or group.
pub fn sys_rt_sigpending(s: &mut Sys<'_>, set: u64, size: u64) -> SysResult {
    if size > SIGSET_SIZE {
        return Err(EINVAL);
    }
    let (p, blocked) = {
        let t = lock(&s.task.sig);
        (t.pending, t.blocked)
    };
    let g = lock(&s.task.signal.group).pending;
    let v = (p | g) & blocked;
    s.write_user(set, &v.to_le_bytes()[..size as usize])?;
    Ok(0)
}

/// `rt_sigreturn(2)`: back from a handler: the registers, mask and
/// alternate stack saved in the frame.
pub fn sys_rt_sigreturn(s: &mut Sys<'_>) -> Flow {
    match crate::signal_deliver::restore_rt_frame(s) {
        Ok(()) => Flow::NewRegs,
        // A bad frame: SIGSEGV (`force_sig(SIGSEGV)`).
        Err(_) => {
            let _ = sigcore::send_signal(
                s.task,
                sigcore::SigQueued::kernel(sigcore::SIGSEGV),
                sigcore::Target::Thread,
            );
            Flow::NewRegs
        }
    }
}
