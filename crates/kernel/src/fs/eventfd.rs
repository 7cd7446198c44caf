//! eventfd: Linux's fs/eventfd.c (`eventfd2`, `eventfd_read`,
//! `eventfd_write`, `eventfd_poll`).
//!
//! An eventfd is a 64-bit counter. A write of 8 bytes adds their value
//! (`u64::MAX` itself is EINVAL) and sleeps while the sum would pass
//! `u64::MAX - 1`; a read of at least 8 bytes returns the counter and
//! resets it to 0 (with `EFD_SEMAPHORE`: returns 1 and subtracts 1) and
//! sleeps while it is 0. `O_NONBLOCK` turns each sleep into EAGAIN.
//! Readers and writers sleep on the one queue (`ctx->wqh`), as in
//! pipe.rs: queued in TASK_INTERRUPTIBLE under the counter's lock, the
//! call returns `Io::Block` and runs again when woken.
//!
//! Where ferrite differs: the file is not on an anonymous-inode file
//! system of its own; `fstat` shows what Linux's shows (mode 0600 and no
//! file type, the one anonymous inode) with a made-up device and inode
//! number; /proc/PID/fd shows `anon_inode:[eventfd]`.

use std::sync::{Arc, Mutex};

use crate::errno::*;
use crate::sched::wait::{wait_interruptible, WaitQueue};
use crate::task::TaskRef;

use super::fdtable::{lock, Kind};
use super::flags::*;
use super::pipe::Io;
use super::poll::{POLLERR, POLLIN, POLLOUT};
use super::read_write::UserIter;
use super::stat::Stat;
use super::Fs;

/// `EFD_SEMAPHORE`.
pub const EFD_SEMAPHORE: i32 = 1;
/// `EFD_CLOEXEC`.
pub const EFD_CLOEXEC: i32 = O_CLOEXEC;
/// `EFD_NONBLOCK`.
pub const EFD_NONBLOCK: i32 = O_NONBLOCK;
/// The device of the anonymous-inode file system (0:13).
pub const ANON_INODE_DEV: u64 = 13;
/// The inode number of the one anonymous inode.
pub const ANON_INODE_INO: u64 = 1;

/// `struct eventfd_ctx`.
pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    /// Readers and writers wait here (`wqh`).
    pub(crate) wq: Arc<WaitQueue>,
}

impl EventFd {
    /// `eventfd_read`: EINVAL for a buffer under 8 bytes; the value is
    /// taken from the counter even if storing it faults (EFAULT), as
    /// Linux does.
    pub fn read(
        &self,
        nonblock: bool,
        to: &mut dyn UserIter,
        total: usize,
        waiter: Option<&TaskRef>,
    ) -> Result<Io, Errno> {
        if total < 8 {
            return Err(EINVAL);
        }
        let mut c = lock(&self.count);
        if *c == 0 {
            let Some(task) = waiter.filter(|_| !nonblock) else {
                return Err(EAGAIN);
            };
            wait_interruptible(&self.wq, task)?;
            return Ok(Io::Block(0));
        }
        let v = if self.semaphore { 1 } else { *c };
        *c -= v;
        drop(c);
        self.wq.wake_up_all();
        if to.copy_out(&v.to_le_bytes()) < 8 {
            return Err(EFAULT);
        }
        Ok(Io::Done(8))
    }

    /// `eventfd_write`: EINVAL for a buffer under 8 bytes or the value
    /// `u64::MAX`, EFAULT for an unreadable one.
    pub fn write(
        &self,
        nonblock: bool,
        from: &mut dyn UserIter,
        total: usize,
        waiter: Option<&TaskRef>,
    ) -> Result<Io, Errno> {
        if total < 8 {
            return Err(EINVAL);
        }
        let mut b = [0u8; 8];
        if from.copy_in(&mut b) < 8 {
            return Err(EFAULT);
        }
        let v = u64::from_le_bytes(b);
        if v == u64::MAX {
            return Err(EINVAL);
        }
        let mut c = lock(&self.count);
        if u64::MAX - *c > v {
            *c += v;
            drop(c);
            self.wq.wake_up_all();
            return Ok(Io::Done(8));
        }
        let Some(task) = waiter.filter(|_| !nonblock) else {
            return Err(EAGAIN);
        };
        wait_interruptible(&self.wq, task)?;
        Ok(Io::Block(0))
    }

    /// `eventfd_poll`.
    pub(crate) fn poll(&self) -> u32 {
        let c = *lock(&self.count);
        let mut mask = 0;
        if c > 0 {
            mask |= POLLIN;
        }
        if c == u64::MAX {
            mask |= POLLERR;
        }
        if u64::MAX - 1 > c {
            mask |= POLLOUT;
        }
        mask
    }

    /// The counter (for tests and fdinfo).
    pub fn count(&self) -> u64 {
        *lock(&self.count)
    }

    /// `fstat` of an eventfd: the anonymous inode.
    pub(crate) fn stat() -> Stat {
        Stat {
            dev: ANON_INODE_DEV,
            ino: ANON_INODE_INO,
            mode: 0o600,
            nlink: 1,
            blksize: mm::PAGE_SIZE as i32,
            ..Stat::default()
        }
    }
}

impl Fs {
    /// `eventfd2(2)`: a new eventfd with counter `initval`, at the lowest
    /// free descriptor. EINVAL for flags other than `EFD_SEMAPHORE`,
    /// `EFD_CLOEXEC`, `EFD_NONBLOCK`.
    pub fn eventfd2(&self, initval: u32, flags: i32) -> Result<i32, Errno> {
        if flags & !(EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK) != 0 {
            return Err(EINVAL);
        }
        let ctx = EventFd {
            count: Mutex::new(u64::from(initval)),
            semaphore: flags & EFD_SEMAPHORE != 0,
            wq: WaitQueue::new(),
        };
        // `anon_inode_getfile` keeps the access mode and O_NONBLOCK.
        self.anon_inode_getfd(
            Kind::EventFd(Arc::new(ctx)),
            flags,
            flags & EFD_CLOEXEC != 0,
        )
    }
}
