//! `/proc/buddyinfo` (mm/vmstat.c): per zone, the number of free blocks of
//! each order on the buddy lists. ferrite has node 0 with one zone, Normal.
//! Blocks on the per-CPU lists are not counted, as in Linux.

use alloc::string::String;
use core::fmt::Write;

use crate::mem::Mem;

/// One zone's line: `Node N, zone NAME` with the name right-aligned in 8
/// columns, then each count in 6 columns followed by a space (so the line
/// ends with a space before its newline, as Linux's does).
pub fn format_buddyinfo(node: usize, zone: &str, counts: &[usize]) -> String {
    let mut s = String::with_capacity(22 + counts.len() * 7);
    let _ = write!(s, "Node {node}, zone {zone:>8} ");
    for n in counts {
        let _ = write!(s, "{n:>6} ");
    }
    s.push('\n');
    s
}

/// `/proc/buddyinfo` of `mem`.
pub fn buddyinfo(mem: &Mem) -> String {
    format_buddyinfo(0, "Normal", &mem.buddy_counts())
}
