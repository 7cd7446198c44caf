//! riscv64's signal frame: arch/riscv/kernel/signal.c (`struct
//! rt_sigframe`, `get_sigframe`, `setup_rt_frame`, `setup_sigcontext`,
//! `sys_rt_sigreturn`, `restore_sigcontext`) over the user ABI of
//! arch/riscv/include/uapi/asm/{sigcontext,ucontext,ptrace}.h.
//!
//! The frame a handler finds on its stack (1088 bytes, 16-byte aligned):
//!
//! ```text
//!    0  siginfo_t info                         128 bytes
//!  128  struct ucontext uc
//!         +0    uc_flags (0)
//!         +8    uc_link (NULL)
//!         +16   uc_stack (stack_t, 24 bytes)
//!         +40   uc_sigmask (the kernel's 8-byte sigset_t) + 120 bytes
//!               of padding to 1024 bits
//!         +176  uc_mcontext (struct sigcontext, 16-byte aligned)
//!                 +0    sc_regs: user_regs_struct: pc, then x1..x31
//!                       (ra, sp, gp, tp, t0-t2, s0, s1, a0-a7, s2-s11,
//!                       t3-t6): the x registers in their own order with
//!                       pc in place of x0
//!                 +256  sc_fpregs: union __riscv_fp_state (528 bytes):
//!                         +0    d.f[32]
//!                         +256  d.fcsr
//!                         +516  sc_extdesc.reserved (0)
//!                         +520  sc_extdesc.hdr: the END context header
//!                               (magic 0, size 0)
//! 1088  end
//! ```
//!
//! The offsets are checked in the tests against the numbers
//! user/sigframe_layout.c prints (glibc's `ucontext_t` and the kernel
//! headers' structs; the END header where Linux 6.5's
//! `__riscv_extra_ext_header` puts it).
//!
//! Where ferrite differs: there is no vector state, so the frame never
//! carries a V context and a frame naming one is refused on return
//! (Linux refuses it too when the task has no vector state); the whole
//! frame is written at once, so the bytes Linux leaves as they were on the
//! stack (the sigmask padding, the unused FP union tail) are zero.
//! qemu-riscv64's own frame is smaller (its sigcontext has no Q-state
//! tail), so a handler there sees `info` 832 bytes below the stack top
//! where Linux and ferrite put it 1088 below; and qemu saves
//! `sas_ss_flags(sp)` as `uc_stack.ss_flags` where Linux (4.7 and later)
//! and ferrite save the flags as set.

use crate::errno::{Errno, EFAULT, EINVAL};
use crate::task::Regs;

use super::siginfo::{SigInfo, SI_MAX_SIZE};
use super::{SigAltStack, SigSet, StackT, STACK_T_SIZE, UNBLOCKABLE};

/// `offsetof(struct rt_sigframe, uc)`.
pub const RT_SIGFRAME_UC: usize = SI_MAX_SIZE;
/// `sizeof(struct rt_sigframe)` (riscv64 with an MMU, no vector state).
pub const RT_SIGFRAME_SIZE: usize = 1088;

/// `offsetof(struct ucontext, uc_flags)`.
pub const UC_FLAGS: usize = 0;
/// `offsetof(struct ucontext, uc_link)`.
pub const UC_LINK: usize = 8;
/// `offsetof(struct ucontext, uc_stack)`.
pub const UC_STACK: usize = 16;
/// `offsetof(struct ucontext, uc_sigmask)`.
pub const UC_SIGMASK: usize = 40;
/// `offsetof(struct ucontext, uc_mcontext)`.
pub const UC_MCONTEXT: usize = 176;
/// `sizeof(struct ucontext)`.
pub const UCONTEXT_SIZE: usize = 960;

/// `offsetof(struct sigcontext, sc_regs)`: 32 words, pc first.
pub const SC_REGS: usize = 0;
/// `offsetof(struct sigcontext, sc_fpregs)`.
pub const SC_FPREGS: usize = 256;
/// `sizeof(struct sigcontext)`.
pub const SIGCONTEXT_SIZE: usize = 784;

/// `sizeof(union __riscv_fp_state)`.
pub const FP_STATE_SIZE: usize = 528;
/// `offsetof(struct __riscv_d_ext_state, fcsr)`.
pub const FP_D_FCSR: usize = 256;
/// `offsetof(struct __riscv_extra_ext_header, reserved)`: must be 0.
pub const FP_EXT_RESERVED: usize = 516;
/// `offsetof(struct __riscv_extra_ext_header, hdr)`: the first extension
/// context header.
pub const FP_EXT_HDR: usize = 520;
/// `END_MAGIC`: the header that ends the extension contexts.
pub const END_MAGIC: u32 = 0;
/// `END_HDR_SIZE`.
pub const END_HDR_SIZE: u32 = 0;
/// `RISCV_V_MAGIC`: a vector-state context (refused: ferrite has none).
pub const RISCV_V_MAGIC: u32 = 0x5346_5457;

/// Frame-relative offsets of the pieces `setup_rt_frame` fills.
const MCONTEXT: usize = RT_SIGFRAME_UC + UC_MCONTEXT;
const REGS: usize = MCONTEXT + SC_REGS;
const FPREGS: usize = MCONTEXT + SC_FPREGS;

/// Register numbers in `Regs::x`.
const RA: usize = 1;
const SP: usize = 2;
const A0: usize = 10;
const A1: usize = 11;
const A2: usize = 12;

/// Writes bytes to user memory at an address (EFAULT if it cannot).
pub type WriteUser<'a> = dyn FnMut(u64, &[u8]) -> Result<(), Errno> + 'a;
/// Fills a buffer from user memory at an address (EFAULT if it cannot).
pub type ReadUser<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), Errno> + 'a;

/// `struct ksignal`: a signal about to be handled, with what its
/// `k_sigaction` said when it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ksignal {
    /// The signal number.
    pub sig: i32,
    /// Its siginfo.
    pub info: SigInfo,
    /// `sa_handler` / `sa_sigaction`.
    pub handler: u64,
    /// `sa_flags`.
    pub sa_flags: u64,
}

fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn get_u64(b: &[u8], off: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(v)
}

fn get_u32(b: &[u8], off: usize) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(&b[off..off + 4]);
    u32::from_le_bytes(v)
}

/// `get_sigframe`: where the frame of a handler with `sa_flags` goes when
/// the task was interrupted at `sp`: below the alternate stack's top for
/// SA_ONSTACK (when set and not in use), else below `sp`; 16-byte aligned
/// (riscv has no red zone). EFAULT when the task runs on the alternate
/// stack and the frame would overflow it (Linux answers with an address
/// that cannot be written, and the signal becomes a SIGSEGV).
pub fn get_sigframe(sp: u64, sa_flags: u64, sas: &SigAltStack) -> Result<u64, Errno> {
    let size = RT_SIGFRAME_SIZE as u64;
    if sas.on_sig_stack(sp) && !sas.on_sig_stack(sp.wrapping_sub(size)) {
        return Err(EFAULT);
    }
    Ok(sas.sigsp(sp, sa_flags).wrapping_sub(size) & !0xf)
}

/// `setup_rt_frame`: build the frame for `ksig` below the interrupted
/// registers' stack (see [`get_sigframe`]) and return the registers the
/// handler starts with: pc = the handler, sp = the frame, a0 = the signal,
/// a1 = &frame.info, a2 = &frame.uc, ra = `restorer` (the vDSO's
/// `__vdso_rt_sigreturn`); every other register keeps its value.
///
/// `regs` are the registers to come back to, after any syscall-restart
/// adjustment ([`super::RestartAction::apply`]); `old_mask` is the mask to
/// restore on return (the blocked set before delivery, or the one
/// sigsuspend saved); `sas` is the task's alternate stack, recorded in
/// `uc_stack` (the caller disarms it afterwards: [`super::signal_delivered`]).
/// `write_user(addr, bytes)` writes user memory (EFAULT on a bad address);
/// on any error the caller forces SIGSEGV (`signal_setup_done`'s
/// `force_sigsegv`).
pub fn setup_rt_frame(
    regs: &Regs,
    ksig: &Ksignal,
    old_mask: SigSet,
    sas: &SigAltStack,
    restorer: u64,
    write_user: &mut WriteUser<'_>,
) -> Result<Regs, Errno> {
    let frame = get_sigframe(regs.x[SP], ksig.sa_flags, sas)?;
    let uc_stack = sas.save();
    let b = build_frame(regs, &ksig.info, old_mask, &uc_stack);
    write_user(frame, &b)?;

    let mut new = regs.clone();
    new.pc = ksig.handler;
    new.x[SP] = frame;
    new.x[RA] = restorer;
    new.x[A0] = ksig.sig as u64;
    new.x[A1] = frame;
    new.x[A2] = frame.wrapping_add(RT_SIGFRAME_UC as u64);
    Ok(new)
}

/// The frame's bytes (`copy_siginfo_to_user`, the ucontext header,
/// `setup_sigcontext`, the mask).
fn build_frame(
    regs: &Regs,
    info: &SigInfo,
    old_mask: SigSet,
    uc_stack: &StackT,
) -> [u8; RT_SIGFRAME_SIZE] {
    let mut b = [0u8; RT_SIGFRAME_SIZE];
    b[..SI_MAX_SIZE].copy_from_slice(&info.to_user());
    let uc = RT_SIGFRAME_UC;
    put_u64(&mut b, uc + UC_FLAGS, 0);
    put_u64(&mut b, uc + UC_LINK, 0);
    b[uc + UC_STACK..uc + UC_STACK + STACK_T_SIZE].copy_from_slice(&uc_stack.to_bytes());
    put_u64(&mut b, uc + UC_SIGMASK, old_mask);
    // sc_regs: pc in the slot of x0.
    put_u64(&mut b, REGS, regs.pc);
    for i in 1..32 {
        put_u64(&mut b, REGS + 8 * i, regs.x[i]);
    }
    for i in 0..32 {
        put_u64(&mut b, FPREGS + 8 * i, regs.f[i]);
    }
    put_u32(&mut b, FPREGS + FP_D_FCSR, regs.fcsr);
    put_u32(&mut b, FPREGS + FP_EXT_RESERVED, 0);
    put_u32(&mut b, FPREGS + FP_EXT_HDR, END_MAGIC);
    put_u32(&mut b, FPREGS + FP_EXT_HDR + 4, END_HDR_SIZE);
    b
}

/// What rt_sigreturn takes back from a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigReturn {
    /// The registers to resume with (a0 included: rt_sigreturn "returns"
    /// the restored a0).
    pub regs: Regs,
    /// The mask to restore (`set_current_blocked`: SIGKILL and SIGSTOP
    /// removed).
    pub mask: SigSet,
    /// `uc_stack`, for [`SigAltStack::restore`] with the restored sp.
    pub uc_stack: StackT,
}

/// `sys_rt_sigreturn`'s reading of the frame at `sp` (the stack pointer
/// at the ecall: the handler has returned through the vDSO with sp back
/// at its frame): the registers (`restore_sigcontext`), the mask and the
/// alternate stack. `read_user(addr, buf)` fills `buf` from user memory.
/// EFAULT for unreadable memory, EINVAL for a frame whose reserved word is
/// set or whose extension contexts are not just the END header; on any
/// error Linux kills the task with SIGSEGV (`badframe`). The caller also
/// cancels any pending `restart_block` (restart_syscall then gives EINTR).
pub fn restore_sigcontext(read_user: &mut ReadUser<'_>, sp: u64) -> Result<SigReturn, Errno> {
    let mut b = [0u8; RT_SIGFRAME_SIZE];
    read_user(sp, &mut b)?;
    let uc = RT_SIGFRAME_UC;
    let mask = get_u64(&b, uc + UC_SIGMASK) & !UNBLOCKABLE;

    let mut regs = Regs {
        pc: get_u64(&b, REGS),
        fcsr: get_u32(&b, FPREGS + FP_D_FCSR),
        ..Regs::default()
    };
    for i in 1..32 {
        regs.x[i] = get_u64(&b, REGS + 8 * i);
    }
    for i in 0..32 {
        regs.f[i] = get_u64(&b, FPREGS + 8 * i);
    }
    if get_u32(&b, FPREGS + FP_EXT_RESERVED) != 0 {
        return Err(EINVAL);
    }
    // The extension contexts: ferrite writes none, so only the END header
    // may follow (a vector context, RISCV_V_MAGIC, needs vector state).
    let magic = get_u32(&b, FPREGS + FP_EXT_HDR);
    let size = get_u32(&b, FPREGS + FP_EXT_HDR + 4);
    if magic != END_MAGIC || size != END_HDR_SIZE {
        return Err(EINVAL);
    }
    let mut st = [0u8; STACK_T_SIZE];
    st.copy_from_slice(&b[uc + UC_STACK..uc + UC_STACK + STACK_T_SIZE]);
    Ok(SigReturn {
        regs,
        mask,
        uc_stack: StackT::from_bytes(&st),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errno::EFAULT;
    use crate::signal::siginfo::{SigFields, SI_TKILL};
    use crate::signal::{
        sigmask, SA_ONSTACK, SA_SIGINFO, SIGHUP, SIGKILL, SIGUSR1, SIGUSR2, SS_AUTODISARM,
        SS_DISABLE,
    };

    /// A flat piece of user memory at `base` for the callbacks.
    struct Mem {
        base: u64,
        bytes: Vec<u8>,
    }

    impl Mem {
        fn new(base: u64, len: usize) -> Mem {
            Mem {
                base,
                bytes: vec![0xa5; len],
            }
        }
        fn range(&self, addr: u64, len: usize) -> Result<std::ops::Range<usize>, Errno> {
            let off = addr.checked_sub(self.base).ok_or(EFAULT)? as usize;
            let end = off.checked_add(len).ok_or(EFAULT)?;
            if end > self.bytes.len() {
                return Err(EFAULT);
            }
            Ok(off..end)
        }
        fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), Errno> {
            let r = self.range(addr, data.len())?;
            self.bytes[r].copy_from_slice(data);
            Ok(())
        }
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
            let r = self.range(addr, buf.len())?;
            buf.copy_from_slice(&self.bytes[r]);
            Ok(())
        }
        fn u64_at(&self, addr: u64) -> u64 {
            let mut b = [0u8; 8];
            self.read(addr, &mut b).unwrap();
            u64::from_le_bytes(b)
        }
        fn u32_at(&self, addr: u64) -> u32 {
            let mut b = [0u8; 4];
            self.read(addr, &mut b).unwrap();
            u32::from_le_bytes(b)
        }
    }

    fn sample_regs(sp: u64) -> Regs {
        let mut r = Regs::default();
        for i in 1..32 {
            r.x[i] = 0x1000_0000_0000_0000 | (i as u64) << 8 | i as u64;
        }
        r.x[SP] = sp;
        for i in 0..32 {
            r.f[i] = 0x4000_0000_0000_0000 | i as u64;
        }
        r.pc = 0x10_4567;
        r.fcsr = 0xe5;
        r
    }

    fn ksig(flags: u64) -> Ksignal {
        Ksignal {
            sig: SIGUSR1,
            info: SigInfo::tkill(SIGUSR1, 42, 1000),
            handler: 0x2_0000,
            sa_flags: flags,
        }
    }

    /// The numbers user/sigframe_layout.c printed under qemu-riscv64:
    /// glibc's `ucontext_t`/`mcontext_t` and the kernel headers' structs
    /// agree, and the frame is siginfo + ucontext.
    #[test]
    fn layout_matches_the_c_headers() {
        // sizeof ucontext_t 960 / struct ucontext 960.
        assert_eq!(UCONTEXT_SIZE, 960);
        // offsetof uc_flags 0, uc_link 8, uc_stack 16, uc_sigmask 40,
        // uc_mcontext 176.
        assert_eq!(
            (UC_FLAGS, UC_LINK, UC_STACK, UC_SIGMASK, UC_MCONTEXT),
            (0, 8, 16, 40, 176)
        );
        // sizeof mcontext_t 784 = struct sigcontext; __gregs 0;
        // __fpregs 256; __d.__fcsr 512 (from the mcontext).
        assert_eq!((SIGCONTEXT_SIZE, SC_REGS, SC_FPREGS), (784, 0, 256));
        assert_eq!(SC_FPREGS + FP_D_FCSR, 512);
        // sc_regs: pc 0, ra 8, sp 16, a0 80, a7 136, t6 248.
        assert_eq!(
            (RA * 8, SP * 8, A0 * 8, 17 * 8, 31 * 8),
            (8, 16, 80, 136, 248)
        );
        // union __riscv_fp_state 528; q.reserved 516; the 6.5 extension
        // header: reserved 516, hdr 520, size 528.
        assert_eq!(
            (FP_STATE_SIZE, FP_EXT_RESERVED, FP_EXT_HDR),
            (528, 516, 520)
        );
        assert_eq!(SC_FPREGS + FP_STATE_SIZE, SIGCONTEXT_SIZE);
        // sizeof rt_sigframe 1088, uc at 128, alignment 16.
        assert_eq!((RT_SIGFRAME_SIZE, RT_SIGFRAME_UC), (1088, 128));
        assert_eq!(RT_SIGFRAME_UC + UCONTEXT_SIZE, RT_SIGFRAME_SIZE);
        assert_eq!(UC_MCONTEXT + SIGCONTEXT_SIZE, UCONTEXT_SIZE);
        assert_eq!(RT_SIGFRAME_SIZE % 16, 0);
    }

    #[test]
    fn frame_contents_and_handler_registers() {
        let top = 0x7fff_f000u64;
        let mut mem = Mem::new(top - 0x2000, 0x2000);
        let sp = top - 0x13; // unaligned on purpose
        let regs = sample_regs(sp);
        let k = ksig(SA_SIGINFO);
        let old = sigmask(SIGHUP);
        let sas = SigAltStack::default();
        let new =
            setup_rt_frame(&regs, &k, old, &sas, 0x3_0000, &mut |a, d| mem.write(a, d)).unwrap();

        let frame = (sp - 1088) & !0xf;
        assert_eq!(new.x[SP], frame);
        assert_eq!(new.pc, 0x2_0000);
        assert_eq!(new.x[RA], 0x3_0000);
        assert_eq!(
            (new.x[A0], new.x[A1], new.x[A2]),
            (SIGUSR1 as u64, frame, frame + 128)
        );
        // Every other register as it was.
        for i in (3..32).filter(|&i| !(10..=12).contains(&i)) {
            assert_eq!(new.x[i], regs.x[i], "x{i}");
        }
        assert_eq!((new.f, new.fcsr), (regs.f, regs.fcsr));

        // What the C program's handler read: si_signo, si_code SI_TKILL,
        // si_pid; gregs[0] = pc, gregs[i] = x[i]; f and fcsr; the mask.
        assert_eq!(mem.u32_at(frame) as i32, SIGUSR1);
        assert_eq!(mem.u32_at(frame + 8) as i32, SI_TKILL);
        assert_eq!(mem.u32_at(frame + 16), 42);
        let uc = frame + 128;
        assert_eq!(mem.u64_at(uc), 0); // uc_flags
        assert_eq!(mem.u64_at(uc + 8), 0); // uc_link
        assert_eq!(mem.u64_at(uc + 40), old);
        let g = uc + 176;
        assert_eq!(mem.u64_at(g), regs.pc);
        for i in 1..32 {
            assert_eq!(mem.u64_at(g + 8 * i as u64), regs.x[i]);
        }
        for i in 0..32 {
            assert_eq!(mem.u64_at(g + 256 + 8 * i as u64), regs.f[i]);
        }
        assert_eq!(mem.u32_at(g + 512), 0xe5);
        assert_eq!(mem.u32_at(g + 256 + 516), 0); // reserved
        assert_eq!(mem.u64_at(g + 256 + 520), 0); // END header
                                                  // uc_stack: the task's stack as set (all zero: never set).
        assert_eq!(
            (
                mem.u64_at(uc + 16),
                mem.u32_at(uc + 24),
                mem.u64_at(uc + 32)
            ),
            (0, 0, 0)
        );
        // Nothing written above the frame.
        let above = (frame + 1088 - mem.base) as usize;
        assert!(mem.bytes[above..].iter().all(|&x| x == 0xa5));
    }

    #[test]
    fn round_trip_restores_registers_mask_and_stack() {
        let top = 0x7fff_f000u64;
        let mut mem = Mem::new(top - 0x4000, 0x4000);
        let regs = sample_regs(top - 0x100);
        let sas = SigAltStack {
            sp: 0x5000,
            size: 0x3000,
            flags: SS_AUTODISARM,
        };
        let old = sigmask(SIGHUP) | sigmask(SIGUSR2);
        let new = setup_rt_frame(&regs, &ksig(0), old, &sas, 0x3_0000, &mut |a, d| {
            mem.write(a, d)
        })
        .unwrap();
        // The handler runs and returns through the vDSO: sp is back at
        // the frame when rt_sigreturn is called.
        let back = restore_sigcontext(&mut |a, b| mem.read(a, b), new.x[SP]).unwrap();
        assert_eq!(back.regs, regs);
        assert_eq!(back.mask, old);
        assert_eq!(
            back.uc_stack,
            StackT {
                ss_sp: 0x5000,
                ss_flags: SS_AUTODISARM as i32,
                ss_size: 0x3000
            }
        );

        // A handler that edits its ucontext changes what comes back; the
        // mask never gets SIGKILL; x0 stays 0.
        let uc = new.x[A2];
        mem.write(uc + 176, &0x9999u64.to_le_bytes()).unwrap(); // pc
        mem.write(uc + 176 + 80, &7u64.to_le_bytes()).unwrap(); // a0
        mem.write(uc + 40, &(old | sigmask(SIGKILL)).to_le_bytes())
            .unwrap();
        let back = restore_sigcontext(&mut |a, b| mem.read(a, b), new.x[SP]).unwrap();
        assert_eq!(
            (back.regs.pc, back.regs.x[A0], back.regs.x[0]),
            (0x9999, 7, 0)
        );
        assert_eq!(back.mask, old);
    }

    #[test]
    fn bad_frames_are_refused() {
        let top = 0x7fff_f000u64;
        let mut mem = Mem::new(top - 0x4000, 0x4000);
        let regs = sample_regs(top - 0x100);
        let sas = SigAltStack::default();
        let new = setup_rt_frame(&regs, &ksig(0), 0, &sas, 0, &mut |a, d| mem.write(a, d)).unwrap();
        let fp = new.x[A2] + 176 + 256;
        let read = |m: &Mem| restore_sigcontext(&mut |a, b| m.read(a, b), new.x[SP]);
        // The reserved word.
        mem.write(fp + 516, &1u32.to_le_bytes()).unwrap();
        assert_eq!(read(&mem), Err(EINVAL));
        mem.write(fp + 516, &0u32.to_le_bytes()).unwrap();
        // A vector context ferrite cannot restore, or a bad END size.
        mem.write(fp + 520, &RISCV_V_MAGIC.to_le_bytes()).unwrap();
        assert_eq!(read(&mem), Err(EINVAL));
        mem.write(fp + 520, &[0, 0, 0, 0, 8, 0, 0, 0]).unwrap();
        assert_eq!(read(&mem), Err(EINVAL));
        mem.write(fp + 520, &[0; 8]).unwrap();
        assert!(read(&mem).is_ok());
        // A frame partly outside user memory.
        assert_eq!(
            restore_sigcontext(&mut |a, b| mem.read(a, b), top - 1000),
            Err(EFAULT)
        );
        assert_eq!(
            restore_sigcontext(&mut |a, b| mem.read(a, b), u64::MAX - 8),
            Err(EFAULT)
        );
    }

    #[test]
    fn unwritable_stack_is_efault() {
        let mut mem = Mem::new(0x10000, 0x1000);
        // The frame would go below the memory.
        let regs = sample_regs(0x10000 + 0x100);
        let r = setup_rt_frame(
            &regs,
            &ksig(0),
            0,
            &SigAltStack::default(),
            0,
            &mut |a, d| mem.write(a, d),
        );
        assert_eq!(r, Err(EFAULT));
        // An sp near 0 wraps to an address nobody can write.
        let regs = sample_regs(0x10);
        let r = setup_rt_frame(
            &regs,
            &ksig(0),
            0,
            &SigAltStack::default(),
            0,
            &mut |a, d| mem.write(a, d),
        );
        assert_eq!(r, Err(EFAULT));
    }

    #[test]
    fn alternate_stack() {
        let mut mem = Mem::new(0x10000, 0x20000);
        let sas = SigAltStack {
            sp: 0x20000,
            size: 0x4000,
            flags: 0,
        };
        // SA_ONSTACK from the normal stack: below the alternate top.
        let regs = sample_regs(0x2f000);
        let new = setup_rt_frame(&regs, &ksig(SA_ONSTACK), 0, &sas, 0, &mut |a, d| {
            mem.write(a, d)
        })
        .unwrap();
        assert_eq!(new.x[SP], 0x24000 - 1088);
        // uc_stack records the stack with the flags as set.
        let uc = new.x[A2];
        assert_eq!(
            (
                mem.u64_at(uc + 16),
                mem.u32_at(uc + 24),
                mem.u64_at(uc + 32)
            ),
            (0x20000, 0, 0x4000)
        );
        // Without SA_ONSTACK: the normal stack.
        let new = setup_rt_frame(&regs, &ksig(0), 0, &sas, 0, &mut |a, d| mem.write(a, d)).unwrap();
        assert_eq!(new.x[SP], (0x2f000 - 1088) & !0xf);
        // Already on the alternate stack: nested frame below the sp.
        let regs = sample_regs(0x23000);
        let new = setup_rt_frame(&regs, &ksig(SA_ONSTACK), 0, &sas, 0, &mut |a, d| {
            mem.write(a, d)
        })
        .unwrap();
        assert_eq!(new.x[SP], (0x23000 - 1088) & !0xf);
        // On it, and the frame would overflow it: EFAULT.
        assert_eq!(get_sigframe(0x20000 + 1000, SA_ONSTACK, &sas), Err(EFAULT));
        // A disabled stack is not used.
        let mut off = sas;
        off.reset();
        assert_eq!(off.flags, SS_DISABLE as u32);
        assert_eq!(
            get_sigframe(0x2f000, SA_ONSTACK, &off),
            Ok((0x2f000 - 1088) & !0xf)
        );
    }

    #[test]
    fn siginfo_in_frame_is_what_was_queued() {
        let mut mem = Mem::new(0x10000, 0x2000);
        let regs = sample_regs(0x12000);
        let mut k = ksig(SA_SIGINFO);
        k.info = SigInfo::rt(SIGUSR1, -1, 5, 6, 0xabcdef);
        let new = setup_rt_frame(&regs, &k, 0, &SigAltStack::default(), 0, &mut |a, d| {
            mem.write(a, d)
        })
        .unwrap();
        let mut b = [0u8; 128];
        mem.read(new.x[A1], &mut b).unwrap();
        let back = SigInfo::from_user(&b).unwrap();
        assert_eq!(back, k.info);
        assert_eq!(
            back.fields(),
            SigFields::Rt {
                pid: 5,
                uid: 6,
                value: 0xabcdef
            }
        );
    }
}
