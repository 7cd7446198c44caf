/* asid: a stale translation must never survive a switch, a munmap, an
 * mprotect or a copy-on-write, whatever the harts' TLBs keep under their
 * ASIDs. Self-checking; prints one deterministic line per part, exit 0.
 *
 *   ring      NPROC processes at the same virtual address, each with its
 *             own data there, pass a token round a ring of pipes; each
 *             checks and changes its page every time it holds the token
 *             (on one hart: a switch between every two; with a small ASID
 *             width: ASID rollovers all the time);
 *   churn     short-lived children one after another, each maps a fresh
 *             page at one fixed address, fills it with its own number
 *             and checks it (ASIDs of dead mms reused after a rollover
 *             must not see the dead mms' freed pages);
 *   remap     a thread reads a page in a loop while the main thread
 *             replaces the mapping (mmap MAP_FIXED) then unmaps it: once
 *             told, the thread must see the new page, then SIGSEGV;
 *   mprotect  a thread stores to a page the main thread makes read-only:
 *             once told, its next store must fault;
 *   cow       after fork, parent and child alternate writes to a shared
 *             copy-on-write page: each must only ever see its own. */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define FIXED ((void *)0x200000000ul)
#define PAGE 4096

static void fill(volatile uint64_t *p, uint64_t v)
{
	for (int i = 0; i < PAGE / 8; i += 64)
		p[i] = v + i;
}

static int holds(volatile uint64_t *p, uint64_t v)
{
	for (int i = 0; i < PAGE / 8; i += 64)
		if (p[i] != v + i)
			return 0;
	return 1;
}

static void ring(int nproc, int rounds)
{
	int pipes[16][2];
	if (nproc > 16)
		nproc = 16;
	for (int i = 0; i < nproc; i++)
		if (pipe(pipes[i]))
			_exit(2);
	volatile uint64_t *page = mmap(FIXED, PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(page == FIXED);
	pid_t pids[16];
	for (int me = 0; me < nproc; me++) {
		pid_t p = fork();
		if (p == 0) {
			/* Each one's own data at the same address (CoW breaks
			 * the sharing at the first fill). */
			uint64_t v = 1000 * (me + 1);
			fill(page, v);
			int bad = 0;
			char c;
			for (int r = 0; r < rounds; r++) {
				if (read(pipes[me][0], &c, 1) != 1)
					_exit(3);
				if (!holds(page, v))
					bad++;
				v += 7;
				fill(page, v);
				if (write(pipes[(me + 1) % nproc][1], &c, 1) != 1)
					_exit(3);
			}
			_exit(bad ? 1 : 0);
		}
		pids[me] = p;
	}
	char c = 't';
	CHECK(write(pipes[0][1], &c, 1) == 1);
	int failed = 0;
	for (int i = 0; i < nproc; i++) {
		int st;
		CHECK(waitpid(pids[i], &st, 0) == pids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	CHECK_EQ(failed, 0);
	munmap((void *)page, PAGE);
	for (int i = 0; i < nproc; i++)
		close(pipes[i][0]), close(pipes[i][1]);
	printf("ring: %d processes x %d rounds: %s\n", nproc, rounds, failed ? "STALE" : "ok");
}

static void churn(int n)
{
	int failed = 0;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0) {
			volatile uint64_t *page = mmap(FIXED, PAGE, PROT_READ | PROT_WRITE,
						       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
						       -1, 0);
			if (page != FIXED)
				_exit(2);
			/* A fresh anonymous page reads zero. */
			if (page[0] != 0 || page[64] != 0)
				_exit(1);
			fill(page, 77 * (i + 1));
			sched_yield();
			_exit(holds(page, 77 * (i + 1)) ? 0 : 1);
		}
		int st;
		if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
			failed++;
	}
	CHECK_EQ(failed, 0);
	printf("churn: %d children: %s\n", n, failed ? "STALE" : "ok");
}

/* remap / mprotect: a thread and a flag. */
static volatile uint64_t *shared;
static atomic_int phase;
static atomic_int seen_new, faulted;
static sigjmp_buf jb;
static __thread int in_thread;

static void on_segv(int sig)
{
	(void)sig;
	if (in_thread)
		siglongjmp(jb, 1);
	_exit(9);
}

static void *reader(void *arg)
{
	(void)arg;
	in_thread = 1;
	if (sigsetjmp(jb, 1)) {
		atomic_store(&faulted, 1);
		return NULL;
	}
	for (;;) {
		int ph = atomic_load(&phase);
		uint64_t v = shared[0];
		if (ph == 1) {
			/* told after the remap: must see the new page */
			int zero = 0;
			if (v != 2)
				atomic_store(&seen_new, -1);
			else
				atomic_compare_exchange_strong(&seen_new, &zero, 1);
		}
		if (ph == 3)
			(void)shared[0]; /* unmapped: must fault */
		if (ph == 4)
			return NULL; /* never faulted */
	}
}

static void remap(void)
{
	struct sigaction sa = { .sa_handler = on_segv };
	sigaction(SIGSEGV, &sa, NULL);
	shared = mmap(FIXED, PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	shared[0] = 1;
	atomic_store(&phase, 0);
	atomic_store(&seen_new, 0);
	atomic_store(&faulted, 0);
	pthread_t t;
	pthread_create(&t, NULL, reader, NULL);
	usleep(20000);
	volatile uint64_t *n = mmap(FIXED, PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(n == FIXED);
	n[0] = 2;
	atomic_store(&phase, 1);
	for (int i = 0; i < 2000 && atomic_load(&seen_new) == 0; i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&seen_new), 1);
	atomic_store(&phase, 2);
	munmap(FIXED, PAGE);
	atomic_store(&phase, 3);
	for (int i = 0; i < 2000 && !atomic_load(&faulted); i++)
		usleep(1000);
	int f = atomic_load(&faulted);
	atomic_store(&phase, 4);
	pthread_join(t, NULL);
	CHECK_EQ(f, 1);
	printf("remap: new page %s, after munmap %s\n",
	       atomic_load(&seen_new) == 1 ? "seen" : "NOT SEEN", f ? "faults" : "STALE");
}

static void *writer(void *arg)
{
	(void)arg;
	in_thread = 1;
	if (sigsetjmp(jb, 1)) {
		atomic_store(&faulted, 1);
		return NULL;
	}
	for (uint64_t i = 0;; i++) {
		int ph = atomic_load(&phase);
		shared[1] = i;
		if (ph == 1)
			atomic_store(&seen_new, -1); /* stored after mprotect */
		if (ph == 4)
			return NULL;
	}
}

static void protect(void)
{
	shared = mmap(FIXED, PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	atomic_store(&phase, 0);
	atomic_store(&seen_new, 0);
	atomic_store(&faulted, 0);
	pthread_t t;
	pthread_create(&t, NULL, writer, NULL);
	usleep(20000);
	CHECK(mprotect(FIXED, PAGE, PROT_READ) == 0);
	atomic_store(&phase, 1);
	for (int i = 0; i < 2000 && !atomic_load(&faulted); i++)
		usleep(1000);
	int f = atomic_load(&faulted);
	atomic_store(&phase, 4);
	pthread_join(t, NULL);
	CHECK_EQ(f, 1);
	CHECK_EQ(atomic_load(&seen_new), 0);
	munmap(FIXED, PAGE);
	printf("mprotect: store after it %s\n", f && !atomic_load(&seen_new) ? "faults" : "STALE");
}

static void cow(int rounds)
{
	volatile uint64_t *page = mmap(FIXED, PAGE, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	fill(page, 5);
	int a[2], b[2];
	CHECK(pipe(a) == 0 && pipe(b) == 0);
	pid_t p = fork();
	if (p == 0) {
		int bad = 0;
		char c;
		for (int r = 0; r < rounds; r++) {
			if (read(a[0], &c, 1) != 1)
				_exit(3);
			/* the parent wrote its copy: ours is unchanged */
			if (!holds(page, 5 + 2 * r))
				bad++;
			fill(page, 5 + 2 * r + 2);
			if (write(b[1], &c, 1) != 1)
				_exit(3);
		}
		_exit(bad ? 1 : 0);
	}
	int bad = 0;
	char c = 'c';
	for (int r = 0; r < rounds; r++) {
		fill(page, 100000 + r);
		CHECK(write(a[1], &c, 1) == 1);
		CHECK(read(b[0], &c, 1) == 1);
		if (!holds(page, 100000 + r))
			bad++;
	}
	int st;
	waitpid(p, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK_EQ(bad, 0);
	munmap((void *)page, PAGE);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
	printf("cow: %d rounds: %s\n", rounds,
	       !bad && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "STALE");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	const char *only = argc > 1 ? argv[1] : "";
	if (!*only || !strcmp(only, "ring")) {
		ring(3, 200);
		ring(12, 50);
	}
	if (!*only || !strcmp(only, "churn"))
		churn(100);
	if (!*only || !strcmp(only, "remap"))
		remap();
	if (!*only || !strcmp(only, "mprotect"))
		protect();
	if (!*only || !strcmp(only, "cow"))
		cow(200);
	return check_exit("asid");
}
