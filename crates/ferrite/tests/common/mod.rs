//! What the ferrite test binaries that run user programs share: the
//! workspace root and building `user/` (once per test binary).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// Build the user programs, once per test binary; panics with the build's
/// output when the toolchain cannot be installed or the build fails.
pub fn build() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let result = BUILT.get_or_init(|| {
        let root = root();
        let steps: [(&str, &[&str]); 2] = [
            ("bash", &["scripts/user-deps.sh"]),
            ("make", &["-s", "-C", "user"]),
        ];
        for (prog, args) in steps {
            let mut cmd = Command::new(prog);
            // A host CC or CFLAGS (as set for C build scripts) must not leak
            // into the cross build; FERRITE_USER_CC names another riscv64
            // cross compiler on purpose.
            cmd.env_remove("CC").env_remove("CFLAGS");
            if let Some(cc) = std::env::var_os("FERRITE_USER_CC") {
                cmd.env("CC", cc);
            }
            let out = cmd
                .args(args)
                .current_dir(&root)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("{prog} {args:?}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{prog} {args:?} failed ({}):\n{}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("building user/ failed: {e}");
    }
}

/// What a command did.
pub struct Run {
    /// The command, for messages.
    pub what: String,
    pub stdout: String,
    pub stderr: String,
    /// The exit status as a shell reports it: the code, or 128 + the signal.
    pub status: i32,
    /// The exit code, None when a signal ended it.
    pub code: Option<i32>,
    /// How long it ran.
    pub secs: f64,
}

/// A host exit status as a shell reports it.
pub fn shell_status(s: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        (None, None) => -1,
    }
}

/// Run `cmd` (in `dir` if given) with no stdin, capturing stdout and
/// stderr on threads; kill it and panic after `timeout`. `what` names it
/// in messages.
pub fn run_command(
    mut cmd: Command,
    dir: Option<&Path>,
    what: String,
    timeout: std::time::Duration,
) -> Run {
    use std::io::Read;
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let start = std::time::Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            r.read_to_end(&mut v).map(|_| v)
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("stdout")));
    let err = reader(Box::new(child.stderr.take().expect("stderr")));
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {timeout:?}; killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let secs = start.elapsed().as_secs_f64();
    let text = |h: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| {
        String::from_utf8_lossy(&h.join().expect("reader").expect("read")).into_owned()
    };
    Run {
        stdout: text(out),
        stderr: text(err),
        status: shell_status(status),
        code: status.code(),
        what,
        secs,
    }
}
