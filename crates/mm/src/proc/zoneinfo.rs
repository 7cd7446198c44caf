//! `/proc/zoneinfo` (mm/vmstat.c `zoneinfo_show_print`), a faithful subset
//! for ferrite's one zone, node 0 `Normal`: the same lines, labels and
//! spacing as Linux prints, in the same order, with some lines left out.
//!
//! Printed:
//! - `pages free` (buddy lists only, Linux's `NR_FREE_PAGES`), `boost` (0:
//!   ferrite does no watermark boosting), `min`, `low`, `high`, `spanned`,
//!   `present`, `managed`;
//! - `pagesets`: per CPU, the pages on its per-CPU lists (`count`) and the
//!   lists' `high` and `batch`, in the format of Linux before 6.7 (which added
//!   `high_min`/`high_max`);
//! - `node_unreclaimable` (0: ferrite has no reclaim that could give up on
//!   the node) and `start_pfn`.
//!
//! Left out:
//! - the `per-node stats` block and the per-zone `nr_*` / NUMA counters:
//!   ferrite keeps only a few node counters (they are in /proc/meminfo) and no
//!   zone counters besides free pages, so most of those lines would be made up;
//! - `promo` (memory-tiering watermark: one node, no tiers) and `cma` (no CMA);
//! - `protection:` (`lowmem_reserve`): Linux prints one entry per zone type of
//!   its configuration, which ferrite, with one zone, has no honest list of;
//! - per-CPU `vm stats threshold` (ferrite's counters are not batched per CPU).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use crate::mem::Mem;

/// One CPU's `pagesets` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pageset {
    /// Pages on the CPU's lists.
    pub count: usize,
    /// `pcp->high`.
    pub high: usize,
    /// `pcp->batch`.
    pub batch: usize,
}

/// What /proc/zoneinfo prints for one zone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZoneInfo {
    pub node: usize,
    pub zone: &'static str,
    pub free: usize,
    pub boost: usize,
    pub min: usize,
    pub low: usize,
    pub high: usize,
    pub spanned: usize,
    pub present: usize,
    pub managed: usize,
    /// One per CPU, in CPU order.
    pub pagesets: Vec<Pageset>,
    pub node_unreclaimable: u32,
    pub start_pfn: usize,
}

/// The text for one zone.
pub fn format_zoneinfo(z: &ZoneInfo) -> String {
    let mut s = String::with_capacity(320 + z.pagesets.len() * 100);
    let _ = write!(s, "Node {}, zone {:>8}", z.node, z.zone);
    let _ = write!(s, "\n  pages free     {}", z.free);
    let _ = write!(s, "\n        boost    {}", z.boost);
    let _ = write!(s, "\n        min      {}", z.min);
    let _ = write!(s, "\n        low      {}", z.low);
    let _ = write!(s, "\n        high     {}", z.high);
    let _ = write!(s, "\n        spanned  {}", z.spanned);
    let _ = write!(s, "\n        present  {}", z.present);
    let _ = write!(s, "\n        managed  {}", z.managed);
    s.push_str("\n  pagesets");
    for (cpu, p) in z.pagesets.iter().enumerate() {
        let _ = write!(s, "\n    cpu: {cpu}");
        let _ = write!(s, "\n              count: {}", p.count);
        let _ = write!(s, "\n              high:  {}", p.high);
        let _ = write!(s, "\n              batch: {}", p.batch);
    }
    let _ = write!(s, "\n  node_unreclaimable:  {}", z.node_unreclaimable);
    let _ = write!(s, "\n  start_pfn:           {}", z.start_pfn);
    s.push('\n');
    s
}

/// Pages on `cpu`'s per-CPU lists, from the mirror the page allocator keeps
/// for reports (0 for a CPU that does not exist).
fn pcp_count(mem: &Mem, cpu: usize) -> usize {
    mem.pcp_count(cpu)
}

/// `mem`'s zone as /proc/zoneinfo shows it.
pub fn zoneinfo_data(mem: &Mem) -> ZoneInfo {
    let (start_pfn, spanned, present, managed) = mem.zone().span();
    let (min, low, high) = mem.watermarks();
    let (pcp_high, pcp_batch) = mem.pcp_tuning();
    ZoneInfo {
        node: 0,
        zone: "Normal",
        free: mem.nr_free_pages(),
        boost: 0,
        min,
        low,
        high,
        spanned,
        present,
        managed,
        pagesets: (0..mem.nr_cpus())
            .map(|cpu| Pageset {
                count: pcp_count(mem, cpu),
                high: pcp_high,
                batch: pcp_batch,
            })
            .collect(),
        node_unreclaimable: 0,
        start_pfn,
    }
}

/// `/proc/zoneinfo` of `mem`.
pub fn zoneinfo(mem: &Mem) -> String {
    format_zoneinfo(&zoneinfo_data(mem))
}
