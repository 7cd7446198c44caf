/* A CPU-bound spinner for the SCHED_WRR lab: it optionally sets its own
 * weight, then spins for a while of wall-clock (CLOCK_MONOTONIC) time,
 * reporting its progress: loop iterations, CPU time and the CPU it is on.
 *
 *   spin [-w WEIGHT] [-t MS] [-r REPORT_MS] [-n NAME]
 *
 * Defaults: the weight it inherited, 1000 ms, a report every 250 ms, name
 * "spin". The last line, "NAME done: ...", gives the totals. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../include/wrr.h"
#include "common.h"

int main(int argc, char **argv)
{
    int weight = 0, opt;
    long long ms = 1000, report = 250;
    const char *name = "spin";
    while ((opt = getopt(argc, argv, "w:t:r:n:")) != -1) {
        switch (opt) {
        case 'w': weight = atoi(optarg); break;
        case 't': ms = atoll(optarg); break;
        case 'r': report = atoll(optarg); break;
        case 'n': name = optarg; break;
        default:
            fprintf(stderr, "usage: spin [-w WEIGHT] [-t MS] [-r REPORT_MS] [-n NAME]\n");
            return 2;
        }
    }
    if (weight && sched_setweight(0, weight) < 0) {
        fprintf(stderr, "%s: sched_setweight %d: %s\n", name, weight, strerror(errno));
        return 1;
    }
    long long start = now_ms(), next = start + report;
    unsigned long long iters = 0;
    volatile unsigned long long x = 1;
    for (;;) {
        for (int i = 0; i < 10000; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        iters++;
        long long t = now_ms();
        if (t - start >= ms)
            break;
        if (report > 0 && t >= next) {
            printf("%s pid %d: %lld ms, cpu %d, weight %d, %llu iterations, cpu time %lld ms\n",
                   name, getpid(), t - start, cpu_now(), sched_getweight(0), iters, cpu_ms());
            fflush(stdout);
            next += report;
        }
    }
    printf("%s done: pid %d, weight %d, %llu iterations, cpu time %lld ms\n", name, getpid(),
           sched_getweight(0), iters, cpu_ms());
    return 0;
}
