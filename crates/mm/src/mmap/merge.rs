//! Adding, removing, splitting and merging VMAs (mm/vma.c: `vma_merge`,
//! `__split_vma`, `vm_stat_account`, which keeps `hiwater_vm` as
//! `total_vm` drops).
//!
//! Two neighbouring VMAs merge when Linux would merge them: they touch,
//! their flags are equal (`VM_SOFTDIRTY` aside), neither is `VM_SPECIAL`,
//! they have the same operations and backing object (the shmem identity of
//! shared anonymous areas, the file of file areas) and their page offsets are
//! contiguous. Anonymous VMAs have no `anon_vma` yet, so that condition
//! always holds. After any change of a range, every mergeable pair whose
//! boundary lies in the range is merged: since no two mergeable neighbours
//! are ever left apart, this is the result of Linux's `vma_merge` calls.

use super::errno::ENOMEM;
use super::vma::{vm_area_alloc, vm_area_free, VmaPtr};
use super::{MmapState, VmAreaStruct, VmFlags};
use crate::page::PAGE_SIZE;
use crate::percpu::Cpu;

/// Whether `a` followed by `b` may become one VMA.
pub fn can_merge(a: &VmAreaStruct, b: &VmAreaStruct) -> bool {
    let ops_eq = match (a.vm_ops, b.vm_ops) {
        (None, None) => true,
        (Some(x), Some(y)) => core::ptr::addr_eq(x, y),
        _ => false,
    };
    a.vm_end == b.vm_start
        && (a.vm_flags ^ b.vm_flags)
            .difference(VmFlags::VM_SOFTDIRTY)
            .is_empty()
        && !a.vm_flags.intersects(VmFlags::VM_SPECIAL)
        && ops_eq
        && a.shmem == b.shmem
        && a.vm_file == b.vm_file
        && a.vm_pgoff.wrapping_add(a.pages()) == b.vm_pgoff
}

impl MmapState<'_> {
    /// `vm_stat_account`: `total_vm` and the exec/stack/data splits.
    pub(crate) fn vm_stat_account(&mut self, flags: VmFlags, pages: isize) {
        if pages < 0 {
            self.update_hiwater_vm();
        }
        let add = |x: &mut usize| *x = x.saturating_add_signed(pages);
        add(&mut self.total_vm);
        let f = flags;
        if f & (VmFlags::VM_EXEC | VmFlags::VM_WRITE | VmFlags::VM_STACK) == VmFlags::VM_EXEC {
            add(&mut self.exec_vm);
        } else if f.contains(VmFlags::VM_STACK) {
            add(&mut self.stack_vm);
        } else if f & (VmFlags::VM_WRITE | VmFlags::VM_SHARED | VmFlags::VM_STACK)
            == VmFlags::VM_WRITE
        {
            add(&mut self.data_vm);
        }
        if f.contains(VmFlags::VM_LOCKED) {
            add(&mut self.locked_vm);
        }
    }

    /// Allocate a VMA holding `v` (a copy: on no `i_mmap` list) for this
    /// mm and index it; accounts its pages; a file VMA joins its file's
    /// `i_mmap`.
    pub(crate) fn insert_vma(&mut self, cpu: &Cpu<'_>, mut v: VmAreaStruct) -> Result<(), i32> {
        v.vm_mm = self.owner;
        let (start, end, flags, pages, file) =
            (v.vm_start, v.vm_end, v.vm_flags, v.pages(), v.vm_file);
        let p = vm_area_alloc(cpu, v).ok_or(ENOMEM)?;
        if let Err(e) = self.mt.insert(cpu, start, end, p.value()) {
            vm_area_free(cpu, p);
            return Err(e.errno());
        }
        self.invalidate_cache();
        self.map_count += 1;
        self.vm_stat_account(flags, pages as isize);
        if file.is_some() {
            // SAFETY: a new VMA of this mm (which outlives it), in its
            // tree, on no list; its `vm_file` names a live address space.
            unsafe { crate::filemap::i_mmap_link(p) };
        }
        Ok(())
    }

    /// Remove the VMA starting at `start` and free it; accounts its pages.
    pub(crate) fn remove_vma(&mut self, cpu: &Cpu<'_>, start: usize) -> Option<VmAreaStruct> {
        let (_, _, p) = self.mt.erase(cpu, start)?;
        self.invalidate_cache();
        let p = VmaPtr::from_tree(p);
        // SAFETY: a live VMA just taken out of the tree; freed below.
        let v = unsafe { p.as_ref() }.clone();
        if let Some(ops) = v.vm_ops {
            ops.close(&v);
        }
        if v.vm_file.is_some() {
            // SAFETY: ours (out of the tree), linked when inserted; its
            // reference keeps the file live.
            unsafe { crate::filemap::i_mmap_unlink(p) };
        }
        vm_area_free(cpu, p);
        if let Some(file) = v.vm_file {
            // SAFETY: the removed VMA's reference, given up once.
            unsafe { crate::filemap::fput(cpu, file) };
        }
        self.map_count -= 1;
        self.vm_stat_account(v.vm_flags, -(v.pages() as isize));
        Some(v)
    }

    /// Give the VMA at `start` new bounds (and page offset); accounting is
    /// the caller's. On ENOMEM the VMA keeps its old bounds.
    pub(crate) fn resize_vma(
        &mut self,
        cpu: &Cpu<'_>,
        start: usize,
        new_start: usize,
        new_end: usize,
        new_pgoff: usize,
    ) -> Result<(), i32> {
        let (s, e, p) = self.mt.erase(cpu, start).ok_or(ENOMEM)?;
        self.invalidate_cache();
        if let Err(err) = self.mt.insert(cpu, new_start, new_end, p) {
            // Put it back as it was (the nodes just freed suffice in practice).
            let _ = self.mt.insert(cpu, s, e, p);
            return Err(err.errno());
        }
        // SAFETY: a live VMA of this mm, reached through `&mut self`.
        let v = unsafe { VmaPtr::from_tree(p).as_mut() };
        v.vm_start = new_start;
        v.vm_end = new_end;
        v.vm_pgoff = new_pgoff;
        Ok(())
    }

    /// `split_vma`: cut the VMA containing `addr` at `addr` (nothing to do
    /// if `addr` is a boundary or in a hole). With `check_limit`, ENOMEM
    /// when `map_count` has reached `max_map_count`.
    pub(crate) fn split_vma(
        &mut self,
        cpu: &Cpu<'_>,
        addr: usize,
        check_limit: bool,
    ) -> Result<(), i32> {
        let Some(v) = self.tree_vma(addr).cloned() else {
            return Ok(());
        };
        if v.vm_start >= addr {
            return Ok(());
        }
        if check_limit && self.map_count >= self.max_map_count {
            return Err(ENOMEM);
        }
        let mut hi = v.clone();
        hi.vm_start = addr;
        hi.vm_pgoff = v.vm_pgoff + (addr - v.vm_start) / PAGE_SIZE;
        let (hi_file, hi_ops) = (hi.vm_file, hi.vm_ops);
        let p = vm_area_alloc(cpu, hi).ok_or(ENOMEM)?;
        if let Err(e) = self.resize_vma(cpu, v.vm_start, v.vm_start, addr, v.vm_pgoff) {
            vm_area_free(cpu, p);
            return Err(e);
        }
        if let Err(e) = self.mt.insert(cpu, addr, v.vm_end, p.value()) {
            vm_area_free(cpu, p);
            let _ = self.resize_vma(cpu, v.vm_start, v.vm_start, v.vm_end, v.vm_pgoff);
            return Err(e.errno());
        }
        self.map_count += 1;
        if hi_file.is_some() {
            // Every VMA is on `i_mmap`, as `remove_vma` takes each off.
            // SAFETY: the new VMA of this mm (its `vm_mm` copied from `v`),
            // in its tree, on no list; the file is live while `v` maps it.
            unsafe { crate::filemap::i_mmap_link(p) };
        }
        if let Some(ops) = hi_ops {
            // SAFETY: the new VMA is live and ours.
            ops.open(unsafe { p.as_ref() });
        }
        Ok(())
    }

    /// Merge every mergeable pair of neighbours whose boundary lies in
    /// `[lo, hi]`. Merging never fails the caller: a pair that cannot be
    /// merged for want of a maple node stays apart.
    pub(crate) fn merge_range(&mut self, cpu: &Cpu<'_>, lo: usize, hi: usize) {
        let first = self.tree_vma_prev(lo).or_else(|| self.tree_vma(lo));
        let Some(mut cur) = first.cloned() else {
            return;
        };
        while cur.vm_end <= hi {
            let Some(next) = self.tree_vma(cur.vm_end).cloned() else {
                break;
            };
            if !can_merge(&cur, &next) {
                cur = next;
                continue;
            }
            // Take `next` out, then stretch `cur` over it.
            let Some((ns, ne, np)) = self.mt.erase(cpu, next.vm_start) else {
                break;
            };
            self.invalidate_cache();
            if self
                .resize_vma(cpu, cur.vm_start, cur.vm_start, next.vm_end, cur.vm_pgoff)
                .is_err()
            {
                let _ = self.mt.insert(cpu, ns, ne, np);
                cur = next;
                continue;
            }
            let np = VmaPtr::from_tree(np);
            if next.vm_file.is_some() {
                // SAFETY: ours (out of the tree), linked when inserted;
                // `cur` maps the same live file and stays linked.
                unsafe { crate::filemap::i_mmap_unlink(np) };
            }
            vm_area_free(cpu, np);
            self.map_count -= 1;
            if let Some(file) = next.vm_file {
                // SAFETY: the freed VMA's reference, given up once (`cur`
                // holds another).
                unsafe { crate::filemap::fput(cpu, file) };
            }
            cur.vm_end = next.vm_end;
        }
    }
}
