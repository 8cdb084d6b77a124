/* fail.c — dead-letters the records for which a condition is true, with a reason of the user's. */
#include "load/expr.h"

struct fail {
    sr_expr *when;
    sr_expr *reason; /* NULL: the condition's text */
};

static const sr_param fail_params[] = {
    {SR_P_EXPR, "when", NULL, offsetof(struct fail, when),
     "condition; a record for which it is true goes to the dead-letter topic, the others pass "
     "(false or null)",
     SR_PF_REQUIRED},
    {SR_P_EXPR, "reason", NULL, offsetof(struct fail, reason),
     "the dead letter's reason (its text; another value as its JSON text); default: the "
     "condition's text"},
    {0}};

static int fail_check(sr_op *op, void *conf, sr_check *ck)
{
    struct fail *f = conf;
    sr_stype t = sr_expr_type(f->when);
    if (t != SR_T_ANY && t != SR_T_BOOL && t != SR_T_NULL) {
        sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, op->vmark,
                "%s: the condition must be true or false (e.g. amount < 0), but this expression "
                "gives a %s",
                op->label, sr_stype_name(t));
        return -1;
    }
    return 0;
}

static int fail_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct fail *f = op->conf;
    int yes = sr_expr_test(f->when, t, op, r);
    if (yes < 0) return -1;
    if (!yes) return sr_emit(t, op, r);
    if (!f->reason) return sr_task_fail(t, op, "%s", sr_expr_text(f->when));
    sr_value why;
    if (sr_expr_eval(f->reason, t, op, r, &why) != 0) return -1;
    if (why.type == SR_MISSING || why.type == SR_NULL)
        return sr_task_fail(t, op, "%s: the reason is %s", sr_expr_text(f->reason),
                            why.type == SR_NULL ? "null" : "missing");
    if (why.type != SR_STR) why = sr_value_to_str(sr_task_arena(t), &why);
    return sr_task_fail(t, op, "%.*s", (int)why.len, why.u.s);
}

const sr_operator_type sr_op_fail = {
    .name = "fail",
    .summary = "dead-letter the records for which a condition is true, with a reason",
    .example = "- fail: {when: amount < 0, reason: \"concat('negative amount: ', amount)\"}",
    .params = fail_params,
    .primary = "when",
    .conf_size = sizeof(struct fail),
    .check = fail_check,
    .process = fail_process,
};
