//! Lookups: `find_vma` ([`MapleTree::find`], Linux's `mt_find` /
//! `mas_find`), `find_vma_prev` ([`MapleTree::find_prev`]),
//! `find_vma_intersection` and in-order iteration (`mas_for_each`), from
//! lib/maple_tree.c and mm/mmap.c.
//!
//! ferrite differs in walking its own B+-tree layout: an internal node is
//! searched by its children's last ends, a leaf by its ranges' ends; the
//! iterator climbs by parent links instead of a `ma_state`.

use super::node::NodePtr;
use super::{Entry, MapleTree};

/// First index `i < n` with `keys[i] > addr`, or `n` (`keys[..n]` sorted).
#[inline(always)]
fn first_above(keys: &[usize], n: usize, addr: usize) -> usize {
    let mut i = 0;
    while i < n && keys[i] <= addr {
        i += 1;
    }
    i
}

impl MapleTree<'_> {
    /// `find_vma`: the first range whose end is above `addr` (it contains
    /// `addr` or lies wholly above it).
    pub fn find(&self, addr: usize) -> Option<Entry> {
        let mut n = self.root()?;
        loop {
            let node = n.get();
            let cnt = node.len();
            if node.is_leaf {
                let l = node.leaf();
                let i = first_above(&l.end, cnt, addr);
                return (i < cnt).then(|| (l.start[i], l.end[i], l.value[i]));
            }
            let c = node.internal();
            let i = first_above(&c.pivot, cnt, addr);
            if i == cnt {
                return None;
            }
            n = n.child(i);
        }
    }

    /// `vma_lookup`: the range containing `addr`.
    pub fn find_containing(&self, addr: usize) -> Option<Entry> {
        self.find(addr).filter(|e| e.0 <= addr)
    }

    /// `find_vma_intersection`: the first range overlapping `[start, end)`.
    pub fn find_intersection(&self, start: usize, end: usize) -> Option<Entry> {
        if start >= end {
            return None;
        }
        self.find(start).filter(|e| e.0 < end)
    }

    /// `find_vma_prev`'s `pprev`: the last range ending at or below `addr`,
    /// i.e. the range just before `find(addr)`.
    pub fn find_prev(&self, addr: usize) -> Option<Entry> {
        let mut n = self.root()?;
        // The nearest subtree left of the descent path, for when the leaf
        // reached has nothing at or below addr.
        let mut left: Option<NodePtr> = None;
        loop {
            let node = n.get();
            let cnt = node.len();
            if node.is_leaf {
                let l = node.leaf();
                let i = first_above(&l.end, cnt, addr);
                if i > 0 {
                    return Some((l.start[i - 1], l.end[i - 1], l.value[i - 1]));
                }
                return left.map(last_entry);
            }
            let c = node.internal();
            let i = first_above(&c.pivot, cnt, addr);
            if i == cnt {
                return Some(last_entry(n));
            }
            if i > 0 {
                left = Some(n.child(i - 1));
            }
            n = n.child(i);
        }
    }

    /// The last range, if any.
    pub fn last(&self) -> Option<Entry> {
        self.root().map(last_entry)
    }

    /// The first range, if any.
    pub fn first(&self) -> Option<Entry> {
        self.find(0)
    }

    /// Every range in order of address.
    pub fn iter(&self) -> Iter<'_> {
        let mut n = self.root();
        while let Some(p) = n {
            if p.get().is_leaf {
                break;
            }
            n = Some(p.child(0));
        }
        Iter {
            leaf: n,
            idx: 0,
            _tree: core::marker::PhantomData,
        }
    }
}

/// The last range beneath `n`.
fn last_entry(mut n: NodePtr) -> Entry {
    loop {
        let node = n.get();
        let cnt = node.len();
        if node.is_leaf {
            let l = node.leaf();
            return (l.start[cnt - 1], l.end[cnt - 1], l.value[cnt - 1]);
        }
        n = n.child(cnt - 1);
    }
}

/// In-order iterator over a tree's ranges.
pub struct Iter<'t> {
    leaf: Option<NodePtr>,
    idx: usize,
    _tree: core::marker::PhantomData<&'t MapleTree<'t>>,
}

impl Iterator for Iter<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let n = self.leaf?;
        let node = n.get();
        if self.idx < node.len() {
            let l = node.leaf();
            let i = self.idx;
            self.idx += 1;
            return Some((l.start[i], l.end[i], l.value[i]));
        }
        // Climb until a parent has a child to our right, then go down its
        // leftmost side.
        let mut cur = n;
        loop {
            let Some(parent) = NodePtr::from_raw(cur.get().parent) else {
                self.leaf = None;
                return None;
            };
            let p = parent.get();
            let slots = &p.internal().slot[..p.len()];
            let pos = slots.iter().position(|&s| s == cur.as_raw())?;
            if pos + 1 < p.len() {
                let mut d = parent.child(pos + 1);
                while !d.get().is_leaf {
                    d = d.child(0);
                }
                self.leaf = Some(d);
                self.idx = 0;
                return self.next();
            }
            cur = parent;
        }
    }
}
