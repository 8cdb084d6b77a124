/* expr.h — the expression language: parsed and type-checked once, evaluated per record. */
#ifndef SR_EXPR_H
#define SR_EXPR_H

#include "load/topology.h"

/* Static types (sr_stype): load/operator.h, with the schemas that carry them. */

const char *sr_stype_name(sr_stype t);

/* Compiles the expression in scalar n (its text) for the pipeline position
 * described by ck (known fields). Errors go to ck->dg at their exact place.
 * Returns NULL on error. The caller frees with sr_expr_free. */
sr_expr *sr_expr_compile(const sr_ynode *n, sr_check *ck);
/* Compiles the part n->text[off..off+len) of scalar n (an expression inside a larger setting,
 * such as the argument of mean(...)); errors are marked where that part is in the file. */
sr_expr *sr_expr_compile_sub(const sr_ynode *n, size_t off, size_t len, sr_check *ck);
/* Compiles plain text without a file: errors are formatted into err as
 * "col N: message". For tests, tools and fuzzing. */
sr_expr *sr_expr_compile_text(const char *text, size_t len, char *err, size_t errsize);
void sr_expr_free(sr_expr *e);

sr_stype sr_expr_type(const sr_expr *e);
const char *sr_expr_text(const sr_expr *e);
/* When the whole expression is a field path of plain names (a.b.c), the
 * first name, else NULL. */
const char *sr_expr_root_field(const sr_expr *e);

/* Evaluates e against record r in task t. Result memory is from sr_task_arena(t).
 * Returns 0 with *out set (SR_MISSING only where the expression allows it,
 * e.g. a bare field reference evaluated by has()), or -1 with the reason set
 * by sr_task_fail with op. @locality the thread that owns t. */
int sr_expr_eval(const sr_expr *e, sr_task *t, const sr_op *op, const sr_record *r, sr_value *out);

/* Evaluates e as a condition: true, false, or -1 on error (a non-boolean
 * result is an error; null counts as false). */
int sr_expr_test(const sr_expr *e, sr_task *t, const sr_op *op, const sr_record *r);

/* Function table, for docs and "did you mean". */
typedef struct sr_func_doc {
    const char *name, *signature, *doc, *example;
} sr_func_doc;
/* The i-th built-in function's documentation, for i < sr_func_count(). */
const sr_func_doc *sr_func_doc_at(int i);
int sr_func_count(void);

#endif
