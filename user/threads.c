/* Threads and signal stacks, compared with qemu-riscv64: 64 pthreads on a
 * barrier, a mutex and a condition variable, thread-local storage, and a
 * handler on an alternate signal stack. With the argument "spawn" it also
 * posix_spawns itself (ferrite only: qemu-user cannot exec it). */
#include <stdio.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
extern char **environ;
static __thread int tls = 5;
static pthread_barrier_t bar;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, total;
static void *w(void *a) { long i = (long)a; tls += i; pthread_barrier_wait(&bar);
  pthread_mutex_lock(&m); while (!ready) pthread_cond_wait(&cv, &m); total += tls; pthread_mutex_unlock(&m); return 0; }
static char altstk[65536]; static volatile void *seen;
static volatile unsigned long seen_at;
static void onalt(int s) { int x; seen_at = (unsigned long)&x; seen = (void *)seen_at; }
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "x") == 0) { printf("spawned with %s\n", argv[1]); return 9; }
  pthread_t t[64]; pthread_barrier_init(&bar, 0, 65);
  for (long i = 0; i < 64; i++) pthread_create(&t[i], 0, w, (void *)i);
  pthread_barrier_wait(&bar);
  pthread_mutex_lock(&m); ready = 1; pthread_cond_broadcast(&cv); pthread_mutex_unlock(&m);
  for (int i = 0; i < 64; i++) pthread_join(t[i], 0);
  printf("64 threads: total %d (tls main %d)\n", total, tls);
  stack_t ss = { .ss_sp = altstk, .ss_size = sizeof altstk, .ss_flags = 0 };
  sigaltstack(&ss, 0);
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = onalt; sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, 0); raise(SIGUSR1);
  printf("handler on altstack: %d\n", (char *)seen >= altstk && (char *)seen < altstk + sizeof altstk);
  if (argc > 1 && strcmp(argv[1], "spawn") == 0) {
    /* posix_spawn (clone with CLONE_VM|CLONE_VFORK, then execve) of this
     * program again; qemu-user cannot exec a riscv64 program. */
    pid_t p; char *args[] = { argv[0], "x", 0 };
    int r = posix_spawn(&p, "/proc/self/exe", 0, 0, args, environ);
    int st; waitpid(p, &st, 0); printf("posix_spawn %d status %d\n", r, WEXITSTATUS(st));
  }
  return 0;
}
