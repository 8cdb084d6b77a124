#!/usr/bin/env bash
# 0014 — `up` does with the file's topics what a careful user would by hand.
# On Apache Kafka (one node):
# (a) missing topics are created with the declared partitions, replication factor and configs
#     (read back with DescribeConfigs: set on the topic, not broker defaults);
# (b) a second run finds them as declared, starts, and processes what they hold;
# (c) a file that differs from the cluster (partitions, replication factor, a config) is refused
#     with exit 2 before anything starts, each difference at its place in the file with its fix;
#     the cluster is left as it was; the kafka-configs.sh command given, run as printed (Kafka's
#     own ConfigCommand), aligns the config, and declaring what the cluster has aligns the rest:
#     up then runs;
# (d) a replication factor the cluster cannot give is refused by CreateTopics: reported at the
#     replicationFactor line with the topic's name and Kafka's reason, exit 2, nothing created.
# On the embedded broker (no CreateTopics, DescribeConfigs nor replicas): `broker FILE` and `up`
# each say once that the declared replication factor and configs are not applied, naming the
# topics, and go on; a partition count that differs is still refused (exit 2), and only it.
source "$(dirname "$0")/lib.sh" "$@"

cat >"$WORK/topics.yaml" <<'YAML'
metadata: {name: topics}
topics:
  - name: readings
    partitions: 3
    replicationFactor: 1
    config:
      retention.ms: 86400000
      cleanup.policy: compact,delete
      max.message.bytes: 2097152
      compression.type: zstd
      min.insync.replicas: 1
  - name: latest
    partitions: 2
    config: {cleanup.policy: compact, segment.ms: 60000, min.cleanable.dirty.ratio: 0.2}
  - alerts
deployments:
  - name: alerting
    input: readings
    pipeline:
      - filter: temperature > 40
    output: [alerts, latest]
YAML
printf '%s\n' '{"key": "s1", "value": {"temperature": 45}}' \
    '{"key": "s2", "value": {"temperature": 20}}' '{"key": "s3", "value": {"temperature": 41}}' \
    >"$WORK/in.jsonl"

# the same file with three differences from it: 6 partitions, another retention.ms, and a
# replication factor of 2 for latest
f=$WORK/differs.yaml
sed -e 's/    partitions: 3/    partitions: 6/' -e 's/retention.ms: 86400000/retention.ms: 3600000/' \
    -e 's/  - name: latest/  - name: latest\n    replicationFactor: 2/' "$WORK/topics.yaml" >"$f"
grep -q 'replicationFactor: 2' "$f" || fail "cannot make the file that differs"

# has LOG TEXT: LOG.log holds TEXT (a fixed string).
has() {
    grep -qF -- "$2" "$WORK/$1.log" || fail "$1.log lacks: $2"
}

# once LOG: LOG.log says exactly once that the embedded broker does not apply readings' and
# latest's replication factor and configs.
once() {
    local n
    n=$(grep -c "the declared replicationFactor and config: of topics 'readings', 'latest' are not applied here" "$WORK/$1.log" || true)
    [ "$n" = 1 ] || fail "$1.log says $n times, not once, what the embedded broker does not apply"
}

# expect_topic TOPIC PARTITIONS REPLICATION NAME=VALUE...: the topic has them (kafkatool
# describe: metadata and DescribeConfigs), each config set on the topic itself, not a broker
# default; cleanup.policy compared as a set.
expect_topic() {
    local topic=$1
    shift
    kt describe "$ADDR" "$topic" >"$WORK/$topic.json" || fail "cannot describe $topic"
    "$PYTHON" - "$WORK/$topic.json" "$@" <<'PY' || fail "topic $topic is not as declared"
import json, sys
d = json.load(open(sys.argv[1]))
want_parts, want_rf = int(sys.argv[2]), int(sys.argv[3])
bad = []
if d["partitions"] != want_parts:
    bad.append("partitions %d, not %d" % (d["partitions"], want_parts))
if d["replication"] != want_rf:
    bad.append("replication %d, not %d" % (d["replication"], want_rf))
for kv in sys.argv[4:]:
    k, v = kv.split("=", 1)
    have = d["configs"].get(k)
    same = (sorted(have.split(",")) == sorted(v.split(",")) if k == "cleanup.policy"
            else have == v)
    if not same:
        bad.append("%s=%s, not %s" % (k, have, v))
    elif k not in d["set"]:
        bad.append("%s is the broker's default, not set on the topic" % k)
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
    echo "  $topic: $(cut -c1-150 "$WORK/$topic.json")..."
}

if [ "$BROKER_KIND" = embedded ]; then
    start_broker "$WORK/topics.yaml"
    once broker
    up embedded 60 "$WORK/topics.yaml" --exit-at-end
    [ "$RC" = 0 ] || fail "up on the embedded broker exited with $RC"
    once embedded
    echo "broker FILE and up: the replication factor and configs not applied, said once each"
    kt produce "$ADDR" readings "$WORK/in.jsonl" >/dev/null
    up run 60 "$WORK/topics.yaml" --exit-at-end
    [ "$RC" = 0 ] || fail "up on the embedded broker exited with $RC"
    expect_summary run alerting 3 2 1 0 4
    up differs 60 "$f" --exit-at-end
    cat "$WORK/differs.log"
    [ "$RC" = 2 ] || fail "up with 6 partitions declared for 3 exited with $RC, expected 2"
    has differs "$f:4:17: error[SR0218]: topic 'readings' has 3 partitions on the embedded broker at $ADDR, but 6 are declared: declare partitions: 3, or start that broker again with this file (streamrun broker $f; its data lives in memory only)"
    has differs "streamrun up: 1 problem with the topics of $f on the cluster at $ADDR; nothing was started"
    echo "a partition count that differs: refused, exit 2; configs and replicas not compared"
    echo "PASS"
    exit 0
fi

start_broker "$WORK/topics.yaml" --no-topics

# (a) created as declared
up create 90 "$WORK/topics.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "(a) up exited with $RC"
expect_topic readings 3 1 retention.ms=86400000 cleanup.policy=compact,delete \
    max.message.bytes=2097152 compression.type=zstd min.insync.replicas=1
expect_topic latest 2 1 cleanup.policy=compact segment.ms=60000 min.cleanable.dirty.ratio=0.2
expect_topic alerts 1 1
! grep -q "not applied" "$WORK/create.log" || fail "(a) up said the configs were not applied"
echo "(a) up created readings, latest and alerts as declared"

# (b) as declared: up starts, and reads what is there
kt produce "$ADDR" readings "$WORK/in.jsonl" >/dev/null
up again 90 "$WORK/topics.yaml" --exit-at-end
[ "$RC" = 0 ] || fail "(b) up exited with $RC on topics as declared"
expect_summary again alerting 3 2 1 0 4
! grep -q "error:" "$WORK/again.log" || fail "(b) up reported errors: $(cat "$WORK/again.log")"
echo "(b) a second up found the topics as declared and ran"

# (c) a file that differs from the cluster
up differs 90 "$f" --exit-at-end
cat "$WORK/differs.log"
[ "$RC" = 2 ] || fail "(c) up exited with $RC, expected 2"
has differs "$f:4:17: error[SR0218]: topic 'readings' has 3 partitions on the cluster at $ADDR, but 6 are declared: declare partitions: 3, or add partitions with kafka-topics.sh --bootstrap-server $ADDR --alter --topic readings --partitions 6"
has differs "$f:7:21: error[SR0218]: topic 'readings' has retention.ms=86400000 on the cluster at $ADDR, but 3600000 is declared: align the cluster with kafka-configs.sh --bootstrap-server $ADDR --alter --entity-type topics --entity-name readings --add-config retention.ms=3600000, or declare retention.ms: 86400000"
has differs "$f:13:24: error[SR0218]: topic 'latest' has replication factor 1 on the cluster at $ADDR, but 2 is declared: declare replicationFactor: 1"
has differs "streamrun up: 3 problems with the topics of $f on the cluster at $ADDR; nothing was started"
[ -z "$(summary differs alerting)" ] || fail "(c) the deployment started"
expect_topic readings 3 1 retention.ms=86400000
echo "(c) three differences reported with their fixes, exit 2, the cluster untouched"

# the fixes the messages give: for the config, the kafka-configs.sh command as printed; then, in
# the file, the partitions and replication factor the cluster has
fix=$(sed -n 's/.*align the cluster with kafka-configs.sh \(.*\), or declare retention.ms: .*/\1/p' \
    "$WORK/differs.log")
[ -n "$fix" ] || fail "(c) no kafka-configs.sh command for retention.ms"
cache=$("$KAFKA_SH" fetch)
# shellcheck disable=SC2086 # the printed arguments, split as a shell would
timeout 90 java -cp "$cache/lib/*" kafka.admin.ConfigCommand $fix >"$WORK/configs.log" 2>&1 ||
    fail "(c) kafka-configs.sh $fix failed: $(tail -5 "$WORK/configs.log")"
up aligned 90 "$f" --exit-at-end
[ "$RC" = 2 ] || fail "(c) up exited with $RC after aligning the config, expected 2"
! grep -q "retention.ms" "$WORK/aligned.log" || fail "(c) retention.ms still reported after its fix"
has aligned "streamrun up: 2 problems with the topics of $f"
expect_topic readings 3 1 retention.ms=3600000 cleanup.policy=compact,delete
echo "(c) kafka-configs.sh $fix: that difference is gone, the two others remain"
sed -i -e 's/    partitions: 6/    partitions: 3/' -e 's/    replicationFactor: 2/    replicationFactor: 1/' "$f"
up fixed 90 "$f" --exit-at-end
[ "$RC" = 0 ] || fail "(c) up exited with $RC once the file declares what the cluster has"
expect_summary fixed alerting 0 0 0 0 0
echo "(c) the file declaring the cluster's partitions and replication factor: up runs"

# (d) a replication factor above the number of brokers
cat >"$WORK/rf3.yaml" <<'YAML'
topics:
  - name: replicated
    replicationFactor: 3
    config: {min.insync.replicas: 2}
  - name: plain
deployments:
  - {name: copy, input: replicated, output: plain}
YAML
up rf3 90 "$WORK/rf3.yaml" --exit-at-end
cat "$WORK/rf3.log"
[ "$RC" = 2 ] || fail "(d) up exited with $RC, expected 2"
has rf3 "$WORK/rf3.yaml:3:24: error[SR0219]: cannot create topic 'replicated' (1 partition, replication factor 3, 1 config) on the cluster at $ADDR: INVALID_REPLICATION_FACTOR: "
kt topics "$ADDR" >"$WORK/topics.txt"
! grep -qx replicated "$WORK/topics.txt" || fail "(d) topic replicated was created"
echo "(d) replication factor 3 on one broker: refused by CreateTopics, reported with the topic"
echo "PASS"
