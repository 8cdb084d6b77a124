/* join.c — joins a deployment's input topics on the record key: the latest value of each input
 * per key, emitted when the required ones are present (multi-way, table–table), or the records of
 * two inputs whose event times are within an interval of each other (stream–stream). */
#include "stateful.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS 255    /* an input's index is one byte of its store keys */
#define META_KEY   "\xff" /* the step's stream time: no input has this index */

struct join {
    sr_strmap inputs; /* output field -> input topic */
    sr_strv require;
    int64_t within;
    int64_t grace;
    int unmatched; /* 0: count, 1: dead-letter */
    bool flush;    /* run, test: at the end of input every kept record leaves */
    char *store;
    /* made by check() */
    char *store_name;
    bool interval;       /* within: given */
    int64_t late;        /* interval: within + grace, how far behind stream time a record may be */
    int64_t keep;        /* interval: 2 within + grace, how long past its time a record is kept */
    int n;               /* inputs */
    const char **topics; /* per input: its topic's name (the topology's) */
    size_t *flen;        /* per input: strlen of its field name */
    bool *required;      /* per input */
    char reason[96];     /* an unmatched record's dead-letter reason */
    /* interval: records that left unmatched, over every task of the process: shared, hence
     * atomic (relaxed: a count for the summary, it guards nothing) */
    atomic_uint_least64_t *nunmatched;
};

/* Per task. Store keys are an input's index (one byte) and the record key (sr_key_put).
 * Latest-by-key: the value is the input's latest value for the key, as JSON text.
 * Interval: the value is that input's buffered records for the key, in arrival order, each
 * [int64 event time][uint8 matched][uint32 length][JSON text]; META_KEY holds the stream time. */
struct join_state {
    sr_store *store;
    int64_t stream;       /* interval: the latest stream time seen, or SR_TIME_NONE */
    int64_t next_at;      /* interval: when the pending expiry timer fires, INT64_MAX: none */
    sr_buf key, val, rec; /* scratch: a store key, a store value, a record's JSON */
};

static const sr_param join_params[] = {
    {SR_P_STRMAP, "inputs", NULL, offsetof(struct join, inputs),
     "output field: input topic, for two or more of the deployment's input topics; the "
     "record key is the join key",
     SR_PF_REQUIRED},
    {SR_P_FIELDS, "require", NULL, offsetof(struct join, require),
     "emit once these inputs are present for a key (default: all of them); the others are null "
     "until they come (a left join)"},
    {SR_P_DURATION, "within", NULL, offsetof(struct join, within),
     "present: an interval join of two inputs, each record joined with every record of the "
     "other whose event time differs by at most this; absent: latest value per key"},
    {SR_P_DURATION, "grace", "0s", offsetof(struct join, grace),
     "interval join: how late a record may come (how far stream time may be past its time + "
     "within) and still be joined; records are kept this much longer"},
    {SR_P_ENUM, "unmatched", "count", offsetof(struct join, unmatched),
     "interval join: a required input's record that expires without a match is counted (and "
     "dropped), or dead-lettered with reason 'no match (join step N)' ('no match (join STORE)' "
     "with store:)",
     0, "count|dead-letter"},
    {SR_P_BOOL, "flush", "false", offsetof(struct join, flush),
     "interval join, run and test: when the input ends, every record still kept leaves as at its "
     "expiry (emitted alone when its input meets require, else unmatched); by default they stay "
     "kept, as under up, where input never ends"},
    {SR_P_STR, "store", NULL, offsetof(struct join, store),
     "name of the step's state store (default join-STEP); unique within the consumer group"},
    {0}};

/* ---- checks --------------------------------------------------------------------------------- */

/* The node of the inputs mapping (the short form is the mapping itself). */
static const sr_ynode *inputs_node(const sr_op *op)
{
    const sr_ynode *s = op->settings;
    if (!s || s->kind != SR_Y_MAP) return NULL;
    const sr_ynode *in = sr_ymap_get(s, "inputs");
    return in && in->kind == SR_Y_MAP ? in : s;
}

/* Where input i's topic is written. */
static sr_mark input_mark(const sr_op *op, const struct join *j, int i)
{
    const sr_ynode *in = inputs_node(op);
    const sr_ynode *v = in ? sr_ymap_get(in, j->inputs.names[i]) : NULL;
    return v ? v->mark : op->mark;
}

static bool given(const sr_op *op, const char *key)
{
    return op->settings && op->settings->kind == SR_Y_MAP && sr_ymap_get(op->settings, key);
}

static int check_inputs(sr_op *op, struct join *j, sr_check *ck)
{
    const sr_deployment *dep = ck->dep;
    int rc = 0;
    if (j->n < 2) {
        sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, sr_setting_mark(op, "inputs"),
                "%s: a join needs two or more inputs (output field: input topic), not %d",
                op->label, j->n);
        rc = -1;
    }
    if (j->n > MAX_INPUTS) {
        sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, sr_setting_mark(op, "inputs"),
                "%s: a join takes at most %d inputs, not %d", op->label, MAX_INPUTS, j->n);
        return -1;
    }
    if (op->index != 1) {
        sr_errc(ck->dg, SR_E_STEP_ORDER, ck->file, op->mark,
                "%s: a join must be the first step of its pipeline (it tells its inputs apart by "
                "their topic and joins them on the key they were written with); to join records "
                "re-keyed or changed by other steps, write them to a topic in a deployment of "
                "their own and join that topic",
                op->label);
        rc = -1;
    }
    if (dep->source) {
        sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, op->mark,
                "%s: deployment '%s' replays a file (source), but a join joins input topics: give "
                "the deployment 'input: [TOPIC, ...]' with the join's topics",
                op->label, dep->name);
        return -1;
    }
    const sr_topic *first = NULL;
    int first_i = -1;
    for (int i = 0; i < j->n; i++) {
        const char *name = j->inputs.vals[i];
        sr_mark m = input_mark(op, j, i);
        for (int k = 0; k < i; k++)
            if (strcmp(j->inputs.vals[k], name) == 0) {
                sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, m,
                        "%s: topic '%s' is already the input of '%s': each input of a join is a "
                        "topic of its own",
                        op->label, name, j->inputs.names[k]);
                rc = -1;
            }
        const sr_topic *tp = NULL;
        for (int k = 0; k < dep->ninputs; k++)
            if (strcmp(dep->inputs[k]->name, name) == 0) tp = dep->inputs[k];
        if (!tp) {
            if (!ck->no_topics)
                sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, m,
                        "%s: '%s' is not an input of deployment '%s': a join joins the topics its "
                        "deployment reads; add it to the deployment's 'input'",
                        op->label, name, dep->name);
            rc = -1;
            continue;
        }
        j->topics[i] = tp->name;
        if (!first) {
            first = tp;
            first_i = i;
        } else if (tp->partitions != first->partitions) {
            sr_errc(ck->dg, SR_E_PARTITIONS, ck->file, m,
                    "%s: the inputs of a join must be co-partitioned, but '%s' (%s) has %d "
                    "partition%s and '%s' (%s) has %d: a key's records would be in partitions "
                    "read by different tasks. Give the topics the same partition count "
                    "('partitions:' under topics), written by producers with the same "
                    "partitioner (murmur2, the Java client's; streamrun's)",
                    op->label, name, j->inputs.names[i], tp->partitions,
                    tp->partitions == 1 ? "" : "s", first->name, j->inputs.names[first_i],
                    first->partitions);
            sr_diag_related(ck->dg, tp->file, tp->partitions_mark,
                            "'%s' has %d partition%s, declared here", tp->name, tp->partitions,
                            tp->partitions == 1 ? "" : "s");
            sr_diag_related(ck->dg, first->file, first->partitions_mark,
                            "'%s' has %d partition%s, declared here", first->name,
                            first->partitions, first->partitions == 1 ? "" : "s");
            rc = -1;
        }
    }
    for (int k = 0; k < dep->ninputs; k++) {
        bool in = false;
        for (int i = 0; i < j->n; i++) in |= strcmp(j->inputs.vals[i], dep->inputs[k]->name) == 0;
        if (!in) {
            sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, op->mark,
                    "%s: deployment '%s' reads '%s', which is not an input of the join: every "
                    "record of the deployment goes through its first step; add it to the join's "
                    "inputs or read it in another deployment",
                    op->label, dep->name, dep->inputs[k]->name);
            rc = -1;
        }
    }
    return rc;
}

static int join_check(sr_op *op, void *conf, sr_check *ck)
{
    struct join *j = conf;
    j->n = j->inputs.n;
    j->topics = sr_xcalloc((size_t)j->n + 1, sizeof(char *));
    j->flen = sr_xcalloc((size_t)j->n + 1, sizeof(size_t));
    j->required = sr_xcalloc((size_t)j->n + 1, sizeof(bool));
    j->nunmatched = sr_xcalloc(1, sizeof(*j->nunmatched));
    for (int i = 0; i < j->n; i++) j->flen[i] = strlen(j->inputs.names[i]);
    int rc = check_inputs(op, j, ck);
    if (j->require.n == 0 && !given(op, "require"))
        for (int i = 0; i < j->n; i++) j->required[i] = true;
    for (int r = 0; r < j->require.n; r++) {
        int found = -1;
        for (int i = 0; i < j->n; i++)
            if (strcmp(j->inputs.names[i], j->require.v[r]) == 0) found = i;
        if (found < 0) {
            const char *sug =
                sr_suggest(j->require.v[r], (const char *const *)j->inputs.names, j->n);
            sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, j->require.marks[r],
                    "%s: '%s' is not an input of the join%s%s%s", op->label, j->require.v[r],
                    sug ? "; did you mean '" : " (its inputs are the names under 'inputs')",
                    sug ? sug : "", sug ? "'?" : "");
            if (sug)
                sr_diag_help_rewrite(ck->dg, ck->file, j->require.marks[r], j->require.v[r], sug,
                                     "correct the input name");
            rc = -1;
            continue;
        }
        j->required[found] = true;
    }
    j->interval = given(op, "within");
    if (j->interval && j->n > 2) {
        sr_errc(ck->dg, SR_E_JOIN_INPUTS, ck->file, sr_setting_mark(op, "within"),
                "%s: an interval join (within) joins two inputs, not %d: join two of them, write "
                "the result to a topic, and join that with the next one",
                op->label, j->n);
        rc = -1;
    }
    if (j->interval && (__builtin_add_overflow(j->within, j->grace, &j->late) ||
                        __builtin_add_overflow(j->late, j->within, &j->keep))) {
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, sr_setting_mark(op, "grace"),
                "%s: within + grace is out of range", op->label);
        rc = -1;
    }
    if (!j->interval) {
        static const char *const only[] = {"grace", "unmatched", "flush"};
        for (size_t k = 0; k < sizeof(only) / sizeof(only[0]); k++)
            if (given(op, only[k])) {
                sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, only[k]),
                        "%s: '%s' applies to interval joins only (give 'within' too); a join of "
                        "the latest values emits whenever a required input changes",
                        op->label, only[k]);
                rc = -1;
            }
    }
    if (j->store)
        snprintf(j->reason, sizeof(j->reason), "no match (join %s)", j->store);
    else
        snprintf(j->reason, sizeof(j->reason), "no match (join step %d)", op->index);
    sr_schema_keep(&ck->schema, NULL, 0, "join", ck->file, op->mark);
    for (int i = 0; i < j->n; i++) { /* each input's record, of its topic's shape when declared */
        const sr_topic *tp = j->topics[i] ? sr_topology_topic(ck->topo, j->topics[i]) : NULL;
        sr_schema_put(&ck->schema, j->inputs.names[i], SR_T_OBJ, tp ? tp->shape : NULL);
    }
    j->store_name = sr_store_name_claim(op, ck, j->store, sr_setting_mark(op, "store"));
    return j->store_name ? rc : -1;
}

static const char *join_store_name(const sr_op *op)
{
    const struct join *j = op->conf;
    return j->store_name;
}

/* ---- state ------------------------------------------------------------------------------------
 */

static void join_open(sr_task *t, const sr_op *op, void *state)
{
    const struct join *j = op->conf;
    struct join_state *st = state;
    st->store = sr_state_store_open(t, op, j->store_name);
    st->stream = SR_TIME_NONE;
    st->next_at = INT64_MAX;
}

static void join_close(sr_task *t, const sr_op *op, void *state)
{
    struct join_state *st = state;
    sr_store_destroy(st->store);
    sr_buf_free(&st->key);
    sr_buf_free(&st->val);
    sr_buf_free(&st->rec);
    (void)t, (void)op;
}

/* What the store's bytes mean: the kind of join and its inputs, in order (their indexes are in
 * the keys). Not within or grace: they change what is kept, not how it reads. */
static void join_state_format(const sr_op *op, sr_buf *b)
{
    const struct join *j = op->conf;
    sr_buf_puts(b, j->interval ? "interval;" : "latest;");
    for (int i = 0; i < j->n; i++) sr_buf_printf(b, "%s=%s;", j->inputs.names[i], j->topics[i]);
}

/* Sets st->key to input i's key for record key k. */
static void make_key(struct join_state *st, int i, const sr_value *k)
{
    st->key.len = 0;
    sr_buf_putc(&st->key, (char)i);
    sr_key_put(&st->key, k);
}

/* The input r came from, or -1 after sr_task_fail. */
static int input_of(sr_task *t, const sr_op *op, const sr_record *r)
{
    const struct join *j = op->conf;
    const char *topic = sr_task_input_topic(t);
    for (int i = 0; topic && i < j->n; i++)
        if (strcmp(j->topics[i], topic) == 0) {
            if (r->key.type != SR_STR)
                return sr_task_fail(t, op,
                                    "the record has no key: a join matches the records of its "
                                    "inputs by their key (write '%s' with keys)",
                                    topic);
            return i;
        }
    return sr_task_fail(t, op, "the record comes from %s, which is not an input of the join",
                        topic ? topic : "no topic");
}

/* Parses stored JSON text into the task's arena (strings may borrow from p). */
static int parse_stored(sr_task *t, const sr_op *op, const void *p, size_t n, sr_value *out)
{
    char err[160];
    size_t pos;
    if (sr_json_parse(sr_task_arena(t), p, n, out, err, sizeof(err), &pos) == 0) return 0;
    return sr_task_fail(t, op, "the join's stored state cannot be read: %s", err);
}

/* ---- latest by key ---------------------------------------------------------------------------
 * Per key, the latest value of each input. A record puts its input's value and, when every
 * required input then has one, emits the row; a tombstone deletes its input's value and, when the
 * row was complete, emits it again with that input null, or a tombstone for the key when the
 * input was required (the row is retracted). */

/* Whether every required input has a value for key, input i counting as having one. */
static bool complete(const struct join *j, struct join_state *st, const sr_value *key, int i)
{
    for (int k = 0; k < j->n; k++) {
        if (!j->required[k] || k == i) continue;
        make_key(st, k, key);
        size_t vlen;
        if (!sr_store_get(st->store, st->key.d, st->key.len, &vlen)) return false;
    }
    return true;
}

/* Emits the row of r's key: input i's value is vi (NULL: null), the others' from the store. */
static int emit_row(sr_task *t, const sr_op *op, struct join_state *st, const sr_record *r, int i,
                    const sr_value *vi)
{
    const struct join *j = op->conf;
    sr_arena *ar = sr_task_arena(t);
    sr_record out = *r;
    out.tombstone = false; /* a row, also when r deleted an optional input's value */
    out.value = sr_obj_new(ar, (uint32_t)j->n);
    for (int k = 0; k < j->n; k++) {
        sr_value v = sr_null();
        if (k == i) {
            if (vi) v = *vi;
        } else {
            make_key(st, k, &r->key);
            size_t vlen;
            const void *p = sr_store_get(st->store, st->key.d, st->key.len, &vlen);
            if (p && parse_stored(t, op, p, vlen, &v) != 0) return -1;
        }
        sr_obj_append(ar, &out.value, j->inputs.names[k], j->flen[k], v);
    }
    return sr_emit(t, op, &out);
}

static int latest_process(sr_task *t, const sr_op *op, struct join_state *st, sr_record *r, int i)
{
    const struct join *j = op->conf;
    char err[256];
    make_key(st, i, &r->key);
    size_t vlen;
    bool had = sr_store_get(st->store, st->key.d, st->key.len, &vlen) != NULL;
    if (r->tombstone) {
        if (!had) return 0;                /* nothing to delete: nothing changes */
        if (complete(j, st, &r->key, i)) { /* the row was emitted: it changes */
            if (j->required[i]) {
                sr_record gone = *r; /* retracted: a tombstone for the key */
                gone.value = sr_null();
                gone.tombstone = true;
                if (sr_emit(t, op, &gone) != 0) return -1;
            } else if (emit_row(t, op, st, r, i, NULL) != 0) {
                return -1;
            }
        }
        make_key(st, i, &r->key);
        if (sr_store_delete(st->store, st->key.d, st->key.len, err, sizeof(err)) < 0)
            return sr_task_fail(t, op, "%s", err);
        return 0;
    }
    st->val.len = 0;
    if (sr_json_write(&st->val, &r->value) != 0)
        return sr_task_fail(t, op, "the record holds NaN or infinity: it cannot be kept");
    if (complete(j, st, &r->key, i) && emit_row(t, op, st, r, i, &r->value) != 0) return -1;
    make_key(st, i, &r->key);
    if (sr_store_put(st->store, st->key.d, st->key.len, st->val.d, st->val.len, err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    return 0;
}

/* ---- interval --------------------------------------------------------------------------------
 * A record joins every kept record of the other input whose event time is within `within` of its
 * own (both bounds included), one output per pair, at the later of the two times. A record that
 * comes when stream time is past its time + within + grace is late (the end of its interval, plus
 * grace, as for windows). So each input's records are kept per key until stream time passes their
 * event time + 2 within + grace: until then a record of the other input that is not late may
 * still be within `within` of them. A record that leaves unmatched is emitted alone (the other
 * null) when its input alone meets `require`, else counted or dead-lettered (unmatched). */

#define REC_HEAD 13 /* int64 time, uint8 matched, uint32 length */

typedef struct kept {
    int64_t ts;
    bool matched;
    const char *json;
    uint32_t len;
} kept;

/* Reads the kept record at p[*off..n) into *k and moves *off past it; false at the end or on
 * bytes that do not parse. */
static bool next_kept(const char *p, size_t n, size_t *off, kept *k)
{
    if (*off + REC_HEAD > n) return false;
    memcpy(&k->ts, p + *off, 8);
    k->matched = p[*off + 8] != 0;
    memcpy(&k->len, p + *off + 9, 4);
    if (k->len > n - *off - REC_HEAD) return false;
    k->json = p + *off + REC_HEAD;
    *off += REC_HEAD + k->len;
    return true;
}

static void put_kept(sr_buf *b, int64_t ts, bool matched, const char *json, uint32_t len)
{
    char m = matched;
    sr_buf_put(b, &ts, 8);
    sr_buf_putc(b, m);
    sr_buf_put(b, &len, 4);
    sr_buf_put(b, json, len);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t s;
    return __builtin_add_overflow(a, b, &s) ? INT64_MAX : s;
}

/* Whether a kept record of time ts is gone at stream time s: no record that is not late can join
 * it (one of time t2 >= s - within - grace joins records from t2 - within). */
static bool expired(const struct join *j, int64_t ts, int64_t s)
{
    return s != SR_TIME_NONE && sat_add(ts, j->keep) < s;
}

/* Whether a record of time ts is late at stream time s: past the end of its interval (ts +
 * within) by more than grace. */
static bool late(const struct join *j, int64_t ts, int64_t s)
{
    return s != SR_TIME_NONE && sat_add(ts, j->late) < s;
}

/* Makes the one expiry timer fire at `at` unless it fires before. */
static void want_timer(sr_task *t, const sr_op *op, struct join_state *st, int64_t at)
{
    if (at >= st->next_at) return;
    if (st->next_at != INT64_MAX) sr_timer_cancel(t, op, SR_TIMER_EVENT, 0);
    sr_timer_set(t, op, SR_TIMER_EVENT, at, 0);
    st->next_at = at;
}

static int interval_process(sr_task *t, const sr_op *op, struct join_state *st, sr_record *r, int i)
{
    const struct join *j = op->conf;
    if (r->tombstone)
        return sr_task_fail(t, op,
                            "the record has no value (a tombstone: its value is null), and an "
                            "interval join joins records, not deletions");
    int64_t s = sr_task_stream_time(t);
    if (s > st->stream) st->stream = s;
    if (late(j, r->ts, st->stream))
        return sr_task_fail(t, op,
                            "late: the record's event time %lld is more than within + grace "
                            "(%lld ms) before stream time %lld; the records it could join are no "
                            "longer kept",
                            (long long)r->ts, (long long)j->late, (long long)st->stream);
    /* r as it will be kept, before the steps after this one see (and may change) its value */
    st->rec.len = 0;
    if (sr_json_write(&st->rec, &r->value) != 0)
        return sr_task_fail(t, op, "the record holds NaN or infinity: it cannot be kept");
    if (st->rec.len > UINT32_MAX)
        return sr_task_fail(t, op, "the record's value takes %zu bytes: a join keeps at most 4 GiB",
                            st->rec.len);
    char err[256];
    int o = 1 - i;
    sr_arena *ar = sr_task_arena(t);
    /* the other input's kept records for this key: join those within reach */
    make_key(st, o, &r->key);
    size_t okey_len = st->key.len;
    char *okey = sr_arena_alloc(ar, okey_len);
    memcpy(okey, st->key.d, okey_len);
    size_t n;
    const char *p = sr_store_get(st->store, okey, okey_len, &n);
    bool matched = false, newly = false;
    st->val.len = 0;
    size_t off = 0;
    kept k;
    while (p && next_kept(p, n, &off, &k)) {
        int64_t d = k.ts > r->ts ? k.ts - r->ts : r->ts - k.ts;
        bool live = !expired(j, k.ts, st->stream);
        if (live && d <= j->within) {
            sr_value ov;
            if (parse_stored(t, op, k.json, k.len, &ov) != 0) return -1;
            sr_record out = *r;
            out.value = sr_obj_new(ar, 2);
            sr_obj_append(ar, &out.value, j->inputs.names[0], j->flen[0], i == 0 ? r->value : ov);
            sr_obj_append(ar, &out.value, j->inputs.names[1], j->flen[1], i == 1 ? r->value : ov);
            out.ts = k.ts > r->ts ? k.ts : r->ts;
            if (sr_emit(t, op, &out) != 0) return -1;
            matched = true;
            newly |= !k.matched;
            k.matched = true;
        }
        put_kept(&st->val, k.ts, k.matched, k.json, k.len);
    }
    if (p && off != n) return sr_task_fail(t, op, "the join's stored state cannot be read");
    if (newly && sr_store_put(st->store, okey, okey_len, st->val.d, st->val.len, err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    /* keep r */
    make_key(st, i, &r->key);
    const char *mine = sr_store_get(st->store, st->key.d, st->key.len, &n);
    st->val.len = 0;
    if (mine) sr_buf_put(&st->val, mine, n);
    put_kept(&st->val, r->ts, matched, st->rec.d ? st->rec.d : "", (uint32_t)st->rec.len);
    if (sr_store_put(st->store, st->key.d, st->key.len, st->val.d, st->val.len, err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    want_timer(t, op, st, sat_add(sat_add(r->ts, j->keep), 1));
    return 0;
}

struct sweep {
    sr_task *t;
    const sr_op *op;
    struct join_state *st;
    int64_t next; /* the earliest expiry left */
    int rc;       /* -1: failed (sr_task_fail) */
    sr_buf rest;  /* the records of the current key that stay */
    bool end;     /* end of input (run, test): every kept record leaves */
};

/* What becomes of a record of input i that leaves unmatched. */
static int left_alone(struct sweep *s, int i, const sr_value *key, const kept *k)
{
    const struct join *j = s->op->conf;
    sr_arena *ar = sr_task_arena(s->t);
    sr_value v;
    if (parse_stored(s->t, s->op, k->json, k->len, &v) != 0) return -1;
    sr_record r = {.key = *key, .ts = k->ts};
    if (!j->required[1 - i]) { /* its input alone meets require: emitted with the other null */
        r.value = sr_obj_new(ar, 2);
        sr_obj_append(ar, &r.value, j->inputs.names[0], j->flen[0], i == 0 ? v : sr_null());
        sr_obj_append(ar, &r.value, j->inputs.names[1], j->flen[1], i == 1 ? v : sr_null());
        return sr_emit(s->t, s->op, &r);
    }
    atomic_fetch_add_explicit(j->nunmatched, 1, memory_order_relaxed);
    if (j->unmatched == 1) { /* else counted: the summary reports it */
        r.value = v;
        sr_task_dead_letter_kept(s->t, s->op, &r, j->reason);
    }
    return 0;
}

static int sweep_key(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct sweep *s = ud;
    const struct join *j = s->op->conf;
    if (klen == 1 && memcmp(key, META_KEY, 1) == 0) return 0;
    int i = ((const unsigned char *)key)[0];
    sr_value rkey;
    sr_key_get((const char *)key + 1, klen - 1, &rkey);
    s->rest.len = 0;
    size_t off = 0;
    kept k;
    bool gone = false;
    while (next_kept(val, vlen, &off, &k)) {
        if (s->end || expired(j, k.ts, s->st->stream)) {
            gone = true;
            if (!k.matched && left_alone(s, i, &rkey, &k) != 0) {
                s->rc = -1;
                return 1;
            }
            continue;
        }
        int64_t at = sat_add(sat_add(k.ts, j->keep), 1);
        if (at < s->next) s->next = at;
        put_kept(&s->rest, k.ts, k.matched, k.json, k.len);
    }
    if (off != vlen) {
        s->rc = sr_task_fail(s->t, s->op, "the join's stored state cannot be read");
        return 1;
    }
    if (!gone) return 0;
    char err[256];
    int rc = s->rest.len
                 ? sr_store_put(s->st->store, key, klen, s->rest.d, s->rest.len, err, sizeof(err))
                 : sr_store_delete(s->st->store, key, klen, err, sizeof(err)) < 0;
    if (rc) {
        s->rc = sr_task_fail(s->t, s->op, "%s", err);
        return 1;
    }
    return 0;
}

/* Expires what stream time has passed (at the end of input: everything kept), then sets the
 * timer for what is left. */
static int sweep(sr_task *t, const sr_op *op, struct join_state *st, bool end)
{
    const struct join *j = op->conf;
    struct sweep s = {.t = t, .op = op, .st = st, .next = INT64_MAX, .end = end};
    (void)sr_store_foreach(st->store, sweep_key, &s);
    sr_buf_free(&s.rest);
    st->next_at = INT64_MAX;
    if (s.next != INT64_MAX) {
        /* at most one sweep per quarter of within + grace of stream time */
        int64_t step = j->keep / 4 > 0 ? j->keep / 4 : 1;
        int64_t at = sat_add(st->stream, step);
        want_timer(t, op, st, s.next > at ? s.next : at);
    }
    return s.rc;
}

static int join_on_timer(sr_task *t, const sr_op *op, const sr_timer *tm)
{
    struct join_state *st = sr_op_state(t, op);
    int64_t s = sr_task_stream_time(t);
    if (s > st->stream) st->stream = s;
    st->next_at = INT64_MAX; /* this one fired */
    (void)tm;
    return sweep(t, op, st, false);
}

/* End of input (`run`, `test`), with flush: no record can come to join what is kept, so each
 * kept record leaves as it would at its expiry — emitted alone when its input meets `require`,
 * else unmatched (counted or dead-lettered). */
static int join_on_end(sr_task *t, const sr_op *op)
{
    const struct join *j = op->conf;
    if (!j->interval || !j->flush) return 0;
    return sweep(t, op, sr_op_state(t, op), true);
}

static int join_checkpoint(sr_task *t, const sr_op *op, void *state)
{
    const struct join *j = op->conf;
    struct join_state *st = state;
    if (!j->interval) return 0;
    return sr_state_meta_put(t, op, st->store, META_KEY, 1, st->stream, 0);
}

/* Stream time goes on from where it was (what was late stays late); the expiry timer is set
 * again for what the store keeps. */
struct earliest {
    const struct join *j;
    int64_t at;
};

static int earliest_key(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct earliest *e = ud;
    if (klen == 1 && memcmp(key, META_KEY, 1) == 0) return 0;
    size_t off = 0;
    kept k;
    while (next_kept(val, vlen, &off, &k)) {
        int64_t at = sat_add(sat_add(k.ts, e->j->keep), 1);
        if (at < e->at) e->at = at;
    }
    return 0;
}

static void join_restored(sr_task *t, const sr_op *op, void *state)
{
    const struct join *j = op->conf;
    struct join_state *st = state;
    if (!j->interval) return;
    int64_t unused;
    sr_state_meta_get(st->store, META_KEY, 1, &st->stream, &unused);
    struct earliest e = {j, INT64_MAX};
    (void)sr_store_foreach(st->store, earliest_key, &e);
    if (e.at != INT64_MAX) want_timer(t, op, st, e.at);
}

static int join_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct join *j = op->conf;
    struct join_state *st = sr_op_state(t, op);
    int i = input_of(t, op, r);
    if (i < 0) return -1;
    return j->interval ? interval_process(t, op, st, r, i) : latest_process(t, op, st, r, i);
}

/* Interval joins: how many records left unmatched (counted or dead-lettered). */
static void join_report(const sr_op *op, sr_buf *b)
{
    const struct join *j = op->conf;
    if (!j->interval) return;
    uint64_t n = atomic_load_explicit(j->nunmatched, memory_order_relaxed);
    sr_buf_printf(b, "%llu unmatched (join step %d)", (unsigned long long)n, op->index);
}

static void join_destroy(void *conf)
{
    struct join *j = conf;
    free(j->nunmatched);
    free(j->store_name);
    free(j->topics);
    free(j->flen);
    free(j->required);
}

const sr_operator_type sr_op_join = {
    .name = "join",
    .summary = "join the deployment's input topics on the record key: the latest value of each "
               "(emitted when the required ones are present), or records within an interval",
    .example = "- join: {inputs: {sx: SX, sy: SY, fa: FA}, require: [sx, sy]}",
    .params = join_params,
    .primary = "inputs",
    .conf_size = sizeof(struct join),
    .flags = SR_OP_TOMBSTONES,
    .state_size = sizeof(struct join_state),
    .check = join_check,
    .open = join_open,
    .process = join_process,
    .on_timer = join_on_timer,
    .on_end = join_on_end,
    .close = join_close,
    .checkpoint = join_checkpoint,
    .restored = join_restored,
    .state_format = join_state_format,
    .destroy = join_destroy,
    .store_name = join_store_name,
    .report = join_report,
};
