/* test_yaml.c — unit tests for the YAML loader: marks, scalars, ${VAR} and the errors found. */
#include "load/ynode.h"
#include "base/arena.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static char *render(sr_diag *dg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sr_diag_print(dg, f, false, false);
    fclose(f);
    return buf;
}

static bool mark_is(sr_mark m, int line, int col, int len)
{
    if (m.line == line && m.col == col && m.len == len) return true;
    fprintf(stderr, "  mark %d:%d+%d, want %d:%d+%d\n", m.line, m.col, m.len, line, col, len);
    return false;
}

/* The key node of `key` in map. */
static const sr_ynode *key_of(const sr_ynode *map, const char *key)
{
    for (int i = 0; map && i + 1 < map->nkids; i += 2)
        if (strcmp(map->kids[i]->text, key) == 0) return map->kids[i];
    return NULL;
}

static int parse(sr_ydoc *doc, sr_diag *dg, const char *text)
{
    return sr_ydoc_parse(doc, "t.yaml", text, strlen(text), dg);
}

static void test_marks_and_scalars(void)
{
    const char *src = "name: phone\n"           /* 1 */
                      "count: 42\n"             /* 2 */
                      "ratio: 0.5\n"            /* 3 */
                      "quoted: \"42\"\n"        /* 4 */
                      "single: 'it''s'\n"       /* 5 */
                      "flag: true\n"            /* 6 */
                      "nothing: ~\n"            /* 7 */
                      "empty:\n"                /* 8 */
                      "list:\n"                 /* 9 */
                      "  - a\n"                 /* 10 */
                      "  - {x: 1, y: [2, 3]}\n" /* 11 */
                      "block: |\n"              /* 12 */
                      "  line one\n"            /* 13 */
                      "  line two\n"            /* 14 */
                      "hex: 0x1F\n"             /* 15 */
                      "neg: -7\n"               /* 16 */
                      "multi: first\n"          /* 17 */
                      "  second\n";             /* 18 */
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, src) == 0);
    CHECK(dg.n == 0);
    const sr_ynode *r = doc.root;
    CHECK(r && r->kind == SR_Y_MAP && r->nkids == 26);
    CHECK(mark_is(r->mark, 1, 1, 11));
    CHECK_STR(sr_ykind_name(r), "mapping");
    CHECK(doc.file && strcmp(doc.file->path, "t.yaml") == 0);

    const sr_ynode *n = sr_ymap_get(r, "name");
    CHECK_STR(n->text, "phone");
    CHECK(mark_is(n->mark, 1, 7, 5) && n->flow && n->text_col == 7 && !n->quoted);
    CHECK(mark_is(key_of(r, "name")->mark, 1, 1, 4));
    CHECK(mark_is(sr_ysub_mark(n, 1, 2), 1, 8, 2));
    CHECK_STR(sr_ykind_name(n), "string");

    long long i = 0;
    double d = 0;
    bool b = false;
    n = sr_ymap_get(r, "count");
    CHECK(sr_yscalar_int(n, &i) && i == 42);
    CHECK(sr_yscalar_double(n, &d) && d == 42.0);
    CHECK_STR(sr_ykind_name(n), "number");
    n = sr_ymap_get(r, "ratio");
    CHECK(!sr_yscalar_int(n, &i));
    CHECK(sr_yscalar_double(n, &d) && d == 0.5);

    n = sr_ymap_get(r, "quoted");
    CHECK(n->quoted && n->flow && !sr_yscalar_int(n, &i) && !sr_yscalar_double(n, &d));
    CHECK_STR(sr_ykind_name(n), "string");
    CHECK(mark_is(n->mark, 4, 9, 4) && n->text_col == 10);
    CHECK(mark_is(sr_ysub_mark(n, 1, 1), 4, 11, 1));

    n = sr_ymap_get(r, "single");
    CHECK_STR(n->text, "it's");
    CHECK(n->quoted && n->len == 4);

    n = sr_ymap_get(r, "flag");
    CHECK(sr_yscalar_bool(n, &b) && b);
    CHECK_STR(sr_ykind_name(n), "boolean");
    CHECK(sr_yis_null(sr_ymap_get(r, "nothing")));
    CHECK_STR(sr_ykind_name(sr_ymap_get(r, "nothing")), "null");
    n = sr_ymap_get(r, "empty");
    CHECK(sr_yis_null(n) && n->len == 0);
    CHECK(mark_is(n->mark, 8, 7, 0));

    n = sr_ymap_get(r, "list");
    CHECK(n->kind == SR_Y_SEQ && n->nkids == 2);
    CHECK(mark_is(n->mark, 10, 3, 3));
    CHECK_STR(sr_ykind_name(n), "sequence");
    CHECK(mark_is(n->kids[0]->mark, 10, 5, 1));
    const sr_ynode *m = n->kids[1];
    CHECK(m->kind == SR_Y_MAP && mark_is(m->mark, 11, 5, 17));
    const sr_ynode *y = sr_ymap_get(m, "y");
    CHECK(y && y->kind == SR_Y_SEQ && y->nkids == 2 && mark_is(y->mark, 11, 15, 6));
    CHECK(mark_is(y->kids[1]->mark, 11, 19, 1));

    n = sr_ymap_get(r, "block");
    CHECK_STR(n->text, "line one\nline two\n");
    CHECK(n->quoted && !n->flow && mark_is(n->mark, 12, 8, 1));
    /* inside a block scalar: the text's own line and column */
    CHECK(mark_is(sr_ysub_mark(n, 3, 2), 13, 6, 2));
    CHECK(mark_is(sr_ysub_mark(n, 9, 3), 14, 3, 3));

    CHECK(sr_yscalar_int(sr_ymap_get(r, "hex"), &i) && i == 31);
    CHECK(sr_yscalar_int(sr_ymap_get(r, "neg"), &i) && i == -7);
    n = sr_ymap_get(r, "multi");
    CHECK_STR(n->text, "first second");
    CHECK(!n->flow && mark_is(n->mark, 17, 8, 5));
    CHECK(sr_ymap_get(r, "missing") == NULL && sr_ymap_get(n, "x") == NULL);

    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
}

static void test_conversions(void)
{
    const char *src = "[1, -2, +3, 0x10, 0o17, 1.5, .5, 1e3, 1.2.3, 9223372036854775807,\n"
                      " 9223372036854775808, abc, '5', True, yes, ~, Null, '', FALSE, 0x]\n";
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, src) == 0);
    sr_ynode **k = doc.root->kids;
    CHECK(doc.root->nkids == 20);
    long long i = 0;
    double d = 0;
    bool b = false;
    CHECK(sr_yscalar_int(k[0], &i) && i == 1);
    CHECK(sr_yscalar_int(k[1], &i) && i == -2);
    CHECK(sr_yscalar_int(k[2], &i) && i == 3);
    CHECK(sr_yscalar_int(k[3], &i) && i == 16);
    CHECK(sr_yscalar_int(k[4], &i) && i == 15);
    CHECK(!sr_yscalar_int(k[5], &i) && sr_yscalar_double(k[5], &d) && d == 1.5);
    CHECK(sr_yscalar_double(k[6], &d) && d == 0.5);
    CHECK(sr_yscalar_double(k[7], &d) && d == 1000.0);
    CHECK(!sr_yscalar_double(k[8], &d));
    CHECK(sr_yscalar_int(k[9], &i) && i == 9223372036854775807LL);
    CHECK(!sr_yscalar_int(k[10], &i) && sr_yscalar_double(k[10], &d));
    CHECK(!sr_yscalar_int(k[11], &i) && !sr_yscalar_double(k[11], &d));
    CHECK(!sr_yscalar_int(k[12], &i));
    CHECK(sr_yscalar_bool(k[13], &b) && b);
    CHECK(!sr_yscalar_bool(k[14], &b));
    CHECK(sr_yis_null(k[15]) && sr_yis_null(k[16]) && !sr_yis_null(k[17]));
    CHECK(sr_yscalar_bool(k[18], &b) && !b);
    CHECK(!sr_yscalar_int(k[19], &i));
    CHECK_STR(sr_ykind_name(k[17]), "string");
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
}

static void test_env(void)
{
    setenv("SR_T_HOST", "kafka:9092", 1);
    setenv("SR_T_EMPTY", "", 1);
    unsetenv("SR_T_UNSET");
    const char *src = "host: ${SR_T_HOST}\n"
                      "port: ${SR_T_UNSET:-9092}\n"
                      "q: \"x${SR_T_HOST}y\"\n"
                      "lit: $${SR_T_HOST} and $5\n"
                      "dflt: ${SR_T_EMPTY:-d}\n"
                      "set_empty: '${SR_T_EMPTY}'\n"
                      "two: ${SR_T_HOST}/${SR_T_UNSET:-x}\n";
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, src) == 0);
    const sr_ynode *r = doc.root;
    CHECK_STR(sr_ymap_get(r, "host")->text, "kafka:9092");
    const sr_ynode *n = sr_ymap_get(r, "port");
    long long i = 0;
    CHECK(!n->quoted && sr_yscalar_int(n, &i) && i == 9092);
    CHECK(!n->flow && mark_is(n->mark, 2, 7, 19));
    CHECK(mark_is(sr_ysub_mark(n, 2, 3), 2, 7, 19));
    n = sr_ymap_get(r, "q");
    CHECK_STR(n->text, "xkafka:9092y");
    CHECK(n->quoted);
    CHECK_STR(sr_ymap_get(r, "lit")->text, "${SR_T_HOST} and $5");
    CHECK_STR(sr_ymap_get(r, "dflt")->text, "d");
    CHECK_STR(sr_ymap_get(r, "set_empty")->text, "");
    CHECK_STR(sr_ymap_get(r, "two")->text, "kafka:9092/x");
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    sr_diag_init(&dg);
    CHECK(parse(&doc, &dg,
                "a: foo ${SR_T_UNSET} bar\n"
                "b: \"x${SR_T_UNSET}\"\n"
                "c: ${1X} ${OPEN\n") == -1);
    CHECK(dg.nerrors == 4);
    char *s = render(&dg);
    CHECK_STR(s, "t.yaml:1:8: error[SR0512]: environment variable 'SR_T_UNSET' is not set (write "
                 "${SR_T_UNSET:-default} to give a default)\n"
                 "    1 | a: foo ${SR_T_UNSET} bar\n"
                 "      |        ^~~~~~~~~~~~~\n"
                 "t.yaml:2:6: error[SR0512]: environment variable 'SR_T_UNSET' is not set (write "
                 "${SR_T_UNSET:-default} to give a default)\n"
                 "    2 | b: \"x${SR_T_UNSET}\"\n"
                 "      |      ^~~~~~~~~~~~~\n"
                 "t.yaml:3:4: error[SR0511]: invalid variable reference '${1X}' (write ${NAME} or "
                 "${NAME:-default})\n"
                 "    3 | c: ${1X} ${OPEN\n"
                 "      |    ^~~~~\n"
                 "t.yaml:3:10: error[SR0511]: '${' without a closing '}' (write $${ for a literal "
                 "'${')\n"
                 "    3 | c: ${1X} ${OPEN\n"
                 "      |          ^~\n");
    free(s);
    CHECK(doc.root != NULL); /* the tree is kept for further checks */
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
}

static void test_duplicates(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, "a: 1\nb: 2\na: 3\nm: {k: 1, k: 2}\n") == -1);
    char *s = render(&dg);
    CHECK_STR(s, "t.yaml:3:1: error[SR0506]: duplicate key 'a' (first at line 1)\n"
                 "    3 | a: 3\n"
                 "      | ^\n"
                 "t.yaml:1:1: note: 'a' first set here\n"
                 "    1 | a: 1\n"
                 "      | ^\n"
                 "t.yaml:4:11: error[SR0506]: duplicate key 'k' (first at line 4)\n"
                 "    4 | m: {k: 1, k: 2}\n"
                 "      |           ^\n"
                 "t.yaml:4:5: note: 'k' first set here\n"
                 "    4 | m: {k: 1, k: 2}\n"
                 "      |     ^\n");
    free(s);
    CHECK(doc.root->nkids == 6);
    CHECK_STR(sr_ymap_get(doc.root, "a")->text, "1");
    CHECK(sr_ymap_get(doc.root, "m")->nkids == 2);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
}

static void test_syntax_and_docs(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, "ok: 1\nbad: b: c\n") == -1);
    CHECK(doc.root == NULL);
    char *s = render(&dg);
    CHECK_STR(s, "t.yaml:2:6: error[SR0503]: a value that contains ': ' must be quoted: YAML reads "
                 "': ' as the start of a mapping\n"
                 "    2 | bad: b: c\n"
                 "      |      ^~~~\n"
                 "      = help: quote the whole value:\n"
                 "              bad: \"b: c\"\n");
    free(s);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    sr_diag_init(&dg);
    CHECK(parse(&doc, &dg, "a: [1, 2\n") == -1);
    CHECK(dg.nerrors == 1 && doc.root == NULL);
    CHECK(strncmp(dg.v[0].msg, "YAML syntax: ", 13) == 0);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    sr_diag_init(&dg);
    CHECK(parse(&doc, &dg, "a: 1\n---\nb: 2\n") == -1);
    s = render(&dg);
    CHECK_STR(s, "t.yaml:2:1: error[SR0509]: only one YAML document is allowed\n"
                 "    2 | ---\n"
                 "      | ^~~\n");
    free(s);
    CHECK(doc.root && sr_ymap_get(doc.root, "a") && !sr_ymap_get(doc.root, "b"));
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    const char *empties[] = {"", "# just a comment\n", "---\n"};
    for (int i = 0; i < 3; i++) {
        sr_diag_init(&dg);
        CHECK(parse(&doc, &dg, empties[i]) == 0 && doc.root == NULL && dg.n == 0);
        sr_ydoc_free(&doc);
        sr_diag_free(&dg);
    }
}

/* The mistakes YAML refuses that the loader reports with the line rewritten. */
static void test_known_mistakes(void)
{
    static const struct {
        const char *text;
        sr_code code;
        int line, col;
        const char *help;
    } cases[] = {
        {"a:\n  b: `x y` > 1\n", SR_E_YAML_QUOTE, 2, 6,
         "quote the whole value:\n  b: \"`x y` > 1\""},
        {"a: {b: `x` + \"s\", c: 1}\n", SR_E_YAML_QUOTE, 1, 8,
         "quote the whole value:\na: {b: '`x` + \"s\"', c: 1}"},
        {"a: x ? 'p' : 'q'  # pick\n", SR_E_YAML_QUOTE, 1, 4,
         "quote the whole value:\na: \"x ? 'p' : 'q'\"  # pick"},
        {"a: {b: ${V:-1}}\n", SR_E_YAML_FLOW_VAR, 1, 8,
         "quote the whole value:\na: {b: \"${V:-1}\"}"},
        {"a: [x, f(${V}, 'y')]\n", SR_E_YAML_FLOW_VAR, 1, 8,
         "quote the whole value:\na: [x, \"f(${V}, 'y')\"]"},
        {"a:\n  b: 1\n\tc: 2\n", SR_E_YAML_TAB, 3, 1, "indent with spaces:\n  c: 2"},
        {"a:\n  - b: 1\n \t c: 2\n", SR_E_YAML_TAB, 3, 2, "indent with spaces:\n    c: 2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sr_diag dg;
        sr_diag_init(&dg);
        sr_ydoc doc;
        setenv("V", "1", 1);
        CHECK(parse(&doc, &dg, cases[i].text) == -1);
        CHECK(dg.n == 1);
        if (dg.n == 1) {
            CHECK(dg.v[0].code == cases[i].code);
            CHECK(mark_is(dg.v[0].mark, cases[i].line, cases[i].col, dg.v[0].mark.len));
            CHECK_STR(dg.v[0].help, cases[i].help);
        }
        sr_ydoc_free(&doc);
        sr_diag_free(&dg);
    }
    /* a flow mapping's missing ',' is not a value to quote: libyaml's words */
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, "a: {b: 1 c: 2}\n") == -1);
    CHECK(dg.n == 1 && dg.v[0].code == SR_E_YAML_SYNTAX && !dg.v[0].help);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    char *q = sr_yquote("it's", 4);
    CHECK_STR(q, "\"it's\"");
    free(q);
    q = sr_yquote("say \"it's\"", 10);
    CHECK_STR(q, "'say \"it''s\"'");
    free(q);
    q = sr_yquote("a\\d", 3);
    CHECK_STR(q, "'a\\d'");
    free(q);
}

static void test_aliases(void)
{
    const char *src = "base: &b {x: 1, y: [1, 2]}\n"
                      "copy: *b\n"
                      "s: &s hello\n"
                      "t: *s\n"
                      "m: &a\n"
                      "  # comment\n"
                      "  k: v\n"
                      "tagged: !!str 5\n"
                      "em: &z\n"
                      "ez: *z\n"
                      "re: &s again\n"
                      "rt: *s\n";
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, src) == 0);
    const sr_ynode *r = doc.root;
    const sr_ynode *base = sr_ymap_get(r, "base"), *copy = sr_ymap_get(r, "copy");
    CHECK(copy && copy != base && copy->kind == SR_Y_MAP && copy->nkids == 4);
    CHECK_STR(sr_ymap_get(copy, "x")->text, "1");
    CHECK(sr_ymap_get(copy, "y")->nkids == 2);
    CHECK(mark_is(base->mark, 1, 10, 17));
    const sr_ynode *s = sr_ymap_get(r, "s");
    CHECK(mark_is(s->mark, 3, 7, 5) && s->text_col == 7);
    CHECK(mark_is(sr_ysub_mark(s, 1, 1), 3, 8, 1));
    CHECK_STR(sr_ymap_get(r, "t")->text, "hello");
    CHECK(mark_is(sr_ymap_get(r, "m")->mark, 7, 3, 4));
    const sr_ynode *tagged = sr_ymap_get(r, "tagged");
    long long i;
    CHECK(tagged->quoted && !sr_yscalar_int(tagged, &i) && mark_is(tagged->mark, 8, 15, 1));
    CHECK(mark_is(sr_ymap_get(r, "em")->mark, 9, 7, 0));
    CHECK(sr_yis_null(sr_ymap_get(r, "em")) && sr_yis_null(sr_ymap_get(r, "ez")));
    CHECK_STR(sr_ymap_get(r, "rt")->text, "again"); /* a redefined anchor */
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    sr_diag_init(&dg);
    CHECK(parse(&doc, &dg, "a: *nope\n") == -1);
    char *out = render(&dg);
    CHECK_STR(out,
              "t.yaml:1:4: error[SR0507]: unknown alias '*nope' (no anchor '&nope' before it)\n"
              "    1 | a: *nope\n"
              "      |    ^~~~~\n");
    free(out);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    /* Each level holds ten aliases of the one before: 10^6 nodes. */
    const char *laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                         "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                         "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                         "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    sr_diag_init(&dg);
    CHECK(parse(&doc, &dg, laughs) == -1 && doc.root == NULL && dg.nerrors == 1);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);

    char deep[1200];
    memset(deep, '[', 600);
    memset(deep + 600, ']', 600);
    sr_diag_init(&dg);
    CHECK(sr_ydoc_parse(&doc, "deep.yaml", deep, sizeof(deep), &dg) == -1 && doc.root == NULL);
    CHECK(dg.nerrors == 1 && strstr(dg.v[0].msg, "nesting deeper") != NULL);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
}

static void test_utf8_marks(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(parse(&doc, &dg, "\xC3\xA9: \xC3\xBC x\nk: v\n") == 0);
    CHECK(mark_is(sr_ymap_get(doc.root, "\xC3\xA9")->mark, 1, 5, 4));
    CHECK(mark_is(sr_ymap_get(doc.root, "k")->mark, 2, 4, 1));
    sr_ydoc_free(&doc);
    CHECK(parse(&doc, &dg,
                "\xEF\xBB\xBF"
                "a: 1\n") == 0);
    CHECK(mark_is(key_of(doc.root, "a")->mark, 1, 4, 1));
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
}

static void test_big(void)
{
    sr_buf b = {0};
    sr_buf_puts(&b, "s: &s x\n");
    for (int i = 0; i < 20000; i++) sr_buf_printf(&b, "k%d: &a%d [v%d, *s]\n", i, i, i);
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(sr_ydoc_parse(&doc, "big.yaml", b.d, b.len, &dg) == 0 && dg.n == 0);
    const sr_ynode *last = sr_ymap_get(doc.root, "k19999");
    CHECK(last && mark_is(last->mark, 20001, 17, 12));
    CHECK(last && mark_is(last->kids[0]->mark, 20001, 18, 6));
    CHECK(last && strcmp(last->kids[1]->text, "x") == 0);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
    sr_buf_free(&b);
}

static void test_load(void)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_ydoc doc;
    CHECK(sr_ydoc_load(&doc, "/nonexistent/dir/x.yaml", &dg) == -1);
    CHECK(doc.root == NULL && doc.file == NULL);
    char *s = render(&dg);
    CHECK_STR(s, "streamrun: error[SR0510]: cannot read '/nonexistent/dir/x.yaml': No such file or "
                 "directory\n");
    free(s);
    sr_diag_free(&dg);

    char path[] = "/tmp/test_yaml_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "pipeline:\n  name: x\n  bad: [\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    sr_diag_init(&dg);
    CHECK(sr_ydoc_load(&doc, path, &dg) == -1);
    CHECK(dg.nfiles == 1 && doc.file == dg.files[0] && strcmp(doc.file->path, path) == 0);
    CHECK(doc.file->len == strlen(text) && memcmp(doc.file->text, text, doc.file->len) == 0);
    CHECK(dg.nerrors == 1 && dg.v[0].file == doc.file && dg.v[0].mark.line == 4);
    sr_ydoc_free(&doc);
    sr_diag_free(&dg);
    unlink(path);
}

int main(void)
{
    test_marks_and_scalars();
    test_conversions();
    test_env();
    test_duplicates();
    test_syntax_and_docs();
    test_known_mistakes();
    test_aliases();
    test_utf8_marks();
    test_big();
    test_load();
    return TEST_END();
}
