#!/usr/bin/env bash
# Rating intake benchmark: sustained POST /api/v1/ratings on SQLite beside GET /healthz of the
# same server, in one invocation, with wrk (Debian's package) at CONNECTIONS connections for
# SECONDS each. Every rating rates another case (one rating per case), and each is acknowledged
# only once committed (group commit, synchronous = FULL). Prints both throughputs, the ratio
# ratings / healthz, and the p99 latency of each. Bars of issue #5: ratio ≥ 0.5, p99 < 50 ms at
# 256 connections.
#
# Usage: benches/ratings_intake.sh [SECONDS] [CONNECTIONS]   (default 10 256)
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG=warn
secs="${1:-10}"
conns="${2:-256}"
threads=2
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
bin="$target/release/kaohe"
command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
work="$(mktemp -d)"
url="sqlite://$work/bench.db"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$bin" gen --cadres 50 --seed 1 --out "$work/org" >/dev/null
"$bin" import units "$work/org/units.csv" --database-url "$url" >/dev/null
unit=$(awk -F, 'NR==2 {print $1}' "$work/org/units.csv" | tr -d '\r\357\273\277')
echo "Bench-Portal-2026" | "$bin" user add bench_portal --role service_system --database-url "$url" >/dev/null
token=$("$bin" token issue bench_portal --database-url "$url" | grep '^kh_')

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --listen "127.0.0.1:$port" --database-url "$url" >/dev/null &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

# Enough cases for the run: a generous upper bound of the rate times the duration.
cases=$((secs * 25000))
python3 benches/push_cases.py "$base" "$token" "$unit" "$cases"
echo "pushed $cases cases to unit $unit"

run() { wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$@"; }
rps() { awk '/^Requests\/sec/ {print $2}'; }
p99() { awk '$1 == "99%" {print $2}'; }
ms() { python3 -c "v='$1'; u=v.lstrip('0123456789.'); x=float(v[:len(v)-len(u)]); print({'us':x/1000,'ms':x,'s':x*1000}[u])"; }

health=$(run "$base/healthz")
ratings=$(KAOHE_TOKEN="$token" KAOHE_THREADS="$threads" run -s benches/ratings_intake.lua "$base/api/v1/ratings")
echo "$ratings" | grep -q 'Non-2xx' && { echo "$ratings"; echo "some ratings were refused (too few cases?)"; exit 1; }
h=$(rps <<<"$health"); r=$(rps <<<"$ratings")
hp=$(ms "$(p99 <<<"$health")"); rp=$(ms "$(p99 <<<"$ratings")")
stored=$(python3 -c "import sqlite3; print(sqlite3.connect('$work/bench.db').execute('select count(*) from ratings').fetchone()[0])")
echo "GET /healthz:          $h requests/s, p99 $hp ms ($conns connections, ${secs} s)"
echo "POST /api/v1/ratings:  $r ratings/s, p99 $rp ms ($stored ratings stored)"
echo "ratio ratings / healthz: $(python3 -c "print(f'{$r / $h:.2f}')")"
