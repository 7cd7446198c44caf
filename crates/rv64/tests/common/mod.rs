//! Test harness: a Vec-backed RAM, a hand-built Sv48 page table, and a
//! tiny assembler for the encodings the tests use.
#![allow(dead_code)]

pub mod asm;
pub mod elf;

use std::sync::Arc;

use rv64::mmu::{PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use rv64::{Exit, Hart, Machine, Ram};

/// User read/write/execute leaf flags (A/D left to the MMU).
pub const URWX: u64 = PTE_V | PTE_R | PTE_W | PTE_X | PTE_U;
/// User read/write.
pub const URW: u64 = PTE_V | PTE_R | PTE_W | PTE_U;
/// User read-only.
pub const UR: u64 = PTE_V | PTE_R | PTE_U;
/// User read/execute.
pub const URX: u64 = PTE_V | PTE_R | PTE_X | PTE_U;
pub const AD: u64 = PTE_A | PTE_D;

pub const CODE: u64 = 0x10000;
pub const DATA: u64 = 0x40000;

pub struct Env {
    pub mem: Vec<u64>,
    pub ram: Ram,
    pub machine: Arc<Machine>,
    pub root: u64,
    next_page: u64,
}

impl Env {
    pub fn new(nr_harts: usize) -> Env {
        Env::with_size(nr_harts, 8 << 20)
    }

    pub fn with_size(nr_harts: usize, bytes: usize) -> Env {
        let mut mem = vec![0u64; bytes / 8];
        // SAFETY: `mem` lives as long as Env, which owns every Ram copy's
        // users in these tests (harts are joined before Env drops).
        let ram = unsafe { Ram::new(mem.as_mut_ptr().cast(), bytes) };
        let machine = Machine::new(ram, nr_harts);
        let mut env = Env {
            mem,
            ram,
            machine,
            root: 0,
            next_page: 16,
        };
        env.root = env.alloc_page();
        env
    }

    pub fn satp(&self) -> u64 {
        (9 << 60) | (self.root >> 12)
    }

    pub fn hart(&self, id: usize) -> Hart {
        let mut h = Hart::new(id, self.machine.clone());
        h.set_satp(self.satp());
        h
    }

    pub fn alloc_page(&mut self) -> u64 {
        let pa = self.next_page << 12;
        self.next_page += 1;
        pa
    }

    pub fn r64(&self, pa: u64) -> u64 {
        self.ram.read(pa, 8).unwrap()
    }
    pub fn w64(&self, pa: u64, v: u64) {
        assert!(self.ram.write(pa, 8, v));
    }

    /// The physical address of the PTE slot for `va` at `level`, creating
    /// intermediate tables down to it.
    pub fn slot(&mut self, va: u64, level: u32) -> u64 {
        let mut table = self.root;
        for l in (level + 1..4).rev() {
            let idx = (va >> (12 + 9 * l)) & 511;
            let pte_pa = table + idx * 8;
            let pte = self.r64(pte_pa);
            if pte & PTE_V == 0 {
                let page = self.alloc_page();
                self.w64(pte_pa, ((page >> 12) << 10) | PTE_V);
                table = page;
            } else {
                table = ((pte >> 10) & ((1 << 44) - 1)) << 12;
            }
        }
        table + ((va >> (12 + 9 * level)) & 511) * 8
    }

    /// Maps the 4 KiB page at `va` to `pa` with `flags`.
    pub fn map(&mut self, va: u64, pa: u64, flags: u64) {
        let s = self.slot(va, 0);
        self.w64(s, ((pa >> 12) << 10) | flags);
    }

    /// Maps a fresh page at `va`; returns its physical address.
    pub fn map_new(&mut self, va: u64, flags: u64) -> u64 {
        let pa = self.alloc_page();
        self.map(va, pa, flags);
        pa
    }

    /// The leaf PTE for 4 KiB `va`.
    pub fn pte(&mut self, va: u64) -> u64 {
        let s = self.slot(va, 0);
        self.r64(s)
    }

    pub fn set_pte(&mut self, va: u64, pte: u64) {
        let s = self.slot(va, 0);
        self.w64(s, pte);
    }

    /// Physical address of virtual `va` through the 4 KiB mapping.
    pub fn pa(&mut self, va: u64) -> u64 {
        let pte = self.pte(va);
        (((pte >> 10) & ((1 << 44) - 1)) << 12) | (va & 0xfff)
    }

    /// Writes bytes at virtual address `va` (already mapped, 4 KiB pages).
    pub fn write_va(&mut self, va: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            let pa = self.pa(va + i as u64);
            assert!(self.ram.write(pa, 1, *b as u64));
        }
    }

    pub fn read_va(&mut self, va: u64, n: usize) -> u64 {
        let mut v = 0;
        for i in 0..n {
            let pa = self.pa(va + i as u64);
            v |= self.ram.read(pa, 1).unwrap() << (8 * i);
        }
        v
    }

    /// Maps code pages at CODE (URX|AD) and a data page at DATA (URW|AD),
    /// then writes the 32-bit words.
    pub fn load(&mut self, words: &[u32]) {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.load_bytes(&bytes);
    }

    pub fn load_bytes(&mut self, bytes: &[u8]) {
        let pages = bytes.len().div_ceil(4096).max(1) as u64;
        for p in 0..pages {
            if self.pte(CODE + p * 4096) & PTE_V == 0 {
                self.map_new(CODE + p * 4096, URX | AD);
            }
        }
        for p in 0..4 {
            if self.pte(DATA + p * 4096) & PTE_V == 0 {
                self.map_new(DATA + p * 4096, URW | AD);
            }
        }
        self.write_va(CODE, bytes);
    }

    /// Loads `words`, runs them on a fresh hart from CODE until a trap;
    /// returns the hart and the exit.
    pub fn run(&mut self, words: &[u32]) -> (Hart, Exit) {
        self.load(words);
        let mut h = self.hart(0);
        h.set_pc(CODE);
        let e = h.run(1_000_000);
        (h, e)
    }
}

/// Runs `words` (ending in ecall) in a fresh environment; asserts the exit
/// is an ecall and returns the hart.
pub fn run_ok(words: &[u32]) -> Hart {
    let mut env = Env::new(1);
    let (h, e) = env.run(words);
    assert_eq!(e, Exit::Ecall, "pc {:#x}", h.pc());
    h
}
