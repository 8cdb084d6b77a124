/* state_check.c — computes the cases of tests/state/reference.py with runner/state/ and
 * compares: integers exactly, floats within 1e-9 relative. usage: state_check CASES.jsonl */
#include "state/agg.h"
#include "state/window.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long line_no;
static int failures;
static char err[256];

__attribute__((format(printf, 1, 2))) static void failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "case on line %ld: ", line_no);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

static const char *json(const sr_value *v)
{
    static char out[2][2048];
    static int k;
    k ^= 1;
    sr_buf b = {0};
    if (sr_json_write(&b, v)) sr_buf_puts(&b, "(not JSON)");
    snprintf(out[k], sizeof(out[k]), "%s", sr_buf_cstr(&b));
    sr_buf_free(&b);
    return out[k];
}

/* Integers exactly (and an integer only matches an integer), floats within 1e-9 relative. */
static bool same(const sr_value *got, const sr_value *want)
{
    if (sr_is_number(want)) {
        if (!sr_is_number(got)) return false;
        sr_value g = sr_num_norm(got), w = sr_num_norm(want);
        if (w.type == SR_INT) return g.type == SR_INT && g.u.i == w.u.i;
        if (g.type != SR_DBL) return false;
        double a = g.u.d, b = w.u.d;
        return a == b || fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
    }
    if (want->type != got->type) return false;
    switch (want->type) {
    case SR_ARR:
        if (got->len != want->len) return false;
        for (uint32_t i = 0; i < want->len; i++)
            if (!same(&got->u.a[i], &want->u.a[i])) return false;
        return true;
    case SR_OBJ:
        if (got->len != want->len) return false;
        for (uint32_t i = 0; i < want->len; i++) {
            const sr_member *m = &want->u.o[i];
            const sr_value *g = sr_obj_get(got, m->key, m->klen);
            if (!g || !same(g, &m->v)) return false;
        }
        return true;
    default: return sr_value_equal(got, want);
    }
}

static const sr_value *get(const sr_value *o, const char *k)
{
    const sr_value *v = sr_obj_get(o, k, strlen(k));
    if (!v) {
        fprintf(stderr, "line %ld: no \"%s\" in the case\n", line_no, k);
        exit(2);
    }
    return v;
}

static int64_t i64(const sr_value *v)
{
    sr_value n = sr_num_norm(v);
    if (n.type != SR_INT) {
        fprintf(stderr, "line %ld: expected an integer, got %s\n", line_no, json(v));
        exit(2);
    }
    return n.u.i;
}

static void state_text(const sr_agg *a, sr_buf *b)
{
    b->len = 0;
    sr_agg_write(a, b);
    sr_buf_cstr(b);
}

/* ---- aggregates ------------------------------------------------------------------------ */

/* Adds points[from..to) to a; every refusal must be what sr_agg_check predicted. With
 * restore, a is rebuilt from its written state after every point. refused: the indexes
 * refused are appended (may be NULL). */
static void add_points(sr_agg *a, const sr_value *pts, uint32_t from, uint32_t to, bool restore,
                       sr_arena *ar, sr_value *refused)
{
    sr_buf b = {0};
    for (uint32_t i = from; i < to; i++) {
        const sr_value *p = &pts->u.a[i];
        int64_t t = i64(&p->u.a[1]), seq = i64(&p->u.a[2]);
        int c = sr_agg_check(a, &p->u.a[0], t, seq, err, sizeof(err));
        int r = sr_agg_add(a, &p->u.a[0], t, seq, err, sizeof(err));
        if (c != r) failf("%s: check said %d, add %d for point %u", sr_agg_name(a->kind), c, r, i);
        if (r && refused) sr_arr_push(ar, refused, sr_int(i));
        if (restore) {
            state_text(a, &b);
            sr_value st;
            size_t pos;
            if (sr_json_parse(ar, sr_arena_strndup(ar, b.d, b.len), b.len, &st, err, sizeof(err),
                              &pos)) {
                failf("state %s is not JSON: %s", b.d, err);
                break;
            }
            sr_agg_kind k = a->kind;
            uint32_t limit = a->limit;
            sr_agg_free(a);
            if (sr_agg_read(a, k, limit, &st, err, sizeof(err))) failf("read %s: %s", b.d, err);
        }
    }
    sr_buf_free(&b);
}

static void check_agg(const sr_value *c, sr_arena *ar)
{
    const sr_value *name = get(c, "agg"), *pts = get(c, "points");
    sr_agg_kind k;
    if (sr_agg_kind_parse(name->u.s, name->len, &k)) {
        failf("unknown aggregate %s", json(name));
        return;
    }
    uint32_t limit = (uint32_t)i64(get(c, "limit"));
    uint32_t split = (uint32_t)i64(get(c, "split"));
    sr_agg whole, restored, x, y;
    sr_agg_init(&whole, k, limit);
    sr_agg_init(&restored, k, limit);
    sr_agg_init(&x, k, limit);
    sr_agg_init(&y, k, limit);
    sr_value refused = sr_arr_new(ar, 4);
    add_points(&whole, pts, 0, pts->len, false, ar, &refused);
    add_points(&restored, pts, 0, pts->len, true, ar, NULL);
    if (!same(&refused, get(c, "refused")))
        failf("%s: refused %s, want %s", sr_agg_name(k), json(&refused), json(get(c, "refused")));
    sr_value got = sr_agg_result(&whole, ar);
    if (!same(&got, get(c, "expect")))
        failf("%s: %s, want %s", sr_agg_name(k), json(&got), json(get(c, "expect")));
    sr_buf b1 = {0}, b2 = {0};
    state_text(&whole, &b1);
    state_text(&restored, &b2);
    if (strcmp(b1.d, b2.d) != 0)
        failf("%s: restored state %s, want %s", sr_agg_name(k), b2.d, b1.d);
    /* merge of the two halves */
    add_points(&x, pts, 0, split, false, ar, NULL);
    add_points(&y, pts, split, pts->len, false, ar, NULL);
    state_text(&x, &b1);
    int r = sr_agg_merge(&x, &y, err, sizeof(err));
    const sr_value *m = get(c, "merge"), *me = sr_obj_get(m, "expect", 6);
    if (!me) {
        state_text(&x, &b2);
        if (r == 0)
            failf("%s: merge at %u accepted, want refused", sr_agg_name(k), split);
        else if (strcmp(b1.d, b2.d) != 0)
            failf("%s: a refused merge changed the state", sr_agg_name(k));
    } else if (r) {
        failf("%s: merge at %u refused (%s)", sr_agg_name(k), split, err);
    } else {
        got = sr_agg_result(&x, ar);
        if (!same(&got, me))
            failf("%s: merged at %u: %s, want %s", sr_agg_name(k), split, json(&got), json(me));
    }
    sr_buf_free(&b1);
    sr_buf_free(&b2);
    sr_agg_free(&whole);
    sr_agg_free(&restored);
    sr_agg_free(&x);
    sr_agg_free(&y);
}

/* ---- windows --------------------------------------------------------------------------- */

static void check_windows(const sr_value *c, sr_arena *ar)
{
    int64_t t = i64(get(c, "t")), size = i64(get(c, "size")), step = i64(get(c, "step"));
    const sr_value *want = get(c, "expect");
    sr_window_iter it;
    if (sr_windows_of(&it, t, size, step, err, sizeof(err))) {
        if (want->type != SR_STR) failf("windows of %" PRId64 ": refused (%s)", t, err);
        return;
    }
    sr_value got = sr_arr_new(ar, 4);
    sr_window w;
    while (sr_window_next(&it, &w) && got.len <= 100000) {
        sr_value pair = sr_arr_new(ar, 2);
        sr_arr_push(ar, &pair, sr_int(w.start));
        sr_arr_push(ar, &pair, sr_int(w.end));
        sr_arr_push(ar, &got, pair);
    }
    if (!same(&got, want))
        failf("windows of %" PRId64 " (%" PRId64 ", %" PRId64 "): %s, want %s", t, size, step,
              json(&got), json(want));
}

static int by_start(const void *a, const void *b)
{
    const sr_window *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void check_sessions(const sr_value *c, sr_arena *ar)
{
    int64_t gap = i64(get(c, "gap"));
    const sr_value *times = get(c, "times");
    sr_window *s = calloc(times->len + 1, sizeof(*s));
    bool *merge = calloc(times->len + 1, sizeof(*merge));
    size_t n = 0;
    for (uint32_t i = 0; i < times->len; i++) {
        sr_window out;
        if (sr_session_assign(s, n, i64(&times->u.a[i]), gap, merge, &out, err, sizeof(err)) < 0) {
            failf("session: %s", err);
            break;
        }
        size_t k = 0;
        for (size_t j = 0; j < n; j++)
            if (!merge[j]) s[k++] = s[j];
        s[k++] = out;
        n = k;
    }
    qsort(s, n, sizeof(*s), by_start);
    sr_value got = sr_arr_new(ar, 4);
    for (size_t i = 0; i < n; i++) {
        sr_value pair = sr_arr_new(ar, 2);
        sr_arr_push(ar, &pair, sr_int(s[i].start));
        sr_arr_push(ar, &pair, sr_int(s[i].end));
        sr_arr_push(ar, &got, pair);
    }
    if (!same(&got, get(c, "expect")))
        failf("sessions (gap %" PRId64 "): %s, want %s", gap, json(&got), json(get(c, "expect")));
    free(s);
    free(merge);
}

static void check_late(const sr_value *c, sr_arena *ar)
{
    int64_t size = i64(get(c, "size")), step = i64(get(c, "step")), grace = i64(get(c, "grace"));
    const sr_value *times = get(c, "times");
    sr_value got = sr_arr_new(ar, times->len);
    int64_t st = -1;
    for (uint32_t i = 0; i < times->len; i++) {
        int64_t t = i64(&times->u.a[i]);
        st = sr_stream_time_advance(st, t);
        sr_window_iter it;
        sr_window w;
        sr_value rec = sr_arr_new(ar, 2);
        if (sr_windows_of(&it, t, size, step, err, sizeof(err))) failf("late: %s", err);
        while (sr_window_next(&it, &w)) {
            sr_value x = sr_arr_new(ar, 3);
            sr_arr_push(ar, &x, sr_int(w.start));
            sr_arr_push(ar, &x, sr_int(w.end));
            sr_arr_push(ar, &x, sr_int(sr_late_by(sr_window_close_time(w, grace), st)));
            sr_arr_push(ar, &rec, x);
        }
        sr_arr_push(ar, &got, rec);
    }
    if (!same(&got, get(c, "expect")))
        failf("lateness: %s, want %s", json(&got), json(get(c, "expect")));
}

static void check_sliding(const sr_value *c, sr_arena *ar)
{
    int64_t size = i64(get(c, "size"));
    const sr_value *recs = get(c, "records");
    sr_value got = sr_arr_new(ar, recs->len);
    for (uint32_t i = 0; i < recs->len; i++) {
        sr_window w;
        if (sr_sliding_window(i64(&recs->u.a[i].u.a[0]), size, &w, err, sizeof(err))) {
            failf("sliding: %s", err);
            return;
        }
        int64_t n = 0, sum = 0;
        for (uint32_t j = 0; j < recs->len; j++)
            if (sr_window_contains(w, i64(&recs->u.a[j].u.a[0]))) {
                n++;
                sum += i64(&recs->u.a[j].u.a[1]);
            }
        sr_value x = sr_arr_new(ar, 4);
        sr_arr_push(ar, &x, sr_int(w.start));
        sr_arr_push(ar, &x, sr_int(w.end));
        sr_arr_push(ar, &x, sr_int(n));
        sr_arr_push(ar, &x, sr_int(sum));
        sr_arr_push(ar, &got, x);
    }
    if (!same(&got, get(c, "expect")))
        failf("sliding: %s, want %s", json(&got), json(get(c, "expect")));
}

/* Tumbling/hopping windows with count, sum, mean, min and max over a stream. */
static void check_windowed(const sr_value *c, sr_arena *ar)
{
    static const sr_agg_kind kinds[5] = {SR_AGG_COUNT, SR_AGG_SUM, SR_AGG_MEAN, SR_AGG_MIN,
                                         SR_AGG_MAX};
    int64_t size = i64(get(c, "size")), step = i64(get(c, "step"));
    const sr_value *recs = get(c, "records");
    struct win {
        sr_window w;
        sr_agg a[5];
    } *wins = NULL;
    size_t n = 0, cap = 0;
    for (uint32_t i = 0; i < recs->len; i++) {
        int64_t t = i64(&recs->u.a[i].u.a[0]);
        sr_window_iter it;
        sr_window w;
        if (sr_windows_of(&it, t, size, step, err, sizeof(err))) failf("windowed: %s", err);
        while (sr_window_next(&it, &w)) {
            size_t j = 0;
            while (j < n && wins[j].w.start != w.start) j++;
            if (j == n) {
                if (n == cap) wins = realloc(wins, (cap = cap ? 2 * cap : 8) * sizeof(*wins));
                wins[n].w = w;
                for (int k = 0; k < 5; k++) sr_agg_init(&wins[n].a[k], kinds[k], 0);
                n++;
            }
            for (int k = 0; k < 5; k++)
                if (sr_agg_add(&wins[j].a[k], &recs->u.a[i].u.a[1], t, i, err, sizeof(err)))
                    failf("windowed: %s", err);
        }
    }
    if (n) qsort(wins, n, sizeof(*wins), by_start);
    sr_value got = sr_arr_new(ar, (uint32_t)n);
    for (size_t j = 0; j < n; j++) {
        sr_value x = sr_arr_new(ar, 3), o = sr_obj_new(ar, 5);
        sr_arr_push(ar, &x, sr_int(wins[j].w.start));
        sr_arr_push(ar, &x, sr_int(wins[j].w.end));
        for (int k = 0; k < 5; k++) {
            const char *name = sr_agg_name(kinds[k]);
            sr_obj_append(ar, &o, name, strlen(name), sr_agg_result(&wins[j].a[k], ar));
            sr_agg_free(&wins[j].a[k]);
        }
        sr_arr_push(ar, &x, o);
        sr_arr_push(ar, &got, x);
    }
    free(wins);
    if (!same(&got, get(c, "expect")))
        failf("windowed: %s, want %s", json(&got), json(get(c, "expect")));
}

static void check_bucket(const sr_value *c)
{
    int64_t b = -1;
    if (sr_bucket(get(c, "x"), get(c, "lo"), get(c, "hi"), i64(get(c, "n")), &b, err, sizeof(err)))
        failf("bucket: %s", err);
    else if (b != i64(get(c, "expect")))
        failf("bucket(%s, ...): %" PRId64 ", want %" PRId64, json(get(c, "x")), b,
              i64(get(c, "expect")));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: state_check CASES.jsonl\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    sr_arena ar;
    sr_arena_init(&ar, 1 << 16);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long cases = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        line_no++;
        sr_arena_reset(&ar);
        sr_value c;
        size_t pos;
        if (sr_json_parse(&ar, line, (size_t)len, &c, err, sizeof(err), &pos)) {
            fprintf(stderr, "line %ld: %s\n", line_no, err);
            return 2;
        }
        const sr_value *kind = get(&c, "case");
        cases++;
        if (sr_value_equal(kind, &(sr_value){.type = SR_STR, .len = 3, .u.s = "agg"}))
            check_agg(&c, &ar);
        else if (kind->len == 7 && memcmp(kind->u.s, "windows", 7) == 0)
            check_windows(&c, &ar);
        else if (kind->len == 8 && memcmp(kind->u.s, "sessions", 8) == 0)
            check_sessions(&c, &ar);
        else if (kind->len == 4 && memcmp(kind->u.s, "late", 4) == 0)
            check_late(&c, &ar);
        else if (kind->len == 7 && memcmp(kind->u.s, "sliding", 7) == 0)
            check_sliding(&c, &ar);
        else if (kind->len == 8 && memcmp(kind->u.s, "windowed", 8) == 0)
            check_windowed(&c, &ar);
        else if (kind->len == 6 && memcmp(kind->u.s, "bucket", 6) == 0)
            check_bucket(&c);
        else {
            fprintf(stderr, "line %ld: unknown case %s\n", line_no, json(kind));
            return 2;
        }
    }
    free(line);
    fclose(f);
    sr_arena_free(&ar);
    printf("%ld cases, %d failed\n", cases, failures);
    return failures || cases == 0 ? 1 : 0;
}
