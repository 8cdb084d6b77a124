/* worker.c — the worker threads of a deployment: their inboxes, dispatching messages to them,
 * running the tasks, and waiting until they are idle (quiesce). */
#include "kafka/runtime.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* With nworkers > 1 the consumer thread dispatches: it polls the consumer, handles events,
 * rebalances and commits, and hands each message to the worker that owns its partition number
 * (so the same partition of co-partitioned inputs meets on one thread, in order). A worker runs
 * its messages through their tasks, produces the outputs and records the offsets. Before a
 * commit or a revocation the consumer thread waits until every message handed out is done
 * (kr_quiesce): the offsets are then exactly those whose outputs are in the producer, and flush
 * then commit keeps at-least-once. With one worker the consumer thread processes the messages
 * itself. */

/* On any worker: runs message m through its task t. Workers own disjoint sets of
 * partitions, so each task and each offset slot is touched by one thread. */
static void feed_message(dep_run *dr, sr_task *t, rd_kafka_message_t *m)
{
    int p = m->partition;
    const char *topic = rd_kafka_topic_name(m->rkt);
    int ti = kr_input_index(dr->dep, topic);
    assert(ti >= 0 && p == t->partition); /* accept_message let through only declared inputs */
    rd_kafka_headers_t *hdrs = NULL;
    sr_header *h = NULL;
    uint32_t nh = 0;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
        size_t cnt = rd_kafka_header_cnt(hdrs);
        h = sr_arena_alloc(&t->arena, sizeof(sr_header) * (cnt ? cnt : 1));
        const char *name;
        const void *val;
        size_t vlen;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == 0; i++)
            h[nh++] = (sr_header){name, (uint32_t)strlen(name), val, (uint32_t)vlen};
    }
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    sr_origin org = {
        .topic = topic,
        .partition = p,
        .offset = m->offset,
        .raw = m->payload ? m->payload : "",
        .rawlen = m->len,
        .tombstone = m->payload == NULL,
        .key = m->key,
        .keylen = m->key_len,
        .ts = ts >= 0 ? ts : kr_wall_ms(),
        .hdr = h,
        .nhdr = nh,
    };
    t->now_ms = kr_wall_ms();
    sr_task_feed(t, &org, NULL);
    /* the outputs are serialised already: the record's memory is reused at once, so the arena
     * stays the size of one record (hot in cache) instead of growing with the batch */
    sr_arena_reset(&t->arena);
    if (dr->eos && dr->base[ti][p] < 0) dr->base[ti][p] = m->offset;
    dr->next[ti][p] = m->offset + 1;
}

/* Runs msgs[0..n) through tasks[0..n) (all of one thread), produces the outputs and frees the
 * messages. */
static void process(dep_run *dr, rd_kafka_message_t **msgs, sr_task **tasks, size_t n)
{
    static unsigned gen; /* tags the tasks touched by this call, so each is produced once */
    uintptr_t tag = __atomic_add_fetch(&gen, 1, __ATOMIC_RELAXED);
    sr_task *touched[BATCH];
    size_t ntouched = 0;
    for (size_t i = 0; i < n; i++) {
        feed_message(dr, tasks[i], msgs[i]);
        if (tasks[i]->user != (void *)tag) {
            tasks[i]->user = (void *)tag;
            touched[ntouched++] = tasks[i];
        }
    }
    for (size_t i = 0; i < ntouched; i++) kr_produce_outputs(dr, touched[i]);
    for (size_t i = 0; i < n; i++) rd_kafka_message_destroy(msgs[i]);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    char name[16]; /* as `top -H` and perf show it */
    snprintf(name, sizeof(name), "sr-worker-%d", (int)(w - w->dr->workers));
    pthread_setname_np(pthread_self(), name);
    rd_kafka_message_t *msgs[BATCH];
    sr_task *tasks[BATCH];
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->n == 0 && !w->quit) pthread_cond_wait(&w->cond, &w->lock);
        if (w->n == 0) break; /* quit, with nothing left */
        size_t k = w->n < INBOX / 4 ? w->n : INBOX / 4;
        for (size_t i = 0; i < k; i++) {
            msgs[i] = w->msgs[(w->head + i) % INBOX];
            tasks[i] = w->tasks[(w->head + i) % INBOX];
            w->bytes -= msgs[i]->len;
        }
        w->head = (w->head + (unsigned)k) % INBOX;
        w->n -= (unsigned)k;
        w->busy = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        process(w->dr, msgs, tasks, k);
        pthread_mutex_lock(&w->lock);
        w->busy = false;
        w->t_last = kr_mono();
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Hands msgs[0..n) (tasks[i] NULL: not to be processed, freed here) to their workers, or
 * processes them on this thread when there is one worker. Waits while an inbox is full. */
void kr_dispatch(dep_run *dr, rd_kafka_message_t **msgs, sr_task **tasks, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (tasks[i]) {
            msgs[k] = msgs[i];
            tasks[k++] = tasks[i];
        } else {
            rd_kafka_message_destroy(msgs[i]);
        }
    }
    if (k == 0) return;
    if (dr->nworkers == 1) {
        process(dr, msgs, tasks, k);
        dr->t_last = kr_mono();
        return;
    }
    for (int id = 0; id < dr->nworkers; id++) {
        worker *w = &dr->workers[id];
        size_t i = 0;
        while (i < k && dr->owner[tasks[i]->partition] != id) i++;
        if (i == k) continue;
        pthread_mutex_lock(&w->lock);
        for (; i < k; i++) {
            assert(dr->owner[tasks[i]->partition] < dr->nworkers);
            if (dr->owner[tasks[i]->partition] != id) continue;
            /* messages out of librdkafka's queue no longer count against its limit: the inboxes
             * have their own, in messages and in bytes (one message always fits) */
            while (w->n == INBOX || (w->n > 0 && w->bytes + msgs[i]->len > w->max_bytes))
                pthread_cond_wait(&w->cond, &w->lock);
            unsigned at = (w->head + w->n) % INBOX;
            w->msgs[at] = msgs[i];
            w->tasks[at] = tasks[i];
            w->bytes += msgs[i]->len;
            if (w->n++ == 0) pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
    }
}

/* Waits until every worker has finished all it was given. */
void kr_quiesce(dep_run *dr)
{
    for (int id = 0; id < dr->nworkers && dr->workers; id++) {
        worker *w = &dr->workers[id];
        pthread_mutex_lock(&w->lock);
        while (w->n > 0 || w->busy) pthread_cond_wait(&w->cond, &w->lock);
        if (w->t_last > dr->t_last) dr->t_last = w->t_last;
        pthread_mutex_unlock(&w->lock);
    }
}

bool kr_workers_idle(const dep_run *dr)
{
    bool idle = true;
    for (int id = 0; id < dr->nworkers && dr->workers; id++) {
        worker *w = &dr->workers[id];
        pthread_mutex_lock(&w->lock);
        idle &= w->n == 0 && !w->busy;
        pthread_mutex_unlock(&w->lock);
    }
    return idle;
}

/* Spreads the assigned partition numbers over the workers, in turn. */
void kr_assign_owners(dep_run *dr, const rd_kafka_topic_partition_list_t *parts)
{
    uint8_t *seen = sr_xcalloc((size_t)dr->ntasks, 1);
    for (int i = 0; i < parts->cnt; i++)
        if (kr_input_slot(dr, parts->elems[i].topic, parts->elems[i].partition) >= 0)
            seen[parts->elems[i].partition] = 1;
    int next = 0;
    for (int p = 0; p < dr->ntasks; p++)
        if (seen[p]) dr->owner[p] = (uint8_t)(next++ % dr->nworkers);
    free(seen);
}

void kr_start_workers(dep_run *dr)
{
    if (dr->nworkers == 1) return;
    dr->workers = sr_xcalloc((size_t)dr->nworkers, sizeof(worker));
    for (int id = 0; id < dr->nworkers; id++) {
        worker *w = &dr->workers[id];
        w->dr = dr;
        w->max_bytes = INBOX_BYTES / (size_t)dr->nworkers;
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            /* fewer workers: the partitions are spread over those that started; none: the
             * consumer thread does the work */
            pthread_cond_destroy(&w->cond);
            pthread_mutex_destroy(&w->lock);
            int want = dr->nworkers;
            dr->nworkers = id > 0 ? id : 1;
            if (id == 0) {
                free(dr->workers);
                dr->workers = NULL;
            }
            fprintf(stderr, "streamrun: %s: could not start worker thread %d of %d; using %d\n",
                    dr->dep->name, id + 1, want, dr->nworkers);
            break;
        }
    }
}

void kr_stop_workers(dep_run *dr)
{
    if (!dr->workers) return;
    for (int id = 0; id < dr->nworkers; id++) {
        worker *w = &dr->workers[id];
        pthread_mutex_lock(&w->lock);
        w->quit = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
    }
    for (int id = 0; id < dr->nworkers; id++) {
        worker *w = &dr->workers[id];
        pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
    }
    free(dr->workers);
    dr->workers = NULL;
}
