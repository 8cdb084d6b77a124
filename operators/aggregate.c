/* aggregate.c — running aggregates per record key, with no window: each record leaves with the
 * aggregates of its key so far (itself included) set as fields. */
#include "stateful.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct aggregate {
    const sr_ynode *fields; /* as written; parsed by check() into aggs */
    sr_expr *time;          /* event time; NULL: the record's timestamp */
    int unit;
    char *store; /* as written, or NULL */
    sr_aggspecs aggs;
    char *store_name; /* store, or the default */
};

/* Per task: the key's accumulators, as sr_aggs_save writes them, under the key's bytes. */
struct aggregate_state {
    sr_store *store;
    int64_t seq; /* arrival number of the records this task has aggregated */
    sr_buf key, val;
};

static const sr_param aggregate_params[] = {
    {SR_P_AGGS, "fields", NULL, offsetof(struct aggregate, fields),
     "field name: aggregate (count, sum, mean, min, max, first, last, stddev, collect, merge, "
     "integral, delta) over an expression; each record leaves with these fields set to its key's "
     "aggregates so far, itself included",
     SR_PF_REQUIRED},
    {SR_P_EXPR, "time", NULL, offsetof(struct aggregate, time),
     "event time as a number since the Unix epoch (default: the record's timestamp), by which "
     "first, last, collect, merge, integral and delta order the values"},
    {SR_P_ENUM, "unit", "ms", offsetof(struct aggregate, unit),
     "unit of time: an integer is converted exactly (ns: floor(time / 10^6))", 0, "s|ms|us|ns"},
    {SR_P_STR, "store", NULL, offsetof(struct aggregate, store),
     "name of the step's state store (default aggregate-STEP, STEP its number in the pipeline); "
     "unique within the consumer group, and kept when the pipeline changes so that its state "
     "stays its own"},
    {0}};

static int aggregate_check(sr_op *op, void *conf, sr_check *ck)
{
    struct aggregate *a = conf;
    int rc = sr_aggspecs_parse(&a->aggs, a->fields, ck, op->label);
    if (sr_event_time_check(op, a->time, ck) != 0) rc = -1;
    a->store_name = sr_store_name_claim(op, ck, a->store, sr_setting_mark(op, "store"));
    if (!a->store_name) rc = -1;
    sr_aggspecs_schema(&a->aggs, &ck->schema);
    return rc;
}

static const char *aggregate_store_name(const sr_op *op)
{
    const struct aggregate *a = op->conf;
    return a->store_name;
}

static void aggregate_open(sr_task *t, const sr_op *op, void *state)
{
    const struct aggregate *a = op->conf;
    struct aggregate_state *st = state;
    st->store = sr_state_store_open(t, op, a->store_name);
}

/* The arrival counter, under a key no record key takes (sr_key_put's tags are 0 and 1). */
static const char meta_key[] = {2};

static int aggregate_checkpoint(sr_task *t, const sr_op *op, void *state)
{
    struct aggregate_state *st = state;
    return sr_state_meta_put(t, op, st->store, meta_key, sizeof(meta_key), st->seq, 0);
}

/* After a restore the arrival counter goes on from where it was, so that first() and last()
 * still order the records of one event time by arrival. */
static void aggregate_restored(sr_task *t, const sr_op *op, void *state)
{
    struct aggregate_state *st = state;
    int64_t unused;
    sr_state_meta_get(st->store, meta_key, sizeof(meta_key), &st->seq, &unused);
    (void)t, (void)op;
}

static void aggregate_close(sr_task *t, const sr_op *op, void *state)
{
    struct aggregate_state *st = state;
    sr_store_destroy(st->store);
    sr_buf_free(&st->key);
    sr_buf_free(&st->val);
    (void)t, (void)op;
}

static int aggregate_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct aggregate *a = op->conf;
    struct aggregate_state *st = sr_op_state(t, op);
    sr_arena *ar = sr_task_arena(t);
    if (sr_need_object(t, op, r)) return -1;
    int64_t et;
    if (sr_event_time(t, op, a->time, a->unit, r, &et)) return -1;
    sr_value *vals = sr_arena_alloc(ar, sizeof(sr_value) * (size_t)a->aggs.n);
    if (sr_aggspecs_eval(&a->aggs, t, op, r, vals)) return -1;
    st->key.len = 0;
    sr_key_put(&st->key, &r->key);
    size_t vlen;
    const void *old = sr_store_get(st->store, st->key.d, st->key.len, &vlen);
    sr_agg *accs = sr_arena_alloc(ar, sizeof(sr_agg) * (size_t)a->aggs.n);
    char err[512];
    int rc = sr_aggs_load(&a->aggs, accs, old, vlen, ar, err, sizeof(err));
    if (rc == 0) rc = sr_aggs_add(&a->aggs, accs, vals, et, st->seq, err, sizeof(err));
    if (rc == 0) {
        st->val.len = 0;
        sr_aggs_save(&a->aggs, accs, &st->val);
        sr_aggs_results(&a->aggs, accs, ar, &r->value);
    }
    sr_aggs_free(&a->aggs, accs);
    if (rc != 0) return sr_task_fail(t, op, "%s", err);
    st->seq++;
    /* the state changes only when everything this record made got through */
    if (sr_emit(t, op, r) != 0) return -1;
    if (sr_store_put(st->store, st->key.d, st->key.len, st->val.d, st->val.len, err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    return 0;
}

/* What its stored accumulators mean: the aggregates. */
static void aggregate_state_format(const sr_op *op, sr_buf *b)
{
    const struct aggregate *a = op->conf;
    sr_aggspecs_format(&a->aggs, b);
}

static void aggregate_destroy(void *conf)
{
    struct aggregate *a = conf;
    sr_aggspecs_free(&a->aggs);
    free(a->store_name);
}

const sr_operator_type sr_op_aggregate = {
    .name = "aggregate",
    .summary = "running aggregates per record key, with no window: each record leaves with its "
               "key's aggregates so far set as fields",
    .example = "- aggregate: {odometer: sum(`accelerometer-total`), readings: count()}",
    .params = aggregate_params,
    .primary = "fields",
    .conf_size = sizeof(struct aggregate),
    .state_size = sizeof(struct aggregate_state),
    .check = aggregate_check,
    .open = aggregate_open,
    .process = aggregate_process,
    .close = aggregate_close,
    .checkpoint = aggregate_checkpoint,
    .restored = aggregate_restored,
    .state_format = aggregate_state_format,
    .destroy = aggregate_destroy,
    .store_name = aggregate_store_name,
};
