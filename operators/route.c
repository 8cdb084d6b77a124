/* route.c — sends each record to the topic of the first (or every) matching case. */
#include "load/expr.h"

struct route_case {
    sr_expr *when;
    sr_topic *to;
};

struct route {
    sr_list cases;
    int mode; /* 0 first, 1 all */
};

static const sr_param case_params[] = {
    {SR_P_EXPR, "when", NULL, offsetof(struct route_case, when),
     "condition; a case without one matches every record (with mode first it must be the last "
     "case)"},
    {SR_P_TOPIC, "to", NULL, offsetof(struct route_case, to), "topic for matching records",
     SR_PF_REQUIRED},
    {0}};

static const sr_param route_params[] = {
    {SR_P_LIST, "cases", NULL, offsetof(struct route, cases), "list of {when, to}", SR_PF_REQUIRED,
     NULL, case_params, sizeof(struct route_case)},
    {SR_P_ENUM, "mode", "first", offsetof(struct route, mode),
     "first: the first matching case only; all: every matching case", 0, "first|all"},
    {0}};

static int route_check(sr_op *op, void *conf, sr_check *ck)
{
    struct route *rt = conf;
    struct route_case *c = rt->cases.items;
    int rc = 0;
    for (int i = 0; i < rt->cases.n; i++) {
        if (!c[i].when && i + 1 < rt->cases.n && rt->mode == 0) {
            sr_errc(ck->dg, SR_E_STEP_ORDER, ck->file, rt->cases.marks[i],
                    "%s: case %d has no 'when', so it catches every record and the cases after it "
                    "can never match; put it last",
                    op->label, i + 1);
            rc = -1;
        }
        if (c[i].when) {
            sr_stype t = sr_expr_type(c[i].when);
            if (t != SR_T_ANY && t != SR_T_BOOL && t != SR_T_NULL) {
                sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, rt->cases.marks[i],
                        "%s: the 'when' of case %d must be true or false (e.g. x > 1), but it "
                        "gives a %s",
                        op->label, i + 1, sr_stype_name(t));
                rc = -1;
            }
        }
    }
    return rc;
}

static int route_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct route *rt = op->conf;
    const struct route_case *c = rt->cases.items;
    for (int i = 0; i < rt->cases.n; i++) {
        int ok = c[i].when ? sr_expr_test(c[i].when, t, op, r) : 1;
        if (ok < 0) return -1;
        if (!ok) continue;
        if (sr_task_output(t, op, c[i].to, r)) return -1;
        if (rt->mode == 0) break;
    }
    return 0; /* no case matched: counted as filtered (sr_task_stats) */
}

static bool route_writes(const sr_op *op, const sr_topic *topic)
{
    const struct route *rt = op->conf;
    const struct route_case *c = rt->cases.items;
    for (int i = 0; i < rt->cases.n; i++)
        if (c[i].to == topic) return true;
    return false;
}

const sr_operator_type sr_op_route = {
    .name = "route",
    .summary = "send each record to the topic of the first matching case (or of every one)",
    .example =
        "- route:\n    - {when: \"`accelerometer-total` > 50\", to: shakes}\n    - {to: calm}",
    .params = route_params,
    .primary = "cases",
    .conf_size = sizeof(struct route),
    .flags = SR_OP_TERMINAL | SR_OP_PRIMARY_LIST,
    .check = route_check,
    .process = route_process,
    .writes = route_writes,
};
