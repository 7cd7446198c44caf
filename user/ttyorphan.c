/* A background process group that becomes orphaned reads its terminal:
 * EIO (Linux's tty_check_change / job_control: an orphaned group would
 * never be continued, so it is not stopped by SIGTTIN), and a terminal
 * change (tcsetattr) gets EIO too. Run from an interactive shell on a
 * terminal (crates/ferrite/tests/busybox.rs): the child makes its own
 * group, its parent exits, init (the shell, pid 1) adopts it. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
    pid_t c = fork();
    if (c > 0)
        return 0; /* the parent goes: the child's group is orphaned */
    setpgid(0, 0);
    for (int i = 0; i < 2000 && getppid() != 1; i++)
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
    return 0;
}
