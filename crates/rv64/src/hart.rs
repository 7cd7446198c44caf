//! The public per-hart API the kernel drives: register access, satp, and
//! `run()`, which plays the part of "return to user mode" (`sret` in
//! Linux's `ret_from_exception`) and comes back at the next trap.

use core::sync::atomic::Ordering;
use std::sync::Arc;

use crate::decode::decode;
use crate::exec::icache::{ICache, MAX_BLOCK};
use crate::exec::ops::Slot;
use crate::exec::{Cpu, ICACHE_ALL, ICACHE_NONE};
use crate::machine::{hart_bit, Machine, Mailbox, REQ_ICACHE, REQ_TLB, REQ_TLB_ASID};
use crate::mmu::tlb::{asid_key, satp_asid, ASID_BITS};
use crate::{Access, Exit};

/// One hardware thread. Runs on its own host thread (it is `Send`).
pub struct Hart {
    cpu: Cpu,
    icache: ICache,
    /// The last mailbox request sequence number acted on.
    seen_seq: u64,
}

const SCRATCH: usize = usize::MAX;

impl Hart {
    /// Hart `id` of `machine`, in reset state (registers 0, pc 0, satp 0 =
    /// Bare).
    pub fn new(id: usize, machine: Arc<Machine>) -> Hart {
        Hart {
            cpu: Cpu::new(id, machine),
            icache: ICache::default(),
            seen_seq: 0,
        }
    }

    /// The hart id.
    pub fn id(&self) -> usize {
        self.cpu.id
    }

    /// The machine.
    pub fn machine(&self) -> &Arc<Machine> {
        &self.cpu.machine
    }

    /// Integer register `i` (0..32; others read 0).
    pub fn x(&self, i: usize) -> u64 {
        if (1..32).contains(&i) {
            self.cpu.x[i]
        } else {
            0
        }
    }

    /// Sets integer register `i`; x0 (and out-of-range) writes are ignored.
    pub fn set_x(&mut self, i: usize, v: u64) {
        if (1..32).contains(&i) {
            self.cpu.x[i] = v;
        }
    }

    /// FP register `i` (raw 64 bits).
    pub fn f(&self, i: usize) -> u64 {
        self.cpu.f.get(i).copied().unwrap_or(0)
    }

    /// Sets FP register `i` (raw 64 bits; box singles yourself).
    pub fn set_f(&mut self, i: usize, v: u64) {
        if let Some(r) = self.cpu.f.get_mut(i) {
            *r = v;
        }
    }

    /// The pc.
    pub fn pc(&self) -> u64 {
        self.cpu.pc
    }

    /// Sets the pc.
    pub fn set_pc(&mut self, pc: u64) {
        self.cpu.pc = pc;
    }

    /// fcsr (fflags | frm << 5).
    pub fn fcsr(&self) -> u32 {
        self.cpu.fcsr
    }

    /// Sets fcsr (bits above 7 are dropped).
    pub fn set_fcsr(&mut self, v: u32) {
        self.cpu.fcsr = v & 0xff;
    }

    /// satp.
    pub fn satp(&self) -> u64 {
        self.cpu.satp
    }

    /// `csrw satp`: MODE (9 = Sv48, 0 = Bare) << 60 | ASID << 44 | root
    /// PPN. As on hardware this flushes nothing: the TLB keeps entries of
    /// every ASID, and software issues `sfence.vma` ([`Hart::flush_tlb`],
    /// [`Hart::flush_tlb_asid`]) when a translation may have changed or an
    /// ASID is reused. ASID bits above [`ASID_BITS`] read back as zero
    /// (as does the whole field in Bare mode).
    pub fn set_satp(&mut self, satp: u64) {
        let asid = if satp >> 60 == 0 { 0 } else { satp_asid(satp) };
        self.cpu.satp = (satp & !(0xffff << 44)) | (asid << 44);
        self.cpu.asid_key = asid_key(asid);
    }

    /// The ASID bits the hart implements (satp.ASID's writable width).
    pub fn asid_bits(&self) -> u32 {
        ASID_BITS
    }

    /// Instructions retired so far.
    pub fn instret(&self) -> u64 {
        self.cpu.instret
    }

    /// The source of the `time` CSR: None for the host's monotonic clock
    /// (the default); Some((ns, instret)) for a virtual clock that reads
    /// `ns` nanoseconds at the moment `instret` instructions have retired
    /// on this hart and advances one nanosecond per retired instruction
    /// (the kernel's deterministic mode sets it before each run).
    pub fn set_time_base(&mut self, base: Option<(u64, u64)>) {
        self.cpu.vtime = base;
    }

    /// Local `sfence.vma` with rs2 = x0 over `[start, end)` (None =
    /// everything): every ASID's entries, global ones too.
    pub fn flush_tlb(&mut self, range: Option<(u64, u64)>) {
        self.cpu.tlb.flush(range);
    }

    /// Local `sfence.vma` with rs2 = `asid` over `[start, end)` (None =
    /// all of that ASID's entries); global entries stay.
    pub fn flush_tlb_asid(&mut self, asid: u64, range: Option<(u64, u64)>) {
        self.cpu.tlb.flush_asid(asid, range);
    }

    /// The local flush of one page after a spurious fault
    /// (`flush_tlb_fix_spurious_fault`): the current ASID's entry for the
    /// page at `va` and the global one (what a lookup could hit).
    pub fn flush_tlb_page(&mut self, va: u64) {
        let asid = satp_asid(self.cpu.satp);
        self.cpu.tlb.flush_page(asid, va);
    }

    /// Local fence.i.
    pub fn flush_icache(&mut self) {
        self.icache.flush();
    }

    /// Runs until a trap or until `budget` instructions have retired.
    pub fn run(&mut self, budget: u64) -> Exit {
        // SAFETY: `cpu.machine` is set once in `new` and never replaced, so
        // the Arc it holds keeps the Machine alive for this whole call;
        // borrowing through a raw pointer spares an Arc clone (two atomic
        // read-modify-writes) on every entry to user mode.
        let machine: &Machine = unsafe { &*Arc::as_ptr(&self.cpu.machine) };
        let mb = machine.mailboxes.get(self.cpu.id);
        if let Some(mb) = mb {
            // SeqCst: ordered before this hart's first read of its
            // mailbox, against a requester's post then read of `in_run`.
            mb.in_run.store(true, Ordering::SeqCst);
        }
        let exit = self.run_inner(budget, mb);
        if let Some(mb) = mb {
            // A requester that sees false stops waiting: the hart serves
            // the request when it next enters (the store above).
            mb.in_run.store(false, Ordering::Release);
        }
        if exit != Exit::Budget {
            // A trap drops the reservation, like Linux's exception return.
            self.cpu.lr = None;
            machine.unreserve(self.cpu.id);
        }
        exit
    }

    /// Acts on pending remote requests (called when the mailbox's request
    /// sequence number moved).
    #[cold]
    #[inline(never)]
    fn serve_mailbox(&mut self, mb: &Mailbox) {
        let seq = mb.req_seq.load(Ordering::SeqCst);
        let bits = mb.pending.swap(0, Ordering::SeqCst);
        if bits & REQ_TLB != 0 {
            self.cpu.tlb.flush(None);
            mb.take_asids(|_| {});
        } else if bits & REQ_TLB_ASID != 0 {
            let tlb = &mut self.cpu.tlb;
            mb.take_asids(|asid| tlb.flush_asid(asid, None));
        }
        if bits & REQ_ICACHE != 0 {
            self.icache.flush();
        }
        mb.done_seq.store(seq, Ordering::SeqCst);
        self.seen_seq = seq;
    }

    fn run_inner(&mut self, budget: u64, mb: Option<&Mailbox>) -> Exit {
        let mut left = budget;
        loop {
            // Remote requests: one atomic load per block.
            if let Some(mb) = mb {
                if mb.req_seq.load(Ordering::Acquire) != self.seen_seq {
                    self.serve_mailbox(mb);
                }
            }
            if left == 0 {
                return Exit::Budget;
            }
            let pc = self.cpu.pc;
            let slot = match self.lookup(pc) {
                Ok(s) => s,
                Err(e) => return e,
            };
            let (slots, bytes, count): (&[Slot], u64, u64) = if slot == SCRATCH {
                (&self.icache.scratch, 4, 1)
            } else {
                let b = &self.icache.blocks[slot];
                (&b.slots, b.bytes, b.count)
            };
            self.cpu.blk_base = pc;
            self.cpu.blk_end = pc.wrapping_add(bytes);
            self.cpu.exit = None;
            self.cpu.side_exit = 0;
            let mut exit = None;
            if count <= left {
                // The whole block, threaded; again and again while a taken
                // branch comes back to its start (a loop) with the budget
                // for another whole run and no mailbox request: nothing
                // inside a block can change its translation or decoding
                // (satp is the kernel's; fence.i ends a block), so the
                // lookup would find it again.
                loop {
                    (slots[0].h)(&mut self.cpu, &slots[0]);
                    if let Some(e) = self.cpu.exit.take() {
                        self.cpu.instret += self.cpu.trap_idx as u64;
                        exit = Some(e);
                        break;
                    }
                    let n = match self.cpu.side_exit {
                        0 => count,
                        n => n as u64,
                    };
                    self.cpu.instret += n;
                    left -= n;
                    if self.cpu.pc != pc || left < count || self.cpu.icache_op != ICACHE_NONE {
                        break;
                    }
                    if let Some(mb) = mb {
                        if mb.req_seq.load(Ordering::Acquire) != self.seen_seq {
                            break;
                        }
                    }
                    self.cpu.side_exit = 0;
                }
            } else {
                // The budget ends inside the block: step instruction by
                // instruction, each followed by an end sentinel, until the
                // budget is used or a taken branch leaves the block. Each
                // runs with its plain handler, never a fused pair's, so a
                // pair split by the budget retires exactly its first half.
                let mut done = 0;
                for s in &slots[..left as usize] {
                    let step = [
                        Slot::new(s.i, s.off, 0),
                        Slot::end(s.off + s.i.len as u16, 1),
                    ];
                    self.cpu.side_exit = 0;
                    (step[0].h)(&mut self.cpu, &step[0]);
                    if let Some(e) = self.cpu.exit.take() {
                        exit = Some(e);
                        break;
                    }
                    self.cpu.instret += 1;
                    done += 1;
                    if self.cpu.side_exit != 0 {
                        break;
                    }
                }
                left -= done;
            }
            if self.cpu.icache_op != ICACHE_NONE {
                match self.cpu.icache_op {
                    ICACHE_ALL => self.icache.flush(),
                    page => self.icache.flush_page(page),
                }
                self.cpu.icache_op = ICACHE_NONE;
            }
            if let Some(e) = exit {
                return e;
            }
        }
    }

    /// The page of `pa` has just become a code page: no hart may keep a
    /// write-enabled TLB entry for it, so that every later store into it
    /// takes the slow path that invalidates decoded blocks. Drops this
    /// hart's entries, then has every other hart inside `run()` flush its
    /// TLB and waits for them (serving its own mailbox meanwhile). Stores
    /// they made before that are visible to the decode that follows.
    #[cold]
    #[inline(never)]
    fn first_code_in_page(&mut self, pa: u64) {
        let host_page = (self.cpu.ram_base as usize).wrapping_add((pa & !0xfff) as usize);
        self.cpu.tlb.drop_writes_to(host_page);
        let machine = self.cpu.machine.clone();
        if machine.nr_harts() < 2 {
            return;
        }
        let others = !hart_bit(self.cpu.id);
        let waits = machine.request(others, REQ_TLB);
        let mb = machine.mailboxes.get(self.cpu.id);
        machine.wait(others, &waits, || {
            if let Some(mb) = mb {
                if mb.req_seq.load(Ordering::Acquire) != self.seen_seq {
                    self.serve_mailbox(mb);
                }
            }
        });
    }

    /// Finds (or decodes) the block at virtual `pc`.
    #[inline]
    fn lookup(&mut self, pc: u64) -> Result<usize, Exit> {
        if pc & 1 != 0 {
            // Only the kernel can set an odd pc (jumps clear bit 0).
            return Err(Exit::Misaligned {
                addr: pc,
                access: Access::Fetch,
            });
        }
        let pa = self.cpu.fetch_pa(pc)?;
        if let Some(set) = self.icache.find(pa) {
            return Ok(set);
        }
        if self
            .cpu
            .machine
            .mark_code(self.cpu.id, pa, MAX_BLOCK as u64 * 4)
        {
            self.first_code_in_page(pa);
        }
        match self.icache.fill(&self.cpu.ram, pa) {
            Ok(set) => Ok(set),
            Err(lo) => {
                // A 32-bit instruction straddling two pages.
                let pa2 = self.cpu.fetch_pa(pc.wrapping_add(2))?;
                let hi = self.cpu.ram.read(pa2, 2).unwrap_or(0) as u16;
                self.icache.fill_scratch(decode(lo, hi));
                Ok(SCRATCH)
            }
        }
    }
}
