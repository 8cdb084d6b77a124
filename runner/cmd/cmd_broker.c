/* cmd_broker.c — `streamrun broker`: the embedded Kafka-protocol broker, standalone. */
#include "kafka/broker.h"
#include "cmd/cli.h"
#include "kafka/kafka_admin.h"
#include "load/topology.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* `broker` with topics[] room for one --topic per argument. */
static int broker_main(int argc, char **argv, const char **topics)
{
    const char *addr_file = NULL, *topo_file = NULL;
    int ntopics = 0, nbrokers = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = sr_cli_value(argc, argv, &i, "--topic")))
            topics[ntopics++] = v;
        else if ((v = sr_cli_value(argc, argv, &i, "--address-file")))
            addr_file = v;
        else if ((v = sr_cli_value(argc, argv, &i, "--brokers")))
            nbrokers = atoi(v);
        else if (argv[i][0] != '-' && !topo_file)
            topo_file = argv[i];
        else {
            fprintf(stderr, "usage: streamrun broker [FILE] [--topic NAME:PARTITIONS]... "
                            "[--address-file PATH] [--brokers N]\n");
            return SR_EXIT_USAGE;
        }
    }
    if (nbrokers < 1 || nbrokers > 16) {
        fprintf(stderr, "streamrun broker: --brokers must be from 1 to 16\n");
        return SR_EXIT_USAGE;
    }
    if (topo_file && !sr_cli_file_arg("broker", topo_file)) return SR_EXIT_USAGE;
    sr_topology *t = NULL;
    if (topo_file && !(t = sr_cli_load(topo_file, false))) return SR_EXIT_INVALID;
    char err[512];
    sr_broker *b;
    if (sr_broker_start(&b, nbrokers, err, sizeof(err)) != 0) {
        fprintf(stderr, "streamrun broker: %s\n", err);
        sr_topology_free(t);
        return SR_EXIT_USAGE;
    }
    int rc = SR_EXIT_OK;
    for (int i = 0; t && i < t->ntopics && rc == SR_EXIT_OK; i++)
        if (sr_broker_create_topic(b, t->topics[i]->name, t->topics[i]->partitions, err,
                                   sizeof(err)))
            fprintf(stderr, "streamrun broker: %s\n", err), rc = SR_EXIT_USAGE;
    if (rc == SR_EXIT_OK && t) { /* and the changelog topics of its stateful steps */
        sr_diag dg;
        sr_diag_init(&dg);
        if (sr_broker_create_changelogs(b, t, NULL, 0, &dg, err, sizeof(err)) != 0) {
            sr_diag_print(&dg, stderr, false, isatty(2));
            fprintf(stderr, "streamrun broker: %s\n", err);
            rc = SR_EXIT_USAGE;
        }
        sr_diag_free(&dg);
    }
    if (rc == SR_EXIT_OK && t && sr_kafka_embedded_unapplied(t, err, sizeof(err)))
        fprintf(stderr, "streamrun broker: %s\n", err);
    for (int i = 0; i < ntopics && rc == SR_EXIT_OK; i++) {
        const char *colon = strrchr(topics[i], ':');
        int parts = colon ? atoi(colon + 1) : 1;
        char *name =
            sr_xstrndup(topics[i], colon ? (size_t)(colon - topics[i]) : strlen(topics[i]));
        if (!name[0] || parts < 1) {
            fprintf(stderr, "streamrun broker: --topic takes NAME:PARTITIONS, not '%s'\n",
                    topics[i]);
            rc = SR_EXIT_USAGE;
        } else if (sr_broker_create_topic(b, name, parts, err, sizeof(err))) {
            fprintf(stderr, "streamrun broker: %s\n", err);
            rc = SR_EXIT_USAGE;
        }
        free(name);
    }
    if (rc == SR_EXIT_OK && addr_file) {
        FILE *fp = fopen(addr_file, "w");
        if (!fp || fprintf(fp, "%s\n", sr_broker_bootstraps(b)) < 0 || fclose(fp) != 0) {
            fprintf(stderr, "streamrun broker: cannot write '%s': %s\n", addr_file,
                    strerror(errno));
            rc = SR_EXIT_USAGE;
        }
    }
    if (rc == SR_EXIT_OK) {
        fprintf(
            stderr,
            "streamrun broker: embedded Kafka-protocol broker listening on %s\n"
            "  data lives in memory only and is lost when it stops; SIGINT or SIGTERM stops it\n",
            sr_broker_bootstraps(b));
        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        while (!stop) {
            struct timespec ts = {0, 100 * 1000000};
            nanosleep(&ts, NULL);
        }
        fprintf(stderr, "streamrun broker: stopped\n");
    }
    sr_broker_stop(b);
    sr_topology_free(t);
    return rc;
}

int sr_cmd_broker(int argc, char **argv)
{
    const char **topics = sr_xcalloc((size_t)argc, sizeof(*topics));
    int rc = broker_main(argc, argv, topics);
    free(topics);
    return rc;
}
