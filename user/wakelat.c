/* wakelat: wake-up latency from a wake on one CPU to the woken thread
 * running on another, with its distribution (schbench's percentiles).
 *
 *   wakelat N [GAP_US [spin]]
 *
 * A waker thread and a worker thread. N times: the waker sleeps GAP_US
 * (default 200: long enough for the worker's CPU to go idle), reads the
 * clock, publishes a sequence number and FUTEX_WAKEs the worker, then
 * spins until the worker acknowledges (so its own CPU stays busy and the
 * worker must run on another one). The worker, asleep in FUTEX_WAIT,
 * reads the clock when it runs again; the latency is the difference. The
 * two threads ask for different CPUs (sched_setaffinity; ignored where the
 * kernel cannot place them). Prints, in µs:
 *
 *   wakelat N p50 P50 p90 P90 p99 P99 max MAX
 *
 * The first N/10 wake-ups are a warm-up and are not counted. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long n, warm, gap_us = 200;
static int spin;
static volatile long seq, ack;
static volatile double t_wake;
static double *lat;

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static long futex(volatile long *uaddr, int op, long val)
{
	/* The futex word is the low 32 bits of the long (little-endian). */
	return syscall(SYS_futex, (int *)uaddr, op, (int)val, NULL, NULL, 0);
}

static void pin(int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	sched_setaffinity(0, sizeof s, &s);
}

static void *worker(void *a)
{
	pin(1);
	long last = 0;
	for (long i = 0; i < warm + n; i++) {
		while (__atomic_load_n(&seq, __ATOMIC_ACQUIRE) == last)
			futex(&seq, FUTEX_WAIT_PRIVATE, last);
		double t1 = now_us();
		last = __atomic_load_n(&seq, __ATOMIC_ACQUIRE);
		if (i >= warm)
			lat[i - warm] = t1 - t_wake;
		__atomic_store_n(&ack, last, __ATOMIC_RELEASE);
	}
	return a;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	long i = (long)(p / 100.0 * n);
	if (i >= n)
		i = n - 1;
	return lat[i];
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: wakelat N [GAP_US [spin]]\n");
		return 2;
	}
	n = strtol(argv[1], NULL, 10);
	if (n < 1)
		n = 1;
	if (argc > 2)
		gap_us = strtol(argv[2], NULL, 10);
	/* "spin": the waker busy-waits the gap instead of sleeping, so its
	 * CPU never goes idle. */
	if (argc > 3 && !strcmp(argv[3], "spin"))
		spin = 1;
	warm = n / 10;
	lat = calloc(n, sizeof *lat);
	if (!lat)
		return 1;
	pin(0);
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL)) {
		perror("pthread_create");
		return 1;
	}
	for (long i = 1; i <= warm + n; i++) {
		if (spin) {
			double until = now_us() + gap_us;
			while (now_us() < until)
				;
		} else {
			usleep(gap_us);
		}
		t_wake = now_us();
		__atomic_store_n(&seq, i, __ATOMIC_RELEASE);
		futex(&seq, FUTEX_WAKE_PRIVATE, 1);
		while (__atomic_load_n(&ack, __ATOMIC_ACQUIRE) != i)
			;
	}
	pthread_join(t, NULL);
	qsort(lat, n, sizeof *lat, cmp);
	printf("wakelat %ld p50 %.2f p90 %.2f p99 %.2f max %.2f\n", n, pct(50), pct(90),
	       pct(99), lat[n - 1]);
	return 0;
}
