//! Linux's errno values (include/uapi/asm-generic/errno-base.h, errno.h),
//! positive, with the names and messages strace and glibc print.

/// An errno value (positive; syscalls return it negated).
pub type Errno = i32;

macro_rules! errnos {
    ($($name:ident = $val:expr, $msg:expr;)*) => {
        $(#[doc = $msg] pub const $name: Errno = $val;)*

        /// `(name, message)` of an errno, as strace prints them.
        pub fn describe(e: Errno) -> Option<(&'static str, &'static str)> {
            match e {
                $($val => Some((stringify!($name), $msg)),)*
                _ => None,
            }
        }
    };
}

errnos! {
    EPERM = 1, "Operation not permitted";
    ENOENT = 2, "No such file or directory";
    ESRCH = 3, "No such process";
    EINTR = 4, "Interrupted system call";
    EIO = 5, "Input/output error";
    ENXIO = 6, "No such device or address";
    E2BIG = 7, "Argument list too long";
    ENOEXEC = 8, "Exec format error";
    EBADF = 9, "Bad file descriptor";
    ECHILD = 10, "No child processes";
    EAGAIN = 11, "Resource temporarily unavailable";
    ENOMEM = 12, "Cannot allocate memory";
    EACCES = 13, "Permission denied";
    EFAULT = 14, "Bad address";
    EBUSY = 16, "Device or resource busy";
    EEXIST = 17, "File exists";
    EXDEV = 18, "Invalid cross-device link";
    ENODEV = 19, "No such device";
    ENOTDIR = 20, "Not a directory";
    EISDIR = 21, "Is a directory";
    EINVAL = 22, "Invalid argument";
    ENFILE = 23, "Too many open files in system";
    EMFILE = 24, "Too many open files";
    ENOTTY = 25, "Inappropriate ioctl for device";
    ETXTBSY = 26, "Text file busy";
    EFBIG = 27, "File too large";
    ENOSPC = 28, "No space left on device";
    ESPIPE = 29, "Illegal seek";
    EROFS = 30, "Read-only file system";
    EMLINK = 31, "Too many links";
    EPIPE = 32, "Broken pipe";
    EDOM = 33, "Numerical argument out of domain";
    ERANGE = 34, "Numerical result out of range";
    EDEADLK = 35, "Resource deadlock avoided";
    ENAMETOOLONG = 36, "File name too long";
    ENOLCK = 37, "No locks available";
    ENOSYS = 38, "Function not implemented";
    ENOTEMPTY = 39, "Directory not empty";
    ELOOP = 40, "Too many levels of symbolic links";
    ENODATA = 61, "No data available";
    EOVERFLOW = 75, "Value too large for defined data type";
    ELIBBAD = 80, "Accessing a corrupted shared library";
    EILSEQ = 84, "Invalid or incomplete multibyte or wide character";
    EOPNOTSUPP = 95, "Operation not supported";
    ETIMEDOUT = 110, "Connection timed out";
    ERESTARTSYS = 512, "To be restarted if SA_RESTART is set";
    ERESTARTNOINTR = 513, "To be restarted";
    ERESTARTNOHAND = 514, "To be restarted if no handler";
    ERESTART_RESTARTBLOCK = 516, "Interrupted by a signal";
}

/// Whether `e` is one of the kernel-internal restart codes, which never
/// reach user space (the signal code turns them into EINTR or a restart).
pub fn is_restart(e: Errno) -> bool {
    matches!(e, 512 | 513 | 514 | 516)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_messages() {
        assert_eq!(describe(ENOMEM), Some(("ENOMEM", "Cannot allocate memory")));
        assert_eq!(describe(ENOSYS).unwrap().0, "ENOSYS");
        assert_eq!(describe(0), None);
        assert_eq!(describe(4095), None);
    }
}
