/* key.c — sets the record key from an expression. */
#include "load/expr.h"

struct key {
    sr_expr *expr;
};

static const sr_param key_params[] = {
    {SR_P_EXPR, "expr", NULL, offsetof(struct key, expr),
     "the new key; strings as they are, numbers and other values as their JSON text, null for "
     "no key",
     SR_PF_REQUIRED},
    {0}};

static int key_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct key *k = op->conf;
    sr_value v;
    if (sr_expr_eval(k->expr, t, op, r, &v)) return -1;
    r->key = v.type == SR_NULL ? sr_null() : sr_value_to_str(sr_task_arena(t), &v);
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_key = {
    .name = "key",
    .summary = "set the record key",
    .example = "- key: deviceId",
    .params = key_params,
    .primary = "expr",
    .conf_size = sizeof(struct key),
    .process = key_process,
};
