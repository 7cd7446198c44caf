//! The 256-byte node of the VMA tree and the only code that dereferences
//! node pointers (Linux's `struct maple_node` in include/linux/maple_tree.h).
//!
//! Linux packs a node as pivots plus slots, where a slot may be NULL so that
//! the node's pivots partition its whole index range (gaps are NULL entries).
//! ferrite's layout is its own, a B+-tree of ranges: a leaf holds up to
//! [`LEAF_SLOTS`] ranges as (start, end, value) triples; an internal node
//! holds up to [`INTERNAL_SLOTS`] children and, per child, the first start
//! and last end beneath it (its pivot) and the largest free gap strictly
//! between the ranges beneath it. Gaps between children are computed from
//! neighbouring (last end, first start) pairs, so no gap is ever split across
//! nodes. Every node records its parent, as `maple_node::parent` does.

use core::ptr::{self, NonNull};

/// Ranges per leaf node (Linux: 16 slots in a `maple_range_64` node).
pub const LEAF_SLOTS: usize = 10;
/// Children per internal node (Linux: 10 in a `maple_arange_64` node).
pub const INTERNAL_SLOTS: usize = 7;
/// Fewest ranges in a leaf other than the root.
pub const LEAF_MIN: usize = LEAF_SLOTS / 2;
/// Fewest children of an internal node other than the root.
pub const INTERNAL_MIN: usize = INTERNAL_SLOTS / 2;
/// Size of a node: one object of the `maple_node` cache.
pub const NODE_SIZE: usize = 256;

/// Leaf contents: ranges sorted by start, non-overlapping.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Leaf {
    pub start: [usize; LEAF_SLOTS],
    pub end: [usize; LEAF_SLOTS],
    pub value: [usize; LEAF_SLOTS],
}

/// Internal contents: per child its first start, last end (the pivot),
/// largest gap beneath it, and the child itself.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct Internal {
    pub min: [usize; INTERNAL_SLOTS],
    pub pivot: [usize; INTERNAL_SLOTS],
    pub gap: [usize; INTERNAL_SLOTS],
    pub slot: [*mut Node; INTERNAL_SLOTS],
}

#[derive(Clone, Copy)]
#[repr(C)]
pub union Body {
    pub leaf: Leaf,
    pub internal: Internal,
}

/// `struct maple_node`, as it lies in ferrite's RAM.
#[repr(C, align(256))]
pub struct Node {
    /// The parent node, null for the root.
    pub parent: *mut Node,
    /// Ranges (leaf) or children (internal) in use.
    pub count: u8,
    /// Whether this node is a leaf.
    pub is_leaf: bool,
    _pad: [u8; 6],
    body: Body,
}

const _: () = assert!(core::mem::size_of::<Node>() == NODE_SIZE);

/// What a parent records about one child: first start, last end, largest
/// gap between the ranges beneath it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    pub min: usize,
    pub max: usize,
    pub gap: usize,
}

impl Node {
    /// Write an empty node into freshly allocated cache memory.
    pub fn init(mem: NonNull<u8>, is_leaf: bool) -> NodePtr {
        let p = mem.cast::<Node>();
        let node = Node {
            parent: ptr::null_mut(),
            count: 0,
            is_leaf,
            _pad: [0; 6],
            body: Body {
                internal: Internal {
                    min: [0; INTERNAL_SLOTS],
                    pivot: [0; INTERNAL_SLOTS],
                    gap: [0; INTERNAL_SLOTS],
                    slot: [ptr::null_mut(); INTERNAL_SLOTS],
                },
            },
        };
        // SAFETY: `mem` is a fresh `maple_node` object: NODE_SIZE bytes,
        // 256-aligned (the cache's alignment), owned by the caller.
        unsafe { p.as_ptr().write(node) };
        NodePtr(p)
    }

    pub fn leaf(&self) -> &Leaf {
        debug_assert!(self.is_leaf);
        // SAFETY: both union variants are plain words (any bit pattern is a
        // valid usize or raw pointer), so reading either is defined.
        unsafe { &self.body.leaf }
    }

    pub fn leaf_mut(&mut self) -> &mut Leaf {
        debug_assert!(self.is_leaf);
        // SAFETY: as in `leaf`.
        unsafe { &mut self.body.leaf }
    }

    pub fn internal(&self) -> &Internal {
        debug_assert!(!self.is_leaf);
        // SAFETY: as in `leaf`.
        unsafe { &self.body.internal }
    }

    pub fn internal_mut(&mut self) -> &mut Internal {
        debug_assert!(!self.is_leaf);
        // SAFETY: as in `leaf`.
        unsafe { &mut self.body.internal }
    }

    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// First start, last end and largest inner gap of this subtree.
    pub fn summary(&self) -> Summary {
        let n = self.len();
        debug_assert!(n > 0);
        if self.is_leaf {
            let l = self.leaf();
            let mut gap = 0;
            for j in 1..n {
                gap = gap.max(l.start[j] - l.end[j - 1]);
            }
            Summary {
                min: l.start[0],
                max: l.end[n - 1],
                gap,
            }
        } else {
            let c = self.internal();
            let mut gap = c.gap[0];
            for j in 1..n {
                gap = gap.max(c.gap[j]).max(c.min[j] - c.pivot[j - 1]);
            }
            Summary {
                min: c.min[0],
                max: c.pivot[n - 1],
                gap,
            }
        }
    }
}

/// A pointer to a live node of one tree. The tree owns its nodes: `&self`
/// methods of the tree only read them, `&mut self` methods alone write, so
/// the references handed out here never alias a live `&mut`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NodePtr(pub NonNull<Node>);

impl NodePtr {
    pub fn from_raw(p: *mut Node) -> Option<NodePtr> {
        NonNull::new(p).map(NodePtr)
    }

    pub fn as_raw(self) -> *mut Node {
        self.0.as_ptr()
    }

    /// Read access to the node.
    pub fn get<'a>(self) -> &'a Node {
        // SAFETY: the pointer names a node initialised by `Node::init` and not
        // yet freed (the tree frees nodes only after unlinking them), in RAM
        // that outlives the tree; no `&mut` to it is live (see the type doc).
        unsafe { &*self.0.as_ptr() }
    }

    /// Write access to the node; callers hold the tree by `&mut`.
    #[allow(clippy::mut_from_ref)]
    pub fn get_mut<'a>(self) -> &'a mut Node {
        // SAFETY: as in `get`; the tree is borrowed mutably and each caller
        // drops this reference before making another to the same node.
        unsafe { &mut *self.0.as_ptr() }
    }

    /// Child `i` of an internal node.
    pub fn child(self, i: usize) -> NodePtr {
        let p = self.get().internal().slot[i];
        NodePtr::from_raw(p).expect("maple: null child in use")
    }

    /// Put `child` in slot `i` with its summary, and point it at us.
    pub fn set_child(self, i: usize, child: NodePtr) {
        let s = child.get().summary();
        child.get_mut().parent = self.as_raw();
        let c = self.get_mut().internal_mut();
        c.slot[i] = child.as_raw();
        c.min[i] = s.min;
        c.pivot[i] = s.max;
        c.gap[i] = s.gap;
    }

    /// Refresh what we record about child `i` after it changed.
    pub fn refresh(self, i: usize) {
        let child = self.child(i);
        self.set_child(i, child);
    }
}
