/* The notes' Lab 4 SCHED_WRR on ferrite: the policy constant, the lab's
 * system calls and their wrappers.
 *
 *   sched_setscheduler(pid, SCHED_WRR, &p)   p.sched_priority = weight
 *                                            (0 = default 10, 1..20)
 *   sched_setweight(pid, weight)             500
 *   sched_getweight(pid)                     501
 *   get_wrr_info(&info)                      502, returns the CPU count
 *
 * pid 0 is the caller. Errors: ESRCH (no such task), EINVAL (weight
 * outside 1..20, or the task is not SCHED_WRR), EFAULT (bad pointer),
 * EPERM (not the task's owner, or raising a weight without CAP_SYS_NICE).
 */
#ifndef FERRITE_WRR_H
#define FERRITE_WRR_H

#include <sys/syscall.h>
#include <unistd.h>

#define SCHED_WRR 7
#define WRR_MIN_WEIGHT 1
#define WRR_MAX_WEIGHT 20
#define WRR_DEFAULT_WEIGHT 10
#define WRR_MAX_CPUS 64

#define __NR_sched_setweight 500
#define __NR_sched_getweight 501
#define __NR_get_wrr_info 502

struct wrr_info {
	int num_cpus;
	int nr_running[WRR_MAX_CPUS];
	int total_weight[WRR_MAX_CPUS];
};

static inline int sched_setweight(pid_t pid, int weight)
{
	return syscall(__NR_sched_setweight, pid, weight);
}

static inline int sched_getweight(pid_t pid)
{
	return syscall(__NR_sched_getweight, pid);
}

static inline int get_wrr_info(struct wrr_info *info)
{
	return syscall(__NR_get_wrr_info, info);
}

#endif
