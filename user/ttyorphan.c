/* An orphaned background process group and its controlling terminal
 * (ferrite only: run as init on a terminal by
 * crates/ferrite/tests/busybox.rs). A process A starts a session and takes
 * the terminal (ferrite gives a terminal to the first session that uses
 * it; Linux would need TIOCSCTTY), with its group in the foreground. Its
 * child C makes a group of its own (background); A exits, so C's group is
 * orphaned (C's new parent, init, is in another session). C's terminal
 * read and tcsetattr then fail with EIO instead of stopping it by
 * SIGTTIN/SIGTTOU (an orphaned group would never be continued). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
    pid_t a = fork();
    if (a == 0) {
        setsid();
        tcgetpgrp(0); /* the terminal is this session's now */
        pid_t c = fork();
        if (c > 0) {
            usleep(20000);
            _exit(0); /* C's group is orphaned when A goes */
        }
        setpgid(0, 0);
        pid_t parent = getppid();
        for (int i = 0; i < 2000 && getppid() == parent; i++)
            usleep(1000);
        char b;
        errno = 0;
        ssize_t n = read(0, &b, 1);
        printf("orphan read: %zd %s\n", n, n < 0 ? strerror(errno) : "");
        struct termios t;
        tcgetattr(0, &t);
        errno = 0;
        int r = tcsetattr(0, TCSANOW, &t);
        printf("orphan tcsetattr: %d %s\n", r, r < 0 ? strerror(errno) : "");
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(a, &st, 0);
    /* C comes to us (init) when A exits. */
    while (wait(&st) > 0)
        ;
    return 0;
}
