//! Running a new program in a task: fs/exec.c (`do_execveat_common`,
//! `bprm_execve`, `begin_new_exec` with `de_thread`, `exec_mmap`,
//! `unshare_sighand`, `flush_signal_handlers`, `do_close_on_exec`,
//! `setup_new_exec`) over the ELF loader in [`crate::exec`].
//!
//! Init's first program and every `execve` go through [`do_execve`]:
//! the image is loaded into a fresh mm first; only when that succeeded is
//! the old image given up (the point of no return), so a failed exec
//! returns its errno to the caller unchanged.
//!
//! An exec from a thread that is not the leader gives that thread the
//! leader's id and place once the others are gone (`de_thread`'s
//! `exchange_tids`), and the old leader is released.
//!
//! Where ferrite differs: `de_thread` kills the other threads before the
//! new image is loaded (Linux loads and checks the binary first), so an
//! exec that fails after that point leaves the caller alone in its group.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use mm::mmap::MmStruct;
use mm::percpu::Cpu;

use crate::errno::{Errno, E2BIG, EFAULT, ENOMEM};
use crate::exec::{self, ExecArgs};
use crate::fs::MmapFile;
use crate::kernel::Kernel;
use crate::mm_ref::MmUser;
use crate::sigcore;
use crate::task::{lock, Regs, SigAction, TaskRef};

/// `MAX_ARG_STRLEN`: the longest argument or environment string.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// `MAX_ARG_STRINGS`.
pub const MAX_ARG_STRINGS: usize = 0x7fff_ffff;

/// A program opened for exec.
pub struct Binary {
    /// Its page cache (the loader maps from it).
    pub mmap: MmapFile,
    /// Its size when opened (the headers are read through `mmap`).
    pub size: u64,
    /// Its guest path (`/proc/PID/exe`).
    pub path: Vec<u8>,
}

/// The limit on the argument and environment strings with their pointers
/// (`bprm_stack_limits`): a quarter of RLIMIT_STACK, at most 3/4 of
/// `_STK_LIM` (8 MiB), at least ARG_MAX (128 KiB).
pub fn arg_limit(stack_cur: u64) -> usize {
    let l = (stack_cur / 4).clamp(128 << 10, 6 << 20);
    l as usize
}

/// Why an exec failed: the loader's reason (with the message `ferrite
/// run` prints for init) or a plain errno.
#[derive(Debug)]
pub enum ExecFail {
    /// The image or its interpreter was refused.
    Exec(exec::ExecError),
    /// Anything else.
    Errno(Errno),
}

impl ExecFail {
    /// The errno execve returns.
    pub fn errno(&self) -> Errno {
        match self {
            ExecFail::Exec(e) => e.errno(),
            ExecFail::Errno(e) => *e,
        }
    }
}

impl From<Errno> for ExecFail {
    fn from(e: Errno) -> Self {
        ExecFail::Errno(e)
    }
}

impl From<exec::ExecError> for ExecFail {
    fn from(e: exec::ExecError) -> Self {
        ExecFail::Exec(e)
    }
}

/// `do_execve` on `t` (current): load `bin` with `argv`/`envp` into a
/// new mm; on success the task runs it with the returned registers.
pub fn do_execve(
    k: &Kernel,
    cpu: &Cpu<'static>,
    t: &TaskRef,
    bin: Binary,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    execfn: &[u8],
) -> Result<Regs, ExecFail> {
    let src = exec::elf::CachedFile {
        file: &bin.mmap,
        size: bin.size,
        cpu,
    };
    let image = match exec::parse_file(&src) {
        Ok(i) => i,
        Err(e) => {
            bin.mmap.put(cpu);
            return Err(e.into());
        }
    };
    let random: [u8; 16] = match crate::random::random_bytes(16) {
        Ok(r) => r.try_into().map_err(|_| crate::errno::EIO)?,
        Err(e) => {
            bin.mmap.put(cpu);
            return Err(e.into());
        }
    };
    let cred = t.cred();
    let argv_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let envp_refs: Vec<&[u8]> = envp.iter().map(|a| a.as_slice()).collect();
    let args = ExecArgs {
        argv: &argv_refs,
        envp: &envp_refs,
        execfn,
        random,
        uid: cred.uid,
        gid: cred.gid,
    };
    let vdso = match exec::Vdso::get(k.mem) {
        Ok(v) => v,
        Err(e) => {
            bin.mmap.put(cpu);
            return Err(e.into());
        }
    };
    // PT_INTERP: the interpreter, looked up in the task's root.
    let interp = match image.interp() {
        Some(path) => {
            let r = match t.fs() {
                Some(fs) => exec::open_interp(cpu, &fs, path).map_err(ExecFail::Exec),
                None => Err(ExecFail::Errno(crate::errno::ENOENT)),
            };
            match r {
                Ok(i) => Some(i),
                Err(e) => {
                    bin.mmap.put(cpu);
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let mm = match MmStruct::new(cpu) {
        Ok(m) => m,
        Err(e) => {
            bin.mmap.put(cpu);
            if let Some(i) = interp {
                i.put(cpu);
            }
            return Err(ExecFail::Errno(if e == 0 { ENOMEM } else { e }));
        }
    };
    let file = bin.mmap.file();
    let loaded = exec::load(
        cpu,
        &mm,
        &image,
        &file,
        &args,
        interp.as_ref().map(|i| i.as_interp()),
        Some(vdso),
    );
    if let Some(i) = interp {
        i.put(cpu);
    }
    bin.mmap.put(cpu);
    let loaded = match loaded {
        Ok(l) => l,
        Err(err) => {
            mm.free(cpu);
            return Err(err.into());
        }
    };
    // The point of no return (the other threads are gone: see
    // `zap_other_threads`); a thread that is not the leader takes its
    // place and id.
    if !t.is_leader() {
        take_leader_place(k, t);
    }
    lock(&t.signal.group).exec_task = None;
    let old = lock(&t.mm).replace(MmUser::new(mm));
    if let Some(old) = old {
        old.put(cpu);
    }
    if let Some(c) = lock(&t.vfork_done).take() {
        c.complete();
    }
    if let Some(fs) = t.fs() {
        fs.close_on_exec();
    }
    flush_signal_handlers(k, cpu, t);
    lock(&t.sig).altstack.exec();
    let comm = execfn.rsplit(|&b| b == b'/').next().unwrap_or_default();
    t.set_comm(comm);
    *lock(&t.exe) = bin.path;
    let mut cmdline = Vec::new();
    for a in argv {
        cmdline.extend_from_slice(a);
        cmdline.push(0);
    }
    *lock(&t.cmdline) = cmdline;
    *lock(&t.environ) = envp
        .iter()
        .flat_map(|e| e.iter().chain(&[0]))
        .copied()
        .collect();
    t.signal.did_exec.store(true, Relaxed);
    crate::posix_timers::exit_itimers(&k.rq, &t.signal);
    // `begin_new_exec`: dumpable again (no set-id images here).
    t.signal.dumpable.store(1, Relaxed);
    *lock(&t.robust_list) = (0, 0);
    t.clear_child_tid.store(0, Relaxed);
    let mut regs = Regs {
        pc: loaded.entry,
        ..Default::default()
    };
    regs.x[2] = loaded.sp;
    Ok(regs)
}

/// The end of `de_thread` in a thread `t` that is not its group's
/// leader, once every other thread is gone: `exchange_tids` (`t` takes the
/// process id as its thread id, the zombie leader `t`'s old id), `t`
/// takes the leader's start time and place among its parent's children
/// (and becomes the parent of the process's children), its exit signal
/// is SIGCHLD; the old leader is released, freeing `t`'s old id.
fn take_leader_place(k: &Kernel, t: &TaskRef) {
    let mut tl = k.tasks.lock();
    let Some(leader) = tl.pids.get(&t.tgid).cloned() else {
        return;
    };
    if TaskRef::ptr_eq(&leader, t) {
        return;
    }
    let old_tid = t.pid();
    t.pid.store(t.tgid, SeqCst);
    leader.pid.store(old_tid, SeqCst);
    tl.pids.insert(t.tgid, t.clone());
    tl.pids.remove(&old_tid);
    {
        // The `struct pid`s change hands too; the old leader's (now the
        // old thread id's) goes with its release.
        let mut a = lock(&t.thread_pid);
        let mut b = lock(&leader.thread_pid);
        std::mem::swap(&mut *a, &mut *b);
        b.take();
    }
    t.start_time.store(leader.start_time(), Relaxed);
    if let Some(parent) = lock(&t.signal.parent).clone() {
        for c in lock(&parent.signal.children).iter_mut() {
            if TaskRef::ptr_eq(c, &leader) {
                *c = t.clone();
            }
        }
    }
    for c in lock(&t.signal.children).iter() {
        let mut p = lock(&c.signal.parent);
        if p.as_ref().is_some_and(|p| TaskRef::ptr_eq(p, &leader)) {
            *p = Some(t.clone());
        }
    }
    t.exit_signal.store(crate::sigcore::SIGCHLD, Relaxed);
    leader.exit_signal.store(-1, Relaxed);
    leader.exit_state.store(crate::task::EXIT_DEAD, SeqCst);
}

/// `de_thread`'s `zap_other_threads`: the other threads of the group die
/// (SIGKILL; each exits alone, not the group); the exec'ing thread sleeps
/// until the last of them wakes it from `exit_notify`.
pub fn zap_other_threads(t: &TaskRef) {
    let others: Vec<TaskRef> = lock(&t.signal.threads)
        .iter()
        .filter(|x| !TaskRef::ptr_eq(x, t))
        .cloned()
        .collect();
    if others.is_empty() {
        return;
    }
    lock(&t.signal.group).exec_task = Some(t.pid());
    for o in others {
        lock(&o.sig).pending |= sigcore::sigbit(sigcore::SIGKILL);
        sigcore::signal_wake_up(&o, true);
    }
}

/// `unshare_sighand` + `flush_signal_handlers`: handled signals go back to
/// SIG_DFL, ignored ones stay ignored.
fn flush_signal_handlers(k: &Kernel, cpu: &Cpu<'static>, t: &TaskRef) {
    let sh = lock(&t.sighand).clone();
    let mut actions = *lock(&sh.action);
    for a in actions.iter_mut() {
        if a.handler != sigcore::SIG_IGN {
            *a = SigAction::default();
        } else {
            a.flags = 0;
            a.mask = 0;
        }
    }
    let shared = mm::kbox::KArc::strong_count(&sh) > 2;
    if shared {
        if let Ok(new) = crate::fork::new_sighand(k, cpu, actions) {
            *lock(&t.sighand) = new;
            return;
        }
    }
    *lock(&sh.action) = actions;
}

/// One argument string, read in growing pieces (a short string costs a
/// short buffer): E2BIG beyond [`MAX_ARG_STRLEN`], EFAULT on a bad
/// address.
fn read_arg(s: &crate::syscall::Sys<'_>, addr: u64) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut piece = 256usize;
    loop {
        let at = addr.checked_add(out.len() as u64).ok_or(EFAULT)?;
        let mut buf = vec![0u8; piece];
        let n = mm::uaccess::strncpy_from_user(s.cpu, s.mm(), &mut buf, at as usize)?;
        out.extend_from_slice(&buf[..n]);
        if out.len() >= MAX_ARG_STRLEN {
            return Err(E2BIG);
        }
        if n < piece {
            return Ok(out);
        }
        piece = (piece * 2).min(MAX_ARG_STRLEN);
    }
}

/// Read a user `char *const[]` (argv or envp): at most `budget` bytes in
/// all, counting the pointers (E2BIG beyond; EFAULT on a bad pointer).
pub fn copy_strings(
    s: &crate::syscall::Sys<'_>,
    mut ptr: u64,
    budget: &mut usize,
) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if ptr == 0 {
        return Ok(out);
    }
    loop {
        let p = s.read_u64(ptr)?;
        if p == 0 {
            return Ok(out);
        }
        if out.len() >= MAX_ARG_STRINGS || *budget < 8 {
            return Err(E2BIG);
        }
        *budget -= 8;
        let st = read_arg(s, p)?;
        if st.len() + 1 > *budget {
            return Err(E2BIG);
        }
        *budget -= st.len() + 1;
        out.push(st);
        ptr = ptr.checked_add(8).ok_or(EFAULT)?;
    }
}
