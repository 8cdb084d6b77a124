/* test_agg.c — every aggregate: values, errors, merges, state round trips, and bucket(). */
#include "state/agg.h"
#include "test.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static sr_arena ar;
static char err[256];

/* A value parsed from JSON text (in ar). */
static sr_value J(const char *text)
{
    sr_value v;
    size_t pos;
    char e[128];
    if (sr_json_parse(&ar, text, strlen(text), &v, e, sizeof(e), &pos)) {
        fprintf(stderr, "bad test JSON %s: %s\n", text, e);
        abort();
    }
    return v;
}

/* JSON text of v (static buffer). */
static const char *text(sr_value v)
{
    static char out[4096];
    sr_buf b = {0};
    if (sr_json_write(&b, &v)) sr_buf_puts(&b, "(not JSON)");
    snprintf(out, sizeof(out), "%s", sr_buf_cstr(&b));
    sr_buf_free(&b);
    return out;
}

static const char *result(const sr_agg *a)
{
    return text(sr_agg_result(a, &ar));
}

/* The state of a as JSON text (static buffer). */
static const char *state(const sr_agg *a)
{
    static char out[4096];
    sr_buf b = {0};
    sr_agg_write(a, &b);
    snprintf(out, sizeof(out), "%s", sr_buf_cstr(&b));
    sr_buf_free(&b);
    return out;
}

/* Adds JSON values vals[i] at times ts[i] (seq = i + seq0); every add must succeed. */
static void add_all(sr_agg *a, const char *const *vals, const int64_t *ts, int n, int64_t seq0)
{
    for (int i = 0; i < n; i++) {
        sr_value v = J(vals[i]);
        int r = sr_agg_add(a, &v, ts[i], seq0 + i, err, sizeof(err));
        CHECK(r == 0);
        if (r) fprintf(stderr, "  add %s: %s\n", vals[i], err);
    }
}

static int add1(sr_agg *a, const char *val, int64_t t, int64_t seq)
{
    sr_value v = J(val);
    err[0] = 0;
    return sr_agg_add(a, &v, t, seq, err, sizeof(err));
}

/* The state written, read back and written again is the same text with the same result. */
static void check_round_trip(const sr_agg *a)
{
    char before[4096], res[4096];
    snprintf(before, sizeof(before), "%s", state(a));
    snprintf(res, sizeof(res), "%s", result(a));
    sr_agg b;
    sr_value st = J(before);
    int r = sr_agg_read(&b, a->kind, a->limit, &st, err, sizeof(err));
    CHECK(r == 0);
    if (r) {
        fprintf(stderr, "  read %s: %s\n", before, err);
        return;
    }
    CHECK_STR(state(&b), before);
    CHECK_STR(result(&b), res);
    sr_agg_free(&b);
}

static void test_count_sum_mean(void)
{
    sr_agg a;
    sr_agg_init(&a, SR_AGG_COUNT, 0);
    CHECK_STR(result(&a), "0");
    add_all(&a, (const char *[]){"1", "null", "\"x\"", "{}"}, (int64_t[]){1, 2, 3, 4}, 4, 0);
    CHECK_STR(result(&a), "3"); /* null skipped */
    check_round_trip(&a);
    sr_agg_free(&a);

    sr_agg_init(&a, SR_AGG_SUM, 0);
    CHECK_STR(result(&a), "0");
    check_round_trip(&a);
    add_all(&a, (const char *[]){"9007199254740993", "1", "null"}, (int64_t[]){1, 2, 3}, 3, 0);
    CHECK_STR(result(&a), "9007199254740994"); /* exact beyond 2^53 */
    check_round_trip(&a);
    CHECK(add1(&a, "\"12\"", 4, 9) == -1);
    CHECK_STR(err, "sum: expected a number, not string");
    CHECK(add1(&a, "true", 4, 9) == -1);
    CHECK_STR(err, "sum: expected a number, not boolean");
    CHECK(add1(&a, "9223372036854775807", 4, 9) == -1);
    CHECK_STR(err, "sum: integer overflow");
    CHECK_STR(result(&a), "9007199254740994"); /* unchanged by the refusals */
    CHECK(a.n == 2);
    CHECK(add1(&a, "0.5", 5, 10) == 0);
    CHECK_STR(result(&a), "9007199254740994.0"); /* a float from the first float on */
    check_round_trip(&a);
    sr_agg_free(&a);

    /* compensated: 1e16 + 1 + 1 - 1e16 is 2, not 0 */
    sr_agg_init(&a, SR_AGG_SUM, 0);
    add_all(&a, (const char *[]){"1e16", "1.0", "1.0", "-1e16"}, (int64_t[]){1, 2, 3, 4}, 4, 0);
    CHECK_STR(result(&a), "2.0");
    check_round_trip(&a);
    sr_agg_free(&a);

    sr_agg_init(&a, SR_AGG_MEAN, 0);
    CHECK_STR(result(&a), "null");
    add_all(&a, (const char *[]){"2", "4"}, (int64_t[]){1, 2}, 2, 0);
    CHECK_STR(result(&a), "3.0"); /* always a float */
    add_all(&a, (const char *[]){"1.5"}, (int64_t[]){3}, 1, 2);
    CHECK(fabs(sr_agg_result(&a, &ar).u.d - 7.5 / 3) < 1e-15);
    check_round_trip(&a);
    CHECK(add1(&a, "[1]", 4, 9) == -1);
    CHECK_STR(err, "mean: expected a number, not array");
    sr_agg_free(&a);
}

static void test_min_max(void)
{
    sr_agg a;
    sr_agg_init(&a, SR_AGG_MIN, 0);
    CHECK_STR(result(&a), "null");
    add_all(&a, (const char *[]){"3", "1", "2.5", "1.0"}, (int64_t[]){1, 2, 3, 4}, 4, 0);
    CHECK_STR(result(&a), "1"); /* on a tie the first stays */
    CHECK(add1(&a, "\"a\"", 5, 9) == -1);
    CHECK_STR(err, "min: a string among numbers");
    CHECK(add1(&a, "{}", 5, 9) == -1);
    CHECK_STR(err, "min: expected a number or a string, not object");
    check_round_trip(&a);
    sr_agg_free(&a);

    sr_agg_init(&a, SR_AGG_MAX, 0);
    add_all(&a, (const char *[]){"\"pear\"", "\"apple\"", "\"zucchini\"", "\"fig\""},
            (int64_t[]){1, 2, 3, 4}, 4, 0);
    CHECK_STR(result(&a), "\"zucchini\"");
    CHECK(add1(&a, "5", 5, 9) == -1);
    CHECK_STR(err, "max: a number among strings");
    check_round_trip(&a);
    sr_agg b;
    sr_agg_init(&b, SR_AGG_MAX, 0);
    add_all(&b, (const char *[]){"\"zz\""}, (int64_t[]){0}, 1, 10);
    CHECK(sr_agg_merge(&a, &b, err, sizeof(err)) == 0);
    CHECK_STR(result(&a), "\"zz\"");
    sr_agg_free(&b);
    sr_agg_init(&b, SR_AGG_MAX, 0);
    add_all(&b, (const char *[]){"99"}, (int64_t[]){0}, 1, 10);
    CHECK(sr_agg_merge(&a, &b, err, sizeof(err)) == -1);
    CHECK_STR(result(&a), "\"zz\"");
    sr_agg_free(&b);
    sr_agg_free(&a);
}

static void test_first_last(void)
{
    /* by event time, ties by arrival: (a, 5), (b, 3), (c, 5) */
    const char *v[] = {"\"a\"", "\"b\"", "{\"c\":[1,2]}", "null"};
    int64_t t[] = {5, 3, 5, 1};
    sr_agg f, l;
    sr_agg_init(&f, SR_AGG_FIRST, 0);
    sr_agg_init(&l, SR_AGG_LAST, 0);
    CHECK_STR(result(&f), "null");
    add_all(&f, v, t, 4, 0);
    add_all(&l, v, t, 4, 0);
    CHECK_STR(result(&f), "\"b\"");
    CHECK_STR(result(&l), "{\"c\":[1,2]}"); /* the later arrival at t = 5 */
    check_round_trip(&f);
    check_round_trip(&l);
    CHECK_STR(state(&l), "{\"n\":3,\"v\":[5,2,{\"c\":[1,2]}]}");
    sr_agg_free(&f);
    sr_agg_free(&l);
}

static void test_stddev(void)
{
    sr_agg a;
    sr_agg_init(&a, SR_AGG_STDDEV, 0);
    add_all(&a, (const char *[]){"2"}, (int64_t[]){0}, 1, 0);
    CHECK_STR(result(&a), "null"); /* fewer than two values */
    add_all(&a, (const char *[]){"4", "4", "4", "5", "5", "7", "9"},
            (int64_t[]){1, 2, 3, 4, 5, 6, 7}, 7, 1);
    double s = sr_agg_result(&a, &ar).u.d;
    CHECK(fabs(s - sqrt(32.0 / 7.0)) < 1e-12); /* sample: divisor n - 1 (population: 2) */
    check_round_trip(&a);
    sr_agg_free(&a);
    /* stable around a large offset: 1e9 + {4, 7, 13, 16} has variance 30 */
    sr_agg_init(&a, SR_AGG_STDDEV, 0);
    add_all(&a, (const char *[]){"1000000004", "1000000007", "1000000013", "1000000016"},
            (int64_t[]){1, 2, 3, 4}, 4, 0);
    s = sr_agg_result(&a, &ar).u.d;
    CHECK(fabs(s - sqrt(30.0)) < 1e-9 * sqrt(30.0));
    CHECK(add1(&a, "\"x\"", 5, 5) == -1);
    CHECK_STR(err, "stddev: expected a number, not string");
    sr_agg_free(&a);
}

static void test_collect(void)
{
    sr_agg a, b;
    sr_agg_init(&a, SR_AGG_COLLECT, 3);
    CHECK_STR(result(&a), "[]");
    add_all(&a, (const char *[]){"\"x\"", "1", "{\"k\":null}"}, (int64_t[]){20, 10, 20}, 3, 0);
    CHECK_STR(result(&a), "[1,\"x\",{\"k\":null}]"); /* (t, seq) order */
    CHECK(add1(&a, "4", 5, 9) == -1);
    CHECK_STR(err, "collect: the limit of 3 values is reached");
    CHECK_STR(result(&a), "[1,\"x\",{\"k\":null}]");
    check_round_trip(&a);
    /* a state holding more than a lowered limit is refused, not cut */
    sr_value st = J(state(&a));
    CHECK(sr_agg_read(&b, SR_AGG_COLLECT, 2, &st, err, sizeof(err)) == -1);
    CHECK_STR(err, "collect: malformed state");
    sr_agg_init(&b, SR_AGG_COLLECT, 3);
    add_all(&b, (const char *[]){"0"}, (int64_t[]){15}, 1, 10);
    CHECK(sr_agg_merge(&a, &b, err, sizeof(err)) == -1);
    CHECK_STR(err, "collect: merging 3 and 1 values passes the limit of 3");
    sr_agg_free(&a);
    sr_agg_init(&a, SR_AGG_COLLECT, 3);
    add_all(&a, (const char *[]){"\"x\"", "1"}, (int64_t[]){20, 10}, 2, 0);
    CHECK(sr_agg_merge(&a, &b, err, sizeof(err)) == 0);
    CHECK_STR(result(&a), "[1,0,\"x\"]");
    sr_agg_free(&a);
    sr_agg_free(&b);
}

/* A window of panes: a collect is checked against the values its panes hold in all; the
 * kinds combined from panes are those whose check depends on nothing else. */
static void test_check_held(void)
{
    sr_agg e;
    sr_agg_init(&e, SR_AGG_COLLECT, 3);
    sr_value one = sr_int(1), null = sr_null();
    CHECK(sr_agg_check_held(&e, 2, &one, 0, 1, err, sizeof(err)) == 0);
    CHECK(sr_agg_check_held(&e, 3, &one, 0, 1, err, sizeof(err)) == -1);
    CHECK_STR(err, "collect: the limit of 3 values is reached");
    CHECK(sr_agg_check_held(&e, 3, &null, 0, 1, err, sizeof(err)) == 0); /* skipped */
    sr_agg_init(&e, SR_AGG_DELTA, 0);
    sr_value s = sr_str("a", 1);
    CHECK(sr_agg_check_held(&e, 0, &s, 0, 1, err, sizeof(err)) == -1);
    CHECK_STR(err, "delta: expected a number, not string");
    CHECK(sr_agg_paned(SR_AGG_COLLECT) && sr_agg_paned(SR_AGG_DELTA) && sr_agg_paned(SR_AGG_MERGE));
    CHECK(!sr_agg_paned(SR_AGG_SUM) && !sr_agg_paned(SR_AGG_MEAN) && !sr_agg_paned(SR_AGG_STDDEV));
    CHECK(!sr_agg_paned(SR_AGG_MIN) && !sr_agg_paned(SR_AGG_MAX) && !sr_agg_paned(SR_AGG_INTEGRAL));
}

static void test_merge(void)
{
    sr_agg a, b;
    sr_agg_init(&a, SR_AGG_MERGE, 0);
    CHECK_STR(result(&a), "{}");
    add_all(&a, (const char *[]){"{\"a\":1,\"b\":2}", "{\"b\":3,\"c\":{\"d\":4}}", "{\"a\":5}"},
            (int64_t[]){1, 2, 0}, 3, 0);
    CHECK_STR(result(&a), "{\"a\":1,\"b\":3,\"c\":{\"d\":4}}"); /* {a:5} is older */
    CHECK(add1(&a, "[1]", 3, 9) == -1);
    CHECK_STR(err, "merge: expected an object, not array");
    check_round_trip(&a);
    sr_agg_init(&b, SR_AGG_MERGE, 0);
    add_all(&b, (const char *[]){"{\"a\":null,\"e\":\"x\"}"}, (int64_t[]){2}, 1, 10);
    CHECK(sr_agg_merge(&a, &b, err, sizeof(err)) == 0);
    CHECK_STR(result(&a), "{\"a\":null,\"b\":3,\"c\":{\"d\":4},\"e\":\"x\"}");
    sr_agg_free(&a);
    sr_agg_free(&b);
}

/* Panes of one window merged give the window's fields in the order its records first brought
 * them, once sr_agg_order_fields has put them so; the order survives a state round trip. */
static void test_merge_panes(void)
{
    sr_agg w, p1, p2, all;
    sr_agg_init(&w, SR_AGG_MERGE, 0);
    sr_agg_init(&p1, SR_AGG_MERGE, 0);
    sr_agg_init(&p2, SR_AGG_MERGE, 0);
    sr_agg_init(&all, SR_AGG_MERGE, 0);
    /* arrivals 1, 2, 3: {x, p} at t 1500 (pane 1), {x, q} at 2500 (pane 2), {r, x} at 1200 */
    const char *v[] = {"{\"x\":1,\"p\":\"a\"}", "{\"x\":2,\"q\":\"b\"}", "{\"r\":\"c\",\"x\":3}"};
    int64_t ts[] = {1500, 2500, 1200};
    for (int i = 0; i < 3; i++) {
        CHECK(add1(&w, v[i], ts[i], i + 1) == 0);
        CHECK(add1(i == 1 ? &p2 : &p1, v[i], ts[i], i + 1) == 0);
    }
    CHECK_STR(result(&w), "{\"x\":2,\"p\":\"a\",\"q\":\"b\",\"r\":\"c\"}");
    check_round_trip(&p1);
    CHECK(sr_agg_merge(&all, &p1, err, sizeof(err)) == 0);
    CHECK(sr_agg_merge(&all, &p2, err, sizeof(err)) == 0);
    CHECK_STR(result(&all), "{\"x\":2,\"p\":\"a\",\"r\":\"c\",\"q\":\"b\"}"); /* pane order */
    sr_agg_order_fields(&all);
    CHECK_STR(result(&all), "{\"x\":2,\"p\":\"a\",\"q\":\"b\",\"r\":\"c\"}"); /* as w's */
    check_round_trip(&all);
    sr_agg_free(&w);
    sr_agg_free(&p1);
    sr_agg_free(&p2);
    sr_agg_free(&all);
}

static void test_integral(void)
{
    sr_agg a, b;
    sr_agg_init(&a, SR_AGG_INTEGRAL, 0);
    CHECK_STR(result(&a), "null");
    add_all(&a, (const char *[]){"2"}, (int64_t[]){1000}, 1, 0);
    CHECK_STR(result(&a), "0.0");
    add_all(&a, (const char *[]){"2", "0"}, (int64_t[]){3000, 0}, 2, 1); /* then before */
    CHECK_STR(result(&a), "5.0"); /* 1 s at mean 1 + 2 s at 2, in value x seconds */
    CHECK(add1(&a, "100", 2000, 9) == -1);
    CHECK_STR(err, "integral: out-of-order point at 2000 ms falls between the points already "
                   "integrated (0 to 3000 ms)");
    CHECK_STR(result(&a), "5.0");
    check_round_trip(&a);
    sr_agg_init(&b, SR_AGG_INTEGRAL, 0);
    add_all(&b, (const char *[]){"2", "0"}, (int64_t[]){2500, 4000}, 2, 10);
    CHECK(sr_agg_merge(&a, &b, err, sizeof(err)) == -1); /* spans overlap */
    sr_agg_free(&b);
    sr_agg_init(&b, SR_AGG_INTEGRAL, 0);
    add_all(&b, (const char *[]){"4", "0"}, (int64_t[]){4000, 5000}, 2, 10);
    CHECK(sr_agg_merge(&a, &b, err, sizeof(err)) == 0);
    CHECK_STR(result(&a), "10.0"); /* 5 + 3000..4000 at 3 + 4000..5000 at 2 */
    CHECK(add1(&a, "\"x\"", 6000, 20) == -1);
    CHECK_STR(err, "integral: expected a number, not string");
    sr_agg_free(&a);
    sr_agg_free(&b);
}

static void test_delta(void)
{
    sr_agg a;
    sr_agg_init(&a, SR_AGG_DELTA, 0);
    CHECK_STR(result(&a), "null");
    add_all(&a, (const char *[]){"12"}, (int64_t[]){3}, 1, 0);
    CHECK_STR(result(&a), "0");
    add_all(&a, (const char *[]){"25", "10"}, (int64_t[]){5, 0}, 2, 1);
    CHECK_STR(result(&a), "15"); /* 25 at t 5 - 10 at t 0, exact */
    check_round_trip(&a);
    add_all(&a, (const char *[]){"25.5"}, (int64_t[]){6}, 1, 3);
    CHECK_STR(result(&a), "15.5");
    sr_agg_free(&a);
    sr_agg_init(&a, SR_AGG_DELTA, 0);
    add_all(&a, (const char *[]){"-9223372036854775807", "9223372036854775807"}, (int64_t[]){0, 1},
            2, 0);
    CHECK(sr_agg_result(&a, &ar).type == SR_DBL); /* the difference leaves int64 */
    sr_agg_free(&a);
}

/* For every kind: adding everything to one accumulator equals adding halves to two and
 * merging, and equals reading the state back after every value. */
static void test_merge_and_restore_all_kinds(void)
{
    const char *nums[] = {"3", "1.25", "-7", "4", "10", "2.5", "8", "-1"};
    const char *objs[] = {"{\"a\":1}", "{\"b\":2}", "{\"a\":3}", "{\"c\":4}",
                          "{\"b\":5}", "{\"a\":6}", "{\"d\":7}", "{\"c\":8}"};
    int64_t t[] = {0, 100, 250, 400, 1000, 1200, 1500, 2000};
    for (int k = SR_AGG_COUNT; k <= SR_AGG_DELTA; k++) {
        const char *const *vals = k == SR_AGG_MERGE ? objs : nums;
        sr_agg whole, x, y, r;
        sr_agg_init(&whole, (sr_agg_kind)k, 100);
        sr_agg_init(&x, (sr_agg_kind)k, 100);
        sr_agg_init(&y, (sr_agg_kind)k, 100);
        sr_agg_init(&r, (sr_agg_kind)k, 100);
        for (int i = 0; i < 8; i++) {
            sr_value v = J(vals[i]);
            CHECK(sr_agg_add(&whole, &v, t[i], i, err, sizeof(err)) == 0);
            CHECK(sr_agg_add(i < 5 ? &x : &y, &v, t[i], i, err, sizeof(err)) == 0);
            CHECK(sr_agg_add(&r, &v, t[i], i, err, sizeof(err)) == 0);
            sr_value st = J(state(&r));
            sr_agg_free(&r);
            CHECK(sr_agg_read(&r, (sr_agg_kind)k, 100, &st, err, sizeof(err)) == 0);
        }
        CHECK(sr_agg_merge(&x, &y, err, sizeof(err)) == 0);
        char want[4096];
        snprintf(want, sizeof(want), "%s", result(&whole));
        sr_value got = sr_agg_result(&x, &ar), w = J(want);
        bool same = sr_value_equal(&got, &w) ||
                    (got.type == SR_DBL &&
                     fabs(got.u.d - sr_num_double(&w)) <= 1e-12 * fabs(sr_num_double(&w)));
        CHECK(same);
        if (!same) fprintf(stderr, "  %s merged: %s, whole: %s\n", sr_agg_name(k), text(got), want);
        CHECK_STR(result(&r), want);
        CHECK_STR(state(&r), state(&whole));
        sr_agg_kind parsed;
        CHECK(sr_agg_kind_parse(sr_agg_name(k), strlen(sr_agg_name(k)), &parsed) == 0 &&
              parsed == (sr_agg_kind)k);
        sr_agg_free(&whole);
        sr_agg_free(&x);
        sr_agg_free(&y);
        sr_agg_free(&r);
    }
    sr_agg_kind parsed;
    CHECK(sr_agg_kind_parse("median", 6, &parsed) == -1);
}

static void test_heap_bytes(void)
{
    sr_agg a;
    sr_agg_init(&a, SR_AGG_SUM, 0);
    add_all(&a, (const char *[]){"1", "2"}, (int64_t[]){1, 2}, 2, 0);
    CHECK(sr_agg_heap_bytes(&a) == 0);
    sr_agg_free(&a);
    sr_agg_init(&a, SR_AGG_COLLECT, 100);
    CHECK(sr_agg_heap_bytes(&a) == 0);
    add_all(&a, (const char *[]){"\"abcdefghijklmnopq\""}, (int64_t[]){1}, 1, 0);
    size_t one = sr_agg_heap_bytes(&a);
    CHECK(one >= sizeof(sr_tval) + 17);
    add_all(&a, (const char *[]){"[1,2,3]"}, (int64_t[]){2}, 1, 1);
    CHECK(sr_agg_heap_bytes(&a) >= one + 3 * sizeof(sr_value));
    sr_agg_free(&a);
    CHECK(sr_agg_heap_bytes(&a) == 0);
}

static void test_malformed_state(void)
{
    const char *bad[] = {"[]", "{}", "{\"n\":-1}", "{\"n\":1.5}"};
    for (int k = SR_AGG_COUNT; k <= SR_AGG_DELTA; k++)
        for (int i = 0; i < 4; i++) {
            sr_agg a;
            sr_value st = J(bad[i]);
            CHECK(sr_agg_read(&a, (sr_agg_kind)k, 10, &st, err, sizeof(err)) == -1);
        }
    sr_agg a;
    sr_value st = J("{\"n\":2,\"i\":\"x\"}");
    CHECK(sr_agg_read(&a, SR_AGG_SUM, 0, &st, err, sizeof(err)) == -1);
    CHECK_STR(err, "sum: malformed state");
    st = J("{\"n\":1,\"v\":[[5,1,\"a\"],[5,0,\"b\"]]}");
    CHECK(sr_agg_read(&a, SR_AGG_COLLECT, 10, &st, err, sizeof(err)) == -1);
}

static void test_bucket(void)
{
    int64_t b = -1;
    sr_value lo = sr_int(0), hi = sr_int(10);
    struct {
        const char *x;
        int64_t want;
    } cases[] = {{"0", 0},     {"0.999", 0}, {"1", 1},      {"9.999", 9}, {"10", 9},
                 {"1e300", 9}, {"-1", 0},    {"-1e300", 0}, {"5", 5}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sr_value x = J(cases[i].x);
        CHECK(sr_bucket(&x, &lo, &hi, 10, &b, err, sizeof(err)) == 0 && b == cases[i].want);
    }
    /* exact edges: 29 of [0, 100) in 100 buckets is bucket 29, not 28 */
    sr_value x = sr_int(29), h100 = sr_int(100);
    CHECK(sr_bucket(&x, &lo, &h100, 100, &b, err, sizeof(err)) == 0 && b == 29);
    x = J("0.3");
    sr_value l1 = sr_dbl(0.1), h1 = sr_dbl(0.5);
    CHECK(sr_bucket(&x, &l1, &h1, 4, &b, err, sizeof(err)) == 0 && (b == 1 || b == 2));
    /* extreme ranges do not overflow into NaN */
    sr_value lmin = sr_dbl(-1.7e308), hmax = sr_dbl(1.7e308);
    x = sr_dbl(0);
    CHECK(sr_bucket(&x, &lmin, &hmax, 2, &b, err, sizeof(err)) == 0 && b == 1);
    CHECK(sr_bucket(&x, &lo, &hi, 0, &b, err, sizeof(err)) == -1);
    CHECK_STR(err, "bucket: the number of buckets must be at least 1");
    CHECK(sr_bucket(&x, &hi, &lo, 3, &b, err, sizeof(err)) == -1);
    CHECK_STR(err, "bucket: hi must be greater than lo");
    x = J("\"5\"");
    CHECK(sr_bucket(&x, &lo, &hi, 3, &b, err, sizeof(err)) == -1);
    CHECK_STR(err, "bucket: the value must be a number, not string");
    x = sr_dbl(NAN);
    CHECK(sr_bucket(&x, &lo, &hi, 3, &b, err, sizeof(err)) == -1);
    x = sr_int(1);
    sr_value inf = sr_dbl(INFINITY);
    CHECK(sr_bucket(&x, &lo, &inf, 3, &b, err, sizeof(err)) == -1);
    CHECK_STR(err, "bucket: hi must be a finite number");
}

int main(void)
{
    sr_arena_init(&ar, 1 << 16);
    test_count_sum_mean();
    test_min_max();
    test_first_last();
    test_stddev();
    test_collect();
    test_check_held();
    test_merge();
    test_merge_panes();
    test_integral();
    test_delta();
    test_merge_and_restore_all_kinds();
    test_heap_bytes();
    test_malformed_state();
    test_bucket();
    sr_arena_free(&ar);
    return TEST_END();
}
