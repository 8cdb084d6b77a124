/* topic_config.h — Kafka's topic-level configs as one table: names, types and the values Kafka
 * accepts, for `validate`, the schema and the comparison `up` makes with an existing topic. */
#ifndef SR_TOPIC_CONFIG_H
#define SR_TOPIC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    SR_TC_INT,      /* Kafka int: a whole number in [min, max] (max at most 2^31-1) */
    SR_TC_LONG,     /* Kafka long: a whole number in [min, max] */
    SR_TC_DOUBLE,   /* a number in [min, max] */
    SR_TC_BOOL,     /* true or false (any case, as Kafka reads it) */
    SR_TC_ENUM,     /* one of `values` ("a|b|c"), case as written */
    SR_TC_LIST,     /* one or more of `values`, separated by commas; order does not matter */
    SR_TC_REPLICAS, /* '*' or PARTITION:BROKER pairs separated by commas */
} sr_tc_type;

typedef struct sr_topic_config {
    const char *name;
    sr_tc_type type;
    long long min, max;  /* numbers: the range Kafka documents */
    long long also;      /* numbers: one more value allowed outside the range (0: none) */
    const char *values;  /* enums and lists: "a|b|c" */
    const char *unit;    /* numbers: "milliseconds", "bytes"...; NULL for none */
    const char *special; /* what a special value means, e.g. "-1: no limit"; NULL for none */
    const char *doc;     /* one line: what it sets */
} sr_topic_config;

/* The table, in name order; *n gets its length. Static data: never freed. */
const sr_topic_config *sr_topic_configs(int *n);

/* The entry named name, or NULL when Kafka has no such topic config. */
const sr_topic_config *sr_topic_config_find(const char *name);

/* Checks a topic config as `up` will send it to Kafka: the name must be a topic-level config of
 * Apache Kafka 4 and the value one Kafka accepts for it. Returns 0, or -1 with a message in err
 * (what was expected, and a close known name or value when there is one) and *at_name set when
 * the name is at fault rather than the value. */
int sr_topic_config_check(const char *name, const char *value, char *err, size_t errsize,
                          bool *at_name);

/* Whether value a (as declared) and value b (as a cluster reports it) are the same setting of
 * config name: numbers compared as numbers, booleans in any case, lists as sets. */
bool sr_topic_config_same(const char *name, const char *a, const char *b);

/* A whole number as Kafka parses one (an optional sign, then decimal digits only); false when s
 * is not one or does not fit. */
bool sr_topic_config_integer(const char *s, long long *out);

#endif
