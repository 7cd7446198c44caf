//! Printing untrusted strings: a file name from the guest or from an ELF
//! image (a `PT_INTERP`), a task's `comm`, a panic message. What Linux's
//! `%pE`/`string_escape_mem` does for printk, and coreutils' quoting for
//! file names in messages: the text stays on one line and cannot drive the
//! terminal.
//!
//! [`escape`] keeps printable text (valid UTF-8 without control or
//! direction-changing characters) as it is, so ordinary names read
//! unchanged, and writes everything else as a Rust-style escape: `\n`,
//! `\t`, `\r`, `\\`, `\x1b` for other bytes below 0x80 and for bytes that
//! are not UTF-8, `\u{202e}` for invisible or control characters beyond
//! ASCII.

use std::fmt::Write as _;

/// `bytes` escaped for a one-line message (see the module doc).
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x80 && c.is_ascii_control() => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if invisible(c) => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Characters that print as nothing or change how the rest of the line
/// shows: C1 controls, bidirectional overrides and isolates, zero-width
/// characters, line and paragraph separators, the byte-order mark.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c as u32,
            0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2069 | 0xfeff
        )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn plain_names_are_unchanged() {
        assert_eq!(
            escape(b"/lib/ld-linux-riscv64-lp64d.so.1"),
            "/lib/ld-linux-riscv64-lp64d.so.1"
        );
        assert_eq!(
            escape("caf\u{e9} \u{4e16}".as_bytes()),
            "caf\u{e9} \u{4e16}"
        );
    }

    #[test]
    fn controls_and_bad_bytes_are_escaped() {
        assert_eq!(escape(b"a\nb\tc\rd\\"), "a\\nb\\tc\\rd\\\\");
        assert_eq!(escape(b"\x1b[31mred\x07\x7f"), "\\x1b[31mred\\x07\\x7f");
        assert_eq!(escape(b"\xff\xfeok"), "\\xff\\xfeok");
        assert_eq!(escape("x\u{202e}y\u{85}".as_bytes()), "x\\u{202e}y\\u{85}");
        assert!(!escape(b"\n\r\x1b\x00").contains(['\n', '\r', '\x1b', '\0']));
    }
}
