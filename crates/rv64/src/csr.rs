//! Zicsr: the CSRs a U-mode Linux process can reach. fflags/frm/fcsr are
//! the FP control and status register (Linux saves it in `__riscv_d_ext_state`);
//! cycle/time/instret are the user counters (Linux lets user space read
//! `time` through the vDSO and, when enabled, cycle/instret). `cycle`
//! counts retired instructions (ferrite has no cycle model); `time` is the
//! host monotonic clock at 10 MHz, qemu virt's timebase, or, when the
//! kernel gives the hart a virtual clock ([`crate::Hart::set_time_base`]),
//! that clock at the same 10 MHz. Writes to the
//! read-only counters and any access to another CSR are illegal.

use crate::decode::Inst;
use crate::exec::Cpu;
use crate::Exit;

/// CSR numbers.
pub const FFLAGS: u32 = 0x001;
/// Dynamic rounding mode.
pub const FRM: u32 = 0x002;
/// fflags | frm << 5.
pub const FCSR: u32 = 0x003;
/// Cycle counter (read-only).
pub const CYCLE: u32 = 0xc00;
/// Timer (read-only).
pub const TIME: u32 = 0xc01;
/// Retired-instruction counter (read-only).
pub const INSTRET: u32 = 0xc02;

impl Cpu {
    /// Executes a csrrw/csrrs/csrrc(/i). `retired` is the hart's instret
    /// at this instruction.
    pub(crate) fn exec_csr(&mut self, i: &Inst, retired: u64) -> Result<(), Exit> {
        let csr = (i.imm as u64 & 0xfff) as u32;
        let f3 = i.sub;
        let src = if f3 >= 5 {
            i.rs1 as u64
        } else {
            self.x[i.rs1 as usize]
        };
        let writes = f3 & 3 == 1 || i.rs1 != 0;
        let ill = Exit::Illegal { bits: ill_bits(i) };
        let old = match csr {
            FFLAGS => (self.fcsr & 0x1f) as u64,
            FRM => ((self.fcsr >> 5) & 7) as u64,
            FCSR => (self.fcsr & 0xff) as u64,
            CYCLE | INSTRET if !writes => retired,
            TIME if !writes => match self.vtime {
                // 1 ns per instruction, read at the 10 MHz timebase.
                Some((ns, at)) => ns.wrapping_add(retired.wrapping_sub(at)) / 100,
                None => self.machine.time(),
            },
            _ => return Err(ill),
        };
        if writes {
            let new = match f3 & 3 {
                1 => src,
                2 => old | src,
                _ => old & !src,
            };
            let v = new as u32;
            self.fcsr = match csr {
                FFLAGS => (self.fcsr & !0x1f) | (v & 0x1f),
                FRM => (self.fcsr & !0xe0) | ((v & 7) << 5),
                _ => v & 0xff,
            };
        }
        self.x[i.rd as usize] = old;
        Ok(())
    }
}

/// Re-encodes a decoded CSR instruction's bits for an Illegal exit.
fn ill_bits(i: &Inst) -> u32 {
    let rd = if i.rd == crate::decode::XZERO_SINK {
        0
    } else {
        i.rd as u32
    };
    ((i.imm as u32 & 0xfff) << 20)
        | ((i.rs1 as u32) << 15)
        | ((i.sub as u32) << 12)
        | (rd << 7)
        | 0x73
}
