//! ferrite's kernel proper: boot, tasks, the syscall table, exec and files
//! (Linux's kernel/, fs/ and init/), over the `mm` crate's memory manager
//! and the `rv64` crate's harts.
//!
//! - [`boot`], [`ram`], [`size`]: the machine's RAM from the host and the
//!   memory subsystems' boot (`start_kernel`'s `mm_core_init`).
//! - [`kernel`]: the running kernel: init, the run queue, exit.
//! - [`trap`]: each hart's thread and the user-trap handling.
//! - [`syscall`]: the riscv64 syscall table; [`strace`] prints it.
//! - [`signal`]: signal numbers, pending sets, the riscv signal frame.
//! - [`task`]: `task_struct`; [`procfs`]: what /proc shows of processes.
//! - [`exec`]: the ELF loader; [`fs`]: files (hostfs, /proc, descriptors).
//! - [`panic`](mod@panic): kernel panics (`BUG`, `panic()`): the report and the stop
//!   of every hart; [`quote`]: untrusted strings escaped for messages.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod asid;
pub mod boot;
pub mod errno;
pub mod exec;
pub mod execve;
pub mod exit;
pub mod fork;
pub mod fs;
pub mod futex;
pub mod ipc;
pub mod itimer;
pub mod kernel;
pub mod mm_ref;
pub mod oom_kill;
pub mod panic;
pub mod pid;
pub mod posix_timers;
pub mod procfs;
pub mod quote;
pub mod ram;
pub mod random;
pub mod sched;
pub mod sigcore;
pub mod signal;
pub mod signal_deliver;
pub mod size;
pub mod strace;
pub mod syscall;
pub mod task;
pub mod time;
pub mod trace;
pub mod trap;

pub use kernel::{Config, ExitStatus, Kernel, Outcome, RunError, Stats};
