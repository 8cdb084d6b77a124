/* print.c — prints records to the console as JSON lines or as a table, and passes them on. */
#include "load/expr.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 16 /* a table shows the first 16 fields: more are not printed (documented) */

/* The console a print step prints to, one for every task of the process: a table's layout is
 * fixed by the first record any task prints, under one header. Allocated when the step is loaded,
 * freed with it; its fields change only under the output lock of sr_output_and_emit, which also
 * keeps lines from interleaving (@locks the output lock). */
struct print_console {
    int ncols;
    char *cols[MAX_COLS];
    size_t lens[MAX_COLS];
    bool header_done;
};

struct print {
    int format; /* 0 json, 1 table */
    bool metadata;
    int stream;                   /* 0 stdout, 1 stderr */
    struct print_console *shared; /* process-wide, see above: set by print_check */
};

/* Per task: the line being printed. */
struct print_state {
    sr_buf line; /* reused for every record */
};

static const sr_param print_params[] = {
    {SR_P_ENUM, "format", "json", offsetof(struct print, format),
     "json: one JSON value per line; table: aligned columns, those of the first record's first 16 "
     "fields, each cut to 20 characters (a '~' marks a cut)",
     0, "json|table"},
    {SR_P_BOOL, "metadata", "false", offsetof(struct print, metadata),
     "also print key, timestamp, partition and offset"},
    {SR_P_ENUM, "stream", "stdout", offsetof(struct print, stream), "where to print", 0,
     "stdout|stderr"},
    {0}};

static void cell(sr_buf *b, const sr_value *v, int width)
{
    size_t start = b->len;
    if (v && v->type == SR_STR)
        sr_buf_put(b, v->u.s, v->len);
    else if (v)
        sr_json_write(b, v);
    size_t used = b->len - start;
    if ((int)used > width) {
        b->len = start + (size_t)width - 1;
        sr_buf_putc(b, '~');
    } else {
        for (int i = (int)used; i < width; i++) sr_buf_putc(b, ' ');
    }
    sr_buf_putc(b, ' ');
}

static int print_check(sr_op *op, void *conf, sr_check *ck)
{
    struct print *p = conf;
    p->shared = sr_xcalloc(1, sizeof(*p->shared));
    return 0;
}

static void print_destroy(void *conf)
{
    struct print *p = conf;
    if (!p->shared) return; /* not checked: a step that failed to load */
    for (int i = 0; i < p->shared->ncols; i++) free(p->shared->cols[i]);
    free(p->shared);
}

/* @locks the output lock (held: called by sr_output_and_emit) */
static int print_out(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct print *p = op->conf;
    struct print_state *ps = sr_op_state(t, op);
    struct print_console *st = p->shared;
    assert(st);
    FILE *out = p->stream ? stderr : stdout;
    sr_buf *b = &ps->line;
    b->len = 0;
    if (p->format == 0) {
        if (sr_record_json(b, r, p->metadata) != 0) sr_buf_puts(b, " <value with NaN or infinity>");
    } else {
        if (!st->header_done && r->value.type == SR_OBJ) {
            st->ncols = (int)(r->value.len < MAX_COLS ? r->value.len : MAX_COLS);
            for (int i = 0; i < st->ncols; i++) {
                st->cols[i] = sr_xstrndup(r->value.u.o[i].key, r->value.u.o[i].klen);
                st->lens[i] = r->value.u.o[i].klen;
            }
            if (p->metadata) sr_buf_puts(b, "key                  timestamp     ");
            for (int i = 0; i < st->ncols; i++) {
                sr_value h = sr_str(st->cols[i], st->lens[i]);
                cell(b, &h, 20);
            }
            fprintf(out, "%s\n", sr_buf_cstr(b));
            b->len = 0;
            st->header_done = true;
        }
        if (p->metadata) {
            cell(b, &r->key, 20);
            sr_buf_printf(b, "%-13lld ", (long long)r->ts);
        }
        if (r->value.type == SR_OBJ && st->ncols) {
            for (int i = 0; i < st->ncols; i++)
                cell(b, sr_obj_get(&r->value, st->cols[i], st->lens[i]), 20);
        } else {
            sr_json_write(b, &r->value);
        }
    }
    fprintf(out, "%s\n", sr_buf_cstr(b));
    return 0;
}

static void print_close(sr_task *t, const sr_op *op, void *state)
{
    struct print_state *ps = state;
    sr_buf_free(&ps->line);
}

static int print_process(sr_task *t, const sr_op *op, sr_record *r)
{
    return sr_output_and_emit(t, op, r, print_out);
}

const sr_operator_type sr_op_print = {
    .name = "print",
    .summary = "print records to the console and pass them on",
    .example = "- print: {format: table}",
    .params = print_params,
    .primary = "format",
    .conf_size = sizeof(struct print),
    .state_size = sizeof(struct print_state),
    .check = print_check,
    .process = print_process,
    .close = print_close,
    .destroy = print_destroy,
};
