//! Memory sizes on the command line: Linux's `memparse()` (lib/cmdline.c),
//! which reads the `mem=` boot parameter, plus the checks ferrite's `--mem`
//! needs.
//!
//! A size is a decimal number of bytes with an optional binary suffix:
//! `K`, `M`, `G` (any case) or `KiB`, `MiB`, `GiB` (any case). `256M`,
//! `262144k`, `1GiB` and `268435456` are the same kind of thing.

use std::fmt;

/// The largest RAM ferrite accepts (`--mem` above this is refused).
pub const MAX_RAM: usize = 64 << 30;

/// Why a `--mem` value was refused. Displayed after "--mem VALUE ".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SizeError {
    /// Not a number with a known suffix.
    NotASize,
    /// Zero bytes.
    Zero,
    /// Below `min` bytes.
    TooSmall { min: usize },
    /// Above `max` bytes (or too large to count).
    TooLarge { max: usize },
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::NotASize => f.write_str(
                "is not a size: give bytes or a number with a K, M or G suffix (e.g. 256M)",
            ),
            SizeError::Zero => f.write_str("is zero: ferrite needs some RAM"),
            SizeError::TooSmall { min } => {
                write!(f, "is too small: ferrite needs at least {}", human(*min))
            }
            SizeError::TooLarge { max } => {
                write!(f, "is too large: ferrite accepts at most {}", human(*max))
            }
        }
    }
}

/// Parse a size in bytes (`memparse`): digits, then an optional suffix.
pub fn parse_size(s: &str) -> Result<usize, SizeError> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(SizeError::NotASize);
    }
    let (num, suffix) = s.split_at(digits);
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return Err(SizeError::NotASize),
    };
    let max = SizeError::TooLarge { max: MAX_RAM };
    let n: usize = num.parse().map_err(|_| max.clone())?;
    n.checked_mul(1 << shift).ok_or(max)
}

/// Parse and check a `--mem` value: at least `min` bytes, at most
/// [`MAX_RAM`]. The result is rounded down to whole pages.
pub fn parse_mem(s: &str, min: usize) -> Result<usize, SizeError> {
    let bytes = parse_size(s)?;
    if bytes == 0 {
        return Err(SizeError::Zero);
    }
    if bytes < min {
        return Err(SizeError::TooSmall { min });
    }
    if bytes > MAX_RAM {
        return Err(SizeError::TooLarge { max: MAX_RAM });
    }
    Ok(bytes & !(mm::PAGE_SIZE - 1))
}

/// A size the way `--mem` takes it: the largest unit that divides it
/// exactly (`4M`, `1536K`, `64G`, `1000`).
pub fn human(bytes: usize) -> String {
    for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] {
        if bytes != 0 && bytes % (1 << shift) == 0 {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: usize = 4 << 20;

    #[test]
    fn plain_bytes() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("268435456"), Ok(256 << 20));
    }

    #[test]
    fn suffixes_any_case() {
        for (s, v) in [
            ("1k", 1 << 10),
            ("1K", 1 << 10),
            ("2KiB", 2 << 10),
            ("2kib", 2 << 10),
            ("256M", 256 << 20),
            ("256m", 256 << 20),
            ("256MiB", 256 << 20),
            ("256MIB", 256 << 20),
            ("1G", 1 << 30),
            ("1g", 1 << 30),
            ("3GiB", 3 << 30),
        ] {
            assert_eq!(parse_size(s), Ok(v), "{s}");
        }
    }

    #[test]
    fn garbage_is_refused() {
        for s in [
            "", "abc", "M", "12Q", "1.5G", "-1", " 1M", "1M ", "1MB", "0x10", "1Ki", "+4M",
        ] {
            assert_eq!(parse_size(s), Err(SizeError::NotASize), "{s:?}");
        }
    }

    #[test]
    fn overflow_is_too_large() {
        let e = Err(SizeError::TooLarge { max: MAX_RAM });
        assert_eq!(parse_size("99999999999999999999999"), e);
        assert_eq!(parse_size("99999999999999G"), e);
    }

    #[test]
    fn mem_limits() {
        assert_eq!(parse_mem("0", MIN), Err(SizeError::Zero));
        assert_eq!(parse_mem("0M", MIN), Err(SizeError::Zero));
        assert_eq!(parse_mem("1M", MIN), Err(SizeError::TooSmall { min: MIN }));
        assert_eq!(
            parse_mem("4194303", MIN),
            Err(SizeError::TooSmall { min: MIN })
        );
        assert_eq!(parse_mem("4M", MIN), Ok(MIN));
        assert_eq!(parse_mem("64G", MIN), Ok(64 << 30));
        assert_eq!(
            parse_mem("65G", MIN),
            Err(SizeError::TooLarge { max: MAX_RAM })
        );
        assert_eq!(
            parse_mem("68719476737", MIN),
            Err(SizeError::TooLarge { max: MAX_RAM })
        );
    }

    #[test]
    fn mem_rounds_down_to_pages() {
        assert_eq!(parse_mem("5000000", MIN), Ok(5000000 / 4096 * 4096));
    }

    #[test]
    fn messages() {
        assert_eq!(
            SizeError::TooSmall { min: MIN }.to_string(),
            "is too small: ferrite needs at least 4M"
        );
        assert_eq!(
            SizeError::TooLarge { max: MAX_RAM }.to_string(),
            "is too large: ferrite accepts at most 64G"
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(4 << 20), "4M");
        assert_eq!(human(1536 << 10), "1536K");
        assert_eq!(human(64 << 30), "64G");
        assert_eq!(human(1000), "1000");
        assert_eq!(human(0), "0");
    }
}
