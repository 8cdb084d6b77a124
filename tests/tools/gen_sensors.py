#!/usr/bin/env python3
"""Generates the sensor-alert service's readings: N clients, each with three sensors x, y and z
read about every INTERVAL seconds, one JSON object per line in arrival order:

    {"client": "client-0003", "sensor": "z", "time": 1715254400123, "value": 41.07}

`time` is the reading's event time in ms since the epoch. A few z readings (about 1 in 50) arrive
up to 20 s after their time (later lines, same `time`): out of order, but within the 30 s grace
of pipelines/sensor-features.yaml. Values: a level per client and sensor, a slow wave (period
20 to 40 minutes), noise, and now and then a spike; z stays within [0, 100]. Deterministic: the
same arguments give the same bytes.

usage: gen_sensors.py [CLIENTS] [MINUTES] [SEED] [INTERVAL] > sensors.jsonl
  pipelines/data/sensors.jsonl is `gen_sensors.py 8 20 11 15` (1,920 readings, 150 KB); for a
  big one: `gen_sensors.py 1000 60 1 10 > /tmp/sensors.jsonl` (1,000 clients for an hour,
  1,080,147 readings, 86 MB, 30 s; it holds them all in memory to sort them).
"""
import json
import math
import random
import sys

clients = int(sys.argv[1]) if len(sys.argv) > 1 else 8
minutes = int(sys.argv[2]) if len(sys.argv) > 2 else 20
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 11)
interval = int(sys.argv[4]) if len(sys.argv) > 4 else 15
start = 1715254400000  # ms since the epoch
end = start + minutes * 60_000


def readings(c):
    """The readings of client c, as (arrival, time, sensor, value)."""
    out = []
    for sensor in "xyz":
        level = rng.uniform(20, 80)
        period = rng.uniform(20, 40) * 60_000
        phase = rng.uniform(0, 2 * math.pi)
        t = start + rng.randrange(0, interval * 1000)
        while t < end:
            v = level + 12 * math.sin(phase + 2 * math.pi * (t - start) / period)
            v += rng.gauss(0, 2)
            if rng.random() < 0.02:
                v += rng.choice((-1, 1)) * rng.uniform(10, 20)  # a spike
            v = round(min(100.0, max(0.0, v)), 2)
            late = rng.randrange(1000, 20_000) if sensor == "z" and rng.random() < 0.02 else 0
            out.append((t + late, t, sensor, v))
            t += interval * 1000 + rng.randrange(-500, 500)
    return out


rows = []
for c in range(clients):
    rows += [(a, t, s, v, "client-%04d" % c) for a, t, s, v in readings(c)]
rows.sort(key=lambda r: (r[0], r[4], r[2]))  # arrival order; ties by client, sensor
out = sys.stdout
for arrival, t, sensor, v, client in rows:
    out.write(json.dumps({"client": client, "sensor": sensor, "time": t, "value": v},
                         separators=(", ", ": ")) + "\n")
