/* /dev and shared memory: the memory devices (null, zero, full, random,
 * urandom), /dev/tty's and the symlinks' identity, a /dev/shm file created,
 * written, mapped MAP_SHARED twice, read back and unlinked, memfd_create with
 * seals, and mappings of /dev/zero (shared and private). The output is
 * deterministic (no addresses, inode numbers or random bytes), so it is
 * compared with qemu-riscv64's, which runs on the host's Linux. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"

static const char *err(long r)
{
    return r < 0 ? errname(errno) : "OK";
}

static void show_dev(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("%s: stat %s\n", path, errname(errno));
        return;
    }
    printf("%s: %s %o %u,%u\n", path, S_ISCHR(st.st_mode) ? "chr" : "other",
           st.st_mode & 07777, major(st.st_rdev), minor(st.st_rdev));
}

static void show_link(const char *path)
{
    char buf[64];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) {
        printf("%s: readlink %s\n", path, errname(errno));
        return;
    }
    buf[n] = 0;
    printf("%s -> %s\n", path, buf);
}

static int all_zero(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Whether /proc/self/maps has a line ending in `name`. */
static int in_maps(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    size_t n = strlen(name);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        if (l > n && line[l - 1] == '\n' && memcmp(line + l - 1 - n, name, n) == 0)
            found = 1;
    }
    fclose(f);
    return found;
}

static void devices(void)
{
    static char buf[10000];
    int fd = open("/dev/null", O_RDWR);
    CHECK(fd >= 0);
    printf("null: write %ld read %ld lseek %ld\n", (long)write(fd, "hello", 5),
           (long)read(fd, buf, sizeof buf), (long)lseek(fd, 100, SEEK_SET));
    printf("null: mmap %s\n",
           err(mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0));
    close(fd);

    fd = open("/dev/zero", O_RDWR);
    memset(buf, 0x55, sizeof buf);
    long n = read(fd, buf, sizeof buf);
    printf("zero: read %ld zeros %d write %ld lseek %ld\n", n, all_zero(buf, sizeof buf),
           (long)write(fd, buf, 77), (long)lseek(fd, 5, SEEK_CUR));
    close(fd);

    fd = open("/dev/full", O_RDWR);
    long w = write(fd, "x", 1);
    printf("full: write %ld %s", w, err(w));
    memset(buf, 1, 16);
    printf(" read %ld zeros %d\n", (long)read(fd, buf, 16), all_zero(buf, 16));
    close(fd);

    const char *gens[] = {"/dev/urandom", "/dev/random"};
    for (int i = 0; i < 2; i++) {
        fd = open(gens[i], O_RDONLY);
        printf("%s: read %ld\n", gens[i], (long)read(fd, buf, 32));
        close(fd);
    }
    show_dev("/dev/null");
    show_dev("/dev/zero");
    show_dev("/dev/full");
    show_dev("/dev/random");
    show_dev("/dev/urandom");
    show_dev("/dev/tty");
    show_link("/dev/fd");
    show_link("/dev/stdin");
    show_link("/dev/stderr");
    printf("open /dev/nonexistent: %s\n", err(open("/dev/nonexistent", O_RDONLY)));
}

static void dev_shm(void)
{
    char path[64], buf[64];
    struct stat st;
    snprintf(path, sizeof path, "/dev/shm/ferrite-devshm-%d", (int)getpid());
    unlink(path);
    CHECK(stat("/dev/shm", &st) == 0);
    printf("/dev/shm: dir %d mode %o\n", S_ISDIR(st.st_mode), st.st_mode & 07777);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    printf("create again: %s\n", err(open(path, O_RDWR | O_CREAT | O_EXCL, 0600)));
    /* What LTP's harness does with its IPC file. */
    printf("access: %s chmod: %s\n", err(access("/dev/shm", F_OK | W_OK)),
           err(chmod(path, 0666)));
    CHECK(stat(path, &st) == 0);
    printf("mode after chmod %o\n", st.st_mode & 07777);
    printf("ftruncate %s\n", err(ftruncate(fd, 8192)));
    printf("pwrite %ld\n", (long)pwrite(fd, "hello shm", 9, 100));
    CHECK(fstat(fd, &st) == 0);
    printf("size %ld mode %o nlink %lu\n", (long)st.st_size, st.st_mode,
           (unsigned long)st.st_nlink);

    char *a = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(a != MAP_FAILED);
    int fd2 = open(path, O_RDWR);
    char *b = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
    CHECK(b != MAP_FAILED);
    printf("mapped: %.9s\n", a + 100);
    strcpy(a + 4096 + 10, "through a");
    printf("other mapping: %s\n", b + 4096 + 10);
    memset(buf, 0, sizeof buf);
    pread(fd2, buf, 9, 4096 + 10);
    printf("pread: %s\n", buf);
    pwrite(fd2, "by pwrite", 9, 0);
    printf("mapping sees: %.9s\n", a);
    printf("maps names it: %d\n", in_maps(path));

    DIR *d = opendir("/dev/shm");
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, path + 9) == 0)
            found = e->d_type == DT_REG;
    if (d)
        closedir(d);
    printf("listed: %d\n", found);

    printf("unlink %s\n", err(unlink(path)));
    printf("open after unlink: %s\n", err(open(path, O_RDWR)));
    CHECK(fstat(fd, &st) == 0);
    printf("nlink %lu, still %.9s\n", (unsigned long)st.st_nlink, b);
    close(fd);
    close(fd2);
    printf("after close: %.9s %s\n", b, b + 4096 + 10);
    munmap(a, 8192);
    munmap(b, 8192);
}

static void memfd(void)
{
    char link[64], buf[64];
    int fd = memfd_create("devshm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    CHECK(fd >= 0);
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("memfd: %s cloexec %d\n", buf, fcntl(fd, F_GETFD) == FD_CLOEXEC);
    printf("write %ld\n", (long)write(fd, "0123456789", 10));
    struct stat st;
    fstat(fd, &st);
    printf("size %ld nlink %lu mode %o\n", (long)st.st_size, (unsigned long)st.st_nlink,
           st.st_mode);
    printf("seals %#x\n", fcntl(fd, F_GET_SEALS));
    char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    m[0] = 'X';
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 10, 0);
    printf("through the mapping: %s\n", buf);
    printf("maps names it: %d\n", in_maps("/memfd:devshm (deleted)"));
    printf("seal write while mapped: %s\n", err(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
    munmap(m, 4096);
    printf("seal shrink: %s\n", err(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)));
    printf("shrink: %s\n", err(ftruncate(fd, 2)));
    printf("grow: %s\n", err(ftruncate(fd, 20)));
    printf("write past end: %s\n", err(pwrite(fd, "ab", 2, 9)));
    printf("seal write: %s\n", err(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SEAL)));
    printf("write: %s\n", err(write(fd, "z", 1)));
    printf("shared writable map: %s\n",
           err(mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0));
    printf("seals %#x\n", fcntl(fd, F_GET_SEALS));
    printf("add after seal: %s\n", err(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW)));
    close(fd);

    fd = memfd_create("plain", 0);
    printf("plain seals %#x add %s\n", fcntl(fd, F_GET_SEALS),
           err(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)));
    close(fd);
    printf("bad flags: %s\n", err(memfd_create("x", 0x1000)));
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    printf("long name: %s\n", err(memfd_create(longname, 0)));
    int nul = open("/dev/null", O_RDONLY);
    printf("seals of /dev/null: %s\n", err(fcntl(nul, F_GET_SEALS)));
    close(nul);
}

static void dev_zero_maps(void)
{
    int fd = open("/dev/zero", O_RDWR);
    char *s = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(s != MAP_FAILED && p != MAP_FAILED);
    printf("zero maps: %d %d\n", all_zero(s, 8192), all_zero(p, 8192));
    strcpy(s + 5000, "shared");
    strcpy(p + 5000, "private");
    printf("written: %s %s\n", s + 5000, p + 5000);
    printf("maps shows /dev/zero (deleted): %d\n", in_maps("/dev/zero (deleted)"));
    munmap(s, 8192);
    munmap(p, 8192);
    close(fd);
    fd = open("/dev/zero", O_RDONLY);
    printf("shared writable of read-only: %s\n",
           err(mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0));
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    devices();
    dev_shm();
    memfd();
    dev_zero_maps();
    printf("devshm: done\n");
    return check_exit("devshm");
}
