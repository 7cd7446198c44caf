//! The memory syscalls: mm/mmap.c (`sys_brk`, `ksys_mmap_pgoff`,
//! `sys_munmap`), mm/mprotect.c, mm/mremap.c, mm/madvise.c, mm/msync.c,
//! mm/mlock.c and arch/riscv/kernel/sys_riscv.c's `sys_mmap` (the offset is
//! in bytes and must be page aligned). The work is the `mm` crate's; these
//! are the entry points that turn registers into its calls.

use mm::filemap::File;

use crate::fs::MmapSource;

use super::{Sys, SysResult};
use crate::errno::EINVAL;

/// `MAP_ANONYMOUS`.
const MAP_ANONYMOUS: u64 = 0x20;

/// `brk(2)`: the new break, or the old one when the request fails (the raw
/// call never returns an error).
pub fn sys_brk(s: &mut Sys<'_>, brk: u64) -> SysResult {
    Ok(s.mm().brk(s.cpu, brk as usize) as u64)
}

/// `mmap(2)`.
pub fn sys_mmap(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [addr, len, prot, flags, fd, off] = a;
    if off & 0xfff != 0 {
        return Err(EINVAL);
    }
    let pgoff = (off >> 12) as usize;
    let mm = s.mm();
    let (addr, len, prot, flags_u) = (addr as usize, len as usize, prot as usize, flags as usize);
    if flags & MAP_ANONYMOUS != 0 {
        return mm
            .do_mmap(s.cpu, addr, len, prot, flags_u)
            .map(|a| a as u64);
    }
    s.fs.flush_delayed_fput(s.cpu);
    let f = match s.fs.mmap_source(fd as i32, prot, flags_u)? {
        MmapSource::File(f) => f,
        // `mmap_zero`: anonymous memory, shared (a shmem object) or
        // private as the flags say.
        MmapSource::Zero => {
            return mm
                .do_mmap(s.cpu, addr, len, prot, flags_u | MAP_ANONYMOUS as usize)
                .map(|a| a as u64)
        }
    };
    let file = File::open(f.mapping, f.f_mode);
    let r = mm.do_mmap_file(s.cpu, addr, len, prot, flags_u, Some(&file), pgoff);
    // The new VMAs hold their own references (`fput` after `do_mmap`).
    f.put(s.cpu);
    r.map(|a| a as u64)
}

/// `munmap(2)`.
pub fn sys_munmap(s: &mut Sys<'_>, addr: u64, len: u64) -> SysResult {
    s.mm().do_munmap(s.cpu, addr as usize, len as usize)?;
    Ok(0)
}

/// `mprotect(2)`.
pub fn sys_mprotect(s: &mut Sys<'_>, addr: u64, len: u64, prot: u64) -> SysResult {
    s.mm()
        .mprotect(s.cpu, addr as usize, len as usize, prot as usize)?;
    Ok(0)
}

/// `mremap(2)`.
pub fn sys_mremap(s: &mut Sys<'_>, a: [u64; 6]) -> SysResult {
    let [old, old_len, new_len, flags, new_addr, _] = a;
    s.mm()
        .mremap(
            s.cpu,
            old as usize,
            old_len as usize,
            new_len as usize,
            flags as usize,
            new_addr as usize,
        )
        .map(|a| a as u64)
}

/// `madvise(2)`.
pub fn sys_madvise(s: &mut Sys<'_>, addr: u64, len: u64, advice: u64) -> SysResult {
    s.mm()
        .madvise(s.cpu, addr as usize, len as usize, advice as usize)?;
    Ok(0)
}

/// `msync(2)`.
pub fn sys_msync(s: &mut Sys<'_>, addr: u64, len: u64, flags: u64) -> SysResult {
    s.mm()
        .msync(s.cpu, addr as usize, len as usize, flags as usize)?;
    Ok(0)
}

/// `mlock(2)` (`lock`) and `munlock(2)`.
pub fn sys_mlock(s: &mut Sys<'_>, addr: u64, len: u64, lock: bool) -> SysResult {
    let mm = s.mm();
    if lock {
        mm.mlock(s.cpu, addr as usize, len as usize)?;
    } else {
        mm.munlock(s.cpu, addr as usize, len as usize)?;
    }
    Ok(0)
}

/// `mlockall(2)`.
pub fn sys_mlockall(s: &mut Sys<'_>, flags: u64) -> SysResult {
    s.mm().mlockall(s.cpu, flags as usize)?;
    Ok(0)
}

/// `munlockall(2)`.
pub fn sys_munlockall(s: &mut Sys<'_>) -> SysResult {
    s.mm().munlockall(s.cpu)?;
    Ok(0)
}
