//! /proc/PID/maps, smaps, status and pmap computed from a live address
//! space (`mm::proc::pid`): names ([heap], [stack], the shmem file),
//! exact smaps counters from the page tables, Pss across fork and copy on
//! write, status lines against the mm's counters, and pmap.

mod common;

use mm::fault::Access;
use mm::fork::dup_mm;
use mm::mmap::*;
use mm::proc::pid::*;
use mm::proc::{MapsRow, SmapsRow};
use mm::uaccess::{user_access, user_store};
use mm::PAGE_SIZE;

const P: usize = PAGE_SIZE;
const RW: usize = PROT_READ | PROT_WRITE;
const RX: usize = PROT_READ | PROT_EXEC;
const ANON: usize = MAP_PRIVATE | MAP_ANONYMOUS;
const TEXT: usize = 0x0040_0000;
const HEAP: usize = 0x0800_0000;
const BASE: usize = 0x1000_0000;
const LIB: usize = 0x2000_0000;
const STACK_END: usize = 0x7fff_ffff_f000;
const STACK: usize = STACK_END - 8 * P;
const START_STACK: usize = STACK_END - 0x100;

fn w(cpu: &mm::Cpu<'_>, mm: &MmStruct<'_>, va: usize) {
    user_store(cpu, mm, va, &[1u8]).unwrap();
}

/// text (2 pages r-x, start_code..end_code), heap of 3 pages (2 written),
/// anon of 4 pages (0 and 3 written, 1 read: the zero page), a library
/// mapping of 3 pages r-x, and an 8-page stack with its top page written.
fn build<'m>(cpu: &mm::Cpu<'m>) -> MmBox<'m> {
    let mut mm = MmStruct::new(cpu).unwrap();
    {
        let st = mm.state();
        st.start_code = TEXT;
        st.end_code = TEXT + P + 0x800;
        st.start_brk = HEAP;
        st.brk = HEAP;
        st.start_stack = START_STACK;
    }
    mm.do_mmap(cpu, TEXT, 2 * P, RX, ANON | MAP_FIXED).unwrap();
    assert_eq!(mm.brk(cpu, HEAP + 3 * P), HEAP + 3 * P);
    w(cpu, &mm, HEAP);
    w(cpu, &mm, HEAP + P);
    mm.do_mmap(cpu, BASE, 4 * P, RW, ANON | MAP_FIXED).unwrap();
    w(cpu, &mm, BASE);
    user_access(cpu, &mm, BASE + P, 8, Access::Read).unwrap();
    w(cpu, &mm, BASE + 3 * P);
    mm.do_mmap(cpu, LIB, 3 * P, RX, ANON | MAP_FIXED).unwrap();
    mm.do_mmap(
        cpu,
        STACK,
        8 * P,
        RW,
        ANON | MAP_FIXED | MAP_GROWSDOWN | MAP_STACK,
    )
    .unwrap();
    w(cpu, &mm, STACK_END - 8);
    mm
}

fn pad(prefix: &str, name: &str) -> String {
    format!("{prefix:<72} {name}\n")
}

fn entry(rows: &[SmapsRow], start: usize) -> &SmapsRow {
    rows.iter()
        .find(|r| r.maps.start == start as u64)
        .unwrap_or_else(|| panic!("no VMA at {start:#x}"))
}

/// (Rss, Pss, Shared_Clean, Shared_Dirty, Private_Clean, Private_Dirty,
/// Referenced, Anonymous) in kB.
fn counts(r: &SmapsRow) -> [u64; 8] {
    [
        r.rss_kb,
        r.pss_kb,
        r.shared_clean_kb,
        r.shared_dirty_kb,
        r.private_clean_kb,
        r.private_dirty_kb,
        r.referenced_kb,
        r.anonymous_kb,
    ]
}

#[test]
fn maps_names_perms_and_addresses() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = build(&cpu);
        let rows = maps_rows(&mm);
        let starts: Vec<u64> = rows.iter().map(|r| r.start).collect();
        assert_eq!(
            starts,
            [TEXT, HEAP, BASE, LIB, STACK].map(|a| a as u64).to_vec()
        );
        let expect = [
            "00400000-00402000 r-xp 00000000 00:00 0 \n".to_string(),
            pad("08000000-08003000 rw-p 00000000 00:00 0", "[heap]"),
            "10000000-10004000 rw-p 00000000 00:00 0 \n".to_string(),
            "20000000-20003000 r-xp 00000000 00:00 0 \n".to_string(),
            pad("7fffffff7000-7ffffffff000 rw-p 00000000 00:00 0", "[stack]"),
        ]
        .concat();
        assert_eq!(proc_pid_maps(&mm), expect);
        assert_eq!(rows[1].name.as_deref(), Some("[heap]"));
        assert_eq!(rows[4].name.as_deref(), Some("[stack]"));
        assert_eq!(rows[0].perms(), ['r', '-', 'x', 'p']);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn heap_name_follows_linux_rule() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mut mm = MmStruct::new(&cpu).unwrap();
        // An area ending exactly at start_brk with an empty heap is [heap]
        // (vm_end >= start_brk && vm_start <= brk), as in Linux.
        mm.do_mmap(&cpu, HEAP - 2 * P, 2 * P, RW, ANON | MAP_FIXED)
            .unwrap();
        {
            let st = mm.state();
            st.start_brk = HEAP;
            st.brk = HEAP;
        }
        assert_eq!(maps_rows(&mm)[0].name.as_deref(), Some("[heap]"));
        // Moved away: no name; start_brk == brk == 0 names nothing.
        {
            let st = mm.state();
            st.start_brk = HEAP + P;
            st.brk = HEAP + P;
        }
        assert_eq!(maps_rows(&mm)[0].name, None);
        {
            let st = mm.state();
            st.start_brk = 0;
            st.brk = 0;
        }
        assert_eq!(maps_rows(&mm)[0].name, None);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn smaps_counters_from_page_tables() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = build(&cpu);
        let rows = smaps_rows(&mm);
        // The anon area: 2 written pages; the zero page is not counted.
        let a = entry(&rows, BASE);
        assert_eq!(counts(a), [8, 8, 0, 0, 0, 8, 8, 8]);
        assert_eq!((a.size_kb, a.pss_dirty_kb, a.locked_kb), (16, 8, 0));
        assert_eq!(a.vm_flags, ["rd", "wr", "mr", "mw", "me", "ac"]);
        assert_eq!(counts(entry(&rows, HEAP)), [8, 8, 0, 0, 0, 8, 8, 8]);
        let s = entry(&rows, STACK);
        assert_eq!(counts(s), [4, 4, 0, 0, 0, 4, 4, 4]);
        assert_eq!(s.vm_flags, ["rd", "wr", "mr", "mw", "me", "gd", "ac", "nh"]);
        assert_eq!(counts(entry(&rows, TEXT)), [0; 8]);
        // Exact text of one entry.
        let text = proc_pid_smaps(&mm);
        let start = text.find("10000000-10004000").unwrap();
        let block: String = text[start..]
            .lines()
            .take(25)
            .collect::<Vec<_>>()
            .join("\n");
        let expect = "10000000-10004000 rw-p 00000000 00:00 0 
Size:                 16 kB
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
VmFlags: rd wr mr mw me ac ";
        assert_eq!(block, expect);

        // Locked = Pss for an mlocked area.
        mm.mlock(&cpu, BASE, 4 * P).unwrap();
        let rows = smaps_rows(&mm);
        let a = entry(&rows, BASE);
        assert_eq!(a.locked_kb, a.pss_kb);
        assert!(a.vm_flags.contains(&"lo"));
        mm.munlock(&cpu, BASE, 4 * P).unwrap();
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn pss_across_fork_and_cow() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let parent = build(&cpu);
        let child = dup_mm(&cpu, &parent).unwrap();

        // Two mappings of each page: Pss halves, all shared and dirty; the
        // child's PTEs are old.
        let pr = smaps_rows(&parent);
        let cr = smaps_rows(&child);
        assert_eq!(counts(entry(&pr, BASE)), [8, 4, 0, 8, 0, 0, 8, 8]);
        assert_eq!(counts(entry(&cr, BASE)), [8, 4, 0, 8, 0, 0, 0, 8]);
        assert_eq!(entry(&pr, BASE).pss_dirty_kb, 4);
        assert_eq!(counts(entry(&pr, STACK)), [4, 2, 0, 4, 0, 0, 4, 4]);
        assert_eq!(maps_rows(&child), maps_rows(&parent));

        // Parent writes page 0: its own copy; the child's page is private
        // again too.
        w(&cpu, &parent, BASE);
        assert_eq!(
            counts(entry(&smaps_rows(&parent), BASE)),
            [8, 6, 0, 4, 0, 4, 8, 8]
        );
        assert_eq!(
            counts(entry(&smaps_rows(&child), BASE)),
            [8, 6, 0, 4, 0, 4, 0, 8]
        );
        // Child writes page 3: everything private.
        w(&cpu, &child, BASE + 3 * P);
        assert_eq!(
            counts(entry(&smaps_rows(&parent), BASE)),
            [8, 8, 0, 0, 0, 8, 8, 8]
        );
        // The child has not touched its page 0 since the fork (old PTE).
        assert_eq!(
            counts(entry(&smaps_rows(&child), BASE)),
            [8, 8, 0, 0, 0, 8, 4, 8]
        );

        // Three mappings of the two heap pages: 2 * (4096 << 12) / 3,
        // shifted back, is 2730 bytes: Pss 2 kB.
        let grandchild = dup_mm(&cpu, &child).unwrap();
        let h = |m: &MmStruct<'_>| entry(&smaps_rows(m), HEAP).pss_kb;
        assert_eq!((h(&parent), h(&child), h(&grandchild)), (2, 2, 2));
        assert_eq!(entry(&smaps_rows(&grandchild), HEAP).shared_dirty_kb, 8);

        grandchild.free(&cpu);
        child.free(&cpu);
        assert_eq!(
            counts(entry(&smaps_rows(&parent), HEAP)),
            [8, 8, 0, 0, 0, 8, 8, 8]
        );
        parent.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn shared_anonymous_is_the_dev_zero_file() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = MmStruct::new(&cpu).unwrap();
        mm.do_mmap(
            &cpu,
            BASE,
            2 * P,
            RW,
            MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
        )
        .unwrap();
        w(&cpu, &mm, BASE + P);
        let rows = maps_rows(&mm);
        assert_eq!(
            rows[0],
            MapsRow {
                start: BASE as u64,
                end: (BASE + 2 * P) as u64,
                read: true,
                write: true,
                exec: false,
                shared: true,
                offset: 0,
                dev_major: 0,
                dev_minor: 1,
                inode: 1,
                name: Some("/dev/zero (deleted)".into()),
            }
        );
        assert_eq!(
            proc_pid_maps(&mm),
            pad(
                "10000000-10002000 rw-s 00000000 00:01 1",
                "/dev/zero (deleted)"
            )
        );
        // Resident, not anonymous.
        let s = &smaps_rows(&mm)[0];
        assert_eq!(counts(s), [4, 4, 0, 0, 0, 4, 4, 0]);
        assert_eq!(s.vm_flags, ["rd", "wr", "sh", "mr", "mw", "me", "ms"]);
        let st = status_mem(&mm);
        assert_eq!(
            (st.vm_rss, st.rss_anon, st.rss_shmem, st.vm_data),
            (4, 0, 4, 0)
        );
        // Split by munmap of the first page: the rest keeps its file offset.
        mm.do_munmap(&cpu, BASE, P).unwrap();
        assert_eq!(maps_rows(&mm)[0].offset, P as u64);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn status_matches_counters() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = build(&cpu);
        let st = status_mem(&mm);
        let tables = mm.page_table_lock.lock().pt.as_ref().unwrap().nr_tables();
        // pgd; one pud and one pmd, and a pte table each for heap and anon
        // (text and lib are never touched); pud, pmd, pte for the stack.
        assert_eq!(tables, 8);
        let text = "\
VmPeak:\t      80 kB
VmSize:\t      80 kB
VmLck:\t       0 kB
VmPin:\t       0 kB
VmHWM:\t      20 kB
VmRSS:\t      20 kB
RssAnon:\t      20 kB
RssFile:\t       0 kB
RssShmem:\t       0 kB
VmData:\t      28 kB
VmStk:\t      32 kB
VmExe:\t       8 kB
VmLib:\t      12 kB
VmPTE:\t      32 kB
VmSwap:\t       0 kB
";
        assert_eq!(proc_pid_status_mem(&mm), text);
        {
            let g = mm.mmap_read_lock(&cpu);
            assert_eq!(st.vm_size, (g.total_vm * 4) as u64);
            assert_eq!(st.vm_data, (g.data_vm * 4) as u64);
            assert_eq!(st.vm_stk, (g.stack_vm * 4) as u64);
            assert_eq!(st.vm_exe + st.vm_lib, (g.exec_vm * 4) as u64);
            assert_eq!(status_mem_locked(&mm, &g), st);
        }
        assert_eq!(st.vm_rss, (mm.get_mm_rss() * 4) as u64);
        // The RSS equals the sum of smaps Rss.
        let rss: u64 = smaps_rows(&mm).iter().map(|r| r.rss_kb).sum();
        assert_eq!(rss, st.vm_rss);
        mm.mlock(&cpu, BASE, 4 * P).unwrap();
        assert_eq!(status_mem(&mm).vm_lck, 16);
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}

#[test]
fn pmap_views() {
    let (k, before) = common::boot_vm();
    {
        let cpu = k.mem.cpu(0).unwrap();
        let mm = build(&cpu);
        let expect = "\
42:   ./a.out
0000000000400000      8K r-x--   [ anon ]
0000000008000000     12K rw---   [ anon ]
0000000010000000     16K rw---   [ anon ]
0000000020000000     12K r-x--   [ anon ]
00007fffffff7000     32K rw---   [ stack ]
 total               80K
";
        assert_eq!(proc_pid_pmap(&mm, 42, "./a.out"), expect);
        let x = proc_pid_pmap_x(&mm, 42, "./a.out");
        assert!(x.contains("0000000010000000      16       8       8 rw---   [ anon ]\n"));
        assert!(
            x.ends_with("total kB              80      20      20\n"),
            "{x}"
        );
        let d = proc_pid_pmap_d(&mm, 42, "./a.out");
        assert!(
            d.contains("00007fffffff7000      32 rw--- 0000000000000000 000:00000   [ stack ]\n")
        );
        assert!(d.ends_with("mapped: 80K    writeable/private: 60K    shared: 0K\n"));
        mm.free(&cpu);
    }
    assert_eq!(common::settle(&k.mem), before);
}
