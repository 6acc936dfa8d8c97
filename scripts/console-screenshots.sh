#!/usr/bin/env bash
# Takes the README's console pictures with the product's own flags: the console offscreen under
# load from oee-bench (default-like venue latencies, 5 % venue failures, so lanes, retries,
# queue depth, venue statistics and the audit trail have something to show), at 1280×800 (its
# minimum) and 1920×1080, light and dark. Usage: scripts/console-screenshots.sh [out-dir]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
./oee.sh build >/dev/null
out=${1:-docs}
mkdir -p "$out"
shoot() { # size palette file tab
    local size=$1 palette=$2 file=$3 tab=$4 port=3990
    local data
    data=$(mktemp -d)
    QT_QPA_PLATFORM=offscreen OEE_DATA_DIR="$data" MAX_CONCURRENT_ORDERS=300 MAX_ORDERS_PER_MINUTE=0 \
        DEX_QUOTE_LATENCY_MS=200 DEX_EXECUTION_LATENCY_MS=800-3000 DEX_FAILURE_RATE=0.05 \
        RETRY_BACKOFF_MS=500 QT_LOGGING_RULES='oee.*.info=false' OEE_CONSOLE_TAB="$tab" \
        build/app/oee --port $port --window-size "$size" --palette "$palette" \
        --screenshot "$out/$file" --screenshot-after-ms 30000 &
    local pid=$!
    for _ in $(seq 1 300); do curl -sf localhost:$port/health >/dev/null 2>&1 && break; sleep 0.2; done
    # Operator actions, so the audit trail and the controls show them.
    curl -sf -XPOST localhost:$port/api/control/venues/raydium -d '{"routing":false}' >/dev/null
    curl -sf -XPOST localhost:$port/api/control/venues/raydium -d '{"routing":true}' >/dev/null
    curl -sf -XPOST localhost:$port/api/orders/execute -H 'Content-Type: application/json' \
        -d '{"orderType":"limit","tokenIn":"SOL","tokenOut":"USDC","amount":2,"limitPrice":"150.2"}' >/dev/null
    build/bench/oee-bench --url http://127.0.0.1:$port --rate 40 --duration 26 --connections 8 >/dev/null 2>&1 &
    local bench=$!
    wait "$pid"
    kill "$bench" 2>/dev/null || true
    wait "$bench" 2>/dev/null || true
    rm -rf "$data"
    echo "saved $out/$file"
}
shoot 1280x800 light console-1280x800.png 0
shoot 1920x1080 dark console-1920x1080-dark.png 2
