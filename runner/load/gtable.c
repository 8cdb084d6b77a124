/* gtable.c — the process's copy of a global topic table: the latest value per record key of its
 * topic, shared by every task of the process (lookups on worker threads) and written by whoever
 * reads the topic (the in-process runner as records are produced, or the reader of `up`). */
#include "load/table.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gt_node {
    struct gt_node *next;
    size_t klen, vlen;
    char *val;  /* malloc'd, vlen bytes */
    char key[]; /* klen bytes */
} gt_node;

struct sr_gtable {
    pthread_rwlock_t lock; /* readers: lookups; writer: the topic's reader */
    gt_node **buckets;     /* nb, a power of two; guarded by lock */
    size_t nb, n;
};

/* FNV-1a: the keys are the table topic's record keys */
static size_t gt_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return (size_t)h;
}

sr_gtable *sr_gtable_new(void)
{
    sr_gtable *g = sr_xcalloc(1, sizeof(*g));
    pthread_rwlock_init(&g->lock, NULL);
    g->nb = 64;
    g->buckets = sr_xcalloc(g->nb, sizeof(gt_node *));
    return g;
}

static void gt_free_nodes(sr_gtable *g)
{
    for (size_t i = 0; i < g->nb; i++) {
        for (gt_node *x = g->buckets[i], *next; x; x = next) {
            next = x->next;
            free(x->val);
            free(x);
        }
        g->buckets[i] = NULL;
    }
    g->n = 0;
}

void sr_gtable_clear(sr_gtable *g)
{
    pthread_rwlock_wrlock(&g->lock);
    gt_free_nodes(g);
    pthread_rwlock_unlock(&g->lock);
}

void sr_gtable_free(sr_gtable *g)
{
    if (!g) return;
    gt_free_nodes(g);
    free(g->buckets);
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

static gt_node **gt_find(sr_gtable *g, const char *key, size_t klen)
{
    gt_node **p = &g->buckets[gt_hash(key, klen) & (g->nb - 1)];
    while (*p && ((*p)->klen != klen || memcmp((*p)->key, key, klen) != 0)) p = &(*p)->next;
    return p;
}

static void gt_grow(sr_gtable *g)
{
    size_t nb = g->nb * 2;
    gt_node **b = sr_xcalloc(nb, sizeof(gt_node *));
    for (size_t i = 0; i < g->nb; i++)
        for (gt_node *x = g->buckets[i], *next; x; x = next) {
            next = x->next;
            size_t h = gt_hash(x->key, x->klen) & (nb - 1);
            x->next = b[h];
            b[h] = x;
        }
    free(g->buckets);
    g->buckets = b;
    g->nb = nb;
}

/* Sets key to val (NULL: deletes it). @locks g->lock, write, held. */
static void gt_apply_locked(sr_gtable *g, const char *key, size_t klen, const char *val,
                            size_t vlen);

void sr_gtable_apply(sr_gtable *g, const char *key, size_t klen, const char *val, size_t vlen)
{
    pthread_rwlock_wrlock(&g->lock);
    gt_apply_locked(g, key, klen, val, vlen);
    pthread_rwlock_unlock(&g->lock);
}

/* For a table with history: puts the version of key at ts (val NULL: a deletion) among its
 * versions (sr_versions_put). @locality the topic's one reader; @locks g->lock, taken inside. */
static void gt_apply_version(sr_gtable *g, const char *key, size_t klen, int64_t ts,
                             const char *val, size_t vlen, int64_t history)
{
    sr_buf b = {0};
    pthread_rwlock_wrlock(&g->lock);
    gt_node **p = gt_find(g, key, klen);
    sr_versions_put(&b, *p ? (*p)->val : NULL, *p ? (*p)->vlen : 0, ts, val, vlen, history);
    gt_apply_locked(g, key, klen, b.len ? b.d : NULL, b.len);
    pthread_rwlock_unlock(&g->lock);
    sr_buf_free(&b);
}

static void gt_apply_locked(sr_gtable *g, const char *key, size_t klen, const char *val,
                            size_t vlen)
{
    gt_node **p = gt_find(g, key, klen);
    if (!val) {
        if (*p) {
            gt_node *x = *p;
            *p = x->next;
            free(x->val);
            free(x);
            g->n--;
        }
    } else {
        char *copy = sr_xmalloc(vlen ? vlen : 1);
        memcpy(copy, val, vlen);
        if (*p) {
            free((*p)->val);
        } else {
            gt_node *x = sr_xmalloc(sizeof(*x) + klen);
            memcpy(x->key, key, klen);
            x->klen = klen;
            x->next = NULL;
            *p = x;
            g->n++;
        }
        (*p)->val = copy;
        (*p)->vlen = vlen;
        if (g->n > g->nb) gt_grow(g);
    }
}

bool sr_gtable_get(sr_gtable *g, sr_arena *a, const char *key, size_t klen, const char **val,
                   size_t *vlen)
{
    pthread_rwlock_rdlock(&g->lock);
    gt_node **p = gt_find(g, key, klen);
    bool found = *p != NULL;
    if (found) {
        *val = sr_arena_strndup(a, (*p)->val, (*p)->vlen);
        *vlen = (*p)->vlen;
    }
    pthread_rwlock_unlock(&g->lock);
    return found;
}

size_t sr_gtable_count(sr_gtable *g)
{
    pthread_rwlock_rdlock(&g->lock);
    size_t n = g->n;
    pthread_rwlock_unlock(&g->lock);
    return n;
}

/* A JSON null value deletes, as a tombstone does (the value is parsed once, here). */
static bool is_json_null(const char *v, size_t n)
{
    while (n && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')) v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r')) n--;
    return n == 4 && memcmp(v, "null", 4) == 0;
}

int sr_tables_on_record(const sr_topology *t, const sr_topic *topic, const char *key, size_t klen,
                        const char *val, size_t vlen, bool tombstone, int64_t ts)
{
    int n = 0;
    for (int i = 0; i < t->ntables; i++) {
        const sr_table *tb = t->tables[i];
        if (!tb->live || tb->topic != topic) continue;
        n++;
        if (!key) {
            fprintf(stderr,
                    "streamrun: table '%s': a record of topic '%s' without a key is not a table "
                    "update (a table keeps the latest value per record key): ignored\n",
                    tb->name, topic->name);
            continue;
        }
        bool del = tombstone || is_json_null(val, vlen);
        if (tb->history > 0)
            gt_apply_version(tb->live, key, klen, ts, del ? NULL : val, vlen, tb->history);
        else
            sr_gtable_apply(tb->live, key, klen, del ? NULL : val, vlen);
    }
    return n;
}
