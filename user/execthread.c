/* execve from a thread that is not the group leader (fs/exec.c de_thread):
 * the exec'ing thread takes the process id as its thread id, the old
 * leader is released (its /proc entry and the thread's old id are gone),
 * the start time is the process's, the process keeps its parent (which
 * reaps it with its exit status) and its children (which it reaps).
 * Output is deterministic; qemu-user cannot exec a riscv64 program, so the
 * oracle is the same program run natively. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* Field 22 of /proc/self/stat. */
static unsigned long long starttime(void)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p += 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    return strtoull(p, 0, 10);
}

static char grandchild[16], old_tid[16], start[32];

static void *exec_thread(void *arg)
{
    (void)arg;
    snprintf(old_tid, sizeof old_tid, "%d", (int)gettid_());
    snprintf(start, sizeof start, "%llu", starttime());
    execl("/proc/self/exe", "execthread", "after", old_tid, start, grandchild, (char *)0);
    perror("execl");
    _exit(99);
}

static int after(char **argv)
{
    pid_t pid = getpid();
    pid_t tid = gettid_();
    printf("after exec: tid == pid: %s\n", tid == pid ? "yes" : "no");
    printf("old thread id differs from pid: %s\n", atoi(argv[2]) != pid ? "yes" : "no");
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%s", argv[2]);
    printf("/proc/OLDTID: %s\n", stat(path, &st) == 0 ? "exists" : errname(errno));
    snprintf(path, sizeof path, "/proc/%d/task/%s", (int)pid, argv[2]);
    printf("/proc/PID/task/OLDTID: %s\n", stat(path, &st) == 0 ? "exists" : errname(errno));
    int threads = 0, self = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        threads++;
        self += atoi(e->d_name) == pid;
    }
    if (d)
        closedir(d);
    printf("threads: %d, the one is PID: %s\n", threads, self ? "yes" : "no");
    printf("start time kept: %s\n", strtoull(argv[3], 0, 10) == starttime() ? "yes" : "no");
    /* The child forked before the exec is still ours. */
    pid_t gc = atoi(argv[4]);
    int s;
    printf("reaped the child: %s\n", waitpid(gc, &s, 0) == gc ? "yes" : "no");
    printf("child status: %d\n", WIFEXITED(s) ? WEXITSTATUS(s) : -1);
    fflush(stdout);
    return 42;
}

int main(int argc, char **argv)
{
    if (argc > 4 && strcmp(argv[1], "after") == 0)
        return after(argv);
    /* A process of its own, reaped below with its exit status. */
    pid_t p = fork();
    if (p == 0) {
        pid_t gc = fork();
        if (gc == 0) {
            usleep(50000);
            _exit(7);
        }
        snprintf(grandchild, sizeof grandchild, "%d", (int)gc);
        pthread_t t;
        pthread_create(&t, 0, exec_thread, 0);
        for (;;)
            pause();
    }
    int s;
    CHECK_EQ(waitpid(p, &s, 0), p);
    printf("parent reaped the process: status %d\n", WIFEXITED(s) ? WEXITSTATUS(s) : -1);
    errno = 0;
    printf("no other child: %s\n", waitpid(-1, &s, WNOHANG) < 0 ? errname(errno) : "one left");
    return check_exit("execthread");
}
