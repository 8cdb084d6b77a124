/* test_window_table.c — unit tests for the window step's table of open windows: the store gets
 * the windows' states when it is drained, closing hands windows out by close time in the order
 * they opened and deletes them from the store, and a table indexed from a restored store holds
 * the same windows. */
#include "window_table.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>

#define ERRSZ 512

typedef struct rec {
    char key[64], val[128]; /* val "" with tomb: a deletion */
    size_t klen;
    bool tomb;
} rec;

typedef struct recs {
    rec v[32];
    int n;
} recs;

static int collect(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    recs *r = opaque;
    if (r->n == 32 || klen > sizeof(r->v[0].key) || vlen >= sizeof(r->v[0].val)) return 1;
    rec *e = &r->v[r->n++];
    memcpy(e->key, key, klen);
    e->klen = klen;
    e->tomb = !val;
    if (val) memcpy(e->val, val, vlen);
    e->val[val ? vlen : 0] = 0;
    return 0;
}

/* The start of the window of a 'w' store key, and its record key's text. */
static int64_t key_start(const rec *e)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (uint8_t)e->key[1 + i];
    return (int64_t)v;
}

static bool key_is(const rec *e, int64_t start, const char *k)
{
    size_t n = strlen(k);
    return e->klen == 18 + n && e->key[0] == 'w' && key_start(e) == start && e->key[17] == 1 &&
           memcmp(e->key + 18, k, n) == 0;
}

static sr_store *store_of_test; /* the store of the table count_in adds to */

static sr_aggspec count_spec = {.name = "n", .nlen = 1, .kind = SR_AGG_COUNT};
static const sr_aggspecs aggs = {&count_spec, 1};

/* Counts one record into the window [start, start + 10) of key k (created when new). */
static sr_wentry *count_in(sr_wtable *wt, const char *k, int64_t start, int64_t seq)
{
    char kb[32];
    kb[0] = 1;
    size_t n = strlen(k);
    memcpy(kb + 1, k, n);
    sr_wkey *wk = sr_wtable_key(wt, kb, n + 1, false);
    sr_wentry *e = sr_wtable_find(wk, start);
    char err[ERRSZ];
    if (!e) { /* charged to the store first, as the window step does */
        CHECK(sr_store_reserve(store_of_test, sr_wtable_cost(wt, 1, wk ? 0 : n + 1), false, err,
                               sizeof(err)) == 0);
        if (!wk) wk = sr_wtable_key(wt, kb, n + 1, true);
        e = sr_wtable_add(wt, wk, (sr_window){start, start + 10});
    }
    sr_value one = sr_bool(true);
    CHECK(sr_aggs_add(&aggs, e->accs, &one, start, seq, err, sizeof(err)) == 0);
    sr_wtable_touch(wt, e);
    return e;
}

static void test_table(void)
{
    sr_mem_budget b;
    sr_mem_budget_init(&b, SIZE_MAX);
    char err[ERRSZ];
    sr_arena ar;
    sr_arena_init(&ar, 4096);
    sr_store *s = sr_store_new("w", &b, err, sizeof(err));
    sr_wtable *wt = sr_wtable_new(&aggs, 5, s, "window (step 1)"); /* grace 5 */
    store_of_test = s;
    count_in(wt, "b", 20, 1);
    count_in(wt, "a", 0, 2);
    count_in(wt, "a", 10, 3);
    count_in(wt, "a", 0, 4);
    CHECK(sr_wtable_count(wt) == 3);
    CHECK(sr_wtable_min_close(wt) == 15);
    CHECK(sr_store_count(s) == 0); /* nothing written before a drain */

    /* a drain puts every changed window first, in the order they first changed */
    recs r = {0};
    CHECK(sr_store_drain(s, collect, &r) == 0);
    CHECK(r.n == 3);
    CHECK(key_is(&r.v[0], 20, "b") && strcmp(r.v[0].val, "[{\"n\":1}]") == 0);
    CHECK(key_is(&r.v[1], 0, "a") && strcmp(r.v[1].val, "[{\"n\":2}]") == 0);
    CHECK(key_is(&r.v[2], 10, "a") && strcmp(r.v[2].val, "[{\"n\":1}]") == 0);
    r.n = 0;
    CHECK(sr_store_drain(s, collect, &r) == 0 && r.n == 0); /* nothing changed since */
    count_in(wt, "a", 10, 5);
    CHECK(sr_store_drain(s, collect, &r) == 0 && r.n == 1);
    CHECK(key_is(&r.v[0], 10, "a") && strcmp(r.v[0].val, "[{\"n\":2}]") == 0);

    /* a table indexed from a restored store holds the same windows, in the store's order */
    sr_store *s2 = sr_store_new("w2", &b, err, sizeof(err));
    sr_wtable *wt2 = sr_wtable_new(&aggs, 5, s2, "window (step 1)");
    {
        recs all = {0};
        CHECK(sr_store_foreach(s, collect, &all) == 0 && all.n == 3);
        for (int i = 0; i < all.n; i++)
            CHECK(sr_store_restore(s2, all.v[i].key, all.v[i].klen, all.v[i].val,
                                   strlen(all.v[i].val), err, sizeof(err)) == 0);
    }
    CHECK(sr_wtable_index(wt2, &ar, err, sizeof(err)) == 0);
    CHECK(sr_wtable_count(wt2) == 3 && sr_wtable_min_close(wt2) == 15);
    char akb[2] = {1, 'a'};
    sr_wentry *e = sr_wtable_find(sr_wtable_key(wt2, akb, 2, false), 0);
    CHECK(e && e->accs[0].n == 2);
    r.n = 0;
    CHECK(sr_store_drain(s2, collect, &r) == 0 && r.n == 0); /* indexing changes nothing */
    sr_wtable_destroy(wt2);
    sr_store_destroy(s2);

    /* closing: what is due, by close time, in the order the windows opened */
    count_in(wt, "c", 0, 6); /* opened after a's [0, 10): closes with it, after it */
    sr_wentry **due;
    CHECK(sr_wtable_due(wt, 14, false, &ar, &due) == 0);
    size_t n = sr_wtable_due(wt, 25, false, &ar, &due);
    CHECK(n == 3);
    if (n == 3) {
        CHECK(due[0]->win.start == 0 && due[0]->accs[0].n == 2); /* a */
        CHECK(due[1]->win.start == 10);                          /* a */
        CHECK(due[2]->win.start == 0 && due[2]->accs[0].n == 1); /* c */
        sr_value k = sr_wtable_record_key(due[2]);
        CHECK(k.type == SR_STR && k.len == 1 && k.u.s[0] == 'c');
        CHECK(sr_wtable_close(wt, due[0], err, sizeof(err)) == 0);
        sr_wtable_requeue(wt, due[1]); /* not closed after all: still open */
        CHECK(sr_wtable_close(wt, due[2], err, sizeof(err)) == 0);
    }
    CHECK(sr_wtable_count(wt) == 2 && sr_wtable_min_close(wt) == 25);
    /* the closed window that was in the store is deleted from it; c's never was */
    r.n = 0;
    CHECK(sr_store_drain(s, collect, &r) == 0);
    CHECK(r.n == 1 && key_is(&r.v[0], 0, "a") && r.v[0].tomb);
    CHECK(sr_store_count(s) == 2);
    /* what the table holds is charged to the store: its windows, and a key for each window
     * not in the store yet (c's, dropped below) */
    CHECK(sr_store_bytes(s) >= sr_wtable_cost(wt, 2, 0));
    /* a window dropped (its record failed) leaves no trace */
    e = count_in(wt, "d", 30, 7);
    sr_wtable_drop(wt, e);
    CHECK(sr_wtable_count(wt) == 2);
    r.n = 0;
    CHECK(sr_store_drain(s, collect, &r) == 0 && r.n == 0);
    /* all: every window, in the order they opened */
    n = sr_wtable_due(wt, 0, true, &ar, &due);
    CHECK(n == 2 && due[0]->win.start == 20 && due[1]->win.start == 10);
    for (size_t i = 0; i < n; i++) CHECK(sr_wtable_close(wt, due[i], err, sizeof(err)) == 0);
    CHECK(sr_wtable_count(wt) == 0 && sr_wtable_min_close(wt) == INT64_MAX);
    CHECK(sr_store_drain(s, collect, &r) == 0 && sr_store_count(s) == 0);
    sr_wtable_destroy(wt);
    CHECK(sr_mem_budget_keys(&b) == 0);
    sr_store_destroy(s);
    sr_arena_free(&ar);
}

int main(void)
{
    test_table();
    return TEST_END();
}
