//! What procps' `pmap PID`, `pmap -x PID` and `pmap -d PID` print for a
//! 64-bit process (not a /proc file: pmap computes it from
//! `/proc/PID/maps`, or `/proc/PID/smaps` for `-x`).
//!
//! All three start with `PID:   CMDLINE`. Per mapping:
//! - `pmap`: address (16 hex digits), size `%6luK`, mode, mapping; then
//!   ` total %16luK`.
//! - `pmap -x`: a column header, address, Kbytes/RSS/Dirty each 7 wide, mode,
//!   mapping; then a dashed rule and `total kB` with the three sums.
//! - `pmap -d`: a column header, address, Kbytes 7 wide, mode, the offset as
//!   16 hex digits, the device as `%03x:%05x`, mapping; then a `mapped:`
//!   line with the writeable/private and shared sums.
//!
//! The mode is five characters: `r`, `w`, `x`, `s` or `-` (private), and a
//! last `-` (Solaris' `R` for unreserved swap, which procps never sets).
//! The mapping is the base name of the path; a mapping without a path
//! (heap, vdso, vvar, anonymous, ...) is `  [ anon ]`, or `  [ stack ]` when
//! it contains the process's `start_stack` (see [`pmap_mapping_name`]).

use alloc::string::String;
use core::fmt::Write;

use super::pid_maps::MapsRow;
use super::pid_smaps::SmapsRow;

/// Column header of `pmap -x`.
pub const PMAP_X_HEADER: &str = "Address           Kbytes     RSS   Dirty Mode  Mapping\n";
/// The rule above the `pmap -x` totals (with its trailing space).
pub const PMAP_X_RULE: &str = "---------------- ------- ------- ------- \n";
/// Column header of `pmap -d`.
pub const PMAP_D_HEADER: &str =
    "Address           Kbytes Mode  Offset           Device    Mapping\n";

/// One mapping as pmap shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PmapRow {
    /// Start address.
    pub start: u64,
    /// Size in kB.
    pub size_kb: u64,
    /// `r`.
    pub read: bool,
    /// `w`.
    pub write: bool,
    /// `x`.
    pub exec: bool,
    /// `s` (a MAP_SHARED mapping), else `-`.
    pub shared: bool,
    /// File offset in bytes (`pmap -d`).
    pub offset: u64,
    /// Device major (`pmap -d`).
    pub dev_major: u32,
    /// Device minor (`pmap -d`).
    pub dev_minor: u32,
    /// Resident kB (`pmap -x`: smaps `Rss`).
    pub rss_kb: u64,
    /// Dirty kB (`pmap -x`: smaps `Shared_Dirty` + `Private_Dirty`).
    pub dirty_kb: u64,
    /// The Mapping column, see [`pmap_mapping_name`].
    pub mapping: String,
}

/// The Mapping column for a mapping of `name` (the maps name) covering
/// `start..start + len`: the base name after the last `/` of a path (the
/// `/` itself if the path ends with one), otherwise `  [ stack ]` if
/// `start_stack` lies in `start..=start + len`, else `  [ anon ]`.
pub fn pmap_mapping_name(name: Option<&str>, start: u64, len: u64, start_stack: u64) -> String {
    if let Some(n) = name {
        if let Some(i) = n.rfind('/') {
            let base = &n[i + 1..];
            return String::from(if base.is_empty() { "/" } else { base });
        }
    }
    let stack = start_stack >= start && start_stack <= start.saturating_add(len);
    String::from(if stack { "  [ stack ]" } else { "  [ anon ]" })
}

impl PmapRow {
    /// The row for a maps line of a process whose stack starts at
    /// `start_stack` (RSS and Dirty 0: the maps file does not have them).
    pub fn from_maps(m: &MapsRow, start_stack: u64) -> PmapRow {
        let len = m.end.saturating_sub(m.start);
        PmapRow {
            start: m.start,
            size_kb: len >> 10,
            read: m.read,
            write: m.write,
            exec: m.exec,
            shared: m.shared,
            offset: m.offset,
            dev_major: m.dev_major,
            dev_minor: m.dev_minor,
            rss_kb: 0,
            dirty_kb: 0,
            mapping: pmap_mapping_name(m.name.as_deref(), m.start, len, start_stack),
        }
    }

    /// The row for an smaps entry (with RSS and Dirty, as `pmap -x`).
    pub fn from_smaps(s: &SmapsRow, start_stack: u64) -> PmapRow {
        PmapRow {
            rss_kb: s.rss_kb,
            dirty_kb: s.shared_dirty_kb + s.private_dirty_kb,
            ..PmapRow::from_maps(&s.maps, start_stack)
        }
    }

    /// The five mode characters, e.g. `r-x--`.
    pub fn mode(&self) -> [char; 5] {
        [
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.exec { 'x' } else { '-' },
            if self.shared { 's' } else { '-' },
            '-',
        ]
    }
}

fn push_mode(out: &mut String, r: &PmapRow) {
    for c in r.mode() {
        out.push(c);
    }
}

fn header(out: &mut String, pid: u32, cmdline: &str) {
    let _ = writeln!(out, "{pid}:   {cmdline}");
}

fn total_kb(rows: &[PmapRow]) -> u64 {
    rows.iter().map(|r| r.size_kb).sum()
}

/// `pmap PID`.
pub fn format_pmap(pid: u32, cmdline: &str, rows: &[PmapRow]) -> String {
    let mut s = String::with_capacity(64 + rows.len() * 48);
    header(&mut s, pid, cmdline);
    for r in rows {
        let _ = write!(s, "{:016x} {:>6}K ", r.start, r.size_kb);
        push_mode(&mut s, r);
        let _ = writeln!(s, " {}", r.mapping);
    }
    let _ = writeln!(s, " total {:>16}K", total_kb(rows));
    s
}

/// `pmap -x PID`.
pub fn format_pmap_x(pid: u32, cmdline: &str, rows: &[PmapRow]) -> String {
    let mut s = String::with_capacity(160 + rows.len() * 64);
    header(&mut s, pid, cmdline);
    s.push_str(PMAP_X_HEADER);
    for r in rows {
        let _ = write!(
            s,
            "{:016x} {:>7} {:>7} {:>7} ",
            r.start, r.size_kb, r.rss_kb, r.dirty_kb
        );
        push_mode(&mut s, r);
        let _ = writeln!(s, " {}", r.mapping);
    }
    s.push_str(PMAP_X_RULE);
    let rss: u64 = rows.iter().map(|r| r.rss_kb).sum();
    let dirty: u64 = rows.iter().map(|r| r.dirty_kb).sum();
    let _ = writeln!(
        s,
        "{:<16} {:>7} {:>7} {:>7}",
        "total kB",
        total_kb(rows),
        rss,
        dirty
    );
    s
}

/// `pmap -d PID`.
pub fn format_pmap_d(pid: u32, cmdline: &str, rows: &[PmapRow]) -> String {
    let mut s = String::with_capacity(160 + rows.len() * 80);
    header(&mut s, pid, cmdline);
    s.push_str(PMAP_D_HEADER);
    let (mut writeable, mut shared) = (0u64, 0u64);
    for r in rows {
        if r.shared {
            shared += r.size_kb;
        } else if r.write {
            writeable += r.size_kb;
        }
        let _ = write!(s, "{:016x} {:>7} ", r.start, r.size_kb);
        push_mode(&mut s, r);
        let _ = writeln!(
            s,
            " {:016x} {:03x}:{:05x} {}",
            r.offset, r.dev_major, r.dev_minor, r.mapping
        );
    }
    let _ = writeln!(
        s,
        "mapped: {}K    writeable/private: {}K    shared: {}K",
        total_kb(rows),
        writeable,
        shared
    );
    s
}
