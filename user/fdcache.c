/* Descriptors reused right after the table changed, compared with
 * qemu-riscv64: a read or write always goes to the file the descriptor
 * names now. ferrite keeps the files of a task's last reads and writes
 * (syscall/file.rs FdCache); these are the cases that must not see a
 * stale one: close, dup2 over a descriptor, a pipe's last writer closing
 * (EOF), fork, and a thread closing a descriptor the other one used. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static int shared_fd;

static void *closer(void *arg)
{
    (void)arg;
    close(shared_fd);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    int a[2], b[2], st0;
    char c;
    CHECK(pipe(a) == 0 && pipe(b) == 0);

    /* Used, then closed: EBADF. */
    CHECK(write(a[1], "x", 1) == 1);
    CHECK(read(a[0], &c, 1) == 1);
    close(a[1]);
    errno = 0;
    printf("write to a closed descriptor: %zd %s\n", write(a[1], "y", 1), errname(errno));
    printf("read after the last writer closed: %zd\n", read(a[0], &c, 1));

    /* The writer closes its end right after writing: the reader in
     * another process gets the byte, then end of file. */
    int e[2];
    CHECK(pipe(e) == 0);
    pid_t rd = fork();
    if (rd == 0) {
        close(e[1]);
        char x;
        ssize_t n1 = read(e[0], &x, 1), n2 = read(e[0], &x, 1);
        _exit(n1 == 1 && n2 == 0 ? 0 : 1);
    }
    close(e[0]);
    CHECK(write(e[1], "e", 1) == 1);
    close(e[1]);
    CHECK(waitpid(rd, &st0, 0) == rd);
    printf("reader in another process saw the byte, then EOF: %d\n",
           WIFEXITED(st0) && WEXITSTATUS(st0) == 0);

    /* dup2 over a descriptor that was just written: the new file. */
    CHECK(write(b[1], "1", 1) == 1);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(dup2(p[1], b[1]) == b[1]);
    CHECK(write(b[1], "2", 1) == 1);
    char got[2] = { 0, 0 };
    CHECK(read(p[0], &got[0], 1) == 1);
    CHECK(read(b[0], &got[1], 1) == 1);
    printf("after dup2 the write went to the new pipe: %c, the old one kept: %c\n", got[0], got[1]);

    /* fork: the child's own close does not touch the parent's table. */
    pid_t ch = fork();
    if (ch == 0) {
        close(p[0]);
        _exit(read(p[0], &c, 1) == -1 && errno == EBADF ? 0 : 1);
    }
    int st;
    CHECK(waitpid(ch, &st, 0) == ch);
    CHECK(write(p[1], "3", 1) == 1);
    printf("child closed its copy: %d, parent still reads: %zd\n",
           WIFEXITED(st) && WEXITSTATUS(st) == 0, read(p[0], &c, 1));

    /* A thread closes a descriptor this thread read from a moment ago. */
    int q[2];
    CHECK(pipe(q) == 0);
    CHECK(write(q[1], "zz", 2) == 2);
    CHECK(read(q[0], &c, 1) == 1);
    shared_fd = q[0];
    pthread_t t;
    CHECK(pthread_create(&t, NULL, closer, NULL) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    errno = 0;
    printf("read of a descriptor another thread closed: %zd %s\n", read(q[0], &c, 1),
           errname(errno));

    /* A number freed by close and taken by a new pipe: the new file. */
    int fd = open("/dev/null", O_WRONLY);
    CHECK(fd >= 0);
    CHECK(write(fd, "n", 1) == 1);
    close(fd);
    int r[2];
    CHECK(pipe(r) == 0);
    printf("a new pipe took the freed numbers: %d\n", r[0] == fd || r[1] == fd);
    int w = r[1] == fd ? r[1] : r[0] == fd ? r[0] : -1;
    if (w == r[1]) {
        CHECK(write(w, "p", 1) == 1);
        CHECK(read(r[0], &c, 1) == 1);
        printf("write through the reused number reached the pipe: %c\n", c);
    } else {
        errno = 0;
        printf("write through the reused number (a read end): %zd %s\n", write(w, "p", 1),
               errname(errno));
    }
    return check_exit("fdcache");
}
