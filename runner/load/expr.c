/* expr.c — expression lexer, parser and static type checker. */
#include "load/expr_int.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 200 /* deepest nesting of parentheses, brackets and unary operators */

/* ---- tokens ------------------------------------------------------------------ */

typedef enum {
    T_EOF,
    T_NUM,
    T_STR,
    T_IDENT, /* plain name or keyword */
    T_QNAME, /* `quoted name` */
    T_META,  /* $name */
    T_OP,    /* punctuation: text in op[] */
    T_BAD,
} tok_kind;

typedef struct token {
    tok_kind kind;
    uint32_t off, len;
    char op[3];
} token;

/* Where errors go: a diagnostics list with the YAML node, or a text buffer. */
typedef struct parser {
    sr_expr *e;
    const char *s;
    size_t n;
    size_t pos;
    token tok;
    int nerr;
    int depth; /* nesting of parse_expr/parse_unary calls, bounded */
    /* error sinks */
    sr_check *ck;
    const sr_ynode *where;
    size_t base; /* offset of the text in where's scalar (sr_expr_compile_sub) */
    char *errbuf;
    size_t errsize;
} parser;

static void perr(parser *p, sr_code code, uint32_t off, uint32_t len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* An error at [off, off+len) of the expression, with its code (the first one only, into the
 * text buffer, without a diagnostics list). */
static void perr(parser *p, sr_code code, uint32_t off, uint32_t len, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->nerr++;
    if (p->ck) {
        sr_mark m = sr_ysub_mark(p->where, p->base + off, len ? len : 1);
        sr_errc(p->ck->dg, code, p->ck->file, m, "%s", msg);
    } else if (p->errbuf && p->nerr == 1) {
        snprintf(p->errbuf, p->errsize, "col %u: %s", off + 1, msg);
    }
}

/* "column N" (or "line L, column N") of expression offset off, in the file when
 * the expression came from one, for messages that refer to another place. */
static const char *where_is(const parser *p, uint32_t off, char *buf, size_t size)
{
    if (!p->ck) {
        snprintf(buf, size, "column %u", off + 1);
        return buf;
    }
    sr_mark at = sr_ysub_mark(p->where, p->base + off, 1),
            here = sr_ysub_mark(p->where, p->base + p->tok.off, 1);
    if (at.line == here.line)
        snprintf(buf, size, "column %d", at.col);
    else
        snprintf(buf, size, "line %d, column %d", at.line, at.col);
    return buf;
}

/* The line of the expression's source with [off, off+len) replaced by rep, when the expression
 * is written in the file as it reads (NULL otherwise, or without a file). */
static char *rewritten_line(const parser *p, uint32_t off, uint32_t len, const char *rep)
{
    if (!p->ck || !p->where || !p->where->src) return NULL;
    sr_mark m = sr_ysub_mark(p->where, p->base + off, len);
    return sr_yline_replace(p->ck->file, m, rep);
}

static bool is_name_start(int c)
{
    return isalpha(c) || c == '_';
}

static bool is_name_char(int c)
{
    return isalnum(c) || c == '_';
}

static void next(parser *p)
{
    const char *s = p->s;
    size_t i = p->pos;
    while (i < p->n && isspace((unsigned char)s[i])) i++;
    token *t = &p->tok;
    memset(t, 0, sizeof(*t));
    t->off = (uint32_t)i;
    if (i >= p->n) {
        t->kind = T_EOF;
        p->pos = i;
        return;
    }
    unsigned char c = (unsigned char)s[i];
    if (isdigit(c) || (c == '.' && i + 1 < p->n && isdigit((unsigned char)s[i + 1]))) {
        size_t j = i;
        while (j < p->n && isdigit((unsigned char)s[j])) j++;
        if (j < p->n && s[j] == '.' && j + 1 < p->n && isdigit((unsigned char)s[j + 1])) {
            j++;
            while (j < p->n && isdigit((unsigned char)s[j])) j++;
        }
        if (j < p->n && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < p->n && (s[k] == '+' || s[k] == '-')) k++;
            if (k < p->n && isdigit((unsigned char)s[k])) {
                while (k < p->n && isdigit((unsigned char)s[k])) k++;
                j = k;
            }
        }
        t->kind = T_NUM;
        t->len = (uint32_t)(j - i);
        p->pos = j;
        return;
    }
    if (c == '"' || c == '\'') {
        size_t j = i + 1;
        while (j < p->n && s[j] != (char)c) {
            if (s[j] == '\\' && j + 1 < p->n) j++;
            j++;
        }
        if (j >= p->n) {
            t->kind = T_BAD;
            t->len = (uint32_t)(j - i);
            perr(p, SR_E_EXPR_SYNTAX, (uint32_t)i, 1, "unterminated string: expected a closing %c",
                 c);
            p->pos = p->n;
            return;
        }
        t->kind = T_STR;
        t->len = (uint32_t)(j + 1 - i);
        p->pos = j + 1;
        return;
    }
    if (c == '`') {
        size_t j = i + 1;
        while (j < p->n && s[j] != '`') j++;
        if (j >= p->n) {
            t->kind = T_BAD;
            perr(p, SR_E_EXPR_SYNTAX, (uint32_t)i, 1,
                 "unterminated `name`: expected a closing backtick");
            p->pos = p->n;
            return;
        }
        if (j == i + 1) perr(p, SR_E_EXPR_SYNTAX, (uint32_t)i, 2, "empty `name`");
        t->kind = T_QNAME;
        t->len = (uint32_t)(j + 1 - i);
        p->pos = j + 1;
        return;
    }
    if (is_name_start(c)) {
        size_t j = i;
        while (j < p->n && is_name_char((unsigned char)s[j])) j++;
        t->kind = T_IDENT;
        t->len = (uint32_t)(j - i);
        p->pos = j;
        return;
    }
    if (c == '$') {
        size_t j = i + 1;
        while (j < p->n && is_name_char((unsigned char)s[j])) j++;
        t->kind = T_META;
        t->len = (uint32_t)(j - i);
        p->pos = j;
        return;
    }
    static const char *two[] = {"==", "!=", "<=", ">=", "??", "&&", "||", NULL};
    for (int k = 0; two[k]; k++) {
        if (i + 1 < p->n && s[i] == two[k][0] && s[i + 1] == two[k][1]) {
            t->kind = T_OP;
            t->len = 2;
            memcpy(t->op, two[k], 2);
            p->pos = i + 2;
            return;
        }
    }
    if (strchr("+-*/%<>()[],.?:!", c)) {
        t->kind = T_OP;
        t->len = 1;
        t->op[0] = (char)c;
        p->pos = i + 1;
        return;
    }
    if (c == '=') {
        perr(p, SR_E_EXPR_SYNTAX, (uint32_t)i, 1, "unexpected '='; did you mean '=='?");
        char *line = rewritten_line(p, (uint32_t)i, 1, "==");
        if (line) sr_diag_help(p->ck->dg, "compare with '==':\n%s", line);
        free(line);
    } else if (c >= 0x20 && c < 0x7f) {
        perr(p, SR_E_EXPR_SYNTAX, (uint32_t)i, 1, "unexpected character '%c'", c);
    } else {
        perr(p, SR_E_EXPR_SYNTAX, (uint32_t)i, 1, "unexpected byte 0x%02x", c);
    }
    t->kind = T_BAD;
    t->len = 1;
    p->pos = p->n; /* one lexical error per expression is enough */
}

static bool is_op(const parser *p, const char *op)
{
    return p->tok.kind == T_OP && strcmp(p->tok.op, op) == 0;
}

static bool is_kw(const parser *p, const char *kw)
{
    return p->tok.kind == T_IDENT && p->tok.len == strlen(kw) &&
           memcmp(p->s + p->tok.off, kw, p->tok.len) == 0;
}

static void describe_tok(const parser *p, char *buf, size_t size)
{
    if (p->tok.kind == T_EOF)
        snprintf(buf, size, "the end of the expression");
    else
        snprintf(buf, size, "'%.*s'", (int)(p->tok.len > 40 ? 40 : p->tok.len), p->s + p->tok.off);
}

/* ---- nodes ------------------------------------------------------------------- */

static enode *mknode(parser *p, node_kind k, uint32_t off, uint32_t end, int nkids)
{
    enode *n = sr_arena_calloc(&p->e->pool, sizeof(*n));
    n->kind = k;
    n->off = off;
    n->len = end > off ? end - off : 0;
    n->height = 1;
    n->nkids = nkids;
    if (nkids) n->kids = sr_arena_calloc(&p->e->pool, sizeof(enode *) * (size_t)nkids);
    return n;
}

/* Sets n's height from its kids, now attached. A tree past SR_MAX_HEIGHT is
 * refused at the operator that made it too deep (off, len), so that checking
 * and evaluating it, which recurse once per level, cannot overflow the stack.
 * Returns n, or NULL after the error. */
static enode *seal(parser *p, enode *n, uint32_t off, uint32_t len)
{
    for (int i = 0; i < n->nkids; i++) {
        assert(n->kids[i] && n->kids[i]->height >= 1);
        if (n->kids[i]->height + 1 > n->height) n->height = n->kids[i]->height + 1;
    }
    if (n->height <= SR_MAX_HEIGHT) return n;
    perr(p, SR_E_EXPR_TOO_DEEP, off, len,
         "expression too deep: more than %d levels of operators (each operator of a chain such as "
         "'a + b + c' is one level); split it over several steps",
         SR_MAX_HEIGHT);
    return NULL;
}

/* Appends a step to field path n, doubling its room as needed (a long path
 * costs linear, not quadratic, memory). */
static void path_push(parser *p, enode *n, path_seg seg)
{
    assert(n->kind == N_FIELD);
    if (n->u.path.nsegs == n->u.path.cap) {
        int cap = n->u.path.cap ? 2 * n->u.path.cap : 4;
        path_seg *segs = sr_arena_alloc(&p->e->pool, sizeof(path_seg) * (size_t)cap);
        memcpy(segs, n->u.path.segs, sizeof(path_seg) * (size_t)n->u.path.nsegs);
        n->u.path.segs = segs;
        n->u.path.cap = cap;
    }
    n->u.path.segs[n->u.path.nsegs++] = seg;
}

static uint32_t node_end(const enode *n)
{
    return n->off + n->len;
}

/* Decodes a quoted string literal token into the pool. */
static bool decode_string(parser *p, const token *t, sr_value *out)
{
    const char *s = p->s + t->off + 1;
    size_t n = t->len - 2;
    char *d = sr_arena_alloc(&p->e->pool, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c != '\\') {
            d[j++] = c;
            continue;
        }
        char e = s[++i];
        switch (e) {
        case 'n': d[j++] = '\n'; break;
        case 't': d[j++] = '\t'; break;
        case 'r': d[j++] = '\r'; break;
        case '\\': d[j++] = '\\'; break;
        case '"': d[j++] = '"'; break;
        case '\'': d[j++] = '\''; break;
        case '0': d[j++] = '\0'; break;
        default:
            perr(p, SR_E_EXPR_SYNTAX, t->off + 1 + (uint32_t)i - 1, 2,
                 "unknown escape '\\%c' in string", e);
            return false;
        }
    }
    d[j] = 0;
    *out = sr_str(d, j);
    return true;
}

static enode *parse_expr(parser *p);

static enode *parse_args(parser *p, enode *call, uint32_t start)
{
    enode *args[64];
    int n = 0;
    next(p); /* ( */
    if (!is_op(p, ")")) {
        for (;;) {
            enode *a = parse_expr(p);
            if (!a) return NULL;
            if (n == 64) {
                perr(p, SR_E_EXPR_TOO_DEEP, a->off, a->len,
                     "too many arguments: a call takes at most 64");
                return NULL;
            }
            args[n++] = a;
            if (is_op(p, ",")) {
                next(p);
                continue;
            }
            break;
        }
    }
    if (!is_op(p, ")")) {
        char what[64];
        describe_tok(p, what, sizeof(what));
        perr(p, SR_E_EXPR_SYNTAX, p->tok.off, p->tok.len,
             "expected ',' or ')' in the argument list, found %s", what);
        return NULL;
    }
    uint32_t end = p->tok.off + 1;
    next(p);
    enode *c = mknode(p, N_CALL, start, end, n);
    c->u.fn = call->u.fn;
    for (int i = 0; i < n; i++) c->kids[i] = args[i];
    return seal(p, c, start, (uint32_t)strlen(c->u.fn->doc.name));
}

static bool meta_from_name(const char *s, size_t n, meta_kind *m)
{
    static const struct {
        const char *name;
        meta_kind kind;
    } metas[] = {{"key", M_KEY},
                 {"timestamp", M_TIMESTAMP},
                 {"partition", M_PARTITION},
                 {"offset", M_OFFSET},
                 {"topic", M_TOPIC}};
    for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
        if (strlen(metas[i].name) == n && memcmp(metas[i].name, s, n) == 0) {
            *m = metas[i].kind;
            return true;
        }
    }
    return false;
}

/* Names other languages give functions that streamrun spells otherwise. */
static const struct {
    const char *name, *ours;
} func_aliases[] = {
    {"integer", "int"},
    {"toInt", "int"},
    {"parseInt", "int"},
    {"trunc", "int"},
    {"truncate", "int"},
    {"float", "to_number"},
    {"double", "to_number"},
    {"number", "to_number"},
    {"parseFloat", "to_number"},
    {"tonumber", "to_number"},
    {"str", "to_string"},
    {"string", "to_string"},
    {"tostring", "to_string"},
    {"length", "len"},
    {"size", "len"},
    {"strlen", "len"},
    {"lowercase", "lower"},
    {"tolower", "lower"},
    {"uppercase", "upper"},
    {"toupper", "upper"},
    {"strip", "trim"},
    {"substring", "substr"},
    {"startswith", "starts_with"},
    {"endswith", "ends_with"},
    {"ifnull", "coalesce"},
    {"nvl", "coalesce"},
    {"isnull", "is_null"},
    {"power", "pow"},
    {"ln", "log"},
    {"iif", "if"},
    {"exists", "has"},
    {"concatenate", "concat"},
};

#define NALIASES     ((int)(sizeof(func_aliases) / sizeof(func_aliases[0])))
#define MAX_SUGGESTS 3 /* close function names an unknown one lists */

/* An unknown function name at [off, off+len): "did you mean" the function streamrun spells
 * that way (integer -> int) or the closest names, with the line rewritten to the first. */
static void unknown_function(parser *p, uint32_t off, uint32_t len)
{
    char want[64];
    snprintf(want, sizeof(want), "%.*s", (int)(len > 60 ? 60 : len), p->s + off);
    const char *cands[128 + NALIASES], *ours[128 + NALIASES];
    int nc = 0;
    for (const func *g = sr_funcs; g->doc.name && nc < 128; g++) {
        cands[nc] = ours[nc] = g->doc.name;
        nc++;
    }
    for (int i = 0; i < NALIASES; i++) {
        cands[nc] = func_aliases[i].name;
        ours[nc++] = func_aliases[i].ours;
    }
    const char *close[128 + NALIASES], *sug[MAX_SUGGESTS];
    int nclose = 0, nsug = 0;
    for (int i = 0; i < NALIASES; i++) /* the name as another language spells it */
        if (strcmp(want, func_aliases[i].name) == 0) close[nclose++] = func_aliases[i].name;
    nclose += sr_suggest_all(want, cands, nc, close + nclose, nc);
    for (int i = 0; i < nclose && nsug < MAX_SUGGESTS; i++) {
        const char *name = NULL;
        for (int j = 0; j < nc && !name; j++)
            if (strcmp(cands[j], close[i]) == 0) name = ours[j];
        bool dup = false;
        for (int j = 0; j < nsug; j++) dup |= strcmp(sug[j], name) == 0;
        if (!dup) sug[nsug++] = name;
    }
    if (nsug == 0) {
        perr(p, SR_E_UNKNOWN_FUNCTION, off, len, "unknown function '%s'", want);
        if (!p->ck) return;
        sr_buf all = {0};
        for (const func *g = sr_funcs; g->doc.name; g++)
            sr_buf_printf(&all, "%s%s", g == sr_funcs ? "" : ", ", g->doc.name);
        sr_diag_help(p->ck->dg, "the functions are %s", sr_buf_cstr(&all));
        sr_buf_free(&all);
        return;
    }
    char list[256] = "";
    size_t l = 0;
    for (int i = 0; i < nsug; i++)
        l += (size_t)snprintf(list + l, sizeof(list) - l, "%s'%s'",
                              i == 0          ? ""
                              : i == nsug - 1 ? " or "
                                              : ", ",
                              sug[i]);
    perr(p, SR_E_UNKNOWN_FUNCTION, off, len, "unknown function '%s'; did you mean %s?", want, list);
    char *line = rewritten_line(p, off, len, sug[0]);
    if (line) sr_diag_help(p->ck->dg, "write '%s':\n%s", sug[0], line);
    free(line);
}

static enode *parse_primary(parser *p)
{
    token t = p->tok;
    const char *s = p->s + t.off;
    switch (t.kind) {
    case T_NUM: {
        enode *n = mknode(p, N_LIT, t.off, t.off + t.len, 0);
        sr_value raw = {
            .type = SR_NUM, .len = t.len, .u.s = sr_arena_strndup(&p->e->pool, s, t.len)};
        sr_value v = sr_num_norm(&raw);
        if (v.type == SR_DBL && memchr(s, '.', t.len) == NULL && memchr(s, 'e', t.len) == NULL &&
            memchr(s, 'E', t.len) == NULL) {
            perr(p, SR_E_EXPR_NUMBER, t.off, t.len,
                 "integer literal '%.*s' does not fit in 64 bits", (int)t.len, s);
        } else if (v.type == SR_DBL && !isfinite(v.u.d)) {
            perr(p, SR_E_EXPR_NUMBER, t.off, t.len, "number literal '%.*s' is out of range",
                 (int)t.len, s);
        }
        n->u.lit = v;
        n->type = SR_T_NUM;
        next(p);
        return n;
    }
    case T_STR: {
        enode *n = mknode(p, N_LIT, t.off, t.off + t.len, 0);
        if (!decode_string(p, &t, &n->u.lit)) return NULL;
        n->type = SR_T_STR;
        next(p);
        return n;
    }
    case T_QNAME:
    case T_IDENT: {
        if (t.kind == T_IDENT) {
            if (is_kw(p, "true") || is_kw(p, "false")) {
                enode *n = mknode(p, N_LIT, t.off, t.off + t.len, 0);
                n->u.lit = sr_bool(s[0] == 't');
                n->type = SR_T_BOOL;
                next(p);
                return n;
            }
            if (is_kw(p, "null")) {
                enode *n = mknode(p, N_LIT, t.off, t.off + t.len, 0);
                n->u.lit = sr_null();
                n->type = SR_T_NULL;
                next(p);
                return n;
            }
            if (is_kw(p, "and") || is_kw(p, "or")) {
                perr(p, SR_E_EXPR_SYNTAX, t.off, t.len, "expected an expression before '%.*s'",
                     (int)t.len, s);
                return NULL;
            }
        }
        const char *name = t.kind == T_QNAME ? s + 1 : s;
        uint32_t nlen = t.kind == T_QNAME ? t.len - 2 : t.len;
        next(p);
        if (t.kind == T_IDENT && is_op(p, "(")) {
            const func *f = sr_func_find(name, nlen);
            if (!f) {
                unknown_function(p, t.off, t.len);
                return NULL;
            }
            enode tmp = {.u.fn = f};
            return parse_args(p, &tmp, t.off);
        }
        enode *n = mknode(p, N_FIELD, t.off, t.off + t.len, 0);
        n->u.path.segs = sr_arena_calloc(&p->e->pool, sizeof(path_seg));
        n->u.path.segs[0].name = sr_arena_strndup(&p->e->pool, name, nlen);
        n->u.path.segs[0].nlen = nlen;
        n->u.path.nsegs = n->u.path.cap = 1;
        return n;
    }
    case T_META: {
        meta_kind m;
        if (!meta_from_name(s + 1, t.len - 1, &m)) {
            static const char *names[] = {"$key", "$timestamp", "$partition", "$offset", "$topic"};
            char want[64];
            snprintf(want, sizeof(want), "%.*s", (int)(t.len > 60 ? 60 : t.len), s);
            const char *sug = sr_suggest(want, names, 5);
            if (sug)
                perr(p, SR_E_UNKNOWN_METADATA, t.off, t.len,
                     "unknown record metadata '%s'; did you mean '%s'?", want, sug);
            else
                perr(p, SR_E_UNKNOWN_METADATA, t.off, t.len,
                     "unknown record metadata '%s' (expected $key, $timestamp, $partition, "
                     "$offset or $topic)",
                     want);
            return NULL;
        }
        enode *n = mknode(p, N_META, t.off, t.off + t.len, 0);
        n->u.meta = m;
        n->type = (m == M_KEY || m == M_TOPIC) ? SR_T_ANY : SR_T_NUM;
        next(p);
        return n;
    }
    case T_OP:
        if (is_op(p, "(")) {
            if (p->depth + 1 > MAX_NESTING) { /* point at the '(' itself */
                perr(p, SR_E_EXPR_TOO_DEEP, t.off, 1, "expression nested more than %d levels deep",
                     MAX_NESTING);
                return NULL;
            }
            next(p);
            enode *inner = parse_expr(p);
            if (!inner) return NULL;
            if (!is_op(p, ")")) {
                char what[64], buf[48];
                describe_tok(p, what, sizeof(what));
                perr(p, SR_E_EXPR_SYNTAX, p->tok.off, p->tok.len,
                     "expected ')' to close the '(' at %s, found %s",
                     where_is(p, t.off, buf, sizeof(buf)), what);
                return NULL;
            }
            /* widen the span to cover the parentheses */
            inner->len = p->tok.off + 1 - inner->off;
            if (inner->off > t.off) {
                inner->len += inner->off - t.off;
                inner->off = t.off;
            }
            next(p);
            return inner;
        }
        /* fall through */
    default: {
        if (t.kind == T_BAD) return NULL;
        char what[64];
        describe_tok(p, what, sizeof(what));
        perr(p, SR_E_EXPR_SYNTAX, t.off, t.len, "expected an expression, found %s", what);
        return NULL;
    }
    }
}

static enode *parse_postfix(parser *p)
{
    enode *n = parse_primary(p);
    while (n) {
        if (is_op(p, ".")) {
            uint32_t dot = p->tok.off;
            next(p);
            if (p->tok.kind != T_IDENT && p->tok.kind != T_QNAME) {
                char what[64];
                describe_tok(p, what, sizeof(what));
                perr(p, SR_E_EXPR_SYNTAX, p->tok.off, p->tok.len,
                     "expected a field name after '.', found %s", what);
                return NULL;
            }
            const char *name = p->s + p->tok.off + (p->tok.kind == T_QNAME);
            uint32_t nlen = p->tok.len - (p->tok.kind == T_QNAME ? 2 : 0);
            uint32_t end = p->tok.off + p->tok.len;
            next(p);
            if (n->kind == N_FIELD) { /* extend the path */
                path_push(p, n, (path_seg){sr_arena_strndup(&p->e->pool, name, nlen), nlen, 0});
                n->len = end - n->off;
            } else {
                enode *g = mknode(p, N_GET, n->off, end, 1);
                g->kids[0] = n;
                g->u.get.name = sr_arena_strndup(&p->e->pool, name, nlen);
                g->u.get.nlen = nlen;
                n = seal(p, g, dot, 1);
            }
        } else if (is_op(p, "[")) {
            uint32_t open = p->tok.off;
            next(p);
            enode *idx = parse_expr(p);
            if (!idx) return NULL;
            if (!is_op(p, "]")) {
                char what[64], buf[48];
                describe_tok(p, what, sizeof(what));
                perr(p, SR_E_EXPR_SYNTAX, p->tok.off, p->tok.len,
                     "expected ']' to close the '[' at %s, found %s",
                     where_is(p, open, buf, sizeof(buf)), what);
                return NULL;
            }
            uint32_t end = p->tok.off + 1;
            next(p);
            if (n->kind == N_FIELD && idx->kind == N_LIT &&
                (idx->u.lit.type == SR_INT || idx->u.lit.type == SR_STR)) {
                path_seg seg = {0};
                if (idx->u.lit.type == SR_INT) {
                    seg.index = idx->u.lit.u.i;
                } else {
                    seg.name = idx->u.lit.u.s;
                    seg.nlen = idx->u.lit.len;
                }
                path_push(p, n, seg);
                n->len = end - n->off;
            } else {
                enode *x = mknode(p, N_INDEX, n->off, end, 2);
                x->kids[0] = n;
                x->kids[1] = idx;
                n = seal(p, x, open, 1);
            }
        } else {
            break;
        }
    }
    return n;
}

enum { PREC_CMP = 4 }; /* precedence of the comparisons in binops[] */

static enode *parse_binary(parser *p, int min_prec);

/* Unary '-' and '!' bind tightest; the keyword 'not' applies to a whole
 * comparison, as in Python and SQL: 'not x > 1' is 'not (x > 1)'. */
static enode *parse_unary(parser *p)
{
    token t = p->tok;
    if (is_op(p, "-") || is_op(p, "!") || is_kw(p, "not")) {
        if (p->depth + 1 > MAX_NESTING) {
            perr(p, SR_E_EXPR_TOO_DEEP, t.off, t.len, "expression nested more than %d levels deep",
                 MAX_NESTING);
            return NULL;
        }
        next(p);
        p->depth++;
        enode *k = t.kind == T_IDENT ? parse_binary(p, PREC_CMP) : parse_unary(p);
        p->depth--;
        if (!k) return NULL;
        bool neg = t.op[0] == '-';
        /* fold -literal into a literal */
        if (neg && k->kind == N_LIT && (k->u.lit.type == SR_INT || k->u.lit.type == SR_DBL)) {
            if (k->u.lit.type == SR_DBL) {
                k->u.lit.u.d = -k->u.lit.u.d;
            } else if (k->u.lit.u.i != INT64_MIN) {
                k->u.lit.u.i = -k->u.lit.u.i;
            }
            k->len = node_end(k) - t.off;
            k->off = t.off;
            return k;
        }
        enode *n = mknode(p, neg ? N_NEG : N_NOT, t.off, node_end(k), 1);
        n->kids[0] = k;
        return seal(p, n, t.off, t.len);
    }
    return parse_postfix(p);
}

typedef struct binop {
    const char *tok; /* operator or keyword */
    node_kind kind;
    int prec;
} binop;

static const binop binops[] = {
    {"??", N_COALESCE, 1}, {"or", N_OR, 2}, {"||", N_OR, 2}, {"and", N_AND, 3},
    {"&&", N_AND, 3},      {"==", N_EQ, 4}, {"!=", N_NE, 4}, {"<", N_LT, 4},
    {"<=", N_LE, 4},       {">", N_GT, 4},  {">=", N_GE, 4}, {"+", N_ADD, 5},
    {"-", N_SUB, 5},       {"*", N_MUL, 6}, {"/", N_DIV, 6}, {"%", N_MOD, 6},
};

static const binop *peek_binop(const parser *p)
{
    for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++) {
        const binop *b = &binops[i];
        if (isalpha((unsigned char)b->tok[0]) ? is_kw(p, b->tok) : is_op(p, b->tok)) return b;
    }
    return NULL;
}

static enode *parse_binary(parser *p, int min_prec)
{
    enode *l = parse_unary(p);
    while (l) {
        const binop *b = peek_binop(p);
        if (!b || b->prec < min_prec) break;
        token optok = p->tok;
        next(p);
        /* comparisons do not chain; everything else is left-associative */
        enode *r = parse_binary(p, b->prec + 1);
        if (!r) return NULL;
        if (b->prec == PREC_CMP) {
            const binop *b2 = peek_binop(p);
            if (b2 && b2->prec == PREC_CMP) {
                perr(p, SR_E_EXPR_SYNTAX, p->tok.off, p->tok.len,
                     "comparisons do not chain: write 'a < b and b < c' instead of 'a < b < c'");
                return NULL;
            }
        }
        enode *n = mknode(p, b->kind, l->off, node_end(r), 2);
        n->kids[0] = l;
        n->kids[1] = r;
        l = seal(p, n, optok.off, optok.len);
    }
    return l;
}

static enode *parse_expr_nested(parser *p);

/* Every nested construct passes through here or parse_unary: bound the depth
 * so that a hostile expression cannot overflow the stack. */
static enode *parse_expr(parser *p)
{
    if (++p->depth > MAX_NESTING) {
        perr(p, SR_E_EXPR_TOO_DEEP, p->tok.off, p->tok.len,
             "expression nested more than %d levels deep", MAX_NESTING);
        p->depth--;
        return NULL;
    }
    enode *n = parse_expr_nested(p);
    p->depth--;
    return n;
}

static enode *parse_expr_nested(parser *p)
{
    enode *c = parse_binary(p, 1);
    if (!c || !is_op(p, "?")) return c;
    token q = p->tok;
    next(p);
    enode *a = parse_expr(p);
    if (!a) return NULL;
    if (!is_op(p, ":")) {
        char what[64];
        describe_tok(p, what, sizeof(what));
        perr(p, SR_E_EXPR_SYNTAX, p->tok.off, p->tok.len,
             "expected ':' in 'condition ? a : b', found %s", what);
        return NULL;
    }
    next(p);
    enode *b = parse_expr(p);
    if (!b) return NULL;
    enode *n = mknode(p, N_COND, c->off, node_end(b), 3);
    n->kids[0] = c;
    n->kids[1] = a;
    n->kids[2] = b;
    return seal(p, n, q.off, q.len);
}

/* ---- static types -------------------------------------------------------------- */

const char *sr_stype_name(sr_stype t)
{
    static const char *names[] = {"any", "null", "boolean", "number", "string", "array", "object"};
    return names[t];
}

static const char *op_text(node_kind k)
{
    for (size_t i = 0; i < sizeof(binops) / sizeof(binops[0]); i++)
        if (binops[i].kind == k) return binops[i].tok;
    return "?";
}

static sr_stype join(sr_stype a, sr_stype b)
{
    if (a == b) return a;
    if (a == SR_T_NULL) return b == SR_T_ANY ? SR_T_ANY : b;
    if (b == SR_T_NULL) return a;
    return SR_T_ANY;
}

static bool num_ok(sr_stype t)
{
    return t == SR_T_ANY || t == SR_T_NUM;
}

static bool bool_ok(sr_stype t)
{
    return t == SR_T_ANY || t == SR_T_BOOL || t == SR_T_NULL;
}

static void check_field(parser *p, enode *n)
{
    if (!p->ck || !p->ck->schema.closed) return;
    const char *name = n->u.path.segs[0].name;
    if (sr_schema_has(&p->ck->schema, name)) return;
    const sr_schema *s = &p->ck->schema;
    const char *sug = sr_suggest(name, (const char *const *)s->names, s->n);
    char known[300] = "";
    size_t kl = 0;
    for (int i = 0; i < s->n && kl < sizeof(known) - 40; i++)
        kl += (size_t)snprintf(known + kl, sizeof(known) - kl, "%s%s", i ? ", " : "", s->names[i]);
    uint32_t len = n->u.path.segs[0].nlen + (p->s[n->off] == '`' ? 2 : 0);
    if (sug)
        perr(p, SR_E_UNKNOWN_FIELD, n->off, len,
             "field '%s' does not exist here; did you mean '%s'? (fields: %s)", name, sug, known);
    else
        perr(p, SR_E_UNKNOWN_FIELD, n->off, len, "field '%s' does not exist here (fields: %s)",
             name, known);
    sr_note_gone(p->ck, name);
}

/* ---- field references: the type the schema knows ---------------------------------- */

/* Index of the field named by seg in s, or -1. */
static int seg_find(const sr_schema *s, const path_seg *seg)
{
    for (int i = 0; s && seg->name && i < s->n; i++)
        if (strlen(s->names[i]) == seg->nlen && memcmp(s->names[i], seg->name, seg->nlen) == 0)
            return i;
    return -1;
}

/* Reports that segment k of field path n names no field of s, the closed shape of the object
 * segment k - 1 names. */
static void no_member(parser *p, const enode *n, int k, const sr_schema *s)
{
    const path_seg *seg = &n->u.path.segs[k], *parent = &n->u.path.segs[k - 1];
    char name[128], known[300] = "", path[300] = "";
    snprintf(name, sizeof(name), "%.*s", (int)seg->nlen, seg->name);
    size_t kl = 0, pl = 0;
    for (int i = 0; i < s->n && kl < sizeof(known) - 40; i++)
        kl += (size_t)snprintf(known + kl, sizeof(known) - kl, "%s%s", i ? ", " : "", s->names[i]);
    for (int i = 0; i < k && pl < sizeof(path) - 40; i++) /* the object's path, for the help */
        pl += (size_t)snprintf(path + pl, sizeof(path) - pl, "%s%.*s", i ? "." : "",
                               (int)n->u.path.segs[i].nlen,
                               n->u.path.segs[i].name ? n->u.path.segs[i].name : "[]");
    const char *sug = sr_suggest(name, (const char *const *)s->names, s->n);
    p->nerr++;
    sr_mark m = sr_ysub_mark(p->where, p->base + n->off, n->len ? n->len : 1);
    sr_errc(p->ck->dg, SR_E_NO_MEMBER, p->ck->file, m,
            "'%.*s' has no field '%s'%s%s%s (its fields: %s)", (int)parent->nlen,
            parent->name ? parent->name : "[]", name, sug ? "; did you mean '" : "", sug ? sug : "",
            sug ? "'?" : "", known);
    if (sug) sr_diag_help(p->ck->dg, "%s.%s", path, sug);
}

/* Reports that segment k of field path n takes a field of a value known not to be an object
 * (of type t): a number, a string, a boolean or an array. */
static void not_object(parser *p, const enode *n, int k, sr_stype t)
{
    const path_seg *seg = &n->u.path.segs[k];
    char path[300] = "";
    size_t pl = 0;
    for (int i = 0; i < k && pl < sizeof(path) - 40; i++) {
        const path_seg *s = &n->u.path.segs[i];
        if (s->name)
            pl += (size_t)snprintf(path + pl, sizeof(path) - pl, "%s%.*s", i ? "." : "",
                                   (int)s->nlen, s->name);
        else
            pl += (size_t)snprintf(path + pl, sizeof(path) - pl, "[%lld]", (long long)s->index);
    }
    p->nerr++;
    sr_mark m = sr_ysub_mark(p->where, p->base + n->off, n->len ? n->len : 1);
    sr_errc(p->ck->dg, SR_E_NOT_OBJECT, p->ck->file, m,
            "cannot take field '%.*s' of '%s': it is %s here, not an object", (int)seg->nlen,
            seg->name, path,
            t == SR_T_ARR   ? "an array"
            : t == SR_T_NUM ? "a number"
            : t == SR_T_STR ? "a string"
                            : "a boolean");
    if (t == SR_T_ARR)
        sr_diag_help(p->ck->dg, "take it of an element: %s[0].%.*s", path, (int)seg->nlen,
                     seg->name);
}

/* The static type of field path n where it is read: what ck->schema knows of it (through
 * objects' known fields and arrays' element types), SR_T_ANY where nothing is known. A field an
 * object's closed shape does not have, and a field of a value known not to be an object, are
 * reported. */
static sr_stype field_type(parser *p, const enode *n)
{
    if (!p->ck) return SR_T_ANY;
    const sr_schema *s = &p->ck->schema;
    sr_stype t = SR_T_ANY, elem = SR_T_ANY;
    for (int k = 0; k < n->u.path.nsegs; k++) {
        const path_seg *seg = &n->u.path.segs[k];
        if (!seg->name) { /* an index: an element of a known array */
            t = t == SR_T_ARR ? elem : SR_T_ANY;
            s = NULL;
            elem = SR_T_ANY;
            continue;
        }
        if (k > 0 && (t == SR_T_NUM || t == SR_T_STR || t == SR_T_BOOL || t == SR_T_ARR)) {
            not_object(p, n, k, t);
            return SR_T_ANY;
        }
        int i = seg_find(s, seg);
        if (i < 0 && k > 0 && s && s->closed && t == SR_T_OBJ) no_member(p, n, k, s);
        if (i < 0) return SR_T_ANY;
        t = s->types[i];
        elem = s->elems[i];
        s = s->subs[i];
    }
    return t;
}

/* A call's own argument check; out of line so that the types array is not in
 * the frame of every level of typecheck's recursion. */
static __attribute__((noinline)) void check_call(parser *p, const enode *n)
{
    sr_stype types[64];
    assert(n->nkids <= 64); /* the parser refuses more arguments */
    for (int i = 0; i < n->nkids; i++) types[i] = n->kids[i]->type;
    const char *msg = n->u.fn->check(n, types, n->nkids);
    if (msg) perr(p, SR_E_FUNCTION_ARGUMENT, n->off, n->len, "%s", msg);
}

/* Recurses once per level: the parser has bounded the height (SR_MAX_HEIGHT). */
static void typecheck(parser *p, enode *n)
{
    for (int i = 0; i < n->nkids; i++) typecheck(p, n->kids[i]);
    sr_stype a = n->nkids > 0 ? n->kids[0]->type : SR_T_ANY;
    sr_stype b = n->nkids > 1 ? n->kids[1]->type : SR_T_ANY;
    switch (n->kind) {
    case N_LIT:
    case N_META: break;
    case N_FIELD:
        n->type = field_type(p, n);
        check_field(p, n);
        break;
    case N_GET:
        if (a != SR_T_ANY && a != SR_T_OBJ)
            perr(p, SR_E_OPERAND_TYPE, n->off, n->len, "cannot take a field of a %s",
                 sr_stype_name(a));
        n->type = SR_T_ANY;
        break;
    case N_INDEX:
        if (a != SR_T_ANY && a != SR_T_OBJ && a != SR_T_ARR)
            perr(p, SR_E_OPERAND_TYPE, n->off, n->len, "cannot index a %s", sr_stype_name(a));
        if (b != SR_T_ANY && b != SR_T_NUM && b != SR_T_STR)
            perr(p, SR_E_OPERAND_TYPE, n->kids[1]->off, n->kids[1]->len,
                 "an index must be a number or a string, not %s", sr_stype_name(b));
        n->type = SR_T_ANY;
        break;
    case N_NEG:
        if (!num_ok(a))
            perr(p, SR_E_OPERAND_TYPE, n->off, n->len, "unary '-' needs a number, not %s",
                 sr_stype_name(a));
        n->type = SR_T_NUM;
        break;
    case N_NOT:
        if (!bool_ok(a))
            perr(p, SR_E_OPERAND_TYPE, n->off, n->len, "'%s' needs a boolean, not %s",
                 p->s[n->off] == '!' ? "!" : "not", sr_stype_name(a));
        n->type = SR_T_BOOL;
        break;
    case N_ADD:
        if ((a == SR_T_STR || a == SR_T_ANY) && (b == SR_T_STR || b == SR_T_ANY) &&
            (a == SR_T_STR || b == SR_T_STR)) {
            n->type = SR_T_STR;
            break;
        }
        /* fall through */
    case N_SUB:
    case N_MUL:
    case N_DIV:
    case N_MOD:
        if (!num_ok(a) || !num_ok(b)) {
            const enode *bad = !num_ok(a) ? n->kids[0] : n->kids[1];
            /* '+' also joins strings: next to a string, blame the other operand */
            if (n->kind == N_ADD && a == SR_T_STR && b != SR_T_STR && !num_ok(b)) bad = n->kids[1];
            perr(p, SR_E_OPERAND_TYPE, bad->off, bad->len, "operator '%s' needs numbers%s, not %s",
                 op_text(n->kind), n->kind == N_ADD ? " (or two strings)" : "",
                 sr_stype_name(bad->type));
        }
        n->type = (n->kind == N_ADD && (a == SR_T_ANY && b == SR_T_ANY)) ? SR_T_ANY : SR_T_NUM;
        break;
    case N_EQ:
    case N_NE:
        if (a != SR_T_ANY && b != SR_T_ANY && a != SR_T_NULL && b != SR_T_NULL && a != b)
            perr(p, SR_E_ALWAYS_SAME, n->off, n->len, "comparing a %s with a %s is always %s",
                 sr_stype_name(a), sr_stype_name(b), n->kind == N_EQ ? "false" : "true");
        n->type = SR_T_BOOL;
        break;
    case N_LT:
    case N_LE:
    case N_GT:
    case N_GE:
        for (int i = 0; i < 2; i++) {
            sr_stype t = n->kids[i]->type;
            if (t != SR_T_ANY && t != SR_T_NUM && t != SR_T_STR)
                perr(p, SR_E_OPERAND_TYPE, n->kids[i]->off, n->kids[i]->len,
                     "operator '%s' compares numbers or strings, not %s", op_text(n->kind),
                     sr_stype_name(t));
        }
        if ((a == SR_T_NUM && b == SR_T_STR) || (a == SR_T_STR && b == SR_T_NUM))
            perr(p, SR_E_OPERAND_TYPE, n->off, n->len, "cannot order a %s against a %s",
                 sr_stype_name(a), sr_stype_name(b));
        n->type = SR_T_BOOL;
        break;
    case N_AND:
    case N_OR: {
        /* name the operator as written: and/&&, or/|| */
        const char *op = op_text(n->kind);
        size_t at = node_end(n->kids[0]);
        while (at < p->n && isspace((unsigned char)p->s[at])) at++;
        if (at < p->n && (p->s[at] == '&' || p->s[at] == '|')) op = p->s[at] == '&' ? "&&" : "||";
        for (int i = 0; i < 2; i++) {
            if (!bool_ok(n->kids[i]->type))
                perr(p, SR_E_OPERAND_TYPE, n->kids[i]->off, n->kids[i]->len,
                     "'%s' needs booleans, not %s", op, sr_stype_name(n->kids[i]->type));
        }
        n->type = SR_T_BOOL;
        break;
    }
    case N_COALESCE: n->type = join(a, b); break;
    case N_COND:
        if (!bool_ok(a))
            perr(p, SR_E_OPERAND_TYPE, n->kids[0]->off, n->kids[0]->len,
                 "a condition must be a boolean, not %s", sr_stype_name(a));
        n->type = join(n->kids[1]->type, n->kids[2]->type);
        break;
    case N_CALL: {
        const func *f = n->u.fn;
        if (n->nkids < f->min || (f->max >= 0 && n->nkids > f->max)) {
            char want[48];
            if (f->max == f->min)
                snprintf(want, sizeof(want), "%d argument%s", f->min, f->min == 1 ? "" : "s");
            else if (f->max < 0)
                snprintf(want, sizeof(want), "at least %d argument%s", f->min,
                         f->min == 1 ? "" : "s");
            else
                snprintf(want, sizeof(want), "%d to %d arguments", f->min, f->max);
            perr(p, SR_E_FUNCTION_ARITY, n->off, n->len, "%s() takes %s, got %d", f->doc.name, want,
                 n->nkids);
            n->type = f->ret;
            break;
        }
        n->type = f->ret;
        if (f->check) check_call(p, n);
        break;
    }
    }
}

/* ---- entry points ---------------------------------------------------------------- */

static sr_expr *compile(parser *p, const char *text, size_t len)
{
    sr_expr *e = sr_xcalloc(1, sizeof(*e));
    sr_arena_init(&e->pool, 1024);
    e->text = sr_xstrndup(text, len);
    e->len = len;
    p->e = e;
    p->s = e->text;
    p->n = len;
    p->pos = 0;
    p->depth = -1; /* the expression itself is not nested */
    next(p);
    if (p->tok.kind == T_EOF) {
        perr(p, SR_E_EXPR_EMPTY, 0, 0, "empty expression");
    } else {
        e->root = parse_expr(p);
        if (e->root && p->tok.kind != T_EOF && p->nerr == 0) {
            char what[64];
            describe_tok(p, what, sizeof(what));
            perr(p, SR_E_EXPR_SYNTAX, p->tok.off, p->tok.len,
                 "expected an operator or the end of the expression, found %s", what);
        }
        if (e->root && p->nerr == 0) typecheck(p, e->root);
    }
    if (p->nerr) {
        sr_expr_free(e);
        return NULL;
    }
    return e;
}

/* The YAML comment on the line of plain scalar n right after it ("x == 1 #note": "#note"), as
 * [*at, *at + return) of the file's text, or 0 when none follows it. */
static size_t comment_after(const sr_ynode *n, const sr_srcfile *f, const char **at)
{
    if (n->style != 0 || !n->src || !n->flow || !f) return 0;
    const char *p = n->src + n->srclen, *end = f->text + f->len;
    if (p < f->text || p > end) return 0;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p == n->src + n->srclen || p == end || *p != '#') return 0;
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    *at = p;
    return (size_t)(e - p);
}

/* Whether text compiles as an expression on its own (syntax and the checks that need no
 * fields). */
static bool compiles(const char *text, size_t len)
{
    sr_expr *e = sr_expr_compile_text(text, len, NULL, 0);
    sr_expr_free(e);
    return e != NULL;
}

/* An expression written plain in YAML with " #" in it: YAML reads the rest as a comment. An
 * error when the expression as cut does not compile but as written does (the " #" was in a
 * string of the expression); a warning when what follows reads as a value, not a comment: one
 * blank before '#', a word right after it and nothing else ("status == open #urgent").
 * Returns true when the cut expression was reported as an error (nothing else to say). */
static bool comment_cut(const sr_ynode *n, sr_check *ck)
{
    const char *c;
    size_t clen = comment_after(n, ck->file, &c);
    if (!clen) return false;
    size_t whole = (size_t)(c + clen - n->src); /* the value as written, comment and all */
    sr_mark cm = {n->mark.line, n->mark.col + (int)(c - n->src), (int)clen};
    if (!compiles(n->text, n->len)) {
        if (!compiles(n->src, whole)) return false;
        sr_errc(ck->dg, SR_E_YAML_QUOTE, ck->file, cm,
                "YAML reads ' #' as the start of a comment: unquoted, this expression ends at "
                "'%s'",
                n->text);
        char *q = sr_yquote(n->src, whole);
        char *line =
            sr_yline_replace(ck->file, (sr_mark){n->mark.line, n->mark.col, (int)whole}, q);
        if (line) sr_diag_help(ck->dg, "quote the whole expression:\n%s", line);
        free(line);
        free(q);
        return true;
    }
    bool one_blank = c - n->src >= 2 && c[-1] == ' ' && c[-2] != ' ' && c[-2] != '\t';
    bool word = clen > 1 && (isalnum((unsigned char)c[1]) || c[1] == '_');
    for (size_t i = 1; i < clen && word; i++) word = !isspace((unsigned char)c[i]);
    if (!one_blank || !word) return false;
    sr_warnc(ck->dg, SR_W_YAML_COMMENT, ck->file, cm,
             "'%.*s' is a YAML comment, not part of the expression '%s'", (int)clen, c, n->text);
    sr_diag_help(ck->dg,
                 "a comment has a blank after '#' ('# %.*s'); text to compare with is written "
                 "as a string, in an expression in quotes (\"... == '%.*s'\")",
                 (int)clen - 1, c + 1, (int)clen, c);
    return false;
}

/* A plain expression inside {...} or [...] cut at a ',' of its own ("round(x, 1)": YAML reads
 * "round(x" and a key "1)"): an error with the line rewritten when the expression as written up
 * to the ',', '}' or ']' that ends it compiles. Returns true when reported. */
static bool flow_comma_cut(const sr_ynode *n, sr_check *ck)
{
    if (n->style != 0 || !n->src || !n->flow || !ck->file) return false;
    const char *s = n->src, *end = ck->file->text + ck->file->len, *p = s + n->srclen;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p >= end || *p != ',') return false;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t whole = sr_yvalue_len(s, nl ? (size_t)(nl - s) : (size_t)(end - s), true);
    if (whole <= n->srclen || compiles(n->text, n->len) || !compiles(s, whole)) return false;
    sr_mark m = {n->mark.line, n->mark.col, (int)whole};
    sr_errc(ck->dg, SR_E_YAML_QUOTE, ck->file, m,
            "a value inside {...} or [...] that contains ',' must be quoted: unquoted, this "
            "expression ends at '%s'",
            n->text);
    char *q = sr_yquote(s, whole);
    char *line = sr_yline_replace(ck->file, m, q);
    if (line) sr_diag_help(ck->dg, "quote the whole expression:\n%s", line);
    free(line);
    free(q);
    return true;
}

/* Whether n lies in a value already reported as one that must be quoted (the rest of an
 * expression cut at a ',' that YAML read as more entries). */
static bool in_quote_error(const sr_ynode *n, const sr_check *ck)
{
    for (int i = 0; i < ck->dg->n; i++) {
        const sr_diag_entry *d = &ck->dg->v[i];
        if (d->code == SR_E_YAML_QUOTE && d->file == ck->file && d->mark.line == n->mark.line &&
            n->mark.col > d->mark.col && n->mark.col <= d->mark.col + d->mark.len)
            return true;
    }
    return false;
}

sr_expr *sr_expr_compile(const sr_ynode *n, sr_check *ck)
{
    parser p = {.ck = ck, .where = n};
    if (!sr_yis_scalar(n)) {
        sr_errc(ck->dg, SR_E_NOT_AN_EXPRESSION, ck->file, n->mark,
                "expected an expression (a string), found a %s", sr_ykind_name(n));
        return NULL;
    }
    if (comment_cut(n, ck) || flow_comma_cut(n, ck)) return NULL;
    if (n->style == 0 && in_quote_error(n, ck) && !compiles(n->text, n->len)) return NULL;
    int errors = ck->dg->nerrors;
    sr_expr *e = compile(&p, n->text, n->len);
    const char *c;
    size_t clen = comment_after(n, ck->file, &c);
    if (!e && clen && ck->dg->nerrors > errors)
        sr_diag_related(ck->dg, ck->file,
                        (sr_mark){n->mark.line, n->mark.col + (int)(c - n->src), (int)clen},
                        "YAML reads this as a comment: the expression ends before it");
    return e;
}

sr_expr *sr_expr_compile_sub(const sr_ynode *n, size_t off, size_t len, sr_check *ck)
{
    assert(sr_yis_scalar(n) && off + len <= n->len);
    parser p = {.ck = ck, .where = n, .base = off};
    return compile(&p, n->text + off, len);
}

sr_expr *sr_expr_compile_text(const char *text, size_t len, char *err, size_t errsize)
{
    parser p = {.errbuf = err, .errsize = errsize};
    if (err && errsize) err[0] = 0;
    return compile(&p, text, len);
}

void sr_expr_free(sr_expr *e)
{
    if (!e) return;
    sr_arena_free(&e->pool);
    free(e->text);
    free(e);
}

sr_stype sr_expr_type(const sr_expr *e)
{
    return e->root->type;
}

const char *sr_expr_text(const sr_expr *e)
{
    return e->text;
}

const char *sr_expr_root_field(const sr_expr *e)
{
    const enode *n = e->root;
    if (n->kind != N_FIELD) return NULL;
    for (int i = 0; i < n->u.path.nsegs; i++)
        if (!n->u.path.segs[i].name) return NULL;
    return n->u.path.segs[0].name;
}
