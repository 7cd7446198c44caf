/* The task model's slab caches in /proc/slabinfo: fs_cache (fs_struct),
 * cred_jar (struct cred) and pid (struct pid) grow with live processes and
 * come back when they are reaped; threads share the fs_struct (CLONE_FS)
 * and the cred, but each has its struct pid. ferrite only (the caches are
 * ferrite's; a host's slabinfo is root's and has other tenants).
 *
 * SLAB counts the objects in the per-CPU array caches as active, so the
 * checks allow one array's worth (the "limit" column) per CPU. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define NPROC 300
#define NTHREAD 100

struct counts {
    long fs, cred, pid, limit;
};

static long active(const char *buf, const char *name, long *limit)
{
    char key[64];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(buf, key);
    if (!p)
        return -1;
    long act = -1, total, size, per, pages, lim = 0;
    if (sscanf(p + strlen(key), "%ld %ld %ld %ld %ld : tunables %ld", &act, &total, &size, &per,
               &pages, &lim) < 6)
        return -1;
    if (limit && lim > *limit)
        *limit = lim;
    return act;
}

static struct counts snap(void)
{
    static char buf[1 << 16];
    struct counts c = {0};
    FILE *f = fopen("/proc/slabinfo", "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    c.fs = active(buf, "fs_cache", &c.limit);
    c.cred = active(buf, "cred_jar", &c.limit);
    c.pid = active(buf, "pid", &c.limit);
    return c;
}

static void *sleeper(void *a)
{
    pause();
    return a;
}

int main(void)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct counts before = snap();
    printf("caches listed: %s\n", before.fs >= 0 && before.cred >= 0 && before.pid >= 0 ? "yes" : "no");

    int p[2];
    CHECK(pipe(p) == 0);
    pid_t kids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            char c;
            close(p[1]);
            (void)!read(p[0], &c, 1);
            _exit(0);
        }
    }
    struct counts peak = snap();
    long slack = before.limit * ncpu;
    printf("%d processes: fs_cache +%s cred_jar +%s pid +%s\n", NPROC,
           peak.fs - before.fs >= NPROC - slack ? "N" : "?",
           peak.cred - before.cred >= NPROC - slack ? "N" : "?",
           peak.pid - before.pid >= NPROC - slack ? "N" : "?");
    close(p[1]);
    for (int i = 0; i < NPROC; i++)
        CHECK_EQ(waitpid(kids[i], 0, 0), kids[i]);
    close(p[0]);
    struct counts after = snap();
    printf("after reaping: fs_cache %s cred_jar %s pid %s\n",
           after.fs <= before.fs + slack ? "back" : "leaked",
           after.cred <= before.cred + slack ? "back" : "leaked",
           after.pid <= before.pid + slack ? "back" : "leaked");
    /* fs_cache is allocated without a CPU: exact. */
    printf("fs_cache exactly back: %s\n", after.fs == before.fs ? "yes" : "no");

    /* Threads: a pid each, the fs_struct and cred shared. */
    struct counts t0 = snap();
    pthread_t t[NTHREAD];
    for (int i = 0; i < NTHREAD; i++)
        CHECK_EQ(pthread_create(&t[i], 0, sleeper, 0), 0);
    struct counts t1 = snap();
    printf("%d threads: pid +N: %s, fs_cache same: %s, cred_jar same: %s\n", NTHREAD,
           t1.pid - t0.pid >= NTHREAD - slack ? "yes" : "no", t1.fs == t0.fs ? "yes" : "no",
           t1.cred - t0.cred < NTHREAD / 2 ? "yes" : "no");
    fflush(stdout);
    _exit(check_failures ? 1 : 0);
}
