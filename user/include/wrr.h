/* SCHED_WRR, the weighted round-robin policy of the course notes' Lab 4, as
 * ferrite implements it: the policy constant, the lab's three system calls
 * and `struct wrr_info`. Include it from C programs built for riscv64 Linux
 * (Debian's riscv64-linux-gnu-gcc); the calls exist only on ferrite (on
 * another kernel they fail with ENOSYS, and sched_setscheduler(SCHED_WRR)
 * with EINVAL).
 *
 * Weights are integers 1..20 (default 10); a task's time slice is its weight
 * times 10 ms. The standard calls take the weight too: sched_setscheduler(
 * pid, SCHED_WRR, &p) and sched_setparam(pid, &p) read it from
 * p.sched_priority (0 = the default 10), sched_getparam returns it there,
 * and sched_rr_get_interval returns weight x 10 ms. */
#ifndef FERRITE_WRR_H
#define FERRITE_WRR_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SCHED_WRR
#define SCHED_WRR 7
#endif

/* The lab's system calls, at these numbers in ferrite's syscall table. */
#define __NR_sched_setweight 500
#define __NR_sched_getweight 501
#define __NR_get_wrr_info 502

#define WRR_MIN_WEIGHT 1
#define WRR_MAX_WEIGHT 20
#define WRR_DEFAULT_WEIGHT 10
/* The base slice: a weight-w task runs w x WRR_BASE_SLICE_MS at a time. */
#define WRR_BASE_SLICE_MS 10
#define WRR_MAX_CPUS 64

/* What get_wrr_info fills in: per CPU, the runnable SCHED_WRR tasks (queued
 * and running) and the sum of their weights. Entries past num_cpus are 0. */
struct wrr_info {
    int num_cpus;
    int nr_running[WRR_MAX_CPUS];
    int total_weight[WRR_MAX_CPUS];
};

/* Set the weight of task `pid` (0: the caller) to 1..20. A task must be
 * SCHED_WRR (EINVAL otherwise); only root or the task's owner may change it
 * (EPERM), and only root may raise it. 0 or -1 with errno. */
static inline int sched_setweight(pid_t pid, int weight)
{
    return (int)syscall(__NR_sched_setweight, pid, weight);
}

/* The weight of task `pid` (0: the caller), or -1 with errno (ESRCH,
 * EINVAL if it is not SCHED_WRR). */
static inline int sched_getweight(pid_t pid)
{
    return (int)syscall(__NR_sched_getweight, pid);
}

/* Fill `info`; returns the number of CPUs, or -1 with errno (EFAULT). */
static inline int get_wrr_info(struct wrr_info *info)
{
    return (int)syscall(__NR_get_wrr_info, info);
}

#endif
