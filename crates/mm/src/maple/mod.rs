//! The VMA index: a B-tree of non-overlapping ranges in the style of Linux's
//! maple tree (lib/maple_tree.c, include/linux/maple_tree.h), used by
//! mm_struct as `mm_mt` for `find_vma`, `find_vma_prev`, `vma_lookup` and
//! `get_unmapped_area` (mm/mmap.c).
//!
//! A [`MapleTree`] maps half-open ranges `[start, end)` to a pointer-sized
//! value (the address of a `vm_area_struct`). Its nodes are 256-byte objects
//! of the `maple_node` slab cache in ferrite's RAM, as Linux's are; each
//! internal node records per child the largest free gap beneath it, so the
//! gap searches of `get_unmapped_area` ([`MapleTree::gap_area_topdown`],
//! [`MapleTree::gap_area_bottomup`], Linux's `mas_empty_area_rev` and
//! `mas_empty_area`) are O(log n), as are lookups, inserts and erases.
//!
//! Where ferrite differs from Linux:
//! - the node layout is ferrite's own (see `maple/node.rs`): a B+-tree whose leaves
//!   hold (start, end, value) triples instead of pivots whose NULL slots mark
//!   gaps; gaps between nodes are computed from neighbouring bounds;
//! - writers take `&mut self` (the caller's mmap lock), readers `&self`; there
//!   is no RCU reader mode and no `ma_state` cursor, and no `store_range` of
//!   arbitrary overlapping ranges: [`MapleTree::insert`] refuses overlaps;
//! - nodes needed by an insert are allocated before anything changes (as
//!   `mas_preallocate` does), so a failed insert leaves the tree unchanged;
//! - [`MapleTree::destroy`] must be called (it needs a CPU); dropping a tree
//!   that still has nodes leaks them, as skipping `mtree_destroy` would.

mod erase;
mod gap;
mod insert;
mod node;
mod search;

use core::fmt;
use core::ptr;

use crate::gfp::Gfp;
use crate::mem::Mem;
use crate::percpu::Cpu;
use crate::slab::{KmemCache, OwnedCache, SlabFlags};
use crate::MmError;
use node::{Node, NodePtr, INTERNAL_MIN, LEAF_MIN};

pub use node::{INTERNAL_SLOTS, LEAF_SLOTS, NODE_SIZE};
pub use search::Iter;

/// Name of the node cache, as in /proc/slabinfo.
pub const MAPLE_NODE_CACHE: &str = "maple_node";
/// Deepest a tree may grow (a tree of height 32 holds more than 2^64 ranges).
pub const MAX_HEIGHT: usize = 32;

/// Why a tree operation failed; the tree is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapleError {
    /// The range overlaps one already stored (EEXIST).
    Exists,
    /// A node could not be allocated (ENOMEM).
    NoMemory,
    /// `start >= end` (EINVAL).
    Invalid,
}

impl MapleError {
    /// The Linux errno value (positive).
    pub fn errno(self) -> i32 {
        match self {
            MapleError::Exists => 17,
            MapleError::NoMemory => 12,
            MapleError::Invalid => 22,
        }
    }
}

impl fmt::Display for MapleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MapleError::Exists => "range overlaps an existing range (EEXIST)",
            MapleError::NoMemory => "cannot allocate a maple node (ENOMEM)",
            MapleError::Invalid => "empty or inverted range (EINVAL)",
        })
    }
}

/// A stored range: `(start, end, value)` with `[start, end)` half-open.
pub type Entry = (usize, usize, usize);

/// `struct maple_tree` of non-overlapping ranges.
pub struct MapleTree<'c> {
    cache: &'c KmemCache,
    root: *mut Node,
    /// Levels: 0 when empty, 1 when the root is a leaf.
    height: usize,
    len: usize,
    nodes: usize,
    /// How node allocations may wait (`GFP_KERNEL`; a caller that holds a
    /// spin lock around an insert sets `GFP_NOWAIT`, as the xarray's
    /// `xas_nomem` pattern does).
    gfp: Gfp,
}

// SAFETY: the tree owns its nodes exclusively (no other handle reaches them)
// and they live in ferrite's RAM, which outlives the cache borrow `'c`;
// `&self` methods only read nodes, `&mut self` methods alone write them.
unsafe impl Send for MapleTree<'_> {}
// SAFETY: as above: shared access never writes.
unsafe impl Sync for MapleTree<'_> {}

impl<'c> MapleTree<'c> {
    /// Create the `maple_node` cache (Linux's `maple_tree_init`): call once
    /// per `Mem` and share the cache between trees.
    pub fn create_cache(mem: &Mem) -> Result<OwnedCache<'_>, MmError> {
        mem.kmem_cache_create(
            MAPLE_NODE_CACHE,
            NODE_SIZE,
            NODE_SIZE,
            SlabFlags::empty(),
            None,
        )
    }

    /// An empty tree (`mt_init`) whose nodes come from `cache`.
    pub fn new(cache: &'c KmemCache) -> MapleTree<'c> {
        MapleTree {
            cache,
            root: ptr::null_mut(),
            height: 0,
            len: 0,
            nodes: 0,
            gfp: Gfp::GFP_KERNEL,
        }
    }

    /// Set how node allocations may wait (see the `gfp` field).
    pub fn set_gfp(&mut self, gfp: Gfp) {
        self.gfp = gfp;
    }

    /// Ranges stored.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no range is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Levels of nodes (0 when empty).
    pub fn height(&self) -> usize {
        self.height
    }

    /// Nodes the tree holds from its cache.
    pub fn node_count(&self) -> usize {
        self.nodes
    }

    /// The node cache.
    pub fn cache(&self) -> &'c KmemCache {
        self.cache
    }

    fn root(&self) -> Option<NodePtr> {
        NodePtr::from_raw(self.root)
    }

    fn alloc_node(&mut self, cpu: &Cpu<'_>, is_leaf: bool) -> Option<NodePtr> {
        let mem = cpu.kmem_cache_alloc(self.cache, self.gfp)?;
        self.nodes += 1;
        Some(Node::init(mem, is_leaf))
    }

    fn free_node(&mut self, cpu: &Cpu<'_>, n: NodePtr) {
        self.nodes -= 1;
        // A refused free is reported by the slab layer; the node was ours,
        // so that would be a slab bug, and there is nothing to undo here.
        let _ = cpu.kmem_cache_free(self.cache, n.0.cast());
    }

    /// `mtree_destroy`: free every node; the tree is empty afterwards.
    pub fn destroy(&mut self, cpu: &Cpu<'_>) {
        if let Some(root) = self.root() {
            self.free_subtree(cpu, root);
        }
        self.root = ptr::null_mut();
        self.height = 0;
        self.len = 0;
    }

    fn free_subtree(&mut self, cpu: &Cpu<'_>, n: NodePtr) {
        if !n.get().is_leaf {
            for i in 0..n.get().len() {
                let c = n.child(i);
                self.free_subtree(cpu, c);
            }
        }
        self.free_node(cpu, n);
    }

    /// Check every invariant (order, fill, summaries, parent links, depth,
    /// counts); a description of the first violation found.
    pub fn validate(&self) -> Result<(), &'static str> {
        let Some(root) = self.root() else {
            return if self.len == 0 && self.height == 0 && self.nodes == 0 {
                Ok(())
            } else {
                Err("empty root with nonzero counts")
            };
        };
        if !root.get().parent.is_null() {
            return Err("root has a parent");
        }
        let mut st = Walk {
            entries: 0,
            nodes: 0,
            last_end: None,
        };
        self.validate_node(root, 1, true, &mut st)?;
        if st.entries != self.len {
            return Err("len does not match the entries");
        }
        if st.nodes != self.nodes {
            return Err("node count does not match");
        }
        Ok(())
    }

    fn validate_node(
        &self,
        n: NodePtr,
        depth: usize,
        is_root: bool,
        st: &mut Walk,
    ) -> Result<(), &'static str> {
        st.nodes += 1;
        let node = n.get();
        let cnt = node.len();
        if cnt == 0 {
            return Err("empty node");
        }
        if node.is_leaf {
            if depth != self.height {
                return Err("leaf at the wrong depth");
            }
            if cnt > LEAF_SLOTS || (!is_root && cnt < LEAF_MIN) {
                return Err("leaf fill out of bounds");
            }
            let l = node.leaf();
            for j in 0..cnt {
                if l.start[j] >= l.end[j] {
                    return Err("empty range stored");
                }
                if let Some(e) = st.last_end {
                    if l.start[j] < e {
                        return Err("ranges out of order or overlapping");
                    }
                }
                st.last_end = Some(l.end[j]);
                st.entries += 1;
            }
            return Ok(());
        }
        if cnt > INTERNAL_SLOTS || cnt < if is_root { 2 } else { INTERNAL_MIN } {
            return Err("internal fill out of bounds");
        }
        for i in 0..cnt {
            let c = n.child(i);
            if c.get().parent != n.as_raw() {
                return Err("bad parent link");
            }
            self.validate_node(c, depth + 1, false, st)?;
            let s = c.get().summary();
            let r = node.internal();
            if (r.min[i], r.pivot[i], r.gap[i]) != (s.min, s.max, s.gap) {
                return Err("stale child summary");
            }
        }
        Ok(())
    }
}

struct Walk {
    entries: usize,
    nodes: usize,
    last_end: Option<usize>,
}

impl fmt::Debug for MapleTree<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
