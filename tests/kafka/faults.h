/* faults.h — shared by the in-process Kafka fault tests: an embedded broker, sr_up_run over
 * tests/kafka/faults.yaml in a thread, an input producer thread, and an output checker. */
#ifndef KAFKA_FAULTS_H
#define KAFKA_FAULTS_H

#include "kafka/broker.h"
#include "base/diag.h"
#include "kafka/kafka.h"
#include "load/topology.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GROUP                                                                                      \
    "kafka-faults-double" /* faults.yaml's default group: <metadata.name>-<deployment>             \
                           */

static inline void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static inline void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    fflush(stderr);
    _exit(1); /* threads are running: no clean-up */
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static inline rd_kafka_conf_t *client_conf(const char *addr)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char err[512];
    if (sr_kafka_conf_set(conf, "bootstrap.servers", addr, err, sizeof(err)) ||
        sr_kafka_conf_set(conf, "log.connection.close", "false", err, sizeof(err)) ||
        sr_kafka_conf_set(conf, "log_level", "2", err, sizeof(err))) /* streamrun's clients log */
        fail("%s", err);
    return conf;
}

static inline void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[512];
    if (sr_kafka_conf_set(conf, name, value, err, sizeof(err))) fail("%s", err);
}

/* ---- the fixture: broker, topology, the run ------------------------------------------------ */

typedef struct fixture {
    sr_broker *broker;
    rd_kafka_mock_cluster_t *mc;
    const char *addr;
    sr_topology *topo;
    int partitions; /* of `in` and `out` */
    int workers;    /* for the run: 0 is 1 */
    pthread_t run_thread;
    int finished; /* set when sr_up_run has returned */
    volatile sig_atomic_t stop;
    sr_up_opts opts;
    sr_up_stats stats;
    int run_rc;
    char run_err[1024];
} fixture;

/* Loads the topology at path, starts an embedded broker of nbrokers with its topics. */
static inline void fixture_start(fixture *fx, const char *path, int nbrokers)
{
    memset(fx, 0, sizeof(*fx));
    sr_diag dg;
    sr_diag_init(&dg);
    if (sr_topology_load(&fx->topo, path, &dg) != 0) {
        sr_diag_print(&dg, stderr, false, false);
        fail("cannot load %s", path);
    }
    sr_diag_free(&dg);
    char err[512];
    if (sr_broker_start(&fx->broker, nbrokers, err, sizeof(err))) fail("%s", err);
    fx->mc = sr_broker_mock(fx->broker);
    fx->addr = sr_broker_bootstraps(fx->broker);
    if (strncmp(fx->addr, "127.0.0.1:", 10) != 0)
        fail("the broker is not on loopback: %s", fx->addr);
    for (int i = 0; i < fx->topo->ntopics; i++)
        if (sr_broker_create_topic(fx->broker, fx->topo->topics[i]->name,
                                   fx->topo->topics[i]->partitions, err, sizeof(err)))
            fail("%s", err);
    fx->partitions = sr_topology_topic(fx->topo, "out")->partitions;
    printf("broker at %s (%d broker%s)\n", fx->addr, nbrokers, nbrokers == 1 ? "" : "s");
}

static inline void *run_main(void *arg)
{
    fixture *fx = arg;
    fx->run_rc = sr_up_run(fx->topo, &fx->opts, &fx->stats, fx->run_err, sizeof(fx->run_err));
    __atomic_store_n(&fx->finished, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Starts sr_up_run over every deployment, without exit-at-end, in a thread. */
static inline void run_start(fixture *fx)
{
    fx->opts = (sr_up_opts){.bootstraps = fx->addr,
                            .embedded = true,
                            .exit_at_end = false,
                            .commit_interval_ms = 500,
                            .workers = fx->workers,
                            .stop = &fx->stop};
    fx->stop = 0;
    fx->finished = 0;
    if (pthread_create(&fx->run_thread, NULL, run_main, fx)) fail("pthread_create");
}

/* Sets the stop flag and waits for the run; it must end gracefully. */
static inline void run_stop(fixture *fx)
{
    fx->stop = 1;
    pthread_join(fx->run_thread, NULL);
    if (fx->run_rc != 0) fail("sr_up_run failed: %s", fx->run_err);
    printf("run stopped: %llu in, %llu out, %llu dead-lettered\n", (unsigned long long)fx->stats.in,
           (unsigned long long)fx->stats.out, (unsigned long long)fx->stats.dead);
}

static inline void fixture_stop(fixture *fx)
{
    sr_broker_stop(fx->broker);
    sr_topology_free(fx->topo);
}

/* ---- inputs: {"id": i} keyed k%06d, produced in chunks by a thread ------------------------- */

typedef struct feeder {
    const char *addr;
    int first, n, chunk, interval_ms; /* ids first .. first+n-1 */
    pthread_t thread;
    pthread_mutex_t lock;
    int delivered, failed, produced;
    char first_error[256];
} feeder;

static inline void on_input_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    feeder *f = opaque;
    pthread_mutex_lock(&f->lock);
    if (m->err) {
        if (f->failed++ == 0)
            snprintf(f->first_error, sizeof(f->first_error), "%s", rd_kafka_err2str(m->err));
    } else {
        f->delivered++;
    }
    pthread_mutex_unlock(&f->lock);
}

static inline void *feeder_main(void *arg)
{
    feeder *f = arg;
    rd_kafka_conf_t *conf = client_conf(f->addr);
    conf_set(conf, "enable.idempotence", "true");
    conf_set(conf, "linger.ms", "5");
    rd_kafka_conf_set_dr_msg_cb(conf, on_input_delivery);
    rd_kafka_conf_set_opaque(conf, f);
    char err[512];
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!p) fail("input producer: %s", err);
    for (int i = 0; i < f->n; i++) {
        char key[16], val[64];
        snprintf(key, sizeof(key), "k%06d", f->first + i);
        int vlen = snprintf(val, sizeof(val), "{\"id\":%d}", f->first + i);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(p, RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(val, (size_t)vlen),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(p, 50);
        if (e) fail("producing input %d: %s", i, rd_kafka_err2str(e));
        __atomic_store_n(&f->produced, i + 1, __ATOMIC_RELEASE);
        if ((i + 1) % f->chunk == 0) {
            rd_kafka_poll(p, 0);
            sleep_ms(f->interval_ms);
        }
    }
    double t0 = now_s();
    while (rd_kafka_outq_len(p) > 0 && now_s() - t0 < 60) rd_kafka_flush(p, 500);
    if (rd_kafka_outq_len(p) > 0) fail("inputs still unacknowledged after 60 s");
    rd_kafka_destroy(p);
    return NULL;
}

/* Produces ids first .. first+n-1 to `in`, chunk of them every interval_ms, in a thread. */
static inline void feeder_start_at(feeder *f, const char *addr, int first, int n, int chunk,
                                   int interval_ms)
{
    memset(f, 0, sizeof(*f));
    f->addr = addr;
    f->first = first;
    f->n = n;
    f->chunk = chunk;
    f->interval_ms = interval_ms;
    pthread_mutex_init(&f->lock, NULL);
    if (pthread_create(&f->thread, NULL, feeder_main, f)) fail("pthread_create");
}

/* Produces ids 0 .. n-1 (see feeder_start_at). */
static inline void feeder_start(feeder *f, const char *addr, int n, int chunk, int interval_ms)
{
    feeder_start_at(f, addr, 0, n, chunk, interval_ms);
}

/* Waits for the feeder; every input must have been delivered. */
static inline void feeder_join(feeder *f)
{
    pthread_join(f->thread, NULL);
    if (f->failed) fail("%d inputs failed: %s", f->failed, f->first_error);
    if (f->delivered != f->n) fail("%d of %d inputs delivered", f->delivered, f->n);
    pthread_mutex_destroy(&f->lock);
    printf("inputs: %d produced and acknowledged\n", f->n);
}

/* ---- outputs: how many times each id reached `out`, and whether it is right ------------------ */

typedef struct checker {
    rd_kafka_t *c;
    int n;
    int *count;   /* per id */
    int distinct; /* ids seen at least once */
    long total;   /* records read */
    long wrong;   /* records that are not the expected output of their id */
    char first_wrong[256];
} checker;

static inline void checker_open(checker *ck, const char *addr, int n, int partitions)
{
    memset(ck, 0, sizeof(*ck));
    ck->n = n;
    ck->count = calloc((size_t)n, sizeof(int));
    if (!ck->count) fail("out of memory");
    rd_kafka_conf_t *conf = client_conf(addr);
    char group[64];
    snprintf(group, sizeof(group), "faults-checker-%d", (int)getpid());
    conf_set(conf, "group.id", group);
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "fetch.wait.max.ms", "10");
    char err[512];
    ck->c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!ck->c) fail("checker: %s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(l, "out", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(ck->c, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static inline void checker_take(checker *ck, const rd_kafka_message_t *m)
{
    char val[128], key[32], want_key[32], want_val[128];
    snprintf(val, sizeof(val), "%.*s", (int)(m->len < 127 ? m->len : 127),
             (const char *)m->payload);
    snprintf(key, sizeof(key), "%.*s", (int)(m->key_len < 31 ? m->key_len : 31),
             m->key ? (const char *)m->key : "");
    ck->total++;
    int id = -1;
    const char *at = strstr(val, "\"id\":");
    if (at) id = atoi(at + 5);
    if (id >= 0 && id < ck->n) {
        snprintf(want_key, sizeof(want_key), "k%06d", id);
        snprintf(want_val, sizeof(want_val), "{\"id\":%d,\"twice\":%d}", id, 2 * id);
        if (m->key && strcmp(key, want_key) == 0 && strcmp(val, want_val) == 0) {
            if (ck->count[id]++ == 0) ck->distinct++;
            return;
        }
    }
    if (ck->wrong++ == 0)
        snprintf(ck->first_wrong, sizeof(ck->first_wrong), "key %s value %s", key, val);
}

/* Reads what is there for up to ms milliseconds. */
static inline void checker_poll(checker *ck, int ms)
{
    double end = now_s() + ms / 1000.0;
    while (now_s() < end) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ck->c, 50);
        if (!m) continue;
        if (!m->err)
            checker_take(ck, m);
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "checker: %s\n", rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
}

/* Reads until at least want distinct ids were seen; fails after limit seconds. */
static inline void checker_wait(checker *ck, int want, double limit, const char *what)
{
    double end = now_s() + limit;
    while (ck->distinct < want) {
        if (now_s() > end)
            fail("%s: %d of the %d expected outputs after %.0f s", what, ck->distinct, want, limit);
        checker_poll(ck, 100);
    }
}

/* Reads `out` from the beginning to its current end: the final tally. */
static inline void checker_read_all(checker *ck, const char *addr, int n, int partitions)
{
    checker_open(ck, addr, n, partitions);
    int64_t want = 0;
    for (int p = 0; p < partitions; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(ck->c, "out", p, &lo, &hi, 10000);
        if (e) fail("watermarks of out [%d]: %s", p, rd_kafka_err2str(e));
        want += hi - lo;
    }
    double end = now_s() + 60;
    while (ck->total < want) {
        if (now_s() > end)
            fail("read %ld of the %lld records of out in 60 s", ck->total, (long long)want);
        checker_poll(ck, 100);
    }
}

static inline void checker_close(checker *ck)
{
    rd_kafka_consumer_close(ck->c);
    rd_kafka_destroy(ck->c);
    free(ck->count);
}

/* Sum of the committed offsets of GROUP on `in` (from an assign-only client of the group). */
static inline int64_t committed_total(const char *addr, int partitions)
{
    rd_kafka_conf_t *conf = client_conf(addr);
    conf_set(conf, "group.id", GROUP);
    conf_set(conf, "enable.auto.commit", "false");
    char err[512];
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!c) fail("%s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++) rd_kafka_topic_partition_list_add(l, "in", p);
    rd_kafka_resp_err_t e = rd_kafka_committed(c, l, 10000);
    if (e) fail("committed offsets: %s", rd_kafka_err2str(e));
    int64_t sum = 0;
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].offset >= 0) sum += l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(c);
    return sum;
}

/* Checks the final tally: every id present and right; returns the number of duplicates. */
static inline long check_outputs(const fixture *fx, int n, bool exact)
{
    checker ck;
    checker_read_all(&ck, fx->addr, n, fx->partitions);
    long dups = ck.total - ck.wrong - ck.distinct;
    printf("out: %ld records, %d of %d ids, %ld duplicates, %ld wrong\n", ck.total, ck.distinct, n,
           dups, ck.wrong);
    if (ck.wrong)
        fail("%ld records on out are not an expected output: %s", ck.wrong, ck.first_wrong);
    if (ck.distinct != n) {
        for (int i = 0; i < n; i++)
            if (!ck.count[i])
                fail("the output of input %d is missing (%d missing)", i, n - ck.distinct);
    }
    if (exact && dups) {
        for (int i = 0; i < n; i++)
            if (ck.count[i] > 1)
                fail("input %d's output is there %d times (%ld duplicates)", i, ck.count[i], dups);
    }
    checker_close(&ck);
    int64_t committed = committed_total(fx->addr, fx->partitions);
    printf("committed offsets of %s on in: %lld in all\n", GROUP, (long long)committed);
    if (committed != n)
        fail("the committed offsets sum to %lld, expected %d", (long long)committed, n);
    return dups;
}

#endif
