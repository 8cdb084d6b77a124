/* write.c — writes records to a file as JSON lines, and passes them on. */
#include "load/expr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct write {
    char *file;
    bool metadata;
    FILE *fp;    /* opened (truncated) on the first record */
    sr_buf line; /* reused for every record */
    bool failed;
};

static const sr_param write_params[] = {
    {SR_P_STR, "file", NULL, offsetof(struct write, file),
     "path of the JSON-lines file, relative to the current directory", SR_PF_REQUIRED},
    {SR_P_BOOL, "metadata", "false", offsetof(struct write, metadata),
     "write {key, timestamp, value} instead of the value alone"},
    {0}};

static int write_out(sr_task *t, const sr_op *op, sr_record *r)
{
    struct write *w = op->conf;
    w->line.len = 0;
    int rc = sr_record_json(&w->line, r, w->metadata);
    if (rc)
        return sr_task_fail(t, op,
                            "the record cannot be written as JSON: it holds NaN or infinity");
    if (t->files) { /* under test: captured, no file is touched */
        t->files->line(t->files->ud, w->file, w->line.d, w->line.len);
        return 0;
    }
    if (!w->fp && !w->failed) {
        w->fp = fopen(w->file, "w");
        if (!w->fp) {
            w->failed = true;
            fprintf(stderr, "streamrun: cannot write '%s': %s\n", w->file, strerror(errno));
        }
    }
    if (!w->fp) return sr_task_fail(t, op, "cannot write '%s'", w->file);
    sr_buf_putc(&w->line, '\n');
    fwrite(w->line.d, 1, w->line.len, w->fp);
    return 0;
}

static void write_destroy(sr_op *op)
{
    struct write *w = op->conf;
    if (w->fp) fclose(w->fp);
    sr_buf_free(&w->line);
}

static int write_process(sr_task *t, const sr_op *op, sr_record *r)
{
    return sr_output_and_emit(t, op, r, write_out);
}

const sr_operator_type sr_op_write = {
    .name = "write",
    .summary = "write records to a JSON-lines file (emptied when the run starts) and pass them on",
    .example = "- write: out/normalised.jsonl",
    .params = write_params,
    .primary = "file",
    .conf_size = sizeof(struct write),
    .process = write_process,
    .destroy = write_destroy,
};
