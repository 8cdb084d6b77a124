/* consume.c — consuming a deployment's inputs: the poll loop, rebalances, commits, the end of
 * the inputs (--exit-at-end) and the fetch watch. */
#include "kafka/runtime.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- consuming --------------------------------------------------------------------------- */

int kr_input_index(const sr_deployment *d, const char *topic)
{
    for (int i = 0; i < d->ninputs; i++)
        if (strcmp(d->inputs[i]->name, topic) == 0) return i;
    return -1;
}

/* The input index of topic when partition p is one the file declares for it (so that it has
 * slots in next/end/eof and a task), else -1. */
int kr_input_slot(const dep_run *dr, const char *topic, int32_t p)
{
    int ti = kr_input_index(dr->dep, topic);
    return ti >= 0 && p >= 0 && p < dr->dep->inputs[ti]->partitions ? ti : -1;
}

/* The offsets to commit: per input partition, the one after the last record processed since the
 * last commit. The caller destroys the list. */
rd_kafka_topic_partition_list_t *kr_processed_offsets(const dep_run *dr)
{
    assert(kr_workers_idle(dr)); /* else offsets could be ahead of the outputs produced */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < dr->dep->ninputs; i++) {
        for (int p = 0; p < dr->dep->inputs[i]->partitions; p++) {
            if (dr->next[i][p] < 0) continue;
            rd_kafka_topic_partition_list_add(l, dr->dep->inputs[i]->name, p)->offset =
                dr->next[i][p];
        }
    }
    return l;
}

/* After a commit, or an aborted transaction: nothing is processed since. */
void kr_forget_processed(dep_run *dr)
{
    assert(kr_workers_idle(dr));
    for (int i = 0; i < dr->dep->ninputs; i++)
        for (int p = 0; p < dr->dep->inputs[i]->partitions; p++) {
            dr->next[i][p] = -1;
            if (dr->base) dr->base[i][p] = -1; /* exactly-once only */
        }
}

/* Waits until the workers have done all they were given, then commits what was processed:
 * at-least-once flushes the producer and commits the offsets; exactly-once commits the
 * transaction (revoking: the partitions are being given up, so a failed one is not redone
 * here). */
int kr_commit(dep_run *dr, bool revoking)
{
    kr_quiesce(dr);
    /* after a failure (this deployment's or another's) outputs may have been skipped: nothing
     * processed since the last commit may be committed now (exactly-once: nor counted) */
    if (dr->r->fatal) {
        if (dr->eos) kr_task_stats_mark(dr, true);
        return -1;
    }
    /* the state changes since the last commit: before the offsets, in the same transaction */
    if (kr_log_changes(dr) != 0 && !dr->eos) return -1;
    if (dr->eos) return kr_txn_commit(dr, !revoking);
    if (kr_flush_producer(dr) != 0) return -1; /* outputs and state changes acknowledged */
    rd_kafka_topic_partition_list_t *l = kr_processed_offsets(dr);
    int rc = 0;
    if (l->cnt) {
        rd_kafka_resp_err_t err = rd_kafka_commit(dr->consumer, l, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
            fprintf(stderr,
                    "streamrun: %s: commit failed: %s (the offsets are committed again later; "
                    "if none succeeds, these records are processed again after a restart)\n",
                    dr->dep->name, rd_kafka_err2str(err));
            rc = -1;
        } else {
            kr_forget_processed(dr);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Tasks are created and dropped on the consumer thread, under dr->lock so that the progress
 * line (dep_stats, main thread) never reads a freed one. */
void kr_drop_task(dep_run *dr, int p)
{
    sr_task *t = dr->tasks[p];
    if (!t) return;
    pthread_mutex_lock(&dr->lock);
    /* exactly-once counts what was committed: a task is dropped after its last commit, or after
     * a failure that committed nothing more */
    if (dr->eos) t->stats = t->stats_committed;
    dr->done.in += t->stats.in;
    dr->done.out += t->stats.out;
    dr->done.dead += t->stats.dead;
    dr->done.filtered += t->stats.filtered;
    dr->done.emit_dead += t->stats.emit_dead;
    dr->dropped_errors += t->dropped_errors;
    dr->tasks[p] = NULL;
    pthread_mutex_unlock(&dr->lock);
    kr_destroy_task(dr, t);
}

/* ---- tables first ------------------------------------------------------------------------
 * A task that looks records up in a co-partitioned table reads the table's topic beside its
 * stream, in whatever order the fetches bring them: a stream record could come before the table
 * row it needs, already in the table's partition. So on assignment the stream partitions of
 * each number whose table partition holds records past the committed position are paused until
 * the consumer has read that partition to where it ended at assignment (its high watermark, or
 * its last stable offset under read_committed); records the table gets later meet the stream in
 * fetch order, as in any join of two topics. */

static int64_t reached(const dep_run *dr, const rd_kafka_topic_partition_t *e);

/* Pauses (pause true) or resumes the stream (non-table) input partitions numbered p.
 * @locality the consumer thread; @locks none */
static void set_stream_paused(dep_run *dr, int32_t p, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(dr->dep->ninputs);
    for (int k = 0; k < dr->dep->ninputs; k++)
        if (!dr->table_input[k] && p < dr->dep->inputs[k]->partitions)
            rd_kafka_topic_partition_list_add(l, dr->dep->inputs[k]->name, p);
    if (l->cnt) {
        rd_kafka_resp_err_t e = pause ? rd_kafka_pause_partitions(dr->consumer, l)
                                      : rd_kafka_resume_partitions(dr->consumer, l);
        if (e)
            fprintf(stderr, "streamrun: %s: cannot %s partition %d of the stream: %s\n",
                    dr->dep->name, pause ? "pause" : "resume", (int)p, rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Just assigned parts: finds where each table partition among them ends and pauses the stream
 * partitions of the numbers whose tables have records to read. When the ends cannot be had, the
 * stream is not held (and that is said). @locality the consumer thread (its rebalance callback,
 * after assign); @locks none */
static void hold_for_tables(dep_run *dr, const rd_kafka_topic_partition_list_t *parts)
{
    assert(dr->nheld == 0);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts->cnt + 1);
    for (int i = 0; i < parts->cnt; i++) {
        int k = kr_input_slot(dr, parts->elems[i].topic, parts->elems[i].partition);
        if (k >= 0 && dr->table_input[k])
            rd_kafka_topic_partition_list_add(l, parts->elems[i].topic, parts->elems[i].partition)
                ->offset = RD_KAFKA_OFFSET_END; /* the latest offset a consumer like ours sees */
    }
    if (l->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(l);
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(dr->consumer, l, 10000);
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *el = &l->elems[i];
        int k = kr_input_slot(dr, el->topic, el->partition);
        if (e || el->err || el->offset < 0) {
            fprintf(stderr,
                    "streamrun: %s: cannot find where table topic %s [%d] ends (%s): its stream is "
                    "not held back while the table is read\n",
                    dr->dep->name, el->topic, (int)el->partition,
                    rd_kafka_err2str(e ? e : el->err));
            continue;
        }
        if (el->offset == 0) continue; /* empty: nothing to wait for */
        dr->table_target[k][el->partition] = el->offset;
        if (!dr->held[el->partition]) {
            dr->held[el->partition] = 1;
            dr->nheld++;
            set_stream_paused(dr, el->partition, true);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (dr->nheld)
        fprintf(stderr,
                "streamrun: %s: reading %d table partition%s to their end before the stream\n",
                dr->dep->name, dr->nheld, dr->nheld == 1 ? "" : "s");
}

/* Resumes the stream partitions whose tables have been read to their targets. Called after
 * every poll while some are held (the poll delivers the end-of-partition events reached()
 * reads). @locality the consumer thread; @locks none */
static void release_caught_up(dep_run *dr)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(dr->nheld + 1);
    for (int k = 0; k < dr->dep->ninputs; k++)
        for (int p = 0; dr->table_input[k] && p < dr->dep->inputs[k]->partitions; p++)
            if (p < dr->ntasks && dr->held[p] && dr->table_target[k][p] > 0)
                rd_kafka_topic_partition_list_add(l, dr->dep->inputs[k]->name, p);
    rd_kafka_position(dr->consumer, l);
    for (int i = 0; i < l->cnt; i++) {
        int k = kr_input_slot(dr, l->elems[i].topic, l->elems[i].partition);
        if (reached(dr, &l->elems[i]) >= dr->table_target[k][l->elems[i].partition])
            dr->table_target[k][l->elems[i].partition] = -1;
    }
    for (int i = 0; i < l->cnt; i++) {
        int32_t p = l->elems[i].partition;
        bool done = true;
        for (int k = 0; k < dr->dep->ninputs && done; k++)
            done = !dr->table_input[k] || p >= dr->dep->inputs[k]->partitions ||
                   dr->table_target[k][p] < 0;
        if (done && dr->held[p]) {
            dr->held[p] = 0;
            dr->nheld--;
            set_stream_paused(dr, p, false);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (dr->nheld == 0)
        fprintf(stderr, "streamrun: %s: tables read: the stream goes on\n", dr->dep->name);
}

/* Revocation: the assignment goes, and the pauses with it. @locality the consumer thread */
static void forget_holds(dep_run *dr)
{
    for (int p = 0; p < dr->ntasks; p++) dr->held[p] = 0;
    for (int k = 0; k < dr->dep->ninputs; k++)
        for (int p = 0; p < dr->dep->inputs[k]->partitions; p++) dr->table_target[k][p] = -1;
    dr->nheld = 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    dep_run *dr = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int p = parts->elems[i].partition, ti = kr_input_index(dr->dep, parts->elems[i].topic);
            if (ti >= 0 && kr_input_slot(dr, parts->elems[i].topic, p) < 0) {
                /* ensure_topics checked the counts at the start: the topic grew since */
                kr_fatal(dr->r,
                         "%s: input %s has a partition %d, but %s declares %d partitions: records "
                         "there would not be processed (the topic grew while running: declare its "
                         "partition count, then restart)",
                         dr->dep->name, parts->elems[i].topic, p, dr->r->topo->path,
                         dr->dep->inputs[ti]->partitions);
                continue;
            }
            if (ti < 0) continue;
            assert(p < dr->ntasks);
            if (dr->tasks[p] || dr->r->fatal) continue;
            sr_task *t = sr_xcalloc(1, sizeof(sr_task));
            sr_task_init(t, dr->r->topo, dr->dep, p);
            t->max_msg_bytes = dr->max_msg_bytes;
            /* its state, whole, before its first record */
            if (kr_restore_task(dr, t) != 0) {
                sr_task_destroy(t);
                free(t);
                continue;
            }
            pthread_mutex_lock(&dr->lock);
            dr->tasks[p] = t;
            pthread_mutex_unlock(&dr->lock);
        }
        if (dr->r->fatal) { /* a restore failed: nothing is to be processed */
            rd_kafka_assign(rk, NULL);
            return;
        }
        kr_assign_owners(dr, parts);
        rd_kafka_assign(rk, parts);
        hold_for_tables(dr, parts);
        fprintf(stderr, "streamrun: %s: assigned %d partition%s\n", dr->dep->name, parts->cnt,
                parts->cnt == 1 ? "" : "s");
        dr->assigned = true;
        dr->nassigned = parts->cnt;
        dr->ends_known = false;
    } else {
        /* finish what was processed: produce, flush, commit; then drop the tasks. Offsets
         * that could not be committed are forgotten: the partitions are no longer ours, and
         * committing them later with a stale generation would fail the group's rejoin again and
         * again. Their next owner processes those records again (at-least-once). Exactly-once:
         * partitions lost (this member was dropped from the group, a zombie) may have a new
         * owner already: the transaction is aborted, not committed. */
        if (dr->eos && rd_kafka_assignment_lost(rk)) {
            kr_quiesce(dr);
            if (!dr->r->fatal)
                kr_txn_abort(
                    dr, false,
                    "the partitions were lost: this member had left the group (its session "
                    "timed out), so they may have another owner already");
        } else if (kr_commit(dr, true) != 0)
            fprintf(stderr,
                    "streamrun: %s: the offsets of the revoked partitions were not committed: "
                    "their next owner reads again what was processed since the last commit\n",
                    dr->dep->name);
        for (int i = 0; i < parts->cnt; i++) {
            int p = parts->elems[i].partition;
            int ti = kr_input_slot(dr, parts->elems[i].topic, p);
            if (ti < 0) continue;
            dr->next[ti][p] = -1;
            if (dr->base) dr->base[ti][p] = -1;
            kr_drop_task(dr, p);
        }
        rd_kafka_assign(rk, NULL);
        forget_holds(dr);
        dr->assigned = false;
        dr->nassigned = 0;
    }
}

/* exit-at-end: the end offsets every assigned partition had when we started. One ListOffsets
 * request per leader for all of them (a query per partition would take minutes for thousands). */
static void snapshot_ends(dep_run *dr)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(dr->consumer, &a) || !a) return;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(a->cnt ? a->cnt : 1);
    for (int i = 0; i < a->cnt; i++) {
        int ti = kr_input_slot(dr, a->elems[i].topic, a->elems[i].partition);
        if (ti < 0 || dr->end[ti][a->elems[i].partition] >= 0) continue;
        /* a timestamp of -1 asks for the latest offset: the high watermark */
        rd_kafka_topic_partition_list_add(l, a->elems[i].topic, a->elems[i].partition)->offset =
            RD_KAFKA_OFFSET_END;
    }
    rd_kafka_topic_partition_list_destroy(a);
    bool ok = l->cnt == 0 || rd_kafka_offsets_for_times(dr->consumer, l, 5000) == 0;
    for (int i = 0; ok && i < l->cnt; i++) ok = !l->elems[i].err && l->elems[i].offset >= 0;
    /* the end a partition had when first seen: a rebalance does not move it */
    for (int i = 0; ok && i < l->cnt; i++)
        dr->end[kr_input_slot(dr, l->elems[i].topic, l->elems[i].partition)]
               [l->elems[i].partition] = l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    dr->ends_known = ok; /* else: try again later */
}

/* true when every assigned partition's position has reached its end */
/* How far the consumer has got in partition e (of a list filled by rd_kafka_position): its
 * position, or where the partition was seen at its end — a partition whose committed offset is
 * already at its end delivers no message, so has no position. -1: not known. */
static int64_t reached(const dep_run *dr, const rd_kafka_topic_partition_t *e)
{
    int ti = kr_input_slot(dr, e->topic, e->partition);
    if (ti < 0) return -1;
    int64_t eof = __atomic_load_n(&dr->eof[ti][e->partition], __ATOMIC_RELAXED);
    return e->offset > eof ? e->offset : eof;
}

static bool at_end(dep_run *dr)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (!dr->ends_known || rd_kafka_assignment(dr->consumer, &a) || !a) return false;
    rd_kafka_position(dr->consumer, a);
    bool done = true;
    for (int i = 0; i < a->cnt && done; i++) {
        int p = a->elems[i].partition;
        int ti = kr_input_slot(dr, a->elems[i].topic, p);
        if (ti < 0) continue;
        int64_t end = dr->end[ti][p];
        if (end <= 0) continue; /* empty partition */
        if (reached(dr, &a->elems[i]) < end) done = false;
    }
    rd_kafka_topic_partition_list_destroy(a);
    return done;
}

static bool upstream_done(dep_run *dr)
{
    runner *r = dr->r;
    for (int i = 0; i < r->ndeps; i++) {
        dep_run *u = &r->deps[i];
        if (u == dr) continue;
        bool feeds = false;
        for (int k = 0; k < dr->dep->ninputs; k++) {
            for (int w = 0; w < u->dep->noutputs; w++)
                feeds |= u->dep->outputs[w] == dr->dep->inputs[k];
            for (int s = 0; s < u->dep->nops; s++) {
                const sr_op *op = &u->dep->ops[s];
                feeds |= op->type->writes && op->type->writes(op, dr->dep->inputs[k]);
            }
        }
        if (feeds && !__atomic_load_n(&u->finished, __ATOMIC_ACQUIRE)) return false;
    }
    return true;
}

/* On the consumer thread: handles events (end of partition, resets, errors) and
 * returns the task a message goes to, or NULL when it is not to be processed. */
static sr_task *accept_message(dep_run *dr, rd_kafka_message_t *m)
{
    if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            int ti = m->rkt ? kr_input_slot(dr, rd_kafka_topic_name(m->rkt), m->partition) : -1;
            if (ti >= 0) __atomic_store_n(&dr->eof[ti][m->partition], m->offset, __ATOMIC_RELAXED);
            return NULL;
        }
        if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET) {
            __atomic_add_fetch(&dr->offset_resets, 1, __ATOMIC_RELAXED);
            fprintf(stderr,
                    "streamrun: %s: ERROR: input %s [%d] was reset by OFFSET_OUT_OF_RANGE: records "
                    "were lost before they could be read (retention, or the embedded broker's "
                    "5 MiB per partition cap): %s\n",
                    dr->dep->name, m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition,
                    rd_kafka_message_errstr(m));
            return NULL;
        }
        fprintf(stderr, "streamrun: %s: consumer: %s\n", dr->dep->name, rd_kafka_message_errstr(m));
        return NULL;
    }
    int p = m->partition;
    if (kr_input_slot(dr, rd_kafka_topic_name(m->rkt), p) < 0) return NULL; /* see on_rebalance */
    sr_task *t = dr->tasks[p];
    if (!t) return NULL; /* not ours any more: it will be redelivered to the new owner */
    if (dr->t_first == 0) dr->t_first = kr_mono();
    return t;
}

/* librdkafka 2.0.2 stops fetching once the consumer's local queue holds
 * queued.max.messages.kbytes or queued.min.messages, and looks at it again only when a broker
 * thread wakes up, at most a second later: a consumer faster than that stalls for up to 1 s each
 * time the queue fills. A request to a broker wakes its thread. So when the queue was near its
 * limit and has drained to a quarter of it, one ListOffsets request per partition leader
 * (offsets_for_times sends them in parallel) restarts every fetcher at once. An idle consumer sends
 * none.
 *
 * How full the local queue would be with qlen messages, as a fraction of the nearer of its two
 * limits (kilobytes, from the mean size seen so far, and messages). */
static double queue_fill(const dep_run *dr, size_t qlen)
{
    double f = 0;
    if (dr->queue_limit > 0 && dr->seen_msgs)
        f = (double)qlen * ((double)dr->seen_bytes / (double)dr->seen_msgs) /
            (double)dr->queue_limit;
    if (dr->queue_limit_msgs > 0 && (double)qlen / (double)dr->queue_limit_msgs > f)
        f = (double)qlen / (double)dr->queue_limit_msgs;
    return f;
}

/* Called after every poll, with the n messages it returned. */
static void watch_fetcher(dep_run *dr, const rd_kafka_message_t *const *msgs, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++) {
        dr->seen_bytes += msgs[i]->len; /* librdkafka counts the values */
        dr->seen_msgs++;
    }
    size_t left = rd_kafka_queue_length(dr->queue);
    if (queue_fill(dr, left + (size_t)(n > 0 ? n : 0)) >= 0.5) dr->queue_was_full = true;
    if (!dr->queue_was_full || queue_fill(dr, left) > 0.25) return;
    dr->queue_was_full = false;
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(dr->consumer, &a) == 0 && a) {
        for (int i = 0; i < a->cnt; i++) a->elems[i].offset = -1; /* latest */
        /* the requests go out at once, which is what wakes the fetchers: do not wait long */
        if (a->cnt) rd_kafka_offsets_for_times(dr->consumer, a, 100);
        rd_kafka_topic_partition_list_destroy(a);
    }
}

/* How many records the assigned input partitions hold past this consumer's position, from the
 * high watermarks of the last fetches (no request); -1 when none is known yet. */
int64_t kr_input_lag(dep_run *dr)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    if (rd_kafka_assignment(dr->consumer, &a) || !a) return -1;
    rd_kafka_position(dr->consumer, a);
    int64_t lag = -1;
    for (int i = 0; i < a->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(dr->consumer, a->elems[i].topic, a->elems[i].partition,
                                           &lo, &hi) != 0 ||
            hi < 0)
            continue;
        int64_t pos = reached(dr, &a->elems[i]);
        if (pos < 0) continue;
        lag = (lag < 0 ? 0 : lag) + (hi > pos ? hi - pos : 0);
    }
    rd_kafka_topic_partition_list_destroy(a);
    return lag;
}

void kr_run_inputs(dep_run *dr)
{
    runner *r = dr->r;
    char err[512];
    rd_kafka_conf_t *conf = kr_make_conf(dr, true, err, sizeof(err));
    if (!conf) {
        kr_fatal(r, "%s: %s", dr->dep->name, err);
        return;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, dr);
    char kb[32];
    size_t kbsize = sizeof(kb);
    if (rd_kafka_conf_get(conf, "queued.max.messages.kbytes", kb, &kbsize) == RD_KAFKA_CONF_OK)
        dr->queue_limit = (int64_t)atoll(kb) * 1024;
    kbsize = sizeof(kb);
    if (rd_kafka_conf_get(conf, "queued.min.messages", kb, &kbsize) == RD_KAFKA_CONF_OK)
        dr->queue_limit_msgs = atoll(kb);
    dr->nworkers = r->o->workers > 0 ? (r->o->workers > 16 ? 16 : r->o->workers) : 1;
    __atomic_store_n(&dr->consumer, rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)),
                     __ATOMIC_RELEASE);
    if (!dr->consumer) {
        kr_fatal(r, "%s: cannot create the consumer: %s", dr->dep->name, err);
        return;
    }
    rd_kafka_poll_set_consumer(dr->consumer);
    dr->queue = rd_kafka_queue_get_consumer(dr->consumer);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(dr->dep->ninputs);
    for (int i = 0; i < dr->dep->ninputs; i++)
        rd_kafka_topic_partition_list_add(subs, dr->dep->inputs[i]->name, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(dr->consumer, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e) {
        kr_fatal(r, "%s: cannot subscribe: %s", dr->dep->name, rd_kafka_err2str(e));
        return;
    }
    rd_kafka_message_t *msgs[BATCH];
    sr_task *tasks[BATCH];
    kr_start_workers(dr);
    double last_commit = kr_mono(), last_tick = last_commit;
    while (!kr_stopping(r)) {
        /* a batch call waits its whole timeout unless the batch fills: take what is there
         * within 1 ms, and when nothing is, wait for the first message only */
        ssize_t n = rd_kafka_consume_batch_queue(dr->queue, 1, msgs, BATCH);
        if (n == 0) n = rd_kafka_consume_batch_queue(dr->queue, 100, msgs, 1);
        watch_fetcher(dr, (const rd_kafka_message_t *const *)msgs, n);
        for (ssize_t i = 0; i < n; i++) tasks[i] = accept_message(dr, msgs[i]);
        if (n > 0) kr_dispatch(dr, msgs, tasks, (size_t)n);
        if (dr->nheld) release_caught_up(dr);
        /* wall-clock timers fire on idle partitions too: the poll above waits 100 ms at most */
        if (kr_mono() - last_tick >= KR_TICK_MS / 1000.0) {
            kr_tick_tasks(dr);
            last_tick = kr_mono();
        }
        if (kr_mono() - last_commit >= r->o->commit_interval_ms / 1000.0) {
            kr_commit(dr, false);
            last_commit = kr_mono();
        }
        if (r->o->exit_at_end && dr->assigned) {
            if (!dr->ends_known && upstream_done(dr)) snapshot_ends(dr);
            /* exactly-once: the end is reached when the last transaction is committed; an
             * aborted one rewinds the inputs, to be processed again */
            if (dr->ends_known && at_end(dr) && (!dr->eos || kr_commit(dr, false) == 0)) break;
        }
    }
    /* graceful end: finish what was handed out, flush, commit, leave the group */
    if (!r->fatal && kr_commit(dr, false) != 0) {
        /* --exit-at-end says the inputs were processed to their end: not true of an aborted
         * last transaction */
        if (dr->eos && r->o->exit_at_end)
            kr_fatal(r,
                     "%s: the last transaction failed: the records since the previous commit are "
                     "not committed; a restart processes them again",
                     dr->dep->name);
        else
            fprintf(stderr,
                    "streamrun: %s: the last commit failed: the records since the previous "
                    "commit will be processed again after a restart\n",
                    dr->dep->name);
    }
    kr_quiesce(dr);
    /* with --exit-at-end the time runs until the last output is delivered */
    if (r->o->exit_at_end && dr->t_first > 0 && !r->fatal) dr->t_last = kr_mono();
    kr_stop_workers(dr);
    __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
    rd_kafka_consumer_close(dr->consumer); /* a revocation: commits nothing more */
    kr_txn_end(dr);
}
