/* bytes.h — copying and comparing the short byte runs of keys and numbers inline, without a
 * call into the C library (whose memcpy and memcmp cost more in the call than in the work for
 * the 1- to 20-byte runs of a record's keys). */
#ifndef SR_BYTES_H
#define SR_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Copies s[0..n) to d (not overlapping). Runs of up to 16 bytes take two loads and two
 * stores (overlapping when n is not a power of two); longer ones go to memcpy. */
static inline void sr_copy_bytes(char *d, const char *s, size_t n)
{
    if (n > 16) {
        memcpy(d, s, n);
    } else if (n >= 8) {
        uint64_t x, y;
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        memcpy(d, &x, 8);
        memcpy(d + n - 8, &y, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
    } else {
        for (size_t i = 0; i < n; i++) d[i] = s[i];
    }
}

/* Whether a[0..n) and b[0..n) hold the same bytes: eight at a time, the last word
 * overlapping; reads nothing outside the two runs. */
static inline bool sr_bytes_equal(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y) return false;
        }
        memcpy(&x, a + n - 8, 8);
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x, y, z, w;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&z, a + n - 4, 4);
        memcpy(&w, b + n - 4, 4);
        return x == y && z == w;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

#endif
