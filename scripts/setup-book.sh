#!/usr/bin/env bash
# Installs what the book needs and prints the mdbook binary's path:
#   - mdbook $MDBOOK_VERSION (pinned in the Makefile), built once with `cargo install --locked`
#     into the per-user cache beside OCaml (~/.cache/bounded-queues/mdbook-X), like
#     scripts/setup-ocaml.sh: installed into a staging folder and renamed into place only when
#     complete (a `.complete` marker), so an interrupted install is never trusted;
#   - Debian's `chromium` for `make book-check`, with apt-get, when there is none on PATH
#     (BOOK_NO_CHROMIUM=1 skips it, for `make book` alone).
# Fast when both are there: two file tests and a `command -v`.
set -euo pipefail

MDBOOK_VERSION="${MDBOOK_VERSION:?MDBOOK_VERSION must be set (the Makefile pins it)}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/bounded-queues"
PREFIX="$CACHE_ROOT/mdbook-$MDBOOK_VERSION"
CARGO="${CARGO:-cargo}"

log() { printf '[setup-book] %s\n' "$*" >&2; }

mdbook_ok() {
  [ -f "$PREFIX/.complete" ] && [ -x "$PREFIX/bin/mdbook" ] \
    && [ "$("$PREFIX/bin/mdbook" --version 2>/dev/null)" = "mdbook v$MDBOOK_VERSION" ]
}

if ! mdbook_ok; then
  command -v "$CARGO" >/dev/null || { log "error: cargo is needed to install mdbook; install Rust (rustup)"; exit 1; }
  log "installing mdbook $MDBOOK_VERSION into $PREFIX (once per machine; several minutes on 2 cores)"
  mkdir -p "$CACHE_ROOT"
  staging="$CACHE_ROOT/.staging-mdbook-$MDBOOK_VERSION.$$"
  build="$(mktemp -d "$CACHE_ROOT/build-mdbook.XXXXXX")"
  trap 'rm -rf "$staging" "$build"' EXIT
  installlog="$CACHE_ROOT/install-mdbook-$MDBOOK_VERSION.log"
  # Only the HTML renderer with search: `serve` and `watch` would add a web server (tokio, axum)
  # and minutes of compiling for features `make book` does not use. Built outside any project
  # (its own target folder, no CARGO_TARGET_DIR, no project .cargo/config.toml).
  ( cd "$build" && env -u CARGO_TARGET_DIR CARGO_TARGET_DIR="$build/target" \
      "$CARGO" install --locked mdbook --version "=$MDBOOK_VERSION" --root "$staging" \
      --no-default-features --features search ) >"$installlog" 2>&1 \
    || { log "error: 'cargo install mdbook $MDBOOK_VERSION' failed; is crates.io reachable? see $installlog"; exit 1; }
  [ "$("$staging/bin/mdbook" --version)" = "mdbook v$MDBOOK_VERSION" ] \
    || { log "error: the installed mdbook does not report version $MDBOOK_VERSION"; exit 1; }
  rm -rf "$PREFIX"
  mv "$staging" "$PREFIX"
  touch "$PREFIX/.complete"
  log "installed $("$PREFIX/bin/mdbook" --version) in $PREFIX"
fi

if [ -z "${BOOK_NO_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  command -v apt-get >/dev/null || { log "error: no chromium on PATH and no apt-get to install it; install Chromium so that 'chromium' runs"; exit 1; }
  [ "$(id -u)" = 0 ] || { log "error: no chromium on PATH; run 'sudo apt-get install chromium' (or make setup as root)"; exit 1; }
  log "installing Debian's chromium for make book-check (apt-get, once per machine)"
  export DEBIAN_FRONTEND=noninteractive
  aptlog="$CACHE_ROOT/install-chromium.log"
  mkdir -p "$CACHE_ROOT"
  # A fresh machine has no package lists yet: update first when the install cannot find it.
  { apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium \
      || { apt-get update -q -o DPkg::Lock::Timeout=600 && apt-get install -y -q -o DPkg::Lock::Timeout=600 chromium; }; } \
    >"$aptlog" 2>&1 || { log "error: 'apt-get install chromium' failed; see $aptlog"; exit 1; }
  command -v chromium >/dev/null || { log "error: chromium installed but not on PATH; see $aptlog"; exit 1; }
  log "installed $(chromium --version 2>/dev/null || echo chromium)"
fi

echo "$PREFIX/bin/mdbook"
