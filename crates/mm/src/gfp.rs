//! GFP flags: how an allocation may behave (include/linux/gfp_types.h).
//!
//! What each flag means in ferrite:
//! - `__GFP_DIRECT_RECLAIM`: the caller may wait. Before failing, the page
//!   allocator drains every hart's per-CPU lists (waiting for busy harts to
//!   do it) and shrinks the slab caches. Part of `GFP_KERNEL`.
//! - `__GFP_KSWAPD_RECLAIM`: accepted for Linux compatibility; ferrite has no
//!   kswapd yet, so it changes nothing.
//! - `__GFP_IO`, `__GFP_FS`: accepted; ferrite has no reclaim that does I/O yet.
//! - `__GFP_HIGH`: the caller cannot wait and may dip into half of the `min`
//!   watermark reserve (Linux's ALLOC_MIN_RESERVE). Part of `GFP_ATOMIC`.
//! - `__GFP_ZERO`: return zeroed memory.
//! - `__GFP_NOWARN`: do not print the "page allocation failure" report.
//! - `__GFP_COMP`: make a compound page (head and tail pages marked), so that
//!   any address inside it leads back to the head; large kmalloc uses it.

use bitflags::bitflags;

bitflags! {
    /// `gfp_t`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct Gfp: u32 {
        const __GFP_HIGH = 1 << 5;
        const __GFP_IO = 1 << 6;
        const __GFP_FS = 1 << 7;
        const __GFP_ZERO = 1 << 8;
        const __GFP_DIRECT_RECLAIM = 1 << 10;
        const __GFP_KSWAPD_RECLAIM = 1 << 11;
        const __GFP_NOWARN = 1 << 13;
        const __GFP_COMP = 1 << 18;
    }
}

impl Gfp {
    /// Either kind of reclaim.
    pub const __GFP_RECLAIM: Gfp = Gfp::__GFP_DIRECT_RECLAIM.union(Gfp::__GFP_KSWAPD_RECLAIM);
    /// Normal kernel allocation: may sleep and reclaim.
    pub const GFP_KERNEL: Gfp = Gfp::__GFP_RECLAIM.union(Gfp::__GFP_IO).union(Gfp::__GFP_FS);
    /// Cannot sleep; may use part of the emergency reserve.
    pub const GFP_ATOMIC: Gfp = Gfp::__GFP_HIGH.union(Gfp::__GFP_KSWAPD_RECLAIM);
    /// Cannot sleep, no reserve.
    pub const GFP_NOWAIT: Gfp = Gfp::__GFP_KSWAPD_RECLAIM;

    /// Whether the caller may wait for other harts (direct reclaim).
    #[inline]
    pub fn may_wait(self) -> bool {
        self.contains(Gfp::__GFP_DIRECT_RECLAIM)
    }

    /// Linux's `%pGg` rendering: the composite name where one matches.
    pub fn name(self) -> alloc::string::String {
        use alloc::string::String;
        let mut rest = self;
        let mut parts: alloc::vec::Vec<&str> = alloc::vec::Vec::new();
        for (n, f) in [
            ("GFP_KERNEL", Gfp::GFP_KERNEL),
            ("GFP_ATOMIC", Gfp::GFP_ATOMIC),
        ] {
            if rest.contains(f) {
                parts.push(n);
                rest.remove(f);
            }
        }
        for (n, f) in self.iter_names() {
            if rest.contains(f) {
                parts.push(n);
                rest.remove(f);
            }
        }
        let mut s = String::new();
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                s.push('|');
            }
            s.push_str(p);
        }
        s
    }
}
