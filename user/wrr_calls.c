/* The lab's SCHED_WRR calls on ferrite (policy 7 and the calls 500-502
 * exist only there): default policy and weight, every errno case, weight
 * changes through the Linux calls and the lab's own, fork inheritance and
 * the reset on entering SCHED_WRR. Self-checking; prints a summary. */
#define _GNU_SOURCE
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "include/wrr.h"

static long setsched(pid_t pid, int policy, int prio)
{
    struct sched_param p = {.sched_priority = prio};
    return syscall(SYS_sched_setscheduler, pid, policy, &p);
}

static int getparam(pid_t pid)
{
    struct sched_param p = {.sched_priority = -1};
    CHECK_EQ(syscall(SYS_sched_getparam, pid, &p), 0);
    return p.sched_priority;
}

#define EXPECT_ERR(call, e)                                                \
    do {                                                                   \
        errno = 0;                                                         \
        long r_ = (call);                                                  \
        CHECK_EQ(r_, -1);                                                  \
        if (errno != (e)) {                                                \
            fprintf(stderr, "%s: errno %s, want %s\n", #call,              \
                    errname(errno), errname(e));                           \
            check_failures++;                                              \
        }                                                                  \
    } while (0)

int main(void)
{
    CHECK_EQ(sched_getscheduler(0), SCHED_WRR);
    CHECK_EQ(sched_getweight(0), 10);
    CHECK_EQ(getparam(0), 10);
    CHECK_EQ(sched_get_priority_min(SCHED_WRR), 1);
    CHECK_EQ(sched_get_priority_max(SCHED_WRR), 20);
    struct timespec ts;
    CHECK_EQ(sched_rr_get_interval(0, &ts), 0);
    CHECK_EQ(ts.tv_sec, 0);
    CHECK_EQ(ts.tv_nsec, 100000000);
    printf("policy %d weight %d rr_interval %ld ms\n", sched_getscheduler(0),
           sched_getweight(0), ts.tv_nsec / 1000000);

    /* The lab's calls. */
    CHECK_EQ(sched_setweight(0, 20), 0);
    CHECK_EQ(sched_getweight(getpid()), 20);
    CHECK_EQ(sched_rr_get_interval(0, &ts), 0);
    CHECK_EQ(ts.tv_nsec, 200000000);
    EXPECT_ERR(sched_setweight(0, 0), EINVAL);
    EXPECT_ERR(sched_setweight(0, 21), EINVAL);
    EXPECT_ERR(sched_setweight(0, -3), EINVAL);
    EXPECT_ERR(sched_setweight(999999, 5), ESRCH);
    EXPECT_ERR(sched_getweight(999999), ESRCH);
    EXPECT_ERR(get_wrr_info(NULL), EFAULT);
    EXPECT_ERR(get_wrr_info((struct wrr_info *)8), EFAULT);

    /* Through sched_setscheduler / sched_setparam. */
    CHECK_EQ(setsched(0, SCHED_WRR, 5), 0);
    CHECK_EQ(sched_getweight(0), 5);
    struct sched_param p = {.sched_priority = 0};
    CHECK_EQ(sched_setparam(0, &p), 0);
    CHECK_EQ(sched_getweight(0), 10);
    p.sched_priority = 21;
    EXPECT_ERR(sched_setparam(0, &p), EINVAL);
    EXPECT_ERR(setsched(0, SCHED_WRR, 21), EINVAL);
    EXPECT_ERR(setsched(0, SCHED_WRR, -1), EINVAL);

    /* fork inherits the policy and weight. */
    CHECK_EQ(sched_setweight(0, 7), 0);
    pid_t c = fork();
    if (c == 0)
        _exit(sched_getscheduler(0) == SCHED_WRR ? sched_getweight(0) : 100);
    int st;
    waitpid(c, &st, 0);
    CHECK_EQ(WEXITSTATUS(st), 7);

    /* Leaving WRR: the lab's calls say EINVAL; entering again resets to 10. */
    CHECK_EQ(setsched(0, SCHED_OTHER, 0), 0);
    EXPECT_ERR(sched_getweight(0), EINVAL);
    EXPECT_ERR(sched_setweight(0, 3), EINVAL);
    CHECK_EQ(setsched(0, SCHED_WRR, 0), 0);
    CHECK_EQ(sched_getweight(0), 10);

    /* get_wrr_info: this task is runnable WRR, so some CPU counts it. */
    struct wrr_info info;
    memset(&info, 0xff, sizeof info);
    int n = get_wrr_info(&info);
    CHECK(n >= 1 && n <= WRR_MAX_CPUS);
    CHECK_EQ(info.num_cpus, n);
    int tasks = 0, weight = 0;
    for (int i = 0; i < n; i++) {
        tasks += info.nr_running[i];
        weight += info.total_weight[i];
    }
    CHECK(tasks >= 1);
    CHECK(weight >= 10);
    printf("get_wrr_info: %d cpus, %d WRR tasks, total weight %d\n", n, tasks, weight);

    /* Without privileges: lower yes, raise no, another owner's task no. */
    pid_t parent = getpid();
    c = fork();
    if (c == 0) {
        if (setuid(1000) != 0)
            _exit(99);
        CHECK_EQ(sched_setweight(0, 4), 0);
        EXPECT_ERR(sched_setweight(0, 5), EPERM);
        EXPECT_ERR(setsched(0, SCHED_WRR, 9), EPERM);
        CHECK_EQ(setsched(0, SCHED_WRR, 2), 0);
        EXPECT_ERR(sched_setweight(parent, 1), EPERM);
        EXPECT_ERR(setsched(parent, SCHED_WRR, 1), EPERM);
        CHECK_EQ(sched_getweight(parent), 10);
        _exit(check_failures ? 1 : 0);
    }
    waitpid(c, &st, 0);
    CHECK_EQ(WEXITSTATUS(st), 0);
    return check_exit("wrr_calls");
}
