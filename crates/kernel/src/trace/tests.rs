//! The sink's own tests: what it writes parses as a Chrome JSON trace with
//! the tracks and events the module documents; a write error stops it.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use super::*;

/// A writer into shared memory.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that fails after `left` bytes.
struct Failing {
    left: usize,
    writes: Arc<Mutex<usize>>,
}

impl Write for Failing {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        *self.writes.lock().unwrap() += 1;
        if self.left < b.len() {
            return Err(io::Error::other("disk full"));
        }
        self.left -= b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn events(buf: &Shared) -> Vec<serde_json::Value> {
    let bytes = buf.0.lock().unwrap().clone();
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("the trace is JSON");
    v.as_array().expect("array format").clone()
}

fn task(pid: i32, comm: &[u8], weight: u32) -> SwitchTask<'_> {
    SwitchTask { pid, comm, weight }
}

#[test]
fn switches_pair_and_name_the_tracks() {
    let buf = Shared::default();
    let t = Tracer::new(Box::new(buf.clone()), 2, "mem").unwrap();
    t.sched_switch(1_000, 0, SwitchTask::IDLE, "R", task(5, b"spin\0\0", 7));
    t.counter(1_000, 0, "nr_running", 1);
    t.sched_switch(2_500, 0, task(5, b"spin", 7), "S", SwitchTask::IDLE);
    t.sched_wakeup(3_000, 5, 1);
    t.sched_switch(4_000, 1, SwitchTask::IDLE, "R", task(5, b"spin", 7));
    t.task_fork(4_100, 5, 6, b"a\"b\n");
    t.wrr_refill(4_200, 1, 5, 7, 70_000_000);
    t.sched_migrate(4_300, 6, 1, 0, MigrateReason::Balance);
    t.wrr_balance(4_400, 1, 0, Some((6, 3)));
    t.wrr_balance(4_500, 1, 0, None);
    t.task_exit(4_600, 6, b"a\"b\n");
    // Still open at the end: finish closes it.
    t.finish().unwrap();
    let ev = events(&buf);
    let names: Vec<(&str, &str)> = ev
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(names.contains(&("thread_name", "CPU 0")));
    assert!(names.contains(&("thread_name", "CPU 1")));
    assert!(names.contains(&("thread_name", "tasks")));
    let b: Vec<_> = ev.iter().filter(|e| e["ph"] == "B").collect();
    let e: Vec<_> = ev.iter().filter(|e| e["ph"] == "E").collect();
    assert_eq!(b.len(), 2);
    assert_eq!(e.len(), 2, "finish closed CPU 1's slice");
    assert_eq!(b[0]["name"], "spin 5");
    assert_eq!(b[0]["ts"].as_f64(), Some(1.0));
    assert_eq!(b[0]["args"]["weight"], 7);
    assert_eq!(b[0]["args"]["comm"], "spin");
    assert_eq!(e[0]["ts"].as_f64(), Some(2.5));
    assert_eq!(e[0]["args"]["prev_state"], "S");
    assert_eq!(e[0]["tid"], cpu_tid(0));
    assert_eq!(e[1]["tid"], cpu_tid(1));
    let fork = ev
        .iter()
        .find(|e| e["name"] == "sched_process_fork")
        .unwrap();
    assert_eq!(fork["args"]["comm"], "a\"b\n", "comm is escaped");
    assert_eq!(fork["args"]["child_pid"], 6);
    let mig = ev
        .iter()
        .find(|e| e["name"] == "sched_migrate_task")
        .unwrap();
    assert_eq!(mig["args"]["reason"], "balance");
    let bal: Vec<_> = ev.iter().filter(|e| e["name"] == "wrr_balance").collect();
    assert_eq!(bal[0]["args"]["moved"], true);
    assert_eq!(bal[1]["args"]["moved"], false);
    let c = ev.iter().find(|e| e["ph"] == "C").unwrap();
    assert_eq!(c["args"]["cpu0"], 1);
    // Events after finish are dropped.
    t.task_exit(5_000, 5, b"spin");
    assert_eq!(events(&buf).len(), ev.len());
}

#[test]
fn a_switch_without_switch_out_still_pairs() {
    let buf = Shared::default();
    let t = Tracer::new(Box::new(buf.clone()), 1, "mem").unwrap();
    t.sched_switch(10, 0, SwitchTask::IDLE, "R", task(2, b"a", 10));
    t.sched_switch(20, 0, SwitchTask::IDLE, "R", task(3, b"b", 10));
    t.finish().unwrap();
    let phases: Vec<String> = events(&buf)
        .iter()
        .filter(|e| e["tid"] == 1 && e["pid"] == PID_CPUS && e["ph"] != "M")
        .map(|e| e["ph"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(phases, ["B", "E", "B", "E"]);
}

#[test]
fn out_of_range_cpus_are_ignored() {
    let buf = Shared::default();
    let t = Tracer::new(Box::new(buf.clone()), 1, "mem").unwrap();
    t.sched_switch(10, 7, SwitchTask::IDLE, "R", task(2, b"a", 10));
    t.counter(10, 7, "nr_running", 1);
    t.wrr_refill(10, 7, 2, 10, 1);
    t.finish().unwrap();
    assert!(events(&buf).iter().all(|e| e["ph"] == "M"));
}

#[test]
fn a_write_error_stops_tracing() {
    let writes = Arc::new(Mutex::new(0));
    let t = Tracer::new(
        Box::new(Failing {
            left: BUFFER_BYTES + 100,
            writes: writes.clone(),
        }),
        1,
        "full",
    )
    .unwrap();
    for i in 0..100_000u64 {
        t.task_exit(i, 2, b"x");
    }
    assert!(!t.is_on());
    let n = *writes.lock().unwrap();
    assert!(n <= 3, "no write after the error: {n}");
    assert!(t.finish().is_err());
}

#[test]
fn memory_is_bounded() {
    // A writer that counts what reached it: the sink hands data on in
    // chunks no larger than its buffer, whatever the number of events.
    struct Count(Arc<Mutex<(usize, usize)>>);
    impl Write for Count {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let mut c = self.0.lock().unwrap();
            c.0 += b.len();
            c.1 = c.1.max(b.len());
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let seen = Arc::new(Mutex::new((0, 0)));
    let t = Tracer::new(Box::new(Count(seen.clone())), 1, "count").unwrap();
    for i in 0..50_000u64 {
        t.sched_switch(i, 0, SwitchTask::IDLE, "R", task(2, &[0xff; 16], 20));
    }
    let (total, biggest) = *seen.lock().unwrap();
    assert!(total > 2 * 1024 * 1024, "streamed: {total}");
    assert!(biggest <= BUFFER_BYTES, "{biggest}");
    t.finish().unwrap();
}
