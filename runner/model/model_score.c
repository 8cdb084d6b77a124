/* model_score.c — scoring a feature vector with a loaded model, computed as scikit-learn 1.2.1
 * computes predict, predict_proba and the regressors' predict. */
#include "model/model.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* raw + lr * v must round the product before the sum, as numpy does: CMakeLists.txt builds this
 * folder with -ffp-contract=off (no fused multiply-add, on targets that have one). */

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

size_t sr_model_scratch_size(const sr_model *m)
{
    size_t rows = (size_t)(m->nrows > m->per_stage ? m->nrows : m->per_stage);
    size_t text = m->text ? SR_TEXT_SCRATCH : 0;
    return round8((size_t)m->nfeatures * sizeof(float)) + (rows + 1) * sizeof(double) + text;
}

/* scipy.special.expit */
static double expit(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* The first index of the largest of v[0..n), as numpy.argmax. */
static int argmax(const double *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best]) best = i;
    return best;
}

/* sklearn.utils.extmath.softmax of one row, into out. */
static void softmax(const double *v, int n, double *out)
{
    double max = v[argmax(v, n)], sum = 0;
    for (int i = 0; i < n; i++) {
        out[i] = exp(v[i] - max);
        sum += out[i];
    }
    for (int i = 0; i < n; i++) out[i] /= sum;
}

/* ---- linear models ---------------------------------------------------------------------- */

/* X @ coef.T + intercept for row r */
static double decision(const sr_model *m, int r, const double *x)
{
    const double *w = m->coef + (size_t)r * (size_t)m->nfeatures;
    double s = 0;
    for (int j = 0; j < m->nfeatures; j++) s += x[j] * w[j];
    return s + m->intercept[r];
}

/* A logistic regression's probabilities and class from its rows' decision values raw[0..nrows). */
static int logistic_from_raw(const sr_model *m, const double *raw, double *out)
{
    if (m->nrows == 1) { /* binary */
        double d = raw[0];
        if (m->multinomial) { /* softmax([-d, d]) */
            double two[2] = {-d, d};
            softmax(two, 2, out);
        } else {
            out[1] = expit(d);
            out[0] = 1.0 - out[1];
        }
        return d > 0 ? 1 : 0;
    }
    if (m->multinomial) {
        softmax(raw, m->nrows, out);
    } else { /* _predict_proba_lr: expit of each score, normalised to sum 1 */
        double sum = 0;
        for (int r = 0; r < m->nrows; r++) {
            out[r] = expit(raw[r]);
            sum += out[r];
        }
        for (int r = 0; r < m->nrows; r++) out[r] /= sum;
    }
    return argmax(raw, m->nrows);
}

static int score_logistic(const sr_model *m, const double *x, double *out, double *raw)
{
    for (int r = 0; r < m->nrows; r++) raw[r] = decision(m, r, x);
    return logistic_from_raw(m, raw, out);
}

/* ---- trees ------------------------------------------------------------------------------ */

/* The values of the leaf x reaches from root: sklearn compares the float32 input with the
 * float64 threshold. */
static const double *leaf(const sr_model *m, int32_t root, const float *xf)
{
    const sr_tree_node *nodes = m->nodes;
    int32_t i = root;
    /* x is finite: going right is !(x <= threshold), x > threshold */
    while (nodes[i].feature >= 0)
        i = nodes[i].left + ((double)xf[nodes[i].feature] > nodes[i].threshold);
    return m->values + nodes[i].left;
}

/* Averages the trees' leaf values (a decision tree is a forest of one). */
static int score_forest(const sr_model *m, const float *xf, double *out)
{
    for (int k = 0; k < m->noutputs; k++) out[k] = 0;
    for (int t = 0; t < m->ntrees; t++) {
        const double *v = leaf(m, m->roots[t], xf);
        for (int k = 0; k < m->noutputs; k++) out[k] += v[k];
    }
    for (int k = 0; k < m->noutputs; k++) out[k] /= m->ntrees;
    return m->nclasses ? argmax(out, m->nclasses) : 0;
}

static int score_boosting(const sr_model *m, const float *xf, double *out, double *raw)
{
    int K = m->per_stage;
    for (int k = 0; k < K; k++) raw[k] = m->init[k];
    for (int s = 0; s < m->nstages; s++)
        for (int k = 0; k < K; k++) {
            double v = leaf(m, m->roots[s * K + k], xf)[0];
            raw[k] += m->learning_rate * v;
        }
    if (m->nclasses == 0) { /* regression: the identity link */
        out[0] = raw[0];
        return 0;
    }
    if (m->nclasses == 2) {
        if (m->exponential) { /* ExponentialLoss: expit(2 raw); decision raw >= 0 */
            out[1] = expit(2.0 * raw[0]);
            out[0] = 1.0 - out[1];
            return raw[0] >= 0 ? 1 : 0;
        }
        out[1] = expit(raw[0]); /* BinomialDeviance; decision: argmax of the probabilities */
        out[0] = 1.0 - out[1];
        return argmax(out, 2);
    }
    /* MultinomialDeviance: exp(raw - logsumexp(raw)); decision: argmax of raw */
    double max = raw[argmax(raw, K)], sum = 0;
    if (!isfinite(max)) max = 0;
    for (int k = 0; k < K; k++) sum += exp(raw[k] - max);
    double lse = log(sum) + max;
    for (int k = 0; k < K; k++) out[k] = exp(raw[k] - lse);
    return argmax(raw, K);
}

/* ---- entry point ------------------------------------------------------------------------ */

int sr_model_score(const sr_model *m, const double *x, double *out, void *scratch, char *err,
                   size_t errlen)
{
    assert(m && x && out && scratch);
    float *xf = scratch;
    double *raw = (double *)((char *)scratch + round8((size_t)m->nfeatures * sizeof(float)));
    bool trees = m->kind != SR_MODEL_LINEAR_REGRESSION && m->kind != SR_MODEL_LOGISTIC_REGRESSION;
    for (int j = 0; j < m->nfeatures; j++) {
        if (!isfinite(x[j])) {
            snprintf(err, errlen, "'%s' is not a finite number", m->fields[j].name);
            return -1;
        }
        if (trees) {
            xf[j] = (float)x[j];
            if (!isfinite(xf[j])) {
                snprintf(err, errlen,
                         "'%s' is %g, too large for float32 (the trees compare float32)",
                         m->fields[j].name, x[j]);
                return -1;
            }
        }
    }
    int label = -1;
    switch (m->kind) {
    case SR_MODEL_LINEAR_REGRESSION:
        out[0] = decision(m, 0, x);
        label = 0;
        break;
    case SR_MODEL_LOGISTIC_REGRESSION: label = score_logistic(m, x, out, raw); break;
    case SR_MODEL_DECISION_TREE:
    case SR_MODEL_RANDOM_FOREST: label = score_forest(m, xf, out); break;
    case SR_MODEL_GRADIENT_BOOSTING: label = score_boosting(m, xf, out, raw); break;
    }
    assert(label >= 0);
    for (int k = 0; k < m->noutputs; k++)
        if (!isfinite(out[k])) { /* JSON has no infinity */
            snprintf(err, errlen, "the score is not a finite number (inputs too large)");
            return -1;
        }
    return label;
}

/* ---- text ------------------------------------------------------------------------------- */

int sr_model_score_text(const sr_model *m, const char *s, size_t len, double *out, void *scratch,
                        char *err, size_t errlen)
{
    assert(m && m->text && out && scratch);
    double *raw = (double *)((char *)scratch + round8((size_t)m->nfeatures * sizeof(float)));
    void *tscratch = raw + m->nrows + 1;
    void *heap;
    sr_text_entry *row;
    size_t n;
    if (sr_text_vectorize(m->text, s, len, tscratch, &heap, &row, &n) < 0) {
        snprintf(err, errlen, "out of memory vectorizing a text of %zu bytes", len);
        return -1;
    }
    /* the sparse row times coef.T, entries in column order (as scipy's csr product), + intercept */
    const sr_text_model *t = m->text;
    if (t->coef_slots) {
        /* sparse coefficients: each entry's column looked up once, its rows side by side; every
         * row's sum adds the same products in the same order as the dense form (a column without
         * coefficients adds zeros there) */
        assert(t->coef_rows == m->nrows);
        for (int r = 0; r < m->nrows; r++) raw[r] = 0;
        for (size_t i = 0; i < n; i++) {
            int32_t j = sr_text_coef_find(t, row[i].col);
            if (j < 0) continue;
            const double *c = t->coef_vals + (size_t)j * (size_t)m->nrows;
            for (int r = 0; r < m->nrows; r++) raw[r] += row[i].v * c[r];
        }
        for (int r = 0; r < m->nrows; r++) raw[r] += m->intercept[r];
    } else {
        size_t w = (size_t)t->width;
        for (int r = 0; r < m->nrows; r++) {
            const double *c = m->coef + (size_t)r * w;
            double d = 0;
            for (size_t i = 0; i < n; i++) d += row[i].v * c[row[i].col];
            raw[r] = d + m->intercept[r];
        }
    }
    free(heap);
    int label;
    if (m->kind == SR_MODEL_LOGISTIC_REGRESSION) {
        label = logistic_from_raw(m, raw, out);
    } else {
        out[0] = raw[0];
        label = 0;
    }
    for (int k = 0; k < m->noutputs; k++)
        if (!isfinite(out[k])) {
            snprintf(err, errlen, "the score is not a finite number");
            return -1;
        }
    return label;
}
