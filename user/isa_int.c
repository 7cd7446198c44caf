/* RV64I self-check: register-register and immediate ALU operations
 * (including the W forms' sign extension and shift amounts that use only
 * the low 5 or 6 bits), slt/sltu, every branch, loads and stores of every
 * width, lui/auipc and jal/jalr, printing results in hex; the spec's
 * corner cases are also asserted here. */
#include <stdint.h>
#include <stdio.h>
#include "check.h"

typedef uint64_t (*rr_fn)(uint64_t, uint64_t);
typedef uint64_t (*ri_fn)(uint64_t);

#define RR(op)                                                             \
    static uint64_t f_##op(uint64_t a, uint64_t b)                         \
    {                                                                      \
        uint64_t r;                                                        \
        __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));    \
        return r;                                                          \
    }
RR(add) RR(sub) RR(sll) RR(slt) RR(sltu) RR(xor) RR(srl) RR(sra) RR(or)
RR(and) RR(addw) RR(subw) RR(sllw) RR(srlw) RR(sraw)

#define RI(op, imm)                                                        \
    static uint64_t f_##op##_##imm(uint64_t a)                             \
    {                                                                      \
        uint64_t r;                                                        \
        __asm__ volatile(#op " %0, %1, %2" : "=r"(r) : "r"(a), "i"(imm));  \
        return r;                                                          \
    }
#define M1 (-1)
#define M2048 (-2048)
RI(addi, 1) RI(addi, M1) RI(addi, 2047) RI(addi, M2048)
RI(addiw, 1) RI(addiw, M1) RI(addiw, 2047)
RI(slti, 0) RI(slti, M1) RI(sltiu, 1) RI(sltiu, M1)
RI(xori, M1) RI(ori, 0x555) RI(andi, 0x7f0) RI(andi, M2048)
RI(slli, 0) RI(slli, 1) RI(slli, 31) RI(slli, 32) RI(slli, 63)
RI(srli, 1) RI(srli, 31) RI(srli, 32) RI(srli, 63)
RI(srai, 1) RI(srai, 31) RI(srai, 32) RI(srai, 63)
RI(slliw, 0) RI(slliw, 1) RI(slliw, 31)
RI(srliw, 0) RI(srliw, 1) RI(srliw, 31)
RI(sraiw, 0) RI(sraiw, 1) RI(sraiw, 31)

#define BR(op)                                                             \
    static int f_##op(uint64_t a, uint64_t b)                              \
    {                                                                      \
        int t = 1;                                                         \
        __asm__ volatile(#op " %1, %2, 1f\n li %0, 0\n1:"                  \
                         : "+r"(t) : "r"(a), "r"(b));                      \
        return t;                                                          \
    }
BR(beq) BR(bne) BR(blt) BR(bge) BR(bltu) BR(bgeu)

static const struct {
    const char *name;
    rr_fn fn;
} rr[] = {
#define E(op) {#op, f_##op}
    E(add), E(sub), E(sll), E(slt), E(sltu), E(xor), E(srl), E(sra), E(or),
    E(and), E(addw), E(subw), E(sllw), E(srlw), E(sraw),
#undef E
};

static const struct {
    const char *name;
    ri_fn fn;
} ri[] = {
#define E(op, imm) {#op " " #imm, f_##op##_##imm}
    E(addi, 1), E(addi, M1), E(addi, 2047), E(addi, M2048),
    E(addiw, 1), E(addiw, M1), E(addiw, 2047),
    E(slti, 0), E(slti, M1), E(sltiu, 1), E(sltiu, M1),
    E(xori, M1), E(ori, 0x555), E(andi, 0x7f0), E(andi, M2048),
    E(slli, 0), E(slli, 1), E(slli, 31), E(slli, 32), E(slli, 63),
    E(srli, 1), E(srli, 31), E(srli, 32), E(srli, 63),
    E(srai, 1), E(srai, 31), E(srai, 32), E(srai, 63),
    E(slliw, 0), E(slliw, 1), E(slliw, 31),
    E(srliw, 0), E(srliw, 1), E(srliw, 31),
    E(sraiw, 0), E(sraiw, 1), E(sraiw, 31),
#undef E
};

static const struct {
    const char *name;
    int (*fn)(uint64_t, uint64_t);
} br[] = {
#define E(op) {#op, f_##op}
    E(beq), E(bne), E(blt), E(bge), E(bltu), E(bgeu),
#undef E
};

static const uint64_t vals[] = {
    0, 1, 2, 31, 32, 33, 63, 64, -1ull, 0x7fffffffull, 0x80000000ull,
    0xffffffffull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    0x123456789abcdef0ull, 0xfedcba9876543210ull,
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *targets_hit;
static void target(void) { targets_hit = "jalr target"; }

int main(void)
{
    for (unsigned o = 0; o < N(rr); o++)
        for (unsigned i = 0; i < N(vals); i++)
            for (unsigned j = 0; j < N(vals); j++)
                printf("%s %016llx %016llx = %016llx\n", rr[o].name,
                       (unsigned long long)vals[i], (unsigned long long)vals[j],
                       (unsigned long long)rr[o].fn(vals[i], vals[j]));
    for (unsigned o = 0; o < N(ri); o++)
        for (unsigned i = 0; i < N(vals); i++)
            printf("%s %016llx = %016llx\n", ri[o].name,
                   (unsigned long long)vals[i],
                   (unsigned long long)ri[o].fn(vals[i]));
    for (unsigned o = 0; o < N(br); o++)
        for (unsigned i = 0; i < N(vals); i++)
            for (unsigned j = 0; j < N(vals); j += 3)
                printf("%s %016llx %016llx: %s\n", br[o].name,
                       (unsigned long long)vals[i], (unsigned long long)vals[j],
                       br[o].fn(vals[i], vals[j]) ? "taken" : "not taken");

    /* Loads of every width and signedness, stores of every width. */
    static volatile uint64_t mem = 0x8081828384858687ull;
    uint64_t lb, lbu, lh, lhu, lw, lwu, ld;
    __asm__ volatile("lb %0, 0(%7)\n lbu %1, 0(%7)\n lh %2, 0(%7)\n"
                     "lhu %3, 0(%7)\n lw %4, 0(%7)\n lwu %5, 0(%7)\n ld %6, 0(%7)"
                     : "=&r"(lb), "=&r"(lbu), "=&r"(lh), "=&r"(lhu), "=&r"(lw),
                       "=&r"(lwu), "=&r"(ld)
                     : "r"(&mem) : "memory");
    printf("lb %016llx lbu %016llx lh %016llx lhu %016llx\n",
           (unsigned long long)lb, (unsigned long long)lbu,
           (unsigned long long)lh, (unsigned long long)lhu);
    printf("lw %016llx lwu %016llx ld %016llx\n", (unsigned long long)lw,
           (unsigned long long)lwu, (unsigned long long)ld);
    CHECK_EQ(lb, 0xffffffffffffff87ull);
    CHECK_EQ(lbu, 0x87);
    CHECK_EQ(lh, 0xffffffffffff8687ull);
    CHECK_EQ(lhu, 0x8687);
    CHECK_EQ(lw, 0xffffffff84858687ull);
    CHECK_EQ(lwu, 0x84858687ull);
    __asm__ volatile("sb %1, 7(%0)\n sh %1, 4(%0)\n sw %2, 0(%0)"
                     : : "r"(&mem), "r"(0x1122ull), "r"(0xa0b0c0d0ull) : "memory");
    printf("after sb/sh/sw: %016llx\n", (unsigned long long)mem);
    CHECK_EQ(mem, 0x22811122a0b0c0d0ull);
    __asm__ volatile("sd %1, 0(%0)" : : "r"(&mem), "r"(-2ull) : "memory");
    CHECK_EQ(mem, -2ull);

    /* lui sign-extends its 32-bit result; auipc adds to its own pc. */
    uint64_t l1, l2, pc1, pc2;
    __asm__ volatile("lui %0, 0x80000\n lui %1, 0x7ffff" : "=r"(l1), "=r"(l2));
    printf("lui 0x80000 = %016llx, lui 0x7ffff = %016llx\n",
           (unsigned long long)l1, (unsigned long long)l2);
    CHECK_EQ(l1, 0xffffffff80000000ull);
    CHECK_EQ(l2, 0x7ffff000ull);
    __asm__ volatile("1: auipc %0, 0\n la %1, 1b" : "=r"(pc1), "=r"(pc2));
    printf("auipc 0 = its own address: %s\n", pc1 == pc2 ? "yes" : "no");
    CHECK(pc1 == pc2);
    __asm__ volatile("1: auipc %0, 1\n la %1, 1b" : "=r"(pc1), "=r"(pc2));
    printf("auipc 1 = its address + 4096: %s\n", pc1 == pc2 + 4096 ? "yes" : "no");
    CHECK(pc1 == pc2 + 4096);

    /* jal links the next pc; jalr clears bit 0 of the target. */
    uint64_t link, here;
    __asm__ volatile("jal %0, 1f\n2: nop\n1: la %1, 2b" : "=r"(link), "=r"(here));
    printf("jal links the next instruction: %s\n", link == here ? "yes" : "no");
    CHECK(link == here);
    __asm__ volatile("jalr ra, 1(%0)"
                     : : "r"(target)
                     : "ra", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
                       "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
    printf("jalr to an odd address: %s\n", targets_hit ? targets_hit : "missed");
    CHECK(targets_hit != NULL);

    /* x0 stays zero. */
    uint64_t z;
    __asm__ volatile("addi zero, zero, 5\n mv %0, zero" : "=r"(z));
    CHECK_EQ(z, 0);

    CHECK_EQ(f_addw(0x7fffffff, 1), 0xffffffff80000000ull);
    CHECK_EQ(f_subw(0, 0x80000000ull), 0xffffffff80000000ull);
    CHECK_EQ(f_sll(1, 65), 2);             /* shift amount mod 64 */
    CHECK_EQ(f_sllw(1, 33), 2);            /* shift amount mod 32 */
    CHECK_EQ(f_sraw(0x80000000ull, 4), 0xfffffffff8000000ull);
    CHECK_EQ(f_srlw(0xffffffff80000000ull, 4), 0x08000000);
    CHECK_EQ(f_sra(0x8000000000000000ull, 63), -1ull);
    CHECK_EQ(f_slt(-1ull, 0), 1);
    CHECK_EQ(f_sltu(-1ull, 0), 0);
    CHECK_EQ(f_sltiu_1(0), 1);             /* seqz */
    CHECK_EQ(f_sltiu_M1(5), 1);            /* imm sign-extends, compares unsigned */
    CHECK_EQ(f_srliw_0(0x80000000ull), 0xffffffff80000000ull);
    CHECK(f_blt(-1ull, 0) && !f_bltu(-1ull, 0) && f_bgeu(-1ull, 0));
    if (check_exit("isa_int"))
        return 1;
    printf("isa_int: ok\n");
    return 0;
}
