/* Linux's scheduling-policy calls: every result and errno printed, so the
 * output is compared byte for byte with qemu-riscv64 (the host's Linux).
 * The program starts by putting itself in SCHED_OTHER (ferrite's default
 * policy is the lab's SCHED_WRR; Linux's is SCHED_OTHER). Runs as root. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

struct attr {
    uint32_t size, policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime, deadline, period;
    uint32_t util_min, util_max;
};

static void show(const char *what, long r)
{
    if (r < 0)
        printf("%s = -1 %s\n", what, errname(errno));
    else
        printf("%s = %ld\n", what, r);
}

static long setsched(pid_t pid, int policy, int prio)
{
    struct sched_param p = {.sched_priority = prio};
    return syscall(SYS_sched_setscheduler, pid, policy, &p);
}

static void state(const char *tag)
{
    struct sched_param p = {.sched_priority = -1};
    long pol = syscall(SYS_sched_getscheduler, 0);
    long r = syscall(SYS_sched_getparam, 0, &p);
    printf("%s: policy %#lx getparam %ld prio %d\n", tag, pol, r, p.sched_priority);
}

int main(void)
{
    static const int pols[] = {0, 1, 2, 3, 5, 6, 7, 42, -1};
    for (unsigned i = 0; i < sizeof pols / sizeof *pols; i++) {
        if (pols[i] == 7)
            continue; /* SCHED_WRR: ferrite only (wrr_calls.c) */
        char b[64];
        snprintf(b, sizeof b, "priority_max(%d)", pols[i]);
        show(b, syscall(SYS_sched_get_priority_max, pols[i]));
        snprintf(b, sizeof b, "priority_min(%d)", pols[i]);
        show(b, syscall(SYS_sched_get_priority_min, pols[i]));
    }
    show("setscheduler(OTHER, 0)", setsched(0, SCHED_OTHER, 0));
    state("other");
    show("setscheduler(OTHER, 5)", setsched(0, SCHED_OTHER, 5));
    show("setscheduler(FIFO, 0)", setsched(0, SCHED_FIFO, 0));
    show("setscheduler(FIFO, 100)", setsched(0, SCHED_FIFO, 100));
    show("setscheduler(42, 0)", setsched(0, 42, 0));
    show("setscheduler(-1, 0)", setsched(0, -1, 0));
    show("setscheduler(param NULL)", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, NULL));
    show("setscheduler(param bad)", syscall(SYS_sched_setscheduler, 0, SCHED_FIFO, (void *)8));
    show("setscheduler(pid -1)", setsched(-1, SCHED_OTHER, 0));
    show("setscheduler(pid 999999)", setsched(999999, SCHED_OTHER, 0));
    show("getscheduler(-5)", syscall(SYS_sched_getscheduler, -5));
    show("getscheduler(999999)", syscall(SYS_sched_getscheduler, 999999));
    show("getparam(NULL)", syscall(SYS_sched_getparam, 0, NULL));
    show("getparam(bad)", syscall(SYS_sched_getparam, 0, (void *)8));

    show("setscheduler(FIFO, 10)", setsched(0, SCHED_FIFO, 10));
    state("fifo");
    struct timespec ts = {-1, -1};
    show("rr_get_interval", syscall(SYS_sched_rr_get_interval, 0, &ts));
    printf("fifo interval %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
    show("setscheduler(RR, 20)", setsched(0, SCHED_RR, 20));
    show("rr_get_interval", syscall(SYS_sched_rr_get_interval, 0, &ts));
    printf("rr interval %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec);
    show("rr_get_interval(bad)", syscall(SYS_sched_rr_get_interval, 0, (void *)8));
    struct sched_param p = {.sched_priority = 30};
    show("setparam(30)", syscall(SYS_sched_setparam, 0, &p));
    state("rr");
    p.sched_priority = 0;
    show("setparam(0)", syscall(SYS_sched_setparam, 0, &p));
    show("sched_yield", syscall(SYS_sched_yield));

    /* SCHED_RESET_ON_FORK: the child is back in SCHED_OTHER. */
    show("setscheduler(FIFO|RESET, 5)", setsched(0, SCHED_FIFO | SCHED_RESET_ON_FORK, 5));
    state("fifo-reset");
    fflush(stdout);
    pid_t c = fork();
    if (c == 0)
        _exit((int)syscall(SYS_sched_getscheduler, 0));
    int st;
    waitpid(c, &st, 0);
    printf("child policy %d\n", WEXITSTATUS(st));

    /* sched_getattr / sched_setattr. */
    struct attr a;
    memset(&a, 0xff, sizeof a);
    show("getattr(48)", syscall(SYS_sched_getattr, 0, &a, 48, 0));
    printf("attr size %u policy %u flags %#llx nice %d prio %u\n", a.size, a.policy,
           (unsigned long long)a.flags, a.nice, a.priority);
    show("getattr(size 10)", syscall(SYS_sched_getattr, 0, &a, 10, 0));
    show("getattr(flags 1)", syscall(SYS_sched_getattr, 0, &a, 48, 1));
    show("getattr(NULL)", syscall(SYS_sched_getattr, 0, NULL, 48, 0));
    memset(&a, 0, sizeof a);
    a.size = 48;
    a.policy = SCHED_OTHER;
    a.nice = 5;
    show("setattr(OTHER nice 5)", syscall(SYS_sched_setattr, 0, &a, 0));
    errno = 0;
    show("getpriority", getpriority(PRIO_PROCESS, 0));
    show("getattr(48)", syscall(SYS_sched_getattr, 0, &a, 48, 0));
    printf("attr size %u policy %u flags %#llx nice %d prio %u\n", a.size, a.policy,
           (unsigned long long)a.flags, a.nice, a.priority);
    a.size = 48;
    a.nice = 0;
    a.flags = 0x1000;
    show("setattr(bad flags)", syscall(SYS_sched_setattr, 0, &a, 0));
    a.flags = 0;
    show("setattr(flags arg 1)", syscall(SYS_sched_setattr, 0, &a, 1));
    a.size = 20;
    show("setattr(size 20)", syscall(SYS_sched_setattr, 0, &a, 0));
    printf("size written back %u\n", a.size);
    a.size = 48;
    a.policy = SCHED_FIFO;
    a.priority = 7;
    show("setattr(FIFO 7)", syscall(SYS_sched_setattr, 0, &a, 0));
    state("fifo-attr");
    a.policy = SCHED_OTHER;
    a.priority = 0;
    show("setattr(OTHER)", syscall(SYS_sched_setattr, 0, &a, 0));
    state("other-again");

    /* Without privileges: RLIMIT_RTPRIO 0 refuses rt; another owner's task is EPERM. */
    pid_t parent = getpid();
    fflush(stdout);
    c = fork();
    if (c == 0) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_RTPRIO, &rl);
        if (setuid(1000) != 0)
            _exit(99);
        show("user setscheduler(FIFO, 1)", setsched(0, SCHED_FIFO, 1));
        show("user setscheduler(parent)", setsched(parent, SCHED_OTHER, 0));
        cpu_set_t cs;
        CPU_ZERO(&cs);
        CPU_SET(0, &cs);
        show("user setaffinity(parent)", sched_setaffinity(parent, sizeof cs, &cs));
        show("user setaffinity(self)", sched_setaffinity(0, sizeof cs, &cs));
        show("user setscheduler(BATCH)", setsched(0, SCHED_BATCH, 0));
        state("user-batch");
        show("user setscheduler(OTHER)", setsched(0, SCHED_OTHER, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(c, &st, 0);
    printf("exit %d\n", WEXITSTATUS(st));
    return check_exit("sched_calls");
}
