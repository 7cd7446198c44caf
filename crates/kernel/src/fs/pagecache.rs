//! The page cache of host files (Linux's mm/filemap.c seen from a file
//! system: `read_folio`/`writepage` of hostfs, `generic_perform_write`'s
//! copy into cached pages, `truncate_setsize` on ftruncate, and fs/inode.c's
//! inode lifetime: `iget`, `iput`, `evict`).
//!
//! One `AddressSpace` per host inode (device, inode number), created the
//! first time the file is mapped or executed, with a host file descriptor
//! (a duplicate) for its I/O. It is reference-counted
//! ([`mm::filemap::AddressSpace::new_counted`]): an [`MmapFile`] handle
//! holds a reference while the kernel sets up a mapping or loads an
//! executable, and each VMA of the file holds one. When the last goes
//! (`iput`), mm writes the dirty pages back (unless the host file has no
//! links left: a deleted file's pages are just freed), frees every page and
//! calls [`FileBacking::evict`], which forgets the inode here and closes
//! the host descriptor. Where ferrite differs: Linux keeps an unused inode
//! and its clean pages cached until memory pressure; ferrite drops them
//! as soon as nothing in the guest maps the file, since it cannot know
//! whether another host process changes the file in between. An open
//! descriptor alone does not hold the cache (it has its own host file).
//!
//! Coherence with `read`/`write`, as chosen here: the host file stays the
//! reference for the file descriptor paths, and the cache is kept in step
//! with it where it has pages:
//! - `write`/`pwrite` write the host file, then copy the same bytes into
//!   the cached pages the write covers (pages not cached are not read in);
//!   a dirty page stays dirty, so a later writeback rewrites the same bytes.
//! - `read`/`pread` read the host file, then take the bytes of cached pages
//!   over it: data stored through a `MAP_SHARED` mapping and not yet
//!   written back is seen by `read` as on Linux.
//! - `ftruncate` and `O_TRUNC` resize the host file and then call mm's
//!   `AddressSpace::truncate` (unmap from every mapper, drop the pages
//!   past the end, zero the tail of the last page).
//! - `fsync` writes the file's dirty pages back; [`HostFs::sync`](super::HostFs::sync)
//!   writes back every file.
//!
//! Where ferrite differs: pages are read in only by faults (no readahead,
//! `read` does not populate the cache); a dirty page is written back by
//! fsync/sync, by reclaim (mm's vmscan) before its frame is reused, and
//! when the last mapping goes. Changes made to the host file by other host
//! processes are not seen by pages already cached, and the fault path
//! learns of a host-side shrink only when ferrite truncates (the size it
//! checks faults against is re-read from the host when a fault goes past
//! it, as a write through another descriptor may have grown the file). While an inode is being
//! evicted (its last reference gone, its pages being written back) a new
//! mapping of it gets a new address space at once, which may read the host
//! file before the old one's write-back finished.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex, RwLock, Weak};

use mm::filemap::{AddressSpace, FileBacking, FileIdentity};
use mm::{Cpu, Mem, Page, PAGE_SIZE};

use crate::errno::{Errno, EBADF, EINVAL, EIO};

use super::hostfs::host_errno;

/// What `do_mmap_file` needs of an open file: its page cache and mode,
/// with a reference to the page cache (`get_file`) that [`MmapFile::put`]
/// gives back. The reference keeps `mapping` valid; a handle dropped
/// without `put` keeps its reference for ever (the file stays cached: a
/// leak, never a use after free).
pub struct MmapFile {
    /// The file's page cache (valid while this handle is held).
    pub mapping: &'static AddressSpace<'static>,
    /// `FMODE_READ` / `FMODE_WRITE` of the descriptor.
    pub f_mode: u32,
}

impl MmapFile {
    /// A handle owning one reference to `mapping`.
    pub(crate) fn new(mapping: &'static AddressSpace<'static>, f_mode: u32) -> MmapFile {
        MmapFile { mapping, f_mode }
    }

    /// `fput`: give the reference back (the last one evicts the cache:
    /// see the module docs). Mappings made meanwhile hold their own.
    pub fn put(self, cpu: &Cpu<'_>) {
        // SAFETY: this handle owns one reference to a live address space.
        unsafe { mm::filemap::iput(cpu, self.mapping) };
    }

    /// The `struct file` to pass to `do_mmap_file`.
    pub fn file(&self) -> mm::filemap::File<'static, 'static> {
        mm::filemap::File::open(self.mapping, self.f_mode)
    }

    /// The file's page cache.
    pub fn mapping(&self) -> &'static AddressSpace<'static> {
        self.mapping
    }

    /// `FMODE_READ` / `FMODE_WRITE` of the descriptor.
    pub fn f_mode(&self) -> u32 {
        self.f_mode
    }

    /// `kernel_read`: the `buf.len()` bytes at `off` (inside the file),
    /// through the page cache.
    pub fn read_at(&self, cpu: &Cpu<'_>, off: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.mapping.filemap_read(cpu, off, buf)
    }
}

/// The host file behind an address space.
struct HostBacking {
    /// The host descriptor, and whether it was opened for writing (a
    /// writable one replaces a read-only one when the file is mapped for
    /// writing).
    file: RwLock<(Arc<File>, bool)>,
    /// How /proc/PID/maps names it: the guest path it was first mapped
    /// by, the host device and inode.
    identity: FileIdentity,
}

impl HostBacking {
    fn file(&self) -> Arc<File> {
        match self.file.read() {
            Ok(g) => g.0.clone(),
            Err(p) => p.into_inner().0.clone(),
        }
    }
}

/// The inodes with a page cache: (dev, ino) → entry.
type Map = Mutex<HashMap<(u64, u64), Entry>>;

/// The `FileBacking` handed to mm (it owns a reference to the backing, so
/// the host descriptor closes when the address space is freed).
struct Backing {
    host: Arc<HostBacking>,
    /// Where the inode is listed, to forget it at eviction.
    map: Weak<Map>,
    key: (u64, u64),
}

impl FileBacking for Backing {
    fn size(&self) -> u64 {
        self.host.file().metadata().map_or(0, |m| m.len())
    }

    fn nlink(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        // If the host cannot tell, keep the data: write it back.
        self.host.file().metadata().map_or(1, |m| m.nlink())
    }

    fn evict(&self) {
        let Some(map) = self.map.upgrade() else {
            return;
        };
        let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
        // A newer address space may have replaced this dying one.
        if m.get(&self.key)
            .is_some_and(|e| Arc::ptr_eq(&e.backing, &self.host))
        {
            m.remove(&self.key);
        }
    }

    fn read_page(&self, index: u64, buf: &mut [u8; PAGE_SIZE]) -> Result<(), i32> {
        buf.fill(0);
        let off = index.checked_mul(PAGE_SIZE as u64).ok_or(EINVAL)?;
        let f = self.host.file();
        let mut done = 0;
        while done < PAGE_SIZE {
            match f.read_at(&mut buf[done..], off + done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(host_errno(&e)),
            }
        }
        Ok(())
    }

    fn write_page(&self, index: u64, buf: &[u8; PAGE_SIZE]) -> Result<(), i32> {
        let off = index.checked_mul(PAGE_SIZE as u64).ok_or(EINVAL)?;
        let size = self.size();
        if off >= size {
            return Ok(());
        }
        let n = (size - off).min(PAGE_SIZE as u64) as usize;
        let g = self.host.file.read().map_err(|_| EIO)?;
        if !g.1 {
            return Err(EBADF);
        }
        g.0.write_all_at(&buf[..n], off).map_err(|e| host_errno(&e))
    }

    fn identity(&self) -> Option<FileIdentity> {
        Some(self.host.identity.clone())
    }

    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> Result<(), i32> {
        let g = self.host.file.read().map_err(|_| EIO)?;
        if !g.1 {
            return Err(EBADF);
        }
        super::falloc::host_fallocate(&g.0, mode, offset, len)
    }

    fn set_size(&self, size: u64) -> Result<(), i32> {
        if self.size() == size {
            return Ok(());
        }
        let g = self.host.file.read().map_err(|_| EIO)?;
        if !g.1 {
            return Err(EBADF);
        }
        g.0.set_len(size).map_err(|e| host_errno(&e))
    }
}

struct Entry {
    /// The address space (it holds no reference: eviction removes the
    /// entry, under the map's lock, before the object is freed).
    space: usize,
    backing: Arc<HostBacking>,
}

impl Entry {
    fn space(&self) -> &'static AddressSpace<'static> {
        // SAFETY: a listed address space is live (see `space`), and this
        // is called under the map's lock.
        unsafe { &*(self.space as *const AddressSpace<'static>) }
    }
}

/// The address spaces of host inodes.
pub(crate) struct PageCache {
    mem: &'static Mem,
    map: Arc<Map>,
}

/// The major number of a host `dev_t` (glibc's `gnu_dev_major`).
pub(crate) fn dev_major(dev: u64) -> u32 {
    (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)) as u32
}

/// The minor number of a host `dev_t` (glibc's `gnu_dev_minor`).
pub(crate) fn dev_minor(dev: u64) -> u32 {
    ((dev & 0xff) | ((dev >> 12) & !0xff)) as u32
}

/// The bytes of a cached page.
fn page_ptr(mem: &Mem, page: &Page) -> *mut u8 {
    mem.page_address(page).as_ptr()
}

impl PageCache {
    pub(crate) fn new(mem: &'static Mem) -> PageCache {
        PageCache {
            mem,
            map: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub(crate) fn mem(&self) -> &'static Mem {
        self.mem
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(u64, u64), Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `f` on the address space of inode (dev, ino), if it has a live one
    /// (held by a reference meanwhile: `igrab` … `iput`).
    fn with_space<R>(
        &self,
        cpu: &Cpu<'_>,
        dev: u64,
        ino: u64,
        f: impl FnOnce(&AddressSpace<'static>) -> R,
    ) -> Option<R> {
        let space = {
            let map = self.lock();
            let s = map.get(&(dev, ino))?.space();
            s.igrab().then_some(s)?
        };
        let r = f(space);
        // SAFETY: the reference taken above.
        unsafe { mm::filemap::iput(cpu, space) };
        Some(r)
    }

    /// The address space of inode (dev, ino), with a reference for the
    /// caller, created over a duplicate of `file` if it has none (or only
    /// a dying one) (`path`: its guest path, for
    /// /proc/PID/maps). `writable`: `file` was opened for writing (it then
    /// replaces a read-only descriptor kept for the inode).
    pub(crate) fn get_or_create(
        &self,
        file: &File,
        dev: u64,
        ino: u64,
        writable: bool,
        path: &[u8],
    ) -> Result<&'static AddressSpace<'static>, Errno> {
        let mut map = self.lock();
        if let Some(e) = map.get(&(dev, ino)).filter(|e| e.space().igrab()) {
            if writable {
                let mut g = e.backing.file.write().unwrap_or_else(|p| p.into_inner());
                if !g.1 {
                    *g = (
                        Arc::new(file.try_clone().map_err(|e| host_errno(&e))?),
                        true,
                    );
                }
            }
            return Ok(e.space());
        }
        let dup = file.try_clone().map_err(|e| host_errno(&e))?;
        let backing = Arc::new(HostBacking {
            file: RwLock::new((Arc::new(dup), writable)),
            identity: FileIdentity {
                path: String::from_utf8_lossy(path).into_owned(),
                dev_major: dev_major(dev),
                dev_minor: dev_minor(dev),
                ino,
            },
        });
        let space = AddressSpace::new_counted(
            self.mem,
            Box::new(Backing {
                host: backing.clone(),
                map: Arc::downgrade(&self.map),
                key: (dev, ino),
            }),
        )?;
        map.insert(
            (dev, ino),
            Entry {
                space: space as *const AddressSpace<'static> as usize,
                backing,
            },
        );
        Ok(space)
    }

    /// Call `f(page bytes, offset in page, offset in data, len)` for every
    /// cached page of (dev, ino) that bytes `pos..pos + len` cover.
    fn each_cached(
        &self,
        cpu: &Cpu<'_>,
        dev: u64,
        ino: u64,
        pos: u64,
        len: usize,
        mut f: impl FnMut(*mut u8, usize, usize, usize),
    ) {
        let mem = self.mem;
        self.with_space(cpu, dev, ino, |space| {
            if space.nrpages() == 0 || len == 0 {
                return;
            }
            let end = pos.saturating_add(len as u64);
            let mut at = pos;
            while at < end {
                let index = at / PAGE_SIZE as u64;
                let in_page = (at % PAGE_SIZE as u64) as usize;
                let n = ((PAGE_SIZE - in_page) as u64).min(end - at) as usize;
                if let Ok(i) = usize::try_from(index) {
                    if let Some(page) = space.find_get_page(i) {
                        // read/write use the page (`folio_mark_accessed`).
                        mm::vmscan::mark_page_accessed(mem, page);
                        f(page_ptr(mem, page), in_page, (at - pos) as usize, n);
                        let _ = cpu.put_page(page);
                    }
                }
                at += n as u64;
            }
        });
    }

    /// Take the cached bytes of `pos..pos + buf.len()` over `buf` (just
    /// read from the host).
    pub(crate) fn overlay_read(&self, cpu: &Cpu<'_>, dev: u64, ino: u64, pos: u64, buf: &mut [u8]) {
        let len = buf.len();
        self.each_cached(cpu, dev, ino, pos, len, |page, in_page, off, n| {
            // SAFETY: `page` is a cached page of ferrite RAM held by our
            // reference; `in_page + n <= PAGE_SIZE`, `off + n <= buf.len()`.
            unsafe { std::ptr::copy(page.add(in_page), buf[off..off + n].as_mut_ptr(), n) };
        });
    }

    /// Copy `data`, just written to the host at `pos`, into the cached
    /// pages it covers.
    pub(crate) fn update_written(&self, cpu: &Cpu<'_>, dev: u64, ino: u64, pos: u64, data: &[u8]) {
        let mem = self.mem;
        self.each_cached(cpu, dev, ino, pos, data.len(), |page, in_page, off, n| {
            // SAFETY: as in `overlay_read`, the other way round.
            unsafe { std::ptr::copy(data[off..off + n].as_ptr(), page.add(in_page), n) };
            // A mapping may run these bytes as code: the harts drop what
            // they decoded from them (coherent instruction fetch).
            mem.stored(page.wrapping_add(in_page) as usize, n);
        });
    }

    /// The host file of (dev, ino) now has `size` bytes: resize the cache.
    pub(crate) fn truncate(
        &self,
        cpu: &Cpu<'_>,
        dev: u64,
        ino: u64,
        size: u64,
    ) -> Result<(), Errno> {
        self.with_space(cpu, dev, ino, |space| space.truncate(cpu, size))
            .unwrap_or(Ok(()))
    }

    /// `fallocate` on the host file of (dev, ino) through `op`, its cache
    /// following the change ([`mm::falloc`]); None if it has no cache.
    pub(crate) fn fallocate(
        &self,
        cpu: &Cpu<'_>,
        (dev, ino): (u64, u64),
        args: (u32, u64, u64),
        op: impl FnOnce() -> Result<(), Errno>,
    ) -> Option<Result<(), Errno>> {
        self.with_space(cpu, dev, ino, |space| space.fallocate(cpu, args, 0, op))
    }

    /// Write the dirty pages of (dev, ino) back.
    pub(crate) fn writeback(&self, cpu: &Cpu<'_>, dev: u64, ino: u64) -> Result<(), Errno> {
        self.with_space(cpu, dev, ino, |space| space.writeback(cpu).map(|_| ()))
            .unwrap_or(Ok(()))
    }

    /// Write back every cached file; the first error, after trying all.
    pub(crate) fn sync_all(&self, cpu: &Cpu<'_>) -> Result<(), Errno> {
        let spaces: Vec<_> = self
            .lock()
            .values()
            .map(|e| e.space())
            .filter(|s| s.igrab())
            .collect();
        let mut r = Ok(());
        for s in spaces {
            if let Err(e) = s.writeback(cpu) {
                r = r.and(Err(e));
            }
            // SAFETY: the reference taken above.
            unsafe { mm::filemap::iput(cpu, s) };
        }
        r
    }
}
