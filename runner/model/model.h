/* model.h — model packages: load and check a package directory, score feature vectors the way
 * scikit-learn 1.2 does (linear and logistic regression, decision trees, random forests,
 * gradient-boosted trees). The package format is in README.md, "Model packages". */
#ifndef SR_MODEL_H
#define SR_MODEL_H

#include "base/diag.h"
#include "base/value.h"
#include "model/model_text.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SR_FIELD_STRING, SR_FIELD_INTEGER, SR_FIELD_DOUBLE } sr_field_type;

typedef enum {
    SR_MODEL_LINEAR_REGRESSION,
    SR_MODEL_LOGISTIC_REGRESSION,
    SR_MODEL_DECISION_TREE,
    SR_MODEL_RANDOM_FOREST,
    SR_MODEL_GRADIENT_BOOSTING,
} sr_model_kind;

/* One input of the model, in the model's order (config.json's input_schema). */
typedef struct sr_model_field {
    char *name;
    sr_field_type type;
} sr_model_field;

/* A tree node. Internal: x[feature] as float32 <= threshold goes to node left, else to node
 * left + 1 (indices into the model's node array). Leaf: feature < 0 and left is the offset of
 * its values. */
typedef struct sr_tree_node {
    double threshold;
    int32_t feature;
    int32_t left;
} sr_tree_node;

/* A loaded package. Immutable once sr_model_load returns it: any number of threads may score
 * with one model at once, each with its own scratch. Every member is read-only for callers. */
typedef struct sr_model {
    sr_model_kind kind;
    char *file; /* the model file's name, relative to the package directory (model.json) */
    int nfeatures;
    sr_model_field *fields; /* nfeatures */
    int nclasses;           /* classes of a classifier; 0 for a regressor */
    char **labels;          /* nclasses: output_labels, by class index */
    uint32_t *label_len;    /* nclasses: the labels' lengths in bytes */
    int noutputs;           /* doubles sr_model_score writes: nclasses, or 1 for a regressor */

    /* a text model (linear or logistic over a vectorized text): its one input is a STRING and its
     * rows have text->width coefficients; NULL for a model of numbers */
    sr_text_model *text;
    /* linear and logistic: nrows rows of nfeatures (text: text->width) coefficients, one
     * intercept per row */
    int nrows;
    double *coef, *intercept;
    bool multinomial; /* logistic: softmax over the rows; else one-vs-rest (or binary) */

    /* trees: every tree's nodes in one array; a tree is the index of its root */
    sr_tree_node *nodes;
    size_t nnodes;
    int32_t *roots;
    int ntrees;
    double *values; /* leaf values: per leaf, nclasses probabilities (normalised at load) or 1 */
    /* gradient boosting: nstages stages of `per_stage` trees (1, or nclasses when > 2) */
    int nstages, per_stage;
    double learning_rate;
    double *init;     /* per_stage raw predictions before the first stage */
    bool exponential; /* binary boosting with the exponential loss: expit(2 raw) */
} sr_model;

/* Loads the package in directory dir: dir/config.json and the model file it names (default
 * model.json). Every problem found is added to dg with the file, line and column and what was
 * expected; returns 0 and *out (free with sr_model_destroy), or -1 with *out NULL.
 * @locality any thread */
int sr_model_load(sr_model **out, const char *dir, sr_diag *dg);
void sr_model_destroy(sr_model *m);
/* Frees what m scores with (coefficients, trees, the text vectorizer), keeping its names (inputs,
 * classes, file): for a holder of borrowed names that outlive the model's use (model_slot.c). */
void sr_model_free_scoring(sr_model *m);

/* Bytes of scratch memory sr_model_score needs for m (allocate once per scoring thread). */
size_t sr_model_scratch_size(const sr_model *m);

/* Scores x[0..nfeatures) (inputs in input_schema order, as doubles) into out[0..noutputs): a
 * classifier's class probabilities, or a regressor's value. Returns the predicted class index
 * (0 for a regressor), or -1 when x cannot be scored (a value that is not finite, or too large
 * for float32 where a tree compares it; a score that would not be finite) with the reason in err.
 * Allocates nothing; scratch holds sr_model_scratch_size(m) bytes, aligned for doubles, used by one
 * thread at a time.
 * @locality any thread; m shared read-only */
int sr_model_score(const sr_model *m, const double *x, double *out, void *scratch, char *err,
                   size_t errlen);

/* Scores the text s[0..len) (UTF-8) with the text model m (m->text set) into out, as
 * sr_model_score does. Allocates only for a text longer than the scratch holds (freed before
 * returning); -1 with the reason in err when memory runs out or the score is not finite.
 * @locality any thread; m shared read-only */
int sr_model_score_text(const sr_model *m, const char *s, size_t len, double *out, void *scratch,
                        char *err, size_t errlen);

/* Reads m's inputs from rec (as sr_model_read_inputs, into x: room for nfeatures doubles) and
 * scores them (sr_model_score or, for a text model, sr_model_score_text on its STRING input).
 * Returns the predicted class index (0 for a regressor), or -1 with the reason in err.
 * @locality any thread; m shared read-only */
int sr_model_score_record(const sr_model *m, const sr_value *rec, const char *const *names,
                          uint32_t *hints, double *x, double *out, void *scratch, char *err,
                          size_t errlen);

/* Reads m's inputs from the record rec into x[0..nfeatures): input i from the field names[i]
 * (names NULL: input_schema's names), an INTEGER input from an integer, a DOUBLE from any number.
 * hints, NULL or nfeatures places kept by the caller between records (zeroed at first), make
 * records of one shape find their fields at once (sr_obj_get_hint); one thread at a time.
 * Returns 0, or -1 with the reason in err (not an object, a field missing or null, another
 * type). @locality any thread */
int sr_model_read_inputs(const sr_model *m, const sr_value *rec, const char *const *names,
                         uint32_t *hints, double *x, char *err, size_t errlen);

/* Sets in the object rec, from a score (label: sr_model_score's return, out its outputs): a
 * classifier's label, label_index and probabilities (class name -> probability, by class
 * index), and with threshold > 0 (two classes) decision = out[1] >= threshold; a regressor's
 * value. Memory from a; the class names are borrowed from m, which must outlive rec. */
void sr_model_write_outputs(const sr_model *m, sr_arena *a, sr_value *rec, int label,
                            const double *out, double threshold);

/* "DOUBLE", "INTEGER" or "STRING". */
const char *sr_field_type_name(sr_field_type t);
/* "linear_regression", ... as in model.json's kind. */
const char *sr_model_kind_name(sr_model_kind k);

#endif
