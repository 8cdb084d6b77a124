/* passthrough.c — the I/O ceiling: a fresh consumer group reads N messages from earliest and
 * produces each one unchanged (key, value) to another topic, then stops once all of its output is
 * delivered; timed from the first consumed message to the last delivery.
 *
 * usage: passthrough BOOTSTRAP IN_TOPIC OUT_TOPIC N GROUP
 * Prints: RESULT in=N out=N seconds=S msgs_per_s=R */
#include "common.h"

#include <string.h>

static deliveries d;

int main(int argc, char **argv)
{
    if (argc != 6) die("usage: passthrough BOOTSTRAP IN_TOPIC OUT_TOPIC N GROUP");
    const char *bootstrap = argv[1], *in_topic = argv[2], *out_topic = argv[3], *group = argv[5];
    long total = atol(argv[4]);
    if (total < 1) die("passthrough: N must be positive");
    char err[512];

    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    conf_set(cc, "bootstrap.servers", bootstrap);
    conf_set(cc, "group.id", group);
    conf_set(cc, "auto.offset.reset", "earliest");
    conf_set(cc, "session.timeout.ms", "6000");
    conf_set(cc, "fetch.wait.max.ms", "10");
    /* 2.0.2 can stall a fast consumer for ~1 s when its local queue passes the 64 MiB default */
    conf_set(cc, "queued.max.messages.kbytes", "1048576");
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (!c) die("passthrough: consumer: %s", err);
    rd_kafka_poll_set_consumer(c);

    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    conf_set(pc, "bootstrap.servers", bootstrap);
    conf_set(pc, "compression.codec", "zstd"); /* so the mock keeps the whole output */
    conf_set(pc, "linger.ms", "5");
    conf_set(pc, "queue.buffering.max.messages", "1000000");
    deliveries_watch(pc, &d);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    if (!p) die("passthrough: producer: %s", err);
    rd_kafka_topic_t *out = rd_kafka_topic_new(p, out_topic, NULL);

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, in_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c, sub);
    if (e) die("passthrough: subscribe: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(sub);

    long in = 0;
    double t0 = 0, started = now_s();
    while (in < total) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m) {
            rd_kafka_poll(p, 0);
            if (in == 0 && now_s() - started > 120) die("passthrough: no message in 120 s");
            continue;
        }
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "passthrough: consumer: %s\n", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        if (in == 0) t0 = now_s();
        while (rd_kafka_produce(out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload, m->len,
                                m->key, m->key_len, NULL) == -1) {
            e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                die("passthrough: produce: %s", rd_kafka_err2str(e));
            rd_kafka_poll(p, 10);
        }
        rd_kafka_message_destroy(m);
        if ((++in & 1023) == 0) rd_kafka_poll(p, 0);
    }
    e = rd_kafka_flush(p, 120000);
    double t1 = now_s();
    if (e) die("passthrough: flush: %s", rd_kafka_err2str(e));
    if (d.failed || d.ok != total)
        die("passthrough: FAILED: %ld of %ld delivered, %ld failed (first error: %s)", d.ok, total,
            d.failed, d.failed ? d.first_error : "none");
    printf("RESULT in=%ld out=%ld seconds=%.4f msgs_per_s=%.0f\n", in, d.ok, t1 - t0,
           (double)in / (t1 - t0));
    fflush(stdout);

    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_topic_destroy(out);
    rd_kafka_destroy(p);
    return 0;
}
