//! End to end: BusyBox (Debian's `busybox` source package, built static for
//! riscv64 by `scripts/busybox.sh` into `user/build/busybox`) under
//! `ferrite run` and under `qemu-riscv64`.
//!
//! Each applet or shell command is compared: stdout and the exit status
//! under ferrite must equal qemu-riscv64's, and the expected text is
//! checked too, so a broken binary cannot pass by being broken the same
//! way twice. Single-process runs (an applet called directly, the shell
//! running builtins and NOFORK applets) and pipelines, which need pipe2,
//! fork, execve of /proc/self/exe (BusyBox re-executes itself for
//! applets) and wait4, are all compared; a `#!/bin/sh` script run by its
//! path is checked under ferrite alone (qemu-riscv64 would hand it to the
//! host's /bin/sh).
//!
//! The binary is built once per test binary with `make -C user busybox`
//! (a no-op when it is there). BusyBox is a prerequisite of `make test`
//! (its `user` target), so a build that cannot be done (no network for
//! `apt-get source`, no deb-src entry and not root) fails these tests
//! loudly instead of skipping them.
//!
//! Both run from the workspace root with the program given as
//! `user/build/busybox` (ferrite's `--root` defaults to the current
//! directory, so paths mean the same files to both); the fixtures are in
//! `user/build/busybox-test/`.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;
use common::{root, run_command, shell_status, Run};

/// The binary, relative to the workspace root.
const BUSYBOX: &str = "user/build/busybox";
/// The fixtures' directory, relative to the workspace root.
const FIXTURES: &str = "user/build/busybox-test";
/// Longest any single run may take before it is killed and the test fails.
const TIMEOUT: Duration = Duration::from_secs(120);

/// Build user/build/busybox and write the fixtures, once per test binary.
fn setup() {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = DONE.get_or_init(|| {
        let root = root();
        let out = Command::new("make")
            .args(["-s", "-C", "user", "busybox"])
            // A host CC or CFLAGS (as set for C build scripts) must not
            // leak into the cross build.
            .env_remove("CC")
            .env_remove("CFLAGS")
            .current_dir(&root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("make -C user busybox: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "make -C user busybox failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let dir = root.join(FIXTURES);
        let write = |name: &str, text: &str| {
            let p: PathBuf = dir.join(name);
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
        };
        std::fs::create_dir_all(dir.join("dir")).map_err(|e| format!("{FIXTURES}: {e}"))?;
        for f in ["c", "a", "b"] {
            write(&format!("dir/{f}"), f)?;
        }
        // 1..1000 in a scrambled order (a multiplicative permutation).
        let nums: String = (0..1000u32)
            .map(|i| format!("{}\n", i * 7 % 1000 + 1))
            .collect();
        write("nums", &nums)?;
        write(
            "script.sh",
            "#!/bin/sh\n# a script file, run as `busybox sh script.sh ARGS`\n\
             echo \"script: $# args: $*\"\n\
             for i in 1 2 3; do echo \"line $i\"; done\n\
             n=6\n\
             if [ \"$n\" -gt 5 ]; then echo \"big $((n * 7))\"; fi\n\
             f() { echo \"in f: $1\"; return 4; }\n\
             f x || echo \"f returned $?\"\n\
             exit 3\n",
        )?;
        use std::os::unix::fs::PermissionsExt;
        let script = dir.join("script.sh");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", script.display()))?;
        Ok(())
    });
    if let Err(e) = result {
        panic!(
            "building user/build/busybox failed: it is part of `make test` \
             (scripts/busybox.sh), so this is an error, not a skip:\n{e}"
        );
    }
}

/// What one run produced.
/// Run `cmd` from the workspace root with no stdin, capturing stdout and
/// stderr; kill it after [`TIMEOUT`].
fn run(cmd: Command) -> Run {
    let what = format!("{cmd:?}");
    run_command(cmd, Some(&root()), what, TIMEOUT)
}

/// `qemu-riscv64 user/build/busybox ARGS...`
fn qemu(args: &[&str]) -> Run {
    setup();
    let mut cmd = Command::new("qemu-riscv64");
    cmd.arg(BUSYBOX).args(args);
    run(cmd)
}

/// `ferrite run user/build/busybox ARGS...`
fn ferrite(args: &[&str]) -> Run {
    setup();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run").arg(BUSYBOX).args(args);
    run(cmd)
}

/// Run `busybox ARGS` under both; qemu-riscv64 must print `want` and exit
/// with `status`, and ferrite must do exactly the same.
fn same_as_qemu(args: &[&str], want: &str, status: i32) {
    let q = qemu(args);
    assert_eq!(
        (q.stdout.as_str(), q.status),
        (want, status),
        "{}: unexpected output under qemu-riscv64; stderr:\n{}",
        q.what,
        q.stderr
    );
    let f = ferrite(args);
    assert!(
        !f.stderr.contains("panicked"),
        "{}: ferrite panicked:\n{}",
        f.what,
        f.stderr
    );
    assert_eq!(
        (f.stdout.as_str(), f.status),
        (q.stdout.as_str(), q.status),
        "{}: stdout and exit status differ from qemu-riscv64's; ferrite's stderr:\n{}",
        f.what,
        f.stderr
    );
}

#[test]
fn echo() {
    same_as_qemu(&["echo", "hello", "world"], "hello world\n", 0);
}

#[test]
fn uname_names_linux_on_riscv64() {
    same_as_qemu(&["uname", "-s", "-m"], "Linux riscv64\n", 0);
}

#[test]
fn true_and_false_exit_statuses() {
    same_as_qemu(&["true"], "", 0);
    same_as_qemu(&["false"], "", 1);
}

#[test]
fn shell_arithmetic_needs_no_fork() {
    same_as_qemu(&["sh", "-c", "echo $((6*7))"], "42\n", 0);
}

#[test]
fn shell_builtins_and_nofork_applets() {
    same_as_qemu(
        &[
            "sh",
            "-c",
            "for i in 1 2 3; do echo $i; done; x=5; [ $x -gt 3 ] && echo big; \
             cd user && [ -d build ] && echo in-user; printf '%s-%d\\n' a 7; exit 5",
        ],
        "1\n2\n3\nbig\nin-user\na-7\n",
        5,
    );
}

/// The shell's last command needs no fork, and a NOEXEC applet (seq) as
/// the last command runs in the shell's own process, without execve.
/// (Anywhere else, or for another applet such as cat, the shell forks or
/// re-executes /proc/self/exe.)
#[test]
fn shell_runs_a_noexec_applet_last() {
    same_as_qemu(&["sh", "-c", "echo start; seq 8 9"], "start\n8\n9\n", 0);
}

#[test]
fn shell_runs_a_script_file() {
    let script = format!("{FIXTURES}/script.sh");
    same_as_qemu(
        &["sh", &script, "a", "b"],
        "script: 2 args: a b\nline 1\nline 2\nline 3\nbig 42\nin f: x\nf returned 4\n",
        3,
    );
}

#[test]
fn seq_sort_head_one_at_a_time() {
    let seq: String = (1..=1000).map(|i| format!("{i}\n")).collect();
    same_as_qemu(&["seq", "1", "1000"], &seq, 0);
    let nums = format!("{FIXTURES}/nums");
    let sorted: String = (1..=1000).rev().map(|i| format!("{i}\n")).collect();
    same_as_qemu(&["sort", "-rn", &nums], &sorted, 0);
    same_as_qemu(&["head", "-n", "3", &nums], "1\n8\n15\n", 0);
}

#[test]
fn text_applets() {
    let nums = format!("{FIXTURES}/nums");
    same_as_qemu(&["wc", "-l", &nums], &format!("1000 {nums}\n"), 0);
    same_as_qemu(&["expr", "6", "*", "7"], "42\n", 0);
    same_as_qemu(&["basename", "/a/b/c.txt", ".txt"], "c\n", 0);
    same_as_qemu(&["sed", "-n", "2,3p", &nums], "8\n15\n", 0);
    same_as_qemu(&["grep", "-c", "^99", &nums], "11\n", 0);
    same_as_qemu(
        &["awk", "{ s += $1 } END { print s }", &nums],
        "500500\n",
        0,
    );
}

#[test]
fn ls_lists_a_directory() {
    let dir = format!("{FIXTURES}/dir");
    same_as_qemu(&["ls", &dir], "a\nb\nc\n", 0);
    same_as_qemu(&["cat", &format!("{dir}/a"), &format!("{dir}/c")], "ac", 0);
}

/// ferrite's own /proc, read by BusyBox's cat (qemu-riscv64 shows the
/// host's, so there is nothing to compare with).
#[test]
fn cat_proc_meminfo() {
    let f = ferrite(&["cat", "/proc/meminfo"]);
    assert_eq!(f.status, 0, "{}: {}", f.what, f.stderr);
    let first = f.stdout.lines().next().unwrap_or("");
    assert!(
        first.starts_with("MemTotal:") && first.ends_with(" kB"),
        "{}: first line {first:?}",
        f.what
    );
}

/// The task's own pipeline: checked under qemu-riscv64, the reference.
#[test]
fn pipeline_under_qemu() {
    let q = qemu(&["sh", "-c", "seq 1 1000 | sort -rn | head -3"]);
    assert_eq!(
        (q.stdout.as_str(), q.status),
        ("1000\n999\n998\n", 0),
        "{}: {}",
        q.what,
        q.stderr
    );
}

/// The same pipeline under ferrite: pipe2, clone (fork), execve of
/// /proc/self/exe and wait4.
#[test]
fn pipeline() {
    same_as_qemu(
        &["sh", "-c", "seq 1 1000 | sort -rn | head -3"],
        "1000\n999\n998\n",
        0,
    );
}

/// A `#!/bin/sh` script run by its path, with /bin/sh a link to BusyBox in
/// the guest's root: execve with binfmt_script, and fork. (Not compared
/// with qemu-riscv64, which would hand the script to the host's /bin/sh.)
#[test]
fn script_run_by_its_path() {
    setup();
    let dir = tempfile::tempdir().expect("temporary root");
    let r = dir.path();
    std::fs::create_dir(r.join("bin")).expect("mkdir bin");
    std::fs::copy(root().join(BUSYBOX), r.join("bin/busybox")).expect("copy busybox");
    std::os::unix::fs::symlink("busybox", r.join("bin/sh")).expect("symlink sh");
    std::fs::copy(root().join(FIXTURES).join("script.sh"), r.join("script.sh")).expect("copy");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run")
        .arg("--root")
        .arg(r)
        .arg(r.join("bin/busybox"))
        .args(["sh", "-c", "/script.sh a b; echo status $?"]);
    let f = run(cmd);
    assert_eq!(
        (f.stdout.as_str(), f.status),
        (
            "script: 2 args: a b\nline 1\nline 2\nline 3\nbig 42\nin f: x\nf returned 4\nstatus 3\n",
            0
        ),
        "{}: {}",
        f.what,
        f.stderr
    );
}

/// A read of the terminal (here a host pipe) does not hold the hart: on
/// one CPU, while a background job waits for input, the shell goes on
/// and prints; the job gets the input when it comes.
#[test]
fn waiting_for_input_does_not_hold_the_hart() {
    use std::io::{BufRead, BufReader, Write};
    setup();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrite"))
        .args(["run", "--cpus", "1", BUSYBOX, "sh", "-c"])
        .arg("exec 3<&0; (head -c 2 <&3) & sleep 0.2; echo done; wait")
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ferrite");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let first = rx.recv_timeout(Duration::from_secs(30));
    let mut stdin = child.stdin.take().expect("stdin");
    // Whatever happened, let the job finish.
    let _ = stdin.write_all(b"x\n");
    drop(stdin);
    let status = child.wait().expect("wait");
    assert_eq!(
        first.as_deref(),
        Ok("done"),
        "the shell did not go on while its job waited for input"
    );
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).as_deref(), Ok("x"));
    assert_eq!(shell_status(status), 0);
}

/// `ferrite run BUSYBOX sh` on a host pseudo-terminal, with what the
/// terminal shows collected by a thread. `controlling`: the pty is the
/// controlling terminal of ferrite's own session (so the host turns ^C
/// into SIGINT for ferrite, as a terminal does for a shell's foreground
/// job).
struct Pty {
    child: std::process::Child,
    master: std::fs::File,
    out: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Pty {
    fn spawn(controlling: bool) -> Pty {
        Pty::spawn_args(controlling, &[BUSYBOX, "sh"])
    }

    /// `ferrite run ARGS...` on a pty.
    fn spawn_args(controlling: bool, args: &[&str]) -> Pty {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;
        setup();
        let (mut master, mut slave) = (-1, -1);
        // SAFETY: openpty fills two descriptors; the other arguments may
        // be null.
        let r = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(r, 0, "openpty");
        // SAFETY: both are fresh descriptors we own.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let io = |f: &OwnedFd| Stdio::from(f.try_clone().expect("dup"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
        cmd.arg("run")
            .args(args)
            .current_dir(root())
            .stdin(io(&slave))
            .stdout(io(&slave))
            .stderr(io(&slave));
        if controlling {
            // SAFETY: between fork and exec only async-signal-safe calls:
            // a new session whose controlling terminal is the pty (stdin).
            unsafe {
                cmd.pre_exec(|| {
                    if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = cmd.spawn().expect("ferrite");
        drop(slave);
        let master = std::fs::File::from(master);
        let reader = master.try_clone().expect("dup");
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut r = reader;
            let mut b = [0u8; 4096];
            while let Ok(n) = r.read(&mut b) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&b[..n]);
            }
        });
        Pty { child, master, out }
    }

    /// What the terminal shows so far (without carriage returns).
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).replace('\r', "")
    }

    /// Wait (at most 30 s) until the terminal shows `what`.
    fn wait_for(&self, what: &str) {
        let start = Instant::now();
        while !self.text().contains(what) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no {what:?} on the terminal; it shows:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Type `bytes`.
    fn type_in(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.master.write_all(bytes).unwrap();
    }

    /// Wait for ferrite to end; its shell-style status.
    fn wait(&mut self) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return shell_status(s);
            }
            if start.elapsed() > TIMEOUT {
                let _ = self.child.kill();
                panic!(
                    "the shell did not exit; the terminal shows:\n{}",
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The interactive shell on a terminal (a host pty): job control is on
/// (TIOCGPGRP/TIOCSPGRP on ferrite's terminal state), the line editor's
/// settings go to the host terminal (TCSETS, so the input is echoed
/// once), a pipeline runs, and a background job that reads the terminal
/// is stopped by SIGTTIN as on Linux.
#[test]
fn interactive_shell_with_job_control() {
    let mut t = Pty::spawn(false);
    t.wait_for("/ # ");
    for line in [
        "echo hi $((6*7))",
        "seq 1 50 | sort -rn | head -2",
        "cat &",
        "sleep 0.3; jobs",
        "kill -9 %1; sleep 0.2; jobs",
        "exit 3",
    ] {
        t.type_in(line.as_bytes());
        t.type_in(b"\r");
        if line == "exit 3" {
            break;
        }
        t.wait_for(&format!("{line}\n"));
    }
    let status = t.wait();
    t.wait_for("hi 42\n");
    // The last lines may reach the pty reader after ferrite exited.
    t.wait_for("Killed");
    let text = t.text();
    assert_eq!(status, 3, "{text}");
    assert!(!text.contains("job control turned off"), "{text}");
    assert_eq!(
        text.matches("echo hi $((6*7))").count(),
        1,
        "echoed once:\n{text}"
    );
    assert!(text.contains("50\n49\n"), "{text}");
    assert!(text.contains("Stopped (tty input)"), "{text}");
    assert!(text.contains("Killed"), "{text}");
}

/// An orphaned background group (its session leader gone) that reads its
/// controlling terminal gets EIO instead of a SIGTTIN stop, and so does
/// its tcsetattr (user/ttyorphan.c, run as init on a pty).
#[test]
fn orphaned_background_group_gets_eio_from_the_terminal() {
    let mut t = Pty::spawn_args(false, &["user/build/ttyorphan"]);
    t.wait_for("orphan tcsetattr");
    let status = t.wait();
    let text = t.text();
    assert_eq!(status, 0, "{text}");
    assert!(
        text.contains("orphan read: -1 Input/output error"),
        "{text}"
    );
    assert!(
        text.contains("orphan tcsetattr: -1 Input/output error"),
        "{text}"
    );
}

/// `ps`, `top -n 1` and `free` read /proc of several processes: the shell,
/// a background `sleep` and the applet itself are listed with their
/// parents and states, memory is sane.
#[test]
fn ps_top_free_see_the_processes() {
    let f = ferrite(&[
        "sh",
        "-c",
        "sleep 1 & ps -o pid,ppid,stat,comm; top -n 1 -b; free; wait",
    ]);
    assert_eq!(f.status, 0, "{}: {}", f.what, f.stderr);
    let out = &f.stdout;
    let ps: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("Mem:"))
        .map(|l| l.split_whitespace().collect())
        .collect();
    // The shell (pid 1, parent 0), sleep and ps, children of the shell.
    assert!(ps.iter().any(|r| r[..2] == ["1", "0"]), "{out}");
    let children = ps.iter().filter(|r| r.len() > 1 && r[1] == "1").count();
    assert!(children >= 2, "{out}");
    assert!(out.contains("\nLoad average: 0.00 0.00 0.00 "), "{out}");
    assert!(
        out.contains("  PID  PPID USER     STAT   VSZ %VSZ"),
        "{out}"
    );
    let mem = out
        .lines()
        .find(|l| l.starts_with("Mem:") && !l.contains('K'))
        .unwrap_or_else(|| panic!("free's Mem: line in {out}"));
    let n: Vec<u64> = mem
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    assert!(n[0] > 0 && n[1] + n[2] <= n[0], "{mem}");
}

/// Ctrl-C on the terminal is the guest's: with ferrite's stdin a
/// terminal, the host's SIGINT becomes SIGINT for the foreground process
/// group of the guest's terminal (the job the shell put there with
/// TIOCSPGRP), which ends `sleep` at once; the interactive shell drops
/// the rest of the line and prompts again, as under qemu-riscv64.
#[test]
fn ctrl_c_interrupts_the_foreground_job() {
    let mut t = Pty::spawn(true);
    t.wait_for("/ # ");
    t.type_in(b"sleep 30; echo status $?\r");
    t.wait_for("sleep 30; echo status $?\n");
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    t.type_in(b"\x03");
    t.wait_for("^C\n/ # ");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "^C took {:?}",
        sent.elapsed()
    );
    assert!(
        !t.text().lines().any(|l| l.starts_with("status ")),
        "{}",
        t.text()
    );
    t.type_in(b"exit 4\r");
    assert_eq!(t.wait(), 4, "{}", t.text());
}

/// The scheduler's /proc files as BusyBox reads them on two CPUs: the WRR
/// section of /proc/sched_debug lists the running spinner with its weight,
/// /proc/PID/sched and /proc/PID/stat give SCHED_WRR (7), and top's CPU
/// column comes from the real placement.
#[test]
fn proc_stat_charges_each_cpu_its_own_time() {
    // Two spinners on two CPUs for a while: each CPU line of /proc/stat
    // has user time (charged where it ran, not where a task last was),
    // and the two together about as much as the whole line.
    setup();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run").args(["--cpus", "2"]).arg(BUSYBOX).args([
        "sh",
        "-c",
        "while :; do :; done & a=$!; while :; do :; done & b=$!; sleep 0.5; \
         kill $a $b; grep '^cpu' /proc/stat",
    ]);
    let r = run(cmd);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let user = |name: &str| -> u64 {
        let l = r
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} line in {}", r.stdout));
        l.split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    let (all, c0, c1) = (user("cpu"), user("cpu0"), user("cpu1"));
    // USER_HZ = 100: 0.5 s of spinning is about 50 ticks on each CPU.
    assert!(c0 >= 20 && c1 >= 20, "cpu0 {c0}, cpu1 {c1}:\n{}", r.stdout);
    assert!(all.abs_diff(c0 + c1) <= 2, "{all} vs {c0} + {c1}");
}

#[test]
fn sched_proc_files_on_two_cpus() {
    setup();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.arg("run").args(["--cpus", "2"]).arg(BUSYBOX).args([
        "sh",
        "-c",
        "while :; do :; done & sleep 0.2; cat /proc/sched_debug; \
         cat /proc/$!/sched; cut -d' ' -f39,41 /proc/$!/stat; \
         cat /proc/sys/kernel/sched_wrr_balance_interval_ms; kill $!",
    ]);
    let r = run(cmd);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let o = &r.stdout;
    for want in [
        "wrr_rq[0]:",
        "wrr_rq[1]:",
        ".wrr_total_weight",
        "policy_name                                  :             SCHED_WRR",
        "wrr.weight                                   :                    10",
        "\n500\n",
    ] {
        assert!(o.contains(want), "{want:?} missing in:\n{o}");
    }
    // The spinner runs alone on one CPU (the shell sleeps or runs cat on
    // the other): its stat line says processor 0 or 1 and policy 7.
    assert!(o.contains("\n0 7\n") || o.contains("\n1 7\n"), "{o}");
    // Its row in the WRR section (a forked shell: comm "busybox"), weight
    // 10; the reader itself (cat) is running ('>') on its CPU.
    assert!(
        o.lines()
            .any(|l| l.contains(" busybox ") && l.contains(" 10 ")),
        "{o}"
    );
    assert!(
        o.lines()
            .any(|l| l.starts_with(" >") && l.contains(" cat ")),
        "{o}"
    );
}

/// The scheduler's sysctl knobs take root's writes within Linux's limits
/// (the rt runtime -1 or at most the period; positive intervals).
#[test]
fn sched_sysctl_knobs() {
    let r = ferrite(&[
        "sh",
        "-c",
        "cd /proc/sys/kernel; echo 100 > sched_wrr_balance_interval_ms; \
         cat sched_wrr_balance_interval_ms; echo -1 > sched_rt_runtime_us; \
         cat sched_rt_runtime_us; echo 2000000 > sched_rt_runtime_us || echo EINVAL; \
         echo 0 > sched_wrr_balance_interval_ms || echo EINVAL; cat sched_rt_period_us",
    ]);
    assert_eq!(
        r.stdout, "100\n-1\nEINVAL\nEINVAL\n1000000\n",
        "{}",
        r.stderr
    );
}
