#!/usr/bin/env bash
# Scoring benchmark: `kaohe assess` of PEOPLE × INDICATORS beside DuckDB computing the same
# thing from the same CSV in the same invocation. `kaohe gen --indicators` writes a framework of
# min-max indicators with explicit weights and arithmetic aggregation, its values.csv (with a
# few percent missing cells) and people.csv. kaohe reads the CSV, normalizes, scores, ranks,
# grades with the quota and writes R.csv end to end; DuckDB (benches/duckdb_assess.py, SQL
# generated from the framework's weights) reads the CSV, normalizes (direction-aware min-max),
# takes the weighted sum with missing values reweighted, rounds to 4 decimals, ranks and writes
# a CSV. The two results are then compared row by row (score and rank must agree).
# Prints both times, the ratio kaohe / DuckDB and kaohe's peak memory.
#
# Usage: benches/assess.sh [PEOPLE] [INDICATORS]   (default 1000000 60)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG=warn
n="${1:-1000000}"
k="${2:-60}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
bin="$target/release/kaohe"
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb
if [ ! -x /usr/bin/time ]; then
  (apt-get update -qq && apt-get install -y -qq time) >/dev/null
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

t0=$(now)
"$bin" gen --cadres "$n" --indicators "$k" --seed 1 --out "$work" >/dev/null
t1=$(now)
echo "gen --cadres $n --indicators $k: $(secs "$t0" "$t1") s ($(du -h "$work/values.csv" | cut -f1) values.csv)"

a=$(now)
/usr/bin/time -v -o "$work/time.txt" "$bin" assess --framework "$work/framework.toml" \
  --data "$work/values.csv" --out "$work/R.csv" >/dev/null
b=$(now)
kaohe=$(secs "$a" "$b")
rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")

out=$(python3 benches/duckdb_assess.py "$work/framework.toml" "$work/values.csv" \
  "$work/duckdb.csv" "$work/R.csv")
duck=$(awk '/^duckdb_seconds/ {print $2}' <<<"$out")
grep -v '^duckdb_seconds' <<<"$out"

echo "kaohe assess ($n people × $k indicators, end to end): $kaohe s, peak memory $((rss_kb / 1024)) MiB"
echo "duckdb (read CSV, normalize, weighted sum, rank, write CSV): $duck s"
echo "ratio kaohe / duckdb: $(python3 -c "print(f'{$kaohe / $duck:.2f}')")"
