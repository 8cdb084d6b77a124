/* operator.h — the one interface every built-in operator implements. */
#ifndef SR_OPERATOR_H
#define SR_OPERATOR_H

#include "base/diag.h"
#include "base/record.h"
#include "load/ynode.h"

#include <stddef.h>

typedef struct sr_task sr_task;
typedef struct sr_op sr_op;
typedef struct sr_check sr_check;
typedef struct sr_expr sr_expr;
typedef struct sr_topic sr_topic;
typedef struct sr_store sr_store;

/* ---- parameters -------------------------------------------------------------
 * Each operator declares its parameters in one table. The same table parses
 * and checks the YAML (unknown keys, missing keys, wrong types), generates
 * the JSON Schema and the reference docs. A parsed parameter is stored in the
 * operator's configuration struct at `off`, in the C type given below. */
typedef enum {
    SR_P_STR,      /* char *                                              */
    SR_P_INT,      /* int64_t                                             */
    SR_P_NUM,      /* double                                              */
    SR_P_BOOL,     /* bool                                                */
    SR_P_ENUM,     /* int: index into choices "a|b|c"                     */
    SR_P_DURATION, /* int64_t milliseconds: "500ms", "10s", "5m", "1h", "2d" */
    SR_P_EXPR,     /* sr_expr *: compiled and type-checked expression     */
    SR_P_FIELD,    /* char *: a field name                                */
    SR_P_FIELDS,   /* sr_strv: list of field names                        */
    SR_P_TOPIC,    /* const sr_topic *: a declared topic                  */
    SR_P_EXPRMAP,  /* sr_exprmap: ordered name -> expression              */
    SR_P_STRMAP,   /* sr_strmap: ordered name -> string                   */
    SR_P_LIST,     /* sr_list: list of objects described by `sub`          */
    SR_P_AGGS,     /* const sr_ynode *: an aggregate such as "mean(x)", or a mapping of
                    * names to aggregates, as written (the operator's check() parses it) */
} sr_ptype;

#define SR_PF_REQUIRED 1u
/* One of the alternatives of an operator: exactly one of its parameters with this flag must be
 * given (a model step's package or variants). The schema and the reference say so; the
 * operator's check() reports both or none, where they are. */
#define SR_PF_ONE_OF 2u

typedef struct sr_param {
    sr_ptype type;
    const char *name;
    const char *def; /* default as YAML text, NULL for none */
    size_t off;
    const char *doc;
    unsigned flags;
    const char *choices;        /* SR_P_ENUM: "a|b|c" */
    const struct sr_param *sub; /* SR_P_LIST: item parameters */
    size_t sub_size;            /* SR_P_LIST: item struct size */
} sr_param;

typedef struct sr_strv {
    char **v;
    size_t *len; /* strlen of each, for lookups per record */
    sr_mark *marks;
    int n;
} sr_strv;

typedef struct sr_exprmap {
    char **names;
    size_t *len; /* strlen of each name */
    sr_expr **exprs;
    int n;
} sr_exprmap;

typedef struct sr_strmap {
    char **names;
    char **vals;
    int n;
} sr_strmap;

typedef struct sr_list {
    void *items;    /* n structs of the param's sub_size */
    sr_mark *marks; /* where each item is in the file */
    int n;
} sr_list;

/* ---- what is known about the fields at a point of the pipeline ------------ */

/* Static types found at load time. ANY is a value whose type is not known until a record
 * arrives; operators then check at run time. */
typedef enum {
    SR_T_ANY = 0,
    SR_T_NULL,
    SR_T_BOOL,
    SR_T_NUM,
    SR_T_STR,
    SR_T_ARR,
    SR_T_OBJ,
} sr_stype;

/* The fields known at a point of the pipeline, with what is known of each: its static type,
 * for an object the fields known inside it (sub), for an array its elements' type (elem).
 * Closed: the record has exactly these fields (and nothing else may be referred to); open: it
 * has at least these (optional ones: may be absent or null), and others that are not known.
 * A field whose type is not known is SR_T_ANY and is never reported as a type mismatch.
 * Fields that a step removed are remembered (gone*), so that a reference to one can say where
 * it left. The schema owns every array and string in it. */
typedef struct sr_schema {
    bool closed; /* true: the record has exactly these fields */
    char **names;
    sr_stype *types;         /* n of them */
    struct sr_schema **subs; /* n of them: an object's known fields, or NULL */
    sr_stype *elems;         /* n of them: an array's element type, or SR_T_ANY */
    bool *optional;          /* n of them: may be absent or null */
    char **gone;             /* fields removed by an earlier step */
    char **gone_by;          /* the operator that removed each: "select" */
    char **gone_kept;        /* a select's: the fields it kept, "a, b" (else NULL) */
    sr_mark *gone_at;        /* where that step is */
    const sr_srcfile **gone_file;
    int n, ngone;
} sr_schema;

void sr_schema_set_open(sr_schema *s);
/* Adds name (nothing known of it: SR_T_ANY) unless present. */
void sr_schema_add(sr_schema *s, const char *name);
/* Adds name, or replaces what is known of it, with type t (sub: the object's fields, copied;
 * NULL for none). A field added is no longer gone. */
void sr_schema_put(sr_schema *s, const char *name, sr_stype t, const sr_schema *sub);
void sr_schema_del(sr_schema *s, const char *name);
/* Removes name and remembers that the step `by` at (f, m) removed it (for sr_schema_gone). */
void sr_schema_drop(sr_schema *s, const char *name, const char *by, const sr_srcfile *f, sr_mark m);
bool sr_schema_has(const sr_schema *s, const char *name);
/* Index of name in s, or -1. */
int sr_schema_find(const sr_schema *s, const char *name);
/* The static type of name in s: SR_T_ANY when not known. */
sr_stype sr_schema_type(const sr_schema *s, const char *name);
/* Renames field from to to (keeping what is known of it); nothing when from is not known. */
void sr_schema_rename(sr_schema *s, const char *from, const char *to);
/* Makes s the closed schema of exactly fields names[0..n) in that order (what a select keeps):
 * what was known of each is kept, a name not known before is SR_T_ANY; every other field of s
 * is remembered as removed by the step `by` at (f, m). */
void sr_schema_keep(sr_schema *s, char *const *names, int n, const char *by, const sr_srcfile *f,
                    sr_mark m);
/* Index of name among s's removed fields (sr_schema_drop, sr_schema_keep), or -1. */
int sr_schema_gone(const sr_schema *s, const char *name);
void sr_schema_copy(sr_schema *dst, const sr_schema *src);
void sr_schema_free(sr_schema *s);

/* ---- the operator interface ------------------------------------------------
 * An operator is a const vtable (sr_operator_type) and, per step of a pipeline, a configured
 * node (sr_op). Its configuration (op->conf) is written while the topology is loaded (the
 * parameters, then check()) and is read-only afterwards: the tasks of a deployment share it,
 * possibly from several threads. Everything that changes while records flow lives in per-task
 * state (state_size, open, close; sr_op_state), owned by one task and touched only by the thread
 * that runs that task. What must be shared by all tasks of a process (one stdout, one output
 * file) is reached from the configuration through a pointer, said so where it is declared, and
 * guarded by a lock named there (see sr_output_and_emit).
 *
 * A task is one instance of a deployment's chain for one input partition. Its life:
 *   open of every step, in chain order (when the task is created: assignment, first record)
 *   { process (a record) | on_timer (a timer fired) }*      interleaved, one at a time
 *   on_end of every step, in chain order (end of input of `run`/`test` only; not under `up`)
 *   close of every step, in reverse chain order (the task is dropped: revocation, shutdown)
 * Every hook of a task runs on the thread that owns the task at that moment, never two at
 * once, and none takes a lock (@locality the task's thread; @locks none), except the shared
 * output of print and write (sr_output_and_emit). Hooks must not keep pointers to records or to
 * the task's arena past their return: the arena is reset once the task's outputs are taken. */
#define SR_OP_TERMINAL     1u /* a sink: nothing may follow it in a pipeline */
#define SR_OP_PRIMARY_LIST 2u /* the short form is a list for the primary param */
/* As a deployment's first step, receives its input tombstones (a Kafka record with a null
 * value) as records with a null value and `tombstone` set, instead of their being
 * dead-lettered before the chain (every other deployment dead-letters them). */
#define SR_OP_TOMBSTONES 4u

typedef struct sr_timer sr_timer;

typedef struct sr_operator_type {
    const char *name;
    const char *summary; /* one line, for docs and schema */
    const char *example; /* a YAML pipeline step, for docs */
    const sr_param *params;
    const char *primary; /* parameter the short form `- name: VALUE` fills */
    size_t conf_size;
    unsigned flags;
    /* Bytes of per-task state, zeroed before open(); 0: none (sr_op_state gives NULL). */
    size_t state_size;
    /* After parameters are parsed, at load time: cross-checks, and updates ck->schema to what
     * follows this operator. conf is op->conf, writable here only (e.g. lengths computed once,
     * or the process-wide part of the operator allocated). Adds diagnostics; returns 0 or -1.
     * @locality the loading thread, before any task exists; @locks none. */
    int (*check)(sr_op *op, void *conf, sr_check *ck);
    /* The task was created (or assigned its partition): initialises state (state_size bytes,
     * zeroed; NULL when state_size is 0). Cannot fail: allocation failures abort. May set
     * timers. @locality the thread that creates the task (sr_task_init); @locks none. */
    void (*open)(sr_task *t, const sr_op *op, void *state);
    /* Processes one record; passes results on with sr_emit() (zero, one or
     * many times). Returns 0, or -1 with the reason set by sr_task_fail():
     * the runner then dead-letters the input record and drops everything
     * this input produced. @locality the thread that owns the task; @locks none. */
    int (*process)(sr_task *t, const sr_op *op, sr_record *r);
    /* A timer this step set has fired (sr_timer_set): an event-time timer once the task's
     * stream time reached tm->at (after the record that moved it, before that record's outputs
     * are taken), a wall-clock timer at the first tick at or after tm->at. May emit with
     * sr_emit(t, op, r) (key, timestamp and value as the operator makes them, memory from
     * sr_task_arena): such records are outputs of the task like any other, and one that fails
     * downstream is dead-lettered on its own (see sr_emit). Returns 0, or -1 with
     * sr_task_fail(): the failure is dead-lettered with a description of the timer (what the
     * hook emitted before failing stays). May set and cancel timers (one set at or before the
     * current time fires in the same round). @locality the thread that owns the task (the
     * worker that feeds or ticks it); @locks none. */
    int (*on_timer)(sr_task *t, const sr_op *op, const sr_timer *tm);
    /* End of input (`run` and `test` only), before the final outputs are taken: the last
     * chance to emit (e.g. windows still open). Called once per task, in chain order, so
     * what a step emits here still goes through the on_end of the steps after it. Pending
     * timers do not fire. Returns as on_timer does. @locality the thread that owns the task;
     * @locks none. */
    int (*on_end)(sr_task *t, const sr_op *op);
    /* The task is dropped: frees what open() and later hooks put in state (the block itself
     * is the task's). Pending timers are dropped with the task; emits nothing. @locality the
     * thread that owns the task (sr_task_destroy); @locks none. */
    void (*close)(sr_task *t, const sr_op *op, void *state);
    /* Before the runner drains the task's stores for a commit (sr_task_checkpoint): writes into
     * op's store what the step keeps beside it and needs after a restore (its stream time, its
     * arrival counter), so that the changelog carries it. Returns 0, or -1 with sr_task_fail()
     * (the store refused the write: the memory budget). NULL: nothing beside the store.
     * @locality the thread that owns the task; @locks none. */
    int (*checkpoint)(sr_task *t, const sr_op *op, void *state);
    /* Stateful operators: appends to b what gives the bytes of op's store their meaning (for a
     * window its type, size, step, gap and aggregates; never what only changes behaviour, such
     * as grace): the store's signature (sr_state_signature) is a hash of it, and a changelog
     * written under another signature is refused on restore instead of being misread.
     * @locality any; @locks none. */
    void (*state_format)(const sr_op *op, sr_buf *b);
    /* After the runner has restored op's stores from their changelogs, before any input or
     * timer (sr_task_restored): rebuilds from the store what the step keeps beside it (stream
     * time, counters, the timers it needs). NULL: the store is all the step's state.
     * @locality the thread that owns the task; @locks none. */
    void (*restored)(sr_task *t, const sr_op *op, void *state);
    /* Sinks: whether this operator writes topic t (for cycle checks and plans). */
    bool (*writes)(const sr_op *op, const sr_topic *t);
    /* Frees what the configuration owns beyond the parameters (conf is op->conf), after
     * every task that used it is destroyed. @locality the thread that frees the topology. */
    void (*destroy)(void *conf);
    /* Stateful operators (windows, aggregates, dedupe): the name of op's state store, as
     * set or derived when the topology was loaded; NULL for operators that keep no state
     * across records. Under `up` the store is logged to the changelog topic
     * "<consumer group>-<name>-changelog" and restored from it.
     * The store is the one source of the step's changelog. A step may keep the latest state of
     * some keys elsewhere between drains (the window step keeps its open windows decoded:
     * operators/window_table.h); it then registers a flush on its store
     * (sr_store_set_flush), which sr_store_drain calls before it hands out anything: whoever
     * drains a store (after sr_task_checkpoint, or a test that drains it directly) gets every
     * change as a put or delete of the latest value, with nothing more to call. After a
     * restore into the store, the step rebuilds what it keeps elsewhere from the store in its
     * restored hook (and, should that find a state it cannot decode, at its first record or
     * timer, which then fails with the reason). */
    const char *(*store_name)(const sr_op *op);
    /* For the summaries of `run` and `up`: appends to b what the step counted over every task of
     * the process (a lookup: its records with no match), as "N unmatched (lookup step 2, table T)",
     * or nothing. What it reads is shared by the tasks of the process (an atomic count reached
     * from the configuration). A report of several lines (a model step's KPIs, one line per
     * variant) ends each line, the last included, with a newline: it is printed under the
     * deployment's summary line (sr_print_report_lines) instead of in it. NULL: nothing to
     * report. @locality any; @locks none, or a lock of the step's shared part, named where the
     * step defines the hook. */
    void (*report)(const sr_op *op, sr_buf *b);
    /* A step that keeps a table of a topic (a lookup of a co-partitioned topic table): the topic,
     * which its deployment then consumes besides its inputs (the loader adds it to them), or
     * NULL. Such a step has a store (store_name), so that the table is logged and restored. */
    const sr_topic *(*table_topic)(const sr_op *op);
    /* A record of table_topic(op), instead of the chain: updates the step's table (the latest
     * value per record key; a tombstone deletes the key). Returns 0, or -1 with sr_task_fail()
     * (the record is dead-lettered). @locality the thread that owns the task; @locks none. */
    int (*table_update)(sr_task *t, const sr_op *op, void *state, const sr_origin *o);
    /* Operators that change the record key (key): NULL for those that keep it. Returns the
     * partition count declared for the repartition topic after op, or 0 for the default (the
     * partition count of the records' input). The loader splits a deployment after such a step
     * when a stateful step (store_name) follows it before the next re-key: the steps after it
     * run as another stage of the deployment, which reads the records through an internal
     * repartition topic, partitioned by their new key, so that each key's state is in the task
     * of its partition (topology.c, "re-keying"). @locality the loading thread; @locks none. */
    int (*rekey)(const sr_op *op);
} sr_operator_type;

/* One node of a deployment's operator chain: a configured operator. */
struct sr_op {
    const sr_operator_type *type;
    const void *conf; /* read-only once loaded: shared by every task (see above) */
    sr_op *next;      /* NULL: records go to the deployment's outputs */
    int index;        /* 1-based step number in the pipeline, 0 for implicit steps */
    int slot;         /* position in its deployment's ops[]: its state's index in a task */
    const sr_srcfile *file;
    sr_mark mark;             /* the operator's name */
    sr_mark vmark;            /* the value of its primary setting (the name when absent) */
    const sr_ynode *settings; /* the step's value as written (NULL for `- print`), for
                                 marks inside it in check(); lives as long as the topology */
    char label[64];           /* "filter (step 3)" */
};

/* Registry: every built-in operator, in documentation order. */
extern const sr_operator_type *const sr_operators[];
const sr_operator_type *sr_operator_find(const char *name);
int sr_operator_count(void);

/* ---- what operators may do with their task --------------------------------
 * Operators see a task only through these functions (they do not include exec/task.h). All of
 * them: @locality the thread that owns t (inside one of t's hooks); @locks none, except where
 * said. */

/* Passes r to the next operator of op's chain, or to the deployment's outputs when op is
 * last (op NULL: to the first operator). A deletion (r->tombstone) skips the steps that neither
 * take deletions (SR_OP_TOMBSTONES) nor write topics (SR_OP_TERMINAL): it has no value to change.
 * Returns what the downstream returned: 0, or -1 with the reason set (sr_task_fail). From op's own
 * on_timer or on_end, a record that fails downstream is dead-lettered on its own (its value as op
 * emitted it, the reason, and which hook made it; counted in the task's emit_dead), what it had
 * produced is withdrawn, and 0 is returned: the hook goes on with its other records. */
int sr_emit(sr_task *t, const sr_op *op, sr_record *r);

/* Sets the current input's error: "operator: message". Returns -1. */
int sr_task_fail(sr_task *t, const sr_op *op, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Serialises r and stages it for topic. Returns 0, or -1 (sr_task_fail) when
 * the value cannot be written as JSON. */
int sr_task_output(sr_task *t, const sr_op *op, const sr_topic *topic, const sr_record *r);

/* Fails (returns -1) unless the record value is an object. */
int sr_need_object(sr_task *t, const sr_op *op, const sr_record *r);

/* Appends r as one JSON line's text (no newline): the value, or with metadata
 * {"key","timestamp","value"}. Returns 0, or -1 when the value holds NaN or
 * infinity (b then holds what could be written). */
int sr_record_json(sr_buf *b, const sr_record *r, bool metadata);

/* For operators that write records somewhere shared by every task of the process and pass
 * them on (print: the console; write: its file): runs out(t, op, r) under the process-wide
 * output lock — the tasks of a deployment may run on several threads — then, outside the
 * lock, passes r on. out() may touch the process-wide part of op's configuration (@locks the
 * output lock, held). Returns out's failure, or what the downstream returned. */
int sr_output_and_emit(sr_task *t, const sr_op *op, sr_record *r,
                       int (*out)(sr_task *t, const sr_op *op, sr_record *r));

/* Scratch memory for the current record (or batch, timer, end): freed once the task's outputs
 * are taken. Records an operator makes or changes are built here. */
sr_arena *sr_task_arena(sr_task *t);

/* op's per-task state in t: the state_size bytes open() initialised, or NULL when op has no
 * state. op must be a step of t's deployment (asserted). */
void *sr_op_state(sr_task *t, const sr_op *op);

/* Registers st, a state store op's open() made, as one of t's stores: the runner finds a task's
 * stores there to write their changelogs, restore them and report their memory. t does not own
 * st (op's close destroys it, after which the runner no longer reads the list). */
void sr_task_add_store(sr_task *t, const sr_op *op, sr_store *st);

/* The topic of the input record being processed (borrowed: the topology's name, valid while t
 * lives); NULL for file sources and in hooks that run for no input (on_timer, on_end). */
const char *sr_task_input_topic(const sr_task *t);

/* Dead-letters r, a record op kept and gives up on (a join's buffered record that expired
 * unmatched, `unmatched: dead-letter`), not the input being processed: its value as JSON, its
 * key and timestamp (not its headers), with reason and the streamrun.* headers naming op. From
 * op's on_timer or on_end only (in process, a failure of the input would withdraw it with the
 * input's outputs). */
void sr_task_dead_letter_kept(sr_task *t, const sr_op *op, const sr_record *r, const char *reason);

/* The input partition t runs for (tasks of file sources: 0). */
int32_t sr_task_partition(const sr_task *t);

/* Where write steps put their lines instead of the file system: under `streamrun test`, a
 * capture in memory, so that testing a topology writes no file. line() is called under the
 * output lock of sr_output_and_emit, with one line's text (no newline); the text is valid
 * during the call only. */
typedef struct sr_file_sink {
    void (*line)(void *ud, const char *path, const char *text, size_t len);
    void *ud;
} sr_file_sink;

/* t's file sink (borrowed from the runner), or NULL: write to the file system. */
const sr_file_sink *sr_task_files(const sr_task *t);

/* ---- time -------------------------------------------------------------------
 * A task has two clocks, both in ms since the epoch:
 * - stream time: the largest event time (record timestamp) among the task's inputs so far
 *   (the inputs of one partition), SR_TIME_NONE before the first; it only moves forward, and
 *   moves before the record that carries it is processed. A step that takes its event time
 *   from elsewhere (a field) keeps its own in its state.
 * - the wall clock (sr_task_now): the runner's, or the test clock under `streamrun test`,
 *   moved on by the runner's ticks (sr_task_tick) and before each record.
 * A step sets timers on either clock; they belong to the task (dropped with it) and fire
 * through the step's on_timer, in order of time, then of setting. */
#define SR_TIME_NONE INT64_MIN

typedef enum {
    SR_TIMER_EVENT, /* fires once stream time >= at, after the record that moved it */
    SR_TIMER_WALL   /* fires at the first tick with the wall clock >= at */
} sr_timer_kind;

struct sr_timer {
    sr_timer_kind kind;
    int64_t at;  /* ms: stream time or wall clock */
    uint64_t id; /* the step's own: what the timer is for (a window's start...) */
};

/* t's stream time, or SR_TIME_NONE before its first input. */
int64_t sr_task_stream_time(const sr_task *t);
/* t's wall clock: the time now() gives. */
int64_t sr_task_now(const sr_task *t);
/* Sets a timer of op (which must have on_timer) on clock kind at time at, with id. Setting the
 * same id twice makes two timers. A timer already due fires at the next firing point, never
 * inside the call: after the current record (event time), at the next tick (wall clock), or,
 * when set from an on_timer of the same clock, in the same round. O(log n) in the task's
 * timers. */
void sr_timer_set(sr_task *t, const sr_op *op, sr_timer_kind kind, int64_t at, uint64_t id);
/* Cancels op's timers of kind with id; returns how many there were. O(n) in the task's timers
 * of that kind. */
int sr_timer_cancel(sr_task *t, const sr_op *op, sr_timer_kind kind, uint64_t id);

#endif
