//! Terminals: the ioctls of Linux's drivers/tty/tty_io.c, tty_ioctl.c and
//! tty_jobctrl.c on the host's terminal: `TCGETS`, `TCSETS`/`TCSETSW`/
//! `TCSETSF`, `TIOCGWINSZ`/`TIOCSWINSZ`, `TIOCGPGRP`/`TIOCSPGRP`, and the
//! job-control check (`tty_check_change`) that stops a background process
//! group touching the terminal.
//!
//! The guest's terminal is the host's (a standard stream that is a
//! terminal, `/dev/tty`, or a host terminal device opened under the
//! root). Its settings and window size are the host terminal's: `TCSETS`
//! and `TIOCSWINSZ` change them on the host (the settings first found are
//! put back when the last process is gone, [`TtyState`]'s drop). Its
//! foreground process group and session are ferrite's ([`TtyState`]):
//! the controlling terminal of the first session that asks for it
//! (init's, in practice), with init's group in the foreground.
//!
//! riscv64 uses the generic `struct termios` (include/uapi/asm-generic/
//! termbits.h): `c_iflag`, `c_oflag`, `c_cflag`, `c_lflag` as 32-bit
//! words, `c_line`, then `c_cc[19]`: 36 bytes, no speed fields (those are
//! in `c_cflag`). The host's termios (glibc's, with a bigger `c_cc` and
//! speed words) is converted field by field; the flag bits and the `c_cc`
//! indices are the same on the Linux hosts ferrite runs on (x86_64 and
//! aarch64 use the generic values), the `c_cc` entries are moved by name.
//!
//! Where ferrite differs: there is no line discipline in ferrite: the
//! host's does the editing, echo and signal characters, so a Ctrl-C the
//! host turns into SIGINT goes to ferrite itself, not to the guest's
//! foreground group; `TIOCSCTTY`/`TIOCNOTTY` are not there (the terminal
//! belongs to the first session that uses it). A background access by
//! an orphaned process group fails with EIO as on Linux (the syscall
//! layer asks `exit::is_current_pgrp_orphaned`).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use crate::errno::{Errno, EBADF, ENOTTY};

use super::fdtable::{lock, Kind, OpenFile};
use super::Fs;

/// `TCSETS`.
pub const TCSETS: u64 = 0x5402;
/// `TCSETSW`: after the output drains.
pub const TCSETSW: u64 = 0x5403;
/// `TCSETSF`: after the output drains, input flushed.
pub const TCSETSF: u64 = 0x5404;
/// `TIOCGPGRP`.
pub const TIOCGPGRP: u64 = 0x540f;
/// `TIOCSPGRP`.
pub const TIOCSPGRP: u64 = 0x5410;
/// `TIOCGWINSZ`.
pub const TIOCGWINSZ: u64 = 0x5413;
/// `TIOCSWINSZ`.
pub const TIOCSWINSZ: u64 = 0x5414;
/// Size of `struct winsize` (four `unsigned short`s, everywhere).
pub const WINSIZE_SIZE: usize = 8;

/// No session has the terminal yet (0 is a session: init's).
const NO_SESSION: i32 = -1;

/// The terminal's job-control state (`tty->ctrl`) and the host settings
/// to put back; shared by every process of a kernel.
pub struct TtyState {
    /// The foreground process group.
    pgrp: AtomicI32,
    /// The session whose controlling terminal it is ([`NO_SESSION`]:
    /// none yet).
    session: AtomicI32,
    /// The host terminal and its settings before the guest first changed
    /// them.
    saved: Mutex<Option<(File, libc::termios)>>,
}

impl Drop for TtyState {
    fn drop(&mut self) {
        let saved = self.saved.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some((f, t)) = saved.take() {
            // SAFETY: `f` is an open descriptor we own; `t` a termios the
            // host gave for it.
            unsafe { libc::tcsetattr(f.as_raw_fd(), libc::TCSANOW, &t) };
        }
    }
}

/// Who asks: the caller's process group and session.
#[derive(Clone, Copy, Debug)]
pub struct TtyCaller {
    /// `task_pgrp(current)`.
    pub pgrp: i32,
    /// `task_session(current)`.
    pub session: i32,
}

/// What `tty_check_change` decided for a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtyAccess {
    /// Go on.
    Ok,
    /// A background group: send it the signal (SIGTTOU/SIGTTIN) unless
    /// the caller ignores or blocks it, then -ERESTARTSYS.
    Background,
}

impl TtyState {
    /// A terminal with no session yet.
    pub fn new() -> Arc<TtyState> {
        Arc::new(TtyState {
            pgrp: AtomicI32::new(0),
            session: AtomicI32::new(NO_SESSION),
            saved: Mutex::new(None),
        })
    }

    /// The terminal is `c`'s controlling terminal: its session's, or, if
    /// no session has it yet, from now on (with `c`'s group in the
    /// foreground).
    fn is_ctty(&self, c: TtyCaller) -> bool {
        let _ = self
            .session
            .compare_exchange(NO_SESSION, c.session, SeqCst, SeqCst)
            .map(|_| self.pgrp.store(c.pgrp, SeqCst));
        self.session.load(SeqCst) == c.session
    }

    /// The foreground group (for tests and /proc).
    pub fn foreground(&self) -> i32 {
        self.pgrp.load(SeqCst)
    }
}

/// Size of riscv64's `struct termios`.
pub const TERMIOS_SIZE: usize = 36;
/// `NCCS` of the generic termios.
const NCCS: usize = 19;

/// The generic `c_cc` indices and the host's for the same character.
const CC_MAP: [(usize, usize); 17] = [
    (0, libc::VINTR),
    (1, libc::VQUIT),
    (2, libc::VERASE),
    (3, libc::VKILL),
    (4, libc::VEOF),
    (5, libc::VTIME),
    (6, libc::VMIN),
    (7, libc::VSWTC),
    (8, libc::VSTART),
    (9, libc::VSTOP),
    (10, libc::VSUSP),
    (11, libc::VEOL),
    (12, libc::VREPRINT),
    (13, libc::VDISCARD),
    (14, libc::VWERASE),
    (15, libc::VLNEXT),
    (16, libc::VEOL2),
];

/// The riscv64 bytes of a host termios.
pub(crate) fn termios_bytes(t: &libc::termios) -> [u8; TERMIOS_SIZE] {
    let mut b = [0u8; TERMIOS_SIZE];
    b[0..4].copy_from_slice(&t.c_iflag.to_le_bytes());
    b[4..8].copy_from_slice(&t.c_oflag.to_le_bytes());
    b[8..12].copy_from_slice(&t.c_cflag.to_le_bytes());
    b[12..16].copy_from_slice(&t.c_lflag.to_le_bytes());
    b[16] = t.c_line;
    for (guest, host) in CC_MAP {
        if guest < NCCS {
            b[17 + guest] = t.c_cc.get(host).copied().unwrap_or(0);
        }
    }
    b
}

/// A riscv64 termios's fields into the host's `t` (its speeds are kept).
pub(crate) fn termios_from_bytes(b: &[u8; TERMIOS_SIZE], t: &mut libc::termios) {
    let word = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    t.c_iflag = word(0);
    t.c_oflag = word(4);
    t.c_cflag = word(8);
    t.c_lflag = word(12);
    t.c_line = b[16];
    for (guest, host) in CC_MAP {
        if guest < NCCS {
            if let Some(c) = t.c_cc.get_mut(host) {
                *c = b[17 + guest];
            }
        }
    }
}

/// The host's termios of `fd`, or ENOTTY if it is not a terminal.
fn host_tcgetattr(fd: &impl AsRawFd) -> Result<libc::termios, Errno> {
    // SAFETY: termios is plain data; all-zero is a valid value.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is an open descriptor we own for the call; `t` is a
    // valid termios the call fills.
    let r = unsafe { libc::tcgetattr(fd.as_raw_fd(), &mut t) };
    if r == 0 {
        Ok(t)
    } else {
        Err(ENOTTY)
    }
}

impl OpenFile {
    /// The host terminal behind this file, if it is one.
    fn host_tty<'a>(&'a self, fs: &'a Fs) -> Option<&'a File> {
        let f: &File = match &self.kind {
            Kind::Stdio { file } => file,
            Kind::Host {
                file,
                regular: false,
                ..
            } => file,
            Kind::Dev(super::dev::DevNode::Chr(super::dev::CharDev::Tty)) => {
                let [i, o, _] = &fs.host.stdio;
                if host_tcgetattr(&**i).is_ok() {
                    i
                } else {
                    o
                }
            }
            _ => return None,
        };
        host_tcgetattr(f).is_ok().then_some(f)
    }
}

/// The host's `ioctl(fd, req, arg)` on a structure.
fn host_ioctl(f: &File, req: libc::Ioctl, arg: *mut u8) -> Result<(), Errno> {
    // SAFETY: `f` is open; `arg` points to a buffer as large as the
    // request's structure (the caller's).
    let r = unsafe { libc::ioctl(f.as_raw_fd(), req, arg) };
    if r < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(ENOTTY))
    } else {
        Ok(())
    }
}

impl Fs {
    /// The terminal of `fd` for a terminal ioctl: EBADF for a bad or
    /// `O_PATH` descriptor, ENOTTY if it is not a terminal.
    fn tty_file(&self, fd: i32) -> Result<(Arc<OpenFile>, File), Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        let host = f
            .host_tty(self)
            .ok_or(ENOTTY)?
            .try_clone()
            .map_err(|_| ENOTTY)?;
        Ok((f, host))
    }

    /// The terminal's job-control state.
    pub fn tty(&self) -> &Arc<TtyState> {
        &self.tty
    }

    /// `tty_check_change` for `fd` (before a change of the terminal or a
    /// read of it): a caller outside the foreground group of its
    /// controlling terminal is a background job. Files that are not the
    /// caller's controlling terminal are always Ok.
    pub fn tty_check_change(&self, fd: i32, c: TtyCaller) -> TtyAccess {
        let Ok(f) = self.file(fd) else {
            return TtyAccess::Ok;
        };
        self.tty_check_file(&f, c)
    }

    fn tty_check_file(&self, f: &OpenFile, c: TtyCaller) -> TtyAccess {
        if f.host_tty(self).is_none() || !self.tty.is_ctty(c) {
            return TtyAccess::Ok;
        }
        // (The group was set when the session took the terminal; 0 is a
        // group too: init's.)
        let fg = self.tty.pgrp.load(SeqCst);
        if fg == c.pgrp {
            TtyAccess::Ok
        } else {
            TtyAccess::Background
        }
    }

    /// [`Fs::tty_check_change`] for a read of an open file.
    pub fn tty_check_read(&self, file: &super::IoFile, c: TtyCaller) -> TtyAccess {
        self.tty_check_file(file.open_file(), c)
    }

    /// `TIOCGPGRP`: the foreground group of the caller's controlling
    /// terminal; ENOTTY for another terminal.
    pub fn tty_getpgrp(&self, fd: i32, c: TtyCaller) -> Result<i32, Errno> {
        self.tty_file(fd)?;
        if !self.tty.is_ctty(c) {
            return Err(ENOTTY);
        }
        Ok(self.tty.pgrp.load(SeqCst))
    }

    /// `TIOCSPGRP` once the group was checked (it exists and is in the
    /// caller's session): ENOTTY unless `fd` is the caller's controlling
    /// terminal.
    pub fn tty_setpgrp(&self, fd: i32, c: TtyCaller, pgrp: i32) -> Result<(), Errno> {
        self.tty_file(fd)?;
        if !self.tty.is_ctty(c) {
            return Err(ENOTTY);
        }
        self.tty.pgrp.store(pgrp, SeqCst);
        Ok(())
    }

    /// `TIOCGWINSZ`: the host terminal's `struct winsize`.
    pub fn tty_get_winsize(&self, fd: i32) -> Result<[u8; WINSIZE_SIZE], Errno> {
        let (_, host) = self.tty_file(fd)?;
        let mut b = [0u8; WINSIZE_SIZE];
        host_ioctl(&host, libc::TIOCGWINSZ, b.as_mut_ptr())?;
        Ok(b)
    }

    /// `TIOCSWINSZ`: the host terminal's window size.
    pub fn tty_set_winsize(&self, fd: i32, ws: [u8; WINSIZE_SIZE]) -> Result<(), Errno> {
        let (_, host) = self.tty_file(fd)?;
        let mut b = ws;
        host_ioctl(&host, libc::TIOCSWINSZ, b.as_mut_ptr())
    }

    /// `TCSETS`, `TCSETSW`, `TCSETSF` (`cmd`): the riscv64 `struct
    /// termios` applied to the host terminal, whose first settings are
    /// kept to be put back at the end.
    pub fn tty_tcsets(&self, fd: i32, cmd: u64, t: &[u8; TERMIOS_SIZE]) -> Result<(), Errno> {
        let (_, host) = self.tty_file(fd)?;
        let mut cur = host_tcgetattr(&host)?;
        {
            let mut saved = lock(&self.tty.saved);
            if saved.is_none() {
                if let Ok(keep) = host.try_clone() {
                    *saved = Some((keep, cur));
                }
            }
        }
        termios_from_bytes(t, &mut cur);
        let how = match cmd {
            TCSETSW => libc::TCSADRAIN,
            TCSETSF => libc::TCSAFLUSH,
            _ => libc::TCSANOW,
        };
        // SAFETY: `host` is open; `cur` is a termios the host filled and
        // we changed field by field.
        let r = unsafe { libc::tcsetattr(host.as_raw_fd(), how, &cur) };
        if r < 0 {
            return Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(ENOTTY));
        }
        Ok(())
    }

    /// `ioctl(fd, TCGETS)`: the terminal's `struct termios` (36 bytes),
    /// ENOTTY if `fd` is not a terminal.
    pub fn ioctl_tcgets(&self, fd: i32) -> Result<[u8; TERMIOS_SIZE], Errno> {
        let f = self.file(fd)?;
        if f.is_path() {
            return Err(EBADF);
        }
        let t = match &f.kind {
            Kind::Stdio { file } => host_tcgetattr(&**file)?,
            Kind::Host {
                file,
                regular: false,
                ..
            } => host_tcgetattr(file)?,
            // /dev/tty is the host's standard streams (dev.rs).
            Kind::Dev(super::dev::DevNode::Chr(super::dev::CharDev::Tty)) => {
                host_tcgetattr(&*self.host.stdio[0])
                    .or_else(|_| host_tcgetattr(&*self.host.stdio[1]))?
            }
            _ => return Err(ENOTTY),
        };
        Ok(termios_bytes(&t))
    }

    /// Whether `fd` is a terminal (`isatty`).
    pub fn isatty(&self, fd: i32) -> bool {
        self.ioctl_tcgets(fd).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn termios_layout() {
        // SAFETY: plain data; all-zero is valid.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        t.c_iflag = 0x0102_0304;
        t.c_oflag = 0x05;
        t.c_cflag = 0xbf;
        t.c_lflag = 0x8a3b;
        t.c_line = 7;
        t.c_cc[libc::VINTR] = 3;
        t.c_cc[libc::VMIN] = 1;
        t.c_cc[libc::VEOL2] = 0x42;
        let b = termios_bytes(&t);
        assert_eq!(b.len(), 36);
        // And back.
        // SAFETY: plain data; all-zero is valid.
        let mut u: libc::termios = unsafe { std::mem::zeroed() };
        termios_from_bytes(&b, &mut u);
        assert_eq!(termios_bytes(&u), b);
        assert_eq!(&b[0..4], &0x0102_0304u32.to_le_bytes());
        assert_eq!(&b[4..8], &5u32.to_le_bytes());
        assert_eq!(&b[8..12], &0xbfu32.to_le_bytes());
        assert_eq!(&b[12..16], &0x8a3bu32.to_le_bytes());
        assert_eq!(b[16], 7, "c_line");
        assert_eq!(b[17], 3, "c_cc[VINTR]");
        assert_eq!(b[17 + 6], 1, "c_cc[VMIN]");
        assert_eq!(b[17 + 16], 0x42, "c_cc[VEOL2]");
        assert_eq!(&b[17 + 17..], &[0, 0], "c_cc[17..19]");
    }
}
