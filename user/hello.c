/* Static glibc hello world: the start-up and exit benchmark. */
#include <stdio.h>

int main(void)
{
    printf("hello, world\n");
    return 0;
}
