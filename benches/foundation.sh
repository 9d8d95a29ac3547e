#!/usr/bin/env bash
# Foundation benchmark: `kaohe gen` of N cadres, then `kaohe import` of those cadres into SQLite
# and PostgreSQL, each beside a baseline run in the same invocation: the database's own bulk
# loader (sqlite3 `.import`, psql `\copy`) loading the same cadres.csv into a plain table with no
# validation. Prints seconds, rows/s and the ratio kaohe / baseline.
#
# Usage: benches/foundation.sh [N]   (default 100000; needs sqlite3 and a PostgreSQL server at
# $KAOHE_BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG=warn
n="${1:-100000}"
pg="${KAOHE_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
cargo build --release --quiet
bin="$PWD/target/release/kaohe"
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$pg" -c "DROP DATABASE IF EXISTS kaohe_bench" >/dev/null 2>&1 || true' EXIT

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
rate() { python3 -c "print(f'{$1 / ($3 - $2):,.0f}')"; }
ratio() { python3 -c "print(f'{($2 - $1) / ($4 - $3):.2f}')"; }

t0=$(now); "$bin" gen --cadres "$n" --seed 1 --out "$work/files" >/dev/null; t1=$(now)
echo "gen --cadres $n: $(secs "$t0" "$t1") s"
rows=$(($(wc -l <"$work/files/cadres.csv") - 1))

# SQLite
db="sqlite://$work/kaohe.db"
"$bin" import units "$work/files/units.csv" --database-url "$db" >/dev/null
a=$(now); "$bin" import cadres "$work/files/cadres.csv" --database-url "$db" >/dev/null; b=$(now)
tail -n +2 "$work/files/cadres.csv" >"$work/cadres-noheader.csv"
c=$(now)
sqlite3 "$work/baseline.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE cadres (id TEXT PRIMARY KEY, name TEXT, gender TEXT, ethnicity TEXT, birth_date TEXT, unit TEXT, post TEXT, rank TEXT, is_leader TEXT, status TEXT);
.mode csv
.import $work/cadres-noheader.csv cadres
SQL
d=$(now)
echo "sqlite   kaohe import cadres: $(secs "$a" "$b") s ($(rate "$rows" "$a" "$b") rows/s) | sqlite3 .import: $(secs "$c" "$d") s | ratio $(ratio "$a" "$b" "$c" "$d")"

# PostgreSQL
psql -q "$pg" -c "DROP DATABASE IF EXISTS kaohe_bench" -c "CREATE DATABASE kaohe_bench" >/dev/null 2>&1
pgdb="${pg%/*}/kaohe_bench"
"$bin" import units "$work/files/units.csv" --database-url "$pgdb" >/dev/null
a=$(now); "$bin" import cadres "$work/files/cadres.csv" --database-url "$pgdb" >/dev/null; b=$(now)
psql -q "$pgdb" -c "CREATE TABLE baseline (id TEXT PRIMARY KEY, name TEXT, gender TEXT, ethnicity TEXT, birth_date TEXT, unit TEXT, post TEXT, rank TEXT, is_leader TEXT, status TEXT)" >/dev/null
c=$(now); psql -q "$pgdb" -c "\\copy baseline FROM '$work/cadres-noheader.csv' WITH (FORMAT csv)" >/dev/null; d=$(now)
echo "postgres kaohe import cadres: $(secs "$a" "$b") s ($(rate "$rows" "$a" "$b") rows/s) | psql \\copy: $(secs "$c" "$d") s | ratio $(ratio "$a" "$b" "$c" "$d")"
