//! Signal dispositions and masks: kernel/signal.c's `rt_sigaction` and
//! `rt_sigprocmask`. They are recorded with Linux's checks; delivery (and
//! so handlers running) comes with the process issue.

use std::sync::atomic::Ordering::Relaxed;

use super::{Sys, SysResult};
use crate::errno::{EFAULT, EINVAL};
use crate::task::{SigAction, NSIG};

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

/// Keep /proc/PID/status's SigIgn and SigCgt in step with the actions.
fn publish(s: &Sys<'_>) {
    let (mut ign, mut cgt) = (0u64, 0u64);
    for (i, a) in s.task.ts.sigactions.iter().enumerate() {
        match a.handler {
            0 => {}
            1 => ign |= 1 << i,
            _ => cgt |= 1 << i,
        }
    }
    s.task.proc.sig_ignored.store(ign, Relaxed);
    s.task.proc.sig_caught.store(cgt, Relaxed);
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
        let b = s.read_user(act, 24)?;
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
    if oact != 0 {
        let old = s.task.ts.sigactions[idx];
        s.write_user(oact, &sigaction_bytes(&old))?;
    }
    if let Some(n) = new {
        s.task.ts.sigactions[idx] = n;
        publish(s);
    }
    Ok(0)
}

/// `rt_sigprocmask(2)`.
pub fn sys_rt_sigprocmask(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [how, set, oset, size, _, _] = a;
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let old = s.task.ts.blocked;
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
        s.task.ts.blocked = m;
        s.task.proc.sig_blocked.store(m, Relaxed);
    }
    Ok(0)
}
