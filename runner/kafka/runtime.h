/* runtime.h — the insides of the Kafka runtime (the files of runner/kafka/ but kafka_admin.c and
 * broker.c), shared by its files and by nothing else: a run (runner) of deployments (dep_run), each
 * with its consumer thread, its producer and its worker threads (worker).
 *
 * Threads. Every deployment runs on its own thread ("the consumer thread": dep_main, then
 * kr_run_inputs or run_source), which polls the consumer, handles rebalances, and commits. With
 * --workers > 1, worker threads run the tasks (kr_dispatch hands them their partitions' messages);
 * with one, the consumer thread does. The main thread (sr_up_run) starts the deployments, prints
 * the progress line and joins them. State (changelog.c) is logged and restored on the consumer
 * thread: logged at commits, with the workers idle; restored on assignment, before a task is
 * handed to a worker, with a consumer of its own (dep_run.restorer). librdkafka calls on_log from
 * its own threads and the delivery report (on_delivery) from whichever thread polls the producer (a
 * worker or the consumer thread).
 *
 * Locks. runner.lock guards the first fatal message. dep_run.lock guards the delivery counts
 * (delivered, failed, fail_reason), the creation of topic handles (rkts) and the tasks array as
 * the main thread reads it (tasks are created and dropped under it). worker.lock guards a
 * worker's inbox. No two of them are held together. */
#ifndef SR_KAFKA_RUNTIME_H
#define SR_KAFKA_RUNTIME_H

#include "exec/task.h"
#include "kafka/kafka.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define BATCH 1000 /* messages taken from the consumer per poll */

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
    /* tables first (consume.c, hold_for_tables): per input, whether a step keeps a table of it
     * (operator.h: table_topic); per input and partition, the offset the table's partition had at
     * its assignment, which the consumer must reach before the stream partitions of that number
     * are resumed (-1: nothing to wait for); per partition number, whether its stream partitions
     * are paused for it, and how many are. Touched by the consumer thread only. */
    bool *table_input;
    int64_t **table_target;
    uint8_t *held;
    int nheld;
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
    /* per partition number: a tick is in a worker's inbox for its task (set by the consumer
     * thread, cleared by the worker), so a busy worker is not handed a pile of them */
    uint8_t *tick_pending;
    /* exactly-once: outputs produced in the open transaction (a transaction with outputs made by
     * timers but no input offsets must still be committed) */
    uint64_t txn_outputs;
    double t_first, t_last;
    /* state (changelog.c): per step slot, the changelog topic of the step's store (NULL: the step
     * keeps no state, or the deployment reads no input) and the producer's handle on it (made at
     * the first change, dropped with the producer) */
    char **clog_topic;
    char **clog_from; /* per slot: the changelog of the store it is renamed from (migrations:
                         {store: NEW, from: OLD}), else NULL */
    rd_kafka_topic_t **clog_rkt;
    rd_kafka_t *restorer;   /* reads changelogs (assign(), no group): made at the first restore */
    rd_kafka_t *watermarks; /* asks for their high watermarks (read_uncommitted) */
    uint64_t restored;      /* changelog records applied, in restore_secs */
    double restore_secs;
} dep_run;

struct runner {
    const sr_topology *topo;
    const sr_up_opts *o;
    dep_run *deps;
    int ndeps;
    volatile int fatal;
    int fatal_code; /* the exit status asked for with the fatal message (kr_fatal_code), 0: 3 */
    char fatal_msg[1024];
    pthread_mutex_t lock;
};

/* worker.c: a processing thread, its inbox a ring of events the consumer thread fills. */
#define INBOX       2048
#define INBOX_BYTES (4 << 20) /* what all the inboxes of a deployment may hold together */
#define KR_TICK_MS  100       /* how often every task is offered a tick (sr_task_tick) */

/* What the consumer thread tells a worker about one of the worker's tasks, in order. */
typedef enum kr_event_kind {
    KR_EV_MESSAGE, /* run msg through task; the worker frees msg */
    KR_EV_TICK,    /* the wall clock is now_ms: fire task's wall-clock timers due by then */
    KR_EV_DROP,    /* task was revoked (its counts taken, dr->tasks no longer holds it): destroy
                      it on the thread that owns it */
} kr_event_kind;

typedef struct kr_event {
    kr_event_kind kind;
    sr_task *task;
    union {
        rd_kafka_message_t *msg; /* KR_EV_MESSAGE */
        int64_t now_ms;          /* KR_EV_TICK */
    };
} kr_event;

typedef struct worker {
    dep_run *dr;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* any change below; both sides wait on it */
    kr_event inbox[INBOX];
    unsigned head, n;        /* ring of n events from head */
    size_t bytes, max_bytes; /* their messages' payload bytes, and the limit (INBOX_BYTES /
                                workers) */
    bool busy, quit;
    double t_last; /* end of its last batch */
} worker;

/* exactly-once (txn.c) */
#define TXN_TIMEOUT_MS 30000 /* the longest a transactional call blocks before it is retried */
#define TXN_FAILURES   5     /* transactions failing in a row before the run stops */
/* Runs CALL (an expression giving an rd_kafka_error_t *) into E again while it fails with a
 * retriable error (a timeout, a coordinator moving), at most 3 times in all. */
#define TXN_RETRY(dr, e, call)                                                                     \
    for (int tries_ = 0;; tries_++) {                                                              \
        (e) = (call);                                                                              \
        if (!(e) || !rd_kafka_error_is_retriable(e) || tries_ == 2 || (dr)->r->fatal) break;       \
        rd_kafka_error_destroy(e);                                                                 \
    }

/* ---- run.c: the run ---------------------------------------------------------------------- */

/* Seconds on the monotonic clock. @locality any */
double kr_mono(void);
/* Wall-clock milliseconds since the epoch. @locality any */
int64_t kr_wall_ms(void);
/* Makes the run fatal with the first message given (later ones are dropped): every deployment
 * stops, nothing more is committed. @locality any; @locks takes r->lock */
void kr_fatal(runner *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* kr_fatal with the exit status `up` should end with (2: the file's state is incompatible with
 * its changelog; 3: a failure of the run). @locality any; @locks takes r->lock */
void kr_fatal_code(runner *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Whether the run is stopping: fatal, or a stop asked. @locality any; @locks none */
bool kr_stopping(const runner *r);

/* ---- conf.c: client configuration ------------------------------------------------------- */

/* The configuration of dr's consumer (consumer) or producer: defaults, then the file's kafka:
 * block, then the deployment's; each property only for the clients it applies to. Returns it
 * (the caller owns it), or NULL with err.
 * @locality the consumer thread (or before it starts); @locks none */
rd_kafka_conf_t *kr_make_conf(dep_run *dr, bool consumer, char *err, size_t errsize);

/* ---- produce.c: producing ---------------------------------------------------------------- */

/* Produces t's staged outputs, then resets its batch (sr_task_batch_done).
 * @locality the thread that owns t (its worker, or the consumer thread); @locks takes dr->lock
 * for the first output to a topic */
void kr_produce_outputs(dep_run *dr, sr_task *t);
/* Waits until every produced message is acknowledged. Returns -1 (and makes the run fatal)
 * when a delivery failed: nothing may be committed then.
 * @locality the consumer thread, workers idle (kr_quiesce); @locks takes dr->lock */
int kr_flush_producer(dep_run *dr);
/* Creates dr->producer (none may exist) and, under exactly-once, initialises its transactions.
 * Returns 0, or -1 with err. @locality the consumer thread, workers idle; @locks none */
int kr_new_producer(dep_run *dr, char *err, size_t errsize);

/* ---- txn.c: exactly-once ----------------------------------------------------------------- */

/* Takes this member's transactional.id (dr->txn_id) and the host lock that keeps it unique.
 * Returns 0, or -1 with err. @locality the consumer thread, before the clients; @locks none */
int kr_claim_txn_id(dep_run *dr, char *err, size_t errsize);
/* Opens the next transaction (dr->txn_open). @locality the consumer thread, workers idle */
void kr_txn_begin(dep_run *dr);
/* Sets the tasks' counts back to the last commit's (restore) or marks them committed.
 * @locality the consumer thread, workers idle; @locks takes dr->lock */
void kr_task_stats_mark(dep_run *dr, bool restore);
/* Aborts the open transaction, rewinding the inputs to the last committed offsets unless
 * rewind is false (the partitions are being given up). Returns -1.
 * @locality the consumer thread, workers idle; @locks takes dr->lock */
int kr_txn_abort(dep_run *dr, bool rewind, const char *why);
/* Commits the open transaction with the offsets processed in it; on failure aborts it. Returns
 * 0 when committed (or nothing to commit), else -1.
 * @locality the consumer thread, workers idle; @locks takes dr->lock */
int kr_txn_commit(dep_run *dr, bool rewind);
/* At the end of the run: aborts the open transaction. @locality the consumer thread, after
 * the workers stopped */
void kr_txn_end(dep_run *dr);

/* ---- consume.c: consuming, rebalancing, committing --------------------------------------- */

/* The index of topic among d's inputs, or -1. @locality any; @locks none */
int kr_input_index(const sr_deployment *d, const char *topic);
/* The input index of topic when partition p is one the file declares for it, else -1.
 * @locality any; @locks none */
int kr_input_slot(const dep_run *dr, const char *topic, int32_t p);
/* The offsets to commit (the caller destroys the list). @locality the consumer thread, workers
 * idle */
rd_kafka_topic_partition_list_t *kr_processed_offsets(const dep_run *dr);
/* Nothing is processed since: after a commit or an aborted transaction. @locality the consumer
 * thread, workers idle */
void kr_forget_processed(dep_run *dr);
/* Waits for the workers (kr_quiesce), then commits what was processed (at-least-once: flush,
 * then commit the offsets; exactly-once: commit the transaction). 0, or -1 when nothing was
 * committed. @locality the consumer thread; @locks takes worker locks, then dr->lock */
int kr_commit(dep_run *dr, bool revoking);
/* Adds task p's counts to the deployment's, takes it out of dr->tasks and destroys it: on the
 * worker that owns it (a KR_EV_DROP) while the workers run, else here. The workers must have
 * finished its messages (kr_quiesce). @locality the consumer thread, or the main thread once
 * the deployments are joined; @locks takes dr->lock, then the owner's lock */
void kr_drop_task(dep_run *dr, int p);
/* How many records the assigned partitions hold past the consumer's position, -1 unknown.
 * @locality any (the main thread, for the progress line); @locks none */
int64_t kr_input_lag(dep_run *dr);
/* Consumes dr's inputs until the run stops or, with --exit-at-end, they reach their ends.
 * @locality the consumer thread */
void kr_run_inputs(dep_run *dr);

/* ---- changelog.c: state stores, logged to and restored from changelog topics -------------- */

/* Fills dr->clog_topic for the deployment's stateful steps (inputs only). @locality the main
 * thread, before the deployment's thread starts */
void kr_changelog_init(dep_run *dr);
/* Frees what kr_changelog_init and the restores made (the topic handles go with the producer:
 * kr_changelog_forget_producer). @locality the main thread, after the join */
void kr_changelog_free(dep_run *dr);
/* The producer is about to be destroyed: drops the changelog topic handles made on it.
 * @locality the consumer thread, workers idle */
void kr_changelog_forget_producer(dep_run *dr);
/* Logs the changes of every assigned task's stores since the last call: each task's steps
 * checkpoint (sr_task_checkpoint), then each store's dirty set is drained and every change
 * produced to changelog partition = the task's partition (the store key; the new value, or a
 * null value for a deletion; header streamrun.state = the store's signature). The caller then
 * flushes before committing offsets (at-least-once), or commits them in the open transaction
 * (exactly-once). A change that cannot be produced fails the commit as an output's does: under
 * exactly-once the transaction is marked broken (txn_broken), else the run is fatal. Returns 0,
 * or -1. @locality the consumer thread, with the workers idle: the tasks' stores are touched by
 * their workers only between kr_quiesce's hand-off and the next dispatch, so the quiesce's
 * mutex orders the workers' writes before these reads (asserted: kr_workers_idle); @locks takes
 * dr->lock for a topic handle's creation */
int kr_log_changes(dep_run *dr);
/* Empties the dirty sets of t's stores, logging nothing: for the task of a replay deployment
 * (source:), which has no changelog (a restart replays its file), so that its stores do not keep
 * every key changed, deleted ones included, for ever. @locality the thread that owns t */
void kr_forget_changes(sr_task *t);
/* Restores task t (new, nothing processed) from its stores' changelogs. A store renamed by a
 * migration {store: NEW, from: OLD} whose changelog partition has no mark of a complete copy
 * (none yet, or a copy cut short by a crash) takes OLD's changelog partition, then its own again
 * on top, as changes (dirty: the next commit logs them all to its own changelog, followed by the
 * mark; from then on its own changelog alone is read). Each changelog
 * partition t->partition read from its start to its end at the start of the restore (the high
 * watermark, read with read_committed: committed changes only; a transaction open on it, a
 * zombie's, is waited for until it ends), applied with
 * sr_store_restore, then the steps rebuild what derives from their stores (sr_task_restored).
 * Progress goes to stderr every second and at the end. A record whose streamrun.state signature
 * is not the store's stops the run with exit status 2 (the state's format changed); a changelog
 * whose start is gone (low watermark > 0) with exit status 3 unless --accept-incomplete-state,
 * which warns. Returns 0, or -1 with the run fatal. @locality the consumer thread, before t is
 * handed to a worker; @locks takes dr->lock for the counts */
int kr_restore_task(dep_run *dr, sr_task *t);
/* Exactly-once, after an aborted transaction or a fence that rewound the inputs: every task with
 * state is replaced by a new one restored from its changelogs (the committed state, as the
 * rewound offsets are the committed ones); its counts carry over. @locality the consumer thread,
 * workers idle; @locks takes dr->lock */
void kr_rebuild_state(dep_run *dr);

/* ---- worker.c: workers ------------------------------------------------------------------- */

/* Hands msgs[0..n) to the workers that own their tasks (tasks[i] NULL: not processed, freed),
 * or processes them on this thread with one worker. Waits while an inbox is full.
 * @locality the consumer thread; @locks takes each worker's lock in turn */
void kr_dispatch(dep_run *dr, rd_kafka_message_t **msgs, sr_task **tasks, size_t n);
/* Offers every task of dr a tick at the wall clock's time: posts a KR_EV_TICK to the worker that
 * owns it (unless one is pending), or, with one worker, ticks it here and produces what its
 * timers made. Called every KR_TICK_MS, whether messages arrive or not.
 * @locality the consumer thread; @locks takes each worker's lock in turn */
void kr_tick_tasks(dep_run *dr);
/* Waits until every worker has done all it was given. @locality the consumer thread; @locks
 * takes each worker's lock in turn */
void kr_quiesce(dep_run *dr);
/* Whether every worker's inbox is empty and none is busy (for asserts). @locality the consumer
 * thread; @locks takes each worker's lock in turn */
bool kr_workers_idle(const dep_run *dr);
/* Destroys task t, out of dr->tasks already: posts a KR_EV_DROP to its owner while the workers
 * run, else destroys it here. @locality the consumer thread (or the main thread after the
 * join); @locks takes the owner's lock */
void kr_destroy_task(dep_run *dr, sr_task *t);
/* Spreads the assigned partition numbers over the workers. @locality the consumer thread,
 * workers idle */
void kr_assign_owners(dep_run *dr, const rd_kafka_topic_partition_list_t *parts);
/* Starts (stops, after finishing their inboxes) dr's worker threads.
 * @locality the consumer thread */
void kr_start_workers(dep_run *dr);
void kr_stop_workers(dep_run *dr);

#endif
