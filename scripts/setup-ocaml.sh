#!/usr/bin/env bash
# Finds or builds the OCaml >= 5.1 toolchain this project needs and prints its bin/ directory.
#
# Order: an OCaml >= 5.1 already on PATH wins; otherwise OCaml $OCAML_VERSION is built once from
# the npm registry's source package (`ocaml@X`) into a per-user cache outside the repo, so later
# runs (and CI on the same machine) reuse it. Debian's OCaml 4.13 is too old for ocaml-interop 0.12.
#
# A build goes to a temporary prefix and is renamed into place only once `make install` succeeded,
# so an interrupted build never leaves a toolchain that later runs would trust.
set -euo pipefail

OCAML_VERSION="${OCAML_VERSION:?OCAML_VERSION must be set (the Makefile pins it)}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/bounded-queues"
PREFIX="$CACHE_ROOT/ocaml-$OCAML_VERSION"

log() { printf '[setup-ocaml] %s\n' "$*" >&2; }

version_ok() { # $1 = path to ocamlopt
  local v
  v="$("$1" -version 2>/dev/null)" || return 1
  local major="${v%%.*}" rest="${v#*.}"
  local minor="${rest%%.*}"
  [ "$major" -gt 5 ] || { [ "$major" -eq 5 ] && [ "$minor" -ge 1 ]; }
}

if [ -x "$PREFIX/bin/ocamlopt" ] && [ -f "$PREFIX/.complete" ] && version_ok "$PREFIX/bin/ocamlopt"; then
  echo "$PREFIX/bin"; exit 0
fi
if onpath="$(command -v ocamlopt 2>/dev/null)" && version_ok "$onpath"; then
  log "using $("$onpath" -version) from $(dirname "$onpath")"
  dirname "$onpath"; exit 0
fi

for tool in npm tar make cc; do
  command -v "$tool" >/dev/null || { log "error: '$tool' is needed to build OCaml $OCAML_VERSION; install it (apt-get install $tool)"; exit 1; }
done

log "no OCaml >= 5.1 found; building OCaml $OCAML_VERSION into $PREFIX"
log "this happens once per machine and takes about 8 minutes on 2 cores"
mkdir -p "$CACHE_ROOT"
work="$(mktemp -d "$CACHE_ROOT/build.XXXXXX")"
staging="$CACHE_ROOT/.staging-ocaml-$OCAML_VERSION.$$"
cleanup() { rm -rf "$work" "$staging"; }
trap cleanup EXIT

( cd "$work" && npm pack --silent "ocaml@$OCAML_VERSION" >/dev/null ) \
  || { log "error: 'npm pack ocaml@$OCAML_VERSION' failed; is the npm registry reachable?"; exit 1; }
tar -xzf "$work"/ocaml-*.tgz -C "$work"
src="$work/package"
[ -x "$src/configure" ] || { log "error: the npm package has no configure script at $src"; exit 1; }

buildlog="$CACHE_ROOT/build-ocaml-$OCAML_VERSION.log"
log "configure + make -j$(nproc) + make install (log: $buildlog)"
(
  cd "$src"
  # The final prefix is baked into the compiler (it finds its stdlib there), so configure with it,
  # but install into a staging directory via DESTDIR and move it in place only when complete.
  ./configure --prefix="$PREFIX" --disable-ocamldoc --disable-debugger --disable-ocamltest
  make -j"$(nproc)"
  make install DESTDIR="$staging"
) >"$buildlog" 2>&1 || { log "error: the OCaml build failed; see $buildlog"; exit 1; }

rm -rf "$PREFIX"
mv "$staging$PREFIX" "$PREFIX"
touch "$PREFIX/.complete"
version_ok "$PREFIX/bin/ocamlopt" || { log "error: built ocamlopt does not report version >= 5.1"; exit 1; }
log "installed $("$PREFIX/bin/ocamlopt" -version) in $PREFIX"
echo "$PREFIX/bin"
