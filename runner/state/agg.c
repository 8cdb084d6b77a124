/* agg.c — aggregate accumulators: add, merge, result, state as JSON (semantics in agg.h). */
#include "state/agg.h"
#include "state/state_int.h"

#include <assert.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const agg_names[] = {
    [SR_AGG_COUNT] = "count", [SR_AGG_SUM] = "sum",           [SR_AGG_MEAN] = "mean",
    [SR_AGG_MIN] = "min",     [SR_AGG_MAX] = "max",           [SR_AGG_FIRST] = "first",
    [SR_AGG_LAST] = "last",   [SR_AGG_STDDEV] = "stddev",     [SR_AGG_COLLECT] = "collect",
    [SR_AGG_MERGE] = "merge", [SR_AGG_INTEGRAL] = "integral", [SR_AGG_DELTA] = "delta",
};
#define N_KINDS (sizeof(agg_names) / sizeof(agg_names[0]))

const char *sr_agg_name(sr_agg_kind k)
{
    return (size_t)k < N_KINDS ? agg_names[k] : "?";
}

int sr_agg_kind_parse(const char *s, size_t n, sr_agg_kind *out)
{
    for (size_t k = 0; k < N_KINDS; k++)
        if (strlen(agg_names[k]) == n && memcmp(agg_names[k], s, n) == 0) {
            *out = (sr_agg_kind)k;
            return 0;
        }
    return -1;
}

/* ---- values with their own memory ---------------------------------------------------- */

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* Bytes a deep copy of v needs beyond the sr_value itself. */
static size_t deep_size(const sr_value *v)
{
    size_t n = 0;
    switch (v->type) {
    case SR_STR:
    case SR_NUM: return round8(v->len);
    case SR_ARR:
        n = round8((size_t)v->len * sizeof(sr_value));
        for (uint32_t i = 0; i < v->len; i++) n += deep_size(&v->u.a[i]);
        return n;
    case SR_OBJ:
        n = round8((size_t)v->len * sizeof(sr_member));
        for (uint32_t i = 0; i < v->len; i++) n += round8(v->u.o[i].klen) + deep_size(&v->u.o[i].v);
        return n;
    default: return 0;
    }
}

/* Copies v into the block at *p (sized by deep_size), advancing *p. */
static sr_value deep_copy(const sr_value *v, char **p)
{
    sr_value c = *v;
    switch (v->type) {
    case SR_STR:
    case SR_NUM:
        if (v->len) memcpy(*p, v->u.s, v->len);
        c.u.s = *p;
        *p += round8(v->len);
        return c;
    case SR_ARR:
        c.u.a = (sr_value *)(void *)*p;
        c.cap = v->len;
        *p += round8((size_t)v->len * sizeof(sr_value));
        for (uint32_t i = 0; i < v->len; i++) c.u.a[i] = deep_copy(&v->u.a[i], p);
        return c;
    case SR_OBJ:
        c.u.o = (sr_member *)(void *)*p;
        c.cap = v->len;
        *p += round8((size_t)v->len * sizeof(sr_member));
        for (uint32_t i = 0; i < v->len; i++) {
            const sr_member *m = &v->u.o[i];
            char *k = *p;
            if (m->klen) memcpy(k, m->key, m->klen);
            *p += round8(m->klen);
            c.u.o[i].key = k;
            c.u.o[i].klen = m->klen;
            c.u.o[i].v = deep_copy(&m->v, p);
        }
        return c;
    default: return c;
    }
}

static sr_owned own(const sr_value *v)
{
    sr_owned o = {.v = *v, .mem = NULL};
    size_t n = deep_size(v);
    if (n) {
        o.mem = sr_xmalloc(n);
        char *p = o.mem;
        o.v = deep_copy(v, &p);
        assert(p == (char *)o.mem + n);
    }
    return o;
}

static void disown(sr_owned *o)
{
    free(o->mem);
    o->mem = NULL;
    o->v = sr_null();
}

/* A copy of v in arena memory. */
static sr_value to_arena(sr_arena *ar, const sr_value *v)
{
    size_t n = deep_size(v);
    if (!n) return *v;
    char *p = sr_arena_alloc(ar, n);
    return deep_copy(v, &p);
}

/* ---- helpers --------------------------------------------------------------------------- */

static bool skipped(const sr_value *x)
{
    return x->type == SR_NULL || x->type == SR_MISSING;
}

/* (t1, s1) compared with (t2, s2): <0, 0, >0. */
static int tcmp(int64_t t1, int64_t s1, int64_t t2, int64_t s2)
{
    if (t1 != t2) return t1 < t2 ? -1 : 1;
    return s1 < s2 ? -1 : s1 > s2;
}

/* The number x as SR_INT or SR_DBL, or -1 with the reason when it is not a finite number. */
static int need_num(const sr_agg *a, const sr_value *x, sr_value *n, char *err, size_t errsize)
{
    if (!sr_is_number(x))
        return sr_state_fail(err, errsize, "%s: expected a number, not %s", sr_agg_name(a->kind),
                             sr_type_name((sr_type)x->type));
    *n = sr_num_norm(x);
    if (n->type == SR_DBL && !isfinite(n->u.d))
        return sr_state_fail(err, errsize, "%s: expected a finite number", sr_agg_name(a->kind));
    return 0;
}

static double as_double(const sr_value *n)
{
    return n->type == SR_INT ? (double)n->u.i : n->u.d;
}

/* Neumaier's compensated addition of x to the sum (*s, *c). */
static void comp_add(double *s, double *c, double x)
{
    double t = *s + x;
    if (fabs(*s) >= fabs(x))
        *c += (*s - t) + x;
    else
        *c += (x - t) + *s;
    *s = t;
}

/* The area of the trapezoid between (t0, x0) and (t1, x1), t1 >= t0, in value x seconds;
 * -1 when t1 - t0 overflows. */
static int trapezoid(int64_t t0, double x0, int64_t t1, double x1, double *area)
{
    int64_t dt;
    if (__builtin_sub_overflow(t1, t0, &dt)) return -1;
    *area = (x0 + x1) * (double)dt / 2000.0;
    return 0;
}

void sr_agg_init(sr_agg *a, sr_agg_kind k, uint32_t limit)
{
    assert((size_t)k < N_KINDS);
    memset(a, 0, sizeof(*a));
    a->kind = k;
    a->limit = limit;
    assert(k != SR_AGG_COLLECT || limit >= 1);
}

void sr_agg_free(sr_agg *a)
{
    switch (a->kind) {
    case SR_AGG_MIN:
    case SR_AGG_MAX: disown(&a->u.mm); break;
    case SR_AGG_FIRST:
    case SR_AGG_LAST: disown(&a->u.fl.o); break;
    case SR_AGG_COLLECT:
        for (uint32_t i = 0; i < a->u.col.len; i++) disown(&a->u.col.v[i].o);
        free(a->u.col.v);
        break;
    case SR_AGG_MERGE:
        for (uint32_t i = 0; i < a->u.mrg.len; i++) {
            free(a->u.mrg.f[i].key);
            disown(&a->u.mrg.f[i].tv.o);
        }
        free(a->u.mrg.f);
        break;
    default: break;
    }
    sr_agg_kind k = a->kind;
    uint32_t limit = a->limit;
    sr_agg_init(a, k, limit);
}

/* ---- check ----------------------------------------------------------------------------- */

/* min/max: 1 for numbers, 2 for strings, 0 for other types. */
static int mm_class(const sr_value *v)
{
    return sr_is_number(v) ? 1 : v->type == SR_STR ? 2 : 0;
}

/* The integral's span: 0 when (t, seq) sorts after the last point, 1 before the first, -1
 * between (or the accumulator is empty: 0). */
static int integral_side(const sr_agg *a, int64_t t, int64_t seq)
{
    if (a->n == 0 || tcmp(t, seq, a->u.in.t1, a->u.in.s1) > 0) return 0;
    if (tcmp(t, seq, a->u.in.t0, a->u.in.s0) < 0) return 1;
    return -1;
}

bool sr_agg_check_stateless(sr_agg_kind k)
{
    /* delta refuses only what is not a number, whatever it holds */
    return k == SR_AGG_COUNT || k == SR_AGG_FIRST || k == SR_AGG_LAST || k == SR_AGG_MERGE ||
           k == SR_AGG_DELTA;
}

bool sr_agg_paned(sr_agg_kind k)
{
    return sr_agg_check_stateless(k) || k == SR_AGG_COLLECT;
}

uint32_t sr_agg_held(const sr_agg *a)
{
    return a->kind == SR_AGG_COLLECT ? a->u.col.len : 0;
}

static int collect_full(uint32_t limit, char *err, size_t errsize)
{
    return sr_state_fail(err, errsize, "collect: the limit of %" PRIu32 " values is reached",
                         limit);
}

int sr_agg_check_held(const sr_agg *a, uint32_t held, const sr_value *x, int64_t t, int64_t seq,
                      char *err, size_t errsize)
{
    assert(sr_agg_paned(a->kind) && a->n == 0);
    if (a->kind == SR_AGG_COLLECT && !skipped(x) && held >= a->limit)
        return collect_full(a->limit, err, errsize);
    return sr_agg_check(a, x, t, seq, err, errsize);
}

int sr_agg_check(const sr_agg *a, const sr_value *x, int64_t t, int64_t seq, char *err,
                 size_t errsize)
{
    if (skipped(x)) return 0;
    sr_value n;
    int64_t i;
    switch (a->kind) {
    case SR_AGG_COUNT:
    case SR_AGG_FIRST:
    case SR_AGG_LAST: return 0;
    case SR_AGG_SUM:
    case SR_AGG_MEAN:
        if (need_num(a, x, &n, err, errsize)) return -1;
        if (n.type == SR_INT) {
            if (__builtin_add_overflow(a->u.sum.i, n.u.i, &i))
                return sr_state_fail(err, errsize, "%s: integer overflow", sr_agg_name(a->kind));
        } else {
            double s = a->u.sum.d, c = a->u.sum.c;
            comp_add(&s, &c, n.u.d);
            if (!isfinite(s) || !isfinite(c))
                return sr_state_fail(err, errsize, "%s: float overflow", sr_agg_name(a->kind));
        }
        return 0;
    case SR_AGG_STDDEV: {
        if (need_num(a, x, &n, err, errsize)) return -1;
        double v = as_double(&n), d = v - a->u.w.mean, mean = a->u.w.mean + d / (double)(a->n + 1);
        double m2 = a->u.w.m2 + d * (v - mean);
        if (!isfinite(mean) || !isfinite(m2))
            return sr_state_fail(err, errsize, "stddev: float overflow");
        return 0;
    }
    case SR_AGG_MIN:
    case SR_AGG_MAX: {
        int c = mm_class(x);
        if (!c)
            return sr_state_fail(err, errsize, "%s: expected a number or a string, not %s",
                                 sr_agg_name(a->kind), sr_type_name((sr_type)x->type));
        if (c == 1 && need_num(a, x, &n, err, errsize)) return -1;
        if (a->n && mm_class(&a->u.mm.v) != c)
            return sr_state_fail(err, errsize, "%s: a %s among %s", sr_agg_name(a->kind),
                                 c == 1 ? "number" : "string", c == 1 ? "strings" : "numbers");
        return 0;
    }
    case SR_AGG_COLLECT:
        if (a->u.col.len >= a->limit) return collect_full(a->limit, err, errsize);
        return 0;
    case SR_AGG_MERGE:
        if (x->type != SR_OBJ)
            return sr_state_fail(err, errsize, "merge: expected an object, not %s",
                                 sr_type_name((sr_type)x->type));
        return 0;
    case SR_AGG_INTEGRAL: {
        if (need_num(a, x, &n, err, errsize)) return -1;
        if (a->n == 0) return 0;
        int side = integral_side(a, t, seq);
        if (side < 0)
            return sr_state_fail(err, errsize,
                                 "integral: out-of-order point at %" PRId64
                                 " ms falls between the points already integrated (%" PRId64
                                 " to %" PRId64 " ms)",
                                 t, a->u.in.t0, a->u.in.t1);
        double seg, s = a->u.in.area, c = a->u.in.c;
        int r = side == 0 ? trapezoid(a->u.in.t1, a->u.in.x1, t, as_double(&n), &seg)
                          : trapezoid(t, as_double(&n), a->u.in.t0, a->u.in.x0, &seg);
        if (r) return sr_state_fail(err, errsize, "integral: time difference overflows");
        comp_add(&s, &c, seg);
        if (!isfinite(seg) || !isfinite(s) || !isfinite(c))
            return sr_state_fail(err, errsize, "integral: float overflow");
        return 0;
    }
    case SR_AGG_DELTA: return need_num(a, x, &n, err, errsize);
    }
    return 0;
}

/* ---- add ------------------------------------------------------------------------------- */

/* tval_set's general case: a deep copy, into the old block when it fits. */
static __attribute__((noinline)) void tval_replace(sr_tval *tv, const sr_value *x)
{
    size_t n = deep_size(x);
    if (n && tv->o.mem && n <= malloc_usable_size(tv->o.mem)) {
        char *p = tv->o.mem;
        tv->o.v = deep_copy(x, &p);
    } else {
        disown(&tv->o);
        tv->o = own(x);
    }
}

static void tval_set(sr_tval *tv, const sr_value *x, int64_t t, int64_t seq)
{
    /* a window's fields change value with every record: the copy goes into the block of the
     * value it replaces when it fits there (no longer than the old one, or malloc_usable_size),
     * rather than a new one; a number or a string (the common case) without deep_size and
     * deep_copy */
    bool was_scalar = tv->o.v.type == SR_NUM || tv->o.v.type == SR_STR;
    if ((x->type == SR_NUM || x->type == SR_STR) && x->len && tv->o.mem &&
        ((was_scalar && x->len <= tv->o.v.len) || x->len <= malloc_usable_size(tv->o.mem))) {
        memcpy(tv->o.mem, x->u.s, x->len);
        tv->o.v = *x;
        tv->o.v.u.s = tv->o.mem;
    } else {
        tval_replace(tv, x);
    }
    tv->t = t;
    tv->seq = seq;
}

/* Inserts a copy of x at its (t, seq) place in the collection (room is there). */
static void collect_insert(sr_agg *a, const sr_value *x, int64_t t, int64_t seq)
{
    if (a->u.col.len == a->u.col.cap) {
        uint64_t cap = a->u.col.cap ? (uint64_t)a->u.col.cap * 2 : 8;
        a->u.col.cap = (uint32_t)(cap < a->limit ? cap : a->limit);
        a->u.col.v = sr_xrealloc(a->u.col.v, a->u.col.cap * sizeof(sr_tval));
    }
    uint32_t i = a->u.col.len;
    while (i > 0 && tcmp(a->u.col.v[i - 1].t, a->u.col.v[i - 1].seq, t, seq) > 0) i--;
    memmove(&a->u.col.v[i + 1], &a->u.col.v[i], (a->u.col.len - i) * sizeof(sr_tval));
    a->u.col.v[i] = (sr_tval){.o = own(x), .t = t, .seq = seq};
    a->u.col.len++;
}

/* The slot of a merge field's name in the accumulator's index: from its length and three of
 * its bytes (names of one record's fields differ in length or at their end, as accelerometer-x
 * and accelerometer-y). */
static unsigned field_slot(const char *key, uint32_t klen)
{
    unsigned h = klen * 7u;
    if (klen)
        h += (unsigned char)key[0] * 3u + (unsigned char)key[klen - 1] * 5u +
             (unsigned char)key[klen / 2];
    return h & (SR_MERGE_INDEX - 1);
}

static bool field_is(const sr_agg_field *f, const char *key, uint32_t klen)
{
    return f->klen == klen &&
           (klen == 0 || (f->key[klen - 1] == key[klen - 1] && memcmp(f->key, key, klen) == 0));
}

/* 1 + the place of the field named key in a merge accumulator, searched from the field after
 * the one found last; 0 when it has none. */
static __attribute__((noinline)) uint32_t find_field(const sr_agg *a, const char *key,
                                                     uint32_t klen)
{
    uint32_t len = a->u.mrg.len, i = a->u.mrg.hint < len ? a->u.mrg.hint : 0;
    for (uint32_t k = 0; k < len; k++, i = i + 1 == len ? 0 : i + 1)
        if (field_is(&a->u.mrg.f[i], key, klen)) return i + 1;
    return 0;
}

/* Appends the field key with x at (t, seq) to a merge accumulator. */
static __attribute__((noinline)) void add_field(sr_agg *a, const char *key, uint32_t klen,
                                                const sr_value *x, int64_t t, int64_t seq,
                                                int64_t first, uint32_t at)
{
    if (a->u.mrg.len == a->u.mrg.cap) {
        a->u.mrg.cap = a->u.mrg.cap ? a->u.mrg.cap * 2 : 8;
        a->u.mrg.f = sr_xrealloc(a->u.mrg.f, a->u.mrg.cap * sizeof(sr_agg_field));
    }
    sr_agg_field *f = &a->u.mrg.f[a->u.mrg.len++];
    f->key = sr_xstrndup(key, klen);
    f->klen = klen;
    f->tv = (sr_tval){.o = own(x), .t = t, .seq = seq};
    f->first = first;
    f->at = at;
    unsigned slot = field_slot(key, klen);
    if (!a->u.mrg.index[slot] && a->u.mrg.len <= UINT8_MAX)
        a->u.mrg.index[slot] = (uint8_t)a->u.mrg.len;
    a->u.mrg.hint = a->u.mrg.len;
}

/* Sets field key of a merge accumulator to x at (t, seq) unless it holds a later value; (first,
 * at) is the arrival number of the value that first brought the field and the field's place in
 * it (the field keeps the smallest). */
static void merge_field(sr_agg *a, const char *key, uint32_t klen, const sr_value *x, int64_t t,
                        int64_t seq, int64_t first, uint32_t at)
{
    /* the index points at the field whose name was first seen in each slot; else the search
     * starts after the field found last (records of one shape bring their fields in order) */
    uint32_t i = a->u.mrg.index[field_slot(key, klen)];
    if (!(i && field_is(&a->u.mrg.f[i - 1], key, klen))) i = find_field(a, key, klen);
    if (!i) {
        add_field(a, key, klen, x, t, seq, first, at);
        return;
    }
    sr_agg_field *f = &a->u.mrg.f[i - 1];
    if (tcmp(t, seq, f->tv.t, f->tv.seq) > 0) tval_set(&f->tv, x, t, seq);
    if (first < f->first || (first == f->first && at < f->at)) f->first = first, f->at = at;
    a->u.mrg.hint = i;
}

static int by_first(const void *x, const void *y)
{
    const sr_agg_field *a = x, *b = y;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    return a->at < b->at ? -1 : a->at > b->at;
}

void sr_agg_order_fields(sr_agg *a)
{
    if (a->kind != SR_AGG_MERGE || a->u.mrg.len < 2) return;
    /* (arrival, place in the record) is distinct per field, so the sort is total */
    qsort(a->u.mrg.f, a->u.mrg.len, sizeof(sr_agg_field), by_first);
    memset(a->u.mrg.index, 0, sizeof(a->u.mrg.index));
    for (uint32_t i = 0; i < a->u.mrg.len && i < UINT8_MAX; i++) {
        unsigned slot = field_slot(a->u.mrg.f[i].key, a->u.mrg.f[i].klen);
        if (!a->u.mrg.index[slot]) a->u.mrg.index[slot] = (uint8_t)(i + 1);
    }
    a->u.mrg.hint = 0;
}

int sr_agg_add(sr_agg *a, const sr_value *x, int64_t t, int64_t seq, char *err, size_t errsize)
{
    if (sr_agg_check(a, x, t, seq, err, errsize)) return -1;
    sr_agg_add_checked(a, x, t, seq);
    return 0;
}

void sr_agg_add_checked(sr_agg *a, const sr_value *x, int64_t t, int64_t seq)
{
    if (skipped(x)) return;
    sr_value n = sr_is_number(x) ? sr_num_norm(x) : sr_null();
    switch (a->kind) {
    case SR_AGG_COUNT: break;
    case SR_AGG_SUM:
    case SR_AGG_MEAN:
        if (n.type == SR_INT) {
            a->u.sum.i += n.u.i;
        } else {
            comp_add(&a->u.sum.d, &a->u.sum.c, n.u.d);
            a->u.sum.dbl = true;
        }
        break;
    case SR_AGG_STDDEV: {
        double v = as_double(&n), d = v - a->u.w.mean;
        a->u.w.mean += d / (double)(a->n + 1);
        a->u.w.m2 += d * (v - a->u.w.mean);
        break;
    }
    case SR_AGG_MIN:
    case SR_AGG_MAX: {
        int c = a->n ? sr_value_cmp(x, &a->u.mm.v) : 0;
        if (a->n == 0 || (a->kind == SR_AGG_MIN ? c < 0 : c > 0)) {
            disown(&a->u.mm);
            a->u.mm = own(x);
        }
        break;
    }
    case SR_AGG_FIRST:
    case SR_AGG_LAST: {
        int c = a->n ? tcmp(t, seq, a->u.fl.t, a->u.fl.seq) : 0;
        if (a->n == 0 || (a->kind == SR_AGG_FIRST ? c < 0 : c > 0)) tval_set(&a->u.fl, x, t, seq);
        break;
    }
    case SR_AGG_COLLECT: collect_insert(a, x, t, seq); break;
    case SR_AGG_MERGE:
        for (uint32_t i = 0; i < x->len; i++)
            merge_field(a, x->u.o[i].key, x->u.o[i].klen, &x->u.o[i].v, t, seq, seq, i);
        break;
    case SR_AGG_INTEGRAL: {
        double v = as_double(&n), seg = 0;
        if (a->n == 0) {
            a->u.in.t0 = a->u.in.t1 = t;
            a->u.in.s0 = a->u.in.s1 = seq;
            a->u.in.x0 = a->u.in.x1 = v;
        } else if (integral_side(a, t, seq) == 0) {
            trapezoid(a->u.in.t1, a->u.in.x1, t, v, &seg);
            a->u.in.t1 = t, a->u.in.s1 = seq, a->u.in.x1 = v;
        } else {
            trapezoid(t, v, a->u.in.t0, a->u.in.x0, &seg);
            a->u.in.t0 = t, a->u.in.s0 = seq, a->u.in.x0 = v;
        }
        comp_add(&a->u.in.area, &a->u.in.c, seg);
        break;
    }
    case SR_AGG_DELTA:
        if (a->n == 0 || tcmp(t, seq, a->u.dl.first.t, a->u.dl.first.seq) < 0)
            a->u.dl.first = (sr_tval){.o = {.v = n}, .t = t, .seq = seq};
        if (a->n == 0 || tcmp(t, seq, a->u.dl.last.t, a->u.dl.last.seq) > 0)
            a->u.dl.last = (sr_tval){.o = {.v = n}, .t = t, .seq = seq};
        break;
    }
    a->n++;
}

/* ---- merge ----------------------------------------------------------------------------- */

int sr_agg_merge(sr_agg *into, const sr_agg *from, char *err, size_t errsize)
{
    assert(into->kind == from->kind && into != from);
    if (from->n == 0) return 0;
    const char *name = sr_agg_name(into->kind);
    switch (into->kind) {
    case SR_AGG_COUNT: break;
    case SR_AGG_SUM:
    case SR_AGG_MEAN: {
        int64_t i;
        double s = into->u.sum.d, c = into->u.sum.c;
        if (__builtin_add_overflow(into->u.sum.i, from->u.sum.i, &i))
            return sr_state_fail(err, errsize, "%s: integer overflow", name);
        comp_add(&s, &c, from->u.sum.d);
        c += from->u.sum.c;
        if (!isfinite(s) || !isfinite(c))
            return sr_state_fail(err, errsize, "%s: float overflow", name);
        into->u.sum.i = i;
        into->u.sum.d = s;
        into->u.sum.c = c;
        into->u.sum.dbl |= from->u.sum.dbl;
        break;
    }
    case SR_AGG_STDDEV: {
        if (into->n == 0) {
            into->u.w = from->u.w;
            break;
        }
        double na = (double)into->n, nb = (double)from->n, nt = na + nb;
        double d = from->u.w.mean - into->u.w.mean;
        double mean = into->u.w.mean + d * (nb / nt);
        double m2 = into->u.w.m2 + from->u.w.m2 + d * d * (na * nb / nt);
        if (!isfinite(mean) || !isfinite(m2))
            return sr_state_fail(err, errsize, "stddev: float overflow");
        into->u.w.mean = mean;
        into->u.w.m2 = m2;
        break;
    }
    case SR_AGG_MIN:
    case SR_AGG_MAX: {
        if (into->n && mm_class(&into->u.mm.v) != mm_class(&from->u.mm.v))
            return sr_state_fail(err, errsize, "%s: strings and numbers in one aggregate", name);
        int c = into->n ? sr_value_cmp(&from->u.mm.v, &into->u.mm.v) : 0;
        if (into->n == 0 || (into->kind == SR_AGG_MIN ? c < 0 : c > 0)) {
            disown(&into->u.mm);
            into->u.mm = own(&from->u.mm.v);
        }
        break;
    }
    case SR_AGG_FIRST:
    case SR_AGG_LAST: {
        const sr_tval *f = &from->u.fl;
        int c = into->n ? tcmp(f->t, f->seq, into->u.fl.t, into->u.fl.seq) : 0;
        if (into->n == 0 || (into->kind == SR_AGG_FIRST ? c < 0 : c > 0))
            tval_set(&into->u.fl, &f->o.v, f->t, f->seq);
        break;
    }
    case SR_AGG_COLLECT:
        if ((uint64_t)into->u.col.len + from->u.col.len > into->limit)
            return sr_state_fail(err, errsize,
                                 "collect: merging %" PRIu32 " and %" PRIu32
                                 " values passes the limit of %" PRIu32,
                                 into->u.col.len, from->u.col.len, into->limit);
        for (uint32_t i = 0; i < from->u.col.len; i++)
            collect_insert(into, &from->u.col.v[i].o.v, from->u.col.v[i].t, from->u.col.v[i].seq);
        break;
    case SR_AGG_MERGE:
        for (uint32_t i = 0; i < from->u.mrg.len; i++) {
            const sr_agg_field *f = &from->u.mrg.f[i];
            merge_field(into, f->key, f->klen, &f->tv.o.v, f->tv.t, f->tv.seq, f->first, f->at);
        }
        break;
    case SR_AGG_INTEGRAL: {
        if (into->n == 0) {
            into->u.in = from->u.in;
            break;
        }
        const struct sr_agg_span *x = &into->u.in, *y = &from->u.in;
        double seg, s = x->area, c = x->c;
        bool after = tcmp(y->t0, y->s0, x->t1, x->s1) > 0;
        if (!after && tcmp(y->t1, y->s1, x->t0, x->s0) >= 0)
            return sr_state_fail(err, errsize,
                                 "integral: the spans %" PRId64 "..%" PRId64 " and %" PRId64
                                 "..%" PRId64 " ms overlap",
                                 x->t0, x->t1, y->t0, y->t1);
        int r = after ? trapezoid(x->t1, x->x1, y->t0, y->x0, &seg)
                      : trapezoid(y->t1, y->x1, x->t0, x->x0, &seg);
        if (r) return sr_state_fail(err, errsize, "integral: time difference overflows");
        comp_add(&s, &c, y->area);
        comp_add(&s, &c, seg);
        c += y->c;
        if (!isfinite(s) || !isfinite(c))
            return sr_state_fail(err, errsize, "integral: float overflow");
        into->u.in.area = s;
        into->u.in.c = c;
        if (after) {
            into->u.in.t1 = y->t1, into->u.in.s1 = y->s1, into->u.in.x1 = y->x1;
        } else {
            into->u.in.t0 = y->t0, into->u.in.s0 = y->s0, into->u.in.x0 = y->x0;
        }
        break;
    }
    case SR_AGG_DELTA: {
        const sr_tval *f = &from->u.dl.first, *l = &from->u.dl.last;
        if (into->n == 0 || tcmp(f->t, f->seq, into->u.dl.first.t, into->u.dl.first.seq) < 0)
            into->u.dl.first = *f;
        if (into->n == 0 || tcmp(l->t, l->seq, into->u.dl.last.t, into->u.dl.last.seq) > 0)
            into->u.dl.last = *l;
        break;
    }
    }
    into->n += from->n;
    return 0;
}

/* ---- result ---------------------------------------------------------------------------- */

sr_value sr_agg_result(const sr_agg *a, sr_arena *ar)
{
    switch (a->kind) {
    case SR_AGG_COUNT: return sr_int(a->n);
    case SR_AGG_SUM:
    case SR_AGG_MEAN: {
        if (a->kind == SR_AGG_MEAN && a->n == 0) return sr_null();
        double s = a->u.sum.d, c = a->u.sum.c;
        if (a->u.sum.dbl) comp_add(&s, &c, (double)a->u.sum.i);
        if (a->kind == SR_AGG_SUM) return a->u.sum.dbl ? sr_dbl(s + c) : sr_int(a->u.sum.i);
        return sr_dbl((a->u.sum.dbl ? s + c : (double)a->u.sum.i) / (double)a->n);
    }
    case SR_AGG_STDDEV:
        if (a->n < 2) return sr_null();
        return sr_dbl(sqrt(a->u.w.m2 / (double)(a->n - 1)));
    case SR_AGG_MIN:
    case SR_AGG_MAX: return a->n ? to_arena(ar, &a->u.mm.v) : sr_null();
    case SR_AGG_FIRST:
    case SR_AGG_LAST: return a->n ? to_arena(ar, &a->u.fl.o.v) : sr_null();
    case SR_AGG_COLLECT: {
        sr_value r = sr_arr_new(ar, a->u.col.len);
        for (uint32_t i = 0; i < a->u.col.len; i++)
            sr_arr_push(ar, &r, to_arena(ar, &a->u.col.v[i].o.v));
        return r;
    }
    case SR_AGG_MERGE: {
        sr_value r = sr_obj_new(ar, a->u.mrg.len);
        for (uint32_t i = 0; i < a->u.mrg.len; i++) {
            const sr_agg_field *f = &a->u.mrg.f[i];
            sr_obj_append(ar, &r, sr_arena_strndup(ar, f->key, f->klen), f->klen,
                          to_arena(ar, &f->tv.o.v));
        }
        return r;
    }
    case SR_AGG_INTEGRAL: return a->n ? sr_dbl(a->u.in.area + a->u.in.c) : sr_null();
    case SR_AGG_DELTA: {
        if (a->n == 0) return sr_null();
        const sr_value *f = &a->u.dl.first.o.v, *l = &a->u.dl.last.o.v;
        int64_t d;
        if (f->type == SR_INT && l->type == SR_INT && !__builtin_sub_overflow(l->u.i, f->u.i, &d))
            return sr_int(d);
        return sr_dbl(as_double(l) - as_double(f));
    }
    }
    return sr_null();
}

/* ---- memory ---------------------------------------------------------------------------- */

size_t sr_agg_heap_bytes(const sr_agg *a)
{
    size_t n = 0;
    switch (a->kind) {
    case SR_AGG_MIN:
    case SR_AGG_MAX: return deep_size(&a->u.mm.v);
    case SR_AGG_FIRST:
    case SR_AGG_LAST: return deep_size(&a->u.fl.o.v);
    case SR_AGG_COLLECT:
        n = (size_t)a->u.col.cap * sizeof(sr_tval);
        for (uint32_t i = 0; i < a->u.col.len; i++) n += deep_size(&a->u.col.v[i].o.v);
        return n;
    case SR_AGG_MERGE:
        n = (size_t)a->u.mrg.cap * sizeof(sr_agg_field);
        for (uint32_t i = 0; i < a->u.mrg.len; i++)
            n += a->u.mrg.f[i].klen + 1 + deep_size(&a->u.mrg.f[i].tv.o.v);
        return n;
    default: return 0;
    }
}

/* ---- state as JSON --------------------------------------------------------------------- */

static void put_i64(sr_buf *b, int64_t i)
{
    sr_buf_printf(b, "%" PRId64, i);
}

static void put_value(sr_buf *b, const sr_value *v)
{
    int r = sr_json_write(b, v);
    assert(r == 0); /* accumulators hold finite numbers only */
    (void)r;
}

/* [t,seq,value] */
static void put_tval(sr_buf *b, const sr_tval *tv)
{
    sr_buf_putc(b, '[');
    put_i64(b, tv->t);
    sr_buf_putc(b, ',');
    put_i64(b, tv->seq);
    sr_buf_putc(b, ',');
    put_value(b, &tv->o.v);
    sr_buf_putc(b, ']');
}

void sr_agg_write(const sr_agg *a, sr_buf *b)
{
    sr_buf_puts(b, "{\"n\":");
    put_i64(b, a->n);
    switch (a->kind) {
    case SR_AGG_COUNT: break;
    case SR_AGG_SUM:
    case SR_AGG_MEAN:
        sr_buf_puts(b, ",\"i\":");
        put_i64(b, a->u.sum.i);
        if (a->u.sum.dbl) {
            sr_buf_puts(b, ",\"d\":");
            sr_write_double(b, a->u.sum.d);
            sr_buf_puts(b, ",\"c\":");
            sr_write_double(b, a->u.sum.c);
        }
        break;
    case SR_AGG_STDDEV:
        sr_buf_puts(b, ",\"m\":");
        sr_write_double(b, a->u.w.mean);
        sr_buf_puts(b, ",\"q\":");
        sr_write_double(b, a->u.w.m2);
        break;
    case SR_AGG_MIN:
    case SR_AGG_MAX:
        if (a->n) {
            sr_buf_puts(b, ",\"v\":");
            put_value(b, &a->u.mm.v);
        }
        break;
    case SR_AGG_FIRST:
    case SR_AGG_LAST:
        if (a->n) {
            sr_buf_puts(b, ",\"v\":");
            put_tval(b, &a->u.fl);
        }
        break;
    case SR_AGG_COLLECT:
        sr_buf_puts(b, ",\"v\":[");
        for (uint32_t i = 0; i < a->u.col.len; i++) {
            if (i) sr_buf_putc(b, ',');
            put_tval(b, &a->u.col.v[i]);
        }
        sr_buf_putc(b, ']');
        break;
    case SR_AGG_MERGE:
        sr_buf_puts(b, ",\"f\":[");
        for (uint32_t i = 0; i < a->u.mrg.len; i++) {
            const sr_agg_field *f = &a->u.mrg.f[i];
            if (i) sr_buf_putc(b, ',');
            sr_buf_putc(b, '[');
            sr_json_write_str(b, f->key, f->klen);
            sr_buf_putc(b, ',');
            put_tval(b, &f->tv);
            if (f->first != f->tv.seq || f->at) { /* where it was first seen, when not there */
                sr_buf_putc(b, ',');
                put_i64(b, f->first);
                sr_buf_printf(b, ",%" PRIu32, f->at);
            }
            sr_buf_putc(b, ']');
        }
        sr_buf_putc(b, ']');
        break;
    case SR_AGG_INTEGRAL:
        if (a->n) {
            sr_buf_puts(b, ",\"a\":");
            sr_write_double(b, a->u.in.area);
            sr_buf_puts(b, ",\"c\":");
            sr_write_double(b, a->u.in.c);
            sr_buf_printf(b, ",\"p\":[[%" PRId64 ",%" PRId64 ",", a->u.in.t0, a->u.in.s0);
            sr_write_double(b, a->u.in.x0);
            sr_buf_printf(b, "],[%" PRId64 ",%" PRId64 ",", a->u.in.t1, a->u.in.s1);
            sr_write_double(b, a->u.in.x1);
            sr_buf_puts(b, "]]");
        }
        break;
    case SR_AGG_DELTA:
        if (a->n) {
            sr_buf_puts(b, ",\"f\":");
            put_tval(b, &a->u.dl.first);
            sr_buf_puts(b, ",\"l\":");
            put_tval(b, &a->u.dl.last);
        }
        break;
    }
    sr_buf_putc(b, '}');
}

/* Reading: each getter returns 0, or -1 (the caller reports the state as malformed). */

static const sr_value *field(const sr_value *o, const char *k)
{
    return sr_obj_get(o, k, strlen(k));
}

static int get_i64(const sr_value *v, int64_t *out)
{
    if (!v || !sr_is_number(v)) return -1;
    sr_value n = sr_num_norm(v);
    if (n.type != SR_INT) return -1;
    *out = n.u.i;
    return 0;
}

static int get_dbl(const sr_value *v, double *out)
{
    if (!v || !sr_is_number(v)) return -1;
    sr_value n = sr_num_norm(v);
    *out = as_double(&n);
    return isfinite(*out) ? 0 : -1;
}

/* [t,seq,value] into *tv (value copied; numbers normalised when norm). */
static int get_tval(const sr_value *v, sr_tval *tv, bool norm)
{
    if (!v || v->type != SR_ARR || v->len != 3) return -1;
    if (get_i64(&v->u.a[0], &tv->t) || get_i64(&v->u.a[1], &tv->seq)) return -1;
    const sr_value *x = &v->u.a[2];
    if (norm) {
        if (!sr_is_number(x)) return -1;
        tv->o = (sr_owned){.v = sr_num_norm(x)};
    } else {
        tv->o = own(x);
    }
    return 0;
}

/* [t,seq,x] of an integral point. */
static int get_point(const sr_value *v, int64_t *t, int64_t *seq, double *x)
{
    if (!v || v->type != SR_ARR || v->len != 3) return -1;
    return get_i64(&v->u.a[0], t) || get_i64(&v->u.a[1], seq) || get_dbl(&v->u.a[2], x) ? -1 : 0;
}

static int read_state(sr_agg *a, const sr_value *st)
{
    if (st->type != SR_OBJ || get_i64(field(st, "n"), &a->n) || a->n < 0) return -1;
    bool any = a->n > 0;
    const sr_value *v;
    switch (a->kind) {
    case SR_AGG_COUNT: return 0;
    case SR_AGG_SUM:
    case SR_AGG_MEAN:
        if (get_i64(field(st, "i"), &a->u.sum.i)) return -1;
        if (field(st, "d")) {
            a->u.sum.dbl = true;
            if (get_dbl(field(st, "d"), &a->u.sum.d) || get_dbl(field(st, "c"), &a->u.sum.c))
                return -1;
        }
        return 0;
    case SR_AGG_STDDEV:
        return get_dbl(field(st, "m"), &a->u.w.mean) || get_dbl(field(st, "q"), &a->u.w.m2) ||
                       a->u.w.m2 < 0
                   ? -1
                   : 0;
    case SR_AGG_MIN:
    case SR_AGG_MAX:
        if (!any) return 0;
        v = field(st, "v");
        if (!v || !mm_class(v)) return -1;
        a->u.mm = own(v);
        return 0;
    case SR_AGG_FIRST:
    case SR_AGG_LAST: return any ? get_tval(field(st, "v"), &a->u.fl, false) : 0;
    case SR_AGG_COLLECT:
        v = field(st, "v");
        if (!v || v->type != SR_ARR || v->len > a->limit || (int64_t)v->len != a->n) return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            sr_tval tv = {0};
            if (get_tval(&v->u.a[i], &tv, false)) return -1;
            /* states are written in order; a state out of order is not one this code wrote */
            if (i && tcmp(tv.t, tv.seq, a->u.col.v[i - 1].t, a->u.col.v[i - 1].seq) <= 0) {
                disown(&tv.o);
                return -1;
            }
            collect_insert(a, &tv.o.v, tv.t, tv.seq);
            disown(&tv.o);
        }
        return 0;
    case SR_AGG_MERGE:
        v = field(st, "f");
        if (!v || v->type != SR_ARR) return -1;
        for (uint32_t i = 0; i < v->len; i++) {
            const sr_value *f = &v->u.a[i];
            sr_tval tv = {0};
            int64_t first = 0, at = 0;
            if (f->type != SR_ARR || (f->len != 2 && f->len != 4) || f->u.a[0].type != SR_STR ||
                (f->len == 4 && (get_i64(&f->u.a[2], &first) || get_i64(&f->u.a[3], &at) ||
                                 at < 0 || at > UINT32_MAX)) ||
                get_tval(&f->u.a[1], &tv, false))
                return -1;
            if (f->len == 2) first = tv.seq;
            merge_field(a, f->u.a[0].u.s, f->u.a[0].len, &tv.o.v, tv.t, tv.seq, first,
                        (uint32_t)at);
            disown(&tv.o);
        }
        return 0;
    case SR_AGG_INTEGRAL:
        if (!any) return 0;
        v = field(st, "p");
        if (get_dbl(field(st, "a"), &a->u.in.area) || get_dbl(field(st, "c"), &a->u.in.c) || !v ||
            v->type != SR_ARR || v->len != 2 ||
            get_point(&v->u.a[0], &a->u.in.t0, &a->u.in.s0, &a->u.in.x0) ||
            get_point(&v->u.a[1], &a->u.in.t1, &a->u.in.s1, &a->u.in.x1))
            return -1;
        return 0;
    case SR_AGG_DELTA:
        if (!any) return 0;
        return get_tval(field(st, "f"), &a->u.dl.first, true) ||
                       get_tval(field(st, "l"), &a->u.dl.last, true)
                   ? -1
                   : 0;
    }
    return -1;
}

int sr_agg_read(sr_agg *a, sr_agg_kind k, uint32_t limit, const sr_value *state, char *err,
                size_t errsize)
{
    sr_agg_init(a, k, limit);
    if (read_state(a, state) == 0) return 0;
    sr_agg_free(a);
    return sr_state_fail(err, errsize, "%s: malformed state", sr_agg_name(k));
}

/* ---- bucket ---------------------------------------------------------------------------- */

int64_t sr_bucket_index(double x, double lo, double hi, int64_t n)
{
    assert(n >= 1 && hi > lo && isfinite(lo) && isfinite(hi) && !isnan(x));
    /* scale before dividing: (x - lo) / (hi - lo) * n rounds 29 / 100 * 100 below 29, one
     * bucket off at exact edges; halve everything when a difference overflows */
    double f = (x - lo) * (double)n / (hi - lo);
    if (!isfinite(f)) f = (x / 2 - lo / 2) / (hi / 2 - lo / 2) * (double)n;
    f = floor(f);
    return f < 0 ? 0 : (f >= (double)n ? n - 1 : (int64_t)f);
}

int sr_bucket(const sr_value *x, const sr_value *lo, const sr_value *hi, int64_t n, int64_t *out,
              char *err, size_t errsize)
{
    const sr_value *args[3] = {x, lo, hi};
    double d[3];
    static const char *const names[3] = {"the value", "lo", "hi"};
    for (int i = 0; i < 3; i++) {
        if (!sr_is_number(args[i]))
            return sr_state_fail(err, errsize, "bucket: %s must be a number, not %s", names[i],
                                 sr_type_name((sr_type)args[i]->type));
        d[i] = sr_num_double(args[i]);
        if (isnan(d[i]) || (i > 0 && !isfinite(d[i])))
            return sr_state_fail(err, errsize, "bucket: %s must be a finite number", names[i]);
    }
    if (n < 1)
        return sr_state_fail(err, errsize, "bucket: the number of buckets must be at least 1");
    if (!(d[2] > d[1])) return sr_state_fail(err, errsize, "bucket: hi must be greater than lo");
    *out = sr_bucket_index(d[0], d[1], d[2], n);
    return 0;
}
