//! Credentials, process attributes, signal waits and queues, POSIX timers
//! and System V shared memory, called through `dispatch` without a hart
//! (as crates/kernel/tests/syscalls.rs does): Linux's rules and errnos,
//! and the hostile cases (bad pointers, huge counts).

use std::sync::atomic::Ordering::Relaxed;

use kernel::errno::*;
use kernel::syscall::nr::*;
use kernel::syscall::{dispatch, Flow, Sys};
use kernel::task::TaskRef as Task;
use kernel::Kernel;
use mm::mmap::{MmStruct, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use mm::percpu::Cpu;

mod common;
use common::Env;

fn env() -> Env {
    common::boot_kernel(2)
}

/// A task `pid` with ids `cred` and 4 read/write pages at the returned
/// address (the last one made read-only).
fn task(k: &Kernel, cpu: &Cpu<'static>, pid: i32, cred: [u32; 4]) -> (Task, u64) {
    let mm = MmStruct::new(cpu).unwrap();
    let rw = mm
        .do_mmap(
            cpu,
            0,
            4 * 4096,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
        )
        .unwrap();
    mm.mprotect(cpu, rw + 3 * 4096, 4096, PROT_READ).unwrap();
    let t = k
        .new_task(cpu, pid, 1, b"t", b"/t".to_vec(), b"t\0".to_vec(), cred, mm)
        .unwrap();
    (t, rw as u64)
}

fn call_flow(k: &Kernel, cpu: &Cpu<'static>, t: &Task, nr: u64, a: &[u64]) -> Flow {
    let mut args = [0u64; 6];
    args[..a.len()].copy_from_slice(a);
    let mut s = Sys::new(cpu, k, t);
    dispatch(&mut s, nr, args)
}

fn call(k: &Kernel, cpu: &Cpu<'static>, t: &Task, nr: u64, a: &[u64]) -> i64 {
    match call_flow(k, cpu, t, nr, a) {
        Flow::Return(v) | Flow::Yield(v) => v,
        f => panic!("unexpected {f:?}"),
    }
}

fn err(e: i32) -> i64 {
    -(e as i64)
}

fn put(cpu: &Cpu<'static>, t: &Task, addr: u64, b: &[u8]) {
    mm::uaccess::copy_to_user(cpu, &t.mm(), addr as usize, b).unwrap();
}

fn get(cpu: &Cpu<'static>, t: &Task, addr: u64, n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    mm::uaccess::copy_from_user(cpu, &t.mm(), &mut b, addr as usize).unwrap();
    b
}

fn u32s(b: &[u8]) -> Vec<u32> {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

const NO: u64 = u32::MAX as u64;

#[test]
fn setuid_family_follows_linux_rules() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    assert_eq!(call(k, &cpu, &t, SETUID, &[NO]), err(EINVAL));
    assert_eq!(call(k, &cpu, &t, SETRESUID, &[1000, 1001, 1002]), 0);
    let c = t.cred();
    assert_eq!((c.uid, c.euid, c.suid, c.fsuid), (1000, 1001, 1002, 1001));
    // Root gave up every uid 0: no capabilities left.
    assert_eq!((c.cap_effective, c.cap_permitted), (0, 0));
    assert_eq!(t.signal.dumpable.load(Relaxed), 0);
    assert_eq!(call(k, &cpu, &t, SETUID, &[0]), err(EPERM));
    assert_eq!(call(k, &cpu, &t, SETUID, &[1002]), 0);
    let c = t.cred();
    assert_eq!((c.uid, c.euid, c.suid), (1000, 1002, 1002));
    assert_eq!(call(k, &cpu, &t, SETREUID, &[1001, NO]), err(EPERM));
    assert_eq!(call(k, &cpu, &t, SETREUID, &[1002, 1000]), 0);
    let c = t.cred();
    assert_eq!((c.uid, c.euid, c.suid, c.fsuid), (1002, 1000, 1000, 1000));
    assert_eq!(call(k, &cpu, &t, SETRESUID, &[NO, NO, 7]), err(EPERM));
    // A no-op needs no privilege.
    assert_eq!(call(k, &cpu, &t, SETRESUID, &[1002, 1000, 1000]), 0);
    // setfsuid returns the old value and changes only to one of the ids.
    assert_eq!(call(k, &cpu, &t, SETFSUID, &[5]), 1000);
    assert_eq!(call(k, &cpu, &t, SETFSUID, &[NO]), 1000);
    assert_eq!(call(k, &cpu, &t, SETFSUID, &[1002]), 1000);
    assert_eq!(call(k, &cpu, &t, SETFSUID, &[NO]), 1002);
    // getresuid writes three ids; a read-only target is EFAULT.
    assert_eq!(call(k, &cpu, &t, GETRESUID, &[rw, rw + 4, rw + 8]), 0);
    assert_eq!(u32s(&get(&cpu, &t, rw, 12)), vec![1002, 1000, 1000]);
    let ro = rw + 3 * 4096;
    assert_eq!(call(k, &cpu, &t, GETRESUID, &[rw, ro, rw]), err(EFAULT));
    // The gid calls.
    assert_eq!(call(k, &cpu, &t, SETGID, &[5]), err(EPERM));
    assert_eq!(call(k, &cpu, &t, SETREGID, &[NO, 0]), 0);
    assert_eq!(call(k, &cpu, &t, GETRESGID, &[rw, rw + 4, rw + 8]), 0);
    assert_eq!(u32s(&get(&cpu, &t, rw, 12)), vec![0, 0, 0]);
}

#[test]
fn root_keeps_saved_zero_and_regains_capabilities() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, _) = task(k, &cpu, 7, [0, 0, 0, 0]);
    // seteuid(1000) keeps suid 0: permitted stays, effective goes.
    assert_eq!(call(k, &cpu, &t, SETRESUID, &[NO, 1000, NO]), 0);
    let c = t.cred();
    assert_eq!(c.cap_effective, 0);
    assert_ne!(c.cap_permitted, 0);
    // Back to euid 0: effective = permitted again.
    assert_eq!(call(k, &cpu, &t, SETRESUID, &[NO, 0, NO]), 0);
    assert_eq!(t.cred().cap_effective, t.cred().cap_permitted);
    // The per-user process count follows the real uid.
    assert_eq!(call(k, &cpu, &t, SETUID, &[4242]), 0);
    assert_eq!(k.tasks.lock().per_uid.get(&4242).copied(), Some(1));
}

#[test]
fn groups_are_bounded_sorted_and_privileged() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    let list: Vec<u8> = [30u32, 10, 20]
        .iter()
        .flat_map(|g| g.to_le_bytes())
        .collect();
    put(&cpu, &t, rw, &list);
    assert_eq!(call(k, &cpu, &t, SETGROUPS, &[3, rw]), 0);
    assert_eq!(call(k, &cpu, &t, GETGROUPS, &[0, 0]), 3);
    assert_eq!(call(k, &cpu, &t, GETGROUPS, &[2, rw + 64]), err(EINVAL));
    assert_eq!(call(k, &cpu, &t, GETGROUPS, &[3, rw + 64]), 3);
    assert_eq!(u32s(&get(&cpu, &t, rw + 64, 12)), vec![10, 20, 30]);
    assert_eq!(
        call(k, &cpu, &t, GETGROUPS, &[(-1i64) as u64, rw]),
        err(EINVAL)
    );
    // More than NGROUPS_MAX, or more than the guest has mapped.
    assert_eq!(call(k, &cpu, &t, SETGROUPS, &[65537, rw]), err(EINVAL));
    assert_eq!(call(k, &cpu, &t, SETGROUPS, &[65536, rw]), err(EFAULT));
    assert_eq!(call(k, &cpu, &t, SETGROUPS, &[1, 0]), err(EFAULT));
    // A failed call leaves the list alone.
    assert_eq!(&*t.cred().groups, &[10, 20, 30]);
    put(&cpu, &t, rw, &u32::MAX.to_le_bytes());
    assert_eq!(call(k, &cpu, &t, SETGROUPS, &[1, rw]), err(EINVAL));
    assert!(t.cred().in_group(20));
    // Without CAP_SETGID: EPERM.
    assert_eq!(call(k, &cpu, &t, SETUID, &[1000]), 0);
    assert_eq!(call(k, &cpu, &t, SETGROUPS, &[0, 0]), err(EPERM));
}

#[test]
fn capget_and_capset() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    let hdr = rw;
    let data = rw + 64;
    // An unknown version: EINVAL and version 3 written back; with no data
    // pointer only the probe (0).
    put(&cpu, &t, hdr, &[0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0]);
    assert_eq!(call(k, &cpu, &t, CAPGET, &[hdr, data]), err(EINVAL));
    assert_eq!(u32s(&get(&cpu, &t, hdr, 4)), vec![0x2008_0522]);
    put(&cpu, &t, hdr, &[0x78, 0x56, 0x34, 0x12]);
    assert_eq!(call(k, &cpu, &t, CAPGET, &[hdr, 0]), 0);
    // Version 3: two words per set; root has all 41.
    assert_eq!(call(k, &cpu, &t, CAPGET, &[hdr, data]), 0);
    let w = u32s(&get(&cpu, &t, data, 24));
    assert_eq!(w, vec![u32::MAX, u32::MAX, 0, 0x1ff, 0x1ff, 0]);
    // Version 1: one word.
    put(&cpu, &t, hdr, &0x1998_0330u32.to_le_bytes());
    put(&cpu, &t, data, &[0xee; 24]);
    assert_eq!(call(k, &cpu, &t, CAPGET, &[hdr, data]), 0);
    let w = u32s(&get(&cpu, &t, data, 24));
    assert_eq!(&w[..3], &[u32::MAX, u32::MAX, 0]);
    assert_eq!(w[3], 0xeeee_eeee);
    // capset: drop CAP_SETUID (7) from effective; raising beyond
    // permitted is EPERM; another pid is EPERM.
    put(&cpu, &t, hdr, &0x2008_0522u32.to_le_bytes());
    let mut d = [0u8; 24];
    d[0..4].copy_from_slice(&(!(1u32 << 7)).to_le_bytes());
    d[4..8].copy_from_slice(&(!(1u32 << 7)).to_le_bytes());
    put(&cpu, &t, data, &d);
    assert_eq!(call(k, &cpu, &t, CAPSET, &[hdr, data]), 0);
    assert!(!t.cred().capable(7));
    assert_eq!(call(k, &cpu, &t, SETUID, &[1000]), err(EPERM));
    d[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    put(&cpu, &t, data, &d);
    assert_eq!(call(k, &cpu, &t, CAPSET, &[hdr, data]), err(EPERM));
    put(&cpu, &t, hdr + 4, &1i32.to_le_bytes());
    assert_eq!(call(k, &cpu, &t, CAPSET, &[hdr, data]), err(EPERM));
    put(&cpu, &t, hdr + 4, &0i32.to_le_bytes());
    assert_eq!(call(k, &cpu, &t, CAPSET, &[hdr, 0]), err(EFAULT));
}

#[test]
fn prctl_names_and_flags() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    // A name without a NUL in the first 16 bytes is cut at 15.
    put(&cpu, &t, rw, b"abcdefghijklmnopqrstuvwxyz");
    assert_eq!(call(k, &cpu, &t, PRCTL, &[15, rw]), 0);
    assert_eq!(t.comm(), "abcdefghijklmno");
    assert_eq!(call(k, &cpu, &t, PRCTL, &[16, rw + 100]), 0);
    assert_eq!(get(&cpu, &t, rw + 100, 16), b"abcdefghijklmno\0");
    // A name that runs into an unmapped page is EFAULT only if no NUL
    // comes first.
    let end = rw + 4 * 4096;
    assert_eq!(call(k, &cpu, &t, PRCTL, &[15, end]), err(EFAULT));
    // Parent-death signal, subreaper, dumpable, no_new_privs.
    assert_eq!(call(k, &cpu, &t, PRCTL, &[1, 65]), err(EINVAL));
    assert_eq!(call(k, &cpu, &t, PRCTL, &[1, (1 << 32) | 10]), err(EINVAL));
    assert_eq!(call(k, &cpu, &t, PRCTL, &[1, 10]), 0);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[2, rw]), 0);
    assert_eq!(u32s(&get(&cpu, &t, rw, 4)), vec![10]);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[36, 5]), 0);
    assert!(t.signal.is_child_subreaper.load(Relaxed));
    assert_eq!(call(k, &cpu, &t, PRCTL, &[37, rw]), 0);
    assert_eq!(u32s(&get(&cpu, &t, rw, 4)), vec![1]);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[3]), 1);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[4, 2]), err(EINVAL));
    assert_eq!(call(k, &cpu, &t, PRCTL, &[4, 0]), 0);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[3]), 0);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[38, 1, 0, 0, 0]), 0);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[39, 0, 0, 0, 0]), 1);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[12345]), err(EINVAL));
    // Timer slack: 50 µs by default, 0 restores the default.
    assert_eq!(call(k, &cpu, &t, PRCTL, &[30]), 50_000);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[29, 7]), 0);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[30]), 7);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[29, 0]), 0);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[30]), 50_000);
    // PR_GET_TID_ADDRESS.
    t.clear_child_tid.store(0x1234_5678, Relaxed);
    assert_eq!(call(k, &cpu, &t, PRCTL, &[40, rw + 200]), 0);
    assert_eq!(get(&cpu, &t, rw + 200, 8), 0x1234_5678u64.to_le_bytes());
    assert_eq!(call(k, &cpu, &t, PRCTL, &[40, rw + 3 * 4096]), err(EFAULT));
    // A credential change clears the parent-death signal.
    assert_eq!(call(k, &cpu, &t, SETUID, &[1000]), 0);
    assert_eq!(t.signal.pdeath_signal.load(Relaxed), 0);
}

#[test]
fn priorities_need_privilege_to_go_up() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (root, _) = task(k, &cpu, 7, [0, 0, 0, 0]);
    let (user, _) = task(k, &cpu, 8, [1000, 1000, 1000, 1000]);
    assert_eq!(
        call(k, &cpu, &root, SETPRIORITY, &[0, 0, (-5i64) as u64]),
        0
    );
    assert_eq!(call(k, &cpu, &root, GETPRIORITY, &[0, 0]), 25);
    assert_eq!(call(k, &cpu, &root, SETPRIORITY, &[0, 8, 100]), 0);
    assert_eq!(call(k, &cpu, &root, GETPRIORITY, &[0, 8]), 1);
    assert_eq!(call(k, &cpu, &user, SETPRIORITY, &[0, 0, 10]), err(EACCES));
    assert_eq!(call(k, &cpu, &user, SETPRIORITY, &[0, 7, 10]), err(EPERM));
    assert_eq!(call(k, &cpu, &user, SETPRIORITY, &[0, 999, 10]), err(ESRCH));
    assert_eq!(call(k, &cpu, &user, SETPRIORITY, &[3, 0, 10]), err(EINVAL));
    // PRIO_USER 1000: the user's own task.
    assert_eq!(call(k, &cpu, &root, SETPRIORITY, &[2, 1000, 19]), 0);
    assert_eq!(user.nice.load(Relaxed), 19);
    assert_eq!(root.nice.load(Relaxed), -5);
}

#[test]
fn rusage_and_times() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    t.utime.store(1_500_000_000, Relaxed);
    t.signal.cutime.store(2_000_000_000, Relaxed);
    t.nvcsw.store(3, Relaxed);
    assert_eq!(call(k, &cpu, &t, GETRUSAGE, &[0, rw]), 0);
    let b = get(&cpu, &t, rw, 144);
    let at = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    assert_eq!((at(0), at(8)), (1, 500_000));
    assert_eq!(at(128), 3);
    assert_eq!(call(k, &cpu, &t, GETRUSAGE, &[(-1i64) as u64, rw]), 0);
    let b = get(&cpu, &t, rw, 144);
    assert_eq!(u64::from_le_bytes(b[0..8].try_into().unwrap()), 2);
    assert_eq!(call(k, &cpu, &t, GETRUSAGE, &[2, rw]), err(EINVAL));
    assert_eq!(
        call(k, &cpu, &t, GETRUSAGE, &[1, rw + 3 * 4096]),
        err(EFAULT)
    );
    assert!(call(k, &cpu, &t, TIMES, &[rw]) >= 0);
    let b = u64::from_le_bytes(get(&cpu, &t, rw, 8).try_into().unwrap());
    assert_eq!(b, 150);
    assert_eq!(
        u64::from_le_bytes(get(&cpu, &t, rw + 16, 8).try_into().unwrap()),
        200
    );
    assert_eq!(call(k, &cpu, &t, TIMES, &[8]), err(EFAULT));
}

/// Queue `sig` for `t` as the kernel would (tkill from itself).
fn raise(k: &Kernel, cpu: &Cpu<'static>, t: &Task, sig: u64) {
    assert_eq!(call(k, cpu, t, TKILL, &[t.pid() as u64, sig]), 0);
}

#[test]
fn sigtimedwait_takes_pending_times_out_and_restores_the_mask() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    let set = rw;
    let info = rw + 64;
    let ts = rw + 256;
    let usr1 = 1u64 << 9;
    put(&cpu, &t, set, &usr1.to_le_bytes());
    t.sig.lock().unwrap().blocked = usr1;
    // Pending: taken at once, with its siginfo.
    raise(k, &cpu, &t, 10);
    assert_eq!(call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, 0, 8]), 10);
    let si = u32s(&get(&cpu, &t, info, 24));
    assert_eq!((si[0], si[2] as i32, si[4]), (10, -6, 7));
    // Zero timeout: EAGAIN; bad size, bad timespec.
    put(&cpu, &t, ts, &[0u8; 16]);
    assert_eq!(
        call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, ts, 8]),
        err(EAGAIN)
    );
    assert_eq!(
        call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, ts, 16]),
        err(EINVAL)
    );
    let mut bad = [0u8; 16];
    bad[8..].copy_from_slice(&2_000_000_000i64.to_le_bytes());
    put(&cpu, &t, ts + 32, &bad);
    assert_eq!(
        call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, ts + 32, 8]),
        err(EINVAL)
    );
    // 20 ms: it sleeps with SIGUSR1 unblocked, then times out with the
    // mask back.
    let mut d = [0u8; 16];
    d[8..].copy_from_slice(&20_000_000i64.to_le_bytes());
    put(&cpu, &t, ts, &d);
    assert_eq!(
        call_flow(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, ts, 8]),
        Flow::Block
    );
    assert_eq!(t.blocked() & usr1, 0);
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(
        call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, ts, 8]),
        err(EAGAIN)
    );
    assert_eq!(t.blocked(), usr1);
    t.restart.clear();
    // A signal of the set arriving during the sleep is taken on return.
    assert_eq!(
        call_flow(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, 0, 8]),
        Flow::Block
    );
    raise(k, &cpu, &t, 10);
    assert_eq!(call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, 0, 8]), 10);
    assert_eq!(t.blocked(), usr1);
    t.restart.clear();
    // Another (unblocked) signal interrupts: EINTR.
    assert_eq!(
        call_flow(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, 0, 8]),
        Flow::Block
    );
    raise(k, &cpu, &t, 12);
    assert_eq!(
        call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[set, info, 0, 8]),
        err(EINTR)
    );
    assert_eq!(t.blocked(), usr1);
}

#[test]
fn sigqueueinfo_carries_the_value_and_checks_the_code() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    let (other, _) = task(k, &cpu, 8, [0, 0, 0, 0]);
    let mut si = [0u8; 128];
    si[8..12].copy_from_slice(&(-1i32).to_le_bytes()); // SI_QUEUE
    si[16..20].copy_from_slice(&1234i32.to_le_bytes());
    si[24..32].copy_from_slice(&0xabcdu64.to_le_bytes());
    put(&cpu, &t, rw, &si);
    let usr2 = 1u64 << 11;
    t.sig.lock().unwrap().blocked = usr2;
    assert_eq!(call(k, &cpu, &t, RT_SIGQUEUEINFO, &[7, 12, rw]), 0);
    put(&cpu, &t, rw + 512, &usr2.to_le_bytes());
    assert_eq!(
        call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[rw + 512, rw + 256, 0, 8]),
        12
    );
    let got = get(&cpu, &t, rw + 256, 32);
    assert_eq!(i32::from_le_bytes(got[8..12].try_into().unwrap()), -1);
    assert_eq!(i32::from_le_bytes(got[16..20].try_into().unwrap()), 1234);
    assert_eq!(u64::from_le_bytes(got[24..32].try_into().unwrap()), 0xabcd);
    // si_code >= 0 or SI_TKILL towards another task: EPERM.
    si[8..12].copy_from_slice(&0i32.to_le_bytes());
    put(&cpu, &t, rw, &si);
    assert_eq!(call(k, &cpu, &t, RT_SIGQUEUEINFO, &[8, 12, rw]), err(EPERM));
    si[8..12].copy_from_slice(&(-6i32).to_le_bytes());
    put(&cpu, &t, rw, &si);
    assert_eq!(
        call(k, &cpu, &t, RT_TGSIGQUEUEINFO, &[8, 8, 12, rw]),
        err(EPERM)
    );
    si[8..12].copy_from_slice(&(-1i32).to_le_bytes());
    put(&cpu, &t, rw, &si);
    assert_eq!(call(k, &cpu, &t, RT_TGSIGQUEUEINFO, &[8, 8, 12, rw]), 0);
    assert_ne!(other.sig.lock().unwrap().pending & usr2, 0);
    assert_eq!(
        call(k, &cpu, &t, RT_TGSIGQUEUEINFO, &[7, 8, 12, rw]),
        err(ESRCH)
    );
    assert_eq!(
        call(k, &cpu, &t, RT_TGSIGQUEUEINFO, &[0, 8, 12, rw]),
        err(EINVAL)
    );
    assert_eq!(
        call(k, &cpu, &t, RT_SIGQUEUEINFO, &[999, 12, rw]),
        err(ESRCH)
    );
    assert_eq!(
        call(k, &cpu, &t, RT_SIGQUEUEINFO, &[7, 99, rw]),
        err(EINVAL)
    );
    assert_eq!(call(k, &cpu, &t, RT_SIGQUEUEINFO, &[7, 12, 8]), err(EFAULT));
}

#[test]
fn posix_timer_fires_with_si_value_and_counts_overruns() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    let alrm = 1u64 << 13;
    t.sig.lock().unwrap().blocked = alrm;
    // struct sigevent: value 77, SIGALRM, SIGEV_SIGNAL.
    let mut ev = [0u8; 64];
    ev[0..8].copy_from_slice(&77u64.to_le_bytes());
    ev[8..12].copy_from_slice(&14i32.to_le_bytes());
    put(&cpu, &t, rw, &ev);
    let idp = rw + 100;
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[1, rw, idp]), 0);
    let id = u32s(&get(&cpu, &t, idp, 4))[0] as u64;
    assert_eq!(id, 0);
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[1, rw, idp]), 0);
    assert_eq!(u32s(&get(&cpu, &t, idp, 4))[0], 1);
    // Periodic: 5 ms.
    let mut its = [0u8; 32];
    its[8..16].copy_from_slice(&5_000_000i64.to_le_bytes());
    its[24..32].copy_from_slice(&5_000_000i64.to_le_bytes());
    put(&cpu, &t, rw + 200, &its);
    assert_eq!(call(k, &cpu, &t, TIMER_SETTIME, &[id, 0, rw + 200, 0]), 0);
    for _ in 0..4 {
        std::thread::sleep(std::time::Duration::from_millis(7));
        k.rq.run_timers();
    }
    // One signal queued, the later expiries are its overruns.
    {
        let g = t.signal.group.lock().unwrap();
        let q: Vec<_> = g.queue.iter().filter(|q| q.signo == 14).collect();
        assert_eq!(q.len(), 1);
        assert_eq!((q[0].code, q[0].pid, q[0].addr), (-2, 0, 77));
        assert!(q[0].uid >= 2, "overrun {}", q[0].uid);
    }
    put(&cpu, &t, rw + 300, &alrm.to_le_bytes());
    assert_eq!(
        call(k, &cpu, &t, RT_SIGTIMEDWAIT, &[rw + 300, rw + 400, 0, 8]),
        14
    );
    let si = get(&cpu, &t, rw + 400, 32);
    let overrun = i32::from_le_bytes(si[20..24].try_into().unwrap());
    assert_eq!(i32::from_le_bytes(si[16..20].try_into().unwrap()), 0);
    assert_eq!(u64::from_le_bytes(si[24..32].try_into().unwrap()), 77);
    assert_eq!(call(k, &cpu, &t, TIMER_GETOVERRUN, &[id]), overrun as i64);
    // gettime: the interval, a value within it.
    assert_eq!(call(k, &cpu, &t, TIMER_GETTIME, &[id, rw + 500]), 0);
    let g = get(&cpu, &t, rw + 500, 32);
    assert_eq!(i64::from_le_bytes(g[8..16].try_into().unwrap()), 5_000_000);
    assert!(i64::from_le_bytes(g[24..32].try_into().unwrap()) <= 5_000_000);
    // Delete: the queued signal goes too, and the timer queue's entry
    // (with its reference to the process); the id is gone.
    std::thread::sleep(std::time::Duration::from_millis(7));
    k.rq.run_timers();
    let refs = mm::kbox::KArc::strong_count(&t.signal);
    assert_eq!(call(k, &cpu, &t, TIMER_DELETE, &[id]), 0);
    assert_eq!(mm::kbox::KArc::strong_count(&t.signal), refs - 1);
    assert!(!t
        .signal
        .group
        .lock()
        .unwrap()
        .queue
        .iter()
        .any(|q| q.signo == 14));
    assert_eq!(call(k, &cpu, &t, TIMER_DELETE, &[id]), err(EINVAL));
    assert_eq!(
        call(k, &cpu, &t, TIMER_GETTIME, &[id, rw + 500]),
        err(EINVAL)
    );
    // Errors.
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[10, rw, idp]), err(EINVAL));
    assert_eq!(
        call(k, &cpu, &t, TIMER_CREATE, &[8, rw, idp]),
        err(EOPNOTSUPP)
    );
    assert_eq!(
        call(k, &cpu, &t, TIMER_CREATE, &[(-5i64) as u64, rw, idp]),
        err(EINVAL)
    );
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[1, 8, idp]), err(EFAULT));
    assert_eq!(call(k, &cpu, &t, TIMER_SETTIME, &[1, 0, 0, 0]), err(EINVAL));
    // The count is bounded by RLIMIT_SIGPENDING.
    t.signal.rlim.lock().unwrap()[11].cur = 3;
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[1, 0, idp]), 0);
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[1, 0, idp]), 0);
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[1, 0, idp]), err(EAGAIN));
    // exec deletes them all.
    kernel::posix_timers::exit_itimers(&k.rq, &t.signal);
    assert!(t.signal.posix_timers.lock().unwrap().is_empty());
}

#[test]
fn shm_segments_count_attaches_and_free_their_pages() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    let id = call(k, &cpu, &t, SHMGET, &[0, 3 * 4096, 0o1600]) as u64;
    assert!((id as i64) >= 0);
    let a = call(k, &cpu, &t, SHMAT, &[id, 0, 0]) as u64;
    let b = call(k, &cpu, &t, SHMAT, &[id, 0, 0o10000]) as u64; // SHM_RDONLY
    assert!(a > 0 && b > 0 && a != b);
    put(&cpu, &t, a, b"shared");
    assert_eq!(get(&cpu, &t, b, 6), b"shared");
    let stat = |t: &Task| {
        assert_eq!(call(k, &cpu, t, SHMCTL, &[id, 2, rw]), 0);
        let s = get(&cpu, t, rw, 112);
        (
            u64::from_le_bytes(s[88..96].try_into().unwrap()),
            u32::from_le_bytes(s[20..24].try_into().unwrap()),
            u64::from_le_bytes(s[48..56].try_into().unwrap()),
        )
    };
    assert_eq!(stat(&t), (2, 0o600, 3 * 4096));
    // A forked mm's copies count too.
    let regs = kernel::task::Regs::default();
    let child = kernel::fork::kernel_clone(
        k,
        &cpu,
        &t,
        &regs,
        kernel::fork::CloneArgs {
            exit_signal: 17,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(stat(&t).0, 4);
    assert_eq!(get(&cpu, &child, a, 6), b"shared");
    // munmap of part of an attach splits it: Linux counts the pieces.
    child.mm().do_munmap(&cpu, a as usize + 4096, 4096).unwrap();
    assert_eq!(stat(&t).0, 5);
    // shmdt takes the fragments of one attach.
    assert_eq!(call(k, &cpu, &child, SHMDT, &[a]), 0);
    assert_eq!(call(k, &cpu, &child, SHMDT, &[b]), 0);
    assert_eq!(stat(&t).0, 2);
    assert_eq!(call(k, &cpu, &t, SHMDT, &[a + 1]), err(EINVAL));
    assert_eq!(call(k, &cpu, &t, SHMDT, &[rw]), err(EINVAL));
    // IPC_RMID while attached: SHM_DEST, key private; freed with the last
    // detach, and its pages come back.
    assert_eq!(call(k, &cpu, &t, SHMCTL, &[id, 0, 0]), 0);
    let (n, mode, _) = stat(&t);
    assert_eq!((n, mode & 0o1000), (2, 0o1000));
    // SHM_INFO: one segment, one resident page.
    assert_eq!(call(k, &cpu, &t, SHMCTL, &[0, 14, rw]), 0);
    let info = get(&cpu, &t, rw, 48);
    assert_eq!(i32::from_le_bytes(info[0..4].try_into().unwrap()), 1);
    assert_eq!(u64::from_le_bytes(info[16..24].try_into().unwrap()), 1);
    let free1 = k.mem.nr_free_pages() + k.mem.nr_pcp_pages();
    assert_eq!(call(k, &cpu, &t, SHMDT, &[a]), 0);
    assert_eq!(call(k, &cpu, &t, SHMDT, &[b]), 0);
    assert_eq!(call(k, &cpu, &t, SHMCTL, &[id, 2, rw]), err(EINVAL));
    assert!(k.mem.nr_free_pages() + k.mem.nr_pcp_pages() > free1);
    // Limits and hostile sizes: a huge segment is only a promise until
    // mapped (and then ENOMEM, not a host allocation).
    assert_eq!(call(k, &cpu, &t, SHMGET, &[0, 0, 0o1600]), err(EINVAL));
    let huge = call(k, &cpu, &t, SHMGET, &[0, 1 << 50, 0o1600]);
    assert!(huge >= 0);
    assert_eq!(call(k, &cpu, &t, SHMAT, &[huge as u64, 0, 0]), err(ENOMEM));
    assert_eq!(call(k, &cpu, &t, SHMCTL, &[huge as u64, 0, 0]), 0);
    assert_eq!(call(k, &cpu, &t, SHMGET, &[0x1234, 4096, 0]), err(ENOENT));
    assert_eq!(call(k, &cpu, &t, SHMCTL, &[0, 99, rw]), err(EINVAL));
    assert_eq!(
        call(k, &cpu, &t, SHMCTL, &[0, 3, rw + 3 * 4096]),
        err(EFAULT)
    );
}

#[test]
fn cpu_itimers_count_cpu_time() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    // ITIMER_VIRTUAL 10 ms one shot, ITIMER_PROF 4 ms every 4 ms.
    let mut v = [0u8; 32];
    v[24..32].copy_from_slice(&10_000i64.to_le_bytes());
    put(&cpu, &t, rw, &v);
    assert_eq!(call(k, &cpu, &t, SETITIMER, &[1, rw, 0]), 0);
    let mut p = [0u8; 32];
    p[8..16].copy_from_slice(&4_000i64.to_le_bytes());
    p[24..32].copy_from_slice(&4_000i64.to_le_bytes());
    put(&cpu, &t, rw + 64, &p);
    assert_eq!(call(k, &cpu, &t, SETITIMER, &[2, rw + 64, 0]), 0);
    let pending = |sig: u64| t.signal.group.lock().unwrap().pending & (1 << (sig - 1)) != 0;
    // System time counts for PROF only.
    kernel::itimer::account_cpu(&t, 5_000_000, false);
    assert!(pending(27) && !pending(26));
    assert_eq!(call(k, &cpu, &t, GETITIMER, &[1, rw + 128]), 0);
    let g = get(&cpu, &t, rw + 128, 32);
    assert_eq!(i64::from_le_bytes(g[24..32].try_into().unwrap()), 10_000);
    kernel::itimer::account_cpu(&t, 9_000_000, true);
    assert!(!pending(26));
    kernel::itimer::account_cpu(&t, 2_000_000, true);
    assert!(pending(26));
    // The one shot is disarmed; PROF re-armed within its interval.
    assert_eq!(call(k, &cpu, &t, GETITIMER, &[1, rw + 128]), 0);
    assert_eq!(get(&cpu, &t, rw + 128, 32), vec![0u8; 32]);
    assert_eq!(call(k, &cpu, &t, GETITIMER, &[2, rw + 128]), 0);
    let g = get(&cpu, &t, rw + 128, 32);
    assert_eq!(i64::from_le_bytes(g[8..16].try_into().unwrap()), 4_000);
    let left = i64::from_le_bytes(g[24..32].try_into().unwrap());
    assert!(left > 0 && left <= 4_000, "{left}");
    // Disarm returns the old value.
    assert_eq!(call(k, &cpu, &t, SETITIMER, &[2, rw + 192, rw + 256]), 0);
    let o = get(&cpu, &t, rw + 256, 32);
    assert_eq!(i64::from_le_bytes(o[8..16].try_into().unwrap()), 4_000);
    assert!(!t.signal.it_cpu_armed.load(Relaxed));
}

#[test]
fn cpu_clock_timers_count_cpu_time() {
    let e = env();
    let (k, cpu) = (&e.k, e.k.mem.cpu(0).unwrap());
    let (t, rw) = task(k, &cpu, 7, [0, 0, 0, 0]);
    t.sig.lock().unwrap().blocked = 1 << 13;
    // CLOCK_PROCESS_CPUTIME_ID, default event (SIGALRM, value = id).
    let idp = rw + 100;
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[2, 0, idp]), 0);
    let id = u32s(&get(&cpu, &t, idp, 4))[0] as u64;
    let mut its = [0u8; 32];
    its[24..32].copy_from_slice(&5_000_000i64.to_le_bytes());
    put(&cpu, &t, rw + 200, &its);
    assert_eq!(call(k, &cpu, &t, TIMER_SETTIME, &[id, 0, rw + 200, 0]), 0);
    let pending = || t.signal.group.lock().unwrap().pending & (1 << 13) != 0;
    // Sleeping does not count; CPU time does.
    std::thread::sleep(std::time::Duration::from_millis(10));
    k.rq.run_timers();
    assert!(!pending());
    kernel::itimer::account_cpu(&t, 3_000_000, true);
    assert!(!pending());
    assert_eq!(call(k, &cpu, &t, TIMER_GETTIME, &[id, rw + 300]), 0);
    let g = get(&cpu, &t, rw + 300, 32);
    assert_eq!(i64::from_le_bytes(g[24..32].try_into().unwrap()), 2_000_000);
    kernel::itimer::account_cpu(&t, 3_000_000, false);
    assert!(pending());
    let q = t.signal.group.lock().unwrap().queue[0];
    assert_eq!((q.signo, q.code, q.addr), (14, -2, id));
    // CLOCK_THREAD_CPUTIME_ID counts its own thread only.
    assert_eq!(call(k, &cpu, &t, TIMER_CREATE, &[3, 0, idp]), 0);
    let id2 = u32s(&get(&cpu, &t, idp, 4))[0] as u64;
    assert_eq!(call(k, &cpu, &t, TIMER_SETTIME, &[id2, 0, rw + 200, 0]), 0);
    kernel::itimer::account_cpu(&t, 4_000_000, true);
    assert_eq!(call(k, &cpu, &t, TIMER_GETTIME, &[id2, rw + 300]), 0);
    let g = get(&cpu, &t, rw + 300, 32);
    assert_eq!(i64::from_le_bytes(g[24..32].try_into().unwrap()), 1_000_000);
    // glibc's encoded ids: -6 is this process's CLOCK_SCHED, -2 this
    // thread's; type 3 is invalid, and another process's clock too.
    assert_eq!(
        call(k, &cpu, &t, TIMER_CREATE, &[(-6i64) as u64, 0, idp]),
        0
    );
    assert_eq!(
        call(k, &cpu, &t, TIMER_CREATE, &[(-2i64) as u64, 0, idp]),
        0
    );
    let other = ((!8i64) << 3) | 2;
    assert_eq!(
        call(k, &cpu, &t, TIMER_CREATE, &[other as u64, 0, idp]),
        err(EINVAL)
    );
    // TIMER_ABSTIME already past: expires at the next charge.
    t.utime.store(50_000_000, Relaxed);
    its[24..32].copy_from_slice(&10_000_000i64.to_le_bytes());
    put(&cpu, &t, rw + 200, &its);
    assert_eq!(call(k, &cpu, &t, TIMER_SETTIME, &[id2, 1, rw + 200, 0]), 0);
    assert_eq!(call(k, &cpu, &t, TIMER_GETTIME, &[id2, rw + 300]), 0);
    let g = get(&cpu, &t, rw + 300, 32);
    assert_eq!(i64::from_le_bytes(g[24..32].try_into().unwrap()), 1);
}

/// Root may raise RLIMIT_SIGPENDING without bound, but the queued
/// siginfos live on the host heap: a pending set never queues more than
/// the machine's default limit (half of max_threads), so a guest cannot
/// grow ferrite's memory by queueing signals.
#[test]
fn rt_signal_queue_is_bounded_by_the_machines_default() {
    use kernel::sigcore::{send_signal, SigQueued, Target, SIGRTMIN, SI_QUEUE};
    let e = env();
    let cpu = e.k.mem.cpu(0).unwrap();
    let (t, rw) = task(&e.k, &cpu, 7, [0, 0, 0, 0]);
    let default =
        kernel::task::init_rlimits(e.k.mem.nr_pages())[kernel::task::RLIMIT_SIGPENDING].cur;
    // setrlimit(RLIMIT_SIGPENDING, {INFINITY, INFINITY}) as root.
    let mut inf = [0xffu8; 16];
    inf[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    mm::uaccess::copy_to_user(&cpu, &t.mm(), rw as usize, &inf).unwrap();
    assert_eq!(call(&e.k, &cpu, &t, SETRLIMIT, &[11, rw]), 0);
    let mut queued = 0u64;
    loop {
        let info = SigQueued::user(SIGRTMIN + 2, SI_QUEUE, 7, 0);
        match send_signal(&t, info, Target::Group) {
            Ok(()) => queued += 1,
            Err(e) => {
                assert_eq!(e, EAGAIN);
                break;
            }
        }
        assert!(queued <= default, "queued past the default {default}");
    }
    assert_eq!(queued, default);
}
