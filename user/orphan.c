/* Orphaned process groups (POSIX; Linux's kill_orphaned_pgrp and
 * is_current_pgrp_orphaned). In a session of its own, a process B makes a
 * group, its child C stops there, and B exits:
 *   1. the group is orphaned and has a stopped member: C gets SIGHUP, then
 *      SIGCONT;
 *   2. in the orphaned group, SIGTSTP, SIGTTIN and SIGTTOU (default action)
 *      are discarded: C goes on;
 *   3. when C's new parent (a subreaper) is in another group of the same
 *      session, the group is not orphaned: nothing is sent, and SIGTSTP
 *      stops C.
 * The report goes through a pipe to the session leader, which prints it in
 * a fixed order. */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int out = -1;

static void say(const char *s) { (void)!write(out, s, strlen(s)); }

/* The handlers only record: Linux runs the handler of the later signal
 * first (it stacks a frame per pending signal before returning to user
 * mode), which is not what this program is about. */
static volatile sig_atomic_t got_hup, got_cont;
static void on_hup(int sig) { (void)sig; got_hup = 1; }
static void on_cont(int sig) { (void)sig; got_cont = 1; }

/* B: a group of its own with a stopped child C, then exit. */
static void run_b(int subreaper_case)
{
    if (setpgid(0, 0) != 0)
        _exit(10);
    pid_t c = fork();
    if (c == 0) {
        signal(SIGHUP, on_hup);
        signal(SIGCONT, on_cont);
        raise(SIGSTOP);
        /* Continued (by the orphaning, or by the session leader). */
        if (got_hup)
            say("C: SIGHUP\n");
        if (got_cont)
            say("C: SIGCONT\n");
        if (!subreaper_case) {
            /* Orphaned: the terminal stops are discarded. */
            raise(SIGTSTP);
            say("C: SIGTSTP discarded\n");
            kill(getpid(), SIGTTIN);
            say("C: SIGTTIN discarded\n");
            kill(getpid(), SIGTTOU);
            say("C: SIGTTOU discarded\n");
        } else {
            signal(SIGCONT, SIG_DFL);
            say("C: stopping on SIGTSTP\n");
            raise(SIGTSTP);
            say("C: continued after SIGTSTP\n");
        }
        _exit(0);
    }
    int st;
    if (waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st))
        _exit(11);
    /* A subreaper case: tell the leader who C is. */
    if (subreaper_case) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d\n", (int)c);
        (void)!write(out, buf, strlen(buf));
    }
    _exit(0);
}

static int read_all(int fd, char *buf, int max)
{
    int n = 0, r;
    while (n < max - 1 && (r = read(fd, buf + n, max - 1 - n)) > 0)
        n += r;
    buf[n] = 0;
    return n;
}

static void leader(int subreaper_case)
{
    int p[2];
    CHECK(pipe(p) == 0);
    out = p[1];
    if (subreaper_case)
        CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    pid_t b = fork();
    if (b == 0) {
        close(p[0]);
        run_b(subreaper_case);
    }
    int st;
    CHECK_EQ(waitpid(b, &st, 0), b);
    printf("B exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    if (!subreaper_case) {
        close(p[1]);
        char buf[512];
        read_all(p[0], buf, sizeof buf);
        printf("%s", buf);
        return;
    }
    /* C is ours now; the group is not orphaned (we are in the session,
     * in another group): no SIGHUP. Read C's pid, continue it and see it
     * stop on SIGTSTP. */
    char buf[512];
    int n = 0;
    while (n < (int)sizeof buf - 1 && read(p[0], buf + n, 1) == 1 && buf[n] != '\n')
        n++;
    buf[n] = 0;
    pid_t c = atoi(buf);
    usleep(100000);
    printf("C still stopped: %s\n", waitpid(c, &st, WNOHANG) == 0 ? "yes" : "no");
    kill(c, SIGCONT);
    CHECK_EQ(waitpid(c, &st, WUNTRACED), c);
    printf("C stopped by %s\n", WIFSTOPPED(st) && WSTOPSIG(st) == SIGTSTP ? "SIGTSTP" : "?");
    kill(c, SIGCONT);
    CHECK_EQ(waitpid(c, &st, 0), c);
    printf("C exited with %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    close(p[1]);
    read_all(p[0], buf, sizeof buf);
    printf("%s", buf);
}

int main(void)
{
    for (int subreaper_case = 0; subreaper_case < 2; subreaper_case++) {
        printf("-- %s\n", subreaper_case ? "subreaper in the session" : "orphaned");
        fflush(stdout);
        pid_t a = fork();
        if (a == 0) {
            /* A: a session of its own, so no terminal or outer group
             * takes part. */
            if (setsid() < 0)
                _exit(20);
            alarm(20);
            leader(subreaper_case);
            fflush(stdout);
            _exit(check_exit("orphan") ? 1 : 0);
        }
        int st;
        CHECK_EQ(waitpid(a, &st, 0), a);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    return check_exit("orphan");
}
