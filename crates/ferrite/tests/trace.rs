//! `ferrite run --trace` and `ferrite plot`, as a user runs them: the
//! trace of a multi-process program is a well-formed schedule, the plot
//! draws the series of a small trace, and bad input is an error.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

fn ferrite(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(args)
        .current_dir(common::root())
        .output()
        .expect("run ferrite")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn read_events(path: &Path) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(path).expect("the trace was written");
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("the trace is JSON");
    v.as_array().expect("Chrome's array format").clone()
}

/// The CPU of a CPU track event (process 1, tid = CPU + 1).
fn cpu_of(e: &serde_json::Value) -> Option<usize> {
    (e["pid"] == 1 && e["ph"] != "M" && e["ph"] != "C")
        .then(|| e["tid"].as_u64())
        .flatten()
        .map(|t| t as usize - 1)
}

fn ts(e: &serde_json::Value) -> f64 {
    e["ts"].as_f64().expect("a timestamp")
}

#[test]
fn trace_of_a_multi_process_program() {
    common::build();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("procs.json");
    let o = ferrite(&[
        "run",
        "--cpus",
        "2",
        "--trace",
        trace.to_str().unwrap(),
        "user/build/procs",
    ]);
    assert!(o.status.success(), "procs failed: {}", text(&o.stderr));
    assert!(!o.stdout.is_empty());
    let ev = read_events(&trace);

    // Track names.
    let thread_names: BTreeSet<String> = ev
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap().to_string())
        .collect();
    for n in ["CPU 0", "CPU 1", "tasks", "balance"] {
        assert!(thread_names.contains(n), "{n} missing: {thread_names:?}");
    }

    // Per CPU, in file order (each hart writes its own track): B and E
    // alternate and match, timestamps never go back, and the nr_running
    // counter is at least 1 while a slice is open.
    let mut open: BTreeMap<usize, Option<i64>> = BTreeMap::new();
    let mut last_ts: BTreeMap<usize, f64> = BTreeMap::new();
    let mut ran: BTreeSet<i64> = BTreeSet::new();
    let mut slices = 0;
    for e in &ev {
        let counter_cpu = (e["ph"] == "C" && e["name"] == "nr_running")
            .then(|| {
                e["args"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .next()
                    .and_then(|k| k.strip_prefix("cpu"))
                    .and_then(|c| c.parse::<usize>().ok())
            })
            .flatten();
        let Some(cpu) = cpu_of(e).or(counter_cpu) else {
            continue;
        };
        assert!(cpu < 2, "cpu {cpu}");
        let t = ts(e);
        // A CPU's own switches are in time order; its counters may also
        // be updated by other harts (a wake-up onto it), whose clocks the
        // file interleaves.
        if e["ph"] == "B" || e["ph"] == "E" {
            let prev = last_ts.insert(cpu, t).unwrap_or(0.0);
            assert!(
                t >= prev,
                "CPU {cpu}: time went back from {prev} to {t}: {e}"
            );
        }
        let cur = open.entry(cpu).or_default();
        match e["ph"].as_str().unwrap() {
            "B" => {
                assert_eq!(*cur, None, "CPU {cpu}: a switch-in inside a slice: {e}");
                let pid = e["args"]["pid"].as_i64().unwrap();
                assert_eq!(e["args"]["weight"], 10, "the default weight");
                assert_eq!(e["name"], format!("procs {pid}"));
                *cur = Some(pid);
                ran.insert(pid);
                slices += 1;
            }
            "E" => {
                let pid = cur
                    .take()
                    .unwrap_or_else(|| panic!("CPU {cpu}: E without B: {e}"));
                assert_eq!(e["args"]["prev_pid"].as_i64(), Some(pid));
                let st = e["args"]["prev_state"].as_str().unwrap();
                assert!(["R", "S", "D", "T", "X"].contains(&st), "{st}");
            }
            "C" => {
                // nr_running counts the CPU's runnable tasks, the running
                // one included: at least 1 while a task runs there.
                let name = e["name"].as_str().unwrap_or("");
                if let Some(v) = e["args"][format!("cpu{cpu}")].as_u64() {
                    if name.starts_with("nr_running") && cur.is_some() {
                        assert!(
                            v >= 1,
                            "CPU {cpu} nr_running {v} at {t} while it runs a task"
                        );
                    }
                }
            }
            _ => {}
        }
    }
    assert!(
        open.values().all(Option::is_none),
        "slices left open: {open:?}"
    );
    assert!(slices >= 22, "{slices} slices");

    // Forks and exits: every task that ran is init or was forked, and
    // exited; every forked one was woken as new.
    let named =
        |n: &str| -> Vec<&serde_json::Value> { ev.iter().filter(|e| e["name"] == n).collect() };
    let forked: BTreeSet<i64> = named("sched_process_fork")
        .iter()
        .map(|e| e["args"]["child_pid"].as_i64().unwrap())
        .collect();
    let exited: BTreeSet<i64> = named("sched_process_exit")
        .iter()
        .map(|e| e["args"]["pid"].as_i64().unwrap())
        .collect();
    let woken_new: BTreeSet<i64> = named("sched_wakeup_new")
        .iter()
        .map(|e| e["args"]["pid"].as_i64().unwrap())
        .collect();
    assert!(
        forked.len() >= 22,
        "20 children, threads and a vfork: {forked:?}"
    );
    for pid in &ran {
        assert!(*pid == 1 || forked.contains(pid), "pid {pid} ran unforked");
        assert!(exited.contains(pid), "pid {pid} never exited");
    }
    for pid in &forked {
        assert!(woken_new.contains(pid), "pid {pid} not woken as new");
        assert!(exited.contains(pid), "forked pid {pid} never exited");
    }
    assert!(woken_new.contains(&1));
    // Wake-ups of sleepers (wait, futex, vfork) happen and name CPUs.
    let wakeups = named("sched_wakeup");
    assert!(!wakeups.is_empty());
    assert!(wakeups
        .iter()
        .all(|e| e["args"]["target_cpu"].as_u64().is_some_and(|c| c < 2)));

    // And `ferrite plot` charts it.
    let svg = dir.path().join("procs.svg");
    let o = ferrite(&["plot", trace.to_str().unwrap(), "-o", svg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    assert_eq!(table.lines().count(), ran.len() + 1, "{table}");
}

/// A trace with known numbers: 2 CPUs, three tasks of weights 5, 10 and
/// 25 running 10, 30 and 60 µs.
const SMALL: &str = r#"[
{"ph":"M","pid":1,"name":"process_name","args":{"name":"CPUs"}},
{"ph":"B","pid":1,"tid":1,"ts":0,"name":"a 2","args":{"pid":2,"comm":"a","weight":5}},
{"ph":"C","pid":1,"name":"nr_running","ts":0,"args":{"cpu0":2}},
{"ph":"C","pid":1,"name":"total_weight","ts":0,"args":{"cpu0":15}},
{"ph":"E","pid":1,"tid":1,"ts":10},
{"ph":"B","pid":1,"tid":1,"ts":10,"name":"b 3","args":{"pid":3,"comm":"b","weight":10}},
{"ph":"E","pid":1,"tid":1,"ts":40},
{"ph":"B","pid":1,"tid":2,"ts":0,"name":"c 4","args":{"pid":4,"comm":"c","weight":25}},
{"ph":"C","pid":1,"name":"nr_running","ts":0,"args":{"cpu1":1}},
{"ph":"C","pid":1,"name":"total_weight","ts":0,"args":{"cpu1":25}},
{"ph":"C","pid":1,"name":"total_weight","ts":20,"args":{"cpu1":20}},
{"ph":"E","pid":1,"tid":2,"ts":60}
]
"#;

#[test]
fn plot_draws_the_series_of_a_small_trace() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("small.json");
    std::fs::write(&trace, SMALL).unwrap();
    let svg = dir.path().join("small.svg");
    let o = ferrite(&["plot", trace.to_str().unwrap(), "-o", svg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The table: CPU share 10/100, 30/100, 60/100; weight share 5/40, ...
    let table = text(&o.stdout);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            ["2", "a", "5", "10.00%", "12.50%"],
            ["3", "b", "10", "30.00%", "25.00%"],
            ["4", "c", "25", "60.00%", "62.50%"],
        ],
        "{table}"
    );
    let body = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&body).expect("valid SVG (XML)");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: BTreeSet<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    for t in [
        "CPU 0 total_weight",
        "CPU 1 total_weight",
        "CPU 0 nr_running",
        "CPU 1 nr_running",
        "CPU share",
        "weight share w/Σw",
        "a 2",
        "b 3",
        "c 4",
    ] {
        assert!(texts.contains(t), "{t:?} not in the SVG's texts: {texts:?}");
    }
    // The step lines: one per CPU in each counter panel, each with its
    // legend sample, in the CPU's colour (the axes are black); CPU 1's
    // weight steps from 25 down to 20 (four points).
    let series: Vec<usize> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .filter(|n| n.attribute("stroke") != Some("#000000"))
        .map(|n| {
            n.attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count()
        })
        .collect();
    assert_eq!(series.len(), 8, "{series:?}");
    assert!(series.contains(&4), "{series:?}");
    // Six bars (two per task) and the legend's two samples.
    let rects = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter(|n| {
            n.attribute("fill")
                .is_some_and(|f| f == "#1F77B4" || f == "#D62728")
        })
        .count();
    assert_eq!(rects, 8, "bars");

    // The PNG backend too.
    let png = dir.path().join("small.png");
    let o = ferrite(&["plot", trace.to_str().unwrap(), "-o", png.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}

#[test]
fn plot_rejects_bad_traces() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.svg");
    let cases: [(&str, Option<&[u8]>, &str); 5] = [
        ("missing.json", None, "cannot read the trace"),
        ("empty.json", Some(b""), "empty file"),
        ("corrupt.json", Some(b"{\"ph\": [1, 2"), "not a JSON trace"),
        ("binary.json", Some(b"\x00\xff\xfe"), "not a JSON trace"),
        (
            "nothing.json",
            Some(b"[{\"ph\":\"M\"}]"),
            "no scheduler events",
        ),
    ];
    for (name, body, msg) in cases {
        let p = dir.path().join(name);
        if let Some(b) = body {
            std::fs::write(&p, b).unwrap();
        }
        let o = ferrite(&["plot", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(msg), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    assert!(!out.exists());
    // A cut-short array (a killed run) is still read.
    let p = dir.path().join("cut.json");
    let cut = SMALL.trim_end().strip_suffix(']').unwrap();
    std::fs::write(&p, cut).unwrap();
    let o = ferrite(&["plot", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // An image type it cannot write is a usage error.
    let o = ferrite(&["plot", p.to_str().unwrap(), "-o", "x.jpg"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn trace_file_errors() {
    common::build();
    // Cannot be created: a usage error before boot.
    let o = ferrite(&[
        "run",
        "--trace",
        "/nonexistent/dir/t.json",
        "user/build/hello",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("--trace /nonexistent/dir/t.json"),
        "{}",
        text(&o.stderr)
    );
    // Writes fail (no space): one message, the program's status stands.
    let o = ferrite(&[
        "run",
        "--cpus",
        "2",
        "--trace",
        "/dev/full",
        "user/build/procs",
    ]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert_eq!(err.matches("write error").count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
