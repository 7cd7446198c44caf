/* timerfd: timerfd_create, timerfd_settime, timerfd_gettime and the
 * file's read and poll, compared with qemu-riscv64 (the host's Linux):
 * the errors, one-shot and interval timers, relative and absolute
 * settings, a blocking read, a read interrupted by a signal, the old
 * setting returned, the count dropped by a new setting, and a timerfd in
 * poll(2) and epoll.
 *
 * Counts that depend on timing are printed as comparisons. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000L

static void say(const char *what, long r)
{
	if (r >= 0)
		printf("%s: %ld\n", what, r);
	else
		printf("%s: %s\n", what, strerror(errno));
}

static int arm(int fd, int flags, long value_ns, long interval_ns)
{
	struct itimerspec t = {
		.it_value = {value_ns / 1000000000L, value_ns % 1000000000L},
		.it_interval = {interval_ns / 1000000000L, interval_ns % 1000000000L},
	};
	return timerfd_settime(fd, flags, &t, NULL);
}

/* A read of the count: the count, or -1 with errno. */
static long ticks(int fd)
{
	uint64_t n;
	ssize_t r = read(fd, &n, sizeof n);
	return r == 8 ? (long)n : r < 0 ? -1 : -2;
}

static void errors(void)
{
	say("bad clock", timerfd_create(99, 0));
	say("bad flags", timerfd_create(CLOCK_MONOTONIC, 1));
	say("process cpu clock", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	say("cloexec", fcntl(t, F_GETFD));
	say("nonblock", fcntl(t, F_GETFL) & O_NONBLOCK);
	say("settime bad flags", arm(t, 4, MS, 0));
	struct itimerspec bad = {.it_value = {0, 1000000000L}};
	say("settime bad nsec", timerfd_settime(t, 0, &bad, NULL));
	struct itimerspec neg = {.it_value = {-1, 0}};
	say("settime negative", timerfd_settime(t, 0, &neg, NULL));
	say("settime no value", timerfd_settime(t, 0, NULL, NULL));
	int p[2];
	if (pipe(p))
		return;
	say("settime on a pipe", arm(p[0], 0, MS, 0));
	say("settime bad fd", arm(99, 0, MS, 0));
	struct itimerspec cur;
	say("gettime on a pipe", timerfd_gettime(p[0], &cur));
	say("gettime bad address", timerfd_gettime(t, (void *)8));
	char b[8];
	say("short read", read(t, b, 4));
	say("write", write(t, b, 8));
	say("lseek", lseek(t, 5, SEEK_SET));
	say("read before it runs", ticks(t));
	say("gettime disarmed", timerfd_gettime(t, &cur));
	printf("  %ld.%09ld %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec,
	       (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
	int a = timerfd_create(CLOCK_REALTIME_ALARM, 0);
	say("realtime alarm clock (root)", a >= 0 ? 0 : -1);
	int bt = timerfd_create(CLOCK_BOOTTIME, 0);
	say("boottime clock", bt >= 0 ? 0 : -1);
	close(a);
	close(bt);
	close(p[0]);
	close(p[1]);
	close(t);
}

static void timers(void)
{
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	say("arm 40 ms", arm(t, 0, 40 * MS, 0));
	say("read at once", ticks(t));
	struct pollfd pf = {.fd = t, .events = POLLIN};
	say("poll", poll(&pf, 1, 2000));
	printf("  revents %#x\n", pf.revents);
	say("read", ticks(t));
	say("read again", ticks(t));
	struct itimerspec cur;
	timerfd_gettime(t, &cur);
	printf("after a one-shot: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);

	say("arm 10 ms every 10 ms", arm(t, 0, 10 * MS, 10 * MS));
	usleep(75000);
	long n = ticks(t);
	/* (At least 7 expired; how many more depends on the machine's load.) */
	printf("count after 75 ms: >= 6 %d\n", n >= 6);
	timerfd_gettime(t, &cur);
	printf("interval %ld.%09ld, value <= interval %d\n", (long)cur.it_interval.tv_sec,
	       cur.it_interval.tv_nsec, cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 10 * MS);

	say("arm 10 s", arm(t, 0, 10000 * MS, 0));
	struct itimerspec next = {.it_value = {1, 0}}, old;
	say("re-arm", timerfd_settime(t, 0, &next, &old));
	printf("old value 9.x s %d, old interval %ld\n",
	       old.it_value.tv_sec == 9 && old.it_value.tv_nsec > 0, (long)old.it_interval.tv_sec);

	say("arm 5 ms", arm(t, 0, 5 * MS, 0));
	usleep(30000);
	say("re-arm 10 s, dropping the count", arm(t, 0, 10000 * MS, 0));
	say("read", ticks(t));
	say("disarm", arm(t, 0, 0, 0));
	timerfd_gettime(t, &cur);
	printf("disarmed: %ld.%09ld\n", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
	close(t);

	/* Blocking reads, relative and absolute. */
	int w = timerfd_create(CLOCK_MONOTONIC, 0);
	arm(w, 0, 30 * MS, 0);
	say("blocking read", ticks(w));
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long abs_ns = now.tv_sec * 1000000000L + now.tv_nsec + 30 * MS;
	say("absolute", arm(w, TFD_TIMER_ABSTIME, abs_ns, 0));
	say("blocking read, absolute", ticks(w));
	say("absolute in the past", arm(w, TFD_TIMER_ABSTIME, 1, 0));
	say("read", ticks(w));
	int r = timerfd_create(CLOCK_REALTIME, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	say("realtime absolute, cancel on set",
	    arm(r, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
		now.tv_sec * 1000000000L + now.tv_nsec + 20 * MS, 0));
	say("read", ticks(r));
	close(r);
	close(w);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void waits(void)
{
	int t = timerfd_create(CLOCK_MONOTONIC, 0);
	int ep = epoll_create1(0);
	struct epoll_event e = {.events = EPOLLIN, .data.u64 = 42};
	epoll_ctl(ep, EPOLL_CTL_ADD, t, &e);
	arm(t, 0, 30 * MS, 0);
	struct epoll_event got[2];
	int n = epoll_wait(ep, got, 2, -1);
	printf("epoll: %d [%llu:%#x]\n", n, (unsigned long long)got[0].data.u64, got[0].events);
	say("read", ticks(t));
	say("epoll, nothing left", epoll_wait(ep, got, 2, 20));
	/* Edge-triggered: every expiry is a new event. */
	e.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, t, &e);
	arm(t, 0, 10 * MS, 10 * MS);
	say("edge, first expiry", epoll_wait(ep, got, 2, 2000));
	say("edge, next expiry", epoll_wait(ep, got, 2, 2000));
	printf("edge, count >= 2: %d\n", ticks(t) >= 2);
	e.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, t, &e);
	struct sigaction sa = {.sa_handler = on_alarm};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	arm(t, 0, 10000 * MS, 0);
	alarm(1);
	say("read interrupted", ticks(t));
	close(ep);
	close(t);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	errors();
	timers();
	waits();
	return 0;
}
