/* window.c — windowed aggregates per record key: tumbling, hopping, session and count windows
 * (the arithmetic is runner/state/window.h's, the aggregates runner/state/agg.h's); sliding
 * windows are window_sliding.c's. */
#include "stateful.h"
#include "state/window.h"
#include "window_sliding.h"
#include "window_table.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W_TUMBLING, W_HOPPING, W_SESSION, W_COUNT, W_SLIDING }; /* the order of the type choices */
enum { EMIT_FINAL, EMIT_UPDATE };

#define MAX_WINDOWS_PER_RECORD 10000 /* size / step: validate refuses more */

struct window {
    int type;
    int64_t size, step, gap, grace, idle;
    sr_expr *time;
    int unit;
    const sr_ynode *aggregate; /* as written; parsed by check() into aggs */
    int emit;
    bool flush;
    char *store;
    /* made by check() */
    sr_aggspecs aggs;
    bool panes;      /* hopping, final, size a multiple of step, sr_agg_paned: see 'p' below */
    bool check_once; /* no aggregate refuses a value for what it holds (count, first, last,
                        merge, delta): a record is checked against one window for all */
    char *store_name;
};

/* Store keys: a kind byte, then
 *   'w' (a time window or a session) or 'c' (a count window): start and end as 8 bytes
 *       big-endian, then the record key (sr_key_put); value: the accumulators (sr_aggs_save);
 *   'n' (a key's next record index, count windows): the record key; value: 8 bytes;
 *   's' (a key's open sessions): the record key; value: their start and end, 16 bytes each;
 *   'p' (a pane: hopping windows whose size is a multiple of their step, emit final, with only
 *       sr_agg_paned aggregates): as 'w' for the pane [s, s + step), the accumulators of the
 *       records of that step; the entry also marks the window [s, s + size), written when it
 *       closes (at s + size + grace) from the key's panes s, s + step, ..., s + size - step.
 * Tumbling and hopping windows live decoded in a window table (window_table.h) that writes them
 * to the store when the store is drained or the window closes; sessions and count windows are
 * read from and written to the store for each record.
 * Time windows close by an event-time timer set to fire after the record that moves the step's
 * stream time past the earliest close (the step keeps its own stream time, as its event time
 * may come from a field); count windows when their last record comes. */
struct window_state {
    sr_store *store;
    sr_wtable *table;  /* tumbling and hopping */
    bool indexed;      /* the table holds what the store held before the first record */
    sr_agg *empty;     /* aggs.n empty accumulators: what a new window is checked against */
    int64_t stream;    /* the largest event time seen, or -1 */
    int64_t min_close; /* the earliest close time among the open time windows, INT64_MAX: none */
    bool armed;        /* a close timer is pending */
    int64_t seq;
    sr_buf key;
};

static const sr_param window_params[] = {
    {SR_P_ENUM, "type", NULL, offsetof(struct window, type),
     "tumbling: [s, s + size) one after the other; hopping: of size, starting every step; "
     "session: records less than gap apart, per key; count: of size records, starting every step "
     "records, per key; sliding: one per record, over the size before it (both ends included), per "
     "key",
     SR_PF_REQUIRED, "tumbling|hopping|session|count|sliding"},
    {SR_P_DURATION, "size", NULL, offsetof(struct window, size),
     "length of a window (count: a number of records)"},
    {SR_P_DURATION, "step", NULL, offsetof(struct window, step),
     "hopping and count: how far apart windows start (at most size; default size)"},
    {SR_P_DURATION, "gap", NULL, offsetof(struct window, gap),
     "session: the longest pause within a session (a record at most gap after the last joins it)"},
    {SR_P_DURATION, "grace", "0", offsetof(struct window, grace),
     "how long after its end a window still takes late records (stream time); not for count "
     "windows"},
    {SR_P_EXPR, "time", NULL, offsetof(struct window, time),
     "event time as a number since the Unix epoch (default: the record's timestamp)"},
    {SR_P_ENUM, "unit", "ms", offsetof(struct window, unit),
     "unit of time: an integer is converted exactly (ns: floor(time / 10^6))", 0, "s|ms|us|ns"},
    {SR_P_AGGS, "aggregate", NULL, offsetof(struct window, aggregate),
     "one aggregate, written as the field value, or a mapping of field name: aggregate; "
     "aggregates: count, sum, mean, min, max, first, last, stddev, collect, merge, integral, delta",
     SR_PF_REQUIRED},
    {SR_P_ENUM, "emit", "final", offsetof(struct window, emit),
     "final: once per window, when it closes; update: each time a record changes it", 0,
     "final|update"},
    {SR_P_DURATION, "idle", NULL, offsetof(struct window, idle),
     "close every open window of the partition once no record has come for this long (wall "
     "clock); a record that comes later for one of them is late"},
    {SR_P_BOOL, "flush", "false", offsetof(struct window, flush),
     "run and test: write the windows still open when the input ends (by default they are not "
     "written, as under up, where input never ends)"},
    {SR_P_STR, "store", NULL, offsetof(struct window, store),
     "name of the step's state store (default window-STEP, STEP its number in the pipeline, never "
     "the window's settings); unique within the consumer group"},
    {0}};

/* ---- checking -------------------------------------------------------------------------------- */

static bool given(const sr_op *op, const char *key)
{
    const sr_ynode *n = op->settings ? sr_ymap_get(op->settings, key) : NULL;
    return n && !sr_yis_null(n);
}

static int window_check(sr_op *op, void *conf, sr_check *ck)
{
    struct window *w = conf;
    static const char *const names[] = {"tumbling", "hopping", "session", "count", "sliding"};
    const char *tn = names[w->type];
    int rc = 0;
    if (w->type == W_SESSION) {
        const char *k = given(op, "size") ? "size" : given(op, "step") ? "step" : NULL;
        if (k) {
            sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, k),
                    "%s: a session window has no '%s': it lasts as long as its records come less "
                    "than 'gap' apart",
                    op->label, k);
            rc = -1;
        }
        if (!given(op, "gap")) {
            sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, sr_setting_mark(op, "type"),
                    "%s: a session window needs 'gap' (the longest pause within a session, such "
                    "as 30s)",
                    op->label);
            rc = -1;
        }
    } else if (given(op, "gap")) {
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, "gap"),
                "%s: 'gap' is for session windows; a %s window has a size", op->label, tn);
        rc = -1;
    }
    if (w->type == W_SESSION) {
        /* no size nor step */
    } else if (!given(op, "size")) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, sr_setting_mark(op, "type"),
                "%s: a %s window needs 'size' (%s)", op->label, tn,
                w->type == W_COUNT ? "a number of records" : "a duration such as 10s");
        rc = -1;
    } else if (w->size < 1) {
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, sr_setting_mark(op, "size"),
                "%s: 'size' must be at least 1 (ms, or record)", op->label);
        rc = -1;
    }
    if (w->type == W_TUMBLING && given(op, "step")) {
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, "step"),
                "%s: a tumbling window has no 'step' (it is its size); for windows that overlap "
                "use type: hopping",
                op->label);
        rc = -1;
    }
    if (w->type == W_SLIDING && given(op, "step")) {
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, "step"),
                "%s: a sliding window has no 'step': there is one window per record, over the "
                "'size' before it; for windows that start at fixed times use type: hopping",
                op->label);
        rc = -1;
    }
    if (w->type == W_HOPPING && !given(op, "step")) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, sr_setting_mark(op, "type"),
                "%s: a hopping window needs 'step' (how far apart windows start, such as 1s); "
                "without one use type: tumbling",
                op->label);
        rc = -1;
    }
    if (!given(op, "step")) w->step = w->size;
    if (w->type == W_SESSION) w->size = w->step = 1; /* unused */
    if (given(op, "step") && w->step < 1) {
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, sr_setting_mark(op, "step"),
                "%s: 'step' must be at least 1", op->label);
        rc = -1;
    } else if (rc == 0 && w->step > w->size) {
        sr_errc(ck->dg, SR_E_WINDOW_STEP, ck->file, sr_setting_mark(op, "step"),
                "%s: 'step' (%lld) is larger than 'size' (%lld): the records between two windows "
                "would belong to none; a step is at most the size",
                op->label, (long long)w->step, (long long)w->size);
        rc = -1;
    } else if (rc == 0 && w->size / w->step > MAX_WINDOWS_PER_RECORD) {
        sr_errc(ck->dg, SR_E_WINDOW_STEP, ck->file, sr_setting_mark(op, "step"),
                "%s: size / step is %lld: each record would go into that many windows; at most "
                "%d are allowed (make the step larger)",
                op->label, (long long)(w->size / w->step), MAX_WINDOWS_PER_RECORD);
        rc = -1;
    }
    if (w->type == W_COUNT && (given(op, "grace") || given(op, "time"))) {
        const char *k = given(op, "grace") ? "grace" : "time";
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, k),
                "%s: a count window has no '%s': it is complete with its last record, whatever "
                "the time",
                op->label, k);
        rc = -1;
    }
    if (given(op, "idle") && w->idle < 1) {
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, sr_setting_mark(op, "idle"),
                "%s: 'idle' must be at least 1ms", op->label);
        rc = -1;
    }
    if (sr_event_time_check(op, w->time, ck) != 0) rc = -1;
    if (sr_aggspecs_parse(&w->aggs, w->aggregate, ck, op->label) != 0) rc = -1;
    w->check_once = true;
    for (int i = 0; i < w->aggs.n; i++)
        if (!sr_agg_check_stateless(w->aggs.v[i].kind)) w->check_once = false;
    w->panes = w->type == W_HOPPING && rc == 0 && w->step < w->size && w->size % w->step == 0 &&
               w->emit == EMIT_FINAL;
    for (int i = 0; i < w->aggs.n; i++)
        if (!sr_agg_paned(w->aggs.v[i].kind)) w->panes = false;
    for (int i = 0; i < w->aggs.n; i++) {
        const char *n = w->aggs.v[i].name;
        if (strcmp(n, "start") != 0 && strcmp(n, "end") != 0) continue;
        sr_mark m = sr_setting_mark(op, "aggregate");
        const sr_ynode *map = sr_ymap_get(op->settings, "aggregate");
        for (int k = 0; map && map->kind == SR_Y_MAP && k < map->nkids; k += 2)
            if (sr_yis_scalar(map->kids[k]) && strcmp(map->kids[k]->text, n) == 0)
                m = map->kids[k]->mark;
        sr_errc(ck->dg, SR_E_AGGREGATE, ck->file, m,
                "%s: an aggregate cannot be named '%s': a window's output has 'start' and 'end' "
                "already",
                op->label, n);
        rc = -1;
    }
    w->store_name = sr_store_name_claim(op, ck, w->store, sr_setting_mark(op, "store"));
    if (!w->store_name) rc = -1;
    /* what follows sees {start, end, <aggregates>} */
    sr_schema_keep(&ck->schema, NULL, 0, "window", ck->file, op->mark);
    sr_schema_put(&ck->schema, "start", SR_T_NUM, NULL);
    sr_schema_put(&ck->schema, "end", SR_T_NUM, NULL);
    sr_aggspecs_schema(&w->aggs, &ck->schema);
    return rc;
}

static const char *window_store_name(const sr_op *op)
{
    const struct window *w = op->conf;
    return w->store_name;
}

/* ---- state ---------------------------------------------------------------------------------- */

static void window_open(sr_task *t, const sr_op *op, void *state)
{
    const struct window *w = op->conf;
    struct window_state *st = state;
    st->store = sr_state_store_open(t, op, w->store_name);
    st->stream = -1;
    st->min_close = INT64_MAX;
    if (w->type == W_TUMBLING || w->type == W_HOPPING) {
        /* panes: [s, s + step) closes with the window [s, s + size), at s + size + grace */
        int64_t more = w->size - w->step,
                grace = w->grace > INT64_MAX - more ? INT64_MAX : w->grace + more;
        st->table = sr_wtable_new(&w->aggs, w->panes ? grace : w->grace, st->store, op->label);
        if (w->panes) sr_wtable_set_kind(st->table, 'p');
        st->empty = sr_xcalloc((size_t)w->aggs.n, sizeof(sr_agg));
        for (int i = 0; i < w->aggs.n; i++)
            sr_agg_init(&st->empty[i], w->aggs.v[i].kind, w->aggs.v[i].limit);
    }
}

static void window_close(sr_task *t, const sr_op *op, void *state)
{
    struct window_state *st = state;
    sr_wtable_destroy(st->table);
    free(st->empty);
    sr_store_destroy(st->store);
    sr_buf_free(&st->key);
    (void)t, (void)op;
}

static void put_be64(sr_buf *b, int64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
    sr_buf_put(b, x, 8);
}

static int64_t get_be64(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | (uint8_t)p[i];
    return (int64_t)v;
}

static void window_key(sr_buf *b, char kind, sr_window win, const sr_value *key)
{
    b->len = 0;
    sr_buf_putc(b, kind);
    put_be64(b, win.start);
    put_be64(b, win.end);
    sr_key_put(b, key);
}

/* The record a window writes: {start, end, <aggregates>}, with the key, at ts (a time window:
 * end - 1, its last millisecond; a count window: the time of the record that completes it). */
static sr_record window_record(const struct window *w, const sr_agg *accs, sr_window win,
                               sr_value key, int64_t ts, sr_arena *ar)
{
    sr_record out = {.key = key, .ts = ts};
    out.value = sr_obj_new(ar, (uint32_t)w->aggs.n + 2);
    sr_obj_append(ar, &out.value, "start", 5, sr_int(win.start));
    sr_obj_append(ar, &out.value, "end", 3, sr_int(win.end));
    sr_aggs_results(&w->aggs, accs, ar, &out.value);
    return out;
}

/* One window a record goes into, until everything it made got through. */
struct pending {
    sr_window win;
    char kind;
    bool full; /* a count window completed by this record: written and deleted */
    const char *key, *val;
    size_t klen, vlen;
};

/* Adds vals to the window win of r's key; *p holds the new state (arena). When emit, writes
 * the window's record. Returns 0, or -1 with the reason set. */
static int add_to(sr_task *t, const sr_op *op, struct window_state *st, const sr_record *r,
                  const sr_value *vals, int64_t et, struct pending *p, bool emit)
{
    const struct window *w = op->conf;
    sr_arena *ar = sr_task_arena(t);
    window_key(&st->key, p->kind, p->win, &r->key);
    size_t vlen;
    const void *old = sr_store_get(st->store, st->key.d, st->key.len, &vlen);
    sr_agg *accs = sr_arena_alloc(ar, sizeof(sr_agg) * (size_t)w->aggs.n);
    char err[512];
    int rc = sr_aggs_load(&w->aggs, accs, old, vlen, ar, err, sizeof(err));
    if (rc == 0) rc = sr_aggs_add(&w->aggs, accs, vals, et, st->seq, err, sizeof(err));
    sr_record out = {0};
    if (rc == 0) {
        sr_buf b = {0};
        sr_aggs_save(&w->aggs, accs, &b);
        p->val = sr_arena_strndup(ar, b.d, b.len);
        p->vlen = b.len;
        sr_buf_free(&b);
        p->key = sr_arena_strndup(ar, st->key.d, st->key.len);
        p->klen = st->key.len;
        if (emit)
            out =
                window_record(w, accs, p->win, r->key, p->kind == 'w' ? p->win.end - 1 : r->ts, ar);
    }
    sr_aggs_free(&w->aggs, accs);
    if (rc != 0) return sr_task_fail(t, op, "%s", err);
    return emit ? sr_emit(t, op, &out) : 0;
}

static int store_fail(sr_task *t, const sr_op *op, const char *err)
{
    return sr_task_fail(t, op, "%s", err);
}

/* After stream time moved: the close timer, when a window is due. */
static void arm(sr_task *t, const sr_op *op, struct window_state *st)
{
    if (st->armed || st->stream < st->min_close) return;
    /* due at once: fires after the current record (the task's stream time is at least its
     * own value), so that what closes is written apart from the record's own outputs */
    int64_t now = sr_task_stream_time(t);
    sr_timer_set(t, op, SR_TIMER_EVENT, now, 0);
    st->armed = true;
}

static void touch_idle(sr_task *t, const sr_op *op)
{
    const struct window *w = op->conf;
    if (w->idle <= 0) return;
    sr_timer_cancel(t, op, SR_TIMER_WALL, 1);
    int64_t now = sr_task_now(t);
    sr_timer_set(t, op, SR_TIMER_WALL, now > INT64_MAX - w->idle ? INT64_MAX : now + w->idle, 1);
}

static int process_count(sr_task *t, const sr_op *op, struct window_state *st, sr_record *r,
                         const sr_value *vals)
{
    const struct window *w = op->conf;
    sr_arena *ar = sr_task_arena(t);
    char err[512];
    sr_buf nk = {0};
    sr_buf_putc(&nk, 'n');
    sr_key_put(&nk, &r->key);
    size_t vlen;
    const char *iv = sr_store_get(st->store, nk.d, nk.len, &vlen);
    int64_t idx = iv && vlen == 8 ? get_be64(iv) : 0;
    sr_window_iter it;
    int rc = sr_windows_of(&it, idx, w->size, w->step, err, sizeof(err));
    int64_t n = rc == 0 ? sr_window_iter_count(&it) : 0;
    struct pending *ps = sr_arena_calloc(ar, sizeof(struct pending) * (size_t)(n ? n : 1));
    sr_window win;
    for (int64_t i = 0; rc == 0 && sr_window_next(&it, &win); i++) {
        ps[i] = (struct pending){.win = win, .kind = 'c', .full = sr_count_window_full(win, idx)};
        rc = add_to(t, op, st, r, vals, r->ts, &ps[i], w->emit == EMIT_UPDATE || ps[i].full);
    }
    if (rc == 0) {
        sr_buf nv = {0};
        put_be64(&nv, idx + 1);
        rc = sr_store_put(st->store, nk.d, nk.len, nv.d, nv.len, err, sizeof(err));
        sr_buf_free(&nv);
        if (rc != 0) rc = store_fail(t, op, err);
    }
    for (int64_t i = 0; rc == 0 && i < n; i++) {
        if (ps[i].full)
            rc = sr_store_delete(st->store, ps[i].key, ps[i].klen, err, sizeof(err)) < 0 ? -1 : 0;
        else
            rc = sr_store_put(st->store, ps[i].key, ps[i].klen, ps[i].val, ps[i].vlen, err,
                              sizeof(err));
        if (rc != 0) rc = store_fail(t, op, err);
    }
    sr_buf_free(&nk);
    return rc;
}

/* The close time of a time window or session. */
static int64_t close_time(const struct window *w, sr_window win)
{
    return w->type == W_SESSION ? sr_session_close_time(win, w->gap, w->grace)
                                : sr_window_close_time(win, w->grace);
}

/* The 's' key of r's key in b. */
static void sessions_key(sr_buf *b, const sr_value *key)
{
    b->len = 0;
    sr_buf_putc(b, 's');
    sr_key_put(b, key);
}

/* A record at et joins (and merges) the open sessions of its key within gap of it, or starts
 * one. The merged sessions' accumulators are folded into the new session's, the record is added,
 * and only when everything went through are the merged entries replaced and the key's list of
 * sessions rewritten. */
static int process_session(sr_task *t, const sr_op *op, struct window_state *st, sr_record *r,
                           const sr_value *vals, int64_t et)
{
    const struct window *w = op->conf;
    sr_arena *ar = sr_task_arena(t);
    char err[512];
    sr_buf ik = {0};
    sessions_key(&ik, &r->key);
    size_t ilen;
    const char *iv = sr_store_get(st->store, ik.d, ik.len, &ilen);
    size_t n = iv ? ilen / 16 : 0;
    sr_window *sess = sr_arena_alloc(ar, sizeof(sr_window) * (n + 1));
    bool *merge = sr_arena_calloc(ar, sizeof(bool) * (n + 1));
    for (size_t i = 0; i < n; i++)
        sess[i] = (sr_window){get_be64(iv + 16 * i), get_be64(iv + 16 * i + 8)};
    sr_window out;
    int rc = sr_session_assign(sess, n, et, w->gap, merge, &out, err, sizeof(err));
    int64_t by = rc < 0 ? 0 : sr_late_by(close_time(w, out), st->stream);
    if (rc < 0 || by > 0) {
        sr_buf_free(&ik);
        if (rc < 0) return sr_task_fail(t, op, "%s", err);
        return sr_task_fail(t, op,
                            "late: the record's event time %lld is in the session [%lld, %lld), "
                            "closed since stream time reached %lld (its end + gap %lld + grace "
                            "%lld ms); %lld ms late",
                            (long long)et, (long long)out.start, (long long)out.end,
                            (long long)close_time(w, out), (long long)w->gap, (long long)w->grace,
                            (long long)by);
    }
    sr_agg *accs = sr_arena_alloc(ar, sizeof(sr_agg) * (size_t)w->aggs.n);
    sr_agg *part = sr_arena_alloc(ar, sizeof(sr_agg) * (size_t)w->aggs.n);
    rc = sr_aggs_load(&w->aggs, accs, NULL, 0, ar, err, sizeof(err));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!merge[i]) continue;
        window_key(&st->key, 'w', sess[i], &r->key);
        size_t vlen;
        const void *v = sr_store_get(st->store, st->key.d, st->key.len, &vlen);
        rc = sr_aggs_load(&w->aggs, part, v, vlen, ar, err, sizeof(err));
        for (int k = 0; rc == 0 && k < w->aggs.n; k++)
            rc = sr_agg_merge(&accs[k], &part[k], err, sizeof(err));
        sr_aggs_free(&w->aggs, part);
    }
    if (rc == 0) rc = sr_aggs_add(&w->aggs, accs, vals, et, st->seq, err, sizeof(err));
    sr_buf val = {0};
    sr_record rec = {0};
    if (rc == 0) {
        sr_aggs_save(&w->aggs, accs, &val);
        if (w->emit == EMIT_UPDATE) rec = window_record(w, accs, out, r->key, out.end - 1, ar);
    }
    sr_aggs_free(&w->aggs, accs);
    if (rc == 0 && w->emit == EMIT_UPDATE && sr_emit(t, op, &rec) != 0) rc = -2;
    sr_buf list = {0};
    for (size_t i = 0; rc == 0 && i < n; i++) { /* the merged sessions go */
        if (!merge[i]) {
            put_be64(&list, sess[i].start);
            put_be64(&list, sess[i].end);
            continue;
        }
        window_key(&st->key, 'w', sess[i], &r->key);
        if (sr_store_delete(st->store, st->key.d, st->key.len, err, sizeof(err)) < 0) rc = -1;
    }
    put_be64(&list, out.start);
    put_be64(&list, out.end);
    if (rc == 0) {
        window_key(&st->key, 'w', out, &r->key);
        rc = sr_store_put(st->store, st->key.d, st->key.len, val.d, val.len, err, sizeof(err));
    }
    if (rc == 0) rc = sr_store_put(st->store, ik.d, ik.len, list.d, list.len, err, sizeof(err));
    sr_buf_free(&ik);
    sr_buf_free(&val);
    sr_buf_free(&list);
    if (rc == -2) return -1; /* the reason is set downstream */
    if (rc != 0) return sr_task_fail(t, op, "%s", err);
    int64_t close = close_time(w, out);
    if (close < st->min_close) st->min_close = close;
    return 0;
}

static sr_sliding sliding_of(const struct window *w)
{
    return (sr_sliding){
        .size = w->size, .grace = w->grace, .update = w->emit == EMIT_UPDATE, .aggs = &w->aggs};
}

/* Before the first record or timer: the windows the store holds (restored) go into the table. */
static int index_store(sr_task *t, const sr_op *op, struct window_state *st)
{
    if (!st->table || st->indexed) return 0;
    char err[512];
    if (sr_wtable_index(st->table, sr_task_arena(t), err, sizeof(err)) != 0)
        return sr_task_fail(t, op, "the stored state of a window: %s", err);
    st->indexed = true;
    st->min_close = sr_wtable_min_close(st->table);
    return 0;
}

/* Panes: checks vals against each of the record's open windows wins[0..n), made of key k's panes
 * (a collect's values held in all of them); once when no aggregate's check depends on what it
 * holds. */
static int check_panes(const struct window *w, struct window_state *st, const sr_wkey *k,
                       const sr_value *vals, int64_t et, const sr_window *wins, int64_t n,
                       sr_arena *ar, char *err, size_t errsize)
{
    if (w->check_once) /* by value alone: against any accumulator */
        return sr_aggs_check(&w->aggs, st->empty, vals, et, st->seq, err, errsize);
    uint32_t *held = sr_arena_alloc(ar, sizeof(uint32_t) * (size_t)w->aggs.n);
    size_t nk;
    sr_wentry *const *kw = sr_wtable_from(k, wins[0].start, &nk);
    for (int64_t i = 0; i < n; i++) {
        memset(held, 0, sizeof(uint32_t) * (size_t)w->aggs.n);
        for (size_t j = 0; j < nk && kw[j]->win.start < wins[i].end; j++)
            for (int a = 0; a < w->aggs.n; a++)
                if (kw[j]->win.start >= wins[i].start) held[a] += sr_agg_held(&kw[j]->accs[a]);
        if (sr_aggs_check_held(&w->aggs, st->empty, held, vals, et, st->seq, err, errsize))
            return -1;
    }
    return 0;
}

/* Tumbling and hopping: adds vals to each of the record's open windows wins[0..n) in the table,
 * all or none: every window is checked first; with emit update, the windows are written after
 * the adds, and when one of them fails downstream the adds are undone. */
static int process_time(sr_task *t, const sr_op *op, struct window_state *st, sr_record *r,
                        const sr_value *vals, int64_t et, const sr_window *wins, int64_t n)
{
    const struct window *w = op->conf;
    sr_arena *ar = sr_task_arena(t);
    char err[512];
    st->key.len = 0;
    sr_key_put(&st->key, &r->key);
    sr_wkey *k = sr_wtable_key(st->table, st->key.d, st->key.len, false);
    sr_wentry **es = sr_arena_alloc(ar, sizeof(*es) * (size_t)n);
    size_t nk; /* the key's windows from the record's first one: the same starts, in order */
    sr_wentry *const *kw = sr_wtable_from(k, wins[0].start, &nk);
    if (w->panes && check_panes(w, st, k, vals, et, wins, n, ar, err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    for (int64_t i = 0; i < n; i++) {
        es[i] = nk && kw[0]->win.start == wins[i].start ? (nk--, *kw++) : NULL;
        if (!w->panes && (!w->check_once || i == 0) &&
            sr_aggs_check(&w->aggs, es[i] ? es[i]->accs : st->empty, vals, et, st->seq, err,
                          sizeof(err)))
            return sr_task_fail(t, op, "%s", err);
    }
    /* the record's new windows (and its key's entry) are charged to the store's budget first:
     * a record whose windows do not fit is refused with the store named, and changes nothing */
    size_t fresh = 0;
    for (int64_t i = 0; i < n; i++) fresh += !es[i];
    size_t cost = sr_wtable_cost(st->table, fresh, !k && fresh ? st->key.len : 0);
    if (cost && sr_store_reserve(st->store, cost, false, err, sizeof(err)) != 0)
        return sr_task_fail(t, op, "%s", err);
    bool update = w->emit == EMIT_UPDATE;
    const char **undo = update ? sr_arena_calloc(ar, sizeof(*undo) * (size_t)n) : NULL;
    size_t *undo_len = update ? sr_arena_calloc(ar, sizeof(*undo_len) * (size_t)n) : NULL;
    for (int64_t i = 0; i < n; i++) {
        if (!es[i]) {
            if (!k) k = sr_wtable_key(st->table, st->key.d, st->key.len, true);
            sr_window pane = {wins[i].start, wins[i].start + w->step};
            es[i] = sr_wtable_add(st->table, k, w->panes ? pane : wins[i]);
        } else if (update) { /* its state before, to undo the add */
            sr_buf b = {0};
            sr_aggs_save(&w->aggs, es[i]->accs, &b);
            undo[i] = sr_arena_strndup(ar, b.d, b.len);
            undo_len[i] = b.len;
            sr_buf_free(&b);
        }
        /* panes: the record goes into its own step's pane, the last one; the others (new ones
         * empty) mark the windows it opens */
        if (w->panes && i < n - 1) continue;
        assert(!w->panes || wins[i].start == et - et % w->step);
        sr_aggs_add_checked(&w->aggs, es[i]->accs, vals, et, st->seq); /* checked above */
        sr_wtable_touch(st->table, es[i]);
    }
    st->min_close = sr_wtable_min_close(st->table);
    for (int64_t i = 0; update && i < n; i++) {
        sr_record out = window_record(w, es[i]->accs, wins[i], r->key, wins[i].end - 1, ar);
        if (sr_emit(t, op, &out) == 0) continue;
        for (int64_t j = 0; j < n; j++) { /* the reason is set downstream */
            if (!undo[j]) {
                sr_wtable_drop(st->table, es[j]);
                continue;
            }
            sr_aggs_free(&w->aggs, es[j]->accs);
            int rc =
                sr_aggs_load(&w->aggs, es[j]->accs, undo[j], undo_len[j], ar, err, sizeof(err));
            assert(rc == 0); /* a state sr_aggs_save wrote reads back */
            (void)rc;
        }
        st->min_close = sr_wtable_min_close(st->table);
        return -1;
    }
    return 0;
}

static int window_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct window *w = op->conf;
    struct window_state *st = sr_op_state(t, op);
    sr_arena *ar = sr_task_arena(t);
    touch_idle(t, op);
    if (index_store(t, op, st)) return -1;
    sr_value *vals = sr_arena_alloc(ar, sizeof(sr_value) * (size_t)w->aggs.n);
    int64_t et;
    if (w->type == W_COUNT) {
        if (sr_aggspecs_eval(&w->aggs, t, op, r, vals)) return -1;
        st->seq++;
        return process_count(t, op, st, r, vals);
    }
    if (sr_event_time(t, op, w->time, w->unit, r, &et)) return -1;
    st->stream = sr_stream_time_advance(st->stream, et);
    arm(t, op, st);
    char err[512];
    if (w->type == W_SESSION) {
        if (sr_aggspecs_eval(&w->aggs, t, op, r, vals)) return -1;
        st->seq++;
        return process_session(t, op, st, r, vals, et);
    }
    if (w->type == W_SLIDING) {
        if (sr_aggspecs_eval(&w->aggs, t, op, r, vals)) return -1;
        sr_sliding sw = sliding_of(w);
        return sr_sliding_add(t, op, &sw, st->store, r, vals, et, st->stream, &st->min_close);
    }
    sr_window_iter it;
    if (sr_windows_of(&it, et, w->size, w->step, err, sizeof(err)))
        return sr_task_fail(t, op, "%s", err);
    int64_t n = sr_window_iter_count(&it);
    assert(n >= 1 && n <= MAX_WINDOWS_PER_RECORD); /* check() refuses step > size */
    sr_window *wins = sr_arena_alloc(ar, sizeof(sr_window) * (size_t)n);
    int64_t nopen = 0, late = 0;
    sr_window win, late_win = {0, 0};
    while (sr_window_next(&it, &win)) {
        int64_t by = sr_late_by(close_time(w, win), st->stream);
        if (by > 0) {
            late = by, late_win = win; /* the last of them: the one that closed most recently */
            continue;
        }
        wins[nopen++] = win;
    }
    if (nopen == 0)
        return sr_task_fail(t, op,
                            "late: the record's event time %lld is in the window [%lld, %lld), "
                            "closed since stream time reached %lld (its end + grace %lld ms); "
                            "%lld ms late",
                            (long long)et, (long long)late_win.start, (long long)late_win.end,
                            (long long)close_time(w, late_win), (long long)w->grace,
                            (long long)late);
    if (sr_aggspecs_eval(&w->aggs, t, op, r, vals)) return -1;
    st->seq++;
    return process_time(t, op, st, r, vals, et, wins, nopen);
}

/* ---- closing --------------------------------------------------------------------------------- */

struct closing {
    sr_task *t;
    const sr_op *op;
    struct window_state *st;
    int64_t upto;      /* close the time windows whose close time is at most this */
    bool all;          /* idle: every window, count windows too */
    int64_t min_close; /* of the windows left open */
    int64_t max_close; /* of the windows closed */
    sr_buf closed;     /* sessions: the keys of the closed ones, (u32 length, bytes)* */
    int rc;
};

static int close_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct closing *c = ud;
    const struct window *w = c->op->conf;
    const char *k = key;
    if (k[0] == 'n' || k[0] == 's' || k[0] == 'm') return 0;
    assert((k[0] == 'w' || k[0] == 'c') && klen >= 18);
    sr_window win = {get_be64(k + 1), get_be64(k + 9)};
    int64_t close = k[0] == 'w' ? close_time(w, win) : INT64_MAX;
    if (!c->all && close > c->upto) {
        if (close < c->min_close) c->min_close = close;
        return 0;
    }
    if (k[0] == 'w' && close > c->max_close) c->max_close = close;
    sr_arena *ar = sr_task_arena(c->t);
    sr_value rkey;
    sr_key_get(k + 17, klen - 17, &rkey);
    if (rkey.type == SR_STR) rkey = sr_str_dup(ar, rkey.u.s, rkey.len);
    sr_agg *accs = sr_arena_alloc(ar, sizeof(sr_agg) * (size_t)w->aggs.n);
    char err[512];
    int rc = sr_aggs_load(&w->aggs, accs, val, vlen, ar, err, sizeof(err));
    if (rc == 0 && w->emit == EMIT_FINAL) { /* update: its last state went out already */
        sr_record out =
            window_record(w, accs, win, rkey, k[0] == 'w' ? win.end - 1 : sr_task_now(c->t), ar);
        sr_emit(c->t, c->op, &out); /* from a timer: a failure downstream is dead-lettered */
    }
    sr_aggs_free(&w->aggs, accs);
    if (rc != 0) {
        c->rc = sr_task_fail(c->t, c->op, "window [%lld, %lld): %s", (long long)win.start,
                             (long long)win.end, err);
        return 1;
    }
    if (sr_store_delete(c->st->store, key, klen, err, sizeof(err)) < 0) {
        c->rc = sr_task_fail(c->t, c->op, "%s", err);
        return 1;
    }
    if (w->type == W_SESSION) {
        uint32_t l = (uint32_t)klen;
        sr_buf_put(&c->closed, &l, sizeof(l));
        sr_buf_put(&c->closed, key, klen);
    }
    return 0;
}

/* Takes the sessions closed by a walk out of their keys' lists (after the walk: the store must
 * not change under it but for the key it hands out). */
static int forget_sessions(struct closing *c)
{
    char err[512];
    sr_buf ik = {0}, list = {0};
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < c->closed.len;) {
        uint32_t l;
        memcpy(&l, c->closed.d + off, sizeof(l));
        const char *k = c->closed.d + off + sizeof(l);
        off += sizeof(l) + l;
        sr_value rkey;
        sr_key_get(k + 17, l - 17, &rkey);
        sessions_key(&ik, &rkey);
        size_t ilen;
        const char *iv = sr_store_get(c->st->store, ik.d, ik.len, &ilen);
        list.len = 0;
        for (size_t i = 0; iv && i + 16 <= ilen; i += 16)
            if (memcmp(iv + i, k + 1, 16) != 0) sr_buf_put(&list, iv + i, 16);
        if (list.len)
            rc = sr_store_put(c->st->store, ik.d, ik.len, list.d, list.len, err, sizeof(err));
        else
            rc = sr_store_delete(c->st->store, ik.d, ik.len, err, sizeof(err)) < 0 ? -1 : 0;
    }
    sr_buf_free(&ik);
    sr_buf_free(&list);
    if (rc != 0) return sr_task_fail(c->t, c->op, "%s", err);
    return 0;
}

/* Panes: the window [s, s + size) of pane entry e: its key's panes from s to s + size - step
 * combined (sr_agg_merge, fields in the order first seen), as the record to write. */
static sr_record pane_window(const struct window *w, sr_wentry *e, sr_arena *ar)
{
    sr_agg *accs = sr_arena_alloc(ar, sizeof(sr_agg) * (size_t)w->aggs.n);
    for (int i = 0; i < w->aggs.n; i++)
        sr_agg_init(&accs[i], w->aggs.v[i].kind, w->aggs.v[i].limit);
    size_t nk;
    sr_wentry *const *kw = sr_wtable_from(e->key, e->win.start, &nk);
    sr_window win = {e->win.start, e->win.start + w->size};
    char err[256];
    for (size_t j = 0; j < nk && kw[j]->win.start < win.end; j++)
        for (int i = 0; i < w->aggs.n; i++) {
            int rc = sr_agg_merge(&accs[i], &kw[j]->accs[i], err, sizeof(err));
            assert(rc == 0); /* sr_agg_paned kinds combine; collects were checked per window */
            (void)rc;
        }
    for (int i = 0; i < w->aggs.n; i++) sr_agg_order_fields(&accs[i]);
    sr_value rkey = sr_wtable_record_key(e);
    if (rkey.type == SR_STR) rkey = sr_str_dup(ar, rkey.u.s, rkey.len);
    sr_record out = window_record(w, accs, win, rkey, win.end - 1, ar);
    sr_aggs_free(&w->aggs, accs);
    return out;
}

/* Tumbling and hopping: closes and writes the table's windows due at stream time, or all of
 * them, in the order they were opened. */
static int close_table(sr_task *t, const sr_op *op, struct window_state *st, bool all)
{
    const struct window *w = op->conf;
    sr_arena *ar = sr_task_arena(t);
    sr_wentry **due;
    size_t n = sr_wtable_due(st->table, st->stream, all, ar, &due), i = 0;
    int64_t max_close = -1;
    int rc = 0;
    char err[512];
    /* panes: every due window is made before any pane goes, as a window needs its later panes */
    sr_record *outs = w->panes ? sr_arena_alloc(ar, sizeof(sr_record) * (n ? n : 1)) : NULL;
    for (size_t j = 0; w->panes && j < n; j++) outs[j] = pane_window(w, due[j], ar);
    for (; i < n; i++) {
        sr_wentry *e = due[i];
        if (e->close > max_close) max_close = e->close;
        if (w->panes) {
            sr_emit(t, op, &outs[i]); /* from a timer: a failure downstream is dead-lettered */
        } else if (w->emit == EMIT_FINAL) { /* update: its last state went out already */
            sr_value rkey = sr_wtable_record_key(e);
            if (rkey.type == SR_STR) rkey = sr_str_dup(ar, rkey.u.s, rkey.len);
            sr_record out = window_record(w, e->accs, e->win, rkey, e->win.end - 1, ar);
            sr_emit(t, op, &out); /* from a timer: a failure downstream is dead-lettered */
        }
        if (sr_wtable_close(st->table, e, err, sizeof(err)) != 0) {
            rc = sr_task_fail(t, op, "%s", err);
            break;
        }
    }
    for (; i < n; i++) sr_wtable_requeue(st->table, due[i]); /* still open */
    st->min_close = sr_wtable_min_close(st->table);
    if (rc != 0) return -1;
    /* idle: what closed stays closed; a record for it is late */
    if (all && max_close > st->stream) st->stream = max_close;
    return 0;
}

/* Closes and writes the windows due at stream time, or all of them. */
static int close_windows(sr_task *t, const sr_op *op, bool all)
{
    struct window_state *st = sr_op_state(t, op);
    if (index_store(t, op, st)) return -1;
    if (st->table) return close_table(t, op, st, all);
    const struct window *w = op->conf;
    if (w->type == W_SLIDING) {
        sr_sliding sw = sliding_of(w);
        int64_t max_close;
        int rc =
            sr_sliding_close(t, op, &sw, st->store, st->stream, all, &st->min_close, &max_close);
        if (all && max_close > st->stream) st->stream = max_close; /* idle, as below */
        return rc;
    }
    struct closing c = {.t = t,
                        .op = op,
                        .st = st,
                        .upto = st->stream,
                        .all = all,
                        .min_close = INT64_MAX,
                        .max_close = -1};
    sr_store_foreach(st->store, close_one, &c);
    if (c.rc == 0) c.rc = forget_sessions(&c);
    sr_buf_free(&c.closed);
    if (c.rc != 0) return -1;
    st->min_close = c.min_close;
    /* idle: what closed stays closed; a record for it is late */
    if (c.all && c.max_close > st->stream) st->stream = c.max_close;
    return 0;
}

static int window_on_timer(sr_task *t, const sr_op *op, const sr_timer *tm)
{
    struct window_state *st = sr_op_state(t, op);
    if (tm->kind == SR_TIMER_EVENT) st->armed = false;
    return close_windows(t, op, tm->kind == SR_TIMER_WALL);
}

/* ---- checkpoint and restore ------------------------------------------------------------------ */

/* Stream time and the arrival counter, under the key "m" (window keys are longer). */
static int window_checkpoint(sr_task *t, const sr_op *op, void *state)
{
    struct window_state *st = state;
    return sr_state_meta_put(t, op, st->store, "m", 1, st->stream, st->seq);
}

static int note_close(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    const sr_op *op = ((void **)ud)[0];
    struct window_state *st = ((void **)ud)[1];
    const char *k = key;
    (void)val, (void)vlen;
    if (k[0] != 'w' || klen < 17) return 0;
    int64_t close = close_time(op->conf, (sr_window){get_be64(k + 1), get_be64(k + 9)});
    if (close < st->min_close) st->min_close = close;
    return 0;
}

/* After a restore: stream time and the arrival counter from the checkpoint, the earliest close
 * among the restored windows, the close timer when one is due, and the idle timer anew. */
static void window_restored(sr_task *t, const sr_op *op, void *state)
{
    struct window_state *st = state;
    sr_state_meta_get(st->store, "m", 1, &st->stream, &st->seq);
    st->min_close = INT64_MAX;
    const struct window *w = op->conf;
    if (w->type == W_SLIDING) {
        sr_sliding sw = sliding_of(w);
        st->min_close = sr_sliding_earliest_close(&sw, st->store);
    } else if (st->table) {
        /* a state that cannot be decoded is reported by the first record or timer, which
         * index it again */
        char err[512];
        st->indexed = sr_wtable_index(st->table, sr_task_arena(t), err, sizeof(err)) == 0;
        st->min_close = sr_wtable_min_close(st->table);
    } else {
        void *ud[2] = {(void *)op, st};
        sr_store_foreach(st->store, note_close, ud);
    }
    if (st->stream >= 0) arm(t, op, st);
    touch_idle(t, op);
}

/* End of `run`'s or `test`'s input: with flush, the windows still open are written. */
static int window_on_end(sr_task *t, const sr_op *op)
{
    const struct window *w = op->conf;
    return w->flush ? close_windows(t, op, true) : 0;
}

/* What its store's keys and values mean: the window's type (by name, its choice in the parameter
 * table, not its place in the enum), size, step and gap, and the aggregates. */
static void window_state_format(const sr_op *op, sr_buf *b)
{
    const struct window *w = op->conf;
    const char *c = window_params[0].choices;
    assert(c && strcmp(window_params[0].name, "type") == 0);
    for (int i = 0; i < w->type && c; i++) c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL;
    assert(c);
    sr_buf_puts(b, "type=");
    sr_buf_put(b, c, strcspn(c, "|"));
    sr_buf_printf(b, " size=%lld step=%lld gap=%lld;", (long long)w->size, (long long)w->step,
                  (long long)w->gap);
    sr_aggspecs_format(&w->aggs, b);
}

static void window_destroy(void *conf)
{
    struct window *w = conf;
    sr_aggspecs_free(&w->aggs);
    free(w->store_name);
}

const sr_operator_type sr_op_window = {
    .name = "window",
    .summary = "aggregates per record key over windows of event time (tumbling, hopping, "
               "sliding, session) or of records (count); writes {start, end, <aggregates>} with "
               "the key",
    .example = "- window: {type: hopping, size: 4s, step: 2s, grace: 1s, time: time, unit: ns,\n"
               "           aggregate: {avg: mean(`accelerometer-total`), n: count()}}",
    .params = window_params,
    .conf_size = sizeof(struct window),
    .state_size = sizeof(struct window_state),
    .check = window_check,
    .open = window_open,
    .process = window_process,
    .on_timer = window_on_timer,
    .on_end = window_on_end,
    .checkpoint = window_checkpoint,
    .restored = window_restored,
    .state_format = window_state_format,
    .close = window_close,
    .destroy = window_destroy,
    .store_name = window_store_name,
};
