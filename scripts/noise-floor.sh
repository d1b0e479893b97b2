#!/usr/bin/env bash
# What this machine can resolve, outside the harness: builds scripts/noise-floor.c into target/
# and runs it (about 10 s). Needs two CPUs. See docs/measurement.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$root/target"
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$root/target/noise-floor" "$root/scripts/noise-floor.c" -lpthread
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') ($(nproc) CPUs), $(date -u +%Y-%m-%dT%H:%MZ)"
"$root/target/noise-floor"
