/* window_sliding.h — the state of a sliding window step (type: sliding): the records of each key
 * within reach of stream time, kept in the step's store, and the windows they make. The
 * arithmetic is runner/state/window.h's (sr_sliding_window), the aggregates agg.h's. */
#ifndef SR_WINDOW_SLIDING_H
#define SR_WINDOW_SLIDING_H

#include "stateful.h"

/* Semantics (the README's "Windows and aggregates (semantics)" states the same):
 *
 * - The window of a record at t is [max(0, t - size), t + 1): the key's records with event time
 *   u, t - size <= u <= t. Records of one key at the same t share one window.
 * - A record at t that is on time (stream time, itself included, < t + 1 + grace) opens its
 *   window (or joins the one of its time) and joins every open window of its key's later
 *   records within size (t < e <= t + size). A record whose own window is closed still counts in
 *   the open windows of later records; one with no open window at all is late.
 * - A window closes once stream time >= end + grace = t + 1 + grace: with emit final it is
 *   written then, with the aggregates of its records in (event time, arrival) order; with emit
 *   update it is written after every record that joins it, and not again at its close.
 * - Store (one entry per record key; key: 'l' + the record key (sr_key_put)): an 8-byte
 *   big-endian arrival counter, the earliest t whose window is open (8 bytes; -1: none; a
 *   close walk reads only this and the first record's t of a key with nothing due), then the
 *   key's records sorted by (t, seq), each 8 bytes t,
 *   8 bytes seq, 1 flag byte (1: its window is open), 4 bytes length and the JSON array of the
 *   record's aggregate inputs. A record is dropped from it once it can belong to no open window
 *   and to no window a record on time could still open: t < stream - grace - size and before
 *   the start of every window of the key still open. The step's own keys (its checkpoint, "m")
 *   do not start with 'l'. */

/* A sliding window step's settings, borrowed from the step for the duration of a call. */
typedef struct sr_sliding {
    int64_t size, grace; /* ms; size >= 1, grace >= 0 */
    bool update;         /* emit: update */
    const sr_aggspecs *aggs;
} sr_sliding;

/* Adds record r (event time et, its aggregate inputs vals as sr_aggspecs_eval made them) to the
 * key's state in s, at stream time stream (>= et, the record included). Creates or joins its
 * window and joins the open windows of later records; with emit update writes each window it
 * joined (sr_emit). A record that is late for every window, that an aggregate refuses in one of
 * its windows, or that the store cannot hold changes nothing and returns -1 with the reason set
 * (sr_task_fail); otherwise 0. Lowers *min_close to the close time of a window it opens.
 * @locality task thread */
int sr_sliding_add(sr_task *t, const sr_op *op, const sr_sliding *sw, sr_store *s,
                   const sr_record *r, const sr_value *vals, int64_t et, int64_t stream,
                   int64_t *min_close);

/* Closes the windows whose close time is at most stream (all: every open window), writing
 * each (emit final) with sr_emit, and drops the records that can belong to no open window any
 * more. Sets *min_close to the earliest close time left (INT64_MAX: none) and *max_close to the
 * latest close time of a window it closed (-1: none). Returns 0, or -1 with the reason set.
 * @locality task thread (from a timer or the end-of-input hook) */
int sr_sliding_close(sr_task *t, const sr_op *op, const sr_sliding *sw, sr_store *s, int64_t stream,
                     bool all, int64_t *min_close, int64_t *max_close);

/* The earliest close time among the open windows in s (INT64_MAX: none), after a restore.
 * @locality task thread */
int64_t sr_sliding_earliest_close(const sr_sliding *sw, sr_store *s);

#endif
