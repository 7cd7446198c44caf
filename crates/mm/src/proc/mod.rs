//! /proc views of the memory manager, in Linux's exact formats.
//!
//! Each file mirrors the Linux code that prints the same view:
//! - [`slabinfo`](mod@slabinfo): `/proc/slabinfo` version 2.1 (mm/slab_common.c
//!   `slab_show`, `print_slabinfo_header`; the SLAB tunables columns).
//! - [`buddyinfo`](mod@buddyinfo): `/proc/buddyinfo` (mm/vmstat.c `frag_show_print`).
//! - [`meminfo`](mod@meminfo): `/proc/meminfo` (fs/proc/meminfo.c `meminfo_proc_show`,
//!   mm/show_mem.c `si_mem_available`), the fields ferrite computes.
//! - [`vmstat`](mod@vmstat): `/proc/vmstat` (mm/vmstat.c `vmstat_show`), the
//!   counters and events ferrite keeps.
//! - [`zoneinfo`](mod@zoneinfo): `/proc/zoneinfo` (mm/vmstat.c `zoneinfo_show_print`), a
//!   subset: see that module for what is left out and why.
//! - [`slabtop`](mod@slabtop): what procps' `slabtop -o -s c` prints (not a /proc file;
//!   it is computed from the /proc/slabinfo rows as slabtop computes it).
//! - [`pid_maps`](mod@pid_maps): `/proc/PID/maps` (fs/proc/task_mmu.c `show_map_vma`).
//! - [`pid_smaps`](mod@pid_smaps): `/proc/PID/smaps` (fs/proc/task_mmu.c `show_smap`,
//!   `show_smap_vma_flags`).
//! - [`pid_status`](mod@pid_status): the memory lines of `/proc/PID/status`
//!   (fs/proc/task_mmu.c `task_mem`).
//! - [`pmap`](mod@pmap): what procps' `pmap`, `pmap -x` and `pmap -d` print.
//! - [`pid`](mod@pid): the per-process views above computed from a live
//!   `MmStruct` (VMAs, page tables, counters).
//!
//! Every formatter has a pure `format_*` form that takes plain data, so the
//! exact bytes can be checked against real Linux output
//! (tests/data/linux-formats/), and a form that reads a [`Mem`].

pub mod buddyinfo;
pub mod meminfo;
pub mod pagemap;
pub mod pid;
pub mod pid_maps;
pub mod pid_smaps;
pub mod pid_status;
pub mod pmap;
pub mod slabinfo;
pub mod slabtop;
pub mod vmstat;
pub mod zoneinfo;

pub use buddyinfo::{buddyinfo, format_buddyinfo};
pub use meminfo::{format_meminfo, meminfo, meminfo_fields, si_mem_available};
pub use pid::{
    maps_rows, maps_rows_locked, pmap_rows, pmap_x_rows, proc_pid_maps, proc_pid_pmap,
    proc_pid_pmap_d, proc_pid_pmap_x, proc_pid_smaps, proc_pid_status_mem, smaps_rows,
    smaps_rows_locked, status_mem, status_mem_locked,
};
pub use pid_maps::{format_maps, format_maps_line, MapsRow};
pub use pid_smaps::{format_smaps, format_smaps_entry, vm_flags_mnemonics, SmapsRow};
pub use pid_status::{format_status_mem, StatusMem};
pub use pmap::{format_pmap, format_pmap_d, format_pmap_x, pmap_mapping_name, PmapRow};
pub use slabinfo::{format_slabinfo, format_slabinfo_row, slabinfo};
pub use slabtop::{
    format_slabtop, format_slabtop_row, format_slabtop_summary, slabtop, slabtop_rows, SlabtopStats,
};
pub use vmstat::{format_vmstat, vmstat, vmstat_fields};
pub use zoneinfo::{format_zoneinfo, zoneinfo, zoneinfo_data, Pageset, ZoneInfo};

use alloc::string::String;

use crate::mem::Mem;

/// The /proc files [`read`] serves.
pub const PATHS: [&str; 5] = [
    "/proc/slabinfo",
    "/proc/buddyinfo",
    "/proc/meminfo",
    "/proc/zoneinfo",
    "/proc/vmstat",
];

/// The contents of one of the [`PATHS`], or None for any other path.
pub fn read(mem: &Mem, path: &str) -> Option<String> {
    match path {
        "/proc/slabinfo" => Some(slabinfo(mem)),
        "/proc/buddyinfo" => Some(buddyinfo(mem)),
        "/proc/meminfo" => Some(meminfo(mem)),
        "/proc/zoneinfo" => Some(zoneinfo(mem)),
        "/proc/vmstat" => Some(vmstat(mem)),
        _ => None,
    }
}
