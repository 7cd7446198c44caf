//! System V shared memory: ipc/shm.c (`shmget`/`newseg`, `do_shmat`,
//! `ksys_shmdt`, `shmctl` with IPC_STAT, IPC_SET, IPC_RMID, IPC_INFO,
//! SHM_INFO, SHM_STAT, SHM_STAT_ANY, SHM_LOCK, SHM_UNLOCK) and the id
//! allocation of ipc/util.c.
//!
//! A segment is a shmem object of mm ([`mm::filemap::shmem_file_setup`],
//! named `/SYSV<key> (deleted)` with the id as inode number, as Linux's
//! shm files appear in /proc/PID/maps). The segment holds one reference
//! to the object and each VMA that maps it holds its own, so
//! `shm_nattch` is the object's reference count less the segment's: it
//! follows fork (`dup_mm` copies the VMAs), munmap, exit and VMA splits
//! exactly as Linux's `shm_open`/`shm_close` count them. IPC_RMID of an
//! attached segment marks it `SHM_DEST` and makes its key private; it is
//! destroyed once nothing maps it.
//!
//! Where ferrite differs: a removed segment whose last mapping went away
//! by munmap or exec (not `shmdt` or exit, which free it at once) is
//! freed at the next System V shared-memory call or process exit (nothing
//! in mm calls back into ipc); the segment records live on the host heap (the pages and
//! the shmem object are in ferrite's RAM); `shm_lprid` is not updated by
//! fork; SHM_LOCK only records the flag (no swap, nothing is ever
//! swapped out); /proc/sysvipc/shm is not provided.

use std::collections::BTreeMap;

use mm::filemap::{FileIdentity, FilePtr, FMODE_READ, FMODE_WRITE};
use mm::mmap::{MAP_FIXED, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};
use mm::{Cpu, PAGE_SIZE};

use super::{
    ipcperms, IpcPerm, IPCMNI_SHIFT, IPC_CREAT, IPC_EXCL, IPC_INFO, IPC_MIN_CYCLE, IPC_PRIVATE,
    IPC_RMID, IPC_SET, IPC_STAT,
};
use crate::errno::{Errno, EACCES, EEXIST, EINVAL, ENOENT, ENOMEM, ENOSPC, EPERM};
use crate::syscall::cred::{CAP_IPC_LOCK, CAP_SYS_ADMIN};
use crate::syscall::{Sys, SysResult};
use crate::task::lock;

/// `SHMMIN`, `SHMMAX`, `SHMALL` (pages), `SHMMNI`, `SHMSEG`.
pub const SHMMIN: u64 = 1;
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
pub const SHMALL: u64 = u64::MAX - (1 << 24);
pub const SHMMNI: usize = 4096;
pub const SHMSEG: u64 = SHMMNI as u64;
/// `SHMLBA` (riscv: the page size).
pub const SHMLBA: u64 = PAGE_SIZE as u64;

/// shmat flags.
pub const SHM_RDONLY: u64 = 0o10000;
pub const SHM_RND: u64 = 0o20000;
pub const SHM_REMAP: u64 = 0o40000;
pub const SHM_EXEC: u64 = 0o100000;
/// Mode flags of a segment.
pub const SHM_DEST: u32 = 0o1000;
pub const SHM_LOCKED: u32 = 0o2000;
/// shmctl commands of shm alone.
pub const SHM_LOCK: i32 = 11;
pub const SHM_UNLOCK: i32 = 12;
pub const SHM_STAT: i32 = 13;
pub const SHM_INFO: i32 = 14;
pub const SHM_STAT_ANY: i32 = 15;

/// `EIDRM`.
const EIDRM: Errno = 43;
/// `RLIMIT_MEMLOCK`.
const RLIMIT_MEMLOCK: usize = 8;
/// `ipcid_seq_max()`: `INT_MAX >> IPCMNI_SHIFT`.
const SEQ_MAX: u32 = (i32::MAX as u32) >> IPCMNI_SHIFT;

/// `struct shmid_kernel`.
pub struct ShmSegment {
    pub perm: IpcPerm,
    /// `shm_file`'s object (the segment's reference).
    space: &'static mm::filemap::AddressSpace<'static>,
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
}

impl ShmSegment {
    /// `shm_nattch`: the VMAs that map the segment.
    pub fn nattch(&self) -> u64 {
        self.space.i_count().saturating_sub(1) as u64
    }

    fn pages(&self) -> u64 {
        self.segsz.div_ceil(PAGE_SIZE as u64)
    }
}

/// `shm_ids(ns)`: the segments by index, and the id allocator's state.
#[derive(Default)]
pub struct ShmIds {
    segs: BTreeMap<usize, ShmSegment>,
    seq: u32,
    last_idx: Option<usize>,
    /// `shm_tot`: pages of all segments.
    pub tot: u64,
}

impl ShmIds {
    /// Segments in use.
    pub fn in_use(&self) -> usize {
        self.segs.len()
    }

    /// `ipc_idr_alloc`: the next free index after the last one (cyclic,
    /// within max(in_use * 3 / 2, 64) up to SHMMNI); the sequence number
    /// grows when the index wraps.
    fn alloc_idx(&mut self) -> Option<(usize, u16)> {
        let max = (self.segs.len() * 3 / 2).clamp(IPC_MIN_CYCLE, SHMMNI);
        let start = self.last_idx.map_or(0, |l| l + 1);
        let idx = (start..max)
            .chain(0..start.min(max))
            .find(|i| !self.segs.contains_key(i))?;
        if self.last_idx.is_some_and(|l| idx <= l) {
            self.seq += 1;
            if self.seq >= SEQ_MAX {
                self.seq = 0;
            }
        }
        self.last_idx = Some(idx);
        Some((idx, self.seq as u16))
    }

    /// `ipc_obtain_object_check`: the segment of `id` (index and
    /// sequence must match).
    fn check(&mut self, id: i32) -> Result<&mut ShmSegment, Errno> {
        if id < 0 {
            return Err(EINVAL);
        }
        let idx = (id as usize) & ((1 << IPCMNI_SHIFT) - 1);
        let seq = (id as u32) >> IPCMNI_SHIFT;
        match self.segs.get_mut(&idx) {
            Some(s) if s.perm.seq as u32 == seq => Ok(s),
            _ => Err(EINVAL),
        }
    }

    /// `ipc_get_maxidx`.
    fn max_idx(&self) -> u64 {
        self.segs.keys().next_back().map_or(0, |&i| i as u64)
    }
}

fn id_of(idx: usize, seq: u16) -> i32 {
    ((seq as i32) << IPCMNI_SHIFT) + idx as i32
}

fn now_secs() -> i64 {
    crate::time::current_time().0
}

/// `shm_destroy`: the segment's reference goes; its pages follow when no
/// VMA maps it.
fn destroy(cpu: &Cpu<'_>, ids: &mut ShmIds, idx: usize) {
    if let Some(seg) = ids.segs.remove(&idx) {
        ids.tot = ids.tot.saturating_sub(seg.pages());
        // SAFETY: the segment owned one reference to its object (from
        // `shmem_file_setup`), given up here; it is not used after this.
        unsafe { mm::filemap::iput(cpu, seg.space) };
    }
}

/// Free the removed (`SHM_DEST`) segments nothing maps any more.
fn reap(cpu: &Cpu<'_>, ids: &mut ShmIds) {
    let dead: Vec<usize> = ids
        .segs
        .iter()
        .filter(|(_, g)| g.perm.mode & SHM_DEST != 0 && g.nattch() == 0)
        .map(|(&i, _)| i)
        .collect();
    for i in dead {
        destroy(cpu, ids, i);
    }
}

/// `exit_shm`: a task's mm went away (exit): free the removed segments it
/// was the last to map.
pub fn exit_shm(ns: &super::IpcNamespace, cpu: &Cpu<'_>) {
    let mut ids = lock(&ns.shm);
    if ids.segs.values().any(|g| g.perm.mode & SHM_DEST != 0) {
        reap(cpu, &mut ids);
    }
}

/// `shmget(2)`.
pub fn sys_shmget(s: &mut Sys<'_>, key: u64, size: u64, flg: u64) -> SysResult {
    let key = key as i32;
    let flg = flg as u32 as u64;
    let cred = s.task.cred();
    let mut ids = lock(&s.k.ipc.shm);
    reap(s.cpu, &mut ids);
    if key != IPC_PRIVATE {
        let found = ids
            .segs
            .iter()
            .find(|(_, g)| g.perm.key == key && g.perm.mode & SHM_DEST == 0)
            .map(|(&i, _)| i);
        if let Some(idx) = found {
            if flg & IPC_CREAT != 0 && flg & IPC_EXCL != 0 {
                return Err(EEXIST);
            }
            let g = &ids.segs[&idx];
            if g.segsz < size {
                return Err(EINVAL);
            }
            if !ipcperms(&cred, &g.perm, flg as u32) {
                return Err(EACCES);
            }
            return Ok(id_of(idx, g.perm.seq) as u64);
        }
        if flg & IPC_CREAT == 0 {
            return Err(ENOENT);
        }
    }
    // `newseg`.
    if !(SHMMIN..=SHMMAX).contains(&size) {
        return Err(EINVAL);
    }
    let pages = size.div_ceil(PAGE_SIZE as u64);
    match ids.tot.checked_add(pages) {
        Some(t) if t <= SHMALL => {}
        _ => return Err(ENOSPC),
    }
    if ids.segs.len() >= SHMMNI {
        return Err(ENOSPC);
    }
    let (idx, seq) = ids.alloc_idx().ok_or(ENOSPC)?;
    let id = id_of(idx, seq);
    let identity = FileIdentity {
        path: format!("/SYSV{:08x} (deleted)", key as u32),
        dev_major: 0,
        dev_minor: 1,
        ino: id as u64,
    };
    let space = mm::filemap::shmem_file_setup(s.k.mem, size, identity).map_err(|_| ENOMEM)?;
    ids.segs.insert(
        idx,
        ShmSegment {
            perm: IpcPerm {
                key,
                uid: cred.euid,
                gid: cred.egid,
                cuid: cred.euid,
                cgid: cred.egid,
                mode: (flg as u32) & 0o777,
                seq,
            },
            space,
            segsz: size,
            atime: 0,
            dtime: 0,
            ctime: now_secs(),
            cpid: s.task.tgid,
            lpid: 0,
        },
    );
    ids.tot += pages;
    Ok(id as u64)
}

/// `shmat(2)`: map the segment (at `addr`, rounded down to SHMLBA with
/// SHM_RND; over existing mappings only with SHM_REMAP) and return where.
pub fn sys_shmat(s: &mut Sys<'_>, shmid: u64, addr: u64, flg: u64) -> SysResult {
    let shmid = shmid as i32;
    let flg = flg as u32 as u64;
    if shmid < 0 {
        return Err(EINVAL);
    }
    let mut addr = addr;
    let mut flags = MAP_SHARED;
    if addr != 0 {
        if addr & (SHMLBA - 1) != 0 {
            if flg & SHM_RND == 0 {
                return Err(EINVAL);
            }
            addr &= !(SHMLBA - 1);
            if addr == 0 && flg & SHM_REMAP != 0 {
                return Err(EINVAL);
            }
        }
        flags |= MAP_FIXED;
    } else if flg & SHM_REMAP != 0 {
        return Err(EINVAL);
    }
    let (mut prot, mut acc, fmode) = if flg & SHM_RDONLY != 0 {
        (PROT_READ, 0o444, FMODE_READ)
    } else {
        (PROT_READ | PROT_WRITE, 0o666, FMODE_READ | FMODE_WRITE)
    };
    if flg & SHM_EXEC != 0 {
        prot |= PROT_EXEC;
        acc |= 0o111;
    }
    let cred = s.task.cred();
    // The namespace's lock is held across the mapping: the segment
    // cannot be destroyed meanwhile.
    let mut ids = lock(&s.k.ipc.shm);
    reap(s.cpu, &mut ids);
    let seg = ids.check(shmid)?;
    if !ipcperms(&cred, &seg.perm, acc) {
        return Err(EACCES);
    }
    let size = seg.segsz;
    if addr != 0 && flg & SHM_REMAP == 0 {
        let end = addr.checked_add(size).ok_or(EINVAL)?;
        let busy = s
            .mm()
            .mmap_read_lock(s.cpu)
            .find_vma_intersection(addr as usize, end as usize)
            .is_some();
        if busy {
            return Err(EINVAL);
        }
    }
    let file = mm::filemap::File::open(seg.space, fmode);
    let at = s.mm().do_mmap_file(
        s.cpu,
        addr as usize,
        size as usize,
        prot,
        flags,
        Some(&file),
        0,
    )?;
    seg.atime = now_secs();
    seg.lpid = s.task.tgid;
    Ok(at as u64)
}

/// `shmdt(2)`: unmap the segment attached at `addr` (and its fragments
/// up to the segment's size past `addr`, as Linux does).
pub fn sys_shmdt(s: &mut Sys<'_>, addr: u64) -> SysResult {
    if addr & (PAGE_SIZE as u64 - 1) != 0 {
        return Err(EINVAL);
    }
    let mut ids = lock(&s.k.ipc.shm);
    let files: BTreeMap<FilePtr, (usize, u64)> = ids
        .segs
        .iter()
        .map(|(&i, g)| (FilePtr::of(g.space), (i, g.segsz)))
        .collect();
    let addr = addr as usize;
    let mut ranges = Vec::new();
    let mut found: Option<(FilePtr, usize, u64)> = None;
    {
        let st = s.mm().mmap_read_lock(s.cpu);
        let mut cur = addr;
        while let Some(v) = st.find_vma(cur) {
            let at_offset = v.vm_start.wrapping_sub(addr) / PAGE_SIZE == v.vm_pgoff;
            match found {
                None => {
                    if let Some((f, &(idx, size))) = v.vm_file.and_then(|f| files.get_key_value(&f))
                    {
                        if at_offset {
                            found = Some((*f, idx, size));
                            ranges.push((v.vm_start, v.vm_end));
                        }
                    }
                }
                Some((f, _, size)) => {
                    let limit = (size as usize).div_ceil(PAGE_SIZE) * PAGE_SIZE;
                    if v.vm_end - addr > limit {
                        break;
                    }
                    if v.vm_file == Some(f) && at_offset {
                        ranges.push((v.vm_start, v.vm_end));
                    }
                }
            }
            cur = v.vm_end;
        }
    }
    let Some((_, idx, _)) = found else {
        return Err(EINVAL);
    };
    for (start, end) in ranges {
        s.mm().do_munmap(s.cpu, start, end - start)?;
    }
    if let Some(g) = ids.segs.get_mut(&idx) {
        g.dtime = now_secs();
        g.lpid = s.task.tgid;
    }
    reap(s.cpu, &mut ids);
    Ok(0)
}

/// `struct shmid64_ds` of riscv64 (asm-generic/shmbuf.h), 112 bytes.
fn shmid64_ds(g: &ShmSegment) -> [u8; 112] {
    let mut b = [0u8; 112];
    let p = &g.perm;
    b[0..4].copy_from_slice(&p.key.to_le_bytes());
    b[4..8].copy_from_slice(&p.uid.to_le_bytes());
    b[8..12].copy_from_slice(&p.gid.to_le_bytes());
    b[12..16].copy_from_slice(&p.cuid.to_le_bytes());
    b[16..20].copy_from_slice(&p.cgid.to_le_bytes());
    b[20..24].copy_from_slice(&p.mode.to_le_bytes());
    b[24..26].copy_from_slice(&p.seq.to_le_bytes());
    b[48..56].copy_from_slice(&g.segsz.to_le_bytes());
    b[56..64].copy_from_slice(&g.atime.to_le_bytes());
    b[64..72].copy_from_slice(&g.dtime.to_le_bytes());
    b[72..80].copy_from_slice(&g.ctime.to_le_bytes());
    b[80..84].copy_from_slice(&g.cpid.to_le_bytes());
    b[84..88].copy_from_slice(&g.lpid.to_le_bytes());
    b[88..96].copy_from_slice(&g.nattch().to_le_bytes());
    b
}

/// `shmctl(2)`.
pub fn sys_shmctl(s: &mut Sys<'_>, shmid: u64, cmd: u64, buf: u64) -> SysResult {
    let (shmid, cmd) = (shmid as i32, cmd as i32);
    if cmd < 0 || shmid < 0 {
        return Err(EINVAL);
    }
    let cred = s.task.cred();
    // IPC_SET reads its argument before anything else.
    let set = if cmd == IPC_SET {
        Some(s.read_array::<112>(buf)?)
    } else {
        None
    };
    let mut ids = lock(&s.k.ipc.shm);
    reap(s.cpu, &mut ids);
    match cmd {
        IPC_INFO => {
            let mut b = [0u8; 72];
            for (i, v) in [SHMMAX, SHMMIN, SHMMNI as u64, SHMSEG, SHMALL]
                .into_iter()
                .enumerate()
            {
                b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
            }
            s.write_user(buf, &b)?;
            Ok(ids.max_idx())
        }
        SHM_INFO => {
            let mut b = [0u8; 48];
            b[0..4].copy_from_slice(&(ids.in_use() as i32).to_le_bytes());
            let rss: u64 = ids.segs.values().map(|g| g.space.nrpages() as u64).sum();
            b[8..16].copy_from_slice(&ids.tot.to_le_bytes());
            b[16..24].copy_from_slice(&rss.to_le_bytes());
            s.write_user(buf, &b)?;
            Ok(ids.max_idx())
        }
        IPC_STAT | SHM_STAT | SHM_STAT_ANY => {
            let (g, ret) = if cmd == IPC_STAT {
                (ids.check(shmid)?, 0u64)
            } else {
                let g = ids.segs.get_mut(&(shmid as usize)).ok_or(EINVAL)?;
                let id = id_of(shmid as usize, g.perm.seq) as u64;
                (g, id)
            };
            if cmd != SHM_STAT_ANY && !ipcperms(&cred, &g.perm, 0o444) {
                return Err(EACCES);
            }
            let b = shmid64_ds(g);
            s.write_user(buf, &b)?;
            Ok(ret)
        }
        SHM_LOCK | SHM_UNLOCK => {
            let memlock = lock(&s.task.signal.rlim)[RLIMIT_MEMLOCK].cur;
            let g = ids.check(shmid)?;
            if !cred.capable(CAP_IPC_LOCK) {
                if cred.euid != g.perm.uid && cred.euid != g.perm.cuid {
                    return Err(EPERM);
                }
                if cmd == SHM_LOCK && memlock == 0 {
                    return Err(EPERM);
                }
            }
            if g.perm.mode & SHM_DEST != 0 && g.nattch() == 0 {
                return Err(EIDRM);
            }
            if cmd == SHM_LOCK {
                g.perm.mode |= SHM_LOCKED;
            } else {
                g.perm.mode &= !SHM_LOCKED;
            }
            Ok(0)
        }
        IPC_RMID | IPC_SET => {
            let idx = (shmid as usize) & ((1 << IPCMNI_SHIFT) - 1);
            let g = ids.check(shmid)?;
            // `ipcctl_obtain_check`: the owner, the creator, or CAP_SYS_ADMIN.
            if cred.euid != g.perm.cuid && cred.euid != g.perm.uid && !cred.capable(CAP_SYS_ADMIN) {
                return Err(EPERM);
            }
            if let Some(b) = set {
                let rd = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
                let (uid, gid, mode) = (rd(4), rd(8), rd(20));
                if uid == u32::MAX || gid == u32::MAX {
                    return Err(EINVAL);
                }
                g.perm.uid = uid;
                g.perm.gid = gid;
                g.perm.mode = (g.perm.mode & !0o777) | (mode & 0o777);
                g.ctime = now_secs();
                return Ok(0);
            }
            // `do_shm_rmid`.
            if g.nattch() > 0 {
                g.perm.mode |= SHM_DEST;
                g.perm.key = IPC_PRIVATE;
            } else {
                destroy(s.cpu, &mut ids, idx);
            }
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}
