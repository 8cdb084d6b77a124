/* test_task_hooks.c — the operator lifecycle: per-task state opened and closed in chain order,
 * state not shared between partitions, and print's table header once per process. A test-only
 * operator ("probe", not in the product's registry) exercises the hooks through the in-process
 * runner of `run` and `test`. */
#include "exec/local.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

/* ---- the probe operator ------------------------------------------------------------------ */

struct probe_conf {
    const char *name; /* "A", "B": names the step in the event log */
};

struct probe_state {
    int32_t partition; /* the task's, seen by open */
    int64_t count;     /* records this task's step has seen */
    char *mem;         /* something to free: LSan reports a close that never comes */
    bool fail_end;     /* on_end fails */
};

static sr_buf events; /* "open A0;open B0;...": what the hooks did, in order */
static int nopen, nclose;

static void probe_open(sr_task *t, const sr_op *op, void *state)
{
    const struct probe_conf *c = op->conf;
    struct probe_state *st = state;
    CHECK(st->count == 0 && st->mem == NULL); /* zeroed */
    st->partition = sr_task_partition(t);
    st->mem = sr_xstrndup(c->name, strlen(c->name));
    sr_buf_printf(&events, "open %s%d;", c->name, st->partition);
    nopen++;
}

static void probe_close(sr_task *t, const sr_op *op, void *state)
{
    const struct probe_conf *c = op->conf;
    struct probe_state *st = state;
    CHECK(st == sr_op_state(t, op));
    sr_buf_printf(&events, "close %s%d;", c->name, st->partition);
    free(st->mem);
    nclose++;
}

static int64_t field_int(const sr_record *r, const char *name)
{
    const sr_value *v = sr_obj_get(&r->value, name, strlen(name));
    return v && sr_is_number(v) ? (int64_t)sr_num_double(v) : -1;
}

/* Adds {"<name>": count of records this task's step has seen} and passes the record on. Step A
 * also obeys the record: {"timer_at": T, "id": N} sets an event-time timer, {"wall_at": T,
 * "id": N} a wall-clock one, {"cancel": N} cancels event-time timer N. */
static int probe_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct probe_conf *c = op->conf;
    struct probe_state *st = sr_op_state(t, op);
    CHECK(st->partition == sr_task_partition(t));
    if (sr_need_object(t, op, r)) return -1;
    if (!sr_obj_get(&r->value, "timer", 5) && !sr_obj_get(&r->value, "end", 3))
        /* an input: stream time moved before it */
        CHECK(sr_task_stream_time(t) >= r->ts);
    if (c->name[0] == 'A') {
        int64_t id = field_int(r, "id");
        if (field_int(r, "timer_at") >= 0)
            sr_timer_set(t, op, SR_TIMER_EVENT, field_int(r, "timer_at"), (uint64_t)id);
        if (field_int(r, "wall_at") >= 0)
            sr_timer_set(t, op, SR_TIMER_WALL, field_int(r, "wall_at"), (uint64_t)id);
        if (field_int(r, "cancel") >= 0)
            CHECK(sr_timer_cancel(t, op, SR_TIMER_EVENT, (uint64_t)field_int(r, "cancel")) == 1);
        if (sr_obj_get(&r->value, "fail_end", 8)) { /* for this task only */
            st->fail_end = true;
            sr_obj_del(&r->value, "fail_end", 8);
        }
    }
    st->count++;
    sr_obj_set(sr_task_arena(t), &r->value, c->name, strlen(c->name), sr_int(st->count));
    return sr_emit(t, op, r);
}

static const sr_topic *probe_topic; /* where timer 97 writes directly */

/* Emits {"timer": name, "clock", "at", "id", "stream": stream time} with no key at time at.
 * Timer 99 emits an array instead (the next step fails it); timer 98 fails; timer 97 writes
 * {"direct": 97} to probe_topic itself (as route and to do), then fails. */
static int probe_on_timer(sr_task *t, const sr_op *op, const sr_timer *tm)
{
    const struct probe_conf *c = op->conf;
    sr_arena *a = sr_task_arena(t);
    if (tm->id == 98) return sr_task_fail(t, op, "timer %llu fails", (unsigned long long)tm->id);
    sr_record r = {.key = sr_null(), .ts = tm->at};
    if (tm->id == 97) {
        r.value = sr_obj_new(a, 1);
        sr_obj_set(a, &r.value, "direct", 6, sr_int(97));
        if (sr_task_output(t, op, probe_topic, &r)) return -1;
        return sr_task_fail(t, op, "timer 97 fails after its output");
    }
    if (tm->id == 99) {
        r.value = sr_arr_new(a, 1);
        sr_arr_push(a, &r.value, sr_int(99));
        return sr_emit(t, op, &r);
    }
    r.value = sr_obj_new(a, 6);
    sr_obj_set(a, &r.value, "timer", 5, sr_str(c->name, strlen(c->name)));
    const char *clock = tm->kind == SR_TIMER_EVENT ? "event" : "wall";
    sr_obj_set(a, &r.value, "clock", 5, sr_str(clock, strlen(clock)));
    sr_obj_set(a, &r.value, "at", 2, sr_int(tm->at));
    sr_obj_set(a, &r.value, "id", 2, sr_int((int64_t)tm->id));
    sr_obj_set(a, &r.value, "stream", 6, sr_int(sr_task_stream_time(t)));
    return sr_emit(t, op, &r);
}

/* Emits {"end": name, "seen": records seen, "stream": stream time} with no key; a record with
 * "fail_end" makes it fail instead. */
static int probe_on_end(sr_task *t, const sr_op *op)
{
    const struct probe_conf *c = op->conf;
    struct probe_state *st = sr_op_state(t, op);
    sr_arena *a = sr_task_arena(t);
    sr_buf_printf(&events, "end %s%d;", c->name, st->partition);
    if (st->fail_end) return sr_task_fail(t, op, "asked to fail at the end");
    sr_record r = {.key = sr_null(), .ts = sr_task_now(t)};
    r.value = sr_obj_new(a, 4);
    sr_obj_set(a, &r.value, "end", 3, sr_str(c->name, strlen(c->name)));
    sr_obj_set(a, &r.value, "seen", 4, sr_int(st->count));
    sr_obj_set(a, &r.value, "stream", 6, sr_int(sr_task_stream_time(t)));
    return sr_emit(t, op, &r);
}

static const sr_operator_type probe_type = {
    .name = "probe",
    .conf_size = sizeof(struct probe_conf),
    .state_size = sizeof(struct probe_state),
    .open = probe_open,
    .process = probe_process,
    .on_timer = probe_on_timer,
    .on_end = probe_on_end,
    .close = probe_close,
};

/* ---- a topology with the probe in its chain ----------------------------------------------- */

typedef struct fixture {
    sr_diag dg;
    sr_topology *topo;
    sr_deployment *dep;
    sr_op *saved_ops[2]; /* the loaded chains, put back before the topology is freed */
    int saved_nops[2];
    bool replaced[2];
    sr_op ops[2][2];
    struct probe_conf conf[2];
    sr_buf out; /* outputs as "partition key value;" */
    char path[64];
} fixture;

static void sink(void *ud, const sr_topic *topic, int32_t partition, bool input, const char *base,
                 const sr_out *o)
{
    fixture *fx = ud;
    if (input) return;
    sr_buf_printf(&fx->out, "%s/%d %.*s %lld %.*s", topic->name, partition,
                  o->key_len < 0 ? 4 : o->key_len, o->key_len < 0 ? "null" : base + o->key_off,
                  (long long)o->ts, (int)o->val_len, base + o->val_off);
    const char *h = base + o->hdr_off; /* a dead letter's reason and where */
    for (uint32_t i = 0; i < o->nhdr; i++) {
        sr_header hd;
        h = sr_header_next(h, &hd);
        if ((hd.nlen == 15 && memcmp(hd.name, "streamrun.error", 15) == 0) ||
            (hd.nlen == 18 && memcmp(hd.name, "streamrun.operator", 18) == 0))
            sr_buf_printf(&fx->out, " [%.*s]", (int)hd.vlen, hd.val);
    }
    sr_buf_putc(&fx->out, ';');
}

/* Loads yaml; when probes, the chain of each deployment (two at most) becomes probe A ->
 * probe B. */
static void fixture_load(fixture *fx, const char *yaml, bool probes)
{
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->path, sizeof(fx->path), "/tmp/test_task_hooks_XXXXXX");
    int fd = mkstemp(fx->path);
    if (fd < 0 || write(fd, yaml, strlen(yaml)) != (ssize_t)strlen(yaml)) abort();
    close(fd);
    sr_diag_init(&fx->dg);
    if (sr_topology_load(&fx->topo, fx->path, &fx->dg) != 0) {
        sr_diag_print(&fx->dg, stderr, false, false);
        abort();
    }
    fx->dep = &fx->topo->deps[0];
    if (!probes) return;
    for (int i = 0; i < 2; i++) fx->conf[i].name = i == 0 ? "A" : "B";
    for (int d = 0; d < fx->topo->ndeps && d < 2; d++) {
        sr_deployment *dep = &fx->topo->deps[d];
        fx->saved_ops[d] = dep->ops;
        fx->saved_nops[d] = dep->nops;
        fx->replaced[d] = true;
        sr_op *ops = fx->ops[d];
        for (int i = 0; i < 2; i++) {
            ops[i] = (sr_op){.type = &probe_type,
                             .conf = &fx->conf[i],
                             .next = i == 0 ? &ops[1] : NULL,
                             .index = i + 1,
                             .slot = i};
            snprintf(ops[i].label, sizeof(ops[i].label), "probe %s (step %d)", fx->conf[i].name,
                     i + 1);
        }
        dep->ops = ops;
        dep->nops = 2;
    }
}

static void fixture_free(fixture *fx)
{
    for (int d = 0; d < 2; d++) {
        if (!fx->replaced[d]) continue;
        fx->topo->deps[d].ops = fx->saved_ops[d];
        fx->topo->deps[d].nops = fx->saved_nops[d];
    }
    sr_topology_free(fx->topo);
    sr_diag_free(&fx->dg);
    sr_buf_free(&fx->out);
    unlink(fx->path);
}

static const char *two_partitions = "topics:\n"
                                    "  - {name: in, partitions: 2}\n"
                                    "  - {name: out, partitions: 2}\n"
                                    "deployments:\n"
                                    "  - name: d\n"
                                    "    input: in\n"
                                    "    pipeline:\n"
                                    "      - set: {x: 1}\n"
                                    "    output: out\n";

/* Two keys that go to partitions 0 and 1 of a 2-partition topic. */
static void keys_for_partitions(char k0[8], char k1[8])
{
    k0[0] = k1[0] = 0;
    for (int i = 0; i < 100 && (!k0[0] || !k1[0]); i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        char *slot = sr_partition_for_key(k, strlen(k), 2) == 0 ? k0 : k1;
        if (!slot[0]) memcpy(slot, k, 8);
    }
    if (!k0[0] || !k1[0]) abort();
}

static void produce(sr_local *l, const sr_topic *in, const char *key, int64_t ts, const char *val)
{
    sr_local_produce(l, in, key, strlen(key), val, strlen(val), ts, NULL, 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

/* Each partition's task has its own state; open in chain order when a task is created, close
 * in reverse order when the runner drops it; every open has its close. */
static void test_state_per_task(void)
{
    fixture fx;
    fixture_load(&fx, two_partitions, true);
    char k0[8], k1[8];
    keys_for_partitions(k0, k1);
    const sr_topic *in = sr_topology_topic(fx.topo, "in");
    events.len = 0;
    nopen = nclose = 0;
    sr_local *l = sr_local_new(fx.topo, NULL, 0, sink, &fx);
    sr_local_set_clock(l, 5000);
    produce(l, in, k0, 1000, "{}");
    produce(l, in, k0, 1001, "{}");
    produce(l, in, k1, 1002, "{}");
    produce(l, in, k0, 1003, "{}");
    char want[512];
    snprintf(want, sizeof(want),
             "out/0 %s 1000 {\"A\":1,\"B\":1};out/0 %s 1001 {\"A\":2,\"B\":2};"
             "out/1 %s 1002 {\"A\":1,\"B\":1};out/0 %s 1003 {\"A\":3,\"B\":3};",
             k0, k0, k1, k0);
    CHECK_STR(sr_buf_cstr(&fx.out), want);
    CHECK_STR(sr_buf_cstr(&events), "open A0;open B0;open A1;open B1;");
    sr_local_free(l);
    CHECK_STR(sr_buf_cstr(&events),
              "open A0;open B0;open A1;open B1;close B0;close A0;close B1;close A1;");
    CHECK(nopen == 4 && nclose == 4);
    fixture_free(&fx);
}

/* print with format table: one header for the process, before the first row of any task; the
 * columns are those of that first row (a record without them prints empty cells). */
static void test_print_header_once(void)
{
    fixture fx;
    fixture_load(&fx,
                 "topics:\n"
                 "  - {name: in, partitions: 2}\n"
                 "  - {name: out}\n"
                 "deployments:\n"
                 "  - name: d\n"
                 "    input: in\n"
                 "    pipeline:\n"
                 "      - print: {format: table, stream: stdout}\n"
                 "    output: out\n",
                 false);
    char k0[8], k1[8];
    keys_for_partitions(k0, k1);
    const sr_topic *in = sr_topology_topic(fx.topo, "in");
    fflush(stdout);
    char cap[] = "/tmp/test_task_hooks_print_XXXXXX";
    int fd = mkstemp(cap), saved = dup(1);
    if (fd < 0 || saved < 0 || dup2(fd, 1) < 0) abort();
    sr_local *l = sr_local_new(fx.topo, NULL, 0, sink, &fx);
    produce(l, in, k0, 1, "{\"a\":1,\"b\":2}");
    produce(l, in, k0, 2, "{\"a\":3,\"b\":4}");
    produce(l, in, k1, 3, "{\"c\":5}");
    produce(l, in, k1, 4, "{\"c\":6}");
    produce(l, in, k0, 5, "{\"a\":7,\"b\":8}");
    sr_local_free(l);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fdopen(fd, "r");
    rewind(f);
    char got[1024] = "", line[256];
    while (fgets(line, sizeof(line), f)) {
        size_t n = strlen(line); /* trailing blanks of the cells apart */
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' ')) line[--n] = 0;
        for (char *p = line; *p;) /* one blank between cells */
            if (p[0] == ' ' && (p[1] == ' ' || p[1] == 0))
                memmove(p, p + 1, strlen(p));
            else
                p++;
        strncat(got, line, sizeof(got) - strlen(got) - 2);
        strcat(got, "|");
    }
    fclose(f);
    unlink(cap);
    CHECK_STR(got, "a b|1 2|3 4|||7 8|");
    fixture_free(&fx);
}

/* Event-time timers fire after the record that moves stream time past them, in time order
 * (then in order of setting), per partition; what they emit goes through the steps after and
 * reaches the outputs, counted; a record a timer emits that fails downstream, and a timer that
 * fails, are dead-lettered. Wall-clock timers fire when the (test) clock reaches them. */
static void test_timers(void)
{
    fixture fx;
    fixture_load(&fx,
                 "topics:\n"
                 "  - {name: in, partitions: 2}\n"
                 "  - {name: out, partitions: 2}\n"
                 "  - {name: errors}\n"
                 "deployments:\n"
                 "  - name: d\n"
                 "    input: in\n"
                 "    deadLetter: errors\n"
                 "    pipeline:\n"
                 "      - set: {x: 1}\n"
                 "    output: out\n",
                 true);
    char k0[8], k1[8];
    keys_for_partitions(k0, k1);
    const sr_topic *in = sr_topology_topic(fx.topo, "in");
    probe_topic = sr_topology_topic(fx.topo, "out");
    sr_local *l = sr_local_new(fx.topo, NULL, 0, sink, &fx);
    sr_local_set_clock(l, 10000);
    sr_buf want = {0};
#define OUT0(ts, v) sr_buf_printf(&want, "out/0 %s %d %s;", k0, ts, v)
#define OUT1(ts, v) sr_buf_printf(&want, "out/1 %s %d %s;", k1, ts, v)
    produce(l, in, k0, 1000, "{\"timer_at\":3000,\"id\":1}");
    OUT0(1000, "{\"timer_at\":3000,\"id\":1,\"A\":1,\"B\":1}");
    produce(l, in, k0, 1000, "{\"timer_at\":2000,\"id\":2}");
    OUT0(1000, "{\"timer_at\":2000,\"id\":2,\"A\":2,\"B\":2}");
    produce(l, in, k0, 1000, "{\"timer_at\":2000,\"id\":3}");
    OUT0(1000, "{\"timer_at\":2000,\"id\":3,\"A\":3,\"B\":3}");
    /* due at once: fires after the record, before its outputs are taken */
    produce(l, in, k0, 1000, "{\"timer_at\":1000,\"id\":4}");
    OUT0(1000, "{\"timer_at\":1000,\"id\":4,\"A\":4,\"B\":4}");
    sr_buf_puts(&want, "out/0 null 1000 "
                       "{\"timer\":\"A\",\"clock\":\"event\",\"at\":1000,\"id\":4,\"stream\":1000,"
                       "\"B\":5};");
    /* partition 1's stream time is its own: partition 0's timers stay */
    produce(l, in, k1, 5000, "{}");
    OUT1(5000, "{\"A\":1,\"B\":1}");
    /* past 2000: timers 2 then 3 (same time, order of setting), not 1 */
    produce(l, in, k0, 2500, "{}");
    OUT0(2500, "{\"A\":5,\"B\":6}");
    sr_buf_puts(&want, "out/0 null 2000 "
                       "{\"timer\":\"A\",\"clock\":\"event\",\"at\":2000,\"id\":2,\"stream\":2500,"
                       "\"B\":7};");
    sr_buf_puts(&want, "out/0 null 2000 "
                       "{\"timer\":\"A\",\"clock\":\"event\",\"at\":2000,\"id\":3,\"stream\":2500,"
                       "\"B\":8};");
    /* an earlier record does not move stream time back; timer 1 is cancelled */
    produce(l, in, k0, 2400, "{\"cancel\":1}");
    OUT0(2400, "{\"cancel\":1,\"A\":6,\"B\":9}");
    CHECK_STR(sr_buf_cstr(&fx.out), sr_buf_cstr(&want));
    /* timer 99 emits a record step B fails: dead-lettered alone; timer 98 fails itself */
    produce(l, in, k0, 4000, "{\"timer_at\":4000,\"id\":99}");
    OUT0(4000, "{\"timer_at\":4000,\"id\":99,\"A\":7,\"B\":10}");
    sr_buf_puts(&want, "errors/0 null 4000 [99] [the record must be a JSON object, not array (a "
                       "record probe A (step 1) emitted at an event-time timer)] [probe B (step "
                       "2)];");
    produce(l, in, k0, 4000, "{\"timer_at\":4000,\"id\":98}");
    OUT0(4000, "{\"timer_at\":4000,\"id\":98,\"A\":8,\"B\":11}");
    sr_buf_puts(&want, "errors/0 null 4000 {\"timer\":{\"clock\":\"event\",\"at\":4000,\"id\":98}} "
                       "[timer 98 fails] [probe A (step 1)];");
    /* a direct output stays (and counts) when the timer fails after it */
    produce(l, in, k0, 4000, "{\"timer_at\":4000,\"id\":97}");
    OUT0(4000, "{\"timer_at\":4000,\"id\":97,\"A\":9,\"B\":12}");
    sr_buf_puts(&want, "out/0 null 4000 {\"direct\":97};errors/0 null 4000 "
                       "{\"timer\":{\"clock\":\"event\",\"at\":4000,\"id\":97}} [timer 97 fails "
                       "after its output] [probe A (step 1)];");
    CHECK_STR(sr_buf_cstr(&fx.out), sr_buf_cstr(&want));
    /* wall clock: fires when the test clock reaches 10500, not before */
    produce(l, in, k1, 6000, "{\"wall_at\":10500,\"id\":7}");
    OUT1(6000, "{\"wall_at\":10500,\"id\":7,\"A\":2,\"B\":2}");
    sr_local_set_clock(l, 10499);
    CHECK_STR(sr_buf_cstr(&fx.out), sr_buf_cstr(&want));
    sr_local_set_clock(l, 10500);
    sr_buf_puts(&want, "out/1 null 10500 "
                       "{\"timer\":\"A\",\"clock\":\"wall\",\"at\":10500,\"id\":7,\"stream\":6000,"
                       "\"B\":3};");
    CHECK_STR(sr_buf_cstr(&fx.out), sr_buf_cstr(&want));
    sr_local_set_clock(l, 20000); /* fired once */
    CHECK_STR(sr_buf_cstr(&fx.out), sr_buf_cstr(&want));
#undef OUT0
#undef OUT1
    sr_local_stats st;
    sr_local_get_stats(l, fx.dep, &st);
    CHECK(st.in == 11 && st.delivered == 11 && st.dead == 0);
    CHECK(st.out == 11 + 5); /* the inputs' and the timers' */
    CHECK(st.emit_dead == 3);
    sr_local_free(l);
    sr_buf_free(&want);
    fixture_free(&fx);
}

/* Timers of one task fire in time order whatever the order they were set in (the heap). */
static void test_timer_order(void)
{
    fixture fx;
    fixture_load(&fx, two_partitions, true);
    char k0[8], k1[8];
    keys_for_partitions(k0, k1);
    const sr_topic *in = sr_topology_topic(fx.topo, "in");
    sr_local *l = sr_local_new(fx.topo, NULL, 0, sink, &fx);
    sr_local_set_clock(l, 0);
    unsigned x = 12345;
    char val[64];
    for (int i = 0; i < 200; i++) {
        x = x * 1103515245u + 12345u;
        snprintf(val, sizeof(val), "{\"timer_at\":%u,\"id\":%d}", 100 + (x >> 8) % 1000, 1000 + i);
        produce(l, in, k0, 1, val);
    }
    fx.out.len = 0;
    produce(l, in, k0, 5000, "{}");
    /* the timers' outputs, after the record's: their "at" never goes down */
    const char *p = sr_buf_cstr(&fx.out);
    long last = -1;
    int n = 0;
    bool ordered = true;
    while ((p = strstr(p, "\"at\":"))) {
        long at = strtol(p + 5, NULL, 10);
        if (at < last) ordered = false;
        last = at;
        n++;
        p += 5;
    }
    CHECK(n == 200);
    CHECK(ordered);
    sr_local_free(l);
    fixture_free(&fx);
}

/* End of input: every live task's steps run on_end in chain order, writers' deployments
 * before their readers' (here the reader comes first in the file); what they emit is delivered
 * like any output, and an on_end that fails is dead-lettered. */
static void test_end(void)
{
    fixture fx;
    fixture_load(&fx,
                 "topics:\n"
                 "  - {name: in, partitions: 2}\n"
                 "  - {name: mid}\n"
                 "  - {name: out}\n"
                 "  - {name: errors}\n"
                 "deployments:\n"
                 "  - {name: reader, input: mid, output: out, deadLetter: errors}\n"
                 "  - {name: writer, input: in, output: mid, deadLetter: errors}\n",
                 true);
    char k0[8], k1[8];
    keys_for_partitions(k0, k1);
    const sr_topic *in = sr_topology_topic(fx.topo, "in");
    events.len = 0;
    sr_local *l = sr_local_new(fx.topo, NULL, 0, sink, &fx);
    sr_local_set_clock(l, 7000);
    produce(l, in, k0, 100, "{}");
    produce(l, in, k1, 200, "{\"fail_end\":true}");
    produce(l, in, k0, 300, "{}");
    fx.out.len = 0;
    events.len = 0;
    sr_local_end(l);
    /* writer's partition 0: A's end record goes through B, then B's; both reach reader, whose
     * steps count them, and reader's own ends come last. Writer's partition 1 fails in A. */
    const char *want =
        "mid/0 null 7000 {\"end\":\"A\",\"seen\":2,\"stream\":300,\"B\":3};"
        "out/0 null 7000 {\"end\":\"A\",\"seen\":2,\"stream\":300,\"B\":4,\"A\":4};"
        "mid/0 null 7000 {\"end\":\"B\",\"seen\":3,\"stream\":300};"
        "out/0 null 7000 {\"end\":\"B\",\"seen\":3,\"stream\":300,\"A\":5,\"B\":5};"
        "errors/0 null 7000 {\"end_of_input\":{\"stream_time\":200}} [asked to fail at the end] "
        "[probe A (step 1)];"
        "mid/0 null 7000 {\"end\":\"B\",\"seen\":1,\"stream\":200};"
        "out/0 null 7000 {\"end\":\"B\",\"seen\":1,\"stream\":200,\"A\":6,\"B\":6};"
        "out/0 null 7000 {\"end\":\"A\",\"seen\":6,\"stream\":7000,\"B\":7};"
        "out/0 null 7000 {\"end\":\"B\",\"seen\":7,\"stream\":7000};";
    CHECK_STR(sr_buf_cstr(&fx.out), want);
    CHECK_STR(sr_buf_cstr(&events), "end A0;end B0;end A1;end B1;end A0;end B0;");
    sr_local_stats st;
    sr_local_get_stats(l, &fx.topo->deps[1], &st);
    CHECK(st.in == 3 && st.out == 3 + 3 && st.emit_dead == 1);
    sr_local_free(l);
    fixture_free(&fx);
}

int main(void)
{
    test_state_per_task();
    test_print_header_once();
    test_timers();
    test_timer_order();
    test_end();
    sr_buf_free(&events);
    return TEST_END();
}
