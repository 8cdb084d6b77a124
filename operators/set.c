/* set.c — computes fields from expressions; each sees the fields set before it. */
#include "load/expr.h"

#include <string.h>

struct set {
    sr_exprmap fields;
};

static const sr_param set_params[] = {{SR_P_EXPRMAP, "fields", NULL, offsetof(struct set, fields),
                                       "field name: expression, evaluated in order",
                                       SR_PF_REQUIRED},
                                      {0}};

static int set_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct set *s = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    for (int i = 0; i < s->fields.n; i++) {
        sr_value v;
        if (sr_expr_eval(s->fields.exprs[i], t, op, r, &v)) return -1;
        sr_obj_set(sr_task_arena(t), &r->value, s->fields.names[i], s->fields.len[i], v);
    }
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_set = {
    .name = "set",
    .summary = "compute fields from expressions (later ones see earlier ones)",
    .example = "- set: {accelerometer-total: abs(`accelerometer-x`) + abs(`accelerometer-y`) + "
               "abs(`accelerometer-z`)}",
    .params = set_params,
    .primary = "fields",
    .conf_size = sizeof(struct set),
    .process = set_process,
};
