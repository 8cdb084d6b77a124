/* cmd_shape.c — `streamrun shape FILE [--format jsonl|csv]`: infers the shape of a sample of a
 * topic's records (JSON lines, or CSV with a header) and prints it as the YAML of a topic's
 * `shape:` setting. */
#include "cmd/cli.h"
#include "base/arena.h"
#include "exec/source.h"
#include "load/shape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fputs("usage: streamrun shape FILE [--format jsonl|csv]\n", stderr);
    return SR_EXIT_USAGE;
}

int sr_cmd_shape(int argc, char **argv)
{
    const char *path = NULL, *format = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = sr_cli_value(argc, argv, &i, "--format"))) {
            format = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "streamrun shape: unknown option '%s'\n", argv[i]);
            return usage();
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "streamrun shape: one file only ('%s')\n", argv[i]);
            return usage();
        }
    }
    if (!path) return usage();
    sr_format fmt = SR_FMT_JSONL;
    size_t len = strlen(path);
    if (format ? strcmp(format, "csv") == 0 : len > 4 && strcmp(path + len - 4, ".csv") == 0)
        fmt = SR_FMT_CSV;
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0) {
        fprintf(stderr, "streamrun shape: --format must be jsonl or csv, not '%s'\n", format);
        return SR_EXIT_USAGE;
    }
    if (!sr_cli_file_arg("shape", path)) return SR_EXIT_USAGE;
    char err[512];
    sr_reader *r = NULL;
    if (sr_reader_open(&r, path, fmt, err, sizeof(err)) != 0) {
        fprintf(stderr, "streamrun shape: %s\n", err);
        return SR_EXIT_INVALID;
    }
    sr_arena a;
    sr_arena_init(&a, 1 << 16);
    sr_schema s = {0};
    long n = 0, skipped = 0;
    int rc = SR_EXIT_OK, got;
    sr_readrec rec;
    while ((got = sr_reader_next(r, &a, &rec, err, sizeof(err))) == 1) {
        if (!rec.ok || rec.value.type != SR_OBJ) { /* a sample may hold bad records too */
            fprintf(stderr, "%s:%ld: warning: skipped: %s\n", path, rec.line,
                    rec.ok ? "not a JSON object (a shape describes records that are objects)"
                           : rec.reason);
            skipped++;
        } else {
            sr_shape_infer(&s, &rec.value, n++);
        }
        sr_arena_reset(&a);
    }
    if (got < 0) {
        fprintf(stderr, "streamrun shape: %s\n", err);
        rc = SR_EXIT_INVALID;
    } else if (n == 0) {
        fprintf(stderr, "streamrun shape: %s has no records to infer a shape from%s\n", path,
                skipped ? " (every line was skipped)" : "");
        rc = SR_EXIT_INVALID;
    }
    if (rc == SR_EXIT_OK) {
        sr_buf b = {0};
        sr_buf_printf(&b, "# the shape of the %ld record%s of %s: put it under the topic\n", n,
                      n == 1 ? "" : "s", path);
        sr_buf_puts(&b, "shape:\n");
        sr_shape_write(&s, &b, 2);
        fwrite(b.d, 1, b.len, stdout); /* a failed write: main's check of stdout says so */
        sr_buf_free(&b);
    }
    sr_schema_free(&s);
    sr_arena_free(&a);
    sr_reader_close(r);
    return rc;
}
