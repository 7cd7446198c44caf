/* A syscall fuzzer: `fuzz SEED [COUNT [-v]]` makes COUNT (default 2000) random
 * system calls from a generator seeded with SEED. Numbers are mostly the
 * calls a kernel like ferrite implements, the rest anything in 0..470 and
 * out of range; arguments come from pools of small ints, -1, descriptors
 * of its own files, pointers into its scratch pages, unmapped, read-only
 * (its text) and kernel-half addresses, and huge or page-straddling
 * lengths. Results are ignored: the kernel must survive, not agree.
 *
 * It skips what would end or wreck itself, or sleep: exit/exit_group,
 * execve(at), clone/clone3, the kill family (kill(-1, ...) would reach
 * the host under qemu), rt_sigreturn, prctl, personality, seccomp,
 * ptrace, setrlimit (prlimit64 only reads), timers and itimers (their
 * signals kill), every wait and sleep (nanosleep, clock_nanosleep, ppoll,
 * pselect6, epoll_pwait(2), wait4, waitid, futex and futex_waitv,
 * rt_sigsuspend, rt_sigtimedwait, io_getevents, and the waiting lock
 * calls: F_SETLKW and F_OFD_SETLKW become F_SETLK and F_OFD_SETLK, flock
 * gets LOCK_NB), pipes, sockets,
 * eventfd/timerfd/signalfd/inotify (their reads block), userfaultfd,
 * io_uring, process_vm_writev, rseq, close_range, unshare/setns and
 * mknodat (opening a FIFO it made would wait for a writer).
 * Memory calls (munmap, mremap, mprotect, madvise, msync, mlock, munlock,
 * mincore, and mmap with MAP_FIXED) only see its "victim" pages or the
 * empty range [2^44, 2^45), where huge lengths are safe; mremap grows to
 * at most 64 pages (a locked mapping grown is populated) and mlock stays
 * on the victim pages; mmap never gets MAP_POPULATE or MAP_LOCKED; brk is
 * only brk(0); mlockall and mlock2 never run.
 *
 * It refuses to run (exit 2) unless /FUZZ_ROOT_OK exists: it is meant for
 * a throw-away root (`ferrite run --root TMP`); run directly or under
 * qemu-riscv64 it would chmod, rename and unlink real files.
 *
 * All the memory the calls can write is in one mapping with PROT_NONE
 * guard pages around it, so a read past a buffer faults instead of
 * overwriting the fuzzer. Standard output and error are moved to a file
 * first; the final line goes to the original stdout:
 *   fuzz: seed SEED: COUNT calls
 * With -v each call is printed there before it is made.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096UL
#define SCRATCH_PAGES 32
#define VICTIM_PAGES 4
#define REPORT_FD 500
/* [FAR, 2 * FAR) holds nothing of the fuzzer's (its text is low, its
 * mappings and stack near the top of the 47-bit user space). */
#define FAR (1ULL << 44)

int main(int argc, char **argv);

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

static uint64_t pick(const uint64_t *v, size_t n)
{
    return v[next() % n];
}

#define PICK(a) pick(a, sizeof(a) / sizeof(a[0]))

static char *region;  /* guard, scratch, guard, victim, guard */
static char *scratch; /* SCRATCH_PAGES read/write pages */
static char *victim;  /* VICTIM_PAGES pages for the memory calls */
static int fds[8];

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int skipped(long nr)
{
    static const long skip[] = {
        0,   1,   2,   3,   4,   /* aio */
        19,  20,  21,  22,       /* eventfd2, epoll_create1/ctl, epoll_pwait */
        26,                      /* inotify_init1 */
        33,                      /* mknodat (a FIFO it then opened would block) */
        39,  40,  41,            /* umount2, mount, pivot_root */
        59,  72,  73,  74,       /* pipe2, pselect6, ppoll, signalfd4 */
        85,                      /* timerfd_create */
        92,  93,  94,  95,  96,  /* personality, exit, exit_group, waitid, set_tid_address */
        97,  98,  101,           /* unshare, futex, nanosleep */
        102, 103, 104, 105, 106, 107, 108, 109, 110, 111, /* itimers, kexec, modules, timers */
        115, 117, 129, 130, 131, /* clock_nanosleep, ptrace, kill, tkill, tgkill */
        133, 137, 138, 139,      /* rt_sigsuspend, rt_sigtimedwait, rt_sigqueueinfo, rt_sigreturn */
        142, 164, 167,           /* reboot, setrlimit, prctl */
        198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 212, /* sockets */
        220, 221, 230,           /* clone, execve, mlockall */
        240, 242, 243, 260,      /* rt_tgsigqueueinfo, accept4, recvmmsg, wait4 */
        268, 270, 271, 277,      /* setns, process_vm_readv/writev, seccomp */
        280, 281, 282, 284, 293, /* bpf, execveat, userfaultfd, mlock2, rseq */
        424, 425, 426, 427, 435, 436, 441, /* pidfd_send_signal, io_uring, clone3, close_range, epoll_pwait2 */
        444, 445, 446, 449, 454, 455, 456, /* landlock, futex_waitv, futex2 */
        /* What changes the machine rather than the process: */
        58,  60,  89,  112, 116, 161, 162, 170, 171, /* vhangup, quotactl, acct, clock_settime, syslog, sethostname, setdomainname, settimeofday, adjtimex */
        224, 225, 262, 266, 273, 294, /* swapon/off, fanotify_init, clock_adjtime, finit_module, kexec_file_load */
    };
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (skip[i] == nr)
            return 1;
    return 0;
}

/* The calls ferrite implements (and their neighbours), chosen most often. */
static const uint64_t common[] = {
    17, 23, 24, 25, 29, 32, 34, 35, 36, 37, 38, 46, 47, 48, 49, 50, 53, 54, 56, 57,
    61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 78, 79, 80, 81, 82, 83, 99, 100,
    113, 114, 124, 134, 135, 155, 156, 160, 163, 165, 166, 169, 172, 173,
    174, 175, 176, 177, 178, 179, 214, 215, 216, 222, 226, 227, 228, 229,
    231, 232, 233, 259, 261, 276, 278, 291, 439,
};

static uint64_t pointer(void)
{
    char *end = scratch + SCRATCH_PAGES * PAGE; /* a guard page follows */
    uint64_t p[] = {
        0,
        1,
        (uint64_t)scratch,
        (uint64_t)scratch + 8,
        (uint64_t)scratch + PAGE - 3, /* straddles two pages */
        (uint64_t)scratch + (next() % (SCRATCH_PAGES * PAGE)),
        (uint64_t)end - 1, /* ends at the guard page */
        (uint64_t)end - 8,
        (uint64_t)end - 64,
        (uint64_t)end - PAGE,
        (uint64_t)region, /* the guard page itself */
        (uint64_t)&main,  /* read-only text */
        (uint64_t)victim,
        0xffffffc000000000ULL, /* kernel half */
        0xffffffffffff0000ULL,
        0x8000000000000000ULL, /* not canonical */
        0x0000800000000000ULL, /* just above sv48 user space */
        0x00007fff00000000ULL, /* unmapped, below the stack */
        0x10000,               /* unmapped low */
        0x3f00000000ULL,
        (uint64_t)scratch + 30 * PAGE, /* the iovec page */
        (uint64_t)scratch + 31 * PAGE, /* the path page */
        (uint64_t)scratch + 31 * PAGE + 64,
        (uint64_t)scratch + 31 * PAGE + 128,
        (uint64_t)scratch + 31 * PAGE + 256,
    };
    return PICK(p);
}

static const uint64_t lengths[] = {
    0, 1, 2, 8, 16, 24, 64, 100, 4095, 4096, 4097, 8192, 65536, 65537,
    1 << 20, 0x7ffff000, 0x7ffff001, 0x80000000ULL, 0xffffffffULL,
    1ULL << 32, 1ULL << 40, 1ULL << 46, 1ULL << 47, 1ULL << 62,
    0x7fffffffffffffffULL, (uint64_t)-1, (uint64_t)-4096,
};

static uint64_t argument(void)
{
    switch (next() % 8) {
    case 0:
        return next() % 16;
    case 1:
        return (uint64_t)-1;
    case 2:
        return fds[next() % 8];
    case 3:
    case 4:
        return pointer();
    case 5:
        return PICK(lengths);
    case 6: {
        static const uint64_t f[] = {
            0, 1, 2, 3, 0x40, 0x41, 0x42, 0x241, 0x10000, 0x80000, 0x200000,
            0x400, 0x20, 0x22, 0x100, (uint64_t)-100 /* AT_FDCWD */, 0x1000,
        };
        return PICK(f);
    }
    default:
        return next();
    }
}

/* Fresh strings and iovecs each call: earlier reads may have overwritten
 * them. */
static void plant(void)
{
    char *paths = scratch + 31 * PAGE;
    static const char *names[] = {
        "fuzzfile", "/", ".", "/proc/self/maps", "fuzzdir/x", "..",
        "/proc/self/exe", "fuzzlink",
    };
    memset(paths, 0, PAGE);
    strcpy(paths, names[next() % 8]);
    strcpy(paths + 64, names[next() % 8]);
    strcpy(paths + 128, names[next() % 8]);
    memset(paths + 256, 'a', PAGE - 256); /* no NUL before the guard */
    uint64_t *iov = (uint64_t *)(scratch + 30 * PAGE);
    for (int i = 0; i < 64; i++) {
        iov[2 * i] = pointer();
        iov[2 * i + 1] = next() % 4 ? next() % 8192 : PICK(lengths);
    }
}

/* Keep the memory calls on the victim pages, within them. */
static void confine(long nr, uint64_t *a)
{
    uint64_t base = (uint64_t)victim, size = VICTIM_PAGES * PAGE;
    if (nr != 228 && next() % 4 == 0) {
        /* (mlock there would populate terabytes: the victim pages only.)
         * Far from everything of ours: huge ranges are safe there. */
        base = FAR;
        size = FAR;
    }
    switch (nr) {
    case 215: case 216: case 226: case 227: case 228: case 229:
    case 232: case 233:
        a[0] = base + (next() % VICTIM_PAGES) * PAGE + (next() % 8 == 0 ? 1 : 0);
        if (a[1] > base + size - a[0])
            a[1] = base + size - a[0];
        if (nr == 216) {
            a[3] &= 1; /* MREMAP_MAYMOVE only: no FIXED, no DONTUNMAP */
            /* A locked mapping grown is populated: keep it small. */
            if (a[2] > 64 * PAGE)
                a[2] = a[2] % (64 * PAGE);
        }
        break;
    case 214:
        a[0] = 0;
        break;
    case 65: case 66: case 69: case 70: /* readv, writev, preadv, pwritev */
        if (next() % 4) {
            a[0] = fds[next() % 8];
            a[1] = (uint64_t)scratch + 30 * PAGE + (next() % 4) * 16;
            a[2] = next() % 8 ? next() % 8 : PICK(lengths);
        }
        break;
    case 63: case 64: case 67: case 68: /* read, write, pread64, pwrite64 */
        if (next() % 2)
            a[0] = fds[next() % 8];
        break;
    case 222:
        a[3] &= ~(uint64_t)(0x8000 | 0x2000); /* POPULATE, LOCKED */
        if (a[3] & (0x10 | 0x100000)) { /* FIXED(_NOREPLACE): only far away */
            a[0] = FAR + (next() % 1024) * PAGE;
            if (a[1] > FAR - PAGE * 1024)
                a[1] = FAR - PAGE * 1024;
        }
        break;
    case 261:
        a[2] = 0; /* prlimit64 reads only */
        break;
    case 25: /* fcntl: the lock calls that wait become the ones that fail */
        if ((uint32_t)a[1] == 7 || (uint32_t)a[1] == 38)
            a[1] -= 1;
        break;
    case 32: /* flock: never waits */
        a[1] |= 4;
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz SEED [COUNT]\n");
        return 2;
    }
    if (access("/FUZZ_ROOT_OK", F_OK) != 0) {
        fprintf(stderr, "fuzz: no /FUZZ_ROOT_OK: run it only in a throw-away root\n");
        return 2;
    }
    uint64_t seed = strtoull(argv[1], NULL, 0);
    long count = argc > 2 ? strtol(argv[2], NULL, 0) : 2000;
    int verbose = argc > 3 && strcmp(argv[3], "-v") == 0;
    rng = seed * 0x9E3779B97F4A7C15ULL + 1;

    if (fcntl(1, F_DUPFD, REPORT_FD) != REPORT_FD)
        die("fuzz: F_DUPFD");
    int out = open("fuzz.out", O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        die("fuzz: fuzz.out");
    close(0);
    if (open("fuzz.in", O_RDWR | O_CREAT | O_TRUNC, 0644) != 0)
        die("fuzz: fuzz.in");
    if (write(0, "some bytes to read\n", 19) != 19)
        die("fuzz: write fuzz.in");

    size_t pages = 1 + SCRATCH_PAGES + 1 + VICTIM_PAGES + 1;
    region = mmap(NULL, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        die("fuzz: mmap");
    scratch = region + PAGE;
    victim = scratch + (SCRATCH_PAGES + 1) * PAGE;
    if (mprotect(scratch, SCRATCH_PAGES * PAGE, PROT_READ | PROT_WRITE) ||
        mprotect(victim, VICTIM_PAGES * PAGE, PROT_READ | PROT_WRITE))
        die("fuzz: mprotect");
    memset(scratch, 0x5a, SCRATCH_PAGES * PAGE);

    mkdir("fuzzdir", 0755);
    fds[0] = 0;
    fds[1] = open("fuzzfile", O_RDWR | O_CREAT, 0644);
    fds[2] = open(".", O_RDONLY | O_DIRECTORY);
    fds[3] = open("fuzzdir", O_RDONLY | O_DIRECTORY);
    fds[4] = open("fuzz.in", O_RDONLY);
    fds[5] = open("fuzzfile", O_WRONLY | O_APPEND);
    fds[6] = 77;    /* not open */
    fds[7] = 1;     /* fuzz.out */
    for (int i = 1; i < 6; i++)
        if (fds[i] < 0)
            die("fuzz: open");

    long done = 0;
    while (done < count) {
        long nr;
        uint64_t r = next() % 100;
        if (r < 70)
            nr = (long)PICK(common);
        else if (r < 95)
            nr = (long)(next() % 470);
        else {
            static const uint64_t odd[] = {470, 500, 1023, 1024, 4096,
                                           0x7fffffff, 1ULL << 32, (uint64_t)-1};
            nr = (long)PICK(odd);
        }
        if (skipped(nr))
            continue;
        uint64_t a[6];
        for (int i = 0; i < 6; i++)
            a[i] = argument();
        confine(nr, a);
        plant();
        if (verbose)
            dprintf(REPORT_FD, "%ld: syscall(%ld, %#llx, %#llx, %#llx, %#llx, %#llx, %#llx)\n",
                    done, nr, (unsigned long long)a[0], (unsigned long long)a[1],
                    (unsigned long long)a[2], (unsigned long long)a[3],
                    (unsigned long long)a[4], (unsigned long long)a[5]);
        syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        done++;
        if (done % 256 == 0) {
            /* Bring the victim pages back after munmap or mremap. */
            mmap(victim, VICTIM_PAGES * PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            /* Keep the files small. */
            ftruncate(fds[1], 0);
            ftruncate(1, 0);
        }
    }
    char line[80];
    int n = snprintf(line, sizeof(line), "fuzz: seed %llu: %ld calls\n",
                     (unsigned long long)seed, done);
    if (write(REPORT_FD, line, n) != n)
        return 3;
    return 0;
}
