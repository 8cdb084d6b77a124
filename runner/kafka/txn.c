/* txn.c — exactly-once: one transaction per commit interval, its commit, abort and
 * rewind, and the recovery of a fenced producer. */
#include "kafka/runtime.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* ---- exactly-once ------------------------------------------------------------------------ */

/* Each commit interval is one transaction of the deployment's transactional producer: the
 * outputs and dead letters produced in it, and the input offsets sent to it with the consumer's
 * group metadata (send_offsets_to_transaction), so that the group coordinator takes them only
 * from a member of the current generation: a member whose partitions moved on (a zombie) cannot
 * commit. A transaction that fails is aborted — its records are never seen by read_committed
 * readers — and the tasks rewind to the last committed offsets and process those records again.
 * A producer that cannot go on — fenced (its epoch no longer the transactional.id's: a coordinator
 * failover, or another producer with the id), in another fatal state, or unable to abort — is
 * replaced and the tasks go back to the committed offsets (txn_recover); a replacement that cannot
 * start stops the run. All of it runs on the consumer thread, with the workers idle (kr_quiesce).
 */

/* Picks this member's transactional.id, "<group>-<host>-<n>", n the lowest number that no other
 * `up` on this host holds for the group: a lock file in the run-time directory, which the kernel
 * releases when the process dies. A restarted member so takes the id of the one it replaces, and
 * init_transactions aborts that one's open transaction at once (otherwise read_committed readers
 * wait transaction.timeout.ms for it); members alive together never share an id, which would
 * fence one of them. Returns 0, or -1 with err. */
int kr_claim_txn_id(dep_run *dr, char *err, size_t errsize)
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

void kr_txn_begin(dep_run *dr)
{
    if (dr->r->fatal) return;
    rd_kafka_error_t *e = rd_kafka_begin_transaction(dr->producer);
    if (e) {
        kr_fatal(dr->r, "%s: cannot begin a transaction: %s", dr->dep->name,
                 rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return;
    }
    dr->txn_open = true;
    __atomic_store_n(&dr->txn_outputs, 0, __ATOMIC_RELAXED);
}

/* Counts of the tasks as they were at the last commit (restore) or as they are (keep). */
void kr_task_stats_mark(dep_run *dr, bool restore)
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
        int ti = kr_input_slot(dr, l->elems[i].topic, l->elems[i].partition);
        assert(ti >= 0);
        /* not at its end any more (--exit-at-end, the lag): the seek moves the position back,
         * and the end seen before does not count */
        __atomic_store_n(&dr->eof[ti][l->elems[i].partition], -1, __ATOMIC_RELAXED);
    }
    if (l->cnt) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(dr->consumer, l, TXN_TIMEOUT_MS);
        if (e) {
            kr_fatal(dr->r, "%s: cannot rewind the inputs %s: %s", dr->dep->name, what,
                     rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        for (int i = 0; i < l->cnt && !dr->r->fatal; i++)
            if (l->elems[i].err)
                kr_fatal(dr->r, "%s: cannot rewind %s [%d] to offset %lld %s: %s", dr->dep->name,
                         l->elems[i].topic, l->elems[i].partition, (long long)l->elems[i].offset,
                         what, rd_kafka_err2str(l->elems[i].err));
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
            kr_fatal(dr->r, "%s: cannot read the group's committed offsets after a fence: %s",
                     dr->dep->name, rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            return;
        }
    }
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *x = &l->elems[i];
        int ti = kr_input_slot(dr, x->topic, x->partition);
        assert(ti >= 0);
        if (x->err) {
            kr_fatal(dr->r, "%s: cannot read the committed offset of %s [%d] after a fence: %s",
                     dr->dep->name, x->topic, x->partition, rd_kafka_err2str(x->err));
            rd_kafka_topic_partition_list_destroy(l);
            return;
        }
        /* none committed yet: where processing began */
        if (x->offset < 0) x->offset = dr->base[ti][x->partition];
        if (x->offset != dr->next[ti][x->partition]) went_through = false;
    }
    kr_task_stats_mark(dr, !went_through);
    if (went_through) {
        fprintf(stderr,
                "streamrun: %s: the group's offsets show that the last transaction was "
                "committed\n",
                dr->dep->name);
        dr->txn_failures = 0;
    }
    if (rewind && !went_through) {
        seek_inputs(dr, l, "to the committed offsets after a fence");
        kr_rebuild_state(dr); /* the state goes back with the offsets */
    } else
        rd_kafka_topic_partition_list_destroy(l);
}

/* A producer that cannot go on — fenced, in a fatal state, or unable to abort its transaction
 * (seen while a transaction coordinator moves: INVALID_TXN_STATE) — is replaced. As Kafka Streams
 * does on a fence (it takes it for partitions migrated), the transaction is given up — the
 * coordinator aborts it, and none of its records is seen by read_committed readers —, a new
 * producer takes the same transactional.id, and the tasks go back to the group's committed offsets
 * (rewind_committed) to process the records again. Unless the run is stopping; and TXN_FAILURES
 * fences or failures in a row stop it (two live members with one transactional.id would fence each
 * other for ever; kr_claim_txn_id keeps that from happening on one host). Returns -1.
 * @locality the deployment's consumer thread, with the workers idle (kr_quiesce) */
static int txn_recover(dep_run *dr, bool rewind, const char *why)
{
    const char *what = producer_fenced(dr) ? "the producer was fenced" : "the producer failed";
    dr->txn_open = false;
    if (kr_stopping(dr->r)) {
        kr_task_stats_mark(dr, true);
        fprintf(stderr,
                "streamrun: %s: %s (%s); stopping: what was processed since the last commit is "
                "processed again by the partitions' next owner\n",
                dr->dep->name, what, why);
        return -1;
    }
    if (++dr->txn_failures >= TXN_FAILURES) {
        kr_task_stats_mark(dr, true);
        kr_fatal(dr->r, "%s: %d transactions in a row failed, the last: %s (%s)", dr->dep->name,
                 dr->txn_failures, what, why);
        return -1;
    }
    fprintf(stderr,
            "streamrun: %s: %s (%s); its transaction is given up, a new producer takes "
            "transactional.id %s, and the inputs go back to the group's committed offsets\n",
            dr->dep->name, what, why, dr->txn_id);
    /* what the old producer still holds belongs to the given-up transaction */
    rd_kafka_purge(dr->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                     RD_KAFKA_PURGE_F_NON_BLOCKING);
    for (int k = 0; k < dr->r->topo->ntopics; k++)
        if (dr->rkts[k]) {
            rd_kafka_topic_destroy(dr->rkts[k]);
            dr->rkts[k] = NULL;
        }
    kr_changelog_forget_producer(dr);
    rd_kafka_destroy(dr->producer);
    dr->producer = NULL;
    pthread_mutex_lock(&dr->lock);
    dr->failed = 0;
    pthread_mutex_unlock(&dr->lock);
    __atomic_store_n(&dr->txn_broken, 0, __ATOMIC_RELEASE);
    char err[512];
    if (kr_new_producer(dr, err, sizeof(err)) != 0) {
        kr_task_stats_mark(dr, true);
        kr_fatal(dr->r, "%s: after %s: %s", dr->dep->name, what, err);
        return -1;
    }
    rewind_committed(dr, rewind);
    kr_forget_processed(dr);
    kr_txn_begin(dr);
    return -1;
}

/* Aborts the open transaction (why: what failed), then rewinds the tasks to their last committed
 * offsets to process the records again, unless the partitions are being given up (rewind false:
 * their next owner does it). Returns -1. */
int kr_txn_abort(dep_run *dr, bool rewind, const char *why)
{
    fprintf(stderr, "streamrun: %s: transaction aborted (%s); %s\n", dr->dep->name, why,
            rewind ? "processing again from the last committed offsets"
                   : "the partitions' next owner processes again from the last committed offsets");
    kr_task_stats_mark(dr, true); /* aborted or not, nothing of it is committed */
    rd_kafka_error_t *e;
    TXN_RETRY(dr, e, rd_kafka_abort_transaction(dr->producer, TXN_TIMEOUT_MS));
    if (e) {
        /* the producer cannot end the transaction: a new one's start will */
        char w[1024];
        snprintf(w, sizeof(w), "%s; then the abort failed: %s", why, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return txn_recover(dr, rewind, w);
    }
    dr->txn_open = false;
    pthread_mutex_lock(&dr->lock);
    dr->failed = 0; /* those deliveries were in the aborted transaction */
    pthread_mutex_unlock(&dr->lock);
    __atomic_store_n(&dr->txn_broken, 0, __ATOMIC_RELEASE);
    if (rewind) {
        rewind_tasks(dr);
        kr_rebuild_state(dr); /* the state goes back with the offsets: the committed one */
    }
    kr_forget_processed(dr);
    if (++dr->txn_failures >= TXN_FAILURES) {
        kr_fatal(dr->r, "%s: %d transactions in a row failed, the last: %s", dr->dep->name,
                 dr->txn_failures, why);
        return -1;
    }
    if (rewind) usleep((useconds_t)dr->txn_failures * 200 * 1000); /* let the cause pass */
    kr_txn_begin(dr);
    return -1;
}

/* Commits the open transaction with the offsets processed in it; on failure aborts it (see
 * kr_txn_abort). Returns 0 when committed, or when nothing was processed (the transaction stays
 * open), else -1. */
int kr_txn_commit(dep_run *dr, bool rewind)
{
    assert(dr->eos && dr->txn_open);
    assert(kr_workers_idle(dr));
    if (__atomic_load_n(&dr->txn_broken, __ATOMIC_ACQUIRE))
        return kr_txn_abort(dr, rewind, "a record could not be produced in it");
    rd_kafka_topic_partition_list_t *l = kr_processed_offsets(dr);
    /* outputs made by timers belong to no input offset, but are in the transaction all the
     * same: it is committed for them too */
    if (l->cnt == 0 && __atomic_load_n(&dr->txn_outputs, __ATOMIC_RELAXED) == 0) {
        rd_kafka_topic_partition_list_destroy(l);
        return 0;
    }
    const char *step = "sending the input offsets to it";
    rd_kafka_error_t *e = NULL;
    if (l->cnt) {
        rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata(dr->consumer);
        TXN_RETRY(dr, e, rd_kafka_send_offsets_to_transaction(dr->producer, l, g, TXN_TIMEOUT_MS));
        rd_kafka_consumer_group_metadata_destroy(g);
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (!e) {
        step = "committing it";
        TXN_RETRY(dr, e, rd_kafka_commit_transaction(dr->producer, TXN_TIMEOUT_MS));
    }
    if (!e) {
        dr->txn_open = false;
        dr->txn_failures = 0;
        kr_task_stats_mark(dr, false);
        kr_forget_processed(dr);
        kr_txn_begin(dr);
        return 0;
    }
    char why[640];
    snprintf(why, sizeof(why), "%s failed: %s", step, rd_kafka_error_string(e));
    bool is_fatal = rd_kafka_error_is_fatal(e);
    rd_kafka_error_destroy(e);
    if (is_fatal) return txn_recover(dr, rewind, why);
    return kr_txn_abort(dr, rewind, why);
}

/* At the end of the run: aborts the open transaction — empty after a last commit, or holding
 * what must not be committed after a failure — so that readers need not wait for its timeout. */
void kr_txn_end(dep_run *dr)
{
    if (!dr->eos || !dr->txn_open || rd_kafka_fatal_error(dr->producer, NULL, 0)) return;
    rd_kafka_error_t *e = rd_kafka_abort_transaction(dr->producer, TXN_TIMEOUT_MS);
    if (e) rd_kafka_error_destroy(e);
    dr->txn_open = false;
}
