/* Copy-on-write after fork, seen in /proc/self/smaps (the notes' fork
 * slides): a private page written by the parent is shared by the child
 * after fork (Shared_Dirty), and private to the child once it writes it
 * (Private_Dirty). Prints the area's Shared_/Private_ lines before and
 * after the child's write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *when, unsigned long start)
{
    char line[256], want[32];
    FILE *f = fopen("/proc/self/smaps", "r");
    int in = 0;
    if (!f) {
        perror("smaps");
        exit(1);
    }
    snprintf(want, sizeof want, "%lx-", start);
    printf("%s:\n", when);
    while (fgets(line, sizeof line, f)) {
        if (strchr(line, '-') && strchr(line, ' ') && strncmp(line, want, strlen(want)) == 0)
            in = 1;
        else if (in && strchr(line, '-') && !strchr(line, ':'))
            in = 0;
        else if (in && (strncmp(line, "Shared_", 7) == 0 || strncmp(line, "Private_", 8) == 0))
            printf("  %s", line);
        if (in && strncmp(line, "VmFlags", 7) == 0)
            in = 0;
    }
    fclose(f);
}

int main(void)
{
    char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    strcpy(p, "written by the parent");
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        show("child before its write", (unsigned long)p);
        p[0] = 'W';
        show("child after its write", (unsigned long)p);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    printf("parent still reads: %s\n", p);
    return WEXITSTATUS(st);
}
