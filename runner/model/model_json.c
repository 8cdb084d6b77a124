/* model_json.c — a model package's JSON text into a jansson tree: streamrun's parser for the
 * text, jansson's tree for the loader (model_load.c), jansson itself for anything else. */
#include "model/model_json.h"

#include "base/arena.h"
#include "base/value.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Whether a number's text is one jansson reads as an integer: no fraction, no exponent. */
static bool integer_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.' || s[i] == 'e' || s[i] == 'E') return false;
    return true;
}

/* The jansson value of v, or NULL when jansson would read its text otherwise (or refuse it):
 * the caller then hands the whole text to jansson. */
static json_t *to_jansson(const sr_value *v)
{
    switch (v->type) {
    case SR_NULL: return json_null();
    case SR_BOOL: return json_boolean(v->u.b);
    case SR_NUM: {
        if (integer_text(v->u.s, v->len)) {
            sr_value n = sr_num_norm(v);
            /* beyond int64: jansson refuses it ("too big integer") */
            return n.type == SR_INT ? json_integer((json_int_t)n.u.i) : NULL;
        }
        double d = sr_num_double(v);
        return isfinite(d) ? json_real(d) : NULL; /* jansson: "real number overflow" */
    }
    case SR_STR:
        /* a NUL (\u0000) is refused by jansson unless JSON_ALLOW_NUL */
        if (memchr(v->u.s, '\0', v->len)) return NULL;
        return json_stringn_nocheck(v->u.s, v->len); /* UTF-8 checked by the parser */
    case SR_ARR: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < v->len; i++) {
            json_t *e = to_jansson(&v->u.a[i]);
            if (!e || json_array_append_new(a, e)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case SR_OBJ: {
        json_t *o = json_object();
        char small[256];
        for (uint32_t i = 0; o && i < v->len; i++) {
            const sr_member *m = &v->u.o[i];
            json_t *e = NULL;
            if (!memchr(m->key, '\0', m->klen)) e = to_jansson(&m->v);
            char *key = m->klen < sizeof(small) ? small : malloc((size_t)m->klen + 1);
            if (e && key) {
                memcpy(key, m->key, m->klen);
                key[m->klen] = '\0';
            }
            int rc = e && key ? json_object_set_new_nocheck(o, key, e) : -1;
            if (key != small) free(key);
            if (rc) {
                if (!key) json_decref(e);
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    default: return NULL;
    }
}

/* Above this, jansson alone: the parser's values (24 bytes each) would be held beside the tree
 * while it is built, adding a third to the peak memory of a large dense package (a 21 MB
 * model.json of 4 million coefficients: ~100 MB more). */
#define FAST_MAX_BYTES ((size_t)8 << 20)

json_t *sr_model_json_load(const char *text, size_t len, json_error_t *err)
{
    if (len > FAST_MAX_BYTES) return json_loadb(text, len, JSON_REJECT_DUPLICATES, err);
    sr_arena a;
    sr_arena_init(&a, 64 * 1024);
    sr_value root;
    size_t repeats = 0;
    json_t *j = NULL;
    /* jansson (without JSON_DECODE_ANY) takes an object or an array at the top, and with
     * JSON_REJECT_DUPLICATES refuses a repeated key, which streamrun's parser merges */
    if (sr_json_parse_counting(&a, text, len, &root, NULL, 0, NULL, &repeats) == 0 &&
        repeats == 0 && (root.type == SR_OBJ || root.type == SR_ARR))
        j = to_jansson(&root);
    sr_arena_free(&a);
    if (j) return j;
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, err);
}
