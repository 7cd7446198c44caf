/* stress_forkbomb: a fork bomb that must be stopped by the kernel's limits
 * (crates/ferrite/tests/stress_procs.rs), and a kernel that survives it.
 *
 *   stress_forkbomb nproc LIMIT   in a child that drops to uid 65534 with
 *                                 setuid(), RLIMIT_NPROC = LIMIT (root is
 *                                 exempt from it, as in Linux)
 *   stress_forkbomb threads       as the caller (root): only the kernel's
 *                                 max_threads (or memory) stops it
 *   stress_forkbomb mem KIB       each process also writes KIB KiB of
 *                                 private memory, so memory runs out first
 *
 * Every process of the bomb forks in a loop until fork fails, records the
 * errno in a MAP_SHARED page, and sleeps on a shared futex until the
 * leader releases everybody; then each reaps its children and exits. The
 * leader waits until every process has seen its fork fail (or, when the
 * kernel kills processes for memory, until the counts stop moving), then
 * releases. Accepted failures: EAGAIN and ENOMEM; a process may also be
 * killed by the kernel (the OOM kill), which is counted. A hard cap of
 * CAP processes keeps a kernel without limits from taking the host down.
 *
 * Prints the counts and "bomb: ok" when the bomb stopped only by
 * accepted failures; exit status 0 then, 1 on a failed check, 3 when
 * setuid is not available (nproc mode: not a failure of the bomb), 2 with
 * the usage when no mode is given. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define CAP 5000

struct shared {
	int go;
	int procs;	/* processes of the bomb (leader included) */
	int done;	/* processes whose fork has failed */
	int eagain, enomem, other, other_errno;
	int reaped, killed, capped;
};

static struct shared *sh;
static long touch_kib;

static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static int add(int *p, int v)
{
	return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST);
}

static int get(int *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* Reap every child; count how they ended. */
static void reap_all(void)
{
	int st;
	pid_t w;
	while ((w = wait(&st)) > 0 || (w < 0 && errno == EINTR)) {
		if (w < 0)
			continue;
		add(&sh->reaped, 1);
		if (WIFSIGNALED(st))
			add(&sh->killed, 1);
	}
}

/* One process of the bomb: fork until it fails, then sleep until
 * released, then reap and exit. */
static void bomb(void)
{
	if (touch_kib > 0) {
		char *m = malloc(touch_kib * 1024);
		if (m)
			for (long i = 0; i < touch_kib * 1024; i += 4096)
				m[i] = (char)i;
	}
	for (;;) {
		if (get(&sh->procs) >= CAP) {
			add(&sh->capped, 1);
			break;
		}
		pid_t p = fork();
		if (p == 0) {
			bomb();
			_exit(0);
		}
		if (p > 0) {
			add(&sh->procs, 1);
			continue;
		}
		int e = errno;
		if (e == EAGAIN)
			add(&sh->eagain, 1);
		else if (e == ENOMEM)
			add(&sh->enomem, 1);
		else {
			add(&sh->other, 1);
			sh->other_errno = e;
		}
		break;
	}
	add(&sh->done, 1);
	while (!get(&sh->go))
		futex(&sh->go, FUTEX_WAIT, 0);
	reap_all();
}

int main(int argc, char **argv)
{
	/* No default: `make check-qemu` runs every program without
	 * arguments, and a bomb on the host is not what it wants. */
	const char *mode = argc > 1 ? argv[1] : "";
	long arg = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* Orphans of killed processes come back to us (we are init under
	 * ferrite; under qemu-riscv64 we ask to be their subreaper). */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (!strcmp(mode, "mem"))
		touch_kib = arg > 0 ? arg : 256;
	else if (strcmp(mode, "nproc") && strcmp(mode, "threads")) {
		fprintf(stderr, "usage: stress_forkbomb nproc LIMIT | threads | mem KIB\n");
		return 2;
	}
	pid_t leader = fork();
	if (leader < 0) {
		perror("fork");
		return 1;
	}
	if (leader == 0) {
		if (!strcmp(mode, "nproc")) {
			if (setuid(65534) != 0) {
				printf("bomb: setuid: %s: nproc mode skipped\n", errname(errno));
				fflush(stdout);
				_exit(3);
			}
			struct rlimit rl = {arg > 0 ? arg : 32, arg > 0 ? arg : 32};
			if (setrlimit(RLIMIT_NPROC, &rl) != 0) {
				printf("bomb: setrlimit: %s\n", errname(errno));
				_exit(1);
			}
		}
		add(&sh->procs, 1);
		bomb();
		_exit(0);
	}
	/* Wait until everybody has seen fork fail; if processes are killed
	 * (they never report), until nothing has moved for 2 s. */
	struct timespec tick = {0, 5000000};
	int last = -1, still = 0;
	for (long spins = 0; spins < 24000; spins++) { /* 120 s at most */
		int procs = get(&sh->procs), done = get(&sh->done);
		if (procs > 0 && done == procs)
			break;
		int sum = procs * 100003 + done;
		still = sum == last ? still + 1 : 0;
		last = sum;
		if (procs > 0 && still >= 400)
			break;
		int st;
		if (waitpid(leader, &st, WNOHANG) == leader) {
			/* The leader died (setuid failed, or killed). */
			if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
				return 3;
			add(&sh->reaped, 1);
			if (WIFSIGNALED(st))
				add(&sh->killed, 1);
			leader = -1;
			if (procs == 0)
				break;
		}
		nanosleep(&tick, NULL);
	}
	int procs = get(&sh->procs), done = get(&sh->done);
	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	futex(&sh->go, FUTEX_WAKE, INT_MAX);
	reap_all();
	int reaped = get(&sh->reaped), killed = get(&sh->killed);
	printf("bomb %s: %d processes, %d saw fork fail (EAGAIN %d, ENOMEM %d, "
	       "other %d), %d reaped, %d killed, %d stopped by the cap\n",
	       mode, procs, done, sh->eagain, sh->enomem, sh->other, reaped, killed,
	       sh->capped);
	CHECK(procs > 1);
	CHECK_EQ(sh->other, 0);
	if (sh->other)
		fprintf(stderr, "unexpected fork errno: %s\n", errname(sh->other_errno));
	CHECK_EQ(sh->capped, 0);
	CHECK(sh->eagain + sh->enomem > 0 || killed > 0);
	/* Every process of the bomb was reaped by someone. A process killed
	 * between its fork and its count (the OOM kill of its copy-on-write
	 * fault) leaves a child that was never counted: more reaped then. */
	if (killed)
		CHECK(reaped >= procs);
	else
		CHECK_EQ(reaped, procs);
	if (!strcmp(mode, "nproc"))
		CHECK(procs <= arg && sh->enomem == 0);
	if (!check_failures)
		printf("bomb: ok\n");
	return check_exit("stress_forkbomb");
}
