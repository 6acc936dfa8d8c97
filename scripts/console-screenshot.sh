#!/usr/bin/env bash
# Takes docs/console.png: the console (offscreen) under load from oee-bench, default-like
# venue latencies and a 5 % venue failure rate, so lanes, retries and queue depth show.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
./oee.sh build >/dev/null
data=$(mktemp -d)
out=${1:-docs/console.png}
QT_QPA_PLATFORM=offscreen OEE_DATA_DIR="$data" MAX_CONCURRENT_ORDERS=300 MAX_ORDERS_PER_MINUTE=0 \
    DEX_QUOTE_LATENCY_MS=200 DEX_EXECUTION_LATENCY_MS=800-3000 DEX_FAILURE_RATE=0.05 \
    RETRY_BACKOFF_MS=500 QT_LOGGING_RULES='oee.*.info=false' \
    build/app/oee --port 3999 --screenshot "$out" --screenshot-after-ms 40000 &
pid=$!
for _ in $(seq 1 300); do curl -sf localhost:3999/health >/dev/null 2>&1 && break; sleep 0.2; done
build/bench/oee-bench --url http://127.0.0.1:3999 --rate 60 --duration 36 --connections 8 >/dev/null 2>&1 &
bench=$!
wait "$pid"
kill "$bench" 2>/dev/null || true
rm -rf "$data"
echo "saved $out"
