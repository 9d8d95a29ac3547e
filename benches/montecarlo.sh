#!/usr/bin/env bash
# Monte Carlo benchmark: 1,000 draws over PEOPLE (default 100,000) × 60 indicators.
# (a) end to end through the command line: `kaohe gen --indicators 60`, then
#     `kaohe assess --draws 1000` (read, assess, the draws, write);
# (b) the engine alone: `monte_carlo()` on the same shape (crates/engine/examples/mc_timing.rs).
# Target: under 10 s on 2 cores.
#
# Usage: benches/montecarlo.sh [PEOPLE] [DRAWS]
set -euo pipefail
cd "$(dirname "$0")/.."
export RUST_LOG=warn
n="${1:-100000}"
draws="${2:-1000}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet
cargo build --release --quiet -p kaohe-engine --example mc_timing
bin="$target/release/kaohe"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

"$bin" gen --cadres "$n" --indicators 60 --seed 1 --out "$work" >/dev/null
a=$(now)
"$bin" assess --framework "$work/framework.toml" --data "$work/values.csv" \
  --draws "$draws" --seed 1 --out "$work/R.csv" >/dev/null
b=$(now)
a0=$(now)
"$bin" assess --framework "$work/framework.toml" --data "$work/values.csv" --out "$work/R0.csv" >/dev/null
b0=$(now)
echo "kaohe assess --draws $draws ($n people × 60 indicators, end to end): $(secs "$a" "$b") s (without draws: $(secs "$a0" "$b0") s)"
echo "engine alone (mc_timing example, $n people × 60 indicators × $draws draws):"
"$target/release/examples/mc_timing" "$n" "$draws" 0 | sed 's/^/  /'
