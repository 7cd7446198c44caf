//! Insertion (Linux's `mtree_insert_range` / `mas_store_gfp` of a new VMA,
//! with `mas_preallocate`, `mas_split` and `mas_push_data` in
//! lib/maple_tree.c).
//!
//! As Linux does, every node an insert might need (one per level for the
//! splits plus a new root) is allocated before the tree is touched, so an
//! allocation failure leaves it unchanged. ferrite differs in always splitting
//! a full node in half rather than first pushing data into a sibling, and in
//! refusing (EEXIST) any overlap instead of overwriting.

use super::node::{Node, NodePtr, INTERNAL_MIN, INTERNAL_SLOTS, LEAF_MIN, LEAF_SLOTS};
use super::{MapleError, MapleTree, MAX_HEIGHT};
use crate::percpu::Cpu;

/// Nodes allocated ahead of an insert.
struct Pool {
    nodes: [Option<NodePtr>; MAX_HEIGHT + 1],
    n: usize,
}

impl Pool {
    /// Take a preallocated node and make it an empty leaf or internal node.
    fn take(&mut self, is_leaf: bool) -> NodePtr {
        self.n -= 1;
        let p = self.nodes[self.n]
            .take()
            .expect("maple: preallocation short");
        Node::init(p.0.cast(), is_leaf)
    }
}

impl MapleTree<'_> {
    /// Store `[start, end) -> value`; EEXIST if it overlaps a stored range,
    /// ENOMEM if a node cannot be allocated, EINVAL if `start >= end`. On
    /// error the tree is unchanged.
    pub fn insert(
        &mut self,
        cpu: &Cpu<'_>,
        start: usize,
        end: usize,
        value: usize,
    ) -> Result<(), MapleError> {
        if start >= end {
            return Err(MapleError::Invalid);
        }
        if self.find_intersection(start, end).is_some() {
            return Err(MapleError::Exists);
        }
        let need = self.height + 1;
        if need > MAX_HEIGHT {
            return Err(MapleError::NoMemory);
        }
        let mut pool = Pool {
            nodes: [None; MAX_HEIGHT + 1],
            n: 0,
        };
        while pool.n < need {
            match self.alloc_node(cpu, true) {
                Some(p) => {
                    pool.nodes[pool.n] = Some(p);
                    pool.n += 1;
                }
                None => {
                    self.release(cpu, &mut pool);
                    return Err(MapleError::NoMemory);
                }
            }
        }
        match self.root() {
            None => {
                let leaf = pool.take(true);
                put_leaf(leaf, 0, (start, end, value));
                self.root = leaf.as_raw();
                self.height = 1;
            }
            Some(root) => {
                if let Some(right) = insert_into(root, (start, end, value), &mut pool) {
                    let top = pool.take(false);
                    top.set_child(0, root);
                    top.set_child(1, right);
                    top.get_mut().count = 2;
                    self.root = top.as_raw();
                    self.height += 1;
                }
            }
        }
        self.len += 1;
        self.release(cpu, &mut pool);
        Ok(())
    }

    /// Give back the preallocated nodes that were not used.
    fn release(&mut self, cpu: &Cpu<'_>, pool: &mut Pool) {
        while pool.n > 0 {
            pool.n -= 1;
            if let Some(p) = pool.nodes[pool.n].take() {
                self.free_node(cpu, p);
            }
        }
    }
}

/// Insert `e` at position `i` of a leaf that has room.
fn put_leaf(n: NodePtr, i: usize, e: (usize, usize, usize)) {
    let node = n.get_mut();
    let cnt = node.len();
    debug_assert!(cnt < LEAF_SLOTS);
    let l = node.leaf_mut();
    l.start.copy_within(i..cnt, i + 1);
    l.end.copy_within(i..cnt, i + 1);
    l.value.copy_within(i..cnt, i + 1);
    l.start[i] = e.0;
    l.end[i] = e.1;
    l.value[i] = e.2;
    node.count += 1;
}

/// Insert `child` at slot `i` of an internal node that has room.
fn put_child(n: NodePtr, i: usize, child: NodePtr) {
    let node = n.get_mut();
    let cnt = node.len();
    debug_assert!(cnt < INTERNAL_SLOTS);
    let c = node.internal_mut();
    c.min.copy_within(i..cnt, i + 1);
    c.pivot.copy_within(i..cnt, i + 1);
    c.gap.copy_within(i..cnt, i + 1);
    c.slot.copy_within(i..cnt, i + 1);
    node.count += 1;
    n.set_child(i, child);
}

/// Insert into the subtree at `n`; the new right sibling if `n` split.
fn insert_into(n: NodePtr, e: (usize, usize, usize), pool: &mut Pool) -> Option<NodePtr> {
    let node = n.get();
    let cnt = node.len();
    if node.is_leaf {
        let l = node.leaf();
        let i = l.start[..cnt].iter().take_while(|&&s| s < e.0).count();
        if cnt < LEAF_SLOTS {
            put_leaf(n, i, e);
            return None;
        }
        // Split: the upper half moves to a new right leaf; an append keeps
        // the left leaf as full as the right one's minimum allows, so that
        // ranges mapped in ascending order pack nodes densely.
        let right = pool.take(true);
        let keep = if i == cnt {
            LEAF_SLOTS + 1 - LEAF_MIN
        } else {
            LEAF_SLOTS.div_ceil(2)
        };
        move_leaf_tail(n, keep, right);
        if i <= keep {
            put_leaf(n, i, e);
        } else {
            put_leaf(right, i - keep, e);
        }
        return Some(right);
    }
    let c = node.internal();
    let mut i = c.pivot[..cnt].iter().take_while(|&&p| p <= e.0).count();
    if i == cnt {
        i = cnt - 1;
    }
    let split = insert_into(n.child(i), e, pool);
    n.refresh(i);
    let right_child = split?;
    if cnt < INTERNAL_SLOTS {
        put_child(n, i + 1, right_child);
        return None;
    }
    let right = pool.take(false);
    let keep = if i + 1 == cnt {
        INTERNAL_SLOTS + 1 - INTERNAL_MIN
    } else {
        INTERNAL_SLOTS.div_ceil(2)
    };
    move_internal_tail(n, keep, right);
    if i < keep {
        put_child(n, i + 1, right_child);
    } else {
        put_child(right, i + 1 - keep, right_child);
    }
    Some(right)
}

/// Move the ranges from position `from` on of leaf `n` to the empty `to`.
pub(super) fn move_leaf_tail(n: NodePtr, from: usize, to: NodePtr) {
    let src = n.get_mut();
    let cnt = src.len();
    let dst = to.get_mut();
    let base = dst.len();
    let k = cnt - from;
    let (s, d) = (src.leaf(), dst.leaf_mut());
    d.start[base..base + k].copy_from_slice(&s.start[from..cnt]);
    d.end[base..base + k].copy_from_slice(&s.end[from..cnt]);
    d.value[base..base + k].copy_from_slice(&s.value[from..cnt]);
    dst.count += k as u8;
    src.count = from as u8;
}

/// Move the children from slot `from` on of `n` to the end of `to`.
pub(super) fn move_internal_tail(n: NodePtr, from: usize, to: NodePtr) {
    let cnt = n.get().len();
    for j in from..cnt {
        let child = n.child(j);
        let at = to.get().len();
        to.get_mut().count += 1;
        to.set_child(at, child);
    }
    n.get_mut().count = from as u8;
}
