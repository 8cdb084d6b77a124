/* test_schema.c — what the loader knows of the fields through a pipeline (load/operator.h's
 * sr_schema): types through set and rename (all at once: a swap), what a select keeps and what
 * it remembers as removed; and topic shapes (load/shape.h): a shape inferred from records,
 * written as YAML and read back as a topic's shape is the same shape. */
#include "base/arena.h"
#include "load/expr.h"
#include "load/shape.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static sr_topology *load(const char *text)
{
    sr_diag dg;
    sr_diag_init(&dg);
    sr_topology *t = NULL;
    int rc = sr_topology_load_text(&t, "t.yaml", text, strlen(text), &dg);
    if (rc != 0) sr_diag_print(&dg, stderr, false, false);
    CHECK(rc == 0);
    sr_diag_free(&dg);
    return t;
}

static void types_through_steps(void)
{
    sr_topology *t = load("topics: [in, out]\n"
                          "deployments:\n"
                          "  - name: d\n"
                          "    input: in\n"
                          "    pipeline:\n"
                          "      - set: {a: 'len(x)', b: \"'x'\", c: 'a > 1'}\n"
                          "      - rename: {a: b, b: a}\n"
                          "      - select: [a, b, c, d]\n"
                          "    output: out\n");
    if (!t) return;
    const sr_schema *s = &t->deps[0].out_schema;
    CHECK(s->closed);
    CHECK(s->n == 4);
    CHECK(sr_schema_type(s, "a") == SR_T_STR); /* b's, swapped */
    CHECK(sr_schema_type(s, "b") == SR_T_NUM);
    CHECK(sr_schema_type(s, "c") == SR_T_BOOL);
    CHECK(sr_schema_type(s, "d") == SR_T_ANY); /* not known before: any */
    CHECK(sr_schema_gone(s, "x") < 0);         /* never known: not said to be removed */
    sr_topology_free(t);

    sr_schema k = {.closed = true};
    sr_schema_put(&k, "x", SR_T_NUM, NULL);
    sr_schema_put(&k, "y", SR_T_STR, NULL);
    char *keep[] = {"y"};
    sr_mark m = {.line = 3, .col = 9, .len = 6};
    sr_schema_keep(&k, keep, 1, "select", NULL, m);
    CHECK(k.n == 1 && sr_schema_type(&k, "y") == SR_T_STR);
    int g = sr_schema_gone(&k, "x");
    CHECK(g >= 0);
    if (g >= 0) {
        CHECK_STR(k.gone_by[g], "select");
        CHECK_STR(k.gone_kept[g], "y");
        CHECK(k.gone_at[g].line == 3);
    }
    sr_schema_put(&k, "x", SR_T_BOOL, NULL); /* set again: no longer removed */
    CHECK(sr_schema_gone(&k, "x") < 0);
    sr_schema_free(&k);
}

static void infer_write_read(void)
{
    static const char *const recs[] = {
        "{\"id\":\"a\",\"n\":1,\"loc\":{\"lat\":1.5,\"lon\":2},\"tags\":[\"x\"],\"opt\":null}",
        ("{\"id\":\"b\",\"n\":\"2\",\"loc\":{\"lat\":3,\"lon\":4,\"alt\":9},\"tags\":[],"
         "\"opt\":7,\"new\":true}"),
        "{\"id\":\"c\",\"n\":3,\"loc\":{\"lat\":0,\"lon\":0},\"tags\":[\"y\",\"z\"],\"opt\":1}",
    };
    sr_arena a;
    sr_arena_init(&a, 4096);
    sr_schema s = {0};
    for (int i = 0; i < 3; i++) {
        sr_value v;
        char err[128];
        size_t pos;
        CHECK(sr_json_parse(&a, recs[i], strlen(recs[i]), &v, err, sizeof(err), &pos) == 0);
        sr_shape_infer(&s, &v, i);
    }
    sr_arena_free(&a);
    sr_buf b = {0};
    sr_shape_write(&s, &b, 6);
    CHECK_STR(sr_buf_cstr(&b), "      id: string\n"
                               "      n: any\n"
                               "      loc:\n"
                               "        lat: number\n"
                               "        lon: number\n"
                               "        alt?: number\n"
                               "      tags: [string]\n"
                               "      opt?: number\n"
                               "      new?: boolean\n");
    /* read back as a topic's shape: the same fields, types and optional marks */
    sr_buf y = {0};
    sr_buf_puts(&y, "topics:\n  - name: in\n    shape:\n");
    sr_buf_put(&y, b.d, b.len);
    sr_buf_puts(&y, "  - out\ndeployments:\n  - {name: d, input: in, output: out}\n");
    sr_topology *t = load(sr_buf_cstr(&y));
    const sr_schema *r = t ? sr_topology_topic(t, "in")->shape : NULL;
    CHECK(r != NULL);
    if (r) {
        CHECK(r->closed && r->n == s.n);
        for (int i = 0; i < s.n && i < r->n; i++) {
            CHECK_STR(r->names[i], s.names[i]);
            CHECK(r->types[i] == s.types[i]);
            CHECK(r->optional[i] == s.optional[i]);
        }
        int loc = sr_schema_find(r, "loc");
        CHECK(loc >= 0 && r->subs[loc] && r->subs[loc]->closed &&
              sr_schema_type(r->subs[loc], "alt") == SR_T_NUM);
        CHECK(r->elems[sr_schema_find(r, "tags")] == SR_T_STR);
    }
    if (t) sr_topology_free(t);
    sr_buf_free(&y);
    sr_buf_free(&b);
    sr_schema_free(&s);
}

int main(void)
{
    types_through_steps();
    infer_write_read();
    return TEST_END();
}
