/* kafka.h — the Kafka runtime: deployments as consumer-group members with their own producer. */
#ifndef SR_KAFKA_H
#define SR_KAFKA_H

#include "load/topology.h"

#include <signal.h>

typedef struct sr_up_opts {
    const char *bootstraps;  /* bootstrap.servers */
    bool embedded;           /* tune clients for the embedded broker (mock cluster) */
    const char *const *only; /* deployment names to run; all when nonly is 0 */
    int nonly;
    bool exit_at_end;       /* stop when every input is consumed to its end offset at start */
    int commit_interval_ms; /* default 1000 */
    bool progress;          /* a progress line on stderr */
    int workers; /* threads processing a deployment's partitions (1: the consumer's alone) */
    volatile sig_atomic_t *stop; /* set to stop gracefully (signal handlers set it) */
    /* restore state from a changelog whose start is gone (low watermark > 0), with a warning,
     * instead of stopping */
    bool accept_incomplete_state;
    /* model packages (model_slot.h): reload every one when *reload is set (SIGHUP's handler sets
     * it; the run clears it), and with watch_models those whose files changed, looked at every
     * second. NULL and false: never reload. */
    volatile sig_atomic_t *reload;
    bool watch_models;
} sr_up_opts;

typedef struct sr_up_stats {
    uint64_t in, out, dead, filtered, dropped_errors;
    uint64_t emit_dead; /* records steps made at timers that failed downstream (sr_task_stats) */
    uint64_t offset_resets; /* inputs reset by OFFSET_OUT_OF_RANGE: data was lost upstream */
    double secs;
    uint64_t restored;   /* state records restored from changelogs */
    double restore_secs; /* the time the restores took */
    int exit_code;       /* when sr_up_run fails: the exit status it asks for (2 or 3) */
} sr_up_stats;

/* Runs the selected deployments of t until *o->stop, or, with exit_at_end,
 * until they have consumed what their inputs held when they started (and
 * sources have replayed their files). Every deployment with inputs is a
 * member of its consumer group; on assignment a task is created for each
 * input partition, on revocation it is flushed, committed and dropped.
 * Delivery is at-least-once: outputs are produced and flushed before the
 * input offsets are committed. A task's state stores (stateful steps) are
 * restored from their changelog topics before it processes anything, and
 * their changes are logged there at every commit (runtime.h, changelog.c);
 * a state incompatibility stops the run with st->exit_code 2, incomplete
 * state with 3 (unless o->accept_incomplete_state). Returns 0, or -1 with err set when a delivery
 * finally failed or a client could not be created (nothing is committed past
 * a failed delivery). Per-deployment statistics are printed on stderr;
 * totals go to *st when st is not NULL. */
int sr_up_run(const sr_topology *t, const sr_up_opts *o, sr_up_stats *st, char *err,
              size_t errsize);

/* Checks a `kafka:` property as `up` will set it: librdkafka must know the name and accept the
 * value, and partition.assignment.strategy must stay range (tasks are per partition number, so
 * co-partitioned inputs must land on one member; and assignments are eager). Returns 0, or -1
 * with a message in err and *at_name set when the name is at fault (with a close known name,
 * if any, in the message). The message never holds the value (it may be a secret). */
int sr_kafka_check_property(const char *name, const char *value, char *err, size_t errsize,
                            bool *at_name);

/* Whether librdkafka takes property name for a consumer (consumer) or a producer: true unless
 * it lists the property for the other kind of client only. */
bool sr_kafka_prop_applies(const char *name, bool consumer);

/* Why property name=value lets a topology file run code or write files (loads libraries, runs
 * a shell command...), or NULL when it does not. `validate` and `up` refuse such a property
 * unless the user allows it (--allow-unsafe-kafka-properties). The reason never quotes the
 * value. Returns a static string. */
const char *sr_kafka_unsafe_property(const char *name, const char *value);

/* true when property name holds a secret (a password, a private key...): diagnostics that quote
 * the file's lines hide its value. */
bool sr_kafka_secret_property(const char *name);

/* Sets a librdkafka property, reporting failures with the property name; err never holds the
 * value (it may be a secret). */
int sr_kafka_conf_set(void *conf, const char *name, const char *value, char *err, size_t errsize);

/* Global topic tables under `up` (gtables.c): reads every partition of the topic of each global
 * table of t from the beginning to its high watermarks into the table's process-wide copy (so that
 * a start restores it), then keeps reading on a thread of its own until sr_gtables_stop. *out is
 * NULL when t has no global table. Returns 0, or -1 with err. @locality the thread that runs
 * sr_up_run, before the deployments start; the tables are then written by the reader thread under
 * their locks (load/table.h) while tasks read them. */
typedef struct sr_gtables sr_gtables;
int sr_gtables_start(sr_gtables **out, const sr_topology *t, const char *bootstraps, char *err,
                     size_t errsize);
/* Stops the reader (joins its thread) and frees it; NULL is a no-op. */
void sr_gtables_stop(sr_gtables *g);

#endif
