/* test_write_double.c — sr_write_double() must write exactly what the C library's shortest of
 * "%.15g", "%.16g", "%.17g" that reads back gives (the definition it keeps while deriving the
 * three from one conversion): random bit patterns, results of arithmetic on short decimals,
 * values at the switch between fixed and scientific notation, carries through nines, ties in the
 * dropped digits, subnormals and the limits. */
#include "test.h"
#include "base/value.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static unsigned long long rng = 0x2545F4914F6CDD1DULL;

static unsigned long long next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* the definition: the first of 15, 16, 17 digits that strtod reads back as d; ".0" when the
 * text has neither a point nor an exponent */
static void reference(double d, char *out, size_t size)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(out, size, "%.*g", prec, d);
        if (prec == 17 || strtod(out, NULL) == d) break;
    }
    if (!strchr(out, '.') && !strchr(out, 'e')) snprintf(out + n, size - (size_t)n, ".0");
}

static int bad, checked;
static sr_buf buf;

static void same(double d)
{
    if (!isfinite(d)) return;
    char want[64];
    reference(d, want, sizeof(want));
    buf.len = 0;
    sr_write_double(&buf, d);
    const char *got = sr_buf_cstr(&buf);
    checked++;
    if (strcmp(got, want) != 0 && bad++ < 10)
        fprintf(stderr, "%a: got %s, want %s\n", d, got, want);
}

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

int main(void)
{
    /* any double */
    for (int k = 0; k < 300000; k++) same(from_bits(next_rand()));
    /* sums and products of short decimals, as expressions make them (0.1 + 0.2 and the like) */
    for (int k = 0; k < 300000; k++) {
        double a = (double)(next_rand() % 100000) / 1000, b = (double)(next_rand() % 1000) / 100;
        same(a + b);
        same(a * b);
        same(a / (b + 1));
        same(-a - b / 3);
    }
    /* around the switch from fixed to scientific (10^-5, 10^-4, 10^15 ... 10^17) and every power
     * of ten, where rounding to fewer digits carries through nines into a new exponent */
    for (int e = -320; e <= 308; e++) {
        double p = pow(10, e);
        double x = p;
        for (int i = 0; i < 40; i++) {
            same(x);
            same(-x);
            x = nextafter(x, 0);
        }
        x = p;
        for (int i = 0; i < 40; i++) {
            same(x);
            x = nextafter(x, INFINITY);
        }
        same(9.5 * p);
        same(0.99999999999999995 * p);
    }
    /* dropped digits exactly half a unit at 15 or 16 digits: integers, halves, quarters */
    for (int k = 0; k < 200000; k++) {
        uint64_t m = next_rand() >> (8 + k % 12);
        same((double)m);
        same((double)m + 0.5);
        same((double)m / 4);
        same((double)(m % 100000000000000000ULL) * 10 + 5);
    }
    /* integers and small values, subnormals, limits, zeros */
    for (int i = -2000; i <= 2000; i++) {
        same(i);
        same(i / 8.0);
        same(i * 0.1);
    }
    for (int k = 0; k < 50000; k++) same(from_bits(next_rand() >> (12 + k % 40)));
    const double fixed[] = {0.0,
                            -0.0,
                            DBL_MAX,
                            -DBL_MAX,
                            DBL_MIN,
                            DBL_TRUE_MIN,
                            1e-5,
                            1e-4,
                            1e15,
                            1e16,
                            1e17,
                            123456789012345680.0,
                            0.1,
                            0.3,
                            0.1 + 0.2,
                            1.0 / 3,
                            2.0 / 3,
                            100,
                            1e22,
                            1e23,
                            5e-324,
                            68.87800547074676,
                            85.54852884807586,
                            0.5,
                            1.5,
                            2.5,
                            1e21,
                            9007199254740993.0};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) same(fixed[i]);
    CHECK(bad == 0);
    CHECK(checked > 2000000);
    sr_buf_free(&buf);
    return TEST_END();
}
