/* cmd_test.c — `streamrun test`: runs a file's test cases in-process and compares outputs. */
#include "cmd/cli.h"
#include "exec/local.h"
#include "state/store.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- YAML values to record values ---------------------------------------------------- */

/* Converts a YAML node to a value in a: quoted scalars are strings, plain
 * scalars follow YAML's null/bool/number rules (numbers keep their text, so
 * large integers stay exact). */
static sr_value yaml_value(sr_arena *a, const sr_ynode *n)
{
    switch (n->kind) {
    case SR_Y_MAP: {
        sr_value o = sr_obj_new(a, (uint32_t)(n->nkids / 2));
        for (int i = 0; i + 1 < n->nkids; i += 2)
            sr_obj_set(a, &o, n->kids[i]->text ? n->kids[i]->text : "",
                       n->kids[i]->text ? n->kids[i]->len : 0, yaml_value(a, n->kids[i + 1]));
        return o;
    }
    case SR_Y_SEQ: {
        sr_value arr = sr_arr_new(a, (uint32_t)n->nkids);
        for (int i = 0; i < n->nkids; i++) sr_arr_push(a, &arr, yaml_value(a, n->kids[i]));
        return arr;
    }
    case SR_Y_SCALAR: break;
    }
    if (!n->quoted) {
        bool b;
        if (sr_yis_null(n)) return sr_null();
        if (sr_yscalar_bool(n, &b)) return sr_bool(b);
        sr_value num;
        char err[32];
        size_t pos;
        if (sr_json_parse(a, n->text, n->len, &num, err, sizeof(err), &pos) == 0 &&
            num.type == SR_NUM)
            return num;
    }
    return sr_str(n->text, n->len);
}

/* ---- collected outputs ------------------------------------------------------------------ */

typedef struct got_rec {
    char *key; /* NULL: no key */
    char *val;
    size_t vlen;
    bool tombstone; /* no value (a Kafka tombstone); val is "" */
    int64_t ts;
    char *env;      /* envelope JSON, for messages */
    sr_header *hdr; /* names and values malloc'd, with their lengths (they may hold NUL) */
    uint32_t nhdr;
} got_rec;

typedef struct got_topic {
    const sr_topic *topic;
    got_rec *recs;
    int n, cap;
} got_topic;

/* What write steps would have written to one file: its lines, in order. */
typedef struct got_file {
    char *path;
    char **lines;
    size_t *lens;
    int n, cap;
} got_file;

typedef struct test_ctx {
    got_topic *topics;
    int ntopics;
    int *slot; /* per topic (by index): 1 + its place in topics[], or 0 */
    got_file *files;
    int nfiles;
    sr_file_sink file_sink; /* write steps write here, never to the file system */
    sr_arena scratch;
} test_ctx;

static void test_file_line(void *ud, const char *path, const char *text, size_t len)
{
    test_ctx *c = ud;
    got_file *f = NULL;
    for (int i = 0; i < c->nfiles && !f; i++)
        if (strcmp(c->files[i].path, path) == 0) f = &c->files[i];
    if (!f) {
        c->files = sr_xrealloc(c->files, sizeof(got_file) * (size_t)(c->nfiles + 1));
        f = &c->files[c->nfiles++];
        memset(f, 0, sizeof(*f));
        f->path = sr_xstrdup(path);
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->lines = sr_xrealloc(f->lines, sizeof(char *) * (size_t)f->cap);
        f->lens = sr_xrealloc(f->lens, sizeof(size_t) * (size_t)f->cap);
    }
    f->lines[f->n] = sr_xstrndup(text, len);
    f->lens[f->n++] = len;
}

/* A malloc'd copy of n bytes that may hold NUL, NUL-terminated for messages. */
static char *dup_bytes(const char *p, size_t n)
{
    char *d = sr_xmalloc(n + 1);
    memcpy(d, p, n);
    d[n] = 0;
    return d;
}

static void test_sink(void *ud, const sr_topic *topic, int32_t partition, bool input,
                      const char *base, const sr_out *o)
{
    test_ctx *c = ud;
    if (input) return;
    got_topic *g = c->slot[topic->index] ? &c->topics[c->slot[topic->index] - 1] : NULL;
    if (!g) {
        c->topics = sr_xrealloc(c->topics, sizeof(got_topic) * (size_t)(c->ntopics + 1));
        g = &c->topics[c->ntopics++];
        memset(g, 0, sizeof(*g));
        g->topic = topic;
        c->slot[topic->index] = c->ntopics;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 8;
        g->recs = sr_xrealloc(g->recs, sizeof(got_rec) * (size_t)g->cap);
    }
    got_rec *r = &g->recs[g->n++];
    memset(r, 0, sizeof(*r));
    r->key = o->key_len < 0 ? NULL : sr_xstrndup(base + o->key_off, (size_t)o->key_len);
    r->val = sr_xstrndup(base + o->val_off, o->val_len);
    r->vlen = o->val_len;
    r->tombstone = o->val_null;
    r->ts = o->ts;
    const char *h = base + o->hdr_off;
    r->hdr = sr_xcalloc(o->nhdr + 1, sizeof(sr_header));
    for (uint32_t i = 0; i < o->nhdr; i++) {
        sr_header x;
        h = sr_header_next(h, &x);
        r->hdr[i] = (sr_header){dup_bytes(x.name, x.nlen), x.nlen,
                                x.val ? dup_bytes(x.val, x.vlen) : NULL, x.vlen};
    }
    r->nhdr = o->nhdr;
    sr_buf b = {0};
    sr_write_envelope(&b, &c->scratch, base, o);
    r->env = sr_xstrndup(b.d, b.len);
    sr_buf_free(&b);
    sr_arena_reset(&c->scratch);
}

static void free_got(test_ctx *c)
{
    for (int i = 0; i < c->ntopics; i++) {
        for (int k = 0; k < c->topics[i].n; k++) {
            got_rec *r = &c->topics[i].recs[k];
            free(r->key);
            free(r->val);
            free(r->env);
            for (uint32_t h = 0; h < r->nhdr; h++) {
                free((char *)r->hdr[h].name);
                free((char *)r->hdr[h].val);
            }
            free(r->hdr);
        }
        free(c->topics[i].recs);
    }
    free(c->topics);
    c->topics = NULL;
    c->ntopics = 0;
    for (int i = 0; i < c->nfiles; i++) {
        for (int k = 0; k < c->files[i].n; k++) free(c->files[i].lines[k]);
        free(c->files[i].lines);
        free(c->files[i].lens);
        free(c->files[i].path);
    }
    free(c->files);
    c->files = NULL;
    c->nfiles = 0;
}

/* ---- one test case -------------------------------------------------------------------------- */

/* How expected values (value:, files: lines) are compared: `compare:` and `tolerance:` of the
 * test file (NAME.tests.yaml), overridden by a case's own. */
typedef struct cmp_opts {
    bool subset;    /* compare: subset: an object matches when it has the members given */
    double abs_tol; /* tolerance: two numbers match when they differ by at most abs_tol */
    double rel_tol; /* ... or by at most rel_tol times the expected number's magnitude */
} cmp_opts;

typedef struct test_run {
    const sr_topology *topo;
    const sr_srcfile *file; /* where the test cases are */
    sr_diag *dg;
    sr_buf report; /* failure details */
    int failures;
    bool check_only;         /* validate the cases' structure without running them */
    cmp_opts file_cmp;       /* the test file's compare: and tolerance: (defaults in a topology) */
    cmp_opts cmp;            /* the current case's: file_cmp overridden by the case's own */
    const char *beside_text; /* NAME.tests.yaml's text when given (an editor's buffer), or NULL:
                                read from disk when the file exists */
    size_t beside_len;
} test_run;

static void fail(test_run *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(test_run *tr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sr_buf_printf(&tr->report, "    %s\n", msg);
    tr->failures++;
}

/* --state-memory: the state budget of each case that does not set stateMemory. */
static size_t default_state_memory = SIZE_MAX;

/* ---- what an expected value means -------------------------------------------------------------
 * `compare: exact` (the default): a value matches when it is equal as JSON (1 equals 1.0, member
 * order does not matter). `compare: subset`: an object matches when it has the members the
 * expectation gives, each matching in the same way (so nested objects are compared as subsets
 * too); arrays still need every element, in order. `tolerance: T` or `tolerance: {absolute: A,
 * relative: R}`: two numbers anywhere in the value match when |expected - got| <= A or
 * <= R * |expected|, compared as doubles (integers too); with no tolerance numbers are compared
 * exactly, integers beyond 2^53 included. */

const char *const sr_test_compare_modes[] = {"exact", "subset", NULL};
static const char *const *const cmp_keys = sr_test_compare_modes;

const char *const sr_test_case_keys[] = {"name",        "deployments", "deployment", "clock",
                                         "stateMemory", "input",       "expect",     "files",
                                         "description", "compare",     "tolerance",  NULL};
const char *const sr_test_file_keys[] = {"tests", "compare", "tolerance", NULL};

/* A tolerance number: finite and not negative (reported and false otherwise). */
static bool tolerance_number(test_run *tr, const sr_ynode *n, const char *what, double *out)
{
    char *end = NULL;
    char got[64];
    if (sr_yis_scalar(n) && !sr_yis_null(n) && n->len) *out = strtod(n->text, &end);
    if (!end || *end || !isfinite(*out) || *out < 0) {
        sr_errc(tr->dg, SR_E_OUT_OF_RANGE, tr->file, n->mark,
                "%s must be a number at or above 0, such as 1e-9 or 0.001, not %s", what,
                sr_ydesc(n, got, sizeof(got)));
        return false;
    }
    return true;
}

/* Reads compare: and tolerance: from map m (a test case, or a test file's top level) over *o,
 * which keeps what m does not set. Malformed values are reported. */
static void read_cmp_opts(test_run *tr, const sr_ynode *m, cmp_opts *o)
{
    const sr_ynode *c = sr_ymap_get(m, "compare"), *t = sr_ymap_get(m, "tolerance");
    if (c) {
        if (sr_yis_scalar(c) && c->text && strcmp(c->text, "subset") == 0) {
            o->subset = true;
        } else if (sr_yis_scalar(c) && c->text && strcmp(c->text, "exact") == 0) {
            o->subset = false;
        } else {
            const char *sug = sr_yis_scalar(c) && c->text ? sr_suggest(c->text, cmp_keys, 2) : NULL;
            char got[64];
            sr_errc(tr->dg, SR_E_NOT_A_CHOICE, tr->file, c->mark,
                    "compare must be exact (the whole value) or subset (objects: only the "
                    "members given), not %s%s%s%s",
                    sr_ydesc(c, got, sizeof(got)), sug ? "; did you mean '" : "", sug ? sug : "",
                    sug ? "'?" : "");
            if (sug)
                sr_diag_help_rewrite(tr->dg, tr->file, c->mark, c->text, sug, "correct the value");
        }
    }
    if (!t) return;
    if (t->kind != SR_Y_MAP) {
        double abs_tol;
        if (tolerance_number(tr, t, "tolerance", &abs_tol)) *o = (cmp_opts){o->subset, abs_tol, 0};
        return;
    }
    static const char *const tol_keys[] = {"absolute", "relative", NULL};
    cmp_opts n = {o->subset, 0, 0};
    bool ok = true;
    for (int i = 0; i + 1 < t->nkids; i += 2) {
        const sr_ynode *k = t->kids[i], *v = t->kids[i + 1];
        if (sr_yis_scalar(k) && strcmp(k->text, "absolute") == 0) {
            ok &= tolerance_number(tr, v, "tolerance: absolute", &n.abs_tol);
        } else if (sr_yis_scalar(k) && strcmp(k->text, "relative") == 0) {
            ok &= tolerance_number(tr, v, "tolerance: relative", &n.rel_tol);
        } else {
            const char *sug = sr_yis_scalar(k) ? sr_suggest(k->text, tol_keys, 2) : NULL;
            sr_errc(tr->dg, SR_E_UNKNOWN_KEY, tr->file, k->mark,
                    "tolerance: unknown key '%s'%s%s%s (expected absolute or relative)",
                    k->text ? k->text : "?", sug ? "; did you mean '" : "", sug ? sug : "",
                    sug ? "'?" : "");
            if (sug)
                sr_diag_help_rewrite(tr->dg, tr->file, k->mark, k->text, sug, "correct the key");
            ok = false;
        }
    }
    if (ok && t->nkids == 0)
        sr_errc(tr->dg, SR_E_MISSING_KEY, tr->file, t->mark,
                "tolerance needs absolute:, relative: or both");
    else if (ok)
        *o = n;
}

/* The tolerance in o, for messages ("" when numbers are compared exactly). */
static const char *tolerance_text(const cmp_opts *o, char *buf, size_t size)
{
    if (o->abs_tol == 0 && o->rel_tol == 0) return "";
    if (o->rel_tol == 0)
        snprintf(buf, size, " (tolerance %g)", o->abs_tol);
    else if (o->abs_tol == 0)
        snprintf(buf, size, " (relative tolerance %g)", o->rel_tol);
    else
        snprintf(buf, size, " (tolerance %g, relative %g)", o->abs_tol, o->rel_tol);
    return buf;
}

static bool numbers_match(const cmp_opts *o, const sr_value *want, const sr_value *have)
{
    if (sr_value_equal(want, have)) return true;
    if (o->abs_tol == 0 && o->rel_tol == 0) return false;
    double w = sr_num_double(want), h = sr_num_double(have), d = fabs(w - h);
    return d <= o->abs_tol || d <= o->rel_tol * fabs(w);
}

/* Appends a member name to a path: as it is when it reads as a name, else as a JSON string in
 * brackets. */
static void path_member(sr_buf *path, const char *key, size_t klen)
{
    bool plain = klen > 0;
    for (size_t i = 0; i < klen && plain; i++) {
        unsigned char ch = (unsigned char)key[i];
        plain = ch == '_' || ch == '-' || (ch >= '0' && ch <= '9' && i > 0) ||
                (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    }
    if (plain) {
        if (path->len) sr_buf_puts(path, ".");
        sr_buf_put(path, key, klen);
    } else {
        sr_buf_puts(path, "[");
        sr_json_write_str(path, key, klen);
        sr_buf_puts(path, "]");
    }
}

/* "VALUE (a TYPE)", for messages. */
static void describe(sr_buf *b, const sr_value *v)
{
    sr_json_write(b, v);
    sr_type t = (sr_type)v->type;
    sr_buf_printf(b, " (%s %s)", t == SR_ARR || t == SR_OBJ ? "an" : "a",
                  sr_type_name(sr_is_number(v) ? SR_INT : t));
}

/* Whether have matches want under o. On a difference, path holds where (appended to what it
 * held) and what says how they differ; on a match both are as they were. */
static bool match_value(const cmp_opts *o, const sr_value *want, const sr_value *have, sr_buf *path,
                        sr_buf *what)
{
    size_t mark = path->len;
    if (sr_is_number(want) && sr_is_number(have)) {
        if (numbers_match(o, want, have)) return true;
        char tol[96];
        sr_buf_puts(what, "expected ");
        sr_json_write(what, want);
        sr_buf_puts(what, ", got ");
        sr_json_write(what, have);
        sr_buf_puts(what, tolerance_text(o, tol, sizeof(tol)));
        return false;
    }
    if (want->type != have->type || (want->type != SR_OBJ && want->type != SR_ARR)) {
        if (sr_value_equal(want, have)) return true;
        sr_buf_puts(what, "expected ");
        describe(what, want);
        sr_buf_puts(what, ", got ");
        describe(what, have);
        return false;
    }
    if (want->type == SR_ARR) {
        for (uint32_t i = 0; i < want->len && i < have->len; i++) {
            sr_buf_printf(path, "[%u]", i);
            if (!match_value(o, &want->u.a[i], &have->u.a[i], path, what)) return false;
            path->len = mark;
        }
        if (want->len == have->len) return true;
        sr_buf_printf(what, "expected %u element%s, got %u", want->len, want->len == 1 ? "" : "s",
                      have->len);
        return false;
    }
    for (uint32_t i = 0; i < want->len; i++) {
        const sr_member *m = &want->u.o[i];
        const sr_value *h = sr_obj_get(have, m->key, m->klen);
        path_member(path, m->key, m->klen);
        if (!h) {
            sr_buf_puts(what, "expected ");
            sr_json_write(what, &m->v);
            sr_buf_puts(what, ", got no such member");
            return false;
        }
        if (!match_value(o, &m->v, h, path, what)) return false;
        path->len = mark;
    }
    if (o->subset || want->len == have->len) return true;
    for (uint32_t i = 0; i < have->len; i++) {
        const sr_member *m = &have->u.o[i];
        if (sr_obj_get(want, m->key, m->klen)) continue;
        path_member(path, m->key, m->klen);
        sr_buf_puts(what, "not expected, got ");
        sr_json_write(what, &m->v);
        sr_buf_puts(what, " (compare: subset would leave out the members not given)");
        return false;
    }
    return true;
}

/* Compares an expected JSON value with the text written; on a difference, fails the case with
 * where it differs, and the values expected and got. label says which record or line. */
static void compare_json(test_run *tr, const char *label, const sr_value *want, const char *text,
                         size_t len, sr_arena *a)
{
    sr_value have;
    char err[128];
    size_t pos;
    sr_buf path = {0}, what = {0}, w = {0};
    bool parsed = sr_json_parse(a, text, len, &have, err, sizeof(err), &pos) == 0;
    if (!parsed || !match_value(&tr->cmp, want, &have, &path, &what)) {
        sr_json_write(&w, want);
        if (!parsed) sr_buf_printf(&what, "got text that is not JSON (%s at byte %zu)", err, pos);
        fail(tr, "%s differs%s%s: %s\n      expected: %s\n      got:      %.*s", label,
             path.len ? " at " : "", sr_buf_cstr(&path), sr_buf_cstr(&what), sr_buf_cstr(&w),
             (int)len, text);
    }
    sr_buf_free(&path);
    sr_buf_free(&what);
    sr_buf_free(&w);
}

/* ---- expected text: exact, or a pattern --------------------------------------------------------
 * An expected header (or reason:) is text, null, or {matches: ERE}: a POSIX extended regular
 * expression that the whole value must match. */

static const sr_ynode *pattern_of(const sr_ynode *n)
{
    return n->kind == SR_Y_MAP ? sr_ymap_get(n, "matches") : NULL;
}

/* Compiles {matches: ERE} anchored at both ends; 0, or regcomp's error. */
static int pattern_compile(regex_t *re, const sr_ynode *pat)
{
    size_t n = pat->len + 8;
    char *anchored = sr_xmalloc(n);
    snprintf(anchored, n, "^(%s)$", pat->text);
    int rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
    free(anchored);
    return rc;
}

/* Checks an expected text (what names it in messages): a scalar, or, in an expected record,
 * {matches: ERE} with a pattern that compiles. Reported and false otherwise. */
static bool check_expected_text(test_run *tr, const sr_ynode *n, const char *what, bool expected)
{
    if (sr_yis_scalar(n)) return true;
    const sr_ynode *pat = pattern_of(n);
    if (!expected || !pat || n->nkids != 2 || !sr_yis_scalar(pat) || sr_yis_null(pat)) {
        static const char *const pattern_keys[] = {"matches", NULL};
        const sr_ynode *k = n->kind == SR_Y_MAP && n->nkids == 2 ? n->kids[0] : NULL;
        const char *sug =
            expected && k && !pat && sr_yis_scalar(k) ? sr_suggest(k->text, pattern_keys, 1) : NULL;
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, n->mark, "%s must be text or null%s, not a %s%s",
                what,
                expected ? ", or {matches: REGEX} (a POSIX extended regular expression the "
                           "whole text must match)"
                         : "",
                sr_ykind_name(n), sug ? "; did you mean 'matches'?" : "");
        if (sug) sr_diag_help_rewrite(tr->dg, tr->file, k->mark, k->text, sug, "correct the key");
        return false;
    }
    regex_t re;
    int rc = pattern_compile(&re, pat);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &re, msg, sizeof(msg));
        sr_errc(tr->dg, SR_E_BAD_PATTERN, tr->file, pat->mark,
                "%s: the pattern '%s' is not a valid regular "
                "expression: %s",
                what, pat->text, msg);
        return false;
    }
    regfree(&re);
    return true;
}

/* Whether the text got (NULL: none, or a null header; len bytes) is what want expects. */
static bool text_matches(const sr_ynode *want, const char *got, size_t len)
{
    const sr_ynode *pat = pattern_of(want);
    if (!pat) {
        if (sr_yis_null(want)) return got == NULL;
        return got && len == want->len && memcmp(got, want->text, len) == 0;
    }
    regex_t re;
    if (!got || memchr(got, 0, len) || pattern_compile(&re, pat) != 0) return false;
    bool ok = regexec(&re, got, 0, NULL, 0) == 0; /* got is NUL-terminated (dup_bytes) */
    regfree(&re);
    return ok;
}

/* want as messages show it: /ERE/ for a pattern, a JSON string, or null. */
static void expected_text(sr_buf *b, const sr_ynode *want)
{
    const sr_ynode *pat = pattern_of(want);
    if (pat)
        sr_buf_printf(b, "a match of /%s/", pat->text);
    else if (sr_yis_null(want))
        sr_buf_puts(b, "null");
    else
        sr_json_write_str(b, want->text, want->len);
}

static const char *const record_keys[] = {"key",   "value",   "timestamp", "headers", "raw",
                                          "topic", "advance", "reason",    NULL};

/* Checks the keys and the shapes of an input record (expected: false) or of an expected record,
 * which may also give reason: and patterns. Reported and false when malformed. */
static bool check_record_keys(test_run *tr, const sr_ynode *item, bool expected)
{
    bool ok = true;
    int nkeys = expected ? 8 : 7;
    for (int i = 0; i < item->nkids; i += 2) {
        const sr_ynode *k = item->kids[i];
        bool known = false;
        for (int j = 0; j < nkeys; j++)
            known |= sr_yis_scalar(k) && strcmp(k->text, record_keys[j]) == 0;
        if (!known) {
            const char *sug = sr_yis_scalar(k) ? sr_suggest(k->text, record_keys, nkeys) : NULL;
            sr_errc(tr->dg, SR_E_UNKNOWN_KEY, tr->file, k->mark,
                    "%s record: unknown key '%s'%s%s%s (expected key, value, "
                    "timestamp, headers, raw, topic%s)",
                    expected ? "expected" : "test", k->text ? k->text : "?",
                    sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "",
                    expected ? ", advance or reason" : " or advance");
            if (sug)
                sr_diag_help_rewrite(tr->dg, tr->file, k->mark, k->text, sug, "correct the key");
            ok = false;
        }
    }
    if (!ok) return false;
    /* the parts must have the right shapes, in inputs and expectations alike */
    const sr_ynode *k = sr_ymap_get(item, "key"), *ts = sr_ymap_get(item, "timestamp");
    const sr_ynode *h = sr_ymap_get(item, "headers"), *raw = sr_ymap_get(item, "raw");
    long long v;
    if (k && !sr_yis_scalar(k)) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, k->mark,
                "a record's key must be a single value (text or a number), "
                "or null, not a %s",
                sr_ykind_name(k));
        ok = false;
    }
    if (ts && !sr_yscalar_int(ts, &v)) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, ts->mark,
                "timestamp must be a whole number of ms since the epoch");
        ok = false;
    }
    if (raw && !sr_yis_scalar(raw)) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, raw->mark,
                "raw must be text (the record's bytes)");
        ok = false;
    }
    if (h && h->kind != SR_Y_MAP) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, h->mark,
                "headers must be a mapping of names to text");
        ok = false;
    }
    for (int i = 0; h && h->kind == SR_Y_MAP && i + 1 < h->nkids; i += 2) {
        const sr_ynode *name = h->kids[i];
        if (sr_yis_scalar(name) && memchr(name->text, 0, name->len)) {
            sr_errc(tr->dg, SR_E_TEST_ITEM, tr->file, name->mark,
                    "header name '%s\\0...' holds a NUL character: Kafka clients read header "
                    "names as C strings (librdkafka's header API), so it cannot be carried",
                    name->text);
            ok = false;
        }
        char what[128];
        snprintf(what, sizeof(what), "header '%s'", h->kids[i]->text ? h->kids[i]->text : "?");
        ok &= check_expected_text(tr, h->kids[i + 1], what, expected);
    }
    const sr_ynode *reason = sr_ymap_get(item, "reason");
    if (reason && !check_expected_text(tr, reason, "reason", true)) ok = false;
    return ok;
}

/* Produces one input item; returns false on a malformed item (reported). */
static bool produce_item(test_run *tr, sr_local *l, const sr_topic *topic, const sr_ynode *item,
                         int64_t *clock, sr_arena *a)
{
    if (item->kind != SR_Y_MAP) {
        sr_errc(tr->dg, SR_E_TEST_ITEM, tr->file, item->mark,
                "a test record is a mapping {key, value, timestamp, headers} "
                "or {raw: text}");
        return false;
    }
    if (!check_record_keys(tr, item, false)) return false;
    const sr_ynode *adv = sr_ymap_get(item, "advance");
    if (adv) {
        int64_t ms;
        if (!sr_yis_scalar(adv) || !sr_parse_duration(adv->text, &ms)) {
            sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, adv->mark,
                    "advance must be a duration such as 10s or 500ms, not '%s'",
                    sr_yis_scalar(adv) ? adv->text : sr_ykind_name(adv));
            return false;
        }
        *clock += ms;
        if (l) sr_local_set_clock(l, *clock);
        return true;
    }
    const sr_ynode *k = sr_ymap_get(item, "key"), *v = sr_ymap_get(item, "value");
    const sr_ynode *ts = sr_ymap_get(item, "timestamp"), *h = sr_ymap_get(item, "headers");
    const sr_ynode *raw = sr_ymap_get(item, "raw");
    if (!v == !raw) {
        sr_errc(tr->dg, SR_E_TEST_ITEM, tr->file, item->mark,
                "a test record needs exactly one of 'value' (JSON) or 'raw' "
                "(bytes)");
        return false;
    }
    sr_buf val = {0};
    bool tombstone = v && sr_yis_null(v); /* value: null is a Kafka tombstone (no value) */
    if (v && !tombstone) {
        sr_value x = yaml_value(a, v);
        sr_json_write(&val, &x);
    } else if (raw) {
        sr_buf_put(&val, raw->text, raw->len);
    }
    sr_value key = sr_null();
    if (k && !sr_yis_null(k)) {
        sr_value x = yaml_value(a, k);
        key = sr_value_to_str(a, &x);
    }
    int64_t t = *clock;
    long long tv;
    if (ts && !sr_yscalar_int(ts, &tv)) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, ts->mark,
                "timestamp must be a whole number of ms since the epoch");
        sr_buf_free(&val);
        return false;
    }
    if (ts) t = tv;
    sr_header *hdr = NULL;
    uint32_t nh = 0;
    if (h && h->kind == SR_Y_MAP) {
        hdr = sr_arena_alloc(a, sizeof(sr_header) * (size_t)(h->nkids / 2 + 1));
        for (int i = 0; i + 1 < h->nkids; i += 2) {
            hdr[nh].name = h->kids[i]->text;
            hdr[nh].nlen = (uint32_t)h->kids[i]->len;
            hdr[nh].val = sr_yis_null(h->kids[i + 1]) ? NULL : h->kids[i + 1]->text;
            hdr[nh].vlen = hdr[nh].val ? (uint32_t)h->kids[i + 1]->len : 0;
            nh++;
        }
    }
    if (l)
        sr_local_produce(l, topic, key.type == SR_STR ? key.u.s : NULL,
                         key.type == SR_STR ? key.len : 0,
                         tombstone ? NULL
                         : val.d   ? val.d
                                   : "",
                         val.len, t, hdr, nh);
    sr_buf_free(&val);
    return true;
}

/* ---- commits and crashes ---------------------------------------------------------------------
 * A case's inputs are committed (as `up` commits: checkpoints, changelogs, offsets) after each
 * record, or, when the case has `- commit: true` items, only at those. `- crash: true` drops every
 * task as a SIGKILL would, restores them from their changelogs and feeds again the records since
 * the last commit; `- crash: {restore: false}` loses the changelogs too. */

typedef struct fed {
    const sr_topic *topic;
    const sr_ynode *item;
} fed;

typedef struct feeder {
    test_run *tr;
    sr_local *l; /* NULL: checking only */
    int64_t clock;
    sr_arena *a;
    bool explicit_commits; /* the case has commit: items: commit only there */
    fed *since;            /* the records fed since the last commit */
    int nsince, capsince;
} feeder;

/* Whether item is a control item with key (a mapping holding it). */
static const sr_ynode *control(const sr_ynode *item, const char *key)
{
    return item->kind == SR_Y_MAP ? sr_ymap_get(item, key) : NULL;
}

static void commit_now(feeder *f)
{
    f->nsince = 0;
    char err[512];
    if (f->l && sr_local_commit(f->l, err, sizeof(err)) != 0) fail(f->tr, "commit failed: %s", err);
}

static bool produce_item(test_run *tr, sr_local *l, const sr_topic *topic, const sr_ynode *item,
                         int64_t *clock, sr_arena *a);

/* A commit: or crash: item (reported and false when malformed). */
static bool control_item(feeder *f, const sr_ynode *item, const sr_ynode *commit,
                         const sr_ynode *crash)
{
    test_run *tr = f->tr;
    if (item->nkids != 2) {
        sr_errc(tr->dg, SR_E_TEST_ITEM, tr->file, item->mark,
                "a %s item stands alone: it has no other key (records come in items of their own)",
                commit ? "commit" : "crash");
        return false;
    }
    bool b = false, restore = true;
    if (commit) {
        if (!sr_yscalar_bool(commit, &b) || !b) {
            sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, commit->mark,
                    "commit must be true (a commit point: what was fed before it is committed)");
            return false;
        }
        commit_now(f);
        return true;
    }
    if (crash->kind == SR_Y_MAP) {
        const sr_ynode *r = sr_ymap_get(crash, "restore");
        if (!r || crash->nkids != 2 || !sr_yscalar_bool(r, &restore)) {
            sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, crash->mark,
                    "crash takes true, or {restore: false} (the changelogs are lost too)");
            return false;
        }
    } else if (!sr_yscalar_bool(crash, &b) || !b) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, crash->mark,
                "crash must be true, or {restore: false} (the changelogs are lost too)");
        return false;
    }
    if (!f->l) return true;
    char err[512];
    if (sr_local_crash(f->l, restore, err, sizeof(err)) != 0) {
        fail(tr, "restore after the crash at line %d failed: %s", item->mark.line, err);
        return true;
    }
    /* at least once: the records since the last commit come again */
    int n = f->nsince;
    f->nsince = 0;
    fed *again = sr_xmalloc(sizeof(fed) * (size_t)(n + 1));
    if (n) memcpy(again, f->since, sizeof(fed) * (size_t)n);
    for (int i = 0; i < n; i++) {
        produce_item(tr, f->l, again[i].topic, again[i].item, &f->clock, f->a);
        if (f->explicit_commits) {
            f->since[f->nsince++] = again[i];
        } else {
            commit_now(f);
        }
    }
    free(again);
    return true;
}

/* Feeds one input item: a record (topic known), an advance, a commit or a crash. */
static void feed_item(feeder *f, const sr_topic *topic, const sr_ynode *item)
{
    const sr_ynode *commit = control(item, "commit"), *crash = control(item, "crash");
    if (commit || crash) {
        control_item(f, item, commit, crash);
        return;
    }
    if (!produce_item(f->tr, f->l, topic, item, &f->clock, f->a) || control(item, "advance"))
        return;
    if (!f->explicit_commits) {
        commit_now(f);
        return;
    }
    if (f->nsince == f->capsince) {
        f->capsince = f->capsince ? f->capsince * 2 : 16;
        f->since = sr_xrealloc(f->since, sizeof(fed) * (size_t)f->capsince);
    }
    f->since[f->nsince++] = (fed){topic, item};
}

static sr_topic *topic_ref(test_run *tr, const sr_ynode *n)
{
    sr_topic *t = sr_yis_scalar(n) ? sr_topology_topic(tr->topo, n->text) : NULL;
    if (!t) {
        const char **cands = sr_xcalloc((size_t)tr->topo->ntopics + 1, sizeof(*cands));
        for (int i = 0; i < tr->topo->ntopics; i++) cands[i] = tr->topo->topics[i]->name;
        const char *sug = sr_yis_scalar(n) ? sr_suggest(n->text, cands, tr->topo->ntopics) : NULL;
        sr_errc(tr->dg, SR_E_UNKNOWN_TOPIC, tr->file, n->mark, "unknown topic '%s'%s%s%s",
                n->text ? n->text : "?", sug ? "; did you mean '" : "", sug ? sug : "",
                sug ? "'?" : "");
        if (sug)
            sr_diag_help_rewrite(tr->dg, tr->file, n->mark, n->text, sug, "correct the topic name");
        free(cands);
    }
    return t;
}

/* Compares one expected header (name NULL: the dead-letter reason, streamrun.error, which
 * messages call what) with the record written. */
static void compare_header(test_run *tr, const char *where, const sr_ynode *name,
                           const sr_ynode *want, const got_rec *got, const char *what)
{
    const char *hname = name ? name->text : "streamrun.error";
    size_t hlen = name ? name->len : strlen(hname);
    const sr_header *have = NULL; /* the last of that name, as header() reads it */
    for (uint32_t x = 0; x < got->nhdr; x++)
        if (got->hdr[x].nlen == hlen && memcmp(got->hdr[x].name, hname, hlen) == 0)
            have = &got->hdr[x];
    sr_buf label = {0}, w = {0}, g = {0};
    if (what)
        sr_buf_puts(&label, what);
    else
        sr_buf_printf(&label, "header '%s'", hname);
    if (!have && what && sr_yis_null(want)) {
        /* reason: null: not a dead letter */
    } else if (!have) {
        if (what) {
            expected_text(&w, want);
            fail(tr, "%s: %s: expected %s, got none (no %s header: not a dead letter)", where,
                 sr_buf_cstr(&label), sr_buf_cstr(&w), hname);
        } else {
            fail(tr, "%s: %s is missing", where, sr_buf_cstr(&label));
        }
    } else if (!text_matches(want, have->val, have->vlen)) {
        /* shown as JSON strings, so that control characters and NUL are visible */
        expected_text(&w, want);
        if (have->val)
            sr_json_write_str(&g, have->val, have->vlen);
        else
            sr_buf_puts(&g, "null");
        fail(tr, "%s: %s: expected %s, got %s", where, sr_buf_cstr(&label), sr_buf_cstr(&w),
             sr_buf_cstr(&g));
    }
    sr_buf_free(&label);
    sr_buf_free(&w);
    sr_buf_free(&g);
}

/* Compares one expected record (YAML) with what was written. */
static void compare_record(test_run *tr, const char *topic, int i, const sr_ynode *exp,
                           const got_rec *got, sr_arena *a)
{
    char where[300];
    snprintf(where, sizeof(where), "%s[%d] (line %d)", topic, i, exp->mark.line);
    const sr_ynode *k = sr_ymap_get(exp, "key"), *v = sr_ymap_get(exp, "value");
    const sr_ynode *ts = sr_ymap_get(exp, "timestamp"), *h = sr_ymap_get(exp, "headers");
    const sr_ynode *raw = sr_ymap_get(exp, "raw");
    if (k) {
        if (sr_yis_null(k) ? got->key != NULL : (!got->key || strcmp(got->key, k->text) != 0)) {
            fail(tr, "%s: key: expected %s, got %s%s%s", where, sr_yis_null(k) ? "null" : k->text,
                 got->key ? "\"" : "", got->key ? got->key : "null", got->key ? "\"" : "");
        }
    }
    if (v && sr_yis_null(v) != got->tombstone) { /* value: null is a tombstone, not JSON null */
        fail(tr, "%s: value differs\n      expected: %s\n      got:      %.*s%s", where,
             got->tombstone ? "a value" : "null (a tombstone: no value)", (int)got->vlen, got->val,
             got->tombstone ? "null (a tombstone: no value)" : "");
    } else if (v && !got->tombstone) {
        sr_value want = yaml_value(a, v);
        char label[340];
        snprintf(label, sizeof(label), "%s: value", where);
        compare_json(tr, label, &want, got->val, got->vlen, a);
    }
    if (raw && (raw->len != got->vlen || memcmp(raw->text, got->val, got->vlen) != 0))
        fail(tr, "%s: raw value differs\n      expected: %s\n      got:      %.*s", where,
             raw->text, (int)got->vlen, got->val);
    long long tv;
    if (ts && sr_yscalar_int(ts, &tv) && tv != got->ts)
        fail(tr, "%s: timestamp: expected %lld, got %lld", where, tv, (long long)got->ts);
    if (h && h->kind == SR_Y_MAP) /* expected headers must be there as given; others may be */
        for (int j = 0; j + 1 < h->nkids; j += 2)
            compare_header(tr, where, h->kids[j], h->kids[j + 1], got, NULL);
    const sr_ynode *reason = sr_ymap_get(exp, "reason");
    if (reason) compare_header(tr, where, NULL, reason, got, "reason");
}

/* Compares the lines a test case expects in files (path as the write step names it: a list of
 * JSON values, one per line) with what its write steps would have written. A file not listed
 * is not compared. */
static void compare_files(test_run *tr, const sr_ynode *files, const test_ctx *c, sr_arena *a)
{
    if (files->kind != SR_Y_MAP) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, files->mark,
                "files must map file paths (as the write steps name them) to the lines expected "
                "in them");
        return;
    }
    for (int i = 0; i + 1 < files->nkids; i += 2) {
        const sr_ynode *path = files->kids[i], *want = files->kids[i + 1];
        if (!sr_yis_scalar(path) || sr_yis_null(path)) {
            sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, path->mark, "a file path must be text");
            continue;
        }
        if (want->kind != SR_Y_SEQ && !sr_yis_null(want)) {
            sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, want->mark,
                    "expected lines of '%s' must be a list of JSON values ([] for none)",
                    path->text);
            continue;
        }
        if (tr->check_only) continue;
        const got_file *g = NULL;
        for (int k = 0; k < c->nfiles && !g; k++)
            if (strcmp(c->files[k].path, path->text) == 0) g = &c->files[k];
        int nwant = want->kind == SR_Y_SEQ ? want->nkids : 0, ngot = g ? g->n : 0;
        for (int k = 0; k < nwant && k < ngot; k++) {
            sr_value w = yaml_value(a, want->kids[k]);
            char label[300];
            snprintf(label, sizeof(label), "file %s line %d (line %d):", path->text, k + 1,
                     want->kids[k]->mark.line);
            compare_json(tr, label, &w, g->lines[k], g->lens[k], a);
        }
        if (nwant != ngot) {
            fail(tr, "file %s: expected %d line%s, got %d", path->text, nwant,
                 nwant == 1 ? "" : "s", ngot);
            for (int k = nwant; k < ngot; k++) fail(tr, "  unexpected: %s", g->lines[k]);
        }
    }
}

static bool run_case(test_run *tr, const sr_ynode *tc, const char *label, bool *malformed)
{
    sr_arena a;
    sr_arena_init(&a, 64 * 1024);
    test_ctx ctx = {.slot = sr_xcalloc((size_t)tr->topo->ntopics + 1, sizeof(int))};
    sr_arena_init(&ctx.scratch, 16 * 1024);
    *malformed = false;
    int errs = tr->dg->nerrors;
    /* which deployments: named, or every deployment that reads topics */
    int nonly = 0;
    const sr_ynode *deps = sr_ymap_get(tc, "deployments");
    if (!deps) deps = sr_ymap_get(tc, "deployment");
    /* room for every name listed, or every deployment */
    size_t room = (size_t)tr->topo->ndeps + (deps && deps->kind == SR_Y_SEQ ? deps->nkids : 1);
    const char **only = sr_arena_alloc(&a, sizeof(char *) * room);
    if (deps) {
        const sr_ynode *one[1] = {deps};
        const sr_ynode *const *list =
            deps->kind == SR_Y_SEQ ? (const sr_ynode *const *)deps->kids : one;
        int n = deps->kind == SR_Y_SEQ ? deps->nkids : 1;
        for (int i = 0; i < n; i++) {
            if (!sr_yis_scalar(list[i]) || !sr_topology_deployment(tr->topo, list[i]->text)) {
                sr_errc(tr->dg, SR_E_UNKNOWN_DEPLOYMENT, tr->file, list[i]->mark,
                        "unknown deployment '%s'", list[i]->text ? list[i]->text : "?");
                continue;
            }
            only[nonly++] = list[i]->text;
        }
    } else {
        for (int i = 0; i < tr->topo->ndeps; i++)
            if (!tr->topo->deps[i].source) only[nonly++] = tr->topo->deps[i].name;
    }
    /* the state budget of the case's process: stateMemory, else --state-memory */
    size_t budget = default_state_memory;
    char got[64];
    const sr_ynode *sm = sr_ymap_get(tc, "stateMemory");
    if (sm && (!sr_yis_scalar(sm) || !sr_parse_size(sm->text, &budget) || budget == 0))
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, sm->mark,
                "stateMemory must be a size such as 64KiB, 512MiB or 1GB (bytes: B, KiB, MiB, "
                "GiB, KB, MB, GB), not %s",
                sr_ydesc(sm, got, sizeof(got)));
    if (!tr->check_only) sr_state_budget_limit(budget); /* no store exists between cases */
    sr_local *l = tr->check_only
                      ? NULL
                      : sr_local_new(tr->topo, only, nonly > 0 ? nonly : -1, test_sink, &ctx);
    ctx.file_sink = (sr_file_sink){test_file_line, &ctx};
    if (l) sr_local_capture_files(l, &ctx.file_sink);
    int64_t clock = 0; /* the test clock: moved on by advance: items */
    const sr_ynode *ck = sr_ymap_get(tc, "clock");
    long long cv;
    if (ck && (!sr_yscalar_int(ck, &cv) || cv < 0))
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, ck->mark,
                "clock must be a whole number of ms since the epoch");
    else if (ck)
        clock = cv;
    if (l) sr_local_set_clock(l, clock);
    const sr_ynode *in = sr_ymap_get(tc, "input");
    feeder fd = {.tr = tr, .l = l, .clock = clock, .a = &a};
    /* commit: items anywhere in the input: commits are made there only */
    for (int i = in && in->kind == SR_Y_MAP ? 1 : 0; in && i < in->nkids; i += 2) {
        const sr_ynode *items = in->kind == SR_Y_MAP ? in->kids[i] : in;
        for (int k = 0; items->kind == SR_Y_SEQ && k < items->nkids; k++)
            fd.explicit_commits |= control(items->kids[k], "commit") != NULL;
        if (in->kind != SR_Y_MAP) break;
    }
    if (!in) {
        sr_errc(tr->dg, SR_E_MISSING_KEY, tr->file, tc->mark, "test case '%s' has no 'input'",
                label);
    } else if (in->kind == SR_Y_MAP) {
        for (int i = 0; i + 1 < in->nkids; i += 2) {
            sr_topic *topic = topic_ref(tr, in->kids[i]);
            const sr_ynode *items = in->kids[i + 1];
            if (!topic) continue;
            if (items->kind != SR_Y_SEQ) {
                sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, items->mark,
                        "input for topic '%s' must be a list of records", topic->name);
                continue;
            }
            for (int k = 0; k < items->nkids; k++) feed_item(&fd, topic, items->kids[k]);
        }
    } else if (in->kind == SR_Y_SEQ) {
        for (int k = 0; k < in->nkids; k++) {
            const sr_ynode *item = in->kids[k];
            const sr_ynode *tn = item->kind == SR_Y_MAP ? sr_ymap_get(item, "topic") : NULL;
            if (control(item, "advance") || control(item, "commit") || control(item, "crash")) {
                feed_item(&fd, NULL, item);
                continue;
            }
            if (!tn) {
                sr_errc(tr->dg, SR_E_MISSING_KEY, tr->file, item->mark,
                        "in a list of inputs, each record names its 'topic'");
                continue;
            }
            sr_topic *topic = topic_ref(tr, tn);
            if (topic) feed_item(&fd, topic, item);
        }
    } else {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, in->mark,
                "input must map topics to lists of records, or list records");
    }
    free(fd.since);
    if (l) sr_local_end(l); /* end of input: steps emit what they still hold (on_end) */
    /* compare */
    const sr_ynode *exp = sr_ymap_get(tc, "expect");
    if (!exp || exp->kind != SR_Y_MAP) {
        sr_errc(
            tr->dg, SR_E_MISSING_KEY, tr->file, exp ? exp->mark : tc->mark,
            "test case '%s' needs 'expect': a mapping of topics to the records expected on them",
            label);
    } else {
        bool *listed = sr_arena_alloc(&a, (size_t)tr->topo->ntopics + 1); /* by topic index */
        memset(listed, 0, (size_t)tr->topo->ntopics + 1);
        for (int i = 0; i + 1 < exp->nkids; i += 2) {
            sr_topic *topic = topic_ref(tr, exp->kids[i]);
            const sr_ynode *want = exp->kids[i + 1];
            if (!topic) continue;
            if (want->kind != SR_Y_SEQ && !sr_yis_null(want)) {
                sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, want->mark,
                        "expected records for '%s' must be a list ([] for none)", topic->name);
                continue;
            }
            listed[topic->index] = true;
            const got_topic *g =
                ctx.slot[topic->index] ? &ctx.topics[ctx.slot[topic->index] - 1] : NULL;
            int nwant = want->kind == SR_Y_SEQ ? want->nkids : 0, ngot = g ? g->n : 0;
            bool wellformed = true;
            for (int k = 0; k < nwant; k++) {
                if (want->kids[k]->kind != SR_Y_MAP) {
                    sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, want->kids[k]->mark,
                            "an expected record is a mapping {key, value, timestamp, headers}");
                    wellformed = false;
                } else if (!check_record_keys(tr, want->kids[k], true)) {
                    wellformed = false;
                }
            }
            if (tr->check_only || !wellformed) continue;
            for (int k = 0; k < nwant && k < ngot; k++)
                compare_record(tr, topic->name, k, want->kids[k], &g->recs[k], &a);
            if (nwant != ngot) {
                fail(tr, "%s: expected %d record%s, got %d", topic->name, nwant,
                     nwant == 1 ? "" : "s", ngot);
                for (int k = nwant; k < ngot; k++) fail(tr, "  unexpected: %s", g->recs[k].env);
            }
        }
        /* every topic written must be expected: nothing passes unnoticed (but a repartition
         * topic between the stages of a deployment, which is compared only when listed) */
        for (int k = 0; k < ctx.ntopics; k++) {
            if (!listed[ctx.topics[k].topic->index] && !ctx.topics[k].topic->internal) {
                fail(tr, "%d unexpected record%s on topic '%s' (add it under expect:)",
                     ctx.topics[k].n, ctx.topics[k].n == 1 ? "" : "s", ctx.topics[k].topic->name);
                for (int r = 0; r < ctx.topics[k].n && r < 5; r++)
                    fail(tr, "  %s", ctx.topics[k].recs[r].env);
            }
        }
    }
    const sr_ynode *files = sr_ymap_get(tc, "files");
    if (files) compare_files(tr, files, &ctx, &a);
    *malformed = tr->dg->nerrors > errs;
    sr_local_free(l);
    free_got(&ctx);
    free(ctx.slot);
    sr_arena_free(&ctx.scratch);
    sr_arena_free(&a);
    return !*malformed;
}

/* ---- files ------------------------------------------------------------------------------------
 */

static char *beside_path(const char *path)
{
    size_t n = strlen(path);
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) dot = path + n;
    char *p = sr_xmalloc(n + 16);
    snprintf(p, n + 16, "%.*s.tests.yaml", (int)(dot - path), path);
    return p;
}

static void run_cases(test_run *tr, const char *path, const sr_ynode *tests, int *passed,
                      int *failed)
{
    if (tests->kind != SR_Y_SEQ) {
        sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, tests->mark,
                "tests must be a list of test cases");
        (*failed)++;
        return;
    }
    for (int i = 0; i < tests->nkids; i++) {
        const sr_ynode *tc = tests->kids[i];
        if (tc->kind != SR_Y_MAP) {
            sr_errc(tr->dg, SR_E_WRONG_TYPE, tr->file, tc->mark,
                    "a test case is a mapping with name, input and expect");
            (*failed)++;
            continue;
        }
        const char *const *keys = sr_test_case_keys;
        for (int k = 0; k < tc->nkids; k += 2) {
            bool ok = false;
            for (int j = 0; keys[j]; j++)
                ok |= sr_yis_scalar(tc->kids[k]) && strcmp(tc->kids[k]->text, keys[j]) == 0;
            if (!ok) {
                const char *sug =
                    sr_yis_scalar(tc->kids[k]) ? sr_suggest(tc->kids[k]->text, keys, 11) : NULL;
                sr_errc(tr->dg, SR_E_UNKNOWN_KEY, tr->file, tc->kids[k]->mark,
                        "test case: unknown key '%s'%s%s%s",
                        tc->kids[k]->text ? tc->kids[k]->text : "?", sug ? "; did you mean '" : "",
                        sug ? sug : "", sug ? "'?" : "");
                if (sug)
                    sr_diag_help_rewrite(tr->dg, tr->file, tc->kids[k]->mark, tc->kids[k]->text,
                                         sug, "correct the key");
            }
        }
        const sr_ynode *name = sr_ymap_get(tc, "name");
        char label[256];
        snprintf(label, sizeof(label), "%s", name && name->text ? name->text : "");
        if (!label[0]) snprintf(label, sizeof(label), "case %d (line %d)", i + 1, tc->mark.line);
        int errs = tr->dg->nerrors;
        tr->cmp = tr->file_cmp;
        read_cmp_opts(tr, tc, &tr->cmp);
        tr->report.len = 0;
        tr->failures = 0;
        bool malformed;
        run_case(tr, tc, label, &malformed);
        malformed |= tr->dg->nerrors > errs;
        if (tr->check_only) continue;
        if (malformed) {
            printf("ERROR %s: %s (the test case is malformed, see above)\n", path, label);
            (*failed)++;
        } else if (tr->failures) {
            printf("FAIL  %s: %s\n%s", path, label, sr_buf_cstr(&tr->report));
            (*failed)++;
        } else {
            printf("PASS  %s: %s\n", path, label);
            (*passed)++;
        }
        fflush(stdout);
    }
}

/* Checks the top-level keys of a test file (NAME.tests.yaml) and reads its compare: and
 * tolerance:, the defaults of its cases. */
static void read_test_file_opts(test_run *tr, const sr_ynode *root)
{
    const char *const *keys = sr_test_file_keys;
    for (int k = 0; k + 1 < root->nkids; k += 2) {
        const sr_ynode *key = root->kids[k];
        bool ok = false;
        for (int j = 0; keys[j]; j++) ok |= sr_yis_scalar(key) && strcmp(key->text, keys[j]) == 0;
        if (ok) continue;
        const char *sug = sr_yis_scalar(key) ? sr_suggest(key->text, keys, 3) : NULL;
        sr_errc(tr->dg, SR_E_UNKNOWN_KEY, tr->file, key->mark,
                "test file: unknown key '%s'%s%s%s (a test file holds tests:, and compare: and "
                "tolerance: for all its cases)",
                key->text ? key->text : "?", sug ? "; did you mean '" : "", sug ? sug : "",
                sug ? "'?" : "");
        if (sug)
            sr_diag_help_rewrite(tr->dg, tr->file, key->mark, key->text, sug, "correct the key");
    }
    tr->file_cmp = (cmp_opts){0};
    read_cmp_opts(tr, root, &tr->file_cmp);
}

/* Runs (or checks) the cases in t and in the file beside it. Returns the path of
 * the file beside it (malloc'd) for messages. */
static char *run_all_cases(test_run *tr, const char *path, int *passed, int *failed)
{
    tr->file_cmp = (cmp_opts){0};
    if (tr->topo->tests) run_cases(tr, path, tr->topo->tests, passed, failed);
    char *beside = beside_path(path);
    struct stat st;
    if (tr->beside_text || stat(beside, &st) == 0) {
        sr_ydoc doc = {0};
        int r = tr->beside_text
                    ? sr_ydoc_parse(&doc, beside, tr->beside_text, tr->beside_len, tr->dg)
                    : sr_ydoc_load(&doc, beside, tr->dg);
        if (r == 0 && doc.root) {
            const sr_ynode *tests =
                doc.root->kind == SR_Y_MAP ? sr_ymap_get(doc.root, "tests") : NULL;
            tr->file = doc.file;
            if (tests) read_test_file_opts(tr, doc.root);
            if (tests)
                run_cases(tr, beside, tests, passed, failed);
            else
                sr_errc(tr->dg, SR_E_WRONG_TYPE, doc.file, doc.root->mark,
                        "expected a mapping with a 'tests:' list");
        } else {
            (*failed)++;
        }
        sr_ydoc_free(&doc);
    }
    return beside;
}

int sr_tests_check(const sr_topology *t, sr_diag *dg)
{
    return sr_tests_check_text(t, NULL, 0, dg);
}

int sr_tests_check_text(const sr_topology *t, const char *tests, size_t len, sr_diag *dg)
{
    int before = dg->nerrors, passed = 0, failed = 0;
    test_run tr = {.topo = t,
                   .file = t->doc.file,
                   .dg = dg,
                   .check_only = true,
                   .beside_text = tests,
                   .beside_len = len};
    free(run_all_cases(&tr, t->path, &passed, &failed));
    sr_buf_free(&tr.report);
    return dg->nerrors > before ? -1 : 0;
}

/* The topologies whose tests the arguments files[0..n) stand for: a tests file NAME.tests.yaml
 * stands for NAME.yaml, whose tests it holds, and is left out when NAME.yaml is given too
 * (sr_cli_targets). Replaces files[] by malloc'd paths and returns how many are left. */
static int test_targets(char **files, int n)
{
    char **targets = sr_xcalloc((size_t)n + 1, sizeof(*targets));
    sr_cli_targets(n, (const char *const *)files, targets);
    int out = 0;
    for (int i = 0; i < n; i++)
        if (targets[i]) files[out++] = targets[i];
    free(targets);
    return out;
}

int sr_cmd_test(int argc, char **argv)
{
    char **files = sr_xcalloc((size_t)argc, sizeof(char *)); /* every argument at most */
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *size = sr_cli_value(argc, argv, &i, "--state-memory");
        if (size) {
            if (!sr_cli_state_memory("test", size) || !sr_parse_size(size, &default_state_memory)) {
                free(files);
                return SR_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "streamrun test: unknown option '%s'\n", argv[i]);
            free(files);
            return SR_EXIT_USAGE;
        } else if (!sr_cli_file_arg("test", argv[i])) {
            free(files);
            return SR_EXIT_USAGE;
        } else {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0) {
        fprintf(stderr, "usage: streamrun test [--state-memory SIZE] FILE...\n");
        free(files);
        return SR_EXIT_USAGE;
    }
    nfiles = test_targets(files, nfiles);
    int passed = 0, failed = 0, rc = SR_EXIT_OK;
    for (int f = 0; f < nfiles; f++) {
        /* one diagnostics list for the file and its cases: it owns the source texts */
        sr_diag dg;
        sr_diag_init(&dg);
        sr_topology *t = NULL;
        if (sr_topology_load(&t, files[f], &dg) != 0) {
            sr_diag_print(&dg, stderr, false, isatty(2));
            sr_diag_free(&dg);
            sr_topology_free(t);
            printf("ERROR %s: the topology file has errors\n", files[f]);
            failed++;
            continue;
        }
        test_run tr = {.topo = t, .file = t->doc.file, .dg = &dg};
        int before = passed + failed;
        char *beside = run_all_cases(&tr, files[f], &passed, &failed);
        if (passed + failed == before) {
            fprintf(stderr,
                    "streamrun test: %s has no test cases (add tests: to it, or write %s)\n",
                    files[f], beside);
            rc = SR_EXIT_INVALID;
        }
        free(beside);
        sr_diag_print(&dg, stderr, false, isatty(2));
        if (dg.nerrors) rc = SR_EXIT_INVALID;
        sr_diag_free(&dg);
        sr_buf_free(&tr.report);
        sr_topology_free(t);
    }
    printf("%d passed, %d failed\n", passed, failed);
    for (int f = 0; f < nfiles; f++) free(files[f]);
    free(files);
    return failed ? SR_EXIT_INVALID : rc;
}
