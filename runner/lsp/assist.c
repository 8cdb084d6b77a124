/* assist.c — completion, hover and go-to-definition in a topology file, from the tables that
 * generate the JSON Schema (operators and their parameters, functions) and the loaded file. */
#include "lsp/lsp.h"
#include "cmd/cli.h"
#include "load/expr.h"
#include "load/table.h"
#include "load/topology.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* CompletionItemKind values */
enum { K_FUNCTION = 3, K_FIELD = 5, K_MODULE = 9, K_PROPERTY = 10, K_VALUE = 12, K_KEYWORD = 14 };

/* ---- reading the lines around a position -----------------------------------------------------
 * The text being typed often does not parse: the context is read from the lines themselves, as
 * block YAML lays them out (a key's children are indented more than the key). */

typedef struct yline {
    bool blank;      /* empty or a comment */
    int indent;      /* bytes before the first non-space */
    bool item;       /* starts with "- " */
    int keycol;      /* where the node starts: after "- " for an item */
    const char *key; /* "key:" at keycol, or NULL */
    size_t keylen;
    int restcol; /* after "key:" and spaces */
} yline;

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static yline parse_line(const char *s, size_t n)
{
    yline y = {0};
    size_t i = 0;
    while (i < n && s[i] == ' ') i++;
    y.indent = (int)i;
    if (i == n || s[i] == '#') {
        y.blank = true;
        return y;
    }
    if (s[i] == '-' && (i + 1 == n || s[i + 1] == ' ')) {
        y.item = true;
        i++;
        while (i < n && s[i] == ' ') i++;
    }
    y.keycol = (int)i;
    size_t k = i;
    while (k < n && name_char(s[k])) k++;
    if (k > i && k < n && s[k] == ':' && (k + 1 == n || s[k + 1] == ' ')) {
        y.key = s + i;
        y.keylen = k - i;
        k++;
        while (k < n && s[k] == ' ') k++;
        y.restcol = (int)k;
    }
    return y;
}

static bool key_is(const yline *y, const char *k)
{
    return y->key && y->keylen == strlen(k) && memcmp(y->key, k, y->keylen) == 0;
}

static yline line_of(const sr_lsp_text *d, int line)
{
    size_t s = 0, e = 0;
    if (!sr_lsp_line(d, line, &s, &e)) return (yline){.blank = true};
    return parse_line(d->text + s, e - s);
}

/* The line that holds the node starting at column col of line `line` (a key, or with item, a
 * "- " at col): the nearest line above with a key further left; for an item, a key-only line at
 * the same column holds it too (a sequence not indented under its key). -1 when none. */
static int parent_line(const sr_lsp_text *d, int line, int col, bool item, yline *out)
{
    for (int i = line - 1; i >= 0; i--) {
        yline y = line_of(d, i);
        if (y.blank) continue;
        size_t s = 0, e = 0;
        sr_lsp_line(d, i, &s, &e);
        bool key_only = y.key && (size_t)y.restcol >= e - s;
        if (y.key && (y.keycol < col || (item && !y.item && y.keycol == col && key_only))) {
            *out = y;
            return i;
        }
        if (y.indent < col) col = y.indent; /* out of a deeper node: now under that one */
    }
    return -1;
}

static const sr_operator_type *op_named(const char *s, size_t n)
{
    for (int i = 0; sr_operators[i]; i++)
        if (strlen(sr_operators[i]->name) == n && memcmp(sr_operators[i]->name, s, n) == 0)
            return sr_operators[i];
    return NULL;
}

static const sr_param *param_named(const sr_param *ps, const char *s, size_t n)
{
    for (const sr_param *p = ps; p && p->name; p++)
        if (strlen(p->name) == n && memcmp(p->name, s, n) == 0) return p;
    return NULL;
}

static const sr_param *primary_of(const sr_operator_type *t)
{
    return t->primary ? param_named(t->params, t->primary, strlen(t->primary)) : NULL;
}

/* The operator of the step whose settings mapping holds line `line` at column col; *opline: the
 * step's line. */
static const sr_operator_type *enclosing_op(const sr_lsp_text *d, int line, int col, int *opline)
{
    yline p;
    int pl = parent_line(d, line, col, false, &p);
    if (pl < 0 || !p.item) return NULL;
    *opline = pl;
    return op_named(p.key, p.keylen);
}

/* Whether `name` takes a topic: a deployment's input, output or deadLetter, or a parameter of
 * topic type in an operator's or the tables' parameters. */
static bool topic_param_in(const sr_param *ps, const char *s, size_t n)
{
    for (const sr_param *p = ps; p && p->name; p++) {
        if (p->type == SR_P_TOPIC && strlen(p->name) == n && memcmp(p->name, s, n) == 0)
            return true;
        if (p->type == SR_P_LIST && topic_param_in(p->sub, s, n)) return true;
    }
    return false;
}

static bool takes_topic(const char *s, size_t n)
{
    static const char *const keys[] = {"input", "output", "deadLetter"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i]) == n && memcmp(keys[i], s, n) == 0) return true;
    if (topic_param_in(sr_table_params, s, n)) return true;
    for (int i = 0; sr_operators[i]; i++)
        if (topic_param_in(sr_operators[i]->params, s, n)) return true;
    return false;
}

static bool is_expr(const sr_param *p)
{
    return p && (p->type == SR_P_EXPR || p->type == SR_P_EXPRMAP);
}

/* ---- completion items -------------------------------------------------------------------------
 */

/* Markdown of what fn prints (the reference's text), malloc'd. */
static char *docs_text(void (*fn)(FILE *, const void *), const void *what)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return sr_xstrdup("");
    fn(mem, what);
    fclose(mem);
    return text ? text : sr_xstrdup("");
}

static void op_doc(FILE *out, const void *t)
{
    sr_docs_operator(out, t);
}

static void func_doc(FILE *out, const void *f)
{
    fputs("| Function | Description | Example |\n| --- | --- | --- |\n", out);
    sr_docs_function(out, f);
}

static json_t *markdown(char *text) /* takes text */
{
    json_t *j = json_pack("{s:s,s:s}", "kind", "markdown", "value", text);
    free(text);
    return j ? j : json_pack("{s:s,s:s}", "kind", "plaintext", "value", "");
}

static void add_item(json_t *items, const char *label, int kind, const char *detail, json_t *doc)
{
    json_t *it = json_pack("{s:s,s:i}", "label", label, "kind", kind);
    if (!it) {
        json_decref(doc);
        return;
    }
    if (detail) json_object_set_new(it, "detail", json_string(detail));
    if (doc) json_object_set_new(it, "documentation", doc);
    json_array_append_new(items, it);
}

static void complete_ops(json_t *items)
{
    for (int i = 0; sr_operators[i]; i++)
        add_item(items, sr_operators[i]->name, K_KEYWORD, sr_operators[i]->summary,
                 markdown(docs_text(op_doc, sr_operators[i])));
}

static void complete_params(json_t *items, const sr_param *ps)
{
    for (const sr_param *p = ps; p && p->name; p++)
        add_item(items, p->name, K_PROPERTY, p->doc, NULL);
}

static void complete_words(json_t *items, const char *const *words, int kind, const char *detail)
{
    for (int i = 0; words[i]; i++) add_item(items, words[i], kind, detail, NULL);
}

static void complete_funcs(json_t *items)
{
    for (int i = 0; i < sr_func_count(); i++) {
        const sr_func_doc *f = sr_func_doc_at(i);
        add_item(items, f->name, K_FUNCTION, f->signature, markdown(docs_text(func_doc, f)));
    }
}

static void complete_topics(json_t *items, const sr_topology *t)
{
    for (int i = 0; t && i < t->ntopics; i++)
        if (t->topics[i]->declared && !t->topics[i]->internal)
            add_item(items, t->topics[i]->name, K_VALUE, "topic", NULL);
}

static void complete_tables(json_t *items, const sr_topology *t)
{
    for (int i = 0; t && i < t->ntables; i++)
        add_item(items, t->tables[i]->name, K_VALUE, "table", NULL);
}

static void complete_deps(json_t *items, const sr_topology *t)
{
    for (int i = 0; t && i < t->ndeps; i++)
        if (t->deps[i].stage == 1) add_item(items, t->deps[i].name, K_MODULE, "deployment", NULL);
}

/* The fields the loader knows where the step written at 0-based line opline reads, or NULL. */
static const sr_schema *reads_at(const sr_topology *t, int opline)
{
    const sr_ynode *deps = t->doc.root ? sr_ymap_get(t->doc.root, "deployments") : NULL;
    for (int j = 0; deps && deps->kind == SR_Y_SEQ && j < deps->nkids; j++) {
        const sr_ynode *pl = sr_ymap_get(deps->kids[j], "pipeline");
        const sr_ynode *name = sr_ymap_get(deps->kids[j], "name");
        for (int i = 0; pl && pl->kind == SR_Y_SEQ && i < pl->nkids; i++) {
            if (pl->kids[i]->mark.line - 1 != opline) continue;
            const sr_deployment *dep =
                sr_yis_scalar(name) ? sr_topology_deployment(t, name->text) : NULL;
            return dep && i < dep->nreads ? &dep->reads[i] : NULL;
        }
    }
    return NULL;
}

static void complete_fields(json_t *items, const sr_topology *t, int opline)
{
    const sr_schema *s = t ? reads_at(t, opline) : NULL;
    for (int i = 0; s && i < s->n; i++) add_item(items, s->names[i], K_FIELD, "field", NULL);
}

/* What value KEY (on a line like `key:` at yl) takes, completing into items: topics, tables,
 * deployments, or an expression's functions. op is the step KEY is a setting of (NULL: none);
 * as_op: KEY is the step's operator itself (`- filter: ...`). Returns whether it knew. */
static bool complete_value(json_t *items, const sr_topology *t, const char *key, size_t keylen,
                           const sr_operator_type *op, bool as_op, bool in_exprmap)
{
    const sr_param *p = NULL;
    if (as_op) {
        p = primary_of(op);
    } else if (op) {
        p = param_named(op->params, key, keylen);
    }
    if ((p && p->type == SR_P_TOPIC) || (!op && takes_topic(key, keylen))) {
        complete_topics(items, t);
        return true;
    }
    if (!op && keylen == 7 && memcmp(key, "compare", 7) == 0) {
        complete_words(items, sr_test_compare_modes, K_VALUE, "compare");
        return true;
    }
    if ((keylen == 10 && memcmp(key, "deployment", 10) == 0) ||
        (keylen == 11 && memcmp(key, "deployments", 11) == 0)) {
        complete_deps(items, t);
        return true;
    }
    if (op && p && strcmp(op->name, "lookup") == 0 && strcmp(p->name, "table") == 0) {
        complete_tables(items, t);
        return true;
    }
    if ((p && p->type == SR_P_EXPR) || (as_op && p && p->type == SR_P_EXPRMAP) || in_exprmap) {
        complete_funcs(items);
        return true;
    }
    return false;
}

json_t *sr_lsp_completion(const sr_lsp_text *d, const sr_topology *t, bool fresh, bool tests,
                          int line, size_t col)
{
    json_t *items = json_array();
    size_t s = 0, e = 0;
    if (!sr_lsp_line(d, line, &s, &e)) goto done;
    const char *ln = d->text + s;
    if (col > e - s) col = e - s;
    assert(s + col <= d->len);
    size_t ws = col; /* where the word being typed starts */
    while (ws > 0 && name_char(ln[ws - 1])) ws--;
    yline cur = parse_line(ln, ws);

    if (cur.blank || (!cur.key && (size_t)cur.keycol == ws)) {
        /* a key or a list item being typed at column ws */
        yline p;
        int pl = parent_line(d, line, cur.item ? cur.indent : (int)ws, cur.item, &p);
        if (pl < 0) {
            if (tests && !cur.item && ws == 0)
                complete_words(items, sr_test_file_keys, K_PROPERTY, "test file");
            goto done;
        }
        if (cur.item) {
            if (key_is(&p, "pipeline"))
                complete_ops(items);
            else if (key_is(&p, "tests") && p.keycol == 0)
                complete_words(items, sr_test_case_keys, K_PROPERTY, "test case");
            else if (!p.item || !op_named(p.key, p.keylen))
                complete_value(items, t, p.key, p.keylen, NULL, false, false);
        } else if (p.item && op_named(p.key, p.keylen)) {
            complete_params(items, op_named(p.key, p.keylen)->params);
        } else if (key_is(&p, "tests") && p.keycol == 0) { /* a key of a case, under its "- " */
            complete_words(items, sr_test_case_keys, K_PROPERTY, "test case");
        }
        goto done;
    }
    if (!cur.key) goto done;
    /* a value after `key:` (or `- key:`), possibly inside flow collections */
    const sr_operator_type *op = NULL;
    bool as_op = false;
    int opline = line;
    if (cur.item && (op = op_named(cur.key, cur.keylen)) != NULL)
        as_op = true;
    else
        op = enclosing_op(d, line, cur.keycol, &opline);
    /* inside `{...}`: the innermost open mapping's key, if the word is a key there */
    const char *key = cur.key;
    size_t keylen = cur.keylen;
    int depth = 0;
    size_t open = 0;
    for (size_t i = (size_t)cur.restcol; i < ws; i++) {
        if (ln[i] == '{') depth++, open = i;
        if (ln[i] == '}' && depth) depth--;
    }
    if (depth) {
        size_t k = ws;
        while (k > open + 1 && ln[k - 1] == ' ') k--;
        if (ln[k - 1] == '{' || ln[k - 1] == ',') { /* a key of the flow mapping */
            if (as_op) complete_params(items, op->params);
            goto done;
        }
        /* the key of the value being typed: the name before the last ':' */
        size_t c = ws;
        while (c > open && ln[c - 1] != ':' && ln[c - 1] != ',' && ln[c - 1] != '{') c--;
        if (c > open && ln[c - 1] == ':') {
            size_t ke = c - 1, kb = ke;
            while (kb > open + 1 && name_char(ln[kb - 1])) kb--;
            bool exprmap = as_op && primary_of(op) && primary_of(op)->type == SR_P_EXPRMAP &&
                           !param_named(op->params, ln + kb, ke - kb);
            if (complete_value(items, t, ln + kb, ke - kb, as_op ? op : NULL, false, exprmap) &&
                (exprmap || (as_op && is_expr(param_named(op->params, ln + kb, ke - kb)))))
                complete_fields(items, fresh ? t : NULL, opline);
        }
        goto done;
    }
    /* a block value; a setting of a mapping inside a step (`set:` of aggregate) reads as one */
    bool exprmap = false;
    if (!as_op && !op) {
        yline p;
        int pl = parent_line(d, line, cur.keycol, false, &p);
        if (pl >= 0 && p.item && (op = op_named(p.key, p.keylen)) != NULL) {
            opline = pl;
            exprmap = is_expr(primary_of(op)) && primary_of(op)->type == SR_P_EXPRMAP &&
                      !param_named(op->params, cur.key, cur.keylen);
        } else if (pl >= 0 && (op = enclosing_op(d, pl, p.keycol, &opline)) != NULL) {
            const sr_param *mp = param_named(op->params, p.key, p.keylen);
            exprmap = mp && mp->type == SR_P_EXPRMAP;
            op = exprmap ? op : NULL;
        }
    } else if (!as_op && op) {
        exprmap = primary_of(op) && primary_of(op)->type == SR_P_EXPRMAP &&
                  !param_named(op->params, cur.key, cur.keylen);
    }
    if (!complete_value(items, t, key, keylen, exprmap ? NULL : op, as_op, exprmap)) goto done;
    if (exprmap || is_expr(as_op ? primary_of(op)
                           : op  ? param_named(op->params, key, keylen)
                                 : NULL))
        complete_fields(items, fresh ? t : NULL, opline);
done:
    return json_pack("{s:b,s:o}", "isIncomplete", 0, "items", items);
}

/* ---- hover ------------------------------------------------------------------------------------
 */

/* The word of chars ok() around col: [*b, *e). false when there is none. */
static bool word_at(const char *ln, size_t n, size_t col, bool (*ok)(char), size_t *b, size_t *e)
{
    size_t i = col < n ? col : n, j = i;
    while (i > 0 && ok(ln[i - 1])) i--;
    while (j < n && ok(ln[j])) j++;
    *b = i;
    *e = j;
    return j > i;
}

static json_t *hover_of(char *md)
{
    return json_pack("{s:o}", "contents", markdown(md));
}

json_t *sr_lsp_hover(const sr_lsp_text *d, const sr_topology *t, int line, size_t col)
{
    (void)t;
    size_t s = 0, e = 0, b, w;
    if (!sr_lsp_line(d, line, &s, &e)) return json_null();
    const char *ln = d->text + s;
    size_t n = e - s;
    if (!word_at(ln, n, col, ident_char, &b, &w)) return json_null();
    yline cur = parse_line(ln, n);
    const sr_operator_type *op = op_named(ln + b, w - b);
    if (op && cur.item && cur.keycol == (int)b) return hover_of(docs_text(op_doc, op));
    size_t k = w;
    while (k < n && ln[k] == ' ') k++;
    if (k < n && ln[k] == '(') {
        for (int i = 0; i < sr_func_count(); i++) {
            const sr_func_doc *f = sr_func_doc_at(i);
            if (strlen(f->name) == w - b && memcmp(f->name, ln + b, w - b) == 0)
                return hover_of(docs_text(func_doc, f));
        }
        return json_null();
    }
    if (k < n && ln[k] == ':') { /* a setting: of the step on this line, or the one above */
        const sr_operator_type *in = NULL;
        int opline;
        if (cur.item && cur.key && (size_t)cur.keycol < b)
            in = op_named(cur.key, cur.keylen);
        else if (cur.key && (size_t)cur.keycol == b)
            in = enclosing_op(d, line, cur.keycol, &opline);
        const sr_param *p = in ? param_named(in->params, ln + b, w - b) : NULL;
        if (!p) return json_null();
        sr_buf md = {0};
        sr_buf_printf(&md, "`%s` (%s): %s", p->name, in->name, p->doc);
        if (p->def) sr_buf_printf(&md, " (default `%s`)", p->def);
        if ((p->flags & SR_PF_REQUIRED) && !p->def) sr_buf_puts(&md, " (required)");
        sr_buf_cstr(&md);
        return hover_of(md.d);
    }
    return json_null();
}

/* ---- definition -------------------------------------------------------------------------------
 */

json_t *sr_lsp_definition(const sr_lsp_text *d, const sr_topology *t, const sr_lsp_text *td,
                          const char *uri, int line, size_t col)
{
    size_t s = 0, e = 0, b, w;
    if (!t || !sr_lsp_line(d, line, &s, &e)) return json_null();
    if (!word_at(d->text + s, e - s, col, name_char, &b, &w)) return json_null();
    char *name = sr_xstrndup(d->text + s + b, w - b);
    const sr_srcfile *f = NULL;
    sr_mark m = {0};
    const sr_topic *tp = sr_topology_topic(t, name);
    const sr_table *tb = sr_topology_table(t, name);
    const sr_deployment *dp = sr_topology_deployment(t, name);
    if (tp && tp->declared) {
        f = tp->file;
        m = tp->mark;
    } else if (tb) {
        f = tb->file;
        m = tb->mark;
    } else if (dp) {
        f = dp->file;
        m = dp->mark;
    }
    free(name);
    if (!f || f != t->doc.file || m.line < 1) return json_null();
    json_t *start = sr_lsp_position(td, m.line, m.col);
    json_t *end = sr_lsp_position(td, m.line, m.col + m.len);
    return json_pack("{s:s,s:{s:o,s:o}}", "uri", uri, "range", "start", start, "end", end);
}
