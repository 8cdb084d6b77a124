#!/usr/bin/env python3
"""Generates phone telemetry shaped like a mobile sensor-logger stream: one JSON message per line
with messageId, sessionId, deviceId and a payload of readings {name, time (ns), values{...}} from
accelerometer, accelerometeruncalibrated, location and battery sensors. Deterministic (seeded).

usage: gen_telemetry.py [N_MESSAGES] [SEED] > phone-telemetry.jsonl
"""
import json
import math
import random
import sys
import uuid

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
devices = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(4)]
sessions = {d: str(uuid.UUID(int=rng.getrandbits(128), version=4)) for d in devices}
t = 1715254403007507000  # ns since the epoch, above 2**53 on purpose
msg_id = 10000
for i in range(n):
    dev = devices[i % len(devices)]
    payload = []
    if i % 5 == 0:
        payload.append({"name": "location", "time": t, "values": {
            "altitude": 249.0 + rng.random(), "latitude": 50.11 + rng.random() / 100,
            "longitude": 14.38 + rng.random() / 100, "speed": rng.random() * 3,
            "bearing": -1, "horizontalAccuracy": 4.8 + rng.random()}})
    for k in range(8):
        t += 50_000_000 + rng.randrange(0, 10_000)
        shake = 40 if rng.random() < 0.12 else 1  # occasional hard shakes
        payload.append({"name": "accelerometeruncalibrated", "time": t + 2_500_000, "values": {
            "z": rng.gauss(-0.5, 0.1), "y": rng.gauss(-0.8, 0.1), "x": rng.gauss(-0.1, 0.05)}})
        payload.append({"name": "accelerometer", "time": t, "values": {
            "z": rng.gauss(0, 0.5) * shake, "y": rng.gauss(0, 0.5) * shake,
            "x": rng.gauss(0, 0.5) * shake}})
    if i % 20 == 0:
        payload.append({"name": "battery", "time": t, "values": {
            "batteryLevel": round(0.9 - i / 10000, 3), "batteryState": "unplugged"}})
    msg_id += 1
    print(json.dumps({"messageId": msg_id, "sessionId": sessions[dev], "deviceId": dev,
                      "payload": payload}))
