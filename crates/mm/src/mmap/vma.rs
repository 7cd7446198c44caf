//! `struct vm_area_struct` (include/linux/mm_types.h), its `vm_flags`
//! (include/linux/mm.h) and the notes' `vm_operations_struct` as a trait.
//!
//! A VMA is an object of the `vm_area_struct` standard slab cache in
//! ferrite's RAM; the mm's maple tree maps `[vm_start, vm_end)` to its
//! address, held as a `VmaPtr` (every cast between such a `usize` and a
//! VMA is in that type). File areas record their file in `vm_file` (a
//! [`crate::filemap::FilePtr`] naming its
//! [`crate::filemap::AddressSpace`]) with the file's `FILE_VM_OPS`. A
//! `MAP_SHARED` anonymous area is backed, as in Linux, by a shmem object of
//! its own (`vm_file`, see [`crate::filemap::shmem_zero_setup`]) and also
//! carries that object's `shmem` identity (the inode /proc shows).
//!
//! Like Linux's, a VMA names its mm (`vm_mm`) and a file area is threaded
//! on its file's `i_mmap` list through its `shared` link (see
//! [`crate::filemap`]); `vm_area_free` refuses, as a reported BUG, a VMA
//! still on such a list. Where ferrite differs: no `anon_vma` per VMA (see
//! [`crate::rmap`]), and the type is `Clone` rather than copied by
//! `memcpy` (`vm_area_dup`): a clone starts on no list.

use core::fmt;
use core::ptr::NonNull;

use super::MmPtr;
use crate::filemap::{FilePtr, IMmapNode};
use crate::gfp::Gfp;
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;
use crate::pgtable::{protection_map, PgProt};
use crate::slab::StdCache;

bitflags::bitflags! {
    /// `vm_flags_t` with Linux's bit values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct VmFlags: usize {
        const VM_READ = 0x0000_0001;
        const VM_WRITE = 0x0000_0002;
        const VM_EXEC = 0x0000_0004;
        const VM_SHARED = 0x0000_0008;
        const VM_MAYREAD = 0x0000_0010;
        const VM_MAYWRITE = 0x0000_0020;
        const VM_MAYEXEC = 0x0000_0040;
        const VM_MAYSHARE = 0x0000_0080;
        const VM_GROWSDOWN = 0x0000_0100;
        const VM_PFNMAP = 0x0000_0400;
        const VM_LOCKED = 0x0000_2000;
        const VM_IO = 0x0000_4000;
        const VM_SEQ_READ = 0x0000_8000;
        const VM_RAND_READ = 0x0001_0000;
        const VM_DONTCOPY = 0x0002_0000;
        const VM_DONTEXPAND = 0x0004_0000;
        const VM_LOCKONFAULT = 0x0008_0000;
        const VM_ACCOUNT = 0x0010_0000;
        const VM_NORESERVE = 0x0020_0000;
        const VM_HUGETLB = 0x0040_0000;
        const VM_SYNC = 0x0080_0000;
        const VM_WIPEONFORK = 0x0200_0000;
        const VM_DONTDUMP = 0x0400_0000;
        const VM_SOFTDIRTY = 0x0800_0000;
        const VM_MIXEDMAP = 0x1000_0000;
        const VM_HUGEPAGE = 0x2000_0000;
        const VM_NOHUGEPAGE = 0x4000_0000;
        const VM_MERGEABLE = 0x8000_0000;
    }
}

impl VmFlags {
    /// `VM_SPECIAL`: areas that never merge.
    pub const VM_SPECIAL: VmFlags = VmFlags::VM_IO
        .union(VmFlags::VM_DONTEXPAND)
        .union(VmFlags::VM_PFNMAP)
        .union(VmFlags::VM_MIXEDMAP);
    /// `VM_ACCESS_FLAGS`.
    pub const VM_ACCESS_FLAGS: VmFlags = VmFlags::VM_READ
        .union(VmFlags::VM_WRITE)
        .union(VmFlags::VM_EXEC);
    /// `VM_STACK` (the stack grows down on riscv).
    pub const VM_STACK: VmFlags = VmFlags::VM_GROWSDOWN;
    /// riscv's `VM_DATA_DEFAULT_FLAGS` (`VM_DATA_FLAGS_NON_EXEC`): brk areas.
    pub const VM_DATA_DEFAULT_FLAGS: VmFlags = VmFlags::VM_READ
        .union(VmFlags::VM_WRITE)
        .union(VmFlags::VM_MAYREAD)
        .union(VmFlags::VM_MAYWRITE)
        .union(VmFlags::VM_MAYEXEC);
}

/// What a fault handler reports (`vm_fault_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmFaultResult {
    /// The handler found the page; map this frame (`vmf->page`).
    Page(u64),
    /// The handler installed the PTE itself (`VM_FAULT_NOPAGE`).
    NoPage,
    /// Out of memory (`VM_FAULT_OOM`).
    Oom,
    /// Access beyond the object (`VM_FAULT_SIGBUS`).
    Sigbus,
    /// Bad access (`VM_FAULT_SIGSEGV`).
    Sigsegv,
    /// Drop the mmap lock and retry (`VM_FAULT_RETRY`).
    Retry,
}

/// `struct vm_fault`: what a fault handler is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmFault {
    /// The faulting address, page aligned.
    pub address: usize,
    /// The page's index in the backing object (`vmf->pgoff`).
    pub pgoff: usize,
    /// Whether the access is a write (`FAULT_FLAG_WRITE`).
    pub write: bool,
}

/// `struct vm_operations_struct`: how files and devices bring their own
/// behaviour to an area. Anonymous areas have none.
pub trait VmOperations: Sync {
    /// Called when an area is created by copying or splitting another.
    fn open(&self, _vma: &VmAreaStruct) {}
    /// Called when an area is removed.
    fn close(&self, _vma: &VmAreaStruct) {}
    /// Find the page for a fault.
    fn fault(&self, vma: &VmAreaStruct, vmf: &VmFault) -> VmFaultResult;
    /// [`VmOperations::fault`] with a CPU to allocate on (the page cache
    /// reads missing pages in): a `Page` result carries a reference for
    /// the caller.
    fn fault_cpu(&self, _cpu: &Cpu<'_>, vma: &VmAreaStruct, vmf: &VmFault) -> VmFaultResult {
        self.fault(vma, vmf)
    }
    /// A read-only shared page is about to become writable.
    fn page_mkwrite(&self, _vma: &VmAreaStruct, _vmf: &VmFault) -> VmFaultResult {
        VmFaultResult::NoPage
    }
}

/// `struct vm_area_struct`.
///
/// Not `Copy`: a file area is threaded on its file's `i_mmap` list
/// through its `shared` link, and a copy (`clone`, used for snapshots and
/// for the new VMAs split and fork make) starts unlinked.
#[derive(Clone)]
pub struct VmAreaStruct {
    /// First address of the area.
    pub vm_start: usize,
    /// First address after the area.
    pub vm_end: usize,
    /// Access and behaviour flags.
    pub vm_flags: VmFlags,
    /// PTE protection derived from `vm_flags` (`vm_get_page_prot`).
    pub vm_page_prot: PgProt,
    /// Offset in pages: in the file, or for a private anonymous area the
    /// linear page index of `vm_start` (`vm_start >> PAGE_SHIFT` when
    /// created, kept through splits, merges and mremap moves, as Linux
    /// keeps it for the anonymous rmap), 0-based in the shmem object of a
    /// shared anonymous one.
    pub vm_pgoff: usize,
    /// Identity (inode number) of the shmem object of a `MAP_SHARED`
    /// anonymous area, 0 for every other area.
    pub shmem: u64,
    /// The area's operations (`vm_ops`); `None` for anonymous areas.
    pub vm_ops: Option<&'static dyn VmOperations>,
    /// The mapped file (`vm_file`): a handle on its
    /// [`crate::filemap::AddressSpace`], None for anonymous areas.
    pub vm_file: Option<FilePtr>,
    /// The mm this VMA belongs to (`vm_mm`): the `MmStruct`'s address, set
    /// when the VMA is inserted into that mm and never changed while it is
    /// on an `i_mmap` list (the list's walkers read it to find the mm).
    pub(crate) vm_mm: Option<MmPtr>,
    /// The link on the file's `i_mmap` list (Linux's `shared.rb`); changed
    /// only under that list's lock (see [`crate::filemap`]).
    pub(crate) shared: IMmapNode,
}

impl VmAreaStruct {
    /// A new area with its protection computed from `vm_flags`.
    pub fn new(vm_start: usize, vm_end: usize, vm_flags: VmFlags, vm_pgoff: usize) -> Self {
        VmAreaStruct {
            vm_start,
            vm_end,
            vm_flags,
            vm_page_prot: vm_get_page_prot(vm_flags),
            vm_pgoff,
            shmem: 0,
            vm_ops: None,
            vm_file: None,
            vm_mm: None,
            shared: IMmapNode::default(),
        }
    }

    /// The address of the mm this VMA belongs to (`vm_mm`), 0 before it is
    /// inserted into one.
    pub fn vm_mm(&self) -> usize {
        self.vm_mm.map_or(0, MmPtr::addr)
    }

    /// Pages covered (`vma_pages`).
    pub fn pages(&self) -> usize {
        (self.vm_end - self.vm_start) / PAGE_SIZE
    }

    /// Whether `addr` lies inside.
    pub fn contains(&self, addr: usize) -> bool {
        self.vm_start <= addr && addr < self.vm_end
    }

    /// `vma_is_anonymous`.
    pub fn is_anonymous(&self) -> bool {
        self.vm_ops.is_none()
    }

    /// `vma_wants_writenotify`: a shared file area (not shmem, which has
    /// no dirty accounting) maps pages read-only until the first write,
    /// which goes through `page_mkwrite` and dirties the page.
    pub fn wants_writenotify(&self) -> bool {
        self.vm_file.is_some() && self.shmem == 0 && self.vm_flags.contains(VmFlags::VM_SHARED)
    }

    /// `vm_start_gap`: the start lowered by the stack guard gap for areas
    /// that grow down.
    pub fn start_gap(&self) -> usize {
        if self.vm_flags.contains(VmFlags::VM_GROWSDOWN) {
            self.vm_start.saturating_sub(super::STACK_GUARD_GAP)
        } else {
            self.vm_start
        }
    }

    /// The permissions as /proc/PID/maps shows them (`rwxp`).
    pub fn perms(&self) -> [u8; 4] {
        let f = self.vm_flags;
        [
            if f.contains(VmFlags::VM_READ) {
                b'r'
            } else {
                b'-'
            },
            if f.contains(VmFlags::VM_WRITE) {
                b'w'
            } else {
                b'-'
            },
            if f.contains(VmFlags::VM_EXEC) {
                b'x'
            } else {
                b'-'
            },
            if f.contains(VmFlags::VM_MAYSHARE) {
                b's'
            } else {
                b'p'
            },
        ]
    }
}

impl fmt::Debug for VmAreaStruct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.perms();
        write!(
            f,
            "{:x}-{:x} {} {:?}",
            self.vm_start,
            self.vm_end,
            core::str::from_utf8(&p).unwrap_or("????"),
            self.vm_flags
        )
    }
}

/// `vm_get_page_prot`.
pub fn vm_get_page_prot(flags: VmFlags) -> PgProt {
    protection_map(flags.bits() & 0xf)
}

/// A VMA object in ferrite's RAM (from the `vm_area_struct` slab cache),
/// as the mm's maple tree and its `mmap_cache` hold it: a `usize` value.
/// Every cast between such a value and a VMA is in this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VmaPtr(NonNull<VmAreaStruct>);

impl VmaPtr {
    /// The handle a tree value (or the `mmap_cache`) holds; None for 0.
    pub(crate) fn from_value(v: usize) -> Option<VmaPtr> {
        NonNull::new(v as *mut VmAreaStruct).map(VmaPtr)
    }

    /// A tree value that must be a VMA (the tree never holds 0).
    pub(crate) fn from_tree(v: usize) -> VmaPtr {
        VmaPtr::from_value(v).expect("null VMA in the tree")
    }

    /// The value stored in the tree.
    pub(crate) fn value(self) -> usize {
        self.0.as_ptr() as usize
    }

    /// The VMA.
    ///
    /// # Safety
    /// The VMA is live (from [`vm_area_alloc`], not yet given to
    /// [`vm_area_free`]) for `'a`, and nothing changes it during `'a`.
    pub(crate) unsafe fn as_ref<'a>(self) -> &'a VmAreaStruct {
        // SAFETY: the caller's promise; the object is a VmAreaStruct
        // written by `vm_area_alloc`.
        unsafe { self.0.as_ref() }
    }

    /// The VMA, to change it.
    ///
    /// # Safety
    /// As for [`VmaPtr::as_ref`], and the caller has the only access to it
    /// during `'a` (it holds its mm's state by `&mut`).
    pub(crate) unsafe fn as_mut<'a>(mut self) -> &'a mut VmAreaStruct {
        // SAFETY: the caller's promise.
        unsafe { self.0.as_mut() }
    }

    /// The VMA's `i_mmap` link, without borrowing the rest of the VMA
    /// (which its mm may be changing under the mmap lock).
    ///
    /// # Safety
    /// The VMA is live for `'a` (on an `i_mmap` list whose lock the caller
    /// holds, or owned by the caller).
    pub(crate) unsafe fn shared<'a>(self) -> &'a IMmapNode {
        // SAFETY: the caller's promise; a reference to the link alone,
        // whose fields are atomics (shared access is fine).
        unsafe { &*core::ptr::addr_of!((*self.0.as_ptr()).shared) }
    }

    /// The VMA's `vm_mm`, read without borrowing the rest of the VMA.
    ///
    /// # Safety
    /// As for [`VmaPtr::shared`]; `vm_mm` is not written while the VMA is
    /// on an `i_mmap` list.
    pub(crate) unsafe fn vm_mm(self) -> Option<MmPtr> {
        // SAFETY: the caller's promise; a plain read of one field nobody
        // writes meanwhile.
        unsafe { core::ptr::addr_of!((*self.0.as_ptr()).vm_mm).read() }
    }
}

/// `vm_area_alloc`: a VMA object from the `vm_area_struct` cache holding
/// `v`; `None` when memory is exhausted.
pub(crate) fn vm_area_alloc(cpu: &Cpu<'_>, v: VmAreaStruct) -> Option<VmaPtr> {
    let cache = cpu.mem().std_cache(StdCache::VmAreaStruct);
    let p = cpu
        .kmem_cache_alloc(cache, Gfp::GFP_KERNEL)?
        .cast::<VmAreaStruct>();
    // SAFETY: a fresh object at least as large and aligned as a
    // VmAreaStruct (checked by `MmStruct::new`), owned by nobody else.
    unsafe { p.as_ptr().write(v) };
    Some(VmaPtr(p))
}

/// `vm_area_free`. A VMA still on an `i_mmap` list (its file's walkers
/// would reach freed memory) is not freed: it is reported as a kernel BUG
/// and leaked, and with debug assertions on (tests) it panics, as
/// `VM_BUG_ON_VMA` stops a `CONFIG_DEBUG_VM` kernel.
pub(crate) fn vm_area_free(cpu: &Cpu<'_>, p: VmaPtr) {
    // SAFETY: the caller gives up a live VMA it owns.
    let on = unsafe { p.shared() }.mapping();
    if on != 0 {
        // SAFETY: as above.
        let v = unsafe { p.as_ref() };
        cpu.mem().printk(format_args!(
            "BUG: vm_area_free: VMA {:x}-{:x} freed while on the i_mmap list of mapping {on:#x}\n",
            v.vm_start, v.vm_end
        ));
        if cfg!(debug_assertions) {
            panic!(
                "vm_area_free: VMA {:x}-{:x} freed while on the i_mmap list of mapping {on:#x}",
                v.vm_start, v.vm_end
            );
        }
        return;
    }
    let cache = cpu.mem().std_cache(StdCache::VmAreaStruct);
    // A refused free has been reported by the slab layer; the object was
    // ours, so there is nothing to undo.
    let _ = cpu.kmem_cache_free(cache, p.0.cast());
}
