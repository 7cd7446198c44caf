mod common;
use mm::{Gfp, SlabFlags};

#[test]
fn boot_alloc_free_round_trip() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let free0 = mem.nr_free_pages() + mem.nr_pcp_pages();
    let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 3).unwrap();
    assert_eq!(p.refcount(), 1);
    let a = cpu.__get_free_page(Gfp::GFP_KERNEL).unwrap();
    let z = cpu.get_zeroed_page(Gfp::GFP_KERNEL).unwrap();
    cpu.free_page(a).unwrap();
    cpu.free_page(z).unwrap();
    cpu.__free_pages(p, 3).unwrap();
    let x = cpu.kmalloc(100, Gfp::GFP_KERNEL).unwrap();
    assert_eq!(mem.ksize(x.as_ptr()), 128);
    cpu.kfree(x.as_ptr()).unwrap();
    let big = cpu.kmalloc(100_000, Gfp::GFP_KERNEL).unwrap();
    assert_eq!(mem.ksize(big.as_ptr()), 128 << 10);
    cpu.kfree(big.as_ptr()).unwrap();
    let c = mem
        .kmem_cache_create("dog", 40, 0, SlabFlags::empty(), None)
        .unwrap();
    let o = cpu.kmem_cache_alloc(&c, Gfp::GFP_KERNEL).unwrap();
    cpu.kmem_cache_free(&c, o).unwrap();
    assert!(cpu.kmem_cache_destroy(c).is_ok());
    for c in mem.caches() {
        cpu.kmem_cache_shrink(c);
    }
    assert_eq!(mem.nr_free_pages() + mem.nr_pcp_pages(), free0);
    assert_eq!(k.log(), "");
}
