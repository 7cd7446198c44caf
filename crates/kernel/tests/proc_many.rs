//! /proc for many processes: the pid directories listed from the task
//! table, a process's and a thread's entries, /proc/PID/{stat, statm,
//! status, fd, fdinfo, mounts, mountinfo} of other processes, the
//! machine-wide files and /proc/sys/kernel/pid_max's writes, checked field
//! by field against Linux's formats (samples in tests/data/linux-formats/,
//! captured from Linux 6.18) and the rules of fs/proc/*.c; sysinfo and the
//! affinity calls.

use kernel::boot::Machine;
use kernel::errno::*;
use kernel::fs::flags::*;
use kernel::fs::Fs;
use kernel::kernel::host_cred;
use kernel::syscall::nr::*;
use kernel::syscall::{dispatch, Flow, Sys};
use kernel::task::TaskRef;
use kernel::{Config, Kernel};
use mm::mmap::{MmStruct, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use mm::percpu::Cpu;

const NR_CPUS: usize = 2;

struct Env {
    k: Kernel,
    cpu: Cpu<'static>,
    _root: tempfile::TempDir,
}

fn env() -> Env {
    let root = tempfile::tempdir().unwrap();
    let machine = Machine {
        mem_bytes: 32 << 20,
        nr_cpus: NR_CPUS,
        slab_debug: false,
    };
    let k = Kernel::boot(Config::new(machine, root.path().to_path_buf())).unwrap();
    let cpu = k.mem.cpu(0).unwrap();
    mm::fault::init(&cpu).unwrap();
    Env {
        k,
        cpu,
        _root: root,
    }
}

/// Process `pid` (child of `ppid`) with a read/write area of 4 pages; the
/// area's address.
fn process(e: &Env, pid: i32, ppid: i32, comm: &[u8]) -> (TaskRef, u64) {
    let mm = MmStruct::new(&e.cpu).unwrap();
    let rw = mm
        .do_mmap(
            &e.cpu,
            0,
            4 << 12,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
        )
        .unwrap();
    let mut cmdline = comm.to_vec();
    cmdline.push(0);
    let t =
        e.k.new_task(
            &e.cpu,
            pid,
            ppid,
            comm,
            b"/bin/x".to_vec(),
            cmdline,
            host_cred(),
            mm,
        )
        .unwrap();
    (t, rw as u64)
}

fn call(e: &Env, t: &TaskRef, nr: u64, a: &[u64]) -> i64 {
    let mut args = [0u64; 6];
    args[..a.len()].copy_from_slice(a);
    let mut s = Sys::new(&e.cpu, &e.k, t);
    match dispatch(&mut s, nr, args) {
        Flow::Return(v) | Flow::Yield(v) => v,
        f => panic!("unexpected {f:?}"),
    }
}

fn err(e: i32) -> i64 {
    -(e as i64)
}

/// The whole of a file as process `fs` reads it.
fn read(e: &Env, fs: &Fs, path: &str) -> Result<String, i32> {
    let fd = fs.openat(&e.cpu, AT_FDCWD, path.as_bytes(), O_RDONLY, 0)?;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = fs.read(&e.cpu, fd, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    fs.close(fd).unwrap();
    Ok(String::from_utf8(out).unwrap())
}

/// The names of a directory (without `.` and `..`), in order.
fn ls(e: &Env, fs: &Fs, path: &str) -> Result<Vec<String>, i32> {
    let fd = fs.openat(&e.cpu, AT_FDCWD, path.as_bytes(), O_RDONLY | O_DIRECTORY, 0)?;
    let mut names = Vec::new();
    loop {
        let b = fs.getdents64(fd, 200).unwrap();
        if b.is_empty() {
            break;
        }
        let mut at = 0;
        while at < b.len() {
            let reclen = u16::from_le_bytes([b[at + 16], b[at + 17]]) as usize;
            let name = &b[at + 19..at + reclen];
            let n = name.iter().position(|&c| c == 0).unwrap();
            names.push(String::from_utf8(name[..n].to_vec()).unwrap());
            at += reclen;
        }
    }
    fs.close(fd).unwrap();
    assert_eq!(&names[..2], [".", ".."]);
    Ok(names[2..].to_vec())
}

fn sample(name: &str) -> String {
    let p = format!(
        "{}/tests/data/linux-formats/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(p).unwrap()
}

/// The fields of a /proc/PID/stat line: pid, comm, then the rest split on
/// spaces (comm may hold spaces; it ends at the last ')').
fn stat_fields(line: &str) -> Vec<String> {
    let open = line.find(" (").unwrap();
    let close = line.rfind(") ").unwrap();
    let mut v = vec![line[..open].to_string(), line[open + 2..close].to_string()];
    v.extend(line[close + 2..].trim_end().split(' ').map(String::from));
    v
}

/// Three processes (1, its children 5 and 9) and a second thread of 5.
fn three(e: &Env) -> (TaskRef, TaskRef, TaskRef, TaskRef, u64) {
    let (init, _) = process(e, 1, 0, b"init");
    let (p5, rw5) = process(e, 5, 1, b"five");
    let (p9, _) = process(e, 9, 1, b"nine");
    // CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD.
    let flags = 0x100 | 0x200 | 0x400 | 0x800 | 0x10000;
    let tid = call(e, &p5, CLONE, &[flags, rw5 + 4096, 0, 0, 0]);
    assert!(tid > 9, "clone: {tid}");
    let t = e.k.tasks.find(tid as i32).unwrap();
    (init, p5, p9, t, rw5)
}

#[test]
fn proc_lists_the_live_processes_and_their_threads() {
    let e = env();
    let (init, p5, _p9, t, _) = three(&e);
    let fs = init.fs().unwrap();
    let root = ls(&e, &fs, "/proc").unwrap();
    // The pid directories come last, in order, one per process (not per
    // thread).
    let pids: Vec<&String> = root.iter().filter(|n| n.parse::<i32>().is_ok()).collect();
    assert_eq!(pids, ["1", "5", "9"]);
    let first_pid = root.iter().position(|n| n == "1").unwrap();
    assert!(root[first_pid..].iter().all(|n| n.parse::<i32>().is_ok()));
    for n in [
        "self",
        "thread-self",
        "stat",
        "loadavg",
        "uptime",
        "cpuinfo",
        "mounts",
        "sys",
    ] {
        assert!(root.contains(&n.to_string()), "{n} in {root:?}");
    }
    // `self` is a link to the pid, `mounts` to self/mounts.
    assert_eq!(fs.readlinkat(AT_FDCWD, b"/proc/self").unwrap(), b"1");
    assert_eq!(
        fs.readlinkat(AT_FDCWD, b"/proc/mounts").unwrap(),
        b"self/mounts"
    );
    assert_eq!(
        fs.readlinkat(AT_FDCWD, b"/proc/thread-self").unwrap(),
        b"1/task/1"
    );
    // A process's directory: Linux's entries, in Linux's order.
    let dir = ls(&e, &fs, "/proc/5").unwrap();
    let linux: Vec<String> = sample("pid-dir-order.txt")
        .lines()
        .filter(|l| *l != "." && *l != "..")
        .map(String::from)
        .collect();
    let mut at = 0;
    for n in &dir {
        let i = linux[at..]
            .iter()
            .position(|l| l == n)
            .unwrap_or_else(|| panic!("{n} not in Linux's order after {at}"));
        at += i + 1;
    }
    for n in [
        "stat",
        "statm",
        "status",
        "task",
        "fd",
        "fdinfo",
        "environ",
        "mountinfo",
    ] {
        assert!(dir.contains(&n.to_string()), "{n}");
    }
    // Its threads.
    let tids = ls(&e, &fs, "/proc/5/task").unwrap();
    assert_eq!(tids, ["5".to_string(), t.pid().to_string()]);
    let tstat = read(&e, &fs, &format!("/proc/5/task/{}/stat", t.pid())).unwrap();
    let f = stat_fields(&tstat);
    assert_eq!(f[0], t.pid().to_string());
    assert_eq!(f[1], "five");
    let tstatus = read(&e, &fs, &format!("/proc/5/task/{}/status", t.pid())).unwrap();
    assert!(
        tstatus.contains(&format!("\nPid:\t{}\n", t.pid())),
        "{tstatus}"
    );
    assert!(tstatus.contains("\nTgid:\t5\n"));
    assert!(tstatus.contains("\nThreads:\t2\n"));
    assert_eq!(
        read(&e, &fs, &format!("/proc/5/task/{}/comm", t.pid())).unwrap(),
        "five\n"
    );
    // A thread's id is not listed at the top but names its directory,
    // as on Linux; another process's id is no thread of this one.
    let st = read(&e, &fs, &format!("/proc/{}/status", t.pid())).unwrap();
    assert!(st.contains(&format!("\nPid:\t{}\n", t.pid())), "{st}");
    assert!(st.contains("\nTgid:\t5\n"), "{st}");
    assert_eq!(
        ls(&e, &fs, &format!("/proc/{}/task", t.pid())).unwrap(),
        ["5".to_string(), t.pid().to_string()]
    );
    assert_eq!(read(&e, &fs, "/proc/5/task/9/stat"), Err(ENOENT));
    assert_eq!(ls(&e, &fs, "/proc/77"), Err(ENOENT));
    drop(p5);
}

#[test]
fn stat_has_linux_fields() {
    let e = env();
    let (init, p5, _p9, _t, _) = three(&e);
    let fs = init.fs().unwrap();
    let text = read(&e, &fs, "/proc/5/stat").unwrap();
    assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
    let f = stat_fields(&text);
    let linux = stat_fields(&sample("stat.txt"));
    assert_eq!(f.len(), 52, "{text}");
    assert_eq!(linux.len(), 52);
    // Fields every process shows the same on Linux (tty_nr, tpgid,
    // cminflt.., priority, nice, itrealvalue, kstkesp, kstkeip, two
    // zeros after wchan, rt_priority, blkio, guest times).
    for i in [6, 7, 17, 18, 20, 28, 29, 35, 36, 39, 41, 42, 43] {
        assert_eq!(f[i], linux[i], "field {}", i + 1);
    }
    // policy: ferrite's default is the lab's SCHED_WRR (Linux's is 0).
    assert_eq!(f[40], "7", "policy");
    assert_eq!(f[0], "5");
    assert_eq!(f[1], "five");
    assert_eq!(f[2], "R");
    assert_eq!(f[3], "1", "ppid");
    assert_eq!(f[4], "5", "pgrp");
    assert_eq!(f[5], "5", "session");
    // Two threads now.
    assert_eq!(f[19], "2", "num_threads");
    // The area of 4 pages, in bytes.
    let vsize: u64 = f[22].parse().unwrap();
    assert_eq!(vsize, 4 << 12);
    assert_eq!(f[24], u64::MAX.to_string(), "rsslim");
    assert_eq!(f[37], "17", "exit_signal");
    assert_eq!(f[51], "0", "exit_code");
    // Every field is a number (the signal bitmaps in decimal).
    for (i, x) in f.iter().enumerate().skip(3) {
        assert!(
            x.parse::<i64>().is_ok() || x.parse::<u64>().is_ok(),
            "{i}: {x}"
        );
    }
    // A thread's stat has exit_signal -1.
    let tid = p5.signal.threads.lock().unwrap()[1].pid();
    let tf = stat_fields(&read(&e, &fs, &format!("/proc/5/task/{tid}/stat")).unwrap());
    assert_eq!(tf[37], "-1");
    assert_eq!(tf.len(), 52);
}

#[test]
fn statm_status_and_other_processes_files() {
    let e = env();
    let (init, p5, _p9, _t, _) = three(&e);
    let fs = init.fs().unwrap();
    let statm = read(&e, &fs, "/proc/5/statm").unwrap();
    let f: Vec<u64> = statm
        .trim_end()
        .split(' ')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(f.len(), sample("statm.txt").split(' ').count());
    assert_eq!(f[0], 4, "size in pages");
    assert_eq!(f[4], 0);
    assert_eq!(f[6], 0);
    // Status: Linux's keys, in Linux's order.
    let status = read(&e, &fs, "/proc/5/status").unwrap();
    let keys = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.split(':').next().unwrap().to_string())
            .collect()
    };
    let linux = keys(&sample("status-full.txt"));
    let mut at = 0;
    for k in keys(&status) {
        let i = linux[at..]
            .iter()
            .position(|l| *l == k)
            .unwrap_or_else(|| panic!("{k} out of Linux's order"));
        at += i + 1;
    }
    assert!(status.contains("\nGroups:\t \nNStgid:\t5\nNSpid:\t5\nNSpgid:\t5\nNSsid:\t5\n"));
    assert!(
        status.contains("\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"),
        "{status}"
    );
    // Another process's descriptors, their links and fdinfo.
    assert_eq!(ls(&e, &fs, "/proc/5/fd").unwrap(), ["0", "1", "2"]);
    assert_eq!(ls(&e, &fs, "/proc/5/fdinfo").unwrap(), ["0", "1", "2"]);
    assert!(fs.readlinkat(AT_FDCWD, b"/proc/5/fd/0").is_ok());
    assert_eq!(fs.readlinkat(AT_FDCWD, b"/proc/5/cwd").unwrap(), b"/");
    assert_eq!(fs.readlinkat(AT_FDCWD, b"/proc/5/root").unwrap(), b"/");
    assert_eq!(fs.readlinkat(AT_FDCWD, b"/proc/5/exe").unwrap(), b"/bin/x");
    // Open a file as 5 and see it in 5's fd/ from 1.
    let f5 = p5.fs().unwrap();
    let fd = f5
        .openat(&e.cpu, AT_FDCWD, b"/proc/uptime", O_RDONLY | O_CLOEXEC, 0)
        .unwrap();
    assert_eq!(
        fs.readlinkat(AT_FDCWD, format!("/proc/5/fd/{fd}").as_bytes())
            .unwrap(),
        b"/proc/uptime"
    );
    let info = read(&e, &fs, &format!("/proc/5/fdinfo/{fd}")).unwrap();
    let keys_linux = keys(&sample("fdinfo.txt"));
    assert_eq!(keys(&info), keys_linux);
    assert!(
        info.starts_with("pos:\t0\nflags:\t02100000\nmnt_id:\t"),
        "{info}"
    );
    // /proc/5/cwd is followed to 5's working directory.
    let d = fs.openat(&e.cpu, AT_FDCWD, b"/proc/5/cwd", O_RDONLY | O_DIRECTORY, 0);
    assert!(d.is_ok());
    fs.close(d.unwrap()).unwrap();
    // Mounts: "source point type options 0 0"; mountinfo as Linux's.
    let mounts = read(&e, &fs, "/proc/mounts").unwrap();
    let points: Vec<&str> = mounts
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(points, ["/", "/proc", "/sys", "/dev", "/dev/shm"]);
    assert!(mounts
        .lines()
        .all(|l| l.ends_with(" 0 0") && l.split(' ').count() == 6));
    assert!(mounts.contains("proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"));
    let mi = read(&e, &fs, "/proc/5/mountinfo").unwrap();
    for l in mi.lines() {
        let f: Vec<&str> = l.split(' ').collect();
        assert_eq!(f.len(), 10, "{l}");
        assert_eq!(f[6], "-");
        assert!(f[2].contains(':'));
    }
    assert!(mi.contains(" / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"));
    for l in sample("mountinfo.txt").lines() {
        assert_eq!(l.split(' ').count(), 10);
    }
    // environ, cmdline, comm, oom_score_adj.
    assert_eq!(read(&e, &fs, "/proc/5/cmdline").unwrap(), "five\0");
    assert_eq!(read(&e, &fs, "/proc/5/environ").unwrap(), "");
    assert_eq!(read(&e, &fs, "/proc/9/comm").unwrap(), "nine\n");
    assert_eq!(read(&e, &fs, "/proc/9/oom_score_adj").unwrap(), "0\n");
}

#[test]
fn machine_wide_files() {
    let e = env();
    let (init, _p5, _p9, t, _) = three(&e);
    let fs = init.fs().unwrap();
    // loadavg: "0.00 0.00 0.00 R/T LAST".
    let la = read(&e, &fs, "/proc/loadavg").unwrap();
    let f: Vec<&str> = la.trim_end().split(' ').collect();
    assert_eq!(f.len(), sample("loadavg.txt").split(' ').count());
    assert_eq!(&f[..3], ["0.00", "0.00", "0.00"]);
    let (r, total) = f[3].split_once('/').unwrap();
    assert_eq!(total, "4", "{la}");
    assert!(r.parse::<u32>().unwrap() <= 4);
    assert_eq!(f[4], t.pid().to_string(), "the last pid");
    // uptime: two numbers with two decimals.
    let up = read(&e, &fs, "/proc/uptime").unwrap();
    for x in up.trim_end().split(' ') {
        let (a, b) = x.split_once('.').unwrap();
        assert!(a.parse::<u64>().is_ok() && b.len() == 2, "{up}");
    }
    // /proc/stat: "cpu  " and one line per CPU, 10 numbers each, then
    // Linux's other lines in Linux's order.
    let st = read(&e, &fs, "/proc/stat").unwrap();
    let lines: Vec<&str> = st.lines().collect();
    assert!(lines[0].starts_with("cpu  "));
    for (i, l) in lines[1..=NR_CPUS].iter().enumerate() {
        assert!(l.starts_with(&format!("cpu{i} ")));
        assert_eq!(l.split(' ').count(), 11);
    }
    let names: Vec<&str> = lines[NR_CPUS + 1..]
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    let linux = sample("proc-stat.txt");
    let linux_names: Vec<&str> = linux
        .lines()
        .map(|l| l.split(' ').next().unwrap())
        .filter(|n| !n.starts_with("cpu"))
        .collect();
    assert_eq!(names, linux_names);
    assert!(st.contains("\nprocs_blocked 0\n"));
    assert_eq!(
        linux.lines().next().unwrap().split(' ').count(),
        lines[0].split(' ').count()
    );
    // cpuinfo: one block per hart.
    let ci = read(&e, &fs, "/proc/cpuinfo").unwrap();
    assert_eq!(ci.matches("processor\t: ").count(), NR_CPUS);
    assert!(ci.starts_with("processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc"));
    assert!(ci.contains("\nmmu\t\t: sv48\n"));
    // /proc/sys/kernel.
    assert_eq!(read(&e, &fs, "/proc/sys/kernel/ostype").unwrap(), "Linux\n");
    assert_eq!(
        read(&e, &fs, "/proc/sys/kernel/osrelease").unwrap(),
        format!("{}\n", kernel::syscall::info::UTSNAME[2])
    );
    assert_eq!(read(&e, &fs, "/proc/sys/kernel/tainted").unwrap(), "0\n");
    assert_eq!(
        read(&e, &fs, "/proc/sys/kernel/core_pattern").unwrap(),
        "core\n"
    );
    assert_eq!(
        read(&e, &fs, "/proc/sys/vm/max_map_count").unwrap(),
        "65530\n"
    );
    assert!(ls(&e, &fs, "/proc/sys/kernel")
        .unwrap()
        .contains(&"pid_max".to_string()));
}

#[test]
fn pid_max_is_written_with_linux_rules() {
    let e = env();
    let (init, ..) = three(&e);
    let fs = init.fs().unwrap();
    assert_eq!(
        read(&e, &fs, "/proc/sys/kernel/pid_max").unwrap(),
        "32768\n"
    );
    let path = b"/proc/sys/kernel/pid_max";
    let w = |data: &[u8]| {
        let fd = fs
            .openat(&e.cpu, AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            .unwrap();
        let r = fs.write(&e.cpu, fd, data);
        fs.close(fd).unwrap();
        r
    };
    assert_eq!(w(b"4096\n"), Ok(5));
    assert_eq!(read(&e, &fs, "/proc/sys/kernel/pid_max").unwrap(), "4096\n");
    assert_eq!(
        e.k.tasks.pid_max.load(std::sync::atomic::Ordering::Relaxed),
        4096
    );
    // Below pid_max_min (301), above PID_MAX_LIMIT, not a number: EINVAL.
    assert_eq!(w(b"300"), Err(EINVAL));
    assert_eq!(w(b"4194305"), Err(EINVAL));
    assert_eq!(w(b"abc"), Err(EINVAL));
    assert_eq!(w(b"12x"), Err(EINVAL));
    assert_eq!(w(b"  \n"), Err(EINVAL));
    // One number is taken; the rest is left (the count says so).
    assert_eq!(w(b" 5000 junk"), Ok(6));
    assert_eq!(read(&e, &fs, "/proc/sys/kernel/pid_max").unwrap(), "5000\n");
    // A second write on the same open file (position 5) is ignored.
    let fd = fs.openat(&e.cpu, AT_FDCWD, path, O_WRONLY, 0).unwrap();
    assert_eq!(fs.write(&e.cpu, fd, b"6000\n"), Ok(5));
    assert_eq!(fs.write(&e.cpu, fd, b"7000\n"), Ok(5));
    fs.close(fd).unwrap();
    assert_eq!(read(&e, &fs, "/proc/sys/kernel/pid_max").unwrap(), "6000\n");
    // The other files cannot be opened for writing.
    for p in ["/proc/sys/kernel/ostype", "/proc/1/stat", "/proc/uptime"] {
        assert_eq!(
            fs.openat(&e.cpu, AT_FDCWD, p.as_bytes(), O_WRONLY, 0),
            Err(EACCES),
            "{p}"
        );
    }
    // stat shows the writable mode.
    let st = fs.fstatat(AT_FDCWD, path, 0).unwrap();
    assert_eq!(st.mode & 0o777, 0o644);
}

#[test]
fn sysinfo_and_affinity() {
    let e = env();
    let (_init, p5, _p9, t, rw) = three(&e);
    assert_eq!(call(&e, &p5, SYSINFO, &[rw]), 0);
    let m = p5.mm();
    let mut b = [0u8; 112];
    mm::uaccess::copy_from_user(&e.cpu, &m, &mut b, rw as usize).unwrap();
    let long = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    assert_eq!(long(32), e.k.mem.managed_pages() as u64 * 4096, "totalram");
    assert!(long(40) <= long(32), "freeram");
    assert_eq!(u16::from_le_bytes([b[80], b[81]]), 4, "procs: tasks");
    assert_eq!(
        u32::from_le_bytes(b[104..108].try_into().unwrap()),
        1,
        "mem_unit"
    );
    assert_eq!(call(&e, &p5, SYSINFO, &[1]), err(EFAULT));
    // sched_getaffinity: every CPU; the size of a cpumask.
    assert_eq!(call(&e, &p5, SCHED_GETAFFINITY, &[0, 128, rw]), 8);
    mm::uaccess::copy_from_user(&e.cpu, &m, &mut b[..8], rw as usize).unwrap();
    assert_eq!(u64::from_le_bytes(b[..8].try_into().unwrap()), 0b11);
    assert_eq!(call(&e, &p5, SCHED_GETAFFINITY, &[0, 4, rw]), err(EINVAL));
    assert_eq!(call(&e, &p5, SCHED_GETAFFINITY, &[0, 12, rw]), err(EINVAL));
    assert_eq!(call(&e, &p5, SCHED_GETAFFINITY, &[4242, 8, rw]), err(ESRCH));
    assert_eq!(call(&e, &p5, SCHED_GETAFFINITY, &[0, 8, 1]), err(EFAULT));
    // sched_setaffinity: a mask without an online CPU is EINVAL.
    mm::uaccess::copy_to_user(&e.cpu, &m, rw as usize, &0b100u64.to_le_bytes()).unwrap();
    assert_eq!(call(&e, &p5, SCHED_SETAFFINITY, &[0, 8, rw]), err(EINVAL));
    mm::uaccess::copy_to_user(&e.cpu, &m, rw as usize, &0b110u64.to_le_bytes()).unwrap();
    let tid = t.pid() as u64;
    assert_eq!(call(&e, &p5, SCHED_SETAFFINITY, &[tid, 8, rw]), 0);
    assert_eq!(call(&e, &p5, SCHED_GETAFFINITY, &[tid, 8, rw + 8]), 8);
    mm::uaccess::copy_from_user(&e.cpu, &m, &mut b[..8], rw as usize + 8).unwrap();
    assert_eq!(u64::from_le_bytes(b[..8].try_into().unwrap()), 0b10);
    let fs = p5.fs().unwrap();
    let st = read(&e, &fs, &format!("/proc/5/task/{tid}/status")).unwrap();
    assert!(
        st.contains("\nCpus_allowed:\t2\nCpus_allowed_list:\t1\n"),
        "{st}"
    );
    // The caller's own mask is unchanged.
    assert_eq!(call(&e, &p5, SCHED_GETAFFINITY, &[0, 8, rw]), 8);
    mm::uaccess::copy_from_user(&e.cpu, &m, &mut b[..8], rw as usize).unwrap();
    assert_eq!(u64::from_le_bytes(b[..8].try_into().unwrap()), 0b11);
}

#[test]
fn cpumask_formats() {
    use kernel::procfs::{cpumask_hex, cpumask_list};
    assert_eq!(cpumask_hex(0b11, 2), "3");
    assert_eq!(cpumask_hex(0xff, 8), "ff");
    assert_eq!(cpumask_hex(0x1, 8), "01");
    assert_eq!(cpumask_hex(u64::MAX, 64), "ffffffff,ffffffff");
    assert_eq!(cpumask_hex(1, 40), "00,00000001");
    assert_eq!(cpumask_list(0b1011_1101, 8), "0,2-5,7");
    assert_eq!(cpumask_list(0b11, 2), "0-1");
    assert_eq!(cpumask_list(1, 1), "0");
}

#[test]
fn sys_cpu_masks() {
    let e = env();
    let (init, ..) = three(&e);
    let fs = init.fs().unwrap();
    for f in ["online", "possible", "present"] {
        let p = format!("/sys/devices/system/cpu/{f}");
        assert_eq!(read(&e, &fs, &p).unwrap(), "0-1\n", "{p}");
    }
    assert_eq!(
        read(&e, &fs, "/sys/devices/system/cpu/offline").unwrap(),
        "\n"
    );
    assert_eq!(
        ls(&e, &fs, "/sys/devices/system/cpu").unwrap(),
        ["kernel_max", "offline", "online", "possible", "present"]
    );
    assert_eq!(ls(&e, &fs, "/sys").unwrap(), ["devices"]);
    // A directory of /sys as the working directory: its path, and `..`
    // of /sys is the root.
    fs.chdir(b"/sys/devices/system").unwrap();
    assert_eq!(fs.getcwd().unwrap(), b"/sys/devices/system");
    assert_eq!(read(&e, &fs, "cpu/online").unwrap(), "0-1\n");
    fs.chdir(b"../..").unwrap();
    assert_eq!(fs.getcwd().unwrap(), b"/sys");
    fs.chdir(b"..").unwrap();
    assert_eq!(fs.getcwd().unwrap(), b"/");
    assert_eq!(
        fs.openat(
            &e.cpu,
            AT_FDCWD,
            b"/sys/devices/system/cpu/online",
            O_WRONLY,
            0
        ),
        Err(EACCES)
    );
    assert_eq!(fs.mkdirat(AT_FDCWD, b"/sys", 0o755), Err(EEXIST));
    assert_eq!(read(&e, &fs, "/sys/nothing"), Err(ENOENT));
}

#[test]
fn sysctl_integers_parse_as_linux() {
    use kernel::procfs::dointvec_write as w;
    assert_eq!(w(0, b"4096\n"), Ok(Some((5, 4096))));
    assert_eq!(w(0, b"0x1000"), Ok(Some((6, 4096))));
    assert_eq!(w(0, b"010 "), Ok(Some((4, 8))));
    assert_eq!(w(0, b"-5\t\n"), Ok(Some((4, -5))));
    assert_eq!(w(0, b"\x0b 7 8"), Ok(Some((4, 7))));
    assert_eq!(w(0, b"-2147483648"), Ok(Some((11, i32::MIN))));
    assert_eq!(w(3, b"junk"), Ok(None));
    for bad in [
        &b""[..],
        b" \n",
        b"+5",
        b"-",
        b"5\r",
        b"5\0",
        b"09",
        b"0x",
        b"2147483648",
        b"-2147483649",
        b"99999999999999999999999",
        b"000000000000000000001",
    ] {
        assert_eq!(w(0, bad), Err(EINVAL), "{bad:?}");
    }
}

/// A listing of /proc resumes at the next pid when a process it already
/// passed goes away (positions are ids, as Linux's `TGID_OFFSET + tgid`).
#[test]
fn proc_listing_resumes_by_pid() {
    let e = env();
    let (init, ..) = three(&e);
    let (p20, _) = process(&e, 20, 1, b"twenty");
    let fs = init.fs().unwrap();
    let fd = fs
        .openat(&e.cpu, AT_FDCWD, b"/proc", O_RDONLY | O_DIRECTORY, 0)
        .unwrap();
    // Read up to pid 5 (small buffers: a few records a call).
    let mut seen = Vec::new();
    while !seen.contains(&"5".to_string()) {
        let b = fs.getdents64(fd, 64).unwrap();
        assert!(!b.is_empty());
        let mut at = 0;
        while at < b.len() {
            let reclen = u16::from_le_bytes([b[at + 16], b[at + 17]]) as usize;
            let name = &b[at + 19..at + reclen];
            let n = name.iter().position(|&c| c == 0).unwrap();
            seen.push(String::from_utf8(name[..n].to_vec()).unwrap());
            at += reclen;
        }
    }
    // Pid 1 leaves the table (as if reaped): the rest is 9 and 20, once.
    e.k.tasks.lock().pids.remove(&1);
    let mut rest = Vec::new();
    loop {
        let b = fs.getdents64(fd, 4096).unwrap();
        if b.is_empty() {
            break;
        }
        let mut at = 0;
        while at < b.len() {
            let reclen = u16::from_le_bytes([b[at + 16], b[at + 17]]) as usize;
            let name = &b[at + 19..at + reclen];
            let n = name.iter().position(|&c| c == 0).unwrap();
            rest.push(String::from_utf8(name[..n].to_vec()).unwrap());
            at += reclen;
        }
    }
    let tail: Vec<&String> = seen.iter().chain(&rest).skip_while(|n| *n != "5").collect();
    assert_eq!(tail, ["5", "9", "20"], "{seen:?} {rest:?}");
    e.k.tasks.lock().pids.insert(1, init.clone());
    drop(p20);
}
