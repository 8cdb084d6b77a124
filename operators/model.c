/* model.c — scores each record with a model package and writes the prediction into it. */
#include "load/expr.h"
#include "model/model.h"
#include "model/model_slot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct model_step {
    char *package;
    sr_strv fields;
    double threshold;
    char *as;
    size_t as_len;
    /* set by model_check and shared by every task: the package's slot (its current model,
     * replaced when `up` reloads it: model_slot.h) and the record field that feeds each input
     * (a reload keeps the inputs, so these stay right) */
    sr_model_slot *slot;
    const char **inputs;
};

/* Per task: the model it scores with and the scoring buffers, allocated for it. */
struct model_state {
    sr_model_hold hold;
    double *x, *out;
    void *scratch;
    size_t scratch_size;
};

static const sr_param model_params[] = {
    {SR_P_STR, "package", NULL, offsetof(struct model_step, package),
     "the model package's directory (see Model packages), relative to the topology file's",
     SR_PF_REQUIRED},
    {SR_P_FIELDS, "fields", NULL, offsetof(struct model_step, fields),
     "the record fields that feed the model's inputs, in input_schema order (default: the "
     "input_schema names)"},
    {SR_P_NUM, "threshold", "0", offsetof(struct model_step, threshold),
     "two-class models: writes decision, true when the second class's probability is at least "
     "this (0: no decision)"},
    {SR_P_FIELD, "as", NULL, offsetof(struct model_step, as),
     "writes the outputs into one object field of this name instead of the record's top level "
     "(so that several model steps can score one record)"},
    {0}};

static int model_check(sr_op *op, void *conf, sr_check *ck)
{
    struct model_step *s = conf;
    char *path = NULL;
    if (s->package[0] == '/')
        path = sr_xstrdup(s->package);
    else if (asprintf(&path, "%s/%s", ck->topo->dir, s->package) < 0)
        abort();
    s->slot = sr_model_slot_open(path, ck->dg);
    int rc = s->slot ? 0 : -1;
    if (rc < 0)
        sr_err(ck->dg, ck->file, op->vmark, "%s: the model package '%s' cannot be loaded (%s)",
               op->label, s->package, path);
    free(path);
    if (rc < 0) return -1;
    const sr_model *m = sr_model_slot_peek(s->slot);
    if (s->fields.n && s->fields.n != m->nfeatures) {
        sr_err(ck->dg, ck->file, s->fields.marks[0],
               "%s: %d fields for a model of %d inputs (input_schema: %s%s)", op->label,
               s->fields.n, m->nfeatures, m->fields[0].name, m->nfeatures > 1 ? ", ..." : "");
        rc = -1;
    }
    if (s->threshold < 0 || s->threshold > 1 || isnan(s->threshold)) {
        sr_err(ck->dg, ck->file, op->mark, "%s: threshold %g is not a probability (0 to 1)",
               op->label, s->threshold);
        rc = -1;
    } else if (s->threshold > 0 && m->nclasses != 2) {
        sr_err(ck->dg, ck->file, op->mark,
               "%s: a threshold is for two-class models; this one has %s", op->label,
               m->nclasses ? "more classes" : "no classes (a regressor)");
        rc = -1;
    }
    if (rc < 0) return -1;
    s->inputs = sr_xcalloc((size_t)m->nfeatures, sizeof(*s->inputs));
    for (int i = 0; i < m->nfeatures; i++) {
        s->inputs[i] = s->fields.n ? s->fields.v[i] : m->fields[i].name;
        if (ck->schema.closed && !sr_schema_has(&ck->schema, s->inputs[i])) {
            sr_no_field(ck, s->fields.n ? s->fields.marks[i] : op->vmark, s->inputs[i]);
            rc = -1;
        }
    }
    if (s->as) {
        s->as_len = strlen(s->as);
        sr_schema_add(&ck->schema, s->as);
    } else if (m->nclasses) {
        sr_schema_add(&ck->schema, "label");
        sr_schema_add(&ck->schema, "label_index");
        sr_schema_add(&ck->schema, "probabilities");
        if (s->threshold > 0) sr_schema_add(&ck->schema, "decision");
    } else {
        sr_schema_add(&ck->schema, "value");
    }
    return rc;
}

/* The task's model: the slot's current one (a reload is taken between records), with scratch
 * memory for it. @locality the thread that owns the task */
static const sr_model *task_model(const struct model_step *s, struct model_state *st)
{
    const sr_model *held = st->hold.m;
    const sr_model *m = sr_model_slot_get(s->slot, &st->hold);
    if (m == held) return m;
    size_t need = sr_model_scratch_size(m);
    if (need > st->scratch_size) {
        free(st->scratch);
        st->scratch = sr_xmalloc(need);
        st->scratch_size = need;
    }
    return m;
}

static void model_open(sr_task *t, const sr_op *op, void *state)
{
    const struct model_step *s = op->conf;
    struct model_state *st = state;
    const sr_model *m = task_model(s, st);
    /* a replacement has the same inputs and outputs: these sizes hold for every generation */
    st->x = sr_xcalloc((size_t)m->nfeatures, sizeof(double));
    st->out = sr_xcalloc((size_t)m->noutputs, sizeof(double));
}

static void model_close(sr_task *t, const sr_op *op, void *state)
{
    const struct model_step *s = op->conf;
    struct model_state *st = state;
    sr_model_slot_put(s->slot, &st->hold);
    free(st->x);
    free(st->out);
    free(st->scratch);
}

static int model_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct model_step *s = op->conf;
    struct model_state *st = sr_op_state(t, op);
    const sr_model *m = task_model(s, st);
    int label;
    char err[256];
    if ((label = sr_model_score_record(m, &r->value, s->inputs, st->x, st->out, st->scratch, err,
                                       sizeof(err))) < 0)
        return sr_task_fail(t, op, "%s", err);
    sr_arena *a = sr_task_arena(t);
    if (s->as) {
        sr_value o = sr_obj_new(a, 5);
        sr_model_write_outputs(m, a, &o, label, st->out, s->threshold);
        sr_obj_set(a, &r->value, s->as, s->as_len, o);
    } else {
        sr_model_write_outputs(m, a, &r->value, label, st->out, s->threshold);
    }
    return sr_emit(t, op, r);
}

static void model_destroy(void *conf)
{
    struct model_step *s = conf;
    sr_model_slot_close(s->slot);
    free(s->inputs);
}

const sr_operator_type sr_op_model = {
    .name = "model",
    .summary = "score the record with a model package: label, label_index and probabilities, or "
               "value",
    .example = "- model: {package: models/alerts, threshold: 0.8}",
    .params = model_params,
    .primary = "package",
    .conf_size = sizeof(struct model_step),
    .state_size = sizeof(struct model_state),
    .check = model_check,
    .open = model_open,
    .process = model_process,
    .close = model_close,
    .destroy = model_destroy,
};
