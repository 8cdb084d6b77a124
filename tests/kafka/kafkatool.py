# kafkatool.py — Kafka helpers for the scripted tests in tests/kafka (confluent-kafka, loopback
# brokers only): produce inputs, dump a topic, wait for records, and compare outputs with the
# in-process reference (`streamrun run --envelope`) as multisets of (key, value as JSON).
#
# usage: kafkatool.py COMMAND ...; run `kafkatool.py -h` for the commands. Every command exits 0 on
# success and 1 with a message starting "kafkatool:" otherwise.
import argparse
import base64
import json
import os
import re
import sys
import time
from collections import Counter

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition


def die(msg):
    print("kafkatool: " + msg, file=sys.stderr)
    sys.exit(1)


def input_lines(path):
    """The non-empty lines of a JSON-lines file, as bytes without their line ending."""
    with open(path, "rb") as f:
        data = f.read()
    return [ln[:-1] if ln.endswith(b"\r") else ln for ln in data.split(b"\n") if ln.strip()]


def line_key(j):
    return "l%03d" % j


def replica_key(i, j):
    """Key of the i-th replicated input, line j: unique per input, names its line."""
    return "%06d:%s" % (i, line_key(j))


# ---- clients ----------------------------------------------------------------------------------


def consumer(addr, **conf):
    return Consumer(dict({
        "bootstrap.servers": addr,
        "group.id": "kafkatool-%d" % os.getpid(),
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        "fetch.wait.max.ms": 10,
        "log.connection.close": False,
    }, **conf))


def partitions_of(c, topic):
    md = c.list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        die("topic %s: %s" % (topic, t.error if t else "absent"))
    return sorted(t.partitions)


def watermarks(c, topic):
    return [(p,) + c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            for p in partitions_of(c, topic)]


class Delivery:
    """Delivery reports of a producer: (partition, offset) per record index, first error."""

    def __init__(self, n):
        self.where = [None] * n
        self.delivered = 0
        self.error = None

    def callback(self, i):
        def cb(err, msg):
            if err is not None:
                if self.error is None:
                    self.error = "record %d: %s" % (i, err)
            else:
                self.where[i] = (msg.partition(), msg.offset())
                self.delivered += 1
        return cb


def producer(addr, compression, big=False, max_bytes=None, partitioner=None):
    conf = {"bootstrap.servers": addr, "compression.codec": compression, "acks": "all",
            "enable.idempotence": True, "log.connection.close": False, "linger.ms": 20}
    if partitioner:  # librdkafka's default is consistent_random (CRC32), Java's murmur2
        conf["partitioner"] = partitioner
    if max_bytes:
        conf["message.max.bytes"] = max_bytes
    if big:  # large batches: the embedded broker keeps at most 100,000 batches per partition
        conf.update({"linger.ms": 200, "batch.size": 1000000, "batch.num.messages": 100000,
                     "queue.buffering.max.messages": 1000000,
                     "queue.buffering.max.kbytes": 2097151})
    return Producer(conf)


def finish(p, d, n, timeout=60):
    left = p.flush(timeout)
    if d.error:
        die("delivery failed: " + d.error)
    if left or d.delivered != n:
        die("%d of %d records delivered after %d s" % (d.delivered, n, timeout))


# ---- commands ---------------------------------------------------------------------------------


def cmd_fence(a):
    """init_transactions with TXN_ID, as a new instance of a transactional producer does: the
    producer that had the id is fenced (its open transaction aborted, its epoch superseded)."""
    p = Producer({"bootstrap.servers": a.addr, "transactional.id": a.txn_id,
                  "log.connection.close": False})
    p.init_transactions(60)
    p.flush(10)
    print("fenced %s" % a.txn_id)


def cmd_lines(a):
    """Envelope file of FILE's lines keyed l000, l001...: the reference run's input."""
    with open(a.out, "w") as out:
        for j, line in enumerate(input_lines(a.file)):
            out.write(json.dumps({"key": line_key(j), "value": json.loads(line)}) + "\n")


def cmd_produce(a):
    """Produces an envelope file: key, value (JSON), raw (text, sent as is) or "tombstone": true
    (a null value), headers, partition, timestamp (ms; default: the producer's clock); --report writes where each record went, in file order;
    --max-bytes raises the producer's message.max.bytes."""
    recs = [json.loads(ln) for ln in open(a.file) if ln.strip()]
    p = producer(a.addr, a.compression, max_bytes=a.max_bytes, partitioner=a.partitioner)
    d = Delivery(len(recs))
    for i, r in enumerate(recs):
        if r.get("tombstone"):
            value = None
        else:
            value = r["raw"].encode() if "raw" in r else json.dumps(r["value"]).encode()
        kw = {"key": r.get("key"), "value": value, "on_delivery": d.callback(i)}
        if "headers" in r:
            kw["headers"] = [(k, None if v is None else v.encode()) for k, v in r["headers"]]
        if "partition" in r:
            kw["partition"] = r["partition"]
        if "timestamp" in r:
            kw["timestamp"] = r["timestamp"]
        p.produce(a.topic, **kw)
        p.poll(0)
    finish(p, d, len(recs))
    if a.report:
        with open(a.report, "w") as out:
            for part, off in d.where:
                out.write(json.dumps({"partition": part, "offset": off}) + "\n")


def cmd_load(a):
    """Produces inputs FIRST .. FIRST+N-1: input i is line i % LINES of FILE, keyed
    replica_key(i, i % LINES); then checks the broker kept every record ever loaded: low
    watermarks 0, high watermarks summing to FIRST + N (with --allow-loss, only the latter)."""
    lines = input_lines(a.file)
    p = producer(a.addr, a.compression, big=True)
    d = Delivery(a.n)
    for k in range(a.n):
        i = a.first + k
        j = i % len(lines)
        while True:
            try:
                p.produce(a.topic, key=replica_key(i, j), value=lines[j], on_delivery=d.callback(k))
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    finish(p, d, a.n, timeout=120)
    c = consumer(a.addr)
    wm = watermarks(c, a.topic)
    c.close()
    low = [lo for _, lo, _ in wm]
    high = sum(hi for _, _, hi in wm)
    if a.allow_loss:  # the broker may have dropped the oldest records: only the count is checked
        if high != a.first + a.n:
            die("%s holds offsets %s: expected %d records produced in all"
                % (a.topic, [(lo, hi) for _, lo, hi in wm], a.first + a.n))
        print("loaded %d records into %s (offsets %s)" % (a.n, a.topic,
                                                         [(lo, hi) for _, lo, hi in wm]))
        return
    if any(low) or high != a.first + a.n:
        die("%s holds offsets %s: expected low watermarks 0 and %d records in all (the embedded "
            "broker dropped some)" % (a.topic, [(lo, hi) for _, lo, hi in wm], a.first + a.n))
    print("loaded %d records into %s (%d in all, low watermarks 0)" % (a.n, a.topic, high))


def cmd_trickle(a):
    """Produces replicated inputs FIRST, FIRST+1... one every INTERVAL seconds until STOP_FILE
    exists (or LIMIT seconds passed), each flushed before the next; then writes the number
    produced to COUNT_FILE."""
    lines = input_lines(a.file)
    p = producer(a.addr, "none")
    p.poll(0)
    deadline = time.monotonic() + a.limit
    n = 0
    while not os.path.exists(a.stop_file) and time.monotonic() < deadline:
        d = Delivery(1)
        i = a.first + n
        p.produce(a.topic, key=replica_key(i, i % len(lines)), value=lines[i % len(lines)],
                  on_delivery=d.callback(0))
        finish(p, d, 1)
        n += 1
        time.sleep(a.interval)
    with open(a.count_file, "w") as out:
        out.write("%d\n" % n)


def substitute(text):
    """The topology file's ${VAR} and ${VAR:-default} replaced from the environment ($${ stays
    a literal ${), as streamrun does."""
    def one(m):
        if m.group(0) == "$${":
            return "${"
        v = os.environ.get(m.group(1))
        if v is not None:
            return v
        if m.group(2) is None:
            die("${%s} is not set" % m.group(1))
        return m.group(3)
    return re.sub(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}", one, text)


def config_value(v):
    """A YAML scalar as Kafka writes a config value (true, not True)."""
    return str(v).lower() if isinstance(v, bool) else str(v)


def declared_topics(path):
    """(name, partitions, replicationFactor or None, {config: value}) of each topic under the
    topology file's `topics:`."""
    import yaml  # python3-yaml, only needed here
    doc = yaml.safe_load(substitute(open(path).read())) or {}
    out = []
    for t in doc.get("topics") or []:
        if isinstance(t, dict):
            rf = t.get("replicationFactor")
            out.append((str(t["name"]), int(t.get("partitions", 1)),
                        None if rf is None else int(rf),
                        {str(k): config_value(v) for k, v in (t.get("config") or {}).items()}))
        else:
            out.append((str(t), 1, None, {}))
    return out


def create_topics(addr, topics, replication, configs, timeout=60):
    """Creates the topics [(name, partitions, replication or None, {config: value})] that are
    missing, with REPLICATION where a topic gives none (-1: the broker's default) and CONFIGS
    added to each; an existing one must have its partition count. Returns the names created once
    the metadata shows every partition with a leader."""
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": addr, "log.connection.close": False})
    have = admin.list_topics(timeout=10).topics
    new = [NewTopic(name, parts, replication if rf is None else rf,
                    config=dict(list(conf.items()) + list(configs)))
           for name, parts, rf, conf in topics if name not in have]
    for name, parts, _, _ in topics:
        if name in have and len(have[name].partitions) != parts:
            die("topic %s exists with %d partitions, not %d"
                % (name, len(have[name].partitions), parts))
    if new:
        for name, f in admin.create_topics(new, request_timeout=timeout).items():
            try:
                f.result(timeout)
            except Exception as e:  # KafkaException carrying the broker's error
                if e.args and getattr(e.args[0], "code", lambda: None)() == \
                        KafkaError.TOPIC_ALREADY_EXISTS:
                    continue
                die("cannot create topic %s: %s" % (name, e))
    deadline = time.monotonic() + timeout
    want = {name: parts for name, parts, _, _ in topics}
    while True:
        md = admin.list_topics(timeout=10).topics
        ready = [n for n, parts in want.items() if n in md and md[n].error is None
                 and len(md[n].partitions) == parts
                 and all(p.leader >= 0 for p in md[n].partitions.values())]
        if len(ready) == len(want):
            return [t[0] for t in topics if t[0] not in have]
        if time.monotonic() > deadline:
            die("topics without a leader after %d s: %s" % (timeout, sorted(set(want) - set(ready))))
        time.sleep(0.1)


def config_pairs(items):
    pairs = []
    for kv in items or []:
        k, sep, v = kv.partition("=")
        if not sep:
            die("--config %s: expected KEY=VALUE" % kv)
        pairs.append((k, v))
    return pairs


def cmd_create_topics(a):
    """Creates the topics the topology file FILE declares that the broker lacks, as `up` would:
    partitions, replicationFactor (else --replication) and config: from the file, plus --config
    KEY=VALUE for each; for a real broker, where producing to a missing topic would create it
    with the broker's default partition count."""
    made = create_topics(a.addr, declared_topics(a.file), a.replication, config_pairs(a.config))
    print("created %s" % (", ".join(made) if made else "no topic: all exist"))


def cmd_create_topic(a):
    """Creates TOPIC with PARTITIONS partitions, --replication and --config KEY=VALUE."""
    made = create_topics(a.addr, [(a.topic, a.partitions, None, {})], a.replication,
                         config_pairs(a.config))
    print("created %s" % (", ".join(made) if made else "no topic: %s exists" % a.topic))


def cmd_topic_config(a):
    """Sets TOPIC's configs KEY=VALUE... (AlterConfigs: the topic's other dynamic configs go
    back to the broker's defaults); for Apache Kafka (the embedded broker has no such request)."""
    from confluent_kafka.admin import AdminClient, ConfigResource
    admin = AdminClient({"bootstrap.servers": a.addr, "log.connection.close": False})
    res = ConfigResource(ConfigResource.Type.TOPIC, a.topic,
                         set_config=dict(config_pairs(a.config)))
    for f in admin.alter_configs([res], request_timeout=30).values():
        try:
            f.result(30)
        except Exception as e:
            die("cannot set the configs of %s: %s" % (a.topic, e))
    print("%s: %s" % (a.topic, ", ".join(a.config)))


def cmd_wait_trimmed(a):
    """Waits until TOPIC's partitions have lost more than N records in all (the sum of their low
    watermarks), as retention deletes old segments; prints the watermarks."""
    c = consumer(a.addr)
    deadline = time.monotonic() + a.timeout
    while True:
        wm = watermarks(c, a.topic)
        if sum(lo for _, lo, _ in wm) > a.n:
            break
        if time.monotonic() > deadline:
            c.close()
            die("%s lost only %d records after %d s (offsets %s), expected more than %d"
                % (a.topic, sum(lo for _, lo, _ in wm), a.timeout,
                   [(lo, hi) for _, lo, hi in wm], a.n))
        time.sleep(0.2)
    c.close()
    print("%s lost %d records (offsets %s)" % (a.topic, sum(lo for _, lo, _ in wm),
                                                [(lo, hi) for _, lo, hi in wm]))


def cmd_topics(a):
    """Prints the broker's topics, one a line (a request for all topics creates none)."""
    c = consumer(a.addr)
    for name in sorted(c.list_topics(timeout=10).topics):
        print(name)
    c.close()


def cmd_watermarks(a):
    c = consumer(a.addr)
    wm = watermarks(c, a.topic)
    c.close()
    print(json.dumps({"low": [lo for _, lo, _ in wm], "high": [hi for _, _, hi in wm],
                      "total": sum(hi - lo for _, lo, hi in wm)}))


def partition_metadata(addr, topics):
    """{(topic, partition): PartitionMetadata} of TOPICS, as a broker's metadata has them."""
    c = consumer(addr)
    md = c.list_topics(timeout=10).topics
    c.close()
    out = {}
    for t in topics:
        if t not in md or md[t].error is not None:
            die("topic %s: %s" % (t, md[t].error if t in md else "absent"))
        for p, pm in md[t].partitions.items():
            out[(t, p)] = pm
    return out


def java_hash(text):
    """Java's String.hashCode() of text (UTF-16 code units), as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def cmd_coordinator(a):
    """Prints the broker that coordinates transactional.id ID (--txn) or consumer group ID
    (--group): the leader of the partition of __transaction_state or __consumer_offsets that
    Kafka picks for it, abs(hashCode(ID)) % partitions."""
    topic = "__transaction_state" if a.txn else "__consumer_offsets"
    md = partition_metadata(a.addr, [topic])
    h = java_hash(a.txn or a.group)
    p = 0 if h == -(1 << 31) else abs(h) % len(md)
    print(md[(topic, p)].leader)


def cmd_leaders(a):
    """Prints one line per broker leading partitions of TOPIC...: "BROKER TOPIC[P] ...", the
    broker that leads the most first (a partition without a leader: broker -1)."""
    led = {}
    for (t, p), pm in sorted(partition_metadata(a.addr, a.topics).items()):
        led.setdefault(pm.leader, []).append("%s[%d]" % (t, p))
    for broker, parts in sorted(led.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print("%d %s" % (broker, " ".join(parts)))


def cmd_wait_isr(a):
    """Waits until every partition of TOPIC... has a leader and N in-sync replicas (a restarted
    broker has caught up and rejoined them)."""
    deadline = time.monotonic() + a.timeout
    while True:
        short = {"%s[%d]" % tp: (pm.leader, sorted(pm.isrs))
                 for tp, pm in sorted(partition_metadata(a.addr, a.topics).items())
                 if pm.leader < 0 or len(pm.isrs) < a.n}
        if not short:
            break
        if time.monotonic() > deadline:
            die("after %d s, partitions with fewer than %d in-sync replicas (leader, isr): %s"
                % (a.timeout, a.n, short))
        time.sleep(0.2)
    print("every partition of %s has %d in-sync replicas" % (", ".join(a.topics), a.n))


def cmd_wait(a):
    """Waits until TOPIC holds at least N records (sum of high watermarks; with --isolation
    read_committed, the default, of last stable offsets: open transactions' records not yet)."""
    c = consumer(a.addr, **{"isolation.level": a.isolation})
    deadline = time.monotonic() + a.timeout
    parts = partitions_of(c, a.topic)
    total = 0
    while True:
        try:
            total = sum(c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)[1]
                        for p in parts)
        except KafkaException as e:  # a leader moving (a new topic, a broker down): try again
            if not e.args[0].retriable() and e.args[0].code() != \
                    KafkaError.NOT_LEADER_FOR_PARTITION:
                raise
        if total >= a.n:
            break
        if time.monotonic() > deadline:
            c.close()
            die("%s holds %d records after %d s, expected at least %d"
                % (a.topic, total, a.timeout, a.n))
        time.sleep(0.02)
    c.close()
    print("%s holds %d records" % (a.topic, total))


def decode(b):
    return None if b is None else b.decode("utf-8", "surrogateescape")


def cmd_read(a):
    """Dumps TOPIC up to its high watermarks as envelope lines: key, value (when the bytes are
    JSON), raw (the bytes as text), raw_b64, tombstone (true for a null value), headers
    ([name, value] in order), partition, offset, timestamp. --isolation read_committed (the
    default) skips records of aborted transactions, and waits for open ones to end; a partition is
    read when its end-of-partition event comes at the high watermark (transaction markers and
    aborted records give no message)."""
    c = consumer(a.addr, **{"isolation.level": a.isolation, "enable.partition.eof": True})
    # the high watermarks, whatever the isolation: asked by a read_committed client, the broker
    # answers with the last stable offsets, and a read up to those would stop at the first open
    # transaction without waiting for it (and for the committed records after it)
    hw = consumer(a.addr, **{"isolation.level": "read_uncommitted"})
    wm = watermarks(hw, a.topic)
    hw.close()
    want = {p: hi for p, lo, hi in wm if hi > lo}
    c.assign([TopicPartition(a.topic, p, lo) for p, lo, hi in wm if hi > lo])
    pos = {p: lo for p, lo, _ in wm}
    out = open(a.out, "w")
    n = 0
    deadline = time.monotonic() + a.timeout
    while any(pos[p] < hi for p, hi in want.items()):
        if time.monotonic() > deadline:
            die("reading %s: at %s after %d s, expected %s" % (a.topic, pos, a.timeout, want))
        for m in c.consume(num_messages=1000, timeout=0.2):
            if m.error():
                if m.error().code() != KafkaError._PARTITION_EOF:
                    die("reading %s: %s" % (a.topic, m.error()))
                if m.partition() in want and m.offset() >= want[m.partition()]:
                    pos[m.partition()] = want[m.partition()]
                continue
            if m.offset() >= want.get(m.partition(), 0):
                continue
            pos[m.partition()] = m.offset() + 1
            rec = {"key": decode(m.key()), "partition": m.partition(), "offset": m.offset(),
                   "timestamp": m.timestamp()[1]}
            raw = m.value() or b""
            if m.value() is None:
                rec["tombstone"] = True
            try:
                rec["value"] = json.loads(raw)
            except ValueError:
                pass
            rec["raw"] = decode(raw)
            rec["raw_b64"] = base64.b64encode(raw).decode()
            rec["headers"] = [[k, decode(v)] for k, v in (m.headers() or [])]
            out.write(json.dumps(rec) + "\n")
            n += 1
    out.close()
    c.close()
    print("read %d records from %s" % (n, a.topic))


def admin_client(addr):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": addr, "log.connection.close": False})


def cmd_describe(a):
    """Prints TOPIC as the cluster has it, as JSON: partitions, replication (the smallest
    replica count of its partitions), and every config with its value and whether it is set
    on the topic (DescribeConfigs; AdminClient, so not for the embedded broker)."""
    from confluent_kafka.admin import ConfigResource, ConfigSource
    admin = admin_client(a.addr)
    t = admin.list_topics(timeout=10).topics.get(a.topic)
    if t is None or t.error is not None:
        die("topic %s: %s" % (a.topic, t.error if t else "absent"))
    res = ConfigResource(ConfigResource.Type.TOPIC, a.topic)
    entries = admin.describe_configs([res], request_timeout=30)[res].result(30)
    print(json.dumps({
        "partitions": len(t.partitions),
        "replication": min(len(p.replicas) for p in t.partitions.values()),
        "configs": {n: e.value for n, e in sorted(entries.items())},
        "set": sorted(n for n, e in entries.items()
                      if e.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value),
    }, sort_keys=True))


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def multiset(path):
    """(key, value as canonical JSON) of each envelope line of path."""
    got = Counter()
    for ln in open(path):
        if ln.strip():
            r = json.loads(ln)
            if "value" not in r:
                die("%s: a record that is not JSON: %s" % (path, ln.strip()[:200]))
            got[(r.get("key"), canonical(r["value"]))] += 1
    return got


def cmd_expect(a):
    """Expected outputs of the replicated inputs FIRST .. FIRST+N-1, from REF: the reference
    run's outputs over FILE's lines keyed l000... (cmd_lines)."""
    lines = input_lines(a.file)
    per_line = {}
    for ln in open(a.ref):
        if ln.strip():
            r = json.loads(ln)
            per_line.setdefault(r["key"], []).append(r["value"])
    with open(a.out, "w") as out:
        for i in range(a.first, a.first + a.n):
            j = i % len(lines)
            for v in per_line.get(line_key(j), []):
                out.write(json.dumps({"key": replica_key(i, j), "value": v}) + "\n")


def show(item):
    key, value = item
    return "key=%r value=%s" % (key, value if len(value) < 160 else value[:160] + "...")


def cmd_compare(a):
    """Compares the (key, value) multisets of two envelope files. --exact: equal; --no-loss:
    EXPECTED is contained in GOT, and whatever GOT has beyond it is a duplicate of an expected
    record (counted and printed). Both fail when EXPECTED is empty."""
    exp, got = multiset(a.expected), multiset(a.got)
    missing, extra = exp - got, got - exp
    unexpected = Counter({k: n for k, n in extra.items() if k not in exp})
    dups = sum(extra.values()) - sum(unexpected.values())
    print("compare: expected %d records, got %d: %d missing, %d duplicates, %d unexpected"
          % (sum(exp.values()), sum(got.values()), sum(missing.values()), dups,
             sum(unexpected.values())))
    for item in list(missing)[:3]:
        print("  missing:    " + show(item))
    for item in list(unexpected)[:3]:
        print("  unexpected: " + show(item))
    for item in [k for k in extra if k in exp][:3]:
        print("  duplicate:  %s (%d more)" % (show(item), extra[item]))
    if not exp:
        die("nothing expected: the reference is empty")
    if missing or unexpected or (a.exact and dups):
        die("%s differs from %s" % (a.got, a.expected))


def main():
    ap = argparse.ArgumentParser(description="Kafka helpers for tests/kafka")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def command(fn, *positional):
        """A subcommand named after cmd_NAME, with positional arguments (NAME or NAME:int)."""
        s = sub.add_parser(fn.__name__[len("cmd_"):].replace("_", "-"))
        for arg in positional:
            name, _, kind = arg.partition(":")
            s.add_argument(name, type=int if kind == "int" else str)
        s.set_defaults(fn=fn)
        return s

    command(cmd_lines, "file", "out")
    command(cmd_fence, "addr", "txn_id")
    s = command(cmd_produce, "addr", "topic", "file")
    s.add_argument("--compression", default="none")
    s.add_argument("--report")
    s.add_argument("--max-bytes", type=int)
    s.add_argument("--partitioner", help="librdkafka's partitioner property (murmur2_random: "
                   "as Java clients and streamrun place keyed records)")
    s = command(cmd_load, "addr", "topic", "file", "n:int")
    s.add_argument("--first", type=int, default=0)
    s.add_argument("--compression", default="zstd")
    s.add_argument("--allow-loss", action="store_true",
                   help="do not require the broker to keep every record (to push old ones out)")
    s = command(cmd_trickle, "addr", "topic", "file")
    s.add_argument("--first", type=int, default=0)
    s.add_argument("--interval", type=float, default=0.02)
    s.add_argument("--stop-file", required=True)
    s.add_argument("--count-file", required=True)
    s.add_argument("--limit", type=float, default=60)
    for s in (command(cmd_create_topics, "addr", "file"),
              command(cmd_create_topic, "addr", "topic", "partitions:int")):
        s.add_argument("--replication", type=int, default=-1,
                       help="replication factor (default: the broker's)")
        s.add_argument("--config", action="append", metavar="KEY=VALUE")
    s = command(cmd_topic_config, "addr", "topic")
    s.add_argument("config", nargs="+", metavar="KEY=VALUE")
    s = command(cmd_wait_trimmed, "addr", "topic", "n:int")
    s.add_argument("--timeout", type=int, default=60)
    command(cmd_topics, "addr")
    command(cmd_watermarks, "addr", "topic")
    command(cmd_describe, "addr", "topic")
    s = command(cmd_coordinator, "addr")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--txn")
    g.add_argument("--group")
    s = command(cmd_leaders, "addr")
    s.add_argument("topics", nargs="+", metavar="TOPIC")
    s = command(cmd_wait_isr, "addr", "n:int")
    s.add_argument("topics", nargs="+", metavar="TOPIC")
    s.add_argument("--timeout", type=int, default=60)
    s = command(cmd_wait, "addr", "topic", "n:int")
    s.add_argument("--timeout", type=int, default=60)
    s.add_argument("--isolation", choices=["read_committed", "read_uncommitted"],
                   default="read_committed")
    s = command(cmd_read, "addr", "topic", "out")
    s.add_argument("--timeout", type=int, default=60)
    s.add_argument("--isolation", choices=["read_committed", "read_uncommitted"],
                   default="read_committed")
    s = command(cmd_expect, "ref", "file", "n:int", "out")
    s.add_argument("--first", type=int, default=0)
    s = command(cmd_compare, "expected", "got")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--exact", action="store_true")
    g.add_argument("--no-loss", action="store_true")
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
