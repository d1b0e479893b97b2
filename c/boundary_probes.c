/* boundary_probes.c: what the boundary's tests and benches call, nothing else does.
 * - bq_bench_noop: the empty C function of the boundary-cost bench (harness/benches/boundary.rs),
 *   what a call from Rust into C costs with nothing in it. Built in its own object, without LTO,
 *   so the compiler cannot inline it into the caller.
 * - bq_status_codes: bq.h's status codes, for the test that Rust's and OCaml's copies agree. */
#include <stddef.h>
#include <stdint.h>

#include "bq.h"

uint64_t bq_bench_noop(uint64_t x);
void bq_status_codes(int out[5]);

uint64_t bq_bench_noop(uint64_t x) { return x; }

void bq_status_codes(int out[5]) {
    const int codes[5] = { BQ_OK, BQ_CLOSED, BQ_FULL, BQ_EMPTY, BQ_TIMEOUT };
    for (size_t i = 0; i < 5; i++) out[i] = codes[i];
}
