/* test_json.c — unit tests for the JSON parser/writer and the sr_value helpers. */
#include "test.h"
#include "base/value.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static sr_arena A;
static sr_buf dumpbuf, dblbuf;
static char errmsg[128];
static size_t errpos;

static int parse(const char *s, sr_value *v)
{
    errmsg[0] = 0;
    errpos = (size_t)-1;
    return sr_json_parse(&A, s, strlen(s), v, errmsg, sizeof(errmsg), &errpos);
}

/* Compact JSON of v in a static buffer, or "<error>" when writing fails. */
static const char *dump(const sr_value *v)
{
    dumpbuf.len = 0;
    if (sr_json_write(&dumpbuf, v) != 0) return "<error>";
    return sr_buf_cstr(&dumpbuf);
}

/* Parses in and returns its compact JSON text, or "<parse error: msg>". */
static const char *rewrite(const char *in)
{
    static char e[200];
    sr_value v;
    if (parse(in, &v) != 0) {
        snprintf(e, sizeof(e), "<parse error: %s>", errmsg);
        return e;
    }
    return dump(&v);
}

/* The input must fail with this message at this offset. */
#define CHECK_ERR(in, msg, pos)                                                                    \
    do {                                                                                           \
        sr_value v_;                                                                               \
        CHECK(parse(in, &v_) == -1);                                                               \
        CHECK_STR(errmsg, msg);                                                                    \
        CHECK(errpos == (size_t)(pos));                                                            \
    } while (0)

static sr_value num(const char *text)
{
    sr_value v = {.type = SR_NUM, .len = (uint32_t)strlen(text), .u.s = text};
    return v;
}

static const char *dbl_text(double d)
{
    dblbuf.len = 0;
    sr_write_double(&dblbuf, d);
    return sr_buf_cstr(&dblbuf);
}

static const char *dumpv(sr_value v)
{
    return dump(&v);
}

static sr_value norm(sr_value v)
{
    return sr_num_norm(&v);
}

static double numd(sr_value v)
{
    return sr_num_double(&v);
}

static void test_round_trips(void)
{
    const char *same[] = {
        "{\"time\":1715254403007507000,\"x\":-0.006461451099067926}",
        "[]",
        "{}",
        "[[],{},[{}]]",
        "\"\"",
        "true",
        "false",
        "null",
        "0",
        "-0",
        "[1,-0,0.5,1e10,1E-5,-1.5e+300,2.50,123456789012345678901234567890]",
        "{\"a\":{\"b\":{\"c\":[1,2,{\"d\":null}]}},\"e\":\"f\"}",
        "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"",
        "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\"",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        CHECK_STR(rewrite(same[i]), same[i]);

    CHECK_STR(rewrite(" \t\r\n{ \"a\" : [ 1 , 2 ] ,\"b\":\n{ } }\n "), "{\"a\":[1,2],\"b\":{}}");
    CHECK_STR(rewrite("[ ]"), "[]");
    CHECK_STR(rewrite("\"\\/\""), "\"/\"");
    CHECK_STR(rewrite("\"\\u007f\\u0020\""), "\"\x7f \"");
}

static void test_strings(void)
{
    sr_value v;
    const char *in = "\"abc\"";
    CHECK(parse(in, &v) == 0 && v.type == SR_STR && v.len == 3);
    CHECK(v.u.s == in + 1); /* zero copy */

    in = "\"a\\nb\"";
    CHECK(parse(in, &v) == 0 && v.len == 3 && memcmp(v.u.s, "a\nb", 3) == 0);
    CHECK(v.u.s < in || v.u.s >= in + strlen(in)); /* decoded into the arena */

    CHECK(parse("\"\\u00e9\\u20AC\"", &v) == 0 && v.len == 5);
    CHECK(memcmp(v.u.s, "\xc3\xa9\xe2\x82\xac", 5) == 0);
    CHECK(parse("\"x\\ud83d\\ude00y\"", &v) == 0 && v.len == 6);
    CHECK(memcmp(v.u.s, "x\xf0\x9f\x98\x80y", 6) == 0);
    CHECK(parse("\"\\u0000\"", &v) == 0 && v.len == 1 && v.u.s[0] == 0);
    CHECK_STR(dump(&v), "\"\\u0000\"");
    CHECK(parse("\"\\\\\"", &v) == 0 && v.len == 1 && v.u.s[0] == '\\');

    /* Writer escapes. */
    sr_buf b = {0};
    sr_json_write_str(&b, "q\"b\\s/\x01\x1f\x7f\xc3\xa9\n", 12);
    CHECK_STR(sr_buf_cstr(&b), "\"q\\\"b\\\\s/\\u0001\\u001f\x7f\xc3\xa9\\n\"");
    /* Many escapes in a row must keep growing the buffer correctly. */
    char ctl[300];
    memset(ctl, 1, sizeof(ctl));
    b.len = 0;
    sr_json_write_str(&b, ctl, sizeof(ctl));
    CHECK(b.len == 2 + 6 * sizeof(ctl));
    CHECK(memcmp(b.d + b.len - 7, "\\u0001\"", 7) == 0);
    b.len = 0;
    sr_json_write_str(&b, NULL, 0);
    CHECK_STR(sr_buf_cstr(&b), "\"\"");
    sr_value nul0 = sr_str(NULL, 0), empty = sr_str("", 0);
    CHECK(sr_value_equal(&nul0, &empty) && sr_value_cmp(&nul0, &empty) == 0);
    sr_buf_free(&b);
}

static void test_errors(void)
{
    sr_value v0;
    CHECK_ERR("", "unexpected end of input", 0);
    CHECK_ERR("   ", "unexpected end of input", 3);
    CHECK_ERR("[1,2", "unexpected end of input in array", 4);
    CHECK_ERR("[1,", "unexpected end of input", 3);
    CHECK_ERR("{\"a\":", "unexpected end of input", 5);
    CHECK_ERR("{\"a\":1", "unexpected end of input in object", 6);
    CHECK_ERR("{", "unexpected end of input in object", 1);
    CHECK_ERR("[1 2]", "expected ',' or ']' after array element", 3);
    CHECK_ERR("{\"a\":1 \"b\":2}", "expected ',' or '}' after object member", 7);
    CHECK_ERR("{\"a\":1]", "expected ',' or '}' after object member", 6);
    CHECK_ERR("{\"a\" 1}", "expected ':' after object key", 5);
    CHECK_ERR("{1:2}", "expected string key in object", 1);
    CHECK_ERR("{\"a\":1,}", "expected string key in object", 7);
    CHECK_ERR("[1,]", "expected a JSON value", 3);
    CHECK_ERR("01", "invalid number: leading zero", 0);
    CHECK_ERR("[-01]", "invalid number: leading zero", 1);
    CHECK_ERR("-", "invalid number: expected a digit", 1);
    CHECK_ERR("-a", "invalid number: expected a digit", 1);
    CHECK_ERR("1.", "invalid number: expected a digit after '.'", 2);
    CHECK_ERR("1.e5", "invalid number: expected a digit after '.'", 2);
    CHECK_ERR("1e", "invalid number: expected a digit in exponent", 2);
    CHECK_ERR("1e+", "invalid number: expected a digit in exponent", 3);
    CHECK_ERR(".5", "expected a JSON value", 0);
    CHECK_ERR("+1", "expected a JSON value", 0);
    CHECK_ERR("NaN", "expected a JSON value", 0);
    CHECK_ERR("[Infinity]", "expected a JSON value", 1);
    CHECK_ERR("'a'", "expected a JSON value", 0);
    CHECK_ERR("tru", "invalid literal", 0);
    CHECK_ERR("[nul]", "invalid literal", 1);
    CHECK_ERR("True", "expected a JSON value", 0);
    CHECK_ERR("1 2", "trailing characters after JSON value", 2);
    CHECK_ERR("{}x", "trailing characters after JSON value", 2);
    CHECK_ERR("truex", "trailing characters after JSON value", 4);
    CHECK_ERR("0x10", "trailing characters after JSON value", 1);
    CHECK_ERR("\"abc", "unterminated string", 0);
    CHECK_ERR("[\"a\\", "unterminated string", 1);
    CHECK_ERR("\"a\\n", "unterminated string", 0);
    CHECK_ERR("\"a\nb\"", "control character in string", 2);
    CHECK_ERR("\"\\n\x01\"", "control character in string", 3);
    CHECK_ERR("\"a\\x\"", "invalid escape in string", 2);
    CHECK_ERR("\"a\\\tb\"", "invalid escape in string", 2);
    CHECK_ERR("\"\\u12G4\"", "invalid \\u escape", 1);
    CHECK_ERR("\"\\u12\"", "invalid \\u escape", 1);
    CHECK_ERR("\"\\ud800\"", "lone high surrogate in \\u escape", 1);
    CHECK_ERR("\"\\ud800\\u0041\"", "lone high surrogate in \\u escape", 1);
    CHECK_ERR("\"\\ud800\\n\"", "lone high surrogate in \\u escape", 1);
    CHECK_ERR("\"x\\udc00\"", "lone low surrogate in \\u escape", 2);

    CHECK(sr_json_parse(&A, NULL, 0, &v0, errmsg, sizeof(errmsg), &errpos) == -1);
    CHECK_STR(errmsg, "unexpected end of input");
    CHECK(v0.type == SR_NULL);

    /* NULL error outputs are allowed. */
    sr_value v;
    CHECK(sr_json_parse(&A, "[", 1, &v, NULL, 0, NULL) == -1);
    /* Length is honoured: the text after len is not looked at. */
    CHECK(sr_json_parse(&A, "12345", 2, &v, NULL, 0, NULL) == 0 && v.len == 2);
    CHECK(sr_json_parse(&A, "\"ab\"", 3, &v, NULL, 0, NULL) == -1);
}

static void test_utf8(void)
{
    /* valid: the first and last code point of each length, around the surrogates */
    const char *good[] = {"\"\xc2\x80 \xdf\xbf\"",         "\"\xe0\xa0\x80 \xef\xbf\xbf\"",
                          "\"\xed\x9f\xbf \xee\x80\x80\"", "\"\xf0\x90\x80\x80\"",
                          "\"\xf4\x8f\xbf\xbf\"",          "{\"caf\xc3\xa9\":\"\xe2\x82\xac\\n\"}"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_STR(rewrite(good[i]), good[i]);

    /* invalid, each at its byte offset */
    CHECK_ERR("\"\x80\"", "invalid UTF-8 in string", 1);             /* stray continuation */
    CHECK_ERR("\"ab\xc0\x80\"", "invalid UTF-8 in string", 3);       /* overlong NUL */
    CHECK_ERR("\"\xc1\xbf\"", "invalid UTF-8 in string", 1);         /* overlong */
    CHECK_ERR("\"\xe0\x9f\xbf\"", "invalid UTF-8 in string", 1);     /* overlong */
    CHECK_ERR("\"\xed\xa0\x80\"", "invalid UTF-8 in string", 1);     /* surrogate U+D800 */
    CHECK_ERR("\"\xf0\x8f\xbf\xbf\"", "invalid UTF-8 in string", 1); /* overlong */
    CHECK_ERR("\"\xf4\x90\x80\x80\"", "invalid UTF-8 in string", 1); /* past U+10FFFF */
    CHECK_ERR("\"\xf5\x80\x80\x80\"", "invalid UTF-8 in string", 1);
    CHECK_ERR("\"\xff\"", "invalid UTF-8 in string", 1);
    CHECK_ERR("\"\xe2\x82\"", "invalid UTF-8 in string", 1); /* cut short by the quote */
    CHECK_ERR("\"\xe2\x82"
              "a\"",
              "invalid UTF-8 in string", 1);
    CHECK_ERR("\"\xf0\x9f\x98\"", "invalid UTF-8 in string", 1);
    /* past the 16-byte vector scan, after escapes, in keys, inside containers */
    CHECK_ERR("\"0123456789abcdef0123\xff\"", "invalid UTF-8 in string", 21);
    CHECK_ERR("\"\\n\xe9t\xc3\xa9\"", "invalid UTF-8 in string", 3);
    CHECK_ERR("\"0123456789abcdef\\t\xe9\"", "invalid UTF-8 in string", 19);
    CHECK_ERR("{\"k\xe9y\":1}", "invalid UTF-8 in string", 3);
    CHECK_ERR("[1,{\"a\":[\"ok\",\"\xc3\"]}]", "invalid UTF-8 in string", 15);
    CHECK(sr_utf8_invalid("abc", 3) == 3 && sr_utf8_invalid("a\xc3", 2) == 1);
    CHECK(sr_utf8_invalid("abcdefgh\xc3\xa9ijklmnop\x80", 19) == 18);

    /* the writer never writes invalid UTF-8: such bytes become U+FFFD */
    sr_buf b = {0};
    sr_json_write_str(&b,
                      "a\xff"
                      "b",
                      3);
    CHECK_STR(sr_buf_cstr(&b), "\"a\xef\xbf\xbd"
                               "b\"");
    b.len = 0;
    sr_json_write_str(&b, "\xe2\x82\n0123456789abcdef\xc3\xa9\"", 22);
    CHECK_STR(sr_buf_cstr(&b), "\"\xef\xbf\xbd\xef\xbf\xbd\\n0123456789abcdef\xc3\xa9\\\"\"");
    b.len = 0;
    sr_buf_puts(&b, "[");
    sr_json_write_str(&b, "\xed\xa0\x80", 3);
    CHECK_STR(sr_buf_cstr(&b), "[\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    sr_value v;
    CHECK(parse(sr_buf_cstr(&b) + 1, &v) == 0); /* and it reads back */
    sr_buf_free(&b);
}

static void test_duplicate_keys(void)
{
    /* the last value, in the first place */
    CHECK_STR(rewrite("{\"a\":1,\"b\":2,\"a\":3}"), "{\"a\":3,\"b\":2}");
    CHECK_STR(
        rewrite("{\"a\":1,\"a\":{\"x\":1,\"x\":[2]},\"a\":{\"y\":0,\"y\":[1,{\"z\":1,\"z\":2}]}}"),
        "{\"a\":{\"y\":[1,{\"z\":2}]}}");
    CHECK_STR(rewrite("{\"\":1,\"\":2}"), "{\"\":2}");
    CHECK_STR(rewrite("{\"a\\u0062\":1,\"ab\":2}"), "{\"ab\":2}"); /* the same key, escaped */
    sr_value v;
    CHECK(parse("{\"a\":1,\"a\":2}", &v) == 0 && v.len == 1);
    CHECK(sr_obj_get(&v, "a", 1)->u.s[0] == '2');

    /* large objects: the repeats past the first 32 members, and many repeats */
    sr_buf in = {0}, want = {0};
    sr_buf_puts(&in, "{");
    sr_buf_puts(&want, "{");
    for (int i = 0; i < 100; i++) {
        sr_buf_printf(&in, "%s\"k%d\":%d", i ? "," : "", i, i);
        sr_buf_printf(&want, "%s\"k%d\":%d", i ? "," : "", i, i % 10 == 0 ? -i : i);
    }
    for (int i = 90; i >= 0; i -= 10) sr_buf_printf(&in, ",\"k%d\":%d", i, -i);
    sr_buf_puts(&in, "}");
    sr_buf_puts(&want, "}");
    CHECK_STR(rewrite(sr_buf_cstr(&in)), sr_buf_cstr(&want));
    in.len = 0;
    sr_buf_puts(&in, "{");
    for (int i = 0; i < 100000; i++) sr_buf_printf(&in, "%s\"k%d\":%d", i ? "," : "", i % 3, i);
    sr_buf_puts(&in, "}");
    CHECK_STR(rewrite(sr_buf_cstr(&in)), "{\"k0\":99999,\"k1\":99997,\"k2\":99998}");
    sr_buf_free(&in);
    sr_buf_free(&want);
}

static void test_depth(void)
{
    char buf[2 * 600 + 1];
    for (int d = 511; d <= 513; d++) {
        memset(buf, '[', (size_t)d);
        memset(buf + d, ']', (size_t)d);
        buf[2 * d] = 0;
        sr_value v;
        int rc = parse(buf, &v);
        if (d <= 512) {
            CHECK(rc == 0 && v.type == SR_ARR);
        } else {
            CHECK(rc == -1);
            CHECK_STR(errmsg, "nesting too deep (limit 512)");
            CHECK(errpos == 512);
        }
    }
    /* Objects count too. */
    sr_buf b = {0};
    for (int i = 0; i < 513; i++) sr_buf_puts(&b, "{\"a\":");
    sr_buf_puts(&b, "1");
    for (int i = 0; i < 513; i++) sr_buf_putc(&b, '}');
    sr_value v;
    CHECK(parse(sr_buf_cstr(&b), &v) == -1);
    CHECK_STR(errmsg, "nesting too deep (limit 512)");
    CHECK(sr_json_parse(&A, b.d + 5, b.len - 6, &v, NULL, 0, NULL) == 0);
    sr_buf_free(&b);
}

/* Containers larger than the parser's built-in scratch space, nested. */
static void test_large(void)
{
    sr_buf b = {0};
    sr_buf_putc(&b, '[');
    for (int i = 0; i < 100; i++) {
        sr_buf_printf(&b, "%s{", i ? "," : "");
        for (int j = 0; j < 150; j++) sr_buf_printf(&b, "%s\"k%d\":[%d,%d]", j ? "," : "", j, i, j);
        sr_buf_putc(&b, '}');
    }
    sr_buf_putc(&b, ']');
    sr_value v;
    CHECK(parse(sr_buf_cstr(&b), &v) == 0);
    CHECK(v.type == SR_ARR && v.len == 100 && v.cap == 100);
    CHECK(v.u.a[99].type == SR_OBJ && v.u.a[99].len == 150);
    sr_value *k = sr_obj_get(&v.u.a[42], "k149", 4);
    CHECK(k && k->type == SR_ARR && k->len == 2);
    sr_value i42 = sr_int(42);
    CHECK(k && sr_value_equal(&k->u.a[0], &i42));
    CHECK_STR(dump(&v), b.d);
    sr_buf_free(&b);
}

static void test_numbers(void)
{
    sr_value v = norm(num("9223372036854775807"));
    CHECK(v.type == SR_INT && v.u.i == INT64_MAX);
    v = norm(num("-9223372036854775808"));
    CHECK(v.type == SR_INT && v.u.i == INT64_MIN);
    v = norm(num("9223372036854775808"));
    CHECK(v.type == SR_DBL && v.u.d == 9223372036854775808.0);
    v = norm(num("-9223372036854775809"));
    CHECK(v.type == SR_DBL && v.u.d == -9223372036854775808.0);
    v = norm(num("1715254403007507000"));
    CHECK(v.type == SR_INT && v.u.i == 1715254403007507000LL);
    v = norm(num("1e3"));
    CHECK(v.type == SR_DBL && v.u.d == 1000.0);
    v = norm(num("1.0"));
    CHECK(v.type == SR_DBL && v.u.d == 1.0);
    v = norm(num("-0"));
    CHECK(v.type == SR_INT && v.u.i == 0);
    v = norm(num("-0.006461451099067926"));
    CHECK(v.type == SR_DBL && v.u.d == -0.006461451099067926);
    v = norm(sr_str("x", 1));
    CHECK(v.type == SR_STR);

    /* Text that is not NUL-terminated: only len bytes count. */
    v = norm((sr_value){.type = SR_NUM, .len = 3, .u.s = "12345"});
    CHECK(v.type == SR_INT && v.u.i == 123);
    v = norm((sr_value){.type = SR_NUM, .len = 3, .u.s = "2.5e9"});
    CHECK(v.type == SR_DBL && v.u.d == 2.5);

    /* Longer than the stack buffer used for strtod. */
    char big[260] = "1";
    memset(big + 1, '0', 200);
    big[201] = 0;
    v = norm(num(big));
    CHECK(v.type == SR_DBL && v.u.d == 1e200);

    CHECK(numd(num("2.5")) == 2.5);
    CHECK(numd(num("-7")) == -7.0);
    CHECK(numd(sr_int(3)) == 3.0);
    CHECK(numd(sr_dbl(0.25)) == 0.25);
    CHECK(isnan(numd(sr_null())));

    /* Parsed numbers stay text. */
    CHECK(parse("[1715254403007507001, 0.10]", &v) == 0);
    CHECK(v.u.a[0].type == SR_NUM && v.u.a[0].len == 19);
    CHECK(sr_num_norm(&v.u.a[0]).u.i == 1715254403007507001LL);
    CHECK_STR(dump(&v), "[1715254403007507001,0.10]");
}

static void test_doubles(void)
{
    CHECK_STR(dbl_text(0.1), "0.1");
    CHECK_STR(dbl_text(1e300), "1e+300");
    CHECK_STR(dbl_text(3.0), "3.0");
    CHECK_STR(dbl_text(-0.0), "-0.0");
    CHECK_STR(dbl_text(0.0), "0.0");
    CHECK_STR(dbl_text(68.87800547074676), "68.87800547074676");
    CHECK_STR(dbl_text(1.0 / 3.0), "0.3333333333333333");
    CHECK_STR(dbl_text(0.1 + 0.2), "0.30000000000000004");
    CHECK_STR(dbl_text(123456789.0), "123456789.0");
    CHECK_STR(dbl_text(-2.5e-8), "-2.5e-08");
    CHECK_STR(dbl_text(9007199254740993.0), "9007199254740992.0");
    CHECK(strtod(dbl_text(5e-324), NULL) == 5e-324);
    CHECK(strtod(dbl_text(1.7976931348623157e308), NULL) == 1.7976931348623157e308);

    sr_buf b = {0};
    sr_buf_puts(&b, "abc");
    sr_value nan = sr_dbl(NAN);
    CHECK(sr_json_write(&b, &nan) == -1);
    CHECK(b.len == 3);
    sr_value arr = sr_arr_new(&A, 0);
    sr_arr_push(&A, &arr, sr_int(1));
    sr_arr_push(&A, &arr, sr_dbl(-INFINITY));
    CHECK(sr_json_write(&b, &arr) == -1);
    CHECK(b.len == 3 && memcmp(b.d, "abc", 3) == 0);
    arr.u.a[1] = sr_dbl(2.0);
    CHECK(sr_json_write(&b, &arr) == 0);
    CHECK_STR(sr_buf_cstr(&b), "abc[1,2.0]");
    sr_buf_free(&b);

    CHECK_STR(dumpv(sr_int(INT64_MIN)), "-9223372036854775808");
    CHECK_STR(dumpv(sr_int(INT64_MAX)), "9223372036854775807");
    CHECK_STR(dumpv(sr_int(0)), "0");
    CHECK_STR(dumpv((sr_value){.type = SR_MISSING}), "null");
}

static void test_equal_cmp(void)
{
    sr_value n1 = num("1"), i1 = sr_int(1), d1 = sr_dbl(1.0), d15 = sr_dbl(1.5);
    CHECK(sr_value_equal(&n1, &i1) && sr_value_equal(&i1, &n1));
    CHECK(sr_value_equal(&n1, &d1) && sr_value_equal(&d1, &i1));
    sr_value n10 = num("1.0"), n1e0 = num("1e0");
    CHECK(sr_value_equal(&n10, &n1e0));
    CHECK(!sr_value_equal(&i1, &d15));
    CHECK(sr_value_cmp(&i1, &d15) < 0 && sr_value_cmp(&d15, &n1) > 0);

    sr_value big = sr_int(9007199254740993LL), bigd = sr_dbl(9007199254740992.0);
    CHECK(!sr_value_equal(&big, &bigd));
    CHECK(sr_value_cmp(&big, &bigd) > 0 && sr_value_cmp(&bigd, &big) < 0);
    sr_value t1 = num("1715254403007507001"), t0 = num("1715254403007507000");
    CHECK(!sr_value_equal(&t1, &t0));
    CHECK(sr_value_cmp(&t1, &t0) > 0);
    sr_value imax = sr_int(INT64_MAX), two63 = sr_dbl(9223372036854775808.0);
    CHECK(sr_value_cmp(&imax, &two63) < 0 && !sr_value_equal(&imax, &two63));
    sr_value imin = sr_int(INT64_MIN), m263 = sr_dbl(-9223372036854775808.0);
    CHECK(sr_value_equal(&imin, &m263) && sr_value_cmp(&imin, &m263) == 0);
    sr_value zero = sr_int(0), half = sr_dbl(0.5), mhalf = sr_dbl(-0.5), m1 = sr_int(-1);
    CHECK(sr_value_cmp(&half, &zero) > 0 && sr_value_cmp(&mhalf, &zero) < 0);
    CHECK(sr_value_cmp(&mhalf, &m1) > 0 && sr_value_cmp(&m1, &mhalf) < 0);
    sr_value pz = sr_dbl(0.0), nz = sr_dbl(-0.0), nan = sr_dbl(NAN);
    CHECK(sr_value_equal(&pz, &nz) && sr_value_equal(&nz, &zero));
    CHECK(!sr_value_equal(&nan, &nan) && sr_value_cmp(&nan, &nan) == 0);
    CHECK(sr_value_cmp(&nan, &m1) < 0 && sr_value_cmp(&m1, &nan) > 0);

    sr_value s1 = sr_str("abc", 3), s2 = sr_str("abd", 3), s3 = sr_str("ab", 2);
    sr_value s4 = sr_str("\xc3\xa9", 2), e = sr_str("", 0);
    CHECK(sr_value_cmp(&s1, &s2) < 0 && sr_value_cmp(&s3, &s1) < 0);
    CHECK(sr_value_cmp(&e, &s3) < 0 && sr_value_cmp(&s4, &s1) > 0);
    sr_value s1b = sr_str("abc", 3);
    CHECK(sr_value_cmp(&s1, &s1b) == 0);
    CHECK(!sr_value_equal(&s1, &s3) && !sr_value_equal(&s1, &n1));

    /* Type ranks: missing < null < boolean < number < string < array < object. */
    sr_value ranked[8];
    ranked[0] = (sr_value){.type = SR_MISSING};
    ranked[1] = sr_null();
    ranked[2] = sr_bool(false);
    ranked[3] = sr_bool(true);
    ranked[4] = sr_int(-100);
    ranked[5] = e;
    CHECK(parse("[]", &ranked[6]) == 0 && parse("{}", &ranked[7]) == 0);
    int ordered = 1;
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            int c = sr_value_cmp(&ranked[i], &ranked[j]);
            if ((i < j && c >= 0) || (i > j && c <= 0) || (i == j && c != 0)) ordered = 0;
        }
    CHECK(ordered);

    sr_value x, y;
    CHECK(parse("{\"a\":1,\"b\":[true,null,\"s\"]}", &x) == 0);
    CHECK(parse("{\"b\":[true,null,\"s\"],\"a\":1.0}", &y) == 0);
    CHECK(sr_value_equal(&x, &y) && sr_value_cmp(&x, &y) == 0);
    CHECK(parse("{\"b\":[true,null,\"s\"],\"c\":1}", &y) == 0);
    CHECK(!sr_value_equal(&x, &y) && sr_value_cmp(&x, &y) < 0);
    CHECK(parse("{\"a\":2,\"b\":[]}", &y) == 0);
    CHECK(!sr_value_equal(&x, &y) && sr_value_cmp(&x, &y) < 0);
    CHECK(parse("[1,2]", &x) == 0 && parse("[2,1]", &y) == 0);
    CHECK(!sr_value_equal(&x, &y) && sr_value_cmp(&x, &y) < 0);
    CHECK(parse("[1,2,0]", &y) == 0 && sr_value_cmp(&x, &y) < 0);
}

static void test_obj_arr(void)
{
    sr_value o = sr_obj_new(&A, 0);
    static char keys[100][16];
    for (int i = 0; i < 100; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        sr_obj_set(&A, &o, keys[i], strlen(keys[i]), sr_int(i));
    }
    CHECK(o.len == 100 && o.cap >= 100);
    sr_value *g = sr_obj_get(&o, "k57", 3);
    CHECK(g && g->type == SR_INT && g->u.i == 57);
    CHECK(sr_obj_get(&o, "k5", 2) && sr_obj_get(&o, "k5", 2)->u.i == 5);
    CHECK(sr_obj_get(&o, "k100", 4) == NULL && sr_obj_get(&o, "k", 1) == NULL);
    sr_obj_set(&A, &o, "k57", 3, sr_str("x", 1));
    CHECK(o.len == 100 && sr_obj_get(&o, "k57", 3)->type == SR_STR);
    CHECK(sr_obj_del(&o, "k0", 2) && o.len == 99);
    CHECK(o.u.o[0].klen == 2 && memcmp(o.u.o[0].key, "k1", 2) == 0);
    CHECK(o.u.o[98].klen == 3 && memcmp(o.u.o[98].key, "k99", 3) == 0);
    CHECK(!sr_obj_del(&o, "k0", 2) && o.len == 99);
    CHECK(sr_obj_del(&o, "k99", 3) && o.len == 98 && !sr_obj_get(&o, "k99", 3));

    sr_value p;
    CHECK(parse("{\"a\":1,\"b\":2,\"c\":3}", &p) == 0 && p.cap == 3);
    CHECK(sr_obj_del(&p, "b", 1));
    CHECK_STR(dump(&p), "{\"a\":1,\"c\":3}");
    sr_obj_set(&A, &p, "d", 1, sr_bool(true));
    sr_obj_set(&A, &p, "e", 1, sr_null());
    CHECK(p.len == 4 && p.cap == 6);
    sr_obj_set(&A, &p, "a", 1, sr_dbl(0.5));
    CHECK_STR(dump(&p), "{\"a\":0.5,\"c\":3,\"d\":true,\"e\":null}");
    sr_value notobj = sr_int(1);
    CHECK(sr_obj_get(&notobj, "a", 1) == NULL);

    sr_value a = sr_arr_new(&A, 0);
    for (int i = 0; i < 10; i++) sr_arr_push(&A, &a, sr_int(i));
    CHECK(a.len == 10 && a.cap >= 10);
    CHECK_STR(dump(&a), "[0,1,2,3,4,5,6,7,8,9]");
    sr_value e = sr_obj_new(&A, 2);
    CHECK(e.type == SR_OBJ && e.len == 0 && e.cap == 2);
    CHECK_STR(dump(&e), "{}");

    sr_value s = sr_str_dup(&A, "hello", 5);
    CHECK(s.type == SR_STR && s.len == 5 && memcmp(s.u.s, "hello", 5) == 0);
    s = sr_str_dup(&A, NULL, 0);
    CHECK(s.type == SR_STR && s.len == 0);
}

static void test_to_str_names(void)
{
    sr_value s = sr_str("abc", 3);
    sr_value t = sr_value_to_str(&A, &s);
    CHECK(t.type == SR_STR && t.u.s == s.u.s && t.len == 3);
#define TO_STR(val, want)                                                                          \
    do {                                                                                           \
        sr_value in_ = (val);                                                                      \
        sr_value r_ = sr_value_to_str(&A, &in_);                                                   \
        CHECK(r_.type == SR_STR);                                                                  \
        CHECK(r_.len == strlen(want) && memcmp(r_.u.s, want, r_.len) == 0);                        \
    } while (0)
    TO_STR(num("1.50"), "1.50");
    TO_STR(sr_int(-42), "-42");
    TO_STR(sr_dbl(2.5), "2.5");
    TO_STR(sr_dbl(7.0), "7.0");
    TO_STR(sr_bool(true), "true");
    TO_STR(sr_bool(false), "false");
    TO_STR(sr_null(), "null");
    TO_STR(sr_dbl(NAN), "NaN");
    TO_STR(sr_dbl(-INFINITY), "-Infinity");
    sr_value v;
    CHECK(parse("[1, \"a\\tb\", {\"k\": null}]", &v) == 0);
    TO_STR(v, "[1,\"a\\tb\",{\"k\":null}]");

    CHECK_STR(sr_type_name(SR_MISSING), "missing");
    CHECK_STR(sr_type_name(SR_NULL), "null");
    CHECK_STR(sr_type_name(SR_BOOL), "boolean");
    CHECK_STR(sr_type_name(SR_NUM), "number");
    CHECK_STR(sr_type_name(SR_INT), "number");
    CHECK_STR(sr_type_name(SR_DBL), "number");
    CHECK_STR(sr_type_name(SR_STR), "string");
    CHECK_STR(sr_type_name(SR_ARR), "array");
    CHECK_STR(sr_type_name(SR_OBJ), "object");
}

/* Every line of the demo stream: parse, write, parse again, compare. */
static void test_demo_stream(void)
{
    const char *paths[] = {"../shared/data/demo_stream.json", "/work/shared/data/demo_stream.json"};
    FILE *f = NULL;
    for (size_t i = 0; i < 2 && !f; i++) f = fopen(paths[i], "r");
    if (!f) {
        printf("demo_stream.json not found: skipping the demo stream test\n");
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0, parsed = 0, same = 0, compact = 0;
    sr_buf out = {0};
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n') n--;
        lines++;
        sr_arena_reset(&A);
        sr_value v, w;
        if (sr_json_parse(&A, line, (size_t)n, &v, NULL, 0, NULL) != 0) continue;
        parsed++;
        out.len = 0;
        if (sr_json_write(&out, &v) != 0) continue;
        if (sr_json_parse(&A, out.d, out.len, &w, NULL, 0, NULL) == 0 && sr_value_equal(&v, &w))
            same++;
        /* The writer only drops the ", " and ": " spacing of the input. */
        size_t spaces = 0;
        for (ssize_t i = 0; i < n; i++) spaces += line[i] == ' ';
        if (out.len < (size_t)n && out.len + spaces >= (size_t)n && !memchr(out.d, '\n', out.len))
            compact++;
        sr_value *payload = sr_obj_get(&v, "payload", 7);
        if (lines == 1) {
            CHECK(payload && payload->type == SR_ARR && payload->len > 0);
            sr_value *t = payload ? sr_obj_get(&payload->u.a[0], "time", 4) : NULL;
            CHECK(t && t->type == SR_NUM);
            CHECK(t && sr_num_norm(t).type == SR_INT &&
                  sr_num_norm(t).u.i == 1715254403007507000LL);
        }
    }
    free(line);
    sr_buf_free(&out);
    fclose(f);
    CHECK(lines == 197);
    CHECK(parsed == lines);
    CHECK(same == lines);
    CHECK(compact == lines);
}

int main(void)
{
    sr_arena_init(&A, 0);
    test_round_trips();
    test_strings();
    test_errors();
    test_utf8();
    test_duplicate_keys();
    test_depth();
    test_large();
    test_numbers();
    test_doubles();
    test_equal_cmp();
    test_obj_arr();
    test_to_str_names();
    test_demo_stream();
    sr_arena_free(&A);
    sr_buf_free(&dumpbuf);
    sr_buf_free(&dblbuf);
    return TEST_END();
}
