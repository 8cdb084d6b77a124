/* test_numconv.c — number text to double must equal strtod's correctly rounded result, on the
 * fast paths too: random 1- to 19-digit decimals, exponents, and exact halfway cases. */
#include "test.h"
#include "base/value.h"

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
