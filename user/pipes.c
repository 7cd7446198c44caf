/* Pipes, eventfds and poll, compared with qemu-riscv64: a pipe between
 * parent and child with EOF on close, EPIPE with SIGPIPE (to a handler,
 * and the default death), PIPE_BUF atomicity with several writers,
 * O_NONBLOCK's EAGAIN and the pipe's capacity, F_GETPIPE_SZ/F_SETPIPE_SZ,
 * poll/ppoll/select on pipes with timeouts, eventfd counters and
 * semaphores, signals interrupting blocked reads and writes, dup3/fcntl,
 * fstat and /proc/self/fd of a pipe, 1 MiB through a pipe between two
 * processes, and a read into a copy-on-write buffer after fork. Every
 * line printed is the same on Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static volatile sig_atomic_t got_sig, got_code, got_pid;

static void on_sig(int s, siginfo_t *si, void *uc)
{
    (void)uc;
    got_sig = s;
    got_code = si->si_code;
    got_pid = si->si_pid;
}

static void handle(int sig, int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | flags;
    sigaction(sig, &sa, 0);
}

static void msleep(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Read until EOF or n bytes. */
static ssize_t read_all(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 && got == 0 ? -1 : (ssize_t)got;
        got += r;
    }
    return got;
}

static int wait_status(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return st;
}

static void parent_child(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        const char *msg = "hello through a pipe";
        write(p[1], msg, strlen(msg));
        _exit(7);
    }
    close(p[1]);
    char buf[64] = {0};
    ssize_t n = read_all(p[0], buf, sizeof buf - 1);
    printf("parent read %zd bytes: %s\n", n, buf);
    ssize_t r = read(p[0], buf, sizeof buf);
    printf("after the writer closed: read returns %zd\n", r);
    int st = wait_status(c);
    printf("child exit %d\n", WEXITSTATUS(st));
    close(p[0]);
}

static void epipe(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);
    handle(SIGPIPE, 0);
    got_sig = 0;
    ssize_t r = write(p[1], "x", 1);
    int e = errno;
    printf("write without readers: %zd %s, handler got %s, si_code %s, si_pid is me %d\n", r,
           errname(e), got_sig == SIGPIPE ? "SIGPIPE" : "nothing",
           got_code == SI_USER ? "SI_USER" : "other", got_pid == getpid());
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);
    /* The default action: the writer dies of SIGPIPE. */
    CHECK(pipe(p) == 0);
    pid_t c = fork();
    if (c == 0) {
        /* Until the parent's read end is gone too (a full pipe waits). */
        close(p[0]);
        for (;;)
            write(p[1], "x", 1);
    }
    close(p[0]);
    close(p[1]);
    int st = wait_status(c);
    printf("default SIGPIPE: signaled %d sig %d core %d\n", WIFSIGNALED(st), WTERMSIG(st),
           WCOREDUMP(st) ? 1 : 0);
    /* SIGPIPE ignored: EPIPE only. */
    signal(SIGPIPE, SIG_IGN);
    CHECK(pipe(p) == 0);
    close(p[0]);
    r = write(p[1], "x", 1);
    printf("ignored SIGPIPE: %zd %s\n", r, errname(errno));
    close(p[1]);
    signal(SIGPIPE, SIG_DFL);
}

/* Several writers, records of `rec` bytes each made of one letter: with
 * rec <= PIPE_BUF no record is ever split by another writer's. */
static void atomicity(int rec, int writers, int per)
{
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t kids[8];
    for (int w = 0; w < writers; w++) {
        kids[w] = fork();
        if (kids[w] == 0) {
            close(p[0]);
            char *b = malloc(rec);
            memset(b, 'a' + w, rec);
            for (int i = 0; i < per; i++)
                if (write(p[1], b, rec) != rec)
                    _exit(1);
            _exit(0);
        }
    }
    close(p[1]);
    char *b = malloc(rec);
    int records = 0, mixed = 0, counts[8] = {0};
    for (;;) {
        ssize_t n = read_all(p[0], b, rec);
        if (n <= 0)
            break;
        if (n != rec) {
            mixed++;
            break;
        }
        records++;
        int ok = b[0] >= 'a' && b[0] < 'a' + writers;
        for (int i = 1; i < rec && ok; i++)
            ok = b[i] == b[0];
        if (!ok)
            mixed++;
        else
            counts[b[0] - 'a']++;
    }
    int all = 1;
    for (int w = 0; w < writers; w++) {
        int st = wait_status(kids[w]);
        all &= WIFEXITED(st) && WEXITSTATUS(st) == 0 && counts[w] == per;
    }
    printf("%d writers of %d-byte records: %d records, %d mixed, each writer's all there %d\n",
           writers, rec, records, mixed, all);
    free(b);
    close(p[0]);
}

static void nonblock(void)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    char buf[4096];
    ssize_t r = read(p[0], buf, 1);
    printf("empty O_NONBLOCK read: %zd %s\n", r, errname(errno));
    printf("F_GETFL: read end %#x write end %#x\n", fcntl(p[0], F_GETFL), fcntl(p[1], F_GETFL));
    memset(buf, 'z', sizeof buf);
    long total = 0;
    while ((r = write(p[1], buf, sizeof buf)) > 0)
        total += r;
    printf("filled with 4096-byte writes: %ld, then %s\n", total, errname(errno));
    r = write(p[1], buf, 1);
    printf("one more byte: %zd %s\n", r, errname(errno));
    int avail = -1;
    ioctl(p[0], FIONREAD, &avail);
    printf("FIONREAD %d\n", avail);
    close(p[0]);
    close(p[1]);
    /* Small writes share pages: 1000-byte writes fit four to a page. */
    CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    printf("FD_CLOEXEC %d\n", fcntl(p[0], F_GETFD) & FD_CLOEXEC);
    total = 0;
    while ((r = write(p[1], buf, 1000)) > 0)
        total += r;
    printf("filled with 1000-byte writes: %ld\n", total);
    /* Reading a page's worth makes room for one more page. */
    r = read(p[0], buf, 4000);
    r = write(p[1], buf, 4096);
    printf("after reading 4000: a 4096-byte write gives %zd\n", r);
    close(p[0]);
    close(p[1]);
    /* A big non-blocking write into an empty pipe is partial. */
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    char *big = calloc(1, 100000);
    r = write(p[1], big, 100000);
    printf("100000 bytes into an empty O_NONBLOCK pipe: %zd\n", r);
    /* F_SETFL clears O_NONBLOCK. */
    fcntl(p[0], F_SETFL, 0);
    printf("F_GETFL after F_SETFL 0: %#x\n", fcntl(p[0], F_GETFL));
    free(big);
    close(p[0]);
    close(p[1]);
    int r2 = pipe2(p, O_APPEND);
    printf("pipe2(O_APPEND): %d %s\n", r2, errname(errno));
}

static void pipe_size(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    printf("F_GETPIPE_SZ %d\n", fcntl(p[0], F_GETPIPE_SZ));
    printf("F_SETPIPE_SZ 100000 -> %d\n", fcntl(p[1], F_SETPIPE_SZ, 100000));
    printf("F_GETPIPE_SZ %d\n", fcntl(p[0], F_GETPIPE_SZ));
    printf("F_SETPIPE_SZ 0 -> %d\n", fcntl(p[1], F_SETPIPE_SZ, 0));
    char buf[8192];
    memset(buf, 1, sizeof buf);
    fcntl(p[1], F_SETPIPE_SZ, 65536);
    write(p[1], buf, 8192);
    int r = fcntl(p[1], F_SETPIPE_SZ, 4096);
    printf("shrink below the data: %d %s\n", r, errname(errno));
    r = fcntl(p[1], F_SETPIPE_SZ, 8192);
    printf("shrink to the data: %d\n", r);
    r = fcntl(p[1], F_SETPIPE_SZ, 0x80000001u);
    printf("past 2 GiB: %d %s\n", r, errname(errno));
    r = fcntl(1 + p[1] + 10, F_GETPIPE_SZ);
    printf("bad fd: %d %s\n", r, errname(errno));
    int fd = open("/proc/self/exe", O_RDONLY);
    r = fcntl(fd, F_GETPIPE_SZ);
    printf("not a pipe: %d %s\n", r, errname(errno));
    close(fd);
    close(p[0]);
    close(p[1]);
}

static void polling(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    struct pollfd fds[4] = {{p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {-1, POLLIN, 0}, {99, POLLIN, 0}};
    int n = poll(fds, 4, 0);
    printf("poll empty pipe: %d revents %#x %#x %#x %#x\n", n, fds[0].revents, fds[1].revents,
           fds[2].revents, fds[3].revents);
    n = poll(fds, 1, 50);
    printf("poll read end, 50 ms: %d\n", n);
    write(p[1], "ab", 2);
    n = poll(fds, 2, 1000);
    printf("after a write: %d revents %#x %#x\n", n, fds[0].revents, fds[1].revents);
    close(p[1]);
    fds[0].events = POLLIN;
    n = poll(fds, 1, 1000);
    printf("writer closed, data left: %d revents %#x\n", n, fds[0].revents);
    char b[2];
    read(p[0], b, 2);
    n = poll(fds, 1, 1000);
    printf("writer closed, empty: %d revents %#x\n", n, fds[0].revents);
    close(p[0]);
    CHECK(pipe(p) == 0);
    close(p[0]);
    struct pollfd w = {p[1], POLLOUT, 0};
    n = poll(&w, 1, 0);
    printf("reader closed: %d revents %#x\n", n, w.revents);
    close(p[1]);
    /* Sleep in poll until a child writes. */
    CHECK(pipe(p) == 0);
    pid_t c = fork();
    if (c == 0) {
        msleep(100);
        write(p[1], "!", 1);
        _exit(0);
    }
    struct pollfd r = {p[0], POLLIN, 0};
    n = poll(&r, 1, 10000);
    printf("woken by the child's write: %d revents %#x\n", n, r.revents);
    wait_status(c);
    read(p[0], b, 1);
    /* ppoll: the time left is written back. */
    struct timespec ts = {0, 30000000};
    n = ppoll(&r, 1, &ts, 0);
    printf("ppoll 30 ms: %d, time left 0: %d\n", n, ts.tv_sec == 0 && ts.tv_nsec == 0);
    ts.tv_nsec = -1;
    n = ppoll(&r, 1, &ts, 0);
    printf("ppoll bad timeout: %d %s\n", n, errname(errno));
    /* ppoll's mask lets a blocked signal in for the call only. */
    handle(SIGUSR1, 0);
    sigset_t m, old, none;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigprocmask(SIG_BLOCK, &m, &old);
    raise(SIGUSR1);
    got_sig = 0;
    sigemptyset(&none);
    ts.tv_sec = 5;
    ts.tv_nsec = 0;
    n = ppoll(&r, 1, &ts, &none);
    int e = errno;
    sigset_t now;
    sigprocmask(SIG_BLOCK, 0, &now);
    printf("ppoll with a pending signal let in: %d %s handler %d, mask back %d\n", n, errname(e),
           got_sig == SIGUSR1, sigismember(&now, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, 0);
    /* select on both ends. */
    fd_set rd, wr;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_SET(p[0], &rd);
    FD_SET(p[1], &wr);
    struct timeval tv = {1, 0};
    n = select(p[1] + 1, &rd, &wr, 0, &tv);
    printf("select: %d read %d write %d\n", n, FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr));
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    tv.tv_sec = 0;
    tv.tv_usec = 20000;
    n = select(p[0] + 1, &rd, 0, 0, &tv);
    printf("select timeout: %d read %d\n", n, FD_ISSET(p[0], &rd));
    FD_ZERO(&rd);
    FD_SET(60, &rd);
    n = select(61, &rd, 0, 0, &tv);
    printf("select on a closed fd: %d %s\n", n, errname(errno));
    struct timespec pts = {0, 0};
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    write(p[1], "x", 1);
    n = pselect(p[0] + 1, &rd, 0, 0, &pts, &none);
    printf("pselect: %d read %d\n", n, FD_ISSET(p[0], &rd));
    close(p[0]);
    close(p[1]);
    /* A regular file and /dev/null are always ready. */
    int fd = open("/dev/null", O_RDWR);
    struct pollfd d = {fd, POLLIN | POLLOUT, 0};
    n = poll(&d, 1, 0);
    printf("/dev/null: %d revents %#x\n", n, d.revents);
    close(fd);
    fd = open("/proc/self/exe", O_RDONLY);
    d.fd = fd;
    n = poll(&d, 1, 0);
    printf("regular file: %d revents %#x\n", n, d.revents);
    close(fd);
}

static void eventfds(void)
{
    int e = eventfd(3, 0);
    uint64_t v = 4;
    write(e, &v, 8);
    read(e, &v, 8);
    printf("eventfd 3 + 4: read %llu\n", (unsigned long long)v);
    int fl = fcntl(e, F_GETFL);
    fcntl(e, F_SETFL, fl | O_NONBLOCK);
    ssize_t r = read(e, &v, 8);
    printf("empty non-blocking read: %zd %s\n", r, errname(errno));
    r = read(e, &v, 4);
    printf("4-byte read: %zd %s\n", r, errname(errno));
    v = UINT64_MAX;
    r = write(e, &v, 8);
    printf("write of 2^64-1: %zd %s\n", r, errname(errno));
    v = UINT64_MAX - 1;
    r = write(e, &v, 8);
    v = 1;
    ssize_t r2 = write(e, &v, 8);
    printf("write up to the max: %zd, one more: %zd %s\n", r, r2, errname(errno));
    struct pollfd pf = {e, POLLIN | POLLOUT, 0};
    poll(&pf, 1, 0);
    printf("full eventfd poll: %#x\n", pf.revents);
    close(e);
    e = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    printf("F_GETFD %d F_GETFL %#x\n", fcntl(e, F_GETFD), fcntl(e, F_GETFL));
    uint64_t a = 0, b = 0;
    read(e, &a, 8);
    read(e, &b, 8);
    r = read(e, &v, 8);
    printf("semaphore: %llu %llu then %zd %s\n", (unsigned long long)a, (unsigned long long)b, r,
           errname(errno));
    close(e);
    printf("bad flags: %d %s\n", eventfd(0, 0x100), errname(errno));
    /* A blocking read woken by a child's write. */
    e = eventfd(0, 0);
    pid_t c = fork();
    if (c == 0) {
        msleep(50);
        uint64_t one = 5;
        write(e, &one, 8);
        _exit(0);
    }
    v = 0;
    r = read(e, &v, 8);
    printf("blocking read woken: %zd value %llu\n", r, (unsigned long long)v);
    wait_status(c);
    close(e);
}

static void interrupted(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    handle(SIGALRM, 0);
    /* A write bigger than the pipe, with nobody reading: the signal ends
     * it with the bytes that went in. */
    size_t big = 200000;
    char *buf = calloc(1, big);
    alarm(1);
    ssize_t r = write(p[1], buf, big);
    printf("write interrupted after filling the pipe: %zd\n", r);
    /* An empty pipe's read without SA_RESTART: EINTR. */
    char b[16];
    CHECK(read(p[0], buf, big) == 65536);
    alarm(1);
    r = read(p[0], b, sizeof b);
    printf("read interrupted: %zd %s\n", r, errname(errno));
    /* With SA_RESTART the read goes on and gets the child's byte. */
    handle(SIGALRM, SA_RESTART);
    pid_t c = fork();
    if (c == 0) {
        msleep(1500);
        write(p[1], "R", 1);
        _exit(0);
    }
    alarm(1);
    got_sig = 0;
    r = read(p[0], b, sizeof b);
    printf("SA_RESTART read: %zd %c, handler ran %d\n", r, r > 0 ? b[0] : '-', got_sig == SIGALRM);
    wait_status(c);
    free(buf);
    close(p[0]);
    close(p[1]);
}

static void dups(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    int r = dup3(p[0], p[0], 0);
    printf("dup3 same fd: %d %s\n", r, errname(errno));
    r = dup3(p[0], 50, 0x4000);
    printf("dup3 bad flags: %d %s\n", r, errname(errno));
    printf("dup2 same fd: %d\n", dup2(p[0], p[0]) == p[0]);
    r = dup3(p[1], 50, O_CLOEXEC);
    printf("dup3 to 50: %d FD_CLOEXEC %d\n", r, fcntl(50, F_GETFD));
    int d = fcntl(p[1], F_DUPFD_CLOEXEC, 40);
    printf("F_DUPFD_CLOEXEC from 40: %d FD_CLOEXEC %d\n", d, fcntl(d, F_GETFD));
    fcntl(d, F_SETFD, 0);
    printf("F_SETFD 0: %d\n", fcntl(d, F_GETFD));
    close(p[1]);
    /* The write end is still open through 50 and d. */
    write(50, "A", 1);
    write(d, "B", 1);
    close(50);
    close(d);
    char b[4] = {0};
    ssize_t n = read_all(p[0], b, 3);
    printf("through the dups: %zd %s\n", n, b);
    close(p[0]);
    printf("F_GETFD of a closed fd: %d %s\n", fcntl(50, F_GETFD), errname(errno));
}

static void identity(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    struct stat a, b;
    fstat(p[0], &a);
    fstat(p[1], &b);
    printf("fstat: FIFO %d %d, same inode %d, mode %o, size %lld, nlink %d\n", S_ISFIFO(a.st_mode),
           S_ISFIFO(b.st_mode), a.st_ino == b.st_ino, (unsigned)(a.st_mode & 07777),
           (long long)a.st_size, (int)a.st_nlink);
    char path[64], link[64] = {0}, want[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    ssize_t n = readlink(path, link, sizeof link - 1);
    snprintf(want, sizeof want, "pipe:[%llu]", (unsigned long long)a.st_ino);
    printf("readlink /proc/self/fd: %d\n", n > 0 && strcmp(link, want) == 0);
    printf("lseek: %lld %s\n", (long long)lseek(p[0], 0, SEEK_CUR), errname(errno));
    char c;
    printf("pread: %zd %s\n", pread(p[0], &c, 1, 0), errname(errno));
    printf("wrong direction: read of the write end %zd %s\n", read(p[1], &c, 1), errname(errno));
    /* The pipe lives as long as one end does, through fork. */
    pid_t k = fork();
    if (k == 0) {
        close(p[0]);
        write(p[1], "from the child's copy", 21);
        _exit(0);
    }
    close(p[1]);
    char buf[32] = {0};
    n = read_all(p[0], buf, sizeof buf - 1);
    printf("child's copy of the write end: %zd %s\n", n, buf);
    wait_status(k);
    close(p[0]);
}

/* Named FIFOs: mkfifo, the open rules, a blocking open meeting its
 * partner across fork, and a blocked open interrupted by a signal. */
static void fifos(void)
{
    char name[64];
    snprintf(name, sizeof name, "pipes-fifo-%d.tmp", (int)getpid());
    unlink(name);
    printf("mkfifo: %d\n", mkfifo(name, 0640));
    struct stat st;
    stat(name, &st);
    printf("stat: FIFO %d mode %o\n", S_ISFIFO(st.st_mode), (unsigned)(st.st_mode & 0777));
    int r = mkfifo(name, 0600);
    printf("mkfifo again: %d %s\n", r, errname(errno));
    int w = open(name, O_WRONLY | O_NONBLOCK);
    printf("O_WRONLY|O_NONBLOCK without a reader: %d %s\n", w, errname(errno));
    r = open(name, O_RDONLY | O_NONBLOCK);
    printf("O_RDONLY|O_NONBLOCK: %d\n", r >= 0);
    w = open(name, O_WRONLY | O_NONBLOCK);
    printf("then a writer: %d\n", w >= 0);
    write(w, "fifo!", 5);
    char b[32] = {0};
    ssize_t n = read(r, b, sizeof b - 1);
    printf("through the FIFO: %zd %s\n", n, b);
    struct stat fs;
    fstat(r, &fs);
    printf("fstat: FIFO %d same inode %d\n", S_ISFIFO(fs.st_mode), fs.st_ino == st.st_ino);
    printf("F_GETPIPE_SZ %d\n", fcntl(r, F_GETPIPE_SZ));
    close(w);
    close(r);
    /* A blocking reader's open waits for the writer's. */
    pid_t c = fork();
    if (c == 0) {
        msleep(100);
        int fd = open(name, O_WRONLY);
        write(fd, "from the child", 14);
        close(fd);
        _exit(0);
    }
    r = open(name, O_RDONLY);
    memset(b, 0, sizeof b);
    n = read_all(r, b, sizeof b - 1);
    printf("blocking open met the writer: %d, read %zd %s, then EOF %zd\n", r >= 0, n, b,
           read(r, b, 1));
    wait_status(c);
    close(r);
    /* A blocking writer's open waits for the reader's. */
    c = fork();
    if (c == 0) {
        msleep(100);
        int fd = open(name, O_RDONLY);
        char x[4] = {0};
        read_all(fd, x, 3);
        _exit(strcmp(x, "abc") == 0 ? 0 : 1);
    }
    w = open(name, O_WRONLY);
    write(w, "abc", 3);
    close(w);
    printf("blocking writer open: child read it %d\n", WEXITSTATUS(wait_status(c)) == 0);
    int rw = open(name, O_RDWR);
    printf("O_RDWR does not wait: %d\n", rw >= 0);
    close(rw);
    handle(SIGALRM, 0);
    alarm(1);
    r = open(name, O_RDONLY);
    printf("open interrupted: %d %s\n", r, errname(errno));
    printf("unlink: %d\n", unlink(name));
}

/* read() into a copy-on-write page after fork: the kernel's copy breaks
 * the sharing, and the reader's own loads (whose TLB held the shared
 * page) then see the new bytes while the other process keeps the old. */
static char cow_buf[4096] __attribute__((aligned(4096)));

static void cow_read(void)
{
    memset(cow_buf, 'A', sizeof cow_buf);
    int p[2];
    CHECK(pipe(p) == 0);
    pid_t c = fork();
    if (c == 0) {
        volatile char before = cow_buf[0]; /* the shared page, in the TLB */
        char n = 0;
        if (read(p[0], cow_buf, 5) != 5)
            _exit(2);
        n = cow_buf[0];
        _exit(before == 'A' && n == 'h' && memcmp(cow_buf, "hello", 5) == 0 &&
                      cow_buf[5] == 'A'
                  ? 0
                  : 1);
    }
    volatile char mine = cow_buf[0];
    CHECK(write(p[1], "hello", 5) == 5);
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    printf("cow read: child saw the bytes read into its copy: %d, parent kept its own: %d\n",
           WIFEXITED(st) && WEXITSTATUS(st) == 0, mine == 'A' && cow_buf[0] == 'A');
    close(p[0]);
    close(p[1]);
}

/* 1 MiB from a child to the parent in odd-sized pieces. */
static void megabyte(void)
{
    int p[2];
    CHECK(pipe(p) == 0);
    const size_t total = 1 << 20;
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        char buf[7777];
        size_t sent = 0;
        while (sent < total) {
            size_t k = total - sent < sizeof buf ? total - sent : sizeof buf;
            for (size_t i = 0; i < k; i++)
                buf[i] = (char)((sent + i) * 131 % 251);
            ssize_t w = write(p[1], buf, k);
            if (w <= 0)
                _exit(1);
            sent += w;
        }
        _exit(0);
    }
    close(p[1]);
    char buf[5000];
    size_t got = 0, bad = 0;
    uint32_t sum = 0;
    for (;;) {
        ssize_t r = read(p[0], buf, sizeof buf);
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != (char)((got + i) * 131 % 251))
                bad++;
            sum = sum * 31 + (unsigned char)buf[i];
        }
        got += r;
    }
    int st = wait_status(c);
    printf("1 MiB through a pipe: %zu bytes, %zu wrong, sum %08x, writer exit %d\n", got, bad, sum,
           WEXITSTATUS(st));
    close(p[0]);
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    parent_child();
    epipe();
    atomicity(4096, 4, 200);
    atomicity(1000, 3, 300);
    nonblock();
    pipe_size();
    polling();
    eventfds();
    interrupted();
    dups();
    identity();
    fifos();
    megabyte();
    cow_read();
    return check_exit("pipes");
}
