/* execveat(2): relative to a directory descriptor, fexecve-style with
 * AT_EMPTY_PATH, and the errors of AT_SYMLINK_NOFOLLOW and an empty path
 * without AT_EMPTY_PATH. Run as init in a root holding it as /xat (qemu-user
 * cannot exec a riscv64 program, so the test states what Linux prints). */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <string.h>
extern char **environ;
int main(int argc, char **argv) {
  if (argc > 1) { char c[16] = {0}; FILE *f = fopen("/proc/self/comm", "r"); fgets(c, 16, f); printf("child %s comm %s", argv[1], c); return 0; }
  int fd = open("/", O_RDONLY | O_DIRECTORY);
  char *a1[] = { "xat", "rel", 0 };
  pid_t p = fork(); if (p == 0) { syscall(SYS_execveat, fd, "xat", a1, environ, 0); _exit(99); }
  int st; waitpid(p, &st, 0);
  int xf = open("/xat", O_RDONLY);
  char *a2[] = { "xat", "empty", 0 };
  p = fork(); if (p == 0) { syscall(SYS_execveat, xf, "", a2, environ, AT_EMPTY_PATH); _exit(98); }
  waitpid(p, &st, 0);
  symlink("/xat", "/xlink");
  errno = 0; long r = syscall(SYS_execveat, fd, "xlink", a1, environ, AT_SYMLINK_NOFOLLOW);
  printf("nofollow symlink: %ld %s\n", r, strerror(errno));
  errno = 0; r = syscall(SYS_execveat, xf, "", a1, environ, 0);
  printf("empty without flag: %ld %s\n", r, strerror(errno));
  unlink("/xlink");
  return 0;
}
