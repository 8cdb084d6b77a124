/* table.h — the `tables:` section: reference data that lookup steps read by key. A file table is
 * loaded once, when the topology is loaded, into a read-only hash that every task of the process
 * shares; a topic table is the latest value per record key of a topic, kept per task (a
 * co-partitioned table) by the lookup step that reads it. */
#ifndef SR_TABLE_H
#define SR_TABLE_H

#include "load/topology.h"

/* A loaded file table: key text -> row. Written only while the topology is loaded, read-only
 * afterwards: any thread may read it without a lock (@locality any, after load; @locks none). */
typedef struct sr_rows sr_rows;

/* The process's copy of a global topic table (gtable.c): record key -> the latest value's bytes.
 * Written by the one reader of the table's topic (sr_gtable_apply), read by lookups on any thread
 * (sr_gtable_get); each call takes the table's read-write lock itself (@locality any; @locks the
 * table's lock, taken and released inside). */
typedef struct sr_gtable sr_gtable;
struct sr_table {
    char *name; /* first: the name index compares the first member */
    const sr_srcfile *file;
    sr_mark mark; /* the name */
    /* a file table */
    char *path;     /* as written, NULL for a topic table */
    char *resolved; /* relative to the topology file's directory */
    sr_format format;
    char *key;       /* the field whose value keys each row */
    sr_strv columns; /* CSV: names given instead of the header row (n 0: the header's) */
    sr_rows *rows;   /* loaded rows, NULL when the file could not be read */
    char **fields;   /* the CSV's column names (checked by lookups' fields:), nfields of them */
    int nfields;     /* -1: not known (JSON lines) */
    /* a topic table */
    sr_topic *topic;
    bool global;
    int64_t history; /* ms of versions kept for as-of lookups, 0: the latest only */
    sr_mark topic_mark, global_mark, history_mark;
    sr_gtable *live; /* global topic tables: the process's copy (made when the table is loaded) */
    char *description;
};

/* The settings of a table, as one parameter table (for the schema and the docs). */
extern const sr_param *const sr_table_params;

/* Loads the `tables:` list (seq) into ck->topo: checks every setting at its place, and loads
 * each file table (a row without its key field is reported and skipped; a key that repeats is
 * reported as a warning and its last row wins). Diagnostics about rows quote the data file. */
void sr_tables_load(sr_check *ck, const sr_ynode *seq);
/* Frees the tables of t. */
void sr_tables_free(sr_topology *t);
/* The table named name, or NULL. O(log n). */
sr_table *sr_topology_table(const sr_topology *t, const char *name);

/* The row of file table tb whose key is key[0..klen), or NULL. The value (an object) lives as
 * long as the topology and must not be changed. @locality any; @locks none. */
const sr_value *sr_table_get(const sr_table *tb, const char *key, size_t klen);
/* The number of rows of file table tb. */
size_t sr_table_count(const sr_table *tb);

/* ---- versions of a key, for tables with history (versions.c) ----
 * A table with `history:` keeps, per key, its values by record timestamp as one byte string. */
/* Writes into out (emptied first) the versions old[0..oldlen) (NULL: none) with the value
 * val[0..vlen) (NULL: a deletion) at ts, dropping the versions no lookup within history of the
 * newest can find (the one current at newest - history stays). out->len 0: nothing is left
 * (delete the key). */
void sr_versions_put(sr_buf *out, const char *old, size_t oldlen, int64_t ts, const char *val,
                     size_t vlen, int64_t history);
/* The value of the latest version at or before at, if it is at most within older and not a
 * deletion (at INT64_MAX: the newest version, whatever its age). *val borrows from s. */
bool sr_versions_find(const char *s, size_t n, int64_t at, int64_t within, const char **val,
                      size_t *vlen);

/* ---- global topic tables (gtable.c) ----
 * Each function below takes g's read-write lock itself (@locks g->lock, taken and released
 * inside; never held by the caller). Writers (apply, clear) are the one reader of the table's
 * topic: the in-process runner's thread, or the reader thread of `up` (sr_gtables_start); readers
 * (get, count) are tasks on any thread. */
/* @locality the thread that loads the topology. */
sr_gtable *sr_gtable_new(void);
/* @locality the thread that frees the topology, once no task and no reader uses g. */
void sr_gtable_free(sr_gtable *g);
/* Sets key to the bytes val[0..vlen) (copied), or deletes key when val is NULL. @locality the
 * topic's one reader. */
void sr_gtable_apply(sr_gtable *g, const char *key, size_t klen, const char *val, size_t vlen);
/* Whether key has a value; if so, a copy of it in a (NUL-terminated) goes to *val, *vlen.
 * @locality any (a task's thread: a is its arena). */
bool sr_gtable_get(sr_gtable *g, sr_arena *a, const char *key, size_t klen, const char **val,
                   size_t *vlen);
/* The number of keys. @locality any. */
size_t sr_gtable_count(sr_gtable *g);
/* Deletes every key (a run that starts over: each case of `streamrun test`). @locality the
 * topic's one reader, while no task reads g. */
void sr_gtable_clear(sr_gtable *g);
/* A record written to topic at time ts: applied to every global table of t read from topic (a null
 * value, a tombstone or the JSON null, deletes its key; a record without a key is reported on
 * stderr and ignored). Returns the number of tables of topic. @locality the topic's one reader. */
int sr_tables_on_record(const sr_topology *t, const sr_topic *topic, const char *key, size_t klen,
                        const char *val, size_t vlen, bool tombstone, int64_t ts);

#endif
