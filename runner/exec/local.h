/* local.h — runs deployments in-process with no broker: records flow from topic to topic at once.
 */
#ifndef SR_LOCAL_H
#define SR_LOCAL_H

#include "exec/task.h"

typedef struct sr_local sr_local;

/* Called for every record written to a topic (by a deployment, or injected
 * with input=true). The record's bytes are in t's output buffer (o), valid
 * during the call only. For injected records t is NULL and o points to a
 * temporary sr_out whose offsets index into `base`. */
typedef void (*sr_local_sink)(void *ud, const sr_topic *topic, int32_t partition, bool input,
                              const char *base, const sr_out *o);

/* A deployment's counts over all its tasks (sr_task_stats says what each means). */
typedef struct sr_local_stats {
    uint64_t in, delivered, filtered, dead, out, dropped_errors, emit_dead;
} sr_local_stats;

/* Creates a runner over topo for the deployments named in only[] (all when
 * nonly is 0). Records delivered to a topic go to every selected deployment
 * that reads it, depth first, so that the output order follows the input
 * order; deployment cycles are impossible (the checker rejects them). */
sr_local *sr_local_new(const sr_topology *topo, const char *const *only, int nonly,
                       sr_local_sink sink, void *ud);
void sr_local_free(sr_local *l);
/* Fixes the clock used by now() and for records without a timestamp (a test
 * clock); without a call, the wall clock. Wall-clock timers due by then fire at once (their
 * records are delivered before the call returns); they are also fired after each input record
 * (sr_local_produce, file sources) by the clock in use. */
void sr_local_set_clock(sr_local *l, int64_t now_ms);
/* Sends what write steps would write to files to sink instead (borrowed: it must outlive l);
 * call before the first record. Without a call, write steps write their files. */
void sr_local_capture_files(sr_local *l, const sr_file_sink *sink);

/* Writes one record to topic as if produced by a client: key NULL for none, val NULL for a
 * tombstone (no value); partition by key (Kafka's murmur2) or round robin. */
void sr_local_produce(sr_local *l, const sr_topic *topic, const char *key, size_t keylen,
                      const char *val, size_t vlen, int64_t ts, const sr_header *hdr,
                      uint32_t nhdr);
/* Runs every selected deployment that has a source: file. Returns 0, or -1
 * after printing an I/O error. */
int sr_local_run_sources(sr_local *l);

/* End of input: once every record was produced and every source run, gives each live task's
 * steps their on_end (sr_task_end), writers' deployments before their readers', and delivers
 * what they emit like any output. Call once, before the final counts are read. */
void sr_local_end(sr_local *l);

/* A commit, as `up` makes one: every live task writes its checkpoint into its stores
 * (sr_task_checkpoint) and their dirty sets are drained into in-memory changelogs, one per store
 * of each task, keeping the latest value of each key (a compacted topic). Returns 0, or -1 with
 * the reason in err (a checkpoint the memory budget refused). Between records only. */
int sr_local_commit(sr_local *l, char *err, size_t errsize);
/* A crash, as after a SIGKILL of `up`: every task is dropped with its timers and the changes
 * since the last commit; their counts are kept. With restore, each task that had state is
 * opened again, its stores restored from their changelogs (sr_store_restore) and its steps told
 * (sr_task_restored); without, the changelogs are lost too and tasks start empty when their
 * next record comes. Feeding again the inputs since the last commit is the caller's. Returns 0,
 * or -1 with the reason in err (a restore the memory budget refused). Between records only. */
int sr_local_crash(sr_local *l, bool restore, char *err, size_t errsize);

void sr_local_get_stats(const sr_local *l, const sr_deployment *d, sr_local_stats *st);
bool sr_local_selected(const sr_local *l, const sr_deployment *d);

/* Kafka's default (murmur2) partition for key. */
/* Appends {"key","value","timestamp","headers"} for an output; a value that
 * is not JSON (a dead letter's original bytes) is written as a string. */
void sr_write_envelope(sr_buf *b, sr_arena *scratch, const char *base, const sr_out *o);

int32_t sr_partition_for_key(const char *key, size_t keylen, int32_t partitions);

#endif
