/* stress_fork [N]: N (default 1,000) fork/exit/wait cycles, one child at a time (the
 * process-model stress test, crates/ferrite/tests/stress_procs.rs).
 *
 * Child i exits with i & 0xff after writing a private copy-on-write page
 * (so every cycle copies at least one page and tears down an mm with a
 * private anonymous page); the parent checks each status and that its own
 * copy kept its value. Every 1,000 cycles one child also forks a
 * grandchild it does not wait for, so the orphan goes to the reaper.
 * Output is deterministic (compared with qemu-riscv64). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static char page[4096] __attribute__((aligned(4096)));

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	long bad_status = 0, bad_pid = 0, failed_fork = 0;
	memset(page, 'p', sizeof page);
	for (long i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0) {
			failed_fork++;
			continue;
		}
		if (p == 0) {
			page[i % sizeof page] = 'c';
			if (i % 1000 == 999 && fork() == 0)
				_exit(0); /* an orphan: reparented, reaped by init */
			_exit((int)(i & 0xff));
		}
		int st = -1;
		pid_t w = waitpid(p, &st, 0);
		if (w != p)
			bad_pid++;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != (i & 0xff))
			bad_status++;
	}
	int clean = 1;
	for (size_t j = 0; j < sizeof page; j++)
		clean &= page[j] == 'p';
	printf("fork/exit/wait: %ld cycles, %ld failed forks, %ld wrong pids, "
	       "%ld wrong statuses, parent page %s\n",
	       n, failed_fork, bad_pid, bad_status, clean ? "intact" : "CHANGED");
	CHECK_EQ(failed_fork, 0);
	CHECK_EQ(bad_pid, 0);
	CHECK_EQ(bad_status, 0);
	CHECK(clean);
	return check_exit("stress_fork");
}
