/* stress_leak [N]: after every process has exited, is every page and slab
 * object back? (crates/ferrite/tests/stress_procs.rs runs it as init.)
 *
 * Every workload below first runs 16 times to warm up (glibc's caches,
 * the page cache of this binary, slabs grown to the workload's peak).
 * Then for each: read /proc/meminfo, /proc/zoneinfo and /proc/slabinfo,
 * run it N times (N / 4 or N / 2 for the slower ones; N = 1000 by
 * default), reap everything, read them again, and print
 *
 *   WORKLOAD free BEFORE AFTER    pages free, held by the slab allocator
 *                                 or in the page cache: MemFree + Slab +
 *                                 Cached, plus the pages on the per-CPU
 *                                 lists (zoneinfo's pcp "count", which
 *                                 MemFree omits). A slab that grew is
 *                                 judged by its objects below; the page
 *                                 cache (this binary, read in as it runs)
 *                                 is not a leak
 *   WORKLOAD meminfo FIELD BEFORE AFTER   (kB) those of MemFree, Slab,
 *                                 PageTables, AnonPages, Cached that moved
 *   WORKLOAD slab NAME BEFORE AFTER LIMIT  active objects of every cache
 *                                 whose count changed, and always of
 *                                 task_struct, signal_cache,
 *                                 sighand_cache, mm_struct and
 *                                 vm_area_struct; LIMIT is the per-CPU
 *                                 array cache's (SLAB counts the objects
 *                                 cached there as active)
 *
 * A leak of one object or page per cycle shows as a difference of about
 * the cycle count; the test allows what the per-CPU array caches may hold
 * (LIMIT per CPU). The workloads:
 *
 *   fork     fork, the child writes a CoW page and exits, wait
 *   vfork    vfork, the child exits, wait
 *   exec     fork, the child execs this program ("stress_leak exit": it
 *            starts 4 sleeping threads and returns from main), wait
 *   thread   pthread_create + pthread_join in this process
 *   group    a child starts 4 threads that sleep, then exit_group()s
 *   execthr  a child starts 4 threads that sleep, then one thread execs
 *   orphan   a child forks a grandchild and exits; the grandchild is
 *            reparented to init (us) and reaped by wait(-1)
 *   killed   a child sleeping in sigsuspend() is killed by SIGKILL
 *   sigchld  a child exits while SIGCHLD is ignored (reaped by the kernel
 *            at once, SA_NOCLDWAIT semantics)
 *   falloc   a memfd grown by fallocate, mapped shared, a hole punched by
 *            fallocate and one by MADV_REMOVE, closed and unmapped
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define MAX_CACHES 128

static const char *meminfo_fields[] = {"MemFree", "Slab", "PageTables", "AnonPages",
				       "Cached"};
#define NFIELDS (sizeof meminfo_fields / sizeof *meminfo_fields)

struct snap {
	long free_pages;
	long meminfo[NFIELDS]; /* kB */
	int ncaches;
	char name[MAX_CACHES][64];
	long active[MAX_CACHES];
	long limit[MAX_CACHES];
};

static char buf[256 << 10];
static const char *self;
static char cow[4096] __attribute__((aligned(4096)));

/* Read a whole /proc file into buf (static: no allocation). */
static long slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	long n = 0, r;
	while (n < (long)sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	return n;
}

static void take(struct snap *s)
{
	memset(s, 0, sizeof *s);
	if (slurp("/proc/meminfo") > 0)
		for (unsigned i = 0; i < NFIELDS; i++) {
			char key[32];
			snprintf(key, sizeof key, "\n%s:", meminfo_fields[i]);
			char *p = strstr(buf, key);
			s->meminfo[i] = p ? strtol(p + strlen(key), NULL, 10) : -1;
		}
	long pcp = 0;
	if (slurp("/proc/zoneinfo") > 0)
		for (char *p = buf; (p = strstr(p, " count: ")); p += 8)
			pcp += strtol(p + 8, NULL, 10);
	s->free_pages = (s->meminfo[0] + s->meminfo[1] + s->meminfo[4]) / 4 + pcp;
	if (slurp("/proc/slabinfo") <= 0)
		return;
	char *line = strchr(buf, '\n');
	line = line ? strchr(line + 1, '\n') : NULL; /* skip the two header lines */
	while (line && *++line && s->ncaches < MAX_CACHES) {
		char name[64];
		long active, limit = -1;
		if (sscanf(line, "%63s %ld", name, &active) == 2) {
			char *t = strstr(line, "tunables");
			if (t)
				limit = strtol(t + 8, NULL, 10);
			snprintf(s->name[s->ncaches], sizeof s->name[0], "%s", name);
			s->limit[s->ncaches] = limit;
			s->active[s->ncaches++] = active;
		}
		line = strchr(line, '\n');
	}
}

static int index_of(const struct snap *s, const char *name)
{
	for (int i = 0; i < s->ncaches; i++)
		if (!strcmp(s->name[i], name))
			return i;
	return -1;
}

static long active_of(const struct snap *s, const char *name)
{
	int i = index_of(s, name);
	return i < 0 ? -1 : s->active[i];
}

static void slab_line(const char *w, const struct snap *a, const struct snap *b,
		      const char *name)
{
	int i = index_of(b, name);
	printf("%s slab %s %ld %ld %ld\n", w, name, active_of(a, name), active_of(b, name),
	       i < 0 ? -1 : b->limit[i]);
}

static void report(const char *w, const struct snap *a, const struct snap *b)
{
	static const char *always[] = {"task_struct", "signal_cache", "sighand_cache",
				       "mm_struct", "vm_area_struct"};
	printf("%s free %ld %ld\n", w, a->free_pages, b->free_pages);
	for (unsigned i = 0; i < NFIELDS; i++)
		if (a->meminfo[i] != b->meminfo[i])
			printf("%s meminfo %s %ld %ld\n", w, meminfo_fields[i], a->meminfo[i],
			       b->meminfo[i]);
	for (unsigned i = 0; i < sizeof always / sizeof *always; i++)
		slab_line(w, a, b, always[i]);
	for (int i = 0; i < b->ncaches; i++) {
		int listed = 0;
		for (unsigned j = 0; j < sizeof always / sizeof *always; j++)
			listed |= !strcmp(b->name[i], always[j]);
		if (!listed && active_of(a, b->name[i]) != b->active[i])
			slab_line(w, a, b, b->name[i]);
	}
	fflush(stdout);
}

static void reap(pid_t p, int want_sig)
{
	int st;
	pid_t w = waitpid(p, &st, 0);
	CHECK_EQ(w, p);
	if (want_sig)
		CHECK_EQ(st, want_sig); /* killed by want_sig */
	else
		CHECK_EQ(st, 0); /* exit(0) */
}

/* pause(), through rt_sigsuspend (glibc's pause is ppoll on riscv64). */
static void sleep_forever(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (;;)
		sigsuspend(&none);
}

static void *sleeper(void *a)
{
	sleep_forever();
	return a;
}

static void *nothing(void *a)
{
	return a;
}

static void start_sleepers(void)
{
	for (int i = 0; i < 4; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, sleeper, NULL) != 0)
			_exit(5);
	}
}

static void w_fork(void)
{
	pid_t p = fork();
	if (p == 0) {
		cow[0]++;
		_exit(0);
	}
	reap(p, 0);
}

static void w_vfork(void)
{
	pid_t p = vfork();
	if (p == 0)
		_exit(0);
	reap(p, 0);
}

static void w_exec(void)
{
	pid_t p = fork();
	if (p == 0) {
		execl(self, self, "exit", (char *)NULL);
		_exit(6);
	}
	reap(p, 0);
}

static void w_thread(void)
{
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, nothing, NULL), 0);
	pthread_join(t, NULL);
}

static void w_group(void)
{
	pid_t p = fork();
	if (p == 0) {
		start_sleepers();
		exit(0);
	}
	reap(p, 0);
}

static void *execer(void *a)
{
	execl(self, self, "exit", (char *)NULL);
	_exit(7);
	return a;
}

static void w_execthr(void)
{
	pid_t p = fork();
	if (p == 0) {
		start_sleepers();
		pthread_t t;
		pthread_create(&t, NULL, execer, NULL);
		sleep_forever();
	}
	reap(p, 0);
}

static void w_orphan(void)
{
	pid_t p = fork();
	if (p == 0) {
		if (fork() == 0) {
			usleep(1000);
			_exit(0);
		}
		_exit(0);
	}
	reap(p, 0);
	/* The grandchild comes to init (us under ferrite); under qemu to the
	 * host's reaper, and then there is nothing to wait for. */
	if (getpid() == 1) {
		int st;
		pid_t w;
		while ((w = wait(&st)) < 0 && errno == EINTR)
			;
		CHECK(w > 0);
	}
}

static void w_killed(void)
{
	pid_t p = fork();
	if (p == 0) {
		sleep_forever();
	}
	usleep(200);
	kill(p, SIGKILL);
	reap(p, SIGKILL);
}

static void w_sigchld(void)
{
	signal(SIGCHLD, SIG_IGN);
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	int st;
	/* With SIGCHLD ignored the child is never a zombie: wait blocks until
	 * it is gone, then fails with ECHILD. */
	pid_t w = waitpid(p, &st, 0);
	CHECK(w < 0 && errno == ECHILD);
	signal(SIGCHLD, SIG_DFL);
}

static void w_falloc(void)
{
	int m = memfd_create("leak", 0);
	CHECK(m >= 0);
	CHECK(fallocate(m, 0, 0, 32 * 4096) == 0);
	char *p = mmap(NULL, 32 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 1, 32 * 4096);
	CHECK(fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8 * 4096 + 100) == 0);
	CHECK(madvise(p + 16 * 4096, 8 * 4096, MADV_REMOVE) == 0);
	CHECK(p[4096] == 0 && p[20 * 4096] == 0 && p[31 * 4096] == 1);
	close(m);
	munmap(p, 32 * 4096);
}

static const struct {
	const char *name;
	void (*fn)(void);
	int scale; /* cycles = N / scale */
} workloads[] = {
	{"fork", w_fork, 1},     {"vfork", w_vfork, 1},     {"exec", w_exec, 4},
	{"thread", w_thread, 1}, {"group", w_group, 4},     {"execthr", w_execthr, 4},
	{"orphan", w_orphan, 2}, {"killed", w_killed, 2},   {"sigchld", w_sigchld, 1},
	{"falloc", w_falloc, 4},
};

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exit")) {
		/* The exec'd image: a thread that sleeps, then exit_group(0),
		 * which must end it too (after an exec from a thread as well). */
		start_sleepers();
		return 0;
	}
	self = argv[0];
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	const char *only = argc > 2 ? argv[2] : NULL;
	static struct snap a, b;
	/* Warm up: every workload, so that what one leaves in caches (this
	 * binary's pages, a grown slab) is not counted against the next. */
	for (unsigned i = 0; i < sizeof workloads / sizeof *workloads; i++)
		if (!only || !strcmp(only, workloads[i].name))
			for (int j = 0; j < 16; j++)
				workloads[i].fn();
	for (unsigned i = 0; i < sizeof workloads / sizeof *workloads; i++) {
		if (only && strcmp(only, workloads[i].name))
			continue;
		long cycles = n / workloads[i].scale;
		take(&a);
		for (long j = 0; j < cycles; j++)
			workloads[i].fn();
		take(&b);
		printf("%s cycles %ld\n", workloads[i].name, cycles);
		report(workloads[i].name, &a, &b);
	}
	return check_exit("stress_leak");
}
