/* select.c — keeps only the listed fields, in the listed order. */
#include "load/expr.h"

#include <string.h>

struct select {
    sr_strv fields;
    int missing;   /* 0 error, 1 null, 2 skip */
    bool distinct; /* no field listed twice (set by select_check): members are appended */
};

static const sr_param select_params[] = {
    {SR_P_FIELDS, "fields", NULL, offsetof(struct select, fields), "fields to keep, in order",
     SR_PF_REQUIRED},
    {SR_P_ENUM, "missing", "error", offsetof(struct select, missing),
     "a listed field the record lacks: error (dead-letter), null, or skip", 0, "error|null|skip"},
    {0}};

static int select_check(sr_op *op, void *conf, sr_check *ck)
{
    struct select *s = conf;
    int rc = 0;
    if (ck->schema.closed && s->missing == 0) {
        for (int i = 0; i < s->fields.n; i++) {
            if (sr_schema_has(&ck->schema, s->fields.v[i])) continue;
            sr_no_field(ck, s->fields.marks[i], s->fields.v[i]);
            rc = -1;
        }
    }
    s->distinct = s->fields.n <= 64; /* a longer list is looked through as it is built */
    for (int i = 0; s->distinct && i < s->fields.n; i++)
        for (int j = 0; j < i; j++)
            if (s->fields.len[i] == s->fields.len[j] &&
                memcmp(s->fields.v[i], s->fields.v[j], s->fields.len[i]) == 0)
                s->distinct = false;
    sr_schema_keep(&ck->schema, s->fields.v, s->fields.n, "select", ck->file, op->mark);
    return rc;
}

static int select_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct select *s = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    sr_value out = sr_obj_new(sr_task_arena(t), (uint32_t)s->fields.n);
    for (int i = 0; i < s->fields.n; i++) {
        const char *name = s->fields.v[i];
        size_t len = s->fields.len[i];
        sr_value *v = sr_obj_get(&r->value, name, len);
        if (!v) {
            if (s->missing == 0) return sr_task_fail(t, op, "field '%s' is missing", name);
            if (s->missing == 2) continue;
            sr_obj_set(sr_task_arena(t), &out, name, len, sr_null());
            continue;
        }
        if (s->distinct)
            sr_obj_append(sr_task_arena(t), &out, name, len, *v);
        else
            sr_obj_set(sr_task_arena(t), &out, name, len, *v);
    }
    r->value = out;
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_select = {
    .name = "select",
    .summary = "keep only the listed fields, in that order",
    .example = "- select: [time, accelerometer-x, accelerometer-y, accelerometer-z]",
    .params = select_params,
    .primary = "fields",
    .conf_size = sizeof(struct select),
    .flags = SR_OP_PRIMARY_LIST,
    .check = select_check,
    .process = select_process,
};
