/* A dynamically linked program (built without -static): run it with
 * --root pointing at a riscv64 sysroot holding lib/ld-linux-riscv64-lp64d.so.1
 * and lib/libc.so.6, or under qemu-riscv64 -L /usr/riscv64-linux-gnu.
 *
 *   dynhello          deterministic output (compared with qemu-riscv64):
 *                     libc through the PLT, the auxiliary vector as the
 *                     kernel sets it for a program with an interpreter
 *   dynhello vdso     the vDSO as glibc sees it (ferrite only: qemu 7.2
 *                     maps no vDSO for riscv64): found by soname, its
 *                     symbols versioned LINUX_4.15, the signal trampoline's
 *                     two instructions, the time functions callable
 *   dynhello maps     /proc/self/maps names the interpreter, libc, [vvar]
 *                     and [vdso], at the addresses the auxiliary vector says
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

extern char _start[];

static int cmp(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

struct phdr_seen {
    int objects;
    int main_ok;
};

static int each_object(struct dl_phdr_info *info, size_t size, void *data)
{
    struct phdr_seen *s = data;
    (void)size;
    s->objects++;
    /* The first object is the program: its headers are AT_PHDR. */
    if (s->objects == 1)
        s->main_ok = (unsigned long)info->dlpi_phdr == getauxval(AT_PHDR) &&
                     info->dlpi_phnum == getauxval(AT_PHNUM);
    return 0;
}

static int deterministic(void)
{
    int v[] = {5, 3, 9, 1, 7};
    char buf[64];

    printf("hello from a dynamically linked program\n");
    qsort(v, 5, sizeof v[0], cmp);
    snprintf(buf, sizeof buf, "%d %d %d %d %d %.3f", v[0], v[1], v[2], v[3],
             v[4], 2.0 / 3);
    printf("libc: %s, strtol %ld\n", buf, strtol("-1234", NULL, 10));

    unsigned long base = getauxval(AT_BASE);
    unsigned long entry = getauxval(AT_ENTRY);
    printf("AT_BASE set: %s\n", base ? "yes" : "no");
    printf("AT_ENTRY is the program's _start: %s\n",
           entry == (unsigned long)_start ? "yes" : "no");
    /* The interpreter is mapped at AT_BASE: its ELF header is there. */
    printf("interpreter ELF header at AT_BASE: %s\n",
           base && memcmp((void *)base, ELFMAG, SELFMAG) == 0 ? "yes" : "no");
    printf("AT_PHENT: %lu\n", getauxval(AT_PHENT));

    struct phdr_seen s = {0, 0};
    dl_iterate_phdr(each_object, &s);
    printf("AT_PHDR is the program's headers: %s\n", s.main_ok ? "yes" : "no");

    void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    printf("libc.so.6 loaded: %s, puts found: %s\n", h ? "yes" : "no",
           h && dlsym(h, "puts") == (void *)puts ? "yes" : "no");
    return 0;
}

typedef int (*gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef int (*getcpu_fn)(unsigned *, unsigned *, void *);

static int vdso(void)
{
    unsigned long ehdr = getauxval(AT_SYSINFO_EHDR);
    CHECK(ehdr != 0);
    if (!ehdr)
        return check_exit("dynhello vdso");
    CHECK(memcmp((void *)ehdr, ELFMAG, SELFMAG) == 0);
    CHECK(((Elf64_Ehdr *)ehdr)->e_type == ET_DYN);

    void *h = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
    CHECK(h != NULL);
    if (!h)
        return check_exit("dynhello vdso");
    unsigned *tramp = dlvsym(h, "__vdso_rt_sigreturn", "LINUX_4.15");
    CHECK(tramp != NULL);
    if (tramp) {
        /* li a7, 139 (rt_sigreturn); ecall */
        CHECK_EQ(tramp[0], 0x08b00893);
        CHECK_EQ(tramp[1], 0x00000073);
        CHECK((unsigned long)tramp > ehdr && (unsigned long)tramp < ehdr + 4096);
    }
    /* A version the vDSO does not define finds nothing. */
    CHECK(dlvsym(h, "__vdso_rt_sigreturn", "LINUX_2.6") == NULL);

    gettime_fn gt = (gettime_fn)dlvsym(h, "__vdso_clock_gettime", "LINUX_4.15");
    gettime_fn gr = (gettime_fn)dlvsym(h, "__vdso_clock_getres", "LINUX_4.15");
    gettimeofday_fn tod =
        (gettimeofday_fn)dlvsym(h, "__vdso_gettimeofday", "LINUX_4.15");
    getcpu_fn gc = (getcpu_fn)dlvsym(h, "__vdso_getcpu", "LINUX_4.15");
    CHECK(gt && gr && tod && gc);
    if (gt && gr && tod && gc) {
        struct timespec a, b, r;
        CHECK_EQ(gt(CLOCK_MONOTONIC, &a), 0);
        CHECK_EQ(clock_gettime(CLOCK_MONOTONIC, &b), 0);
        CHECK(b.tv_sec > a.tv_sec ||
              (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec));
        /* The raw system call's result: -EINVAL for a bad clock. */
        CHECK_EQ(gt(-100, &a), -EINVAL);
        CHECK_EQ(gr(CLOCK_MONOTONIC, &r), 0);
        CHECK(r.tv_sec == 0 && r.tv_nsec > 0);
        struct timeval tv;
        CHECK_EQ(tod(&tv, NULL), 0);
        CHECK(tv.tv_sec > 1600000000);
        unsigned cpu = ~0u;
        long rc = gc(&cpu, NULL, NULL);
        CHECK(rc == 0 || rc == -ENOSYS);
    }
    /* glibc itself goes through it too. */
    struct timespec t;
    CHECK_EQ(clock_gettime(CLOCK_REALTIME, &t), 0);
    CHECK(t.tv_sec > 1600000000);
    printf("vdso: linux-vdso.so.1, __vdso_rt_sigreturn@LINUX_4.15 ok\n");
    return check_exit("dynhello vdso");
}

static int maps(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    if (!f)
        return check_exit("dynhello maps");
    char line[512];
    int ld = 0, libc = 0, vdso = 0, vvar = 0;
    unsigned long base = getauxval(AT_BASE), ehdr = getauxval(AT_SYSINFO_EHDR);
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3)
            continue;
        if (strstr(line, "/ld-linux-riscv64-lp64d.so.1\n")) {
            if (!ld)
                CHECK_EQ(lo, base);
            ld++;
        } else if (strstr(line, "/libc.so.6\n")) {
            libc++;
        } else if (strstr(line, " [vdso]\n")) {
            CHECK_EQ(lo, ehdr);
            CHECK(strcmp(perms, "r-xp") == 0);
            vdso++;
        } else if (strstr(line, " [vvar]\n")) {
            CHECK(strcmp(perms, "r--p") == 0);
            vvar++;
        }
    }
    fclose(f);
    CHECK(ld >= 2 && libc >= 2 && vdso == 1 && vvar == 1);
    printf("maps: ld-linux %s, libc.so.6 %s, [vdso] %d, [vvar] %d\n",
           ld ? "yes" : "no", libc ? "yes" : "no", vdso, vvar);
    return check_exit("dynhello maps");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "vdso") == 0)
        return vdso();
    if (argc > 1 && strcmp(argv[1], "maps") == 0)
        return maps();
    return deterministic();
}
