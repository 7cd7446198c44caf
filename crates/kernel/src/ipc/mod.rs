//! Inter-process communication: Linux's ipc/ (the IPC namespace, the
//! common permission check `ipcperms`, and System V shared memory in
//! [`shm`]).
//!
//! Where ferrite differs: one IPC namespace for the whole machine, no
//! message queues or semaphores yet.

pub mod shm;

/// `struct ipc_namespace`: the System V objects of the machine.
#[derive(Default)]
pub struct IpcNamespace {
    /// The shared-memory segments (`shm_ids`).
    pub shm: std::sync::Mutex<shm::ShmIds>,
}

/// `IPC_PRIVATE`.
pub const IPC_PRIVATE: i32 = 0;
/// `IPC_CREAT`, `IPC_EXCL`, `IPC_NOWAIT`.
pub const IPC_CREAT: u64 = 0o1000;
pub const IPC_EXCL: u64 = 0o2000;
/// `shmctl` commands.
pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_INFO: i32 = 3;
/// `IPCMNI_SHIFT`: an id is `seq << IPCMNI_SHIFT | index`.
pub const IPCMNI_SHIFT: u32 = 15;
/// `IPCMNI`: the most objects of a kind.
pub const IPCMNI: usize = 1 << IPCMNI_SHIFT;
/// `ipc_min_cycle` (`RADIX_TREE_MAP_SIZE`).
pub const IPC_MIN_CYCLE: usize = 64;

/// The ids and modes `ipcperms` looks at.
#[derive(Clone, Copy, Debug, Default)]
pub struct IpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// The mode bits (and the kind's own flags above 0o777).
    pub mode: u32,
    pub seq: u16,
}

/// `ipcperms`: whether `cred` may access the object as `flag`'s low nine
/// bits ask (owner, group or other bits as the caller relates to it);
/// CAP_IPC_OWNER overrides.
pub fn ipcperms(cred: &crate::task::Cred, p: &IpcPerm, flag: u32) -> bool {
    let requested = ((flag >> 6) | (flag >> 3) | flag) & 0o7;
    let mut granted = p.mode;
    if cred.euid == p.cuid || cred.euid == p.uid {
        granted >>= 6;
    } else if cred.in_group(p.cgid) || cred.in_group(p.gid) {
        granted >>= 3;
    }
    requested & !granted & 0o7 == 0 || cred.capable(crate::syscall::cred::CAP_IPC_OWNER)
}
