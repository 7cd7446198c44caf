//! Entering a signal handler (arch/riscv/kernel/signal.c `setup_rt_frame`)
//! and leaving it (`rt_sigreturn`): the frame code is in `crate::signal`.

use mm::percpu::Cpu;
use rv64::Hart;

use crate::errno::{Errno, EFAULT};
use crate::kernel::Kernel;
use crate::mm_ref::MmGrab;
use crate::sigcore::SigQueued;
use crate::task::{SigAction, TaskRef};

/// Build the frame for `info` and point the hart at the handler.
pub fn setup_rt_frame(
    _k: &Kernel,
    _cpu: &Cpu<'static>,
    _hart: &mut Hart,
    _task: &TaskRef,
    _mm: &MmGrab,
    _info: &SigQueued,
    _action: &SigAction,
) -> Result<(), Errno> {
    Err(EFAULT)
}

/// `rt_sigreturn`: restore what the frame at the user sp saved.
pub fn restore_rt_frame(_s: &mut crate::syscall::Sys<'_>) -> Result<(), Errno> {
    Err(EFAULT)
}
