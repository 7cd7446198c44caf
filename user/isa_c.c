/* RV64C self-check. Built with -march=rv64gc, so the compiler already emits
 * compressed forms for ordinary code: small constants, stack spills, short
 * branches and jumps, register moves, calls through pointers. The workload
 * below leans on those (checked against values computed here), then runs
 * compressed instructions spelled out in assembly (c.* mnemonics) and a few
 * given as raw .2byte encodings, so the decoder sees exactly those bits. */
#include <stdint.h>
#include <stdio.h>
#include "check.h"

typedef uint64_t u64;

/* Many live values across calls: c.sdsp/c.ldsp spills, c.mv, c.addi. */
static u64 __attribute__((noinline)) mix(u64 a, u64 b, u64 c, u64 d)
{
    u64 x = a + 1, y = b - 1, z = c ^ 5, w = d | 3;
    for (int i = 0; i < 8; i++) {
        x = (x << 3) + y;
        y = (y >> 1) ^ z;
        z = z + (w & 31);
        w = w - (x & 0xff);
    }
    return x ^ y ^ z ^ w;
}

static int __attribute__((noinline)) count_bits(u64 v)
{
    int n = 0;
    while (v) {        /* c.beqz/c.bnez, c.andi, c.srli */
        n += v & 1;
        v >>= 1;
    }
    return n;
}

static int32_t __attribute__((noinline)) wsum(const int32_t *p, int n)
{
    int32_t s = 0;     /* c.lw, c.addw */
    for (int i = 0; i < n; i++)
        s += p[i];
    return s;
}

static double __attribute__((noinline)) dsum(const double *p, int n)
{
    double s = 0;      /* c.fld */
    for (int i = 0; i < n; i++)
        s += p[i];
    return s;
}

static u64 (*const table[])(u64, u64, u64, u64) = {mix};

int main(void)
{
    u64 m = table[0](1, 2, 3, 4); /* c.jalr */
    printf("mix = %016llx\n", (unsigned long long)m);
    printf("bits(0xf0f0) = %d\n", count_bits(0xf0f0));
    CHECK_EQ(count_bits(0xf0f0), 8);
    int32_t w[5] = {1, -2, 0x7fffffff, 1, 40};
    printf("wsum = %d\n", wsum(w, 5));
    double d[4] = {0.5, 1.25, -2, 8};
    printf("dsum = %a\n", dsum(d, 4));
    CHECK(dsum(d, 4) == 7.75);

    /* c.* mnemonics. */
    u64 a = 5, b = 7, r;
    __asm__ volatile("c.mv %0, %1" : "=r"(r) : "r"(b));
    CHECK_EQ(r, 7);
    r = a;
    __asm__ volatile("c.add %0, %1" : "+r"(r) : "r"(b));
    CHECK_EQ(r, 12);
    r = a;
    __asm__ volatile("c.addi %0, -3" : "+r"(r));
    CHECK_EQ(r, 2);
    __asm__ volatile("c.li %0, -17" : "=r"(r));
    CHECK_EQ(r, -17ull);
    __asm__ volatile("c.lui %0, 0x1f" : "=r"(r));
    CHECK_EQ(r, 0x1f000);
    __asm__ volatile("c.lui %0, 0xfffff" : "=r"(r));
    CHECK_EQ(r, -4096ull);
    r = 0x7fffffff;
    __asm__ volatile("c.addiw %0, 1" : "+r"(r));
    CHECK_EQ(r, 0xffffffff80000000ull);
    r = 1;
    __asm__ volatile("c.slli %0, 63" : "+r"(r));
    CHECK_EQ(r, 0x8000000000000000ull);
    printf("c.mv/c.add/c.addi/c.li/c.lui/c.addiw/c.slli: done\n");

    /* CA and CB formats need x8-x15 (s0, s1, a0-a5). */
    register u64 ra_ __asm__("a0");
    register u64 rb_ __asm__("a1");
    u64 out[8];
    ra_ = 0xf0;
    rb_ = 0x3c;
    __asm__ volatile("mv t0, a0\n c.sub a0, a1\n sd a0, 0(%2)\n mv a0, t0\n"
                     "c.xor a0, a1\n sd a0, 8(%2)\n mv a0, t0\n"
                     "c.or a0, a1\n sd a0, 16(%2)\n mv a0, t0\n"
                     "c.and a0, a1\n sd a0, 24(%2)\n mv a0, t0\n"
                     "c.andi a0, -16\n sd a0, 32(%2)\n mv a0, t0\n"
                     "c.srli a0, 4\n sd a0, 40(%2)\n li a0, -256\n"
                     "c.srai a0, 4\n sd a0, 48(%2)\n li a0, 0x7fffffff\n"
                     "c.addw a0, a1\n sd a0, 56(%2)\n mv a0, t0"
                     : "+r"(ra_), "+r"(rb_) : "r"(out) : "t0", "memory");
    const char *names[] = {"c.sub", "c.xor", "c.or", "c.and", "c.andi",
                           "c.srli", "c.srai", "c.addw"};
    const u64 want[] = {0xb4, 0xcc, 0xfc, 0x30, 0xf0, 0xf, -16ull,
                        0xffffffff8000003bull};
    for (int i = 0; i < 8; i++) {
        printf("%s = %016llx\n", names[i], (unsigned long long)out[i]);
        CHECK_EQ(out[i], want[i]);
    }

    /* Loads and stores, stack-relative ones, c.addi16sp/c.addi4spn. */
    u64 mem[4] = {0x1122334455667788ull, 0, 0, 0};
    u64 v1, v2, v3;
    __asm__ volatile("mv a2, %3\n c.ld a3, 0(a2)\n c.sd a3, 8(a2)\n"
                     "c.lw a4, 4(a2)\n c.sw a4, 16(a2)\n"
                     "c.addi16sp sp, -32\n c.sdsp a3, 8(sp)\n c.ldsp %0, 8(sp)\n"
                     "c.addi4spn a5, sp, 8\n ld %1, 0(a5)\n c.lwsp %2, 12(sp)\n"
                     "c.addi16sp sp, 32"
                     : "=r"(v1), "=r"(v2), "=r"(v3)
                     : "r"(mem) : "a2", "a3", "a4", "a5", "memory");
    printf("c.ld/c.sd/c.lw/c.sw/c.ldsp/c.sdsp/c.lwsp: %016llx %016llx %016llx %016llx\n",
           (unsigned long long)mem[1], (unsigned long long)mem[2],
           (unsigned long long)v1, (unsigned long long)v3);
    CHECK_EQ(mem[1], 0x1122334455667788ull);
    CHECK_EQ(mem[2], 0x11223344);
    CHECK_EQ(v1, 0x1122334455667788ull);
    CHECK_EQ(v2, 0x1122334455667788ull);
    CHECK_EQ(v3, 0x11223344);

    /* Compressed control flow: c.j, c.beqz, c.bnez, c.jr, c.jalr. */
    u64 path = 0;
    __asm__ volatile("li a0, 0\n c.beqz a0, 1f\n ori %0, %0, 1\n"
                     "1: ori %0, %0, 2\n li a0, 1\n c.bnez a0, 2f\n ori %0, %0, 4\n"
                     "2: c.j 3f\n ori %0, %0, 8\n"
                     "3: la a1, 4f\n c.jr a1\n ori %0, %0, 16\n"
                     "4: ori %0, %0, 32\n la a1, 5f\n c.jalr a1\n"
                     "5: sub a1, ra, a1\n beqz a1, 6f\n ori %0, %0, 64\n6:"
                     : "+r"(path) : : "a0", "a1", "ra");
    printf("compressed branches and jumps: path %02llx\n", (unsigned long long)path);
    CHECK_EQ(path, 0x22);

    /* Raw encodings. c.li a0,-1 = 0x557d; c.addi a0,1 = 0x0505;
     * c.mv a0,a1 = 0x852e; c.add a0,a1 = 0x952e; c.slli a0,3 = 0x050e;
     * c.subw a0,a1 = 0x9d0d; c.addw a0,a1 = 0x9d2d; c.nop = 0x0001. */
    u64 e1, e2, e3, e4, e5, e6;
    __asm__ volatile(".option push\n .option norvc\n"
                     ".2byte 0x557d\n mv %0, a0\n"          /* -1 */
                     ".2byte 0x0505\n mv %1, a0\n"          /* 0 */
                     "li a1, 0x40000000\n .2byte 0x852e\n .2byte 0x952e\n"
                     "mv %2, a0\n"                            /* 0x80000000 */
                     ".2byte 0x0001\n .2byte 0x050e\n mv %3, a0\n" /* << 3 */
                     "li a0, 0\n .2byte 0x9d0d\n mv %4, a0\n"     /* 0 - 2^30 */
                     "li a0, 0x40000000\n .2byte 0x9d2d\n mv %5, a0\n"
                     ".option pop"
                     : "=&r"(e1), "=&r"(e2), "=&r"(e3), "=&r"(e4), "=&r"(e5),
                       "=&r"(e6)
                     : : "a0", "a1");
    printf(".2byte c.li %016llx c.addi %016llx c.mv+c.add %016llx "
           "c.slli %016llx c.subw %016llx c.addw %016llx\n",
           (unsigned long long)e1, (unsigned long long)e2,
           (unsigned long long)e3, (unsigned long long)e4,
           (unsigned long long)e5, (unsigned long long)e6);
    CHECK_EQ(e1, -1ull);
    CHECK_EQ(e2, 0);
    CHECK_EQ(e3, 0x80000000ull);
    CHECK_EQ(e4, 0x400000000ull);
    CHECK_EQ(e5, 0xffffffffc0000000ull);
    CHECK_EQ(e6, 0xffffffff80000000ull);

    if (check_exit("isa_c"))
        return 1;
    printf("isa_c: ok\n");
    return 0;
}
