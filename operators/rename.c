/* rename.c — renames fields, keeping their place in the record. */
#include "load/expr.h"

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

static int rename_check(sr_op *op, void *conf, sr_check *ck)
{
    struct rename *rn = conf;
    int rc = 0;
    for (int i = 0; i < rn->fields.n; i++) {
        if (ck->schema.closed && rn->missing == 0 &&
            !sr_schema_has(&ck->schema, rn->fields.names[i])) {
            sr_no_field(ck, op->mark, rn->fields.names[i]);
            rc = -1;
        }
    }
    /* all at once, as the records are renamed: each new name takes what was known of its old
     * one; with the old one absent (missing: skip), a field of the new name keeps its own */
    sr_schema in = {0};
    sr_schema_copy(&in, &ck->schema);
    for (int i = 0; i < rn->fields.n; i++) {
        sr_schema_del(&ck->schema, rn->fields.names[i]);
        sr_schema_del(&ck->schema, rn->fields.vals[i]);
    }
    for (int i = 0; i < rn->fields.n; i++) {
        const char *from = rn->fields.names[i], *to = rn->fields.vals[i];
        int k = sr_schema_find(&in, from);
        if (k < 0) k = ck->schema.closed ? sr_schema_find(&in, to) : -1;
        if (k < 0) {
            if (ck->schema.closed) sr_schema_add(&ck->schema, to);
            continue;
        }
        sr_schema_put(&ck->schema, to, in.types[k], in.subs[k]);
        int j = sr_schema_find(&ck->schema, to);
        ck->schema.elems[j] = in.elems[k];
        ck->schema.optional[j] = in.optional[k];
    }
    sr_schema_free(&in);
    return rc;
}

/* All renames apply at once to the record as it came: {a: b, b: a} swaps, {a: a} keeps a,
 * and a field whose name another field takes is replaced. Fields keep their places. */
static int rename_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct rename *rn = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    const sr_value *in = &r->value;
    for (int i = 0; i < rn->fields.n; i++) {
        if (rn->missing == 0 && !sr_obj_get(in, rn->fields.names[i], strlen(rn->fields.names[i])))
            return sr_task_fail(t, op, "field '%s' is missing", rn->fields.names[i]);
    }
    sr_value out = sr_obj_new(sr_task_arena(t), in->len);
    for (uint32_t k = 0; k < in->len; k++) {
        const sr_member *m = &in->u.o[k];
        int from = -1, to = -1;
        for (int i = 0; i < rn->fields.n; i++) {
            if (from < 0 && strlen(rn->fields.names[i]) == m->klen &&
                memcmp(rn->fields.names[i], m->key, m->klen) == 0)
                from = i;
            if (to < 0 && strlen(rn->fields.vals[i]) == m->klen &&
                memcmp(rn->fields.vals[i], m->key, m->klen) == 0)
                to = i;
        }
        if (from >= 0) {
            const char *name = rn->fields.vals[from];
            sr_obj_set(sr_task_arena(t), &out, name, strlen(name), m->v);
        } else if (to < 0 || !sr_obj_get(in, rn->fields.names[to], strlen(rn->fields.names[to]))) {
            sr_obj_set(sr_task_arena(t), &out, m->key, m->klen,
                       m->v); /* untouched, or its taker is absent */
        }
    }
    r->value = out;
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
