/* kafka_admin.h — the topics of a file on a Kafka cluster: created as declared when missing,
 * checked against the declaration when they exist. */
#ifndef SR_KAFKA_ADMIN_H
#define SR_KAFKA_ADMIN_H

#include "load/topology.h"

/* Makes the topics of t exist on the cluster at bootstraps as t declares them, as a careful
 * user would by hand before starting:
 *  - a missing topic is created (CreateTopics) with its partitions, replicationFactor (the
 *    cluster's default when not declared) and config:, and waited for until its partitions
 *    have leaders;
 *  - every topic is then checked against the file: its partition count, its replication
 *    factor when declared, and each declared config as the cluster reports it
 *    (DescribeConfigs; numbers compared as numbers, lists as sets).
 * Each problem (a mismatch, a refused creation) goes to dg as an error at its place in the file,
 * saying how to align the file or the cluster. Sets *mock when the cluster is an embedded broker
 * (librdkafka's mock cluster): it cannot create topics over the network nor describe configs,
 * so only partition counts are checked there (see sr_kafka_embedded_unapplied).
 * Returns 0; or -1 with a one-line summary in err (the cluster could not be reached, or some
 * topic does not match: the details are in dg). Nothing is altered on an existing topic.
 * @locality any thread; it creates and destroys its own client */
int sr_kafka_ensure_topics(const sr_topology *t, const char *bootstraps, bool *mock, sr_diag *dg,
                           char *err, size_t errsize);

/* When t declares what the embedded broker cannot apply (a replication factor above 1, topic
 * configs), writes one sentence into buf naming the topics concerned and returns true; false
 * (buf untouched) when there is nothing to say. */
bool sr_kafka_embedded_unapplied(const sr_topology *t, char *buf, size_t size);

#endif
