//! Creating tasks: kernel/fork.c (`copy_process`, `kernel_clone`, the
//! `clone`, `clone3`, `fork` and `vfork` calls, `copy_mm` with `dup_mm`,
//! `copy_files`, `copy_fs`, `copy_sighand`, `copy_signal`) and the
//! flag checks Linux makes.
//!
//! A child gets the parent's registers with a0 = 0 (and the new stack and
//! TLS when asked). Without `CLONE_VM` its address space is a copy-on-write
//! duplicate (`mm::fork::dup_mm`); with it the mm is shared and counted
//! (`mmget`). `CLONE_THREAD` puts the child in the caller's thread group,
//! otherwise it is a new process whose parent is the caller (or the
//! caller's parent, with `CLONE_PARENT`). A vfork parent sleeps until the
//! child execs or exits.
//!
//! Where ferrite differs: namespaces (`CLONE_NEW*`), pidfds
//! (`CLONE_PIDFD`), `CLONE_PTRACE`/`CLONE_UNTRACED` (no ptrace),
//! `CLONE_IO` and cgroups are refused with EINVAL; `set_tid` of clone3
//! is refused unless empty.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use mm::gfp::Gfp;
use mm::kbox::KArc;
use mm::percpu::Cpu;

use crate::errno::{Errno, EAGAIN, EINVAL, ENOMEM};
use crate::kernel::Kernel;
use crate::mm_ref::MmUser;
use crate::sched::{self, wait::Completion, SchedState};
use crate::task::{
    lock, GroupSig, Regs, SighandStruct, SignalStruct, SpinLock, Task, TaskRef, TaskSig,
    EXIT_ALIVE, RLIMIT_NPROC,
};

pub const CSIGNAL: u64 = 0xff;
pub const CLONE_VM: u64 = 0x100;
pub const CLONE_FS: u64 = 0x200;
pub const CLONE_FILES: u64 = 0x400;
pub const CLONE_SIGHAND: u64 = 0x800;
pub const CLONE_PIDFD: u64 = 0x1000;
pub const CLONE_PTRACE: u64 = 0x2000;
pub const CLONE_VFORK: u64 = 0x4000;
pub const CLONE_PARENT: u64 = 0x8000;
pub const CLONE_THREAD: u64 = 0x10000;
pub const CLONE_NEWNS: u64 = 0x20000;
pub const CLONE_SYSVSEM: u64 = 0x40000;
pub const CLONE_SETTLS: u64 = 0x80000;
pub const CLONE_PARENT_SETTID: u64 = 0x100000;
pub const CLONE_CHILD_CLEARTID: u64 = 0x200000;
pub const CLONE_DETACHED: u64 = 0x400000;
pub const CLONE_UNTRACED: u64 = 0x800000;
pub const CLONE_CHILD_SETTID: u64 = 0x1000000;
pub const CLONE_NEWCGROUP: u64 = 0x2000000;
pub const CLONE_NEWUTS: u64 = 0x4000000;
pub const CLONE_NEWIPC: u64 = 0x8000000;
pub const CLONE_NEWUSER: u64 = 0x10000000;
pub const CLONE_NEWPID: u64 = 0x20000000;
pub const CLONE_NEWNET: u64 = 0x40000000;
pub const CLONE_IO: u64 = 0x80000000;
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

const NAMESPACES: u64 = CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET;

/// `struct kernel_clone_args`.
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: i32,
    /// The new stack pointer (0: the parent's).
    pub stack: u64,
    pub tls: u64,
}

/// The object caches of the task model.
pub struct Caches {
    pub task: &'static mm::kbox::TypedCache<'static, mm::kbox::KArcInner<Task>>,
    pub signal: &'static mm::kbox::TypedCache<'static, mm::kbox::KArcInner<SignalStruct>>,
    pub sighand: &'static mm::kbox::TypedCache<'static, mm::kbox::KArcInner<SighandStruct>>,
    /// `pid`.
    pub pid: &'static mm::kbox::TypedCache<'static, mm::kbox::KArcInner<crate::pid::Pid>>,
    /// `cred_jar`.
    pub cred: &'static mm::kbox::TypedCache<'static, mm::kbox::KArcInner<crate::task::Cred>>,
}

/// A `struct pid` for id `nr` (`alloc_pid`'s object); ENOMEM when RAM is
/// exhausted.
pub fn new_pid(k: &Kernel, cpu: &Cpu<'static>, nr: i32) -> Result<crate::pid::PidRef, Errno> {
    KArc::new(k.caches.pid, cpu, crate::pid::Pid { nr }, Gfp::GFP_KERNEL).map_err(|_| ENOMEM)
}

/// A `struct cred` in `cred_jar` holding `c` (`prepare_creds`'
/// allocation); ENOMEM when RAM is exhausted.
pub fn new_cred(
    k: &Kernel,
    cpu: &Cpu<'static>,
    c: crate::task::Cred,
) -> Result<crate::task::CredRef, Errno> {
    KArc::new(k.caches.cred, cpu, c, Gfp::GFP_KERNEL).map_err(|_| ENOMEM)
}

/// A new thread group's `signal_struct` with `rlim`, in `pgrp`/`session`.
pub fn new_signal(
    k: &Kernel,
    cpu: &Cpu<'static>,
    rlim: [crate::task::Rlimit; crate::task::RLIM_NLIMITS],
    pgrp: i32,
    session: i32,
    parent: Option<TaskRef>,
) -> Result<crate::task::SignalRef, Errno> {
    let s = SignalStruct {
        threads: Mutex::default(),
        live: AtomicI32::new(1),
        group: Mutex::new(GroupSig::default()),
        parent: Mutex::new(parent),
        children: Mutex::default(),
        wait_chldexit: sched::wait::WaitQueue::new(),
        pgrp: AtomicI32::new(pgrp),
        session: AtomicI32::new(session),
        rlim: Mutex::new(rlim),
        is_child_subreaper: AtomicBool::new(false),
        pdeath_signal: AtomicI32::new(0),
        cutime: AtomicU64::new(0),
        cstime: AtomicU64::new(0),
        cmaxrss: AtomicU64::new(0),
        maxrss: AtomicU64::new(0),
        dead_utime: AtomicU64::new(0),
        dead_stime: AtomicU64::new(0),
        did_exec: AtomicBool::new(false),
        exe_deny: Mutex::new(None),
        dumpable: AtomicI32::new(1),
        posix_timers: Mutex::default(),
        it_cpu: Mutex::default(),
        it_cpu_armed: AtomicBool::new(false),
        posix_cpu_armed: AtomicBool::new(false),
        pids: Mutex::default(),
    };
    KArc::new(k.caches.signal, cpu, s, Gfp::GFP_KERNEL).map_err(|_| ENOMEM)
}

/// A `sighand_struct` with these actions.
pub fn new_sighand(
    k: &Kernel,
    cpu: &Cpu<'static>,
    action: [crate::task::SigAction; crate::task::NSIG],
) -> Result<crate::task::SighandRef, Errno> {
    KArc::new(
        k.caches.sighand,
        cpu,
        SighandStruct {
            action: Mutex::new(action),
        },
        Gfp::GFP_KERNEL,
    )
    .map_err(|_| ENOMEM)
}

/// What a new task starts with besides its group.
pub struct NewTask {
    pub pid: i32,
    /// Its `struct pid`.
    pub thread_pid: crate::pid::PidRef,
    pub tgid: i32,
    pub comm: [u8; crate::task::TASK_COMM_LEN],
    pub regs: Regs,
    pub mm: MmUser,
    pub fs: Arc<crate::fs::Fs>,
    pub signal: crate::task::SignalRef,
    pub sighand: crate::task::SighandRef,
    pub cred: crate::task::CredRef,
    pub sig: TaskSig,
    pub exit_signal: i32,
    pub exe: Vec<u8>,
    pub cmdline: Vec<u8>,
    /// The nice value and `no_new_privs` (the parent's, on fork).
    pub nice: i32,
    pub no_new_privs: bool,
    /// The timer slack (a child's default is its parent's current one).
    pub timer_slack_ns: u64,
}

/// `dup_task_struct`: the task object; on failure the mm is released.
pub fn alloc_task(k: &Kernel, cpu: &Cpu<'static>, n: NewTask) -> Result<TaskRef, Errno> {
    let t = Task {
        pid: AtomicI32::new(n.pid),
        tgid: n.tgid,
        thread_pid: Mutex::new(Some(n.thread_pid)),
        comm: crate::task::Comm::new(n.comm),
        sched: SpinLock::new(SchedState::default()),
        thread: SpinLock::new(crate::task::ThreadStruct {
            regs: n.regs,
            run_ctx: None,
        }),
        mm: SpinLock::new(Some(n.mm)),
        files: SpinLock::new(Some(n.fs)),
        signal: n.signal,
        sighand: Mutex::new(n.sighand),
        cred: Mutex::new(n.cred),
        sig: Mutex::new(n.sig),
        sigpending: AtomicBool::new(false),
        restart_in_syscall: AtomicBool::new(false),
        clear_child_tid: AtomicU64::new(0),
        robust_list: Mutex::new((0, 0)),
        exit_signal: AtomicI32::new(n.exit_signal),
        exit_state: AtomicI32::new(EXIT_ALIVE),
        exit_code: AtomicI32::new(0),
        restart: Default::default(),
        waits: SpinLock::default(),
        vfork_done: Mutex::new(None),
        exe: Mutex::new(n.exe),
        cmdline: Mutex::new(n.cmdline),
        nvcsw: AtomicU64::new(0),
        nivcsw: AtomicU64::new(0),
        utime: AtomicU64::new(0),
        stime: AtomicU64::new(0),
        start_time: AtomicU64::new(k.rq.now()),
        timer_seq: AtomicU64::new(0),
        cpu: AtomicI32::new(0),
        rq: k.rq.clone(),
        // init's policy; a child takes its parent's in `sched_fork`.
        se: crate::sched::SchedEntities::new(crate::sched::SCHED_WRR, 0),
        environ: Mutex::default(),
        cpus_allowed: AtomicU64::new(0),
        nice: AtomicI32::new(n.nice),
        no_new_privs: AtomicBool::new(n.no_new_privs),
        timer_slack_ns: AtomicU64::new(n.timer_slack_ns),
        default_timer_slack_ns: AtomicU64::new(n.timer_slack_ns),
    };
    match KArc::new(k.caches.task, cpu, t, Gfp::GFP_KERNEL) {
        Ok(t) => Ok(t),
        Err(t) => {
            let mm = lock(&t.mm).take();
            if let Some(mm) = mm {
                mm.put(cpu);
            }
            Err(ENOMEM)
        }
    }
}

/// The flag checks of `copy_process`.
fn check_flags(k: &Kernel, me: &TaskRef, a: &CloneArgs) -> Result<(), Errno> {
    let f = a.flags;
    if f & (CLONE_NEWNS | CLONE_FS) == (CLONE_NEWNS | CLONE_FS)
        || f & (CLONE_NEWUSER | CLONE_FS) == (CLONE_NEWUSER | CLONE_FS)
    {
        return Err(EINVAL);
    }
    if f & CLONE_THREAD != 0 && f & CLONE_SIGHAND == 0 {
        return Err(EINVAL);
    }
    if f & CLONE_SIGHAND != 0 && f & CLONE_VM == 0 {
        return Err(EINVAL);
    }
    if f & CLONE_PARENT != 0 && me.tgid == 1 {
        // init's signal_struct is SIGNAL_UNKILLABLE.
        return Err(EINVAL);
    }
    if f & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) == (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) {
        return Err(EINVAL);
    }
    if f & (NAMESPACES | CLONE_PIDFD | CLONE_INTO_CGROUP | CLONE_IO) != 0 {
        return Err(EINVAL);
    }
    let _ = k;
    Ok(())
}

/// `kernel_clone`: create the child of `me` (current, whose user
/// registers are `regs`, pc past the ecall). Returns the child, queued
/// to run.
pub fn kernel_clone(
    k: &Kernel,
    cpu: &Cpu<'static>,
    me: &TaskRef,
    regs: &Regs,
    a: CloneArgs,
) -> Result<TaskRef, Errno> {
    kernel_clone_nr(k, cpu, me, regs, a).map(|(t, _)| t)
}

/// [`kernel_clone`] with the id it gave the child, as clone returns it:
/// read before the child runs (a thread of it that execs may take the
/// process id from its leader at once).
pub fn kernel_clone_nr(
    k: &Kernel,
    cpu: &Cpu<'static>,
    me: &TaskRef,
    regs: &Regs,
    a: CloneArgs,
) -> Result<(TaskRef, i32), Errno> {
    check_flags(k, me, &a)?;
    let f = a.flags;
    let cred = me.cred();
    // Limits: RLIMIT_NPROC (root is exempt) and max_threads, counted
    // before anything is built (as Linux increments, then checks), so two
    // harts forking at once cannot both slip under the limit; undone if
    // the clone fails.
    let reserved = Reservation::take(k, &me.signal, cred.uid, cred.euid, f & CLONE_THREAD != 0)?;
    // copy_mm.
    let mm = if f & CLONE_VM != 0 {
        lock(&me.mm).as_ref().ok_or(EINVAL)?.get()
    } else {
        // Copy from a reference, not under the task's `mm` lock: dup_mm
        // allocates, and out of memory it waits for the other CPUs to
        // drain, one of which may want that lock (the OOM killer reads
        // every task's mm).
        let cur = me.mm_grab().ok_or(EINVAL)?;
        let new = mm::fork::dup_mm(cpu, &cur).map_err(|e| if e == 0 { ENOMEM } else { e })?;
        new.icache_stale_mask.store(0, Relaxed);
        MmUser::new(new)
    };
    // The pid, before anything else can fail with the mm in hand.
    let pid = {
        let mut tl = k.tasks.lock();
        tl.alloc_pid(k.tasks.pid_max.load(Relaxed))
    };
    let Some(pid) = pid else {
        mm.put(cpu);
        return Err(EAGAIN);
    };
    let thread_pid = match new_pid(k, cpu, pid) {
        Ok(p) => p,
        Err(e) => {
            mm.put(cpu);
            return Err(e);
        }
    };
    let thread = f & CLONE_THREAD != 0;
    let tgid = if thread { me.tgid } else { pid };
    let view = k.proc_view(tgid);
    let Some(fs) = me.fs() else {
        mm.put(cpu);
        return Err(EINVAL);
    };
    let fs = if f & CLONE_FILES != 0 && f & CLONE_FS != 0 && thread {
        fs
    } else {
        match fs.clone_for(f & CLONE_FS != 0, f & CLONE_FILES != 0, view) {
            Ok(f) => Arc::new(f),
            Err(e) => {
                mm.put(cpu);
                return Err(e);
            }
        }
    };
    let exe_deny = if thread {
        None
    } else {
        lock(&me.signal.exe_deny).as_ref().map(|d| d.dup())
    };
    let sighand = if f & CLONE_SIGHAND != 0 {
        lock(&me.sighand).clone()
    } else {
        let sh = lock(&me.sighand).clone();
        let mut actions = *lock(&sh.action);
        if f & CLONE_CLEAR_SIGHAND != 0 {
            for a in actions.iter_mut() {
                if a.handler > 1 {
                    *a = Default::default();
                }
            }
        }
        match new_sighand(k, cpu, actions) {
            Ok(s) => s,
            Err(e) => {
                mm.put(cpu);
                return Err(e);
            }
        }
    };
    let signal = if thread {
        me.signal.clone()
    } else {
        let parent = if f & CLONE_PARENT != 0 {
            lock(&me.signal.parent).clone()
        } else {
            k.tasks.find(me.tgid)
        };
        let rlim = *lock(&me.signal.rlim);
        match new_signal(
            k,
            cpu,
            rlim,
            me.signal.pgrp.load(Relaxed),
            me.signal.session.load(Relaxed),
            parent,
        ) {
            Ok(s) => {
                // The mm's dumpable flag is copied with the mm, and so is
                // its executable's write denial.
                s.dumpable.store(me.signal.dumpable.load(Relaxed), Relaxed);
                *lock(&s.exe_deny) = exe_deny;
                *lock(&s.pids) = lock(&me.signal.pids).clone();
                s
            }
            Err(e) => {
                mm.put(cpu);
                return Err(e);
            }
        }
    };
    // `copy_creds`: a thread shares the credentials; a process gets its
    // own copy.
    let child_cred = if thread {
        cred.clone()
    } else {
        match new_cred(k, cpu, (*cred).clone()) {
            Ok(c) => c,
            Err(e) => {
                mm.put(cpu);
                return Err(e);
            }
        }
    };
    let mut regs = regs.clone();
    regs.x[10] = 0;
    if a.stack != 0 {
        regs.x[2] = a.stack;
    }
    if f & CLONE_SETTLS != 0 {
        regs.x[4] = a.tls;
    }
    let mut sig = TaskSig {
        blocked: me.blocked(),
        ..Default::default()
    };
    // `sas_ss_reset` for a CLONE_VM child that is not a vfork: it would
    // share the stack.
    if f & (CLONE_VM | CLONE_VFORK) != CLONE_VM {
        sig.altstack = lock(&me.sig).altstack;
    }
    let exit_signal = if thread { -1 } else { a.exit_signal };
    // Copied before the allocation: no lock of ours may be held while it
    // waits for memory (see `copy_mm` above).
    let comm = me.comm.get();
    let exe = lock(&me.exe).clone();
    let cmdline = lock(&me.cmdline).clone();
    let child = alloc_task(
        k,
        cpu,
        NewTask {
            pid,
            thread_pid,
            tgid,
            comm,
            regs,
            mm,
            fs,
            signal,
            sighand,
            cred: child_cred,
            sig,
            exit_signal,
            exe,
            cmdline,
            nice: me.nice.load(Relaxed),
            no_new_privs: me.no_new_privs.load(Relaxed),
            timer_slack_ns: me.timer_slack_ns.load(Relaxed),
        },
    )?;
    let environ = lock(&me.environ).clone();
    *lock(&child.environ) = environ;
    child
        .cpus_allowed
        .store(me.cpus_allowed.load(Relaxed), Relaxed);
    k.rq.sched.sched_fork(me, &child);
    if f & CLONE_CHILD_CLEARTID != 0 {
        child.clear_child_tid.store(a.child_tid, Relaxed);
    }
    if f & CLONE_PARENT_SETTID != 0 {
        if let Some(m) = me.mm_grab() {
            let _ = mm::uaccess::copy_to_user(cpu, &m, a.parent_tid as usize, &pid.to_le_bytes());
        }
    }
    if f & CLONE_CHILD_SETTID != 0 {
        if let Some(m) = child.mm_grab() {
            let _ = mm::uaccess::copy_to_user(cpu, &m, a.child_tid as usize, &pid.to_le_bytes());
        }
    }
    if f & CLONE_VFORK != 0 {
        *lock(&child.vfork_done) = Some(Completion::new());
    }
    // Link it in (under tasklist): the thread list, or the parent's
    // children; a fatal signal to the group since we started stops it.
    {
        let mut tl = k.tasks.lock();
        if thread {
            if lock(&me.signal.group).group_exit.is_some() {
                drop(tl);
                abort_new(k, cpu, &child);
                return Err(crate::errno::ERESTARTNOINTR);
            }
            me.signal.live.fetch_add(1, SeqCst);
        } else {
            let parent = lock(&child.signal.parent).clone();
            if let Some(p) = parent {
                lock(&p.signal.children).push(child.clone());
            }
        }
        lock(&child.signal.threads).push(child.clone());
        tl.pids.insert(pid, child.clone());
        reserved.commit();
    }
    if let Some(t) = &k.config.trace {
        crate::trace::hooks::fork(t, &k.rq, me, &child);
    }
    sched::wake_up_new_task(&child);
    Ok((child, pid))
}

/// The counts a clone takes before it builds the child (`nr_threads`, and
/// the user's processes for RLIMIT_NPROC), given back unless committed.
struct Reservation<'k> {
    k: &'k Kernel,
    uid: u32,
    process: bool,
    done: bool,
}

impl<'k> Reservation<'k> {
    /// Count one more thread (and process) or refuse with EAGAIN: at
    /// `max_threads`, or at RLIMIT_NPROC for a process of a user who is
    /// not root.
    fn take(
        k: &'k Kernel,
        sig: &SignalStruct,
        uid: u32,
        euid: u32,
        thread: bool,
    ) -> Result<Reservation<'k>, Errno> {
        let nproc = lock(&sig.rlim)[RLIMIT_NPROC].cur;
        let mut tl = k.tasks.lock();
        if tl.nr_threads >= k.max_threads() {
            return Err(EAGAIN);
        }
        let mine = tl.per_uid.get(&uid).copied().unwrap_or(0) as u64;
        if !thread && mine >= nproc && uid != 0 && euid != 0 {
            return Err(EAGAIN);
        }
        tl.nr_threads += 1;
        if !thread {
            *tl.per_uid.entry(uid).or_insert(0) += 1;
        }
        Ok(Reservation {
            k,
            uid,
            process: !thread,
            done: false,
        })
    }

    /// The child is linked in: the counts stay (exit gives them back).
    fn commit(mut self) {
        self.done = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut tl = self.k.tasks.lock();
        tl.nr_threads = tl.nr_threads.saturating_sub(1);
        if self.process {
            if let Some(n) = tl.per_uid.get_mut(&self.uid) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

/// Undo a child that was never linked in.
fn abort_new(_k: &Kernel, cpu: &Cpu<'static>, child: &TaskRef) {
    let mm = lock(&child.mm).take();
    if let Some(mm) = mm {
        mm.put(cpu);
    }
    let files = lock(&child.files).take();
    drop(files);
    lock(&child.signal.threads).clear();
}

/// `clone(2)`'s arguments (riscv64: flags, newsp, parent_tid, tls,
/// child_tid) into [`CloneArgs`]; the low byte of the flags is the exit
/// signal.
pub fn clone_args_legacy(
    flags: u64,
    newsp: u64,
    ptid: u64,
    tls: u64,
    ctid: u64,
) -> Result<CloneArgs, Errno> {
    let sig = (flags & CSIGNAL) as i32;
    if !crate::sigcore::valid_signal(sig) && sig != 0 {
        return Err(EINVAL);
    }
    // clone(2) ignores the clone3-only flags' bits (they do not fit in
    // the legacy int), so only the low 32 bits count.
    let flags = flags & 0xffff_ffff & !CSIGNAL;
    if flags & CLONE_PIDFD != 0 && flags & CLONE_PARENT_SETTID != 0 {
        return Err(EINVAL);
    }
    Ok(CloneArgs {
        flags,
        child_tid: ctid,
        parent_tid: ptid,
        exit_signal: sig,
        stack: newsp,
        tls,
    })
}

/// `struct clone_args` sizes: VER0 (64 bytes), VER1 (+set_tid: 80), VER2
/// (+cgroup: 88).
pub const CLONE_ARGS_SIZE_VER0: usize = 64;
const CLONE_ARGS_SIZE_VER2: usize = 88;

/// `copy_clone_args_from_user`: `bytes` is the user's struct (size
/// checked by the caller: VER0..=page, unknown tail must be zero).
pub fn clone3_args(bytes: &[u8]) -> Result<CloneArgs, Errno> {
    let rd = |i: usize| -> u64 {
        bytes
            .get(i * 8..i * 8 + 8)
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
    };
    if bytes.len() > CLONE_ARGS_SIZE_VER2 && bytes[CLONE_ARGS_SIZE_VER2..].iter().any(|&b| b != 0) {
        return Err(crate::errno::E2BIG);
    }
    let (flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls) =
        (rd(0), rd(1), rd(2), rd(3), rd(4), rd(5), rd(6), rd(7));
    let (set_tid, set_tid_size, cgroup) = (rd(8), rd(9), rd(10));
    let _ = (pidfd, cgroup);
    if set_tid_size != 0 || set_tid != 0 {
        return Err(EINVAL);
    }
    if exit_signal & !CSIGNAL != 0
        || (exit_signal != 0 && !crate::sigcore::valid_signal(exit_signal as i32))
    {
        return Err(EINVAL);
    }
    if flags & CSIGNAL != 0 {
        return Err(EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(EINVAL);
    }
    Ok(CloneArgs {
        flags,
        child_tid,
        parent_tid,
        exit_signal: exit_signal as i32,
        stack: stack.wrapping_add(stack_size),
        tls,
    })
}
