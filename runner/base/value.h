/* value.h — the record value model: JSON values in arena memory, numbers kept as text. */
#ifndef SR_VALUE_H
#define SR_VALUE_H

#include "base/arena.h"

#include <stdbool.h>
#include <stdint.h>

/* Types. SR_NUM is a number still in its source text (as parsed from JSON):
 * it is converted only when an expression uses it, and written back byte for
 * byte when it is not, so integers above 2^53 and the exact spelling of
 * floats survive a pass through the pipeline. SR_INT and SR_DBL are computed
 * numbers. SR_MISSING never appears inside a value: expressions return it for
 * a field that does not exist. */
typedef enum {
    SR_MISSING = 0,
    SR_NULL,
    SR_BOOL,
    SR_NUM,
    SR_INT,
    SR_DBL,
    SR_STR,
    SR_ARR,
    SR_OBJ,
} sr_type;

typedef struct sr_value sr_value;
typedef struct sr_member sr_member;

/* A value is 24 bytes and is copied by value; what it points to (string
 * bytes, elements, members) is borrowed from an arena or from the input
 * buffer it was parsed from, and lives as long as they do. Strings are
 * UTF-8, not NUL-terminated, and already unescaped. */
struct sr_value {
    uint8_t type;
    uint32_t len; /* SR_STR/SR_NUM: bytes; SR_ARR/SR_OBJ: elements */
    uint32_t cap; /* SR_ARR/SR_OBJ: allocated slots */
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;
        sr_value *a;
        sr_member *o;
    } u;
};

struct sr_member {
    const char *key;
    uint32_t klen;
    sr_value v;
};

/* Constructors (no allocation unless stated). Each member is assigned on its own rather than
 * from a designated initialiser: GCC builds an initialised one in memory (zeroing it, then a
 * one-byte store of the type) and reads it back sixteen bytes at a time, a load the processor
 * cannot forward from the narrower stores before it, which stalled the expression evaluator on
 * every value it made. */
static inline sr_value sr_value_of(uint8_t type, uint32_t len, uint64_t bits)
{
    sr_value v;
    v.type = type;
    v.len = len;
    v.cap = 0;
    v.u.i = (int64_t)bits;
    return v;
}
static inline sr_value sr_missing(void)
{
    return sr_value_of(SR_MISSING, 0, 0);
}
static inline sr_value sr_null(void)
{
    return sr_value_of(SR_NULL, 0, 0);
}
static inline sr_value sr_bool(bool b)
{
    sr_value v = sr_value_of(SR_BOOL, 0, 0);
    v.u.b = b;
    return v;
}
static inline sr_value sr_int(int64_t i)
{
    return sr_value_of(SR_INT, 0, (uint64_t)i);
}
static inline sr_value sr_dbl(double d)
{
    sr_value v = sr_value_of(SR_DBL, 0, 0);
    v.u.d = d;
    return v;
}
static inline sr_value sr_str(const char *s, size_t n)
{
    sr_value v = sr_value_of(SR_STR, (uint32_t)n, 0);
    v.u.s = s;
    return v;
}
sr_value sr_str_dup(sr_arena *a, const char *s, size_t n); /* copies the bytes */
sr_value sr_obj_new(sr_arena *a, uint32_t cap);
sr_value sr_arr_new(sr_arena *a, uint32_t cap);

static inline bool sr_is_number(const sr_value *v)
{
    return v->type == SR_NUM || v->type == SR_INT || v->type == SR_DBL;
}

const char *sr_type_name(sr_type t); /* "null", "boolean", "number", ... */

/* Numbers. sr_num_norm() turns SR_NUM text into SR_INT (when the text is an
 * integer that fits int64) or SR_DBL; other types are returned unchanged.
 * sr_num_double() gives any number as a double. */
sr_value sr_num_norm(const sr_value *v);
double sr_num_double(const sr_value *v);
/* *v = sr_num_norm(v), stored member by member: a copy of the whole returned value would read
 * back sixteen bytes at a time what sr_num_norm has just stored in narrower pieces (see the
 * constructors). */
static inline void sr_num_norm_here(sr_value *v)
{
    sr_value num = sr_num_norm(v);
    v->type = num.type;
    v->len = num.len;
    v->cap = num.cap;
    v->u = num.u;
}

/* Objects keep their members in order. The parser merges a repeated key (it
 * keeps its first place and its last value); sr_obj_append can repeat a key,
 * and lookup then finds the first.
 * Objects: lookup is a linear scan (records have few fields and the scan
 * beats hashing below ~30). sr_obj_set() replaces an existing member or
 * appends, growing the member array in the arena. sr_obj_del() keeps order. */
sr_value *sr_obj_get(const sr_value *obj, const char *key, size_t klen);
/* sr_obj_get for a reader that looks up the same key in many records of one shape: *hint (any
 * value at first, then kept by the caller) is the member's place in the last object it was
 * found in, tried first. Finds what sr_obj_get finds unless obj repeats key (sr_obj_append),
 * when it may find another of its members. */
sr_value *sr_obj_get_hint(const sr_value *obj, const char *key, size_t klen, uint32_t *hint);
void sr_obj_set(sr_arena *a, sr_value *obj, const char *key, size_t klen, sr_value v);
bool sr_obj_del(sr_value *obj, const char *key, size_t klen);
/* Appends without looking for an existing member: for builders whose keys
 * are distinct by construction (or mirror the input's). */
void sr_obj_append(sr_arena *a, sr_value *obj, const char *key, size_t klen, sr_value v);
void sr_arr_push(sr_arena *a, sr_value *arr, sr_value v);

/* Deep structural equality; numbers compare by value (1 == 1.0). */
bool sr_value_equal(const sr_value *x, const sr_value *y);
/* Total order for sorting and comparisons of like types: returns <0, 0, >0. */
int sr_value_cmp(const sr_value *x, const sr_value *y);

/* ---- JSON ---------------------------------------------------------------- */

/* Offset of the first byte of s[0..n) that is not part of valid UTF-8 (RFC
 * 3629: no overlong forms, surrogates or code points past U+10FFFF), or n. */
size_t sr_utf8_invalid(const char *s, size_t n);

/* Parses exactly one JSON value from buf[0..len) (surrounding whitespace
 * allowed) into *out. Strings must be valid UTF-8 (an error at the first
 * byte that is not); a repeated object key keeps its first place and takes
 * its last value, as in jq, Python and JavaScript. Strings without escapes and number texts point
 * into buf, which must outlive *out; everything else is allocated from *a. Returns 0, or -1 with a
 * message and the byte offset of the error in err/errpos. */
int sr_json_parse(sr_arena *a, const char *buf, size_t len, sr_value *out, char *err,
                  size_t errsize, size_t *errpos);
/* sr_json_parse, and *repeats: how many members repeated an earlier key of their object (each
 * merged into the first), for a reader that must refuse a repeated key rather than merge it. */
int sr_json_parse_counting(sr_arena *a, const char *buf, size_t len, sr_value *out, char *err,
                           size_t errsize, size_t *errpos, size_t *repeats);

/* Appends the JSON text of v. Strings are written as UTF-8: a byte that is
 * not part of valid UTF-8 is written as U+FFFD. Numbers in SR_NUM form are
 * written as they were read; doubles in the shortest form that reads back the same. Returns
 * 0, or -1 when v holds a NaN or infinity (not representable in JSON), in
 * which case b is left as it was. */
int sr_json_write(sr_buf *b, const sr_value *v);
void sr_json_write_str(sr_buf *b, const char *s, size_t n); /* quoted, escaped, UTF-8 */
/* Writes a double as the shortest round-trip decimal; "1.0" style for whole
 * numbers so a double stays a double. */
void sr_write_double(sr_buf *b, double d);

/* Text of a value for keys, concat and to_string: strings as they are,
 * numbers and booleans as their JSON text, null as "null"; arrays and
 * objects as JSON. Allocated in a unless it can borrow. */
sr_value sr_value_to_str(sr_arena *a, const sr_value *v);

#endif
