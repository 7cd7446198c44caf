//! Fast user-space mutexes: kernel/futex/ (`futex_wait`, `futex_wake`,
//! `futex_requeue`, `futex_wake_op`, the robust list walk at exit) and
//! the `futex(2)` system call.
//!
//! A waiter is queued under its key, then sleeps; a waker takes waiters
//! off the queue, marks them woken and wakes them. The value check and the
//! queueing happen under the hash lock, and a waker changes the value
//! before it takes that lock, so a wake-up is never lost. The key of a
//! private futex (`FUTEX_PRIVATE_FLAG`) is the mm and the address; a
//! shared one is keyed by the physical address of the word, so processes
//! that map the same page meet on it.
//!
//! A sleeping waiter returns through the system-call restart (see
//! [`crate::sched::wait`]): when it runs again, its queue entry says
//! whether it was woken (0), else its deadline passed (ETIMEDOUT), else a
//! signal came (-ERESTARTSYS, or -ERESTART_RESTARTBLOCK with a timeout,
//! as Linux).
//!
//! Where ferrite differs: one hash lock rather than per-bucket locks;
//! priority-inheritance futexes (`FUTEX_LOCK_PI`...) are ENOSYS; a shared
//! futex's key is the physical page, so a page moved while a waiter sleeps
//! (reclaim) strands it until a timeout or signal.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use mm::percpu::Cpu;

use crate::errno::{
    Errno, EAGAIN, EFAULT, EINVAL, ENOSYS, ERESTARTSYS, ERESTART_RESTARTBLOCK, ETIMEDOUT,
};
use crate::kernel::Kernel;
use crate::mm_ref::MmUser;
use crate::sched::{self, Restart, TASK_INTERRUPTIBLE};
use crate::syscall::{Flow, Sys};
use crate::task::{lock, TaskRef};

pub const FUTEX_WAIT: u32 = 0;
pub const FUTEX_WAKE: u32 = 1;
pub const FUTEX_FD: u32 = 2;
pub const FUTEX_REQUEUE: u32 = 3;
pub const FUTEX_CMP_REQUEUE: u32 = 4;
pub const FUTEX_WAKE_OP: u32 = 5;
pub const FUTEX_WAIT_BITSET: u32 = 9;
pub const FUTEX_WAKE_BITSET: u32 = 10;
pub const FUTEX_PRIVATE_FLAG: u32 = 128;
pub const FUTEX_CLOCK_REALTIME: u32 = 256;
pub const FUTEX_BITSET_MATCH_ANY: u32 = u32::MAX;

/// `FUTEX2_SIZE_U32` (the only size Linux implements) and the size mask.
pub const FUTEX2_SIZE_U32: u32 = 0x02;
pub const FUTEX2_SIZE_MASK: u32 = 0x03;
/// `FUTEX2_NUMA`, `FUTEX2_MPOL`: valid flags since Linux 6.16 (accepted,
/// with no effect here: ferrite has one memory node).
pub const FUTEX2_NUMA: u32 = 0x04;
pub const FUTEX2_MPOL: u32 = 0x08;
/// `FUTEX2_PRIVATE` (= `FUTEX_PRIVATE_FLAG`).
pub const FUTEX2_PRIVATE: u32 = FUTEX_PRIVATE_FLAG;
/// `FUTEX_WAITV_MAX`: the most futexes one futex_waitv waits on.
pub const FUTEX_WAITV_MAX: u64 = 128;

/// Where waiters meet.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Key {
    /// A private futex: (mm address, user address).
    Private(usize, u64),
    /// A shared one: the physical address.
    Shared(usize),
}

/// A waiter's queue entry (`struct futex_q`).
pub struct FutexQ {
    task: TaskRef,
    bitset: u32,
    /// Set by the waker when it takes the entry off the queue.
    pub woken: AtomicBool,
    /// futex_waitv: the entries of the vector after this one (the first
    /// entry is the one the restart record holds).
    rest: Vec<Arc<FutexQ>>,
}

/// The futex hash table.
#[derive(Default)]
pub struct FutexHash {
    q: Mutex<HashMap<Key, Vec<Arc<FutexQ>>>>,
}

impl FutexHash {
    /// Wake up to `n` waiters on `key` whose bitset meets `bitset`.
    fn wake(&self, key: Key, n: u32, bitset: u32) -> u32 {
        let mut h = lock(&self.q);
        let mut woken = 0;
        if let Some(v) = h.get_mut(&key) {
            let mut i = 0;
            while i < v.len() && woken < n {
                if v[i].bitset & bitset != 0 {
                    let q = v.remove(i);
                    q.woken.store(true, SeqCst);
                    sched::wake_up_process(&q.task);
                    woken += 1;
                } else {
                    i += 1;
                }
            }
            if v.is_empty() {
                h.remove(&key);
            }
        }
        woken
    }

    fn unqueue(&self, q: &Arc<FutexQ>) {
        self.unqueue_all(std::slice::from_ref(q));
    }

    /// Take every entry of `qs` that is still queued off its queue (one
    /// hold of the lock: afterwards their `woken` flags are final).
    fn unqueue_all(&self, qs: &[Arc<FutexQ>]) {
        let mut h = lock(&self.q);
        h.retain(|_, v| {
            v.retain(|x| !qs.iter().any(|q| Arc::ptr_eq(x, q)));
            !v.is_empty()
        });
    }

    /// Waiters queued in all (for tests and /proc).
    pub fn nr_waiters(&self) -> usize {
        lock(&self.q).values().map(Vec::len).sum()
    }
}

fn key_of(s: &Sys<'_>, uaddr: u64, private: bool) -> Result<Key, Errno> {
    if uaddr % 4 != 0 {
        return Err(EINVAL);
    }
    get_futex_key(s.cpu, s.mm(), uaddr, private)
}

/// `get_futex_key`: private futexes, and shared ones in a private
/// mapping, are keyed by (mm, address); a futex in a `MAP_SHARED` mapping
/// without `FUTEX_PRIVATE_FLAG` by its physical address.
pub fn get_futex_key(
    cpu: &Cpu<'static>,
    mm: &mm::mmap::MmStruct<'static>,
    uaddr: u64,
    private: bool,
) -> Result<Key, Errno> {
    if !mm::uaccess::access_ok(uaddr as usize, 4) {
        return Err(EFAULT);
    }
    let private_key = Key::Private(mm as *const _ as usize, uaddr);
    if private {
        return Ok(private_key);
    }
    let shared = {
        let st = mm.mmap_read_lock(cpu);
        match st.find_vma(uaddr as usize) {
            Some(v) if v.contains(uaddr as usize) => {
                v.vm_flags.contains(mm::mmap::VmFlags::VM_SHARED)
            }
            _ => return Err(EFAULT),
        }
    };
    if shared {
        Ok(Key::Shared(mm::uaccess::user_phys_addr(
            cpu,
            mm,
            uaddr as usize,
        )?))
    } else {
        Ok(private_key)
    }
}

fn read_u32(s: &Sys<'_>, uaddr: u64) -> Result<u32, Errno> {
    s.read_array(uaddr).map(u32::from_le_bytes)
}

/// A timeout argument: relative for FUTEX_WAIT, absolute (on the monotonic
/// or, with FUTEX_CLOCK_REALTIME, the real-time clock) for WAIT_BITSET.
fn deadline(
    s: &Sys<'_>,
    timeout: u64,
    absolute: bool,
    realtime: bool,
) -> Result<Option<u64>, Errno> {
    if timeout == 0 {
        return Ok(None);
    }
    let b = s.read_array::<16>(timeout)?;
    let sec = i64::from_le_bytes(b[..8].try_into().map_err(|_| EFAULT)?);
    let nsec = i64::from_le_bytes(b[8..].try_into().map_err(|_| EFAULT)?);
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(EINVAL);
    }
    let d = (sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64);
    let now = s.k.rq.now();
    Ok(Some(if absolute {
        let clock_now = if realtime {
            crate::syscall::info::realtime_ns()
        } else {
            crate::syscall::info::monotonic_ns()
        };
        now.saturating_add(d.saturating_sub(clock_now))
    } else {
        now.saturating_add(d)
    }))
}

/// `futex(2)`.
pub fn sys_futex(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    match futex(s, a) {
        Ok(f) => f,
        Err(e) => Flow::Return(-(e as i64)),
    }
}

fn futex(s: &mut Sys<'_>, a: [u64; 6]) -> Result<Flow, Errno> {
    let [uaddr, op, val, timeout, uaddr2, val3] = a;
    let op = op as u32;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if realtime && !matches!(cmd, FUTEX_WAIT | FUTEX_WAIT_BITSET) {
        return Err(ENOSYS);
    }
    let ret = |v: u64| Ok(Flow::Return(v as i64));
    match cmd {
        FUTEX_WAIT => futex_wait(
            s,
            uaddr,
            val as u32,
            timeout,
            (false, realtime, private),
            FUTEX_BITSET_MATCH_ANY,
        ),
        FUTEX_WAIT_BITSET => {
            if val3 as u32 == 0 {
                return Err(EINVAL);
            }
            futex_wait(
                s,
                uaddr,
                val as u32,
                timeout,
                (true, realtime, private),
                val3 as u32,
            )
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE {
                FUTEX_BITSET_MATCH_ANY
            } else {
                val3 as u32
            };
            if bitset == 0 {
                return Err(EINVAL);
            }
            let key = key_of(s, uaddr, private)?;
            ret(s.k.futex.wake(key, val as u32, bitset) as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let nr_wake = val as u32;
            let nr_requeue = timeout as u32;
            if (nr_wake as i32) < 0 || (nr_requeue as i32) < 0 {
                return Err(EINVAL);
            }
            let k1 = key_of(s, uaddr, private)?;
            let k2 = key_of(s, uaddr2, private)?;
            let mut h = lock(&s.k.futex.q);
            // The comparison is made under the lock, as `futex_wait`'s.
            if cmd == FUTEX_CMP_REQUEUE && read_u32(s, uaddr)? != val3 as u32 {
                return Err(EAGAIN);
            }
            let mut waiters = h.remove(&k1).unwrap_or_default();
            let mut done = 0u64;
            let mut woken = 0u32;
            while woken < nr_wake && !waiters.is_empty() {
                let q = waiters.remove(0);
                q.woken.store(true, SeqCst);
                sched::wake_up_process(&q.task);
                woken += 1;
                done += 1;
            }
            let moved: Vec<_> = waiters
                .drain(..waiters.len().min(nr_requeue as usize))
                .collect();
            done += moved.len() as u64;
            if !waiters.is_empty() {
                h.insert(k1, waiters);
            }
            if !moved.is_empty() {
                h.entry(k2).or_default().extend(moved);
            }
            // Both count the woken and the requeued (`futex_requeue`'s
            // `task_count`; the man page says REQUEUE counts only the
            // woken, the kernel does not).
            ret(done)
        }
        FUTEX_WAKE_OP => {
            let k1 = key_of(s, uaddr, private)?;
            let k2 = key_of(s, uaddr2, private)?;
            let encoded = val3 as u32;
            let op = (encoded >> 28) & 7;
            let oparg_shift = encoded & (8 << 28) != 0;
            let cmp = (encoded >> 24) & 15;
            let mut oparg = ((encoded << 8) as i32 >> 20) as u32;
            let cmparg = ((encoded << 20) as i32 >> 20) as u32;
            if oparg_shift {
                if oparg > 31 {
                    oparg &= 31;
                }
                oparg = 1 << oparg;
            }
            let old = mm::uaccess::futex_atomic_op(
                s.cpu,
                &s.mm,
                uaddr2 as usize,
                |w: &AtomicU32| match op {
                    0 => Some(w.swap(oparg, SeqCst)),
                    1 => Some(w.fetch_add(oparg, SeqCst)),
                    2 => Some(w.fetch_or(oparg, SeqCst)),
                    3 => Some(w.fetch_and(!oparg, SeqCst)),
                    4 => Some(w.fetch_xor(oparg, SeqCst)),
                    _ => None,
                },
            )?
            .ok_or(ENOSYS)?;
            let mut n = s.k.futex.wake(k1, val as u32, FUTEX_BITSET_MATCH_ANY);
            let (o, c) = (old as i32, cmparg as i32);
            let hit = match cmp {
                0 => o == c,
                1 => o != c,
                2 => o < c,
                3 => o <= c,
                4 => o > c,
                5 => o >= c,
                _ => return Err(ENOSYS),
            };
            if hit {
                n += s.k.futex.wake(k2, timeout as u32, FUTEX_BITSET_MATCH_ANY);
            }
            ret(n as u64)
        }
        FUTEX_FD => Err(ENOSYS),
        _ => Err(ENOSYS),
    }
}

/// `futex_wait`; `how` = (absolute timeout, realtime clock, private).
fn futex_wait(
    s: &mut Sys<'_>,
    uaddr: u64,
    val: u32,
    timeout: u64,
    how: (bool, bool, bool),
    bitset: u32,
) -> Result<Flow, Errno> {
    let (absolute, realtime, private) = how;
    // Re-executed after a sleep?
    let prev = s.task.restart.lock().clone();
    if let Some(r) = prev
        .clone()
        .filter(|r| r.nr == crate::syscall::nr::FUTEX && r.futex.is_some())
    {
        let q = r.futex.clone().ok_or(EINVAL)?;
        if q.woken.load(SeqCst) {
            return Ok(Flow::Return(0));
        }
        if r.deadline.is_some_and(|d| s.k.rq.now() >= d) {
            s.k.futex.unqueue(&q);
            return Ok(Flow::Return(if q.woken.load(SeqCst) {
                0
            } else {
                -(ETIMEDOUT as i64)
            }));
        }
        if crate::sigcore::signal_pending(s.task) {
            s.k.futex.unqueue(&q);
            if q.woken.load(SeqCst) {
                return Ok(Flow::Return(0));
            }
            // With a timeout the restart keeps the deadline (restart_block).
            if r.deadline.is_some() {
                *s.task.restart.lock() = Some(Restart {
                    futex: None,
                    ..r.clone()
                });
                return Err(ERESTART_RESTARTBLOCK);
            }
            return Err(ERESTARTSYS);
        }
        // Spurious: sleep again.
        sched::set_current_state(s.task, TASK_INTERRUPTIBLE);
        if q.woken.load(SeqCst) {
            sched::set_running(s.task);
            return Ok(Flow::Return(0));
        }
        if let Some(d) = r.deadline {
            s.k.rq.arm_wake(s.task, d);
        }
        return Ok(Flow::Block);
    }
    // A restarted wait after a signal keeps its deadline.
    let kept = prev
        .filter(|r| r.nr == crate::syscall::nr::FUTEX)
        .and_then(|r| r.deadline);
    let key = key_of(s, uaddr, private)?;
    let deadline = match kept {
        Some(d) => Some(d),
        None => deadline(s, timeout, absolute, realtime)?,
    };
    let q = Arc::new(FutexQ {
        task: s.task.clone(),
        bitset,
        woken: AtomicBool::new(false),
        rest: Vec::new(),
    });
    {
        let mut h = lock(&s.k.futex.q);
        let cur = read_u32(s, uaddr)?;
        if cur != val {
            return Err(EAGAIN);
        }
        if deadline.is_some_and(|d| s.k.rq.now() >= d) {
            return Err(ETIMEDOUT);
        }
        sched::set_current_state(s.task, TASK_INTERRUPTIBLE);
        h.entry(key).or_default().push(q.clone());
    }
    *s.task.restart.lock() = Some(Restart {
        nr: crate::syscall::nr::FUTEX,
        deadline,
        futex: Some(q),
        ..Default::default()
    });
    if let Some(d) = deadline {
        s.k.rq.arm_wake(s.task, d);
    }
    Ok(Flow::Block)
}

/// `futex_waitv(waiters, nr_futexes, flags, timeout, clockid)`
/// (kernel/futex/syscalls.c and waitwake.c's `futex_wait_multiple`):
/// sleep until one of up to 128 futexes is woken; returns the index of
/// the woken entry (the highest, if several were), -EAGAIN if a futex's
/// value differs from its `val` when queued, -ETIMEDOUT at the absolute
/// `timeout` on `clockid` (CLOCK_MONOTONIC or CLOCK_REALTIME), and
/// -ERESTARTSYS when a signal comes.
pub fn sys_futex_waitv(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    match futex_waitv(s, a) {
        Ok(f) => f,
        Err(e) => Flow::Return(-(e as i64)),
    }
}

/// One `struct futex_waitv` after `futex_parse_waitv`.
struct Waiter {
    uaddr: u64,
    val: u32,
    private: bool,
}

fn parse_waitv(s: &Sys<'_>, waiters: u64, n: u64) -> Result<Vec<Waiter>, Errno> {
    let raw = s.read_user(waiters, n as usize * 24)?;
    let mut out = Vec::with_capacity(n as usize);
    for w in raw.chunks_exact(24) {
        let val = u64::from_le_bytes(w[0..8].try_into().map_err(|_| EFAULT)?);
        let uaddr = u64::from_le_bytes(w[8..16].try_into().map_err(|_| EFAULT)?);
        let flags = u32::from_le_bytes(w[16..20].try_into().map_err(|_| EFAULT)?);
        let reserved = u32::from_le_bytes(w[20..24].try_into().map_err(|_| EFAULT)?);
        let valid = FUTEX2_SIZE_MASK | FUTEX2_NUMA | FUTEX2_MPOL | FUTEX2_PRIVATE;
        if flags & !valid != 0 || reserved != 0 {
            return Err(EINVAL);
        }
        // `futex_flags_valid`: only 32-bit futexes; `futex_validate_input`:
        // the value fits the size.
        if flags & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32 || val >> 32 != 0 {
            return Err(EINVAL);
        }
        out.push(Waiter {
            uaddr,
            val: val as u32,
            private: flags & FUTEX2_PRIVATE != 0,
        });
    }
    Ok(out)
}

/// The highest index of `qs` that was woken.
fn woken_index(qs: &[Arc<FutexQ>]) -> Option<usize> {
    qs.iter().rposition(|q| q.woken.load(SeqCst))
}

fn futex_waitv(s: &mut Sys<'_>, a: [u64; 6]) -> Result<Flow, Errno> {
    let [waiters, nr_futexes, flags, timeout, clockid, _] = a;
    // Re-executed after a sleep?
    let prev = s.task.restart.lock().clone();
    if let Some(r) = prev.filter(|r| r.nr == crate::syscall::nr::FUTEX_WAITV && r.futex.is_some()) {
        let q0 = r.futex.clone().ok_or(EINVAL)?;
        let mut qs = vec![q0.clone()];
        qs.extend(q0.rest.iter().cloned());
        let timed_out = r.deadline.is_some_and(|d| s.k.rq.now() >= d);
        let signal = crate::sigcore::signal_pending(s.task);
        if woken_index(&qs).is_some() || timed_out || signal {
            s.k.futex.unqueue_all(&qs);
            if let Some(i) = woken_index(&qs) {
                return Ok(Flow::Return(i as i64));
            }
            // The timeout is absolute: a restart after a signal waits
            // for the same instant.
            return Err(if timed_out { ETIMEDOUT } else { ERESTARTSYS });
        }
        // Spurious: sleep again.
        sched::set_current_state(s.task, TASK_INTERRUPTIBLE);
        if woken_index(&qs).is_some() {
            sched::set_running(s.task);
            s.k.futex.unqueue_all(&qs);
            return Ok(Flow::Return(woken_index(&qs).unwrap_or(0) as i64));
        }
        if let Some(d) = r.deadline {
            s.k.rq.arm_wake(s.task, d);
        }
        return Ok(Flow::Block);
    }
    if flags != 0 || nr_futexes == 0 || nr_futexes > FUTEX_WAITV_MAX || waiters == 0 {
        return Err(EINVAL);
    }
    let deadline = if timeout != 0 {
        let realtime = match clockid {
            0 => true,  // CLOCK_REALTIME
            1 => false, // CLOCK_MONOTONIC
            _ => return Err(EINVAL),
        };
        deadline(s, timeout, true, realtime)?
    } else {
        None
    };
    let ws = parse_waitv(s, waiters, nr_futexes)?;
    let mut keys = Vec::with_capacity(ws.len());
    for w in &ws {
        keys.push(key_of(s, w.uaddr, w.private)?);
    }
    // The entries, the first one last (it holds the others).
    let entry = |rest: Vec<Arc<FutexQ>>| {
        Arc::new(FutexQ {
            task: s.task.clone(),
            bitset: FUTEX_BITSET_MATCH_ANY,
            woken: AtomicBool::new(false),
            rest,
        })
    };
    let rest: Vec<Arc<FutexQ>> = (1..ws.len()).map(|_| entry(Vec::new())).collect();
    let q0 = entry(rest.clone());
    let mut qs = vec![q0.clone()];
    qs.extend(rest);
    {
        // `futex_wait_multiple_setup`: every value checked and every
        // entry queued under the lock, so no wake-up falls between.
        let mut h = lock(&s.k.futex.q);
        for w in &ws {
            if read_u32(s, w.uaddr)? != w.val {
                return Err(EAGAIN);
            }
        }
        if deadline.is_some_and(|d| s.k.rq.now() >= d) {
            return Err(ETIMEDOUT);
        }
        sched::set_current_state(s.task, TASK_INTERRUPTIBLE);
        for (k, q) in keys.iter().zip(&qs) {
            h.entry(*k).or_default().push(q.clone());
        }
    }
    *s.task.restart.lock() = Some(Restart {
        nr: crate::syscall::nr::FUTEX_WAITV,
        deadline,
        futex: Some(q0),
        ..Default::default()
    });
    if let Some(d) = deadline {
        s.k.rq.arm_wake(s.task, d);
    }
    Ok(Flow::Block)
}

/// Wake `n` waiters of the (shared-flag) futex at `uaddr` in `mm`
/// (CLONE_CHILD_CLEARTID at thread exit, the robust list).
pub fn futex_wake_addr(k: &Kernel, cpu: &Cpu<'static>, mm: &MmUser, uaddr: u64, n: u32) {
    if let Ok(key) = get_futex_key(cpu, mm, uaddr, false) {
        k.futex.wake(key, n, FUTEX_BITSET_MATCH_ANY);
    }
}

/// `FUTEX_OWNER_DIED`, `FUTEX_WAITERS`, `FUTEX_TID_MASK`.
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
/// `ROBUST_LIST_LIMIT`.
const ROBUST_LIST_LIMIT: usize = 2048;

/// `exit_robust_list`: for each lock on the dying thread's robust list
/// that it still owns, set FUTEX_OWNER_DIED and wake a waiter.
pub fn exit_robust_list(k: &Kernel, cpu: &Cpu<'static>, t: &TaskRef, mm: &MmUser) {
    let (head, _) = *lock(&t.robust_list);
    if head == 0 {
        return;
    }
    let rd = |addr: u64| -> Option<u64> {
        let mut b = [0u8; 8];
        mm::uaccess::copy_from_user(cpu, mm, &mut b, addr as usize).ok()?;
        Some(u64::from_le_bytes(b))
    };
    // struct robust_list_head { list.next; futex_offset; list_op_pending }
    let Some(mut entry) = rd(head) else { return };
    let Some(offset) = rd(head + 8) else { return };
    let pending = rd(head + 16).unwrap_or(0);
    let handle = |e: u64| {
        let uaddr = (e & !1).wrapping_add(offset);
        let r = mm::uaccess::futex_atomic_op(cpu, mm, uaddr as usize, |w: &AtomicU32| {
            let v = w.load(SeqCst);
            if v & FUTEX_TID_MASK != t.pid() as u32 {
                return false;
            }
            let nv = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
            w.compare_exchange(v, nv, SeqCst, SeqCst).is_ok() && v & FUTEX_WAITERS != 0
        });
        if r == Ok(true) {
            futex_wake_addr(k, cpu, mm, uaddr, 1);
        }
    };
    let mut n = 0;
    while entry != head && entry != 0 && n < ROBUST_LIST_LIMIT {
        let next = rd(entry & !1);
        if entry != pending {
            handle(entry);
        }
        let Some(nx) = next else { break };
        entry = nx;
        n += 1;
    }
    if pending != 0 {
        handle(pending);
    }
}
