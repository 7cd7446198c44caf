/* The deterministic mode's test program (ferrite run --deterministic):
 * everything in its output depends on the schedule, the clocks or the
 * random bytes, so two runs print the same bytes only if ferrite makes all
 * of them reproducible.
 *
 *   detrace            4 threads increment a shared counter without locks
 *                      and log who ran when (the interleaving, lost
 *                      updates), read the clocks (clock_gettime of several
 *                      clocks, gettimeofday, time, rdtime), getrandom,
 *                      /dev/urandom and AT_RANDOM bytes; then 3 forked
 *                      processes race to report, and the order they are
 *                      reaped in is printed with their pids.
 *   detrace random     only the random bytes (getrandom, /dev/urandom,
 *                      AT_RANDOM), nothing else.
 *   detrace spin N     CLOCK_MONOTONIC and rdtime around a loop of exactly
 *                      2N instructions: the two elapsed times.
 *   detrace sleep S    nanosleep(S seconds): CLOCK_MONOTONIC before/after.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NTHREADS 4
#define ITERS 200000
#define LOGN 4096

static volatile long counter;
static unsigned char order[LOGN];
static long nlog;

static uint64_t ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rdtime(void)
{
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    return t;
}

static void hex(const char *what, const unsigned char *b, int n)
{
    printf("%s ", what);
    for (int i = 0; i < n; i++)
        printf("%02x", b[i]);
    printf("\n");
}

static void *worker(void *arg)
{
    long id = (long)arg;
    uint64_t t0 = ns(CLOCK_MONOTONIC);
    for (long i = 0; i < ITERS; i++) {
        long c = counter; /* racy read-modify-write: updates get lost */
        for (volatile int k = 0; k < 3; k++)
            ;
        counter = c + 1;
        if (i % 1000 == 0) {
            long at = __atomic_fetch_add(&nlog, 1, __ATOMIC_RELAXED);
            if (at < LOGN)
                order[at] = (unsigned char)id;
        }
    }
    uint64_t t1 = ns(CLOCK_MONOTONIC);
    unsigned char r[8];
    getrandom(r, sizeof r, 0);
    printf("thread %ld: cpu %d, ran %llu ns, monotonic %llu..%llu, ", id,
           sched_getcpu(), (unsigned long long)ns(CLOCK_THREAD_CPUTIME_ID),
           (unsigned long long)t0, (unsigned long long)t1);
    hex("getrandom", r, 8);
    return 0;
}

static void random_bytes(void)
{
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != sizeof b)
        printf("getrandom failed\n");
    hex("getrandom", b, 16);
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, b, 16) != 16)
        printf("/dev/urandom failed\n");
    close(fd);
    hex("urandom", b, 16);
    hex("AT_RANDOM", (const unsigned char *)getauxval(AT_RANDOM), 16);
}

static void clocks(void)
{
    static const struct { clockid_t id; const char *name; } cl[] = {
        { CLOCK_REALTIME, "REALTIME" },
        { CLOCK_MONOTONIC, "MONOTONIC" },
        { CLOCK_PROCESS_CPUTIME_ID, "PROCESS_CPUTIME" },
        { CLOCK_THREAD_CPUTIME_ID, "THREAD_CPUTIME" },
        { CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW" },
        { CLOCK_REALTIME_COARSE, "REALTIME_COARSE" },
        { CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE" },
        { CLOCK_BOOTTIME, "BOOTTIME" },
        { CLOCK_TAI, "TAI" },
    };
    for (unsigned i = 0; i < sizeof cl / sizeof cl[0]; i++)
        printf("clock %s %llu\n", cl[i].name, (unsigned long long)ns(cl[i].id));
    struct timeval tv;
    gettimeofday(&tv, 0);
    printf("gettimeofday %lld.%06ld time %lld rdtime %llu\n", (long long)tv.tv_sec,
           (long)tv.tv_usec, (long long)time(0), (unsigned long long)rdtime());
    char up[64] = { 0 };
    int fd = open("/proc/uptime", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, up, sizeof up - 1) < 0)
            up[0] = 0;
        close(fd);
    }
    printf("uptime %s", up);
    /* A file ferrite invents: its times come from the clock. */
    int s = open("/dev/shm/detrace", O_CREAT | O_RDWR | O_TRUNC, 0600);
    struct stat st;
    if (s >= 0 && fstat(s, &st) == 0)
        printf("shm mtime %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (s >= 0)
        close(s);
    unlink("/dev/shm/detrace");
}

static int race(void)
{
    pthread_t t[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], 0, worker, (void *)i);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], 0);
    printf("counter %ld of %d (lost %ld)\n", counter, NTHREADS * ITERS,
           NTHREADS * ITERS - counter);
    /* The interleaving as runs: "2x14" = 14 log entries by thread 2. */
    printf("order");
    long n = nlog < LOGN ? nlog : LOGN;
    for (long i = 0; i < n;) {
        long j = i;
        while (j < n && order[j] == order[i])
            j++;
        printf(" %dx%ld", order[i], j - i);
        i = j;
    }
    printf("\n");
    clocks();
    random_bytes();
    fflush(stdout);
    /* Processes: each works a different amount and reports; the parent
     * reaps them in whatever order they end. */
    for (int c = 0; c < 3; c++) {
        pid_t p = fork();
        if (p == 0) {
            for (volatile long k = 0; k < 300000L * (3 - c); k++)
                ;
            printf("child %d pid %d at %llu\n", c, getpid(),
                   (unsigned long long)ns(CLOCK_MONOTONIC));
            fflush(stdout);
            _exit(c);
        }
    }
    for (int c = 0; c < 3; c++) {
        int st;
        pid_t p = wait(&st);
        printf("reaped pid %d status %d at %llu\n", p, WEXITSTATUS(st),
               (unsigned long long)ns(CLOCK_MONOTONIC));
    }
    printf("pid %d done at %llu\n", getpid(), (unsigned long long)ns(CLOCK_MONOTONIC));
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, 0, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "random") == 0) {
        random_bytes();
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "spin") == 0) {
        long n = atol(argv[2]);
        uint64_t r0 = rdtime();
        uint64_t t0 = ns(CLOCK_MONOTONIC);
        __asm__ volatile("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
        uint64_t t1 = ns(CLOCK_MONOTONIC);
        uint64_t r1 = rdtime();
        printf("monotonic %llu rdtime %llu\n", (unsigned long long)(t1 - t0),
               (unsigned long long)(r1 - r0));
        return 0;
    }
    if (argc > 2 && strcmp(argv[1], "sleep") == 0) {
        struct timespec d = { atol(argv[2]), 0 };
        uint64_t t0 = ns(CLOCK_MONOTONIC);
        int r = nanosleep(&d, 0);
        uint64_t t1 = ns(CLOCK_MONOTONIC);
        printf("nanosleep %d slept %llu ns\n", r, (unsigned long long)(t1 - t0));
        return 0;
    }
    return race();
}
