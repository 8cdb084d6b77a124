/* test_expr_limits.c — hostile expressions: long operator chains, postfix chains and nesting
 * are either evaluated or refused at load time, never left to overflow the stack. */
#include "exec/task.h"
#include "load/expr_int.h"
#include "test.h"

#include <pthread.h>
#include <stdlib.h>

/* "x OP x OP x ..." with n terms. */
static char *chain(const char *term, const char *op, int n)
{
    sr_buf b = {0};
    for (int i = 0; i < n; i++) {
        if (i) sr_buf_puts(&b, op);
        sr_buf_puts(&b, term);
    }
    char *s = sr_xstrndup(b.d, b.len);
    sr_buf_free(&b);
    return s;
}

static sr_expr *compile(const char *text, char *err, size_t errsize)
{
    return sr_expr_compile_text(text, strlen(text), err, errsize);
}

typedef struct evaljob {
    const sr_expr *e;
    const char *input;
    sr_buf out; /* the result as JSON, or "ERROR <message>" */
} evaljob;

static void *eval_job(void *arg)
{
    evaljob *j = arg;
    sr_topology topo;
    sr_deployment dep;
    memset(&topo, 0, sizeof(topo));
    memset(&dep, 0, sizeof(dep));
    sr_task t;
    sr_task_init(&t, &topo, &dep, 0);
    sr_record r = {.key = sr_null()};
    char perr[128];
    size_t pos;
    if (sr_json_parse(&t.arena, j->input, strlen(j->input), &r.value, perr, sizeof(perr), &pos))
        abort();
    sr_value v;
    if (sr_expr_eval(j->e, &t, NULL, &r, &v) != 0)
        sr_buf_printf(&j->out, "ERROR %s", t.err);
    else if (sr_json_write(&j->out, &v) != 0)
        sr_buf_puts(&j->out, "(not JSON)");
    sr_task_destroy(&t);
    return NULL;
}

/* Evaluates e on input in a thread with an 8 MiB stack, a thread's usual. Under the sanitised
 * build (a level of recursion there takes ~15 times its optimised size) this shows that the
 * deepest tree the parser accepts fits with room to spare in an optimised build. */
static char *eval_in_thread(const sr_expr *e, const char *input)
{
    evaljob j = {.e = e, .input = input};
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 8u << 20);
    if (pthread_create(&th, &attr, eval_job, &j) != 0) abort();
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
    char *s = sr_xstrndup(j.out.d ? j.out.d : "", j.out.len);
    sr_buf_free(&j.out);
    return s;
}

/* The longest chain the parser accepts is checked and evaluated; one more term is refused at
 * the operator that goes past the limit. */
static void test_chain(const char *term, const char *op, const char *input, const char *want)
{
    char err[512];
    char *ok = chain(term, op, SR_MAX_HEIGHT);
    sr_expr *e = compile(ok, err, sizeof(err));
    CHECK(e != NULL);
    if (!e) fprintf(stderr, "  chain of '%s': %s\n", op, err);
    if (e) {
        char *got = eval_in_thread(e, input);
        CHECK_STR(got, want);
        free(got);
        sr_expr_free(e);
    }
    free(ok);

    char *bad = chain(term, op, SR_MAX_HEIGHT + 1);
    e = compile(bad, err, sizeof(err));
    CHECK(e == NULL);
    sr_expr_free(e);
    /* the operator after term number SR_MAX_HEIGHT */
    size_t col = (size_t)SR_MAX_HEIGHT * strlen(term) + (SR_MAX_HEIGHT - 1) * strlen(op) + 1;
    while (bad[col - 1] == ' ') col++;
    char want_err[256];
    snprintf(want_err, sizeof(want_err),
             "col %zu: expression too deep: more than %d levels of operators (each operator of a "
             "chain such as 'a + b + c' is one level); split it over several steps",
             col, SR_MAX_HEIGHT);
    CHECK_STR(err, want_err);
    free(bad);
}

int main(void)
{
    /* the chains of the report: 5,000 terms, a 10 KB expression */
    char err[512];
    char *big = chain("x", "+", 5000);
    sr_expr *e = compile(big, err, sizeof(err));
    CHECK(e == NULL);
    CHECK(strstr(err, "expression too deep") != NULL);
    sr_expr_free(e);
    free(big);

    char want[32];
    snprintf(want, sizeof(want), "%d", SR_MAX_HEIGHT);
    test_chain("x", "+", "{\"x\":1}", want);
    test_chain("x", " - ", "{\"x\":0}", "0");
    test_chain("x", " * ", "{\"x\":1}", "1");
    test_chain("x", " and ", "{\"x\":true}", "true");
    test_chain("x", " || ", "{\"x\":false}", "false");
    test_chain("x", " ?? ", "{\"x\":null}", "null");
    test_chain("s", " + ", "{\"s\":\"\"}", "\"\"");

    /* postfix chains on a computed value (get and index): coalesce(o) is 2 levels */
    sr_buf b = {0};
    sr_buf_puts(&b, "coalesce(o)");
    for (int i = 0; i < SR_MAX_HEIGHT - 2; i++) sr_buf_puts(&b, i % 2 ? ".a" : "[\"a\"]");
    char *post = sr_xstrndup(b.d, b.len);
    e = compile(post, err, sizeof(err));
    CHECK(e != NULL);
    if (e) {
        char *got = eval_in_thread(e, "{\"o\":{\"a\":{\"a\":7}}}");
        CHECK(strstr(got, "ERROR") == got && strstr(got, "field is missing") != NULL);
        free(got);
    }
    sr_expr_free(e);
    free(post);
    sr_buf_puts(&b, "[0]");
    post = sr_xstrndup(b.d, b.len);
    e = compile(post, err, sizeof(err));
    CHECK(e == NULL);
    snprintf(want, sizeof(want), "col %zu: ", b.len - 2);
    CHECK(strncmp(err, want, strlen(want)) == 0 && strstr(err, "expression too deep") != NULL);
    sr_expr_free(e);
    free(post);

    /* the tree's height adds up over parentheses: ((x + x ... ) + x ...) with 60 operators at
     * each of 10 levels is 601 levels deep, at 20 levels 1201 */
    for (int levels = 10; levels <= 20; levels += 10) {
        b.len = 0;
        for (int i = 0; i < levels; i++) sr_buf_puts(&b, "(");
        sr_buf_puts(&b, "x");
        for (int i = 0; i < levels; i++) {
            for (int k = 0; k < 60; k++) sr_buf_puts(&b, " + x");
            sr_buf_puts(&b, ")");
        }
        char *nest = sr_xstrndup(b.d, b.len);
        e = compile(nest, err, sizeof(err));
        if (levels == 10) {
            CHECK(e != NULL);
            char *got = e ? eval_in_thread(e, "{\"x\":1}") : NULL;
            if (got) CHECK_STR(got, "601");
            free(got);
        } else {
            CHECK(e == NULL);
            CHECK(strstr(err, "expression too deep") != NULL);
        }
        sr_expr_free(e);
        free(nest);
    }

    /* a long plain field path is one node, whatever its length */
    b.len = 0;
    sr_buf_puts(&b, "x");
    for (int i = 0; i < 20000; i++) sr_buf_puts(&b, ".a");
    char *path = sr_xstrndup(b.d, b.len);
    e = compile(path, err, sizeof(err));
    CHECK(e != NULL);
    if (e) {
        CHECK(e->root->kind == N_FIELD && e->root->u.path.nsegs == 20001);
        char *got = eval_in_thread(e, "{\"x\":{\"a\":1}}");
        CHECK(strstr(got, "field is missing") != NULL);
        free(got);
    }
    sr_expr_free(e);
    free(path);
    sr_buf_free(&b);
    return TEST_END();
}
