/* test_numconv.c — number text to double must equal strtod's correctly rounded result, on the
 * fast paths too: random 1- to 19-digit decimals over the whole exponent range, exact and near
 * halfway cases, subnormals, binary fractions written out in full, and the range's limits. */
#include "test.h"
#include "base/value.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static unsigned long long rng = 88172645463325252ULL;

static unsigned long long next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int bad;

/* text must convert as strtod converts it (bit for bit) */
static void same_as_strtod(const char *text)
{
    sr_value v = {.type = SR_NUM, .len = (uint32_t)strlen(text), .u.s = text};
    sr_value r = sr_num_norm(&v);
    double want = strtod(text, NULL);
    double got = r.type == SR_INT ? (double)r.u.i : r.u.d;
    if (memcmp(&want, &got, sizeof(want)) != 0) {
        if (bad++ < 10) fprintf(stderr, "%s: got %.17g, strtod gives %.17g\n", text, got, want);
    }
}

int main(void)
{
    char buf[80];
    for (int k = 0; k < 300000; k++) {
        int digits = 1 + (int)(next_rand() % 19);
        unsigned long long m = 0;
        for (int i = 0; i < digits; i++) m = m * 10 + next_rand() % 10;
        int e = (int)(next_rand() % 61) - 30;
        switch (k % 3) {
        case 0: snprintf(buf, sizeof(buf), "%llue%d", m, e); break;
        case 1: snprintf(buf, sizeof(buf), "-%llu.%03llue%d", m, next_rand() % 1000, e); break;
        default:
            snprintf(buf, sizeof(buf), "%.17g", ldexp((double)(next_rand() >> 11), -60));
            break;
        }
        same_as_strtod(buf);
    }
    /* fraction digits read eight at a time: every length and position of the leading zeros */
    for (int k = 0; k < 200000; k++) {
        int zeros = (int)(next_rand() % 12), digits = 1 + (int)(next_rand() % 19);
        char frac[64];
        int at = 0;
        for (int i = 0; i < zeros; i++) frac[at++] = '0';
        for (int i = 0; i < digits; i++)
            frac[at++] = (char)('0' + (i ? next_rand() % 10 : 1 + next_rand() % 9));
        frac[at] = 0;
        switch (k % 4) {
        case 0: snprintf(buf, sizeof(buf), "0.%s", frac); break;
        case 1: snprintf(buf, sizeof(buf), "-0.%s", frac); break;
        case 2: snprintf(buf, sizeof(buf), "%llu.%s", next_rand() % 100000000000ULL, frac); break;
        default:
            snprintf(buf, sizeof(buf), "%s.%se%d", frac + zeros, frac, (int)(next_rand() % 9) - 4);
        }
        same_as_strtod(buf);
    }
    /* exact ties between two doubles: round half to even */
    for (unsigned long long x = (1ULL << 53); x < (1ULL << 53) + 50000; x++) {
        snprintf(buf, sizeof(buf), "%llu.0", x);
        same_as_strtod(buf);
        snprintf(buf, sizeof(buf), "%llu.%llu5e-1", x / 10, x % 10);
        same_as_strtod(buf);
    }
    for (unsigned long long x = (1ULL << 62) + 1; x < (1ULL << 62) + 400000; x += 9) {
        snprintf(buf, sizeof(buf), "%llu.0", x);
        same_as_strtod(buf);
    }
    /* just below powers of two, where the gap to the next double down is half as wide */
    for (int e = -30; e < 30; e++) {
        for (int i = 1; i < 400; i++) {
            double d = ldexp(1.0, e);
            snprintf(buf, sizeof(buf), "%.*g", 16 + i % 4, d - ldexp((double)i, e - 60));
            same_as_strtod(buf);
        }
    }
    /* the whole exponent range of the 128-bit table and past it: 1 to 19 digits, 10^-360 to
     * 10^330, so that products land on every entry, in the subnormals and past DBL_MAX */
    for (int k = 0; k < 1000000; k++) {
        int digits = 1 + (int)(next_rand() % 19);
        unsigned long long m = 0;
        for (int i = 0; i < digits; i++) m = m * 10 + next_rand() % 10;
        int e = (int)(next_rand() % 691) - 360;
        snprintf(buf, sizeof(buf), k % 2 ? "%llue%d" : "-%llue%d", m, e);
        same_as_strtod(buf);
    }
    /* near the midpoint between two doubles, all over the range: the midpoint d + ulp/2 is
     * exact in a long double (64-bit mantissa); printed to 17, 18 and 19 digits it falls just
     * below or above it (the hardest cases for a 128-bit product), to 25 exactly or nearly */
    for (int k = 0; k < 400000; k++) {
        uint64_t bits = next_rand() & 0x7fffffffffffffffULL;
        double d;
        memcpy(&d, &bits, sizeof(d));
        if (!isfinite(d) || d == 0) continue;
        long double mid = (long double)d + ((long double)nextafter(d, INFINITY) - d) / 2;
        snprintf(buf, sizeof(buf), "%.*Le", 16 + k % 3, mid);
        same_as_strtod(buf);
        if (k % 8 == 0) {
            snprintf(buf, sizeof(buf), "%.24Le", mid);
            same_as_strtod(buf);
        }
    }
    /* subnormals and the smallest normals, printed to 1 to 19 digits */
    for (int k = 0; k < 100000; k++) {
        uint64_t bits = next_rand() >> (12 + next_rand() % 40); /* exponent field 0 */
        if (k % 4 == 0) bits |= (uint64_t)1 << 52;              /* the smallest normals */
        double d;
        memcpy(&d, &bits, sizeof(d));
        snprintf(buf, sizeof(buf), "%.*g", 1 + k % 19, d);
        same_as_strtod(buf);
    }
    /* binary fractions written out in full (float32 sensor readings, halves of large
     * integers): exact values on a double or on a boundary between two */
    for (int k = 0; k < 200000; k++) {
        float f = (float)ldexp((double)(next_rand() >> 40), -(int)(next_rand() % 40));
        snprintf(buf, sizeof(buf), "%.*g", 9 + k % 15, (double)f);
        same_as_strtod(buf);
        unsigned long long x = (next_rand() >> 1) | (1ULL << 62);
        snprintf(buf, sizeof(buf), "%llu.%s", x >> (k % 10), k % 2 ? "5" : "25");
        same_as_strtod(buf);
    }
    /* the limits of the range */
    const char *limits[] = {"1.7976931348623157e308",
                            "1.7976931348623158e308",
                            "1.7976931348623159e308",
                            "1e308",
                            "1e309",
                            "9999999999999999999e289",
                            "2.2250738585072014e-308",
                            "2.2250738585072011e-308",
                            "2.2250738585072012e-308",
                            "4.9406564584124654e-324",
                            "2.4703282292062327e-324",
                            "2.4703282292062328e-324",
                            "1e-342",
                            "1e-343",
                            "9999999999999999999e-343",
                            "9999999999999999999e-361",
                            "1e-400",
                            "0e999",
                            "-0e-999",
                            "0.000000000000000000000000000000000000001",
                            "18446744073709551615e0",
                            "18446744073709551616e0",
                            "9223372036854775808.5",
                            "-9223372036854775809",
                            "0.9355316162109375",
                            "-3.0761260986328125",
                            "4503599627370496.5",
                            "4503599627370497.5",
                            "9007199254740993e-1",
                            "90071992547409930e-1",
                            "90071992547409950e-1"};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) same_as_strtod(limits[i]);
    /* DBL_MAX and its neighbours written out in full: 309 digits */
    char wide[400];
    const double big[] = {DBL_MAX, nextafter(DBL_MAX, 0), ldexp(1.0, 1023), 1e308};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        snprintf(wide, sizeof(wide), "%.0f", big[i]);
        same_as_strtod(wide);
        snprintf(wide, sizeof(wide), "%.0f.5", big[i]);
        same_as_strtod(wide);
    }
    /* integer texts are exact int64 values, of every length up to the limits */
    for (int k = 0; k < 200000; k++) {
        long long x = (long long)(next_rand() >> (k % 64));
        if (k % 2) x = -x;
        snprintf(buf, sizeof(buf), "%lld", x);
        sr_value v = {.type = SR_NUM, .len = (uint32_t)strlen(buf), .u.s = buf};
        sr_value r = sr_num_norm(&v);
        if ((r.type != SR_INT || r.u.i != x) && bad++ < 10) fprintf(stderr, "%s: not exact\n", buf);
    }
    const char *ints[] = {"9223372036854775807", "-9223372036854775808", "-0", "0",
                          "999999999999999999",  "1000000000000000000"};
    const long long intv[] = {
        INT64_MAX, INT64_MIN, 0, 0, 999999999999999999LL, 1000000000000000000LL};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        sr_value v = {.type = SR_NUM, .len = (uint32_t)strlen(ints[i]), .u.s = ints[i]};
        sr_value r = sr_num_norm(&v);
        CHECK(r.type == SR_INT && r.u.i == intv[i]);
    }
    /* past int64: a double */
    sr_value past = {.type = SR_NUM, .len = 19, .u.s = "9223372036854775808"};
    CHECK(sr_num_norm(&past).type == SR_DBL && sr_num_norm(&past).u.d == 9223372036854775808.0);
    /* fixed cases from the phone telemetry: 16 and 17 significant digits */
    const char *fixed[] = {"0.5941331831187009",
                           "-0.10374386759102344",
                           "0.10374386759102344",
                           "26.581488322806358",
                           "-0.006461451099067926",
                           "1e22",
                           "1e23",
                           "9007199254740993.0",
                           "123456789012345678.9",
                           "0.1",
                           "-0.0"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) same_as_strtod(fixed[i]);
    CHECK(bad == 0);
    return TEST_END();
}
