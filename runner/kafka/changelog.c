/* changelog.c — the state stores of a deployment's tasks made durable: their changes logged to
 * changelog topics at every commit, and restored from them when a partition is assigned. */
#include "kafka/kafka_admin.h"
#include "kafka/runtime.h"
#include "load/compat.h"
#include "state/store.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A changelog record carries the store's signature in this header: a record written under
 * another state format is refused, not misread; and the format itself in the next, so that the
 * refusal can say what changed. */
#define STATE_HEADER  "streamrun.state"
#define FORMAT_HEADER "streamrun.state.format"
/* The mark that a renamed store's changelog holds the whole state copied from the old store's
 * (migrations: {store: NEW, from: OLD}): a record of its own key, never a store's, whose header
 * names the old changelog. Restores skip it. */
#define COPIED_HEADER "streamrun.state.copied-from"
static const char copied_key[] = "\0streamrun.state.copied-from";

void kr_changelog_init(dep_run *dr)
{
    const sr_deployment *d = dr->dep;
    dr->clog_topic = sr_xcalloc((size_t)d->nops + 1, sizeof(char *));
    dr->clog_rkt = sr_xcalloc((size_t)d->nops + 1, sizeof(rd_kafka_topic_t *));
    dr->clog_from = sr_xcalloc((size_t)d->nops + 1, sizeof(char *));
    if (d->ninputs == 0) return; /* a file source: replayed from its start, state with it */
    for (int k = 0; k < d->nops; k++) {
        const sr_op *op = &d->ops[k];
        if (!op->type->store_name || !op->type->store_name(op)) continue; /* no state here */
        char name[256];
        /* `up` checked the names (sr_changelogs) before starting */
        if (sr_changelog_topic(d, op, name, sizeof(name)) != 0) continue;
        dr->clog_topic[op->slot] = sr_xstrdup(name);
        const sr_migration *m = sr_deployment_migration(d, op->type->store_name(op));
        if (m && m->action == SR_MIGRATE_RENAME) {
            sr_buf b = {0};
            sr_buf_printf(&b, "%s-%s-changelog", d->group, m->from);
            sr_buf_cstr(&b);
            dr->clog_from[op->slot] = b.d;
        }
    }
}

void kr_changelog_forget_producer(dep_run *dr)
{
    for (int k = 0; dr->clog_rkt && k < dr->dep->nops; k++)
        if (dr->clog_rkt[k]) {
            rd_kafka_topic_destroy(dr->clog_rkt[k]);
            dr->clog_rkt[k] = NULL;
        }
}

void kr_changelog_free(dep_run *dr)
{
    kr_changelog_forget_producer(dr);
    for (int k = 0; dr->clog_topic && k < dr->dep->nops; k++) {
        free(dr->clog_topic[k]);
        free(dr->clog_from[k]);
    }
    free(dr->clog_topic);
    free(dr->clog_from);
    dr->clog_from = NULL;
    free(dr->clog_rkt);
    dr->clog_topic = NULL;
    dr->clog_rkt = NULL;
    rd_kafka_t *clients[2] = {dr->restorer, dr->watermarks};
    for (int i = 0; i < 2; i++)
        if (clients[i]) {
            rd_kafka_consumer_close(clients[i]);
            rd_kafka_destroy(clients[i]);
        }
    dr->restorer = dr->watermarks = NULL;
}

/* ---- logging ------------------------------------------------------------------------------ */

struct logging {
    dep_run *dr;
    rd_kafka_topic_t *rkt;
    int32_t partition;
    const char *signature, *format;
    const char *copied_from; /* the mark of a complete copy (COPIED_HEADER), else NULL */
    uint64_t n;
};

/* Produces one change (val NULL: a deletion, logged as a null value). Non-zero stops the drain,
 * the change and those after it staying dirty. */
static int log_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    struct logging *lg = ud;
    dep_run *dr = lg->dr;
    for (;;) {
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(3);
        rd_kafka_header_add(hdrs, STATE_HEADER, -1, lg->signature, 16);
        rd_kafka_header_add(hdrs, FORMAT_HEADER, -1, lg->format, -1);
        if (lg->copied_from) rd_kafka_header_add(hdrs, COPIED_HEADER, -1, lg->copied_from, -1);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            dr->producer, RD_KAFKA_V_RKT(lg->rkt), RD_KAFKA_V_PARTITION(lg->partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)val, val ? vlen : 0),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
        if (!err) {
            lg->n++;
            return 0;
        }
        rd_kafka_headers_destroy(hdrs);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !dr->r->fatal) {
            rd_kafka_poll(dr->producer, 50);
            continue;
        }
        if (dr->eos && err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
            __atomic_store_n(&dr->txn_broken, 1, __ATOMIC_RELEASE); /* the commit aborts */
            return 1;
        }
        char why[512] = "";
        if (err == RD_KAFKA_RESP_ERR__FATAL) rd_kafka_fatal_error(dr->producer, why, sizeof(why));
        kr_fatal(dr->r, "%s: cannot log a state change to %s [%d]: %s%s%s", dr->dep->name,
                 rd_kafka_topic_name(lg->rkt), lg->partition, rd_kafka_err2str(err),
                 why[0] ? ": " : "", why);
        return 1;
    }
}

int kr_log_changes(dep_run *dr)
{
    assert(kr_workers_idle(dr)); /* the stores are the consumer thread's until the next dispatch */
    uint64_t logged = 0;
    for (int p = 0; p < dr->ntasks && !dr->r->fatal; p++) {
        sr_task *t = dr->tasks[p];
        if (!t || t->nstores == 0 || !dr->clog_topic[t->stores[0].op->slot]) continue;
        if (sr_task_checkpoint(t) != 0) {
            kr_fatal(dr->r, "%s: partition %d: cannot keep the state for its changelog: %s",
                     dr->dep->name, p, t->err);
            return -1;
        }
        for (int i = 0; i < t->nstores; i++) {
            sr_task_store *ts = &t->stores[i];
            int slot = ts->op->slot;
            if (sr_store_dirty_count(ts->store) == 0 && !ts->copy_due) continue;
            if (!dr->clog_rkt[slot]) {
                pthread_mutex_lock(&dr->lock); /* dr->rkts' lock, for the same kind of handle */
                dr->clog_rkt[slot] = rd_kafka_topic_new(dr->producer, dr->clog_topic[slot], NULL);
                pthread_mutex_unlock(&dr->lock);
            }
            struct logging lg = {.dr = dr,
                                 .rkt = dr->clog_rkt[slot],
                                 .partition = t->partition,
                                 .signature = ts->signature,
                                 .format = ts->format};
            int rc = sr_store_drain(ts->store, log_one, &lg);
            if (rc == 0 && ts->copy_due) { /* after the copy: its mark */
                const char *from = dr->clog_from[slot];
                lg.copied_from = from;
                rc = log_one(&lg, copied_key, sizeof(copied_key) - 1, from, strlen(from));
                ts->copy_due = rc != 0;
            }
            logged += lg.n;
            if (rc != 0) {
                if (dr->eos) __atomic_add_fetch(&dr->txn_outputs, logged, __ATOMIC_RELAXED);
                return -1;
            }
        }
    }
    /* a transaction holding only state changes (timers closed windows) is committed too */
    if (dr->eos) __atomic_add_fetch(&dr->txn_outputs, logged, __ATOMIC_RELAXED);
    rd_kafka_poll(dr->producer, 0);
    return dr->r->fatal ? -1 : 0;
}

static int forget_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)ud, (void)key, (void)klen, (void)val, (void)vlen;
    return 0;
}

void kr_forget_changes(sr_task *t)
{
    for (int i = 0; i < t->nstores; i++) sr_store_drain(t->stores[i].store, forget_one, NULL);
}

/* ---- restoring ---------------------------------------------------------------------------- */

/* A consumer for changelogs: the deployment's consumer configuration (security settings),
 * isolation level iso, under a group of its own that it never joins (assign() only, nothing
 * committed); large fetches, and a short fetch wait: the end of a changelog is known from an
 * empty fetch at its end. Its local queue may hold a million records: librdkafka 2.0.2 stops
 * fetching once the queue holds queued.min.messages (100,000 by default) and looks again only up
 * to a second later (see consume.c), which made every changelog partition of more than 100,000
 * records take a second longer to restore (a million keys over 8 partitions: 8.1 s instead of
 * about 2 s). NULL after kr_fatal. */
static rd_kafka_t *changelog_consumer(dep_run *dr, const char *iso)
{
    char err[512], group[400];
    rd_kafka_conf_t *conf = kr_make_conf(dr, true, err, sizeof(err));
    snprintf(group, sizeof(group), "%s.streamrun-restore", dr->dep->group);
    if (conf &&
        (sr_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
         sr_kafka_conf_set(conf, "isolation.level", iso, err, sizeof(err)) ||
         sr_kafka_conf_set(conf, "fetch.max.bytes", "52428800", err, sizeof(err)) ||
         sr_kafka_conf_set(conf, "max.partition.fetch.bytes", "8388608", err, sizeof(err)) ||
         sr_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, sizeof(err)) ||
         sr_kafka_conf_set(conf, "queued.min.messages", "1000000", err, sizeof(err)) ||
         sr_kafka_conf_set(conf, "queued.max.messages.kbytes", "65536", err, sizeof(err)))) {
        rd_kafka_conf_destroy(conf);
        conf = NULL;
    }
    rd_kafka_t *rk = conf ? rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err)) : NULL;
    if (!rk)
        kr_fatal(dr->r, "%s: cannot create the consumer that restores state: %s", dr->dep->name,
                 err);
    return rk;
}

/* The restorer reads committed changes only (read_committed); the watermark client asks for the
 * high watermark (read_uncommitted: a read_committed ListOffsets gives the last stable offset,
 * which lags behind a transaction committed a moment ago until its markers are written — a
 * restore right after this member's own commit on revocation would stop short of it). */
static int restorers(dep_run *dr)
{
    if (!dr->restorer) dr->restorer = changelog_consumer(dr, "read_committed");
    if (dr->restorer && !dr->watermarks)
        dr->watermarks = changelog_consumer(dr, "read_uncommitted");
    return dr->restorer && dr->watermarks ? 0 : -1;
}

/* The value of header name of m into buf (NUL-terminated, cut to size), or "" without one. */
static void record_header(const rd_kafka_message_t *m, const char *name, char *buf, size_t size)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t vlen = 0;
    buf[0] = 0;
    if (rd_kafka_message_headers((rd_kafka_message_t *)m, &h) || !h ||
        rd_kafka_header_get_last(h, name, &v, &vlen) || !v)
        return;
    if (vlen >= size) vlen = size - 1;
    memcpy(buf, v, vlen);
    buf[vlen] = 0;
}

/* Applies one changelog record to store ts: as a restore (nothing dirty), or with copy as a
 * change (dirty: logged at the next commit). Returns 0, or -1 with the reason in err. */
static int apply(const sr_task_store *ts, bool copy, const rd_kafka_message_t *m, char *err,
                 size_t errsize)
{
    const char *key = m->key ? m->key : "";
    if (!copy)
        return sr_store_restore(ts->store, key, m->key_len, m->payload, m->payload ? m->len : 0,
                                err, errsize);
    if (m->payload)
        return sr_store_put(ts->store, key, m->key_len, m->payload, m->len, err, errsize);
    return sr_store_delete(ts->store, key, m->key_len, err, errsize) < 0 ? -1 : 0;
}

/* Restores store ts of t from partition t->partition of topic (with copy: as changes, see
 * apply; a topic that does not exist is then empty: the old store of a rename may never have
 * logged). *marked: whether the mark of a complete copy was read. Returns 0, or -1 (fatal). */
static int restore_store(dep_run *dr, sr_task *t, const sr_task_store *ts, const char *topic,
                         bool copy, bool *marked)
{
    if (restorers(dr) != 0) return -1;
    rd_kafka_t *rk = dr->restorer;
    int32_t p = t->partition;
    const char *store = sr_store_name(ts->store);
    int64_t lo = -1, hi = -1;
    rd_kafka_resp_err_t e =
        rd_kafka_query_watermark_offsets(dr->watermarks, topic, p, &lo, &hi, 30000);
    if (copy &&
        (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
         e == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)) {
        fprintf(stderr,
                "streamrun: %s: store '%s' (partition %d) is renamed (migrations), but there is no "
                "changelog %s [%d] to take its state from: it starts empty\n",
                dr->dep->name, store, p, topic, p);
        return 0;
    }
    if (e) {
        kr_fatal(dr->r,
                 "%s: cannot read the offsets of changelog %s [%d] to restore store '%s': %s",
                 dr->dep->name, topic, p, store, rd_kafka_err2str(e));
        return -1;
    }
    if (lo > 0) {
        if (!dr->r->o->accept_incomplete_state) {
            kr_fatal_code(dr->r, 3,
                          "%s: the state of store '%s' (partition %d) is incomplete: its changelog "
                          "%s [%d] starts at offset %lld, the changes before it are gone "
                          "(retention, or the embedded broker's 5 MiB per partition cap), so a "
                          "restore would start from part of the state as if it were whole. Nothing "
                          "was processed. Give the changelog cleanup.policy=compact alone (no "
                          "retention); or delete the changelog topic to start from empty state; or "
                          "run up with --accept-incomplete-state to restore what is left",
                          dr->dep->name, store, p, topic, p, (long long)lo);
            return -1;
        }
        fprintf(stderr,
                "streamrun: %s: WARNING: the state of store '%s' (partition %d) is incomplete: its "
                "changelog %s [%d] starts at offset %lld, the changes before it are gone; "
                "restoring what is left (--accept-incomplete-state)\n",
                dr->dep->name, store, p, topic, p, (long long)lo);
    }
    if (hi <= lo) return 0; /* empty */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = lo;
    e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        kr_fatal(dr->r, "%s: cannot read changelog %s [%d]: %s", dr->dep->name, topic, p,
                 rd_kafka_err2str(e));
        return -1;
    }
    double t0 = kr_mono(), last_log = t0;
    uint64_t n = 0, skipped = 0; /* skipped: of another format, under a declared reset */
    const sr_migration *mig = sr_deployment_migration(dr->dep, store);
    bool reset = mig && mig->action == SR_MIGRATE_RESET;
    int64_t pos = lo;
    int rc = 0;
    char sig[64], err[512], was_from[256];
    while (pos < hi && rc == 0) {
        if (kr_stopping(dr->r)) {
            rc = -1;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m && (m->partition != p || !m->rkt || strcmp(rd_kafka_topic_name(m->rkt), topic))) {
            rd_kafka_message_destroy(m); /* left from an earlier assignment */
            m = NULL;
        }
        if (m) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* read_committed: the end of what is committed (the last offsets of a
                 * transaction are its marker, never delivered) */
                if (m->offset > pos) pos = m->offset;
            } else if (m->err) {
                kr_fatal(dr->r, "%s: reading changelog %s [%d] to restore store '%s': %s",
                         dr->dep->name, topic, p, store, rd_kafka_message_errstr(m));
                rc = -1;
            } else {
                record_header(m, STATE_HEADER, sig, sizeof(sig));
                record_header(m, COPIED_HEADER, was_from, sizeof(was_from));
                if (was_from[0]) {
                    *marked = true; /* not a change of the store */
                    pos = m->offset + 1;
                } else if (strcmp(sig, ts->signature) != 0 && reset) {
                    skipped++; /* the old state, given up: README "Changing a running pipeline" */
                    pos = m->offset + 1;
                } else if (strcmp(sig, ts->signature) != 0) {
                    char was[512], now[512];
                    record_header(m, FORMAT_HEADER, was, sizeof(was));
                    snprintf(now, sizeof(now), "%s", ts->format);
                    for (char *c = was; *c; c++) *c = *c == '\n' ? ' ' : *c;
                    for (char *c = now; *c; c++) *c = *c == '\n' ? ' ' : *c;
                    kr_fatal_code(
                        dr->r, 2,
                        "%s: %s: the state of store '%s' is incompatible with its changelog %s: "
                        "partition %d offset %lld was written for state [%s] (signature %s), but "
                        "the step's state is now [%s] (signature %s): the operator or what shapes "
                        "its state (a window's type, size, step or gap, the aggregates, dedupe's "
                        "'by') changed, and the old state would be misread. Nothing was "
                        "processed. Give the step a new 'store:' name to start it from empty "
                        "state (a new changelog topic), or delete the changelog topic %s to drop "
                        "the old state, or undo the change",
                        dr->dep->name, ts->op->label, store, topic, p, (long long)m->offset,
                        was[0] ? was : "unknown", sig[0] ? sig : "none", now, ts->signature, topic);
                    rc = -1;
                } else if (apply(ts, copy, m, err, sizeof(err)) != 0) {
                    kr_fatal(dr->r, "%s: restoring store '%s' (partition %d): %s", dr->dep->name,
                             store, p, err);
                    rc = -1;
                } else {
                    n++;
                    pos = m->offset + 1;
                }
            }
            rd_kafka_message_destroy(m);
        }
        double now = kr_mono();
        if (now - last_log >= 1.0) {
            fprintf(stderr,
                    "streamrun: %s: restoring store '%s' of partition %d from %s: %llu records, "
                    "%.1f s, %lld offsets remaining\n",
                    dr->dep->name, store, p, topic, (unsigned long long)n, now - t0,
                    (long long)(hi - pos > 0 ? hi - pos : 0));
            last_log = now;
        }
    }
    rd_kafka_assign(rk, NULL);
    double secs = kr_mono() - t0;
    if (rc == 0)
        fprintf(stderr,
                "streamrun: %s: restored store '%s' of partition %d from %s: %llu records, %.3f s, "
                "%zu keys, %zu bytes\n",
                dr->dep->name, store, p, topic, (unsigned long long)n, secs,
                sr_store_count(ts->store), sr_store_bytes(ts->store));
    if (rc == 0 && skipped)
        fprintf(stderr,
                "streamrun: %s: store '%s' of partition %d is reset (migrations): %llu records of "
                "%s written in another format skipped (the signature is now %s)\n",
                dr->dep->name, store, p, (unsigned long long)skipped, topic, ts->signature);
    pthread_mutex_lock(&dr->lock);
    dr->restored += n;
    dr->restore_secs += secs;
    pthread_mutex_unlock(&dr->lock);
    return rc;
}

struct wiping {
    sr_store *store;
    char *err;
    size_t errsize;
};

static int wipe_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)val, (void)vlen;
    struct wiping *w = ud;
    return sr_store_delete(w->store, key, klen, w->err, w->errsize) < 0 ? -1 : 0;
}

/* Store ts is renamed from the store whose changelog is from, and its own changelog has no mark
 * of a complete copy: it is rebuilt as changes from the old changelog, then its own on top (what
 * a copy cut short logged, and changes logged with it), all logged again at the next commit,
 * followed by the mark. Returns 0, or -1 (fatal). */
static int take_over(dep_run *dr, sr_task *t, sr_task_store *ts, const char *topic,
                     const char *from)
{
    char err[512];
    bool marked = false;
    /* every key deleted as a change (a tombstone logged at the next commit) */
    struct wiping w = {.store = ts->store, .err = err, .errsize = sizeof(err)};
    if (sr_store_foreach(ts->store, wipe_one, &w) != 0) {
        kr_fatal(dr->r, "%s: store '%s' (partition %d): %s", dr->dep->name,
                 sr_store_name(ts->store), t->partition, err);
        return -1;
    }
    if (restore_store(dr, t, ts, from, true, &marked) != 0 ||
        restore_store(dr, t, ts, topic, true, &marked) != 0)
        return -1;
    fprintf(stderr,
            "streamrun: %s: store '%s' of partition %d takes over the state of %s (migrations: "
            "renamed): %zu keys, copied to %s at the next commit\n",
            dr->dep->name, sr_store_name(ts->store), t->partition, from, sr_store_count(ts->store),
            topic);
    ts->copy_due = true;
    return 0;
}

int kr_restore_task(dep_run *dr, sr_task *t)
{
    for (int i = 0; i < t->nstores; i++) {
        sr_task_store *ts = &t->stores[i];
        const char *topic = dr->clog_topic[ts->op->slot];
        const char *from = dr->clog_from[ts->op->slot];
        bool marked = false;
        if (topic && restore_store(dr, t, ts, topic, false, &marked) != 0) return -1;
        if (topic && from && !marked && take_over(dr, t, ts, topic, from) != 0) return -1;
    }
    sr_task_restored(t);
    return 0;
}

void kr_rebuild_state(dep_run *dr)
{
    assert(kr_workers_idle(dr));
    for (int p = 0; p < dr->ntasks && !dr->r->fatal; p++) {
        sr_task *old = dr->tasks[p];
        if (!old || old->nstores == 0 || !dr->clog_topic[old->stores[0].op->slot]) continue;
        sr_task *t = sr_xcalloc(1, sizeof(sr_task));
        sr_task_init(t, dr->r->topo, dr->dep, p);
        t->max_msg_bytes = old->max_msg_bytes;
        if (kr_restore_task(dr, t) != 0) {
            sr_task_destroy(t);
            free(t);
            return;
        }
        fprintf(stderr,
                "streamrun: %s: partition %d: state rolled back to the last committed "
                "transaction\n",
                dr->dep->name, p);
        pthread_mutex_lock(&dr->lock);
        t->stats = t->stats_committed = old->stats_committed;
        t->dropped_errors = old->dropped_errors;
        dr->tasks[p] = t;
        pthread_mutex_unlock(&dr->lock);
        kr_destroy_task(dr, old);
    }
    kr_quiesce(dr); /* the old tasks' drops are done: the workers are idle again, as promised */
}
