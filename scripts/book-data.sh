#!/usr/bin/env bash
# Writes the book's figures and tables into OUT (book/src/generated, not committed) from the
# committed results and docs, so the book never holds a figure typed in by hand:
#   - the plots (*.svg) of the canonical run's studies, copied, with their narrow (phone) and
#     column variants, which the reports draw beside them;
#   - sections of their summary.md and observations.md (which `bqh report` draws from runs.csv,
#     env.json and shutdown.csv), cut at their headings, and the rows and columns a chapter
#     discusses;
#   - sections of docs/bench.md (the `make bench` figures) and docs/validate.md (the mutants);
#   - one line per study saying on which machine, when and with what command it was measured.
# The canonical run is named once, here: every study is a folder RUN-STUDY beside it. A section
# that is missing is an error: the book would otherwise show a hole.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/book-data.sh OUT}"

RUN=results/2026-12-07-xeon-2core
COMPARE=$RUN
CONSUMER_WORK=$RUN-consumer-work
SCALE=$RUN-scale
SHUTDOWN=$RUN-shutdown
MEMORY=$RUN-memory
STRATEGIES=$RUN-strategies
ASYNC=$RUN-async

# Replaces only a folder this script made (its marker .book-data), never another one.
if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && [ ! -f "$out/.book-data" ]; then
  echo "book-data: $out exists and was not written by this script (no .book-data in it); choose another folder" >&2
  exit 2
fi
rm -rf "$out"
mkdir -p "$out"
touch "$out/.book-data"
mkdir -p "$out/figures/compare" "$out/figures/consumer-work" "$out/figures/scale" "$out/figures/memory" "$out/figures/strategies" "$out/figures/async"
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
# header is one of NAMES (comma-separated, as headers hold spaces), in their order; text outside
# tables is kept. A chapter shows the implementations and measures it discusses; the appendix
# has the full tables.
columns() {
  awk -v names="$1" '
    BEGIN { n = split(names, want, ",") }
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
# rows PATTERN [N] < TABLE: each table keeps its header and the rows whose Nth cell (default
# the first) matches the extended regular expression PATTERN.
rows() {
  awk -v pat="$1" -v col="${2:-1}" '
    /^\|/ {
      if (!intable) { intable = 1; hdr = 2 }
      if (hdr > 0) { hdr--; print; next }
      split($0, cell, /[ ]*\|[ ]*/); if (cell[col + 1] ~ pat) print; next
    }
    { intable = 0; print }'
}
# tables < TEXT: only the markdown tables, without the text around them.
tables() { awk '/^\|/ { print; t = 1; next } t { print ""; t = 0 }'; }

cp "$COMPARE"/*.svg "$out/figures/compare/"
cp "$CONSUMER_WORK"/*.svg "$out/figures/consumer-work/"
cp "$SCALE"/*.svg "$out/figures/scale/"
cp "$MEMORY"/*.svg "$out/figures/memory/"
cp "$STRATEGIES"/*.svg "$out/figures/strategies/"
cp "$ASYNC"/*.svg "$out/figures/async/"

machine "$COMPARE" > "$out/machine-compare.md"
machine "$CONSUMER_WORK" > "$out/machine-consumer-work.md"
machine "$SCALE" > "$out/machine-scale.md"
machine "$SHUTDOWN" > "$out/machine-shutdown.md"
machine "$MEMORY" > "$out/machine-memory.md"
machine "$STRATEGIES" > "$out/machine-strategies.md"
machine "$ASYNC" > "$out/machine-async.md"

# The comparison's report, in its order: the verdict, the method and its A/A control, the
# ratio tables, the swap buffers, the slices with two modes, each language's own runners.
S="$COMPARE/summary.md"
V="## Which queue for a Rust program"
section "$S" "$V" > "$out/compare-verdict.md"
section "$S" "$V" "### Producers and consumers on CPUs of their own (cross-core)" > "$out/compare-verdict-cross-core.md"
section "$S" "$V" "### Every thread on one CPU (same-core)" > "$out/compare-verdict-same-core.md"
section "$S" "## How it was measured, and the A/A control" > "$out/compare-method.md"
# Chapter 7 (ch07-figures.md) reads the A/A table under its own words.
tables < "$out/compare-method.md" > "$out/compare-aa-table.md"
section "$S" "## Ratios to rust-sync-channel, cross-core, capacity 16" > "$out/compare-ratios-cross-core.md"
section "$S" "## Ratios to crossbeam, same-core, capacity 16" > "$out/compare-ratios-same-core.md"
section "$S" "## Swap buffers against their language's queue" > "$out/compare-swap.md"
section "$S" "## Slices with two modes" > "$out/compare-two-modes.md"
section "$S" "## Each language's own threads, and tokio's tasks" > "$out/compare-native.md"
# Chapter 6 (ch06-boundary.md) reads the C and OCaml runners where one thread or two do the
# work (seq, spsc in both placements); the appendix has every configuration and tokio's tasks.
rows '^(c-pthread|ocaml) \(native' < "$out/compare-native.md" | rows '^(seq|spsc) ' 2 | tables > "$out/compare-native-ch6.md"

# What one observation run per configuration saw (observations.md): waits, occupancy,
# latency, CPU. The seven designs, without the swap buffers, which chapter 7 reads apart.
O="$COMPARE/observations.md"
designs='^(rust-sync-channel|crossbeam|c-pthread|c-vyukov|ocaml|rust-port|tokio)$'
# Chapter 1 (ch01-problem.md): backpressure with the consumer on a CPU of its own, for the
# book's design in its three languages and Rust's two channels.
section "$O" "## slow-consumer · cross-core (2 producer(s), 1 consumer(s))" \
  | rows '^(rust-sync-channel|crossbeam|c-pthread|ocaml|rust-port)$' | rows '^(16|1024)$' 2 \
  | columns 'capacity,push waits,producers blocked (s),occupancy,latency (µs)' > "$out/observations-slow-consumer-ch1.md"
# Chapter 7: a hand-off across CPUs at each capacity, and 64 producers against one consumer.
section "$O" "## spsc · cross-core (1 producer(s), 1 consumer(s))" \
  | rows '^(rust-sync-channel|crossbeam|c-pthread|c-vyukov|rust-port)$' \
  | columns 'capacity,push waits,pop waits,latency (µs),CPU busy' > "$out/observations-spsc-cross-core-ch7.md"
section "$O" "## fan-in · cross-core (64 producer(s), 1 consumer(s))" | rows "$designs" | rows '^16$' 2 \
  | columns 'push waits,pop waits,producers blocked (s),consumers blocked (s),CPU busy' > "$out/observations-fan-in-cross-core-ch7.md"
section "$O" "## Shutdown semantics, through the harness interface" > "$out/compare-shutdown.md"

# The consumer's pace as a dimension: std's channel and crossbeam's at capacity 1024.
section "$CONSUMER_WORK/summary.md" "## Ratios to rust-sync-channel, cross-core, capacity 1024" > "$out/consumer-work-cross-core.md"
section "$CONSUMER_WORK/summary.md" "## Ratios to crossbeam, same-core, capacity 1024" > "$out/consumer-work-same-core.md"

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
ch5="c-pthread,ocaml,rust-port,rust-sync-channel,tokio"
columns "$ch5" < "$out/compare-shutdown.md" > "$out/compare-shutdown-ch5.md"
columns "$ch5" < "$out/shutdown-native.md" > "$out/shutdown-native-ch5.md"

section docs/bench.md "## The cost of the boundary (ns per call)" > "$out/bench-boundary.md"
section docs/bench.md "## OCaml: what was tried, and batching" > "$out/bench-ocaml.md"
section docs/bench.md "## Fidelity: does the harness distort what it measures?" > "$out/bench-fidelity.md"
section docs/validate.md "## Proof that the checks bite: the mutants" > "$out/validate-mutants.md"
section docs/validate.md "## The checks" > "$out/validate-checks.md"
# Chapter 4 (ch04-waiting.md) shows the mutants' table; how they are built (developer material) is in the appendix.
awk '/^\|/ { t = 1; print; next } t { exit }' "$out/validate-mutants.md" > "$out/validate-mutants-table.md"

# The generated text was written for the results folders and docs/, where "see Runs", "the
# README" or a link to ratios.md lead somewhere; in the book they would lead nowhere. Each is
# rewritten to a place the reader can reach (harness checks in book-check that every link
# resolves). The verdict's "see below" leads to the section "Slices with two modes", which
# every page that includes the verdict has.
sed -i \
  -e 's/(see Stability)/(the run'"'"'s `summary.md` in the repository lists them, section "Stability")/' \
  -e 's/(see Runs)/(listed in the run'"'"'s `summary.md`, section "Runs")/' \
  -e 's/A failure comes with a timeline picture (below)\./A failure comes with a timeline picture: one lane per thread, each call drawn from its invocation to its return./' \
  -e 's/(see the README'"'"'s porting notes)/([chapter 7](ch07-figures.md#seq-what-a-push-and-a-pop-cost) measures what it costs)/' \
  -e 's/but linearizability: see the README)/but linearizability: see [the note on tokio](appendix-developer.md#tokio-and-linearizability))/' \
  -e 's/\[\(ratios\|observations\)\.md\](\1\.md)/the run'"'"'s `\1.md`/g' \
  -e 's/is in summary\.md'"'"'s shutdown section)/is probed further on)/' \
  "$out"/*.md
for stale in '(see Stability)' '(see Runs)' 'picture (below)' "README's porting notes" '](ratios.md)' '](observations.md)' "summary.md's"; do
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
