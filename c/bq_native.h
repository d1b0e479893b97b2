/* bq_native.h: the `native` mode of the comparison for the C queue: producers and consumers
 * are pthreads inside C, running the same workload as the harness's Rust threads do in
 * `driven` mode (crates/engine/src/driven.rs), with the same instrumentation. A throughput
 * slice (observe == 0) makes plain bq_push/bq_pop calls and keeps only a checksum of what
 * arrived. An observation run (observe == 1) tries first, so a push or pop that had to wait is
 * counted and its blocking time measured, samples the length, checks delivery exactly (every
 * item exactly once, per-producer order kept) and samples the push-to-pop latency of items,
 * from the start of a push to the end of its pop. Every worker times its own work (its span).
 *
 * The Rust mirror of these two structs is in crates/engine/src/impls/c_abi.rs; a test there
 * checks their sizes and field offsets against bq_native_layout below. */
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
    uint32_t latency_shift;    /* the latency of one item in 2^latency_shift is sampled */
    uint32_t occupancy_shift;  /* consumers sample the length every 2^occupancy_shift pops */
    uint32_t observe;          /* 0: a throughput slice: plain bq_push/bq_pop, a checksum of what
                                  arrived, nothing sampled; 1: an observation run */
    int32_t producer_cpu;      /* producers pin themselves to this CPU; -1: they stay put */
    int32_t consumer_cpu;      /* consumers likewise */
    uint64_t *latency_ns;      /* caller's buffer for the sampled push-to-pop latencies; */
    size_t latency_cap;        /* NULL/0: not recorded */
} bq_native_spec;

typedef struct {
    uint64_t elapsed_ns;       /* the earliest worker's start to the latest one's end */
    uint64_t threads_cpu_ns;   /* CPU time the workers used within their spans */
    uint64_t pushes, push_waits, pops, pop_waits;
    uint64_t producer_blocked_ns, consumer_blocked_ns;
    uint64_t max_len;
    size_t latency_len; /* latencies written to spec->latency_ns */
    int delivery_ok;
    char error[200]; /* what went wrong when delivery_ok == 0 or the call returned -1 */
} bq_native_result;

/* 0 when the run happened (check delivery_ok), -1 when it could not start (see error). */
int bq_native_run(const bq_native_spec *spec, bq_native_result *out);

/* For the layout test: writes sizeof and the offset of every field of both structs, in
 * declaration order (spec first), into out[0..n), and returns how many it has. */
size_t bq_native_layout(size_t *out, size_t n);

#endif
