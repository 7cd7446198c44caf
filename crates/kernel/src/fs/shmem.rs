//! tmpfs files in ferrite's page cache: the files of `/dev/shm` and
//! memfds (Linux's mm/shmem.c `shmem_file_operations`, `shmem_get_inode`,
//! `shmem_setattr`, `shmem_unlink`; mm/memfd.c `memfd_create`,
//! `memfd_add_seals`, `memfd_fcntl`).
//!
//! A [`ShmInode`] is one file: a shmem object of mm
//! ([`mm::filemap::shmem_file_setup`]) whose pages hold the data (there
//! is no host file), with its name, mode, owner, times and seals. The
//! object is reference-counted (`i_count`): the inode holds one reference
//! while anyone holds the inode (the `/dev/shm` directory while the name
//! exists, each open file description), and each VMA that maps it holds
//! its own, so a `MAP_SHARED` page stays shared between every mm that
//! maps it (across fork too) and outlives `unlink` and `close` until the
//! last mapping goes.
//!
//! `read` takes the cached pages (a page never written reads as zeros),
//! `write` allocates pages through the page cache (`read_cache_page`: a
//! zero-filled page) and copies into them, `ftruncate` is the page
//! cache's `truncate` (unmap and free the pages past the end, zero the
//! tail of the last one). Writes and truncation of one file are
//! serialised by the inode's lock (`i_rwsem`).
//!
//! [`Tmpfs`] is the `/dev/shm` mount, shared by every process: a flat
//! directory (name → inode), and the size limit, half of RAM as Linux's
//! default `size=50%`: a write that needs a page past it is `ENOSPC`
//! (faults of a mapping are bounded by RAM only: an out-of-memory fault
//! is an OOM). memfds live on no directory (the internal `shm_mnt`):
//! their pages are bounded by RAM (`ENOMEM`).
//!
//! Dropping the last reference to an inode outside a syscall that holds a
//! CPU (a `close`, the table dropped at exit) cannot free pages, which
//! needs one: the object's reference goes on the delayed list (Linux's
//! `delayed_fput`) and is put by the next file call that holds a CPU, or
//! by [`super::HostFs::flush_delayed_fput`].
//!
//! Where ferrite differs from Linux: `/dev/shm` holds regular files only
//! (`mkdir`, `symlink`, `link` and `mknod` there are `EPERM`); the inodes
//! and the directory live on the host heap (the pages and the shmem
//! objects are in ferrite's RAM); no swap, so shmem pages stay resident;
//! `F_SEAL_WRITE` is refused (`EBUSY`) while any VMA maps the file, even
//! a read-only or private one (Linux counts only writable shared ones);
//! `MADV_REMOVE` does not punch holes in these files; owner and group are
//! the host's user.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use mm::filemap::{AddressSpace, FileIdentity};
use mm::{Cpu, Mem, PAGE_SIZE};

use crate::errno::*;

use super::flags::*;
use super::read_write::UserIter;
use super::stat::Stat;

/// The device of `/dev/shm` (an anonymous superblock, 0:24).
pub const SHM_DEV: u64 = 24;
/// The device of memfds: the internal shmem mount (0:1, as
/// `/dev/zero (deleted)` in /proc/PID/maps).
pub const MEMFD_DEV: u64 = 1;
/// `TMPFS_MAGIC`.
pub const TMPFS_MAGIC: i64 = 0x0102_1994;
/// tmpfs's size of a directory entry (`BOGO_DIRENT_SIZE`).
pub const BOGO_DIRENT_SIZE: i64 = 20;

/// A poisoned lock is still usable: the data are plain values.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The time now, as `struct timespec` (`current_time`: the host's
/// realtime, or the virtual one in deterministic mode).
pub(crate) fn now() -> (i64, u64) {
    crate::time::current_time()
}

/// The references to shmem objects whose last inode went without a CPU
/// at hand (`delayed_fput_list`).
#[derive(Default)]
pub(crate) struct DelayedFput {
    list: Mutex<Vec<usize>>,
    /// Whether the list may be non-empty (checked without the lock).
    pending: std::sync::atomic::AtomicBool,
}

impl DelayedFput {
    fn push(&self, space: &'static AddressSpace<'static>) {
        lock(&self.list).push(space as *const AddressSpace<'static> as usize);
        self.pending.store(true, Ordering::Release);
    }

    /// Put every delayed reference (`flush_delayed_fput`).
    pub(crate) fn flush(&self, cpu: &Cpu<'_>) {
        self.pending.store(false, Ordering::Relaxed);
        let list = std::mem::take(&mut *lock(&self.list));
        for p in list {
            // SAFETY: each entry is one reference an inode owned and gave
            // up to this list (see `ShmInode::drop`); it is put once.
            unsafe { mm::filemap::iput(cpu, p as *const AddressSpace<'static>) };
        }
    }

    /// Whether references wait to be put.
    pub(crate) fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }
}

/// Mode, owner and times of a tmpfs file.
#[derive(Clone, Copy, Debug)]
struct Attr {
    mode: u32,
    uid: u32,
    gid: u32,
    atime: (i64, u64),
    mtime: (i64, u64),
    ctime: (i64, u64),
}

/// One tmpfs file (`struct shmem_inode_info` with its inode).
pub(crate) struct ShmInode {
    /// The shmem object (one reference, held while this inode lives).
    space: &'static AddressSpace<'static>,
    mem: &'static Mem,
    ino: u64,
    /// A memfd (no directory; `/memfd:NAME`); else a `/dev/shm` file.
    memfd: bool,
    /// The name: the file's name in `/dev/shm`, or the memfd's name.
    name: Mutex<Vec<u8>>,
    /// Still in its directory (`i_nlink` 1); a memfd never is.
    linked: std::sync::atomic::AtomicBool,
    attr: Mutex<Attr>,
    seals: AtomicU32,
    /// `i_rwsem`: writes and truncation.
    rw: Mutex<()>,
    /// Its position in the directory listing (the `d_off` after it).
    seq: u64,
    delayed: Arc<DelayedFput>,
}

impl Drop for ShmInode {
    fn drop(&mut self) {
        // No CPU here: the reference is put later (see the module docs).
        self.delayed.push(self.space);
    }
}

impl std::fmt::Debug for ShmInode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShmInode").field("ino", &self.ino).finish()
    }
}

/// The host's user and group (the owner of new files).
fn host_ids() -> (u32, u32) {
    // SAFETY: geteuid/getegid have no preconditions and cannot fail.
    unsafe { (libc::geteuid(), libc::getegid()) }
}

impl ShmInode {
    /// The file's path as /proc shows it (`d_path`).
    pub(crate) fn path(&self) -> Vec<u8> {
        let name = lock(&self.name);
        let mut p = if self.memfd {
            b"/memfd:".to_vec()
        } else {
            b"/dev/shm/".to_vec()
        };
        p.extend_from_slice(&name);
        if !self.linked.load(Ordering::Relaxed) {
            p.extend_from_slice(b" (deleted)");
        }
        p
    }

    /// Tell mm the name /proc/PID/maps shows.
    fn rename_mapping(&self) {
        self.space.set_shmem_identity(self.identity());
    }

    pub(crate) fn identity(&self) -> FileIdentity {
        FileIdentity {
            path: String::from_utf8_lossy(&self.path()).into_owned(),
            dev_major: 0,
            dev_minor: if self.memfd {
                MEMFD_DEV as u32
            } else {
                SHM_DEV as u32
            },
            ino: self.ino,
        }
    }

    /// A memfd (not a `/dev/shm` file).
    pub(crate) fn is_memfd(&self) -> bool {
        self.memfd
    }

    /// The page cache of the file.
    pub(crate) fn mapping(&self) -> &'static AddressSpace<'static> {
        self.space
    }

    /// `i_size`.
    pub(crate) fn size(&self) -> u64 {
        self.space.size()
    }

    /// The seals (`F_GET_SEALS`).
    pub(crate) fn seals(&self) -> u32 {
        self.seals.load(Ordering::Acquire)
    }

    /// The owner's and others' access: may the caller open it with
    /// `want` (`R_OK`, `W_OK`, `X_OK`)?
    pub(crate) fn permission(&self, want: i32) -> Result<(), Errno> {
        let a = *lock(&self.attr);
        mode_permission(a.mode, a.uid, a.gid, want)
    }

    /// `stat`.
    pub(crate) fn stat(&self) -> Stat {
        let a = *lock(&self.attr);
        Stat {
            dev: if self.memfd { MEMFD_DEV } else { SHM_DEV },
            ino: self.ino,
            mode: S_IFREG | (a.mode & 0o7777),
            nlink: u32::from(self.linked.load(Ordering::Relaxed)),
            uid: a.uid,
            gid: a.gid,
            rdev: 0,
            size: self.size() as i64,
            blksize: PAGE_SIZE as i32,
            blocks: (self.space.nrpages() * (PAGE_SIZE / 512)) as i64,
            atime: a.atime.0,
            atime_nsec: a.atime.1,
            mtime: a.mtime.0,
            mtime_nsec: a.mtime.1,
            ctime: a.ctime.0,
            ctime_nsec: a.ctime.1,
        }
    }

    /// `chmod`: EPERM for the execute bits of a file sealed with
    /// `F_SEAL_EXEC`.
    pub(crate) fn chmod(&self, mode: u32) -> Result<(), Errno> {
        let mut a = lock(&self.attr);
        if self.seals() & F_SEAL_EXEC != 0 && (a.mode ^ mode) & 0o111 != 0 {
            return Err(EPERM);
        }
        a.mode = mode & 0o7777;
        a.ctime = now();
        Ok(())
    }

    /// `chown` (`None` leaves an id): the owner may give the file to its
    /// own group only, as a user without capabilities.
    pub(crate) fn chown(&self, uid: Option<u32>, gid: Option<u32>) -> Result<(), Errno> {
        let mut a = lock(&self.attr);
        let (me, my_gid) = host_ids();
        let other_uid = uid.is_some_and(|u| u != a.uid);
        let other_gid = gid.is_some_and(|g| g != a.gid && g != my_gid);
        if me != 0 && (other_uid || other_gid) {
            return Err(EPERM);
        }
        if let Some(u) = uid {
            a.uid = u;
        }
        if let Some(g) = gid {
            a.gid = g;
        }
        a.ctime = now();
        Ok(())
    }

    /// `utimensat` on the file (`None`: both now; else access and
    /// modification, each possibly `UTIME_NOW`/`UTIME_OMIT`).
    pub(crate) fn utimes(&self, times: Option<[(i64, i64); 2]>) -> Result<(), Errno> {
        use super::attr::{UTIME_NOW, UTIME_OMIT};
        let mut a = lock(&self.attr);
        let t = now();
        let pick = |(s, n): (i64, i64), old: (i64, u64)| match n {
            UTIME_NOW => t,
            UTIME_OMIT => old,
            n => (s, n as u64),
        };
        match times {
            None => {
                a.atime = t;
                a.mtime = t;
            }
            Some([at, mt]) => {
                a.atime = pick(at, a.atime);
                a.mtime = pick(mt, a.mtime);
            }
        }
        a.ctime = t;
        Ok(())
    }

    fn touch_modified(&self) {
        let mut a = lock(&self.attr);
        let t = now();
        a.mtime = t;
        a.ctime = t;
    }

    /// Read up to `count` bytes at `pos` into `to` (holes read as
    /// zeros): the bytes read.
    pub(crate) fn read(
        &self,
        cpu: &Cpu<'_>,
        pos: u64,
        count: usize,
        to: &mut dyn UserIter,
    ) -> Result<usize, Errno> {
        let size = self.size();
        if pos >= size || count == 0 {
            return Ok(0);
        }
        let end = size.min(pos.saturating_add(count as u64));
        let mut buf = [0u8; PAGE_SIZE];
        let mut at = pos;
        let mut done = 0usize;
        while at < end {
            let index = (at / PAGE_SIZE as u64) as usize;
            let off = (at % PAGE_SIZE as u64) as usize;
            let n = ((PAGE_SIZE - off) as u64).min(end - at) as usize;
            match self.space.find_get_page(index) {
                Some(page) => {
                    mm::vmscan::mark_page_accessed(self.mem, page);
                    let src = self.mem.page_address(page).as_ptr();
                    // SAFETY: a cached page of ferrite RAM held by our
                    // reference; `off + n <= PAGE_SIZE`.
                    unsafe { std::ptr::copy(src.add(off), buf.as_mut_ptr(), n) };
                    let _ = cpu.put_page(page);
                }
                None => buf[..n].fill(0),
            }
            let m = to.copy_out(&buf[..n]);
            done += m;
            if m < n {
                return if done == 0 { Err(EFAULT) } else { Ok(done) };
            }
            at += n as u64;
        }
        lock(&self.attr).atime = now();
        Ok(done)
    }

    /// Write up to `count` bytes from `from` at `pos` (at the end when
    /// `pos` is None: `O_APPEND`), growing the file: the bytes written and
    /// the position after them. `budget` says how many more pages the
    /// file system may hold (`ENOSPC` past it).
    pub(crate) fn write(
        &self,
        cpu: &Cpu<'_>,
        pos: Option<u64>,
        count: usize,
        from: &mut dyn UserIter,
        budget: &dyn Fn() -> usize,
    ) -> Result<(usize, u64), Errno> {
        let _g = cpu.blocking(|| lock(&self.rw));
        let seals = self.seals();
        if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
            return Err(EPERM);
        }
        let pos = pos.unwrap_or_else(|| self.size());
        if count == 0 {
            return Ok((0, pos));
        }
        if pos
            .checked_add(count as u64)
            .is_none_or(|e| e > i64::MAX as u64)
        {
            return Err(EFBIG);
        }
        let mut buf = [0u8; PAGE_SIZE];
        let mut done = 0usize;
        let mut err = None;
        let mut left = None::<usize>;
        while done < count {
            let at = pos + done as u64;
            let index = (at / PAGE_SIZE as u64) as usize;
            let off = (at % PAGE_SIZE as u64) as usize;
            let n = (PAGE_SIZE - off).min(count - done);
            if seals & F_SEAL_GROW != 0 && at + n as u64 > self.size() {
                err = Some(EPERM);
                break;
            }
            let got = from.copy_in(&mut buf[..n]);
            if got == 0 {
                err = Some(EFAULT);
                break;
            }
            let page = match self.space.find_get_page(index) {
                Some(p) => p,
                None => {
                    let room = *left.get_or_insert_with(budget);
                    if room == 0 {
                        err = Some(ENOSPC);
                        break;
                    }
                    left = Some(room - 1);
                    match self.space.read_cache_page(cpu, index) {
                        Ok(p) => p,
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    }
                }
            };
            let dst = self.mem.page_address(page).as_ptr();
            // SAFETY: a cached page of ferrite RAM held by our reference;
            // `off + got <= PAGE_SIZE`.
            unsafe { std::ptr::copy(buf.as_ptr(), dst.add(off), got) };
            // A mapping may run these bytes as code (coherent fetch).
            self.mem.stored(dst.wrapping_add(off) as usize, got);
            mm::filemap::set_page_dirty(self.mem, page);
            let _ = cpu.put_page(page);
            done += got;
            let end = pos + done as u64;
            if end > self.size() {
                self.space.backing().set_size(end)?;
            }
            if got < n {
                err = Some(EFAULT);
                break;
            }
        }
        if done > 0 {
            self.touch_modified();
            return Ok((done, pos + done as u64));
        }
        Err(err.unwrap_or(EFAULT))
    }

    /// `ftruncate`: the file becomes `len` bytes (the seals allowing).
    pub(crate) fn truncate(&self, cpu: &Cpu<'_>, len: u64) -> Result<(), Errno> {
        let _g = cpu.blocking(|| lock(&self.rw));
        let size = self.size();
        let seals = self.seals();
        if (len < size && seals & F_SEAL_SHRINK != 0) || (len > size && seals & F_SEAL_GROW != 0) {
            return Err(EPERM);
        }
        if len != size {
            self.space.truncate(cpu, len)?;
        }
        self.touch_modified();
        Ok(())
    }

    /// `shmem_fallocate`, after `vfs_fallocate`'s checks: a hole or an
    /// allocation of at most `room` new pages, the seals allowing (a hole
    /// is a write; growing past the size needs no `F_SEAL_GROW`).
    pub(crate) fn fallocate(
        &self,
        cpu: &Cpu<'_>,
        (mode, offset, len): (u32, u64, u64),
        room: usize,
    ) -> Result<(), Errno> {
        use mm::falloc::{FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE};
        if mode & !(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE) != 0 {
            return Err(EOPNOTSUPP);
        }
        let _g = cpu.blocking(|| lock(&self.rw));
        let seals = self.seals();
        if mode & FALLOC_FL_PUNCH_HOLE != 0 {
            if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
                return Err(EPERM);
            }
        } else if seals & F_SEAL_GROW != 0 && offset.saturating_add(len) > self.size() {
            return Err(EPERM);
        }
        self.space
            .fallocate(cpu, (mode, offset, len), room, || Err(EOPNOTSUPP))?;
        self.touch_modified();
        Ok(())
    }

    /// `F_ADD_SEALS` (`memfd_add_seals`); `writable`: the descriptor is
    /// open for writing.
    pub(crate) fn add_seals(&self, cpu: &Cpu<'_>, seals: u32, writable: bool) -> Result<(), Errno> {
        if seals & !F_ALL_SEALS != 0 {
            return Err(EINVAL);
        }
        if !writable {
            return Err(EPERM);
        }
        let _g = cpu.blocking(|| lock(&self.rw));
        let cur = self.seals();
        if cur & F_SEAL_SEAL != 0 {
            return Err(EPERM);
        }
        if seals & F_SEAL_WRITE != 0 && cur & F_SEAL_WRITE == 0 && self.space.nr_i_mmap() != 0 {
            return Err(EBUSY);
        }
        self.seals.store(cur | seals, Ordering::Release);
        Ok(())
    }
}

/// Linux's `generic_permission` for a file of `mode` owned by
/// `uid:gid`, for the host's user (root may do anything but run a file
/// without an execute bit).
pub(crate) fn mode_permission(mode: u32, uid: u32, gid: u32, want: i32) -> Result<(), Errno> {
    let (me, my_gid) = host_ids();
    let want = (want & 0o7) as u32;
    if me == 0 {
        if want & X_OK as u32 != 0 && mode & 0o111 == 0 && mode & S_IFMT != S_IFDIR {
            return Err(EACCES);
        }
        return Ok(());
    }
    let bits = if me == uid {
        (mode >> 6) & 7
    } else if my_gid == gid {
        (mode >> 3) & 7
    } else {
        mode & 7
    };
    if bits & want == want {
        Ok(())
    } else {
        Err(EACCES)
    }
}

/// The `/dev/shm` mount: its directory and limit, and the delayed puts of
/// every tmpfs file (memfds too).
pub(crate) struct Tmpfs {
    mem: &'static Mem,
    dir: Mutex<BTreeMap<Vec<u8>, Arc<ShmInode>>>,
    /// Every `/dev/shm` file still alive (linked or open), for the size
    /// limit.
    files: Mutex<Vec<Weak<ShmInode>>>,
    next_ino: AtomicU64,
    /// The next directory position (`d_off`): 1 and 2 are `.` and `..`.
    next_seq: AtomicU64,
    /// Pages the mount may hold (`size=`).
    limit_pages: usize,
    pub(crate) delayed: Arc<DelayedFput>,
    /// The directory's times (`/dev/shm`'s mtime and ctime).
    dir_time: Mutex<(i64, u64)>,
}

impl Tmpfs {
    /// An empty `/dev/shm` of half of `mem`'s RAM.
    pub(crate) fn new(mem: &'static Mem) -> Tmpfs {
        Tmpfs {
            mem,
            dir: Mutex::new(BTreeMap::new()),
            files: Mutex::new(Vec::new()),
            next_ino: AtomicU64::new(2),
            next_seq: AtomicU64::new(3),
            limit_pages: mem.managed_pages() / 2,
            delayed: Arc::new(DelayedFput::default()),
            dir_time: Mutex::new(now()),
        }
    }

    /// The mount's size in pages.
    pub(crate) fn limit_pages(&self) -> usize {
        self.limit_pages
    }

    /// Pages the `/dev/shm` files hold now.
    pub(crate) fn used_pages(&self) -> usize {
        let mut files = lock(&self.files);
        files.retain(|w| w.strong_count() > 0);
        files
            .iter()
            .filter_map(Weak::upgrade)
            .map(|f| f.space.nrpages())
            .sum()
    }

    /// How many more pages fit.
    pub(crate) fn room(&self) -> usize {
        self.limit_pages.saturating_sub(self.used_pages())
    }

    /// Number of files in `/dev/shm`.
    pub(crate) fn nr_files(&self) -> usize {
        lock(&self.dir).len()
    }

    /// `/dev/shm`'s mtime (changed by create, unlink, rename).
    pub(crate) fn dir_time(&self) -> (i64, u64) {
        *lock(&self.dir_time)
    }

    fn touch_dir(&self) {
        *lock(&self.dir_time) = now();
    }

    /// The file `name` of `/dev/shm`.
    pub(crate) fn lookup(&self, name: &[u8]) -> Option<Arc<ShmInode>> {
        lock(&self.dir).get(name).cloned()
    }

    /// A new inode (not in the directory).
    fn new_inode(
        &self,
        name: &[u8],
        memfd: bool,
        mode: u32,
        seals: u32,
    ) -> Result<ShmInode, Errno> {
        let (uid, gid) = host_ids();
        let t = now();
        let ino = self.next_ino.fetch_add(1, Ordering::Relaxed);
        let placeholder = FileIdentity::default();
        let space = mm::filemap::shmem_file_setup(self.mem, 0, placeholder)?;
        let inode = ShmInode {
            space,
            mem: self.mem,
            ino,
            memfd,
            name: Mutex::new(name.to_vec()),
            linked: std::sync::atomic::AtomicBool::new(!memfd),
            attr: Mutex::new(Attr {
                mode: mode & 0o7777,
                uid,
                gid,
                atime: t,
                mtime: t,
                ctime: t,
            }),
            seals: AtomicU32::new(seals),
            rw: Mutex::new(()),
            seq: self.next_seq.fetch_add(1, Ordering::Relaxed),
            delayed: self.delayed.clone(),
        };
        inode.rename_mapping();
        Ok(inode)
    }

    /// Create `/dev/shm/<name>` with `mode` (the umask applied): EEXIST
    /// if it exists.
    pub(crate) fn create(&self, name: &[u8], mode: u32) -> Result<Arc<ShmInode>, Errno> {
        let mut dir = lock(&self.dir);
        if dir.contains_key(name) {
            return Err(EEXIST);
        }
        let inode = Arc::new(self.new_inode(name, false, mode, F_SEAL_SEAL)?);
        dir.insert(name.to_vec(), inode.clone());
        lock(&self.files).push(Arc::downgrade(&inode));
        drop(dir);
        self.touch_dir();
        Ok(inode)
    }

    /// A memfd named `name` (`memfd_create`).
    pub(crate) fn memfd(&self, name: &[u8], mode: u32, seals: u32) -> Result<Arc<ShmInode>, Errno> {
        Ok(Arc::new(self.new_inode(name, true, mode, seals)?))
    }

    /// Remove `/dev/shm/<name>`: ENOENT if missing. The file lives on
    /// while it is open or mapped.
    pub(crate) fn unlink(&self, name: &[u8]) -> Result<(), Errno> {
        let inode = lock(&self.dir).remove(name).ok_or(ENOENT)?;
        inode.linked.store(false, Ordering::Relaxed);
        lock(&inode.attr).ctime = now();
        inode.rename_mapping();
        self.touch_dir();
        Ok(())
    }

    /// `rename` inside `/dev/shm` (`noreplace`: EEXIST if `new` exists).
    pub(crate) fn rename(&self, old: &[u8], new: &[u8], noreplace: bool) -> Result<(), Errno> {
        let mut dir = lock(&self.dir);
        let inode = dir.get(old).cloned().ok_or(ENOENT)?;
        if old == new {
            return Ok(());
        }
        if noreplace && dir.contains_key(new) {
            return Err(EEXIST);
        }
        dir.remove(old);
        if let Some(gone) = dir.insert(new.to_vec(), inode.clone()) {
            gone.linked.store(false, Ordering::Relaxed);
            gone.rename_mapping();
        }
        drop(dir);
        *lock(&inode.name) = new.to_vec();
        lock(&inode.attr).ctime = now();
        inode.rename_mapping();
        self.touch_dir();
        Ok(())
    }

    /// The directory's entries from position `pos` on (their positions
    /// are the `d_off` after them): (position, inode number, name).
    pub(crate) fn entries_after(&self, pos: u64) -> Vec<(u64, u64, Vec<u8>)> {
        let mut v: Vec<_> = lock(&self.dir)
            .iter()
            .filter(|(_, i)| i.seq > pos)
            .map(|(n, i)| (i.seq, i.ino, n.clone()))
            .collect();
        v.sort_unstable();
        v
    }
}
