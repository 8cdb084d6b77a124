/* eval.c — evaluating compiled expressions against a record. */
#include "exec/task.h"
#include "load/expr_int.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sr_enode_fail(ectx *cx, const enode *n, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int len = (int)(n->len > 80 ? 80 : n->len);
    return sr_task_fail(cx->t, cx->op, "%.*s%s: %s", len, cx->e->text + n->off,
                        n->len > 80 ? "..." : "", msg);
}

/* A value that must be present: missing and null are errors naming the node. */
static int need(ectx *cx, const enode *n, const sr_value *v)
{
    if (v->type == SR_MISSING) return sr_enode_fail(cx, n, "field is missing");
    if (v->type == SR_NULL) return sr_enode_fail(cx, n, "value is null");
    return 0;
}

static int need_num(ectx *cx, const enode *n, sr_value *v)
{
    if (need(cx, n, v)) return -1;
    if (!sr_is_number(v))
        return sr_enode_fail(cx, n, "expected a number, got %s", sr_type_name(v->type));
    sr_num_norm_here(v);
    return 0;
}

static int need_bool(ectx *cx, const enode *n, const sr_value *v)
{
    if (need(cx, n, v)) return -1;
    if (v->type != SR_BOOL)
        return sr_enode_fail(cx, n, "expected a boolean, got %s", sr_type_name(v->type));
    return 0;
}

static int need_str(ectx *cx, const enode *n, const sr_value *v)
{
    if (need(cx, n, v)) return -1;
    if (v->type != SR_STR)
        return sr_enode_fail(cx, n, "expected a string, got %s", sr_type_name(v->type));
    return 0;
}

static int num_result(ectx *cx, const enode *n, double d, sr_value *out)
{
    if (!isfinite(d)) return sr_enode_fail(cx, n, "result is not a finite number");
    *out = sr_dbl(d);
    return 0;
}

/* ---- paths ------------------------------------------------------------------------ */

/* Stores in *out the value at the path from v, or a missing value. It follows pointers and
 * stores the result once: built in a local and copied out, a missing value was read back
 * sixteen bytes at a time just after it was stored in narrower pieces (see the constructors
 * in base/value.h). */
static void walk(const sr_value *v, const path_seg *segs, int nsegs, sr_value *out)
{
    const sr_value *cur = v;
    for (int i = 0; i < nsegs; i++) {
        const path_seg *s = &segs[i];
        if (s->name) {
            if (cur->type != SR_OBJ) goto missing;
            cur = sr_obj_get(cur, s->name, s->nlen);
            if (!cur) goto missing;
        } else {
            if (cur->type != SR_ARR) goto missing;
            int64_t k = s->index < 0 ? (int64_t)cur->len + s->index : s->index;
            if (k < 0 || k >= (int64_t)cur->len) goto missing;
            cur = &cur->u.a[k];
        }
    }
    *out = *cur;
    return;
missing:
    out->type = SR_MISSING;
    out->len = 0;
    out->cap = 0;
    out->u.i = 0;
}

static int eval_index(ectx *cx, const enode *n, sr_value *out)
{
    sr_value base, idx;
    if (sr_enode_eval(cx, n->kids[0], &base) || sr_enode_eval(cx, n->kids[1], &idx)) return -1;
    if (base.type == SR_MISSING || base.type == SR_NULL) {
        *out = sr_missing();
        return 0;
    }
    if (need(cx, n->kids[1], &idx)) return -1;
    path_seg seg = {0};
    if (idx.type == SR_STR) {
        seg.name = idx.u.s;
        seg.nlen = idx.len;
    } else if (sr_is_number(&idx)) {
        idx = sr_num_norm(&idx);
        if (idx.type != SR_INT) return sr_enode_fail(cx, n->kids[1], "an index must be an integer");
        seg.index = idx.u.i;
    } else {
        return sr_enode_fail(cx, n->kids[1], "an index must be a number or a string, got %s",
                             sr_type_name(idx.type));
    }
    walk(&base, &seg, 1, out);
    return 0;
}

/* ---- arithmetic --------------------------------------------------------------------- */

static int arith(ectx *cx, const enode *n, sr_value a, sr_value b, sr_value *out)
{
    /* '+' joins strings, unless the checker found a number operand: then a
     * string is the wrong operand, not the number */
    if (n->kind == N_ADD && n->type != SR_T_NUM && (a.type == SR_STR || b.type == SR_STR)) {
        if (need_str(cx, n->kids[0], &a) || need_str(cx, n->kids[1], &b)) return -1;
        char *d = sr_arena_alloc(&cx->t->arena, (size_t)a.len + b.len + 1); /* never 0 bytes */
        memcpy(d, a.u.s, a.len);
        memcpy(d + a.len, b.u.s, b.len);
        *out = sr_str(d, (size_t)a.len + b.len);
        return 0;
    }
    if (need_num(cx, n->kids[0], &a) || need_num(cx, n->kids[1], &b)) return -1;
    if (a.type == SR_INT && b.type == SR_INT && n->kind != N_DIV) {
        int64_t x = a.u.i, y = b.u.i, z = 0;
        bool ovf = false;
        switch (n->kind) {
        case N_ADD: ovf = __builtin_add_overflow(x, y, &z); break;
        case N_SUB: ovf = __builtin_sub_overflow(x, y, &z); break;
        case N_MUL: ovf = __builtin_mul_overflow(x, y, &z); break;
        case N_MOD:
            if (y == 0) return sr_enode_fail(cx, n, "modulo by zero");
            z = (y == -1) ? 0 : x % y;
            break;
        default: break;
        }
        if (ovf) return sr_enode_fail(cx, n, "integer overflow");
        *out = sr_int(z);
        return 0;
    }
    double x = sr_num_double(&a), y = sr_num_double(&b);
    switch (n->kind) {
    case N_ADD: return num_result(cx, n, x + y, out);
    case N_SUB: return num_result(cx, n, x - y, out);
    case N_MUL: return num_result(cx, n, x * y, out);
    case N_DIV:
        if (y == 0) return sr_enode_fail(cx, n, "division by zero");
        return num_result(cx, n, x / y, out);
    case N_MOD:
        if (y == 0) return sr_enode_fail(cx, n, "modulo by zero");
        return num_result(cx, n, fmod(x, y), out);
    default: return sr_enode_fail(cx, n, "internal: not arithmetic");
    }
}

static int compare(ectx *cx, const enode *n, sr_value a, sr_value b, sr_value *out)
{
    if (n->kind == N_EQ || n->kind == N_NE) {
        if (a.type == SR_MISSING) return need(cx, n->kids[0], &a);
        if (b.type == SR_MISSING) return need(cx, n->kids[1], &b);
        bool eq = sr_value_equal(&a, &b);
        *out = sr_bool(n->kind == N_EQ ? eq : !eq);
        return 0;
    }
    if (need(cx, n->kids[0], &a) || need(cx, n->kids[1], &b)) return -1;
    int c;
    if (sr_is_number(&a) && sr_is_number(&b)) {
        c = sr_value_cmp(&a, &b);
    } else if (a.type == SR_STR && b.type == SR_STR) {
        c = sr_value_cmp(&a, &b);
    } else {
        return sr_enode_fail(cx, n, "cannot order %s against %s", sr_type_name(a.type),
                             sr_type_name(b.type));
    }
    bool r = false;
    switch (n->kind) {
    case N_LT: r = c < 0; break;
    case N_LE: r = c <= 0; break;
    case N_GT: r = c > 0; break;
    case N_GE: r = c >= 0; break;
    default: break;
    }
    *out = sr_bool(r);
    return 0;
}

static int eval_meta(ectx *cx, const enode *n, sr_value *out)
{
    const sr_origin *o = cx->t->origin;
    switch (n->u.meta) {
    case M_KEY: *out = cx->r->key; return 0;
    case M_TIMESTAMP: *out = sr_int(cx->r->ts); return 0;
    case M_PARTITION: *out = o ? sr_int(o->partition) : sr_null(); return 0;
    case M_OFFSET: *out = o ? sr_int(o->offset) : sr_null(); return 0;
    case M_TOPIC: *out = (o && o->topic) ? sr_str(o->topic, strlen(o->topic)) : sr_null(); return 0;
    }
    return sr_enode_fail(cx, n, "internal: unknown metadata");
}

/* Out of line so that the argument array is not in the frame of every level
 * of sr_enode_eval's recursion. */
static __attribute__((noinline)) int eval_call(ectx *cx, const enode *n, sr_value *out)
{
    const func *f = n->u.fn;
    sr_value args[64];
    assert(n->nkids <= 64); /* the parser refuses more arguments */
    if (!f->lazy) {
        for (int i = 0; i < n->nkids; i++)
            if (sr_enode_eval(cx, n->kids[i], &args[i])) return -1;
    }
    return f->fn(cx, n, args, n->nkids, out);
}

int sr_enode_eval(ectx *cx, const enode *n, sr_value *out)
{
    sr_value a, b;
    switch (n->kind) {
    case N_LIT: *out = n->u.lit; return 0;
    case N_FIELD: walk(&cx->r->value, n->u.path.segs, n->u.path.nsegs, out); return 0;
    case N_META: return eval_meta(cx, n, out);
    case N_GET: {
        if (sr_enode_eval(cx, n->kids[0], &a)) return -1;
        path_seg seg = {.name = n->u.get.name, .nlen = n->u.get.nlen};
        walk(&a, &seg, 1, out);
        return 0;
    }
    case N_INDEX: return eval_index(cx, n, out);
    case N_NEG:
        if (sr_enode_eval(cx, n->kids[0], &a) || need_num(cx, n->kids[0], &a)) return -1;
        if (a.type == SR_INT) {
            if (a.u.i == INT64_MIN) return sr_enode_fail(cx, n, "integer overflow");
            *out = sr_int(-a.u.i);
            return 0;
        }
        return num_result(cx, n, -a.u.d, out); /* an input of 1e400 reads as infinity */
    case N_NOT:
        /* null counts as false, as for and/or */
        if (sr_enode_eval(cx, n->kids[0], &a)) return -1;
        if (a.type == SR_NULL) {
            *out = sr_bool(true);
            return 0;
        }
        if (need_bool(cx, n->kids[0], &a)) return -1;
        *out = sr_bool(!a.u.b);
        return 0;
    case N_ADD:
    case N_SUB:
    case N_MUL:
    case N_DIV:
    case N_MOD:
        if (sr_enode_eval(cx, n->kids[0], &a) || sr_enode_eval(cx, n->kids[1], &b)) return -1;
        return arith(cx, n, a, b, out);
    case N_EQ:
    case N_NE:
    case N_LT:
    case N_LE:
    case N_GT:
    case N_GE:
        if (sr_enode_eval(cx, n->kids[0], &a) || sr_enode_eval(cx, n->kids[1], &b)) return -1;
        return compare(cx, n, a, b, out);
    case N_AND:
    case N_OR: {
        /* short-circuit; null acts as false */
        bool is_and = n->kind == N_AND;
        if (sr_enode_eval(cx, n->kids[0], &a)) return -1;
        if (a.type != SR_NULL && need_bool(cx, n->kids[0], &a)) return -1;
        bool av = a.type == SR_BOOL && a.u.b;
        if (is_and ? !av : av) {
            *out = sr_bool(av);
            return 0;
        }
        if (sr_enode_eval(cx, n->kids[1], &b)) return -1;
        if (b.type != SR_NULL && need_bool(cx, n->kids[1], &b)) return -1;
        *out = sr_bool(b.type == SR_BOOL && b.u.b);
        return 0;
    }
    case N_COALESCE:
        if (sr_enode_eval(cx, n->kids[0], &a)) return -1;
        if (a.type != SR_MISSING && a.type != SR_NULL) {
            *out = a;
            return 0;
        }
        return sr_enode_eval(cx, n->kids[1], out);
    case N_COND:
        if (sr_enode_eval(cx, n->kids[0], &a)) return -1;
        if (a.type != SR_NULL && need_bool(cx, n->kids[0], &a)) return -1;
        return sr_enode_eval(cx, n->kids[(a.type == SR_BOOL && a.u.b) ? 1 : 2], out);
    case N_CALL: return eval_call(cx, n, out);
    }
    return sr_enode_fail(cx, n, "internal: unknown node");
}

int sr_expr_eval(const sr_expr *e, sr_task *t, const sr_op *op, const sr_record *r, sr_value *out)
{
    ectx cx = {.e = e, .t = t, .op = op, .r = r};
    if (sr_enode_eval(&cx, e->root, out)) return -1;
    if (out->type == SR_MISSING) return sr_enode_fail(&cx, e->root, "field is missing");
    return 0;
}

int sr_expr_test(const sr_expr *e, sr_task *t, const sr_op *op, const sr_record *r)
{
    ectx cx = {.e = e, .t = t, .op = op, .r = r};
    sr_value v;
    if (sr_enode_eval(&cx, e->root, &v)) return -1;
    if (v.type == SR_NULL) return 0;
    if (v.type == SR_MISSING) return sr_enode_fail(&cx, e->root, "field is missing");
    if (v.type != SR_BOOL)
        return sr_enode_fail(&cx, e->root, "a condition must be a boolean, got %s",
                             sr_type_name(v.type));
    return v.u.b ? 1 : 0;
}
