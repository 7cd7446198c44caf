//! ASIDs end to end (crate::asid, trap.rs's switch_mm and sync_tlb): the
//! self-checking `user/build/asid` program (processes at one virtual
//! address with different data switching on one hart, short-lived
//! processes reusing ASIDs, a thread on another hart across munmap and
//! mprotect, copy-on-write between alternating processes) must exit 0 on
//! one and two harts, with the hart's full ASID width and with widths so
//! small that ASID rollovers happen all the time. Needs `make -C user`.

use std::path::{Path, PathBuf};

use kernel::boot::Machine;
use kernel::kernel::ExitStatus;
use kernel::{Config, Kernel};

fn program() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../user/build/asid");
    assert!(p.exists(), "{} is missing: run `make -C user`", p.display());
    p
}

fn run(cpus: usize, asid_bits: Option<u32>, part: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let machine = Machine {
        mem_bytes: 64 << 20,
        nr_cpus: cpus,
        slab_debug: false,
    };
    let mut config = Config::new(machine, root);
    config.asid_bits = asid_bits;
    let prog = program();
    let mut argv = vec![b"asid".to_vec()];
    if !part.is_empty() {
        argv.push(part.as_bytes().to_vec());
    }
    let out = Kernel::run(config, &prog, &argv, &[]).expect("the run");
    assert_eq!(
        out.status,
        ExitStatus::Exited(0),
        "asid {part} on {cpus} harts, ASID bits {asid_bits:?}"
    );
}

#[test]
fn one_hart_full_width() {
    run(1, None, "");
}

#[test]
fn one_hart_rollovers() {
    // 4 ASIDs (3 usable): every few switches roll over.
    run(1, Some(2), "");
}

#[test]
fn two_harts_full_width() {
    run(2, None, "");
}

#[test]
fn two_harts_rollovers() {
    // 8 ASIDs for 2 harts (more than twice as many: the allocator is on).
    run(2, Some(3), "");
}

#[test]
fn two_harts_too_few_asids_flush_on_every_switch() {
    run(2, Some(2), "ring");
}
