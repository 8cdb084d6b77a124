/* model_text.c — one text turned into the sparse row scikit-learn 1.2.1's vectorizers make of it:
 * python3's str.lower(), the token pattern's maximal runs of \w, word n-grams joined by one space,
 * vocabulary or hashed counts, binary, sublinear tf, idf and the row's norm. */
#include "model/model_text.h"

#include "base/arena.h"
#include "model/text_unicode.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- murmurhash3 ------------------------------------------------------------------------ */

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

int32_t sr_murmurhash3_32(const char *key, size_t len, uint32_t seed)
{
    const unsigned char *p = (const unsigned char *)key;
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    uint32_t h = seed;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        uint32_t k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                     (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64u;
    }
    const unsigned char *tail = p + nblocks * 4;
    uint32_t k = 0;
    switch (len & 3) {
    case 3: k ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2: k ^= (uint32_t)tail[1] << 8;  /* fall through */
    case 1:
        k ^= tail[0];
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return (int32_t)h;
}

/* ---- vocabulary ------------------------------------------------------------------------- */

static size_t slot_of(const sr_text_model *t, const char *term, size_t len)
{
    return (uint32_t)sr_murmurhash3_32(term, len, 0x5eed) & (t->nslots - 1);
}

static bool term_is(const sr_text_model *t, uint32_t idx, const char *term, size_t len)
{
    return t->term_len[idx] == len && memcmp(t->pool + t->term_off[idx], term, len) == 0;
}

int32_t sr_text_vocab_find(const sr_text_model *t, const char *term, size_t len)
{
    if (t->nslots == 0) return -1;
    for (size_t s = slot_of(t, term, len);; s = (s + 1) & (t->nslots - 1)) {
        uint32_t e = t->slots[s];
        if (e == 0) return -1;
        if (term_is(t, e - 1, term, len)) return t->term_col[e - 1];
    }
}

static void rehash(sr_text_model *t, size_t nslots)
{
    free(t->slots);
    t->nslots = nslots;
    t->slots = sr_xcalloc(nslots, sizeof(*t->slots));
    for (size_t i = 0; i < t->nterms; i++) {
        size_t s = slot_of(t, t->pool + t->term_off[i], t->term_len[i]);
        while (t->slots[s]) s = (s + 1) & (nslots - 1);
        t->slots[s] = (uint32_t)i + 1;
    }
}

int sr_text_vocab_add(sr_text_model *t, const char *term, size_t len, int32_t col)
{
    if (sr_text_vocab_find(t, term, len) >= 0) return -1;
    if (t->nterms == t->terms_cap) {
        t->terms_cap = t->terms_cap ? 2 * t->terms_cap : 64;
        t->term_off = sr_xrealloc(t->term_off, t->terms_cap * sizeof(*t->term_off));
        t->term_len = sr_xrealloc(t->term_len, t->terms_cap * sizeof(*t->term_len));
        t->term_col = sr_xrealloc(t->term_col, t->terms_cap * sizeof(*t->term_col));
    }
    if (t->pool_len + len > t->pool_cap) {
        t->pool_cap = 2 * (t->pool_len + len) + 256;
        t->pool = sr_xrealloc(t->pool, t->pool_cap);
    }
    assert(t->pool_len + len <= UINT32_MAX);
    memcpy(t->pool + t->pool_len, term, len);
    t->term_off[t->nterms] = (uint32_t)t->pool_len;
    t->term_len[t->nterms] = (uint32_t)len;
    t->term_col[t->nterms] = col;
    t->pool_len += len;
    t->nterms++;
    if (2 * t->nterms > t->nslots) {
        rehash(t, t->nslots ? 2 * t->nslots : 128);
    } else {
        size_t s = slot_of(t, term, len);
        while (t->slots[s]) s = (s + 1) & (t->nslots - 1);
        t->slots[s] = (uint32_t)t->nterms;
    }
    return 0;
}

void sr_text_model_free(sr_text_model *t)
{
    if (!t) return;
    free(t->idf);
    free(t->pool);
    free(t->term_off);
    free(t->term_len);
    free(t->term_col);
    free(t->slots);
    free(t->coef_vals);
    free(t->coef_slots);
    free(t);
}

void sr_text_coef_set(sr_text_model *t, const int32_t *cols, int32_t n, int rows, double *vals)
{
    assert(n >= 0 && rows > 0 && !t->coef_slots);
    unsigned bits = 4;
    while (((size_t)1 << bits) < 2 * (size_t)n) bits++;
    assert(bits <= 32);
    t->coef_bits = bits;
    t->coef_slots = sr_xcalloc((size_t)1 << bits, sizeof(uint64_t));
    t->coef_vals = vals;
    t->ncoef = n;
    t->coef_rows = rows;
    size_t mask = ((size_t)1 << bits) - 1;
    for (int32_t j = 0; j < n; j++) {
        assert(cols[j] >= 0 && cols[j] < t->width);
        size_t s = (size_t)(((uint32_t)cols[j] * 0x9E3779B1u) >> (32 - bits)) & mask;
        while (t->coef_slots[s]) s = (s + 1) & mask;
        t->coef_slots[s] = (uint64_t)((uint32_t)cols[j] + 1) << 32 | (uint32_t)j;
    }
}

/* ---- vectorizing ------------------------------------------------------------------------ */

static int entry_cmp(const void *a, const void *b)
{
    int32_t x = ((const sr_text_entry *)a)->col, y = ((const sr_text_entry *)b)->col;
    return (x > y) - (x < y);
}

/* Sorts e[0..n) by column (insertion sort for the short rows of short texts) */
static void sort_entries(sr_text_entry *e, size_t n)
{
    if (n > 32) {
        qsort(e, n, sizeof(*e), entry_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        sr_text_entry x = e[i];
        size_t j = i;
        for (; j > 0 && e[j - 1].col > x.col; j--) e[j] = e[j - 1];
        e[j] = x;
    }
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

int sr_text_vectorize(const sr_text_model *t, const char *s, size_t len, void *scratch, void **heap,
                      sr_text_entry **row, size_t *n)
{
    *heap = NULL;
    /* sizes from len alone: at most len code points, SR_TEXT_LOWER_MAX each once lowered; a token
     * of k code points is at most 4k bytes plus the space that joins it to the next */
    size_t ncp_max = len, nlow_max = t->lowercase ? SR_TEXT_LOWER_MAX * len : len;
    size_t ntok_max = nlow_max / (size_t)t->min_token + 1;
    size_t ngrams = (size_t)(t->ngram_max - t->ngram_min + 1);
    size_t sz_cps = align8(ncp_max * sizeof(uint32_t));
    size_t sz_low = t->lowercase ? align8(nlow_max * sizeof(uint32_t)) : 0;
    size_t sz_tok = align8(ntok_max * sizeof(uint32_t));
    size_t sz_bytes = align8(4 * nlow_max + ntok_max);
    size_t sz_ent = ntok_max * ngrams * sizeof(sr_text_entry);
    size_t need = sz_ent + sz_cps + sz_low + 2 * sz_tok + sz_bytes;
    char *mem = scratch;
    if (need > SR_TEXT_SCRATCH) {
        mem = malloc(need);
        if (!mem) return -1;
        *heap = mem;
    }
    sr_text_entry *ent = (sr_text_entry *)mem;
    uint32_t *cps = (uint32_t *)(mem + sz_ent);
    uint32_t *low = t->lowercase ? (uint32_t *)((char *)cps + sz_cps) : cps;
    uint32_t *tok_off = (uint32_t *)((char *)cps + sz_cps + sz_low);
    uint32_t *tok_len = (uint32_t *)((char *)tok_off + sz_tok);
    char *bytes = (char *)tok_len + sz_tok;

    size_t ncp = sr_utf8_decode(s, len, cps);
    size_t nlow = t->lowercase ? sr_text_lower(cps, ncp, low) : ncp;

    /* tokens: the maximal runs of \w at least min_token long, written one space apart so that
     * an n-gram (" ".join of n tokens) is one span of bytes */
    size_t ntok = 0, nb = 0;
    for (size_t i = 0; i < nlow;) {
        if (!sr_text_is_word(low[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < nlow && sr_text_is_word(low[j])) j++;
        if (j - i >= (size_t)t->min_token) {
            tok_off[ntok] = (uint32_t)nb;
            for (size_t k = i; k < j; k++) nb += sr_utf8_encode(low[k], bytes + nb);
            tok_len[ntok] = (uint32_t)(nb - tok_off[ntok]);
            bytes[nb++] = ' ';
            ntok++;
        }
        i = j;
    }
    assert(ntok <= ntok_max && nb <= 4 * nlow_max + ntok_max);

    size_t ne = 0;
    for (int g = t->ngram_min; g <= t->ngram_max; g++)
        for (size_t i = 0; i + (size_t)g <= ntok; i++) {
            const char *term = bytes + tok_off[i];
            size_t tl = tok_off[i + (size_t)g - 1] + tok_len[i + (size_t)g - 1] - tok_off[i];
            if (t->hashing) {
                int32_t h = sr_murmurhash3_32(term, tl, 0);
                int64_t a = h < 0 ? -(int64_t)h : h;
                ent[ne].col = (int32_t)(a % t->width);
                ent[ne].v = t->alternate_sign && h < 0 ? -1.0 : 1.0;
                ne++;
            } else {
                int32_t col = sr_text_vocab_find(t, term, tl);
                if (col >= 0) ent[ne++] = (sr_text_entry){col, 1.0};
            }
        }
    assert(ne <= ntok_max * ngrams);

    /* duplicates summed (scipy's sum_duplicates keeps a column whose terms cancel, as 0) */
    sort_entries(ent, ne);
    size_t m = 0;
    for (size_t i = 0; i < ne; i++) {
        if (m > 0 && ent[m - 1].col == ent[i].col)
            ent[m - 1].v += ent[i].v;
        else
            ent[m++] = ent[i];
    }
    for (size_t i = 0; i < m; i++) {
        double v = ent[i].v;
        if (t->binary) v = 1.0;
        if (t->sublinear_tf) v = log(v) + 1.0;
        if (t->idf) v *= t->idf[ent[i].col];
        ent[i].v = v;
    }
    if (t->norm != SR_NORM_NONE) { /* sklearn's inplace_csr_row_normalize_l1 / _l2 */
        double sum = 0;
        for (size_t i = 0; i < m; i++)
            sum += t->norm == SR_NORM_L2 ? ent[i].v * ent[i].v : fabs(ent[i].v);
        if (sum != 0) {
            if (t->norm == SR_NORM_L2) sum = sqrt(sum);
            for (size_t i = 0; i < m; i++) ent[i].v /= sum;
        }
    }
    *row = ent;
    *n = m;
    return 0;
}
