//! The flag values of the riscv64 Linux ABI that the file syscalls take
//! (include/uapi/asm-generic/fcntl.h, linux/fcntl.h, linux/stat.h,
//! linux/fs.h). riscv64 uses the generic values; they are spelled out here
//! rather than taken from the host's `libc`, whose values may differ.

/// Open for reading only.
pub const O_RDONLY: i32 = 0o0;
/// Open for writing only.
pub const O_WRONLY: i32 = 0o1;
/// Open for reading and writing.
pub const O_RDWR: i32 = 0o2;
/// The access-mode bits.
pub const O_ACCMODE: i32 = 0o3;
/// Create the file if it does not exist.
pub const O_CREAT: i32 = 0o100;
/// With `O_CREAT`: fail if the file exists.
pub const O_EXCL: i32 = 0o200;
/// Do not make a terminal the controlling terminal.
pub const O_NOCTTY: i32 = 0o400;
/// Truncate a regular file to length 0.
pub const O_TRUNC: i32 = 0o1000;
/// Every write goes to the end of the file.
pub const O_APPEND: i32 = 0o2000;
/// Non-blocking I/O.
pub const O_NONBLOCK: i32 = 0o4000;
/// Synchronous data writes.
pub const O_DSYNC: i32 = 0o10000;
/// Signal-driven I/O.
pub const O_ASYNC: i32 = 0o20000;
/// Direct I/O (accepted, ignored).
pub const O_DIRECT: i32 = 0o40000;
/// Large files (always on for 64-bit).
pub const O_LARGEFILE: i32 = 0o100000;
/// Fail unless the path names a directory.
pub const O_DIRECTORY: i32 = 0o200000;
/// Do not follow a symlink in the last component.
pub const O_NOFOLLOW: i32 = 0o400000;
/// Do not update the access time.
pub const O_NOATIME: i32 = 0o1000000;
/// Close on exec.
pub const O_CLOEXEC: i32 = 0o2000000;
/// Synchronous writes (`__O_SYNC | O_DSYNC`).
pub const O_SYNC: i32 = 0o4010000;
/// A path-only descriptor.
pub const O_PATH: i32 = 0o10000000;
/// An unnamed temporary file (`__O_TMPFILE | O_DIRECTORY`).
pub const O_TMPFILE: i32 = 0o20200000;

/// `dirfd` meaning the current working directory.
pub const AT_FDCWD: i32 = -100;
/// Do not follow a symlink in the last component.
pub const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
/// `unlinkat`: remove a directory.
pub const AT_REMOVEDIR: i32 = 0x200;
/// `faccessat2`: check with the effective ids.
pub const AT_EACCESS: i32 = 0x200;
/// Do not automount (accepted, ignored).
pub const AT_NO_AUTOMOUNT: i32 = 0x800;
/// An empty path names `dirfd` itself.
pub const AT_EMPTY_PATH: i32 = 0x1000;
/// `linkat`: follow a symlink in the old path's last component.
pub const AT_SYMLINK_FOLLOW: i32 = 0x400;

/// `access` modes.
pub const F_OK: i32 = 0;
/// Execute (search) permission.
pub const X_OK: i32 = 1;
/// Write permission.
pub const W_OK: i32 = 2;
/// Read permission.
pub const R_OK: i32 = 4;

/// `lseek` whence values.
pub const SEEK_SET: i32 = 0;
/// Relative to the current position.
pub const SEEK_CUR: i32 = 1;
/// Relative to the end of the file.
pub const SEEK_END: i32 = 2;
/// The next data at or after the offset.
pub const SEEK_DATA: i32 = 3;
/// The next hole at or after the offset.
pub const SEEK_HOLE: i32 = 4;

/// `fcntl` commands.
pub const F_DUPFD: i32 = 0;
/// Get the descriptor flags.
pub const F_GETFD: i32 = 1;
/// Set the descriptor flags.
pub const F_SETFD: i32 = 2;
/// Get the status flags.
pub const F_GETFL: i32 = 3;
/// Set the status flags.
pub const F_SETFL: i32 = 4;
/// `F_DUPFD` with close-on-exec.
pub const F_DUPFD_CLOEXEC: i32 = 1030;
/// The close-on-exec descriptor flag.
pub const FD_CLOEXEC: i32 = 1;

/// File type bits of `st_mode`.
pub const S_IFMT: u32 = 0o170000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// FIFO.
pub const S_IFIFO: u32 = 0o010000;

/// `PATH_MAX`, the terminating NUL included.
pub const PATH_MAX: usize = 4096;
/// `NAME_MAX`.
pub const NAME_MAX: usize = 255;
/// `MAXSYMLINKS`: symlinks followed in one lookup.
pub const MAXSYMLINKS: u32 = 40;
/// Open descriptors per process (`RLIMIT_NOFILE`'s usual soft limit).
pub const NR_OPEN: usize = 1024;
/// `MAX_RW_COUNT`: the most one read or write transfers.
pub const MAX_RW_COUNT: usize = 0x7fff_f000;

/// `F_ADD_SEALS` (fcntl on a memfd or tmpfs file).
pub const F_ADD_SEALS: i32 = 1033;
/// `F_GET_SEALS`.
pub const F_GET_SEALS: i32 = 1034;
/// `F_SEAL_SEAL`: no more seals may be added.
pub const F_SEAL_SEAL: u32 = 0x1;
/// `F_SEAL_SHRINK`: the size may not go down.
pub const F_SEAL_SHRINK: u32 = 0x2;
/// `F_SEAL_GROW`: the size may not go up.
pub const F_SEAL_GROW: u32 = 0x4;
/// `F_SEAL_WRITE`: the contents may not change.
pub const F_SEAL_WRITE: u32 = 0x8;
/// `F_SEAL_FUTURE_WRITE`: no new writable access.
pub const F_SEAL_FUTURE_WRITE: u32 = 0x10;
/// `F_SEAL_EXEC`: the execute bits may not change.
pub const F_SEAL_EXEC: u32 = 0x20;
/// Every seal.
pub const F_ALL_SEALS: u32 = 0x3f;

/// `MFD_CLOEXEC`.
pub const MFD_CLOEXEC: u32 = 0x1;
/// `MFD_ALLOW_SEALING`.
pub const MFD_ALLOW_SEALING: u32 = 0x2;
/// `MFD_HUGETLB`.
pub const MFD_HUGETLB: u32 = 0x4;
/// `MFD_NOEXEC_SEAL`.
pub const MFD_NOEXEC_SEAL: u32 = 0x8;
/// `MFD_EXEC`.
pub const MFD_EXEC: u32 = 0x10;
/// The longest memfd name (`NAME_MAX` less `memfd:`).
pub const MFD_NAME_MAX_LEN: usize = 249;
