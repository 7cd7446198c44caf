//! A real application: SQLite's shell (Debian's `sqlite3` source package,
//! built static for riscv64 by `scripts/sqlite.sh` into
//! `user/build/sqlite3`) under `ferrite run`.
//!
//! - One process running a script (tables, an index, a join, aggregates,
//!   a transaction rolled back, WAL mode, `pragma integrity_check`) must
//!   print what it prints under qemu-riscv64, each on a database of its
//!   own; the expected lines are checked too.
//! - Four shells writing one database at once from BusyBox's `sh` on two
//!   harts: SQLite serialises them with `fcntl` record locks (and, in WAL
//!   mode, a shared mapping of the WAL index), waiting through
//!   `busy_timeout`. Every row must arrive and the database must check
//!   out. (qemu-riscv64 cannot run this one: the shell would hand the
//!   riscv64 children to the host.)
//!
//! The binaries are built once per test binary with `make -C user sqlite
//! busybox` (a no-op when they are there); like BusyBox, SQLite is a
//! prerequisite of `make test`, so a build that cannot be done fails
//! these tests instead of skipping them.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

mod common;
use common::{root, run_command, Run};

/// Where the programs are (the runs' working directory and ferrite's
/// root), relative to the workspace root.
const BUILD: &str = "user/build";
/// Where the databases and scripts go, relative to [`BUILD`].
const DIR: &str = "sqlite-test";
const TIMEOUT: Duration = Duration::from_secs(240);

/// Build SQLite and BusyBox and the ferrite binary, once.
fn setup() -> PathBuf {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let r = DONE.get_or_init(|| {
        let out = Command::new("make")
            .args(["-s", "-C", "user", "sqlite", "busybox"])
            .env_remove("CC")
            .env_remove("CFLAGS")
            .current_dir(root())
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("make -C user sqlite busybox: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "make -C user sqlite busybox failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::create_dir_all(root().join(BUILD).join(DIR)).map_err(|e| format!("{DIR}: {e}"))
    });
    if let Err(e) = r {
        panic!("{e}");
    }
    root().join(BUILD)
}

/// A fresh database `name` (no file, journal, WAL or WAL index).
fn fresh(build: &std::path::Path, name: &str) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let _ = std::fs::remove_file(build.join(DIR).join(format!("{name}{suffix}")));
    }
}

/// `ferrite run ARGS...` from user/build (its root too).
fn ferrite(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run").args(args);
    run_command(cmd, Some(dir), format!("ferrite run {args:?}"), TIMEOUT)
}

const SCRIPT: &str = "\
create table dept(id integer primary key, name text not null);
create table emp(id integer primary key, dept int references dept(id), name text, pay int);
create index emp_dept on emp(dept);
insert into dept(name) values ('kernel'), ('mm'), ('sched');
with recursive n(i) as (select 1 union all select i + 1 from n where i < 300)
  insert into emp(dept, name, pay) select i % 3 + 1, 'e' || i, i * 7 % 101 from n;
select d.name, count(*), sum(e.pay), min(e.pay), max(e.pay)
  from emp e join dept d on d.id = e.dept group by d.name order by d.name;
begin;
delete from emp where pay > 50;
select count(*) from emp;
rollback;
select count(*) from emp;
pragma journal_mode = wal;
update emp set pay = pay + 1 where dept = 2;
select sum(pay) from emp;
select name from emp where dept = 3 order by pay desc, id limit 3;
pragma integrity_check;
";

/// One process, a script: the same output as under qemu-riscv64.
#[test]
fn sqlite_runs_a_script_as_under_qemu() {
    let dir = setup();
    std::fs::write(dir.join(DIR).join("script.sql"), SCRIPT).unwrap();
    fresh(&dir, "q.db");
    fresh(&dir, "f.db");
    let read = format!(".read {DIR}/script.sql");
    let mut q = Command::new("qemu-riscv64");
    q.args(["./sqlite3", &format!("{DIR}/q.db"), &read]);
    let q = run_command(q, Some(&dir), "qemu-riscv64 sqlite3".into(), TIMEOUT);
    assert_eq!(q.status, 0, "qemu: {}", q.stderr);
    let f = ferrite(&dir, &["./sqlite3", &format!("{DIR}/f.db"), &read]);
    assert_eq!(f.status, 0, "ferrite: {}", f.stderr);
    assert_eq!(
        f.stdout, q.stdout,
        "sqlite3 under ferrite differs from qemu-riscv64"
    );
    for line in ["kernel|100|", "300\n", "wal\n", "ok\n"] {
        assert!(q.stdout.contains(line), "{line:?} in\n{}", q.stdout);
    }
    // The database it left is one the host's view agrees with: same size.
    let (qs, fs) = (
        std::fs::metadata(dir.join(DIR).join("q.db")).unwrap().len(),
        std::fs::metadata(dir.join(DIR).join("f.db")).unwrap().len(),
    );
    assert_eq!(qs, fs);
}

/// Four writers at once on two harts, serialised by record locks.
#[test]
fn concurrent_sqlite_writers_lose_nothing() {
    let dir = setup();
    for (db, mode) in [("c.db", "delete"), ("w.db", "wal")] {
        fresh(&dir, db);
        let mut sh = format!(
            "./sqlite3 {DIR}/{db} 'pragma journal_mode = {mode}; create table t(p int, i int);' >/dev/null\n"
        );
        for p in 1..=4 {
            let inserts: String = (0..40)
                .map(|i| format!("insert into t values({p}, {i});"))
                .collect();
            sh.push_str(&format!(
                "./sqlite3 {DIR}/{db} 'pragma busy_timeout = 60000;' '{inserts}' >/dev/null &\n"
            ));
        }
        sh.push_str(&format!(
            "wait\n./sqlite3 {DIR}/{db} 'select p, count(*), sum(i) from t group by p; pragma integrity_check;'\n"
        ));
        std::fs::write(dir.join(DIR).join("writers.sh"), sh).unwrap();
        let f = ferrite(
            &dir,
            &[
                "--cpus",
                "2",
                "./busybox",
                "sh",
                &format!("{DIR}/writers.sh"),
            ],
        );
        assert_eq!(f.status, 0, "{mode}: {}", f.stderr);
        assert_eq!(
            f.stdout, "1|40|780\n2|40|780\n3|40|780\n4|40|780\nok\n",
            "{mode}: {}",
            f.stderr
        );
    }
}
