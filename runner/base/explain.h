/* explain.h — the long explanation of each diagnostic code, for `streamrun explain`. The texts
 * are the Markdown files runner/base/explain/SRnnnn.md, embedded at build time
 * (cmake/embed_explain.cmake); each shows the mistake and its fix in fenced blocks whose info
 * string names the file they are (```yaml mistake=example.yaml, ```yaml fix=example.yaml), which
 * tests/explain/run_explain.sh validates. */
#ifndef SR_EXPLAIN_H
#define SR_EXPLAIN_H

#include "base/diag_codes.h"

typedef struct sr_explain_entry {
    const char *id;   /* "SR0101" */
    const char *text; /* Markdown, ends with a newline */
} sr_explain_entry;

/* Every embedded text, ended by {NULL, NULL} (generated: explain_texts.c). */
extern const sr_explain_entry sr_explain_entries[];

/* The long explanation of code c (static storage), or NULL when it has none yet or c is
 * SR_CODE_NONE. @locality any; @locks none. */
const char *sr_explain_text(sr_code c);

#endif
