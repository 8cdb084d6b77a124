/* ynode.c — parses a YAML file with libyaml into sr_ynode trees with marks and ${VAR} values. */
#include "load/ynode.h"

#include "base/arena.h"

#include <yaml.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH       256    /* deepest nesting of collections */
#define MAX_ALIAS_NODES 100000 /* nodes aliases may copy in all: stops "billion laughs" */

typedef struct anchor {
    char *name;
    const sr_ynode *node;
} anchor;

typedef struct loader {
    yaml_parser_t parser;
    const sr_srcfile *file;
    sr_diag *dg;
    const char *text;
    size_t len;
    size_t *lines; /* byte offset where each line starts */
    int nlines;
    size_t base;               /* byte offset of character 0 (after a BOM) */
    size_t cur_char, cur_byte; /* cursor for character index -> byte offset */
    anchor *anchors;           /* open-addressing hash table by name */
    size_t nanchors, capanchors;
    sr_ynode **dropped; /* nodes left out of the tree, freed at the end */
    int ndropped, capdropped;
    size_t alias_nodes;
    bool failed; /* a fatal error: stop parsing */
} loader;

typedef struct pos {
    size_t off;
    int line, col;
} pos;

/* ---- nodes -------------------------------------------------------------------- */

static sr_ynode *new_node(sr_ynode_kind kind)
{
    sr_ynode *n = sr_xcalloc(1, sizeof(*n));
    n->kind = kind;
    return n;
}

static void free_node(sr_ynode *n)
{
    if (!n) return;
    for (int i = 0; i < n->nkids; i++) free_node(n->kids[i]);
    free(n->kids);
    free(n->text);
    free(n);
}

static void drop_node(loader *L, sr_ynode *n)
{
    if (L->ndropped == L->capdropped) {
        L->capdropped = L->capdropped ? L->capdropped * 2 : 8;
        L->dropped = sr_xrealloc(L->dropped, (size_t)L->capdropped * sizeof(*L->dropped));
    }
    L->dropped[L->ndropped++] = n;
}

/* A growable list of kids while a collection is being read. */
typedef struct kidvec {
    sr_ynode **v;
    int n, cap;
} kidvec;

static void kid_push(kidvec *k, sr_ynode *n)
{
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 8;
        k->v = sr_xrealloc(k->v, (size_t)k->cap * sizeof(*k->v));
    }
    k->v[k->n++] = n;
}

static void kid_free(kidvec *k)
{
    for (int i = 0; i < k->n; i++) free_node(k->v[i]);
    free(k->v);
}

/* ---- positions ---------------------------------------------------------------- */

static void index_lines(loader *L)
{
    int n = 1;
    for (size_t i = 0; i < L->len; i++)
        if (L->text[i] == '\n') n++;
    L->lines = sr_xmalloc((size_t)n * sizeof(*L->lines));
    L->lines[0] = 0;
    L->nlines = 1;
    for (size_t i = 0; i < L->len; i++)
        if (L->text[i] == '\n') L->lines[L->nlines++] = i + 1;
}

static size_t utf8_width(unsigned char c)
{
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

/* libyaml counts characters; marks count bytes. */
static size_t byte_offset(loader *L, size_t ci)
{
    if (ci < L->cur_char) {
        L->cur_char = 0;
        L->cur_byte = L->base;
    }
    while (L->cur_char < ci && L->cur_byte < L->len) {
        L->cur_byte += utf8_width((unsigned char)L->text[L->cur_byte]);
        L->cur_char++;
    }
    if (L->cur_byte > L->len) L->cur_byte = L->len;
    return L->cur_byte;
}

static pos pos_at(const loader *L, size_t off)
{
    int lo = 0, hi = L->nlines - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (L->lines[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    return (pos){off, lo + 1, (int)(off - L->lines[lo]) + 1};
}

static pos pos_of(loader *L, yaml_mark_t m)
{
    return pos_at(L, byte_offset(L, m.index));
}

/* Offset just past the last non-blank byte of the line holding off. */
static size_t line_end(const loader *L, size_t off)
{
    const char *nl = memchr(L->text + off, '\n', L->len - off);
    size_t e = nl ? (size_t)(nl - L->text) : L->len;
    while (e > off && (L->text[e - 1] == ' ' || L->text[e - 1] == '\t' || L->text[e - 1] == '\r'))
        e--;
    return e;
}

/* A mark from s to e when both are on one line, else from s to the end of its line. */
static sr_mark span(const loader *L, pos s, pos e)
{
    size_t end = e.line == s.line && e.off >= s.off ? e.off : line_end(L, s.off);
    return (sr_mark){s.line, s.col, (int)(end > s.off ? end - s.off : 0)};
}

/* Skips a node's anchor and tag (and blanks, line breaks, comments) to where the node itself
 * starts, but not past limit: libyaml's start mark is that of the first property. */
static size_t skip_props(const loader *L, size_t off, int nprops, size_t limit)
{
    const char *t = L->text;
    while (off < limit) {
        char c = t[off];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            off++;
        } else if (c == '#') {
            const char *nl = memchr(t + off, '\n', L->len - off);
            off = nl ? (size_t)(nl - t) : limit;
        } else if ((c == '&' || c == '!') && nprops > 0) {
            while (off < limit && t[off] != ' ' && t[off] != '\t' && t[off] != '\r' &&
                   t[off] != '\n')
                off++;
            nprops--;
        } else {
            break;
        }
    }
    return off;
}

/* Where a node starts once its anchor and tag are skipped, not past limit. */
static pos node_start(const loader *L, size_t off, const yaml_char_t *anchor_name,
                      const yaml_char_t *tag, size_t limit)
{
    int nprops = (anchor_name != NULL) + (tag != NULL);
    if (nprops) off = skip_props(L, off, nprops, limit);
    return pos_at(L, off);
}

/* The mark from start to end (both must be read in this order: the cursor moves forward). */
static sr_mark event_span(loader *L, yaml_mark_t start, yaml_mark_t end)
{
    pos s = pos_of(L, start);
    pos e = pos_of(L, end);
    return span(L, s, e);
}

/* ---- errors ------------------------------------------------------------------- */

/* Offset of the start of the line holding off. */
static size_t line_start(const loader *L, size_t off)
{
    while (off > 0 && L->text[off - 1] != '\n') off--;
    return off;
}

size_t sr_yvalue_len(const char *s, size_t n, bool flow)
{
    size_t i = 0;
    char q = 0;
    int depth = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (q) {
            if (c == q) q = 0;
        } else if (c == '"' || c == '\'' || c == '`') {
            q = c;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
            depth--;
        } else if (flow && depth == 0 && (c == ',' || c == ']' || c == '}')) {
            break;
        } else if (!flow && c == '#' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t') &&
                   (i + 1 == n || s[i + 1] == ' ')) {
            break;
        }
    }
    while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')) i--;
    return i;
}

/* Where a value written from off ends, as a user means it (sr_yvalue_len). */
static size_t value_end(const loader *L, size_t off, bool flow)
{
    return off + sr_yvalue_len(L->text + off, line_end(L, off) - off, flow);
}

char *sr_yquote(const char *s, size_t n)
{
    sr_buf b = {0};
    bool dq = !memchr(s, '"', n) && !memchr(s, '\\', n);
    char q = dq ? '"' : '\'';
    sr_buf_putc(&b, q);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'' && !dq) sr_buf_putc(&b, '\'');
        sr_buf_putc(&b, s[i]);
    }
    sr_buf_putc(&b, q);
    sr_buf_cstr(&b);
    return b.d;
}

char *sr_yline_replace(const sr_srcfile *f, sr_mark m, const char *rep)
{
    if (!f || m.line < 1 || m.col < 1) return NULL;
    const char *t = f->text, *end = f->text + f->len;
    for (int l = 1; l < m.line; l++) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        if (!nl) return NULL;
        t = nl + 1;
    }
    const char *nl = memchr(t, '\n', (size_t)(end - t));
    size_t n = nl ? (size_t)(nl - t) : (size_t)(end - t);
    if (n > 0 && t[n - 1] == '\r') n--;
    size_t a = (size_t)m.col - 1, len = m.len > 0 ? (size_t)m.len : 0;
    if (a > n) return NULL;
    if (len > n - a) len = n - a;
    sr_buf b = {0};
    sr_buf_put(&b, t, a);
    sr_buf_puts(&b, rep);
    sr_buf_put(&b, t + a + len, n - a - len);
    sr_buf_cstr(&b);
    return b.d;
}

/* Reports the value written at [s, e) of the file, which YAML refused or would cut, with the
 * line rewritten with the value in quotes. */
static void quote_value(loader *L, sr_code code, size_t s, size_t e, const char *why)
{
    pos at = pos_at(L, s);
    sr_mark m = {at.line, at.col, (int)(e - s)};
    sr_errc(L->dg, code, L->file, m, "%s", why);
    char *q = sr_yquote(L->text + s, e - s);
    char *line = sr_yline_replace(L->file, m, q);
    if (line) sr_diag_help(L->dg, "quote the whole value:\n%s", line);
    free(line);
    free(q);
}

/* Whether the text [s, e) reads as an expression rather than words: an operator, a call or a
 * '?' of 'cond ? a : b' (a flow mapping's "a: 1 b: 2" is a missing ',', not a value to quote). */
static bool looks_like_expression(const char *t, size_t s, size_t e)
{
    for (size_t i = s; i < e; i++)
        if (strchr("?<>=!+*/%()&|`", t[i])) return true;
    return false;
}

/* Reads the line holding off up to off: whether off is inside a flow collection opened on
 * that line ({...} or [...], outside quotes and parentheses), and where the entry holding off
 * starts (past the '{', '[' or ',' before it; the line's start in block context). */
static bool in_flow(const loader *L, size_t off, size_t *entry)
{
    const char *t = L->text;
    size_t s = line_start(L, off);
    *entry = s;
    int flow = 0, paren = 0;
    char q = 0;
    for (size_t i = s; i < off; i++) {
        char c = t[i];
        if (q) {
            if (c == q) q = 0;
        } else if (c == '"' || c == '\'' || c == '`') {
            q = c;
        } else if (c == '#' && (i == s || t[i - 1] == ' ')) {
            break;
        } else if (c == '(') {
            paren++;
        } else if (c == ')' && paren > 0) {
            paren--;
        } else if (paren == 0 && (c == '{' || c == '[') && !(i > s && t[i - 1] == '$')) {
            flow++;
            *entry = i + 1;
        } else if (paren == 0 && (c == '}' || c == ']') && flow > 0) {
            flow--;
        } else if (paren == 0 && c == ',' && flow > 0) {
            *entry = i + 1;
        }
    }
    return flow > 0 || L->parser.flow_level > 0;
}

/* Where the value of the "key: value" holding off starts: past the first ": " of its entry
 * (from entry), outside quotes; 0 when there is none before off. */
static size_t value_start(const loader *L, size_t entry, size_t off)
{
    const char *t = L->text;
    char q = 0;
    for (size_t i = entry; i < off; i++) {
        char c = t[i];
        if (q) {
            if (c == q) q = 0;
        } else if (c == '"' || c == '\'') {
            q = c;
        } else if (c == ':' && (t[i + 1] == ' ' || t[i + 1] == '\t')) {
            size_t v = i + 1;
            while (v < off && (t[v] == ' ' || t[v] == '\t')) v++;
            return v < off ? v : 0;
        }
    }
    return 0;
}

/* The spaces a line indented with a tab means: those of the line before (its content's, past
 * "- ", for a key under a list item), two more after a line that opens a block ("key:"). */
static size_t meant_indent(const loader *L, int line, bool item)
{
    for (int l = line - 1; l >= 1; l--) {
        size_t s = L->lines[l - 1], e = line_end(L, s), i = s;
        while (i < e && L->text[i] == ' ') i++;
        if (i == e || L->text[i] == '#' || L->text[i] == '\t') continue;
        size_t ind = i - s;
        if (L->text[e - 1] == ':') return ind + 2;
        if (!item && e - i >= 2 && L->text[i] == '-' && L->text[i + 1] == ' ') return ind + 2;
        return ind;
    }
    return 0;
}

/* A tab in the indentation of the line holding off: the error at the tab, with the line
 * indented with spaces. */
static bool tab_indent(loader *L, size_t off)
{
    size_t s = line_start(L, off), i = s;
    while (i < L->len && (L->text[i] == ' ' || L->text[i] == '\t')) i++;
    const char *tab = memchr(L->text + s, '\t', i - s);
    if (!tab || i == L->len || L->text[i] == '\n' || L->text[i] == '\r') return false;
    pos at = pos_at(L, s);
    size_t t0 = (size_t)(tab - L->text);
    bool item = L->text[i] == '-' && i + 1 < L->len && L->text[i + 1] == ' ';
    size_t want = meant_indent(L, at.line, item);
    sr_errc(L->dg, SR_E_YAML_TAB, L->file, (sr_mark){at.line, (int)(t0 - s) + 1, 1},
            "tab in indentation: YAML indents with spaces only");
    char *sp = sr_xmalloc(want + 1);
    memset(sp, ' ', want);
    sp[want] = 0;
    char *line = sr_yline_replace(L->file, (sr_mark){at.line, 1, (int)(i - s)}, sp);
    if (line) sr_diag_help(L->dg, "indent with spaces:\n%s", line);
    free(line);
    free(sp);
    return true;
}

/* A parser error that is one of the mistakes users make most, reported with its fix; false for
 * any other (reported as libyaml words it). */
static bool known_mistake(loader *L, size_t off)
{
    const char *t = L->text;
    if (off >= L->len) return false;
    size_t entry;
    bool flow = in_flow(L, off, &entry);
    if (tab_indent(L, off)) return true;
    char c = t[off];
    if (c == '`' || c == '@') {
        quote_value(L, SR_E_YAML_QUOTE, off, value_end(L, off, flow),
                    c == '`' ? "a value that starts with a backtick must be quoted: YAML "
                               "reserves '`'"
                             : "a value that starts with '@' must be quoted: YAML reserves '@'");
        return true;
    }
    if (c == '{' && flow && off > 0 && t[off - 1] == '$') {
        size_t s = value_start(L, entry, off);
        if (!s) s = entry;
        while (t[s] == ' ') s++;
        quote_value(L, SR_E_YAML_FLOW_VAR, s, value_end(L, s, true),
                    "'${' inside a flow collection ({...} or [...]) must be quoted: YAML reads "
                    "'{' as the start of a mapping");
        return true;
    }
    if (c == ':' && (off + 1 == L->len || strchr(" \t\r\n", t[off + 1]))) {
        size_t s = value_start(L, entry, off);
        if (!s || (flow && !looks_like_expression(t, s, off))) return false;
        quote_value(L, SR_E_YAML_QUOTE, s, value_end(L, s, flow),
                    "a value that contains ': ' must be quoted: YAML reads ': ' as the start of "
                    "a mapping");
        return true;
    }
    return false;
}

static void syntax_error(loader *L)
{
    yaml_parser_t *p = &L->parser;
    sr_mark m = {0};
    size_t off = L->len;
    if (p->error == YAML_READER_ERROR) {
        pos at = pos_at(L, p->problem_offset < L->len ? p->problem_offset : L->len);
        m = (sr_mark){at.line, at.col, 0};
    } else if (p->error == YAML_SCANNER_ERROR || p->error == YAML_PARSER_ERROR) {
        pos at = pos_of(L, p->problem_mark);
        m = (sr_mark){at.line, at.col, 0};
        off = at.off;
    }
    L->failed = true;
    if (p->error == YAML_MEMORY_ERROR) {
        sr_errc(L->dg, SR_E_YAML_SYNTAX, L->file, m, "YAML syntax: out of memory");
        return;
    }
    if (known_mistake(L, off)) return;
    sr_errc(L->dg, SR_E_YAML_SYNTAX, L->file, m, "YAML syntax: %s",
            p->problem ? p->problem : "invalid YAML");
}

static bool next_event(loader *L, yaml_event_t *ev)
{
    if (yaml_parser_parse(&L->parser, ev)) return true;
    syntax_error(L);
    return false;
}

/* ---- ${VAR} substitution ------------------------------------------------------ */

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Replaces ${VAR}, ${VAR:-default} and $${ in a scalar's text. */
static void substitute(loader *L, sr_ynode *n)
{
    if (!memchr(n->text, '$', n->len)) return;
    const char *t = n->text;
    size_t len = n->len, i = 0;
    sr_buf out = {0};
    bool changed = false;
    while (i < len) {
        if (t[i] != '$') {
            sr_buf_putc(&out, t[i++]);
            continue;
        }
        if (i + 2 < len && t[i + 1] == '$' && t[i + 2] == '{') {
            sr_buf_put(&out, "${", 2);
            i += 3;
            changed = true;
            continue;
        }
        if (i + 1 >= len || t[i + 1] != '{') {
            sr_buf_putc(&out, t[i++]);
            continue;
        }
        const char *close = memchr(t + i + 2, '}', len - i - 2);
        if (!close) {
            sr_errc(L->dg, SR_E_VAR_SYNTAX, L->file, sr_ysub_mark(n, i, 2),
                    "'${' without a closing '}' (write $${ for a literal '${')");
            sr_buf_put(&out, t + i, len - i);
            break;
        }
        size_t end = (size_t)(close - t) + 1; /* just past '}' */
        size_t name_end = i + 2;
        while (name_end < end - 1 && is_name_char(t[name_end])) name_end++;
        bool has_default = name_end + 1 < end - 1 && t[name_end] == ':' && t[name_end + 1] == '-';
        bool ok =
            name_end > i + 2 && is_name_start(t[i + 2]) && (name_end == end - 1 || has_default);
        if (!ok) {
            sr_errc(L->dg, SR_E_VAR_SYNTAX, L->file, sr_ysub_mark(n, i, end - i),
                    "invalid variable reference '%.*s' (write ${NAME} or ${NAME:-default})",
                    (int)(end - i), t + i);
            sr_buf_put(&out, t + i, end - i);
            i = end;
            continue;
        }
        char *name = sr_xstrndup(t + i + 2, name_end - (i + 2));
        const char *val = getenv(name);
        if (val && (*val || !has_default)) {
            sr_buf_puts(&out, val);
        } else if (has_default) {
            sr_buf_put(&out, t + name_end + 2, end - 1 - (name_end + 2));
        } else {
            sr_errc(L->dg, SR_E_VAR_UNSET, L->file, sr_ysub_mark(n, i, end - i),
                    "environment variable '%s' is not set (write ${%s:-default} to give a "
                    "default)",
                    name, name);
            sr_buf_put(&out, t + i, end - i);
        }
        free(name);
        changed = true;
        i = end;
    }
    if (changed) {
        sr_buf_cstr(&out);
        free(n->text);
        n->text = out.d ? out.d : sr_xstrdup("");
        n->len = out.len;
        n->flow = false; /* the text no longer maps to columns */
        n->src = NULL;
    } else {
        sr_buf_free(&out);
    }
}

/* ---- building the tree -------------------------------------------------------- */

static bool is_str_tag(const yaml_char_t *tag)
{
    return tag &&
           (strcmp((const char *)tag, YAML_STR_TAG) == 0 || strcmp((const char *)tag, "!") == 0);
}

static sr_ynode *make_scalar(loader *L, const yaml_event_t *ev)
{
    const yaml_char_t *anc = ev->data.scalar.anchor, *tag = ev->data.scalar.tag;
    yaml_scalar_style_t style = ev->data.scalar.style;
    size_t start = byte_offset(L, ev->start_mark.index);
    size_t end = byte_offset(L, ev->end_mark.index);
    pos s = node_start(L, start, anc, tag, end);
    pos e = pos_at(L, end);
    sr_ynode *n = new_node(SR_Y_SCALAR);
    n->text = sr_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
    n->len = ev->data.scalar.length;
    n->mark = span(L, s, e);
    bool quoted =
        style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
    n->quoted = quoted || style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE ||
                is_str_tag(tag);
    n->flow = (quoted || style == YAML_PLAIN_SCALAR_STYLE) && e.line == s.line;
    n->text_col = s.col + (quoted ? 1 : 0);
    n->src = L->text + s.off;
    n->srclen = end > s.off ? end - s.off : 0;
    n->style = style == YAML_SINGLE_QUOTED_SCALAR_STYLE   ? '\''
               : style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ? '"'
               : style == YAML_LITERAL_SCALAR_STYLE       ? '|'
               : style == YAML_FOLDED_SCALAR_STYLE        ? '>'
                                                          : 0;
    substitute(L, n);
    return n;
}

static size_t hash_name(const char *s)
{
    size_t h = 14695981039346656037u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

/* The slot of name in the anchor table, or the empty slot where it would go. */
static anchor *anchor_slot(anchor *tab, size_t cap, const char *name)
{
    size_t i = hash_name(name) & (cap - 1);
    while (tab[i].name && strcmp(tab[i].name, name) != 0) i = (i + 1) & (cap - 1);
    return &tab[i];
}

static void add_anchor(loader *L, const yaml_char_t *yname, const sr_ynode *n)
{
    const char *name = (const char *)yname;
    if (2 * (L->nanchors + 1) > L->capanchors) {
        size_t cap = L->capanchors ? L->capanchors * 2 : 16;
        anchor *tab = sr_xcalloc(cap, sizeof(*tab));
        for (size_t i = 0; i < L->capanchors; i++)
            if (L->anchors[i].name) *anchor_slot(tab, cap, L->anchors[i].name) = L->anchors[i];
        free(L->anchors);
        L->anchors = tab;
        L->capanchors = cap;
    }
    anchor *a = anchor_slot(L->anchors, L->capanchors, name);
    if (!a->name) { /* a redefined anchor: the latest wins */
        a->name = sr_xstrdup(name);
        L->nanchors++;
    }
    a->node = n;
}

static const sr_ynode *find_anchor(const loader *L, const char *name)
{
    if (!L->capanchors) return NULL;
    return anchor_slot(L->anchors, L->capanchors, name)->node;
}

static sr_ynode *copy_node(loader *L, const sr_ynode *n, int depth)
{
    if (depth > MAX_DEPTH || ++L->alias_nodes > MAX_ALIAS_NODES) return NULL;
    sr_ynode *c = new_node(n->kind);
    *c = *n;
    c->kids = NULL;
    c->nkids = 0;
    c->text = n->text ? sr_xstrndup(n->text, n->len) : NULL;
    if (n->nkids) {
        c->kids = sr_xmalloc((size_t)n->nkids * sizeof(*c->kids));
        for (int i = 0; i < n->nkids; i++) {
            c->kids[i] = copy_node(L, n->kids[i], depth + 1);
            if (!c->kids[i]) {
                free_node(c);
                return NULL;
            }
            c->nkids++;
        }
    }
    return c;
}

static sr_ynode *resolve_alias(loader *L, const yaml_event_t *ev, int depth)
{
    const char *name = (const char *)ev->data.alias.anchor;
    sr_mark m = event_span(L, ev->start_mark, ev->end_mark);
    const sr_ynode *target = find_anchor(L, name);
    if (!target) {
        sr_errc(L->dg, SR_E_YAML_ALIAS, L->file, m,
                "unknown alias '*%s' (no anchor '&%s' before it)", name, name);
        sr_ynode *n = new_node(SR_Y_SCALAR);
        n->text = sr_xstrdup("");
        n->mark = m;
        n->text_col = m.col;
        return n;
    }
    sr_ynode *n = copy_node(L, target, depth);
    if (!n) {
        sr_errc(L->dg, SR_E_YAML_ALIAS, L->file, m,
                "alias '*%s' expands to too many nodes (more than %d in all) or nests deeper "
                "than %d levels",
                name, MAX_ALIAS_NODES, MAX_DEPTH);
        L->failed = true;
    }
    return n;
}

typedef struct keyref {
    const sr_ynode *key;
    int pair;
} keyref;

static bool same_text(const sr_ynode *a, const sr_ynode *b)
{
    return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
}

static int cmp_keys(const void *pa, const void *pb)
{
    const keyref *a = pa, *b = pb;
    if (a->key->len != b->key->len) return a->key->len < b->key->len ? -1 : 1;
    int c = memcmp(a->key->text, b->key->text, a->key->len);
    if (c) return c;
    return (a->pair > b->pair) - (a->pair < b->pair);
}

/* Reports each repeated scalar key of a mapping's kids and leaves out its pair. */
static void remove_duplicates(loader *L, kidvec *k)
{
    int npairs = k->n / 2, nrefs = 0;
    if (npairs < 2) return;
    keyref *refs = sr_xmalloc((size_t)npairs * sizeof(*refs));
    int *first = sr_xmalloc((size_t)npairs * sizeof(*first)); /* pair of the first same key */
    for (int i = 0; i < npairs; i++) {
        first[i] = i;
        if (k->v[2 * i]->kind == SR_Y_SCALAR) refs[nrefs++] = (keyref){k->v[2 * i], i};
    }
    qsort(refs, (size_t)nrefs, sizeof(*refs), cmp_keys);
    for (int i = 1; i < nrefs; i++)
        if (same_text(refs[i].key, refs[i - 1].key)) first[refs[i].pair] = first[refs[i - 1].pair];
    int out = 0;
    for (int i = 0; i < npairs; i++) {
        sr_ynode *key = k->v[2 * i], *val = k->v[2 * i + 1];
        if (first[i] != i) {
            const sr_ynode *orig = k->v[2 * first[i]];
            sr_errc(L->dg, SR_E_YAML_DUPLICATE_KEY, L->file, key->mark,
                    "duplicate key '%s' (first at line %d)", key->text, orig->mark.line);
            sr_diag_related(L->dg, L->file, orig->mark, "'%s' first set here", key->text);
            drop_node(L, key); /* anchors may point into it */
            drop_node(L, val);
            continue;
        }
        k->v[out++] = key;
        k->v[out++] = val;
    }
    k->n = out;
    free(first);
    free(refs);
}

static sr_ynode *parse_node(loader *L, yaml_event_t *ev, int depth);

/* Reads the kids of a collection up to its end event, whose end mark goes to *end; false
 * after a fatal error. */
static bool parse_kids(loader *L, sr_ynode *n, yaml_event_type_t end_type, int depth,
                       yaml_mark_t *end)
{
    kidvec k = {0};
    sr_ynode *key = NULL;
    for (;;) {
        yaml_event_t ev;
        if (!next_event(L, &ev)) break;
        if (ev.type == end_type) {
            if (end_type == YAML_MAPPING_END_EVENT) remove_duplicates(L, &k);
            *end = ev.end_mark;
            yaml_event_delete(&ev);
            n->kids = k.v;
            n->nkids = k.n;
            return true;
        }
        sr_ynode *kid = parse_node(L, &ev, depth + 1);
        if (!kid) break;
        if (end_type == YAML_SEQUENCE_END_EVENT) {
            kid_push(&k, kid);
        } else if (!key) {
            key = kid;
        } else {
            kid_push(&k, key);
            kid_push(&k, kid);
            key = NULL;
        }
    }
    free_node(key);
    kid_free(&k);
    return false;
}

/* Builds the node that starts with ev, consuming ev and the node's events; NULL after a
 * fatal error. */
static sr_ynode *parse_node(loader *L, yaml_event_t *ev, int depth)
{
    sr_ynode *n = NULL;
    const yaml_char_t *anc = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = make_scalar(L, ev);
        anc = ev->data.scalar.anchor;
        break;
    case YAML_ALIAS_EVENT: n = resolve_alias(L, ev, depth); break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
        anc = seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
        const yaml_char_t *tag = seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
        pos s = node_start(L, byte_offset(L, ev->start_mark.index), anc, tag, L->len);
        if (depth > MAX_DEPTH) {
            sr_mark m = {s.line, s.col, 1};
            sr_errc(L->dg, SR_E_YAML_DEPTH, L->file, m, "nesting deeper than %d levels", MAX_DEPTH);
            L->failed = true;
            break;
        }
        n = new_node(seq ? SR_Y_SEQ : SR_Y_MAP);
        n->mark = (sr_mark){s.line, s.col, 0};
        n->text_col = s.col;
        yaml_mark_t end;
        if (!parse_kids(L, n, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT, depth,
                        &end)) {
            free_node(n);
            n = NULL;
            break;
        }
        n->mark = span(L, s, pos_of(L, end));
        break;
    }
    default:
        sr_errc(L->dg, SR_E_YAML_SYNTAX, L->file, (sr_mark){0}, "YAML syntax: unexpected event %d",
                (int)ev->type);
        L->failed = true;
        break;
    }
    if (n && anc) add_anchor(L, anc, n);
    yaml_event_delete(ev);
    return n;
}

static void parse_stream(loader *L, sr_ydoc *doc)
{
    int ndocs = 0;
    bool done = false;
    while (!done && !L->failed) {
        yaml_event_t ev;
        if (!next_event(L, &ev)) break;
        if (ev.type == YAML_STREAM_END_EVENT) done = true;
        if (ev.type == YAML_DOCUMENT_START_EVENT && ndocs++ > 0) {
            sr_mark m = event_span(L, ev.start_mark, ev.end_mark);
            sr_errc(L->dg, SR_E_YAML_DOCUMENTS, L->file, m, "only one YAML document is allowed");
            done = true;
        } else if (ev.type == YAML_DOCUMENT_START_EVENT) {
            yaml_event_t root;
            if (next_event(L, &root)) doc->root = parse_node(L, &root, 1);
        }
        yaml_event_delete(&ev);
    }
}

static void parse_file(sr_ydoc *doc, const sr_srcfile *f, sr_diag *dg)
{
    loader L = {.file = f, .dg = dg, .text = f->text, .len = f->len};
    if (L.len >= 3 && memcmp(L.text, "\xEF\xBB\xBF", 3) == 0) L.base = 3;
    L.cur_byte = L.base;
    index_lines(&L);
    yaml_parser_initialize(&L.parser);
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)L.text, L.len);

    parse_stream(&L, doc);

    if (L.failed) {
        free_node(doc->root);
        doc->root = NULL;
    }
    sr_ynode *r = doc->root;
    if (r && r->kind == SR_Y_SCALAR && !r->quoted && r->len == 0) { /* an empty document */
        free_node(r);
        doc->root = NULL;
    }
    yaml_parser_delete(&L.parser);
    for (size_t i = 0; i < L.capanchors; i++) free(L.anchors[i].name);
    free(L.anchors);
    for (int i = 0; i < L.ndropped; i++) free_node(L.dropped[i]);
    free(L.dropped);
    free(L.lines);
}

/* ---- public API --------------------------------------------------------------- */

int sr_ydoc_parse(sr_ydoc *doc, const char *path, const char *text, size_t len, sr_diag *dg)
{
    doc->file = sr_diag_add_file(dg, path, sr_xstrndup(text, len), len);
    doc->root = NULL;
    int errors = dg->nerrors;
    parse_file(doc, doc->file, dg);
    return dg->nerrors > errors ? -1 : 0;
}

int sr_ydoc_load(sr_ydoc *doc, const char *path, sr_diag *dg)
{
    doc->file = NULL;
    doc->root = NULL;
    bool in = strcmp(path, "-") == 0; /* standard input, named <stdin> in diagnostics */
    if (in) path = "<stdin>";
    FILE *fp = in ? stdin : fopen(path, "rb");
    if (!fp) {
        sr_errc(dg, SR_E_YAML_READ, NULL, (sr_mark){0}, "cannot read '%s': %s", path,
                strerror(errno));
        return -1;
    }
    sr_buf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) sr_buf_put(&b, chunk, got);
    if (ferror(fp)) {
        int e = errno;
        if (!in) fclose(fp);
        sr_buf_free(&b);
        sr_errc(dg, SR_E_YAML_READ, NULL, (sr_mark){0}, "cannot read '%s': %s", path, strerror(e));
        return -1;
    }
    if (!in) fclose(fp);
    sr_buf_cstr(&b);
    size_t len = b.len;
    char *text = b.d ? b.d : sr_xstrdup("");
    doc->file = sr_diag_add_file(dg, path, text, len);
    int errors = dg->nerrors;
    parse_file(doc, doc->file, dg);
    return dg->nerrors > errors ? -1 : 0;
}

void sr_ydoc_free(sr_ydoc *doc)
{
    if (!doc) return;
    free_node(doc->root);
    doc->root = NULL;
}

sr_ynode *sr_ymap_get(const sr_ynode *map, const char *key)
{
    if (!map || map->kind != SR_Y_MAP) return NULL;
    size_t kl = strlen(key);
    for (int i = 0; i + 1 < map->nkids; i += 2) {
        const sr_ynode *k = map->kids[i];
        if (k->kind == SR_Y_SCALAR && k->len == kl && memcmp(k->text, key, kl) == 0)
            return map->kids[i + 1];
    }
    return NULL;
}

static bool is_plain(const sr_ynode *n)
{
    return n && n->kind == SR_Y_SCALAR && !n->quoted;
}

bool sr_yis_null(const sr_ynode *n)
{
    if (!is_plain(n)) return false;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (strcmp(n->text, nulls[i]) == 0) return true;
    return false;
}

static bool all_digits(const char *s, const char *digits)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!strchr(digits, *s)) return false;
    return true;
}

bool sr_yscalar_int(const sr_ynode *n, long long *out)
{
    if (!is_plain(n) || strlen(n->text) != n->len) return false;
    const char *s = n->text;
    int base = 10;
    const char *digits = s + (*s == '-' || *s == '+');
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
        base = s[1] == 'x' ? 16 : 8;
        digits = s + 2;
        if (!all_digits(digits, base == 16 ? "0123456789abcdefABCDEF" : "01234567")) return false;
    } else if (!all_digits(digits, "0123456789")) {
        return false;
    }
    errno = 0;
    char *end;
    long long v;
    if (base == 10) {
        v = strtoll(s, &end, 10);
    } else {
        unsigned long long u = strtoull(digits, &end, base);
        if (u > LLONG_MAX) return false;
        v = (long long)u;
    }
    if (errno == ERANGE || *end) return false;
    *out = v;
    return true;
}

/* YAML 1.2 core float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_float_literal(const char *s)
{
    if (*s == '-' || *s == '+') s++;
    size_t whole = strspn(s, "0123456789");
    s += whole;
    size_t frac = 0;
    if (*s == '.') {
        s++;
        frac = strspn(s, "0123456789");
        s += frac;
    }
    if (!whole && !frac) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        size_t ex = strspn(s, "0123456789");
        if (!ex) return false;
        s += ex;
    }
    return *s == 0;
}

bool sr_yscalar_double(const sr_ynode *n, double *out)
{
    long long i;
    if (sr_yscalar_int(n, &i)) {
        *out = (double)i;
        return true;
    }
    if (!is_plain(n) || strlen(n->text) != n->len || !is_float_literal(n->text)) return false;
    errno = 0;
    char *end;
    double d = strtod(n->text, &end);
    if (*end || (errno == ERANGE && (d > 1.0 || d < -1.0))) return false; /* overflow */
    *out = d;
    return true;
}

bool sr_yscalar_bool(const sr_ynode *n, bool *out)
{
    if (!is_plain(n)) return false;
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(n->text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(n->text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

const char *sr_ykind_name(const sr_ynode *n)
{
    if (!n) return "null";
    if (n->kind == SR_Y_MAP) return "mapping";
    if (n->kind == SR_Y_SEQ) return "sequence";
    if (n->quoted) return "string";
    long long i;
    double d;
    bool b;
    if (sr_yis_null(n)) return "null";
    if (sr_yscalar_bool(n, &b)) return "boolean";
    if (sr_yscalar_int(n, &i) || sr_yscalar_double(n, &d)) return "number";
    return "string";
}

/* Bytes of UTF-8 that the escape at p (a backslash) stands for, and its length in the source. */
static void escape_size(const char *p, const char *end, size_t *src, size_t *text)
{
    char c = p + 1 < end ? p[1] : 0;
    *src = 2;
    *text = 1;
    if (c == 'x') {
        *src = 4;
    } else if (c == 'u' || c == 'U') {
        size_t digits = c == 'u' ? 4 : 8;
        unsigned long cp = 0;
        for (size_t i = 0; i < digits && p + 2 + i < end; i++)
            cp = cp * 16 + (unsigned long)((p[2 + i] >= '0' && p[2 + i] <= '9') ? p[2 + i] - '0'
                                           : (p[2 + i] >= 'a' && p[2 + i] <= 'f')
                                               ? p[2 + i] - 'a' + 10
                                               : (p[2 + i] | 0x20) - 'a' + 10);
        *src = 2 + digits;
        *text = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    } else if (c == 'N' || c == '_') {
        *text = 2;
    } else if (c == 'L' || c == 'P') {
        *text = 3;
    } else if (c == '\n') {
        *text = 0; /* an escaped line break joins the lines */
    }
}

sr_mark sr_ysub_mark(const sr_ynode *n, size_t off, size_t len)
{
    if (!n) return (sr_mark){0};
    if (!n->src)
        return n->flow ? (sr_mark){n->mark.line, n->text_col + (int)off, (int)len} : n->mark;
    const char *p = n->src, *end = n->src + n->srclen;
    int line = n->mark.line, col = n->mark.col;
    size_t t = 0;
    if (n->style == '|' || n->style == '>') {
        /* content starts on the line after the indicator, at the block's indentation */
        while (p < end && *p != '\n') p++;
        if (p < end) p++, line++;
        const char *q = p;
        size_t indent = 0;
        while (q < end) { /* the first non-blank line sets the indentation */
            size_t k = 0;
            while (q + k < end && q[k] == ' ') k++;
            if (q + k < end && q[k] != '\n') {
                indent = k;
                break;
            }
            q += k + 1;
        }
        for (;;) {
            size_t k = 0;
            while (k < indent && p < end && *p == ' ') p++, k++;
            col = (int)k + 1;
            while (p < end && *p != '\n' && t < off) p++, col++, t++;
            if (t >= off || p >= end) break;
            p++, line++, t++; /* the line break (or the space it folds to) */
        }
        return (sr_mark){line, col, (int)len};
    }
    if (n->style == '"' || n->style == '\'') p++, col++;
    while (p < end && t < off) {
        if (*p == '\n' || *p == '\r') { /* a folded line break is one space of text */
            while (p < end && (*p == '\n' || *p == '\r')) line += *p == '\n', p++;
            col = 1;
            while (p < end && (*p == ' ' || *p == '\t')) p++, col++;
            t++;
            continue;
        }
        if (n->style == '"' && *p == '\\') {
            size_t sl, tl;
            escape_size(p, end, &sl, &tl);
            p += sl, col += (int)sl, t += tl;
            continue;
        }
        if (n->style == '\'' && *p == '\'' && p + 1 < end && p[1] == '\'') {
            p += 2, col += 2, t++;
            continue;
        }
        p++, col++, t++;
    }
    return (sr_mark){line, col, (int)len};
}
