#!/usr/bin/env bash
# Writes the book's figures and tables into OUT (book/src/generated, not committed) from the
# committed results and docs, so the book never holds a figure typed in by hand:
#   - the plots (*.svg) of the canonical runs, copied, with their narrow (phone) and column
#     variants, which the reports draw beside them;
#   - sections of their summary.md (which `bqh report` draws from runs.csv, env.json and
#     shutdown.csv), cut at their headings;
#   - sections of docs/bench.md (the `make bench` figures) and docs/validate.md (the mutants);
#   - one line per run saying on which machine, when and with what command it was measured.
# The runs are named once, here. A section that is missing is an error: the book would
# otherwise show a hole.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/book-data.sh OUT}"

# The paired run (ratios to crossbeam) that `make compare` makes now, and the earlier run whose
# absolute throughput per capacity, latencies, CPU and blocking tables it does not repeat.
COMPARE_PAIRED=results/2026-12-03-epyc-2core
COMPARE=results/2026-11-23-epyc-2core
SCALE=results/2026-11-23-epyc-2core-scale
SHUTDOWN=results/2026-11-23-epyc-2core-shutdown
MEMORY=results/2026-11-23-epyc-2core-memory
STRATEGIES=results/2026-11-23-epyc-2core-strategies
ASYNC=results/2026-11-23-epyc-2core-async

# Replaces only a folder this script made (its marker .book-data), never another one.
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && [ ! -f "$out/.book-data" ]; then
  echo "book-data: $out exists and was not written by this script (no .book-data in it); choose another folder" >&2
  exit 2
fi
rm -rf "$out"
mkdir -p "$out"
touch "$out/.book-data"
mkdir -p "$out/figures/compare-paired" "$out/figures/compare" "$out/figures/scale" "$out/figures/memory" "$out/figures/strategies" "$out/figures/async"
cd "$root"

# section FILE HEADING...: the body under the first heading, then within it under the next
# one, ...; the body ends at the next heading of the same or a higher level. The heading
# lines themselves are left out (the chapter has its own).
section() {
  local file="$1"; shift
  local text; text="$(cat "$file")"
  for h in "$@"; do
    # A here-string, not a pipe: awk stops reading at the section's end, which would kill a
    # writer with SIGPIPE (and fail this under pipefail) once the summary outgrows a pipe buffer.
    text="$(awk -v h="$h" '
      function level(s) { match(s, /^#+/); return RLENGTH }
      !found && $0 == h { found = 1; lvl = level($0); next }
      found && /^#+ / && level($0) <= lvl { exit }
      found { print }
      END { if (!found) exit 3 }' <<< "$text")" || { echo "book-data: no heading '$h' in $file" >&2; exit 1; }
  done
  printf '%s\n' "$text"
}

# machine DIR: where and when a run was measured, from its env.json.
machine() {
  local env="$1/env.json"
  [ -f "$env" ] || { echo "book-data: no $env: is $1 a results folder?" >&2; exit 1; }
  field() { sed -n "s/^  \"$1\": \"\\(.*\\)\",\$/\\1/p" "$env" | head -1; }
  local cores; cores="$(sed -n 's/^  "cores": \([0-9]*\),$/\1/p' "$env")"
  printf 'Measured on %s (%s cores), Linux %s, %s, with %s, OCaml %s and %s, at commit `%s`, by `%s`. The data: `%s/` in the repository.\n' \
    "$(field cpu_model)" "$cores" "$(field kernel)" "$(field date_utc)" "$(field rustc)" "$(field ocamlopt)" \
    "$(field cc)" "$(field git_commit)" "$(field command)" "$1"
}

# columns NAMES < TABLE: each markdown table keeps its first column and the columns whose
# header is one of NAMES (space-separated), in their order; text outside tables is kept. A
# chapter shows the implementations it discusses; the appendix has the full tables.
columns() {
  awk -v names="$1" '
    BEGIN { n = split(names, want, " ") }
    /^\|/ {
      m = split($0, cell, /[ ]*\|[ ]*/)        # cell[1] and cell[m] are the empty ends
      if (!intable) {                          # a header row: which columns to keep
        intable = 1; keep = "2"
        for (w = 1; w <= n; w++) for (c = 3; c < m; c++) if (cell[c] == want[w]) keep = keep " " c
        k = split(keep, idx, " ")
      }
      line = "|"
      for (j = 1; j <= k; j++) line = line " " cell[idx[j]] " |"
      print line; next
    }
    { intable = 0; print }'
}
# rows PATTERN < TABLE: each table keeps its header and the rows whose first cell matches the
# extended regular expression PATTERN.
rows() {
  awk -v pat="$1" '
    /^\|/ {
      if (!intable) { intable = 1; hdr = 2 }
      if (hdr > 0) { hdr--; print; next }
      split($0, cell, /[ ]*\|[ ]*/); if (cell[2] ~ pat) print; next
    }
    { intable = 0; print }'
}

cp "$COMPARE_PAIRED"/*.svg "$out/figures/compare-paired/"
cp "$COMPARE"/*.svg "$out/figures/compare/"
cp "$SCALE"/*.svg "$out/figures/scale/"
cp "$MEMORY"/*.svg "$out/figures/memory/"
cp "$STRATEGIES"/*.svg "$out/figures/strategies/"
cp "$ASYNC"/*.svg "$out/figures/async/"

machine "$COMPARE_PAIRED" > "$out/machine-compare-paired.md"
machine "$COMPARE" > "$out/machine-compare.md"
machine "$SCALE" > "$out/machine-scale.md"
machine "$SHUTDOWN" > "$out/machine-shutdown.md"
machine "$MEMORY" > "$out/machine-memory.md"
machine "$STRATEGIES" > "$out/machine-strategies.md"
machine "$ASYNC" > "$out/machine-async.md"

S="$COMPARE/summary.md"
section "$S" "## Reading" > "$out/compare-reading.md"
section "$S" "## Throughput (million items per second)" > "$out/compare-throughput.md"
section "$S" "## Share of the lock-free ceiling" > "$out/compare-ceiling.md"
section "$S" "## Blocking (backpressure)" "### slow-consumer" > "$out/compare-blocking-slow-consumer.md"
section "$S" "## Blocking (backpressure)" "### fan-in" > "$out/compare-blocking-fan-in.md"
section "$S" "## Latency, push to pop (µs)" > "$out/compare-latency.md"
section "$S" "## CPU time per wall-clock second" "### fan-in" > "$out/compare-cpu-fan-in.md"
section "$S" "## The cost of the boundary: native against driven" > "$out/compare-boundary.md"
section "$S" "## Shutdown semantics, observed" > "$out/compare-shutdown.md"

section "$SCALE/summary.md" "## Reading" > "$out/scale-reading.md"
section "$SCALE/summary.md" "## Nanoseconds per item" > "$out/scale-ns.md"

section "$MEMORY/summary.md" "## Reading" > "$out/memory-reading.md"
section "$MEMORY/summary.md" "## 1 MiB payloads" "### glibc: peak live payload / peak RSS, MiB" > "$out/memory-1mib-glibc.md"
# Chapter 1 (ch01-problem.md) compares the three versions of the book's design and std's channel with the bound.
rows '^(c-pthread|ocaml|rust-port|rust-sync-channel|bound .*)$' < "$out/memory-1mib-glibc.md" > "$out/memory-1mib-glibc-ch1.md"
section "$STRATEGIES/summary.md" "## Reading" > "$out/strategies-reading.md"
section "$ASYNC/summary.md" "## Reading" > "$out/async-reading.md"

section "$SHUTDOWN/summary.md" "## Shutdown in each language's own terms" > "$out/shutdown-native.md"
# Chapter 5 (ch05-shutdown.md) discusses one implementation per way of closing; the appendix has all ten.
ch4="c-pthread ocaml rust-port rust-sync-channel tokio"
columns "$ch4" < "$out/compare-shutdown.md" > "$out/compare-shutdown-ch4.md"
columns "$ch4" < "$out/shutdown-native.md" > "$out/shutdown-native-ch4.md"

section docs/bench.md "## The cost of the boundary (ns per call)" > "$out/bench-boundary.md"
section docs/bench.md "## OCaml: what was tried, and batching" > "$out/bench-ocaml.md"
section docs/bench.md "## Fidelity: does the harness distort what it measures?" > "$out/bench-fidelity.md"
section docs/validate.md "## Proof that the checks bite: the mutants" > "$out/validate-mutants.md"
section docs/validate.md "## The checks" > "$out/validate-checks.md"
# Chapter 4 (ch04-waiting.md) shows the mutants' table; how they are built (developer material) is in the appendix.
awk '/^\|/ { t = 1; print; next } t { exit }' "$out/validate-mutants.md" > "$out/validate-mutants-table.md"

# The generated text was written for the results folders and docs/, where "see Runs" or "the
# README" lead somewhere; in the book they would lead nowhere. Each is rewritten to a place
# the reader can reach (harness checks in book-check that every link resolves).
sed -i \
  -e 's/(see Stability)/(the run'"'"'s `summary.md` in the repository lists them, section "Stability")/' \
  -e 's/(see Runs)/(listed in the run'"'"'s `summary.md`, section "Runs")/' \
  -e 's/A failure comes with a timeline picture (below)\./A failure comes with a timeline picture: one lane per thread, each call drawn from its invocation to its return./' \
  -e 's/(see the README'"'"'s porting notes)/([chapter 7](ch07-figures.md#throughput) measures what it costs)/' \
  -e 's/but linearizability: see the README)/but linearizability: see [the note on tokio](appendix-developer.md#tokio-and-linearizability))/' \
  "$out"/*.md
for stale in '(see Stability)' '(see Runs)' 'picture (below)' "README's porting notes"; do
  ! grep -lF "$stale" "$out"/*.md || { echo "book-data: '$stale' is left in the generated text above" >&2; exit 1; }
done

# The OCaml highlighting the book adds to mdBook's highlight.js is the vendored file it says it
# is (book/theme/ocaml-highlight.js: highlight.js 10.1.1's OCaml, from the npm registry).
vendored="$(sed -n '/^\/\/ VENDORED: highlight/,/^\/\/ VENDORED: end/p' book/theme/ocaml-highlight.js | sed '1d;$d' | sha256sum | cut -d' ' -f1)"
[ "$vendored" = 3a6bfe79d5aa20eb2a96efd6669e5199efe51ce9c51e314f341e511a5235e9fd ] \
  || { echo "book-data: book/theme/ocaml-highlight.js: the vendored OCaml definition changed (sha256 $vendored)" >&2; exit 1; }

# Every listing's anchor exists (mdbook would silently include nothing for a missing one;
# harness/tests/book.rs checks the same, and more, in make test).
cd "$root/book/src"
missing=0
while IFS= read -r inc; do
  path="${inc%%:*}"; anchor="${inc#*:}"
  [ -f "$path" ] || { echo "book-data: the book includes $path, which does not exist" >&2; missing=1; continue; }
  [ "$anchor" = "$inc" ] && continue
  case "$anchor" in [0-9]*) continue ;; esac
  grep -Eq "ANCHOR: $anchor( |$)" "$path" && grep -Eq "ANCHOR_END: $anchor( |$)" "$path" \
    || { echo "book-data: $path has no ANCHOR/ANCHOR_END '$anchor', which the book includes" >&2; missing=1; }
done < <(grep -ho '{{#include \.\./[^}]*}}' ./*.md | sed 's/{{#include //; s/}}$//' | sort -u)
exit "$missing"
