/* compat.h — whether an edited topology can take over the state of the running one: the
 * stateful steps of two topologies compared (`streamrun compat`), and the `migrations:` a
 * deployment declares to let an intended change through. */
#ifndef SR_COMPAT_H
#define SR_COMPAT_H

#include "load/topology.h"

/* ---- migrations (README "Changing a running pipeline") ----------------------------------- */

/* Parses the `migrations:` value n of deployment d (a list of {store: NAME, action:
 * reset|keep|drop}) into d->migrations, reporting every mistake at its place (not a list, an
 * entry that is not a mapping, unknown or missing keys, an unknown action with the closest one,
 * the same store twice, migrations on a deployment that replays a file). Called by the loader.
 * @locality the loading thread. */
void sr_migrations_load(sr_check *ck, const sr_ynode *n, sr_deployment *d);

/* Once every deployment is loaded and split into stages: reports each `reset` or `keep` entry
 * whose store is not a store of its deployment (any stage), with the closest name and the list
 * of its stores. @locality the loading thread. */
void sr_migrations_check(sr_check *ck);

void sr_migrations_free(sr_deployment *d);

/* The key step's expression (operators/key.c), for comparisons of what keys mean. */
const sr_expr *sr_key_step_expr(const sr_op *op);

/* ---- comparing two topologies ---------------------------------------------------------- */

/* Compares the stateful steps of running (the topology deployed now) with those of edited (the
 * one about to replace it) and adds to dg, at the place in edited (in running for something
 * removed), an error for each change that would corrupt or discard state unless declared by a
 * migration of edited, and a note for each declared one saying what will happen:
 *  - a store renamed (its state left behind), removed (its changelog orphaned);
 *  - a store's format signature changed (up refuses with exit 2);
 *  - the key its records reach it with changed (expression or static type);
 *  - its changelog's partition count changed (its inputs' partition counts);
 *  - its consumer group renamed, or the repartition split before it moved.
 * Returns the number of errors added. */
int sr_compat_compare(const sr_topology *running, const sr_topology *edited, sr_diag *dg);

/* One stateful step as it runs: for comparisons with what a cluster recorded. */
typedef struct sr_compat_store {
    const sr_deployment *dep;    /* its stage */
    const sr_deployment *origin; /* the deployment as written */
    const sr_op *op;
    const char *store;
    char signature[17];
    char *format;        /* malloc'd */
    int partitions;      /* of its changelog: its stage's largest input */
    const sr_op *key_op; /* the last key step before it, NULL: the input records' keys */
} sr_compat_store;

/* The stateful steps of t's deployments that read topics, in file order, into *out (malloc'd;
 * free with sr_compat_stores_free). Returns their count. */
int sr_compat_stores(const sr_topology *t, sr_compat_store **out);
void sr_compat_stores_free(sr_compat_store *v, int n);

#endif
