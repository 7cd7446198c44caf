//! Removal (Linux's `mtree_erase` / `mas_erase` with `mas_rebalance` and
//! `mas_destroy_rebalance` in lib/maple_tree.c, as used by `vma_iter_clear`
//! on munmap).
//!
//! A node left under half full takes one entry from a sibling that can spare
//! it, or else merges with that sibling and the emptied node goes back to the
//! `maple_node` cache; a root left with one child is replaced by it. ferrite
//! differs in rebalancing with one sibling at a time (Linux combines up to
//! three nodes in a "big node") and in never allocating on erase.

use super::insert::{move_internal_tail, move_leaf_tail};
use super::node::{NodePtr, INTERNAL_MIN, LEAF_MIN};
use super::{Entry, MapleTree};
use crate::percpu::Cpu;
use core::ptr;

impl MapleTree<'_> {
    /// Remove the range that begins at `start`; it, or `None` if no range
    /// begins there (the tree is then unchanged).
    pub fn erase(&mut self, cpu: &Cpu<'_>, start: usize) -> Option<Entry> {
        let root = self.root()?;
        let mut freed = [None; 2 * super::MAX_HEIGHT];
        let mut nfreed = 0;
        let e = erase_from(root, start, &mut freed, &mut nfreed)?;
        self.len -= 1;
        // Shrink the root: an empty leaf goes, a single child takes over.
        let node = root.get();
        if node.is_leaf {
            if node.len() == 0 {
                freed[nfreed] = Some(root);
                nfreed += 1;
                self.root = ptr::null_mut();
                self.height = 0;
            }
        } else if node.len() == 1 {
            let child = root.child(0);
            child.get_mut().parent = ptr::null_mut();
            freed[nfreed] = Some(root);
            nfreed += 1;
            self.root = child.as_raw();
            self.height -= 1;
        }
        for n in freed[..nfreed].iter().flatten() {
            self.free_node(cpu, *n);
        }
        Some(e)
    }
}

/// Remove the range beginning at `start` from the subtree at `n`; nodes that
/// merging emptied are appended to `freed`.
fn erase_from(
    n: NodePtr,
    start: usize,
    freed: &mut [Option<NodePtr>],
    nfreed: &mut usize,
) -> Option<Entry> {
    let node = n.get();
    let cnt = node.len();
    if node.is_leaf {
        let l = node.leaf();
        let i = l.start[..cnt].iter().position(|&s| s == start)?;
        let e = (l.start[i], l.end[i], l.value[i]);
        let node = n.get_mut();
        let l = node.leaf_mut();
        l.start.copy_within(i + 1..cnt, i);
        l.end.copy_within(i + 1..cnt, i);
        l.value.copy_within(i + 1..cnt, i);
        node.count -= 1;
        return Some(e);
    }
    let c = node.internal();
    let i = c.pivot[..cnt].iter().take_while(|&&p| p <= start).count();
    if i == cnt || start < c.min[i] {
        return None;
    }
    let child = n.child(i);
    let e = erase_from(child, start, freed, nfreed)?;
    n.refresh_or_keep(i);
    let under = {
        let ch = child.get();
        ch.len() < if ch.is_leaf { LEAF_MIN } else { INTERNAL_MIN }
    };
    if under {
        rebalance(n, i, freed, nfreed);
    }
    Some(e)
}

impl NodePtr {
    /// Refresh child `i`'s summary unless it was emptied (a leaf of a root
    /// with one range can be; the rebalance below then removes it).
    fn refresh_or_keep(self, i: usize) {
        if self.child(i).get().len() > 0 {
            self.refresh(i);
        }
    }
}

/// Child `i` of `n` is under its minimum: borrow from or merge with a sibling.
fn rebalance(n: NodePtr, i: usize, freed: &mut [Option<NodePtr>], nfreed: &mut usize) {
    let cnt = n.get().len();
    // The pair (left, right) of adjacent children to fix.
    let (li, ri) = if i > 0 { (i - 1, i) } else { (0, 1) };
    if ri >= cnt {
        return; // Only the root can have one child; erase() shrinks it.
    }
    let (left, right) = (n.child(li), n.child(ri));
    let is_leaf = left.get().is_leaf;
    let min = if is_leaf { LEAF_MIN } else { INTERNAL_MIN };
    let (ln, rn) = (left.get().len(), right.get().len());
    if ln + rn < 2 * min {
        // Merge right into left, drop right from n.
        if is_leaf {
            move_leaf_tail_into(right, left);
        } else {
            move_internal_tail(right, 0, left);
        }
        n.refresh(li);
        remove_child(n, ri);
        freed[*nfreed] = Some(right);
        *nfreed += 1;
        return;
    }
    // Borrow one entry from the fuller sibling.
    if ln < rn {
        // First of right to the end of left.
        if is_leaf {
            let e = {
                let r = right.get().leaf();
                (r.start[0], r.end[0], r.value[0])
            };
            let l = left.get_mut();
            let k = l.len();
            let ll = l.leaf_mut();
            ll.start[k] = e.0;
            ll.end[k] = e.1;
            ll.value[k] = e.2;
            l.count += 1;
            let r = right.get_mut();
            let rl = r.leaf_mut();
            rl.start.copy_within(1..rn, 0);
            rl.end.copy_within(1..rn, 0);
            rl.value.copy_within(1..rn, 0);
            r.count -= 1;
        } else {
            let moved = right.child(0);
            let k = left.get().len();
            left.get_mut().count += 1;
            left.set_child(k, moved);
            remove_child(right, 0);
        }
    } else {
        // Last of left to the front of right.
        if is_leaf {
            let e = {
                let l = left.get().leaf();
                (l.start[ln - 1], l.end[ln - 1], l.value[ln - 1])
            };
            left.get_mut().count -= 1;
            let r = right.get_mut();
            let rl = r.leaf_mut();
            rl.start.copy_within(0..rn, 1);
            rl.end.copy_within(0..rn, 1);
            rl.value.copy_within(0..rn, 1);
            rl.start[0] = e.0;
            rl.end[0] = e.1;
            rl.value[0] = e.2;
            r.count += 1;
        } else {
            let moved = left.child(ln - 1);
            left.get_mut().count -= 1;
            let r = right.get_mut();
            let c = r.internal_mut();
            c.min.copy_within(0..rn, 1);
            c.pivot.copy_within(0..rn, 1);
            c.gap.copy_within(0..rn, 1);
            c.slot.copy_within(0..rn, 1);
            r.count += 1;
            right.set_child(0, moved);
        }
    }
    n.refresh(li);
    n.refresh(ri);
}

/// Append every range of leaf `from` to leaf `to`.
fn move_leaf_tail_into(from: NodePtr, to: NodePtr) {
    move_leaf_tail(from, 0, to);
}

/// Drop slot `i` of internal node `n` (the child itself is not freed).
fn remove_child(n: NodePtr, i: usize) {
    let node = n.get_mut();
    let cnt = node.len();
    let c = node.internal_mut();
    c.min.copy_within(i + 1..cnt, i);
    c.pivot.copy_within(i + 1..cnt, i);
    c.gap.copy_within(i + 1..cnt, i);
    c.slot.copy_within(i + 1..cnt, i);
    node.count -= 1;
}
