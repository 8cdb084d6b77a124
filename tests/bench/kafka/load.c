/* load.c — loads N messages replicated from a JSON-lines file into a topic (zstd, large batches,
 * acks=all), keyed by synthetic device ids, then checks that the broker kept every one of them:
 * each partition's low watermark 0 and the high watermarks summing to N.
 *
 * usage: load BOOTSTRAP TOPIC FILE N [KEYS]
 * Message i is line i % LINES of FILE (empty lines skipped, no line ending) with key
 * "device-%02d" of i % KEYS (default 64); verify.py rebuilds the same sequence. */
#include "common.h"

#include <string.h>

static deliveries d;

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) die("cannot open '%s'", path);
    size_t cap = 1 << 20, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    if (!buf || ferror(fp)) die("cannot read '%s'", path);
    fclose(fp);
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 6) die("usage: load BOOTSTRAP TOPIC FILE N [KEYS]");
    const char *bootstrap = argv[1], *topic = argv[2];
    long total = atol(argv[4]);
    int nkeys = argc > 5 ? atoi(argv[5]) : 64;
    if (total < 1 || nkeys < 1) die("load: N and KEYS must be positive");

    size_t size;
    char *data = read_file(argv[3], &size);
    size_t nlines = 0, cap = 256;
    char **line = malloc(cap * sizeof(*line));
    size_t *len = malloc(cap * sizeof(*len));
    for (char *p = data, *end = data + size; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p);
        if (n > 0 && p[n - 1] == '\r') n--;
        if (n > 0) {
            if (nlines == cap) {
                line = realloc(line, (cap *= 2) * sizeof(*line));
                len = realloc(len, cap * sizeof(*len));
            }
            line[nlines] = p;
            len[nlines++] = n;
        }
        p = stop + 1;
    }
    if (nlines == 0) die("load: '%s' has no lines", argv[3]);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", bootstrap);
    conf_set(conf, "compression.codec", "zstd");
    conf_set(conf, "linger.ms", "200");
    conf_set(conf, "batch.size", "1000000");
    conf_set(conf, "batch.num.messages", "100000");
    conf_set(conf, "acks", "all");
    conf_set(conf, "queue.buffering.max.messages", "1000000");
    conf_set(conf, "queue.buffering.max.kbytes", "2097151");
    deliveries_watch(conf, &d);
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) die("load: %s", err);
    int nparts = partition_count(rk, topic);

    double t0 = now_s();
    char key[32];
    size_t bytes = 0;
    for (long i = 0; i < total; i++) {
        size_t j = (size_t)(i % (long)nlines);
        int klen = snprintf(key, sizeof(key), "device-%02d", (int)(i % nkeys));
        for (;;) {
            rd_kafka_resp_err_t e =
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, (size_t)klen),
                                  RD_KAFKA_V_VALUE(line[j], len[j]),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("load: produce: %s", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 10);
        }
        bytes += len[j];
        if ((i & 1023) == 0) rd_kafka_poll(rk, 0);
    }
    rd_kafka_resp_err_t e = rd_kafka_flush(rk, 120000);
    if (e) die("load: flush: %s", rd_kafka_err2str(e));
    double t1 = now_s();
    if (d.failed || d.ok != total)
        die("load: FAILED: %ld of %ld messages delivered, %ld failed (first error: %s)", d.ok,
            total, d.failed, d.failed ? d.first_error : "none");
    printf("load: %ld messages (%zu distinct lines, %d keys, %.0f bytes each on average) into "
           "'%s' in %.2f s\n",
           total, nlines, nkeys, (double)bytes / (double)total, topic, t1 - t0);

    /* The mock keeps at most 5 MiB or 100,000 batches per partition and silently drops the
     * oldest beyond that: every partition must still start at offset 0. */
    long sum = 0, kept = 0;
    int bad = 0;
    printf("load: '%s' watermarks (low..high) per partition:", topic);
    for (int p = 0; p < nparts; p++) {
        int64_t lo, hi;
        e = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (e) die("\nload: watermarks of %s[%d]: %s", topic, p, rd_kafka_err2str(e));
        printf(" %d:%lld..%lld", p, (long long)lo, (long long)hi);
        if (lo != 0) bad = 1;
        sum += (long)hi;
        kept += (long)(hi - lo);
    }
    printf("\n");
    if (bad || sum != total) {
        fprintf(stderr,
                "load: FAILED: the broker did not keep the input: %ld of %ld messages present%s; "
                "use more partitions (PARTITIONS=16) or a smaller N\n",
                kept, total, bad ? ", some partitions dropped their oldest batches" : "");
        return 1;
    }
    printf("load: OK: all %d partitions start at offset 0 and hold %ld messages in total\n", nparts,
           sum);
    rd_kafka_destroy(rk);
    free(line);
    free(len);
    free(data);
    return 0;
}
