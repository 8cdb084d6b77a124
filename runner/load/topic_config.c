/* topic_config.c — Kafka's topic-level configs as one table, and the checks made with it. */
#include "load/topic_config.h"
#include "base/diag.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define INT_MAXV  2147483647LL
#define LONG_MAXV LLONG_MAX
#define MS        "milliseconds"
#define BYTES     "bytes"

/* Apache Kafka 4's topic-level configs, with the types and ranges its documentation gives
 * (https://kafka.apache.org/documentation/#topicconfigs). In name order. */
static const sr_topic_config configs[] = {
    {"cleanup.policy", SR_TC_LIST, 0, 0, 0, "compact|delete", NULL, NULL,
     "delete old segments, compact to the latest record of each key, or both"},
    {"compression.gzip.level", SR_TC_INT, 1, 9, -1, NULL, NULL, "-1: gzip's default",
     "gzip level when compression.type is gzip"},
    {"compression.lz4.level", SR_TC_INT, 1, 17, 0, NULL, NULL, NULL,
     "lz4 level when compression.type is lz4"},
    {"compression.type", SR_TC_ENUM, 0, 0, 0, "uncompressed|zstd|lz4|snappy|gzip|producer", NULL,
     NULL, "compression of the stored batches; producer keeps the producer's"},
    {"compression.zstd.level", SR_TC_INT, -131072, 22, 0, NULL, NULL, NULL,
     "zstd level when compression.type is zstd"},
    {"delete.retention.ms", SR_TC_LONG, 0, LONG_MAXV, 0, NULL, MS, NULL,
     "how long tombstones stay in a compacted topic"},
    {"file.delete.delay.ms", SR_TC_LONG, 0, LONG_MAXV, 0, NULL, MS, NULL,
     "wait before a deleted segment's file is removed"},
    {"flush.messages", SR_TC_LONG, 1, LONG_MAXV, 0, NULL, "messages", NULL,
     "messages between forced fsyncs"},
    {"flush.ms", SR_TC_LONG, 0, LONG_MAXV, 0, NULL, MS, NULL, "time between forced fsyncs"},
    {"follower.replication.throttled.replicas", SR_TC_REPLICAS, 0, 0, 0, NULL, NULL, NULL,
     "replicas throttled on the follower side"},
    {"index.interval.bytes", SR_TC_INT, 0, INT_MAXV, 0, NULL, BYTES, NULL,
     "bytes between offset index entries"},
    {"leader.replication.throttled.replicas", SR_TC_REPLICAS, 0, 0, 0, NULL, NULL, NULL,
     "replicas throttled on the leader side"},
    {"local.retention.bytes", SR_TC_LONG, -2, LONG_MAXV, 0, NULL, BYTES, "-2: as retention.bytes",
     "local bytes kept per partition with tiered storage"},
    {"local.retention.ms", SR_TC_LONG, -2, LONG_MAXV, 0, NULL, MS, "-2: as retention.ms",
     "local retention with tiered storage"},
    {"max.compaction.lag.ms", SR_TC_LONG, 1, LONG_MAXV, 0, NULL, MS, NULL,
     "longest a record stays uncompacted"},
    {"max.message.bytes", SR_TC_INT, 0, INT_MAXV, 0, NULL, BYTES, NULL,
     "largest record batch the topic takes"},
    {"message.downconversion.enable", SR_TC_BOOL, 0, 0, 0, NULL, NULL, NULL,
     "no effect since Kafka 4.0"},
    {"message.timestamp.after.max.ms", SR_TC_LONG, 0, LONG_MAXV, 0, NULL, MS, NULL,
     "how far in the future a record's timestamp may be"},
    {"message.timestamp.before.max.ms", SR_TC_LONG, 0, LONG_MAXV, 0, NULL, MS, NULL,
     "how far in the past a record's timestamp may be"},
    {"message.timestamp.type", SR_TC_ENUM, 0, 0, 0, "CreateTime|LogAppendTime", NULL, NULL,
     "the producer's timestamp, or the broker's append time"},
    {"min.cleanable.dirty.ratio", SR_TC_DOUBLE, 0, 1, 0, NULL, NULL, NULL,
     "share of uncompacted log that triggers compaction"},
    {"min.compaction.lag.ms", SR_TC_LONG, 0, LONG_MAXV, 0, NULL, MS, NULL,
     "shortest a record stays uncompacted"},
    {"min.insync.replicas", SR_TC_INT, 1, INT_MAXV, 0, NULL, "replicas", NULL,
     "replicas that must have a write for acks=all to succeed"},
    {"preallocate", SR_TC_BOOL, 0, 0, 0, NULL, NULL, NULL, "preallocate segment files"},
    {"remote.log.copy.disable", SR_TC_BOOL, 0, 0, 0, NULL, NULL, NULL,
     "stop copying segments to tiered storage"},
    {"remote.log.delete.on.disable", SR_TC_BOOL, 0, 0, 0, NULL, NULL, NULL,
     "delete tiered data when tiered storage is turned off"},
    {"remote.storage.enable", SR_TC_BOOL, 0, 0, 0, NULL, NULL, NULL, "tiered storage"},
    {"retention.bytes", SR_TC_LONG, LLONG_MIN, LONG_MAXV, 0, NULL, BYTES, "-1: no limit",
     "bytes kept per partition before old segments are deleted"},
    {"retention.ms", SR_TC_LONG, -1, LONG_MAXV, 0, NULL, MS, "-1: no limit",
     "how long records are kept before their segment is deleted"},
    {"segment.bytes", SR_TC_INT, 1048576, INT_MAXV, 0, NULL, BYTES, NULL,
     "size of a log segment file"},
    {"segment.index.bytes", SR_TC_INT, 4, INT_MAXV, 0, NULL, BYTES, NULL,
     "size of a segment's offset index"},
    {"segment.jitter.ms", SR_TC_LONG, 0, LONG_MAXV, 0, NULL, MS, NULL,
     "random jitter subtracted from segment.ms"},
    {"segment.ms", SR_TC_LONG, 1, LONG_MAXV, 0, NULL, MS, NULL,
     "time after which a segment is rolled even if not full"},
    {"unclean.leader.election.enable", SR_TC_BOOL, 0, 0, 0, NULL, NULL, NULL,
     "let an out-of-sync replica become leader (may lose data)"},
};
#define NCONFIGS ((int)(sizeof(configs) / sizeof(configs[0])))

/* Names a user may write for a topic config: broker defaults and configs Kafka 4 removed. */
static const struct {
    const char *name, *use, *why;
} others[] = {
    {"message.format.version", NULL, "was removed in Apache Kafka 4.0 (it has no effect)"},
    {"message.timestamp.difference.max.ms", "message.timestamp.before.max.ms",
     "was removed in Apache Kafka 4.0; use message.timestamp.before.max.ms and "
     "message.timestamp.after.max.ms"},
    {"message.max.bytes", "max.message.bytes", NULL},
    {"log.retention.hours", "retention.ms", NULL},
    {"log.retention.minutes", "retention.ms", NULL},
    {"log.roll.hours", "segment.ms", NULL},
    {"log.roll.ms", "segment.ms", NULL},
    {"log.roll.jitter.ms", "segment.jitter.ms", NULL},
    {"log.cleaner.delete.retention.ms", "delete.retention.ms", NULL},
    {"log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms", NULL},
    {"log.cleaner.max.compaction.lag.ms", "max.compaction.lag.ms", NULL},
    {"log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio", NULL},
    {"log.flush.interval.messages", "flush.messages", NULL},
    {"log.flush.interval.ms", "flush.ms", NULL},
    {"log.index.size.max.bytes", "segment.index.bytes", NULL},
    {"log.segment.delete.delay.ms", "file.delete.delay.ms", NULL},
};

const sr_topic_config *sr_topic_configs(int *n)
{
    *n = NCONFIGS;
    return configs;
}

const sr_topic_config *sr_topic_config_find(const char *name)
{
    for (int i = 0; i < NCONFIGS; i++)
        if (strcmp(configs[i].name, name) == 0) return &configs[i];
    return NULL;
}

bool sr_topic_config_integer(const char *s, long long *out)
{
    const char *d = s + (*s == '-' || *s == '+');
    if (!*d) return false;
    for (const char *c = d; *c; c++)
        if (*c < '0' || *c > '9') return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end) return false;
    *out = v;
    return true;
}

/* A number as Kafka's Double.parseDouble would take it, within reason: strtod's decimal forms. */
static bool is_double(const char *s, double *out)
{
    if (!*s || strpbrk(s, "xXnNiI")) return false; /* no hex, nan, inf */
    errno = 0;
    char *end;
    double d = strtod(s, &end);
    if (errno == ERANGE || *end) return false;
    *out = d;
    return true;
}

static bool is_bool(const char *s)
{
    return strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0;
}

/* Calls f on each choice of "a|b|c"; stops and returns true when f does. */
static bool each_value(const char *values, bool (*f)(const char *c, size_t len, void *ud), void *ud)
{
    for (const char *c = values; *c;) {
        size_t len = strcspn(c, "|");
        if (f(c, len, ud)) return true;
        c += len + (c[len] == '|');
    }
    return false;
}

static bool same_text(const char *c, size_t len, void *ud)
{
    const char *s = ud;
    return strlen(s) == len && strncmp(c, s, len) == 0;
}

static bool same_text_nocase(const char *c, size_t len, void *ud)
{
    const char *s = ud;
    return strlen(s) == len && strncasecmp(c, s, len) == 0;
}

static bool in_values(const char *values, const char *s)
{
    return each_value(values, same_text, (void *)s);
}

/* "a, b or c" from "a|b|c". */
static void values_text(const char *values, char *out, size_t size)
{
    size_t n = 0, count = 1;
    for (const char *c = values; *c; c++) count += *c == '|';
    size_t i = 0;
    for (const char *c = values; *c && n < size; i++) {
        size_t len = strcspn(c, "|");
        n += (size_t)snprintf(out + n, size - n, "%s%.*s",
                              i == 0           ? ""
                              : i + 1 == count ? " or "
                                               : ", ",
                              (int)len, c);
        c += len + (c[len] == '|');
    }
}

/* Splits a comma-separated list; calls f on each trimmed element (Kafka trims them). Returns
 * false when an element is empty. */
static bool each_element(const char *s, bool (*f)(const char *e, size_t len, void *ud), void *ud)
{
    for (const char *c = s;;) {
        size_t len = strcspn(c, ",");
        const char *e = c;
        size_t el = len;
        while (el && (*e == ' ' || *e == '\t')) e++, el--;
        while (el && (e[el - 1] == ' ' || e[el - 1] == '\t')) el--;
        if (!el || !f(e, el, ud)) return false;
        if (!c[len]) return true;
        c += len + 1;
    }
}

static bool list_element_ok(const char *e, size_t len, void *ud)
{
    const char *values = ud;
    char buf[64];
    if (len >= sizeof(buf)) return false;
    memcpy(buf, e, len);
    buf[len] = 0;
    return in_values(values, buf);
}

static bool replica_ok(const char *e, size_t len, void *ud)
{
    (void)ud;
    size_t colon = 0, i;
    for (i = 0; i < len; i++) {
        if (e[i] == ':') {
            if (colon || i == 0) return false;
            colon = i;
        } else if (e[i] < '0' || e[i] > '9') {
            return false;
        }
    }
    return colon && colon + 1 < len;
}

/* "a whole number of milliseconds from -1 up (-1: no limit)" and the like. */
static void describe_number(const sr_topic_config *c, char *out, size_t size)
{
    char unit[64] = "";
    if (c->unit) snprintf(unit, sizeof(unit), " of %s", c->unit);
    const char *kind = c->type == SR_TC_DOUBLE ? "a number" : "a whole number";
    bool open = c->max == LONG_MAXV; /* an int's top is its type's: say it */
    size_t n;
    if (c->min == LLONG_MIN)
        n = (size_t)snprintf(out, size, "%s%s", kind, unit);
    else if (open)
        n = (size_t)snprintf(out, size, "%s%s from %lld up", kind, unit, c->min);
    else
        n = (size_t)snprintf(out, size, "%s%s from %lld to %lld", kind, unit, c->min, c->max);
    if (c->also && n < size) n += (size_t)snprintf(out + n, size - n, ", or %lld", c->also);
    if (c->special && n < size) snprintf(out + n, size - n, " (%s)", c->special);
}

static void expected(const sr_topic_config *c, char *out, size_t size)
{
    char vals[256];
    switch (c->type) {
    case SR_TC_INT:
    case SR_TC_LONG:
    case SR_TC_DOUBLE: describe_number(c, out, size); break;
    case SR_TC_BOOL: snprintf(out, size, "true or false"); break;
    case SR_TC_ENUM:
        values_text(c->values, vals, sizeof(vals));
        snprintf(out, size, "%s", vals);
        break;
    case SR_TC_LIST:
        values_text(c->values, vals, sizeof(vals));
        snprintf(out, size, "%s, or several separated by commas (such as 'compact,delete')", vals);
        break;
    case SR_TC_REPLICAS:
        snprintf(out, size,
                 "'*' or PARTITION:BROKER pairs separated by commas (such as "
                 "'0:101,1:102')");
        break;
    }
}

static bool value_ok(const sr_topic_config *c, const char *v)
{
    long long i;
    double d;
    switch (c->type) {
    case SR_TC_INT:
    case SR_TC_LONG:
        return sr_topic_config_integer(v, &i) &&
               ((i >= c->min && i <= c->max) || (c->also && i == c->also));
    case SR_TC_DOUBLE: return is_double(v, &d) && d >= (double)c->min && d <= (double)c->max;
    case SR_TC_BOOL: return is_bool(v);
    case SR_TC_ENUM: return in_values(c->values, v);
    case SR_TC_LIST: return each_element(v, list_element_ok, (void *)c->values);
    case SR_TC_REPLICAS: return strcmp(v, "*") == 0 || each_element(v, replica_ok, NULL);
    }
    return false;
}

int sr_topic_config_check(const char *name, const char *value, char *err, size_t errsize,
                          bool *at_name)
{
    *at_name = false;
    const sr_topic_config *c = sr_topic_config_find(name);
    if (!c) {
        *at_name = true;
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
            if (strcmp(others[i].name, name) != 0) continue;
            if (others[i].why)
                snprintf(err, errsize, "topic config '%s' %s", name, others[i].why);
            else
                snprintf(err, errsize,
                         "'%s' is a broker setting (the default for every topic); the topic "
                         "config is '%s'",
                         name, others[i].use);
            return -1;
        }
        if (strncmp(name, "log.", 4) == 0 && sr_topic_config_find(name + 4)) {
            snprintf(err, errsize,
                     "'%s' is a broker setting (the default for every topic); the topic config "
                     "is '%s'",
                     name, name + 4);
            return -1;
        }
        const char *names[NCONFIGS];
        for (int i = 0; i < NCONFIGS; i++) names[i] = configs[i].name;
        const char *sug = sr_suggest(name, names, NCONFIGS);
        if (sug)
            snprintf(err, errsize, "unknown Kafka topic config '%s'; did you mean '%s'?", name,
                     sug);
        else
            snprintf(err, errsize,
                     "unknown Kafka topic config '%s' (the topic configs are listed in the "
                     "README, under Topic configs)",
                     name);
        return -1;
    }
    if (value_ok(c, value)) return 0;
    char want[320];
    expected(c, want, sizeof(want));
    /* an enum value in the wrong case, such as createtime */
    char hint[96] = "";
    if (c->type == SR_TC_ENUM) {
        for (const char *p = c->values; *p;) {
            size_t len = strcspn(p, "|");
            if (same_text_nocase(p, len, (void *)value))
                snprintf(hint, sizeof(hint), "; did you mean '%.*s'?", (int)len, p);
            p += len + (p[len] == '|');
        }
    }
    snprintf(err, errsize, "%s must be %s, not '%s'%s", name, want, value, hint);
    return -1;
}

/* ---- comparing a declared value with a cluster's ------------------------------------------ */

static bool element_in_other(const char *e, size_t len, void *ud)
{
    const char *o = ud;
    char buf[64];
    if (len >= sizeof(buf)) return false;
    memcpy(buf, e, len);
    buf[len] = 0;
    bool found = false;
    for (;;) {
        size_t ol = strcspn(o, ",");
        const char *oe = o;
        size_t el = ol;
        while (el && *oe == ' ') oe++, el--;
        while (el && oe[el - 1] == ' ') el--;
        if (el == len && strncmp(oe, buf, len) == 0) found = true;
        if (!o[ol]) break;
        o += ol + 1;
    }
    return found;
}

/* Whether every element of a is in b. */
static bool subset(const char *a, const char *b)
{
    return each_element(a, element_in_other, (void *)b);
}

bool sr_topic_config_same(const char *name, const char *a, const char *b)
{
    if (strcmp(a, b) == 0) return true;
    const sr_topic_config *c = sr_topic_config_find(name);
    if (!c) return false;
    long long ia, ib;
    double da, db;
    switch (c->type) {
    case SR_TC_INT:
    case SR_TC_LONG:
        return sr_topic_config_integer(a, &ia) && sr_topic_config_integer(b, &ib) && ia == ib;
    case SR_TC_DOUBLE: return is_double(a, &da) && is_double(b, &db) && da == db;
    case SR_TC_BOOL: return strcasecmp(a, b) == 0;
    case SR_TC_ENUM: return false;
    case SR_TC_LIST:
    case SR_TC_REPLICAS: return subset(a, b) && subset(b, a);
    }
    return false;
}
