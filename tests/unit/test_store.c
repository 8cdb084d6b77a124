/* test_store.c — unit tests for the state store: map operations, binary keys, the dirty set and
 * its drain, restore, the memory budget, and a randomized run against a plain reference. */
#include "state/store.h"
#include "test.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define ERRSZ 512

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct rec {
    char *key, *val; /* val NULL: tombstone */
    size_t klen, vlen;
} rec;

typedef struct recs {
    rec *v;
    size_t n;
    int stop_at; /* collect: return 1 at this call (0-based), -1 never */
} recs;

static int collect(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    recs *r = opaque;
    if (r->stop_at >= 0 && (size_t)r->stop_at == r->n) return 7;
    r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
    rec *e = &r->v[r->n++];
    e->key = malloc(klen + 1);
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->val = NULL;
    e->vlen = vlen;
    if (val) {
        e->val = malloc(vlen + 1);
        memcpy(e->val, val, vlen);
    }
    return 0;
}

static void recs_free(recs *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].key);
        free(r->v[i].val);
    }
    free(r->v);
    memset(r, 0, sizeof(*r));
    r->stop_at = -1;
}

static bool rec_is(const rec *e, const char *k, const char *v)
{
    if (e->klen != strlen(k) || memcmp(e->key, k, e->klen) != 0) return false;
    if (!v) return e->val == NULL;
    return e->val && e->vlen == strlen(v) && memcmp(e->val, v, e->vlen) == 0;
}

/* Orders records by key bytes. */
static int rec_cmp(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

/* The value of a NUL-terminated key as a string (NULL when absent), copied into buf. */
static const char *get(sr_store *s, const char *k, char *buf, size_t cap)
{
    size_t vlen = 99;
    const char *v = sr_store_get(s, k, strlen(k), &vlen);
    if (!v) return NULL;
    if (vlen >= cap) return "(too long)";
    memcpy(buf, v, vlen);
    buf[vlen] = 0;
    return buf;
}

static int put(sr_store *s, const char *k, const char *v)
{
    char err[ERRSZ];
    int rc = sr_store_put(s, k, strlen(k), v, strlen(v), err, sizeof(err));
    if (rc) fprintf(stderr, "put: %s\n", err);
    return rc;
}

static int del(sr_store *s, const char *k)
{
    char err[ERRSZ];
    return sr_store_delete(s, k, strlen(k), err, sizeof(err));
}

static sr_store *new_store(const char *name, sr_mem_budget *b)
{
    char err[ERRSZ];
    sr_store *s = sr_store_new(name, b, err, sizeof(err));
    if (!s) fprintf(stderr, "new: %s\n", err);
    return s;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_siphash(void)
{
    /* SipHash-2-4 reference vectors (key 00..0f, message 00 01 02 ...), and SipHash-1-3 as
     * CPython computes hash(bytes) with PYTHONHASHSEED=0 (a zero key). */
    uint8_t k[16], m[64], zero[16] = {0};
    for (int i = 0; i < 16; i++) k[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) m[i] = (uint8_t)i;
    CHECK(sr_siphash24(k, m, 0) == 0x726fdb47dd0e0e31ULL);
    CHECK(sr_siphash24(k, m, 1) == 0x74f839c593dc67fdULL);
    CHECK(sr_siphash24(k, m, 7) == 0xab0200f58b01d137ULL);
    CHECK(sr_siphash24(k, m, 8) == 0x93f5f5799a932462ULL);
    CHECK(sr_siphash24(k, m, 15) == 0xa129ca6149be45e5ULL);
    CHECK(sr_siphash24(k, m, 16) == 0x3f2acc7f57c29bdbULL);
    CHECK(sr_siphash24(k, m, 63) == 0x958a324ceb064572ULL);
    CHECK(sr_siphash13(zero, m, 1) == 0x68a914128e01e473ULL);
    CHECK(sr_siphash13(zero, m, 8) == 0xead411e67ebe2eeaULL);
    CHECK(sr_siphash13(zero, m, 15) == 0xf30eb725bb91c9eaULL);
}

static void test_basic(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    sr_store *s = new_store("basic", &b);
    char buf[64];
    CHECK_STR(sr_store_name(s), "basic");
    CHECK(sr_store_count(s) == 0);
    CHECK(get(s, "a", buf, sizeof(buf)) == NULL);
    CHECK(put(s, "a", "1") == 0);
    CHECK(put(s, "b", "22") == 0);
    CHECK_STR(get(s, "a", buf, sizeof(buf)), "1");
    CHECK_STR(get(s, "b", buf, sizeof(buf)), "22");
    CHECK(sr_store_count(s) == 2);
    /* overwrite: shorter, same, much longer */
    CHECK(put(s, "a", "") == 0);
    CHECK_STR(get(s, "a", buf, sizeof(buf)), "");
    CHECK(put(s, "a", "x") == 0);
    CHECK_STR(get(s, "a", buf, sizeof(buf)), "x");
    const char *longv = "a value much longer than the one it replaces, so it needs another block";
    CHECK(put(s, "a", longv) == 0);
    CHECK_STR(get(s, "a", buf, sizeof(buf)), "(too long)");
    size_t vlen = 0;
    const char *v = sr_store_get(s, "a", 1, &vlen);
    CHECK(v && vlen == strlen(longv) && memcmp(v, longv, vlen) == 0);
    CHECK(((uintptr_t)v & 7) == 0); /* values are 8-byte aligned */
    CHECK(sr_store_count(s) == 2);
    /* a put of a value read from the store itself */
    CHECK(sr_store_put(s, "b", 1, v, vlen, buf, sizeof(buf)) == 0);
    v = sr_store_get(s, "b", 1, &vlen);
    CHECK(v && vlen == strlen(longv) && memcmp(v, longv, vlen) == 0);
    /* empty key, empty value: present, non-NULL */
    CHECK(sr_store_put(s, "", 0, "", 0, buf, sizeof(buf)) == 0);
    vlen = 99;
    CHECK(sr_store_get(s, "", 0, &vlen) != NULL && vlen == 0);
    CHECK(sr_store_count(s) == 3);
    /* delete */
    CHECK(del(s, "a") == 1);
    CHECK(del(s, "a") == 0);
    CHECK(del(s, "zz") == 0);
    CHECK(get(s, "a", buf, sizeof(buf)) == NULL);
    CHECK(sr_store_count(s) == 2);
    CHECK(put(s, "a", "back") == 0);
    CHECK_STR(get(s, "a", buf, sizeof(buf)), "back");
    CHECK(sr_store_count(s) == 3);
    CHECK(sr_mem_budget_used(&b) == sr_store_bytes(s));
    sr_store_destroy(s);
    CHECK(sr_mem_budget_used(&b) == 0);
}

static void test_binary_keys(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    sr_store *s = new_store("binary", &b);
    char err[ERRSZ];
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, k3[] = {'a'}, k4[] = {'a', 0};
    const unsigned char v1[] = {0, 1, 2, 0, 255};
    CHECK(sr_store_put(s, k1, 3, v1, 5, err, sizeof(err)) == 0);
    CHECK(sr_store_put(s, k2, 3, "2", 1, err, sizeof(err)) == 0);
    CHECK(sr_store_put(s, k3, 1, "3", 1, err, sizeof(err)) == 0);
    CHECK(sr_store_put(s, k4, 2, "4", 1, err, sizeof(err)) == 0);
    CHECK(sr_store_count(s) == 4);
    size_t n = 0;
    const unsigned char *v = sr_store_get(s, k1, 3, &n);
    CHECK(v && n == 5 && memcmp(v, v1, 5) == 0);
    const char *w = sr_store_get(s, k2, 3, &n);
    CHECK(w && n == 1 && w[0] == '2');
    w = sr_store_get(s, k3, 1, &n);
    CHECK(w && n == 1 && w[0] == '3');
    w = sr_store_get(s, k4, 2, &n);
    CHECK(w && n == 1 && w[0] == '4');
    CHECK(sr_store_delete(s, k4, 2, err, sizeof(err)) == 1);
    CHECK(sr_store_get(s, k4, 2, &n) == NULL);
    CHECK(sr_store_get(s, k3, 1, &n) != NULL);
    sr_store_destroy(s);
}

static void test_dirty_order(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    sr_store *s = new_store("dirty", &b);
    recs r = {.stop_at = -1};
    CHECK(put(s, "a", "1") == 0);
    CHECK(put(s, "b", "2") == 0);
    CHECK(put(s, "c", "3") == 0);
    CHECK(put(s, "a", "4") == 0); /* coalesces: a keeps its place with its latest value */
    CHECK(del(s, "b") == 1);      /* becomes a tombstone in place */
    CHECK(put(s, "d", "5") == 0);
    CHECK(del(s, "c") == 1);
    CHECK(put(s, "c", "6") == 0); /* deleted then put again: a value, c's first place */
    CHECK(del(s, "nope") == 0);   /* absent: nothing becomes dirty */
    CHECK(sr_store_dirty_count(s) == 4);
    CHECK(sr_store_count(s) == 3);
    CHECK(sr_store_drain(s, collect, &r) == 0);
    CHECK(r.n == 4);
    if (r.n == 4) {
        CHECK(rec_is(&r.v[0], "a", "4"));
        CHECK(rec_is(&r.v[1], "b", NULL));
        CHECK(rec_is(&r.v[2], "c", "6"));
        CHECK(rec_is(&r.v[3], "d", "5"));
    }
    recs_free(&r);
    CHECK(sr_store_dirty_count(s) == 0);
    CHECK(sr_store_drain(s, collect, &r) == 0 && r.n == 0);
    /* the drained tombstone is gone; the others stay */
    CHECK(sr_store_count(s) == 3);
    char buf[16];
    CHECK(get(s, "b", buf, sizeof(buf)) == NULL);
    CHECK_STR(get(s, "c", buf, sizeof(buf)), "6");
    /* a new interval: order starts afresh */
    CHECK(put(s, "d", "7") == 0);
    CHECK(put(s, "a", "8") == 0);
    CHECK(sr_store_drain(s, collect, &r) == 0);
    CHECK(r.n == 2 && rec_is(&r.v[0], "d", "7") && rec_is(&r.v[1], "a", "8"));
    recs_free(&r);
    sr_store_destroy(s);
}

static void test_drain_stop(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    sr_store *s = new_store("stop", &b);
    recs r = {.stop_at = 2};
    CHECK(put(s, "a", "1") == 0);
    CHECK(del(s, "a") == 1);
    CHECK(put(s, "b", "2") == 0);
    CHECK(put(s, "c", "3") == 0);
    CHECK(put(s, "d", "4") == 0);
    CHECK(sr_store_drain(s, collect, &r) == 7); /* took a, b; refused c */
    CHECK(r.n == 2 && rec_is(&r.v[0], "a", NULL) && rec_is(&r.v[1], "b", "2"));
    CHECK(sr_store_dirty_count(s) == 2);
    recs_free(&r);
    CHECK(put(s, "e", "5") == 0);
    /* a value that needs a new block: the node moves, its dirty place follows */
    const char *longv = "a value long enough not to fit the block of the old one, 64 bytes..";
    CHECK(put(s, "c", longv) == 0);
    CHECK(sr_store_drain(s, collect, &r) == 0);
    CHECK(r.n == 3 && rec_is(&r.v[0], "c", longv) && rec_is(&r.v[1], "d", "4") &&
          rec_is(&r.v[2], "e", "5"));
    recs_free(&r);
    sr_store_destroy(s);
}

static int change_in_drain(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    char err[ERRSZ];
    void **ctx = opaque;
    int *refused = ctx[0];
    sr_store *s = ctx[1];
    if (sr_store_put(s, "x", 1, "y", 1, err, sizeof(err)) < 0 && strstr(err, "drained"))
        (*refused)++;
    if (sr_store_delete(s, key, klen, err, sizeof(err)) < 0 && strstr(err, "drained")) (*refused)++;
    return 0;
}

static void test_restore(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    /* a changelog with repeated keys, deletions of present and absent keys */
    struct {
        const char *k, *v;
    } log[] = {{"a", "1"}, {"b", "2"},  {"c", "3"},  {"a", "11"}, {"b", NULL}, {"z", NULL},
               {"d", "4"}, {"b", "22"}, {"c", NULL}, {"e", ""},   {"d", "44"}};
    size_t nlog = sizeof(log) / sizeof(log[0]);
    sr_store *once = new_store("once", &b), *twice = new_store("twice", &b);
    char err[ERRSZ];
    for (int pass = 0; pass < 3; pass++)
        for (size_t i = 0; i < nlog; i++) {
            sr_store *s = pass == 0 ? once : twice;
            size_t vl = log[i].v ? strlen(log[i].v) : 0;
            CHECK(sr_store_restore(s, log[i].k, strlen(log[i].k), log[i].v, vl, err, sizeof(err)) ==
                  0);
        }
    CHECK(sr_store_dirty_count(once) == 0 && sr_store_dirty_count(twice) == 0);
    recs r1 = {.stop_at = -1}, r2 = {.stop_at = -1};
    sr_store_foreach(once, collect, &r1);
    sr_store_foreach(twice, collect, &r2);
    /* the same entries (the walk order may differ: it follows the operations) */
    qsort(r1.v, r1.n, sizeof(rec), rec_cmp);
    qsort(r2.v, r2.n, sizeof(rec), rec_cmp);
    CHECK(r1.n == 4 && r2.n == 4);
    bool same = r1.n == r2.n;
    for (size_t i = 0; same && i < r1.n; i++)
        same = r1.v[i].klen == r2.v[i].klen && r1.v[i].vlen == r2.v[i].vlen &&
               memcmp(r1.v[i].key, r2.v[i].key, r1.v[i].klen) == 0 &&
               memcmp(r1.v[i].val, r2.v[i].val, r1.v[i].vlen) == 0;
    CHECK(same);
    char buf[16];
    CHECK_STR(get(once, "a", buf, sizeof(buf)), "11");
    CHECK_STR(get(once, "b", buf, sizeof(buf)), "22");
    CHECK(get(once, "c", buf, sizeof(buf)) == NULL);
    CHECK_STR(get(once, "d", buf, sizeof(buf)), "44");
    CHECK_STR(get(once, "e", buf, sizeof(buf)), "");
    recs_free(&r1);
    recs_free(&r2);

    /* a restore on a dirty key keeps it dirty with the restored state */
    CHECK(put(once, "a", "new") == 0);
    CHECK(put(once, "d", "new") == 0);
    CHECK(sr_store_restore(once, "a", 1, "old", 3, err, sizeof(err)) == 0);
    CHECK(sr_store_restore(once, "d", 1, NULL, 0, err, sizeof(err)) == 0);
    CHECK(sr_store_restore(once, "b", 1, NULL, 0, err, sizeof(err)) == 0); /* clean: gone */
    CHECK(sr_store_drain(once, collect, &r1) == 0);
    CHECK(r1.n == 2 && rec_is(&r1.v[0], "a", "old") && rec_is(&r1.v[1], "d", NULL));
    recs_free(&r1);
    CHECK(sr_store_count(once) == 2); /* a, e */

    /* nothing may change the store while it is drained */
    CHECK(put(once, "q", "1") == 0);
    int refused = 0;
    void *ctx[2] = {&refused, once};
    CHECK(sr_store_drain(once, change_in_drain, ctx) == 0);
    CHECK(refused == 2);
    CHECK(sr_store_get(once, "x", 1, NULL) == NULL);

    sr_store_destroy(once);
    sr_store_destroy(twice);
    CHECK(sr_mem_budget_used(&b) == 0);
}

static int delete_odd(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    sr_store *s = opaque;
    char err[ERRSZ];
    if (((const char *)val)[0] & 1) return sr_store_delete(s, key, klen, err, sizeof(err)) != 1;
    /* an update of the key being walked is allowed; a new key is refused */
    if (sr_store_put(s, key, klen, "0-updated-to-a-longer-value", 27, err, sizeof(err)) != 0)
        return 1;
    return sr_store_put(s, "new", 3, "x", 1, err, sizeof(err)) == 0 || !strstr(err, "walked");
}

static void test_foreach_changes(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    sr_store *s = new_store("walk", &b);
    char k[8], v[8];
    for (int i = 0; i < 100; i++) {
        snprintf(k, sizeof(k), "k%d", i);
        snprintf(v, sizeof(v), "%d", i % 10);
        CHECK(put(s, k, v) == 0);
    }
    CHECK(sr_store_foreach(s, delete_odd, s) == 0);
    CHECK(sr_store_count(s) == 50);
    recs r = {.stop_at = -1};
    sr_store_foreach(s, collect, &r);
    CHECK(r.n == 50);
    bool ok = r.n == 50;
    for (size_t i = 0; ok && i < r.n; i++) {
        snprintf(k, sizeof(k), "k%zu", 2 * i); /* insertion order kept */
        ok = rec_is(&r.v[i], k, "0-updated-to-a-longer-value");
    }
    CHECK(ok);
    recs_free(&r);
    sr_store_destroy(s);
}

static void test_budget(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, 64 * 1024);
    sr_store *s = new_store("counts", &b), *t = new_store("other", &b);
    char err[ERRSZ] = "", k[32], v[100];
    memset(v, 'v', sizeof(v));
    CHECK(put(t, "t", "x") == 0);
    int i = 0, rc = 0;
    for (; i < 100000 && rc == 0; i++) {
        snprintf(k, sizeof(k), "key-%d", i);
        rc = sr_store_put(s, k, strlen(k), v, sizeof(v), err, sizeof(err));
    }
    CHECK(rc == -1);
    int failed = i - 1;
    CHECK(failed > 100); /* it filled up before refusing */
    /* the message names the store, the budget and the usage */
    char want[200];
    CHECK(strstr(err, "state store 'counts': memory budget exceeded") != NULL);
    CHECK(strstr(err, "of the budget's 65536 bytes in use") != NULL);
    snprintf(want, sizeof(want), "(%zu by this store)", sr_store_bytes(s));
    CHECK(strstr(err, want) != NULL);
    CHECK(sr_mem_budget_used(&b) <= 65536);
    CHECK(sr_mem_budget_used(&b) == sr_store_bytes(s) + sr_store_bytes(t));
    /* the store is unchanged by the refusal */
    CHECK(sr_store_count(s) == (size_t)failed);
    snprintf(k, sizeof(k), "key-%d", failed);
    CHECK(sr_store_get(s, k, strlen(k), NULL) == NULL);
    snprintf(k, sizeof(k), "key-%d", failed - 1);
    CHECK(sr_store_get(s, k, strlen(k), NULL) != NULL);
    /* a larger value for a present key: refused, the old value kept */
    static char big[64 * 1024];
    size_t before = sr_store_bytes(s), n = 0;
    CHECK(sr_store_put(s, k, strlen(k), big, sizeof(big), err, sizeof(err)) == -1);
    CHECK(strstr(err, "'counts'") != NULL);
    const char *got = sr_store_get(s, k, strlen(k), &n);
    CHECK(got && n == sizeof(v) && got[0] == 'v');
    CHECK(sr_store_bytes(s) == before);
    /* the other store, sharing the budget, is refused too */
    err[0] = 0;
    CHECK(sr_store_put(t, "big", 3, big, 8192, err, sizeof(err)) == -1);
    CHECK(strstr(err, "state store 'other': memory budget exceeded") != NULL);
    /* a smaller value for a present key frees the difference */
    CHECK(sr_store_put(s, k, strlen(k), "s", 1, err, sizeof(err)) == 0);
    CHECK(sr_store_bytes(s) < before);
    /* deleting makes room again */
    for (int j = 0; j < failed; j += 2) {
        snprintf(k, sizeof(k), "key-%d", j);
        CHECK(del(s, k) == 1);
    }
    recs r = {.stop_at = -1};
    sr_store_drain(s, collect, &r);
    recs_free(&r);
    snprintf(k, sizeof(k), "key-%d", failed);
    CHECK(sr_store_put(s, k, strlen(k), v, sizeof(v), err, sizeof(err)) == 0);
    /* a budget too small for the store itself */
    sr_mem_budget tiny;
    sr_mem_budget_init(&tiny, 16);
    err[0] = 0;
    CHECK(sr_store_new("tiny", &tiny, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "state store 'tiny': memory budget exceeded") != NULL);
    CHECK(sr_mem_budget_used(&tiny) == 0);
    /* overdraft: the empty store and a step's own few bytes are made past the limit; a record's
     * change is still refused, naming the store */
    sr_store *o = sr_store_new_overdraft("over", &tiny, err, sizeof(err));
    CHECK(o != NULL && sr_mem_budget_used(&tiny) > tiny.limit);
    err[0] = 0;
    CHECK(sr_store_put(o, "k", 1, "v", 1, err, sizeof(err)) == -1);
    CHECK(strstr(err, "state store 'over': memory budget exceeded") != NULL);
    CHECK(sr_store_count(o) == 0 && sr_mem_budget_keys(&tiny) == 0);
    CHECK(sr_store_put_overdraft(o, "m", 1, "12345678", 8, err, sizeof(err)) == 0);
    CHECK(sr_store_count(o) == 1 && sr_mem_budget_keys(&tiny) == 1);
    CHECK(sr_store_bytes(o) == sr_mem_budget_used(&tiny));
    CHECK(sr_store_put(o, "k", 1, "v", 1, err, sizeof(err)) == -1); /* no overdraft left on */
    size_t held = sr_mem_budget_used(&tiny);
    CHECK(sr_mem_budget_peak(&tiny) == held); /* it only grew */
    sr_store_destroy(o);
    CHECK(sr_mem_budget_used(&tiny) == 0 && sr_mem_budget_keys(&tiny) == 0);
    CHECK(sr_mem_budget_peak(&tiny) == held); /* the most it held stays */
    /* the budget counts the live keys of all its stores */
    size_t keys = sr_mem_budget_keys(&b);
    CHECK(keys == sr_store_count(s) + sr_store_count(t));
    sr_store_destroy(s);
    sr_store_destroy(t);
    CHECK(sr_mem_budget_used(&b) == 0);
}

static void test_shrink(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    sr_store *s = new_store("shrink", &b);
    size_t empty = sr_store_bytes(s);
    char k[16], v[16], buf[16], err[ERRSZ];
    recs r = {.stop_at = -1};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 10000; i++) {
            snprintf(k, sizeof(k), "k%d", i);
            snprintf(v, sizeof(v), "v%d", i + round);
            CHECK(put(s, k, v) == 0);
        }
        sr_store_drain(s, collect, &r);
        recs_free(&r);
        size_t peak = sr_store_bytes(s);
        /* delete 99 keys in 100, then drain: the tables shrink */
        for (int i = 0; i < 10000; i++) {
            snprintf(k, sizeof(k), "k%d", i);
            if (i % 100) CHECK(del(s, k) == 1);
        }
        CHECK(sr_store_drain(s, collect, &r) == 0 && r.n == 9900);
        recs_free(&r);
        CHECK(sr_store_count(s) == 100);
        /* the dirty array stays as large as the busy interval needed until an interval that
         * uses less than a quarter of it */
        CHECK(sr_store_drain(s, collect, &r) == 0 && r.n == 0);
        CHECK(sr_store_bytes(s) < peak / 10);
        /* restored deletions shrink too; what is left is whole */
        for (int i = 0; i < 10000; i += 100) {
            snprintf(k, sizeof(k), "k%d", i);
            if (i % 3000) CHECK(sr_store_restore(s, k, strlen(k), NULL, 0, err, sizeof(err)) == 0);
        }
        CHECK(sr_store_count(s) == 4);
        int wrong = 0;
        for (int i = 0; i < 10000; i++) {
            snprintf(k, sizeof(k), "k%d", i);
            snprintf(v, sizeof(v), "v%d", i + round);
            const char *got = get(s, k, buf, sizeof(buf));
            wrong += i % 3000 ? got != NULL : !got || strcmp(got, v) != 0;
        }
        CHECK(wrong == 0);
    }
    /* all deleted and drained: the store is back to the bytes of an empty one */
    CHECK(del(s, "k0") == 1 && del(s, "k3000") == 1 && del(s, "k6000") == 1 &&
          del(s, "k9000") == 1);
    CHECK(sr_store_bytes(s) > empty); /* tombstones until the drain */
    sr_store_drain(s, collect, &r);
    recs_free(&r);
    CHECK(sr_store_count(s) == 0);
    CHECK(sr_store_bytes(s) == empty);
    CHECK(sr_mem_budget_used(&b) == empty);
    sr_store_destroy(s);
    CHECK(sr_mem_budget_used(&b) == 0);
}

/* Each thread fills its own store from a shared budget until refused, then empties half. */
typedef struct filler {
    sr_store *s;
    int refused, rounds;
} filler;

static void *fill(void *arg)
{
    filler *f = arg;
    char k[32], v[64] = {0}, err[ERRSZ];
    recs r = {.stop_at = -1};
    for (int round = 0; round < f->rounds; round++) {
        int i = 0;
        for (;; i++) {
            snprintf(k, sizeof(k), "%d-%d", round, i);
            if (sr_store_put(f->s, k, strlen(k), v, sizeof(v), err, sizeof(err)) < 0) break;
        }
        f->refused += strstr(err, "memory budget exceeded") != NULL;
        for (int j = 0; j < i; j += 2) {
            snprintf(k, sizeof(k), "%d-%d", round, j);
            sr_store_delete(f->s, k, strlen(k), err, sizeof(err));
        }
        sr_store_drain(f->s, collect, &r);
        recs_free(&r);
    }
    return NULL;
}

static void test_budget_threads(void)
{
    enum { T = 4 };
    sr_mem_budget b;
    sr_mem_budget_init(&b, 2 * 1024 * 1024);
    filler f[T];
    pthread_t th[T];
    char name[16];
    for (int t = 0; t < T; t++) { /* all stores first: the first thread fills the budget */
        snprintf(name, sizeof(name), "task-%d", t);
        f[t] = (filler){.s = new_store(name, &b), .rounds = 5};
    }
    for (int t = 0; t < T; t++) pthread_create(&th[t], NULL, fill, &f[t]);
    size_t sum = 0;
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        CHECK(f[t].refused == f[t].rounds);
        sum += sr_store_bytes(f[t].s);
    }
    /* the shared counter is exactly what the stores hold, and never passed the limit */
    CHECK(sr_mem_budget_used(&b) == sum);
    CHECK(sum <= b.limit);
    for (int t = 0; t < T; t++) sr_store_destroy(f[t].s);
    CHECK(sr_mem_budget_used(&b) == 0);
}

/* ---- randomized against a reference ------------------------------------------------------- */

#define NKEYS 1500
#define MAXV  80

/* The reference: one slot per key id, the dirty ids in order. */
typedef struct ref {
    bool present[NKEYS], dirty[NKEYS];
    unsigned char val[NKEYS][MAXV];
    size_t vlen[NKEYS];
    int order[NKEYS], norder;
} ref;

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Key of id: its two bytes (often NUL) then 0..29 bytes that depend on the id. */
static size_t key_of(int id, unsigned char *k)
{
    k[0] = (unsigned char)(id & 0xff);
    k[1] = (unsigned char)(id >> 8);
    size_t extra = (size_t)(id * 7) % 30;
    for (size_t i = 0; i < extra; i++) k[2 + i] = (unsigned char)((id * 31 + (int)i) % 3);
    return 2 + extra;
}

static int id_of(const unsigned char *k)
{
    return k[0] | k[1] << 8;
}

static void ref_dirty(ref *r, int id)
{
    if (!r->dirty[id]) {
        r->dirty[id] = true;
        r->order[r->norder++] = id;
    }
}

/* Compares a store's entries (any order) with the reference. */
static bool same_content(sr_store *s, const ref *r)
{
    recs got = {.stop_at = -1};
    sr_store_foreach(s, collect, &got);
    bool ok = true, seen[NKEYS] = {false};
    size_t want = 0;
    for (int id = 0; id < NKEYS; id++) want += r->present[id];
    if (got.n != want || sr_store_count(s) != want) ok = false;
    for (size_t i = 0; ok && i < got.n; i++) {
        int id = id_of((unsigned char *)got.v[i].key);
        ok = id < NKEYS && !seen[id] && r->present[id] && got.v[i].vlen == r->vlen[id] &&
             memcmp(got.v[i].val, r->val[id], r->vlen[id]) == 0;
        if (ok) seen[id] = true;
    }
    recs_free(&got);
    return ok;
}

static void test_random(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    /* two stores with different hash seeds get the same operations: results and walk order
     * must agree exactly */
    sr_store *s = new_store("random", &b), *s2 = new_store("random2", &b);
    size_t empty = sr_store_bytes(s);
    ref *r = calloc(1, sizeof(*r));
    unsigned char k[40], v[MAXV];
    char err[ERRSZ];
    int mismatches = 0, drains = 0;
    for (int op = 0; op < 100000; op++) {
        int id = (int)(rnd() % NKEYS);
        size_t klen = key_of(id, k);
        unsigned what = (unsigned)(rnd() % 100);
        if (what < 45 || what >= 95) { /* put, or restore of a value */
            size_t vlen = (size_t)(rnd() % MAXV);
            for (size_t i = 0; i < vlen; i++) v[i] = (unsigned char)rnd();
            bool restore = what >= 95;
            int rc = restore ? sr_store_restore(s, k, klen, v, vlen, err, sizeof(err))
                             : sr_store_put(s, k, klen, v, vlen, err, sizeof(err));
            int rc2 = restore ? sr_store_restore(s2, k, klen, v, vlen, err, sizeof(err))
                              : sr_store_put(s2, k, klen, v, vlen, err, sizeof(err));
            mismatches += rc != 0 || rc2 != 0;
            r->present[id] = true;
            memcpy(r->val[id], v, vlen);
            r->vlen[id] = vlen;
            if (!restore) ref_dirty(r, id);
        } else if (what < 70) { /* delete */
            int rc = sr_store_delete(s, k, klen, err, sizeof(err));
            sr_store_delete(s2, k, klen, err, sizeof(err));
            mismatches += rc != (r->present[id] ? 1 : 0);
            if (r->present[id]) ref_dirty(r, id);
            r->present[id] = false;
        } else if (what < 92) { /* get */
            size_t vlen = 0;
            const unsigned char *got = sr_store_get(s, k, klen, &vlen);
            if (!r->present[id])
                mismatches += got != NULL;
            else
                mismatches += !got || vlen != r->vlen[id] || memcmp(got, r->val[id], vlen) != 0;
        } else if (what < 94) { /* restore of a deletion */
            mismatches += sr_store_restore(s, k, klen, NULL, 0, err, sizeof(err)) != 0;
            sr_store_restore(s2, k, klen, NULL, 0, err, sizeof(err));
            r->present[id] = false;
        } else { /* drain: the dirty keys in order, each with its present state */
            recs got = {.stop_at = -1}, got2 = {.stop_at = -1};
            sr_store_drain(s, collect, &got);
            sr_store_drain(s2, collect, &got2);
            drains++;
            mismatches += got.n != (size_t)r->norder || got2.n != got.n;
            for (size_t i = 0; i < got.n && i < (size_t)r->norder; i++) {
                int did = r->order[i];
                rec *e = &got.v[i];
                bool ok = id_of((unsigned char *)e->key) == did && e->klen == key_of(did, k) &&
                          memcmp(e->key, k, e->klen) == 0;
                if (r->present[did])
                    ok = ok && e->val && e->vlen == r->vlen[did] &&
                         memcmp(e->val, r->val[did], e->vlen) == 0;
                else
                    ok = ok && !e->val;
                mismatches += !ok;
                r->dirty[did] = false;
            }
            r->norder = 0;
            recs_free(&got);
            recs_free(&got2);
        }
        if (op % 10000 == 9999) {
            mismatches += !same_content(s, r);
            /* the walk order does not depend on the hash seed */
            recs w1 = {.stop_at = -1}, w2 = {.stop_at = -1};
            sr_store_foreach(s, collect, &w1);
            sr_store_foreach(s2, collect, &w2);
            bool same = w1.n == w2.n;
            for (size_t i = 0; same && i < w1.n; i++)
                same = w1.v[i].klen == w2.v[i].klen &&
                       memcmp(w1.v[i].key, w2.v[i].key, w1.v[i].klen) == 0;
            mismatches += !same;
            recs_free(&w1);
            recs_free(&w2);
        }
    }
    CHECK(mismatches == 0);
    CHECK(drains > 500);
    CHECK(same_content(s, r));
    CHECK(sr_store_dirty_count(s) == (size_t)r->norder);
    /* deleting everything and draining leaves no entry behind */
    for (int id = 0; id < NKEYS; id++) {
        size_t klen = key_of(id, k);
        sr_store_delete(s, k, klen, err, sizeof(err));
    }
    recs got = {.stop_at = -1};
    sr_store_drain(s, collect, &got);
    recs_free(&got);
    CHECK(sr_store_count(s) == 0 && sr_store_dirty_count(s) == 0);
    CHECK(sr_store_bytes(s) == empty);
    memset(r->present, 0, sizeof(r->present));
    CHECK(same_content(s, r));
    free(r);
    sr_store_destroy(s);
    sr_store_destroy(s2);
    CHECK(sr_mem_budget_used(&b) == 0);
}

/* sizes as --state-memory and stateMemory take them */
static void test_parse_size(void)
{
    size_t n = 0;
    CHECK(sr_parse_size("512MiB", &n) && n == 512u << 20);
    CHECK(sr_parse_size("64KiB", &n) && n == 65536);
    CHECK(sr_parse_size("1GB", &n) && n == 1000000000u);
    CHECK(sr_parse_size("1000", &n) && n == 1000);
    CHECK(sr_parse_size("1B", &n) && n == 1);
    CHECK(!sr_parse_size("", &n) && !sr_parse_size("MiB", &n) && !sr_parse_size("-1KiB", &n));
    CHECK(!sr_parse_size("1.5GiB", &n) && !sr_parse_size("12 MiB", &n) &&
          !sr_parse_size("1mib", &n));
    CHECK(!sr_parse_size("99999999999999999999", &n) && !sr_parse_size("20000000TiB", &n));
}

/* The flush hook: a drain first lets the owner put what it kept elsewhere, so it hands out
 * the latest values; a failing flush stops the drain before anything is handed out. */
struct flusher {
    sr_store *s;
    int calls;
    int fail; /* return this instead of putting */
};

static int flush_pending(void *opaque)
{
    struct flusher *f = opaque;
    f->calls++;
    if (f->fail) return f->fail;
    return put(f->s, "cached", "latest");
}

static void test_flush_hook(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    sr_store *s = new_store("flushed", &b);
    recs r = {.stop_at = -1};
    CHECK(sr_store_drain(s, collect, &r) == 0 && r.n == 0); /* a store never changed */
    struct flusher f = {.s = s};
    sr_store_set_flush(s, flush_pending, &f);
    CHECK(put(s, "a", "1") == 0);
    f.fail = 5;
    CHECK(sr_store_drain(s, collect, &r) == 5);
    CHECK(f.calls == 1 && r.n == 0);
    CHECK(sr_store_dirty_count(s) == 1);
    f.fail = 0;
    CHECK(sr_store_drain(s, collect, &r) == 0);
    CHECK(f.calls == 2 && r.n == 2);
    if (r.n == 2) {
        CHECK(rec_is(&r.v[0], "a", "1"));
        CHECK(rec_is(&r.v[1], "cached", "latest"));
    }
    recs_free(&r);
    sr_store_set_flush(s, NULL, NULL);
    CHECK(sr_store_drain(s, collect, &r) == 0);
    CHECK(f.calls == 2 && r.n == 0);
    recs_free(&r);
    sr_store_destroy(s);
}

int main(void)
{
    test_siphash();
    test_parse_size();
    test_basic();
    test_binary_keys();
    test_dirty_order();
    test_drain_stop();
    test_flush_hook();
    test_restore();
    test_foreach_changes();
    test_budget();
    test_shrink();
    test_budget_threads();
    test_random();
    return TEST_END();
}
