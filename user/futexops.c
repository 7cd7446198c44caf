/* futexops: the futex operations beyond WAIT/WAKE, compared with
 * qemu-riscv64 (the host Linux): FUTEX_REQUEUE and FUTEX_CMP_REQUEUE
 * (woken + requeued counts, EAGAIN on a changed value, queue order kept),
 * FUTEX_WAKE_OP (the operation on the second word and its comparison),
 * WAIT_BITSET/WAKE_BITSET, EAGAIN on a changed value and ETIMEDOUT.
 *
 * How many threads sleep on a futex is read without waking them: a
 * CMP_REQUEUE of the futex onto itself that wakes none and requeues all
 * returns the number queued. The output does not depend on timing.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long futex(int *uaddr, int op, int val, long val2, int *uaddr2, int val3)
{
	return syscall(SYS_futex, uaddr, op, val, val2, uaddr2, val3);
}

static int f1, f2, f3;

/* The threads queued on `f` now (its value must be `val`). */
static long queued(int *f, int val)
{
	return futex(f, FUTEX_CMP_REQUEUE_PRIVATE, 0, INT_MAX, f, val);
}

static void wait_queued(int *f, int val, long n)
{
	while (queued(f, val) != n)
		sched_yield();
}

struct waiter {
	int *f;
	int val;
	unsigned bitset;
	int id;
	long ret;
	int err;
	pthread_t th;
};

/* Woken threads record their order here. */
static int order[16];
static int norder;
static pthread_mutex_t order_lock = PTHREAD_MUTEX_INITIALIZER;

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	w->ret = futex(w->f, FUTEX_WAIT_BITSET_PRIVATE, w->val, 0, NULL, w->bitset);
	w->err = w->ret < 0 ? errno : 0;
	pthread_mutex_lock(&order_lock);
	order[norder++] = w->id;
	pthread_mutex_unlock(&order_lock);
	return NULL;
}

static void start(struct waiter *w, int id, int *f, int val, unsigned bitset)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->val = val;
	w->bitset = bitset;
	w->id = id;
	pthread_create(&w->th, NULL, wait_thread, w);
}

static void join(struct waiter *w, int n)
{
	for (int i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		if (w[i].ret != 0)
			printf("waiter %d: ret %ld errno %s\n", w[i].id, w[i].ret, strerror(w[i].err));
	}
}

static void show(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else
		printf("%s: %ld\n", what, r);
}

/* The woken order since the last call. */
static void show_order(void)
{
	pthread_mutex_lock(&order_lock);
	printf("woken in order:");
	for (int i = 0; i < norder; i++)
		printf(" %d", order[i]);
	printf("\n");
	norder = 0;
	pthread_mutex_unlock(&order_lock);
}

/* Wait until `n` woken threads have recorded themselves. */
static void wait_recorded(int n)
{
	for (;;) {
		pthread_mutex_lock(&order_lock);
		int now = norder;
		pthread_mutex_unlock(&order_lock);
		if (now >= n)
			return;
		sched_yield();
	}
}

/* Wake one waiter of `f` and wait until it has recorded itself. */
static void wake_one(int *f)
{
	int before;
	pthread_mutex_lock(&order_lock);
	before = norder;
	pthread_mutex_unlock(&order_lock);
	show("wake 1", futex(f, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
	for (;;) {
		pthread_mutex_lock(&order_lock);
		int now = norder;
		pthread_mutex_unlock(&order_lock);
		if (now > before)
			break;
		sched_yield();
	}
}

/* One waiter on f1 (number `id`) and one on f2 (`id + 1`), f2 = 0. */
static void start_pair(struct waiter *w, int id)
{
	f2 = 0;
	start(&w[0], id, &f1, 0, FUTEX_BITSET_MATCH_ANY);
	start(&w[1], id + 1, &f2, 0, FUTEX_BITSET_MATCH_ANY);
	wait_queued(&f1, 0, 1);
	wait_queued(&f2, 0, 1);
}

int main(void)
{
	struct waiter w[8];

	/* Requeue: five waiters on f1, one at a time so that their queue
	 * order is known; wake one, move two to f2, three stay. */
	for (int i = 0; i < 5; i++) {
		start(&w[i], i, &f1, 0, FUTEX_BITSET_MATCH_ANY);
		wait_queued(&f1, 0, i + 1);
	}
	printf("queued on f1: %ld\n", queued(&f1, 0));
	show("cmp_requeue, wrong value", futex(&f1, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &f2, 7));
	show("cmp_requeue 1+2", futex(&f1, FUTEX_CMP_REQUEUE_PRIVATE, 1, 2, &f2, 0));
	wait_recorded(1);
	printf("queued on f1: %ld, on f2: %ld\n", queued(&f1, 0), queued(&f2, 0));
	/* REQUEUE counts only the woken; the requeued one goes to f2's tail. */
	show("requeue 0+1", futex(&f1, FUTEX_REQUEUE_PRIVATE, 0, 1, &f2, 0));
	printf("queued on f1: %ld, on f2: %ld\n", queued(&f1, 0), queued(&f2, 0));
	/* Each queue wakes in its order: f2 holds 1, 2, then 3. */
	while (queued(&f1, 0) + queued(&f2, 0) > 0) {
		if (queued(&f2, 0) > 0)
			wake_one(&f2);
		else
			wake_one(&f1);
	}
	join(w, 5);
	show_order();

	/* WAKE_OP: *f2 = op(*f2, arg), wake f1, and f2 too if the old value
	 * passes the comparison. */
	start_pair(w, 10);
	show("wake_op set 5 if old == 0",
	     futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, 1, &f2, FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0)));
	printf("f2 = %d\n", f2);
	join(w, 2);
	norder = 0;
	start_pair(w, 12);
	show("wake_op add 3 if old > 0",
	     futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, 1, &f2, FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_GT, 0)));
	printf("f2 = %d, queued on f2: %ld\n", f2, queued(&f2, 3));
	/* OPARG_SHIFT: or in 1 << 4. */
	show("wake_op or 1<<4 if old != 3",
	     futex(&f1, FUTEX_WAKE_OP_PRIVATE, 1, 1, &f2,
		   (FUTEX_OP(FUTEX_OP_OR, 4, FUTEX_OP_CMP_NE, 3) | (FUTEX_OP_OPARG_SHIFT << 28))));
	printf("f2 = %d\n", f2);
	show("wake f2", futex(&f2, FUTEX_WAKE_PRIVATE, 1, 0, NULL, 0));
	join(w, 2);
	norder = 0;

	/* Bitsets: a wake with a disjoint bitset wakes nobody. */
	start(&w[0], 20, &f3, 0, 0x1);
	start(&w[1], 21, &f3, 0, 0x6);
	wait_queued(&f3, 0, 2);
	show("wake_bitset 0x8", futex(&f3, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 0, NULL, 0x8));
	show("wake_bitset 0x4", futex(&f3, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 0, NULL, 0x4));
	wait_recorded(1);
	show("wake_bitset 0x1", futex(&f3, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, 0, NULL, 0x1));
	join(w, 2);
	show_order();
	show("wake_bitset 0", futex(&f3, FUTEX_WAKE_BITSET_PRIVATE, 1, 0, NULL, 0));

	/* Errors. */
	show("wait, value changed", futex(&f3, FUTEX_WAIT_PRIVATE, 1, 0, NULL, 0));
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	show("wait 20 ms", futex(&f3, FUTEX_WAIT_PRIVATE, 0, (long)&ts, NULL, 0));
	ts.tv_nsec = 1000000000;
	show("wait, bad timeout", futex(&f3, FUTEX_WAIT_PRIVATE, 0, (long)&ts, NULL, 0));
	show("requeue, negative count", futex(&f1, FUTEX_REQUEUE_PRIVATE, -1, 0, &f2, 0));
	show("wait, misaligned", futex((int *)((char *)&f3 + 1), FUTEX_WAIT_PRIVATE, 0, 0, NULL, 0));
	return 0;
}
