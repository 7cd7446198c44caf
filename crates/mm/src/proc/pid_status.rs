//! The memory block of `/proc/PID/status`, `VmPeak:` through `VmSwap:`
//! (fs/proc/task_mmu.c `task_mem`): each line is the label, a tab, the
//! value right-aligned in 8 and ` kB`.
//!
//! Linux follows the block with `HugetlbPages:` when hugetlb pages are
//! configured; ferrite has none, and the reference sample has no such line.

use alloc::string::String;
use core::fmt::Write;

/// The memory counters of one process, in kB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusMem {
    /// Peak virtual size (`hiwater_vm`, at least `total_vm`).
    pub vm_peak: u64,
    /// Virtual size (`total_vm`).
    pub vm_size: u64,
    /// mlock()ed (`locked_vm`).
    pub vm_lck: u64,
    /// Pinned (`pinned_vm`).
    pub vm_pin: u64,
    /// Peak resident set (`hiwater_rss`, at least the current RSS).
    pub vm_hwm: u64,
    /// Resident set: `rss_anon + rss_file + rss_shmem`.
    pub vm_rss: u64,
    /// Resident anonymous pages (MM_ANONPAGES).
    pub rss_anon: u64,
    /// Resident file pages (MM_FILEPAGES).
    pub rss_file: u64,
    /// Resident shmem pages (MM_SHMEMPAGES).
    pub rss_shmem: u64,
    /// Private writable, non-stack mappings (`data_vm`).
    pub vm_data: u64,
    /// Stack mappings (`stack_vm`).
    pub vm_stk: u64,
    /// Text: `start_code`..`end_code`, page-rounded.
    pub vm_exe: u64,
    /// Executable mappings other than the text (`exec_vm` - VmExe).
    pub vm_lib: u64,
    /// Page-table pages (`mm_pgtables_bytes >> 10`).
    pub vm_pte: u64,
    /// Swap entries (MM_SWAPENTS).
    pub vm_swap: u64,
}

/// Append the block (15 lines, each with its newline) to `out`.
pub fn write_status_mem(out: &mut String, m: &StatusMem) {
    for (label, v) in [
        ("VmPeak", m.vm_peak),
        ("VmSize", m.vm_size),
        ("VmLck", m.vm_lck),
        ("VmPin", m.vm_pin),
        ("VmHWM", m.vm_hwm),
        ("VmRSS", m.vm_rss),
        ("RssAnon", m.rss_anon),
        ("RssFile", m.rss_file),
        ("RssShmem", m.rss_shmem),
        ("VmData", m.vm_data),
        ("VmStk", m.vm_stk),
        ("VmExe", m.vm_exe),
        ("VmLib", m.vm_lib),
        ("VmPTE", m.vm_pte),
        ("VmSwap", m.vm_swap),
    ] {
        let _ = writeln!(out, "{label}:\t{v:>8} kB");
    }
}

/// The `VmPeak:` … `VmSwap:` lines of `/proc/PID/status`.
pub fn format_status_mem(m: &StatusMem) -> String {
    let mut s = String::with_capacity(15 * 22);
    write_status_mem(&mut s, m);
    s
}
