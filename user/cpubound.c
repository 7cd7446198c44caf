/* A CPU-bound benchmark: a sieve of Eratosthenes, a table-driven CRC-32
 * over a pseudo-random buffer, a small integer matrix multiply and an
 * xorshift/multiply hash chain. Deterministic output (one line with each
 * part's result and a combined checksum).
 *
 * argv[1], optional, scales the work: SCALE x 20 million rounds of the
 * hash chain (about 8 instructions each) on top of a fixed ~0.14 billion
 * instructions for the rest. The default, 10, retires about 1.9 billion
 * instructions (ferrite run --stats counts 1935508425), about 0.7 s under
 * qemu-riscv64; the end-to-end test runs SCALE 1 (0.32 billion). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIEVE_N 2000000
#define BUF_LEN (1 << 20)
#define MAT_N 96

static uint8_t composite[SIEVE_N + 1];
static uint8_t buf[BUF_LEN];
static uint32_t crc_table[256];
static int32_t ma[MAT_N][MAT_N], mb[MAT_N][MAT_N], mc[MAT_N][MAT_N];

static uint32_t sieve(void)
{
    memset(composite, 0, sizeof composite);
    uint32_t count = 0;
    for (uint32_t i = 2; i <= SIEVE_N; i++) {
        if (composite[i])
            continue;
        count++;
        for (uint64_t j = (uint64_t)i * i; j <= SIEVE_N; j += i)
            composite[j] = 1;
    }
    return count;
}

static uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static uint64_t matmul(uint32_t seed)
{
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            ma[i][j] = (int32_t)((i * 31 + j * 17 + seed) % 201) - 100;
            mb[i][j] = (int32_t)((i * 13 + j * 7 + seed * 3) % 199) - 99;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            int32_t s = 0;
            for (int k = 0; k < MAT_N; k++)
                s += ma[i][k] * mb[k][j];
            mc[i][j] = s;
        }
    uint64_t h = 0;
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++)
            h = h * 1000003u + (uint32_t)mc[i][j];
    return h;
}

static uint64_t hash_chain(uint64_t x, long n)
{
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x *= 0x9e3779b97f4a7c15ull;
    }
    return x;
}

int main(int argc, char *argv[])
{
    long scale = argc > 1 ? atol(argv[1]) : 10;
    if (scale < 1) {
        fprintf(stderr, "usage: cpubound [SCALE>=1]\n");
        return 2;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    uint32_t primes = sieve();
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < BUF_LEN; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)(x >> 32);
    }
    uint32_t crc = 0;
    for (int pass = 0; pass < 8; pass++) {
        buf[pass] ^= (uint8_t)pass;
        crc ^= crc32(buf, BUF_LEN);
    }
    uint64_t mat = matmul((uint32_t)scale);
    uint64_t hc = hash_chain((uint64_t)scale, scale * 20000000);
    printf("scale %ld: primes<=%d %u crc %08x matmul %016llx hash %016llx\n",
           scale, SIEVE_N, primes, crc, (unsigned long long)mat,
           (unsigned long long)hc);
    uint64_t total = (((uint64_t)primes * 31 + crc) * 31 + mat) * 31 + hc;
    printf("cpubound: checksum %016llx\n", (unsigned long long)total);
    return 0;
}
