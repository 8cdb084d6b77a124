/* store.h — in-memory state store of one partition task: a hash map of byte keys to byte values
 * that remembers which keys changed since the last changelog flush, under a process-wide memory
 * budget. Depends only on the C library (and nothing outside runner/base/). */
#ifndef SR_STORE_H
#define SR_STORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- memory budget ----------------------------------------------------------------------
 *
 * One budget for all the stores of a process: a limit in bytes and the bytes the stores hold.
 * Stores on different worker threads share it, so `used` is atomic:
 *   - a store reserves bytes with a compare-and-swap loop that never lets `used` pass `limit`
 *     (two threads racing for the last bytes cannot both get them, and neither is refused
 *     while the other's reservation is only in flight);
 *   - it releases bytes with an atomic subtraction;
 *   - all accesses are relaxed: the counter guards no other memory, it is a number only.
 * A store reserves before it keeps an allocation and releases after it frees one, so `used`
 * is at all times at least what the stores really hold. */
typedef struct sr_mem_budget {
    size_t limit;       /* bytes; SIZE_MAX: no limit. Set by sr_mem_budget_init, then read-only */
    atomic_size_t used; /* bytes held by all stores of the budget */
    atomic_size_t keys; /* live keys in all stores of the budget (for reports: relaxed too) */
    atomic_size_t peak; /* the most `used` has been (for reports: relaxed too) */
} sr_mem_budget;

/* @locality any thread, before any store uses b. */
void sr_mem_budget_init(sr_mem_budget *b, size_t limit);
/* Bytes held by all the stores of b (a snapshot). @locality any thread. */
size_t sr_mem_budget_used(const sr_mem_budget *b);
/* Live keys in all the stores of b (a snapshot). @locality any thread. */
size_t sr_mem_budget_keys(const sr_mem_budget *b);
/* The most bytes the stores of b have held at once (a snapshot). @locality any thread. */
size_t sr_mem_budget_peak(const sr_mem_budget *b);

/* The process's budget for operator state: every store of a stateful step (sr_state_store_open)
 * accounts to it. No limit unless sr_state_budget_limit set one (`--state-memory`). */
sr_mem_budget *sr_state_budget(void);
/* Sets the limit of the process's state budget (bytes; SIZE_MAX: none). @locality the main
 * thread, while no store of the budget exists. */
void sr_state_budget_limit(size_t limit);
/* Parses a size: a whole number of bytes with an optional unit, B, KiB, MiB, GiB, TiB (powers
 * of 1024) or KB, MB, GB, TB (of 1000): "512MiB", "64KiB", "1000000". */
bool sr_parse_size(const char *s, size_t *bytes);

/* ---- store ------------------------------------------------------------------------------
 *
 * A store maps keys to values; both are byte strings with a length (a key may contain NUL
 * bytes; an empty key and an empty value are allowed). The store copies what it is given and
 * owns its copies; the caller keeps ownership of every buffer it passes in.
 *
 * Threads: a store belongs to the one task that created it, and every function below on a
 * store must be called from the thread running that task (@locality task thread); only its
 * budget is shared. Nothing here takes a lock.
 *
 * Changelog: every put and delete marks its key dirty. Changes to a dirty key coalesce: the
 * dirty set holds the latest value of each key, and a deleted key stays in it as a tombstone
 * until the next drain. sr_store_drain() hands out the dirty set in the order the keys first
 * became dirty, then empties it. sr_store_restore() applies a changelog record without
 * marking anything dirty. A changelog record carries the new value, never the operation, so
 * applying a changelog twice leaves the store as applying it once.
 *
 * Memory: a store accounts every byte it allocates (its entries with their keys and values,
 * its tables, its name) as malloc really gives it: malloc_usable_size() of each block plus
 * malloc's per-block header. Each allocation is reserved from the budget first; a put that
 * does not fit fails with a message naming the store, the budget and the usage, and leaves the
 * store unchanged. Nothing here aborts: an allocation that fails is an error message too.
 * Tables double as they fill and shrink when at most an eighth of them is used (after a drain
 * or a restored deletion); a store whose keys are all deleted and drained holds only its own
 * few bytes.
 *
 * Iteration is in insertion order (independent of the hash seed): the order in which the
 * live keys were first put, or restored, since they were last absent; a key deleted and put
 * again before the next drain keeps its place (its tombstone held it).
 *
 * Limits (refused with an error, not truncated): a key below 2 GiB, a value below 4 GiB, fewer
 * than 2^31 entries. Values are stored 8-byte aligned. */
typedef struct sr_store sr_store;

/* Creates an empty store named `name` (copied; used in error messages) accounting to budget
 * (borrowed: it must outlive the store). Returns NULL with a message in err when even the
 * empty store does not fit the budget or memory. Hashes are keyed with a random seed per
 * store (SipHash-1-3), so no one can choose keys that collide. */
sr_store *sr_store_new(const char *name, sr_mem_budget *budget, char *err, size_t errsize);
/* As sr_store_new, but the empty store is taken from the budget even past its limit (used may
 * then exceed limit), so that it fails only for want of memory: for stores a task must have to
 * exist at all. Its first put or restore that needs more memory fails as usual. */
sr_store *sr_store_new_overdraft(const char *name, sr_mem_budget *budget, char *err,
                                 size_t errsize);
/* Frees the store and everything in it (borrowed pointers die) and gives its bytes back to
 * the budget. Dirty changes not drained are lost. NULL is a no-op. @locality task thread */
void sr_store_destroy(sr_store *s);

/* The store's name (owned by the store). @locality any thread while the store lives */
const char *sr_store_name(const sr_store *s);

/* The value of key, or NULL when it is absent (an empty value is a non-NULL pointer with
 * *vlen 0). The pointer is borrowed: it stays valid until the next put, delete or restore of
 * that key (or until the store is destroyed); changes to other keys do not move it.
 * @locality task thread */
const void *sr_store_get(const sr_store *s, const void *key, size_t klen, size_t *vlen);

/* Sets key to value (both copied) and marks key dirty. Returns 0, or -1 with a message in err
 * (budget exceeded, out of memory, a limit) and the store unchanged. Replacing a value
 * accounts the difference between the old and the new allocation. @locality task thread */
int sr_store_put(sr_store *s, const void *key, size_t klen, const void *val, size_t vlen, char *err,
                 size_t errsize);

/* As sr_store_put, but what it allocates is taken from the budget even past its limit (used may
 * then exceed limit): for the few bytes a step keeps beside its records (sr_state_meta_put),
 * which a commit must be able to write whatever the records took. Fails only for want of
 * memory or a limit. @locality task thread */
int sr_store_put_overdraft(sr_store *s, const void *key, size_t klen, const void *val, size_t vlen,
                           char *err, size_t errsize);

/* Deletes key: it becomes a tombstone in the dirty set (its value is freed now, its key at the
 * next drain). Returns 1 when key was present, 0 when it was absent (nothing changes, nothing
 * becomes dirty), -1 with a message when the dirty set could not grow (budget, memory).
 * @locality task thread */
int sr_store_delete(sr_store *s, const void *key, size_t klen, char *err, size_t errsize);

/* Applies one changelog record: sets key to val, or deletes key when val is NULL, without
 * marking key dirty (a key that is dirty already stays dirty, with the restored value or as a
 * tombstone). Returns 0, or -1 with a message as sr_store_put. @locality task thread */
int sr_store_restore(sr_store *s, const void *key, size_t klen, const void *val, size_t vlen,
                     char *err, size_t errsize);

/* Bytes of the store's state that its owner keeps outside it (decoded, between drains),
 * accounted to the store and its budget as if the store held them: sr_store_reserve takes n
 * bytes (with overdraft even past the limit), or fails with a message naming the store as a put
 * does; sr_store_release gives back n of the bytes reserved. Both count in sr_store_bytes. The
 * owner releases all it reserved before the store is destroyed. @locality task thread */
int sr_store_reserve(sr_store *s, size_t n, bool overdraft, char *err, size_t errsize);
void sr_store_release(sr_store *s, size_t n);
/* Counts d more (or, negative, fewer) keys that the owner keeps outside the store and not in it,
 * in the budget's count of keys (sr_mem_budget_keys). @locality task thread */
void sr_store_count_outside(sr_store *s, int d);

/* Live keys (tombstones not counted); dirty keys (tombstones counted). @locality task thread */
size_t sr_store_count(const sr_store *s);
size_t sr_store_dirty_count(const sr_store *s);
/* Bytes this store holds, as accounted to its budget (see Memory above).
 * @locality task thread */
size_t sr_store_bytes(const sr_store *s);

/* Called with one entry; key and val are borrowed for the duration of the call. val is NULL
 * for a tombstone (drain only). A non-zero return stops the walk and is returned. */
typedef int (*sr_store_fn)(void *opaque, const void *key, size_t klen, const void *val,
                           size_t vlen);

/* Calls fn for every live entry in insertion order. fn may put a new value for, or delete,
 * the key it was given; it must not put a key that is absent (the walk would miss it or the
 * tables would move under it). Returns 0 or fn's non-zero. @locality task thread */
int sr_store_foreach(sr_store *s, sr_store_fn fn, void *opaque);

/* Hands out the dirty set, in the order the keys first became dirty since the last drain:
 * each key with its latest value, or val NULL for a deleted key. Each entry fn returns 0 for
 * leaves the dirty set (tombstones are then freed). When fn returns non-zero the drain stops
 * there and returns that value: that entry and the ones after it stay dirty, in their order,
 * for the next drain. fn must not change the store. Returns 0 when the dirty set is empty.
 * @locality task thread */
int sr_store_drain(sr_store *s, sr_store_fn fn, void *opaque);

/* For an owner that keeps the latest state of some keys outside the store between drains
 * (decoded, in its own structures) and puts it into the store only when it is needed: flush is
 * called at the start of every sr_store_drain, before anything is handed out, and there puts
 * (or deletes) what changed, so that a drain always hands out the latest values and the store
 * stays the one source of the changelog. A non-zero return stops that drain before it hands
 * out anything and is returned by it (the flush reports its own reason). NULL removes the hook.
 * @locality task thread */
void sr_store_set_flush(sr_store *s, int (*flush)(void *opaque), void *opaque);

/* ---- hash -------------------------------------------------------------------------------
 * SipHash (Aumasson and Bernstein) with a 128-bit key, 64-bit result: 2-4 is the reference
 * variant (checked against the paper's test vectors), 1-3 the one the store uses. */
uint64_t sr_siphash24(const uint8_t key[16], const void *p, size_t n);
uint64_t sr_siphash13(const uint8_t key[16], const void *p, size_t n);

#endif
