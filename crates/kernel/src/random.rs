//! The kernel's random bytes (drivers/char/random.c `get_random_bytes`):
//! what `getrandom`, `/dev/random`, `/dev/urandom` and `AT_RANDOM` read.
//!
//! Where ferrite differs: it keeps no entropy pool. In parallel mode the
//! bytes come from the host's generator (getrandom(2) on the host), never
//! made up; in deterministic mode from the machine's ChaCha20 stream
//! seeded by `--seed` ([`crate::time::det::Det::fill_random`]), so a run
//! reads the same bytes every time.

use crate::errno::Errno;

/// Fill `buf` with random bytes: the deterministic machine's stream if the
/// calling thread belongs to one, else the host's generator.
pub fn get_random_bytes(buf: &mut [u8]) -> Result<(), Errno> {
    if crate::time::det::with_current(|d| d.fill_random(buf)).is_some() {
        return Ok(());
    }
    host_random_fill(buf)
}

/// `n` random bytes ([`get_random_bytes`]).
pub fn random_bytes(n: usize) -> Result<Vec<u8>, Errno> {
    let mut v = vec![0u8; n];
    get_random_bytes(&mut v)?;
    Ok(v)
}

/// Fill `v` from the host's generator, or fail with the host's errno.
pub fn host_random_fill(v: &mut [u8]) -> Result<(), Errno> {
    let n = v.len();
    let mut got = 0;
    while got < n {
        // SAFETY: the pointer and length name the unfilled tail of `v`.
        let r = unsafe { libc::getrandom(v[got..].as_mut_ptr().cast(), n - got, 0) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.raw_os_error().unwrap_or(crate::errno::EIO));
        }
        got += r as usize;
    }
    Ok(())
}
