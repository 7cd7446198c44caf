//! ferrite's memory manager (Linux's `mm/`), `#![no_std]` with `alloc`.
//!
//! - [`page`]: `struct page` and the mem_map ([`Mem::pfn_to_page`],
//!   [`Mem::page_address`], [`Mem::virt_to_page`]).
//! - [`page_alloc`]: the buddy allocator with per-CPU lists
//!   ([`Cpu::alloc_pages`], [`Cpu::__free_pages`], ...).
//! - [`slab`]: object caches ([`Mem::kmem_cache_create`],
//!   [`Cpu::kmem_cache_alloc`], ...).
//! - [`kmalloc`]: [`Cpu::kmalloc`], [`Cpu::kfree`], ...
//! - [`kbox`]: typed caches, [`kbox::KBox`], and a kmalloc `Allocator`.
//! - [`proc`]: /proc/slabinfo, buddyinfo, meminfo, zoneinfo and slabtop.
//!
//! Code runs on a CPU: a thread claims one with [`Mem::cpu`] and passes the
//! guard (see [`percpu`]), as Linux code runs with a current CPU.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

extern crate alloc;

pub mod error;
pub mod falloc;
pub mod fault;
pub mod filemap;
pub mod fork;
pub mod gfp;
pub mod kbox;
pub mod kmalloc;
pub mod maple;
pub mod mem;
pub mod mmap;
pub mod page;
pub mod page_alloc;
pub mod percpu;
pub mod pgtable;
pub mod proc;
pub mod rmap;
pub mod slab;
pub mod sync;
pub mod uaccess;
pub mod vmscan;
pub mod vmstat;

pub use error::{BadPageReason, MmError};
pub use gfp::Gfp;
pub use mem::{BootError, Console, Mem, MemConfig};
pub use page::{Page, PageFlags, MAX_ORDER, PAGE_SIZE};
pub use percpu::Cpu;
pub use slab::{KmemCache, OwnedCache, SlabFlags, StdCache};
