/* store_bench.c — microbenchmark of the state store: ns per put, get, restore and drain, and
 * bytes per key beyond the key and value bytes, for N keys (default 1,000,000); then the same
 * for the open windows of a window step (operators/window_table.h): N windows (N / 10 keys
 * with 10 windows each, one count() each) in its table and, once drained, in its store.
 *
 * Build and run: cmake --build --preset release --target store_bench && build/store_bench [N]
 */
#include "state/store.h"
#include "window_table.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t make_key(char *k, long i)
{
    return (size_t)snprintf(k, 32, "sensor-%07ld", i);
}

static int count_entry(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    ++*(size_t *)opaque;
    return 0;
}

static int sum_kv(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    *(size_t *)opaque += klen + vlen;
    return 0;
}

/* The window step's memory per open window: n windows of n / 10 record keys (36-byte ids, as
 * the telemetry's device ids), 10 hopping windows each, one count() each. */
static void window_memory(long n)
{
    static sr_aggspec count_spec = {.name = "n", .nlen = 1, .kind = SR_AGG_COUNT};
    static const sr_aggspecs aggs = {&count_spec, 1};
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    char err[512];
    sr_store *s = sr_store_new("windows", &b, err, sizeof(err));
    sr_wtable *wt = sr_wtable_new(&aggs, 1000, s, "bench");
    long keys = n / 10 > 0 ? n / 10 : 1;
    sr_value one = sr_bool(true);
    size_t reserved = 0; /* what the table charged to the store (count() has no heap memory) */
    double t0 = now();
    for (long w = 0; w < 10; w++)
        for (long k = 0; k < keys; k++) {
            char kb[64];
            kb[0] = 1;
            snprintf(kb + 1, sizeof(kb) - 1, "%08lx-0000-4000-8000-%012lx",
                     (unsigned long)k & 0xffffffffUL, (unsigned long)(k * 7919) & 0xffffffffffffUL);
            sr_wkey *wk = sr_wtable_key(wt, kb, 37, false);
            size_t cost = sr_wtable_cost(wt, 1, wk ? 0 : 37);
            sr_store_reserve(s, cost, false, err, sizeof(err)); /* as the window step does */
            reserved += cost;
            if (!wk) wk = sr_wtable_key(wt, kb, 37, true);
            sr_wentry *e = sr_wtable_add(wt, wk, (sr_window){w * 1000, w * 1000 + 10000});
            sr_aggs_add(&aggs, e->accs, &one, w * 1000, w * keys + k, err, sizeof(err));
            sr_wtable_touch(wt, e);
        }
    double t_add = now() - t0;
    size_t windows = sr_wtable_count(wt), table = sr_wtable_overhead_bytes(wt);
    size_t accs = windows * sizeof(sr_agg) * (size_t)aggs.n;
    size_t handed = 0;
    t0 = now();
    sr_store_drain(s, count_entry, &handed); /* the table puts every window first */
    double t_drain = now() - t0;
    size_t kv = 0;
    sr_store_foreach(s, sum_kv, &kv);
    size_t store = sr_store_bytes(s) - reserved; /* the store's own */
    printf("window table     %zu open windows of %ld keys, count(): %.1f ns per new window, "
           "drain %.1f ns/window\n",
           windows, keys, t_add * 1e9 / (double)windows, t_drain * 1e9 / (double)windows);
    printf("  table          %.1f bytes/window beyond its accumulators (%zu bytes each, "
           "decoded)\n",
           (double)table / (double)windows, sizeof(sr_agg) * (size_t)aggs.n);
    printf("  store          %.1f bytes/window beyond key and value (%.1f bytes of key and "
           "value, the state as stored)\n",
           (double)(store - kv) / (double)windows, (double)kv / (double)windows);
    printf("  in all         %.1f bytes/window beyond its key and value as stored\n",
           (double)(table + accs + store - kv) / (double)windows);
    sr_wtable_destroy(wt);
    sr_store_destroy(s);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n <= 0) return 2;
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    char err[512], k[32];
    sr_store *s = sr_store_new("bench", &b, err, sizeof(err));
    if (!s) return fprintf(stderr, "%s\n", err), 1;
    /* keys are made outside the timed loops: the time is the store's */
    char(*keys)[16] = malloc((size_t)n * 16);
    size_t *klen = malloc((size_t)n * sizeof(size_t)), payload = 0;
    for (long i = 0; i < n; i++) {
        klen[i] = make_key(k, i);
        memcpy(keys[i], k, 16);
        payload += klen[i] + sizeof(double);
    }
    /* a shuffled order for the gets, so they do not follow the insertion order */
    long *perm = malloc((size_t)n * sizeof(long));
    for (long i = 0; i < n; i++) perm[i] = i;
    uint64_t x = 88172645463325252ULL;
    for (long i = n - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        long j = (long)(x % (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }

    double t0 = now();
    for (long i = 0; i < n; i++) {
        double v = (double)i;
        if (sr_store_put(s, keys[i], klen[i], &v, sizeof(v), err, sizeof(err)))
            return fprintf(stderr, "%s\n", err), 1;
    }
    double t_put = now() - t0;
    size_t bytes = sr_store_bytes(s);

    t0 = now();
    double sum = 0;
    for (long i = 0; i < n; i++) {
        size_t vl;
        const double *v = sr_store_get(s, keys[perm[i]], klen[perm[i]], &vl);
        if (!v) return fprintf(stderr, "key %ld missing\n", perm[i]), 1;
        sum += *v;
    }
    double t_get = now() - t0;

    t0 = now();
    for (long i = 0; i < n; i++) {
        double v = (double)i + 1;
        if (sr_store_put(s, keys[perm[i]], klen[perm[i]], &v, sizeof(v), err, sizeof(err)))
            return fprintf(stderr, "%s\n", err), 1;
    }
    double t_upd = now() - t0;

    size_t handed = 0;
    t0 = now();
    sr_store_drain(s, count_entry, &handed);
    double t_drain = now() - t0;
    sr_store_destroy(s);

    /* restore into a fresh store, as a task does on assignment */
    s = sr_store_new("bench-restore", &b, err, sizeof(err));
    t0 = now();
    for (long i = 0; i < n; i++) {
        double v = (double)i;
        if (sr_store_restore(s, keys[i], klen[i], &v, sizeof(v), err, sizeof(err)))
            return fprintf(stderr, "%s\n", err), 1;
    }
    double t_restore = now() - t0;
    sr_store_destroy(s);

    printf("%ld keys (%zu-byte keys, 8-byte values), checksum %.0f\n", n, klen[n - 1], sum);
    printf("put (new key)    %7.1f ns\n", t_put * 1e9 / n);
    printf("get (random)     %7.1f ns\n", t_get * 1e9 / n);
    printf("put (update)     %7.1f ns\n", t_upd * 1e9 / n);
    printf("drain            %7.1f ns/key (%zu keys)\n", t_drain * 1e9 / n, handed);
    printf("restore          %7.1f ns/key, %.3f s in all\n", t_restore * 1e9 / n, t_restore);
    printf("memory           %.1f bytes/key beyond key and value (%zu bytes accounted)\n",
           (double)(bytes - payload) / n, bytes);
    window_memory(n);
    free(keys);
    free(klen);
    free(perm);
    return 0;
}
