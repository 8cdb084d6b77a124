/* compat.c — the stateful steps of a running topology and of its edited version compared:
 * every change that would corrupt or discard state, with its consequence and the fix, unless a
 * migration of the edited file declares it (README "Changing a running pipeline"). */
#include "load/compat.h"
#include "exec/task.h"
#include "load/expr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the stateful steps of a topology ------------------------------------------------------ */

int sr_compat_stores(const sr_topology *t, sr_compat_store **out)
{
    sr_compat_store *v = NULL;
    int n = 0, cap = 0;
    const sr_op *key_op = NULL;
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        if (d->stage == 1) key_op = NULL; /* the records' keys as they were produced */
        if (d->ninputs == 0) continue;    /* a file source: no changelog */
        int parts = 1;
        for (int k = 0; k < d->ninputs; k++)
            if (d->inputs[k]->partitions > parts) parts = d->inputs[k]->partitions;
        for (int k = 0; k < d->nops; k++) {
            const sr_op *op = &d->ops[k];
            if (!op->type || !op->conf) continue;
            if (op->type->rekey) key_op = op;
            const char *store = op->type->store_name ? op->type->store_name(op) : NULL;
            if (!store) continue;
            if (n == cap) v = sr_xrealloc(v, sizeof(*v) * (size_t)(cap = cap ? 2 * cap : 8));
            sr_compat_store *s = &v[n++];
            *s = (sr_compat_store){.dep = d,
                                   .origin = d->origin ? d->origin : d,
                                   .op = op,
                                   .store = store,
                                   .partitions = parts,
                                   .key_op = key_op};
            sr_state_signature(op, s->signature, &s->format);
        }
    }
    *out = v;
    return n;
}

void sr_compat_stores_free(sr_compat_store *v, int n)
{
    for (int i = 0; i < n; i++) free(v[i].format);
    free(v);
}

/* ---- comparing --------------------------------------------------------------------------- */

typedef struct cmp {
    const sr_topology *run, *ed;
    sr_compat_store *r, *e;
    int nr, ne;
    int *pair;   /* per running store: its edited store, or -1 */
    bool *taken; /* per edited store: paired */
    sr_diag *dg;
    int errors;
} cmp;

/* Whether deployments as written a (running) and b (edited) are the same deployment: the same
 * name, or the same consumer group (a deployment renamed with its group kept). */
static bool same_dep(const sr_deployment *a, const sr_deployment *b)
{
    return strcmp(a->name, b->name) == 0 || strcmp(a->group, b->group) == 0;
}

/* The key of the records as they reach s, described: "key expression 'x' (string)". */
static void key_desc(const sr_compat_store *s, char *buf, size_t size)
{
    const sr_expr *e = s->key_op ? sr_key_step_expr(s->key_op) : NULL;
    if (!e) {
        snprintf(buf, size, "the keys its input records were produced with");
        return;
    }
    sr_stype ty = sr_expr_type(e);
    snprintf(buf, size, "key '%s'%s%s%s", sr_expr_text(e), ty ? " (" : "",
             ty ? sr_stype_name(ty) : "", ty ? ")" : "");
}

/* The format text on one line, for a message. */
static void one_line(const char *fmt, char *buf, size_t size)
{
    snprintf(buf, size, "%s", fmt ? fmt : "");
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n') buf[--n] = 0;
    for (char *c = buf; *c; c++)
        if (*c == '\n') *c = ';';
}

static void changelog_name(const sr_compat_store *s, char *buf, size_t size)
{
    snprintf(buf, size, "%s-%s-changelog", s->dep->group, s->store);
}

/* The action declared for store in the edited deployment d (as written or stage), or -1. */
static int declared(const sr_deployment *d, const char *store)
{
    const sr_migration *m = d ? sr_deployment_migration(d, store) : NULL;
    return m ? (int)m->action : -1;
}

/* The edited deployment as written that is running deployment d, or NULL. */
static const sr_deployment *edited_dep(const cmp *c, const sr_deployment *d)
{
    for (int i = 0; i < c->ed->ndeps; i++)
        if (c->ed->deps[i].stage == 1 && strcmp(c->ed->deps[i].name, d->name) == 0)
            return &c->ed->deps[i];
    for (int i = 0; i < c->ed->ndeps; i++)
        if (c->ed->deps[i].stage == 1 && same_dep(d, &c->ed->deps[i])) return &c->ed->deps[i];
    return NULL;
}

static void report(cmp *c, sr_code code, bool accepted, const sr_srcfile *f, sr_mark m,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* An error, or a note when a migration declares the change. */
static void report(cmp *c, sr_code code, bool accepted, const sr_srcfile *f, sr_mark m,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sr_diag_vaddc(c->dg, accepted ? SR_NOTE : SR_ERROR, code, f, m, fmt, ap);
    va_end(ap);
    if (!accepted) c->errors++;
}

/* The place of the consumerGroup of edited deployment d (its name when not given). */
static sr_mark group_mark(const sr_topology *t, const sr_deployment *d)
{
    const sr_ynode *deps = t->doc.root ? sr_ymap_get(t->doc.root, "deployments") : NULL;
    for (int i = 0; deps && deps->kind == SR_Y_SEQ && i < deps->nkids; i++) {
        const sr_ynode *n = deps->kids[i], *name = sr_ymap_get(n, "name");
        if (!sr_yis_scalar(name) || strcmp(name->text, d->name) != 0) continue;
        const sr_ynode *g = sr_ymap_get(n, "consumerGroup");
        if (g) return g->mark;
    }
    return d->mark;
}

/* The rename {store: store, from: OLD} declared in edited deployment d, or NULL. */
static const sr_migration *rename_of(const sr_deployment *d, const char *store)
{
    const sr_migration *m = d ? sr_deployment_migration(d, store) : NULL;
    return m && m->action == SR_MIGRATE_RENAME ? m : NULL;
}

/* Whether the running topology has a store named store in a deployment that is edited d. */
static bool runs_store(const cmp *c, const sr_deployment *d, const char *store)
{
    for (int i = 0; i < c->nr; i++)
        if (same_dep(c->r[i].origin, d) && strcmp(c->r[i].store, store) == 0) return true;
    return false;
}

/* Pairs the stores a migration renames ({store: NEW, from: OLD}) with their running store OLD,
 * unless NEW runs already (the rename was deployed: NEW pairs with itself by name). */
static void pair_declared(cmp *c)
{
    for (int j = 0; j < c->ne; j++) {
        const sr_compat_store *e = &c->e[j];
        const sr_migration *m = rename_of(e->dep, e->store);
        if (!m || runs_store(c, e->origin, e->store)) continue;
        for (int i = 0; i < c->nr && !c->taken[j]; i++)
            if (c->pair[i] < 0 && same_dep(c->r[i].origin, e->origin) &&
                strcmp(c->r[i].store, m->from) == 0) {
                c->pair[i] = j;
                c->taken[j] = true;
            }
    }
}

/* Pairs running store i with an edited one: the same deployment and store name. */
static void pair_by_name(cmp *c)
{
    for (int i = 0; i < c->nr; i++)
        for (int pass = 0; pass < 2 && c->pair[i] < 0; pass++)
            for (int j = 0; j < c->ne; j++) {
                const sr_compat_store *r = &c->r[i], *e = &c->e[j];
                bool dep = pass == 0 ? strcmp(r->origin->name, e->origin->name) == 0
                                     : same_dep(r->origin, e->origin);
                if (c->taken[j] || !dep || strcmp(r->store, e->store) != 0) continue;
                c->pair[i] = j;
                c->taken[j] = true;
                break;
            }
}

/* Pairs what is left: a store of the same deployment and operator, preferably of the same
 * signature, under another name (renamed: often a default name that followed its step). */
static void pair_renamed(cmp *c)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < c->nr; i++) {
            if (c->pair[i] >= 0) continue;
            for (int j = 0; j < c->ne; j++) {
                const sr_compat_store *r = &c->r[i], *e = &c->e[j];
                if (c->taken[j] || !same_dep(r->origin, e->origin) ||
                    strcmp(r->op->type->name, e->op->type->name) != 0 ||
                    (pass == 0 && strcmp(r->signature, e->signature) != 0))
                    continue;
                c->pair[i] = j;
                c->taken[j] = true;
                break;
            }
        }
}

static void check_renamed(cmp *c, const sr_compat_store *r, const sr_compat_store *e)
{
    char was[300], now[300];
    changelog_name(r, was, sizeof(was));
    changelog_name(e, now, sizeof(now));
    bool ok = declared(e->dep, r->store) == SR_MIGRATE_DROP ||
              declared(e->dep, e->store) == SR_MIGRATE_RESET;
    bool explicit = e->op->settings && e->op->settings->kind == SR_Y_MAP &&
                    sr_ymap_get(e->op->settings, "store");
    if (ok)
        report(c, SR_E_STORE_RENAMED, true, e->op->file, e->op->mark,
               "deployment '%s': %s: store '%s' (was '%s'; migration): it starts empty from "
               "changelog '%s'; the running state stays in '%s', which nothing reads any more "
               "(delete that topic once the new version runs)",
               e->origin->name, e->op->label, e->store, r->store, now, was);
    else
        report(c, SR_E_STORE_RENAMED, false, e->op->file, e->op->mark,
               "deployment '%s': %s: its store is now '%s', but the running step's store is "
               "'%s'%s: the state stays behind in "
               "changelog '%s' and this step starts empty from '%s'. To keep the state, set "
               "'store: %s' on this step; to start empty, declare {store: %s, action: drop} "
               "under the deployment's migrations",
               e->origin->name, e->op->label, e->store, r->store,
               explicit ? "" : " (a default store name follows the step number)", was, now,
               r->store, r->store);
    if (!ok && strcmp(r->signature, e->signature) == 0 && strcmp(r->dep->group, e->dep->group) == 0)
        sr_diag_help(c->dg,
                     "to keep the state under the new name, declare the rename under the "
                     "deployment's migrations:\n  migrations: [{store: %s, from: %s}]",
                     e->store, r->store);
}

static void check_group(cmp *c, int i)
{
    const sr_compat_store *r = &c->r[i], *e = &c->e[c->pair[i]];
    for (int k = 0; k < i; k++) /* one report per deployment */
        if (c->pair[k] >= 0 && c->r[k].origin == r->origin && c->e[c->pair[k]].origin == e->origin)
            return;
    bool ok = true;
    char stores[600] = "";
    size_t sl = 0;
    for (int k = 0; k < c->nr; k++) {
        if (c->pair[k] < 0 || c->r[k].origin != r->origin) continue;
        const sr_compat_store *ek = &c->e[c->pair[k]];
        int a = declared(ek->dep, c->r[k].store);
        ok &= a == SR_MIGRATE_RESET || a == SR_MIGRATE_DROP;
        if (sl < sizeof(stores) - 80)
            sl += (size_t)snprintf(stores + sl, sizeof(stores) - sl, "%s'%s'", sl ? ", " : "",
                                   c->r[k].store);
    }
    sr_mark m = group_mark(c->ed, e->origin);
    if (ok)
        report(c, SR_E_GROUP_CHANGED, true, e->origin->file, m,
               "deployment '%s': consumer group '%s' (was '%s'; migrations): its stores %s start "
               "empty and its inputs are read from where auto.offset.reset says; the old group's "
               "offsets and changelogs are left behind",
               e->origin->name, e->origin->group, r->origin->group, stores);
    else
        report(c, SR_E_GROUP_CHANGED, false, e->origin->file, m,
               "deployment '%s': its consumer group is now '%s', but the running one is '%s': the "
               "committed input offsets and the changelogs of its stores %s belong to the old "
               "group, so the new one reads its inputs from where auto.offset.reset says and its "
               "stores start empty. Keep consumerGroup: %s to keep them; or declare {store: NAME, "
               "action: reset} for each of those stores under the deployment's migrations",
               e->origin->name, e->origin->group, r->origin->group, stores, r->origin->group);
}

static void check_split(cmp *c, const sr_compat_store *r, const sr_compat_store *e)
{
    char was[300], now[300];
    changelog_name(r, was, sizeof(was));
    changelog_name(e, now, sizeof(now));
    const sr_op *at = e->key_op ? e->key_op : e->op;
    int a = declared(e->dep, e->store);
    bool ok = a == SR_MIGRATE_RESET || a == SR_MIGRATE_DROP;
    if (ok)
        report(c, SR_E_REPARTITION_MOVED, true, at->file, at->mark,
               "deployment '%s': the re-keyed stage before store '%s' now reads "
               "'%s-repartition' (was '%s-repartition'; migration): the store starts empty from "
               "changelog '%s' (was '%s'), and records left in the old repartition topic are "
               "not read",
               e->origin->name, e->store, e->dep->group, r->dep->group, now, was);
    else
        report(c, SR_E_REPARTITION_MOVED, false, at->file, at->mark,
               "deployment '%s': the repartition split before store '%s' moved: its stage now "
               "reads '%s-repartition', not '%s-repartition', so records still in the old "
               "repartition topic are never read, and the store starts empty from changelog "
               "'%s' while its state stays in '%s'. Keep this key step at step %d (add the new "
               "steps after it), or declare {store: %s, action: reset} under the deployment's "
               "migrations",
               e->origin->name, e->store, e->dep->group, r->dep->group, now, was,
               r->key_op ? r->key_op->index : 0, e->store);
}

/* The place to blame for a changed changelog partition count: an input of e's stage whose count
 * changed, else its key step (the repartition topic's count), else the step. */
static void partitions_place(const cmp *c, const sr_compat_store *e, const sr_srcfile **f,
                             sr_mark *m)
{
    int n1 = e->dep->ninputs, n2 = e->origin->ninputs;
    for (int k = 0; k < n1 + n2; k++) {
        const sr_topic *tp = k < n1 ? e->dep->inputs[k] : e->origin->inputs[k - n1];
        const sr_topic *was = tp->internal ? NULL : sr_topology_topic(c->run, tp->name);
        if (was && was->partitions != tp->partitions && tp->file) {
            *f = tp->file;
            *m = tp->partitions_mark;
            return;
        }
    }
    const sr_op *at = e->dep->stage > 1 && e->key_op ? e->key_op : e->op;
    *f = at->file;
    *m = at->mark;
}

/* A store renamed by a migration {store: NEW, from: OLD} (e, running as r): accepted when the
 * state's format is the same (a note saying what up does), refused with both formats when not.
 * Returns whether it was accepted (the other checks then compare the two as one store). */
static bool check_declared_rename(cmp *c, const sr_compat_store *r, const sr_compat_store *e,
                                  const sr_migration *m)
{
    char was[300], now[300];
    changelog_name(r, was, sizeof(was));
    changelog_name(e, now, sizeof(now));
    const sr_srcfile *f = e->origin->file;
    if (strcmp(r->signature, e->signature) != 0) {
        char rf[400], ef[400];
        one_line(r->format, rf, sizeof(rf));
        one_line(e->format, ef, sizeof(ef));
        sr_errc(c->dg, SR_E_COMPAT_RENAME_FORMAT, f, m->from_mark,
                "deployment '%s': store '%s' cannot take over the state of '%s': its state is "
                "now [%s] (signature %s), the running store's is [%s] (signature %s); up would "
                "refuse the records of changelog '%s' and exit 2",
                e->origin->name, e->store, r->store, ef, e->signature, rf, r->signature, was);
        sr_diag_related(c->dg, e->op->file, e->op->mark, "the state of %s", e->op->label);
        sr_diag_help(c->dg,
                     "undo the change to the step's state; or replace the rename by {store: %s, "
                     "action: drop} to start '%s' empty",
                     r->store, e->store);
        c->errors++;
        return false;
    }
    sr_diag_addc(c->dg, SR_NOTE, SR_N_COMPAT_RENAMED, e->op->file, e->op->mark,
                 "deployment '%s': %s: store '%s' (was '%s'; migration): up restores it from "
                 "changelog '%s' and copies that state into '%s' at its first commit; from then "
                 "on '%s' holds it all (delete '%s' once the new version has run)",
                 e->origin->name, e->op->label, e->store, r->store, was, now, now, was);
    return true;
}

static void check_pair(cmp *c, int i)
{
    const sr_compat_store *r = &c->r[i], *e = &c->e[c->pair[i]];
    const sr_migration *rn = rename_of(e->dep, e->store);
    bool renamed = strcmp(r->store, e->store) != 0;
    if (renamed && !(rn && strcmp(rn->from, r->store) == 0)) {
        check_renamed(c, r, e);
        return;
    }
    if (renamed && !check_declared_rename(c, r, e, rn)) return;
    if (strcmp(r->origin->group, e->origin->group) != 0) {
        check_group(c, i);
        return;
    }
    if (strcmp(r->dep->group, e->dep->group) != 0) {
        check_split(c, r, e);
        return;
    }
    char clog[300];
    changelog_name(e, clog, sizeof(clog));
    int a = declared(e->dep, e->store);
    bool reset = a == SR_MIGRATE_RESET;
    if (strcmp(r->signature, e->signature) != 0 && !renamed) {
        char was[400], now[400];
        one_line(r->format, was, sizeof(was));
        one_line(e->format, now, sizeof(now));
        if (reset)
            report(c, SR_E_STATE_FORMAT, true, e->op->file, e->op->mark,
                   "deployment '%s': %s: store '%s' is reset (migration): its state is now [%s] "
                   "(signature %s), was [%s] (signature %s); up starts it empty, skipping and "
                   "counting the records of changelog '%s' written in the old format",
                   e->origin->name, e->op->label, e->store, now, e->signature, was, r->signature,
                   clog);
        else
            report(c, SR_E_STATE_FORMAT, false, e->op->file, e->op->mark,
                   "deployment '%s': %s: the state of store '%s' is now [%s] (signature %s), but "
                   "the running step's is [%s] (signature %s): up would refuse to restore it from "
                   "changelog '%s' and exit 2. Undo the change; or declare {store: %s, action: "
                   "reset} under the deployment's migrations to start it empty; or give the step "
                   "a new 'store:' name (and declare {store: %s, action: drop})",
                   e->origin->name, e->op->label, e->store, now, e->signature, was, r->signature,
                   clog, e->store, e->store);
    }
    char rk[300], ek[300];
    key_desc(r, rk, sizeof(rk));
    key_desc(e, ek, sizeof(ek));
    if (strcmp(rk, ek) != 0 && !(reset && strcmp(r->signature, e->signature) != 0)) {
        const sr_op *at = e->key_op ? e->key_op : e->op;
        bool keep = a == SR_MIGRATE_KEEP;
        if (keep)
            report(c, SR_E_STORE_KEY, true, at->file, at->mark,
                   "deployment '%s': %s: store '%s' is kept (migration) though its records are "
                   "now keyed by %s, not by %s: the state of each key is read as the state of the "
                   "same key under the new expression",
                   e->origin->name, e->op->label, e->store, ek, rk);
        else
            report(c, SR_E_STORE_KEY, false, at->file, at->mark,
                   "deployment '%s': %s: store '%s' is now keyed by %s, but the running step's by "
                   "%s: the same store, whose keys now mean something else, so the state kept "
                   "for an old key is silently taken for a new key that happens to be equal%s. "
                   "Undo the change; or give the step a new 'store:' name to start empty (and "
                   "declare {store: %s, action: drop}); or, if every key keeps its value, declare "
                   "{store: %s, action: keep} under the deployment's migrations",
                   e->origin->name, e->op->label, e->store, ek, rk,
                   reset ? " (a reset skips only records of another format, and the format did "
                           "not change)"
                         : "",
                   e->store, e->store);
    }
    if (r->partitions != e->partitions) {
        const sr_srcfile *f;
        sr_mark m;
        partitions_place(c, e, &f, &m);
        report(c, SR_E_STORE_PARTITIONS, false, f, m,
               "deployment '%s': %s: store '%s' would now be partitioned in %d, but its changelog "
               "'%s' has %d partitions: keys move to other partitions, and up refuses a changelog "
               "whose partition count differs (exit 2). Keep %d partitions; or give the step a "
               "new 'store:' name (a new changelog) and declare {store: %s, action: drop}",
               e->origin->name, e->op->label, e->store, e->partitions, clog, r->partitions,
               r->partitions, e->store);
    }
}

static void check_removed(cmp *c, const sr_compat_store *r)
{
    char clog[300];
    changelog_name(r, clog, sizeof(clog));
    const sr_deployment *ed = edited_dep(c, r->origin);
    if (!ed) {
        sr_diag_addc(c->dg, SR_WARNING, SR_W_LEFT_BEHIND, r->op->file, r->op->mark,
                     "deployment '%s' is gone from the edited topology: the changelog '%s' of its "
                     "store '%s' and its consumer group '%s' are left behind (delete them once the "
                     "new version runs)",
                     r->origin->name, clog, r->store, r->dep->group);
        return;
    }
    bool ok = declared(ed, r->store) == SR_MIGRATE_DROP;
    report(c, SR_E_STORE_REMOVED, ok, r->op->file, r->op->mark,
           ok ? "deployment '%s': %s: store '%s' is dropped (migration): its changelog '%s' is "
                "left behind (delete it once the new version runs)%s%s"
              : "deployment '%s': %s: store '%s' is gone from the edited topology: its state is "
                "left in changelog '%s', which nothing reads any more (and a step given that "
                "store name later would restore it, stale). Keep the step, or declare {store: "
                "%s, action: drop} under the migrations of deployment '%s'",
           r->origin->name, r->op->label, r->store, clog, ok ? "" : r->store, ok ? "" : ed->name);
}

/* A deployment without state whose consumer group changed: its committed offsets are left
 * behind (a warning: no state is lost, but where its inputs are read from changes). */
static void check_stateless_groups(cmp *c)
{
    for (int i = 0; i < c->run->ndeps; i++) {
        const sr_deployment *r = &c->run->deps[i];
        bool stateful = false;
        for (int k = 0; k < c->nr && !stateful; k++) stateful = c->r[k].origin == r;
        if (r->stage != 1 || stateful || r->ninputs == 0) continue;
        const sr_deployment *e = edited_dep(c, r);
        if (!e || e->ninputs == 0 || strcmp(r->group, e->group) == 0) continue;
        sr_diag_addc(c->dg, SR_WARNING, SR_E_GROUP_CHANGED, e->file, group_mark(c->ed, e),
                     "deployment '%s': its consumer group is now '%s', but the running one is "
                     "'%s': the new group has no committed offsets and reads its inputs from where "
                     "auto.offset.reset says (records skipped or read again); keep consumerGroup: "
                     "%s to go on from the committed offsets",
                     e->name, e->group, r->group, r->group);
    }
}

/* Whether the pair r, e changed anything about the state: its store name, consumer groups,
 * format, key or partitions. */
static bool pair_changed(const sr_compat_store *r, const sr_compat_store *e)
{
    char rk[300], ek[300];
    key_desc(r, rk, sizeof(rk));
    key_desc(e, ek, sizeof(ek));
    return strcmp(r->store, e->store) || strcmp(r->dep->group, e->dep->group) ||
           strcmp(r->signature, e->signature) || strcmp(rk, ek) || r->partitions != e->partitions;
}

/* Migrations of edited that do nothing here: a drop of a store the deployment still has under
 * the same changelog (a warning: its state is restored as before, which the entry seems not to
 * want), a reset or keep of a store that did not change (a note: up restores it as before). */
static void check_unused_migrations(cmp *c)
{
    for (int d = 0; d < c->ed->ndeps; d++) {
        const sr_deployment *w = &c->ed->deps[d];
        for (int k = 0; k < w->nmigrations; k++) {
            const sr_migration *m = &w->migrations[k];
            if (m->action == SR_MIGRATE_RENAME) continue; /* check_renames */
            for (int i = 0; i < c->nr; i++) {
                if (c->pair[i] < 0) continue;
                const sr_compat_store *r = &c->r[i], *e = &c->e[c->pair[i]];
                if (e->origin != w ||
                    strcmp(m->action == SR_MIGRATE_DROP ? r->store : e->store, m->store) != 0)
                    continue;
                if (m->action == SR_MIGRATE_DROP && !strcmp(r->store, e->store) &&
                    !strcmp(r->dep->group, e->dep->group))
                    sr_diag_addc(c->dg, SR_WARNING, SR_W_DROPPED_STORE_USED, w->file, m->store_mark,
                                 "deployment '%s': store '%s' is declared dropped, but %s still "
                                 "has it, with the same changelog: up restores its state as "
                                 "before. Declare {store: %s, action: reset} to start it empty, "
                                 "or remove the entry",
                                 w->name, m->store, e->op->label, m->store);
                else if (m->action != SR_MIGRATE_DROP && !pair_changed(r, e))
                    sr_diag_addc(c->dg, SR_NOTE, SR_N_MIGRATION_UNUSED, w->file, m->store_mark,
                                 "deployment '%s': the %s of store '%s' changes nothing now: "
                                 "nothing about its state changed, and up restores it as before",
                                 w->name, m->action == SR_MIGRATE_RESET ? "reset" : "keep",
                                 m->store);
            }
        }
    }
}

/* Renames of edited that find no running store to take over: OLD is not a store of the
 * running deployment (an error: the state expected is not there), or NEW runs already (a note:
 * the rename was deployed, and up no longer reads OLD once NEW's changelog holds the copy). */
static void check_renames(cmp *c)
{
    for (int d = 0; d < c->ed->ndeps; d++) {
        const sr_deployment *w = &c->ed->deps[d];
        for (int k = 0; k < w->nmigrations; k++) {
            const sr_migration *m = &w->migrations[k];
            if (m->action != SR_MIGRATE_RENAME) continue;
            bool paired = false;
            for (int i = 0; i < c->nr && !paired; i++)
                paired = c->pair[i] >= 0 && c->e[c->pair[i]].origin == w &&
                         strcmp(c->e[c->pair[i]].store, m->store) == 0 &&
                         strcmp(c->r[i].store, m->from) == 0;
            if (paired) continue;
            if (runs_store(c, w, m->store)) {
                sr_diag_addc(c->dg, SR_NOTE, SR_N_COMPAT_RENAMED, w->file, m->from_mark,
                             "deployment '%s': store '%s' runs already: its rename from '%s' was "
                             "deployed, and up reads '%s' again only while the new changelog "
                             "has no complete copy (the entry can go)",
                             w->name, m->store, m->from, m->from);
                continue;
            }
            const char **names = sr_xcalloc((size_t)c->nr + 1, sizeof(char *));
            int n = 0;
            for (int i = 0; i < c->nr; i++)
                if (same_dep(c->r[i].origin, w)) names[n++] = c->r[i].store;
            char list[400] = "";
            size_t ll = 0;
            for (int j = 0; j < n && ll < sizeof(list) - 80; j++)
                ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s'%s'", j ? ", " : "",
                                       names[j]);
            const char *sug = sr_suggest(m->from, names, n);
            sr_errc(c->dg, SR_E_COMPAT_RENAME_NO_OLD, w->file, m->from_mark,
                    "deployment '%s': store '%s' is renamed from '%s', but the running "
                    "deployment has no store '%s' (%s%s): there is no state to take over",
                    w->name, m->store, m->from, m->from, n ? "its stores: " : "it has no state",
                    list);
            if (sug)
                sr_diag_help(c->dg, "write the migration as {store: %s, from: %s}", m->store, sug);
            free(names);
            c->errors++;
        }
    }
}

int sr_compat_compare(const sr_topology *running, const sr_topology *edited, sr_diag *dg)
{
    cmp c = {.run = running, .ed = edited, .dg = dg};
    c.nr = sr_compat_stores(running, &c.r);
    c.ne = sr_compat_stores(edited, &c.e);
    c.pair = sr_xcalloc((size_t)c.nr + 1, sizeof(int));
    c.taken = sr_xcalloc((size_t)c.ne + 1, sizeof(bool));
    for (int i = 0; i < c.nr; i++) c.pair[i] = -1;
    pair_declared(&c);
    pair_by_name(&c);
    pair_renamed(&c);
    for (int i = 0; i < c.nr; i++) {
        if (c.pair[i] >= 0)
            check_pair(&c, i);
        else
            check_removed(&c, &c.r[i]);
    }
    check_stateless_groups(&c);
    check_unused_migrations(&c);
    check_renames(&c);
    free(c.pair);
    free(c.taken);
    sr_compat_stores_free(c.r, c.nr);
    sr_compat_stores_free(c.e, c.ne);
    return c.errors;
}
