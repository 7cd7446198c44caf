/* RV64M self-check: every multiply and divide instruction, 64-bit and W
 * forms, over a grid of edge values (0, ±1, INT_MIN, INT_MAX, 32-bit
 * boundaries), printing each result in hex. The expected output is what
 * qemu-riscv64 prints; the spec's corner cases are also asserted here. */
#include <stdint.h>
#include <stdio.h>
#include "check.h"

typedef uint64_t (*rr_fn)(uint64_t, uint64_t);

#define RR(op)                                                             \
    static uint64_t f_##op(uint64_t a, uint64_t b)                         \
    {                                                                      \
        uint64_t r;                                                        \
        __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));    \
        return r;                                                          \
    }
RR(mul) RR(mulh) RR(mulhsu) RR(mulhu) RR(div) RR(divu) RR(rem) RR(remu)
RR(mulw) RR(divw) RR(divuw) RR(remw) RR(remuw)

static const struct {
    const char *name;
    rr_fn fn;
} ops[] = {
    {"mul", f_mul}, {"mulh", f_mulh}, {"mulhsu", f_mulhsu},
    {"mulhu", f_mulhu}, {"div", f_div}, {"divu", f_divu}, {"rem", f_rem},
    {"remu", f_remu}, {"mulw", f_mulw}, {"divw", f_divw},
    {"divuw", f_divuw}, {"remw", f_remw}, {"remuw", f_remuw},
};

static const uint64_t vals[] = {
    0, 1, 2, 3, 7, -1ull, -2ull, -7ull,
    0x7fffffffffffffffull, 0x8000000000000000ull,
    0x7fffffffull, 0x80000000ull, 0xffffffff80000000ull, 0xffffffffull,
    0x100000000ull, 0x123456789abcdef0ull, 0xfedcba9876543210ull,
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

int main(void)
{
    for (unsigned o = 0; o < N(ops); o++)
        for (unsigned i = 0; i < N(vals); i++)
            for (unsigned j = 0; j < N(vals); j++)
                printf("%s %016llx %016llx = %016llx\n", ops[o].name,
                       (unsigned long long)vals[i], (unsigned long long)vals[j],
                       (unsigned long long)ops[o].fn(vals[i], vals[j]));

    const uint64_t MIN = 0x8000000000000000ull;
    CHECK_EQ(f_mul(-1ull, 7), -7ull);
    CHECK_EQ(f_mulh(-1ull, -1ull), 0);
    CHECK_EQ(f_mulhu(-1ull, -1ull), -2ull);
    CHECK_EQ(f_mulhsu(-1ull, -1ull), -1ull);
    CHECK_EQ(f_mulh(MIN, MIN), 0x4000000000000000ull);
    /* Division by zero: quotient all ones, remainder the dividend. */
    CHECK_EQ(f_div(7, 0), -1ull);
    CHECK_EQ(f_divu(7, 0), -1ull);
    CHECK_EQ(f_rem(7, 0), 7);
    CHECK_EQ(f_remu(7, 0), 7);
    CHECK_EQ(f_divw(7, 0), -1ull);
    CHECK_EQ(f_divuw(7, 0), -1ull);
    CHECK_EQ(f_remw(0xffffffff80000000ull, 0), 0xffffffff80000000ull);
    CHECK_EQ(f_remuw(0x80000000ull, 0), 0xffffffff80000000ull);
    /* Overflow: INT_MIN / -1 = INT_MIN, remainder 0. */
    CHECK_EQ(f_div(MIN, -1ull), MIN);
    CHECK_EQ(f_rem(MIN, -1ull), 0);
    CHECK_EQ(f_divw(0x80000000ull, -1ull), 0xffffffff80000000ull);
    CHECK_EQ(f_remw(0x80000000ull, -1ull), 0);
    /* Rounding toward zero, remainder takes the dividend's sign. */
    CHECK_EQ(f_div(-7ull, 2), -3ull);
    CHECK_EQ(f_rem(-7ull, 2), -1ull);
    CHECK_EQ(f_divu(-7ull, 2), 0x7ffffffffffffffcull);
    /* W forms use the low 32 bits and sign-extend the 32-bit result. */
    CHECK_EQ(f_mulw(0x10000ull, 0x8000ull), 0xffffffff80000000ull);
    CHECK_EQ(f_divuw(0x1ffffffffull, 1), -1ull);
    if (check_exit("isa_m"))
        return 1;
    printf("isa_m: ok\n");
    return 0;
}
