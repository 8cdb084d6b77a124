/* worker.c — the worker threads of a deployment: their inboxes of events (messages, ticks,
 * drops), dispatching to them, running the tasks, and waiting until they are idle (quiesce). */
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
 * itself.
 *
 * An inbox holds events (kr_event), not only messages: every KR_TICK_MS the consumer thread
 * offers each task a tick (the wall clock), which fires the task's wall-clock timers on the
 * thread that owns it, whether its partition has messages or is idle; and a revoked task is
 * destroyed by its owner (a drop). What timers make is produced like a message's outputs; it
 * belongs to no input offset: at-least-once flushes it before the next commit, exactly-once
 * produces it in the open transaction (and commits that transaction even when no input was
 * processed in it). */

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

/* Fires t's wall-clock timers due by now_ms, if any. Returns how many fired. */
static int tick_task(sr_task *t, int64_t now_ms)
{
    if (sr_task_next_tick(t) > now_ms) return 0;
    return sr_task_tick(t, now_ms);
}

static void destroy_task(sr_task *t)
{
    sr_task_destroy(t);
    free(t);
}

/* Runs evs[0..n) (all of one thread's tasks) in order, produces the outputs, frees the messages.
 * Returns whether it did work (a message, or a timer fired), for the deployment's busy time. */
static bool process(dep_run *dr, const kr_event *evs, size_t n)
{
    static unsigned gen; /* tags the tasks touched by this call, so each is produced once */
    uintptr_t tag = __atomic_add_fetch(&gen, 1, __ATOMIC_RELAXED);
    sr_task *touched[BATCH];
    size_t ntouched = 0;
    bool worked = false;
    assert(n <= BATCH);
    for (size_t i = 0; i < n; i++) {
        sr_task *t = evs[i].task;
        switch (evs[i].kind) {
        case KR_EV_MESSAGE:
            feed_message(dr, t, evs[i].msg);
            worked = true;
            break;
        case KR_EV_TICK:
            __atomic_store_n(&dr->tick_pending[t->partition], 0, __ATOMIC_RELEASE);
            if (tick_task(t, evs[i].now_ms) == 0) continue;
            worked = true;
            break;
        case KR_EV_DROP:
            /* its messages came before: what they made goes out before it is gone */
            for (size_t k = 0; k < ntouched; k++) kr_produce_outputs(dr, touched[k]);
            ntouched = 0;
            tag = __atomic_add_fetch(&gen, 1, __ATOMIC_RELAXED);
            destroy_task(t);
            continue;
        }
        if (t->user != (void *)tag) {
            t->user = (void *)tag;
            touched[ntouched++] = t;
        }
    }
    for (size_t i = 0; i < ntouched; i++) kr_produce_outputs(dr, touched[i]);
    for (size_t i = 0; i < n; i++)
        if (evs[i].kind == KR_EV_MESSAGE) rd_kafka_message_destroy(evs[i].msg);
    return worked;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    char name[16]; /* as `top -H` and perf show it */
    snprintf(name, sizeof(name), "sr-worker-%d", (int)(w - w->dr->workers));
    pthread_setname_np(pthread_self(), name);
    kr_event evs[INBOX / 4];
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->n == 0 && !w->quit) pthread_cond_wait(&w->cond, &w->lock);
        if (w->n == 0) break; /* quit, with nothing left */
        size_t k = w->n < INBOX / 4 ? w->n : INBOX / 4;
        for (size_t i = 0; i < k; i++) {
            evs[i] = w->inbox[(w->head + i) % INBOX];
            if (evs[i].kind == KR_EV_MESSAGE) w->bytes -= evs[i].msg->len;
        }
        w->head = (w->head + (unsigned)k) % INBOX;
        w->n -= (unsigned)k;
        w->busy = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        bool worked = process(w->dr, evs, k);
        pthread_mutex_lock(&w->lock);
        w->busy = false;
        if (worked) w->t_last = kr_mono();
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Appends ev to w's inbox, waiting while it is full: messages out of librdkafka's queue no
 * longer count against its limit, so the inboxes have their own, in events and in message bytes
 * (one message always fits). @locks w->lock held */
static void post(worker *w, const kr_event *ev)
{
    size_t len = ev->kind == KR_EV_MESSAGE ? ev->msg->len : 0;
    while (w->n == INBOX || (w->n > 0 && len && w->bytes + len > w->max_bytes))
        pthread_cond_wait(&w->cond, &w->lock);
    w->inbox[(w->head + w->n) % INBOX] = *ev;
    w->bytes += len;
    if (w->n++ == 0) pthread_cond_broadcast(&w->cond);
}

/* Hands msgs[0..n) (tasks[i] NULL: not to be processed, freed here) to their workers, or
 * processes them on this thread when there is one worker. Waits while an inbox is full. */
void kr_dispatch(dep_run *dr, rd_kafka_message_t **msgs, sr_task **tasks, size_t n)
{
    kr_event evs[BATCH];
    size_t k = 0;
    assert(n <= BATCH);
    for (size_t i = 0; i < n; i++) {
        if (tasks[i])
            evs[k++] = (kr_event){.kind = KR_EV_MESSAGE, .task = tasks[i], .msg = msgs[i]};
        else
            rd_kafka_message_destroy(msgs[i]);
    }
    if (k == 0) return;
    if (dr->nworkers == 1) {
        process(dr, evs, k);
        dr->t_last = kr_mono();
        return;
    }
    for (int id = 0; id < dr->nworkers; id++) {
        worker *w = &dr->workers[id];
        size_t i = 0;
        while (i < k && dr->owner[evs[i].task->partition] != id) i++;
        if (i == k) continue;
        pthread_mutex_lock(&w->lock);
        for (; i < k; i++) {
            assert(dr->owner[evs[i].task->partition] < dr->nworkers);
            if (dr->owner[evs[i].task->partition] == id) post(w, &evs[i]);
        }
        pthread_mutex_unlock(&w->lock);
    }
}

void kr_tick_tasks(dep_run *dr)
{
    int64_t now = kr_wall_ms();
    if (!dr->workers) {
        for (int p = 0; p < dr->ntasks; p++) {
            sr_task *t = dr->tasks[p];
            if (!t || tick_task(t, now) == 0) continue;
            kr_produce_outputs(dr, t);
            dr->t_last = kr_mono();
        }
        return;
    }
    for (int id = 0; id < dr->nworkers; id++) {
        worker *w = &dr->workers[id];
        bool locked = false;
        for (int p = 0; p < dr->ntasks; p++) {
            sr_task *t = dr->tasks[p];
            if (!t || dr->owner[p] != id || __atomic_load_n(&dr->tick_pending[p], __ATOMIC_ACQUIRE))
                continue;
            if (!locked) pthread_mutex_lock(&w->lock);
            locked = true;
            __atomic_store_n(&dr->tick_pending[p], 1, __ATOMIC_RELEASE);
            post(w, &(kr_event){.kind = KR_EV_TICK, .task = t, .now_ms = now});
        }
        if (locked) pthread_mutex_unlock(&w->lock);
    }
}

void kr_destroy_task(dep_run *dr, sr_task *t)
{
    if (!dr->workers) {
        destroy_task(t);
        return;
    }
    worker *w = &dr->workers[dr->owner[t->partition]];
    pthread_mutex_lock(&w->lock);
    post(w, &(kr_event){.kind = KR_EV_DROP, .task = t});
    pthread_mutex_unlock(&w->lock);
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
