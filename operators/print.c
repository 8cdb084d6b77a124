/* print.c — prints records to the console as JSON lines or as a table, and passes them on. */
#include "load/expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct print {
    int format; /* 0 json, 1 table */
    bool metadata;
    int stream; /* 0 stdout, 1 stderr */
    /* table layout, fixed by the first record printed */
    int ncols;
    char *cols[16];
    bool header_done;
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
    struct print *p = op->conf;
    FILE *out = p->stream ? stderr : stdout;
    sr_buf b = {0};
    if (p->format == 0) {
        if (sr_record_json(&b, r, p->metadata) != 0)
            sr_buf_puts(&b, " <value with NaN or infinity>");
    } else {
        if (!p->header_done && r->value.type == SR_OBJ) {
            p->ncols = (int)(r->value.len < 16 ? r->value.len : 16);
            for (int i = 0; i < p->ncols; i++)
                p->cols[i] = sr_xstrndup(r->value.u.o[i].key, r->value.u.o[i].klen);
            sr_buf b2 = {0};
            if (p->metadata) sr_buf_puts(&b2, "key                  timestamp     ");
            for (int i = 0; i < p->ncols; i++) {
                sr_value h = sr_str(p->cols[i], strlen(p->cols[i]));
                cell(&b2, &h, 20);
            }
            fprintf(out, "%s\n", sr_buf_cstr(&b2));
            sr_buf_free(&b2);
            p->header_done = true;
        }
        if (p->metadata) {
            cell(&b, &r->key, 20);
            sr_buf_printf(&b, "%-13lld ", (long long)r->ts);
        }
        if (r->value.type == SR_OBJ && p->ncols) {
            for (int i = 0; i < p->ncols; i++)
                cell(&b, sr_obj_get(&r->value, p->cols[i], strlen(p->cols[i])), 20);
        } else {
            sr_json_write(&b, &r->value);
        }
    }
    fprintf(out, "%s\n", sr_buf_cstr(&b));
    sr_buf_free(&b);
    return 0;
}

static void print_destroy(sr_op *op)
{
    struct print *p = op->conf;
    for (int i = 0; i < p->ncols; i++) free(p->cols[i]);
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
    .process = print_process,
    .destroy = print_destroy,
};
