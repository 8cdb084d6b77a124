/* dedupe.c — passes the first record of each value of an expression within an event-time
 * horizon, and filters the repeats. */
#include "stateful.h"
#include "state/window.h"

#include <stdlib.h>
#include <string.h>

struct dedupe {
    sr_expr *by;
    int64_t within;
    sr_expr *time;
    int unit;
    char *store;
    char *store_name; /* made by check() */
};

/* Per task: the JSON text of each value seen -> the event time it was first seen (8 bytes).
 * Entries older than stream time - 2 * within (too old to matter for a record that is not late)
 * are swept each time stream time has moved on by within. */
struct dedupe_state {
    sr_store *store;
    int64_t stream;     /* the largest event time seen, or -1 */
    int64_t next_sweep; /* stream time at which to sweep next */
    sr_buf key;
};

static const sr_param dedupe_params[] = {
    {SR_P_EXPR, "by", NULL, offsetof(struct dedupe, by),
     "what makes two records the same (compared as JSON), such as an id field or $key",
     SR_PF_REQUIRED},
    {SR_P_DURATION, "within", NULL, offsetof(struct dedupe, within),
     "a repeat less than this after the first (in event time) is filtered", SR_PF_REQUIRED},
    {SR_P_EXPR, "time", NULL, offsetof(struct dedupe, time),
     "event time as a number since the Unix epoch (default: the record's timestamp)"},
    {SR_P_ENUM, "unit", "ms", offsetof(struct dedupe, unit),
     "unit of time: an integer is converted exactly (ns: floor(time / 10^6))", 0, "s|ms|us|ns"},
    {SR_P_STR, "store", NULL, offsetof(struct dedupe, store),
     "name of the step's state store (default dedupe-STEP); unique within the consumer group"},
    {0}};

static int dedupe_check(sr_op *op, void *conf, sr_check *ck)
{
    struct dedupe *d = conf;
    int rc = 0;
    if (d->within < 1) {
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, sr_setting_mark(op, "within"),
                "%s: 'within' must be at least 1ms", op->label);
        rc = -1;
    }
    if (sr_event_time_check(op, d->time, ck) != 0) rc = -1;
    d->store_name = sr_store_name_claim(op, ck, d->store, sr_setting_mark(op, "store"));
    return d->store_name ? rc : -1;
}

static const char *dedupe_store_name(const sr_op *op)
{
    const struct dedupe *d = op->conf;
    return d->store_name;
}

static void dedupe_open(sr_task *t, const sr_op *op, void *state)
{
    const struct dedupe *d = op->conf;
    struct dedupe_state *st = state;
    st->store = sr_state_store_open(t, op, d->store_name);
    st->stream = -1;
}

/* Stream time, under the empty key (no JSON text is empty). */
static int dedupe_checkpoint(sr_task *t, const sr_op *op, void *state)
{
    struct dedupe_state *st = state;
    return sr_state_meta_put(t, op, st->store, "", 0, st->stream, 0);
}

/* After a restore stream time goes on from where it was (what is late stays late); the next
 * record sweeps. */
static void dedupe_restored(sr_task *t, const sr_op *op, void *state)
{
    struct dedupe_state *st = state;
    int64_t unused;
    sr_state_meta_get(st->store, "", 0, &st->stream, &unused);
    st->next_sweep = 0;
    (void)t, (void)op;
}

static void dedupe_close(sr_task *t, const sr_op *op, void *state)
{
    struct dedupe_state *st = state;
    sr_store_destroy(st->store);
    sr_buf_free(&st->key);
    (void)t, (void)op;
}

static int64_t get_time(const void *val)
{
    int64_t v;
    memcpy(&v, val, sizeof(v));
    return v;
}

struct sweep {
    struct dedupe_state *st;
    int64_t before; /* entries first seen before this go */
    char err[256];
};

static int sweep_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct sweep *s = ud;
    (void)vlen;
    if (klen == 0 || get_time(val) >= s->before) return 0; /* the empty key: stream time */
    return sr_store_delete(s->st->store, key, klen, s->err, sizeof(s->err)) < 0;
}

static int dedupe_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct dedupe *d = op->conf;
    struct dedupe_state *st = sr_op_state(t, op);
    int64_t et;
    if (sr_event_time(t, op, d->time, d->unit, r, &et)) return -1;
    st->stream = sr_stream_time_advance(st->stream, et);
    int64_t horizon = st->stream - d->within; /* what is older cannot be compared any more */
    if (st->stream >= st->next_sweep) {
        /* a record after horizon is compared with values first seen after horizon - within:
         * older ones go */
        int64_t before;
        if (__builtin_sub_overflow(horizon, d->within, &before)) before = INT64_MIN;
        struct sweep s = {.st = st, .before = before};
        if (sr_store_foreach(st->store, sweep_one, &s)) return sr_task_fail(t, op, "%s", s.err);
        st->next_sweep = st->stream + d->within;
    }
    if (et <= horizon)
        return sr_task_fail(t, op,
                            "late: the record's event time %lld is %lld ms or more before stream "
                            "time %lld, beyond what dedupe remembers (within %lld ms)",
                            (long long)et, (long long)d->within, (long long)st->stream,
                            (long long)d->within);
    sr_value v;
    if (sr_expr_eval(d->by, t, op, r, &v)) return -1;
    if (v.type == SR_MISSING) v = sr_null();
    st->key.len = 0;
    if (sr_json_write(&st->key, &v) != 0)
        return sr_task_fail(t, op, "'%s' holds NaN or infinity", sr_expr_text(d->by));
    size_t vlen;
    const void *seen = sr_store_get(st->store, st->key.d, st->key.len, &vlen);
    if (seen) {
        int64_t first = get_time(seen);
        if (et - first < d->within && first - et < d->within) return 0; /* a repeat: filtered */
    }
    if (sr_emit(t, op, r) != 0) return -1;
    char err[256];
    if (sr_store_put(st->store, st->key.d, st->key.len, &et, sizeof(et), err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    return 0;
}

/* What its store's keys are: the values of `by`, as JSON text. */
static void dedupe_state_format(const sr_op *op, sr_buf *b)
{
    const struct dedupe *d = op->conf;
    sr_buf_printf(b, "by=%s", sr_expr_text(d->by));
}

static void dedupe_destroy(void *conf)
{
    struct dedupe *d = conf;
    free(d->store_name);
}

const sr_operator_type sr_op_dedupe = {
    .name = "dedupe",
    .summary = "pass the first record of each value of an expression, and filter its repeats "
               "within a time horizon (per partition)",
    .example = "- dedupe: {by: messageId, within: 10m}",
    .params = dedupe_params,
    .primary = "by",
    .conf_size = sizeof(struct dedupe),
    .state_size = sizeof(struct dedupe_state),
    .check = dedupe_check,
    .open = dedupe_open,
    .process = dedupe_process,
    .close = dedupe_close,
    .checkpoint = dedupe_checkpoint,
    .restored = dedupe_restored,
    .state_format = dedupe_state_format,
    .destroy = dedupe_destroy,
    .store_name = dedupe_store_name,
};
