/* The page cache under memory pressure (issue 8 section 5). Three modes:
 *
 *   pcache loop [N]     N times (default 400): create a file, size it to
 *                       256 KiB, map it MAP_SHARED, write every page, unmap,
 *                       close and unlink it. Exits 0 when every round worked:
 *                       each deleted file's pages must be freed.
 *   pcache read FILE    map FILE read-only and read all of it, printing
 *                       "pages P sum S" (S: the checksum below).
 *   pcache dirty FILE   map FILE MAP_SHARED, store a pattern in every 64-bit
 *                       word, then read it all back and check it; the host
 *                       file must hold the pattern afterwards.
 *
 * The checksum and the pattern are defined on 64-bit words w[i] (native,
 * little-endian): sum = fold of (sum rotl 5) ^ w[i]; pattern w[i] =
 * i * 0x9E3779B97F4A7C15 ^ 0x5555. Files are read whole through mappings
 * larger than ferrite's RAM, so the cache must stream. */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096UL

static uint64_t pattern(uint64_t i) { return i * 0x9E3779B97F4A7C15ULL ^ 0x5555; }

static int loop(int n) {
    const size_t len = 256 * 1024;
    for (int r = 0; r < n; r++) {
        char name[32];
        snprintf(name, sizeof name, "pcache.tmp.%d", r);
        int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) {
            perror("open");
            return 1;
        }
        if (ftruncate(fd, len) != 0) {
            perror("ftruncate");
            return 1;
        }
        unsigned char *p = mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        for (size_t o = 0; o < len; o += PAGE)
            p[o] = (unsigned char)(r + o / PAGE);
        for (size_t o = 0; o < len; o += PAGE)
            CHECK_EQ(p[o], (unsigned char)(r + o / PAGE));
        CHECK(munmap(p, len) == 0);
        CHECK(close(fd) == 0);
        CHECK(unlink(name) == 0);
        if (check_failures)
            break;
    }
    printf("rounds %d\n", n);
    return check_failures ? 1 : 0;
}

static int map_whole(const char *path, int flags, int prot, uint64_t **words, size_t *len) {
    int fd = open(path, flags);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        perror("fstat");
        return -1;
    }
    *len = (size_t)st.st_size;
    void *p = mmap(0, *len, prot, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return -1;
    }
    close(fd);
    *words = p;
    return 0;
}

static int read_file(const char *path) {
    uint64_t *w;
    size_t len;
    if (map_whole(path, O_RDONLY, PROT_READ, &w, &len))
        return 1;
    uint64_t sum = 0;
    for (size_t i = 0; i < len / 8; i++)
        sum = ((sum << 5) | (sum >> 59)) ^ w[i];
    printf("pages %zu sum %016llx\n", len / PAGE, (unsigned long long)sum);
    return munmap(w, len) == 0 ? 0 : 1;
}

static int dirty_file(const char *path) {
    uint64_t *w;
    size_t len;
    if (map_whole(path, O_RDWR, PROT_READ | PROT_WRITE, &w, &len))
        return 1;
    size_t n = len / 8;
    for (size_t i = 0; i < n; i++)
        w[i] = pattern(i);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += w[i] != pattern(i);
    CHECK_EQ(bad, 0);
    CHECK(munmap(w, len) == 0);
    printf("words %zu\n", n);
    return check_failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "loop"))
        return loop(argc >= 3 ? atoi(argv[2]) : 400);
    if (argc == 3 && !strcmp(argv[1], "read"))
        return read_file(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "dirty"))
        return dirty_file(argv[2]);
    fprintf(stderr, "usage: pcache loop [N] | read FILE | dirty FILE\n");
    return 2;
}
