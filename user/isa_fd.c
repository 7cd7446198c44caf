/* RV64F and RV64D self-check. Every arithmetic op (add, sub, mul, div,
 * sqrt, the four fused multiply-adds), min/max (NaNs, signed zeros),
 * sign injection, compares, fclass, every fcvt and fmv, in the five static
 * rounding modes and with rm=dyn under each of the five frm values. Each
 * line: the op, the rounding mode, the operands and result in hex, and the
 * fflags read with frflags after the op (cleared before each op).
 * Single-precision values travel NaN-boxed in 64-bit registers; a few
 * inputs are deliberately not NaN-boxed (they must read as the canonical
 * NaN). The spec's corner cases are also asserted here. */
#include <stdint.h>
#include <stdio.h>
#include "check.h"

typedef uint64_t u64;
static u64 fl; /* fflags after the last op */

/* f <- f op f, with a rounding mode. */
#define BIN(name, insn, rm)                                                \
    static u64 name##_##rm(u64 a, u64 b, u64 c)                            \
    {                                                                      \
        u64 r;                                                             \
        (void)c;                                                           \
        __asm__ volatile("fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n fsflags zero\n" \
                         insn " ft2, ft0, ft1, " #rm "\n frflags %1\n"     \
                         "fmv.x.d %0, ft2"                                 \
                         : "=r"(r), "=r"(fl) : "r"(a), "r"(b)              \
                         : "ft0", "ft1", "ft2");                           \
        return r;                                                          \
    }
/* f <- f op f, no rounding mode (min/max/sgnj). */
#define BIN0(name, insn)                                                   \
    static u64 name(u64 a, u64 b, u64 c)                                   \
    {                                                                      \
        u64 r;                                                             \
        (void)c;                                                           \
        __asm__ volatile("fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n fsflags zero\n" \
                         insn " ft2, ft0, ft1\n frflags %1\n fmv.x.d %0, ft2" \
                         : "=r"(r), "=r"(fl) : "r"(a), "r"(b)              \
                         : "ft0", "ft1", "ft2");                           \
        return r;                                                          \
    }
/* x <- f cmp f. */
#define CMP(name, insn)                                                    \
    static u64 name(u64 a, u64 b, u64 c)                                   \
    {                                                                      \
        u64 r;                                                             \
        (void)c;                                                           \
        __asm__ volatile("fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n fsflags zero\n" \
                         insn " %0, ft0, ft1\n frflags %1"                 \
                         : "=&r"(r), "=&r"(fl) : "r"(a), "r"(b)            \
                         : "ft0", "ft1");                                  \
        return r;                                                          \
    }
/* f <- f*f+f family. */
#define TER(name, insn, rm)                                                \
    static u64 name##_##rm(u64 a, u64 b, u64 c)                            \
    {                                                                      \
        u64 r;                                                             \
        __asm__ volatile("fmv.d.x ft0, %2\n fmv.d.x ft1, %3\n"            \
                         "fmv.d.x ft2, %4\n fsflags zero\n"                \
                         insn " ft3, ft0, ft1, ft2, " #rm "\n frflags %1\n" \
                         "fmv.x.d %0, ft3"                                 \
                         : "=r"(r), "=r"(fl) : "r"(a), "r"(b), "r"(c)      \
                         : "ft0", "ft1", "ft2", "ft3");                    \
        return r;                                                          \
    }
/* f <- op f (sqrt, fcvt between precisions). */
#define UNF(name, insn, rm)                                                \
    static u64 name##_##rm(u64 a, u64 b, u64 c)                            \
    {                                                                      \
        u64 r;                                                             \
        (void)b;                                                           \
        (void)c;                                                           \
        __asm__ volatile("fmv.d.x ft0, %2\n fsflags zero\n"               \
                         insn " ft2, ft0, " #rm "\n frflags %1\n"          \
                         "fmv.x.d %0, ft2"                                 \
                         : "=r"(r), "=r"(fl) : "r"(a) : "ft0", "ft2");     \
        return r;                                                          \
    }
/* x <- fcvt f. */
#define F2I(name, insn, rm)                                                \
    static u64 name##_##rm(u64 a, u64 b, u64 c)                            \
    {                                                                      \
        u64 r;                                                             \
        (void)b;                                                           \
        (void)c;                                                           \
        __asm__ volatile("fmv.d.x ft0, %2\n fsflags zero\n"               \
                         insn " %0, ft0, " #rm "\n frflags %1"             \
                         : "=&r"(r), "=&r"(fl) : "r"(a) : "ft0");          \
        return r;                                                          \
    }
/* f <- fcvt x. */
#define I2F(name, insn, rm)                                                \
    static u64 name##_##rm(u64 a, u64 b, u64 c)                            \
    {                                                                      \
        u64 r;                                                             \
        (void)b;                                                           \
        (void)c;                                                           \
        __asm__ volatile("fsflags zero\n" insn " ft2, %2, " #rm "\n"      \
                         "frflags %1\n fmv.x.d %0, ft2"                    \
                         : "=&r"(r), "=&r"(fl) : "r"(a) : "ft2");          \
        return r;                                                          \
    }
/* x <- op f, no rounding mode (fclass, fmv.x.*). */
#define UNX(name, insn)                                                    \
    static u64 name(u64 a, u64 b, u64 c)                                   \
    {                                                                      \
        u64 r;                                                             \
        (void)b;                                                           \
        (void)c;                                                           \
        __asm__ volatile("fmv.d.x ft0, %2\n fsflags zero\n"               \
                         insn " %0, ft0\n frflags %1"                      \
                         : "=&r"(r), "=&r"(fl) : "r"(a) : "ft0");          \
        return r;                                                          \
    }
/* f <- fmv x (fmv.w.x NaN-boxes). */
#define MVF(name, insn)                                                    \
    static u64 name(u64 a, u64 b, u64 c)                                   \
    {                                                                      \
        u64 r;                                                             \
        (void)b;                                                           \
        (void)c;                                                           \
        __asm__ volatile("fsflags zero\n" insn " ft2, %2\n frflags %1\n"  \
                         "fmv.x.d %0, ft2"                                 \
                         : "=&r"(r), "=&r"(fl) : "r"(a) : "ft2");          \
        return r;                                                          \
    }

#define ALLRM(M, name, insn)                                               \
    M(name, insn, rne) M(name, insn, rtz) M(name, insn, rdn)               \
    M(name, insn, rup) M(name, insn, rmm) M(name, insn, dyn)

typedef u64 (*fn)(u64, u64, u64);

/* Operand kinds: what the op takes. */
enum kind { K_BIN, K_TER, K_UN, K_I2F };

struct op {
    const char *name;
    enum kind kind;
    char src;    /* operands: 's' NaN-boxed singles, 'd' doubles, 'i' ints */
    fn f[6];     /* rne rtz rdn rup rmm dyn, or f[0] only */
};

#define OPS_RM(M)                                                          \
    M(BIN, fadd_s, "fadd.s", 's') M(BIN, fsub_s, "fsub.s", 's')                      \
    M(BIN, fmul_s, "fmul.s", 's') M(BIN, fdiv_s, "fdiv.s", 's')                      \
    M(BIN, fadd_d, "fadd.d", 'd') M(BIN, fsub_d, "fsub.d", 'd')                      \
    M(BIN, fmul_d, "fmul.d", 'd') M(BIN, fdiv_d, "fdiv.d", 'd')                      \
    M(TER, fmadd_s, "fmadd.s", 's') M(TER, fmsub_s, "fmsub.s", 's')                  \
    M(TER, fnmadd_s, "fnmadd.s", 's') M(TER, fnmsub_s, "fnmsub.s", 's')              \
    M(TER, fmadd_d, "fmadd.d", 'd') M(TER, fmsub_d, "fmsub.d", 'd')                  \
    M(TER, fnmadd_d, "fnmadd.d", 'd') M(TER, fnmsub_d, "fnmsub.d", 'd')              \
    M(UNF, fsqrt_s, "fsqrt.s", 's') M(UNF, fsqrt_d, "fsqrt.d", 'd')                  \
    M(UNF, fcvt_s_d, "fcvt.s.d", 'd')              \
    M(F2I, fcvt_w_s, "fcvt.w.s", 's') M(F2I, fcvt_wu_s, "fcvt.wu.s", 's')            \
    M(F2I, fcvt_l_s, "fcvt.l.s", 's') M(F2I, fcvt_lu_s, "fcvt.lu.s", 's')            \
    M(F2I, fcvt_w_d, "fcvt.w.d", 'd') M(F2I, fcvt_wu_d, "fcvt.wu.d", 'd')            \
    M(F2I, fcvt_l_d, "fcvt.l.d", 'd') M(F2I, fcvt_lu_d, "fcvt.lu.d", 'd')            \
    M(I2F, fcvt_s_w, "fcvt.s.w", 'i') M(I2F, fcvt_s_wu, "fcvt.s.wu", 'i')            \
    M(I2F, fcvt_s_l, "fcvt.s.l", 'i') M(I2F, fcvt_s_lu, "fcvt.s.lu", 'i')            \
    M(I2F, fcvt_d_l, "fcvt.d.l", 'i') M(I2F, fcvt_d_lu, "fcvt.d.lu", 'i')

#define DEF_RM(MAC, name, insn, src) ALLRM(MAC, name, insn)
OPS_RM(DEF_RM)

BIN0(fmin_s, "fmin.s") BIN0(fmax_s, "fmax.s") BIN0(fsgnj_s, "fsgnj.s")
BIN0(fsgnjn_s, "fsgnjn.s") BIN0(fsgnjx_s, "fsgnjx.s")
BIN0(fmin_d, "fmin.d") BIN0(fmax_d, "fmax.d") BIN0(fsgnj_d, "fsgnj.d")
BIN0(fsgnjn_d, "fsgnjn.d") BIN0(fsgnjx_d, "fsgnjx.d")
CMP(feq_s, "feq.s") CMP(flt_s, "flt.s") CMP(fle_s, "fle.s")
CMP(feq_d, "feq.d") CMP(flt_d, "flt.d") CMP(fle_d, "fle.d")
UNX(fclass_s, "fclass.s") UNX(fclass_d, "fclass.d")
UNX(fmv_x_w, "fmv.x.w") UNX(fmv_x_d, "fmv.x.d")
MVF(fmv_w_x, "fmv.w.x") MVF(fmv_d_x, "fmv.d.x")
/* Exact conversions: binutils takes no rounding mode for these. */
MVF(fcvt_d_w, "fcvt.d.w") MVF(fcvt_d_wu, "fcvt.d.wu")
static u64 fcvt_d_s(u64 a, u64 b, u64 c)
{
    u64 r;
    (void)b;
    (void)c;
    __asm__ volatile("fmv.d.x ft0, %2\n fsflags zero\n fcvt.d.s ft2, ft0\n"
                     "frflags %1\n fmv.x.d %0, ft2"
                     : "=r"(r), "=r"(fl) : "r"(a) : "ft0", "ft2");
    return r;
}

#define KIND_BIN K_BIN
#define KIND_TER K_TER
#define KIND_UNF K_UN
#define KIND_F2I K_UN
#define KIND_I2F K_I2F
#define ENTRY_RM(MAC, name, insn, src)                                     \
    {insn, KIND_##MAC, src,                                                \
     {name##_rne, name##_rtz, name##_rdn, name##_rup, name##_rmm, name##_dyn}},
static const struct op rm_ops[] = {OPS_RM(ENTRY_RM)};

#define ENTRY0(name, kind, src) {#name, kind, src, {name}},
static const struct op plain_ops[] = {
    ENTRY0(fmin_s, K_BIN, 's') ENTRY0(fmax_s, K_BIN, 's')
    ENTRY0(fsgnj_s, K_BIN, 's') ENTRY0(fsgnjn_s, K_BIN, 's')
    ENTRY0(fsgnjx_s, K_BIN, 's') ENTRY0(feq_s, K_BIN, 's')
    ENTRY0(flt_s, K_BIN, 's') ENTRY0(fle_s, K_BIN, 's')
    ENTRY0(fmin_d, K_BIN, 'd') ENTRY0(fmax_d, K_BIN, 'd')
    ENTRY0(fsgnj_d, K_BIN, 'd') ENTRY0(fsgnjn_d, K_BIN, 'd')
    ENTRY0(fsgnjx_d, K_BIN, 'd') ENTRY0(feq_d, K_BIN, 'd')
    ENTRY0(flt_d, K_BIN, 'd') ENTRY0(fle_d, K_BIN, 'd')
    ENTRY0(fclass_s, K_UN, 's') ENTRY0(fclass_d, K_UN, 'd')
    ENTRY0(fmv_x_w, K_UN, 's') ENTRY0(fmv_x_d, K_UN, 'd')
    ENTRY0(fmv_w_x, K_I2F, 'i') ENTRY0(fmv_d_x, K_I2F, 'i')
    ENTRY0(fcvt_d_s, K_UN, 's') ENTRY0(fcvt_d_w, K_I2F, 'i')
    ENTRY0(fcvt_d_wu, K_I2F, 'i')
};

#define B(x) (0xffffffff00000000ull | (x)) /* NaN-box a single */
/* Operands of binary ops and fused multiply-adds (small sets: each op
 * runs in 10 rounding configurations). */
static const u64 bin_s[] = {
    B(0x00000000), B(0x80000000), B(0x3f800000), B(0xbfc00000),
    B(0x3eaaaaab), B(0x7f7fffff), B(0x00000001), B(0x7f800000),
    B(0x7fc00000), B(0x7f800001),
};
static const u64 bin_d[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
    0xbff8000000000000ull, 0x3fd5555555555555ull, 0x7fefffffffffffffull,
    0x0000000000000001ull, 0x7ff0000000000000ull, 0x7ff8000000000000ull,
    0x7ff0000000000001ull,
};
/* Operands of unary ops: more edge cases. */
static const u64 un_s[] = {
    B(0x00000000), B(0x80000000), B(0x3f800000), B(0xbf800000),
    B(0xbfc00000), B(0x3fc00000), B(0x40200000), B(0x3f000000),
    B(0xbf000000), B(0x3eaaaaab), B(0x40400000), B(0x7f7fffff),
    B(0x00000001), B(0x807fffff), B(0x7f800000), B(0xff800000),
    B(0x7fc00000), B(0xffc00001), B(0x7f800001), B(0x4effffff),
    B(0x4f000000), B(0xcf000000), B(0xcf000001), B(0x4f800000),
    B(0x5effffff), B(0x5f000000), B(0xdf000000), B(0x5f800000),
    0x000000003f800000ull, /* not NaN-boxed: reads as the canonical NaN */
    0x7fffffff3f800000ull,
};
static const u64 un_d[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
    0xbff0000000000000ull, 0xbff8000000000000ull, 0x3ff8000000000000ull,
    0x4004000000000000ull, 0x3fe0000000000000ull, 0xbfe0000000000000ull,
    0x3fd5555555555555ull, 0x4008000000000000ull, 0x7fefffffffffffffull,
    0x0000000000000001ull, 0x800fffffffffffffull, 0x7ff0000000000000ull,
    0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000001ull,
    0x7ff0000000000001ull, 0x41dfffffffc00000ull, 0x41e0000000000000ull,
    0xc1e0000000000000ull, 0xc1e0000000200000ull, 0x41f0000000000000ull,
    0x43dfffffffffffffull, 0x43e0000000000000ull, 0xc3e0000000000000ull,
    0x43f0000000000000ull, 0x3810000000000000ull, 0x36a0000000000000ull,
    0x47efffffe0000000ull, 0x47effffff0000000ull, 0x3e70000000000001ull,
};
/* Integer operands of int -> float conversions. */
static const u64 ints[] = {
    0, 1, -1ull, 2, 0x7fffffffull, 0x80000000ull, 0xffffffff80000000ull,
    0xffffffffull, 0x1000001ull, 0x1000003ull, 0x100000001ull,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0x20000000000001ull,
    0x20000000000003ull, 123456789ull, 0xfffffffffffffffeull,
};
/* Fused multiply-add triples. */
static const u64 ter_s[][3] = {
    {B(0x3f800000), B(0x3f800000), B(0x3f800000)},
    {B(0x3eaaaaab), B(0x40400000), B(0xbf800000)},
    {B(0x3f800001), B(0x3f800001), B(0xbf800002)},
    {B(0x7f7fffff), B(0x40000000), B(0xff7fffff)},
    {B(0x00000000), B(0x7f800000), B(0x7fc00000)},
    {B(0x00000000), B(0x7f800000), B(0x3f800000)},
    {B(0x7f800001), B(0x3f800000), B(0x3f800000)},
    {B(0x80000000), B(0x3f800000), B(0x00000000)},
    {B(0x00000001), B(0x3f000000), B(0x00000000)},
    {B(0x3f800000), B(0xbf800000), B(0x3f800000)},
};
static const u64 ter_d[][3] = {
    {0x3ff0000000000000ull, 0x3ff0000000000000ull, 0x3ff0000000000000ull},
    {0x3fd5555555555555ull, 0x4008000000000000ull, 0xbff0000000000000ull},
    {0x3ff0000000000001ull, 0x3ff0000000000001ull, 0xbff0000000000002ull},
    {0x7fefffffffffffffull, 0x4000000000000000ull, 0xffefffffffffffffull},
    {0x0000000000000000ull, 0x7ff0000000000000ull, 0x7ff8000000000000ull},
    {0x0000000000000000ull, 0x7ff0000000000000ull, 0x3ff0000000000000ull},
    {0x7ff0000000000001ull, 0x3ff0000000000000ull, 0x3ff0000000000000ull},
    {0x8000000000000000ull, 0x3ff0000000000000ull, 0x0000000000000000ull},
    {0x0000000000000001ull, 0x3fe0000000000000ull, 0x0000000000000000ull},
    {0x3ff0000000000000ull, 0xbff0000000000000ull, 0x3ff0000000000000ull},
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const rm_names[] = {"rne", "rtz", "rdn", "rup", "rmm"};

static void set_frm(int m) { __asm__ volatile("fsrm %0" : : "r"((u64)m)); }

/* Runs one op in one rounding configuration over its operand set. */
static void sweep(const struct op *o, fn f, const char *mode)
{
    switch (o->kind) {
    case K_BIN: {
        const u64 *v = o->src == 'd' ? bin_d : bin_s;
        unsigned n = o->src == 'd' ? N(bin_d) : N(bin_s);
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++) {
                u64 r = f(v[i], v[j], 0);
                printf("%s %s %016llx %016llx -> %016llx fflags %02llx\n",
                       o->name, mode, (unsigned long long)v[i],
                       (unsigned long long)v[j], (unsigned long long)r,
                       (unsigned long long)fl);
            }
        break;
    }
    case K_TER:
        for (unsigned i = 0; i < N(ter_s); i++) {
            const u64 *t = o->src == 'd' ? ter_d[i] : ter_s[i];
            u64 r = f(t[0], t[1], t[2]);
            printf("%s %s %016llx %016llx %016llx -> %016llx fflags %02llx\n",
                   o->name, mode, (unsigned long long)t[0],
                   (unsigned long long)t[1], (unsigned long long)t[2],
                   (unsigned long long)r, (unsigned long long)fl);
        }
        break;
    case K_UN: {
        const u64 *v = o->src == 'd' ? un_d : un_s;
        unsigned n = o->src == 'd' ? N(un_d) : N(un_s);
        for (unsigned i = 0; i < n; i++) {
            u64 r = f(v[i], 0, 0);
            printf("%s %s %016llx -> %016llx fflags %02llx\n", o->name, mode,
                   (unsigned long long)v[i], (unsigned long long)r,
                   (unsigned long long)fl);
        }
        break;
    }
    case K_I2F:
        for (unsigned i = 0; i < N(ints); i++) {
            u64 r = f(ints[i], 0, 0);
            printf("%s %s %016llx -> %016llx fflags %02llx\n", o->name, mode,
                   (unsigned long long)ints[i], (unsigned long long)r,
                   (unsigned long long)fl);
        }
        break;
    }
}

int main(void)
{
    for (unsigned k = 0; k < N(rm_ops); k++) {
        const struct op *o = &rm_ops[k];
        for (int m = 0; m < 5; m++)
            sweep(o, o->f[m], rm_names[m]);
        for (int m = 0; m < 5; m++) {
            char mode[16];
            snprintf(mode, sizeof mode, "dyn/%s", rm_names[m]);
            set_frm(m);
            sweep(o, o->f[5], mode);
        }
        set_frm(0);
    }
    for (unsigned k = 0; k < N(plain_ops); k++)
        sweep(&plain_ops[k], plain_ops[k].f[0], "-");

    /* The spec's corner cases. NV=10 DZ=08 OF=04 UF=02 NX=01. */
    const u64 one_s = B(0x3f800000), zero_s = B(0), nzero_s = B(0x80000000);
    const u64 qnan_s = B(0x7fc00000), snan_s = B(0x7f800001);
    CHECK_EQ(fdiv_s_rne(one_s, zero_s, 0), B(0x7f800000));
    CHECK_EQ(fl, 0x08);
    CHECK_EQ(fsqrt_s_rne(B(0xbf800000), 0, 0), qnan_s);
    CHECK_EQ(fl, 0x10);
    CHECK_EQ(fmin_s(zero_s, nzero_s, 0), nzero_s);
    CHECK_EQ(fmax_s(nzero_s, zero_s, 0), zero_s);
    CHECK_EQ(fmin_s(qnan_s, one_s, 0), one_s);
    CHECK_EQ(fl, 0);
    CHECK_EQ(fmin_s(snan_s, one_s, 0), one_s);
    CHECK_EQ(fl, 0x10);
    CHECK_EQ(fmax_s(snan_s, qnan_s, 0), qnan_s);
    CHECK_EQ(fadd_s_rne(snan_s, one_s, 0), qnan_s); /* canonical NaN */
    CHECK_EQ(fl, 0x10);
    CHECK_EQ(fadd_s_rne(0x3f800000ull, zero_s, 0), qnan_s); /* not boxed */
    CHECK_EQ(fadd_s_rup(one_s, B(1), 0), B(0x3f800001));
    CHECK_EQ(fl, 0x01);
    CHECK_EQ(fadd_s_rdn(one_s, B(1), 0), one_s);
    CHECK_EQ(fsub_d_rdn(0x3ff0000000000000ull, 0x3ff0000000000000ull, 0),
             0x8000000000000000ull); /* x - x = -0 when rounding down */
    CHECK_EQ(fmul_d_rne(0x7fefffffffffffffull, 0x4000000000000000ull, 0),
             0x7ff0000000000000ull);
    CHECK_EQ(fl, 0x05);
    CHECK_EQ(fmul_d_rtz(0x7fefffffffffffffull, 0x4000000000000000ull, 0),
             0x7fefffffffffffffull);
    CHECK_EQ(feq_s(qnan_s, qnan_s, 0), 0);
    CHECK_EQ(fl, 0);
    CHECK_EQ(flt_s(qnan_s, one_s, 0), 0);
    CHECK_EQ(fl, 0x10);
    CHECK_EQ(feq_d(0x8000000000000000ull, 0, 0), 1);
    CHECK_EQ(fclass_s(nzero_s, 0, 0), 0x008);
    CHECK_EQ(fclass_s(snan_s, 0, 0), 0x100);
    CHECK_EQ(fclass_s(qnan_s, 0, 0), 0x200);
    CHECK_EQ(fclass_d(0xfff0000000000000ull, 0, 0), 0x001);
    CHECK_EQ(fclass_d(1, 0, 0), 0x020);
    CHECK_EQ(fcvt_w_s_rtz(qnan_s, 0, 0), 0x7fffffff);
    CHECK_EQ(fl, 0x10);
    CHECK_EQ(fcvt_w_s_rtz(B(0xff800000), 0, 0), 0xffffffff80000000ull);
    CHECK_EQ(fcvt_wu_s_rtz(B(0x7f800000), 0, 0), -1ull); /* sign-extended */
    CHECK_EQ(fcvt_l_d_rtz(0x7ff8000000000000ull, 0, 0), 0x7fffffffffffffffull);
    CHECK_EQ(fcvt_lu_d_rtz(0xbff0000000000000ull, 0, 0), 0);
    CHECK_EQ(fl, 0x10);
    CHECK_EQ(fcvt_w_d_rne(0x4004000000000000ull, 0, 0), 2); /* 2.5 -> 2 */
    CHECK_EQ(fl, 0x01);
    CHECK_EQ(fcvt_w_d_rmm(0x4004000000000000ull, 0, 0), 3);
    CHECK_EQ(fcvt_w_d_rdn(0xbff8000000000000ull, 0, 0), -2ull);
    CHECK_EQ(fcvt_w_d_rup(0xbff8000000000000ull, 0, 0), -1ull);
    CHECK_EQ(fcvt_s_w_rne(0x100000001ull, 0, 0), one_s); /* low 32 bits */
    CHECK_EQ(fcvt_s_l_rtz(0x1000001ull, 0, 0), B(0x4b800000));
    CHECK_EQ(fl, 0x01);
    CHECK_EQ(fcvt_d_s(snan_s, 0, 0), 0x7ff8000000000000ull);
    CHECK_EQ(fl, 0x10);
    CHECK_EQ(fmv_x_w(B(0x80000000), 0, 0), 0xffffffff80000000ull);
    CHECK_EQ(fmv_w_x(0x123456780000abcdull, 0, 0), B(0xabcd));
    /* The dynamic mode follows frm. */
    set_frm(1);
    CHECK_EQ(fmul_d_dyn(0x7fefffffffffffffull, 0x4000000000000000ull, 0),
             0x7fefffffffffffffull);
    set_frm(0);
    u64 frm, fcsr;
    __asm__ volatile("fsrm %2\n frrm %0\n frcsr %1" : "=&r"(frm), "=&r"(fcsr) : "r"(3ull));
    printf("frm after fsrm 3: %llu, fcsr %02llx\n", (unsigned long long)frm,
           (unsigned long long)fcsr);
    CHECK_EQ(frm, 3);
    set_frm(0);
    if (check_exit("isa_fd"))
        return 1;
    printf("isa_fd: ok\n");
    return 0;
}
