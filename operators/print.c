/* print.c — prints records to the console as JSON lines or as a table, and passes them on. */
#include "load/expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The configuration. The console it prints to is shared by every task of the process: printing
 * happens under the output lock of sr_output_and_emit, so that lines never interleave. */
struct print {
    int format; /* 0 json, 1 table */
    bool metadata;
    int stream; /* 0 stdout, 1 stderr */
};

#define MAX_COLS 16 /* a table shows the first 16 fields: more are not printed (documented) */

/* Per task: the table layout, fixed by the first record this task prints (each task prints its
 * own header once). */
struct print_state {
    int ncols;
    char *cols[MAX_COLS];
    size_t lens[MAX_COLS];
    bool header_done;
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

static int print_out(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct print *p = op->conf;
    struct print_state *st = sr_op_state(t, op);
    FILE *out = p->stream ? stderr : stdout;
    sr_buf *b = &st->line;
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
    struct print_state *st = state;
    for (int i = 0; i < st->ncols; i++) free(st->cols[i]);
    sr_buf_free(&st->line);
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
    .process = print_process,
    .close = print_close,
};
