/* run.c — a run of `up`: a thread per deployment (inputs, or a source file replayed), the
 * progress line and the summary. */
#include "kafka/runtime.h"
#include "exec/source.h"
#include "model/model_slot.h"
#include "state/store.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double kr_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t kr_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void vfatal(runner *r, int code, const char *fmt, va_list ap)
{
    pthread_mutex_lock(&r->lock);
    if (!r->fatal) {
        vsnprintf(r->fatal_msg, sizeof(r->fatal_msg), fmt, ap);
        r->fatal_code = code;
        r->fatal = 1;
    }
    pthread_mutex_unlock(&r->lock);
}

void kr_fatal(runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfatal(r, 0, fmt, ap);
    va_end(ap);
}

void kr_fatal_code(runner *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfatal(r, code, fmt, ap);
    va_end(ap);
}

bool kr_stopping(const runner *r)
{
    return r->fatal || (r->o->stop && *r->o->stop);
}

/* ---- sources ------------------------------------------------------------------------------ */

static void run_source(dep_run *dr)
{
    runner *r = dr->r;
    const sr_source *src = dr->dep->source;
    char err[512];
    sr_reader *rd;
    if (sr_reader_open_csv(&rd, src->resolved, src->format, (const char *const *)src->columns.v,
                           (size_t)src->columns.n, src->header, err, sizeof(err)) != 0) {
        kr_fatal(r, "%s: %s", dr->dep->name, err);
        return;
    }
    sr_task *t = dr->tasks[0] = sr_xcalloc(1, sizeof(sr_task));
    sr_task_init(t, r->topo, dr->dep, 0);
    t->max_msg_bytes = dr->max_msg_bytes;
    sr_arena scratch;
    sr_arena_init(&scratch, 64 * 1024);
    double start = kr_mono();
    uint64_t n = 0;
    dr->t_first = start;
    while (!kr_stopping(r)) {
        sr_readrec rec;
        int rc = sr_reader_next(rd, &scratch, &rec, err, sizeof(err));
        if (rc < 0) {
            kr_fatal(r, "%s: %s", dr->dep->name, err);
            break;
        }
        if (rc == 0) break;
        int64_t wall = kr_wall_ms();
        sr_task_feed_row(t, src, &rec, &scratch, wall);
        if (sr_task_next_tick(t) <= wall) sr_task_tick(t, wall);
        kr_produce_outputs(dr, t);
        /* no changelog: a restart replays the file; now and then (a drain flushes what a step
         * keeps decoded beside its store, the window's open windows) */
        if (n % 1024 == 1023) kr_forget_changes(t);
        sr_arena_reset(&scratch);
        n++;
        if (src->rate > 0) { /* pace: record n is due at start + n / rate */
            double due = start + (double)n / src->rate, now = kr_mono();
            if (due > now) {
                struct timespec ts = {(time_t)(due - now),
                                      (long)((due - now - (time_t)(due - now)) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
    }
    sr_arena_free(&scratch);
    sr_reader_close(rd);
    kr_flush_producer(dr);
    dr->t_last = kr_mono();
    __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
    /* without --exit-at-end a replay deployment stays (idle) until the run stops */
    while (!r->o->exit_at_end && !kr_stopping(r)) {
        usleep(KR_TICK_MS * 1000);
        int64_t now = kr_wall_ms();
        if (sr_task_next_tick(t) > now) continue;
        sr_task_tick(t, now); /* what its wall-clock timers make goes out as it is made */
        kr_produce_outputs(dr, t);
        kr_forget_changes(t);
        kr_flush_producer(dr);
    }
}

static void *dep_main(void *arg)
{
    dep_run *dr = arg;
    char err[512];
    if (dr->eos && kr_claim_txn_id(dr, err, sizeof(err)) != 0) {
        kr_fatal(dr->r, "%s: exactly-once: %s", dr->dep->name, err);
        __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
        return NULL;
    }
    if (kr_new_producer(dr, err, sizeof(err)) != 0) {
        kr_fatal(dr->r, "%s: %s", dr->dep->name, err);
        __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
        return NULL;
    }
    if (dr->eos) {
        fprintf(stderr, "streamrun: %s: exactly-once, transactional.id %s\n", dr->dep->name,
                dr->txn_id);
        kr_txn_begin(dr);
    }
    if (dr->dep->source)
        run_source(dr);
    else
        kr_run_inputs(dr);
    __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------------ */

/* Reloads the model packages (all with force, else those whose files changed: model_slot.h) and
 * prints what it did on stderr, on a line of its own when the progress line is shown.
 * @locality the run's main thread */
static void reload_models(bool force, bool progress)
{
    char *text = NULL;
    size_t len = 0;
    FILE *log = open_memstream(&text, &len);
    if (!log) {
        sr_model_slots_reload(force, stderr);
        return;
    }
    sr_model_slots_reload(force, log);
    fclose(log);
    if (len) {
        if (progress) fputc('\n', stderr); /* the progress line is rewritten in place */
        fwrite(text, 1, len, stderr);
    }
    free(text);
}

/* While the run goes on, the counters of tasks being processed are read as they are: this is
 * for the progress line; the summary is taken after the threads are joined. */
static void dep_stats(dep_run *dr, sr_up_stats *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&dr->lock);
    s->in = dr->done.in;
    s->out = dr->done.out;
    s->dead = dr->done.dead;
    s->filtered = dr->done.filtered;
    s->emit_dead = dr->done.emit_dead;
    s->dropped_errors = dr->dropped_errors;
    for (int p = 0; p < dr->ntasks; p++) {
        const sr_task *t = dr->tasks[p];
        if (!t) continue;
        s->in += t->stats.in;
        s->out += t->stats.out;
        s->dead += t->stats.dead;
        s->filtered += t->stats.filtered;
        s->emit_dead += t->stats.emit_dead;
        s->dropped_errors += t->dropped_errors;
    }
    pthread_mutex_unlock(&dr->lock);
    s->offset_resets = __atomic_load_n(&dr->offset_resets, __ATOMIC_RELAXED);
    s->secs = dr->t_first > 0 ? (dr->t_last > dr->t_first ? dr->t_last - dr->t_first : 0) : 0;
}

int sr_up_run(const sr_topology *t, const sr_up_opts *o, sr_up_stats *total, char *err,
              size_t errsize)
{
    runner r = {.topo = t, .o = o};
    pthread_mutex_init(&r.lock, NULL);
    r.deps = sr_xcalloc((size_t)t->ndeps + 1, sizeof(dep_run));
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        if (!sr_deployment_selected(d, o->only, o->nonly)) continue;
        dep_run *dr = &r.deps[r.ndeps++];
        dr->r = &r;
        dr->dep = d;
        dr->eos = d->processing == SR_EXACTLY_ONCE && d->ninputs > 0;
        dr->slot_fd = -1;
        pthread_mutex_init(&dr->lock, NULL);
        dr->rkts = sr_xcalloc((size_t)t->ntopics + 1, sizeof(rd_kafka_topic_t *));
        size_t nin = (size_t)d->ninputs + 1;
        dr->next = sr_xcalloc(nin, sizeof(int64_t *));
        dr->end = sr_xcalloc(nin, sizeof(int64_t *));
        dr->eof = sr_xcalloc(nin, sizeof(int64_t *));
        if (dr->eos) dr->base = sr_xcalloc(nin, sizeof(int64_t *));
        dr->ntasks = 1;
        for (int k = 0; k < d->ninputs; k++)
            if (d->inputs[k]->partitions > dr->ntasks) dr->ntasks = d->inputs[k]->partitions;
        dr->tasks = sr_xcalloc((size_t)dr->ntasks, sizeof(sr_task *));
        dr->owner = sr_xcalloc((size_t)dr->ntasks, 1);
        dr->tick_pending = sr_xcalloc((size_t)dr->ntasks, 1);
        dr->held = sr_xcalloc((size_t)dr->ntasks, 1);
        dr->table_input = sr_xcalloc(nin, sizeof(bool));
        dr->table_target = sr_xcalloc(nin, sizeof(int64_t *));
        for (int s = 0; s < d->nops; s++) {
            const sr_op *op = &d->ops[s];
            const sr_topic *tp = op->type->table_topic ? op->type->table_topic(op) : NULL;
            for (int k = 0; tp && k < d->ninputs; k++) dr->table_input[k] |= d->inputs[k] == tp;
        }
        kr_changelog_init(dr);
        for (int k = 0; k < d->ninputs; k++) {
            dr->next[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
            dr->end[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
            dr->eof[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
            dr->table_target[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
            for (int p = 0; p < d->inputs[k]->partitions; p++)
                dr->next[k][p] = dr->end[k][p] = dr->eof[k][p] = dr->table_target[k][p] = -1;
            if (dr->eos) {
                dr->base[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
                for (int p = 0; p < d->inputs[k]->partitions; p++) dr->base[k][p] = -1;
            }
        }
    }
    sr_gtables *gt = NULL; /* global tables: read before any deployment starts */
    char gerr[512];
    if (sr_gtables_start(&gt, t, o->bootstraps, gerr, sizeof(gerr)) != 0)
        kr_fatal_code(&r, 3, "%s", gerr);
    double t0 = kr_mono();
    for (int i = 0; i < r.ndeps; i++) pthread_create(&r.deps[i].thread, NULL, dep_main, &r.deps[i]);
    /* progress and the wait */
    double last = t0, last_watch = t0;
    uint64_t last_in = 0;
    for (;;) {
        bool all = true;
        for (int i = 0; i < r.ndeps; i++)
            all &= __atomic_load_n(&r.deps[i].finished, __ATOMIC_ACQUIRE);
        if (all) break;
        usleep(50 * 1000);
        /* model packages: a SIGHUP reloads them all; the watch, those whose files changed (a
         * change is read once it held still for a look: model_slot.h). Tasks score on, each
         * record with the model current when it starts. */
        if (o->reload && *o->reload && !kr_stopping(&r)) {
            *o->reload = 0; /* a SIGHUP during the reload asks for another one */
            reload_models(true, o->progress);
            last_watch = kr_mono();
        } else if (o->watch_models && kr_mono() - last_watch >= 1.0 && !kr_stopping(&r)) {
            reload_models(false, o->progress);
            last_watch = kr_mono();
        }
        if (o->progress && kr_mono() - last >= 1.0) {
            uint64_t in = 0;
            int64_t lag = -1;
            for (int i = 0; i < r.ndeps; i++) {
                sr_up_stats s;
                dep_stats(&r.deps[i], &s); /* racy read of counters: display only */
                in += s.in;
                /* the client calls are thread-safe; the handle lives until after the join */
                rd_kafka_t *c = __atomic_load_n(&r.deps[i].consumer, __ATOMIC_ACQUIRE);
                int64_t l = c ? kr_input_lag(&r.deps[i]) : -1;
                if (l >= 0) lag = (lag < 0 ? 0 : lag) + l;
            }
            char lagtxt[32] = "?";
            if (lag >= 0) snprintf(lagtxt, sizeof(lagtxt), "%lld", (long long)lag);
            const sr_mem_budget *sb = sr_state_budget(); /* atomic counters */
            char statetxt[80] = "";
            if (sr_mem_budget_used(sb) || sb->limit != SIZE_MAX)
                snprintf(statetxt, sizeof(statetxt), ", state %zu keys in %zu bytes",
                         sr_mem_budget_keys(sb), sr_mem_budget_used(sb));
            fprintf(stderr, "\r%llu records in, %.0f/s, lag %s%s    ", (unsigned long long)in,
                    (double)(in - last_in) / (kr_mono() - last), lagtxt, statetxt);
            last = kr_mono();
            last_in = in;
        }
    }
    for (int i = 0; i < r.ndeps; i++) pthread_join(r.deps[i].thread, NULL);
    sr_gtables_stop(gt);
    if (o->progress) fputc('\n', stderr);
    sr_up_stats sum = {0};
    for (int i = 0; i < r.ndeps; i++) {
        dep_run *dr = &r.deps[i];
        sr_up_stats s;
        dep_stats(dr, &s);
        fprintf(stderr, "%s: ", dr->dep->name);
        sr_print_counts(stderr, s.in, s.filtered, s.dead, s.out);
        if (s.emit_dead) /* made by steps at timers, not by an input */
            fprintf(stderr, ", %llu made by steps dead-lettered", (unsigned long long)s.emit_dead);
        sr_print_reports(stderr, dr->dep);
        if (s.dropped_errors)
            fprintf(stderr, " (%llu failed with no deadLetter topic)",
                    (unsigned long long)s.dropped_errors);
        if (s.offset_resets)
            fprintf(stderr, ", %llu OFFSET_OUT_OF_RANGE resets (records lost upstream)",
                    (unsigned long long)s.offset_resets);
        fprintf(stderr, ", %.3f s", s.secs);
        if (s.secs > 0) fprintf(stderr, " (%.0f records/s)", (double)s.in / s.secs);
        if (dr->restore_secs > 0)
            fprintf(stderr, ", %llu state records restored in %.3f s",
                    (unsigned long long)dr->restored, dr->restore_secs);
        fputc('\n', stderr);
        sr_print_report_lines(stderr, dr->dep);
        sum.restored += dr->restored;
        sum.restore_secs += dr->restore_secs;
        sum.in += s.in;
        sum.out += s.out;
        sum.dead += s.dead;
        sum.filtered += s.filtered;
        sum.emit_dead += s.emit_dead;
        sum.dropped_errors += s.dropped_errors;
        sum.offset_resets += s.offset_resets;
        if (s.secs > sum.secs) sum.secs = s.secs;
    }
    int rc = r.fatal ? -1 : 0;
    if (r.fatal) snprintf(err, errsize, "%s", r.fatal_msg);
    sum.exit_code = r.fatal ? (r.fatal_code ? r.fatal_code : 3) : 0;
    for (int i = 0; i < r.ndeps; i++) {
        dep_run *dr = &r.deps[i];
        for (int p = 0; p < dr->ntasks; p++) kr_drop_task(dr, p);
        kr_changelog_free(dr);
        free(dr->tasks);
        free(dr->owner);
        free(dr->tick_pending);
        free(dr->held);
        free(dr->table_input);
        for (int k = 0; dr->table_target && k < dr->dep->ninputs; k++) free(dr->table_target[k]);
        free(dr->table_target);
        for (int k = 0; k < t->ntopics; k++)
            if (dr->rkts[k]) rd_kafka_topic_destroy(dr->rkts[k]);
        free(dr->rkts);
        if (dr->queue) rd_kafka_queue_destroy(dr->queue);
        if (dr->consumer) rd_kafka_destroy(dr->consumer);
        if (dr->producer) rd_kafka_destroy(dr->producer);
        if (dr->slot_fd >= 0) close(dr->slot_fd);
        for (int k = 0; dr->next && k < dr->dep->ninputs; k++) {
            free(dr->next[k]);
            if (dr->base) free(dr->base[k]);
            free(dr->end[k]);
            free(dr->eof[k]);
        }
        free(dr->next);
        free(dr->base);
        free(dr->end);
        free(dr->eof);
        pthread_mutex_destroy(&dr->lock);
    }
    free(r.deps);
    pthread_mutex_destroy(&r.lock);
    sum.secs = sum.secs ? sum.secs : kr_mono() - t0;
    if (total) *total = sum;
    return rc;
}
