/* Signals, compared with qemu-riscv64: an SA_SIGINFO handler, a SIGSEGV
 * handler that siglongjmps out, a blocked pending signal, alarm
 * interrupting nanosleep (EINTR), kill of a paused child, abort. */
#include <stdio.h>
#include <signal.h>
#include <setjmp.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <errno.h>
static volatile int got;
static sigjmp_buf jb;
static void h(int s, siginfo_t *si, void *uc) { got = s; }
static void segv(int s, siginfo_t *si, void *uc) { siglongjmp(jb, 1); }
static void alrm(int s) { got = s; }
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = h; sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, 0);
    raise(SIGUSR1);
    printf("handler got %d\n", got);
    sa.sa_sigaction = segv; sigaction(SIGSEGV, &sa, 0);
    if (sigsetjmp(jb, 1) == 0) { *(volatile int *)0 = 1; printf("no fault?\n"); }
    else printf("recovered from SIGSEGV\n");
    sigset_t m; sigemptyset(&m); sigaddset(&m, SIGUSR2); sigprocmask(SIG_BLOCK, &m, 0);
    raise(SIGUSR2); sigset_t p; sigpending(&p); printf("pending USR2: %d\n", sigismember(&p, SIGUSR2));
    signal(SIGALRM, alrm); got = 0; alarm(1);
    struct timespec ts = {5, 0}; int r = nanosleep(&ts, &ts);
    printf("nanosleep interrupted: r=%d errno=%d got=%d\n", r, errno, got);
    pid_t c = fork();
    if (c == 0) { pause(); _exit(0); }
    kill(c, SIGTERM); int st; waitpid(c, &st, 0);
    printf("child killed by %d\n", WTERMSIG(st));
    c = fork();
    if (c == 0) { abort(); }
    waitpid(c, &st, 0); printf("abort: sig %d core %d\n", WTERMSIG(st), WCOREDUMP(st) ? 1 : 0);
    return 0;
}
