//! `riscv_flush_icache` (Linux's arch/riscv/kernel/sys_riscv.c and
//! arch/riscv/mm/cacheflush.c `flush_icache_mm`): what glibc's
//! `__riscv_flush_icache` and GCC's `__builtin___clear_cache` call after
//! writing code.
//!
//! As Linux: the range is not looked at (every hart's whole instruction
//! cache is flushed); flags other than `SYS_RISCV_FLUSH_ICACHE_LOCAL` are
//! `EINVAL`. This hart flushes before it returns to user mode; without
//! `LOCAL`, the other harts that ran the mm (`mm_cpumask`) do it before
//! the call returns; either way every other hart flushes before it next
//! runs the mm (`icache_stale_mask`, acted on in the trap loop's switch to
//! the task, Linux's `flush_icache_deferred`). Where ferrite differs: a
//! hart's decoded-instruction cache is also kept coherent with stores (see
//! rv64's `machine`), so this call matters only for prompt visibility.

use std::sync::atomic::Ordering::SeqCst;

use super::{Sys, SysResult};
use crate::errno::EINVAL;

/// `SYS_RISCV_FLUSH_ICACHE_LOCAL`: only the calling hart needs the flush.
pub const SYS_RISCV_FLUSH_ICACHE_LOCAL: u64 = 1;

/// `riscv_flush_icache(start, end, flags)`.
pub fn sys_riscv_flush_icache(s: &mut Sys<'_>, _start: u64, _end: u64, flags: u64) -> SysResult {
    if flags & !SYS_RISCV_FLUSH_ICACHE_LOCAL != 0 {
        return Err(EINVAL);
    }
    let me = 1u64 << (s.cpu.id() % 64);
    s.mm().icache_stale_mask.store(!me, SeqCst);
    // This hart is outside `run()`: it acts on the request on its way back.
    s.k.machine.flush_icache(me);
    if flags & SYS_RISCV_FLUSH_ICACHE_LOCAL == 0 {
        let others = s.mm().mm_cpumask() & !me;
        if others != 0 {
            s.k.machine.flush_icache(others);
        }
    }
    Ok(0)
}
