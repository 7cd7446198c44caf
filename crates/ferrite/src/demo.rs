//! The boot demonstration: the course notes' kernel examples, run for real
//! on ferrite's memory manager.
//!
//! - kernel/fork.c: `fork_init()`'s `task_struct` cache, `dup_task_struct()`
//!   allocating a descriptor per fork, `free_task_struct()` on exit;
//! - mm/page_alloc.c: `__get_free_pages(GFP_KERNEL, 3)` and `free_pages()`;
//! - include/linux/slab.h: a `kmalloc`'d `struct dog`, then `kfree`.
//!
//! Some task_structs stay allocated at the end, as in a running kernel, so
//! the reports that follow show live objects.

use std::fmt;
use std::io::{self, Write};
use std::ptr::NonNull;

use mm::{Gfp, Mem, MmError, StdCache};

/// How many tasks the demonstration forks.
pub const NR_FORKS: usize = 8;
/// Which of them (by pid) exit again.
pub const EXITED_PIDS: [usize; 3] = [3, 5, 8];

/// The notes' `struct dog`, laid out as C would.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Dog {
    name: [u8; 16],
    age: u32,
    weight_kg: u32,
}

impl Dog {
    fn new(name: &str, age: u32, weight_kg: u32) -> Dog {
        let mut n = [0u8; 16];
        let len = name.len().min(15);
        n[..len].copy_from_slice(&name.as_bytes()[..len]);
        Dog {
            name: n,
            age,
            weight_kg,
        }
    }

    fn name(&self) -> String {
        let len = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.name.len());
        String::from_utf8_lossy(&self.name[..len]).into_owned()
    }
}

/// Why the demonstration stopped.
#[derive(Debug)]
pub enum DemoError {
    /// Writing the narration failed.
    Io(io::Error),
    /// An allocation failed or a free was refused.
    Mm { step: &'static str, why: String },
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemoError::Io(e) => write!(f, "cannot write output: {e}"),
            DemoError::Mm { step, why } => write!(f, "{step} failed: {why}"),
        }
    }
}

impl From<io::Error> for DemoError {
    fn from(e: io::Error) -> Self {
        DemoError::Io(e)
    }
}

fn oom(step: &'static str) -> DemoError {
    DemoError::Mm {
        step,
        why: "out of memory".into(),
    }
}

fn refused(step: &'static str) -> impl FnOnce(MmError) -> DemoError {
    move |e| DemoError::Mm {
        step,
        why: e.to_string(),
    }
}

/// Run the examples on CPU 0, narrating each step to `out` (pass
/// `io::sink()` to run quietly). Returns the pids whose task_structs are
/// still allocated.
pub fn run(mem: &Mem, out: &mut dyn Write) -> Result<Vec<usize>, DemoError> {
    let cpu = mem.cpu(0).map_err(|e| DemoError::Mm {
        step: "claiming cpu 0",
        why: e.to_string(),
    })?;
    let kib = |pages: usize| pages * (mm::PAGE_SIZE >> 10);
    writeln!(
        out,
        "Memory: {}K/{}K available ({}K reserved for the mem_map and the boot kmem_cache), {} CPUs, slab_debug {}",
        kib(mem.managed_pages()),
        kib(mem.nr_pages()),
        kib(mem.reserved_pages()),
        mem.nr_cpus(),
        if mem.config().slab_debug { "on" } else { "off" },
    )?;

    // fork_init: the task_struct cache (created by the mm's kmem_cache_init
    // as a standard cache, with sizeof(struct task_struct) from MemConfig).
    let tsk_cache = mem.std_cache(StdCache::TaskStruct);
    let padded = if tsk_cache.size() != tsk_cache.object_size() {
        let debug = if mem.config().slab_debug {
            " and debug red zones"
        } else {
            ""
        };
        format!(
            " ({} bytes per object with alignment{debug})",
            tsk_cache.size()
        )
    } else {
        String::new()
    };
    writeln!(
        out,
        "fork_init: kmem_cache_create(\"task_struct\", ...): sizeof(struct task_struct) = {}{padded}, {} objects per slab, slab order {} ({} pages)",
        tsk_cache.object_size(),
        tsk_cache.objs_per_slab(),
        tsk_cache.order(),
        1usize << tsk_cache.order(),
    )?;

    // dup_task_struct, once per fork.
    let mut tasks: Vec<(usize, NonNull<u8>)> = Vec::with_capacity(NR_FORKS);
    for pid in 1..=NR_FORKS {
        let tsk = cpu
            .kmem_cache_alloc(tsk_cache, Gfp::GFP_KERNEL)
            .ok_or_else(|| oom("dup_task_struct"))?;
        tasks.push((pid, tsk));
    }
    let info = tsk_cache.slabinfo();
    writeln!(
        out,
        "dup_task_struct: tsk = kmem_cache_alloc(task_struct_cachep, GFP_KERNEL) for pids 1-{NR_FORKS}: the cache now has {} slabs, {}/{} objects active (SLAB counts objects in per-CPU array caches as active)",
        info.num_slabs, info.active_objs, info.num_objs,
    )?;

    // free_task_struct for the tasks that exit.
    for pid in EXITED_PIDS {
        let i = tasks
            .iter()
            .position(|&(p, _)| p == pid)
            .expect("forked above");
        let (_, tsk) = tasks.remove(i);
        cpu.kmem_cache_free(tsk_cache, tsk)
            .map_err(refused("free_task_struct"))?;
    }
    let live: Vec<usize> = tasks.iter().map(|&(p, _)| p).collect();
    writeln!(
        out,
        "free_task_struct: kmem_cache_free(task_struct_cachep, tsk) for exited pids {}: {} task_structs still live",
        join(&EXITED_PIDS),
        live.len(),
    )?;

    // Pages straight from the buddy allocator.
    let page = cpu
        .__get_free_pages(Gfp::GFP_KERNEL, 3)
        .ok_or_else(|| oom("__get_free_pages"))?;
    let pfn = mem
        .virt_to_pfn(page.as_ptr() as usize)
        .expect("a page of our RAM");
    writeln!(
        out,
        "__get_free_pages(GFP_KERNEL, 3) = {:#x}: 8 contiguous pages, pfn {pfn:#x}-{:#x}",
        page.as_ptr() as usize,
        pfn + 7,
    )?;
    cpu.free_pages(page, 3).map_err(refused("free_pages"))?;
    writeln!(
        out,
        "free_pages({:#x}, 3): the 8 pages are back with the page allocator",
        page.as_ptr() as usize
    )?;

    // kmalloc(sizeof(struct dog), GFP_KERNEL).
    let size = std::mem::size_of::<Dog>();
    let buf = cpu
        .kmalloc(size, Gfp::GFP_KERNEL)
        .ok_or_else(|| oom("kmalloc"))?;
    let at = buf.as_ptr() as usize;
    writeln!(
        out,
        "kmalloc(sizeof(struct dog) = {size}, GFP_KERNEL) = {at:#x}: a {}-byte object of kmalloc-{}",
        mem.ksize(buf.as_ptr()),
        mem.ksize(buf.as_ptr()),
    )?;
    let dog = buf.cast::<Dog>();
    assert!(
        at % std::mem::align_of::<Dog>() == 0,
        "kmalloc returns 8-byte aligned memory"
    );
    // SAFETY: kmalloc returned at least size_of::<Dog>() bytes of ferrite's
    // RAM, aligned for Dog (checked above), that nothing else uses until
    // the kfree below.
    let back = unsafe {
        dog.as_ptr().write(Dog::new("Laika", 3, 6));
        dog.as_ptr().read()
    };
    writeln!(
        out,
        "struct dog at {at:#x}: name \"{}\", age {}, {} kg (written to ferrite's RAM and read back)",
        back.name(),
        back.age,
        back.weight_kg,
    )?;
    cpu.kfree(buf.as_ptr()).map_err(refused("kfree"))?;
    writeln!(out, "kfree({at:#x})")?;

    writeln!(
        out,
        "running: task_structs of pids {} stay allocated",
        join(&live)
    )?;
    out.flush()?;
    Ok(live)
}

fn join(pids: &[usize]) -> String {
    pids.iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dog_is_laid_out_like_c() {
        assert_eq!(std::mem::size_of::<Dog>(), 24);
        assert_eq!(Dog::new("Laika", 3, 6).name(), "Laika");
        assert_eq!(Dog::new("a-very-long-dog-name", 1, 1).name().len(), 15);
    }
}
