//! What the kernel's test binaries share: one booted machine per test
//! process (32 MiB, 64 CPUs: one per test thread) and a CPU of its own for
//! each test thread.

#![allow(dead_code)]

use std::alloc::{alloc_zeroed, Layout};
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};

use kernel::fs::{Fs, HostFs, ProcSource};
use mm::{Cpu, Mem, MemConfig};

/// The machine every test of this binary shares.
pub fn mem() -> &'static Mem {
    static MEM: OnceLock<&'static Mem> = OnceLock::new();
    MEM.get_or_init(|| {
        let bytes = 32 << 20;
        let layout = Layout::from_size_align(bytes, mm::mem::RAM_ALIGN).unwrap();
        // SAFETY: non-zero size.
        let ram = NonNull::new(unsafe { alloc_zeroed(layout) }).unwrap();
        let cfg = MemConfig {
            nr_cpus: 64,
            quiet: true,
            ..MemConfig::default()
        };
        // SAFETY: the RAM is leaked: it outlives the (leaked) Mem.
        let mem = unsafe { Mem::boot(ram, bytes, cfg, Box::new(|_| {})) }.unwrap();
        Box::leak(Box::new(mem))
    })
}

/// A CPU of our own for this test thread.
pub fn cpu() -> Cpu<'static> {
    let m = mem();
    (0..m.nr_cpus())
        .find_map(|i| m.cpu(i).ok())
        .expect("a free CPU")
}

/// A /proc with nothing in it.
pub struct NoProc;

impl ProcSource for NoProc {
    fn read(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn readlink(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
}

/// A process's files over a fresh temporary root, with a CPU of its own.
pub struct T {
    pub dir: tempfile::TempDir,
    pub fs: Fs,
    pub cpu: Cpu<'static>,
}

/// [`T`] with an empty /proc; the fault handler's zero page set up.
pub fn setup() -> T {
    let dir = tempfile::tempdir().unwrap();
    let cpu = cpu();
    mm::fault::init(&cpu).unwrap();
    let host = Arc::new(HostFs::new(dir.path(), mem()).unwrap());
    T {
        fs: Fs::new(host, Arc::new(NoProc)).unwrap(),
        dir,
        cpu,
    }
}

/// A kernel booted over a scratch root directory (kept as long as this).
pub struct Env {
    pub k: kernel::Kernel,
    pub root: tempfile::TempDir,
}

/// Boot a 32 MiB kernel with `nr_cpus` CPUs over a fresh scratch root.
pub fn boot_kernel(nr_cpus: usize) -> Env {
    let root = tempfile::tempdir().unwrap();
    let machine = kernel::boot::Machine {
        mem_bytes: 32 << 20,
        nr_cpus,
        slab_debug: false,
    };
    let k = kernel::Kernel::boot(kernel::Config::new(machine, root.path().to_path_buf())).unwrap();
    Env { k, root }
}
