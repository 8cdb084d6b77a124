/* versions.c — the versions of one key of a table with history: its values by record timestamp,
 * kept as one byte string (so that a store and its changelog hold them like any value). */
#include "load/table.h"

#include <stdlib.h>
#include <string.h>

/* Layout: versions in order of timestamp, each
 *   int64 ts | uint32 len (SR_VERSION_DELETED: a deletion, no bytes) | len bytes
 * (native byte order: a store's changelog is read back by the same build). */
#define SR_VERSION_DELETED 0xffffffffu

typedef struct version {
    int64_t ts;
    const char *val; /* NULL: a deletion */
    uint32_t len;
} version;

/* The next version at *p (within end) into *v; false at the end or on a truncated string. */
static bool next_version(const char **p, const char *end, version *v)
{
    if ((size_t)(end - *p) < 12) return false;
    memcpy(&v->ts, *p, 8);
    memcpy(&v->len, *p + 8, 4);
    *p += 12;
    if (v->len == SR_VERSION_DELETED) {
        v->val = NULL;
        v->len = 0;
        return true;
    }
    if ((size_t)(end - *p) < v->len) return false;
    v->val = *p;
    *p += v->len;
    return true;
}

static void put_version(sr_buf *b, const version *v)
{
    uint32_t len = v->val ? v->len : SR_VERSION_DELETED;
    sr_buf_put(b, &v->ts, 8);
    sr_buf_put(b, &len, 4);
    if (v->val) sr_buf_put(b, v->val, v->len);
}

void sr_versions_put(sr_buf *out, const char *old, size_t oldlen, int64_t ts, const char *val,
                     size_t vlen, int64_t history)
{
    /* every version with the new one in its place (after the others of its time, replacing one
     * of the same time), then only those that can still be found: a version whose successor is
     * at or before newest - history can no longer be the latest at or before an event time
     * within history of the newest */
    version nv = {ts, val, (uint32_t)vlen}, *vs = NULL;
    size_t n = 0, cap = 0;
    const char *p = old, *end = old ? old + oldlen : NULL;
    version v;
    bool placed = false;
    while (old && next_version(&p, end, &v)) {
        if (!placed && v.ts >= ts) {
            if (n == cap) vs = sr_xrealloc(vs, sizeof(*vs) * (cap = cap ? 2 * cap : 8));
            vs[n++] = nv;
            placed = true;
            if (v.ts == ts) continue; /* the new value of that time replaces the old */
        }
        if (n == cap) vs = sr_xrealloc(vs, sizeof(*vs) * (cap = cap ? 2 * cap : 8));
        vs[n++] = v;
    }
    if (!placed) {
        if (n == cap) vs = sr_xrealloc(vs, sizeof(*vs) * (cap = cap ? 2 * cap : 8));
        vs[n++] = nv;
    }
    int64_t horizon = vs[n - 1].ts - history;
    size_t first = 0;
    while (first + 1 < n && vs[first + 1].ts <= horizon) first++;
    out->len = 0;
    /* a lone deletion beyond the horizon: the key is gone (an empty string) */
    if (!(first + 1 == n && !vs[first].val && vs[first].ts <= horizon))
        for (size_t i = first; i < n; i++) put_version(out, &vs[i]);
    free(vs);
}

bool sr_versions_find(const char *s, size_t n, int64_t at, int64_t within, const char **val,
                      size_t *vlen)
{
    const char *p = s, *end = s + n;
    version v, best = {0};
    bool found = false;
    while (next_version(&p, end, &v)) {
        if (at != INT64_MAX && v.ts > at) break;
        best = v;
        found = true;
    }
    if (!found || !best.val) return false;
    if (at != INT64_MAX && at - best.ts > within) return false;
    *val = best.val;
    *vlen = best.len;
    return true;
}
