#!/usr/bin/env python3
"""Reference for pipelines/covid-per-capita.yaml, computed from the two CSV files with Python's
csv module, independently of streamrun.

Cases: every row of the line list is one case of its state, `province/state` trimmed (an empty
cell counts as `unknown`) and `Abuja` replaced by `Federal Capital Territory`, as
pipelines/covid-cases.yaml does. Populations: each row of the population table is
`state, code, country, country_code, population`; its first row (`admin1Name_en,,,,`, a broken
header) has no population and is expected on the dead-letter topic, not in the table.
For each state with cases, the final record is
  {state, cases, population, cases_per_100k}
with cases_per_100k = cases * 100000 / population (one division of doubles), and population and
cases_per_100k null when the state has no population (such a state is also expected, with the
same record, on the `unmatched` topic).

usage: covid_per_capita_reference.py CASES.csv POPULATIONS.csv OUTDIR [--corrupt] [--after-crash]
       covid_per_capita_reference.py CASES.csv POPULATIONS.csv --print
  OUTDIR is what `streamrun run pipelines/covid-per-capita.yaml --out OUTDIR --envelope` wrote
  (or the topics a Kafka test read, one JSON-lines file per topic, same envelope). Checked:
  - the last record per key of cases-per-capita is the expected final record, for every state
    and for no other key;
  - every record of cases-per-capita is consistent in itself (its key is its state, its
    cases_per_100k is computed from its own cases and population) and a state's case count
    never goes down;
  - unmatched holds the states without population (their last record there is their final
    one); other states may be there too, from a time when their count had come and their
    population not yet (they are listed);
  - the dead-letter topic population-errors holds the population table's first row as it is in
    the file, with a reason (the streamrun.error header).
  --corrupt changes one expected value, so that the comparison's failure can be seen to work.
  --after-crash: a count may go down (records processed again after a restart, at least once).
  --print prints the expected final records, one JSON line per state, sorted by state.
"""
import csv
import json
import sys


def state_of(cell):
    return (cell if cell else "unknown").strip().replace("Abuja", "Federal Capital Territory")


def populations(path):
    """-> ({state: population}, [raw rows that have no population])"""
    pop, bad = {}, []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for row in csv.reader(f):
            if len(row) != 5 or not row[4].isdigit():
                bad.append(",".join(row))
                continue
            pop[row[0]] = int(row[4])
    return pop, bad


def expected(cases_path, pop_path):
    pop, bad = populations(pop_path)
    counts = {}
    with open(cases_path, newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            s = state_of(row["province/state"])
            counts[s] = counts.get(s, 0) + 1
    final = {}
    for s, n in counts.items():
        p = pop.get(s)
        final[s] = {"state": s, "cases": n, "population": p,
                    "cases_per_100k": None if p is None else n * 100000 / p}
    return final, bad


def read(outdir, topic):
    try:
        with open("%s/%s.jsonl" % (outdir, topic), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def check_final(topic, got, want, report):
    last = {}
    for r in got:
        last[r["key"]] = r["value"]
    for k in sorted(set(want) | set(last)):
        if k not in last:
            report("%s: no record for %r; expected %s" % (topic, k, json.dumps(want[k])))
        elif k not in want:
            report("%s: unexpected key %r: %s" % (topic, k, json.dumps(last[k])))
        elif last[k] != want[k]:
            report("%s: %r ends as %s; expected %s" % (topic, k, json.dumps(last[k]),
                                                        json.dumps(want[k])))


def check_each(got, report, monotonic):
    seen = {}
    for i, r in enumerate(got):
        v = r["value"]
        if not isinstance(v, dict) or list(v) != ["state", "cases", "population",
                                                   "cases_per_100k"]:
            report("cases-per-capita record %d: not {state, cases, population, cases_per_100k}: %s"
                   % (i, json.dumps(v)))
            continue
        if r["key"] != v["state"]:
            report("cases-per-capita record %d: key %r, state %r" % (i, r["key"], v["state"]))
        p = v["population"]
        want = None if p is None else v["cases"] * 100000 / p
        if v["cases_per_100k"] != want:
            report("cases-per-capita record %d: cases_per_100k %r, its cases and population give %r"
                   % (i, v["cases_per_100k"], want))
        if monotonic and v["cases"] < seen.get(r["key"], 0):
            report("cases-per-capita record %d: %r went down from %d to %d cases"
                   % (i, r["key"], seen[r["key"]], v["cases"]))
        seen[r["key"]] = v["cases"]


def main():
    cases_path, pop_path, outdir = sys.argv[1], sys.argv[2], sys.argv[3]
    final, bad = expected(cases_path, pop_path)
    if outdir == "--print":
        for s in sorted(final):
            print(json.dumps(final[s]))
        return 0
    if "--corrupt" in sys.argv:
        final["Lagos"]["cases"] += 1
    problems = []
    report = problems.append
    got = read(outdir, "cases-per-capita")
    check_each(got, report, "--after-crash" not in sys.argv)
    check_final("cases-per-capita", got, final, report)
    unmatched = {s: v for s, v in final.items() if v["population"] is None}
    got_unmatched = read(outdir, "unmatched")
    last = {r["key"]: r["value"] for r in got_unmatched}
    for s in sorted(unmatched):
        if last.get(s) != unmatched[s]:
            report("unmatched: %r ends as %s; expected %s" % (s, json.dumps(last.get(s)),
                                                             json.dumps(unmatched[s])))
    # a state whose count came before its population was unmatched for a while: allowed
    transient = sorted(set(last) - set(unmatched))
    # a dead letter keeps the row's bytes: `run --envelope` writes them as a string value,
    # kafkatool read as raw (they are not JSON); headers are an object or [name, value] pairs
    dead = [(r.get("raw", r.get("value")), dict(r.get("headers") or {}))
            for r in read(outdir, "population-errors")]
    if [row for row, _ in dead] != bad:
        report("population-errors: %s; expected the rows without population, %s"
               % ([row for row, _ in dead], bad))
    for row, headers in dead:
        if not headers.get("streamrun.error"):
            report("population-errors: %r has no reason (streamrun.error)" % row)
    for p in problems[:20]:
        print(p)
    states = len(final)
    if problems:
        print("%d problems (%d states, %d records of cases-per-capita)" % (len(problems), states,
                                                                         len(got)))
        return 1
    print("ok: %d states, %d cases, %d records of cases-per-capita, %d unmatched (%d more for a "
          "while: %s), %d dead letters"
          % (states, sum(v["cases"] for v in final.values()), len(got), len(unmatched),
             len(transient), ", ".join(transient) or "none", len(dead)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
