//! slab_debug: red zones, poisoning and double-free detection, and that
//! none of it is on by default.

mod common;

use std::ptr::NonNull;

use common::Kernel;
use mm::{Gfp, KmemCache, MmError, SlabFlags};

const G: Gfp = Gfp::GFP_KERNEL;

fn debug_boot() -> Kernel {
    common::boot_cpus(32 << 20, 2, true)
}

fn poke(p: NonNull<u8>, off: isize, v: u8) {
    // SAFETY: tests poke inside the object's slab stride (object, red zones).
    unsafe { p.as_ptr().offset(off).write_volatile(v) }
}

fn peek(p: NonNull<u8>, off: isize) -> u8 {
    // SAFETY: as in `poke`.
    unsafe { p.as_ptr().offset(off).read_volatile() }
}

fn hex(p: NonNull<u8>) -> String {
    format!("{:#x}", p.as_ptr() as usize)
}

fn is_double_free(r: &Result<(), MmError>, p: NonNull<u8>, name: &str) -> bool {
    matches!(r, Err(MmError::DoubleFree { addr, cache }) if *addr == p.as_ptr() as usize && cache.as_str() == name)
}

#[test]
fn debug_caches_have_red_zones() {
    let k = debug_boot();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("dbg_geom", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    assert!(c.debug());
    assert!(
        c.size() >= 64 + 16,
        "stride {} leaves no room for two red zones",
        c.size()
    );
    for i in 0..mm::kmalloc::NR_KMALLOC_CACHES {
        assert!(
            mem.kmalloc_cache(i).debug(),
            "{} not debugged",
            mem.kmalloc_cache(i).name()
        );
    }
    assert_eq!(
        mem.slabinfo()
            .iter()
            .find(|r| r.name == "dbg_geom")
            .unwrap()
            .objsize,
        c.size()
    );
}

#[test]
fn double_free_of_an_older_object() {
    let k = debug_boot();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("dbg_df", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let a = cpu.kmem_cache_alloc(&c, G).unwrap();
    let b = cpu.kmem_cache_alloc(&c, G).unwrap();
    cpu.kmem_cache_free(&c, a).unwrap();
    cpu.kmem_cache_free(&c, b).unwrap();
    let active = c.active_objs();
    let r = cpu.kmem_cache_free(&c, a);
    assert!(is_double_free(&r, a, "dbg_df"), "{r:?}");
    let log = k.log();
    assert!(
        log.contains("BUG dbg_df") && log.contains("Object already free"),
        "{log:?}"
    );
    assert!(
        log.contains(&hex(a)),
        "report does not name {}: {log:?}",
        hex(a)
    );
    assert_eq!(c.active_objs(), active);
    assert_eq!(c.errors(), 1);
    // Each object comes back exactly once.
    let x = cpu.kmem_cache_alloc(&c, G).unwrap();
    let y = cpu.kmem_cache_alloc(&c, G).unwrap();
    let z = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!((x, y), (b, a));
    assert!(z != a && z != b);
    k.clear_log();

    // An object already back in its slab (array cache drained): still caught.
    let keep = cpu.kmem_cache_alloc(&c, G).unwrap();
    cpu.kmem_cache_free(&c, x).unwrap();
    cpu.kmem_cache_shrink(&c);
    let before = c.slab_counts();
    let r = cpu.kmem_cache_free(&c, x);
    assert!(is_double_free(&r, x, "dbg_df"), "{r:?}");
    assert_eq!(
        c.slab_counts(),
        before,
        "refused free changed the slab lists"
    );
    // From the other CPU, too.
    drop(cpu);
    {
        let cpu1 = mem.cpu(1).unwrap();
        let r = cpu1.kmem_cache_free(&c, x);
        assert!(is_double_free(&r, x, "dbg_df"), "{r:?}");
    }
    let cpu = mem.cpu(0).unwrap();
    for p in [y, z, keep] {
        cpu.kmem_cache_free(&c, p).unwrap();
    }
    cpu.kmem_cache_shrink(&c);
    assert_eq!(c.active_objs(), 0);
    assert!(cpu.kmem_cache_destroy(c).is_ok());
}

#[test]
fn double_kfree_is_caught() {
    let k = debug_boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let a = cpu.kmalloc(100, G).unwrap();
    let b = cpu.kmalloc(100, G).unwrap();
    cpu.kfree(a.as_ptr()).unwrap();
    cpu.kfree(b.as_ptr()).unwrap();
    let r = cpu.kfree(a.as_ptr());
    assert!(is_double_free(&r, a, "kmalloc-128"), "{r:?}");
    assert!(k.log().contains("BUG kmalloc-128"));
    // The CPU-less path checks too.
    let n = mem.kmalloc_nocpu(40, G).unwrap();
    mem.kfree_nocpu(n.as_ptr()).unwrap();
    let r = mem.kfree_nocpu(n.as_ptr());
    assert!(is_double_free(&r, n, "kmalloc-64"), "{r:?}");
}

fn alloc_until(cpu: &mm::Cpu<'_>, c: &KmemCache, want: NonNull<u8>) -> Vec<NonNull<u8>> {
    let mut got = Vec::new();
    loop {
        let x = cpu.kmem_cache_alloc(c, G).unwrap();
        got.push(x);
        if x == want {
            return got;
        }
        assert!(got.len() < 10_000, "object never handed out again");
    }
}

#[test]
fn write_after_free_is_reported_on_next_allocation() {
    let k = debug_boot();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("dbg_uaf", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let a = cpu.kmem_cache_alloc(&c, G).unwrap();
    let others: Vec<_> = (0..10)
        .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
        .collect();
    cpu.kmem_cache_free(&c, a).unwrap();
    assert_eq!(peek(a, 0), 0x6b, "free object not poisoned");
    assert_eq!(peek(a, 63), 0xa5, "poison does not end with POISON_END");
    assert_eq!(k.log(), "");
    poke(a, 10, 0x00);
    let got = alloc_until(&cpu, &c, a);
    let log = k.log();
    assert!(
        log.contains("BUG dbg_uaf") && log.contains("Poison overwritten"),
        "{log:?}"
    );
    assert!(log.contains("@offset=10"), "{log:?}");
    assert_eq!(c.errors(), 1);
    k.clear_log();
    // Reported once: the next cycle is clean.
    for x in got {
        cpu.kmem_cache_free(&c, x).unwrap();
    }
    let got = alloc_until(&cpu, &c, a);
    assert_eq!(k.log(), "");

    // After travelling through the slab lists (array caches drained).
    let b = others[3];
    for x in got {
        cpu.kmem_cache_free(&c, x).unwrap();
    }
    cpu.kmem_cache_free(&c, b).unwrap();
    cpu.kmem_cache_shrink(&c);
    poke(b, 63, 0x00);
    let got = alloc_until(&cpu, &c, b);
    let log = k.log();
    assert!(
        log.contains("Poison overwritten") && log.contains("dbg_uaf") && log.contains("@offset=63"),
        "{log:?}"
    );
    for x in got
        .into_iter()
        .chain(others.into_iter().filter(|&x| x != b))
    {
        cpu.kmem_cache_free(&c, x).unwrap();
    }
    cpu.kmem_cache_shrink(&c);
    assert_eq!(c.active_objs(), 0);
}

#[test]
fn overrun_past_object_size_is_reported_on_free() {
    let k = debug_boot();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("dbg_rz", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let a = cpu.kmem_cache_alloc(&c, G).unwrap();
    let active = c.active_objs();
    poke(a, 64, 0x41);
    let r = cpu.kmem_cache_free(&c, a);
    assert_eq!(
        r,
        Err(MmError::Corrupted {
            addr: a.as_ptr() as usize,
            cache: mm::error::CacheName::new("dbg_rz"),
            what: "Right Redzone overwritten"
        })
    );
    let log = k.log();
    assert!(
        log.contains("BUG dbg_rz") && log.contains("Right Redzone overwritten"),
        "{log:?}"
    );
    assert!(log.contains(&hex(a)), "{log:?}");
    // Reported, repaired, and freed anyway (as Linux does).
    assert_eq!(
        c.active_objs(),
        active,
        "object should sit in the array cache"
    );
    let again = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!(again, a, "the corrupted object was not freed");
    k.clear_log();
    cpu.kmem_cache_free(&c, again).unwrap();
    assert_eq!(k.log(), "", "red zone not repaired");

    // Underrun: the left red zone.
    let b = cpu.kmem_cache_alloc(&c, G).unwrap();
    poke(b, -1, 0x42);
    let r = cpu.kmem_cache_free(&c, b);
    assert!(
        matches!(
            r,
            Err(MmError::Corrupted {
                what: "Left Redzone overwritten",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(k.log().contains("Left Redzone overwritten"));
    k.clear_log();

    // kmalloc objects are covered the same way.
    let m = cpu.kmalloc(64, G).unwrap();
    poke(m, 64, 0);
    let r = cpu.kfree(m.as_ptr());
    assert!(
        matches!(r, Err(MmError::Corrupted { what: "Right Redzone overwritten", cache, .. }) if cache.as_str() == "kmalloc-64"),
        "{r:?}"
    );
    assert!(k.log().contains("BUG kmalloc-64"));
}

/// One byte past an object whose size is not a multiple of 8 lands in the
/// alignment padding before the right red-zone word: SLUB's red zone starts
/// right at object_size and catches it; ferrite does not.
#[test]

fn overrun_of_odd_sized_object_is_reported() {
    let k = debug_boot();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("dbg_odd", 20, 0, SlabFlags::empty(), None)
        .unwrap();
    let cpu = mem.cpu(0).unwrap();
    let a = cpu.kmem_cache_alloc(&c, G).unwrap();
    poke(a, 20, 0x41);
    let r = cpu.kmem_cache_free(&c, a);
    assert!(
        matches!(
            r,
            Err(MmError::Corrupted {
                what: "Right Redzone overwritten",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(k.log().contains("Right Redzone overwritten"));
}

static CTOR_SEEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn ctor(p: NonNull<u8>) {
    CTOR_SEEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: the cache's objects are 32 bytes.
    unsafe { p.as_ptr().cast::<u64>().write(0x1234_5678) };
}

/// Constructed objects must keep their state while free, so they are
/// red-zoned but not poisoned.
#[test]
fn constructed_objects_are_not_poisoned() {
    let k = debug_boot();
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("dbg_ctor", 32, 0, SlabFlags::empty(), Some(ctor))
        .unwrap();
    assert!(c.debug());
    let cpu = mem.cpu(0).unwrap();
    let a = cpu.kmem_cache_alloc(&c, G).unwrap();
    let _b = cpu.kmem_cache_alloc(&c, G).unwrap();
    // SAFETY: a is a live 32-byte object.
    assert_eq!(unsafe { a.as_ptr().cast::<u64>().read() }, 0x1234_5678);
    poke(a, 8, 0x77);
    cpu.kmem_cache_free(&c, a).unwrap();
    assert_eq!(peek(a, 0), 0x78, "constructed state lost while free");
    assert_eq!(peek(a, 8), 0x77);
    let back = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!(back, a);
    assert_eq!(k.log(), "");
    cpu.kmem_cache_free(&c, a).unwrap();
    let r = cpu.kmem_cache_free(&c, a);
    assert!(is_double_free(&r, a, "dbg_ctor"), "{r:?}");
    assert!(CTOR_SEEN.load(std::sync::atomic::Ordering::Relaxed) >= c.objs_per_slab());
}

#[test]
fn slab_debug_flag_enables_one_cache() {
    let k = common::boot_cpus(32 << 20, 2, false);
    let mem = &k.mem;
    let plain = mem
        .kmem_cache_create("plain", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    let dbg = mem
        .kmem_cache_create("flagged", 64, 0, SlabFlags::SLAB_DEBUG, None)
        .unwrap();
    assert!(!plain.debug() && dbg.debug());
    assert!(dbg.size() > plain.size());
    let cpu = mem.cpu(0).unwrap();
    let a = cpu.kmem_cache_alloc(&dbg, G).unwrap();
    poke(a, 64, 1);
    assert!(matches!(
        cpu.kmem_cache_free(&dbg, a),
        Err(MmError::Corrupted { .. })
    ));
    assert!(k.log().contains("BUG flagged"));
}

/// Without slab_debug: no red zones, no poison, nothing reported, and the
/// objects are packed tighter.
#[test]
fn off_by_default() {
    let k = common::boot_cpus(32 << 20, 2, false);
    let mem = &k.mem;
    let c = mem
        .kmem_cache_create("nodbg", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    assert!(!c.debug());
    assert_eq!(c.size(), 64);
    for i in 0..mm::kmalloc::NR_KMALLOC_CACHES {
        let kc = mem.kmalloc_cache(i);
        assert!(!kc.debug());
        assert_eq!(kc.size(), kc.object_size(), "{}", kc.name());
    }
    let dk = debug_boot();
    let dc = dk
        .mem
        .kmem_cache_create("nodbg", 64, 0, SlabFlags::empty(), None)
        .unwrap();
    assert!(dc.size() > c.size());
    assert!(dc.objs_per_slab() < c.objs_per_slab());

    let cpu = mem.cpu(0).unwrap();
    let objs: Vec<_> = (0..4)
        .map(|_| cpu.kmem_cache_alloc(&c, G).unwrap())
        .collect();
    let a = objs[0];
    poke(a, 0, 0x11);
    cpu.kmem_cache_free(&c, a).unwrap();
    assert_eq!(
        peek(a, 0),
        0x11,
        "free objects are not poisoned without debug"
    );
    poke(a, 5, 0x22); // write after free
    let back = cpu.kmem_cache_alloc(&c, G).unwrap();
    assert_eq!(back, a);
    assert_eq!(peek(a, 5), 0x22);
    assert_eq!(cpu.kmem_cache_free(&c, a), Ok(()));
    assert_eq!(k.log(), "", "nothing is checked without slab_debug");
    assert_eq!(c.errors(), 0);
}
