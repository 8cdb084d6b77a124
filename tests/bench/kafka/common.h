/* common.h — helpers shared by the Kafka benchmark programs: configuration, clock, errors. */
#ifndef BENCH_KAFKA_COMMON_H
#define BENCH_KAFKA_COMMON_H

#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static inline void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
    char err[512];
    if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        die("config %s=%s: %s", name, value, err);
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Delivery reports of a producer: set with deliveries_watch(conf, &d) before rd_kafka_new(). */
typedef struct deliveries {
    long ok, failed;
    char first_error[512];
} deliveries;

static inline void deliveries_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    deliveries *d = opaque;
    (void)rk;
    if (!m->err)
        d->ok++;
    else if (d->failed++ == 0)
        snprintf(d->first_error, sizeof(d->first_error), "%s", rd_kafka_err2str(m->err));
}

static inline void deliveries_watch(rd_kafka_conf_t *conf, deliveries *d)
{
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_conf_set_dr_msg_cb(conf, deliveries_cb);
}

/* The topic's partition count, from the broker's metadata. */
static inline int partition_count(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (err) die("metadata of '%s': %s", topic, rd_kafka_err2str(err));
    int n = -1;
    if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    if (n < 1) die("topic '%s' does not exist on the broker", topic);
    return n;
}

#endif
