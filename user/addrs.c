/* The notes' address printer: where code, heap and stack live in the virtual
 * address space, plus the data and mmap variant of the notes' mmap example.
 * The addresses depend on the layout; the ferrite test checks each one lies
 * in a VMA of the right kind in /proc/1/maps. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int something = 162;

int main(int argc, char *argv[])
{
    (void)argc;
    (void)argv;
    printf("location of code : %p\n", (void *)main);
    printf("location of heap : %p\n", (void *)malloc(1));
    int x = 33;
    printf("location of stack : %p\n", (void *)&x);
    printf("Data at: %16lx\n", (unsigned long)&something);
    char *m = mmap(0, 10000, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap failed");
        return 1;
    }
    m[0] = 1;
    printf("mmap at : %16lx\n", (unsigned long)m);
    fflush(stdout);
    /* The notes' main returns x (33); exit 0 so "success" means success. */
    return x == 33 ? 0 : 1;
}
