/* operator.h — the one interface every built-in operator implements. */
#ifndef SR_OPERATOR_H
#define SR_OPERATOR_H

#include "base/diag.h"
#include "base/record.h"
#include "load/ynode.h"

#include <stddef.h>

typedef struct sr_task sr_task;
typedef struct sr_op sr_op;
typedef struct sr_check sr_check;
typedef struct sr_expr sr_expr;
typedef struct sr_topic sr_topic;

/* ---- parameters -------------------------------------------------------------
 * Each operator declares its parameters in one table. The same table parses
 * and checks the YAML (unknown keys, missing keys, wrong types), generates
 * the JSON Schema and the reference docs. A parsed parameter is stored in the
 * operator's configuration struct at `off`, in the C type given below. */
typedef enum {
    SR_P_STR,      /* char *                                              */
    SR_P_INT,      /* int64_t                                             */
    SR_P_NUM,      /* double                                              */
    SR_P_BOOL,     /* bool                                                */
    SR_P_ENUM,     /* int: index into choices "a|b|c"                     */
    SR_P_DURATION, /* int64_t milliseconds: "500ms", "10s", "5m", "1h", "2d" */
    SR_P_EXPR,     /* sr_expr *: compiled and type-checked expression     */
    SR_P_FIELD,    /* char *: a field name                                */
    SR_P_FIELDS,   /* sr_strv: list of field names                        */
    SR_P_TOPIC,    /* const sr_topic *: a declared topic                  */
    SR_P_EXPRMAP,  /* sr_exprmap: ordered name -> expression              */
    SR_P_STRMAP,   /* sr_strmap: ordered name -> string                   */
    SR_P_LIST,     /* sr_list: list of objects described by `sub`          */
} sr_ptype;

#define SR_PF_REQUIRED 1u

typedef struct sr_param {
    sr_ptype type;
    const char *name;
    const char *def; /* default as YAML text, NULL for none */
    size_t off;
    const char *doc;
    unsigned flags;
    const char *choices;        /* SR_P_ENUM: "a|b|c" */
    const struct sr_param *sub; /* SR_P_LIST: item parameters */
    size_t sub_size;            /* SR_P_LIST: item struct size */
} sr_param;

typedef struct sr_strv {
    char **v;
    size_t *len; /* strlen of each, for lookups per record */
    sr_mark *marks;
    int n;
} sr_strv;

typedef struct sr_exprmap {
    char **names;
    size_t *len; /* strlen of each name */
    sr_expr **exprs;
    int n;
} sr_exprmap;

typedef struct sr_strmap {
    char **names;
    char **vals;
    int n;
} sr_strmap;

typedef struct sr_list {
    void *items;    /* n structs of the param's sub_size */
    sr_mark *marks; /* where each item is in the file */
    int n;
} sr_list;

/* ---- what is known about the fields at a point of the pipeline ------------ */
typedef struct sr_schema {
    bool closed; /* true: the record has exactly these fields */
    char **names;
    int n;
} sr_schema;

void sr_schema_set_open(sr_schema *s);
void sr_schema_add(sr_schema *s, const char *name);
void sr_schema_del(sr_schema *s, const char *name);
bool sr_schema_has(const sr_schema *s, const char *name);
void sr_schema_copy(sr_schema *dst, const sr_schema *src);
void sr_schema_free(sr_schema *s);

/* ---- the operator interface ------------------------------------------------ */
#define SR_OP_TERMINAL     1u /* a sink: nothing may follow it in a pipeline */
#define SR_OP_PRIMARY_LIST 2u /* the short form is a list for the primary param */

typedef struct sr_operator_type {
    const char *name;
    const char *summary; /* one line, for docs and schema */
    const char *example; /* a YAML pipeline step, for docs */
    const sr_param *params;
    const char *primary; /* parameter the short form `- name: VALUE` fills */
    size_t conf_size;
    unsigned flags;
    /* After parameters are parsed: cross-checks, and updates ck->schema to
     * what follows this operator. Adds diagnostics; returns 0 or -1. */
    int (*check)(sr_op *op, sr_check *ck);
    /* Processes one record; passes results on with sr_emit() (zero, one or
     * many times). Returns 0, or -1 with the reason set by sr_task_fail():
     * the runner then dead-letters the input record and drops everything
     * this input produced. */
    int (*process)(sr_task *t, const sr_op *op, sr_record *r);
    /* Sinks: whether this operator writes topic t (for cycle checks and plans). */
    bool (*writes)(const sr_op *op, const sr_topic *t);
    /* Frees what the configuration owns beyond the parameters. */
    void (*destroy)(sr_op *op);
} sr_operator_type;

/* One node of a deployment's operator chain: a configured operator. */
struct sr_op {
    const sr_operator_type *type;
    void *conf;
    sr_op *next; /* NULL: records go to the deployment's outputs */
    int index;   /* 1-based step number in the pipeline, 0 for implicit steps */
    const sr_srcfile *file;
    sr_mark mark;   /* the operator's name */
    sr_mark vmark;  /* the value of its primary setting (the name when absent) */
    char label[64]; /* "filter (step 3)" */
};

/* Registry: every built-in operator, in documentation order. */
extern const sr_operator_type *const sr_operators[];
const sr_operator_type *sr_operator_find(const char *name);
int sr_operator_count(void);

/* Passes r to the next operator of op's chain, or to the deployment's
 * outputs when op is last. Returns what the downstream returned. */
int sr_emit(sr_task *t, const sr_op *op, sr_record *r);

#endif
