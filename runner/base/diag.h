/* diag.h — diagnostics: every error a user can make, with file:line:col and a caret. */
#ifndef SR_DIAG_H
#define SR_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/diag_codes.h"

/* A place in a source file: 1-based line and column (in bytes), and the
 * length of the culprit on that line (0 draws a lone caret). */
typedef struct sr_mark {
    int line, col, len;
} sr_mark;

/* A source text diagnostics can quote. Owned by the diag list it is added to. */
typedef struct sr_srcfile {
    char *path;
    char *text;
    size_t len;
    size_t *lines; /* offset of each line's start (lines[0] is line 1), or NULL */
    int nlines;
} sr_srcfile;

typedef enum { SR_ERROR, SR_WARNING, SR_NOTE } sr_severity;

/* A secondary place of a diagnostic: where its cause is ("'name' was dropped by the select
 * here"), printed after it as a note with its own quoted line. */
typedef struct sr_diag_span {
    const sr_srcfile *file; /* NULL: not tied to a file */
    sr_mark mark;
    char *msg;
} sr_diag_span;

typedef struct sr_diag_entry {
    sr_severity sev;
    sr_code code;           /* SR_CODE_NONE: printed without one */
    const sr_srcfile *file; /* NULL: not tied to a file */
    sr_mark mark;
    char *msg;
    char *help; /* a concrete fix ("help: write ..."), or NULL; may span lines */
    sr_diag_span *spans;
    int nspans;
} sr_diag_entry;

/* Text of a file that quoted source lines show as asterisks (a value that may be a secret). */
typedef struct sr_diag_hidden {
    const sr_srcfile *file;
    sr_mark mark;
} sr_diag_hidden;

/* Collects diagnostics; nothing is printed until sr_diag_print(). Errors are
 * gathered, not thrown: checking goes on after the first one so that a user
 * sees all of them at once. */
typedef struct sr_diag {
    sr_diag_entry *v;
    int n, cap;
    int nerrors, nwarnings;
    sr_srcfile **files;
    int nfiles;
    sr_diag_hidden *hidden;
    int nhidden;
    /* errors by (file, line), for sr_diag_error_within: built as it is asked (diag.c) */
    struct sr_diag_line *byline;
    int *next; /* per entry: the next error of its line, or -1 */
    int capbyline, capnext, nindexed;
} sr_diag;

void sr_diag_init(sr_diag *dg);
void sr_diag_free(sr_diag *dg);
/* Line `line` (1-based) of f, without its line break: its start and length; false when f has no
 * such line. */
bool sr_srcfile_line(const sr_srcfile *f, int line, const char **start, size_t *len);
/* Registers a source text; takes ownership of text (malloc'd). */
const sr_srcfile *sr_diag_add_file(sr_diag *dg, const char *path, char *text, size_t len);

/* Adds a diagnostic with its stable code (diag_codes.def): a severity, a place (f NULL: not
 * tied to a file) and a printf message. There is no form without a code: SR_CODE_NONE is only
 * for a caller that has none to give on purpose (tests of the printing). */
void sr_diag_addc(sr_diag *dg, sr_severity sev, sr_code code, const sr_srcfile *f, sr_mark m,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void sr_diag_vaddc(sr_diag *dg, sr_severity sev, sr_code code, const sr_srcfile *f, sr_mark m,
                   const char *fmt, va_list ap);
#define sr_errc(dg, code, f, ...)  sr_diag_addc((dg), SR_ERROR, (code), (f), __VA_ARGS__)
#define sr_warnc(dg, code, f, ...) sr_diag_addc((dg), SR_WARNING, (code), (f), __VA_ARGS__)

/* Gives the diagnostic added last a "help:" line: the concrete rewrite that fixes it (a second
 * call replaces the first). Lines after the first are indented under it. No-op when dg has
 * no diagnostic yet. */
void sr_diag_help(sr_diag *dg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Gives the diagnostic added last a help line showing the corrected line: "INTRO:" then line
 * m.line of f with old, the m.len bytes at m.col (maybe quoted), replaced by repl (the rewrite
 * that fixes it). No-op when dg has no diagnostic yet, when the text at m is not old (the place
 * is not that word), or when the line shows a hidden value. */
void sr_diag_help_rewrite(sr_diag *dg, const sr_srcfile *f, sr_mark m, const char *old,
                          const char *repl, const char *intro);
/* Gives the diagnostic added last a secondary place, where its cause is (printed after it as
 * "file:line:col: note: msg" with the quoted line). No-op when dg has no diagnostic yet. */
void sr_diag_related(sr_diag *dg, const sr_srcfile *f, sr_mark m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Source lines that dg's diagnostics quote show the text at m of f (a value that may be a
 * secret) as asterisks; f must outlive dg's printing. */
void sr_diag_hide(sr_diag *dg, const sr_srcfile *f, sr_mark m);

/* Whether an error was added at a place of f within m (on m's line, from m.col for m.len bytes,
 * at least one). Costs the number of errors on that line, not all of them. */
bool sr_diag_error_within(sr_diag *dg, const sr_srcfile *f, sr_mark m);

/* Sorts by file and position, then prints
 *   file:line:col: error: message
 *      14 |       - fitler: speed > 3
 *         |         ^~~~~~
 * with the code after the severity ("error[SR0103]:"), then each secondary place as a note and
 * its quoted line, then "      = help: ..." when the diagnostic has one; or, with json, one
 * JSON array of {file,line,column,length,severity,code,message[,help][,related]}, code null
 * when the diagnostic has none, related an array of {file,line,column,length,message}. */
void sr_diag_print(sr_diag *dg, FILE *out, bool json, bool color);

/* The closest of cands[0..n) to s by edit distance, or NULL when none is
 * close enough to suggest ("did you mean ...?"). */
const char *sr_suggest(const char *s, const char *const *cands, int n);
/* The candidates of cands[0..n) close enough to s to suggest (as sr_suggest judges, or that
 * start with s when s has 3 characters or more: "cont" -> contains), closest by edit distance
 * first (ties in cands order), at most max of them into out; returns how many. */
int sr_suggest_all(const char *s, const char *const *cands, int n, const char **out, int max);

#endif
