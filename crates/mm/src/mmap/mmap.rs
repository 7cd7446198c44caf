//! `do_mmap` for anonymous mappings (mm/mmap.c `do_mmap`, `mmap_region`),
//! with Linux's flag checks, errno values and order of checks.
//!
//! File-backed mappings come with files; without `MAP_ANONYMOUS` the call
//! fails with EBADF, as Linux does for a descriptor that is not open.
//! `MAP_POPULATE` is accepted; populating waits for the fault layer.
//! `MAP_LOCKED` sets `VM_LOCKED` and counts `locked_vm`; RLIMIT_MEMLOCK is
//! not checked yet. `MAP_HUGETLB` fails with ENOMEM, as on a Linux with no
//! huge pages reserved.

use super::errno::{EBADF, EEXIST, EINVAL, ENOMEM};
use super::vma::VmAreaStruct;
use super::{
    page_align, MmStruct, MmapState, VmFlags, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE,
    MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NONBLOCK,
    MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_STACK, MAP_SYNC, MAP_TYPE,
    MAP_UNINITIALIZED, PROT_EXEC, PROT_READ, PROT_WRITE,
};
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
        let mut flags = flags;
        let mut addr = addr;
        if flags & MAP_FIXED == 0 && addr != 0 && addr < self.mmap_min_addr {
            // round_hint_to_min
            addr = page_align(self.mmap_min_addr).unwrap_or(self.mmap_min_addr);
        }
        let len = match page_align(len) {
            Some(l) if l != 0 => l,
            _ => return Err(ENOMEM),
        };
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
        let mut vm_flags = calc_vm_prot_bits(prot)
            | calc_vm_flag_bits(flags)
            | VmFlags::VM_MAYREAD
            | VmFlags::VM_MAYWRITE
            | VmFlags::VM_MAYEXEC;
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
        self.mmap_region(cpu, mm, addr, len, vm_flags, shared)
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
        let mut v = if shared {
            let mut v = VmAreaStruct::new(addr, end, vm_flags, 0);
            v.shmem = self.next_shmem;
            self.next_shmem += 1;
            v
        } else {
            VmAreaStruct::new(addr, end, vm_flags, addr / PAGE_SIZE)
        };
        v.vm_ops = None;
        self.insert_vma(cpu, v)?;
        self.merge_range(cpu, addr, end);
        Ok(addr)
    }
}
