/* test_diag.c — unit tests for diagnostics: carets, ordering, JSON output and suggestions. */
#include "base/diag.h"
#include "test.h"

#include <stdlib.h>

/* Prints dg to a string (caller frees). */
static char *render(sr_diag *dg, bool json, bool color)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sr_diag_print(dg, f, json, color);
    fclose(f);
    return buf;
}

static const sr_srcfile *add_text(sr_diag *dg, const char *path, const char *text)
{
    return sr_diag_add_file(dg, path, strdup(text), strlen(text));
}

static void test_caret(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    const char *text = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n"
                       "      - fitler: speed > 3\n";
    const sr_srcfile *f = add_text(&dg, "pipelines/phone.yaml", text);
    sr_mark m = {14, 9, 6};
    sr_errc(&dg, SR_CODE_NONE, f, m, "unknown operator '%s'; did you mean '%s'?", "fitler",
            "filter");
    CHECK(dg.n == 1 && dg.nerrors == 1 && dg.nwarnings == 0);
    char *s = render(&dg, false, false);
    CHECK_STR(s, "pipelines/phone.yaml:14:9: error: unknown operator 'fitler'; did you mean "
                 "'filter'?\n"
                 "   14 |       - fitler: speed > 3\n"
                 "      |         ^~~~~~\n");
    free(s);
    sr_diag_free(&dg);
}

static void test_clip_tab_zero(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    const sr_srcfile *f = add_text(&dg, "t.yaml", "abc\n\tkey: x\r\nlast");
    sr_mark clip = {1, 2, 10}, tab = {2, 7, 1}, zero = {3, 5, 0}, past = {9, 1, 1};
    sr_errc(&dg, SR_CODE_NONE, f, clip, "clipped");
    sr_diag_addc(&dg, SR_WARNING, SR_CODE_NONE, f, tab, "tab %d", 1);
    sr_diag_addc(&dg, SR_NOTE, SR_CODE_NONE, f, zero, "zero");
    sr_errc(&dg, SR_CODE_NONE, f, past, "past the end");
    CHECK(dg.nerrors == 2 && dg.nwarnings == 1);
    char *s = render(&dg, false, false);
    CHECK_STR(s, "t.yaml:1:2: error: clipped\n"
                 "    1 | abc\n"
                 "      |  ^~\n"
                 "t.yaml:2:7: warning: tab 1\n"
                 "    2 | \tkey: x\n"
                 "      | \t     ^\n"
                 "t.yaml:3:5: note: zero\n"
                 "    3 | last\n"
                 "      |     ^\n"
                 "t.yaml:9:1: error: past the end\n");
    free(s);
    sr_diag_free(&dg);
}

static void test_no_position(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    const sr_srcfile *f = add_text(&dg, "t.yaml", "x: 1\n");
    sr_errc(&dg, SR_CODE_NONE, f, (sr_mark){0}, "empty pipeline");
    sr_errc(&dg, SR_CODE_NONE, NULL, (sr_mark){0}, "cannot read '%s'", "nope.yaml");
    char *s = render(&dg, false, false);
    CHECK_STR(s, "streamrun: error: cannot read 'nope.yaml'\n"
                 "t.yaml: error: empty pipeline\n");
    free(s);
    sr_diag_free(&dg);
}

static void test_sort(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    const sr_srcfile *a = add_text(&dg, "a.yaml", "");
    const sr_srcfile *b = add_text(&dg, "b.yaml", "");
    sr_mark b1 = {1, 1, 0}, a53 = {5, 3, 0}, a2 = {2, 8, 0}, a51 = {5, 1, 0};
    sr_errc(&dg, SR_CODE_NONE, b, b1, "b1");
    sr_errc(&dg, SR_CODE_NONE, a, a53, "a53 first");
    sr_errc(&dg, SR_CODE_NONE, a, a2, "a2");
    sr_errc(&dg, SR_CODE_NONE, a, a51, "a51");
    sr_errc(&dg, SR_CODE_NONE, NULL, (sr_mark){0}, "global");
    sr_errc(&dg, SR_CODE_NONE, a, a53, "a53 second");
    char *s = render(&dg, false, false);
    CHECK_STR(s, "streamrun: error: global\n"
                 "a.yaml:2:8: error: a2\n"
                 "a.yaml:5:1: error: a51\n"
                 "a.yaml:5:3: error: a53 first\n"
                 "a.yaml:5:3: error: a53 second\n"
                 "b.yaml:1:1: error: b1\n");
    CHECK(dg.nerrors == 6);
    free(s);
    sr_diag_free(&dg);
}

static void test_color(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    const sr_srcfile *f = add_text(&dg, "c.yaml", "key: value\n");
    sr_mark m = {1, 6, 5};
    sr_errc(&dg, SR_CODE_NONE, f, m, "bad");
    sr_diag_addc(&dg, SR_WARNING, SR_CODE_NONE, NULL, (sr_mark){0}, "w");
    sr_diag_addc(&dg, SR_NOTE, SR_CODE_NONE, NULL, (sr_mark){0}, "n");
    char *s = render(&dg, false, true);
    CHECK_STR(s, "streamrun: \033[1;35mwarning:\033[0m w\n"
                 "streamrun: \033[1;36mnote:\033[0m n\n"
                 "c.yaml:1:6: \033[1;31merror:\033[0m bad\n"
                 "    1 | key: value\n"
                 "      |      \033[1;32m^~~~~\033[0m\n");
    free(s);
    sr_diag_free(&dg);
}

static void test_json(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    const sr_srcfile *f = add_text(&dg, "j.yaml", "a: 1\n");
    sr_mark m = {1, 4, 1};
    sr_diag_addc(&dg, SR_WARNING, SR_CODE_NONE, f, m, "say \"%s\"", "hi");
    sr_errc(&dg, SR_CODE_NONE, NULL, (sr_mark){0}, "no file");
    char *s = render(&dg, true, false);
    CHECK_STR(s, "[{\"file\":null,\"line\":0,\"column\":0,\"length\":0,\"severity\":\"error\","
                 "\"code\":null,\"message\":\"no file\"},"
                 "{\"file\":\"j.yaml\",\"line\":1,\"column\":4,\"length\":1,\"severity\":"
                 "\"warning\",\"code\":null,\"message\":\"say \\\"hi\\\"\"}]\n");
    free(s);
    sr_diag_free(&dg);

    sr_diag_init(&dg);
    s = render(&dg, true, false);
    CHECK_STR(s, "[]\n");
    free(s);
    s = render(&dg, false, false);
    CHECK_STR(s, "");
    free(s);
    sr_errc(&dg, SR_CODE_NONE, NULL, (sr_mark){0}, "bad byte \xff here");
    s = render(&dg, true, false);
    CHECK_STR(s, "[{\"file\":null,\"line\":0,\"column\":0,\"length\":0,\"severity\":\"error\","
                 "\"code\":null,\"message\":\"bad byte ? here\"}]\n");
    free(s);
    sr_diag_free(&dg);
}

/* A code after the severity, a secondary place as a note with its line, the help line last
 * (its second line indented under its first); in JSON as code, help and related. */
static void test_code_help_related(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    const sr_srcfile *f = add_text(&dg, "c.yaml",
                                   "      - select: [id]\n"
                                   "      - filter: name == 'x'\n");
    sr_diag_help(&dg, "nothing to help yet"); /* no diagnostic: ignored */
    sr_diag_related(&dg, f, (sr_mark){1, 1, 1}, "nothing to relate yet");
    CHECK(dg.n == 0);
    sr_errc(&dg, SR_E_UNKNOWN_KEY, f, (sr_mark){2, 17, 4}, "unknown field '%s'", "name");
    sr_diag_related(&dg, f, (sr_mark){1, 17, 4}, "'%s' was dropped by the select here", "name");
    sr_diag_help(&dg, "first");
    sr_diag_help(&dg, "keep it:\n- select: [id, %s]", "name");
    CHECK(dg.n == 1 && dg.nerrors == 1 && dg.v[0].code == SR_E_UNKNOWN_KEY);
    char *s = render(&dg, false, false);
    CHECK_STR(s, "c.yaml:2:17: error[SR0101]: unknown field 'name'\n"
                 "    2 |       - filter: name == 'x'\n"
                 "      |                 ^~~~\n"
                 "c.yaml:1:17: note: 'name' was dropped by the select here\n"
                 "    1 |       - select: [id]\n"
                 "      |                 ^~~~\n"
                 "      = help: keep it:\n"
                 "              - select: [id, name]\n");
    free(s);
    s = render(&dg, true, false);
    CHECK_STR(s, "[{\"file\":\"c.yaml\",\"line\":2,\"column\":17,\"length\":4,\"severity\":"
                 "\"error\",\"code\":\"SR0101\",\"message\":\"unknown field 'name'\",\"help\":"
                 "\"keep it:\\n- select: [id, name]\",\"related\":[{\"file\":\"c.yaml\",\"line\":1,"
                 "\"column\":17,\"length\":4,\"message\":\"'name' was dropped by the select "
                 "here\"}]}]\n");
    free(s);
    sr_diag_free(&dg);

    CHECK_STR(sr_code_id(SR_E_UNKNOWN_KEY), "SR0101");
    CHECK_STR(sr_code_title(SR_E_UNKNOWN_KEY), "unknown key");
    CHECK(sr_code_id(SR_CODE_NONE) == NULL);
    CHECK(sr_code_find("sr0101") == SR_E_UNKNOWN_KEY);
    CHECK(sr_code_find("SR9999") == SR_CODE_NONE);
    CHECK(sr_code_find(NULL) == SR_CODE_NONE);
}

static void test_suggest(void)
{
    const char *ops[] = {"map", "filter", "select", "window", "join", "flatten"};
    CHECK_STR(sr_suggest("fitler", ops, 6), "filter");
    CHECK_STR(sr_suggest("selct", ops, 6), "select");
    CHECK_STR(sr_suggest("FILTER", ops, 6), "filter");
    {
        static const char *const fns[] = {"concat", "contains", "coalesce", "cos", "len"};
        const char *out[3];
        CHECK(sr_suggest_all("con", fns, 5, out, 3) == 3); /* cos (1), then the prefixed ones */
        CHECK_STR(out[0], "cos");
        CHECK_STR(out[1], "concat");
        CHECK_STR(out[2], "contains");
        CHECK(sr_suggest_all("con", fns, 5, out, 1) == 1 && strcmp(out[0], "cos") == 0);
        CHECK(sr_suggest_all("zzzzzz", fns, 5, out, 3) == 0);
        CHECK(sr_suggest_all("lenn", fns, 5, out, 3) == 1 && strcmp(out[0], "len") == 0);
    }
    CHECK_STR(sr_suggest("windwo", ops, 6), "window");
    CHECK_STR(sr_suggest("mpa", ops, 6), "map");
    CHECK(sr_suggest("aggregate", ops, 6) == NULL);
    CHECK(sr_suggest("filter", ops, 6) == NULL); /* equal: nothing to suggest */
    CHECK(sr_suggest("xyz", ops, 6) == NULL);
    CHECK(sr_suggest("fitler", ops, 0) == NULL);
    const char *ties[] = {"cat", "bat", "hat"};
    CHECK_STR(sr_suggest("rat", ties, 3), "cat");
    const char *far[] = {"abcdefgh"};
    CHECK(sr_suggest("abcdxxxx", far, 1) == NULL); /* 4 > 8/3 */
    CHECK_STR(sr_suggest("abcdefxx", far, 1), "abcdefgh");
}

int main(void)
{
    test_caret();
    test_clip_tab_zero();
    test_no_position();
    test_sort();
    test_color();
    test_json();
    test_code_help_related();
    test_suggest();
    return TEST_END();
}
