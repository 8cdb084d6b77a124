/* cmd_score.c — `streamrun score PACKAGE [--in FILE]`: scores JSON lines with a model package and
 * prints one JSON line per input with the model stage's default output fields. */
#include "cmd/cli.h"
#include "exec/source.h"
#include "base/arena.h"
#include "model/model.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sr_cmd_score(int argc, char **argv)
{
    const char *pkg = NULL, *in = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = sr_cli_value(argc, argv, &i, "--in"))) {
            in = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "streamrun score: unknown option '%s'\n", argv[i]);
            return SR_EXIT_USAGE;
        } else if (!pkg) {
            pkg = argv[i];
        } else {
            fprintf(stderr, "streamrun score: one package only ('%s')\n", argv[i]);
            return SR_EXIT_USAGE;
        }
    }
    if (!pkg) {
        fputs("usage: streamrun score PACKAGE [--in FILE]\n", stderr);
        return SR_EXIT_USAGE;
    }
    sr_diag dg;
    sr_diag_init(&dg);
    sr_model *m = NULL;
    int rc = sr_model_load(&m, pkg, &dg);
    sr_diag_print(&dg, stderr, false, isatty(2));
    sr_diag_free(&dg);
    if (rc < 0) return SR_EXIT_INVALID;

    char err[512];
    sr_reader *r = NULL;
    if (sr_reader_open(&r, in ? in : "-", SR_FMT_JSONL, err, sizeof(err)) < 0) {
        fprintf(stderr, "streamrun score: %s\n", err);
        sr_model_destroy(m);
        return SR_EXIT_USAGE;
    }
    const char *name = in && strcmp(in, "-") != 0 ? in : "<stdin>";
    /* one allocation for the whole run: features, outputs, scratch; a record's memory from an
     * arena reset after each line */
    double *x = sr_xcalloc((size_t)m->nfeatures, sizeof(double));
    double *out = sr_xcalloc((size_t)m->noutputs, sizeof(double));
    void *scratch = sr_xmalloc(sr_model_scratch_size(m));
    sr_arena arena;
    sr_arena_init(&arena, 1 << 16);
    sr_buf text = {0};
    const char *line;
    size_t n;
    long lineno = 0, records = 0, failed = 0;
    int status = SR_EXIT_OK, got;
    while ((got = sr_reader_line(r, &line, &n, &lineno, err, sizeof(err))) > 0) {
        sr_arena_reset(&arena);
        text.len = 0;
        size_t at = 0;
        while (at < n && strchr(" \t\r", line[at])) at++;
        if (at == n) continue; /* a blank line */
        records++;
        sr_value rec, res = sr_obj_new(&arena, 4);
        size_t errpos = 0;
        int label = -1;
        char why[256];
        if (sr_json_parse(&arena, line, n, &rec, why, sizeof(why), &errpos) < 0) {
            snprintf(err, sizeof(err), "invalid JSON at byte %zu: %s", errpos + 1, why);
        } else {
            label = sr_model_score_record(m, &rec, NULL, NULL, x, out, scratch, err, sizeof(err));
        }
        if (label < 0) {
            fprintf(stderr, "%s:%ld: error: %s\n", name, lineno, err);
            sr_obj_set(&arena, &res, "error", 5, sr_str(err, strlen(err)));
            failed++;
        } else {
            sr_model_write_outputs(m, &arena, &res, label, out, 0);
        }
        sr_json_write(&text, &res); /* scores are finite: sr_model_score says so */
        sr_buf_putc(&text, '\n');
        fwrite(text.d, 1, text.len, stdout);
    }
    if (got < 0) {
        fprintf(stderr, "streamrun score: %s\n", err);
        status = SR_EXIT_USAGE;
    } else if (failed) {
        fprintf(stderr, "%ld of %ld records could not be scored\n", failed, records);
        status = SR_EXIT_INVALID;
    }
    sr_reader_close(r);
    sr_arena_free(&arena);
    sr_buf_free(&text);
    free(x);
    free(out);
    free(scratch);
    sr_model_destroy(m);
    if (fflush(stdout) != 0 && status == SR_EXIT_OK) status = SR_EXIT_USAGE;
    return status;
}
