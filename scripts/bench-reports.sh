#!/usr/bin/env bash
# Reports benchmark (issue 9): all monthly documents of the 19 lots and the national summary
# at national scale (a year of synthetic feeds, scale 1.0), timed against the 30 s target.
# The indicator runs the documents show are computed first, apart (they are `cep compute`'s
# work, measured by `cep bench indicators`).
#
#   scripts/bench-reports.sh [CEP_BINARY]
#
# About 5 minutes on 2 cores (generation 15 s, ingestion 3 min, four indicator runs 1.5 min).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cep="${1:-$target/release/cep}"
[ -x "$cep" ] || cargo build --release --bin cep
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CEP_DATA_DIR="$work/data" CEP_LOG=warn
unset CEP_DATABASE_URL CEP_CONFIG
"$cep" synth --out "$work/feeds" --seed 1 --start 2025-01 --months 12 --scale 1.0
for k in operators purchase-orders surveys mystery-contacts deliverable-controls populations; do
    "$cep" import "$k" "$work/feeds/buyer/$k.csv" >/dev/null
done
"$cep" ingest "$work/feeds/inbox" | tail -1
cutoff=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%S+00:00)
for m in 2025-12 2025-11 2025-10 2024-12; do
    "$cep" compute --month "$m" --cutoff "$cutoff" | head -1
done
for i in 1 2 3; do
    rm -rf "$work/out"
    start=$(date +%s.%N)
    "$cep" report --month 2025-12 --cutoff "$cutoff" --out "$work/out" >/dev/null
    end=$(date +%s.%N)
    echo "run $i: $(ls "$work/out" | wc -l) documents in $(echo "$end - $start" | bc) s (target: under 30 s)"
done
echo "== reproduce: scripts/bench-reports.sh $cep"
