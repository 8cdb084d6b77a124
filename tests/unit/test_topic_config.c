/* test_topic_config.c — unit tests for the Kafka topic config table: the comparison `up` makes
 * between a declared value and the one a cluster reports, and values at the edges of a range. */
#include "test.h"
#include "load/topic_config.h"

static bool ok(const char *name, const char *value)
{
    char err[512];
    bool at_name;
    return sr_topic_config_check(name, value, err, sizeof(err), &at_name) == 0;
}

static void test_same(void)
{
    /* lists as sets, with Kafka's spaces */
    CHECK(sr_topic_config_same("cleanup.policy", "compact,delete", "delete,compact"));
    CHECK(sr_topic_config_same("cleanup.policy", "compact, delete", "delete,compact"));
    CHECK(!sr_topic_config_same("cleanup.policy", "compact", "compact,delete"));
    CHECK(!sr_topic_config_same("cleanup.policy", "compact,delete", "delete"));
    /* numbers as numbers */
    CHECK(sr_topic_config_same("retention.ms", "+86400000", "86400000"));
    CHECK(sr_topic_config_same("retention.ms", "086400000", "86400000"));
    CHECK(!sr_topic_config_same("retention.ms", "86400000", "604800000"));
    CHECK(sr_topic_config_same("min.cleanable.dirty.ratio", "0.50", "0.5"));
    CHECK(!sr_topic_config_same("min.cleanable.dirty.ratio", "0.1", "0.5"));
    /* booleans in any case, enums as written */
    CHECK(sr_topic_config_same("preallocate", "TRUE", "true"));
    CHECK(!sr_topic_config_same("preallocate", "false", "true"));
    CHECK(!sr_topic_config_same("compression.type", "lz4", "zstd"));
    CHECK(sr_topic_config_same("compression.type", "zstd", "zstd"));
    CHECK(sr_topic_config_same("leader.replication.throttled.replicas", "0:1,1:2", "1:2,0:1"));
}

static void test_edges(void)
{
    CHECK(ok("retention.ms", "-1"));
    CHECK(!ok("retention.ms", "-2"));
    CHECK(ok("retention.ms", "9223372036854775807"));
    CHECK(!ok("retention.ms", "9223372036854775808")); /* past a long */
    CHECK(!ok("retention.ms", "1e6"));
    CHECK(!ok("retention.ms", ""));
    CHECK(ok("max.message.bytes", "2147483647"));
    CHECK(!ok("max.message.bytes", "2147483648")); /* past an int */
    CHECK(ok("segment.bytes", "1048576"));
    CHECK(!ok("segment.bytes", "1048575"));
    CHECK(ok("compression.gzip.level", "-1"));
    CHECK(!ok("compression.gzip.level", "0"));
    CHECK(ok("compression.zstd.level", "-131072"));
    CHECK(!ok("compression.zstd.level", "23"));
    CHECK(ok("min.cleanable.dirty.ratio", "0"));
    CHECK(ok("min.cleanable.dirty.ratio", "1"));
    CHECK(!ok("min.cleanable.dirty.ratio", "nan"));
    CHECK(!ok("cleanup.policy", ""));
    CHECK(!ok("cleanup.policy", "compact,"));
    CHECK(ok("follower.replication.throttled.replicas", "*"));
    CHECK(!ok("follower.replication.throttled.replicas", "0:"));
    CHECK(!ok("preallocate", "1"));
    char err[512];
    bool at_name;
    CHECK(sr_topic_config_check("retention.msx", "1", err, sizeof(err), &at_name) != 0 && at_name);
    CHECK_STR(err, "unknown Kafka topic config 'retention.msx'; did you mean 'retention.ms'?");
    CHECK(sr_topic_config_check("retention.ms", "x", err, sizeof(err), &at_name) != 0 && !at_name);
}

/* The table is in name order with no duplicates (the README and the schema list it as is). */
static void test_table(void)
{
    int n;
    const sr_topic_config *c = sr_topic_configs(&n);
    CHECK(n > 30);
    for (int i = 1; i < n; i++) CHECK(strcmp(c[i - 1].name, c[i].name) < 0);
    CHECK(sr_topic_config_find("min.insync.replicas") != NULL);
    CHECK(sr_topic_config_find("message.format.version") == NULL); /* removed in Kafka 4.0 */
}

int main(void)
{
    test_same();
    test_edges();
    test_table();
    return TEST_END();
}
