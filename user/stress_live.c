/* stress_live N: N processes alive at once, each asleep until released,
 * then all reaped (crates/ferrite/tests/stress_procs.rs runs it with 300
 * on --cpus 2).
 *
 * The children sleep in three different ways, a third each: FUTEX_WAIT on
 * a word of a MAP_SHARED page (a shared futex, keyed by the page),
 * rt_sigsuspend until SIGUSR1, and nanosleep(1 ms) in a loop that polls
 * the same word. Each announces itself in a shared counter before it
 * sleeps; the parent waits until all N have, so all N are alive at once.
 * Then it sets the word, wakes the futex, sends SIGUSR1 to the signal
 * sleepers, and reaps all N checking each exit status (i & 0xff).
 * Output is deterministic (compared with qemu-riscv64). */
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

struct shared {
	int go;
	int ready;
};

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void child(struct shared *sh, int i)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	switch (i % 3) {
	case 0:
		while (!__atomic_load_n(&sh->go, __ATOMIC_SEQ_CST))
			futex(&sh->go, FUTEX_WAIT, 0);
		break;
	case 1: {
		sigset_t none;
		sigemptyset(&none);
		while (!got_usr1)
			sigsuspend(&none);
		break;
	}
	default: {
		struct timespec ms = {0, 1000000};
		while (!__atomic_load_n(&sh->go, __ATOMIC_SEQ_CST))
			nanosleep(&ms, NULL);
		break;
	}
	}
	_exit(i & 0xff);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300;
	if (n < 1 || n > 100000)
		n = 300;
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sh != MAP_FAILED);
	if (sh == MAP_FAILED)
		return check_exit("stress_live");
	/* SIGUSR1 blocked from before the fork until sigsuspend, so a signal
	 * sent early stays pending rather than lost. */
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);

	pid_t *pids = calloc(n, sizeof *pids);
	int forked = 0;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0)
			child(sh, i);
		if (p < 0) {
			perror("fork");
			break;
		}
		pids[forked++] = p;
	}
	/* Wait until every child is up (each then sleeps until released). */
	struct timespec tick = {0, 2000000};
	for (long spins = 0; __atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < forked; spins++) {
		if (spins > 30000) /* 60 s */
			break;
		nanosleep(&tick, NULL);
	}
	int ready = __atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST);
	/* None may have exited before the release. */
	int early = 0, st;
	for (int i = 0; i < forked; i++)
		if (waitpid(pids[i], &st, WNOHANG) != 0)
			early++;
	printf("live: %d forked, %d up and asleep at once, %d exited early\n",
	       forked, ready, early);

	__atomic_store_n(&sh->go, 1, __ATOMIC_SEQ_CST);
	futex(&sh->go, FUTEX_WAKE, INT_MAX);
	for (int i = 1; i < forked; i += 3)
		kill(pids[i], SIGUSR1);

	long sum = 0, want = 0;
	int reaped = 0, bad = 0;
	for (int i = 0; i < forked; i++) {
		pid_t w = waitpid(pids[i], &st, 0);
		if (w != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != (i & 0xff))
			bad++;
		else
			reaped++;
		sum += WEXITSTATUS(st);
		want += i & 0xff;
	}
	printf("live: %d reaped, %d wrong, status sum %ld (want %ld), "
	       "then wait: %s\n",
	       reaped, bad, sum, want, errname(wait(&st) < 0 ? errno : 0));
	CHECK_EQ(forked, n);
	CHECK_EQ(ready, n);
	CHECK_EQ(early, 0);
	CHECK_EQ(reaped, n);
	CHECK_EQ(sum, want);
	return check_exit("stress_live");
}
