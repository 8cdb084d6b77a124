/* broker.h — the embedded broker: librdkafka's mock cluster, a Kafka-protocol endpoint on loopback.
 */
#ifndef SR_BROKER_H
#define SR_BROKER_H

#include <stddef.h>

typedef struct sr_broker sr_broker;
struct rd_kafka_mock_cluster_s;

/* Starts a mock cluster of nbrokers brokers on random loopback ports. Data
 * lives in this process's memory only. Returns 0, or -1 with err set. */
int sr_broker_start(sr_broker **out, int nbrokers, char *err, size_t errsize);
/* "127.0.0.1:PORT[,...]": what clients use as bootstrap.servers. */
const char *sr_broker_bootstraps(const sr_broker *b);
/* Creates topic with partitions (an existing topic is an error, as on Kafka). */
int sr_broker_create_topic(sr_broker *b, const char *topic, int partitions, char *err,
                           size_t errsize);
/* Creates the changelog topics of the stateful steps of t's selected deployments (only[0..nonly),
 * all when nonly is 0), each with its deployment's input partition count (kafka_admin.h,
 * sr_changelogs). The embedded broker has no compaction: a changelog there keeps every change,
 * under the broker's 5 MiB per partition cap. Problems with names go to dg; returns 0, or -1
 * (with err for a topic that could not be created). */
struct sr_topology;
struct sr_diag;
int sr_broker_create_changelogs(sr_broker *b, const struct sr_topology *t, const char *const *only,
                                int nonly, struct sr_diag *dg, char *err, size_t errsize);
/* For fault-injection tests: the underlying mock cluster. */
struct rd_kafka_mock_cluster_s *sr_broker_mock(sr_broker *b);
void sr_broker_stop(sr_broker *b);

#endif
