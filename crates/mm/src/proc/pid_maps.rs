//! `/proc/PID/maps`: one line per VMA (fs/proc/task_mmu.c `show_map_vma`,
//! `show_vma_header_prefix`).
//!
//! A line is
//!
//! ```text
//! start-end perms offset major:minor inode name
//! ```
//!
//! where the addresses and the offset are at least 8 lower-case hex digits,
//! perms is `r`/`w`/`x` or `-` and then `s` (VM_MAYSHARE) or `p`, the device
//! numbers are at least 2 hex digits and the inode is decimal. The prefix
//! always ends with one space, also when there is no name (Linux prints the
//! prefix with a trailing space and stops there). When there is a name, the
//! line is padded with spaces so that the name starts in column
//! [`NAME_COLUMN`] (Linux: `seq_setwidth(m, 25 + sizeof(void *) * 6 - 1)` then
//! `seq_pad(m, ' ')`, which pads to 72 characters and then writes one more
//! space); a prefix already 72 characters or longer (counting its trailing
//! space, e.g. with 16-digit addresses and a 17-digit inode) gets no padding,
//! just that one separating space.

use alloc::string::String;
use core::fmt::Write;

/// The column (0-based) where the name of a mapping starts when the prefix
/// is short enough: the padding width of 64-bit Linux, 25 + 8 * 6 - 1 = 72
/// characters, plus the separating space.
pub const NAME_COLUMN: usize = 73;

/// The width Linux pads the prefix to before the separating space.
const PAD_WIDTH: usize = NAME_COLUMN - 1;

/// One line of `/proc/PID/maps`, as plain data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapsRow {
    /// First address of the VMA (`vm_start`).
    pub start: u64,
    /// One past the last address (`vm_end`).
    pub end: u64,
    /// VM_READ: `r`.
    pub read: bool,
    /// VM_WRITE: `w`.
    pub write: bool,
    /// VM_EXEC: `x`.
    pub exec: bool,
    /// VM_MAYSHARE: `s`, else `p`.
    pub shared: bool,
    /// File offset in bytes (`vm_pgoff << PAGE_SHIFT`); 0 for anonymous memory.
    pub offset: u64,
    /// Device major number of the file's superblock (0 when anonymous).
    pub dev_major: u32,
    /// Device minor number (0 when anonymous).
    pub dev_minor: u32,
    /// Inode number of the file (0 when anonymous).
    pub inode: u64,
    /// The file path, or `[heap]`, `[stack]`, `[vdso]`, `[vvar]`,
    /// `[anon:NAME]`, ...; None for an unnamed anonymous mapping.
    pub name: Option<String>,
}

impl MapsRow {
    /// The four permission characters, e.g. `r-xp`.
    pub fn perms(&self) -> [char; 4] {
        [
            if self.read { 'r' } else { '-' },
            if self.write { 'w' } else { '-' },
            if self.exec { 'x' } else { '-' },
            if self.shared { 's' } else { 'p' },
        ]
    }

    /// Size of the mapping in kB.
    pub fn size_kb(&self) -> u64 {
        self.end.saturating_sub(self.start) >> 10
    }
}

/// Append `name` as `seq_file_path(m, file, "\n")` does: a newline in a path
/// comes out as the octal escape `\012` so that the line stays one line.
fn push_name(out: &mut String, name: &str) {
    for c in name.chars() {
        if c == '\n' {
            out.push_str("\\012");
        } else {
            out.push(c);
        }
    }
}

/// Append one line (with its newline) to `out`. [`format_maps_line`] and
/// the smaps header use this.
pub fn write_maps_line(out: &mut String, r: &MapsRow) {
    let line_start = out.len();
    let [p0, p1, p2, p3] = r.perms();
    let _ = write!(
        out,
        "{:08x}-{:08x} {p0}{p1}{p2}{p3} {:08x} {:02x}:{:02x} {} ",
        r.start, r.end, r.offset, r.dev_major, r.dev_minor, r.inode
    );
    if let Some(name) = &r.name {
        let used = out.len() - line_start;
        for _ in used..PAD_WIDTH {
            out.push(' ');
        }
        out.push(' ');
        push_name(out, name);
    }
    out.push('\n');
}

/// One line of `/proc/PID/maps`, newline included.
pub fn format_maps_line(r: &MapsRow) -> String {
    let mut s = String::with_capacity(NAME_COLUMN + 32);
    write_maps_line(&mut s, r);
    s
}

/// The whole file for these rows, in the order given (ascending addresses,
/// the gate VMA last, as Linux walks them).
pub fn format_maps(rows: &[MapsRow]) -> String {
    let mut s = String::with_capacity(rows.len() * (NAME_COLUMN + 32));
    for r in rows {
        write_maps_line(&mut s, r);
    }
    s
}
