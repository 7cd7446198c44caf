//! Per-CPU data and "this CPU" (include/linux/percpu.h, kernel/smp.c).
//!
//! Linux reaches per-CPU data with preemption disabled: nothing else runs on
//! the CPU, so the fast paths need no atomic instruction. ferrite's harts are
//! host threads, and the same guarantee comes from a [`Cpu`] guard: a thread
//! claims a CPU id once (one atomic), the guard cannot leave the thread
//! (`!Send`), and only one guard per id exists. Per-CPU lists and slab array
//! caches are reached only through it.
//!
//! Other CPUs sometimes must empty a CPU's caches (shrink, destroy, memory
//! pressure: Linux's `drain_all_pages` and `on_each_cpu`). A requester claims
//! an idle CPU and drains it itself; for a CPU held by a running hart it posts
//! a request that the owner serves at its next mm call (the IPI), and waits.
//! Like a Linux CPU with preemption off, a thread holding a guard must keep
//! calling into mm (or [`Cpu::poll`]), drop the guard, or block inside
//! [`Cpu::blocking`], which counts the CPU as idle while it blocks.

use alloc::boxed::Box;
use core::cell::{Cell, UnsafeCell};
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use crate::mem::Mem;
use crate::sync::cpu_relax;

/// Claim and drain-request state of one CPU.
#[repr(align(64))]
#[derive(Default)]
pub(crate) struct CpuState {
    /// FREE, OWNED (a thread runs there) or DRAINING (borrowed for a moment
    /// by another CPU emptying its caches).
    claimed: AtomicU8,
    pending: AtomicBool,
    /// Pages on this CPU's pcp lists, mirrored for reports. Written only by
    /// the owner, on the owner's cache line: no sharing on the fast path.
    pub(crate) pcp_count: core::sync::atomic::AtomicUsize,
    requested: AtomicU64,
    done: AtomicU64,
}

const FREE: u8 = 0;
const OWNED: u8 = 1;
const DRAINING: u8 = 2;

impl CpuState {
    fn try_claim(&self, how: u8) -> Result<(), u8> {
        self.claimed
            .compare_exchange(FREE, how, Ordering::Acquire, Ordering::Relaxed)
            .map(|_| ())
    }
}

/// The CPU a thread runs kernel code on: `smp_processor_id()` with
/// preemption disabled. Obtain one with [`Mem::cpu`].
pub struct Cpu<'m> {
    pub(crate) mem: &'m Mem,
    pub(crate) id: usize,
    state: &'m CpuState,
    comm: Cell<[u8; 16]>,
    /// In direct reclaim (`PF_MEMALLOC`): allocations it makes do not
    /// reclaim again.
    pub(crate) reclaiming: Cell<bool>,
    _not_send: PhantomData<*mut ()>,
}

/// Why [`Mem::cpu`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuClaimError {
    /// No such CPU.
    NoSuchCpu { id: usize, nr_cpus: usize },
    /// Another thread holds it.
    Busy(usize),
}

impl core::fmt::Display for CpuClaimError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CpuClaimError::NoSuchCpu { id, nr_cpus } => {
                write!(f, "cpu {id} does not exist (nr_cpus = {nr_cpus})")
            }
            CpuClaimError::Busy(id) => write!(f, "cpu {id} is held by another thread"),
        }
    }
}

impl<'m> Cpu<'m> {
    pub(crate) fn claim(mem: &'m Mem, id: usize) -> Result<Cpu<'m>, CpuClaimError> {
        let st = mem.cpu_states.get(id).ok_or(CpuClaimError::NoSuchCpu {
            id,
            nr_cpus: mem.cpu_states.len(),
        })?;
        // A drainer holds an idle CPU only for a moment: wait it out.
        loop {
            match st.try_claim(OWNED) {
                Ok(()) => break,
                Err(DRAINING) => cpu_relax(),
                Err(_) => return Err(CpuClaimError::Busy(id)),
            }
        }
        Ok(Self::guard(mem, id))
    }

    /// Borrow an idle CPU to drain it; None if a thread holds it.
    fn claim_for_drain(mem: &'m Mem, id: usize) -> Option<Cpu<'m>> {
        mem.cpu_states[id].try_claim(DRAINING).ok()?;
        Some(Self::guard(mem, id))
    }

    fn guard(mem: &'m Mem, id: usize) -> Cpu<'m> {
        let mut comm = [0u8; 16];
        comm[..7].copy_from_slice(b"swapper");
        Cpu {
            mem,
            id,
            state: &mem.cpu_states[id],
            comm: Cell::new(comm),
            reclaiming: Cell::new(false),
            _not_send: PhantomData,
        }
    }

    /// `smp_processor_id()`.
    #[inline]
    pub fn id(&self) -> usize {
        self.id
    }

    /// The memory this CPU allocates from.
    #[inline]
    pub fn mem(&self) -> &'m Mem {
        self.mem
    }

    /// Name the task running here (`current->comm`), used in reports.
    pub fn set_comm(&self, name: &str) {
        let mut c = [0u8; 16];
        let n = name.len().min(15);
        c[..n].copy_from_slice(&name.as_bytes()[..n]);
        self.comm.set(c);
    }

    /// [`Self::set_comm`] from a task's NUL-padded `comm` as it is (its
    /// first 15 bytes; [`Self::comm`] decodes it when a report asks).
    #[inline]
    pub fn set_comm_bytes(&self, name: &[u8; 16]) {
        let mut c = *name;
        c[15] = 0;
        self.comm.set(c);
    }

    /// `current->comm`.
    pub fn comm(&self) -> alloc::string::String {
        let c = self.comm.get();
        let n = c.iter().position(|&b| b == 0).unwrap_or(16);
        let s = alloc::string::String::from_utf8_lossy(&c[..n]).into_owned();
        if s == "swapper" {
            alloc::format!("swapper/{}", self.id)
        } else {
            s
        }
    }

    /// Serve a pending drain request from another CPU (the IPI). Every mm
    /// entry point calls this; an idle loop that keeps its guard should too.
    #[inline]
    pub fn poll(&self) {
        // SAFETY-free fast path: a relaxed load is a plain load.
        if self.state.pending.load(Ordering::Relaxed) {
            self.serve_drain();
        }
    }

    /// Run `f`, which may block in the host (a read from a terminal, a
    /// sleep), with this CPU open to the others: while `f` runs the CPU
    /// counts as idle, so a drain request is carried out by the requester
    /// itself instead of waiting for an owner that cannot answer (Linux: a
    /// task that sleeps leaves its CPU free to take IPIs). `f` must be
    /// `Send`, which keeps out this guard (neither `Send` nor `Sync`) and so
    /// every per-CPU access. If another thread claims this CPU meanwhile,
    /// `blocking` returns when that thread lets it go.
    pub fn blocking<R>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.state.claimed.store(FREE, Ordering::Release);
        let r = f();
        while self.state.try_claim(OWNED).is_err() {
            cpu_relax();
        }
        r
    }

    #[cold]
    fn serve_drain(&self) {
        let st = &self.mem.cpu_states[self.id];
        st.pending.store(false, Ordering::SeqCst);
        let upto = st.requested.load(Ordering::SeqCst);
        self.mem.drain_this_cpu(self);
        st.done.fetch_max(upto, Ordering::SeqCst);
    }
}

impl Drop for Cpu<'_> {
    fn drop(&mut self) {
        self.mem.cpu_states[self.id]
            .claimed
            .store(FREE, Ordering::Release);
    }
}

impl Mem {
    /// Empty every CPU's per-CPU caches (pcp lists and slab array caches):
    /// Linux's `drain_all_pages` plus the slab drain of `on_each_cpu`.
    /// `me` is the calling thread's own CPU, if it holds one.
    pub(crate) fn drain_all_cpus(&self, me: Option<&Cpu<'_>>) {
        for id in 0..self.cpu_states.len() {
            if let Some(me) = me {
                if me.id == id {
                    self.drain_this_cpu(me);
                    continue;
                }
            }
            let st = &self.cpu_states[id];
            let ticket = st.requested.fetch_add(1, Ordering::SeqCst) + 1;
            st.pending.store(true, Ordering::SeqCst);
            loop {
                if st.done.load(Ordering::SeqCst) >= ticket {
                    break;
                }
                if let Some(other) = Cpu::claim_for_drain(self, id) {
                    // Nobody runs there: drain it ourselves.
                    other.serve_drain();
                    st.done.fetch_max(ticket, Ordering::SeqCst);
                    break;
                }
                if let Some(me) = me {
                    me.poll();
                }
                cpu_relax();
            }
        }
    }
}

impl Mem {
    /// Drain the CPUs no thread holds, without waiting for busy ones.
    pub(crate) fn drain_idle_cpus(&self) {
        for id in 0..self.cpu_states.len() {
            if let Some(c) = Cpu::claim_for_drain(self, id) {
                c.serve_drain();
            }
        }
    }
}

/// Static per-CPU data (`DEFINE_PER_CPU`): one slot per CPU, reached only
/// through that CPU's guard.
pub(crate) struct PerCpu<T> {
    slots: Box<[Slot<T>]>,
}

#[repr(align(64))]
struct Slot<T> {
    busy: Cell<bool>,
    val: UnsafeCell<T>,
}

// SAFETY: slot `i` is only touched by the thread holding the unique `Cpu`
// guard for id `i` (see `with`), so no two threads access one slot at once;
// `T: Send` lets the value move between the threads that hold it in turn.
unsafe impl<T: Send> Sync for PerCpu<T> {}

impl<T> PerCpu<T> {
    pub(crate) fn new(n: usize, mut init: impl FnMut() -> T) -> Self {
        PerCpu {
            slots: (0..n)
                .map(|_| Slot {
                    busy: Cell::new(false),
                    val: UnsafeCell::new(init()),
                })
                .collect(),
        }
    }

    /// `this_cpu_ptr()`: run `f` on this CPU's slot.
    #[inline]
    pub(crate) fn with<R>(&self, cpu: &Cpu<'_>, f: impl FnOnce(&mut T) -> R) -> R {
        let slot = &self.slots[cpu.id];
        assert!(
            !slot.busy.get(),
            "per-CPU slot re-entered on cpu {}",
            cpu.id
        );
        slot.busy.set(true);
        // SAFETY: `cpu` is the only guard for this id and is !Send, so only
        // this thread reaches the slot; the busy flag rules out a nested
        // borrow on this thread. Hence this is the only live reference.
        let r = f(unsafe { &mut *slot.val.get() });
        slot.busy.set(false);
        r
    }
}
