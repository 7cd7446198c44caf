//! End to end: a dynamically linked glibc program (`user/dynhello.c`,
//! built without `-static`) under `ferrite run --root ROOT`, where ROOT is
//! a sysroot made of Debian's riscv64 `ld-linux-riscv64-lp64d.so.1` and
//! `libc.so.6` (libc6-riscv64-cross, `/usr/riscv64-linux-gnu/lib`) plus the
//! program, against `qemu-riscv64 -L /usr/riscv64-linux-gnu`: the same
//! stdout and exit status. Then what qemu 7.2 cannot show (it maps no vDSO
//! for riscv64): the vDSO through glibc's `dlvsym`, /proc/1/maps naming
//! ld.so, libc and `[vdso]`, a static program with the vDSO mapped, and
//! the errors for a missing interpreter (ENOENT) and one that is not ELF
//! (ELIBBAD).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod common;
use common::{build, root, run_command, Run};

const SYSROOT: &str = "/usr/riscv64-linux-gnu";
const LD_SO: &str = "ld-linux-riscv64-lp64d.so.1";
const TIMEOUT: Duration = Duration::from_secs(120);

fn run(cmd: Command) -> Run {
    let what = format!("{cmd:?}");
    run_command(cmd, None, what, TIMEOUT)
}

/// A scratch sysroot: `lib/` with the dynamic loader (unless
/// `with_ld` is false) and libc, `bin/dynhello`. Removed on drop.
struct Root(PathBuf);

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Root {
    fn new(name: &str, with_ld: bool) -> Root {
        build();
        let dir =
            std::env::temp_dir().join(format!("ferrite-dynamic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        let lib = Path::new(SYSROOT).join("lib");
        let mut files = vec!["libc.so.6"];
        if with_ld {
            files.push(LD_SO);
        }
        for f in files {
            // A hard link when the file system allows it, else a copy.
            let (from, to) = (lib.join(f), dir.join("lib").join(f));
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).unwrap_or_else(|e| {
                    panic!("{}: {e} (install libc6-riscv64-cross)", from.display())
                });
            }
        }
        std::fs::copy(root().join("user/build/dynhello"), dir.join("bin/dynhello")).unwrap();
        Root(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn ferrite(&self, options: &[&str], prog: &str, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
        cmd.arg("run")
            .arg("--root")
            .arg(self.path())
            .args(options)
            .arg(self.path().join(prog))
            .args(args);
        run(cmd)
    }
}

fn qemu(args: &[&str]) -> Run {
    let mut cmd = Command::new("qemu-riscv64");
    cmd.args(["-L", SYSROOT])
        .arg(root().join("user/build/dynhello"))
        .args(args);
    run(cmd)
}

#[test]
fn dynhello_matches_qemu() {
    let r = Root::new("diff", true);
    let q = qemu(&[]);
    assert_eq!(q.code, Some(0), "{}: {}", q.what, q.stderr);
    assert!(q.stdout.contains("AT_BASE set: yes"), "{}", q.stdout);
    let f = r.ferrite(&[], "bin/dynhello", &[]);
    assert_eq!(f.code, Some(0), "{}: {}", f.what, f.stderr);
    assert_eq!(f.stdout, q.stdout, "{}\nstderr: {}", f.what, f.stderr);
    assert!(!f.stdout.contains(": no"), "{}", f.stdout);
}

#[test]
fn dynhello_vdso_through_glibc() {
    let r = Root::new("vdso", true);
    let f = r.ferrite(&[], "bin/dynhello", &["vdso"]);
    assert_eq!(f.code, Some(0), "{}: {}", f.what, f.stderr);
    assert_eq!(
        f.stdout,
        "vdso: linux-vdso.so.1, __vdso_rt_sigreturn@LINUX_4.15 ok\n"
    );
}

#[test]
fn dynhello_maps_show_ld_so_libc_and_vdso() {
    let r = Root::new("maps", true);
    let f = r.ferrite(&[], "bin/dynhello", &["maps"]);
    assert_eq!(f.code, Some(0), "{}: {}", f.what, f.stderr);
    assert_eq!(
        f.stdout,
        "maps: ld-linux yes, libc.so.6 yes, [vdso] 1, [vvar] 1\n"
    );
    // As the notes' maps example: the program at ELF_ET_DYN_BASE, libc
    // and ld.so by their paths in the root, [vvar] and [vdso], [stack].
    let f = r.ferrite(&["--show", "/proc/1/maps"], "bin/dynhello", &[]);
    assert_eq!(f.code, Some(0), "{}: {}", f.what, f.stderr);
    let maps = f.stdout.split("==> /proc/1/maps <==\n").nth(1).unwrap();
    let names: Vec<&str> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    for want in [
        "/bin/dynhello",
        "/lib/libc.so.6",
        "[vvar]",
        "[vdso]",
        "/lib/ld-linux-riscv64-lp64d.so.1",
        "[stack]",
    ] {
        assert!(names.contains(&want), "{want} missing:\n{maps}");
    }
    assert!(maps.starts_with("555555555000-"), "{maps}");
    let line = |name: &str| maps.lines().find(|l| l.ends_with(name)).unwrap();
    assert!(
        line(" [vdso]").contains(" r-xp 00000000 00:00 0 "),
        "{maps}"
    );
    assert!(
        line(" [vvar]").contains(" r--p 00000000 00:00 0 "),
        "{maps}"
    );
    // The order Linux gives without randomisation: libc (mapped by ld.so
    // last) lowest, then [vvar], [vdso], then ld.so right below mmap_base.
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
    assert!(at("/lib/libc.so.6") < at("[vvar]"));
    assert!(at("[vvar]") + 1 == at("[vdso]"));
    assert!(at("[vdso]") + 1 == at("/lib/ld-linux-riscv64-lp64d.so.1"));
}

#[test]
fn static_programs_get_the_vdso_too() {
    build();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrite"));
    cmd.current_dir(root())
        .args(["run", "--show", "/proc/1/maps", "user/build/hello"]);
    let f = run(cmd);
    assert_eq!(f.code, Some(0), "{}: {}", f.what, f.stderr);
    assert!(f.stdout.starts_with("hello, world\n"), "{}", f.stdout);
    assert!(f.stdout.contains(" [vdso]\n"), "{}", f.stdout);
}

#[test]
fn missing_interpreter_is_enoent() {
    let r = Root::new("nold", false);
    let f = r.ferrite(&[], "bin/dynhello", &[]);
    assert_eq!(f.code, Some(2), "{}: {}", f.what, f.stderr);
    assert_eq!(f.stderr.lines().count(), 1, "{}", f.stderr);
    assert!(
        f.stderr.contains(
            "dynamically linked (needs /lib/ld-linux-riscv64-lp64d.so.1): No such file or directory"
        ),
        "{}",
        f.stderr
    );
}

#[test]
fn interpreter_not_elf_is_elibbad() {
    let r = Root::new("badld", false);
    let ld = r.path().join("lib").join(LD_SO);
    std::fs::write(&ld, [b'x'; 200]).unwrap();
    std::fs::set_permissions(&ld, std::fs::Permissions::from_mode(0o755)).unwrap();
    let f = r.ferrite(&[], "bin/dynhello", &[]);
    assert_eq!(f.code, Some(2), "{}: {}", f.what, f.stderr);
    assert!(
        f.stderr
            .contains("bad interpreter /lib/ld-linux-riscv64-lp64d.so.1: not an ELF file"),
        "{}",
        f.stderr
    );
}
