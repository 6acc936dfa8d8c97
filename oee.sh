#!/usr/bin/env bash
# oee — one entry point on a fresh Debian 12 machine.
#   ./oee.sh [oee options]   install what is missing, build, run oee
#                            (the console where a display exists, else headless --server)
#   ./oee.sh test            install what is missing, build, run the whole test suite
#   ./oee.sh build           install what is missing, build only
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

PACKAGES=(
    cmake g++ make pkg-config ccache curl
    qt6-base-dev qt6-httpserver-dev qt6-websockets-dev libqt6sql6-psql
    libhiredis-dev redis-server postgresql
    clang libclang-rt-14-dev
    qt6-declarative-dev qt6-charts-dev libqt6opengl6-dev fonts-dejavu-core
    qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-templates
    qml6-module-qtquick-layouts qml6-module-qtquick-window qml6-module-qtcharts
    qml6-module-qtqml qml6-module-qtqml-models qml6-module-qtqml-workerscript
)

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "oee.sh: installing ${missing[*]}" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The test suite also runs third-party tools from npm (Jupiter's @jup-ag/api against /quote;
# Redocly's CLI and Ajv against /api/openapi.json):
# Node.js from the machine or Debian, the client pinned by its package-lock.json. Development
# only: neither the build nor the product needs npm.
install_test_clients() {
    if ! command -v npm >/dev/null 2>&1; then
        PACKAGES=(nodejs npm)
        install_missing
    fi
    for dir in tests/clients/*/; do
        [ -f "$dir/package-lock.json" ] || continue
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
    done
}

# Test-only tools from Debian: promtool and prometheus (tst_api lints /metrics and has a real
# Prometheus scrape it).
install_test_tools() {
    PACKAGES=(prometheus clang-format)
    install_missing
}

# The tree is formatted by the checked-in .clang-format (Debian's clang-format 14); CI fails on
# a file that is not.
check_format() {
    git ls-files -z '*.cpp' '*.h' | xargs -0 clang-format --dry-run --Werror
}

# The suite again under AddressSanitizer + UndefinedBehaviorSanitizer (OEE_SANITIZE), in its
# own build directory: any report fails a test (tests/CMakeLists.txt sets the sanitizers'
# options; one Qt 6.4 leak is suppressed in tests/sanitizer/lsan.supp). Without the console
# (not tried under ASan) and the slow tests, which the plain build above runs; the fuzzers
# have their own sanitizers.
sanitized() {
    # -O1 -g1 (line tables only): ASan's stacks keep their file:line, with less to compile
    # and link than -O2 -g.
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
        -DOEE_SANITIZE=ON -DOEE_BUILD_CONSOLE=OFF -DOEE_WERROR=ON >/dev/null
    cmake --build build-asan -j2
    ctest --test-dir build-asan --output-on-failure --timeout 900 -j2 -LE slow
}

build() {
    # Warnings are errors here (and so in CI, which runs `./oee.sh test`): the warning set is
    # the oee_warnings target's (CMakeLists.txt).
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOEE_WERROR=ON >/dev/null
    cmake --build build -j2
}

case "${1:-}" in
test)
    install_missing
    install_test_clients
    install_test_tools
    check_format
    build
    ctest --test-dir build --output-on-failure --timeout 900 -j2
    sanitized
    ;;
build)
    install_missing
    build
    ;;
*)
    install_missing
    build
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        exec build/app/oee "$@"
    else
        exec build/app/oee --server "$@"
    fi
    ;;
esac
