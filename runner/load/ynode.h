/* ynode.h — the topology file as a tree of YAML nodes that keep their marks. */
#ifndef SR_YNODE_H
#define SR_YNODE_H

#include "base/diag.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum { SR_Y_SCALAR, SR_Y_MAP, SR_Y_SEQ } sr_ynode_kind;

typedef struct sr_ynode sr_ynode;
/* One YAML node. For a map, kids alternate key, value (nkids is even). A
 * scalar keeps its text after ${VAR} substitution, and whether it was
 * quoted (a quoted scalar is always a string). mark covers the node's first
 * line; for a scalar, its text as written. */
struct sr_ynode {
    sr_ynode_kind kind;
    sr_mark mark;
    char *text; /* scalar text, NUL-terminated */
    size_t len;
    bool quoted;  /* single, double quoted or block scalar */
    bool flow;    /* scalar whose text maps 1:1 to columns on its line (plain or quoted) */
    int text_col; /* 1-based column of the first character of text when flow */
    /* the scalar as written (quotes, indicator and all), for exact marks
     * inside it; NULL when ${VAR} substitution changed the text */
    const char *src;
    size_t srclen;
    char style; /* 0 plain, '\'' or '"' quoted, '|' literal, '>' folded */
    sr_ynode **kids;
    int nkids;
};

typedef struct sr_ydoc {
    const sr_srcfile *file;
    sr_ynode *root; /* NULL for an empty document */
} sr_ydoc;

/* Reads and parses path (`-`: standard input, named <stdin> in diagnostics); registers the text
 * with dg so diagnostics can quote it. Substitutes ${VAR} and ${VAR:-default} in scalars from the
 * environment (an unset variable without default is an error at its place). Returns 0, or -1 after
 * adding diagnostics (I/O errors too). The caller frees with sr_ydoc_free. */
int sr_ydoc_load(sr_ydoc *doc, const char *path, sr_diag *dg);
int sr_ydoc_parse(sr_ydoc *doc, const char *path, const char *text, size_t len, sr_diag *dg);
void sr_ydoc_free(sr_ydoc *doc);

/* Map helpers. */
sr_ynode *sr_ymap_get(const sr_ynode *map, const char *key);
static inline bool sr_yis_scalar(const sr_ynode *n)
{
    return n && n->kind == SR_Y_SCALAR;
}
/* A plain scalar spelled null, ~ or empty. */
bool sr_yis_null(const sr_ynode *n);
/* Scalar conversions by YAML 1.2 core rules; return false when the scalar
 * is not of that type (quoted scalars are never numbers or booleans). */
bool sr_yscalar_int(const sr_ynode *n, long long *out);
bool sr_yscalar_double(const sr_ynode *n, double *out);
bool sr_yscalar_bool(const sr_ynode *n, bool *out);
const char *sr_ykind_name(const sr_ynode *n); /* "mapping", "sequence", "string", "number"... */

/* Mark of the byte range [off, off+len) inside a scalar's text: the line and
 * column in the file where that text was written, through quotes, escapes,
 * block scalars and folded lines; the scalar's own mark when ${VAR}
 * substitution changed the text. */
sr_mark sr_ysub_mark(const sr_ynode *n, size_t off, size_t len);

/* The length of a value written at s[0..n) (n: to the end of its line) as a user means it: in
 * a flow collection up to the ',', ']' or '}' that ends it outside quotes, backticks and
 * brackets (a ',' between parentheses is the expression's), else to the end less a trailing
 * comment ('#' after a blank and before a blank: "  # note"); trailing blanks left out. */
size_t sr_yvalue_len(const char *s, size_t n, bool flow);
/* text[0..n) as one YAML scalar in quotes, for a rewrite a diagnostic shows: in double quotes
 * when it holds no '"' nor '\\' (nothing then needs escaping), else in single quotes (a quote
 * inside doubled). Malloc'd. */
char *sr_yquote(const char *text, size_t n);
/* Line m.line of f (without its line break) with the bytes from column m.col, m.len long,
 * replaced by rep: the corrected line a help shows. Malloc'd; NULL when f has no such place. */
char *sr_yline_replace(const sr_srcfile *f, sr_mark m, const char *rep);

#endif
