/* ETXTBSY as Linux gives it: opening the running program for writing,
 * and executing a file that is open for writing; both work again once
 * the other side is gone. Run in a root holding it as /etx (qemu-user
 * does not execute through the kernel, so it cannot show this). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc > 1) {
        printf("copy runs\n");
        return 0;
    }
    int fd = open("/etx", O_WRONLY);
    printf("open running program for writing: %s\n", fd < 0 ? strerror(errno) : "ok");
    /* A copy of the program, still open for writing. */
    int in = open("/etx", O_RDONLY);
    int out = open("/copy", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    char *args[] = {"copy", "x", 0};
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) {
        execv("/copy", args);
        printf("exec of a file open for writing: %s\n", strerror(errno));
        fflush(stdout);
        _exit(1);
    }
    int st;
    waitpid(p, &st, 0);
    close(out);
    fflush(stdout);
    p = fork();
    if (p == 0) {
        execv("/copy", args);
        _exit(1);
    }
    waitpid(p, &st, 0);
    printf("after close: status %d\n", WEXITSTATUS(st));
    unlink("/copy");
    return 0;
}
