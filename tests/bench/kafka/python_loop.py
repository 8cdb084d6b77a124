# python_loop.py — the plain Python peer: a confluent-kafka consume → normalise → produce loop
# doing the phone telemetry normalisation (explode payload, transpose name+values into columns,
# keep rows with accelerometer-x, select time/x/y/z, total = |x|+|y|+|z|, keep total > 50), one
# JSON row per output message keyed as its input; stops after N inputs once all output is
# delivered, timed from the first consumed message to the last delivery. Its consumer keeps
# librdkafka's defaults apart from what the mock needs (fetch.wait.max.ms, session.timeout.ms),
# as a user's loop would: the 64 MiB local queue, which 2.0.2 lets stall now and then.
#
# usage: /usr/bin/python3 python_loop.py BOOTSTRAP IN_TOPIC OUT_TOPIC N GROUP
# Prints: RESULT in=N out=ROWS seconds=S msgs_per_s=R
import json
import sys
import time

from confluent_kafka import Consumer, Producer


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: python_loop.py BOOTSTRAP IN_TOPIC OUT_TOPIC N GROUP")
    bootstrap, in_topic, out_topic, total, group = sys.argv[1:]
    total = int(total)
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": 6000,
        "fetch.wait.max.ms": 10,
    })
    state = {"delivered": 0, "failed": 0, "error": None}

    def on_delivery(err, _msg):
        if err is None:
            state["delivered"] += 1
        else:
            state["failed"] += 1
            state["error"] = state["error"] or str(err)

    producer = Producer({
        "bootstrap.servers": bootstrap,
        "compression.type": "zstd",
        "linger.ms": 5,
        "queue.buffering.max.messages": 1000000,
    })
    consumer.subscribe([in_topic])
    loads, dumps = json.loads, json.dumps
    produce = producer.produce

    def send(value, key):
        while True:
            try:
                produce(out_topic, value, key, on_delivery=on_delivery)
                return
            except BufferError:
                producer.poll(0.01)

    seen = produced = 0
    t0 = None
    started = time.monotonic()
    while seen < total:
        batch = consumer.consume(500, 0.1)
        if not batch:
            producer.poll(0)
            if t0 is None and time.monotonic() - started > 120:
                sys.exit("python_loop: no message in 120 s")
            continue
        if t0 is None:
            t0 = time.perf_counter()
        for msg in batch:
            if msg.error():
                print("python_loop: consumer:", msg.error(), file=sys.stderr)
                continue
            seen += 1
            key = msg.key()
            for reading in loads(msg.value())["payload"]:
                row = {"time": reading["time"]}
                name = reading["name"]
                for field, value in reading["values"].items():
                    row[name + "-" + field] = value
                if "accelerometer-x" not in row:
                    continue
                x, y, z = row["accelerometer-x"], row["accelerometer-y"], row["accelerometer-z"]
                total_acc = abs(x) + abs(y) + abs(z)
                if total_acc > 50:
                    send(dumps({"time": row["time"], "accelerometer-x": x, "accelerometer-y": y,
                                "accelerometer-z": z, "accelerometer-total": total_acc}), key)
                    produced += 1
            if seen == total:
                break
        producer.poll(0)
    left = producer.flush(120)
    t1 = time.perf_counter()
    if left or state["failed"] or state["delivered"] != produced:
        sys.exit("python_loop: FAILED: %d of %d delivered, %d failed (first error: %s)"
                 % (state["delivered"], produced, state["failed"], state["error"]))
    print("RESULT in=%d out=%d seconds=%.4f msgs_per_s=%.0f"
          % (seen, produced, t1 - t0, seen / (t1 - t0)), flush=True)
    consumer.close()


main()
