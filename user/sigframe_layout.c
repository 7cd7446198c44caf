/* The riscv64 signal ABI as the C library and the kernel headers lay it out:
 * sizes and offsets of siginfo_t, stack_t, ucontext_t/mcontext_t (glibc)
 * and the kernel's struct ucontext/sigcontext (<asm/ucontext.h>), and the
 * constants the signal code uses. ferrite's crates/kernel/src/signal/
 * hard-codes these numbers in its tests (frame.rs, siginfo.rs, mod.rs):
 * re-check them with
 *
 *     make -C user build/sigframe_layout && qemu-riscv64 user/build/sigframe_layout
 *
 * The second half raises a signal with known values in the registers and
 * prints where the kernel (here qemu-riscv64's linux-user emulation, which
 * builds riscv's rt_sigframe itself) put them in the frame. */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ucontext.h>
#include <asm/ptrace.h>
#include "check.h"

#define SZ(t) printf("sizeof %s %zu\n", #t, sizeof(t))
#define OFF(t, f) printf("offsetof %s.%s %zu\n", #t, #f, offsetof(t, f))
#define VAL(c) printf("const %s %ld\n", #c, (long)(c))

/* Linux >= 6.5 names the tail of the FP union `struct
 * __riscv_extra_ext_header` (the END context header lives there); the
 * cross headers may be older, so it is declared here as 6.5 declares it. */
struct extra_ext_header {
    uint32_t padding[129] __attribute__((aligned(16)));
    uint32_t reserved;
    struct {
        uint32_t magic;
        uint32_t size;
    } hdr;
};

/* The kernel's `struct sigcontext` and `struct ucontext`
 * (<asm/sigcontext.h>, <asm/ucontext.h>), declared here over <asm/ptrace.h>'s
 * register structs because glibc's <signal.h> has its own `struct
 * sigcontext` (the same bytes, other member names). */
struct k_sigcontext {
    struct user_regs_struct sc_regs;
    union __riscv_fp_state sc_fpregs;
};
struct k_ucontext {
    unsigned long uc_flags;
    struct k_ucontext *uc_link;
    stack_t uc_stack;
    unsigned long uc_sigmask; /* the kernel's sigset_t: 64 bits */
    uint8_t unused[1024 / 8 - 8];
    struct k_sigcontext uc_mcontext;
};

/* The kernel's `struct rt_sigframe` (arch/riscv/kernel/signal.c, MMU). */
struct rt_sigframe {
    siginfo_t info;
    struct k_ucontext uc;
};

static void layout(void)
{
    SZ(siginfo_t);
    OFF(siginfo_t, si_signo);
    OFF(siginfo_t, si_errno);
    OFF(siginfo_t, si_code);
    OFF(siginfo_t, si_pid);
    OFF(siginfo_t, si_uid);
    OFF(siginfo_t, si_value);
    OFF(siginfo_t, si_status);
    OFF(siginfo_t, si_utime);
    OFF(siginfo_t, si_stime);
    OFF(siginfo_t, si_timerid);
    OFF(siginfo_t, si_overrun);
    OFF(siginfo_t, si_addr);
    OFF(siginfo_t, si_addr_lsb);
    OFF(siginfo_t, si_band);
    OFF(siginfo_t, si_fd);
    OFF(siginfo_t, si_call_addr);
    OFF(siginfo_t, si_syscall);
    OFF(siginfo_t, si_arch);

    SZ(stack_t);
    OFF(stack_t, ss_sp);
    OFF(stack_t, ss_flags);
    OFF(stack_t, ss_size);

    SZ(ucontext_t);
    OFF(ucontext_t, __uc_flags);
    OFF(ucontext_t, uc_link);
    OFF(ucontext_t, uc_stack);
    OFF(ucontext_t, uc_sigmask);
    OFF(ucontext_t, uc_mcontext);
    SZ(mcontext_t);
    OFF(mcontext_t, __gregs);
    OFF(mcontext_t, __fpregs);
    OFF(mcontext_t, __fpregs.__d.__f);
    OFF(mcontext_t, __fpregs.__d.__fcsr);

    SZ(struct k_ucontext);
    OFF(struct k_ucontext, uc_flags);
    OFF(struct k_ucontext, uc_link);
    OFF(struct k_ucontext, uc_stack);
    OFF(struct k_ucontext, uc_sigmask);
    OFF(struct k_ucontext, uc_mcontext);
    SZ(struct k_sigcontext);
    OFF(struct k_sigcontext, sc_regs);
    OFF(struct k_sigcontext, sc_regs.pc);
    OFF(struct k_sigcontext, sc_regs.ra);
    OFF(struct k_sigcontext, sc_regs.sp);
    OFF(struct k_sigcontext, sc_regs.a0);
    OFF(struct k_sigcontext, sc_regs.a7);
    OFF(struct k_sigcontext, sc_regs.t6);
    OFF(struct k_sigcontext, sc_fpregs);
    SZ(union __riscv_fp_state);
    OFF(union __riscv_fp_state, d.f);
    OFF(union __riscv_fp_state, d.fcsr);
    OFF(union __riscv_fp_state, q.reserved);
    SZ(struct extra_ext_header);
    OFF(struct extra_ext_header, reserved);
    OFF(struct extra_ext_header, hdr);
    SZ(struct rt_sigframe);
    OFF(struct rt_sigframe, uc);
    printf("alignof struct rt_sigframe %zu\n", _Alignof(struct rt_sigframe));

    VAL(MINSIGSTKSZ);
    VAL(SIGSTKSZ);
    VAL(SS_ONSTACK);
    VAL(SS_DISABLE);
    VAL(SA_NOCLDSTOP);
    VAL(SA_NOCLDWAIT);
    VAL(SA_SIGINFO);
    VAL(SA_ONSTACK);
    VAL(SA_RESTART);
    VAL(SA_NODEFER);
    VAL(SA_RESETHAND);
    VAL(SI_USER);
    VAL(SI_KERNEL);
    VAL(SI_QUEUE);
    VAL(SI_TIMER);
    VAL(SI_MESGQ);
    VAL(SI_ASYNCIO);
    VAL(SI_SIGIO);
    VAL(SI_TKILL);
    VAL(SI_ASYNCNL);
    VAL(SEGV_MAPERR);
    VAL(SEGV_ACCERR);
    VAL(BUS_ADRALN);
    VAL(BUS_ADRERR);
    VAL(BUS_OBJERR);
    VAL(ILL_ILLOPC);
    VAL(ILL_ILLTRP);
    VAL(FPE_INTDIV);
    VAL(TRAP_BRKPT);
    VAL(TRAP_TRACE);
    VAL(CLD_EXITED);
    VAL(CLD_KILLED);
    VAL(CLD_DUMPED);
    VAL(CLD_TRAPPED);
    VAL(CLD_STOPPED);
    VAL(CLD_CONTINUED);
    VAL(POLL_IN);
    VAL(SIGHUP);
    VAL(SIGBUS);
    VAL(SIGUSR1);
    VAL(SIGCHLD);
    VAL(SIGCONT);
    VAL(SIGSTOP);
    VAL(SIGTSTP);
    VAL(SIGURG);
    VAL(SIGIO);
    VAL(SIGPWR);
    VAL(SIGSYS);
    VAL(__SIGRTMIN);
    VAL(SIGRTMIN);
    VAL(SIGRTMAX);
}

/* What the handler saw, copied out of its frame. */
static volatile uintptr_t seen_sp_in_handler, seen_info, seen_uc, seen_ra;
static volatile long seen_sig;
static ucontext_t seen_ctx;
static siginfo_t seen_si;

static void handler(int sig, siginfo_t *si, void *ucv)
{
    uintptr_t sp, ra;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    __asm__ volatile("mv %0, ra" : "=r"(ra));
    seen_sig = sig;
    seen_info = (uintptr_t)si;
    seen_uc = (uintptr_t)ucv;
    seen_sp_in_handler = sp;
    seen_ra = ra;
    memcpy(&seen_ctx, ucv, sizeof(seen_ctx));
    memcpy(&seen_si, si, sizeof(seen_si));
}

/* Raise SIGUSR1 by tgkill with s2..s5 and fs0 holding marker values, so the
 * frame's copy of them can be found. */
static long raise_marked(void)
{
    register long a0 __asm__("a0") = getpid();
    register long a1 __asm__("a1") = getpid();
    register long a2 __asm__("a2") = SIGUSR1;
    register long a7 __asm__("a7") = 131; /* tgkill */
    register long s2 __asm__("s2") = 0x2222222222222222;
    register long s3 __asm__("s3") = 0x3333333333333333;
    register long s4 __asm__("s4") = 0x4444444444444444;
    register long s5 __asm__("s5") = 0x5555555555555555;
    register double fs0 __asm__("fs0") = 1.5;
    __asm__ volatile("ecall"
                     : "+r"(a0), "+r"(s2), "+r"(s3), "+r"(s4), "+r"(s5),
                       "+f"(fs0)
                     : "r"(a1), "r"(a2), "r"(a7)
                     : "memory");
    return a0;
}

static void delivery(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

    sigset_t blk;
    sigemptyset(&blk);
    sigaddset(&blk, SIGHUP);
    CHECK(sigprocmask(SIG_SETMASK, &blk, NULL) == 0);

    long r = raise_marked();
    CHECK_EQ(r, 0);
    CHECK_EQ(seen_sig, SIGUSR1);

    const unsigned long *g = seen_ctx.uc_mcontext.__gregs;
    /* a1/a2 are &info and &uc: the uc follows the 128-byte siginfo. */
    printf("uc - info %ld\n", (long)(seen_uc - seen_info));
    /* The handler's own frame sits below the rt_sigframe; the interrupted
     * sp is above it. */
    printf("info below interrupted sp %d\n", seen_info < g[2]);
    printf("info 16-aligned %d\n", (int)(seen_info % 16 == 0));
    printf("ra is not the interrupted pc %d\n", seen_ra != g[0]);
    printf("si_signo %d si_code %d si_pid==getpid %d\n", seen_si.si_signo,
           seen_si.si_code, seen_si.si_pid == getpid());
    printf("gregs[18..21] (s2..s5) %lx %lx %lx %lx\n", g[18], g[19], g[20],
           g[21]);
    printf("gregs[10] (a0 = the tgkill's result) %ld\n", (long)g[10]);
    printf("gregs[17] (a7) %ld\n", (long)g[17]);
    /* The saved pc is the instruction after the ecall. */
    double fs0;
    memcpy(&fs0, &seen_ctx.uc_mcontext.__fpregs.__d.__f[8], 8);
    printf("f[8] (fs0) %g\n", fs0);
    /* uc_sigmask holds the mask before delivery: SIGHUP only. */
    printf("uc_sigmask word 0 %#lx\n",
           ((unsigned long *)&seen_ctx.uc_sigmask)[0]);
    printf("uc_stack flags %d (SS_DISABLE=%d) size %zu\n",
           seen_ctx.uc_stack.ss_flags, SS_DISABLE, seen_ctx.uc_stack.ss_size);
    printf("uc_flags %lu uc_link %p\n", seen_ctx.__uc_flags,
           (void *)seen_ctx.uc_link);
}

/* sigaltstack(2)'s checks and what a handler on the alternate stack sees
 * (`do_sigaltstack`, `__save_altstack`). */
static char altstack[16384] __attribute__((aligned(16)));
static volatile int alt_eperm, alt_flags_in_handler, alt_uc_flags;
static volatile uintptr_t alt_info;

static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)}, old;
    /* Changing the stack while running on it: EPERM. */
    alt_eperm = sigaltstack(&ss, NULL) == -1 ? errno : 0;
    CHECK(sigaltstack(NULL, &old) == 0);
    alt_flags_in_handler = old.ss_flags;
    alt_uc_flags = ((ucontext_t *)ucv)->uc_stack.ss_flags;
    alt_info = (uintptr_t)si;
}

static void sigaltstack_checks(void)
{
    stack_t ss, old;
    memset(&ss, 0, sizeof(ss));
    ss.ss_sp = altstack;
    ss.ss_size = 2047;
    printf("sigaltstack size 2047: %s\n",
           sigaltstack(&ss, NULL) == -1 && errno == ENOMEM ? "ENOMEM" : "ok");
    ss.ss_size = 2048;
    printf("sigaltstack size 2048: %s\n",
           sigaltstack(&ss, NULL) == 0 ? "ok" : "error");
    ss.ss_flags = 4;
    printf("sigaltstack flags 4: %s\n",
           sigaltstack(&ss, NULL) == -1 && errno == EINVAL ? "EINVAL" : "ok");
    ss.ss_flags = SS_ONSTACK;
    printf("sigaltstack flags SS_ONSTACK: %s\n",
           sigaltstack(&ss, NULL) == 0 ? "ok" : "error");
    CHECK(sigaltstack(NULL, &old) == 0);
    printf("old flags %d size %zu\n", old.ss_flags, old.ss_size);
    ss.ss_flags = SS_DISABLE;
    ss.ss_size = 1; /* ignored with SS_DISABLE */
    printf("sigaltstack SS_DISABLE size 1: %s\n",
           sigaltstack(&ss, NULL) == 0 ? "ok" : "error");
    CHECK(sigaltstack(NULL, &old) == 0);
    printf("old flags %d size %zu sp %p\n", old.ss_flags, old.ss_size,
           old.ss_sp);

    ss.ss_flags = 0;
    ss.ss_size = sizeof(altstack);
    CHECK(sigaltstack(&ss, NULL) == 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = alt_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
    raise(SIGUSR2);
    printf("on altstack: EPERM %d flags %d uc_stack flags %d\n",
           alt_eperm == EPERM, alt_flags_in_handler, alt_uc_flags);
    printf("frame top below altstack end by %ld\n",
           (long)((uintptr_t)altstack + sizeof(altstack) - alt_info));

    /* qemu-riscv64 before 8.0 refuses SS_AUTODISARM (EINVAL); Linux takes
     * it since 4.7. */
    ss.ss_flags = (int)(1U << 31); /* SS_AUTODISARM */
    if (sigaltstack(&ss, NULL) != 0) {
        printf("autodisarm: refused, errno %s\n",
               errno == EINVAL ? "EINVAL" : "other");
        return;
    }
    CHECK(sigaltstack(NULL, &old) == 0);
    printf("autodisarm: old flags %#x\n", (unsigned)old.ss_flags);
    raise(SIGUSR2);
    printf("autodisarm in handler: EPERM %d flags %d uc_stack flags %#x\n",
           alt_eperm == EPERM, alt_flags_in_handler, (unsigned)alt_uc_flags);
    CHECK(sigaltstack(NULL, &old) == 0);
    printf("autodisarm after: flags %#x size %zu\n", (unsigned)old.ss_flags,
           old.ss_size);
}

int main(void)
{
    layout();
    delivery();
    sigaltstack_checks();
    return check_exit("sigframe_layout");
}
