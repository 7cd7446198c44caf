//! ASID-tagged TLBs: a satp write flushes nothing, entries of other ASIDs
//! stay and are not used, `sfence.vma` by ASID drops only that ASID's
//! (non-global) entries, global entries match any ASID, the ASID width
//! (ASIDLEN) the hart implements, and the remote flush by ASID.
mod common;
use common::asm::*;
use common::*;
use rv64::mmu::PTE_G;
use rv64::Exit;

const VA: u64 = 0x50000;

fn satp_of(root: u64, asid: u64) -> u64 {
    (9 << 60) | (asid << 44) | (root >> 12)
}

/// Two address spaces: root 1 (the Env's) and a second root with the same
/// code; VA holds 1 in the first and 2 in the second. Returns the second
/// root and the physical pages of VA in each.
fn two_spaces(env: &mut Env) -> (u64, u64, u64) {
    let mut p = li(A0, VA);
    p.extend([ld(A1, A0, 0), ECALL]);
    env.load(&p);
    let pa1 = env.map_new(VA, URW | AD);
    env.w64(pa1, 1);
    let code = env.pa(CODE) & !0xfff;
    let root1 = env.root;
    let root2 = env.alloc_page();
    env.root = root2;
    env.map(CODE, code, URX | AD);
    let pa2 = env.map_new(VA, URW | AD);
    env.w64(pa2, 2);
    env.root = root1;
    (root2, pa1, pa2)
}

fn load_va(h: &mut rv64::Hart) -> u64 {
    h.set_pc(CODE);
    assert_eq!(h.run(100), Exit::Ecall);
    h.x(A1 as usize)
}

#[test]
fn entries_of_each_asid_live_side_by_side() {
    let mut env = Env::new(1);
    let (root2, pa1, _) = two_spaces(&mut env);
    let mut h = env.hart(0);
    h.set_satp(satp_of(env.root, 1));
    assert_eq!(load_va(&mut h), 1);
    h.set_satp(satp_of(root2, 2));
    assert_eq!(load_va(&mut h), 2);
    // Remap VA in space 1 behind the TLB's back: the ASID-1 entry is
    // still cached (no flush at the satp writes), and used.
    let pa3 = env.alloc_page();
    env.w64(pa3, 3);
    env.map(VA, pa3, URW | AD);
    h.set_satp(satp_of(env.root, 1));
    assert_eq!(load_va(&mut h), 1, "the ASID-1 entry survived the switch");
    // A flush of ASID 2 leaves it; a flush of ASID 1 drops it.
    h.flush_tlb_asid(2, None);
    assert_eq!(load_va(&mut h), 1);
    h.flush_tlb_asid(1, Some((VA, VA + 4096)));
    assert_eq!(load_va(&mut h), 3);
    // ASID 2's entry was untouched by all that.
    env.w64(pa1, 9);
    h.set_satp(satp_of(root2, 2));
    assert_eq!(load_va(&mut h), 2);
}

#[test]
fn a_full_flush_drops_every_asid() {
    let mut env = Env::new(1);
    let (root2, _, pa2) = two_spaces(&mut env);
    let mut h = env.hart(0);
    h.set_satp(satp_of(root2, 2));
    assert_eq!(load_va(&mut h), 2);
    h.set_satp(satp_of(env.root, 1));
    assert_eq!(load_va(&mut h), 1);
    let _ = pa2;
    let root1 = env.root;
    env.root = root2;
    let pa4 = env.alloc_page();
    env.w64(pa4, 4);
    env.map(VA, pa4, URW | AD);
    env.root = root1;
    h.flush_tlb(None);
    h.set_satp(satp_of(root2, 2));
    assert_eq!(load_va(&mut h), 4);
}

#[test]
fn same_page_in_two_asids_do_not_evict_each_other() {
    // Many pages in both spaces, alternating: with ASID-hashed slots, a
    // switch back finds its entries (seen through a remap behind the TLB's
    // back: the old value means the entry was still cached).
    let mut env = Env::new(1);
    let (root2, _, _) = two_spaces(&mut env);
    let mut h = env.hart(0);
    h.set_satp(satp_of(env.root, 5));
    assert_eq!(load_va(&mut h), 1);
    h.set_satp(satp_of(root2, 6));
    assert_eq!(load_va(&mut h), 2);
    let pa3 = env.alloc_page();
    env.w64(pa3, 3);
    env.map(VA, pa3, URW | AD);
    h.set_satp(satp_of(env.root, 5));
    assert_eq!(load_va(&mut h), 1);
}

#[test]
fn global_entries_match_any_asid_and_survive_an_asid_flush() {
    let mut env = Env::new(1);
    let (root2, pa1, _) = two_spaces(&mut env);
    // VA is global in space 1; space 2 has it unmapped... but a global
    // translation is the same in every space, so the hart may use it.
    env.map(VA, pa1, URW | AD | PTE_G);
    let root1 = env.root;
    env.root = root2;
    env.set_pte(VA, 0);
    env.root = root1;
    let mut h = env.hart(0);
    h.set_satp(satp_of(root1, 1));
    assert_eq!(load_va(&mut h), 1);
    h.set_satp(satp_of(root2, 2));
    assert_eq!(load_va(&mut h), 1, "the global entry matched ASID 2");
    h.flush_tlb_asid(2, None);
    h.flush_tlb_asid(1, None);
    assert_eq!(load_va(&mut h), 1, "an ASID flush keeps global entries");
    h.flush_tlb(Some((VA, VA + 1)));
    h.set_pc(CODE);
    assert!(matches!(h.run(100), Exit::PageFault { addr: VA, .. }));
}

#[test]
fn asid_width_is_eleven_bits() {
    let env = Env::new(1);
    let mut h = env.hart(0);
    h.set_satp(satp_of(env.root, 0xffff));
    assert_eq!((h.satp() >> 44) & 0xffff, 0x7ff);
    assert_eq!(h.asid_bits(), 11);
    // Bare: the field is zero.
    h.set_satp(0xffff << 44);
    assert_eq!(h.satp(), 0);
}

#[test]
fn remote_flush_by_asid_reaches_a_hart_running_another_asid() {
    let mut env = Env::new(2);
    let (root2, _, pa2) = two_spaces(&mut env);
    let mut h = env.hart(1);
    h.set_satp(satp_of(env.root, 1));
    assert_eq!(load_va(&mut h), 1);
    h.set_satp(satp_of(root2, 2));
    assert_eq!(load_va(&mut h), 2);
    // Space 1 changes while hart 1 runs space 2 (outside run()): the
    // request waits in its mailbox.
    let pa3 = env.alloc_page();
    env.w64(pa3, 3);
    env.map(VA, pa3, URW | AD);
    env.machine.flush_tlb_asid(1 << 1, 1, Some((VA, VA + 4096)));
    // Space 2 changes too, unflushed: its entry must stay (only ASID 1
    // was flushed).
    let root1 = env.root;
    env.root = root2;
    let pa5 = env.alloc_page();
    env.w64(pa5, 5);
    env.map(VA, pa5, URW | AD);
    env.root = root1;
    assert_eq!(load_va(&mut h), 2, "ASID 2's entry kept");
    let _ = pa2;
    h.set_satp(satp_of(root1, 1));
    assert_eq!(load_va(&mut h), 3, "ASID 1's entry flushed");
}

#[test]
fn remote_flush_by_asid_reaches_a_hart_inside_run() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let mut env = Env::new(2);
    let pa1 = env.map_new(VA, URW | AD);
    let pa2 = env.alloc_page();
    env.w64(pa1, 1);
    env.w64(pa2, 2);
    // loop: a1 = *VA; if a1 == 1 goto loop; ecall
    let mut p = li(A0, VA);
    p.extend([ld(A1, A0, 0), addi(A2, ZERO, 1), beq(A1, A2, -8), ECALL]);
    env.load(&p);
    let mut h = env.hart(1);
    h.set_satp(satp_of(env.root, 3));
    h.set_pc(CODE);
    let started = Arc::new(AtomicBool::new(false));
    let s2 = started.clone();
    let t = std::thread::spawn(move || {
        s2.store(true, Ordering::SeqCst);
        let mut slices = 0u64;
        loop {
            match h.run(1 << 20) {
                Exit::Budget => {
                    slices += 1;
                    assert!(slices < 100_000, "never saw the new mapping");
                }
                e => return (h, e),
            }
        }
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    env.map(VA, pa2, URW | AD);
    // A flush of another ASID must not end the loop; ASID 3's must.
    env.machine.flush_tlb_asid(0b10, 4, None);
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(!t.is_finished(), "a flush of ASID 4 dropped ASID 3's entry");
    env.machine.flush_tlb_asid(0b10, 3, Some((VA, VA + 4096)));
    let (h, e) = t.join().unwrap();
    assert_eq!(e, Exit::Ecall);
    assert_eq!(h.x(A1 as usize), 2);
}
