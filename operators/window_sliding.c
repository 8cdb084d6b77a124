/* window_sliding.c — sliding windows: one window per record over the size before it, computed
 * from the key's records kept in the step's store (semantics in window_sliding.h). */
#include "window_sliding.h"
#include "state/window.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* One kept record: borrowed from the store's value (or the arena) for the duration of a call. */
struct srec {
    int64_t t, seq;
    bool open; /* its window is open: not yet closed (emit final: not yet written) */
    const char *json;
    uint32_t len;
};

/* A key's entry, as read from the store. */
struct entry {
    int64_t next_seq;
    struct srec *v;
    size_t n;
};

#define HEAD     16 /* the arrival counter, the earliest time with an open window (-1: none) */
#define REC_HEAD 21 /* t, seq, flag, length */

static void put_be64(sr_buf *b, int64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    sr_buf_put(b, x, 8);
}

static uint64_t get_be(const char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = v << 8 | (uint8_t)p[i];
    return v;
}

/* Reads a key's entry (val[0..vlen), borrowed: e->v points into it; NULL: no records). Room is
 * left in e->v for one more record. Returns 0, or -1 with a reason when the bytes are not an
 * entry (a changelog written by something else). */
static int entry_read(struct entry *e, const char *val, size_t vlen, sr_arena *ar, char *err,
                      size_t errsize)
{
    e->next_seq = 0;
    e->n = 0;
    size_t cap = 1;
    for (size_t off = HEAD; val && off + REC_HEAD <= vlen; cap++)
        off += REC_HEAD + (size_t)get_be(val + off + 17, 4);
    e->v = sr_arena_alloc(ar, sizeof(struct srec) * cap);
    if (!val) return 0;
    if (vlen < HEAD) goto bad;
    e->next_seq = (int64_t)get_be(val, 8);
    for (size_t off = HEAD; off < vlen;) {
        if (vlen - off < REC_HEAD) goto bad;
        struct srec *r = &e->v[e->n++];
        r->t = (int64_t)get_be(val + off, 8);
        r->seq = (int64_t)get_be(val + off + 8, 8);
        r->open = val[off + 16] != 0;
        r->len = (uint32_t)get_be(val + off + 17, 4);
        r->json = val + off + REC_HEAD;
        if (vlen - off - REC_HEAD < r->len) goto bad;
        off += REC_HEAD + r->len;
    }
    return 0;
bad:
    snprintf(err, errsize, "the stored state of a sliding window is not a list of records");
    return -1;
}

static void entry_write(const struct entry *e, sr_buf *b)
{
    b->len = 0;
    put_be64(b, e->next_seq);
    size_t i = 0;
    while (i < e->n && !e->v[i].open) i++;
    put_be64(b, i < e->n ? e->v[i].t : -1);
    for (i = 0; i < e->n; i++) {
        const struct srec *r = &e->v[i];
        put_be64(b, r->t);
        put_be64(b, r->seq);
        sr_buf_putc(b, r->open ? 1 : 0);
        uint8_t l[4] = {(uint8_t)(r->len >> 24), (uint8_t)(r->len >> 16), (uint8_t)(r->len >> 8),
                        (uint8_t)r->len};
        sr_buf_put(b, l, 4);
        sr_buf_put(b, r->json, r->len);
    }
}

/* The close time of the window of a record at t. */
static int64_t close_of(const sr_sliding *sw, int64_t t)
{
    sr_window w = {t > sw->size ? t - sw->size : 0, t + 1};
    return sr_window_close_time(w, sw->grace);
}

/* The records before this time can belong to no open window and to no window a record on time
 * could still open at stream time: stream - grace - size, or the start of the earliest window
 * still open (first_open: its time, -1: none) when that is before. */
static int64_t keep_from(const sr_sliding *sw, int64_t stream, int64_t first_open)
{
    int64_t lo = stream - sw->grace; /* >= -INT64_MAX: stream >= 0, grace >= 0 */
    lo = lo >= INT64_MIN + sw->size ? lo - sw->size : INT64_MIN;
    if (first_open >= 0 && first_open - sw->size < lo) lo = first_open - sw->size;
    return lo;
}

/* Drops the records before keep_from(). */
static size_t evict(const sr_sliding *sw, struct entry *e, int64_t stream)
{
    size_t i = 0;
    while (i < e->n && !e->v[i].open) i++;
    int64_t lo = keep_from(sw, stream, i < e->n ? e->v[i].t : -1);
    size_t k = 0;
    while (k < e->n && e->v[k].t < lo) k++;
    if (k) {
        memmove(e->v, e->v + k, sizeof(struct srec) * (e->n - k));
        e->n -= k;
    }
    return k;
}

/* Aggregates that use a value only as a number (the others keep a number as it was written). */
static bool numeric(sr_agg_kind k)
{
    return k == SR_AGG_SUM || k == SR_AGG_MEAN || k == SR_AGG_STDDEV || k == SR_AGG_INTEGRAL ||
           k == SR_AGG_DELTA;
}

/* The aggregates of the window of the records at t (e's records in [t - size, t], in (t, seq)
 * order) into accs (empty on entry; freed by the caller). Returns 0, or -1 with the reason. */
static int fold(const sr_sliding *sw, const struct entry *e, int64_t t, sr_agg *accs, sr_arena *ar,
                char *err, size_t errsize)
{
    const sr_aggspecs *a = sw->aggs;
    int64_t lo = t - sw->size; /* t >= 0 */
    for (size_t i = 0; i < e->n && e->v[i].t <= t; i++) {
        const struct srec *r = &e->v[i];
        if (r->t < lo) continue;
        sr_value arr;
        size_t pos;
        if (sr_json_parse(ar, r->json, r->len, &arr, err, errsize, &pos) != 0) return -1;
        if (arr.type != SR_ARR || arr.len != (uint32_t)a->n) {
            snprintf(err, errsize, "a stored record does not match the step's %d aggregates", a->n);
            return -1;
        }
        for (int k = 0; k < a->n; k++) /* read a number once, not at each check and add */
            if (arr.u.a[k].type == SR_NUM && numeric(a->v[k].kind))
                arr.u.a[k] = sr_num_norm(&arr.u.a[k]);
        if (sr_aggs_add(a, accs, arr.u.a, r->t, r->seq, err, errsize) != 0) return -1;
    }
    return 0;
}

/* The record the window of the records at t writes: {start, end, <aggregates>} at t. */
static sr_record window_out(const sr_sliding *sw, const sr_agg *accs, int64_t t, sr_value key,
                            sr_arena *ar)
{
    sr_record out = {.key = key, .ts = t};
    out.value = sr_obj_new(ar, (uint32_t)sw->aggs->n + 2);
    sr_obj_append(ar, &out.value, "start", 5, sr_int(t > sw->size ? t - sw->size : 0));
    sr_obj_append(ar, &out.value, "end", 3, sr_int(t + 1));
    sr_aggs_results(sw->aggs, accs, ar, &out.value);
    return out;
}

/* The window of the records at t: fold, and the record it writes when out is not NULL. */
static int window_of(const sr_sliding *sw, const struct entry *e, int64_t t, sr_value key,
                     sr_arena *ar, sr_record *out, char *err, size_t errsize)
{
    sr_agg *accs = sr_arena_alloc(ar, sizeof(sr_agg) * (size_t)sw->aggs->n);
    int rc = sr_aggs_load(sw->aggs, accs, NULL, 0, ar, err, errsize);
    if (rc == 0) rc = fold(sw, e, t, accs, ar, err, errsize);
    if (rc == 0 && out) *out = window_out(sw, accs, t, key, ar);
    sr_aggs_free(sw->aggs, accs);
    return rc;
}

/* ---- a record ---------------------------------------------------------------------------- */

int sr_sliding_add(sr_task *t, const sr_op *op, const sr_sliding *sw, sr_store *s,
                   const sr_record *r, const sr_value *vals, int64_t et, int64_t stream,
                   int64_t *min_close)
{
    assert(stream >= et && sw->size >= 1 && sw->grace >= 0);
    sr_arena *ar = sr_task_arena(t);
    char err[512];
    sr_window own;
    if (sr_sliding_window(et, sw->size, &own, err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    int64_t own_close = sr_window_close_time(own, sw->grace);
    bool own_open = sr_late_by(own_close, stream) == 0;

    sr_buf kb = {0}, val = {0};
    sr_buf_putc(&kb, 'l');
    sr_key_put(&kb, &r->key);
    size_t vlen;
    const char *old = sr_store_get(s, kb.d, kb.len, &vlen);
    struct entry e;
    int rc = entry_read(&e, old, vlen, ar, err, sizeof(err));
    if (rc != 0) goto fail;

    /* the windows the record joins: its own, and the open ones of later records within size */
    int64_t *joined = sr_arena_alloc(ar, sizeof(int64_t) * (e.n + 1));
    size_t nj = 0;
    if (own_open) joined[nj++] = et;
    for (size_t i = 0; i < e.n; i++) {
        int64_t u = e.v[i].t;
        if (u <= et || u - et > sw->size || !e.v[i].open) continue;
        if (nj && joined[nj - 1] == u) continue;
        if (sr_late_by(close_of(sw, u), stream) == 0) joined[nj++] = u;
    }
    if (nj == 0) {
        sr_buf_free(&kb);
        return sr_task_fail(t, op,
                            "late: the record's event time %lld is in the window [%lld, %lld), "
                            "closed since stream time reached %lld (its end + grace %lld ms); "
                            "%lld ms late",
                            (long long)et, (long long)own.start, (long long)own.end,
                            (long long)own_close, (long long)sw->grace,
                            (long long)sr_late_by(own_close, stream));
    }

    /* the record joins the list after every record at or before its time (its seq is the
     * largest of the key) */
    sr_value arr = sr_arr_new(ar, (uint32_t)sw->aggs->n);
    for (int i = 0; i < sw->aggs->n; i++) sr_arr_push(ar, &arr, vals[i]);
    if (sr_json_write(&val, &arr) != 0) {
        snprintf(err, sizeof(err),
                 "a value of the record is not a number JSON can hold (NaN or "
                 "infinity)");
        rc = -1;
        goto fail;
    }
    size_t at = e.n;
    while (at > 0 && e.v[at - 1].t > et) at--;
    memmove(e.v + at + 1, e.v + at, sizeof(struct srec) * (e.n - at));
    e.v[at] = (struct srec){.t = et,
                            .seq = e.next_seq++,
                            .open = own_open,
                            .json = sr_arena_strndup(ar, val.d, val.len),
                            .len = (uint32_t)val.len};
    e.n++;
    evict(sw, &e, stream);

    /* every window it joins must take it (and, once it is in, its other records) */
    sr_record *outs = sr_arena_alloc(ar, sizeof(sr_record) * nj);
    for (size_t j = 0; rc == 0 && j < nj; j++)
        rc = window_of(sw, &e, joined[j], r->key, ar, sw->update ? &outs[j] : NULL, err,
                       sizeof(err));
    if (rc != 0) goto fail;
    for (size_t j = 0; sw->update && j < nj; j++)
        if (sr_emit(t, op, &outs[j]) != 0) {
            sr_buf_free(&kb);
            sr_buf_free(&val);
            return -1; /* the reason is set downstream */
        }
    entry_write(&e, &val);
    rc = sr_store_put(s, kb.d, kb.len, val.d, val.len, err, sizeof(err));
    if (rc == 0 && own_open && own_close < *min_close) *min_close = own_close;
fail:
    sr_buf_free(&kb);
    sr_buf_free(&val);
    return rc == 0 ? 0 : sr_task_fail(t, op, "%s", err);
}

/* ---- closing ----------------------------------------------------------------------------- */

struct closing {
    sr_task *t;
    const sr_op *op;
    const sr_sliding *sw;
    sr_store *s;
    int64_t stream;
    bool all;
    int64_t min_close, max_close;
    sr_buf val;
    int rc;
};

static int close_key(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct closing *c = ud;
    const sr_sliding *sw = c->sw;
    sr_arena *ar = sr_task_arena(c->t);
    char err[512];
    if (klen < 2 || ((const char *)key)[0] != 'l') return 0; /* the step's own keys ("m") */
    if (vlen >= HEAD) { /* nothing due and nothing to drop: the header says so */
        const char *v = val;
        int64_t first_open = (int64_t)get_be(v + 8, 8);
        int64_t first_t = vlen >= HEAD + REC_HEAD ? (int64_t)get_be(v + HEAD, 8) : INT64_MAX;
        int64_t close = first_open >= 0 ? close_of(sw, first_open) : INT64_MAX;
        if (!c->all && close > c->stream && first_t >= keep_from(sw, c->stream, first_open)) {
            if (close < c->min_close) c->min_close = close;
            return 0;
        }
    }
    struct entry e;
    if (entry_read(&e, val, vlen, ar, err, sizeof(err)) != 0) goto fail;
    sr_value rkey;
    sr_key_get((const char *)key + 1, klen - 1, &rkey);
    if (rkey.type == SR_STR) rkey = sr_str_dup(ar, rkey.u.s, rkey.len);
    bool changed = false;
    for (size_t i = 0; i < e.n; i++) {
        if (!e.v[i].open) continue;
        int64_t u = e.v[i].t, close = close_of(sw, u);
        if (!c->all && close > c->stream) {
            if (close < c->min_close) c->min_close = close;
            continue;
        }
        if (!sw->update) { /* update: its last state went out already */
            sr_record out;
            if (window_of(sw, &e, u, rkey, ar, &out, err, sizeof(err)) != 0) {
                c->rc = sr_task_fail(c->t, c->op, "window [%lld, %lld): %s",
                                     (long long)(u > sw->size ? u - sw->size : 0), (long long)u + 1,
                                     err);
                return 1;
            }
            sr_emit(c->t, c->op, &out); /* from a timer: a failure downstream is dead-lettered */
        }
        if (close > c->max_close) c->max_close = close;
        for (size_t k = i; k < e.n && e.v[k].t == u; k++) e.v[k].open = false;
        changed = true;
    }
    if (evict(sw, &e, c->stream)) changed = true;
    if (!changed) return 0;
    if (e.n == 0) {
        if (sr_store_delete(c->s, key, klen, err, sizeof(err)) >= 0) return 0;
        goto fail;
    }
    entry_write(&e, &c->val);
    if (sr_store_put(c->s, key, klen, c->val.d, c->val.len, err, sizeof(err)) == 0) return 0;
fail:
    c->rc = sr_task_fail(c->t, c->op, "%s", err);
    return 1;
}

int sr_sliding_close(sr_task *t, const sr_op *op, const sr_sliding *sw, sr_store *s, int64_t stream,
                     bool all, int64_t *min_close, int64_t *max_close)
{
    struct closing c = {.t = t,
                        .op = op,
                        .sw = sw,
                        .s = s,
                        .stream = stream,
                        .all = all,
                        .min_close = INT64_MAX,
                        .max_close = -1};
    sr_store_foreach(s, close_key, &c);
    sr_buf_free(&c.val);
    *min_close = c.min_close;
    *max_close = c.max_close;
    return c.rc;
}

struct earliest {
    const sr_sliding *sw;
    int64_t min_close;
};

static int note_open(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct earliest *c = ud;
    const char *v = val;
    if (klen < 2 || ((const char *)key)[0] != 'l' || vlen < HEAD) return 0;
    int64_t first_open = (int64_t)get_be(v + 8, 8);
    if (first_open < 0) return 0;
    int64_t close = close_of(c->sw, first_open);
    if (close < c->min_close) c->min_close = close;
    return 0;
}

int64_t sr_sliding_earliest_close(const sr_sliding *sw, sr_store *s)
{
    struct earliest c = {.sw = sw, .min_close = INT64_MAX};
    sr_store_foreach(s, note_open, &c);
    return c.min_close;
}
