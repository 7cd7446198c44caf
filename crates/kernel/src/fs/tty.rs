//! Terminals: the `TCGETS` ioctl (Linux's drivers/tty/tty_ioctl.c) on the
//! host's terminal.
//!
//! riscv64 uses the generic `struct termios` (include/uapi/asm-generic/
//! termbits.h): `c_iflag`, `c_oflag`, `c_cflag`, `c_lflag` as 32-bit
//! words, `c_line`, then `c_cc[19]`: 36 bytes, no speed fields (those are
//! in `c_cflag`). The host's termios (glibc's, with a bigger `c_cc` and
//! speed words) is converted field by field; the flag bits and the `c_cc`
//! indices are the same on the Linux hosts ferrite runs on (x86_64 and
//! aarch64 use the generic values), the `c_cc` entries are moved by name.
//!
//! Where ferrite differs: the guest sees the host terminal's settings and
//! cannot change them (no TCSETS yet).

use std::os::fd::AsRawFd;

use crate::errno::{Errno, EBADF, ENOTTY};

use super::fdtable::Kind;
use super::Fs;

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

impl Fs {
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
