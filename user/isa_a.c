/* RV64A self-check: lr/sc on both widths (success, and the failure paths: no
 * reservation, a reservation on another address, a reservation already used
 * by an sc), and every AMO in .w and .d form (plus .aq/.rl/.aqrl orderings),
 * printing the value each returns and the value left in memory. */
#include <stdint.h>
#include <stdio.h>
#include "check.h"

static uint64_t mem64[2] __attribute__((aligned(16)));
static uint32_t mem32[2] __attribute__((aligned(8)));

#define AMO_D(op)                                                          \
    static uint64_t op##_d(uint64_t *p, uint64_t v)                        \
    {                                                                      \
        uint64_t r;                                                        \
        __asm__ volatile(#op ".d %0, %2, (%1)"                             \
                         : "=r"(r) : "r"(p), "r"(v) : "memory");           \
        return r;                                                          \
    }
#define AMO_W(op)                                                          \
    static uint64_t op##_w(uint32_t *p, uint64_t v)                        \
    {                                                                      \
        uint64_t r;                                                        \
        __asm__ volatile(#op ".w %0, %2, (%1)"                             \
                         : "=r"(r) : "r"(p), "r"(v) : "memory");           \
        return r;                                                          \
    }
#define AMO(op) AMO_D(op) AMO_W(op)
AMO(amoswap) AMO(amoadd) AMO(amoxor) AMO(amoand) AMO(amoor)
AMO(amomin) AMO(amomax) AMO(amominu) AMO(amomaxu)

static const struct {
    const char *name;
    uint64_t (*d)(uint64_t *, uint64_t);
    uint64_t (*w)(uint32_t *, uint64_t);
} amos[] = {
#define E(op) {#op, op##_d, op##_w}
    E(amoswap), E(amoadd), E(amoxor), E(amoand), E(amoor),
    E(amomin), E(amomax), E(amominu), E(amomaxu),
#undef E
};

static const uint64_t vals[] = {
    0, 1, -1ull, 5, 0x7fffffffffffffffull, 0x8000000000000000ull,
    0x80000000ull, 0x7fffffffull, 0x123456789abcdef0ull,
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t lr_d(uint64_t *p)
{
    uint64_t r;
    __asm__ volatile("lr.d %0, (%1)" : "=r"(r) : "r"(p) : "memory");
    return r;
}
static uint64_t sc_d(uint64_t *p, uint64_t v)
{
    uint64_t r;
    __asm__ volatile("sc.d %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(v) : "memory");
    return r;
}
static uint64_t lr_w(uint32_t *p)
{
    uint64_t r;
    __asm__ volatile("lr.w %0, (%1)" : "=r"(r) : "r"(p) : "memory");
    return r;
}
static uint64_t sc_w(uint32_t *p, uint64_t v)
{
    uint64_t r;
    __asm__ volatile("sc.w %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(v) : "memory");
    return r;
}

/* A compare-and-swap loop built from lr/sc with ordering bits. */
static int cas_w(uint32_t *p, uint32_t old, uint32_t new)
{
    uint64_t t, fail;
    __asm__ volatile("1: lr.w.aqrl %0, (%2)\n"
                     "   bne %0, %3, 2f\n"
                     "   sc.w.rl %1, %4, (%2)\n"
                     "   bnez %1, 1b\n"
                     "2:"
                     : "=&r"(t), "=&r"(fail)
                     : "r"(p), "r"((uint64_t)(int32_t)old), "r"(new)
                     : "memory");
    return (uint32_t)t == old;
}

int main(void)
{
    /* lr/sc: success. */
    mem64[0] = 0x1111222233334444ull;
    uint64_t r = lr_d(&mem64[0]);
    uint64_t s = sc_d(&mem64[0], 0x5555666677778888ull);
    printf("lr.d = %016llx, sc.d = %llu, mem = %016llx\n", (unsigned long long)r,
           (unsigned long long)s, (unsigned long long)mem64[0]);
    CHECK_EQ(r, 0x1111222233334444ull);
    CHECK_EQ(s, 0);
    CHECK_EQ(mem64[0], 0x5555666677778888ull);
    /* A second sc: the reservation was used up. */
    s = sc_d(&mem64[0], 1);
    printf("sc.d again = %s, mem = %016llx\n", s ? "fail" : "success",
           (unsigned long long)mem64[0]);
    CHECK(s != 0 && mem64[0] == 0x5555666677778888ull);
    /* sc to another address than the reservation's. */
    mem64[1] = 9;
    lr_d(&mem64[0]);
    s = sc_d(&mem64[1], 10);
    printf("sc.d other address = %s, mem = %llu\n", s ? "fail" : "success",
           (unsigned long long)mem64[1]);
    CHECK(s != 0 && mem64[1] == 9);

    mem32[0] = 0x80000001u;
    r = lr_w(&mem32[0]);
    s = sc_w(&mem32[0], 0x12345678u);
    printf("lr.w = %016llx (sign-extended), sc.w = %llu, mem = %08x\n",
           (unsigned long long)r, (unsigned long long)s, mem32[0]);
    CHECK_EQ(r, 0xffffffff80000001ull);
    CHECK_EQ(s, 0);
    CHECK_EQ(mem32[0], 0x12345678u);
    s = sc_w(&mem32[0], 7);
    printf("sc.w again = %s, mem = %08x\n", s ? "fail" : "success", mem32[0]);
    CHECK(s != 0 && mem32[0] == 0x12345678u);
    mem32[1] = 3;
    lr_w(&mem32[0]);
    s = sc_w(&mem32[1], 4);
    printf("sc.w other address = %s, mem = %u\n", s ? "fail" : "success", mem32[1]);
    CHECK(s != 0 && mem32[1] == 3);

    int ok = cas_w(&mem32[0], 0x12345678u, 0xcafef00du);
    printf("cas.w 12345678 -> cafef00d: %s, mem = %08x\n", ok ? "swapped" : "no", mem32[0]);
    CHECK(ok && mem32[0] == 0xcafef00du);
    ok = cas_w(&mem32[0], 0x12345678u, 1);
    printf("cas.w stale: %s, mem = %08x\n", ok ? "swapped" : "no", mem32[0]);
    CHECK(!ok && mem32[0] == 0xcafef00du);

    /* Every AMO over a grid of memory values and operands. */
    for (unsigned a = 0; a < N(amos); a++)
        for (unsigned i = 0; i < N(vals); i++)
            for (unsigned j = 0; j < N(vals); j++) {
                mem64[0] = vals[i];
                uint64_t old = amos[a].d(&mem64[0], vals[j]);
                printf("%s.d mem %016llx op %016llx -> ret %016llx mem %016llx\n",
                       amos[a].name, (unsigned long long)vals[i],
                       (unsigned long long)vals[j], (unsigned long long)old,
                       (unsigned long long)mem64[0]);
                CHECK_EQ(old, vals[i]);
                mem32[0] = (uint32_t)vals[i];
                old = amos[a].w(&mem32[0], vals[j]);
                printf("%s.w mem %08x op %016llx -> ret %016llx mem %08x\n",
                       amos[a].name, (uint32_t)vals[i],
                       (unsigned long long)vals[j], (unsigned long long)old,
                       mem32[0]);
                CHECK_EQ(old, (uint64_t)(int64_t)(int32_t)vals[i]);
            }

    /* Spot checks of the operations themselves. */
    mem64[0] = 5;
    amomin_d(&mem64[0], -1ull);
    CHECK_EQ(mem64[0], -1ull);
    mem64[0] = 5;
    amominu_d(&mem64[0], -1ull);
    CHECK_EQ(mem64[0], 5);
    mem32[0] = 0x7fffffffu;
    amoadd_w(&mem32[0], 1);
    CHECK_EQ(mem32[0], 0x80000000u);
    mem32[0] = 0x80000000u;
    amomax_w(&mem32[0], 0x7fffffffull);
    CHECK_EQ(mem32[0], 0x7fffffffu);
    mem32[0] = 0x80000000u;
    amomaxu_w(&mem32[0], 0x7fffffffull);
    CHECK_EQ(mem32[0], 0x80000000u);

    /* The ordering variants assemble and behave the same. */
    uint64_t v;
    mem64[0] = 1;
    __asm__ volatile("amoadd.d.aq %0, %2, (%1)" : "=r"(v) : "r"(&mem64[0]), "r"(2ull) : "memory");
    __asm__ volatile("amoadd.d.rl %0, %2, (%1)" : "=r"(v) : "r"(&mem64[0]), "r"(4ull) : "memory");
    __asm__ volatile("amoadd.d.aqrl %0, %2, (%1)" : "=r"(v) : "r"(&mem64[0]), "r"(8ull) : "memory");
    printf("amoadd.d .aq/.rl/.aqrl: last ret %llu mem %llu\n", (unsigned long long)v,
           (unsigned long long)mem64[0]);
    CHECK_EQ(mem64[0], 15);
    /* rd = zero: the store still happens. */
    mem32[0] = 1;
    __asm__ volatile("amoor.w zero, %1, (%0)" : : "r"(&mem32[0]), "r"(6ull) : "memory");
    printf("amoor.w rd=zero: mem %u\n", mem32[0]);
    CHECK_EQ(mem32[0], 7);

    if (check_exit("isa_a"))
        return 1;
    printf("isa_a: ok\n");
    return 0;
}
