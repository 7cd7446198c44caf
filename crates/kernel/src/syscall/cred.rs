//! Credentials: kernel/sys.c's `setuid`, `setgid`, `setreuid`,
//! `setregid`, `setresuid`, `setresgid`, `getresuid`, `getresgid`,
//! `setfsuid`, `setfsgid`, kernel/groups.c's `getgroups`/`setgroups`,
//! kernel/capability.c's `capget`/`capset`, and the capability fix-ups of
//! security/commoncap.c (`cap_task_fix_setuid`, `cap_capset`) and
//! kernel/cred.c's `commit_creds`.
//!
//! Each call changes only the calling thread's credentials, as the raw
//! Linux calls do (glibc makes every thread follow with a signal). The
//! privilege test is Linux's `ns_capable_setid`: the capability in the
//! effective set, which a root process has until it gives up uid 0 (the
//! set*uid fix-ups clear and restore it as Linux's do). A change of the
//! effective or filesystem ids, or a gain of permitted capabilities,
//! clears the process's dumpable flag (`suid_dumpable` is 0) and its
//! parent-death signal, as `commit_creds` does.
//!
//! Where ferrite differs: there are no user namespaces (every id but
//! `(uid_t)-1` is valid and maps to itself), no file capabilities, and no
//! ambient set; the parent-death signal is per process (ferrite keeps it
//! in the process), not per thread.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use crate::errno::{Errno, EINVAL, EPERM, ESRCH};
use crate::syscall::{Sys, SysResult, MAX_USER_COPY};
use crate::task::{lock, Cred, CAP_FULL_SET};

/// Capability numbers (include/uapi/linux/capability.h).
pub const CAP_CHOWN: u32 = 0;
pub const CAP_DAC_OVERRIDE: u32 = 1;
pub const CAP_DAC_READ_SEARCH: u32 = 2;
pub const CAP_FOWNER: u32 = 3;
pub const CAP_FSETID: u32 = 4;
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;
pub const CAP_SETPCAP: u32 = 8;
pub const CAP_LINUX_IMMUTABLE: u32 = 9;
pub const CAP_IPC_LOCK: u32 = 14;
pub const CAP_IPC_OWNER: u32 = 15;
pub const CAP_SYS_ADMIN: u32 = 21;
pub const CAP_SYS_NICE: u32 = 23;
pub const CAP_MKNOD: u32 = 27;
pub const CAP_MAC_OVERRIDE: u32 = 32;

/// `CAP_FS_SET`: what fsuid 0 means (dropped when fsuid leaves 0).
pub const CAP_FS_SET: u64 = (1 << CAP_CHOWN)
    | (1 << CAP_DAC_OVERRIDE)
    | (1 << CAP_DAC_READ_SEARCH)
    | (1 << CAP_FOWNER)
    | (1 << CAP_FSETID)
    | (1 << CAP_LINUX_IMMUTABLE)
    | (1 << CAP_MKNOD)
    | (1 << CAP_MAC_OVERRIDE);

/// `NGROUPS_MAX`.
pub const NGROUPS_MAX: usize = 65536;
/// `SECURE_KEEP_CAPS`'s bit in `securebits`.
pub const SECURE_KEEP_CAPS: u32 = 1 << 4;
/// `SECURE_KEEP_CAPS_LOCKED`.
pub const SECURE_KEEP_CAPS_LOCKED: u32 = 1 << 5;

/// `_LINUX_CAPABILITY_VERSION_1/2/3`.
pub const CAP_VERSION_1: u32 = 0x1998_0330;
pub const CAP_VERSION_2: u32 = 0x2007_1026;
pub const CAP_VERSION_3: u32 = 0x2008_0522;

/// `(uid_t)-1`: "unchanged" for the set*id calls, invalid as an id.
const NO_ID: u32 = u32::MAX;

/// Which kind of id change (`LSM_SETID_*`), for the capability fix-up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetId {
    /// setuid, setreuid, setresuid.
    Ids,
    /// setfsuid.
    Fs,
}

/// `cap_task_fix_setuid`: capabilities follow the uids unless
/// `SECURE_KEEP_CAPS` keeps the permitted set.
fn fix_setuid(new: &mut Cred, old: &Cred, how: SetId) {
    match how {
        SetId::Ids => {
            let had_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
            let no_root = new.uid != 0 && new.euid != 0 && new.suid != 0;
            if had_root && no_root && new.securebits & SECURE_KEEP_CAPS == 0 {
                new.cap_permitted = 0;
                new.cap_effective = 0;
            }
            if old.euid == 0 && new.euid != 0 {
                new.cap_effective = 0;
            }
            if old.euid != 0 && new.euid == 0 {
                new.cap_effective = new.cap_permitted;
            }
        }
        SetId::Fs => {
            if old.fsuid == 0 && new.fsuid != 0 {
                new.cap_effective &= !CAP_FS_SET;
            }
            if old.fsuid != 0 && new.fsuid == 0 {
                new.cap_effective |= new.cap_permitted & CAP_FS_SET;
            }
        }
    }
}

/// `commit_creds`: install `new` for the caller. A change of the real uid
/// moves the process in the per-user process count (`set_user`); a change
/// of the effective or filesystem ids, or new permitted capabilities,
/// makes the process not dumpable and clears its parent-death signal.
fn commit_creds(s: &Sys<'_>, old: &Cred, new: Cred) -> Result<(), Errno> {
    let t = s.task;
    let new = crate::fork::new_cred(s.k, s.cpu, new)?;
    if new.uid != old.uid && t.is_leader() {
        let mut tl = s.k.tasks.lock();
        if let Some(n) = tl.per_uid.get_mut(&old.uid) {
            *n = n.saturating_sub(1);
        }
        *tl.per_uid.entry(new.uid).or_insert(0) += 1;
    }
    if new.euid != old.euid
        || new.egid != old.egid
        || new.fsuid != old.fsuid
        || new.fsgid != old.fsgid
        || new.cap_permitted & !old.cap_permitted != 0
    {
        t.signal.dumpable.store(0, Relaxed);
        t.signal.pdeath_signal.store(0, Relaxed);
    }
    *lock(&t.cred) = new;
    Ok(())
}

/// `prepare_creds`: a private copy of the caller's credentials to change
/// (installed by [`commit_creds`] in a new `cred_jar` object; the old one
/// stays with whoever still holds it).
fn prepare_creds(old: &Cred) -> Cred {
    old.clone()
}

/// `setuid(2)`.
pub fn sys_setuid(s: &mut Sys<'_>, uid: u64) -> SysResult {
    let uid = uid as u32;
    if uid == NO_ID {
        return Err(EINVAL);
    }
    let old = s.task.cred();
    let mut new = prepare_creds(&old);
    if old.capable(CAP_SETUID) {
        new.uid = uid;
        new.suid = uid;
    } else if uid != old.uid && uid != old.suid {
        return Err(EPERM);
    }
    new.euid = uid;
    new.fsuid = uid;
    fix_setuid(&mut new, &old, SetId::Ids);
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// `setgid(2)`.
pub fn sys_setgid(s: &mut Sys<'_>, gid: u64) -> SysResult {
    let gid = gid as u32;
    if gid == NO_ID {
        return Err(EINVAL);
    }
    let old = s.task.cred();
    let mut new = prepare_creds(&old);
    if old.capable(CAP_SETGID) {
        new.gid = gid;
        new.egid = gid;
        new.sgid = gid;
        new.fsgid = gid;
    } else if gid == old.gid || gid == old.sgid {
        new.egid = gid;
        new.fsgid = gid;
    } else {
        return Err(EPERM);
    }
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// `setreuid(2)`.
pub fn sys_setreuid(s: &mut Sys<'_>, ruid: u64, euid: u64) -> SysResult {
    let (ruid, euid) = (ruid as u32, euid as u32);
    let old = s.task.cred();
    let mut new = prepare_creds(&old);
    let cap = old.capable(CAP_SETUID);
    if ruid != NO_ID {
        new.uid = ruid;
        if old.uid != ruid && old.euid != ruid && !cap {
            return Err(EPERM);
        }
    }
    if euid != NO_ID {
        new.euid = euid;
        if old.uid != euid && old.euid != euid && old.suid != euid && !cap {
            return Err(EPERM);
        }
    }
    if ruid != NO_ID || (euid != NO_ID && euid != old.uid) {
        new.suid = new.euid;
    }
    new.fsuid = new.euid;
    fix_setuid(&mut new, &old, SetId::Ids);
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// `setregid(2)`.
pub fn sys_setregid(s: &mut Sys<'_>, rgid: u64, egid: u64) -> SysResult {
    let (rgid, egid) = (rgid as u32, egid as u32);
    let old = s.task.cred();
    let mut new = prepare_creds(&old);
    let cap = old.capable(CAP_SETGID);
    if rgid != NO_ID {
        if old.gid == rgid || old.egid == rgid || cap {
            new.gid = rgid;
        } else {
            return Err(EPERM);
        }
    }
    if egid != NO_ID {
        if old.gid == egid || old.egid == egid || old.sgid == egid || cap {
            new.egid = egid;
        } else {
            return Err(EPERM);
        }
    }
    if rgid != NO_ID || (egid != NO_ID && egid != old.gid) {
        new.sgid = new.egid;
    }
    new.fsgid = new.egid;
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// `setresuid(2)`.
pub fn sys_setresuid(s: &mut Sys<'_>, r: u64, e: u64, sv: u64) -> SysResult {
    let (r, e, sv) = (r as u32, e as u32, sv as u32);
    let old = s.task.cred();
    // A no-op needs no privilege (and changes nothing).
    if (r == NO_ID || r == old.uid)
        && (e == NO_ID || (e == old.euid && e == old.fsuid))
        && (sv == NO_ID || sv == old.suid)
    {
        return Ok(0);
    }
    let foreign = |id: u32| id != NO_ID && id != old.uid && id != old.euid && id != old.suid;
    if (foreign(r) || foreign(e) || foreign(sv)) && !old.capable(CAP_SETUID) {
        return Err(EPERM);
    }
    let mut new = prepare_creds(&old);
    if r != NO_ID {
        new.uid = r;
    }
    if e != NO_ID {
        new.euid = e;
    }
    if sv != NO_ID {
        new.suid = sv;
    }
    new.fsuid = new.euid;
    fix_setuid(&mut new, &old, SetId::Ids);
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// `setresgid(2)`.
pub fn sys_setresgid(s: &mut Sys<'_>, r: u64, e: u64, sv: u64) -> SysResult {
    let (r, e, sv) = (r as u32, e as u32, sv as u32);
    let old = s.task.cred();
    if (r == NO_ID || r == old.gid)
        && (e == NO_ID || (e == old.egid && e == old.fsgid))
        && (sv == NO_ID || sv == old.sgid)
    {
        return Ok(0);
    }
    let foreign = |id: u32| id != NO_ID && id != old.gid && id != old.egid && id != old.sgid;
    if (foreign(r) || foreign(e) || foreign(sv)) && !old.capable(CAP_SETGID) {
        return Err(EPERM);
    }
    let mut new = prepare_creds(&old);
    if r != NO_ID {
        new.gid = r;
    }
    if e != NO_ID {
        new.egid = e;
    }
    if sv != NO_ID {
        new.sgid = sv;
    }
    new.fsgid = new.egid;
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// Three ids to user memory, one `put_user` each.
fn put_ids(s: &Sys<'_>, a: [u64; 3], ids: [u32; 3]) -> SysResult {
    for (addr, id) in a.into_iter().zip(ids) {
        s.write_user(addr, &id.to_le_bytes())?;
    }
    Ok(0)
}

/// `getresuid(2)`.
pub fn sys_getresuid(s: &mut Sys<'_>, r: u64, e: u64, sv: u64) -> SysResult {
    let c = s.task.cred();
    put_ids(s, [r, e, sv], [c.uid, c.euid, c.suid])
}

/// `getresgid(2)`.
pub fn sys_getresgid(s: &mut Sys<'_>, r: u64, e: u64, sv: u64) -> SysResult {
    let c = s.task.cred();
    put_ids(s, [r, e, sv], [c.gid, c.egid, c.sgid])
}

/// `setfsuid(2)`: always returns the old fsuid; changes it when `uid` is
/// one of the caller's ids or it may set any.
pub fn sys_setfsuid(s: &mut Sys<'_>, uid: u64) -> SysResult {
    let uid = uid as u32;
    let old = s.task.cred();
    let ret = Ok(old.fsuid as u64);
    if uid == NO_ID {
        return ret;
    }
    let ok = uid == old.uid
        || uid == old.euid
        || uid == old.suid
        || uid == old.fsuid
        || old.capable(CAP_SETUID);
    if ok && uid != old.fsuid {
        let mut new = prepare_creds(&old);
        new.fsuid = uid;
        fix_setuid(&mut new, &old, SetId::Fs);
        commit_creds(s, &old, new)?;
    }
    ret
}

/// `setfsgid(2)`.
pub fn sys_setfsgid(s: &mut Sys<'_>, gid: u64) -> SysResult {
    let gid = gid as u32;
    let old = s.task.cred();
    let ret = Ok(old.fsgid as u64);
    if gid == NO_ID {
        return ret;
    }
    let ok = gid == old.gid
        || gid == old.egid
        || gid == old.sgid
        || gid == old.fsgid
        || old.capable(CAP_SETGID);
    if ok && gid != old.fsgid {
        let mut new = prepare_creds(&old);
        new.fsgid = gid;
        commit_creds(s, &old, new)?;
    }
    ret
}

/// `getgroups(2)`: the count; with a nonzero size, the list too (EINVAL
/// if it does not fit).
pub fn sys_getgroups(s: &mut Sys<'_>, size: u64, list: u64) -> SysResult {
    let size = size as i32;
    if size < 0 {
        return Err(EINVAL);
    }
    let groups = s.task.cred().groups.clone();
    let n = groups.len();
    if size != 0 {
        if n > size as usize {
            return Err(EINVAL);
        }
        for (i, chunk) in groups.chunks(MAX_USER_COPY / 4).enumerate() {
            let bytes: Vec<u8> = chunk.iter().flat_map(|g| g.to_le_bytes()).collect();
            let at = list.wrapping_add((i * MAX_USER_COPY) as u64);
            s.write_user(at, &bytes)?;
        }
    }
    Ok(n as u64)
}

/// `setgroups(2)`: needs CAP_SETGID; at most `NGROUPS_MAX`; the list is
/// kept sorted (`groups_sort`). The list is read a bounded chunk at a
/// time, so the host holds only what the guest really supplied.
pub fn sys_setgroups(s: &mut Sys<'_>, size: u64, list: u64) -> SysResult {
    let old = s.task.cred();
    if !old.capable(CAP_SETGID) {
        return Err(EPERM);
    }
    let n = size as u32 as usize;
    if n > NGROUPS_MAX {
        return Err(EINVAL);
    }
    let per = MAX_USER_COPY / 4;
    let mut groups: Vec<u32> = Vec::new();
    let mut done = 0;
    while done < n {
        let k = (n - done).min(per);
        let at = list.wrapping_add((done * 4) as u64);
        let b = s.read_user(at, k * 4)?;
        for c in b.chunks_exact(4) {
            let g = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if g == NO_ID {
                return Err(EINVAL);
            }
            groups.push(g);
        }
        done += k;
    }
    groups.sort_unstable();
    let mut new = prepare_creds(&old);
    new.groups = Arc::from(groups);
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// `cap_validate_magic`: how many 32-bit words each set has (1 for
/// version 1, 2 for versions 2 and 3); an unknown version is written back
/// as version 3 and is EINVAL.
fn cap_validate_magic(s: &Sys<'_>, header: u64) -> Result<usize, Errno> {
    let b = s.read_array::<4>(header)?;
    let version = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    match version {
        CAP_VERSION_1 => Ok(1),
        CAP_VERSION_2 | CAP_VERSION_3 => Ok(2),
        _ => {
            s.write_user(header, &CAP_VERSION_3.to_le_bytes())?;
            Err(EINVAL)
        }
    }
}

fn read_i32(s: &Sys<'_>, addr: u64) -> Result<i32, Errno> {
    let b = s.read_array::<4>(addr)?;
    Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// `capget(2)`: the effective, permitted and inheritable sets of the
/// caller or of thread `pid`. A null data pointer only probes the version
/// (0 for an unknown one, which was written back).
pub fn sys_capget(s: &mut Sys<'_>, header: u64, data: u64) -> SysResult {
    let words = match cap_validate_magic(s, header) {
        Ok(w) => w,
        Err(EINVAL) if data == 0 => return Ok(0),
        Err(e) => return Err(e),
    };
    if data == 0 {
        return Ok(0);
    }
    let pid = read_i32(s, header + 4)?;
    if pid < 0 {
        return Err(EINVAL);
    }
    let c = if pid == 0 || pid == s.task.pid() {
        s.task.cred()
    } else {
        s.k.tasks.find(pid).ok_or(ESRCH)?.cred()
    };
    // struct __user_cap_data_struct { effective, permitted, inheritable }
    // per 32-bit word.
    let mut out = Vec::with_capacity(24);
    for w in 0..words {
        for set in [c.cap_effective, c.cap_permitted, c.cap_inheritable] {
            out.extend_from_slice(&((set >> (32 * w)) as u32).to_le_bytes());
        }
    }
    s.write_user(data, &out)?;
    Ok(0)
}

/// `capset(2)`: the caller's own sets only (`cap_capset`'s rules: the
/// inheritable set within inheritable + permitted unless CAP_SETPCAP, and
/// within the bounding set; permitted only shrinks; effective within
/// permitted).
pub fn sys_capset(s: &mut Sys<'_>, header: u64, data: u64) -> SysResult {
    let words = cap_validate_magic(s, header)?;
    let pid = read_i32(s, header + 4)?;
    if pid != 0 && pid != s.task.pid() {
        return Err(EPERM);
    }
    let b = s.read_user(data, words * 12)?;
    let word = |i: usize| -> u64 {
        b.get(i * 4..i * 4 + 4)
            .map_or(0, |x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]) as u64)
    };
    let mut eff = 0u64;
    let mut perm = 0u64;
    let mut inh = 0u64;
    for w in 0..words {
        eff |= word(w * 3) << (32 * w);
        perm |= word(w * 3 + 1) << (32 * w);
        inh |= word(w * 3 + 2) << (32 * w);
    }
    eff &= CAP_FULL_SET;
    perm &= CAP_FULL_SET;
    inh &= CAP_FULL_SET;
    let old = s.task.cred();
    if inh & !(old.cap_inheritable | old.cap_permitted) != 0 && !old.capable(CAP_SETPCAP) {
        return Err(EPERM);
    }
    if inh & !(old.cap_inheritable | old.cap_bset) != 0 {
        return Err(EPERM);
    }
    if perm & !old.cap_permitted != 0 {
        return Err(EPERM);
    }
    if eff & !perm != 0 {
        return Err(EPERM);
    }
    let mut new = prepare_creds(&old);
    new.cap_effective = eff;
    new.cap_permitted = perm;
    new.cap_inheritable = inh;
    commit_creds(s, &old, new)?;
    Ok(0)
}

/// `prctl`'s capability options (`cap_task_prctl`): PR_CAPBSET_READ,
/// PR_CAPBSET_DROP, PR_GET_KEEPCAPS, PR_SET_KEEPCAPS. None if `option`
/// is not one of them.
pub fn cap_task_prctl(s: &Sys<'_>, option: u64, arg2: u64) -> Option<SysResult> {
    const PR_GET_KEEPCAPS: u64 = 7;
    const PR_SET_KEEPCAPS: u64 = 8;
    const PR_CAPBSET_READ: u64 = 23;
    const PR_CAPBSET_DROP: u64 = 24;
    let old = s.task.cred();
    let valid = arg2 <= crate::task::CAP_LAST_CAP as u64;
    Some(match option {
        PR_CAPBSET_READ => {
            if !valid {
                return Some(Err(EINVAL));
            }
            Ok((old.cap_bset >> arg2) & 1)
        }
        PR_CAPBSET_DROP => {
            if !old.capable(CAP_SETPCAP) {
                return Some(Err(EPERM));
            }
            if !valid {
                return Some(Err(EINVAL));
            }
            let mut new = prepare_creds(&old);
            new.cap_bset &= !(1u64 << arg2);
            commit_creds(s, &old, new).map(|_| 0)
        }
        PR_GET_KEEPCAPS => Ok((old.securebits & SECURE_KEEP_CAPS != 0) as u64),
        PR_SET_KEEPCAPS => {
            if arg2 > 1 {
                return Some(Err(EINVAL));
            }
            if old.securebits & SECURE_KEEP_CAPS_LOCKED != 0 {
                return Some(Err(EPERM));
            }
            let mut new = prepare_creds(&old);
            if arg2 == 1 {
                new.securebits |= SECURE_KEEP_CAPS;
            } else {
                new.securebits &= !SECURE_KEEP_CAPS;
            }
            commit_creds(s, &old, new).map(|_| 0)
        }
        _ => return None,
    })
}
