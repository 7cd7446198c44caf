/* Credentials and process attributes, compared with qemu-riscv64 (run as
 * root): the set*id family with Linux's permission rules (in a child that
 * gives up root), supplementary groups, capget/capset, prctl (name,
 * parent-death signal, subreaper, dumpable, no_new_privs),
 * getpriority/setpriority, getrusage and times of a child,
 * rt_sigtimedwait (timeout, pending signal, a signal from another
 * process, interruption), sigqueue with a value and its permission rule,
 * POSIX timers (SIGEV_SIGNAL with si_value, SIGEV_NONE, overruns) and
 * System V shared memory shared across fork. Only deterministic facts are
 * printed. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

#define E(r) ((r) < 0 ? errname(errno) : "OK")

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void wait_child(pid_t c, const char *what)
{
    int st;
    if (waitpid(c, &st, 0) != c) {
        printf("%s: waitpid failed\n", what);
        return;
    }
    if (WIFEXITED(st))
        printf("%s: exit %d\n", what, WEXITSTATUS(st));
    else
        printf("%s: signal %d\n", what, WTERMSIG(st));
}

static int capget_self(struct __user_cap_data_struct d[2], unsigned version)
{
    struct __user_cap_header_struct h = {version, 0};
    return syscall(SYS_capget, &h, d);
}

static void ids(void)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("resuid %u %u %u resgid %u %u %u\n", r, e, s, gr, ge, gs);
    errno = 0;
    printf("getresuid(bad pointer): %s\n",
           E(syscall(SYS_getresuid, (void *)8, &e, &s)));
    printf("setuid(-1): %s\n", E(syscall(SYS_setuid, -1)));

    pid_t c = fork();
    if (c == 0) {
        gid_t g[3] = {30, 10, 20}, out[8];
        printf("setgroups: %s\n", E(setgroups(3, g)));
        int n = getgroups(8, out);
        printf("getgroups: %d [%u %u %u]\n", n, out[0], out[1], out[2]);
        printf("getgroups(0): %d\n", getgroups(0, NULL));
        printf("getgroups(1): %s\n", E(getgroups(1, out)));
        printf("setgroups(65537): %s\n", E(syscall(SYS_setgroups, 65537, g)));
        gid_t bad[1] = {(gid_t)-1};
        printf("setgroups(-1 gid): %s\n", E(setgroups(1, bad)));
        printf("dumpable before: %d\n", prctl(PR_GET_DUMPABLE));
        prctl(PR_SET_PDEATHSIG, SIGUSR2);
        printf("setresgid(100,101,102): %s\n", E(setresgid(100, 101, 102)));
        printf("setresuid(1000,1001,1002): %s\n", E(setresuid(1000, 1001, 1002)));
        getresuid(&r, &e, &s);
        getresgid(&gr, &ge, &gs);
        printf("resuid %u %u %u resgid %u %u %u\n", r, e, s, gr, ge, gs);
        int sig = -1;
        prctl(PR_GET_PDEATHSIG, &sig);
        printf("dumpable after: %d pdeathsig after: %d\n", prctl(PR_GET_DUMPABLE), sig);
        struct __user_cap_data_struct d[2];
        capget_self(d, _LINUX_CAPABILITY_VERSION_3);
        printf("caps now: eff %x prm %x\n", d[0].effective, d[0].permitted);
        printf("setuid(0): %s\n", E(setuid(0)));
        printf("setuid(1002): %s\n", E(setuid(1002)));
        getresuid(&r, &e, &s);
        printf("resuid %u %u %u\n", r, e, s);
        printf("setreuid(1001,-1): %s\n", E(setreuid(1001, -1)));
        printf("setreuid(1002,1000): %s\n", E(setreuid(1002, 1000)));
        getresuid(&r, &e, &s);
        printf("resuid %u %u %u\n", r, e, s);
        printf("setresuid(-1,-1,7): %s\n", E(setresuid(-1, -1, 7)));
        int f1 = setfsuid(5), f2 = setfsuid(-1);
        printf("setfsuid(5) -> %d, then %d\n", f1, f2);
        f1 = setfsuid(1002);
        f2 = setfsuid(-1);
        printf("setfsuid(1002) -> %d, then %d\n", f1, f2);
        printf("setgid(0): %s\n", E(setgid(0)));
        printf("setgid(102): %s\n", E(setgid(102)));
        getresgid(&gr, &ge, &gs);
        printf("resgid %u %u %u\n", gr, ge, gs);
        printf("setregid(-1,100): %s\n", E(setregid(-1, 100)));
        printf("setgroups as user: %s\n", E(setgroups(0, NULL)));
        printf("kill(parent, 0): %s\n", E(kill(getppid(), 0)));
        printf("setpriority(+5): %s\n", E(setpriority(PRIO_PROCESS, 0, 5)));
        errno = 0;
        int p = getpriority(PRIO_PROCESS, 0);
        printf("getpriority: %d %s\n", p, errname(errno));
        printf("setpriority(+4): %s\n", E(setpriority(PRIO_PROCESS, 0, 4)));
        printf("setpriority(parent): %s\n", E(setpriority(PRIO_PROCESS, getppid(), 10)));
        exit(check_exit("creds child"));
    }
    wait_child(c, "unprivileged child");

    /* capget/capset as root. */
    struct __user_cap_data_struct d[2];
    printf("capget v3: %s\n", E(capget_self(d, _LINUX_CAPABILITY_VERSION_3)));
    printf("CAP_SETUID effective %d permitted %d, inheritable %x\n",
           !!(d[0].effective & (1 << CAP_SETUID)), !!(d[0].permitted & (1 << CAP_SETUID)),
           d[0].inheritable);
    struct __user_cap_header_struct h = {0x12345678, 0};
    printf("capget bad version: %s version %#x\n", E(syscall(SYS_capget, &h, d)), h.version);
    h.version = 0x12345678;
    printf("capget bad version, no data: %ld version %#x\n", syscall(SYS_capget, &h, NULL),
           h.version);
    h.version = _LINUX_CAPABILITY_VERSION_3;
    h.pid = 999999;
    printf("capget no such pid: %s\n", E(syscall(SYS_capget, &h, d)));
    h.pid = -1;
    printf("capget pid -1: %s\n", E(syscall(SYS_capget, &h, d)));
    c = fork();
    if (c == 0) {
        struct __user_cap_header_struct hh = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct dd[2];
        syscall(SYS_capget, &hh, dd);
        dd[0].effective &= ~(1u << CAP_SETUID);
        printf("capset drop CAP_SETUID: %s\n", E(syscall(SYS_capset, &hh, dd)));
        printf("setuid(1000) without it: %s\n", E(setuid(1000)));
        dd[0].permitted &= ~(1u << CAP_SETUID);
        printf("capset drop from permitted: %s\n", E(syscall(SYS_capset, &hh, dd)));
        dd[0].effective |= 1u << CAP_SETUID;
        printf("capset raise again: %s\n", E(syscall(SYS_capset, &hh, dd)));
        hh.pid = getppid();
        printf("capset on parent: %s\n", E(syscall(SYS_capset, &hh, dd)));
        exit(0);
    }
    wait_child(c, "capset child");
}

static void prctls(void)
{
    char name[32] = {0};
    printf("PR_SET_NAME: %s\n", E(prctl(PR_SET_NAME, "credtest-long-name-xyz")));
    prctl(PR_GET_NAME, name);
    printf("PR_GET_NAME: '%s' (%zu)\n", name, strlen(name));
    int v = -1;
    printf("PR_SET_PDEATHSIG 65: %s\n", E(prctl(PR_SET_PDEATHSIG, 65)));
    prctl(PR_SET_PDEATHSIG, SIGUSR1);
    prctl(PR_GET_PDEATHSIG, &v);
    printf("PR_GET_PDEATHSIG: %d\n", v);
    prctl(PR_SET_PDEATHSIG, 0);
    printf("PR_SET_DUMPABLE 2: %s\n", E(prctl(PR_SET_DUMPABLE, 2)));
    printf("PR_GET_DUMPABLE: %d\n", prctl(PR_GET_DUMPABLE));
    printf("PR_GET_NO_NEW_PRIVS: %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    printf("PR_GET_NO_NEW_PRIVS(1): %s\n", E(prctl(PR_GET_NO_NEW_PRIVS, 1, 0, 0, 0)));
    printf("PR_SET_NO_NEW_PRIVS(2): %s\n", E(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0)));
    printf("PR_CAPBSET_READ(CAP_SETUID): %d\n", prctl(PR_CAPBSET_READ, CAP_SETUID));
    printf("PR_CAPBSET_READ(99): %s\n", E(prctl(PR_CAPBSET_READ, 99)));
    printf("PR_GET_KEEPCAPS: %d\n", prctl(PR_GET_KEEPCAPS));
    printf("prctl(9999): %s\n", E(prctl(9999, 0, 0, 0, 0)));
    unsigned long slack = prctl(PR_GET_TIMERSLACK);
    prctl(PR_SET_TIMERSLACK, 123456);
    printf("PR_SET_TIMERSLACK: %d\n", prctl(PR_GET_TIMERSLACK) == 123456);
    prctl(PR_SET_TIMERSLACK, 0);
    printf("PR_SET_TIMERSLACK 0 restores the default: %d\n",
           (unsigned long)prctl(PR_GET_TIMERSLACK) == slack);

    /* A new name is inherited by a child. */
    pid_t c = fork();
    if (c == 0) {
        char n2[32] = {0};
        prctl(PR_GET_NAME, n2);
        _exit(strcmp(n2, "credtest-long-n") == 0 ? 0 : 1);
    }
    wait_child(c, "name inherited");
}

/* A subreaper adopts its orphaned grandchild; exec after setuid. Not
 * compared with qemu, whose prctl refuses PR_SET_CHILD_SUBREAPER and
 * which cannot exec: `creds subreaper` prints them for ferrite's own
 * test. */
static void subreaper(void)
{
    int v = -1;
    printf("PR_SET_CHILD_SUBREAPER: %s\n", E(prctl(PR_SET_CHILD_SUBREAPER, 1)));
    prctl(PR_GET_CHILD_SUBREAPER, &v);
    printf("PR_GET_CHILD_SUBREAPER: %d\n", v);
    pid_t me = getpid();
    pid_t c = fork();
    if (c == 0) {
        pid_t mid = getpid();
        pid_t g = fork();
        if (g == 0) {
            while (getppid() == mid)
                usleep(1000);
            _exit(getppid() == me ? 7 : 8);
        }
        _exit(0);
    }
    wait_child(c, "middle child");
    int st;
    pid_t w = wait(&st);
    printf("subreaper reaped the grandchild: %d, it saw the subreaper as parent: %d\n",
           w > 0, WIFEXITED(st) && WEXITSTATUS(st) == 7);
    prctl(PR_SET_CHILD_SUBREAPER, 0);

    /* exec makes a process dumpable again (qemu-riscv64 cannot exec a
     * riscv64 program without binfmt_misc, hence here). */
    c = fork();
    if (c == 0) {
        if (setuid(1000) != 0)
            _exit(3);
        printf("after setuid: dumpable %d\n", prctl(PR_GET_DUMPABLE));
        char *argv[] = {"creds", "dumpable", NULL};
        execv("/proc/self/exe", argv);
        _exit(4);
    }
    wait_child(c, "exec after setuid");
}

static void priorities(void)
{
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        printf("setpriority(-5): %s\n", E(setpriority(PRIO_PROCESS, 0, -5)));
        errno = 0;
        printf("getpriority: %d\n", getpriority(PRIO_PROCESS, 0));
        printf("raw getpriority: %ld\n", syscall(SYS_getpriority, PRIO_PROCESS, 0));
        printf("setpriority(100): %s\n", E(setpriority(PRIO_PROCESS, 0, 100)));
        printf("getpriority: %d\n", getpriority(PRIO_PROCESS, 0));
        printf("setpriority(-100): %s\n", E(setpriority(PRIO_PROCESS, 0, -100)));
        printf("raw getpriority: %ld\n", syscall(SYS_getpriority, PRIO_PROCESS, 0));
        printf("setpriority(which 5): %s\n", E(setpriority(5, 0, 0)));
        printf("getpriority(which -1): %s\n", E(syscall(SYS_getpriority, -1, 0)));
        printf("getpriority(no such pid): %s\n", E(syscall(SYS_getpriority, PRIO_PROCESS, 999999)));
        setpriority(PRIO_PROCESS, 0, 3);
        pid_t g = fork();
        if (g == 0)
            _exit(getpriority(PRIO_PROCESS, 0));
        int st;
        waitpid(g, &st, 0);
        printf("nice inherited by a child: %d\n", WEXITSTATUS(st));
        printf("setpriority(PRIO_PGRP, 0, 4): %s\n", E(setpriority(PRIO_PGRP, 0, 4)));
        printf("getpriority(PRIO_PGRP): %d\n", getpriority(PRIO_PGRP, 0));
        exit(0);
    }
    wait_child(c, "priority child");
}

static void usage(void)
{
    struct tms t0, t1;
    clock_t r0 = times(&t0);
    pid_t c = fork();
    if (c == 0) {
        struct rusage ru;
        do
            getrusage(RUSAGE_SELF, &ru);
        while (ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec < 250000);
        exit(0);
    }
    struct rusage w;
    int st;
    wait4(c, &st, 0, &w);
    long wus = w.ru_utime.tv_sec * 1000000 + w.ru_utime.tv_usec;
    printf("wait4 rusage of the child: utime >= 250ms: %d\n", wus >= 250000);
    struct rusage ch, self, th;
    getrusage(RUSAGE_CHILDREN, &ch);
    long cus = ch.ru_utime.tv_sec * 1000000 + ch.ru_utime.tv_usec;
    printf("RUSAGE_CHILDREN utime >= 250ms: %d, maxrss > 0: %d\n", cus >= 250000,
           ch.ru_maxrss > 0);
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_THREAD, &th);
    printf("RUSAGE_SELF maxrss > 0: %d, RUSAGE_THREAD maxrss > 0: %d\n", self.ru_maxrss > 0,
           th.ru_maxrss > 0);
    printf("getrusage(5): %s\n", E(getrusage(5, &self)));
    printf("getrusage(bad pointer): %s\n", E(syscall(SYS_getrusage, RUSAGE_SELF, (void *)8)));
    clock_t r1 = times(&t1);
    printf("times: cutime >= 25 ticks: %d, clock advanced: %d\n", t1.tms_cutime >= 25,
           r1 >= r0);
    printf("times(NULL) succeeds: %d\n", times(NULL) != (clock_t)-1);
    printf("times(bad pointer): %s\n", E(syscall(SYS_times, (void *)8)));
}

static volatile int alarms, vtalrms, profs;
static void on_alrm(int s) { alarms++; }
static void on_vt(int s) { vtalrms++; }
static void on_prof(int s) { profs++; }

/* ITIMER_VIRTUAL and ITIMER_PROF count CPU time, not sleep. */
static void cpu_itimers(void)
{
    signal(SIGVTALRM, on_vt);
    signal(SIGPROF, on_prof);
    struct itimerval v = {{0, 0}, {0, 100000}}, g;
    printf("setitimer VIRTUAL: %s\n", E(setitimer(ITIMER_VIRTUAL, &v, NULL)));
    getitimer(ITIMER_VIRTUAL, &g);
    /* Linux adds a tick (HZ dependent) to the value. */
    printf("getitimer VIRTUAL: armed %d within 120ms %d\n",
           g.it_value.tv_usec > 0 || g.it_value.tv_sec > 0,
           g.it_value.tv_sec == 0 && g.it_value.tv_usec <= 120000);
    usleep(150 * 1000);
    printf("after sleeping 150ms: %d SIGVTALRM\n", vtalrms);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    while (!vtalrms)
        ;
    getrusage(RUSAGE_SELF, &r1);
    long used = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000 +
                (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec);
    printf("SIGVTALRM after spinning: %d, took some CPU: %d\n", vtalrms, used > 0);
    getitimer(ITIMER_VIRTUAL, &g);
    printf("one shot disarmed: %ld %ld\n", (long)g.it_value.tv_sec, (long)g.it_value.tv_usec);
    struct itimerval p = {{0, 20000}, {0, 20000}};
    setitimer(ITIMER_PROF, &p, NULL);
    while (profs < 3)
        ;
    struct itimerval off = {{0, 0}, {0, 0}}, old;
    setitimer(ITIMER_PROF, &off, &old);
    printf("SIGPROF periodic: >= 3 %d, old interval %ld us\n", profs >= 3,
           (long)old.it_interval.tv_usec);
    printf("setitimer which 3: %s\n", E(setitimer(3, &v, NULL)));
    signal(SIGVTALRM, SIG_DFL);
    signal(SIGPROF, SIG_DFL);
}
static volatile int tsig, tcode, tval, tover;
static void on_timer(int s, siginfo_t *si, void *uc)
{
    tsig = s;
    tcode = si->si_code;
    tval = si->si_value.sival_int;
    tover = si->si_overrun;
}

static void sigwaits(void)
{
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &set, &old);

    struct timespec ts = {0, 50 * 1000 * 1000};
    long t0 = now_ms();
    siginfo_t si;
    int r = sigtimedwait(&set, &si, &ts);
    printf("sigtimedwait timeout: %d %s, waited >= 50ms: %d\n", r, errname(errno),
           now_ms() - t0 >= 50);
    struct timespec zero = {0, 0};
    printf("sigtimedwait zero timeout: %s\n", E(sigtimedwait(&set, &si, &zero)));
    struct timespec bad = {0, 2000000000};
    printf("sigtimedwait bad timespec: %s\n", E(sigtimedwait(&set, &si, &bad)));
    printf("rt_sigtimedwait bad size: %s\n",
           E(syscall(SYS_rt_sigtimedwait, &set, &si, &ts, 4)));

    raise(SIGUSR1);
    memset(&si, 0, sizeof si);
    r = sigtimedwait(&set, &si, &ts);
    printf("pending: sig %d pid ok %d\n", r, si.si_pid == getpid());
    raise(SIGUSR2);
    raise(SIGUSR1);
    r = sigwaitinfo(&set, &si);
    printf("lowest first: %d\n", r);
    r = sigwaitinfo(&set, &si);
    printf("then: %d\n", r);

    /* sigqueue with a value, to ourselves. */
    union sigval v = {.sival_int = 42};
    printf("sigqueue: %s\n", E(sigqueue(getpid(), SIGRTMIN + 1, v)));
    memset(&si, 0, sizeof si);
    r = sigwaitinfo(&set, &si);
    printf("queued: sig %d code %d value %d pid ok %d uid ok %d\n", r - SIGRTMIN, si.si_code,
           si.si_value.sival_int, si.si_pid == getpid(), si.si_uid == getuid());

    /* Another process sends while we wait. */
    pid_t me = getpid();
    pid_t c = fork();
    if (c == 0) {
        usleep(100 * 1000);
        union sigval cv = {.sival_int = 4242};
        sigqueue(me, SIGUSR2, cv);
        _exit(0);
    }
    struct timespec two = {5, 0};
    memset(&si, 0, sizeof si);
    r = sigtimedwait(&set, &si, &two);
    printf("from a child: sig %d code %d value %d pid ok %d\n", r, si.si_code,
           si.si_value.sival_int, si.si_pid == c);
    wait_child(c, "sigqueue child");

    /* A handled signal outside the set interrupts the wait. */
    signal(SIGALRM, on_alrm);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    r = sigtimedwait(&set, &si, &two);
    printf("interrupted: %d %s alarms %d\n", r, errname(errno), alarms);

    /* The permission rule of rt_sigqueueinfo. */
    siginfo_t q;
    memset(&q, 0, sizeof q);
    q.si_signo = SIGUSR1;
    q.si_code = SI_USER;
    printf("rt_sigqueueinfo SI_USER to parent: %s\n",
           E(syscall(SYS_rt_sigqueueinfo, getppid(), SIGUSR1, &q)));
    printf("rt_sigqueueinfo SI_USER to self: %s\n",
           E(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, &q)));
    sigwaitinfo(&set, &si);
    printf("  got code %d\n", si.si_code);
    q.si_code = SI_QUEUE;
    q.si_value.sival_int = 9;
    printf("rt_tgsigqueueinfo: %s\n",
           E(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGUSR2, &q)));
    sigwaitinfo(&set, &si);
    printf("  got sig %d value %d\n", si.si_signo, si.si_value.sival_int);
    printf("rt_tgsigqueueinfo tid 0: %s\n",
           E(syscall(SYS_rt_tgsigqueueinfo, getpid(), 0, SIGUSR2, &q)));
    printf("rt_sigqueueinfo no such pid: %s\n",
           E(syscall(SYS_rt_sigqueueinfo, 999999, SIGUSR1, &q)));
    printf("rt_sigqueueinfo bad signal: %s\n",
           E(syscall(SYS_rt_sigqueueinfo, getpid(), 99, &q)));
    printf("rt_sigqueueinfo bad pointer: %s\n",
           E(syscall(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, (void *)8)));
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void timers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGALRM, &sa, NULL);

    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGALRM;
    ev.sigev_value.sival_int = 77;
    timer_t t;
    printf("timer_create: %s\n", E(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    struct itimerspec its = {{0, 0}, {0, 50 * 1000 * 1000}}, cur;
    sigset_t m, old;
    sigemptyset(&m);
    sigaddset(&m, SIGALRM);
    sigprocmask(SIG_BLOCK, &m, &old);
    long t0 = now_ms();
    printf("timer_settime: %s\n", E(timer_settime(t, 0, &its, NULL)));
    timer_gettime(t, &cur);
    printf("armed: value in (0, 50ms]: %d\n",
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 &&
               cur.it_value.tv_nsec <= 50 * 1000 * 1000);
    sigset_t none = old;
    sigdelset(&none, SIGALRM);
    while (!tsig)
        sigsuspend(&none);
    printf("fired: sig %d code %d (SI_TIMER %d) value %d overrun %d after >= 50ms: %d\n", tsig,
           tcode, SI_TIMER, tval, tover, now_ms() - t0 >= 50);
    timer_gettime(t, &cur);
    printf("after one shot: %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
    printf("timer_getoverrun: %d\n", timer_getoverrun(t));
    printf("timer_delete: %s\n", E(timer_delete(t)));
    printf("timer_gettime deleted: %s\n", E(timer_gettime(t, &cur)));
    printf("timer_delete again: %s\n", E(timer_delete(t)));

    /* Periodic, with the signal blocked: expiries become overruns. */
    tsig = 0;
    ev.sigev_value.sival_int = 78;
    timer_create(CLOCK_REALTIME, &ev, &t);
    struct itimerspec per = {{0, 10 * 1000 * 1000}, {0, 10 * 1000 * 1000}};
    timer_settime(t, 0, &per, NULL);
    usleep(120 * 1000);
    siginfo_t si;
    int r = sigwaitinfo(&m, &si);
    int ov = timer_getoverrun(t);
    printf("periodic: sig %d value %d overrun >= 3: %d getoverrun = si_overrun: %d\n", r,
           si.si_value.sival_int, si.si_overrun >= 3, ov == si.si_overrun);
    timer_gettime(t, &cur);
    printf("periodic interval %ld ns, value <= interval: %d\n", cur.it_interval.tv_nsec,
           cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 10 * 1000 * 1000);
    struct itimerspec off = {{0, 0}, {0, 0}}, prev;
    printf("disarm: %s, old interval %ld\n", E(timer_settime(t, 0, &off, &prev)),
           prev.it_interval.tv_nsec);
    timer_gettime(t, &cur);
    printf("disarmed: %ld %ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
    timer_delete(t);

    /* SIGEV_NONE: counts down, never signals. */
    ev.sigev_notify = SIGEV_NONE;
    timer_create(CLOCK_MONOTONIC, &ev, &t);
    struct itimerspec sec = {{1, 0}, {1, 0}};
    timer_settime(t, 0, &sec, NULL);
    timer_gettime(t, &cur);
    printf("SIGEV_NONE: interval %ld s, value in (0, 1s]: %d\n", (long)cur.it_interval.tv_sec,
           (cur.it_value.tv_sec == 1 && cur.it_value.tv_nsec == 0) ||
               (cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0));
    struct timespec abs;
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 3;
    struct itimerspec a = {{0, 0}, abs};
    timer_settime(t, TIMER_ABSTIME, &a, NULL);
    timer_gettime(t, &cur);
    printf("TIMER_ABSTIME +3s: value in (2s, 3s]: %d\n",
           cur.it_value.tv_sec == 2 || (cur.it_value.tv_sec == 3 && cur.it_value.tv_nsec == 0));
    timer_delete(t);

    /* CPU-time clocks: sleeping does not count. */
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_value.sival_int = 79;
    for (int clk = CLOCK_PROCESS_CPUTIME_ID; clk <= CLOCK_THREAD_CPUTIME_ID; clk++) {
        printf("timer_create cpu clock %d: %s\n", clk, E(timer_create(clk, &ev, &t)));
        struct itimerspec c50 = {{0, 0}, {0, 50 * 1000 * 1000}};
        timer_settime(t, 0, &c50, NULL);
        usleep(100 * 1000);
        sigset_t pend;
        sigpending(&pend);
        int early = sigismember(&pend, SIGALRM);
        do
            sigpending(&pend);
        while (!sigismember(&pend, SIGALRM));
        memset(&si, 0, sizeof si);
        r = sigwaitinfo(&m, &si);
        printf("  not after sleeping: %d, after spinning: sig %d code %d value %d\n", !early, r,
               si.si_code, si.si_value.sival_int);
        timer_delete(t);
    }

    /* Errors. */
    ev.sigev_notify = SIGEV_SIGNAL;
    printf("timer_create clock 10: %s\n", E(timer_create(10, &ev, &t)));
    printf("timer_create clock 100: %s\n", E(timer_create(100, &ev, &t)));
    ev.sigev_notify = 99;
    printf("timer_create notify 99: %s\n", E(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 65;
    printf("timer_create signal 65: %s\n", E(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    ev.sigev_signo = SIGALRM;
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev._sigev_un._tid = 999999;
    printf("timer_create bad thread: %s\n", E(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    ev._sigev_un._tid = gettid();
    printf("timer_create SIGEV_THREAD_ID self: %s\n",
           E(timer_create(CLOCK_MONOTONIC, &ev, &t)));
    struct itimerspec badv = {{0, 0}, {0, 1000000000}};
    printf("timer_settime bad value: %s\n", E(timer_settime(t, 0, &badv, NULL)));
    printf("timer_settime NULL: %s\n", E(syscall(SYS_timer_settime, 0, 0, NULL, NULL)));
    tsig = 0;
    struct itimerspec soon = {{0, 0}, {0, 1000000}};
    timer_settime(t, 0, &soon, NULL);
    while (!tsig)
        sigsuspend(&none);
    printf("SIGEV_THREAD_ID fired: sig %d code %d\n", tsig, tcode);
    timer_delete(t);
    printf("timer_getoverrun bad id: %s\n", E(syscall(SYS_timer_getoverrun, 12345)));
    sigprocmask(SIG_SETMASK, &old, NULL);
    signal(SIGALRM, SIG_DFL);
}

static void shm(void)
{
    printf("shmid_ds: size %zu nattch at %zu cpid at %zu segsz at %zu\n",
           sizeof(struct shmid_ds), offsetof(struct shmid_ds, shm_nattch),
           offsetof(struct shmid_ds, shm_cpid), offsetof(struct shmid_ds, shm_segsz));
    int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
    printf("shmget: %s\n", E(id));
    char *p = shmat(id, NULL, 0);
    printf("shmat: %s\n", p == (void *)-1 ? errname(errno) : "OK");
    strcpy(p, "hello");
    struct shmid_ds ds;
    shmctl(id, IPC_STAT, &ds);
    printf("IPC_STAT: segsz %zu nattch %lu mode %o cpid ok %d uid ok %d\n", ds.shm_segsz,
           ds.shm_nattch, ds.shm_perm.mode, ds.shm_cpid == getpid(), ds.shm_perm.uid == geteuid());
    pid_t c = fork();
    if (c == 0) {
        struct shmid_ds d2;
        shmctl(id, IPC_STAT, &d2);
        printf("child sees '%s', nattch %lu\n", p, d2.shm_nattch);
        strcpy(p, "world");
        _exit(0);
    }
    wait_child(c, "shm child");
    shmctl(id, IPC_STAT, &ds);
    printf("parent sees '%s', nattch %lu, lpid ok %d\n", p, ds.shm_nattch, ds.shm_lpid == c || ds.shm_lpid == getpid());
    char *q = shmat(id, NULL, SHM_RDONLY);
    printf("second attach read-only sees '%s'\n", q);
    shmctl(id, IPC_STAT, &ds);
    printf("nattch %lu\n", ds.shm_nattch);
    c = fork();
    if (c == 0) {
        q[0] = 'X';
        _exit(0);
    }
    wait_child(c, "write to SHM_RDONLY");
    printf("shmdt second: %s\n", E(shmdt(q)));
    printf("shmdt again: %s\n", E(shmdt(q)));
    printf("shmdt unaligned: %s\n", E(shmdt(p + 1)));
    printf("IPC_RMID while attached: %s\n", E(shmctl(id, IPC_RMID, NULL)));
    shmctl(id, IPC_STAT, &ds);
    printf("after RMID: nattch %lu dest %d key %d\n", ds.shm_nattch,
           !!(ds.shm_perm.mode & SHM_DEST), ds.shm_perm.__key);
    printf("still readable: '%s'\n", p);
    printf("shmdt: %s\n", E(shmdt(p)));
    printf("IPC_STAT after last detach: %s\n", E(shmctl(id, IPC_STAT, &ds)));

    key_t key = 0x5e000000 | (getpid() & 0xffff);
    int k1 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0640);
    printf("shmget key: %s\n", E(k1));
    printf("shmget key again EXCL: %s\n", E(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0640)));
    printf("shmget key again: same id %d\n", shmget(key, 4096, 0) == k1);
    printf("shmget key larger: %s\n", E(shmget(key, 8192, 0)));
    printf("shmget missing key: %s\n", E(shmget(key + 1, 4096, 0)));
    printf("shmget size 0: %s\n", E(shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600)));
    printf("shmat unaligned: %s\n", shmat(k1, (void *)0x10001, 0) == (void *)-1 ? errname(errno) : "OK");
    printf("shmat bad id: %s\n", shmat(k1 + 1, NULL, 0) == (void *)-1 ? errname(errno) : "OK");
    char *r = shmat(k1, NULL, 0);
    char *fixed = shmat(k1, r, 0);
    printf("shmat over a mapping: %s\n", fixed == (void *)-1 ? errname(errno) : "OK");
    fixed = shmat(k1, r, SHM_REMAP);
    printf("shmat SHM_REMAP over it: %s at same address %d\n",
           fixed == (void *)-1 ? errname(errno) : "OK", fixed == r);
    char *rnd = shmat(k1, r + 5, SHM_RND | SHM_REMAP);
    printf("SHM_RND rounds down: %d\n", rnd == r);
    shmdt(r);
    c = fork();
    if (c == 0) {
        if (setuid(1000) != 0)
            _exit(3);
        printf("user shmget of a 0640 root segment: %s\n", E(shmget(key, 4096, 0)));
        printf("user shmat: %s\n", shmat(k1, NULL, 0) == (void *)-1 ? errname(errno) : "OK");
        printf("user IPC_STAT: %s\n", E(shmctl(k1, IPC_STAT, &ds)));
        printf("user IPC_RMID: %s\n", E(shmctl(k1, IPC_RMID, NULL)));
        _exit(0);
    }
    wait_child(c, "shm user child");
    ds.shm_perm.mode = 0644;
    printf("IPC_SET: %s\n", E(shmctl(k1, IPC_SET, &ds)));
    shmctl(k1, IPC_STAT, &ds);
    printf("mode now %o\n", ds.shm_perm.mode);
    printf("IPC_RMID: %s\n", E(shmctl(k1, IPC_RMID, NULL)));
    printf("shmctl bad cmd: %s\n", E(shmctl(k1, 99, &ds)));
    printf("shmctl negative id: %s\n", E(shmctl(-1, IPC_STAT, &ds)));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "dumpable") == 0) {
        printf("after exec: dumpable %d uid %d\n", prctl(PR_GET_DUMPABLE), getuid());
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "subreaper") == 0) {
        /* Not as init, whom orphans go to anyway. */
        pid_t c = fork();
        if (c == 0) {
            subreaper();
            exit(check_exit("creds"));
        }
        wait_child(c, "subreaper");
        return check_exit("creds");
    }
    ids();
    prctls();
    priorities();
    usage();
    cpu_itimers();
    sigwaits();
    timers();
    shm();
    return check_exit("creds");
}
