/* key.c — sets the record key from an expression. */
#include "load/compat.h"
#include "load/expr.h"
#include "load/topology.h"

struct key {
    sr_expr *expr;
    int64_t partitions; /* of the repartition topic after this step; 0: the input's count */
};

static const sr_param key_params[] = {
    {SR_P_EXPR, "expr", NULL, offsetof(struct key, expr),
     "the new key; strings as they are, numbers and other values as their JSON text, null for "
     "no key",
     SR_PF_REQUIRED},
    {SR_P_INT, "partitions", NULL, offsetof(struct key, partitions),
     "when a stateful step follows: the partition count of the repartition topic the records go "
     "through to reach it (default: the input's)"},
    {0}};

static int key_check(sr_op *op, void *conf, sr_check *ck)
{
    const struct key *k = conf;
    const sr_ynode *n = op->settings && op->settings->kind == SR_Y_MAP
                            ? sr_ymap_get(op->settings, "partitions")
                            : NULL;
    if (n && (k->partitions < 1 || k->partitions > 100000)) {
        char got[64];
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, n->mark,
                "%s: 'partitions' must be a whole number from 1 to 100000 (the partition count of "
                "its repartition topic), not %s",
                op->label, sr_ydesc(n, got, sizeof(got)));
        return -1;
    }
    return 0;
}

static int key_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct key *k = op->conf;
    sr_value v;
    if (sr_expr_eval(k->expr, t, op, r, &v)) return -1;
    r->key = v.type == SR_NULL ? sr_null() : sr_value_to_str(sr_task_arena(t), &v);
    return sr_emit(t, op, r);
}

static int key_rekey(const sr_op *op)
{
    const struct key *k = op->conf;
    return (int)k->partitions;
}

const sr_operator_type sr_op_key = {
    .name = "key",
    .summary = "set the record key",
    .example = "- key: deviceId",
    .params = key_params,
    .primary = "expr",
    .conf_size = sizeof(struct key),
    .check = key_check,
    .process = key_process,
    .rekey = key_rekey,
};

const sr_expr *sr_key_step_expr(const sr_op *op)
{
    return op->type == &sr_op_key && op->conf ? ((const struct key *)op->conf)->expr : NULL;
}
