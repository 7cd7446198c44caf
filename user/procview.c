/* /proc as a program sees it: its own stat, statm, task/, environ and
 * cmdline against the system calls that report the same facts, the
 * machine-wide files' shapes, sched_getaffinity against sysconf, sysinfo.
 *
 * Without arguments it prints only facts that hold under qemu-riscv64 too
 * (qemu passes most of /proc through from the host, and fakes
 * /proc/self/stat with 44 fields): the output is compared with qemu's.
 * With the argument "stat" it also checks /proc/self/stat field by field
 * as Linux writes it (52 fields), which only ferrite (or Linux) passes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

extern char **environ;

static int nread(const char *path, char *buf, int cap)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n < 0 ? 0 : n] = 0;
	return n;
}

static const char *yes(int c)
{
	return c ? "yes" : "no";
}

/* The fields of a stat line after "pid (comm) ". */
static int fields(char *line, char *f[64], char *comm, int ncomm)
{
	char *open = strchr(line, '(');
	char *close = strrchr(line, ')');
	if (!open || !close)
		return 0;
	int n = close - open - 1;
	if (n >= ncomm)
		n = ncomm - 1;
	memcpy(comm, open + 1, n);
	comm[n] = 0;
	f[0] = line;
	open[-1] = 0;
	int k = 2;
	for (char *p = strtok(close + 2, " \n"); p && k < 64; p = strtok(NULL, " \n"))
		f[k++] = p;
	return k;
}

static int count_lines(const char *buf, const char *prefix)
{
	int n = 0;
	size_t l = strlen(prefix);
	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, prefix, l))
			n++;
	return n;
}

/* A second thread: /proc/thread-self is its own directory under task/. */
static void *thread_self(void *arg)
{
	char link[64] = "", path[64], line[4096], comm[64], *f[64];
	int *ok = arg;
	if (readlink("/proc/thread-self", link, sizeof link - 1) < 0)
		return NULL;
	snprintf(path, sizeof path, "%d/task/%d", getpid(), gettid());
	nread("/proc/thread-self/stat", line, sizeof line);
	int n = fields(line, f, comm, sizeof comm);
	*ok = !strcmp(link, path) && n > 3 && atoi(f[0]) == gettid();
	return NULL;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16], line[4096];
	char comm[64], *f[64];
	int strict = argc > 1 && !strcmp(argv[1], "stat");

	/* /proc/self/stat: pid, comm, ppid. */
	nread("/proc/self/stat", line, sizeof line);
	int n = fields(line, f, comm, sizeof comm);
	printf("stat pid is getpid: %s\n", yes(n > 3 && atoi(f[0]) == getpid()));
	printf("stat comm: %s\n", comm);
	printf("stat ppid is getppid: %s\n", yes(n > 3 && atoi(f[3]) == getppid()));
	if (strict)
		printf("stat fields: %d\n", n);
	if (strict && n == 52) {
		printf("stat state: %s\n", f[2]);
		printf("stat pgrp is getpgrp: %s\n", yes(atoi(f[4]) == getpgrp()));
		printf("stat session is getsid: %s\n", yes(atoi(f[5]) == getsid(0)));
		printf("stat tty_nr tpgid: %s %s\n", f[6], f[7]);
		printf("stat priority nice threads: %s %s %s\n", f[17], f[18], f[19]);
		printf("stat exit_signal: %s\n", f[37]);
		printf("stat processor < nprocs: %s\n", yes(atoi(f[38]) < sysconf(_SC_NPROCESSORS_ONLN)));
		unsigned long vsize = strtoul(f[22], 0, 10);
		char *s = NULL;
		unsigned long size = strtoul(nread("/proc/self/statm", buf, sizeof buf) > 0 ? buf : "0", &s, 10);
		printf("stat vsize is statm size: %s\n", yes(vsize == size * 4096));
		unsigned long arg_start = strtoul(f[47], 0, 10), arg_end = strtoul(f[48], 0, 10);
		printf("stat arg_start is argv[0]: %s\n", yes(arg_start == (unsigned long)argv[0]));
		printf("stat arg_end after last arg: %s\n",
		       yes(arg_end == (unsigned long)argv[argc - 1] + strlen(argv[argc - 1]) + 1));
		printf("stat exit_code: %s\n", f[51]);
	}

	/* statm: 7 numbers, lib and dt 0. */
	unsigned long m[8];
	nread("/proc/self/statm", buf, sizeof buf);
	int k = sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu %lu", &m[0], &m[1], &m[2], &m[3], &m[4],
		       &m[5], &m[6], &m[7]);
	printf("statm fields: %d, lib %lu, dt %lu\n", k, m[4], m[6]);

	/* task/ lists this thread. */
	DIR *d = opendir("/proc/self/task");
	int found = 0, threads = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		threads++;
		if (atoi(e->d_name) == gettid())
			found = 1;
	}
	if (d)
		closedir(d);
	/* (qemu-riscv64 shows its own host threads here too.) */
	printf("task lists gettid: %s\n", yes(found));
	if (strict)
		printf("task threads: %d\n", threads);

	pthread_t th;
	int ok = 0;
	if (pthread_create(&th, NULL, thread_self, &ok) == 0)
		pthread_join(th, NULL);
	printf("thread-self of a thread is pid/task/gettid: %s\n", yes(ok));

	/* /proc/self is this pid; /proc lists it. */
	char link[64] = "";
	if (readlink("/proc/self", link, sizeof link - 1) < 0)
		strcpy(link, "?");
	printf("/proc/self links to getpid: %s\n", yes(atoi(link) == getpid()));
	d = opendir("/proc");
	found = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (atoi(e->d_name) == getpid() && e->d_type == DT_DIR)
			found = 1;
	if (d)
		closedir(d);
	printf("/proc lists getpid: %s\n", yes(found));

	/* environ and cmdline are the strings the program got. */
	int len = nread("/proc/self/environ", buf, sizeof buf);
	int at = 0, same = len >= 0;
	for (char **e = environ; same && *e; e++) {
		int l = strlen(*e) + 1;
		same = at + l <= len && !memcmp(buf + at, *e, l);
		at += l;
	}
	/* (qemu-riscv64 shows its own host environment.) */
	if (strict)
		printf("environ is envp: %s\n", yes(same && at == len));
	len = nread("/proc/self/cmdline", buf, sizeof buf);
	at = 0;
	same = len >= 0;
	for (int i = 0; same && i < argc; i++) {
		int l = strlen(argv[i]) + 1;
		same = at + l <= len && !memcmp(buf + at, argv[i], l);
		at += l;
	}
	printf("cmdline is argv: %s\n", yes(same && at == len));

	/* CPUs: affinity, sysconf, /proc/stat, /proc/cpuinfo agree. */
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	CPU_ZERO(&set);
	int r = sched_getaffinity(0, sizeof set, &set);
	printf("sched_getaffinity count is nprocs: %s (ok %s)\n", yes(CPU_COUNT(&set) == nproc),
	       yes(r == 0));
	printf("sysconf conf >= onln: %s\n", yes(sysconf(_SC_NPROCESSORS_CONF) >= nproc));
	nread("/proc/stat", buf, sizeof buf);
	printf("/proc/stat cpu lines: total %d, per cpu is nprocs: %s\n", count_lines(buf, "cpu "),
	       yes(count_lines(buf, "cpu") - 1 == nproc));
	printf("/proc/stat has ctxt btime processes procs_running: %s\n",
	       yes(count_lines(buf, "ctxt ") && count_lines(buf, "btime ") &&
		   count_lines(buf, "processes ") && count_lines(buf, "procs_running ")));
	nread("/proc/cpuinfo", buf, sizeof buf);
	printf("/proc/cpuinfo processors is nprocs: %s\n", yes(count_lines(buf, "processor") == nproc));

	/* The small files' shapes. */
	double l1, l5, l15;
	int run, total, last;
	nread("/proc/loadavg", buf, sizeof buf);
	k = sscanf(buf, "%lf %lf %lf %d/%d %d", &l1, &l5, &l15, &run, &total, &last);
	printf("loadavg fields: %d, running <= total: %s\n", k, yes(run <= total));
	double up, idle;
	nread("/proc/uptime", buf, sizeof buf);
	printf("uptime fields: %d\n", sscanf(buf, "%lf %lf", &up, &idle));
	nread("/proc/sys/kernel/ostype", buf, sizeof buf);
	printf("ostype: %s", buf);
	nread("/proc/sys/kernel/pid_max", buf, sizeof buf);
	printf("pid_max >= 301: %s\n", yes(atoi(buf) >= 301));
	nread("/proc/self/mounts", buf, sizeof buf);
	printf("mounts has /proc: %s\n", yes(strstr(buf, " /proc proc ") != NULL));

	/* sysinfo. */
	struct sysinfo si;
	r = sysinfo(&si);
	printf("sysinfo: ok %s, mem_unit %u, procs > 0 %s, freeram <= totalram %s\n", yes(r == 0),
	       si.mem_unit, yes(si.procs > 0), yes(si.freeram <= si.totalram));
	printf("procview: done\n");
	return 0;
}
