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
    const char *need[2] = {p->name, p->values};
    const sr_stype want[2] = {SR_T_STR, SR_T_OBJ};
    for (int i = 0; i < 2; i++) {
        if (ck->schema.closed && !sr_schema_has(&ck->schema, need[i])) {
            sr_no_field(ck, op->mark, need[i]);
            rc = -1;
            continue;
        }
        sr_stype t = sr_schema_type(&ck->schema, need[i]);
        if (t == SR_T_ANY || t == want[i]) continue;
        const sr_ynode *set = op->settings && op->settings->kind == SR_Y_MAP
                                  ? sr_ymap_get(op->settings, i ? "values" : "name")
                                  : NULL;
        sr_mark m = set ? set->mark : op->mark;
        sr_errc(ck->dg, SR_E_FIELD_TYPE, ck->file, m,
                "%s: field '%s' must hold %s, but it is a %s here", op->label, need[i],
                i ? "an object (its members become columns)" : "a string (the columns' prefix)",
                sr_stype_name(t));
        if (i == 0)
            sr_diag_help(ck->dg, "make it a string before the pivot:\n- set: {%s: to_string(%s)}",
                         need[i], need[i]);
        rc = -1;
    }
    /* the new columns are not known: what follows is open, with the kept fields as they were */
    sr_schema_keep(&ck->schema, p->keep.v, p->keep.n, "pivot", ck->file, op->mark);
    ck->schema.closed = false;
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
