/* stateful.c — aggregate specifications, accumulators as store bytes, keys, event time and
 * store names, for the stateful operators. */
#include "stateful.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing "kind(arg, ...)" ---------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trims [*off, *off + *len) of s of blanks at both ends. */
static void trim(const char *s, size_t *off, size_t *len)
{
    while (*len && is_space(s[*off])) (*off)++, (*len)--;
    while (*len && is_space(s[*off + *len - 1])) (*len)--;
}

/* Splits s[off..off+len) at its top-level commas (outside brackets and quotes) into at most
 * max parts; returns the number of parts (max + 1 when there are more). An empty text has 0. */
static int split_args(const char *s, size_t off, size_t len, size_t *aoff, size_t *alen, int max)
{
    size_t o = off, l = len;
    trim(s, &o, &l);
    if (l == 0) return 0;
    int n = 0, depth = 0;
    char quote = 0;
    size_t start = o;
    for (size_t i = o; i <= o + l; i++) {
        char c = i < o + l ? s[i] : ',';
        if (quote) {
            if (c == '\\' && quote != '`' && i + 1 < o + l)
                i++;
            else if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '"' || c == '\'' || c == '`')
            quote = c;
        else if (c == '(' || c == '[' || c == '{')
            depth++;
        else if (c == ')' || c == ']' || c == '}')
            depth--;
        else if (c == ',' && depth == 0) {
            if (n < max) {
                aoff[n] = start;
                alen[n] = i - start;
                trim(s, &aoff[n], &alen[n]);
            }
            n++;
            start = i + 1;
        }
    }
    return n > max ? max + 1 : n;
}

static const char *const agg_list =
    "count, sum, mean, min, max, first, last, stddev, collect, merge, integral, delta";

static bool numeric_kind(sr_agg_kind k)
{
    return k == SR_AGG_SUM || k == SR_AGG_MEAN || k == SR_AGG_STDDEV || k == SR_AGG_INTEGRAL ||
           k == SR_AGG_DELTA;
}

/* Parses one aggregate from scalar n into *a (name set by the caller). */
static int parse_one(sr_aggspec *a, const sr_ynode *n, sr_check *ck, const char *what)
{
    char got[64];
    if (!sr_yis_scalar(n) || sr_yis_null(n)) {
        sr_errc(ck->dg, SR_E_AGGREGATE, ck->file, n->mark,
                "%s: an aggregate must be written as a call such as mean(x) or count(), not %s",
                what, sr_ydesc(n, got, sizeof(got)));
        return -1;
    }
    const char *s = n->text;
    size_t off = 0, len = n->len;
    trim(s, &off, &len);
    size_t name_end = off;
    while (name_end < off + len &&
           ((s[name_end] >= 'a' && s[name_end] <= 'z') ||
            (s[name_end] >= 'A' && s[name_end] <= 'Z') || s[name_end] == '_'))
        name_end++;
    size_t p = name_end;
    while (p < off + len && is_space(s[p])) p++;
    if (name_end == off || p >= off + len || s[p] != '(' || s[off + len - 1] != ')') {
        bool cut = memchr(s + off, '(', len) && s[off + len - 1] != ')';
        sr_errc(ck->dg, SR_E_AGGREGATE, ck->file, sr_ysub_mark(n, off, len ? len : 1),
                "%s: an aggregate must be written as a call such as mean(x) or count(), not "
                "'%.*s'%s",
                what, (int)len, s + off,
                cut ? " (YAML ends a value inside {...} at a comma: quote an aggregate that has "
                      "one, as in \"collect(x, 10)\")"
                    : " (aggregates: count, sum, mean, min, max, first, last, stddev, collect, "
                      "merge, integral, delta)");
        return -1;
    }
    if (sr_agg_kind_parse(s + off, name_end - off, &a->kind) != 0) {
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(name_end - off), s + off);
        const char *cands[16];
        int nc = 0;
        for (int k = 0; k <= SR_AGG_DELTA; k++) cands[nc++] = sr_agg_name((sr_agg_kind)k);
        const char *sug = sr_suggest(name, cands, nc);
        sr_mark m = sr_ysub_mark(n, off, name_end - off);
        if (sug)
            sr_errc(ck->dg, SR_E_UNKNOWN_AGGREGATE, ck->file, m,
                    "%s: unknown aggregate '%s'; did you mean '%s'?", what, name, sug);
        else
            sr_errc(ck->dg, SR_E_UNKNOWN_AGGREGATE, ck->file, m,
                    "%s: unknown aggregate '%s' (aggregates: %s)", what, name, agg_list);
        if (sug) sr_diag_help_rewrite(ck->dg, ck->file, m, name, sug, "correct the aggregate");
        return -1;
    }
    const char *kname = sr_agg_name(a->kind);
    size_t inner = p + 1, ilen = off + len - 1 - inner;
    size_t aoff[2], alen[2];
    int nargs = split_args(s, inner, ilen, aoff, alen, 2);
    int lo = a->kind == SR_AGG_COUNT || a->kind == SR_AGG_MERGE ? 0 : 1,
        hi = a->kind == SR_AGG_COLLECT ? 2 : 1;
    if (nargs < lo || nargs > hi) {
        const char *want = a->kind == SR_AGG_COUNT     ? "count() (the records) or count(x)"
                           : a->kind == SR_AGG_MERGE   ? "merge() (the records) or merge(x)"
                           : a->kind == SR_AGG_COLLECT ? "collect(x) or collect(x, LIMIT)"
                                                       : NULL;
        char buf[80];
        if (!want) snprintf(buf, sizeof(buf), "%s(x): one expression", kname), want = buf;
        sr_errc(ck->dg, SR_E_AGGREGATE, ck->file, sr_ysub_mark(n, off, len),
                "%s: %s takes %s, not %d argument%s", what, kname, want, nargs,
                nargs == 1 ? "" : "s");
        return -1;
    }
    a->limit = SR_COLLECT_DEFAULT;
    if (nargs == 2) {
        char num[32];
        long long v = 0;
        char *end = NULL;
        snprintf(num, sizeof(num), "%.*s", (int)(alen[1] < 31 ? alen[1] : 31), s + aoff[1]);
        if (alen[1] > 0 && alen[1] < 31) v = strtoll(num, &end, 10);
        if (!end || *end || v < 1 || v > SR_COLLECT_MAX) {
            sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file,
                    sr_ysub_mark(n, aoff[1], alen[1] ? alen[1] : 1),
                    "%s: collect's limit must be a whole number from 1 to %d, not '%s'", what,
                    SR_COLLECT_MAX, num);
            return -1;
        }
        a->limit = (uint32_t)v;
    }
    if (nargs == 0) return 0;
    if (alen[0] == 0) {
        sr_errc(ck->dg, SR_E_AGGREGATE, ck->file, sr_ysub_mark(n, aoff[0], 1),
                "%s: %s: an empty argument", what, kname);
        return -1;
    }
    a->arg = sr_expr_compile_sub(n, aoff[0], alen[0], ck);
    if (!a->arg) return -1;
    sr_stype ty = sr_expr_type(a->arg);
    if (numeric_kind(a->kind) && ty != SR_T_ANY && ty != SR_T_NUM) {
        sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, sr_ysub_mark(n, aoff[0], alen[0]),
                "%s: %s takes a number, but this expression gives a %s", what, kname,
                sr_stype_name(ty));
        return -1;
    }
    if (a->kind == SR_AGG_MERGE && ty != SR_T_ANY && ty != SR_T_OBJ) {
        sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, sr_ysub_mark(n, aoff[0], alen[0]),
                "%s: merge takes an object (merge() alone merges the records), but this "
                "expression gives a %s",
                what, sr_stype_name(ty));
        return -1;
    }
    return 0;
}

int sr_aggspecs_parse(sr_aggspecs *out, const sr_ynode *n, sr_check *ck, const char *what)
{
    memset(out, 0, sizeof(*out));
    if (!n) return -1;
    int rc = 0;
    if (n->kind != SR_Y_MAP) {
        out->v = sr_xcalloc(1, sizeof(sr_aggspec));
        out->v[0].name = sr_xstrdup("value");
        out->v[0].nlen = 5;
        out->n = 1;
        return parse_one(&out->v[0], n, ck, what);
    }
    int count = n->nkids / 2;
    out->v = sr_xcalloc((size_t)count + 1, sizeof(sr_aggspec));
    for (int i = 0; i < count; i++) {
        const sr_ynode *key = n->kids[2 * i], *val = n->kids[2 * i + 1];
        char got[64];
        if (!sr_yis_scalar(key) || sr_yis_null(key) || key->len == 0) {
            sr_errc(ck->dg, SR_E_AGGREGATE, ck->file, key->mark,
                    "%s: an aggregate's name must be a field name, not %s", what,
                    sr_ydesc(key, got, sizeof(got)));
            rc = -1;
            continue;
        }
        sr_aggspec *a = &out->v[out->n];
        if (parse_one(a, val, ck, what) != 0) {
            sr_expr_free(a->arg);
            memset(a, 0, sizeof(*a));
            rc = -1;
            continue;
        }
        a->name = sr_xstrdup(key->text);
        a->nlen = key->len;
        out->n++;
    }
    return rc;
}

void sr_aggspecs_schema(const sr_aggspecs *s, sr_schema *sc)
{
    for (int i = 0; i < s->n; i++) {
        const sr_aggspec *a = &s->v[i];
        sr_stype arg = a->arg ? sr_expr_type(a->arg) : SR_T_ANY, t = SR_T_ANY;
        switch (a->kind) {
        case SR_AGG_COUNT:
        case SR_AGG_SUM:
        case SR_AGG_MEAN:
        case SR_AGG_STDDEV:
        case SR_AGG_INTEGRAL:
        case SR_AGG_DELTA: t = SR_T_NUM; break;
        case SR_AGG_MIN:
        case SR_AGG_MAX: t = arg == SR_T_NUM || arg == SR_T_STR ? arg : SR_T_ANY; break;
        case SR_AGG_FIRST:
        case SR_AGG_LAST: t = arg == SR_T_NULL ? SR_T_ANY : arg; break;
        case SR_AGG_COLLECT: t = SR_T_ARR; break;
        case SR_AGG_MERGE: t = SR_T_OBJ; break;
        }
        sr_schema_put(sc, a->name, t, NULL);
        if (a->kind == SR_AGG_COLLECT && arg != SR_T_NULL)
            sc->elems[sr_schema_find(sc, a->name)] = arg;
    }
}

void sr_aggspecs_free(sr_aggspecs *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->v[i].name);
        sr_expr_free(s->v[i].arg);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

void sr_aggspecs_format(const sr_aggspecs *s, sr_buf *b)
{
    for (int i = 0; i < s->n; i++) {
        const sr_aggspec *a = &s->v[i];
        sr_buf_printf(b, "%s=%s(%s,%u);", a->name, sr_agg_name(a->kind),
                      a->arg ? sr_expr_text(a->arg) : "", (unsigned)a->limit);
    }
}

int sr_aggspecs_eval(const sr_aggspecs *s, sr_task *t, const sr_op *op, const sr_record *r,
                     sr_value *vals)
{
    for (int i = 0; i < s->n; i++) {
        if (!s->v[i].arg) { /* count() counts the records, merge() merges them */
            vals[i] = s->v[i].kind == SR_AGG_MERGE ? r->value : sr_bool(true);
            continue;
        }
        if (sr_expr_eval(s->v[i].arg, t, op, r, &vals[i])) return -1;
        if (vals[i].type == SR_MISSING) vals[i] = sr_null();
    }
    return 0;
}

/* ---- accumulators as bytes --------------------------------------------------------------------
 */

int sr_aggs_load(const sr_aggspecs *s, sr_agg *accs, const void *val, size_t vlen, sr_arena *ar,
                 char *err, size_t errsize)
{
    for (int i = 0; i < s->n; i++) sr_agg_init(&accs[i], s->v[i].kind, s->v[i].limit);
    if (!val) return 0;
    sr_value arr;
    size_t pos;
    if (sr_json_parse(ar, val, vlen, &arr, err, errsize, &pos) != 0) return -1;
    if (arr.type != SR_ARR || arr.len != (uint32_t)s->n) {
        snprintf(err, errsize, "the stored state does not match the step's %d aggregates", s->n);
        return -1;
    }
    for (int i = 0; i < s->n; i++)
        if (sr_agg_read(&accs[i], s->v[i].kind, s->v[i].limit, &arr.u.a[i], err, errsize) != 0)
            return -1;
    return 0;
}

int sr_aggs_check(const sr_aggspecs *s, const sr_agg *accs, const sr_value *vals, int64_t t,
                  int64_t seq, char *err, size_t errsize)
{
    char why[400];
    for (int i = 0; i < s->n; i++)
        if (sr_agg_check(&accs[i], &vals[i], t, seq, why, sizeof(why)) != 0) {
            snprintf(err, errsize, "%s: %s", s->v[i].name, why);
            return -1;
        }
    return 0;
}

int sr_aggs_check_held(const sr_aggspecs *s, const sr_agg *empty, const uint32_t *held,
                       const sr_value *vals, int64_t t, int64_t seq, char *err, size_t errsize)
{
    char why[400];
    for (int i = 0; i < s->n; i++)
        if (sr_agg_check_held(&empty[i], held[i], &vals[i], t, seq, why, sizeof(why)) != 0) {
            snprintf(err, errsize, "%s: %s", s->v[i].name, why);
            return -1;
        }
    return 0;
}

int sr_aggs_add(const sr_aggspecs *s, sr_agg *accs, const sr_value *vals, int64_t t, int64_t seq,
                char *err, size_t errsize)
{
    /* all or none: every one is checked before any changes */
    if (sr_aggs_check(s, accs, vals, t, seq, err, errsize) != 0) return -1;
    sr_aggs_add_checked(s, accs, vals, t, seq);
    return 0;
}

void sr_aggs_add_checked(const sr_aggspecs *s, sr_agg *accs, const sr_value *vals, int64_t t,
                         int64_t seq)
{
    for (int i = 0; i < s->n; i++) sr_agg_add_checked(&accs[i], &vals[i], t, seq);
}

void sr_aggs_save(const sr_aggspecs *s, const sr_agg *accs, sr_buf *b)
{
    sr_buf_putc(b, '[');
    for (int i = 0; i < s->n; i++) {
        if (i) sr_buf_putc(b, ',');
        sr_agg_write(&accs[i], b);
    }
    sr_buf_putc(b, ']');
}

void sr_aggs_results(const sr_aggspecs *s, const sr_agg *accs, sr_arena *ar, sr_value *obj)
{
    for (int i = 0; i < s->n; i++)
        sr_obj_set(ar, obj, s->v[i].name, s->v[i].nlen, sr_agg_result(&accs[i], ar));
}

void sr_aggs_free(const sr_aggspecs *s, sr_agg *accs)
{
    for (int i = 0; i < s->n; i++) sr_agg_free(&accs[i]);
}

/* ---- keys, time, budget, names ----------------------------------------------------------------
 */

void sr_key_put(sr_buf *b, const sr_value *key)
{
    if (key->type == SR_STR) {
        sr_buf_putc(b, 1);
        sr_buf_put(b, key->u.s, key->len);
    } else {
        sr_buf_putc(b, 0);
    }
}

void sr_key_get(const char *p, size_t n, sr_value *key)
{
    assert(n >= 1);
    *key = p[0] ? sr_str(p + 1, n - 1) : sr_null();
}

int sr_event_time_check(const sr_op *op, const sr_expr *expr, sr_check *ck)
{
    if (!expr) return 0;
    sr_stype ty = sr_expr_type(expr);
    if (ty == SR_T_ANY || ty == SR_T_NUM) return 0;
    sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, sr_setting_mark(op, "time"),
            "%s: the event time must be a number (since the Unix epoch), but this expression gives "
            "a %s",
            op->label, sr_stype_name(ty));
    return -1;
}

int sr_event_time(sr_task *t, const sr_op *op, const sr_expr *expr, int unit, const sr_record *r,
                  int64_t *ms)
{
    if (!expr) {
        *ms = r->ts;
        return 0;
    }
    static const char *const units[] = {"s", "ms", "us", "ns"};
    static const int64_t per_ms[] = {0, 1, 1000, 1000000};
    sr_value v;
    if (sr_expr_eval(expr, t, op, r, &v)) return -1;
    if (!sr_is_number(&v))
        return sr_task_fail(t, op, "the event time '%s' must be a number, not %s",
                            sr_expr_text(expr), sr_type_name((sr_type)v.type));
    v = sr_num_norm(&v);
    if (v.type == SR_INT) {
        if (v.u.i < 0)
            return sr_task_fail(t, op, "the event time %lld %s is before 1970", (long long)v.u.i,
                                units[unit]);
        if (unit == 0 && __builtin_mul_overflow(v.u.i, 1000, ms))
            return sr_task_fail(t, op, "the event time %lld s is out of range", (long long)v.u.i);
        if (unit != 0) *ms = v.u.i / per_ms[unit]; /* floor: v >= 0 */
        return 0;
    }
    double d = unit == 0 ? v.u.d * 1000 : v.u.d / (double)per_ms[unit];
    if (!(d >= 0))
        return sr_task_fail(t, op, "the event time %g %s is before 1970 or not a number", v.u.d,
                            units[unit]);
    if (!(d < 9.2e18))
        return sr_task_fail(t, op, "the event time %g %s is out of range", v.u.d, units[unit]);
    *ms = (int64_t)d;
    return 0;
}

sr_store *sr_state_store_open(sr_task *t, const sr_op *op, const char *name)
{
    char err[256];
    sr_store *st = sr_store_new_overdraft(name, sr_state_budget(), err, sizeof(err));
    if (!st) {
        fprintf(stderr, "streamrun: %s: %s\n", op->label, err);
        abort(); /* open() cannot fail: out of memory */
    }
    sr_task_add_store(t, op, st);
    return st;
}

int sr_state_meta_put(sr_task *t, const sr_op *op, sr_store *st, const char *key, size_t klen,
                      int64_t a, int64_t b)
{
    int64_t v[2] = {a, b};
    size_t vlen;
    const void *old = sr_store_get(st, key, klen, &vlen);
    if (old && vlen == sizeof(v) && memcmp(old, v, sizeof(v)) == 0) return 0; /* unchanged */
    char err[256];
    if (sr_store_put_overdraft(st, key, klen, v, sizeof(v), err, sizeof(err)) != 0)
        return sr_task_fail(t, op, "%s", err);
    return 0;
}

bool sr_state_meta_get(const sr_store *st, const char *key, size_t klen, int64_t *a, int64_t *b)
{
    size_t vlen;
    const void *p = sr_store_get(st, key, klen, &vlen);
    int64_t v[2];
    if (!p || vlen != sizeof(v)) return false;
    memcpy(v, p, sizeof(v));
    *a = v[0];
    *b = v[1];
    return true;
}

sr_mark sr_setting_mark(const sr_op *op, const char *key)
{
    const sr_ynode *n =
        op->settings && op->settings->kind == SR_Y_MAP ? sr_ymap_get(op->settings, key) : NULL;
    return n ? n->mark : op->mark;
}

char *sr_store_name_claim(const sr_op *op, sr_check *ck, const char *name, sr_mark m)
{
    char def[64];
    if (!name) {
        snprintf(def, sizeof(def), "%s-%d", op->type->name, op->index);
        name = def;
    }
    const sr_deployment *cur = ck->dep;
    for (int i = 0; i <= ck->topo->ndeps; i++) {
        const sr_deployment *d = i < ck->topo->ndeps ? &ck->topo->deps[i] : cur;
        if (i < ck->topo->ndeps && d == cur) continue;
        if (!d || !d->group || !cur->group || strcmp(d->group, cur->group) != 0) continue;
        for (int k = 0; k < d->nops; k++) {
            const sr_op *o = &d->ops[k];
            if (o == op || !o->type || !o->type->store_name) continue;
            const char *other = o->type->store_name(o);
            if (!other || strcmp(other, name) != 0) continue;
            sr_errc(ck->dg, SR_E_STORE_CLASH, ck->file, m,
                    "%s: the state store '%s' is also the store of %s in deployment '%s', of the "
                    "same consumer group '%s': stores of one consumer group need distinct names "
                    "(their changelog topics will be named after the group and the store); set "
                    "'store:' to another name",
                    op->label, name, o->label, d->name, cur->group);
            sr_diag_related(ck->dg, o->file, o->mark, "%s has store '%s' too", o->label, name);
            return NULL;
        }
    }
    return sr_xstrdup(name);
}
