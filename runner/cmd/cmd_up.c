/* cmd_up.c — `streamrun up` (run on Kafka or the embedded broker) and `streamrun tap` (follow a
 * topic). */
#include "kafka/broker.h"
#include "cmd/cli.h"
#include "kafka/kafka.h"
#include "kafka/kafka_admin.h"
#include "exec/local.h"
#include "state/store.h"

#include <librdkafka/rdkafka.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;
static const char *stop_first, *stop_again; /* what a first and a second signal print */
static int stop_again_rc;                   /* the exit status after a second signal */

/* The first SIGINT or SIGTERM asks for a graceful stop (the run finishes what it handed out,
 * flushes and commits); that can take up to message.timeout.ms while writes cannot be
 * acknowledged. A second one, a second or more after the first, stops the process at once with
 * exit 3, committing nothing more: the records processed since the last commit are processed
 * again after a restart (an open transaction is aborted by the next start, or by the broker after
 * transaction.timeout.ms).
 * @locality signal handler: only async-signal-safe calls */
static void on_signal(int sig)
{
    (void)sig;
    static struct timespec first; /* when the first signal came */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (stop_flag) {
        /* one signal sent twice at once (`timeout` signals the process and then its group)
         * counts once */
        if (now.tv_sec - first.tv_sec < 2 &&
            (now.tv_sec - first.tv_sec) * 1000000000L + (now.tv_nsec - first.tv_nsec) < 1000000000L)
            return;
        if (write(2, stop_again, strlen(stop_again)) < 0) { /* nothing to do about it */
        }
        _exit(stop_again_rc);
    }
    first = now;
    stop_flag = 1;
    if (write(2, stop_first, strlen(stop_first)) < 0) {
    }
}

static volatile sig_atomic_t reload_flag;

/* SIGHUP asks `up` to reload every model package (model_slot.h): the run's main thread does it
 * and clears the flag, so SIGHUPs that come before it looks (one sent twice at once, by `timeout`
 * to a process and its group) reload once. Installed before anything else `up` does, so that a
 * SIGHUP never kills it (its default action); one that comes while `up` starts is acted on once
 * the run goes. Other commands keep SIGHUP's default: a hangup ends them.
 * @locality signal handler: only async-signal-safe calls */
static void on_hangup(int sig)
{
    (void)sig;
    reload_flag = 1;
}

static void trap_hangup(void)
{
    /* SA_RESTART: a read of a source file or a sleep in another thread is not cut short */
    struct sigaction sa = {.sa_handler = on_hangup, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
}

/* up: `up` (its messages; exit 3 after a second signal), else `tap` (it commits nothing, says
 * nothing, and exits 0) */
static void trap_signals(bool up)
{
    stop_first = up ? "streamrun up: stopping (a second SIGINT or SIGTERM stops at once)\n" : "";
    stop_again = up ? "streamrun up: stopped at once by a second signal: nothing more is "
                      "committed; what was processed since the last commit is processed again "
                      "after a restart\n"
                    : "";
    stop_again_rc = up ? 3 : 0;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The embedded broker (librdkafka's mock cluster) accepts transactions but does not honour them:
 * read_committed readers see records of open and aborted transactions, and the offsets sent with
 * a transaction are not committed with it. Reports, at its `processing:` line, each selected
 * deployment that asks for exactly-once there; returns how many did. */
static int refuse_exactly_once(const sr_topology *t, const char *const *only, int nonly,
                               const char *broker)
{
    sr_diag dg;
    sr_diag_init(&dg);
    for (int i = 0; i < t->ndeps; i++) {
        const sr_deployment *d = &t->deps[i];
        if (d->processing != SR_EXACTLY_ONCE || !sr_deployment_selected(d, only, nonly)) continue;
        if (d->origin && sr_deployment_selected(d->origin, only, nonly))
            continue; /* a later stage of a deployment said already: the same line */
        sr_errc(&dg, SR_E_EXACTLY_ONCE, d->file, d->processing_mark,
                "deployment '%s' asks for processing: exactly-once, but the broker%s%s is the "
                "embedded broker (librdkafka's mock cluster), which does not honour transactions: "
                "it shows records of open and aborted transactions to read_committed readers and "
                "does not commit the offsets sent with a transaction, so exactly-once could not "
                "be kept; run it on Apache Kafka (--broker HOST:PORT), or use at-least-once here",
                d->name, broker ? " at " : "", broker ? broker : "");
    }
    int n = dg.nerrors;
    sr_diag_print(&dg, stderr, false, isatty(2));
    sr_diag_free(&dg);
    return n;
}

/* `up` with only[] room for one name per argument. */
static int up_main(int argc, char **argv, const char **only)
{
    const char *file = NULL, *broker = NULL;
    int nonly = 0;
    bool exit_at_end = false, allow_unsafe = false, accept_incomplete = false, watch = true;
    int commit_ms = 1000;
    /* default: one worker per core this process may run on */
    cpu_set_t cpus;
    long ncpu = sched_getaffinity(0, sizeof(cpus), &cpus) == 0 ? CPU_COUNT(&cpus)
                                                               : sysconf(_SC_NPROCESSORS_ONLN);
    int workers = ncpu < 1 ? 1 : ncpu > 16 ? 16 : (int)ncpu;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if ((v = sr_cli_value(argc, argv, &i, "--broker")))
            broker = v;
        else if ((v = sr_cli_value(argc, argv, &i, "--only")))
            only[nonly++] = v;
        else if (strcmp(a, "--exit-at-end") == 0)
            exit_at_end = true;
        else if (strcmp(a, "--allow-unsafe-kafka-properties") == 0)
            allow_unsafe = true;
        else if (strcmp(a, "--accept-incomplete-state") == 0)
            accept_incomplete = true;
        else if (strcmp(a, "--no-model-watch") == 0)
            watch = false;
        else if ((v = sr_cli_value(argc, argv, &i, "--workers"))) {
            char *end;
            long w = strtol(v, &end, 10);
            if (*end || w < 1 || w > 16) {
                fprintf(stderr, "streamrun up: --workers takes a number from 1 to 16\n");
                return SR_EXIT_USAGE;
            }
            workers = (int)w;
        } else if ((v = sr_cli_value(argc, argv, &i, "--commit-interval"))) {
            int64_t ms;
            if (!sr_parse_duration(v, &ms) || ms < 1 || ms > 3600000) {
                fprintf(stderr,
                        "streamrun up: --commit-interval takes a duration such as 1s or 200ms\n");
                return SR_EXIT_USAGE;
            }
            commit_ms = (int)ms;
        } else if ((v = sr_cli_value(argc, argv, &i, "--state-memory"))) {
            if (!sr_cli_state_memory("up", v)) return SR_EXIT_USAGE;
        } else if (a[0] == '-' || file) {
            fprintf(stderr, "usage: streamrun up FILE [--broker HOST:PORT] [--only NAME]... "
                            "[--exit-at-end] [--commit-interval 1s] [--workers N] "
                            "[--state-memory SIZE] [--allow-unsafe-kafka-properties] "
                            "[--accept-incomplete-state] [--no-model-watch]\n");
            return SR_EXIT_USAGE;
        } else
            file = a;
    }
    if (!file) {
        fprintf(stderr,
                "usage: streamrun up FILE [--broker HOST:PORT] [--only NAME]... [--exit-at-end]\n");
        return SR_EXIT_USAGE;
    }
    if (!sr_cli_file_arg("up", file)) return SR_EXIT_USAGE;
    sr_topology *t = sr_cli_load(file, !allow_unsafe);
    if (!t) return SR_EXIT_INVALID;
    for (int i = 0; i < nonly; i++) {
        if (!sr_topology_deployment(t, only[i])) {
            fprintf(stderr, "streamrun up: no deployment named '%s' in %s\n", only[i], file);
            sr_topology_free(t);
            return SR_EXIT_USAGE;
        }
    }
    sr_changelog *cl = NULL;
    sr_diag cdg;
    sr_diag_init(&cdg);
    int ncl = sr_changelogs(t, only, nonly, &cl, &cdg);
    sr_diag_print(&cdg, stderr, false, isatty(2));
    sr_diag_free(&cdg);
    if (ncl < 0) {
        free(cl);
        sr_topology_free(t);
        return SR_EXIT_USAGE;
    }
    char err[1024];
    int rc = SR_EXIT_OK;
    sr_broker *embedded = NULL;
    bool mock = false;
    if (!broker) broker = t->broker;
    if (!broker && refuse_exactly_once(t, only, nonly, NULL)) {
        free(cl);
        sr_topology_free(t);
        return SR_EXIT_USAGE;
    }
    if (!broker) {
        if (sr_broker_start(&embedded, 1, err, sizeof(err)) != 0) {
            fprintf(stderr, "streamrun up: %s\n", err);
            free(cl);
            sr_topology_free(t);
            return SR_EXIT_USAGE;
        }
        broker = sr_broker_bootstraps(embedded);
        fprintf(stderr,
                "streamrun: no broker given: started the embedded broker at %s (librdkafka's mock "
                "cluster; data lives in this process's memory only; kcat and other clients can "
                "connect)\n",
                broker);
        for (int i = 0; i < t->ntopics && rc == SR_EXIT_OK; i++)
            if (sr_broker_create_topic(embedded, t->topics[i]->name, t->topics[i]->partitions, err,
                                       sizeof(err)))
                fprintf(stderr, "streamrun up: %s\n", err), rc = SR_EXIT_USAGE;
        for (int i = 0; i < ncl && rc == SR_EXIT_OK; i++)
            if (sr_broker_create_topic(embedded, cl[i].topic, cl[i].partitions, err, sizeof(err)))
                fprintf(stderr, "streamrun up: %s\n", err), rc = SR_EXIT_USAGE;
        if (rc == SR_EXIT_OK && ncl > 0)
            fprintf(stderr,
                    "streamrun: state: %d changelog topic%s on the embedded broker, which does "
                    "not compact and keeps at most 5 MiB per partition: state lives as long as "
                    "this process\n",
                    ncl, ncl == 1 ? "" : "s");
    } else {
        sr_diag dg;
        sr_diag_init(&dg);
        if (sr_kafka_ensure_topics(t, broker, &mock, &dg, err, sizeof(err)) != 0 ||
            sr_kafka_ensure_changelogs(t, cl, ncl, broker, &dg, err, sizeof(err)) != 0) {
            sr_diag_print(&dg, stderr, false, isatty(2));
            fprintf(stderr, "streamrun up: %s\n", err);
            rc = SR_EXIT_USAGE;
        }
        sr_diag_free(&dg);
        if (rc == SR_EXIT_OK && mock && refuse_exactly_once(t, only, nonly, broker))
            rc = SR_EXIT_USAGE;
    }
    if (rc == SR_EXIT_OK && (embedded || mock) && sr_kafka_embedded_unapplied(t, err, sizeof(err)))
        fprintf(stderr, "streamrun up: %s\n", err);
    if (rc == SR_EXIT_OK) {
        trap_signals(true);
        sr_up_opts o = {.bootstraps = broker,
                        .embedded = embedded != NULL || mock,
                        .only = only,
                        .nonly = nonly,
                        .exit_at_end = exit_at_end,
                        .commit_interval_ms = commit_ms,
                        .progress = isatty(2) != 0,
                        .workers = workers,
                        .stop = &stop_flag,
                        .accept_incomplete_state = accept_incomplete,
                        .reload = &reload_flag,
                        .watch_models = watch};
        sr_up_stats st;
        if (sr_up_run(t, &o, &st, err, sizeof(err)) != 0) {
            fprintf(stderr, "streamrun up: stopped: %s\n", err);
            rc = st.exit_code ? st.exit_code : 3;
        } else {
            fprintf(stderr, "total: ");
            sr_print_counts(stderr, st.in, st.filtered, st.dead, st.out);
            if (st.emit_dead)
                fprintf(stderr, ", %llu made by steps dead-lettered",
                        (unsigned long long)st.emit_dead);
            fprintf(stderr, ", %.3f s", st.secs);
            if (st.restore_secs > 0)
                fprintf(stderr, ", %llu state records restored in %.3f s",
                        (unsigned long long)st.restored, st.restore_secs);
            fputc('\n', stderr);
            if (sr_mem_budget_used(sr_state_budget()) || sr_state_budget()->limit != SIZE_MAX)
                sr_print_state(stderr);
        }
    }
    free(cl);
    sr_broker_stop(embedded);
    sr_topology_free(t);
    return rc;
}

int sr_cmd_up(int argc, char **argv)
{
    trap_hangup();
    const char **only = sr_xcalloc((size_t)argc, sizeof(*only));
    int rc = up_main(argc, argv, only);
    free(only);
    return rc;
}

/* ---- tap ----------------------------------------------------------------------------------------
 */

static void print_record(sr_buf *b, sr_arena *a, const rd_kafka_message_t *m)
{
    b->len = 0;
    sr_buf_puts(b, "{\"topic\":");
    sr_json_write_str(b, rd_kafka_topic_name(m->rkt), strlen(rd_kafka_topic_name(m->rkt)));
    sr_buf_printf(b, ",\"partition\":%d,\"offset\":%lld", m->partition, (long long)m->offset);
    rd_kafka_timestamp_type_t tt;
    sr_buf_printf(b, ",\"timestamp\":%lld,\"key\":", (long long)rd_kafka_message_timestamp(m, &tt));
    if (m->key)
        sr_json_write_str(b, m->key, m->key_len);
    else
        sr_buf_puts(b, "null");
    sr_buf_puts(b, ",\"value\":");
    sr_value v;
    char e[64];
    size_t pos;
    if (!m->payload)
        sr_buf_puts(b, "null");
    else if (sr_json_parse(a, m->payload, m->len, &v, e, sizeof(e), &pos) == 0)
        sr_buf_put(b, m->payload, m->len);
    else
        sr_json_write_str(b, m->payload, m->len);
    rd_kafka_headers_t *hdrs;
    if (rd_kafka_message_headers(m, &hdrs) == 0 && hdrs && rd_kafka_header_cnt(hdrs)) {
        sr_buf_puts(b, ",\"headers\":{");
        const char *name;
        const void *val;
        size_t vlen;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == 0; i++) {
            if (i) sr_buf_putc(b, ',');
            sr_json_write_str(b, name, strlen(name));
            sr_buf_putc(b, ':');
            if (val)
                sr_json_write_str(b, val, vlen);
            else
                sr_buf_puts(b, "null");
        }
        sr_buf_putc(b, '}');
    }
    sr_buf_puts(b, "}\n");
    fwrite(b->d, 1, b->len, stdout);
    sr_arena_reset(a);
}

int sr_cmd_tap(int argc, char **argv)
{
    const char *topic = NULL, *broker = getenv("STREAMRUN_BROKER");
    bool from_beginning = false, uncommitted = false;
    long long count = -1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = sr_cli_value(argc, argv, &i, "--broker")))
            broker = v;
        else if (strcmp(argv[i], "--from-beginning") == 0)
            from_beginning = true;
        else if (strcmp(argv[i], "--read-uncommitted") == 0)
            uncommitted = true;
        else if ((v = sr_cli_value(argc, argv, &i, "--count")))
            count = atoll(v);
        else if (argv[i][0] != '-' && !topic)
            topic = argv[i];
        else {
            topic = NULL;
            break;
        }
    }
    if (!topic || !broker || count == 0) {
        fprintf(stderr,
                "usage: streamrun tap TOPIC --broker HOST:PORT [--from-beginning] [--count N] "
                "[--read-uncommitted]\n"
                "       (or set STREAMRUN_BROKER instead of --broker)\n");
        return SR_EXIT_USAGE;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char group[64];
    snprintf(group, sizeof(group), "streamrun-tap-%d", (int)getpid());
    if (sr_kafka_conf_set(conf, "bootstrap.servers", broker, err, sizeof(err)) ||
        sr_kafka_conf_set(conf, "group.id", group, err, sizeof(err)) ||
        sr_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err)) ||
        sr_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, sizeof(err)) ||
        sr_kafka_conf_set(conf, "isolation.level",
                          uncommitted ? "read_uncommitted" : "read_committed", err, sizeof(err))) {
        fprintf(stderr, "streamrun tap: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return SR_EXIT_USAGE;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        fprintf(stderr, "streamrun tap: %s\n", err);
        return SR_EXIT_USAGE;
    }
    /* the metadata of every topic, then ours: a request naming the topic would create it on
     * brokers that create topics on demand (the embedded broker always does) */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t me = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
    const struct rd_kafka_metadata_topic *mt = NULL;
    for (int i = 0; !me && i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0) mt = &md->topics[i];
    int rc = SR_EXIT_OK;
    if (me || !mt || mt->err) {
        fprintf(stderr, "streamrun tap: cannot read topic '%s' at %s: %s\n", topic, broker,
                rd_kafka_err2str(me   ? me
                                 : mt ? mt->err
                                      : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
        rc = SR_EXIT_USAGE;
    } else {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(mt->partition_cnt);
        for (int p = 0; p < mt->partition_cnt; p++)
            rd_kafka_topic_partition_list_add(l, topic, mt->partitions[p].id)->offset =
                from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
        rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        trap_signals(false);
        sr_buf b = {0};
        sr_arena a;
        sr_arena_init(&a, 64 * 1024);
        long long seen = 0;
        while (!stop_flag && (count < 0 || seen < count)) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
            if (!m) continue;
            if (!m->err) {
                print_record(&b, &a, m);
                seen++;
            } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "streamrun tap: %s\n", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
        }
        fflush(stdout);
        sr_buf_free(&b);
        sr_arena_free(&a);
    }
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}
