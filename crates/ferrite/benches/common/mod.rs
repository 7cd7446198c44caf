//! What the whole-run benchmarks share (`deterministic`, `procs`,
//! `scaling`, `wakeup`): the workspace root, running a command to its end
//! with its host time, medians, and finding a program on PATH.

#![allow(dead_code)] // each bench uses the part it needs

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The workspace root (the user programs are under `user/build/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Run `cmd` from the workspace root to its end: what it printed and the
/// host seconds it took, or an error with the command's status and the
/// first line of its stderr.
pub fn run_timed(cmd: &mut Command) -> Result<(Output, f64), String> {
    let t = Instant::now();
    let out = cmd
        .current_dir(root())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "failed ({}): {}",
            out.status,
            err.lines().next().unwrap_or("")
        ));
    }
    Ok((out, secs))
}

/// The median of `v` (the upper one of an even count).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The path of program `name` on PATH, if it is there.
pub fn which(name: &str) -> Option<String> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    })
}
