//! The running kernel: `start_kernel`'s later half (init/main.c: bring up
//! the CPUs, start init), `kernel_execve` of the first program, the exit
//! path (kernel/exit.c `do_exit`), and the set of tasks waiting for a hart
//! (a FIFO run queue until the scheduler issue brings `sched`).
//!
//! Each hart is a host thread with its own [`Cpu`](mm::percpu::Cpu) claim
//! and [`rv64::Hart`]; it takes a task from the run queue, loads its
//! registers and page table, and runs it in [`crate::trap`] until the task
//! exits or gives the hart up.
//!
//! A bug in kernel code on any hart ends the run with Linux's panic report
//! and [`RunError::Panic`] ([`crate::panic`]); it never leaves the other
//! harts waiting.
//!
//! Before anything boots, [`Kernel::run`] checks the program as `execve`
//! would and reads it without trusting it: only a regular file is opened
//! (a FIFO, device, socket or directory is refused at once, from its
//! metadata and again from the opened file's), never blocking (the open is
//! `O_NONBLOCK`), and at most its length is read, up to
//! [`MAX_PROGRAM_SIZE`].
//!
//! Where ferrite differs: Linux panics when init exits ("Attempted to kill
//! init!"); ferrite ends the run and reports init's exit status, since its
//! job is to run that one program.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};

use mm::gfp::Gfp;
use mm::kbox::TypedCache;
use mm::mmap::MmStruct;
use mm::slab::StdCache;
use mm::Mem;

use crate::boot::{self, BootFailure, Machine};
use crate::errno::Errno;
use crate::exec::{self, ExecArgs, ExecError};
use crate::fs::{Fs, HostFs};
use crate::panic::{PanicReport, PanicState};
use crate::procfs::{PidTable, ProcEntry, ProcView};
use crate::quote::escape;
use crate::task::{Task, TaskStruct};

/// How a run is set up (`ferrite run`'s options).
#[derive(Clone, Debug)]
pub struct Config {
    /// RAM, CPUs and slab debugging.
    pub machine: Machine,
    /// The host directory that is `/`.
    pub root: PathBuf,
    /// Print every syscall to stderr, strace style.
    pub strace: bool,
    /// /proc files to capture when the program exits, before teardown.
    pub show: Vec<String>,
    /// Instructions a task runs before the hart looks at the run queue.
    pub quantum: u64,
}

impl Config {
    /// Defaults for `machine` with `/` = `root`.
    pub fn new(machine: Machine, root: PathBuf) -> Config {
        Config {
            machine,
            root,
            strace: false,
            show: Vec::new(),
            quantum: DEFAULT_QUANTUM,
        }
    }
}

/// Instructions per time slice: about a millisecond of guest time.
pub const DEFAULT_QUANTUM: u64 = 1 << 20;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// `exit_group(code)`.
    Exited(u8),
    /// Killed by a signal.
    Signaled(i32),
}

impl ExitStatus {
    /// The shell's `$?`: the code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c as i32,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }

    /// Linux's wait status (`WEXITSTATUS`/`WTERMSIG` encoding).
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => (c as i32) << 8,
            ExitStatus::Signaled(s) => s & 0x7f,
        }
    }
}

/// Event counts of a run (`ferrite run --stats`, like `perf stat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Guest instructions retired on all harts.
    pub instructions: u64,
    /// System calls handled.
    pub syscalls: u64,
    /// Page faults handled (resolved or fatal).
    pub page_faults: u64,
}

/// What a run produced.
#[derive(Debug)]
pub struct Outcome {
    /// How init ended.
    pub status: ExitStatus,
    /// Event counts.
    pub stats: Stats,
    /// The `--show` files at init's exit: (path, contents or None if there
    /// is no such file).
    pub shown: Vec<(String, Option<Vec<u8>>)>,
}

/// The largest program file `ferrite run` reads (1 GiB): the bytes are
/// held in host memory while the image is checked.
pub const MAX_PROGRAM_SIZE: u64 = 1 << 30;

/// Why a run could not start, or ended without init's exit status.
#[derive(Debug)]
pub enum RunError {
    /// The program file could not be read.
    Program { path: PathBuf, err: std::io::Error },
    /// The program is not a regular file; `kind` says what it is ("a
    /// directory", "a FIFO", ...).
    NotRegular { path: PathBuf, kind: &'static str },
    /// The program is not an executable ferrite can run.
    Exec { path: PathBuf, err: ExecError },
    /// The root directory is unusable.
    Root { path: PathBuf, err: std::io::Error },
    /// The machine did not boot.
    Boot(BootFailure),
    /// Setting up init failed (out of memory, or the program could not be
    /// loaded).
    Init(String),
    /// The kernel panicked; the report is already on the console.
    Panic(PanicReport),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Program { path, err } => write!(f, "{}: {err}", quoted(path)),
            RunError::NotRegular { path, kind } => write!(
                f,
                "{}: not a regular file ({kind}); ferrite runs program files",
                quoted(path)
            ),
            RunError::Exec { path, err } => write!(f, "{}: {err}", quoted(path)),
            RunError::Root { path, err } => write!(f, "--root {}: {err}", quoted(path)),
            RunError::Boot(e) => write!(f, "{e}"),
            RunError::Init(m) => write!(f, "cannot start init: {}", escape(m.as_bytes())),
            RunError::Panic(r) => write!(f, "kernel panic: {}", r.message),
        }
    }
}

/// A host path escaped for a one-line message.
fn quoted(path: &Path) -> String {
    escape(path.as_os_str().as_encoded_bytes())
}

/// What a file that is not regular is, for the message.
fn file_kind(ft: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else {
        "an unknown file type"
    }
}

/// Read the program file for the checks before boot: refuse what is not a
/// regular file or not executable (`EACCES`, as `execve` does), open
/// without blocking, check the opened file again (it may have been
/// replaced), and read at most its length.
pub fn read_program(path: &Path) -> Result<Vec<u8>, RunError> {
    use std::io::Read;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let program = |err| RunError::Program {
        path: path.to_path_buf(),
        err,
    };
    let check = |meta: &std::fs::Metadata| {
        if !meta.is_file() {
            return Err(RunError::NotRegular {
                path: path.to_path_buf(),
                kind: file_kind(meta.file_type()),
            });
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(program(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "Permission denied (not executable)",
            )));
        }
        if meta.len() > MAX_PROGRAM_SIZE {
            return Err(program(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!(
                    "file too large ({} bytes; ferrite reads programs up to {MAX_PROGRAM_SIZE})",
                    meta.len()
                ),
            )));
        }
        Ok(meta.len())
    };
    check(&std::fs::metadata(path).map_err(program)?)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(program)?;
    let len = check(&file.metadata().map_err(program)?)?;
    let mut bytes = Vec::new();
    file.take(len).read_to_end(&mut bytes).map_err(program)?;
    Ok(bytes)
}

/// The kernel's shared state.
pub struct Kernel {
    /// Physical memory.
    pub mem: &'static Mem,
    /// The harts' shared hardware (RAM, reservations, shootdown mailboxes).
    pub machine: Arc<rv64::Machine>,
    /// `/`.
    pub hostfs: Arc<HostFs>,
    /// Live processes.
    pub pids: Arc<PidTable>,
    /// The run's options.
    pub config: Config,
    task_cache: &'static TypedCache<'static, TaskStruct>,
    runq: Mutex<VecDeque<Task>>,
    runq_cv: Condvar,
    shutdown: AtomicBool,
    /// Whether a hart panicked, and the report.
    pub panic: Arc<PanicState>,
    outcome: Mutex<Option<Outcome>>,
    /// Tasks running on a hart or waiting in the run queue.
    nr_tasks: AtomicU64,
    /// Instructions retired by harts that have stopped.
    pub instructions: AtomicU64,
    /// System calls handled.
    pub syscalls: AtomicU64,
    /// Page faults handled.
    pub page_faults: AtomicU64,
}

impl Kernel {
    /// Boot a machine for `config` (RAM, page allocator, slab caches, the
    /// harts' hardware, the root file system).
    pub fn boot(config: Config) -> Result<Kernel, RunError> {
        Kernel::boot_with(config, Arc::default())
    }

    fn boot_with(config: Config, panic: Arc<PanicState>) -> Result<Kernel, RunError> {
        let mem = boot::boot(&config.machine).map_err(RunError::Boot)?.leak();
        let cache = TypedCache::from_cache(mem.std_cache(StdCache::TaskStruct))
            .ok_or_else(|| RunError::Init("task_struct cache too small".into()))?;
        let hostfs = HostFs::new(&config.root, mem).map_err(|err| RunError::Root {
            path: config.root.clone(),
            err,
        })?;
        let ram_bytes = mem.nr_pages() * mm::page::PAGE_SIZE;
        // SAFETY: the RAM mapping is leaked with `mem` above, so it stays
        // mapped for the rest of the host process, longer than any hart.
        let ram = unsafe { rv64::Ram::new(mem.ram_base() as *mut u8, ram_bytes) };
        let machine = rv64::Machine::new(ram, mem.nr_cpus());
        // The kernel's stores into user memory keep decoded code coherent.
        let m = machine.clone();
        mem.set_store_hook(Box::new(move |pa, len| m.note_store(pa as u64, len as u64)));
        // mm's synchronous remote TLB flush (the page-cache walkers call it
        // after changing another mm's page table, before they free or clean
        // the page), with `i_mmap`, an mmap lock and a page-table lock held.
        // Deadlock-free: `Machine::flush_tlb` posts to the harts' mailboxes
        // and waits only for those inside `Hart::run`, i.e. running user
        // code, which takes no kernel lock (the hart stops at every trap
        // and the kernel runs outside `run`) and serves its mailbox at
        // every block boundary, even while it waits for other harts itself
        // (`first_code_in_page`); a hart outside `run` (in the kernel, or
        // idle) is not waited for and flushes when it enters `run` again.
        // So the wait never depends on a lock the caller may hold.
        let m = machine.clone();
        mem.set_tlb_flush_hook(Box::new(move |mask, range| {
            m.flush_tlb(mask, range.map(|(s, e)| (s as u64, e as u64)))
        }));
        Ok(Kernel {
            mem,
            machine,
            hostfs: Arc::new(hostfs),
            pids: Arc::new(PidTable::default()),
            config,
            // Kernel caches live as long as the kernel: never destroyed.
            task_cache: Box::leak(Box::new(cache)),
            runq: Mutex::new(VecDeque::new()),
            runq_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
            panic,
            outcome: Mutex::new(None),
            nr_tasks: AtomicU64::new(0),
            instructions: AtomicU64::new(0),
            syscalls: AtomicU64::new(0),
            page_faults: AtomicU64::new(0),
        })
    }

    /// Boot, run `program` (a host path) as pid 1 with `argv` (`argv[0]`
    /// included) and the environment `envp`, and wait for it to exit.
    ///
    /// A kernel panic, on the harts or while booting, is reported on the
    /// console and ends the run with [`RunError::Panic`].
    pub fn run(
        config: Config,
        program: &Path,
        argv: &[Vec<u8>],
        envp: &[Vec<u8>],
    ) -> Result<Outcome, RunError> {
        // Refuse what cannot run before booting anything.
        let bytes = read_program(program)?;
        exec::parse(&bytes).map_err(|err| RunError::Exec {
            path: program.to_path_buf(),
            err,
        })?;
        drop(bytes);
        let state = Arc::<PanicState>::default();
        let boot = {
            let _ctx = crate::panic::enter(state.clone(), 0, false);
            crate::panic::catch(&state, 0, || -> Result<Arc<Kernel>, RunError> {
                let k = Arc::new(Kernel::boot_with(config, state.clone())?);
                k.spawn_init(program, argv, envp)?;
                Ok(k)
            })
        };
        let k = boot.map_err(RunError::Panic)??;
        if let Err(report) = Kernel::run_harts(&k) {
            return Err(RunError::Panic(report));
        }
        let _ctx = crate::panic::enter(state.clone(), 0, false);
        crate::panic::catch(&state, 0, || k.finish()).map_err(RunError::Panic)?
    }

    /// After init's exit: write back and collect the outcome.
    fn finish(&self) -> Result<Outcome, RunError> {
        let k = self;
        // Shutdown writes MAP_SHARED pages back to their files, as Linux's
        // reboot path syncs the file systems.
        if let Ok(cpu) = k.mem.cpu(0) {
            if let Err(e) = k.hostfs.sync(&cpu) {
                k.console(&format!(
                    "ferrite: writeback at shutdown failed: errno {e}\n"
                ));
            }
        }
        let outcome = k.outcome.lock().unwrap_or_else(|p| p.into_inner()).take();
        let mut outcome =
            outcome.ok_or_else(|| RunError::Init("init vanished without an exit status".into()))?;
        outcome.stats = Stats {
            instructions: k.instructions.load(Relaxed),
            syscalls: k.syscalls.load(Relaxed),
            page_faults: k.page_faults.load(Relaxed),
        };
        Ok(outcome)
    }

    /// Create pid 1 running `program` and queue it.
    fn spawn_init(
        &self,
        program: &Path,
        argv: &[Vec<u8>],
        envp: &[Vec<u8>],
    ) -> Result<(), RunError> {
        let cpu = self
            .mem
            .cpu(0)
            .map_err(|e| RunError::Init(format!("cpu 0: {e}")))?;
        let fail = |e: Errno| {
            RunError::Init(
                crate::errno::describe(e).map_or_else(|| format!("errno {e}"), |d| d.1.to_string()),
            )
        };
        mm::fault::init(&cpu).map_err(|_| RunError::Init("out of memory".into()))?;
        #[cfg(feature = "fault-injection")]
        crate::panic::inject_at_syscall(0);
        // Parse the bytes read through the page cache's own file handle, not
        // the copy `run` checked before booting: the mappings must match
        // the image even if the file was replaced in between.
        let (mmap_file, data) = self
            .hostfs
            .open_exec(program)
            .map_err(|e| RunError::Program {
                path: program.to_path_buf(),
                err: std::io::Error::from_raw_os_error(e),
            })?;
        let image = exec::parse(&data).map_err(|err| RunError::Exec {
            path: program.to_path_buf(),
            err,
        })?;
        // AT_RANDOM: 16 bytes from the host's generator.
        let random: [u8; 16] = crate::syscall::info::host_random(16)
            .map_err(fail)?
            .try_into()
            .map_err(|_| fail(crate::errno::EIO))?;
        let mm = MmStruct::new(&cpu).map_err(fail)?;
        let execfn = argv
            .first()
            .cloned()
            .unwrap_or_else(|| program.as_os_str().as_encoded_bytes().to_vec());
        let argv_refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let envp_refs: Vec<&[u8]> = envp.iter().map(|a| a.as_slice()).collect();
        let cred = host_cred();
        let args = ExecArgs {
            argv: &argv_refs,
            envp: &envp_refs,
            execfn: &execfn,
            random,
            uid: cred[0],
            gid: cred[2],
        };
        let file = mmap_file.file();
        // ---- execdyn: the interpreter (looked up in the guest root) and
        // the vDSO; see exec::interp, exec::vdso.
        let vdso = match exec::Vdso::get(self.mem) {
            Ok(v) => v,
            Err(e) => {
                mmap_file.put(&cpu);
                mm.free(&cpu);
                return Err(fail(e));
            }
        };
        let interp = match image.interp() {
            Some(path) => {
                let view = ProcView {
                    pid: 1,
                    table: self.pids.clone(),
                    mem: self.mem,
                };
                let fs = Fs::new(self.hostfs.clone(), Arc::new(view));
                match exec::open_interp(&cpu, &fs, path) {
                    Ok(i) => Some(i),
                    Err(err) => {
                        mmap_file.put(&cpu);
                        mm.free(&cpu);
                        return Err(RunError::Exec {
                            path: program.to_path_buf(),
                            err,
                        });
                    }
                }
            }
            None => None,
        };
        let loaded = exec::load(
            &cpu,
            &mm,
            &image,
            &file,
            &args,
            interp.as_ref().map(|i| i.as_interp()),
            Some(vdso),
        );
        if let Some(i) = interp {
            i.put(&cpu);
        }
        // ---- end execdyn
        // The program's VMAs hold their own references to its page cache.
        mmap_file.put(&cpu);
        let loaded = match loaded {
            Ok(l) => l,
            Err(err) => {
                mm.free(&cpu);
                return Err(RunError::Exec {
                    path: program.to_path_buf(),
                    err,
                });
            }
        };
        let comm = execfn
            .rsplit(|&b| b == b'/')
            .next()
            .unwrap_or_default()
            .to_vec();
        let exe = self.hostfs.guest_path(program);
        let mut cmdline = Vec::new();
        for a in argv {
            cmdline.extend_from_slice(a);
            cmdline.push(0);
        }
        let mut task = self.new_task(&cpu, 1, 0, &comm, exe, cmdline, cred, mm)?;
        task.ts.regs.pc = loaded.entry;
        task.ts.regs.x[2] = loaded.sp;
        self.enqueue(task);
        Ok(())
    }

    /// A new process `pid` with address space `mm`: its `task_struct` in
    /// the slab cache, its /proc entry, and a file table with the host's
    /// standard streams and `/` as working directory. The registers are
    /// zero; the caller sets pc and sp. On failure the mm is freed.
    #[allow(clippy::too_many_arguments)]
    pub fn new_task(
        &self,
        cpu: &mm::percpu::Cpu<'static>,
        pid: i32,
        ppid: i32,
        comm: &[u8],
        exe: Vec<u8>,
        cmdline: Vec<u8>,
        cred: [u32; 4],
        mm: mm::mmap::MmBox<'static>,
    ) -> Result<Task, RunError> {
        let ts = TaskStruct::new(pid, ppid, comm, cred, self.mem.nr_pages());
        let ts = match self.task_cache.alloc(cpu, ts, Gfp::GFP_KERNEL) {
            Ok(ts) => ts,
            Err(_) => {
                mm.free(cpu);
                return Err(RunError::Init("out of memory for task_struct".into()));
            }
        };
        let proc = Arc::new(ProcEntry {
            pid,
            ppid,
            comm: ts.comm(),
            exe,
            cmdline,
            cred,
            mm,
            icache_stale_mask: AtomicU64::new(0),
            sig_blocked: AtomicU64::new(0),
            sig_ignored: AtomicU64::new(0),
            sig_caught: AtomicU64::new(0),
            nvcsw: AtomicU64::new(0),
            nivcsw: AtomicU64::new(0),
        });
        let view = ProcView {
            pid,
            table: self.pids.clone(),
            mem: self.mem,
        };
        let fs = Fs::new(self.hostfs.clone(), Arc::new(view));
        self.pids.insert(proc.clone());
        Ok(Task { ts, proc, fs })
    }

    /// Put a task on the run queue and wake an idle hart.
    pub fn enqueue(&self, t: Task) {
        self.nr_tasks.fetch_add(1, Relaxed);
        self.requeue(t);
    }

    /// Put a task that was running back on the run queue.
    pub fn requeue(&self, t: Task) {
        self.runq
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(t);
        self.runq_cv.notify_one();
    }

    /// Whether another task waits for a hart.
    pub fn others_waiting(&self) -> bool {
        !self
            .runq
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// The next task for an idle hart, or None when the kernel shuts down
    /// (or has panicked).
    pub fn pick_next_task(&self) -> Option<Task> {
        let mut q = self.runq.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.shutdown.load(Relaxed) || self.panic.panicked() {
                return None;
            }
            if let Some(t) = q.pop_front() {
                return Some(t);
            }
            q = self.runq_cv.wait(q).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Start one host thread per hart and wait until they all stop, or
    /// one panics: then stop the others (`smp_send_stop`), wait for them at
    /// most [`STOP_GRACE`](crate::panic::STOP_GRACE), and return the
    /// report.
    fn run_harts(k: &Arc<Kernel>) -> Result<(), PanicReport> {
        for id in 0..k.mem.nr_cpus() {
            k.panic.hart_started();
            let kk = k.clone();
            let started = std::thread::Builder::new()
                .name(format!("hart{id}"))
                .spawn(move || {
                    let state = kk.panic.clone();
                    let _ctx = crate::panic::enter(state.clone(), id, true);
                    let _ = crate::panic::catch(&state, id, || crate::trap::hart_main(&kk, id));
                    drop(_ctx);
                    // Last: the run may end (and drop the kernel) now.
                    drop(kk);
                    state.hart_stopped();
                });
            if let Err(e) = started {
                k.console(&format!("ferrite: cannot start hart {id}: {e}\n"));
                k.panic.hart_stopped();
            }
        }
        if !k.panic.wait_stopped_or_panicked() {
            return Ok(());
        }
        k.stop_harts();
        if !k.panic.wait_others(crate::panic::STOP_GRACE) {
            k.console("ferrite: some harts did not stop after the panic\n");
        }
        Err(k.panic.report().unwrap_or_else(|| PanicReport {
            cpu: 0,
            pid: 0,
            comm: String::new(),
            message: "kernel panic".into(),
            location: None,
        }))
    }

    /// `smp_send_stop`: idle harts leave the run queue; running ones see
    /// [`PanicState::panicked`] at their next trap or time-slice end.
    fn stop_harts(&self) {
        self.shutdown.store(true, Relaxed);
        let _q = self.runq.lock().unwrap_or_else(|p| p.into_inner());
        self.runq_cv.notify_all();
    }

    /// `printk` to the host's stderr.
    pub fn console(&self, s: &str) {
        use std::io::Write;
        let _ = std::io::stderr().write_all(s.as_bytes());
    }

    /// `do_exit`: the task is gone with `status`. Capture the `--show`
    /// files if it was init, tear its mm down, and stop the harts when no
    /// task is left.
    pub fn do_exit(&self, cpu: &mm::percpu::Cpu<'static>, task: Task, status: ExitStatus) {
        let Task { ts, proc, fs } = task;
        let pid = ts.pid;
        if pid == 1 {
            let view = ProcView {
                pid: 1,
                table: self.pids.clone(),
                mem: self.mem,
            };
            let shown = self
                .config
                .show
                .iter()
                .map(|p| (p.clone(), show_file(&view, p)))
                .collect();
            *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(Outcome {
                status,
                stats: Stats::default(),
                shown,
            });
        }
        drop(fs);
        ts.free_on(cpu);
        self.pids.remove(pid);
        match Arc::try_unwrap(proc) {
            Ok(p) => p.mm.free(cpu),
            // A /proc reader still holds it: tear the address space down
            // now; the mm_struct object goes with the last reference.
            Err(p) => p.mm.exit_mmap(cpu),
        }
        if self.nr_tasks.fetch_sub(1, Relaxed) == 1 {
            self.shutdown.store(true, Relaxed);
            let _q = self.runq.lock().unwrap_or_else(|p| p.into_inner());
            self.runq_cv.notify_all();
        }
    }
}

/// `--show PATH`: a /proc file as pid 1 sees it.
fn show_file(view: &ProcView, path: &str) -> Option<Vec<u8>> {
    use crate::fs::ProcSource;
    let rest = path.strip_prefix("/proc/")?;
    view.read(rest)
}

/// The host's uid, euid, gid and egid, which ferrite's processes run with
/// (as qemu-user's do).
pub fn host_cred() -> [u32; 4] {
    // SAFETY: these calls cannot fail and touch no memory.
    unsafe {
        [
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        ]
    }
}
