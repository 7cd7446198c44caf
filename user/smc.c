/* Self-modifying code, as a JIT does it: write a function into a
 * read/write/execute mapping, run it, rewrite it and run it again, with
 * __builtin___clear_cache (glibc: the riscv_flush_icache syscall) and
 * without it, by stores of this hart and by the kernel's read() into the
 * buffer. Also riscv_flush_icache's argument checks.
 *
 * Without the cache flush a RISC-V hart need not see the new code; qemu
 * and ferrite both keep instruction fetch coherent with stores, so the
 * output is the same on both.
 *
 * With the argument "linux", also checks that riscv_flush_icache refuses
 * flags other than SYS_RISCV_FLUSH_ICACHE_LOCAL with EINVAL as Linux does
 * (qemu-riscv64 7.2 accepts any flags, so the default run leaves it out). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "check.h"

#ifndef __NR_riscv_flush_icache
#define __NR_riscv_flush_icache 259
#endif

typedef long (*fn_t)(void);

/* addi a0, zero, n */
static uint32_t li_a0(int n)
{
    return ((uint32_t)n << 20) | (10 << 7) | 0x13;
}

/* ret (jalr zero, 0(ra)) */
#define RET 0x00008067u

/* Writes "return n" at buf (two instructions). */
static void emit(uint32_t *buf, int n)
{
    buf[0] = li_a0(n);
    buf[1] = RET;
}

/* "return 4" as it sits in this program's file, behind a marker, for the
 * read() case. */
__attribute__((used)) static const uint32_t blob[4] = {
    0x46534d43, 0x4b4c4f42, 0x00400513 /* addi a0, zero, 4 */, RET,
};

/* The file offset of blob's code in the program file, or -1. */
static long find_blob(int fd)
{
    static unsigned char chunk[65536 + 8];
    long base = 0;
    size_t keep = 0;
    for (;;) {
        ssize_t n = read(fd, chunk + keep, 65536);
        if (n <= 0)
            return -1;
        size_t len = keep + (size_t)n;
        for (size_t i = 0; i + 8 <= len; i++)
            if (memcmp(chunk + i, blob, 8) == 0)
                return base + (long)i + 8;
        keep = len < 7 ? len : 7;
        memmove(chunk, chunk + len - keep, keep);
        base += (long)(len - keep);
    }
}

int main(int argc, char **argv)
{
    int linux_flags = argc > 1 && strcmp(argv[1], "linux") == 0;
    uint32_t *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buf != MAP_FAILED);
    if (buf == MAP_FAILED)
        return check_exit("smc");
    fn_t f = (fn_t)buf;

    /* Find "return 4" in the program file first, so that only the pread()
     * itself comes between running the old code and the new. */
    int fd = open(argv[0], O_RDONLY);
    CHECK(fd >= 0);
    long off = fd >= 0 ? find_blob(fd) : -1;
    CHECK(off > 0);

    emit(buf, 1);
    __builtin___clear_cache((char *)buf, (char *)(buf + 2));
    long r = f();
    printf("first code: %ld\n", r);
    CHECK_EQ(r, 1);

    r = f();
    emit(buf, 2);
    __builtin___clear_cache((char *)buf, (char *)(buf + 2));
    r = f();
    printf("rewritten, cache flushed: %ld\n", r);
    CHECK_EQ(r, 2);

    /* No flush: coherent instruction fetch still shows the new code. Each
     * rewrite follows a call of the old code with nothing in between (no
     * printf whose code could evict the old block by chance). */
    r = f();
    emit(buf, 3);
    long r3 = f();
    printf("rewritten, no flush: %ld\n", r3);
    CHECK_EQ(r3, 3);

    /* The kernel writes the code (read() into the buffer), no flush. */
    if (off > 0) {
        r3 = f();
        ssize_t n = pread(fd, buf, 8, off);
        r = f();
        CHECK_EQ(r3, 3);
        CHECK_EQ(n, 8);
        printf("read() new code, no flush: %ld\n", r);
        CHECK_EQ(r, 4);
    }
    if (fd >= 0)
        close(fd);

    /* A patch in the middle of a loop that keeps calling the function. */
    long sum = 0;
    for (int i = 0; i < 100; i++) {
        if (i == 50)
            emit(buf, 5);
        sum += f();
    }
    printf("patched inside a loop: sum %ld\n", sum);
    CHECK_EQ(sum, 50 * 4 + 50 * 5);

    /* riscv_flush_icache(start, end, flags): the flags are checked, the
     * range is not. */
    long s = syscall(__NR_riscv_flush_icache, buf, buf + 2, 0);
    printf("riscv_flush_icache(flags 0): %ld %s\n", s, errname(s ? errno : 0));
    CHECK_EQ(s, 0);
    s = syscall(__NR_riscv_flush_icache, buf, buf + 2, 1);
    printf("riscv_flush_icache(LOCAL): %ld %s\n", s, errname(s ? errno : 0));
    CHECK_EQ(s, 0);
    s = syscall(__NR_riscv_flush_icache, 0, ~0ul, 0);
    printf("riscv_flush_icache(any range): %ld %s\n", s, errname(s ? errno : 0));
    CHECK_EQ(s, 0);
    if (linux_flags) {
        errno = 0;
        s = syscall(__NR_riscv_flush_icache, buf, buf + 2, 2);
        printf("riscv_flush_icache(flags 2): %ld %s\n", s, errname(s ? errno : 0));
        CHECK(s == -1 && errno == EINVAL);
        errno = 0;
        s = syscall(__NR_riscv_flush_icache, buf, buf + 2, ~0ul);
        printf("riscv_flush_icache(flags ~0): %ld %s\n", s, errname(s ? errno : 0));
        CHECK(s == -1 && errno == EINVAL);

        /* write() into a file page that a MAP_SHARED mapping runs as
         * code, no flush: the page cache's copy is a kernel store too.
         * (Not compared with qemu: its translation cache does not see its
         * host kernel's writes.) */
        const char *tmp = "smc-shared.tmp";
        int t = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK(t >= 0);
        uint32_t code[2];
        emit(code, 6);
        CHECK_EQ(pwrite(t, code, 8, 0), 8);
        CHECK_EQ(ftruncate(t, 4096), 0);
        void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, t, 0);
        CHECK(m != MAP_FAILED);
        if (t >= 0 && m != MAP_FAILED) {
            fn_t g = (fn_t)m;
            long a = g();
            emit(code, 7);
            CHECK_EQ(pwrite(t, code, 8, 0), 8);
            long b = g();
            printf("write() into a shared code page, no flush: %ld then %ld\n", a, b);
            CHECK_EQ(a, 6);
            CHECK_EQ(b, 7);
            munmap(m, 4096);
        }
        if (t >= 0)
            close(t);
        unlink(tmp);
    }

    munmap(buf, 4096);
    printf("smc: ok\n");
    return check_exit("smc");
}
