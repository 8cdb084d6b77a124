/* table.c — the `tables:` section: checking each table's settings and loading file tables. */
#include "load/table.h"
#include "exec/source.h"
#include "state/store.h"

#include <assert.h>
#include <stdarg.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the rows of a file table ---------------------------------------------------------------
 * An open-addressing hash of key text to row, built once while the topology loads and read-only
 * afterwards. The rows, their keys and everything they point to live in the table's arena. */

typedef struct row_slot {
    const char *key; /* NULL: an empty slot */
    size_t klen;
    sr_value row;
    long line; /* where the row is in the file */
} row_slot;

struct sr_rows {
    sr_arena arena;
    row_slot *slots;
    size_t cap, n; /* cap a power of two, n < cap / 2 */
};

static uint64_t key_hash(const char *s, size_t n)
{
    static const uint8_t seed[16] = {'s', 'r', 't', 'a', 'b', 'l', 'e'};
    return sr_siphash24(seed, s, n);
}

static row_slot *rows_find(const sr_rows *rs, const char *key, size_t klen)
{
    size_t mask = rs->cap - 1;
    for (size_t i = key_hash(key, klen) & mask;; i = (i + 1) & mask) {
        row_slot *s = &rs->slots[i];
        if (!s->key || (s->klen == klen && memcmp(s->key, key, klen) == 0)) return s;
    }
}

static void rows_grow(sr_rows *rs)
{
    row_slot *old = rs->slots;
    size_t oldcap = rs->cap;
    rs->cap = oldcap ? oldcap * 2 : 64;
    rs->slots = sr_xcalloc(rs->cap, sizeof(row_slot));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key) *rows_find(rs, old[i].key, old[i].klen) = old[i];
    free(old);
}

/* Puts row under key (both already in the arena); returns the slot it replaced (its line), or
 * 0 when the key is new. */
static long rows_put(sr_rows *rs, const char *key, size_t klen, sr_value row, long line)
{
    if ((rs->n + 1) * 2 > rs->cap) rows_grow(rs);
    row_slot *s = rows_find(rs, key, klen);
    long was = s->key ? s->line : 0;
    if (!s->key) rs->n++;
    *s = (row_slot){key, klen, row, line};
    return was;
}

const sr_value *sr_table_get(const sr_table *tb, const char *key, size_t klen)
{
    if (!tb->rows || tb->rows->n == 0) return NULL;
    const row_slot *s = rows_find(tb->rows, key, klen);
    return s->key ? &s->row : NULL;
}

size_t sr_table_count(const sr_table *tb)
{
    return tb->rows ? tb->rows->n : 0;
}

/* ---- settings -------------------------------------------------------------------------------- */

static const sr_param table_params[] = {
    {SR_P_STR, "name", NULL, offsetof(sr_table, name), "the table's name, which lookup steps use",
     SR_PF_REQUIRED},
    {SR_P_STR, "file", NULL, offsetof(sr_table, path),
     "a file table: a CSV file with a header row, or JSON lines (relative to the topology file); "
     "loaded once, read-only"},
    {SR_P_ENUM, "format", NULL, offsetof(sr_table, format),
     "the file's format (default: csv for a .csv file, else jsonl)", 0, "jsonl|csv"},
    {SR_P_FIELD, "key", NULL, offsetof(sr_table, key),
     "file tables: the field whose value keys each row"},
    {SR_P_FIELDS, "columns", NULL, offsetof(sr_table, columns),
     "CSV: the column names, instead of those of the header row (which is then skipped)"},
    {SR_P_TOPIC, "topic", NULL, offsetof(sr_table, topic),
     "a topic table: the latest value per record key of this topic; a null value deletes the key"},
    {SR_P_BOOL, "global", "false", offsetof(sr_table, global),
     "topic tables: every instance reads all partitions (default: co-partitioned with the "
     "stream that looks it up)"},
    {SR_P_DURATION, "history", NULL, offsetof(sr_table, history),
     "topic tables: keep the versions of this last period, for as-of lookups (default: the "
     "latest only)"},
    {SR_P_STR, "description", NULL, offsetof(sr_table, description), "free text"},
    {0}};

const sr_param *const sr_table_params = table_params;

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

sr_table *sr_topology_table(const sr_topology *t, const char *name)
{
    void *const *hit = tfind(&name, &t->table_names, by_name);
    return hit ? *hit : NULL;
}

/* The key node of key in map (which has it). */
static const sr_ynode *key_node(const sr_ynode *map, const char *key)
{
    for (int i = 0; i + 1 < map->nkids; i += 2)
        if (sr_yis_scalar(map->kids[i]) && strcmp(map->kids[i]->text, key) == 0)
            return map->kids[i];
    return map;
}

static sr_mark mark_of(const sr_ynode *map, const char *key, sr_mark dflt)
{
    const sr_ynode *v = sr_ymap_get(map, key);
    return v ? v->mark : dflt;
}

/* ---- loading a file table -------------------------------------------------------------------- */

/* The data file as a source diagnostics can quote, registered with dg once (NULL when it cannot
 * be read again, or is over 64 MiB: its warnings then name the line without quoting it). */
#define DATA_QUOTE_MAX (64u << 20)

static const sr_srcfile *data_file(sr_check *ck, const sr_table *tb, const sr_srcfile **cache)
{
    if (*cache) return *cache;
    struct stat st;
    if (stat(tb->resolved, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > DATA_QUOTE_MAX)
        return NULL;
    FILE *f = fopen(tb->resolved, "rb");
    if (!f) return NULL;
    sr_buf b = {0};
    char chunk[65536];
    size_t n;
    while (b.len <= DATA_QUOTE_MAX && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        sr_buf_put(&b, chunk, n);
    fclose(f);
    sr_buf_putc(&b, 0);
    *cache = sr_diag_add_file(ck->dg, tb->resolved, b.d, b.len - 1);
    return *cache;
}

/* Warnings about the rows of one table: the first ROW_WARNINGS_MAX at their rows, the rest
 * counted (one warning at the end says how many). */
#define ROW_WARNINGS_MAX 20

typedef struct row_warnings {
    sr_check *ck;
    const sr_table *tb;
    const sr_srcfile *df; /* the data file, once read */
    sr_mark file_mark;    /* the table's file: setting */
    long n;
} row_warnings;

static void row_warn(row_warnings *w, long line, size_t rawlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void row_warn(row_warnings *w, long line, size_t rawlen, const char *fmt, ...)
{
    if (++w->n > ROW_WARNINGS_MAX) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const sr_srcfile *f = data_file(w->ck, w->tb, &w->df);
    if (f)
        sr_diag_addc(w->ck->dg, SR_WARNING, SR_W_ROW_SKIPPED, f,
                     (sr_mark){(int)line, 1, (int)(rawlen < 200 ? rawlen : 200)}, "table '%s': %s",
                     w->tb->name, msg);
    else
        sr_diag_addc(w->ck->dg, SR_WARNING, SR_W_ROW_SKIPPED, w->ck->file, w->file_mark,
                     "table '%s': line %ld: %s", w->tb->name, line, msg);
}

static bool key_is_column(sr_check *ck, const sr_table *tb, const sr_ynode *n, const char *label);

static void load_rows(sr_check *ck, sr_table *tb, const sr_ynode *n, sr_mark file_mark,
                      const char *label)
{
    char err[512];
    sr_reader *rd;
    if (sr_reader_open_csv(&rd, tb->resolved, tb->format, (const char *const *)tb->columns.v,
                           (size_t)tb->columns.n, true, err, sizeof(err)) != 0) {
        sr_errc(ck->dg, SR_E_DATA_FILE, ck->file, file_mark, "table '%s': %s", tb->name, err);
        return;
    }
    tb->nfields = sr_reader_columns(rd, &tb->fields);
    if (!key_is_column(ck, tb, n, label)) {
        sr_reader_close(rd);
        return;
    }
    sr_rows *rs = sr_xcalloc(1, sizeof(*rs));
    sr_arena_init(&rs->arena, 64 * 1024);
    sr_arena scratch;
    sr_arena_init(&scratch, 64 * 1024);
    sr_buf text = {0};
    row_warnings w = {.ck = ck, .tb = tb, .file_mark = file_mark};
    size_t klen = strlen(tb->key);
    sr_readrec rec;
    int st;
    while ((st = sr_reader_next(rd, &scratch, &rec, err, sizeof(err))) == 1) {
        const sr_value *kv =
            rec.ok && rec.value.type == SR_OBJ ? sr_obj_get(&rec.value, tb->key, klen) : NULL;
        text.len = 0;
        if (!rec.ok)
            row_warn(&w, rec.line, rec.rawlen, "%s; the row is skipped", rec.reason);
        else if (rec.value.type != SR_OBJ)
            row_warn(&w, rec.line, rec.rawlen, "the row is %s, not an object; the row is skipped",
                     sr_type_name((sr_type)rec.value.type));
        else if (!kv || kv->type == SR_NULL)
            row_warn(&w, rec.line, rec.rawlen,
                     "the row has no key field '%s'%s; the row is skipped", tb->key,
                     kv ? " (it is null)" : "");
        else if (sr_json_write(&text, &rec.value) != 0)
            row_warn(&w, rec.line, rec.rawlen, "the row holds NaN or infinity; the row is skipped");
        else {
            /* keep the row: its JSON text, copied into the table's arena, parsed there */
            char *copy = sr_arena_strndup(&rs->arena, text.d, text.len);
            sr_value row;
            char perr[160];
            size_t pos;
            int prc = sr_json_parse(&rs->arena, copy, text.len, &row, perr, sizeof(perr), &pos);
            assert(prc == 0); /* what sr_json_write wrote parses */
            (void)prc;
            sr_value ks = sr_value_to_str(&scratch, kv);
            char *key = sr_arena_strndup(&rs->arena, ks.u.s, ks.len);
            long was = rows_put(rs, key, ks.len, row, rec.line);
            if (was)
                row_warn(&w, rec.line, rec.rawlen,
                         "key '%.*s' again (first on line %ld): the last row wins",
                         (int)(ks.len < 100 ? ks.len : 100), ks.u.s, was);
        }
        sr_arena_reset(&scratch);
    }
    if (w.n > ROW_WARNINGS_MAX)
        sr_diag_addc(ck->dg, SR_WARNING, SR_W_ROW_SKIPPED, ck->file, file_mark,
                     "table '%s': %ld more rows skipped or replaced (the first %d are shown)",
                     tb->name, w.n - ROW_WARNINGS_MAX, ROW_WARNINGS_MAX);
    if (st < 0)
        sr_errc(ck->dg, SR_E_DATA_FILE, ck->file, file_mark, "table '%s': %s", tb->name, err);
    sr_reader_close(rd);
    sr_arena_free(&scratch);
    sr_buf_free(&text);
    tb->rows = rs;
}

/* ---- the section ----------------------------------------------------------------------------- */

static void load_table(sr_check *ck, const sr_ynode *n, sr_table *tb)
{
    tb->file = ck->file;
    tb->mark = n->mark;
    tb->nfields = -1;
    int errors_before = ck->dg->nerrors;
    const sr_ynode *nm = n->kind == SR_Y_MAP ? sr_ymap_get(n, "name") : NULL;
    char label[300] = "table";
    if (sr_yis_scalar(nm) && !sr_yis_null(nm)) {
        snprintf(label, sizeof(label), "table '%s'", nm->text);
        tb->mark = nm->mark;
    }
    if (sr_params_parse(table_params, n, tb, ck, label) != 0 && n->kind != SR_Y_MAP) return;
    const sr_ynode *file = sr_ymap_get(n, "file"), *topic = sr_ymap_get(n, "topic");
    tb->topic_mark = mark_of(n, "topic", tb->mark);
    tb->global_mark = mark_of(n, "global", tb->mark);
    tb->history_mark = mark_of(n, "history", tb->mark);
    if (file && topic) {
        sr_errc(ck->dg, SR_E_CONFLICT, ck->file, topic->mark,
                "%s: a table is read either from a 'file' or from a 'topic', not both", label);
        return;
    }
    if (!file && !topic) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, tb->mark,
                "%s: give it 'file: PATH' (reference data loaded once) or 'topic: TOPIC' (the "
                "latest value per record key of a topic)",
                label);
        return;
    }
    if (file && !tb->path) { /* `file:` with no value */
        char got[64];
        if (!sr_diag_error_within(ck->dg, ck->file, file->mark))
            sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, file->mark,
                    "%s: 'file' must be the path of a CSV or JSON-lines file, not %s", label,
                    sr_ydesc(file, got, sizeof(got)));
        return;
    }
    static const char *const file_only[] = {"key", "columns", "format", NULL};
    static const char *const topic_only[] = {"global", "history", NULL};
    for (const char *const *k = topic ? file_only : topic_only; *k; k++) {
        const sr_ynode *v = sr_ymap_get(n, *k);
        if (v)
            sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, key_node(n, *k)->mark,
                    topic ? "%s: '%s' is for file tables: a topic table is keyed by the record key"
                          : "%s: '%s' is for topic tables, not for a table read from a file",
                    label, *k);
    }
    if (topic) {
        if (tb->global) tb->live = sr_gtable_new();
        if (tb->history < 0)
            sr_errc(ck->dg, SR_E_OUT_OF_RANGE, ck->file, tb->history_mark,
                    "%s: 'history' must not be negative", label);
        return;
    }
    if (!tb->key) {
        sr_errc(ck->dg, SR_E_MISSING_KEY, ck->file, tb->mark,
                "%s: missing required key 'key' (the field whose value keys each row, such as "
                "key: state)",
                label);
        sr_help_add_key(ck, n, "key", "FIELD");
        return;
    }
    if (tb->path[0] == '/') {
        tb->resolved = sr_xstrdup(tb->path);
    } else {
        size_t len = strlen(ck->topo->dir) + strlen(tb->path) + 2;
        tb->resolved = sr_xmalloc(len);
        snprintf(tb->resolved, len, "%s/%s", ck->topo->dir, tb->path);
    }
    if (!sr_ymap_get(n, "format")) {
        const char *ext = strrchr(tb->path, '.');
        tb->format = ext && strcmp(ext, ".csv") == 0 ? SR_FMT_CSV : SR_FMT_JSONL;
    }
    if (tb->columns.n && tb->format != SR_FMT_CSV) {
        sr_errc(ck->dg, SR_E_SETTING_NOT_HERE, ck->file, key_node(n, "columns")->mark,
                "%s: 'columns' names the columns of a CSV file; a JSON-lines row names its own "
                "fields",
                label);
        return;
    }
    if (sr_reported_in(ck, file)) return;
    struct stat st;
    if (stat(tb->resolved, &st) != 0) {
        sr_errc(ck->dg, SR_E_FILE_NOT_FOUND, ck->file, file->mark,
                "%s: file '%s' does not exist (looked for %s)", label, tb->path, tb->resolved);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        sr_errc(ck->dg, SR_E_DATA_FILE, ck->file, file->mark,
                "%s: '%s' is not a regular file: a table is read whole when the topology is "
                "loaded",
                label, tb->resolved);
        return;
    }
    if (ck->dg->nerrors == errors_before) load_rows(ck, tb, n, file->mark, label);
}

/* CSV: whether the key is a column (else an error at the key's place). */
static bool key_is_column(sr_check *ck, const sr_table *tb, const sr_ynode *n, const char *label)
{
    if (tb->nfields >= 0) {
        bool has_key = false;
        for (int i = 0; i < tb->nfields; i++) has_key |= strcmp(tb->fields[i], tb->key) == 0;
        if (!has_key) {
            const char *sug = sr_suggest(tb->key, (const char *const *)tb->fields, tb->nfields);
            char list[300] = "";
            size_t ll = 0;
            for (int i = 0; i < tb->nfields && ll < sizeof(list) - 40; i++)
                ll += (size_t)snprintf(list + ll, sizeof(list) - ll, "%s%s", i ? ", " : "",
                                       tb->fields[i]);
            sr_mark km = mark_of(n, "key", tb->mark);
            if (sug)
                sr_errc(ck->dg, SR_E_UNKNOWN_FIELD, ck->file, km,
                        "%s: the file has no column '%s'; did you mean '%s'? (columns: %s)", label,
                        tb->key, sug, list);
            else
                sr_errc(ck->dg, SR_E_UNKNOWN_FIELD, ck->file, km,
                        "%s: the file has no column '%s' (columns: %s%s)", label, tb->key, list,
                        tb->columns.n ? "" : "; 'columns:' names them when the header is wrong");
            if (sug)
                sr_diag_help_rewrite(ck->dg, ck->file, km, tb->key, sug, "correct the column name");
            return false;
        }
    }
    return true;
}

void sr_tables_load(sr_check *ck, const sr_ynode *seq)
{
    sr_topology *t = ck->topo;
    if (seq->kind != SR_Y_SEQ) {
        char got[64];
        sr_errc(ck->dg, SR_E_WRONG_TYPE, ck->file, seq->mark,
                "'tables' must be a list such as [{name: populations, file: populations.csv, key: "
                "state}], not %s",
                sr_ydesc(seq, got, sizeof(got)));
        return;
    }
    t->tables = sr_xcalloc((size_t)seq->nkids + 1, sizeof(sr_table *));
    for (int i = 0; i < seq->nkids; i++) {
        sr_table *tb = sr_xcalloc(1, sizeof(*tb));
        load_table(ck, seq->kids[i], tb);
        t->tables[t->ntables++] = tb;
        if (!tb->name) continue;
        void **hit = tsearch(tb, &t->table_names, by_name);
        if (!hit) abort();
        if (*hit != tb) {
            const sr_table *first = *hit;
            sr_errc(ck->dg, SR_E_DUPLICATE, ck->file, tb->mark,
                    "duplicate table '%s' (first declared on line %d)", tb->name, first->mark.line);
            sr_diag_related(ck->dg, first->file, first->mark, "table '%s' first declared here",
                            tb->name);
        }
    }
}

static void name_nofree(void *item)
{
    (void)item; /* the tree does not own its tables */
}

void sr_tables_free(sr_topology *t)
{
    tdestroy(t->table_names, name_nofree);
    t->table_names = NULL;
    for (int i = 0; i < t->ntables; i++) {
        sr_table *tb = t->tables[i];
        sr_params_free(table_params, tb);
        free(tb->resolved);
        sr_gtable_free(tb->live);
        if (tb->rows) {
            sr_arena_free(&tb->rows->arena);
            free(tb->rows->slots);
            free(tb->rows);
        }
        for (int j = 0; j < tb->nfields; j++) free(tb->fields[j]);
        free(tb->fields);
        free(tb);
    }
    free(t->tables);
    t->tables = NULL;
    t->ntables = 0;
}
