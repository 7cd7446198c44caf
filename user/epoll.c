/* epoll: epoll_create1, epoll_ctl and epoll_pwait(2), compared with
 * qemu-riscv64 (the host's Linux): the errors in Linux's order, level-
 * and edge-triggered readiness of pipes and eventfds, EPOLLONESHOT,
 * EPOLLHUP, entries that outlive their descriptor while the file lives,
 * a wait woken by another process, timeouts, a signal ending a wait with
 * EINTR even under SA_RESTART, and an epoll file watched by another.
 *
 * Events of one wait are printed sorted by their data (Linux reports them
 * in the order they became ready, ferrite in the order they were added).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *what, int r)
{
	if (r >= 0)
		printf("%s: %d\n", what, r);
	else
		printf("%s: %s\n", what, strerror(errno));
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event e = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static int cmp(const void *a, const void *b)
{
	const struct epoll_event *x = a, *y = b;
	return x->data.u64 < y->data.u64 ? -1 : x->data.u64 > y->data.u64;
}

/* One wait, its events printed sorted by data. */
static void wait_show(const char *what, int ep, int max, int ms)
{
	struct epoll_event ev[16];
	int n = epoll_wait(ep, ev, max, ms);
	if (n < 0) {
		say(what, n);
		return;
	}
	qsort(ev, n, sizeof ev[0], cmp);
	printf("%s: %d", what, n);
	for (int i = 0; i < n; i++)
		printf(" [%llu:%#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
	printf("\n");
}

static void errors(void)
{
	say("create1 bad flag", epoll_create1(1));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	say("cloexec", fcntl(ep, F_GETFD));
	int p[2];
	if (pipe(p))
		return;
	say("bad epfd", add(99, p[0], EPOLLIN, 0));
	say("bad fd", add(ep, 99, EPOLLIN, 0));
	say("epfd not epoll", add(p[1], p[0], EPOLLIN, 0));
	int reg = open("/proc/self/exe", O_RDONLY);
	say("regular file", add(ep, reg, EPOLLIN, 0));
	say("self", add(ep, ep, EPOLLIN, 0));
	say("add", add(ep, p[0], EPOLLIN, 1));
	say("add again", add(ep, p[0], EPOLLIN, 1));
	say("mod missing", mod(ep, p[1], EPOLLOUT, 2));
	say("del missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
	struct epoll_event e = {.events = EPOLLIN};
	say("bad op", epoll_ctl(ep, 9, p[0], &e));
	say("bad event pointer", epoll_ctl(ep, EPOLL_CTL_ADD, p[1], (void *)8));
	say("del with bad pointer", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], (void *)8));
	say("exclusive and oneshot", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 1));
	say("exclusive", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1));
	say("mod exclusive", mod(ep, p[0], EPOLLIN, 1));
	say("mod to exclusive", mod(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1));
	struct epoll_event ev[4];
	say("wait 0 events", epoll_wait(ep, ev, 0, 0));
	volatile int minus_one = -1; /* (the compiler refuses a literal -1) */
	say("wait -1 events", epoll_wait(ep, ev, minus_one, 0));
	say("wait bad buffer", epoll_wait(ep, (void *)0xffffffffffff0000ULL, 4, 0));
	say("wait on a pipe", epoll_wait(p[0], ev, 4, 0));
	say("wait bad fd", epoll_wait(99, ev, 4, 0));
	int ep2 = epoll_create1(0);
	say("nest", add(ep2, ep, EPOLLIN, 7));
	say("loop", add(ep, ep2, EPOLLIN, 8));
	say("read epoll", (int)read(ep, ev, 4));
	say("lseek epoll", (int)lseek(ep, 0, SEEK_SET));
	close(ep2);
	close(reg);
	close(p[0]);
	close(p[1]);
	close(ep);
}

static void readiness(void)
{
	int ep = epoll_create1(0);
	int p[2];
	if (pipe(p))
		return;
	add(ep, p[0], EPOLLIN, 1);
	add(ep, p[1], EPOLLOUT, 2);
	wait_show("empty pipe", ep, 16, 0);
	if (write(p[1], "ab", 2) != 2)
		return;
	wait_show("written", ep, 16, 0);
	wait_show("written, max 1", ep, 1, 0);
	wait_show("level again", ep, 16, 0);
	mod(ep, p[0], EPOLLIN | EPOLLET, 11);
	wait_show("edge after mod", ep, 16, 0);
	wait_show("edge again", ep, 16, 0);
	char c;
	if (read(p[0], &c, 1) != 1)
		return;
	wait_show("edge after a read", ep, 16, 0);
	if (write(p[1], "c", 1) != 1)
		return;
	wait_show("edge after a write", ep, 16, 0);
	mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 21);
	wait_show("oneshot", ep, 16, 0);
	wait_show("oneshot fired", ep, 16, 0);
	mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 22);
	wait_show("oneshot re-armed", ep, 16, 0);
	epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
	mod(ep, p[0], EPOLLIN, 1);
	close(p[1]);
	wait_show("writer closed", ep, 16, 0);
	char buf[8];
	say("drain", (int)read(p[0], buf, sizeof buf));
	wait_show("hang-up only", ep, 16, 0);
	mod(ep, p[0], 0, 3);
	wait_show("no events asked", ep, 16, 0);
	close(p[0]);
	close(ep);
}

static void lifetime(void)
{
	int ep = epoll_create1(0);
	int e = eventfd(1, 0);
	add(ep, e, EPOLLIN | EPOLLOUT, 5);
	int d = dup(e);
	close(e);
	wait_show("closed, dup alive", ep, 16, 0);
	say("del the closed fd", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
	close(d);
	wait_show("all closed", ep, 16, 0);
	/* The descriptor number reused for another file is a new entry. */
	e = eventfd(0, 0);
	say("add the reused number", add(ep, e, EPOLLIN, 6));
	wait_show("eventfd at 0", ep, 16, 0);
	uint64_t one = 1;
	if (write(e, &one, 8) != 8)
		return;
	wait_show("eventfd at 1", ep, 16, 0);
	/* An epoll file watched by another. */
	int outer = epoll_create1(0);
	add(outer, ep, EPOLLIN, 9);
	wait_show("outer", outer, 16, 0);
	uint64_t v;
	if (read(e, &v, 8) != 8)
		return;
	wait_show("outer, inner empty", outer, 16, 0);
	close(outer);
	close(e);
	close(ep);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void waits(void)
{
	int ep = epoll_create1(0);
	int p[2];
	if (pipe(p))
		return;
	add(ep, p[0], EPOLLIN, 1);
	wait_show("timeout 30 ms", ep, 16, 30);
	pid_t c = fork();
	if (c == 0) {
		usleep(50000);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		_exit(0);
	}
	wait_show("woken by a child", ep, 16, -1);
	int st;
	waitpid(c, &st, 0);
	char b;
	if (read(p[0], &b, 1) != 1)
		return;
	struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	wait_show("interrupted (SA_RESTART)", ep, 16, -1);
	/* epoll_pwait with SIGALRM blocked: the alarm does not end it. */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	struct epoll_event ev[4];
	alarm(1);
	say("pwait, alarm blocked", epoll_pwait(ep, ev, 4, 1500, &block));
	sigset_t pend;
	sigpending(&pend);
	say("alarm pending after", sigismember(&pend, SIGALRM));
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* the handler runs here */
	close(p[0]);
	close(p[1]);
	close(ep);
}

/* `epoll watches`: add entries until the machine's limit (ENOSPC), then
 * free one instance's and add again (ferrite's test: Linux's limit
 * depends on its memory). */
static int watches(void)
{
	enum { FDS = 500 };
	static int fds[FDS], eps[400];
	fds[0] = eventfd(0, 0);
	for (int i = 1; i < FDS; i++)
		fds[i] = dup(fds[0]);
	long total = 0;
	int n = 0, err = 0;
	while (n < 400 && !err) {
		eps[n] = epoll_create1(0);
		for (int i = 0; i < FDS; i++) {
			if (add(eps[n], fds[i], EPOLLIN, i) != 0) {
				err = errno;
				break;
			}
			total++;
		}
		n++;
	}
	printf("entries %ld, then %s\n", total, strerror(err));
	close(eps[0]);
	say("after closing one instance", add(eps[n - 1], fds[FDS - 1], EPOLLIN, 0));
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "watches"))
		return watches();
	errors();
	readiness();
	lifetime();
	waits();
	return 0;
}
