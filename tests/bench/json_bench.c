/* json_bench.c — microbenchmark: µs per message for sr_json_parse/write vs jansson and yajl.
 *
 * Build: gcc -O2 -std=c11 -D_GNU_SOURCE -Irunner tests/bench/json_bench.c runner/json.c \
 *            runner/value.c runner/arena.c -ljansson -lyajl -lm -o /tmp/json_bench
 * Run:   /tmp/json_bench [file.jsonl] [messages]
 */
#include "base/value.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

typedef struct {
    char **line;
    size_t *len;
    size_t n;
    size_t bytes;
} corpus;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int load(const char *path, corpus *c)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *buf = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t n;
    memset(c, 0, sizeof(*c));
    while ((n = getline(&buf, &cap, f)) > 0) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) n--;
        if (n == 0) continue;
        if (c->n == alloc) {
            alloc = alloc ? alloc * 2 : 256;
            c->line = sr_xrealloc(c->line, alloc * sizeof(*c->line));
            c->len = sr_xrealloc(c->len, alloc * sizeof(*c->len));
        }
        /* Exact-size copies so an overread would show up under ASan. */
        c->line[c->n] = sr_xstrndup(buf, (size_t)n);
        c->len[c->n] = (size_t)n;
        c->bytes += (size_t)n;
        c->n++;
    }
    free(buf);
    fclose(f);
    return c->n ? 0 : -1;
}

static volatile size_t sink;

static void bench_parse(const corpus *c, size_t iters)
{
    sr_arena a;
    sr_arena_init(&a, 0);
    for (size_t i = 0; i < iters; i++) {
        size_t k = i % c->n;
        sr_value v;
        sr_arena_reset(&a);
        if (sr_json_parse(&a, c->line[k], c->len[k], &v, NULL, 0, NULL)) abort();
        sink += v.len;
    }
    sr_arena_free(&a);
}

static void bench_parse_write(const corpus *c, size_t iters)
{
    sr_arena a;
    sr_arena_init(&a, 0);
    sr_buf b = {0};
    for (size_t i = 0; i < iters; i++) {
        size_t k = i % c->n;
        sr_value v;
        sr_arena_reset(&a);
        if (sr_json_parse(&a, c->line[k], c->len[k], &v, NULL, 0, NULL)) abort();
        b.len = 0;
        if (sr_json_write(&b, &v)) abort();
        sink += b.len;
    }
    sr_buf_free(&b);
    sr_arena_free(&a);
}

static void bench_jansson(const corpus *c, size_t iters)
{
    for (size_t i = 0; i < iters; i++) {
        size_t k = i % c->n;
        json_error_t err;
        json_t *j = json_loadb(c->line[k], c->len[k], 0, &err);
        if (!j) abort();
        sink += json_object_size(j);
        json_decref(j);
    }
}

static void bench_jansson_dump(const corpus *c, size_t iters)
{
    for (size_t i = 0; i < iters; i++) {
        size_t k = i % c->n;
        json_error_t err;
        json_t *j = json_loadb(c->line[k], c->len[k], 0, &err);
        if (!j) abort();
        char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        sink += strlen(s);
        free(s);
        json_decref(j);
    }
}

static void bench_yajl_tree(const corpus *c, size_t iters)
{
    /* yajl_tree_parse needs a NUL-terminated string: the corpus lines are. */
    for (size_t i = 0; i < iters; i++) {
        size_t k = i % c->n;
        char err[128];
        yajl_val v = yajl_tree_parse(c->line[k], err, sizeof(err));
        if (!v) abort();
        sink += v->type;
        yajl_tree_free(v);
    }
}

static int y_null(void *ctx)
{
    return 1;
}
static int y_bool(void *ctx, int b)
{
    return 1;
}
static int y_num(void *ctx, const char *s, size_t n)
{
    return 1;
}
static int y_str(void *ctx, const unsigned char *s, size_t n)
{
    return 1;
}
static int y_start(void *ctx)
{
    return 1;
}

static const yajl_callbacks ycb = {y_null,  y_bool, NULL,    NULL,    y_num,  y_str,
                                   y_start, y_str,  y_start, y_start, y_start};

static void bench_yajl_sax(const corpus *c, size_t iters)
{
    yajl_handle h = yajl_alloc(&ycb, NULL, NULL);
    for (size_t i = 0; i < iters; i++) {
        size_t k = i % c->n;
        if (yajl_parse(h, (const unsigned char *)c->line[k], c->len[k]) != yajl_status_ok ||
            yajl_complete_parse(h) != yajl_status_ok)
            abort();
        yajl_free(h);
        h = yajl_alloc(&ycb, NULL, NULL);
    }
    yajl_free(h);
}

typedef struct {
    const char *name;
    void (*fn)(const corpus *, size_t);
} bench;

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/work/shared/data/demo_stream.json";
    size_t iters = argc > 2 ? strtoul(argv[2], NULL, 10) : 200000;
    corpus c;
    if (load(path, &c)) {
        fprintf(stderr, "json_bench: cannot read %s\n", path);
        return 1;
    }
    const bench benches[] = {
        {"sr_json_parse", bench_parse},
        {"sr_json_parse + sr_json_write", bench_parse_write},
        {"jansson json_loadb + decref", bench_jansson},
        {"jansson loadb + dumps + decref", bench_jansson_dump},
        {"yajl_tree_parse + free", bench_yajl_tree},
        {"yajl SAX, no-op callbacks", bench_yajl_sax},
    };
    printf("%s: %zu messages, %.0f bytes avg, %zu iterations each\n\n", path, c.n,
           (double)c.bytes / (double)c.n, iters);
    printf("%-32s %10s %10s\n", "benchmark", "us/msg", "MB/s");
    for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
        benches[i].fn(&c, iters / 10 + 1); /* warm up */
        double best = 1e30;
        for (int rep = 0; rep < 3; rep++) {
            double t = now();
            benches[i].fn(&c, iters);
            t = now() - t;
            if (t < best) best = t;
        }
        double us = best * 1e6 / (double)iters;
        double mbs = (double)c.bytes / (double)c.n / us;
        printf("%-32s %10.3f %10.0f\n", benches[i].name, us, mbs);
    }
    for (size_t i = 0; i < c.n; i++) free(c.line[i]);
    free(c.line);
    free(c.len);
    return 0;
}
