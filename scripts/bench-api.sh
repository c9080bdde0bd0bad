#!/usr/bin/env bash
# API load benchmark (issue 8): indicator reads at 100 concurrent connections against a
# release `cep serve` on loopback, with wrk (Debian package `wrk`). Prints throughput and
# latency percentiles, and the command that gave them.
#
#   scripts/bench-api.sh [CEP_BINARY] [DURATION_SECONDS]
#
# CEP_BINARY defaults to the release build ($CARGO_TARGET_DIR or target/)/release/cep, built
# if missing (about 25 minutes from nothing). The store is the demo's (embedded SQLite), made
# fresh in a temporary folder; the rate limit is turned off (one client address).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
cep="${1:-$target/release/cep}"
duration="${2:-20}"
if [ ! -x "$cep" ]; then
    cargo build --release --bin cep
fi
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
export CEP_DATA_DIR="$work/data"
"$cep" demo >"$work/demo.log"
export CEP_DATABASE_URL="sqlite://$CEP_DATA_DIR/demo/cep.db"
cat >"$work/cep.toml" <<TOML
[api]
jwt_secret = "benchmark-secret-of-at-least-32-bytes"
rate_limit_per_second = 0
TOML
export CEP_CONFIG="$work/cep.toml" CEP_LOG=warn
echo 'a long enough password' | "$cep" user add bench --role analyst >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$cep" serve --bind "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done
token=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"username":"bench","password":"a long enough password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
url="http://127.0.0.1:$port/api/v1/indicators?period=2025-03&code=1.2"
# Warm-up (first reads fill the caches), then the measured run.
wrk -t2 -c100 -d2s -H "Authorization: Bearer $token" "$url" >/dev/null
echo "== wrk -t2 -c100 -d${duration}s --latency -H 'Authorization: Bearer …' '$url'"
wrk -t2 -c100 -d"${duration}s" --latency -H "Authorization: Bearer $token" "$url" | tee "$work/wrk.txt"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$url")
echo "== a request after the run answers $status"
echo "== reproduce: scripts/bench-api.sh $cep $duration"
