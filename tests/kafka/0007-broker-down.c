/* 0007-broker-down.c — the embedded broker goes down for 3 s while `streamrun up` (sr_up_run, in
 * process) is consuming and producing, with inputs arriving before, during and after the outage;
 * once it is back every input's output must arrive (at-least-once: duplicates are counted and
 * printed, not failed), the run must stop gracefully and commit every input. */
#include "faults.h"

#define N 4000

int main(int argc, char **argv)
{
    if (argc != 2) fail("usage: %s tests/kafka/faults.yaml", argv[0]);
    alarm(110); /* a hang ends the process */
    fixture fx;
    fixture_start(&fx, argv[1], 1);
    checker ck;
    checker_open(&ck, fx.addr, N, fx.partitions);
    run_start(&fx);
    feeder f;
    feeder_start(&f, fx.addr, N, 50, 100); /* 500 inputs a second for 8 s */

    checker_wait(&ck, 200, 30, "before the outage");
    int before = __atomic_load_n(&f.produced, __ATOMIC_ACQUIRE);
    if (rd_kafka_mock_broker_set_down(fx.mc, 1)) fail("cannot set broker 1 down");
    printf("broker 1 down: %d outputs seen, %d inputs produced\n", ck.distinct, before);
    sleep_ms(3000);
    if (rd_kafka_mock_broker_set_up(fx.mc, 1)) fail("cannot set broker 1 up");
    int during = __atomic_load_n(&f.produced, __ATOMIC_ACQUIRE);
    printf("broker 1 up again after 3 s: %d inputs produced\n", during);
    if (before >= N || during >= N)
        fail("the inputs were all produced before the broker came back: not mid-stream");

    feeder_join(&f);
    checker_wait(&ck, N, 60, "after the outage");
    checker_close(&ck);
    run_stop(&fx);
    if (fx.stats.in < (uint64_t)N)
        fail("the run read %llu inputs, expected at least %d", (unsigned long long)fx.stats.in, N);
    long dups = check_outputs(&fx, N, false);
    printf("%ld duplicate outputs (at-least-once allows them)\n", dups);
    fixture_stop(&fx);
    printf("PASS\n");
    return 0;
}
