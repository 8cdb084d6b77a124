/* 0011-failure-commits-nothing-after.c — a delivery that finally fails stops `streamrun up`
 * (sr_up_run, in process) without committing past it. N1 inputs are processed and committed;
 * then every Produce request fails with a permanent broker error (MSG_SIZE_TOO_LARGE, injected
 * into the embedded broker) while N2 more arrive: the run must stop by itself with the reason,
 * and the committed offsets must stay at N1 — neither the periodic commit nor the revocation
 * when the consumer closes may commit inputs whose outputs were lost. The next run, with the
 * broker healthy, reads them again, and `out` then holds the output of every input
 * (at-least-once). With 2 workers and with 1. The outputs' partitions are led by broker 1 and the
 * inputs' by broker 2, so that only streamrun's producer meets the errors pushed on broker 1. */
#include "faults.h"

#define N1          100
#define N2          100
#define API_PRODUCE 0 /* the Kafka protocol's ProduceRequest */
#define NERR        4 /* errors pushed: more than the Produce requests in flight at once */

static size_t pending_errors(rd_kafka_mock_cluster_t *mc)
{
    size_t cnt = 0;
    if (rd_kafka_mock_broker_error_stack_cnt(mc, 1, API_PRODUCE, &cnt))
        fail("cannot count the pending errors");
    return cnt;
}

/* Serves the errors the failed run left on broker 1's stack with a producer of our own, writing
 * to `dead` (led by broker 1, read by nobody here), so that the next run meets none. */
static void drain_errors(fixture *fx)
{
    rd_kafka_conf_t *conf = client_conf(fx->addr);
    conf_set(conf, "message.send.max.retries", "0");
    char err[512];
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!p) fail("drain producer: %s", err);
    double t0 = now_s();
    while (pending_errors(fx->mc) > 0) {
        if (now_s() - t0 > 30) fail("%zu injected errors left after 30 s", pending_errors(fx->mc));
        if (rd_kafka_producev(p, RD_KAFKA_V_TOPIC("dead"), RD_KAFKA_V_VALUE("x", 1),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END))
            fail("drain producer: cannot produce");
        rd_kafka_flush(p, 5000);
    }
    rd_kafka_destroy(p);
}

static void round_with(const char *path, int workers)
{
    printf("---- %d worker%s\n", workers, workers == 1 ? "" : "s");
    fixture fx;
    fixture_start(&fx, path, 2);
    for (int p = 0; p < fx.partitions; p++)
        if (rd_kafka_mock_partition_set_leader(fx.mc, "in", p, 2) ||
            rd_kafka_mock_partition_set_leader(fx.mc, "out", p, 1))
            fail("cannot set the partition leaders");
    if (rd_kafka_mock_partition_set_leader(fx.mc, "dead", 0, 1)) fail("cannot set the leader");
    fx.workers = workers;
    checker ck;
    checker_open(&ck, fx.addr, N1 + N2, fx.partitions);
    run_start(&fx);
    feeder f;
    feeder_start(&f, fx.addr, N1, N1, 0);
    feeder_join(&f);
    checker_wait(&ck, N1, 30, "before the failure");
    double t0 = now_s();
    while (committed_total(fx.addr, fx.partitions) != N1) {
        if (now_s() - t0 > 20) fail("the first %d inputs were not committed in 20 s", N1);
        sleep_ms(100);
    }
    printf("%d inputs processed and committed\n", N1);

    for (int i = 0; i < NERR; i++)
        if (rd_kafka_mock_broker_push_request_error_rtts(fx.mc, 1, API_PRODUCE, 1,
                                                         RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, 0))
            fail("cannot push errors");
    feeder_start_at(&f, fx.addr, N1, N2, N2, 0);
    feeder_join(&f);
    t0 = now_s();
    while (!__atomic_load_n(&fx.finished, __ATOMIC_ACQUIRE)) {
        if (now_s() - t0 > 30) fail("the run did not stop within 30 s of the failed deliveries");
        sleep_ms(50);
    }
    pthread_join(fx.run_thread, NULL);
    if (fx.run_rc == 0) fail("the run ended without reporting the failed deliveries");
    if (!strstr(fx.run_err, "too large")) fail("the failure's reason is not given: %s", fx.run_err);
    printf("the run stopped: %s\n", fx.run_err);
    int64_t committed = committed_total(fx.addr, fx.partitions);
    if (committed != N1)
        fail("the failed run committed %lld inputs, expected %d: it committed past its failure",
             (long long)committed, N1);
    printf("committed offsets still sum to %d\n", N1);

    drain_errors(&fx);
    run_start(&fx);
    checker_wait(&ck, N1 + N2, 60, "after the restart");
    checker_close(&ck);
    run_stop(&fx);
    if (fx.stats.in < (uint64_t)N2)
        fail("the next run read %llu inputs, expected at least the %d not committed",
             (unsigned long long)fx.stats.in, N2);
    long dups = check_outputs(&fx, N1 + N2, false);
    printf("the next run read %llu inputs again; %ld duplicate outputs (at-least-once)\n",
           (unsigned long long)fx.stats.in, dups);
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
