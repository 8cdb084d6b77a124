/* store.c — the state store: a compact hash map with a dirty set, accounted to a memory budget.
 *
 * Layout (the idea of CPython's compact dict, with the dirty set added):
 *   ent[]    entries in insertion order, each a pointer to one malloc'd block, the node, that
 *            holds a 16-byte header, the key and the value (8-byte aligned); NULL is a hole
 *            left by a removed entry, squeezed out when ent[] would otherwise grow;
 *   index[]  open addressing with linear probing over 16-byte slots {node, 32-bit hash, entry},
 *            at most 3/4 full; removal shifts the following slots back (no tombstone slots);
 *   dirty[]  the nodes changed since the last drain, in the order they became dirty; a node
 *            knows its position there (dpos), so a node that moves updates its dirty slot.
 * A deleted key that is dirty stays in ent[] and index[] as a tombstone node (value freed)
 * until the drain hands it out. A key costs its node (header, key, padding, value, malloc's
 * rounding and header) plus 8 bytes of ent[] and 16 bytes of index[] per slot; a lookup reads
 * index[] and the node, not ent[]. */
#include "state/store.h"

#include <assert.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- hash --------------------------------------------------------------------------------- */

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

#define SIP_ROUND                                                                                  \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

/* SipHash-c-d: c rounds per 8-byte word, d finalisation rounds. */
static inline uint64_t siphash(const uint8_t key[16], const void *data, size_t n, int c, int d)
{
    const unsigned char *p = data;
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    const unsigned char *end = p + (n & ~(size_t)7);
    for (; p < end; p += 8) {
        uint64_t m = load_le64(p);
        v3 ^= m;
        for (int i = 0; i < c; i++) SIP_ROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)n << 56;
    for (size_t i = 0; i < (n & 7); i++) b |= (uint64_t)p[i] << (8 * i);
    v3 ^= b;
    for (int i = 0; i < c; i++) SIP_ROUND;
    v0 ^= b;
    v2 ^= 0xff;
    for (int i = 0; i < d; i++) SIP_ROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t sr_siphash24(const uint8_t key[16], const void *p, size_t n)
{
    return siphash(key, p, n, 2, 4);
}

uint64_t sr_siphash13(const uint8_t key[16], const void *p, size_t n)
{
    return siphash(key, p, n, 1, 3);
}

/* ---- budget ------------------------------------------------------------------------------- */

void sr_mem_budget_init(sr_mem_budget *b, size_t limit)
{
    b->limit = limit;
    atomic_init(&b->used, 0);
    atomic_init(&b->keys, 0);
    atomic_init(&b->peak, 0);
}

size_t sr_mem_budget_peak(const sr_mem_budget *b)
{
    return atomic_load_explicit(&((sr_mem_budget *)b)->peak, memory_order_relaxed);
}

size_t sr_mem_budget_keys(const sr_mem_budget *b)
{
    return atomic_load_explicit(&((sr_mem_budget *)b)->keys, memory_order_relaxed);
}

size_t sr_mem_budget_used(const sr_mem_budget *b)
{
    return atomic_load_explicit(&((sr_mem_budget *)b)->used, memory_order_relaxed);
}

/* Adds n to b->used unless that would pass the limit. @locality any thread */
/* Raises b->peak to used when used is higher. @locality any thread */
static void note_peak(sr_mem_budget *b, size_t used)
{
    size_t p = atomic_load_explicit(&b->peak, memory_order_relaxed);
    while (used > p && !atomic_compare_exchange_weak_explicit(
                           &b->peak, &p, used, memory_order_relaxed, memory_order_relaxed)) {
    }
}

static bool budget_take(sr_mem_budget *b, size_t n)
{
    size_t cur = atomic_load_explicit(&b->used, memory_order_relaxed);
    do {
        if (n > b->limit || cur > b->limit - n) return false;
    } while (!atomic_compare_exchange_weak_explicit(&b->used, &cur, cur + n, memory_order_relaxed,
                                                    memory_order_relaxed));
    note_peak(b, cur + n);
    return true;
}

/* Adds n to b->used whatever the limit (an overdraft). @locality any thread */
static void budget_force(sr_mem_budget *b, size_t n)
{
    note_peak(b, atomic_fetch_add_explicit(&b->used, n, memory_order_relaxed) + n);
}

static void budget_give(sr_mem_budget *b, size_t n)
{
    size_t old = atomic_fetch_sub_explicit(&b->used, n, memory_order_relaxed);
    assert(old >= n);
    (void)old;
}

static sr_mem_budget state_budget = {.limit = SIZE_MAX}; /* used starts at 0 */

sr_mem_budget *sr_state_budget(void)
{
    return &state_budget;
}

void sr_state_budget_limit(size_t limit)
{
    assert(sr_mem_budget_used(&state_budget) == 0); /* no store exists */
    sr_mem_budget_init(&state_budget, limit);
}

bool sr_parse_size(const char *s, size_t *bytes)
{
    char *end;
    if (*s < '0' || *s > '9') return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return false;
    static const struct {
        const char *unit;
        unsigned long long mul;
    } units[] = {{"", 1},
                 {"B", 1},
                 {"KiB", 1ULL << 10},
                 {"MiB", 1ULL << 20},
                 {"GiB", 1ULL << 30},
                 {"TiB", 1ULL << 40},
                 {"KB", 1000},
                 {"kB", 1000},
                 {"MB", 1000000},
                 {"GB", 1000000000ULL},
                 {"TB", 1000000000000ULL}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) != 0) continue;
        if (v > SIZE_MAX / units[i].mul) return false;
        *bytes = (size_t)(v * units[i].mul);
        return true;
    }
    return false;
}

/* ---- the store ---------------------------------------------------------------------------- */

#define TOMB      0x80000000u /* in node.klen: a deleted key kept for the dirty set */
#define MAX_KEY   0x7fffffffu
#define NOT_DIRTY UINT32_MAX
#define MAX_ENT   0x7fffffffu /* entries (holes included) and dirty nodes */

typedef struct node {
    uint32_t klen; /* key length; TOMB bit: tombstone */
    uint32_t vlen;
    uint32_t hash;        /* low 32 bits of the key's SipHash-1-3 */
    uint32_t dpos;        /* position in dirty[], or NOT_DIRTY */
    unsigned char data[]; /* key, zero padding to a multiple of 8, value */
} node;

typedef struct slot {
    node *n; /* NULL: empty */
    uint32_t hash;
    uint32_t ent; /* index in ent[] */
} slot;

struct sr_store {
    sr_mem_budget *budget;
    size_t bytes; /* accounted: this struct and every block below */
    slot *index;
    size_t icap, iused; /* slots (a power of two, or 0), occupied slots */
    node **ent;
    size_t ecap, elen, eholes; /* capacity, used (holes included), holes */
    node **dirty;
    size_t dcap, dlen;
    size_t live;                /* entries that are not tombstones */
    bool walking;               /* in sr_store_foreach: no new key */
    bool draining;              /* in sr_store_drain: no change at all */
    bool overdraft;             /* in sr_store_put_overdraft: take past the budget's limit */
    uint8_t seed[16];           /* SipHash key */
    int (*flush)(void *opaque); /* sr_store_set_flush: called first by every drain */
    void *flush_opaque;
    char name[];
};

/* s->live += d, and the budget's count of keys with it. */
static void live_add(sr_store *s, int d)
{
    s->live += (size_t)d;
    if (d > 0)
        atomic_fetch_add_explicit(&s->budget->keys, 1, memory_order_relaxed);
    else
        atomic_fetch_sub_explicit(&s->budget->keys, 1, memory_order_relaxed);
}

/* glibc puts one size_t before every block it hands out (malloc_usable_size does not count it);
 * the block's real cost is usable size + this header. */
#define MALLOC_HDR sizeof(size_t)

static size_t real_size(void *p)
{
    return malloc_usable_size(p) + MALLOC_HDR;
}

static size_t klen_of(const node *n)
{
    return n->klen & ~TOMB;
}

static size_t val_off(size_t klen)
{
    return (klen + 7) & ~(size_t)7;
}

static unsigned char *val_of(node *n)
{
    return n->data + val_off(klen_of(n));
}

static size_t node_size(size_t klen, size_t vlen)
{
    return sizeof(node) + val_off(klen) + vlen;
}

static int fail(const sr_store *s, char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(const sr_store *s, char *err, size_t errsize, const char *fmt, ...)
{
    if (err && errsize) {
        int k = snprintf(err, errsize, "state store '%s': ", s->name);
        if (k >= 0 && (size_t)k < errsize) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + k, errsize - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

/* Reserves r more bytes for s, or explains why not. */
static int take(sr_store *s, size_t r, char *err, size_t errsize)
{
    if (s->overdraft) {
        budget_force(s->budget, r);
        s->bytes += r;
        return 0;
    }
    if (budget_take(s->budget, r)) {
        s->bytes += r;
        return 0;
    }
    return fail(s, err, errsize,
                "memory budget exceeded: %zu more bytes needed, %zu of the budget's %zu bytes in "
                "use (%zu by this store)",
                r, sr_mem_budget_used(s->budget), s->budget->limit, s->bytes);
}

/* malloc (or calloc when zero) of n bytes, accounted; NULL with a message. */
static void *acct_alloc(sr_store *s, size_t n, bool zero, char *err, size_t errsize)
{
    void *p = zero ? calloc(1, n) : malloc(n);
    if (!p) {
        fail(s, err, errsize, "out of memory allocating %zu bytes (this store holds %zu)", n,
             s->bytes);
        return NULL;
    }
    if (take(s, real_size(p), err, errsize) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

static void acct_free(sr_store *s, void *p)
{
    if (!p) return;
    size_t r = real_size(p);
    free(p);
    assert(s->bytes >= r);
    s->bytes -= r;
    budget_give(s->budget, r);
}

/* sr_store_new; with overdraft, the empty store is taken from the budget even past its limit. */
static sr_store *store_new(const char *name, sr_mem_budget *budget, bool overdraft, char *err,
                           size_t errsize)
{
    assert(name && budget);
    size_t nlen = strlen(name);
    sr_store *s = calloc(1, sizeof(*s) + nlen + 1);
    if (!s) {
        if (err && errsize) snprintf(err, errsize, "state store '%s': out of memory", name);
        return NULL;
    }
    memcpy(s->name, name, nlen + 1);
    s->budget = budget;
    if (overdraft) {
        s->bytes = real_size(s);
        budget_force(budget, s->bytes);
    } else if (take(s, real_size(s), err, errsize) < 0) {
        free(s);
        return NULL;
    }
    if (getrandom(s->seed, sizeof(s->seed), 0) != (ssize_t)sizeof(s->seed)) {
        /* no entropy source: a seed from the clock and the address still varies per run */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30),
                 b = (uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15ULL;
        memcpy(s->seed, &a, 8);
        memcpy(s->seed + 8, &b, 8);
    }
    return s;
}

sr_store *sr_store_new(const char *name, sr_mem_budget *budget, char *err, size_t errsize)
{
    return store_new(name, budget, false, err, errsize);
}

sr_store *sr_store_new_overdraft(const char *name, sr_mem_budget *budget, char *err, size_t errsize)
{
    return store_new(name, budget, true, err, errsize);
}

int sr_store_reserve(sr_store *s, size_t n, bool overdraft, char *err, size_t errsize)
{
    bool was = s->overdraft;
    s->overdraft = was || overdraft;
    int rc = take(s, n, err, errsize);
    s->overdraft = was;
    return rc;
}

void sr_store_count_outside(sr_store *s, int d)
{
    if (d > 0) atomic_fetch_add_explicit(&s->budget->keys, (size_t)d, memory_order_relaxed);
    if (d < 0) atomic_fetch_sub_explicit(&s->budget->keys, (size_t)-d, memory_order_relaxed);
}

void sr_store_release(sr_store *s, size_t n)
{
    assert(s->bytes >= n);
    s->bytes -= n;
    budget_give(s->budget, n);
}

void sr_store_destroy(sr_store *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->elen; i++) acct_free(s, s->ent[i]);
    acct_free(s, s->ent);
    acct_free(s, s->index);
    acct_free(s, s->dirty);
    assert(s->bytes == real_size(s));
    budget_give(s->budget, s->bytes);
    atomic_fetch_sub_explicit(&s->budget->keys, s->live, memory_order_relaxed);
    free(s);
}

const char *sr_store_name(const sr_store *s)
{
    return s->name;
}

size_t sr_store_count(const sr_store *s)
{
    return s->live;
}

size_t sr_store_dirty_count(const sr_store *s)
{
    return s->dlen;
}

size_t sr_store_bytes(const sr_store *s)
{
    return s->bytes;
}

static uint32_t hash_key(const sr_store *s, const void *key, size_t klen)
{
    return (uint32_t)sr_siphash13(s->seed, key, klen);
}

/* The slot holding key, or SIZE_MAX. */
static size_t find(const sr_store *s, const void *key, size_t klen, uint32_t h)
{
    if (!s->icap) return SIZE_MAX;
    size_t mask = s->icap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot sl = s->index[i];
        if (!sl.n) return SIZE_MAX;
        if (sl.hash == h && klen_of(sl.n) == klen && memcmp(sl.n->data, key, klen) == 0) return i;
    }
}

static void slot_insert(sr_store *s, size_t e, node *n)
{
    size_t mask = s->icap - 1, i = n->hash & mask;
    while (s->index[i].n) i = (i + 1) & mask;
    s->index[i] = (slot){n, n->hash, (uint32_t)e};
}

/* Empties slot i, moving later slots of the same probe run back so no search stops early. */
static void slot_remove(sr_store *s, size_t i)
{
    size_t mask = s->icap - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!s->index[j].n) break;
        size_t home = s->index[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->index[i] = s->index[j];
            i = j;
        }
    }
    s->index[i] = (slot){NULL, 0, 0};
}

/* Fills index[] (all empty) from ent[]. */
static void index_fill(sr_store *s)
{
    for (size_t e = 0; e < s->elen; e++)
        if (s->ent[e]) slot_insert(s, e, s->ent[e]);
    s->iused = s->elen - s->eholes;
}

/* Doubles the node array *v (capacity *cap, len used), or explains why not. */
static int grow(sr_store *s, node ***v, size_t *cap, size_t len, const char *what, char *err,
                size_t errsize)
{
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > MAX_ENT) return fail(s, err, errsize, "more than %u %s", MAX_ENT, what);
    node **nv = acct_alloc(s, ncap * sizeof(*nv), false, err, errsize);
    if (!nv) return -1;
    if (len) memcpy(nv, *v, len * sizeof(*nv));
    acct_free(s, *v);
    *v = nv;
    *cap = ncap;
    return 0;
}

/* Room in ent[] for one more entry: squeezes the holes out when they are a quarter or more,
 * else doubles. */
static int ent_reserve(sr_store *s, char *err, size_t errsize)
{
    if (s->elen < s->ecap) return 0;
    if (s->eholes && s->eholes >= s->elen / 4) {
        size_t j = 0;
        for (size_t i = 0; i < s->elen; i++)
            if (s->ent[i]) s->ent[j++] = s->ent[i];
        s->elen = j;
        s->eholes = 0;
        memset(s->index, 0, s->icap * sizeof(slot));
        index_fill(s);
        return 0;
    }
    return grow(s, &s->ent, &s->ecap, s->elen, "entries", err, errsize);
}

/* Room in index[] for one more slot, keeping it at most 3/4 full. */
static int index_reserve(sr_store *s, char *err, size_t errsize)
{
    if ((s->iused + 1) * 4 <= s->icap * 3) return 0;
    size_t cap = s->icap ? s->icap * 2 : 8;
    slot *v = acct_alloc(s, cap * sizeof(*v), true, err, errsize);
    if (!v) return -1;
    acct_free(s, s->index);
    s->index = v;
    s->icap = cap;
    index_fill(s);
    return 0;
}

static int dirty_reserve(sr_store *s, char *err, size_t errsize)
{
    if (s->dlen < s->dcap) return 0;
    return grow(s, &s->dirty, &s->dcap, s->dlen, "changed keys", err, errsize);
}

/* Marks n dirty; dirty_reserve() made the room. */
static void mark_dirty(sr_store *s, node *n)
{
    if (n->dpos != NOT_DIRTY) return;
    assert(s->dlen < s->dcap);
    n->dpos = (uint32_t)s->dlen;
    s->dirty[s->dlen++] = n;
}

/* Gives the entry of slot i (node n) the value val (vlen bytes; val may point into n). Reuses the
 * block when the value fits it and fills at least half of it, else moves to a new block. With
 * may_keep (a value being dropped), a failed allocation keeps the old block. */
static int set_value(sr_store *s, size_t i, node *n, const void *val, size_t vlen, bool may_keep,
                     char *err, size_t errsize)
{
    size_t klen = klen_of(n), need = node_size(klen, vlen), have = malloc_usable_size(n);
    if (need <= have && need >= have / 2) {
        if (vlen) memmove(val_of(n), val, vlen);
        n->vlen = (uint32_t)vlen;
        return 0;
    }
    node *m = acct_alloc(s, need, false, err, errsize);
    if (!m) {
        if (!may_keep) return -1;
        n->vlen = (uint32_t)vlen;
        return 0;
    }
    memcpy(m, n, sizeof(node) + val_off(klen));
    if (vlen) memcpy(val_of(m), val, vlen);
    m->vlen = (uint32_t)vlen;
    s->index[i].n = m;
    s->ent[s->index[i].ent] = m;
    if (m->dpos != NOT_DIRTY) s->dirty[m->dpos] = m;
    acct_free(s, n);
    return 0;
}

static int check_sizes(sr_store *s, size_t klen, size_t vlen, char *err, size_t errsize)
{
    if (klen > MAX_KEY)
        return fail(s, err, errsize, "a key of %zu bytes (at most %u)", klen, MAX_KEY);
    if (vlen > UINT32_MAX)
        return fail(s, err, errsize, "a value of %zu bytes (at most %u)", vlen, UINT32_MAX);
    return 0;
}

/* put (mark) and restore (!mark) of a value. */
static int set(sr_store *s, const void *key, size_t klen, const void *val, size_t vlen, bool mark,
               char *err, size_t errsize)
{
    assert(key || !klen);
    assert(val || !vlen);
    if (s->draining) return fail(s, err, errsize, "changed while it is drained");
    if (check_sizes(s, klen, vlen, err, errsize) < 0) return -1;
    uint32_t h = hash_key(s, key, klen);
    size_t i = find(s, key, klen, h);
    if (i != SIZE_MAX) {
        node *n = s->index[i].n;
        if (mark && n->dpos == NOT_DIRTY && dirty_reserve(s, err, errsize) < 0) return -1;
        if (set_value(s, i, n, val, vlen, false, err, errsize) < 0) return -1;
        n = s->index[i].n;
        if (n->klen & TOMB) {
            n->klen &= ~TOMB;
            live_add(s, 1);
        }
        if (mark) mark_dirty(s, n);
        return 0;
    }
    if (s->walking) return fail(s, err, errsize, "a new key put while its entries are walked");
    if (ent_reserve(s, err, errsize) < 0 || index_reserve(s, err, errsize) < 0) return -1;
    if (mark && dirty_reserve(s, err, errsize) < 0) return -1;
    node *n = acct_alloc(s, node_size(klen, vlen), false, err, errsize);
    if (!n) return -1;
    n->klen = (uint32_t)klen;
    n->vlen = (uint32_t)vlen;
    n->hash = h;
    n->dpos = NOT_DIRTY;
    if (klen) memcpy(n->data, key, klen);
    memset(n->data + klen, 0, val_off(klen) - klen);
    if (vlen) memcpy(val_of(n), val, vlen);
    size_t e = s->elen++;
    s->ent[e] = n;
    slot_insert(s, e, n);
    s->iused++;
    live_add(s, 1);
    if (mark) mark_dirty(s, n);
    return 0;
}

/* Removes the entry of slot i and frees its node. */
static void remove_slot(sr_store *s, size_t i)
{
    size_t e = s->index[i].ent;
    node *n = s->index[i].n;
    assert(n->dpos == NOT_DIRTY && s->ent[e] == n);
    slot_remove(s, i);
    s->iused--;
    s->ent[e] = NULL;
    s->eholes++;
    while (s->elen && !s->ent[s->elen - 1]) {
        s->elen--;
        s->eholes--;
    }
    acct_free(s, n);
}

/* Gives tables back when few entries are left: an empty store frees them all; ent[] and index[]
 * at most 1/8 used shrink to a quarter to a half used (far from the 3/4 that grows them again).
 * Moves entries, so never during a walk; a smaller table that does not fit the budget is not
 * made (the store keeps the larger one). */
static void shrink(sr_store *s)
{
    size_t n = s->elen - s->eholes; /* tombstones included: every dirty node is an entry */
    if (s->walking) return;
    if (n == 0) {
        assert(s->dlen == 0);
        acct_free(s, s->ent);
        acct_free(s, s->index);
        acct_free(s, s->dirty);
        s->ent = s->dirty = NULL;
        s->index = NULL;
        s->ecap = s->elen = s->eholes = s->icap = s->iused = s->dcap = 0;
        return;
    }
    bool moved = false;
    if (s->ecap > 8 && n < s->ecap / 8) {
        size_t cap = 8;
        while (cap < 2 * n) cap *= 2;
        node **v = acct_alloc(s, cap * sizeof(*v), false, NULL, 0);
        if (v) {
            size_t j = 0;
            for (size_t e = 0; e < s->elen; e++)
                if (s->ent[e]) v[j++] = s->ent[e];
            acct_free(s, s->ent);
            s->ent = v;
            s->ecap = cap;
            s->elen = j;
            s->eholes = 0;
            moved = true;
        }
    }
    if (s->icap > 8 && n < s->icap / 8) {
        size_t cap = 8;
        while (cap * 3 < n * 8) cap *= 2; /* at most 3/8 full */
        slot *v = acct_alloc(s, cap * sizeof(*v), true, NULL, 0);
        if (v) {
            acct_free(s, s->index);
            s->index = v;
            s->icap = cap;
            index_fill(s);
            return;
        }
    }
    if (moved) {
        memset(s->index, 0, s->icap * sizeof(slot));
        index_fill(s);
    }
}

/* delete (mark) and restore of a deletion (!mark): 1 deleted, 0 absent, -1 error. */
static int del(sr_store *s, const void *key, size_t klen, bool mark, char *err, size_t errsize)
{
    assert(key || !klen);
    if (s->draining) return fail(s, err, errsize, "changed while it is drained");
    if (klen > MAX_KEY) return 0;
    size_t i = find(s, key, klen, hash_key(s, key, klen));
    if (i == SIZE_MAX) return 0;
    node *n = s->index[i].n;
    if (n->klen & TOMB) return 0;
    if (!mark && n->dpos == NOT_DIRTY) {
        remove_slot(s, i);
        live_add(s, -1);
        shrink(s);
        return 1;
    }
    if (n->dpos == NOT_DIRTY && dirty_reserve(s, err, errsize) < 0) return -1;
    set_value(s, i, n, NULL, 0, true, NULL, 0);
    n = s->index[i].n;
    n->klen |= TOMB;
    live_add(s, -1);
    mark_dirty(s, n);
    return 1;
}

const void *sr_store_get(const sr_store *s, const void *key, size_t klen, size_t *vlen)
{
    assert(key || !klen);
    if (klen > MAX_KEY) return NULL;
    size_t i = find(s, key, klen, hash_key(s, key, klen));
    if (i == SIZE_MAX) return NULL;
    node *n = s->index[i].n;
    if (n->klen & TOMB) return NULL;
    if (vlen) *vlen = n->vlen;
    return val_of(n);
}

int sr_store_put(sr_store *s, const void *key, size_t klen, const void *val, size_t vlen, char *err,
                 size_t errsize)
{
    return set(s, key, klen, val, vlen, true, err, errsize);
}

int sr_store_put_overdraft(sr_store *s, const void *key, size_t klen, const void *val, size_t vlen,
                           char *err, size_t errsize)
{
    s->overdraft = true;
    int rc = set(s, key, klen, val, vlen, true, err, errsize);
    s->overdraft = false;
    return rc;
}

int sr_store_delete(sr_store *s, const void *key, size_t klen, char *err, size_t errsize)
{
    return del(s, key, klen, true, err, errsize);
}

int sr_store_restore(sr_store *s, const void *key, size_t klen, const void *val, size_t vlen,
                     char *err, size_t errsize)
{
    if (!val) return del(s, key, klen, false, err, errsize) < 0 ? -1 : 0;
    return set(s, key, klen, val, vlen, false, err, errsize);
}

int sr_store_foreach(sr_store *s, sr_store_fn fn, void *opaque)
{
    assert(!s->walking && !s->draining);
    s->walking = true;
    int rc = 0;
    for (size_t e = 0; e < s->elen && !rc; e++) {
        node *n = s->ent[e];
        if (!n || (n->klen & TOMB)) continue;
        rc = fn(opaque, n->data, n->klen, val_of(n), n->vlen);
    }
    s->walking = false;
    return rc;
}

void sr_store_set_flush(sr_store *s, int (*flush)(void *opaque), void *opaque)
{
    s->flush = flush;
    s->flush_opaque = opaque;
}

int sr_store_drain(sr_store *s, sr_store_fn fn, void *opaque)
{
    assert(!s->walking && !s->draining);
    if (s->flush) {
        int frc = s->flush(s->flush_opaque);
        if (frc) return frc;
    }
    s->draining = true;
    int rc = 0;
    size_t d = 0;
    for (; d < s->dlen; d++) {
        node *n = s->dirty[d];
        assert(n->dpos == d);
        bool tomb = n->klen & TOMB;
        size_t klen = klen_of(n);
        rc = fn(opaque, n->data, klen, tomb ? NULL : val_of(n), tomb ? 0 : n->vlen);
        if (rc) break;
        n->dpos = NOT_DIRTY;
        if (tomb) {
            size_t i = find(s, n->data, klen, n->hash);
            assert(i != SIZE_MAX && s->index[i].n == n);
            remove_slot(s, i);
        }
    }
    /* what fn did not take stays dirty, in its order */
    size_t left = s->dlen - d;
    if (left) memmove(s->dirty, s->dirty + d, left * sizeof(*s->dirty)); /* dirty may be NULL */
    for (size_t k = 0; k < left; k++) s->dirty[k]->dpos = (uint32_t)k;
    s->dlen = left;
    /* a busy interval's dirty array stays for the next one, unless this one used less than a
     * quarter of it */
    if (!left && s->dcap > 1024 && d < s->dcap / 4) {
        acct_free(s, s->dirty);
        s->dirty = NULL;
        s->dcap = 0;
    }
    s->draining = false;
    shrink(s);
    return rc;
}
