/* cmd_run.c — `streamrun validate` and `streamrun run`: check files, run deployments over files. */
#include "cmd/cli.h"
#include "exec/local.h"
#include "exec/source.h"
#include "state/store.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

sr_topology *sr_cli_load(const char *path, bool refuse_unsafe)
{
    /* the diagnostics list owns the file's text, which the topology's nodes point into: it
     * lives as long as the topology */
    sr_diag *dg = sr_xcalloc(1, sizeof(*dg));
    sr_diag_init(dg);
    sr_topology *t = NULL;
    int rc = sr_topology_load(&t, path, dg);
    if (t && refuse_unsafe && sr_topology_refuse_unsafe(t, dg)) rc = -1;
    sr_diag_print(dg, stderr, false, isatty(2));
    if (rc != 0 || !t) {
        sr_topology_free(t);
        sr_diag_free(dg);
        free(dg);
        return NULL;
    }
    t->owned_dg = dg;
    return t;
}

bool sr_cli_state_memory(const char *cmd, const char *size)
{
    size_t bytes;
    if (!sr_parse_size(size, &bytes) || bytes == 0) {
        fprintf(stderr,
                "streamrun %s: --state-memory takes a size such as 512MiB, 64KiB or 1GB (bytes: "
                "B, KiB, MiB, GiB, KB, MB, GB), not '%s'\n",
                cmd, size);
        return false;
    }
    sr_state_budget_limit(bytes);
    return true;
}

void sr_print_state(FILE *fp)
{
    const sr_mem_budget *b = sr_state_budget();
    fprintf(fp, "state: %zu keys in %zu bytes, at most %zu bytes", sr_mem_budget_keys(b),
            sr_mem_budget_used(b), sr_mem_budget_peak(b));
    if (b->limit == SIZE_MAX)
        fprintf(fp, " (no budget)\n");
    else
        fprintf(fp, " (budget %zu bytes)\n", b->limit);
}

/* ---- validate ------------------------------------------------------------------------ */

/* Whether topo, the topology of the tests file path (sr_cli_targets), exists; when not, adds an
 * error at the tests file. */
static bool tests_topology_exists(const char *path, const char *topo, sr_diag *dg)
{
    struct stat st;
    if (stat(topo, &st) == 0) return true;
    sr_ydoc doc = {0};
    sr_ydoc_load(&doc, path, dg);
    sr_cli_tests_without_topology(dg, doc.file, doc.root ? doc.root->mark : (sr_mark){1, 1, 0},
                                  topo);
    sr_ydoc_free(&doc);
    return false;
}

int sr_cmd_validate(int argc, char **argv)
{
    bool json = false, allow_unsafe = false;
    const char **files = sr_xcalloc((size_t)argc, sizeof(*files)); /* every argument at most */
    int nfiles = 0, rc = SR_EXIT_OK;
    for (int i = 1; i < argc && rc == SR_EXIT_OK; i++) {
        const char *v;
        if ((v = sr_cli_value(argc, argv, &i, "--format"))) {
            if (strcmp(v, "json") == 0)
                json = true;
            else if (strcmp(v, "text") != 0) {
                fprintf(stderr, "streamrun validate: --format must be text or json, not '%s'\n", v);
                rc = SR_EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--allow-unsafe-kafka-properties") == 0) {
            allow_unsafe = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "streamrun validate: unknown or incomplete option '%s'\n", argv[i]);
            rc = SR_EXIT_USAGE;
        } else if (!sr_cli_file_arg("validate", argv[i])) {
            rc = SR_EXIT_USAGE;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (rc == SR_EXIT_OK && nfiles == 0) {
        fprintf(stderr, "usage: streamrun validate FILE... [--format text|json] "
                        "[--allow-unsafe-kafka-properties]\n");
        rc = SR_EXIT_USAGE;
    }
    if (rc != SR_EXIT_OK) {
        free(files);
        return rc;
    }
    sr_diag dg;
    sr_diag_init(&dg);
    char **targets = sr_xcalloc((size_t)nfiles, sizeof(*targets));
    sr_cli_targets(nfiles, files, targets); /* NAME.yaml and NAME.tests.yaml: checked once */
    int bad = 0, io = 0;
    for (int i = 0; i < nfiles; i++) {
        int before = dg.nerrors;
        if (targets[i] && strcmp(targets[i], files[i]) != 0 &&
            !tests_topology_exists(files[i], targets[i], &dg)) {
            free(targets[i]);
            targets[i] = NULL;
        }
        if (targets[i]) {
            sr_topology *t = NULL;
            struct stat st;
            if (strcmp(targets[i], "-") != 0 && stat(targets[i], &st) != 0) io = 1;
            if (sr_topology_load(&t, targets[i], &dg) == 0) sr_tests_check(t, &dg);
            if (t && !allow_unsafe) sr_topology_refuse_unsafe(t, &dg);
            sr_topology_free(t);
        }
        if (dg.nerrors > before) bad++;
    }
    sr_diag_print(&dg, json ? stdout : stderr, json, !json && isatty(2));
    if (!json) {
        if (dg.nerrors)
            fprintf(stderr, "%d error%s in %d of %d file%s\n", dg.nerrors,
                    dg.nerrors == 1 ? "" : "s", bad, nfiles, nfiles == 1 ? "" : "s");
        else
            fprintf(stderr, "%d file%s valid\n", nfiles, nfiles == 1 ? "" : "s");
    }
    sr_diag_free(&dg);
    for (int i = 0; i < nfiles; i++) free(targets[i]);
    free(targets);
    free(files);
    if (io) return SR_EXIT_USAGE;
    return bad ? SR_EXIT_INVALID : SR_EXIT_OK;
}

/* ---- run -------------------------------------------------------------------------------- */

typedef struct run_ctx {
    const sr_topology *topo;
    const char *dir;
    bool envelope;
    FILE **files; /* per topic (by index): its DIR/TOPIC.jsonl once written */
    bool *tried;  /* per topic: opening was tried (files[i] NULL after an error) */
    sr_arena scratch;
    sr_buf line;
    int io_error;
} run_ctx;

static bool is_dead_letter_topic(const sr_topology *t, const sr_topic *topic)
{
    for (int i = 0; i < t->ndeps; i++)
        if (t->deps[i].dead_letter == topic) return true;
    return false;
}

/* {"key":..,"value":..,"timestamp":..,"headers":{..}}; a value that is not
 * JSON (a dead letter's original bytes) is written as a string. */
void sr_write_envelope(sr_buf *b, sr_arena *scratch, const char *base, const sr_out *o)
{
    sr_buf_puts(b, "{\"key\":");
    if (o->key_len < 0)
        sr_buf_puts(b, "null");
    else
        sr_json_write_str(b, base + o->key_off, (size_t)o->key_len);
    sr_buf_puts(b, ",\"value\":");
    sr_value v;
    char err[64];
    size_t pos;
    if (o->val_null)
        sr_buf_puts(b, "null");
    else if (o->val_len &&
             sr_json_parse(scratch, base + o->val_off, o->val_len, &v, err, sizeof(err), &pos) == 0)
        sr_buf_put(b, base + o->val_off, o->val_len);
    else
        sr_json_write_str(b, base + o->val_off, o->val_len);
    sr_buf_printf(b, ",\"timestamp\":%lld", (long long)o->ts);
    if (o->nhdr) {
        sr_buf_puts(b, ",\"headers\":{");
        const char *h = base + o->hdr_off;
        for (uint32_t i = 0; i < o->nhdr; i++) {
            sr_header x;
            h = sr_header_next(h, &x);
            if (i) sr_buf_putc(b, ',');
            sr_json_write_str(b, x.name, x.nlen);
            sr_buf_putc(b, ':');
            if (x.val)
                sr_json_write_str(b, x.val, x.vlen);
            else
                sr_buf_puts(b, "null");
        }
        sr_buf_putc(b, '}');
    }
    sr_buf_putc(b, '}');
}

static FILE *out_for(run_ctx *c, const sr_topic *topic)
{
    if (c->tried[topic->index]) return c->files[topic->index];
    c->tried[topic->index] = true;
    sr_buf pb = {0};
    sr_buf_printf(&pb, "%s/%s.jsonl", c->dir, topic->name);
    const char *path = sr_buf_cstr(&pb);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        fprintf(stderr, "streamrun: cannot write '%s': %s\n", path, strerror(errno));
        c->io_error = 1;
    } else {
        setvbuf(fp, NULL, _IOFBF, 1 << 16);
    }
    sr_buf_free(&pb);
    c->files[topic->index] = fp;
    return fp;
}

static void run_sink(void *ud, const sr_topic *topic, int32_t partition, bool input,
                     const char *base, const sr_out *o)
{
    run_ctx *c = ud;
    if (input) return;
    FILE *fp = out_for(c, topic);
    if (!fp) return;
    c->line.len = 0;
    if (c->envelope || is_dead_letter_topic(c->topo, topic)) {
        sr_write_envelope(&c->line, &c->scratch, base, o);
        sr_arena_reset(&c->scratch);
    } else if (o->val_null) {
        sr_buf_puts(&c->line, "null"); /* a tombstone (a join's retraction): no value */
    } else {
        sr_buf_put(&c->line, base + o->val_off, o->val_len);
    }
    sr_buf_putc(&c->line, '\n');
    fwrite(c->line.d, 1, c->line.len, fp);
}

/* Reads an envelope line {"key","value","timestamp","headers"}; "value": null is a tombstone
 * (*tombstone set), as the envelope of a tombstone is written. */
static int read_envelope(sr_arena *a, sr_buf *val, const char *line, size_t len, sr_value *key,
                         int64_t *ts, sr_header **hdr, uint32_t *nhdr, bool *tombstone, char *err,
                         size_t errsize)
{
    sr_value env;
    size_t pos;
    char perr[128];
    if (sr_json_parse(a, line, len, &env, perr, sizeof(perr), &pos) != 0) {
        snprintf(err, errsize, "invalid JSON at byte %zu: %s", pos + 1, perr);
        return -1;
    }
    if (env.type != SR_OBJ) {
        snprintf(err, errsize,
                 "an envelope must be an object {\"key\", \"value\", \"timestamp\", \"headers\"}");
        return -1;
    }
    for (uint32_t i = 0; i < env.len; i++) {
        const sr_member *m = &env.u.o[i];
        if (!(m->klen == 3 && memcmp(m->key, "key", 3) == 0) &&
            !(m->klen == 5 && memcmp(m->key, "value", 5) == 0) &&
            !(m->klen == 9 && memcmp(m->key, "timestamp", 9) == 0) &&
            !(m->klen == 7 && memcmp(m->key, "headers", 7) == 0)) {
            snprintf(err, errsize,
                     "unknown envelope field '%.*s' (expected key, value, timestamp, headers)",
                     (int)m->klen, m->key);
            return -1;
        }
    }
    sr_value *k = sr_obj_get(&env, "key", 3), *v = sr_obj_get(&env, "value", 5);
    sr_value *t = sr_obj_get(&env, "timestamp", 9), *h = sr_obj_get(&env, "headers", 7);
    *key = (k && k->type != SR_NULL) ? sr_value_to_str(a, k) : sr_null();
    val->len = 0;
    if (!v) {
        snprintf(err, errsize, "the envelope has no \"value\"");
        return -1;
    }
    *tombstone = v->type == SR_NULL;
    sr_json_write(val, v);
    if (t) {
        sr_value n = sr_num_norm(t);
        if (n.type != SR_INT || n.u.i < 0) {
            snprintf(err, errsize, "\"timestamp\" must be a whole number of ms since the epoch");
            return -1;
        }
        *ts = n.u.i;
    }
    *nhdr = 0;
    if (h && h->type == SR_OBJ) {
        *hdr = sr_arena_alloc(a, sizeof(sr_header) * (h->len + 1));
        for (uint32_t i = 0; i < h->len; i++) {
            const sr_member *m = &h->u.o[i];
            if (memchr(m->key, 0, m->klen)) {
                snprintf(err, errsize,
                         "header name \"%s\\u0000...\" holds a NUL character: Kafka clients read "
                         "header names as C strings (librdkafka's header API), so it cannot be "
                         "carried",
                         m->key);
                return -1;
            }
            sr_value s = m->v.type == SR_NULL ? m->v : sr_value_to_str(a, &m->v);
            (*hdr)[i] = (sr_header){m->key, m->klen, s.type == SR_NULL ? NULL : s.u.s,
                                    s.type == SR_NULL ? 0 : s.len};
        }
        *nhdr = h->len;
    } else if (h && h->type != SR_NULL) {
        snprintf(err, errsize, "\"headers\" must be an object of strings");
        return -1;
    }
    return 0;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int feed_file(sr_local *l, const sr_topic *topic, const char *path, bool envelope,
                     uint64_t *count)
{
    /* the source-file reader: its line limit, read errors and BOM handling */
    char ioerr[512];
    sr_reader *rd;
    if (sr_reader_open(&rd, path, SR_FMT_JSONL, ioerr, sizeof(ioerr)) != 0) {
        fprintf(stderr, "streamrun run: %s\n", ioerr);
        return -1;
    }
    const char *line;
    size_t n;
    long lineno = 0;
    int bad = 0, got;
    sr_arena a;
    sr_arena_init(&a, 64 * 1024);
    sr_buf val = {0};
    int64_t now = wall_ms();
    while ((got = sr_reader_line(rd, &line, &n, &lineno, ioerr, sizeof(ioerr))) == 1) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
        size_t i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
        if (i == n) continue;
        if (!envelope) {
            sr_local_produce(l, topic, NULL, 0, line, n, now, NULL, 0);
        } else {
            sr_value key;
            int64_t ts = now;
            sr_header *hdr = NULL;
            uint32_t nhdr = 0;
            char err[256];
            bool tombstone = false;
            if (read_envelope(&a, &val, line, n, &key, &ts, &hdr, &nhdr, &tombstone, err,
                              sizeof(err))) {
                fprintf(stderr, "%s:%ld: error: %s\n", path, lineno, err);
                bad++;
            } else {
                sr_local_produce(l, topic, key.type == SR_STR ? key.u.s : NULL,
                                 key.type == SR_STR ? key.len : 0,
                                 tombstone ? NULL
                                 : val.d   ? val.d
                                           : "",
                                 val.len, ts, hdr, nhdr);
            }
            sr_arena_reset(&a);
        }
        (*count)++;
    }
    if (got < 0) { /* never taken for the end of the input: what follows would be lost */
        fprintf(stderr, "streamrun run: %s\n", ioerr);
        bad++;
    }
    sr_reader_close(rd);
    sr_buf_free(&val);
    sr_arena_free(&a);
    return bad ? -1 : 0;
}

int sr_cmd_run(int argc, char **argv)
{
    const char *file = NULL, *dir = "out";
    /* --only and --in: at most one per argument */
    const char **only = sr_xcalloc((size_t)argc, sizeof(*only));
    const char **ins = sr_xcalloc((size_t)argc, sizeof(*ins));
    const sr_topic **in_topics = sr_xcalloc((size_t)argc, sizeof(*in_topics));
    int nonly = 0, nins = 0, rc = SR_EXIT_OK;
    bool envelope = false, quiet = false;
    sr_topology *t = NULL;
    for (int i = 1; i < argc && rc == SR_EXIT_OK; i++) {
        const char *a = argv[i], *v;
        if ((v = sr_cli_value(argc, argv, &i, "--only")))
            only[nonly++] = v;
        else if ((v = sr_cli_value(argc, argv, &i, "--in")))
            ins[nins++] = v;
        else if ((v = sr_cli_value(argc, argv, &i, "--out")))
            dir = v;
        else if (strcmp(a, "--envelope") == 0)
            envelope = true;
        else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            quiet = true;
        else if ((v = sr_cli_value(argc, argv, &i, "--state-memory"))) {
            if (!sr_cli_state_memory("run", v)) rc = SR_EXIT_USAGE;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "streamrun run: unknown or incomplete option '%s'\n", a);
            rc = SR_EXIT_USAGE;
        } else if (!file)
            file = a;
        else {
            fprintf(stderr, "streamrun run: one topology file at a time ('%s' is extra)\n", a);
            rc = SR_EXIT_USAGE;
        }
    }
    if (rc == SR_EXIT_OK && !file) {
        fprintf(stderr,
                "usage: streamrun run FILE [--only NAME]... [--in TOPIC=PATH]... [--out DIR] "
                "[--envelope] [--quiet] [--state-memory SIZE]\n");
        rc = SR_EXIT_USAGE;
    }
    if (rc == SR_EXIT_OK && !sr_cli_file_arg("run", file)) rc = SR_EXIT_USAGE;
    if (rc != SR_EXIT_OK) goto done;
    t = sr_cli_load(file, false); /* run makes no Kafka client */
    if (!t) {
        rc = SR_EXIT_INVALID;
        goto done;
    }
    for (int i = 0; i < nonly; i++) {
        if (!sr_topology_deployment(t, only[i])) {
            fprintf(stderr, "streamrun run: no deployment named '%s' in %s\n", only[i], file);
            rc = SR_EXIT_USAGE;
        }
    }
    for (int i = 0; i < nins; i++) {
        const char *eq = strchr(ins[i], '=');
        char *name = eq ? sr_xstrndup(ins[i], (size_t)(eq - ins[i])) : NULL;
        in_topics[i] = name ? sr_topology_topic(t, name) : NULL;
        if (!eq)
            fprintf(stderr, "streamrun run: --in takes TOPIC=PATH, not '%s'\n", ins[i]),
                rc = SR_EXIT_USAGE;
        else if (!in_topics[i])
            fprintf(stderr, "streamrun run: --in: no topic named '%s' in %s\n", name, file),
                rc = SR_EXIT_USAGE;
        free(name);
    }
    if (rc == SR_EXIT_OK && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "streamrun run: cannot create '%s': %s\n", dir, strerror(errno));
        rc = SR_EXIT_USAGE;
    }
    if (rc != SR_EXIT_OK) goto done;
    run_ctx c = {.topo = t, .dir = dir, .envelope = envelope};
    c.files = sr_xcalloc((size_t)t->ntopics + 1, sizeof(FILE *));
    c.tried = sr_xcalloc((size_t)t->ntopics + 1, sizeof(bool));
    sr_arena_init(&c.scratch, 64 * 1024);
    sr_local *l = sr_local_new(t, only, nonly, run_sink, &c);
    double t0 = mono_s();
    uint64_t fed = 0;
    if (sr_local_run_sources(l) != 0) rc = SR_EXIT_USAGE;
    for (int i = 0; i < nins; i++)
        if (feed_file(l, in_topics[i], strchr(ins[i], '=') + 1, envelope, &fed) != 0)
            rc = SR_EXIT_USAGE;
    sr_local_end(l); /* steps emit what they still hold (on_end), before the files close */
    double secs = mono_s() - t0;
    for (int i = 0; i < t->ntopics; i++)
        if (c.files[i] && fclose(c.files[i]) != 0) c.io_error = 1;
    if (c.io_error) rc = SR_EXIT_USAGE;
    uint64_t total_in = 0;
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        if (!sr_local_selected(l, d)) continue;
        sr_local_stats st;
        sr_local_get_stats(l, d, &st);
        total_in += st.in;
        if (quiet) continue;
        assert(st.in == st.delivered + st.filtered + st.dead);
        fprintf(stderr, "%s: ", d->name);
        sr_print_counts(stderr, st.in, st.filtered, st.dead, st.out);
        if (st.emit_dead) /* made by steps at timers or the end, not by an input */
            fprintf(stderr, ", %llu made by steps dead-lettered", (unsigned long long)st.emit_dead);
        sr_print_reports(stderr, d);
        if (st.dropped_errors)
            fprintf(stderr, " (%llu failed with no deadLetter topic: not written anywhere)",
                    (unsigned long long)st.dropped_errors);
        fputc('\n', stderr);
        sr_print_report_lines(stderr, d);
    }
    if (!quiet) {
        if (sr_mem_budget_used(sr_state_budget()) || sr_state_budget()->limit != SIZE_MAX)
            sr_print_state(stderr); /* what the tasks still hold (before they are dropped) */
        fprintf(stderr, "%.3f s, %.0f records/s; outputs in %s/\n", secs,
                secs > 0 ? (double)(total_in) / secs : 0.0, dir);
    }
    sr_local_free(l);
    sr_arena_free(&c.scratch);
    sr_buf_free(&c.line);
    free(c.files);
    free(c.tried);
done:
    sr_topology_free(t);
    free(only);
    free(ins);
    free(in_topics);
    return rc;
}
