/* local.c — the in-process runner behind `streamrun run` and `streamrun test`. */
#include "exec/local.h"
#include "exec/source.h"
#include "load/table.h"
#include "state/store.h"

#include <assert.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct dep_state {
    const sr_deployment *dep;
    bool selected;
    sr_task *tasks; /* one per partition, created on first use */
    bool *live;
    bool *timed; /* the task is in sr_local.timed */
    int ntasks;
    sr_local_stats dropped; /* the counts of tasks dropped by a crash */
} dep_state;

/* The changelog of one store of one task (sr_local_commit): the latest value of every key, as a
 * compacted changelog topic keeps it. */
typedef struct changelog {
    int dep;
    int32_t part;
    sr_store *log; /* named as the store it logs */
} changelog;

/* A task with wall-clock timers pending: ticked when the clock moves. */
typedef struct timed_task {
    int dep;
    int part;
} timed_task;

struct sr_local {
    const sr_topology *topo;
    dep_state *deps;
    sr_local_sink sink;
    void *ud;
    int64_t clock;
    bool fixed_clock;          /* clock set by sr_local_set_clock: a test clock */
    const sr_file_sink *files; /* for every task: NULL, or where file writes go */
    /* per topic: next offset per partition, round-robin cursor */
    int64_t **offsets;
    int32_t *rr;
    /* per topic: the selected deployments that read it, in file order */
    int **readers;
    int *nreaders;
    struct frame *frames; /* the delivery walk's stack (see run_frames) */
    int nframes, capframes;
    timed_task *timed; /* tasks that may have wall-clock timers, in the order they set them */
    int ntimed, captimed;
    bool ended; /* sr_local_end was called */
    changelog *logs;
    int nlogs, caplogs;
    sr_mem_budget log_budget; /* the changelogs' (no limit: they stand for topics) */
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(const sr_local *l)
{
    return l->fixed_clock ? l->clock : wall_ms();
}

int32_t sr_partition_for_key(const char *key, size_t keylen, int32_t partitions)
{
    if (partitions <= 1) return 0;
    return rd_kafka_msg_partitioner_murmur2(NULL, key, keylen, partitions, NULL, NULL);
}

static int topic_index(const sr_local *l, const sr_topic *t)
{
    assert(t->index >= 0 && t->index < l->topo->ntopics && l->topo->topics[t->index] == t);
    (void)l;
    return t->index;
}

sr_local *sr_local_new(const sr_topology *topo, const char *const *only, int nonly,
                       sr_local_sink sink, void *ud)
{
    /* global tables hold what was produced to their topics in this run only */
    for (int i = 0; i < topo->ntables; i++)
        if (topo->tables[i]->live) sr_gtable_clear(topo->tables[i]->live);
    sr_local *l = sr_xcalloc(1, sizeof(*l));
    l->topo = topo;
    l->sink = sink;
    l->ud = ud;
    l->deps = sr_xcalloc((size_t)topo->ndeps + 1, sizeof(dep_state));
    sr_mem_budget_init(&l->log_budget, SIZE_MAX);
    for (int i = 0; i < topo->ndeps; i++) {
        dep_state *ds = &l->deps[i];
        ds->dep = &topo->deps[i];
        ds->selected = nonly == 0;
        int parts = 1;
        for (int k = 0; k < ds->dep->ninputs; k++)
            if (ds->dep->inputs[k]->partitions > parts) parts = ds->dep->inputs[k]->partitions;
        ds->ntasks = parts;
        ds->tasks = sr_xcalloc((size_t)parts, sizeof(sr_task));
        ds->live = sr_xcalloc((size_t)parts, sizeof(bool));
        ds->timed = sr_xcalloc((size_t)parts, sizeof(bool));
    }
    for (int k = 0; k < nonly; k++) { /* by name, in O(log n) each */
        const sr_deployment *d = sr_topology_deployment(topo, only[k]);
        if (d) l->deps[d - topo->deps].selected = true;
    }
    for (int i = 0; i < topo->ndeps; i++) { /* a split deployment's stages go with it */
        const sr_deployment *o = topo->deps[i].origin;
        if (o && l->deps[o - topo->deps].selected) l->deps[i].selected = true;
    }
    l->offsets = sr_xcalloc((size_t)topo->ntopics + 1, sizeof(int64_t *));
    l->rr = sr_xcalloc((size_t)topo->ntopics + 1, sizeof(int32_t));
    for (int i = 0; i < topo->ntopics; i++)
        l->offsets[i] = sr_xcalloc((size_t)topo->topics[i]->partitions, sizeof(int64_t));
    l->readers = sr_xcalloc((size_t)topo->ntopics + 1, sizeof(int *));
    l->nreaders = sr_xcalloc((size_t)topo->ntopics + 1, sizeof(int));
    for (int pass = 0; pass < 2; pass++) { /* count, then fill */
        for (int i = 0; i < topo->ntopics; i++) {
            if (pass == 1) l->readers[i] = sr_xcalloc((size_t)l->nreaders[i] + 1, sizeof(int));
            l->nreaders[i] = 0;
        }
        for (int i = 0; i < topo->ndeps; i++) {
            if (!l->deps[i].selected) continue;
            for (int k = 0; k < topo->deps[i].ninputs; k++) {
                int ti = topic_index(l, topo->deps[i].inputs[k]);
                if (pass == 1) l->readers[ti][l->nreaders[ti]] = i;
                l->nreaders[ti]++;
            }
        }
    }
    return l;
}

void sr_local_free(sr_local *l)
{
    if (!l) return;
    for (int i = 0; i < l->topo->ndeps; i++) {
        dep_state *ds = &l->deps[i];
        for (int p = 0; p < ds->ntasks; p++)
            if (ds->live[p]) sr_task_destroy(&ds->tasks[p]);
        free(ds->tasks);
        free(ds->live);
        free(ds->timed);
    }
    for (int i = 0; i < l->topo->ntopics; i++) {
        free(l->offsets[i]);
        free(l->readers[i]);
    }
    for (int i = 0; i < l->nlogs; i++) sr_store_destroy(l->logs[i].log);
    free(l->logs);
    free(l->offsets);
    free(l->readers);
    free(l->nreaders);
    free(l->frames);
    free(l->timed);
    free(l->rr);
    free(l->deps);
    free(l);
}

static void tick(sr_local *l);

void sr_local_set_clock(sr_local *l, int64_t ms)
{
    l->clock = ms;
    l->fixed_clock = true;
    tick(l); /* wall-clock timers follow the test clock */
}

void sr_local_capture_files(sr_local *l, const sr_file_sink *sink)
{
    l->files = sink;
}

bool sr_local_selected(const sr_local *l, const sr_deployment *d)
{
    assert(d >= l->topo->deps && d < l->topo->deps + l->topo->ndeps);
    return l->deps[d - l->topo->deps].selected;
}

static sr_task *task_for(sr_local *l, dep_state *ds, int32_t p)
{
    if (p >= ds->ntasks) p %= ds->ntasks;
    if (!ds->live[p]) {
        sr_task_init(&ds->tasks[p], l->topo, ds->dep, p);
        ds->tasks[p].files = l->files;
        ds->live[p] = true;
    }
    ds->tasks[p].now_ms = now_ms(l);
    return &ds->tasks[p];
}

/* ---- delivery ------------------------------------------------------------------------------
 * A record written to a topic goes to each selected deployment that reads it, and what that
 * deployment makes goes on at once, depth first, so that the output order follows the input
 * order. The walk keeps its own stack of frames on the heap: a chain of deployments as long as
 * a file may declare costs memory, not C stack (recursing once per deployment overflowed it). */

struct frame {
    bool flushing; /* handing on a task's outputs (t, next); else a record to its readers */
    sr_task *t;
    size_t next;
    const sr_topic *topic; /* the record: on topic, partition, offset; bytes at base */
    int32_t partition;
    int ti;
    int64_t offset;
    const char *base;
    const sr_out *o;
    sr_header *hdrs; /* its headers decoded for the readers' origin (malloc'd), or NULL */
    int reader;      /* next index into the topic's readers */
};

static struct frame *push_frame(sr_local *l)
{
    if (l->nframes == l->capframes) {
        l->capframes = l->capframes ? l->capframes * 2 : 16;
        l->frames = sr_xrealloc(l->frames, sizeof(struct frame) * (size_t)l->capframes);
    }
    struct frame *f = &l->frames[l->nframes++];
    memset(f, 0, sizeof(*f));
    return f;
}

/* The partition an output of t goes to: its own, by key, or (no key) t's input partition. */
static int32_t out_partition(const sr_task *t, const sr_out *o)
{
    int32_t parts = o->topic->partitions;
    if (o->partition >= 0) return o->partition;
    if (o->key_len >= 0)
        return sr_partition_for_key(t->obuf.d + o->key_off, (size_t)o->key_len, parts);
    return t->partition % parts;
}

/* Writes o (bytes at base, which must stay until the frames are run) to topic: the sink sees
 * it now, its readers when the frames are run. */
static void push_record(sr_local *l, const sr_topic *topic, int32_t partition, bool input,
                        const char *base, const sr_out *o)
{
    int ti = topic_index(l, topic);
    int64_t offset = l->offsets[ti][partition % topic->partitions]++;
    if (l->sink) l->sink(l->ud, topic, partition, input, base, o);
    /* a global table of the topic sees the record now, before any later record is processed */
    if (l->topo->ntables)
        sr_tables_on_record(l->topo, topic, o->key_len < 0 ? NULL : base + o->key_off,
                            o->key_len < 0 ? 0 : (size_t)o->key_len, base + o->val_off, o->val_len,
                            o->val_null, o->ts);
    if (l->nreaders[ti] == 0) return;
    sr_header *hdrs = o->nhdr ? sr_xmalloc(sizeof(sr_header) * o->nhdr) : NULL;
    const char *h = base + o->hdr_off;
    for (uint32_t i = 0; i < o->nhdr; i++) h = sr_header_next(h, &hdrs[i]);
    struct frame *f = push_frame(l);
    *f = (struct frame){.topic = topic,
                        .partition = partition,
                        .ti = ti,
                        .offset = offset,
                        .base = base,
                        .o = o,
                        .hdrs = hdrs};
}

/* Remembers t when it has wall-clock timers, so that tick() visits it (and only such tasks). */
static void note_timed(sr_local *l, dep_state *ds, sr_task *t)
{
    int p = (int)(t - ds->tasks);
    assert(p >= 0 && p < ds->ntasks && ds->live[p]);
    if (ds->timed[p] || sr_task_next_tick(t) == INT64_MAX) return;
    if (l->ntimed == l->captimed) {
        l->captimed = l->captimed ? l->captimed * 2 : 16;
        l->timed = sr_xrealloc(l->timed, sizeof(timed_task) * (size_t)l->captimed);
    }
    l->timed[l->ntimed++] = (timed_task){(int)(ds - l->deps), p};
    ds->timed[p] = true;
}

/* Runs the frames above depth `floor` to the end. */
static void run_frames(sr_local *l, int floor)
{
    while (l->nframes > floor) {
        struct frame *f = &l->frames[l->nframes - 1]; /* pushing may move it: not kept */
        if (f->flushing) {
            sr_task *t = f->t;
            if (f->next < t->nouts) {
                const sr_out *o = &t->outs[f->next++];
                push_record(l, o->topic, out_partition(t, o), false, t->obuf.d, o);
            } else {
                sr_task_batch_done(t);
                l->nframes--;
            }
            continue;
        }
        if (f->reader == l->nreaders[f->ti]) {
            free(f->hdrs);
            l->nframes--;
            continue;
        }
        dep_state *ds = &l->deps[l->readers[f->ti][f->reader++]];
        sr_task *t = task_for(l, ds, f->partition);
        const sr_out *o = f->o;
        sr_origin org = {
            .topic = f->topic->name,
            .partition = f->partition,
            .offset = f->offset,
            .raw = f->base + o->val_off,
            .rawlen = o->val_len,
            .tombstone = o->val_null,
            .key = o->key_len < 0 ? NULL : f->base + o->key_off,
            .keylen = o->key_len < 0 ? 0 : (size_t)o->key_len,
            .ts = o->ts,
            .hdr = f->hdrs,
            .nhdr = o->nhdr,
        };
        sr_task_feed(t, &org, NULL);
        note_timed(l, ds, t);
        struct frame *g = push_frame(l); /* what t made goes on before the next reader */
        g->flushing = true;
        g->t = t;
    }
}

/* Hands a task's staged outputs on (and everything they lead to), then resets its batch. */
static void flush(sr_local *l, sr_task *t)
{
    int floor = l->nframes;
    struct frame *f = push_frame(l);
    f->flushing = true;
    f->t = t;
    run_frames(l, floor);
}

void sr_local_produce(sr_local *l, const sr_topic *topic, const char *key, size_t keylen,
                      const char *val, size_t vlen, int64_t ts, const sr_header *hdr, uint32_t nhdr)
{
    assert(!l->ended); /* no input after the end of input */
    int ti = topic_index(l, topic);
    int32_t p;
    if (key)
        p = sr_partition_for_key(key, keylen, topic->partitions);
    else
        p = ti >= 0 ? l->rr[ti]++ % topic->partitions : 0;
    /* lay the record out like a task output */
    sr_buf b = {0};
    sr_out o = {.topic = topic, .partition = p, .ts = ts, .val_null = val == NULL};
    o.val_off = 0;
    if (val) sr_buf_put(&b, val, vlen);
    o.val_len = val ? vlen : 0;
    o.key_off = b.len;
    o.key_len = key ? (int32_t)keylen : -1;
    if (key) sr_buf_put(&b, key, keylen);
    o.hdr_off = b.len;
    for (uint32_t i = 0; i < nhdr; i++)
        sr_header_put(&b, hdr[i].name, hdr[i].nlen, hdr[i].val, hdr[i].vlen);
    o.nhdr = nhdr;
    o.hdr_len = b.len - o.hdr_off;
    sr_buf_reserve(&b, 1);
    int floor = l->nframes;
    push_record(l, topic, p, true, b.d, &o);
    run_frames(l, floor);
    sr_buf_free(&b);
    tick(l);
}

/* ---- wall-clock timers ------------------------------------------------------------------------
 * Between input records (never inside a delivery walk: a task's outputs may be on its way),
 * every task with wall-clock timers due by the clock fires them, and what they emit is
 * delivered at once. */
static void tick(sr_local *l)
{
    if (l->nframes != 0 || l->ntimed == 0) return;
    int64_t now = now_ms(l);
    for (int i = 0; i < l->ntimed; i++) { /* the list may grow meanwhile: not kept */
        dep_state *ds = &l->deps[l->timed[i].dep];
        sr_task *t = &ds->tasks[l->timed[i].part];
        if (sr_task_next_tick(t) > now) continue;
        sr_task_tick(t, now);
        flush(l, t);
    }
    int keep = 0; /* forget the tasks left with no timer */
    for (int i = 0; i < l->ntimed; i++) {
        dep_state *ds = &l->deps[l->timed[i].dep];
        if (sr_task_next_tick(&ds->tasks[l->timed[i].part]) == INT64_MAX)
            ds->timed[l->timed[i].part] = false;
        else
            l->timed[keep++] = l->timed[i];
    }
    l->ntimed = keep;
}

/* ---- end of input -------------------------------------------------------------------------
 * Every live task runs its steps' on_end, deployment after deployment, those that write a topic
 * before those that read it, so that what an upstream step emits at the end still meets the
 * downstream steps' on_end (deployments form no cycle: the checker refuses them). */

/* The topics deployment d writes, its dead-letter topic included; *n of them (malloc'd). */
static const sr_topic **written_by(const sr_deployment *d, int *n)
{
    const sr_topic **w;
    *n = sr_deployment_writes(d, &w);
    if (d->dead_letter) {
        w = sr_xrealloc(w, sizeof(*w) * (size_t)(*n + 1));
        w[(*n)++] = d->dead_letter;
    }
    return w;
}

/* The selected deployments, writers before their readers (Kahn's algorithm over the topics
 * between them, O(deployments + edges)); what a cycle through dead-letter topics leaves comes
 * last in file order. Returns how many were put in order[] (room for ndeps). */
static int end_order(const sr_local *l, int *order)
{
    int n = l->topo->ndeps;
    int *pending = sr_xcalloc((size_t)n + 1, sizeof(int)); /* writers not yet ended, per reader */
    bool *placed = sr_xcalloc((size_t)n + 1, sizeof(bool));
    for (int a = 0; a < n; a++) {
        if (!l->deps[a].selected) continue;
        int nw;
        const sr_topic **w = written_by(&l->topo->deps[a], &nw);
        for (int i = 0; i < nw; i++) {
            int ti = topic_index(l, w[i]);
            for (int r = 0; r < l->nreaders[ti]; r++)
                if (l->readers[ti][r] != a) pending[l->readers[ti][r]]++;
        }
        free(w);
    }
    int count = 0;
    for (int a = 0; a < n; a++) {
        if (l->deps[a].selected && pending[a] == 0) {
            order[count++] = a;
            placed[a] = true;
        }
    }
    for (int k = 0; k < count; k++) { /* order[] is the queue */
        int nw;
        const sr_topic **w = written_by(&l->topo->deps[order[k]], &nw);
        for (int i = 0; i < nw; i++) {
            int ti = topic_index(l, w[i]);
            for (int r = 0; r < l->nreaders[ti]; r++) {
                int b = l->readers[ti][r];
                if (b == order[k] || --pending[b] > 0 || placed[b]) continue;
                order[count++] = b;
                placed[b] = true;
            }
        }
        free(w);
    }
    for (int a = 0; a < n; a++) {
        if (l->deps[a].selected && !placed[a]) order[count++] = a;
    }
    free(pending);
    free(placed);
    return count;
}

void sr_local_end(sr_local *l)
{
    assert(!l->ended && l->nframes == 0);
    tick(l); /* wall-clock timers due by now fire first */
    int *order = sr_xcalloc((size_t)l->topo->ndeps + 1, sizeof(int));
    int n = end_order(l, order);
    for (int k = 0; k < n; k++) {
        dep_state *ds = &l->deps[order[k]];
        for (int p = 0; p < ds->ntasks; p++) {
            if (!ds->live[p]) continue;
            sr_task_end(&ds->tasks[p]);
            flush(l, &ds->tasks[p]);
        }
    }
    free(order);
    l->ended = true;
}

/* ---- commits and crashes ---------------------------------------------------------------------
 * What `up` does with state, in memory: a commit checkpoints every live task and drains its
 * stores' dirty sets into their changelogs; a crash drops every task, losing what was not
 * committed, and reopens those that had state, each store restored from its changelog. */

static changelog *log_for(sr_local *l, int dep, int32_t part, const char *name, bool make)
{
    for (int i = 0; i < l->nlogs; i++)
        if (l->logs[i].dep == dep && l->logs[i].part == part &&
            strcmp(sr_store_name(l->logs[i].log), name) == 0)
            return &l->logs[i];
    if (!make) return NULL;
    if (l->nlogs == l->caplogs) {
        l->caplogs = l->caplogs ? l->caplogs * 2 : 8;
        l->logs = sr_xrealloc(l->logs, sizeof(changelog) * (size_t)l->caplogs);
    }
    char err[256];
    sr_store *log = sr_store_new(name, &l->log_budget, err, sizeof(err));
    if (!log) { /* no budget limit: only memory can refuse it */
        fprintf(stderr, "streamrun: %s\n", err);
        abort();
    }
    l->logs[l->nlogs] = (changelog){dep, part, log};
    return &l->logs[l->nlogs++];
}

struct apply {
    sr_store *to;
    char *err;
    size_t errsize;
};

/* Applies one changelog record (val NULL: a deletion) to a->to. */
static int apply_record(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct apply *a = ud;
    return sr_store_restore(a->to, key, klen, val, vlen, a->err, a->errsize) != 0;
}

int sr_local_commit(sr_local *l, char *err, size_t errsize)
{
    assert(l->nframes == 0);
    for (int d = 0; d < l->topo->ndeps; d++) {
        dep_state *ds = &l->deps[d];
        for (int p = 0; p < ds->ntasks; p++) {
            if (!ds->live[p]) continue;
            sr_task *t = &ds->tasks[p];
            if (sr_task_checkpoint(t) != 0) {
                snprintf(err, errsize, "%s", t->err);
                return -1;
            }
            for (int k = 0; k < t->nstores; k++) {
                changelog *c = log_for(l, d, p, sr_store_name(t->stores[k].store), true);
                struct apply a = {c->log, err, errsize};
                if (sr_store_drain(t->stores[k].store, apply_record, &a) != 0) return -1;
            }
        }
    }
    return 0;
}

static void add_stats(sr_local_stats *st, const sr_task *t)
{
    st->in += t->stats.in;
    st->delivered += t->stats.delivered;
    st->out += t->stats.out;
    st->dead += t->stats.dead;
    st->filtered += t->stats.filtered;
    st->dropped_errors += t->dropped_errors;
    st->emit_dead += t->stats.emit_dead;
}

int sr_local_crash(sr_local *l, bool restore, char *err, size_t errsize)
{
    assert(l->nframes == 0 && !l->ended);
    for (int d = 0; d < l->topo->ndeps; d++) {
        dep_state *ds = &l->deps[d];
        for (int p = 0; p < ds->ntasks; p++) {
            if (!ds->live[p]) continue;
            add_stats(&ds->dropped, &ds->tasks[p]);
            sr_task_destroy(&ds->tasks[p]); /* what was not committed is lost */
            ds->live[p] = false;
            ds->timed[p] = false;
        }
    }
    l->ntimed = 0;
    if (!restore) { /* the changelogs are lost too: tasks start empty */
        for (int i = 0; i < l->nlogs; i++) sr_store_destroy(l->logs[i].log);
        l->nlogs = 0;
        return 0;
    }
    int rc = 0;
    for (int i = 0; i < l->nlogs && rc == 0; i++) { /* reopen the tasks that had state */
        dep_state *ds = &l->deps[l->logs[i].dep];
        int32_t p = l->logs[i].part;
        if (ds->live[p]) continue;
        sr_task *t = task_for(l, ds, p);
        for (int k = 0; k < t->nstores && rc == 0; k++) {
            changelog *c = log_for(l, l->logs[i].dep, p, sr_store_name(t->stores[k].store), false);
            struct apply a = {t->stores[k].store, err, errsize};
            if (c && sr_store_foreach(c->log, apply_record, &a) != 0) rc = -1;
        }
        if (rc == 0) {
            sr_task_restored(t);
            note_timed(l, ds, t);
        }
    }
    return rc;
}

/* ---- file sources -------------------------------------------------------------------- */

static int run_source(sr_local *l, dep_state *ds)
{
    const sr_source *src = ds->dep->source;
    char err[512];
    sr_reader *rd;
    if (sr_reader_open_csv(&rd, src->resolved, src->format, (const char *const *)src->columns.v,
                           (size_t)src->columns.n, src->header, err, sizeof(err)) != 0) {
        fprintf(stderr, "streamrun: %s: %s\n", ds->dep->name, err);
        return -1;
    }
    sr_task *t = task_for(l, ds, 0);
    sr_arena scratch;
    sr_arena_init(&scratch, 64 * 1024);
    int rc = 0;
    for (;;) {
        sr_readrec rec;
        int r = sr_reader_next(rd, &scratch, &rec, err, sizeof(err));
        if (r < 0) {
            fprintf(stderr, "streamrun: %s: %s\n", ds->dep->name, err);
            rc = -1;
            break;
        }
        if (r == 0) break;
        sr_task_feed_row(t, src, &rec, &scratch, now_ms(l));
        note_timed(l, ds, t);
        flush(l, t);
        sr_arena_reset(&scratch);
        tick(l);
    }
    sr_arena_free(&scratch);
    sr_reader_close(rd);
    return rc;
}

int sr_local_run_sources(sr_local *l)
{
    int rc = 0;
    for (int i = 0; i < l->topo->ndeps; i++) {
        dep_state *ds = &l->deps[i];
        if (ds->selected && ds->dep->source && run_source(l, ds) != 0) rc = -1;
    }
    return rc;
}

void sr_local_get_stats(const sr_local *l, const sr_deployment *d, sr_local_stats *st)
{
    memset(st, 0, sizeof(*st));
    assert(d >= l->topo->deps && d < l->topo->deps + l->topo->ndeps);
    const dep_state *ds = &l->deps[d - l->topo->deps];
    *st = ds->dropped;
    for (int p = 0; p < ds->ntasks; p++)
        if (ds->live[p]) add_stats(st, &ds->tasks[p]);
}
