/* SCHED_WRR across CPUs on ferrite (needs --cpus 2 or more): affinity
 * moves the caller (getcpu), sequential forks spread by total weight,
 * pinning gathers every spinner on CPU 0, releasing them lets the idle
 * and periodic balancing spread them again, and a weight change shows in
 * get_wrr_info at once. Self-checking; prints what it saw. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "include/wrr.h"

#define SPINNERS 4

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void pin(pid_t pid, int cpu, int n)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    if (cpu < 0) {
        for (int i = 0; i < n; i++)
            CPU_SET(i, &s);
    } else {
        CPU_SET(cpu, &s);
    }
    CHECK_EQ(sched_setaffinity(pid, sizeof s, &s), 0);
}

/* Per-CPU weights, the spread (max - min) and the total (this task,
 * running as it asks, counts its own weight 10). */
static int spread(struct wrr_info *in, int *total)
{
    int n = get_wrr_info(in), mx = 0, mn = 1 << 30;
    *total = 0;
    for (int i = 0; i < n; i++) {
        int w = in->total_weight[i];
        *total += w;
        if (w > mx)
            mx = w;
        if (w < mn)
            mn = w;
    }
    return mx - mn;
}

static void show(const char *tag, struct wrr_info *in)
{
    printf("%s:", tag);
    for (int i = 0; i < in->num_cpus; i++)
        printf(" cpu%d %d/%d", i, in->nr_running[i], in->total_weight[i]);
    printf("\n");
}

int main(void)
{
    struct wrr_info in;
    int n = get_wrr_info(&in);
    if (n < 2) {
        printf("wrr_balance: needs at least 2 CPUs\n");
        return 0;
    }
    /* Affinity moves the caller. */
    for (int c = n - 1; c >= 0; c--) {
        pin(0, c, n);
        sched_yield();
        CHECK_EQ(sched_getcpu(), c);
    }
    pin(0, -1, n);

    /* Sequential forks: each goes to the CPU with the least WRR weight. */
    pid_t kids[SPINNERS];
    for (int i = 0; i < SPINNERS; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            for (;;)
                ;
    }
    sleep_ms(50); /* the parent leaves the run queue while it sleeps */
    int total, d = spread(&in, &total);
    show("forked", &in);
    CHECK_EQ(total, SPINNERS * 10 + 10);
    CHECK(d <= 10);

    /* Pinned to CPU 0: running spinners move when they leave their CPU. */
    for (int i = 0; i < SPINNERS; i++)
        pin(kids[i], 0, n);
    sleep_ms(100);
    d = spread(&in, &total);
    show("pinned", &in);
    CHECK_EQ(in.total_weight[0], SPINNERS * 10);
    CHECK_EQ(in.nr_running[0], SPINNERS);

    /* Released: idle CPUs pull, the periodic balance evens the rest. */
    for (int i = 0; i < SPINNERS; i++)
        pin(kids[i], -1, n);
    sleep_ms(1500);
    d = spread(&in, &total);
    show("released", &in);
    CHECK_EQ(total, SPINNERS * 10 + 10);
    CHECK(d <= 10);

    /* A weight change shows in the totals at once. */
    CHECK_EQ(sched_setweight(kids[0], 20), 0);
    spread(&in, &total);
    CHECK_EQ(total, SPINNERS * 10 + 20);

    for (int i = 0; i < SPINNERS; i++)
        kill(kids[i], SIGKILL);
    for (int i = 0; i < SPINNERS; i++)
        waitpid(kids[i], NULL, 0);
    sleep_ms(20);
    spread(&in, &total);
    CHECK_EQ(total, 10);
    return check_exit("wrr_balance");
}
