/* params.c — parameter tables: parsing and checking operator settings, and field schemas. */
#include "load/expr.h"
#include "load/topology.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- schemas --------------------------------------------------------------------- */

void sr_schema_set_open(sr_schema *s)
{
    sr_schema_free(s);
}

int sr_schema_find(const sr_schema *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0) return i;
    return -1;
}

bool sr_schema_has(const sr_schema *s, const char *name)
{
    return sr_schema_find(s, name) >= 0;
}

sr_stype sr_schema_type(const sr_schema *s, const char *name)
{
    int i = sr_schema_find(s, name);
    return i < 0 ? SR_T_ANY : s->types[i];
}

static int gone_exact(const sr_schema *s, const char *name)
{
    for (int i = s->ngone - 1; i >= 0; i--)
        if (strcmp(s->gone[i], name) == 0) return i;
    return -1;
}

int sr_schema_gone(const sr_schema *s, const char *name)
{
    return gone_exact(s, name);
}

static void gone_del(sr_schema *s, int i)
{
    free(s->gone[i]);
    free(s->gone_by[i]);
    free(s->gone_kept[i]);
    int after = s->ngone - i - 1;
    memmove(&s->gone[i], &s->gone[i + 1], sizeof(char *) * (size_t)after);
    memmove(&s->gone_by[i], &s->gone_by[i + 1], sizeof(char *) * (size_t)after);
    memmove(&s->gone_kept[i], &s->gone_kept[i + 1], sizeof(char *) * (size_t)after);
    memmove(&s->gone_at[i], &s->gone_at[i + 1], sizeof(sr_mark) * (size_t)after);
    memmove(&s->gone_file[i], &s->gone_file[i + 1], sizeof(sr_srcfile *) * (size_t)after);
    s->ngone--;
}

static void gone_add(sr_schema *s, const char *name, const char *by, const char *kept,
                     const sr_srcfile *f, sr_mark m)
{
    int g = gone_exact(s, name);
    if (g >= 0) gone_del(s, g);
    size_t k = (size_t)s->ngone + 1;
    s->gone = sr_xrealloc(s->gone, sizeof(char *) * k);
    s->gone_by = sr_xrealloc(s->gone_by, sizeof(char *) * k);
    s->gone_kept = sr_xrealloc(s->gone_kept, sizeof(char *) * k);
    s->gone_at = sr_xrealloc(s->gone_at, sizeof(sr_mark) * k);
    s->gone_file = sr_xrealloc(s->gone_file, sizeof(sr_srcfile *) * k);
    s->gone[s->ngone] = sr_xstrdup(name);
    s->gone_by[s->ngone] = sr_xstrdup(by);
    s->gone_kept[s->ngone] = kept ? sr_xstrdup(kept) : NULL;
    s->gone_at[s->ngone] = m;
    s->gone_file[s->ngone] = f;
    s->ngone++;
}

static sr_schema *sub_dup(const sr_schema *sub)
{
    if (!sub) return NULL;
    sr_schema *c = sr_xcalloc(1, sizeof(*c));
    sr_schema_copy(c, sub);
    return c;
}

static void sub_free(sr_schema *sub)
{
    if (!sub) return;
    sr_schema_free(sub);
    free(sub);
}

void sr_schema_put(sr_schema *s, const char *name, sr_stype t, const sr_schema *sub)
{
    int g = gone_exact(s, name);
    if (g >= 0) gone_del(s, g);
    int i = sr_schema_find(s, name);
    if (i < 0) {
        size_t k = (size_t)s->n + 1;
        s->names = sr_xrealloc(s->names, sizeof(char *) * k);
        s->types = sr_xrealloc(s->types, sizeof(sr_stype) * k);
        s->subs = sr_xrealloc(s->subs, sizeof(sr_schema *) * k);
        s->elems = sr_xrealloc(s->elems, sizeof(sr_stype) * k);
        s->optional = sr_xrealloc(s->optional, sizeof(bool) * k);
        i = s->n++;
        s->names[i] = sr_xstrdup(name);
        s->subs[i] = NULL;
    }
    sr_schema *old = s->subs[i];
    s->types[i] = t;
    s->subs[i] = t == SR_T_OBJ ? sub_dup(sub) : NULL;
    s->elems[i] = SR_T_ANY;
    s->optional[i] = false;
    sub_free(old);
}

void sr_schema_add(sr_schema *s, const char *name)
{
    if (sr_schema_has(s, name)) return;
    sr_schema_put(s, name, SR_T_ANY, NULL);
}

void sr_schema_del(sr_schema *s, const char *name)
{
    int i = sr_schema_find(s, name);
    if (i < 0) return;
    free(s->names[i]);
    sub_free(s->subs[i]);
    int after = s->n - i - 1;
    memmove(&s->names[i], &s->names[i + 1], sizeof(char *) * (size_t)after);
    memmove(&s->types[i], &s->types[i + 1], sizeof(sr_stype) * (size_t)after);
    memmove(&s->subs[i], &s->subs[i + 1], sizeof(sr_schema *) * (size_t)after);
    memmove(&s->elems[i], &s->elems[i + 1], sizeof(sr_stype) * (size_t)after);
    memmove(&s->optional[i], &s->optional[i + 1], sizeof(bool) * (size_t)after);
    s->n--;
}

void sr_schema_drop(sr_schema *s, const char *name, const char *by, const sr_srcfile *f, sr_mark m)
{
    sr_schema_del(s, name);
    gone_add(s, name, by, NULL, f, m);
}

void sr_schema_rename(sr_schema *s, const char *from, const char *to)
{
    int i = sr_schema_find(s, from);
    if (i < 0) return;
    if (strcmp(from, to) == 0) return;
    sr_schema_del(s, to);
    i = sr_schema_find(s, from);
    free(s->names[i]);
    s->names[i] = sr_xstrdup(to);
    int g = gone_exact(s, to);
    if (g >= 0) gone_del(s, g);
}

void sr_schema_keep(sr_schema *s, char *const *names, int n, const char *by, const sr_srcfile *f,
                    sr_mark m)
{
    sr_schema out = {.closed = true};
    for (int i = 0; i < s->ngone; i++)
        gone_add(&out, s->gone[i], s->gone_by[i], s->gone_kept[i], s->gone_file[i], s->gone_at[i]);
    for (int i = 0; i < n; i++) {
        int k = sr_schema_find(s, names[i]);
        sr_schema_put(&out, names[i], k < 0 ? SR_T_ANY : s->types[k], k < 0 ? NULL : s->subs[k]);
        if (k < 0) continue;
        int j = sr_schema_find(&out, names[i]);
        out.elems[j] = s->elems[k];
        out.optional[j] = s->optional[k];
    }
    sr_buf kept = {0}; /* for the help of a reference to a field removed: the list as kept */
    for (int i = 0; i < n; i++) sr_buf_printf(&kept, "%s%s", i ? ", " : "", names[i]);
    for (int i = 0; i < s->n; i++)
        if (!sr_schema_has(&out, s->names[i]))
            gone_add(&out, s->names[i], by, n ? sr_buf_cstr(&kept) : NULL, f, m);
    sr_buf_free(&kept);
    sr_schema_free(s);
    *s = out;
}

void sr_schema_copy(sr_schema *dst, const sr_schema *src)
{
    assert(dst != src);
    sr_schema_free(dst);
    dst->closed = src->closed;
    for (int i = 0; i < src->n; i++) {
        sr_schema_put(dst, src->names[i], src->types[i], src->subs[i]);
        dst->elems[i] = src->elems[i];
        dst->optional[i] = src->optional[i];
    }
    for (int i = 0; i < src->ngone; i++)
        gone_add(dst, src->gone[i], src->gone_by[i], src->gone_kept[i], src->gone_file[i],
                 src->gone_at[i]);
}

void sr_schema_free(sr_schema *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->names[i]);
        sub_free(s->subs[i]);
    }
    for (int i = 0; i < s->ngone; i++) {
        free(s->gone[i]);
        free(s->gone_by[i]);
        free(s->gone_kept[i]);
    }
    free(s->names);
    free(s->types);
    free(s->subs);
    free(s->elems);
    free(s->optional);
    free(s->gone);
    free(s->gone_by);
    free(s->gone_kept);
    free(s->gone_at);
    free(s->gone_file);
    memset(s, 0, sizeof(*s));
}

/* ---- durations -------------------------------------------------------------------- */

bool sr_parse_duration(const char *s, int64_t *ms)
{
    char *end;
    if (!*s || !(isdigit((unsigned char)*s) || *s == '.')) return false;
    double v = strtod(s, &end);
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"", 1},        {"ms", 1},      {"s", 1000},    {"m", 60000},
                 {"min", 60000}, {"h", 3600000}, {"d", 86400000}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double r = v * units[i].ms;
            if (r < 0 || r > 9.2e18) return false;
            *ms = (int64_t)r;
            return true;
        }
    }
    return false;
}

/* ---- parsing ------------------------------------------------------------------------ */

#define AT(conf, off, type) ((type *)((char *)(conf) + (off)))

const char *sr_ydesc(const sr_ynode *n, char *buf, size_t size)
{
    if (!n || sr_yis_null(n))
        snprintf(buf, size, "null");
    else if (n->kind == SR_Y_MAP)
        snprintf(buf, size, "a mapping");
    else if (n->kind == SR_Y_SEQ)
        snprintf(buf, size, "a list");
    else {
        /* one line of at most 40 bytes: messages stay on one line */
        size_t len = strcspn(n->text, "\r\n");
        bool cut = len < n->len || len > 40;
        if (len > 37 && cut) len = 37;
        snprintf(buf, size, "'%.*s%s'", (int)len, n->text, cut ? "..." : "");
    }
    return buf;
}

/* Reports an error about the settings being parsed, prefixed with what they belong to. */
static void cerr(sr_check *ck, sr_code code, sr_mark m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void cerr(sr_check *ck, sr_code code, sr_mark m, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sr_errc(ck->dg, code, ck->file, m, "%s%s%s", ck->what ? ck->what : "", ck->what ? ": " : "",
            msg);
}

/* "a|b|c" as "a, b or c". */
static const char *choices_text(const char *choices, char *buf, size_t size)
{
    size_t n = 0, bars = 0;
    for (const char *c = choices; *c; c++) bars += *c == '|';
    buf[0] = 0;
    for (const char *c = choices; *c && n + 8 < size; c++) {
        if (*c != '|') {
            buf[n++] = *c;
        } else {
            const char *sep = --bars ? ", " : " or ";
            n += (size_t)snprintf(buf + n, size - n, "%s", sep);
        }
    }
    buf[n < size ? n : size - 1] = 0;
    return buf;
}

static const char *ptype_desc(const sr_param *p, char *buf, size_t size)
{
    switch (p->type) {
    case SR_P_STR: return "a string";
    case SR_P_INT: return "a whole number";
    case SR_P_NUM: return "a number";
    case SR_P_BOOL: return "true or false";
    case SR_P_ENUM: return choices_text(p->choices, buf, size);
    case SR_P_DURATION: return "a duration such as 500ms, 10s, 5m or 1h";
    case SR_P_EXPR: return "an expression";
    case SR_P_FIELD: return "a field name";
    case SR_P_FIELDS: return "a field name or a list of field names";
    case SR_P_TOPIC: return "a topic name";
    case SR_P_EXPRMAP: return "a mapping of field names to expressions";
    case SR_P_STRMAP: return "a mapping such as {name: value}";
    case SR_P_LIST: return "a non-empty list";
    case SR_P_AGGS: return "an aggregate such as mean(x), or a mapping such as {avg: mean(x)}";
    }
    return "?";
}

/* Gives the error added last, about n not being of p's type, the rewrite into the right form
 * when there is an evident one: a one-item list where one value goes ([out.jsonl] for
 * out.jsonl), YAML 1.1's yes/no/on/off where true or false goes. */
static void help_right_form(sr_check *ck, const sr_param *p, const sr_ynode *n)
{
    bool one_value = p->type == SR_P_STR || p->type == SR_P_INT || p->type == SR_P_NUM ||
                     p->type == SR_P_BOOL || p->type == SR_P_DURATION || p->type == SR_P_FIELD ||
                     p->type == SR_P_TOPIC || p->type == SR_P_EXPR;
    if (one_value && n->kind == SR_Y_SEQ && n->nkids == 1 && sr_yis_scalar(n->kids[0])) {
        char old[256];
        snprintf(old, sizeof(old), "[%s]", n->kids[0]->text);
        sr_diag_help_rewrite(ck->dg, ck->file, n->mark, old, n->kids[0]->text,
                             "give the value itself, not a list");
    } else if (p->type == SR_P_BOOL && sr_yis_scalar(n)) {
        static const char *const yes[] = {"yes", "on", "y"}, *const no[] = {"no", "off", "n"};
        for (int i = 0; i < 3; i++) {
            const char *to = strcasecmp(n->text, yes[i]) == 0  ? "true"
                             : strcasecmp(n->text, no[i]) == 0 ? "false"
                                                               : NULL;
            if (to) sr_diag_help_rewrite(ck->dg, ck->file, n->mark, n->text, to, "write");
        }
    }
}

static int wrong(sr_check *ck, const sr_param *p, const sr_ynode *n)
{
    char want[256], got[64];
    cerr(ck, SR_E_WRONG_TYPE, n->mark, "'%s' must be %s, not %s", p->name,
         ptype_desc(p, want, sizeof(want)), sr_ydesc(n, got, sizeof(got)));
    help_right_form(ck, p, n);
    return -1;
}

void sr_help_add_key(sr_check *ck, const sr_ynode *map, const char *key, const char *value)
{
    const char *src;
    size_t n;
    if (!map || map->kind != SR_Y_MAP || map->mark.col < 1 ||
        !sr_srcfile_line(ck->file, map->mark.line, &src, &n) || (size_t)map->mark.col > n)
        return;
    if (src[map->mark.col - 1] == '{') { /* {a: 1} -> {key: value, a: 1} */
        char with[256];
        snprintf(with, sizeof(with), "{%s: %s%s", key, value, map->nkids ? ", " : "");
        sr_diag_help_rewrite(ck->dg, ck->file, (sr_mark){map->mark.line, map->mark.col, 1}, "{",
                             with, "add the setting");
    } else if (map->nkids >= 2 && map->kids[0]->mark.col >= 1) { /* a line beside the first key */
        sr_diag_help(ck->dg, "add the line:\n%*s%s: %s", map->kids[0]->mark.col - 1, "", key,
                     value);
    }
}

/* What to write for p in a line that adds it: a placeholder of its type. */
static const char *placeholder(const sr_param *p, char *buf, size_t size)
{
    switch (p->type) {
    case SR_P_INT:
    case SR_P_NUM: return "1";
    case SR_P_BOOL: return "true";
    case SR_P_ENUM:
        snprintf(buf, size, "%.*s", (int)strcspn(p->choices, "|"), p->choices);
        return buf;
    case SR_P_DURATION: return "10s";
    case SR_P_EXPR: return "EXPRESSION";
    case SR_P_FIELDS: return "[FIELD]";
    case SR_P_EXPRMAP: return "{FIELD: EXPRESSION}";
    case SR_P_STRMAP: return "{NAME: VALUE}";
    case SR_P_LIST: return "[...]";
    case SR_P_AGGS: return "count()";
    default: break; /* text, a field, a topic: the setting's name in capitals */
    }
    size_t i = 0;
    for (; p->name[i] && i + 1 < size; i++) buf[i] = (char)toupper((unsigned char)p->name[i]);
    buf[i] = 0;
    return buf;
}

void sr_no_field(sr_check *ck, sr_mark m, const char *name)
{
    const sr_schema *sc = &ck->schema;
    const char *sug = sr_suggest(name, (const char *const *)sc->names, sc->n);
    char known[300] = "";
    size_t kl = 0;
    for (int i = 0; i < sc->n && kl < sizeof(known) - 40; i++)
        kl += (size_t)snprintf(known + kl, sizeof(known) - kl, "%s%s", i ? ", " : "", sc->names[i]);
    if (sug)
        cerr(ck, SR_E_UNKNOWN_FIELD, m,
             "field '%s' does not exist here; did you mean '%s'? (fields: %s)", name, sug, known);
    else
        cerr(ck, SR_E_UNKNOWN_FIELD, m, "field '%s' does not exist here (fields: %s)", name, known);
    if (sug) sr_diag_help_rewrite(ck->dg, ck->file, m, name, sug, "correct the field name");
    sr_note_gone(ck, name);
}

void sr_note_gone(sr_check *ck, const char *name)
{
    const sr_schema *sc = &ck->schema;
    int g = sr_schema_gone(sc, name);
    if (g < 0) return;
    sr_diag_related(ck->dg, sc->gone_file[g], sc->gone_at[g], "'%s' was dropped by the %s here",
                    name, sc->gone_by[g]);
    const char *by = sc->gone_by[g];
    if (strcmp(by, "select") == 0 && sc->gone_kept[g])
        sr_diag_help(ck->dg, "keep it in the select (or use it before):\n- select: [%s, %s]",
                     sc->gone_kept[g], name);
    else if (strcmp(by, "select") == 0)
        sr_diag_help(ck->dg, "keep it: add '%s' to that select's list, or use it before the select",
                     name);
    else if (strcmp(by, "window") == 0)
        sr_diag_help(ck->dg,
                     "a window's records have only start, end and its aggregates: keep it with "
                     "an aggregate such as '%s: last(%s)'",
                     name, name);
    else if (strcmp(by, "join") == 0) {
        const char *in = NULL; /* an input whose shape has the field */
        for (int i = 0; i < sc->n && !in; i++)
            if (sc->subs[i] && sr_schema_has(sc->subs[i], name)) in = sc->names[i];
        if (in)
            sr_diag_help(ck->dg, "a join's records hold each input's record under its name: %s.%s",
                         in, name);
        else
            sr_diag_help(ck->dg,
                         "a join's records hold each input's record under its name: refer to it "
                         "as INPUT.%s",
                         name);
    } else if (strcmp(by, "pivot") == 0)
        sr_diag_help(ck->dg, "keep it: add '%s' to the pivot's 'keep' list", name);
    else
        sr_diag_help(ck->dg, "use '%s' before the %s, or do not remove it there", name, by);
}

bool sr_reported_in(const sr_check *ck, const sr_ynode *n)
{
    return sr_diag_error_within(ck->dg, ck->file, n->mark);
}

/* A scalar that is a plain name (no spaces); quoted or plain. */
static bool is_name(const sr_ynode *n)
{
    return sr_yis_scalar(n) && n->len > 0 && !sr_yis_null(n);
}

static int parse_enum(const sr_param *p, const sr_ynode *n, int *out, sr_check *ck)
{
    if (!sr_yis_scalar(n)) return wrong(ck, p, n);
    /* YAML's null (null, Null, NULL, ~) names a choice called "null" */
    const char *text = sr_yis_null(n) ? "null" : n->text;
    size_t tlen = strlen(text);
    const char *c = p->choices;
    for (int i = 0; *c; i++) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == tlen && memcmp(c, text, len) == 0) {
            *out = i;
            return 0;
        }
        if (!bar) break;
        c = bar + 1;
    }
    char buf[256], want[256], got[64];
    snprintf(buf, sizeof(buf), "%s", p->choices);
    const char *cands[16];
    int nc = 0;
    for (char *tok = strtok(buf, "|"); tok && nc < 16; tok = strtok(NULL, "|")) cands[nc++] = tok;
    const char *sug = sr_suggest(n->text, cands, nc);
    choices_text(p->choices, want, sizeof(want));
    sr_ydesc(n, got, sizeof(got));
    if (sug)
        cerr(ck, SR_E_NOT_A_CHOICE, n->mark, "'%s' must be %s, not %s; did you mean '%s'?", p->name,
             want, got, sug);
    else
        cerr(ck, SR_E_NOT_A_CHOICE, n->mark, "'%s' must be %s, not %s", p->name, want, got);
    if (sug) sr_diag_help_rewrite(ck->dg, ck->file, n->mark, n->text, sug, "correct the value");
    return -1;
}

static int parse_topic(const sr_param *p, const sr_ynode *n, sr_topic **out, sr_check *ck);

int sr_param_parse_one(const sr_param *p, const sr_ynode *n, void *conf, sr_check *ck)
{
    char got[64];
    switch (p->type) {
    case SR_P_STR:
        if (!sr_yis_scalar(n) || sr_yis_null(n)) return wrong(ck, p, n);
        *AT(conf, p->off, char *) = sr_xstrdup(n->text);
        return 0;
    case SR_P_FIELD:
        if (!is_name(n)) return wrong(ck, p, n);
        *AT(conf, p->off, char *) = sr_xstrdup(n->text);
        return 0;
    case SR_P_INT: {
        long long v;
        if (!sr_yscalar_int(n, &v)) return wrong(ck, p, n);
        *AT(conf, p->off, int64_t) = v;
        return 0;
    }
    case SR_P_NUM: {
        double v;
        if (!sr_yscalar_double(n, &v)) return wrong(ck, p, n);
        *AT(conf, p->off, double) = v;
        return 0;
    }
    case SR_P_BOOL: {
        bool v;
        if (!sr_yscalar_bool(n, &v)) return wrong(ck, p, n);
        *AT(conf, p->off, bool) = v;
        return 0;
    }
    case SR_P_ENUM: return parse_enum(p, n, AT(conf, p->off, int), ck);
    case SR_P_DURATION: {
        int64_t ms;
        if (!sr_yis_scalar(n) || !sr_parse_duration(n->text, &ms)) return wrong(ck, p, n);
        *AT(conf, p->off, int64_t) = ms;
        return 0;
    }
    case SR_P_EXPR: {
        if (sr_reported_in(ck, n)) return -1; /* e.g. an unset ${VAR}: one error is enough */
        sr_expr *e = sr_expr_compile(n, ck);
        if (!e) return -1;
        *AT(conf, p->off, sr_expr *) = e;
        return 0;
    }
    case SR_P_FIELDS: {
        sr_strv *v = AT(conf, p->off, sr_strv);
        const sr_ynode *items[1] = {n};
        const sr_ynode *const *list = items;
        int count = 1;
        if (n->kind == SR_Y_SEQ) {
            list = (const sr_ynode *const *)n->kids;
            count = n->nkids;
        } else if (!is_name(n)) {
            return wrong(ck, p, n);
        }
        int rc = 0;
        v->v = sr_xcalloc((size_t)count + 1, sizeof(char *));
        v->len = sr_xcalloc((size_t)count + 1, sizeof(size_t));
        v->marks = sr_xcalloc((size_t)count + 1, sizeof(sr_mark));
        for (int i = 0; i < count; i++) {
            if (!is_name(list[i])) {
                cerr(ck, SR_E_WRONG_TYPE, list[i]->mark, "'%s' must list field names, not %s",
                     p->name, sr_ydesc(list[i], got, sizeof(got)));
                rc = -1;
                continue;
            }
            v->marks[v->n] = list[i]->mark;
            v->len[v->n] = strlen(list[i]->text);
            v->v[v->n++] = sr_xstrdup(list[i]->text);
        }
        if (count == 0) {
            cerr(ck, SR_E_WRONG_TYPE, n->mark, "'%s' must list at least one field", p->name);
            rc = -1;
        }
        return rc;
    }
    case SR_P_TOPIC: return parse_topic(p, n, AT(conf, p->off, sr_topic *), ck);
    case SR_P_AGGS:
        if ((n->kind == SR_Y_MAP && n->nkids == 0) || n->kind == SR_Y_SEQ || sr_yis_null(n))
            return wrong(ck, p, n);
        *AT(conf, p->off, const sr_ynode *) = n;
        return 0;
    case SR_P_EXPRMAP:
    case SR_P_STRMAP: {
        if (n->kind != SR_Y_MAP || n->nkids == 0) {
            char want[64];
            cerr(ck, SR_E_WRONG_TYPE, n->mark, "'%s' must be %s, not %s", p->name,
                 ptype_desc(p, want, sizeof(want)),
                 n->kind == SR_Y_MAP ? "an empty mapping" : sr_ydesc(n, got, sizeof(got)));
            return -1;
        }
        int count = n->nkids / 2, rc = 0;
        char **names = sr_xcalloc((size_t)count, sizeof(char *));
        void **vals = sr_xcalloc((size_t)count, sizeof(void *));
        int k = 0;
        for (int i = 0; i < count; i++) {
            const sr_ynode *key = n->kids[2 * i], *val = n->kids[2 * i + 1];
            if (!is_name(key)) {
                cerr(ck, SR_E_WRONG_TYPE, key->mark, "'%s': a key must be a %s name, not %s",
                     p->name, p->type == SR_P_EXPRMAP ? "field" : "plain",
                     sr_ydesc(key, got, sizeof(got)));
                rc = -1;
                continue;
            }
            if (p->type == SR_P_EXPRMAP) {
                sr_expr *e = sr_reported_in(ck, val) ? NULL : sr_expr_compile(val, ck);
                if (!e) {
                    rc = -1;
                    continue;
                }
                /* later entries see earlier ones */
                sr_schema_put(&ck->schema, key->text, sr_expr_type(e), NULL);
                vals[k] = e;
            } else {
                if (!sr_yis_scalar(val) || sr_yis_null(val)) {
                    cerr(ck, SR_E_WRONG_TYPE, val->mark,
                         "'%s': the value of '%s' must be a single value (text or a number), "
                         "not %s",
                         p->name, key->text, sr_ydesc(val, got, sizeof(got)));
                    rc = -1;
                    continue;
                }
                vals[k] = sr_xstrdup(val->text);
            }
            names[k++] = sr_xstrdup(key->text);
        }
        if (p->type == SR_P_EXPRMAP) {
            sr_exprmap *m = AT(conf, p->off, sr_exprmap);
            m->names = names;
            m->len = sr_xcalloc((size_t)k + 1, sizeof(size_t));
            for (int i = 0; i < k; i++) m->len[i] = strlen(names[i]);
            m->exprs = (sr_expr **)vals;
            m->n = k;
        } else {
            sr_strmap *m = AT(conf, p->off, sr_strmap);
            m->names = names;
            m->vals = (char **)vals;
            m->n = k;
        }
        return rc;
    }
    case SR_P_LIST: {
        if (n->kind != SR_Y_SEQ || n->nkids == 0) {
            cerr(ck, SR_E_WRONG_TYPE, n->mark, "'%s' must be a non-empty list, not %s", p->name,
                 n->kind == SR_Y_SEQ ? "an empty list" : sr_ydesc(n, got, sizeof(got)));
            return -1;
        }
        sr_list *l = AT(conf, p->off, sr_list);
        l->items = sr_xcalloc((size_t)n->nkids, p->sub_size);
        l->marks = sr_xcalloc((size_t)n->nkids, sizeof(sr_mark));
        l->n = n->nkids;
        int rc = 0;
        const char *outer = ck->what;
        for (int i = 0; i < n->nkids; i++) {
            void *item = (char *)l->items + (size_t)i * p->sub_size;
            char what[160];
            snprintf(what, sizeof(what), "%s%sitem %d of '%s'", outer ? outer : "",
                     outer ? ", " : "", i + 1, p->name);
            l->marks[i] = n->kids[i]->mark;
            if (sr_params_parse(p->sub, n->kids[i], item, ck, what)) rc = -1;
        }
        ck->what = outer;
        return rc;
    }
    }
    return -1;
}

static int parse_topic(const sr_param *p, const sr_ynode *n, sr_topic **out, sr_check *ck)
{
    if (!is_name(n)) return wrong(ck, p, n);
    sr_topic *t = sr_topology_topic(ck->topo, n->text);
    if (!t) {
        /* an unset ${VAR} or a broken topics section is already reported: one error is enough */
        if (sr_reported_in(ck, n) || ck->no_topics) return -1;
        const char *cands[256];
        int nc = 0;
        for (int i = 0; i < ck->topo->ntopics && nc < 256; i++)
            cands[nc++] = ck->topo->topics[i]->name;
        const char *sug = sr_suggest(n->text, cands, nc);
        char got[64];
        sr_ydesc(n, got, sizeof(got));
        if (sug)
            sr_errc(ck->dg, SR_E_UNKNOWN_TOPIC, ck->file, n->mark,
                    "unknown topic %s; did you mean '%s'?", got, sug);
        else
            sr_errc(ck->dg, SR_E_UNKNOWN_TOPIC, ck->file, n->mark,
                    "unknown topic %s (declare it under 'topics:')", got);
        if (sug)
            sr_diag_help_rewrite(ck->dg, ck->file, n->mark, n->text, sug, "correct the topic name");
        else if (sr_yis_scalar(n) && !sr_yis_null(n))
            sr_diag_help(ck->dg, "declare it under 'topics:':\n  - name: %s", n->text);
        return -1;
    }
    *out = t;
    return 0;
}

static bool param_set_default(const sr_param *p, void *conf)
{
    if (!p->def) return false;
    switch (p->type) {
    case SR_P_STR:
    case SR_P_FIELD: *AT(conf, p->off, char *) = sr_xstrdup(p->def); return true;
    case SR_P_INT: *AT(conf, p->off, int64_t) = strtoll(p->def, NULL, 10); return true;
    case SR_P_NUM: *AT(conf, p->off, double) = strtod(p->def, NULL); return true;
    case SR_P_BOOL: *AT(conf, p->off, bool) = strcmp(p->def, "true") == 0; return true;
    case SR_P_ENUM: {
        const char *c = p->choices;
        int i = 0;
        size_t dl = strlen(p->def);
        while (c) {
            if (strncmp(c, p->def, dl) == 0 && (c[dl] == '|' || c[dl] == 0)) break;
            c = strchr(c, '|');
            if (c) c++;
            i++;
        }
        *AT(conf, p->off, int) = c ? i : 0;
        return true;
    }
    case SR_P_DURATION: return sr_parse_duration(p->def, AT(conf, p->off, int64_t));
    default: return false;
    }
}

int sr_params_parse(const sr_param *params, const sr_ynode *map, void *conf, sr_check *ck,
                    const char *what)
{
    const char *outer = ck->what;
    ck->what = what;
    char got[64];
    if (!map || map->kind != SR_Y_MAP) {
        sr_mark m = {0, 0, 0};
        if (map) m = map->mark;
        cerr(ck, SR_E_WRONG_TYPE, m, "expected a mapping of settings, not %s",
             sr_ydesc(map, got, sizeof(got)));
        ck->what = outer;
        return -1;
    }
    int rc = 0;
    const char *names[64];
    int nn = 0;
    for (const sr_param *p = params; p->name; p++) names[nn++] = p->name;
    /* what misspelt keys were meant to be: a required key is then not reported missing too */
    const char *meant[64];
    int nmeant = 0;
    /* unknown keys first, in file order */
    for (int i = 0; i < map->nkids; i += 2) {
        const sr_ynode *k = map->kids[i];
        bool known = false;
        for (int j = 0; j < nn; j++) known |= sr_yis_scalar(k) && strcmp(k->text, names[j]) == 0;
        if (known) continue;
        const char *sug = sr_yis_scalar(k) ? sr_suggest(k->text, names, nn) : NULL;
        char list[300] = "";
        size_t ll = 0;
        for (int j = 0; j < nn && ll < sizeof(list) - 40; j++)
            ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s", j ? ", " : "", names[j]);
        if (sug && !sr_ymap_get(map, sug)) {
            cerr(ck, SR_E_UNKNOWN_KEY, k->mark, "unknown key %s; did you mean '%s'?",
                 sr_ydesc(k, got, sizeof(got)), sug);
            sr_diag_help_rewrite(ck->dg, ck->file, k->mark, k->text, sug, "correct the key");
            if (nmeant < 64) meant[nmeant++] = sug;
        } else {
            cerr(ck, SR_E_UNKNOWN_KEY, k->mark, "unknown key %s (expected%s%s)",
                 sr_ydesc(k, got, sizeof(got)), nn > 1 ? " one of: " : ": ", list);
        }
        rc = -1;
    }
    /* then each parameter in table order, so expressions see earlier settings */
    for (const sr_param *p = params; p->name; p++) {
        const sr_ynode *v = sr_ymap_get(map, p->name);
        /* `missing: null` means the choice "null" where there is one, not the default */
        bool null_choice = v && sr_yis_null(v) && v->len && p->type == SR_P_ENUM &&
                           strstr(p->choices, "null") != NULL;
        if (!v || (sr_yis_null(v) && !null_choice)) {
            if (param_set_default(p, conf)) continue;
            bool misspelt = false;
            for (int j = 0; j < nmeant; j++) misspelt |= meant[j] == p->name;
            if ((p->flags & SR_PF_REQUIRED) && !misspelt) {
                cerr(ck, SR_E_MISSING_KEY, map->mark, "missing required key '%s' (%s)", p->name,
                     p->doc);
                char val[64];
                sr_help_add_key(ck, map, p->name, placeholder(p, val, sizeof(val)));
                rc = -1;
            }
            continue;
        }
        ck->what = what;
        if (sr_param_parse_one(p, v, conf, ck)) rc = -1;
    }
    ck->what = outer;
    return rc;
}

void sr_params_free(const sr_param *params, void *conf)
{
    if (!conf) return;
    for (const sr_param *p = params; p->name; p++) {
        switch (p->type) {
        case SR_P_STR:
        case SR_P_FIELD: free(*AT(conf, p->off, char *)); break;
        case SR_P_EXPR: sr_expr_free(*AT(conf, p->off, sr_expr *)); break;
        case SR_P_FIELDS: {
            sr_strv *v = AT(conf, p->off, sr_strv);
            for (int i = 0; i < v->n; i++) free(v->v[i]);
            free(v->v);
            free(v->len);
            free(v->marks);
            break;
        }
        case SR_P_EXPRMAP: {
            sr_exprmap *m = AT(conf, p->off, sr_exprmap);
            for (int i = 0; i < m->n; i++) {
                free(m->names[i]);
                sr_expr_free(m->exprs[i]);
            }
            free(m->names);
            free(m->len);
            free(m->exprs);
            break;
        }
        case SR_P_STRMAP: {
            sr_strmap *m = AT(conf, p->off, sr_strmap);
            for (int i = 0; i < m->n; i++) {
                free(m->names[i]);
                free(m->vals[i]);
            }
            free(m->names);
            free(m->vals);
            break;
        }
        case SR_P_LIST: {
            sr_list *l = AT(conf, p->off, sr_list);
            for (int i = 0; i < l->n; i++)
                sr_params_free(p->sub, (char *)l->items + (size_t)i * p->sub_size);
            free(l->items);
            free(l->marks);
            break;
        }
        default: break;
        }
    }
}
