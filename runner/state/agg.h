/* agg.h — aggregates as accumulators: add, merge, result, and their state as compact JSON. */
#ifndef SR_AGG_H
#define SR_AGG_H

#include "base/arena.h"
#include "base/value.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Semantics (the README's "Windows and aggregates (semantics)" states the same):
 *
 * Every value is added with its event time t (ms) and an arrival number seq (the caller's
 * counter, e.g. the partition offset: it must grow with arrival order and be unique within a
 * key). The pair (t, seq) orders values "by event time, ties by arrival order".
 * Null and missing values are skipped by every aggregate (count counts the values that are
 * neither; an operator counting records passes the record itself).
 *
 *   count     number of values added: an integer.
 *   sum       integers stay exact integers (int64; a sum leaving int64 refuses the value with
 *             "integer overflow"); once a float is added the sum is a float (compensated,
 *             Neumaier). No values: 0.
 *   mean      sum / count, always a float. No values: null.
 *   min, max  numbers, or strings (compared bytewise, UTF-8); one accumulator holds one kind
 *             (a string after numbers is refused). On a tie the value that arrived first
 *             stays. No values: null.
 *   first     the value with the smallest (t, seq); last: the largest. Any JSON value.
 *   stddev    sample standard deviation (divisor n - 1), as pandas' default std() and Python's
 *             statistics.stdev; Welford's algorithm (merged with Chan's formula). Fewer than
 *             two values: null. A float.
 *   collect   the values in (t, seq) order, at most `limit` of them (as Quix Streams, which
 *             orders its collections by timestamp). A value past the limit is refused with
 *             "collect: the limit of N values is reached" and not kept; nothing is dropped
 *             silently. No values: [].
 *   merge     values must be objects; the result has every field seen, each with its value
 *             from the object with the largest (t, seq) that has the field (the tutorial's
 *             {**window, **row} when records arrive in event-time order). Fields appear in the
 *             order first seen. No values: {}.
 *   integral  the area under the piecewise-linear curve through the points (t, x) sorted by
 *             (t, seq), by the trapezoid rule, in value x seconds (t is in ms: the area of a
 *             segment is (x1 + x2) / 2 * (t2 - t1) / 1000). A point that sorts before the first
 *             or after the last point is added; one that would fall between two points
 *             already integrated is refused ("integral: out-of-order point ...") because the
 *             area is kept, not the points. A float; one point: 0.0; no points: null.
 *   delta     last - first (by (t, seq)); both integers: an exact integer (a difference
 *             leaving int64 is a float); else a float. One value: 0; no values: null.
 *
 * Add and merge are all-or-nothing: when they refuse (returning -1 and the reason), the
 * accumulator is unchanged and the caller dead-letters the record that caused it. A caller
 * with several aggregates per window calls sr_agg_check() on each first, so that a record is
 * either in all of them or in none. Numeric aggregates (sum, mean, stddev, integral, delta)
 * refuse a value that is not a number with "<agg>: expected a number, not <type>".
 *
 * State: sr_agg_write() writes the accumulator's whole state as compact JSON (what goes to a
 * changelog: the new state, not the operation, so a restore is idempotent), sr_agg_read()
 * rebuilds an identical accumulator; floats are written in the shortest form that reads back
 * the same double, so a round trip gives bit-identical results.
 */

typedef enum {
    SR_AGG_COUNT,
    SR_AGG_SUM,
    SR_AGG_MEAN,
    SR_AGG_MIN,
    SR_AGG_MAX,
    SR_AGG_FIRST,
    SR_AGG_LAST,
    SR_AGG_STDDEV,
    SR_AGG_COLLECT,
    SR_AGG_MERGE,
    SR_AGG_INTEGRAL,
    SR_AGG_DELTA,
} sr_agg_kind;

/* The name of a kind ("count", "sum", ...), and the kind named s[0..n): 0, or -1. */
const char *sr_agg_name(sr_agg_kind k);
int sr_agg_kind_parse(const char *s, size_t n, sr_agg_kind *out);

/* A value with its own memory (one malloc block, or none for scalars). Private. */
typedef struct sr_owned {
    sr_value v;
    void *mem;
} sr_owned;

/* A timed value: the value with its (t, seq). Private. */
typedef struct sr_tval {
    sr_owned o;
    int64_t t, seq;
} sr_tval;

/* A merge field. Private. */
typedef struct sr_agg_field {
    char *key;
    uint32_t klen;
    uint32_t at; /* the field's place in the value that first brought it, */
    sr_tval tv;
    int64_t first; /* and that value's arrival number */
} sr_agg_field;

#define SR_MERGE_INDEX 64 /* slots of a merge accumulator's index of its fields (a power of 2) */

/* An accumulator. Its fields are private to agg.c; it owns heap memory (strings, collected
 * values, fields) released by sr_agg_free(). Not thread-safe: one task owns it. */
typedef struct sr_agg {
    sr_agg_kind kind;
    uint32_t limit; /* collect: the most values kept */
    int64_t n;      /* values added */
    union {
        struct {
            int64_t i;   /* the sum of the integers */
            double d, c; /* the sum of the floats and its compensation */
            bool dbl;    /* a float was added */
        } sum;           /* sum and mean */
        struct {
            double mean, m2; /* Welford */
        } w;
        sr_owned mm; /* min and max */
        sr_tval fl;  /* first and last */
        struct {
            sr_tval *v;
            uint32_t len, cap;
        } col; /* collect, in (t, seq) order */
        struct {
            sr_agg_field *f;
            uint32_t len, cap;
            uint32_t hint;                 /* where the next field is looked for first */
            uint8_t index[SR_MERGE_INDEX]; /* 1 + a field whose name hashes there, 0: none */
        } mrg;                             /* merge */
        struct sr_agg_span {
            double x0, x1, area, c;
            int64_t t0, s0, t1, s1;
        } in; /* integral: the first and last points and the area */
        struct {
            sr_tval first, last;
        } dl; /* delta */
    } u;
} sr_agg;

/* An empty accumulator of kind k; limit is the collect limit (>= 1; ignored by the others). */
void sr_agg_init(sr_agg *a, sr_agg_kind k, uint32_t limit);
/* Releases what a owns; a can be initialised again. */
void sr_agg_free(sr_agg *a);

/* 0 when sr_agg_add(a, x, t, seq) would succeed, else -1 with the reason in err (a is never
 * changed). x is borrowed. */
int sr_agg_check(const sr_agg *a, const sr_value *x, int64_t t, int64_t seq, char *err,
                 size_t errsize);
/* True when sr_agg_check's answer for kind k depends only on the value, never on what the
 * accumulator holds (count, first, last, merge, delta): one check stands for every accumulator. */
bool sr_agg_check_stateless(sr_agg_kind k);
/* True for the kinds whose sr_agg_merge of partial accumulators gives, bit for bit, what one
 * accumulator given all their values gives (merge after sr_agg_order_fields), and whose check
 * depends on nothing but the value and the number of values held (sr_agg_check_held): the
 * stateless ones and collect. A window of them can be combined from its panes. */
bool sr_agg_paned(sr_agg_kind k);
/* The number of values a collect accumulator holds; other kinds: 0. */
uint32_t sr_agg_held(const sr_agg *a);
/* sr_agg_check of x for an accumulator of a's kind and limit made of partial ones that hold
 * `held` values in all (sr_agg_held summed); a is empty and of a kind sr_agg_paned accepts. */
int sr_agg_check_held(const sr_agg *a, uint32_t held, const sr_value *x, int64_t t, int64_t seq,
                      char *err, size_t errsize);
/* Adds x (borrowed: what a keeps is copied) at event time t with arrival number seq.
 * Returns 0, or -1 with the reason in err and a unchanged. */
int sr_agg_add(sr_agg *a, const sr_value *x, int64_t t, int64_t seq, char *err, size_t errsize);
/* sr_agg_add of a value sr_agg_check has just accepted for a (not checked again). */
void sr_agg_add_checked(sr_agg *a, const sr_value *x, int64_t t, int64_t seq);
/* Folds from into into (same kind; from is not changed): the result is that of one
 * accumulator given the values of both. Returns 0, or -1 with the reason and into unchanged
 * (integer overflow, collect past its limit, integrals whose spans overlap). */
int sr_agg_merge(sr_agg *into, const sr_agg *from, char *err, size_t errsize);
/* Merge: puts the fields in the order they were first seen (by the arrival number of the value
 * that first brought each), which is their order when the accumulator was given the values one
 * by one; after sr_agg_merge of partial accumulators (panes of one window), whose fields come in
 * the order of the merges. Other kinds: nothing. */
void sr_agg_order_fields(sr_agg *a);
/* The aggregate's value, allocated in ar (nothing borrowed from a). */
sr_value sr_agg_result(const sr_agg *a, sr_arena *ar);

/* Heap bytes a owns beyond sizeof(sr_agg) (copied strings and values, collected values,
 * merge fields), for a store's memory budget. */
size_t sr_agg_heap_bytes(const sr_agg *a);

/* Appends the state of a as compact JSON to b. */
void sr_agg_write(const sr_agg *a, sr_buf *b);
/* Rebuilds in *a (initialised here with kind k and limit) the state that sr_agg_write wrote
 * (state is borrowed). Returns 0, or -1 with the reason and *a empty. */
int sr_agg_read(sr_agg *a, sr_agg_kind k, uint32_t limit, const sr_value *state, char *err,
                size_t errsize);

/* bucket(x, lo, hi, n): the index 0..n-1 of the uniform bucket of [lo, hi) that holds x;
 * bucket i is [lo + i * (hi - lo) / n, lo + (i + 1) * (hi - lo) / n). Values outside are
 * clamped: x < lo gives 0, x >= hi gives n - 1. Returns 0 and the index in *out, or -1 with
 * the reason when x, lo or hi is not a number or NaN, n < 1, or hi <= lo. */
int sr_bucket(const sr_value *x, const sr_value *lo, const sr_value *hi, int64_t n, int64_t *out,
              char *err, size_t errsize);
/* The same over doubles (the arithmetic shared with the expression function bucket()). */
int64_t sr_bucket_index(double x, double lo, double hi, int64_t n);

#endif
