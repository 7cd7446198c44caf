/* falloc: fallocate(2) and MADV_REMOVE, compared with qemu-riscv64 (the
 * host's Linux):
 *
 * - vfs_fallocate's errors, in its order (offsets, modes, the descriptor,
 *   the file type, overflow);
 * - tmpfs (a memfd): holes, partial pages zeroed, allocation with and
 *   without KEEP_SIZE (st_blocks), the modes tmpfs refuses, the seals;
 * - MADV_REMOVE: its errors, a hole seen by a forked child that mapped the
 *   page too, shared anonymous memory;
 * - a regular file in the working directory: a hole and a zeroed range
 *   seen through a shared mapping and read(2), growth, MADV_REMOVE on a
 *   shared file mapping, and collapsing and inserting a range (whatever
 *   the host's file system answers, the two runs share it).
 *
 * File contents are printed as runs ("ax100 0x5000"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define P 4096

static void say(const char *what, int r)
{
	if (r == 0)
		printf("%s: ok\n", what);
	else
		printf("%s: %s\n", what, strerror(errno));
}

/* The bytes of [buf, buf + n) as runs. */
static void runs(const char *what, const unsigned char *buf, size_t n)
{
	printf("%s:", what);
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && buf[j] == buf[i])
			j++;
		if (buf[i] == 0)
			printf(" 0x%zu", j - i);
		else
			printf(" %cx%zu", buf[i], j - i);
		i = j;
	}
	printf("\n");
}

/* The whole file of `fd` as runs, with its size. */
static void contents(const char *what, int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		say(what, -1);
		return;
	}
	unsigned char *b = malloc(st.st_size + 1);
	ssize_t got = pread(fd, b, st.st_size, 0);
	printf("%s: size %lld read %zd\n", what, (long long)st.st_size, got);
	runs("  bytes", b, got > 0 ? (size_t)got : 0);
	free(b);
}

static void fill(int fd, int c, size_t n)
{
	char *b = malloc(n);
	memset(b, c, n);
	if (pwrite(fd, b, n, 0) != (ssize_t)n)
		printf("short write\n");
	free(b);
}

static long blocks(int fd)
{
	struct stat st;
	fstat(fd, &st);
	return (long)st.st_blocks;
}

static void errors(void)
{
	int m = memfd_create("m", 0);
	fill(m, 'a', 3 * P);
	say("len 0", fallocate(m, 0, 0, 0));
	say("negative offset", fallocate(m, 0, -1, P));
	say("negative len", fallocate(m, 0, 0, -5));
	say("unknown flag", fallocate(m, 0x100, 0, P));
	say("no-hide-stale", fallocate(m, FALLOC_FL_NO_HIDE_STALE, 0, P));
	say("punch without keep", fallocate(m, FALLOC_FL_PUNCH_HOLE, 0, P));
	say("punch and zero", fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, P));
	say("collapse with keep", fallocate(m, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, P));
	say("overflow", fallocate(m, 0, 1, LLONG_MAX));
	say("bad fd", fallocate(99, 0, 0, P));
	say("tmpfs zero range", fallocate(m, FALLOC_FL_ZERO_RANGE, 0, P));
	say("tmpfs collapse", fallocate(m, FALLOC_FL_COLLAPSE_RANGE, 0, P));
	say("tmpfs insert", fallocate(m, FALLOC_FL_INSERT_RANGE, 0, P));
	int p[2];
	if (pipe(p) == 0) {
		say("pipe write end", fallocate(p[1], 0, 0, P));
		say("pipe read end", fallocate(p[0], 0, 0, P));
		close(p[0]);
		close(p[1]);
	}
	int null = open("/dev/null", O_WRONLY);
	say("/dev/null", fallocate(null, 0, 0, P));
	close(null);
	int ro = open("falloc.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	close(ro);
	ro = open("falloc.dat", O_RDONLY);
	say("read-only file", fallocate(ro, 0, 0, P));
	close(ro);
	close(m);
}

static void tmpfs(void)
{
	int m = memfd_create("t", MFD_ALLOW_SEALING);
	fill(m, 'a', 3 * P);
	printf("blocks %ld\n", blocks(m));
	/* [100, 2P + 300): page 1 goes, pages 0 and 2 are zeroed in part. */
	say("punch", fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 100, 2 * P + 200));
	contents("after punch", m);
	printf("blocks %ld\n", blocks(m));
	say("punch inside a page", fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2 * P + 1000, 10));
	say("punch past the end", fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 10 * P, P));
	contents("after more punches", m);
	say("allocate", fallocate(m, 0, 5 * P, P));
	contents("after allocate", m);
	printf("blocks %ld\n", blocks(m));
	say("allocate keep size", fallocate(m, FALLOC_FL_KEEP_SIZE, 10 * P, 2 * P));
	printf("size %lld blocks %ld\n", (long long)lseek(m, 0, SEEK_END), blocks(m));
	say("allocate inside", fallocate(m, 0, 0, 3 * P));
	printf("blocks %ld\n", blocks(m));
	say("seal grow", fcntl(m, F_ADD_SEALS, F_SEAL_GROW));
	say("grow sealed", fallocate(m, 0, 5 * P, 2 * P));
	say("grow sealed, keep size", fallocate(m, FALLOC_FL_KEEP_SIZE, 5 * P, 2 * P));
	say("allocate under the seal", fallocate(m, 0, 0, 6 * P));
	say("seal write", fcntl(m, F_ADD_SEALS, F_SEAL_WRITE));
	say("punch sealed", fallocate(m, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, P));
	close(m);
}

static void madv_remove(void)
{
	char *anon = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say("remove private anonymous", madvise(anon, P, MADV_REMOVE));
	char *shanon = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(shanon, 's', 2 * P);
	say("remove shared anonymous", madvise(shanon, P, MADV_REMOVE));
	printf("shared anonymous: %d %c\n", shanon[0], shanon[P]);
	say("remove unaligned", madvise(shanon + 1, P, MADV_REMOVE));
	say("mlock", mlock(shanon + P, P));
	say("remove locked", madvise(shanon + P, P, MADV_REMOVE));

	int m = memfd_create("r", 0);
	fill(m, 'r', 3 * P);
	char *priv = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE, m, 0);
	say("remove private file", madvise(priv, P, MADV_REMOVE));
	char *sh = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
	priv[2 * P] = 'c'; /* a private copy, which a hole leaves alone */
	int go[2], back[2];
	if (pipe(go) || pipe(back))
		return;
	pid_t pid = fork();
	if (pid == 0) {
		char c = sh[P];
		if (write(back[1], &c, 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		printf("child sees %d %c\n", sh[P], sh[0]);
		fflush(stdout);
		_exit(0);
	}
	char c;
	if (read(back[0], &c, 1) != 1)
		return;
	printf("child mapped %c\n", c);
	fflush(stdout);
	say("remove shared file range", madvise(sh + P, 2 * P, MADV_REMOVE));
	if (write(go[1], &c, 1) != 1)
		return;
	int st;
	waitpid(pid, &st, 0);
	printf("child status %d\n", st);
	printf("private: %c %c %d\n", priv[0], priv[2 * P], priv[P]);
	contents("memfd after remove", m);
	close(m);
}

static void regular(void)
{
	int fd = open("falloc.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	fill(fd, 'b', 4 * P);
	unsigned char *map = mmap(NULL, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	map[3 * P] = 'w'; /* dirty in the cache, outside the holes */
	say("punch", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, P - 10, P + 20));
	runs("mapping", map, 4 * P);
	say("zero range", fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 10));
	runs("mapping", map, 4 * P);
	say("remove through the mapping", madvise(map + 2 * P, P, MADV_REMOVE));
	contents("file", fd);
	say("allocate", fallocate(fd, 0, 4 * P, 2 * P));
	say("allocate keep size", fallocate(fd, FALLOC_FL_KEEP_SIZE, 6 * P, 2 * P));
	contents("file", fd);
	memset(map, 'x', P);
	say("collapse", fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, P));
	contents("file", fd);
	runs("mapping", map, 3 * P);
	say("insert", fallocate(fd, FALLOC_FL_INSERT_RANGE, P, P));
	contents("file", fd);
	runs("mapping", map, 4 * P);
	int ro = open("falloc.dat", O_RDONLY);
	char *rmap = mmap(NULL, P, PROT_READ, MAP_SHARED, ro, 0);
	say("remove read-only shared", madvise(rmap, P, MADV_REMOVE));
	close(ro);
	close(fd);
	unlink("falloc.dat");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	errors();
	tmpfs();
	madv_remove();
	regular();
	return 0;
}
