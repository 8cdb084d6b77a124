/* shape.c — topic shapes: parsed from `shape:`, written back as YAML, inferred from records. */
#include "load/shape.h"

#include "load/expr.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* How deep a shape's objects nest, at most: deeper ones are written as object (and must be read
 * as such). */
#define MAX_NESTING 32

/* ---- the type names --------------------------------------------------------------------- */

static const struct {
    const char *name;
    sr_stype type;
} type_names[] = {{"number", SR_T_NUM}, {"string", SR_T_STR}, {"boolean", SR_T_BOOL},
                  {"object", SR_T_OBJ}, {"array", SR_T_ARR},  {"null", SR_T_NULL},
                  {"any", SR_T_ANY}};

/* Names users write for a type, as other languages spell it. */
static const struct {
    const char *alias, *name;
} type_aliases[] = {{"int", "number"},    {"integer", "number"}, {"float", "number"},
                    {"double", "number"}, {"long", "number"},    {"decimal", "number"},
                    {"str", "string"},    {"text", "string"},    {"bool", "boolean"},
                    {"list", "array"},    {"map", "object"},     {"dict", "object"},
                    {"record", "object"}, {"struct", "object"},  {"timestamp", "number"}};

#define NTYPES   (int)(sizeof(type_names) / sizeof(type_names[0]))
#define NALIASES (int)(sizeof(type_aliases) / sizeof(type_aliases[0]))

static bool type_find(const char *s, sr_stype *out)
{
    for (int i = 0; i < NTYPES; i++)
        if (strcmp(type_names[i].name, s) == 0) {
            *out = type_names[i].type;
            return true;
        }
    return false;
}

/* ---- parsing `shape:` -------------------------------------------------------------------- */

static int parse_map(sr_check *ck, const sr_ynode *n, const char *topic, sr_schema *out, int depth);

static void unknown_type(sr_check *ck, const sr_ynode *v, const char *topic, const char *field)
{
    const char *sug = NULL;
    for (int i = 0; i < NALIASES && !sug; i++)
        if (strcasecmp(type_aliases[i].alias, v->text) == 0) sug = type_aliases[i].name;
    if (!sug) {
        const char *names[NTYPES];
        for (int i = 0; i < NTYPES; i++) names[i] = type_names[i].name;
        sug = sr_suggest(v->text, names, NTYPES);
    }
    sr_errc(ck->dg, SR_E_SHAPE_TYPE, ck->file, v->mark,
            "topic '%s': unknown type '%s' for field '%s'%s%s%s (the types: number, string, "
            "boolean, object, array, null, any)",
            topic, v->text, field, sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    if (sug) sr_diag_help(ck->dg, "%s: %s", field, sug);
}

/* The type of value v of field `field` into *t (and its object fields into sub, its elements'
 * type into *elem). Returns 0 or -1 after reporting. */
static int parse_type(sr_check *ck, const sr_ynode *v, const char *topic, const char *field,
                      sr_stype *t, sr_schema *sub, sr_stype *elem, int depth)
{
    *elem = SR_T_ANY;
    if (v->kind == SR_Y_MAP) {
        *t = SR_T_OBJ;
        sub->closed = true;
        return parse_map(ck, v, topic, sub, depth + 1);
    }
    if (v->kind == SR_Y_SEQ) {
        *t = SR_T_ARR;
        if (v->nkids != 1) {
            sr_errc(ck->dg, SR_E_SHAPE_FORM, ck->file, v->mark,
                    "topic '%s': field '%s': an array's shape is a list of one element type, "
                    "such as [number], not a list of %d",
                    topic, field, v->nkids);
            const sr_ynode *first = v->nkids ? v->kids[0] : NULL;
            sr_diag_help(ck->dg, "%s: [%s]   (or %s: array, for elements of any type)", field,
                         first && sr_yis_scalar(first) ? first->text : "number", field);
            return -1;
        }
        sr_schema esub = {0};
        sr_stype ee;
        int rc = parse_type(ck, v->kids[0], topic, field, elem, &esub, &ee, depth + 1);
        sr_schema_free(&esub); /* an element's own fields are not followed */
        return rc;
    }
    if (!sr_yis_scalar(v) || sr_yis_null(v)) {
        char got[64];
        sr_errc(ck->dg, SR_E_SHAPE_FORM, ck->file, v->mark,
                "topic '%s': field '%s' must have a type (number, string, boolean, object, "
                "array, null, any), a mapping of its fields or a list of one element type, "
                "not %s",
                topic, field, sr_ydesc(v, got, sizeof(got)));
        if (sr_yis_null(v)) sr_diag_help(ck->dg, "%s: any   (when it can be anything)", field);
        return -1;
    }
    if (type_find(v->text, t)) return 0;
    unknown_type(ck, v, topic, field);
    return -1;
}

static int parse_map(sr_check *ck, const sr_ynode *n, const char *topic, sr_schema *out, int depth)
{
    if (depth >= MAX_NESTING) {
        sr_errc(ck->dg, SR_E_SHAPE_FORM, ck->file, n->mark,
                "topic '%s': a shape nested more than %d objects deep (write the deeper ones "
                "as object)",
                topic, MAX_NESTING);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i + 1 < n->nkids; i += 2) {
        const sr_ynode *k = n->kids[i], *v = n->kids[i + 1];
        char got[64];
        if (!sr_yis_scalar(k) || sr_yis_null(k) || k->len == 0) {
            sr_errc(ck->dg, SR_E_SHAPE_FORM, ck->file, k->mark,
                    "topic '%s': a shape's keys are field names, not %s", topic,
                    sr_ydesc(k, got, sizeof(got)));
            rc = -1;
            continue;
        }
        if (strcmp(k->text, "*") == 0) {
            if (!sr_yis_scalar(v) || strcmp(v->text, "any") != 0) {
                sr_errc(ck->dg, SR_E_SHAPE_FORM, ck->file, v->mark,
                        "topic '%s': '*' opens a shape to other fields; its value must be any, "
                        "not %s",
                        topic, sr_ydesc(v, got, sizeof(got)));
                sr_diag_help(ck->dg, "\"*\": any");
                rc = -1;
            }
            out->closed = false;
            continue;
        }
        size_t len = k->len;
        bool optional = len > 1 && k->text[len - 1] == '?';
        char *name = sr_xstrdup(k->text);
        if (optional) name[len - 1] = '\0';
        if (sr_schema_has(out, name)) {
            sr_errc(ck->dg, SR_E_SHAPE_FORM, ck->file, k->mark,
                    "topic '%s': field '%s' is in the shape twice", topic, name);
            for (int j = 0; j < i; j += 2) { /* the first: NAME or NAME? */
                const sr_ynode *o = n->kids[j];
                size_t ol = sr_yis_scalar(o) ? o->len : 0;
                if (ol && o->text[ol - 1] == '?') ol--;
                if (ol == strlen(name) && memcmp(o->text, name, ol) == 0) {
                    sr_diag_related(ck->dg, ck->file, o->mark, "'%s' is first declared here", name);
                    break;
                }
            }
            sr_diag_help(ck->dg, "keep one of them: '%s?: TYPE' when it may be absent or null",
                         name);
            rc = -1;
            free(name);
            continue;
        }
        sr_stype t = SR_T_ANY, elem = SR_T_ANY;
        sr_schema sub = {0};
        if (parse_type(ck, v, topic, name, &t, &sub, &elem, depth) != 0) rc = -1;
        sr_schema_put(out, name, t, t == SR_T_OBJ ? &sub : NULL);
        int j = sr_schema_find(out, name);
        out->elems[j] = elem;
        out->optional[j] = optional;
        sr_schema_free(&sub);
        free(name);
    }
    return rc;
}

int sr_shape_parse(sr_check *ck, const sr_ynode *n, const char *topic, sr_schema *out)
{
    assert(out->n == 0);
    if (n->kind != SR_Y_MAP || n->nkids == 0) {
        char got[64];
        sr_errc(ck->dg, SR_E_SHAPE_FORM, ck->file, n->mark,
                "topic '%s': 'shape' must be a mapping of field names to types, such as "
                "{id: string, amount: number}, not %s",
                topic, n->kind == SR_Y_MAP ? "an empty mapping" : sr_ydesc(n, got, sizeof(got)));
        sr_diag_help(ck->dg, "`streamrun shape SAMPLE.jsonl` prints the shape of a file's records");
        return -1;
    }
    out->closed = true;
    return parse_map(ck, n, topic, out, 0);
}

void sr_shape_of_inputs(const sr_deployment *d, sr_schema *out)
{
    assert(out->n == 0);
    if (d->ninputs == 0) return;
    for (int i = 0; i < d->ninputs; i++)
        if (!d->inputs[i]->shape) return;
    sr_schema_copy(out, d->inputs[0]->shape);
    for (int k = 1; k < d->ninputs; k++) {
        const sr_schema *s = d->inputs[k]->shape;
        for (int i = 0; i < out->n; i++) {
            int j = sr_schema_find(s, out->names[i]);
            if (j < 0) {
                out->optional[i] = true;
            } else {
                if (s->optional[j]) out->optional[i] = true;
                if (s->types[j] != out->types[i] || s->types[j] == SR_T_OBJ) {
                    /* objects of two shapes: their fields are not merged */
                    bool opt = out->optional[i];
                    sr_stype t = s->types[j] == out->types[i] ? s->types[j] : SR_T_ANY;
                    sr_schema_put(out, out->names[i], t, NULL);
                    out->optional[i] = opt;
                } else if (s->elems[j] != out->elems[i]) {
                    out->elems[i] = SR_T_ANY;
                }
            }
        }
        for (int j = 0; j < s->n; j++) {
            if (sr_schema_has(out, s->names[j])) continue;
            sr_schema_put(out, s->names[j], s->types[j], s->subs[j]);
            int i = sr_schema_find(out, s->names[j]);
            out->elems[i] = s->elems[j];
            out->optional[i] = true;
        }
        if (!s->closed) out->closed = false;
    }
}

/* ---- writing ---------------------------------------------------------------------------- */

static const char *type_name(sr_stype t)
{
    for (int i = 0; i < NTYPES; i++)
        if (type_names[i].type == t) return type_names[i].name;
    return "any";
}

/* A field name as a YAML key: plain when it reads back as that text, else double-quoted. */
static void put_key(sr_buf *b, const char *name, bool optional)
{
    static const char *const words[] = {"true", "false", "yes", "no", "on", "off", "null", NULL};
    bool plain =
        (name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z') || name[0] == '_';
    for (const char *p = name; plain && *p; p++)
        plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                *p == '_' || *p == '-' || *p == '.';
    for (int i = 0; plain && words[i]; i++)
        if (strcasecmp(words[i], name) == 0) plain = false;
    if (plain && name[strlen(name) - 1] == '?') plain = false;
    if (plain) {
        sr_buf_puts(b, name);
        if (optional) sr_buf_putc(b, '?');
        return;
    }
    sr_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            sr_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            sr_buf_printf(b, "\\x%02x", c);
        else
            sr_buf_putc(b, (char)c);
    }
    if (optional) sr_buf_putc(b, '?');
    sr_buf_putc(b, '"');
}

static void write_fields(const sr_schema *s, sr_buf *b, int indent, int depth);

void sr_shape_write(const sr_schema *s, sr_buf *b, int indent)
{
    write_fields(s, b, indent, 0);
}

static void write_fields(const sr_schema *s, sr_buf *b, int indent, int depth)
{
    for (int i = 0; i < s->n; i++) {
        sr_buf_printf(b, "%*s", indent, "");
        put_key(b, s->names[i], s->optional[i]);
        sr_buf_puts(b, ":");
        if (s->types[i] == SR_T_OBJ && s->subs[i] && (s->subs[i]->n || s->subs[i]->closed) &&
            depth + 1 < MAX_NESTING) {
            if (s->subs[i]->n == 0) { /* an object seen empty every time */
                sr_buf_puts(b, " object\n");
                continue;
            }
            sr_buf_putc(b, '\n');
            write_fields(s->subs[i], b, indent + 2, depth + 1);
        } else if (s->types[i] == SR_T_ARR && s->elems[i] != SR_T_ANY && s->elems[i] != SR_T_NULL) {
            sr_buf_printf(b, " [%s]\n", type_name(s->elems[i]));
        } else { /* only nulls seen: nothing known */
            sr_buf_printf(b, " %s\n", type_name(s->types[i] == SR_T_NULL ? SR_T_ANY : s->types[i]));
        }
    }
    if (!s->closed) sr_buf_printf(b, "%*s\"*\": any\n", indent, "");
}

/* ---- inferring --------------------------------------------------------------------------- */

static sr_stype value_type(const sr_value *v)
{
    switch ((sr_type)v->type) {
    case SR_NULL: return SR_T_NULL;
    case SR_BOOL: return SR_T_BOOL;
    case SR_NUM:
    case SR_INT:
    case SR_DBL: return SR_T_NUM;
    case SR_STR: return SR_T_STR;
    case SR_ARR: return SR_T_ARR;
    case SR_OBJ: return SR_T_OBJ;
    case SR_MISSING: break;
    }
    return SR_T_ANY;
}

/* The type of values seen as a, then as b (SR_T_NULL: only nulls so far). */
static sr_stype merge_type(sr_stype a, sr_stype b)
{
    if (a == b) return a;
    if (a == SR_T_NULL) return b;
    if (b == SR_T_NULL) return a;
    return SR_T_ANY;
}

/* The type of the elements of array v, merged with elem (what earlier arrays held); first: no
 * array seen before. */
static sr_stype elems_type(const sr_value *v, sr_stype elem, bool first)
{
    for (uint32_t i = 0; i < v->len; i++) {
        sr_stype t = value_type(&v->u.a[i]);
        elem = first && i == 0 ? t : merge_type(elem, t);
    }
    return elem;
}

void sr_shape_infer(sr_schema *s, const sr_value *v, long nrecords)
{
    assert(v->type == SR_OBJ);
    if (nrecords == 0) s->closed = true;
    /* fields seen before and absent now may be absent */
    for (int i = 0; i < s->n; i++)
        if (!sr_obj_get(v, s->names[i], strlen(s->names[i]))) s->optional[i] = true;
    for (uint32_t m = 0; m < v->len; m++) {
        const sr_member *mb = &v->u.o[m];
        if (memchr(mb->key, '\0', mb->klen)) continue; /* not a name a shape can hold */
        char *name = sr_xmalloc(mb->klen + 1);
        memcpy(name, mb->key, mb->klen);
        name[mb->klen] = '\0';
        sr_stype t = value_type(&mb->v);
        int i = sr_schema_find(s, name);
        if (i < 0) {
            sr_schema sub = {.closed = true};
            if (t == SR_T_OBJ) sr_shape_infer(&sub, &mb->v, 0);
            sr_schema_put(s, name, t, t == SR_T_OBJ ? &sub : NULL);
            sr_schema_free(&sub);
            i = sr_schema_find(s, name);
            s->optional[i] = nrecords > 0 || t == SR_T_NULL;
            if (t == SR_T_ARR) s->elems[i] = elems_type(&mb->v, SR_T_NULL, true);
            free(name);
            continue;
        }
        free(name);
        sr_stype was = s->types[i];
        if (t == SR_T_NULL) s->optional[i] = true;
        sr_stype now = merge_type(was, t);
        if (now != was) {
            bool opt = s->optional[i];
            sr_stype elem = s->elems[i];
            sr_schema_put(s, s->names[i], now, NULL); /* an object's fields: see below */
            s->optional[i] = opt;
            s->elems[i] = elem;
            if (now == SR_T_OBJ) { /* only nulls before */
                sr_schema sub = {.closed = true};
                sr_shape_infer(&sub, &mb->v, 0);
                sr_schema_put(s, s->names[i], now, &sub);
                s->optional[i] = opt;
                sr_schema_free(&sub);
                continue;
            }
        }
        if (now == SR_T_OBJ && t == SR_T_OBJ && s->subs[i]) {
            sr_schema *sub = s->subs[i];
            /* every record before had this object (or null): its fields' count is theirs */
            sr_shape_infer(sub, &mb->v, 1);
        }
        if (now == SR_T_ARR && t == SR_T_ARR)
            s->elems[i] =
                elems_type(&mb->v, was == SR_T_NULL ? SR_T_NULL : s->elems[i], was == SR_T_NULL);
    }
}
