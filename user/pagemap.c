/* /proc/self/pagemap: one 64-bit entry per page at offset vaddr / 4096 * 8,
 * read with pread and with lseek + read. Prints the flag bits of private
 * anonymous pages (written, read = the zero page, untouched), a shared
 * anonymous page, a file page, a page shared with a forked child (not
 * exclusive), an unmapped range (zeros), and the errnos of misaligned
 * reads. PFNs are printed only as "hidden" (0) or "shown": Linux shows
 * them only to readers with CAP_SYS_ADMIN. Output is deterministic:
 * compared with qemu-riscv64. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define PM_PFN_MASK ((1ull << 55) - 1)
#define PM_SOFT_DIRTY (1ull << 55)
#define PM_MMAP_EXCLUSIVE (1ull << 56)
#define PM_FILE (1ull << 61)
#define PM_SWAP (1ull << 62)
#define PM_PRESENT (1ull << 63)

static int pm;
static int privileged;

static uint64_t entry(const void *addr)
{
    uint64_t e = 0;
    off_t off = (uintptr_t)addr / 4096 * 8;
    ssize_t n = pread(pm, &e, 8, off);
    CHECK_EQ(n, 8);
    return e;
}

static void show(const char *what, const void *addr)
{
    uint64_t e = entry(addr);
    uint64_t pfn = e & PM_PFN_MASK;
    const char *p = !(e & PM_PRESENT) ? "-" : pfn ? "shown" : "hidden";
    printf("%-24s present %d swap %d file/shared %d exclusive %d soft-dirty %d pfn %s\n", what,
           !!(e & PM_PRESENT), !!(e & PM_SWAP), !!(e & PM_FILE), !!(e & PM_MMAP_EXCLUSIVE),
           !!(e & PM_SOFT_DIRTY), p);
    /* A PFN is visible exactly to CAP_SYS_ADMIN (Linux 4.2 on). */
    if (e & PM_PRESENT)
        CHECK((pfn != 0) == privileged);
    /* Bits 57-60 are zero. */
    CHECK_EQ(e & (0xfull << 57), 0);
}

int main(void)
{
    /* CAP_SYS_ADMIN (21) in the effective set. */
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) == 0)
        privileged = (d[0].effective >> 21) & 1;

    pm = open("/proc/self/pagemap", O_RDONLY);
    CHECK(pm >= 0);

    char *a = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    a[0] = 1;
    volatile char c = a[4096];
    (void)c;
    a[2 * 4096] = 1;
    show("anon written", a);
    show("anon read (zero page)", a + 4096);
    show("anon written 2", a + 2 * 4096);
    show("anon untouched", a + 3 * 4096);

    char *s = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    s[0] = 1;
    show("shared anon", s);

    char path[] = "pagemap.tmp.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    CHECK_EQ(write(fd, buf, sizeof buf), sizeof buf);
    char *f = mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    c = f[0];
    show("file page", f);
    unlink(path);
    close(fd);

    /* After fork the written page is mapped by both: not exclusive. */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        show("child: shared by fork", a);
        a[0] = 2; /* copy-on-write: its own page again */
        show("child: after write", a);
        fflush(stdout);
        _exit(check_failures ? 1 : 0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));

    /* An unmapped range reads as zeros; lseek + read walks it. */
    munmap(a + 3 * 4096, 4096);
    uint64_t v[4];
    memset(v, 0xff, sizeof v);
    off_t off = (uintptr_t)a / 4096 * 8;
    CHECK_EQ(lseek(pm, off, SEEK_SET), off);
    CHECK_EQ(read(pm, v, sizeof v), sizeof v);
    printf("lseek+read: present %d %d %d, unmapped page %s\n", !!(v[0] & PM_PRESENT),
           !!(v[1] & PM_PRESENT), !!(v[2] & PM_PRESENT), v[3] == 0 ? "zero" : "nonzero");
    CHECK_EQ(lseek(pm, 0, SEEK_CUR), off + 32);
    uint64_t z[8];
    memset(z, 0xff, sizeof z);
    CHECK_EQ(pread(pm, z, sizeof z, 4096 * 8), sizeof z);
    int zeros = 1;
    for (int i = 0; i < 8; i++)
        zeros &= z[i] == 0;
    printf("low unmapped range: %s\n", zeros ? "zeros" : "not zeros");

    /* Misaligned offset or length: EINVAL; not writable: EBADF. */
    ssize_t n;
    errno = 0;
    n = pread(pm, v, 8, off + 4);
    printf("offset 4: %zd %s\n", n, errname(errno));
    errno = 0;
    n = pread(pm, v, 5, off);
    printf("length 5: %zd %s\n", n, errname(errno));
    printf("length 0: %zd\n", pread(pm, v, 0, off));
    errno = 0;
    n = pwrite(pm, v, 8, off);
    printf("write: %zd %s\n", n, errname(errno));

    /* Without CAP_SYS_ADMIN at open the PFNs are hidden; a descriptor
     * opened with it keeps showing them (the opener's credentials). */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (privileged && setuid(65534) != 0)
            _exit(2);
        privileged = 0;
        /* setuid cleared "dumpable", which would make /proc/self root's. */
        prctl(PR_SET_DUMPABLE, 1);
        int pm2 = open("/proc/self/pagemap", O_RDONLY);
        CHECK(pm2 >= 0);
        uint64_t e = 0;
        CHECK_EQ(pread(pm2, &e, 8, (uintptr_t)(a + 2 * 4096) / 4096 * 8), 8);
        printf("unprivileged opener: present %d pfn %s\n", !!(e & PM_PRESENT),
               (e & PM_PFN_MASK) ? "shown" : "hidden");
        CHECK_EQ(pread(pm, &e, 8, (uintptr_t)(a + 2 * 4096) / 4096 * 8), 8);
        printf("descriptor opened before: pfn %s\n",
               (e & PM_PFN_MASK) ? "shown" : "hidden");
        fflush(stdout);
        _exit(check_failures ? 1 : 0);
    }
    waitpid(pid, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));
    return check_exit("pagemap");
}
