/* diag.c — collects diagnostics and prints them with source lines and carets, or as JSON. */
#include "base/diag.h"

#include "base/arena.h"

#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define C_RESET "\033[0m"
#define C_ERROR "\033[1;31m"
#define C_WARN  "\033[1;35m"
#define C_NOTE  "\033[1;36m"
#define C_CARET "\033[1;32m"

void sr_diag_init(sr_diag *dg)
{
    memset(dg, 0, sizeof(*dg));
}

void sr_diag_free(sr_diag *dg)
{
    for (int i = 0; i < dg->n; i++) {
        free(dg->v[i].msg);
        free(dg->v[i].help);
        for (int j = 0; j < dg->v[i].nspans; j++) free(dg->v[i].spans[j].msg);
        free(dg->v[i].spans);
    }
    free(dg->v);
    for (int i = 0; i < dg->nfiles; i++) {
        free(dg->files[i]->path);
        free(dg->files[i]->text);
        free(dg->files[i]->lines);
        free(dg->files[i]);
    }
    free(dg->byline);
    free(dg->next);
    free(dg->files);
    free(dg->hidden);
    memset(dg, 0, sizeof(*dg));
}

const sr_srcfile *sr_diag_add_file(sr_diag *dg, const char *path, char *text, size_t len)
{
    sr_srcfile *f = sr_xmalloc(sizeof(*f));
    f->path = sr_xstrdup(path);
    f->text = text;
    f->len = len;
    /* where each line starts, so that quoting a line costs nothing however many errors */
    int n = 1;
    for (size_t i = 0; i < len; i++) n += text[i] == '\n';
    f->lines = sr_xmalloc((size_t)n * sizeof(*f->lines));
    f->lines[0] = 0;
    f->nlines = 1;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n') f->lines[f->nlines++] = i + 1;
    dg->files = sr_xrealloc(dg->files, (size_t)(dg->nfiles + 1) * sizeof(*dg->files));
    dg->files[dg->nfiles++] = f;
    return f;
}

/* A malloc'd string of fmt with ap. */
static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) n = 0;
    char *msg = sr_xmalloc((size_t)n + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    return msg;
}

void sr_diag_vaddc(sr_diag *dg, sr_severity sev, sr_code code, const sr_srcfile *f, sr_mark m,
                   const char *fmt, va_list ap)
{
    assert(code >= 0 && code < SR_CODE_COUNT);
    char *msg = vformat(fmt, ap);
    if (dg->n == dg->cap) {
        dg->cap = dg->cap ? dg->cap * 2 : 16;
        dg->v = sr_xrealloc(dg->v, (size_t)dg->cap * sizeof(*dg->v));
    }
    dg->v[dg->n++] = (sr_diag_entry){.sev = sev, .code = code, .file = f, .mark = m, .msg = msg};
    if (sev == SR_ERROR) dg->nerrors++;
    if (sev == SR_WARNING) dg->nwarnings++;
}

void sr_diag_addc(sr_diag *dg, sr_severity sev, sr_code code, const sr_srcfile *f, sr_mark m,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sr_diag_vaddc(dg, sev, code, f, m, fmt, ap);
    va_end(ap);
}

void sr_diag_help(sr_diag *dg, const char *fmt, ...)
{
    if (dg->n == 0) return;
    sr_diag_entry *e = &dg->v[dg->n - 1];
    va_list ap;
    va_start(ap, fmt);
    free(e->help);
    e->help = vformat(fmt, ap);
    va_end(ap);
}

void sr_diag_related(sr_diag *dg, const sr_srcfile *f, sr_mark m, const char *fmt, ...)
{
    if (dg->n == 0) return;
    sr_diag_entry *e = &dg->v[dg->n - 1];
    va_list ap;
    va_start(ap, fmt);
    e->spans = sr_xrealloc(e->spans, (size_t)(e->nspans + 1) * sizeof(*e->spans));
    e->spans[e->nspans++] = (sr_diag_span){.file = f, .mark = m, .msg = vformat(fmt, ap)};
    va_end(ap);
}

void sr_diag_help_rewrite(sr_diag *dg, const sr_srcfile *f, sr_mark m, const char *old,
                          const char *repl, const char *intro)
{
    const char *src;
    size_t n;
    if (dg->n == 0 || m.col < 1 || !sr_srcfile_line(f, m.line, &src, &n)) return;
    for (int i = 0; i < dg->nhidden; i++) /* a line with a secret is not shown again */
        if (dg->hidden[i].file == f && dg->hidden[i].mark.line == m.line) return;
    size_t col0 = (size_t)m.col - 1, len = m.len > 0 ? (size_t)m.len : 0;
    if (col0 > n) return;
    if (len > n - col0) len = n - col0;
    /* the place must hold old, maybe quoted: else it is not the text to rewrite */
    size_t ol = old ? strlen(old) : 0;
    const char *at = src + col0;
    bool quoted = len == ol + 2 && (at[0] == '"' || at[0] == '\'') && at[len - 1] == at[0];
    if (!old || !(len == ol || quoted) || memcmp(at + quoted, old, ol) != 0) return;
    if (quoted) col0++, len -= 2;
    sr_diag_help(dg, "%s:\n%.*s%s%.*s", intro, (int)col0, src, repl, (int)(n - col0 - len),
                 src + col0 + len);
}

/* ---- sorting ------------------------------------------------------------------ */

typedef struct sort_item {
    sr_diag_entry e;
    int file_order; /* -1: no file; registration order otherwise */
    int seq;        /* position when added: keeps the sort stable */
} sort_item;

static int file_order(const sr_diag *dg, const sr_srcfile *f)
{
    if (!f) return -1;
    for (int i = 0; i < dg->nfiles; i++)
        if (dg->files[i] == f) return i;
    return dg->nfiles; /* a file some other list owns: after ours */
}

static int cmp_int(int a, int b)
{
    return (a > b) - (a < b);
}

static int cmp_items(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    int c = cmp_int(a->file_order, b->file_order);
    if (!c) c = cmp_int(a->e.mark.line, b->e.mark.line);
    if (!c) c = cmp_int(a->e.mark.col, b->e.mark.col);
    if (!c) c = cmp_int(a->seq, b->seq);
    return c;
}

static void sort_entries(sr_diag *dg)
{
    if (dg->n < 2) return;
    sort_item *items = sr_xmalloc((size_t)dg->n * sizeof(*items));
    for (int i = 0; i < dg->n; i++)
        items[i] = (sort_item){dg->v[i], file_order(dg, dg->v[i].file), i};
    qsort(items, (size_t)dg->n, sizeof(*items), cmp_items);
    for (int i = 0; i < dg->n; i++) dg->v[i] = items[i].e;
    free(items);
    dg->nindexed = 0; /* entries moved: the index by line is rebuilt when next asked */
}

/* ---- errors by line --------------------------------------------------------------
 * An open-addressing table of (file, line) -> the last error entry there; entries of one line
 * are chained through next[]. */

struct sr_diag_line {
    const sr_srcfile *file; /* NULL: an empty slot */
    int line;
    int head;
};

static size_t line_slot(const sr_diag *dg, const sr_srcfile *f, int line)
{
    size_t h = ((size_t)(uintptr_t)f >> 4) * 31u + (size_t)line * 2654435761u;
    size_t mask = (size_t)dg->capbyline - 1, i = h & mask;
    while (dg->byline[i].file && (dg->byline[i].file != f || dg->byline[i].line != line))
        i = (i + 1) & mask;
    return i;
}

/* Indexes the error entries added since the last call (all of them after a sort). */
static void index_lines(sr_diag *dg)
{
    if (dg->nindexed == 0 && dg->capbyline)
        memset(dg->byline, 0, (size_t)dg->capbyline * sizeof(*dg->byline));
    if (dg->nindexed == dg->n) return;
    if (dg->capnext < dg->cap) {
        dg->next = sr_xrealloc(dg->next, (size_t)dg->cap * sizeof(int));
        dg->capnext = dg->cap;
    }
    if ((size_t)dg->n * 2 > (size_t)dg->capbyline) { /* grow: at most half full */
        int cap = dg->capbyline ? dg->capbyline : 64;
        while ((size_t)dg->n * 2 > (size_t)cap) cap *= 2;
        free(dg->byline);
        dg->byline = sr_xcalloc((size_t)cap, sizeof(*dg->byline));
        dg->capbyline = cap;
        dg->nindexed = 0;
    }
    for (int i = dg->nindexed; i < dg->n; i++) {
        const sr_diag_entry *e = &dg->v[i];
        dg->next[i] = -1;
        if (e->sev != SR_ERROR || !e->file) continue;
        size_t s = line_slot(dg, e->file, e->mark.line);
        if (!dg->byline[s].file) dg->byline[s] = (struct sr_diag_line){e->file, e->mark.line, -1};
        dg->next[i] = dg->byline[s].head;
        dg->byline[s].head = i;
    }
    dg->nindexed = dg->n;
}

bool sr_diag_error_within(sr_diag *dg, const sr_srcfile *f, sr_mark m)
{
    index_lines(dg);
    if (!dg->capbyline) return false;
    size_t s = line_slot(dg, f, m.line);
    int end = m.col + (m.len > 0 ? m.len : 1);
    for (int i = dg->byline[s].file ? dg->byline[s].head : -1; i >= 0; i = dg->next[i])
        if (dg->v[i].mark.col >= m.col && dg->v[i].mark.col < end) return true;
    return false;
}

/* ---- text output -------------------------------------------------------------- */

static const char *sev_word(sr_severity sev)
{
    switch (sev) {
    case SR_ERROR: return "error";
    case SR_WARNING: return "warning";
    case SR_NOTE: return "note";
    }
    return "error";
}

static const char *sev_color(sr_severity sev)
{
    switch (sev) {
    case SR_ERROR: return C_ERROR;
    case SR_WARNING: return C_WARN;
    case SR_NOTE: return C_NOTE;
    }
    return C_ERROR;
}

/* Finds 1-based line number `line` in f; false when the file has no such line. */
bool sr_srcfile_line(const sr_srcfile *f, int line, const char **start, size_t *len)
{
    if (!f || !f->text || line < 1) return false;
    const char *p = f->text, *end = f->text + f->len;
    if (f->lines) {
        if (line > f->nlines) return false;
        p += f->lines[line - 1];
    } else {
        for (int l = 1; l < line; l++) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) return false;
            p = nl + 1;
        }
    }
    if (p == end) return false; /* past the final newline, or an empty text */
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    if (e > p && e[-1] == '\r') e--;
    *start = p;
    *len = (size_t)(e - p);
    return true;
}

void sr_diag_hide(sr_diag *dg, const sr_srcfile *f, sr_mark m)
{
    assert(f && m.line >= 1);
    dg->hidden = sr_xrealloc(dg->hidden, (size_t)(dg->nhidden + 1) * sizeof(*dg->hidden));
    dg->hidden[dg->nhidden++] = (sr_diag_hidden){f, m};
}

/* true when byte col (1-based) of line of f is hidden */
static bool is_hidden(const sr_diag *dg, const sr_srcfile *f, int line, size_t col)
{
    for (int i = 0; i < dg->nhidden; i++) {
        const sr_diag_hidden *h = &dg->hidden[i];
        size_t len = h->mark.len > 0 ? (size_t)h->mark.len : 1;
        if (h->file == f && h->mark.line == line && col >= (size_t)h->mark.col &&
            col < (size_t)h->mark.col + len)
            return true;
    }
    return false;
}

/* The quoted line of a place and its caret line. */
static void print_source(FILE *out, const sr_diag *dg, const sr_srcfile *f, sr_mark m, bool color)
{
    const char *src;
    size_t n;
    if (!sr_srcfile_line(f, m.line, &src, &n)) return;
    fprintf(out, "%5d | ", m.line);
    for (size_t i = 0; i < n; i++) fputc(is_hidden(dg, f, m.line, i + 1) ? '*' : src[i], out);
    fputc('\n', out);
    if (m.col < 1) return;

    fputs("      | ", out);
    size_t col0 = (size_t)m.col - 1;
    for (size_t i = 0; i < col0; i++) fputc(i < n && src[i] == '\t' ? '\t' : ' ', out);
    size_t len = m.len > 0 ? (size_t)m.len : 0;
    size_t room = col0 < n ? n - col0 : 0;
    if (len > room) len = room;
    if (color) fputs(C_CARET, out);
    fputc('^', out);
    for (size_t i = 1; i < len; i++) fputc('~', out);
    if (color) fputs(C_RESET, out);
    fputc('\n', out);
}

/* "file:line:col: " as much of it as is known, or "streamrun: " */
static void print_place(FILE *out, const sr_srcfile *f, sr_mark m)
{
    if (!f)
        fputs("streamrun: ", out);
    else if (m.line < 1)
        fprintf(out, "%s: ", f->path);
    else if (m.col < 1)
        fprintf(out, "%s:%d: ", f->path, m.line);
    else
        fprintf(out, "%s:%d:%d: ", f->path, m.line, m.col);
}

static void print_entry(FILE *out, const sr_diag *dg, const sr_diag_entry *e, bool color)
{
    print_place(out, e->file, e->mark);
    const char *code = sr_code_id(e->code);
    if (color) fputs(sev_color(e->sev), out);
    fputs(sev_word(e->sev), out);
    if (code) fprintf(out, "[%s]", code);
    fputc(':', out);
    if (color) fputs(C_RESET, out);
    fprintf(out, " %s\n", e->msg);
    if (e->file && e->mark.line >= 1) print_source(out, dg, e->file, e->mark, color);
    for (int i = 0; i < e->nspans; i++) {
        const sr_diag_span *sp = &e->spans[i];
        print_place(out, sp->file, sp->mark);
        if (color)
            fprintf(out, "%s%s:%s %s\n", C_NOTE, "note", C_RESET, sp->msg);
        else
            fprintf(out, "note: %s\n", sp->msg);
        if (sp->file && sp->mark.line >= 1) print_source(out, dg, sp->file, sp->mark, color);
    }
    if (e->help) {
        fputs("      = help: ", out);
        for (const char *p = e->help; *p; p++) {
            fputc(*p, out);
            if (*p == '\n' && p[1]) fputs("              ", out);
        }
        fputc('\n', out);
    }
}

/* ---- JSON output -------------------------------------------------------------- */

/* A JSON string for s; bytes that are not valid UTF-8 become '?'. */
static json_t *json_str(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *t = sr_xstrdup(s);
    for (char *p = t; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    j = json_string(t);
    free(t);
    return j;
}

static void print_json(FILE *out, const sr_diag *dg)
{
    json_t *arr = json_array();
    for (int i = 0; i < dg->n; i++) {
        const sr_diag_entry *e = &dg->v[i];
        json_t *file = e->file ? json_str(e->file->path) : json_null();
        const char *code = sr_code_id(e->code);
        json_t *o =
            json_pack("{s:o,s:i,s:i,s:i,s:s,s:o,s:o}", "file", file, "line", e->mark.line, "column",
                      e->mark.col, "length", e->mark.len, "severity", sev_word(e->sev), "code",
                      code ? json_string(code) : json_null(), "message", json_str(e->msg));
        if (!o) continue;
        if (e->help) json_object_set_new(o, "help", json_str(e->help));
        if (e->nspans) {
            json_t *rel = json_array();
            for (int j = 0; j < e->nspans; j++) {
                const sr_diag_span *sp = &e->spans[j];
                json_array_append_new(
                    rel, json_pack("{s:o,s:i,s:i,s:i,s:o}", "file",
                                   sp->file ? json_str(sp->file->path) : json_null(), "line",
                                   sp->mark.line, "column", sp->mark.col, "length", sp->mark.len,
                                   "message", json_str(sp->msg)));
            }
            json_object_set_new(o, "related", rel);
        }
        json_array_append_new(arr, o);
    }
    char *s = json_dumps(arr, JSON_COMPACT);
    if (s) {
        fputs(s, out);
        free(s);
    } else {
        fputs("[]", out);
    }
    fputc('\n', out);
    json_decref(arr);
}

void sr_diag_print(sr_diag *dg, FILE *out, bool json, bool color)
{
    sort_entries(dg);
    if (json) {
        print_json(out, dg);
        return;
    }
    /* composed in memory and written 64 KiB at a time: stderr is unbuffered, and a quoted line
     * is put character by character */
    for (int i = 0; i < dg->n;) {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        int from = i;
        for (; mem && i < dg->n && ftell(mem) < 65536; i++) print_entry(mem, dg, &dg->v[i], color);
        if (mem && fclose(mem) == 0) {
            fwrite(text, 1, len, out);
        } else { /* out of memory: straight to out */
            for (i = from; i < dg->n; i++) print_entry(out, dg, &dg->v[i], color);
        }
        free(text);
    }
}

/* ---- suggestions -------------------------------------------------------------- */

static int tolower_ascii(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Optimal string alignment distance, ignoring ASCII case. */
static size_t osa_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    size_t w = m + 1;
    size_t *d = sr_xmalloc((n + 1) * w * sizeof(*d));
    for (size_t i = 0; i <= n; i++) d[i * w] = i;
    for (size_t j = 0; j <= m; j++) d[j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower_ascii(a[i - 1]), cb = tolower_ascii(b[j - 1]);
            size_t cost = ca != cb;
            size_t best = d[(i - 1) * w + j] + 1;
            if (d[i * w + j - 1] + 1 < best) best = d[i * w + j - 1] + 1;
            if (d[(i - 1) * w + j - 1] + cost < best) best = d[(i - 1) * w + j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower_ascii(b[j - 2]) && tolower_ascii(a[i - 2]) == cb &&
                d[(i - 2) * w + j - 2] + 1 < best)
                best = d[(i - 2) * w + j - 2] + 1;
            d[i * w + j] = best;
        }
    }
    size_t r = d[n * w + m];
    free(d);
    return r;
}

const char *sr_suggest(const char *s, const char *const *cands, int n)
{
    if (!s) return NULL;
    size_t limit = strlen(s) / 3;
    if (limit < 1) limit = 1;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        if (!cands[i] || strcmp(cands[i], s) == 0) continue;
        size_t la = strlen(s), lb = strlen(cands[i]);
        if ((la > lb ? la - lb : lb - la) >= best_d) continue; /* cannot be closer */
        size_t d = osa_distance(s, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    return best;
}

int sr_suggest_all(const char *s, const char *const *cands, int n, const char **out, int max)
{
    if (!s || max <= 0) return 0;
    size_t limit = strlen(s) / 3;
    if (limit < 1) limit = 1;
    size_t *dist = sr_xmalloc((size_t)max * sizeof(*dist));
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (!cands[i] || strcmp(cands[i], s) == 0) continue;
        size_t la = strlen(s), lb = strlen(cands[i]);
        bool prefix = la >= 3 && lb > la && strncasecmp(cands[i], s, la) == 0;
        if (!prefix && (la > lb ? la - lb : lb - la) > limit) continue;
        size_t d = osa_distance(s, cands[i]);
        if (d > limit && !prefix) continue;
        int at = k; /* insertion into the sorted list, keeping the first max */
        while (at > 0 && dist[at - 1] > d) at--;
        if (at >= max) continue;
        if (k < max) k++;
        for (int j = k - 1; j > at; j--) {
            out[j] = out[j - 1];
            dist[j] = dist[j - 1];
        }
        out[at] = cands[i];
        dist[at] = d;
    }
    free(dist);
    return k;
}
