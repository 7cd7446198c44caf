/* forkshared: fork leaves a shared area's page-table entries behind (the
 * child's faults find the pages again), a private one's are copied. The
 * child prints what its /proc/self/status counts of each kind right after
 * the fork and after it has read both areas, and what it read. Compared
 * with the same program run on the host's Linux (qemu-riscv64's /proc is
 * the host process's, not the guest's). */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGES 16

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key), ": %ld", &v);
	fclose(f);
	return v;
}

int main(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len = PAGES * page;
	char *sh = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char *pr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || pr == MAP_FAILED)
		return 1;
	for (int i = 0; i < PAGES; i++) {
		sh[i * page] = 's';
		pr[i * page] = 'p';
	}
	long sh0 = status_kb("RssShmem");
	long an0 = status_kb("RssAnon");
	printf("parent: shmem %ld kB, anon at least %d kB: %s\n", sh0, PAGES * 4,
	       an0 >= PAGES * page / 1024 ? "yes" : "no");
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		long s1 = status_kb("RssShmem");
		long a1 = status_kb("RssAnon");
		int ok = 1;
		for (int i = 0; i < PAGES; i++)
			ok &= sh[i * page] == 's' && pr[i * page] == 'p';
		long s2 = status_kb("RssShmem");
		sh[0] = 'c';
		printf("child after fork: shmem %ld kB, anon at least %d kB: %s\n", s1, PAGES * 4,
		       a1 >= PAGES * page / 1024 ? "yes" : "no");
		printf("child after reading: shmem %ld kB, contents %s\n", s2, ok ? "intact" : "WRONG");
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(c, &st, 0);
	printf("parent sees the child's write: %c\n", sh[0]);
	return 0;
}
