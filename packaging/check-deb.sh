#!/usr/bin/env bash
# Builds the .deb with CPack in BUILD_DIR and checks what it installs and depends on.
set -euo pipefail
build=${1:?build directory}
cd "$build"
rm -f oee_*.deb
cpack -G DEB >/dev/null
deb=$(ls oee_*.deb)
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/oee ./usr/share/applications/oee.desktop ./usr/lib/systemd/system/oee.service \
         ./usr/share/icons/hicolor/scalable/apps/oee.svg; do
    grep -q " $f\$" <<<"$contents" || { echo "missing from $deb: $f"; exit 1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
for d in redis-server postgresql libqt6sql6-psql qml6-module-qtcharts; do
    grep -q "$d" <<<"$depends" || { echo "$deb does not depend on $d"; exit 1; }
done
echo "$deb: binary, desktop entry, icon, systemd unit; depends on $depends"
