/* test_task_hooks.c — the operator lifecycle: per-task state opened and closed in chain order,
 * state not shared between partitions, and print's table header once per task. A test-only
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

/* Adds {"<name>": count of records this task's step has seen} and passes the record on. */
static int probe_process(sr_task *t, const sr_op *op, sr_record *r)
{
    const struct probe_conf *c = op->conf;
    struct probe_state *st = sr_op_state(t, op);
    CHECK(st->partition == sr_task_partition(t));
    if (sr_need_object(t, op, r)) return -1;
    st->count++;
    sr_obj_set(sr_task_arena(t), &r->value, c->name, strlen(c->name), sr_int(st->count));
    return sr_emit(t, op, r);
}

static const sr_operator_type probe_type = {
    .name = "probe",
    .conf_size = sizeof(struct probe_conf),
    .state_size = sizeof(struct probe_state),
    .open = probe_open,
    .process = probe_process,
    .close = probe_close,
};

/* ---- a topology with the probe in its chain ----------------------------------------------- */

typedef struct fixture {
    sr_diag dg;
    sr_topology *topo;
    sr_deployment *dep;
    sr_op *saved_ops; /* the loaded chain, put back before the topology is freed */
    int saved_nops;
    sr_op ops[2];
    struct probe_conf conf[2];
    sr_buf out; /* outputs as "partition key value;" */
    char path[64];
} fixture;

static void sink(void *ud, const sr_topic *topic, int32_t partition, bool input, const char *base,
                 const sr_out *o)
{
    fixture *fx = ud;
    if (input) return;
    sr_buf_printf(&fx->out, "%s/%d %.*s %lld %.*s;", topic->name, partition,
                  o->key_len < 0 ? 4 : o->key_len, o->key_len < 0 ? "null" : base + o->key_off,
                  (long long)o->ts, (int)o->val_len, base + o->val_off);
}

/* Loads yaml; when probes, the first deployment's chain becomes probe A -> probe B. */
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
    fx->saved_ops = fx->dep->ops;
    fx->saved_nops = fx->dep->nops;
    for (int i = 0; i < 2; i++) {
        fx->conf[i].name = i == 0 ? "A" : "B";
        fx->ops[i] = (sr_op){.type = &probe_type,
                             .conf = &fx->conf[i],
                             .next = i == 0 ? &fx->ops[1] : NULL,
                             .index = i + 1,
                             .slot = i};
        snprintf(fx->ops[i].label, sizeof(fx->ops[i].label), "probe %s (step %d)", fx->conf[i].name,
                 i + 1);
    }
    fx->dep->ops = fx->ops;
    fx->dep->nops = 2;
}

static void fixture_free(fixture *fx)
{
    if (fx->saved_ops) {
        fx->dep->ops = fx->saved_ops;
        fx->dep->nops = fx->saved_nops;
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

/* print with format table: each task prints its header once, before its first row. */
static void test_print_header_per_task(void)
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
    CHECK_STR(got, "a b|1 2|3 4|c|5|6|7 8|");
    fixture_free(&fx);
}

int main(void)
{
    test_state_per_task();
    test_print_header_per_task();
    sr_buf_free(&events);
    return TEST_END();
}
