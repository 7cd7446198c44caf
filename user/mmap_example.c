/* The course notes' mmap() example, as the notes print it (their scan's
 * typos fixed: argv[1], %16lx): it maps the file named by its argument
 * MAP_SHARED, prints it, and writes "Let's write over it" at offset 20, so
 * `cat` of the file afterwards shows "ThiLet's write over its line three". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int something = 162;

int main(int argc, char *argv[])
{
    int myfd;
    char *mfile;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    printf("Data at: %16lx\n", (long unsigned int)&something);
    printf("Heap at : %16lx\n", (long unsigned int)malloc(1));
    printf("Stack at: %16lx\n", (long unsigned int)&mfile);

    /* Open the file */
    myfd = open(argv[1], O_RDWR | O_CREAT, 0644);
    if (myfd < 0) {
        perror("open failed!");
        exit(1);
    }

    /* map the file */
    mfile = mmap(0, 10000, PROT_READ | PROT_WRITE, MAP_FILE | MAP_SHARED, myfd, 0);
    if (mfile == MAP_FAILED) {
        perror("mmap failed");
        exit(1);
    }

    printf("mmap at : %16lx\n", (long unsigned int)mfile);

    puts(mfile);

    strcpy(mfile + 20, "Let's write over it");
    close(myfd);

    return 0;
}
