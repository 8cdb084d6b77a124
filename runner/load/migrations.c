/* migrations.c — the `migrations:` of a deployment: a declared reset, keep or drop of a store's
 * state, which `compat` accepts and `up` honours (README "Changing a running pipeline"). */
#include "load/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actions[] = {"reset", "keep", "drop"};
static const char *const entry_keys[] = {"store", "action", "from"};

#define SHAPE "{store: NAME, action: reset|keep|drop} or {store: NEW, from: OLD}"

/* Whether n is a store name (a non-empty scalar); reports it at n otherwise. */
static bool store_name(sr_check *ck, const sr_ynode *n, const char *label, const char *key)
{
    char got[64];
    if (sr_yis_scalar(n) && !sr_yis_null(n) && n->text[0]) return true;
    sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark,
            "%s: migration: '%s' must be the name of a store (a step's store: setting, or "
            "its default such as aggregate-3), not %s",
            label, key, sr_ydesc(n, got, sizeof(got)));
    return false;
}

/* A rename {store: NEW, from: OLD} (n, with its store s, action a and from nodes) into *m;
 * returns false after reporting what is wrong with it. */
static bool load_rename(sr_check *ck, const sr_ynode *n, const char *label, const sr_ynode *s,
                        const sr_ynode *a, const sr_ynode *from, sr_migration *m)
{
    if (a) {
        sr_errc(ck->dg, SR_E_MIGRATION_ACTION_AND_FROM, ck->file, a->mark,
                "%s: migration: a rename ({store: NEW, from: OLD}) takes no 'action' (the store "
                "takes over the state of the old one); an action applies to one store",
                label);
        sr_diag_help(ck->dg, "remove 'action: %s', or remove 'from:' to %s the store",
                     sr_yis_scalar(a) && a->text ? a->text : "...",
                     sr_yis_scalar(a) && a->text ? a->text : "act on");
        return false;
    }
    if (!s) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, n->mark,
                "%s: migration: missing required key 'store' (%s)", label, SHAPE);
        return false;
    }
    bool ok = store_name(ck, s, label, "store");
    ok &= store_name(ck, from, label, "from");
    if (ok && strcmp(s->text, from->text) == 0) {
        sr_errc(ck->dg, SR_E_MIGRATION_FROM, ck->file, from->mark,
                "%s: migration: store '%s' renamed from itself: 'from' names the store whose state "
                "it takes over, under its old name",
                label, s->text);
        sr_diag_help(ck->dg,
                     "{store: %s, from: NAME} with NAME the store's name in the running topology",
                     s->text);
        ok = false;
    }
    if (!ok) return false;
    *m = (sr_migration){.store = sr_xstrdup(s->text),
                        .action = SR_MIGRATE_RENAME,
                        .mark = n->mark,
                        .store_mark = s->mark,
                        .from = sr_xstrdup(from->text),
                        .from_mark = from->mark};
    return true;
}

/* One entry n into *m; returns false after reporting what is wrong with it. */
static bool load_entry(sr_check *ck, const sr_ynode *n, const char *label, sr_migration *m)
{
    char got[64];
    if (n->kind != SR_Y_MAP) {
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark,
                "%s: a migration must be a mapping %s, not %s", label, SHAPE,
                sr_ydesc(n, got, sizeof(got)));
        return false;
    }
    bool ok = true, guessed[3] = {false, false, false}; /* a misspelling reported */
    for (int i = 0; i < n->nkids; i += 2) {
        const sr_ynode *k = n->kids[i];
        if (sr_yis_scalar(k) &&
            (!strcmp(k->text, "store") || !strcmp(k->text, "action") || !strcmp(k->text, "from")))
            continue;
        const char *sug = sr_yis_scalar(k) ? sr_suggest(k->text, entry_keys, 3) : NULL;
        if (sug && sr_ymap_get(n, sug)) sug = NULL;
        for (int j = 0; sug && j < 3; j++) guessed[j] |= sug == entry_keys[j];
        if (sug)
            sr_errc(ck->dg, SR_E_UNKNOWN_KEY, ck->file, k->mark,
                    "%s: migration: unknown key '%s'; did you mean '%s'?", label,
                    sr_yis_scalar(k) ? k->text : "?", sug);
        else
            sr_errc(ck->dg, SR_E_UNKNOWN_KEY, ck->file, k->mark,
                    "%s: migration: unknown key '%s' (expected store, and action or from)", label,
                    sr_yis_scalar(k) ? k->text : "?");
        if (sug) sr_diag_help_rewrite(ck->dg, ck->file, k->mark, k->text, sug, "correct the key");
        ok = false;
    }
    const sr_ynode *s = sr_ymap_get(n, "store"), *a = sr_ymap_get(n, "action");
    const sr_ynode *from = sr_ymap_get(n, "from");
    if ((!s && guessed[0]) || (!a && !from && (guessed[1] || guessed[2]))) return false; /* said */
    if (from) {
        if (!load_rename(ck, n, label, s, a, from, m)) return false;
        if (ok) return true;
        free(m->store); /* an unknown key beside a well-formed rename: the entry is refused */
        free(m->from);
        return false;
    }
    if (!s || !a) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, n->mark,
                "%s: migration: missing required key '%s' (%s)", label, !s ? "store" : "action",
                SHAPE);
        return false;
    }
    ok &= store_name(ck, s, label, "store");
    int act = -1;
    for (int i = 0; i < 3 && sr_yis_scalar(a); i++)
        if (strcmp(a->text, actions[i]) == 0) act = i;
    if (act < 0) {
        const char *sug = sr_yis_scalar(a) ? sr_suggest(a->text, actions, 3) : NULL;
        sr_errc(ck->dg, SR_E_NOT_A_CHOICE, ck->file, a->mark,
                "%s: migration: 'action' must be reset (the store starts empty), keep (its state "
                "is kept though its key changed) or drop (the running state of that store name is "
                "given up), not %s%s%s%s",
                label, sr_ydesc(a, got, sizeof(got)), sug ? "; did you mean '" : "", sug ? sug : "",
                sug ? "'?" : "");
        if (sug)
            sr_diag_help_rewrite(ck->dg, ck->file, a->mark, a->text, sug, "correct the action");
        ok = false;
    }
    if (!ok) return false;
    *m = (sr_migration){.store = sr_xstrdup(s->text),
                        .action = (sr_migrate_action)act,
                        .mark = n->mark,
                        .store_mark = s->mark};
    return true;
}

/* Whether m takes the state of a store that another migration of d already takes or gives up
 * (renamed twice from one store, or renamed from a store also dropped); reports it. */
static bool taken_twice(sr_check *ck, const sr_deployment *d, const sr_migration *m,
                        const char *label)
{
    for (int k = 0; k < d->nmigrations; k++) {
        const sr_migration *o = &d->migrations[k];
        const char *old = m->from ? m->from : m->action == SR_MIGRATE_DROP ? m->store : NULL;
        const char *other = o->from ? o->from : o->action == SR_MIGRATE_DROP ? o->store : NULL;
        if (!old || !other || strcmp(old, other) != 0 || (!m->from && !o->from)) continue;
        const sr_migration *rename = m->from ? m : o;
        sr_errc(ck->dg, SR_E_MIGRATION_FROM_TWICE, ck->file, m->from ? m->from_mark : m->store_mark,
                "%s: the state of store '%s' is %s here, and %s by the migration on line %d: a "
                "store's state goes to one store, or is given up",
                label, old, m->from ? "taken over" : "dropped", o->from ? "taken over" : "dropped",
                o->mark.line);
        sr_diag_related(ck->dg, ck->file, o->mark, "the other migration of '%s'", old);
        sr_diag_help(ck->dg, "keep {store: %s, from: %s} alone", rename->store, old);
        return true;
    }
    return false;
}

void sr_migrations_load(sr_check *ck, const sr_ynode *n, sr_deployment *d)
{
    char label[300], got[64];
    snprintf(label, sizeof(label), "deployment '%s'", d->name ? d->name : "?");
    if (sr_yis_null(n)) return;
    if (n->kind != SR_Y_SEQ) {
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, n->mark,
                "%s: 'migrations' must be a list of %s, not %s", label, SHAPE,
                sr_ydesc(n, got, sizeof(got)));
        return;
    }
    if (d->source && n->nkids > 0) {
        sr_errc(ck->dg, SR_E_MIGRATION_NOT_HERE, ck->file, n->mark,
                "%s: migrations apply to state kept in changelog topics, and a deployment that "
                "replays a 'source' file has none (its state is rebuilt from the file on every "
                "run): remove them",
                label);
        return;
    }
    d->migrations = sr_xcalloc((size_t)n->nkids + 1, sizeof(sr_migration));
    for (int i = 0; i < n->nkids; i++) {
        sr_migration m;
        if (!load_entry(ck, n->kids[i], label, &m)) continue;
        const sr_migration *dup = NULL;
        for (int k = 0; k < d->nmigrations && !dup; k++)
            if (strcmp(d->migrations[k].store, m.store) == 0) dup = &d->migrations[k];
        if (dup) {
            sr_errc(ck->dg, SR_E_MIGRATION_TWICE, ck->file, m.store_mark,
                    "%s: a second migration of store '%s' (the first on line %d): one action per "
                    "store",
                    label, m.store, dup->mark.line);
            sr_diag_related(ck->dg, ck->file, dup->store_mark, "the first migration of store '%s'",
                            m.store);
            free(m.store);
            free(m.from);
            continue;
        }
        if (taken_twice(ck, d, &m, label)) {
            free(m.store);
            free(m.from);
            continue;
        }
        d->migrations[d->nmigrations++] = m;
    }
}

/* The stores of the deployment as written d and its later stages (which follow it in deps[]),
 * into names and their steps into ops (at most cap); returns their count. */
static int stores_of(const sr_topology *t, const sr_deployment *d, const char **names,
                     const sr_op **ops, int cap)
{
    int n = 0;
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *s = &t->deps[i];
        if (s != d && s->origin != d) continue;
        for (int k = 0; k < s->nops; k++) {
            const sr_op *op = &s->ops[k];
            const char *name =
                op->type && op->conf && op->type->store_name ? op->type->store_name(op) : NULL;
            if (name && n < cap) {
                ops[n] = op;
                names[n++] = name;
            }
        }
    }
    return n;
}

/* The step among ops[0..n) (their stores' names[]) whose store is store, or NULL. */
static const sr_op *store_step(const char **names, const sr_op **ops, int n, const char *store)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], store) == 0) return ops[i];
    return NULL;
}

/* A rename {store: NEW, from: OLD} of d: NEW is one of its stores (names[0..n)), OLD none. */
static void check_rename(sr_check *ck, const sr_deployment *d, const sr_migration *m,
                         const char **names, const sr_op **ops, int n)
{
    const sr_op *old = store_step(names, ops, n, m->from);
    if (old) {
        sr_errc(ck->dg, SR_E_MIGRATION_FROM_EXISTS, d->file, m->from_mark,
                "deployment '%s': store '%s' cannot be renamed to '%s': the deployment still has "
                "a store '%s' (%s), which keeps its own state; a rename moves the state of a store "
                "that is gone",
                d->name, m->from, m->store, m->from, old->label);
        sr_diag_related(ck->dg, old->file, old->mark, "store '%s' is this step's", m->from);
        sr_diag_help(ck->dg,
                     "give that step another 'store:' name, or remove the migration to keep both "
                     "stores as they are");
        return;
    }
    if (store_step(names, ops, n, m->store)) return;
    char list[400] = "";
    size_t ll = 0;
    for (int j = 0; j < n && ll < sizeof(list) - 80; j++)
        ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s", j ? ", " : "", names[j]);
    const char *sug = sr_suggest(m->store, names, n);
    sr_errc(ck->dg, SR_E_MIGRATION_RENAME_UNKNOWN, d->file, m->store_mark,
            "deployment '%s': store '%s' (renamed from '%s') is not a store of the deployment "
            "(%s%s%s): a rename names the new store, which a step has, and the old one in 'from'",
            d->name, m->store, m->from, n ? "its stores: " : "it has no stateful step",
            n ? list : "", "");
    if (sug) sr_diag_help(ck->dg, "write the migration as {store: %s, from: %s}", sug, m->from);
}

void sr_migrations_check(sr_check *ck)
{
    const sr_topology *t = ck->topo;
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        if (d->nmigrations == 0) continue;
        int cap = 0;
        for (int j = 0; j < t->ndeps; j++)
            if (&t->deps[j] == d || t->deps[j].origin == d) cap += t->deps[j].nops;
        const char **names = sr_xcalloc((size_t)cap + 1, sizeof(char *));
        const sr_op **ops = sr_xcalloc((size_t)cap + 1, sizeof(sr_op *));
        int n = stores_of(t, d, names, ops, cap);
        for (int k = 0; k < d->nmigrations; k++) {
            const sr_migration *m = &d->migrations[k];
            if (m->action == SR_MIGRATE_DROP) continue; /* names a store that is gone */
            if (m->action == SR_MIGRATE_RENAME) {
                check_rename(ck, d, m, names, ops, n);
                continue;
            }
            bool found = false;
            for (int j = 0; j < n && !found; j++) found = strcmp(names[j], m->store) == 0;
            if (found) continue;
            char list[400] = "";
            size_t ll = 0;
            for (int j = 0; j < n && ll < sizeof(list) - 80; j++)
                ll +=
                    (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s", j ? ", " : "", names[j]);
            const char *sug = sr_suggest(m->store, names, n);
            if (n == 0)
                sr_errc(ck->dg, SR_E_MIGRATION_NOT_HERE, d->file, m->store_mark,
                        "deployment '%s': migration '%s' of store '%s': the deployment has no "
                        "stateful step (only 'drop' names a store that is gone)",
                        d->name, m->action == SR_MIGRATE_RESET ? "reset" : "keep", m->store);
            else if (sug)
                sr_errc(ck->dg, SR_E_MIGRATION_STORE, d->file, m->store_mark,
                        "deployment '%s': migration of unknown store '%s'; did you mean '%s'? (its "
                        "stores: %s)",
                        d->name, m->store, sug, list);
            else
                sr_errc(ck->dg, SR_E_MIGRATION_STORE, d->file, m->store_mark,
                        "deployment '%s': migration of unknown store '%s' (its stores: %s; 'drop' "
                        "names a store that is gone)",
                        d->name, m->store, list);
            if (n > 0 && sug)
                sr_diag_help_rewrite(ck->dg, d->file, m->store_mark, m->store, sug,
                                     "correct the store name");
        }
        free(names);
        free(ops);
    }
}

void sr_migrations_free(sr_deployment *d)
{
    for (int i = 0; i < d->nmigrations; i++) {
        free(d->migrations[i].store);
        free(d->migrations[i].from);
    }
    free(d->migrations);
    d->migrations = NULL;
    d->nmigrations = 0;
}

const sr_migration *sr_deployment_migration(const sr_deployment *d, const char *store)
{
    const sr_deployment *w = d->origin ? d->origin : d;
    for (int i = 0; i < w->nmigrations; i++)
        if (strcmp(w->migrations[i].store, store) == 0) return &w->migrations[i];
    return NULL;
}
