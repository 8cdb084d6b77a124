/* test_expr_cases.c — runs the data-driven expression cases in tests/expr/expressions.test. */
#include "load/expr.h"
#include "base/record.h"
#include "exec/task.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CASES_FILE "tests/expr/expressions.test"
#define NOW_MS     1700000000000LL /* the clock now() reads during the tests */
#define MAX_HDR    16

/* One case as read from the file: pointers into the file buffer. */
typedef struct tcase {
    int line, meta_line, input_line; /* lines of the expression, %%META and input */
    const char *meta, *expr, *input, *want;
} tcase;

/* Record metadata from a %%META line. */
typedef struct meta {
    bool set;
    sr_origin origin;
    sr_value key;
    sr_header hdr[MAX_HDR];
    uint32_t nhdr;
} meta;

static int failed, passed;
static const char *cases_file = CASES_FILE;

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    sr_buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) sr_buf_put(&b, tmp, n);
    fclose(f);
    sr_buf_putc(&b, 0);
    *len = b.len - 1;
    return b.d;
}

static void fail_case(const tcase *c, const char *want, const char *got)
{
    failed++;
    fprintf(stderr, "%s:%d: %s\n  input:    %s\n  expected: %s\n  got:      %s\n", cases_file,
            c->line, c->expr, c->input ? c->input : "", want, got);
}

static void fail_format(int line, const char *msg)
{
    failed++;
    fprintf(stderr, "%s:%d: bad case: %s\n", cases_file, line, msg);
}

static bool num_member(const sr_value *v, int64_t *out)
{
    sr_value n = sr_num_norm(v);
    if (n.type != SR_INT) return false;
    *out = n.u.i;
    return true;
}

/* A header value from the %%META line: a string or null. */
static bool add_header(meta *m, const char *name, size_t nlen, const sr_value *v)
{
    if (m->nhdr == MAX_HDR || (v->type != SR_STR && v->type != SR_NULL)) return false;
    sr_header *h = &m->hdr[m->nhdr++];
    h->name = name;
    h->nlen = (uint32_t)nlen;
    h->val = v->type == SR_STR ? v->u.s : NULL;
    h->vlen = v->type == SR_STR ? v->len : 0;
    return true;
}

/* Parses a %%META object into m. Returns NULL or what is wrong. */
static const char *parse_meta(sr_arena *a, const char *text, meta *m)
{
    sr_value v;
    char err[128];
    size_t pos;
    memset(m, 0, sizeof(*m));
    m->key = sr_null();
    if (sr_json_parse(a, text, strlen(text), &v, err, sizeof(err), &pos) != 0 || v.type != SR_OBJ)
        return "%%META needs a JSON object";
    m->set = true;
    for (uint32_t i = 0; i < v.len; i++) {
        const sr_member *mb = &v.u.o[i];
        const sr_value *x = &mb->v;
        int64_t n;
        if (mb->klen == 3 && memcmp(mb->key, "key", 3) == 0) {
            if (x->type != SR_STR && x->type != SR_NULL) return "key must be a string or null";
            m->key = *x;
            if (x->type == SR_STR) {
                m->origin.key = x->u.s;
                m->origin.keylen = x->len;
            }
        } else if (mb->klen == 9 && memcmp(mb->key, "timestamp", 9) == 0) {
            if (!num_member(x, &n)) return "timestamp must be an integer";
            m->origin.ts = n;
        } else if (mb->klen == 9 && memcmp(mb->key, "partition", 9) == 0) {
            if (!num_member(x, &n)) return "partition must be an integer";
            m->origin.partition = (int32_t)n;
        } else if (mb->klen == 6 && memcmp(mb->key, "offset", 6) == 0) {
            if (!num_member(x, &n)) return "offset must be an integer";
            m->origin.offset = n;
        } else if (mb->klen == 5 && memcmp(mb->key, "topic", 5) == 0) {
            if (x->type == SR_STR)
                m->origin.topic = sr_arena_strndup(a, x->u.s, x->len);
            else if (x->type != SR_NULL)
                return "topic must be a string or null";
        } else if (mb->klen == 7 && memcmp(mb->key, "headers", 7) == 0) {
            if (x->type == SR_OBJ) {
                for (uint32_t k = 0; k < x->len; k++)
                    if (!add_header(m, x->u.o[k].key, x->u.o[k].klen, &x->u.o[k].v))
                        return "header values must be strings or null";
            } else if (x->type == SR_ARR) {
                for (uint32_t k = 0; k < x->len; k++) {
                    const sr_value *p = &x->u.a[k];
                    if (p->type != SR_ARR || p->len != 2 || p->u.a[0].type != SR_STR ||
                        !add_header(m, p->u.a[0].u.s, p->u.a[0].len, &p->u.a[1]))
                        return "headers as an array must be [name, string-or-null] pairs";
                }
            } else {
                return "headers must be an object or an array of pairs";
            }
        } else {
            return "unknown %%META member";
        }
    }
    m->origin.hdr = m->hdr;
    m->origin.nhdr = m->nhdr;
    return NULL;
}

/* Whether a result of dynamic type t fits the static type st found at load time. */
static bool fits(sr_stype st, sr_type t)
{
    switch (st) {
    case SR_T_ANY: return true;
    case SR_T_NULL: return t == SR_NULL;
    case SR_T_BOOL: return t == SR_BOOL || t == SR_NULL;
    case SR_T_NUM: return t == SR_NUM || t == SR_INT || t == SR_DBL || t == SR_NULL;
    case SR_T_STR: return t == SR_STR || t == SR_NULL;
    case SR_T_ARR: return t == SR_ARR || t == SR_NULL;
    case SR_T_OBJ: return t == SR_OBJ || t == SR_NULL;
    }
    return false;
}

static void run_case(sr_task *t, const tcase *c, sr_buf *got)
{
    got->len = 0;
    sr_arena_reset(&t->arena);
    t->err[0] = 0;
    t->err_op = NULL;
    t->origin = NULL;

    meta m = {.key = {.type = SR_NULL}};
    if (c->meta) {
        const char *why = parse_meta(&t->arena, c->meta, &m);
        if (why) {
            fail_format(c->meta_line, why);
            return;
        }
    }

    char err[512];
    sr_expr *e = sr_expr_compile_text(c->expr, strlen(c->expr), err, sizeof(err));
    if (!e) {
        sr_buf_printf(got, "%%%%COMPILE %s", err);
    } else {
        sr_record r = {.key = m.key, .ts = m.origin.ts, .hdr = m.hdr, .nhdr = m.nhdr};
        char perr[128];
        size_t pos;
        if (sr_json_parse(&t->arena, c->input, strlen(c->input), &r.value, perr, sizeof(perr),
                          &pos) != 0) {
            char msg[200];
            snprintf(msg, sizeof(msg), "input is not JSON: %s at byte %zu", perr, pos + 1);
            fail_format(c->input_line, msg);
            sr_expr_free(e);
            return;
        }
        if (m.set) t->origin = &m.origin;
        sr_value out;
        if (sr_expr_eval(e, t, NULL, &r, &out) != 0) {
            sr_buf_printf(got, "%%%%ERROR %s", t->err[0] ? t->err : "(no message)");
        } else if (out.type == SR_MISSING) {
            sr_buf_puts(got, "(missing value returned without an error)");
        } else if (!fits(sr_expr_type(e), (sr_type)out.type)) {
            sr_buf_printf(got, "(a %s where the static type is %s)",
                          sr_type_name((sr_type)out.type), sr_stype_name(sr_expr_type(e)));
        } else if (sr_json_write(got, &out) != 0) {
            sr_buf_puts(got, "(result is not writable as JSON)");
        }
        sr_expr_free(e);
    }
    t->origin = NULL;
    if (strcmp(sr_buf_cstr(got), c->want) == 0)
        passed++;
    else
        fail_case(c, c->want, sr_buf_cstr(got));
}

/* The cases file is tests/expr/expressions.test, or the one named on the command line. */
int main(int argc, char **argv)
{
    if (argc > 1) cases_file = argv[1];
    size_t len;
    char *text = read_all(cases_file, &len);
    if (!text) {
        fprintf(stderr, "cannot read %s (run from the repository root)\n", cases_file);
        return 1;
    }

    sr_topology topo;
    sr_deployment dep;
    memset(&topo, 0, sizeof(topo));
    memset(&dep, 0, sizeof(dep));
    sr_task task;
    sr_task_init(&task, &topo, &dep, 0);
    task.now_ms = NOW_MS;

    sr_buf got = {0};
    const char *lines[5];
    int at[5], nlines = 0, lineno = 0;
    char *p = text, *end = text + len;
    while (p <= end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        lineno++;
        if (eol > p && eol[-1] == '\r') eol[-1] = 0;
        *eol = 0;
        const char *line = p;
        p = eol + 1;

        bool blank = true;
        for (const char *q = line; *q; q++)
            if (*q != ' ' && *q != '\t') blank = false;
        if (!blank && line[0] == '#') continue;
        if (!blank) {
            if (nlines < 5) {
                lines[nlines] = line;
                at[nlines] = lineno;
            }
            nlines++;
        }
        if ((blank || !nl) && nlines > 0) {
            bool has_meta = strncmp(lines[0], "%%META ", 7) == 0;
            int want = has_meta ? 4 : 3;
            if (nlines != want) {
                char msg[100];
                snprintf(msg, sizeof(msg), "%d lines, expected %d", nlines, want);
                fail_format(at[0], msg);
            } else {
                int k = has_meta ? 1 : 0;
                tcase c = {.line = at[k],
                           .meta_line = at[0],
                           .input_line = at[k + 1],
                           .meta = has_meta ? lines[0] + 7 : NULL,
                           .expr = lines[k],
                           .input = lines[k + 1],
                           .want = lines[k + 2]};
                run_case(&task, &c, &got);
            }
            nlines = 0;
        }
        if (!nl) break;
    }

    sr_buf_free(&got);
    sr_task_destroy(&task);
    free(text);
    printf("%d passed, %d failed\n", passed, failed);
    return failed || passed == 0 ? 1 : 0;
}
