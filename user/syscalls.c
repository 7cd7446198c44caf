/* File and process system calls, through glibc and raw syscall(). Works in
 * a scratch directory it creates in the current directory (and removes).
 * Prints names, errno names and booleans, never values that vary from run
 * to run or kernel to kernel (pids, times, inode numbers). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

static void expect(const char *what, int failed, int want)
{
    int e = failed ? errno : 0;
    printf("%s: %s\n", what, errname(e));
    if (e != want) {
        fflush(stdout);
        fprintf(stderr, "syscalls: %s: got %s, want %s\n", what, errname(e),
                errname(want));
        check_failures++;
    }
}

static void yesno(const char *what, int v)
{
    printf("%s: %s\n", what, v ? "yes" : "no");
    CHECK(v);
}


/* chmod, chown, utimensat, statfs on "data.txt" in the scratch directory
 * (the cwd). Raw syscalls where glibc would add checks of its own. */
static void attrs(void)
{
    struct stat st;
    int fd = open("data.txt", O_RDWR);
    expect("open data.txt", fd < 0, 0);
    expect("chmod 0600", chmod("data.txt", 0600) != 0, 0);
    stat("data.txt", &st);
    yesno("mode is 0600", (st.st_mode & 07777) == 0600 && S_ISREG(st.st_mode));
    expect("chmod 04755", chmod("data.txt", 04755) != 0, 0);
    stat("data.txt", &st);
    yesno("mode is 04755 (S_ISUID kept)", (st.st_mode & 07777) == 04755);
    expect("fchmod 02640", fchmod(fd, 02640) != 0, 0);
    fstat(fd, &st);
    yesno("mode is 02640", (st.st_mode & 07777) == 02640);
    expect("fchmodat 0644 (file type bits ignored)",
           syscall(SYS_fchmodat, AT_FDCWD, "data.txt", S_IFDIR | 0644) != 0, 0);
    stat("data.txt", &st);
    yesno("mode is 0644, still a file", (st.st_mode & 07777) == 0644 && S_ISREG(st.st_mode));
    expect("fchmodat of a missing file", syscall(SYS_fchmodat, AT_FDCWD, "missing", 0644) != 0,
           ENOENT);
    expect("fchmodat below a file", syscall(SYS_fchmodat, AT_FDCWD, "data.txt/x", 0644) != 0,
           ENOTDIR);
    expect("symlink soft", symlink("data.txt", "soft") != 0, 0);
    expect("fchmodat soft 0640", syscall(SYS_fchmodat, AT_FDCWD, "soft", 0640) != 0, 0);
    stat("data.txt", &st);
    yesno("the file's mode is 0640", (st.st_mode & 07777) == 0640);
    expect("fchmod bad fd", fchmod(999, 0644) != 0, EBADF);
    int pfd = open("data.txt", O_PATH);
    expect("fchmod O_PATH fd", fchmod(pfd, 0644) != 0, EBADF);
    expect("fchmodat dirfd not a directory",
           syscall(SYS_fchmodat, fd, "x", 0644) != 0, ENOTDIR);

    uid_t uid = getuid();
    gid_t gid = getgid();
    expect("fchownat to own uid and gid",
           syscall(SYS_fchownat, AT_FDCWD, "data.txt", uid, gid, 0) != 0, 0);
    expect("fchownat -1 -1", syscall(SYS_fchownat, AT_FDCWD, "data.txt", -1, -1, 0) != 0, 0);
    expect("fchown -1 gid", fchown(fd, -1, gid) != 0, 0);
    stat("data.txt", &st);
    yesno("owner is uid, gid", st.st_uid == uid && st.st_gid == gid);
    expect("fchownat AT_SYMLINK_NOFOLLOW",
           syscall(SYS_fchownat, AT_FDCWD, "soft", uid, -1, AT_SYMLINK_NOFOLLOW) != 0, 0);
    expect("fchownat AT_EMPTY_PATH on an O_PATH fd",
           syscall(SYS_fchownat, pfd, "", -1, gid, AT_EMPTY_PATH) != 0, 0);
    expect("fchownat empty path", syscall(SYS_fchownat, AT_FDCWD, "", uid, gid, 0) != 0, ENOENT);
    expect("fchownat bad flags",
           syscall(SYS_fchownat, AT_FDCWD, "data.txt", uid, gid, 0x8000) != 0, EINVAL);
    expect("fchownat of a missing file",
           syscall(SYS_fchownat, AT_FDCWD, "missing", uid, gid, 0) != 0, ENOENT);
    expect("fchown bad fd", fchown(999, uid, gid) != 0, EBADF);
    expect("fchown O_PATH fd", fchown(pfd, uid, gid) != 0, EBADF);

    struct timespec ts[2] = {{1000000000, 5}, {1000000001, 6}};
    expect("utimensat old times", syscall(SYS_utimensat, AT_FDCWD, "data.txt", ts, 0) != 0, 0);
    stat("data.txt", &st);
    yesno("times read back", st.st_atim.tv_sec == 1000000000 && st.st_atim.tv_nsec == 5 &&
                                 st.st_mtim.tv_sec == 1000000001 && st.st_mtim.tv_nsec == 6);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {1200000000, 0}};
    expect("utimensat UTIME_OMIT atime", syscall(SYS_utimensat, AT_FDCWD, "soft", omit, 0) != 0,
           0);
    stat("data.txt", &st);
    yesno("atime kept, mtime set",
          st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 1200000000);
    expect("utimensat NULL times", syscall(SYS_utimensat, AT_FDCWD, "data.txt", NULL, 0) != 0, 0);
    stat("data.txt", &st);
    time_t now = time(NULL);
    yesno("NULL times = now", st.st_mtime >= now - 60 && st.st_mtime <= now + 60 &&
                                  st.st_atime >= now - 60);
    expect("futimens", syscall(SYS_utimensat, fd, NULL, ts, 0) != 0, 0);
    fstat(fd, &st);
    yesno("futimens times read back", st.st_mtim.tv_sec == 1000000001 && st.st_mtim.tv_nsec == 6);
    struct timespec now2[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    expect("utimensat UTIME_NOW atime", syscall(SYS_utimensat, AT_FDCWD, "data.txt", now2, 0) != 0,
           0);
    stat("data.txt", &st);
    yesno("atime now, mtime kept", st.st_atime >= now - 60 && st.st_mtim.tv_sec == 1000000001);
    struct timespec link[2] = {{1100000000, 0}, {1100000000, 0}};
    expect("utimensat AT_SYMLINK_NOFOLLOW",
           syscall(SYS_utimensat, AT_FDCWD, "soft", link, AT_SYMLINK_NOFOLLOW) != 0, 0);
    lstat("soft", &st);
    yesno("the link's mtime set", st.st_mtim.tv_sec == 1100000000);
    stat("data.txt", &st);
    yesno("the file's mtime kept", st.st_mtim.tv_sec == 1000000001);
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    expect("utimensat bad nsec", syscall(SYS_utimensat, AT_FDCWD, "data.txt", bad, 0) != 0,
           EINVAL);
    struct timespec neg[2] = {{0, -1}, {0, 0}};
    expect("utimensat negative nsec", syscall(SYS_utimensat, AT_FDCWD, "data.txt", neg, 0) != 0,
           EINVAL);
    expect("utimensat bad nsec of a missing file",
           syscall(SYS_utimensat, AT_FDCWD, "missing", bad, 0) != 0, ENOENT);
    struct timespec omit2[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    expect("utimensat both UTIME_OMIT of a missing file",
           syscall(SYS_utimensat, AT_FDCWD, "missing", omit2, 0) != 0, 0);
    expect("utimensat bad flags",
           syscall(SYS_utimensat, AT_FDCWD, "data.txt", NULL, 0x8000) != 0, EINVAL);
    expect("utimensat NULL path AT_FDCWD", syscall(SYS_utimensat, AT_FDCWD, NULL, NULL, 0) != 0,
           EFAULT);
    expect("futimens with flags",
           syscall(SYS_utimensat, fd, NULL, NULL, AT_SYMLINK_NOFOLLOW) != 0, EINVAL);
    expect("futimens bad fd", syscall(SYS_utimensat, 999, NULL, NULL, 0) != 0, EBADF);
    expect("futimens O_PATH fd", syscall(SYS_utimensat, pfd, NULL, NULL, 0) != 0, EBADF);
    expect("utimensat AT_EMPTY_PATH on an O_PATH fd",
           syscall(SYS_utimensat, pfd, "", ts, AT_EMPTY_PATH) != 0, 0);
    expect("utimensat bad times pointer",
           syscall(SYS_utimensat, AT_FDCWD, "data.txt", (void *)1, 0) != 0, EFAULT);

    struct statfs sf, sf2;
    expect("statfs data.txt", statfs("data.txt", &sf) != 0, 0);
    yesno("f_bsize > 0", sf.f_bsize > 0);
    yesno("f_namelen is 255", sf.f_namelen == 255);
    yesno("f_frsize > 0", sf.f_frsize > 0);
    expect("fstatfs", fstatfs(fd, &sf2) != 0, 0);
    yesno("same f_type and f_fsid", sf.f_type == sf2.f_type &&
                                        memcmp(&sf.f_fsid, &sf2.f_fsid, sizeof sf.f_fsid) == 0);
    expect("fstatfs O_PATH fd", fstatfs(pfd, &sf2) != 0, 0);
    expect("statfs through a symlink", statfs("soft", &sf2) != 0, 0);
    yesno("same f_type", sf.f_type == sf2.f_type);
    expect("statfs of a missing file", statfs("missing", &sf) != 0, ENOENT);
    expect("statfs below a file", statfs("data.txt/x", &sf) != 0, ENOTDIR);
    expect("fstatfs bad fd", fstatfs(999, &sf) != 0, EBADF);
    expect("statfs /proc", statfs("/proc", &sf) != 0, 0);
    yesno("/proc f_type is PROC_SUPER_MAGIC", sf.f_type == 0x9fa0);
    yesno("/proc f_namelen is 255", sf.f_namelen == 255);
    int mfd = open("/proc/self/status", O_RDONLY);
    expect("fstatfs /proc/self/status", fstatfs(mfd, &sf) != 0, 0);
    yesno("its f_type is PROC_SUPER_MAGIC", sf.f_type == 0x9fa0);
    close(mfd);
    close(pfd);
    close(fd);
    unlink("soft");
}

static void files(void)
{
    char dir[64], cwd[4096], cwd2[4096];
    snprintf(dir, sizeof dir, "syscalls-tmp-%d", (int)getpid());
    /* Leftovers of an interrupted run (same pid under ferrite: 1). */
    snprintf(cwd, sizeof cwd, "%s/data.txt", dir);
    unlinkat(AT_FDCWD, cwd, 0);
    unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
    expect("getcwd", getcwd(cwd, sizeof cwd) == NULL, 0);
    yesno("getcwd is absolute", cwd[0] == '/');
    expect("mkdirat", mkdirat(AT_FDCWD, dir, 0755) != 0, 0);
    expect("mkdirat again", mkdirat(AT_FDCWD, dir, 0755) != 0, EEXIST);
    expect("chdir into it", chdir(dir) != 0, 0);
    expect("getcwd after chdir", getcwd(cwd2, sizeof cwd2) == NULL, 0);
    char want[4200];
    snprintf(want, sizeof want, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, dir);
    yesno("getcwd = old cwd + /dir", strcmp(cwd2, want) == 0);

    int fd = openat(AT_FDCWD, "data.txt", O_CREAT | O_EXCL | O_RDWR, 0644);
    expect("openat O_CREAT|O_EXCL", fd < 0, 0);
    expect("openat O_CREAT|O_EXCL again",
           openat(AT_FDCWD, "data.txt", O_CREAT | O_EXCL | O_RDWR, 0644) < 0,
           EEXIST);
    expect("openat missing file", openat(AT_FDCWD, "nope", O_RDONLY) < 0, ENOENT);
    ssize_t w = write(fd, "hello, ", 7);
    printf("write: %zd\n", w);
    struct iovec iov[2] = {{"file ", 5}, {"world\n", 6}};
    w = writev(fd, iov, 2);
    printf("writev: %zd\n", w);
    CHECK(w == 11);
    off_t off = lseek(fd, 0, SEEK_CUR);
    printf("lseek SEEK_CUR: %lld\n", (long long)off);
    off = lseek(fd, 0, SEEK_SET);
    char buf[64] = {0};
    ssize_t r = read(fd, buf, sizeof buf - 1);
    printf("read: %zd \"%.*s\"\n", r, (int)(r > 0 ? r - 1 : 0), buf);
    CHECK(r == 18 && memcmp(buf, "hello, file world\n", 18) == 0);
    r = read(fd, buf, sizeof buf);
    printf("read at EOF: %zd\n", r);
    w = pwrite(fd, "FILE", 4, 7);
    printf("pwrite64 at 7: %zd\n", w);
    memset(buf, 0, sizeof buf);
    r = pread(fd, buf, 10, 3);
    printf("pread64 10 at 3: %zd \"%s\"\n", r, buf);
    CHECK(strcmp(buf, "lo, FILE w") == 0);
    printf("offset unchanged by pread/pwrite: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
    printf("lseek SEEK_END: %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("lseek SEEK_END+100: %lld\n", (long long)lseek(fd, 100, SEEK_END));
    expect("lseek negative", lseek(fd, -1000, SEEK_SET) < 0, EINVAL);
    expect("lseek bad whence", lseek(fd, 0, 42) < 0, EINVAL);

    struct stat st;
    expect("fstat", fstat(fd, &st) != 0, 0);
    printf("fstat size %lld regular %s\n", (long long)st.st_size,
           S_ISREG(st.st_mode) ? "yes" : "no");
    expect("ftruncate 5", ftruncate(fd, 5) != 0, 0);
    expect("newfstatat", fstatat(AT_FDCWD, "data.txt", &st, 0) != 0, 0);
    printf("newfstatat size %lld\n", (long long)st.st_size);
    expect("ftruncate 10000 (grow)", ftruncate(fd, 10000) != 0, 0);
    fstat(fd, &st);
    printf("size after grow %lld\n", (long long)st.st_size);
    memset(buf, 1, sizeof buf);
    r = pread(fd, buf, 8, 5000);
    printf("hole reads zero: %s\n", r == 8 && buf[0] == 0 && buf[7] == 0 ? "yes" : "no");
    expect("fsync", fsync(fd) != 0, 0);
    expect("fdatasync", fdatasync(fd) != 0, 0);
    expect("faccessat R_OK|W_OK", faccessat(AT_FDCWD, "data.txt", R_OK | W_OK, 0) != 0, 0);
    expect("faccessat missing", faccessat(AT_FDCWD, "nope", F_OK, 0) != 0, ENOENT);
    expect("newfstatat dir", fstatat(AT_FDCWD, ".", &st, 0) != 0, 0);
    yesno("directory is S_ISDIR", S_ISDIR(st.st_mode));
    expect("close", close(fd) != 0, 0);
    expect("close again", close(fd) != 0, EBADF);
    expect("read closed fd", read(fd, buf, 1) < 0, EBADF);
    expect("write to O_RDONLY fd", ({
               int f = open("data.txt", O_RDONLY);
               int bad = write(f, "x", 1) < 0;
               int e = errno;
               close(f);
               errno = e;
               bad;
           }), EBADF);

    /* ioctl(TCGETS) on a regular file: not a terminal. (Pipes come with
       the process issue.) */
    struct termios t;
    fd = open("data.txt", O_RDONLY);
    expect("ioctl TCGETS on a file", ioctl(fd, TCGETS, &t) != 0, ENOTTY);
    close(fd);

    /* Hard links: a second name for the inode; the symlink itself
       unless AT_SYMLINK_FOLLOW; Linux's errnos. */
    expect("linkat", linkat(AT_FDCWD, "data.txt", AT_FDCWD, "hard", 0) != 0, 0);
    expect("stat the new name", stat("hard", &st) != 0, 0);
    yesno("two links", st.st_nlink == 2);
    struct stat st2;
    expect("stat the old name", stat("data.txt", &st2) != 0, 0);
    yesno("same inode", st.st_ino == st2.st_ino);
    expect("linkat onto an existing name",
           linkat(AT_FDCWD, "data.txt", AT_FDCWD, "hard", 0) != 0, EEXIST);
    expect("linkat of a missing file",
           linkat(AT_FDCWD, "missing", AT_FDCWD, "x", 0) != 0, ENOENT);
    expect("linkat of a directory", linkat(AT_FDCWD, ".", AT_FDCWD, "x", 0) != 0, EPERM);
    expect("linkat to a name with a trailing slash",
           linkat(AT_FDCWD, "data.txt", AT_FDCWD, "x/", 0) != 0, ENOENT);
    expect("linkat with bad flags",
           linkat(AT_FDCWD, "data.txt", AT_FDCWD, "x", 0x8000) != 0, EINVAL);
    expect("symlinkat", symlinkat("data.txt", AT_FDCWD, "soft") != 0, 0);
    expect("linkat of a symlink", linkat(AT_FDCWD, "soft", AT_FDCWD, "hsoft", 0) != 0, 0);
    expect("lstat it", lstat("hsoft", &st) != 0, 0);
    yesno("the link is the symlink", S_ISLNK(st.st_mode));
    expect("linkat AT_SYMLINK_FOLLOW",
           linkat(AT_FDCWD, "soft", AT_FDCWD, "hfollow", AT_SYMLINK_FOLLOW) != 0, 0);
    expect("lstat it", lstat("hfollow", &st) != 0, 0);
    yesno("the link is the file", S_ISREG(st.st_mode) && st.st_nlink == 3);
    unlink("hfollow");
    unlink("hsoft");
    unlink("soft");
    expect("unlinkat the new name", unlinkat(AT_FDCWD, "hard", 0) != 0, 0);
    expect("stat after unlink", stat("data.txt", &st) != 0, 0);
    yesno("one link again", st.st_nlink == 1);

    attrs();
    expect("unlinkat file", unlinkat(AT_FDCWD, "data.txt", 0) != 0, 0);
    expect("unlinkat file again", unlinkat(AT_FDCWD, "data.txt", 0) != 0, ENOENT);
    expect("chdir ..", chdir("..") != 0, 0);
    expect("unlinkat dir without AT_REMOVEDIR", unlinkat(AT_FDCWD, dir, 0) != 0, EISDIR);
    expect("unlinkat dir", unlinkat(AT_FDCWD, dir, AT_REMOVEDIR) != 0, 0);
    expect("chdir to removed dir", chdir(dir) != 0, ENOENT);
}

static void process(void)
{
    struct utsname u;
    expect("uname", uname(&u) != 0, 0);
    printf("uname sysname %s machine %s\n", u.sysname, u.machine);
    CHECK(strcmp(u.sysname, "Linux") == 0);
    CHECK(strcmp(u.machine, "riscv64") == 0);

    pid_t pid = getpid(), tid = gettid();
    yesno("getpid > 0", pid > 0);
    yesno("gettid = getpid (one thread)", tid == pid);
    yesno("raw getpid = getpid", syscall(SYS_getpid) == pid);
    yesno("getppid >= 0", getppid() >= 0);
    yesno("getuid = geteuid", getuid() == geteuid());
    yesno("getgid = getegid", getgid() == getegid());
    yesno("getpgid(0) >= 0", getpgid(0) >= 0);

    struct timespec a, b, res;
    expect("clock_gettime MONOTONIC", clock_gettime(CLOCK_MONOTONIC, &a) != 0, 0);
    expect("clock_getres MONOTONIC", clock_getres(CLOCK_MONOTONIC, &res) != 0, 0);
    struct timespec ms = {0, 1000000};
    expect("nanosleep 1 ms", nanosleep(&ms, NULL) != 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long long dt = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
    yesno("monotonic clock advanced by >= 1 ms over the sleep", dt >= 1000000);
    struct timespec rt;
    expect("clock_gettime REALTIME", clock_gettime(CLOCK_REALTIME, &rt) != 0, 0);
    yesno("realtime after 2020", rt.tv_sec > 1577836800);
    expect("clock_gettime bad clock", clock_gettime(12345, &rt) != 0, EINVAL);
    struct timespec bad = {0, 2000000000};
    expect("nanosleep bad tv_nsec", nanosleep(&bad, NULL) != 0, EINVAL);

    unsigned char rnd[16] = {0}, rnd2[16] = {0};
    ssize_t got = getrandom(rnd, sizeof rnd, 0);
    printf("getrandom: %zd\n", got);
    getrandom(rnd2, sizeof rnd2, 0);
    yesno("two getrandom draws differ", memcmp(rnd, rnd2, 16) != 0);

    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    yesno("readlink /proc/self/exe non-empty", n > 0);
    if (n > 0) {
        exe[n] = 0;
        yesno("readlink /proc/self/exe ends in /syscalls",
              n >= 9 && strcmp(exe + n - 9, "/syscalls") == 0);
    }

    /* A bad pointer is an errno, not a crash (hidden from the compiler,
     * which would reject the constant). */
    void *volatile badp = (void *)1;
    expect("write(1, (void*)1, 10)", write(1, badp, 10) < 0, EFAULT);
    expect("unknown syscall 4000", syscall(4000) == -1, ENOSYS);
    expect("sched_yield", sched_yield() != 0, 0);
    unsigned cpu = 1000, node = 1000;
    expect("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL) != 0, 0);
    yesno("getcpu: a CPU we may run on, node 0", cpu < (unsigned)sysconf(_SC_NPROCESSORS_ONLN) && node == 0);
    expect("getcpu NULL, NULL", syscall(SYS_getcpu, NULL, NULL, NULL) != 0, 0);
    expect("getcpu bad pointer", syscall(SYS_getcpu, badp, NULL, NULL) != 0, EFAULT);

    struct rlimit rl, rl2;
    expect("getrlimit RLIMIT_STACK", getrlimit(RLIMIT_STACK, &rl) != 0, 0);
    yesno("stack soft limit >= 128 KiB", rl.rlim_cur >= 128 * 1024);
    yesno("soft <= hard", rl.rlim_max == RLIM_INFINITY || rl.rlim_cur <= rl.rlim_max);
    expect("prlimit64 RLIMIT_STACK", prlimit(0, RLIMIT_STACK, NULL, &rl2) != 0, 0);
    yesno("prlimit64 = getrlimit", rl.rlim_cur == rl2.rlim_cur && rl.rlim_max == rl2.rlim_max);
    expect("getrlimit bad resource", getrlimit(1000, &rl) != 0, EINVAL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    files();
    process();
    if (check_exit("syscalls"))
        return 1;
    printf("syscalls: ok\n");
    return 0;
}
