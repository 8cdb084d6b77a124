/* model.c — scores each record with a model package (or one of several A/B variants) and writes
 * the prediction into it; keeps per-variant KPIs for the run summaries. */
#include "load/expr.h"
#include "model/model.h"
#include "model/model_slot.h"
#include "stateful.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The largest weight of a variant: the sum of a step's weights stays far from overflowing. */
#define MAX_WEIGHT 1000000

/* One model of the step: a variant (`variants:`), or the step's one `package`. */
struct model_variant {
    char *name; /* NULL for the step's one package */
    char *package;
    int64_t weight;
    /* set by model_check: the package's slot (its current model, replaced when `up` reloads it:
     * model_slot.h), the record field that feeds each input (a reload keeps the inputs, so these
     * stay right), and the end of the variant's range of split positions: a record whose
     * position (0 .. total weight - 1) is below upto and at or above the previous variant's upto
     * is scored by this variant */
    sr_model_slot *slot;
    const char **inputs;
    size_t name_len;
    int64_t upto;
};

/* ---- KPIs ------------------------------------------------------------------------------------
 * Counters of one variant. Each task has its own (a task's thread is their single writer: it
 * adds with a relaxed atomic load and store, no read-modify-write), which the report reads while
 * the task runs (relaxed loads: a count for a summary, it guards nothing). A task's counters are
 * folded into the step's totals when it closes. */

/* Latency histogram of ns per score: exact below 4 ns, then 4 buckets per power of two (a
 * bucket's upper bound is at most 25 % above its lower one), up to 2^40 ns. */
#define LAT_SUB    4
#define LAT_MAXLOG 40
#define NLAT       (LAT_SUB + LAT_SUB * (LAT_MAXLOG - 2))
/* One score in LAT_EVERY is timed: reading the clock twice (about 50 ns) would cost more than a
 * small model's score. The first score of each task is one of them. */
#define LAT_EVERY 8

typedef struct kpi {
    atomic_uint_least64_t scored, failed, unsplit;
    atomic_uint_least64_t timed, ns; /* the scores timed (one in LAT_EVERY) and their total */
    _Atomic double sum;      /* two-class: the second class's probabilities; regressor: values */
    _Atomic double min, max; /* regressor: of the values */
    atomic_uint_least64_t lat[NLAT];
    atomic_uint_least64_t *classes; /* classifier: per class index, records given that label */
} kpi;

/* The counters of every variant of a step in one task (or the step's totals). */
typedef struct kpi_block {
    struct kpi_block *prev, *next; /* the step's list of open tasks, @locks model_kpis.lock */
    kpi *v;                        /* one per variant */
    atomic_uint_least64_t *classes;
} kpi_block;

/* Shared by every task of the step (reached from its configuration): the open tasks' counters
 * and the totals of the closed ones. */
struct model_kpis {
    pthread_mutex_t lock;
    kpi_block *open;  /* @locks lock */
    kpi_block *total; /* @locks lock */
};

struct model_step {
    char *package;
    sr_strv fields;
    double threshold;
    char *as;
    sr_list variants; /* of struct model_variant */
    sr_expr *split;
    /* set by model_check, read-only afterwards and shared by every task */
    size_t as_len;
    struct model_variant one; /* the step's one package, when it has no variants */
    struct model_variant *v;  /* variants.items, or &one */
    int nv;
    int64_t total;           /* the sum of the weights */
    int nclasses;            /* every variant's (they are alike): 0 for regressors */
    int maxin, maxout;       /* the most inputs and outputs among the variants */
    size_t ncounters;        /* per kpi_block: classes counters of all variants */
    struct model_kpis *kpis; /* shared, @locks kpis->lock (see struct model_kpis) */
};

/* Per task: the model each variant scores with, the scoring buffers, the round-robin position of
 * records with no split value, and the task's KPIs. */
struct model_state {
    sr_model_hold *holds; /* one per variant */
    double *x, *out;
    uint32_t *hints; /* per variant, maxin: where each input was found in the last record */
    void *scratch;
    size_t scratch_size;
    uint64_t rr;
    uint64_t nscores; /* scores attempted by the task: picks those timed */
    kpi_block *k;
};

static const sr_param variant_params[] = {
    {SR_P_STR, "name", NULL, offsetof(struct model_variant, name),
     "the variant's name, written to each output's variant", SR_PF_REQUIRED},
    {SR_P_STR, "package", NULL, offsetof(struct model_variant, package),
     "the variant's model package directory, relative to the topology file's", SR_PF_REQUIRED},
    {SR_P_INT, "weight", "1", offsetof(struct model_variant, weight),
     "the variant's share of the split values: weight / the sum of the weights (1 to 1000000)"},
    {0}};

static const sr_param model_params[] = {
    {SR_P_STR, "package", NULL, offsetof(struct model_step, package),
     "the model package's directory (see Model packages), relative to the topology file's",
     SR_PF_ONE_OF},
    {SR_P_LIST, "variants", NULL, offsetof(struct model_step, variants),
     "instead of package, A/B variants: list of {name, package, weight}; each record is scored "
     "by one, picked by its split value (see Model packages)",
     SR_PF_ONE_OF, NULL, variant_params, sizeof(struct model_variant)},
    {SR_P_EXPR, "split", NULL, offsetof(struct model_step, split),
     "variants: the value that picks a record's variant, the same variant for the same value "
     "(default: the record key)"},
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

/* ---- load-time checks ------------------------------------------------------------------------
 * Every function of this section: @locality the loading thread, before any task exists (it
 * writes the configuration); @locks none of its own (sr_model_slot_open takes the slot list's). */

/* The mark of setting key of variant i, else of the variant. */
static sr_mark variant_mark(const sr_op *op, const struct model_step *s, int i, const char *key)
{
    if (s->nv == 1 && !s->variants.n) return op->vmark;
    const sr_ynode *l = op->settings && op->settings->kind == SR_Y_MAP
                            ? sr_ymap_get(op->settings, "variants")
                            : NULL;
    const sr_ynode *item = l && l->kind == SR_Y_SEQ && i < l->nkids ? l->kids[i] : NULL;
    const sr_ynode *n = item && item->kind == SR_Y_MAP ? sr_ymap_get(item, key) : NULL;
    return n ? n->mark : s->variants.marks[i];
}

/* "model (step 3)" or "model (step 3), variant 'b'", for messages about variant i. */
static const char *variant_label(const sr_op *op, const struct model_step *s, int i, char *buf,
                                 size_t size)
{
    if (!s->variants.n) return op->label;
    snprintf(buf, size, "%s, variant '%s'", op->label, s->v[i].name);
    return buf;
}

/* Loads variant i's package into its slot (its problems, then where the step names it).
 * @locks the slot list's mutex (in sr_model_slot_open) */
static int open_variant(sr_op *op, struct model_step *s, int i, sr_check *ck)
{
    struct model_variant *v = &s->v[i];
    char *path = NULL, lbl[200];
    if (v->package[0] == '/')
        path = sr_xstrdup(v->package);
    else if (asprintf(&path, "%s/%s", ck->topo->dir, v->package) < 0)
        abort();
    v->slot = sr_model_slot_open(path, ck->dg);
    if (!v->slot)
        sr_errc(ck->dg, SR_E_MODEL_PACKAGE, ck->file, variant_mark(op, s, i, "package"),
                "%s: the model package '%s' cannot be loaded (%s)",
                variant_label(op, s, i, lbl, sizeof(lbl)), v->package, path);
    free(path);
    return v->slot ? 0 : -1;
}

/* Which of package and variants the step has: exactly one; a split only with variants; variant
 * names distinct, weights 1..MAX_WEIGHT. Sets s->v, s->nv, the ranges and s->total. */
static int check_variants(sr_op *op, struct model_step *s, sr_check *ck)
{
    int rc = 0;
    if (s->package && s->variants.n) {
        sr_errc(ck->dg, SR_E_CONFLICT, ck->file, sr_setting_mark(op, "variants"),
                "%s: give either 'package' (one model) or 'variants' (several, A/B), not both",
                op->label);
        return -1;
    }
    if (!s->package && !s->variants.n) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, op->mark,
                "%s: say which model scores the records: 'package: models/alerts', or A/B "
                "'variants: [{name: a, package: models/alerts-v1, weight: 90}, ...]'",
                op->label);
        return -1;
    }
    if (s->split && !s->variants.n) {
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, "split"),
                "%s: 'split' picks one of the step's 'variants', and this step has one package",
                op->label);
        rc = -1;
    }
    if (s->package) {
        s->one.package = s->package;
        s->one.weight = 1;
        s->v = &s->one;
        s->nv = 1;
    } else {
        s->v = s->variants.items;
        s->nv = s->variants.n;
    }
    s->total = 0;
    for (int i = 0; i < s->nv; i++) {
        struct model_variant *v = &s->v[i];
        if (v->name) {
            v->name_len = strlen(v->name);
            if (v->name_len == 0) {
                sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, variant_mark(op, s, i, "name"),
                        "%s: variant %d has an empty name; each variant needs a name, which is "
                        "written to its outputs' 'variant'",
                        op->label, i + 1);
                rc = -1;
            }
            for (int j = 0; j < i; j++)
                if (v->name_len && strcmp(s->v[j].name, v->name) == 0) {
                    sr_errc(ck->dg, SR_E_DUPLICATE, ck->file, variant_mark(op, s, i, "name"),
                            "%s: variant %d is named '%s', as variant %d is; each variant needs "
                            "its own name (the outputs' 'variant' tells them apart)",
                            op->label, i + 1, v->name, j + 1);
                    sr_diag_related(ck->dg, ck->file, variant_mark(op, s, j, "name"),
                                    "variant %d named here", j + 1);
                    rc = -1;
                    break;
                }
        }
        if (v->weight < 1 || v->weight > MAX_WEIGHT) {
            sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, variant_mark(op, s, i, "weight"),
                    "%s: variant %d's weight is %lld; a weight is a whole number from 1 to %d "
                    "(the variant's share of the records is its weight / the sum of the weights)",
                    op->label, i + 1, (long long)v->weight, MAX_WEIGHT);
            rc = -1;
            continue;
        }
        s->total += v->weight;
        v->upto = s->total;
    }
    return rc;
}

/* "a, b, c" (at most about len bytes) for a message. */
static void class_list(const sr_model *m, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = 0;
    for (int k = 0; k < m->nclasses && n + 8 < len; k++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", k ? ", " : "", m->labels[k]);
    if (n >= len) memcpy(buf + len - 4, "...", 4);
}

/* Variant i's model against the step's fields and variant 0's outputs: the same outputs (all
 * regressors, or all classifiers with the same class names in the same order), as many inputs
 * as fields names. */
static int check_alike(const sr_op *op, const struct model_step *s, int i, sr_check *ck)
{
    const sr_model *m = sr_model_slot_peek(s->v[i].slot);
    const sr_model *m0 = sr_model_slot_peek(s->v[0].slot);
    char lbl[200], a[200], b[200];
    sr_mark mk = variant_mark(op, s, i, "package");
    int rc = 0;
    if (s->fields.n && s->fields.n != m->nfeatures) {
        sr_errc(ck->dg, SR_E_MODEL_INPUTS, ck->file, s->variants.n ? mk : s->fields.marks[0],
                "%s: %d fields for a model of %d inputs (input_schema: %s%s)",
                variant_label(op, s, i, lbl, sizeof(lbl)), s->fields.n, m->nfeatures,
                m->fields[0].name, m->nfeatures > 1 ? ", ..." : "");
        rc = -1;
    }
    if (i == 0) return rc;
    if (!m->nclasses != !m0->nclasses) {
        sr_errc(ck->dg, SR_E_MODEL_VARIANTS, ck->file, mk,
                "%s: variant '%s' is a %s and variant '%s' a %s; the variants of a step must "
                "write the same outputs",
                op->label, s->v[i].name, m->nclasses ? "classifier" : "regressor", s->v[0].name,
                m0->nclasses ? "classifier" : "regressor");
        return -1;
    }
    bool same = m->nclasses == m0->nclasses;
    for (int k = 0; same && k < m->nclasses; k++) same = strcmp(m->labels[k], m0->labels[k]) == 0;
    if (!same) {
        class_list(m, a, sizeof(a));
        class_list(m0, b, sizeof(b));
        sr_errc(ck->dg, SR_E_MODEL_VARIANTS, ck->file, mk,
                "%s: variant '%s' has the classes %s where variant '%s' has %s; the variants of a "
                "step must have the same class names in the same order",
                op->label, s->v[i].name, a, s->v[0].name, b);
        rc = -1;
    }
    return rc;
}

static int model_check(sr_op *op, void *conf, sr_check *ck)
{
    struct model_step *s = conf;
    s->kpis = sr_xcalloc(1, sizeof(*s->kpis));
    pthread_mutex_init(&s->kpis->lock, NULL);
    int rc = check_variants(op, s, ck);
    if (!s->nv) return -1; /* neither package nor variants, or both */
    for (int i = 0; i < s->nv; i++)
        if (open_variant(op, s, i, ck) < 0) rc = -1;
    for (int i = 0; i < s->nv; i++)
        if (!s->v[i].slot) return -1;
    for (int i = 0; i < s->nv; i++)
        if (check_alike(op, s, i, ck) < 0) rc = -1;
    const sr_model *m0 = sr_model_slot_peek(s->v[0].slot);
    if (s->threshold < 0 || s->threshold > 1 || isnan(s->threshold)) {
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, op->mark,
                "%s: threshold %g is not a probability (0 to 1)", op->label, s->threshold);
        rc = -1;
    } else if (s->threshold > 0 && m0->nclasses != 2) {
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file,
                s->variants.n ? sr_setting_mark(op, "threshold") : op->mark,
                "%s: a threshold is for two-class models; %s", op->label,
                s->variants.n ? (m0->nclasses ? "the variants have more classes"
                                              : "the variants have no classes (regressors)")
                              : (m0->nclasses ? "this one has more classes"
                                              : "this one has no classes (a regressor)"));
        rc = -1;
    }
    if (rc < 0) return -1;
    s->nclasses = m0->nclasses;
    s->ncounters = (size_t)s->nv * (size_t)s->nclasses;
    for (int i = 0; i < s->nv; i++) {
        struct model_variant *v = &s->v[i];
        const sr_model *m = sr_model_slot_peek(v->slot);
        assert(m->nclasses == s->nclasses);
        if (m->nfeatures > s->maxin) s->maxin = m->nfeatures;
        if (m->noutputs > s->maxout) s->maxout = m->noutputs;
        v->inputs = sr_xcalloc((size_t)m->nfeatures, sizeof(*v->inputs));
        for (int k = 0; k < m->nfeatures; k++) {
            v->inputs[k] = s->fields.n ? s->fields.v[k] : m->fields[k].name;
            if (!ck->schema.closed || sr_schema_has(&ck->schema, v->inputs[k])) continue;
            bool told = false; /* the same field, reported for an earlier variant */
            for (int j = 0; j < i && !told; j++)
                for (int q = 0; q < sr_model_slot_peek(s->v[j].slot)->nfeatures && !told; q++)
                    told = strcmp(s->v[j].inputs[q], v->inputs[k]) == 0;
            if (!told)
                sr_no_field(ck,
                            s->fields.n ? s->fields.marks[k] : variant_mark(op, s, i, "package"),
                            v->inputs[k]);
            rc = -1;
        }
    }
    /* the outputs (sr_model_write_outputs), at the top level or under `as` */
    sr_schema out = {.closed = true};
    if (s->nclasses) {
        sr_schema_put(&out, "label", SR_T_STR, NULL);
        sr_schema_put(&out, "label_index", SR_T_NUM, NULL);
        sr_schema_put(&out, "probabilities", SR_T_OBJ, NULL);
        if (s->threshold > 0) sr_schema_put(&out, "decision", SR_T_BOOL, NULL);
    } else {
        sr_schema_put(&out, "value", SR_T_NUM, NULL);
    }
    if (s->variants.n) sr_schema_put(&out, "variant", SR_T_STR, NULL);
    if (s->as) {
        s->as_len = strlen(s->as);
        sr_schema_put(&ck->schema, s->as, SR_T_OBJ, &out);
    } else {
        for (int i = 0; i < out.n; i++)
            sr_schema_put(&ck->schema, out.names[i], out.types[i], NULL);
    }
    sr_schema_free(&out);
    return rc;
}

/* ---- KPIs ------------------------------------------------------------------------------------ */

/* Adds n to c, of which the caller is the single writer (no read-modify-write needed).
 * @locality c's writer */
static inline void count_add(atomic_uint_least64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline double dget(const _Atomic double *d)
{
    return atomic_load_explicit(d, memory_order_relaxed);
}

static inline void dset(_Atomic double *d, double x)
{
    atomic_store_explicit(d, x, memory_order_relaxed);
}

/* The histogram bucket of ns nanoseconds. */
static int lat_bucket(uint64_t ns)
{
    if (ns < LAT_SUB) return (int)ns;
    if (ns >> LAT_MAXLOG) return NLAT - 1;
    int e = 63 - __builtin_clzll(ns); /* 2 .. LAT_MAXLOG-1 */
    int sub = (int)((ns >> (e - 2)) & (LAT_SUB - 1));
    int b = LAT_SUB + (e - 2) * LAT_SUB + sub;
    assert(b >= LAT_SUB && b < NLAT);
    return b;
}

/* The largest ns of bucket b (its upper bound). */
static uint64_t lat_upper(int b)
{
    if (b < LAT_SUB) return (uint64_t)b;
    int e = (b - LAT_SUB) / LAT_SUB + 2, sub = (b - LAT_SUB) % LAT_SUB;
    return ((uint64_t)(LAT_SUB + sub + 1) << (e - 2)) - 1;
}

/* Zeroed counters for every variant of s (min and max at +-infinity). @locality any */
static kpi_block *kpi_block_new(const struct model_step *s)
{
    kpi_block *k = sr_xcalloc(1, sizeof(*k));
    k->v = sr_xcalloc((size_t)s->nv, sizeof(*k->v));
    k->classes = sr_xcalloc(s->ncounters + 1, sizeof(*k->classes));
    for (int i = 0; i < s->nv; i++) {
        k->v[i].classes = k->classes + (size_t)i * (size_t)s->nclasses;
        atomic_init(&k->v[i].sum, 0.0);
        atomic_init(&k->v[i].min, INFINITY);
        atomic_init(&k->v[i].max, -INFINITY);
    }
    return k;
}

/* @locality the block's owner, once it is out of the step's list */
static void kpi_block_free(kpi_block *k)
{
    if (!k) return;
    free(k->v);
    free(k->classes);
    free(k);
}

/* Adds the counters of src to dst. dst has one writer: the caller.
 * @locality any; @locks the step's kpis->lock when dst is its totals */
static void kpi_fold(const struct model_step *s, kpi_block *dst, kpi_block *src)
{
    for (int i = 0; i < s->nv; i++) {
        kpi *d = &dst->v[i], *o = &src->v[i];
        count_add(&d->scored, atomic_load_explicit(&o->scored, memory_order_relaxed));
        count_add(&d->failed, atomic_load_explicit(&o->failed, memory_order_relaxed));
        count_add(&d->unsplit, atomic_load_explicit(&o->unsplit, memory_order_relaxed));
        count_add(&d->timed, atomic_load_explicit(&o->timed, memory_order_relaxed));
        count_add(&d->ns, atomic_load_explicit(&o->ns, memory_order_relaxed));
        dset(&d->sum, dget(&d->sum) + dget(&o->sum));
        dset(&d->min, fmin(dget(&d->min), dget(&o->min)));
        dset(&d->max, fmax(dget(&d->max), dget(&o->max)));
        for (int b = 0; b < NLAT; b++)
            count_add(&d->lat[b], atomic_load_explicit(&o->lat[b], memory_order_relaxed));
        for (int c = 0; c < s->nclasses; c++)
            count_add(&d->classes[c], atomic_load_explicit(&o->classes[c], memory_order_relaxed));
    }
}

/* A successful score of variant k in its task's counters (label: the class index, out: the
 * outputs, timed: whether ns, how long it took, was measured). @locality the thread that owns
 * the task */
static void kpi_scored(const struct model_step *s, kpi *k, int label, const double *out, bool timed,
                       uint64_t ns)
{
    count_add(&k->scored, 1);
    if (timed) {
        count_add(&k->timed, 1);
        count_add(&k->ns, ns);
        count_add(&k->lat[lat_bucket(ns)], 1);
    }
    if (s->nclasses) {
        assert(label >= 0 && label < s->nclasses);
        count_add(&k->classes[label], 1);
        if (s->nclasses == 2) dset(&k->sum, dget(&k->sum) + out[1]);
        return;
    }
    dset(&k->sum, dget(&k->sum) + out[0]);
    if (out[0] < dget(&k->min)) dset(&k->min, out[0]);
    if (out[0] > dget(&k->max)) dset(&k->max, out[0]);
}

/* n with a comma between thousands: 9,012. */
static void put_count(sr_buf *b, uint64_t n)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)n);
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0) sr_buf_putc(b, ',');
        sr_buf_putc(b, tmp[i]);
    }
}

/* ns as "0.21 µs", "12.5 µs" or "3.2 ms" (three significant digits at most). */
static void put_time(sr_buf *b, double ns)
{
    if (ns < 1e6)
        sr_buf_printf(b, "%.3g µs", ns / 1e3);
    else
        sr_buf_printf(b, "%.3g ms", ns / 1e6);
}

/* One line of variant i's totals k (see model_report). @locality any; @locks the slot's mutex
 * (sr_model_slot_peek: the class names, which a reload keeps) */
static void report_variant(const sr_op *op, const struct model_step *s, int i, const kpi *k,
                           sr_buf *b)
{
    const struct model_variant *v = &s->v[i];
    const sr_model *m = sr_model_slot_peek(v->slot);
    uint64_t n = atomic_load_explicit(&k->scored, memory_order_relaxed);
    sr_buf_printf(b, "model step %d (%s%s%s): ", op->index, v->package, v->name ? ", " : "",
                  v->name ? v->name : "");
    put_count(b, n);
    sr_buf_puts(b, " scored, ");
    put_count(b, atomic_load_explicit(&k->failed, memory_order_relaxed));
    sr_buf_puts(b, " not scored");
    uint64_t unsplit = atomic_load_explicit(&k->unsplit, memory_order_relaxed);
    if (unsplit) {
        sr_buf_puts(b, ", ");
        put_count(b, unsplit);
        sr_buf_puts(b, " with no split value");
    }
    uint64_t timed = atomic_load_explicit(&k->timed, memory_order_relaxed);
    if (n) {
        if (s->nclasses) {
            for (int c = 0; c < s->nclasses; c++) {
                sr_buf_printf(b, "%s%s ", c ? ", " : "; ", m->labels[c]);
                put_count(b, atomic_load_explicit(&k->classes[c], memory_order_relaxed));
            }
            if (s->nclasses == 2)
                sr_buf_printf(b, "; p(%s) mean %.3g", m->labels[1], dget(&k->sum) / (double)n);
        } else {
            sr_buf_printf(b, "; value mean %.6g, min %.6g, max %.6g", dget(&k->sum) / (double)n,
                          dget(&k->min), dget(&k->max));
        }
    }
    if (timed) {
        uint64_t want = timed - timed / 100, seen = 0; /* the 99th percentile's rank */
        int p99 = 0;
        for (int q = 0; q < NLAT; q++) {
            seen += atomic_load_explicit(&k->lat[q], memory_order_relaxed);
            p99 = q;
            if (seen >= want) break;
        }
        sr_buf_puts(b, "; ");
        put_time(b, (double)atomic_load_explicit(&k->ns, memory_order_relaxed) / (double)timed);
        sr_buf_puts(b, " per score (p99 ");
        put_time(b, (double)lat_upper(p99));
        sr_buf_putc(b, ')');
    }
    sr_buf_putc(b, '\n');
}

/* The step's KPIs over every task of the process, closed or open: one line per variant (per
 * package without variants), each ending with a newline (operator.h: report).
 * @locality any; @locks the step's kpis->lock */
static void model_report(const sr_op *op, sr_buf *b)
{
    const struct model_step *s = op->conf;
    if (!s->kpis || !s->nv) return;
    kpi_block *sum = kpi_block_new(s);
    pthread_mutex_lock(&s->kpis->lock);
    if (s->kpis->total) kpi_fold(s, sum, s->kpis->total);
    for (kpi_block *k = s->kpis->open; k; k = k->next) kpi_fold(s, sum, k);
    pthread_mutex_unlock(&s->kpis->lock);
    for (int i = 0; i < s->nv; i++) report_variant(op, s, i, &sum->v[i], b);
    kpi_block_free(sum);
}

/* ---- scoring --------------------------------------------------------------------------------- */

/* Variant i's model for the task: the slot's current one (a reload is taken between records),
 * with scratch memory for it. @locality the thread that owns the task */
static const sr_model *task_model(const struct model_step *s, struct model_state *st, int i)
{
    const sr_model *held = st->holds[i].m;
    const sr_model *m = sr_model_slot_get(s->v[i].slot, &st->holds[i]);
    if (m == held) return m;
    /* a replacement has the same inputs and outputs (model_slot.h): x and out stay big enough */
    assert(m->nfeatures <= s->maxin && m->noutputs <= s->maxout);
    size_t need = sr_model_scratch_size(m);
    if (need > st->scratch_size) {
        free(st->scratch);
        st->scratch = sr_xmalloc(need);
        st->scratch_size = need;
    }
    return m;
}

/* @locality the thread that creates the task; @locks the step's kpis->lock */
static void model_open(sr_task *t, const sr_op *op, void *state)
{
    const struct model_step *s = op->conf;
    struct model_state *st = state;
    (void)t;
    assert(s->nv >= 1 && s->maxin >= 1 && s->maxout >= 1);
    st->holds = sr_xcalloc((size_t)s->nv, sizeof(*st->holds));
    for (int i = 0; i < s->nv; i++) task_model(s, st, i);
    st->x = sr_xcalloc((size_t)s->maxin, sizeof(double));
    st->out = sr_xcalloc((size_t)s->maxout, sizeof(double));
    st->hints = sr_xcalloc((size_t)s->nv * (size_t)s->maxin, sizeof(*st->hints));
    st->k = kpi_block_new(s);
    pthread_mutex_lock(&s->kpis->lock);
    st->k->next = s->kpis->open;
    if (s->kpis->open) s->kpis->open->prev = st->k;
    s->kpis->open = st->k;
    pthread_mutex_unlock(&s->kpis->lock);
}

/* Folds the task's KPIs into the step's totals. @locality the thread that owns the task;
 * @locks the step's kpis->lock */
static void model_close(sr_task *t, const sr_op *op, void *state)
{
    const struct model_step *s = op->conf;
    struct model_state *st = state;
    (void)t;
    pthread_mutex_lock(&s->kpis->lock);
    if (!s->kpis->total) s->kpis->total = kpi_block_new(s);
    kpi_fold(s, s->kpis->total, st->k);
    if (st->k->prev)
        st->k->prev->next = st->k->next;
    else
        s->kpis->open = st->k->next;
    if (st->k->next) st->k->next->prev = st->k->prev;
    pthread_mutex_unlock(&s->kpis->lock);
    kpi_block_free(st->k);
    for (int i = 0; i < s->nv; i++) sr_model_slot_put(s->v[i].slot, &st->holds[i]);
    free(st->holds);
    free(st->hints);
    free(st->x);
    free(st->out);
    free(st->scratch);
}

/* FNV-1a, 64 bits: the split's hash (README, "Model packages"). Not murmur2, the partitioner's:
 * a split by the same function as the partition would give every task of a partition the same
 * few variants. */
static uint64_t fnv1a64(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The variant that scores r: the one whose range of positions holds the FNV-1a hash of r's split
 * value modulo the total weight; a record with no split value (null or missing) takes the task's
 * next round-robin position (*unsplit set). Returns the variant's index, or -1 (sr_task_fail) when
 * the split expression fails. @locality the thread that owns the task */
static int pick_variant(sr_task *t, const sr_op *op, const struct model_step *s,
                        struct model_state *st, const sr_record *r, bool *unsplit)
{
    *unsplit = false;
    if (s->nv == 1) return 0;
    sr_value k = r->key;
    if (s->split && sr_expr_eval(s->split, t, op, r, &k)) return -1;
    uint64_t pos;
    if (k.type == SR_NULL || k.type == SR_MISSING) {
        *unsplit = true;
        pos = st->rr++ % (uint64_t)s->total;
    } else {
        sr_value n = sr_is_number(&k) ? sr_num_norm(&k) : k; /* 1.50 as written is 1.5 */
        sr_value txt = sr_value_to_str(sr_task_arena(t), &n);
        pos = fnv1a64(txt.u.s, txt.len) % (uint64_t)s->total;
    }
    for (int i = 0; i < s->nv; i++)
        if (pos < (uint64_t)s->v[i].upto) return i;
    assert(!"a position beyond the total weight");
    return s->nv - 1;
}

static uint64_t elapsed_ns(const struct timespec *a, const struct timespec *b)
{
    int64_t d = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000 + (b->tv_nsec - a->tv_nsec);
    return d > 0 ? (uint64_t)d : 0;
}

/* Scores r with the variant its split value picks, counts it in the task's KPIs and writes the
 * outputs. @locality the thread that owns the task; @locks none (the slot's mutex only when a
 * reload published a new model: sr_model_slot_get) */
static int model_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct model_step *s = op->conf;
    struct model_state *st = sr_op_state(t, op);
    bool unsplit;
    int i = pick_variant(t, op, s, st, r, &unsplit);
    if (i < 0) return -1;
    const struct model_variant *v = &s->v[i];
    kpi *k = &st->k->v[i];
    if (unsplit) count_add(&k->unsplit, 1);
    const sr_model *m = task_model(s, st, i);
    char err[256];
    struct timespec t0, t1;
    bool timed = st->nscores++ % LAT_EVERY == 0;
    if (timed) clock_gettime(CLOCK_MONOTONIC, &t0);
    int label = sr_model_score_record(m, &r->value, v->inputs, st->hints + (size_t)i * s->maxin,
                                      st->x, st->out, st->scratch, err, sizeof(err));
    if (timed) clock_gettime(CLOCK_MONOTONIC, &t1);
    if (label < 0) {
        count_add(&k->failed, 1);
        if (v->name) return sr_task_fail(t, op, "variant %s: %s", v->name, err);
        return sr_task_fail(t, op, "%s", err);
    }
    kpi_scored(s, k, label, st->out, timed, timed ? elapsed_ns(&t0, &t1) : 0);
    sr_arena *a = sr_task_arena(t);
    sr_value *dst = &r->value, o;
    if (s->as) {
        o = sr_obj_new(a, 6);
        dst = &o;
    }
    sr_model_write_outputs(m, a, dst, label, st->out, s->threshold);
    if (v->name) sr_obj_set(a, dst, "variant", 7, sr_str(v->name, v->name_len));
    if (s->as) sr_obj_set(a, &r->value, s->as, s->as_len, o);
    return sr_emit(t, op, r);
}

/* @locality the thread that frees the topology, after every task closed; @locks the slot list's
 * mutex (sr_model_slot_close) */
static void model_destroy(void *conf)
{
    struct model_step *s = conf;
    for (int i = 0; i < s->nv; i++) {
        sr_model_slot_close(s->v[i].slot);
        free(s->v[i].inputs);
    }
    if (s->kpis) {
        assert(!s->kpis->open); /* every task closed */
        kpi_block_free(s->kpis->total);
        pthread_mutex_destroy(&s->kpis->lock);
        free(s->kpis);
    }
}

const sr_operator_type sr_op_model = {
    .name = "model",
    .summary = "score the record with a model package, or one of several A/B variants: label, "
               "label_index and probabilities, or value",
    .example = "- model: {package: models/alerts, threshold: 0.8}",
    .params = model_params,
    .primary = "package",
    .conf_size = sizeof(struct model_step),
    .state_size = sizeof(struct model_state),
    .check = model_check,
    .open = model_open,
    .process = model_process,
    .close = model_close,
    .report = model_report,
    .destroy = model_destroy,
};
