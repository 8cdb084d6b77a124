/* broker.c — the embedded broker: librdkafka's mock cluster hosted in this process. */
#include "kafka/broker.h"
#include "base/arena.h"
#include "kafka/kafka_admin.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sr_broker {
    rd_kafka_t *host; /* the client instance that hosts the cluster */
    rd_kafka_mock_cluster_t *mc;
    char *bootstraps;
};

int sr_broker_start(sr_broker **out, int nbrokers, char *err, size_t errsize)
{
    *out = NULL;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256];
    /* the host instance only carries the cluster; keep it quiet */
    if (rd_kafka_conf_set(conf, "log_level", "3", e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errsize, "embedded broker: %s", e);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (!rk) {
        snprintf(err, errsize, "embedded broker: %s", e);
        return -1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, nbrokers);
    if (!mc) {
        snprintf(err, errsize, "embedded broker: could not start the mock cluster");
        rd_kafka_destroy(rk);
        return -1;
    }
    sr_broker *b = sr_xcalloc(1, sizeof(*b));
    b->host = rk;
    b->mc = mc;
    b->bootstraps = sr_xstrdup(rd_kafka_mock_cluster_bootstraps(mc));
    *out = b;
    return 0;
}

const char *sr_broker_bootstraps(const sr_broker *b)
{
    return b->bootstraps;
}

int sr_broker_create_topic(sr_broker *b, const char *topic, int partitions, char *err,
                           size_t errsize)
{
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(b->mc, topic, partitions, 1);
    if (e) {
        snprintf(err, errsize, "cannot create topic '%s' on the embedded broker: %s", topic,
                 rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int sr_broker_create_changelogs(sr_broker *b, const sr_topology *t, const char *const *only,
                                int nonly, sr_diag *dg, char *err, size_t errsize)
{
    sr_changelog *cl = NULL;
    int n = sr_changelogs(t, only, nonly, &cl, dg), rc = n < 0 ? -1 : 0;
    if (n < 0) snprintf(err, errsize, "a changelog topic name is not valid");
    for (int i = 0; i < n && rc == 0; i++)
        rc = sr_broker_create_topic(b, cl[i].topic, cl[i].partitions, err, errsize);
    free(cl);
    return rc;
}

struct rd_kafka_mock_cluster_s *sr_broker_mock(sr_broker *b)
{
    return b->mc;
}

void sr_broker_stop(sr_broker *b)
{
    if (!b) return;
    rd_kafka_mock_cluster_destroy(b->mc);
    rd_kafka_destroy(b->host);
    free(b->bootstraps);
    free(b);
}
