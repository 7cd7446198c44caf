/* futex_waitv (syscall 449): the argument checks and their errnos, a value
 * mismatch (EAGAIN), absolute timeouts on both clocks (ETIMEDOUT), the
 * index of the woken futex (private, between threads, and shared, between
 * processes over a MAP_SHARED page), and a signal (EINTR without
 * SA_RESTART). Output is deterministic: compared with qemu-riscv64. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE 128
#define FUTEX_WAKE 1
#define FUTEX_PRIVATE_FLAG 128

struct waitv {
    uint64_t val;
    uint64_t uaddr;
    uint32_t flags;
    uint32_t reserved;
};

static long waitv(struct waitv *w, unsigned n, unsigned flags, struct timespec *ts, int clk)
{
    long r = syscall(SYS_futex_waitv, w, n, flags, ts, clk);
    return r < 0 ? -errno : r;
}

static long wake(uint32_t *addr, int n, int private)
{
    return syscall(SYS_futex, addr, FUTEX_WAKE | (private ? FUTEX_PRIVATE_FLAG : 0), n, 0, 0, 0);
}

static const char *res(long r)
{
    static char buf[32];
    if (r == -ETIMEDOUT)
        return "ETIMEDOUT";
    if (r < 0)
        return errname((int)-r);
    snprintf(buf, sizeof buf, "%ld", r);
    return buf;
}

static struct timespec in_ms(int clk, long ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_nsec += ms * 1000000L;
    t.tv_sec += t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

static uint32_t words[4];
static struct waitv vec[4];

static void setv(struct waitv *w, uint32_t *addr, uint64_t val, uint32_t flags)
{
    w->val = val;
    w->uaddr = (uintptr_t)addr;
    w->flags = flags;
    w->reserved = 0;
}

static void *waiter(void *arg)
{
    (void)arg;
    return (void *)waitv(vec, 3, 0, 0, 0);
}

/* Wake `addr` until a waiter was there (it may not sleep yet). */
static long wake_one(uint32_t *addr, int private)
{
    for (int i = 0; i < 2000; i++) {
        long n = wake(addr, 1, private);
        if (n)
            return n;
        usleep(1000);
    }
    return 0;
}

static void on_usr1(int sig) { (void)sig; }

int main(void)
{
    const uint32_t P = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;
    for (int i = 0; i < 4; i++)
        setv(&vec[i], &words[i], 0, P);
    words[0] = 1;
    vec[0].val = 1;

    /* Argument checks. */
    printf("nr 0: %s\n", res(waitv(vec, 0, 0, 0, 0)));
    printf("nr 129: %s\n", res(waitv(vec, 129, 0, 0, 0)));
    printf("flags 1: %s\n", res(waitv(vec, 1, 1, 0, 0)));
    printf("null vector: %s\n", res(waitv(0, 1, 0, 0, 0)));
    printf("bad vector: %s\n", res(waitv((struct waitv *)8, 1, 0, 0, 0)));
    struct timespec t = in_ms(CLOCK_MONOTONIC, 10);
    printf("clockid 2: %s\n", res(waitv(vec, 1, 0, &t, CLOCK_PROCESS_CPUTIME_ID)));
    printf("bad timeout: %s\n", res(waitv(vec, 1, 0, (struct timespec *)8, CLOCK_MONOTONIC)));
    struct timespec neg = {-1, 0};
    printf("negative timeout: %s\n", res(waitv(vec, 1, 0, &neg, CLOCK_MONOTONIC)));
    struct timespec bign = {0, 1000000000L};
    printf("nsec 1e9: %s\n", res(waitv(vec, 1, 0, &bign, CLOCK_MONOTONIC)));
    struct waitv bad = vec[0];
    bad.flags = FUTEX2_PRIVATE; /* size 8 bit */
    printf("size u8: %s\n", res(waitv(&bad, 1, 0, 0, 0)));
    bad.flags = 3 | FUTEX2_PRIVATE; /* u64 */
    printf("size u64: %s\n", res(waitv(&bad, 1, 0, 0, 0)));
    bad.flags = P | 0x100;
    printf("unknown flag: %s\n", res(waitv(&bad, 1, 0, 0, 0)));
    bad.flags = P;
    bad.reserved = 1;
    printf("reserved: %s\n", res(waitv(&bad, 1, 0, 0, 0)));
    bad.reserved = 0;
    bad.val = 1ull << 32;
    printf("val above 32 bits: %s\n", res(waitv(&bad, 1, 0, 0, 0)));
    bad.val = 1;
    bad.uaddr = (uintptr_t)&words[0] + 2;
    printf("misaligned: %s\n", res(waitv(&bad, 1, 0, 0, 0)));
    bad.uaddr = 4096;
    printf("unmapped word: %s\n", res(waitv(&bad, 1, 0, 0, 0)));
    bad.flags = FUTEX2_SIZE_U32;
    printf("unmapped shared word: %s\n", res(waitv(&bad, 1, 0, 0, 0)));

    /* A value differs: EAGAIN, whichever entry it is. */
    vec[2].val = 7;
    printf("mismatch at 2: %s\n", res(waitv(vec, 3, 0, 0, 0)));
    vec[2].val = 0;

    /* Absolute timeouts. */
    t = in_ms(CLOCK_MONOTONIC, 30);
    printf("monotonic timeout: %s\n", res(waitv(vec, 4, 0, &t, CLOCK_MONOTONIC)));
    t = in_ms(CLOCK_REALTIME, 30);
    printf("realtime timeout: %s\n", res(waitv(vec, 4, 0, &t, CLOCK_REALTIME)));
    struct timespec past = {0, 0};
    printf("timeout in the past: %s\n", res(waitv(vec, 1, 0, &past, CLOCK_MONOTONIC)));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct timespec expect = in_ms(CLOCK_MONOTONIC, 0);
    (void)expect;
    t = in_ms(CLOCK_MONOTONIC, 50);
    waitv(vec, 1, 0, &t, CLOCK_MONOTONIC);
    struct timespec after;
    clock_gettime(CLOCK_MONOTONIC, &after);
    long waited = (after.tv_sec - now.tv_sec) * 1000 + (after.tv_nsec - now.tv_nsec) / 1000000;
    printf("slept until the deadline: %s\n", waited >= 45 ? "yes" : "no");

    /* A thread waits on three; waking the third returns index 2. */
    for (int k = 0; k < 3; k++) {
        pthread_t th;
        pthread_create(&th, 0, waiter, 0);
        long n = wake_one(&words[k], 1);
        void *r;
        pthread_join(th, &r);
        printf("woke %d: waker saw %ld, waiter returned %s\n", k, n, res((long)r));
    }

    /* Shared futexes (no FUTEX2_PRIVATE) in a MAP_SHARED page meet across
     * fork. */
    uint32_t *sh = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid = fork();
    if (pid == 0) {
        struct waitv v[2];
        setv(&v[0], &sh[0], 0, FUTEX2_SIZE_U32);
        setv(&v[1], &sh[1], 0, FUTEX2_SIZE_U32);
        long r = waitv(v, 2, 0, 0, 0);
        _exit(r == 1 ? 0 : 1);
    }
    long n = wake_one(&sh[1], 0);
    int st;
    waitpid(pid, &st, 0);
    printf("shared: waker saw %ld, child exit %d\n", n, WEXITSTATUS(st));

    /* A signal without SA_RESTART: EINTR. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, 0);
    pid = getpid();
    pid_t killer = fork();
    if (killer == 0) {
        usleep(50000);
        kill(pid, SIGUSR1);
        _exit(0);
    }
    t = in_ms(CLOCK_MONOTONIC, 5000);
    printf("signal: %s\n", res(waitv(vec, 2, 0, &t, CLOCK_MONOTONIC)));
    waitpid(killer, &st, 0);
    return check_exit("futexv");
}
