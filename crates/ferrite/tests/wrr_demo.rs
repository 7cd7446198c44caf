//! The notes' Lab 4 demonstration (`make wrr-demo`) as a test: the lab's
//! programs in `user/wrr/` on ferrite. `wrr_demo` runs its three phases on
//! 4 CPUs in deterministic mode (SCHED_WRR tasks of mixed weights started
//! on CPU 0 and balanced; with I/O tasks; with weights changed half-way):
//! every phase ends balanced (the CPUs' total weights within one task's
//! weight), and two runs give the same bytes, scheduler trace included.
//! `wrr_test` checks the lab's system calls from inside the guest.

use std::process::Command;
use std::time::Duration;

mod common;
use common::{build, root, run_command, Run};

const TIMEOUT: Duration = Duration::from_secs(300);

/// `ferrite run --cpus 4 --deterministic --trace TRACE user/build/wrr/PROG ARGS`.
fn run(prog: &str, args: &[&str], trace: &std::path::Path) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.env_clear()
        .args([
            "run",
            "--cpus",
            "4",
            "--deterministic",
            "--seed",
            "7",
            "--trace",
        ])
        .arg(trace)
        .arg(format!("user/build/wrr/{prog}"))
        .args(args);
    let what = format!("ferrite run --deterministic wrr/{prog} {args:?}");
    run_command(cmd, Some(&root()), what, TIMEOUT)
}

#[test]
fn the_demo_balances_and_repeats_exactly() {
    build();
    let dir = tempfile::tempdir().expect("tempdir");
    let (ta, tb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let args = ["-p", "1200", "-b", "50", "-s", "200"];
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run("wrr_demo", &args, &ta));
        let b = s.spawn(|| run("wrr_demo", &args, &tb));
        (a.join().expect("run a"), b.join().expect("run b"))
    });
    assert_eq!(a.status, 0, "{}: {}\n{}", a.what, a.stdout, a.stderr);
    assert_eq!(a.stdout, b.stdout, "two runs differ");
    let (ja, jb) = (
        std::fs::read(&ta).expect("trace a"),
        std::fs::read(&tb).expect("trace b"),
    );
    assert!(ja == jb, "the two scheduler traces differ");
    let out = &a.stdout;
    assert!(
        out.contains("on 4 CPUs, 1200 ms per phase, balancing every 50 ms"),
        "{out}"
    );
    let verdicts: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("total weights at the end"))
        .collect();
    assert_eq!(verdicts.len(), 3, "{out}");
    assert!(verdicts.iter().all(|l| l.ends_with(": balanced")), "{out}");
    // Phase 1 starts with every task on CPU 0 and the others empty.
    let first = out
        .lines()
        .find(|l| l.contains("t=    0 ms"))
        .expect("a first sample");
    assert!(first.contains("cpu1 w=  0 n= 0"), "{first}");
    // The trace has the balancer's moves (periodic and idle pulls), its
    // decisions, and the slice refills.
    let t = String::from_utf8_lossy(&ja);
    assert!(
        t.contains(r#""reason":"balance""#),
        "no periodic balance move"
    );
    assert!(t.contains(r#""reason":"idle_pull""#), "no idle pull");
    assert!(t.contains(r#""name":"wrr_balance""#), "no balance decision");
    assert!(t.contains(r#""name":"wrr_refill""#), "no slice refill");
}

#[test]
fn the_lab_test_program_passes() {
    build();
    let dir = tempfile::tempdir().expect("tempdir");
    let r = run("wrr_test", &[], &dir.path().join("t.json"));
    assert_eq!(r.status, 0, "{}: {}\n{}", r.what, r.stdout, r.stderr);
    for want in [
        "policy: 7 (SCHED_WRR)",
        "weight: 10",
        "rr_interval: 0.100000000 s",
        "weight 20: rr_interval 200 ms",
        "setweight 21: EINVAL",
        "setweight pid 999999: ESRCH",
        "get_wrr_info bad: EFAULT",
        "child: inherit, leave and re-enter SCHED_WRR, unprivileged: OK",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
}
