/* bench_procs TEST N [HELLO [INTERP]]: process and thread microbenchmarks timed
 * inside the guest with clock_gettime(CLOCK_MONOTONIC) around N
 * iterations, after N/10 (at least 1) untimed warm-up iterations
 * (crates/ferrite/benches/procs.rs runs them under ferrite and
 * qemu-riscv64). Prints one line: "TEST N ITERATIONS US_PER_OP".
 *
 *   fork    fork + _exit(0) in the child + waitpid in the parent
 *   exec    fork + execve(HELLO) (its stdout on /dev/null) + waitpid;
 *           with INTERP, execve(INTERP, [INTERP, HELLO]) instead: what
 *           binfmt_misc does for a foreign binary (qemu-riscv64 as the
 *           interpreter; the host here has no binfmt_misc registration)
 *   exec-held  the same, with HELLO mapped by the parent all along (so
 *           its page cache lives from one exec to the next)
 *   thread  pthread_create + pthread_join of a thread that returns at once
 *   futex   one wake-to-run hand-off between two threads: two threads
 *           pass a token through a futex word (FUTEX_WAIT/FUTEX_WAKE,
 *           private); per op = half a round trip
 *   pipe    one byte there and back between two processes over two
 *           pipes (lat_pipe); per op = one round trip
 *   switch  the same, per op = one context switch (half a round trip:
 *           the switch with the pipe's system calls around it, lat_ctx's
 *           figure without its overhead subtraction) */
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static const char *hello = "user/build/hello";
static const char *interp;
static int devnull = -1;

static void op_fork(void)
{
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p < 0)
		die("fork");
	int st;
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
		die("waitpid");
}

static void op_exec(void)
{
	pid_t p = fork();
	if (p == 0) {
		dup2(devnull, 1);
		if (interp)
			execl(interp, interp, hello, (char *)NULL);
		else
			execl(hello, hello, (char *)NULL);
		_exit(127);
	}
	if (p < 0)
		die("fork");
	int st;
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "exec of %s failed (status %#x)\n", hello, st);
		exit(1);
	}
}

static void *ret(void *a)
{
	return a;
}

static void op_thread(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, ret, NULL))
		die("pthread_create");
	pthread_join(t, NULL);
}

/* The futex token: the thread whose number it holds may go. */
static int token;
static long rounds;

static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void pass(int me, int other)
{
	while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != me)
		futex(&token, FUTEX_WAIT_PRIVATE, other);
	__atomic_store_n(&token, other, __ATOMIC_RELEASE);
	futex(&token, FUTEX_WAKE_PRIVATE, 1);
}

static void *ponger(void *a)
{
	for (long i = 0; i < rounds; i++)
		pass(1, 0);
	return a;
}

/* N hand-offs each way: time for 2N wake-to-run hand-offs. */
static double futex_run(long n)
{
	pthread_t t;
	token = 0;
	rounds = n;
	if (pthread_create(&t, NULL, ponger, NULL))
		die("pthread_create");
	double t0 = now_us();
	for (long i = 0; i < n; i++)
		pass(0, 1);
	/* Wait for the last hand-back. */
	while (__atomic_load_n(&token, __ATOMIC_ACQUIRE) != 0)
		futex(&token, FUTEX_WAIT_PRIVATE, 1);
	double t1 = now_us();
	pthread_join(t, NULL);
	return t1 - t0;
}

static double pipe_run(long n)
{
	int a[2], b[2];
	if (syscall(SYS_pipe2, a, 0) || syscall(SYS_pipe2, b, 0))
		die("pipe2");
	pid_t p = fork();
	if (p == 0) {
		char c;
		for (long i = 0; i < n; i++)
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	char c = 'x';
	double t0 = now_us();
	for (long i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			die("pipe round trip");
	double t1 = now_us();
	int st;
	waitpid(p, &st, 0);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
	return t1 - t0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_procs fork|exec|exec-held|thread|futex|pipe|switch N [HELLO [INTERP]]\n");
		return 2;
	}
	const char *test = argv[1];
	long n = strtol(argv[2], NULL, 10);
	if (n < 1)
		n = 1;
	if (argc > 3)
		hello = argv[3];
	if (argc > 4)
		interp = argv[4];
	long warm = n / 10 > 0 ? n / 10 : 1;
	double us;
	if (!strcmp(test, "futex")) {
		futex_run(warm);
		us = futex_run(n) / (2.0 * n);
	} else if (!strcmp(test, "pipe")) {
		pipe_run(warm);
		us = pipe_run(n) / n;
	} else if (!strcmp(test, "switch")) {
		/* lat_ctx's figure: a pipe round trip is two switches. */
		pipe_run(warm);
		us = pipe_run(n) / (2.0 * n);
	} else {
		void (*op)(void);
		if (!strcmp(test, "fork"))
			op = op_fork;
		else if (!strcmp(test, "exec") || !strcmp(test, "exec-held")) {
			op = op_exec;
			/* exec-held: the parent keeps HELLO mapped, so a kernel
			 * that drops a file's page cache with its last user (no
			 * inode cache) keeps it between the execs. */
			if (!strcmp(test, "exec-held")) {
				int fd = open(hello, O_RDONLY);
				struct stat st;
				if (fd < 0 || fstat(fd, &st) ||
				    mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED)
					die(hello);
			}
			devnull = open("/dev/null", O_WRONLY);
			if (devnull < 0)
				die("/dev/null");
		} else if (!strcmp(test, "thread"))
			op = op_thread;
		else {
			fprintf(stderr, "bench_procs: unknown test %s\n", test);
			return 2;
		}
		for (long i = 0; i < warm; i++)
			op();
		double t0 = now_us();
		for (long i = 0; i < n; i++)
			op();
		us = (now_us() - t0) / n;
	}
	printf("%s %ld %.3f\n", test, n, us);
	return 0;
}
