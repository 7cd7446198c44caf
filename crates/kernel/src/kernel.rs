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
use crate::procfs::{PidTable, ProcEntry, ProcView};
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

/// Why a run could not start.
#[derive(Debug)]
pub enum RunError {
    /// The program file could not be read.
    Program { path: PathBuf, err: std::io::Error },
    /// The program is not an executable ferrite can run.
    Exec { path: PathBuf, err: ExecError },
    /// The root directory is unusable.
    Root { path: PathBuf, err: std::io::Error },
    /// The machine did not boot.
    Boot(BootFailure),
    /// Setting up init failed (out of memory, or the program could not be
    /// loaded).
    Init(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Program { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Exec { path, err } => write!(f, "{}: {err}", path.display()),
            RunError::Root { path, err } => write!(f, "--root {}: {err}", path.display()),
            RunError::Boot(e) => write!(f, "{e}"),
            RunError::Init(m) => write!(f, "cannot start init: {m}"),
        }
    }
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
            outcome: Mutex::new(None),
            nr_tasks: AtomicU64::new(0),
            instructions: AtomicU64::new(0),
            syscalls: AtomicU64::new(0),
            page_faults: AtomicU64::new(0),
        })
    }

    /// Boot, run `program` (a host path) as pid 1 with `argv` (argv[0]
    /// included) and the environment `envp`, and wait for it to exit.
    pub fn run(
        config: Config,
        program: &Path,
        argv: &[Vec<u8>],
        envp: &[Vec<u8>],
    ) -> Result<Outcome, RunError> {
        // Refuse what cannot run before booting anything.
        let bytes = std::fs::read(program).map_err(|err| RunError::Program {
            path: program.to_path_buf(),
            err,
        })?;
        exec::parse(&bytes).map_err(|err| RunError::Exec {
            path: program.to_path_buf(),
            err,
        })?;
        let k = Kernel::boot(config)?;
        k.spawn_init(program, argv, envp)?;
        k.run_harts();
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
        // Parse the bytes read through the page cache's own file handle, not
        // the copy `run` checked before booting: the mappings must match
        // the image even if the file was replaced in between.
        let (mmap_file, data) = self.hostfs.open_exec(program).map_err(fail)?;
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
        let loaded = match exec::load(&cpu, &mm, &image, &file, &args) {
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
            mm_cpumask: AtomicU64::new(0),
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

    /// The next task for an idle hart, or None when the kernel shuts down.
    pub fn pick_next_task(&self) -> Option<Task> {
        let mut q = self.runq.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.shutdown.load(Relaxed) {
                return None;
            }
            if let Some(t) = q.pop_front() {
                return Some(t);
            }
            q = self.runq_cv.wait(q).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Start one host thread per hart and wait until they all stop.
    fn run_harts(&self) {
        std::thread::scope(|scope| {
            for id in 0..self.mem.nr_cpus() {
                std::thread::Builder::new()
                    .name(format!("hart{id}"))
                    .spawn_scoped(scope, move || crate::trap::hart_main(self, id))
                    .map(|_| ())
                    .unwrap_or_else(|e| {
                        self.console(&format!("ferrite: cannot start hart {id}: {e}\n"));
                    });
            }
        });
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
