//! `dup_mm` (kernel/fork.c `dup_mm`/`dup_mmap`, mm/memory.c
//! `copy_page_range`/`copy_present_pte`): the address space of a child
//! created without `CLONE_VM` (with `CLONE_VM` the caller shares the mm and
//! counts it with [`MmStruct::mmget`]).
//!
//! Every VMA is copied except `VM_DONTCOPY` ones (`VM_LOCKED` is not
//! inherited; `VM_WIPEONFORK` areas are copied empty). The PTEs of private
//! areas are copied: in one that may become writable (a CoW mapping), a
//! writable PTE is write-protected in both parent and child (the parent's
//! change is recorded in its TLB flush). Shared areas are copied empty, as
//! Linux's `vma_needs_copy` has it: the child's faults find their pages in
//! the page cache or the shmem object. Where ferrite differs: Linux also
//! skips private areas that never had an anonymous page (no `anon_vma`);
//! ferrite keeps one anon_vma per mm, not per area, so it copies those. Each
//! page copied gains one reference and one mapcount; the zero page is
//! copied as the special entry it is. The child is "old" (A clear), as in
//! Linux. The child joins the parent's anon_vma family ([`crate::rmap`]).
//! A `MAP_SHARED` anonymous area is backed by its shmem object (see
//! [`crate::filemap::shmem_zero_setup`]), which the child's copy of the
//! area names too, so a page first touched after the fork, by either
//! side, is seen by both.

use crate::mmap::errno::ENOMEM;
use crate::mmap::{MmBox, MmStruct, MmapState, PgtState, RssCounter, VmAreaStruct, VmFlags};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;
use crate::pgtable::{pte_index, Pte, PMD_SIZE};
use core::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

/// `dup_mm`: a copy of `old` for a forked child.
pub fn dup_mm<'m>(cpu: &Cpu<'m>, old: &MmStruct<'m>) -> Result<MmBox<'m>, i32> {
    let new = MmStruct::new(cpu)?;
    let r = {
        let ost = old.mmap_write_lock(cpu);
        let mut nst = new.mmap_write_lock(cpu);
        dup_mmap(cpu, old, &ost, &new, &mut nst)
    };
    match r {
        Ok(()) => Ok(new),
        Err(e) => {
            new.free(cpu);
            Err(e)
        }
    }
}

fn dup_mmap<'m>(
    cpu: &Cpu<'m>,
    old: &MmStruct<'m>,
    ost: &MmapState<'m>,
    new: &MmStruct<'m>,
    nst: &mut MmapState<'m>,
) -> Result<(), i32> {
    nst.max_map_count = ost.max_map_count;
    nst.start_code = ost.start_code;
    nst.end_code = ost.end_code;
    nst.start_data = ost.start_data;
    nst.end_data = ost.end_data;
    nst.start_brk = ost.start_brk;
    nst.brk = ost.brk;
    nst.start_stack = ost.start_stack;
    nst.arg_start = ost.arg_start;
    nst.arg_end = ost.arg_end;
    nst.env_start = ost.env_start;
    nst.env_end = ost.env_end;
    nst.mmap_base = ost.mmap_base;
    nst.mmap_min_addr = ost.mmap_min_addr;
    nst.next_shmem = ost.next_shmem;
    crate::rmap::anon_vma_fork(new, old);
    for v in ost.vmas() {
        if v.vm_flags.contains(VmFlags::VM_DONTCOPY) {
            continue;
        }
        let mut c = v.clone();
        c.vm_flags
            .remove(VmFlags::VM_LOCKED | VmFlags::VM_LOCKONFAULT);
        if let Some(ops) = c.vm_ops {
            ops.open(&c);
        }

        nst.insert_vma(cpu, c)?;
        // `vma_needs_copy`: a shared area's pages are found again by the
        // child's faults (page cache, shmem), so its PTEs are not copied
        // (fork is much lighter with large shared mappings, as Linux has
        // it); a private area may hold anonymous pages, which only the
        // copy can give the child.
        if !v
            .vm_flags
            .intersects(VmFlags::VM_WIPEONFORK | VmFlags::VM_SHARED)
        {
            copy_page_range(cpu, old, new, v)?;
        }
    }
    Ok(())
}

/// `copy_page_range` for one VMA.
fn copy_page_range<'m>(
    cpu: &Cpu<'m>,
    src: &MmStruct<'m>,
    dst: &MmStruct<'m>,
    vma: &VmAreaStruct,
) -> Result<(), i32> {
    let mem = src.mem();
    // A private area (shared ones are not copied): a CoW mapping if it
    // may become writable.
    debug_assert!(!vma.vm_flags.contains(VmFlags::VM_SHARED));
    let cow = vma.vm_flags.contains(VmFlags::VM_MAYWRITE);
    let ctr = RssCounter::AnonPages;
    // Lock order: the child's table lock, then the parent's (Linux nests
    // the source PTL inside the destination's).
    let mut dpg = dst.page_table_lock.lock();
    let mut spg = src.page_table_lock.lock();
    let dpt = dpg.pt.as_mut().ok_or(ENOMEM)?;
    let PgtState { pt: spt, tlb: stlb } = &mut *spg;
    let Some(spt) = spt.as_mut() else {
        return Ok(());
    };
    // copy_pte_range: one leaf table (PMD_SIZE of address space) at a
    // time, so each table is walked to once, not each page three times.
    let mut va = vma.vm_start;
    while va < vma.vm_end {
        let end = ((va & !(PMD_SIZE - 1)) + PMD_SIZE).min(vma.vm_end);
        let Some(src_t) = spt.pte_table(va) else {
            va = end;
            continue;
        };
        let mut dst_t = None;
        let mut wrprotected = false;
        let (mut file_pages, mut shmem_pages, mut other_pages) = (0isize, 0isize, 0isize);
        for a in (va..end).step_by(PAGE_SIZE) {
            let slot = &src_t[pte_index(a)];
            let e = Pte(slot.load(Acquire));
            if e.is_none() {
                continue;
            }
            let page = crate::fault::mapped_page(mem, e);
            if page.is_none() && !e.is_special() {
                // A frame mapped without accounting: not the mm's to share.
                continue;
            }
            let mut child = e;
            if cow && e.is_write() {
                // ptep_set_wrprotect: clear exactly what wrprotect clears,
                // atomically, keeping A/D bits an MMU may set meanwhile.
                let ro = e.wrprotect();
                slot.fetch_and(!(e.val() ^ ro.val()), AcqRel);
                child = ro;
                wrprotected = true;
            }
            child = child.mkold();
            let dt = match dst_t {
                Some(t) => t,
                None => {
                    let t = dpt.pte_table_alloc(cpu, a).map_err(|err| err.errno())?;
                    dst_t = Some(t);
                    t
                }
            };
            // The child runs nowhere yet and its table slot is empty.
            debug_assert_eq!(dt[pte_index(a)].load(Relaxed), 0);
            dt[pte_index(a)].store(child.val(), Release);
            if let Some(p) = page {
                p.get_page();
                p.raw_mapcount().fetch_add(1, Relaxed);
                if crate::filemap::page_is_file(p) {
                    if crate::filemap::page_is_shmem(p) {
                        shmem_pages += 1;
                    } else {
                        file_pages += 1;
                    }
                } else {
                    other_pages += 1;
                }
            }
        }
        if wrprotected {
            stlb.add_range(va, end);
        }
        dst.add_mm_counter(RssCounter::FilePages, file_pages);
        dst.add_mm_counter(RssCounter::ShmemPages, shmem_pages);
        dst.add_mm_counter(ctr, other_pages);
        va = end;
    }
    Ok(())
}
