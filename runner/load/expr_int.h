/* expr_int.h — compiled expression trees, shared by the parser (expr.c) and the evaluator (eval.c).
 */
#ifndef SR_EXPR_INT_H
#define SR_EXPR_INT_H

#include "load/expr.h"

typedef enum {
    N_LIT,   /* literal value */
    N_FIELD, /* path from the record value: segs */
    N_META,  /* $key, $timestamp, ... : meta */
    N_GET,   /* kid[0].name or kid[0]["name"] */
    N_INDEX, /* kid[0][kid[1]] */
    N_NEG,
    N_NOT,
    N_ADD,
    N_SUB,
    N_MUL,
    N_DIV,
    N_MOD,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
    N_AND,
    N_OR,
    N_COALESCE, /* a ?? b */
    N_COND,     /* a ? b : c */
    N_CALL,
} node_kind;

typedef enum { M_KEY, M_TIMESTAMP, M_PARTITION, M_OFFSET, M_TOPIC } meta_kind;

/* One step of a field path: a member name, or an array index when name is NULL. */
typedef struct path_seg {
    const char *name;
    uint32_t nlen;
    int64_t index;
} path_seg;

typedef struct enode enode;
typedef struct func func;

/* An evaluated argument list is handed to a function as values; functions
 * marked lazy get the nodes instead (has, coalesce, if). */
typedef struct ectx ectx;
typedef int (*func_fn)(ectx *cx, const enode *call, sr_value *args, int nargs, sr_value *out);

struct func {
    sr_func_doc doc; /* doc.name is the function's name */
    int min, max;    /* arity; max -1: variadic */
    sr_stype ret;
    bool lazy;
    func_fn fn;
    /* static argument check: NULL accepts anything */
    const char *(*check)(const enode *call, sr_stype *types, int nargs);
};

struct enode {
    node_kind kind;
    sr_stype type;
    uint32_t off, len; /* source span within the expression text */
    int height;        /* levels in the tree this node roots: 1 for a leaf (<= SR_MAX_HEIGHT) */
    int nkids;
    enode **kids;
    union {
        sr_value lit;
        struct {
            path_seg *segs;
            int nsegs, cap; /* cap: slots allocated (the parser grows it by doubling) */
        } path;
        meta_kind meta;
        const func *fn;
        struct {
            const char *name;
            uint32_t nlen;
        } get;
    } u;
};

/* The most levels a compiled tree may have. The type checker and the evaluator
 * recurse once per level, so the parser refuses deeper trees: long chains of
 * operators (a + b + c ..., each operator one level), postfix chains (f(x).a[0]...)
 * and nesting all count. */
#define SR_MAX_HEIGHT 1000

struct sr_expr {
    sr_arena pool; /* nodes, literals, path segments */
    char *text;
    size_t len;
    enode *root;
};

extern const func sr_funcs[];
const func *sr_func_find(const char *name, size_t n);

/* What one evaluation needs: the expression (for the text of error
 * messages), the task (arena, clock, error), the operator and the record. */
struct ectx {
    const sr_expr *e;
    sr_task *t;
    const sr_op *op;
    const sr_record *r;
};

/* Evaluates a node: 0 with *out (possibly SR_MISSING), or -1 after sr_task_fail. */
int sr_enode_eval(ectx *cx, const enode *n, sr_value *out);
/* Fails the current record with "text of n: message". Returns -1. */
int sr_enode_fail(ectx *cx, const enode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
