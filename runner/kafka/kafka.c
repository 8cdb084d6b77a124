/* kafka.c — the Kafka runtime: consume, run tasks, produce, flush, commit; one thread per
 * deployment. */
#include "kafka/kafka.h"
#include "exec/local.h"
#include "exec/source.h"
#include "exec/task.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define BATCH 1000

typedef struct runner runner;
struct worker;

/* One deployment: its clients, its tasks (one per input partition), counters. */
typedef struct dep_run {
    runner *r;
    const sr_deployment *dep;
    pthread_t thread;
    rd_kafka_t *consumer, *producer;
    rd_kafka_queue_t *queue;
    rd_kafka_topic_t **rkts; /* per topology topic, created on first output */
    /* per partition number: its task, NULL when not assigned; ntasks is the largest partition
     * count of the inputs (1 for a source), so every partition the file declares has a slot */
    sr_task **tasks;
    int ntasks;
    /* per input topic (dep->ninputs of them) and partition (its declared count): next offset
     * to commit, -1 when nothing processed */
    int64_t **next;
    int64_t **end; /* exit-at-end: high watermark at start, -1 unknown */
    int64_t **eof; /* offset at which the partition was last seen at its end, -1 never */
    /* exactly-once only (else NULL), shaped as next: the offset of the first record processed
     * since the last committed transaction (where an aborted one rewinds to), -1 when none */
    int64_t **base;
    bool assigned, ends_known;
    int nassigned;
    sr_task_stats done; /* counters of dropped tasks */
    uint64_t dropped_errors, offset_resets;
    /* exactly-once (dep->processing): the producer is transactional, a transaction is open
     * between commits; txn_broken is set by any thread whose produce call failed in it */
    bool eos, txn_open;
    int txn_broken, txn_failures; /* failures in a row, without a commit in between */
    int slot_fd;                  /* the lock that keeps transactional.id unique on this host */
    char txn_id[300];
    /* delivery reports */
    pthread_mutex_t lock;
    uint64_t delivered, failed;
    char fail_reason[512];
    bool finished; /* sources: file replayed and flushed; inputs: reached the end */
    /* watch_fetcher(): the local queue's limits (bytes, messages), the sizes seen */
    int64_t queue_limit, queue_limit_msgs;
    uint64_t seen_bytes, seen_msgs;
    bool queue_was_full;
    size_t max_msg_bytes; /* the producer's message.max.bytes: what a task may stage */
    /* processing threads (see "workers" below); owner[p]: the worker of partition p */
    int nworkers;
    struct worker *workers;
    uint8_t *owner; /* ntasks of them */
    double t_first, t_last;
} dep_run;

struct runner {
    const sr_topology *topo;
    const sr_up_opts *o;
    dep_run *deps;
    int ndeps;
    volatile int fatal;
    char fatal_msg[1024];
    pthread_mutex_t lock;
};

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fatal(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fatal(runner *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->lock);
    if (!r->fatal) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->fatal_msg, sizeof(r->fatal_msg), fmt, ap);
        va_end(ap);
        r->fatal = 1;
    }
    pthread_mutex_unlock(&r->lock);
}

static bool stopping(const runner *r)
{
    return r->fatal || (r->o->stop && *r->o->stop);
}

static const char *prop_range(const char *name);

/* librdkafka's message e about the value of property name, without the value: it may be a
 * secret, and librdkafka quotes some values ('Invalid value "..." for configuration property').
 * A message that holds the value is replaced by one that names what the property takes. */
static void conf_error(char *err, size_t errsize, const char *prefix, const char *name,
                       const char *value, const char *e)
{
    if (!*value || !strstr(e, value)) {
        snprintf(err, errsize, "%s %s: %s", prefix, name, e);
        return;
    }
    const char *range = prop_range(name);
    snprintf(err, errsize, "%s %s: librdkafka refuses the value%s%s", prefix, name,
             range ? "; it takes one of: " : "", range ? range : "");
}

int sr_kafka_conf_set(void *conf, const char *name, const char *value, char *err, size_t errsize)
{
    char e[256];
    if (rd_kafka_conf_set(conf, name, value, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        conf_error(err, errsize, "kafka property", name, value, e);
        return -1;
    }
    return 0;
}

/* Properties with which the file can make the process run code or write files of its choosing,
 * refused unless the user allows them (see sr_kafka_unsafe_property). */
static const struct {
    const char *name, *why;
} unsafe_props[] = {
    {"plugin.library.paths", "loads shared libraries into the process, which runs their code"},
    {"sasl.kerberos.kinit.cmd", "is a shell command that librdkafka runs"},
    {"ssl.engine.location", "loads an OpenSSL engine library into the process, which runs it"},
    {"ssl.providers", "loads OpenSSL provider modules into the process, which runs them"},
    {"offset.store.path", "makes librdkafka write files where it says"},
};

/* Characters a Kerberos principal or keytab path needs, none of which the shell interprets. */
static bool shell_inert(const char *v)
{
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              strchr("@._/+=:,-", *v)))
            return false;
    return true;
}

bool sr_kafka_secret_property(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret") || strstr(name, ".pem") ||
           strcmp(name, "sasl.oauthbearer.config") == 0;
}

const char *sr_kafka_unsafe_property(const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof(unsafe_props) / sizeof(unsafe_props[0]); i++)
        if (strcmp(name, unsafe_props[i].name) == 0) return unsafe_props[i].why;
    /* librdkafka substitutes both into sasl.kerberos.kinit.cmd, which `sh -c` runs */
    if ((strcmp(name, "sasl.kerberos.principal") == 0 ||
         strcmp(name, "sasl.kerberos.keytab") == 0) &&
        !shell_inert(value))
        return "goes into the kinit command line that librdkafka runs through the shell, and "
               "this value has characters other than letters, digits and @._/+=:,-";
    return NULL;
}

/* The scope of librdkafka's properties, so that a `kafka:` property goes only to the clients it
 * is for (librdkafka warns about the others). There is no call that tells, but the property table
 * librdkafka prints has a C/P column: it is read once. */
static struct {
    char **names;
    char *scopes;  /* 'C' consumer, 'P' producer, '*' both */
    char **ranges; /* the values an enumerated property takes, "a, b, c"; NULL for others */
    int n;
} props;
static pthread_once_t props_once = PTHREAD_ONCE_INIT;

static void props_load(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (!fp) return;
    rd_kafka_conf_properties_show(fp);
    fclose(fp);
    int cap = 0;
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        char name[128], scope, range[512] = "";
        /* "name   |  C  | range | ..." */
        if (sscanf(line, "%127[a-z0-9._-] | %c | %511[^|]", name, &scope, range) < 2) continue;
        if (scope != 'C' && scope != 'P' && scope != '*') continue;
        if (props.n == cap) {
            cap = cap ? cap * 2 : 256;
            props.names = sr_xrealloc(props.names, sizeof(char *) * (size_t)cap);
            props.scopes = sr_xrealloc(props.scopes, (size_t)cap);
            props.ranges = sr_xrealloc(props.ranges, sizeof(char *) * (size_t)cap);
        }
        size_t rl = strlen(range);
        while (rl && range[rl - 1] == ' ') range[--rl] = 0;
        props.names[props.n] = sr_xstrdup(name);
        /* a list of choices, not a numeric range "0 .. 100" */
        props.ranges[props.n] = rl && strchr(range, ',') && !strstr(range, " .. ") &&
                                        !(range[0] >= '0' && range[0] <= '9')
                                    ? sr_xstrdup(range)
                                    : NULL;
        props.scopes[props.n++] = scope;
    }
    free(text);
}

int sr_kafka_check_property(const char *name, const char *value, char *err, size_t errsize,
                            bool *at_name)
{
    static const struct {
        const char *name, *why;
    } managed[] = {
        {"group.id", "the deployment's consumerGroup sets it"},
        {"enable.auto.commit", "streamrun commits only what was processed and delivered"},
        {"enable.auto.offset.store", "streamrun commits only what was processed and delivered"},
        {"enable.partition.eof", "--exit-at-end and the lag need the end-of-partition events"},
        {"transactional.id", "processing: exactly-once gives each member its own, unique and "
                             "stable across restarts on a host"},
    };
    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
        if (strcmp(name, managed[i].name) == 0) {
            *at_name = true;
            snprintf(err, errsize, "%s is set by streamrun: %s", name, managed[i].why);
            return -1;
        }
    }
    /* setting it would load the plugins now: checked when `up` creates its clients */
    if (strcmp(name, "plugin.library.paths") == 0) return 0;
    pthread_once(&props_once, props_load);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, name, value, e, sizeof(e));
    rd_kafka_conf_destroy(conf);
    *at_name = res == RD_KAFKA_CONF_UNKNOWN;
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        const char *sug = sr_suggest(name, (const char *const *)props.names, props.n);
        snprintf(err, errsize, "unknown librdkafka property '%s'%s%s%s", name,
                 sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        return -1;
    }
    if (res != RD_KAFKA_CONF_OK) {
        conf_error(err, errsize, "librdkafka property", name, value, e);
        return -1;
    }
    if (strcmp(name, "partition.assignment.strategy") == 0 && strcmp(value, "range") != 0) {
        snprintf(err, errsize,
                 "partition.assignment.strategy must be range: streamrun keeps one task per "
                 "partition number, so the same partition of co-partitioned inputs must go to "
                 "one member, and it assigns eagerly");
        return -1;
    }
    return 0;
}

/* The choices librdkafka lists for property name, or NULL. */
static const char *prop_range(const char *name)
{
    pthread_once(&props_once, props_load);
    for (int i = 0; i < props.n; i++)
        if (strcmp(props.names[i], name) == 0) return props.ranges[i];
    return NULL;
}

/* true unless librdkafka says the property is for the other kind of client only */
static bool prop_applies(const char *name, bool consumer)
{
    pthread_once(&props_once, props_load);
    for (int i = 0; i < props.n; i++)
        if (strcmp(props.names[i], name) == 0)
            return props.scopes[i] == '*' || props.scopes[i] == (consumer ? 'C' : 'P');
    return true; /* unknown: rd_kafka_conf_set() says so */
}

bool sr_kafka_prop_applies(const char *name, bool consumer)
{
    return prop_applies(name, consumer);
}

/* librdkafka's log lines, printed as its own logger prints them, except one: with
 * auto.offset.reset=earliest, a fetch that fails with OFFSET_OUT_OF_RANGE (records lost to
 * retention, or to the embedded broker's size cap, before they were read) resets the partition
 * and is only logged. That is counted and reported as the error it is. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    dep_run *dr = rk ? rd_kafka_opaque(rk) : NULL;
    if (dr && strcmp(fac, "OFFSET") == 0 && strstr(buf, "offset reset") &&
        strcasestr(buf, "out of range")) {
        __atomic_add_fetch(&dr->offset_resets, 1, __ATOMIC_RELAXED);
        fprintf(stderr,
                "streamrun: %s: ERROR: records were lost before they could be read (retention, "
                "or the embedded broker's 5 MiB per partition cap): %s\n",
                dr->dep->name, buf);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, "%%%d|%lld.%03ld|%s|%s| %s\n", level, (long long)ts.tv_sec,
            ts.tv_nsec / 1000000, fac, rk ? rd_kafka_name(rk) : "", buf);
}

/* librdkafka refuses a consumer whose fetch.max.bytes is below message.max.bytes: when the file
 * raises message.max.bytes but leaves fetch.max.bytes to streamrun's default, that default follows
 * it. 0, or -1 with err set. */
static int fetch_fits_messages(rd_kafka_conf_t *conf, const sr_strmap *const maps[2], char *err,
                               size_t errsize)
{
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < maps[m]->n; i++)
            if (strcmp(maps[m]->names[i], "fetch.max.bytes") == 0) return 0;
    char fetch[32], msg[32];
    size_t fl = sizeof(fetch), ml = sizeof(msg);
    if (rd_kafka_conf_get(conf, "fetch.max.bytes", fetch, &fl) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_get(conf, "message.max.bytes", msg, &ml) != RD_KAFKA_CONF_OK)
        return 0;
    if (atoll(msg) <= atoll(fetch)) return 0;
    return sr_kafka_conf_set(conf, "fetch.max.bytes", msg, err, errsize);
}

/* Defaults, then the file's kafka: block, then the deployment's; each property only for the
 * clients it applies to. */
static rd_kafka_conf_t *make_conf(dep_run *dr, bool consumer, char *err, size_t errsize)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    runner *r = dr->r;
    const sr_deployment *d = dr->dep;
    const sr_up_opts *o = r->o;
    struct kv {
        const char *k, *v;
    } defs[20];
    int n = 0;
    defs[n++] = (struct kv){"bootstrap.servers", o->bootstraps};
    defs[n++] = (struct kv){"client.id", d->name};
    defs[n++] = (struct kv){"log.connection.close", "false"};
    if (consumer) {
        defs[n++] = (struct kv){"group.id", d->group};
        defs[n++] = (struct kv){"enable.auto.commit", "false"};
        defs[n++] = (struct kv){"enable.auto.offset.store", "false"};
        defs[n++] = (struct kv){"auto.offset.reset", "earliest"};
        defs[n++] = (struct kv){"partition.assignment.strategy", "range"};
        defs[n++] = (struct kv){"enable.partition.eof", "true"};
        /* librdkafka's default too, said here: records of open or aborted transactions (of
         * exactly-once deployments upstream) are never read */
        defs[n++] = (struct kv){"isolation.level", "read_committed"};
        /* the local prefetch queue: librdkafka's 64 MiB default would be most of the process's
         * memory; 8 MiB is ~20 ms of input at full speed, refilled as it drains (watch_fetcher) */
        defs[n++] = (struct kv){"queued.max.messages.kbytes", "8192"};
        /* one fetch response overshoots that queue by its size once decompressed: librdkafka's
         * 50 MiB default (8 partitions x 1 MiB from Apache Kafka, zstd) made 99 MB of RSS where
         * 1 MiB makes 38 MB at the same speed; raised to message.max.bytes below if that is set
         * higher (librdkafka requires it) */
        defs[n++] = (struct kv){"fetch.max.bytes", "1048576"};
        if (o->embedded) {
            defs[n++] = (struct kv){"fetch.wait.max.ms", "10"};
            defs[n++] = (struct kv){"session.timeout.ms", "6000"};
            defs[n++] = (struct kv){"heartbeat.interval.ms", "500"};
        }
    } else {
        defs[n++] = (struct kv){"enable.idempotence", "true"};
        defs[n++] = (struct kv){"compression.codec", "lz4"};
        defs[n++] = (struct kv){"linger.ms", "5"};
        defs[n++] = (struct kv){"partitioner", "murmur2_random"};
        if (dr->eos) {
            defs[n++] = (struct kv){"transactional.id", dr->txn_id};
            /* how long the broker keeps the transaction of a member that died with it open
             * (read_committed readers wait for it): Kafka Streams' value under exactly-once */
            defs[n++] = (struct kv){"transaction.timeout.ms", "10000"};
        }
    }
    assert(n <= (int)(sizeof(defs) / sizeof(defs[0])));
    for (int i = 0; i < n; i++)
        if (sr_kafka_conf_set(conf, defs[i].k, defs[i].v, err, errsize)) goto fail;
    const sr_strmap *maps[2] = {&r->topo->kafka, &d->kafka};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < maps[m]->n; i++)
            if (prop_applies(maps[m]->names[i], consumer) &&
                sr_kafka_conf_set(conf, maps[m]->names[i], maps[m]->vals[i], err, errsize))
                goto fail;
    if (consumer && fetch_fits_messages(conf, maps, err, errsize)) goto fail;
    rd_kafka_conf_set_log_cb(conf, on_log);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

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

static bool producer_fenced(dep_run *dr);

/* Produces a task's staged outputs, then resets its batch. A stop request does not cut this
 * short: the inputs behind these outputs are already marked processed and will be committed. */
static void produce_outputs(dep_run *dr, sr_task *t)
{
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
            if (dr->eos && err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE &&
                (err != RD_KAFKA_RESP_ERR__FATAL || producer_fenced(dr))) {
                /* the transaction is in an abortable state, or the producer fenced: the commit
                 * aborts and rewinds, or renews the producer (txn_recover) */
                __atomic_store_n(&dr->txn_broken, 1, __ATOMIC_RELEASE);
                break;
            }
            char why[512] = "";
            if (err == RD_KAFKA_RESP_ERR__FATAL)
                rd_kafka_fatal_error(dr->producer, why, sizeof(why));
            fatal(dr->r, "%s: cannot produce to %s: %s%s%s", dr->dep->name, o->topic->name,
                  rd_kafka_err2str(err), why[0] ? ": " : "", why);
            break;
        }
    }
    rd_kafka_poll(dr->producer, 0);
    sr_task_batch_done(t);
}

/* Waits until every produced message is acknowledged. Returns -1 (and makes
 * the run fatal) when a delivery failed: nothing may be committed then. */
static int flush_producer(dep_run *dr)
{
    while (rd_kafka_outq_len(dr->producer) > 0) {
        rd_kafka_flush(dr->producer, 500);
        if (dr->r->fatal) break;
    }
    pthread_mutex_lock(&dr->lock);
    uint64_t failed = dr->failed;
    pthread_mutex_unlock(&dr->lock);
    if (failed) {
        fatal(dr->r, "%s: %s (%llu message%s failed); input offsets after it are not committed",
              dr->dep->name, dr->fail_reason, (unsigned long long)failed, failed == 1 ? "" : "s");
        return -1;
    }
    return rd_kafka_outq_len(dr->producer) > 0 ? -1 : 0;
}

/* ---- consuming --------------------------------------------------------------------------- */

static int input_index(const sr_deployment *d, const char *topic)
{
    for (int i = 0; i < d->ninputs; i++)
        if (strcmp(d->inputs[i]->name, topic) == 0) return i;
    return -1;
}

/* The input index of topic when partition p is one the file declares for it (so that it has
 * slots in next/end/eof and a task), else -1. */
static int input_slot(const dep_run *dr, const char *topic, int32_t p)
{
    int ti = input_index(dr->dep, topic);
    return ti >= 0 && p >= 0 && p < dr->dep->inputs[ti]->partitions ? ti : -1;
}

static void quiesce(dep_run *dr);
static void assign_owners(dep_run *dr, const rd_kafka_topic_partition_list_t *parts);

/* The offsets to commit: per input partition, the one after the last record processed since the
 * last commit. The caller destroys the list. */
static rd_kafka_topic_partition_list_t *processed_offsets(const dep_run *dr)
{
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
static void forget_processed(dep_run *dr)
{
    for (int i = 0; i < dr->dep->ninputs; i++)
        for (int p = 0; p < dr->dep->inputs[i]->partitions; p++) {
            dr->next[i][p] = -1;
            if (dr->base) dr->base[i][p] = -1; /* exactly-once only */
        }
}

/* ---- exactly-once ------------------------------------------------------------------------ */

/* Each commit interval is one transaction of the deployment's transactional producer: the
 * outputs and dead letters produced in it, and the input offsets sent to it with the consumer's
 * group metadata (send_offsets_to_transaction), so that the group coordinator takes them only
 * from a member of the current generation: a member whose partitions moved on (a zombie) cannot
 * commit. A transaction that fails is aborted — its records are never seen by read_committed
 * readers — and the tasks rewind to the last committed offsets and process those records again.
 * A fenced producer (its epoch no longer the transactional.id's: a coordinator failover, or another
 * producer with the id) is replaced and the tasks go back to the committed offsets (txn_recover);
 * another fatal error stops the run. All of it runs on the consumer thread, with the workers idle
 * (quiesce). */

#define TXN_TIMEOUT_MS 30000 /* the longest a transactional call blocks before it is retried */
#define TXN_FAILURES   5     /* transactions failing in a row before the run stops */

/* Picks this member's transactional.id, "<group>-<host>-<n>", n the lowest number that no other
 * `up` on this host holds for the group: a lock file in the run-time directory, which the kernel
 * releases when the process dies. A restarted member so takes the id of the one it replaces, and
 * init_transactions aborts that one's open transaction at once (otherwise read_committed readers
 * wait transaction.timeout.ms for it); members alive together never share an id, which would
 * fence one of them. Returns 0, or -1 with err. */
static int claim_txn_id(dep_run *dr, char *err, size_t errsize)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (!dir || !*dir) dir = "/tmp";
    char host[256] = "";
    if (gethostname(host, sizeof(host)) != 0 || !host[0]) snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = 0;
    char safe[101]; /* the group in a file name */
    size_t k = 0;
    for (const char *c = dr->dep->group; *c && k < sizeof(safe) - 1; c++)
        safe[k++] = (char)(isalnum((unsigned char)*c) || *c == '.' || *c == '-' ? *c : '_');
    safe[k] = 0;
    for (int n = 0; n < 1000; n++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/streamrun-%u-txn-%s-%d.lock", dir, (unsigned)getuid(),
                 safe, n);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            snprintf(err, errsize, "cannot create the member lock %.300s: %s", path,
                     strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            dr->slot_fd = fd;
            snprintf(dr->txn_id, sizeof(dr->txn_id), "%s-%s-%d", dr->dep->group, host, n);
            return 0;
        }
        int e = errno;
        close(fd);
        if (e != EWOULDBLOCK) {
            snprintf(err, errsize, "cannot lock %.300s: %s", path, strerror(e));
            return -1;
        }
    }
    snprintf(err, errsize, "1000 members of group '%s' run on this host already", dr->dep->group);
    return -1;
}

/* Runs CALL (an expression giving an rd_kafka_error_t *) into E again while it fails with a
 * retriable error (a timeout, a coordinator moving), at most 3 times in all. */
#define TXN_RETRY(dr, e, call)                                                                     \
    for (int tries_ = 0;; tries_++) {                                                              \
        (e) = (call);                                                                              \
        if (!(e) || !rd_kafka_error_is_retriable(e) || tries_ == 2 || (dr)->r->fatal) break;       \
        rd_kafka_error_destroy(e);                                                                 \
    }

static void txn_begin(dep_run *dr)
{
    if (dr->r->fatal) return;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(dr->producer);
    if (e) {
        fatal(dr->r, "%s: cannot begin a transaction: %s", dr->dep->name, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return;
    }
    dr->txn_open = true;
}

/* Counts of the tasks as they were at the last commit (restore) or as they are (keep). */
static void task_stats_mark(dep_run *dr, bool restore)
{
    pthread_mutex_lock(&dr->lock);
    for (int p = 0; p < dr->ntasks; p++) {
        sr_task *t = dr->tasks[p];
        if (!t) continue;
        if (restore)
            t->stats = t->stats_committed;
        else
            t->stats_committed = t->stats;
    }
    pthread_mutex_unlock(&dr->lock);
}

/* Seeks the input partitions of l to their offsets (what: why, for errors): the consumer then
 * delivers those records again (librdkafka drops what it had fetched past them). A partition that
 * cannot be sought would skip records: that stops the run. Destroys l. */
static void seek_inputs(dep_run *dr, rd_kafka_topic_partition_list_t *l, const char *what)
{
    for (int i = 0; i < l->cnt; i++) {
        int ti = input_slot(dr, l->elems[i].topic, l->elems[i].partition);
        assert(ti >= 0);
        /* not at its end any more (--exit-at-end, the lag): the seek moves the position back,
         * and the end seen before does not count */
        __atomic_store_n(&dr->eof[ti][l->elems[i].partition], -1, __ATOMIC_RELAXED);
    }
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(dr->consumer, l, TXN_TIMEOUT_MS);
        if (e) {
            fatal(dr->r, "%s: cannot rewind the inputs %s: %s", dr->dep->name, what,
                  rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        for (int i = 0; i < l->cnt && !dr->r->fatal; i++)
            if (l->elems[i].err)
                fatal(dr->r, "%s: cannot rewind %s [%d] to offset %lld %s: %s", dr->dep->name,
                      l->elems[i].topic, l->elems[i].partition, (long long)l->elems[i].offset, what,
                      rd_kafka_err2str(l->elems[i].err));
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* The input partitions processed since the last commit, each with the offset of the first record
 * processed since (where an aborted transaction rewinds to). */
static rd_kafka_topic_partition_list_t *base_offsets(const dep_run *dr)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(16);
    for (int i = 0; i < dr->dep->ninputs; i++)
        for (int p = 0; p < dr->dep->inputs[i]->partitions; p++)
            if (dr->base[i][p] >= 0)
                rd_kafka_topic_partition_list_add(l, dr->dep->inputs[i]->name, p)->offset =
                    dr->base[i][p];
    return l;
}

/* Seeks every input partition processed since the last commit back to the first record
 * processed since. */
static void rewind_tasks(dep_run *dr)
{
    seek_inputs(dr, base_offsets(dr), "after an aborted transaction");
}

static int new_producer(dep_run *dr, char *err, size_t errsize);

/* Whether the producer's fatal error is a fence: its epoch is no longer its transactional.id's
 * latest — another producer initialised the id, or the transaction coordinator (a broker that
 * died, or moved the coordination to another) aborted the open transaction and bumped the epoch. */
static bool producer_fenced(dep_run *dr)
{
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(dr->producer, NULL, 0);
    return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

/* After a fence, seeks the partitions processed in the given-up transaction to the offsets the
 * group has committed: the end of the last committed transaction (read after the new producer's
 * init_transactions, which waits until the old transaction is ended, so they are stable). When
 * they are those this member was committing, the commit had in fact gone through (its answer was
 * lost): the counts stay, and nothing is processed again. Else the counts go back to the last
 * commit's. rewind false: the partitions are being given up; only the counts are settled. */
static void rewind_committed(dep_run *dr, bool rewind)
{
    rd_kafka_topic_partition_list_t *l = base_offsets(dr);
    bool went_through = l->cnt > 0;
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_committed(dr->consumer, l, TXN_TIMEOUT_MS);
        if (e) {
            fatal(dr->r, "%s: cannot read the group's committed offsets after a fence: %s",
                  dr->dep->name, rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            return;
        }
    }
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *x = &l->elems[i];
        int ti = input_slot(dr, x->topic, x->partition);
        assert(ti >= 0);
        if (x->err) {
            fatal(dr->r, "%s: cannot read the committed offset of %s [%d] after a fence: %s",
                  dr->dep->name, x->topic, x->partition, rd_kafka_err2str(x->err));
            rd_kafka_topic_partition_list_destroy(l);
            return;
        }
        /* none committed yet: where processing began */
        if (x->offset < 0) x->offset = dr->base[ti][x->partition];
        if (x->offset != dr->next[ti][x->partition]) went_through = false;
    }
    task_stats_mark(dr, !went_through);
    if (went_through) {
        fprintf(stderr,
                "streamrun: %s: the group's offsets show that the last transaction was "
                "committed\n",
                dr->dep->name);
        dr->txn_failures = 0;
    }
    if (rewind && !went_through)
        seek_inputs(dr, l, "to the committed offsets after a fence");
    else
        rd_kafka_topic_partition_list_destroy(l);
}

/* A fenced producer can do nothing more. As Kafka Streams does (it takes a fence for partitions
 * migrated), the transaction is given up — the coordinator aborts it, and none of its records is
 * seen by read_committed readers —, a new producer takes the same transactional.id, and the tasks
 * go back to the group's committed offsets (rewind_committed) to process the records again. Unless
 * the run is stopping; and TXN_FAILURES fences or failures in a row stop it (two live members
 * with one transactional.id would fence each other for ever; claim_txn_id keeps that from
 * happening on one host). Returns -1.
 * @locality the deployment's consumer thread, with the workers idle (quiesce) */
static int txn_recover(dep_run *dr, bool rewind, const char *why)
{
    dr->txn_open = false;
    if (stopping(dr->r)) {
        task_stats_mark(dr, true);
        fprintf(stderr,
                "streamrun: %s: the producer was fenced (%s); stopping: what was processed since "
                "the last commit is processed again by the partitions' next owner\n",
                dr->dep->name, why);
        return -1;
    }
    if (++dr->txn_failures >= TXN_FAILURES) {
        task_stats_mark(dr, true);
        fatal(dr->r, "%s: %d transactions in a row failed, the last: the producer was fenced (%s)",
              dr->dep->name, dr->txn_failures, why);
        return -1;
    }
    fprintf(stderr,
            "streamrun: %s: the producer was fenced (%s); its transaction is given up, a new "
            "producer takes transactional.id %s, and the inputs go back to the group's committed "
            "offsets\n",
            dr->dep->name, why, dr->txn_id);
    /* what the old producer still holds belongs to the given-up transaction */
    rd_kafka_purge(dr->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                     RD_KAFKA_PURGE_F_NON_BLOCKING);
    for (int k = 0; k < dr->r->topo->ntopics; k++)
        if (dr->rkts[k]) {
            rd_kafka_topic_destroy(dr->rkts[k]);
            dr->rkts[k] = NULL;
        }
    rd_kafka_destroy(dr->producer);
    dr->producer = NULL;
    pthread_mutex_lock(&dr->lock);
    dr->failed = 0;
    pthread_mutex_unlock(&dr->lock);
    __atomic_store_n(&dr->txn_broken, 0, __ATOMIC_RELEASE);
    char err[512];
    if (new_producer(dr, err, sizeof(err)) != 0) {
        task_stats_mark(dr, true);
        fatal(dr->r, "%s: after a fence: %s", dr->dep->name, err);
        return -1;
    }
    rewind_committed(dr, rewind);
    forget_processed(dr);
    txn_begin(dr);
    return -1;
}

/* Aborts the open transaction (why: what failed), then rewinds the tasks to their last committed
 * offsets to process the records again, unless the partitions are being given up (rewind false:
 * their next owner does it). Returns -1. */
static int txn_abort(dep_run *dr, bool rewind, const char *why)
{
    fprintf(stderr, "streamrun: %s: transaction aborted (%s); %s\n", dr->dep->name, why,
            rewind ? "processing again from the last committed offsets"
                   : "the partitions' next owner processes again from the last committed offsets");
    task_stats_mark(dr, true); /* aborted or not, nothing of it is committed */
    rd_kafka_error_t *e;
    TXN_RETRY(dr, e, rd_kafka_abort_transaction(dr->producer, TXN_TIMEOUT_MS));
    if (e && producer_fenced(dr)) {
        rd_kafka_error_destroy(e);
        return txn_recover(dr, rewind, why);
    }
    if (e) {
        fatal(dr->r, "%s: cannot abort the transaction: %s", dr->dep->name,
              rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    dr->txn_open = false;
    pthread_mutex_lock(&dr->lock);
    dr->failed = 0; /* those deliveries were in the aborted transaction */
    pthread_mutex_unlock(&dr->lock);
    __atomic_store_n(&dr->txn_broken, 0, __ATOMIC_RELEASE);
    if (rewind) rewind_tasks(dr);
    forget_processed(dr);
    if (++dr->txn_failures >= TXN_FAILURES) {
        fatal(dr->r, "%s: %d transactions in a row failed, the last: %s", dr->dep->name,
              dr->txn_failures, why);
        return -1;
    }
    if (rewind) usleep((useconds_t)dr->txn_failures * 200 * 1000); /* let the cause pass */
    txn_begin(dr);
    return -1;
}

/* Commits the open transaction with the offsets processed in it; on failure aborts it (see
 * txn_abort). Returns 0 when committed, or when nothing was processed (the transaction stays
 * open), else -1. */
static int txn_commit(dep_run *dr, bool rewind)
{
    assert(dr->eos && dr->txn_open);
    if (__atomic_load_n(&dr->txn_broken, __ATOMIC_ACQUIRE))
        return txn_abort(dr, rewind, "a record could not be produced in it");
    rd_kafka_topic_partition_list_t *l = processed_offsets(dr);
    if (l->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(l);
        return 0;
    }
    const char *step = "sending the input offsets to it";
    rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata(dr->consumer);
    rd_kafka_error_t *e;
    TXN_RETRY(dr, e, rd_kafka_send_offsets_to_transaction(dr->producer, l, g, TXN_TIMEOUT_MS));
    rd_kafka_consumer_group_metadata_destroy(g);
    rd_kafka_topic_partition_list_destroy(l);
    if (!e) {
        step = "committing it";
        TXN_RETRY(dr, e, rd_kafka_commit_transaction(dr->producer, TXN_TIMEOUT_MS));
    }
    if (!e) {
        dr->txn_open = false;
        dr->txn_failures = 0;
        task_stats_mark(dr, false);
        forget_processed(dr);
        txn_begin(dr);
        return 0;
    }
    char why[640];
    snprintf(why, sizeof(why), "%s failed: %s", step, rd_kafka_error_string(e));
    bool is_fatal = rd_kafka_error_is_fatal(e);
    rd_kafka_error_destroy(e);
    if (is_fatal && producer_fenced(dr)) return txn_recover(dr, rewind, why);
    if (is_fatal) {
        task_stats_mark(dr, true);
        fatal(dr->r,
              "%s: %s; the producer cannot go on, so this member stops; what it processed "
              "since its last commit is processed again by the partitions' next owner",
              dr->dep->name, why);
        return -1;
    }
    return txn_abort(dr, rewind, why);
}

/* At the end of the run: aborts the open transaction — empty after a last commit, or holding
 * what must not be committed after a failure — so that readers need not wait for its timeout. */
static void txn_end(dep_run *dr)
{
    if (!dr->eos || !dr->txn_open || rd_kafka_fatal_error(dr->producer, NULL, 0)) return;
    rd_kafka_error_t *e = rd_kafka_abort_transaction(dr->producer, TXN_TIMEOUT_MS);
    if (e) rd_kafka_error_destroy(e);
    dr->txn_open = false;
}

/* Waits until the workers have done all they were given, then commits what was processed:
 * at-least-once flushes the producer and commits the offsets; exactly-once commits the
 * transaction (revoking: the partitions are being given up, so a failed one is not redone
 * here). */
static int commit(dep_run *dr, bool revoking)
{
    quiesce(dr);
    /* after a failure (this deployment's or another's) outputs may have been skipped: nothing
     * processed since the last commit may be committed now (exactly-once: nor counted) */
    if (dr->r->fatal) {
        if (dr->eos) task_stats_mark(dr, true);
        return -1;
    }
    if (dr->eos) return txn_commit(dr, !revoking);
    if (flush_producer(dr) != 0) return -1;
    rd_kafka_topic_partition_list_t *l = processed_offsets(dr);
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
            forget_processed(dr);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Tasks are created and dropped on the consumer thread, under dr->lock so that the progress
 * line (dep_stats, main thread) never reads a freed one. */
static void drop_task(dep_run *dr, int p)
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
    dr->dropped_errors += t->dropped_errors;
    dr->tasks[p] = NULL;
    pthread_mutex_unlock(&dr->lock);
    sr_task_destroy(t);
    free(t);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    dep_run *dr = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int p = parts->elems[i].partition, ti = input_index(dr->dep, parts->elems[i].topic);
            if (ti >= 0 && input_slot(dr, parts->elems[i].topic, p) < 0) {
                /* ensure_topics checked the counts at the start: the topic grew since */
                fatal(dr->r,
                      "%s: input %s has a partition %d, but %s declares %d partitions: records "
                      "there would not be processed (the topic grew while running: declare its "
                      "partition count, then restart)",
                      dr->dep->name, parts->elems[i].topic, p, dr->r->topo->path,
                      dr->dep->inputs[ti]->partitions);
                continue;
            }
            if (ti < 0) continue;
            assert(p < dr->ntasks);
            if (dr->tasks[p]) continue;
            sr_task *t = sr_xcalloc(1, sizeof(sr_task));
            sr_task_init(t, dr->r->topo, dr->dep, p);
            t->max_msg_bytes = dr->max_msg_bytes;
            pthread_mutex_lock(&dr->lock);
            dr->tasks[p] = t;
            pthread_mutex_unlock(&dr->lock);
        }
        assign_owners(dr, parts);
        rd_kafka_assign(rk, parts);
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
            quiesce(dr);
            if (!dr->r->fatal)
                txn_abort(dr, false,
                          "the partitions were lost: this member had left the group (its session "
                          "timed out), so they may have another owner already");
        } else if (commit(dr, true) != 0)
            fprintf(stderr,
                    "streamrun: %s: the offsets of the revoked partitions were not committed: "
                    "their next owner reads again what was processed since the last commit\n",
                    dr->dep->name);
        for (int i = 0; i < parts->cnt; i++) {
            int p = parts->elems[i].partition;
            int ti = input_slot(dr, parts->elems[i].topic, p);
            if (ti < 0) continue;
            dr->next[ti][p] = -1;
            if (dr->base) dr->base[ti][p] = -1;
            drop_task(dr, p);
        }
        rd_kafka_assign(rk, NULL);
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
        int ti = input_slot(dr, a->elems[i].topic, a->elems[i].partition);
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
        dr->end[input_slot(dr, l->elems[i].topic, l->elems[i].partition)][l->elems[i].partition] =
            l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    dr->ends_known = ok; /* else: try again later */
}

/* true when every assigned partition's position has reached its end */
/* How far the consumer has got in partition e (of a list filled by rd_kafka_position): its
 * position, or where the partition was seen at its end — a partition whose committed offset is
 * already at its end delivers no message, so has no position. -1: not known. */
static int64_t reached(const dep_run *dr, const rd_kafka_topic_partition_t *e)
{
    int ti = input_slot(dr, e->topic, e->partition);
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
        int ti = input_slot(dr, a->elems[i].topic, p);
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
            int ti = m->rkt ? input_slot(dr, rd_kafka_topic_name(m->rkt), m->partition) : -1;
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
    if (input_slot(dr, rd_kafka_topic_name(m->rkt), p) < 0) return NULL; /* see on_rebalance */
    sr_task *t = dr->tasks[p];
    if (!t) return NULL; /* not ours any more: it will be redelivered to the new owner */
    if (dr->t_first == 0) dr->t_first = mono();
    return t;
}

/* On any worker: runs message m through its task t. Workers own disjoint sets of
 * partitions, so each task and each offset slot is touched by one thread. */
static void feed_message(dep_run *dr, sr_task *t, rd_kafka_message_t *m)
{
    int p = m->partition;
    const char *topic = rd_kafka_topic_name(m->rkt);
    int ti = input_index(dr->dep, topic);
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
        .ts = ts >= 0 ? ts : wall_ms(),
        .hdr = h,
        .nhdr = nh,
    };
    t->now_ms = wall_ms();
    sr_task_feed(t, &org, NULL);
    /* the outputs are serialised already: the record's memory is reused at once, so the arena
     * stays the size of one record (hot in cache) instead of growing with the batch */
    sr_arena_reset(&t->arena);
    if (dr->eos && dr->base[ti][p] < 0) dr->base[ti][p] = m->offset;
    dr->next[ti][p] = m->offset + 1;
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
static int64_t input_lag(dep_run *dr)
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

/* ---- workers ------------------------------------------------------------------------------- */

/* With nworkers > 1 the consumer thread dispatches: it polls the consumer, handles events,
 * rebalances and commits, and hands each message to the worker that owns its partition number
 * (so the same partition of co-partitioned inputs meets on one thread, in order). A worker runs
 * its messages through their tasks, produces the outputs and records the offsets. Before a
 * commit or a revocation the consumer thread waits until every message handed out is done
 * (quiesce): the offsets are then exactly those whose outputs are in the producer, and flush
 * then commit keeps at-least-once. With one worker the consumer thread processes the messages
 * itself. */
#define INBOX       2048
#define INBOX_BYTES (4 << 20) /* what all the inboxes of a deployment may hold together */

typedef struct worker {
    dep_run *dr;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* any change below; both sides wait on it */
    rd_kafka_message_t *msgs[INBOX];
    sr_task *tasks[INBOX];
    unsigned head, n;        /* ring of n messages from head */
    size_t bytes, max_bytes; /* their payload bytes, and the limit (INBOX_BYTES / workers) */
    bool busy, quit;
    double t_last; /* end of its last batch */
} worker;

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
    for (size_t i = 0; i < ntouched; i++) produce_outputs(dr, touched[i]);
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
        w->t_last = mono();
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Hands msgs[0..n) (tasks[i] NULL: not to be processed, freed here) to their workers, or
 * processes them on this thread when there is one worker. Waits while an inbox is full. */
static void dispatch(dep_run *dr, rd_kafka_message_t **msgs, sr_task **tasks, size_t n)
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
        dr->t_last = mono();
        return;
    }
    for (int id = 0; id < dr->nworkers; id++) {
        worker *w = &dr->workers[id];
        size_t i = 0;
        while (i < k && dr->owner[tasks[i]->partition] != id) i++;
        if (i == k) continue;
        pthread_mutex_lock(&w->lock);
        for (; i < k; i++) {
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
static void quiesce(dep_run *dr)
{
    for (int id = 0; id < dr->nworkers && dr->workers; id++) {
        worker *w = &dr->workers[id];
        pthread_mutex_lock(&w->lock);
        while (w->n > 0 || w->busy) pthread_cond_wait(&w->cond, &w->lock);
        if (w->t_last > dr->t_last) dr->t_last = w->t_last;
        pthread_mutex_unlock(&w->lock);
    }
}

/* Spreads the assigned partition numbers over the workers, in turn. */
static void assign_owners(dep_run *dr, const rd_kafka_topic_partition_list_t *parts)
{
    uint8_t *seen = sr_xcalloc((size_t)dr->ntasks, 1);
    for (int i = 0; i < parts->cnt; i++)
        if (input_slot(dr, parts->elems[i].topic, parts->elems[i].partition) >= 0)
            seen[parts->elems[i].partition] = 1;
    int next = 0;
    for (int p = 0; p < dr->ntasks; p++)
        if (seen[p]) dr->owner[p] = (uint8_t)(next++ % dr->nworkers);
    free(seen);
}

static void start_workers(dep_run *dr)
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

static void stop_workers(dep_run *dr)
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

static void run_inputs(dep_run *dr)
{
    runner *r = dr->r;
    char err[512];
    rd_kafka_conf_t *conf = make_conf(dr, true, err, sizeof(err));
    if (!conf) {
        fatal(r, "%s: %s", dr->dep->name, err);
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
        fatal(r, "%s: cannot create the consumer: %s", dr->dep->name, err);
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
        fatal(r, "%s: cannot subscribe: %s", dr->dep->name, rd_kafka_err2str(e));
        return;
    }
    rd_kafka_message_t *msgs[BATCH];
    sr_task *tasks[BATCH];
    start_workers(dr);
    double last_commit = mono();
    while (!stopping(r)) {
        /* a batch call waits its whole timeout unless the batch fills: take what is there
         * within 1 ms, and when nothing is, wait for the first message only */
        ssize_t n = rd_kafka_consume_batch_queue(dr->queue, 1, msgs, BATCH);
        if (n == 0) n = rd_kafka_consume_batch_queue(dr->queue, 100, msgs, 1);
        watch_fetcher(dr, (const rd_kafka_message_t *const *)msgs, n);
        for (ssize_t i = 0; i < n; i++) tasks[i] = accept_message(dr, msgs[i]);
        if (n > 0) dispatch(dr, msgs, tasks, (size_t)n);
        if (mono() - last_commit >= r->o->commit_interval_ms / 1000.0) {
            commit(dr, false);
            last_commit = mono();
        }
        if (r->o->exit_at_end && dr->assigned) {
            if (!dr->ends_known && upstream_done(dr)) snapshot_ends(dr);
            /* exactly-once: the end is reached when the last transaction is committed; an
             * aborted one rewinds the inputs, to be processed again */
            if (dr->ends_known && at_end(dr) && (!dr->eos || commit(dr, false) == 0)) break;
        }
    }
    /* graceful end: finish what was handed out, flush, commit, leave the group */
    if (!r->fatal && commit(dr, false) != 0) {
        /* --exit-at-end says the inputs were processed to their end: not true of an aborted
         * last transaction */
        if (dr->eos && r->o->exit_at_end)
            fatal(r,
                  "%s: the last transaction failed: the records since the previous commit are "
                  "not committed; a restart processes them again",
                  dr->dep->name);
        else
            fprintf(stderr,
                    "streamrun: %s: the last commit failed: the records since the previous "
                    "commit will be processed again after a restart\n",
                    dr->dep->name);
    }
    quiesce(dr);
    /* with --exit-at-end the time runs until the last output is delivered */
    if (r->o->exit_at_end && dr->t_first > 0 && !r->fatal) dr->t_last = mono();
    stop_workers(dr);
    __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
    rd_kafka_consumer_close(dr->consumer); /* a revocation: commits nothing more */
    txn_end(dr);
}

/* ---- sources ------------------------------------------------------------------------------ */

static void run_source(dep_run *dr)
{
    runner *r = dr->r;
    const sr_source *src = dr->dep->source;
    char err[512];
    sr_reader *rd;
    if (sr_reader_open(&rd, src->resolved, src->format, err, sizeof(err)) != 0) {
        fatal(r, "%s: %s", dr->dep->name, err);
        return;
    }
    sr_task *t = dr->tasks[0] = sr_xcalloc(1, sizeof(sr_task));
    sr_task_init(t, r->topo, dr->dep, 0);
    t->max_msg_bytes = dr->max_msg_bytes;
    sr_arena scratch;
    sr_arena_init(&scratch, 64 * 1024);
    double start = mono();
    uint64_t n = 0;
    dr->t_first = start;
    while (!stopping(r)) {
        sr_readrec rec;
        int rc = sr_reader_next(rd, &scratch, &rec, err, sizeof(err));
        if (rc < 0) {
            fatal(r, "%s: %s", dr->dep->name, err);
            break;
        }
        if (rc == 0) break;
        sr_task_feed_row(t, src, &rec, &scratch, wall_ms());
        produce_outputs(dr, t);
        sr_arena_reset(&scratch);
        n++;
        if (src->rate > 0) { /* pace: record n is due at start + n / rate */
            double due = start + (double)n / src->rate, now = mono();
            if (due > now) {
                struct timespec ts = {(time_t)(due - now),
                                      (long)((due - now - (time_t)(due - now)) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
    }
    sr_arena_free(&scratch);
    sr_reader_close(rd);
    flush_producer(dr);
    dr->t_last = mono();
    __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
    /* without --exit-at-end a replay deployment stays (idle) until the run stops */
    while (!r->o->exit_at_end && !stopping(r)) usleep(100 * 1000);
}

/* Creates the deployment's producer (dr->producer) and, under exactly-once, initialises its
 * transactions: that fences an earlier producer with this transactional.id and aborts its open
 * transaction. Returns 0, or -1 with err.
 * @locality the deployment's thread, with its workers idle (quiesce) once they run */
static int new_producer(dep_run *dr, char *err, size_t errsize)
{
    assert(!dr->producer);
    char e[512];
    rd_kafka_conf_t *conf = make_conf(dr, false, e, sizeof(e));
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

static void *dep_main(void *arg)
{
    dep_run *dr = arg;
    char err[512];
    if (dr->eos && claim_txn_id(dr, err, sizeof(err)) != 0) {
        fatal(dr->r, "%s: exactly-once: %s", dr->dep->name, err);
        __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
        return NULL;
    }
    if (new_producer(dr, err, sizeof(err)) != 0) {
        fatal(dr->r, "%s: %s", dr->dep->name, err);
        __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
        return NULL;
    }
    if (dr->eos) {
        fprintf(stderr, "streamrun: %s: exactly-once, transactional.id %s\n", dr->dep->name,
                dr->txn_id);
        txn_begin(dr);
    }
    if (dr->dep->source)
        run_source(dr);
    else
        run_inputs(dr);
    __atomic_store_n(&dr->finished, true, __ATOMIC_RELEASE);
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------------ */

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
    s->dropped_errors = dr->dropped_errors;
    for (int p = 0; p < dr->ntasks; p++) {
        const sr_task *t = dr->tasks[p];
        if (!t) continue;
        s->in += t->stats.in;
        s->out += t->stats.out;
        s->dead += t->stats.dead;
        s->filtered += t->stats.filtered;
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
        bool sel = o->nonly == 0;
        for (int k = 0; k < o->nonly; k++) sel |= strcmp(o->only[k], d->name) == 0;
        if (!sel) continue;
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
        for (int k = 0; k < d->ninputs; k++) {
            dr->next[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
            dr->end[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
            dr->eof[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
            for (int p = 0; p < d->inputs[k]->partitions; p++)
                dr->next[k][p] = dr->end[k][p] = dr->eof[k][p] = -1;
            if (dr->eos) {
                dr->base[k] = sr_xmalloc(sizeof(int64_t) * (size_t)d->inputs[k]->partitions);
                for (int p = 0; p < d->inputs[k]->partitions; p++) dr->base[k][p] = -1;
            }
        }
    }
    double t0 = mono();
    for (int i = 0; i < r.ndeps; i++) pthread_create(&r.deps[i].thread, NULL, dep_main, &r.deps[i]);
    /* progress and the wait */
    double last = t0;
    uint64_t last_in = 0;
    for (;;) {
        bool all = true;
        for (int i = 0; i < r.ndeps; i++)
            all &= __atomic_load_n(&r.deps[i].finished, __ATOMIC_ACQUIRE);
        if (all) break;
        usleep(50 * 1000);
        if (o->progress && mono() - last >= 1.0) {
            uint64_t in = 0;
            int64_t lag = -1;
            for (int i = 0; i < r.ndeps; i++) {
                sr_up_stats s;
                dep_stats(&r.deps[i], &s); /* racy read of counters: display only */
                in += s.in;
                /* the client calls are thread-safe; the handle lives until after the join */
                rd_kafka_t *c = __atomic_load_n(&r.deps[i].consumer, __ATOMIC_ACQUIRE);
                int64_t l = c ? input_lag(&r.deps[i]) : -1;
                if (l >= 0) lag = (lag < 0 ? 0 : lag) + l;
            }
            char lagtxt[32] = "?";
            if (lag >= 0) snprintf(lagtxt, sizeof(lagtxt), "%lld", (long long)lag);
            fprintf(stderr, "\r%llu records in, %.0f/s, lag %s    ", (unsigned long long)in,
                    (double)(in - last_in) / (mono() - last), lagtxt);
            last = mono();
            last_in = in;
        }
    }
    for (int i = 0; i < r.ndeps; i++) pthread_join(r.deps[i].thread, NULL);
    if (o->progress) fputc('\n', stderr);
    sr_up_stats sum = {0};
    for (int i = 0; i < r.ndeps; i++) {
        dep_run *dr = &r.deps[i];
        sr_up_stats s;
        dep_stats(dr, &s);
        fprintf(stderr, "%s: ", dr->dep->name);
        sr_print_counts(stderr, s.in, s.filtered, s.dead, s.out);
        if (s.dropped_errors)
            fprintf(stderr, " (%llu failed with no deadLetter topic)",
                    (unsigned long long)s.dropped_errors);
        if (s.offset_resets)
            fprintf(stderr, ", %llu OFFSET_OUT_OF_RANGE resets (records lost upstream)",
                    (unsigned long long)s.offset_resets);
        fprintf(stderr, ", %.3f s", s.secs);
        if (s.secs > 0) fprintf(stderr, " (%.0f records/s)", (double)s.in / s.secs);
        fputc('\n', stderr);
        sum.in += s.in;
        sum.out += s.out;
        sum.dead += s.dead;
        sum.filtered += s.filtered;
        sum.dropped_errors += s.dropped_errors;
        sum.offset_resets += s.offset_resets;
        if (s.secs > sum.secs) sum.secs = s.secs;
    }
    int rc = r.fatal ? -1 : 0;
    if (r.fatal) snprintf(err, errsize, "%s", r.fatal_msg);
    for (int i = 0; i < r.ndeps; i++) {
        dep_run *dr = &r.deps[i];
        for (int p = 0; p < dr->ntasks; p++) drop_task(dr, p);
        free(dr->tasks);
        free(dr->owner);
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
    sum.secs = sum.secs ? sum.secs : mono() - t0;
    if (total) *total = sum;
    return rc;
}
