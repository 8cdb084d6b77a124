/* model_record.c — a model's inputs read from a record, its prediction written into one: what
 * the model step and `streamrun score` share, so that both accept and write the same. */
#include "model/model.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

int sr_model_read_inputs(const sr_model *m, const sr_value *rec, const char *const *names,
                         uint32_t *hints, double *x, char *err, size_t errlen)
{
    if (rec->type != SR_OBJ) {
        snprintf(err, errlen, "the record must be a JSON object, not %s",
                 sr_type_name((sr_type)rec->type));
        return -1;
    }
    for (int i = 0; i < m->nfeatures; i++) {
        const char *name = names ? names[i] : m->fields[i].name;
        size_t len = strlen(name);
        const sr_value *v =
            hints ? sr_obj_get_hint(rec, name, len, &hints[i]) : sr_obj_get(rec, name, len);
        bool integer = m->fields[i].type == SR_FIELD_INTEGER;
        if (!v || v->type == SR_NULL) {
            snprintf(err, errlen, "%s: field is %s (the model's input %s)", name,
                     v ? "null" : "missing", sr_field_type_name(m->fields[i].type));
            return -1;
        }
        if (m->fields[i].type == SR_FIELD_STRING) { /* a text model's: read by score_record */
            if (v->type != SR_STR) {
                snprintf(err, errlen, "%s: the model's input is a STRING, not %s", name,
                         sr_type_name((sr_type)sr_num_norm(v).type));
                return -1;
            }
            x[i] = 0;
            continue;
        }
        sr_value n = sr_num_norm(v);
        if (integer ? n.type != SR_INT : !sr_is_number(&n)) {
            snprintf(err, errlen, "%s: the model's input is %s, not %s", name,
                     integer ? "an INTEGER" : "a DOUBLE",
                     n.type == SR_DBL ? "a non-integer number" : sr_type_name((sr_type)n.type));
            return -1;
        }
        x[i] = sr_num_double(&n);
    }
    return 0;
}

int sr_model_score_record(const sr_model *m, const sr_value *rec, const char *const *names,
                          uint32_t *hints, double *x, double *out, void *scratch, char *err,
                          size_t errlen)
{
    if (sr_model_read_inputs(m, rec, names, hints, x, err, errlen) < 0) return -1;
    if (!m->text) return sr_model_score(m, x, out, scratch, err, errlen);
    assert(m->nfeatures == 1 && m->fields[0].type == SR_FIELD_STRING);
    const char *name = names ? names[0] : m->fields[0].name;
    size_t len = strlen(name);
    const sr_value *v =
        hints ? sr_obj_get_hint(rec, name, len, &hints[0]) : sr_obj_get(rec, name, len);
    return sr_model_score_text(m, v->u.s, v->len, out, scratch, err, errlen);
}

void sr_model_write_outputs(const sr_model *m, sr_arena *a, sr_value *rec, int label,
                            const double *out, double threshold)
{
    assert(rec->type == SR_OBJ && label >= 0);
    if (m->nclasses == 0) {
        sr_obj_set(a, rec, "value", 5, sr_dbl(out[0]));
        return;
    }
    /* class names are the model's: the record borrows them */
    sr_obj_set(a, rec, "label", 5, sr_str(m->labels[label], m->label_len[label]));
    sr_obj_set(a, rec, "label_index", 11, sr_int(label));
    sr_value probs = sr_obj_new(a, (uint32_t)m->nclasses);
    for (int k = 0; k < m->nclasses; k++)
        sr_obj_append(a, &probs, m->labels[k], m->label_len[k], sr_dbl(out[k]));
    sr_obj_set(a, rec, "probabilities", 13, probs);
    if (threshold > 0) sr_obj_set(a, rec, "decision", 8, sr_bool(out[1] >= threshold));
}
