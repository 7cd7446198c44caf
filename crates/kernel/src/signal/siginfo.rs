//! `siginfo_t`: Linux's include/uapi/asm-generic/siginfo.h (the 128-byte
//! user layout and the `si_code` values) and the parts of kernel/signal.c
//! that interpret it (`siginfo_layout`, `known_siginfo_layout`,
//! `copy_siginfo_to_user`, `copy_siginfo_from_user`).
//!
//! [`SigInfo`] is the kernel's `kernel_siginfo_t`: `si_signo`, `si_errno`,
//! `si_code` and the 32 bytes of the `_sifields` union, kept as bytes as
//! Linux keeps them, so a siginfo a user queued with `rt_sigqueueinfo`
//! comes back to `rt_sigtimedwait` or a handler byte for byte. The union
//! is built from and read as a [`SigFields`] variant; which variant a
//! (signal, code) pair means is [`siginfo_layout`]'s answer.
//!
//! The offsets (checked in the tests) are those user/sigframe_layout.c
//! prints for riscv64 glibc's `siginfo_t`: the union starts at 16
//! (after three ints and the padding that aligns it to 8); riscv has no
//! `si_trapno`.

use crate::errno::{Errno, E2BIG};

use super::{SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGPOLL, SIGSEGV, SIGSYS, SIGTRAP};

/// `SI_MAX_SIZE`: `sizeof(siginfo_t)` in user memory.
pub const SI_MAX_SIZE: usize = 128;
/// Where the `_sifields` union starts (`si_pid`, `si_addr`, ...).
pub const SIFIELDS_OFFSET: usize = 16;
/// The size of the union in `kernel_siginfo_t` (64-bit): the part of a
/// siginfo the kernel keeps.
pub const SIFIELDS_SIZE: usize = 32;
/// `sizeof(kernel_siginfo_t)`; the rest of the 128 bytes is
/// `SI_EXPANSION_SIZE`, always zero.
pub const KERNEL_SIGINFO_SIZE: usize = SIFIELDS_OFFSET + SIFIELDS_SIZE;

// si_code values for every signal (the sender).
/// Sent by kill, sigsend, raise.
pub const SI_USER: i32 = 0;
/// Sent by the kernel from somewhere.
pub const SI_KERNEL: i32 = 0x80;
/// Sent by sigqueue.
pub const SI_QUEUE: i32 = -1;
/// Sent by timer expiration.
pub const SI_TIMER: i32 = -2;
/// Sent by real time mesq state change.
pub const SI_MESGQ: i32 = -3;
/// Sent by AIO completion.
pub const SI_ASYNCIO: i32 = -4;
/// Sent by queued SIGIO.
pub const SI_SIGIO: i32 = -5;
/// Sent by tkill/tgkill.
pub const SI_TKILL: i32 = -6;
/// Sent by execve() killing subsidiary threads.
pub const SI_DETHREAD: i32 = -7;
/// Sent by glibc async name lookup completion.
pub const SI_ASYNCNL: i32 = -60;

/// SIGILL: illegal opcode.
pub const ILL_ILLOPC: i32 = 1;
/// SIGILL: illegal operand.
pub const ILL_ILLOPN: i32 = 2;
/// SIGILL: illegal addressing mode.
pub const ILL_ILLADR: i32 = 3;
/// SIGILL: illegal trap.
pub const ILL_ILLTRP: i32 = 4;
/// SIGILL: privileged opcode.
pub const ILL_PRVOPC: i32 = 5;
/// SIGILL: privileged register.
pub const ILL_PRVREG: i32 = 6;
/// SIGILL: coprocessor error.
pub const ILL_COPROC: i32 = 7;
/// SIGILL: internal stack error.
pub const ILL_BADSTK: i32 = 8;
/// SIGILL: unimplemented instruction address.
pub const ILL_BADIADDR: i32 = 9;
/// The number of SIGILL codes.
pub const NSIGILL: i32 = 11;

/// SIGFPE: integer divide by zero.
pub const FPE_INTDIV: i32 = 1;
/// SIGFPE: integer overflow.
pub const FPE_INTOVF: i32 = 2;
/// SIGFPE: floating point divide by zero.
pub const FPE_FLTDIV: i32 = 3;
/// SIGFPE: floating point overflow.
pub const FPE_FLTOVF: i32 = 4;
/// SIGFPE: floating point underflow.
pub const FPE_FLTUND: i32 = 5;
/// SIGFPE: floating point inexact result.
pub const FPE_FLTRES: i32 = 6;
/// SIGFPE: floating point invalid operation.
pub const FPE_FLTINV: i32 = 7;
/// SIGFPE: subscript out of range.
pub const FPE_FLTSUB: i32 = 8;
/// SIGFPE: undiagnosed floating-point exception.
pub const FPE_FLTUNK: i32 = 14;
/// SIGFPE: trap on condition.
pub const FPE_CONDTRAP: i32 = 15;
/// The number of SIGFPE codes.
pub const NSIGFPE: i32 = 15;

/// SIGSEGV: address not mapped to object.
pub const SEGV_MAPERR: i32 = 1;
/// SIGSEGV: invalid permissions for mapped object.
pub const SEGV_ACCERR: i32 = 2;
/// SIGSEGV: failed address bound checks.
pub const SEGV_BNDERR: i32 = 3;
/// SIGSEGV: failed protection key checks.
pub const SEGV_PKUERR: i32 = 4;
/// SIGSEGV: control protection (shadow stack) fault (Linux 6.10).
pub const SEGV_CPERR: i32 = 10;
/// The number of SIGSEGV codes (Linux 6.10 and later).
pub const NSIGSEGV: i32 = 10;

/// SIGBUS: invalid address alignment.
pub const BUS_ADRALN: i32 = 1;
/// SIGBUS: non-existent physical address.
pub const BUS_ADRERR: i32 = 2;
/// SIGBUS: object specific hardware error.
pub const BUS_OBJERR: i32 = 3;
/// SIGBUS: hardware memory error consumed on a machine check.
pub const BUS_MCEERR_AR: i32 = 4;
/// SIGBUS: hardware memory error detected in process but not consumed.
pub const BUS_MCEERR_AO: i32 = 5;
/// The number of SIGBUS codes.
pub const NSIGBUS: i32 = 5;

/// SIGTRAP: process breakpoint.
pub const TRAP_BRKPT: i32 = 1;
/// SIGTRAP: process trace trap.
pub const TRAP_TRACE: i32 = 2;
/// SIGTRAP: process taken branch trap.
pub const TRAP_BRANCH: i32 = 3;
/// SIGTRAP: hardware breakpoint/watchpoint.
pub const TRAP_HWBKPT: i32 = 4;
/// SIGTRAP: undiagnosed trap.
pub const TRAP_UNK: i32 = 5;
/// SIGTRAP: perf event with sigtrap=1.
pub const TRAP_PERF: i32 = 6;
/// The number of SIGTRAP codes.
pub const NSIGTRAP: i32 = 6;

/// SIGCHLD: child has exited.
pub const CLD_EXITED: i32 = 1;
/// SIGCHLD: child was killed.
pub const CLD_KILLED: i32 = 2;
/// SIGCHLD: child terminated abnormally (dumped core).
pub const CLD_DUMPED: i32 = 3;
/// SIGCHLD: traced child has trapped.
pub const CLD_TRAPPED: i32 = 4;
/// SIGCHLD: child has stopped.
pub const CLD_STOPPED: i32 = 5;
/// SIGCHLD: stopped child has continued.
pub const CLD_CONTINUED: i32 = 6;
/// The number of SIGCHLD codes.
pub const NSIGCHLD: i32 = 6;

/// SIGPOLL: data input available.
pub const POLL_IN: i32 = 1;
/// SIGPOLL: output buffers available.
pub const POLL_OUT: i32 = 2;
/// SIGPOLL: input message available.
pub const POLL_MSG: i32 = 3;
/// SIGPOLL: i/o error.
pub const POLL_ERR: i32 = 4;
/// SIGPOLL: high priority input available.
pub const POLL_PRI: i32 = 5;
/// SIGPOLL: device disconnected.
pub const POLL_HUP: i32 = 6;
/// The number of SIGPOLL codes.
pub const NSIGPOLL: i32 = 6;

/// SIGSYS: seccomp triggered.
pub const SYS_SECCOMP: i32 = 1;
/// SIGSYS: syscall user dispatch triggered.
pub const SYS_USER_DISPATCH: i32 = 2;
/// The number of SIGSYS codes.
pub const NSIGSYS: i32 = 2;

/// Linux's `enum siginfo_layout`: which member of the union a (signal,
/// code) pair fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigInfoLayout {
    /// `_kill`: pid, uid.
    Kill,
    /// `_timer`: tid, overrun, sigval.
    Timer,
    /// `_sigpoll`: band, fd.
    Poll,
    /// `_sigfault`: addr.
    Fault,
    /// `_sigfault` with `_addr_lsb` (SIGBUS machine-check codes).
    FaultMceerr,
    /// `_sigfault` with `_addr_bnd` (SEGV_BNDERR).
    FaultBnderr,
    /// `_sigfault` with `_addr_pkey` (SEGV_PKUERR).
    FaultPkuerr,
    /// `_sigfault` with `_perf` (TRAP_PERF).
    FaultPerfEvent,
    /// `_sigchld`: pid, uid, status, utime, stime.
    Chld,
    /// `_rt`: pid, uid, sigval.
    Rt,
    /// `_sigsys`: call_addr, syscall, arch.
    Sys,
}

/// The signals whose positive codes are their own (`sig_specific_sicodes`),
/// with the highest code and the layout (`sig_sicodes[]`).
fn sig_sicodes(sig: i32) -> Option<(i32, SigInfoLayout)> {
    use SigInfoLayout::*;
    Some(match sig {
        SIGILL => (NSIGILL, Fault),
        SIGFPE => (NSIGFPE, Fault),
        SIGSEGV => (NSIGSEGV, Fault),
        SIGBUS => (NSIGBUS, Fault),
        SIGTRAP => (NSIGTRAP, Fault),
        SIGCHLD => (NSIGCHLD, Chld),
        SIGPOLL => (NSIGPOLL, Poll),
        SIGSYS => (NSIGSYS, Sys),
        _ => return None,
    })
}

/// `siginfo_layout`: the union member a siginfo of `sig` with `code` uses.
pub fn siginfo_layout(sig: i32, code: i32) -> SigInfoLayout {
    use SigInfoLayout::*;
    if code > SI_USER && code < SI_KERNEL {
        match sig_sicodes(sig) {
            Some((limit, layout)) if code <= limit => {
                if sig == SIGBUS && (BUS_MCEERR_AR..=BUS_MCEERR_AO).contains(&code) {
                    FaultMceerr
                } else if sig == SIGSEGV && code == SEGV_BNDERR {
                    FaultBnderr
                } else if sig == SIGSEGV && code == SEGV_PKUERR {
                    FaultPkuerr
                } else if sig == SIGTRAP && code == TRAP_PERF {
                    FaultPerfEvent
                } else {
                    layout
                }
            }
            _ if code <= NSIGPOLL => Poll,
            _ => Kill,
        }
    } else if code == SI_TIMER {
        Timer
    } else if code == SI_SIGIO {
        Poll
    } else if code < 0 {
        Rt
    } else {
        Kill
    }
}

/// `known_siginfo_layout`: whether the kernel knows what a (signal, code)
/// pair's union holds (if not, a siginfo from user space must have a zero
/// tail, since only the first 48 bytes are kept).
pub fn known_siginfo_layout(sig: i32, code: i32) -> bool {
    if code == SI_KERNEL {
        true
    } else if code > SI_USER {
        match sig_sicodes(sig) {
            Some((limit, _)) => code <= limit,
            None => code <= NSIGPOLL,
        }
    } else {
        code >= SI_DETHREAD || code == SI_ASYNCNL
    }
}

/// A typed view of the `_sifields` union.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigFields {
    /// `_kill` (kill, tkill, SI_USER/SI_KERNEL/SI_TKILL).
    Kill {
        /// `si_pid`.
        pid: i32,
        /// `si_uid`.
        uid: u32,
    },
    /// `_timer` (POSIX timers, SI_TIMER).
    Timer {
        /// `si_timerid`.
        tid: i32,
        /// `si_overrun`.
        overrun: i32,
        /// `si_value` (`sigval_t`).
        value: u64,
        /// `_sys_private`: kernel-internal, cleared before user space sees
        /// it.
        sys_private: i32,
    },
    /// `_rt` (sigqueue, mq_notify, SI_QUEUE and other negative codes).
    Rt {
        /// `si_pid`.
        pid: i32,
        /// `si_uid`.
        uid: u32,
        /// `si_value` (`sigval_t`).
        value: u64,
    },
    /// `_sigchld`.
    Chld {
        /// `si_pid`.
        pid: i32,
        /// `si_uid`.
        uid: u32,
        /// `si_status`: the exit code or the signal.
        status: i32,
        /// `si_utime` (clock ticks).
        utime: i64,
        /// `si_stime` (clock ticks).
        stime: i64,
    },
    /// `_sigfault` (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP).
    Fault {
        /// `si_addr`.
        addr: u64,
    },
    /// `_sigpoll`.
    Poll {
        /// `si_band`.
        band: i64,
        /// `si_fd`.
        fd: i32,
    },
    /// `_sigsys` (seccomp).
    Sys {
        /// `si_call_addr`.
        call_addr: u64,
        /// `si_syscall`.
        syscall: i32,
        /// `si_arch` (`AUDIT_ARCH_*`).
        arch: u32,
    },
}

/// `kernel_siginfo_t`: what the kernel keeps of a `siginfo_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    /// `si_signo`.
    pub signo: i32,
    /// `si_errno`.
    pub errno: i32,
    /// `si_code`.
    pub code: i32,
    /// `_sifields`, as bytes (little-endian, offsets from
    /// [`SIFIELDS_OFFSET`]).
    pub sifields: [u8; SIFIELDS_SIZE],
}

fn put<const N: usize>(b: &mut [u8], off: usize, v: [u8; N]) {
    b[off..off + N].copy_from_slice(&v);
}

fn get<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut v = [0u8; N];
    v.copy_from_slice(&b[off..off + N]);
    v
}

impl SigInfo {
    /// A siginfo with `fields` in the union (`clear_siginfo` then the
    /// members).
    pub fn new(signo: i32, errno: i32, code: i32, fields: SigFields) -> SigInfo {
        let mut u = [0u8; SIFIELDS_SIZE];
        match fields {
            SigFields::Kill { pid, uid } => {
                put(&mut u, 0, pid.to_le_bytes());
                put(&mut u, 4, uid.to_le_bytes());
            }
            SigFields::Timer {
                tid,
                overrun,
                value,
                sys_private,
            } => {
                put(&mut u, 0, tid.to_le_bytes());
                put(&mut u, 4, overrun.to_le_bytes());
                put(&mut u, 8, value.to_le_bytes());
                put(&mut u, 16, sys_private.to_le_bytes());
            }
            SigFields::Rt { pid, uid, value } => {
                put(&mut u, 0, pid.to_le_bytes());
                put(&mut u, 4, uid.to_le_bytes());
                put(&mut u, 8, value.to_le_bytes());
            }
            SigFields::Chld {
                pid,
                uid,
                status,
                utime,
                stime,
            } => {
                put(&mut u, 0, pid.to_le_bytes());
                put(&mut u, 4, uid.to_le_bytes());
                put(&mut u, 8, status.to_le_bytes());
                put(&mut u, 16, utime.to_le_bytes());
                put(&mut u, 24, stime.to_le_bytes());
            }
            SigFields::Fault { addr } => put(&mut u, 0, addr.to_le_bytes()),
            SigFields::Poll { band, fd } => {
                put(&mut u, 0, band.to_le_bytes());
                put(&mut u, 8, fd.to_le_bytes());
            }
            SigFields::Sys {
                call_addr,
                syscall,
                arch,
            } => {
                put(&mut u, 0, call_addr.to_le_bytes());
                put(&mut u, 8, syscall.to_le_bytes());
                put(&mut u, 12, arch.to_le_bytes());
            }
        }
        SigInfo {
            signo,
            errno,
            code,
            sifields: u,
        }
    }

    /// kill(2)'s siginfo: SI_USER from `pid`/`uid` (`prepare_kill_siginfo`).
    pub fn user(sig: i32, pid: i32, uid: u32) -> SigInfo {
        SigInfo::new(sig, 0, SI_USER, SigFields::Kill { pid, uid })
    }

    /// tkill/tgkill's siginfo: SI_TKILL from `pid`/`uid`.
    pub fn tkill(sig: i32, pid: i32, uid: u32) -> SigInfo {
        SigInfo::new(sig, 0, SI_TKILL, SigFields::Kill { pid, uid })
    }

    /// A signal from the kernel itself (`SEND_SIG_PRIV`): SI_KERNEL, pid
    /// and uid 0.
    pub fn kernel(sig: i32) -> SigInfo {
        SigInfo::new(sig, 0, SI_KERNEL, SigFields::Kill { pid: 0, uid: 0 })
    }

    /// The siginfo of a signal that was pending without a queue entry
    /// (`collect_signal`'s fallback): SI_USER, pid and uid 0.
    pub fn lost(sig: i32) -> SigInfo {
        SigInfo::user(sig, 0, 0)
    }

    /// A fault (`force_sig_fault`): `code` (SEGV_MAPERR, BUS_ADRALN, ...)
    /// and the faulting address.
    pub fn fault(sig: i32, code: i32, addr: u64) -> SigInfo {
        SigInfo::new(sig, 0, code, SigFields::Fault { addr })
    }

    /// A queued signal with a value (sigqueue's SI_QUEUE, or another
    /// negative code).
    pub fn rt(sig: i32, code: i32, pid: i32, uid: u32, value: u64) -> SigInfo {
        SigInfo::new(sig, 0, code, SigFields::Rt { pid, uid, value })
    }

    /// SIGCHLD to a parent (`do_notify_parent`,
    /// `do_notify_parent_cldstop`).
    pub fn chld(code: i32, pid: i32, uid: u32, status: i32, utime: i64, stime: i64) -> SigInfo {
        SigInfo::new(
            SIGCHLD,
            0,
            code,
            SigFields::Chld {
                pid,
                uid,
                status,
                utime,
                stime,
            },
        )
    }

    /// A POSIX timer's expiry (SI_TIMER).
    pub fn timer(sig: i32, tid: i32, overrun: i32, value: u64) -> SigInfo {
        SigInfo::new(
            sig,
            0,
            SI_TIMER,
            SigFields::Timer {
                tid,
                overrun,
                value,
                sys_private: 0,
            },
        )
    }

    /// The layout of this siginfo's union.
    pub fn layout(&self) -> SigInfoLayout {
        siginfo_layout(self.signo, self.code)
    }

    /// The union read as its layout says.
    pub fn fields(&self) -> SigFields {
        let u = &self.sifields;
        let i32_at = |o| i32::from_le_bytes(get(u, o));
        let u32_at = |o| u32::from_le_bytes(get(u, o));
        let u64_at = |o| u64::from_le_bytes(get(u, o));
        let i64_at = |o| i64::from_le_bytes(get(u, o));
        match self.layout() {
            SigInfoLayout::Kill => SigFields::Kill {
                pid: i32_at(0),
                uid: u32_at(4),
            },
            SigInfoLayout::Timer => SigFields::Timer {
                tid: i32_at(0),
                overrun: i32_at(4),
                value: u64_at(8),
                sys_private: i32_at(16),
            },
            SigInfoLayout::Rt => SigFields::Rt {
                pid: i32_at(0),
                uid: u32_at(4),
                value: u64_at(8),
            },
            SigInfoLayout::Chld => SigFields::Chld {
                pid: i32_at(0),
                uid: u32_at(4),
                status: i32_at(8),
                utime: i64_at(16),
                stime: i64_at(24),
            },
            SigInfoLayout::Fault
            | SigInfoLayout::FaultMceerr
            | SigInfoLayout::FaultBnderr
            | SigInfoLayout::FaultPkuerr
            | SigInfoLayout::FaultPerfEvent => SigFields::Fault { addr: u64_at(0) },
            SigInfoLayout::Poll => SigFields::Poll {
                band: i64_at(0),
                fd: i32_at(8),
            },
            SigInfoLayout::Sys => SigFields::Sys {
                call_addr: u64_at(0),
                syscall: i32_at(8),
                arch: u32_at(12),
            },
        }
    }

    /// The sender's pid for the layouts that carry one (kill, rt, chld).
    pub fn pid(&self) -> Option<i32> {
        match self.fields() {
            SigFields::Kill { pid, .. }
            | SigFields::Rt { pid, .. }
            | SigFields::Chld { pid, .. } => Some(pid),
            _ => None,
        }
    }

    /// `copy_siginfo_to_user`: the 128 bytes user space sees (the kept 48,
    /// then zeros).
    pub fn to_user(&self) -> [u8; SI_MAX_SIZE] {
        let mut b = [0u8; SI_MAX_SIZE];
        put(&mut b, 0, self.signo.to_le_bytes());
        put(&mut b, 4, self.errno.to_le_bytes());
        put(&mut b, 8, self.code.to_le_bytes());
        b[SIFIELDS_OFFSET..KERNEL_SIGINFO_SIZE].copy_from_slice(&self.sifields);
        b
    }

    /// `copy_siginfo_from_user` on bytes already read: the first 48 bytes;
    /// E2BIG when the (signal, code) pair's layout is unknown and the rest
    /// is not all zero (it could not be given back exactly).
    pub fn from_user(b: &[u8; SI_MAX_SIZE]) -> Result<SigInfo, Errno> {
        let info = SigInfo {
            signo: i32::from_le_bytes(get(b, 0)),
            errno: i32::from_le_bytes(get(b, 4)),
            code: i32::from_le_bytes(get(b, 8)),
            sifields: get(b, SIFIELDS_OFFSET),
        };
        if !known_siginfo_layout(info.signo, info.code)
            && b[KERNEL_SIGINFO_SIZE..].iter().any(|&x| x != 0)
        {
            return Err(E2BIG);
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{SIGALRM, SIGIO, SIGRTMIN, SIGUSR1};

    fn at_i32(b: &[u8], o: usize) -> i32 {
        i32::from_le_bytes(b[o..o + 4].try_into().unwrap())
    }
    fn at_u64(b: &[u8], o: usize) -> u64 {
        u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
    }

    /// The numbers user/sigframe_layout.c printed under qemu-riscv64
    /// (riscv64 glibc 2.36's `siginfo_t`).
    #[test]
    fn layout_matches_glibc() {
        assert_eq!(SI_MAX_SIZE, 128);
        // si_signo 0, si_errno 4, si_code 8; the union at 16.
        assert_eq!(SIFIELDS_OFFSET, 16);
        let b = SigInfo::chld(CLD_EXITED, 0x1111, 0x2222, 0x3333, 0x4444, 0x5555).to_user();
        assert_eq!(at_i32(&b, 0), SIGCHLD);
        assert_eq!(at_i32(&b, 4), 0);
        assert_eq!(at_i32(&b, 8), CLD_EXITED);
        assert_eq!(at_i32(&b, 16), 0x1111); // si_pid 16
        assert_eq!(at_i32(&b, 20), 0x2222); // si_uid 20
        assert_eq!(at_i32(&b, 24), 0x3333); // si_status 24
        assert_eq!(at_u64(&b, 32), 0x4444); // si_utime 32
        assert_eq!(at_u64(&b, 40), 0x5555); // si_stime 40

        let b = SigInfo::rt(SIGRTMIN, SI_QUEUE, 7, 8, 0xdead_beef_0000_0001).to_user();
        assert_eq!(at_i32(&b, 8), -1);
        assert_eq!(at_u64(&b, 24), 0xdead_beef_0000_0001); // si_value 24

        let b = SigInfo::timer(SIGALRM, 3, 9, 0x77).to_user();
        assert_eq!(at_i32(&b, 16), 3); // si_timerid 16
        assert_eq!(at_i32(&b, 20), 9); // si_overrun 20
        assert_eq!(at_u64(&b, 24), 0x77);

        let b = SigInfo::fault(SIGSEGV, SEGV_MAPERR, 0xffff_0000_1234).to_user();
        assert_eq!(at_u64(&b, 16), 0xffff_0000_1234); // si_addr 16

        let b = SigInfo::new(SIGIO, 0, POLL_IN, SigFields::Poll { band: -5, fd: 42 }).to_user();
        assert_eq!(at_u64(&b, 16), (-5i64) as u64); // si_band 16
        assert_eq!(at_i32(&b, 24), 42); // si_fd 24

        let b = SigInfo::new(
            SIGSYS,
            0,
            SYS_SECCOMP,
            SigFields::Sys {
                call_addr: 0x1000,
                syscall: 63,
                arch: 0xc000_00f3,
            },
        )
        .to_user();
        assert_eq!(at_u64(&b, 16), 0x1000); // si_call_addr 16
        assert_eq!(at_i32(&b, 24), 63); // si_syscall 24
        assert_eq!(at_i32(&b, 28) as u32, 0xc000_00f3); // si_arch 28
        assert!(b[KERNEL_SIGINFO_SIZE..].iter().all(|&x| x == 0));
    }

    #[test]
    fn codes_match_glibc() {
        // As printed by user/sigframe_layout.c.
        assert_eq!(
            [
                SI_USER, SI_KERNEL, SI_QUEUE, SI_TIMER, SI_MESGQ, SI_ASYNCIO, SI_SIGIO, SI_TKILL,
                SI_ASYNCNL
            ],
            [0, 128, -1, -2, -3, -4, -5, -6, -60]
        );
        assert_eq!([SEGV_MAPERR, SEGV_ACCERR], [1, 2]);
        assert_eq!([BUS_ADRALN, BUS_ADRERR, BUS_OBJERR], [1, 2, 3]);
        assert_eq!([ILL_ILLOPC, ILL_ILLTRP, FPE_INTDIV], [1, 4, 1]);
        assert_eq!([TRAP_BRKPT, TRAP_TRACE], [1, 2]);
        assert_eq!(
            [
                CLD_EXITED,
                CLD_KILLED,
                CLD_DUMPED,
                CLD_TRAPPED,
                CLD_STOPPED,
                CLD_CONTINUED
            ],
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(POLL_IN, 1);
    }

    #[test]
    fn layouts() {
        use SigInfoLayout::*;
        assert_eq!(siginfo_layout(SIGUSR1, SI_USER), Kill);
        assert_eq!(siginfo_layout(SIGUSR1, SI_TKILL), Rt);
        assert_eq!(siginfo_layout(SIGUSR1, SI_QUEUE), Rt);
        assert_eq!(siginfo_layout(SIGUSR1, SI_KERNEL), Kill);
        assert_eq!(siginfo_layout(SIGALRM, SI_TIMER), Timer);
        assert_eq!(siginfo_layout(SIGIO, SI_SIGIO), Poll);
        assert_eq!(siginfo_layout(SIGSEGV, SEGV_MAPERR), Fault);
        assert_eq!(siginfo_layout(SIGSEGV, SEGV_BNDERR), FaultBnderr);
        assert_eq!(siginfo_layout(SIGSEGV, SEGV_PKUERR), FaultPkuerr);
        assert_eq!(siginfo_layout(SIGBUS, BUS_MCEERR_AR), FaultMceerr);
        assert_eq!(siginfo_layout(SIGTRAP, TRAP_PERF), FaultPerfEvent);
        assert_eq!(siginfo_layout(SIGCHLD, CLD_STOPPED), Chld);
        assert_eq!(siginfo_layout(SIGSYS, SYS_SECCOMP), Sys);
        // A positive code beyond the signal's own: generic.
        assert_eq!(siginfo_layout(SIGSEGV, 50), Kill);
        // A positive code for a signal without its own codes: SIGPOLL's.
        assert_eq!(siginfo_layout(SIGUSR1, POLL_HUP), Poll);
        assert_eq!(siginfo_layout(SIGUSR1, 7), Kill);

        assert!(known_siginfo_layout(SIGUSR1, SI_KERNEL));
        assert!(known_siginfo_layout(SIGUSR1, SI_DETHREAD));
        assert!(known_siginfo_layout(SIGUSR1, SI_ASYNCNL));
        assert!(!known_siginfo_layout(SIGUSR1, -8));
        assert!(!known_siginfo_layout(SIGSEGV, 11));
        assert!(known_siginfo_layout(SIGSEGV, 10));
    }

    #[test]
    fn fields_round_trip() {
        let cases = [
            SigInfo::user(SIGUSR1, 5, 1000),
            SigInfo::tkill(SIGUSR1, 5, 1000),
            SigInfo::kernel(SIGUSR1),
            SigInfo::fault(SIGBUS, BUS_ADRALN, 0x1001),
            SigInfo::rt(SIGRTMIN + 3, SI_QUEUE, 9, 0, u64::MAX),
            SigInfo::chld(CLD_KILLED, 12, 0, 9, 1, 2),
            SigInfo::timer(SIGALRM, 1, 0, 5),
        ];
        for c in cases {
            let back = SigInfo::from_user(&c.to_user()).unwrap();
            assert_eq!(back, c);
            assert_eq!(SigInfo::new(c.signo, c.errno, c.code, c.fields()), c);
        }
        // SI_TKILL reads as the rt layout: pid/uid as written, value 0.
        assert_eq!(
            SigInfo::tkill(SIGUSR1, 5, 1000).fields(),
            SigFields::Rt {
                pid: 5,
                uid: 1000,
                value: 0
            }
        );
        assert_eq!(SigInfo::user(SIGUSR1, 5, 1).pid(), Some(5));
        assert_eq!(SigInfo::fault(SIGSEGV, SEGV_ACCERR, 1).pid(), None);
    }

    #[test]
    fn from_user_keeps_bytes_and_checks_the_tail() {
        let mut b = [0u8; SI_MAX_SIZE];
        b[0] = SIGUSR1 as u8;
        b[8..12].copy_from_slice(&SI_QUEUE.to_le_bytes());
        for (i, x) in b[16..48].iter_mut().enumerate() {
            *x = i as u8 + 1;
        }
        let info = SigInfo::from_user(&b).unwrap();
        assert_eq!(info.to_user(), b);
        // A known layout: the tail is dropped (Linux copies 48 bytes).
        b[100] = 1;
        assert_eq!(SigInfo::from_user(&b).unwrap().to_user()[100], 0);
        // An unknown one: the tail must be zero.
        b[8..12].copy_from_slice(&(-8i32).to_le_bytes());
        assert_eq!(SigInfo::from_user(&b), Err(E2BIG));
        b[100] = 0;
        assert!(SigInfo::from_user(&b).is_ok());
    }
}
