/* json.c — JSON parser into arena sr_value trees, and compact JSON writer. */
#include "base/value.h"
#include "base/bytes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define MAX_DEPTH 512

/* ---- parser -------------------------------------------------------------- */

/* Members and elements of the containers being parsed are collected on a
 * scratch stack and copied to the arena once their count is known. The stack
 * starts in the parser struct (on the C stack) and moves to the heap only for
 * unusually large documents. */
#define SCRATCH_VALUES  64
#define SCRATCH_MEMBERS 64

typedef struct {
    const char *p, *end;
    sr_arena *a;
    const char *msg, *at;
    sr_value *vs;
    sr_member *ms;
    uint32_t vn, vcap, mn, mcap;
    void *rp; /* result of the last container: elements or members */
    uint32_t rn;
    size_t repeats; /* members merged into an earlier one of the same key */
    sr_value vinit[SCRATCH_VALUES];
    sr_member minit[SCRATCH_MEMBERS];
} parser;

static const unsigned char is_ws[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

/* Bytes that end the fast scan of a string: quote, backslash, control. */
/* clang-format off */
static const unsigned char str_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};
/* clang-format on */

static int fail(parser *ps, const char *at, const char *msg)
{
    ps->msg = msg;
    ps->at = at;
    return -1;
}

static inline void skip_ws(parser *ps)
{
    const char *p = ps->p, *end = ps->end;
    /* Common cases first: no whitespace, or a single space. */
    if (p == end || (unsigned char)*p > ' ') return;
    if (*p == ' ' && (end - p < 2 || (unsigned char)p[1] > ' ')) {
        ps->p = p + 1;
        return;
    }
    while (p < end && is_ws[(unsigned char)*p]) p++;
    ps->p = p;
}

static inline bool is_digit(char c)
{
    return (unsigned)(c - '0') < 10;
}

/* First byte at or after p that is not a decimal digit. */
static inline const char *skip_digits(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        /* A byte is a digit iff its high nibble is 3 before and after adding 6. */
        uint64_t nd = ((w & 0xf0f0f0f0f0f0f0f0) ^ 0x3030303030303030) |
                      (((w + 0x0606060606060606) & 0xf0f0f0f0f0f0f0f0) ^ 0x3030303030303030);
        if (nd) return p + (__builtin_ctzll(nd) >> 3);
        p += 8;
    }
#endif
    while (p < end && is_digit(*p)) p++;
    return p;
}

static void grow_values(parser *ps)
{
    uint32_t cap = ps->vcap * 2;
    sr_value *v = sr_xmalloc((size_t)cap * sizeof(*v));
    memcpy(v, ps->vs, (size_t)ps->vn * sizeof(*v));
    if (ps->vs != ps->vinit) free(ps->vs);
    ps->vs = v;
    ps->vcap = cap;
}

static void grow_members(parser *ps)
{
    uint32_t cap = ps->mcap * 2;
    sr_member *m = sr_xmalloc((size_t)cap * sizeof(*m));
    memcpy(m, ps->ms, (size_t)ps->mn * sizeof(*m));
    if (ps->ms != ps->minit) free(ps->ms);
    ps->ms = m;
    ps->mcap = cap;
}

/* 0x80 when one of s[0..n) is a byte >= 0x80, else 0: a word at a time, the
 * last two words overlapping, so that a short run costs two loads. */
static inline unsigned any_high(const char *s, size_t n)
{
    const uint64_t top = 0x8080808080808080ull;
    uint64_t x = 0, y = 0;
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&y, s + i, 8);
            x |= y;
        }
        memcpy(&y, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        y = a | b;
    } else {
        for (size_t i = 0; i < n; i++) y |= (unsigned char)s[i];
    }
    return (x | y) & top ? 0x80 : 0;
}

/* Position of the first quote, backslash or control byte at or after p. Unless
 * high is NULL, makes *high non-zero when a byte >= 0x80 may be among those
 * passed over (bytes just past the stop may do it too): only then is UTF-8
 * checked. */
static inline const char *scan_plain(const char *p, const char *end, unsigned *high)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    unsigned hi = 0;
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash));
        /* x <= 0x1f unsigned: max(x, 0x1f) == 0x1f */
        hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
        if (high) hi |= (unsigned)_mm_movemask_epi8(x); /* the top bit of each byte */
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask) {
            if (high) *high |= hi;
            return p + __builtin_ctz(mask);
        }
        p += 16;
    }
    if (high) *high |= hi;
#endif
    const char *tail = p;
    while (p < end && !str_stop[(unsigned char)*p]) p++;
    if (high) *high |= any_high(tail, (size_t)(p - tail));
    return p;
}

/* ---- UTF-8 ---------------------------------------------------------------- */

size_t sr_utf8_invalid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        /* ASCII eight bytes at a time */
        if (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            if (!(w & 0x8080808080808080ull)) {
                p += 8;
                continue;
            }
        }
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        /* RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF */
        size_t need;
        unsigned lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            break;
        }
        if ((size_t)(end - p) <= need || p[1] < lo || p[1] > hi) break;
        size_t k = 2;
        while (k <= need && (p[k] & 0xc0) == 0x80) k++;
        if (k <= need) break;
        p += need + 1;
    }
    return (size_t)(p - (const unsigned char *)s);
}

/* Fails at the first byte of s[0..n) that is not UTF-8. */
static int check_utf8(parser *ps, const char *s, size_t n)
{
    size_t bad = sr_utf8_invalid(s, n);
    if (bad == n) return 0;
    return fail(ps, s + bad, "invalid UTF-8 in string");
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static char *put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        *d++ = (char)cp;
    } else if (cp < 0x800) {
        *d++ = (char)(0xc0 | cp >> 6);
        *d++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *d++ = (char)(0xe0 | cp >> 12);
        *d++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *d++ = (char)(0xf0 | cp >> 18);
        *d++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *d++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *d++ = (char)(0x80 | (cp & 0x3f));
    }
    return d;
}

/* Slow path for a string with escapes: s is just after the opening quote, q
 * at the first backslash. Finds the closing quote, then decodes into the
 * arena (the decoded text is never longer than the escaped one). */
static int parse_escaped(parser *ps, const char *s, const char *q, unsigned high, const char **str,
                         size_t *n)
{
    const char *p = q, *end = ps->end;
    for (;;) {
        p = scan_plain(p, end, &high);
        if (p == end) return fail(ps, s - 1, "unterminated string");
        if (*p == '"') break;
        if (*p == '\\') {
            if (end - p < 2) return fail(ps, s - 1, "unterminated string");
            p += 2;
            continue;
        }
        return fail(ps, p, "control character in string");
    }
    const char *close = p;
    /* escapes are ASCII: checking the raw text checks every byte not escaped */
    if (high && check_utf8(ps, s, (size_t)(close - s))) return -1;
    char *buf = sr_arena_alloc(ps->a, (size_t)(close - s));
    char *d = buf;
    memcpy(d, s, (size_t)(q - s));
    d += q - s;
    p = q;
    while (p < close) {
        if (*p != '\\') {
            *d++ = *p++;
            continue;
        }
        const char *esc = p;
        p++;
        switch (*p++) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '/': *d++ = '/'; break;
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (close - p < 4 || hex4(p, &cp)) return fail(ps, esc, "invalid \\u escape");
            p += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return fail(ps, esc, "lone low surrogate in \\u escape");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (close - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) ||
                    lo < 0xdc00 || lo > 0xdfff)
                    return fail(ps, esc, "lone high surrogate in \\u escape");
                p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            d = put_utf8(d, cp);
            break;
        }
        default: return fail(ps, esc, "invalid escape in string");
        }
    }
    ps->p = close + 1;
    *str = buf;
    *n = (size_t)(d - buf);
    return 0;
}

/* ps->p is at the opening quote. */
static inline int parse_string(parser *ps, const char **str, size_t *n)
{
    const char *s = ps->p + 1;
    unsigned high = 0;
    const char *p = scan_plain(s, ps->end, &high);
    if (p < ps->end && *p == '"') {
        if (high && check_utf8(ps, s, (size_t)(p - s))) return -1;
        *str = s;
        *n = (size_t)(p - s);
        ps->p = p + 1;
    } else if (p == ps->end) {
        return fail(ps, s - 1, "unterminated string");
    } else if (*p == '\\') {
        if (parse_escaped(ps, s, p, high, str, n)) return -1;
    } else {
        return fail(ps, p, "control character in string");
    }
    if (*n > UINT32_MAX) return fail(ps, s - 1, "string too long");
    return 0;
}

/* Validates the JSON number grammar; the value keeps pointing at the text. */
static int parse_number(parser *ps, sr_value *out)
{
    const char *s = ps->p, *p = s, *end = ps->end;
    if (*p == '-') p++;
    if (p == end || !is_digit(*p)) return fail(ps, p, "invalid number: expected a digit");
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) return fail(ps, s, "invalid number: leading zero");
    } else {
        p = skip_digits(p + 1, end);
    }
    if (p < end && *p == '.') {
        p++;
        if (p == end || !is_digit(*p))
            return fail(ps, p, "invalid number: expected a digit after '.'");
        p = skip_digits(p + 1, end);
    }
    if (p < end && (*p | 0x20) == 'e') {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p == end || !is_digit(*p))
            return fail(ps, p, "invalid number: expected a digit in exponent");
        while (p < end && is_digit(*p)) p++;
    }
    if ((size_t)(p - s) > UINT32_MAX) return fail(ps, s, "number too long");
    out->type = SR_NUM;
    out->len = (uint32_t)(p - s);
    out->cap = 0;
    out->u.s = s;
    ps->p = p;
    return 0;
}

static int parse_literal(parser *ps, const char *word, size_t n)
{
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return fail(ps, ps->p, "invalid literal");
    ps->p += n;
    return 0;
}

/* A value that is not a container; ps->p is at its first byte. */
static int parse_scalar(parser *ps, sr_value *out)
{
    if (ps->p == ps->end) return fail(ps, ps->p, "unexpected end of input");
    switch (*ps->p) {
    case '"': {
        const char *s;
        size_t n;
        if (parse_string(ps, &s, &n)) return -1;
        out->type = SR_STR;
        out->len = (uint32_t)n;
        out->cap = 0;
        out->u.s = s;
        return 0;
    }
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': return parse_number(ps, out);
    case 't': *out = sr_bool(true); return parse_literal(ps, "true", 4);
    case 'f': *out = sr_bool(false); return parse_literal(ps, "false", 5);
    case 'n': *out = sr_null(); return parse_literal(ps, "null", 4);
    default: return fail(ps, ps->p, "expected a JSON value");
    }
}

static int parse_array(parser *ps, int depth);
static int parse_object(parser *ps, int depth);

static inline sr_value *slot(parser *ps, bool member, uint32_t idx)
{
    return member ? &ps->ms[idx].v : &ps->vs[idx];
}

/* Parses a value straight into scratch slot idx. The slot is looked up again
 * after a nested container, which may have moved the scratch stack. */
static inline int parse_child(parser *ps, int depth, bool member, uint32_t idx)
{
    char c = ps->p < ps->end ? *ps->p : 0;
    if (c != '{' && c != '[') return parse_scalar(ps, slot(ps, member, idx));
    if (c == '{' ? parse_object(ps, depth + 1) : parse_array(ps, depth + 1)) return -1;
    sr_value *d = slot(ps, member, idx);
    d->type = c == '{' ? SR_OBJ : SR_ARR;
    d->len = d->cap = ps->rn;
    if (c == '{')
        d->u.o = ps->rp;
    else
        d->u.a = ps->rp;
    return 0;
}

/* Container results are left in ps->rp/ps->rn rather than written through a
 * pointer that a nested container could invalidate. */
static int parse_array(parser *ps, int depth)
{
    if (depth > MAX_DEPTH) return fail(ps, ps->p, "nesting too deep (limit 512)");
    ps->p++;
    skip_ws(ps);
    uint32_t base = ps->vn;
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            if (ps->vn == ps->vcap) grow_values(ps);
            uint32_t idx = ps->vn++;
            if (parse_child(ps, depth, false, idx)) return -1;
            skip_ws(ps);
            if (ps->p == ps->end) return fail(ps, ps->p, "unexpected end of input in array");
            char c = *ps->p++;
            if (c == ']') break;
            if (c != ',') return fail(ps, ps->p - 1, "expected ',' or ']' after array element");
            skip_ws(ps);
        }
    }
    uint32_t n = ps->vn - base;
    ps->rn = n;
    ps->rp = NULL;
    if (n) {
        ps->rp = sr_arena_alloc(ps->a, (size_t)n * sizeof(sr_value));
        memcpy(ps->rp, ps->vs + base, (size_t)n * sizeof(sr_value));
    }
    ps->vn = base;
    return 0;
}

/* ---- duplicate keys -------------------------------------------------------- */

/* A repeated key keeps its first place and takes its last value, as jq,
 * Python and JavaScript read it. The first members of an object are checked as
 * they come, with a 64-bit filter of key hashes; past DEDUP_INLINE members,
 * the whole object is sorted by key once it is complete. */
#define DEDUP_INLINE 32

/* A bit of the filter for a key: from its length and first byte (a key from
 * the parser has a readable byte at k[0] even when empty: the closing quote). */
static inline uint64_t key_bit(const char *k, uint32_t n)
{
    return 1ull << (((unsigned)(unsigned char)k[0] * 8 + n) & 63);
}

/* The member just parsed (the last one) repeats an earlier key of the object
 * that starts at base, unless none matches: its value goes there and it is
 * dropped. */
static void merge_repeat(parser *ps, uint32_t base)
{
    uint32_t last = ps->mn - 1;
    const sr_member *m = &ps->ms[last];
    for (uint32_t j = base; j < last; j++) {
        if (ps->ms[j].klen == m->klen && memcmp(ps->ms[j].key, m->key, m->klen) == 0) {
            ps->ms[j].v = m->v;
            ps->mn--;
            ps->repeats++;
            return;
        }
    }
}

typedef struct keyref {
    const char *key;
    uint32_t klen, at; /* at: index from the object's first member */
} keyref;

static int keyref_cmp(const void *x, const void *y)
{
    const keyref *a = x, *b = y;
    uint32_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    if (a->klen != b->klen) return a->klen < b->klen ? -1 : 1;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* Merges the repeated keys of the object at ms[base..mn) in O(n log n). */
static void merge_repeats_sorted(parser *ps, uint32_t base)
{
    uint32_t n = ps->mn - base;
    keyref *r = sr_xmalloc((size_t)n * sizeof(*r));
    for (uint32_t i = 0; i < n; i++)
        r[i] = (keyref){ps->ms[base + i].key, ps->ms[base + i].klen, i};
    qsort(r, n, sizeof(*r), keyref_cmp);
    bool any = false;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i + 1;
        while (j < n && r[j].klen == r[i].klen && memcmp(r[j].key, r[i].key, r[i].klen) == 0) j++;
        if (j - i > 1) {
            any = true;
            ps->repeats += j - i - 1;
            ps->ms[base + r[i].at].v = ps->ms[base + r[j - 1].at].v;
            for (uint32_t k = i + 1; k < j; k++) ps->ms[base + r[k].at].key = NULL;
        }
        i = j;
    }
    free(r);
    if (!any) return;
    uint32_t w = base;
    for (uint32_t i = base; i < ps->mn; i++)
        if (ps->ms[i].key) ps->ms[w++] = ps->ms[i];
    ps->mn = w;
}

static int parse_object(parser *ps, int depth)
{
    if (depth > MAX_DEPTH) return fail(ps, ps->p, "nesting too deep (limit 512)");
    ps->p++;
    skip_ws(ps);
    uint32_t base = ps->mn;
    uint64_t seen = 0; /* key_bit()s of the first DEDUP_INLINE members */
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            if (ps->p == ps->end) return fail(ps, ps->p, "unexpected end of input in object");
            if (*ps->p != '"') return fail(ps, ps->p, "expected string key in object");
            const char *key;
            size_t klen;
            if (parse_string(ps, &key, &klen)) return -1;
            skip_ws(ps);
            if (ps->p == ps->end || *ps->p != ':')
                return fail(ps, ps->p, "expected ':' after object key");
            ps->p++;
            skip_ws(ps);
            if (ps->mn == ps->mcap) grow_members(ps);
            uint32_t idx = ps->mn++;
            ps->ms[idx].key = key;
            ps->ms[idx].klen = (uint32_t)klen;
            uint64_t bit = key_bit(key, (uint32_t)klen), again = seen & bit;
            seen |= bit;
            if (parse_child(ps, depth, true, idx)) return -1;
            if (again && idx - base < DEDUP_INLINE) merge_repeat(ps, base);
            skip_ws(ps);
            if (ps->p == ps->end) return fail(ps, ps->p, "unexpected end of input in object");
            char c = *ps->p++;
            if (c == '}') break;
            if (c != ',') return fail(ps, ps->p - 1, "expected ',' or '}' after object member");
            skip_ws(ps);
        }
    }
    if (ps->mn - base > DEDUP_INLINE) merge_repeats_sorted(ps, base);
    uint32_t n = ps->mn - base;
    ps->rn = n;
    ps->rp = NULL;
    if (n) {
        ps->rp = sr_arena_alloc(ps->a, (size_t)n * sizeof(sr_member));
        memcpy(ps->rp, ps->ms + base, (size_t)n * sizeof(sr_member));
    }
    ps->mn = base;
    return 0;
}

int sr_json_parse(sr_arena *a, const char *buf, size_t len, sr_value *out, char *err,
                  size_t errsize, size_t *errpos)
{
    return sr_json_parse_counting(a, buf, len, out, err, errsize, errpos, NULL);
}

int sr_json_parse_counting(sr_arena *a, const char *buf, size_t len, sr_value *out, char *err,
                           size_t errsize, size_t *errpos, size_t *repeats)
{
    parser ps;
    ps.repeats = 0;
    if (!buf) buf = ""; /* (NULL, 0): empty input */
    ps.p = buf;
    ps.end = buf + len;
    ps.a = a;
    ps.msg = NULL;
    ps.at = NULL;
    ps.vs = ps.vinit;
    ps.ms = ps.minit;
    ps.vn = ps.mn = 0;
    ps.vcap = SCRATCH_VALUES;
    ps.mcap = SCRATCH_MEMBERS;

    skip_ws(&ps);
    /* The root goes through a one-element value stack like any element. */
    ps.vn = 1;
    int rc = parse_child(&ps, 0, false, 0);
    if (rc == 0) *out = ps.vs[0];
    if (rc == 0) {
        skip_ws(&ps);
        if (ps.p != ps.end) rc = fail(&ps, ps.p, "trailing characters after JSON value");
    }
    if (ps.vs != ps.vinit) free(ps.vs);
    if (ps.ms != ps.minit) free(ps.ms);
    if (repeats) *repeats = ps.repeats;
    if (rc == 0) return 0;

    *out = sr_null();
    if (err && errsize) snprintf(err, errsize, "%s", ps.msg);
    if (errpos) *errpos = (size_t)(ps.at - buf);
    return -1;
}

/* ---- writer -------------------------------------------------------------- */

/* sr_copy_bytes for a run of a string, returning what the words it loaded OR to:
 * the top bit of a byte is set in the result when it is set in a byte copied
 * (the test for UTF-8 to check, at no extra load). */
static inline uint64_t copy_run(char *d, const char *s, size_t n)
{
    if (n > 16) {
        memcpy(d, s, n);
        return any_high(s, n) ? 0x80 : 0;
    }
    if (n >= 8) {
        uint64_t x, y;
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        memcpy(d, &x, 8);
        memcpy(d + n - 8, &y, 8);
        return x | y;
    }
    if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(d, &x, 4);
        memcpy(d + n - 4, &y, 4);
        return x | y;
    }
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) h |= (unsigned char)(d[i] = s[i]);
    return h;
}

/* 0: copy as is; otherwise the letter after the backslash ('u': \u00XX). */
/* clang-format off */
static const char esc_char[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    ['"'] = '"', ['\\'] = '\\',
};
/* clang-format on */

/* s[0..n) with every byte that is not part of valid UTF-8 replaced by U+FFFD,
 * in a new heap string of *outn bytes. */
static char *utf8_repair(const char *s, size_t n, size_t *outn)
{
    char *r = sr_xmalloc(3 * n + 1), *d = r;
    size_t i = 0;
    while (i < n) {
        size_t ok = sr_utf8_invalid(s + i, n - i);
        memcpy(d, s + i, ok);
        d += ok;
        i += ok;
        if (i < n) {
            memcpy(d, "\xef\xbf\xbd", 3);
            d += 3;
            i++;
        }
    }
    *outn = (size_t)(d - r);
    return r;
}

/* The output from b->d[start] on is JSON text whose strings may hold bytes
 * that are not UTF-8 (a key, a header or a dead letter's bytes, which did not
 * come from the parser): each such byte becomes U+FFFD. Outside strings JSON
 * text is ASCII, so repairing the text repairs the strings. Out of line: the
 * writer's hot path stays small. */
static __attribute__((noinline)) void repair_written(sr_buf *b, size_t start)
{
    size_t n = b->len - start;
    if (sr_utf8_invalid(b->d + start, n) == n) return;
    size_t rn;
    char *r = utf8_repair(b->d + start, n, &rn);
    b->len = start;
    sr_buf_put(b, r, rn);
    free(r);
}

#define TOP_BITS 0x8080808080808080ull

/* Writes s[0..n) quoted and escaped; ORs into *high what the bytes copied OR
 * to (see copy_run), for the caller's UTF-8 check. */
static void write_str(sr_buf *b, const char *s, size_t n, uint64_t *high)
{
    static const char hex[] = "0123456789abcdef";
    if (n == 0) {
        sr_buf_put(b, "\"\"", 2);
        return;
    }
    const char *p = s, *e = s + n;
    uint64_t h = 0;
    if (b->len + n + 3 > b->cap) sr_buf_reserve(b, n + 2);
    char *d = b->d + b->len;
    *d++ = '"';
    for (;;) {
        /* The bytes that need escaping are exactly those the parser stops at. */
        const char *run = p;
        p = scan_plain(p, e, NULL);
        h |= copy_run(d, run, (size_t)(p - run));
        d += p - run;
        if (p == e) break;
        /* Room for this escape, the rest of the input and the quote. */
        b->len = (size_t)(d - b->d);
        sr_buf_reserve(b, (size_t)(e - p) + 6);
        d = b->d + b->len;
        unsigned char u = (unsigned char)*p++;
        char c = esc_char[u];
        *d++ = '\\';
        *d++ = c;
        if (c == 'u') {
            *d++ = '0';
            *d++ = '0';
            *d++ = hex[u >> 4];
            *d++ = hex[u & 15];
        }
    }
    *d++ = '"';
    b->len = (size_t)(d - b->d);
    *high |= h;
}

void sr_json_write_str(sr_buf *b, const char *s, size_t n)
{
    size_t start = b->len;
    uint64_t high = 0;
    write_str(b, s, n, &high);
    if (high & TOP_BITS) repair_written(b, start);
}

/* The text "%.*g" gives for a double with the `prec` significant digits dig[0..prec) (values
 * 0-9, the first not 0) and decimal exponent x (of the first digit), negative when neg: fixed
 * notation when -4 <= x < prec, else scientific with an exponent of at least two digits;
 * trailing zeros of the fraction dropped, and the point with them. Returns its length. */
static int format_g(char *out, bool neg, const char *dig, int prec, int x)
{
    int nd = prec; /* significant digits left once the trailing zeros are gone */
    while (nd > 1 && dig[nd - 1] == 0) nd--;
    char *o = out;
    if (neg) *o++ = '-';
    if (x < -4 || x >= prec) {
        *o++ = (char)('0' + dig[0]);
        if (nd > 1) *o++ = '.';
        for (int i = 1; i < nd; i++) *o++ = (char)('0' + dig[i]);
        *o++ = 'e';
        *o++ = x < 0 ? '-' : '+';
        int ax = x < 0 ? -x : x;
        if (ax >= 100) *o++ = (char)('0' + ax / 100);
        *o++ = (char)('0' + ax / 10 % 10);
        *o++ = (char)('0' + ax % 10);
    } else if (x >= 0) {
        for (int i = 0; i <= x; i++) *o++ = (char)('0' + dig[i]);
        if (nd > x + 1) *o++ = '.';
        for (int i = x + 1; i < nd; i++) *o++ = (char)('0' + dig[i]);
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > x; i--) *o++ = '0';
        for (int i = 0; i < nd; i++) *o++ = (char)('0' + dig[i]);
    }
    return (int)(o - out);
}

/* Whether text[0..n) reads back as d. */
static bool reads_back(const char *text, int n, double d)
{
    sr_value v = {.type = SR_NUM, .len = (uint32_t)n, .u.s = text};
    return sr_num_double(&v) == d;
}

/* The shortest of "%.15g", "%.16g" and "%.17g" that reads back as d, as the C library writes
 * them, from one conversion to 17 digits: those rounded to 15 or 16 are the library's own
 * rounding of d unless the digits dropped are exactly half a unit ("50", "5"), where the 17
 * digits may themselves have been rounded up or down to it; then the library writes that
 * precision itself. */
void sr_write_double(sr_buf *b, double d)
{
    if (!isfinite(d)) {
        sr_buf_puts(b, isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    char tmp[40];
    int n = 0;
    if (d == 0) {
        n = snprintf(tmp, sizeof(tmp), "%s", signbit(d) ? "-0" : "0");
    } else {
        char e17[40];
        snprintf(e17, sizeof(e17), "%.16e", d); /* [-]d.dddddddddddddddde[+-]xx[x] */
        const char *p = e17;
        bool neg = *p == '-';
        if (neg) p++;
        char dig[17];
        dig[0] = (char)(*p - '0');
        for (int i = 1; i < 17; i++) dig[i] = (char)(p[i + 1] - '0');
        int x17 = atoi(p + 19);
        for (int prec = 15; prec <= 17; prec++) {
            if (prec == 17) {
                n = format_g(tmp, neg, dig, 17, x17);
                break;
            }
            int drop = prec == 15 ? dig[15] * 10 + dig[16] : dig[16];
            int half = prec == 15 ? 50 : 5;
            if (drop == half) {
                n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
                if (reads_back(tmp, n, d)) break;
                continue;
            }
            char r[17];
            memcpy(r, dig, (size_t)prec);
            int x = x17;
            if (drop > half) { /* round up, carrying */
                int i = prec - 1;
                while (i >= 0 && r[i] == 9) r[i--] = 0;
                if (i >= 0) {
                    r[i]++;
                } else {
                    r[0] = 1;
                    x++;
                }
            }
            n = format_g(tmp, neg, r, prec, x);
            if (reads_back(tmp, n, d)) break;
        }
    }
    sr_buf_put(b, tmp, (size_t)n);
    if (!memchr(tmp, '.', (size_t)n) && !memchr(tmp, 'e', (size_t)n) &&
        !memchr(tmp, 'E', (size_t)n))
        sr_buf_put(b, ".0", 2);
}

/* Inline fast paths for the writer; sr_buf_reserve() keeps room for a NUL. */
static inline void put_c(sr_buf *b, char c)
{
    if (b->len + 2 > b->cap) sr_buf_reserve(b, 1);
    b->d[b->len++] = c;
}

static inline void put_n(sr_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) sr_buf_reserve(b, n);
    sr_copy_bytes(b->d + b->len, s, n);
    b->len += n;
}

static void write_int(sr_buf *b, int64_t i)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    uint64_t u = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0) *--p = '-';
    put_n(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static int write_value(sr_buf *b, const sr_value *v, uint64_t *high)
{
    switch (v->type) {
    case SR_MISSING:
    case SR_NULL: put_n(b, "null", 4); return 0;
    case SR_BOOL:
        if (v->u.b)
            put_n(b, "true", 4);
        else
            put_n(b, "false", 5);
        return 0;
    case SR_NUM: put_n(b, v->u.s, v->len); return 0;
    case SR_INT: write_int(b, v->u.i); return 0;
    case SR_DBL:
        if (!isfinite(v->u.d)) return -1;
        sr_write_double(b, v->u.d);
        return 0;
    case SR_STR: write_str(b, v->u.s, v->len, high); return 0;
    case SR_ARR:
        put_c(b, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i) put_c(b, ',');
            if (write_value(b, &v->u.a[i], high)) return -1;
        }
        put_c(b, ']');
        return 0;
    case SR_OBJ:
        put_c(b, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            const sr_member *m = &v->u.o[i];
            if (i) put_c(b, ',');
            write_str(b, m->key, m->klen, high);
            put_c(b, ':');
            if (write_value(b, &m->v, high)) return -1;
        }
        put_c(b, '}');
        return 0;
    }
    return -1;
}

int sr_json_write(sr_buf *b, const sr_value *v)
{
    size_t start = b->len;
    uint64_t high = 0;
    if (write_value(b, v, &high) != 0) {
        b->len = start;
        return -1;
    }
    /* output is always UTF-8, whatever the strings held */
    if (high & TOP_BITS) repair_written(b, start);
    return 0;
}
