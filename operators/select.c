/* select.c — keeps only the listed fields, in the listed order. */
#include "load/expr.h"
#include "load/ynode.h"

#include <stdlib.h>
#include <string.h>

struct select {
    sr_strv fields;
    int missing;   /* 0 error, 1 null, 2 skip */
    bool distinct; /* no field listed twice (set by select_check): members are appended */
};

static const sr_param select_params[] = {
    {SR_P_FIELDS, "fields", NULL, offsetof(struct select, fields), "fields to keep, in order",
     SR_PF_REQUIRED},
    {SR_P_ENUM, "missing", "error", offsetof(struct select, missing),
     "a listed field the record lacks: error (dead-letter), null, or skip", 0, "error|null|skip"},
    {0}};

/* Whether the field written at m was quoted (a name with a comma in quotes is meant). */
static bool quoted_at(const sr_check *ck, sr_mark m)
{
    const sr_srcfile *f = ck->file;
    if (!f || m.line < 1 || m.col < 1) return false;
    const char *t = f->text, *end = f->text + f->len;
    for (int l = 1; l < m.line && t < end; l++) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        t = nl ? nl + 1 : end;
    }
    t += m.col - 1;
    return t < end && (*t == '"' || *t == '\'');
}

/* `select: a, b, c` reads as one field named "a, b, c": reported with the list it means,
 * [a, b, c], which then stands for it so that later steps are checked against those fields.
 * Returns -1 when one was reported. */
static int split_joined(struct select *s, sr_check *ck)
{
    int rc = 0;
    for (int i = 0; i < s->fields.n; i++) {
        if (!memchr(s->fields.v[i], ',', s->fields.len[i]) || quoted_at(ck, s->fields.marks[i]))
            continue;
        sr_strv *f = &s->fields;
        sr_strv parts = {0};
        const char *p = f->v[i];
        int n = 1;
        for (const char *c = p; *c; c++) n += *c == ',';
        parts.v = sr_xcalloc((size_t)n, sizeof(*parts.v));
        sr_buf list = {0};
        sr_buf_putc(&list, '[');
        while (*p) {
            const char *e = strchr(p, ',');
            if (!e) e = p + strlen(p);
            const char *a = p, *b = e;
            while (a < b && *a == ' ') a++;
            while (b > a && b[-1] == ' ') b--;
            if (b > a) {
                parts.v[parts.n] = sr_xstrndup(a, (size_t)(b - a));
                sr_buf_printf(&list, "%s%.*s", parts.n ? ", " : "", (int)(b - a), a);
                parts.n++;
            }
            p = *e ? e + 1 : e;
        }
        sr_buf_putc(&list, ']');
        sr_errc(ck->dg, SR_E_LIST_AS_STRING, ck->file, f->marks[i],
                "'%s' is one field name with commas in it; a list of fields is written in "
                "brackets",
                f->v[i]);
        char *line = sr_yline_replace(ck->file, f->marks[i], sr_buf_cstr(&list));
        if (line) sr_diag_help(ck->dg, "write a list:\n%s", line);
        free(line);
        sr_buf_free(&list);
        rc = -1;
        /* the parts replace the name in the list */
        int total = f->n - 1 + parts.n;
        char **v = sr_xcalloc((size_t)total + 1, sizeof(*v));
        size_t *len = sr_xcalloc((size_t)total + 1, sizeof(*len));
        sr_mark *marks = sr_xcalloc((size_t)total + 1, sizeof(*marks));
        int k = 0;
        for (int j = 0; j < f->n; j++) {
            if (j != i) {
                v[k] = f->v[j], len[k] = f->len[j], marks[k++] = f->marks[j];
                continue;
            }
            for (int q = 0; q < parts.n; q++)
                v[k] = parts.v[q], len[k] = strlen(parts.v[q]), marks[k++] = f->marks[j];
        }
        free(f->v[i]);
        free(f->v);
        free(f->len);
        free(f->marks);
        free(parts.v);
        f->v = v, f->len = len, f->marks = marks, f->n = total;
        i += parts.n - 1;
    }
    return rc;
}

static int select_check(sr_op *op, void *conf, sr_check *ck)
{
    struct select *s = conf;
    int rc = split_joined(s, ck);
    if (ck->schema.closed && s->missing == 0) {
        for (int i = 0; i < s->fields.n; i++) {
            if (sr_schema_has(&ck->schema, s->fields.v[i])) continue;
            sr_no_field(ck, s->fields.marks[i], s->fields.v[i]);
            rc = -1;
        }
    }
    s->distinct = s->fields.n <= 64; /* a longer list is looked through as it is built */
    for (int i = 0; s->distinct && i < s->fields.n; i++)
        for (int j = 0; j < i; j++)
            if (s->fields.len[i] == s->fields.len[j] &&
                memcmp(s->fields.v[i], s->fields.v[j], s->fields.len[i]) == 0)
                s->distinct = false;
    sr_schema_keep(&ck->schema, s->fields.v, s->fields.n, "select", ck->file, op->mark);
    return rc;
}

static int select_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct select *s = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    sr_value out = sr_obj_new(sr_task_arena(t), (uint32_t)s->fields.n);
    for (int i = 0; i < s->fields.n; i++) {
        const char *name = s->fields.v[i];
        size_t len = s->fields.len[i];
        sr_value *v = sr_obj_get(&r->value, name, len);
        if (!v) {
            if (s->missing == 0) return sr_task_fail(t, op, "field '%s' is missing", name);
            if (s->missing == 2) continue;
            sr_obj_set(sr_task_arena(t), &out, name, len, sr_null());
            continue;
        }
        if (s->distinct)
            sr_obj_append(sr_task_arena(t), &out, name, len, *v);
        else
            sr_obj_set(sr_task_arena(t), &out, name, len, *v);
    }
    r->value = out;
    return sr_emit(t, op, r);
}

const sr_operator_type sr_op_select = {
    .name = "select",
    .summary = "keep only the listed fields, in that order",
    .example = "- select: [time, accelerometer-x, accelerometer-y, accelerometer-z]",
    .params = select_params,
    .primary = "fields",
    .conf_size = sizeof(struct select),
    .flags = SR_OP_PRIMARY_LIST,
    .check = select_check,
    .process = select_process,
};
