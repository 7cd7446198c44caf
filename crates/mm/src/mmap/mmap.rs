//! `do_mmap` for anonymous mappings (mm/mmap.c `do_mmap`, `mmap_region`),
//! with Linux's flag checks, errno values and order of checks.
//!
//! [`MmapState::do_mmap`] maps anonymous memory: without `MAP_ANONYMOUS`
//! it fails with EBADF, as Linux does for a descriptor that is not open.
//! [`MmapState::do_mmap_file`] maps a [`File`](crate::filemap::File) (see [`crate::filemap`]).
//! `MAP_POPULATE` (without `MAP_NONBLOCK`) and locked mappings (`MAP_LOCKED`,
//! or `VM_LOCKED` in the mm's `def_flags` after `mlockall(MCL_FUTURE)`) are
//! faulted in once mapped ([`MmapState::mm_populate`]); a failure there
//! (out of memory) leaves the mapping in place, as in Linux. `MAP_LOCKED`
//! sets `VM_LOCKED` and counts `locked_vm`; RLIMIT_MEMLOCK is not checked
//! yet. `MAP_HUGETLB` fails with ENOMEM, as on a Linux with no
//! huge pages reserved.

use super::errno::{EACCES, EBADF, EEXIST, EINVAL, ENOMEM, EOPNOTSUPP, EOVERFLOW};
use super::vma::VmAreaStruct;
use super::{
    page_align, MmStruct, MmapState, VmFlags, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE,
    MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK,
    MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC,
    MAP_TYPE, MAP_UNINITIALIZED, PROT_EXEC, PROT_READ, PROT_WRITE,
};
use crate::filemap::File;
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

/// Flags `mmap` knows (others are ignored, as Linux's legacy mmap does).
pub const MAP_KNOWN: usize = MAP_TYPE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_GROWSDOWN
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB
    | MAP_SYNC
    | MAP_FIXED_NOREPLACE
    | MAP_UNINITIALIZED;

/// `LEGACY_MAP_MASK`: what `MAP_SHARED_VALIDATE` accepts (with `MAP_SYNC`
/// only on files that support it, which none do yet).
pub const LEGACY_MAP_MASK: usize = MAP_SHARED
    | MAP_PRIVATE
    | MAP_FIXED
    | MAP_ANONYMOUS
    | MAP_DENYWRITE
    | MAP_EXECUTABLE
    | MAP_UNINITIALIZED
    | MAP_GROWSDOWN
    | MAP_LOCKED
    | MAP_NORESERVE
    | MAP_POPULATE
    | MAP_NONBLOCK
    | MAP_STACK
    | MAP_HUGETLB;

/// `MAX_LFS_FILESIZE` in pages: the largest file offset a mapping reaches.
const MAX_FILE_PAGES: usize = (i64::MAX as u64 >> 12) as usize;

/// `calc_vm_prot_bits`.
pub fn calc_vm_prot_bits(prot: usize) -> VmFlags {
    let mut f = VmFlags::empty();
    if prot & PROT_READ != 0 {
        f |= VmFlags::VM_READ;
    }
    if prot & PROT_WRITE != 0 {
        f |= VmFlags::VM_WRITE;
    }
    if prot & PROT_EXEC != 0 {
        f |= VmFlags::VM_EXEC;
    }
    f
}

/// `calc_vm_flag_bits`.
pub fn calc_vm_flag_bits(flags: usize) -> VmFlags {
    let mut f = VmFlags::empty();
    if flags & MAP_GROWSDOWN != 0 {
        f |= VmFlags::VM_GROWSDOWN;
    }
    if flags & MAP_LOCKED != 0 {
        f |= VmFlags::VM_LOCKED;
    }
    if flags & MAP_STACK != 0 {
        f |= VmFlags::VM_NOHUGEPAGE;
    }
    f
}

/// `accountable_mapping`: private writable areas are charged (VM_ACCOUNT).
pub fn accountable(f: VmFlags) -> bool {
    f & (VmFlags::VM_NORESERVE | VmFlags::VM_SHARED | VmFlags::VM_WRITE) == VmFlags::VM_WRITE
}

impl MmapState<'_> {
    /// What every mmap does between its own checks and building the VMA
    /// (`do_mmap`'s middle): the `map_count` limit, MAP_FIXED_NOREPLACE,
    /// `get_unmapped_area`, and the VMA flags that `prot` and `flags` ask
    /// for. Returns (start, end, vm_flags, flags as adjusted).
    fn place_mapping(
        &mut self,
        addr: usize,
        len: usize,
        prot: usize,
        mut flags: usize,
    ) -> Result<(usize, usize, VmFlags, usize), i32> {
        if self.map_count > self.max_map_count {
            return Err(ENOMEM);
        }
        if flags & MAP_FIXED_NOREPLACE != 0 {
            flags |= MAP_FIXED;
        }
        let addr = self.get_unmapped_area(addr, len, flags)?;
        let end = addr + len;
        if flags & MAP_FIXED_NOREPLACE != 0 && self.find_vma_intersection(addr, end).is_some() {
            return Err(EEXIST);
        }
        let vm_flags = calc_vm_prot_bits(prot)
            | calc_vm_flag_bits(flags)
            | self.def_flags
            | VmFlags::VM_MAYREAD
            | VmFlags::VM_MAYWRITE
            | VmFlags::VM_MAYEXEC;
        Ok((addr, end, vm_flags, flags))
    }

    /// `do_mmap` of an anonymous mapping: the address, or an errno.
    pub fn do_mmap(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        addr: usize,
        len: usize,
        prot: usize,
        flags: usize,
    ) -> Result<usize, i32> {
        if flags & MAP_ANONYMOUS == 0 {
            return Err(EBADF);
        }
        if flags & MAP_HUGETLB != 0 {
            // No huge pages are reserved (hugetlb_file_setup fails).
            return Err(ENOMEM);
        }
        if len == 0 {
            return Err(EINVAL);
        }
        let mut addr = addr;
        if flags & MAP_FIXED == 0 && addr != 0 && addr < self.mmap_min_addr {
            // round_hint_to_min
            addr = page_align(self.mmap_min_addr).unwrap_or(self.mmap_min_addr);
        }
        let len = match page_align(len) {
            Some(l) if l != 0 => l,
            _ => return Err(ENOMEM),
        };
        let (addr, _, mut vm_flags, flags) = self.place_mapping(addr, len, prot, flags)?;
        // Anonymous mappings know only the two legacy types, so
        // MAP_SHARED_VALIDATE (both bits) is EINVAL, as in Linux.
        let shared = match flags & MAP_TYPE {
            MAP_SHARED => {
                if vm_flags.contains(VmFlags::VM_GROWSDOWN) {
                    return Err(EINVAL);
                }
                vm_flags |= VmFlags::VM_SHARED | VmFlags::VM_MAYSHARE;
                true
            }
            MAP_PRIVATE => false,
            _ => return Err(EINVAL),
        };
        if flags & MAP_NORESERVE != 0 {
            vm_flags |= VmFlags::VM_NORESERVE;
        }
        let addr = self.mmap_region(cpu, mm, addr, len, vm_flags, shared)?;
        self.populate_new(cpu, mm, addr, len, vm_flags, flags);
        Ok(addr)
    }

    /// The end of `vm_mmap_pgoff`: `mm_populate` the new mapping when it
    /// is locked or `MAP_POPULATE` asks for it (not with `MAP_NONBLOCK`).
    /// Failures leave the mapping as it is, as in Linux.
    fn populate_new(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        addr: usize,
        len: usize,
        vm_flags: VmFlags,
        flags: usize,
    ) {
        if vm_flags.contains(VmFlags::VM_LOCKED)
            || flags & (MAP_POPULATE | MAP_NONBLOCK) == MAP_POPULATE
        {
            self.mm_populate(cpu, mm, addr, len);
        }
    }

    /// `do_mmap` with a file: `file` None (or `MAP_ANONYMOUS`, which
    /// ignores the file as Linux ignores the descriptor) is [`Self::do_mmap`];
    /// otherwise Linux's file checks (EINVAL for MAP_HUGETLB on a regular
    /// file, EOVERFLOW, EOPNOTSUPP, EACCES) and a VMA carrying the file and
    /// `vm_pgoff` (inserting it links the mm into the file's `i_mmap`).
    #[allow(clippy::too_many_arguments)]
    pub fn do_mmap_file(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        addr: usize,
        len: usize,
        prot: usize,
        flags: usize,
        file: Option<&File>,
        pgoff: usize,
    ) -> Result<usize, i32> {
        let file = match file {
            Some(f) if flags & MAP_ANONYMOUS == 0 => f,
            _ => return self.do_mmap(cpu, mm, addr, len, prot, flags),
        };
        if flags & MAP_HUGETLB != 0 {
            return Err(EINVAL);
        }
        if len == 0 {
            return Err(EINVAL);
        }
        let mut addr = addr;
        if flags & MAP_FIXED == 0 && addr != 0 && addr < self.mmap_min_addr {
            addr = page_align(self.mmap_min_addr).unwrap_or(self.mmap_min_addr);
        }
        let len = match page_align(len) {
            Some(l) if l != 0 => l,
            _ => return Err(ENOMEM),
        };
        // The offset plus the length must not wrap, nor pass the largest
        // file offset (`file_mmap_ok`).
        match pgoff.checked_add(len / PAGE_SIZE) {
            Some(end) if end <= MAX_FILE_PAGES => {}
            _ => return Err(EOVERFLOW),
        }
        let (addr, end, mut vm_flags, flags) = self.place_mapping(addr, len, prot, flags)?;
        let ty = flags & MAP_TYPE;
        match ty {
            MAP_SHARED | MAP_SHARED_VALIDATE => {
                if ty == MAP_SHARED_VALIDATE && flags & !LEGACY_MAP_MASK != 0 {
                    return Err(EOPNOTSUPP);
                }
                if prot & PROT_WRITE != 0 && !file.can_write() {
                    return Err(EACCES);
                }
                vm_flags |= VmFlags::VM_SHARED | VmFlags::VM_MAYSHARE;
                if !file.can_write() {
                    vm_flags.remove(VmFlags::VM_MAYWRITE | VmFlags::VM_SHARED);
                }
            }
            MAP_PRIVATE => {}
            _ => return Err(EINVAL),
        }
        if !file.can_read() {
            return Err(EACCES);
        }
        if vm_flags.contains(VmFlags::VM_GROWSDOWN) {
            return Err(EINVAL);
        }
        if flags & MAP_NORESERVE != 0 {
            vm_flags |= VmFlags::VM_NORESERVE;
        }
        if self.find_vma_intersection(addr, end).is_some() {
            self.do_munmap(cpu, mm, addr, len)?;
        }
        if accountable(vm_flags) {
            vm_flags |= VmFlags::VM_ACCOUNT;
        }
        let mut v = VmAreaStruct::new(addr, end, vm_flags, pgoff);
        if vm_flags.contains(VmFlags::VM_SHARED) {
            // Write-notify: the first write to each page goes through
            // `page_mkwrite`, which dirties it.
            v.vm_page_prot = super::vma::vm_get_page_prot(vm_flags - VmFlags::VM_SHARED);
        }
        v.vm_file = Some(file.mapping_ptr());
        v.vm_ops = Some(&crate::filemap::FILE_VM_OPS);
        self.insert_vma(cpu, v)?;
        self.merge_range(cpu, addr, end);
        self.populate_new(cpu, mm, addr, len, vm_flags, flags);
        Ok(addr)
    }

    /// `mmap_region`: replace whatever is in `[addr, addr + len)` by a new
    /// anonymous area and merge it with its neighbours.
    fn mmap_region(
        &mut self,
        cpu: &Cpu<'_>,
        mm: &MmStruct<'_>,
        addr: usize,
        len: usize,
        mut vm_flags: VmFlags,
        shared: bool,
    ) -> Result<usize, i32> {
        let end = addr + len;
        if self.find_vma_intersection(addr, end).is_some() {
            self.do_munmap(cpu, mm, addr, len)?;
        }
        if accountable(vm_flags) {
            vm_flags |= VmFlags::VM_ACCOUNT;
        }
        if !shared {
            let v = VmAreaStruct::new(addr, end, vm_flags, addr / PAGE_SIZE);
            self.insert_vma(cpu, v)?;
            self.merge_range(cpu, addr, end);
            return Ok(addr);
        }
        // shmem_zero_setup: the area maps its own shmem object from offset
        // 0; shmem has no dirty accounting, so no write-notify (pages are
        // mapped writable at once and the D bit dirties them).
        let file = crate::filemap::shmem_zero_setup(cpu.mem(), len as u64)?;
        let mut v = VmAreaStruct::new(addr, end, vm_flags, 0);
        v.shmem = self.next_shmem;
        self.next_shmem += 1;
        v.vm_file = Some(file);
        v.vm_ops = Some(&crate::filemap::FILE_VM_OPS);
        let r = self.insert_vma(cpu, v);
        // The VMA (if inserted) holds its own reference now: drop the
        // one `shmem_zero_setup` gave (on failure the last, freeing it).
        // SAFETY: made just above, with this reference for us.
        unsafe { crate::filemap::fput(cpu, file) };
        r?;
        self.merge_range(cpu, addr, end);
        Ok(addr)
    }
}
