/* Writes through a NULL pointer. Expected: killed by SIGSEGV (ferrite run
 * exits with 139 = 128 + 11 and reports, like Linux,
 * "segv[1]: segfault at 0 ip ... sp ... error 6"). */
#include <stdio.h>

int main(void)
{
    volatile int *p = 0;
    printf("segv: writing to NULL\n");
    fflush(stdout);
    *p = 42;
    printf("segv: still alive after writing to NULL\n");
    return 1;
}
