//! Reclaim throughput: `user/build/pcache read` streams a file four times
//! the size of ferrite's RAM through a read-only mapping, so nearly every
//! page it faults in must first be reclaimed from the page cache
//! (mm/vmscan.rs); against reading the same file on the host, in the same
//! run (a plain harness that prints figures; `cargo bench -p ferrite
//! --bench reclaim`).
//!
//! Figures: the pages reclaimed (`pgsteal_kswapd` + `pgsteal_direct`,
//! from `--show /proc/vmstat`) per second of ferrite's wall time, and the
//! file's pages per second through the guest against pages per second
//! read by the host (`read` in 1 MiB chunks with the same checksum, from
//! the host's page cache: the file was just written). The median of 3
//! runs each.
//!
//! Needs `make user`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const MIB: usize = 1 << 20;
/// ferrite's RAM.
const MEM: &str = "64M";
/// The file: four times the RAM.
const FILE_MIB: usize = 256;
const RUNS: usize = 3;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// pcache's checksum over little-endian 64-bit words.
fn fold(sum: u64, bytes: &[u8]) -> u64 {
    bytes.chunks_exact(8).fold(sum, |s, w| {
        s.rotate_left(5) ^ u64::from_le_bytes(w.try_into().unwrap())
    })
}

fn value(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

fn main() {
    let prog = root().join("user/build/pcache");
    if !prog.exists() {
        eprintln!(
            "reclaim: {} is missing: run `make user` first",
            prog.display()
        );
        std::process::exit(1);
    }
    let dir = std::env::temp_dir().join(format!("ferrite-reclaim-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("big");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..FILE_MIB * MIB / 8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            f.write_all(&x.to_le_bytes()).unwrap();
        }
    }
    let pages = (FILE_MIB * MIB / 4096) as f64;

    // The host: read the file through its page cache.
    let mut host = Vec::new();
    let mut host_sum = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let mut f = std::fs::File::open(&file).unwrap();
        let mut buf = vec![0u8; MIB];
        let mut sum = 0u64;
        loop {
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            sum = fold(sum, &buf[..n]);
        }
        host.push(t.elapsed().as_secs_f64());
        host_sum = sum;
    }

    // ferrite: stream it through a mapping in 64 MiB of RAM.
    let mut guest = Vec::new();
    let mut reclaimed = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_ferrite"))
            .args(["run", "--mem", MEM, "--root"])
            .arg(&dir)
            .args(["--show", "/proc/vmstat"])
            .arg(&prog)
            .args(["read", "/big"])
            .output()
            .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "ferrite failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = format!("pages {} sum {host_sum:016x}", FILE_MIB * MIB / 4096);
        assert!(stdout.contains(&want), "wrong checksum: {stdout}");
        let stolen = value(&stdout, "pgsteal_kswapd") + value(&stdout, "pgsteal_direct");
        guest.push(secs);
        reclaimed.push(stolen as f64 / secs);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (h, g) = (median(host), median(guest));
    println!("reclaim: {FILE_MIB} MiB file, ferrite --mem {MEM}, median of {RUNS}");
    println!(
        "  host read:          {:>8.3} s  {:>12.0} pages/s",
        h,
        pages / h
    );
    println!(
        "  ferrite mmap read:  {:>8.3} s  {:>12.0} pages/s  ({:.1}x the host's time)",
        g,
        pages / g,
        g / h
    );
    println!(
        "  reclaimed:          {:>12.0} pages/s of ferrite's wall time",
        median(reclaimed)
    );
}
