/* timestamp.c — sets the record's event time from an expression. */
#include "load/expr.h"

struct timestamp {
    sr_expr *expr;
    int unit; /* s, ms, us, ns */
};

static const sr_param timestamp_params[] = {
    {SR_P_EXPR, "expr", NULL, offsetof(struct timestamp, expr),
     "event time as a number since the Unix epoch", SR_PF_REQUIRED},
    {SR_P_ENUM, "unit", "ms", offsetof(struct timestamp, unit), "unit of the number", 0,
     "s|ms|us|ns"},
    {0}};

static int timestamp_check(sr_op *op, void *conf, sr_check *ck)
{
    struct timestamp *ts = conf;
    sr_stype t = sr_expr_type(ts->expr);
    if (t != SR_T_ANY && t != SR_T_NUM) {
        sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, op->vmark,
                "%s: the event time must be a number (since the Unix epoch), but this expression "
                "gives a %s",
                op->label, sr_stype_name(t));
        return -1;
    }
    return 0;
}

static int timestamp_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct timestamp *ts = op->conf;
    sr_value v;
    if (sr_expr_eval(ts->expr, t, op, r, &v)) return -1;
    if (!sr_is_number(&v))
        return sr_task_fail(t, op, "'%s' must be a number, not %s", sr_expr_text(ts->expr),
                            sr_type_name((sr_type)v.type));
    v = sr_num_norm(&v);
    if (v.type == SR_INT ? v.u.i < 0 : v.u.d < 0) {
        sr_value txt = sr_value_to_str(sr_task_arena(t), &v);
        static const char *const units[] = {"s", "ms", "us", "ns"};
        return sr_task_fail(t, op, "timestamp %.*s %s is before 1970", (int)txt.len, txt.u.s,
                            units[ts->unit]);
    }
    static const int64_t per_ms[] = {0, 1, 1000, 1000000};
    int64_t ms;
    if (v.type == SR_INT) {
        if (ts->unit == 0) {
            if (__builtin_mul_overflow(v.u.i, 1000, &ms))
                return sr_task_fail(t, op, "timestamp out of range");
        } else {
            ms = v.u.i / per_ms[ts->unit];
        }
    } else {
        double d = ts->unit == 0 ? v.u.d * 1000 : v.u.d / (double)per_ms[ts->unit];
        if (!(d > -9.2e18 && d < 9.2e18)) return sr_task_fail(t, op, "timestamp out of range");
        ms = (int64_t)d;
    }
    r->ts = ms;
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_timestamp = {
    .name = "timestamp",
    .summary = "set the record's event time from a field or expression",
    .example = "- timestamp: {expr: time, unit: ns}",
    .params = timestamp_params,
    .primary = "expr",
    .conf_size = sizeof(struct timestamp),
    .check = timestamp_check,
    .process = timestamp_process,
};
