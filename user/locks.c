/* locks: advisory file locks, compared with qemu-riscv64 (the host's
 * Linux): POSIX record locks between processes (F_GETLK's report, merges
 * and splits, release at any close of the file, not inherited by fork,
 * F_SETLKW sleeping until the holder unlocks, EDEADLK, EINTR), open file
 * description locks (per description, l_pid -1, conflicting with POSIX
 * locks, kept across other closes), flock(2) (per description,
 * conversions, independent of POSIX locks), and the errors.
 *
 * The output does not depend on timing: a waiter's line comes after the
 * holder's unlock, and of two processes that would deadlock exactly one
 * is told so, whichever it is. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_NAME "locks.dat"

static int lk(int fd, int cmd, int type, int whence, long start, long len)
{
	struct flock l = {.l_type = type, .l_whence = whence, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &l);
}

static const char *name(int t)
{
	return t == F_RDLCK ? "RD" : t == F_WRLCK ? "WR" : t == F_UNLCK ? "UN" : "??";
}

static void say(const char *what, int r)
{
	if (r == 0)
		printf("%s: ok\n", what);
	else
		printf("%s: %s\n", what, strerror(errno));
}

/* F_GETLK (or F_OFD_GETLK) of [start, start + len) for `type`. */
static void test(const char *what, int fd, int cmd, int type, long start, long len, pid_t holder)
{
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &l) != 0) {
		say(what, -1);
		return;
	}
	if (l.l_type == F_UNLCK) {
		printf("%s: free\n", what);
		return;
	}
	printf("%s: %s %ld+%ld whence %d pid %s\n", what, name(l.l_type), (long)l.l_start,
	       (long)l.l_len, l.l_whence,
	       l.l_pid == holder ? "holder" : l.l_pid == -1 ? "-1" : "other");
}

static void wait_child(pid_t p)
{
	int st;
	waitpid(p, &st, 0);
	printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st));
	fflush(stdout);
}

static void errors(int fd)
{
	say("bad whence", lk(fd, F_SETLK, F_WRLCK, 7, 0, 1));
	say("bad type", lk(fd, F_SETLK, 9, SEEK_SET, 0, 1));
	say("getlk of unlock", lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 1));
	say("negative start", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, -1, 1));
	say("negative length past 0", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, -6));
	say("end past OFFSET_MAX", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LONG_MAX - 1, 10));
	say("start past OFFSET_MAX", lk(fd, F_SETLK, F_WRLCK, SEEK_END, LONG_MAX, 1));
	say("bad fd", lk(99, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	int ro = open(FILE_NAME, O_RDONLY);
	say("write lock, read-only fd", lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	say("read lock, read-only fd", lk(ro, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
	say("unlock", lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 1));
	close(ro);
	int wo = open(FILE_NAME, O_WRONLY);
	say("read lock, write-only fd", lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 1));
	close(wo);
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1, .l_pid = 1};
	say("ofd with a pid", fcntl(fd, F_OFD_SETLK, &l));
	say("ofd getlk with a pid", fcntl(fd, F_OFD_GETLK, &l));
	say("flock bad op", flock(fd, 3));
	say("flock bad op 2", flock(fd, LOCK_NB));
	say("flock bad fd", flock(99, LOCK_EX));
	int path = open(FILE_NAME, O_PATH);
	say("flock O_PATH", flock(path, LOCK_EX));
	say("setlk O_PATH", lk(path, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	close(path);
	say("flock mand", flock(fd, LOCK_MAND | LOCK_READ));
	say("getlk bad address", fcntl(fd, F_GETLK, (void *)8));
}

static void posix(int fd)
{
	say("WR 0+100", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 100));
	say("RD 200+100", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 200, 100));
	say("RD 300+100", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 300, 100));
	say("WR 250+10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 250, 10));
	lseek(fd, 1000, SEEK_SET);
	say("RD cur-10, len -20", lk(fd, F_SETLK, F_RDLCK, SEEK_CUR, -10, -20));
	say("WR end+5000 to EOF", lk(fd, F_SETLK, F_WRLCK, SEEK_END, 5000, 0));
	test("own view", fd, F_GETLK, F_WRLCK, 0, 0, getpid());
	pid_t me = getpid();
	pid_t p = fork();
	if (p == 0) {
		test("child WR 0+0", fd, F_GETLK, F_WRLCK, 0, 0, me);
		test("child RD 150+100", fd, F_GETLK, F_RDLCK, 150, 100, me);
		test("child WR 150+100", fd, F_GETLK, F_WRLCK, 150, 100, me);
		test("child WR 260+1", fd, F_GETLK, F_WRLCK, 260, 1, me);
		test("child RD 255+1", fd, F_GETLK, F_RDLCK, 255, 1, me);
		test("child WR 975+1", fd, F_GETLK, F_WRLCK, 975, 1, me);
		test("child WR 965+5", fd, F_GETLK, F_WRLCK, 965, 5, me);
		test("child WR 5000+1", fd, F_GETLK, F_WRLCK, 5000, 1, me);
		test("child WR 100+100", fd, F_GETLK, F_WRLCK, 100, 100, me);
		say("child WR 50+10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 50, 10));
		say("child RD 200+10", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 200, 10));
		say("child WR 120+10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 120, 10));
		_exit(0);
	}
	wait_child(p);
	/* The child's locks went with it. */
	test("after the child", fd, F_GETLK, F_WRLCK, 100, 200, me);
	say("UN 40+20", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 40, 20));
	say("RD 0+10", lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10));
	p = fork();
	if (p == 0) {
		test("child RD 0+100", fd, F_GETLK, F_WRLCK, 0, 100, me);
		test("child RD 45+10", fd, F_GETLK, F_WRLCK, 45, 10, me);
		test("child RD 0+5", fd, F_GETLK, F_RDLCK, 0, 5, me);
		_exit(0);
	}
	wait_child(p);
	/* Closing another descriptor of the file drops every lock. */
	int other = open(FILE_NAME, O_RDONLY);
	close(other);
	p = fork();
	if (p == 0) {
		test("child after close", fd, F_GETLK, F_WRLCK, 0, 0, me);
		_exit(0);
	}
	wait_child(p);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void sleepers(int fd)
{
	pid_t me = getpid();
	say("WR 0+10", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	pid_t p = fork();
	if (p == 0) {
		int r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 5, 1);
		say("child waited for 5+1", r);
		test("child sees", fd, F_GETLK, F_WRLCK, 0, 10, me);
		_exit(0);
	}
	usleep(100000);
	printf("unlocking\n");
	fflush(stdout);
	/* (The child may print before this returns: say it afterwards.) */
	int un = lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 10);
	wait_child(p);
	say("UN 0+10", un);

	/* A deadlock: parent holds 0, child holds 1; each wants the other. */
	say("WR 0+1", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	int go[2];
	if (pipe(go))
		return;
	p = fork();
	if (p == 0) {
		lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 1, 1);
		char c = 1;
		if (write(go[1], &c, 1) != 1)
			_exit(9);
		int r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
		int dead = r != 0 && errno == EDEADLK;
		/* Let the parent have byte 1 if it was the one waiting. */
		lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 2);
		_exit(dead);
	}
	char c;
	if (read(go[0], &c, 1) != 1)
		return;
	usleep(50000);
	int r = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1);
	int dead = r != 0 && errno == EDEADLK;
	/* Let the child have byte 0 if it was the one waiting. */
	lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 2);
	int st;
	waitpid(p, &st, 0);
	printf("deadlocks reported: %d\n", dead + WEXITSTATUS(st));
	close(go[0]);
	close(go[1]);

	/* A signal ends the wait (no SA_RESTART): EINTR. */
	say("WR 0+1 again", lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1));
	p = fork();
	if (p == 0) {
		struct sigaction h = {.sa_handler = on_alarm};
		sigemptyset(&h.sa_mask);
		sigaction(SIGALRM, &h, NULL);
		alarm(1);
		say("child waits, alarm", lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
		_exit(0);
	}
	wait_child(p);
	say("UN all", lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0));
}

static void ofd(void)
{
	int a = open(FILE_NAME, O_RDWR), b = open(FILE_NAME, O_RDWR);
	say("ofd WR 0+10 on a", lk(a, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10));
	say("ofd WR 5+1 on b", lk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1));
	test("ofd view from b", b, F_OFD_GETLK, F_RDLCK, 0, 0, getpid());
	test("ofd view from a", a, F_OFD_GETLK, F_WRLCK, 0, 0, getpid());
	test("posix view", b, F_GETLK, F_WRLCK, 0, 0, getpid());
	say("posix WR 5+1 on b", lk(b, F_SETLK, F_WRLCK, SEEK_SET, 5, 1));
	say("posix WR 20+1 on b", lk(b, F_SETLK, F_WRLCK, SEEK_SET, 20, 1));
	test("ofd view of posix", a, F_OFD_GETLK, F_WRLCK, 20, 1, getpid());
	int c = open(FILE_NAME, O_RDONLY);
	close(c); /* drops the POSIX lock, not the OFD one */
	test("after a close", b, F_OFD_GETLK, F_WRLCK, 0, 0, getpid());
	pid_t p = fork();
	if (p == 0) {
		test("child ofd view from a", a, F_OFD_GETLK, F_WRLCK, 0, 0, getppid());
		test("child posix view", a, F_GETLK, F_WRLCK, 0, 0, getppid());
		_exit(0);
	}
	wait_child(p);
	close(a);
	say("ofd WR 5+1 on b after a closed", lk(b, F_OFD_SETLK, F_WRLCK, SEEK_SET, 5, 1));
	close(b);
}

static void flocks(void)
{
	int un;
	int a = open(FILE_NAME, O_RDWR), b = open(FILE_NAME, O_RDONLY);
	say("a EX", flock(a, LOCK_EX));
	say("b EX NB", flock(b, LOCK_EX | LOCK_NB));
	say("b SH NB", flock(b, LOCK_SH | LOCK_NB));
	say("a SH", flock(a, LOCK_SH));
	say("b SH NB again", flock(b, LOCK_SH | LOCK_NB));
	say("b EX NB", flock(b, LOCK_EX | LOCK_NB));
	say("posix WR beside flock", lk(a, F_SETLK, F_WRLCK, SEEK_SET, 0, 0));
	int d = dup(a);
	say("dup UN", flock(d, LOCK_UN));
	say("b EX NB after dup unlocked a", flock(b, LOCK_EX | LOCK_NB));
	pid_t p = fork();
	if (p == 0) {
		say("child a EX NB", flock(a, LOCK_EX | LOCK_NB));
		say("child b EX NB (inherited)", flock(b, LOCK_EX | LOCK_NB));
		_exit(0);
	}
	wait_child(p);
	p = fork();
	if (p == 0) {
		say("child a EX (waits)", flock(a, LOCK_EX));
		_exit(0);
	}
	usleep(100000);
	printf("b unlocks\n");
	fflush(stdout);
	un = flock(b, LOCK_UN);
	wait_child(p);
	say("b UN", un);
	close(a);
	close(b);
	close(d);
	say("UN of nothing", flock(open(FILE_NAME, O_RDONLY), LOCK_UN));
}

/* `locks proc`: take a lock of each kind and print /proc/locks (ferrite's
 * test checks it: the host's lists every process's locks). */
static int proc_locks(void)
{
	int fd = open("locks1.dat", O_RDWR | O_CREAT, 0644);
	lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10);
	lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 100, 0);
	int b = open("locks1.dat", O_RDWR);
	lk(b, F_OFD_SETLK, F_RDLCK, SEEK_SET, 20, 5);
	int c = open("locks2.dat", O_RDWR | O_CREAT, 0644);
	flock(c, LOCK_SH);
	char buf[4096];
	int p = open("/proc/locks", O_RDONLY);
	ssize_t n = read(p, buf, sizeof buf);
	if (n > 0)
		fwrite(buf, 1, n, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "proc"))
		return proc_locks();
	int fd = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (write(fd, "0123456789", 10) != 10)
		return 1;
	errors(fd);
	posix(fd);
	sleepers(fd);
	ofd();
	flocks();
	close(fd);
	unlink(FILE_NAME);
	return 0;
}
