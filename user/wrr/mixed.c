/* A mixed CPU and I/O worker for the SCHED_WRR lab: rounds of a CPU burst,
 * a file write, a round trip through a pipe to a child process, and a
 * short sleep, reporting its progress. It shows that the scheduler keeps
 * working for tasks that sleep and wake (they keep their remaining slice
 * and go to the tail of their CPU's queue).
 *
 *   mixed [-w WEIGHT] [-t MS] [-b BURST_ITERS] [-s SLEEP_MS] [-f FILE] [-n NAME]
 *
 * Defaults: inherited weight, 1000 ms, 200000 iterations per burst, 5 ms
 * sleeps, the file /tmp/mixed.PID (removed at the end). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../include/wrr.h"
#include "common.h"

int main(int argc, char **argv)
{
    int weight = 0, opt;
    long long ms = 1000, burst = 200000, sleep_ms = 5;
    const char *name = "mixed", *file = NULL;
    char path[64];
    while ((opt = getopt(argc, argv, "w:t:b:s:f:n:")) != -1) {
        switch (opt) {
        case 'w': weight = atoi(optarg); break;
        case 't': ms = atoll(optarg); break;
        case 'b': burst = atoll(optarg); break;
        case 's': sleep_ms = atoll(optarg); break;
        case 'f': file = optarg; break;
        case 'n': name = optarg; break;
        default:
            fprintf(stderr, "usage: mixed [-w WEIGHT] [-t MS] [-b BURST] [-s SLEEP_MS] [-f FILE] [-n NAME]\n");
            return 2;
        }
    }
    if (weight && sched_setweight(0, weight) < 0) {
        fprintf(stderr, "%s: sched_setweight %d: %s\n", name, weight, strerror(errno));
        return 1;
    }
    if (!file) {
        snprintf(path, sizeof path, "/tmp/mixed.%d", getpid());
        file = path;
    }
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "%s: open %s: %s\n", name, file, strerror(errno));
        return 1;
    }
    /* The echo child: reads a byte, writes it back, until EOF. */
    int to[2], from[2];
    if (pipe(to) < 0 || pipe(from) < 0) {
        perror("pipe");
        return 1;
    }
    pid_t echo = fork();
    if (echo == 0) {
        close(to[1]);
        close(from[0]);
        char c;
        while (read(to[0], &c, 1) == 1)
            if (write(from[1], &c, 1) != 1)
                break;
        _exit(0);
    }
    close(to[0]);
    close(from[1]);
    long long start = now_ms();
    unsigned long rounds = 0, bytes = 0, echoed = 0;
    volatile unsigned long long x = 1;
    char line[128];
    while (now_ms() - start < ms) {
        for (long long i = 0; i < burst; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int n = snprintf(line, sizeof line, "round %lu x %llu\n", rounds, x);
        if (write(fd, line, n) == n)
            bytes += n;
        char c = (char)rounds, back = 0;
        if (write(to[1], &c, 1) == 1 && read(from[0], &back, 1) == 1 && back == c)
            echoed++;
        struct timespec ts = { 0, sleep_ms * 1000000L };
        nanosleep(&ts, NULL);
        rounds++;
    }
    close(to[1]);
    waitpid(echo, NULL, 0);
    close(fd);
    if (file == path)
        unlink(path);
    printf("%s done: pid %d, weight %d, %lu rounds, %lu bytes written, %lu echoes, cpu time %lld ms\n",
           name, getpid(), sched_getweight(0), rounds, bytes, echoed, cpu_ms());
    return rounds == echoed ? 0 : 1;
}
