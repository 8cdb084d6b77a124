/* test_versions.c — the versions of a key of a table with history (runner/load/versions.c),
 * against a reference that keeps every version: random updates (out of order, repeated times,
 * deletions), and lookups at every time from the horizon (newest - history) on, where dropping
 * old versions must not change what is found. */
#include "load/table.h"
#include "test.h"

#include <stdlib.h>

typedef struct ref {
    int64_t ts;
    int val; /* -1: a deletion */
} ref;

/* The reference: the latest version at or before at (the last of equal times), within. */
static bool ref_find(const ref *v, int n, int64_t at, int64_t within, int *val)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (v[i].ts <= at && (best < 0 || v[i].ts >= v[best].ts)) best = i;
    if (best < 0 || v[best].val < 0 || at - v[best].ts > within) return false;
    *val = v[best].val;
    return true;
}

int main(void)
{
    srand(7);
    for (int round = 0; round < 300; round++) {
        int64_t history = 1 + rand() % 50;
        ref refs[64];
        int n = 0;
        sr_buf cur = {0}, next = {0};
        int64_t newest = INT64_MIN;
        for (int u = 0; u < 40; u++) {
            int64_t ts = rand() % 200;
            int val = rand() % 5 == 0 ? -1 : rand() % 1000;
            char text[16];
            int tl = snprintf(text, sizeof(text), "%d", val);
            sr_versions_put(&next, cur.len ? cur.d : NULL, cur.len, ts, val < 0 ? NULL : text,
                            (size_t)tl, history);
            sr_buf t = cur;
            cur = next;
            next = t;
            /* the reference: a version of a time already there replaces it */
            int k = 0;
            while (k < n && refs[k].ts != ts) k++;
            if (k == n) n++;
            refs[k] = (ref){ts, val};
            if (ts > newest) newest = ts;
            for (int64_t at = newest - history; at <= newest + 10; at++) {
                for (int64_t within = 0; within <= history; within += 1 + history / 4) {
                    int want = 0;
                    bool wf = ref_find(refs, n, at, within, &want);
                    const char *got = NULL;
                    size_t glen = 0;
                    bool gf = cur.len && sr_versions_find(cur.d, cur.len, at, within, &got, &glen);
                    char wtext[16];
                    snprintf(wtext, sizeof(wtext), "%d", want);
                    CHECK(gf == wf);
                    if (gf && wf) CHECK(glen == strlen(wtext) && memcmp(got, wtext, glen) == 0);
                }
            }
            /* the newest version, whatever its age (a lookup without asOf) */
            int want = 0;
            bool wf = ref_find(refs, n, INT64_MAX - 1, INT64_MAX, &want);
            const char *got = NULL;
            size_t glen = 0;
            CHECK((cur.len && sr_versions_find(cur.d, cur.len, INT64_MAX, 0, &got, &glen)) == wf);
        }
        sr_buf_free(&cur);
        sr_buf_free(&next);
    }
    return TEST_END();
}
