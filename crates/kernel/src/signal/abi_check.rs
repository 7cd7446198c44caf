//! The signal ABI checked against the C library and qemu-riscv64: builds
//! user/sigframe_layout.c with the riscv64 cross compiler, runs it under
//! qemu-riscv64 and compares every size, offset and constant it prints
//! with what this module's Rust code lays out, and replays its
//! sigaltstack(2) sequence through [`SigAltStack`]. Skipped (with a
//! message) when the cross compiler or qemu-riscv64 is missing; the
//! numbers are also hard-coded in the other tests of the module.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::frame::*;
use super::siginfo::*;
use super::*;

/// The C program's output, or None when the tools are missing.
fn run_c_program() -> Option<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../user/sigframe_layout.c");
    let cc = std::env::var("FERRITE_USER_CC").unwrap_or_else(|_| "riscv64-linux-gnu-gcc".into());
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("sigframe_layout");
    let built = Command::new(&cc)
        .args([
            "-O2",
            "-static",
            "-Wall",
            "-Werror",
            "-march=rv64gc",
            "-mabi=lp64d",
            "-o",
        ])
        .arg(&exe)
        .arg(&src)
        .status();
    match built {
        Ok(s) => assert!(s.success(), "{cc} failed on {}", src.display()),
        Err(e) => {
            eprintln!("skipped: cannot run {cc}: {e}");
            return None;
        }
    }
    let out = match Command::new("qemu-riscv64").arg(&exe).output() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("skipped: cannot run qemu-riscv64: {e}");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "sigframe_layout failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Where `needle` is in `hay` (exactly once).
fn find(hay: &[u8], needle: &[u8]) -> usize {
    let at: Vec<usize> = (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .collect();
    assert_eq!(at.len(), 1, "marker {needle:02x?}");
    at[0]
}

/// The offset of a union member as [`SigInfo::to_user`] writes it: where
/// a marker value put through the member lands.
fn si_off(info: SigInfo, marker: &[u8]) -> usize {
    find(&info.to_user(), marker)
}

/// The Rust side of every number the C program prints.
fn rust_numbers() -> BTreeMap<String, i64> {
    let m4 = 0x5152_5354u32;
    let m8 = 0x6162_6364_6566_6768u64;
    let (b4, b8) = (m4.to_le_bytes(), m8.to_le_bytes());
    let kill = |pid, uid| SigInfo::user(SIGUSR1, pid, uid);
    let chld = |status, utime, stime| SigInfo::chld(CLD_EXITED, 0, 0, status, utime, stime);
    let timer = |tid, overrun| SigInfo::timer(SIGALRM, tid, overrun, 0);
    let poll = |band, fd| SigInfo::new(SIGIO, 0, POLL_IN, SigFields::Poll { band, fd });
    let sys = |call_addr, syscall, arch| {
        SigInfo::new(
            SIGSYS,
            0,
            SYS_SECCOMP,
            SigFields::Sys {
                call_addr,
                syscall,
                arch,
            },
        )
    };
    let hdr = SigInfo {
        signo: 0x11,
        errno: 0x22,
        code: 0x33,
        sifields: [0; SIFIELDS_SIZE],
    }
    .to_user();
    let st = |s: StackT, marker: &[u8]| find(&s.to_bytes(), marker);
    let m = m4 as i32;
    let n: Vec<(&str, i64)> = vec![
        ("sizeof siginfo_t", SI_MAX_SIZE as i64),
        (
            "offsetof siginfo_t.si_signo",
            find(&hdr, &[0x11, 0, 0, 0]) as i64,
        ),
        (
            "offsetof siginfo_t.si_errno",
            find(&hdr, &[0x22, 0, 0, 0]) as i64,
        ),
        (
            "offsetof siginfo_t.si_code",
            find(&hdr, &[0x33, 0, 0, 0]) as i64,
        ),
        ("offsetof siginfo_t.si_pid", si_off(kill(m, 0), &b4) as i64),
        ("offsetof siginfo_t.si_uid", si_off(kill(0, m4), &b4) as i64),
        (
            "offsetof siginfo_t.si_value",
            si_off(SigInfo::rt(SIGUSR1, SI_QUEUE, 0, 0, m8), &b8) as i64,
        ),
        (
            "offsetof siginfo_t.si_status",
            si_off(chld(m, 0, 0), &b4) as i64,
        ),
        (
            "offsetof siginfo_t.si_utime",
            si_off(chld(0, m8 as i64, 0), &b8) as i64,
        ),
        (
            "offsetof siginfo_t.si_stime",
            si_off(chld(0, 0, m8 as i64), &b8) as i64,
        ),
        (
            "offsetof siginfo_t.si_timerid",
            si_off(timer(m, 0), &b4) as i64,
        ),
        (
            "offsetof siginfo_t.si_overrun",
            si_off(timer(0, m), &b4) as i64,
        ),
        (
            "offsetof siginfo_t.si_addr",
            si_off(SigInfo::fault(SIGSEGV, 1, m8), &b8) as i64,
        ),
        (
            "offsetof siginfo_t.si_band",
            si_off(poll(m8 as i64, 0), &b8) as i64,
        ),
        ("offsetof siginfo_t.si_fd", si_off(poll(0, m), &b4) as i64),
        (
            "offsetof siginfo_t.si_call_addr",
            si_off(sys(m8, 0, 0), &b8) as i64,
        ),
        (
            "offsetof siginfo_t.si_syscall",
            si_off(sys(0, m, 0), &b4) as i64,
        ),
        (
            "offsetof siginfo_t.si_arch",
            si_off(sys(0, 0, m4), &b4) as i64,
        ),
        ("sizeof stack_t", STACK_T_SIZE as i64),
        (
            "offsetof stack_t.ss_sp",
            st(
                StackT {
                    ss_sp: m8,
                    ..StackT::default()
                },
                &b8,
            ) as i64,
        ),
        (
            "offsetof stack_t.ss_flags",
            st(
                StackT {
                    ss_flags: m,
                    ..StackT::default()
                },
                &b4,
            ) as i64,
        ),
        (
            "offsetof stack_t.ss_size",
            st(
                StackT {
                    ss_size: m8,
                    ..StackT::default()
                },
                &b8,
            ) as i64,
        ),
        ("sizeof ucontext_t", UCONTEXT_SIZE as i64),
        ("offsetof ucontext_t.__uc_flags", UC_FLAGS as i64),
        ("offsetof ucontext_t.uc_link", UC_LINK as i64),
        ("offsetof ucontext_t.uc_stack", UC_STACK as i64),
        ("offsetof ucontext_t.uc_sigmask", UC_SIGMASK as i64),
        ("offsetof ucontext_t.uc_mcontext", UC_MCONTEXT as i64),
        ("sizeof mcontext_t", SIGCONTEXT_SIZE as i64),
        ("offsetof mcontext_t.__gregs", SC_REGS as i64),
        ("offsetof mcontext_t.__fpregs", SC_FPREGS as i64),
        ("offsetof mcontext_t.__fpregs.__d.__f", SC_FPREGS as i64),
        (
            "offsetof mcontext_t.__fpregs.__d.__fcsr",
            (SC_FPREGS + FP_D_FCSR) as i64,
        ),
        ("sizeof struct k_ucontext", UCONTEXT_SIZE as i64),
        ("offsetof struct k_ucontext.uc_flags", UC_FLAGS as i64),
        ("offsetof struct k_ucontext.uc_link", UC_LINK as i64),
        ("offsetof struct k_ucontext.uc_stack", UC_STACK as i64),
        ("offsetof struct k_ucontext.uc_sigmask", UC_SIGMASK as i64),
        ("offsetof struct k_ucontext.uc_mcontext", UC_MCONTEXT as i64),
        ("sizeof struct k_sigcontext", SIGCONTEXT_SIZE as i64),
        ("offsetof struct k_sigcontext.sc_regs", SC_REGS as i64),
        ("offsetof struct k_sigcontext.sc_fpregs", SC_FPREGS as i64),
        ("sizeof union __riscv_fp_state", FP_STATE_SIZE as i64),
        ("offsetof union __riscv_fp_state.d.f", 0),
        ("offsetof union __riscv_fp_state.d.fcsr", FP_D_FCSR as i64),
        (
            "offsetof union __riscv_fp_state.q.reserved",
            FP_EXT_RESERVED as i64,
        ),
        ("sizeof struct extra_ext_header", FP_STATE_SIZE as i64),
        (
            "offsetof struct extra_ext_header.reserved",
            FP_EXT_RESERVED as i64,
        ),
        ("offsetof struct extra_ext_header.hdr", FP_EXT_HDR as i64),
        ("sizeof struct rt_sigframe", RT_SIGFRAME_SIZE as i64),
        ("offsetof struct rt_sigframe.uc", RT_SIGFRAME_UC as i64),
        ("alignof struct rt_sigframe", 16),
        ("const SIGSTKSZ", SIGSTKSZ as i64),
        ("const SS_ONSTACK", SS_ONSTACK as i64),
        ("const SS_DISABLE", SS_DISABLE as i64),
        ("const SA_NOCLDSTOP", SA_NOCLDSTOP as i64),
        ("const SA_NOCLDWAIT", SA_NOCLDWAIT as i64),
        ("const SA_SIGINFO", SA_SIGINFO as i64),
        ("const SA_ONSTACK", SA_ONSTACK as i64),
        ("const SA_RESTART", SA_RESTART as i64),
        ("const SA_NODEFER", SA_NODEFER as i64),
        ("const SA_RESETHAND", SA_RESETHAND as i64),
        ("const SI_USER", SI_USER as i64),
        ("const SI_KERNEL", SI_KERNEL as i64),
        ("const SI_QUEUE", SI_QUEUE as i64),
        ("const SI_TIMER", SI_TIMER as i64),
        ("const SI_MESGQ", SI_MESGQ as i64),
        ("const SI_ASYNCIO", SI_ASYNCIO as i64),
        ("const SI_SIGIO", SI_SIGIO as i64),
        ("const SI_TKILL", SI_TKILL as i64),
        ("const SI_ASYNCNL", SI_ASYNCNL as i64),
        ("const SEGV_MAPERR", SEGV_MAPERR as i64),
        ("const SEGV_ACCERR", SEGV_ACCERR as i64),
        ("const BUS_ADRALN", BUS_ADRALN as i64),
        ("const BUS_ADRERR", BUS_ADRERR as i64),
        ("const BUS_OBJERR", BUS_OBJERR as i64),
        ("const ILL_ILLOPC", ILL_ILLOPC as i64),
        ("const ILL_ILLTRP", ILL_ILLTRP as i64),
        ("const FPE_INTDIV", FPE_INTDIV as i64),
        ("const TRAP_BRKPT", TRAP_BRKPT as i64),
        ("const TRAP_TRACE", TRAP_TRACE as i64),
        ("const CLD_EXITED", CLD_EXITED as i64),
        ("const CLD_KILLED", CLD_KILLED as i64),
        ("const CLD_DUMPED", CLD_DUMPED as i64),
        ("const CLD_TRAPPED", CLD_TRAPPED as i64),
        ("const CLD_STOPPED", CLD_STOPPED as i64),
        ("const CLD_CONTINUED", CLD_CONTINUED as i64),
        ("const POLL_IN", POLL_IN as i64),
        ("const SIGHUP", SIGHUP as i64),
        ("const SIGBUS", SIGBUS as i64),
        ("const SIGUSR1", SIGUSR1 as i64),
        ("const SIGCHLD", SIGCHLD as i64),
        ("const SIGCONT", SIGCONT as i64),
        ("const SIGSTOP", SIGSTOP as i64),
        ("const SIGTSTP", SIGTSTP as i64),
        ("const SIGURG", SIGURG as i64),
        ("const SIGIO", SIGIO as i64),
        ("const SIGPWR", SIGPWR as i64),
        ("const SIGSYS", SIGSYS as i64),
        ("const __SIGRTMIN", SIGRTMIN as i64),
        // glibc keeps two real-time signals for itself.
        ("const SIGRTMIN", (SIGRTMIN + 2) as i64),
        ("const SIGRTMAX", SIGRTMAX as i64),
        // The handler's a1 and a2: the ucontext follows the siginfo.
        ("uc - info", RT_SIGFRAME_UC as i64),
    ];
    let mut map: BTreeMap<String, i64> = n.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    // sc_regs: pc, then the x registers in order.
    for (name, x) in [
        ("pc", 0),
        ("ra", 1),
        ("sp", 2),
        ("a0", 10),
        ("a7", 17),
        ("t6", 31),
    ] {
        map.insert(
            format!("offsetof struct k_sigcontext.sc_regs.{name}"),
            (SC_REGS + 8 * x) as i64,
        );
    }
    map
}

/// Lines "KEY NUMBER" of the C program's output.
fn c_numbers(out: &str) -> BTreeMap<String, i64> {
    out.lines()
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

#[test]
fn c_program_numbers_match() {
    let Some(out) = run_c_program() else {
        return;
    };
    let c = c_numbers(&out);
    let rust = rust_numbers();
    let mut bad = Vec::new();
    for (k, v) in &rust {
        match c.get(k) {
            Some(cv) if cv == v => {}
            Some(cv) => bad.push(format!("{k}: C {cv}, Rust {v}")),
            None => bad.push(format!("{k}: not printed by the C program")),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // Every sizeof/offsetof/const the C program prints has a Rust twin,
    // except the member ferrite does not model and glibc's MINSIGSTKSZ
    // (sysconf-based since glibc 2.34; the kernel's is 2048).
    for k in c.keys() {
        let known = rust.contains_key(k)
            || k == "offsetof siginfo_t.si_addr_lsb"
            || k == "const MINSIGSTKSZ"
            || !(k.starts_with("sizeof") || k.starts_with("offsetof") || k.starts_with("const"));
        assert!(known, "{k} has no Rust counterpart");
    }
    // Where the registers of the interrupted code went: gregs[i] is x[i]
    // (s2..s5 = x18..x21; a0 = x10, a7 = x17), f[8] is fs0, and the mask
    // is the one before delivery.
    for line in [
        "gregs[18..21] (s2..s5) 2222222222222222 3333333333333333 4444444444444444 5555555555555555",
        "gregs[10] (a0 = the tgkill's result) 0",
        "gregs[17] (a7) 131",
        "f[8] (fs0) 1.5",
        "uc_sigmask word 0 0x1",
        "info below interrupted sp 1",
        "info 16-aligned 1",
        "uc_flags 0 uc_link (nil)",
    ] {
        assert!(out.lines().any(|l| l == line), "missing: {line}");
    }
}

/// The C program's sigaltstack(2) sequence replayed on [`SigAltStack`]:
/// the same lines come out.
#[test]
fn c_program_sigaltstack_sequence() {
    let Some(out) = run_c_program() else {
        return;
    };
    let base = 0x4_0000u64; // any address for the C program's altstack[]
    let sp = 0x7fff_0000u64; // main's sp, off the alternate stack
    let mut sas = SigAltStack::default();
    let mut lines = Vec::new();
    let res = |r: Result<StackT, Errno>, ok: &str| match r {
        Ok(_) => ok.to_string(),
        Err(ENOMEM) => "ENOMEM".into(),
        Err(EINVAL) => "EINVAL".into(),
        Err(e) => format!("errno {e}"),
    };
    let mut ss = StackT {
        ss_sp: base,
        ss_flags: 0,
        ss_size: 2047,
    };
    let r = sas.do_sigaltstack(Some(&ss), sp, MINSIGSTKSZ);
    lines.push(format!("sigaltstack size 2047: {}", res(r, "ok")));
    ss.ss_size = 2048;
    let r = sas.do_sigaltstack(Some(&ss), sp, MINSIGSTKSZ);
    lines.push(format!("sigaltstack size 2048: {}", res(r, "ok")));
    ss.ss_flags = 4;
    let r = sas.do_sigaltstack(Some(&ss), sp, MINSIGSTKSZ);
    lines.push(format!("sigaltstack flags 4: {}", res(r, "ok")));
    ss.ss_flags = SS_ONSTACK;
    let r = sas.do_sigaltstack(Some(&ss), sp, MINSIGSTKSZ);
    lines.push(format!("sigaltstack flags SS_ONSTACK: {}", res(r, "ok")));
    let old = sas.do_sigaltstack(None, sp, MINSIGSTKSZ).unwrap();
    lines.push(format!("old flags {} size {}", old.ss_flags, old.ss_size));
    ss.ss_flags = SS_DISABLE;
    ss.ss_size = 1;
    let r = sas.do_sigaltstack(Some(&ss), sp, MINSIGSTKSZ);
    lines.push(format!("sigaltstack SS_DISABLE size 1: {}", res(r, "ok")));
    let old = sas.do_sigaltstack(None, sp, MINSIGSTKSZ).unwrap();
    assert_eq!(old.ss_sp, 0);
    lines.push(format!(
        "old flags {} size {} sp (nil)",
        old.ss_flags, old.ss_size
    ));

    // The SA_ONSTACK handler: its frame is on the alternate stack, where
    // sigaltstack is EPERM and reports SS_ONSTACK; uc_stack has flags 0.
    ss = StackT {
        ss_sp: base,
        ss_flags: 0,
        ss_size: 16384,
    };
    sas.do_sigaltstack(Some(&ss), sp, MINSIGSTKSZ).unwrap();
    let frame = get_sigframe(sp, SA_ONSTACK, &sas).unwrap();
    let eperm = sas.do_sigaltstack(Some(&ss), frame, MINSIGSTKSZ) == Err(EPERM);
    let in_handler = sas.do_sigaltstack(None, frame, MINSIGSTKSZ).unwrap();
    lines.push(format!(
        "on altstack: EPERM {} flags {} uc_stack flags {}",
        eperm as i32,
        in_handler.ss_flags,
        sas.save().ss_flags
    ));

    let got: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("sigaltstack size 2047"))
        .take(lines.len())
        .collect();
    assert_eq!(got, lines);
}
