/* rename.c — renames fields, keeping their place in the record. */
#include "expr.h"

#include <string.h>

struct rename {
    sr_strmap fields;
    int missing; /* 0 error, 1 skip */
};

static const sr_param rename_params[] = {
    {SR_P_STRMAP, "fields", NULL, offsetof(struct rename, fields), "old name: new name",
     SR_PF_REQUIRED},
    {SR_P_ENUM, "missing", "error", offsetof(struct rename, missing),
     "a field the record lacks: error (dead-letter) or skip", 0, "error|skip"},
    {0}};

static int rename_check(sr_op *op, sr_check *ck)
{
    struct rename *rn = op->conf;
    int rc = 0;
    for (int i = 0; i < rn->fields.n; i++) {
        if (ck->schema.closed && rn->missing == 0 &&
            !sr_schema_has(&ck->schema, rn->fields.names[i])) {
            sr_no_field(ck, op->mark, rn->fields.names[i]);
            rc = -1;
        }
        if (ck->schema.closed) {
            sr_schema_del(&ck->schema, rn->fields.names[i]);
            sr_schema_add(&ck->schema, rn->fields.vals[i]);
        }
    }
    return rc;
}

static int rename_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct rename *rn = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    sr_value *obj = &r->value;
    for (int i = 0; i < rn->fields.n; i++) {
        const char *from = rn->fields.names[i], *to = rn->fields.vals[i];
        size_t flen = strlen(from), tlen = strlen(to);
        sr_member *m = NULL;
        for (uint32_t k = 0; k < obj->len; k++) {
            if (obj->u.o[k].klen == flen && memcmp(obj->u.o[k].key, from, flen) == 0) {
                m = &obj->u.o[k];
                break;
            }
        }
        if (!m) {
            if (rn->missing == 0) return sr_task_fail(t, op, "field '%s' is missing", from);
            continue;
        }
        sr_value v = m->v;
        sr_obj_del(obj, to, tlen); /* the new name replaces a field of that name */
        /* the member may have moved after the deletion: find it again */
        for (uint32_t k = 0; k < obj->len; k++) {
            if (obj->u.o[k].klen == flen && memcmp(obj->u.o[k].key, from, flen) == 0) {
                obj->u.o[k].key = to;
                obj->u.o[k].klen = (uint32_t)tlen;
                obj->u.o[k].v = v;
                break;
            }
        }
    }
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_rename = {
    .name = "rename",
    .summary = "rename fields",
    .example = "- rename: {accelerometer-x: ax, accelerometer-y: ay}",
    .params = rename_params,
    .primary = "fields",
    .conf_size = sizeof(struct rename),
    .check = rename_check,
    .process = rename_process,
};
