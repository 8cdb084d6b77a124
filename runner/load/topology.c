/* topology.c — loading and checking a topology file into topics, deployments and operator chains.
 */
#include "load/topology.h"
#include "load/compat.h"
#include "load/expr.h"
#include "load/shape.h"
#include "kafka/kafka.h"
#include "load/table.h"
#include "load/topic_config.h"

#include <assert.h>
#include <ctype.h>
#include <libgen.h>
#include <search.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const top_keys[] = {"metadata", "topics", "tables", "deployments",
                                       "kafka",    "broker", "tests",  NULL};
static const char *const meta_keys[] = {"name", "version", "description", NULL};
static const char *const topic_keys[] = {
    "name", "partitions", "replicationFactor", "config", "description", "shape", NULL};
static const char *const dep_keys[] = {
    "name",   "description", "input",    "output",     "consumerGroup", "deadLetter", "pipeline",
    "source", "kafka",       "replicas", "processing", "migrations",    NULL};
static const char *const source_keys[] = {"file", "format",  "key",    "timestamp",
                                          "rate", "columns", "header", NULL};

static int count_keys(const char *const *keys)
{
    int n = 0;
    while (keys[n]) n++;
    return n;
}

/* Reports keys of map that are not in keys[]. */
static int check_keys(sr_check *ck, const sr_ynode *map, const char *const *keys, const char *what)
{
    int rc = 0, nk = count_keys(keys);
    for (int i = 0; i < map->nkids; i += 2) {
        const sr_ynode *k = map->kids[i];
        bool ok = false;
        for (int j = 0; j < nk && sr_yis_scalar(k); j++) ok |= strcmp(k->text, keys[j]) == 0;
        if (ok) continue;
        const char *sug = sr_yis_scalar(k) ? sr_suggest(k->text, keys, nk) : NULL;
        if (sug && sr_ymap_get(map, sug)) sug = NULL; /* not a misspelling of a key given too */
        char list[300] = "";
        size_t ll = 0;
        for (int j = 0; j < nk && ll < sizeof(list) - 40; j++)
            ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s", j ? ", " : "", keys[j]);
        if (sug)
            sr_errc(ck->dg, SR_E_UNKNOWN_KEY, ck->file, k->mark,
                    "%s: unknown key '%s'; did you mean '%s'?", what,
                    sr_yis_scalar(k) ? k->text : "?", sug);
        else
            sr_errc(ck->dg, SR_E_UNKNOWN_KEY, ck->file, k->mark,
                    "%s: unknown key '%s' (expected one of: %s)", what,
                    sr_yis_scalar(k) ? k->text : "?", list);
        if (sug) sr_diag_help_rewrite(ck->dg, ck->file, k->mark, k->text, sug, "correct the key");
        rc = -1;
    }
    return rc;
}

static const char *scalar_or_null(sr_check *ck, const sr_ynode *n, const char *what)
{
    if (!n) return NULL;
    if (!sr_yis_scalar(n) || sr_yis_null(n)) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark, "%s must be a string, not %s", what,
                sr_ydesc(n, got, sizeof(got)));
        return NULL;
    }
    return n->text;
}

/* ---- name indexes ------------------------------------------------------------------------
 * Topics and deployments are found by name in libc's balanced trees (tsearch), so that loading
 * and checking a file with many topics stays O(n log n). The trees hold pointers to the topic
 * or deployment itself, whose first member is its name: one comparison serves both, and a
 * lookup key is the address of a `const char *`. */
_Static_assert(offsetof(sr_topic, name) == 0, "the name index reads a topic's first member");
_Static_assert(offsetof(sr_deployment, name) == 0,
               "the name index reads a deployment's first member");

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void *name_find(void *const *tree, const char *name)
{
    void *const *hit = tfind(&name, tree, by_name);
    return hit ? *hit : NULL;
}

/* Adds item (a topic or deployment) under its name; returns the item already there, or NULL. */
static void *name_add(void **tree, void *item)
{
    void **hit = tsearch(item, tree, by_name);
    if (!hit) {
        fprintf(stderr, "streamrun: out of memory\n");
        abort();
    }
    return *hit == item ? NULL : *hit;
}

static void name_nofree(void *item)
{
    (void)item; /* the trees do not own their items */
}

sr_topic *sr_topology_topic(const sr_topology *t, const char *name)
{
    return name_find(&t->topic_names, name);
}

const sr_deployment *sr_topology_deployment(const sr_topology *t, const char *name)
{
    return name_find(&t->dep_names, name);
}

/* ---- topics -------------------------------------------------------------------------- */

/* Kafka's rule for topic names. */
static bool valid_topic_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 249 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return false;
    for (const char *c = s; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-') return false;
    return true;
}

/* Checks a topic config's value against another's, where Kafka would refuse the pair. */
static void check_config_pair(sr_check *ck, const sr_topic *tp, const char *lo_name,
                              const char *hi_name)
{
    long long lo, hi;
    int ilo = -1, ihi = -1;
    for (int i = 0; i < tp->config.n; i++) {
        if (strcmp(tp->config.names[i], lo_name) == 0) ilo = i;
        if (strcmp(tp->config.names[i], hi_name) == 0) ihi = i;
    }
    if (ilo < 0 || ihi < 0 || !sr_topic_config_integer(tp->config.vals[ilo], &lo) ||
        !sr_topic_config_integer(tp->config.vals[ihi], &hi) || lo <= hi)
        return;
    sr_errc(ck->dg, SR_E_TOPIC_CONFIG, ck->file, tp->config_marks[ilo],
            "topic '%s': %s (%lld) must not be above %s (%lld), or Kafka refuses the topic",
            tp->name, lo_name, lo, hi_name, hi);
}

/* replicationFactor and config: of a topic mapping n, checked as Kafka will take them. */
static void load_topic_settings(sr_check *ck, const sr_ynode *n, sr_topic *tp)
{
    const sr_ynode *rf = sr_ymap_get(n, "replicationFactor");
    char got[64];
    if (rf) {
        long long v;
        tp->replication_mark = rf->mark;
        if (!sr_yscalar_int(rf, &v) || v < 1 || v > 32767)
            sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, rf->mark,
                    "topic '%s': 'replicationFactor' must be a whole number from 1 to 32767, not "
                    "%s",
                    tp->name, sr_ydesc(rf, got, sizeof(got)));
        else
            tp->replication = (int)v;
    }
    const sr_ynode *conf = sr_ymap_get(n, "config");
    if (!conf) return;
    sr_param p = {.type = SR_P_STRMAP, .name = "config"};
    char what[300];
    snprintf(what, sizeof(what), "topic '%s'", tp->name);
    const char *outer = ck->what;
    ck->what = what;
    sr_param_parse_one(&p, conf, &tp->config, ck);
    ck->what = outer;
    tp->config_marks = sr_xcalloc((size_t)tp->config.n + 1, sizeof(sr_mark));
    /* the entries keep the mapping's order, without those refused above: one walk finds them */
    int j = 0;
    for (int i = 0; i < tp->config.n; i++) {
        const char *name = tp->config.names[i];
        while (j + 1 < conf->nkids &&
               !(sr_yis_scalar(conf->kids[j]) && strcmp(conf->kids[j]->text, name) == 0))
            j += 2;
        assert(j + 1 < conf->nkids);
        const sr_ynode *k = conf->kids[j], *v = conf->kids[j + 1];
        j += 2;
        tp->config_marks[i] = v->mark;
        if (sr_reported_in(ck, v)) continue; /* an unset ${VAR}, say: said already */
        char e[512];
        bool at_name;
        if (strlen(v->text) != v->len)
            sr_errc(ck->dg, SR_E_TOPIC_CONFIG, ck->file, v->mark,
                    "topic '%s': the value of %s contains a NUL byte", tp->name, name);
        else if (sr_topic_config_check(name, tp->config.vals[i], e, sizeof(e), &at_name) != 0)
            sr_errc(ck->dg, SR_E_TOPIC_CONFIG, ck->file, at_name ? k->mark : v->mark,
                    "topic '%s': %s", tp->name, e);
    }
    /* what Kafka checks across configs, and against the replication factor */
    for (int i = 0; i < tp->config.n; i++) {
        long long isr;
        if (strcmp(tp->config.names[i], "min.insync.replicas") == 0 && tp->replication &&
            sr_topic_config_integer(tp->config.vals[i], &isr) && isr > tp->replication)
            sr_errc(ck->dg, SR_E_TOPIC_CONFIG, ck->file, tp->config_marks[i],
                    "topic '%s': min.insync.replicas (%lld) is above its replicationFactor (%d): "
                    "no write with acks=all could succeed; lower it, or raise replicationFactor",
                    tp->name, isr, tp->replication);
    }
    check_config_pair(ck, tp, "min.compaction.lag.ms", "max.compaction.lag.ms");
}

static void load_topics(sr_check *ck, const sr_ynode *seq)
{
    sr_topology *t = ck->topo;
    if (seq->kind != SR_Y_SEQ) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, seq->mark,
                "'topics' must be a list such as [{name: raw-data, partitions: 4}], not %s",
                sr_ydesc(seq, got, sizeof(got)));
        ck->no_topics = true;
        return;
    }
    t->topics = sr_xcalloc((size_t)seq->nkids + 1, sizeof(sr_topic *));
    for (int i = 0; i < seq->nkids; i++) {
        const sr_ynode *n = seq->kids[i], *name = n, *parts = NULL;
        if (n->kind == SR_Y_MAP) {
            name = sr_ymap_get(n, "name");
            char label[300] = "topic";
            if (sr_yis_scalar(name) && !sr_yis_null(name))
                snprintf(label, sizeof(label), "topic '%s'", name->text);
            check_keys(ck, n, topic_keys, label);
            parts = sr_ymap_get(n, "partitions");
            if (!name) {
                sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, n->mark,
                        "topic: missing required key 'name'");
                sr_help_add_key(ck, n, "name", "TOPIC");
                continue;
            }
        }
        const char *s = scalar_or_null(ck, name, "a topic name");
        if (!s) continue;
        if (!sr_reported_in(ck, name) && !valid_topic_name(s))
            sr_errc(ck->dg, SR_E_TOPIC_NAME, ck->file, name->mark,
                    "'%s' is not a valid topic name: Kafka topic names are 1 to 249 letters, "
                    "digits, '.', '_' or '-' (and not '.' or '..')",
                    s);
        sr_topic *tp = sr_xcalloc(1, sizeof(*tp));
        tp->name = sr_xstrdup(s);
        sr_topic *dup = name_add(&t->topic_names, tp);
        if (dup) {
            sr_errc(ck->dg, SR_E_DUPLICATE, ck->file, name->mark,
                    "duplicate topic '%s' (first declared on line %d)", s, dup->mark.line);
            sr_diag_related(ck->dg, dup->file, dup->mark, "topic '%s' first declared here", s);
            free(tp->name);
            free(tp);
            continue;
        }
        tp->index = t->ntopics;
        tp->declared = true;
        tp->file = ck->file;
        tp->mark = name->mark;
        tp->partitions = 1;
        tp->partitions_mark = tp->replication_mark = tp->mark;
        if (parts) {
            long long v;
            char got[64];
            tp->partitions_mark = parts->mark;
            if (!sr_yscalar_int(parts, &v) || v < 1 || v > 100000)
                sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, parts->mark,
                        "topic '%s': 'partitions' must be a whole number from 1 to 100000, not %s",
                        s, sr_ydesc(parts, got, sizeof(got)));
            else
                tp->partitions = (int)v;
        }
        if (n->kind == SR_Y_MAP) load_topic_settings(ck, n, tp);
        const sr_ynode *shape = n->kind == SR_Y_MAP ? sr_ymap_get(n, "shape") : NULL;
        if (shape) {
            tp->shape = sr_xcalloc(1, sizeof(*tp->shape));
            sr_shape_parse(ck, shape, tp->name, tp->shape);
        }
        t->topics[t->ntopics++] = tp;
    }
}

/* ---- operator chains ------------------------------------------------------------------ */

static void op_label(sr_op *op)
{
    if (op->index)
        snprintf(op->label, sizeof(op->label), "%s (step %d)", op->type->name, op->index);
    else
        snprintf(op->label, sizeof(op->label), "%s", op->type->name);
}

/* The operator names, comma-separated, for messages. */
static const char *operator_list(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; sr_operators[i] && n + 2 < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", sr_operators[i]->name);
    return buf;
}

/* Whether name is a setting of operator type. */
static bool is_param_of(const sr_operator_type *type, const char *name)
{
    for (const sr_param *p = type->params; p->name; p++)
        if (strcmp(p->name, name) == 0) return true;
    return false;
}

/* Reports a step mapping with more than one key. The usual cause is a setting written at the
 * operator's indentation instead of under it ("- route:\n  mode: all"): say so when it is. */
static void step_keys_error(sr_check *ck, const sr_ynode *step)
{
    const sr_ynode *key = step->kids[0];
    const sr_operator_type *type = sr_yis_scalar(key) ? sr_operator_find(key->text) : NULL;
    for (int i = 2; type && i < step->nkids; i += 2) {
        const sr_ynode *k = step->kids[i];
        if (sr_yis_scalar(k) && is_param_of(type, k->text)) {
            sr_errc(ck->dg, SR_E_STEP_SHAPE, ck->file, k->mark,
                    "'%s' is a setting of %s but is not inside it: indent it under '%s:' (a "
                    "pipeline step has exactly one key, the operator)",
                    k->text, type->name, type->name);
            return;
        }
    }
    const sr_ynode *second = step->kids[2];
    sr_errc(ck->dg, SR_E_STEP_SHAPE, ck->file, second->mark,
            "a pipeline step must have exactly one operator, e.g. '- filter: x > 1', but this "
            "one has %d keys (start each step with its own '-')",
            step->nkids / 2);
}

/* Parses one pipeline step `- name: value` into op. */
static int load_step(sr_check *ck, const sr_ynode *step, sr_op *op)
{
    const sr_ynode *key = step, *val = NULL;
    char got[64];
    if (step->kind == SR_Y_MAP) {
        if (step->nkids == 0) {
            sr_errc(ck->dg, SR_E_STEP_SHAPE, ck->file, step->mark,
                    "a pipeline step must be '- operator: settings', not an empty mapping");
            return -1;
        }
        if (step->nkids != 2) {
            step_keys_error(ck, step);
            return -1;
        }
        key = step->kids[0];
        val = step->kids[1];
    } else if (!sr_yis_scalar(step) || sr_yis_null(step)) {
        sr_errc(ck->dg, SR_E_STEP_SHAPE, ck->file, step->mark,
                "a pipeline step must be '- operator: settings', not %s",
                sr_ydesc(step, got, sizeof(got)));
        return -1;
    }
    const sr_operator_type *type = sr_yis_scalar(key) ? sr_operator_find(key->text) : NULL;
    if (!type) {
        const char *cands[64];
        int nc = 0;
        for (int i = 0; sr_operators[i] && nc < 64; i++) cands[nc++] = sr_operators[i]->name;
        const char *sug = sr_yis_scalar(key) ? sr_suggest(key->text, cands, nc) : NULL;
        char list[400];
        if (sug)
            sr_errc(ck->dg, SR_E_UNKNOWN_OPERATOR, ck->file, key->mark,
                    "unknown operator %s; did you mean '%s'?", sr_ydesc(key, got, sizeof(got)),
                    sug);
        else
            sr_errc(ck->dg, SR_E_UNKNOWN_OPERATOR, ck->file, key->mark,
                    "unknown operator %s (operators: %s)", sr_ydesc(key, got, sizeof(got)),
                    operator_list(list, sizeof(list)));
        if (sug)
            sr_diag_help_rewrite(ck->dg, ck->file, key->mark, key->text, sug,
                                 "correct the operator");
        return -1;
    }
    op->type = type;
    op->file = ck->file;
    op->mark = key->mark;
    op->vmark = key->mark;
    op->settings = val && !sr_yis_null(val) ? val : NULL;
    op_label(op);
    void *conf = sr_xcalloc(1, type->conf_size ? type->conf_size : 1); /* writable until loaded */
    op->conf = conf;
    char what[80];
    snprintf(what, sizeof(what), "%s", op->label);
    const sr_param *prim = NULL;
    for (const sr_param *p = type->params; type->primary && p->name; p++)
        if (strcmp(p->name, type->primary) == 0) prim = p;
    bool prim_is_map = prim && (prim->type == SR_P_EXPRMAP || prim->type == SR_P_STRMAP ||
                                prim->type == SR_P_AGGS);
    /* A mapping is the settings, except for operators whose primary setting is itself a
     * mapping (set, rename): there it is the short form, unless it holds that setting as a
     * mapping ({fields: {...}, ...}), which no short form can (its values are scalars). */
    bool long_form = val && val->kind == SR_Y_MAP;
    if (long_form && prim_is_map) {
        const sr_ynode *pv = sr_ymap_get(val, prim->name);
        long_form = pv && pv->kind == SR_Y_MAP;
    }
    const char *outer = ck->what;
    ck->what = what;
    int rc;
    if (!val || sr_yis_null(val)) {
        /* `- print` or `- print:` : every setting takes its default */
        sr_ynode empty = {.kind = SR_Y_MAP, .mark = key->mark};
        rc = sr_params_parse(type->params, &empty, conf, ck, what);
    } else if (long_form) {
        const sr_ynode *pv = prim ? sr_ymap_get(val, prim->name) : NULL;
        if (pv) op->vmark = pv->mark;
        rc = sr_params_parse(type->params, val, conf, ck, what);
    } else if (prim) {
        /* short form: the value fills the primary setting, the others take defaults */
        op->vmark = val->mark;
        rc = sr_param_parse_one(prim, val, conf, ck);
        for (const sr_param *p = type->params; p->name; p++) {
            if (p == prim) continue;
            if (p->def) {
                sr_ynode d = {.kind = SR_Y_SCALAR,
                              .mark = key->mark,
                              .text = (char *)p->def,
                              .len = strlen(p->def)};
                if (sr_param_parse_one(p, &d, conf, ck)) rc = -1;
            } else if (p->flags & SR_PF_REQUIRED) {
                sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, key->mark,
                        "%s: missing required key '%s' (%s)", what, p->name, p->doc);
                rc = -1;
            }
        }
    } else {
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, val->mark,
                "%s takes a mapping of settings, not %s (e.g. '%s')", what,
                sr_ydesc(val, got, sizeof(got)), type->example);
        rc = -1;
    }
    if (rc == 0 && type->check) rc = type->check(op, conf, ck);
    ck->what = outer;
    return rc;
}

/* Frees what load_step made of op and clears it. The configuration is read-only for the tasks,
 * not for the loader that allocated it. */
static void unload_step(sr_op *op)
{
    void *conf = (void *)op->conf;
    if (op->type) {
        if (op->type->destroy) op->type->destroy(conf);
        sr_params_free(op->type->params, conf);
    }
    free(conf);
    memset(op, 0, sizeof(*op));
}

static void load_pipeline(sr_check *ck, sr_deployment *d, const char *label, const sr_ynode *seq,
                          const sr_ynode *output)
{
    if (seq->kind != SR_Y_SEQ) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, seq->mark,
                "%s: 'pipeline' must be a list of steps such as '- filter: x > 1', not %s", label,
                sr_ydesc(seq, got, sizeof(got)));
        return;
    }
    d->ops = sr_xcalloc((size_t)seq->nkids + 1, sizeof(sr_op));
    d->reads = sr_xcalloc((size_t)seq->nkids + 1, sizeof(sr_schema));
    d->nreads = seq->nkids;
    const sr_op *terminal = NULL;
    bool after_reported = false;
    for (int i = 0; i < seq->nkids; i++) {
        sr_op *op = &d->ops[d->nops];
        op->index = i + 1;
        sr_schema_copy(&d->reads[i], &ck->schema);
        if (terminal) {
            /* still checked for its own errors, but kept out of the chain */
            sr_op extra = {.index = i + 1};
            if (load_step(ck, seq->kids[i], &extra) == 0 && !after_reported) {
                sr_errc(ck->dg, SR_E_STEP_ORDER, ck->file, extra.mark,
                        "%s comes after %s, which ends the pipeline by sending records to "
                        "topics: move this step before it or remove it",
                        extra.label, terminal->label);
                sr_diag_related(ck->dg, terminal->file, terminal->mark,
                                "the records leave the pipeline at this step");
                after_reported = true;
            }
            unload_step(&extra);
            continue;
        }
        if (load_step(ck, seq->kids[i], op) != 0) {
            /* keep a failed step out of the chain; checking goes on with an open schema */
            unload_step(op);
            sr_schema_set_open(&ck->schema);
            continue;
        }
        if (op->type->flags & SR_OP_TERMINAL) terminal = op;
        d->nops++;
    }
    if (terminal && output) {
        sr_errc(ck->dg, SR_E_CONFLICT, ck->file, terminal->mark,
                "%s sends records to topics itself, and the deployment has 'output:' too: "
                "remove one of them",
                terminal->label);
        sr_diag_related(ck->dg, ck->file, output->mark, "the deployment's output");
    }
    for (int i = 0; i < d->nops; i++) {
        d->ops[i].slot = i;
        d->ops[i].next = i + 1 < d->nops ? &d->ops[i + 1] : NULL;
    }
}

/* ---- deployments ------------------------------------------------------------------------ */

/* qsort order of pointers to the entries of a list of topics: by topic, then by position. */
static int cmp_topic_ref(const void *a, const void *b)
{
    sr_topic *const *x = *(sr_topic *const *const *)a, *const *y = *(sr_topic *const *const *)b;
    if (*x != *y) return (*x)->index < (*y)->index ? -1 : 1;
    return (x > y) - (x < y);
}

static int topic_list(sr_check *ck, const sr_ynode *n, const char *label, const char *what,
                      sr_topic ***out, int *nout)
{
    if (!n) return 0;
    const sr_ynode *one[1] = {n};
    const sr_ynode *const *items = one;
    int count = 1;
    if (n->kind == SR_Y_SEQ) {
        items = (const sr_ynode *const *)n->kids;
        count = n->nkids;
        if (count == 0) {
            sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark,
                    "%s: '%s' must name at least one topic", label, what);
            return -1;
        }
    }
    sr_topic **all = sr_xcalloc((size_t)count + 1, sizeof(sr_topic *));
    const sr_ynode **where = sr_xcalloc((size_t)count + 1, sizeof(*where));
    int rc = 0, nall = 0;
    for (int i = 0; i < count; i++) {
        sr_param p = {.type = SR_P_TOPIC, .name = what};
        sr_topic *t = NULL;
        if (sr_param_parse_one(&p, items[i], &t, ck) == 0) {
            where[nall] = items[i];
            all[nall++] = t;
        } else {
            rc = -1;
        }
    }
    /* a topic listed twice: sorted by topic then position, each repeat follows its first */
    sr_topic ***byname = sr_xcalloc((size_t)nall + 1, sizeof(*byname));
    for (int i = 0; i < nall; i++) byname[i] = &all[i];
    qsort(byname, (size_t)nall, sizeof(*byname), cmp_topic_ref);
    bool *repeat = sr_xcalloc((size_t)nall + 1, sizeof(bool));
    for (int i = 1; i < nall; i++)
        if (*byname[i] == *byname[i - 1]) repeat[byname[i] - all] = true;
    *out = sr_xcalloc((size_t)nall + 1, sizeof(sr_topic *));
    for (int i = 0; i < nall; i++) {
        if (!repeat[i]) {
            (*out)[(*nout)++] = all[i];
            continue;
        }
        sr_errc(ck->dg, SR_E_DUPLICATE, ck->file, where[i]->mark,
                "topic '%s' is listed twice in '%s'", all[i]->name, what);
        for (int k = 0; k < i; k++)
            if (all[k] == all[i]) {
                sr_diag_related(ck->dg, ck->file, where[k]->mark, "listed first here");
                break;
            }
    }
    free(repeat);
    free(byname);
    free(where);
    free(all);
    return rc;
}

static const sr_param source_column_params[] = {
    {.type = SR_P_FIELDS, .name = "columns", .off = offsetof(sr_source, columns)},
    {.type = SR_P_BOOL, .name = "header", .off = offsetof(sr_source, header)},
    {0}};

/* A CSV source's `columns:` (names for its cells, each once) and `header:` (false: the file has
 * no header row, and then needs columns:). */
static void load_source_columns(sr_check *ck, const sr_ynode *n, sr_source *s)
{
    s->header = true;
    const sr_ynode *cols = sr_ymap_get(n, "columns"), *hdr = sr_ymap_get(n, "header");
    const char *outer = ck->what;
    ck->what = "source";
    if (cols) sr_param_parse_one(&source_column_params[0], cols, s, ck);
    if (hdr) sr_param_parse_one(&source_column_params[1], hdr, s, ck);
    ck->what = outer;
    const sr_strv *c = &s->columns;
    for (int i = 0; i < c->n; i++)
        for (int j = 0; j < i; j++)
            if (strcmp(c->v[i], c->v[j]) == 0) {
                sr_errc(ck->dg, SR_E_DUPLICATE, ck->file, c->marks[i],
                        "source: column '%s' is named twice in 'columns' (each cell needs its own "
                        "name)",
                        c->v[i]);
                sr_diag_related(ck->dg, ck->file, c->marks[j], "column '%s' named first here",
                                c->v[j]);
                break;
            }
    if ((cols || hdr) && s->format != SR_FMT_CSV)
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, (cols ? cols : hdr)->mark,
                "source: '%s' is for CSV files; this source reads JSON lines (add format: csv if "
                "the file is CSV)",
                cols ? "columns" : "header");
    else if (hdr && !s->header && c->n == 0 && !cols)
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, hdr->mark,
                "source: 'header: false' needs 'columns:', the names of the cells in order (a CSV "
                "file without a header row has nothing else to name them by)");
}

static sr_source *load_source(sr_check *ck, const sr_ynode *n)
{
    char got[64];
    if (n->kind != SR_Y_MAP) {
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark,
                "'source' must be a mapping such as {file: data.jsonl, format: jsonl}, not %s",
                sr_ydesc(n, got, sizeof(got)));
        return NULL;
    }
    check_keys(ck, n, source_keys, "source");
    const sr_ynode *f = sr_ymap_get(n, "file");
    if (!f) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, n->mark,
                "source: missing required key 'file' (the JSON-lines or CSV file to replay)");
        sr_help_add_key(ck, n, "file", "PATH");
        return NULL;
    }
    const char *path = scalar_or_null(ck, f, "source file");
    if (!path) return NULL;
    sr_source *s = sr_xcalloc(1, sizeof(*s));
    s->mark = n->mark;
    s->path = sr_xstrdup(path);
    if (path[0] == '/') {
        s->resolved = sr_xstrdup(path);
    } else {
        size_t len = strlen(ck->topo->dir) + strlen(path) + 2;
        s->resolved = sr_xmalloc(len);
        snprintf(s->resolved, len, "%s/%s", ck->topo->dir, path);
    }
    struct stat st;
    if (stat(s->resolved, &st) != 0 && !sr_reported_in(ck, f))
        sr_errc(ck->dg, SR_E_FILE_NOT_FOUND, ck->file, f->mark,
                "source file '%s' does not exist (looked for %s)", path, s->resolved);
    const sr_ynode *fmt = sr_ymap_get(n, "format");
    const char *ext = strrchr(path, '.');
    s->format = (ext && strcmp(ext, ".csv") == 0) ? SR_FMT_CSV : SR_FMT_JSONL;
    if (fmt) {
        sr_param p = {.type = SR_P_ENUM, .name = "format", .choices = "jsonl|csv"};
        int v = 0;
        const char *outer = ck->what;
        ck->what = "source";
        if (sr_param_parse_one(&p, fmt, &v, ck) == 0) s->format = v ? SR_FMT_CSV : SR_FMT_JSONL;
        ck->what = outer;
    }
    const sr_ynode *k = sr_ymap_get(n, "key");
    if (k) {
        const char *key = scalar_or_null(ck, k, "source key");
        if (key) s->key = sr_xstrdup(key);
    }
    const sr_ynode *ts = sr_ymap_get(n, "timestamp");
    if (ts) {
        const char *tsf = scalar_or_null(ck, ts, "source timestamp");
        if (tsf) s->timestamp = sr_xstrdup(tsf);
    }
    const sr_ynode *rate = sr_ymap_get(n, "rate");
    if (rate && (!sr_yscalar_double(rate, &s->rate) || s->rate < 0))
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, rate->mark,
                "source: 'rate' must be a number of records per second (0: as fast as possible), "
                "not %s",
                sr_ydesc(rate, got, sizeof(got)));
    load_source_columns(ck, n, s);
    return s;
}

static void load_kafka(sr_check *ck, const sr_ynode *n, sr_strmap *m)
{
    if (n->kind != SR_Y_MAP) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark,
                "'kafka' must be a mapping of librdkafka properties such as {acks: all}, not %s",
                sr_ydesc(n, got, sizeof(got)));
        return;
    }
    sr_param p = {.type = SR_P_STRMAP, .name = "kafka"};
    sr_param_parse_one(&p, n, m, ck);
    /* each property as librdkafka will take it at `up`: a typo is an error of the file */
    for (int i = 0; i + 1 < n->nkids; i += 2) {
        const sr_ynode *k = n->kids[i], *v = n->kids[i + 1];
        if (!sr_yis_scalar(k) || !sr_yis_scalar(v) || sr_yis_null(v)) continue; /* said above */
        char e[512];
        bool at_name;
        if (sr_kafka_check_property(k->text, v->text, e, sizeof(e), &at_name) != 0)
            sr_errc(ck->dg, SR_E_KAFKA_PROPERTY, ck->file, at_name ? k->mark : v->mark, "%s", e);
        const char *why = sr_kafka_unsafe_property(k->text, v->text);
        if (why || sr_kafka_secret_property(k->text)) sr_diag_hide(ck->dg, ck->file, v->mark);
        if (why) {
            sr_topology *t = ck->topo;
            t->unsafe = sr_xrealloc(t->unsafe, sizeof(sr_unsafe_prop) * (size_t)(t->nunsafe + 1));
            t->unsafe[t->nunsafe++] = (sr_unsafe_prop){k->text, k->mark, v->mark, why};
        }
    }
}

int sr_topology_refuse_unsafe(const sr_topology *t, sr_diag *dg)
{
    for (int i = 0; i < t->nunsafe; i++) {
        const sr_unsafe_prop *u = &t->unsafe[i];
        sr_errc(dg, SR_E_UNSAFE_PROPERTY, t->doc.file, u->name_mark,
                "kafka property %s %s; refused unless --allow-unsafe-kafka-properties is given "
                "(under `up` a topology file is code: allow this only for a file you trust)",
                u->name, u->why);
        sr_diag_hide(dg, t->doc.file, u->value_mark);
    }
    return t->nunsafe;
}

/* The topics of the tables d's steps keep (operator.h: table_topic) are inputs of d too: their
 * records reach the step's table through the task that owns the partition. */
static void add_table_inputs(sr_deployment *d)
{
    for (int i = 0; i < d->nops; i++) {
        const sr_op *op = &d->ops[i];
        const sr_topic *tp = op->type->table_topic ? op->type->table_topic(op) : NULL;
        bool have = !tp;
        for (int k = 0; k < d->ninputs && !have; k++) have = d->inputs[k] == tp;
        if (have) continue;
        d->inputs = sr_xrealloc(d->inputs, sizeof(sr_topic *) * (size_t)(d->ninputs + 2));
        d->inputs[d->ninputs++] = (sr_topic *)tp;
        d->inputs[d->ninputs] = NULL;
    }
}

static void load_deployment(sr_check *ck, const sr_ynode *n, sr_deployment *d)
{
    d->file = ck->file;
    d->mark = n->mark;
    d->stage = 1;
    char got[64];
    if (n->kind != SR_Y_MAP) {
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark,
                "a deployment must be a mapping with name, input or source, pipeline and output, "
                "not %s",
                sr_ydesc(n, got, sizeof(got)));
        d->name = sr_xstrdup("?");
        d->group = sr_xstrdup("?");
        return;
    }
    const sr_ynode *name = sr_ymap_get(n, "name");
    const char *s = name ? scalar_or_null(ck, name, "deployment name") : NULL;
    char label[300] = "deployment";
    if (s) snprintf(label, sizeof(label), "deployment '%s'", s);
    check_keys(ck, n, dep_keys, label);
    if (!name) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, n->mark,
                "deployment: missing required key 'name'");
        sr_help_add_key(ck, n, "name", "NAME");
    }
    if (s) {
        d->name = sr_xstrdup(s);
        d->mark = name->mark;
        const sr_deployment *dup = name_add(&ck->topo->dep_names, d);
        if (dup) {
            sr_errc(ck->dg, SR_E_DUPLICATE, ck->file, name->mark,
                    "duplicate deployment '%s' (first on line %d)", s, dup->mark.line);
            sr_diag_related(ck->dg, dup->file, dup->mark, "deployment '%s' first defined here", s);
        }
    } else {
        d->name = sr_xstrdup("?");
    }
    const sr_ynode *in = sr_ymap_get(n, "input"), *src = sr_ymap_get(n, "source");
    const sr_ynode *out = sr_ymap_get(n, "output");
    topic_list(ck, in, label, "input", &d->inputs, &d->ninputs);
    topic_list(ck, out, label, "output", &d->outputs, &d->noutputs);
    if (in && src)
        sr_errc(ck->dg, SR_E_CONFLICT, ck->file, src->mark,
                "a deployment reads either 'input' topics or a 'source' file, not both");
    if (!in && !src) {
        sr_errc(ck->dg, SR_E_IDLE_DEPLOYMENT, ck->file, d->mark,
                "deployment '%s' reads nothing: give it 'input: TOPIC' to read topics or "
                "'source: {file: PATH}' to replay a file",
                d->name);
        sr_help_add_key(ck, n, "input", "TOPIC");
    }
    if (src) d->source = load_source(ck, src);
    const sr_ynode *g = sr_ymap_get(n, "consumerGroup");
    const char *group = g ? scalar_or_null(ck, g, "consumerGroup") : NULL;
    if (group) {
        d->group = sr_xstrdup(group);
    } else {
        size_t len = strlen(ck->topo->name) + strlen(d->name) + 2;
        d->group = sr_xmalloc(len);
        snprintf(d->group, len, "%s-%s", ck->topo->name, d->name);
    }
    const sr_ynode *dl = sr_ymap_get(n, "deadLetter");
    if (dl) {
        sr_param p = {.type = SR_P_TOPIC, .name = "deadLetter"};
        sr_param_parse_one(&p, dl, &d->dead_letter, ck);
        for (int i = 0; d->dead_letter && i < d->ninputs; i++)
            if (d->inputs[i] == d->dead_letter) {
                sr_errc(ck->dg, SR_E_DEAD_LETTER_INPUT, ck->file, dl->mark,
                        "deadLetter '%s' is also an input of this deployment, so failed records "
                        "would be read again; use a topic of its own",
                        d->dead_letter->name);
                if (in)
                    sr_diag_related(ck->dg, ck->file, in->mark, "'%s' is read here",
                                    d->dead_letter->name);
            }
    }
    const sr_ynode *k = sr_ymap_get(n, "kafka");
    if (k) load_kafka(ck, k, &d->kafka);
    const sr_ynode *pr = sr_ymap_get(n, "processing");
    if (pr) {
        sr_param p = {
            .type = SR_P_ENUM, .name = "processing", .choices = "at-least-once|exactly-once"};
        int mode = 0;
        if (sr_param_parse_one(&p, pr, &mode, ck) == 0) {
            d->processing = mode == 1 ? SR_EXACTLY_ONCE : SR_AT_LEAST_ONCE;
            d->processing_mark = pr->mark;
        }
        if (d->processing == SR_EXACTLY_ONCE && src)
            sr_errc(ck->dg, SR_E_EXACTLY_ONCE, ck->file, pr->mark,
                    "%s: processing: exactly-once needs input topics: a 'source' file is replayed "
                    "from its start on every run, so there are no input offsets to commit with "
                    "the outputs",
                    label);
    }
    const sr_ynode *r = sr_ymap_get(n, "replicas");
    long long reps;
    if (r && (!sr_yscalar_int(r, &reps) || reps < 1))
        sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, r->mark,
                "%s: 'replicas' must be a whole number of at least 1, not %s", label,
                sr_ydesc(r, got, sizeof(got)));
    const sr_ynode *mg = sr_ymap_get(n, "migrations");
    if (mg) sr_migrations_load(ck, mg, d);
    sr_schema_free(&ck->schema);
    sr_shape_of_inputs(d, &ck->schema);
    const sr_ynode *pl = sr_ymap_get(n, "pipeline");
    ck->dep = d;
    bool has_pipeline = pl && !sr_yis_null(pl);
    if (has_pipeline) load_pipeline(ck, d, label, pl, out);
    add_table_inputs(d);
    sr_schema_copy(&d->out_schema, &ck->schema);
    sr_schema_free(&ck->schema);
    if (pl && pl->kind == SR_Y_SEQ && pl->nkids == 0) has_pipeline = false;
    if (!out && !has_pipeline && (in || src))
        sr_errc(ck->dg, SR_E_IDLE_DEPLOYMENT, ck->file, d->mark,
                "deployment '%s' does nothing: it has no pipeline steps and no 'output'", d->name);
}

/* ---- re-keying: a deployment split into stages ------------------------------------------
 * A task holds the state of the keys of its input partition. After a step that changes the key
 * (its type's rekey hook), a stateful step (store_name) would keep each key's state wherever its
 * records happened to arrive: several tasks would each hold a part of it. So the deployment is
 * split after the re-key into stages, which are ordinary deployments joined by an internal
 * repartition topic: the first stage writes the re-keyed records to it, partitioned by their new
 * key (murmur2, under `up` as under `run` and `test`), and the next stage reads it, so that all
 * the records of a key reach one task. A re-key followed by another re-key before any stateful
 * step needs no split of its own; a file source runs as one task and is not split. */

/* The name stem of the repartition topic after step op of deployment d (as written): its
 * consumer group (by default "<file name>-<deployment>") and the step, "<group>-key-<N>"; the
 * topic is the stem and "-repartition", the consumer group of the stage that reads it is the
 * stem. malloc'd. */
static char *repartition_stem(const sr_deployment *d, const sr_op *op)
{
    size_t len = strlen(d->group) + strlen(op->type->name) + 16;
    char *s = sr_xmalloc(len);
    snprintf(s, len, "%s-%s-%d", d->group, op->type->name, op->index);
    return s;
}

/* Warns that the partition count declared on re-key op is not used, and why. */
static void unused_partitions(sr_check *ck, const sr_deployment *d, const sr_op *op,
                              const char *why)
{
    const sr_ynode *n = op->settings && op->settings->kind == SR_Y_MAP
                            ? sr_ymap_get(op->settings, "partitions")
                            : NULL;
    sr_diag_addc(ck->dg, SR_WARNING, SR_W_PARTITIONS_UNUSED, op->file, n ? n->mark : op->mark,
                 "deployment '%s': %s: 'partitions' has no effect here: %s, so the records go "
                 "through no repartition topic",
                 d->name, op->label, why);
}

/* The slots of d's steps after which it is split, into at[] (room for d->nops); how many. With
 * ck, warns of a partition count declared on a re-key where no split is made. */
static int split_points(sr_check *ck, const sr_deployment *d, int *at)
{
    int n = 0, rekey = -1;
    for (int i = 0; i < d->nops; i++) {
        const sr_op *op = &d->ops[i];
        if (op->type->rekey) {
            if (ck && rekey >= 0 && op->type->rekey(&d->ops[rekey]) > 0)
                unused_partitions(ck, d, &d->ops[rekey], "another re-key follows it first");
            rekey = i;
        } else if (rekey >= 0 && op->type->store_name && op->type->store_name(op)) {
            if (d->ninputs == 0) { /* a file source: one task holds every key */
                if (ck && d->ops[rekey].type->rekey(&d->ops[rekey]) > 0)
                    unused_partitions(ck, d, &d->ops[rekey],
                                      "the deployment replays a file, in one task, with no "
                                      "repartition topic");
            } else {
                at[n++] = rekey;
            }
            rekey = -1;
        }
    }
    if (ck && rekey >= 0 && d->ops[rekey].type->rekey(&d->ops[rekey]) > 0)
        unused_partitions(ck, d, &d->ops[rekey], "no stateful step follows it");
    return n;
}

/* A copy of a strmap. */
static void strmap_copy(sr_strmap *dst, const sr_strmap *src)
{
    dst->n = src->n;
    dst->names = sr_xcalloc((size_t)src->n + 1, sizeof(char *));
    dst->vals = sr_xcalloc((size_t)src->n + 1, sizeof(char *));
    for (int i = 0; i < src->n; i++) {
        dst->names[i] = sr_xstrdup(src->names[i]);
        dst->vals[i] = sr_xstrdup(src->vals[i]);
    }
}

/* The repartition topic after step op of deployment d, with parts partitions; NULL after an
 * error at op (a name Kafka does not take, or a topic of the file's). */
static sr_topic *repartition_topic(sr_check *ck, const sr_deployment *d, const sr_op *op, int parts)
{
    sr_topology *t = ck->topo;
    char *stem = repartition_stem(d, op);
    size_t len = strlen(stem) + sizeof("-repartition");
    char *name = sr_xmalloc(len);
    snprintf(name, len, "%s-repartition", stem);
    free(stem);
    const char *why = NULL;
    const sr_topic *other = sr_topology_topic(t, name);
    if (!valid_topic_name(name))
        why = "is not a valid Kafka topic name (1 to 249 ASCII letters, digits, '.', '_' or "
              "'-'): give the deployment a consumerGroup made of those";
    else if (other && other->internal)
        why = "is also the repartition topic of another deployment of the same consumer group: "
              "give one of them a consumerGroup of its own";
    else if (other)
        why = "is also a topic of the file: rename that topic";
    if (why) {
        sr_errc(ck->dg, SR_E_REPARTITION_NAME, op->file, op->mark,
                "deployment '%s': %s re-keys the records before a stateful step, so they go "
                "through the repartition topic '%s', which %s",
                d->name, op->label, name, why);
        if (other && !other->internal)
            sr_diag_related(ck->dg, other->file, other->mark, "topic '%s' declared here", name);
        else if (other)
            sr_diag_related(ck->dg, other->file, other->mark, "the other deployment's re-key");
        free(name);
        return NULL;
    }
    sr_topic *tp = sr_xcalloc(1, sizeof(*tp));
    tp->name = name;
    tp->partitions = parts;
    tp->internal = true;
    tp->file = op->file;
    tp->mark = tp->partitions_mark = tp->replication_mark = op->mark;
    tp->index = t->ntopics;
    name_add(&t->topic_names, tp);
    t->topics = sr_xrealloc(t->topics, sizeof(sr_topic *) * (size_t)(t->ntopics + 2));
    t->topics[t->ntopics++] = tp;
    t->topics[t->ntopics] = NULL;
    return tp;
}

/* The largest partition count among d's inputs. */
static int input_partitions(const sr_deployment *d)
{
    int parts = 1;
    for (int k = 0; k < d->ninputs; k++)
        if (d->inputs[k]->partitions > parts) parts = d->inputs[k]->partitions;
    return parts;
}

/* The first step of ops[from..to) that keeps a table of a topic (a co-partitioned lookup), or
 * NULL. */
static const sr_op *table_step(const sr_op *ops, int from, int to)
{
    for (int i = from; i < to; i++)
        if (ops[i].type->table_topic && ops[i].type->table_topic(&ops[i])) return &ops[i];
    return NULL;
}

/* Removes from d's inputs the topics of the tables its steps keep (add_table_inputs puts them
 * back, once the steps are where they run). */
static void drop_table_inputs(sr_deployment *d)
{
    int keep = 0;
    for (int k = 0; k < d->ninputs; k++) {
        bool table = false;
        for (int i = 0; i < d->nops && !table; i++)
            table = d->ops[i].type->table_topic &&
                    d->ops[i].type->table_topic(&d->ops[i]) == d->inputs[k];
        if (!table) d->inputs[keep++] = d->inputs[k];
    }
    d->ninputs = keep;
}

/* Checks that the co-partitioned tables the steps ops[from..to) keep have the partition count of
 * tp, the repartition topic those steps read after re-key rk: a key's records and its table value
 * must be in partitions of the same number. */
static void check_table_partitions(sr_check *ck, const sr_deployment *d, const sr_op *ops, int from,
                                   int to, const sr_op *rk, const sr_topic *tp)
{
    for (int i = from; i < to; i++) {
        const sr_topic *tt = ops[i].type->table_topic ? ops[i].type->table_topic(&ops[i]) : NULL;
        if (!tt || tt->partitions == tp->partitions) continue;
        const sr_ynode *n = rk->settings && rk->settings->kind == SR_Y_MAP
                                ? sr_ymap_get(rk->settings, "partitions")
                                : NULL;
        sr_errc(ck->dg, SR_E_PARTITIONS, rk->file, n ? n->mark : rk->mark,
                "deployment '%s': %s looks up a table co-partitioned with the records, whose topic "
                "'%s' has %d partition%s, but the repartition topic '%s' after %s has %d: a key's "
                "records and its table value would be seen by different tasks; %s",
                d->name, ops[i].label, tt->name, tt->partitions, tt->partitions == 1 ? "" : "s",
                tp->name, rk->label, tp->partitions,
                n ? "remove 'partitions:' from the key step (the repartition topic then takes the "
                    "table's count) or make it the table's"
                  : "make the table global (global: true)");
        sr_diag_related(ck->dg, tt->file, tt->partitions_mark,
                        "topic '%s' has %d partition%s, declared here", tt->name, tt->partitions,
                        tt->partitions == 1 ? "" : "s");
    }
}

/* Splits d (as written) after its steps at[0..n) into n + 1 stages: d keeps its first steps and
 * becomes the first stage; the later ones are written to out[0..n), zeroed entries. A repartition
 * topic has the partition count its key step gives, else that of the first co-partitioned table
 * looked up in the stage after it, else that of the stage's input. Returns how many stages were
 * written: n, or 0 after an error (d is then left whole). */
static int split_deployment(sr_check *ck, sr_deployment *d, const int *at, int n,
                            sr_deployment *out)
{
    if (n == 0) return 0;
    sr_topic **topics = sr_xcalloc((size_t)n + 1, sizeof(sr_topic *));
    bool ok = true;
    drop_table_inputs(d);
    int parts = input_partitions(d); /* of the stage's input: each topic is the next one's */
    for (int s = 0; s < n; s++) {
        const sr_op *rk = &d->ops[at[s]];
        int from = at[s] + 1, to = s + 1 < n ? at[s + 1] + 1 : d->nops;
        const sr_op *table = table_step(d->ops, from, to);
        if (rk->type->rekey(rk) > 0)
            parts = rk->type->rekey(rk);
        else if (table)
            parts = table->type->table_topic(table)->partitions;
        topics[s] = repartition_topic(ck, d, rk, parts);
        ok &= topics[s] != NULL;
        if (topics[s]) check_table_partitions(ck, d, d->ops, from, to, rk, topics[s]);
        out[s].group = repartition_stem(d, rk); /* the steps move below: what they say, now */
        out[s].mark = rk->mark;
    }
    if (!ok) {
        for (int s = 0; s < n; s++) free(out[s].group);
        memset(out, 0, sizeof(*out) * (size_t)n);
        add_table_inputs(d);
        free(topics);
        return 0;
    }
    sr_op *ops = d->ops;
    int nops = d->nops;
    sr_deployment *prev = d;
    for (int s = 0; s < n; s++) {
        sr_deployment *st = &out[s];
        int from = at[s] + 1, to = s + 1 < n ? at[s + 1] + 1 : nops;
        st->stage = s + 2;
        size_t len = strlen(d->name) + 16;
        st->name = sr_xmalloc(len);
        snprintf(st->name, len, "%s/%d", d->name, st->stage);
        st->file = d->file;
        st->dead_letter = d->dead_letter;
        st->processing = d->processing;
        st->processing_mark = d->processing_mark;
        strmap_copy(&st->kafka, &d->kafka);
        st->inputs = sr_xcalloc(2, sizeof(sr_topic *));
        st->inputs[st->ninputs++] = topics[s];
        st->ops = sr_xcalloc((size_t)(to - from) + 1, sizeof(sr_op));
        for (int i = from; i < to; i++) {
            sr_op *op = &st->ops[st->nops];
            *op = ops[i];
            memset(&ops[i], 0, sizeof(ops[i]));
            op->slot = st->nops++;
            op->next = NULL;
            if (op->slot > 0) st->ops[op->slot - 1].next = op;
        }
        /* the records of the previous stage now go to the repartition topic; its outputs (the
         * deployment's) move on to this stage, the last one at the end */
        st->outputs = prev->outputs;
        st->noutputs = prev->noutputs;
        prev->outputs = sr_xcalloc(2, sizeof(sr_topic *));
        prev->outputs[0] = topics[s];
        prev->noutputs = 1;
        prev = st;
        add_table_inputs(st); /* the tables' topics go with the steps that keep them */
    }
    d->nops = at[0] + 1;
    d->ops[d->nops - 1].next = NULL;
    add_table_inputs(d);
    free(topics);
    return n;
}

/* Splits every deployment re-keyed before a stateful step (see above); its stages follow it in
 * t->deps, and every stage names the deployment as written (origin). */
static void split_rekeyed(sr_check *ck)
{
    sr_topology *t = ck->topo;
    int extra = 0;
    int *at = NULL;
    for (int i = 0; i < t->ndeps; i++) {
        at = sr_xrealloc(at, sizeof(int) * ((size_t)t->deps[i].nops + 1));
        extra += split_points(ck, &t->deps[i], at);
    }
    if (extra == 0) {
        free(at);
        return;
    }
    sr_deployment *deps = sr_xcalloc((size_t)(t->ndeps + extra) + 1, sizeof(sr_deployment));
    int n = 0;
    for (int i = 0; i < t->ndeps; i++) {
        sr_deployment *d = &deps[n++];
        *d = t->deps[i];
        at = sr_xrealloc(at, sizeof(int) * ((size_t)d->nops + 1));
        int np = split_points(NULL, d, at);
        n += split_deployment(ck, d, at, np, &deps[n]);
    }
    free(at);
    free(t->deps);
    t->deps = deps;
    t->ndeps = n;
    /* the name index pointed into the old array */
    tdestroy(t->dep_names, name_nofree);
    t->dep_names = NULL;
    for (int i = 0; i < n; i++) {
        sr_deployment *d = &deps[i];
        if (d->stage > 1) /* the previous entry is the stage before: the first, or one of its */
            d->origin = deps[i - 1].origin ? deps[i - 1].origin : &deps[i - 1];
        const sr_deployment *dup = name_add(&t->dep_names, d);
        if (dup && (d->stage > 1 || dup->stage > 1)) {
            const sr_deployment *st = d->stage > 1 ? d : dup, *other = d->stage > 1 ? dup : d;
            sr_errc(ck->dg, SR_E_DUPLICATE, st->file, st->mark,
                    "deployment '%s' is split after this re-key into stages, the next one named "
                    "'%s', which is also the name of the deployment on line %d: rename that "
                    "deployment",
                    st->origin->name, st->name, other->mark.line);
            sr_diag_related(ck->dg, other->file, other->mark, "deployment '%s' defined here",
                            other->name);
        }
    }
}

bool sr_deployment_selected(const sr_deployment *d, const char *const *only, int nonly)
{
    if (nonly == 0) return true;
    const char *as_written = d->origin ? d->origin->name : d->name;
    for (int k = 0; k < nonly; k++)
        if (strcmp(only[k], d->name) == 0 || strcmp(only[k], as_written) == 0) return true;
    return false;
}

/* ---- cycles ------------------------------------------------------------------------------
 * A graph of deployments: an edge a -> b when a writes a topic b reads. Built from the topics
 * each deployment writes (its outputs and its steps' topic parameters) and, per topic, the
 * deployments that read it; searched depth first without recursion, so that neither many
 * deployments nor a long chain of them costs more than O(edges log edges) or deep stack. */

typedef struct reader {
    int dep; /* index into deps[] */
    int k;   /* position of the topic in that deployment's inputs */
} reader;

typedef struct cyc_frame {
    int node;
    reader *edges; /* to deployment `dep` through its input `k`, by dep */
    int n, next;
} cyc_frame;

static int cmp_reader(const void *a, const void *b)
{
    const reader *x = a, *y = b;
    if (x->dep != y->dep) return x->dep < y->dep ? -1 : 1;
    return (x->k > y->k) - (x->k < y->k);
}

/* Appends to *w the topics op names in its topic parameters (also inside lists). */
static void param_topics(const sr_param *params, const void *conf, sr_buf *w)
{
    for (const sr_param *p = params; p && p->name; p++) {
        if (p->type == SR_P_TOPIC) {
            const sr_topic *t = *(const sr_topic *const *)((const char *)conf + p->off);
            if (t) sr_buf_put(w, &t, sizeof(t));
        } else if (p->type == SR_P_LIST) {
            const sr_list *l = (const sr_list *)((const char *)conf + p->off);
            for (int i = 0; i < l->n; i++)
                param_topics(p->sub, (const char *)l->items + (size_t)i * p->sub_size, w);
        }
    }
}

int sr_deployment_writes(const sr_deployment *a, const sr_topic ***out)
{
    sr_buf w = {0};
    for (int i = 0; i < a->noutputs; i++) sr_buf_put(&w, &a->outputs[i], sizeof(sr_topic *));
    for (int i = 0; i < a->nops; i++) {
        const sr_op *op = &a->ops[i];
        if (!op->type || !op->type->writes || !op->conf) continue;
        size_t from = w.len;
        param_topics(op->type->params, op->conf, &w);
        /* only the topics the operator says it writes */
        size_t keep = from;
        for (size_t off = from; off < w.len; off += sizeof(sr_topic *)) {
            const sr_topic *tp;
            memcpy(&tp, w.d + off, sizeof(tp));
            if (op->type->writes(op, tp)) {
                memcpy(w.d + keep, &tp, sizeof(tp));
                keep += sizeof(tp);
            }
        }
        w.len = keep;
    }
    *out = (const sr_topic **)(void *)w.d; /* sr_buf memory is malloc'd: the caller frees it */
    return (int)(w.len / sizeof(sr_topic *));
}

/* The edges out of deployment a, one per deployment it feeds, through the first input of
 * that deployment a writes (the order in which the cycle error names them). */
static reader *edges_of(const sr_deployment *a, reader *const *readers, const int *nreaders, int *n)
{
    const sr_topic **written;
    size_t nw = (size_t)sr_deployment_writes(a, &written), count = 0;
    for (size_t i = 0; i < nw; i++) count += (size_t)nreaders[written[i]->index];
    reader *e = sr_xcalloc(count + 1, sizeof(reader));
    size_t ne = 0;
    for (size_t i = 0; i < nw; i++)
        for (int r = 0; r < nreaders[written[i]->index]; r++)
            e[ne++] = readers[written[i]->index][r];
    free(written);
    qsort(e, ne, sizeof(reader), cmp_reader);
    size_t out = 0;
    for (size_t i = 0; i < ne; i++)
        if (out == 0 || e[out - 1].dep != e[i].dep) e[out++] = e[i];
    *n = (int)out;
    return e;
}

static void report_cycle(sr_check *ck, const cyc_frame *frames, int from, int depth,
                         const sr_topic *const *vias, const sr_deployment *b)
{
    const sr_topology *t = ck->topo;
    if (from == depth) {
        sr_errc(ck->dg, SR_E_TOPIC_CYCLE, ck->file, b->mark,
                "deployment '%s' reads topic '%s', which it writes itself: records would go round "
                "forever",
                b->name, vias[depth]->name);
        return;
    }
    sr_buf path = {0};
    for (int s = from; s <= depth; s++) {
        if (s - from == 16 && depth - s > 4) { /* a long cycle: its start and its end */
            sr_buf_printf(&path, "... (%d more) -> ", depth - s - 3);
            s = depth - 3;
        }
        sr_buf_printf(&path, "%s -> %s -> ", t->deps[frames[s].node].name, vias[s]->name);
    }
    sr_buf_puts(&path, b->name);
    sr_errc(ck->dg, SR_E_TOPIC_CYCLE, ck->file, b->mark,
            "deployments form a cycle through topics: %s (deployment -> topic -> deployment); "
            "records would go round forever",
            sr_buf_cstr(&path));
    sr_buf_free(&path);
}

static void check_cycles(sr_check *ck)
{
    sr_topology *t = ck->topo;
    /* per topic, the deployments reading it */
    int *nreaders = sr_xcalloc((size_t)t->ntopics + 1, sizeof(int));
    reader **readers = sr_xcalloc((size_t)t->ntopics + 1, sizeof(reader *));
    for (int j = 0; j < t->ndeps; j++)
        for (int k = 0; k < t->deps[j].ninputs; k++) nreaders[t->deps[j].inputs[k]->index]++;
    for (int i = 0; i < t->ntopics; i++) {
        readers[i] = sr_xcalloc((size_t)nreaders[i] + 1, sizeof(reader));
        nreaders[i] = 0;
    }
    for (int j = 0; j < t->ndeps; j++)
        for (int k = 0; k < t->deps[j].ninputs; k++) {
            int ti = t->deps[j].inputs[k]->index;
            readers[ti][nreaders[ti]++] = (reader){j, k};
        }
    int *state = sr_xcalloc((size_t)t->ndeps + 1, sizeof(int)); /* 0 new, 1 on path, 2 done */
    cyc_frame *frames = sr_xcalloc((size_t)t->ndeps + 1, sizeof(cyc_frame));
    const sr_topic **vias = sr_xcalloc((size_t)t->ndeps + 1, sizeof(*vias));
    int depth = -1;
    bool found = false;
    for (int i = 0; i < t->ndeps && !found; i++) {
        if (state[i]) continue;
        state[i] = 1;
        frames[++depth] = (cyc_frame){.node = i};
        frames[depth].edges = edges_of(&t->deps[i], readers, nreaders, &frames[depth].n);
        while (depth >= 0 && !found) {
            cyc_frame *f = &frames[depth];
            if (f->next == f->n) {
                state[f->node] = 2;
                free(f->edges);
                depth--;
                continue;
            }
            reader e = f->edges[f->next++];
            vias[depth] = t->deps[e.dep].inputs[e.k];
            if (state[e.dep] == 1) {
                int from = 0;
                while (frames[from].node != e.dep) from++;
                report_cycle(ck, frames, from, depth, vias, &t->deps[e.dep]);
                found = true;
            } else if (state[e.dep] == 0) {
                assert(depth + 1 < t->ndeps);
                state[e.dep] = 1;
                frames[++depth] = (cyc_frame){.node = e.dep};
                frames[depth].edges =
                    edges_of(&t->deps[e.dep], readers, nreaders, &frames[depth].n);
            }
        }
    }
    for (; depth >= 0; depth--) free(frames[depth].edges);
    for (int i = 0; i < t->ntopics; i++) free(readers[i]);
    free(readers);
    free(nreaders);
    free(state);
    free(frames);
    free(vias);
}

/* ---- entry points --------------------------------------------------------------------------- */

static void load_root(sr_check *ck, const sr_ynode *root)
{
    sr_topology *t = ck->topo;
    if (!root) {
        bool blank = true;
        for (size_t i = 0; i < ck->file->len; i++)
            blank &= ck->file->text[i] == ' ' || ck->file->text[i] == '\t' ||
                     ck->file->text[i] == '\n' || ck->file->text[i] == '\r';
        sr_errc(ck->dg, SR_E_EMPTY_FILE, ck->file, (sr_mark){0},
                "the file %s; a topology file is a mapping with metadata, topics and deployments",
                blank ? "is empty" : "holds only comments");
        return;
    }
    if (root->kind != SR_Y_MAP) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, root->mark,
                "a topology file is a mapping with metadata, topics and deployments, not %s",
                sr_ydesc(root, got, sizeof(got)));
        return;
    }
    check_keys(ck, root, top_keys, "topology");
    const sr_ynode *meta = sr_ymap_get(root, "metadata");
    if (meta && meta->kind == SR_Y_MAP) {
        check_keys(ck, meta, meta_keys, "metadata");
        const char *name = scalar_or_null(ck, sr_ymap_get(meta, "name"), "metadata name");
        if (name) t->name = sr_xstrdup(name);
        const char *ver = scalar_or_null(ck, sr_ymap_get(meta, "version"), "metadata version");
        if (ver) t->version = sr_xstrdup(ver);
    } else if (meta && !sr_yis_null(meta)) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, meta->mark,
                "'metadata' must be a mapping such as {name: my-pipeline}, not %s",
                sr_ydesc(meta, got, sizeof(got)));
    }
    if (!t->name) {
        /* default: the file name without extension */
        const char *base = strrchr(t->path, '/');
        base = base ? base + 1 : t->path;
        t->name = sr_xstrdup(base);
        char *dot = strchr(t->name, '.');
        if (dot) *dot = 0;
    }
    const sr_ynode *k = sr_ymap_get(root, "kafka");
    if (k) load_kafka(ck, k, &t->kafka);
    for (int i = 0; i < t->kafka.n; i++)
        if (strcmp(t->kafka.names[i], "bootstrap.servers") == 0)
            t->broker = sr_xstrdup(t->kafka.vals[i]);
    const sr_ynode *b = sr_ymap_get(root, "broker");
    if (b) {
        const char *s = scalar_or_null(ck, b, "broker");
        if (s) {
            free(t->broker);
            t->broker = sr_xstrdup(s);
        }
    }
    const sr_ynode *topics = sr_ymap_get(root, "topics");
    if (topics)
        load_topics(ck, topics);
    else
        t->topics = sr_xcalloc(1, sizeof(sr_topic *));
    const sr_ynode *tables = sr_ymap_get(root, "tables");
    if (tables && !sr_yis_null(tables)) sr_tables_load(ck, tables);
    const sr_ynode *deps = sr_ymap_get(root, "deployments");
    if (!deps) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, root->mark,
                "topology: missing required key 'deployments'");
    } else if (deps->kind != SR_Y_SEQ) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, deps->mark,
                "'deployments' must be a list such as '- name: my-deployment', not %s",
                sr_ydesc(deps, got, sizeof(got)));
    } else {
        t->deps = sr_xcalloc((size_t)deps->nkids + 1, sizeof(sr_deployment));
        for (int i = 0; i < deps->nkids; i++) {
            load_deployment(ck, deps->kids[i], &t->deps[t->ndeps]);
            t->ndeps++;
        }
        split_rekeyed(ck);
        check_cycles(ck);
        sr_migrations_check(ck);
    }
    const sr_ynode *tests = sr_ymap_get(root, "tests");
    if (tests && !sr_yis_null(tests)) t->tests = tests;
}

/* sr_topology_load, from text[0..len) when text is set, else from the file at path. */
static int topology_load(sr_topology **out, const char *path, const char *text, size_t len,
                         sr_diag *dg)
{
    *out = NULL;
    int before = dg->nerrors;
    sr_topology *t = sr_xcalloc(1, sizeof(*t));
    t->path = sr_xstrdup(path);
    char *tmp = sr_xstrdup(path);
    t->dir = sr_xstrdup(dirname(tmp));
    free(tmp);
    /* Errors that leave the tree whole (an unset variable, a repeated key) do not stop the
     * checks: the user sees every error at once. A syntax error leaves no tree. */
    int rc = text ? sr_ydoc_parse(&t->doc, path, text, len, dg) : sr_ydoc_load(&t->doc, path, dg);
    if (rc != 0 && (!t->doc.file || !t->doc.root)) {
        sr_topology_free(t);
        return -1;
    }
    sr_check ck = {.dg = dg, .file = t->doc.file, .topo = t};
    load_root(&ck, t->doc.root);
    sr_schema_free(&ck.schema);
    *out = t;
    return dg->nerrors > before ? -1 : 0;
}

int sr_topology_load(sr_topology **out, const char *path, sr_diag *dg)
{
    return topology_load(out, path, NULL, 0, dg);
}

int sr_topology_load_text(sr_topology **out, const char *path, const char *text, size_t len,
                          sr_diag *dg)
{
    assert(text);
    return topology_load(out, path, text, len, dg);
}

static void free_deployment(sr_deployment *d)
{
    for (int i = 0; i < d->nops; i++) unload_step(&d->ops[i]);
    free(d->ops);
    free(d->name);
    free(d->inputs);
    free(d->outputs);
    free(d->group);
    if (d->source) {
        free(d->source->path);
        free(d->source->resolved);
        free(d->source->key);
        free(d->source->timestamp);
        sr_params_free(source_column_params, d->source);
        free(d->source);
    }
    sr_param p = {.type = SR_P_STRMAP, .name = "kafka", .off = 0};
    sr_param ps[2] = {p, {0}};
    sr_params_free(ps, &d->kafka);
    sr_schema_free(&d->out_schema);
    sr_migrations_free(d);
    for (int i = 0; i < d->nreads; i++) sr_schema_free(&d->reads[i]);
    free(d->reads);
}

void sr_topology_free(sr_topology *t)
{
    if (!t) return;
    tdestroy(t->topic_names, name_nofree);
    tdestroy(t->dep_names, name_nofree);
    for (int i = 0; i < t->ndeps; i++) free_deployment(&t->deps[i]);
    free(t->deps);
    sr_tables_free(t);
    sr_param ps[2] = {{.type = SR_P_STRMAP, .name = "kafka"}, {0}};
    for (int i = 0; i < t->ntopics; i++) {
        free(t->topics[i]->name);
        sr_params_free(ps, &t->topics[i]->config);
        free(t->topics[i]->config_marks);
        if (t->topics[i]->shape) sr_schema_free(t->topics[i]->shape);
        free(t->topics[i]->shape);
        free(t->topics[i]);
    }
    free(t->topics);
    sr_params_free(ps, &t->kafka);
    free(t->unsafe);
    free(t->broker);
    free(t->name);
    free(t->version);
    free(t->path);
    free(t->dir);
    sr_ydoc_free(&t->doc);
    if (t->owned_dg) {
        sr_diag_free(t->owned_dg);
        free(t->owned_dg);
    }
    free(t);
}
