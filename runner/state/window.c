/* window.c — window assignment, session merging and lateness (semantics in window.h). */
#include "state/window.h"
#include "state/state_int.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

int sr_state_fail(char *err, size_t errsize, const char *fmt, ...)
{
    if (errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsize, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int sr_windows_of(sr_window_iter *it, int64_t t, int64_t size, int64_t step, char *err,
                  size_t errsize)
{
    it->done = true;
    it->size = size;
    it->step = step;
    it->next = it->last = 0;
    if (t < 0) return sr_state_fail(err, errsize, "negative event time %" PRId64, t);
    if (size < 1 || step < 1)
        return sr_state_fail(
            err, errsize, "window size %" PRId64 " and step %" PRId64 " must be >= 1", size, step);
    int64_t last = t - t % step; /* the largest multiple of step <= t */
    /* the smallest start s with t < s + size is t - size + 1 (no overflow: t >= 0, size >= 1) */
    int64_t lo = t - size + 1, first;
    if (lo <= 0) {
        first = 0;
    } else {
        int64_t down = lo - lo % step;
        if (down == lo)
            first = lo;
        else if (down == last)
            return 0; /* t is in a gap between windows (step > size) */
        else
            first = down + step; /* down < last, so down + step <= last: no overflow */
    }
    if (first > last) return 0;
    if (last > INT64_MAX - size)
        return sr_state_fail(err, errsize,
                             "event time %" PRId64 " is too large for windows of %" PRId64
                             " ms: the window would end past 2^63-1",
                             t, size);
    it->next = first;
    it->last = last;
    it->done = false;
    return 0;
}

bool sr_window_next(sr_window_iter *it, sr_window *w)
{
    if (it->done) return false;
    assert(it->next <= it->last && it->last <= INT64_MAX - it->size);
    w->start = it->next;
    w->end = it->next + it->size;
    if (it->next > it->last - it->step)
        it->done = true; /* next + step would pass last */
    else
        it->next += it->step;
    return true;
}

int64_t sr_window_iter_count(const sr_window_iter *it)
{
    return it->done ? 0 : (it->last - it->next) / it->step + 1;
}

int sr_sliding_window(int64_t t, int64_t size, sr_window *w, char *err, size_t errsize)
{
    if (t < 0) return sr_state_fail(err, errsize, "negative event time %" PRId64, t);
    if (size < 0) return sr_state_fail(err, errsize, "window size %" PRId64 " must be >= 0", size);
    if (t == INT64_MAX)
        return sr_state_fail(
            err, errsize, "event time %" PRId64 " is too large: the window would end past 2^63-1",
            t);
    w->start = t > size ? t - size : 0;
    w->end = t + 1;
    return 0;
}

int sr_sliding_owners(int64_t u, int64_t size, int64_t *lo, int64_t *hi, char *err, size_t errsize)
{
    sr_window w;
    if (sr_sliding_window(u, size, &w, err, errsize)) return -1;
    *lo = u;
    *hi = u > INT64_MAX - 1 - size ? INT64_MAX - 1 : u + size;
    return 0;
}

int sr_session_assign(const sr_window *sessions, size_t n, int64_t t, int64_t gap, bool *merge,
                      sr_window *out, char *err, size_t errsize)
{
    if (t < 0) return sr_state_fail(err, errsize, "negative event time %" PRId64, t);
    if (t == INT64_MAX)
        return sr_state_fail(
            err, errsize, "event time %" PRId64 " is too large: the session would end past 2^63-1",
            t);
    if (gap < 0) return sr_state_fail(err, errsize, "session gap %" PRId64 " must be >= 0", gap);
    assert(n == 0 || merge);
    for (size_t i = 0; i < n; i++) merge[i] = false;
    /* the merged session as inclusive times [lo, hi]; a session [a, b) joins when
     * a - gap <= hi and lo <= (b - 1) + gap, written as differences of non-negative times so
     * that nothing overflows; repeat until nothing more joins (one pass when the sessions are
     * more than gap apart, as this function leaves them) */
    int64_t lo = t, hi = t;
    int joined = 0;
    for (bool grew = true; grew;) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            if (merge[i]) continue;
            int64_t a = sessions[i].start, last = sessions[i].end - 1;
            assert(a >= 0 && last >= a);
            if (a - hi <= gap && lo - last <= gap) {
                merge[i] = true;
                joined++;
                if (a < lo) lo = a;
                if (last > hi) hi = last;
                grew = true;
            }
        }
    }
    out->start = lo;
    out->end = hi + 1;
    return joined;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    assert(b >= 0);
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

int64_t sr_window_close_time(sr_window w, int64_t grace)
{
    return sat_add(w.end, grace);
}

int64_t sr_session_close_time(sr_window w, int64_t gap, int64_t grace)
{
    return sat_add(sat_add(w.end, gap), grace);
}

int64_t sr_late_by(int64_t close_time, int64_t stream_time)
{
    if (stream_time < close_time) return 0;
    /* close_time >= 0 for every window, so the difference fits; + 1 saturates */
    int64_t d = stream_time - close_time;
    return d == INT64_MAX ? INT64_MAX : d + 1;
}
