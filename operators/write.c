/* write.c — writes records to a file as JSON lines, and passes them on. */
#include "load/expr.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The file a write step writes, one for every task of the process (the tasks of a deployment
 * append to the same file). Allocated when the step is loaded, freed with it; its fields change
 * only under the output lock of sr_output_and_emit (@locks the output lock). */
struct write_file {
    FILE *fp;    /* opened (truncated) on the first record */
    bool failed; /* could not be opened: reported once, every record then fails */
};

struct write {
    char *file;
    bool metadata;
    struct write_file *shared; /* process-wide, see above: set by write_check */
};

/* Per task: the line being written. */
struct write_state {
    sr_buf line; /* reused for every record */
};

static const sr_param write_params[] = {
    {SR_P_STR, "file", NULL, offsetof(struct write, file),
     "path of the JSON-lines file, relative to the current directory", SR_PF_REQUIRED},
    {SR_P_BOOL, "metadata", "false", offsetof(struct write, metadata),
     "write {key, timestamp, value} instead of the value alone"},
    {0}};

static int write_check(sr_op *op, void *conf, sr_check *ck)
{
    struct write *w = conf;
    w->shared = sr_xcalloc(1, sizeof(*w->shared));
    return 0;
}

/* @locks the output lock (held: called by sr_output_and_emit) */
static int write_out(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct write *w = op->conf;
    struct write_state *st = sr_op_state(t, op);
    struct write_file *f = w->shared;
    assert(f);
    st->line.len = 0;
    int rc = sr_record_json(&st->line, r, w->metadata);
    if (rc)
        return sr_task_fail(t, op,
                            "the record cannot be written as JSON: it holds NaN or infinity");
    const sr_file_sink *files = sr_task_files(t);
    if (files) { /* under test: captured, no file is touched */
        files->line(files->ud, w->file, st->line.d, st->line.len);
        return 0;
    }
    if (!f->fp && !f->failed) {
        f->fp = fopen(w->file, "w");
        if (!f->fp) {
            f->failed = true;
            fprintf(stderr, "streamrun: cannot write '%s': %s\n", w->file, strerror(errno));
        }
    }
    if (!f->fp) return sr_task_fail(t, op, "cannot write '%s'", w->file);
    sr_buf_putc(&st->line, '\n');
    fwrite(st->line.d, 1, st->line.len, f->fp);
    return 0;
}

static void write_close(sr_task *t, const sr_op *op, void *state)
{
    struct write_state *st = state;
    sr_buf_free(&st->line);
}

static void write_destroy(void *conf)
{
    struct write *w = conf;
    if (!w->shared) return; /* not checked: a step that failed to load */
    if (w->shared->fp) fclose(w->shared->fp);
    free(w->shared);
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
    .state_size = sizeof(struct write_state),
    .check = write_check,
    .process = write_process,
    .close = write_close,
    .destroy = write_destroy,
};
