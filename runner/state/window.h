/* window.h — window assignment, session merging and lateness: pure arithmetic on event times. */
#ifndef SR_WINDOW_H
#define SR_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Semantics (the README's "Windows and aggregates (semantics)" states the same):
 *
 * - Event time t is an integer number of milliseconds since the epoch, t >= 0. A negative
 *   event time belongs to no window: every assignment function refuses it with a reason (the
 *   caller dead-letters the record), none drops it silently.
 * - Every window is half-open, [start, end), in ms, start >= 0, and end must be representable
 *   (end <= INT64_MAX): a record whose window would end past 2^63 - 1 ms is refused with a reason.
 * - Tumbling (step = size) and hopping (size, step) windows are aligned to the epoch: a record at
 *   t belongs to every [s, s + size) with s a multiple of step, s >= 0 and s <= t < s + size.
 *   When step does not divide size the windows still start at multiples of step; when
 *   step > size there are gaps, and a record in a gap belongs to no window (not an error: the
 *   iterator is simply empty, and the caller reports the record).
 * - Count windows are the same arithmetic over the record's index n (0, 1, 2, ... in arrival
 *   order, per key) instead of t: tumbling by count is size = step = N. A count window is
 *   complete when the record with index end - 1 has been added; count windows have no grace
 *   and no lateness.
 * - Sliding windows: one window per record, over the preceding size, with both ends inclusive
 *   as Kafka Streams' SlidingWindows and Quix Streams' sliding windows define it (both say "the
 *   time difference is inclusive": a record at u is in the window of the record at t when
 *   t - size <= u <= t). Reason: the systems streamrun replaces produce these windows, so the
 *   same data gives the same aggregates. In the half-open form used everywhere here the window
 *   of t is [max(0, t - size), t + 1); Kafka Streams and Quix print that window as
 *   [t - size, t] (end inclusive), streamrun as start = t - size, end = t + 1.
 * - Session windows: a session is the half-open [first, last + 1) over the event times of its
 *   records. A record at t joins every open session with first - gap <= t <= last + gap (a gap
 *   of exactly `gap` ms still joins, as in Kafka Streams), and joining several merges them into
 *   one. A session already closed is never reopened: a record within gap of it starts a new
 *   session (or is late, by the rule below).
 * - Stream time is the largest event time the operator has seen in the partition.
 * - A window closes once stream time >= end + grace (a session: end + gap + grace, the first
 *   stream time at which no record could still join it on time). A record for a closed window
 *   is late by stream time - close time + 1 ms (>= 1): how far stream time had passed the last
 *   moment the window was open. Close times saturate at INT64_MAX.
 */

typedef struct sr_window {
    int64_t start, end; /* [start, end), ms (or record indexes for count windows) */
} sr_window;

/* An iterator over the tumbling/hopping/count windows of one record, in ascending start. */
typedef struct sr_window_iter {
    int64_t next, last; /* starts still to yield: next, next + step, ..., last */
    int64_t size, step;
    bool done;
} sr_window_iter;

/* Prepares *it to yield every window [s, s + size) with s a multiple of step, s >= 0 and
 * s <= t < s + size (t is an event time in ms, or a record index for count windows).
 * Returns 0, or -1 with a reason in err when t < 0, size < 1, step < 1, or the last window's
 * end would pass INT64_MAX. No arithmetic overflows for any int64 inputs. */
int sr_windows_of(sr_window_iter *it, int64_t t, int64_t size, int64_t step, char *err,
                  size_t errsize);
/* Stores the next window in *w and returns true, or returns false when there is none left. */
bool sr_window_next(sr_window_iter *it, sr_window *w);
/* How many windows the iterator still holds (0 when t is in a gap). */
int64_t sr_window_iter_count(const sr_window_iter *it);

/* Count windows: true when the record at index n completes w (n == w.end - 1). */
static inline bool sr_count_window_full(sr_window w, int64_t n)
{
    return n == w.end - 1;
}

/* The sliding window of a record at t: [max(0, t - size), t + 1). Returns 0, or -1 with a
 * reason when t < 0, size < 0 or t == INT64_MAX (end not representable). */
int sr_sliding_window(int64_t t, int64_t size, sr_window *w, char *err, size_t errsize);
/* True when a record at u (>= 0) belongs to the window w: start <= u < end. For a sliding
 * window that is t - size <= u <= t (the clamp of start at 0 excludes only negative times). */
static inline bool sr_window_contains(sr_window w, int64_t u)
{
    return w.start <= u && u < w.end;
}

/* The sliding windows a record at u belongs to are those of the records at e with
 * u <= e <= u + size: stores that range of e in *lo and *hi (hi saturates at INT64_MAX - 1, the
 * largest time with a sliding window). For an out-of-order record: the windows of later records
 * that it updates. Returns 0, or -1 with a reason when u < 0, u == INT64_MAX or size < 0. */
int sr_sliding_owners(int64_t u, int64_t size, int64_t *lo, int64_t *hi, char *err, size_t errsize);

/* Session placement. sessions[0..n) are the key's open sessions (half-open, any order,
 * pairwise more than gap apart as this function leaves them; if they are not, sessions
 * reached through the merged bounds are merged too). For a record at t, sets merge[i] true for
 * every session the record joins (false for the others), stores the bounds of the session the
 * record ends up in (the union of the joined sessions and [t, t + 1)) in *out, and returns how
 * many sessions are merged: 0 means a new session [t, t + 1). Returns -1 with a reason when
 * t < 0, t == INT64_MAX or gap < 0. merge may be NULL when n == 0. */
int sr_session_assign(const sr_window *sessions, size_t n, int64_t t, int64_t gap, bool *merge,
                      sr_window *out, char *err, size_t errsize);

/* Close times (saturating at INT64_MAX): a time window closes at end + grace, a session at
 * end + gap + grace. grace and gap are >= 0. */
int64_t sr_window_close_time(sr_window w, int64_t grace);
int64_t sr_session_close_time(sr_window w, int64_t gap, int64_t grace);

/* True when a window closing at close_time is closed at stream_time. */
static inline bool sr_window_closed(int64_t close_time, int64_t stream_time)
{
    return stream_time >= close_time;
}

/* 0 when a record may still go into a window that closes at close_time (the window is open
 * at stream_time), else how late it is in ms: stream_time - close_time + 1 (>= 1). The caller
 * passes the stream time including the record itself (max(stream time, t)); for a record in
 * the window that is the same, since t < end <= close_time. */
int64_t sr_late_by(int64_t close_time, int64_t stream_time);

/* Stream time after a record at t: the largest event time seen. */
static inline int64_t sr_stream_time_advance(int64_t stream_time, int64_t t)
{
    return t > stream_time ? t : stream_time;
}

#endif
