/* conf.c — Kafka client configuration: the defaults of `up`'s clients, the `kafka:` properties
 * (which client each applies to, which are unsafe or secret), and librdkafka's log lines. */
#include "kafka/runtime.h"
#include "exec/local.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *prop_range(const char *name);

/* librdkafka's message e about the value of property name, without the value: it may be a
 * secret, and librdkafka quotes some values ('Invalid value "..." for configuration property').
 * A message that holds the value is replaced by one that names what the property takes. */
static void conf_error(char *err, size_t errsize, const char *prefix, const char *name,
                       const char *value, const char *e)
{
    if (!*value || !strstr(e, value)) {
        snprintf(err, errsize, "%s %s: %s", prefix, name, e);
        return;
    }
    const char *range = prop_range(name);
    snprintf(err, errsize, "%s %s: librdkafka refuses the value%s%s", prefix, name,
             range ? "; it takes one of: " : "", range ? range : "");
}

int sr_kafka_conf_set(void *conf, const char *name, const char *value, char *err, size_t errsize)
{
    char e[256];
    if (rd_kafka_conf_set(conf, name, value, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        conf_error(err, errsize, "kafka property", name, value, e);
        return -1;
    }
    return 0;
}

/* Properties with which the file can make the process run code or write files of its choosing,
 * refused unless the user allows them (see sr_kafka_unsafe_property). */
static const struct {
    const char *name, *why;
} unsafe_props[] = {
    {"plugin.library.paths", "loads shared libraries into the process, which runs their code"},
    {"sasl.kerberos.kinit.cmd", "is a shell command that librdkafka runs"},
    {"ssl.engine.location", "loads an OpenSSL engine library into the process, which runs it"},
    {"ssl.providers", "loads OpenSSL provider modules into the process, which runs them"},
    {"offset.store.path", "makes librdkafka write files where it says"},
};

/* Characters a Kerberos principal or keytab path needs, none of which the shell interprets. */
static bool shell_inert(const char *v)
{
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
              strchr("@._/+=:,-", *v)))
            return false;
    return true;
}

bool sr_kafka_secret_property(const char *name)
{
    return strstr(name, "password") || strstr(name, "secret") || strstr(name, ".pem") ||
           strcmp(name, "sasl.oauthbearer.config") == 0;
}

const char *sr_kafka_unsafe_property(const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof(unsafe_props) / sizeof(unsafe_props[0]); i++)
        if (strcmp(name, unsafe_props[i].name) == 0) return unsafe_props[i].why;
    /* librdkafka substitutes both into sasl.kerberos.kinit.cmd, which `sh -c` runs */
    if ((strcmp(name, "sasl.kerberos.principal") == 0 ||
         strcmp(name, "sasl.kerberos.keytab") == 0) &&
        !shell_inert(value))
        return "goes into the kinit command line that librdkafka runs through the shell, and "
               "this value has characters other than letters, digits and @._/+=:,-";
    return NULL;
}

/* The scope of librdkafka's properties, so that a `kafka:` property goes only to the clients it
 * is for (librdkafka warns about the others). There is no call that tells, but the property table
 * librdkafka prints has a C/P column: it is read once. */
static struct {
    char **names;
    char *scopes;  /* 'C' consumer, 'P' producer, '*' both */
    char **ranges; /* the values an enumerated property takes, "a, b, c"; NULL for others */
    int n;
} props;
static pthread_once_t props_once = PTHREAD_ONCE_INIT;

static void props_load(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (!fp) return;
    rd_kafka_conf_properties_show(fp);
    fclose(fp);
    int cap = 0;
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        char name[128], scope, range[512] = "";
        /* "name   |  C  | range | ..." */
        if (sscanf(line, "%127[a-z0-9._-] | %c | %511[^|]", name, &scope, range) < 2) continue;
        if (scope != 'C' && scope != 'P' && scope != '*') continue;
        if (props.n == cap) {
            cap = cap ? cap * 2 : 256;
            props.names = sr_xrealloc(props.names, sizeof(char *) * (size_t)cap);
            props.scopes = sr_xrealloc(props.scopes, (size_t)cap);
            props.ranges = sr_xrealloc(props.ranges, sizeof(char *) * (size_t)cap);
        }
        size_t rl = strlen(range);
        while (rl && range[rl - 1] == ' ') range[--rl] = 0;
        props.names[props.n] = sr_xstrdup(name);
        /* a list of choices, not a numeric range "0 .. 100" */
        props.ranges[props.n] = rl && strchr(range, ',') && !strstr(range, " .. ") &&
                                        !(range[0] >= '0' && range[0] <= '9')
                                    ? sr_xstrdup(range)
                                    : NULL;
        props.scopes[props.n++] = scope;
    }
    free(text);
}

int sr_kafka_check_property(const char *name, const char *value, char *err, size_t errsize,
                            bool *at_name)
{
    static const struct {
        const char *name, *why;
    } managed[] = {
        {"group.id", "the deployment's consumerGroup sets it"},
        {"enable.auto.commit", "streamrun commits only what was processed and delivered"},
        {"enable.auto.offset.store", "streamrun commits only what was processed and delivered"},
        {"enable.partition.eof", "--exit-at-end and the lag need the end-of-partition events"},
        {"transactional.id", "processing: exactly-once gives each member its own, unique and "
                             "stable across restarts on a host"},
    };
    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++) {
        if (strcmp(name, managed[i].name) == 0) {
            *at_name = true;
            snprintf(err, errsize, "%s is set by streamrun: %s", name, managed[i].why);
            return -1;
        }
    }
    /* setting it would load the plugins now: checked when `up` creates its clients */
    if (strcmp(name, "plugin.library.paths") == 0) return 0;
    pthread_once(&props_once, props_load);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, name, value, e, sizeof(e));
    rd_kafka_conf_destroy(conf);
    *at_name = res == RD_KAFKA_CONF_UNKNOWN;
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        const char *sug = sr_suggest(name, (const char *const *)props.names, props.n);
        snprintf(err, errsize, "unknown librdkafka property '%s'%s%s%s", name,
                 sug ? "; did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        return -1;
    }
    if (res != RD_KAFKA_CONF_OK) {
        conf_error(err, errsize, "librdkafka property", name, value, e);
        return -1;
    }
    if (strcmp(name, "partition.assignment.strategy") == 0 && strcmp(value, "range") != 0) {
        snprintf(err, errsize,
                 "partition.assignment.strategy must be range: streamrun keeps one task per "
                 "partition number, so the same partition of co-partitioned inputs must go to "
                 "one member, and it assigns eagerly");
        return -1;
    }
    return 0;
}

/* The choices librdkafka lists for property name, or NULL. */
static const char *prop_range(const char *name)
{
    pthread_once(&props_once, props_load);
    for (int i = 0; i < props.n; i++)
        if (strcmp(props.names[i], name) == 0) return props.ranges[i];
    return NULL;
}

/* true unless librdkafka says the property is for the other kind of client only */
static bool prop_applies(const char *name, bool consumer)
{
    pthread_once(&props_once, props_load);
    for (int i = 0; i < props.n; i++)
        if (strcmp(props.names[i], name) == 0)
            return props.scopes[i] == '*' || props.scopes[i] == (consumer ? 'C' : 'P');
    return true; /* unknown: rd_kafka_conf_set() says so */
}

bool sr_kafka_prop_applies(const char *name, bool consumer)
{
    return prop_applies(name, consumer);
}

/* librdkafka's log lines, printed as its own logger prints them, except one: with
 * auto.offset.reset=earliest, a fetch that fails with OFFSET_OUT_OF_RANGE (records lost to
 * retention, or to the embedded broker's size cap, before they were read) resets the partition
 * and is only logged. That is counted and reported as the error it is. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    dep_run *dr = rk ? rd_kafka_opaque(rk) : NULL;
    if (dr && strcmp(fac, "OFFSET") == 0 && strstr(buf, "offset reset") &&
        strcasestr(buf, "out of range")) {
        __atomic_add_fetch(&dr->offset_resets, 1, __ATOMIC_RELAXED);
        fprintf(stderr,
                "streamrun: %s: ERROR: records were lost before they could be read (retention, "
                "or the embedded broker's 5 MiB per partition cap): %s\n",
                dr->dep->name, buf);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, "%%%d|%lld.%03ld|%s|%s| %s\n", level, (long long)ts.tv_sec,
            ts.tv_nsec / 1000000, fac, rk ? rd_kafka_name(rk) : "", buf);
}

/* librdkafka refuses a consumer whose fetch.max.bytes is below message.max.bytes: when the file
 * raises message.max.bytes but leaves fetch.max.bytes to streamrun's default, that default follows
 * it. 0, or -1 with err set. */
static int fetch_fits_messages(rd_kafka_conf_t *conf, const sr_strmap *const maps[2], char *err,
                               size_t errsize)
{
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < maps[m]->n; i++)
            if (strcmp(maps[m]->names[i], "fetch.max.bytes") == 0) return 0;
    char fetch[32], msg[32];
    size_t fl = sizeof(fetch), ml = sizeof(msg);
    if (rd_kafka_conf_get(conf, "fetch.max.bytes", fetch, &fl) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_get(conf, "message.max.bytes", msg, &ml) != RD_KAFKA_CONF_OK)
        return 0;
    if (atoll(msg) <= atoll(fetch)) return 0;
    return sr_kafka_conf_set(conf, "fetch.max.bytes", msg, err, errsize);
}

/* Defaults, then the file's kafka: block, then the deployment's; each property only for the
 * clients it applies to. */
rd_kafka_conf_t *kr_make_conf(dep_run *dr, bool consumer, char *err, size_t errsize)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    runner *r = dr->r;
    const sr_deployment *d = dr->dep;
    const sr_up_opts *o = r->o;
    struct kv {
        const char *k, *v;
    } defs[20];
    int n = 0;
    defs[n++] = (struct kv){"bootstrap.servers", o->bootstraps};
    defs[n++] = (struct kv){"client.id", d->name};
    defs[n++] = (struct kv){"log.connection.close", "false"};
    if (consumer) {
        defs[n++] = (struct kv){"group.id", d->group};
        defs[n++] = (struct kv){"enable.auto.commit", "false"};
        defs[n++] = (struct kv){"enable.auto.offset.store", "false"};
        defs[n++] = (struct kv){"auto.offset.reset", "earliest"};
        defs[n++] = (struct kv){"partition.assignment.strategy", "range"};
        defs[n++] = (struct kv){"enable.partition.eof", "true"};
        /* librdkafka's default too, said here: records of open or aborted transactions (of
         * exactly-once deployments upstream) are never read */
        defs[n++] = (struct kv){"isolation.level", "read_committed"};
        /* the local prefetch queue: librdkafka's 64 MiB default would be most of the process's
         * memory; 8 MiB is ~20 ms of input at full speed, refilled as it drains (watch_fetcher) */
        defs[n++] = (struct kv){"queued.max.messages.kbytes", "8192"};
        /* one fetch response overshoots that queue by its size once decompressed: librdkafka's
         * 50 MiB default (8 partitions x 1 MiB from Apache Kafka, zstd) made 99 MB of RSS where
         * 1 MiB makes 38 MB at the same speed; raised to message.max.bytes below if that is set
         * higher (librdkafka requires it) */
        defs[n++] = (struct kv){"fetch.max.bytes", "1048576"};
        if (o->embedded) {
            defs[n++] = (struct kv){"fetch.wait.max.ms", "10"};
            defs[n++] = (struct kv){"session.timeout.ms", "6000"};
            defs[n++] = (struct kv){"heartbeat.interval.ms", "500"};
        }
    } else {
        defs[n++] = (struct kv){"enable.idempotence", "true"};
        defs[n++] = (struct kv){"compression.codec", "lz4"};
        defs[n++] = (struct kv){"linger.ms", "5"};
        defs[n++] = (struct kv){"partitioner", "murmur2_random"};
        if (dr->eos) {
            defs[n++] = (struct kv){"transactional.id", dr->txn_id};
            /* how long the broker keeps the transaction of a member that died with it open
             * (read_committed readers wait for it): Kafka Streams' value under exactly-once */
            defs[n++] = (struct kv){"transaction.timeout.ms", "10000"};
        }
    }
    assert(n <= (int)(sizeof(defs) / sizeof(defs[0])));
    for (int i = 0; i < n; i++)
        if (sr_kafka_conf_set(conf, defs[i].k, defs[i].v, err, errsize)) goto fail;
    const sr_strmap *maps[2] = {&r->topo->kafka, &d->kafka};
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < maps[m]->n; i++)
            if (prop_applies(maps[m]->names[i], consumer) &&
                sr_kafka_conf_set(conf, maps[m]->names[i], maps[m]->vals[i], err, errsize))
                goto fail;
    if (consumer && fetch_fits_messages(conf, maps, err, errsize)) goto fail;
    rd_kafka_conf_set_log_cb(conf, on_log);
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}
