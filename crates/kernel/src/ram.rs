//! Host RAM for one ferrite instance: the machine's physical memory, which a
//! real kernel finds already there and ferrite borrows from the host as one
//! anonymous mapping (what User-Mode Linux does with its physmem file,
//! arch/um/kernel/physmem.c).

use std::io;
use std::ptr::NonNull;

use memmap2::MmapMut;

/// An anonymous, zero-filled host mapping whose start is aligned to
/// `mm::mem::RAM_ALIGN` (a MAX_ORDER block), as physical memory is: every
/// buddy block is then aligned to its size. Pages are backed only when
/// ferrite first touches them.
pub struct Ram {
    map: MmapMut,
    offset: usize,
    len: usize,
}

impl Ram {
    /// Map `bytes` (non-zero) of host memory.
    pub fn map(bytes: usize) -> io::Result<Ram> {
        let align = mm::mem::RAM_ALIGN;
        let padded = bytes
            .checked_add(align)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "RAM size overflows"))?;
        // Over-map by one alignment unit and start at the first aligned
        // address; the slack is never touched, so it costs no memory.
        let map = MmapMut::map_anon(padded)?;
        let start = map.as_ptr() as usize;
        let offset = start.next_multiple_of(align) - start;
        Ok(Ram {
            map,
            offset,
            len: bytes,
        })
    }

    /// Where the RAM starts (ferrite's physical address 0).
    pub fn base(&mut self) -> NonNull<u8> {
        let off = self.offset;
        NonNull::new(self.map[off..].as_mut_ptr()).expect("mmap never returns NULL")
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
