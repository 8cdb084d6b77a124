/* lookup.c — adds to each record what a table holds under the record's key (a stream–table
 * lookup, inner or left). */
#include "stateful.h"
#include "load/table.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lookup {
    char *table;
    sr_expr *key;
    sr_strmap fields;
    char *as;
    int type;      /* 0 inner, 1 left */
    int64_t as_of; /* ms, 0: not an as-of lookup */
    int unmatched; /* 0 count, 1 dead-letter */
    /* made by check() */
    const sr_table *tb;
    size_t *name_len, *field_len; /* of fields.names[i], fields.vals[i] */
    size_t as_len;
    char *store_name; /* co-partitioned topic tables: the step's store (the table) */
    /* records that found no row, over every task of the process: shared, hence atomic
     * (relaxed: a count for the summary, it guards nothing) */
    atomic_uint_least64_t *nunmatched;
};

static const sr_param lookup_params[] = {
    {SR_P_STR, "table", NULL, offsetof(struct lookup, table),
     "the table to look up (declared under tables:)", SR_PF_REQUIRED},
    {SR_P_EXPR, "key", NULL, offsetof(struct lookup, key),
     "the lookup key (default: the record key); compared as text with the table's keys"},
    {SR_P_STRMAP, "fields", NULL, offsetof(struct lookup, fields),
     "new field name: table field (a missing table field gives null)"},
    {SR_P_FIELD, "as", NULL, offsetof(struct lookup, as),
     "instead of fields: the whole table row under this field"},
    {SR_P_ENUM, "type", "inner", offsetof(struct lookup, type),
     "inner: a record with no match does not go on; left: it goes on with null fields", 0,
     "inner|left"},
    {SR_P_DURATION, "asOf", NULL, offsetof(struct lookup, as_of),
     "as-of lookup: the latest version at or before the record's event time, at most this much "
     "older (needs history: on a topic table)"},
    {SR_P_ENUM, "unmatched", "count", offsetof(struct lookup, unmatched),
     "inner lookups: a record with no match is counted (in the run summary) and dropped, or "
     "dead-lettered with reason 'no match (lookup step N): table T has no key K'",
     0, "count|dead-letter"},
    {0}};

/* The mark of the value of fields[i] (table field), or of the setting. */
static sr_mark field_mark(const sr_op *op, int i)
{
    const sr_ynode *f =
        op->settings && op->settings->kind == SR_Y_MAP ? sr_ymap_get(op->settings, "fields") : NULL;
    if (f && f->kind == SR_Y_MAP && 2 * i + 1 < f->nkids) return f->kids[2 * i + 1]->mark;
    return sr_setting_mark(op, "fields");
}

/* A co-partitioned topic table: the deployment's task for partition p holds the table's partition
 * p, so the stream's record with key k must be in partition p of its topic exactly when the
 * table's record with key k is in partition p of the table's: the same partition count, the
 * same partitioner, and the record key as the lookup key. */
static int copartitioned_check(const sr_op *op, const struct lookup *lk, const sr_table *tb,
                               sr_check *ck)
{
    int rc = 0;
    const sr_deployment *d = ck->dep;
    sr_mark m = sr_setting_mark(op, "table");
    if (d->source) {
        sr_errc(ck->dg, SR_E_COPARTITIONED_TABLE, ck->file, m,
                "%s: table '%s' is co-partitioned (the task of each partition of '%s' holds that "
                "partition's part of it), and this deployment reads a source file, which has no "
                "partitions; make the table global (global: true), or read the records from a "
                "topic",
                op->label, tb->name, tb->topic->name);
        return -1;
    }
    /* after a re-key the records come through a repartition topic, whose partition count the
     * loader checks against the table's when it splits the deployment (topology.c) */
    bool rekeyed = false;
    for (const sr_op *o = d->ops; d->ops && o < op; o++) rekeyed |= o->type && o->type->rekey;
    for (int i = 0; i < d->ninputs; i++) {
        const sr_topic *in = d->inputs[i];
        if (in == tb->topic) {
            sr_errc(ck->dg, SR_E_COPARTITIONED_TABLE, ck->file, m,
                    "%s: the topic of table '%s', '%s', is an input of this deployment too; its "
                    "records update the table and do not go through the pipeline: remove it from "
                    "'input'",
                    op->label, tb->name, in->name);
            rc = -1;
        } else if (!rekeyed && in->partitions != tb->topic->partitions) {
            sr_errc(ck->dg, SR_E_PARTITIONS, ck->file, m,
                    "%s: table '%s' is co-partitioned with the records that look it up, but its "
                    "topic '%s' has %d partition%s and input '%s' has %d: a key's table value and "
                    "its records would be in different partitions, seen by different tasks. Give "
                    "both topics the same partition count, or make the table global (global: "
                    "true: every instance reads all of it)",
                    op->label, tb->name, tb->topic->name, tb->topic->partitions,
                    tb->topic->partitions == 1 ? "" : "s", in->name, in->partitions);
            sr_diag_related(ck->dg, tb->topic->file, tb->topic->partitions_mark,
                            "'%s' has %d partition%s, declared here", tb->topic->name,
                            tb->topic->partitions, tb->topic->partitions == 1 ? "" : "s");
            sr_diag_related(ck->dg, in->file, in->partitions_mark,
                            "'%s' has %d partition%s, declared here", in->name, in->partitions,
                            in->partitions == 1 ? "" : "s");
            rc = -1;
        }
    }
    if (lk->key && strcmp(sr_expr_text(lk->key), "$key") != 0) {
        sr_errc(ck->dg, SR_E_COPARTITIONED_TABLE, ck->file, sr_setting_mark(op, "key"),
                "%s: table '%s' is co-partitioned, so it is looked up by the record key (the "
                "key that placed the record in its partition), not by '%s'. Re-key the records "
                "first (a 'key: %s' step before the lookup), or make the table global (global: "
                "true), which any key can look up",
                op->label, tb->name, sr_expr_text(lk->key), sr_expr_text(lk->key));
        rc = -1;
    }
    return rc;
}

static int lookup_check(sr_op *op, void *conf, sr_check *ck)
{
    struct lookup *lk = conf;
    int rc = 0;
    lk->nunmatched = sr_xcalloc(1, sizeof(*lk->nunmatched));
    const sr_table *tb = sr_topology_table(ck->topo, lk->table);
    if (!tb) {
        const char **names = sr_xcalloc((size_t)ck->topo->ntables + 1, sizeof(char *));
        int n = 0;
        for (int i = 0; i < ck->topo->ntables; i++)
            if (ck->topo->tables[i]->name) names[n++] = ck->topo->tables[i]->name;
        const char *sug = sr_suggest(lk->table, names, n);
        if (sug)
            sr_errc(ck->dg, SR_E_UNKNOWN_TABLE, ck->file, sr_setting_mark(op, "table"),
                    "%s: unknown table '%s'; did you mean '%s'?", op->label, lk->table, sug);
        else
            sr_errc(ck->dg, SR_E_UNKNOWN_TABLE, ck->file, sr_setting_mark(op, "table"),
                    "%s: unknown table '%s' (declare it under 'tables:')", op->label, lk->table);
        if (sug)
            sr_diag_help_rewrite(ck->dg, ck->file, sr_setting_mark(op, "table"), lk->table, sug,
                                 "correct the table name");
        free(names);
        rc = -1;
    }
    lk->tb = tb;
    bool has_fields = lk->fields.n > 0, has_as = lk->as != NULL;
    if (has_fields && has_as) {
        sr_errc(ck->dg, SR_E_CONFLICT, ck->file, sr_setting_mark(op, "as"),
                "%s: give either 'fields' (some table fields) or 'as' (the whole row), not both",
                op->label);
        rc = -1;
    } else if (!has_fields && !has_as) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, op->mark,
                "%s: say what to add: 'fields: {population: population}' (new field: table "
                "field) or 'as: NAME' (the whole row)",
                op->label);
        rc = -1;
    }
    if (lk->type == 1 && sr_ymap_get(op->settings, "unmatched")) {
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, "unmatched"),
                "%s: 'unmatched' is for inner lookups: a left lookup passes a record with no match "
                "on, with null fields",
                op->label);
        rc = -1;
    }
    if (sr_ymap_get(op->settings, "asOf")) {
        if (tb && (!tb->topic || tb->history <= 0)) {
            sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, sr_setting_mark(op, "asOf"),
                    "%s: 'asOf' needs a topic table that keeps versions ('history:' on table "
                    "'%s')",
                    op->label, tb->name);
            rc = -1;
        } else if (lk->as_of < 1) {
            sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, sr_setting_mark(op, "asOf"),
                    "%s: 'asOf' must be at least 1ms", op->label);
            rc = -1;
        }
    }
    if (tb && tb->topic && !tb->global) {
        if (copartitioned_check(op, lk, tb, ck) != 0) rc = -1;
        lk->store_name = sr_store_name_claim(op, ck, NULL, sr_setting_mark(op, "table"));
        if (!lk->store_name) rc = -1;
    }
    /* the table fields named must be columns of a CSV table */
    if (tb && tb->nfields >= 0) {
        for (int i = 0; i < lk->fields.n; i++) {
            bool found = false;
            for (int j = 0; j < tb->nfields && !found; j++)
                found = strcmp(tb->fields[j], lk->fields.vals[i]) == 0;
            if (found) continue;
            const char *sug =
                sr_suggest(lk->fields.vals[i], (const char *const *)tb->fields, tb->nfields);
            char list[300] = "";
            size_t ll = 0;
            for (int j = 0; j < tb->nfields && ll < sizeof(list) - 40; j++)
                ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s", j ? ", " : "",
                                       tb->fields[j]);
            if (sug)
                sr_errc(ck->dg, SR_E_UNKNOWN_FIELD, ck->file, field_mark(op, i),
                        "%s: table '%s' has no field '%s'; did you mean '%s'?", op->label, tb->name,
                        lk->fields.vals[i], sug);
            else
                sr_errc(ck->dg, SR_E_UNKNOWN_FIELD, ck->file, field_mark(op, i),
                        "%s: table '%s' has no field '%s' (its fields: %s)", op->label, tb->name,
                        lk->fields.vals[i], list);
            if (sug)
                sr_diag_help_rewrite(ck->dg, ck->file, field_mark(op, i), lk->fields.vals[i], sug,
                                     "correct the field name");
            rc = -1;
        }
    }
    lk->name_len = sr_xcalloc((size_t)lk->fields.n + 1, sizeof(size_t));
    lk->field_len = sr_xcalloc((size_t)lk->fields.n + 1, sizeof(size_t));
    for (int i = 0; i < lk->fields.n; i++) {
        lk->name_len[i] = strlen(lk->fields.names[i]);
        lk->field_len[i] = strlen(lk->fields.vals[i]);
        sr_schema_put(&ck->schema, lk->fields.names[i], SR_T_ANY, NULL); /* the table's */
    }
    if (lk->as) {
        lk->as_len = strlen(lk->as);
        sr_schema_put(&ck->schema, lk->as, SR_T_OBJ, NULL);
    }
    return rc;
}

/* The lookup key of r as text into *key; false when r has none (a null or missing key). */
static int lookup_key(sr_task *t, const sr_op *op, sr_record *r, sr_value *key, bool *has)
{
    const struct lookup *lk = op->conf;
    sr_value k = r->key;
    if (lk->key && sr_expr_eval(lk->key, t, op, r, &k)) return -1;
    *has = k.type != SR_NULL && k.type != SR_MISSING;
    if (*has) *key = sr_value_to_str(sr_task_arena(t), &k);
    return 0;
}

/* Adds the fields (or the row under `as`) of row to r; row NULL: nulls (a left lookup). */
static void add_row(sr_task *t, const struct lookup *lk, sr_record *r, const sr_value *row)
{
    sr_arena *a = sr_task_arena(t);
    if (lk->as) {
        sr_obj_set(a, &r->value, lk->as, lk->as_len, row ? *row : sr_null());
        return;
    }
    for (int i = 0; i < lk->fields.n; i++) {
        const sr_value *v = row && row->type == SR_OBJ
                                ? sr_obj_get(row, lk->fields.vals[i], lk->field_len[i])
                                : NULL;
        sr_obj_set(a, &r->value, lk->fields.names[i], lk->name_len[i], v ? *v : sr_null());
    }
}

/* ---- co-partitioned topic tables: per task, in the step's store ------------------------------
 * The store maps a record key (its bytes) to the latest value of the table's topic under that key
 * (its JSON text, as received). */

struct lookup_state {
    sr_store *store; /* NULL for a file table */
    sr_buf versions; /* a table with history: the key's versions being rewritten */
};

static void lookup_open(sr_task *t, const sr_op *op, void *state)
{
    const struct lookup *lk = op->conf;
    struct lookup_state *st = state;
    if (lk->store_name) st->store = sr_state_store_open(t, op, lk->store_name);
}

static void lookup_close(sr_task *t, const sr_op *op, void *state)
{
    struct lookup_state *st = state;
    sr_store_destroy(st->store);
    sr_buf_free(&st->versions);
    (void)t, (void)op;
}

static const char *lookup_store_name(const sr_op *op)
{
    const struct lookup *lk = op->conf;
    return lk->store_name;
}

static const sr_topic *lookup_table_topic(const sr_op *op)
{
    const struct lookup *lk = op->conf;
    return lk->store_name && lk->tb ? lk->tb->topic : NULL;
}

/* The store's bytes are a table's values by record key: the table's name says whose. */
static void lookup_state_format(const sr_op *op, sr_buf *b)
{
    const struct lookup *lk = op->conf;
    sr_buf_printf(b, "table=%s", lk->table);
    if (lk->tb && lk->tb->history > 0) /* versions by timestamp, not the latest value */
        sr_buf_printf(b, " history=%lld", (long long)lk->tb->history);
}

/* A null value (a tombstone, or the JSON value null) deletes the key; anything else must be JSON,
 * and becomes the key's value. */
static int lookup_table_update(sr_task *t, const sr_op *op, void *state, const sr_origin *o)
{
    const struct lookup *lk = op->conf;
    struct lookup_state *st = state;
    if (!o->key)
        return sr_task_fail(t, op,
                            "a record of table '%s' (topic '%s') has no key: a table keeps the "
                            "latest value per record key",
                            lk->table, o->topic);
    sr_value v = sr_null();
    if (!o->tombstone) {
        char err[160];
        size_t pos = 0;
        if (sr_json_parse(sr_task_arena(t), o->raw, o->rawlen, &v, err, sizeof(err), &pos) != 0)
            return sr_task_fail(t, op, "a record of table '%s': invalid JSON at byte %zu: %s",
                                lk->table, pos + 1, err);
    }
    char err[256];
    if (lk->tb->history > 0) { /* the key's versions, with this one at the record's time */
        size_t oldlen = 0;
        const char *old = sr_store_get(st->store, o->key, o->keylen, &oldlen);
        sr_versions_put(&st->versions, old, oldlen, o->ts, v.type == SR_NULL ? NULL : o->raw,
                        o->rawlen, lk->tb->history);
        int rc = st->versions.len
                     ? sr_store_put(st->store, o->key, o->keylen, st->versions.d, st->versions.len,
                                    err, sizeof(err))
                     : sr_store_delete(st->store, o->key, o->keylen, err, sizeof(err)) < 0;
        return rc ? sr_task_fail(t, op, "%s", err) : 0;
    }
    if (v.type == SR_NULL) {
        if (sr_store_delete(st->store, o->key, o->keylen, err, sizeof(err)) < 0)
            return sr_task_fail(t, op, "%s", err);
        return 0;
    }
    if (sr_store_put(st->store, o->key, o->keylen, o->raw, o->rawlen, err, sizeof(err)) != 0)
        return sr_task_fail(t, op, "%s", err);
    return 0;
}

/* The row of key in the table of a topic, parsed into the task's arena, or NULL: from the task's
 * store (a co-partitioned table), or the process's copy (a global table). */
static int topic_row(sr_task *t, const sr_op *op, const sr_value *key, int64_t at,
                     const sr_value **row)
{
    const struct lookup *lk = op->conf;
    struct lookup_state *st = sr_op_state(t, op);
    sr_arena *a = sr_task_arena(t);
    *row = NULL;
    size_t vlen;
    const char *copy;
    if (lk->tb->live) {
        if (!sr_gtable_get(lk->tb->live, a, key->u.s, key->len, &copy, &vlen)) return 0;
    } else {
        const char *val = sr_store_get(st->store, key->u.s, key->len, &vlen);
        if (!val) return 0;
        copy = sr_arena_strndup(a, val, vlen); /* the row outlives no store change */
    }
    if (lk->tb->history > 0 && /* the version of the record's time, or the newest */
        !sr_versions_find(copy, vlen, lk->as_of ? at : INT64_MAX, lk->as_of, &copy, &vlen))
        return 0;
    sr_value *v = sr_arena_alloc(a, sizeof(*v));
    char err[160];
    size_t pos = 0;
    if (sr_json_parse(a, copy, vlen, v, err, sizeof(err), &pos) != 0)
        return sr_task_fail(t, op, "table '%s': the stored value is not JSON (%s)",
                            ((const struct lookup *)op->conf)->table, err);
    *row = v;
    return 0;
}

static int lookup_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct lookup *lk = op->conf;
    if (sr_need_object(t, op, r)) return -1;
    sr_value key;
    bool has;
    if (lookup_key(t, op, r, &key, &has)) return -1;
    const sr_value *row = NULL;
    if (has && lk->tb->topic) {
        if (topic_row(t, op, &key, r->ts, &row)) return -1;
    } else if (has) {
        row = sr_table_get(lk->tb, key.u.s, key.len);
    }
    if (!row && lk->type == 0) {
        atomic_fetch_add_explicit(lk->nunmatched, 1, memory_order_relaxed);
        if (lk->unmatched == 0) return 0; /* counted: the summary reports it */
        if (!has)
            return sr_task_fail(t, op,
                                "no match (lookup step %d): the record has no key to look "
                                "up in table '%s'",
                                op->index, lk->tb->name);
        int klen = (int)(key.len < 200 ? key.len : 200);
        if (lk->as_of)
            return sr_task_fail(t, op,
                                "no match (lookup step %d): table '%s' has no version of key "
                                "'%.*s' from %lld ms before the record's time %lld to it",
                                op->index, lk->tb->name, klen, key.u.s, (long long)lk->as_of,
                                (long long)r->ts);
        return sr_task_fail(t, op, "no match (lookup step %d): table '%s' has no key '%.*s'",
                            op->index, lk->tb->name, klen, key.u.s);
    }
    add_row(t, lk, r, row);
    return sr_emit(t, op, r);
}

static void lookup_report(const sr_op *op, sr_buf *b)
{
    const struct lookup *lk = op->conf;
    uint64_t n = atomic_load_explicit(lk->nunmatched, memory_order_relaxed);
    if (n || lk->type == 0)
        sr_buf_printf(b, "%llu unmatched (lookup step %d, table %s)", (unsigned long long)n,
                      op->index, lk->table);
}

static void lookup_destroy(void *conf)
{
    struct lookup *lk = conf;
    free(lk->nunmatched);
    free(lk->name_len);
    free(lk->field_len);
    free(lk->store_name);
}

const sr_operator_type sr_op_lookup = {
    .name = "lookup",
    .summary = "add to each record what a table holds under its key (a stream-table lookup, inner "
               "or left)",
    .example = "- lookup: {table: populations, key: state, fields: {population: population}, "
               "type: left}",
    .params = lookup_params,
    .primary = "table",
    .conf_size = sizeof(struct lookup),
    .state_size = sizeof(struct lookup_state),
    .check = lookup_check,
    .open = lookup_open,
    .close = lookup_close,
    .process = lookup_process,
    .state_format = lookup_state_format,
    .store_name = lookup_store_name,
    .table_topic = lookup_table_topic,
    .table_update = lookup_table_update,
    .report = lookup_report,
    .destroy = lookup_destroy,
};
