/* The mmap family, through glibc's wrappers and the raw syscall where the
 * wrapper would get in the way. Prints what happened (results, booleans and
 * errno names, never addresses) so the output is the same on any correct
 * kernel, and checks Linux's behaviour itself.
 *
 * Nothing here faults on purpose: signals are not delivered yet. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static long page;

/* Prints "what: OK" or "what: ENAME" for a call returning -1/errno or
 * MAP_FAILED, and checks the expected errno (0 = success expected). */
static void expect(const char *what, int failed, int want)
{
    int e = failed ? errno : 0;
    printf("%s: %s\n", what, errname(e));
    if (e != want) {
        fflush(stdout);
        fprintf(stderr, "mmapx: %s: got %s, want %s\n", what, errname(e),
                errname(want));
        check_failures++;
    }
}

/* mmap(MAP_FIXED_NOREPLACE) the way man mmap tells portable programs to:
 * a kernel that does not know the flag (Linux before 4.17, qemu-riscv64 7.2)
 * treats the address as a hint and, on a collision, maps elsewhere; the
 * caller must take a different address as "EEXIST". Says so on stderr (the
 * ferrite test checks ferrite never needs this). */
static char *noreplace(char *addr, size_t len, int prot)
{
    char *q = mmap(addr, len, prot,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (q != MAP_FAILED && q != addr) {
        fprintf(stderr, "mmapx: note: the kernel ignored MAP_FIXED_NOREPLACE "
                "(mapped elsewhere); taken as EEXIST\n");
        munmap(q, len);
        errno = EEXIST;
        return MAP_FAILED;
    }
    return q;
}

static char *map(size_t len, int prot, int flags)
{
    return mmap(NULL, len, prot, flags, -1, 0);
}

static int all_bytes(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

static void anon_private(void)
{
    char *p = map(4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    expect("anon private 4 pages", p == MAP_FAILED, 0);
    if (p == MAP_FAILED)
        return;
    CHECK(((uintptr_t)p & (page - 1)) == 0);
    int zero = all_bytes(p, 4 * page, 0);
    printf("anon private: zero-filled %s\n", zero ? "yes" : "no");
    CHECK(zero);
    for (long i = 0; i < 4 * page; i++)
        p[i] = (char)(i % 251);
    int ok = 1;
    for (long i = 0; i < 4 * page; i++)
        ok &= p[i] == (char)(i % 251);
    printf("anon private: write/read back %s\n", ok ? "ok" : "BAD");
    CHECK(ok);

    /* munmap the second page: the others keep their data, the hole is free
     * (MAP_FIXED_NOREPLACE can take exactly it), and calls over it fail. */
    expect("munmap middle page", munmap(p + page, page) != 0, 0);
    ok = p[0] == 0 && p[2 * page] == (char)((2 * page) % 251) &&
         p[4 * page - 1] == (char)((4 * page - 1) % 251);
    printf("after partial munmap: neighbours intact %s\n", ok ? "yes" : "no");
    CHECK(ok);
    expect("mprotect over a hole",
           mprotect(p, 3 * page, PROT_READ) != 0, ENOMEM);
    /* Linux changes the protection up to the hole before it fails: make
     * both sides writable again. */
    expect("mprotect page before the hole",
           mprotect(p, page, PROT_READ | PROT_WRITE) != 0, 0);
    expect("mprotect pages after the hole",
           mprotect(p + 2 * page, 2 * page, PROT_READ | PROT_WRITE) != 0, 0);
    expect("msync over a hole", msync(p, 3 * page, MS_SYNC) != 0, ENOMEM);
    long r = syscall(SYS_mremap, p + page, page, 2 * page, MREMAP_MAYMOVE, 0);
    expect("mremap of a hole", r == -1, EFAULT);
    char *q = noreplace(p + page, page, PROT_READ | PROT_WRITE);
    expect("MAP_FIXED_NOREPLACE into the hole", q == MAP_FAILED, 0);
    printf("MAP_FIXED_NOREPLACE got the hole: %s\n", q == p + page ? "yes" : "no");
    CHECK(q == p + page);
    if (q != MAP_FAILED)
        printf("refilled page zero-filled %s\n", all_bytes(q, page, 0) ? "yes" : "no");
    q = noreplace(p + 2 * page, page, PROT_READ);
    expect("MAP_FIXED_NOREPLACE overlap", q == MAP_FAILED, EEXIST);
    printf("overlapped page kept its data: %s\n",
           p[2 * page] == (char)((2 * page) % 251) ? "yes" : "no");

    /* MAP_FIXED replaces: the page reads zero afterwards. */
    q = mmap(p + 3 * page, page, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    expect("MAP_FIXED over a mapping", q == MAP_FAILED, 0);
    if (q != MAP_FAILED) {
        printf("MAP_FIXED replaced the page: %s\n",
               q == p + 3 * page && all_bytes(q, page, 0) ? "yes" : "no");
        CHECK(q == p + 3 * page && all_bytes(q, page, 0));
    }

    /* madvise(MADV_DONTNEED) on private anonymous memory: reads back zero. */
    memset(p, 0x5a, page);
    expect("madvise DONTNEED", madvise(p, page, MADV_DONTNEED) != 0, 0);
    zero = all_bytes(p, page, 0);
    printf("after DONTNEED: reads zero %s\n", zero ? "yes" : "no");
    CHECK(zero);
    expect("madvise WILLNEED", madvise(p, 2 * page, MADV_WILLNEED) != 0, 0);
    expect("munmap all 4 pages", munmap(p, 4 * page) != 0, 0);
    expect("munmap again (nothing mapped)", munmap(p, 4 * page) != 0, 0);
}

static void anon_shared(void)
{
    char *p = map(2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
    expect("anon shared 2 pages", p == MAP_FAILED, 0);
    if (p == MAP_FAILED)
        return;
    int zero = all_bytes(p, 2 * page, 0);
    printf("anon shared: zero-filled %s\n", zero ? "yes" : "no");
    CHECK(zero);
    memset(p, 'S', 2 * page);
    printf("anon shared: write/read back %s\n",
           all_bytes(p, 2 * page, 'S') ? "ok" : "BAD");
    expect("msync MS_SYNC", msync(p, 2 * page, MS_SYNC) != 0, 0);
    expect("msync MS_ASYNC", msync(p, page, MS_ASYNC) != 0, 0);
    expect("msync MS_SYNC|MS_ASYNC", msync(p, page, MS_SYNC | MS_ASYNC) != 0,
           EINVAL);
    expect("msync unaligned", msync(p + 1, page, MS_SYNC) != 0, EINVAL);
    expect("munmap shared", munmap(p, 2 * page) != 0, 0);
}

static void protections(void)
{
    char *p = map(3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    expect("mmap for mprotect", p == MAP_FAILED, 0);
    if (p == MAP_FAILED)
        return;
    memset(p, 'p', 3 * page);
    expect("mprotect middle page PROT_READ",
           mprotect(p + page, page, PROT_READ) != 0, 0);
    printf("read-only page still readable: %s\n",
           all_bytes(p + page, page, 'p') ? "yes" : "no");
    expect("mprotect PROT_NONE", mprotect(p + page, page, PROT_NONE) != 0, 0);
    expect("mprotect back to PROT_READ|PROT_WRITE",
           mprotect(p, 3 * page, PROT_READ | PROT_WRITE) != 0, 0);
    p[page] = 'q';
    printf("data kept across PROT_NONE: %s\n",
           p[page + 1] == 'p' && p[page] == 'q' ? "yes" : "no");
    CHECK(p[page + 1] == 'p');
    expect("mprotect unaligned", mprotect(p + 1, page, PROT_READ) != 0, EINVAL);
    expect("mprotect bad prot bits", mprotect(p, page, 0x100) != 0, EINVAL);

    /* A PROT_NONE reservation, opened up piecewise. */
    char *r = map(4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
    expect("mmap PROT_NONE", r == MAP_FAILED, 0);
    if (r != MAP_FAILED) {
        expect("mprotect PROT_NONE -> RW", mprotect(r + 2 * page, page,
               PROT_READ | PROT_WRITE) != 0, 0);
        r[2 * page] = 1;
        printf("opened page writable: %s\n", r[2 * page] == 1 ? "yes" : "no");
        expect("munmap reservation", munmap(r, 4 * page) != 0, 0);
    }
    expect("munmap mprotect area", munmap(p, 3 * page) != 0, 0);
}

static void remaps(void)
{
    /* Reserve 8 pages, keep 2, so growing in place has room. */
    char *p = map(8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    expect("mmap for mremap", p == MAP_FAILED, 0);
    if (p == MAP_FAILED)
        return;
    expect("munmap tail of reservation", munmap(p + 2 * page, 6 * page) != 0, 0);
    memset(p, 'm', 2 * page);

    char *q = mremap(p, 2 * page, 4 * page, 0);
    expect("mremap grow in place", q == MAP_FAILED, 0);
    printf("grown in place: %s\n", q == p ? "yes" : "no");
    CHECK(q == p);
    if (q == MAP_FAILED)
        return;
    printf("grown: old data kept %s, new part zero %s\n",
           all_bytes(q, 2 * page, 'm') ? "yes" : "no",
           all_bytes(q + 2 * page, 2 * page, 0) ? "yes" : "no");
    memset(q + 2 * page, 'n', 2 * page);

    q = mremap(p, 4 * page, page, 0);
    expect("mremap shrink", q == MAP_FAILED, 0);
    printf("shrunk in place: %s\n", q == p ? "yes" : "no");
    CHECK(q == p);
    /* Block growth in place with a page right behind, then grow: without
     * MREMAP_MAYMOVE that fails, with it the mapping moves, data intact. */
    char *blocker = noreplace(p + page, page, PROT_READ);
    expect("blocker page", blocker == MAP_FAILED, 0);
    q = mremap(p, page, 3 * page, 0);
    expect("mremap grow, blocked, no MAYMOVE", q == MAP_FAILED, ENOMEM);
    q = mremap(p, page, 3 * page, MREMAP_MAYMOVE);
    expect("mremap grow MAYMOVE", q == MAP_FAILED, 0);
    if (q != MAP_FAILED) {
        printf("moved: %s, data kept %s\n", q != p ? "yes" : "no",
               all_bytes(q, page, 'm') ? "yes" : "no");
        CHECK(q != p && all_bytes(q, page, 'm'));
        CHECK(all_bytes(q + page, 2 * page, 0));
        expect("munmap moved", munmap(q, 3 * page) != 0, 0);
    }
    expect("mremap unaligned", mremap(p + 1, page, 2 * page, MREMAP_MAYMOVE)
           == MAP_FAILED, EINVAL);
    expect("mremap bad flags", mremap(p, page, 2 * page, 0x80) == MAP_FAILED,
           EINVAL);
    expect("munmap blocker", munmap(p + page, page) != 0, 0);
}

static void locks(void)
{
    char *p = map(2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    expect("mmap for mlock", p == MAP_FAILED, 0);
    if (p == MAP_FAILED)
        return;
    expect("mlock", mlock(p, page) != 0, 0);
    p[0] = 1;
    expect("munlock", munlock(p, page) != 0, 0);
    expect("munmap mlock area", munmap(p, 2 * page) != 0, 0);
}

static void breaks(void)
{
    char *b0 = sbrk(0);
    expect("sbrk(0)", b0 == (void *)-1, 0);
    char *b1 = sbrk(3 * page);
    expect("sbrk(+3 pages)", b1 == (void *)-1, 0);
    char *b2 = sbrk(0);
    printf("sbrk grew by 3 pages: %s\n", b1 == b0 && b2 == b0 + 3 * page ? "yes" : "no");
    CHECK(b1 == b0 && b2 == b0 + 3 * page);
    memset(b1, 'b', 3 * page);
    printf("new break memory writable: %s\n", all_bytes(b1, 3 * page, 'b') ? "yes" : "no");
    char *b3 = sbrk(-2 * page);
    expect("sbrk(-2 pages)", b3 == (void *)-1, 0);
    printf("sbrk shrank: %s\n", sbrk(0) == b0 + page ? "yes" : "no");
    CHECK(sbrk(0) == b0 + page);
    /* The raw brk: asking for less than the start returns the current break. */
    long cur = syscall(SYS_brk, 0);
    long low = syscall(SYS_brk, 4096);
    printf("brk below start refused (returns current): %s\n",
           cur == low ? "yes" : "no");
    CHECK(cur == low);
    sbrk(-page);
}

static void errors(void)
{
    const int rw = PROT_READ | PROT_WRITE, pa = MAP_PRIVATE | MAP_ANONYMOUS;
    expect("mmap len 0", map(0, rw, pa) == MAP_FAILED, EINVAL);
    long r = syscall(SYS_mmap, 0, 0, rw, pa, -1, 0);
    expect("raw mmap len 0", r == -1, EINVAL);
    expect("mmap unaligned addr with MAP_FIXED",
           mmap((void *)0x10001, page, rw, pa | MAP_FIXED, -1, 0) == MAP_FAILED,
           EINVAL);
    expect("mmap neither PRIVATE nor SHARED",
           map(page, rw, MAP_ANONYMOUS) == MAP_FAILED, EINVAL);
    expect("mmap bad fd", mmap(NULL, page, PROT_READ, MAP_PRIVATE, 999, 0)
           == MAP_FAILED, EBADF);
    expect("mmap fd -1 without MAP_ANONYMOUS",
           mmap(NULL, page, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED, EBADF);
    expect("munmap unaligned", munmap((void *)(0x10000 + 1), page) != 0, EINVAL);
    expect("munmap len 0", munmap((void *)0x10000, 0) != 0, EINVAL);
}

static void file_maps(const char *self)
{
    int fd = open(self, O_RDONLY);
    expect("open own executable", fd < 0, 0);
    if (fd < 0)
        return;
    char *p = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
    expect("mmap file MAP_PRIVATE PROT_READ", p == MAP_FAILED, 0);
    if (p == MAP_FAILED)
        return;
    int elf = memcmp(p, "\177ELF", 4) == 0;
    printf("ELF magic through the mapping: %s\n", elf ? "yes" : "no");
    CHECK(elf);
    printf("class %d data %d machine %d\n", p[4], p[5],
           (unsigned char)p[18] | (unsigned char)p[19] << 8);
    CHECK_EQ(p[4], 2);                       /* ELFCLASS64 */
    CHECK_EQ((unsigned char)p[18], 243);     /* EM_RISCV */
    expect("mmap file unaligned offset",
           mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 1) == MAP_FAILED, EINVAL);
    expect("mmap O_RDONLY file MAP_SHARED PROT_WRITE",
           mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
           == MAP_FAILED, EACCES);

    /* A private writable mapping: the write stays in this mapping. */
    char *w = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    expect("mmap file MAP_PRIVATE PROT_WRITE", w == MAP_FAILED, 0);
    if (w != MAP_FAILED) {
        memcpy(w, "XXXX", 4);
        char buf[4];
        ssize_t n = pread(fd, buf, 4, 0);
        int kept = n == 4 && memcmp(buf, "\177ELF", 4) == 0;
        printf("private write reached the file: %s\n", kept ? "no" : "YES");
        CHECK(kept);
        printf("other mapping still sees ELF: %s\n",
               memcmp(p, "\177ELF", 4) == 0 ? "yes" : "no");
        CHECK(memcmp(p, "\177ELF", 4) == 0);
        printf("writer sees its write: %s\n", memcmp(w, "XXXX", 4) == 0 ? "yes" : "no");
        munmap(w, page);
    }
    /* The mapping outlives the descriptor. */
    close(fd);
    printf("mapping survives close: %s\n", memcmp(p, "\177ELF", 4) == 0 ? "yes" : "no");
    expect("munmap file mapping", munmap(p, 2 * page) != 0, 0);
}

int main(int argc, char *argv[])
{
    setvbuf(stdout, NULL, _IONBF, 0);
    page = sysconf(_SC_PAGESIZE);
    printf("page size %ld\n", page);
    CHECK_EQ(page, 4096);
    anon_private();
    anon_shared();
    protections();
    remaps();
    locks();
    breaks();
    errors();
    file_maps(argc > 0 ? argv[0] : "/proc/self/exe");
    if (check_exit("mmapx"))
        return 1;
    printf("mmapx: ok\n");
    return 0;
}
