/* filter.c — keeps the records for which a condition is true. */
#include "load/expr.h"

struct filter {
    sr_expr *where;
};

static const sr_param filter_params[] = {
    {SR_P_EXPR, "where", NULL, offsetof(struct filter, where),
     "condition; records for which it is true pass, false or null are dropped", SR_PF_REQUIRED},
    {0}};

static int filter_check(sr_op *op, void *conf, sr_check *ck)
{
    struct filter *f = conf;
    sr_stype t = sr_expr_type(f->where);
    if (t != SR_T_ANY && t != SR_T_BOOL && t != SR_T_NULL) {
        sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, op->vmark,
                "%s: the condition must be true or false (e.g. x > 1), but this expression gives a "
                "%s",
                op->label, sr_stype_name(t));
        return -1;
    }
    return 0;
}

static int filter_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct filter *f = op->conf;
    int ok = sr_expr_test(f->where, t, op, r);
    if (ok < 0) return -1;
    if (!ok) return 0; /* counted as filtered when nothing of its input gets through */
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_filter = {
    .name = "filter",
    .summary = "keep records for which a condition is true",
    .example = "- filter: \"`accelerometer-total` > 50\"",
    .params = filter_params,
    .primary = "where",
    .conf_size = sizeof(struct filter),
    .check = filter_check,
    .process = filter_process,
};
