//! Shared test harness: boot a `Mem` over RAM from the host heap and capture
//! its console.
#![allow(dead_code)]

use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use mm::{Mem, MemConfig};

/// RAM for one test instance: freed after the `Mem` that uses it.
pub struct Ram {
    ptr: NonNull<u8>,
    layout: Layout,
}

impl Ram {
    pub fn new(bytes: usize) -> Ram {
        let layout = Layout::from_size_align(bytes, mm::mem::RAM_ALIGN).unwrap();
        // SAFETY: layout has non-zero size.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) }).expect("host out of memory");
        Ram { ptr, layout }
    }
}

impl Drop for Ram {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

/// A booted instance with its console log. Field order: `mem` drops before `ram`.
pub struct Kernel {
    pub mem: Mem,
    pub log: Arc<Mutex<String>>,
    _ram: Ram,
}

impl Kernel {
    /// Everything printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
    /// Forget what was printed.
    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

pub fn boot_with(bytes: usize, cfg: MemConfig) -> Kernel {
    let ram = Ram::new(bytes);
    let log = Arc::new(Mutex::new(String::new()));
    let l2 = log.clone();
    // SAFETY: `ram` is ours, writable, and outlives `mem` (field order).
    let mem = unsafe {
        Mem::boot(
            ram.ptr,
            bytes,
            cfg,
            Box::new(move |s| l2.lock().unwrap().push_str(s)),
        )
    }
    .expect("boot");
    Kernel {
        mem,
        log,
        _ram: ram,
    }
}

/// 64 MiB, 4 CPUs, defaults.
pub fn boot() -> Kernel {
    boot_with(64 << 20, MemConfig::default())
}

/// Boot with `nr_cpus` CPUs and allocation-failure warnings off.
pub fn boot_quiet(bytes: usize, nr_cpus: usize) -> Kernel {
    boot_with(
        bytes,
        MemConfig {
            nr_cpus,
            quiet: true,
            ..MemConfig::default()
        },
    )
}

/// Boot with `nr_cpus` CPUs and slab debugging on or off.
pub fn boot_cpus(bytes: usize, nr_cpus: usize, slab_debug: bool) -> Kernel {
    boot_with(
        bytes,
        MemConfig {
            nr_cpus,
            slab_debug,
            ..MemConfig::default()
        },
    )
}

/// Free pages on the buddy lists and on every CPU's lists.
pub fn total_free(mem: &Mem) -> usize {
    mem.nr_free_pages() + mem.nr_pcp_pages()
}

/// Drain every CPU and shrink every cache (no CPU guard may be held), then
/// return the free pages and each cache's active objects.
pub fn settle(mem: &Mem) -> (usize, Vec<(String, usize)>) {
    for c in mem.caches() {
        mem.kmem_cache_shrink(c);
    }
    let caches = mem
        .slabinfo()
        .into_iter()
        .map(|r| (r.name, r.active_objs))
        .collect();
    (total_free(mem), caches)
}

/// Boot 64 MiB on 2 CPUs with the mm caches and the fault layer (the zero
/// page) set up; returns the baseline for leak checks taken after that.
pub fn boot_vm() -> (Kernel, (usize, Vec<(String, usize)>)) {
    let k = boot_quiet(64 << 20, 2);
    {
        let cpu = k.mem.cpu(0).unwrap();
        mm::mmap::init_caches(&k.mem).unwrap();
        mm::fault::init(&cpu).unwrap();
    }
    let before = settle(&k.mem);
    (k, before)
}

/// The PTE mapping `va` in `mm`, if any.
pub fn pte(mm: &mm::mmap::MmStruct<'_>, va: usize) -> Option<mm::pgtable::Pte> {
    mm.page_table_lock.lock().pt.as_ref().unwrap().lookup(va)
}
