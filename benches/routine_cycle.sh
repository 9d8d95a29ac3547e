#!/usr/bin/env bash
# Routine cycle benchmark (平时考核 from work records): a generated organization of PEOPLE
# cadres with RECORDS work records each in one quarter (2 million for the default 100,000 ×
# 20), stored in the database (SQLite by default, or the PostgreSQL server named by
# KAOHE_BENCH_PG, on a database created for the run). Times `kaohe cycle compute` of the
# quarter's routine cycle: it sums the counted points of the quarter's verified records in the
# database, turns them into the values of the routine_quarterly preset, reads the unit leaders'
# judgements, runs the engine with Monte Carlo rank intervals and stores every result. Beside
# it, `kaohe assess` on the same input written as files by `kaohe cycle input`, with the same
# draws. Prints both times and the ratio cycle / assess.
#
# Usage: benches/routine_cycle.sh [PEOPLE] [RECORDS]   (default 100000 20)
# RUST_LOG=kaohe_store=debug shows where the compute's time goes (gather, read, engine, store).
# On PostgreSQL, to time the compute again without loading again (about three minutes):
# KAOHE_BENCH_KEEP=1 keeps the loaded database, its cycle opened and judged but not computed,
# under the name it prints, and computes on a copy of it; KAOHE_BENCH_FROM=NAME skips the
# load and computes on a fresh copy of the kept database NAME (drop it with DROP DATABASE).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG="${RUST_LOG:-warn}"
n="${1:-100000}"
per="${2:-20}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
# KAOHE_BENCH_BIN: a release binary built already (of a known commit), instead of building one.
if [ -n "${KAOHE_BENCH_BIN:-}" ]; then
  bin="$KAOHE_BENCH_BIN"
else
  cargo build --release --quiet
  bin="$target/release/kaohe"
fi
work="$(mktemp -d)"
from="${KAOHE_BENCH_FROM:-}"
keep="${KAOHE_BENCH_KEEP:-}"
db=""
run=""
if [ -n "${KAOHE_BENCH_PG:-}" ]; then
  db="kaohe_bench_$$"
  admin() { PGOPTIONS='-c client_min_messages=warning' psql -q "$KAOHE_BENCH_PG" -c "$1"; }
  # The database computed on: the loaded one, or a copy of it when it is kept or reused.
  run="$db"
  if [ -n "$from" ] || [ -n "$keep" ]; then
    run="${db}_run"
  fi
  trap 'rm -rf "$work"; [ "$run" = "$db" ] || admin "DROP DATABASE IF EXISTS $run"; [ -n "$keep" ] || admin "DROP DATABASE IF EXISTS $db"' EXIT
  if [ -z "$from" ]; then
    admin "CREATE DATABASE $db"
  fi
  url="${KAOHE_BENCH_PG%/*}/$db"
  sql() { psql -qtA "$url" -c "$1"; }
else
  if [ -n "$from" ] || [ -n "$keep" ]; then
    echo "KAOHE_BENCH_KEEP and KAOHE_BENCH_FROM need KAOHE_BENCH_PG" >&2
    exit 2
  fi
  url="sqlite://$work/k.db"
  sql() { sqlite3 "$work/k.db" "$1"; }
  trap 'rm -rf "$work"' EXIT
fi
export KAOHE_DATABASE_URL="$url"

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

year=2026
if [ -z "$from" ]; then
  a=$(now)
  "$bin" gen --cadres "$n" --cases 0 --seed 1 --year "$year" --load --records "$per" --records-quarter 3 >/dev/null
  b=$(now)
  echo "generated and stored: $(secs "$a" "$b") s"
  units=$(sql "SELECT code FROM units WHERE parent IS NULL ORDER BY code" | sed 's/^/--unit /' | tr '\n' ' ')
  # shellcheck disable=SC2086
  "$bin" cycle create --name bench --kind routine --from "$year-07-01" --to "$year-09-30" \
    --framework routine_quarterly $units >/dev/null
  "$bin" cycle open 1 >/dev/null
  # The unit leaders' judgements: generated values of the one column no source gathers.
  "$bin" gen --cycle 1 --seed 1 >/dev/null
fi
if [ "$run" != "$db" ]; then
  admin "CREATE DATABASE $run TEMPLATE ${from:-$db}"
  if [ -n "$keep" ] && [ -z "$from" ]; then
    echo "kept database (loaded, not computed): $db"
  fi
  url="${KAOHE_BENCH_PG%/*}/$run"
  export KAOHE_DATABASE_URL="$url"
fi
records=$(sql "SELECT count(*) FROM records WHERE fact_date >= '$year-07-01' AND fact_date <= '$year-09-30'")

a=$(now)
"$bin" cycle compute 1 >/dev/null
b=$(now)
cycle=$(secs "$a" "$b")

"$bin" cycle input 1 --out "$work/in" >/dev/null
"$bin" framework show routine_quarterly >"$work/routine.toml"
a=$(now)
"$bin" assess --framework "$work/routine.toml" --data "$work/in/values.csv" \
  --people "$work/in/people.csv" --draws 200 --out "$work/R.csv" >/dev/null
b=$(now)
assess=$(secs "$a" "$b")
echo "routine cycle compute ($n people, $records records in the quarter, ${url%%:*}): $cycle s"
echo "kaohe assess on the same input: $assess s"
python3 -c "print(f'ratio cycle / assess: {$cycle / $assess:.2f}')"
