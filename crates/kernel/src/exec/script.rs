//! `#!` scripts (Linux's fs/binfmt_script.c `load_script`, as Linux ≥ 5.0
//! parses the line).
//!
//! The kernel reads the first [`BINPRM_BUF_SIZE`] (256) bytes of the file
//! (zero-padded when the file is shorter). A file starting with `#!` is a
//! script: the rest of the first line names the interpreter and at most
//! one argument. [`parse`] returns what Linux finds:
//!
//! - the line ends at the first newline, if one comes before the first
//!   NUL in the buffer; trailing blanks (spaces and tabs) are dropped;
//! - without such a newline the line may be cut short: the interpreter's
//!   path must still be followed by a blank or a NUL inside the buffer,
//!   else the path could be truncated and the exec fails with `ENOEXEC`
//!   (a line of blanks only is `ENOEXEC` too); the argument may be cut at
//!   the buffer's end, as Linux allows (the interpreter can re-read it);
//! - leading blanks are skipped; the path runs to the next blank or NUL;
//!   everything after the blanks that follow it, to the end of the line
//!   (or the first NUL), is the one argument, inner blanks included;
//! - no path at all (`#!` then blanks or a newline) is `ENOEXEC`; a NUL
//!   where the path would start gives the empty path (the open then fails
//!   with `ENOENT`), and a blank before the end of a short file without a
//!   newline an empty argument, as in Linux.
//!
//! The core's `execve` then execs the interpreter with the arguments
//! [`argv`] builds: the interpreter's path, the argument if any, the
//! script's path as given to `execve` (`bprm->filename`; `/dev/fd/N/...`
//! for an `execveat` by descriptor), then the original `argv[1..]`.
//! `AT_EXECFN` stays the script's path. An interpreter that is itself a
//! script is allowed up to [`MAX_INTERP_DEPTH`] levels (`ELOOP` beyond),
//! and a script reached through a close-on-exec descriptor
//! (`BINPRM_FLAGS_PATH_INACCESSIBLE`) is `ENOENT`: both are the caller's
//! to apply.
//!
//! Where ferrite differs: nothing in the parsing; it is a pure function
//! over the bytes (no file, no `linux_binprm`), and the strings are host
//! vectors of at most 256 bytes.

use super::error::ExecError;

/// `BINPRM_BUF_SIZE`: the bytes of the file the kernel looks at.
pub const BINPRM_BUF_SIZE: usize = 256;

/// How many binary-format rewrites (script to interpreter) one exec may
/// go through before `ELOOP` (`exec_binprm`'s depth limit).
pub const MAX_INTERP_DEPTH: usize = 5;

fn blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// The C string starting at `at` in `buf` (to the first NUL).
fn c_str(buf: &[u8], at: usize) -> Vec<u8> {
    let rest = &buf[at..];
    let n = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
    rest[..n].to_vec()
}

/// The interpreter and optional argument of a `#!` line. None when the
/// bytes do not start with `#!` (not a script: the next format, or
/// `ENOEXEC`); `Some(Err(_))` (`ENOEXEC`) for a line Linux refuses.
/// `first` is the file's beginning: bytes past 256 are ignored, missing
/// ones read as NUL.
#[allow(clippy::type_complexity)]
pub fn parse(first: &[u8]) -> Option<Result<(Vec<u8>, Option<Vec<u8>>), ExecError>> {
    let mut buf = [0u8; BINPRM_BUF_SIZE];
    let n = first.len().min(BINPRM_BUF_SIZE);
    buf[..n].copy_from_slice(&first[..n]);
    if buf[0] != b'#' || buf[1] != b'!' {
        return None;
    }
    let last = BINPRM_BUF_SIZE - 1;
    // The newline, looked for only before the first NUL.
    let newline = buf
        .iter()
        .take_while(|&&c| c != 0)
        .position(|&c| c == b'\n');
    let mut end = match newline {
        Some(i) => i,
        None => {
            let Some(start) = (2..=last).find(|&i| !blank(buf[i])) else {
                return Some(Err(ExecError::BadScript("only blanks after #!")));
            };
            if !(start..=last).any(|i| blank(buf[i]) || buf[i] == 0) {
                return Some(Err(ExecError::BadScript(
                    "interpreter path longer than the 256-byte line",
                )));
            }
            last
        }
    };
    // Drop trailing blanks (buf[1] is '!', so this stops by index 2).
    while blank(buf[end - 1]) {
        end -= 1;
    }
    let name = match (2..=end).find(|&i| !blank(buf[i])) {
        Some(i) if i != end => i,
        _ => return Some(Err(ExecError::BadScript("no interpreter after #!"))),
    };
    let sep = (name..=end).find(|&i| blank(buf[i]) || buf[i] == 0);
    let arg = match sep {
        Some(s) if buf[s] != 0 => (s..=end).find(|&i| !blank(buf[i])),
        _ => None,
    };
    buf[end] = 0;
    if let (Some(_), Some(s)) = (arg, sep) {
        buf[s] = 0;
    }
    Some(Ok((c_str(&buf, name), arg.map(|a| c_str(&buf, a)))))
}

/// The interpreter's `argv`: `interp`, `arg` if any, the script's path
/// `script`, then `argv[1..]` (an empty `argv` contributes nothing, as
/// Linux's empty `argv[0]` is removed).
pub fn argv(interp: &[u8], arg: Option<&[u8]>, script: &[u8], argv: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut v = Vec::with_capacity(argv.len() + 2);
    v.push(interp.to_vec());
    if let Some(a) = arg {
        v.push(a.to_vec());
    }
    v.push(script.to_vec());
    v.extend(argv.iter().skip(1).map(|a| a.to_vec()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::ENOEXEC;

    type Parsed = (Vec<u8>, Option<Vec<u8>>);

    fn ok(b: &[u8]) -> Parsed {
        parse(b).expect("a script").expect("accepted")
    }

    fn p(i: &str, a: Option<&str>) -> Parsed {
        (i.as_bytes().to_vec(), a.map(|a| a.as_bytes().to_vec()))
    }

    fn refused(b: &[u8]) -> ExecError {
        let e = parse(b).expect("a script").expect_err("refused");
        assert_eq!(e.errno(), ENOEXEC);
        e
    }

    #[test]
    fn not_a_script() {
        assert!(parse(b"").is_none());
        assert!(parse(b"#").is_none());
        assert!(parse(b"\x7fELF").is_none());
        assert!(parse(b" #!/bin/sh\n").is_none());
        assert!(parse(b"!#/bin/sh\n").is_none());
    }

    #[test]
    fn plain_lines() {
        assert_eq!(ok(b"#!/bin/sh\necho hi\n"), p("/bin/sh", None));
        assert_eq!(ok(b"#! /bin/sh\n"), p("/bin/sh", None));
        assert_eq!(ok(b"#!\t /bin/sh \t \n"), p("/bin/sh", None));
        assert_eq!(ok(b"#!/bin/sh -e\n"), p("/bin/sh", Some("-e")));
        assert_eq!(ok(b"#!/bin/sh   -e  \n"), p("/bin/sh", Some("-e")));
        // One argument, inner blanks kept.
        assert_eq!(
            ok(b"#!/usr/bin/env python3 -u -B\n"),
            p("/usr/bin/env", Some("python3 -u -B"))
        );
        assert_eq!(ok(b"#!/bin/sh\t-x\ty\n"), p("/bin/sh", Some("-x\ty")));
        // A relative interpreter is the file's business.
        assert_eq!(ok(b"#!sh\n"), p("sh", None));
        // CR is not a blank: it stays in the argument (as Linux keeps it).
        assert_eq!(ok(b"#!/bin/sh -e\r\n"), p("/bin/sh", Some("-e\r")));
        assert_eq!(ok(b"#!/bin/sh\r\n"), p("/bin/sh\r", None));
    }

    #[test]
    fn without_a_newline() {
        // The file ends: zero padding terminates the path.
        assert_eq!(ok(b"#!/bin/sh"), p("/bin/sh", None));
        assert_eq!(ok(b"#!/bin/sh -x"), p("/bin/sh", Some("-x")));
        // A NUL before the newline hides it; the NUL ends the path.
        assert_eq!(ok(b"#!/bin/sh\0 -e\n"), p("/bin/sh", None));
        assert_eq!(ok(b"#!/bin/sh -e\0junk\n"), p("/bin/sh", Some("-e")));
    }

    #[test]
    fn long_lines() {
        // The argument is cut at the buffer's end.
        let mut l = b"#!/bin/sh ".to_vec();
        l.extend(std::iter::repeat_n(b'a', 400));
        l.push(b'\n');
        let (i, a) = ok(&l);
        assert_eq!(i, b"/bin/sh".to_vec());
        assert_eq!(a, Some(vec![b'a'; 255 - 10]));
        // A path filling the buffer may be truncated: refused.
        let mut l = b"#!/".to_vec();
        l.extend(std::iter::repeat_n(b'p', 300));
        l.extend_from_slice(b" -x\n");
        let e = refused(&l);
        assert!(e.to_string().contains("longer"), "{e}");
        // A path that ends exactly at the last byte is cut too.
        let mut l = b"#!".to_vec();
        l.extend(std::iter::repeat_n(b'q', 254));
        assert_eq!(l.len(), 256);
        refused(&l);
        // One byte shorter: the padding NUL ends it.
        l.pop();
        assert_eq!(ok(&l).0, vec![b'q'; 253]);
        // Leading blanks then a long path with a blank inside the buffer.
        let mut l = b"#!    /x".to_vec();
        l.push(b' ');
        l.extend(std::iter::repeat_n(b'z', 300));
        assert_eq!(ok(&l).0, b"/x".to_vec());
    }

    #[test]
    fn no_interpreter() {
        refused(b"#!\n");
        refused(b"#!   \n");
        refused(b"#!\t\n");
        // A NUL where the path would start: Linux takes the empty path
        // (and its open fails with ENOENT).
        assert_eq!(ok(b"#!"), p("", None));
        assert_eq!(ok(&[b'#', b'!', b' ', 0, b'x']), p("", None));
        // Likewise a blank then the end of a short file is an empty
        // argument.
        assert_eq!(ok(b"#!/bin/sh "), p("/bin/sh", Some("")));
        let mut blanks = b"#!".to_vec();
        blanks.extend(std::iter::repeat_n(b' ', 300));
        let e = refused(&blanks);
        assert!(e.to_string().contains("blanks"), "{e}");
    }

    #[test]
    fn never_panics_on_any_prefix() {
        let mut seed = 0x1234_5678_u32;
        for _ in 0..4000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = (seed % 300) as usize;
            let mut b: Vec<u8> = (0..n)
                .map(|i| {
                    let x = seed.rotate_left(i as u32) as u8;
                    [b' ', b'\t', b'\n', 0, b'a', b'/', x][x as usize % 7]
                })
                .collect();
            if b.len() >= 2 {
                b[0] = b'#';
                b[1] = b'!';
            }
            if let Some(Ok((i, a))) = parse(&b) {
                assert!(i.len() < 256);
                assert!(!i.contains(&0) && !i.contains(&b'\n'));
                assert!(a.is_none_or(|a| !a.contains(&0) && !a.contains(&b'\n')));
            }
        }
    }

    #[test]
    fn argv_rewrite() {
        let v = argv(b"/bin/sh", Some(b"-e"), b"./s.sh", &[b"s.sh", b"a", b"b"]);
        assert_eq!(
            v,
            vec![
                b"/bin/sh".to_vec(),
                b"-e".to_vec(),
                b"./s.sh".to_vec(),
                b"a".to_vec(),
                b"b".to_vec()
            ]
        );
        let v = argv(b"/bin/sh", None, b"/x", &[]);
        assert_eq!(v, vec![b"/bin/sh".to_vec(), b"/x".to_vec()]);
        let v = argv(b"/bin/sh", None, b"/x", &[b"whatever"]);
        assert_eq!(v, vec![b"/bin/sh".to_vec(), b"/x".to_vec()]);
    }
}
