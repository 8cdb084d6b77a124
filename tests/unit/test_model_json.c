/* test_model_json.c — sr_model_json_load reads every text as json_loadb(JSON_REJECT_DUPLICATES)
 * does: the same tree (integers and reals told apart, exact doubles, members in order) or the
 * same error, on texts at the edges of both parsers and on the shipped model packages. */
#include "model/model_json.h"
#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
}

/* Checks one text; name is what a failure prints. */
static void same(const char *name, const char *text, size_t len)
{
    json_error_t e1, e2;
    memset(&e1, 0, sizeof(e1));
    memset(&e2, 0, sizeof(e2));
    json_t *got = sr_model_json_load(text, len, &e1);
    json_t *want = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e2);
    t_checks++;
    bool ok;
    if (!got || !want) {
        ok = !got && !want && strcmp(e1.text, e2.text) == 0 && e1.line == e2.line &&
             e1.column == e2.column && e1.position == e2.position;
    } else {
        char *g = dump(got), *w = dump(want);
        ok = json_equal(got, want) && g && w && strcmp(g, w) == 0;
        free(g);
        free(w);
    }
    if (!ok) {
        t_failed++;
        char *g = got ? dump(got) : NULL, *w = want ? dump(want) : NULL;
        fprintf(stderr, "%s: got %s (%s), want %s (%s)\n", name, g ? g : "NULL", e1.text,
                w ? w : "NULL", e2.text);
        free(g);
        free(w);
    }
    json_decref(got);
    json_decref(want);
}

#define SAME(lit) same(lit, lit, sizeof(lit) - 1)

static void test_edges(void)
{
    SAME("{\"a\": 1, \"b\": [1.5, -0.0, 0, -0, 1E2, 1e-2, 2.5e+3], \"c\": {\"d\": null}}");
    SAME("[true, false, null, \"x\", \"\", [], {}]");
    SAME("{\"z\": 1, \"a\": 2, \"m\": 3}"); /* order kept */
    /* integers at and past int64's ends; reals past a double's */
    SAME("[9223372036854775807, -9223372036854775808]");
    SAME("[9223372036854775808]");
    SAME("[-9223372036854775809]");
    SAME("[1e308, 1.7976931348623157e308, 4.9e-324, 1e-400, 2.2250738585072011e-308]");
    SAME("[1e309]");
    SAME("[-1e400]");
    SAME("[0.1, 0.30000000000000004, 123456789012345678901234567890.5, 1.00000000000000011]");
    SAME("[0.9355316162109375, 100000000000000000000000, 1e23, 8.98846567431158e307]");
    /* strings: escapes, UTF-8, NUL, surrogates */
    SAME("[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\", \"\\u00e9\\u4e2d\\ud83d\\ude00\", \"\xc3\xa9\"]");
    SAME("[\"a\\u0000b\"]");
    SAME("{\"a\\u0000b\": 1}");
    SAME("[\"\\ud800\"]");
    SAME("[\"\\udc00x\"]");
    SAME("[\"\xff\"]");
    SAME("[\"\xc0\xaf\"]");
    SAME("[\"\xed\xa0\x80\"]");
    SAME("[\"tab\there\"]");
    /* repeated keys, few and many (the parser merges past 32 members by sorting) */
    SAME("{\"a\": 1, \"a\": 2}");
    SAME("{\"a\": {\"b\": 1, \"c\": 2, \"b\": 3}}");
    {
        char big[4096];
        size_t n = 0;
        n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
        for (int i = 0; i < 40; i++)
            n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%d\": %d, ", i, i);
        n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k7\": 0}");
        same("40 members, one repeated", big, n);
        n = 0;
        n += (size_t)snprintf(big + n, sizeof(big) - n, "{");
        for (int i = 0; i < 40; i++)
            n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k%d\": %d, ", i, i);
        n += (size_t)snprintf(big + n, sizeof(big) - n, "\"k40\": 0}");
        same("41 members", big, n);
    }
    /* a key longer than the converter's stack buffer */
    {
        char text[1200];
        memset(text, 'k', sizeof(text));
        text[0] = '{';
        text[1] = '"';
        memcpy(text + sizeof(text) - 6, "\": 1}", 5);
        same("a 1193-byte key", text, sizeof(text) - 1);
    }
    /* what the top level may be, and broken texts: jansson's messages */
    SAME("1");
    SAME("\"x\"");
    SAME("null");
    SAME("");
    SAME("   ");
    SAME("{\"a\": 1} x");
    SAME("{\"a\": 1");
    SAME("\xef\xbb\xbf{\"a\": 1}");
    SAME("[01]");
    SAME("[+1]");
    SAME("[.5]");
    SAME("[1.]");
    SAME("[-]");
    SAME("[1e]");
    SAME("[NaN]");
    SAME("[Infinity]");
    SAME("{'a': 1}");
    SAME("{\"a\" 1}");
    SAME("[1,]");
    SAME("{\"a\": 1,}");
    SAME("[\"unterminated]");
    SAME(" \t\r\n[1]\n ");
    /* nesting deeper than streamrun's parser takes (512) but not jansson's (2048) */
    {
        char deep[2 * 600 + 1];
        memset(deep, '[', 600);
        memset(deep + 600, ']', 600);
        same("600 nested arrays", deep, 1200);
    }
}

static void test_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (!f) return;
    char *buf = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[65536];
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            buf = realloc(buf, cap);
        }
        memcpy(buf + len, chunk, got);
        len += got;
    }
    fclose(f);
    same(path, buf ? buf : "", len);
    free(buf);
}

int main(void)
{
    test_edges();
    const char *files[] = {
        "pipelines/models/tweet-topics/model.json", "pipelines/models/tweet-topics/config.json",
        "pipelines/models/tweet-sentiment/model.json", "pipelines/models/mood/model.json",
        "pipelines/models/sensor-alerts/model.json"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) test_file(files[i]);
    return TEST_END();
}
