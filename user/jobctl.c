/* Job control and wait variants, compared with qemu-riscv64: a child that
 * stops itself (WUNTRACED), SIGCONT (WCONTINUED), a SIGCHLD handler
 * interrupting nanosleep (EINTR) and, with SA_RESTART, not interrupting
 * waitpid; waitid with WNOWAIT; setsid and setpgid. */
#include <stdio.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <sys/wait.h>
static volatile int chld;
static void onchld(int s) { chld++; }
int main(void) {
  int st; pid_t c = fork();
  /* The child lingers after SIGCONT so that the parent sees it continued
   * before it exits (else wait reports the exit, on Linux too). */
  if (c == 0) { raise(SIGSTOP); usleep(200000); _exit(5); }
  pid_t w = waitpid(c, &st, WUNTRACED);
  printf("stopped: %d sig %d\n", WIFSTOPPED(st), WSTOPSIG(st));
  kill(c, SIGCONT);
  w = waitpid(c, &st, WCONTINUED);
  printf("continued: %d\n", WIFCONTINUED(st));
  w = waitpid(c, &st, 0);
  printf("exited %d code %d\n", w == c, WEXITSTATUS(st));
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = onchld; sigaction(SIGCHLD, &sa, 0);
  c = fork(); if (c == 0) { usleep(100000); _exit(1); }
  struct timespec ts = {2, 0}; int r = nanosleep(&ts, 0);
  printf("sleep interrupted by SIGCHLD: %d errno %d chld %d\n", r, errno, chld);
  waitpid(c, &st, 0);
  sa.sa_flags = SA_RESTART; sigaction(SIGCHLD, &sa, 0);
  pid_t c1 = fork(); if (c1 == 0) { usleep(50000); _exit(1); }
  pid_t c2 = fork(); if (c2 == 0) { usleep(300000); _exit(2); }
  w = waitpid(c2, &st, 0);
  printf("SA_RESTART wait: %d status %d\n", w == c2, WEXITSTATUS(st));
  waitpid(c1, &st, 0);
  siginfo_t si; memset(&si, 0, sizeof si);
  c = fork(); if (c == 0) _exit(42);
  waitid(P_PID, c, &si, WEXITED | WNOWAIT);
  printf("waitid nowait: code %d status %d pid ok %d\n", si.si_code, si.si_status, si.si_pid == c);
  r = waitpid(c, &st, WNOHANG); printf("then reaped: %d %d\n", r == c, WEXITSTATUS(st));
  printf("setsid in child / pgid:\n");
  c = fork(); if (c == 0) { pid_t s = setsid(); printf(" child sid==pid %d pgid==pid %d\n", s == getpid(), getpgid(0) == getpid()); _exit(0); }
  waitpid(c, &st, 0);
  printf("setpgid(0,0) as leader of session? %d\n", setpgid(0, 0));
  return 0;
}
