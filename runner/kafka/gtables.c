/* gtables.c — global topic tables under `up`: one reader per process reads every partition of each
 * global table's topic, from the beginning to the high watermarks before any deployment starts (the
 * table is restored by reading its topic again at every start), then keeps the tables up to date
 * on a thread of its own while the deployments run. */
#include "kafka/kafka.h"
#include "load/table.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sr_gtables {
    const sr_topology *topo;
    rd_kafka_t *rk; /* assign() only: no group membership, nothing committed */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    uint64_t loaded; /* records read before the start */
};

/* Applies one message of a global table's topic to its tables. @locality the reader's thread (the
 * caller of sr_gtables_start, then the reader thread); @locks each table's, inside apply. */
static void apply(sr_gtables *g, const rd_kafka_message_t *m)
{
    const sr_topic *tp = sr_topology_topic(g->topo, rd_kafka_topic_name(m->rkt));
    if (!tp) return;
    rd_kafka_timestamp_type_t tt;
    int64_t ts = rd_kafka_message_timestamp(m, &tt);
    sr_tables_on_record(g->topo, tp, m->key, m->key_len, m->payload, m->payload ? m->len : 0,
                        m->payload == NULL, ts >= 0 ? ts : 0);
}

/* The reader thread: applies what the topics get until sr_gtables_stop. @locality its own
 * thread; @locks the tables', inside apply. */
static void *reader_main(void *arg)
{
    sr_gtables *g = arg;
    while (!atomic_load(&g->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(g->rk, 100);
        if (!m) continue;
        if (!m->err)
            apply(g, m);
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "streamrun: reading a global table's topic: %s\n",
                    rd_kafka_message_errstr(m));
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errsize)
{
    return sr_kafka_conf_set(c, k, v, err, errsize);
}

int sr_gtables_start(sr_gtables **out, const sr_topology *t, const char *bootstraps, char *err,
                     size_t errsize)
{
    *out = NULL;
    int nglobal = 0;
    for (int i = 0; i < t->ntables; i++) nglobal += t->tables[i]->live != NULL;
    if (nglobal == 0) return 0;
    sr_gtables *g = sr_xcalloc(1, sizeof(*g));
    g->topo = t;
    char group[400], e[512];
    snprintf(group, sizeof(group), "%s.streamrun-tables", t->name);
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    int rc = conf_set(c, "bootstrap.servers", bootstraps, err, errsize) ||
             conf_set(c, "group.id", group, err, errsize) ||
             conf_set(c, "enable.auto.commit", "false", err, errsize) ||
             conf_set(c, "enable.partition.eof", "true", err, errsize) ||
             conf_set(c, "isolation.level", "read_committed", err, errsize) ||
             conf_set(c, "fetch.wait.max.ms", "10", err, errsize) ||
             conf_set(c, "log.connection.close", "false", err, errsize);
    for (int i = 0; !rc && i < t->kafka.n; i++) /* the file's: security settings and the like */
        if (sr_kafka_prop_applies(t->kafka.names[i], true))
            rc = conf_set(c, t->kafka.names[i], t->kafka.vals[i], err, errsize);
    if (rc) {
        rd_kafka_conf_destroy(c);
        free(g);
        return -1;
    }
    g->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof(e));
    if (!g->rk) {
        snprintf(err, errsize, "cannot create the reader of global tables: %s", e);
        free(g);
        return -1;
    }
    /* every partition of each global table's topic, from the beginning; where each ends now */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    int64_t *hi = NULL, *pos = NULL;
    int n = 0;
    for (int i = 0; i < t->ntables; i++) {
        const sr_table *tb = t->tables[i];
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = t->tables[k]->live && t->tables[k]->topic == tb->topic;
        if (!tb->live || seen) continue;
        for (int p = 0; p < tb->topic->partitions; p++) {
            int64_t lo = 0, h = 0;
            rd_kafka_resp_err_t qe =
                rd_kafka_query_watermark_offsets(g->rk, tb->topic->name, p, &lo, &h, 30000);
            if (qe) {
                snprintf(err, errsize, "table '%s': cannot read the offsets of %s [%d]: %s",
                         tb->name, tb->topic->name, p, rd_kafka_err2str(qe));
                goto fail;
            }
            rd_kafka_topic_partition_list_add(l, tb->topic->name, p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
            hi = sr_xrealloc(hi, sizeof(int64_t) * (size_t)(n + 1));
            pos = sr_xrealloc(pos, sizeof(int64_t) * (size_t)(n + 1));
            hi[n] = h;
            pos[n] = lo;
            n++;
        }
    }
    rd_kafka_resp_err_t ae = rd_kafka_assign(g->rk, l);
    if (ae) {
        snprintf(err, errsize, "cannot read the topics of global tables: %s", rd_kafka_err2str(ae));
        goto fail;
    }
    /* read to the high watermarks before any deployment starts */
    for (;;) {
        int left = 0;
        for (int i = 0; i < n; i++) left += pos[i] < hi[i];
        if (!left) break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(g->rk, 200);
        if (!m) continue;
        int i = 0;
        const char *name = m->rkt ? rd_kafka_topic_name(m->rkt) : "";
        while (i < n &&
               (strcmp(l->elems[i].topic, name) != 0 || l->elems[i].partition != m->partition))
            i++;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (i < n && m->offset > pos[i]) pos[i] = m->offset;
            if (i < n && pos[i] < hi[i] && m->offset >= hi[i]) pos[i] = hi[i];
        } else if (m->err) {
            snprintf(err, errsize, "reading the topics of global tables: %s",
                     rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            goto fail;
        } else {
            apply(g, m);
            g->loaded++;
            if (i < n) pos[i] = m->offset + 1;
        }
        rd_kafka_message_destroy(m);
    }
    for (int i = 0; i < t->ntables; i++)
        if (t->tables[i]->live)
            fprintf(stderr, "streamrun: table '%s': %zu keys read from topic %s\n",
                    t->tables[i]->name, sr_gtable_count(t->tables[i]->live),
                    t->tables[i]->topic->name);
    rd_kafka_topic_partition_list_destroy(l);
    free(hi);
    free(pos);
    pthread_create(&g->thread, NULL, reader_main, g);
    g->running = true;
    *out = g;
    return 0;
fail:
    rd_kafka_topic_partition_list_destroy(l);
    free(hi);
    free(pos);
    rd_kafka_destroy(g->rk);
    free(g);
    return -1;
}

void sr_gtables_stop(sr_gtables *g)
{
    if (!g) return;
    atomic_store(&g->stop, true);
    if (g->running) pthread_join(g->thread, NULL);
    rd_kafka_consumer_close(g->rk);
    rd_kafka_destroy(g->rk);
    free(g);
}
