/* text_unicode.c — python3's str.lower() and re's \w over the generated tables. */
#include "model/text_unicode.h"

#include <assert.h>

typedef struct tu_record {
    int32_t delta; /* lower case = cp + delta, when seq is 0 */
    uint16_t seq;  /* else tu_seqs[seq - 1] */
    uint8_t flags; /* TU_WORD, TU_IGNORABLE, TU_CASED */
} tu_record;

#include "model/text_unicode_tables.inc"

_Static_assert(TU_MAX_LOWER <= SR_TEXT_LOWER_MAX, "SR_TEXT_LOWER_MAX is too small for the tables");

#define SIGMA_CAPITAL 0x03A3u
#define SIGMA_SMALL   0x03C3u
#define SIGMA_FINAL   0x03C2u

static const tu_record *record_of(uint32_t cp)
{
    if (cp > 0x10FFFF) return &tu_records[0];
    return &tu_records[tu_stage2[tu_stage1[cp >> TU_BLOCK_SHIFT]]
                                [cp & ((1u << TU_BLOCK_SHIFT) - 1)]];
}

bool sr_text_is_word(uint32_t cp)
{
    return (record_of(cp)->flags & TU_WORD) != 0;
}

/* CPython's handle_capital_sigma: the sigma at i is final when a cased character comes before it
 * and none after it, case-ignorable characters skipped on both sides. */
static bool sigma_is_final(const uint32_t *in, size_t n, size_t i)
{
    size_t j = i;
    uint8_t f = 0;
    while (j > 0) {
        f = record_of(in[--j])->flags;
        if (!(f & TU_IGNORABLE)) break;
    }
    if (j == i || (f & TU_IGNORABLE) || !(f & TU_CASED)) return false;
    for (j = i + 1; j < n; j++) {
        f = record_of(in[j])->flags;
        if (!(f & TU_IGNORABLE)) return !(f & TU_CASED);
    }
    return true;
}

size_t sr_text_lower(const uint32_t *in, size_t n, uint32_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = in[i];
        if (cp == SIGMA_CAPITAL) {
            out[k++] = sigma_is_final(in, n, i) ? SIGMA_FINAL : SIGMA_SMALL;
            continue;
        }
        const tu_record *r = record_of(cp);
        if (r->seq == 0) {
            out[k++] = (uint32_t)((int32_t)cp + r->delta);
        } else {
            const uint32_t *s = tu_seqs[r->seq - 1];
            for (uint32_t m = 0; m < s[0]; m++) out[k++] = s[1 + m];
        }
    }
    assert(k <= SR_TEXT_LOWER_MAX * n);
    return k;
}

size_t sr_utf8_decode(const char *str, size_t len, uint32_t *out)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, k = 0;
    while (i < len) {
        unsigned c = s[i];
        uint32_t cp;
        size_t need;
        if (c < 0x80) {
            out[k++] = c;
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            cp = c & 0x1F, need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            cp = c & 0x0F, need = 2;
        } else if (c >= 0xF0 && c <= 0xF4) {
            cp = c & 0x07, need = 3;
        } else {
            out[k++] = 0xFFFD;
            i++;
            continue;
        }
        size_t m = 1;
        for (; m <= need && i + m < len && (s[i + m] & 0xC0) == 0x80; m++)
            cp = (cp << 6) | (s[i + m] & 0x3F);
        bool overlong = (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000);
        if (m <= need || overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            out[k++] = 0xFFFD;
            i++;
            continue;
        }
        out[k++] = cp;
        i += need + 1;
    }
    return k;
}

size_t sr_utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

const char *sr_text_unicode_version(void)
{
    return TU_UNICODE_VERSION;
}
