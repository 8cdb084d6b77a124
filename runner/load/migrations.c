/* migrations.c — the `migrations:` of a deployment: a declared reset, keep or drop of a store's
 * state, which `compat` accepts and `up` honours (README "Changing a running pipeline"). */
#include "load/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const actions[] = {"reset", "keep", "drop"};
static const char *const entry_keys[] = {"store", "action"};

#define SHAPE "{store: NAME, action: reset|keep|drop}"

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
    bool ok = true, guessed[2] = {false, false}; /* store, action: a misspelling reported */
    for (int i = 0; i < n->nkids; i += 2) {
        const sr_ynode *k = n->kids[i];
        if (sr_yis_scalar(k) && (!strcmp(k->text, "store") || !strcmp(k->text, "action"))) continue;
        const char *sug = sr_yis_scalar(k) ? sr_suggest(k->text, entry_keys, 2) : NULL;
        if (sug && sr_ymap_get(n, sug)) sug = NULL;
        if (sug) guessed[sug == entry_keys[1]] = true;
        if (sug)
            sr_errc(ck->dg, SR_E_UNKNOWN_KEY, ck->file, k->mark,
                    "%s: migration: unknown key '%s'; did you mean '%s'?", label,
                    sr_yis_scalar(k) ? k->text : "?", sug);
        else
            sr_errc(ck->dg, SR_E_UNKNOWN_KEY, ck->file, k->mark,
                    "%s: migration: unknown key '%s' (expected store and action)", label,
                    sr_yis_scalar(k) ? k->text : "?");
        if (sug) sr_diag_help_rewrite(ck->dg, ck->file, k->mark, k->text, sug, "correct the key");
        ok = false;
    }
    const sr_ynode *s = sr_ymap_get(n, "store"), *a = sr_ymap_get(n, "action");
    if ((!s && guessed[0]) || (!a && guessed[1])) return false; /* said already */
    if (!s || !a) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, n->mark,
                "%s: migration: missing required key '%s' (%s)", label, !s ? "store" : "action",
                SHAPE);
        return false;
    }
    if (!sr_yis_scalar(s) || sr_yis_null(s) || !s->text[0]) {
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, s->mark,
                "%s: migration: 'store' must be the name of a store (a step's store: setting, or "
                "its default such as aggregate-3), not %s",
                label, sr_ydesc(s, got, sizeof(got)));
        ok = false;
    }
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
            continue;
        }
        d->migrations[d->nmigrations++] = m;
    }
}

/* The stores of the deployment as written d and its later stages (which follow it in deps[]),
 * into names (at most cap); returns their count. */
static int stores_of(const sr_topology *t, const sr_deployment *d, const char **names, int cap)
{
    int n = 0;
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *s = &t->deps[i];
        if (s != d && s->origin != d) continue;
        for (int k = 0; k < s->nops; k++) {
            const sr_op *op = &s->ops[k];
            const char *name =
                op->type && op->conf && op->type->store_name ? op->type->store_name(op) : NULL;
            if (name && n < cap) names[n++] = name;
        }
    }
    return n;
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
        int n = stores_of(t, d, names, cap);
        for (int k = 0; k < d->nmigrations; k++) {
            const sr_migration *m = &d->migrations[k];
            if (m->action == SR_MIGRATE_DROP) continue; /* names a store that is gone */
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
    }
}

void sr_migrations_free(sr_deployment *d)
{
    for (int i = 0; i < d->nmigrations; i++) free(d->migrations[i].store);
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
