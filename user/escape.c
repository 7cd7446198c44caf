/* Attacks on the root directory (issue 8 §1), from inside the guest:
 * every way a guest used to reach a host file outside ferrite's --root.
 *
 *   escape OUTSIDE
 *
 * OUTSIDE is the host path of a directory next to the root holding a file
 * `passwd` that must stay unread (the test that runs this under
 * `ferrite run --root` checks its times and contents afterwards). Guest
 * symlinks name OUTSIDE by its host path: followed by the host instead of
 * in the guest's namespace, they would reach it. The root must hold
 * /passwd ("guest passwd\n").
 *
 * Without an argument it does nothing (exit 2): it creates and removes
 * /d, /e, /e2 and /loop*, so it must never run outside a throwaway root
 * (make check-qemu runs every program). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static const char *outside;

/* Read PATH (relative to DIRFD) whole; -errno on failure. Never the
 * host's secret. */
static int slurp(int dirfd, const char *path, char *buf, size_t size)
{
    int fd = openat(dirfd, path, O_RDONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -errno;
    buf[n] = 0;
    CHECK(strstr(buf, "HOST SECRET") == NULL);
    return (int)n;
}

/* The errno of a lookup that must fail. */
static const char *fails(int dirfd, const char *path)
{
    char buf[256];
    int r = slurp(dirfd, path, buf, sizeof buf);
    return r < 0 ? errname(-r) : "read";
}

static void show_link(const char *path)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) {
        printf("readlink %s: %s\n", path, errname(errno));
        return;
    }
    buf[n] = 0;
    printf("readlink %s: %s\n", path, buf);
    CHECK(strstr(buf, outside) == NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: escape OUTSIDE (run only in a throwaway root)\n");
        return 2;
    }
    outside = argv[1];
    char buf[PATH_MAX];

    /* 1. The working directory removed and replaced by a symlink. */
    CHECK(mkdir("/d", 0755) == 0);
    CHECK(chdir("/d") == 0);
    CHECK(rmdir("/d") == 0);
    CHECK(symlink(outside, "/d") == 0);
    printf("cwd replaced: open(passwd): %s\n", fails(AT_FDCWD, "passwd"));
    CHECK(getcwd(buf, sizeof buf) == NULL);
    printf("cwd replaced: getcwd: %s\n", errname(errno));
    CHECK(open("new", O_CREAT | O_WRONLY, 0644) < 0);
    printf("cwd replaced: creat(new): %s\n", errname(errno));
    CHECK(chdir("/") == 0);

    /* 2. A directory descriptor, its directory renamed and its name made
     * a symlink to outside. */
    CHECK(mkdir("/e", 0755) == 0);
    int m = open("/e/marker", O_CREAT | O_WRONLY, 0644);
    CHECK(m >= 0);
    close(m);
    int efd = open("/e", O_DIRECTORY | O_RDONLY);
    CHECK(efd >= 0);
    CHECK(rename("/e", "/e2") == 0);
    CHECK(symlink(outside, "/e") == 0);
    printf("dirfd swapped: openat(passwd): %s\n", fails(efd, "passwd"));
    printf("dirfd swapped: openat(marker): %s\n", fails(efd, "marker"));

    /* 3. fchdir to it. */
    CHECK(fchdir(efd) == 0);
    printf("fchdir: open(passwd): %s\n", fails(AT_FDCWD, "passwd"));
    CHECK(getcwd(buf, sizeof buf) != NULL);
    printf("fchdir: getcwd: %s\n", buf);
    show_link("/proc/self/cwd");
    snprintf(buf, sizeof buf, "/proc/self/fd/%d", efd);
    show_link(buf);
    printf("fchdir: /proc/self/cwd/marker: %s\n", fails(AT_FDCWD, "/proc/self/cwd/marker"));
    show_link("/proc/self/root");
    show_link("/proc/self/exe");
    /* The standard streams: a pipe as Linux names it, never a host path
     * (a stdout redirected to a host file outside the root is
     * "(unreachable)"). */
    for (int i = 0; i < 3; i++) {
        snprintf(buf, sizeof buf, "/proc/self/fd/%d", i);
        char l[PATH_MAX];
        ssize_t n = readlink(buf, l, sizeof l - 1);
        CHECK(n > 0);
        if (n <= 0)
            continue;
        l[n] = 0;
        CHECK(strstr(l, outside) == NULL);
        if (i == 1)
            printf("stdout: %s\n", strncmp(l, "pipe:[", 6) == 0 ? "pipe" : l);
    }

    /* 4. `..` chains, from the cwd and from the descriptor. */
    char up[PATH_MAX];
    up[0] = 0;
    for (int i = 0; i < 40; i++)
        strcat(up, "../");
    snprintf(buf, sizeof buf, "%spasswd", up);
    printf("dotdot: %s\n", fails(AT_FDCWD, buf) /* "read": the guest's */);
    snprintf(buf, sizeof buf, "%s%s/passwd", up, outside);
    printf("dotdot outside: %s\n", fails(efd, buf));

    /* 5. Symlink loops. */
    CHECK(symlink("loop2", "/loop1") == 0);
    CHECK(symlink("loop1", "/loop2") == 0);
    printf("loop: %s\n", fails(AT_FDCWD, "/loop1"));

    /* 6. PATH_MAX + 1 and an over-long name. */
    char longp[PATH_MAX + 2];
    memset(longp, '/', PATH_MAX + 1);
    longp[PATH_MAX + 1] = 0;
    printf("PATH_MAX+1: %s\n", fails(AT_FDCWD, longp));
    char name[NAME_MAX + 2];
    memset(name, 'n', NAME_MAX + 1);
    name[NAME_MAX + 1] = 0;
    printf("NAME_MAX+1: %s\n", fails(AT_FDCWD, name));

    close(efd);
    CHECK(unlink("/e") == 0);
    CHECK(unlink("/e2/marker") == 0);
    CHECK(rmdir("/e2") == 0);
    CHECK(unlink("/d") == 0);
    CHECK(unlink("/loop1") == 0);
    CHECK(unlink("/loop2") == 0);
    return check_exit("escape");
}
