//! Free-gap searches for `get_unmapped_area` (mm/mmap.c `unmapped_area` and
//! `unmapped_area_topdown`, over lib/maple_tree.c `mas_empty_area` and
//! `mas_empty_area_rev`).
//!
//! Each internal node records, per child, the largest gap between the ranges
//! beneath it, so a search skips every subtree whose largest gap is too
//! small or which lies outside `[low, high)`: O(log n). ferrite differs from
//! Linux in computing the gaps between neighbouring children from their
//! bounds rather than storing them as NULL slots, and in returning the
//! address directly (the caller adds guard gaps and alignment, as
//! `vm_unmapped_area` does around these searches). A `len` of 0 finds
//! nothing (Linux's `get_unmapped_area` refuses it with EINVAL).

use super::node::NodePtr;
use super::MapleTree;

/// Bounds of one search.
#[derive(Clone, Copy)]
struct Want {
    len: usize,
    low: usize,
    high: usize,
}

impl Want {
    /// The part of free interval `[s, e)` inside `[low, high)`, if `len` fits.
    #[inline]
    fn clip(self, s: usize, e: usize) -> Option<(usize, usize)> {
        let lo = s.max(self.low);
        let hi = e.min(self.high);
        (hi >= lo && hi - lo >= self.len).then_some((lo, hi))
    }

    fn top(self, s: usize, e: usize) -> Option<usize> {
        self.clip(s, e).map(|(_, hi)| hi - self.len)
    }

    fn bottom(self, s: usize, e: usize) -> Option<usize> {
        self.clip(s, e).map(|(lo, _)| lo)
    }

    /// Whether a subtree spanning `[min, max]` with largest inner gap `gap`
    /// cannot hold the area.
    #[inline]
    fn prune(self, min: usize, max: usize, gap: usize) -> bool {
        gap < self.len
            || max < self.low.saturating_add(self.len)
            || min.saturating_add(self.len) > self.high
    }
}

impl MapleTree<'_> {
    /// The highest `a` with `[a, a + len)` free, `low <= a` and
    /// `a + len <= high` (`unmapped_area_topdown` before guard gaps and
    /// alignment).
    pub fn gap_area_topdown(&self, len: usize, low: usize, high: usize) -> Option<usize> {
        let w = Want { len, low, high };
        if len == 0 || low >= high {
            return None;
        }
        let Some(root) = self.root() else {
            return w.top(0, usize::MAX);
        };
        let s = root.get().summary();
        w.top(s.max, usize::MAX)
            .or_else(|| {
                if w.prune(s.min, s.max, s.gap) {
                    None
                } else {
                    top_in(root, w)
                }
            })
            .or_else(|| w.top(0, s.min))
    }

    /// The lowest `a` with `[a, a + len)` free, `low <= a` and
    /// `a + len <= high` (`unmapped_area`, bottom-up).
    pub fn gap_area_bottomup(&self, len: usize, low: usize, high: usize) -> Option<usize> {
        let w = Want { len, low, high };
        if len == 0 || low >= high {
            return None;
        }
        let Some(root) = self.root() else {
            return w.bottom(0, usize::MAX);
        };
        let s = root.get().summary();
        w.bottom(0, s.min)
            .or_else(|| {
                if w.prune(s.min, s.max, s.gap) {
                    None
                } else {
                    bottom_in(root, w)
                }
            })
            .or_else(|| w.bottom(s.max, usize::MAX))
    }
}

/// Highest fitting area strictly between the ranges beneath `n`.
fn top_in(n: NodePtr, w: Want) -> Option<usize> {
    let node = n.get();
    let cnt = node.len();
    if node.is_leaf {
        let l = node.leaf();
        return (1..cnt).rev().find_map(|j| w.top(l.end[j - 1], l.start[j]));
    }
    let c = node.internal();
    for j in (0..cnt).rev() {
        if !w.prune(c.min[j], c.pivot[j], c.gap[j]) {
            if let Some(a) = top_in(n.child(j), w) {
                return Some(a);
            }
        }
        if j > 0 {
            if let Some(a) = w.top(c.pivot[j - 1], c.min[j]) {
                return Some(a);
            }
        }
    }
    None
}

/// Lowest fitting area strictly between the ranges beneath `n`.
fn bottom_in(n: NodePtr, w: Want) -> Option<usize> {
    let node = n.get();
    let cnt = node.len();
    if node.is_leaf {
        let l = node.leaf();
        return (1..cnt).find_map(|j| w.bottom(l.end[j - 1], l.start[j]));
    }
    let c = node.internal();
    for j in 0..cnt {
        if j > 0 {
            if let Some(a) = w.bottom(c.pivot[j - 1], c.min[j]) {
                return Some(a);
            }
        }
        if !w.prune(c.min[j], c.pivot[j], c.gap[j]) {
            if let Some(a) = bottom_in(n.child(j), w) {
                return Some(a);
            }
        }
    }
    None
}
