/* model_text.h — the text classifier's vectorizer: scikit-learn 1.2.1's CountVectorizer,
 * HashingVectorizer and TfidfVectorizer (lower case, the token pattern, word n-grams, vocabulary or
 * hashed term counts, binary, TF-IDF, norm) turning one text into the sparse row a linear model
 * scores. The package format is in README.md, "Model packages". */
#ifndef SR_MODEL_TEXT_H
#define SR_MODEL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SR_NORM_NONE, SR_NORM_L1, SR_NORM_L2 } sr_text_norm;

/* A loaded vectorizer; immutable once loaded (shared read-only by every scoring thread). */
typedef struct sr_text_model {
    bool lowercase;
    int min_token;            /* 2: (?u)\b\w\w+\b, 1: (?u)\b\w+\b */
    int ngram_min, ngram_max; /* word n-grams, 1 <= min <= max */
    bool binary;              /* every present term counts 1 */
    bool hashing;             /* HashingVectorizer: murmurhash3_32 seed 0 of the term's UTF-8 */
    bool alternate_sign;      /* hashing: the hash's sign is the term's sign */
    int width;                /* columns: the vocabulary's size or the hashing n_features */
    bool sublinear_tf;        /* tf = 1 + log(tf) */
    double *idf;              /* width idf weights, or NULL (no TF-IDF / use_idf false) */
    sr_text_norm norm;
    /* vocabulary (not hashing): terms in one pool, found through an open-addressing table */
    char *pool;
    size_t pool_len, pool_cap;
    uint32_t *term_off, *term_len;
    int32_t *term_col;
    size_t nterms, terms_cap;
    uint32_t *slots; /* term index + 1, 0 empty */
    size_t nslots;   /* a power of two, at least twice nterms */
    /* the linear model's coefficients in the sparse form (model.json's "coef": {"sparse": true,
     * ...}): only the ncoef columns that have any, found through an open-addressing table; the
     * model's dense coef is NULL then. coef_slots is NULL when the coefficients are dense. */
    int32_t ncoef;
    int coef_rows;        /* the linear model's rows */
    double *coef_vals;    /* ncoef × coef_rows, by column: a column's rows side by side */
    uint64_t *coef_slots; /* (column + 1) << 32 | its index in coef_vals, 0 empty */
    unsigned coef_bits;   /* the table has 1 << coef_bits slots, at least twice ncoef */
} sr_text_model;

/* One column of a vectorized text. */
typedef struct sr_text_entry {
    int32_t col;
    double v;
} sr_text_entry;

/* Adds term (UTF-8 bytes) at column col to t's vocabulary. Returns 0, or -1 when the term is
 * already there (nothing added). */
int sr_text_vocab_add(sr_text_model *t, const char *term, size_t len, int32_t col);
/* The column of term in t's vocabulary, or -1. */
int32_t sr_text_vocab_find(const sr_text_model *t, const char *term, size_t len);
void sr_text_model_free(sr_text_model *t);

/* Gives t the sparse coefficients: cols[0..n) distinct columns (0 to width - 1), vals (taken:
 * freed with t) n × rows values, column j's at vals[j * rows .. + rows). */
void sr_text_coef_set(sr_text_model *t, const int32_t *cols, int32_t n, int rows, double *vals);

/* The index of column col among t's sparse coefficients (its rows at coef_vals + index *
 * coef_rows), or -1 when the column has none. t->coef_slots must be set. */
static inline int32_t sr_text_coef_find(const sr_text_model *t, int32_t col)
{
    size_t mask = ((size_t)1 << t->coef_bits) - 1;
    uint64_t want = (uint64_t)((uint32_t)col + 1) << 32;
    /* Fibonacci hashing: vocabulary columns are consecutive, hashed ones spread */
    size_t s = (size_t)(((uint32_t)col * 0x9E3779B1u) >> (32 - t->coef_bits)) & mask;
    for (;;) {
        uint64_t e = t->coef_slots[s];
        if (!e) return -1;
        if ((e & 0xFFFFFFFF00000000u) == want) return (int32_t)(uint32_t)e;
        s = (s + 1) & mask;
    }
}

/* scikit-learn's murmurhash3_32(key, seed=0, positive=False): MurmurHash3_x86_32, signed. */
int32_t sr_murmurhash3_32(const char *key, size_t len, uint32_t seed);

/* Bytes of scratch sr_text_vectorize uses without allocating (a longer text allocates its own
 * buffers for the call). */
#define SR_TEXT_SCRATCH (128 * 1024)

/* Vectorizes s[0..len) (UTF-8) as scikit-learn's transform does, into *row: entries sorted by
 * column, *n of them. *row points into scratch (SR_TEXT_SCRATCH bytes, aligned for doubles) or, for
 * a long text, into *heap, which the caller frees after using the row (free(NULL) when not
 * needed). Returns 0, or -1 when memory runs out. @locality any thread; t shared read-only */
int sr_text_vectorize(const sr_text_model *t, const char *s, size_t len, void *scratch, void **heap,
                      sr_text_entry **row, size_t *n);

#endif
