/* value.c — constructors, number normalisation, object/array editing, equality and ordering. */
#include "base/value.h"
#include "base/bytes.h"

#include <inttypes.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sr_value sr_str_dup(sr_arena *a, const char *s, size_t n)
{
    if (n == 0) return sr_str("", 0);
    char *d = sr_arena_alloc(a, n);
    memcpy(d, s, n);
    return sr_str(d, n);
}

sr_value sr_obj_new(sr_arena *a, uint32_t cap)
{
    sr_value v = sr_value_of(SR_OBJ, 0, 0); /* member by member: see value.h */
    v.cap = cap;
    v.u.o = cap ? sr_arena_alloc(a, (size_t)cap * sizeof(sr_member)) : NULL;
    return v;
}

sr_value sr_arr_new(sr_arena *a, uint32_t cap)
{
    sr_value v = sr_value_of(SR_ARR, 0, 0);
    v.cap = cap;
    v.u.a = cap ? sr_arena_alloc(a, (size_t)cap * sizeof(sr_value)) : NULL;
    return v;
}

const char *sr_type_name(sr_type t)
{
    switch (t) {
    case SR_MISSING: return "missing";
    case SR_NULL: return "null";
    case SR_BOOL: return "boolean";
    case SR_NUM:
    case SR_INT:
    case SR_DBL: return "number";
    case SR_STR: return "string";
    case SR_ARR: return "array";
    case SR_OBJ: return "object";
    }
    return "unknown";
}

/* ---- numbers ------------------------------------------------------------- */

/* Integer literal (optional '-', digits only) that fits int64 exactly. */
static bool text_to_i64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i == n) return false;
    uint64_t u = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) return false;
        if (u > (lim - d) / 10) return false;
        u = u * 10 + d;
    }
    /* -2^63 has no positive counterpart: negate in unsigned arithmetic. */
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

static double text_to_double(const char *s, size_t n)
{
    char tmp[128];
    char *z = n < sizeof(tmp) ? tmp : sr_xmalloc(n + 1);
    memcpy(z, s, n);
    z[n] = 0;
    double d = strtod(z, NULL);
    if (z != tmp) free(z);
    return d;
}

/* The 128-bit powers of ten POW10_TABLE, POW10_MIN and POW10_MAX (tools/gen_pow10_table.py). */
#include "base/pow10_table.inc"

/* m * 10^q correctly rounded to a double by the Eisel–Lemire algorithm (Lemire, "Number
 * Parsing at a Gigabyte per Second", 2021): the mantissa, shifted so that its top bit is set,
 * times the 128 top bits of 10^q rounded down (POW10_TABLE) gives a lower bound of the exact
 * product's top bits; the exact value is above it by less than one unit of the part not
 * computed. When that gap could carry into the 54 bits that decide the double (its 53 and the
 * rounding bit), the next 64 bits of 10^q narrow it; when even they cannot settle it, or the
 * result may be an exact tie, a subnormal, or out of range, returns false and the caller uses
 * strtod. m is not 0. */
static bool eisel_lemire(uint64_t m, int q, double *out)
{
    if (q < POW10_MIN || q > POW10_MAX) return false;
    const uint64_t *t = POW10_TABLE[q - POW10_MIN];
    int clz = __builtin_clzll(m);
    m <<= clz;
    unsigned __int128 x = (unsigned __int128)m * t[0];
    uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
    /* the part of 10^q left out adds less than m to lo: it matters only if that can carry
     * through the nine bits below the rounding bit */
    if ((hi & 0x1ff) == 0x1ff && lo + m < m) {
        unsigned __int128 y = (unsigned __int128)m * t[1];
        uint64_t yhi = (uint64_t)(y >> 64), ylo = (uint64_t)y;
        uint64_t mlo = lo + yhi, mhi = hi + (mlo < lo);
        if ((mhi & 0x1ff) == 0x1ff && mlo + 1 == 0 && ylo + m < m) return false;
        hi = mhi;
        lo = mlo;
    }
    unsigned top = (unsigned)(hi >> 63); /* the product has 128 bits, or 127 */
    uint64_t mant = hi >> (top + 9);     /* 54 bits: the double's 53 and the rounding bit */
    /* floor(log2(10^q)) + 1086 + top - clz, the biased exponent of the result */
    int64_t exp2 = (((int64_t)217706 * q) >> 16) + 1086 + top - clz;
    /* nothing below the rounding bit: possibly an exact tie, which rounds to even */
    if (lo == 0 && (hi & 0x1ff) == 0 && (mant & 3) == 1) return false;
    mant = (mant + (mant & 1)) >> 1;
    if (mant >> 53) { /* rounded up to the next power of two */
        mant >>= 1;
        exp2++;
    }
    if (exp2 <= 0 || exp2 >= 0x7ff) return false; /* subnormal, or past DBL_MAX */
    uint64_t bits = (uint64_t)exp2 << 52 | (mant & (((uint64_t)1 << 52) - 1));
    memcpy(out, &bits, sizeof(bits));
    return true;
}

/* m * 10^q for -27 <= q < 0 when it is a binary fraction (5^-q divides m), exactly: a value
 * such as 0.9355316162109375 (a float32 reading printed in full) lies exactly on a boundary
 * between doubles or on a double, where eisel_lemire()'s lower bound leaves the rounding
 * undecided. Then m * 10^q = (m / 5^-q) * 2^q, an integer below 2^64 (rounded once, to
 * nearest even, by the conversion) times an exact power of two. Returns false otherwise. */
static bool dyadic_decimal(uint64_t m, int q, double *out)
{
    if (q < -27 || q >= 0) return false; /* 5^27 < 2^64 */
    uint64_t p5 = 1;
    for (int k = 0; k < -q; k++) p5 *= 5;
    if (m % p5) return false;
    uint64_t scale = (uint64_t)(1023 + q) << 52; /* 2^q, a normal double */
    double two_q;
    memcpy(&two_q, &scale, sizeof(two_q));
    *out = (double)(m / p5) * two_q;
    return true;
}

/* Eight ASCII digits at s as their value, or -1 if any of them is not a digit:
 * all eight at once in one 64-bit word (bytes in memory order, little-endian). */
static int64_t eight_digits(const char *s)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, s, 8);
    /* a byte is a digit when it is >= '0' and adding 0x46 does not carry into bit 7 */
    if ((((x + 0x4646464646464646ULL) | (x - 0x3030303030303030ULL)) & 0x8080808080808080ULL) != 0)
        return -1;
    x -= 0x3030303030303030ULL;
    x = x * 10 + (x >> 8); /* pairs: byte 2i holds digits 2i, 2i+1 as a number 0..99 */
    x = (((x & 0x000000ff000000ffULL) * (100 + (1000000ULL << 32))) +
         (((x >> 16) & 0x000000ff000000ffULL) * (1 + (10000ULL << 32)))) >>
        32;
    return (int64_t)x;
#else
    int64_t v = 0;
    for (int i = 0; i < 8; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
#endif
}

/* What fast_number() found: an integer below 10^18 (in *iout), a double (in *out), or
 * neither: a longer integer, which may still fit int64, or a decimal it leaves to strtod. */
enum { NUM_SLOW, NUM_INT, NUM_DBL };

/* The number text s[0..n) read in one pass: an integer of at most 18 digits exactly; a decimal
 * of at most 19 significant digits m * 10^e10 correctly rounded: when m fits in 53 bits and
 * |e10| <= 22, one correctly rounded multiplication or division of two exact doubles
 * (Clinger's fast path); otherwise eisel_lemire(), or dyadic_decimal() for the exact binary
 * fractions it leaves. NUM_SLOW past 19 digits and in the rare cases both leave. The text is
 * a valid JSON number (the parser checked it) or a literal of the expression language. */
static int fast_number(const char *s, size_t n, double *out, int64_t *iout)
{
    static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const char *p = s, *end = s + n;
    bool neg = p < end && *p == '-';
    if (neg) p++;
    /* every digit goes into m, leading zeros included (they add nothing): m is exact when
     * there are at most 19 significant digits, which is checked below */
    const char *first = p;
    uint64_t m = 0;
    for (; p < end && (unsigned)(*p - '0') < 10; p++) m = m * 10 + (uint64_t)(*p - '0');
    size_t ndigits = (size_t)(p - first);
    if (p == end) { /* an integer: below 10^18 it fits int64, past it text_to_i64() decides */
        if (ndigits == 0 || ndigits > 18) return NUM_SLOW;
        *iout = neg ? -(int64_t)m : (int64_t)m;
        return NUM_INT;
    }
    int e10 = 0;
    if (p < end && *p == '.') {
        const char *frac = ++p;
        for (int64_t v; end - p >= 8 && (v = eight_digits(p)) >= 0; p += 8)
            m = m * 100000000 + (uint64_t)v;
        for (; p < end && (unsigned)(*p - '0') < 10; p++) m = m * 10 + (uint64_t)(*p - '0');
        if (p - frac > 100000) return NUM_SLOW;
        e10 = -(int)(p - frac);
        ndigits += (size_t)(p - frac);
    }
    if (ndigits > 19) { /* leading zeros are not significant: count without them */
        for (const char *z = first; z < p && (*z == '0' || *z == '.'); z++) ndigits -= *z == '0';
        if (ndigits > 19) return NUM_SLOW;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+')) p++;
        int x = 0;
        for (; p < end && (unsigned)(*p - '0') < 10; p++) {
            if (x > 100000) return NUM_SLOW;
            x = x * 10 + (*p - '0');
        }
        e10 += eneg ? -x : x;
    }
    if (p != end) return NUM_SLOW;
    double d;
    if (m == 0) {
        d = 0;
    } else if (m <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        d = (double)m;
        d = e10 < 0 ? d / p10[-e10] : d * p10[e10];
    } else if (!eisel_lemire(m, e10, &d) && !dyadic_decimal(m, e10, &d)) {
        return NUM_SLOW;
    }
    *out = neg ? -d : d;
    return NUM_DBL;
}

sr_value sr_num_norm(const sr_value *v)
{
    if (v->type != SR_NUM) return *v;
    int64_t i;
    double d;
    switch (fast_number(v->u.s, v->len, &d, &i)) {
    case NUM_INT: return sr_int(i);
    case NUM_DBL: return sr_dbl(d);
    default:
        if (text_to_i64(v->u.s, v->len, &i)) return sr_int(i);
        return sr_dbl(text_to_double(v->u.s, v->len));
    }
}

/* Non-numbers give NaN. */
double sr_num_double(const sr_value *v)
{
    switch (v->type) {
    case SR_INT: return (double)v->u.i;
    case SR_DBL: return v->u.d;
    case SR_NUM: {
        sr_value n = sr_num_norm(v);
        return n.type == SR_INT ? (double)n.u.i : n.u.d;
    }
    default: return NAN;
    }
}

/* Exact comparison of an int64 with a double (no rounding of i to double).
 * NaN sorts below every other number. */
static int cmp_int_dbl(int64_t i, double d)
{
    if (isnan(d)) return 1;
    if (d >= 9223372036854775808.0) return -1; /* 2^63 */
    if (d < -9223372036854775808.0) return 1;
    double t = trunc(d);
    int64_t ti = (int64_t)t;
    if (i != ti) return i < ti ? -1 : 1;
    if (d > t) return -1;
    if (d < t) return 1;
    return 0;
}

static int cmp_dbl(double x, double y)
{
    bool nx = isnan(x), ny = isnan(y);
    if (nx || ny) return nx && ny ? 0 : nx ? -1 : 1;
    return x < y ? -1 : x > y;
}

static int cmp_num(const sr_value *x, const sr_value *y)
{
    sr_value a = sr_num_norm(x), b = sr_num_norm(y);
    if (a.type == SR_INT && b.type == SR_INT) return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
    if (a.type == SR_INT) return cmp_int_dbl(a.u.i, b.u.d);
    if (b.type == SR_INT) return -cmp_int_dbl(b.u.i, a.u.d);
    return cmp_dbl(a.u.d, b.u.d);
}

/* ---- objects and arrays -------------------------------------------------- */

sr_value *sr_obj_get(const sr_value *obj, const char *key, size_t klen)
{
    if (obj->type != SR_OBJ) return NULL;
    sr_member *m = obj->u.o;
    if (klen == 0) {
        for (uint32_t i = 0; i < obj->len; i++)
            if (m[i].klen == 0) return &m[i].v;
        return NULL;
    }
    /* the length and the last byte first: keys that share a prefix ("accelerometer-x",
     * "accelerometer-y") differ there, and most misses stop before memcmp */
    const char last = key[klen - 1];
    for (uint32_t i = 0; i < obj->len; i++)
        if (m[i].klen == klen && m[i].key[klen - 1] == last && sr_bytes_equal(m[i].key, key, klen))
            return &m[i].v;
    return NULL;
}

sr_value *sr_obj_get_hint(const sr_value *obj, const char *key, size_t klen, uint32_t *hint)
{
    if (obj->type != SR_OBJ) return NULL;
    sr_member *m = obj->u.o;
    uint32_t h = *hint;
    if (h < obj->len && m[h].klen == klen && sr_bytes_equal(m[h].key, key, klen)) return &m[h].v;
    sr_value *v = sr_obj_get(obj, key, klen);
    if (v) *hint = (uint32_t)((sr_member *)(void *)((char *)v - offsetof(sr_member, v)) - m);
    return v;
}

void sr_obj_set(sr_arena *a, sr_value *obj, const char *key, size_t klen, sr_value v)
{
    sr_value *old = sr_obj_get(obj, key, klen);
    if (old) {
        *old = v;
        return;
    }
    sr_obj_append(a, obj, key, klen, v);
}

void sr_obj_append(sr_arena *a, sr_value *obj, const char *key, size_t klen, sr_value v)
{
    if (obj->len == obj->cap) {
        uint32_t cap = obj->cap ? obj->cap * 2 : 4;
        sr_member *m = sr_arena_alloc(a, (size_t)cap * sizeof(*m));
        if (obj->len) memcpy(m, obj->u.o, (size_t)obj->len * sizeof(*m));
        obj->u.o = m;
        obj->cap = cap;
    }
    sr_member *m = &obj->u.o[obj->len++];
    m->key = key;
    m->klen = (uint32_t)klen;
    m->v = v;
}

bool sr_obj_del(sr_value *obj, const char *key, size_t klen)
{
    sr_value *v = sr_obj_get(obj, key, klen);
    if (!v) return false;
    sr_member *m = (sr_member *)((char *)v - offsetof(sr_member, v));
    size_t after = (size_t)(obj->u.o + obj->len - (m + 1));
    memmove(m, m + 1, after * sizeof(*m));
    obj->len--;
    return true;
}

void sr_arr_push(sr_arena *a, sr_value *arr, sr_value v)
{
    if (arr->len == arr->cap) {
        uint32_t cap = arr->cap ? arr->cap * 2 : 4;
        sr_value *e = sr_arena_alloc(a, (size_t)cap * sizeof(*e));
        if (arr->len) memcpy(e, arr->u.a, (size_t)arr->len * sizeof(*e));
        arr->u.a = e;
        arr->cap = cap;
    }
    arr->u.a[arr->len++] = v;
}

/* ---- equality and ordering ----------------------------------------------- */

static bool key_eq(const sr_member *m, const sr_member *n)
{
    return m->klen == n->klen && (m->klen == 0 || memcmp(m->key, n->key, m->klen) == 0);
}

/* NaN is not equal to itself, as in IEEE arithmetic. */
bool sr_value_equal(const sr_value *x, const sr_value *y)
{
    if (sr_is_number(x) && sr_is_number(y)) {
        if (x->type == SR_NUM && y->type == SR_NUM && x->len == y->len &&
            memcmp(x->u.s, y->u.s, x->len) == 0)
            return true;
        sr_value a = sr_num_norm(x), b = sr_num_norm(y);
        if (a.type == SR_INT && b.type == SR_INT) return a.u.i == b.u.i;
        if (a.type == SR_DBL && b.type == SR_DBL) return a.u.d == b.u.d;
        if (a.type == SR_INT) return !isnan(b.u.d) && cmp_int_dbl(a.u.i, b.u.d) == 0;
        return !isnan(a.u.d) && cmp_int_dbl(b.u.i, a.u.d) == 0;
    }
    if (x->type != y->type) return false;
    switch (x->type) {
    case SR_MISSING:
    case SR_NULL: return true;
    case SR_BOOL: return x->u.b == y->u.b;
    case SR_STR: return x->len == y->len && (x->len == 0 || memcmp(x->u.s, y->u.s, x->len) == 0);
    case SR_ARR:
        if (x->len != y->len) return false;
        for (uint32_t i = 0; i < x->len; i++)
            if (!sr_value_equal(&x->u.a[i], &y->u.a[i])) return false;
        return true;
    case SR_OBJ:
        if (x->len != y->len) return false;
        for (uint32_t i = 0; i < x->len; i++) {
            const sr_member *m = &x->u.o[i];
            /* Same key order is the common case; otherwise search. */
            const sr_value *w =
                key_eq(m, &y->u.o[i]) ? &y->u.o[i].v : sr_obj_get(y, m->key, m->klen);
            if (!w || !sr_value_equal(&m->v, w)) return false;
        }
        return true;
    }
    return false;
}

static int type_rank(uint8_t t)
{
    switch (t) {
    case SR_MISSING: return 0;
    case SR_NULL: return 1;
    case SR_BOOL: return 2;
    case SR_NUM:
    case SR_INT:
    case SR_DBL: return 3;
    case SR_STR: return 4;
    case SR_ARR: return 5;
    default: return 6;
    }
}

static int cmp_bytes(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c < 0 ? -1 : 1;
    return an < bn ? -1 : an > bn;
}

static int cmp_key(const sr_member *m, const sr_member *n)
{
    return cmp_bytes(m->key, m->klen, n->key, n->klen);
}

/* The member with the smallest key greater than prev (any key when prev is NULL). */
static const sr_member *next_key(const sr_value *o, const sr_member *prev)
{
    const sr_member *best = NULL;
    for (uint32_t i = 0; i < o->len; i++) {
        const sr_member *m = &o->u.o[i];
        if (prev && cmp_key(m, prev) <= 0) continue;
        if (!best || cmp_key(m, best) < 0) best = m;
    }
    return best;
}

/* Objects: by size, then by their sorted key lists, then by values in key
 * order; so member order does not matter, as for sr_value_equal(). */
static int cmp_obj(const sr_value *x, const sr_value *y)
{
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    const sr_member *a = NULL, *b = NULL;
    for (;;) {
        a = next_key(x, a);
        b = next_key(y, b);
        if (!a || !b) break;
        int c = cmp_key(a, b);
        if (c) return c;
    }
    if (a || b) return a ? 1 : -1;
    for (a = next_key(x, NULL); a; a = next_key(x, a)) {
        const sr_value *w = sr_obj_get(y, a->key, a->klen);
        if (!w) return 1;
        int c = sr_value_cmp(&a->v, w);
        if (c) return c;
    }
    return 0;
}

int sr_value_cmp(const sr_value *x, const sr_value *y)
{
    int rx = type_rank(x->type), ry = type_rank(y->type);
    if (rx != ry) return rx < ry ? -1 : 1;
    switch (x->type) {
    case SR_BOOL: return (int)x->u.b - (int)y->u.b;
    case SR_NUM:
    case SR_INT:
    case SR_DBL: return cmp_num(x, y);
    case SR_STR: return cmp_bytes(x->u.s, x->len, y->u.s, y->len);
    case SR_ARR: {
        uint32_t n = x->len < y->len ? x->len : y->len;
        for (uint32_t i = 0; i < n; i++) {
            int c = sr_value_cmp(&x->u.a[i], &y->u.a[i]);
            if (c) return c;
        }
        return x->len < y->len ? -1 : x->len > y->len;
    }
    case SR_OBJ: return cmp_obj(x, y);
    default: return 0;
    }
}

/* ---- text ---------------------------------------------------------------- */

sr_value sr_value_to_str(sr_arena *a, const sr_value *v)
{
    switch (v->type) {
    case SR_STR: return *v;
    case SR_NUM: return sr_str(v->u.s, v->len);
    case SR_BOOL: return v->u.b ? sr_str("true", 4) : sr_str("false", 5);
    case SR_MISSING:
    case SR_NULL: return sr_str("null", 4);
    case SR_INT: {
        char tmp[24];
        int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
        return sr_str_dup(a, tmp, (size_t)n);
    }
    default: {
        sr_buf b = {0};
        if (v->type == SR_DBL)
            sr_write_double(&b, v->u.d);
        else if (sr_json_write(&b, v) != 0)
            sr_buf_puts(&b, "null"); /* holds a NaN or infinity */
        sr_value s = sr_str_dup(a, b.d, b.len);
        sr_buf_free(&b);
        return s;
    }
    }
}
