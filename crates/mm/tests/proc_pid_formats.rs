//! The per-process /proc formatters (/proc/PID/maps, smaps, the memory lines
//! of status) and pmap's three views: byte-exact against real Linux output.
//!
//! Each sample is parsed back into rows by a parser written here,
//! independently of the formatters, formatted again and compared byte for
//! byte. The samples are in tests/data/linux-formats/ (copied from the
//! project's shared Linux captures) and checked whole; the constants below
//! are copies of them (smaps: eight of its entries) for the tests that
//! look at single rows.

use mm::proc::pid_smaps::vm;
use mm::proc::{
    format_maps, format_maps_line, format_pmap, format_pmap_d, format_pmap_x, format_smaps,
    format_smaps_entry, format_status_mem, pmap_mapping_name, vm_flags_mnemonics, MapsRow, PmapRow,
    SmapsRow, StatusMem,
};

// ---------------------------------------------------------------------------
// Linux samples (x86_64, Linux 6.x, procps-ng 4). maps is `cat`'s own;
// smaps, status and the pmap views are of one `sleep 30`, pid 6851.

const LINUX_MAPS: &str = "\
564d74906000-564d74908000 r--p 00000000 fe:00 247030                     /usr/bin/cat
564d74908000-564d7490d000 r-xp 00002000 fe:00 247030                     /usr/bin/cat
564d7490d000-564d74910000 r--p 00007000 fe:00 247030                     /usr/bin/cat
564d74910000-564d74911000 r--p 00009000 fe:00 247030                     /usr/bin/cat
564d74911000-564d74912000 rw-p 0000a000 fe:00 247030                     /usr/bin/cat
564d774b8000-564d774d9000 rw-p 00000000 00:00 0                          [heap]
7fce16f68000-7fce16f8a000 rw-p 00000000 00:00 0\x20
7fce16f8a000-7fce16fe1000 r--p 00000000 fe:00 316534                     /usr/lib/locale/C.utf8/LC_CTYPE
7fce16fe1000-7fce16fe2000 r--p 00000000 fe:00 316541                     /usr/lib/locale/C.utf8/LC_NUMERIC
7fce16fe2000-7fce16fe3000 r--p 00000000 fe:00 316544                     /usr/lib/locale/C.utf8/LC_TIME
7fce16fe3000-7fce16fe4000 r--p 00000000 fe:00 316533                     /usr/lib/locale/C.utf8/LC_COLLATE
7fce16fe4000-7fce16fe5000 r--p 00000000 fe:00 316539                     /usr/lib/locale/C.utf8/LC_MONETARY
7fce16fe5000-7fce16fe6000 r--p 00000000 fe:00 316538                     /usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES
7fce16fe6000-7fce16fe7000 r--p 00000000 fe:00 316542                     /usr/lib/locale/C.utf8/LC_PAPER
7fce16fe7000-7fce16fe8000 r--p 00000000 fe:00 316540                     /usr/lib/locale/C.utf8/LC_NAME
7fce16fe8000-7fce16fe9000 r--p 00000000 fe:00 316532                     /usr/lib/locale/C.utf8/LC_ADDRESS
7fce16fe9000-7fce16fea000 r--p 00000000 fe:00 316543                     /usr/lib/locale/C.utf8/LC_TELEPHONE
7fce16fea000-7fce16fed000 rw-p 00000000 00:00 0\x20
7fce16fed000-7fce17013000 r--p 00000000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/libc.so.6
7fce17013000-7fce17169000 r-xp 00026000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/libc.so.6
7fce17169000-7fce171bc000 r--p 0017c000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/libc.so.6
7fce171bc000-7fce171c0000 r--p 001cf000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/libc.so.6
7fce171c0000-7fce171c2000 rw-p 001d3000 fe:00 326279                     /usr/lib/x86_64-linux-gnu/libc.so.6
7fce171c2000-7fce171cf000 rw-p 00000000 00:00 0\x20
7fce171cf000-7fce171d0000 r--p 00000000 fe:00 316536                     /usr/lib/locale/C.utf8/LC_MEASUREMENT
7fce171d0000-7fce171d7000 r--s 00000000 fe:00 325745                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
7fce171d7000-7fce171d8000 r--p 00000000 fe:00 316535                     /usr/lib/locale/C.utf8/LC_IDENTIFICATION
7fce171d8000-7fce171da000 rw-p 00000000 00:00 0\x20
7fce171da000-7fce171de000 r--p 00000000 00:00 0                          [vvar]
7fce171de000-7fce171e0000 r--p 00000000 00:00 0                          [vvar_vclock]
7fce171e0000-7fce171e2000 r-xp 00000000 00:00 0                          [vdso]
7fce171e2000-7fce171e3000 r--p 00000000 fe:00 325843                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7fce171e3000-7fce17209000 r-xp 00001000 fe:00 325843                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7fce17209000-7fce17213000 r--p 00027000 fe:00 325843                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7fce17213000-7fce17215000 r--p 00031000 fe:00 325843                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7fce17215000-7fce17217000 rw-p 00033000 fe:00 325843                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffd2aec7000-7ffd2aee8000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
";

const LINUX_STATUS: &str = "\
Name:\tsleep
Pid:\t6851
PPid:\t6842
VmPeak:\t    2920 kB
VmSize:\t    2920 kB
VmLck:\t       0 kB
VmPin:\t       0 kB
VmHWM:\t    1760 kB
VmRSS:\t    1760 kB
RssAnon:\t     108 kB
RssFile:\t    1652 kB
RssShmem:\t       0 kB
VmData:\t     224 kB
VmStk:\t     132 kB
VmExe:\t      20 kB
VmLib:\t    1528 kB
VmPTE:\t      48 kB
VmSwap:\t       0 kB
Threads:\t1
voluntary_ctxt_switches:\t3
nonvoluntary_ctxt_switches:\t0
";

const LINUX_PMAP: &str = "\
6851:   sleep 30
00005599131af000      8K r---- sleep
00005599131b1000     20K r-x-- sleep
00005599131b6000      8K r---- sleep
00005599131b8000      4K r---- sleep
00005599131b9000      4K rw--- sleep
0000559947687000    132K rw---   [ anon ]
00007f743080d000    348K r---- LC_CTYPE
00007f7430864000      4K r---- LC_NUMERIC
00007f7430865000      4K r---- LC_TIME
00007f7430866000      4K r---- LC_COLLATE
00007f7430867000      4K r---- LC_MONETARY
00007f7430868000      4K r---- SYS_LC_MESSAGES
00007f7430869000      4K r---- LC_PAPER
00007f743086a000      4K r---- LC_NAME
00007f743086b000      4K r---- LC_ADDRESS
00007f743086c000      4K r---- LC_TELEPHONE
00007f743086d000     12K rw---   [ anon ]
00007f7430870000    152K r---- libc.so.6
00007f7430896000   1368K r-x-- libc.so.6
00007f74309ec000    332K r---- libc.so.6
00007f7430a3f000     16K r---- libc.so.6
00007f7430a43000      8K rw--- libc.so.6
00007f7430a45000     52K rw---   [ anon ]
00007f7430a52000      4K r---- LC_MEASUREMENT
00007f7430a53000     28K r--s- gconv-modules.cache
00007f7430a5a000      4K r---- LC_IDENTIFICATION
00007f7430a5b000      8K rw---   [ anon ]
00007f7430a5d000     16K r----   [ anon ]
00007f7430a61000      8K r----   [ anon ]
00007f7430a63000      8K r-x--   [ anon ]
00007f7430a65000      4K r---- ld-linux-x86-64.so.2
00007f7430a66000    152K r-x-- ld-linux-x86-64.so.2
00007f7430a8c000     40K r---- ld-linux-x86-64.so.2
00007f7430a96000      8K r---- ld-linux-x86-64.so.2
00007f7430a98000      8K rw--- ld-linux-x86-64.so.2
00007fff1ddc2000    132K rw---   [ stack ]
ffffffffff600000      4K --x--   [ anon ]
 total             2924K
";

const LINUX_PMAP_X: &str = "\
6851:   sleep 30
Address           Kbytes     RSS   Dirty Mode  Mapping
00005599131af000       8       8       0 r---- sleep
00005599131b1000      20      20       0 r-x-- sleep
00005599131b6000       8       8       0 r---- sleep
00005599131b8000       4       4       4 r---- sleep
00005599131b9000       4       4       4 rw--- sleep
0000559947687000     132      16      16 rw---   [ anon ]
00007f743080d000     348     128       0 r---- LC_CTYPE
00007f7430864000       4       4       0 r---- LC_NUMERIC
00007f7430865000       4       4       0 r---- LC_TIME
00007f7430866000       4       4       0 r---- LC_COLLATE
00007f7430867000       4       4       0 r---- LC_MONETARY
00007f7430868000       4       4       0 r---- SYS_LC_MESSAGES
00007f7430869000       4       4       0 r---- LC_PAPER
00007f743086a000       4       4       0 r---- LC_NAME
00007f743086b000       4       4       0 r---- LC_ADDRESS
00007f743086c000       4       4       0 r---- LC_TELEPHONE
00007f743086d000      12       8       8 rw---   [ anon ]
00007f7430870000     152     152       0 r---- libc.so.6
00007f7430896000    1368     872       0 r-x-- libc.so.6
00007f74309ec000     332     192       0 r---- libc.so.6
00007f7430a3f000      16      16      16 r---- libc.so.6
00007f7430a43000       8       8       8 rw--- libc.so.6
00007f7430a45000      52      20      20 rw---   [ anon ]
00007f7430a52000       4       4       0 r---- LC_MEASUREMENT
00007f7430a53000      28      28       0 r--s- gconv-modules.cache
00007f7430a5a000       4       4       0 r---- LC_IDENTIFICATION
00007f7430a5b000       8       4       4 rw---   [ anon ]
00007f7430a5d000      16       0       0 r----   [ anon ]
00007f7430a61000       8       0       0 r----   [ anon ]
00007f7430a63000       8       4       0 r-x--   [ anon ]
00007f7430a65000       4       4       0 r---- ld-linux-x86-64.so.2
00007f7430a66000     152     152       0 r-x-- ld-linux-x86-64.so.2
00007f7430a8c000      40      40       0 r---- ld-linux-x86-64.so.2
00007f7430a96000       8       8       8 r---- ld-linux-x86-64.so.2
00007f7430a98000       8       8       8 rw--- ld-linux-x86-64.so.2
00007fff1ddc2000     132      12      12 rw---   [ stack ]
ffffffffff600000       4       0       0 --x--   [ anon ]
---------------- ------- ------- -------\x20
total kB            2924    1760     108
";

const LINUX_PMAP_D: &str = "\
6851:   sleep 30
Address           Kbytes Mode  Offset           Device    Mapping
00005599131af000       8 r---- 0000000000000000 0fe:00000 sleep
00005599131b1000      20 r-x-- 0000000000002000 0fe:00000 sleep
00005599131b6000       8 r---- 0000000000007000 0fe:00000 sleep
00005599131b8000       4 r---- 0000000000009000 0fe:00000 sleep
00005599131b9000       4 rw--- 000000000000a000 0fe:00000 sleep
0000559947687000     132 rw--- 0000000000000000 000:00000   [ anon ]
00007f743080d000     348 r---- 0000000000000000 0fe:00000 LC_CTYPE
00007f7430864000       4 r---- 0000000000000000 0fe:00000 LC_NUMERIC
00007f7430865000       4 r---- 0000000000000000 0fe:00000 LC_TIME
00007f7430866000       4 r---- 0000000000000000 0fe:00000 LC_COLLATE
00007f7430867000       4 r---- 0000000000000000 0fe:00000 LC_MONETARY
00007f7430868000       4 r---- 0000000000000000 0fe:00000 SYS_LC_MESSAGES
00007f7430869000       4 r---- 0000000000000000 0fe:00000 LC_PAPER
00007f743086a000       4 r---- 0000000000000000 0fe:00000 LC_NAME
00007f743086b000       4 r---- 0000000000000000 0fe:00000 LC_ADDRESS
00007f743086c000       4 r---- 0000000000000000 0fe:00000 LC_TELEPHONE
00007f743086d000      12 rw--- 0000000000000000 000:00000   [ anon ]
00007f7430870000     152 r---- 0000000000000000 0fe:00000 libc.so.6
00007f7430896000    1368 r-x-- 0000000000026000 0fe:00000 libc.so.6
00007f74309ec000     332 r---- 000000000017c000 0fe:00000 libc.so.6
00007f7430a3f000      16 r---- 00000000001cf000 0fe:00000 libc.so.6
00007f7430a43000       8 rw--- 00000000001d3000 0fe:00000 libc.so.6
00007f7430a45000      52 rw--- 0000000000000000 000:00000   [ anon ]
00007f7430a52000       4 r---- 0000000000000000 0fe:00000 LC_MEASUREMENT
00007f7430a53000      28 r--s- 0000000000000000 0fe:00000 gconv-modules.cache
00007f7430a5a000       4 r---- 0000000000000000 0fe:00000 LC_IDENTIFICATION
00007f7430a5b000       8 rw--- 0000000000000000 000:00000   [ anon ]
00007f7430a5d000      16 r---- 0000000000000000 000:00000   [ anon ]
00007f7430a61000       8 r---- 0000000000000000 000:00000   [ anon ]
00007f7430a63000       8 r-x-- 0000000000000000 000:00000   [ anon ]
00007f7430a65000       4 r---- 0000000000000000 0fe:00000 ld-linux-x86-64.so.2
00007f7430a66000     152 r-x-- 0000000000001000 0fe:00000 ld-linux-x86-64.so.2
00007f7430a8c000      40 r---- 0000000000027000 0fe:00000 ld-linux-x86-64.so.2
00007f7430a96000       8 r---- 0000000000031000 0fe:00000 ld-linux-x86-64.so.2
00007f7430a98000       8 rw--- 0000000000033000 0fe:00000 ld-linux-x86-64.so.2
00007fff1ddc2000     132 rw--- 0000000000000000 000:00000   [ stack ]
ffffffffff600000       4 --x-- 0000000000000000 000:00000   [ anon ]
mapped: 2924K    writeable/private: 356K    shared: 28K
";

const LINUX_SMAPS_ENTRIES: &str = "\
5599131af000-5599131b1000 r--p 00000000 fe:00 247774                     /usr/bin/sleep
Size:                  8 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                   8 kB
Pss:                   8 kB
Pss_Dirty:             0 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         8 kB
Private_Dirty:         0 kB
Referenced:            8 kB
Anonymous:             0 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd mr mw me\x20
559947687000-5599476a8000 rw-p 00000000 00:00 0                          [heap]
Size:                132 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                  16 kB
Pss:                  16 kB
Pss_Dirty:            16 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:        16 kB
Referenced:           16 kB
Anonymous:            16 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd wr mr mw me ac\x20
7f743086d000-7f7430870000 rw-p 00000000 00:00 0\x20
Size:                 12 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                   8 kB
Pss:                   8 kB
Pss_Dirty:             8 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:         8 kB
Referenced:            8 kB
Anonymous:             8 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd wr mr mw me ac\x20
7f7430a53000-7f7430a5a000 r--s 00000000 fe:00 325745                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
Size:                 28 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                  28 kB
Pss:                  14 kB
Pss_Dirty:             0 kB
Shared_Clean:         28 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:         0 kB
Referenced:           28 kB
Anonymous:             0 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd mr me ms\x20
7f7430a5d000-7f7430a61000 r--p 00000000 00:00 0                          [vvar]
Size:                 16 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                   0 kB
Pss:                   0 kB
Pss_Dirty:             0 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:         0 kB
Referenced:            0 kB
Anonymous:             0 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd mr pf io de dd\x20
7f7430a63000-7f7430a65000 r-xp 00000000 00:00 0                          [vdso]
Size:                  8 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                   4 kB
Pss:                   0 kB
Pss_Dirty:             0 kB
Shared_Clean:          4 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:         0 kB
Referenced:            4 kB
Anonymous:             0 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd ex mr mw me de\x20
7fff1ddc2000-7fff1dde3000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                  12 kB
Pss:                  12 kB
Pss_Dirty:            12 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:        12 kB
Referenced:           12 kB
Anonymous:            12 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd wr mr mw me gd ac\x20
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
Size:                  4 kB
KernelPageSize:        4 kB
MMUPageSize:           4 kB
Rss:                   0 kB
Pss:                   0 kB
Pss_Dirty:             0 kB
Shared_Clean:          0 kB
Shared_Dirty:          0 kB
Private_Clean:         0 kB
Private_Dirty:         0 kB
Referenced:            0 kB
Anonymous:             0 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
THPeligible:           0
VmFlags: ex\x20
";

/// The start of the stack of pid 6851 (`start_stack`): inside its
/// `[stack]` VMA 7fff1ddc2000-7fff1dde3000. pmap names the VMA holding it
/// `[ stack ]`.
const SLEEP_START_STACK: u64 = 0x7fff_1dde_1f00;

/// A whole sample file from tests/data/linux-formats/ (part of the
/// repository: a missing file fails the test).
fn shared_file(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/linux-formats/");
    std::fs::read_to_string(format!("{path}{name}"))
        .unwrap_or_else(|e| panic!("Linux sample {path}{name}: {e}"))
}

#[test]
fn embedded_samples_match_the_shared_files() {
    for (file, text) in [
        ("maps.txt", LINUX_MAPS),
        ("status.txt", LINUX_STATUS),
        ("pmap.txt", LINUX_PMAP),
        ("pmap-x.txt", LINUX_PMAP_X),
        ("pmap-d.txt", LINUX_PMAP_D),
    ] {
        assert_eq!(shared_file(file), text, "{file}");
    }
    let real = shared_file("smaps.txt");
    for entry in split_smaps_entries(LINUX_SMAPS_ENTRIES) {
        assert!(real.contains(&entry), "smaps.txt lacks the entry\n{entry}");
    }
    assert_eq!(split_smaps_entries(LINUX_SMAPS_ENTRIES).len(), 8);
}

// ---------------------------------------------------------------------------
// Parsers (test-side, independent of the formatters).

/// A cursor over one line: whitespace-separated words, then the rest.
struct Cur<'a>(&'a str);

impl<'a> Cur<'a> {
    /// Skip spaces, take up to the next space.
    fn word(&mut self) -> &'a str {
        let s = self.0.trim_start_matches(' ');
        let end = s.find(' ').unwrap_or(s.len());
        self.0 = &s[end..];
        &s[..end]
    }
    /// After exactly one separating space, everything left.
    fn rest(&mut self) -> &'a str {
        let r = self.0.strip_prefix(' ').unwrap_or(self.0);
        self.0 = "";
        r
    }
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("hex: {s:?}"))
}

fn dec(s: &str) -> u64 {
    s.parse().unwrap_or_else(|_| panic!("number: {s:?}"))
}

fn dev(s: &str) -> (u32, u32) {
    let (a, b) = s.split_once(':').expect("major:minor");
    (hex(a) as u32, hex(b) as u32)
}

/// `r-xp` / `r-x--` -> (read, write, exec, shared).
fn perms(p: &str) -> (bool, bool, bool, bool) {
    let b = p.as_bytes();
    assert!(b.len() >= 4, "perms {p:?}");
    (b[0] == b'r', b[1] == b'w', b[2] == b'x', b[3] == b's')
}

/// One /proc/PID/maps line (without its newline) back into a MapsRow.
fn parse_maps_line(line: &str) -> MapsRow {
    let mut f = line.splitn(6, ' ');
    let mut next = || {
        f.next()
            .unwrap_or_else(|| panic!("short maps line {line:?}"))
    };
    let (start, end) = next().split_once('-').expect("start-end");
    let (read, write, exec, shared) = perms(next());
    let offset = hex(next());
    let (dev_major, dev_minor) = dev(next());
    let inode = dec(next());
    let name = next().trim_start_matches(' ');
    MapsRow {
        start: hex(start),
        end: hex(end),
        read,
        write,
        exec,
        shared,
        offset,
        dev_major,
        dev_minor,
        inode,
        name: (!name.is_empty()).then(|| name.to_string()),
    }
}

fn parse_maps(text: &str) -> Vec<MapsRow> {
    text.lines().map(parse_maps_line).collect()
}

/// Linux's VM_* value of a VmFlags mnemonic (include/linux/mm.h), written
/// out here rather than taken from the crate.
fn mnemonic_bit(m: &str) -> u64 {
    let bit = match m {
        "rd" => 0,
        "wr" => 1,
        "ex" => 2,
        "sh" => 3,
        "mr" => 4,
        "mw" => 5,
        "me" => 6,
        "ms" => 7,
        "gd" => 8,
        "um" => 9,
        "pf" => 10,
        "uw" => 12,
        "lo" => 13,
        "io" => 14,
        "sr" => 15,
        "rr" => 16,
        "dc" => 17,
        "de" => 18,
        "lf" => 19,
        "ac" => 20,
        "nr" => 21,
        "ht" => 22,
        "sf" => 23,
        "ar" => 24,
        "wf" => 25,
        "dd" => 26,
        "sd" => 27,
        "mm" => 28,
        "hg" => 29,
        "nh" => 30,
        "mg" => 31,
        _ => panic!("unknown mnemonic {m:?}"),
    };
    1 << bit
}

/// Split an smaps text into its entries (each starting with a maps line).
fn split_smaps_entries(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.split_inclusive('\n') {
        // Field labels start with an upper-case letter, maps lines with a
        // lower-case hex digit.
        if matches!(line.as_bytes()[0], b'0'..=b'9' | b'a'..=b'f') {
            out.push(String::new());
        }
        out.last_mut()
            .expect("entry starts with a maps line")
            .push_str(line);
    }
    out
}

/// One smaps entry back into an SmapsRow.
fn parse_smaps_entry(entry: &str) -> SmapsRow {
    let mut lines = entry.lines();
    let mut r = SmapsRow {
        maps: parse_maps_line(lines.next().expect("header")),
        ..SmapsRow::default()
    };
    let mut seen = Vec::new();
    for line in lines {
        let (label, value) = line.split_once(':').unwrap_or_else(|| panic!("{line:?}"));
        seen.push(label);
        if label == "VmFlags" {
            let bits = value.split_whitespace().map(mnemonic_bit).sum();
            r.vm_flags = vm_flags_mnemonics(bits);
            continue;
        }
        if label == "THPeligible" {
            r.thp_eligible = dec(value.trim()) == 1;
            continue;
        }
        let v = dec(value.trim().strip_suffix(" kB").expect("kB"));
        let slot = match label {
            "Size" => &mut r.size_kb,
            "KernelPageSize" => &mut r.kernel_page_size_kb,
            "MMUPageSize" => &mut r.mmu_page_size_kb,
            "Rss" => &mut r.rss_kb,
            "Pss" => &mut r.pss_kb,
            "Pss_Dirty" => &mut r.pss_dirty_kb,
            "Shared_Clean" => &mut r.shared_clean_kb,
            "Shared_Dirty" => &mut r.shared_dirty_kb,
            "Private_Clean" => &mut r.private_clean_kb,
            "Private_Dirty" => &mut r.private_dirty_kb,
            "Referenced" => &mut r.referenced_kb,
            "Anonymous" => &mut r.anonymous_kb,
            "KSM" => &mut r.ksm_kb,
            "LazyFree" => &mut r.lazyfree_kb,
            "AnonHugePages" => &mut r.anon_huge_pages_kb,
            "ShmemPmdMapped" => &mut r.shmem_pmd_mapped_kb,
            "FilePmdMapped" => &mut r.file_pmd_mapped_kb,
            "Shared_Hugetlb" => &mut r.shared_hugetlb_kb,
            "Private_Hugetlb" => &mut r.private_hugetlb_kb,
            "Swap" => &mut r.swap_kb,
            "SwapPss" => &mut r.swap_pss_kb,
            "Locked" => &mut r.locked_kb,
            _ => panic!("unknown smaps field {label:?}"),
        };
        *slot = v;
    }
    assert_eq!(seen.len(), 24, "fields of\n{entry}");
    r
}

fn parse_smaps(text: &str) -> Vec<SmapsRow> {
    split_smaps_entries(text)
        .iter()
        .map(|e| parse_smaps_entry(e))
        .collect()
}

/// The VmPeak..VmSwap block of a status text, and the StatusMem it holds.
fn parse_status_mem(text: &str) -> (String, StatusMem) {
    let mut m = StatusMem::default();
    let mut block = String::new();
    for line in text.lines() {
        let (label, value) = line.split_once(":\t").expect("label:\\tvalue");
        let slot = match label {
            "VmPeak" => &mut m.vm_peak,
            "VmSize" => &mut m.vm_size,
            "VmLck" => &mut m.vm_lck,
            "VmPin" => &mut m.vm_pin,
            "VmHWM" => &mut m.vm_hwm,
            "VmRSS" => &mut m.vm_rss,
            "RssAnon" => &mut m.rss_anon,
            "RssFile" => &mut m.rss_file,
            "RssShmem" => &mut m.rss_shmem,
            "VmData" => &mut m.vm_data,
            "VmStk" => &mut m.vm_stk,
            "VmExe" => &mut m.vm_exe,
            "VmLib" => &mut m.vm_lib,
            "VmPTE" => &mut m.vm_pte,
            "VmSwap" => &mut m.vm_swap,
            _ => continue,
        };
        *slot = dec(value.trim().strip_suffix(" kB").expect("kB"));
        block.push_str(line);
        block.push('\n');
    }
    (block, m)
}

/// `PID:   CMDLINE`.
fn parse_pmap_title(line: &str) -> (u32, &str) {
    let (pid, cmd) = line.split_once(":   ").expect("pid:   cmdline");
    (pid.parse().expect("pid"), cmd)
}

fn pmap_row_mode(r: &mut PmapRow, mode: &str) {
    assert_eq!(mode.len(), 5, "mode {mode:?}");
    assert!(mode.ends_with('-'));
    (r.read, r.write, r.exec, r.shared) = perms(mode);
}

/// `pmap PID` back into (pid, cmdline, rows, total).
fn parse_pmap(text: &str) -> (u32, String, Vec<PmapRow>, u64) {
    let mut lines = text.lines();
    let (pid, cmd) = parse_pmap_title(lines.next().unwrap());
    let mut rows = Vec::new();
    let mut total = None;
    for line in lines {
        if let Some(t) = line.strip_prefix(" total ") {
            total = Some(dec(t.trim().strip_suffix('K').unwrap()));
            continue;
        }
        let mut c = Cur(line);
        let mut r = PmapRow {
            start: hex(c.word()),
            size_kb: dec(c.word().strip_suffix('K').expect("K")),
            ..PmapRow::default()
        };
        pmap_row_mode(&mut r, c.word());
        r.mapping = c.rest().to_string();
        rows.push(r);
    }
    (pid, cmd.to_string(), rows, total.expect("total line"))
}

/// `pmap -x PID` back into (pid, cmdline, rows, totals).
fn parse_pmap_x(text: &str) -> (u32, String, Vec<PmapRow>, [u64; 3]) {
    let mut lines = text.lines();
    let (pid, cmd) = parse_pmap_title(lines.next().unwrap());
    assert!(lines.next().unwrap().starts_with("Address"));
    let mut rows = Vec::new();
    let mut totals = None;
    for line in lines {
        if line.starts_with("----") {
            continue;
        }
        if let Some(t) = line.strip_prefix("total kB") {
            let v: Vec<u64> = t.split_whitespace().map(dec).collect();
            totals = Some([v[0], v[1], v[2]]);
            continue;
        }
        let mut c = Cur(line);
        let mut r = PmapRow {
            start: hex(c.word()),
            size_kb: dec(c.word()),
            rss_kb: dec(c.word()),
            dirty_kb: dec(c.word()),
            ..PmapRow::default()
        };
        pmap_row_mode(&mut r, c.word());
        r.mapping = c.rest().to_string();
        rows.push(r);
    }
    (pid, cmd.to_string(), rows, totals.expect("total line"))
}

/// `pmap -d PID` back into (pid, cmdline, rows, [mapped, writeable, shared]).
fn parse_pmap_d(text: &str) -> (u32, String, Vec<PmapRow>, [u64; 3]) {
    let mut lines = text.lines();
    let (pid, cmd) = parse_pmap_title(lines.next().unwrap());
    assert!(lines.next().unwrap().starts_with("Address"));
    let mut rows = Vec::new();
    let mut sums = None;
    for line in lines {
        if line.starts_with("mapped:") {
            let v: Vec<u64> = line
                .split_whitespace()
                .filter_map(|w| w.strip_suffix('K'))
                .map(dec)
                .collect();
            sums = Some([v[0], v[1], v[2]]);
            continue;
        }
        let mut c = Cur(line);
        let mut r = PmapRow {
            start: hex(c.word()),
            size_kb: dec(c.word()),
            ..PmapRow::default()
        };
        pmap_row_mode(&mut r, c.word());
        r.offset = hex(c.word());
        (r.dev_major, r.dev_minor) = dev(c.word());
        r.mapping = c.rest().to_string();
        rows.push(r);
    }
    (pid, cmd.to_string(), rows, sums.expect("mapped line"))
}

// ---------------------------------------------------------------------------
// /proc/PID/maps

fn check_maps(text: &str) {
    let rows = parse_maps(text);
    assert_eq!(format_maps(&rows), text);
    for (row, line) in rows.iter().zip(text.split_inclusive('\n')) {
        assert_eq!(format_maps_line(row), line);
    }
}

#[test]
fn maps_matches_linux() {
    check_maps(LINUX_MAPS);
    let real = shared_file("maps.txt");
    check_maps(&real);
}

#[test]
fn maps_sample_parses_as_expected() {
    let rows = parse_maps(LINUX_MAPS);
    assert_eq!(rows.len(), 38);
    assert_eq!(
        rows[1],
        MapsRow {
            start: 0x564d_7490_8000,
            end: 0x564d_7490_d000,
            read: true,
            write: false,
            exec: true,
            shared: false,
            offset: 0x2000,
            dev_major: 0xfe,
            dev_minor: 0,
            inode: 247030,
            name: Some("/usr/bin/cat".into()),
        }
    );
    assert_eq!(rows[6].name, None);
    assert!(rows[25].shared);
    assert_eq!(rows[37].name.as_deref(), Some("[vsyscall]"));
}

fn row(start: u64, end: u64, inode: u64, name: Option<&str>) -> MapsRow {
    MapsRow {
        start,
        end,
        read: true,
        write: true,
        shared: false,
        inode,
        dev_major: if inode == 0 { 0 } else { 0xfe },
        name: name.map(String::from),
        ..MapsRow::default()
    }
}

#[test]
fn maps_line_without_a_name_ends_after_the_inode_and_a_space() {
    assert_eq!(
        format_maps_line(&row(0x1000, 0x3000, 0, None)),
        "00001000-00003000 rw-p 00000000 00:00 0 \n"
    );
    assert_eq!(
        format_maps_line(&row(0x7f74_3086_d000, 0x7f74_3087_0000, 0, None)),
        "7f743086d000-7f7430870000 rw-p 00000000 00:00 0 \n"
    );
}

#[test]
fn maps_names_start_in_column_73() {
    // Short addresses: the prefix is 38 characters, the name still starts at 73.
    let l = format_maps_line(&row(0x10000, 0x11000, 0, Some("[heap]")));
    assert_eq!(l.find('['), Some(73));
    assert_eq!(
        l,
        "00010000-00011000 rw-p 00000000 00:00 0                                  [heap]\n"
    );
    // 12 hex digits, as on x86_64 user space.
    let l = format_maps_line(&row(
        0x5599_1319_b000,
        0x5599_1319_c000,
        247774,
        Some("/bin/x"),
    ));
    assert_eq!(l.find('/'), Some(73));
    // 16 hex digits.
    let l = format_maps_line(&row(
        0xffff_ffff_ff60_0000,
        0xffff_ffff_ff60_1000,
        0,
        Some("[v]"),
    ));
    assert_eq!(l.find('['), Some(73));
}

#[test]
fn maps_long_prefix_gets_no_padding() {
    // 16-digit addresses: the prefix is 55 + digits(inode) characters.
    let hi = 0xffff_ffff_f000_0000u64;
    // 16 digits: prefix 71 (with its trailing space), one pad space and the
    // separator: column 73.
    let l = format_maps_line(&row(hi, hi + 0x1000, 1_000_000_000_000_000, Some("/a")));
    assert_eq!(l.len() - 3, 73);
    assert!(l.ends_with(" 1000000000000000   /a\n"), "{l:?}");
    // 17 digits: prefix 72 exactly, only the separator.
    let l = format_maps_line(&row(hi, hi + 0x1000, 10_000_000_000_000_000, Some("/a")));
    assert_eq!(l.len() - 3, 73);
    assert!(l.ends_with(" 10000000000000000  /a\n"), "{l:?}");
    // 20 digits and a 9-digit offset: well past column 73, the prefix's
    // trailing space and the separator.
    let mut r = row(hi, u64::MAX, u64::MAX, Some("/very/long/name"));
    r.offset = 0x1_2345_6000;
    r.dev_major = 0x103;
    r.dev_minor = 0x1f;
    assert_eq!(
        format_maps_line(&r),
        "fffffffff0000000-ffffffffffffffff rw-p 123456000 103:1f 18446744073709551615  /very/long/name\n"
    );
}

#[test]
fn maps_name_newline_is_escaped() {
    let l = format_maps_line(&row(0x1000, 0x2000, 5, Some("/tmp/a\nb")));
    assert!(l.ends_with(" /tmp/a\\012b\n"), "{l:?}");
    assert_eq!(l.matches('\n').count(), 1);
}

// ---------------------------------------------------------------------------
// /proc/PID/smaps

fn check_smaps(text: &str) {
    let rows = parse_smaps(text);
    assert_eq!(format_smaps(&rows), text);
    for (r, e) in rows.iter().zip(split_smaps_entries(text)) {
        assert_eq!(format_smaps_entry(r), e);
    }
}

#[test]
fn smaps_matches_linux() {
    check_smaps(LINUX_SMAPS_ENTRIES);
    let real = shared_file("smaps.txt");
    check_smaps(&real);
    assert_eq!(parse_smaps(&real).len(), 37);
}

#[test]
fn smaps_sample_parses_as_expected() {
    let rows = parse_smaps(LINUX_SMAPS_ENTRIES);
    let heap = &rows[1];
    assert_eq!(heap.maps.name.as_deref(), Some("[heap]"));
    assert_eq!(
        (heap.size_kb, heap.rss_kb, heap.private_dirty_kb),
        (132, 16, 16)
    );
    assert_eq!(heap.vm_flags, ["rd", "wr", "mr", "mw", "me", "ac"]);
    let vvar = &rows[4];
    assert_eq!(vvar.vm_flags, ["rd", "mr", "pf", "io", "de", "dd"]);
    let stack = &rows[6];
    assert_eq!(stack.vm_flags, ["rd", "wr", "mr", "mw", "me", "gd", "ac"]);
    assert_eq!(rows[7].vm_flags, ["ex"]);
}

#[test]
fn smaps_wide_values_and_private_hugetlb() {
    let r = SmapsRow {
        maps: row(0x1000, 0x2000, 0, None),
        size_kb: 123_456_789,
        private_hugetlb_kb: 12_345_678,
        shared_hugetlb_kb: 2048,
        thp_eligible: true,
        vm_flags: vm_flags_mnemonics(vm::VM_READ | vm::VM_HUGETLB),
        ..SmapsRow::default()
    };
    let s = format_smaps_entry(&r);
    assert!(s.contains("\nSize:           123456789 kB\n"), "{s}");
    assert!(s.contains("\nShared_Hugetlb:     2048 kB\n"), "{s}");
    // Linux prints this one "%7lu" after a 17-character label.
    assert!(s.contains("\nPrivate_Hugetlb: 12345678 kB\n"), "{s}");
    assert!(
        s.contains("\nPrivate_Hugetlb: 12345678 kB\nSwap:    "),
        "{s}"
    );
    assert!(
        s.contains("\nTHPeligible:           1\nVmFlags: rd ht \n"),
        "{s}"
    );
    assert!(s.ends_with("VmFlags: rd ht \n"));
    // Below 10^7 every counter line is 24 characters before " kB".
    let small = format_smaps_entry(&SmapsRow {
        maps: row(0x1000, 0x2000, 0, None),
        private_hugetlb_kb: 4,
        ..SmapsRow::default()
    });
    for line in small.lines().skip(1).filter(|l| l.ends_with(" kB")) {
        assert_eq!(line.len(), 27, "{line:?}");
    }
    assert!(small.ends_with("THPeligible:           0\nVmFlags: \n"));
}

#[test]
fn vm_flags_in_linux_bit_order() {
    use vm::*;
    assert_eq!(
        vm_flags_mnemonics(
            VM_ACCOUNT | VM_GROWSDOWN | VM_MAYEXEC | VM_MAYWRITE | VM_MAYREAD | VM_WRITE | VM_READ
        ),
        ["rd", "wr", "mr", "mw", "me", "gd", "ac"]
    );
    let all = VM_READ
        | VM_WRITE
        | VM_EXEC
        | VM_SHARED
        | VM_MAYREAD
        | VM_MAYWRITE
        | VM_MAYEXEC
        | VM_MAYSHARE
        | VM_GROWSDOWN
        | VM_UFFD_MISSING
        | VM_PFNMAP
        | VM_UFFD_WP
        | VM_LOCKED
        | VM_IO
        | VM_SEQ_READ
        | VM_RAND_READ
        | VM_DONTCOPY
        | VM_DONTEXPAND
        | VM_LOCKONFAULT
        | VM_ACCOUNT
        | VM_NORESERVE
        | VM_HUGETLB
        | VM_SYNC
        | VM_ARCH_1
        | VM_WIPEONFORK
        | VM_DONTDUMP
        | VM_SOFTDIRTY
        | VM_MIXEDMAP
        | VM_HUGEPAGE
        | VM_NOHUGEPAGE
        | VM_MERGEABLE
        | VM_PKEY_BITS
        | VM_SHADOW_STACK
        | VM_DROPPABLE
        | VM_UFFD_MINOR
        | VM_SEALED;
    assert_eq!(
        vm_flags_mnemonics(all).join(" "),
        "rd wr ex sh mr mw me ms gd um pf uw lo io sr rr dc de lf ac nr ht sf ar wf dd sd mm hg nh \
         mg ss dp ui sl"
    );
    // The test-side table agrees with the crate's constants.
    for (m, bit) in [
        ("gd", VM_GROWSDOWN),
        ("pf", VM_PFNMAP),
        ("lo", VM_LOCKED),
        ("dc", VM_DONTCOPY),
        ("ac", VM_ACCOUNT),
        ("nr", VM_NORESERVE),
        ("mg", VM_MERGEABLE),
    ] {
        assert_eq!(mnemonic_bit(m), bit, "{m}");
    }
    // A bit Linux has no name for prints "??"; the pkey bits print nothing.
    assert_eq!(vm_flags_mnemonics(1 << 11), ["??"]);
    assert_eq!(vm_flags_mnemonics(1 << 63 | VM_READ), ["rd", "??"]);
    assert!(vm_flags_mnemonics(VM_PKEY_BITS).is_empty());
    assert!(vm_flags_mnemonics(0).is_empty());
}

// ---------------------------------------------------------------------------
// /proc/PID/status

fn check_status(text: &str) {
    let (block, m) = parse_status_mem(text);
    assert_eq!(block.lines().count(), 15);
    assert_eq!(format_status_mem(&m), block);
    // The block is contiguous in the file.
    assert!(text.contains(&block));
}

#[test]
fn status_memory_block_matches_linux() {
    check_status(LINUX_STATUS);
    let real = shared_file("status.txt");
    check_status(&real);
    let (_, m) = parse_status_mem(LINUX_STATUS);
    assert_eq!(
        (m.vm_peak, m.vm_rss, m.rss_anon, m.vm_lib),
        (2920, 1760, 108, 1528)
    );
}

#[test]
fn status_wide_values() {
    let s = format_status_mem(&StatusMem {
        vm_peak: 123_456_789,
        vm_pte: 7,
        ..StatusMem::default()
    });
    assert!(
        s.starts_with("VmPeak:\t123456789 kB\nVmSize:\t       0 kB\n"),
        "{s}"
    );
    assert!(
        s.contains("\nVmPTE:\t       7 kB\nVmSwap:\t       0 kB\n"),
        "{s}"
    );
    assert!(s.ends_with("VmSwap:\t       0 kB\n"));
}

// ---------------------------------------------------------------------------
// pmap

fn check_pmap(text: &str) {
    let (pid, cmd, rows, total) = parse_pmap(text);
    assert_eq!(total, rows.iter().map(|r| r.size_kb).sum::<u64>());
    assert_eq!(format_pmap(pid, &cmd, &rows), text);
}

fn check_pmap_x(text: &str) {
    let (pid, cmd, rows, totals) = parse_pmap_x(text);
    assert_eq!(totals[1], rows.iter().map(|r| r.rss_kb).sum::<u64>());
    assert_eq!(format_pmap_x(pid, &cmd, &rows), text);
}

fn check_pmap_d(text: &str) {
    let (pid, cmd, rows, sums) = parse_pmap_d(text);
    assert_eq!(sums[0], rows.iter().map(|r| r.size_kb).sum::<u64>());
    assert_eq!(format_pmap_d(pid, &cmd, &rows), text);
}

#[test]
fn pmap_matches_procps() {
    check_pmap(LINUX_PMAP);
    check_pmap_x(LINUX_PMAP_X);
    check_pmap_d(LINUX_PMAP_D);
    let real = shared_file("pmap.txt");
    check_pmap(&real);
    let real = shared_file("pmap-x.txt");
    check_pmap_x(&real);
    let real = shared_file("pmap-d.txt");
    check_pmap_d(&real);
}

#[test]
fn pmap_samples_parse_as_expected() {
    let (pid, cmd, rows, total) = parse_pmap(LINUX_PMAP);
    assert_eq!(
        (pid, cmd.as_str(), rows.len(), total),
        (6851, "sleep 30", 37, 2924)
    );
    assert_eq!(rows[5].mapping, "  [ anon ]");
    assert_eq!(rows[35].mapping, "  [ stack ]");
    let (_, _, _, x) = parse_pmap_x(LINUX_PMAP_X);
    assert_eq!(x, [2924, 1760, 108]);
    let (_, _, d, sums) = parse_pmap_d(LINUX_PMAP_D);
    assert_eq!(sums, [2924, 356, 28]);
    assert_eq!(
        (d[1].offset, d[1].dev_major, d[1].dev_minor),
        (0x2000, 0xfe, 0)
    );
}

/// The rows pmap derives from an smaps text, with the mapping names pmap
/// computes from the maps names.
fn pmap_rows_from_smaps(text: &str) -> Vec<PmapRow> {
    parse_smaps(text)
        .iter()
        .map(|s| PmapRow::from_smaps(s, SLEEP_START_STACK))
        .collect()
}

#[test]
fn pmap_views_of_the_smaps_sample() {
    // The embedded entries: each derived -x and -d row equals the line
    // procps printed for the same mapping.
    for r in pmap_rows_from_smaps(LINUX_SMAPS_ENTRIES) {
        let x = format_pmap_x(1, "c", core::slice::from_ref(&r));
        let xline = x.lines().nth(2).unwrap();
        assert!(LINUX_PMAP_X.lines().any(|l| l == xline), "{xline:?}");
        let d = format_pmap_d(1, "c", core::slice::from_ref(&r));
        let dline = d.lines().nth(2).unwrap();
        assert!(LINUX_PMAP_D.lines().any(|l| l == dline), "{dline:?}");
    }
    // The whole file: all three views, byte for byte.
    let real = shared_file("smaps.txt");
    let rows = pmap_rows_from_smaps(&real);
    assert_eq!(format_pmap(6851, "sleep 30", &rows), LINUX_PMAP);
    assert_eq!(format_pmap_x(6851, "sleep 30", &rows), LINUX_PMAP_X);
    assert_eq!(format_pmap_d(6851, "sleep 30", &rows), LINUX_PMAP_D);
}

#[test]
fn pmap_mapping_names() {
    let n = |name: Option<&str>| pmap_mapping_name(name, 0x1000, 0x2000, 0x9000);
    assert_eq!(n(Some("/usr/lib/x86_64-linux-gnu/libc.so.6")), "libc.so.6");
    assert_eq!(n(Some("/dir/")), "/");
    assert_eq!(n(Some("[heap]")), "  [ anon ]");
    assert_eq!(n(Some("[anon:jit]")), "  [ anon ]");
    assert_eq!(n(None), "  [ anon ]");
    // start_stack in start..=start+len (inclusive end, as procps).
    assert_eq!(
        pmap_mapping_name(None, 0x1000, 0x2000, 0x1000),
        "  [ stack ]"
    );
    assert_eq!(
        pmap_mapping_name(None, 0x1000, 0x2000, 0x3000),
        "  [ stack ]"
    );
    assert_eq!(
        pmap_mapping_name(None, 0x1000, 0x2000, 0x3001),
        "  [ anon ]"
    );
    assert_eq!(
        pmap_mapping_name(Some("[stack]"), 0x1000, 0x2000, 0),
        "  [ anon ]"
    );
}

#[test]
fn pmap_wide_and_high_values() {
    let r = PmapRow {
        start: 0xffff_ffff_ff60_0000,
        size_kb: 12_345_678,
        read: true,
        exec: true,
        shared: true,
        rss_kb: 123_456_789,
        offset: 0x1234_5678_9abc,
        dev_major: 0x1234,
        dev_minor: 0x123456,
        mapping: "x".into(),
        ..PmapRow::default()
    };
    let rows = [r];
    assert_eq!(
        format_pmap(7, "a b", &rows),
        "7:   a b\nffffffffff600000 12345678K r-xs- x\n total         12345678K\n"
    );
    let x = format_pmap_x(7, "a b", &rows);
    assert!(
        x.contains("\nffffffffff600000 12345678 123456789       0 r-xs- x\n"),
        "{x}"
    );
    assert!(
        x.ends_with("\ntotal kB         12345678 123456789       0\n"),
        "{x}"
    );
    let d = format_pmap_d(7, "a b", &rows);
    assert!(
        d.contains("\nffffffffff600000 12345678 r-xs- 0000123456789abc 1234:123456 x\n"),
        "{d}"
    );
    assert!(d.ends_with("mapped: 12345678K    writeable/private: 0K    shared: 12345678K\n"));
    // Low addresses are zero-padded to 16 digits.
    let low = PmapRow {
        start: 0x10000,
        size_kb: 4,
        read: true,
        write: true,
        mapping: "  [ anon ]".into(),
        ..PmapRow::default()
    };
    assert_eq!(
        format_pmap(1, "init", &[low]),
        "1:   init\n0000000000010000      4K rw---   [ anon ]\n total                4K\n"
    );
}

#[test]
fn pmap_from_maps_row() {
    let m = parse_maps_line(
        "7fce17013000-7fce17169000 r-xp 00026000 fe:00 326279                     \
         /usr/lib/x86_64-linux-gnu/libc.so.6",
    );
    let p = PmapRow::from_maps(&m, 0);
    assert_eq!(p.size_kb, 1368);
    assert_eq!(p.mode(), ['r', '-', 'x', '-', '-']);
    assert_eq!(p.mapping, "libc.so.6");
    assert_eq!((p.offset, p.dev_major, p.rss_kb), (0x26000, 0xfe, 0));
}
