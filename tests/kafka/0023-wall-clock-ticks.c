/* 0023-wall-clock-ticks.c — under `streamrun up` (sr_up_run, in process), a task's wall-clock
 * timers fire on the worker that owns it, also while its partition is idle, and what they emit is
 * produced and counted like any output. A test-only step ("probe", after faults.yaml's `set`)
 * sets, when its task opens, a wall-clock timer due at once (a partition that never gets a record
 * must still be ticked), and after every record a timer IDLE_MS later that the next record moves
 * on (the idle closing of windows): each emits {"tick": id, "partition": p, "count": records the
 * task has seen}. N inputs arrive at once, then nothing: `out` must get the N outputs, one open
 * tick per partition, and idle ticks whose last counts per partition add up to N — with no
 * record arriving after them. The run's `out` count must hold the ticks' records, and the
 * committed offsets must still sum to N (a tick's outputs belong to no input). Each open tick
 * also emits a record that cannot be written (NaN): the run must count it in emit_dead. With 2
 * workers and with 1. */
#include "faults.h"
#include "load/operator.h"

#include <math.h>

#define N       200
#define IDLE_MS 700 /* the idle timer: longer than the gaps within one burst of inputs */

struct probe_state {
    int64_t count; /* records this task has seen */
};

static void probe_open(sr_task *t, const sr_op *op, void *state)
{
    (void)state;
    sr_timer_set(t, op, SR_TIMER_WALL, sr_task_now(t), 1);
}

static int probe_process(sr_task *t, const sr_op *op, sr_record *r)
{
    struct probe_state *st = sr_op_state(t, op);
    st->count++;
    sr_timer_cancel(t, op, SR_TIMER_WALL, 2);
    sr_timer_set(t, op, SR_TIMER_WALL, sr_task_now(t) + IDLE_MS, 2);
    return sr_emit(t, op, r);
}

static int probe_on_timer(sr_task *t, const sr_op *op, const sr_timer *tm)
{
    struct probe_state *st = sr_op_state(t, op);
    sr_arena *a = sr_task_arena(t);
    sr_record r = {.key = sr_null(), .ts = sr_task_now(t)};
    r.value = sr_obj_new(a, 3);
    sr_obj_set(a, &r.value, "tick", 4, sr_int((int64_t)tm->id));
    sr_obj_set(a, &r.value, "partition", 9, sr_int(sr_task_partition(t)));
    sr_obj_set(a, &r.value, "count", 5, sr_int(st->count));
    if (sr_emit(t, op, &r) != 0) return -1;
    if (tm->id != 1) return 0;
    /* the open tick also emits a record that cannot be written (NaN is no JSON): dead-lettered
     * on its own, counted in emit_dead */
    sr_record bad = {.key = sr_null(), .ts = sr_task_now(t)};
    bad.value = sr_obj_new(a, 1);
    sr_obj_set(a, &bad.value, "nan", 3, sr_dbl(NAN));
    return sr_emit(t, op, &bad);
}

static const sr_operator_type probe_type = {
    .name = "probe",
    .state_size = sizeof(struct probe_state),
    .open = probe_open,
    .process = probe_process,
    .on_timer = probe_on_timer,
};

/* ---- what `out` holds ------------------------------------------------------------------------ */

typedef struct tally {
    long outputs;           /* {"id":..,"twice":..} records */
    long open_ticks[16];    /* per partition: tick 1 records */
    long idle_ticks;        /* tick 2 records */
    int64_t idle_count[16]; /* per partition: the largest count a tick 2 gave */
    long other;             /* anything else */
    char first_other[160];
} tally;

static void take(tally *ta, const rd_kafka_message_t *m)
{
    char val[160];
    snprintf(val, sizeof(val), "%.*s", (int)(m->len < 159 ? m->len : 159),
             m->payload ? (const char *)m->payload : "");
    int id, twice, tick, part;
    long long count;
    if (sscanf(val, "{\"id\":%d,\"twice\":%d}", &id, &twice) == 2 && twice == 2 * id) {
        ta->outputs++;
    } else if (sscanf(val, "{\"tick\":%d,\"partition\":%d,\"count\":%lld}", &tick, &part, &count) ==
                   3 &&
               part >= 0 && part < 16 && (tick == 1 || tick == 2)) {
        if (tick == 1) {
            ta->open_ticks[part]++;
        } else {
            ta->idle_ticks++;
            if (count > ta->idle_count[part]) ta->idle_count[part] = count;
        }
    } else if (ta->other++ == 0) {
        snprintf(ta->first_other, sizeof(ta->first_other), "%s", val);
    }
}

static int64_t idle_sum(const tally *ta)
{
    int64_t s = 0;
    for (int p = 0; p < 16; p++) s += ta->idle_count[p];
    return s;
}

static bool complete(const tally *ta, int partitions)
{
    for (int p = 0; p < partitions; p++)
        if (ta->open_ticks[p] == 0) return false;
    return ta->outputs >= N && idle_sum(ta) >= N;
}

static void round_with(const char *path, int workers)
{
    printf("---- %d worker%s\n", workers, workers == 1 ? "" : "s");
    fixture fx;
    fixture_start(&fx, path, 1);
    if (fx.partitions > 16) fail("faults.yaml's `out` has more than 16 partitions");
    /* the chain becomes set -> probe */
    sr_deployment *dep = &fx.topo->deps[0];
    if (dep->nops != 1) fail("faults.yaml's pipeline is expected to have one step");
    sr_op *saved = dep->ops, ops[2];
    ops[0] = saved[0];
    ops[0].next = &ops[1];
    ops[1] = (sr_op){.type = &probe_type, .index = 2, .slot = 1, .file = saved[0].file};
    snprintf(ops[1].label, sizeof(ops[1].label), "probe (step 2)");
    dep->ops = ops;
    dep->nops = 2;

    fx.workers = workers;
    rd_kafka_conf_t *conf = client_conf(fx.addr);
    char group[64], err[512];
    snprintf(group, sizeof(group), "ticks-reader-%d-%d", (int)getpid(), workers);
    conf_set(conf, "group.id", group);
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "fetch.wait.max.ms", "10");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!c) fail("reader: %s", err);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(fx.partitions);
    for (int p = 0; p < fx.partitions; p++)
        rd_kafka_topic_partition_list_add(l, "out", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c, l);
    rd_kafka_topic_partition_list_destroy(l);

    run_start(&fx);
    feeder f;
    feeder_start(&f, fx.addr, N, N, 0);
    feeder_join(&f);
    double t_fed = now_s();
    tally ta = {0};
    while (!complete(&ta, fx.partitions)) {
        if (now_s() - t_fed > 30) {
            long open = 0;
            for (int p = 0; p < fx.partitions; p++) open += ta.open_ticks[p] > 0;
            fail("30 s after the inputs: %ld of %d outputs, open ticks on %ld of %d partitions, "
                 "idle ticks counting %lld of %d records (%ld idle ticks): the tasks' wall-clock "
                 "timers did not fire",
                 ta.outputs, N, open, fx.partitions, (long long)idle_sum(&ta), N, ta.idle_ticks);
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (!m->err) take(&ta, m);
        rd_kafka_message_destroy(m);
    }
    printf("%.1f s after the inputs: %ld outputs, an open tick on every partition, idle ticks "
           "counting all %d records\n",
           now_s() - t_fed, ta.outputs, N);
    /* what else comes while the partitions stay idle: the idle timers fired once each */
    double t_quiet = now_s();
    while (now_s() - t_quiet < 2 * IDLE_MS / 1000.0 + 0.5) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) continue;
        if (!m->err) take(&ta, m);
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    run_stop(&fx);
    if (ta.other) fail("%ld unexpected records on out, the first: %s", ta.other, ta.first_other);
    if (idle_sum(&ta) != N)
        fail("the idle ticks' last counts add up to %lld, expected %d", (long long)idle_sum(&ta),
             N);
    long ticks = ta.idle_ticks;
    for (int p = 0; p < fx.partitions; p++) {
        if (ta.open_ticks[p] != 1)
            fail("partition %d's open timer fired %ld times", p, ta.open_ticks[p]);
        ticks += ta.open_ticks[p];
    }
    if (ta.outputs != N)
        fail("%ld outputs of the %d inputs (a single run loses none)", ta.outputs, N);
    if (fx.stats.out != (uint64_t)(N + ticks))
        fail("the run counted %llu records out; out holds %d outputs and %ld records of timers",
             (unsigned long long)fx.stats.out, N, ticks);
    printf("the run counted %llu out: %d outputs and %ld from timers\n",
           (unsigned long long)fx.stats.out, N, ticks);
    if (fx.stats.emit_dead != (uint64_t)fx.partitions)
        fail("the run counted %llu records made by steps dead-lettered, expected %d (one per open "
             "tick)",
             (unsigned long long)fx.stats.emit_dead, fx.partitions);
    printf("the run counted %llu records made by timers dead-lettered\n",
           (unsigned long long)fx.stats.emit_dead);
    int64_t committed = committed_total(fx.addr, fx.partitions);
    if (committed != N)
        fail("the committed offsets sum to %lld, expected %d", (long long)committed, N);
    printf("committed offsets of %s on in: %d\n", GROUP, N);
    dep->ops = saved;
    dep->nops = 1;
    fixture_stop(&fx);
}

int main(int argc, char **argv)
{
    if (argc != 2) fail("usage: %s tests/kafka/faults.yaml", argv[0]);
    alarm(110); /* a hang ends the process */
    round_with(argv[1], 2);
    round_with(argv[1], 1);
    printf("PASS\n");
    return 0;
}
