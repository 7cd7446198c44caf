/* The lab's test program (the course notes' Lab 4): it calls the SCHED_WRR
 * system calls and prints what they say.
 *
 *   wrr_test              check the calls (policy, weights, errors) and
 *                         print the per-CPU table; exit 1 on a failed check
 *   wrr_test info         print the per-CPU table of get_wrr_info
 *   wrr_test get PID      print the weight of PID
 *   wrr_test set PID W    set the weight of PID to W
 *
 * The checks print one line each, the same on every run, so a test can
 * compare the output; they assume the caller is root (only root may raise
 * a weight) and a SCHED_WRR task (init's policy on ferrite). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "../include/wrr.h"

static void print_info(void)
{
    struct wrr_info info;
    memset(&info, 0, sizeof info);
    int n = get_wrr_info(&info);
    if (n < 0) {
        printf("get_wrr_info: %s\n", errname(errno));
        return;
    }
    printf("CPU  nr_running  total_weight\n");
    for (int c = 0; c < n && c < WRR_MAX_CPUS; c++)
        printf("%3d  %10d  %12d\n", c, info.nr_running[c], info.total_weight[c]);
}

/* "OK" or the errno name of a call's result. */
static const char *res(long r)
{
    return r < 0 ? errname(errno) : "OK";
}

static int checks(void)
{
    struct sched_param p = { 0 };
    struct timespec ts;
    int pol = sched_getscheduler(0);
    printf("policy: %d%s\n", pol, pol == SCHED_WRR ? " (SCHED_WRR)" : "");
    CHECK_EQ(pol, SCHED_WRR);
    printf("weight: %d\n", sched_getweight(0));
    CHECK_EQ(sched_getweight(0), WRR_DEFAULT_WEIGHT);
    CHECK_EQ(sched_getparam(0, &p), 0);
    printf("sched_getparam: sched_priority %d\n", p.sched_priority);
    CHECK_EQ(p.sched_priority, WRR_DEFAULT_WEIGHT);
    CHECK_EQ(sched_rr_get_interval(0, &ts), 0);
    printf("rr_interval: %ld.%09ld s\n", (long)ts.tv_sec, ts.tv_nsec);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec == 100000000);
    printf("priority range: %d..%d\n", sched_get_priority_min(SCHED_WRR),
           sched_get_priority_max(SCHED_WRR));
    CHECK_EQ(sched_get_priority_min(SCHED_WRR), 1);
    CHECK_EQ(sched_get_priority_max(SCHED_WRR), 20);

    /* Weights 1..20 set and read back, by both interfaces. */
    CHECK_EQ(sched_setweight(0, 20), 0);
    CHECK_EQ(sched_getweight(0), 20);
    CHECK_EQ(sched_rr_get_interval(0, &ts), 0);
    printf("weight 20: rr_interval %ld ms\n", ts.tv_nsec / 1000000 + ts.tv_sec * 1000);
    CHECK(ts.tv_sec == 0 && ts.tv_nsec == 200000000);
    p.sched_priority = 5;
    CHECK_EQ(sched_setparam(0, &p), 0);
    printf("sched_setparam 5: weight %d\n", sched_getweight(0));
    CHECK_EQ(sched_getweight(0), 5);
    p.sched_priority = 0;
    CHECK_EQ(sched_setscheduler(0, SCHED_WRR, &p), 0);
    printf("sched_setscheduler(WRR, 0): weight %d\n", sched_getweight(0));
    CHECK_EQ(sched_getweight(0), WRR_DEFAULT_WEIGHT);

    /* Errors. */
    printf("setweight 0: %s\n", res(sched_setweight(0, 0)));
    printf("setweight 21: %s\n", res(sched_setweight(0, 21)));
    printf("setweight -1: %s\n", res(sched_setweight(0, -1)));
    printf("setweight pid 999999: %s\n", res(sched_setweight(999999, 5)));
    printf("getweight pid 999999: %s\n", res(sched_getweight(999999)));
    printf("getweight pid -1: %s\n", res(sched_getweight(-1)));
    printf("get_wrr_info NULL: %s\n", res(get_wrr_info(NULL)));
    printf("get_wrr_info bad: %s\n", res(get_wrr_info((void *)8)));
    p.sched_priority = 21;
    printf("sched_setscheduler(WRR, 21): %s\n", res(sched_setscheduler(0, SCHED_WRR, &p)));
    printf("weight after failures: %d\n", sched_getweight(0));
    CHECK_EQ(sched_getweight(0), WRR_DEFAULT_WEIGHT);

    /* A child that leaves SCHED_WRR: the weight calls say EINVAL; back in
     * WRR without a weight it has 10 again. The child inherits the policy
     * and the weight of its parent. */
    CHECK_EQ(sched_setweight(0, 3), 0);
    pid_t c = fork();
    if (c == 0) {
        int ok = sched_getscheduler(0) == SCHED_WRR && sched_getweight(0) == 3;
        struct sched_param q = { 0 };
        ok &= sched_setscheduler(0, SCHED_OTHER, &q) == 0;
        ok &= sched_getweight(0) == -1 && errno == EINVAL;
        ok &= sched_setweight(0, 4) == -1 && errno == EINVAL;
        ok &= sched_setscheduler(0, SCHED_WRR, &q) == 0 && sched_getweight(0) == 10;
        /* An unprivileged owner may lower its weight, not raise it, and
         * may not touch another user's task. */
        if (setuid(65534) == 0) {
            ok &= sched_setweight(0, 2) == 0 && sched_getweight(0) == 2;
            ok &= sched_setweight(0, 9) == -1 && errno == EPERM;
            ok &= sched_setweight(getppid(), 1) == -1 && errno == EPERM;
        }
        _exit(ok ? 0 : 1);
    }
    int st = 0;
    waitpid(c, &st, 0);
    printf("child: inherit, leave and re-enter SCHED_WRR, unprivileged: %s\n",
           WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "OK" : "FAILED");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CHECK_EQ(sched_setweight(0, WRR_DEFAULT_WEIGHT), 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "info")) {
        print_info();
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "get")) {
        int w = sched_getweight(atoi(argv[2]));
        if (w < 0) {
            fprintf(stderr, "wrr_test: sched_getweight %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        printf("%d\n", w);
        return 0;
    }
    if (argc >= 4 && !strcmp(argv[1], "set")) {
        if (sched_setweight(atoi(argv[2]), atoi(argv[3])) < 0) {
            fprintf(stderr, "wrr_test: sched_setweight %s %s: %s\n", argv[2], argv[3],
                    strerror(errno));
            return 1;
        }
        return 0;
    }
    if (argc >= 2) {
        fprintf(stderr, "usage: wrr_test [info | get PID | set PID WEIGHT]\n");
        return 2;
    }
    checks();
    print_info();
    return check_exit("wrr_test");
}
