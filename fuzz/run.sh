#!/usr/bin/env bash
# Builds the fuzz targets with clang and runs each for SECONDS (default 600) over the corpus.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
seconds=${1:-600}
cmake -S fuzz -B build/fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j2
for t in orderrequest event; do
    work=$(mktemp -d)
    cp fuzz/corpus/$t/* "$work/"
    build/fuzz/fuzz_$t -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$work" fuzz/corpus/$t
    rm -rf "$work"
done
