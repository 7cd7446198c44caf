/* Class order on one CPU (ferrite --cpus 1): an rt (SCHED_FIFO) spinner
 * starves a SCHED_WRR one except for RT throttling's share
 * (sched_rt_runtime_us 950000 of every sched_rt_period_us 1000000), and
 * a SCHED_WRR spinner starves a SCHED_NORMAL one. The spinners count
 * iterations into shared memory; the shares are those counts. Prints the
 * shares in percent, self-checks their ranges. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "include/wrr.h"

struct shared {
    volatile uint64_t hi, lo;
    volatile int stop;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The child runs `policy` and spins for `secs` of wall time, counting in
 * sh->hi; the parent (policy `lo_policy`) counts in sh->lo meanwhile.
 * Returns the parent's share in percent. */
static double contest(struct shared *sh, int policy, int prio, int lo_policy, double secs)
{
    sh->hi = sh->lo = 0;
    sh->stop = 0;
    struct sched_param p = {.sched_priority = 0};
    CHECK_EQ(sched_setscheduler(0, SCHED_WRR, &p), 0);
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        struct sched_param q = {.sched_priority = prio};
        if (sched_setscheduler(0, policy, &q) != 0)
            _exit(2);
        double end = now() + secs;
        while (!sh->stop) {
            sh->hi++;
            if ((sh->hi & 0xfff) == 0 && now() >= end)
                sh->stop = 1;
        }
        _exit(0);
    }
    /* Let the child take its policy first (the parent sleeps). */
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    p.sched_priority = 0;
    if (lo_policy != SCHED_WRR)
        CHECK_EQ(sched_setscheduler(0, lo_policy, &p), 0);
    while (!sh->stop)
        sh->lo++;
    uint64_t hi = sh->hi, lo = sh->lo;
    int st;
    waitpid(c, &st, 0);
    CHECK_EQ(WEXITSTATUS(st), 0);
    CHECK_EQ(sched_setscheduler(0, SCHED_WRR, &p), 0);
    return 100.0 * (double)lo / (double)(hi + lo);
}

int main(void)
{
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED);
    double wrr_under_rt = contest(sh, SCHED_FIFO, 10, SCHED_WRR, 3.0);
    printf("WRR share under a FIFO spinner: %.1f%%\n", wrr_under_rt);
    CHECK(wrr_under_rt > 0.5 && wrr_under_rt < 10.0);
    double normal_under_wrr = contest(sh, SCHED_WRR, 0, SCHED_OTHER, 1.0);
    printf("NORMAL share under a WRR spinner: %.1f%%\n", normal_under_wrr);
    CHECK(normal_under_wrr < 1.0);
    return check_exit("sched_classes");
}
