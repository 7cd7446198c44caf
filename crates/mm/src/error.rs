//! Errors of the memory manager: every misuse is reported (see `printk`) and
//! returned as one of these, and the allocator's state is left intact.

use core::fmt;

/// What went wrong in an mm call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MmError {
    /// `free_pages` / `kfree` of an address that is not in ferrite's RAM.
    BadAddress(usize),
    /// A page-allocator free that Linux would answer with "BUG: Bad page state".
    BadPageState { pfn: usize, reason: BadPageReason },
    /// `kfree` / `kmem_cache_free` of a pointer that is not a live object start.
    InvalidFree {
        addr: usize,
        cache: Option<CacheName>,
    },
    /// `kmem_cache_free(cache, obj)` where obj belongs to another cache.
    WrongCache {
        addr: usize,
        expected: CacheName,
        actual: CacheName,
    },
    /// The object was already free (found by the slab debug checks).
    DoubleFree { addr: usize, cache: CacheName },
    /// Red zone or poison of an object was overwritten (slab debug).
    Corrupted {
        addr: usize,
        cache: CacheName,
        what: &'static str,
    },
    /// `kmem_cache_destroy` of a cache that still has live objects.
    CacheBusy { cache: CacheName, active: usize },
    /// `kmem_cache_create` arguments Linux would refuse.
    InvalidCache(&'static str),
    /// Out of memory.
    NoMemory,
}

/// Why a page free was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadPageReason {
    /// The page is already free (on a free list, a per-CPU list, or inside a free block).
    DoubleFree,
    /// Freed with an order other than the one it was allocated with.
    WrongOrder { allocated: u32, freed: u32 },
    /// The page is a tail page of an allocated block, not its head.
    NotHead { head_pfn: usize, order: u32 },
    /// Someone else still holds a reference.
    NonzeroRefcount(i32),
    /// The page is still mapped into an address space.
    NonzeroMapcount(i32),
    /// The page still belongs to an address_space.
    NonNullMapping,
    /// The page is reserved (mem_map, boot memory) and never was allocated.
    Reserved,
    /// Flags that must be clear at free time are set (slab, lru, locked...).
    FlagsSetAtFree(u64),
}

impl BadPageReason {
    /// The "page dumped because:" line.
    pub fn describe(&self) -> alloc::string::String {
        use alloc::format;
        match self {
            BadPageReason::DoubleFree => "double free: page is already free".into(),
            BadPageReason::WrongOrder { allocated, freed } => {
                format!("freed with order {freed} but allocated with order {allocated}")
            }
            BadPageReason::NotHead { head_pfn, order } => {
                format!("not the head page: tail of the order-{order} block at pfn {head_pfn:#x}")
            }
            BadPageReason::NonzeroRefcount(_) => "nonzero _refcount".into(),
            BadPageReason::NonzeroMapcount(_) => "nonzero mapcount".into(),
            BadPageReason::NonNullMapping => "non-NULL mapping".into(),
            BadPageReason::Reserved => "PAGE_FLAGS_CHECK_AT_FREE flag(s) set: reserved".into(),
            BadPageReason::FlagsSetAtFree(_) => "PAGE_FLAGS_CHECK_AT_FREE flag(s) set".into(),
        }
    }
}

/// A cache name carried in an error (fixed size, no heap).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CacheName {
    bytes: [u8; crate::slab::KMEM_CACHE_NAME_MAX],
    len: u8,
}

impl CacheName {
    /// Truncates to the limit on a char boundary.
    pub fn new(s: &str) -> Self {
        let mut len = s.len().min(crate::slab::KMEM_CACHE_NAME_MAX);
        while !s.is_char_boundary(len) {
            len -= 1;
        }
        let mut bytes = [0u8; crate::slab::KMEM_CACHE_NAME_MAX];
        bytes[..len].copy_from_slice(&s.as_bytes()[..len]);
        CacheName {
            bytes,
            len: len as u8,
        }
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("?")
    }
}

impl fmt::Debug for CacheName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}
impl fmt::Display for CacheName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for MmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MmError::BadAddress(a) => write!(f, "address {a:#x} is outside ferrite's RAM"),
            MmError::BadPageState { pfn, reason } => {
                write!(f, "Bad page state at pfn {pfn:#x}: {}", reason.describe())
            }
            MmError::InvalidFree {
                addr,
                cache: Some(c),
            } => {
                write!(f, "{addr:#x} is not an object of cache {c}")
            }
            MmError::InvalidFree { addr, cache: None } => {
                write!(f, "{addr:#x} was not returned by kmalloc")
            }
            MmError::WrongCache {
                addr,
                expected,
                actual,
            } => write!(
                f,
                "object {addr:#x} freed to cache {expected} but it is from {actual}"
            ),
            MmError::DoubleFree { addr, cache } => {
                write!(f, "double free of object {addr:#x} in cache {cache}")
            }
            MmError::Corrupted { addr, cache, what } => {
                write!(f, "{what} at object {addr:#x} in cache {cache}")
            }
            MmError::CacheBusy { cache, active } => {
                write!(f, "cache {cache} still has {active} objects")
            }
            MmError::InvalidCache(why) => write!(f, "invalid cache: {why}"),
            MmError::NoMemory => f.write_str("out of memory"),
        }
    }
}
