/* model_load.c — loading and checking a model package (config.json and the model file), with
 * every problem reported at its file, line and column. */
#include "model/model.h"

#include "base/arena.h"
#include "model/model_json.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_FORMAT  "streamrun-model"
#define MODEL_VERSION 1

static const char *const kind_names[] = {"linear_regression", "logistic_regression",
                                         "decision_tree", "random_forest", "gradient_boosting"};
static const char *const type_names[] = {"STRING", "INTEGER", "DOUBLE"};

const char *sr_field_type_name(sr_field_type t)
{
    return type_names[t];
}

const char *sr_model_kind_name(sr_model_kind k)
{
    return kind_names[k];
}

/* ---- where a JSON value is in its text -------------------------------------------------- */

/* A path from the document's root to a value: each step an object key or an array index. */
typedef struct jpath {
    const struct jpath *up;
    const char *key; /* NULL: index */
    size_t index;
    bool at_key; /* the place of the key itself, not of its value */
} jpath;

#define JKEY(parent, k)     (&(jpath){(parent), (k), 0, false})
#define JIDX(parent, i)     (&(jpath){(parent), NULL, (i), false})
#define JKEYNAME(parent, k) (&(jpath){(parent), (k), 0, true})

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* The end of the JSON value starting at s[i] (the text is valid JSON: jansson parsed it). */
static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i >= n) return n;
    if (s[i] == '"') {
        for (i++; i < n && s[i] != '"'; i++)
            if (s[i] == '\\') i++;
        return i + 1 < n ? i + 1 : n;
    }
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; i < n; i++) {
            char c = s[i];
            if (c == '"') {
                i = skip_value(s, n, i) - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return n;
    }
    while (i < n && !strchr(",]} \t\r\n", s[i])) i++;
    return i;
}

/* Whether the JSON string at s[i] decodes to key. */
static bool key_equals(const char *s, size_t n, size_t i, const char *key)
{
    json_error_t e;
    json_t *k = json_loadb(s + i, n - i, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
    bool eq = k && json_is_string(k) && strcmp(json_string_value(k), key) == 0;
    json_decref(k);
    return eq;
}

/* The offset of the value at p in s, or of the deepest part of p that exists. */
static size_t locate_offset(const char *s, size_t n, const jpath *p)
{
    const jpath *steps[64];
    int nsteps = 0;
    for (; p; p = p->up) {
        if (nsteps == 64) return 0; /* deeper than any package goes: the start of the file */
        steps[nsteps++] = p;
    }
    size_t i = skip_ws(s, n, 0);
    while (nsteps > 0) {
        const jpath *st = steps[--nsteps];
        if (i >= n || (st->key ? s[i] != '{' : s[i] != '[')) return i;
        size_t at = i, idx = 0;
        bool found = false;
        i = skip_ws(s, n, i + 1);
        while (i < n && s[i] != '}' && s[i] != ']') {
            if (st->key) {
                bool match = key_equals(s, n, i, st->key);
                if (match && st->at_key) return i;
                i = skip_ws(s, n, skip_value(s, n, i)); /* the key, then ':' */
                i = skip_ws(s, n, i + 1);
                if (match) {
                    found = true;
                    break;
                }
            } else if (idx++ == st->index) {
                found = true;
                break;
            }
            i = skip_ws(s, n, skip_value(s, n, i));
            if (i < n && s[i] == ',') i = skip_ws(s, n, i + 1);
        }
        if (!found) return at;
    }
    return i;
}

static sr_mark locate(const sr_srcfile *f, const jpath *p)
{
    if (!f->text || f->len == 0) return (sr_mark){0, 0, 0};
    size_t off = locate_offset(f->text, f->len, p);
    if (off >= f->len) off = f->len - 1;
    size_t end = skip_value(f->text, f->len, off);
    int line = 1;
    size_t start = 0;
    for (size_t i = 0; i < off; i++)
        if (f->text[i] == '\n') {
            line++;
            start = i + 1;
        }
    const char *nl = memchr(f->text + off, '\n', end - off);
    int len = nl || end - off > 200 ? 1 : (int)(end - off);
    return (sr_mark){line, (int)(off - start) + 1, len};
}

/* The path as the message names it: trees[0][3].left */
static void path_string(const jpath *p, sr_buf *b)
{
    if (!p) return;
    path_string(p->up, b);
    if (p->key)
        sr_buf_printf(b, "%s%s", p->up ? "." : "", p->key);
    else
        sr_buf_printf(b, "[%zu]", p->index);
}

/* ---- the loader's context --------------------------------------------------------------- */

typedef struct loader {
    sr_diag *dg;
    const sr_srcfile *f;
    sr_model *m;
    size_t capnodes, nvalues, capvalues;
    int before; /* dg's errors before this package */
} loader;

static void fail_at(loader *L, sr_code code, const jpath *p, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* An error about the value at p: "path: message". */
static void fail_at(loader *L, sr_code code, const jpath *p, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sr_buf where = {0};
    path_string(p, &where);
    if (where.len)
        sr_errc(L->dg, code, L->f, locate(L->f, p), "%s: %s", sr_buf_cstr(&where), msg);
    else
        sr_errc(L->dg, code, L->f, locate(L->f, p), "%s", msg);
    sr_buf_free(&where);
}

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* Reports keys of obj (at p) not in allowed[], with a suggestion. */
static void check_keys(loader *L, const json_t *obj, const jpath *p, const char *const *allowed,
                       int nallowed)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        bool ok = false;
        for (int i = 0; i < nallowed && !ok; i++) ok = strcmp(key, allowed[i]) == 0;
        if (ok) continue;
        const char *sug = sr_suggest(key, allowed, nallowed);
        fail_at(L, SR_E_UNKNOWN_KEY, JKEYNAME(p, key), "unknown key '%s'%s%s%s", key,
                sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    }
}

/* obj[key], or NULL with an error at obj when it is required and missing. */
static json_t *member(loader *L, const json_t *obj, const jpath *p, const char *key, bool required,
                      const char *expected)
{
    json_t *v = json_object_get(obj, key);
    if (!v && required) fail_at(L, SR_E_MISSING_KEY, p, "missing '%s' (%s)", key, expected);
    return v;
}

static bool get_int(loader *L, const json_t *v, const jpath *p, long long lo, long long hi,
                    long long *out)
{
    if (!json_is_integer(v)) {
        fail_at(L, SR_E_WRONG_TYPE, p, "expected an integer from %lld to %lld, not %s", lo, hi,
                json_kind(v));
        return false;
    }
    long long x = json_integer_value(v);
    if (x < lo || x > hi) {
        fail_at(L, SR_E_OUT_OF_RANGE, p, "expected an integer from %lld to %lld, not %lld", lo, hi,
                x);
        return false;
    }
    *out = x;
    return true;
}

static bool get_number(loader *L, const json_t *v, const jpath *p, double *out)
{
    if (!json_is_number(v)) {
        fail_at(L, SR_E_WRONG_TYPE, p, "expected a number, not %s", json_kind(v));
        return false;
    }
    *out = json_number_value(v);
    if (!isfinite(*out)) {
        fail_at(L, SR_E_OUT_OF_RANGE, p, "expected a finite number");
        return false;
    }
    return true;
}

/* A list of exactly n numbers into out[0..n). */
static bool get_numbers(loader *L, const json_t *v, const jpath *p, size_t n, double *out)
{
    if (!json_is_array(v)) {
        fail_at(L, SR_E_WRONG_TYPE, p, "expected a list of %zu numbers, not %s", n, json_kind(v));
        return false;
    }
    if (json_array_size(v) != n) {
        fail_at(L, SR_E_MODEL_PACKAGE, p, "expected %zu number%s, not %zu", n, n == 1 ? "" : "s",
                json_array_size(v));
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) ok &= get_number(L, json_array_get(v, i), JIDX(p, i), &out[i]);
    return ok;
}

static bool get_enum(loader *L, const json_t *v, const jpath *p, const char *const *names, int n,
                     int *out)
{
    char list[256] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "", names[i]);
    if (!json_is_string(v)) {
        fail_at(L, SR_E_WRONG_TYPE, p, "expected one of %s, not %s", list, json_kind(v));
        return false;
    }
    const char *s = json_string_value(v);
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return true;
        }
    const char *sug = sr_suggest(s, names, n);
    if (sug)
        fail_at(L, SR_E_NOT_A_CHOICE, p, "unknown '%s'; did you mean '%s'? (expected one of %s)", s,
                sug, list);
    else
        fail_at(L, SR_E_NOT_A_CHOICE, p, "unknown '%s' (expected one of %s)", s, list);
    return false;
}

/* ---- files ------------------------------------------------------------------------------ */

/* Reads and parses path; registers its text with dg. NULL (reported) when it cannot. */
static json_t *load_json(sr_diag *dg, const char *path, const sr_srcfile **file)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        sr_errc(dg, SR_E_MODEL_PACKAGE, sr_diag_add_file(dg, path, sr_xstrdup(""), 0),
                (sr_mark){0, 0, 0},
                "cannot read: %s (a model package is a directory holding config.json and the "
                "model file)",
                strerror(errno));
        return NULL;
    }
    sr_buf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) sr_buf_put(&b, chunk, got);
    bool bad = ferror(fp);
    int err = errno;
    fclose(fp);
    size_t len = b.len;
    char *text = sr_xstrndup(len ? sr_buf_cstr(&b) : "", len);
    sr_buf_free(&b);
    *file = sr_diag_add_file(dg, path, text, len);
    if (bad) {
        sr_errc(dg, SR_E_MODEL_PACKAGE, *file, (sr_mark){0, 0, 0}, "cannot read: %s",
                strerror(err));
        return NULL;
    }
    json_error_t je;
    json_t *root = sr_model_json_load(text, len, &je);
    if (!root) {
        sr_errc(dg, SR_E_MODEL_PACKAGE, *file,
                (sr_mark){je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0, 1},
                "invalid JSON: %s", je.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        loader L = {.dg = dg, .f = *file};
        fail_at(&L, SR_E_WRONG_TYPE, NULL, "expected an object, not %s", json_kind(root));
        json_decref(root);
        return NULL;
    }
    return root;
}

/* ---- config.json ------------------------------------------------------------------------ */

static void load_schema(loader *L, const json_t *v, const jpath *p)
{
    if (!json_is_object(v) || json_object_size(v) == 0) {
        fail_at(L, SR_E_WRONG_TYPE, p,
                "expected an object of field: STRING | INTEGER | DOUBLE, in the model's input "
                "order, not %s",
                json_is_object(v) ? "an empty object" : json_kind(v));
        return;
    }
    sr_model *m = L->m;
    m->fields = sr_xcalloc(json_object_size(v), sizeof(*m->fields));
    const char *key;
    json_t *t;
    json_object_foreach((json_t *)v, key, t)
    {
        int ty;
        if (!get_enum(L, t, JKEY(p, key), type_names, 3, &ty)) continue;
        m->fields[m->nfeatures].name = sr_xstrdup(key);
        m->fields[m->nfeatures].type = (sr_field_type)ty;
        m->nfeatures++;
    }
}

/* output_labels: {"0": name, "1": name, ...} or [name, ...] */
static void load_labels(loader *L, const json_t *v, const jpath *p)
{
    sr_model *m = L->m;
    size_t n = json_is_object(v) ? json_object_size(v) : json_is_array(v) ? json_array_size(v) : 0;
    if (n < 2) {
        fail_at(L, SR_E_MODEL_PACKAGE, p,
                "expected class index: name for at least two classes ({\"0\": \"no\", \"1\": "
                "\"yes\"} or [\"no\", \"yes\"]), not %s",
                json_is_object(v) || json_is_array(v) ? "fewer than two" : json_kind(v));
        return;
    }
    m->labels = sr_xcalloc(n, sizeof(*m->labels));
    m->nclasses = (int)n;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "%zu", i);
        const jpath *q = json_is_object(v) ? JKEY(p, key) : JIDX(p, i);
        json_t *name = json_is_object(v) ? json_object_get(v, key) : json_array_get(v, i);
        if (!name) {
            fail_at(L, SR_E_MISSING_KEY, p, "missing class index \"%s\" (the keys are 0 to %zu)",
                    key, n - 1);
            continue;
        }
        if (!json_is_string(name)) {
            fail_at(L, SR_E_WRONG_TYPE, q, "expected a class name (a string), not %s",
                    json_kind(name));
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (m->labels[j] && strcmp(m->labels[j], json_string_value(name)) == 0)
                fail_at(L, SR_E_DUPLICATE, q, "class name '%s' is also class %zu's",
                        json_string_value(name), j);
        m->labels[i] = sr_xstrdup(json_string_value(name));
    }
    if (json_is_object(v)) { /* keys that are not 0..n-1 */
        const char *key;
        json_t *t;
        json_object_foreach((json_t *)v, key, t)
        {
            char *end;
            errno = 0;
            unsigned long i = strtoul(key, &end, 10);
            char canon[32];
            snprintf(canon, sizeof(canon), "%lu", i);
            if (*end || errno || i >= n || strcmp(canon, key) != 0)
                fail_at(L, SR_E_MODEL_PACKAGE, JKEY(p, key),
                        "'%s' is not a class index (expected 0 to %zu)", key, n - 1);
        }
    }
}

/* ---- model.json: linear models ---------------------------------------------------------- */

/* The columns of coef's sparse form, {"sparse": true, "columns": [...], "values": ...} at pc,
 * into *cols (*n of them: strictly increasing, each a column of the text model's width).
 * Returns whether they are right (else reported). */
static bool load_sparse_columns(loader *L, const json_t *coef, const jpath *pc, int32_t **cols,
                                int32_t *n)
{
    sr_model *m = L->m;
    *cols = NULL;
    *n = 0;
    if (!m->text) {
        fail_at(L, SR_E_SETTING_NOT_HERE, pc,
                "the sparse form of coef is for text models (with a \"text\" vectorizer); this "
                "model's coef is a list of n_features numbers%s",
                m->kind == SR_MODEL_LOGISTIC_REGRESSION ? " per row" : "");
        return false;
    }
    static const char *const keys[] = {"sparse", "columns", "values"};
    check_keys(L, coef, pc, keys, 3);
    json_t *sp = member(L, coef, pc, "sparse", true, "true");
    if (sp && !json_is_true(sp))
        fail_at(L, SR_E_WRONG_TYPE, JKEY(pc, "sparse"), "expected true, not %s",
                json_is_false(sp) ? "false (a dense coef is a list)" : json_kind(sp));
    json_t *cv = member(L, coef, pc, "columns", true,
                        "the columns that have coefficients, strictly increasing");
    member(L, coef, pc, "values", true, "the coefficients of those columns");
    if (!cv) return false;
    int before = L->dg->nerrors; /* the values are read when the columns are right */
    const jpath *pcols = JKEY(pc, "columns");
    int width = m->text->width;
    if (!json_is_array(cv) || json_array_size(cv) > (size_t)width) {
        fail_at(L, SR_E_WRONG_TYPE, pcols,
                "expected a list of at most %d columns (0 to %d, strictly increasing), not %s",
                width, width - 1, json_is_array(cv) ? "a longer list" : json_kind(cv));
        return false;
    }
    size_t nc = json_array_size(cv);
    int32_t *c = sr_xcalloc(nc ? nc : 1, sizeof(int32_t));
    long long prev = -1;
    for (size_t i = 0; i < nc; i++) {
        long long x = 0;
        if (!get_int(L, json_array_get(cv, i), JIDX(pcols, i), 0, width - 1, &x)) continue;
        if (x <= prev)
            fail_at(L, SR_E_MODEL_PACKAGE, JIDX(pcols, i),
                    "column %lld after column %lld: the columns are strictly increasing", x, prev);
        c[i] = (int32_t)x;
        prev = x;
    }
    if (L->dg->nerrors > before) {
        free(c);
        return false;
    }
    *cols = c;
    *n = (int32_t)nc;
    return true;
}

/* Gives the text model the coefficients vals (rows × ncols, by row, as the values were
 * written) of the columns cols in the sparse form it scores with (model_text.h). */
static void set_sparse_coef(sr_model *m, const int32_t *cols, int32_t ncols, int rows,
                            const double *vals)
{
    double *byc = sr_xcalloc((size_t)ncols * (size_t)rows + 1, sizeof(double));
    for (int r = 0; r < rows; r++)
        for (int32_t j = 0; j < ncols; j++)
            byc[(size_t)j * (size_t)rows + (size_t)r] = vals[(size_t)r * (size_t)ncols + (size_t)j];
    sr_text_coef_set(m->text, cols, ncols, rows, byc);
}

static void load_linear(loader *L, const json_t *doc, const jpath *p, bool logistic)
{
    sr_model *m = L->m;
    static const char *const lin_keys[] = {"format", "version",   "kind", "n_features",
                                           "coef",   "intercept", "text"};
    static const char *const log_keys[] = {"format", "version",   "kind",        "n_features",
                                           "coef",   "intercept", "multi_class", "text"};
    if (logistic)
        check_keys(L, doc, p, log_keys, 8);
    else
        check_keys(L, doc, p, lin_keys, 7);
    json_t *coef = member(L, doc, p, "coef", true,
                          logistic ? "a list of rows of n_features coefficients"
                                   : "a list of n_features coefficients");
    json_t *icpt = member(L, doc, p, "intercept", true,
                          logistic ? "a list of one number per row" : "a number");
    if (!coef || !icpt) return;
    const jpath *pc = JKEY(p, "coef"), *pi = JKEY(p, "intercept");
    size_t nf = m->text ? (size_t)m->text->width : (size_t)m->nfeatures;
    /* the sparse form: the rows (values) have one number per listed column */
    int32_t *cols = NULL, ncols = 0;
    bool sparse = json_is_object(coef);
    jpath pvalues = {pc, "values", 0, false};
    if (sparse) {
        if (!load_sparse_columns(L, coef, pc, &cols, &ncols)) return;
        coef = json_object_get(coef, "values");
        if (!coef) { /* reported */
            free(cols);
            return;
        }
        pc = &pvalues;
        nf = (size_t)ncols;
    }
    if (!logistic) {
        m->nrows = 1;
        m->coef = sr_xcalloc(nf ? nf : 1, sizeof(double));
        m->intercept = sr_xcalloc(1, sizeof(double));
        get_numbers(L, coef, pc, nf, m->coef);
        get_number(L, icpt, pi, m->intercept);
        m->noutputs = 1;
        goto sparse;
    }
    static const char *const modes[] = {"ovr", "multinomial"};
    int mode = 0;
    json_t *mc = member(L, doc, p, "multi_class", true, "ovr or multinomial");
    if (mc) get_enum(L, mc, JKEY(p, "multi_class"), modes, 2, &mode);
    m->multinomial = mode == 1;
    if (!json_is_array(coef) || json_array_size(coef) == 0) {
        fail_at(L, SR_E_WRONG_TYPE, pc,
                "expected a list of rows (one for two classes, else one per class), not %s",
                json_is_array(coef) ? "an empty list" : json_kind(coef));
        free(cols);
        return;
    }
    size_t rows = json_array_size(coef);
    int want = m->nclasses == 2 ? 1 : m->nclasses;
    if ((int)rows != want || rows == 2) {
        fail_at(L, SR_E_MODEL_PACKAGE, pc,
                "%zu rows for %d classes in config.json's output_labels (expected %d: one row for "
                "two classes, else one per class)",
                rows, m->nclasses, want);
        free(cols);
        return;
    }
    m->nrows = (int)rows;
    m->coef = sr_xcalloc(rows * nf + 1, sizeof(double));
    m->intercept = sr_xcalloc(rows, sizeof(double));
    for (size_t r = 0; r < rows; r++)
        get_numbers(L, json_array_get(coef, r), JIDX(pc, r), nf, m->coef + r * nf);
    get_numbers(L, icpt, pi, rows, m->intercept);
    m->noutputs = m->nclasses;
sparse:
    if (sparse) { /* what was read by row goes by column into the text model's table */
        set_sparse_coef(m, cols, ncols, m->nrows, m->coef);
        free(m->coef);
        m->coef = NULL;
        free(cols);
    }
}

/* ---- model.json: trees ------------------------------------------------------------------ */

static int32_t add_values(loader *L, size_t n)
{
    if (L->nvalues + n > (size_t)INT32_MAX) return -1;
    if (L->nvalues + n > L->capvalues) {
        L->capvalues = (L->nvalues + n) * 2;
        L->m->values = sr_xrealloc(L->m->values, L->capvalues * sizeof(double));
    }
    int32_t at = (int32_t)L->nvalues;
    L->nvalues += n;
    return at;
}

/* One tree: a list of nodes, the root first, each child after its parent. Leaves hold width
 * values; with classes, they are class weights, normalised here to probabilities as
 * scikit-learn's predict_proba does. Returns the root's index in m->nodes, or -1. */
static int32_t load_tree(loader *L, const json_t *tree, const jpath *p, int width, bool classes)
{
    sr_model *m = L->m;
    if (!json_is_array(tree) || json_array_size(tree) == 0) {
        fail_at(L, SR_E_WRONG_TYPE, p, "expected a tree: a list of nodes, the root first, not %s",
                json_is_array(tree) ? "an empty list" : json_kind(tree));
        return -1;
    }
    size_t n = json_array_size(tree);
    if (m->nnodes + n > (size_t)INT32_MAX) {
        fail_at(L, SR_E_OUT_OF_RANGE, p, "too many nodes (at most %d in a model)", INT32_MAX);
        return -1;
    }
    /* the nodes as the file has them; laid out for scoring below */
    struct fnode {
        int32_t feature, left, right;
        double threshold;
    } *nodes = sr_xcalloc(n, sizeof(*nodes));
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        const jpath *pn = JIDX(p, i);
        json_t *node = json_array_get(tree, i);
        struct fnode *out = &nodes[i];
        *out = (struct fnode){-1, 0, 0, 0};
        if (!json_is_object(node)) {
            fail_at(L, SR_E_WRONG_TYPE, pn,
                    "expected a node ({\"value\": [...]} or {\"feature\", \"threshold\", "
                    "\"left\", \"right\"}), not %s",
                    json_kind(node));
            ok = false;
            continue;
        }
        json_t *value = json_object_get(node, "value");
        if (value) {
            static const char *const leaf_keys[] = {"value"};
            check_keys(L, node, pn, leaf_keys, 1);
            int32_t at = add_values(L, (size_t)width);
            if (at < 0) {
                fail_at(L, SR_E_OUT_OF_RANGE, pn, "too many leaf values (at most %d in a model)",
                        INT32_MAX);
                ok = false;
                continue;
            }
            out->left = at;
            double *v = m->values + at;
            if (!get_numbers(L, value, JKEY(pn, "value"), (size_t)width, v)) {
                ok = false;
                continue;
            }
            if (!classes) continue;
            double sum = 0;
            for (int k = 0; k < width; k++) {
                if (v[k] < 0) {
                    fail_at(L, SR_E_OUT_OF_RANGE, JIDX(JKEY(pn, "value"), (size_t)k),
                            "a class weight cannot be negative (%g)", v[k]);
                    ok = false;
                }
                sum += v[k];
            }
            if (sum == 0) sum = 1; /* as predict_proba: an all-zero leaf stays zero */
            for (int k = 0; k < width; k++) v[k] /= sum;
            continue;
        }
        static const char *const split_keys[] = {"feature", "threshold", "left", "right", "value"};
        check_keys(L, node, pn, split_keys, 5);
        const char *expect = "an internal node has feature, threshold, left and right; a leaf "
                             "has value";
        json_t *f = member(L, node, pn, "feature", true, expect);
        json_t *t = member(L, node, pn, "threshold", true, expect);
        json_t *l = member(L, node, pn, "left", true, expect);
        json_t *r = member(L, node, pn, "right", true, expect);
        if (!f || !t || !l || !r) {
            ok = false;
            continue;
        }
        long long feature = 0, left = 0, right = 0;
        bool nok = get_int(L, f, JKEY(pn, "feature"), 0, m->nfeatures - 1, &feature);
        nok &= get_number(L, t, JKEY(pn, "threshold"), &out->threshold);
        /* a child comes after its parent: no cycles, every descent ends at a leaf */
        nok &= get_int(L, l, JKEY(pn, "left"), (long long)i + 1, (long long)n - 1, &left);
        nok &= get_int(L, r, JKEY(pn, "right"), (long long)i + 1, (long long)n - 1, &right);
        if (!nok) {
            ok = false;
            continue;
        }
        out->feature = (int32_t)feature;
        out->left = (int32_t)left;
        out->right = (int32_t)right;
    }
    /* a tree: every node but the root is the child of one node */
    int32_t *parent = sr_xmalloc(n * sizeof(*parent));
    for (size_t i = 0; i < n; i++) parent[i] = -1;
    for (size_t i = 0; ok && i < n; i++) {
        if (nodes[i].feature < 0) continue;
        for (int side = 0; side < 2; side++) {
            int32_t c = side ? nodes[i].right : nodes[i].left;
            if (parent[c] >= 0) {
                fail_at(L, SR_E_MODEL_PACKAGE, JKEY(JIDX(p, i), side ? "right" : "left"),
                        "node %d is already a child of node %d (each node has one parent)", c,
                        parent[c]);
                ok = false;
            } else {
                parent[c] = (int32_t)i;
            }
        }
    }
    int32_t base = (int32_t)m->nnodes;
    if (ok) {
        /* breadth first, the two children of a node side by side: a descent is branch-free
         * (left + whether x goes right); nodes no descent reaches are left out */
        if (m->nnodes + n > L->capnodes) {
            L->capnodes = (m->nnodes + n) * 2;
            m->nodes = sr_xrealloc(m->nodes, L->capnodes * sizeof(*m->nodes));
        }
        int32_t *order = parent; /* reused: position -> node of the file */
        size_t placed = 1;
        order[0] = 0;
        for (size_t q = 0; q < placed; q++) {
            const struct fnode *f = &nodes[order[q]];
            sr_tree_node *out = &m->nodes[(size_t)base + q];
            out->feature = f->feature;
            out->threshold = f->threshold;
            out->left = f->left; /* a leaf's values */
            if (f->feature < 0) continue;
            assert(placed + 2 <= n);
            out->left = base + (int32_t)placed;
            order[placed++] = f->left;
            order[placed++] = f->right;
        }
        m->nnodes += placed;
    }
    free(parent);
    free(nodes);
    return ok ? base : -1;
}

static void add_root(sr_model *m, int32_t root)
{
    m->roots = sr_xrealloc(m->roots, (size_t)(m->ntrees + 1) * sizeof(*m->roots));
    m->roots[m->ntrees++] = root;
}

static const char *const task_names[] = {"classification", "regression"};

/* decision_tree and random_forest: "trees", each leaf n_classes weights or one value */
static void load_forest(loader *L, const json_t *doc, const jpath *p, bool single)
{
    sr_model *m = L->m;
    static const char *const keys[] = {"format", "version",   "kind", "n_features",
                                       "task",   "n_classes", "trees"};
    check_keys(L, doc, p, keys, 7);
    json_t *trees = member(L, doc, p, "trees", true, "a list of trees");
    if (!trees) return;
    const jpath *pt = JKEY(p, "trees");
    if (!json_is_array(trees) || json_array_size(trees) == 0 ||
        (single && json_array_size(trees) != 1)) {
        fail_at(L, SR_E_WRONG_TYPE, pt, "expected a list of %s, not %s",
                single ? "one tree" : "trees",
                json_is_array(trees) ? (json_array_size(trees) ? "several" : "an empty list")
                                     : json_kind(trees));
        return;
    }
    int width = m->nclasses ? m->nclasses : 1;
    for (size_t i = 0; i < json_array_size(trees); i++) {
        int32_t root = load_tree(L, json_array_get(trees, i), JIDX(pt, i), width, m->nclasses > 0);
        if (root >= 0) add_root(m, root);
    }
}

static void load_boosting(loader *L, const json_t *doc, const jpath *p)
{
    sr_model *m = L->m;
    static const char *const keys[] = {"format", "version",      "kind", "n_features",
                                       "task",   "n_classes",    "loss", "init",
                                       "stages", "learning_rate"};
    check_keys(L, doc, p, keys, 10);
    m->per_stage = m->nclasses > 2 ? m->nclasses : 1;
    json_t *loss = json_object_get(doc, "loss");
    if (loss) {
        static const char *const losses[] = {"log_loss", "exponential"};
        int which = 0;
        const jpath *pl = JKEY(p, "loss");
        if (m->nclasses == 0)
            fail_at(L, SR_E_SETTING_NOT_HERE, pl, "a regressor's link is the identity: no 'loss'");
        else if (get_enum(L, loss, pl, losses, 2, &which) && which == 1 && m->nclasses != 2)
            fail_at(L, SR_E_SETTING_NOT_HERE, pl, "the exponential loss is for two classes, not %d",
                    m->nclasses);
        m->exponential = which == 1;
    }
    json_t *lr = member(L, doc, p, "learning_rate", true, "a number");
    if (lr) get_number(L, lr, JKEY(p, "learning_rate"), &m->learning_rate);
    json_t *init = member(L, doc, p, "init", true, "the raw prediction before the first stage");
    m->init = sr_xcalloc((size_t)m->per_stage, sizeof(double));
    if (init) get_numbers(L, init, JKEY(p, "init"), (size_t)m->per_stage, m->init);
    json_t *stages = member(L, doc, p, "stages", true, "a list of stages");
    if (!stages) return;
    const jpath *ps = JKEY(p, "stages");
    if (!json_is_array(stages) || json_array_size(stages) == 0) {
        fail_at(L, SR_E_WRONG_TYPE, ps,
                "expected a list of stages, each a list of %d tree%s, not %s", m->per_stage,
                m->per_stage > 1 ? "s" : "",
                json_is_array(stages) ? "an empty list" : json_kind(stages));
        return;
    }
    m->nstages = (int)json_array_size(stages);
    for (size_t s = 0; s < json_array_size(stages); s++) {
        json_t *stage = json_array_get(stages, s);
        const jpath *pst = JIDX(ps, s);
        if (!json_is_array(stage) || json_array_size(stage) != (size_t)m->per_stage) {
            fail_at(L, SR_E_WRONG_TYPE, pst, "expected a stage of %d tree%s (%s), not %s",
                    m->per_stage, m->per_stage > 1 ? "s" : "",
                    m->per_stage > 1 ? "one per class" : "one for two classes or a regressor",
                    json_is_array(stage) ? "a list of another length" : json_kind(stage));
            continue;
        }
        for (int k = 0; k < m->per_stage; k++) {
            int32_t root =
                load_tree(L, json_array_get(stage, (size_t)k), JIDX(pst, (size_t)k), 1, false);
            if (root >= 0) add_root(m, root);
        }
    }
}

/* ---- model.json: a text model's vectorizer --------------------------------------------- */

static bool get_bool(loader *L, const json_t *obj, const jpath *p, const char *key, bool *out)
{
    json_t *v = member(L, obj, p, key, true, "true or false");
    if (!v) return false;
    if (!json_is_boolean(v)) {
        fail_at(L, SR_E_WRONG_TYPE, JKEY(p, key), "expected true or false, not %s", json_kind(v));
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* "text": the vectorizer in front of a linear model of width n_features columns. */
static void load_text(loader *L, const json_t *v, const jpath *p, int width)
{
    sr_text_model *t = L->m->text = sr_xcalloc(1, sizeof(*t));
    t->width = width;
    if (!json_is_object(v)) {
        fail_at(L, SR_E_WRONG_TYPE, p, "expected the vectorizer (an object), not %s", json_kind(v));
        return;
    }
    static const char *const keys[] = {"vectorizer", "lowercase",   "token_pattern",  "ngram_range",
                                       "binary",     "vocabulary",  "alternate_sign", "norm",
                                       "idf",        "sublinear_tf"};
    check_keys(L, v, p, keys, 10);
    static const char *const kinds[] = {"count", "hashing", "tfidf"};
    int kind = 0;
    json_t *k = member(L, v, p, "vectorizer", true, "count, hashing or tfidf");
    if (!k || !get_enum(L, k, JKEY(p, "vectorizer"), kinds, 3, &kind)) return;
    t->hashing = kind == 1;
    get_bool(L, v, p, "lowercase", &t->lowercase);
    get_bool(L, v, p, "binary", &t->binary);
    static const char *const patterns[] = {"(?u)\\b\\w\\w+\\b", "(?u)\\b\\w+\\b"};
    int pat = 0;
    json_t *tp = member(L, v, p, "token_pattern", true, "(?u)\\b\\w\\w+\\b");
    if (tp) get_enum(L, tp, JKEY(p, "token_pattern"), patterns, 2, &pat);
    t->min_token = pat == 0 ? 2 : 1;
    json_t *ng = member(L, v, p, "ngram_range", true, "[min_n, max_n]");
    t->ngram_min = t->ngram_max = 1;
    if (ng) {
        const jpath *pn = JKEY(p, "ngram_range");
        long long lo = 0, hi = 0;
        if (!json_is_array(ng) || json_array_size(ng) != 2)
            fail_at(L, SR_E_WRONG_TYPE, pn, "expected [min_n, max_n], not %s", json_kind(ng));
        else if (get_int(L, json_array_get(ng, 0), JIDX(pn, 0), 1, 64, &lo) &&
                 get_int(L, json_array_get(ng, 1), JIDX(pn, 1), lo, 64, &hi)) {
            t->ngram_min = (int)lo;
            t->ngram_max = (int)hi;
        }
    }
    static const char *const norms[] = {"l1", "l2"};
    json_t *nv = json_object_get(v, "norm");
    if (kind == 0 && nv && !json_is_null(nv)) {
        fail_at(L, SR_E_SETTING_NOT_HERE, JKEY(p, "norm"), "a count vectorizer has no norm (null)");
    } else if (kind != 0) {
        nv = member(L, v, p, "norm", true, "l1, l2 or null");
        int which = 0;
        if (nv && !json_is_null(nv) && !json_is_string(nv))
            fail_at(L, SR_E_WRONG_TYPE, JKEY(p, "norm"), "expected l1, l2 or null, not %s",
                    json_kind(nv));
        else if (nv && !json_is_null(nv) && get_enum(L, nv, JKEY(p, "norm"), norms, 2, &which))
            t->norm = which == 0 ? SR_NORM_L1 : SR_NORM_L2;
    }
    if (t->hashing) {
        get_bool(L, v, p, "alternate_sign", &t->alternate_sign);
        static const char *const not_hashing[] = {"vocabulary", "idf", "sublinear_tf"};
        for (int i = 0; i < 3; i++)
            if (json_object_get(v, not_hashing[i]))
                fail_at(L, SR_E_SETTING_NOT_HERE, JKEYNAME(p, not_hashing[i]),
                        "a hashing vectorizer has no %s", not_hashing[i]);
        return;
    }
    if (json_object_get(v, "alternate_sign"))
        fail_at(L, SR_E_SETTING_NOT_HERE, JKEYNAME(p, "alternate_sign"),
                "only a hashing vectorizer has alternate_sign");
    if (kind == 2) {
        json_t *sl = json_object_get(v, "sublinear_tf");
        if (sl) get_bool(L, v, p, "sublinear_tf", &t->sublinear_tf);
        json_t *idf = json_object_get(v, "idf");
        if (idf) {
            t->idf = sr_xcalloc((size_t)width, sizeof(double));
            get_numbers(L, idf, JKEY(p, "idf"), (size_t)width, t->idf);
        }
    } else if (json_object_get(v, "idf") || json_object_get(v, "sublinear_tf")) {
        fail_at(L, SR_E_SETTING_NOT_HERE, p, "idf and sublinear_tf belong to a tfidf vectorizer");
    }
    json_t *voc = member(L, v, p, "vocabulary", true, "term: column");
    if (!voc) return;
    const jpath *pv = JKEY(p, "vocabulary");
    if (!json_is_object(voc) || json_object_size(voc) != (size_t)width) {
        fail_at(L, SR_E_MODEL_PACKAGE, pv,
                "expected an object of %d terms (term: column 0 to %d), not %s", width, width - 1,
                json_is_object(voc) ? "another number of terms" : json_kind(voc));
        return;
    }
    bool *seen = sr_xcalloc((size_t)width, sizeof(bool));
    const char *term;
    json_t *col;
    json_object_foreach(voc, term, col)
    {
        long long c = 0;
        if (!get_int(L, col, JKEY(pv, term), 0, width - 1, &c)) continue;
        if (seen[c])
            fail_at(L, SR_E_DUPLICATE, JKEY(pv, term), "column %lld is another term's too", c);
        seen[c] = true;
        sr_text_vocab_add(t, term, strlen(term), (int32_t)c); /* keys are distinct: JSON object */
    }
    free(seen);
}

/* ---- model.json ------------------------------------------------------------------------- */

static void load_model(loader *L, const json_t *doc, const sr_srcfile *config, bool has_labels)
{
    sr_model *m = L->m;
    const jpath *p = NULL;
    json_t *fmt = member(L, doc, p, "format", true, "\"" MODEL_FORMAT "\"");
    if (fmt && (!json_is_string(fmt) || strcmp(json_string_value(fmt), MODEL_FORMAT) != 0))
        fail_at(L, SR_E_NOT_A_CHOICE, JKEY(p, "format"), "expected \"" MODEL_FORMAT "\"");
    json_t *ver = member(L, doc, p, "version", true, "1");
    long long version = 0;
    if (ver && get_int(L, ver, JKEY(p, "version"), 1, LLONG_MAX, &version) &&
        version != MODEL_VERSION)
        fail_at(L, SR_E_MODEL_PACKAGE, JKEY(p, "version"),
                "%lld is newer than the version this streamrun reads (%d)", version, MODEL_VERSION);
    json_t *kind = member(L, doc, p, "kind", true, "the kind of model");
    int k = -1;
    if (!kind || !get_enum(L, kind, JKEY(p, "kind"), kind_names, 5, &k)) return;
    m->kind = (sr_model_kind)k;

    json_t *text = json_object_get(doc, "text");
    json_t *nf =
        member(L, doc, p, "n_features", true,
               text ? "the number of columns the vectorizer makes" : "the number of inputs");
    long long n = 0;
    bool nf_ok = nf && get_int(L, nf, JKEY(p, "n_features"), 1, INT_MAX, &n);
    if (text) {
        if (m->kind != SR_MODEL_LINEAR_REGRESSION && m->kind != SR_MODEL_LOGISTIC_REGRESSION)
            fail_at(L, SR_E_MODEL_INPUTS, JKEYNAME(p, "text"),
                    "a vectorized text feeds a linear_regression or logistic_regression, not a %s",
                    kind_names[k]);
        else if (m->nfeatures != 1 || m->fields[0].type != SR_FIELD_STRING)
            sr_errc(
                L->dg, SR_E_MODEL_INPUTS, config, locate(config, JKEY(NULL, "input_schema")),
                "input_schema: a text model takes one STRING field (the text), not %d field%s%s",
                m->nfeatures, m->nfeatures == 1 ? " of type " : "s",
                m->nfeatures == 1 ? sr_field_type_name(m->fields[0].type) : "");
        else if (nf_ok)
            load_text(L, text, JKEY(p, "text"), (int)n);
    } else if (nf_ok && n != m->nfeatures) {
        fail_at(L, SR_E_MODEL_INPUTS, JKEY(p, "n_features"),
                "the model takes %lld inputs, but %s's input_schema has %d fields", n, config->path,
                m->nfeatures);
    }
    for (int i = 0; i < m->nfeatures && !text; i++)
        if (m->fields[i].type == SR_FIELD_STRING)
            sr_errc(L->dg, SR_E_MODEL_INPUTS, config,
                    locate(config, JKEY(JKEY(NULL, "input_schema"), m->fields[i].name)),
                    "input_schema.%s: a %s takes numbers (INTEGER or DOUBLE), not STRING (a "
                    "text model has a \"text\" vectorizer in its model file)",
                    m->fields[i].name, kind_names[k]);
    if (L->dg->nerrors > L->before) return; /* the rest is sized by n_features */

    bool classifier;
    if (m->kind == SR_MODEL_LINEAR_REGRESSION) {
        classifier = false;
    } else if (m->kind == SR_MODEL_LOGISTIC_REGRESSION) {
        classifier = true;
    } else {
        int task = 0;
        json_t *t = member(L, doc, p, "task", true, "classification or regression");
        if (!t || !get_enum(L, t, JKEY(p, "task"), task_names, 2, &task)) return;
        classifier = task == 0;
        json_t *nc = json_object_get(doc, "n_classes");
        long long ncl = 0;
        if (!classifier && nc) {
            fail_at(L, SR_E_SETTING_NOT_HERE, JKEY(p, "n_classes"), "a regression has no classes");
            return;
        }
        if (classifier &&
            (!member(L, doc, p, "n_classes", true, "the number of classes, at least 2") ||
             !get_int(L, nc, JKEY(p, "n_classes"), 2, INT_MAX, &ncl)))
            return;
        if (classifier && has_labels && ncl != m->nclasses) {
            fail_at(L, SR_E_MODEL_INPUTS, JKEY(p, "n_classes"),
                    "%lld classes, but %s's output_labels has %d", ncl, config->path, m->nclasses);
            return;
        }
    }
    if (classifier && !has_labels) {
        sr_errc(L->dg, SR_E_MISSING_KEY, config, (sr_mark){1, 1, 1},
                "missing 'output_labels' (class index: name): the model is a %s classifier",
                kind_names[k]);
        return;
    }
    if (!classifier && has_labels) {
        sr_errc(L->dg, SR_E_SETTING_NOT_HERE, config, locate(config, JKEY(NULL, "output_labels")),
                "output_labels: the model is a regressor (a %s%s), it has no classes",
                kind_names[k], m->kind == SR_MODEL_LINEAR_REGRESSION ? "" : " regression");
        return;
    }
    if (!classifier) m->nclasses = 0;
    m->noutputs = classifier ? m->nclasses : 1;

    switch (m->kind) {
    case SR_MODEL_LINEAR_REGRESSION:
    case SR_MODEL_LOGISTIC_REGRESSION:
        load_linear(L, doc, p, m->kind == SR_MODEL_LOGISTIC_REGRESSION);
        break;
    case SR_MODEL_DECISION_TREE:
    case SR_MODEL_RANDOM_FOREST: load_forest(L, doc, p, m->kind == SR_MODEL_DECISION_TREE); break;
    case SR_MODEL_GRADIENT_BOOSTING: load_boosting(L, doc, p); break;
    }
}

/* ---- the package ------------------------------------------------------------------------ */

int sr_model_load(sr_model **out, const char *dir, sr_diag *dg)
{
    *out = NULL;
    int before = dg->nerrors;
    sr_model *m = sr_xcalloc(1, sizeof(*m));
    json_t *cfg = NULL, *doc = NULL;
    char *cfg_path = NULL, *model_path = NULL;
    if (asprintf(&cfg_path, "%s/config.json", dir) < 0) abort();
    const sr_srcfile *cf = NULL;
    cfg = load_json(dg, cfg_path, &cf);
    if (!cfg) goto fail;

    loader L = {.dg = dg, .f = cf, .m = m, .before = before};
    static const char *const cfg_keys[] = {"input_schema", "output_labels", "model"};
    check_keys(&L, cfg, NULL, cfg_keys, 3);
    json_t *schema = member(&L, cfg, NULL, "input_schema", true,
                            "field: STRING | INTEGER | DOUBLE, in the model's input order");
    if (schema) load_schema(&L, schema, JKEY(NULL, "input_schema"));
    json_t *labels = json_object_get(cfg, "output_labels");
    if (labels) load_labels(&L, labels, JKEY(NULL, "output_labels"));
    const char *file = "model.json";
    json_t *mf = json_object_get(cfg, "model");
    if (mf) {
        if (!json_is_string(mf) || json_string_length(mf) == 0 || json_string_value(mf)[0] == '/')
            fail_at(&L, SR_E_WRONG_TYPE, JKEY(NULL, "model"),
                    "expected the model file's name, relative to the package directory");
        else
            file = json_string_value(mf);
    }
    if (dg->nerrors > before) goto fail;
    m->file = sr_xstrdup(file);

    if (asprintf(&model_path, "%s/%s", dir, file) < 0) abort();
    const sr_srcfile *mfile = NULL;
    doc = load_json(dg, model_path, &mfile);
    if (!doc) goto fail;
    L.f = mfile;
    load_model(&L, doc, cf, labels != NULL);
    if (dg->nerrors > before) goto fail;

    json_decref(cfg);
    json_decref(doc);
    free(cfg_path);
    free(model_path);
    if (m->nclasses) {
        m->label_len = sr_xcalloc((size_t)m->nclasses, sizeof(*m->label_len));
        for (int k = 0; k < m->nclasses; k++) m->label_len[k] = (uint32_t)strlen(m->labels[k]);
    }
    *out = m;
    return 0;
fail:
    json_decref(cfg);
    json_decref(doc);
    free(cfg_path);
    free(model_path);
    sr_model_destroy(m);
    return -1;
}

void sr_model_destroy(sr_model *m)
{
    if (!m) return;
    free(m->file);
    for (int i = 0; i < m->nfeatures; i++) free(m->fields[i].name);
    free(m->fields);
    for (int i = 0; m->labels && i < m->nclasses; i++) free(m->labels[i]);
    free(m->labels);
    free(m->label_len);
    sr_model_free_scoring(m);
    free(m);
}

void sr_model_free_scoring(sr_model *m)
{
    free(m->coef);
    free(m->intercept);
    free(m->nodes);
    free(m->roots);
    free(m->values);
    free(m->init);
    sr_text_model_free(m->text);
    m->coef = m->intercept = m->values = m->init = NULL;
    m->nodes = NULL;
    m->roots = NULL;
    m->text = NULL;
}
