# Bounded producer/consumer queues in Rust, C and OCaml, compared by one Rust harness.
#   make setup     find or build OCaml 5.3 (first time: ~3-8 minutes), fetch crates
#   make test      the contract suite against all six implementations (the CI command)
#   make compare   the comparison run: results/latest/ (QUICK=1 for a one-minute look)
#   make scale     thread scaling: results/latest-scale/ (about 2-3 minutes)
#   make async     tokio tasks against threads, fan-in up to 10,000 producers: results/latest-async/
#   make report DIR=results/X   redraw summary.md and plots from a results folder's data (OUT=... elsewhere)
#   make validate  port validation (PLUGIN=path/to/lib.so to check an external library)
#   make bench     criterion benchmarks and boundary costs
#   make clean     remove build products (the OCaml toolchain cache stays)

# The one place the OCaml version is pinned.
OCAML_VERSION := 5.3.0
export OCAML_VERSION

CARGO ?= cargo
TOOLCHAIN_LINK := .ocaml-toolchain
# Every cargo call sees the toolchain `make setup` chose (.cargo/config.toml does the same for
# plain cargo calls; this also covers an OCAMLOPT inherited from a parent shell).
WITH_OCAML = OCAMLOPT="$(CURDIR)/$(TOOLCHAIN_LINK)/bin/ocamlopt" PATH="$(CURDIR)/$(TOOLCHAIN_LINK)/bin:$$PATH"

.PHONY: setup build test compare scale async report validate bench clean

setup:
	@bin="$$(scripts/setup-ocaml.sh)" && ln -sfn "$$(dirname "$$bin")" $(TOOLCHAIN_LINK) \
	  && echo "[setup] OCaml $$($(TOOLCHAIN_LINK)/bin/ocamlopt -version) at $$(readlink $(TOOLCHAIN_LINK))"
	@$(CARGO) fetch --locked -q

build: setup
	$(WITH_OCAML) $(CARGO) build --locked --release

test: setup
	$(WITH_OCAML) $(CARGO) test --locked --release

# QUICK=1: the same matrix with shorter runs and fewer repetitions. ARGS: any `bqh compare` flags.
# PLUGIN=path/to/libX.so adds a library exporting c/bq.h beside the built-ins (driven mode,
# in child processes: a crash or a hang fails its runs only).
compare: setup
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- compare $(if $(QUICK),--quick) $(if $(PLUGIN),--plugin $(PLUGIN)) $(ARGS)

# Thread scaling: ns per item against 1, 2, 4, ... 256 threads (fan-in and mpmc), every
# implementation, capacities 16 and 1024. ARGS: any `bqh scale` flags.
scale: setup
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- scale $(ARGS)

# Async: fan-in with tokio tasks (64, 1,024, 10,000 producers) against threads (64, 1,024), and
# what starting 10,000 idle tasks and threads costs: results/latest-async/ (under a minute).
async: setup
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- async $(ARGS)

# Redraws summary.md and the plots of DIR from its runs.csv, env.json and shutdown.csv; OUT=path
# writes them elsewhere (needed for a committed canonical run, which is never written over).
report: setup
	@test -n "$(DIR)" || { echo "usage: make report DIR=results/latest [OUT=/tmp/redrawn]"; exit 2; }
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- report "$(DIR)" $(if $(OUT),--out "$(OUT)")

# Every built-in against the OCaml original; PLUGIN=path/to/libX.so checks a library exporting
# c/bq.h instead; VALIDATE_ARGS adds flags (e.g. "--seed 1234 --checks sequential"). Exit 0 only
# when every check passed. See docs/validate.md.
validate: setup
	$(WITH_OCAML) $(CARGO) run --locked --release -q --bin bqh -- validate $(if $(PLUGIN),--candidate $(PLUGIN)) $(VALIDATE_ARGS)

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
bench: setup
	$(WITH_OCAML) $(CARGO) bench --locked -p harness --bench workloads --bench boundary --bench ocaml_batched -- $(ARGS)
	$(WITH_OCAML) $(CARGO) bench --locked -p harness --bench fidelity

clean:
	$(CARGO) clean
	rm -f $(TOOLCHAIN_LINK)
