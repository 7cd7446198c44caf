//! Sv48 page tables: entry format, index math, map/unmap/mprotect walks,
//! table-page accounting, ENOMEM, and a model-based property test.

mod common;

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mm::pgtable::pte::{
    _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_EXEC, _PAGE_READ, _PAGE_WRITE, MAX_PFN, VM_EXEC, VM_READ,
    VM_SHARED, VM_WRITE,
};
use mm::pgtable::{
    check_user_page, is_canonical, pgd_index, pmd_index, protection_map, pte_index, pud_index,
    FlushRange, PageTable, PgProt, PgtError, Pte, TlbFlush, PGDIR_SIZE, PMD_SIZE, PUD_SIZE,
    TASK_SIZE,
};
use mm::vmstat::NodeStatItem;
use mm::{MemConfig, PAGE_SIZE};
use proptest::prelude::*;

fn nr_pt(mem: &mm::Mem) -> usize {
    mem.vmstat.get(NodeStatItem::NrPageTable)
}

#[test]
fn pte_bit_layout_matches_the_spec() {
    // V=0x1 R=0x2 W=0x4 U=0x10 A=0x40 D=0x80 -> 0xd7; PPN at bit 10.
    let bits = 0xd7;
    let pte = Pte::new(0x12345, PgProt::new(bits).unwrap()).unwrap();
    assert_eq!(pte.val(), 0x48d_14d7);
    assert_eq!(pte.pfn(), 0x12345);
    assert_eq!(pte.flags(), 0xd7);
    assert!(pte.is_present() && pte.is_valid() && pte.is_leaf() && !pte.is_table());
    assert!(pte.is_read() && pte.is_write() && !pte.is_exec() && pte.is_user());
    assert!(pte.is_young() && pte.is_dirty());

    // Protections: V|A|U plus permissions; PROT_NONE is G|R with V clear.
    assert_eq!(PgProt::PAGE_READ.bits(), 0x53);
    assert_eq!(PgProt::PAGE_WRITE.bits(), 0x57);
    assert_eq!(PgProt::PAGE_EXEC.bits(), 0x59);
    assert_eq!(PgProt::PAGE_READ_EXEC.bits(), 0x5b);
    assert_eq!(PgProt::PAGE_WRITE_EXEC.bits(), 0x5f);
    assert_eq!(PgProt::PAGE_NONE.bits(), 0x22);

    // The largest PPN fills bits 10..=53; bits 54..=63 stay zero.
    let top = Pte::new(MAX_PFN, PgProt::PAGE_READ).unwrap();
    assert_eq!(top.val(), 0x003f_ffff_ffff_fc53);
    assert_eq!(top.val() >> 54, 0);
    assert!(Pte::new(MAX_PFN + 1, PgProt::PAGE_READ).is_none());

    // A pointer to the next level: V only.
    let t = Pte::table(0x80000);
    assert_eq!(t.val(), 0x2000_0001);
    assert!(t.is_table() && !t.is_leaf() && t.is_present());

    // PROT_NONE: present to software, invalid to the MMU.
    let n = Pte::new(0x42, PgProt::PAGE_NONE).unwrap();
    assert_eq!(n.val(), (0x42 << 10) | 0x22);
    assert!(n.is_present() && n.is_protnone() && !n.is_valid() && n.is_leaf());
    assert!(Pte::NONE.is_none() && !Pte::NONE.is_present());
}

#[test]
fn pte_modifiers() {
    let p = Pte::new(7, PgProt::PAGE_READ).unwrap();
    assert_eq!(p.mkwrite().val(), p.val() | _PAGE_WRITE);
    assert_eq!(p.mkwrite().wrprotect(), p);
    assert!(!p.mkold().is_young() && p.mkold().mkyoung().is_young());
    assert!(p.mkdirty().is_dirty() && !p.mkdirty().mkclean().is_dirty());
    assert_eq!(p.mkspecial().val() & (1 << 8), 1 << 8);
    assert_eq!(p.mkdevmap().val() & (1 << 9), 1 << 9);
    // W without R is reserved: mkwrite of an execute-only page adds R.
    let x = Pte::new(7, PgProt::PAGE_EXEC).unwrap().mkwrite();
    assert_eq!(
        x.flags() & (_PAGE_READ | _PAGE_WRITE | _PAGE_EXEC),
        _PAGE_READ | _PAGE_WRITE | _PAGE_EXEC
    );
    // pte_modify keeps PFN, A, D and the software bits.
    let d = Pte::new(9, PgProt::PAGE_WRITE)
        .unwrap()
        .mkdirty()
        .mkspecial();
    let r = d.modify(PgProt::PAGE_READ);
    assert_eq!(r.pfn(), 9);
    assert!(r.is_dirty() && r.is_young() && r.is_special() && !r.is_write());
    let none = d.modify(PgProt::PAGE_NONE);
    assert!(none.is_protnone() && !none.is_valid() && none.pfn() == 9);
    assert!(none.modify(PgProt::PAGE_WRITE).is_valid());
}

#[test]
fn protections_never_encode_w_without_r() {
    assert!(PgProt::new(_PAGE_WRITE | 1).is_none());
    assert!(PgProt::new(_PAGE_WRITE | _PAGE_EXEC | 1).is_none());
    assert!(PgProt::new(1).is_none(), "V alone is a pointer, not a leaf");
    assert!(
        PgProt::new(1 << 10).is_none(),
        "PPN bits are not a protection"
    );
    for vm in 0..16 {
        let b = protection_map(vm).bits();
        assert!(b & _PAGE_WRITE == 0 || b & _PAGE_READ != 0, "vm {vm:#x}");
        // Private writable mappings are read-only until the CoW fault.
        if vm & VM_SHARED == 0 {
            assert_eq!(b & _PAGE_WRITE, 0, "vm {vm:#x}");
        }
    }
    assert_eq!(protection_map(0), PgProt::PAGE_NONE);
    assert_eq!(protection_map(VM_READ), PgProt::PAGE_READ);
    assert_eq!(protection_map(VM_WRITE), PgProt::PAGE_COPY);
    assert_eq!(protection_map(VM_EXEC), PgProt::PAGE_EXEC);
    assert_eq!(protection_map(VM_READ | VM_EXEC), PgProt::PAGE_READ_EXEC);
    assert_eq!(
        protection_map(VM_READ | VM_WRITE | VM_EXEC),
        PgProt::PAGE_COPY_EXEC
    );
    assert_eq!(protection_map(VM_SHARED | VM_WRITE), PgProt::PAGE_SHARED);
    assert_eq!(
        protection_map(VM_SHARED | VM_READ | VM_WRITE),
        PgProt::PAGE_SHARED
    );
    assert_eq!(
        protection_map(VM_SHARED | VM_WRITE | VM_EXEC),
        PgProt::PAGE_SHARED_EXEC
    );
    assert_eq!(protection_map(VM_SHARED), PgProt::PAGE_NONE);
}

#[test]
fn index_extraction() {
    let idx = |va: usize| [pgd_index(va), pud_index(va), pmd_index(va), pte_index(va)];
    assert_eq!(idx(0), [0, 0, 0, 0]);
    assert_eq!(idx(0x1234_5678_9abc), [36, 209, 179, 393]);
    assert_eq!(idx(0x7fff_ffff_e000), [255, 511, 511, 510]);
    assert_eq!(idx(0x3fed_cba9_8000), [127, 439, 93, 152]);
    let va = 3 * PGDIR_SIZE + 5 * PUD_SIZE + 7 * PMD_SIZE + 9 * PAGE_SIZE + 0x123;
    assert_eq!(idx(va), [3, 5, 7, 9]);
    // The kernel half starts at pgd index 256.
    assert_eq!(pgd_index(0xffff_8000_0000_0000), 256);
    assert_eq!(TASK_SIZE, 1 << 47);
}

#[test]
fn canonical_addresses() {
    assert!(is_canonical(0));
    assert!(is_canonical(0x0000_7fff_ffff_ffff));
    assert!(!is_canonical(0x0000_8000_0000_0000));
    assert!(!is_canonical(0x1000_0000_0000_0000));
    assert!(is_canonical(0xffff_8000_0000_0000));
    assert!(!is_canonical(0xfffe_8000_0000_0000));
    assert_eq!(check_user_page(0x1000), Ok(()));
    assert_eq!(
        check_user_page(0x0000_8000_0000_0000),
        Err(PgtError::NonCanonical(0x0000_8000_0000_0000))
    );
    assert_eq!(
        check_user_page(0xffff_ffff_ffff_f000),
        Err(PgtError::KernelAddress(0xffff_ffff_ffff_f000))
    );
    assert_eq!(check_user_page(0x1001), Err(PgtError::Unaligned(0x1001)));
}

#[test]
fn map_lookup_unmap_round_trip() {
    let k = common::boot();
    let cpu = k.mem.cpu(0).unwrap();
    let mut pt = PageTable::new(&cpu).unwrap();
    let va = 0x1234_5678_9000;
    pt.map_page(&cpu, va, 0x777, PgProt::PAGE_WRITE).unwrap();
    let want = Pte::new(0x777, PgProt::PAGE_WRITE).unwrap();
    assert_eq!(pt.lookup(va), Some(want));
    assert_eq!(pt.lookup(va + 0xabc), Some(want), "any byte of the page");
    assert_eq!(pt.translate(va + 0xabc), Some((0x777 << 12) + 0xabc));
    assert_eq!(pt.lookup(va + PAGE_SIZE), None);

    // The walk shows each level and the entry the MMU would read.
    let w = pt.walk(va);
    let idx = [36, 209, 179, 393];
    let mut table = pt.pgd_pfn();
    for (level, e) in w.iter().enumerate() {
        let e = e.expect("four levels");
        assert_eq!((e.level, e.index, e.table_pfn), (level, idx[level], table));
        if level < 3 {
            assert!(e.entry.is_table());
            table = e.entry.pfn() as usize;
        } else {
            assert_eq!(e.entry, want);
        }
    }
    // The table pages are real RAM: read the pte slot through the direct map.
    let pte_table = k.mem.pfn_to_page(table).unwrap();
    let addr = k.mem.page_address(pte_table).as_ptr() as *const u64;
    // SAFETY: a table page of `pt`, 512 entries; nothing writes it meanwhile.
    assert_eq!(unsafe { addr.add(393).read_volatile() }, want.val());
    assert_eq!(
        pt.satp(),
        (9 << 60) | pt.pgd_pfn() as u64,
        "satp: MODE=Sv48, PPN"
    );

    let mut tlb = TlbFlush::new(0b101);
    assert_eq!(pt.unmap_page(va, &mut tlb), Some(want));
    assert_eq!(pt.lookup(va), None);
    assert_eq!(pt.unmap_page(va, &mut tlb), None);
    assert_eq!(
        tlb.range(),
        FlushRange::Range {
            start: va,
            end: va + PAGE_SIZE
        }
    );
    assert_eq!(tlb.cpus(), 0b101);
    // Remapping after unmap works.
    pt.map_page(&cpu, va, 0x778, PgProt::PAGE_READ).unwrap();
    assert_eq!(pt.lookup(va).unwrap().pfn(), 0x778);
    pt.destroy(&cpu);
}

#[test]
fn intermediate_tables_are_shared() {
    let k = common::boot();
    let cpu = k.mem.cpu(0).unwrap();
    let base_pt = nr_pt(&k.mem);
    let mut pt = PageTable::new(&cpu).unwrap();
    assert_eq!(pt.nr_tables(), 1);
    let va = 0x4000_0000;
    let steps = [
        (va, 4),
        (va + PAGE_SIZE, 4),
        (va + 511 * PAGE_SIZE, 4),
        (va + PMD_SIZE, 5),
        (va + PUD_SIZE, 7),
        (va + PGDIR_SIZE, 10),
        (va + PGDIR_SIZE + PAGE_SIZE, 10),
    ];
    for (a, tables) in steps {
        pt.map_page(&cpu, a, 1, PgProt::PAGE_READ).unwrap();
        assert_eq!(pt.nr_tables(), tables, "after mapping {a:#x}");
        assert_eq!(nr_pt(&k.mem), base_pt + tables);
    }
    assert_eq!(pt.pgtables_bytes(), 10 * PAGE_SIZE);
    // Neighbours share every level.
    let (a, b) = (pt.walk(va), pt.walk(va + PAGE_SIZE));
    for l in 0..4 {
        assert_eq!(a[l].unwrap().table_pfn, b[l].unwrap().table_pfn);
    }
    assert_eq!(pt.destroy(&cpu), steps.len(), "leaves left mapped");
    assert_eq!(nr_pt(&k.mem), base_pt);
}

#[test]
fn bad_addresses_and_double_map_are_refused() {
    let k = common::boot();
    let cpu = k.mem.cpu(0).unwrap();
    let mut pt = PageTable::new(&cpu).unwrap();
    let p = PgProt::PAGE_READ;
    for (va, err) in [
        (
            0x0000_8000_0000_0000,
            PgtError::NonCanonical(0x0000_8000_0000_0000),
        ),
        (
            0x1234_0000_0000_0000,
            PgtError::NonCanonical(0x1234_0000_0000_0000),
        ),
        (
            0xffff_8000_0000_0000,
            PgtError::KernelAddress(0xffff_8000_0000_0000),
        ),
        (
            0xffff_ffff_ffff_f000,
            PgtError::KernelAddress(0xffff_ffff_ffff_f000),
        ),
        (0x1800, PgtError::Unaligned(0x1800)),
    ] {
        assert_eq!(pt.map_page(&cpu, va, 1, p), Err(err));
        assert_eq!(pt.lookup(va), None);
    }
    assert_eq!(
        pt.map_page(&cpu, 0x1000, MAX_PFN + 1, p),
        Err(PgtError::BadPfn(MAX_PFN + 1))
    );
    assert_eq!(pt.nr_tables(), 1, "refusals allocate nothing");

    pt.map_page(&cpu, 0x1000, 5, p).unwrap();
    assert_eq!(
        pt.map_page(&cpu, 0x1000, 6, PgProt::PAGE_WRITE),
        Err(PgtError::AlreadyMapped(0x1000))
    );
    assert_eq!(PgtError::AlreadyMapped(0).errno(), 17);
    assert_eq!(PgtError::NoMemory.errno(), 12);
    assert_eq!(pt.lookup(0x1000), Pte::new(5, p));
    // A PROT_NONE entry also occupies the slot.
    pt.map_page(&cpu, 0x2000, 5, PgProt::PAGE_NONE).unwrap();
    assert_eq!(
        pt.map_page(&cpu, 0x2000, 5, p),
        Err(PgtError::AlreadyMapped(0x2000))
    );
    pt.destroy(&cpu);
}

#[test]
fn change_protection_downgrades_and_records_flush() {
    let k = common::boot();
    let cpu = k.mem.cpu(0).unwrap();
    let mut pt = PageTable::new(&cpu).unwrap();
    let va = 0x10_0000;
    for i in 0..3 {
        pt.map_page(&cpu, va + i * PAGE_SIZE, 100 + i as u64, PgProt::PAGE_WRITE)
            .unwrap();
    }
    pt.map_page(&cpu, va + 10 * PAGE_SIZE, 200, PgProt::PAGE_WRITE)
        .unwrap();
    // The hardware sets D on a write.
    let d = pt.set_accessed_dirty(va + PAGE_SIZE, true).unwrap();
    assert!(d.is_dirty() && d.is_young());

    let mut tlb = TlbFlush::new(1 << 3);
    assert_eq!(
        pt.change_protection(va, va + 3 * PAGE_SIZE, PgProt::PAGE_READ, &mut tlb),
        3
    );
    assert_eq!(
        tlb.range(),
        FlushRange::Range {
            start: va,
            end: va + 3 * PAGE_SIZE
        }
    );
    assert_eq!(tlb.cpus(), 1 << 3);
    for i in 0..3 {
        let e = pt.lookup(va + i * PAGE_SIZE).unwrap();
        assert!(!e.is_write() && e.is_read() && e.pfn() == 100 + i as u64);
        assert_eq!(e.is_dirty(), i == 1, "D survives mprotect");
    }
    assert!(
        pt.lookup(va + 10 * PAGE_SIZE).unwrap().is_write(),
        "outside the range"
    );
    // A write now faults; a read still works.
    assert_eq!(pt.set_accessed_dirty(va, true), None);
    assert!(pt.set_accessed_dirty(va, false).is_some());

    // Nothing to change, nothing to flush.
    let mut tlb2 = TlbFlush::new(1);
    assert_eq!(
        pt.change_protection(va, va + 3 * PAGE_SIZE, PgProt::PAGE_READ, &mut tlb2),
        0
    );
    assert!(!tlb2.needs_flush());

    // PROT_NONE: the MMU sees V=0; software still sees the page.
    let mut tlb3 = TlbFlush::new(1);
    assert_eq!(
        pt.change_protection(0, TASK_SIZE, PgProt::PAGE_NONE, &mut tlb3),
        4
    );
    let e = pt.lookup(va).unwrap();
    assert!(e.is_protnone() && e.pfn() == 100);
    assert_eq!(pt.translate(va), None);
    assert_eq!(pt.set_accessed_dirty(va, false), None);
    // Upgrading back from PROT_NONE needs no flush: the entry was invalid.
    let mut tlb4 = TlbFlush::new(1);
    assert_eq!(
        pt.change_protection(0, TASK_SIZE, PgProt::PAGE_READ, &mut tlb4),
        4
    );
    assert!(!tlb4.needs_flush());
    pt.destroy(&cpu);
}

#[test]
fn unmap_range_visits_exactly_the_mapped_pages() {
    let k = common::boot();
    let cpu = k.mem.cpu(0).unwrap();
    let mut pt = PageTable::new(&cpu).unwrap();
    let vas = [
        0x1000,
        0x2000,
        PMD_SIZE - PAGE_SIZE,
        PMD_SIZE,
        PUD_SIZE + 0x5000,
        PGDIR_SIZE - PAGE_SIZE,
        PGDIR_SIZE,
        5 * PGDIR_SIZE,
        TASK_SIZE - PAGE_SIZE,
    ];
    for (i, &va) in vas.iter().enumerate() {
        pt.map_page(&cpu, va, i as u64 + 1, PgProt::PAGE_READ)
            .unwrap();
    }
    let (start, end) = (0x2000, PGDIR_SIZE + PAGE_SIZE);
    let mut seen = Vec::new();
    let mut tlb = TlbFlush::new(1);
    let n = pt.unmap_range(start, end, &mut tlb, |va, pte| seen.push((va, pte.pfn())));
    let want: Vec<(usize, u64)> = vas
        .iter()
        .enumerate()
        .filter(|(_, &va)| va >= start && va < end)
        .map(|(i, &va)| (va, i as u64 + 1))
        .collect();
    assert_eq!(seen, want, "in address order, each once");
    assert_eq!(n, want.len());
    assert_eq!(tlb.range(), FlushRange::All, "wide range: flush everything");
    for &va in &vas {
        assert_eq!(pt.lookup(va).is_some(), !(start..end).contains(&va));
    }
    // A second pass finds nothing.
    assert_eq!(pt.unmap_range(start, end, &mut tlb, |_, _| panic!()), 0);
    pt.destroy(&cpu);
}

#[test]
fn free_pgtables_and_destroy_return_every_page() {
    let k = common::boot();
    let cpu = k.mem.cpu(0).unwrap();
    let free0 = common::total_free(&k.mem);
    let pt0 = nr_pt(&k.mem);
    let mut pt = PageTable::new(&cpu).unwrap();
    let vas: Vec<usize> = (0..200)
        .map(|i| (i % 7) * PGDIR_SIZE + (i % 5) * PUD_SIZE + (i % 13) * PMD_SIZE + i * PAGE_SIZE)
        .collect();
    for &va in &vas {
        pt.map_page(&cpu, va, 3, PgProt::PAGE_WRITE).unwrap();
    }
    let tables = pt.nr_tables();
    assert!(tables > 50);
    assert_eq!(common::total_free(&k.mem), free0 - tables);
    assert_eq!(nr_pt(&k.mem), pt0 + tables);

    // Partial: only the pte table of [0, 2 MiB) lies inside and is empty.
    let mut tlb = TlbFlush::new(1);
    let first_pmd: Vec<usize> = vas.iter().copied().filter(|&v| v < PMD_SIZE).collect();
    assert!(!first_pmd.is_empty());
    assert_eq!(
        pt.unmap_range(0, PMD_SIZE, &mut tlb, |_, _| {}),
        first_pmd.len()
    );
    assert_eq!(pt.free_pgtables(&cpu, 0, PMD_SIZE, &mut tlb), 1);
    assert!(tlb.freed_tables());
    assert_eq!(pt.nr_tables(), tables - 1);
    // Not empty: nothing is freed.
    assert_eq!(pt.free_pgtables(&cpu, PMD_SIZE, PGDIR_SIZE, &mut tlb), 0);

    // Everything: only the pgd remains.
    pt.unmap_range(0, TASK_SIZE, &mut tlb, |_, _| {});
    assert_eq!(pt.free_pgtables(&cpu, 0, TASK_SIZE, &mut tlb), tables - 2);
    assert_eq!(pt.nr_tables(), 1);
    assert_eq!(common::total_free(&k.mem), free0 - 1);
    assert_eq!(pt.destroy(&cpu), 0);
    assert_eq!(common::total_free(&k.mem), free0);
    assert_eq!(nr_pt(&k.mem), pt0);

    // destroy with pages still mapped frees the tables too.
    let mut pt = PageTable::new(&cpu).unwrap();
    for &va in &vas {
        pt.map_page(&cpu, va, 3, PgProt::PAGE_WRITE).unwrap();
    }
    assert_eq!(pt.destroy(&cpu), vas.len());
    assert_eq!(common::total_free(&k.mem), free0);
    assert_eq!(nr_pt(&k.mem), pt0);

    // So does a plain drop.
    let mut pt = PageTable::new(&cpu).unwrap();
    pt.map_page(&cpu, 3 * PGDIR_SIZE, 3, PgProt::PAGE_READ)
        .unwrap();
    drop(pt);
    assert_eq!(common::total_free(&k.mem), free0);
    assert_eq!(nr_pt(&k.mem), pt0);
}

#[test]
fn enomem_is_an_error_and_destroy_frees_everything() {
    let k = common::boot_quiet(4 << 20, 1);
    let cpu = k.mem.cpu(0).unwrap();
    let free0 = common::total_free(&k.mem);
    let pt0 = nr_pt(&k.mem);
    let mut pt = PageTable::new(&cpu).unwrap();
    let mut mapped = 0;
    let mut err = None;
    // Each 2 MiB step needs a new pte table; each 1 GiB a new pmd.
    for i in 0..100_000 {
        match pt.map_page(&cpu, i * PMD_SIZE, 1, PgProt::PAGE_READ) {
            Ok(()) => mapped += 1,
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    assert_eq!(err, Some(PgtError::NoMemory));
    assert!(mapped > 100, "mapped {mapped}");
    assert_eq!(pt.lookup(mapped * PMD_SIZE), None);
    assert_eq!(pt.lookup((mapped - 1) * PMD_SIZE).map(|p| p.pfn()), Some(1));
    assert_eq!(pt.destroy(&cpu), mapped);
    assert_eq!(common::total_free(&k.mem), free0);
    assert_eq!(nr_pt(&k.mem), pt0);
    // Memory is usable again.
    let pt = PageTable::new(&cpu).unwrap();
    pt.destroy(&cpu);
}

#[test]
fn accessed_dirty_as_the_hardware_sets_them() {
    let k = common::boot();
    let cpu = k.mem.cpu(0).unwrap();
    let mut pt = PageTable::new(&cpu).unwrap();
    // An old, clean writable page: PAGE_WRITE without A.
    let old = Pte::new(1, PgProt::PAGE_WRITE).unwrap().mkold();
    let prot = PgProt::new(old.flags()).unwrap();
    pt.map_page(&cpu, 0x5000, 1, prot).unwrap();
    assert!(!pt.lookup(0x5000).unwrap().is_young());
    let r = pt.set_accessed_dirty(0x5000, false).unwrap();
    assert!(r.is_young() && !r.is_dirty());
    let w = pt.set_accessed_dirty(0x5000, true).unwrap();
    assert_eq!(w.val(), r.val() | _PAGE_ACCESSED | _PAGE_DIRTY);
    assert_eq!(pt.lookup(0x5000), Some(w));
    assert_eq!(pt.set_accessed_dirty(0x6000, false), None, "unmapped");
    // Execute-only pages are not readable.
    pt.map_page(&cpu, 0x7000, 1, PgProt::PAGE_EXEC).unwrap();
    assert_eq!(pt.set_accessed_dirty(0x7000, false), None);
    pt.destroy(&cpu);
}

#[test]
fn tlb_flush_bookkeeping() {
    let mut t = TlbFlush::new(0);
    assert!(!t.needs_flush() && !t.covers(0x1000));
    t.add_cpu(0);
    t.add_cpu(63);
    t.add_cpu(64); // out of range: ignored
    assert_eq!(t.cpus(), 1 | 1 << 63);
    t.add_page(0x5000);
    t.add_page(0x2000);
    assert_eq!(
        t.range(),
        FlushRange::Range {
            start: 0x2000,
            end: 0x6000
        }
    );
    assert!(t.covers(0x3000) && !t.covers(0x6000));
    t.add_range(0x2000, 0x2000 + 64 * PAGE_SIZE);
    assert!(
        matches!(t.range(), FlushRange::Range { .. }),
        "64 pages: a range"
    );
    t.add_page(0x2000 + 64 * PAGE_SIZE);
    assert_eq!(t.range(), FlushRange::All, "65 pages: flush everything");
    t.reset();
    assert!(!t.needs_flush());
    t.flush_all();
    assert!(t.covers(usize::MAX));
}

#[derive(Clone, Debug)]
enum Op {
    Map(usize, u64, usize),
    Unmap(usize),
    Protect(usize, usize, usize),
    UnmapRange(usize, usize),
    FreeTables(usize, usize),
}

/// VAs that share and straddle tables at every level.
fn pool() -> Vec<usize> {
    let mut v = BTreeSet::new();
    for base in [0, PMD_SIZE, PUD_SIZE, PGDIR_SIZE, TASK_SIZE - PMD_SIZE] {
        for i in [0, 1, 2, 511] {
            v.insert(base + i * PAGE_SIZE);
        }
    }
    v.insert(PMD_SIZE - PAGE_SIZE);
    v.insert(PGDIR_SIZE - PAGE_SIZE);
    v.into_iter().collect()
}

const PROTS: [PgProt; 5] = [
    PgProt::PAGE_READ,
    PgProt::PAGE_WRITE,
    PgProt::PAGE_EXEC,
    PgProt::PAGE_WRITE_EXEC,
    PgProt::PAGE_NONE,
];

fn op() -> impl Strategy<Value = Op> {
    let n = pool().len();
    prop_oneof![
        4 => (0..n, 0..1u64 << 20, 0..PROTS.len()).prop_map(|(a, p, r)| Op::Map(a, p, r)),
        2 => (0..n).prop_map(Op::Unmap),
        2 => (0..n, 0..n, 0..PROTS.len()).prop_map(|(a, b, r)| Op::Protect(a.min(b), a.max(b), r)),
        1 => (0..n, 0..n).prop_map(|(a, b)| Op::UnmapRange(a.min(b), a.max(b))),
        1 => (0..n, 0..n).prop_map(|(a, b)| Op::FreeTables(a.min(b), a.max(b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn model_check(ops in proptest::collection::vec(op(), 1..80)) {
        let k = common::boot_with(16 << 20, MemConfig { nr_cpus: 1, ..MemConfig::default() });
        let cpu = k.mem.cpu(0).unwrap();
        let free0 = common::total_free(&k.mem);
        let pool = pool();
        let mut pt = PageTable::new(&cpu).unwrap();
        let mut model: BTreeMap<usize, Pte> = BTreeMap::new();
        for op in ops {
            let mut tlb = TlbFlush::new(1);
            match op {
                Op::Map(a, pfn, r) => {
                    let va = pool[a];
                    let res = pt.map_page(&cpu, va, pfn, PROTS[r]);
                    match model.entry(va) {
                        Entry::Occupied(_) => {
                            prop_assert_eq!(res, Err(PgtError::AlreadyMapped(va)));
                        }
                        Entry::Vacant(v) => {
                            prop_assert_eq!(res, Ok(()));
                            v.insert(Pte::new(pfn, PROTS[r]).unwrap());
                        }
                    }
                }
                Op::Unmap(a) => {
                    let va = pool[a];
                    let old = model.remove(&va);
                    prop_assert_eq!(pt.unmap_page(va, &mut tlb), old);
                    prop_assert_eq!(tlb.covers(va), old.is_some());
                }
                Op::Protect(a, b, r) => {
                    let (s, e) = (pool[a], pool[b] + PAGE_SIZE);
                    let mut must_flush = Vec::new();
                    for (&va, p) in model.range_mut(s..e) {
                        let n = p.modify(PROTS[r]);
                        if n != *p {
                            must_flush.push((va, p.is_valid()));
                        }
                        *p = n;
                    }
                    let got = pt.change_protection(s, e, PROTS[r], &mut tlb);
                    prop_assert_eq!(got, must_flush.len());
                    for (va, valid) in must_flush {
                        prop_assert!(!valid || tlb.covers(va));
                    }
                }
                Op::UnmapRange(a, b) => {
                    let (s, e) = (pool[a], pool[b] + PAGE_SIZE);
                    let want: Vec<(usize, Pte)> = model.range(s..e).map(|(&v, &p)| (v, p)).collect();
                    let mut got = Vec::new();
                    pt.unmap_range(s, e, &mut tlb, |v, p| got.push((v, p)));
                    prop_assert_eq!(&got, &want);
                    for (v, _) in want {
                        prop_assert!(tlb.covers(v));
                        model.remove(&v);
                    }
                }
                Op::FreeTables(a, b) => {
                    let (s, e) = (pool[a], pool[b] + PAGE_SIZE);
                    let before = pt.nr_tables();
                    let freed = pt.free_pgtables(&cpu, s, e, &mut tlb);
                    prop_assert_eq!(pt.nr_tables(), before - freed);
                }
            }
            for &va in &pool {
                prop_assert_eq!(pt.lookup(va), model.get(&va).copied(), "va {:#x}", va);
            }
            prop_assert_eq!(common::total_free(&k.mem), free0 - pt.nr_tables());
        }
        let mut tlb = TlbFlush::new(1);
        let n = pt.unmap_range(0, TASK_SIZE, &mut tlb, |_, _| {});
        prop_assert_eq!(n, model.len());
        pt.free_pgtables(&cpu, 0, TASK_SIZE, &mut tlb);
        prop_assert_eq!(pt.nr_tables(), 1);
        prop_assert_eq!(pt.destroy(&cpu), 0);
        prop_assert_eq!(common::total_free(&k.mem), free0);
        prop_assert_eq!(k.mem.vmstat.get(NodeStatItem::NrPageTable), 0);
    }
}

/// The MMU's view: walk from `satp` through RAM with atomic loads only.
fn hw_walk(mem: &mm::Mem, satp: u64, va: usize) -> Option<Pte> {
    assert_eq!(satp >> 60, 9, "Sv48");
    let mut pfn = (satp & ((1 << 44) - 1)) as usize;
    for level in 0..4 {
        let page = mem.pfn_to_page(pfn).expect("table pfn in RAM");
        let table = mem.page_address(page).as_ptr() as *const AtomicU64;
        let idx = (va >> (39 - 9 * level)) & 511;
        // SAFETY: a live table page of the PageTable under test (tables are
        // not freed while this runs); entries are only accessed atomically.
        let e = Pte(unsafe { &*table.add(idx) }.load(Ordering::Acquire));
        if !e.is_valid() {
            return None;
        }
        if e.is_leaf() {
            assert_eq!(level, 3, "only 4 KiB leaves are created");
            return Some(e);
        }
        pfn = e.pfn() as usize;
    }
    panic!("pointer entry at the pte level");
}

#[test]
fn a_concurrent_hardware_walk_sees_consistent_entries() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let mut pt = PageTable::new(&cpu).unwrap();
    let satp = pt.satp();
    let vas: Vec<usize> = (0..64).map(|i| i * (PMD_SIZE / 2) + PUD_SIZE).collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut seen = 0usize;
            while !stop.load(Ordering::Relaxed) {
                for (i, &va) in vas.iter().enumerate() {
                    if let Some(e) = hw_walk(mem, satp, va) {
                        assert_eq!(e.pfn(), 1000 + i as u64);
                        assert!(e.is_read() && e.is_user() && e.is_young());
                        seen += 1;
                    }
                }
            }
            seen
        });
        let mut tlb = TlbFlush::new(1);
        for round in 0..200 {
            for (i, &va) in vas.iter().enumerate() {
                pt.map_page(&cpu, va, 1000 + i as u64, PgProt::PAGE_WRITE)
                    .unwrap();
            }
            pt.change_protection(0, TASK_SIZE, PgProt::PAGE_READ, &mut tlb);
            if round % 2 == 0 {
                for &va in &vas {
                    pt.unmap_page(va, &mut tlb).unwrap();
                }
            } else {
                pt.unmap_range(0, TASK_SIZE, &mut tlb, |_, _| {});
            }
        }
        for (i, &va) in vas.iter().enumerate() {
            pt.map_page(&cpu, va, 1000 + i as u64, PgProt::PAGE_READ)
                .unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let seen = reader.join().unwrap();
        assert!(seen > 0 || vas.iter().all(|&v| hw_walk(mem, satp, v).is_some()));
    });
    // The hardware walk and the software walk agree.
    for &va in &vas {
        assert_eq!(hw_walk(mem, satp, va), pt.lookup(va));
    }
    pt.destroy(&cpu);
}
