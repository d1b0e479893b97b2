/* bench_stubs.c: the empty C function of the boundary-cost bench (harness/benches/boundary.rs):
 * what a call from Rust into C costs with nothing in it. Built in its own object, without
 * LTO, so the compiler cannot inline it into the caller. */
#include <stdint.h>

uint64_t bq_bench_noop(uint64_t x);

uint64_t bq_bench_noop(uint64_t x) { return x; }
