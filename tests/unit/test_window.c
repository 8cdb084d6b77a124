/* test_window.c — window assignment edge cases, session merging, closing and lateness. */
#include "state/window.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>

/* The windows of t as "s-e s-e ..." (or "error: <reason>"), in a static buffer. */
static const char *wins(int64_t t, int64_t size, int64_t step)
{
    static char out[1024];
    char err[160];
    sr_window_iter it;
    if (sr_windows_of(&it, t, size, step, err, sizeof(err))) {
        snprintf(out, sizeof(out), "error: %s", err);
        return out;
    }
    size_t n = 0;
    out[0] = 0;
    sr_window w;
    while (sr_window_next(&it, &w) && n < sizeof(out) - 64)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%lld-%lld", n ? " " : "",
                              (long long)w.start, (long long)w.end);
    return out;
}

static void test_tumbling_hopping(void)
{
    CHECK_STR(wins(0, 10, 10), "0-10");
    CHECK_STR(wins(9, 10, 10), "0-10");
    CHECK_STR(wins(10, 10, 10), "10-20"); /* end is exclusive */
    CHECK_STR(wins(0, 10, 5), "0-10");    /* no window starts below 0 */
    CHECK_STR(wins(7, 10, 5), "0-10 5-15");
    CHECK_STR(wins(10, 10, 5), "5-15 10-20");
    CHECK_STR(wins(4000, 4000, 2000), "2000-6000 4000-8000");
    /* step does not divide size: starts are multiples of 3 in [t - 9, t] */
    CHECK_STR(wins(11, 10, 3), "3-13 6-16 9-19");
    CHECK_STR(wins(0, 10, 3), "0-10");
    CHECK_STR(wins(2, 10, 3), "0-10");
    CHECK_STR(wins(12, 10, 3), "3-13 6-16 9-19 12-22");
    /* step > size: gaps that belong to no window */
    CHECK_STR(wins(2, 3, 5), "0-3");
    CHECK_STR(wins(3, 3, 5), "");
    CHECK_STR(wins(4, 3, 5), "");
    CHECK_STR(wins(5, 3, 5), "5-8");
    CHECK_STR(wins(1000000000007, 3, 5), "1000000000005-1000000000008");
    CHECK_STR(wins(1000000000008, 3, 5), "");
    sr_window_iter it;
    char err[160];
    CHECK(sr_windows_of(&it, 3, 3, 5, err, sizeof(err)) == 0 && sr_window_iter_count(&it) == 0);
    CHECK(sr_windows_of(&it, 11, 10, 3, err, sizeof(err)) == 0 && sr_window_iter_count(&it) == 3);
}

static void test_errors_and_extremes(void)
{
    CHECK_STR(wins(-1, 10, 10), "error: negative event time -1");
    CHECK_STR(wins(5, 0, 10), "error: window size 0 and step 10 must be >= 1");
    CHECK_STR(wins(5, 10, 0), "error: window size 10 and step 0 must be >= 1");
    /* near INT64_MAX (9223372036854775807): ends are exact or refused, never wrapped */
    CHECK_STR(wins(INT64_MAX - 10, 10, 10), "9223372036854775790-9223372036854775800");
    CHECK_STR(wins(INT64_MAX - 1, 1, 1), "9223372036854775806-9223372036854775807");
    CHECK_STR(wins(INT64_MAX, 1, 1), "error: event time 9223372036854775807 is too large for "
                                     "windows of 1 ms: the window would end past 2^63-1");
    CHECK_STR(wins(INT64_MAX, 10, 10), "error: event time 9223372036854775807 is too large for "
                                       "windows of 10 ms: the window would end past 2^63-1");
    CHECK_STR(wins(INT64_MAX - 3, 3, 4), "9223372036854775804-9223372036854775807");
    CHECK_STR(wins(INT64_MAX - 3, 4, 4), "error: event time 9223372036854775804 is too large for "
                                         "windows of 4 ms: the window would end past 2^63-1");
    CHECK_STR(wins(INT64_MAX - 5, 3, 4), "9223372036854775800-9223372036854775803");
    CHECK_STR(wins(INT64_MAX - 4, 3, 4), ""); /* in a gap */
    CHECK_STR(wins(INT64_MAX, INT64_MAX, INT64_MAX), "error: event time 9223372036854775807 is "
                                                     "too large for windows of "
                                                     "9223372036854775807 ms: the window would "
                                                     "end past 2^63-1");
    CHECK_STR(wins(5, INT64_MAX, INT64_MAX), "0-9223372036854775807");
    CHECK_STR(wins(INT64_MAX - 1, INT64_MAX, INT64_MAX), "0-9223372036854775807");
    /* step 1 and 100 windows up to the largest end: the iterator stops without overflow */
    sr_window_iter it;
    char err[160];
    CHECK(sr_windows_of(&it, INT64_MAX - 100, 100, 1, err, sizeof(err)) == 0);
    CHECK(sr_window_iter_count(&it) == 100);
    sr_window w = {0, 0}, first = {0, 0};
    int n = 0;
    while (sr_window_next(&it, &w))
        if (n++ == 0) first = w;
    CHECK(n == 100);
    CHECK(first.start == INT64_MAX - 199 && first.end == INT64_MAX - 99);
    CHECK(w.start == INT64_MAX - 100 && w.end == INT64_MAX);
    CHECK(!sr_window_next(&it, &w));
    /* a step that would pass INT64_MAX from the last start */
    CHECK(sr_windows_of(&it, INT64_MAX - 2, 2, INT64_MAX / 2, err, sizeof(err)) == 0);
    n = 0;
    while (sr_window_next(&it, &w)) n++;
    CHECK(n == 0 || (w.end <= INT64_MAX && w.start >= 0));
}

/* Every assignment against brute force over small parameters. */
static void test_brute_force(void)
{
    int bad = 0;
    for (int64_t size = 1; size <= 13; size++)
        for (int64_t step = 1; step <= 17; step++)
            for (int64_t t = 0; t <= 60; t++) {
                sr_window_iter it;
                char err[160];
                if (sr_windows_of(&it, t, size, step, err, sizeof(err))) {
                    bad++;
                    continue;
                }
                int64_t expect_n = 0;
                for (int64_t s = 0; s <= t; s += step)
                    if (s <= t && t < s + size) expect_n++;
                if (sr_window_iter_count(&it) != expect_n) bad++;
                sr_window w;
                int64_t got = 0, prev = -1;
                while (sr_window_next(&it, &w)) {
                    got++;
                    if (w.start % step || w.start > t || t >= w.end || w.end - w.start != size ||
                        w.start <= prev)
                        bad++;
                    prev = w.start;
                }
                if (got != expect_n) bad++;
            }
    CHECK(bad == 0);
}

static void test_count_windows(void)
{
    /* tumbling by 3 records: indexes 0..2 in [0, 3), complete at index 2 */
    CHECK_STR(wins(2, 3, 3), "0-3");
    CHECK(sr_count_window_full((sr_window){0, 3}, 2));
    CHECK(!sr_count_window_full((sr_window){0, 3}, 1));
    /* hopping: 3 records every record */
    CHECK_STR(wins(4, 3, 1), "2-5 3-6 4-7");
    CHECK(sr_count_window_full((sr_window){2, 5}, 4));
    CHECK(!sr_count_window_full((sr_window){3, 6}, 4));
}

static void test_sliding(void)
{
    sr_window w;
    char err[160];
    CHECK(sr_sliding_window(100, 10, &w, err, sizeof(err)) == 0);
    CHECK(w.start == 90 && w.end == 101);
    CHECK(sr_window_contains(w, 90) && sr_window_contains(w, 100)); /* both ends inclusive */
    CHECK(!sr_window_contains(w, 89) && !sr_window_contains(w, 101));
    CHECK(sr_sliding_window(5, 10, &w, err, sizeof(err)) == 0 && w.start == 0 && w.end == 6);
    CHECK(sr_sliding_window(0, 0, &w, err, sizeof(err)) == 0 && w.start == 0 && w.end == 1);
    CHECK(sr_sliding_window(-3, 10, &w, err, sizeof(err)) == -1);
    CHECK_STR(err, "negative event time -3");
    CHECK(sr_sliding_window(INT64_MAX, 10, &w, err, sizeof(err)) == -1);
    CHECK(sr_sliding_window(INT64_MAX - 1, INT64_MAX, &w, err, sizeof(err)) == 0 && w.start == 0 &&
          w.end == INT64_MAX);
}

static void test_sliding_owners(void)
{
    int64_t lo = -1, hi = -1;
    char err[160];
    /* a record at 95 is in the windows of records at 95..105 (size 10) */
    CHECK(sr_sliding_owners(95, 10, &lo, &hi, err, sizeof(err)) == 0 && lo == 95 && hi == 105);
    for (int64_t e = 80; e <= 120; e++) {
        sr_window w;
        CHECK(sr_sliding_window(e, 10, &w, err, sizeof(err)) == 0);
        CHECK(sr_window_contains(w, 95) == (e >= lo && e <= hi));
    }
    CHECK(sr_sliding_owners(INT64_MAX - 5, 10, &lo, &hi, err, sizeof(err)) == 0);
    CHECK(lo == INT64_MAX - 5 && hi == INT64_MAX - 1);
    CHECK(sr_sliding_owners(3, INT64_MAX, &lo, &hi, err, sizeof(err)) == 0 && hi == INT64_MAX - 1);
    CHECK(sr_sliding_owners(-1, 10, &lo, &hi, err, sizeof(err)) == -1);
    CHECK(sr_sliding_owners(INT64_MAX, 10, &lo, &hi, err, sizeof(err)) == -1);
}

static void test_sessions(void)
{
    char err[160];
    bool merge[4];
    sr_window out;
    /* no session yet: a new one */
    CHECK(sr_session_assign(NULL, 0, 7, 10, NULL, &out, err, sizeof(err)) == 0);
    CHECK(out.start == 7 && out.end == 8);
    /* sessions {0} and {20}, gap 10: 10 is within gap of both and merges them */
    sr_window s2[2] = {{0, 1}, {20, 21}};
    CHECK(sr_session_assign(s2, 2, 10, 10, merge, &out, err, sizeof(err)) == 2);
    CHECK(merge[0] && merge[1] && out.start == 0 && out.end == 21);
    /* exactly gap after the last record still joins; gap + 1 does not */
    CHECK(sr_session_assign(s2, 2, 30, 10, merge, &out, err, sizeof(err)) == 1);
    CHECK(!merge[0] && merge[1] && out.start == 20 && out.end == 31);
    CHECK(sr_session_assign(s2, 2, 31, 10, merge, &out, err, sizeof(err)) == 0);
    CHECK(!merge[0] && !merge[1] && out.start == 31 && out.end == 32);
    /* before a session, within gap of its first record */
    sr_window s1[1] = {{20, 26}};
    CHECK(sr_session_assign(s1, 1, 10, 10, merge, &out, err, sizeof(err)) == 1);
    CHECK(merge[0] && out.start == 10 && out.end == 26);
    CHECK(sr_session_assign(s1, 1, 9, 10, merge, &out, err, sizeof(err)) == 0 && !merge[0]);
    /* inside a session */
    CHECK(sr_session_assign(s1, 1, 22, 0, merge, &out, err, sizeof(err)) == 1);
    CHECK(out.start == 20 && out.end == 26);
    /* three sessions 12 apart, gap 10: 6 joins the first two only */
    sr_window s3[3] = {{0, 1}, {12, 13}, {24, 25}};
    CHECK(sr_session_assign(s3, 3, 6, 10, merge, &out, err, sizeof(err)) == 2);
    CHECK(merge[0] && merge[1] && !merge[2] && out.start == 0 && out.end == 13);
    /* sessions closer than gap (not as this function leaves them): reached through the merged
     * bounds, merged too */
    sr_window s4[3] = {{25, 26}, {5, 6}, {18, 19}};
    CHECK(sr_session_assign(s4, 3, 12, 10, merge, &out, err, sizeof(err)) == 3);
    CHECK(out.start == 5 && out.end == 26);
    /* extremes: no overflow in the gap arithmetic */
    sr_window s5[1] = {{0, 1}};
    CHECK(sr_session_assign(s5, 1, INT64_MAX - 1, INT64_MAX, merge, &out, err, sizeof(err)) == 1);
    CHECK(out.start == 0 && out.end == INT64_MAX);
    CHECK(sr_session_assign(s5, 1, INT64_MAX, 10, merge, &out, err, sizeof(err)) == -1);
    CHECK(sr_session_assign(s5, 1, -1, 10, merge, &out, err, sizeof(err)) == -1);
    CHECK_STR(err, "negative event time -1");
    CHECK(sr_session_assign(s5, 1, 1, -1, merge, &out, err, sizeof(err)) == -1);
    CHECK_STR(err, "session gap -1 must be >= 0");
}

static void test_closing(void)
{
    sr_window w = {0, 10};
    int64_t c = sr_window_close_time(w, 5);
    CHECK(c == 15);
    CHECK(!sr_window_closed(c, 14) && sr_late_by(c, 14) == 0);
    CHECK(sr_window_closed(c, 15) && sr_late_by(c, 15) == 1);
    CHECK(sr_late_by(c, 20) == 6);
    CHECK(sr_window_close_time(w, 0) == 10 && sr_late_by(10, 10) == 1 && sr_late_by(10, 9) == 0);
    /* a session closes gap after its last record (+ grace) */
    CHECK(sr_session_close_time((sr_window){0, 1}, 10, 5) == 16);
    /* saturation */
    CHECK(sr_window_close_time((sr_window){0, INT64_MAX - 1}, 10) == INT64_MAX);
    CHECK(sr_session_close_time((sr_window){0, INT64_MAX - 1}, INT64_MAX, INT64_MAX) == INT64_MAX);
    CHECK(sr_late_by(INT64_MAX, INT64_MAX) == 1);
    CHECK(sr_late_by(0, INT64_MAX) == INT64_MAX);
    CHECK(sr_stream_time_advance(5, 3) == 5 && sr_stream_time_advance(5, 8) == 8);
}

int main(void)
{
    test_tumbling_hopping();
    test_errors_and_extremes();
    test_brute_force();
    test_count_windows();
    test_sliding();
    test_sliding_owners();
    test_sessions();
    test_closing();
    return TEST_END();
}
