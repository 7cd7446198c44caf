//! Reaching user memory from the kernel (Linux's include/linux/uaccess.h,
//! lib/strncpy_from_user.c, arch/riscv/lib/uaccess.S) and a simulated user
//! access for tests.
//!
//! Each access walks the page table as the MMU would (a valid user leaf
//! whose R, W or X bit allows it), setting A and D as the hardware does; on
//! a miss it takes the page fault through [`handle_mm_fault`] and retries.
//! The kernel functions turn a fault that cannot be resolved into
//! `EFAULT` (what the exception fixup of `copy_to_user` yields); the
//! simulated access reports the signal ([`FaultError`]).
//!
//! Where ferrite differs: the copy happens page by page under the mm's
//! page-table lock (the kernel has no user mapping of its own to copy
//! through), and on `EFAULT` the bytes before the bad page have been
//! copied, as Linux's partial copies leave them; [`raw_copy_to_user`] and
//! [`raw_copy_from_user`] say how many were not (for short counts).
//! Every store is reported
//! to the machine ([`Mem::set_store_hook`](crate::mem::Mem::set_store_hook)),
//! which drops the instructions its harts decoded from those bytes (Linux
//! needs no such step: user code must `fence.i` itself, but a hart with
//! coherent instruction fetch sees the new bytes).

use crate::fault::{handle_mm_fault, Access, FaultError};
use crate::mmap::MmStruct;
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;
use crate::pgtable::{is_user_addr, TASK_SIZE};

/// `EFAULT`.
pub const EFAULT: i32 = 14;

/// How many times a page is faulted in before the access gives up (the
/// MMU retries the instruction after each fault).
const MAX_TRIES: usize = 3;

/// `access_ok`: `[addr, addr + len)` lies in user space.
pub fn access_ok(addr: usize, len: usize) -> bool {
    is_user_addr(addr) && addr.checked_add(len).is_some_and(|e| e <= TASK_SIZE)
}

/// Run `f(offset, kernel_ptr, n)` over each piece of `[addr, addr + len)`
/// that lies in one page, once the MMU allows `access` to it.
fn for_each_user_chunk(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    addr: usize,
    len: usize,
    access: Access,
    mut f: impl FnMut(usize, *mut u8, usize) -> bool,
) -> Result<(), FaultError> {
    if len == 0 {
        return Ok(());
    }
    if !access_ok(addr, len) {
        return Err(FaultError::MapErr);
    }
    let mem = mm.mem();
    let write = access == Access::Write;
    let mut done = 0;
    while done < len {
        let va = addr + done;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min(len - done);
        let mut tries = 0;
        loop {
            {
                let pg = mm.page_table_lock.lock();
                if let Some(pt) = pg.pt.as_ref() {
                    // One walk for a read or write of a present page (A and
                    // D set on the way); the full walk for anything else
                    // (an exec access, a leaf above the pte level).
                    let fast = match access {
                        Access::Read => pt.set_accessed_dirty(va, false),
                        Access::Write => pt.set_accessed_dirty(va, true),
                        Access::Exec => None,
                    };
                    let hit = fast.or_else(|| {
                        let e = pt.lookup(va)?;
                        let allowed = e.is_valid()
                            && e.is_leaf()
                            && e.is_user()
                            && match access {
                                Access::Read => e.is_read(),
                                Access::Write => e.is_write(),
                                Access::Exec => e.is_exec(),
                            };
                        if allowed && (e.is_read() || write) {
                            pt.set_accessed_dirty(va, write);
                        }
                        allowed.then_some(e)
                    });
                    if let Some(e) = hit {
                        let page = mem
                            .pfn_to_page(e.pfn() as usize)
                            .ok_or(FaultError::Sigbus)?;
                        let base = mem.page_address(page).as_ptr();
                        // SAFETY: within the page the PTE maps, which
                        // stays mapped while the table lock is held.
                        let p = unsafe { base.add(va % PAGE_SIZE) };
                        let more = f(done, p, n);
                        if write {
                            mem.stored(p as usize, n);
                        }
                        if !more {
                            return Ok(());
                        }
                        break;
                    }
                }
            }
            tries += 1;
            if tries > MAX_TRIES {
                return Err(FaultError::AccErr);
            }
            handle_mm_fault(cpu, mm, va, access)?;
        }
        done += n;
    }
    Ok(())
}

/// A simulated user access: a load, store or fetch of `len` bytes at
/// `addr`, with the hardware's checks, faults and A/D updates, moving no
/// data.
pub fn user_access(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    addr: usize,
    len: usize,
    access: Access,
) -> Result<(), FaultError> {
    for_each_user_chunk(cpu, mm, addr, len, access, |_, _, _| true)
}

/// A simulated load of `buf.len()` bytes at `addr` into `buf`.
pub fn user_load(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    addr: usize,
    buf: &mut [u8],
) -> Result<(), FaultError> {
    let len = buf.len();
    for_each_user_chunk(cpu, mm, addr, len, Access::Read, |off, p, n| {
        // SAFETY: `p..p+n` is inside a mapped page (see the walker).
        unsafe { core::ptr::copy_nonoverlapping(p, buf[off..].as_mut_ptr(), n) };
        true
    })
}

/// A simulated store of `data` at `addr`.
pub fn user_store(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    addr: usize,
    data: &[u8],
) -> Result<(), FaultError> {
    for_each_user_chunk(cpu, mm, addr, data.len(), Access::Write, |off, p, n| {
        // SAFETY: `p..p+n` is inside a writable mapped page.
        unsafe { core::ptr::copy_nonoverlapping(data[off..].as_ptr(), p, n) };
        true
    })
}

/// `copy_to_user`: `EFAULT` if any byte cannot be written.
pub fn copy_to_user(cpu: &Cpu<'_>, mm: &MmStruct<'_>, to: usize, from: &[u8]) -> Result<(), i32> {
    user_store(cpu, mm, to, from).map_err(|_| EFAULT)
}

/// `copy_from_user`: `EFAULT` if any byte cannot be read.
pub fn copy_from_user(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    to: &mut [u8],
    from: usize,
) -> Result<(), i32> {
    user_load(cpu, mm, from, to).map_err(|_| EFAULT)
}

/// `raw_copy_to_user`: copy `from` to user memory at `to`, page by page,
/// up to the first page that cannot be written; the number of bytes that
/// could not be copied (0 when all were), as Linux's copy routines return.
pub fn raw_copy_to_user(cpu: &Cpu<'_>, mm: &MmStruct<'_>, to: usize, from: &[u8]) -> usize {
    let mut copied = 0;
    let _ = for_each_user_chunk(cpu, mm, to, from.len(), Access::Write, |off, p, n| {
        // SAFETY: `p..p+n` is inside a writable mapped page.
        unsafe { core::ptr::copy_nonoverlapping(from[off..].as_ptr(), p, n) };
        copied = off + n;
        true
    });
    from.len() - copied
}

/// `raw_copy_from_user`: fill `to` from user memory at `from` up to the
/// first page that cannot be read; the number of bytes not copied.
pub fn raw_copy_from_user(cpu: &Cpu<'_>, mm: &MmStruct<'_>, to: &mut [u8], from: usize) -> usize {
    let len = to.len();
    let mut copied = 0;
    let _ = for_each_user_chunk(cpu, mm, from, len, Access::Read, |off, p, n| {
        // SAFETY: `p..p+n` is inside a readable mapped page.
        unsafe { core::ptr::copy_nonoverlapping(p, to[off..].as_mut_ptr(), n) };
        copied = off + n;
        true
    });
    len - copied
}

/// `clear_user`: zero `len` bytes at `to`.
pub fn clear_user(cpu: &Cpu<'_>, mm: &MmStruct<'_>, to: usize, len: usize) -> Result<(), i32> {
    for_each_user_chunk(cpu, mm, to, len, Access::Write, |_, p, n| {
        // SAFETY: `p..p+n` is inside a writable mapped page.
        unsafe { core::ptr::write_bytes(p, 0, n) };
        true
    })
    .map_err(|_| EFAULT)
}

/// `strncpy_from_user`: copy a NUL-terminated string of at most
/// `dst.len()` bytes from `src`. Returns the string's length (without the
/// NUL, which is copied too), or `dst.len()` when no NUL came within it;
/// `EFAULT` if a byte before the NUL cannot be read. As Linux, the bytes
/// are read a page at a time, never past the page holding the NUL.
pub fn strncpy_from_user(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    dst: &mut [u8],
    src: usize,
) -> Result<usize, i32> {
    let max = dst.len();
    if max == 0 {
        return Ok(0);
    }
    // Only the bytes up to TASK_SIZE may be asked for.
    let max = if is_user_addr(src) {
        max.min(TASK_SIZE - src)
    } else {
        return Err(EFAULT);
    };
    let mut found = None;
    for_each_user_chunk(cpu, mm, src, max, Access::Read, |off, p, n| {
        // SAFETY: `p..p+n` is inside a readable mapped page.
        let bytes = unsafe { core::slice::from_raw_parts(p, n) };
        match bytes.iter().position(|&b| b == 0) {
            Some(i) => {
                dst[off..off + i + 1].copy_from_slice(&bytes[..=i]);
                found = Some(off + i);
                false
            }
            None => {
                dst[off..off + n].copy_from_slice(bytes);
                true
            }
        }
    })
    .map_err(|_| EFAULT)?;
    Ok(found.unwrap_or(dst.len()))
}

/// `futex_atomic_op_inuser` / `futex_atomic_cmpxchg_inatomic`: run `f` on
/// the aligned user word at `addr` as an atomic, with write access (the
/// page is faulted in and made writable first, as a store would). EFAULT
/// if it cannot be written, EINVAL if misaligned. The hart's own atomics
/// on that word act on the same host memory, so the two are atomic with
/// respect to each other.
pub fn futex_atomic_op<R>(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    addr: usize,
    f: impl FnOnce(&core::sync::atomic::AtomicU32) -> R,
) -> Result<R, i32> {
    if addr % 4 != 0 {
        return Err(crate::mmap::errno::EINVAL);
    }
    if !access_ok(addr, 4) {
        return Err(EFAULT);
    }
    let mut f = Some(f);
    let mut out = None;
    for_each_user_chunk(cpu, mm, addr, 4, Access::Write, |_, p, _| {
        // SAFETY: `p` is a 4-byte aligned word inside a writable mapped
        // page, which stays mapped while the walker holds the table lock;
        // AtomicU32 has the alignment and size of u32.
        let a = unsafe { &*(p as *const core::sync::atomic::AtomicU32) };
        if let Some(f) = f.take() {
            out = Some(f(a));
        }
        true
    })
    .map_err(|_| EFAULT)?;
    out.ok_or(EFAULT)
}

/// The physical address behind user `addr` (read access; faulted in):
/// the key of a process-shared futex (`get_futex_key` without
/// `FUTEX_PRIVATE_FLAG`), the same for every mm that maps the page.
pub fn user_phys_addr(cpu: &Cpu<'_>, mm: &MmStruct<'_>, addr: usize) -> Result<usize, i32> {
    if !access_ok(addr, 4) {
        return Err(EFAULT);
    }
    let base = mm.mem().ram_base();
    let mut pa = None;
    for_each_user_chunk(cpu, mm, addr, 4, Access::Read, |_, p, _| {
        pa = Some(p as usize - base);
        false
    })
    .map_err(|_| EFAULT)?;
    pa.ok_or(EFAULT)
}
