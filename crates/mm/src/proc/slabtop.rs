//! What procps' `slabtop -o -s c` prints for ferrite's caches: five summary
//! lines, a blank line, a column header, then one row per cache, biggest
//! cache (slab pages) first, ties by name.
//!
//! Written from slabtop's documented output, computed as slabtop computes it
//! from the /proc/slabinfo rows: an *active* cache is one with objects at all
//! (`num_objs > 0`, as slabtop counts them); the average object size is the
//! total object bytes divided by the number of objects, in whole bytes; a
//! cache's size is its slabs × pages per slab × page size; `USE` is the
//! integer percentage of active objects (0 for a cache without objects).
//! Percentages of a zero total print as `0.0` (slabtop would print `nan`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::mem::Mem;
use crate::page::PAGE_SIZE;
use crate::slab::SlabInfo;

/// The column header line (with its trailing spaces and newline).
pub const COLUMNS: &str =
    "  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME                   \n";

/// The totals of slabtop's summary lines; sizes in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SlabtopStats {
    pub active_objs: usize,
    pub objs: usize,
    pub active_slabs: usize,
    pub slabs: usize,
    pub active_caches: usize,
    pub caches: usize,
    pub active_size: usize,
    pub total_size: usize,
    pub min_obj: usize,
    pub avg_obj: usize,
    pub max_obj: usize,
}

impl SlabtopStats {
    /// The totals over `rows`.
    pub fn of(rows: &[SlabInfo]) -> SlabtopStats {
        let mut st = SlabtopStats {
            min_obj: usize::MAX,
            ..SlabtopStats::default()
        };
        for r in rows {
            st.min_obj = st.min_obj.min(r.objsize);
            st.max_obj = st.max_obj.max(r.objsize);
            st.objs += r.num_objs;
            st.active_objs += r.active_objs;
            st.slabs += r.num_slabs;
            st.active_slabs += r.active_slabs;
            st.total_size += r.num_objs * r.objsize;
            st.active_size += r.active_objs * r.objsize;
            st.active_caches += usize::from(r.num_objs > 0);
        }
        st.caches = rows.len();
        if rows.is_empty() {
            st.min_obj = 0;
        }
        st.avg_obj = st.total_size.checked_div(st.objs).unwrap_or(0);
        st
    }
}

/// Bytes of slab pages of a cache (slabtop's CACHE SIZE, in bytes).
pub fn cache_size(r: &SlabInfo) -> usize {
    r.num_slabs * r.pagesperslab * PAGE_SIZE
}

/// `part` as a percentage of `total`, computed as slabtop computes it.
fn pct(part: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * part as f64 / total as f64
    }
}

fn kib(bytes: usize) -> f64 {
    bytes as f64 / 1024.0
}

/// The five summary lines and the blank line after them.
pub fn format_slabtop_summary(st: &SlabtopStats) -> String {
    let mut s = String::with_capacity(6 * 64);
    let _ = writeln!(
        s,
        " Active / Total Objects (% used)    : {} / {} ({:.1}%)",
        st.active_objs,
        st.objs,
        pct(st.active_objs, st.objs)
    );
    let _ = writeln!(
        s,
        " Active / Total Slabs (% used)      : {} / {} ({:.1}%)",
        st.active_slabs,
        st.slabs,
        pct(st.active_slabs, st.slabs)
    );
    let _ = writeln!(
        s,
        " Active / Total Caches (% used)     : {} / {} ({:.1}%)",
        st.active_caches,
        st.caches,
        pct(st.active_caches, st.caches)
    );
    let _ = writeln!(
        s,
        " Active / Total Size (% used)       : {:.2}K / {:.2}K ({:.1}%)",
        kib(st.active_size),
        kib(st.total_size),
        pct(st.active_size, st.total_size)
    );
    let _ = writeln!(
        s,
        " Minimum / Average / Maximum Object : {:.2}K / {:.2}K / {:.2}K",
        kib(st.min_obj),
        kib(st.avg_obj),
        kib(st.max_obj)
    );
    s.push('\n');
    s
}

/// Append one cache's row (with its newline).
pub fn format_slabtop_row(out: &mut String, r: &SlabInfo) {
    let use_pct = (r.active_objs * 100).checked_div(r.num_objs).unwrap_or(0);
    let _ = writeln!(
        out,
        "{:>6} {:>6} {:>3}% {:>7.2}K {:>6} {:>8} {:>9}K {:<23}",
        r.num_objs,
        r.active_objs,
        use_pct,
        kib(r.objsize),
        r.num_slabs,
        r.objperslab,
        cache_size(r) / 1024,
        r.name
    );
}

/// Sort rows as `slabtop -s c`: biggest cache first, ties by name.
pub fn sort_by_cache_size(rows: &mut [SlabInfo]) {
    rows.sort_by(|a, b| {
        cache_size(b)
            .cmp(&cache_size(a))
            .then_with(|| a.name.cmp(&b.name))
    });
}

/// The whole output for these rows (sorted here; the order given does not matter).
pub fn format_slabtop(rows: &[SlabInfo]) -> String {
    let mut sorted = rows.to_vec();
    sort_by_cache_size(&mut sorted);
    let mut s = format_slabtop_summary(&SlabtopStats::of(&sorted));
    s.push_str(COLUMNS);
    for r in &sorted {
        format_slabtop_row(&mut s, r);
    }
    s
}

/// `mem`'s /proc/slabinfo rows in slabtop's order.
pub fn slabtop_rows(mem: &Mem) -> Vec<SlabInfo> {
    let mut rows = mem.slabinfo();
    sort_by_cache_size(&mut rows);
    rows
}

/// `slabtop -o -s c` for `mem`.
pub fn slabtop(mem: &Mem) -> String {
    format_slabtop(&mem.slabinfo())
}
