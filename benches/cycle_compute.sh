#!/usr/bin/env bash
# Cycle benchmark: `kaohe cycle compute` of a generated organization of PEOPLE × INDICATORS
# from the database (SQLite by default, or the PostgreSQL server named by KAOHE_BENCH_PG, on a
# database created for the run), beside `kaohe assess` on the same input written as files by
# `kaohe cycle input`, run with the same draws. The cycle reads its people, values and facts
# from the database, gathers the ratings figures of the period from the stored ratings, runs
# the engine with Monte Carlo rank intervals and stores every result row; assess reads the two
# files and writes a CSV. Prints both times and the ratio cycle / assess.
#
# On PostgreSQL with CASES, the cases and ratings are written by benches/pg_ratings.sql
# (importing ten million of them takes longer than a benchmark should).
#
# Usage: benches/cycle_compute.sh [PEOPLE] [INDICATORS] [CASES]   (default 100000 60 0)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG=warn
n="${1:-100000}"
k="${2:-60}"
cases="${3:-0}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
bin="$target/release/kaohe"
work="$(mktemp -d)"
if [ -n "${KAOHE_BENCH_PG:-}" ]; then
  db="kaohe_bench_$$"
  psql -q "$KAOHE_BENCH_PG" -c "CREATE DATABASE $db"
  url="${KAOHE_BENCH_PG%/*}/$db"
  trap 'rm -rf "$work"; psql -q "$KAOHE_BENCH_PG" -c "DROP DATABASE $db"' EXIT
else
  url="sqlite://$work/k.db"
  trap 'rm -rf "$work"' EXIT
fi
export KAOHE_DATABASE_URL="$url"

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

# The cycle covers the generated year, so that it gathers every generated rating.
year=2025
if [ -n "${KAOHE_BENCH_PG:-}" ] && [ "$cases" -gt 0 ]; then
  # PostgreSQL: the organization through kaohe import, the cases and ratings in SQL.
  "$bin" gen --cadres "$n" --indicators "$k" --cases 0 --seed 1 --year "$year" --out "$work/gen" >/dev/null
  "$bin" import all "$work/gen" >/dev/null
  psql -q "$url" -v n="$cases" -f benches/pg_ratings.sql
else
  "$bin" gen --cadres "$n" --indicators "$k" --cases "$cases" --seed 1 --year "$year" --out "$work/gen" >/dev/null
  "$bin" import all "$work/gen" >/dev/null
fi
"$bin" framework upload "$work/gen/framework.toml" >/dev/null
county=$(sed -n 2p "$work/gen/units.csv" | cut -d, -f1 | tr -d '\357\273\277')
"$bin" cycle create --name bench --kind special --from "$year-01-01" --to "$year-12-31" \
  --framework "$(sed -n 's/^id = "\(.*\)"/\1/p' "$work/gen/framework.toml" | head -1)" \
  --unit "$county" >/dev/null
"$bin" cycle open 1 >/dev/null
"$bin" cycle import-values 1 "$work/gen/values.csv" >/dev/null

if [ -n "${KAOHE_BENCH_PG:-}" ]; then
  ratings=$(psql -qtA "$url" -c "SELECT count(*) FROM ratings")
else
  ratings=$(tail -n +2 "$work/gen/ratings.csv" | wc -l)
fi
a=$(now)
"$bin" cycle compute 1 >/dev/null
b=$(now)
cycle=$(secs "$a" "$b")

"$bin" cycle input 1 --out "$work/in" >/dev/null
a=$(now)
"$bin" assess --framework "$work/gen/framework.toml" --data "$work/in/values.csv" \
  --people "$work/in/people.csv" --draws 200 --out "$work/R.csv" >/dev/null
b=$(now)
assess=$(secs "$a" "$b")
echo "cycle compute ($n people × $k indicators, $ratings stored ratings, ${url%%:*}): $cycle s"
echo "kaohe assess on the same input: $assess s"
python3 -c "print(f'ratio cycle / assess: {$cycle / $assess:.2f}')"
