/* Helpers shared by the SCHED_WRR lab's programs: the monotonic clock, the
 * caller's CPU time (user + system, from getrusage) and its CPU. */
#ifndef FERRITE_WRR_COMMON_H
#define FERRITE_WRR_COMMON_H

#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in microseconds. */
static inline long long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/* The process's CPU time (user + system) in microseconds. */
static inline long long cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

/* The same in milliseconds. */
#define now_ms() (now_us() / 1000)
#define cpu_ms() (cpu_us() / 1000)

/* The CPU the caller runs on (getcpu), or -1. */
static inline int cpu_now(void)
{
    unsigned cpu = 0;
    if (syscall(SYS_getcpu, &cpu, NULL, NULL) < 0)
        return -1;
    return (int)cpu;
}

#endif
