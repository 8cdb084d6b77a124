/* read.c — reads a whole topic back (every partition from its low to its high watermark, no group
 * membership) and writes each record to stdout framed for verify.py: a 32-bit little-endian key
 * length (0xffffffff for no key), the key, a 32-bit value length, the value.
 *
 * usage: read BOOTSTRAP TOPIC
 * It reads read_committed (librdkafka's default): a partition is done when its next offset
 * reaches its end, or when the consumer reports its end at or past it (on a topic written with
 * transactions the last offsets are commit markers, which are never delivered). Its end is the
 * high watermark, once the last stable offset has reached it: a read_committed handle's
 * watermark query answers the last stable offset, which stays before a transaction the
 * coordinator has committed until its markers are written — a moment after the writer's
 * commit returned (and after the writer exited) on a loaded broker. So the end is asked for
 * until both agree, for up to a minute.
 * Prints on stderr one line: read TOPIC: COUNT records, low watermarks ..., and a warning if a
 * partition no longer starts at offset 0 (the mock dropped its oldest batches). */
#include "common.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

static void put_u32(uint32_t v, FILE *fp)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    fwrite(b, 1, 4, fp);
}

int main(int argc, char **argv)
{
    if (argc != 3) die("usage: read BOOTSTRAP TOPIC");
    const char *bootstrap = argv[1], *topic = argv[2];
    char err[512], group[64];
    snprintf(group, sizeof(group), "bench-reader-%ld", (long)getpid());

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", bootstrap);
    conf_set(conf, "group.id", group); /* needed by assign(); never joined, never committed */
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "enable.partition.eof", "true");
    conf_set(conf, "fetch.wait.max.ms", "10");
    conf_set(conf, "queued.max.messages.kbytes", "262144");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) die("read: %s", err);
    rd_kafka_poll_set_consumer(rk);
    int nparts = partition_count(rk, topic);

    /* a read_uncommitted handle, for the high watermark itself */
    rd_kafka_conf_t *hconf = rd_kafka_conf_new();
    conf_set(hconf, "bootstrap.servers", bootstrap);
    conf_set(hconf, "group.id", group);
    conf_set(hconf, "isolation.level", "read_uncommitted");
    rd_kafka_t *hk = rd_kafka_new(RD_KAFKA_CONSUMER, hconf, err, sizeof(err));
    if (!hk) die("read: %s", err);

    int64_t *high = calloc((size_t)nparts, sizeof(*high));
    int64_t *next = calloc((size_t)nparts, sizeof(*next));
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(nparts);
    long expected = 0, lows = 0;
    int dropped = 0, pending = 0;
    for (int p = 0; p < nparts; p++) {
        int64_t lo, hlo, hw;
        double until = now_s() + 60;
        for (;;) {
            rd_kafka_resp_err_t e =
                rd_kafka_query_watermark_offsets(hk, topic, p, &hlo, &hw, 10000);
            if (e) die("read: watermarks of %s[%d]: %s", topic, p, rd_kafka_err2str(e));
            e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &high[p], 10000);
            if (e) die("read: watermarks of %s[%d]: %s", topic, p, rd_kafka_err2str(e));
            if (high[p] >= hw) break;
            if (now_s() > until)
                die("read: %s[%d]: the last stable offset %lld stays before the high watermark "
                    "%lld: a transaction is still open",
                    topic, p, (long long)high[p], (long long)hw);
            nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
        }
        next[p] = lo;
        lows += (long)lo;
        if (lo != 0) dropped++;
        expected += (long)(high[p] - lo);
        if (high[p] > lo) {
            rd_kafka_topic_partition_list_add(assign, topic, p)->offset = lo;
            pending++;
        }
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);
    if (e) die("read: assign: %s", rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(assign);

    long count = 0;
    double last = now_s();
    while (pending > 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) {
            if (now_s() - last > 60) die("read: %s: stuck after %ld records", topic, count);
            continue;
        }
        last = now_s();
        if (m->err) {
            int p = m->partition;
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "read: %s\n", rd_kafka_message_errstr(m));
            else if (p >= 0 && p < nparts && next[p] < high[p] && m->offset >= high[p]) {
                next[p] = high[p];
                pending--;
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        int p = m->partition;
        if (p >= 0 && p < nparts && m->offset >= next[p] && m->offset < high[p]) {
            put_u32(m->key ? (uint32_t)m->key_len : 0xffffffffu, stdout);
            if (m->key) fwrite(m->key, 1, m->key_len, stdout);
            put_u32((uint32_t)m->len, stdout);
            fwrite(m->payload, 1, m->len, stdout);
            count++;
            next[p] = m->offset + 1;
            if (next[p] == high[p]) pending--;
        }
        rd_kafka_message_destroy(m);
    }
    if (fflush(stdout) != 0) die("read: cannot write the records");
    fprintf(stderr, "read %s: %ld of %ld records from %d partitions, low watermarks sum %ld\n",
            topic, count, expected, nparts, lows);
    if (dropped)
        fprintf(stderr,
                "read %s: WARNING: %d partitions no longer start at offset 0: the broker dropped "
                "their oldest batches\n",
                topic, dropped);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    rd_kafka_destroy(hk);
    free(high);
    free(next);
    return 0;
}
