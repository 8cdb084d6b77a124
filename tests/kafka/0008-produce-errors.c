/* 0008-produce-errors.c — retriable Produce errors injected while `streamrun up` (sr_up_run, in
 * process) runs: its idempotent producer retries them, so `out` must hold every input's output
 * exactly once, every injected error must have been served, and every input committed. The
 * outputs' partitions are led by broker 1 and the inputs' by broker 2, so that only streamrun's
 * producer meets the errors pushed on broker 1. */
#include "faults.h"

#define N           4000
#define API_PRODUCE 0 /* the Kafka protocol's ProduceRequest */

static void push_errors(rd_kafka_mock_cluster_t *mc)
{
    rd_kafka_resp_err_t e = rd_kafka_mock_broker_push_request_error_rtts(
        mc, 1, API_PRODUCE, 6, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 0,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, 0, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, 0,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, 0, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
        0, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, 300);
    if (e) fail("cannot push errors: %s", rd_kafka_err2str(e));
}

static size_t pending_errors(rd_kafka_mock_cluster_t *mc)
{
    size_t cnt = 0;
    if (rd_kafka_mock_broker_error_stack_cnt(mc, 1, API_PRODUCE, &cnt))
        fail("cannot count the pending errors");
    return cnt;
}

int main(int argc, char **argv)
{
    if (argc != 2) fail("usage: %s tests/kafka/faults.yaml", argv[0]);
    alarm(110); /* a hang ends the process */
    fixture fx;
    fixture_start(&fx, argv[1], 2);
    for (int p = 0; p < fx.partitions; p++)
        if (rd_kafka_mock_partition_set_leader(fx.mc, "in", p, 2) ||
            rd_kafka_mock_partition_set_leader(fx.mc, "out", p, 1))
            fail("cannot set the partition leaders");
    if (rd_kafka_mock_partition_set_leader(fx.mc, "dead", 0, 1)) fail("cannot set the leader");
    checker ck;
    checker_open(&ck, fx.addr, N, fx.partitions);
    run_start(&fx);
    feeder f;
    feeder_start(&f, fx.addr, N, 50, 100); /* 500 inputs a second for 8 s */

    for (int round = 0, at[2] = {200, 1500}; round < 2; round++) {
        checker_wait(&ck, at[round], 30, "before the errors");
        push_errors(fx.mc);
        printf("6 Produce errors pushed on broker 1: %d outputs seen, %d inputs produced\n",
               ck.distinct, __atomic_load_n(&f.produced, __ATOMIC_ACQUIRE));
        double t0 = now_s();
        while (pending_errors(fx.mc) > 0 && now_s() - t0 < 30) checker_poll(&ck, 50);
        if (pending_errors(fx.mc) > 0)
            fail("%zu injected errors not served in 30 s", pending_errors(fx.mc));
        printf("all served after %.1f s: %d outputs seen\n", now_s() - t0, ck.distinct);
    }

    feeder_join(&f);
    checker_wait(&ck, N, 60, "after the errors");
    checker_close(&ck);
    run_stop(&fx);
    if (fx.stats.in != (uint64_t)N)
        fail("the run read %llu inputs, expected %d", (unsigned long long)fx.stats.in, N);
    check_outputs(&fx, N, true);
    fixture_stop(&fx);
    printf("PASS\n");
    return 0;
}
