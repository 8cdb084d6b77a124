/* task.c — one instance of a deployment's operator chain: feeding records, staging outputs, dead
 * letters. */
#include "exec/task.h"
#include "exec/source.h"
#include "state/store.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sr_task_init(sr_task *t, const sr_topology *topo, const sr_deployment *dep, int32_t partition)
{
    memset(t, 0, sizeof(*t));
    t->topo = topo;
    t->dep = dep;
    t->partition = partition;
    sr_arena_init(&t->arena, 256 * 1024);
    t->log_budget = 10;
    t->stream_time = SR_TIME_NONE;
    /* open every step, in chain order: a step's open may rely on those before it */
    t->nstate = dep->nops;
    t->state = sr_xcalloc((size_t)dep->nops + 1, sizeof(void *));
    for (int i = 0; i < dep->nops; i++) {
        const sr_op *op = &dep->ops[i];
        assert(op->slot == i);
        if (op->type->state_size) t->state[i] = sr_xcalloc(1, op->type->state_size);
        if (op->type->open) op->type->open(t, op, t->state[i]);
    }
}

void sr_task_destroy(sr_task *t)
{
    assert(t->nstate == t->dep->nops);
    for (int i = t->nstate - 1; i >= 0; i--) { /* reverse order: later steps first */
        const sr_op *op = &t->dep->ops[i];
        if (op->type->close) op->type->close(t, op, t->state[i]);
        free(t->state[i]);
    }
    free(t->state);
    for (int i = 0; i < t->nstores; i++) free(t->stores[i].format);
    free(t->stores);                   /* the stores themselves were the steps' (closed above) */
    free(t->timers[SR_TIMER_EVENT].v); /* pending timers die with the task */
    free(t->timers[SR_TIMER_WALL].v);
    sr_buf_free(&t->hook_rec);
    sr_arena_free(&t->arena);
    sr_buf_free(&t->obuf);
    free(t->outs);
    memset(t, 0, sizeof(*t));
}

sr_arena *sr_task_arena(sr_task *t)
{
    return &t->arena;
}

void *sr_op_state(sr_task *t, const sr_op *op)
{
    assert(op >= t->dep->ops && op < t->dep->ops + t->dep->nops); /* a step of t's chain */
    assert(op->slot == op - t->dep->ops && op->slot < t->nstate);
    assert(!op->type->state_size == !t->state[op->slot]);
    return t->state[op->slot];
}

void sr_state_signature(const sr_op *op, char sig[17], char **format)
{
    static const uint8_t zero[16]; /* a fixed key: the same text hashes the same everywhere */
    sr_buf b = {0};
    sr_buf_puts(&b, op->type->name);
    sr_buf_putc(&b, '\n');
    if (op->type->state_format) op->type->state_format(op, &b);
    uint64_t h = sr_siphash24(zero, b.d, b.len);
    if (format) *format = sr_xstrndup(b.d, b.len);
    sr_buf_free(&b);
    snprintf(sig, 17, "%016llx", (unsigned long long)h);
}

void sr_task_add_store(sr_task *t, const sr_op *op, sr_store *st)
{
    assert(op >= t->dep->ops && op < t->dep->ops + t->dep->nops && st);
    if (t->nstores == t->capstores) {
        t->capstores = t->capstores ? t->capstores * 2 : 4;
        t->stores = sr_xrealloc(t->stores, sizeof(*t->stores) * (size_t)t->capstores);
    }
    sr_task_store *ts = &t->stores[t->nstores++];
    *ts = (sr_task_store){.op = op, .store = st};
    sr_state_signature(op, ts->signature, &ts->format);
}

int sr_task_checkpoint(sr_task *t)
{
    for (int i = 0; i < t->nstate; i++) {
        const sr_op *op = &t->dep->ops[i];
        if (op->type->checkpoint && op->type->checkpoint(t, op, t->state[i]) != 0) return -1;
    }
    return 0;
}

void sr_task_restored(sr_task *t)
{
    for (int i = 0; i < t->nstate; i++) {
        const sr_op *op = &t->dep->ops[i];
        if (op->type->restored) op->type->restored(t, op, t->state[i]);
    }
}

const char *sr_task_input_topic(const sr_task *t)
{
    return t->origin ? t->origin->topic : NULL;
}

int32_t sr_task_partition(const sr_task *t)
{
    return t->partition;
}

const sr_file_sink *sr_task_files(const sr_task *t)
{
    return t->files;
}

int sr_task_fail(sr_task *t, const sr_op *op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof(t->err), fmt, ap);
    va_end(ap);
    t->err_op = op;
    return -1;
}

static sr_out *new_out(sr_task *t)
{
    if (t->nouts == t->capouts) {
        t->capouts = t->capouts ? t->capouts * 2 : 256;
        t->outs = sr_xrealloc(t->outs, sizeof(sr_out) * t->capouts);
    }
    sr_out *o = &t->outs[t->nouts++];
    memset(o, 0, sizeof(*o));
    o->partition = -1;
    return o;
}

/* What a produced record takes beyond its key, value and headers' bytes (librdkafka counts
 * under 50 for the record and 10 for each header's lengths), with room to spare. */
#define RECORD_OVERHEAD 256
#define HEADER_OVERHEAD 10

static size_t headers_size(const sr_header *h, uint32_t n)
{
    size_t s = 0;
    for (uint32_t i = 0; i < n; i++) s += h[i].nlen + h[i].vlen + HEADER_OVERHEAD;
    return s;
}

void sr_header_put(sr_buf *b, const char *name, size_t nlen, const char *val, size_t vlen)
{
    uint32_t n = (uint32_t)nlen;
    int32_t v = val ? (int32_t)vlen : -1;
    sr_buf_put(b, &n, sizeof(n));
    sr_buf_put(b, name, nlen);
    sr_buf_put(b, &v, sizeof(v));
    if (val) sr_buf_put(b, val, vlen);
}

static void put_key(sr_task *t, sr_out *o, const char *key, size_t len, bool null)
{
    o->key_off = t->obuf.len;
    o->key_len = null ? -1 : (int32_t)len;
    if (!null) sr_buf_put(&t->obuf, key, len);
    sr_buf_putc(&t->obuf, 0); /* keys are also used as C strings */
}

int sr_task_output(sr_task *t, const sr_op *op, const sr_topic *topic, const sr_record *r)
{
    size_t mark = t->obuf.len;
    sr_out *o = new_out(t);
    o->topic = topic;
    o->ts = r->ts;
    o->val_off = t->obuf.len;
    if (r->tombstone) {
        assert(r->value.type == SR_NULL); /* a deletion carries no value */
        o->val_null = true;
    } else if (sr_json_write(&t->obuf, &r->value) != 0) {
        t->nouts--;
        t->obuf.len = mark;
        return sr_task_fail(t, op,
                            "the record cannot be written as JSON: it holds NaN or infinity");
    }
    o->val_len = t->obuf.len - o->val_off;
    if (r->key.type == SR_STR)
        put_key(t, o, r->key.u.s, r->key.len, false);
    else
        put_key(t, o, NULL, 0, true);
    o->hdr_off = t->obuf.len;
    for (uint32_t i = 0; i < r->nhdr; i++)
        sr_header_put(&t->obuf, r->hdr[i].name, r->hdr[i].nlen, r->hdr[i].val, r->hdr[i].vlen);
    o->nhdr = r->nhdr;
    o->hdr_len = t->obuf.len - o->hdr_off;
    size_t size = o->val_len + (o->key_len > 0 ? (size_t)o->key_len : 0) + o->hdr_len;
    if (t->max_msg_bytes && size + RECORD_OVERHEAD > t->max_msg_bytes) {
        t->nouts--;
        t->obuf.len = mark;
        return sr_task_fail(t, op,
                            "the output to %s takes %zu bytes, more than message.max.bytes (%zu)",
                            topic->name, size, t->max_msg_bytes);
    }
    return 0;
}

static int emit_from_hook(sr_task *t, const sr_op *op, sr_record *r);

int sr_emit(sr_task *t, const sr_op *op, sr_record *r)
{
    if (op && op == t->hook_op) return emit_from_hook(t, op, r);
    const sr_op *next = op ? op->next : (t->dep->nops ? &t->dep->ops[0] : NULL);
    /* a deletion (a join's retraction) has no value for steps to change: it passes them as it
     * is, to the outputs or the first step that writes topics (to, route) or takes deletions */
    while (r->tombstone && next && !(next->type->flags & (SR_OP_TOMBSTONES | SR_OP_TERMINAL)))
        next = next->next;
    if (next) return next->type->process(t, next, r);
    t->reached_end = true;
    if (op && (op->type->flags & SR_OP_TERMINAL)) return 0;
    for (int i = 0; i < t->dep->noutputs; i++)
        if (sr_task_output(t, op, t->dep->outputs[i], r) != 0) return -1;
    return 0;
}

static void log_error(sr_task *t, const sr_origin *o, const char *where, const char *reason)
{
    if (t->log_budget <= 0) return;
    t->log_budget--;
    char at[256];
    if (o->file)
        snprintf(at, sizeof(at), "%s:%ld", o->file, o->line);
    else if (!o->topic)
        snprintf(at, sizeof(at), "%s", "made by a step (not an input)");
    else
        snprintf(at, sizeof(at), "%s[%d]@%lld", o->topic ? o->topic : "?", o->partition,
                 (long long)o->offset);
    fprintf(stderr, "streamrun: %s: record %s failed in %s: %s%s\n", t->dep->name, at, where,
            reason, t->log_budget == 0 ? " (further record errors are counted, not logged)" : "");
}

/* Stages o's dead letter (sr_task_dead_letter), or counts and logs it; counts nothing else. */
static void stage_dead_letter(sr_task *t, const sr_origin *o, const char *where, const char *reason)
{
    if (!t->dep->dead_letter) {
        t->dropped_errors++;
        log_error(t, o, where, reason);
        return;
    }
    t->dead_staged++;
    size_t vlen = o->rawlen, klen = o->keylen;
    uint32_t nin = o->nhdr;
    char why[1024];
    snprintf(why, sizeof(why), "%s", reason);
    bool cut = false;
    if (t->max_msg_bytes) {
        /* the streamrun.* headers, the longer reason and streamrun.source.size included */
        size_t meta = RECORD_OVERHEAD + 8 * (HEADER_OVERHEAD + 32) + strlen(reason) + 256 +
                      strlen(where) + strlen(t->dep->name) + (o->topic ? strlen(o->topic) : 0) +
                      (o->file ? strlen(o->file) : 0);
        size_t budget = t->max_msg_bytes > meta ? t->max_msg_bytes - meta : 0;
        size_t hin = headers_size(o->hdr, o->nhdr);
        if (vlen + klen + hin > budget) {
            cut = true;
            char more[160] = "";
            if (klen + hin > budget) { /* the value alone cannot make room */
                nin = 0;
                hin = 0;
                snprintf(more, sizeof(more), "; the input's %u headers are left out", o->nhdr);
                if (klen > budget) {
                    klen = budget;
                    snprintf(more + strlen(more), sizeof(more) - strlen(more),
                             "; its key holds the first %zu of %zu bytes", klen, o->keylen);
                }
            }
            size_t room = budget - klen - hin;
            vlen = vlen < room ? vlen : room;
            snprintf(why, sizeof(why),
                     "%s (the dead letter is cut to fit message.max.bytes, %zu: its value holds "
                     "the first %zu of %zu bytes%s)",
                     reason, t->max_msg_bytes, vlen, o->rawlen, more);
        }
    }
    sr_out *out = new_out(t);
    out->topic = t->dep->dead_letter;
    out->ts = o->ts;
    out->val_off = t->obuf.len;
    sr_buf_put(&t->obuf, o->raw, vlen);
    out->val_len = vlen;
    out->val_null = o->tombstone;
    put_key(t, out, o->key, klen, o->key == NULL);
    out->hdr_off = t->obuf.len;
    for (uint32_t i = 0; i < nin; i++)
        sr_header_put(&t->obuf, o->hdr[i].name, o->hdr[i].nlen, o->hdr[i].val, o->hdr[i].vlen);
    uint32_t n = nin;
    char num[32];
#define HDR(name, val, len) (sr_header_put(&t->obuf, name, strlen(name), val, len), n++)
    HDR("streamrun.error", why, strlen(why));
    HDR("streamrun.operator", where, strlen(where));
    HDR("streamrun.deployment", t->dep->name, strlen(t->dep->name));
    if (o->topic) {
        HDR("streamrun.source.topic", o->topic, strlen(o->topic));
        snprintf(num, sizeof(num), "%d", o->partition);
        HDR("streamrun.source.partition", num, strlen(num));
        snprintf(num, sizeof(num), "%lld", (long long)o->offset);
        HDR("streamrun.source.offset", num, strlen(num));
    }
    if (o->file) {
        HDR("streamrun.source.file", o->file, strlen(o->file));
        snprintf(num, sizeof(num), "%ld", o->line);
        HDR("streamrun.source.line", num, strlen(num));
    }
    if (cut) {
        snprintf(num, sizeof(num), "%zu", o->rawlen);
        HDR("streamrun.source.size", num, strlen(num));
    }
#undef HDR
    out->nhdr = n;
    out->hdr_len = t->obuf.len - out->hdr_off;
}

void sr_task_dead_letter(sr_task *t, const sr_origin *o, const char *where, const char *reason)
{
    t->stats.dead++;
    stage_dead_letter(t, o, where, reason);
}

void sr_task_dead_letter_kept(sr_task *t, const sr_op *op, const sr_record *r, const char *reason)
{
    assert(t->hook_op == op); /* from op's hook: nothing withdraws it */
    sr_buf val = {0};
    (void)sr_json_write(&val, &r->value); /* NaN: what can be written */
    sr_origin o = {.raw = val.d ? val.d : "",
                   .rawlen = val.len,
                   .tombstone = r->tombstone,
                   .key = r->key.type == SR_STR ? r->key.u.s : NULL,
                   .keylen = r->key.type == SR_STR ? r->key.len : 0,
                   .ts = r->ts,
                   .partition = -1,
                   .offset = -1};
    stage_dead_letter(t, &o, op->label, reason);
    sr_buf_free(&val);
}

static int fire_timers(sr_task *t, sr_timer_kind kind, int64_t upto);

static int feed(sr_task *t, const sr_origin *o, const sr_value *value);

/* A record of a topic a step keeps a table of (operator.h: table_topic) goes to every step that
 * keeps one of it, instead of the chain: counted as delivered when the tables took it,
 * dead-lettered when one could not. Returns -1 when no step keeps a table of o's topic. */
static int feed_table(sr_task *t, const sr_origin *o)
{
    if (!o->topic) return -1;
    int found = 0;
    for (int i = 0; i < t->dep->nops; i++) {
        const sr_op *op = &t->dep->ops[i];
        const sr_topic *tp = op->type->table_topic ? op->type->table_topic(op) : NULL;
        if (!tp || strcmp(tp->name, o->topic) != 0) continue;
        if (!found++) {
            t->origin = o;
            t->stats.in++;
            t->err_op = NULL;
            t->err[0] = 0;
        }
        if (op->type->table_update(t, op, t->state[op->slot], o) != 0) {
            sr_task_dead_letter(t, o, t->err_op ? t->err_op->label : op->label, t->err);
            return 1;
        }
    }
    if (!found) return -1;
    t->stats.delivered++;
    return 0;
}

int sr_task_feed(sr_task *t, const sr_origin *o, const sr_value *value)
{
    int tab = feed_table(t, o);
    if (tab >= 0) return tab; /* a table's record: not in the chain, and not the stream's time */
    if (o->ts > t->stream_time) t->stream_time = o->ts; /* before: the record sees it */
    int rc = feed(t, o, value);
    (void)fire_timers(t, SR_TIMER_EVENT, t->stream_time); /* after the record, before its outputs */
    return rc;
}

static int feed(sr_task *t, const sr_origin *o, const sr_value *value)
{
    t->origin = o;
    t->stats.in++;
    size_t mark_n = t->nouts, mark_len = t->obuf.len;
    sr_record r = {0};
    if (value) {
        r.value = *value;
    } else if (o->tombstone && t->dep->nops && (t->dep->ops[0].type->flags & SR_OP_TOMBSTONES)) {
        r.value = sr_null(); /* a deletion, for a first step that takes them */
        r.tombstone = true;
    } else if (o->tombstone) {
        sr_task_dead_letter(t, o, "input",
                            "the record has no value (a tombstone: its value is null)");
        return 1;
    } else {
        char err[160];
        size_t pos = 0;
        if (sr_json_parse(&t->arena, o->raw, o->rawlen, &r.value, err, sizeof(err), &pos) != 0) {
            char reason[256];
            snprintf(reason, sizeof(reason), "invalid JSON at byte %zu: %s", pos + 1, err);
            sr_task_dead_letter(t, o, "input", reason);
            return 1;
        }
    }
    r.key = o->key ? sr_str(o->key, o->keylen) : sr_null();
    r.ts = o->ts;
    r.hdr = o->hdr;
    r.nhdr = o->nhdr;
    t->err_op = NULL;
    t->err[0] = 0;
    t->reached_end = false;
    if (sr_emit(t, NULL, &r) != 0) {
        /* all or nothing: withdraw what this input produced, dead-letter the input */
        t->nouts = mark_n;
        t->obuf.len = mark_len;
        sr_task_dead_letter(t, o, t->err_op ? t->err_op->label : "output", t->err);
        return 1;
    }
    t->stats.out += t->nouts - mark_n;
    /* route and to write topics without reaching the end of the pipeline */
    if (t->reached_end || t->nouts > mark_n)
        t->stats.delivered++;
    else
        t->stats.filtered++;
    assert(t->stats.in == t->stats.delivered + t->stats.filtered + t->stats.dead);
    return 0;
}

void sr_task_batch_done(sr_task *t)
{
    t->nouts = 0;
    t->obuf.len = 0;
    sr_arena_reset(&t->arena);
}

int sr_need_object(sr_task *t, const sr_op *op, const sr_record *r)
{
    if (r->value.type == SR_OBJ) return 0;
    return sr_task_fail(t, op, "the record must be a JSON object, not %s",
                        sr_type_name((sr_type)r->value.type));
}

int sr_task_feed_row(sr_task *t, const sr_source *src, const sr_readrec *rec, sr_arena *scratch,
                     int64_t now_ms)
{
    sr_origin org = {.raw = rec->raw,
                     .rawlen = rec->rawlen,
                     .ts = now_ms,
                     .file = src->path,
                     .line = rec->line,
                     .partition = -1,
                     .offset = -1};
    t->now_ms = now_ms;
    if (!rec->ok) {
        t->origin = &org;
        t->stats.in++;
        sr_task_dead_letter(t, &org, "source", rec->reason);
        return 1;
    }
    const sr_value *v = &rec->value;
    if (src->key && v->type == SR_OBJ) {
        sr_value *kv = sr_obj_get(v, src->key, strlen(src->key));
        if (kv && kv->type != SR_NULL) {
            sr_value ks = sr_value_to_str(scratch, kv);
            org.key = ks.u.s;
            org.keylen = ks.len;
        }
    }
    if (src->timestamp && v->type == SR_OBJ) {
        sr_value *tv = sr_obj_get(v, src->timestamp, strlen(src->timestamp));
        if (tv && sr_is_number(tv)) org.ts = (int64_t)sr_num_double(tv);
    }
    return sr_task_feed(t, &org, v);
}

int sr_record_json(sr_buf *b, const sr_record *r, bool metadata)
{
    if (metadata) {
        sr_buf_puts(b, "{\"key\":");
        sr_json_write(b, &r->key);
        sr_buf_printf(b, ",\"timestamp\":%lld,\"value\":", (long long)r->ts);
    }
    int rc = sr_json_write(b, &r->value);
    if (metadata) sr_buf_putc(b, '}');
    return rc;
}

static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

int sr_output_and_emit(sr_task *t, const sr_op *op, sr_record *r,
                       int (*out)(sr_task *t, const sr_op *op, sr_record *r))
{
    pthread_mutex_lock(&output_lock);
    int rc = out(t, op, r);
    pthread_mutex_unlock(&output_lock);
    return rc == 0 ? sr_emit(t, op, r) : rc; /* outside the lock: a later step may print too */
}

/* ---- time ----------------------------------------------------------------------------------- */

int64_t sr_task_stream_time(const sr_task *t)
{
    return t->stream_time;
}

int64_t sr_task_now(const sr_task *t)
{
    return t->now_ms;
}

static bool fires_before(const sr_timer_entry *a, const sr_timer_entry *b)
{
    return a->tm.at != b->tm.at ? a->tm.at < b->tm.at : a->seq < b->seq;
}

static void sift_up(sr_timer_heap *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!fires_before(&h->v[i], &h->v[parent])) break;
        sr_timer_entry tmp = h->v[i];
        h->v[i] = h->v[parent];
        h->v[parent] = tmp;
        i = parent;
    }
}

static void sift_down(sr_timer_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && fires_before(&h->v[l], &h->v[m])) m = l;
        if (r < h->n && fires_before(&h->v[r], &h->v[m])) m = r;
        if (m == i) return;
        sr_timer_entry tmp = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = tmp;
        i = m;
    }
}

static void assert_step_of(const sr_task *t, const sr_op *op)
{
    assert(op >= t->dep->ops && op < t->dep->ops + t->dep->nops);
    (void)t;
    (void)op;
}

void sr_timer_set(sr_task *t, const sr_op *op, sr_timer_kind kind, int64_t at, uint64_t id)
{
    assert_step_of(t, op);
    assert(op->type->on_timer); /* nothing could receive it */
    assert(kind == SR_TIMER_EVENT || kind == SR_TIMER_WALL);
    sr_timer_heap *h = &t->timers[kind];
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 16;
        h->v = sr_xrealloc(h->v, sizeof(sr_timer_entry) * h->cap);
    }
    h->v[h->n] = (sr_timer_entry){{kind, at, id}, t->timer_seq++, op};
    sift_up(h, h->n++);
}

int sr_timer_cancel(sr_task *t, const sr_op *op, sr_timer_kind kind, uint64_t id)
{
    assert_step_of(t, op);
    assert(kind == SR_TIMER_EVENT || kind == SR_TIMER_WALL);
    sr_timer_heap *h = &t->timers[kind];
    size_t keep = 0;
    for (size_t i = 0; i < h->n; i++)
        if (h->v[i].op != op || h->v[i].tm.id != id) h->v[keep++] = h->v[i];
    int gone = (int)(h->n - keep);
    h->n = keep;
    if (gone)
        for (size_t i = h->n / 2; i-- > 0;) sift_down(h, i); /* heapify what is left */
    return gone;
}

/* A record op emits from a hook goes down the chain like any other. If it fails there, what it
 * had produced is withdrawn and it is dead-lettered alone, with its value as op emitted it (kept
 * as JSON before the steps after op change it). */
static int emit_from_hook(sr_task *t, const sr_op *op, sr_record *r)
{
    assert(t->hook_op == op && t->hook_what);
    size_t mark_n = t->nouts, mark_len = t->obuf.len;
    sr_buf *keep = &t->hook_rec;
    keep->len = 0;
    (void)sr_json_write(keep, &r->value); /* NaN: what can be written; the output fails too */
    sr_value key = r->key;
    int64_t ts = r->ts;
    const sr_header *hdr = r->hdr;
    uint32_t nhdr = r->nhdr;
    t->hook_op = NULL; /* the steps after op emit as usual */
    t->err_op = NULL;
    t->err[0] = 0;
    int rc = sr_emit(t, op, r);
    t->hook_op = op;
    if (rc == 0) return 0; /* counted by run_hook */
    t->nouts = mark_n;
    t->obuf.len = mark_len;
    sr_origin o = {.raw = keep->d ? keep->d : "",
                   .rawlen = keep->len,
                   .key = key.type == SR_STR ? key.u.s : NULL,
                   .keylen = key.type == SR_STR ? key.len : 0,
                   .ts = ts,
                   .hdr = hdr,
                   .nhdr = nhdr,
                   .partition = -1,
                   .offset = -1};
    char reason[sizeof(t->err) + 160];
    snprintf(reason, sizeof(reason), "%s (a record %s emitted %s)", t->err, op->label,
             t->hook_what);
    t->stats.emit_dead++;
    stage_dead_letter(t, &o, t->err_op ? t->err_op->label : "output", reason);
    return 0;
}

/* Runs op's on_timer for tm, or its on_end when tm is NULL, with no input record. A hook that
 * fails is dead-lettered as a small JSON description of what it ran for. */
static void run_hook(sr_task *t, const sr_op *op, const sr_timer *tm)
{
    const sr_origin *input = t->origin;
    t->origin = NULL; /* metadata of the emitted records: no input topic, partition, offset */
    t->hook_op = op;
    t->hook_what = !tm                          ? "at the end of input"
                   : tm->kind == SR_TIMER_EVENT ? "at an event-time timer"
                                                : "at a wall-clock timer";
    t->err_op = NULL;
    t->err[0] = 0;
    size_t outs_before = t->nouts;
    uint64_t dead_before = t->dead_staged;
    int rc = tm ? op->type->on_timer(t, op, tm) : op->type->on_end(t, op);
    t->hook_op = NULL;
    if (rc != 0) {
        char desc[160];
        if (tm)
            snprintf(desc, sizeof(desc), "{\"timer\":{\"clock\":\"%s\",\"at\":%lld,\"id\":%llu}}",
                     tm->kind == SR_TIMER_EVENT ? "event" : "wall", (long long)tm->at,
                     (unsigned long long)tm->id);
        else
            snprintf(desc, sizeof(desc), "{\"end_of_input\":{\"stream_time\":%lld}}",
                     (long long)(t->stream_time == SR_TIME_NONE ? -1 : t->stream_time));
        sr_origin o = {.raw = desc,
                       .rawlen = strlen(desc),
                       .ts = tm && tm->kind == SR_TIMER_EVENT ? tm->at : t->now_ms,
                       .partition = -1,
                       .offset = -1};
        t->stats.emit_dead++;
        stage_dead_letter(t, &o, op->label, t->err[0] ? t->err : "the hook failed");
    }
    /* outputs: whatever the hook staged (by sr_emit or sr_task_output), dead letters apart;
     * what it staged before failing stays, each record having gone on its own */
    assert(t->nouts >= outs_before);
    t->stats.out += (t->nouts - outs_before) - (t->dead_staged - dead_before);
    t->hook_what = NULL;
    t->origin = input;
}

/* Fires kind's timers due by upto, in order, including those set while firing; returns how
 * many. */
static int fire_timers(sr_task *t, sr_timer_kind kind, int64_t upto)
{
    sr_timer_heap *h = &t->timers[kind];
    int fired = 0;
    while (h->n && h->v[0].tm.at <= upto) {
        sr_timer_entry e = h->v[0];
        h->v[0] = h->v[--h->n];
        sift_down(h, 0);
        run_hook(t, e.op, &e.tm);
        fired++;
    }
    return fired;
}

int sr_task_tick(sr_task *t, int64_t now_ms)
{
    t->now_ms = now_ms;
    return fire_timers(t, SR_TIMER_WALL, now_ms);
}

void sr_task_end(sr_task *t)
{
    assert(!t->ended); /* once per task */
    t->ended = true;
    for (int i = 0; i < t->dep->nops; i++) { /* in chain order: what one emits meets the next */
        const sr_op *op = &t->dep->ops[i];
        if (op->type->on_end) run_hook(t, op, NULL);
    }
}

int64_t sr_task_next_tick(const sr_task *t)
{
    const sr_timer_heap *h = &t->timers[SR_TIMER_WALL];
    return h->n ? h->v[0].tm.at : INT64_MAX;
}

void sr_print_counts(FILE *fp, uint64_t in, uint64_t filtered, uint64_t dead, uint64_t out)
{
    assert(filtered + dead <= in);
    fprintf(fp, "%llu in (%llu delivered, %llu filtered, %llu dead-lettered), %llu out",
            (unsigned long long)in, (unsigned long long)(in - filtered - dead),
            (unsigned long long)filtered, (unsigned long long)dead, (unsigned long long)out);
}

/* The reports of d's steps: those of one line (lines false) after ", ", or those of several lines
 * (lines true, each ending with a newline) indented under the summary line. */
static void print_reports(FILE *fp, const sr_deployment *d, bool lines)
{
    sr_buf b = {0};
    for (int i = 0; i < d->nops; i++) {
        const sr_op *op = &d->ops[i];
        if (!op->type->report) continue;
        b.len = 0;
        op->type->report(op, &b);
        if (!b.len || (b.d[b.len - 1] == '\n') != lines) continue;
        if (!lines) {
            fprintf(fp, ", %.*s", (int)b.len, b.d);
            continue;
        }
        for (size_t at = 0; at < b.len;) {
            const char *nl = memchr(b.d + at, '\n', b.len - at);
            assert(nl);
            size_t end = (size_t)(nl - b.d);
            fprintf(fp, "  %.*s\n", (int)(end - at), b.d + at);
            at = end + 1;
        }
    }
    sr_buf_free(&b);
}

void sr_print_reports(FILE *fp, const sr_deployment *d)
{
    print_reports(fp, d, false);
}

void sr_print_report_lines(FILE *fp, const sr_deployment *d)
{
    print_reports(fp, d, true);
}
