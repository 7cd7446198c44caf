//! End to end: a real compiler's RV64GC output (tests/fixtures/prog.elf,
//! integer, M, F and D code with compressed instructions) loaded from its
//! ELF program headers onto Sv48 mappings and run to its exit syscall; its
//! output must match what qemu-riscv64 prints for the same binary.
mod common;
use common::*;

const EXPECTED: &str = "hash=34a967d14a4636d3\nisqrt=0000000000002b67\ndwork=40d38d028afa4e15\n\
         dwork_i=0000000001317b47\nfwork=000000003fcc190d\nsum=e1e1e1e1e1881f7d\n";

#[test]
fn compiled_program_matches_qemu() {
    let mut env = Env::new(1);
    let mut h = elf::load(&mut env, include_bytes!("fixtures/prog.elf"));
    let out = elf::run_to_exit(&mut env, &mut h);
    assert_eq!(String::from_utf8(out).unwrap(), EXPECTED);
    assert!(h.instret() > 1_000_000, "{}", h.instret());
}

/// The same program cut into budget slices of awkward sizes (so slices end
/// inside blocks, next to taken and untaken branches): same output, same
/// instruction count.
#[test]
fn compiled_program_under_small_budgets() {
    let mut reference = 0;
    for budget in [1 << 20, 7, 3, 1] {
        let mut env = Env::new(1);
        let mut h = elf::load(&mut env, include_bytes!("fixtures/prog.elf"));
        let out = elf::run_to_exit_budget(&mut env, &mut h, budget);
        assert_eq!(String::from_utf8(out).unwrap(), EXPECTED, "budget {budget}");
        if reference == 0 {
            reference = h.instret();
        }
        assert_eq!(h.instret(), reference, "budget {budget}");
    }
}
