//! Choosing a cache's geometry: object stride, slab order, objects per slab
//! and colours (mm/slab.c `calculate_slab_order`, `cache_estimate`).
//!
//! A slab of order k is laid out as
//! `[colour pad][obj 0][obj 1]...[obj num-1][free space][freelist]`:
//! the freelist (the notes' `kmem_bufctl_t` array, one index per object,
//! `u8` when a slab holds at most 256 objects) sits at the end, the colour
//! pad shifts the objects by a multiple of the cache line, cycling through
//! the slack from one slab to the next.

use crate::page::{MAX_ORDER, PAGE_SIZE};

/// Cache line size used for colouring and SLAB_HWCACHE_ALIGN.
pub const CACHE_LINE: usize = 64;
/// Highest order tried for a cache's slabs before settling for the best seen.
const SLAB_MAX_ORDER: u32 = 5;

/// The computed geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Slab order.
    pub order: u32,
    /// Objects per slab.
    pub num: usize,
    /// Bytes per freelist entry (1 or 2).
    pub idx_size: usize,
    /// Number of distinct colours.
    pub colour: usize,
    /// Bytes per colour step.
    pub colour_off: usize,
}

/// How many objects of `size` fit in a slab of `order`, and the slack left.
pub fn cache_estimate(order: u32, size: usize) -> (usize, usize, usize) {
    let bytes = PAGE_SIZE << order;
    let mut num = bytes / (size + 1);
    let mut idx = 1;
    if num > 256 {
        idx = 2;
        num = bytes / (size + 2);
    }
    let num = num.min(u16::MAX as usize);
    let left = bytes - num * size - num * idx;
    (num, idx, left)
}

/// Pick the smallest order whose slack is at most 1/8 of the slab (Linux's
/// rule), or the least wasteful order up to MAX_ORDER for big objects.
pub fn calculate_slab_order(size: usize, align: usize) -> Option<Geometry> {
    let colour_off = CACHE_LINE.max(align);
    let mut best: Option<(Geometry, usize)> = None;
    for order in 0..=MAX_ORDER {
        let (num, idx_size, left) = cache_estimate(order, size);
        if num == 0 {
            continue;
        }
        let g = Geometry {
            order,
            num,
            idx_size,
            colour: left / colour_off,
            colour_off,
        };
        let bytes = PAGE_SIZE << order;
        if left * 8 <= bytes {
            return Some(g);
        }
        // Compare waste as a fraction: left/bytes.
        let better = match &best {
            None => true,
            Some((bg, bleft)) => left * (PAGE_SIZE << bg.order) < *bleft * bytes,
        };
        if better {
            best = Some((g, left));
        }
        if order >= SLAB_MAX_ORDER && best.is_some() {
            break;
        }
    }
    best.map(|(g, _)| g)
}

/// The per-CPU array cache limit SLAB uses for an object size
/// (`enable_cpucache`): many small objects, few big ones.
pub fn array_cache_limit(size: usize) -> usize {
    if size > 131_072 {
        1
    } else if size > PAGE_SIZE {
        8
    } else if size > 1024 {
        24
    } else if size > 256 {
        54
    } else {
        120
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_objects_fill_one_page() {
        let g = calculate_slab_order(8, 8).unwrap();
        assert_eq!((g.order, g.num, g.idx_size), (0, 409, 2));
        let g = calculate_slab_order(96, 8).unwrap();
        assert_eq!((g.order, g.num), (0, 42));
        let g = calculate_slab_order(192, 8).unwrap();
        assert_eq!((g.order, g.num), (0, 21));
    }

    #[test]
    fn waste_is_at_most_an_eighth() {
        for size in (8..=8192).step_by(8) {
            let g = calculate_slab_order(size, 8).unwrap();
            let bytes = PAGE_SIZE << g.order;
            let left = bytes - g.num * (size + g.idx_size);
            assert!(
                left * 8 <= bytes,
                "size {size}: order {} left {left}",
                g.order
            );
        }
    }

    #[test]
    fn colours_cover_the_slack() {
        let g = calculate_slab_order(200, 8).unwrap();
        let left = (PAGE_SIZE << g.order) - g.num * (200 + g.idx_size);
        assert_eq!(g.colour, left / 64);
    }
}
