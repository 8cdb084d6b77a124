/* passthrough.c — the I/O ceiling: a fresh consumer group reads N messages from earliest and
 * produces each one unchanged (key, value) to another topic, with the delivery guarantee of
 * `streamrun up` (at-least-once: offsets are committed only after a flush has confirmed every
 * output produced before them, every COMMIT_MS and at the end), then stops; timed from the first
 * consumed message to the final flush and commit.
 *
 * It is as fast as this project knows how to make it: it takes messages from the consumer queue
 * up to 1,000 at a time (rd_kafka_consume_batch_queue), lets the consumer prefetch (a large local
 * queue), and produces with large batches. Two producer profiles:
 *   fastest    uncompressed, linger.ms 20, batch.size 1 MB, batch.num.messages 10,000 (what
 *              measured fastest here);
 *   streamrun  the producer and consumer defaults of `streamrun up` (idempotent, lz4,
 *              linger.ms 5, murmur2_random; an 8 MiB local queue, 1 MiB fetches): the
 *              like-for-like baseline.
 * Both produce with acks=all (librdkafka's default) and the idempotent producer, as streamrun
 * does.
 *
 * usage: passthrough BOOTSTRAP IN_TOPIC OUT_TOPIC N GROUP [PROFILE [c.NAME=VALUE|p.NAME=VALUE...]]
 *   c./p. properties override the profile's for the consumer or the producer.
 * env:   COMMIT_MS (1000, streamrun's --commit-interval), EMBEDDED=1 adds the settings streamrun
 *        uses with the embedded broker (fetch.wait.max.ms 10, session.timeout.ms 6000).
 * Prints: RESULT in=N out=N seconds=S msgs_per_s=R commits=C flush_s=F */
#include "common.h"

#include <stdbool.h>
#include <string.h>

static deliveries d;

/* One property for the consumer (c.) or the producer (p.) from the command line. */
static void override(rd_kafka_conf_t *cc, rd_kafka_conf_t *pc, const char *arg)
{
    char name[256];
    const char *eq = strchr(arg, '=');
    if ((arg[0] != 'c' && arg[0] != 'p') || arg[1] != '.' || !eq || eq - arg - 2 >= 256 ||
        eq - arg - 2 < 1)
        die("passthrough: '%s' is not c.NAME=VALUE or p.NAME=VALUE", arg);
    memcpy(name, arg + 2, (size_t)(eq - arg - 2));
    name[eq - arg - 2] = '\0';
    conf_set(arg[0] == 'c' ? cc : pc, name, eq + 1);
}

/* Flushes the producer until every message is delivered, then commits next[0..nparts) (the
 * offsets after the last message passed on, -1 for none). Returns the seconds spent. */
static double flush_commit(rd_kafka_t *c, rd_kafka_t *p, const char *topic, int64_t *next,
                           int nparts)
{
    double t0 = now_s();
    while (rd_kafka_outq_len(p) > 0) rd_kafka_flush(p, 500);
    if (d.failed)
        die("passthrough: FAILED: %ld deliveries failed (first error: %s); nothing committed",
            d.failed, d.first_error);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int i = 0; i < nparts; i++)
        if (next[i] >= 0) rd_kafka_topic_partition_list_add(l, topic, i)->offset = next[i];
    if (l->cnt) {
        rd_kafka_resp_err_t e = rd_kafka_commit(c, l, 0);
        if (e) die("passthrough: commit: %s", rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_destroy(l);
    for (int i = 0; i < nparts; i++) next[i] = -1;
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 6)
        die("usage: passthrough BOOTSTRAP IN_TOPIC OUT_TOPIC N GROUP [fastest|streamrun "
            "[c.NAME=VALUE|p.NAME=VALUE...]]");
    const char *bootstrap = argv[1], *in_topic = argv[2], *out_topic = argv[3], *group = argv[5];
    const char *profile = argc > 6 ? argv[6] : "fastest";
    long total = atol(argv[4]);
    if (total < 1) die("passthrough: N must be positive");
    bool like = strcmp(profile, "streamrun") == 0;
    if (!like && strcmp(profile, "fastest") != 0)
        die("passthrough: PROFILE is fastest or streamrun, not '%s'", profile);
    const char *cms = getenv("COMMIT_MS");
    double commit_s = (cms && atol(cms) > 0 ? atol(cms) : 1000) / 1000.0;
    bool embedded = getenv("EMBEDDED") && strcmp(getenv("EMBEDDED"), "1") == 0;
    char err[512];

    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    conf_set(cc, "bootstrap.servers", bootstrap);
    conf_set(cc, "group.id", group);
    conf_set(cc, "auto.offset.reset", "earliest");
    conf_set(cc, "enable.auto.commit", "false");
    conf_set(cc, "enable.auto.offset.store", "false");
    conf_set(cc, "partition.assignment.strategy", "range");
    if (embedded) {
        conf_set(cc, "fetch.wait.max.ms", "10");
        conf_set(cc, "session.timeout.ms", "6000");
        conf_set(cc, "heartbeat.interval.ms", "500");
    }
    if (like) {
        conf_set(cc, "queued.max.messages.kbytes", "8192");
        conf_set(cc, "fetch.max.bytes", "1048576");
    } else {
        /* prefetch freely: librdkafka 2.0.2 stops fetching a partition whose local queue is
         * full and looks again only when its broker thread next wakes, up to 1 s later */
        conf_set(cc, "queued.min.messages", "200000");
        conf_set(cc, "queued.max.messages.kbytes", "1048576");
    }

    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    conf_set(pc, "bootstrap.servers", bootstrap);
    conf_set(pc, "enable.idempotence", "true");
    conf_set(pc, "partitioner", "murmur2_random");
    conf_set(pc, "queue.buffering.max.messages", "1000000");
    conf_set(pc, "queue.buffering.max.kbytes", "1048576");
    if (like) {
        conf_set(pc, "compression.codec", "lz4");
        conf_set(pc, "linger.ms", "5");
    } else {
        conf_set(pc, "compression.codec", "none");
        conf_set(pc, "linger.ms", "20");
        conf_set(pc, "batch.size", "1000000");
        conf_set(pc, "batch.num.messages", "10000");
    }
    for (int i = 7; i < argc; i++) override(cc, pc, argv[i]);

    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof(err));
    if (!c) die("passthrough: consumer: %s", err);
    rd_kafka_poll_set_consumer(c);
    deliveries_watch(pc, &d);
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
    if (!p) die("passthrough: producer: %s", err);
    rd_kafka_topic_t *out = rd_kafka_topic_new(p, out_topic, NULL);
    int nparts = partition_count(c, in_topic);
    int64_t *next = malloc(sizeof(int64_t) * (size_t)nparts);
    if (!next) die("passthrough: out of memory");
    for (int i = 0; i < nparts; i++) next[i] = -1;

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, in_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c, sub);
    if (e) die("passthrough: subscribe: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(sub);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(c);

    enum { BATCH = 1000 };
    rd_kafka_message_t *batch[BATCH];
    long in = 0, commits = 0;
    double t0 = 0, started = now_s(), last_commit = 0, flush_s = 0;
    while (in < total) {
        size_t want = total - in < BATCH ? (size_t)(total - in) : BATCH;
        /* what the queue holds now, or wait for the first message */
        ssize_t got = rd_kafka_consume_batch_queue(q, 1, batch, want);
        if (got == 0) got = rd_kafka_consume_batch_queue(q, 100, batch, 1);
        if (got < 0) die("passthrough: consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
        if (got == 0 && in == 0 && now_s() - started > 120) die("passthrough: no message in 120 s");
        for (ssize_t i = 0; i < got; i++) {
            rd_kafka_message_t *m = batch[i];
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    fprintf(stderr, "passthrough: consumer: %s\n", rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            if (in == 0) last_commit = t0 = now_s();
            while (rd_kafka_produce(out, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, m->payload,
                                    m->len, m->key, m->key_len, NULL) == -1) {
                e = rd_kafka_last_error();
                if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                    die("passthrough: produce: %s", rd_kafka_err2str(e));
                rd_kafka_poll(p, 10);
            }
            if (m->partition >= 0 && m->partition < nparts) next[m->partition] = m->offset + 1;
            in++;
            rd_kafka_message_destroy(m);
        }
        rd_kafka_poll(p, 0);
        if (in > 0 && now_s() - last_commit >= commit_s) {
            flush_s += flush_commit(c, p, in_topic, next, nparts);
            commits++;
            last_commit = now_s();
        }
    }
    flush_s += flush_commit(c, p, in_topic, next, nparts);
    commits++;
    double t1 = now_s();
    if (d.ok != total)
        die("passthrough: FAILED: %ld of %ld delivered, %ld failed (first error: %s)", d.ok, total,
            d.failed, d.failed ? d.first_error : "none");
    printf("RESULT in=%ld out=%ld seconds=%.4f msgs_per_s=%.0f commits=%ld flush_s=%.3f "
           "profile=%s\n",
           in, d.ok, t1 - t0, (double)in / (t1 - t0), commits, flush_s, profile);
    fflush(stdout);

    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    rd_kafka_topic_destroy(out);
    rd_kafka_destroy(p);
    free(next);
    return 0;
}
