/* bq_native.h: the `native` mode of the comparison for the C queue: producers and consumers
 * are pthreads inside C, running the same workload as the harness's Rust threads do in
 * `driven` mode (harness/src/workloads.rs), with the same instrumentation: a try first, so a
 * push or pop that had to wait is counted and its blocking time measured, a sampled len, and
 * an exact delivery check (every item exactly once, per-producer order kept), and push-to-pop
 * latency of one item in 16, from the start of its push to the end of its pop. */
#ifndef BQ_NATIVE_H
#define BQ_NATIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t producers;
    uint32_t consumers;
    uint64_t per_producer;     /* items per producer */
    size_t capacity;
    uint64_t consumer_work_ns; /* busy work per popped item (slow-consumer), 0 for none */
    uint64_t burst_items;      /* producers pause after every burst_items pushes; 0: never */
    uint64_t burst_pause_ns;
    int seq;                   /* 1: one thread fills to capacity then drains, repeatedly */
    uint64_t *latency_ns;      /* caller's buffer for sampled push-to-pop latencies (1 item */
    size_t latency_cap;        /* in BQ_NATIVE_SAMPLE_EVERY); NULL/0: not recorded */
} bq_native_spec;

#define BQ_NATIVE_SAMPLE_EVERY 16 /* the same sampling as the Rust harness */

typedef struct {
    uint64_t elapsed_ns;
    uint64_t pushes, push_waits, pops, pop_waits;
    uint64_t producer_blocked_ns, consumer_blocked_ns;
    uint64_t max_len;
    size_t latency_len; /* latencies written to spec->latency_ns */
    int delivery_ok;
    char error[200]; /* what went wrong when delivery_ok == 0 or the call returned -1 */
} bq_native_result;

/* 0 when the run happened (check delivery_ok), -1 when it could not start (see error). */
int bq_native_run(const bq_native_spec *spec, bq_native_result *out);

#endif
