/* Processes and threads, compared with qemu-riscv64: fork with
 * copy-on-write, exit statuses through wait, 20 children reaped by wait,
 * ECHILD, pthreads with a mutex (clone, futex, CLONE_CHILD_CLEARTID and
 * join), vfork. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int counter;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *a)
{
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return a;
}

int main(void)
{
	int shared = 5, st;
	pid_t p = fork();
	if (p == 0) {
		shared = 6;
		_exit(shared == 6 ? 3 : 4);
	}
	pid_t w = waitpid(p, &st, 0);
	printf("waited the child: %d, exited %d, code %d, parent still sees %d\n",
	       w == p, WIFEXITED(st), WEXITSTATUS(st), shared);
	for (int i = 0; i < 20; i++)
		if (fork() == 0)
			_exit(i);
	int sum = 0;
	for (int i = 0; i < 20; i++) {
		wait(&st);
		sum += WEXITSTATUS(st);
	}
	printf("sum of 20 exit codes: %d\n", sum);
	errno = 0;
	printf("wait without children: %d (ECHILD %d)\n", wait(&st), errno == ECHILD);
	pthread_t th[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], 0, worker, 0);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], 0);
	printf("8 threads counted %d\n", counter);
	p = vfork();
	if (p == 0)
		_exit(11);
	waitpid(p, &st, 0);
	printf("vfork child status %d\n", WEXITSTATUS(st));
	p = fork();
	if (p == 0)
		for (;;)
			;
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	printf("spinning child killed by signal %d\n", WTERMSIG(st));
	return 0;
}
