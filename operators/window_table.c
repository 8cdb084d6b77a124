/* window_table.c — the open time windows of a window step, decoded, by key and by close time
 * (contract in window_table.h). */
#include "window_table.h"

#include <assert.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct sr_wkey {
    sr_wkey *next; /* hash chain */
    uint64_t hash;
    sr_wentry **v; /* its open windows, ascending start */
    uint32_t n, cap;
    uint32_t klen;
    char kb[]; /* sr_key_put bytes */
};

struct sr_wtable {
    const sr_aggspecs *aggs;
    char kind; /* the first byte of its store keys */
    int64_t grace;
    sr_store *store;
    char *label;
    uint8_t seed[16];
    sr_wkey **buckets; /* nb chains, nb a power of two (or 0) */
    size_t nb, nkeys;
    sr_wentry **heap; /* min-heap by (close, order) */
    size_t hlen, hcap;
    sr_wentry **dirty; /* in the order they became dirty; NULL: closed or dropped since */
    size_t dlen, dcap;
    uint64_t next_order;
    sr_buf kbuf, vbuf;
};

#define NOT_QUEUED UINT32_MAX

/* ---- memory: what the table charges to its store's budget --------------------------------
 * An entry: its block as malloc gives it (16-byte chunks, 8 of header) and its share of the
 * close-order heap, the dirty list and its key's list (a pointer in each, twice over for their
 * slack); its accumulators' heap memory is charged at each flush. A key: its block and its
 * hash chain's share. */

static size_t chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

static size_t entry_cost(const sr_wtable *wt)
{
    return chunk(sizeof(sr_wentry) + sizeof(sr_agg) * (size_t)wt->aggs->n) + 6 * sizeof(void *);
}

static size_t key_cost(size_t klen)
{
    return chunk(sizeof(sr_wkey) + klen) + 2 * sizeof(void *);
}

size_t sr_wtable_cost(const sr_wtable *wt, size_t windows, size_t new_key_len)
{
    return windows * entry_cost(wt) + (new_key_len ? key_cost(new_key_len) : 0);
}

/* ---- entries ---------------------------------------------------------------------------- */

static size_t entry_size(const sr_wtable *wt)
{
    return sizeof(sr_wentry) + sizeof(sr_agg) * (size_t)wt->aggs->n;
}

static sr_wentry *entry_new(sr_wtable *wt, sr_wkey *k, sr_window win)
{
    sr_wentry *e = sr_xmalloc(entry_size(wt));
    e->win = win;
    e->close = sr_window_close_time(win, wt->grace);
    e->order = wt->next_order++;
    e->key = k;
    e->heap = NOT_QUEUED;
    e->dirty = 0;
    e->stored = 0;
    e->acct = entry_cost(wt);
    for (int i = 0; i < wt->aggs->n; i++)
        sr_agg_init(&e->accs[i], wt->aggs->v[i].kind, wt->aggs->v[i].limit);
    return e;
}

static void entry_free(sr_wtable *wt, sr_wentry *e)
{
    sr_store_release(wt->store, e->acct);
    if (!e->stored) sr_store_count_outside(wt->store, -1);
    sr_aggs_free(wt->aggs, e->accs);
    free(e);
}

/* The store key of e in wt->kbuf. */
static void store_key(sr_wtable *wt, const sr_wentry *e)
{
    sr_buf *b = &wt->kbuf;
    b->len = 0;
    uint8_t x[17];
    x[0] = wt->kind;
    for (int i = 0; i < 8; i++) {
        x[1 + i] = (uint8_t)((uint64_t)e->win.start >> (56 - 8 * i));
        x[9 + i] = (uint8_t)((uint64_t)e->win.end >> (56 - 8 * i));
    }
    sr_buf_put(b, x, sizeof(x));
    sr_buf_put(b, e->key->kb, e->key->klen);
}

/* ---- close order: a binary heap ---------------------------------------------------------- */

static bool before(const sr_wentry *a, const sr_wentry *b)
{
    return a->close < b->close || (a->close == b->close && a->order < b->order);
}

static void heap_set(sr_wtable *wt, size_t i, sr_wentry *e)
{
    wt->heap[i] = e;
    e->heap = (uint32_t)i;
}

static void sift_up(sr_wtable *wt, size_t i)
{
    sr_wentry *e = wt->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(e, wt->heap[p])) break;
        heap_set(wt, i, wt->heap[p]);
        i = p;
    }
    heap_set(wt, i, e);
}

static void sift_down(sr_wtable *wt, size_t i)
{
    sr_wentry *e = wt->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= wt->hlen) break;
        if (c + 1 < wt->hlen && before(wt->heap[c + 1], wt->heap[c])) c++;
        if (!before(wt->heap[c], e)) break;
        heap_set(wt, i, wt->heap[c]);
        i = c;
    }
    heap_set(wt, i, e);
}

static void heap_push(sr_wtable *wt, sr_wentry *e)
{
    assert(e->heap == NOT_QUEUED && wt->hlen < NOT_QUEUED);
    if (wt->hlen == wt->hcap) {
        wt->hcap = wt->hcap ? wt->hcap * 2 : 16;
        wt->heap = sr_xrealloc(wt->heap, wt->hcap * sizeof(*wt->heap));
    }
    wt->heap[wt->hlen] = e;
    e->heap = (uint32_t)wt->hlen++;
    sift_up(wt, e->heap);
}

static void heap_remove(sr_wtable *wt, sr_wentry *e)
{
    size_t i = e->heap;
    if (i == NOT_QUEUED) return;
    assert(i < wt->hlen && wt->heap[i] == e);
    e->heap = NOT_QUEUED;
    sr_wentry *last = wt->heap[--wt->hlen];
    if (i == wt->hlen) return;
    heap_set(wt, i, last);
    sift_up(wt, i);
    sift_down(wt, last->heap);
}

/* ---- keys: a chained hash table --------------------------------------------------------- */

static uint64_t key_hash(const sr_wtable *wt, const void *kb, size_t klen)
{
    return sr_siphash13(wt->seed, kb, klen);
}

static void buckets_grow(sr_wtable *wt)
{
    size_t nb = wt->nb ? wt->nb * 2 : 16;
    sr_wkey **b = sr_xcalloc(nb, sizeof(*b));
    for (size_t i = 0; i < wt->nb; i++)
        for (sr_wkey *k = wt->buckets[i], *next; k; k = next) {
            next = k->next;
            k->next = b[k->hash & (nb - 1)];
            b[k->hash & (nb - 1)] = k;
        }
    free(wt->buckets);
    wt->buckets = b;
    wt->nb = nb;
}

sr_wkey *sr_wtable_key(sr_wtable *wt, const void *kb, size_t klen, bool create)
{
    uint64_t h = key_hash(wt, kb, klen);
    if (wt->nb)
        for (sr_wkey *k = wt->buckets[h & (wt->nb - 1)]; k; k = k->next)
            if (k->hash == h && k->klen == klen && memcmp(k->kb, kb, klen) == 0) return k;
    if (!create) return NULL;
    if (wt->nkeys >= wt->nb) buckets_grow(wt);
    sr_wkey *k = sr_xmalloc(sizeof(*k) + klen);
    *k = (sr_wkey){.hash = h, .klen = (uint32_t)klen};
    memcpy(k->kb, kb, klen);
    sr_wkey **b = &wt->buckets[h & (wt->nb - 1)];
    k->next = *b;
    *b = k;
    wt->nkeys++;
    return k;
}

static void key_free(sr_wtable *wt, sr_wkey *k)
{
    assert(k->n == 0);
    sr_wkey **p = &wt->buckets[k->hash & (wt->nb - 1)];
    while (*p != k) p = &(*p)->next;
    *p = k->next;
    wt->nkeys--;
    sr_store_release(wt->store, key_cost(k->klen));
    free(k->v);
    free(k);
}

/* The place of the first window of k starting at or after start. */
static uint32_t key_place(const sr_wkey *k, int64_t start)
{
    uint32_t lo = 0, hi = k->n;
    /* most lookups are for the key's latest windows: look at the end first */
    if (hi && k->v[hi - 1]->win.start < start) return hi;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k->v[mid]->win.start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

sr_wentry *sr_wtable_find(const sr_wkey *k, int64_t start)
{
    if (!k) return NULL;
    uint32_t i = key_place(k, start);
    return i < k->n && k->v[i]->win.start == start ? k->v[i] : NULL;
}

sr_wentry *const *sr_wtable_from(const sr_wkey *k, int64_t start, size_t *n)
{
    if (!k) {
        *n = 0;
        return NULL;
    }
    uint32_t i = key_place(k, start);
    *n = k->n - i;
    return k->v + i;
}

/* Takes e out of its key's list, and frees the key when it was its last window. */
static void key_unlink(sr_wtable *wt, sr_wentry *e)
{
    sr_wkey *k = e->key;
    uint32_t i = key_place(k, e->win.start);
    assert(i < k->n && k->v[i] == e);
    memmove(&k->v[i], &k->v[i + 1], (k->n - i - 1) * sizeof(*k->v));
    k->n--;
    if (k->n == 0) key_free(wt, k);
}

/* ---- the table --------------------------------------------------------------------------- */

static int flush_hook(void *opaque)
{
    sr_wtable *wt = opaque;
    char err[512];
    if (sr_wtable_flush(wt, err, sizeof(err)) == 0) return 0;
    fprintf(stderr, "streamrun: %s: %s\n", wt->label, err);
    return -1;
}

sr_wtable *sr_wtable_new(const sr_aggspecs *aggs, int64_t grace, sr_store *store, const char *label)
{
    sr_wtable *wt = sr_xcalloc(1, sizeof(*wt));
    wt->aggs = aggs;
    wt->kind = 'w';
    wt->grace = grace;
    wt->store = store;
    wt->label = sr_xstrdup(label);
    if (getrandom(wt->seed, sizeof(wt->seed), 0) != (ssize_t)sizeof(wt->seed)) {
        struct timespec ts; /* no entropy source: the clock and an address still vary per run */
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30),
                 b = (uint64_t)(uintptr_t)wt * 0x9e3779b97f4a7c15ULL;
        memcpy(wt->seed, &a, 8);
        memcpy(wt->seed + 8, &b, 8);
    }
    sr_store_set_flush(store, flush_hook, wt);
    return wt;
}

void sr_wtable_set_kind(sr_wtable *wt, char kind)
{
    assert(wt->hlen == 0);
    wt->kind = kind;
}

void sr_wtable_destroy(sr_wtable *wt)
{
    if (!wt) return;
    sr_store_set_flush(wt->store, NULL, NULL);
    for (size_t i = 0; i < wt->hlen; i++) entry_free(wt, wt->heap[i]);
    for (size_t i = 0; i < wt->nb; i++)
        for (sr_wkey *k = wt->buckets[i], *next; k; k = next) {
            next = k->next;
            sr_store_release(wt->store, key_cost(k->klen));
            free(k->v);
            free(k);
        }
    free(wt->buckets);
    free(wt->heap);
    free(wt->dirty);
    free(wt->label);
    sr_buf_free(&wt->kbuf);
    sr_buf_free(&wt->vbuf);
    free(wt);
}

/* Gives e its place in k's list, the close order, and (when dirty) the dirty list. */
static void link_entry(sr_wtable *wt, sr_wkey *k, sr_wentry *e, bool dirty)
{
    uint32_t i = key_place(k, e->win.start);
    assert(i == k->n || k->v[i]->win.start != e->win.start);
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 4;
        k->v = sr_xrealloc(k->v, k->cap * sizeof(*k->v));
    }
    memmove(&k->v[i + 1], &k->v[i], (k->n - i) * sizeof(*k->v));
    k->v[i] = e;
    k->n++;
    heap_push(wt, e);
    if (dirty) sr_wtable_touch(wt, e);
}

sr_wentry *sr_wtable_add(sr_wtable *wt, sr_wkey *k, sr_window win)
{
    sr_wentry *e = entry_new(wt, k, win);
    sr_store_count_outside(wt->store, 1);
    link_entry(wt, k, e, true);
    return e;
}

void sr_wtable_touch(sr_wtable *wt, sr_wentry *e)
{
    if (e->dirty) return;
    if (wt->dlen == wt->dcap) {
        wt->dcap = wt->dcap ? wt->dcap * 2 : 16;
        wt->dirty = sr_xrealloc(wt->dirty, wt->dcap * sizeof(*wt->dirty));
    }
    assert(wt->dlen < UINT32_MAX);
    wt->dirty[wt->dlen++] = e;
    e->dirty = (uint32_t)wt->dlen;
}

static void untouch(sr_wtable *wt, sr_wentry *e)
{
    if (!e->dirty) return;
    assert(wt->dirty[e->dirty - 1] == e);
    wt->dirty[e->dirty - 1] = NULL;
    e->dirty = 0;
}

void sr_wtable_drop(sr_wtable *wt, sr_wentry *e)
{
    heap_remove(wt, e);
    untouch(wt, e);
    key_unlink(wt, e);
    entry_free(wt, e);
}

sr_value sr_wtable_record_key(const sr_wentry *e)
{
    sr_value v;
    sr_key_get(e->key->kb, e->key->klen, &v);
    return v;
}

/* Charges e's accumulators' heap memory as it is now (past the budget if need be: what the
 * records already made). */
static void charge(sr_wtable *wt, sr_wentry *e)
{
    size_t heap = 0;
    for (int i = 0; i < wt->aggs->n; i++) heap += sr_agg_heap_bytes(&e->accs[i]);
    size_t want = entry_cost(wt) + heap;
    if (want > e->acct) {
        if (sr_store_reserve(wt->store, want - e->acct, true, NULL, 0) == 0) e->acct = want;
    } else if (want < e->acct) {
        sr_store_release(wt->store, e->acct - want);
        e->acct = want;
    }
}

struct indexing {
    sr_wtable *wt;
    sr_arena *ar;
    char *err;
    size_t errsize;
};

static int get_be64(const uint8_t *p, int64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x = x << 8 | p[i];
    *v = (int64_t)x;
    return 0;
}

static int index_one(void *opaque, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct indexing *ix = opaque;
    sr_wtable *wt = ix->wt;
    const uint8_t *p = key;
    if (klen < 18 || p[0] != wt->kind) return 0;
    sr_window win;
    get_be64(p + 1, &win.start);
    get_be64(p + 9, &win.end);
    sr_wkey *k = sr_wtable_key(wt, p + 17, klen - 17, false);
    if (sr_wtable_find(k, win.start)) return 0; /* the table's is the latest */
    bool new_key = !k;
    if (sr_store_reserve(wt->store, sr_wtable_cost(wt, 1, new_key ? klen - 17 : 0), true, ix->err,
                         ix->errsize) != 0)
        return -1;
    k = sr_wtable_key(wt, p + 17, klen - 17, true);
    sr_wentry *e = entry_new(wt, k, win);
    e->stored = 1;
    sr_aggs_free(wt->aggs, e->accs);
    if (sr_aggs_load(wt->aggs, e->accs, val, vlen, ix->ar, ix->err, ix->errsize) != 0) {
        entry_free(wt, e);
        if (k->n == 0) key_free(wt, k);
        return -1;
    }
    charge(wt, e);
    link_entry(wt, k, e, false);
    return 0;
}

int sr_wtable_index(sr_wtable *wt, sr_arena *ar, char *err, size_t errsize)
{
    struct indexing ix = {wt, ar, err, errsize};
    return sr_store_foreach(wt->store, index_one, &ix) ? -1 : 0;
}

static int by_order(const void *a, const void *b)
{
    const sr_wentry *x = *(sr_wentry *const *)a, *y = *(sr_wentry *const *)b;
    return x->order < y->order ? -1 : x->order > y->order;
}

size_t sr_wtable_due(sr_wtable *wt, int64_t upto, bool all, sr_arena *ar, sr_wentry ***out)
{
    size_t n = 0;
    while (wt->hlen && (all || wt->heap[0]->close <= upto)) {
        sr_wentry *e = wt->heap[0];
        heap_remove(wt, e);
        wt->heap[wt->hlen] = e; /* the slot just freed: heap[hlen..hlen + n) holds those taken */
        n++;
    }
    *out = NULL;
    if (n == 0) return 0;
    sr_wentry **v = sr_arena_alloc(ar, n * sizeof(*v));
    memcpy(v, wt->heap + wt->hlen, n * sizeof(*v));
    qsort(v, n, sizeof(*v), by_order);
    *out = v;
    return n;
}

int sr_wtable_close(sr_wtable *wt, sr_wentry *e, char *err, size_t errsize)
{
    assert(e->heap == NOT_QUEUED);
    if (e->stored) { /* else the store never had it */
        store_key(wt, e);
        if (sr_store_delete(wt->store, wt->kbuf.d, wt->kbuf.len, err, errsize) < 0) return -1;
    }
    untouch(wt, e);
    key_unlink(wt, e);
    entry_free(wt, e);
    return 0;
}

void sr_wtable_requeue(sr_wtable *wt, sr_wentry *e)
{
    heap_push(wt, e);
}

int64_t sr_wtable_min_close(const sr_wtable *wt)
{
    return wt->hlen ? wt->heap[0]->close : INT64_MAX;
}

size_t sr_wtable_count(const sr_wtable *wt)
{
    return wt->hlen;
}

int sr_wtable_flush(sr_wtable *wt, char *err, size_t errsize)
{
    /* the state must reach the changelog whatever the records took: past the budget if need be
     * (the records were refused while it was full) */
    size_t i = 0;
    int rc = 0;
    for (; i < wt->dlen; i++) {
        sr_wentry *e = wt->dirty[i];
        if (!e) continue;
        store_key(wt, e);
        wt->vbuf.len = 0;
        sr_aggs_save(wt->aggs, e->accs, &wt->vbuf);
        rc = sr_store_put_overdraft(wt->store, wt->kbuf.d, wt->kbuf.len, wt->vbuf.d, wt->vbuf.len,
                                    err, errsize);
        if (rc) break;
        charge(wt, e);
        if (!e->stored) sr_store_count_outside(wt->store, -1);
        e->stored = 1;
        e->dirty = 0;
    }
    /* what was not written stays dirty, in its order */
    size_t j = 0;
    for (; i < wt->dlen; i++) {
        sr_wentry *e = wt->dirty[i];
        if (!e) continue;
        wt->dirty[j++] = e;
        e->dirty = (uint32_t)j;
    }
    wt->dlen = j;
    return rc ? -1 : 0;
}

static size_t block(const void *p)
{
    return p ? malloc_usable_size((void *)p) + sizeof(size_t) : 0;
}

size_t sr_wtable_overhead_bytes(const sr_wtable *wt)
{
    size_t n = block(wt) + block(wt->label) + block(wt->buckets) + block(wt->heap) +
               block(wt->dirty) + block(wt->kbuf.d) + block(wt->vbuf.d);
    size_t accs = sizeof(sr_agg) * (size_t)wt->aggs->n;
    for (size_t i = 0; i < wt->hlen; i++) n += block(wt->heap[i]) - accs;
    for (size_t i = 0; i < wt->nb; i++)
        for (const sr_wkey *k = wt->buckets[i]; k; k = k->next) n += block(k) + block(k->v);
    return n;
}
