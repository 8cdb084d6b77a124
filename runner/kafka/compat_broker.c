/* compat_broker.c — `streamrun compat EDITED --broker HOST:PORT`: the running side of the check
 * read from what the running deployment recorded on the cluster: its changelog topics (which
 * exist, their partition counts) and the state signature of their latest records. Read-only: it
 * reads metadata and watermarks and fetches a few records, under a group it never joins. */
#include "kafka/kafka.h"
#include "kafka/kafka_admin.h"
#include "load/compat.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATE_HEADER  "streamrun.state" /* as changelog.c writes them */
#define FORMAT_HEADER "streamrun.state.format"

/* A consumer that only assigns partitions: bootstraps, and the file's top-level properties that
 * apply to a consumer (security settings). NULL with the reason in err. */
static rd_kafka_t *reader(const sr_topology *t, const char *bootstraps, char *err, size_t errsize)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[512];
    if (sr_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, errsize) ||
        sr_kafka_conf_set(conf, "group.id", "streamrun-compat", err, errsize) ||
        sr_kafka_conf_set(conf, "enable.auto.commit", "false", err, errsize) ||
        sr_kafka_conf_set(conf, "enable.partition.eof", "true", err, errsize) ||
        sr_kafka_conf_set(conf, "isolation.level", "read_uncommitted", err, errsize)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    for (int i = 0; i < t->kafka.n; i++)
        if (sr_kafka_prop_applies(t->kafka.names[i], true) &&
            sr_kafka_conf_set(conf, t->kafka.names[i], t->kafka.vals[i], err, errsize)) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (!rk) snprintf(err, errsize, "cannot create a Kafka client: %s", e);
    return rk;
}

static const rd_kafka_metadata_topic_t *find_topic(const rd_kafka_metadata_t *md, const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0 && !md->topics[i].err) return &md->topics[i];
    return NULL;
}

static void header(rd_kafka_message_t *m, const char *name, char *buf, size_t size)
{
    rd_kafka_headers_t *h = NULL;
    const void *v = NULL;
    size_t n = 0;
    buf[0] = 0;
    if (rd_kafka_message_headers(m, &h) || !h || rd_kafka_header_get_last(h, name, &v, &n) || !v)
        return;
    if (n >= size) n = size - 1;
    memcpy(buf, v, n);
    buf[n] = 0;
    for (char *c = buf; *c; c++)
        if (*c == '\n') *c = ';';
}

/* The signature and format of the latest record of topic [p] (the last of up to 32 before its
 * end: the last offsets of a transaction are its marker, never delivered). Returns 1 with sig
 * and fmt set, 0 for an empty partition, -1 with err set. */
static int latest(rd_kafka_t *rk, const char *topic, int32_t p, char *sig, size_t sigsize,
                  char *fmt, size_t fmtsize, char *err, size_t errsize)
{
    int64_t lo, hi;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
    if (e) {
        snprintf(err, errsize, "cannot read the offsets of %s [%d]: %s", topic, p,
                 rd_kafka_err2str(e));
        return -1;
    }
    if (hi <= lo) return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = hi - 32 > lo ? hi - 32 : lo;
    e = rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        snprintf(err, errsize, "cannot read %s [%d]: %s", topic, p, rd_kafka_err2str(e));
        return -1;
    }
    int found = 0, rc = 0;
    for (int waited = 0; waited < 100; waited++) { /* 10 s at most */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        bool end = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (m->err && !end) {
            snprintf(err, errsize, "reading %s [%d]: %s", topic, p, rd_kafka_message_errstr(m));
            rc = -1;
        } else if (!m->err) {
            header(m, STATE_HEADER, sig, sigsize);
            header(m, FORMAT_HEADER, fmt, fmtsize);
            found = 1;
            end = m->offset >= hi - 1;
        }
        rd_kafka_message_destroy(m);
        if (end || rc) break;
    }
    rd_kafka_assign(rk, NULL);
    return rc ? rc : found;
}

/* The stores of t, as names of changelog topics, for the orphan check. */
static bool is_changelog_of(const sr_compat_store *v, int n, const char *topic)
{
    char name[256];
    for (int i = 0; i < n; i++)
        if (sr_changelog_topic(v[i].dep, v[i].op, name, sizeof(name)) == 0 &&
            strcmp(name, topic) == 0)
            return true;
    return false;
}

/* The longest consumer group of t's deployments (stages too) that topic starts with, followed
 * by '-', or NULL. */
static const sr_deployment *owner(const sr_topology *t, const char *topic)
{
    const sr_deployment *best = NULL;
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        size_t n = d->group ? strlen(d->group) : 0;
        if (!n || strncmp(topic, d->group, n) != 0 || topic[n] != '-') continue;
        if (!best || strlen(best->group) < n) best = d;
    }
    return best;
}

/* How many partitions of topic mt have latest records written for another state than
 * signature (the first of them in *first, its signature and format in was_sig[64] and
 * was_fmt[512]); -1 with the reason in err when the cluster could not be read. */
static int differing(rd_kafka_t *rk, const rd_kafka_metadata_topic_t *mt, const char *signature,
                     int *first, char *was_sig, char *was_fmt, char *err, size_t errsize)
{
    int differ = 0;
    char sig[64], fmt[512];
    for (int p = 0; p < mt->partition_cnt; p++) {
        int got = latest(rk, mt->topic, p, sig, sizeof(sig), fmt, sizeof(fmt), err, errsize);
        if (got < 0) return -1;
        if (got == 0 || strcmp(sig, signature) == 0) continue;
        if (differ++ == 0) {
            *first = p;
            snprintf(was_sig, 64, "%s", sig);
            snprintf(was_fmt, 512, "%s", fmt);
        }
    }
    return differ;
}

/* Whether deployment as written w renames a store from store (migrations: {store: NEW, from:
 * store}). */
static bool renamed_from(const sr_deployment *w, const char *store)
{
    for (int k = 0; k < w->nmigrations; k++)
        if (w->migrations[k].from && strcmp(w->migrations[k].from, store) == 0) return true;
    return false;
}

/* Store s renamed by migration m from another store: the old store's changelog, whose state s
 * takes over, checked as s's own would be (its partition count and latest signatures: an error
 * each, counted in *errors). Returns 1 when that changelog exists (a note, or the errors, said
 * so), 0 when it does not, -1 with the reason in err when the cluster could not be read. */
static int take_over(rd_kafka_t *rk, const rd_kafka_metadata_t *md, const sr_compat_store *s,
                     const sr_migration *m, const char *broker, sr_diag *dg, int *errors, char *err,
                     size_t errsize)
{
    char old[600];
    snprintf(old, sizeof(old), "%s-%s-changelog", s->dep->group, m->from);
    const rd_kafka_metadata_topic_t *mt = find_topic(md, old);
    if (!mt) return 0;
    int first = -1;
    char was_sig[64] = "", was_fmt[512] = "";
    int differ = mt->partition_cnt == s->partitions
                     ? differing(rk, mt, s->signature, &first, was_sig, was_fmt, err, errsize)
                     : 0;
    if (differ < 0) return -1;
    if (mt->partition_cnt != s->partitions)
        sr_errc(dg, SR_E_COMPAT_RENAME_FORMAT, s->origin->file, m->from_mark,
                "deployment '%s': store '%s' cannot take over the state of '%s': its changelog "
                "'%s' on %s has %d partitions, the step's state %d; up would refuse it and exit 2",
                s->origin->name, s->store, m->from, old, broker, mt->partition_cnt, s->partitions);
    else if (differ)
        sr_errc(dg, SR_E_COMPAT_RENAME_FORMAT, s->origin->file, m->from_mark,
                "deployment '%s': store '%s' cannot take over the state of '%s': the latest "
                "records of %d of the partitions of its changelog '%s' on %s (from partition "
                "%d) were written for [%s] (signature %s), the step's state is [%s] (signature "
                "%s); up would refuse them and exit 2",
                s->origin->name, s->store, m->from, differ, old, broker, first, was_fmt, was_sig,
                s->format, s->signature);
    if (mt->partition_cnt != s->partitions || differ) {
        sr_diag_help(dg,
                     "undo the change to the step; or replace the rename by {store: %s, "
                     "action: drop} to start '%s' empty",
                     m->from, s->store);
        (*errors)++;
        return 1;
    }
    sr_diag_addc(dg, SR_NOTE, SR_N_COMPAT_RENAMED, s->op->file, s->op->mark,
                 "deployment '%s': %s: store '%s' (was '%s'; migration) takes over the state in "
                 "changelog '%s' on %s, of the same format: up copies it into its own changelog "
                 "at its first commit",
                 s->origin->name, s->op->label, s->store, m->from, old, broker);
    return 1;
}

int sr_compat_broker(const sr_topology *t, const char *broker, sr_diag *dg, char *err,
                     size_t errsize)
{
    rd_kafka_t *rk = reader(t, broker, err, errsize);
    if (!rk) return -1;
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    if (e) {
        snprintf(err, errsize, "cannot reach the Kafka cluster at %s: %s", broker,
                 rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return -1;
    }
    sr_compat_store *v;
    int n = sr_compat_stores(t, &v), errors = 0, rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        const sr_compat_store *s = &v[i];
        char topic[256];
        if (sr_changelog_topic(s->dep, s->op, topic, sizeof(topic)) != 0) continue; /* validate */
        const sr_migration *mig = sr_deployment_migration(s->dep, s->store);
        bool reset = mig && mig->action == SR_MIGRATE_RESET;
        const rd_kafka_metadata_topic_t *mt = find_topic(md, topic);
        bool taken = mig && mig->action == SR_MIGRATE_RENAME &&
                     (rc = take_over(rk, md, s, mig, broker, dg, &errors, err, errsize)) == 1;
        if (rc < 0) break;
        rc = 0;
        if (!mt && taken) continue; /* the note says where its state comes from */
        if (!mt) {
            sr_diag_addc(dg, SR_NOTE, SR_N_NEW_STORE, s->op->file, s->op->mark,
                         "deployment '%s': %s: store '%s' has no changelog '%s' on %s: it starts "
                         "empty (a new store, or a deployment that never ran)",
                         s->origin->name, s->op->label, s->store, topic, broker);
            continue;
        }
        if (mt->partition_cnt != s->partitions) {
            sr_errc(dg, SR_E_STORE_PARTITIONS, s->op->file, s->op->mark,
                    "deployment '%s': %s: store '%s' would be partitioned in %d, but its "
                    "changelog '%s' on %s has %d partitions: keys move to other partitions, and "
                    "up refuses a changelog whose partition count differs (exit 2). Keep %d "
                    "partitions; or give the step a new 'store:' name (a new changelog) and "
                    "declare {store: %s, action: drop}",
                    s->origin->name, s->op->label, s->store, s->partitions, topic, broker,
                    mt->partition_cnt, mt->partition_cnt, s->store);
            errors++;
            continue;
        }
        int first = -1;
        char was_sig[64] = "", was_fmt[512] = "";
        int differ = differing(rk, mt, s->signature, &first, was_sig, was_fmt, err, errsize);
        if (differ < 0) rc = -1;
        if (rc || !differ) continue;
        char now[512];
        snprintf(now, sizeof(now), "%s", s->format);
        size_t nl = strlen(now);
        while (nl && now[nl - 1] == '\n') now[--nl] = 0;
        for (char *c = now; *c; c++)
            if (*c == '\n') *c = ';';
        if (!reset) errors++;
        const char *was_f = was_fmt[0] ? was_fmt : "unknown",
                   *was_s = was_sig[0] ? was_sig : "none";
        if (reset)
            sr_diag_addc(
                dg, SR_NOTE, SR_E_STATE_FORMAT, s->op->file, s->op->mark,
                "deployment '%s': %s: store '%s' is reset (migration): the latest records "
                "of %d of the %d partitions of its changelog '%s' (from partition %d) were "
                "written for [%s] (signature %s), the step's state is now [%s] "
                "(signature %s); up skips and counts them",
                s->origin->name, s->op->label, s->store, differ, mt->partition_cnt, topic, first,
                was_f, was_s, now, s->signature);
        else
            sr_errc(dg, SR_E_STATE_FORMAT, s->op->file, s->op->mark,
                    "deployment '%s': %s: the latest records of %d of the %d partitions of "
                    "changelog '%s' of store '%s' (from partition %d) were written for [%s] "
                    "(signature %s), but the step's state is now [%s] (signature %s): up would "
                    "refuse to restore it and exit 2. Undo the change; or declare {store: %s, "
                    "action: reset} under the deployment's migrations to start it empty; or give "
                    "the step a new 'store:' name",
                    s->origin->name, s->op->label, differ, mt->partition_cnt, topic, s->store,
                    first, was_f, was_s, now, s->signature, s->store);
    }
    /* changelogs of these consumer groups that no store of the file uses any more */
    for (int i = 0; i < md->topic_cnt && rc == 0; i++) {
        const char *name = md->topics[i].topic;
        size_t len = strlen(name);
        if (len < 11 || strcmp(name + len - 10, "-changelog") != 0 || is_changelog_of(v, n, name))
            continue;
        const sr_deployment *d = owner(t, name);
        if (!d || d->ninputs == 0) continue;
        const sr_deployment *w = d->origin ? d->origin : d;
        size_t gl = strlen(d->group);
        char store[256];
        snprintf(store, sizeof(store), "%.*s", (int)(len - 10 - gl - 1), name + gl + 1);
        const sr_migration *mig = sr_deployment_migration(d, store);
        bool drop = mig && mig->action == SR_MIGRATE_DROP;
        if (renamed_from(w, store)) continue; /* taken over: said with the store that takes it */
        if (!drop) errors++;
        sr_diag_addc(dg, drop ? SR_NOTE : SR_ERROR, drop ? SR_W_LEFT_BEHIND : SR_E_STORE_REMOVED,
                     w->file, w->mark,
                     drop ? "deployment '%s': changelog '%s' on %s holds the state of store '%s', "
                            "dropped (migration): nothing reads it any more (delete it once the "
                            "new version runs)%.0s%.0s"
                          : "deployment '%s': changelog '%s' on %s holds the state of store '%s' "
                            "of consumer group '%s', which no step of this file has: deploying "
                            "it orphans that state (a store renamed or removed, or a split moved). "
                            "Give the step back its store name, or declare {store: %s, action: "
                            "drop} under the deployment's migrations",
                     w->name, name, broker, store, d->group, store);
    }
    sr_compat_stores_free(v, n);
    rd_kafka_metadata_destroy(md);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc ? -1 : errors;
}
