/* topology.h — a checked topology: topics, deployments and their operator chains. */
#ifndef SR_TOPOLOGY_H
#define SR_TOPOLOGY_H

#include "load/operator.h"

struct sr_topic {
    char *name; /* first: the name index (topology.c) compares the first member */
    int partitions;
    int index;             /* position in the topology's topics[] */
    int replication;       /* replicationFactor, or 0 when not declared (the cluster's default) */
    sr_strmap config;      /* Kafka topic configs as declared (checked against topic_config.h) */
    sr_mark *config_marks; /* where each config's value is, config.n of them */
    bool declared;         /* listed under topics: (else only referred to) */
    /* A repartition topic the loader made between two stages of a deployment (see
     * sr_deployment.origin): created by `up` like the declared ones (partitions, the cluster's
     * replication factor and topic configs); not required in test expectations. */
    bool internal;
    const sr_srcfile *file;
    sr_mark mark;             /* the name */
    sr_mark partitions_mark;  /* the partitions value, or the name when not declared */
    sr_mark replication_mark; /* the replicationFactor value, or the name */
    /* `shape:` as declared (load/shape.h): the fields of the topic's records and their types,
     * what the first step of a deployment reading it knows; NULL when not declared. */
    sr_schema *shape;
};

typedef enum { SR_FMT_JSONL, SR_FMT_CSV } sr_format;

typedef struct sr_table sr_table; /* load/table.h */

/* A replay source: a file whose records a deployment reads instead of a topic. */
typedef struct sr_source {
    char *path;     /* as written */
    char *resolved; /* relative to the topology file's directory */
    sr_format format;
    char *key;       /* field whose value becomes the key, or NULL */
    char *timestamp; /* field holding event time in ms, or NULL */
    double rate;     /* records per second, 0 = as fast as possible */
    sr_strv columns; /* CSV: the names of the cells, instead of the header row's (n 0: none) */
    bool header;     /* CSV: the first row is a header (default); false needs columns */
    sr_mark mark;
} sr_source;

/* How a deployment's outputs and input offsets reach Kafka (see sr_up_run). */
typedef enum {
    SR_AT_LEAST_ONCE, /* flush the outputs, then commit the offsets */
    SR_EXACTLY_ONCE   /* outputs, dead letters and offsets in one transaction per commit */
} sr_processing;

/* A declared migration of a deployment's state (README "Changing a running pipeline"): what
 * `compat` accepts and what `up` does with store `store` when the running state no longer fits. */
typedef enum {
    SR_MIGRATE_RESET, /* the store starts empty: changelog records of another format are skipped */
    SR_MIGRATE_KEEP,  /* the state is kept as it is, though its key expression or type changed */
    SR_MIGRATE_DROP,  /* the running state of this store name is given up (removed, renamed) */
    SR_MIGRATE_RENAME /* {store: NEW, from: OLD}: store takes over the state of store `from` */
} sr_migrate_action;

typedef struct sr_migration {
    char *store;
    sr_migrate_action action;
    sr_mark mark;       /* the entry */
    sr_mark store_mark; /* its store: value */
    char *from;         /* SR_MIGRATE_RENAME: the old store's name, else NULL */
    sr_mark from_mark;  /* its from: value */
} sr_migration;

typedef struct sr_deployment {
    char *name; /* first: the name index (topology.c) compares the first member */
    const sr_srcfile *file;
    sr_mark mark;
    sr_topic **inputs;
    int ninputs;
    sr_topic **outputs;
    int noutputs;
    char *group;
    sr_topic *dead_letter;
    sr_source *source;
    sr_op *ops; /* chain head: ops[0] .. ops[nops-1], linked by next */
    int nops;
    sr_strmap kafka; /* librdkafka properties, passed through */
    sr_processing processing;
    sr_mark processing_mark; /* of the `processing:` value; line 0 when not given */
    sr_schema out_schema;    /* fields known at the end of the pipeline */
    /* Per step as written (item i of `pipeline:`, loaded or not): the fields known where it
     * reads, as its check saw them; nreads of them, on the first stage only. For editors. */
    sr_schema *reads;
    int nreads;
    /* NULL for a deployment as written. A deployment re-keyed before a stateful step is split
     * into stages when loaded (topology.c, "re-keying"): the first keeps the deployment's name and
     * entry, and its steps up to the re-key, and writes an internal repartition topic; each
     * later stage is an entry of its own, right after the previous one, named "NAME/2",
     * "NAME/3"..., reading the previous stage's repartition topic with the consumer group named
     * as that topic without "-repartition", with the deployment's dead-letter topic, processing
     * and kafka: properties; origin points to the first stage. */
    const struct sr_deployment *origin;
    int stage; /* 1 for a deployment as written, k for its k-th stage */
    /* `migrations:` as declared, on the deployment as written only (stages: see origin) */
    sr_migration *migrations;
    int nmigrations;
} sr_deployment;

/* A `kafka:` property with which the file could run code (sr_kafka_unsafe_property). */
typedef struct sr_unsafe_prop {
    const char *name; /* the file's text, as long as the topology */
    sr_mark name_mark, value_mark;
    const char *why; /* static */
} sr_unsafe_prop;

typedef struct sr_topology {
    char *path;
    char *dir; /* directory of path, for relative file names */
    char *name;
    char *version;
    sr_topic **topics;
    int ntopics;
    sr_deployment *deps;
    int ndeps;
    sr_strmap kafka;   /* top-level kafka: block */
    char *broker;      /* kafka `bootstrap.servers`, if given */
    sr_ydoc doc;       /* kept for test cases and diagnostics */
    sr_diag *owned_dg; /* when set, the diagnostics list that owns the source text; freed with t */
    const sr_ynode *tests;  /* the tests: sequence, or NULL */
    void *topic_names;      /* tsearch(3) tree of topics by name */
    void *dep_names;        /* tsearch(3) tree of named deployments by name */
    sr_unsafe_prop *unsafe; /* file-wide and deployments' kafka: properties, in file order */
    int nunsafe;
    struct sr_table **tables; /* the tables: section (load/table.h) */
    int ntables;
    void *table_names; /* tsearch(3) tree of tables by name */
} sr_topology;

/* Loads, substitutes variables, parses and checks path. On success *out is
 * a topology the caller frees with sr_topology_free. All problems are added
 * to dg (every one, not only the first); returns -1 if any is an error, in
 * which case *out is still set when the file could be parsed (for graph and
 * tests), or NULL. */
int sr_topology_load(sr_topology **out, const char *path, sr_diag *dg);
/* As sr_topology_load, from text[0..len) (copied; need not be NUL-terminated) instead of the
 * file: an editor's buffer. path names the file in diagnostics, and relative paths in it (files,
 * packages, tables, NAME.tests.yaml) are read relative to path's directory as for a file. */
int sr_topology_load_text(sr_topology **out, const char *path, const char *text, size_t len,
                          sr_diag *dg);
void sr_topology_free(sr_topology *t);

/* Adds an error to dg for each kafka: property of t that could run code (t->unsafe): what it
 * does, and the flag that allows it; the quoted source line hides the value. For `validate` and
 * `up`, which refuse them unless the user allows them. Returns the number of errors added. */
int sr_topology_refuse_unsafe(const sr_topology *t, sr_diag *dg);

/* The topics deployment d writes: its outputs, then those its steps write (route, to), in that
 * order, repeats possible; not its dead-letter topic. Returns how many; *out is malloc'd (NULL
 * for none), the caller frees it. */
int sr_deployment_writes(const sr_deployment *d, const sr_topic ***out);

/* Whether d is among the deployments named in only[0..nonly) (every one when nonly is 0): by its
 * name, or, for a later stage of a split deployment, by the name of the deployment as written. */
bool sr_deployment_selected(const sr_deployment *d, const char *const *only, int nonly);

/* The migration declared for store in d's deployment as written (d, or d->origin for a later
 * stage), or NULL. */
const sr_migration *sr_deployment_migration(const sr_deployment *d, const char *store);

/* The topic or deployment named name, or NULL; O(log n). */
sr_topic *sr_topology_topic(const sr_topology *t, const char *name);
const sr_deployment *sr_topology_deployment(const sr_topology *t, const char *name);

/* Context handed to operator check functions. */
struct sr_check {
    sr_diag *dg;
    const sr_srcfile *file;
    sr_topology *topo;
    sr_deployment *dep;
    sr_schema schema; /* fields known where the current operator reads */
    const char *what; /* what the settings being parsed belong to, e.g. "filter (step 2)" */
    bool no_topics;   /* the topics section could not be read: unknown names are not reported */
};

/* Parses the parameters of one table from a YAML mapping into conf. Reports
 * unknown keys (with a suggestion), missing required keys and wrong types.
 * Returns 0, or -1 when something was reported. */
int sr_params_parse(const sr_param *params, const sr_ynode *map, void *conf, sr_check *ck,
                    const char *what);
/* Parses a single value for param p into conf (used for short forms). */
int sr_param_parse_one(const sr_param *p, const sr_ynode *n, void *conf, sr_check *ck);
void sr_params_free(const sr_param *params, void *conf);
/* Reports that field name is not among the fields known at m (ck->schema, closed), with a
 * suggestion and the list of known fields. */
void sr_no_field(sr_check *ck, sr_mark m, const char *name);
/* After a diagnostic about field name: when a step before removed it (sr_schema_drop), gives
 * the diagnostic a secondary place there ("'name' was dropped by the select here") and a help
 * line. */
void sr_note_gone(sr_check *ck, const char *name);
/* Gives the diagnostic added last the help that adds `key: value` to map: the corrected line of a
 * flow mapping ({key: value, ...}), or the line to add beside the first key of a block one. */
void sr_help_add_key(sr_check *ck, const sr_ynode *map, const char *key, const char *value);
/* Whether an error was already reported inside scalar n (such as an unset ${VAR}), so that
 * a check of its value would only repeat it. */
bool sr_reported_in(const sr_check *ck, const sr_ynode *n);
/* Describes n for a "must be X, not Y" message: 'text' for a scalar (shortened when long),
 * "a mapping", "a list" or "null". Returns buf. */
const char *sr_ydesc(const sr_ynode *n, char *buf, size_t size);
/* Parses "10s", "500ms", "2m", "1h", "1d" or a number of ms. */
bool sr_parse_duration(const char *s, int64_t *ms);

#endif
