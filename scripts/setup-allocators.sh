#!/bin/sh
# The allocators `bqh memory` preloads (LD_PRELOAD) into its child processes: Debian's
# libjemalloc2 and libmimalloc2.0. Idempotent: apt-get runs only when a library is missing.
set -eu
missing=""
for pkg in libjemalloc2 libmimalloc2.0; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
if [ -z "$missing" ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "[setup] cannot install$missing: no apt-get; install them with your package manager (bqh memory needs them for its jemalloc and mimalloc runs)" >&2
    exit 1
fi
echo "[setup] installing$missing (allocators for make memory)" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >&2
