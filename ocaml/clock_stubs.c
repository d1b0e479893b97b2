/* clock_stubs.c: what OCaml's Stdlib lacks and the OCaml code needs: CLOCK_MONOTONIC (for
 * bqueue.ml's deadlines and every runner's clock), the calling thread's CPU clock and pinning the
 * calling thread to a CPU (for bq_native.ml's workers, as c/bq_native.c does them). */
#define _GNU_SOURCE /* sched_setaffinity */
#include <sched.h>
#include <time.h>
#include <caml/mlvalues.h>

static intnat clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (intnat)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

value bq_ml_monotonic_ns(value unit) {
    (void)unit;
    return Val_long(clock_ns(CLOCK_MONOTONIC));
}

/* CPU time the calling thread (a domain's, or a systhread) has used. */
value bq_ml_thread_cpu_ns(value unit) {
    (void)unit;
    return Val_long(clock_ns(CLOCK_THREAD_CPUTIME_ID));
}

/* Pins the calling thread to CPU `cpu`; a negative cpu leaves it where it is. True on success. */
value bq_ml_pin_self(value cpu) {
    intnat c = Long_val(cpu);
    if (c < 0) return Val_true;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)c, &set);
    return Val_bool(sched_setaffinity(0, sizeof set, &set) == 0);
}
