//! `Cpu::blocking`: a CPU whose thread blocks in the host is drained by
//! the CPU that needs it drained, instead of deadlocking that CPU.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use mm::gfp::Gfp;
use mm::slab::StdCache;

#[test]
fn a_blocked_cpu_is_drained_by_the_requester() {
    let k = common::boot_cpus(64 << 20, 2, false);
    let mem = &k.mem;
    let (to_blocker, blocked_rx) = mpsc::channel::<()>();
    let (ready_tx, ready) = mpsc::channel::<()>();
    let (done_tx, done) = mpsc::channel::<usize>();
    std::thread::scope(|s| {
        s.spawn(move || {
            let cpu = mem.cpu(1).unwrap();
            // Leave pages on CPU 1's per-CPU list.
            let pages: Vec<_> = (0..8)
                .map(|_| cpu.alloc_page(Gfp::GFP_KERNEL).unwrap())
                .collect();
            for p in pages {
                cpu.__free_pages(p, 0).unwrap();
            }
            assert!(mem.pcp_count(1) > 0);
            ready_tx.send(()).unwrap();
            // Block (as a read from a terminal would) until the other CPU
            // has drained everything.
            cpu.blocking(move || blocked_rx.recv().unwrap());
            // The guard is ours again and works.
            let p = cpu.alloc_page(Gfp::GFP_KERNEL).unwrap();
            cpu.__free_pages(p, 0).unwrap();
        });
        ready.recv().unwrap();
        s.spawn(move || {
            let cpu = mem.cpu(0).unwrap();
            // Shrinking drains every CPU's caches, CPU 1's included.
            cpu.kmem_cache_shrink(mem.std_cache(StdCache::TaskStruct));
            done_tx.send(mem.pcp_count(1)).unwrap();
        });
        let left = done.recv_timeout(Duration::from_secs(20));
        // Unblock CPU 1 before judging, so a failure ends the test.
        to_blocker.send(()).unwrap();
        let left = left.expect("the drain waited for a CPU blocked in the host");
        assert_eq!(left, 0, "CPU 1's per-CPU list was not drained");
    });
}
