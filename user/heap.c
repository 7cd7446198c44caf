/* A heap workout through glibc's malloc: small blocks (brk heap), blocks
 * around the 128 KiB mmap threshold and well above it (1 MiB and more, which
 * glibc serves with mmap), each filled with a pattern derived from its index
 * and round, checked, grown and shrunk with realloc (the pattern must
 * survive a move), and freed in a mixed order. Prints a checksum per round,
 * deterministic on any correct kernel, and "heap: ok". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

#define NBLOCKS 64
#define ROUNDS 6

static const size_t sizes[] = {
    1, 7, 16, 24, 100, 256, 1000, 4096, 4097, 10000, 65536,
    128 * 1024 - 64, 128 * 1024, 128 * 1024 + 1, 200000,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])
/* Every eighth block is big: well above the mmap threshold. */
static const size_t big[] = { 1 << 20, 3 * (1 << 20) + 123, 2 << 20 };
#define NBIG (sizeof big / sizeof big[0])

/* The bytes of a block that carry the pattern: all of the first 4 KiB,
 * then every 64th byte (enough to touch every page and catch a lost or
 * misplaced page, at a cost an interpreter can afford). */
#define EACH_BYTE(i, n) for (size_t i = 0; i < (n); i += (i < 4096 ? 1 : 64))

static uint8_t pattern(uint32_t seed, size_t i)
{
    uint32_t v = seed * 2654435761u + (uint32_t)i * 40503u;
    return (uint8_t)(v ^ (v >> 13) ^ (v >> 24));
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    EACH_BYTE(i, n)
        p[i] = pattern(seed, i);
}

/* Checks the pattern over [0, n); returns a checksum (FNV-1a) of it. */
static uint64_t verify(const uint8_t *p, size_t n, uint32_t seed, int *bad)
{
    uint64_t h = 1469598103934665603ull;
    EACH_BYTE(i, n) {
        if (p[i] != pattern(seed, i) && !*bad) {
            fprintf(stderr, "heap: block seed %u byte %zu: got %#x want %#x\n",
                    seed, i, p[i], pattern(seed, i));
            *bad = 1;
        }
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

/* A small deterministic generator for the free order. */
static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

int main(void)
{
    uint8_t *blk[NBLOCKS];
    size_t len[NBLOCKS];
    uint32_t seed[NBLOCKS];
    uint64_t total = 0;
    size_t bytes_total = 0;

    for (int round = 0; round < ROUNDS; round++) {
        uint64_t sum = 0;
        size_t bytes = 0;
        int bad = 0;

        for (int i = 0; i < NBLOCKS; i++) {
            if (i % 8 == 3)
                len[i] = big[(i / 8 + round) % NBIG];
            else
                len[i] = sizes[(i * 7 + round * 3) % NSIZES];
            seed[i] = (uint32_t)(round * 1000 + i);
            blk[i] = malloc(len[i]);
            CHECK(blk[i] != NULL);
            if (!blk[i])
                return check_exit("heap");
            CHECK(((uintptr_t)blk[i] & 15) == 0); /* malloc aligns to 16 */
            fill(blk[i], len[i], seed[i]);
            bytes += len[i];
        }
        /* Blocks do not overlap: every pattern is intact after all fills. */
        for (int i = 0; i < NBLOCKS; i++)
            sum += verify(blk[i], len[i], seed[i], &bad);

        /* realloc a third of them: grow (may move), then shrink. */
        for (int i = round % 3; i < NBLOCKS; i += 3) {
            size_t old = len[i];
            size_t grown = old + old / 2 + 4096 * (size_t)(i % 5) + 1;
            uint8_t *p = realloc(blk[i], grown);
            CHECK(p != NULL);
            if (!p)
                return check_exit("heap");
            sum += verify(p, old, seed[i], &bad); /* the old bytes survive */
            fill(p, grown, seed[i] + 7);
            size_t shrunk = grown / 3 + 1;
            uint8_t *q = realloc(p, shrunk);
            CHECK(q != NULL);
            if (!q)
                return check_exit("heap");
            sum += verify(q, shrunk, seed[i] + 7, &bad);
            blk[i] = q;
            len[i] = shrunk;
            seed[i] += 7;
        }

        /* calloc returns zeroed memory, also when reusing freed blocks. */
        for (int k = 0; k < 4; k++) {
            size_t n = sizes[(round + k * 5) % NSIZES];
            uint8_t *z = calloc(n, 1);
            CHECK(z != NULL);
            for (size_t i = 0; z && i < n; i++)
                if (z[i]) {
                    CHECK(z[i] == 0);
                    break;
                }
            free(z);
        }

        /* Free in a mixed order: a shuffled half, then the rest backwards,
         * checking the survivors' patterns in between. */
        int order[NBLOCKS];
        for (int i = 0; i < NBLOCKS; i++)
            order[i] = i;
        for (int i = NBLOCKS - 1; i > 0; i--) {
            int j = (int)(next() % (uint32_t)(i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int k = 0; k < NBLOCKS / 2; k++) {
            free(blk[order[k]]);
            blk[order[k]] = NULL;
        }
        for (int i = 0; i < NBLOCKS; i++)
            if (blk[i])
                sum += verify(blk[i], len[i], seed[i], &bad);
        for (int i = NBLOCKS - 1; i >= 0; i--)
            free(blk[i]);

        CHECK(!bad);
        printf("round %d: %d blocks %zu bytes checksum %016llx\n", round,
               NBLOCKS, bytes, (unsigned long long)sum);
        total ^= sum + (uint64_t)round;
        bytes_total += bytes;
    }

    printf("total %zu bytes checksum %016llx\n", bytes_total,
           (unsigned long long)total);
    if (check_exit("heap"))
        return 1;
    printf("heap: ok\n");
    return 0;
}
