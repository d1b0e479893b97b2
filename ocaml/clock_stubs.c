/* clock_stubs.c: CLOCK_MONOTONIC for bqueue.ml, whose Stdlib has no monotonic clock. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>
#include <caml/mlvalues.h>

value bq_ml_monotonic_ns(value unit) {
    (void)unit;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return Val_long((intnat)ts.tv_sec * 1000000000 + ts.tv_nsec);
}
