//! The process calls: clone, clone3, execve, execveat, wait4, waitid and
//! the process-group and session calls (kernel/fork.c, fs/exec.c,
//! kernel/exit.c and kernel/sys.c entry points).

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use super::{encode, nr, Flow, Sys, SysResult};
use crate::errno::{Errno, EFAULT, EINVAL, EPERM, ESRCH};
use crate::exit::{self, WaitFor, WaitRes};
use crate::fork::{self, CloneArgs, CLONE_VFORK};
use crate::sched::{self, wait, Restart, TASK_KILLABLE};
use crate::task::{lock, TaskRef};

/// The parent's pid (`task_tgid_vnr(real_parent)`), 0 for init.
pub fn ppid(t: &TaskRef) -> i32 {
    lock(&t.signal.parent).as_ref().map_or(0, |p| p.tgid)
}

fn ret(r: SysResult) -> Flow {
    Flow::Return(encode(r))
}

/// `clone(2)`.
pub fn sys_clone(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    if let Some(f) = vfork_wait(s, nr::CLONE) {
        return f;
    }
    match fork::clone_args_legacy(a[0], a[1], a[2], a[3], a[4]) {
        Ok(args) => do_clone(s, nr::CLONE, args),
        Err(e) => ret(Err(e)),
    }
}

/// `clone3(2)`.
pub fn sys_clone3(s: &mut Sys<'_>, uargs: u64, size: u64) -> Flow {
    if let Some(f) = vfork_wait(s, nr::CLONE3) {
        return f;
    }
    if size < fork::CLONE_ARGS_SIZE_VER0 as u64 || size > 4096 {
        return ret(Err(EINVAL));
    }
    let bytes = match s.read_user(uargs, size as usize) {
        Ok(b) => b,
        Err(e) => return ret(Err(e)),
    };
    match fork::clone3_args(&bytes) {
        Ok(args) => do_clone(s, nr::CLONE3, args),
        Err(e) => ret(Err(e)),
    }
}

fn do_clone(s: &mut Sys<'_>, nr: u64, args: CloneArgs) -> Flow {
    let regs = lock(&s.task.thread).regs.clone();
    let (child, pid) = match fork::kernel_clone_nr(s.k, s.cpu, s.task, &regs, args) {
        Ok(c) => c,
        Err(e) => return ret(Err(e)),
    };
    if args.flags & CLONE_VFORK != 0 {
        let done = lock(&child.vfork_done).clone();
        if let Some(c) = done {
            *s.task.restart.lock() = Some(Restart {
                nr,
                vfork: Some((c, pid)),
                ..Default::default()
            });
            return vfork_wait(s, nr).unwrap_or(Flow::Return(pid as i64));
        }
    }
    Flow::Return(pid as i64)
}

/// A vfork parent (re)checking its child: the pid once the child exec'd
/// or exited; else sleep (killable).
fn vfork_wait(s: &mut Sys<'_>, nr: u64) -> Option<Flow> {
    let r = s.task.restart.lock().clone()?;
    if r.nr != nr {
        return None;
    }
    let (c, pid) = r.vfork.clone()?;
    wait::prepare_to_wait(&c.wait, s.task, TASK_KILLABLE);
    if c.done() || crate::sigcore::fatal_signal_pending(s.task) {
        sched::set_running(s.task);
        return Some(Flow::Return(pid as i64));
    }
    Some(Flow::Block)
}

/// `execve(2)`.
pub fn sys_execve(s: &mut Sys<'_>, path: u64, argv: u64, envp: u64) -> Flow {
    match do_execve_user(s, crate::fs::flags::AT_FDCWD as u64, path, argv, envp, 0) {
        Ok(true) => Flow::Exec,
        Ok(false) => Flow::Block,
        Err(e) => ret(Err(e)),
    }
}

/// `execveat(2)`.
pub fn sys_execveat(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    match do_execve_user(s, a[0], a[1], a[2], a[3], a[4]) {
        Ok(true) => Flow::Exec,
        Ok(false) => Flow::Block,
        Err(e) => ret(Err(e)),
    }
}

/// `AT_EMPTY_PATH`, `AT_SYMLINK_NOFOLLOW`.
const AT_EMPTY_PATH: u64 = 0x1000;
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;

fn do_execve_user(
    s: &mut Sys<'_>,
    dirfd: u64,
    path: u64,
    argv: u64,
    envp: u64,
    flags: u64,
) -> Result<bool, Errno> {
    if flags & !(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(EINVAL);
    }
    let filename = s.read_path(path)?;
    let stack = lock(&s.task.signal.rlim)[crate::task::RLIMIT_STACK].cur;
    let mut budget = crate::execve::arg_limit(stack);
    let mut argv = crate::execve::copy_strings(s, argv, &mut budget)?;
    let envp = crate::execve::copy_strings(s, envp, &mut budget)?;
    if filename.is_empty() && flags & AT_EMPTY_PATH == 0 {
        return Err(crate::errno::ENOENT);
    }
    if argv.is_empty() {
        // Linux passes an empty argv[0] when there is none.
        argv.push(Vec::new());
    }
    let mut filename = filename;
    let mut ef = s.fs.open_exec_at(dirfd as i32, &filename, flags as i32)?;
    // binfmt_script: `#!interp [arg]` runs the interpreter with the script
    // as its argument (one level: an interpreter that is a script again
    // is ENOEXEC here, where Linux allows a few levels).
    let head = match ef.head(s.cpu) {
        Ok(h) => h,
        Err(e) => {
            ef.mmap.put(s.cpu);
            return Err(e);
        }
    };
    if let Some(r) = crate::exec::script::parse(&head) {
        ef.mmap.put(s.cpu);
        let (interp, arg) = r.map_err(|e| e.errno())?;
        // `script::argv` drops argv[0] itself.
        let old: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        argv = crate::exec::script::argv(&interp, arg.as_deref(), &filename, &old);
        filename = interp;
        ef = s.fs.open_exec(&filename)?;
        match ef.head(s.cpu) {
            Ok(h) if !h.starts_with(b"#!") => {}
            r => {
                ef.mmap.put(s.cpu);
                return Err(r.err().unwrap_or(crate::errno::ENOEXEC));
            }
        }
    }
    // `de_thread`: the other threads die first; sleep (killable) until
    // they are gone, then run the call again.
    if s.task.signal.live.load(SeqCst) > 1 {
        ef.mmap.put(s.cpu);
        crate::execve::zap_other_threads(s.task);
        sched::set_current_state(s.task, TASK_KILLABLE);
        if s.task.signal.live.load(SeqCst) > 1 && !crate::sigcore::fatal_signal_pending(s.task) {
            return Ok(false);
        }
        sched::set_running(s.task);
        return Err(crate::errno::ERESTARTNOINTR);
    }
    // execveat relative to a descriptor: the name the program sees
    // (AT_EXECFN) is /dev/fd/N[/path] as Linux makes it; comm is the
    // file's own name then.
    let by_fd = dirfd as i32 != crate::fs::flags::AT_FDCWD && filename.first() != Some(&b'/');
    let execfn = if !by_fd {
        filename.clone()
    } else if filename.is_empty() {
        format!("/dev/fd/{}", dirfd as i32).into_bytes()
    } else {
        let mut f = format!("/dev/fd/{}/", dirfd as i32).into_bytes();
        f.extend_from_slice(&filename);
        f
    };
    // `deny_write_access`: not while the file is open for writing.
    let deny = match s.fs.hostfs().write_counts.deny_write_access(ef.key) {
        Ok(d) => d,
        Err(e) => {
            ef.mmap.put(s.cpu);
            return Err(e);
        }
    };
    let name = ef.path.clone();
    let bin = crate::execve::Binary {
        mmap: ef.mmap,
        size: ef.size,
        path: ef.path,
    };
    let regs = crate::execve::do_execve(s.k, s.cpu, s.task, bin, &argv, &envp, &execfn)
        .map_err(|e| e.errno())?;
    if by_fd {
        s.task
            .set_comm(name.rsplit(|&b| b == b'/').next().unwrap_or_default());
    }
    // The old program may be written again (`allow_write_access`).
    *lock(&s.task.signal.exe_deny) = Some(deny);
    lock(&s.task.thread).regs = regs;
    Ok(true)
}

fn wait_for(pid: i32, me: &TaskRef) -> Result<WaitFor, Errno> {
    Ok(match pid {
        -1 => WaitFor::All,
        0 => WaitFor::Pgid(me.signal.pgrp.load(Relaxed)),
        p if p == i32::MIN => return Err(ESRCH),
        p if p < 0 => WaitFor::Pgid(-p),
        p => WaitFor::Pid(p),
    })
}

/// `struct rusage` of a waited child.
fn rusage_bytes(utime: u64, stime: u64, maxrss: u64) -> [u8; 144] {
    let mut b = [0u8; 144];
    let tv = |ns: u64| ((ns / 1_000_000_000), (ns % 1_000_000_000) / 1000);
    let (us, uu) = tv(utime);
    let (ss, su) = tv(stime);
    b[0..8].copy_from_slice(&us.to_le_bytes());
    b[8..16].copy_from_slice(&uu.to_le_bytes());
    b[16..24].copy_from_slice(&ss.to_le_bytes());
    b[24..32].copy_from_slice(&su.to_le_bytes());
    b[32..40].copy_from_slice(&maxrss.to_le_bytes());
    b
}

/// `wait4(2)`.
pub fn sys_wait4(s: &mut Sys<'_>, pid: u64, status: u64, options: u64, ru: u64) -> Flow {
    let r = (|| -> Result<Option<i64>, Errno> {
        let options = exit::wait4_options(options)?;
        let who = wait_for(pid as i32, s.task)?;
        match exit::do_wait(s.k, s.task, who, options)? {
            WaitRes::Sleep => Ok(None),
            WaitRes::Nothing => Ok(Some(0)),
            WaitRes::Found(w) => {
                if status != 0 {
                    s.write_user(status, &w.status.to_le_bytes())?;
                }
                if ru != 0 {
                    s.write_user(ru, &rusage_bytes(w.utime, w.stime, w.maxrss))?;
                }
                Ok(Some(w.pid as i64))
            }
        }
    })();
    match r {
        Ok(None) => Flow::Block,
        Ok(Some(v)) => Flow::Return(v),
        Err(e) => ret(Err(e)),
    }
}

/// `P_ALL`, `P_PID`, `P_PGID`, `P_PIDFD`.
const P_ALL: u64 = 0;
const P_PID: u64 = 1;
const P_PGID: u64 = 2;

/// `waitid(2)` (riscv64's has a fifth argument, the rusage).
pub fn sys_waitid(s: &mut Sys<'_>, a: [u64; 6]) -> Flow {
    let [which, id, infop, options, ru, _] = a;
    let r = (|| -> Result<Option<i64>, Errno> {
        let options = exit::waitid_options(options)?;
        let who = match which {
            P_ALL => WaitFor::All,
            P_PID if (id as i32) > 0 => WaitFor::Pid(id as i32),
            P_PGID if (id as i32) > 0 => WaitFor::Pgid(id as i32),
            P_PGID if id as i32 == 0 => WaitFor::Pgid(s.task.signal.pgrp.load(Relaxed)),
            _ => return Err(EINVAL),
        };
        let mut info = [0u8; 128];
        let found = match exit::do_wait(s.k, s.task, who, options)? {
            WaitRes::Sleep => return Ok(None),
            WaitRes::Nothing => None,
            WaitRes::Found(w) => Some(w),
        };
        if let Some(w) = &found {
            info[0..4].copy_from_slice(&crate::sigcore::SIGCHLD.to_le_bytes());
            info[8..12].copy_from_slice(&w.code.to_le_bytes());
            info[16..20].copy_from_slice(&w.pid.to_le_bytes());
            info[20..24].copy_from_slice(&w.uid.to_le_bytes());
            info[24..28].copy_from_slice(&w.si_status.to_le_bytes());
        }
        if infop != 0 {
            s.write_user(infop, &info)?;
        }
        if ru != 0 {
            let w = found.unwrap_or_default();
            s.write_user(ru, &rusage_bytes(w.utime, w.stime, w.maxrss))?;
        }
        Ok(Some(0))
    })();
    match r {
        Ok(None) => Flow::Block,
        Ok(Some(v)) => Flow::Return(v),
        Err(e) => ret(Err(e)),
    }
}

fn process_of(s: &Sys<'_>, pid: u64) -> Result<TaskRef, Errno> {
    let pid = pid as i32;
    if pid == 0 {
        return s.k.tasks.find_process(s.task.tgid).ok_or(ESRCH);
    }
    if pid < 0 {
        return Err(ESRCH);
    }
    let t = s.k.tasks.find(pid).ok_or(ESRCH)?;
    s.k.tasks.find_process(t.tgid).ok_or(ESRCH)
}

/// `getpgid(2)`.
pub fn sys_getpgid(s: &mut Sys<'_>, pid: u64) -> SysResult {
    Ok(process_of(s, pid)?.signal.pgrp.load(Relaxed) as u64)
}

/// `getsid(2)`.
pub fn sys_getsid(s: &mut Sys<'_>, pid: u64) -> SysResult {
    Ok(process_of(s, pid)?.signal.session.load(Relaxed) as u64)
}

/// `setpgid(2)`: the caller or one of its children (that has not
/// exec'd: EACCES), within the caller's session, into an existing group
/// of that session or a new one named by the process's pid.
pub fn sys_setpgid(s: &mut Sys<'_>, pid: u64, pgid: u64) -> SysResult {
    let (pid, pgid) = (pid as i32, pgid as i32);
    if pgid < 0 {
        return Err(EINVAL);
    }
    let _tl = s.k.tasks.lock();
    let me = s.task;
    let target = if pid == 0 || pid == me.tgid {
        drop(_tl);
        let t = s.k.tasks.find_process(me.tgid).ok_or(ESRCH)?;
        (t, true)
    } else {
        let child = lock(&me.signal.children)
            .iter()
            .find(|c| c.tgid == pid)
            .cloned();
        drop(_tl);
        (child.ok_or(ESRCH)?, false)
    };
    let (t, is_me) = target;
    let pgid = if pgid == 0 { t.tgid } else { pgid };
    let sid = me.signal.session.load(Relaxed);
    if !is_me {
        if t.signal.session.load(Relaxed) != sid {
            return Err(EPERM);
        }
        if t.signal.did_exec.load(Relaxed) {
            return Err(crate::errno::EACCES);
        }
    }
    // A session leader cannot move.
    if t.signal.session.load(Relaxed) == t.tgid {
        return Err(EPERM);
    }
    // The group's `struct pid`: the process's own, or a member's.
    let pgrp_pid = if pgid != t.tgid {
        let member =
            s.k.tasks.processes().into_iter().find(|p| {
                p.signal.pgrp.load(Relaxed) == pgid && p.signal.session.load(Relaxed) == sid
            });
        let Some(member) = member else {
            return Err(EPERM);
        };
        let p = lock(&member.signal.pids).pgrp.clone();
        p
    } else {
        lock(&t.thread_pid).clone()
    };
    t.signal.pgrp.store(pgid, SeqCst);
    lock(&t.signal.pids).pgrp = pgrp_pid;
    Ok(0)
}

/// `setsid(2)`: EPERM if the caller leads a process group already.
pub fn sys_setsid(s: &mut Sys<'_>) -> SysResult {
    let me = s.task;
    let pid = me.tgid;
    let taken =
        s.k.tasks
            .processes()
            .iter()
            .any(|p| p.signal.pgrp.load(Relaxed) == pid);
    if taken {
        return Err(EPERM);
    }
    me.signal.session.store(pid, SeqCst);
    me.signal.pgrp.store(pid, SeqCst);
    // The leader's `struct pid` names the new session and group.
    let own =
        s.k.tasks
            .find_process(pid)
            .and_then(|l| lock(&l.thread_pid).clone());
    *lock(&me.signal.pids) = crate::pid::ProcPids {
        pgrp: own.clone(),
        session: own,
    };
    let _ = EFAULT;
    Ok(pid as u64)
}
