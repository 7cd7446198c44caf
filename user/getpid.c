/* getpid N: N getpid system calls through syscall(2), for the syscall
 * round-trip benchmark (crates/ferrite/benches/versus_qemu.rs). Time with
 * N and with 0 and subtract to remove start-up and exit. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    long pid = 0;
    for (long i = 0; i < n; i++)
        pid |= syscall(SYS_getpid);
    printf("getpid: %ld calls, pid %s\n", n, n == 0 || pid > 0 ? "positive" : "wrong");
    return n == 0 || pid > 0 ? 0 : 1;
}
