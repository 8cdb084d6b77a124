/* stateful.h — what the stateful operators (aggregate, window) share: aggregate specifications
 * ("mean(x)"), their accumulators kept as bytes in a state store, record keys as store keys,
 * event time, and store names. Operators only: they see tasks through load/operator.h. */
#ifndef SR_STATEFUL_H
#define SR_STATEFUL_H

#include "load/expr.h"
#include "load/topology.h"
#include "state/agg.h"
#include "state/store.h"

/* One aggregate of a step: `name: kind(arg)`. */
typedef struct sr_aggspec {
    char *name; /* the output field ("value" for a lone unnamed aggregate) */
    size_t nlen;
    sr_agg_kind kind;
    sr_expr *arg;   /* NULL: count() counts the records, merge() merges them */
    uint32_t limit; /* collect(x, N): N (default SR_COLLECT_DEFAULT) */
} sr_aggspec;

typedef struct sr_aggspecs {
    sr_aggspec *v;
    int n;
} sr_aggspecs;

#define SR_COLLECT_DEFAULT 1000
#define SR_COLLECT_MAX     1000000

/* Parses param (a step's `aggregate:` or `fields:` setting, as written): one aggregate such as
 * "mean(x)" (its field is `value`), or a mapping of field names to aggregates. Arguments are
 * expressions over the fields known at ck->schema. Reports every problem at its place (an
 * unknown aggregate with the closest name, a wrong number of arguments, a collect limit that
 * is not a whole number from 1 to 1,000,000); returns 0 or -1. */
int sr_aggspecs_parse(sr_aggspecs *out, const sr_ynode *n, sr_check *ck, const char *what);
void sr_aggspecs_free(sr_aggspecs *s);
/* Puts each aggregate's output field into sc with the static type of its result (count, sum,
 * mean, stddev, integral, delta: number; collect: array of its argument's type; merge: object;
 * min, max, first, last: their argument's type, or unknown). */
void sr_aggspecs_schema(const sr_aggspecs *s, sr_schema *sc);
/* Appends the aggregates of s as state_format hooks describe them: each field's name, kind,
 * argument and limit. */
void sr_aggspecs_format(const sr_aggspecs *s, sr_buf *b);

/* Evaluates every argument for r into vals[0..s->n) (a missing value becomes null, which every
 * aggregate skips; count() gets a non-null marker, merge() the record's value). Returns 0, or -1
 * with the reason set. */
int sr_aggspecs_eval(const sr_aggspecs *s, sr_task *t, const sr_op *op, const sr_record *r,
                     sr_value *vals);

/* accs[0..s->n) from a state as sr_aggs_save wrote it (val NULL: empty accumulators). Returns
 * 0, or -1 with a reason (accs are then empty, and freed by sr_aggs_free as always). */
int sr_aggs_load(const sr_aggspecs *s, sr_agg *accs, const void *val, size_t vlen, sr_arena *ar,
                 char *err, size_t errsize);
/* 0 when sr_aggs_add(s, accs, vals, t, seq) would succeed, else -1 with its reason; accs are
 * not changed. */
int sr_aggs_check(const sr_aggspecs *s, const sr_agg *accs, const sr_value *vals, int64_t t,
                  int64_t seq, char *err, size_t errsize);
/* sr_aggs_check for a window made of panes that hold held[i] values of aggregate i in all
 * (sr_agg_held summed; see sr_agg_check_held); empty are empty accumulators. */
int sr_aggs_check_held(const sr_aggspecs *s, const sr_agg *empty, const uint32_t *held,
                       const sr_value *vals, int64_t t, int64_t seq, char *err, size_t errsize);
/* Adds vals to every accumulator, all or none: returns 0, or -1 with the reason (the first
 * aggregate that refuses, prefixed with its field name) and accs unchanged. */
int sr_aggs_add(const sr_aggspecs *s, sr_agg *accs, const sr_value *vals, int64_t t, int64_t seq,
                char *err, size_t errsize);
/* sr_aggs_add of values sr_aggs_check has just accepted for accs (not checked again). */
void sr_aggs_add_checked(const sr_aggspecs *s, sr_agg *accs, const sr_value *vals, int64_t t,
                         int64_t seq);
/* Writes the state of accs (a JSON array of each accumulator's sr_agg_write state) to b. */
void sr_aggs_save(const sr_aggspecs *s, const sr_agg *accs, sr_buf *b);
/* Appends each aggregate's result to obj, in spec order. */
void sr_aggs_results(const sr_aggspecs *s, const sr_agg *accs, sr_arena *ar, sr_value *obj);
void sr_aggs_free(const sr_aggspecs *s, sr_agg *accs);

/* Appends a record key as store-key bytes: a tag byte (0: no key, 1: a key) and its bytes. */
void sr_key_put(sr_buf *b, const sr_value *key);
/* Reads the key sr_key_put wrote at p[0..n) into *key (borrowing p). */
void sr_key_get(const char *p, size_t n, sr_value *key);

/* At load time: reports (at op's `time:` setting) an event-time expression whose type is known
 * not to be a number. Returns 0, or -1 after the error. expr NULL: the record's timestamp, 0. */
int sr_event_time_check(const sr_op *op, const sr_expr *expr, sr_check *ck);

/* Event time of r in ms: r's timestamp when expr is NULL, else expr's value in unit (0 s, 1 ms,
 * 2 us, 3 ns), an integer converted exactly (floor(value / 10^6) for ns). Returns 0, or -1 with
 * the reason set (not a number, negative, out of range). */
int sr_event_time(sr_task *t, const sr_op *op, const sr_expr *expr, int unit, const sr_record *r,
                  int64_t *ms);

/* A new empty store for op's task t, accounted to the process's state budget (sr_state_budget)
 * and registered with t (sr_task_add_store), from an open() hook, which cannot fail: the empty
 * store is made even past the budget (its first change then fails, naming it, and the record is
 * dead-lettered); the process stops with a message only when memory is out. */
sr_store *sr_state_store_open(sr_task *t, const sr_op *op, const char *name);

/* What a step keeps beside its store (its stream time, its arrival counter), saved at a
 * checkpoint under a key of the step's choosing that no record's key can take, and read back
 * after a restore. sr_state_meta_put writes even past the memory budget (a few bytes per store,
 * so that a commit never fails for the budget); it returns 0, or -1 with sr_task_fail() when
 * memory is out;
 * sr_state_meta_get returns false when the store has no such key (then *a and *b are left). */
int sr_state_meta_put(sr_task *t, const sr_op *op, sr_store *st, const char *key, size_t klen,
                      int64_t a, int64_t b);
bool sr_state_meta_get(const sr_store *st, const char *key, size_t klen, int64_t *a, int64_t *b);

/* The store name of a stateful step: name when set, else "<operator>-<step>" (the step
 * number, never the operator's parameters). Checks that no other stateful step of a deployment
 * in the same consumer group has it (their changelogs would be one topic): an error at m.
 * Returns the name (malloc'd) or NULL after an error. */
char *sr_store_name_claim(const sr_op *op, sr_check *ck, const char *name, sr_mark m);

/* The mark of setting key in op's settings mapping, else op's own mark. */
sr_mark sr_setting_mark(const sr_op *op, const char *key);

#endif
