//! Signals: the self-contained parts of Linux's kernel/signal.c,
//! include/linux/signal.h and arch/riscv/kernel/signal.c that do not
//! depend on the task model.
//!
//! - signal numbers and `sigaction` flags (include/uapi/asm-generic/signal.h);
//!   the default actions (the `SIG_KERNEL_*_MASK` tables of
//!   include/linux/signal.h: [`sig_default_action`]);
//! - sigset helpers ([`sigmask`], [`UNBLOCKABLE`], [`SYNCHRONOUS_MASK`]);
//! - [`signal_delivered`]: the mask (and alternate stack) after a handler
//!   is set up;
//! - [`handle_restart`]: riscv's `handle_signal` / `arch_do_signal_or_restart`
//!   syscall-restart rules for ERESTARTSYS and friends;
//! - the alternate signal stack: [`StackT`] (`stack_t`), [`SigAltStack`]
//!   (the task's `sas_ss_*`), `do_sigaltstack`, `on_sig_stack`, `sigsp`;
//! - [`siginfo`]: `siginfo_t`; [`frame`]: riscv's `struct rt_sigframe`,
//!   `setup_rt_frame` and `rt_sigreturn`'s restore; the tests of
//!   `abi_check` compare all of it with user/sigframe_layout.c run under
//!   qemu-riscv64.
//!
//! Everything here is pure: user memory is reached through callbacks, and
//! the task, its locks, the pending sets and the sending/permission rules
//! are [`crate::sigcore`]'s.

#[cfg(test)]
mod abi_check;
pub mod frame;
pub mod siginfo;

use crate::errno::{Errno, EINTR, EINVAL, ENOMEM, EPERM};
use crate::task::Regs;

pub use frame::{get_sigframe, restore_sigcontext, setup_rt_frame, Ksignal, SigReturn};
pub use siginfo::SigInfo;

/// Hangup.
pub const SIGHUP: i32 = 1;
/// Interrupt (Ctrl-C).
pub const SIGINT: i32 = 2;
/// Quit (Ctrl-\).
pub const SIGQUIT: i32 = 3;
/// Illegal instruction.
pub const SIGILL: i32 = 4;
/// Trace/breakpoint trap.
pub const SIGTRAP: i32 = 5;
/// Abort.
pub const SIGABRT: i32 = 6;
/// `SIGIOT` = `SIGABRT`.
pub const SIGIOT: i32 = 6;
/// Bus error.
pub const SIGBUS: i32 = 7;
/// Floating-point exception.
pub const SIGFPE: i32 = 8;
/// Kill (cannot be caught, blocked or ignored).
pub const SIGKILL: i32 = 9;
/// User signal 1.
pub const SIGUSR1: i32 = 10;
/// Segmentation fault.
pub const SIGSEGV: i32 = 11;
/// User signal 2.
pub const SIGUSR2: i32 = 12;
/// Broken pipe.
pub const SIGPIPE: i32 = 13;
/// Alarm clock.
pub const SIGALRM: i32 = 14;
/// Termination.
pub const SIGTERM: i32 = 15;
/// Stack fault (unused).
pub const SIGSTKFLT: i32 = 16;
/// Child stopped, continued or exited.
pub const SIGCHLD: i32 = 17;
/// Continue if stopped.
pub const SIGCONT: i32 = 18;
/// Stop (cannot be caught, blocked or ignored).
pub const SIGSTOP: i32 = 19;
/// Terminal stop (Ctrl-Z).
pub const SIGTSTP: i32 = 20;
/// Background read from the terminal.
pub const SIGTTIN: i32 = 21;
/// Background write to the terminal.
pub const SIGTTOU: i32 = 22;
/// Urgent data on a socket.
pub const SIGURG: i32 = 23;
/// CPU time limit exceeded.
pub const SIGXCPU: i32 = 24;
/// File size limit exceeded.
pub const SIGXFSZ: i32 = 25;
/// Virtual timer expired.
pub const SIGVTALRM: i32 = 26;
/// Profiling timer expired.
pub const SIGPROF: i32 = 27;
/// Window size change.
pub const SIGWINCH: i32 = 28;
/// I/O possible.
pub const SIGIO: i32 = 29;
/// `SIGPOLL` = `SIGIO`.
pub const SIGPOLL: i32 = SIGIO;
/// Power failure.
pub const SIGPWR: i32 = 30;
/// Bad system call.
pub const SIGSYS: i32 = 31;
/// The first real-time signal as the kernel numbers them. glibc keeps 32
/// and 33 for itself (thread cancellation, setxid), so a program's
/// `SIGRTMIN` is 34.
pub const SIGRTMIN: i32 = 32;
/// The last real-time signal.
pub const SIGRTMAX: i32 = 64;
/// `_NSIG`: the number of signals.
pub const NSIG: i32 = 64;

/// `SIG_DFL` as an `sa_handler`.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN` as an `sa_handler`.
pub const SIG_IGN: u64 = 1;

/// `sa_flags`: no SIGCHLD when a child stops or continues.
pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
/// `sa_flags`: children do not become zombies.
pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
/// `sa_flags`: the handler takes (sig, siginfo, ucontext).
pub const SA_SIGINFO: u64 = 0x0000_0004;
/// `sa_flags`: run the handler on the alternate signal stack.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// `sa_flags`: restart interrupted syscalls (ERESTARTSYS).
pub const SA_RESTART: u64 = 0x1000_0000;
/// `sa_flags`: do not block the signal in its own handler.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// `sa_flags`: reset the handler to SIG_DFL on delivery.
pub const SA_RESETHAND: u64 = 0x8000_0000;
/// `SA_ONESHOT` = `SA_RESETHAND`.
pub const SA_ONESHOT: u64 = SA_RESETHAND;
/// `SA_NOMASK` = `SA_NODEFER`.
pub const SA_NOMASK: u64 = SA_NODEFER;
/// `sa_flags`: a bit no kernel will ever support (lets user space probe
/// which flags the kernel knows: `rt_sigaction` clears it).
pub const SA_UNSUPPORTED: u64 = 0x0000_0400;
/// `sa_flags`: pass the tag bits of fault addresses (arm64).
pub const SA_EXPOSE_TAGBITS: u64 = 0x0000_0800;

/// `ss_flags`: on the alternate stack now (as reported).
pub const SS_ONSTACK: i32 = 1;
/// `ss_flags`: the alternate stack is disabled.
pub const SS_DISABLE: i32 = 2;
/// `ss_flags` bit: disarm the alternate stack while a handler runs on it.
pub const SS_AUTODISARM: u32 = 1 << 31;
/// `SS_FLAG_BITS`: the flag bits (as opposed to the mode).
pub const SS_FLAG_BITS: u32 = SS_AUTODISARM;
/// `MINSIGSTKSZ` of the kernel for riscv (asm-generic: 2048). glibc 2.34
/// and later report a larger value from `sysconf(_SC_MINSIGSTKSZ)`;
/// sigaltstack(2) checks against this one.
pub const MINSIGSTKSZ: u64 = 2048;
/// `SIGSTKSZ` (asm-generic).
pub const SIGSTKSZ: u64 = 8192;

/// `how` of rt_sigprocmask: add to the mask.
pub const SIG_BLOCK: u64 = 0;
/// `how` of rt_sigprocmask: remove from the mask.
pub const SIG_UNBLOCK: u64 = 1;
/// `how` of rt_sigprocmask: replace the mask.
pub const SIG_SETMASK: u64 = 2;

/// The syscall-return codes that never reach user space
/// (include/linux/errno.h): restart if no handler runs, or if the handler
/// has SA_RESTART.
pub const ERESTARTSYS: i64 = 512;
/// Always restart (even after a handler).
pub const ERESTARTNOINTR: i64 = 513;
/// Restart only if no handler runs.
pub const ERESTARTNOHAND: i64 = 514;
/// Restart through `restart_syscall` with the task's `restart_block` if no
/// handler runs.
pub const ERESTART_RESTARTBLOCK: i64 = 516;
/// `__NR_restart_syscall` on riscv64 (asm-generic).
pub const NR_RESTART_SYSCALL: u64 = 128;

/// A set of signals (`sigset_t`, one bit per signal, bit `sig - 1`).
pub type SigSet = u64;

/// `sigmask(sig)`: the bit of `sig` (1..=64).
pub const fn sigmask(sig: i32) -> SigSet {
    1u64 << ((sig - 1) as u32 & 63)
}

/// `valid_signal`: 0 (the "is it there" probe of kill) to `_NSIG`.
pub fn valid_signal(sig: i64) -> bool {
    (0..=NSIG as i64).contains(&sig)
}

/// The signals nobody can block, catch or ignore (`sig_kernel_only`).
pub const UNBLOCKABLE: SigSet = sigmask(SIGKILL) | sigmask(SIGSTOP);
/// `SIG_KERNEL_ONLY_MASK`.
pub const SIG_KERNEL_ONLY_MASK: SigSet = UNBLOCKABLE;
/// `SIG_KERNEL_STOP_MASK`: default action stop.
pub const SIG_KERNEL_STOP_MASK: SigSet =
    sigmask(SIGSTOP) | sigmask(SIGTSTP) | sigmask(SIGTTIN) | sigmask(SIGTTOU);
/// `SIG_KERNEL_COREDUMP_MASK`: default action core dump.
pub const SIG_KERNEL_COREDUMP_MASK: SigSet = sigmask(SIGQUIT)
    | sigmask(SIGILL)
    | sigmask(SIGTRAP)
    | sigmask(SIGABRT)
    | sigmask(SIGFPE)
    | sigmask(SIGSEGV)
    | sigmask(SIGBUS)
    | sigmask(SIGSYS)
    | sigmask(SIGXCPU)
    | sigmask(SIGXFSZ);
/// `SIG_KERNEL_IGNORE_MASK`: default action ignore.
pub const SIG_KERNEL_IGNORE_MASK: SigSet =
    sigmask(SIGCONT) | sigmask(SIGCHLD) | sigmask(SIGWINCH) | sigmask(SIGURG);
/// `SYNCHRONOUS_MASK`: the signals an instruction raises, dequeued first.
pub const SYNCHRONOUS_MASK: SigSet = sigmask(SIGSEGV)
    | sigmask(SIGBUS)
    | sigmask(SIGILL)
    | sigmask(SIGTRAP)
    | sigmask(SIGFPE)
    | sigmask(SIGSYS);

fn in_mask(sig: i32, mask: SigSet) -> bool {
    (1..SIGRTMIN).contains(&sig) && mask & sigmask(sig) != 0
}

/// `sig_kernel_only`: SIGKILL and SIGSTOP.
pub fn sig_kernel_only(sig: i32) -> bool {
    in_mask(sig, SIG_KERNEL_ONLY_MASK)
}

/// `sig_kernel_coredump`.
pub fn sig_kernel_coredump(sig: i32) -> bool {
    in_mask(sig, SIG_KERNEL_COREDUMP_MASK)
}

/// `sig_kernel_ignore`.
pub fn sig_kernel_ignore(sig: i32) -> bool {
    in_mask(sig, SIG_KERNEL_IGNORE_MASK)
}

/// `sig_kernel_stop`.
pub fn sig_kernel_stop(sig: i32) -> bool {
    in_mask(sig, SIG_KERNEL_STOP_MASK)
}

/// What `SIG_DFL` does with a signal (signal(7)'s table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the process.
    Term,
    /// Terminate with a core dump (wait status bit 0x80; ferrite writes no
    /// file).
    Core,
    /// Ignore.
    Ign,
    /// Stop the process (job control).
    Stop,
    /// Continue the process if stopped (SIGCONT; otherwise ignored).
    Cont,
}

/// The default action of `sig` (1..=64), as `get_signal` decides it from
/// the kernel masks. Real-time signals terminate.
pub fn sig_default_action(sig: i32) -> DefaultAction {
    if sig == SIGCONT {
        DefaultAction::Cont
    } else if sig_kernel_ignore(sig) {
        DefaultAction::Ign
    } else if sig_kernel_stop(sig) {
        DefaultAction::Stop
    } else if sig_kernel_coredump(sig) {
        DefaultAction::Core
    } else {
        DefaultAction::Term
    }
}

/// `sig_handler_ignored`: whether a handler value ignores `sig`
/// (explicitly, or SIG_DFL of a default-ignored signal).
pub fn sig_handler_ignored(handler: u64, sig: i32) -> bool {
    handler == SIG_IGN || (handler == SIG_DFL && sig_kernel_ignore(sig))
}

/// `signal_delivered`: the task's blocked set once a handler for `sig`
/// has been set up (the old one, plus `sa_mask`, plus `sig` unless
/// SA_NODEFER; never SIGKILL or SIGSTOP), and the alternate stack
/// disarmed if it was SS_AUTODISARM. SA_RESETHAND's reset of the handler
/// is the caller's (`get_signal` does it when it takes the signal).
pub fn signal_delivered(
    blocked: SigSet,
    sa_mask: SigSet,
    sa_flags: u64,
    sig: i32,
    sas: &mut SigAltStack,
) -> SigSet {
    let mut b = blocked | sa_mask;
    if sa_flags & SA_NODEFER == 0 {
        b |= sigmask(sig);
    }
    if sas.flags & SS_AUTODISARM != 0 {
        sas.reset();
    }
    b & !UNBLOCKABLE
}

/// What to do about an interrupted syscall on the way back to user mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartAction {
    /// Nothing: the syscall's return value stands.
    None,
    /// Return EINTR.
    Eintr,
    /// Run the syscall again: a0 = the original a0, pc back to the ecall.
    Restart,
    /// Run `restart_syscall` instead: as `Restart`, with a7 =
    /// `__NR_restart_syscall`.
    RestartBlock,
}

/// riscv's restart decision, on return from a syscall that returned `ret`
/// (the value in a0, negative errno): `has_handler` when a handler is
/// about to run for a signal whose `sa_flags` are given (`handle_signal`),
/// otherwise (no signal, or one that was ignored or acted on by default)
/// the `arch_do_signal_or_restart` case.
pub fn handle_restart(ret: i64, sa_flags: u64, has_handler: bool) -> RestartAction {
    let code = ret.checked_neg().unwrap_or(0);
    if has_handler {
        match code {
            ERESTART_RESTARTBLOCK | ERESTARTNOHAND => RestartAction::Eintr,
            ERESTARTSYS if sa_flags & SA_RESTART == 0 => RestartAction::Eintr,
            ERESTARTSYS | ERESTARTNOINTR => RestartAction::Restart,
            _ => RestartAction::None,
        }
    } else {
        match code {
            ERESTARTNOHAND | ERESTARTSYS | ERESTARTNOINTR => RestartAction::Restart,
            ERESTART_RESTARTBLOCK => RestartAction::RestartBlock,
            _ => RestartAction::None,
        }
    }
}

impl RestartAction {
    /// Carry the action out on the user registers, whose pc is past the
    /// `ecall` (4 bytes) as Linux's syscall entry leaves it; `orig_a0` is
    /// the syscall's first argument as it was at entry.
    pub fn apply(self, regs: &mut Regs, orig_a0: u64) {
        match self {
            RestartAction::None => {}
            RestartAction::Eintr => regs.x[10] = (-(EINTR as i64)) as u64,
            RestartAction::Restart | RestartAction::RestartBlock => {
                regs.x[10] = orig_a0;
                regs.pc = regs.pc.wrapping_sub(4);
                if self == RestartAction::RestartBlock {
                    regs.x[17] = NR_RESTART_SYSCALL;
                }
            }
        }
    }
}

/// `stack_t` as user space sees it (24 bytes: `ss_sp`, `ss_flags` and 4
/// bytes of padding, `ss_size`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackT {
    /// `ss_sp`: the lowest address of the stack.
    pub ss_sp: u64,
    /// `ss_flags`.
    pub ss_flags: i32,
    /// `ss_size`.
    pub ss_size: u64,
}

/// `sizeof(stack_t)`.
pub const STACK_T_SIZE: usize = 24;

impl StackT {
    /// The user bytes.
    pub fn to_bytes(&self) -> [u8; STACK_T_SIZE] {
        let mut b = [0u8; STACK_T_SIZE];
        b[0..8].copy_from_slice(&self.ss_sp.to_le_bytes());
        b[8..12].copy_from_slice(&self.ss_flags.to_le_bytes());
        b[16..24].copy_from_slice(&self.ss_size.to_le_bytes());
        b
    }

    /// From the user bytes (the padding is ignored).
    pub fn from_bytes(b: &[u8; STACK_T_SIZE]) -> StackT {
        let w = |o: usize| {
            let mut v = [0u8; 8];
            v.copy_from_slice(&b[o..o + 8]);
            u64::from_le_bytes(v)
        };
        StackT {
            ss_sp: w(0),
            ss_flags: i32::from_le_bytes([b[8], b[9], b[10], b[11]]),
            ss_size: w(16),
        }
    }
}

/// A task's alternate signal stack: `sas_ss_sp`, `sas_ss_size`,
/// `sas_ss_flags` of `task_struct`. The default is the initial task's
/// (all zero: no stack, reported as SS_DISABLE because its size is 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAltStack {
    /// `sas_ss_sp`.
    pub sp: u64,
    /// `sas_ss_size`.
    pub size: u64,
    /// `sas_ss_flags`: the flags as last set (mode and SS_AUTODISARM).
    pub flags: u32,
}

impl SigAltStack {
    /// `sas_ss_reset`: no alternate stack (a CLONE_VM child, and a handler
    /// entered with SS_AUTODISARM).
    pub fn reset(&mut self) {
        *self = SigAltStack {
            sp: 0,
            size: 0,
            flags: SS_DISABLE as u32,
        };
    }

    /// What `begin_new_exec` keeps across execve: no stack (sp and size
    /// cleared), the flags as they were.
    pub fn exec(&mut self) {
        self.sp = 0;
        self.size = 0;
    }

    /// `__on_sig_stack`: `sp` within (sp, sp + size] (stacks grow down).
    fn within(&self, sp: u64) -> bool {
        sp > self.sp && sp - self.sp <= self.size
    }

    /// `on_sig_stack`: whether `sp` is on the alternate stack; never with
    /// SS_AUTODISARM (a handler on a disarmed stack may be interrupted by
    /// one that starts on it afresh).
    pub fn on_sig_stack(&self, sp: u64) -> bool {
        self.flags & SS_AUTODISARM == 0 && self.within(sp)
    }

    /// `sas_ss_flags`: SS_DISABLE without a stack, else SS_ONSTACK when
    /// `sp` is on it, else 0.
    pub fn sas_ss_flags(&self, sp: u64) -> i32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.on_sig_stack(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }

    /// `sigsp`: where a handler's frame goes below: the top of the
    /// alternate stack for an SA_ONSTACK handler when the stack is set and
    /// not in use, else the interrupted `sp`.
    pub fn sigsp(&self, sp: u64, sa_flags: u64) -> u64 {
        if sa_flags & SA_ONSTACK != 0 && self.sas_ss_flags(sp) == 0 {
            self.sp.wrapping_add(self.size)
        } else {
            sp
        }
    }

    /// `__save_altstack`: the `uc_stack` a signal frame records (the stored
    /// flags as they are, as Linux since 4.7 saves them).
    pub fn save(&self) -> StackT {
        StackT {
            ss_sp: self.sp,
            ss_flags: self.flags as i32,
            ss_size: self.size,
        }
    }

    /// `do_sigaltstack`: sigaltstack(2) after its copy-in, with `sp` the
    /// caller's user stack pointer and `min_ss_size` [`MINSIGSTKSZ`].
    /// Returns the old stack (`oss`), whose flags are `sas_ss_flags(sp)`
    /// plus the stored flag bits; nothing changes on an error: EPERM while
    /// running on the alternate stack, EINVAL for a mode other than 0,
    /// SS_ONSTACK or SS_DISABLE, ENOMEM for a size below `min_ss_size`
    /// (not checked for SS_DISABLE, which clears sp and size).
    pub fn do_sigaltstack(
        &mut self,
        ss: Option<&StackT>,
        sp: u64,
        min_ss_size: u64,
    ) -> Result<StackT, Errno> {
        let old = StackT {
            ss_sp: self.sp,
            ss_flags: self.sas_ss_flags(sp) | (self.flags & SS_FLAG_BITS) as i32,
            ss_size: self.size,
        };
        let Some(ss) = ss else {
            return Ok(old);
        };
        if self.on_sig_stack(sp) {
            return Err(EPERM);
        }
        let flags = ss.ss_flags as u32;
        let mode = (flags & !SS_FLAG_BITS) as i32;
        if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
            return Err(EINVAL);
        }
        let (new_sp, new_size) = if mode == SS_DISABLE {
            (0, 0)
        } else {
            if ss.ss_size < min_ss_size {
                return Err(ENOMEM);
            }
            (ss.ss_sp, ss.ss_size)
        };
        *self = SigAltStack {
            sp: new_sp,
            size: new_size,
            flags,
        };
        Ok(old)
    }

    /// `restore_altstack` (rt_sigreturn): set the frame's `uc_stack` again,
    /// with `sp` the restored stack pointer; errors are ignored as Linux
    /// ignores them.
    pub fn restore(&mut self, uc_stack: &StackT, sp: u64) {
        let _ = self.do_sigaltstack(Some(uc_stack), sp, MINSIGSTKSZ);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers user/sigframe_layout.c printed under qemu-riscv64.
    #[test]
    fn constants_match_glibc() {
        assert_eq!(
            [
                SIGHUP, SIGBUS, SIGUSR1, SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGURG, SIGIO, SIGPWR,
                SIGSYS
            ],
            [1, 7, 10, 17, 18, 19, 20, 23, 29, 30, 31]
        );
        // __SIGRTMIN 32; glibc's SIGRTMIN 34 (two kept); SIGRTMAX 64.
        assert_eq!((SIGRTMIN, SIGRTMIN + 2, SIGRTMAX), (32, 34, 64));
        assert_eq!(
            [
                SA_NOCLDSTOP,
                SA_NOCLDWAIT,
                SA_SIGINFO,
                SA_ONSTACK,
                SA_RESTART,
                SA_NODEFER,
                SA_RESETHAND
            ],
            [1, 2, 4, 134217728, 268435456, 1073741824, 2147483648]
        );
        assert_eq!((SS_ONSTACK, SS_DISABLE), (1, 2));
        assert_eq!(SIGSTKSZ, 8192);
        assert_eq!(STACK_T_SIZE, 24);
    }

    #[test]
    fn default_actions() {
        use DefaultAction::*;
        let table = [
            (SIGHUP, Term),
            (SIGINT, Term),
            (SIGQUIT, Core),
            (SIGILL, Core),
            (SIGTRAP, Core),
            (SIGABRT, Core),
            (SIGBUS, Core),
            (SIGFPE, Core),
            (SIGKILL, Term),
            (SIGUSR1, Term),
            (SIGSEGV, Core),
            (SIGUSR2, Term),
            (SIGPIPE, Term),
            (SIGALRM, Term),
            (SIGTERM, Term),
            (SIGSTKFLT, Term),
            (SIGCHLD, Ign),
            (SIGCONT, Cont),
            (SIGSTOP, Stop),
            (SIGTSTP, Stop),
            (SIGTTIN, Stop),
            (SIGTTOU, Stop),
            (SIGURG, Ign),
            (SIGXCPU, Core),
            (SIGXFSZ, Core),
            (SIGVTALRM, Term),
            (SIGPROF, Term),
            (SIGWINCH, Ign),
            (SIGIO, Term),
            (SIGPWR, Term),
            (SIGSYS, Core),
        ];
        for (sig, want) in table {
            assert_eq!(sig_default_action(sig), want, "signal {sig}");
        }
        for sig in SIGRTMIN..=SIGRTMAX {
            assert_eq!(sig_default_action(sig), Term);
            assert!(!sig_kernel_ignore(sig) && !sig_kernel_stop(sig) && !sig_kernel_coredump(sig));
        }
        assert!(sig_kernel_only(SIGKILL) && sig_kernel_only(SIGSTOP) && !sig_kernel_only(SIGTSTP));
        assert!(sig_handler_ignored(SIG_DFL, SIGCHLD));
        assert!(sig_handler_ignored(SIG_IGN, SIGTERM));
        assert!(!sig_handler_ignored(SIG_DFL, SIGTERM));
        assert!(!sig_handler_ignored(0x1000, SIGCHLD));
    }

    #[test]
    fn sigset_helpers() {
        assert_eq!(sigmask(1), 1);
        assert_eq!(sigmask(SIGKILL), 0x100);
        assert_eq!(sigmask(64), 1 << 63);
        assert_eq!(UNBLOCKABLE, 0x100 | 0x40000);
        assert!(valid_signal(0) && valid_signal(64) && !valid_signal(65) && !valid_signal(-1));
    }

    #[test]
    fn delivered_mask() {
        let mut sas = SigAltStack::default();
        let b = signal_delivered(
            sigmask(SIGHUP),
            sigmask(SIGUSR2) | UNBLOCKABLE,
            0,
            SIGUSR1,
            &mut sas,
        );
        assert_eq!(b, sigmask(SIGHUP) | sigmask(SIGUSR2) | sigmask(SIGUSR1));
        let b = signal_delivered(0, 0, SA_NODEFER, SIGUSR1, &mut sas);
        assert_eq!(b, 0);
        // SS_AUTODISARM: the stack is reset once a handler is set up.
        let mut sas = SigAltStack {
            sp: 0x1000,
            size: 0x4000,
            flags: SS_AUTODISARM,
        };
        signal_delivered(0, 0, SA_ONSTACK, SIGUSR1, &mut sas);
        assert_eq!((sas.sp, sas.size, sas.flags), (0, 0, SS_DISABLE as u32));
    }

    #[test]
    fn restart_table() {
        use RestartAction::*;
        let r = |code: i64, flags, h| handle_restart(-code, flags, h);
        // With a handler (handle_signal).
        assert_eq!(r(ERESTART_RESTARTBLOCK, SA_RESTART, true), Eintr);
        assert_eq!(r(ERESTARTNOHAND, SA_RESTART, true), Eintr);
        assert_eq!(r(ERESTARTSYS, 0, true), Eintr);
        assert_eq!(r(ERESTARTSYS, SA_RESTART, true), Restart);
        assert_eq!(r(ERESTARTNOINTR, 0, true), Restart);
        // Without (arch_do_signal_or_restart).
        assert_eq!(r(ERESTARTNOHAND, 0, false), Restart);
        assert_eq!(r(ERESTARTSYS, 0, false), Restart);
        assert_eq!(r(ERESTARTNOINTR, 0, false), Restart);
        assert_eq!(r(ERESTART_RESTARTBLOCK, 0, false), RestartBlock);
        // Other values stand; 515 (ENOIOCTLCMD) is not a restart code.
        for h in [true, false] {
            assert_eq!(r(EINTR as i64, SA_RESTART, h), None);
            assert_eq!(r(515, SA_RESTART, h), None);
            assert_eq!(handle_restart(0, SA_RESTART, h), None);
            assert_eq!(handle_restart(512, SA_RESTART, h), None);
            assert_eq!(handle_restart(i64::MIN, SA_RESTART, h), None);
        }

        let mut regs = Regs {
            pc: 0x1004,
            ..Regs::default()
        };
        regs.x[10] = (-ERESTARTSYS) as u64;
        regs.x[17] = 63;
        let mut r2 = regs.clone();
        Restart.apply(&mut r2, 5);
        assert_eq!((r2.pc, r2.x[10], r2.x[17]), (0x1000, 5, 63));
        let mut r2 = regs.clone();
        RestartBlock.apply(&mut r2, 5);
        assert_eq!((r2.pc, r2.x[10], r2.x[17]), (0x1000, 5, NR_RESTART_SYSCALL));
        let mut r2 = regs.clone();
        Eintr.apply(&mut r2, 5);
        assert_eq!((r2.pc, r2.x[10] as i64), (0x1004, -4));
        let mut r2 = regs.clone();
        None.apply(&mut r2, 5);
        assert_eq!(r2, regs);
    }

    #[test]
    fn stack_t_bytes() {
        let s = StackT {
            ss_sp: 0x1122_3344_5566_7788,
            ss_flags: -2,
            ss_size: 0x99,
        };
        let b = s.to_bytes();
        assert_eq!(b[8..12], (-2i32).to_le_bytes());
        assert_eq!(b[12..16], [0; 4]);
        assert_eq!(StackT::from_bytes(&b), s);
    }

    /// The errnos and results user/sigframe_layout.c saw under qemu-riscv64
    /// (which applies Linux's rules itself), and Linux's SS_AUTODISARM.
    #[test]
    fn sigaltstack_rules() {
        let mut sas = SigAltStack::default();
        let stack = |sp, flags, size| StackT {
            ss_sp: sp,
            ss_flags: flags,
            ss_size: size,
        };
        let sp = 0x7fff_0000;
        // Query only: no stack is reported as SS_DISABLE.
        let old = sas.do_sigaltstack(None, sp, MINSIGSTKSZ).unwrap();
        assert_eq!(old, stack(0, SS_DISABLE, 0));
        // Too small: ENOMEM; the minimum is fine.
        assert_eq!(
            sas.do_sigaltstack(Some(&stack(0x1000, 0, 2047)), sp, MINSIGSTKSZ),
            Err(ENOMEM)
        );
        assert_eq!(sas, SigAltStack::default());
        assert!(sas
            .do_sigaltstack(Some(&stack(0x1000, 0, 2048)), sp, MINSIGSTKSZ)
            .is_ok());
        // Bad mode: EINVAL.
        assert_eq!(
            sas.do_sigaltstack(Some(&stack(0x1000, 4, 4096)), sp, MINSIGSTKSZ),
            Err(EINVAL)
        );
        assert_eq!(
            sas.do_sigaltstack(Some(&stack(0x1000, 3, 4096)), sp, MINSIGSTKSZ),
            Err(EINVAL)
        );
        // SS_ONSTACK as a mode is accepted (old programs pass it).
        assert!(sas
            .do_sigaltstack(Some(&stack(0x1000, SS_ONSTACK, 2048)), sp, MINSIGSTKSZ)
            .is_ok());
        let old = sas.do_sigaltstack(None, sp, MINSIGSTKSZ).unwrap();
        assert_eq!(old, stack(0x1000, 0, 2048));
        // SS_DISABLE ignores the size and clears sp/size.
        assert!(sas
            .do_sigaltstack(Some(&stack(0x1000, SS_DISABLE, 1)), sp, MINSIGSTKSZ)
            .is_ok());
        let old = sas.do_sigaltstack(None, sp, MINSIGSTKSZ).unwrap();
        assert_eq!(old, stack(0, SS_DISABLE, 0));

        // On the stack: reported SS_ONSTACK; changing it is EPERM.
        sas.do_sigaltstack(Some(&stack(0x10000, 0, 0x4000)), sp, MINSIGSTKSZ)
            .unwrap();
        let on = 0x10000 + 0x100;
        assert!(sas.on_sig_stack(on));
        assert!(sas.on_sig_stack(0x14000)); // the top itself (sp - base <= size)
        assert!(!sas.on_sig_stack(0x10000)); // the base is outside
        assert!(!sas.on_sig_stack(0x14001));
        assert_eq!(
            sas.do_sigaltstack(None, on, MINSIGSTKSZ).unwrap().ss_flags,
            SS_ONSTACK
        );
        assert_eq!(
            sas.do_sigaltstack(Some(&stack(0x20000, 0, 0x4000)), on, MINSIGSTKSZ),
            Err(EPERM)
        );
        // sigsp: SA_ONSTACK and not on it: the top; on it already, or no
        // SA_ONSTACK: the sp.
        assert_eq!(sas.sigsp(sp, SA_ONSTACK), 0x14000);
        assert_eq!(sas.sigsp(sp, 0), sp);
        assert_eq!(sas.sigsp(on, SA_ONSTACK), on);
        assert_eq!(sas.save(), stack(0x10000, 0, 0x4000));

        // SS_AUTODISARM: never "on" the stack; reported as a flag bit.
        sas.do_sigaltstack(
            Some(&stack(0x10000, SS_AUTODISARM as i32, 0x4000)),
            sp,
            MINSIGSTKSZ,
        )
        .unwrap();
        assert!(!sas.on_sig_stack(on));
        let old = sas.do_sigaltstack(None, on, MINSIGSTKSZ).unwrap();
        assert_eq!(old.ss_flags as u32, SS_AUTODISARM);
        assert!(sas
            .do_sigaltstack(Some(&stack(0x10000, 0, 0x4000)), on, MINSIGSTKSZ)
            .is_ok());

        // restore (rt_sigreturn) ignores errors.
        let before = sas;
        sas.restore(&stack(0x50000, 0, 10), sp);
        assert_eq!(sas, before);
        sas.restore(&stack(0x50000, 0, 0x8000), sp);
        assert_eq!((sas.sp, sas.size), (0x50000, 0x8000));

        // execve clears the stack and keeps the flags.
        let mut e = SigAltStack {
            sp: 0x1000,
            size: 0x4000,
            flags: SS_AUTODISARM,
        };
        e.exec();
        assert_eq!(e.save(), stack(0, SS_AUTODISARM as i32, 0));
        assert_eq!(e.sas_ss_flags(sp), SS_DISABLE);

        // A CLONE_VM child's reset.
        sas.reset();
        assert_eq!(sas.save(), stack(0, SS_DISABLE, 0));
        assert_eq!(sas.sas_ss_flags(sp), SS_DISABLE);
    }
}
