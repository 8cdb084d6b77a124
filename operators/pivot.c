/* pivot.c — {name: n, values: {k: v}} becomes {n-k: v}: readings into columns. */
#include "base/bytes.h"
#include "load/expr.h"

#include <string.h>

struct pivot {
    char *name;
    char *values;
    sr_strv keep;
    char *separator;
    size_t name_len, values_len, separator_len; /* set by pivot_check */
};

static const sr_param pivot_params[] = {
    {SR_P_FIELD, "name", "name", offsetof(struct pivot, name),
     "field whose string value prefixes the new column names"},
    {SR_P_FIELD, "values", "values", offsetof(struct pivot, values),
     "object field whose members become columns"},
    {SR_P_FIELDS, "keep", NULL, offsetof(struct pivot, keep), "fields copied unchanged"},
    {SR_P_STR, "separator", "-", offsetof(struct pivot, separator),
     "between the name and the member name"},
    {0}};

static int pivot_check(sr_op *op, void *conf, sr_check *ck)
{
    struct pivot *p = conf;
    int rc = 0;
    p->name_len = strlen(p->name);
    p->values_len = strlen(p->values);
    p->separator_len = strlen(p->separator);
    if (ck->schema.closed) {
        const char *need[2] = {p->name, p->values};
        for (int i = 0; i < 2; i++) {
            if (!sr_schema_has(&ck->schema, need[i])) {
                sr_no_field(ck, op->mark, need[i]);
                rc = -1;
            }
        }
    }
    sr_schema_set_open(&ck->schema);
    return rc;
}

static int pivot_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct pivot *p = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    sr_value *name = sr_obj_get(&r->value, p->name, p->name_len);
    sr_value *vals = sr_obj_get(&r->value, p->values, p->values_len);
    if (!name) return sr_task_fail(t, op, "field '%s' is missing", p->name);
    if (!vals) return sr_task_fail(t, op, "field '%s' is missing", p->values);
    if (name->type != SR_STR)
        return sr_task_fail(t, op, "field '%s' must be a string, not %s", p->name,
                            sr_type_name((sr_type)name->type));
    if (vals->type != SR_OBJ)
        return sr_task_fail(t, op, "field '%s' must be an object, not %s", p->values,
                            sr_type_name((sr_type)vals->type));
    sr_arena *a = sr_task_arena(t);
    sr_value out = sr_obj_new(a, vals->len + (uint32_t)p->keep.n);
    /* the new names side by side in one block: the prefix (name and separator), then for each
     * member the prefix again and its name */
    size_t plen = name->len + p->separator_len, total = plen;
    for (uint32_t i = 0; i < vals->len; i++) total += plen + vals->u.o[i].klen;
    char *k = sr_arena_alloc(a, total);
    sr_copy_bytes(k, name->u.s, name->len);
    sr_copy_bytes(k + name->len, p->separator, p->separator_len);
    const char *prefix = k;
    k += plen;
    for (uint32_t i = 0; i < vals->len; i++) {
        const sr_member *m = &vals->u.o[i];
        sr_copy_bytes(k, prefix, plen);
        sr_copy_bytes(k + plen, m->key, m->klen);
        /* distinct as the member names are, and within the capacity */
        out.u.o[i] = (sr_member){.key = k, .klen = (uint32_t)(plen + m->klen), .v = m->v};
        k += plen + m->klen;
    }
    out.len = vals->len;
    for (int i = 0; i < p->keep.n; i++) {
        size_t len = p->keep.len[i];
        sr_value *v = sr_obj_get(&r->value, p->keep.v[i], len);
        if (!v) return sr_task_fail(t, op, "field '%s' to keep is missing", p->keep.v[i]);
        sr_obj_set(a, &out, p->keep.v[i], len, *v);
    }
    r->value = out;
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_pivot = {
    .name = "pivot",
    .summary = "turn {name, values{k: v}} into columns name-k (the tutorial's transpose)",
    .example = "- pivot: {name: name, values: values, keep: [time]}",
    .params = pivot_params,
    .conf_size = sizeof(struct pivot),
    .check = pivot_check,
    .process = pivot_process,
};
