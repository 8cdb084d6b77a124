/* cmd_score.c — `streamrun score PACKAGE [--in FILE]`: scores JSON lines with a model package and
 * prints one JSON line per input with the model stage's default output fields. */
#include "cmd/cli.h"
#include "exec/source.h"
#include "base/arena.h"
#include "model/model.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads the input_schema fields of rec into x; false with the reason in err. */
static bool features(const sr_model *m, const json_t *rec, double *x, char *err, size_t errlen)
{
    if (!json_is_object(rec)) {
        snprintf(err, errlen, "expected a JSON object");
        return false;
    }
    for (int j = 0; j < m->nfeatures; j++) {
        const sr_model_field *f = &m->fields[j];
        json_t *v = json_object_get(rec, f->name);
        if (!v || json_is_null(v)) {
            snprintf(err, errlen, "missing field '%s' (%s)", f->name, sr_field_type_name(f->type));
            return false;
        }
        if (f->type == SR_FIELD_INTEGER && json_is_integer(v)) {
            x[j] = (double)json_integer_value(v);
        } else if (f->type == SR_FIELD_DOUBLE && json_is_number(v)) {
            x[j] = json_number_value(v);
        } else {
            const char *got = json_is_string(v)    ? "a string"
                              : json_is_real(v)    ? "a non-integer number"
                              : json_is_boolean(v) ? "a boolean"
                              : json_is_array(v)   ? "a list"
                              : json_is_object(v)  ? "an object"
                                                   : "another type";
            snprintf(err, errlen, "field '%s' must be %s, not %s", f->name,
                     f->type == SR_FIELD_INTEGER ? "an INTEGER" : "a DOUBLE", got);
            return false;
        }
    }
    return true;
}

static void print_result(const sr_model *m, int label, const double *out)
{
    if (m->nclasses == 0) {
        printf("{\"value\":%.17g}\n", out[0]);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "label", json_string(m->labels[label]));
    json_object_set_new(o, "label_index", json_integer(label));
    json_t *p = json_object();
    for (int k = 0; k < m->nclasses; k++) json_object_set_new(p, m->labels[k], json_real(out[k]));
    json_object_set_new(o, "probabilities", p);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    puts(s);
    free(s);
    json_decref(o);
}

int sr_cmd_score(int argc, char **argv)
{
    const char *pkg = NULL, *in = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--in") == 0 && i + 1 < argc) {
            in = argv[++i];
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
    /* one allocation for the whole run: features, outputs, scratch */
    double *x = sr_xcalloc((size_t)m->nfeatures, sizeof(double));
    double *out = sr_xcalloc((size_t)m->noutputs, sizeof(double));
    void *scratch = sr_xmalloc(sr_model_scratch_size(m));
    const char *line;
    size_t n;
    long lineno = 0, records = 0, failed = 0;
    int status = SR_EXIT_OK, got;
    while ((got = sr_reader_line(r, &line, &n, &lineno, err, sizeof(err))) > 0) {
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
        if (n == 0) continue;
        records++;
        json_error_t je;
        json_t *rec = json_loadb(line, n, 0, &je);
        int label = -1;
        if (!rec)
            snprintf(err, sizeof(err), "invalid JSON at column %d: %s", je.column, je.text);
        else if (features(m, rec, x, err, sizeof(err)))
            label = sr_model_score(m, x, out, scratch, err, sizeof(err));
        json_decref(rec);
        if (label < 0) {
            fprintf(stderr, "%s:%ld: error: %s\n", name, lineno, err);
            json_t *e = json_pack("{ss}", "error", err);
            char *s = json_dumps(e, JSON_COMPACT);
            puts(s);
            free(s);
            json_decref(e);
            failed++;
            continue;
        }
        print_result(m, label, out);
    }
    if (got < 0) {
        fprintf(stderr, "streamrun score: %s\n", err);
        status = SR_EXIT_USAGE;
    } else if (failed) {
        fprintf(stderr, "%ld of %ld records could not be scored\n", failed, records);
        status = SR_EXIT_INVALID;
    }
    sr_reader_close(r);
    free(x);
    free(out);
    free(scratch);
    sr_model_destroy(m);
    if (fflush(stdout) != 0 && status == SR_EXIT_OK) status = SR_EXIT_USAGE;
    return status;
}
