/* The Lab 4 investigation, end to end: does SCHED_WRR balance the weights
 * across the CPUs, and does each task get the CPU share its weight asks
 * for? `make wrr-demo` runs it on 4 CPUs in ferrite's deterministic mode.
 *
 *   wrr_demo [-p PHASE_MS] [-s SAMPLE_MS] [-b BALANCE_MS] [-q]
 *
 * Three phases of PHASE_MS each (default 2000 ms):
 *   1. CPU-bound tasks with mixed weights, all started on CPU 0 and then
 *      released to every CPU: the balancer spreads them until the CPUs'
 *      total weights are within one task's weight of each other;
 *   2. the same with I/O workers mixed in (pipes, file writes, sleeps);
 *   3. CPU-bound tasks whose weights are changed half-way (w -> 21 - w).
 * While a phase runs it prints get_wrr_info every SAMPLE_MS (default 250;
 * -q: only the first and last), then a table of each task's CPU share
 * against its weight share w / sum(w). The share a task can get is that
 * of its CPU: w / (total weight of its CPU) of one CPU, which is
 * w / sum(w) of the machine exactly when the CPUs are balanced.
 *
 * -b sets the period of SCHED_WRR's load balancing for the run (the
 * sysctl /proc/sys/kernel/sched_wrr_balance_interval_ms, 500 ms by
 * default), so that a short run shows several balancing steps; the old
 * value is put back at the end.
 *
 * Run it as root: only root may raise a weight above the one inherited. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../include/wrr.h"
#include "common.h"

#define MAXT 32

struct report {
    int idx;
    int pid;
    long long cpu_mid_us; /* CPU time at half of the phase */
    long long cpu_end_us; /* CPU time at the end */
    long long work;       /* rounds (I/O workers) or iterations (spinners) */
};

#define KNOB "/proc/sys/kernel/sched_wrr_balance_interval_ms"

/* Read the balance-period knob into `out`, or write `in` to it. */
static int knob(char *out, size_t n, const char *in)
{
    int fd = open(KNOB, in ? O_WRONLY : O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t r;
    if (in) {
        r = write(fd, in, strlen(in));
    } else {
        r = read(fd, out, n - 1);
        if (r >= 0)
            out[r] = 0;
    }
    close(fd);
    return r < 0 ? -1 : 0;
}

static void sleep_until(long long t)
{
    long long d;
    while ((d = t - now_us()) > 0) {
        struct timespec ts = { d / 1000000, (d % 1000000) * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* A task of a phase: spins (or does I/O rounds) until `end`, noting its
 * CPU time at `mid`, then reports through `fd`. */
static void child(int idx, int io, long long mid, long long end, int fd)
{
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE; c++)
        CPU_SET(c, &all);
    sched_setaffinity(0, sizeof all, &all); /* released from CPU 0 */
    struct report r = { idx, getpid(), -1, 0, 0 };
    volatile unsigned long long x = 1;
    int tmp = -1;
    char path[64];
    if (io) {
        snprintf(path, sizeof path, "/tmp/wrr_demo.%d", getpid());
        tmp = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    }
    for (;;) {
        long long t = now_us();
        if (r.cpu_mid_us < 0 && t >= mid)
            r.cpu_mid_us = cpu_us();
        if (t >= end)
            break;
        int iters = io ? 50000 : 20000;
        for (int i = 0; i < iters; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        r.work++;
        if (io) {
            char line[64];
            int n = snprintf(line, sizeof line, "%lld %llu\n", r.work, x);
            if (tmp >= 0 && write(tmp, line, n) != n)
                break;
            struct timespec ts = { 0, 3000000 };
            nanosleep(&ts, NULL);
        }
    }
    if (tmp >= 0) {
        close(tmp);
        unlink(path);
    }
    r.cpu_end_us = cpu_us();
    if (r.cpu_mid_us < 0)
        r.cpu_mid_us = r.cpu_end_us;
    if (write(fd, &r, sizeof r) != sizeof r)
        _exit(1);
    _exit(0);
}

static void print_sample(long long t0)
{
    struct wrr_info info;
    int n = get_wrr_info(&info);
    if (n < 0) {
        printf("get_wrr_info: %s\n", strerror(errno));
        return;
    }
    printf("  t=%5lld ms ", (now_us() - t0) / 1000);
    for (int c = 0; c < n; c++)
        printf(" | cpu%d w=%3d n=%2d", c, info.total_weight[c], info.nr_running[c]);
    printf("\n");
}

/* Max minus min of the CPUs' total weights now. */
static int spread(int *maxw)
{
    struct wrr_info info;
    int n = get_wrr_info(&info);
    if (n <= 0)
        return -1;
    int lo = info.total_weight[0], hi = lo;
    for (int c = 1; c < n; c++) {
        if (info.total_weight[c] < lo)
            lo = info.total_weight[c];
        if (info.total_weight[c] > hi)
            hi = info.total_weight[c];
    }
    *maxw = hi;
    return hi - lo;
}

static int phase(const char *title, int nt, const int *w, const int *io, int swap_mid,
                 long long ms, long long sample_ms, int quiet)
{
    printf("\n== %s ==\n", title);
    int fds[2];
    if (pipe(fds) < 0) {
        perror("pipe");
        return 1;
    }
    /* Every task starts on CPU 0 (inherited affinity) with its weight
     * (inherited from the parent at fork, so placement sees it). */
    cpu_set_t one, all;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE; c++)
        CPU_SET(c, &all);
    sched_setaffinity(0, sizeof one, &one);
    long long t0 = now_us(), end = t0 + ms * 1000, mid = t0 + ms * 500;
    int pids[MAXT];
    for (int i = 0; i < nt; i++) {
        if (sched_setweight(0, w[i]) < 0) {
            fprintf(stderr, "wrr_demo: sched_setweight %d: %s (run as root)\n", w[i],
                    strerror(errno));
            return 1;
        }
        pids[i] = fork();
        if (pids[i] == 0) {
            close(fds[0]);
            child(i, io[i], mid, end, fds[1]);
        }
    }
    close(fds[1]);
    sched_setweight(0, WRR_DEFAULT_WEIGHT);
    sched_setaffinity(0, sizeof all, &all);
    int wsum = 0, wsum2 = 0, maxw = 0;
    for (int i = 0; i < nt; i++) {
        wsum += w[i];
        wsum2 += swap_mid ? 21 - w[i] : w[i];
        if (w[i] > maxw)
            maxw = w[i];
    }
    int swapped = 0;
    print_sample(t0);
    for (long long t = t0 + sample_ms * 1000; t < end; t += sample_ms * 1000) {
        sleep_until(t);
        if (swap_mid && !swapped && now_us() >= mid) {
            for (int i = 0; i < nt; i++)
                sched_setweight(pids[i], 21 - w[i]);
            swapped = 1;
            printf("  weights changed: w -> 21 - w\n");
        }
        if (!quiet)
            print_sample(t0);
    }
    int top = 0, s = spread(&top);
    if (quiet)
        print_sample(t0);
    struct report r[MAXT];
    memset(r, 0, sizeof r);
    struct report one_r;
    while (read(fds[0], &one_r, sizeof one_r) == sizeof one_r)
        if (one_r.idx >= 0 && one_r.idx < nt)
            r[one_r.idx] = one_r;
    close(fds[0]);
    for (int i = 0; i < nt; i++)
        waitpid(pids[i], NULL, 0);

    long long sum1 = 0, sum2 = 0;
    for (int i = 0; i < nt; i++) {
        sum1 += r[i].cpu_mid_us;
        sum2 += r[i].cpu_end_us - r[i].cpu_mid_us;
    }
    if (sum1 <= 0)
        sum1 = 1;
    if (sum2 <= 0)
        sum2 = 1;
    printf("  task  pid   kind  weight   cpu ms   share   w/sum(w)%s\n",
           swap_mid ? "  | weight   share   w/sum(w)  (second half)" : "");
    for (int i = 0; i < nt; i++) {
        if (swap_mid) {
            printf("  %4d %5d  %5s  %6d  %7.1f  %5.1f%%  %7.1f%%  | %6d  %5.1f%%  %7.1f%%\n", i,
                   r[i].pid, io[i] ? "io" : "cpu", w[i], r[i].cpu_end_us / 1000.0,
                   100.0 * r[i].cpu_mid_us / sum1, 100.0 * w[i] / wsum, 21 - w[i],
                   100.0 * (r[i].cpu_end_us - r[i].cpu_mid_us) / sum2,
                   100.0 * (21 - w[i]) / wsum2);
        } else {
            long long tot = sum1 + sum2;
            printf("  %4d %5d  %5s  %6d  %7.1f  %5.1f%%  %7.1f%%\n", i, r[i].pid,
                   io[i] ? "io" : "cpu", w[i], r[i].cpu_end_us / 1000.0,
                   100.0 * r[i].cpu_end_us / tot, 100.0 * w[i] / wsum);
        }
    }
    int lim = swap_mid ? 20 : maxw;
    printf("  total weights at the end: spread %d (max %d), limit one task's weight %d: %s\n", s,
           top, lim, s >= 0 && s <= lim ? "balanced" : "NOT balanced");
    return s >= 0 && s <= lim ? 0 : 1;
}

int main(int argc, char **argv)
{
    long long ms = 2000, sample = 250;
    int quiet = 0, opt, balance = 0;
    while ((opt = getopt(argc, argv, "p:s:b:q")) != -1) {
        switch (opt) {
        case 'p': ms = atoll(optarg); break;
        case 's': sample = atoll(optarg); break;
        case 'b': balance = atoi(optarg); break;
        case 'q': quiet = 1; break;
        default:
            fprintf(stderr, "usage: wrr_demo [-p PHASE_MS] [-s SAMPLE_MS] [-b BALANCE_MS] [-q]\n");
            return 2;
        }
    }
    if (ms < 100 || sample < 10) {
        fprintf(stderr, "wrr_demo: a phase needs at least 100 ms, a sample 10 ms\n");
        return 2;
    }
    if (sched_getscheduler(0) != SCHED_WRR) {
        fprintf(stderr, "wrr_demo: not a SCHED_WRR task (is this ferrite?)\n");
        return 1;
    }
    struct wrr_info info;
    int ncpu = get_wrr_info(&info);
    char old[32] = "";
    if (balance > 0) {
        if (knob(old, sizeof old, NULL) < 0) {
            fprintf(stderr, "wrr_demo: cannot read %s: %s\n", KNOB, strerror(errno));
            return 1;
        }
        char v[32];
        snprintf(v, sizeof v, "%d\n", balance);
        if (knob(NULL, 0, v) < 0) {
            fprintf(stderr, "wrr_demo: cannot set %s: %s (run as root)\n", KNOB, strerror(errno));
            return 1;
        }
    }
    char now_knob[32] = "?";
    knob(now_knob, sizeof now_knob, NULL);
    now_knob[strcspn(now_knob, "\n")] = 0;
    printf("SCHED_WRR demonstration on %d CPUs, %lld ms per phase, balancing every %s ms\n", ncpu,
           ms, now_knob);
    static const int w1[] = { 1, 2, 4, 6, 8, 10, 12, 15, 18, 20 };
    static const int io0[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const int w2[] = { 5, 10, 15, 20, 5, 10, 15, 20 };
    static const int io2[] = { 0, 0, 0, 0, 1, 1, 1, 1 };
    static const int w3[] = { 1, 5, 10, 15, 20, 3 };
    static const int io3[] = { 0, 0, 0, 0, 0, 0 };
    int bad = 0;
    bad |= phase("1. CPU-bound tasks, mixed weights, all started on CPU 0", 10, w1, io0, 0, ms,
                 sample, quiet);
    bad |= phase("2. CPU-bound and I/O tasks", 8, w2, io2, 0, ms, sample, quiet);
    bad |= phase("3. weights changed half-way", 6, w3, io3, 1, ms, sample, quiet);
    if (balance > 0)
        knob(NULL, 0, old);
    return bad;
}
