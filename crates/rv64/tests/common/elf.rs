//! A minimal static-ELF loader and syscall loop (write, exit) for tests
//! and benches that run real compiled programs.
#![allow(dead_code)]

use super::*;
use rv64::mmu::{PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X};
use rv64::{Exit, Hart};

fn u16at(b: &[u8], o: usize) -> u64 {
    u16::from_le_bytes(b[o..o + 2].try_into().unwrap()) as u64
}
fn u32at(b: &[u8], o: usize) -> u64 {
    u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as u64
}
fn u64at(b: &[u8], o: usize) -> u64 {
    u64::from_le_bytes(b[o..o + 8].try_into().unwrap())
}

/// Loads `elf`'s PT_LOAD segments and a stack; returns a hart at the entry.
pub fn load(env: &mut Env, elf: &[u8]) -> Hart {
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(u16at(elf, 18), 243, "EM_RISCV");
    let entry = u64at(elf, 24);
    let phoff = u64at(elf, 32) as usize;
    let phentsize = u16at(elf, 54) as usize;
    let phnum = u16at(elf, 56) as usize;
    for k in 0..phnum {
        let ph = phoff + k * phentsize;
        if u32at(elf, ph) != 1 {
            continue; // PT_LOAD only
        }
        let flags = u32at(elf, ph + 4);
        let (off, va, filesz, memsz) = (
            u64at(elf, ph + 8) as usize,
            u64at(elf, ph + 16),
            u64at(elf, ph + 32),
            u64at(elf, ph + 40),
        );
        let mut pte = PTE_V | PTE_U;
        if flags & 1 != 0 {
            pte |= PTE_X;
        }
        if flags & 2 != 0 {
            pte |= PTE_W | PTE_D;
        }
        if flags & 4 != 0 {
            pte |= PTE_R;
        }
        let mut page = va & !0xfff;
        while page < va + memsz {
            if env.pte(page) & PTE_V == 0 {
                // leave A clear on code so the walk sets it
                env.map_new(page, pte | if flags & 2 != 0 { PTE_A } else { 0 });
            } else {
                let old = env.pte(page);
                env.set_pte(page, old | pte);
            }
            page += 4096;
        }
        env.write_va(va, &elf[off..off + filesz as usize]);
    }
    let stack_top = 0x7fff_0000u64;
    for p in 1..=4 {
        env.map_new(stack_top - p * 4096, URW | AD);
    }
    let mut h = env.hart(0);
    h.set_pc(entry);
    h.set_x(2, stack_top);
    h
}

/// Runs until exit(2); returns what the program wrote.
pub fn run_to_exit(env: &mut Env, h: &mut Hart) -> Vec<u8> {
    run_to_exit_budget(env, h, 1 << 20)
}

/// Runs until exit(2) in slices of `budget` instructions, checking that
/// each slice retires exactly `budget`; returns what the program wrote.
pub fn run_to_exit_budget(env: &mut Env, h: &mut Hart, budget: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let before = h.instret();
        match h.run(budget) {
            Exit::Budget if h.instret() - before == budget => continue,
            Exit::Budget => panic!("slice retired {} of {budget}", h.instret() - before),
            Exit::Ecall => match h.x(17) {
                64 => {
                    let (buf, len) = (h.x(11), h.x(12) as usize);
                    for i in 0..len {
                        out.push(env.read_va(buf + i as u64, 1) as u8);
                    }
                    h.set_x(10, len as u64);
                    h.set_pc(h.pc() + 4);
                }
                93 => return out,
                n => panic!("unexpected syscall {n}"),
            },
            e => panic!("unexpected exit {e:?} at {:#x}", h.pc()),
        }
    }
}
