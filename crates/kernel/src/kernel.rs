//! The running kernel: `start_kernel`'s later half (init/main.c: bring up
//! the CPUs, the task caches of `fork_init`/`proc_caches_init`, start
//! init with `kernel_execve` of the first program) and the end of the run
//! when init exits.
//!
//! Each hart is a host thread with its own [`Cpu`](mm::percpu::Cpu) claim
//! and [`rv64::Hart`]; it takes tasks from the run queue
//! ([`crate::sched`]) and runs each in [`crate::trap`] until it leaves the
//! hart.
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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use mm::kbox::{KArcInner, TypedCache};
use mm::mmap::MmStruct;
use mm::slab::StdCache;
use mm::Mem;

use crate::boot::{self, BootFailure, Machine};
use crate::exec::{self, ExecError};
use crate::fork::Caches;
use crate::fs::{Fs, HostFs};
use crate::panic::{PanicReport, PanicState};
use crate::pid::TaskTable;
use crate::procfs::ProcView;
use crate::quote::escape;
use crate::sched::RunQueue;
use crate::task::TaskRef;

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
    /// The terminal's signal keys as the host delivers them (Ctrl-C,
    /// Ctrl-\\, Ctrl-Z when ferrite's stdin is a terminal): each flag,
    /// set by the host's signal handler, sends that signal to the
    /// terminal's foreground process group (the tty's ISIG).
    pub tty_signals: Vec<(i32, Arc<std::sync::atomic::AtomicBool>)>,
    /// `--trace`: the scheduler's trace sink (None: tracing off).
    pub trace: Option<Arc<crate::trace::Tracer>>,
    /// Deterministic mode with this seed ([`crate::time::det`]): virtual
    /// time from retired instructions, harts taking turns of `quantum`
    /// instructions in a fixed order, randomness from the seed. None:
    /// parallel mode on the host's clock.
    pub deterministic: Option<u64>,
    /// The ASID width the kernel uses (None: all the harts implement);
    /// tests make it small so ASID rollovers happen (see [`crate::asid`]).
    pub asid_bits: Option<u32>,
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
            tty_signals: Vec::new(),
            trace: None,
            deterministic: None,
            asid_bits: None,
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
    /// Deterministic mode: the virtual time at the end (ns since boot).
    pub virtual_ns: Option<u64>,
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
    /// The tasks (`tasklist_lock`, the pid table).
    pub tasks: Arc<TaskTable>,
    /// The run queue and timers.
    pub rq: Arc<RunQueue>,
    /// The task model's slab caches.
    pub caches: Caches,
    /// The futex hash table.
    pub futex: crate::futex::FutexHash,
    /// The IPC namespace (System V shared memory).
    pub ipc: crate::ipc::IpcNamespace,
    /// The run's options.
    pub config: Config,
    /// Whether a hart panicked, and the report.
    pub panic: Arc<PanicState>,
    outcome: Mutex<Option<Outcome>>,
    shown: Mutex<Option<Shown>>,
    /// The terminal of init's session (set when init starts).
    pub tty: Mutex<Option<Arc<crate::fs::TtyState>>>,
    /// The process the OOM killer chose last (0: none), until it is gone.
    pub oom_victim: std::sync::atomic::AtomicI32,
    /// Instructions retired by harts that have stopped.
    pub instructions: AtomicU64,
    /// System calls handled.
    pub syscalls: AtomicU64,
    /// Page faults handled.
    pub page_faults: AtomicU64,
    /// The harts' ASIDs.
    pub asids: crate::asid::AsidAllocator,
}

/// The `--show` files: (path, contents or None).
type Shown = Vec<(String, Option<Vec<u8>>)>;

/// A slab cache for `T` behind a [`KArc`](mm::kbox::KArc), kept for the
/// kernel's life.
fn leak_cache<T>(
    mem: &'static Mem,
    name: &str,
    std: Option<StdCache>,
) -> Result<&'static TypedCache<'static, KArcInner<T>>, RunError> {
    let cache = match std {
        Some(c) => TypedCache::from_cache(mem.std_cache(c)),
        None => TypedCache::create(mem, name, mm::slab::SlabFlags::empty()).ok(),
    }
    .ok_or_else(|| RunError::Init(format!("{name} cache too small")))?;
    Ok(Box::leak(Box::new(cache)))
}

impl Kernel {
    /// Boot a machine for `config` (RAM, page allocator, slab caches, the
    /// harts' hardware, the root file system).
    pub fn boot(config: Config) -> Result<Kernel, RunError> {
        Kernel::boot_with(config, Arc::default())
    }

    fn boot_with(config: Config, panic: Arc<PanicState>) -> Result<Kernel, RunError> {
        let mem = boot::boot(&config.machine).map_err(RunError::Boot)?.leak();
        let caches = Caches {
            task: leak_cache(mem, "task_struct", Some(StdCache::TaskStruct))?,
            signal: leak_cache(mem, "signal_cache", Some(StdCache::SignalCache))?,
            sighand: leak_cache(mem, "sighand_cache", None)?,
            cred: leak_cache(mem, "cred_jar", None)?,
            pid: leak_cache(mem, "pid", None)?,
        };
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
        // The same for one mm: a flush of its ASID (see `crate::asid`;
        // ASID 0, a disabled allocator, flushes everything).
        let m = machine.clone();
        mem.set_tlb_flush_mm_hook(Box::new(move |mask, range, ctx| {
            let range = range.map(|(s, e)| (s as u64, e as u64));
            match crate::asid::ctx_asid(ctx) {
                0 => m.flush_tlb(mask, range),
                asid => m.flush_tlb_asid(mask, asid, range),
            }
        }));
        let asids = crate::asid::AsidAllocator::new(
            config
                .asid_bits
                .unwrap_or(rv64::mmu::tlb::ASID_BITS)
                .min(rv64::mmu::tlb::ASID_BITS),
            mem.nr_cpus(),
        );
        let det = config
            .deterministic
            .map(|seed| crate::time::det::Det::new(mem.nr_cpus(), config.quantum, seed));
        let rq = Arc::new(RunQueue::new(mem.nr_cpus(), det));
        // ITIMER_REAL's expiry sends SIGALRM to the process.
        *crate::task::lock(&rq.it_real) = Some(Box::new(crate::itimer::it_real_fire));
        if let Some(t) = &config.trace {
            rq.set_trace(Box::new(crate::trace::hooks::SchedSink(t.clone())));
        }
        Ok(Kernel {
            mem,
            machine,
            hostfs: Arc::new(hostfs),
            tasks: Arc::new(TaskTable::default()),
            rq,
            caches,
            futex: Default::default(),
            ipc: Default::default(),
            config,
            panic,
            outcome: Mutex::new(None),
            shown: Mutex::new(None),
            tty: Mutex::new(None),
            oom_victim: std::sync::atomic::AtomicI32::new(0),
            instructions: AtomicU64::new(0),
            syscalls: AtomicU64::new(0),
            page_faults: AtomicU64::new(0),
            asids,
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
                let _time = crate::time::det::enter(k.rq.det().cloned(), None);
                k.spawn_init(program, argv, envp)?;
                Ok(k)
            })
        };
        let k = boot.map_err(RunError::Panic)??;
        if let Err(report) = Kernel::run_harts(&k) {
            return Err(RunError::Panic(report));
        }
        let _ctx = crate::panic::enter(state.clone(), 0, false);
        let _time = crate::time::det::enter(k.rq.det().cloned(), None);
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
            virtual_ns: k.rq.det().map(|d| d.latest()),
        };
        Ok(outcome)
    }

    /// Create pid 1 and exec `program` (a host path) in it
    /// (`kernel_execve`), then queue it.
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
        mm::fault::init(&cpu).map_err(|_| RunError::Init("out of memory".into()))?;
        #[cfg(feature = "fault-injection")]
        crate::panic::inject_at_syscall(0);
        // Parse the headers read through the page cache, not the copy
        // `run` checked before booting: the mappings must match the image
        // even if the file was replaced in between.
        let (mmap_file, size) = self
            .hostfs
            .open_exec(program)
            .map_err(|e| RunError::Program {
                path: program.to_path_buf(),
                err: std::io::Error::from_raw_os_error(e),
            })?;
        let src = exec::elf::CachedFile {
            file: &mmap_file,
            size,
            cpu: &cpu,
        };
        let image_err = exec::parse_file(&src).err();
        if let Some(err) = image_err {
            mmap_file.put(&cpu);
            return Err(RunError::Exec {
                path: program.to_path_buf(),
                err,
            });
        }
        let execfn = argv
            .first()
            .cloned()
            .unwrap_or_else(|| program.as_os_str().as_encoded_bytes().to_vec());
        let mm = MmStruct::new(&cpu).map_err(|e| RunError::Init(format!("errno {e}")))?;
        let init = self.new_task(&cpu, 1, 0, b"init", Vec::new(), Vec::new(), host_cred(), mm)?;
        // As Linux's init before it calls setsid(): process group and
        // session 0 (the idle task's), so it leads neither.
        init.signal.pgrp.store(0, Relaxed);
        init.signal.session.store(0, Relaxed);
        let bin = crate::execve::Binary {
            mmap: mmap_file,
            size,
            path: self.hostfs.guest_path(program),
        };
        match crate::execve::do_execve(self, &cpu, &init, bin, argv, envp, &execfn) {
            Ok(regs) => crate::task::lock(&init.thread).regs = regs,
            Err(crate::execve::ExecFail::Exec(err)) => {
                return Err(RunError::Exec {
                    path: program.to_path_buf(),
                    err,
                })
            }
            Err(crate::execve::ExecFail::Errno(e)) => {
                let msg = crate::errno::describe(e)
                    .map_or_else(|| format!("errno {e}"), |d| d.1.to_string());
                return Err(RunError::Init(msg));
            }
        }
        if let Some(fs) = init.fs() {
            *crate::task::lock(&self.tty) = Some(fs.tty().clone());
            // Init's program may not be written while it runs (it may lie
            // in the root); nothing can have it open for writing yet.
            use std::os::unix::fs::MetadataExt;
            if let Ok(m) = std::fs::metadata(program) {
                if let Ok(d) = fs
                    .hostfs()
                    .write_counts
                    .deny_write_access((m.dev(), m.ino()))
                {
                    *crate::task::lock(&init.signal.exe_deny) = Some(d);
                }
            }
        }
        crate::sched::wake_up_new_task(&init);
        Ok(())
    }

    /// The tty's ISIG, for the keys the host turned into signals: send
    /// each pending one to the terminal's foreground process group
    /// (`isig` → `kill_pgrp`). Cheap when none is pending.
    pub fn poll_tty_signals(&self) {
        for (sig, flag) in &self.config.tty_signals {
            if !flag.load(Relaxed) || !flag.swap(false, Relaxed) {
                continue;
            }
            let fg = crate::task::lock(&self.tty)
                .as_ref()
                .map_or(0, |t| t.foreground());
            for p in self.tasks.processes() {
                if p.signal.pgrp.load(Relaxed) == fg
                    && p.exit_state.load(Relaxed) == crate::task::EXIT_ALIVE
                {
                    crate::sigcore::send_sig_info(
                        &p,
                        crate::sigcore::SigQueued::kernel(*sig),
                        crate::sigcore::Target::Group,
                    );
                }
            }
        }
    }

    /// A new process `pid` (its own group, session and thread group) with
    /// address space `mm`, standard streams as descriptors 0..2, `/` as
    /// working directory; registered in the pid table, not yet queued.
    /// The registers are zero; the caller sets pc and sp. On failure the
    /// mm is freed.
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
    ) -> Result<TaskRef, RunError> {
        let oom = |_| RunError::Init("out of memory for the task".into());
        let parent = if ppid > 0 {
            self.tasks.find(ppid)
        } else {
            None
        };
        let rlim = crate::task::init_rlimits(self.mem.nr_pages());
        let signal = match crate::fork::new_signal(self, cpu, rlim, pid, pid, parent.clone()) {
            Ok(s) => s,
            Err(e) => {
                mm.free(cpu);
                return Err(oom(e));
            }
        };
        let sighand = match crate::fork::new_sighand(
            self,
            cpu,
            [crate::task::SigAction::default(); crate::task::NSIG],
        ) {
            Ok(s) => s,
            Err(e) => {
                mm.free(cpu);
                return Err(oom(e));
            }
        };
        let fs = match Fs::new(self.hostfs.clone(), self.proc_view(pid)) {
            Ok(f) => f,
            Err(e) => {
                mm.free(cpu);
                return Err(oom(e));
            }
        };
        let thread_pid = match crate::fork::new_pid(self, cpu, pid) {
            Ok(p) => p,
            Err(e) => {
                mm.free(cpu);
                return Err(oom(e));
            }
        };
        // Its own group and session.
        *crate::task::lock(&signal.pids) = crate::pid::ProcPids {
            pgrp: Some(thread_pid.clone()),
            session: Some(thread_pid.clone()),
        };
        let task_cred = crate::task::Cred::new(cred[0], cred[1], cred[2], cred[3]);
        let task_cred = match crate::fork::new_cred(self, cpu, task_cred) {
            Ok(c) => c,
            Err(e) => {
                mm.free(cpu);
                return Err(oom(e));
            }
        };
        let mut c = [0u8; crate::task::TASK_COMM_LEN];
        let n = comm.len().min(crate::task::TASK_COMM_LEN - 1);
        c[..n].copy_from_slice(&comm[..n]);
        let t = crate::fork::alloc_task(
            self,
            cpu,
            crate::fork::NewTask {
                pid,
                thread_pid,
                tgid: pid,
                comm: c,
                regs: Default::default(),
                mm: crate::mm_ref::MmUser::new(mm),
                fs: Arc::new(fs),
                signal,
                sighand,
                cred: task_cred,
                sig: Default::default(),
                exit_signal: crate::sigcore::SIGCHLD,
                exe,
                cmdline,
                nice: 0,
                no_new_privs: false,
                timer_slack_ns: crate::syscall::sys::DEFAULT_TIMER_SLACK_NS,
            },
        )
        .map_err(oom)?;
        let mut tl = self.tasks.lock();
        crate::task::lock(&t.signal.threads).push(t.clone());
        if let Some(p) = &parent {
            crate::task::lock(&p.signal.children).push(t.clone());
        }
        tl.pids.insert(pid, t.clone());
        tl.last_pid = tl.last_pid.max(pid);
        tl.nr_threads += 1;
        *tl.per_uid.entry(cred[0]).or_insert(0) += 1;
        Ok(t)
    }

    /// /proc as process `tgid` sees it.
    pub fn proc_view(&self, tgid: i32) -> Arc<dyn crate::fs::ProcSource> {
        Arc::new(ProcView {
            pid: tgid,
            table: self.tasks.clone(),
            mem: self.mem,
            nr_cpus: self.mem.nr_cpus(),
            rq: self.rq.clone(),
        })
    }

    /// `max_threads` (fork_init: RAM / 8 thread stacks of 16 KiB, at
    /// least 20).
    pub fn max_threads(&self) -> usize {
        (self.mem.nr_pages() / 32).clamp(20, 0x3fff_ffff)
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
                if let Some(d) = k.rq.det() {
                    // Its turns are skipped.
                    d.hart_gone(id);
                }
                k.panic.hart_stopped();
            }
        }
        if !k.panic.wait_stopped_or_panicked() {
            return Ok(());
        }
        k.rq.shutdown();
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

    /// `printk` to the host's stderr.
    pub fn console(&self, s: &str) {
        use std::io::Write;
        let _ = std::io::stderr().write_all(s.as_bytes());
    }

    /// Init's main thread is exiting: capture the `--show` files (before
    /// its mm goes).
    pub fn init_exiting(&self, _t: &TaskRef) {
        let view = ProcView {
            pid: 1,
            table: self.tasks.clone(),
            mem: self.mem,
            nr_cpus: self.mem.nr_cpus(),
            rq: self.rq.clone(),
        };
        let shown = self
            .config
            .show
            .iter()
            .map(|p| (p.clone(), show_file(&view, p)))
            .collect();
        *self.shown.lock().unwrap_or_else(|p| p.into_inner()) = Some(shown);
    }

    /// Init's last thread is gone with wait status `status`: the run
    /// ends (every hart stops).
    pub fn init_exited(&self, status: i32) {
        let shown = self
            .shown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_default();
        let status = if status & 0x7f == 0 {
            ExitStatus::Exited(((status >> 8) & 0xff) as u8)
        } else {
            ExitStatus::Signaled(status & 0x7f)
        };
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(Outcome {
            status,
            stats: Stats::default(),
            shown,
        });
        self.rq.shutdown();
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
