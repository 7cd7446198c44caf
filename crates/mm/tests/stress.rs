//! Many CPUs at once: a seeded random mix of page, cache and kmalloc
//! allocations per thread, each block stamped and verified before it is
//! freed (an overlap between threads shows as a broken stamp), then full
//! accounting once everything is back. Also drains served while running,
//! and running out of memory on several CPUs.

mod common;
use common::settle;

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::Kernel;
use mm::percpu::CpuClaimError;
use mm::{Cpu, Gfp, KmemCache, Mem, Page, SlabFlags, StdCache, PAGE_SIZE};

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() >> 16) as usize % n
    }
}

/// Abort the whole test binary if `f` does not finish in time (a deadlock
/// would otherwise hang the suite).
fn with_watchdog<R>(secs: u64, what: &str, f: impl FnOnce() -> R) -> R {
    let (tx, rx) = mpsc::channel::<()>();
    let what = what.to_string();
    let dog = std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(secs)) == Err(mpsc::RecvTimeoutError::Timeout) {
            eprintln!("watchdog: {what} did not finish in {secs} s (deadlock?)");
            std::process::abort();
        }
    });
    let r = f();
    let _ = tx.send(());
    dog.join().unwrap();
    r
}

/// Claim `id`, retrying while another CPU's drain briefly holds it.
fn claim(mem: &Mem, id: usize) -> Cpu<'_> {
    loop {
        match mem.cpu(id) {
            Ok(c) => return c,
            Err(CpuClaimError::Busy(_)) => std::thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
}

enum What<'a> {
    Pages(&'a Page, u32),
    Obj(&'a KmemCache, NonNull<u8>),
    Kmalloc(NonNull<u8>),
}

struct Item<'a> {
    what: What<'a>,
    addr: *mut u8,
    len: usize,
    stamp: u64,
}

fn pattern(stamp: u64, i: usize) -> u8 {
    ((stamp >> ((i % 8) * 8)) as u8) ^ (i as u8).wrapping_mul(31)
}

/// Stamp the first 64 bytes and the last 8 of a block.
fn offsets(len: usize) -> impl Iterator<Item = usize> {
    (0..len.min(64)).chain(len.saturating_sub(8).max(64)..len)
}

fn write_stamp(it: &Item<'_>) {
    for i in offsets(it.len) {
        // SAFETY: the block is ours and `len` bytes long.
        unsafe { it.addr.add(i).write(pattern(it.stamp, i)) };
    }
}

fn verify(it: &Item<'_>) {
    for i in offsets(it.len) {
        // SAFETY: as in `stamp`.
        let b = unsafe { it.addr.add(i).read() };
        assert_eq!(
            b,
            pattern(it.stamp, i),
            "block {:?}+{i} (len {}) overwritten by someone else",
            it.addr,
            it.len
        );
    }
}

struct Mix<'a> {
    caches: Vec<&'a KmemCache>,
    gfp: Gfp,
    ops: usize,
    max_live: usize,
    /// Allocations that failed (allowed: memory may run short).
    failed: AtomicUsize,
    done: AtomicUsize,
    /// Keep going past `ops` until this counter reaches the target.
    until: Option<(&'a AtomicUsize, usize)>,
}

fn alloc_one<'a>(cpu: &Cpu<'a>, mix: &Mix<'a>, rng: &mut Rng, serial: u64) -> Option<Item<'a>> {
    let mem = cpu.mem();
    let stamp = rng.next() ^ serial;
    let kind = rng.below(100);
    let (what, addr, len) = if kind < 30 {
        let r = rng.below(100);
        let order = match r {
            0..=49 => 0,
            50..=74 => 1 + rng.below(3) as u32,
            75..=94 => 4 + rng.below(3) as u32,
            _ => 7 + rng.below(4) as u32,
        };
        let p = cpu.alloc_pages(mix.gfp, order)?;
        assert_eq!(p.refcount(), 1);
        (
            What::Pages(p, order),
            mem.page_address(p).as_ptr(),
            PAGE_SIZE << order,
        )
    } else if kind < 65 {
        let c = mix.caches[rng.below(mix.caches.len())];
        let o = cpu.kmem_cache_alloc(c, mix.gfp)?;
        (What::Obj(c, o), o.as_ptr(), c.object_size())
    } else {
        let r = rng.below(100);
        let size = match r {
            0..=69 => 1 + rng.below(512),
            70..=94 => 513 + rng.below(8192 - 512),
            _ => 8193 + rng.below(65536 - 8192),
        };
        let p = cpu.kmalloc(size, mix.gfp)?;
        assert!(mem.ksize(p.as_ptr()) >= size);
        (What::Kmalloc(p), p.as_ptr(), size)
    };
    assert!(mem.contains(addr as usize, len));
    let it = Item {
        what,
        addr,
        len,
        stamp,
    };
    write_stamp(&it);
    Some(it)
}

fn free_one(cpu: &Cpu<'_>, it: Item<'_>) {
    verify(&it);
    let r = match it.what {
        What::Pages(p, order) => cpu.__free_pages(p, order),
        What::Obj(c, o) => cpu.kmem_cache_free(c, o),
        What::Kmalloc(p) => cpu.kfree(p.as_ptr()),
    };
    assert_eq!(r, Ok(()));
}

/// One hart: `ops` random allocations and frees, then free everything.
fn worker(mem: &Mem, id: usize, seed: u64, mix: &Mix<'_>) {
    let cpu = claim(mem, id);
    cpu.set_comm(&format!("stress/{id}"));
    let mut rng = Rng::new(seed ^ (id as u64) << 32);
    let mut live: Vec<Item<'_>> = Vec::new();
    let mut n = 0;
    while n < mix.ops
        || mix
            .until
            .is_some_and(|(c, t)| c.load(Ordering::Relaxed) < t)
    {
        n += 1;
        let r = rng.below(100);
        if !live.is_empty() && (live.len() >= mix.max_live || r < 45) {
            let i = rng.below(live.len());
            free_one(&cpu, live.swap_remove(i));
        } else {
            match alloc_one(&cpu, mix, &mut rng, n as u64) {
                Some(it) => live.push(it),
                None => {
                    mix.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    for it in live.drain(..) {
        free_one(&cpu, it);
    }
    drop(cpu);
    mix.done.fetch_add(1, Ordering::SeqCst);
}

fn boot(threads: usize) -> Kernel {
    common::boot_cpus(128 << 20, threads, false)
}

fn run_mix(threads: usize, seed: u64) {
    let k = boot(threads);
    let mem = &k.mem;
    let test_cache = mem
        .kmem_cache_create("stress_cache", 200, 0, SlabFlags::empty(), None)
        .unwrap();
    let base = settle(mem);
    let mix = Mix {
        caches: vec![
            &*test_cache,
            mem.std_cache(StdCache::VmAreaStruct),
            mem.std_cache(StdCache::TaskStruct),
        ],
        gfp: Gfp::GFP_KERNEL | Gfp::__GFP_NOWARN,
        ops: 1_200_000 / threads,
        max_live: 150,
        failed: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        until: None,
    };
    with_watchdog(120, &format!("{threads}-thread mix"), || {
        std::thread::scope(|s| {
            for id in 0..threads {
                let mix = &mix;
                s.spawn(move || worker(mem, id, seed, mix));
            }
        });
    });
    assert_eq!(mix.done.load(Ordering::SeqCst), threads);
    eprintln!(
        "{threads} threads: {} of {} allocations failed",
        mix.failed.load(Ordering::Relaxed),
        threads * mix.ops
    );
    assert!(
        mix.failed.load(Ordering::Relaxed) < mix.ops / 10,
        "too many failures for 128 MiB"
    );
    assert_eq!(settle(mem), base, "pages or objects leaked");
    let log = k.log();
    assert!(!log.contains("BUG"), "{log}");
}

#[test]
fn mix_2_threads() {
    run_mix(2, 0x1234);
}

#[test]
fn mix_4_threads() {
    run_mix(4, 0xBEEF);
}

#[test]
fn mix_8_threads() {
    run_mix(8, 0xF00D);
}

/// Two harts keep shrinking caches (each shrink drains every CPU, served
/// by the allocating harts at their next mm call) while two allocate.
#[test]
fn shrink_while_others_allocate() {
    let threads = 4;
    let k = boot(threads);
    let mem = &k.mem;
    let test_cache = mem
        .kmem_cache_create("stress_shrink", 96, 0, SlabFlags::empty(), None)
        .unwrap();
    let base = settle(mem);
    let shrinks = AtomicUsize::new(0);
    let mix = Mix {
        caches: vec![&*test_cache, mem.std_cache(StdCache::FilesCache)],
        gfp: Gfp::GFP_KERNEL | Gfp::__GFP_NOWARN,
        ops: 50_000,
        max_live: 200,
        failed: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        // Allocate until the shrinkers have drained every CPU many times.
        until: Some((&shrinks, 40)),
    };
    let freed = AtomicUsize::new(0);
    with_watchdog(120, "shrink while allocating", || {
        std::thread::scope(|s| {
            for id in 0..2 {
                let mix = &mix;
                s.spawn(move || worker(mem, id, 77, mix));
            }
            for id in 2..4 {
                let (mix, shrinks, freed, tc) = (&mix, &shrinks, &freed, &*test_cache);
                s.spawn(move || {
                    let cpu = claim(mem, id);
                    let targets = [
                        tc,
                        mem.std_cache(StdCache::FilesCache),
                        mem.kmalloc_cache(3),
                        mem.kmalloc_cache(8),
                    ];
                    let mut i = 0;
                    while mix.done.load(Ordering::SeqCst) < 2 {
                        freed.fetch_add(
                            cpu.kmem_cache_shrink(targets[i % targets.len()]),
                            Ordering::Relaxed,
                        );
                        shrinks.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                });
            }
        });
    });
    eprintln!(
        "shrinks {} freed {}",
        shrinks.load(Ordering::Relaxed),
        freed.load(Ordering::Relaxed)
    );
    assert!(
        shrinks.load(Ordering::Relaxed) >= 40,
        "shrinkers barely ran"
    );
    assert_eq!(settle(mem), base);
    assert!(!k.log().contains("BUG"), "{}", k.log());
}

/// Four harts allocate with GFP_KERNEL until memory runs out, hold it while
/// the others do too (polling, as a hart with preemption off would), then
/// free everything. Direct reclaim on one hart drains the others.
#[test]
fn out_of_memory_on_four_cpus() {
    let threads = 4;
    let k = common::boot_cpus(16 << 20, threads, false);
    let mem = &k.mem;
    let base = settle(mem);
    let arrived = AtomicUsize::new(0);
    let total_items = AtomicUsize::new(0);
    let go = AtomicBool::new(false);
    with_watchdog(120, "out of memory", || {
        std::thread::scope(|s| {
            for id in 0..threads {
                let (arrived, total_items, go) = (&arrived, &total_items, &go);
                s.spawn(move || {
                    let cpu = claim(mem, id);
                    let mix = Mix {
                        caches: vec![mem.std_cache(StdCache::SignalCache), mem.kmalloc_cache(5)],
                        gfp: Gfp::GFP_KERNEL,
                        ops: 0,
                        max_live: usize::MAX,
                        failed: AtomicUsize::new(0),
                        done: AtomicUsize::new(0),
                        until: None,
                    };
                    // Start together so the harts compete for the last pages.
                    while !go.load(Ordering::SeqCst) {
                        cpu.poll();
                        std::thread::yield_now();
                    }
                    let mut rng = Rng::new(id as u64 + 99);
                    let mut live = Vec::new();
                    let mut fails = 0;
                    let mut n = 0u64;
                    while fails < 5 {
                        n += 1;
                        match alloc_one(&cpu, &mix, &mut rng, n) {
                            Some(it) => {
                                live.push(it);
                                fails = 0;
                            }
                            None => fails += 1,
                        }
                    }
                    total_items.fetch_add(live.len(), Ordering::SeqCst);
                    arrived.fetch_add(1, Ordering::SeqCst);
                    while arrived.load(Ordering::SeqCst) < threads {
                        cpu.poll();
                        std::thread::yield_now();
                    }
                    // Everyone is out of memory now: a small GFP_KERNEL request fails.
                    let p = cpu.alloc_pages(Gfp::GFP_KERNEL | Gfp::__GFP_NOWARN, 3);
                    if let Some(p) = p {
                        cpu.__free_pages(p, 3).unwrap();
                    }
                    for it in live {
                        free_one(&cpu, it);
                    }
                });
            }
            go.store(true, Ordering::SeqCst);
        });
    });
    assert!(total_items.load(Ordering::SeqCst) > 100);
    let log = k.log();
    assert!(
        log.contains("page allocation failure"),
        "no failure report: {log}"
    );
    assert!(log.contains("stress/") || log.contains("swapper/"), "{log}");
    assert!(!log.contains("BUG"), "{log}");
    assert_eq!(settle(mem), base);
}
