/* execve from a multithreaded process (de_thread): a spinning and a
 * sleeping thread are killed, the exec goes on single-threaded. qemu-user
 * cannot exec a riscv64 program, so the test states what Linux prints. */
#include <stdio.h>
#include <pthread.h>
#include <unistd.h>
#include <string.h>
static void *spin(void *a) { for (;;) ; return a; }
static void *sleeper(void *a) { for (;;) pause(); return a; }
int main(int argc, char **argv) {
  if (argc > 1) { printf("after exec: %s, threads gone\n", argv[1]); return 0; }
  pthread_t t; pthread_create(&t, 0, spin, 0); pthread_create(&t, 0, sleeper, 0);
  usleep(20000);
  execl("/proc/self/exe", "mtexec", "ok", (char *)0);
  perror("execl"); return 1;
}
