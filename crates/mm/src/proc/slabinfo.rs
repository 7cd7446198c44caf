//! `/proc/slabinfo`, version 2.1 (mm/slab_common.c): a header, a column
//! line, then one row per cache, newest cache first.
//!
//! ferrite's slab is the SLAB design, so the tunables columns carry real
//! values (array-cache limit and batch count); `sharedfactor` and
//! `sharedavail` are 0 because ferrite has no shared array cache.

use alloc::string::String;
use core::fmt::Write;

use crate::mem::Mem;
use crate::slab::SlabInfo;

/// The first two lines of the file.
pub const HEADER: &str = "slabinfo - version: 2.1\n\
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> \
: tunables <limit> <batchcount> <sharedfactor> \
: slabdata <active_slabs> <num_slabs> <sharedavail>\n";

/// Append one row (with its newline) in Linux's column widths.
pub fn format_slabinfo_row(out: &mut String, r: &SlabInfo) {
    let _ = writeln!(
        out,
        "{:<17} {:>6} {:>6} {:>6} {:>4} {:>4} : tunables {:>4} {:>4} {:>4} : slabdata {:>6} {:>6} {:>6}",
        r.name,
        r.active_objs,
        r.num_objs,
        r.objsize,
        r.objperslab,
        r.pagesperslab,
        r.limit,
        r.batchcount,
        r.sharedfactor,
        r.active_slabs,
        r.num_slabs,
        r.sharedavail,
    );
}

/// The whole file for these rows, in the order given.
pub fn format_slabinfo(rows: &[SlabInfo]) -> String {
    let mut s = String::with_capacity(HEADER.len() + rows.len() * 112);
    s.push_str(HEADER);
    for r in rows {
        format_slabinfo_row(&mut s, r);
    }
    s
}

/// `/proc/slabinfo` of `mem`.
pub fn slabinfo(mem: &Mem) -> String {
    format_slabinfo(&mem.slabinfo())
}
