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

/* ---- changelog topics -------------------------------------------------------------------- */

/* The changelog topic of a stateful step's store: partition p of the store's tasks logs to its
 * partition p. */
typedef struct sr_changelog {
    char topic[256]; /* "<consumer group>-<store name>-changelog" */
    int partitions;  /* the deployment's largest input partition count */
    const sr_deployment *dep;
    const sr_op *op; /* the step (op->type->store_name names its store) */
} sr_changelog;

/* Writes the changelog topic of op's store in deployment d into buf: "<group>-<store>-changelog",
 * from names only (never from the step's settings, so that it stays when they change). Returns 0,
 * or -1 with the reason in buf when d has no consumer group (a file source: its state is rebuilt
 * by replaying the file) or the name is not a Kafka topic name (over 249 characters, or other
 * characters than ASCII letters, digits, '.', '_' and '-'). */
int sr_changelog_topic(const sr_deployment *d, const sr_op *op, char *buf, size_t size);

/* The changelogs of the stateful steps of t's selected deployments (only[0..nonly), all when
 * nonly is 0) that read inputs, into *out (malloc'd; the caller frees it). A step whose topic
 * name is not valid is reported to dg at its store setting. Returns their count, or -1 after
 * errors. */
int sr_changelogs(const sr_topology *t, const char *const *only, int nonly, sr_changelog **out,
                  sr_diag *dg);

/* Makes the changelog topics cl[0..n) exist on the cluster at bootstraps: a missing one is
 * created with its partition count and cleanup.policy=compact (the cluster's replication
 * factor); an existing one is checked — its partition count, and, on Apache Kafka, a
 * cleanup.policy that compacts. Each problem goes to dg at the step, with the fix. The embedded
 * broker creates no topic over the network and has no configs: a missing changelog there is an
 * error saying to start it with the file (`streamrun broker FILE` creates them). Returns 0, or
 * -1 with a summary in err. @locality any thread; it creates and destroys its own client */
int sr_kafka_ensure_changelogs(const sr_topology *t, const sr_changelog *cl, int n,
                               const char *bootstraps, sr_diag *dg, char *err, size_t errsize);

/* `streamrun compat EDITED --broker`: for each stateful step of edited (sr_compat_stores), its
 * changelog on the cluster at bootstraps — an error when its partition count is not the step's,
 * or when the streamrun.state signature of the latest records of some partition is not the
 * step's (a note under a declared reset), a note when it does not exist (the store starts
 * empty); and an error for each changelog of a consumer group of edited whose store no step has
 * (a note under a declared drop). Read-only: metadata, watermarks and a few records, by a
 * consumer that assigns partitions and never joins its group. Returns the number of errors
 * added to dg, or -1 with the reason in err (the cluster could not be reached or read).
 * @locality any thread; it creates and destroys its own client */
int sr_compat_broker(const sr_topology *edited, const char *bootstraps, sr_diag *dg, char *err,
                     size_t errsize);

#endif
