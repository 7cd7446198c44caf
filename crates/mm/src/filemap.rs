//! The page cache and file-backed faults (Linux's mm/filemap.c, the
//! `address_space` and `struct file` parts of include/linux/fs.h, and
//! mm/memory.c's `do_read_fault`, `do_cow_fault`, `do_shared_fault`).
//!
//! - [`AddressSpace`]: the page cache of one file. Its pages are kept in a
//!   [`MapleTree`] (nodes in ferrite's RAM) keyed by page index, each entry
//!   a range of one index. A cached page has `page->mapping` = the
//!   address space (bit 0 clear, unlike anonymous pages), `page->index`,
//!   `PG_uptodate`, and one reference held by the cache; `NrFilePages`
//!   counts it.
//! - [`FileBacking`]: where the contents come from (a disk, later); the
//!   [`MemFile`] implementation keeps them in a host `Vec` for tests.
//! - [`File`]: an open file with its mode (`FMODE_READ`, `FMODE_WRITE`),
//!   which `do_mmap_file` checks.
//! - `i_mmap`: the VMAs that map the file, threaded on a list through
//!   their own `shared` link (`IMmapNode`, Linux's `vma->shared.rb` on
//!   the `i_mmap` interval tree; ferrite keeps a plain doubly-linked list),
//!   so that truncate, writeback's `page_mkclean` and reclaim's rmap walk
//!   reach every PTE of a page; each VMA names its mm (`vm_mm`). Linking
//!   allocates nothing, so it cannot fail.
//!
//! Faults: a read fault (or any fault of a shared area) maps the cached
//! page; a shared area maps it read-only until the first write, which goes
//! through `page_mkwrite` and marks the page dirty (write-notify). A write
//! fault on a private area copies the page into a fresh anonymous one
//! (`do_cow_fault`); a write to an already mapped file page of a private
//! area is `do_wp_page`'s copy. An index at or past `ceil(size / 4096)`
//! is SIGBUS. Mapped file pages count in `NrFileMapped` (first mapping)
//! and the mm's `FilePages`.
//!
//! Lifetimes: a VMA records its file as a [`FilePtr`] naming the
//! `AddressSpace` and, as Linux's VMAs hold a file reference, holds a
//! reference to it (`i_count`, taken in `i_mmap_link`, dropped by
//! `fput` after the VMA left the list and was freed). A VMA is on
//! the list from its insertion into its mm until just before it is freed
//! (`i_mmap_unlink`); freeing one still on a list is a reported BUG (see
//! `vm_area_free`), so a VMA reached through the list under its lock is
//! live, and so is its mm (an mm frees its VMAs before it goes). An
//! address space made by [`AddressSpace::new_counted`] lives while it is
//! referenced (the file system's handles and the VMAs): the last
//! [`iput`] is Linux's `iput_final` → `evict` → `truncate_inode_pages`; a
//! shmem object lives until its last VMA's reference goes. One made by
//! [`AddressSpace::new`] (tests) is its owner's, who keeps it alive until
//! every mm that mapped it has exited, then calls
//! [`AddressSpace::release`].
//!
//! Locking: the mmap lock is taken before `i_mmap` (as Linux's
//! `i_mmap_rwsem` nests in `mmap_lock`): VMAs are linked and unlinked with
//! their mm's mmap lock held for writing (or the mm to themselves).
//! The walkers (truncate, `page_mkclean`), which hold `i_mmap` while
//! visiting the VMAs, only *try* each VMA's mm's mmap lock (for reading,
//! which keeps the VMA's bounds and flags still) and start over when one
//! is busy; reclaim only tries every lock. The list links themselves
//! change only under the `i_mmap` lock. The page-cache lock is taken alone.
//!
//! Writeback ([`AddressSpace::writeback`]) write-protects and cleans every
//! shared PTE of a page before writing it (`page_mkclean`), so the next
//! write faults through `page_mkwrite` and dirties the page again.
//!
//! TLB flushes: the walkers change other mms' page tables, so before a page
//! is freed or counted clean they flush the harts in that mm's
//! `mm_cpumask` at once, through the kernel's synchronous remote flush
//! (`Mem::set_tlb_flush_hook`): `page_mkclean` per PTE cleaned (Linux's
//! `flush_tlb_page` in `page_mkclean_one`), `unmap_mapping_range` per VMA
//! zapped, putting the pages it unmapped only after that flush (the
//! `mmu_gather` page batch `zap` uses for the mm's own unmaps), and
//! reclaim's `try_to_unmap` by adding to the caller's
//! [`TlbUnmapBatch`] (see [`crate::vmscan`]). The changes are also added
//! to the mm's pending flush, which its next trap carries out.
//!
//! shmem: a `MAP_SHARED | MAP_ANONYMOUS` mapping is backed by an
//! `AddressSpace` of its own ([`shmem_zero_setup`]) over a zero-filled
//! backing ([`ShmemBacking`]): its pages live in that page cache, count in
//! `NrShmem` (meminfo's Shmem) and the mms' `ShmemPages` (RssShmem), are
//! not dirty-accounted nor written back, are mapped writable at once (no
//! write-notify), and the object is freed with the last VMA that maps it.
//! A file system's shmem files (the kernel's tmpfs `/dev/shm` and memfds)
//! are the same objects with a name ([`shmem_file_setup`]), mapped as
//! files, and referenced by the file system too.
//!
//! LRU and reclaim: a cached page is put on the LRU lists when inserted
//! (file pages on the file lists, shmem on the anon lists:
//! [`crate::vmscan`]); reclaim takes clean, unmapped pages out of the cache
//! ([`AddressSpace`]'s `remove_mapping`), after unmapping them through
//! `i_mmap` and writing dirty ones back (`pageout`). A fault that has to
//! read its page from the file counts as `pgmajfault`.
//!
//! Objects: address spaces made by [`AddressSpace::new_counted`] and shmem
//! objects live in the `inode_cache` and `shmem_inode_cache` slab caches
//! (in ferrite's RAM, counted by /proc/slabinfo); a shmem object keeps its
//! size in itself, and `i_mmap` is the VMAs themselves (objects of the
//! `vm_area_struct` cache) with the list head in the address space. Still
//! on the host heap: the file system's [`FileBacking`] box (a host object:
//! it stands for the host file and holds its host resources, such as the
//! open host descriptor, which have no place in ferrite's RAM) and
//! owner-managed address spaces from [`AddressSpace::new`] (tests).
//!
//! Not yet: readahead.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};

use crate::fault::{account_new_page, install_pte, mapped_page, set_pte, FaultError};
use crate::gfp::Gfp;
use crate::maple::MapleTree;
use crate::mem::Mem;
use crate::mmap::errno::{EEXIST, EINVAL, ENOMEM};
use crate::mmap::vma::VmaPtr;
use crate::mmap::{
    MmStruct, PgtState, RssCounter, VmAreaStruct, VmFault, VmFaultResult, VmFlags, VmOperations,
};
use crate::page::{Page, PageFlags, PAGE_SIZE};
use crate::percpu::Cpu;
use crate::pgtable::tlb::{flush_tlb_mm_range, PageBatch, TlbUnmapBatch};
use crate::pgtable::{PageTable, Pte, TlbFlush};
use crate::rmap::{AnonVmaPtr, PAGE_MAPPING_ANON};
use crate::slab::KmemCache;
use crate::sync::{cpu_relax, SpinLock};
use crate::vmstat::NodeStatItem;

/// The file is open for reading.
pub const FMODE_READ: u32 = 0x1;
/// The file is open for writing.
pub const FMODE_WRITE: u32 = 0x2;

/// Where a file's contents live (the filesystem's `read_folio` and
/// `writepage`).
pub trait FileBacking: Send + Sync {
    /// The file size in bytes (`i_size`).
    fn size(&self) -> u64;
    /// Fill `buf` with page `index` (zeros past the end of the file).
    fn read_page(&self, index: u64, buf: &mut [u8; PAGE_SIZE]) -> Result<(), i32>;
    /// Write page `index` back (what lies past the end of the file is
    /// dropped).
    fn write_page(&self, index: u64, buf: &[u8; PAGE_SIZE]) -> Result<(), i32>;
    /// Set the size (truncate or extend with zeros).
    fn set_size(&self, _size: u64) -> Result<(), i32> {
        Err(EINVAL)
    }
    /// `fallocate(mode, offset, len)` on the file itself (the file
    /// system's `fallocate` operation; the cache is the caller's): used by
    /// MADV_REMOVE on a shared mapping. None by default (EOPNOTSUPP).
    fn fallocate(&self, _mode: u32, _offset: u64, _len: u64) -> Result<(), i32> {
        Err(crate::mmap::errno::EOPNOTSUPP)
    }
    /// How /proc/PID/maps names the file: its path, device and inode
    /// (`d_path`, `s_dev`, `i_ino`). None: an unnamed file (tests).
    fn identity(&self) -> Option<FileIdentity> {
        None
    }
    /// The number of links of the file (`i_nlink`): 0 once it is deleted,
    /// when eviction drops its dirty pages instead of writing them back.
    fn nlink(&self) -> u64 {
        1
    }
    /// The address space over this backing is being freed (the last
    /// reference went: Linux's `evict`): forget it (the file system's
    /// inode hash). Called after its pages are written back and dropped.
    fn evict(&self) {}
}

/// A file's name in /proc/PID/maps (see [`FileBacking::identity`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileIdentity {
    /// The path as the process sees it.
    pub path: alloc::string::String,
    /// Device major number.
    pub dev_major: u32,
    /// Device minor number.
    pub dev_minor: u32,
    /// Inode number.
    pub ino: u64,
}

/// The identity of the file a VMA maps (`vm_file`), if it has one. The
/// caller holds the VMA (its mm's mmap lock), whose reference keeps the
/// file live.
pub fn vma_file_identity(vm_file: Option<FilePtr>) -> Option<FileIdentity> {
    // SAFETY: a VMA's file is live while the VMA is (its reference).
    unsafe { vm_file?.as_ref() }.backing().identity()
}

/// A handle on an [`AddressSpace`] (`struct file` and its mapping, in
/// ferrite's RAM for counted address spaces and shmem objects), as a VMA's
/// `vm_file` names it; its address is what a page-cache page's `mapping`
/// holds. Every cast between such an address and an address space is in
/// this type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilePtr(core::num::NonZeroUsize);

impl FilePtr {
    /// The handle of `space`.
    pub fn of(space: &AddressSpace<'_>) -> FilePtr {
        FilePtr(core::ptr::NonNull::from(space).addr())
    }

    /// The handle an address (a page's `mapping`) names; None for 0.
    pub(crate) fn from_addr(addr: usize) -> Option<FilePtr> {
        core::num::NonZeroUsize::new(addr).map(FilePtr)
    }

    /// The address space's address (as a page's `mapping` records it).
    pub fn addr(self) -> usize {
        self.0.get()
    }

    /// The address space.
    ///
    /// # Safety
    /// The address space stays live for `'a`: the caller holds a
    /// reference to it (`i_count`: a VMA's, the file system's, one it took
    /// with `igrab`), or a page of its cache keeps it (the page is in the
    /// cache and eviction cannot finish meanwhile).
    pub(crate) unsafe fn as_ref<'a>(self) -> &'a AddressSpace<'static> {
        // SAFETY: the caller's promise; the handle was made from an
        // AddressSpace by `of`.
        unsafe { &*(self.0.get() as *const AddressSpace<'static>) }
    }
}

/// A file whose contents are a host `Vec` (they stand for a disk).
pub struct MemFile {
    data: SpinLock<Vec<u8>>,
}

impl MemFile {
    /// A file holding `data`.
    pub fn new(data: Vec<u8>) -> MemFile {
        MemFile {
            data: SpinLock::new(data),
        }
    }

    /// A copy of the contents.
    pub fn contents(&self) -> Vec<u8> {
        self.data.lock().clone()
    }
}

impl FileBacking for MemFile {
    fn size(&self) -> u64 {
        self.data.lock().len() as u64
    }

    fn read_page(&self, index: u64, buf: &mut [u8; PAGE_SIZE]) -> Result<(), i32> {
        let d = self.data.lock();
        buf.fill(0);
        let off = (index as usize).saturating_mul(PAGE_SIZE);
        if off < d.len() {
            let n = (d.len() - off).min(PAGE_SIZE);
            buf[..n].copy_from_slice(&d[off..off + n]);
        }
        Ok(())
    }

    fn write_page(&self, index: u64, buf: &[u8; PAGE_SIZE]) -> Result<(), i32> {
        let mut d = self.data.lock();
        let off = (index as usize).saturating_mul(PAGE_SIZE);
        if off < d.len() {
            let n = (d.len() - off).min(PAGE_SIZE);
            d[off..off + n].copy_from_slice(&buf[..n]);
        }
        Ok(())
    }

    /// Holes only (`FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE`): the
    /// bytes of the range inside the file become zeros.
    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> Result<(), i32> {
        use crate::falloc::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
        if mode != FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE {
            return Err(crate::mmap::errno::EOPNOTSUPP);
        }
        let mut d = self.data.lock();
        let n = d.len() as u64;
        let (s, e) = (
            offset.min(n) as usize,
            offset.saturating_add(len).min(n) as usize,
        );
        d[s..e].fill(0);
        Ok(())
    }

    fn set_size(&self, size: u64) -> Result<(), i32> {
        self.data
            .lock()
            .resize(usize::try_from(size).map_err(|_| EINVAL)?, 0);
        Ok(())
    }
}

/// Pages covering `size` bytes.
fn size_pages(size: u64) -> u64 {
    size.div_ceil(PAGE_SIZE as u64)
}

/// `struct address_space`: the page cache of one file.
pub struct AddressSpace<'m> {
    pub(crate) mem: &'m Mem,
    backing: Contents<'m>,
    /// Index → pfn + 1, one-index ranges (Linux's `i_pages` xarray).
    pages: SpinLock<MapleTree<'m>>,
    /// `nrpages`.
    nrpages: AtomicUsize,
    /// `i_mmap` (with its lock, `i_mmap_rwsem`): the VMAs mapping this
    /// file, linked through their `shared` nodes.
    i_mmap: SpinLock<IMmap>,
    /// A shmem object (`shmem_zero_setup`): pages counted as `NrShmem` and
    /// the mms' `ShmemPages`, never written back nor dirty-accounted, and
    /// the object freed with its last VMA.
    shmem: bool,
    /// `i_count`: references from the file system and from VMAs (one per
    /// VMA, taken in [`i_mmap_link`]); the last one evicts and frees a
    /// reference-counted address space ([`AddressSpace::new_counted`]) or
    /// a shmem object.
    i_count: AtomicUsize,
    /// Freed by its last [`iput`] (else its owner frees it: [`AddressSpace::new`]).
    counted: bool,
    /// Pages of this cache that reclaim has isolated from the LRU lists
    /// (taken under the LRU lock while a page is listed, so the object is
    /// alive); eviction waits for none to be left before freeing it.
    reclaim_pins: AtomicUsize,
    /// The file's size in pages as the fault path last read it (Linux's
    /// `i_size` in the inode): a fault below it needs no size query of the
    /// backing (a host `fstat` for hostfs). It can only be too small: a
    /// fault at or past it asks the backing again, and [`Self::truncate`]
    /// (every shrink ferrite makes) sets it, both under `i_size_lock`.
    i_size_pages: AtomicU64,
    /// Orders the updates of `i_size_pages` (a refresh against a truncate).
    i_size_lock: SpinLock<()>,
    /// The slab cache the object lives in (`inode_cache`,
    /// `shmem_inode_cache`); None: a host `Box` ([`AddressSpace::new`]).
    slab: Option<&'m KmemCache>,
}

/// Where an address space's contents come from: a file system's backing
/// (a host object: it holds host resources), or a shmem object's own
/// size, kept in the object itself (in ferrite's RAM).
enum Contents<'m> {
    File(Box<dyn FileBacking + 'm>),
    Shmem(ShmemBacking),
}

/// The name of the slab cache of file address spaces (Linux embeds the
/// `address_space` in the inode, allocated from `inode_cache` and its
/// per-filesystem kin).
pub const INODE_CACHE: &str = "inode_cache";
/// The name of the slab cache of shmem objects (`shmem_inode_cache`).
pub const SHMEM_INODE_CACHE: &str = "shmem_inode_cache";

/// The slab cache `name` of address spaces, created on first use and kept
/// for the life of `mem` (like Linux's boot-time caches).
fn space_cache<'m>(mem: &'m Mem, name: &str) -> Result<&'m KmemCache, i32> {
    static CREATE: SpinLock<()> = SpinLock::new(());
    let find = || mem.caches().into_iter().find(|c| c.name() == name);
    if let Some(c) = find() {
        return Ok(c);
    }
    let _g = CREATE.lock();
    if let Some(c) = find() {
        return Ok(c);
    }
    let owned = mem
        .kmem_cache_create(
            name,
            core::mem::size_of::<AddressSpace<'_>>(),
            core::mem::align_of::<AddressSpace<'_>>(),
            crate::slab::SlabFlags::SLAB_RECLAIM_ACCOUNT,
            None,
        )
        .map_err(|_| ENOMEM)?;
    // Never destroyed: the only handle is forgotten.
    let owned = core::mem::ManuallyDrop::new(owned);
    let c: *const KmemCache = owned.get();
    // SAFETY: the descriptor lives in `mem`'s RAM and is never destroyed.
    Ok(unsafe { &*c })
}

/// Create the `inode_cache` and `shmem_inode_cache` slab caches (with
/// the other mm caches: [`crate::mmap::init_caches`]).
pub(crate) fn init_caches(mem: &Mem) -> Result<(), i32> {
    space_cache(mem, INODE_CACHE)?;
    space_cache(mem, SHMEM_INODE_CACHE)?;
    Ok(())
}

/// Move `a` into a new object of its slab cache; its address.
fn slab_alloc<'m>(mem: &'m Mem, a: AddressSpace<'m>) -> Result<&'m AddressSpace<'m>, i32> {
    let cache = a.slab.ok_or(EINVAL)?;
    let p = mem
        .cache_alloc_nocpu(cache, Gfp::GFP_KERNEL)
        .ok_or(ENOMEM)?
        .cast::<AddressSpace<'m>>();
    // SAFETY: a fresh object of the cache, sized and aligned for an
    // AddressSpace (see `space_cache`), owned by nobody else.
    unsafe { p.as_ptr().write(a) };
    // SAFETY: initialised just above; freed only by `slab_free`.
    Ok(unsafe { &*p.as_ptr() })
}

/// Drop the address space at `p` and give its object back to its cache.
///
/// # Safety
/// `p` came from [`slab_alloc`] and nobody can reach it any more.
unsafe fn slab_free(cpu: &Cpu<'_>, p: *const AddressSpace<'_>) {
    let p = p as *mut AddressSpace<'_>;
    // SAFETY: the caller's promise: a live object, used by no one else.
    let cache = unsafe { (*p).slab };
    // SAFETY: as above; dropped once.
    unsafe { core::ptr::drop_in_place(p) };
    if let (Some(cache), Some(obj)) = (cache, core::ptr::NonNull::new(p)) {
        let _ = cpu.kmem_cache_free(cache, obj.cast());
    }
}

// SAFETY: the tree and the mapper list are reached only under their locks;
// the tree's nodes are ferrite RAM owned by this address space.
unsafe impl Send for AddressSpace<'_> {}
// SAFETY: as above.
unsafe impl Sync for AddressSpace<'_> {}

impl<'m> AddressSpace<'m> {
    /// An empty page cache for the file `backing`. Boxed: VMAs and pages
    /// record its address.
    pub fn new(mem: &'m Mem, backing: Box<dyn FileBacking + 'm>) -> Result<Box<Self>, i32> {
        let cache = crate::mmap::init_caches(mem)?;
        Ok(Box::new(AddressSpace {
            mem,
            backing: Contents::File(backing),
            pages: SpinLock::new(MapleTree::new(cache)),
            nrpages: AtomicUsize::new(0),
            i_mmap: SpinLock::new(IMmap::EMPTY),
            shmem: false,
            i_count: AtomicUsize::new(1),
            counted: false,
            reclaim_pins: AtomicUsize::new(0),
            i_size_pages: AtomicU64::new(0),
            i_size_lock: SpinLock::new(()),
            slab: None,
        }))
    }

    /// An empty page cache for `backing` that lives while it is referenced
    /// (`iget`): the caller holds the one reference there is, each VMA of
    /// the file takes one more, and the last [`iput`] writes the dirty pages
    /// back (unless the file has no links left), drops every page, tells
    /// the backing ([`FileBacking::evict`]) and frees the object.
    /// The object comes from the `inode_cache` slab cache.
    pub fn new_counted(mem: &'m Mem, backing: Box<dyn FileBacking + 'm>) -> Result<&'m Self, i32> {
        let tree = crate::mmap::init_caches(mem)?;
        slab_alloc(
            mem,
            AddressSpace {
                mem,
                backing: Contents::File(backing),
                pages: SpinLock::new(MapleTree::new(tree)),
                nrpages: AtomicUsize::new(0),
                i_mmap: SpinLock::new(IMmap::EMPTY),
                shmem: false,
                i_count: AtomicUsize::new(1),
                counted: true,
                reclaim_pins: AtomicUsize::new(0),
                i_size_pages: AtomicU64::new(0),
                i_size_lock: SpinLock::new(()),
                slab: Some(space_cache(mem, INODE_CACHE)?),
            },
        )
    }

    /// `igrab`: take a reference unless the last one is gone (the object
    /// is being evicted). Also fine on an owner-managed address space.
    pub fn igrab(&self) -> bool {
        let mut c = self.i_count.load(Relaxed);
        loop {
            if c == 0 {
                return false;
            }
            match self
                .i_count
                .compare_exchange_weak(c, c + 1, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => c = now,
            }
        }
    }

    /// `atomic_read(&inode->i_count)`.
    pub fn i_count(&self) -> usize {
        self.i_count.load(Relaxed)
    }

    /// Whether this is the shmem object of a shared anonymous mapping.
    pub fn is_shmem(&self) -> bool {
        self.shmem
    }

    /// The file's contents.
    pub fn backing(&self) -> &dyn FileBacking {
        match &self.backing {
            Contents::File(b) => &**b,
            Contents::Shmem(s) => s,
        }
    }

    /// `i_size_read`.
    pub fn size(&self) -> u64 {
        self.backing().size()
    }

    /// Whether page `index` lies inside the file (before `EOF`): the
    /// fault path's `i_size_read` check, from the size last seen unless
    /// `index` is past it.
    fn page_in_file(&self, index: usize) -> bool {
        let index = index as u64;
        if index < self.i_size_pages.load(Acquire) {
            return true;
        }
        let _g = self.i_size_lock.lock();
        let pages = size_pages(self.size());
        self.i_size_pages.store(pages, Release);
        index < pages
    }

    /// `mapping->nrpages`.
    pub fn nrpages(&self) -> usize {
        self.nrpages.load(Relaxed)
    }

    fn addr(&self) -> usize {
        self as *const Self as usize
    }

    /// Number of distinct mms with VMAs on this file's `i_mmap` list
    /// (`mapping_mapped` is whether it is non-zero). A diagnostic: it
    /// walks the list.
    pub fn nr_mappers(&self) -> usize {
        let l = self.i_mmap.lock();
        let mut mms = Vec::with_capacity(l.nr);
        // SAFETY: the list's lock is held.
        unsafe { l.for_each(|p| mms.push(p.vm_mm())) };
        drop(l);
        mms.sort_unstable();
        mms.dedup();
        mms.len()
    }

    /// Number of VMAs on this file's `i_mmap` list.
    pub fn nr_i_mmap(&self) -> usize {
        self.i_mmap.lock().nr
    }

    /// The VMAs on this file's `i_mmap` list as (mm address, `vm_start`,
    /// `vm_end`), sorted. Like truncate, it holds the list's lock and
    /// tries each VMA's mm's mmap lock (for reading), starting over while
    /// one is busy: the caller must not hold one of them for writing.
    pub fn i_mmap_vmas(&self, cpu: &Cpu<'_>) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        'retry: loop {
            out.clear();
            let l = self.i_mmap.lock();
            let mut cur = l.head;
            while let Some(p) = VmaPtr::from_value(cur) {
                // SAFETY: on the list, whose lock is held: a live VMA of a
                // live mm.
                let mm = unsafe { vma_mm(p) };
                let Some(st) = mm.mmap_lock.try_read() else {
                    drop(l);
                    cpu.poll();
                    cpu_relax();
                    continue 'retry;
                };
                // SAFETY: live (as above); its mm's mmap lock, held for
                // reading, keeps its fields still.
                let v = unsafe { p.as_ref() };
                out.push((v.vm_mm(), v.vm_start, v.vm_end));
                drop(st);
                // SAFETY: as above.
                cur = unsafe { p.shared() }.next.load(Relaxed);
            }
            out.sort_unstable();
            return out;
        }
    }

    /// `find_get_page`: the cached page at `index` with a reference for
    /// the caller.
    pub fn find_get_page(&self, index: usize) -> Option<&'m Page> {
        let t = self.pages.lock();
        let (_, _, v) = t.find_containing(index)?;
        let page = self.mem.pfn_to_page(v - 1)?;
        page.get_page();
        Some(page)
    }

    /// `add_to_page_cache`: cache `page` (which the caller holds) at
    /// `index`, up to date. The cache takes its own reference. EEXIST if
    /// another page is there.
    pub fn add_to_page_cache(&self, cpu: &Cpu<'_>, page: &Page, index: usize) -> Result<(), i32> {
        let pfn = self.mem.page_to_pfn(page).ok_or(EINVAL)?;
        let end = index.checked_add(1).ok_or(EINVAL)?;
        // The tree is under a spin lock: its node allocations must not wait
        // (a wait would drain the other CPUs, one of which may spin on this
        // very lock). On ENOMEM, make room outside the lock with a waiting
        // allocation and try again (the xarray's `xas_nomem`).
        let mut tries = 0;
        loop {
            let r = {
                let mut t = self.pages.lock();
                t.set_gfp(Gfp::GFP_NOWAIT);
                let r = t.insert(cpu, index, end, pfn + 1);
                t.set_gfp(Gfp::GFP_KERNEL);
                r.map_err(|e| e.errno())
            };
            match r {
                Ok(()) => break,
                Err(ENOMEM) if tries < 3 => {
                    tries += 1;
                    let cache = self.pages.lock().cache();
                    let node = cpu.kmem_cache_alloc(cache, Gfp::GFP_KERNEL).ok_or(ENOMEM)?;
                    let _ = cpu.kmem_cache_free(cache, node);
                }
                Err(e) => return Err(e),
            }
        }
        page.set_mapping(self.addr());
        page.set_index(index as u64);
        page.set_flag(PageFlags::UPTODATE);
        page.get_page();
        self.nrpages.fetch_add(1, Relaxed);
        self.mem.vmstat.add(NodeStatItem::NrFilePages, 1);
        if self.shmem {
            self.mem.vmstat.add(NodeStatItem::NrShmem, 1);
            // shmem pages are swap-backed: the anon lists (never reclaimed
            // without swap).
            page.set_flag(PageFlags::SWAPBACKED);
        }
        crate::vmscan::lru_cache_add(self.mem, page);
        Ok(())
    }

    /// `read_cache_page`: the page at `index`, read in if missing, with a
    /// reference for the caller.
    pub fn read_cache_page(&self, cpu: &Cpu<'_>, index: usize) -> Result<&'m Page, i32> {
        loop {
            if let Some(p) = self.find_get_page(index) {
                return Ok(p);
            }
            let page = cpu.alloc_page(Gfp::GFP_KERNEL).ok_or(ENOMEM)?;
            // The same descriptor, borrowed from this address space's mem_map.
            let pfn = self.mem.page_to_pfn(page).ok_or(ENOMEM)?;
            let page = self.mem.pfn_to_page(pfn).ok_or(ENOMEM)?;
            let buf = self.mem.page_address(page).as_ptr() as *mut [u8; PAGE_SIZE];
            // SAFETY: a fresh page of ferrite RAM, ours alone.
            let r = self.backing().read_page(index as u64, unsafe { &mut *buf });
            let r = r.and_then(|()| self.add_to_page_cache(cpu, page, index));
            match r {
                Ok(()) => return Ok(page),
                Err(EEXIST) => {
                    // Someone cached it first: use theirs.
                    let _ = cpu.put_page(page);
                }
                Err(e) => {
                    let _ = cpu.put_page(page);
                    return Err(e);
                }
            }
        }
    }

    /// `filemap_read` into a kernel buffer (`kernel_read`): the bytes at
    /// `pos..pos + buf.len()` through the cache, each page read in if
    /// missing (and left cached, as Linux leaves it). The caller keeps the
    /// range inside the file: a page past its end reads as zeros.
    pub fn filemap_read(&self, cpu: &Cpu<'_>, pos: u64, buf: &mut [u8]) -> Result<(), i32> {
        let mut done = 0;
        while done < buf.len() {
            let at = pos.checked_add(done as u64).ok_or(EINVAL)?;
            let index = usize::try_from(at / PAGE_SIZE as u64).map_err(|_| EINVAL)?;
            let in_page = (at % PAGE_SIZE as u64) as usize;
            let n = (PAGE_SIZE - in_page).min(buf.len() - done);
            let page = self.read_cache_page(cpu, index)?;
            crate::vmscan::mark_page_accessed(self.mem, page);
            let src = self.mem.page_address(page).as_ptr();
            // SAFETY: a cached page of ferrite RAM held by the reference
            // `read_cache_page` gave; `in_page + n <= PAGE_SIZE`.
            let bytes = unsafe { core::slice::from_raw_parts(src.add(in_page), n) };
            buf[done..done + n].copy_from_slice(bytes);
            let _ = cpu.put_page(page);
            done += n;
        }
        Ok(())
    }

    /// `filemap_fault`: the page for `vmf`, with a reference for the
    /// caller; SIGBUS past the end of the file.
    pub fn filemap_fault(&self, cpu: &Cpu<'_>, vmf: &VmFault) -> VmFaultResult {
        if !self.page_in_file(vmf.pgoff) {
            return VmFaultResult::Sigbus;
        }
        let cached = match self.find_get_page(vmf.pgoff) {
            Some(p) => Ok(p),
            None => {
                if !self.shmem {
                    // The page must be read from the file: a major fault.
                    self.mem
                        .vmstat
                        .count_event(crate::vmstat::VmEventItem::PgMajFault, 1);
                }
                self.read_cache_page(cpu, vmf.pgoff)
            }
        };
        match cached {
            Ok(p) => match self.mem.page_to_pfn(p) {
                Some(pfn) => VmFaultResult::Page(pfn as u64),
                None => VmFaultResult::Sigbus,
            },
            Err(ENOMEM) => VmFaultResult::Oom,
            Err(_) => VmFaultResult::Sigbus,
        }
    }

    /// The indices and pages cached at `first` and above.
    fn cached_from(&self, first: usize) -> Vec<(usize, &'m Page)> {
        let t = self.pages.lock();
        t.iter()
            .filter(|&(s, _, _)| s >= first)
            .filter_map(|(s, _, v)| Some((s, self.mem.pfn_to_page(v - 1)?)))
            .collect()
    }

    /// `truncate_inode_pages_range(first..)`: drop the cache's pages at
    /// `first` and above (dirty data is discarded, as on truncate). Pages
    /// still mapped keep the mappers' references.
    pub fn truncate_inode_pages(&self, cpu: &Cpu<'_>, first: usize) {
        self.truncate_inode_pages_range(cpu, first, usize::MAX);
    }

    /// `truncate_inode_pages_range(first..end)`: drop the cache's pages
    /// of `[first, end)` (dirty data is discarded).
    pub(crate) fn truncate_inode_pages_range(&self, cpu: &Cpu<'_>, first: usize, end: usize) {
        for (index, page) in self.cached_from(first) {
            if index >= end {
                break;
            }
            self.pages.lock().erase(cpu, index);
            clear_page_dirty(self.mem, page);
            page.set_mapping(0);
            page.set_index(0);
            page.clear_flag(PageFlags::UPTODATE);
            self.nrpages.fetch_sub(1, Relaxed);
            self.mem.vmstat.add(NodeStatItem::NrFilePages, -1);
            if self.shmem {
                self.mem.vmstat.add(NodeStatItem::NrShmem, -1);
            }
            let _ = cpu.put_page(page);
        }
    }

    /// Set the cached size from the backing's (after the file system
    /// changed it behind the cache, as `fallocate` may).
    pub(crate) fn refresh_i_size(&self) {
        let _g = self.i_size_lock.lock();
        self.i_size_pages
            .store(size_pages(self.backing().size()), Release);
    }

    /// `unmap_mapping_range(first.., even_cows)`: unmap every page at file
    /// index `first` and above (private copies included) from every mm
    /// mapping the file.
    pub fn unmap_mapping_range(&self, cpu: &Cpu<'_>, first: usize) {
        self.unmap_mapping_pages(cpu, first, usize::MAX, true);
    }

    /// `unmap_mapping_pages`: unmap the pages of file indices
    /// `[first, end)` from every mm mapping the file; the private copies
    /// (anonymous pages of private mappings) too if `even_cows`, else
    /// only the page-cache pages (a hole punched in a file leaves what a
    /// private mapping wrote to its own copies).
    pub fn unmap_mapping_pages(&self, cpu: &Cpu<'_>, first: usize, end: usize, even_cows: bool) {
        let mem = self.mem;
        self.for_each_vma(cpu, |mm, v, pt, tlb| {
            let lo = first.max(v.vm_pgoff);
            let hi = end.min(v.vm_pgoff + v.pages());
            if lo >= hi {
                return;
            }
            let s = v.vm_start + (lo - v.vm_pgoff) * PAGE_SIZE;
            let e = v.vm_start + (hi - v.vm_pgoff) * PAGE_SIZE;
            // Linux's `mmu_gather`: the references of the pages unmapped
            // (a private area's copies may be the last ones) are put only
            // after the mm's harts have flushed; a full batch flushes
            // everything of the mm and puts its pages.
            let mut batch = PageBatch::default();
            let details = crate::mmap::ZapDetails { even_cows };
            crate::mmap::zap_with_details(mm, pt, tlb, v, s, e, &details, &mut |p| {
                if batch.is_full() {
                    let mut all = TlbFlush::new(0);
                    all.flush_all();
                    flush_tlb_mm_range(mem, mm, &all);
                    batch.put_all(mem);
                }
                batch.push(mem, p);
            });
            flush_tlb_mm_range(mem, mm, tlb);
            batch.put_all(mem);
        });
    }

    /// Run `f` for every VMA on this file's `i_mmap` list, with its mm's
    /// mmap lock held for reading and its page-table lock held (Linux
    /// walks `i_mmap` under `i_mmap_rwsem`). The mmap locks are only
    /// tried, since `i_mmap` nests inside them: a busy one means dropping
    /// `i_mmap` and starting over, so `f` must be harmless to repeat for a
    /// VMA it has already seen.
    ///
    /// `f` records its changes in a gather of its own, which `f` must
    /// have flushed (`flush_tlb_mm_range`) before it returns if it
    /// changed anything; the walker then adds it to the mm's pending
    /// flush too.
    fn for_each_vma(
        &self,
        cpu: &Cpu<'_>,
        mut f: impl FnMut(&MmStruct<'static>, &VmAreaStruct, &mut PageTable<'static>, &mut TlbFlush),
    ) {
        'retry: loop {
            let list = self.i_mmap.lock();
            let mut cur = list.head;
            while let Some(p) = VmaPtr::from_value(cur) {
                // SAFETY: on the list, whose lock is held: a live VMA (it
                // leaves the list before it is freed) of a live mm (which
                // frees its VMAs before it goes).
                let mm = unsafe { vma_mm(p) };
                let Some(st) = mm.mmap_lock.try_read() else {
                    drop(list);
                    cpu.poll();
                    cpu_relax();
                    continue 'retry;
                };
                // SAFETY: live (as above); its mm's mmap lock, held for
                // reading until `v` is dropped, keeps it from changing.
                let v = unsafe { p.as_ref() };
                let mut pg = mm.page_table_lock.lock();
                let PgtState { pt, tlb } = &mut *pg;
                if let Some(pt) = pt.as_mut() {
                    let mut local = TlbFlush::new(0);
                    f(mm, v, pt, &mut local);
                    tlb.merge(&local);
                }
                cur = v.shared.next.load(Relaxed);
                drop(pg);
                drop(st);
            }
            return;
        }
    }

    /// `truncate_setsize` + `truncate_pagecache`: set the size, zero the
    /// tail of a partial last page, unmap and drop every page past it.
    pub fn truncate(&self, cpu: &Cpu<'_>, size: u64) -> Result<(), i32> {
        {
            let _g = self.i_size_lock.lock();
            self.backing().set_size(size)?;
            self.i_size_pages.store(size_pages(size), Release);
        }
        let first = usize::try_from(size_pages(size)).map_err(|_| EINVAL)?;
        self.unmap_mapping_range(cpu, first);
        self.truncate_inode_pages(cpu, first);
        // Again, as Linux's `truncate_pagecache` does: a fault that raced
        // with the first pass may have mapped a page just dropped.
        self.unmap_mapping_range(cpu, first);
        let tail = (size % PAGE_SIZE as u64) as usize;
        if tail != 0 {
            if let Some(p) = self.find_get_page(first - 1) {
                let a = self.mem.page_address(p).as_ptr();
                // SAFETY: a cached page of ferrite RAM; the tail is past EOF.
                unsafe { core::ptr::write_bytes(a.add(tail), 0, PAGE_SIZE - tail) };
                let _ = cpu.put_page(p);
            }
        }
        Ok(())
    }

    /// Write every dirty cached page back and clean it
    /// (`filemap_write_and_wait`); the number written.
    pub fn writeback(&self, cpu: &Cpu<'_>) -> Result<usize, i32> {
        let _ = cpu;
        if self.shmem {
            // shmem has no backing store to write to (until swap).
            return Ok(0);
        }
        let mut n = 0;
        for (index, page) in self.cached_from(0) {
            if !page.flags().contains(PageFlags::DIRTY) {
                continue;
            }
            // `folio_clear_dirty_for_io`: write-protect the mappings first,
            // so a write from now on faults and dirties the page again.
            self.page_mkclean(cpu, index, page);
            clear_page_dirty(self.mem, page);
            let buf = self.mem.page_address(page).as_ptr() as *const [u8; PAGE_SIZE];
            // SAFETY: a cached page (the cache's reference keeps it).
            if let Err(e) = self.backing().write_page(index as u64, unsafe { &*buf }) {
                // `folio_redirty_for_writepage`: try again next time.
                set_page_dirty(self.mem, page);
                return Err(e);
            }
            n += 1;
        }
        Ok(n)
    }

    /// `page_mkclean`: clear the write and dirty bits of every PTE that
    /// maps `page` (at `index`) in a shared area of the file, recording the
    /// TLB flushes; the number of PTEs cleaned. Like truncate, it only
    /// tries the mappers' mmap locks (for reading) while holding `i_mmap`,
    /// and starts over when one is held for writing.
    pub fn page_mkclean(&self, cpu: &Cpu<'_>, index: usize, page: &Page) -> usize {
        let Some(pfn) = self.mem.page_to_pfn(page) else {
            return 0;
        };
        let mut n = 0;
        let mem = self.mem;
        self.for_each_vma(cpu, |mm, v, pt, tlb| {
            if !v.vm_flags.contains(VmFlags::VM_SHARED) {
                return;
            }
            let Some(va) = crate::rmap::vma_address(v, index) else {
                return;
            };
            let Some(e) = pt.lookup(va) else {
                return;
            };
            if !e.is_present() || e.pfn() as usize != pfn {
                return;
            }
            if e.is_write() || e.is_dirty() {
                set_pte(cpu, pt, tlb, va, e.wrprotect().mkclean());
                // `flush_tlb_page` in `page_mkclean_one`: no hart may keep
                // a writable entry once the page counts as clean.
                flush_tlb_mm_range(mem, mm, tlb);
                n += 1;
            }
        });
        n
    }

    /// Drop every cached page and the tree's nodes (the file is closed
    /// for good). Every mm that mapped the file must have exited.
    pub fn release(&self, cpu: &Cpu<'_>) {
        self.truncate_inode_pages(cpu, 0);
        self.wait_for_reclaim(cpu);
        self.pages.lock().destroy(cpu);
    }

    /// Wait until reclaim holds no page of this cache isolated (its pages
    /// are all off the LRU lists by now, so no new pin can come).
    fn wait_for_reclaim(&self, cpu: &Cpu<'_>) {
        // Reclaim pins a cache after reading a page's mapping under the
        // LRU lock; taking that lock once orders us after any such read
        // that could still see this cache (the pages' mappings are cleared
        // by now), so its pin is visible below.
        crate::vmscan::lru_lock_sync(self.mem);
        while self.reclaim_pins.load(Acquire) != 0 {
            cpu.poll();
            cpu_relax();
        }
    }

    /// Reclaim isolated one of this cache's pages (under the LRU lock).
    pub(crate) fn pin(&self) {
        self.reclaim_pins.fetch_add(1, Relaxed);
    }

    /// Reclaim is done with a page it pinned the cache for.
    pub(crate) fn unpin(&self) {
        self.reclaim_pins.fetch_sub(1, Release);
    }

    /// `rmap_walk_file` for reclaim: call `f` for every PTE that maps
    /// `page` (pfn `pfn`) in an area of this file, with the mm's mmap
    /// lock (read) and page-table lock held. Reclaim runs inside
    /// allocations, perhaps with any of these locks already held by its
    /// own thread, so every lock is only tried: false (and a partial walk)
    /// when one is busy.
    ///
    /// `f` records its changes in a gather of its own; the walker adds it
    /// to the mm's pending flush and, with `ubc`, to the batch of remote
    /// flushes the caller owes before it frees the page.
    fn rmap_walk_try(
        &self,
        page: &Page,
        pfn: usize,
        mut ubc: Option<&mut TlbUnmapBatch>,
        mut f: impl FnMut(
            &MmStruct<'static>,
            &VmAreaStruct,
            &mut PageTable<'static>,
            &mut TlbFlush,
            usize,
            Pte,
        ),
    ) -> bool {
        let index = page.index() as usize;
        let Some(list) = self.i_mmap.try_lock() else {
            return false;
        };
        let mut cur = list.head;
        while let Some(p) = VmaPtr::from_value(cur) {
            // SAFETY: on the list, whose lock is held: a live VMA of a live
            // mm (see `for_each_vma`).
            let mm = unsafe { vma_mm(p) };
            let Some(st) = mm.mmap_lock.try_read() else {
                return false;
            };
            // SAFETY: live (as above); its mm's mmap lock, held for reading
            // until `v` is dropped, keeps it from changing.
            let v = unsafe { p.as_ref() };
            cur = v.shared.next.load(Relaxed);
            let Some(mut pg) = mm.page_table_lock.try_lock() else {
                return false;
            };
            let PgtState { pt, tlb } = &mut *pg;
            let Some(pt) = pt.as_mut() else {
                continue;
            };
            let Some(va) = crate::rmap::vma_address(v, index) else {
                continue;
            };
            match pt.lookup(va) {
                Some(e) if e.is_present() && !e.is_special() && e.pfn() as usize == pfn => {
                    let mut local = TlbFlush::new(0);
                    f(mm, v, pt, &mut local, va, e);
                    tlb.merge(&local);
                    if let Some(b) = ubc.as_deref_mut() {
                        b.add_pending(mm, &local, false);
                    }
                }
                _ => {}
            }
            drop(pg);
            drop(st);
        }
        true
    }

    /// `folio_referenced` for a page of this cache: the number of PTEs
    /// mapping it that were young (their accessed bits are cleared, as
    /// Linux's `ptep_clear_flush_young`), whether an mlocked area maps it,
    /// and whether an executable one does. None when a lock was busy.
    pub(crate) fn page_referenced(
        &self,
        cpu: &Cpu<'_>,
        page: &Page,
    ) -> Option<(usize, bool, bool)> {
        let pfn = self.mem.page_to_pfn(page)?;
        let (mut young, mut locked, mut exec) = (0, false, false);
        // Clearing the accessed bit needs no flush (Linux's
        // `ptep_clear_flush_young` on riscv and x86 does none either): a
        // stale entry only gives the page another round.
        let done = self.rmap_walk_try(page, pfn, None, |_, v, pt, tlb, va, e| {
            locked |= v.vm_flags.contains(VmFlags::VM_LOCKED);
            exec |= v.vm_flags.contains(VmFlags::VM_EXEC);
            if e.is_young() {
                set_pte(cpu, pt, tlb, va, e.mkold());
                young += 1;
            }
        });
        done.then_some((young, locked, exec))
    }

    /// `try_to_unmap` for a page of this cache (shared areas and the
    /// not-yet-copied pages of private ones): remove every PTE mapping it,
    /// moving a PTE's dirty bit to the page, unless an mlocked area maps
    /// it. The caller holds a reference. True when no PTE maps it any
    /// more.
    ///
    /// The remote TLB flushes this owes are added to `ubc`, which the
    /// caller carries out before the page is freed
    /// ([`TlbUnmapBatch::flush`]), or written back when a dirty PTE was
    /// removed ([`TlbUnmapBatch::flush_dirty`]).
    pub(crate) fn try_to_unmap(&self, cpu: &Cpu<'_>, page: &Page, ubc: &mut TlbUnmapBatch) -> bool {
        let Some(pfn) = self.mem.page_to_pfn(page) else {
            return false;
        };
        let mem = self.mem;
        let mut dirty = false;
        let done = self.rmap_walk_try(page, pfn, Some(&mut *ubc), |mm, v, pt, tlb, va, _| {
            if v.vm_flags.contains(VmFlags::VM_LOCKED) {
                return;
            }
            if let Some(old) = pt.unmap_page(va, tlb) {
                if old.is_dirty() {
                    dirty = true;
                    set_page_dirty(mem, page);
                }
                mm.update_hiwater_rss();
                mm.add_mm_counter(mm_counter_file(page), -1);
                crate::fault::page_remove_rmap(mem, page, false);
                // The mapping's reference; the caller's keeps the page.
                let _ = cpu.put_page(page);
            }
        });
        if dirty {
            ubc.add_dirty();
        }
        done && page.mapcount() == 0
    }

    /// `pageout`: write the unmapped dirty `page` back and clean it.
    pub(crate) fn pageout(&self, page: &Page) -> Result<(), i32> {
        clear_page_dirty(self.mem, page);
        let buf = self.mem.page_address(page).as_ptr() as *const [u8; PAGE_SIZE];
        // SAFETY: a cached page held by the caller's reference.
        let r = self.backing().write_page(page.index(), unsafe { &*buf });
        if r.is_err() {
            set_page_dirty(self.mem, page);
        }
        r
    }

    /// `remove_mapping` (`__remove_mapping`): take the clean, unmapped
    /// `page` out of the cache if nobody but the cache and the caller
    /// holds it (checked under the cache's lock, which `find_get_page`
    /// takes to get a reference), dropping the cache's reference. False
    /// when the page is busy, dirty, mapped, or no longer this cache's.
    pub(crate) fn remove_mapping(&self, cpu: &Cpu<'_>, page: &Page) -> bool {
        let Some(pfn) = self.mem.page_to_pfn(page) else {
            return false;
        };
        let index = page.index() as usize;
        let Some(mut t) = self.pages.try_lock() else {
            return false;
        };
        match t.find_containing(index) {
            Some((_, _, v)) if v == pfn + 1 => {}
            _ => return false,
        }
        if page.refcount() != 2
            || page.mapcount() > 0
            || page.flags().contains(PageFlags::DIRTY)
            || page.mapping() != self.addr()
        {
            return false;
        }
        t.erase(cpu, index);
        drop(t);
        page.set_mapping(0);
        page.set_index(0);
        page.clear_flag(PageFlags::UPTODATE);
        self.nrpages.fetch_sub(1, Relaxed);
        self.mem.vmstat.add(NodeStatItem::NrFilePages, -1);
        let _ = cpu.put_page(page);
        true
    }

    /// Put the VMA at `p` at the head of `i_mmap` (`vma_interval_tree_insert`).
    ///
    /// # Safety
    /// `p` is a live VMA on no list, which stays live until it is unlinked.
    unsafe fn link(&self, p: VmaPtr) {
        let mut l = self.i_mmap.lock();
        // SAFETY: the caller's promise.
        let n = unsafe { p.shared() };
        let on = n.mapping.load(Relaxed);
        if on != 0 {
            self.mem.printk(format_args!(
                "BUG: i_mmap_link: VMA {:#x} is already on the i_mmap list of mapping {on:#x}\n",
                p.value()
            ));
            return;
        }
        n.prev.store(0, Relaxed);
        n.next.store(l.head, Relaxed);
        if let Some(h) = VmaPtr::from_value(l.head) {
            // SAFETY: on the list, whose lock is held: live.
            unsafe { h.shared() }.prev.store(p.value(), Relaxed);
        }
        l.head = p.value();
        l.nr += 1;
        n.mapping.store(self.addr(), Relaxed);
    }

    /// Take the VMA at `p` off `i_mmap` (`vma_interval_tree_remove`).
    ///
    /// # Safety
    /// `p` is a live VMA.
    unsafe fn unlink(&self, p: VmaPtr) {
        let mut l = self.i_mmap.lock();
        // SAFETY: the caller's promise.
        let n = unsafe { p.shared() };
        let on = n.mapping.load(Relaxed);
        if on != self.addr() {
            self.mem.printk(format_args!(
                "BUG: i_mmap_unlink: VMA {:#x} is on the i_mmap list of mapping {on:#x}, not {:#x}\n",
                p.value(),
                self.addr()
            ));
            return;
        }
        let (prev, next) = (n.prev.load(Relaxed), n.next.load(Relaxed));
        match VmaPtr::from_value(prev) {
            // SAFETY: its neighbours are on the list, whose lock is held.
            Some(q) => unsafe { q.shared() }.next.store(next, Relaxed),
            None => l.head = next,
        }
        if let Some(q) = VmaPtr::from_value(next) {
            // SAFETY: as above.
            unsafe { q.shared() }.prev.store(prev, Relaxed);
        }
        l.nr -= 1;
        n.prev.store(0, Relaxed);
        n.next.store(0, Relaxed);
        n.mapping.store(0, Relaxed);
    }
}

/// A VMA's link on its file's `i_mmap` list (Linux's `vma->shared`): the
/// neighbouring VMAs' addresses and the address space whose list it is on
/// (0 when on none). Changed only under that list's lock; atomics, so
/// that a link can change while the rest of its VMA is borrowed. A clone
/// (a copy of a VMA) is on no list.
#[derive(Debug, Default)]
pub(crate) struct IMmapNode {
    prev: AtomicUsize,
    next: AtomicUsize,
    mapping: AtomicUsize,
}

impl IMmapNode {
    /// The address space whose `i_mmap` list the VMA is on, 0 for none.
    pub(crate) fn mapping(&self) -> usize {
        self.mapping.load(Relaxed)
    }
}

impl Clone for IMmapNode {
    fn clone(&self) -> Self {
        IMmapNode::default()
    }
}

/// The head of an `i_mmap` list, guarded by the address space's `i_mmap`
/// lock (which also guards every link on the list).
struct IMmap {
    /// The first VMA's address, 0 when the list is empty.
    head: usize,
    /// VMAs on the list.
    nr: usize,
}

impl IMmap {
    const EMPTY: IMmap = IMmap { head: 0, nr: 0 };

    /// Call `f` for every VMA on the list.
    ///
    /// # Safety
    /// `self` is borrowed from the list's lock guard; `f` must not assume
    /// more than that the VMA is live (its mm may be changing its fields).
    unsafe fn for_each(&self, mut f: impl FnMut(VmaPtr)) {
        let mut cur = self.head;
        while let Some(p) = VmaPtr::from_value(cur) {
            // SAFETY: on the list, whose lock the caller holds: live.
            cur = unsafe { p.shared() }.next.load(Relaxed);
            f(p);
        }
    }
}

/// The mm of a VMA on an `i_mmap` list (`vma->vm_mm`).
///
/// # Safety
/// `p` is on an `i_mmap` list whose lock the caller holds for `'a`: the
/// VMA is live, and so is its mm (an mm takes every VMA of its off the
/// lists and frees it before it is freed itself).
unsafe fn vma_mm<'a>(p: VmaPtr) -> &'a MmStruct<'static> {
    // SAFETY: the caller's promise.
    let mm = unsafe { p.vm_mm() }.expect("a VMA on i_mmap without its mm");
    // SAFETY: `vm_mm` is the mm that inserted the VMA, live as the
    // caller promises; walkers reach only its locks and atomics.
    unsafe { mm.as_ref() }
}

/// The file VMA at `p` joined its mm (`vma_link_file`): it takes a
/// reference to its file (Linux's VMA holds its `vm_file`) and goes on the
/// file's `i_mmap` list. Called with the mm's mmap lock held for writing
/// (or the mm to itself).
///
/// # Safety
/// `p` is a live VMA, on no `i_mmap` list, with `vm_mm` set to its live
/// mm and `vm_file` the address of a live `AddressSpace`; it stays live
/// until [`i_mmap_unlink`] takes it off.
pub(crate) unsafe fn i_mmap_link(p: VmaPtr) {
    // SAFETY: the caller's promise: live and the caller's.
    let Some(file) = unsafe { p.as_ref() }.vm_file else {
        return;
    };
    // SAFETY: the caller's promise.
    let m = unsafe { file.as_ref() };
    m.i_count.fetch_add(1, Relaxed);
    // SAFETY: the caller's promise.
    unsafe { m.link(p) };
}

/// Take the file VMA at `p` off its file's `i_mmap` list
/// (`unlink_file_vma`), before it is freed; it keeps its file reference
/// until [`fput`]. Called with the mm's mmap lock held for writing
/// (or the mm to itself).
///
/// # Safety
/// `p` is a live VMA the caller owns, linked by [`i_mmap_link`], whose
/// file is live.
pub(crate) unsafe fn i_mmap_unlink(p: VmaPtr) {
    // SAFETY: the caller's promise: live and the caller's.
    let Some(file) = unsafe { p.as_ref() }.vm_file else {
        return;
    };
    // SAFETY: the caller's promise.
    unsafe { file.as_ref().unlink(p) };
}

/// `fput`: drop a reference to `file` held through its handle (a VMA's,
/// once the VMA is off `i_mmap` (`remove_vma`), the one
/// [`shmem_zero_setup`] gives, or one taken with `igrab`): the last one
/// frees a shmem object or evicts a counted address space (see [`iput`]).
///
/// # Safety
/// The caller owns one reference to `file`, which it gives up.
pub(crate) unsafe fn fput(cpu: &Cpu<'_>, file: FilePtr) {
    // SAFETY: the caller's reference keeps it alive until the put.
    unsafe { iput(cpu, file.as_ref()) };
}

/// `iput`: drop a reference to `space`. The last one of a shmem object
/// frees it (its pages and the object); the last one of a counted
/// address space evicts it (`iput_final` → `evict`): its dirty pages are
/// written back if the file still has links (a deleted file's are
/// dropped), every page is freed (`truncate_inode_pages`), the backing is
/// told ([`FileBacking::evict`], which closes its host file) and the
/// object is freed. Linux keeps an unused inode and its pages cached until
/// memory pressure; ferrite drops them at once, since it cannot know
/// whether another host process changes the file in the meantime.
///
/// # Safety
/// `space` is live and the caller owns one of its references, which it
/// gives up (the object may be gone when this returns).
pub unsafe fn iput(cpu: &Cpu<'_>, space: *const AddressSpace<'_>) {
    // SAFETY: the caller's reference keeps it alive until the decrement.
    let a = unsafe { &*space };
    if a.i_count.fetch_sub(1, AcqRel) != 1 {
        return;
    }
    if a.shmem {
        // SAFETY: the last reference to a shmem object (from
        // `shmem_zero_setup`) just went: nobody else can reach it.
        unsafe { shmem_free(cpu, space) };
        return;
    }
    if !a.counted {
        return;
    }
    if !a.shmem && a.backing().nlink() != 0 {
        // Errors are lost, as Linux loses them at eviction.
        let _ = a.writeback(cpu);
    }
    a.truncate_inode_pages(cpu, 0);
    a.wait_for_reclaim(cpu);
    a.pages.lock().destroy(cpu);
    a.backing().evict();
    // SAFETY: a counted address space comes from `slab_alloc` in
    // `new_counted`, and this was its last reference: nobody else can
    // reach it (igrab refuses a count of 0).
    unsafe { slab_free(cpu, space) };
}

/// The in-RAM contents of a shmem object: nothing but its size. Every
/// page lives in the page cache from its first fault (zero-filled) until
/// the object goes; there is nothing to write back (no swap yet).
pub struct ShmemBacking {
    size: core::sync::atomic::AtomicU64,
    /// How /proc/PID/maps names a file system's shmem file (a tmpfs file,
    /// a memfd: [`shmem_file_setup`]); None for the object of a shared
    /// anonymous mapping, which maps names by its VMA.
    identity: SpinLock<Option<FileIdentity>>,
}

impl FileBacking for ShmemBacking {
    fn size(&self) -> u64 {
        self.size.load(Relaxed)
    }

    fn read_page(&self, _index: u64, buf: &mut [u8; PAGE_SIZE]) -> Result<(), i32> {
        buf.fill(0);
        Ok(())
    }

    fn write_page(&self, _index: u64, _buf: &[u8; PAGE_SIZE]) -> Result<(), i32> {
        Ok(())
    }

    fn set_size(&self, size: u64) -> Result<(), i32> {
        self.size.store(size, Relaxed);
        Ok(())
    }

    fn identity(&self) -> Option<FileIdentity> {
        self.identity.lock().clone()
    }
}

/// `shmem_zero_setup` (`shmem_kernel_file_setup("dev/zero")`): the shmem
/// object behind a `MAP_SHARED | MAP_ANONYMOUS` mapping of `size` bytes,
/// as the address VMAs record in `vm_file`, with one reference for the
/// caller (which drops it with [`iput`] once its VMA holds its own). It
/// lives until the last reference goes (each VMA holds one: fork and
/// splits add VMAs; see `fput`).
pub fn shmem_zero_setup(mem: &Mem, size: u64) -> Result<FilePtr, i32> {
    shmem_new(mem, size, None).map(FilePtr::of)
}

/// `shmem_file_setup`: a shmem object of `size` bytes for a file system
/// (a tmpfs file, a memfd), named in /proc/PID/maps by `identity`, with
/// one reference for the caller. It lives, like the object of a shared
/// anonymous mapping, until its last reference goes: the file system's
/// (an open file, a directory entry) and each VMA's. Its pages are
/// shmem pages (see the module docs): never written back, never
/// reclaimed without swap.
pub fn shmem_file_setup<'m>(
    mem: &'m Mem,
    size: u64,
    identity: FileIdentity,
) -> Result<&'m AddressSpace<'m>, i32> {
    shmem_new(mem, size, Some(identity))
}

impl AddressSpace<'_> {
    /// Rename a file system's shmem object in /proc/PID/maps (its file
    /// was renamed or unlinked); nothing for other address spaces.
    pub fn set_shmem_identity(&self, identity: FileIdentity) {
        if let Contents::Shmem(s) = &self.backing {
            *s.identity.lock() = Some(identity);
        }
    }
}

fn shmem_new<'m>(
    mem: &'m Mem,
    size: u64,
    identity: Option<FileIdentity>,
) -> Result<&'m AddressSpace<'m>, i32> {
    let backing = Contents::Shmem(ShmemBacking {
        size: core::sync::atomic::AtomicU64::new(size),
        identity: SpinLock::new(identity),
    });
    let cache = crate::mmap::init_caches(mem)?;
    slab_alloc(
        mem,
        AddressSpace {
            mem,
            backing,
            pages: SpinLock::new(MapleTree::new(cache)),
            nrpages: AtomicUsize::new(0),
            i_mmap: SpinLock::new(IMmap::EMPTY),
            shmem: true,
            i_count: AtomicUsize::new(1),
            counted: false,
            reclaim_pins: AtomicUsize::new(0),
            i_size_pages: AtomicU64::new(0),
            i_size_lock: SpinLock::new(()),
            slab: Some(space_cache(mem, SHMEM_INODE_CACHE)?),
        },
    )
}

/// Free the shmem object at `p` (its pages and the object), once its last
/// reference is gone.
///
/// # Safety
/// `p` came from [`shmem_new`] and nothing refers to it any more:
/// the caller is its only owner.
unsafe fn shmem_free(cpu: &Cpu<'_>, p: *const AddressSpace<'_>) {
    // SAFETY: the caller's promise: `p` came from `slab_alloc` in
    // `shmem_new`, and nothing else owns it.
    unsafe { (*p).release(cpu) };
    // SAFETY: as above; not used after this.
    unsafe { slab_free(cpu, p) };
}

/// Whether `page` belongs to a shmem object's page cache.
pub fn page_is_shmem(page: &Page) -> bool {
    if !page_is_file(page) {
        return false;
    }
    // SAFETY: a page-cache page's mapping is its live address space.
    FilePtr::from_addr(page.mapping()).is_some_and(|f| unsafe { f.as_ref() }.shmem)
}

/// `mm_counter_file`: the RSS counter a mapped page-cache page counts in.
pub fn mm_counter_file(page: &Page) -> RssCounter {
    if page_is_shmem(page) {
        RssCounter::ShmemPages
    } else {
        RssCounter::FilePages
    }
}

/// Whether `page` is a page-cache page (`page->mapping` names an address
/// space, not an `anon_vma`).
pub fn page_is_file(page: &Page) -> bool {
    let m = page.mapping();
    m != 0 && m & PAGE_MAPPING_ANON == 0
}

/// `set_page_dirty`: counted in `NrFileDirty` once (not for shmem, which
/// has no writeback: `mapping_can_writeback` is false).
pub fn set_page_dirty(mem: &Mem, page: &Page) {
    if !page.test_and_set_flag(PageFlags::DIRTY) && !page_is_shmem(page) {
        mem.vmstat.add(NodeStatItem::NrFileDirty, 1);
    }
}

fn clear_page_dirty(mem: &Mem, page: &Page) {
    if page.flags().contains(PageFlags::DIRTY) {
        page.clear_flag(PageFlags::DIRTY);
        if !page_is_shmem(page) {
            mem.vmstat.add(NodeStatItem::NrFileDirty, -1);
        }
    }
}

/// An open file (`struct file`): its page cache and open mode.
#[derive(Clone, Copy)]
pub struct File<'a, 'm> {
    mapping: &'a AddressSpace<'m>,
    f_mode: u32,
}

impl<'a, 'm> File<'a, 'm> {
    /// Open `mapping` with `f_mode` (`FMODE_READ`, `FMODE_WRITE`).
    pub fn open(mapping: &'a AddressSpace<'m>, f_mode: u32) -> Self {
        File { mapping, f_mode }
    }

    /// `f_mapping`.
    pub fn mapping(&self) -> &'a AddressSpace<'m> {
        self.mapping
    }

    /// The handle VMAs record as `vm_file`.
    pub fn mapping_ptr(&self) -> FilePtr {
        FilePtr::of(self.mapping)
    }

    /// The address of the page cache (what its pages' `mapping` holds).
    pub fn mapping_addr(&self) -> usize {
        self.mapping.addr()
    }

    /// `f_mode & FMODE_READ`.
    pub fn can_read(&self) -> bool {
        self.f_mode & FMODE_READ != 0
    }

    /// `f_mode & FMODE_WRITE`.
    pub fn can_write(&self) -> bool {
        self.f_mode & FMODE_WRITE != 0
    }
}

/// The `vm_operations_struct` of page-cache files
/// (`generic_file_vm_ops`).
pub struct FileVmOps;

/// The one instance file VMAs point to (VMAs merge only with equal ops).
pub static FILE_VM_OPS: FileVmOps = FileVmOps;

impl VmOperations for FileVmOps {
    fn fault(&self, _vma: &VmAreaStruct, _vmf: &VmFault) -> VmFaultResult {
        // Reading a page in needs a CPU: see `fault_cpu`.
        VmFaultResult::Retry
    }

    fn fault_cpu(&self, cpu: &Cpu<'_>, vma: &VmAreaStruct, vmf: &VmFault) -> VmFaultResult {
        let Some(file) = vma.vm_file else {
            return VmFaultResult::Sigbus;
        };
        // SAFETY: the VMA's reference keeps its file live.
        unsafe { file.as_ref() }.filemap_fault(cpu, vmf)
    }

    fn page_mkwrite(&self, vma: &VmAreaStruct, vmf: &VmFault) -> VmFaultResult {
        let Some(file) = vma.vm_file else {
            return VmFaultResult::Sigbus;
        };
        // SAFETY: as above.
        let m = unsafe { file.as_ref() };
        if !m.page_in_file(vmf.pgoff) {
            return VmFaultResult::Sigbus;
        }
        VmFaultResult::NoPage
    }
}

fn vm_fault(vma: &VmAreaStruct, va: usize, write: bool) -> VmFault {
    VmFault {
        address: va,
        pgoff: vma.vm_pgoff + (va - vma.vm_start) / PAGE_SIZE,
        write,
    }
}

fn result_err(r: VmFaultResult) -> FaultError {
    match r {
        VmFaultResult::Oom => FaultError::Oom,
        VmFaultResult::Sigsegv => FaultError::AccErr,
        _ => FaultError::Sigbus,
    }
}

/// `do_fault` for an empty PTE at `va` of the file area `vma`:
/// `do_read_fault`, `do_cow_fault` (a private write) or `do_shared_fault`.
pub(crate) fn do_fault(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    vma: &VmAreaStruct,
    va: usize,
    write: bool,
    av: Option<AnonVmaPtr>,
) -> Result<(), FaultError> {
    let mem = mm.mem();
    let ops = vma.vm_ops.ok_or(FaultError::Sigbus)?;
    let vmf = vm_fault(vma, va, write);
    let page = match ops.fault_cpu(cpu, vma, &vmf) {
        VmFaultResult::Page(pfn) => mem.pfn_to_page(pfn as usize).ok_or(FaultError::Sigbus)?,
        r => return Err(result_err(r)),
    };
    let shared = vma.vm_flags.contains(VmFlags::VM_SHARED);
    if write && !shared {
        return do_cow_fault(cpu, mm, vma, va, page, av);
    }
    let mut e = Pte::new(
        mem.page_to_pfn(page).ok_or(FaultError::Oom)? as u64,
        vma.vm_page_prot,
    )
    .ok_or(FaultError::Oom)?
    .mkyoung();
    if !write {
        if vma.wants_writenotify() {
            // Write-notify, whatever `vm_page_prot` says: the first write
            // faults to dirty the page.
            e = e.wrprotect();
        }
    } else {
        let r = ops.page_mkwrite(vma, &vmf);
        if r != VmFaultResult::NoPage {
            let _ = cpu.put_page(page);
            return Err(result_err(r));
        }
        set_page_dirty(mem, page);
        e = e.mkwrite().mkdirty();
    }
    finish_fault(cpu, mm, va, page, e)
}

/// Map `page` (whose reference the caller passes on) at `va` with `e`,
/// accounting a file mapping.
fn finish_fault(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    va: usize,
    page: &Page,
    e: Pte,
) -> Result<(), FaultError> {
    let mem = mm.mem();
    let installed = install_pte(cpu, mm, va, e, || {
        if page.raw_mapcount().fetch_add(1, Relaxed) == -1 {
            mem.vmstat.add(NodeStatItem::NrFileMapped, 1);
        }
        mm.add_mm_counter(mm_counter_file(page), 1);
    });
    if installed != Ok(true) {
        let _ = cpu.put_page(page);
    }
    installed.map(|_| ())
}

/// `do_cow_fault`: a private copy of the file page `page` (whose fault
/// reference is dropped) mapped writable at `va`.
fn do_cow_fault(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    vma: &VmAreaStruct,
    va: usize,
    page: &Page,
    av: Option<AnonVmaPtr>,
) -> Result<(), FaultError> {
    let mem = mm.mem();
    let new = cpu.alloc_page(Gfp::GFP_KERNEL);
    if let Some(new) = new {
        let src = mem.page_address(page).as_ptr();
        let dst = mem.page_address(new).as_ptr();
        // SAFETY: two distinct pages of RAM; `page` is held by our reference.
        unsafe { core::ptr::copy_nonoverlapping(src, dst, PAGE_SIZE) };
    }
    let _ = cpu.put_page(page);
    let new = new.ok_or(FaultError::Oom)?;
    let pfn = mem.page_to_pfn(new).ok_or(FaultError::Oom)? as u64;
    let e = Pte::new(pfn, vma.vm_page_prot)
        .ok_or(FaultError::Oom)?
        .mkwrite()
        .mkdirty()
        .mkyoung();
    let installed = install_pte(cpu, mm, va, e, || {
        account_new_page(mm, new, false, av, vma, va);
    });
    if installed != Ok(true) {
        let _ = cpu.put_page(new);
    }
    installed.map(|_| ())
}

/// `do_wp_page` on a shared file area (`wp_page_shared`): the first write
/// to a read-only mapped page calls `page_mkwrite`, dirties the page and
/// makes the PTE writable.
pub(crate) fn do_shared_wp(
    cpu: &Cpu<'_>,
    mm: &MmStruct<'_>,
    vma: &VmAreaStruct,
    va: usize,
    orig: Pte,
) -> Result<(), FaultError> {
    let mem = mm.mem();
    if let Some(ops) = vma.vm_ops {
        let r = ops.page_mkwrite(vma, &vm_fault(vma, va, true));
        if r != VmFaultResult::NoPage {
            return Err(result_err(r));
        }
    }
    let mut pg = mm.page_table_lock.lock();
    let PgtState { pt, tlb } = &mut *pg;
    let pt = pt.as_mut().ok_or(FaultError::MapErr)?;
    if pt.lookup(va) != Some(orig) {
        return Ok(());
    }
    if let Some(p) = mapped_page(mem, orig) {
        set_page_dirty(mem, p);
    }
    set_pte(cpu, pt, tlb, va, orig.mkwrite().mkdirty().mkyoung());
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::mem::{MemConfig, RAM_ALIGN};
    use crate::mmap::{MAP_FIXED, MAP_SHARED, PROT_READ};
    use alloc::string::String;
    use alloc::sync::Arc;
    use std::sync::Mutex;

    /// Freeing a VMA still on an `i_mmap` list (a path that forgot
    /// `i_mmap_unlink`) is reported as a BUG, panics with debug assertions
    /// (here), and leaves the VMA where it was.
    #[test]
    fn freeing_a_vma_still_on_i_mmap_is_a_bug() {
        let bytes = 16 << 20;
        let layout = std::alloc::Layout::from_size_align(bytes, RAM_ALIGN).unwrap();
        // SAFETY: a non-zero size.
        let ram = core::ptr::NonNull::new(unsafe { std::alloc::alloc_zeroed(layout) }).unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let l2 = log.clone();
        let cfg = MemConfig {
            nr_cpus: 1,
            quiet: true,
            ..MemConfig::default()
        };
        // SAFETY: `ram` is ours and outlives `mem` (freed after it).
        let mem = unsafe {
            Mem::boot(
                ram,
                bytes,
                cfg,
                Box::new(move |s| l2.lock().unwrap().push_str(s)),
            )
        }
        .unwrap();
        {
            let cpu = mem.cpu(0).unwrap();
            crate::fault::init(&cpu).unwrap();
            let a = AddressSpace::new(&mem, Box::new(MemFile::new(alloc::vec![7; 8192]))).unwrap();
            let f = File::open(&a, FMODE_READ);
            let mm = MmStruct::new(&cpu).unwrap();
            let base = 0x1000_0000;
            mm.do_mmap_file(
                &cpu,
                base,
                8192,
                PROT_READ,
                MAP_SHARED | MAP_FIXED,
                Some(&f),
                0,
            )
            .unwrap();
            let p = VmaPtr::from_tree(mm.mmap_lock.read().mt.find(base).unwrap().2);
            assert_eq!(a.nr_i_mmap(), 1);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::mmap::vma::vm_area_free(&cpu, p)
            }));
            assert!(r.is_err(), "no VM_BUG_ON");
            let l = log.lock().unwrap().clone();
            assert!(
                l.contains(&alloc::format!(
                    "BUG: vm_area_free: VMA {base:x}-{:x} freed while on the i_mmap list of mapping {:#x}",
                    base + 8192,
                    f.mapping_addr()
                )),
                "{l}"
            );
            // Not freed: still on the list and in the tree, torn down as usual.
            assert_eq!(a.i_mmap_vmas(&cpu).len(), 1);
            mm.free(&cpu);
            assert_eq!(a.nr_i_mmap(), 0);
            a.release(&cpu);
            assert_eq!(log.lock().unwrap().matches("BUG").count(), 1);
        }
        drop(mem);
        // SAFETY: allocated above with this layout; `mem` is gone.
        unsafe { std::alloc::dealloc(ram.as_ptr(), layout) };
    }
}
