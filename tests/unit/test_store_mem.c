/* test_store_mem.c — the state store's memory with 1,000,000 keys: overhead per key beyond the
 * key and value bytes, and the accounted bytes against what the allocator really holds. */
#include "state/store.h"
#include "test.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define SR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SR_ASAN 1
#endif
#endif

#ifdef SR_ASAN
#include <sanitizer/allocator_interface.h>
/* ASan's allocator: the bytes its callers asked for (no header, no rounding). The store
 * accounts malloc_usable_size() (here: the size asked for) plus glibc's 8-byte header. */
static size_t held(void)
{
    return __sanitizer_get_current_allocated_bytes();
}
#define HDR_PER_BLOCK sizeof(size_t)
#else
/* glibc: bytes in chunks in use, headers included (uordblks), plus mmapped blocks. */
static size_t held(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
#define HDR_PER_BLOCK 0
#endif

#define N 1000000

static size_t make_key(char *k, int i)
{
    return (size_t)snprintf(k, 32, "sensor-%07d", i);
}

static int count_entry(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    ++*(size_t *)opaque;
    return 0;
}

/* |a - b| within tol */
static bool near(size_t a, size_t b, size_t tol)
{
    return a > b ? a - b <= tol : b - a <= tol;
}

int main(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    char err[512], k[32];
    double v = 0;
    printf("state store: %d keys\n", N); /* stdio's buffer before the first measure */
    size_t base = held();
    sr_store *s = sr_store_new("mem", &b, err, sizeof(err));
    CHECK(s != NULL);
    size_t empty = sr_store_bytes(s);
    size_t payload = 0;
    int fails = 0;
    for (int i = 0; i < N; i++) {
        size_t kl = make_key(k, i);
        v = i * 0.5;
        fails += sr_store_put(s, k, kl, &v, sizeof(v), err, sizeof(err)) != 0;
        payload += kl + sizeof(v);
    }
    CHECK(fails == 0);
    CHECK(sr_store_count(s) == N);
    size_t bytes = sr_store_bytes(s), real = held() - base;
    double overhead = (double)(bytes - payload) / N;
    printf("accounted %zu bytes, allocator %zu (+%zu headers), payload %zu: %.1f bytes/key "
           "beyond key and value\n",
           bytes, real, (size_t)(HDR_PER_BLOCK * (N + 4)), payload, overhead);
    CHECK(overhead < 200);
    CHECK(sr_mem_budget_used(&b) == bytes);
    /* accounting matches the allocator: to 0.1% (glibc's mmapped blocks count 8 bytes
     * differently; a few blocks are the dirty and table arrays) */
    CHECK(near(bytes, real + HDR_PER_BLOCK * (N + 4), bytes / 1000));

    /* the values are all there */
    int wrong = 0;
    for (int i = 0; i < N; i += 7) {
        size_t kl = make_key(k, i), vl = 0;
        const double *got = sr_store_get(s, k, kl, &vl);
        wrong += !got || vl != sizeof(double) || *got != i * 0.5;
    }
    CHECK(wrong == 0);

    /* drain, then delete all: every byte goes back but the empty store's */
    size_t drained = sr_store_dirty_count(s);
    CHECK(drained == N);
    size_t handed = 0;
    CHECK(sr_store_drain(s, count_entry, &handed) == 0);
    CHECK(handed == N && sr_store_dirty_count(s) == 0);
    for (int i = 0; i < N; i++) {
        size_t kl = make_key(k, i);
        fails += sr_store_restore(s, k, kl, NULL, 0, err, sizeof(err)) != 0;
    }
    CHECK(fails == 0);
    CHECK(sr_store_count(s) == 0);
    size_t after = sr_store_bytes(s);
    real = held() - base;
    printf("after deleting all: accounted %zu bytes, allocator %zu\n", after, real);
    CHECK(after == empty);
    CHECK(near(after, real + HDR_PER_BLOCK, 16384)); /* glibc's tcache: see below */
    sr_store_destroy(s);
    CHECK(sr_mem_budget_used(&b) == 0);
    /* glibc's tcache keeps up to 7 freed blocks of each small size, which mallinfo2 counts
     * as in use: the grown-out small tables */
    printf("after destroy: allocator %+ld bytes\n", (long)(held() - base));
    CHECK(near(held(), base, 16384));
    return TEST_END();
}
