//! The /proc formatters: byte-exact against real Linux output (the samples
//! in tests/data/linux-formats/, copied below as constants), and
//! structurally on a booted `Mem`.

mod common;

use mm::proc::{self, Pageset, SlabtopStats, ZoneInfo};
use mm::slab::SlabInfo;
use mm::vmstat::NodeStatItem;
use mm::{Gfp, SlabFlags, StdCache};

// ---------------------------------------------------------------------------
// Linux samples.

const LINUX_SLABINFO: &str = "\
slabinfo - version: 2.1
# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
vm_area_struct       635   1281    192   21    1 : tunables    0    0    0 : slabdata     61     61      0
task_struct          100    105   5888    5    8 : tunables    0    0    0 : slabdata     21     21      0
mm_struct             80     80   1600   20    8 : tunables    0    0    0 : slabdata      4      4      0
kmalloc-8k            36     36   8192    4    8 : tunables    0    0    0 : slabdata      9      9      0
kmalloc-4k           271    328   4096    8    8 : tunables    0    0    0 : slabdata     41     41      0
kmalloc-2k           272    272   2048   16    8 : tunables    0    0    0 : slabdata     17     17      0
kmalloc-1k           710    736   1024   16    4 : tunables    0    0    0 : slabdata     46     46      0
kmalloc-512         1744   1856    512   16    2 : tunables    0    0    0 : slabdata    116    116      0
kmalloc-256          752    752    256   16    1 : tunables    0    0    0 : slabdata     47     47      0
kmalloc-128         3047   4128    128   32    1 : tunables    0    0    0 : slabdata    129    129      0
kmalloc-64          1759   2176     64   64    1 : tunables    0    0    0 : slabdata     34     34      0
kmalloc-32          1216   3840     32  128    1 : tunables    0    0    0 : slabdata     30     30      0
kmalloc-16          2030   2048     16  256    1 : tunables    0    0    0 : slabdata      8      8      0
kmalloc-8           2046   2048      8  512    1 : tunables    0    0    0 : slabdata      4      4      0
kmalloc-192         2058   2058    192   21    1 : tunables    0    0    0 : slabdata     98     98      0
kmalloc-96          3367   3402     96   42    1 : tunables    0    0    0 : slabdata     81     81      0
";

const LINUX_BUDDYINFO: &str = "\
Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 
Node 0, zone    DMA32    124     49     38     27     16      8      5      4      6      4    748 
Node 0, zone   Normal   4106   3006   2422   1198    357    139     50     20     68    112   4914 
";

const LINUX_MEMINFO: &str = "\
MemTotal:       24684084 kB
MemFree:        23709180 kB
MemAvailable:   24206592 kB
Buffers:           24368 kB
Cached:           768860 kB
SwapCached:            0 kB
Active:           418472 kB
Inactive:         369056 kB
Active(anon):       1504 kB
Inactive(anon):     1668 kB
Active(file):     416968 kB
Inactive(file):   367388 kB
Unevictable:       10352 kB
Mlocked:            9372 kB
SwapTotal:             0 kB
SwapFree:              0 kB
Zswap:                 0 kB
Zswapped:              0 kB
Dirty:                60 kB
Writeback:             0 kB
AnonPages:          4664 kB
Mapped:             9988 kB
Shmem:              8872 kB
KReclaimable:      43904 kB
Slab:              67048 kB
SReclaimable:      43904 kB
SUnreclaim:        23144 kB
KernelStack:        1256 kB
PageTables:         1504 kB
SecPageTables:         0 kB
NFS_Unstable:          0 kB
Bounce:                0 kB
WritebackTmp:          0 kB
CommitLimit:    12342040 kB
Committed_AS:      47176 kB
VmallocTotal:   34359738367 kB
VmallocUsed:       14060 kB
VmallocChunk:          0 kB
Percpu:              928 kB
AnonHugePages:         0 kB
ShmemHugePages:        0 kB
ShmemPmdMapped:        0 kB
FileHugePages:     12288 kB
FilePmdMapped:         0 kB
Balloon:               0 kB
HugePages_Total:       0
HugePages_Free:        0
HugePages_Rsvd:        0
HugePages_Surp:        0
Hugepagesize:       2048 kB
Hugetlb:               0 kB
DirectMap4k:       28672 kB
DirectMap2M:     2068480 kB
DirectMap1G:    25165824 kB
";

const LINUX_SLABTOP: &str = "\
\x20Active / Total Objects (% used)    : 228584 / 252071 (90.7%)
 Active / Total Slabs (% used)      : 7927 / 7927 (100.0%)
 Active / Total Caches (% used)     : 133 / 236 (56.4%)
 Active / Total Size (% used)       : 56979.50K / 59294.63K (96.1%)
 Minimum / Average / Maximum Object : 0.01K / 0.23K / 50.28K

  OBJS ACTIVE  USE OBJ SIZE  SLABS OBJ/SLAB CACHE SIZE NAME                   
 20762  20762 100%    1.10K   1483       14     23728K ext4_inode_cache       
 12852  12394  96%    0.57K    918       14      7344K radix_tree_node        
 29337  29136  99%    0.19K   1397       21      5588K dentry                 
 47775  47381  99%    0.10K   1225       39      4900K buffer_head            
 17430  17206  98%    0.13K    581       30      2324K kernfs_node_cache      
   328    271  82%    4.00K     41        8      1312K kmalloc-4k             
 36224  22176  61%    0.03K    283      128      1132K lsm_inode_cache        
  1856   1744  93%    0.50K    116       16       928K kmalloc-512            
   736    710  96%    1.00K     46       16       736K kmalloc-1k             
 17340  17331  99%    0.04K    170      102       680K extent_status          
   105    100  95%    5.75K     21        5       672K task_struct            
   152    104  68%    4.00K     19        8       608K biovec-max             
  7616   7616 100%    0.07K    136       56       544K vmap_area              
   272    272 100%    2.00K     17       16       544K kmalloc-2k             
  9855   8541  86%    0.05K    135       73       540K ftrace_event_field     
  4128   3047  73%    0.12K    129       32       516K kmalloc-128            
   256    181  70%    2.00K     16       16       512K kmalloc-cg-2k          
   600    542  90%    0.62K     50       12       400K debugfs_inode_cache    
";

/// The constants above are the Linux samples of tests/data/linux-formats/
/// (part of the repository: a missing file fails the test).
#[test]
fn samples_match_the_shared_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/linux-formats");
    for (file, text) in [
        ("slabinfo.txt", LINUX_SLABINFO),
        ("buddyinfo.txt", LINUX_BUDDYINFO),
        ("meminfo.txt", LINUX_MEMINFO),
        ("slabtop.txt", LINUX_SLABTOP),
    ] {
        let real = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("Linux sample {}: {e}", dir.join(file).display()));
        assert_eq!(real, text, "{file}");
    }
}

// ---------------------------------------------------------------------------
// Parsers (test-side, independent of the formatters).

fn nums(s: &str) -> Vec<usize> {
    s.split_whitespace()
        .map(|w| w.parse().unwrap_or_else(|_| panic!("number: {w:?}")))
        .collect()
}

/// One /proc/slabinfo row back into a SlabInfo.
fn parse_slabinfo_row(line: &str) -> SlabInfo {
    let (head, rest) = line.split_once(" : tunables ").expect("tunables");
    let (tun, data) = rest.split_once(" : slabdata ").expect("slabdata");
    let mut w = head.split_whitespace();
    let name = w.next().unwrap().to_string();
    let h = nums(&w.collect::<Vec<_>>().join(" "));
    let t = nums(tun);
    let d = nums(data);
    assert_eq!((h.len(), t.len(), d.len()), (5, 3, 3), "{line}");
    SlabInfo {
        name,
        active_objs: h[0],
        num_objs: h[1],
        objsize: h[2],
        objperslab: h[3],
        pagesperslab: h[4],
        limit: t[0],
        batchcount: t[1],
        sharedfactor: t[2],
        active_slabs: d[0],
        num_slabs: d[1],
        sharedavail: d[2],
    }
}

fn parse_slabinfo(text: &str) -> Vec<SlabInfo> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("slabinfo - version: 2.1"));
    assert!(lines.next().unwrap().starts_with("# name "));
    lines.map(parse_slabinfo_row).collect()
}

/// A slabtop row: (objs, active, use%, obj size K, slabs, obj/slab, cache K, name).
#[derive(Debug, PartialEq)]
struct TopRow {
    objs: usize,
    active: usize,
    use_pct: usize,
    obj_k: f64,
    slabs: usize,
    per_slab: usize,
    cache_k: usize,
    name: String,
}

fn parse_top_row(line: &str) -> TopRow {
    let w: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(w.len(), 8, "{line:?}");
    TopRow {
        objs: w[0].parse().unwrap(),
        active: w[1].parse().unwrap(),
        use_pct: w[2].strip_suffix('%').unwrap().parse().unwrap(),
        obj_k: w[3].strip_suffix('K').unwrap().parse().unwrap(),
        slabs: w[4].parse().unwrap(),
        per_slab: w[5].parse().unwrap(),
        cache_k: w[6].strip_suffix('K').unwrap().parse().unwrap(),
        name: w[7].to_string(),
    }
}

/// A sample slabtop row turned into the slabinfo row it came from.
fn top_row_to_slabinfo(r: &TopRow) -> SlabInfo {
    assert_eq!(r.cache_k % (4 * r.slabs), 0, "{r:?}");
    SlabInfo {
        name: r.name.clone(),
        active_objs: r.active,
        num_objs: r.objs,
        objsize: (r.obj_k * 1024.0).round() as usize,
        objperslab: r.per_slab,
        pagesperslab: r.cache_k / 4 / r.slabs,
        limit: 0,
        batchcount: 0,
        sharedfactor: 0,
        active_slabs: r.slabs,
        num_slabs: r.slabs,
        sharedavail: 0,
    }
}

/// /proc/meminfo into (label, kB) pairs.
fn parse_meminfo(text: &str) -> Vec<(String, usize)> {
    text.lines()
        .filter_map(|l| {
            let v = l.strip_suffix(" kB")?;
            let (label, n) = v.split_once(':').unwrap();
            Some((label.to_string(), n.trim().parse().unwrap()))
        })
        .collect()
}

/// The per-CPU `count:` values of /proc/zoneinfo, in CPU order.
fn pcp_counts(text: &str) -> Vec<usize> {
    text.lines()
        .filter_map(|l| l.strip_prefix("              count: "))
        .map(|n| n.parse().unwrap())
        .collect()
}

fn meminfo_value(text: &str, label: &str) -> usize {
    parse_meminfo(text)
        .into_iter()
        .find(|(l, _)| l == label)
        .unwrap_or_else(|| panic!("{label}"))
        .1
}

// ---------------------------------------------------------------------------
// Byte-exact against Linux.

#[test]
fn slabinfo_is_byte_exact_to_linux() {
    let rows = parse_slabinfo(LINUX_SLABINFO);
    assert_eq!(rows.len(), 16);
    assert_eq!(proc::format_slabinfo(&rows), LINUX_SLABINFO);
    // One row on its own, including its newline.
    let mut s = String::new();
    proc::format_slabinfo_row(&mut s, &rows[1]);
    assert_eq!(s, LINUX_SLABINFO.lines().nth(3).unwrap().to_string() + "\n");
}

#[test]
fn slabinfo_long_names_and_numbers_widen_like_printf() {
    let r = SlabInfo {
        name: "a_cache_name_longer_than_17".into(),
        active_objs: 12_345_678,
        num_objs: 12_345_679,
        objsize: 1_234_567,
        objperslab: 12_345,
        pagesperslab: 12_345,
        limit: 12_345,
        batchcount: 60,
        sharedfactor: 8,
        active_slabs: 1_234_567,
        num_slabs: 1_234_568,
        sharedavail: 1,
    };
    let mut s = String::new();
    proc::format_slabinfo_row(&mut s, &r);
    assert_eq!(
        s,
        "a_cache_name_longer_than_17 12345678 12345679 1234567 12345 12345 : tunables 12345   60    8 \
         : slabdata 1234567 1234568      1\n"
    );
}

#[test]
fn buddyinfo_is_byte_exact_to_linux() {
    for line in LINUX_BUDDYINFO.lines() {
        let (head, counts) = line.split_at(21);
        let zone = head.rsplit(' ').next().unwrap();
        let counts = nums(counts);
        assert_eq!(counts.len(), 11);
        assert_eq!(
            proc::format_buddyinfo(0, zone, &counts),
            format!("{line}\n")
        );
    }
}

#[test]
fn meminfo_is_byte_exact_to_linux() {
    let fields = parse_meminfo(LINUX_MEMINFO);
    let borrowed: Vec<(&str, usize)> = fields.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    let expected: String = LINUX_MEMINFO
        .lines()
        .filter(|l| l.ends_with(" kB"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(borrowed.len(), 50);
    assert_eq!(proc::format_meminfo(&borrowed), expected);
}

#[test]
fn si_mem_available_follows_linux() {
    // free - reserve + cache - min(cache/2, low) + slab - min(slab/2, low).
    assert_eq!(
        proc::si_mem_available(1000, 100, 50, 400, 60),
        1000 - 100 + 350 + 30
    );
    assert_eq!(
        proc::si_mem_available(1000, 100, 500, 400, 60),
        1000 - 100 + 200 + 30
    );
    // Clamped at zero.
    assert_eq!(proc::si_mem_available(10, 100, 50, 0, 0), 0);
    assert_eq!(proc::si_mem_available(0, 0, 0, 0, 0), 0);
}

#[test]
fn slabtop_summary_is_byte_exact_to_linux() {
    // The sample's totals; sizes chosen in bytes to print as the sample does.
    let st = SlabtopStats {
        active_objs: 228_584,
        objs: 252_071,
        active_slabs: 7927,
        slabs: 7927,
        active_caches: 133,
        caches: 236,
        active_size: 58_347_008, // 56979.50K
        total_size: 60_717_700,  // 59294.63K
        min_obj: 8,
        avg_obj: 240,
        max_obj: 51_487, // 50.28K
    };
    let expected: String = LINUX_SLABTOP
        .lines()
        .take(6)
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(proc::format_slabtop_summary(&st), expected);
}

#[test]
fn slabtop_rows_are_byte_exact_to_linux() {
    let lines: Vec<&str> = LINUX_SLABTOP.lines().collect();
    assert_eq!(format!("{}\n", lines[6]), proc::slabtop::COLUMNS);
    for line in &lines[7..] {
        let row = top_row_to_slabinfo(&parse_top_row(line));
        let mut s = String::new();
        proc::format_slabtop_row(&mut s, &row);
        assert_eq!(s, format!("{line}\n"));
    }
}

#[test]
fn slabtop_sorts_by_cache_size_then_name() {
    let lines: Vec<&str> = LINUX_SLABTOP.lines().collect();
    // Feed the sample's rows in reverse: the output must come back in the
    // sample's order, except that equal sizes are ordered by name.
    let rows: Vec<SlabInfo> = lines[7..]
        .iter()
        .rev()
        .map(|l| top_row_to_slabinfo(&parse_top_row(l)))
        .collect();
    let out = proc::format_slabtop(&rows);
    let got: Vec<&str> = out.lines().skip(7).collect();
    let mut want: Vec<&str> = lines[7..].to_vec();
    let vmap = want
        .iter()
        .position(|l| l.ends_with("vmap_area              "))
        .unwrap();
    want.swap(vmap, vmap + 1); // kmalloc-2k (544K) before vmap_area (544K)
    assert_eq!(got, want);
    assert_eq!(out.lines().nth(6).unwrap(), lines[6]);
    // Totals over these rows.
    let st = SlabtopStats::of(&rows);
    assert_eq!(st.caches, 18);
    assert_eq!(st.objs, rows.iter().map(|r| r.num_objs).sum::<usize>());
    assert_eq!(st.min_obj, 31); // lsm_inode_cache 0.03K parsed back as 31 bytes
    assert_eq!(st.max_obj, 5888);
}

#[test]
fn slabtop_stats_count_like_slabtop() {
    let row = |name: &str, active, objs, size, slabs| SlabInfo {
        name: name.into(),
        active_objs: active,
        num_objs: objs,
        objsize: size,
        objperslab: 8,
        pagesperslab: 1,
        limit: 0,
        batchcount: 0,
        sharedfactor: 0,
        active_slabs: slabs,
        num_slabs: slabs,
        sharedavail: 0,
    };
    let rows = [
        row("a", 3, 8, 100, 1),
        row("b", 0, 8, 10, 1),
        row("c", 0, 0, 1000, 0),
    ];
    let st = SlabtopStats::of(&rows);
    // A cache with slabs but no object in use is active; one without objects is not.
    assert_eq!(st.active_caches, 2);
    assert_eq!(st.caches, 3);
    assert_eq!((st.min_obj, st.max_obj), (10, 1000));
    assert_eq!(st.avg_obj, (800 + 80) / 16);
    assert_eq!((st.active_size, st.total_size), (300, 880));
    let out = proc::format_slabtop(&rows);
    // USE of a cache without objects is 0; cache size 0K.
    assert!(out.contains(
        "\n     0      0   0%    0.98K      0        8         0K c                      \n"
    ));
    // An empty list prints zeros, not NaN.
    let empty = proc::format_slabtop(&[]);
    assert!(
        empty.starts_with(" Active / Total Objects (% used)    : 0 / 0 (0.0%)\n"),
        "{empty}"
    );
}

/// Rust's `{:.N}` must round as glibc's `%.Nf` for slabtop to be byte-exact.
#[test]
fn float_formatting_matches_c_printf() {
    fn c_fmt(fmt: &std::ffi::CStr, v: f64) -> String {
        let mut buf = [0u8; 64];
        // SAFETY: buf is large enough for one %f of these magnitudes; the
        // format takes exactly one double.
        let n = unsafe { libc::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_ptr(), v) };
        String::from_utf8(buf[..n as usize].to_vec()).unwrap()
    }
    let mut vals = Vec::new();
    for a in 0..3000u64 {
        vals.push(a as f64 / 1024.0);
        vals.push(100.0 * a as f64 / 3001.0);
        vals.push(a as f64 * 0.125);
        vals.push(a as f64 * 0.005);
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        vals.push(100.0 * (x % 1_000_003) as f64 / (1 + (x >> 40) % 1_000_000) as f64);
        vals.push((x % 100_000_000) as f64 / 1024.0);
    }
    for v in vals {
        assert_eq!(format!("{v:.1}"), c_fmt(c"%.1f", v), "{v:e}");
        assert_eq!(format!("{v:.2}"), c_fmt(c"%.2f", v), "{v:e}");
        assert_eq!(format!("{v:7.2}"), c_fmt(c"%7.2f", v), "{v:e}");
    }
}

#[test]
fn zoneinfo_prints_linux_lines() {
    let z = ZoneInfo {
        node: 0,
        zone: "Normal",
        free: 5_927_295,
        boost: 0,
        min: 16_896,
        low: 23_067,
        high: 29_238,
        spanned: 6_291_456,
        present: 6_291_456,
        managed: 6_171_021,
        pagesets: vec![
            Pageset {
                count: 12,
                high: 378,
                batch: 63,
            },
            Pageset {
                count: 0,
                high: 378,
                batch: 63,
            },
        ],
        node_unreclaimable: 0,
        start_pfn: 1_048_576,
    };
    assert_eq!(
        proc::format_zoneinfo(&z),
        "Node 0, zone   Normal\n\
         \x20 pages free     5927295\n\
         \x20       boost    0\n\
         \x20       min      16896\n\
         \x20       low      23067\n\
         \x20       high     29238\n\
         \x20       spanned  6291456\n\
         \x20       present  6291456\n\
         \x20       managed  6171021\n\
         \x20 pagesets\n\
         \x20   cpu: 0\n\
         \x20             count: 12\n\
         \x20             high:  378\n\
         \x20             batch: 63\n\
         \x20   cpu: 1\n\
         \x20             count: 0\n\
         \x20             high:  378\n\
         \x20             batch: 63\n\
         \x20 node_unreclaimable:  0\n\
         \x20 start_pfn:           1048576\n"
    );
}

// ---------------------------------------------------------------------------
// On a booted Mem.

#[test]
fn read_serves_the_five_paths() {
    let k = common::boot();
    let mem = &k.mem;
    assert_eq!(
        proc::PATHS,
        [
            "/proc/slabinfo",
            "/proc/buddyinfo",
            "/proc/meminfo",
            "/proc/zoneinfo",
            "/proc/vmstat"
        ]
    );
    for p in proc::PATHS {
        assert!(!proc::read(mem, p).unwrap().is_empty(), "{p}");
    }
    assert_eq!(
        proc::read(mem, "/proc/buddyinfo").unwrap(),
        proc::buddyinfo(mem)
    );
    assert_eq!(
        proc::read(mem, "/proc/zoneinfo").unwrap(),
        proc::zoneinfo(mem)
    );
    assert!(proc::read(mem, "/proc/slabinfo")
        .unwrap()
        .starts_with("slabinfo - version: 2.1\n"));
    assert!(proc::read(mem, "/proc/meminfo")
        .unwrap()
        .starts_with("MemTotal:"));
    assert_eq!(proc::read(mem, "/proc/slabtop"), None);
    assert_eq!(proc::read(mem, "/proc/slabinfo/"), None);
    assert_eq!(proc::read(mem, ""), None);
}

#[test]
fn slabinfo_lists_every_cache() {
    let k = common::boot();
    let mem = &k.mem;
    let text = proc::slabinfo(mem);
    let rows = parse_slabinfo(&text);
    assert_eq!(rows, mem.slabinfo());
    let names: Vec<String> = mem.caches().iter().map(|c| c.name().to_string()).collect();
    assert_eq!(
        rows.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        names
    );
    let mut want = vec!["kmem_cache"];
    want.extend(mm::kmalloc::KMALLOC_INFO.iter().map(|(n, _)| *n));
    want.extend(StdCache::ALL.iter().map(|c| c.name()));
    for n in [
        "kmalloc-8",
        "kmalloc-8k",
        "task_struct",
        "mm_struct",
        "vm_area_struct",
        "files_cache",
        "signal_cache",
    ] {
        assert!(want.contains(&n));
    }
    for n in &want {
        assert_eq!(rows.iter().filter(|r| r.name == *n).count(), 1, "{n}");
    }
    for (n, size) in mm::kmalloc::KMALLOC_INFO {
        let r = rows.iter().find(|r| r.name == n).unwrap();
        assert!(r.objsize >= size, "{n}: {}", r.objsize);
        assert_eq!(r.num_objs, r.num_slabs * r.objperslab, "{n}");
        assert!(r.active_objs <= r.num_objs, "{n}");
    }
    // Every row lines up with the header's columns like Linux's rows.
    for line in text.lines().skip(2) {
        assert_eq!(line.find(" : tunables "), Some(48), "{line}");
    }
}

#[test]
fn slabinfo_counts_follow_allocations() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let row = |name: &str| {
        parse_slabinfo(&proc::slabinfo(mem))
            .into_iter()
            .find(|r| r.name == name)
            .expect(name)
    };

    // A new cache appears first (newest first) and empty.
    let c = mem
        .kmem_cache_create("proc_test", 100, 0, SlabFlags::empty(), None)
        .unwrap();
    let rows = parse_slabinfo(&proc::slabinfo(mem));
    assert_eq!(rows[0].name, "proc_test");
    assert_eq!(
        (rows[0].active_objs, rows[0].num_objs, rows[0].num_slabs),
        (0, 0, 0)
    );
    assert_eq!(rows[0].objsize, c.get().size());

    let objs: Vec<_> = (0..300)
        .map(|_| cpu.kmem_cache_alloc(&c, Gfp::GFP_KERNEL).unwrap())
        .collect();
    let r = row("proc_test");
    // SLAB counts objects parked in the array caches as active, so at least.
    assert!(r.active_objs >= 300, "{r:?}");
    cpu.kmem_cache_shrink(&c);
    let r = row("proc_test");
    assert_eq!(r.active_objs, 300);
    assert_eq!(r.num_objs, r.num_slabs * r.objperslab);
    assert_eq!(r.num_slabs, 300usize.div_ceil(r.objperslab));
    assert_eq!(r.active_slabs, r.num_slabs);

    for o in &objs[..100] {
        cpu.kmem_cache_free(&c, *o).unwrap();
    }
    cpu.kmem_cache_shrink(&c);
    assert_eq!(row("proc_test").active_objs, 200);
    for o in &objs[100..] {
        cpu.kmem_cache_free(&c, *o).unwrap();
    }
    cpu.kmem_cache_shrink(&c);
    let r = row("proc_test");
    assert_eq!(
        (r.active_objs, r.num_objs, r.num_slabs, r.active_slabs),
        (0, 0, 0, 0)
    );
    assert!(cpu.kmem_cache_destroy(c).is_ok());
    assert!(parse_slabinfo(&proc::slabinfo(mem))
        .iter()
        .all(|r| r.name != "proc_test"));

    // kmalloc-256: shrink first, then 50 more objects are active.
    for c in mem.caches() {
        cpu.kmem_cache_shrink(c);
    }
    let before = row("kmalloc-256").active_objs;
    let ptrs: Vec<_> = (0..50)
        .map(|_| cpu.kmalloc(200, Gfp::GFP_KERNEL).unwrap())
        .collect();
    cpu.kmem_cache_shrink(mem.kmalloc_cache(mm::kmalloc::kmalloc_index(200)));
    assert_eq!(row("kmalloc-256").active_objs, before + 50);
    for p in ptrs {
        cpu.kfree(p.as_ptr()).unwrap();
    }
    cpu.kmem_cache_shrink(mem.kmalloc_cache(mm::kmalloc::kmalloc_index(200)));
    assert_eq!(row("kmalloc-256").active_objs, before);
    assert_eq!(k.log(), "");
}

#[test]
fn buddyinfo_shows_the_buddy_counts() {
    let k = common::boot();
    let mem = &k.mem;
    let check = || {
        let text = proc::buddyinfo(mem);
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("Node 0, zone   Normal "), "{text:?}");
        assert!(text.ends_with(" \n"));
        assert_eq!(nums(&text[21..]), mem.buddy_counts().to_vec());
        text
    };
    let t0 = check();
    let cpu = mem.cpu(0).unwrap();
    let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 5).unwrap();
    let t1 = check();
    assert_ne!(t0, t1);
    cpu.__free_pages(p, 5).unwrap();
    assert_eq!(check(), t0);
}

#[test]
fn meminfo_reports_the_zone_and_counters() {
    let k = common::boot();
    let mem = &k.mem;
    let text = proc::meminfo(mem);
    // Every line is Linux-shaped and the labels keep Linux's relative order.
    let linux_order: Vec<String> = parse_meminfo(LINUX_MEMINFO)
        .into_iter()
        .map(|(l, _)| l)
        .collect();
    let mut last = 0;
    for line in text.lines() {
        assert!(line.ends_with(" kB"), "{line}");
        assert_eq!(&line[15..16], " ", "{line}");
        assert!(line[..16].contains(':'), "{line}");
        let label = line.split(':').next().unwrap();
        let pos = linux_order
            .iter()
            .position(|l| l == label)
            .unwrap_or_else(|| panic!("{label}"));
        assert!(pos >= last, "{label} out of Linux's order");
        last = pos;
    }
    let labels: Vec<&str> = text.lines().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "MemTotal",
            "MemFree",
            "MemAvailable",
            "Buffers",
            "Cached",
            "SwapCached",
            "Active",
            "Inactive",
            "Active(anon)",
            "Inactive(anon)",
            "Active(file)",
            "Inactive(file)",
            "Unevictable",
            "Mlocked",
            "SwapTotal",
            "SwapFree",
            "Dirty",
            "Writeback",
            "AnonPages",
            "Mapped",
            "Shmem",
            "KReclaimable",
            "Slab",
            "SReclaimable",
            "SUnreclaim",
            "KernelStack",
            "PageTables"
        ]
    );

    assert_eq!(meminfo_value(&text, "MemTotal"), mem.managed_pages() * 4);
    assert_eq!(meminfo_value(&text, "MemFree"), mem.nr_free_pages() * 4);
    let sr = mem.vmstat.get(NodeStatItem::NrSlabReclaimable);
    let su = mem.vmstat.get(NodeStatItem::NrSlabUnreclaimable);
    assert!(su > 0, "boot made slab caches");
    assert_eq!(meminfo_value(&text, "SUnreclaim"), su * 4);
    assert_eq!(meminfo_value(&text, "Slab"), (sr + su) * 4);
    assert_eq!(meminfo_value(&text, "KReclaimable"), sr * 4);
    let (_, low, high) = mem.watermarks();
    assert_eq!(
        meminfo_value(&text, "MemAvailable"),
        proc::si_mem_available(mem.nr_free_pages(), high, low, 0, sr) * 4
    );
    assert!(meminfo_value(&text, "MemAvailable") < meminfo_value(&text, "MemFree"));

    // Order 5 bypasses the per-CPU lists: MemFree drops by exactly 128 kB.
    let cpu = mem.cpu(0).unwrap();
    let free0 = meminfo_value(&proc::meminfo(mem), "MemFree");
    let p = cpu.alloc_pages(Gfp::GFP_KERNEL, 5).unwrap();
    assert_eq!(meminfo_value(&proc::meminfo(mem), "MemFree"), free0 - 128);
    cpu.__free_pages(p, 5).unwrap();
    assert_eq!(meminfo_value(&proc::meminfo(mem), "MemFree"), free0);

    // The node counters show through.
    mem.vmstat.add(NodeStatItem::NrFilePages, 1000);
    mem.vmstat.add(NodeStatItem::NrFileDirty, 3);
    mem.vmstat.add(NodeStatItem::NrKernelStackKb, 48);
    mem.vmstat.add(NodeStatItem::NrMlock, 2);
    let t = proc::meminfo(mem);
    assert_eq!(meminfo_value(&t, "Cached"), 4000);
    assert_eq!(meminfo_value(&t, "Dirty"), 12);
    assert_eq!(meminfo_value(&t, "KernelStack"), 48);
    assert_eq!(meminfo_value(&t, "Mlocked"), 8);
    assert_eq!(
        meminfo_value(&t, "MemAvailable"),
        proc::si_mem_available(mem.nr_free_pages(), high, low, 1000, sr) * 4
    );
}

#[test]
fn zoneinfo_shows_the_zone_and_pagesets() {
    let k = common::boot_cpus(64 << 20, 3, false);
    let mem = &k.mem;
    let cpu1 = mem.cpu(1).unwrap();
    // The first allocation refills cpu 1's lists with a batch (at least 2
    // blocks) and takes one.
    let page = cpu1.alloc_page(Gfp::GFP_KERNEL).unwrap();
    let text = proc::zoneinfo(mem);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Node 0, zone   Normal");
    let (min, low, high) = mem.watermarks();
    let (start, spanned, present, managed) = mem.zone().span();
    assert_eq!(
        lines[1],
        format!("  pages free     {}", mem.nr_free_pages())
    );
    assert_eq!(lines[2], "        boost    0");
    assert_eq!(lines[3], format!("        min      {min}"));
    assert_eq!(lines[4], format!("        low      {low}"));
    assert_eq!(lines[5], format!("        high     {high}"));
    assert_eq!(lines[6], format!("        spanned  {spanned}"));
    assert_eq!(lines[7], format!("        present  {present}"));
    assert_eq!(lines[8], format!("        managed  {managed}"));
    assert_eq!(lines[9], "  pagesets");
    let (phigh, pbatch) = mem.pcp_tuning();
    let mut counts = Vec::new();
    for c in 0..3 {
        let at = 10 + 4 * c;
        assert_eq!(lines[at], format!("    cpu: {c}"));
        let n: usize = lines[at + 1]
            .strip_prefix("              count: ")
            .unwrap()
            .parse()
            .unwrap();
        counts.push(n);
        assert_eq!(lines[at + 2], format!("              high:  {phigh}"));
        assert_eq!(lines[at + 3], format!("              batch: {pbatch}"));
    }
    assert_eq!(lines[22], "  node_unreclaimable:  0");
    assert_eq!(lines[23], format!("  start_pfn:           {start}"));
    assert_eq!(lines.len(), 24);
    assert!(text.ends_with('\n'));
    assert_eq!(counts.iter().sum::<usize>(), mem.nr_pcp_pages());
    assert!(counts[1] > 0, "cpu 1 refilled its lists: {counts:?}");
    cpu1.__free_pages(page, 0).unwrap();
    assert_eq!(pcp_counts(&proc::zoneinfo(mem))[1], counts[1] + 1);
}

#[test]
fn slabtop_parses_back_sorted_by_cache_size() {
    let k = common::boot();
    let mem = &k.mem;
    let cpu = mem.cpu(0).unwrap();
    let ptrs: Vec<_> = (0..40)
        .map(|_| cpu.kmalloc(3000, Gfp::GFP_KERNEL).unwrap())
        .collect();
    let info = mem.slabinfo();
    let text = proc::slabtop(mem);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[5], "");
    assert_eq!(format!("{}\n", lines[6]), proc::slabtop::COLUMNS);
    let rows: Vec<TopRow> = lines[7..].iter().map(|l| parse_top_row(l)).collect();
    assert_eq!(rows.len(), info.len());
    for w in rows.windows(2) {
        assert!(
            w[0].cache_k > w[1].cache_k || (w[0].cache_k == w[1].cache_k && w[0].name < w[1].name),
            "{:?} before {:?}",
            w[0].name,
            w[1].name
        );
    }
    let sorted = proc::slabtop_rows(mem);
    assert_eq!(
        sorted.iter().map(|r| &r.name).collect::<Vec<_>>(),
        rows.iter().map(|r| &r.name).collect::<Vec<_>>()
    );
    for r in &rows {
        let s = info.iter().find(|s| s.name == r.name).unwrap();
        assert_eq!(
            (r.objs, r.active, r.slabs, r.per_slab),
            (s.num_objs, s.active_objs, s.num_slabs, s.objperslab)
        );
        assert_eq!(r.cache_k, s.num_slabs * s.pagesperslab * 4);
        assert_eq!(
            r.use_pct,
            (s.active_objs * 100).checked_div(s.num_objs).unwrap_or(0)
        );
        assert!(
            (r.obj_k - s.objsize as f64 / 1024.0).abs() <= 0.0051,
            "{}",
            r.name
        );
    }
    // kmalloc-4k holds the 40 objects, so it is among the biggest caches.
    let k4 = rows.iter().find(|r| r.name == "kmalloc-4k").unwrap();
    assert!(k4.active >= 40 && k4.cache_k >= 40 * 4);
    // Summary totals.
    let objs: usize = info.iter().map(|r| r.num_objs).sum();
    let active: usize = info.iter().map(|r| r.active_objs).sum();
    assert!(lines[0].starts_with(&format!(
        " Active / Total Objects (% used)    : {active} / {objs} ("
    )));
    let caches_active = info.iter().filter(|r| r.num_objs > 0).count();
    assert!(lines[2].starts_with(&format!(
        " Active / Total Caches (% used)     : {caches_active} / {} (",
        info.len()
    )));
    for p in ptrs {
        cpu.kfree(p.as_ptr()).unwrap();
    }
}
