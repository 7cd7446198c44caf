//! `/proc/PID/smaps`: per VMA, the maps line and then its memory counters
//! (fs/proc/task_mmu.c `show_smap`, `__show_smap`, `show_smap_vma_flags`).
//!
//! Every counter line is a label padded to 16 characters and the value right
//! aligned in 8 (`seq_put_decimal_ull_width(.., 8)`) followed by ` kB`; the
//! one exception is `Private_Hugetlb:`, whose label is 17 characters with
//! its space and whose value is 7 wide, so all lines are 24 characters up to
//! the value for values below 10^7. `THPeligible:` is `%8u` after a 16-wide
//! label and has no unit. The last line is `VmFlags: ` and each two-letter
//! mnemonic followed by a space.
//!
//! The field set and order are those of Linux 6.x (with `Pss_Dirty`, `KSM`
//! and `FilePmdMapped`); `ProtectionKey:` (only when the CPU has memory
//! protection keys) is not printed.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use super::pid_maps::{write_maps_line, MapsRow};

/// VM_* bit values of Linux's `include/linux/mm.h` (64-bit), the ones
/// [`vm_flags_mnemonics`] names.
pub mod vm {
    /// Readable.
    pub const VM_READ: u64 = 0x0000_0001;
    /// Writable.
    pub const VM_WRITE: u64 = 0x0000_0002;
    /// Executable.
    pub const VM_EXEC: u64 = 0x0000_0004;
    /// Shared.
    pub const VM_SHARED: u64 = 0x0000_0008;
    /// mprotect may make it readable.
    pub const VM_MAYREAD: u64 = 0x0000_0010;
    /// mprotect may make it writable.
    pub const VM_MAYWRITE: u64 = 0x0000_0020;
    /// mprotect may make it executable.
    pub const VM_MAYEXEC: u64 = 0x0000_0040;
    /// May be shared (MAP_SHARED, even read-only).
    pub const VM_MAYSHARE: u64 = 0x0000_0080;
    /// Stack that grows down.
    pub const VM_GROWSDOWN: u64 = 0x0000_0100;
    /// userfaultfd: missing pages tracked.
    pub const VM_UFFD_MISSING: u64 = 0x0000_0200;
    /// Pure PFN mapping (no struct page).
    pub const VM_PFNMAP: u64 = 0x0000_0400;
    /// userfaultfd: write protection tracked.
    pub const VM_UFFD_WP: u64 = 0x0000_1000;
    /// mlock()ed.
    pub const VM_LOCKED: u64 = 0x0000_2000;
    /// Memory-mapped I/O.
    pub const VM_IO: u64 = 0x0000_4000;
    /// MADV_SEQUENTIAL.
    pub const VM_SEQ_READ: u64 = 0x0000_8000;
    /// MADV_RANDOM.
    pub const VM_RAND_READ: u64 = 0x0001_0000;
    /// MADV_DONTFORK.
    pub const VM_DONTCOPY: u64 = 0x0002_0000;
    /// Cannot be expanded by mremap.
    pub const VM_DONTEXPAND: u64 = 0x0004_0000;
    /// mlock(MLOCK_ONFAULT).
    pub const VM_LOCKONFAULT: u64 = 0x0008_0000;
    /// Committed memory is accounted.
    pub const VM_ACCOUNT: u64 = 0x0010_0000;
    /// MAP_NORESERVE.
    pub const VM_NORESERVE: u64 = 0x0020_0000;
    /// hugetlbfs mapping.
    pub const VM_HUGETLB: u64 = 0x0040_0000;
    /// MAP_SYNC.
    pub const VM_SYNC: u64 = 0x0080_0000;
    /// Architecture-specific (x86: VM_PAT).
    pub const VM_ARCH_1: u64 = 0x0100_0000;
    /// MADV_WIPEONFORK.
    pub const VM_WIPEONFORK: u64 = 0x0200_0000;
    /// MADV_DONTDUMP.
    pub const VM_DONTDUMP: u64 = 0x0400_0000;
    /// Soft-dirty tracking: not clean.
    pub const VM_SOFTDIRTY: u64 = 0x0800_0000;
    /// Mixed struct-page and PFN mapping.
    pub const VM_MIXEDMAP: u64 = 0x1000_0000;
    /// MADV_HUGEPAGE.
    pub const VM_HUGEPAGE: u64 = 0x2000_0000;
    /// MADV_NOHUGEPAGE.
    pub const VM_NOHUGEPAGE: u64 = 0x4000_0000;
    /// KSM may merge pages (MADV_MERGEABLE).
    pub const VM_MERGEABLE: u64 = 0x8000_0000;
    /// Protection key bits 0-3 (x86: bits 32-35); shown as `ProtectionKey:`.
    pub const VM_PKEY_BITS: u64 = 0xf << 32;
    /// x86 user shadow stack (VM_HIGH_ARCH_5).
    pub const VM_SHADOW_STACK: u64 = 1 << 37;
    /// Pages may be dropped under memory pressure (MAP_DROPPABLE).
    pub const VM_DROPPABLE: u64 = 1 << 40;
    /// userfaultfd: minor faults tracked.
    pub const VM_UFFD_MINOR: u64 = 1 << 41;
    /// mseal()ed.
    pub const VM_SEALED: u64 = 1 << 42;
}

/// The mnemonic of each bit of `vm_flags`, in bit order (Linux prints them
/// by ascending bit). `""` is a bit Linux never prints (the protection key
/// bits); `"??"` a bit it does not know. This is the x86_64 table of Linux
/// 6.15+ (the machine the reference samples come from) without the
/// arch-specific arm64/sparc entries.
const MNEMONICS: [&str; 64] = {
    let mut t = ["??"; 64];
    t[0] = "rd"; // VM_READ
    t[1] = "wr"; // VM_WRITE
    t[2] = "ex"; // VM_EXEC
    t[3] = "sh"; // VM_SHARED
    t[4] = "mr"; // VM_MAYREAD
    t[5] = "mw"; // VM_MAYWRITE
    t[6] = "me"; // VM_MAYEXEC
    t[7] = "ms"; // VM_MAYSHARE
    t[8] = "gd"; // VM_GROWSDOWN
    t[9] = "um"; // VM_UFFD_MISSING
    t[10] = "pf"; // VM_PFNMAP
    t[12] = "uw"; // VM_UFFD_WP
    t[13] = "lo"; // VM_LOCKED
    t[14] = "io"; // VM_IO
    t[15] = "sr"; // VM_SEQ_READ
    t[16] = "rr"; // VM_RAND_READ
    t[17] = "dc"; // VM_DONTCOPY
    t[18] = "de"; // VM_DONTEXPAND
    t[19] = "lf"; // VM_LOCKONFAULT
    t[20] = "ac"; // VM_ACCOUNT
    t[21] = "nr"; // VM_NORESERVE
    t[22] = "ht"; // VM_HUGETLB
    t[23] = "sf"; // VM_SYNC
    t[24] = "ar"; // VM_ARCH_1
    t[25] = "wf"; // VM_WIPEONFORK
    t[26] = "dd"; // VM_DONTDUMP
    t[27] = "sd"; // VM_SOFTDIRTY
    t[28] = "mm"; // VM_MIXEDMAP
    t[29] = "hg"; // VM_HUGEPAGE
    t[30] = "nh"; // VM_NOHUGEPAGE
    t[31] = "mg"; // VM_MERGEABLE
    t[32] = ""; // VM_PKEY_BIT0
    t[33] = ""; // VM_PKEY_BIT1
    t[34] = ""; // VM_PKEY_BIT2
    t[35] = ""; // VM_PKEY_BIT3
    t[37] = "ss"; // VM_SHADOW_STACK
    t[40] = "dp"; // VM_DROPPABLE
    t[41] = "ui"; // VM_UFFD_MINOR
    t[42] = "sl"; // VM_SEALED
    t
};

/// The `VmFlags:` mnemonics of `bits` (Linux VM_* values, see [`vm`]), in
/// the order Linux prints them: by ascending bit. Unknown bits give `"??"`,
/// as in Linux; the protection-key bits give nothing.
pub fn vm_flags_mnemonics(bits: u64) -> Vec<&'static str> {
    (0..64)
        .filter(|&i| bits & (1u64 << i) != 0 && !MNEMONICS[i].is_empty())
        .map(|i| MNEMONICS[i])
        .collect()
}

/// One `/proc/PID/smaps` entry, as plain data (sizes in kB). Each `*_kb`
/// field is the line of the same name (`pss_dirty_kb` is `Pss_Dirty:`,
/// `anon_huge_pages_kb` is `AnonHugePages:`, ...), printed in Linux's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SmapsRow {
    /// The header line.
    pub maps: MapsRow,
    pub size_kb: u64,
    pub kernel_page_size_kb: u64,
    pub mmu_page_size_kb: u64,
    pub rss_kb: u64,
    pub pss_kb: u64,
    pub pss_dirty_kb: u64,
    pub shared_clean_kb: u64,
    pub shared_dirty_kb: u64,
    pub private_clean_kb: u64,
    pub private_dirty_kb: u64,
    pub referenced_kb: u64,
    pub anonymous_kb: u64,
    pub ksm_kb: u64,
    pub lazyfree_kb: u64,
    pub anon_huge_pages_kb: u64,
    pub shmem_pmd_mapped_kb: u64,
    pub file_pmd_mapped_kb: u64,
    pub shared_hugetlb_kb: u64,
    pub private_hugetlb_kb: u64,
    pub swap_kb: u64,
    pub swap_pss_kb: u64,
    pub locked_kb: u64,
    /// `THPeligible:` 1 or 0.
    pub thp_eligible: bool,
    /// The `VmFlags:` mnemonics in print order (see [`vm_flags_mnemonics`]).
    pub vm_flags: Vec<&'static str>,
}

/// `label` (already padded to 16 characters, or 17 with its space for
/// `Private_Hugetlb: `), the value right-aligned in `width`, ` kB`.
fn kb_line(out: &mut String, label: &str, value: u64, width: usize) {
    let _ = writeln!(out, "{label}{value:>width$} kB");
}

/// Append one entry (header line, counters, `VmFlags:` line) to `out`.
pub fn write_smaps_entry(out: &mut String, r: &SmapsRow) {
    write_maps_line(out, &r.maps);
    let lines: [(&str, u64, usize); 22] = [
        ("Size:           ", r.size_kb, 8),
        ("KernelPageSize: ", r.kernel_page_size_kb, 8),
        ("MMUPageSize:    ", r.mmu_page_size_kb, 8),
        ("Rss:            ", r.rss_kb, 8),
        ("Pss:            ", r.pss_kb, 8),
        ("Pss_Dirty:      ", r.pss_dirty_kb, 8),
        ("Shared_Clean:   ", r.shared_clean_kb, 8),
        ("Shared_Dirty:   ", r.shared_dirty_kb, 8),
        ("Private_Clean:  ", r.private_clean_kb, 8),
        ("Private_Dirty:  ", r.private_dirty_kb, 8),
        ("Referenced:     ", r.referenced_kb, 8),
        ("Anonymous:      ", r.anonymous_kb, 8),
        ("KSM:            ", r.ksm_kb, 8),
        ("LazyFree:       ", r.lazyfree_kb, 8),
        ("AnonHugePages:  ", r.anon_huge_pages_kb, 8),
        ("ShmemPmdMapped: ", r.shmem_pmd_mapped_kb, 8),
        ("FilePmdMapped:  ", r.file_pmd_mapped_kb, 8),
        ("Shared_Hugetlb: ", r.shared_hugetlb_kb, 8),
        ("Private_Hugetlb: ", r.private_hugetlb_kb, 7),
        ("Swap:           ", r.swap_kb, 8),
        ("SwapPss:        ", r.swap_pss_kb, 8),
        ("Locked:         ", r.locked_kb, 8),
    ];
    for (label, value, width) in lines {
        kb_line(out, label, value, width);
    }
    let _ = writeln!(out, "THPeligible:    {:>8}", u8::from(r.thp_eligible));
    out.push_str("VmFlags: ");
    for m in &r.vm_flags {
        out.push_str(m);
        out.push(' ');
    }
    out.push('\n');
}

/// One `/proc/PID/smaps` entry as a string.
pub fn format_smaps_entry(r: &SmapsRow) -> String {
    let mut s = String::with_capacity(800);
    write_smaps_entry(&mut s, r);
    s
}

/// The whole file for these entries, in the order given.
pub fn format_smaps(rows: &[SmapsRow]) -> String {
    let mut s = String::with_capacity(rows.len() * 800);
    for r in rows {
        write_smaps_entry(&mut s, r);
    }
    s
}
