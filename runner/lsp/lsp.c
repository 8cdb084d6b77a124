/* lsp.c — the language server: its lifecycle, open documents and their diagnostics. */
#include "lsp/lsp.h"
#include "cmd/cli.h"
#include "load/topology.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* JSON-RPC and LSP error codes */
enum {
    PARSE_ERROR = -32700,
    INVALID_REQUEST = -32600,
    METHOD_NOT_FOUND = -32601,
    INVALID_PARAMS = -32602,
    SERVER_NOT_INITIALIZED = -32002,
};

/* An open document: the client's text, and the topology last loaded from a text of it that
 * parsed (its marks point into tdg's copy of that text). */
typedef struct doc {
    char *uri;
    char *path; /* the file the uri names: diagnostics' file, base of relative paths */
    char *text;
    size_t len;
    size_t *lines; /* sr_lsp_index_lines of text */
    int nlines;
    sr_topology *t; /* NULL: no text of it parsed yet */
    sr_diag *tdg;   /* owns the source text t's marks refer to */
    bool stale;     /* t is from an older text (the current one does not parse) */
    char *topo;     /* a tests file NAME.tests.yaml: its topology's path (t is that topology),
                       else NULL */
} doc;

typedef struct server {
    FILE *out;
    doc *docs;
    int ndocs, capdocs;
    sr_lsp_encoding enc;
    bool initialized, shutdown, exit;
} server;

/* ---- positions ------------------------------------------------------------------------------ */

size_t *sr_lsp_index_lines(const char *text, size_t len, int *n)
{
    int cap = 16;
    size_t *v = sr_xmalloc((size_t)cap * sizeof(*v));
    *n = 0;
    v[(*n)++] = 0;
    for (const char *p = text, *end = text + len; (p = memchr(p, '\n', (size_t)(end - p))); p++) {
        if (*n == cap) v = sr_xrealloc(v, (size_t)(cap *= 2) * sizeof(*v));
        v[(*n)++] = (size_t)(p - text) + 1;
    }
    return v;
}

bool sr_lsp_line(const sr_lsp_text *d, int line, size_t *start, size_t *end)
{
    if (line < 0 || line >= d->nlines) return false;
    size_t p = d->lines[line];
    size_t e = line + 1 < d->nlines ? d->lines[line + 1] - 1 : d->len;
    if (e > p && d->text[e - 1] == '\r') e--;
    assert(p <= e && e <= d->len);
    *start = p;
    *end = e;
    return true;
}

/* UTF-16 code units of the UTF-8 character that starts with byte c: 2 for 4-byte sequences
 * (outside the BMP), 0 for a continuation byte, else 1 (an invalid byte counts as one). */
static int utf16_units(unsigned char c)
{
    if ((c & 0xC0) == 0x80) return 0;
    return c >= 0xF0 ? 2 : 1;
}

int sr_lsp_char_of(const sr_lsp_text *d, int line, size_t bytes)
{
    size_t s = 0, e = 0;
    if (!sr_lsp_line(d, line, &s, &e)) return 0;
    if (bytes > e - s) bytes = e - s;
    if (d->enc == SR_LSP_UTF8) return (int)bytes;
    int n = 0;
    for (size_t i = 0; i < bytes; i++) n += utf16_units((unsigned char)d->text[s + i]);
    return n;
}

size_t sr_lsp_byte_of(const sr_lsp_text *d, int line, int ch)
{
    size_t s = 0, e = 0;
    if (!sr_lsp_line(d, line, &s, &e) || ch <= 0) return 0;
    if (d->enc == SR_LSP_UTF8) return (size_t)ch < e - s ? (size_t)ch : e - s;
    int n = 0;
    size_t i = 0;
    while (s + i < e && n < ch) { /* one character: its lead byte, then its continuation bytes */
        n += utf16_units((unsigned char)d->text[s + i]);
        i++;
        while (s + i < e && utf16_units((unsigned char)d->text[s + i]) == 0) i++;
    }
    return i;
}

json_t *sr_lsp_position(const sr_lsp_text *d, int line1, int col1)
{
    int line = line1 > 0 ? line1 - 1 : 0;
    size_t col = col1 > 0 ? (size_t)(col1 - 1) : 0;
    return json_pack("{s:i,s:i}", "line", line, "character", sr_lsp_char_of(d, line, col));
}

/* ---- messages ------------------------------------------------------------------------------- */

static void send(server *s, json_t *msg)
{
    if (msg && sr_lsp_write(s->out, msg) != 0) s->exit = true; /* the client is gone */
    json_decref(msg);
}

/* id is borrowed; result is stolen. */
static void respond(server *s, json_t *id, json_t *result)
{
    send(s, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "result",
                      result ? result : json_null()));
}

static void respond_error(server *s, json_t *id, int code, const char *message)
{
    send(s, json_pack("{s:s,s:O,s:{s:i,s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
                      "error", "code", code, "message", message));
}

/* A JSON string of s; bytes that are not UTF-8 become '?'. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s);
    if (j) return j;
    char *c = sr_xstrdup(s);
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80) *p = '?';
    j = json_string(c);
    free(c);
    return j ? j : json_string("");
}

/* ---- documents ------------------------------------------------------------------------------ */

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* The file a document's uri names: file:///a%20b/c.yaml -> "/a b/c.yaml"; another scheme
 * (untitled:) -> the uri as a name in the working directory. Malloc'd. */
static char *uri_path(const char *uri)
{
    if (strncmp(uri, "file://", 7) != 0) {
        const char *colon = strchr(uri, ':');
        return sr_xstrdup(colon && colon[1] ? colon + 1 : uri);
    }
    const char *p = uri + 7;
    if (*p != '/') p = strchr(p, '/') ? strchr(p, '/') : p; /* file://host/path */
    sr_buf b = {0};
    for (; *p; p++) {
        int h1, h2;
        if (*p == '%' && (h1 = hexval((unsigned char)p[1])) >= 0 &&
            (h2 = hexval((unsigned char)p[2])) >= 0 && (h1 || h2)) {
            sr_buf_putc(&b, (char)(h1 * 16 + h2));
            p += 2;
        } else {
            sr_buf_putc(&b, *p);
        }
    }
    sr_buf_cstr(&b);
    return b.d;
}

static doc *find_doc(server *s, const char *uri)
{
    for (int i = 0; i < s->ndocs; i++)
        if (strcmp(s->docs[i].uri, uri) == 0) return &s->docs[i];
    return NULL;
}

/* The open document of the file path (a topology, not a tests file), or NULL. */
static doc *find_doc_path(server *s, const char *path)
{
    for (int i = 0; i < s->ndocs; i++)
        if (!s->docs[i].topo && strcmp(s->docs[i].path, path) == 0) return &s->docs[i];
    return NULL;
}

/* The open document params.textDocument.uri names, or NULL. */
static doc *doc_of(server *s, json_t *params)
{
    const char *uri =
        json_string_value(json_object_get(json_object_get(params, "textDocument"), "uri"));
    return uri ? find_doc(s, uri) : NULL;
}

static void drop_topology(doc *d)
{
    sr_topology_free(d->t);
    if (d->tdg) sr_diag_free(d->tdg);
    free(d->tdg);
    d->t = NULL;
    d->tdg = NULL;
}

static void free_doc(doc *d)
{
    drop_topology(d);
    free(d->uri);
    free(d->path);
    free(d->topo);
    free(d->text);
    free(d->lines);
}

static sr_lsp_text text_of(const server *s, const doc *d)
{
    return (sr_lsp_text){
        .text = d->text, .len = d->len, .lines = d->lines, .nlines = d->nlines, .enc = s->enc};
}

static int sev_code(sr_severity sev)
{
    switch (sev) {
    case SR_ERROR: return 1;
    case SR_WARNING: return 2;
    case SR_NOTE: return 3;
    }
    return 1;
}

/* Checks the tests file d as `validate` checks it: against its topology d->topo, the open
 * document of that file when there is one, else the file on disk. Returns the topology when it
 * loaded (its texts and d's are in dg). When the topology does not load, its errors are not d's:
 * d gets one error saying so, with the first of them as its related place. */
static sr_topology *check_tests(server *s, doc *d, sr_diag *dg)
{
    assert(d->topo);
    const doc *td = find_doc_path(s, d->topo);
    sr_topology *t = NULL;
    struct stat st;
    if (!td && stat(d->topo, &st) != 0) {
        sr_ydoc y = {0};
        sr_ydoc_parse(&y, d->path, d->text, d->len, dg);
        sr_cli_tests_without_topology(dg, y.file, y.root ? y.root->mark : (sr_mark){1, 1, 0},
                                      d->topo);
        sr_ydoc_free(&y);
        return NULL;
    }
    int r = td ? sr_topology_load_text(&t, td->path, td->text, td->len, dg)
               : sr_topology_load(&t, d->topo, dg);
    if (r == 0) {
        sr_tests_check_text(t, d->text, d->len, dg);
        return t;
    }
    int first = -1; /* the topology's first error */
    for (int i = 0; i < dg->n && first < 0; i++)
        if (dg->v[i].sev == SR_ERROR) first = i;
    int nerrors = dg->nerrors;
    const sr_srcfile *f = sr_diag_add_file(dg, d->path, sr_xstrndup(d->text, d->len), d->len);
    sr_errc(dg, SR_E_TESTS_TOPOLOGY_INVALID, f, (sr_mark){1, 1, 0},
            "the topology '%s' has %d error%s: these tests are checked once it loads", d->topo,
            nerrors, nerrors == 1 ? "" : "s");
    if (first >= 0) {
        const sr_diag_entry *e = &dg->v[first];
        sr_diag_related(dg, e->file, e->mark, "%s", e->msg);
    }
    sr_topology_free(t);
    return NULL;
}

/* The range of m in the document tx. */
static json_t *lsp_range(const sr_lsp_text *tx, sr_mark m)
{
    return json_pack("{s:o,s:o}", "start", sr_lsp_position(tx, m.line, m.col), "end",
                     sr_lsp_position(tx, m.line, m.col + (m.len > 0 ? m.len : 0)));
}

/* The LSP Diagnostic of e, at m in d: its code, its help line after the message (LSP has no
 * place of its own for it), its secondary places in d as relatedInformation. */
static json_t *lsp_diagnostic(const sr_lsp_text *tx, const doc *d, const sr_diag_entry *e,
                              sr_mark m)
{
    json_t *o = json_pack("{s:o,s:i,s:s}", "range", lsp_range(tx, m), "severity", sev_code(e->sev),
                          "source", "streamrun");
    if (sr_code_id(e->code)) json_object_set_new(o, "code", json_string(sr_code_id(e->code)));
    if (e->help) {
        sr_buf b = {0};
        sr_buf_printf(&b, "%s\nhelp: %s", e->msg, e->help);
        json_object_set_new(o, "message", jstr(sr_buf_cstr(&b)));
        sr_buf_free(&b);
    } else {
        json_object_set_new(o, "message", jstr(e->msg));
    }
    json_t *rel = json_array();
    for (int k = 0; k < e->nspans; k++) {
        const sr_diag_span *sp = &e->spans[k];
        if (!sp->file || strcmp(sp->file->path, d->path) != 0 || sp->mark.line < 1) continue;
        json_array_append_new(rel,
                              json_pack("{s:{s:s,s:o},s:o}", "location", "uri", d->uri, "range",
                                        lsp_range(tx, sp->mark), "message", jstr(sp->msg)));
    }
    if (json_array_size(rel))
        json_object_set_new(o, "relatedInformation", rel);
    else
        json_decref(rel);
    return o;
}

/* Loads d's text as `validate` loads a file, keeps the topology when the text parsed, and
 * publishes the diagnostics of d's own file (those of NAME.tests.yaml beside it are not d's). A
 * tests file NAME.tests.yaml is checked against its topology (check_tests). */
static void check_doc(server *s, doc *d)
{
    assert(d->text && d->lines && d->nlines >= 1);
    sr_diag *dg = sr_xcalloc(1, sizeof(*dg));
    sr_diag_init(dg);
    sr_topology *t = NULL;
    free(d->topo);
    d->topo = sr_cli_tests_topology_text(d->path, d->text, d->len);
    if (d->topo)
        t = check_tests(s, d, dg);
    else if (sr_topology_load_text(&t, d->path, d->text, d->len, dg) == 0)
        sr_tests_check(t, dg);
    if (t) sr_topology_refuse_unsafe(t, dg);
    sr_lsp_text tx = text_of(s, d);
    json_t *diags = json_array();
    for (int i = 0; i < dg->n; i++) {
        const sr_diag_entry *e = &dg->v[i];
        if (e->file && strcmp(e->file->path, d->path) != 0) continue;
        sr_mark m = e->file ? e->mark : (sr_mark){1, 1, 0};
        if (m.line < 1) m = (sr_mark){1, 1, 0};
        json_array_append_new(diags, lsp_diagnostic(&tx, d, e, m));
    }
    send(s, json_pack("{s:s,s:s,s:{s:s,s:o}}", "jsonrpc", "2.0", "method",
                      "textDocument/publishDiagnostics", "params", "uri", d->uri, "diagnostics",
                      diags));
    if (t) {
        drop_topology(d);
        d->t = t;
        d->tdg = dg;
        d->stale = false;
    } else {
        sr_diag_free(dg);
        free(dg);
        d->stale = true;
    }
}

static void set_text(doc *d, const char *text, size_t len)
{
    free(d->text);
    d->text = sr_xstrndup(text, len);
    d->len = len;
    free(d->lines);
    d->lines = sr_lsp_index_lines(d->text, len, &d->nlines);
}

/* Checks again the open tests files whose topology is the file path (after its document
 * changed, opened or closed: their topology's text is another). */
static void recheck_tests_of(server *s, const char *path)
{
    for (int i = 0; i < s->ndocs; i++)
        if (s->docs[i].topo && strcmp(s->docs[i].topo, path) == 0) check_doc(s, &s->docs[i]);
}

/* Checks d, then the tests files that d is the topology of. */
static void check_doc_and_tests(server *s, doc *d)
{
    check_doc(s, d);
    if (!d->topo) recheck_tests_of(s, d->path);
}

static void did_open(server *s, json_t *params)
{
    json_t *td = json_object_get(params, "textDocument");
    const char *uri = json_string_value(json_object_get(td, "uri"));
    json_t *text = json_object_get(td, "text");
    if (!uri || !json_is_string(text)) return;
    doc *d = find_doc(s, uri);
    if (!d) {
        if (s->ndocs == s->capdocs) {
            s->capdocs = s->capdocs ? 2 * s->capdocs : 4;
            s->docs = sr_xrealloc(s->docs, (size_t)s->capdocs * sizeof(*s->docs));
        }
        d = &s->docs[s->ndocs++];
        *d = (doc){.uri = sr_xstrdup(uri), .path = uri_path(uri)};
    }
    set_text(d, json_string_value(text), json_string_length(text));
    check_doc_and_tests(s, d);
}

static void did_change(server *s, json_t *params)
{
    doc *d = doc_of(s, params);
    json_t *changes = json_object_get(params, "contentChanges");
    if (!d || !json_is_array(changes) || json_array_size(changes) == 0) return;
    /* full synchronisation: the last change holds the whole text */
    json_t *text = json_object_get(json_array_get(changes, json_array_size(changes) - 1), "text");
    if (!json_is_string(text)) return;
    set_text(d, json_string_value(text), json_string_length(text));
    check_doc_and_tests(s, d);
}

static void did_close(server *s, json_t *params)
{
    doc *d = doc_of(s, params);
    if (!d) return;
    send(s, json_pack("{s:s,s:s,s:{s:s,s:[]}}", "jsonrpc", "2.0", "method",
                      "textDocument/publishDiagnostics", "params", "uri", d->uri, "diagnostics"));
    char *path = d->topo ? NULL : sr_xstrdup(d->path); /* its tests files read it from disk now */
    free_doc(d);
    *d = s->docs[--s->ndocs];
    if (path) recheck_tests_of(s, path);
    free(path);
}

/* ---- requests ------------------------------------------------------------------------------- */

static json_t *initialize(server *s, json_t *params)
{
    /* bytes when the client can count them: no conversion, and no way to get it wrong */
    json_t *encs = json_object_get(
        json_object_get(json_object_get(params, "capabilities"), "general"), "positionEncodings");
    size_t i;
    json_t *e;
    s->enc = SR_LSP_UTF16;
    json_array_foreach(encs, i, e) if (json_is_string(e) && strcmp(json_string_value(e), "utf-8") ==
                                                                0) s->enc = SR_LSP_UTF8;
    s->initialized = true;
    return json_pack("{s:{s:s,s:{s:b,s:i},s:{s:[sssss]},s:b,s:b},s:{s:s,s:s}}", "capabilities",
                     "positionEncoding", s->enc == SR_LSP_UTF8 ? "utf-8" : "utf-16",
                     "textDocumentSync", "openClose", 1, "change", 1 /* full */,
                     "completionProvider", "triggerCharacters", "-", ":", " ", "(", "{",
                     "hoverProvider", 1, "definitionProvider", 1, "serverInfo", "name", "streamrun",
                     "version", SR_VERSION);
}

/* The document and 0-based (line, byte column) a TextDocumentPositionParams names, or NULL. */
static doc *position_of(server *s, json_t *params, int *line, size_t *col)
{
    json_t *pos = json_object_get(params, "position");
    json_t *l = json_object_get(pos, "line"), *c = json_object_get(pos, "character");
    doc *d = doc_of(s, params);
    if (!d || !json_is_integer(l) || !json_is_integer(c)) return NULL;
    json_int_t li = json_integer_value(l), ci = json_integer_value(c);
    if (li < 0 || ci < 0) return NULL;
    /* past the end of a line is its end (clients send the largest number they have) */
    if (li > INT_MAX) li = INT_MAX;
    if (ci > INT_MAX) ci = INT_MAX;
    *line = (int)li;
    sr_lsp_text tx = text_of(s, d);
    *col = sr_lsp_byte_of(&tx, *line, (int)ci);
    return d;
}

/* file:// and path, its bytes outside [A-Za-z0-9/._~-] written %XX. Malloc'd. */
static char *path_uri(const char *path)
{
    sr_buf b = {0};
    sr_buf_puts(&b, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (isalnum(*p) || strchr("/._~-", *p))
            sr_buf_putc(&b, (char)*p);
        else
            sr_buf_printf(&b, "%%%02X", *p);
    }
    sr_buf_cstr(&b);
    return b.d;
}

/* Go-to-definition in the tests file d: a deployment or topic of its topology, in the
 * topology's file (its open document, else the file that was read). */
static json_t *tests_definition(server *s, const doc *d, const sr_lsp_text *tx, int line,
                                size_t col)
{
    const sr_topology *t = d->t;
    if (!t || d->stale || !t->doc.file) return json_null();
    const sr_srcfile *f = t->doc.file;
    sr_lsp_text td = {.text = f->text, .len = f->len, .enc = s->enc};
    size_t *lines = sr_lsp_index_lines(f->text, f->len, &td.nlines);
    td.lines = lines;
    const doc *open = find_doc_path(s, d->topo);
    char *uri = open ? sr_xstrdup(open->uri) : path_uri(f->path);
    json_t *r = sr_lsp_definition(tx, t, &td, uri, line, col);
    free(uri);
    free(lines);
    return r;
}

static void request(server *s, const char *method, json_t *id, json_t *params)
{
    assert(method && id);
    if (strcmp(method, "initialize") == 0) {
        respond(s, id, initialize(s, params));
        return;
    }
    if (!s->initialized) {
        respond_error(s, id, SERVER_NOT_INITIALIZED, "initialize first");
        return;
    }
    if (s->shutdown) {
        respond_error(s, id, INVALID_REQUEST, "the server is shutting down");
        return;
    }
    if (strcmp(method, "shutdown") == 0) {
        s->shutdown = true;
        respond(s, id, NULL);
        return;
    }
    bool completion = strcmp(method, "textDocument/completion") == 0;
    bool hover = strcmp(method, "textDocument/hover") == 0;
    bool definition = strcmp(method, "textDocument/definition") == 0;
    if (!completion && !hover && !definition) {
        respond_error(s, id, METHOD_NOT_FOUND, "method not found");
        return;
    }
    int line;
    size_t col;
    doc *d = position_of(s, params, &line, &col);
    if (!d) {
        respond_error(s, id, INVALID_PARAMS, "needs an open document's uri and a position");
        return;
    }
    sr_lsp_text tx = text_of(s, d);
    const sr_topology *t = d->t;
    if (completion)
        respond(s, id,
                sr_lsp_completion(&tx, t, !d->stale && !d->topo, d->topo != NULL, line, col));
    else if (hover)
        respond(s, id, sr_lsp_hover(&tx, t, line, col));
    else /* marks of an older text would point to the wrong places */
        respond(s, id,
                d->topo ? tests_definition(s, d, &tx, line, col)
                        : sr_lsp_definition(&tx, d->stale ? NULL : t, &tx, d->uri, line, col));
}

static void notification(server *s, const char *method, json_t *params)
{
    if (strcmp(method, "exit") == 0) {
        s->exit = true;
        return;
    }
    if (!s->initialized) return;
    if (strcmp(method, "textDocument/didOpen") == 0)
        did_open(s, params);
    else if (strcmp(method, "textDocument/didChange") == 0)
        did_change(s, params);
    else if (strcmp(method, "textDocument/didClose") == 0)
        did_close(s, params);
    /* initialized, $/cancelRequest, didSave and the rest: nothing to do */
}

static void dispatch(server *s, const char *body, size_t len)
{
    json_error_t err;
    json_t *msg = json_loadb(body, len, JSON_ALLOW_NUL, &err);
    if (!msg) {
        respond_error(s, NULL, PARSE_ERROR, "the message is not JSON");
        return;
    }
    json_t *id = json_object_get(msg, "id");
    const char *method = json_string_value(json_object_get(msg, "method"));
    bool valid_id = id && (json_is_string(id) || json_is_integer(id) || json_is_null(id));
    if (!json_is_object(msg) || (id && !valid_id)) {
        respond_error(s, NULL, INVALID_REQUEST, "not a JSON-RPC request or notification");
    } else if (!method) {
        /* a response to a request of ours (we send none), or junk with an id */
        if (id && !json_object_get(msg, "result") && !json_object_get(msg, "error"))
            respond_error(s, id, INVALID_REQUEST, "a request needs a method");
    } else if (id) {
        request(s, method, id, json_object_get(msg, "params"));
    } else {
        notification(s, method, json_object_get(msg, "params"));
    }
    json_decref(msg);
}

int sr_lsp_serve(FILE *in, FILE *out)
{
    server s = {.out = out};
    sr_buf body = {0};
    while (!s.exit) {
        int r = sr_lsp_read_frame(in, &body);
        if (r == 0) break;
        if (r < 0)
            respond_error(&s, NULL, PARSE_ERROR, "a frame needs a Content-Length header");
        else
            dispatch(&s, body.d, body.len);
    }
    sr_buf_free(&body);
    for (int i = 0; i < s.ndocs; i++) free_doc(&s.docs[i]);
    free(s.docs);
    return s.shutdown ? 0 : 1;
}
