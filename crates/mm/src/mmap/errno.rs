//! Linux errno values (include/uapi/asm-generic/errno-base.h and errno.h),
//! positive, as the mmap family returns them in `Err`.

/// Operation not permitted.
pub const EPERM: i32 = 1;
/// Bad file number.
pub const EBADF: i32 = 9;
/// Try again (mlock could not populate for want of memory).
pub const EAGAIN: i32 = 11;
/// Out of memory.
pub const ENOMEM: i32 = 12;
/// Permission denied.
pub const EACCES: i32 = 13;
/// Bad address.
pub const EFAULT: i32 = 14;
/// File exists.
pub const EEXIST: i32 = 17;
/// Invalid argument.
pub const EINVAL: i32 = 22;
/// File too large.
pub const EFBIG: i32 = 27;
/// No space left on device.
pub const ENOSPC: i32 = 28;
/// Value too large for defined data type.
pub const EOVERFLOW: i32 = 75;
/// Operation not supported.
pub const EOPNOTSUPP: i32 = 95;
