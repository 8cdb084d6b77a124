/* funcs.c — the built-in functions of the expression language, with their docs. */
#include "exec/task.h"
#include "load/expr_int.h"
#include "state/agg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARG(i) (call->kids[i])

static int absent(ectx *cx, const enode *n, const sr_value *v)
{
    if (v->type == SR_MISSING) return sr_enode_fail(cx, n, "field is missing");
    if (v->type == SR_NULL) return sr_enode_fail(cx, n, "value is null");
    return 0;
}

static int get_num(ectx *cx, const enode *n, sr_value *v)
{
    if (absent(cx, n, v)) return -1;
    if (!sr_is_number(v))
        return sr_enode_fail(cx, n, "expected a number, got %s", sr_type_name(v->type));
    sr_num_norm_here(v);
    return 0;
}

static int get_str(ectx *cx, const enode *n, const sr_value *v)
{
    if (absent(cx, n, v)) return -1;
    if (v->type != SR_STR)
        return sr_enode_fail(cx, n, "expected a string, got %s", sr_type_name(v->type));
    return 0;
}

static int dbl_result(ectx *cx, const enode *n, double d, sr_value *out)
{
    if (!isfinite(d)) return sr_enode_fail(cx, n, "result is not a finite number");
    *out = sr_dbl(d);
    return 0;
}

/* A double that is a whole number within int64 range becomes an integer. */
static int whole(ectx *cx, const enode *n, double d, sr_value *out)
{
    if (!isfinite(d)) return sr_enode_fail(cx, n, "result is not a finite number");
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        *out = sr_int((int64_t)d);
        return 0;
    }
    return sr_enode_fail(cx, n, "result %g does not fit in a 64-bit integer", d);
}

/* ---- static checks -------------------------------------------------------------- */

static const char *want_types(const enode *call, sr_stype *types, int n, sr_stype want,
                              const char *what)
{
    static __thread char msg[160];
    for (int i = 0; i < n; i++) {
        if (types[i] != SR_T_ANY && types[i] != want) {
            snprintf(msg, sizeof(msg), "%s() needs %s arguments; argument %d is a %s",
                     call->u.fn->doc.name, what, i + 1, sr_stype_name(types[i]));
            return msg;
        }
    }
    return NULL;
}

static const char *chk_num(const enode *call, sr_stype *types, int n)
{
    return want_types(call, types, n, SR_T_NUM, "number");
}

static const char *chk_str(const enode *call, sr_stype *types, int n)
{
    return want_types(call, types, n, SR_T_STR, "string");
}

static const char *chk_minmax(const enode *call, sr_stype *types, int n)
{
    if (n == 1 && (types[0] == SR_T_ARR || types[0] == SR_T_ANY)) return NULL;
    return chk_num(call, types, n);
}

static const char *chk_has(const enode *call, sr_stype *types, int n)
{
    const enode *a = call->kids[0];
    if (a->kind != N_FIELD && a->kind != N_GET && a->kind != N_INDEX)
        return "has() takes a field, e.g. has(`accelerometer-x`) or has(a.b)";
    return NULL;
}

static const char *chk_bucket(const enode *call, sr_stype *types, int n)
{
    const char *m = chk_num(call, types, n);
    if (m) return m;
    const enode *lo = call->kids[1], *hi = call->kids[2], *k = call->kids[3];
    if (k->kind == N_LIT && k->u.lit.type == SR_DBL)
        return "bucket(): the number of buckets must be an integer";
    if (k->kind == N_LIT && k->u.lit.type == SR_INT && k->u.lit.u.i <= 0)
        return "bucket(): the number of buckets must be at least 1";
    if (lo->kind == N_LIT && hi->kind == N_LIT && sr_is_number(&lo->u.lit) &&
        sr_is_number(&hi->u.lit) && sr_num_double(&hi->u.lit) <= sr_num_double(&lo->u.lit))
        return "bucket(): hi must be greater than lo";
    return NULL;
}

static const char *chk_len(const enode *call, sr_stype *types, int n)
{
    static __thread char msg[96];
    if (types[0] == SR_T_ANY || types[0] == SR_T_STR || types[0] == SR_T_ARR ||
        types[0] == SR_T_OBJ)
        return NULL;
    snprintf(msg, sizeof(msg), "len() needs a string, an array or an object, not %s",
             sr_stype_name(types[0]));
    return msg;
}

static const char *chk_header(const enode *call, sr_stype *types, int n)
{
    return chk_str(call, types, n);
}

static const char *chk_if(const enode *call, sr_stype *types, int n)
{
    if (types[0] != SR_T_ANY && types[0] != SR_T_BOOL && types[0] != SR_T_NULL)
        return "if(): the condition must be a boolean";
    return NULL;
}

static const char *chk_substr(const enode *call, sr_stype *types, int n)
{
    if (types[0] != SR_T_ANY && types[0] != SR_T_STR)
        return "substr(): the first argument must be a string";
    for (int i = 1; i < n; i++)
        if (types[i] != SR_T_ANY && types[i] != SR_T_NUM)
            return "substr(): start and length must be numbers";
    return NULL;
}

static const char *chk_round(const enode *call, sr_stype *types, int n)
{
    return chk_num(call, types, n);
}

static const char *chk_contains(const enode *call, sr_stype *types, int n)
{
    if (types[0] == SR_T_STR && types[1] != SR_T_ANY && types[1] != SR_T_STR)
        return "contains(): looking for a non-string in a string";
    if (types[0] != SR_T_ANY && types[0] != SR_T_STR && types[0] != SR_T_ARR &&
        types[0] != SR_T_OBJ)
        return "contains(): the first argument must be a string, an array or an object";
    return NULL;
}

/* ---- math -------------------------------------------------------------------------- */

static int f_abs(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    if (a[0].type == SR_INT) {
        if (a[0].u.i == INT64_MIN) return sr_enode_fail(cx, call, "integer overflow");
        *out = sr_int(a[0].u.i < 0 ? -a[0].u.i : a[0].u.i);
        return 0;
    }
    return dbl_result(cx, call, fabs(a[0].u.d), out);
}

static int f_round(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    if (n == 1) {
        if (a[0].type == SR_INT) {
            *out = a[0];
            return 0;
        }
        return whole(cx, call, round(a[0].u.d), out);
    }
    if (get_num(cx, ARG(1), &a[1])) return -1;
    if (a[1].type != SR_INT || a[1].u.i < 0 || a[1].u.i > 15)
        return sr_enode_fail(cx, ARG(1), "digits must be an integer from 0 to 15");
    if (a[0].type == SR_INT) {
        *out = a[0];
        return 0;
    }
    /* from 2^52 up every double is whole, and x * scale could overflow */
    if (fabs(a[0].u.d) >= 4503599627370496.0) return dbl_result(cx, call, a[0].u.d, out);
    double scale = pow(10.0, (double)a[1].u.i);
    return dbl_result(cx, call, round(a[0].u.d * scale) / scale, out);
}

static int f_floor(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    if (a[0].type == SR_INT) {
        *out = a[0];
        return 0;
    }
    return whole(cx, call, floor(a[0].u.d), out);
}

static int f_ceil(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    if (a[0].type == SR_INT) {
        *out = a[0];
        return 0;
    }
    return whole(cx, call, ceil(a[0].u.d), out);
}

static int f_int(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    if (a[0].type == SR_INT) {
        *out = a[0];
        return 0;
    }
    return whole(cx, call, trunc(a[0].u.d), out);
}

static int f_sqrt(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    double x = sr_num_double(&a[0]);
    if (x < 0) return sr_enode_fail(cx, call, "square root of a negative number");
    return dbl_result(cx, call, sqrt(x), out);
}

static int f_pow(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0]) || get_num(cx, ARG(1), &a[1])) return -1;
    return dbl_result(cx, call, pow(sr_num_double(&a[0]), sr_num_double(&a[1])), out);
}

static int f_log(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    double x = sr_num_double(&a[0]);
    if (x <= 0) return sr_enode_fail(cx, call, "logarithm of a number that is not positive");
    if (n == 1) return dbl_result(cx, call, log(x), out);
    if (get_num(cx, ARG(1), &a[1])) return -1;
    double b = sr_num_double(&a[1]);
    if (b <= 0 || b == 1) return sr_enode_fail(cx, ARG(1), "the base must be positive and not 1");
    double r = log(x) / log(b);
    /* the quotient can miss by an ulp (log(1000) / log(10) < 3): exact powers
     * of the base give their exact exponent */
    double k = round(r);
    if (fabs(r - k) < 1e-9 && pow(b, k) == x) r = k;
    return dbl_result(cx, call, r, out);
}

static int f_exp(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_num(cx, ARG(0), &a[0])) return -1;
    return dbl_result(cx, call, exp(sr_num_double(&a[0])), out);
}

static int minmax(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out, int sign)
{
    const sr_value *items = a;
    int count = n;
    if (n == 1 && a[0].type == SR_ARR) {
        items = a[0].u.a;
        count = (int)a[0].len;
        if (count == 0) return sr_enode_fail(cx, ARG(0), "empty array");
    }
    sr_value best = {.type = SR_MISSING};
    for (int i = 0; i < count; i++) {
        sr_value v = items[i];
        const enode *where = items == a ? ARG(i) : ARG(0);
        if (get_num(cx, where, &v)) return -1;
        if (best.type == SR_MISSING || sr_value_cmp(&v, &best) * sign > 0) best = v;
    }
    if (best.type == SR_DBL) return dbl_result(cx, call, best.u.d, out);
    *out = best;
    return 0;
}

static int f_min(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    return minmax(cx, call, a, n, out, -1);
}

static int f_max(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    return minmax(cx, call, a, n, out, 1);
}

static int f_bucket(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    for (int i = 0; i < 4; i++)
        if (get_num(cx, ARG(i), &a[i])) return -1;
    if (a[3].type != SR_INT || a[3].u.i < 1)
        return sr_enode_fail(cx, ARG(3), "the number of buckets must be an integer of at least 1");
    double x = sr_num_double(&a[0]), lo = sr_num_double(&a[1]), hi = sr_num_double(&a[2]);
    if (!(hi > lo)) return sr_enode_fail(cx, call, "hi must be greater than lo");
    if (isnan(x) || !isfinite(lo) || !isfinite(hi))
        return sr_enode_fail(cx, call, "x, lo and hi must be finite numbers");
    int64_t b = sr_bucket_index(x, lo, hi, a[3].u.i);
    *out = sr_int(b);
    return 0;
}

/* ---- strings ------------------------------------------------------------------------- */

static size_t utf8_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Byte offset of code point k in s (clamped to n). */
static size_t utf8_offset(const char *s, size_t n, int64_t k)
{
    size_t i = 0;
    while (i < n && k > 0) {
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        k--;
    }
    return i;
}

static int f_len(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (absent(cx, ARG(0), &a[0])) return -1;
    switch (a[0].type) {
    case SR_STR: *out = sr_int((int64_t)utf8_count(a[0].u.s, a[0].len)); return 0;
    case SR_ARR:
    case SR_OBJ: *out = sr_int(a[0].len); return 0;
    default:
        return sr_enode_fail(cx, ARG(0), "len() needs a string, an array or an object, got %s",
                             sr_type_name(a[0].type));
    }
}

static int change_case(ectx *cx, const enode *call, sr_value *a, sr_value *out, int upper)
{
    if (get_str(cx, ARG(0), &a[0])) return -1;
    char *d = sr_arena_alloc(&cx->t->arena, a[0].len ? a[0].len : 1);
    for (uint32_t i = 0; i < a[0].len; i++) {
        unsigned char c = (unsigned char)a[0].u.s[i];
        d[i] = (char)(upper ? toupper(c) : tolower(c));
    }
    *out = sr_str(d, a[0].len);
    return 0;
}

static int f_lower(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    return change_case(cx, call, a, out, 0);
}

static int f_upper(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    return change_case(cx, call, a, out, 1);
}

static int f_trim(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_str(cx, ARG(0), &a[0])) return -1;
    const char *s = a[0].u.s;
    size_t b = 0, e = a[0].len;
    while (b < e && isspace((unsigned char)s[b])) b++;
    while (e > b && isspace((unsigned char)s[e - 1])) e--;
    *out = sr_str(s + b, e - b);
    return 0;
}

static int f_concat(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (absent(cx, ARG(i), &a[i])) return -1;
        a[i] = sr_value_to_str(&cx->t->arena, &a[i]);
        total += a[i].len;
    }
    char *d = sr_arena_alloc(&cx->t->arena, total ? total : 1);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        memcpy(d + k, a[i].u.s, a[i].len);
        k += a[i].len;
    }
    *out = sr_str(d, total);
    return 0;
}

static bool has_sub(const sr_value *s, const sr_value *sub)
{
    if (sub->len == 0) return true;
    if (sub->len > s->len) return false;
    return memmem(s->u.s, s->len, sub->u.s, sub->len) != NULL;
}

static int f_contains(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (absent(cx, ARG(0), &a[0])) return -1;
    if (a[1].type == SR_MISSING) return absent(cx, ARG(1), &a[1]);
    switch (a[0].type) {
    case SR_STR:
        if (get_str(cx, ARG(1), &a[1])) return -1;
        *out = sr_bool(has_sub(&a[0], &a[1]));
        return 0;
    case SR_ARR:
        for (uint32_t i = 0; i < a[0].len; i++) {
            if (sr_value_equal(&a[0].u.a[i], &a[1])) {
                *out = sr_bool(true);
                return 0;
            }
        }
        *out = sr_bool(false);
        return 0;
    case SR_OBJ:
        if (get_str(cx, ARG(1), &a[1])) return -1;
        *out = sr_bool(sr_obj_get(&a[0], a[1].u.s, a[1].len) != NULL);
        return 0;
    default:
        return sr_enode_fail(cx, ARG(0), "contains() needs a string, an array or an object, got %s",
                             sr_type_name(a[0].type));
    }
}

static int f_starts_with(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_str(cx, ARG(0), &a[0]) || get_str(cx, ARG(1), &a[1])) return -1;
    *out = sr_bool(a[1].len <= a[0].len && memcmp(a[0].u.s, a[1].u.s, a[1].len) == 0);
    return 0;
}

static int f_ends_with(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_str(cx, ARG(0), &a[0]) || get_str(cx, ARG(1), &a[1])) return -1;
    *out = sr_bool(a[1].len <= a[0].len &&
                   memcmp(a[0].u.s + a[0].len - a[1].len, a[1].u.s, a[1].len) == 0);
    return 0;
}

static int f_substr(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_str(cx, ARG(0), &a[0]) || get_num(cx, ARG(1), &a[1])) return -1;
    if (a[1].type != SR_INT || a[1].u.i < 0)
        return sr_enode_fail(cx, ARG(1), "start must be a non-negative integer");
    int64_t count = INT64_MAX;
    if (n == 3) {
        if (get_num(cx, ARG(2), &a[2])) return -1;
        if (a[2].type != SR_INT || a[2].u.i < 0)
            return sr_enode_fail(cx, ARG(2), "length must be a non-negative integer");
        count = a[2].u.i;
    }
    size_t b = utf8_offset(a[0].u.s, a[0].len, a[1].u.i);
    size_t e = b + utf8_offset(a[0].u.s + b, a[0].len - b, count);
    *out = sr_str(a[0].u.s + b, e - b);
    return 0;
}

static int f_replace(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    for (int i = 0; i < 3; i++)
        if (get_str(cx, ARG(i), &a[i])) return -1;
    if (a[1].len == 0) return sr_enode_fail(cx, ARG(1), "cannot replace an empty string");
    sr_buf b = {0};
    const char *s = a[0].u.s, *end = s + a[0].len;
    while (s < end) {
        const char *hit = memmem(s, (size_t)(end - s), a[1].u.s, a[1].len);
        if (!hit) break;
        sr_buf_put(&b, s, (size_t)(hit - s));
        sr_buf_put(&b, a[2].u.s, a[2].len);
        s = hit + a[1].len;
    }
    sr_buf_put(&b, s, (size_t)(end - s));
    *out = sr_str_dup(&cx->t->arena, b.d ? b.d : "", b.len);
    sr_buf_free(&b);
    return 0;
}

/* ---- conversion and null handling -------------------------------------------------- */

/* A decimal number as people write it: an optional sign, digits with an
 * optional fraction (either part may be empty, not both; leading zeros are
 * fine) and an optional exponent. */
static bool decimal_syntax(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    for (; i < n && isdigit((unsigned char)s[i]); i++) digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && isdigit((unsigned char)s[i]); i++) digits++;
    if (digits == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t start = i;
        while (i < n && isdigit((unsigned char)s[i])) i++;
        if (i == start) return false;
    }
    return i == n;
}

static int f_to_number(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (absent(cx, ARG(0), &a[0])) return -1;
    switch (a[0].type) {
    case SR_NUM:
    case SR_INT:
    case SR_DBL:
        *out = sr_num_norm(&a[0]);
        if (out->type == SR_DBL) return dbl_result(cx, call, out->u.d, out);
        return 0;
    case SR_BOOL: *out = sr_int(a[0].u.b ? 1 : 0); return 0;
    case SR_STR: {
        const char *s = a[0].u.s;
        size_t len = a[0].len;
        while (len && isspace((unsigned char)*s)) s++, len--;
        while (len && isspace((unsigned char)s[len - 1])) len--;
        if (decimal_syntax(s, len)) {
            if (*s == '+') s++, len--;
            sr_value tmp = {.type = SR_NUM, .len = (uint32_t)len, .u.s = s};
            *out = sr_num_norm(&tmp);
            if (out->type == SR_DBL) return dbl_result(cx, call, out->u.d, out);
            return 0;
        }
        return sr_enode_fail(cx, ARG(0), "'%.*s' is not a number",
                             (int)(a[0].len > 40 ? 40 : a[0].len), a[0].u.s);
    }
    default:
        return sr_enode_fail(cx, ARG(0), "cannot convert %s to a number", sr_type_name(a[0].type));
    }
}

static int f_to_string(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (a[0].type == SR_MISSING) return absent(cx, ARG(0), &a[0]);
    *out = sr_value_to_str(&cx->t->arena, &a[0]);
    return 0;
}

static int f_type(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    const char *t = sr_type_name(a[0].type);
    *out = sr_str(t, strlen(t));
    return 0;
}

static int f_is_null(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    *out = sr_bool(a[0].type == SR_NULL || a[0].type == SR_MISSING);
    return 0;
}

/* lazy: arguments are not evaluated beforehand */
static int f_has(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    sr_value v;
    if (sr_enode_eval(cx, ARG(0), &v)) return -1;
    *out = sr_bool(v.type != SR_MISSING);
    return 0;
}

static int f_coalesce(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    for (int i = 0; i < n; i++) {
        if (sr_enode_eval(cx, ARG(i), out)) return -1;
        if (out->type != SR_MISSING && out->type != SR_NULL) return 0;
    }
    *out = sr_null();
    return 0;
}

static int f_if(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    sr_value c;
    if (sr_enode_eval(cx, ARG(0), &c)) return -1;
    if (c.type == SR_MISSING) return absent(cx, ARG(0), &c);
    if (c.type != SR_NULL && c.type != SR_BOOL)
        return sr_enode_fail(cx, ARG(0), "expected a boolean, got %s", sr_type_name(c.type));
    return sr_enode_eval(cx, ARG((c.type == SR_BOOL && c.u.b) ? 1 : 2), out);
}

/* ---- record and clock ----------------------------------------------------------------- */

static int f_now(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    *out = sr_int(cx->t->now_ms);
    return 0;
}

static int f_header(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (get_str(cx, ARG(0), &a[0])) return -1;
    const sr_record *r = cx->r;
    for (uint32_t i = r->nhdr; i-- > 0;) { /* the last header of a name wins */
        const sr_header *h = &r->hdr[i];
        if (h->nlen == a[0].len && memcmp(h->name, a[0].u.s, h->nlen) == 0) {
            *out = h->val ? sr_str(h->val, h->vlen) : sr_null();
            return 0;
        }
    }
    *out = sr_null();
    return 0;
}

/* ---- custom dead letters --------------------------------------------------------------- */

/* fail(reason): the record fails with reason as it is (a string; other values as their JSON
 * text), so it goes to the dead-letter topic with that reason. Never returns a value. */
static int f_fail(ectx *cx, const enode *call, sr_value *a, int n, sr_value *out)
{
    if (absent(cx, ARG(0), &a[0])) return -1;
    if (a[0].type == SR_STR) return sr_task_fail(cx->t, cx->op, "%.*s", (int)a[0].len, a[0].u.s);
    sr_value text = sr_value_to_str(&cx->t->arena, &a[0]);
    return sr_task_fail(cx->t, cx->op, "%.*s", (int)text.len, text.u.s);
}

/* ---- the table -------------------------------------------------------------------------- */

#define DOC(name, sig, doc, ex)                                                                    \
    {                                                                                              \
        name, sig, doc, ex                                                                         \
    }

const func sr_funcs[] = {
    {DOC("abs", "abs(x)", "absolute value; integers stay integers", "abs(`accelerometer-x`)"), 1, 1,
     SR_T_NUM, false, f_abs, chk_num},
    {DOC("round", "round(x[, digits])",
         "nearest integer (halves away from zero), or x rounded to digits decimals",
         "round(speed * 3.6, 1)"),
     1, 2, SR_T_NUM, false, f_round, chk_round},
    {DOC("floor", "floor(x)", "largest integer not above x", "floor(temperature)"), 1, 1, SR_T_NUM,
     false, f_floor, chk_num},
    {DOC("ceil", "ceil(x)", "smallest integer not below x", "ceil(load / 10)"), 1, 1, SR_T_NUM,
     false, f_ceil, chk_num},
    {DOC("int", "int(x)", "x truncated toward zero, as an integer", "int(time / 1000000)"), 1, 1,
     SR_T_NUM, false, f_int, chk_num},
    {DOC("sqrt", "sqrt(x)", "square root; a negative x is an error", "sqrt(x*x + y*y)"), 1, 1,
     SR_T_NUM, false, f_sqrt, chk_num},
    {DOC("pow", "pow(x, y)", "x to the power y", "pow(speed, 2)"), 2, 2, SR_T_NUM, false, f_pow,
     chk_num},
    {DOC("log", "log(x[, base])", "natural logarithm, or logarithm in base", "log(count, 10)"), 1,
     2, SR_T_NUM, false, f_log, chk_num},
    {DOC("exp", "exp(x)", "e to the power x", "1 / (1 + exp(-score))"), 1, 1, SR_T_NUM, false,
     f_exp, chk_num},
    {DOC("min", "min(a, b, ...) or min(array)", "smallest of numbers", "min(x, y, z)"), 1, -1,
     SR_T_NUM, false, f_min, chk_minmax},
    {DOC("max", "max(a, b, ...) or max(array)", "largest of numbers", "max(readings)"), 1, -1,
     SR_T_NUM, false, f_max, chk_minmax},
    {DOC("bucket", "bucket(x, lo, hi, n)",
         "index 0..n-1 of the uniform bin of [lo, hi) that holds x; values outside are clamped",
         "bucket(age, 0, 100, 10)"),
     4, 4, SR_T_NUM, false, f_bucket, chk_bucket},
    {DOC("len", "len(x)", "characters of a string, elements of an array or members of an object",
         "len(payload)"),
     1, 1, SR_T_NUM, false, f_len, chk_len},
    {DOC("lower", "lower(s)", "ASCII lower case", "lower(city)"), 1, 1, SR_T_STR, false, f_lower,
     chk_str},
    {DOC("upper", "upper(s)", "ASCII upper case", "upper(code)"), 1, 1, SR_T_STR, false, f_upper,
     chk_str},
    {DOC("trim", "trim(s)", "s without leading and trailing white space", "trim(name)"), 1, 1,
     SR_T_STR, false, f_trim, chk_str},
    {DOC("concat", "concat(a, b, ...)", "the text of every argument joined; null is an error",
         "concat(name, \"-\", sensor)"),
     1, -1, SR_T_STR, false, f_concat, NULL},
    {DOC("substr", "substr(s, start[, length])", "characters from start (0-based)",
         "substr(deviceId, 0, 8)"),
     2, 3, SR_T_STR, false, f_substr, chk_substr},
    {DOC("replace", "replace(s, old, new)", "every occurrence of old replaced by new",
         "replace(city, \"Abuja\", \"Federal Capital Territory\")"),
     3, 3, SR_T_STR, false, f_replace, chk_str},
    {DOC("contains", "contains(s, part) / contains(array, x) / contains(object, key)",
         "substring, element or member test", "contains(lower(note), \"error\")"),
     2, 2, SR_T_BOOL, false, f_contains, chk_contains},
    {DOC("starts_with", "starts_with(s, prefix)", "prefix test", "starts_with(name, \"accel\")"), 2,
     2, SR_T_BOOL, false, f_starts_with, chk_str},
    {DOC("ends_with", "ends_with(s, suffix)", "suffix test", "ends_with(file, \".csv\")"), 2, 2,
     SR_T_BOOL, false, f_ends_with, chk_str},
    {DOC("has", "has(field)", "true when the field exists (even if null)",
         "has(`accelerometer-x`)"),
     1, 1, SR_T_BOOL, true, f_has, chk_has},
    {DOC("coalesce", "coalesce(a, b, ...)", "the first argument that is neither missing nor null",
         "coalesce(speed, gps.speed, 0)"),
     1, -1, SR_T_ANY, true, f_coalesce, NULL},
    {DOC("is_null", "is_null(x)", "true when x is null or missing", "is_null(age)"), 1, 1,
     SR_T_BOOL, false, f_is_null, NULL},
    {DOC("if", "if(condition, a, b)", "a when the condition is true, else b (null counts as false)",
         "if(speed > 3, \"moving\", \"still\")"),
     3, 3, SR_T_ANY, true, f_if, chk_if},
    {DOC("to_number", "to_number(x)", "a number from a number, a numeric string or a boolean",
         "to_number(age)"),
     1, 1, SR_T_NUM, false, f_to_number, NULL},
    {DOC("to_string", "to_string(x)", "the text of x (JSON text for arrays and objects)",
         "to_string(messageId)"),
     1, 1, SR_T_STR, false, f_to_string, NULL},
    {DOC("type", "type(x)",
         "\"null\", \"boolean\", \"number\", \"string\", \"array\", \"object\" or \"missing\"",
         "type(values)"),
     1, 1, SR_T_STR, false, f_type, NULL},
    {DOC("now", "now()",
         "wall-clock time in ms since the epoch (the test clock under streamrun test)",
         "now() - $timestamp"),
     0, 0, SR_T_NUM, false, f_now, NULL},
    {DOC("header", "header(name)", "value of the record header name as a string, or null",
         "header(\"source\")"),
     1, 1, SR_T_ANY, false, f_header, chk_header},
    {DOC("fail", "fail(reason)",
         "fails the record: it goes to the dead-letter topic with reason (text; another value "
         "as its JSON text) as its streamrun.error header; has no value, so it fits anywhere",
         "if(amount >= 0, amount, fail(concat(\"negative amount: \", amount)))"),
     1, 1, SR_T_ANY, false, f_fail, NULL},
    {{0}, 0, 0, 0, false, NULL, NULL},
};

const func *sr_func_find(const char *name, size_t n)
{
    for (const func *f = sr_funcs; f->doc.name; f++)
        if (strlen(f->doc.name) == n && memcmp(f->doc.name, name, n) == 0) return f;
    return NULL;
}

int sr_func_count(void)
{
    return (int)(sizeof(sr_funcs) / sizeof(sr_funcs[0])) - 1;
}

const sr_func_doc *sr_func_doc_at(int i)
{
    return &sr_funcs[i].doc;
}
