/* drop.c — removes the listed fields. */
#include "load/expr.h"

#include <string.h>

struct drop {
    sr_strv fields;
};

static const sr_param drop_params[] = {{SR_P_FIELDS, "fields", NULL, offsetof(struct drop, fields),
                                        "fields to remove; absent ones are ignored",
                                        SR_PF_REQUIRED},
                                       {0}};

static int drop_check(sr_op *op, void *conf, sr_check *ck)
{
    struct drop *d = conf;
    for (int i = 0; i < d->fields.n; i++)
        sr_schema_drop(&ck->schema, d->fields.v[i], "drop", ck->file, op->mark);
    return 0;
}

static int drop_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct drop *d = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    for (int i = 0; i < d->fields.n; i++) sr_obj_del(&r->value, d->fields.v[i], d->fields.len[i]);
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_drop = {
    .name = "drop",
    .summary = "remove fields",
    .example = "- drop: [sessionId, messageId]",
    .params = drop_params,
    .primary = "fields",
    .conf_size = sizeof(struct drop),
    .flags = SR_OP_PRIMARY_LIST,
    .check = drop_check,
    .process = drop_process,
};
