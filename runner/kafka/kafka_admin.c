/* kafka_admin.c — `up`'s topics on a cluster: missing ones created as declared (CreateTopics),
 * existing ones checked against the file (metadata, DescribeConfigs), each mismatch reported
 * with how to align the file or the cluster. */
#include "kafka/kafka_admin.h"
#include "base/arena.h"
#include "kafka/kafka.h"
#include "load/topic_config.h"

#include <assert.h>
#include <stdarg.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ADMIN_TIMEOUT_MS 30000
#define LEADERS_WAIT_MS  15000

typedef struct admin {
    const sr_topology *t;
    const char *bootstraps;
    rd_kafka_t *rk;
    sr_diag *dg;
    bool mock; /* the embedded broker: topics are made by restarting it with the file */
    int problems;
} admin;

static void problem(admin *a, sr_code code, const sr_topic *tp, sr_mark m, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* An error about topic tp at m in its file. */
static void problem(admin *a, sr_code code, const sr_topic *tp, sr_mark m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sr_diag_vaddc(a->dg, SR_ERROR, code, tp->file, m, fmt, ap);
    va_end(ap);
    a->problems++;
}

/* A metadata snapshot of every topic (a request naming topics would create them on a broker
 * that creates topics on demand), with its topics sorted by name: a file of many topics is
 * checked in O(n log n). */
typedef struct view {
    const struct rd_kafka_metadata *md;
    const struct rd_kafka_metadata_topic **by_name;
} view;

static int cmp_mt(const void *x, const void *y)
{
    const struct rd_kafka_metadata_topic *const *a = x, *const *b = y;
    return strcmp((*a)->topic, (*b)->topic);
}

/* Fills v from the cluster; returns 0, or -1 with err set (v then empty). */
static int view_load(admin *a, view *v, char *err, size_t errsize)
{
    v->md = NULL;
    v->by_name = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(a->rk, 1, NULL, &v->md, 10000);
    if (e) {
        snprintf(err, errsize, "cannot reach the Kafka cluster at %s: %s", a->bootstraps,
                 rd_kafka_err2str(e));
        v->md = NULL;
        return -1;
    }
    int n = v->md->topic_cnt;
    v->by_name = sr_xcalloc((size_t)n + 1, sizeof(*v->by_name));
    for (int i = 0; i < n; i++) v->by_name[i] = &v->md->topics[i];
    qsort(v->by_name, (size_t)n, sizeof(*v->by_name), cmp_mt);
    return 0;
}

static void view_free(view *v)
{
    if (v->md) rd_kafka_metadata_destroy(v->md);
    free(v->by_name);
    v->md = NULL;
    v->by_name = NULL;
}

/* The topic named name in v, or NULL when the cluster does not have it. */
static const struct rd_kafka_metadata_topic *view_topic(const view *v, const char *name)
{
    struct rd_kafka_metadata_topic key = {.topic = (char *)name};
    const struct rd_kafka_metadata_topic *kp = &key, *const * hit;
    hit = bsearch(&kp, v->by_name, (size_t)v->md->topic_cnt, sizeof(*v->by_name), cmp_mt);
    if (!hit || (*hit)->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return NULL;
    return *hit;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- creating ----------------------------------------------------------------------------- */

/* The place in the file a CreateTopics error is about: the replication factor, a config named
 * in Kafka's message, or else the topic's name. */
static sr_mark create_error_mark(const sr_topic *tp, rd_kafka_resp_err_t e, const char *msg)
{
    if (e == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR ||
        e == RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT)
        return tp->replication_mark;
    if (e == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS) return tp->partitions_mark;
    for (int i = 0; msg && i < tp->config.n; i++)
        if (strstr(msg, tp->config.names[i])) return tp->config_marks[i];
    return tp->mark;
}

/* Creates the topics of t flagged in missing[] with one CreateTopics request; a topic whose
 * creation failed is reported and its flag cleared. Returns the number created (those that
 * already existed by then, created by another process, count too). */
static int create_topics(admin *a, bool *missing)
{
    const sr_topology *t = a->t;
    rd_kafka_NewTopic_t **create = sr_xcalloc((size_t)t->ntopics + 1, sizeof(*create));
    const sr_topic **which = sr_xcalloc((size_t)t->ntopics + 1, sizeof(*which));
    int n = 0, created = 0;
    char e[512];
    for (int i = 0; i < t->ntopics; i++) {
        const sr_topic *tp = t->topics[i];
        if (!missing[i]) continue;
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(
            tp->name, tp->partitions, tp->replication ? tp->replication : -1, e, sizeof(e));
        if (!nt) {
            problem(a, SR_E_BROKER, tp, tp->mark, "cannot create topic '%s': %s", tp->name, e);
            missing[i] = false;
            continue;
        }
        for (int k = 0; k < tp->config.n; k++)
            if (rd_kafka_NewTopic_set_config(nt, tp->config.names[k], tp->config.vals[k]))
                problem(a, SR_E_BROKER, tp, tp->config_marks[k],
                        "topic '%s': cannot pass config %s to Kafka", tp->name,
                        tp->config.names[k]);
        which[n] = tp;
        create[n++] = nt;
    }
    if (n == 0) goto done;
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(opt, ADMIN_TIMEOUT_MS, e, sizeof(e));
    rd_kafka_AdminOptions_set_operation_timeout(opt, ADMIN_TIMEOUT_MS, e, sizeof(e));
    rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
    rd_kafka_CreateTopics(a->rk, create, (size_t)n, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    if (!res || rd_kafka_event_error(ev)) {
        for (int i = 0; i < n; i++) {
            problem(a, SR_E_BROKER, which[i], which[i]->mark, "cannot create topic '%s': %s",
                    which[i]->name,
                    ev ? rd_kafka_event_error_string(ev) : "no answer from the cluster in time");
            missing[which[i]->index] = false;
        }
    } else {
        size_t nr;
        const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &nr);
        for (size_t r = 0; r < nr; r++) {
            const char *name = rd_kafka_topic_result_name(tr[r]);
            const sr_topic *tp = sr_topology_topic(t, name);
            assert(tp);
            rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[r]);
            const char *msg = rd_kafka_topic_result_error_string(tr[r]);
            if (!te || te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                created++;
                continue;
            }
            char what[96];
            int len = snprintf(what, sizeof(what), "%d partition%s", tp->partitions,
                               tp->partitions == 1 ? "" : "s");
            if (tp->replication)
                len += snprintf(what + len, sizeof(what) - (size_t)len, ", replication factor %d",
                                tp->replication);
            if (tp->config.n)
                snprintf(what + len, sizeof(what) - (size_t)len, ", %d config%s", tp->config.n,
                         tp->config.n == 1 ? "" : "s");
            missing[tp->index] = false;
            problem(a, SR_E_BROKER, tp, create_error_mark(tp, te, msg),
                    "cannot create topic '%s' (%s) on the cluster at %s: %s: %s", name, what,
                    a->bootstraps, rd_kafka_err2name(te), msg && *msg ? msg : rd_kafka_err2str(te));
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(opt);
done:
    for (int i = 0; i < n; i++) rd_kafka_NewTopic_destroy(create[i]);
    free(create);
    free(which);
    return created;
}

/* Whether the topics flagged in want[] are all in md with every partition led. */
static bool all_led(const view *v, const sr_topology *t, const bool *want)
{
    for (int i = 0; i < t->ntopics; i++) {
        if (!want[i]) continue;
        const struct rd_kafka_metadata_topic *mt = view_topic(v, t->topics[i]->name);
        if (!mt || mt->err || mt->partition_cnt < t->topics[i]->partitions) return false;
        for (int p = 0; p < mt->partition_cnt; p++)
            if (mt->partitions[p].leader < 0) return false;
    }
    return true;
}

/* Waits until the topics just created are known to the broker we ask, with leaders: a consumer
 * joining before then would find no partitions. Refreshes v; returns 0, or -1 with err. */
static int wait_created(admin *a, view *v, const bool *created, char *err, size_t errsize)
{
    double t0 = mono_ms();
    for (;;) {
        view_free(v);
        if (view_load(a, v, err, errsize) != 0) return -1;
        if (all_led(v, a->t, created) || mono_ms() - t0 > LEADERS_WAIT_MS) return 0;
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* ---- checking ----------------------------------------------------------------------------- */

/* "name=value" as kafka-configs.sh --add-config takes it: a list in brackets. */
static void add_config_arg(char *out, size_t size, const char *name, const char *value)
{
    if (strchr(value, ','))
        snprintf(out, size, "%s=[%s]", name, value);
    else
        snprintf(out, size, "%s=%s", name, value);
}

static void check_partitions(admin *a, const sr_topic *tp, int have)
{
    if (have == tp->partitions) return;
    if (tp->internal)
        problem(a, SR_E_BROKER_TOPIC, tp, tp->partitions_mark,
                "the repartition topic '%s' after this re-key has %d partition%s on the %s at %s, "
                "but the file gives it %d (the partition count of the stage's input, or the key "
                "step's partitions:): set partitions: %d on this key step, or delete the topic "
                "once the stage after it has read every record it holds, and run up again",
                tp->name, have, have == 1 ? "" : "s", a->mock ? "embedded broker" : "cluster",
                a->bootstraps, tp->partitions, have);
    else if (a->mock)
        problem(a, SR_E_BROKER_TOPIC, tp, tp->partitions_mark,
                "topic '%s' has %d partition%s on the embedded broker at %s, but %d %s declared: "
                "declare partitions: %d, or start that broker again with this file (streamrun "
                "broker %s; its data lives in memory only)",
                tp->name, have, have == 1 ? "" : "s", a->bootstraps, tp->partitions,
                tp->partitions == 1 ? "is" : "are", have, a->t->path);
    else if (have < tp->partitions)
        problem(a, SR_E_BROKER_TOPIC, tp, tp->partitions_mark,
                "topic '%s' has %d partition%s on the cluster at %s, but %d are declared: declare "
                "partitions: %d, or add partitions with kafka-topics.sh --bootstrap-server %s "
                "--alter --topic %s --partitions %d (records already written stay where they are, "
                "so a key's old and new records end up in different partitions)",
                tp->name, have, have == 1 ? "" : "s", a->bootstraps, tp->partitions, have,
                a->bootstraps, tp->name, tp->partitions);
    else
        problem(a, SR_E_BROKER_TOPIC, tp, tp->partitions_mark,
                "topic '%s' has %d partitions on the cluster at %s, but %d %s declared: declare "
                "partitions: %d (Kafka cannot remove partitions; to have %d, delete the topic, "
                "and its records, with kafka-topics.sh --bootstrap-server %s --delete --topic %s, "
                "and run up again)",
                tp->name, have, a->bootstraps, tp->partitions, tp->partitions == 1 ? "is" : "are",
                have, tp->partitions, a->bootstraps, tp->name);
}

/* The replication factor of an existing topic against the declared one, and against its
 * declared min.insync.replicas (with acks=all no write succeeds when it is above). */
static void check_replication(admin *a, const sr_topic *tp,
                              const struct rd_kafka_metadata_topic *mt)
{
    if (mt->partition_cnt < 1) return;
    int have = mt->partitions[0].replica_cnt;
    for (int p = 1; p < mt->partition_cnt; p++)
        if (mt->partitions[p].replica_cnt < have) have = mt->partitions[p].replica_cnt;
    if (tp->replication && have != tp->replication)
        problem(a, SR_E_BROKER_TOPIC, tp, tp->replication_mark,
                "topic '%s' has replication factor %d on the cluster at %s, but %d is declared: "
                "declare replicationFactor: %d, or change the replicas with "
                "kafka-reassign-partitions.sh --bootstrap-server %s --execute "
                "--reassignment-json-file PLAN (a plan listing %d brokers for each of its %d "
                "partitions)",
                tp->name, have, a->bootstraps, tp->replication, have, a->bootstraps,
                tp->replication, mt->partition_cnt);
    for (int i = 0; i < tp->config.n; i++) {
        long long isr;
        if (!tp->replication && strcmp(tp->config.names[i], "min.insync.replicas") == 0 &&
            sr_topic_config_integer(tp->config.vals[i], &isr) && isr > have)
            problem(a, SR_E_BROKER_TOPIC, tp, tp->config_marks[i],
                    "topic '%s': min.insync.replicas (%lld) is above the replication factor it "
                    "has on the cluster at %s (%d): no write with acks=all can succeed; declare "
                    "replicationFactor: %lld or more, or lower min.insync.replicas",
                    tp->name, isr, a->bootstraps, have, isr);
    }
}

static int cmp_resource(const void *x, const void *y)
{
    const rd_kafka_ConfigResource_t *const *a = x, *const *b = y;
    return strcmp(rd_kafka_ConfigResource_name(*a), rd_kafka_ConfigResource_name(*b));
}

/* The resource named name among sorted[0..n), or NULL. */
static const rd_kafka_ConfigResource_t *find_resource(const rd_kafka_ConfigResource_t **sorted,
                                                      size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rd_kafka_ConfigResource_name(sorted[mid]), name);
        if (c == 0) return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* One DescribeConfigs request and its answer: rr[0..nr), owned by ev. */
typedef struct described {
    rd_kafka_AdminOptions_t *opt;
    rd_kafka_queue_t *q;
    rd_kafka_event_t *ev; /* NULL: no answer in time */
    const rd_kafka_ConfigResource_t **rr;
    size_t nr;
} described;

/* DescribeConfigs of rs[0..n) into *d (described_free frees it, and rs). A broker learns of a
 * topic created a moment ago through the metadata log, later than its controller: the request
 * may land on one that does not know it yet (seen on a 3-broker cluster right after
 * CreateTopics). Asked again until none answers so, for a while. */
static void describe_configs(admin *a, rd_kafka_ConfigResource_t **rs, int n, described *d)
{
    char e[512];
    d->opt = rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(d->opt, ADMIN_TIMEOUT_MS, e, sizeof(e));
    d->q = rd_kafka_queue_new(a->rk);
    for (double t0 = mono_ms();;) {
        rd_kafka_DescribeConfigs(a->rk, rs, (size_t)n, d->opt, d->q);
        d->ev = rd_kafka_queue_poll(d->q, ADMIN_TIMEOUT_MS + 5000);
        const rd_kafka_DescribeConfigs_result_t *res =
            d->ev ? rd_kafka_event_DescribeConfigs_result(d->ev) : NULL;
        d->nr = 0;
        d->rr = res && !rd_kafka_event_error(d->ev)
                    ? rd_kafka_DescribeConfigs_result_resources(res, &d->nr)
                    : NULL;
        bool unknown = false;
        for (size_t k = 0; k < d->nr; k++)
            if (rd_kafka_ConfigResource_error(d->rr[k]) == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                unknown = true;
        if (!unknown || mono_ms() - t0 > LEADERS_WAIT_MS) return;
        rd_kafka_event_destroy(d->ev);
        struct timespec ts = {0, 200 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Why the resource r (NULL: not in the answer) could not be described, or NULL when it was. */
static const char *described_error(const described *d, const rd_kafka_ConfigResource_t *r)
{
    if (r && !rd_kafka_ConfigResource_error(r)) return NULL;
    return r       ? rd_kafka_ConfigResource_error_string(r)
           : d->ev ? rd_kafka_event_error_string(d->ev)
                   : "no answer from the cluster in time";
}

static void described_free(described *d, rd_kafka_ConfigResource_t **rs, int n)
{
    if (d->ev) rd_kafka_event_destroy(d->ev);
    rd_kafka_queue_destroy(d->q);
    rd_kafka_AdminOptions_destroy(d->opt);
    for (int i = 0; i < n; i++) rd_kafka_ConfigResource_destroy(rs[i]);
    free(rs);
}

/* Compares the declared configs of the topics flagged in want[] with what the cluster reports
 * (one DescribeConfigs request for them all). */
static void check_configs(admin *a, const bool *want)
{
    const sr_topology *t = a->t;
    rd_kafka_ConfigResource_t **rs = sr_xcalloc((size_t)t->ntopics + 1, sizeof(*rs));
    int n = 0;
    for (int i = 0; i < t->ntopics; i++)
        if (want[i])
            rs[n++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t->topics[i]->name);
    if (n == 0) {
        free(rs);
        return;
    }
    described d;
    describe_configs(a, rs, n, &d);
    size_t nr = d.nr;
    const rd_kafka_ConfigResource_t **rr = d.rr;
    /* the results by name, for lookups in O(log n) */
    const rd_kafka_ConfigResource_t **sorted = sr_xcalloc(nr + 1, sizeof(*sorted));
    if (nr) memcpy(sorted, rr, nr * sizeof(*sorted));
    qsort(sorted, nr, sizeof(*sorted), cmp_resource);
    for (int i = 0; i < t->ntopics; i++) {
        if (!want[i]) continue;
        const sr_topic *tp = t->topics[i];
        const rd_kafka_ConfigResource_t *r = find_resource(sorted, nr, tp->name);
        const char *why = described_error(&d, r);
        if (why) {
            problem(a, SR_E_BROKER, tp, tp->mark,
                    "cannot read the configs of topic '%s' on the cluster at %s "
                    "(DescribeConfigs): %s",
                    tp->name, a->bootstraps, why);
            continue;
        }
        size_t ne;
        const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(r, &ne);
        for (int c = 0; c < tp->config.n; c++) {
            const char *name = tp->config.names[c], *want_v = tp->config.vals[c];
            const rd_kafka_ConfigEntry_t *ce = NULL;
            for (size_t k = 0; k < ne; k++)
                if (strcmp(rd_kafka_ConfigEntry_name(es[k]), name) == 0) ce = es[k];
            if (!ce) {
                problem(a, SR_E_BROKER_TOPIC, tp, tp->config_marks[c],
                        "topic '%s': the cluster at %s does not know topic config %s (a Kafka "
                        "older than 4.0?): remove it from the file, or upgrade the cluster",
                        tp->name, a->bootstraps, name);
                continue;
            }
            const char *have = rd_kafka_ConfigEntry_value(ce);
            if (!have || sr_topic_config_same(name, want_v, have)) continue; /* NULL: sensitive */
            char arg[512];
            add_config_arg(arg, sizeof(arg), name, want_v);
            bool dflt =
                rd_kafka_ConfigEntry_source(ce) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
            problem(a, SR_E_BROKER_TOPIC, tp, tp->config_marks[c],
                    "topic '%s' has %s=%s on the cluster at %s%s, but %s is declared: align the "
                    "cluster with kafka-configs.sh --bootstrap-server %s --alter --entity-type "
                    "topics --entity-name %s --add-config %s, or declare %s: %s",
                    tp->name, name, have, a->bootstraps, dflt ? " (the broker's default)" : "",
                    want_v, a->bootstraps, tp->name, arg, name, have);
        }
    }
    free(sorted);
    described_free(&d, rs, n);
}

/* ---- the whole -------------------------------------------------------------------------- */

static rd_kafka_t *admin_client(const sr_topology *t, const char *bootstraps, char *err,
                                size_t errsize)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[512];
    if (sr_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, errsize)) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    /* the file's properties that apply to a producer: security settings and the like */
    for (int i = 0; i < t->kafka.n; i++)
        if (sr_kafka_prop_applies(t->kafka.names[i], false) &&
            sr_kafka_conf_set(conf, t->kafka.names[i], t->kafka.vals[i], err, errsize)) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!rk) snprintf(err, errsize, "cannot create a Kafka client: %s", e);
    return rk;
}

int sr_kafka_ensure_topics(const sr_topology *t, const char *bootstraps, bool *mock, sr_diag *dg,
                           char *err, size_t errsize)
{
    admin a = {.t = t, .bootstraps = bootstraps, .dg = dg};
    *mock = false;
    if (!(a.rk = admin_client(t, bootstraps, err, errsize))) return -1;
    int rc = -1;
    bool *missing = sr_xcalloc((size_t)t->ntopics + 1, sizeof(bool));
    bool *configs = sr_xcalloc((size_t)t->ntopics + 1, sizeof(bool));
    view v = {0};
    if (view_load(&a, &v, err, errsize) != 0) goto out;
    /* librdkafka's mock cluster (the embedded broker) names itself mockCluster... */
    char *cid = rd_kafka_clusterid(a.rk, 5000);
    *mock = a.mock = cid && strncmp(cid, "mockCluster", 11) == 0;
    if (cid) rd_kafka_mem_free(a.rk, cid);
    int nmissing = 0;
    for (int i = 0; i < t->ntopics; i++) {
        const sr_topic *tp = t->topics[i];
        if (view_topic(&v, tp->name)) continue;
        if (*mock)
            problem(&a, SR_E_BROKER_TOPIC, tp, tp->mark,
                    "topic '%s' does not exist on the embedded broker at %s, which cannot create "
                    "topics over the network: start it with the file (streamrun broker %s) or "
                    "with --topic %s:%d",
                    tp->name, bootstraps, t->path, tp->name, tp->partitions);
        else
            missing[i] = true, nmissing++;
    }
    if (nmissing && create_topics(&a, missing) > 0 &&
        wait_created(&a, &v, missing, err, errsize) != 0)
        goto out;
    /* everything that exists now is checked against the file, what was just created too (a
     * broker's policy may have changed what it was asked for) */
    for (int i = 0; i < t->ntopics; i++) {
        const sr_topic *tp = t->topics[i];
        const struct rd_kafka_metadata_topic *mt = view_topic(&v, tp->name);
        if (!mt) {
            if (missing[i]) /* created, yet not there: a failed creation was reported already */
                problem(&a, SR_E_BROKER, tp, tp->mark,
                        "topic '%s' was created on the cluster at %s, but its metadata does not "
                        "show it after %d s",
                        tp->name, bootstraps, LEADERS_WAIT_MS / 1000);
            continue;
        }
        if (mt->err) {
            problem(&a, SR_E_BROKER, tp, tp->mark, "topic '%s' on the cluster at %s: %s", tp->name,
                    bootstraps, rd_kafka_err2str(mt->err));
            continue;
        }
        check_partitions(&a, tp, mt->partition_cnt);
        if (*mock) continue; /* one replica and no configs there: said once by the caller */
        check_replication(&a, tp, mt);
        configs[i] = tp->config.n > 0;
    }
    check_configs(&a, configs);
    if (a.problems)
        snprintf(err, errsize,
                 "%d problem%s with the topics of %s on the cluster at %s; nothing was started",
                 a.problems, a.problems == 1 ? "" : "s", t->path, bootstraps);
    else
        rc = 0;
out:
    view_free(&v);
    free(missing);
    free(configs);
    rd_kafka_destroy(a.rk);
    return rc;
}

bool sr_kafka_embedded_unapplied(const sr_topology *t, char *buf, size_t size)
{
    char names[1400];
    size_t n = 0;
    int count = 0;
    for (int i = 0; i < t->ntopics; i++) {
        const sr_topic *tp = t->topics[i];
        if (tp->replication <= 1 && tp->config.n == 0) continue;
        if (count < 5 && n < sizeof(names))
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s'%s'", count ? ", " : "",
                                  tp->name);
        count++;
    }
    if (!count) return false;
    char more[32] = "";
    if (count > 5) snprintf(more, sizeof(more), " and %d more", count - 5);
    snprintf(buf, size,
             "the embedded broker keeps one replica of each partition and has no topic configs: "
             "the declared replicationFactor and config: of topic%s %s%s are not applied here (up "
             "applies them on a Kafka cluster given with --broker)",
             count == 1 ? "" : "s", names, more);
    return true;
}

/* ---- changelog topics ------------------------------------------------------------------------ */

int sr_changelog_topic(const sr_deployment *d, const sr_op *op, char *buf, size_t size)
{
    assert(op->type->store_name && op->type->store_name(op) && size >= 256);
    const char *store = op->type->store_name(op);
    if (!d->group) {
        snprintf(buf, size, "deployment '%s' has no consumer group", d->name);
        return -1;
    }
    int n = snprintf(buf, size, "%s-%s-changelog", d->group, store);
    if (n < 0 || n > 249) {
        snprintf(buf, size,
                 "the changelog topic of store '%.60s' in consumer group '%.60s' would have %d "
                 "characters: Kafka takes at most 249; set 'store:' to a shorter name",
                 store, d->group, n);
        return -1;
    }
    for (const char *c = buf; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '.' || *c == '_' || *c == '-')
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%s", buf);
        snprintf(buf, size,
                 "the changelog topic '%.200s' (consumer group and store name) holds '%c', which "
                 "Kafka does not take in a topic name (ASCII letters, digits, '.', '_' and '-' "
                 "only); set 'store:' or consumerGroup to such a name",
                 name, *c);
        return -1;
    }
    return 0;
}

int sr_changelogs(const sr_topology *t, const char *const *only, int nonly, sr_changelog **out,
                  sr_diag *dg)
{
    int n = 0, cap = 0, bad = 0;
    sr_changelog *v = NULL;
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        if (!sr_deployment_selected(d, only, nonly) || d->ninputs == 0) continue;
        int parts = 1;
        for (int k = 0; k < d->ninputs; k++)
            if (d->inputs[k]->partitions > parts) parts = d->inputs[k]->partitions;
        for (int k = 0; k < d->nops; k++) {
            const sr_op *op = &d->ops[k];
            if (!op->type->store_name || !op->type->store_name(op)) continue; /* no state */
            if (n == cap) v = sr_xrealloc(v, sizeof(*v) * (size_t)(cap = cap ? 2 * cap : 4));
            sr_changelog *c = &v[n];
            if (sr_changelog_topic(d, op, c->topic, sizeof(c->topic)) != 0) {
                sr_errc(dg, SR_E_TOPIC_NAME, op->file, op->mark, "deployment '%s': %s: %s", d->name,
                        op->label, c->topic);
                bad++;
                continue;
            }
            c->partitions = parts;
            c->dep = d;
            c->op = op;
            n++;
        }
    }
    *out = v;
    return bad ? -1 : n;
}

static void changelog_problem(admin *a, sr_code code, const sr_changelog *c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error about changelog c, at its step. */
static void changelog_problem(admin *a, sr_code code, const sr_changelog *c, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sr_errc(a->dg, code, c->op->file, c->op->mark, "deployment '%s': %s: %s", c->dep->name,
            c->op->label, msg);
    a->problems++;
}

/* Creates the changelogs flagged in missing[] (compacted) with one CreateTopics request; clears
 * the flag of one that failed (reported). Returns how many now exist. */
static int create_changelogs(admin *a, const sr_changelog *cl, int n, bool *missing)
{
    rd_kafka_NewTopic_t **create = sr_xcalloc((size_t)n + 1, sizeof(*create));
    int *which = sr_xcalloc((size_t)n + 1, sizeof(int));
    int m = 0, created = 0;
    char e[512];
    for (int i = 0; i < n; i++) {
        if (!missing[i]) continue;
        rd_kafka_NewTopic_t *nt =
            rd_kafka_NewTopic_new(cl[i].topic, cl[i].partitions, -1, e, sizeof(e));
        if (!nt || rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact")) {
            changelog_problem(a, SR_E_BROKER, &cl[i], "cannot create its changelog topic '%s': %s",
                              cl[i].topic, nt ? "cannot set cleanup.policy" : e);
            if (nt) rd_kafka_NewTopic_destroy(nt);
            missing[i] = false;
            continue;
        }
        which[m] = i;
        create[m++] = nt;
    }
    if (m) {
        rd_kafka_AdminOptions_t *opt =
            rd_kafka_AdminOptions_new(a->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_request_timeout(opt, ADMIN_TIMEOUT_MS, e, sizeof(e));
        rd_kafka_AdminOptions_set_operation_timeout(opt, ADMIN_TIMEOUT_MS, e, sizeof(e));
        rd_kafka_queue_t *q = rd_kafka_queue_new(a->rk);
        rd_kafka_CreateTopics(a->rk, create, (size_t)m, opt, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ADMIN_TIMEOUT_MS + 5000);
        const rd_kafka_CreateTopics_result_t *res =
            ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
        size_t nr = 0;
        const rd_kafka_topic_result_t **tr =
            res && !rd_kafka_event_error(ev) ? rd_kafka_CreateTopics_result_topics(res, &nr) : NULL;
        for (int k = 0; k < m; k++) {
            const sr_changelog *c = &cl[which[k]];
            const rd_kafka_topic_result_t *r = NULL;
            for (size_t j = 0; j < nr; j++)
                if (strcmp(rd_kafka_topic_result_name(tr[j]), c->topic) == 0) r = tr[j];
            rd_kafka_resp_err_t te =
                r ? rd_kafka_topic_result_error(r) : RD_KAFKA_RESP_ERR__TIMED_OUT;
            if (!te || te == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                created++;
                continue;
            }
            const char *msg = r    ? rd_kafka_topic_result_error_string(r)
                              : ev ? rd_kafka_event_error_string(ev)
                                   : "no answer from the cluster in time";
            changelog_problem(a, SR_E_BROKER, c,
                              "cannot create its changelog topic '%s' (%d partitions, "
                              "cleanup.policy=compact) on the cluster at %s: %s",
                              c->topic, c->partitions, a->bootstraps,
                              msg && *msg ? msg : rd_kafka_err2str(te));
            missing[which[k]] = false;
        }
        if (ev) rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        rd_kafka_AdminOptions_destroy(opt);
    }
    for (int k = 0; k < m; k++) rd_kafka_NewTopic_destroy(create[k]);
    free(create);
    free(which);
    return created;
}

/* Apache Kafka: each changelog's cleanup.policy must compact (one DescribeConfigs request). */
static void check_changelog_policies(admin *a, const sr_changelog *cl, int n, const bool *want)
{
    rd_kafka_ConfigResource_t **rs = sr_xcalloc((size_t)n + 1, sizeof(*rs));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (want[i]) rs[m++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, cl[i].topic);
    if (m == 0) {
        free(rs);
        return;
    }
    described d;
    describe_configs(a, rs, m, &d);
    for (int i = 0; i < n; i++) {
        if (!want[i]) continue;
        const sr_changelog *c = &cl[i];
        const rd_kafka_ConfigResource_t *r = NULL;
        for (size_t k = 0; k < d.nr; k++)
            if (strcmp(rd_kafka_ConfigResource_name(d.rr[k]), c->topic) == 0) r = d.rr[k];
        const char *why = described_error(&d, r);
        if (why) {
            changelog_problem(a, SR_E_BROKER, c,
                              "cannot read the configs of its changelog topic '%s' on the cluster "
                              "at %s (DescribeConfigs): %s",
                              c->topic, a->bootstraps, why);
            continue;
        }
        size_t ne;
        const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(r, &ne);
        const char *have = NULL;
        for (size_t k = 0; k < ne; k++)
            if (strcmp(rd_kafka_ConfigEntry_name(es[k]), "cleanup.policy") == 0)
                have = rd_kafka_ConfigEntry_value(es[k]);
        if (have && strstr(have, "compact")) continue;
        changelog_problem(a, SR_E_BROKER_TOPIC, c,
                          "its changelog topic '%s' has cleanup.policy=%s on the cluster at %s: "
                          "without compaction it keeps every change and retention deletes its "
                          "start, so the state could not be restored whole; set it with "
                          "kafka-configs.sh --bootstrap-server %s --alter --entity-type topics "
                          "--entity-name %s --add-config cleanup.policy=compact",
                          c->topic, have ? have : "?", a->bootstraps, a->bootstraps, c->topic);
    }
    described_free(&d, rs, m);
}

int sr_kafka_ensure_changelogs(const sr_topology *t, const sr_changelog *cl, int n,
                               const char *bootstraps, sr_diag *dg, char *err, size_t errsize)
{
    if (n == 0) return 0;
    admin a = {.t = t, .bootstraps = bootstraps, .dg = dg};
    if (!(a.rk = admin_client(t, bootstraps, err, errsize))) return -1;
    int rc = -1;
    bool *missing = sr_xcalloc((size_t)n + 1, sizeof(bool));
    bool *check = sr_xcalloc((size_t)n + 1, sizeof(bool));
    view v = {0};
    if (view_load(&a, &v, err, errsize) != 0) goto out;
    char *cid = rd_kafka_clusterid(a.rk, 5000);
    a.mock = cid && strncmp(cid, "mockCluster", 11) == 0;
    if (cid) rd_kafka_mem_free(a.rk, cid);
    int nmissing = 0;
    for (int i = 0; i < n; i++) {
        if (view_topic(&v, cl[i].topic)) continue;
        if (a.mock)
            changelog_problem(&a, SR_E_BROKER_TOPIC, &cl[i],
                              "its changelog topic '%s' does not exist on the embedded broker at "
                              "%s, which cannot create topics over the network: start it with the "
                              "file (streamrun broker %s creates the changelog topics too) or with "
                              "--topic %s:%d",
                              cl[i].topic, bootstraps, t->path, cl[i].topic, cl[i].partitions);
        else
            missing[i] = true, nmissing++;
    }
    if (nmissing && create_changelogs(&a, cl, n, missing) > 0) {
        double t0 = mono_ms();
        for (;;) { /* until their partitions have leaders */
            view_free(&v);
            if (view_load(&a, &v, err, errsize) != 0) goto out;
            bool led = true;
            for (int i = 0; i < n && led; i++) {
                const struct rd_kafka_metadata_topic *mt =
                    missing[i] ? view_topic(&v, cl[i].topic) : NULL;
                if (!missing[i]) continue;
                led = mt && !mt->err && mt->partition_cnt >= cl[i].partitions;
                for (int p = 0; led && p < mt->partition_cnt; p++)
                    led = mt->partitions[p].leader >= 0;
            }
            if (led || mono_ms() - t0 > LEADERS_WAIT_MS) break;
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    for (int i = 0; i < n; i++) {
        const sr_changelog *c = &cl[i];
        const struct rd_kafka_metadata_topic *mt = view_topic(&v, c->topic);
        if (!mt) {
            if (missing[i])
                changelog_problem(&a, SR_E_BROKER, c,
                                  "its changelog topic '%s' was created on the cluster at %s, but "
                                  "its metadata does not show it after %d s",
                                  c->topic, bootstraps, LEADERS_WAIT_MS / 1000);
            continue;
        }
        if (mt->err) {
            changelog_problem(&a, SR_E_BROKER, c,
                              "its changelog topic '%s' on the cluster at %s: %s", c->topic,
                              bootstraps, rd_kafka_err2str(mt->err));
            continue;
        }
        if (mt->partition_cnt != c->partitions)
            changelog_problem(
                &a, SR_E_BROKER_TOPIC, c,
                "its changelog topic '%s' has %d partition%s on %s at %s, but the deployment's "
                "inputs have %d: partition p of the state logs to partition p of its changelog, "
                "so this one cannot be used. Start the store from empty by deleting the topic%s, "
                "or give the step a new 'store:' name (a new changelog topic)",
                c->topic, mt->partition_cnt, mt->partition_cnt == 1 ? "" : "s",
                a.mock ? "the embedded broker" : "the cluster", bootstraps, c->partitions,
                a.mock ? " (restart the embedded broker)" : " (kafka-topics.sh --delete --topic)");
        check[i] = !a.mock;
    }
    check_changelog_policies(&a, cl, n, check);
    if (a.problems)
        snprintf(err, errsize,
                 "%d problem%s with the changelog topics of %s on the cluster at %s; nothing was "
                 "started",
                 a.problems, a.problems == 1 ? "" : "s", t->path, bootstraps);
    else
        rc = 0;
out:
    view_free(&v);
    free(missing);
    free(check);
    rd_kafka_destroy(a.rk);
    return rc;
}
