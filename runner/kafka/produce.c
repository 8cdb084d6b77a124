/* produce.c — producing a deployment's outputs: the producer, delivery reports, flushing. */
#include "kafka/runtime.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- producing ------------------------------------------------------------------------ */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    dep_run *dr = opaque;
    pthread_mutex_lock(&dr->lock);
    /* an aborted transaction's messages come back purged: the abort says why */
    if (dr->eos &&
        (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)) {
        pthread_mutex_unlock(&dr->lock);
        return;
    }
    if (m->err) {
        if (dr->failed++ == 0)
            snprintf(dr->fail_reason, sizeof(dr->fail_reason), "delivery to %s [%d] failed: %s",
                     rd_kafka_topic_name(m->rkt), m->partition, rd_kafka_err2str(m->err));
    } else {
        dr->delivered++;
    }
    pthread_mutex_unlock(&dr->lock);
}

static int topic_index(const sr_topology *t, const sr_topic *tp)
{
    for (int i = 0; i < t->ntopics; i++)
        if (t->topics[i] == tp) return i;
    return -1;
}

/* Produces a task's staged outputs, then resets its batch. A stop request does not cut this
 * short: the inputs behind these outputs are already marked processed and will be committed. */
void kr_produce_outputs(dep_run *dr, sr_task *t)
{
    if (dr->eos && t->nouts) __atomic_add_fetch(&dr->txn_outputs, t->nouts, __ATOMIC_RELAXED);
    for (size_t i = 0; i < t->nouts && !dr->r->fatal; i++) {
        const sr_out *o = &t->outs[i];
        int ti = topic_index(dr->r->topo, o->topic);
        rd_kafka_topic_t *rkt = __atomic_load_n(&dr->rkts[ti], __ATOMIC_ACQUIRE);
        if (!rkt) { /* first output to this topic: workers may race here */
            pthread_mutex_lock(&dr->lock);
            if (!dr->rkts[ti])
                dr->rkts[ti] = rd_kafka_topic_new(dr->producer, o->topic->name, NULL);
            rkt = dr->rkts[ti];
            pthread_mutex_unlock(&dr->lock);
        }
        rd_kafka_headers_t *hdrs = NULL;
        if (o->nhdr) {
            hdrs = rd_kafka_headers_new(o->nhdr);
            const char *h = t->obuf.d + o->hdr_off;
            for (uint32_t k = 0; k < o->nhdr; k++) {
                sr_header x;
                h = sr_header_next(h, &x);
                rd_kafka_header_add(hdrs, x.name, x.nlen, x.val, x.vlen);
            }
        }
        const void *key = o->key_len < 0 ? NULL : t->obuf.d + o->key_off;
        size_t keylen = o->key_len < 0 ? 0 : (size_t)o->key_len;
        int32_t part = o->partition < 0 ? RD_KAFKA_PARTITION_UA : o->partition;
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                dr->producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(part),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(o->val_null ? NULL : (void *)(t->obuf.d + o->val_off), o->val_len),
                RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_TIMESTAMP(o->ts), RD_KAFKA_V_HEADERS(hdrs),
                RD_KAFKA_V_END);
            if (!err) break;
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(dr->producer, 50);
                if (dr->r->fatal) break;
                continue;
            }
            if (hdrs) rd_kafka_headers_destroy(hdrs);
            if (dr->eos && err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                /* the transaction is in an abortable state, or the producer in a fatal one: the
                 * commit aborts and rewinds, or renews the producer (txn_recover) */
                __atomic_store_n(&dr->txn_broken, 1, __ATOMIC_RELEASE);
                break;
            }
            char why[512] = "";
            if (err == RD_KAFKA_RESP_ERR__FATAL)
                rd_kafka_fatal_error(dr->producer, why, sizeof(why));
            kr_fatal(dr->r, "%s: cannot produce to %s: %s%s%s", dr->dep->name, o->topic->name,
                     rd_kafka_err2str(err), why[0] ? ": " : "", why);
            break;
        }
    }
    rd_kafka_poll(dr->producer, 0);
    sr_task_batch_done(t);
}

/* Waits until every produced message is acknowledged. Returns -1 (and makes
 * the run fatal) when a delivery failed: nothing may be committed then. */
int kr_flush_producer(dep_run *dr)
{
    while (rd_kafka_outq_len(dr->producer) > 0) {
        rd_kafka_flush(dr->producer, 500);
        if (dr->r->fatal) break;
    }
    pthread_mutex_lock(&dr->lock);
    uint64_t failed = dr->failed;
    pthread_mutex_unlock(&dr->lock);
    if (failed) {
        kr_fatal(dr->r, "%s: %s (%llu message%s failed); input offsets after it are not committed",
                 dr->dep->name, dr->fail_reason, (unsigned long long)failed,
                 failed == 1 ? "" : "s");
        return -1;
    }
    return rd_kafka_outq_len(dr->producer) > 0 ? -1 : 0;
}

/* Creates the deployment's producer (dr->producer) and, under exactly-once, initialises its
 * transactions: that fences an earlier producer with this transactional.id and aborts its open
 * transaction. Returns 0, or -1 with err.
 * @locality the deployment's thread, with its workers idle (kr_quiesce) once they run */
int kr_new_producer(dep_run *dr, char *err, size_t errsize)
{
    assert(!dr->producer);
    char e[512];
    rd_kafka_conf_t *conf = kr_make_conf(dr, false, e, sizeof(e));
    if (!conf) {
        snprintf(err, errsize, "%s", e);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, dr);
    char mmb[32];
    size_t mmbsize = sizeof(mmb);
    if (rd_kafka_conf_get(conf, "message.max.bytes", mmb, &mmbsize) == RD_KAFKA_CONF_OK)
        dr->max_msg_bytes = (size_t)atoll(mmb);
    dr->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!dr->producer) {
        snprintf(err, errsize, "cannot create the producer: %.400s", e);
        return -1;
    }
    if (!dr->eos) return 0;
    rd_kafka_error_t *x;
    TXN_RETRY(dr, x, rd_kafka_init_transactions(dr->producer, TXN_TIMEOUT_MS));
    if (!x) return 0;
    snprintf(err, errsize, "exactly-once: cannot initialise transactions (transactional.id %s): %s",
             dr->txn_id, rd_kafka_error_string(x));
    rd_kafka_error_destroy(x);
    return -1;
}
