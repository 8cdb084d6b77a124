/* explode.c — turns an array into one record per element. */
#include "load/expr.h"

#include <string.h>

struct explode {
    sr_expr *field;
    sr_strv keep;
    char *as;
};

static const sr_param explode_params[] = {
    {SR_P_EXPR, "field", NULL, offsetof(struct explode, field),
     "the array to explode (an expression, usually a field name)", SR_PF_REQUIRED},
    {SR_P_FIELDS, "keep", NULL, offsetof(struct explode, keep),
     "fields of the parent record copied into every element (elements must be objects)"},
    {SR_P_FIELD, "as", NULL, offsetof(struct explode, as),
     "put each element under this field of a copy of the parent record, instead of making the "
     "element the record"},
    {0}};

static int explode_check(sr_op *op, void *conf, sr_check *ck)
{
    struct explode *e = conf;
    sr_stype t = sr_expr_type(e->field);
    if (t != SR_T_ANY && t != SR_T_ARR && t != SR_T_NULL) {
        sr_errc(ck->dg, SR_E_EXPR_TYPE, ck->file, op->vmark,
                "%s: the value to explode must be an array (e.g. a field holding a list), but this "
                "expression gives a %s",
                op->label, sr_stype_name(t));
        return -1;
    }
    if (e->as && e->keep.n) {
        sr_errc(ck->dg, SR_E_CONFLICT, ck->file, op->mark,
                "%s: 'keep' and 'as' do not go together ('as' keeps every parent field)",
                op->label);
        return -1;
    }
    /* an element's type: known when the array is a field whose elements' type is known */
    sr_stype el = SR_T_ANY;
    const char *root = sr_expr_root_field(e->field);
    int k =
        root && strcmp(root, sr_expr_text(e->field)) == 0 ? sr_schema_find(&ck->schema, root) : -1;
    if (k >= 0) el = ck->schema.elems[k];
    if (e->as) {
        sr_schema_put(&ck->schema, e->as, el, NULL);
    } else {
        /* the element is the record, with the kept fields as they were */
        sr_schema_keep(&ck->schema, e->keep.v, e->keep.n, "explode", ck->file, op->mark);
        ck->schema.closed = false;
    }
    return 0;
}

static int explode_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct explode *e = op->conf;
    sr_value arr;
    if (sr_expr_eval(e->field, t, op, r, &arr)) return -1;
    if (arr.type == SR_NULL) return 0; /* nothing to explode: see sr_task_stats */
    if (arr.type != SR_ARR)
        return sr_task_fail(t, op, "'%s' must be an array, not %s", sr_expr_text(e->field),
                            sr_type_name((sr_type)arr.type));
    sr_value parent = r->value;
    if ((e->as || e->keep.n) && parent.type != SR_OBJ) return sr_need_object(t, op, r);
    for (uint32_t i = 0; i < arr.len; i++) {
        sr_record child = *r;
        sr_value el = arr.u.a[i];
        if (e->as) {
            sr_value copy = sr_obj_new(sr_task_arena(t), parent.len + 1);
            memcpy(copy.u.o, parent.u.o, sizeof(sr_member) * parent.len);
            copy.len = parent.len;
            sr_obj_set(sr_task_arena(t), &copy, e->as, strlen(e->as), el);
            child.value = copy;
        } else if (e->keep.n) {
            if (el.type != SR_OBJ)
                return sr_task_fail(t, op,
                                    "element %u must be an object to keep parent fields, not %s", i,
                                    sr_type_name((sr_type)el.type));
            sr_value copy = sr_obj_new(sr_task_arena(t), el.len + (uint32_t)e->keep.n);
            memcpy(copy.u.o, el.u.o, sizeof(sr_member) * el.len);
            copy.len = el.len;
            for (int k = 0; k < e->keep.n; k++) {
                size_t len = e->keep.len[k];
                sr_value *pv = sr_obj_get(&parent, e->keep.v[k], len);
                if (!pv) return sr_task_fail(t, op, "field '%s' to keep is missing", e->keep.v[k]);
                sr_obj_set(sr_task_arena(t), &copy, e->keep.v[k], len, *pv);
            }
            child.value = copy;
        } else {
            child.value = el;
        }
        if (sr_emit(t, op, &child)) return -1;
    }
    return 0;
}

const sr_operator_type sr_op_explode = {
    .name = "explode",
    .summary = "one record per element of an array; the element becomes the record",
    .example = "- explode: payload",
    .params = explode_params,
    .primary = "field",
    .conf_size = sizeof(struct explode),
    .check = explode_check,
    .process = explode_process,
};
