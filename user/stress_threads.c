/* stress_threads [THREADS [ROUNDS]]: THREADS (64) threads hammering
 * futex-based synchronisation (crates/ferrite/tests/stress_procs.rs runs
 * it on --cpus 4), with checked final counts:
 *
 * - a raw futex mutex (the three-state lock of Drepper's "Futexes Are
 *   Tricky": FUTEX_WAIT/FUTEX_WAKE called directly);
 * - a pthread mutex around a plain counter;
 * - a pthread condvar: a token passed round the ring of threads, each
 *   waiting for its turn (broadcast wake-ups);
 * - a pthread barrier at the start of every round (all THREADS must
 *   arrive before any leaves; checked with a per-round arrival count).
 *
 * Output is deterministic (compared with qemu-riscv64). */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define INCS 100

static int nthreads = 64, rounds = 20;

/* The raw futex mutex: 0 free, 1 locked, 2 locked with waiters. */
static int fmutex;
static long fcount;

static long futex(int *uaddr, int op, int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void flock_(int *m)
{
	int c = 0;
	if (__atomic_compare_exchange_n(m, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	if (c != 2)
		c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		futex(m, FUTEX_WAIT_PRIVATE, 2);
		c = __atomic_exchange_n(m, 2, __ATOMIC_ACQUIRE);
	}
}

static void funlock(int *m)
{
	if (__atomic_sub_fetch(m, 1, __ATOMIC_RELEASE) != 0) {
		__atomic_store_n(m, 0, __ATOMIC_RELEASE);
		futex(m, FUTEX_WAKE_PRIVATE, 1);
	}
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long pcount;

static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ring_cv = PTHREAD_COND_INITIALIZER;
static int turn;
static long passes;

static pthread_barrier_t bar;
static int arrived[1000];
static int barrier_bad;

static void *worker(void *arg)
{
	int me = (int)(long)arg;
	for (int r = 0; r < rounds; r++) {
		__atomic_add_fetch(&arrived[r], 1, __ATOMIC_SEQ_CST);
		pthread_barrier_wait(&bar);
		if (__atomic_load_n(&arrived[r], __ATOMIC_SEQ_CST) != nthreads)
			__atomic_add_fetch(&barrier_bad, 1, __ATOMIC_SEQ_CST);
		for (int i = 0; i < INCS; i++) {
			flock_(&fmutex);
			fcount++;
			funlock(&fmutex);
			pthread_mutex_lock(&mu);
			pcount++;
			pthread_mutex_unlock(&mu);
		}
		pthread_mutex_lock(&ring_mu);
		while (turn != me)
			pthread_cond_wait(&ring_cv, &ring_mu);
		turn = (me + 1) % nthreads;
		passes++;
		pthread_cond_broadcast(&ring_cv);
		pthread_mutex_unlock(&ring_mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		nthreads = atoi(argv[1]);
	if (argc > 2)
		rounds = atoi(argv[2]);
	if (nthreads < 1 || nthreads > 1000 || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: stress_threads [THREADS<=1000 [ROUNDS<=1000]]\n");
		return 2;
	}
	pthread_barrier_init(&bar, NULL, nthreads);
	pthread_t *th = calloc(nthreads, sizeof *th);
	int created = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 << 10);
		if (pthread_create(&th[i], &a, worker, (void *)(long)i) == 0)
			created++;
		pthread_attr_destroy(&a);
	}
	CHECK_EQ(created, nthreads);
	if (created != nthreads)
		return check_exit("stress_threads");
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	long want = (long)nthreads * rounds * INCS;
	printf("threads: %d threads x %d rounds\n", nthreads, rounds);
	printf("raw futex mutex: %ld (want %ld)\n", fcount, want);
	printf("pthread mutex: %ld (want %ld)\n", pcount, want);
	printf("condvar ring: %ld passes (want %ld), token at %d\n", passes,
	       (long)nthreads * rounds, turn);
	printf("barrier: %d early leaves\n", barrier_bad);
	CHECK_EQ(fcount, want);
	CHECK_EQ(pcount, want);
	CHECK_EQ(passes, (long)nthreads * rounds);
	CHECK_EQ(turn, 0);
	CHECK_EQ(barrier_bad, 0);
	CHECK_EQ(fmutex, 0);
	return check_exit("stress_threads");
}
