#!/usr/bin/env bash
# Bulk import of public ratings (好差评): `kaohe import ratings` of N generated ratings into
# SQLite, beside a baseline in the same invocation: sqlite3 `.import` of the same file into a
# plain table with no checks. Prints seconds, rows/s and the ratio kaohe / baseline.
#
# kaohe does more than the baseline: decoding and header mapping, per-cell validation with
# row-located errors, one rating per case within the file, looking up every rated case in the
# database, the intake rules at each rating's own time (rating window, tags), the rectification
# of each bad review with its deadline on the working-day calendar, then one transaction with
# foreign keys, the one-rating-per-case key, the rated-at index and the audit entry. After the
# figures it prints kaohe's own timings of those stages (its debug log).
#
# Usage: benches/ratings_import.sh [N]   (default 1000000; needs sqlite3)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG=warn
n="${1:-1000000}"
cargo build --release --quiet
bin="$PWD/target/release/kaohe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
rate() { python3 -c "print(f'{$1 / ($3 - $2):,.0f}')"; }
ratio() { python3 -c "print(f'{($2 - $1) / ($4 - $3):.2f}')"; }

# About seven cases in ten are rated: generate enough cases, keep the first N ratings.
cases=$((n * 10 / 7 + 1000))
t0=$(now); "$bin" gen --cadres 2000 --cases "$cases" --seed 1 --out "$work/files" >/dev/null; t1=$(now)
echo "gen --cases $cases: $(secs "$t0" "$t1") s"
head -n "$((n + 1))" "$work/files/ratings.csv" >"$work/ratings.csv"
rows=$(($(wc -l <"$work/ratings.csv") - 1))

db="sqlite://$work/kaohe.db"
for t in units cadres calendar; do
    "$bin" import "$t" "$work/files/$t.csv" --database-url "$db" >/dev/null
done
a=$(now); "$bin" import cases "$work/files/service_cases.csv" --database-url "$db" >/dev/null; b=$(now)
echo "kaohe import cases ($cases, not compared): $(secs "$a" "$b") s"

a=$(now)
RUST_LOG=kaohe=debug,kaohe_store=debug "$bin" import ratings "$work/ratings.csv" --database-url "$db" \
    >/dev/null 2>"$work/stages.log"
b=$(now)
tail -n +2 "$work/ratings.csv" >"$work/ratings-noheader.csv"
c=$(now)
sqlite3 "$work/baseline.db" >/dev/null <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE ratings (case_id TEXT, level TEXT, tags TEXT, comment TEXT, channel TEXT, real_name TEXT, contact TEXT, rated_at TEXT);
.mode csv
.import $work/ratings-noheader.csv ratings
SQL
d=$(now)
echo "sqlite kaohe import ratings ($rows): $(secs "$a" "$b") s ($(rate "$rows" "$a" "$b") rows/s) | sqlite3 .import: $(secs "$c" "$d") s ($(rate "$rows" "$c" "$d") rows/s) | ratio $(ratio "$a" "$b" "$c" "$d")"
echo "kaohe's stages, each timed on its own:"
sed 's/\x1b\[[0-9;]*m//g' "$work/stages.log" | grep -E 'file read|looked up|rules applied|inserted|indexes built|committed' |
    sed -E 's/^.*DEBUG [a-z_:]+: /  /'
