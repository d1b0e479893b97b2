# Bounded producer/consumer queues in Rust, C and OCaml, compared by one Rust harness.
#   make setup     everything any target needs: OCaml 5.3 (first time: ~6-8 minutes), the
#                  allocators, the crates, mdbook and Chromium (each target sets up only its own)
#   make test      the test suites of every crate, against every implementation (the CI command)
#   make lint      rustfmt's check and clippy with warnings as errors (CI runs it first)
#   make compare   the comparison run: results/latest/ (QUICK=1 for a one-minute look)
#   make scale     thread scaling: results/latest-scale/ (about 2-3 minutes)
#   make strategies  backpressure policies and a pipeline: results/latest-strategies/ (about 3 minutes)
#   make memory    memory: live bytes and RSS per capacity and allocator: results/latest-memory/ (QUICK=1: a short look)
#   make async     tokio tasks against threads, fan-in up to 10,000 producers: results/latest-async/
#   make report DIR=results/X   redraw summary.md and plots from a results folder's data (OUT=... elsewhere)
#   make validate  port validation (PLUGIN=path/to/lib.so to check an external library,
#                  REFERENCE=their_queue.ml for your own OCaml original)
#   make bench     criterion benchmarks and boundary costs
#   make book      the book (book/) as a static site in target/book; make book-open says where
#   make book-check  headless Chromium checks every page: content, layout at 6 widths x sidebar x theme, links, plot text >= 12 px,
#                  code lines that wrap instead of running past their box, code text >= 13 px, highlighted listings
#   make clean     remove build products (the OCaml toolchain cache stays)

# The one place the OCaml version is pinned. Handed to the setup script only, never exported:
# ocaml-sys's build script watches OCAML_VERSION, and a value that differs between `make` and a
# plain `cargo` call would rebuild the harness each time one follows the other.
OCAML_VERSION := 5.3.0
# The one place mdbook's version is pinned (scripts/setup-book.sh installs it).
MDBOOK_VERSION := 0.5.4
SETUP_BOOK = MDBOOK_VERSION=$(MDBOOK_VERSION) scripts/setup-book.sh

CARGO ?= cargo
TOOLCHAIN_LINK := .ocaml-toolchain
# Every cargo call sees the toolchain `make setup` chose, exactly as a plain cargo call does
# through .cargo/config.toml (the same absolute path: nothing a build script watches differs, so
# switching between make targets and plain cargo commands rebuilds nothing). An OCAMLOPT
# inherited from a parent shell is overridden here, as it is not by the config file.
WITH_OCAML = OCAMLOPT="$(CURDIR)/$(TOOLCHAIN_LINK)/bin/ocamlopt"

.PHONY: setup setup-ocaml setup-allocators setup-book build test lint compare scale strategies memory async report validate bench clean book book-open book-check

setup: setup-ocaml setup-allocators setup-book
	@$(CARGO) fetch --locked -q

# OCaml 5.3, for every target that builds the harness.
setup-ocaml:
	@bin="$$(OCAML_VERSION=$(OCAML_VERSION) scripts/setup-ocaml.sh)" && ln -sfn "$$(dirname "$$bin")" $(TOOLCHAIN_LINK) \
	  && echo "[setup] OCaml $$($(TOOLCHAIN_LINK)/bin/ocamlopt -version) at $$(readlink $(TOOLCHAIN_LINK))"

# jemalloc and mimalloc, for `make memory` and the memory tests.
setup-allocators:
	@scripts/setup-allocators.sh

# mdbook and Chromium, for `make book-check`.
setup-book:
	@mdbook="$$($(SETUP_BOOK))" && echo "[setup] $$($$mdbook --version) at $$mdbook; $$(chromium --version 2>/dev/null)"

build: setup-ocaml
	$(WITH_OCAML) $(CARGO) build --locked --release

# The book is built first: harness/tests/book.rs checks its links, figures and includes. The
# memory tests preload jemalloc.
test: setup-ocaml setup-allocators book
	BQ_BOOK_DIR="$(CURDIR)/$(BOOK_OUT)" $(WITH_OCAML) $(CARGO) test --locked --release

# The formatter (rustfmt.toml) and the linter, warnings as errors. The C and OCaml sources are
# not run through clang-format or ocamlformat: they are written to be read line for line beside
# each other (docs/development.md says why).
lint: setup-ocaml
	$(CARGO) fmt --all -- --check
	$(WITH_OCAML) $(CARGO) clippy --locked --release --workspace --all-targets -- -D warnings

# QUICK=1: the same matrix with shorter runs and fewer repetitions. ARGS: any `bqh compare` flags.
# PLUGIN=path/to/libX.so adds a library exporting c/bq.h beside the built-ins (driven mode,
# in child processes: a crash or a hang fails its runs only); REFERENCE=their_queue.ml (or a
# library) pairs everything with it instead, and the run ends with "your port runs at ..." lines.
compare: setup-ocaml
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- compare $(if $(QUICK),--quick) $(if $(PLUGIN),--plugin $(PLUGIN)) $(if $(REFERENCE),--reference $(REFERENCE)) $(ARGS)

# Thread scaling: ns per item against 1, 2, 4, ... 256 threads (fan-in and mpmc), every
# implementation, capacities 16 and 1024. ARGS: any `bqh scale` flags.
scale: setup-ocaml
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- scale $(ARGS)

# Backpressure policies (block, drop, timeout-drop, natural-batch, semaphore) on the slow-consumer,
# fan-in and bursty shapes, and a three-stage pipeline, every implementation. QUICK=1 for a short
# look; ARGS: any `bqh strategies` flags.
strategies: setup-ocaml
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- strategies $(if $(QUICK),--quick) $(ARGS)
# Memory: a producer sends payloads through a slow consumer; RSS, live payload bytes and items
# buffered over time, capacities 1, 16, 1024 and unbounded, allocators glibc, glibc + malloc_trim,
# jemalloc and mimalloc (LD_PRELOAD, installed by setup), each run in its own process. Fails
# (exit 1) when a bounded queue held more than its bound. ARGS: any `bqh memory` flags.
memory: setup-ocaml setup-allocators
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- memory $(if $(QUICK),--quick) $(ARGS)
# Async: fan-in with tokio tasks (64, 1,024, 10,000 producers) against threads (64, 1,024), and
# what starting 10,000 idle tasks and threads costs: results/latest-async/ (under a minute).
async: setup-ocaml
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- async $(ARGS)

# Redraws summary.md and the plots of DIR from its runs.csv, env.json and shutdown.csv; OUT=path
# writes them elsewhere (needed for a committed canonical run, which is never written over).
report: setup-ocaml
	@test -n "$(DIR)" || { echo "usage: make report DIR=results/latest [OUT=/tmp/redrawn]"; exit 2; }
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- report "$(DIR)" $(if $(OUT),--out "$(OUT)")

# Every built-in against the OCaml original; PLUGIN=path/to/libX.so checks a library exporting
# c/bq.h instead; REFERENCE=path/to/their_queue.ml (a module implementing ocaml/bqueue.mli) or a
# library replaces the OCaml original; VALIDATE_ARGS adds flags (e.g. "--seed 1234 --checks
# sequential"). Exit 0 only when every check passed. See docs/validate.md.
# make exits 2 for any failed recipe, so the recipe says which of bqh's codes it was.
validate: setup-ocaml
	@$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- validate $(if $(REFERENCE),--reference $(REFERENCE)) $(if $(PLUGIN),--candidate $(PLUGIN)) $(VALIDATE_ARGS); \
	  rc=$$?; case $$rc in 0) ;; 1) echo "make validate: bqh validate exited 1: a check found a difference (above)";; \
	  *) echo "make validate: bqh validate exited $$rc: bad input (above)";; esac; exit $$rc

# The deliberately broken queues of tests/fixtures (and the port itself) as plugins, for
# example: make fixtures && make validate PLUGIN=target/fixtures/libif_not_while.so
FIXTURES := target/fixtures
.PHONY: fixtures
fixtures:
	tests/fixtures/build.sh $(FIXTURES)
	@ls $(FIXTURES)/*.so

# Criterion groups (report: $CARGO_TARGET_DIR or target/, criterion/report/index.html); ARGS go to
# criterion, e.g. ARGS="--save-baseline before", ARGS="--baseline before", ARGS="mpmc/ocaml".
# Then the fidelity table (the harness against a bare channel loop). See docs/bench.md.
bench: setup-ocaml
	$(WITH_OCAML) $(CARGO) bench --locked -p harness --bench workloads --bench boundary --bench ocaml_batched -- $(ARGS)
	$(WITH_OCAML) $(CARGO) bench --locked -p harness --bench fidelity

# The book: figures and tables from the committed results (scripts/book-data.sh), listings
# included from the sources by anchors; any mdbook warning (a missing include, anchor or
# file) fails the build. The mdbook binary is the pinned one setup installed.
BOOK_OUT := target/book
book:
	@scripts/book-data.sh book/src/generated
	@mkdir -p target && mdbook="$$(BOOK_NO_CHROMIUM=1 $(SETUP_BOOK))" && rm -rf "$(BOOK_OUT)" \
	  && "$$mdbook" build book -d "$(CURDIR)/$(BOOK_OUT)" 2>target/book-build.log; rc=$$?; \
	  if [ $$rc -ne 0 ] || grep -E "WARN|ERROR" target/book-build.log; then \
	    cat target/book-build.log; echo "make book: mdbook failed or warned (above)"; exit 1; fi
	@echo "[book] built $(BOOK_OUT)/index.html (make book-open says how to open it)"

book-open:
	@test -f "$(BOOK_OUT)/index.html" || { echo "no book yet: run make book"; exit 2; }
	@echo "The book: file://$(CURDIR)/$(BOOK_OUT)/index.html"
	@echo "Open it in a browser (e.g. xdg-open $(BOOK_OUT)/index.html); it needs no server."

# Headless Chromium renders every chapter and the check asserts its listings and figures are
# there; screenshots of two pages go to target/book-check/. A plot whose text shows below
# 12 px at any width fails it (PLOT_TEXT=report: only listed), and so does a code line that
# runs past its box, code text below 13 px or a listing left unhighlighted.
# scripts/book-check.sh --self-test shows that it catches each of these.
PLOT_TEXT ?= fail
book-check: book
	@$(SETUP_BOOK) >/dev/null
	@scripts/book-check.sh --plot-text=$(PLOT_TEXT) "$(BOOK_OUT)" target/book-check

clean:
	$(CARGO) clean
	rm -f $(TOOLCHAIN_LINK)
