#!/usr/bin/env python3
"""The DuckDB baseline of benches/assess.sh.

Usage: duckdb_assess.py FRAMEWORK.toml VALUES.csv OUT.csv [KAOHE_RESULT.csv]

Computes in SQL what `kaohe assess` computes for a framework of min-max indicators with
explicit weights and arithmetic aggregation: direction-aware min-max normalization fitted on the
observed values (a constant column scores 100), the weighted sum with missing values left out and
the other weights renormalized, the score rounded to 4 decimals, and the overall competition rank.
The SQL is generated from the framework's weights. Prints the seconds DuckDB took (reading the
CSV, computing, writing the result CSV). With KAOHE_RESULT.csv, then compares the scores and
ranks of every row with kaohe's and fails if they do not agree.
"""

import csv
import sys
import time
import tomllib

import duckdb


def effective_weights(fw):
    """(id, direction, effective weight) of each indicator; explicit min-max only."""
    top = fw.get("framework", {})
    if top.get("aggregation", "arithmetic") != "arithmetic":
        sys.exit("the baseline supports arithmetic aggregation only")
    out = []

    def walk(children, share, weighting):
        if weighting != "explicit":
            sys.exit("the baseline supports explicit weights only")
        total = sum(c.get("weight", 0.0) for c in children)
        for c in children:
            w = share * c.get("weight", 0.0) / total
            if "direction" in c:
                norm = c.get("normalization", "minmax")
                if norm != "minmax" and norm != {"method": "minmax"}:
                    sys.exit(f"{c['id']}: the baseline supports min-max normalization only")
                out.append((c["id"], c["direction"], w))
            else:
                kids = c.get("dimensions", []) + c.get("indicators", [])
                walk(kids, w, c.get("weighting", "explicit"))

    walk(fw["dimensions"], 1.0, top.get("weighting", "explicit"))
    return out


def sql(weights, values, out):
    q = lambda s: '"' + s.replace('"', '""') + '"'
    types = ", ".join(
        ["'person_id': 'VARCHAR'", "'unit_id': 'VARCHAR'"]
        + [f"'{i}': 'DOUBLE'" for i, _, _ in weights]
    )
    stats = ", ".join(f"min({q(i)}) AS {q('lo_' + i)}, max({q(i)}) AS {q('hi_' + i)}" for i, _, _ in weights)
    z = []
    for i, d, _ in weights:
        lo, hi, x = q("lo_" + i), q("hi_" + i), q(i)
        num = f"{x} - {lo}" if d == "positive" else f"{hi} - {x}"
        z.append(f"CASE WHEN {hi} > {lo} THEN 100 * ({num}) / ({hi} - {lo}) ELSE 100.0 END AS {q('z_' + i)}")
    num = " + ".join(f"coalesce({w!r} * {q('z_' + i)}, 0)" for i, _, w in weights)
    den = " + ".join(f"CASE WHEN {q('z_' + i)} IS NULL THEN 0 ELSE {w!r} END" for i, _, w in weights)
    return f"""
COPY (
  WITH v AS MATERIALIZED (
    SELECT * FROM read_csv('{values}', header = true, columns = {{{types}}})
  ),
  s AS (SELECT {stats} FROM v),
  z AS (SELECT person_id, unit_id, {", ".join(z)} FROM v, s),
  sc AS (SELECT person_id, unit_id, round(({num}) / nullif({den}, 0), 4) AS score FROM z)
  SELECT person_id, unit_id, score, rank() OVER (ORDER BY score DESC) AS rank FROM sc
) TO '{out}' (HEADER, DELIMITER ',')
"""


def compare(ours, theirs):
    with open(theirs, encoding="utf-8-sig", newline="") as f:
        r = csv.DictReader(f)
        kaohe = {row["person_id"]: (float(row["score"]), int(float(row["rank"]))) for row in r}
    n, worst, rank_diff = 0, 0.0, 0
    with open(ours, newline="") as f:
        for row in csv.DictReader(f):
            k = kaohe.get(row["person_id"])
            if k is None:
                sys.exit(f"person {row['person_id']} missing from kaohe's result")
            n += 1
            worst = max(worst, abs(float(row["score"]) - k[0]))
            rank_diff += int(row["rank"]) != k[1]
    print(f"compared {n} rows: max |score kaohe - duckdb| = {worst:.2e}, ranks differing: {rank_diff}")
    if n != len(kaohe) or worst > 1e-6 or rank_diff:
        sys.exit("kaohe and DuckDB disagree")


def main():
    fw_path, values, out = sys.argv[1:4]
    with open(fw_path, "rb") as f:
        weights = effective_weights(tomllib.load(f))
    query = sql(weights, values, out)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(query)
    con.close()
    print(f"duckdb_seconds {time.perf_counter() - t0:.3f}")
    if len(sys.argv) > 4:
        compare(out, sys.argv[4])


if __name__ == "__main__":
    main()
