/* Helpers shared by ferrite's user programs: self-checks that fail loudly,
 * and errno names (deterministic output prints names, never numbers that a
 * reader has to look up). */
#ifndef FERRITE_CHECK_H
#define FERRITE_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int check_failures;

/* Record a failed self-check with its location; the program carries on so
 * that one run reports every failure, and exits 1 at the end (see
 * check_exit). */
#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fflush(stdout);                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            check_failures++;                                              \
        }                                                                  \
    } while (0)

/* Compare two 64-bit values, printing both on failure. */
#define CHECK_EQ(got, want)                                                \
    do {                                                                   \
        unsigned long long g_ = (unsigned long long)(got);                 \
        unsigned long long w_ = (unsigned long long)(want);                \
        if (g_ != w_) {                                                    \
            fflush(stdout);                                                \
            fprintf(stderr, "%s:%d: check failed: %s = %#llx, want %#llx\n", \
                    __FILE__, __LINE__, #got, g_, w_);                     \
            check_failures++;                                              \
        }                                                                  \
    } while (0)

static inline int check_exit(const char *prog)
{
    fflush(stdout);
    if (check_failures) {
        fprintf(stderr, "%s: %d self-check(s) failed\n", prog, check_failures);
        return 1;
    }
    return 0;
}

static inline const char *errname(int e)
{
    switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case ENOEXEC: return "ENOEXEC";
    case EBADF: return "EBADF";
    case ECHILD: return "ECHILD";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "errno %d", e);
        return buf;
    }
    }
}

#endif
