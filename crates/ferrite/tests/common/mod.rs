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
