/* signest: several signals pending at once are all delivered on the way
 * back to user mode, each frame on top of the last, so the handler of the
 * signal delivered last runs first (Linux's exit_to_user_mode loop). The
 * order is printed for: three standard signals unblocked together (the
 * lowest is dequeued first, so its handler runs last), the same with an
 * sa_mask that holds one back until the first handler returns, realtime
 * signals queued twice each, and a signal raised inside a handler.
 * Compared with qemu-riscv64. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char order[64];
static int n;

static void rec(int s)
{
	if (n < (int)sizeof(order) - 4)
		n += sprintf(order + n, "%d ", s);
}

static void raise_usr2(int s)
{
	rec(s);
	raise(SIGUSR2);
	rec(-s);
}

static void handle(int sig, void (*fn)(int), const sigset_t *mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	if (mask)
		sa.sa_mask = *mask;
	sigaction(sig, &sa, NULL);
}

static void run(const char *what, const int *sigs, int k)
{
	sigset_t all, old;
	sigemptyset(&all);
	for (int i = 0; i < k; i++)
		sigaddset(&all, sigs[i]);
	sigprocmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < k; i++)
		raise(sigs[i]);
	n = 0;
	order[0] = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("%s: %s\n", what, order);
}

int main(void)
{
	int std3[] = { SIGUSR2, SIGHUP, SIGUSR1 };
	handle(SIGUSR1, rec, NULL);
	handle(SIGUSR2, rec, NULL);
	handle(SIGHUP, rec, NULL);
	run("USR2, HUP, USR1 unblocked together", std3, 3);

	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	handle(SIGHUP, rec, &m);
	run("the same, HUP's handler masking USR2", std3, 3);
	handle(SIGHUP, rec, NULL);

	int rt[] = { SIGRTMIN + 1, SIGRTMIN, SIGRTMIN + 1, SIGRTMIN };
	handle(SIGRTMIN, rec, NULL);
	handle(SIGRTMIN + 1, rec, NULL);
	run("RTMIN+1, RTMIN, RTMIN+1, RTMIN queued", rt, 4);

	int one[] = { SIGUSR1 };
	handle(SIGUSR1, raise_usr2, NULL);
	run("USR1 whose handler raises USR2", one, 1);
	return 0;
}
