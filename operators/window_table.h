/* window_table.h — the open time windows of one window step in one task: each (record key,
 * window) with its accumulators decoded, found per record without parsing anything, ordered by
 * close time so that closing costs what closes, and written to the step's store as
 * sr_aggs_save bytes when the store is drained (the changelog) or the window closes. */
#ifndef SR_WINDOW_TABLE_H
#define SR_WINDOW_TABLE_H

#include "stateful.h"
#include "state/window.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Store keys of time windows: 'w' (or the kind set by sr_wtable_set_kind: 'p' for a window
 * step's panes), start and end as 8 bytes big-endian, then the record key (sr_key_put); value:
 * the accumulators (sr_aggs_save). The same layout as before the table: a changelog written by
 * either is read by both.
 *
 * Authority: between drains the table, not the store, holds the latest accumulators of the
 * windows it has changed (they are "dirty"). The table registers itself as the store's flush
 * (sr_store_set_flush), so every sr_store_drain first puts each dirty window into the store,
 * in the order the windows first became dirty; a closed window is deleted from the store when
 * it closes. Whoever drains the store (the changelog) therefore sees every change as a put or
 * delete of the new value, as with any store, and needs to know nothing of the table.
 * Conversely the table is built from what the store holds (sr_wtable_index: after a restore).
 *
 * Order: each window gets a number when it enters the table (created by a record, or indexed
 * from the store, in the store's order); windows that close together are handed out in that
 * order, which is the order the store itself would list them in.
 *
 * Memory: the table charges what it holds to its store (sr_store_reserve), so the store's
 * budget counts it: a record's new windows (and a new key) are charged before they are made
 * (sr_wtable_cost: the caller reserves, and refuses the record when that does not fit); the
 * memory an open window's accumulators gain is charged when it is flushed, past the budget's
 * limit if need be, as are the store's copies that a flush writes (a commit never fails for the
 * budget). So the budget may be passed by what open windows gained within one commit interval,
 * and the next record that needs a new window is refused. A window not in the store yet counts
 * as one of the budget's keys (sr_store_count_outside), as it will when it is.
 *
 * Threads: a table belongs to one task, like its store (@locality task thread); no locks. */

typedef struct sr_wtable sr_wtable;
typedef struct sr_wkey sr_wkey;

/* One open window of one key. accs[0..aggs->n) are its accumulators (owned by the table). */
typedef struct sr_wentry {
    sr_window win;
    int64_t close;       /* its close time */
    uint64_t order;      /* when it entered the table (see Order above) */
    sr_wkey *key;        /* its record key's entry */
    uint32_t heap;       /* its place in the close-time heap */
    uint32_t dirty : 31; /* 1 + its place in the dirty list; 0: the store has its state */
    uint32_t stored : 1; /* the store has a key for it (flushed, or restored) */
    size_t acct;         /* bytes charged to the store's budget for it */
    sr_agg accs[];
} sr_wentry;

/* An empty table of windows with the accumulators aggs (borrowed: it outlives the table) that
 * close at end + grace, kept in store (borrowed; the table registers its flush there and removes
 * it when destroyed). label names the step in flush errors (copied). */
sr_wtable *sr_wtable_new(const sr_aggspecs *aggs, int64_t grace, sr_store *store,
                         const char *label);
/* The first byte of the table's store keys: 'w' (the default) or another kind of entry (a
 * window step's panes: 'p'). Set before the table holds anything. */
void sr_wtable_set_kind(sr_wtable *wt, char kind);
/* Frees the table and its windows (unflushed changes are lost, as a store's undrained ones).
 * NULL is a no-op. */
void sr_wtable_destroy(sr_wtable *wt);

/* Adds to the table every time window the store holds (keys 'w') that is not in it yet, in
 * the store's order, decoded: done once after the store was restored, before the first record.
 * Returns 0, or -1 with a reason (a state that cannot be decoded). */
int sr_wtable_index(sr_wtable *wt, sr_arena *ar, char *err, size_t errsize);

/* The entry of the record key whose sr_key_put bytes are kb[0..klen): NULL when it has no open
 * window, unless create (then a new entry with none, which the caller gives a window at once with
 * sr_wtable_add: a key entry is freed with its last window; the caller reserved its cost). */
sr_wkey *sr_wtable_key(sr_wtable *wt, const void *kb, size_t klen, bool create);
/* The key's open window that starts at start, or NULL. k may be NULL (no window). */
sr_wentry *sr_wtable_find(const sr_wkey *k, int64_t start);
/* The key's open windows from the first that starts at or after start, in ascending start:
 * *n of them (borrowed: valid until a window of k is added, closed or dropped). k may be NULL
 * (none). */
sr_wentry *const *sr_wtable_from(const sr_wkey *k, int64_t start, size_t *n);
/* Bytes to reserve from the store (sr_store_reserve) before adding that many windows and,
 * when new_key_len is not 0, creating a key of that many bytes. */
size_t sr_wtable_cost(const sr_wtable *wt, size_t windows, size_t new_key_len);
/* A new empty window win of key k (which has no window starting at win.start yet); marked
 * dirty. The caller reserved its cost (sr_wtable_cost). */
sr_wentry *sr_wtable_add(sr_wtable *wt, sr_wkey *k, sr_window win);
/* Notes that e's accumulators changed: the store gets them at the next flush. */
void sr_wtable_touch(sr_wtable *wt, sr_wentry *e);
/* Removes e without touching the store (a window added for a record that then failed). */
void sr_wtable_drop(sr_wtable *wt, sr_wentry *e);

/* The record key of e (borrowed from the table: valid until e is closed or dropped). */
sr_value sr_wtable_record_key(const sr_wentry *e);

/* Takes out of the close order every window with close <= upto (all: every window), and
 * stores them in *out (an array in ar) in the order they entered the table; returns how many.
 * Each must then be closed (sr_wtable_close) or put back (sr_wtable_requeue). */
size_t sr_wtable_due(sr_wtable *wt, int64_t upto, bool all, sr_arena *ar, sr_wentry ***out);
/* Deletes e's window from the store and frees e. Returns 0, or -1 with the store's reason (e is
 * then still in the table, out of the close order: requeue it). */
int sr_wtable_close(sr_wtable *wt, sr_wentry *e, char *err, size_t errsize);
/* Puts a window sr_wtable_due took out back into the close order. */
void sr_wtable_requeue(sr_wtable *wt, sr_wentry *e);
/* The earliest close time of the open windows, INT64_MAX when there is none. */
int64_t sr_wtable_min_close(const sr_wtable *wt);
/* Open windows in the table. */
size_t sr_wtable_count(const sr_wtable *wt);

/* Puts every dirty window into the store (what the store's drain calls first). Returns 0, or
 * -1 with the store's reason (the windows not written stay dirty). */
int sr_wtable_flush(sr_wtable *wt, char *err, size_t errsize);

/* Heap bytes the table holds beyond its windows' accumulators (entries, key entries, hash
 * table, close-order heap, dirty list), for measurements. */
size_t sr_wtable_overhead_bytes(const sr_wtable *wt);

#endif
