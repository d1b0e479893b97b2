/* bq_native.c: the C queue's `native` runner; see bq_native.h. The same program as the Rust
 * driven runner (crates/engine/src/driven.rs) and the OCaml one (ocaml/bq_native.ml), in the same
 * order: counted push and pop, the delivery record, producer, consumer, run_seq, then the run
 * that starts them behind one gate and merges what they counted. */
#define _GNU_SOURCE /* sched_setaffinity */
#include "bq_native.h"
#include "bq.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time the calling thread has used: its own clock, not the process's. */
static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void spin_ns(uint64_t ns) {
    uint64_t end = now_ns() + ns;
    while (now_ns() < end) { }
}

static void sleep_ns(uint64_t ns) {
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    nanosleep(&ts, NULL);
}

typedef struct { uint64_t ops, waits, blocked_ns; } side_stats;

/* A start gate: workers wait until every thread exists, then start together. Unlike a
 * barrier, it can also be opened with `abort` set when a thread could not be created. */
typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t open_cond;
    int open, abort;
} gate;

static int gate_wait(gate *g) { /* returns 1 when the run is aborted */
    pthread_mutex_lock(&g->mutex);
    while (!g->open) pthread_cond_wait(&g->open_cond, &g->mutex);
    int abort = g->abort;
    pthread_mutex_unlock(&g->mutex);
    return abort;
}

static void gate_open(gate *g, int abort) {
    pthread_mutex_lock(&g->mutex);
    g->open = 1;
    g->abort = abort;
    pthread_cond_broadcast(&g->open_cond);
    pthread_mutex_unlock(&g->mutex);
}

/* Per consumer: a bitmap of seen items and the next expected sequence number per producer. */
typedef struct {
    int sole;       /* the only consumer: `next` alone is the check, no bitmap */
    uint64_t *seen; /* NULL when sole */
    uint64_t *next;
    char error[200];
} delivery;

/* A throughput slice's proof of delivery, as crates/engine/src/measure.rs's Checksum: a count,
 * a sum and a sum of mixes of the items a consumer took, compared after the run with those of
 * the items pushed. */
typedef struct { uint64_t count, sum, mix; } checksum;

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0x3f51afd7ed558ccdu;
    x ^= x >> 29;
    x *= 0x04ceb9fe1a85ec53u;
    return x ^ (x >> 32);
}

static inline void checksum_add(checksum *c, uint64_t item) {
    c->count++;
    c->sum += item;
    c->mix += mix64(item);
}

/* One worker's share of the run on its own clocks: after the gate to after its last operation. */
typedef struct { uint64_t start_ns, end_ns, cpu0, cpu_ns; } span;

/* The wall clock outside the CPU clock at both ends, as in measure.rs's SpanClock: the CPU time
 * measured then lies within the span. */
static void span_start(span *sp) { sp->start_ns = now_ns(); sp->cpu0 = thread_cpu_ns(); }
static void span_stop(span *sp) { sp->cpu_ns = thread_cpu_ns() - sp->cpu0; sp->end_ns = now_ns(); }

/* Pins the calling thread to `cpu` (-1: leaves it where it is). 0 on success. */
static int pin_self(int32_t cpu) {
    if (cpu < 0) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

typedef struct worker worker;
struct worker {
    const bq_native_spec *spec;
    worker *all; /* every worker: consumers read the producers' push times */
    bq *q;
    gate *start;
    uint32_t id;
    side_stats stats;
    delivery d;
    uint64_t max_len;
    char failed[120];    /* producer: the push that failed while the queue was open */
    uint64_t *pushed_at; /* producer: start time of each sampled push, by seq >> latency_shift */
    uint64_t *lat;       /* consumer: sampled latencies */
    size_t n_lat;
    checksum sum;        /* consumer of a throughput slice: what it took */
    span span;
};

/* The words of crates/engine/src/queue.rs's QueueError, so that messages read the same. */
static const char *status_name(int rc) {
    switch (rc) {
    case BQ_CLOSED: return "closed";
    case BQ_FULL: return "full";
    case BQ_EMPTY: return "empty";
    case BQ_TIMEOUT: return "timed out";
    default: return "an unknown status";
    }
}

static int push_counted(bq *q, uint64_t item, side_stats *st) {
    st->ops++;
    int rc = bq_try_push(q, item);
    if (rc == BQ_FULL) {
        st->waits++;
        uint64_t t = now_ns();
        rc = bq_push(q, item);
        st->blocked_ns += now_ns() - t;
    }
    return rc;
}

static int pop_counted(bq *q, uint64_t *item, side_stats *st) {
    st->ops++;
    int rc = bq_try_pop(q, item);
    if (rc == BQ_EMPTY) {
        st->waits++;
        uint64_t t = now_ns();
        rc = bq_pop(q, item);
        st->blocked_ns += now_ns() - t;
    }
    return rc;
}

/* A throughput slice's calls (observe == 0): as a user's program makes them. */
static int push_one(const bq_native_spec *s, bq *q, uint64_t item, side_stats *st) {
    if (s->observe) return push_counted(q, item, st);
    st->ops++;
    return bq_push(q, item);
}

static int pop_one(const bq_native_spec *s, bq *q, uint64_t *item, side_stats *st) {
    if (s->observe) return pop_counted(q, item, st);
    st->ops++;
    return bq_pop(q, item);
}

static void record(const bq_native_spec *s, delivery *d, uint64_t item) {
    uint64_t p = item >> 32, seq = item & 0xffffffffu;
    /* A sole consumer: each producer's items must arrive as 0, 1, 2, ..., so the next one
     * expected is the whole check, without the bitmap (as in crates/engine/src/measure.rs). */
    if (d->sole && p < s->producers && seq == d->next[p] && seq < s->per_producer) { d->next[p] = seq + 1; return; }
    if (p >= s->producers || seq >= s->per_producer) {
        if (!d->error[0]) snprintf(d->error, sizeof d->error, "item %#llx was never pushed", (unsigned long long)item);
        return;
    }
    if (seq < d->next[p] && !d->error[0])
        snprintf(d->error, sizeof d->error, "producer %llu's item %llu arrived late: reordered or duplicated",
                 (unsigned long long)p, (unsigned long long)seq);
    else if (d->sole && !d->error[0])
        snprintf(d->error, sizeof d->error, "producer %llu's item %llu was lost or reordered: its item %llu came first",
                 (unsigned long long)p, (unsigned long long)d->next[p], (unsigned long long)seq);
    d->next[p] = seq + 1;
    if (d->sole) return;
    uint64_t bit = p * s->per_producer + seq;
    if ((d->seen[bit / 64] >> (bit % 64)) & 1u) {
        if (!d->error[0]) snprintf(d->error, sizeof d->error, "producer %llu's item %llu was delivered twice",
                                   (unsigned long long)p, (unsigned long long)seq);
    }
    d->seen[bit / 64] |= (uint64_t)1 << (bit % 64);
}

static void *producer(void *arg) {
    worker *w = arg;
    const bq_native_spec *s = w->spec;
    uint64_t mask = ((uint64_t)1 << s->latency_shift) - 1;
    if (pin_self(s->producer_cpu) != 0)
        snprintf(w->failed, sizeof w->failed, "producer %u: cannot pin it to CPU %d", w->id, (int)s->producer_cpu);
    if (gate_wait(w->start)) return NULL;
    span_start(&w->span);
    for (uint64_t seq = 0; seq < s->per_producer && !w->failed[0]; seq++) {
        /* Written before the push; the queue's mutex publishes it to the consumer. */
        if (s->observe && (seq & mask) == 0) w->pushed_at[seq >> s->latency_shift] = now_ns();
        int rc = push_one(s, w->q, ((uint64_t)w->id << 32) | seq, &w->stats);
        if (rc != BQ_OK) {
            snprintf(w->failed, sizeof w->failed, "producer %u: push of item %llu returned %s while the queue was open",
                     w->id, (unsigned long long)seq, status_name(rc));
            break;
        }
        if (s->burst_items && (seq + 1) % s->burst_items == 0) sleep_ns(s->burst_pause_ns);
    }
    span_stop(&w->span);
    return NULL;
}

/* A throughput slice's consumer: bq_pop until closed, each item folded into the checksum (and
 * the per-item work, if any): what proving delivery needs, and nothing more. */
static void take_all(const bq_native_spec *s, bq *q, checksum *sum) {
    uint64_t item;
    checksum c = { 0, 0, 0 };
    if (s->consumer_work_ns == 0) {
        while (bq_pop(q, &item) == BQ_OK) checksum_add(&c, item);
    } else {
        while (bq_pop(q, &item) == BQ_OK) { checksum_add(&c, item); spin_ns(s->consumer_work_ns); }
    }
    *sum = c;
}

/* An observation run's consumer: counted pops, every item checked exactly, sampled latencies
 * and lengths. */
static void observe_all(worker *w) {
    const bq_native_spec *s = w->spec;
    uint64_t mask = ((uint64_t)1 << s->latency_shift) - 1;
    uint64_t occupancy_mask = ((uint64_t)1 << s->occupancy_shift) - 1;
    uint64_t item;
    while (pop_counted(w->q, &item, &w->stats) == BQ_OK) {
        record(s, &w->d, item);
        uint64_t p = item >> 32, seq = item & 0xffffffffu;
        if ((seq & mask) == 0 && p < s->producers && seq < s->per_producer)
            w->lat[w->n_lat++] = now_ns() - w->all[p].pushed_at[seq >> s->latency_shift];
        if ((w->stats.ops & occupancy_mask) == 0) {
            size_t len = bq_len(w->q);
            if (len > w->max_len) w->max_len = len;
        }
        if (s->consumer_work_ns) spin_ns(s->consumer_work_ns);
    }
    w->stats.ops--; /* the final pop said closed and delivered nothing */
}

static void *consumer(void *arg) {
    worker *w = arg;
    const bq_native_spec *s = w->spec;
    if (pin_self(s->consumer_cpu) != 0)
        snprintf(w->failed, sizeof w->failed, "consumer %u: cannot pin it to CPU %d", w->id, (int)s->consumer_cpu);
    if (gate_wait(w->start)) return NULL;
    span_start(&w->span);
    if (!w->failed[0] && s->observe) observe_all(w);
    else if (!w->failed[0]) { take_all(s, w->q, &w->sum); w->stats.ops = w->sum.count; }
    span_stop(&w->span);
    return NULL;
}

static void run_seq(const bq_native_spec *s, bq *q, worker *w) {
    uint64_t n = s->per_producer, next = 0, item;
    while (next < n) {
        uint64_t batch = n - next < s->capacity ? n - next : s->capacity;
        for (uint64_t seq = next; seq < next + batch; seq++) {
            int rc = push_one(s, q, seq, &w->stats);
            if (rc != BQ_OK) {
                snprintf(w->failed, sizeof w->failed, "seq: push of item %llu returned %s while the queue was open",
                         (unsigned long long)seq, status_name(rc));
                return;
            }
        }
        if (s->observe) {
            size_t len = bq_len(q);
            if (len > w->max_len) w->max_len = len;
        }
        for (uint64_t i = 0; i < batch; i++) {
            int rc = pop_one(s, q, &item, &w->stats);
            if (rc != BQ_OK) {
                snprintf(w->failed, sizeof w->failed, "seq: a pop returned %s with items buffered", status_name(rc));
                return;
            }
            record(s, &w->d, item);
        }
        next += batch;
    }
}

static int fail(bq_native_result *out, const char *msg) {
    snprintf(out->error, sizeof out->error, "%s", msg);
    return -1;
}

/* Merges the consumers' records: a failed push first, then every item exactly once,
 * per-producer order kept, and the sampled length never above capacity. */
static void merge(const bq_native_spec *s, worker *ws, uint32_t n_workers, size_t words, bq_native_result *out) {
    out->delivery_ok = 0;
    for (uint32_t i = 0; i < n_workers; i++)
        if (ws[i].failed[0]) { snprintf(out->error, sizeof out->error, "%s", ws[i].failed); return; }
    if (!s->observe && !s->seq) { /* a throughput slice: the consumers' checksums against the items pushed */
        checksum got = { 0, 0, 0 }, want = { 0, 0, 0 };
        for (uint32_t i = s->producers; i < n_workers; i++) {
            got.count += ws[i].sum.count; got.sum += ws[i].sum.sum; got.mix += ws[i].sum.mix;
        }
        for (uint64_t p = 0; p < s->producers; p++)
            for (uint64_t seq = 0; seq < s->per_producer; seq++) checksum_add(&want, (p << 32) | seq);
        if (got.count != want.count)
            snprintf(out->error, sizeof out->error, "%llu items arrived where %llu were pushed: items lost or duplicated",
                     (unsigned long long)got.count, (unsigned long long)want.count);
        else if (got.sum != want.sum || got.mix != want.mix)
            snprintf(out->error, sizeof out->error,
                     "%llu items arrived, as many as were pushed, but not the items pushed (their checksums differ)",
                     (unsigned long long)got.count);
        else out->delivery_ok = 1;
        return;
    }
    delivery *all = &ws[s->producers].d;
    if (all->sole) {
        if (all->error[0]) { memcpy(out->error, all->error, sizeof out->error); return; }
        for (uint64_t p = 0; p < s->producers; p++)
            if (all->next[p] != s->per_producer) {
                uint64_t got = 0, total = s->producers * s->per_producer;
                for (uint64_t q = 0; q < s->producers; q++) got += all->next[q];
                snprintf(out->error, sizeof out->error, "%llu of %llu items lost; first: producer %llu's item %llu",
                         (unsigned long long)(total - got), (unsigned long long)total, (unsigned long long)p,
                         (unsigned long long)all->next[p]);
                return;
            }
        words = 0; /* no bitmaps to merge or count */
    }
    for (uint32_t i = s->producers; !all->sole && i < n_workers; i++) {
        delivery *d = &ws[i].d;
        if (d->error[0]) { memcpy(out->error, d->error, sizeof out->error); return; }
        for (size_t k = 0; d != all && k < words; k++) {
            if (all->seen[k] & d->seen[k]) {
                snprintf(out->error, sizeof out->error, "an item was delivered to two consumers");
                return;
            }
            all->seen[k] |= d->seen[k];
        }
    }
    uint64_t got = 0, total = s->producers * s->per_producer;
    for (size_t k = 0; k < words; k++) got += (uint64_t)__builtin_popcountll(all->seen[k]);
    if (!all->sole && got != total) {
        snprintf(out->error, sizeof out->error, "%llu of %llu items lost",
                 (unsigned long long)(total - got), (unsigned long long)total);
        return;
    }
    if (out->max_len > s->capacity) {
        snprintf(out->error, sizeof out->error, "len %llu observed above capacity", (unsigned long long)out->max_len);
        return;
    }
    out->delivery_ok = 1;
}

int bq_native_run(const bq_native_spec *s, bq_native_result *out) {
    memset(out, 0, sizeof *out);
    if (s->producers == 0 || s->consumers == 0) return fail(out, "producers and consumers must be at least 1");
    if (s->seq && (s->producers != 1 || s->consumers != 1)) return fail(out, "seq takes 1 producer and 1 consumer");
    if (s->latency_shift > 20 || s->occupancy_shift > 20) return fail(out, "sampling shifts must be at most 20");
    bq *q = bq_new(s->capacity);
    if (q == NULL) return fail(out, "bq_new failed: capacity 0 or out of memory");

    /* Workers 0..producers-1 produce, the rest consume; seq runs both roles on worker 0 and
     * keeps its record in worker `producers` (the single consumer's slot). */
    uint32_t n_workers = s->producers + s->consumers;
    size_t words = (size_t)((s->producers * s->per_producer + 63) / 64) + 1;
    worker *ws = calloc(n_workers, sizeof *ws);
    pthread_t *tids = calloc(n_workers, sizeof *tids);
    int ok = ws != NULL && tids != NULL;
    size_t slots = (size_t)(s->per_producer >> s->latency_shift) + 1; /* per producer */
    size_t samples = (size_t)s->producers * slots;
    for (uint32_t i = 0; ok && i < s->producers; i++) {
        ws[i].pushed_at = calloc(slots, sizeof(uint64_t));
        ok = ws[i].pushed_at != NULL;
    }
    for (uint32_t i = s->producers; ok && i < n_workers; i++) {
        ws[i].d.sole = s->consumers == 1;
        ws[i].d.seen = ws[i].d.sole ? NULL : calloc(words, sizeof(uint64_t));
        ws[i].d.next = calloc(s->producers, sizeof(uint64_t));
        ws[i].lat = calloc(samples, sizeof(uint64_t));
        ok = (ws[i].d.sole || ws[i].d.seen != NULL) && ws[i].d.next != NULL && ws[i].lat != NULL;
    }
    if (!ok) snprintf(out->error, sizeof out->error, "out of memory");
    gate start = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };
    for (uint32_t i = 0; ok && i < n_workers; i++) {
        ws[i].spec = s; ws[i].all = ws; ws[i].q = q; ws[i].start = &start;
        ws[i].id = i < s->producers ? i : i - s->producers;
    }

    if (ok && s->seq) {
        worker *w = &ws[s->producers];
        span_start(&w->span);
        run_seq(s, q, w);
        span_stop(&w->span);
    } else if (ok) {
        uint32_t started = 0;
        for (; started < n_workers; started++) {
            void *(*f)(void *) = started < s->producers ? producer : consumer;
            if (pthread_create(&tids[started], NULL, f, &ws[started]) != 0) break;
        }
        if (started < n_workers) {
            gate_open(&start, 1);
            for (uint32_t i = 0; i < started; i++) pthread_join(tids[i], NULL);
            snprintf(out->error, sizeof out->error, "pthread_create failed after %u threads", started);
            ok = 0;
        } else {
            /* The run's time comes from the workers' own spans, not from this thread's clock. */
            gate_open(&start, 0);
            for (uint32_t i = 0; i < s->producers; i++) pthread_join(tids[i], NULL);
            bq_close(q); /* every producer finished: "no more items" */
            for (uint32_t i = s->producers; i < n_workers; i++) pthread_join(tids[i], NULL);
        }
    }

    if (ok) {
        /* The earliest start to the latest end: a clock that covers every worker's work. seq
         * keeps its one span in worker `producers`. */
        uint64_t first = UINT64_MAX, last = 0;
        for (uint32_t i = s->seq ? s->producers : 0; i < (s->seq ? s->producers + 1 : n_workers); i++) {
            if (ws[i].span.start_ns < first) first = ws[i].span.start_ns;
            if (ws[i].span.end_ns > last) last = ws[i].span.end_ns;
            out->threads_cpu_ns += ws[i].span.cpu_ns;
        }
        out->elapsed_ns = last > first ? last - first : 1;
        for (uint32_t i = 0; i < n_workers; i++) {
            side_stats *st = &ws[i].stats;
            if (i < s->producers) {
                out->pushes += st->ops; out->push_waits += st->waits; out->producer_blocked_ns += st->blocked_ns;
            } else {
                out->pops += st->ops; out->pop_waits += st->waits; out->consumer_blocked_ns += st->blocked_ns;
            }
            if (ws[i].max_len > out->max_len) out->max_len = ws[i].max_len;
        }
        if (s->seq) { /* run_seq counted pushes and pops in one worker */
            out->pushes = out->pops = s->per_producer;
            out->push_waits = out->pop_waits = 0;
        }
        merge(s, ws, n_workers, words, out);
        for (uint32_t i = s->producers; i < n_workers && s->latency_ns; i++)
            for (size_t k = 0; k < ws[i].n_lat && out->latency_len < s->latency_cap; k++)
                s->latency_ns[out->latency_len++] = ws[i].lat[k];
    }

    for (uint32_t i = 0; ws && i < n_workers; i++) {
        free(ws[i].d.seen); free(ws[i].d.next); free(ws[i].pushed_at); free(ws[i].lat);
    }
    free(ws); free(tids);
    bq_free(q);
    return ok ? 0 : -1;
}

size_t bq_native_layout(size_t *out, size_t n) {
#define FIELD(type, field) offsetof(type, field)
    const size_t all[] = {
        sizeof(bq_native_spec),
        FIELD(bq_native_spec, producers), FIELD(bq_native_spec, consumers), FIELD(bq_native_spec, per_producer),
        FIELD(bq_native_spec, capacity), FIELD(bq_native_spec, consumer_work_ns), FIELD(bq_native_spec, burst_items),
        FIELD(bq_native_spec, burst_pause_ns), FIELD(bq_native_spec, seq), FIELD(bq_native_spec, latency_shift),
        FIELD(bq_native_spec, occupancy_shift), FIELD(bq_native_spec, observe), FIELD(bq_native_spec, producer_cpu), FIELD(bq_native_spec, consumer_cpu),
        FIELD(bq_native_spec, latency_ns), FIELD(bq_native_spec, latency_cap),
        sizeof(bq_native_result),
        FIELD(bq_native_result, elapsed_ns), FIELD(bq_native_result, threads_cpu_ns), FIELD(bq_native_result, pushes), FIELD(bq_native_result, push_waits),
        FIELD(bq_native_result, pops), FIELD(bq_native_result, pop_waits), FIELD(bq_native_result, producer_blocked_ns),
        FIELD(bq_native_result, consumer_blocked_ns), FIELD(bq_native_result, max_len),
        FIELD(bq_native_result, latency_len), FIELD(bq_native_result, delivery_ok), FIELD(bq_native_result, error),
    };
#undef FIELD
    size_t total = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n && i < total; i++) out[i] = all[i];
    return total;
}
