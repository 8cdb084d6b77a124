/* task.h — one instance of a deployment's operator chain for one input partition: the runners'
 * side of a task. Operators see tasks only through load/operator.h. */
#ifndef SR_TASK_H
#define SR_TASK_H

#ifdef SR_OPERATOR_SOURCE
#error "operators use the interface of load/operator.h, not the task's insides (exec/task.h)"
#endif

#include "load/topology.h"

#include <stdio.h>
#include <string.h>

/* An output the task staged during the current batch: key, value and
 * headers are in the task's output buffer (offsets), ready to produce. */
typedef struct sr_out {
    const sr_topic *topic;
    int32_t partition; /* -1: chosen by key */
    int64_t ts;
    size_t key_off;
    int32_t key_len; /* -1: null key */
    size_t val_off;
    size_t val_len;
    size_t hdr_off; /* headers as (u32 nlen, name, i32 vlen, val)* */
    uint32_t nhdr;
    size_t hdr_len;
    bool val_null; /* a null value (the dead letter of a tombstone); val_len is 0 */
} sr_out;

/* What became of a task's inputs. Every input is counted once in `in` and once in exactly one
 * of delivered, filtered and dead, so in == delivered + filtered + dead:
 * - delivered: it made at least one record that reached the end of the pipeline (written to a
 *   topic, or the end of a pipeline that has no output);
 * - filtered: it failed nowhere but nothing it made got through (a filter, a route no case of
 *   which matched, an explode of an empty array);
 * - dead: it failed (dead-lettered, or counted in dropped_errors without a deadLetter topic).
 * `out` counts the records written to topics (dead letters apart); one input may make several
 * (explode, route with mode all), so out may exceed in. */
typedef struct sr_task_stats {
    uint64_t in, delivered, filtered, dead;
    uint64_t out;
    /* records a step emitted from a hook (on_timer...) that failed downstream, and hooks that
     * failed: dead-lettered (or counted in dropped_errors without a deadLetter topic), outside
     * in, as they come from no input */
    uint64_t emit_dead;
} sr_task_stats;

/* Prints counts as the summaries of run and up do: "N in (D delivered, F filtered, X
 * dead-lettered), O out", with delivered = in - filtered - dead. */
void sr_print_counts(FILE *fp, uint64_t in, uint64_t filtered, uint64_t dead, uint64_t out);
/* Prints ", " and the report of each step of d that has one (operator.h: report), such as its
 * records with no match, for the same summaries: the reports of one line, those that do not end
 * with a newline. @locality any; @locks what the steps' report hooks take. */
void sr_print_reports(FILE *fp, const sr_deployment *d);
/* Prints the reports of several lines (those that end with a newline, such as a model step's
 * KPIs, a line per variant), each line indented by two spaces: after the summary line that
 * sr_print_reports ended. @locality any; @locks what the steps' report hooks take. */
void sr_print_report_lines(FILE *fp, const sr_deployment *d);

/* A task's timers on one clock: a binary min-heap by (at, seq). */
typedef struct sr_timer_entry {
    sr_timer tm;
    uint64_t seq; /* order of setting: ties fire in it */
    const sr_op *op;
} sr_timer_entry;

typedef struct sr_timer_heap {
    sr_timer_entry *v;
    size_t n, cap;
} sr_timer_heap;

struct sr_task {
    const sr_topology *topo;
    const sr_deployment *dep;
    int32_t partition;
    sr_arena arena;          /* scratch for the current record (or batch) */
    const sr_origin *origin; /* input being processed */
    int64_t now_ms;          /* clock for now(): wall clock, or the test clock */
    /* error of the current input */
    const sr_op *err_op;
    char err[512];
    /* outputs staged in this batch */
    sr_buf obuf;
    sr_out *outs;
    size_t nouts, capouts;
    sr_task_stats stats;
    sr_task_stats stats_committed; /* the runner's: stats at the last commit (an aborted
                                      transaction's records are counted again when redone) */
    bool reached_end; /* a record of the current input got to the end of the pipeline */
    /* records with no dead-letter topic to go to: counted and logged */
    uint64_t dropped_errors;
    int log_budget;            /* rate limit for error logs */
    void *user;                /* the runner's */
    const sr_file_sink *files; /* NULL: write steps write their files; else captured (borrowed) */
    /* what one produced record may take (the producer's message.max.bytes), 0: no limit. An
     * output over it fails its input; a dead letter over it is cut to fit (sr_task_dead_letter) */
    size_t max_msg_bytes;
    /* per-task operator state, by sr_op.slot (NULL for steps without state_size) */
    void **state;
    int nstate; /* dep->nops when opened */
    /* time (operator.h): stream time, and the timers on each clock (by sr_timer_kind) */
    int64_t stream_time;
    sr_timer_heap timers[2];
    uint64_t timer_seq;
    const sr_op *hook_op;  /* the step whose on_timer runs now, else NULL */
    const char *hook_what; /* what it runs for, for a dead letter's reason */
    sr_buf hook_rec;       /* the record it emitted, as JSON, until it has gone through */
    uint64_t dead_staged;  /* dead letters staged so far (to tell them from outputs) */
    bool ended;            /* sr_task_end was called */
    /* the state stores the steps registered (sr_task_add_store), in the order they did */
    struct sr_task_store *stores;
    int nstores, capstores;
};

/* One state store of a task: the step it belongs to, and the store (owned by that step); its
 * signature and the format it hashes (sr_state_signature), for the changelog. */
typedef struct sr_task_store {
    const sr_op *op;
    struct sr_store *store;
    char signature[17]; /* 16 hex digits */
    char *format;       /* owned */
    bool copy_due; /* its state was copied from a renamed store's changelog: the changelog's mark
                      of a complete copy is due at the next drain (kafka/changelog.c) */
} sr_task_store;

/* The signature of op's state (16 hex digits and a NUL into sig): a SipHash, under a fixed key,
 * of the operator's name and what its state_format hook writes (nothing without one), which goes
 * to *format when not NULL (malloc'd: the caller frees it). The same in every process and build.
 * @locality any; @locks none */
void sr_state_signature(const sr_op *op, char sig[17], char **format);

/* Makes t the task of dep for partition and opens every step of dep's chain in order (their
 * state, open()). @locality the thread that will own t (or before t is handed to it). */
void sr_task_init(sr_task *t, const sr_topology *topo, const sr_deployment *dep, int32_t partition);
/* Closes every step of t's chain in reverse order (close(), then their state is freed) and
 * frees t's buffers. Staged outputs not taken are dropped. @locality the thread that owns t. */
void sr_task_destroy(sr_task *t);

/* Feeds one input record. A record of a topic a step keeps a table of (operator.h:
 * table_topic) updates that table instead (it does not move stream time). Otherwise: moves
 * stream time to its timestamp (when later), parses origin->raw
 * as JSON (or takes `value` when not NULL, e.g. a CSV row already built), runs the chain, and
 * stages the outputs. A record that fails anywhere is dead-lettered with the reason, and
 * whatever it had produced is withdrawn. Then fires the event-time timers that are due, in
 * order, staging what they emit too. Returns 0 if processed, 1 if dead-lettered. Never fails
 * the run. @locality the thread that owns t. */
int sr_task_feed(sr_task *t, const sr_origin *origin, const sr_value *value);
/* Feeds one row read from a source file (struct sr_readrec, source.h): a row
 * that could not be read is dead-lettered with its file and line; otherwise
 * its key and event time come from the source's key and timestamp fields
 * (the event time defaults to now_ms). Key text goes to scratch, which must
 * live until the task's outputs are taken. Returns what sr_task_feed does. */
struct sr_readrec;
int sr_task_feed_row(sr_task *t, const sr_source *src, const struct sr_readrec *rec,
                     sr_arena *scratch, int64_t now_ms);
/* Records an input that failed (also before it became a record: a bad CSV row...): stages its
 * dead letter (the original value, key and headers, plus streamrun.* headers with the reason and
 * the source), or counts and logs it when the deployment has no deadLetter topic. A dead letter
 * over max_msg_bytes is cut to fit, never dropped: the value first (streamrun.source.size then
 * holds the original size), then the input's headers, then the key; the reason says what was
 * cut. A tombstone's dead letter has a null value. */
void sr_task_dead_letter(sr_task *t, const sr_origin *origin, const char *op, const char *reason);

/* Moves t's wall clock to now_ms and fires the wall-clock timers due by then, in order; what
 * they emit is staged as outputs, to be taken like a record's (then sr_task_batch_done).
 * Returns the number of timers fired. The in-process runner (local.c) ticks after each input
 * record and when the test clock moves; under `up`, the Kafka runtime calls it from the worker
 * that owns the task, between batches. @locality the thread that owns t; @locks none. */
int sr_task_tick(sr_task *t, int64_t now_ms);
/* When t's earliest wall-clock timer is due, or INT64_MAX when it has none: a runner need not
 * tick t before then. @locality the thread that owns t. */
int64_t sr_task_next_tick(const sr_task *t);

/* End of input (`run` and `test`, once every input was fed): runs every step's on_end, in
 * chain order; what they emit is staged as outputs, to be taken like a record's. Pending
 * timers do not fire. Call once per task, before its final outputs are taken and before
 * sr_task_destroy. @locality the thread that owns t. */
void sr_task_end(sr_task *t);

/* Before a commit drains t's stores (their dirty sets go to the changelogs): every step writes
 * into its store what it keeps beside it (its checkpoint hook), in chain order. Returns 0, or -1
 * with the reason in t->err (a step's store refused the write: the memory budget).
 * @locality the thread that owns t. */
int sr_task_checkpoint(sr_task *t);
/* After the runner restored every store of a freshly opened t (sr_store_restore of each
 * changelog record), before any input: every step rebuilds what it keeps beside its store (its
 * restored hook), in chain order. @locality the thread that owns t. */
void sr_task_restored(sr_task *t);

/* After the runner has taken the staged outputs: drops them and resets the
 * batch arena. */
void sr_task_batch_done(sr_task *t);

/* Appends one header as sr_out holds them: u32 name length, name, i32 value length (-1: no
 * value), value. */
void sr_header_put(sr_buf *b, const char *name, size_t nlen, const char *val, size_t vlen);

/* Reads the header at h (as sr_header_put lays it out) into *out, which borrows from h; returns
 * where the next one starts. */
static inline const char *sr_header_next(const char *h, sr_header *out)
{
    uint32_t nlen;
    int32_t vlen;
    memcpy(&nlen, h, 4);
    out->name = h + 4;
    out->nlen = nlen;
    h += 4 + nlen;
    memcpy(&vlen, h, 4);
    out->val = vlen < 0 ? NULL : h + 4;
    out->vlen = vlen < 0 ? 0 : (uint32_t)vlen;
    return h + 4 + (vlen < 0 ? 0 : vlen);
}

/* Record key as text, for partitioning and for output. */
static inline const char *sr_out_key(const sr_task *t, const sr_out *o)
{
    return o->key_len < 0 ? NULL : t->obuf.d + o->key_off;
}

#endif
