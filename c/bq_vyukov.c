/* bq_vyukov.c: a bounded blocking queue on Dmitry Vyukov's bounded MPMC ring buffer: every
 * slot carries a sequence number (its "stamp") that says whose turn it is, and a push (pop)
 * takes its position with one CAS on the enqueue (dequeue) position. No lock on the way in or
 * out; a thread that finds the queue full (empty) spins briefly, then sleeps on a condition
 * variable. The lock-free ceiling for the mutex-and-condition queues of bq.c, bqueue.ml and the
 * port. The ABI and the close semantics are c/bq.h's; the operations are in bq.c's order.
 *
 * Built two ways from this one source: as a plugin exporting bq.h's names
 *   gcc -shared -fPIC -O2 -I c -o libbqv.so c/bq_vyukov.c -lpthread
 * and into the harness next to bq.c, with the names renamed by the preprocessor
 * (harness/build.rs defines bq_new=bqv_new and so on).
 *
 * Positions and stamps. `tail` counts the pushes that took a position, `head` the pops;
 * position p lives in slot p % capacity. The stamp of that slot is
 *   2p      the slot is free for the push at position p,
 *   2p + 1  the slot holds the item pushed at position p (it is the pop at p's turn),
 * and the pop at p hands the slot to the push at p + capacity by setting 2(p + capacity).
 * Doubling keeps "full for p" and "free for p + capacity" apart when the capacity is 1, where
 * Vyukov's original stamps (p + 1 and p + capacity) coincide; so there are exactly `capacity`
 * slots and the (capacity+1)th push finds the queue full, whatever the capacity (no rounding to
 * a power of two, at the price of a division per operation). Stamps are compared by their signed
 * difference, so their wrap-around is harmless; positions never wrap: bit 63 of `tail` is the
 * closed flag, and 2^63 pushes take centuries.
 *
 * Linearization points: a push at its CAS on tail, a pop at its CAS on head, bq_close at its
 * fetch_or on tail. Because the closed flag is a bit of tail, a push that read "open" and then
 * lost the race to bq_close fails its CAS and sees the flag: nothing enqueues after the close.
 * A thread that took a position but has not yet written its stamp is "in flight": the
 * operations that meet its slot wait for it (a few instructions, or a yield if it was
 * preempted) instead of answering full or empty, so that try_push says full and try_pop says
 * empty only when the queue is (crossbeam's ArrayQueue does the same).
 *
 * Memory ordering: every atomic access is seq_cst (C11's default), so that every decision that
 * reads two variables (head and tail; a stamp and a waiter count) reads them in one total
 * order, the order the comments below argue in. The item itself is a plain field: it is written
 * before its stamp is stored and read after the stamp is loaded, and a seq_cst store/load pair
 * is a release/acquire pair. On x86 this costs nothing over acquire/release except the stamp
 * store, an xchg instead of a mov: the one locked instruction the wake-up protocol needs anyway
 * (as a fence it would be an mfence, and ThreadSanitizer does not model fences).
 *
 * Waiting: see `wake` for the protocol and why no wake-up is lost. */
#define _POSIX_C_SOURCE 200809L
#include "bq.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_LINE 64
#define CLOSED ((uint64_t)1 << 63) /* in tail */

/* Backoff: step k pauses 2^k times up to SPIN_LIMIT, then yields the CPU. A blocking operation
 * retries YIELD_LIMIT times before it sleeps (127 pauses, then 3 yields): that wins when the
 * other side is running on another core and about to make room, and costs CPU when it is not. */
enum { SPIN_LIMIT = 6, YIELD_LIMIT = 10 };

struct slot {
    _Atomic uint64_t stamp;
    uint64_t item; /* written before the stamp is released, read after it is acquired */
};

struct bq {
    /* Read-only after bq_new. */
    struct slot *slots;
    size_t capacity;
    /* Each position on its own cache line: producers hammer one, consumers the other. */
    alignas(CACHE_LINE) _Atomic uint64_t tail; /* next push position | CLOSED */
    alignas(CACHE_LINE) _Atomic uint64_t head; /* next pop position */
    /* The sleeping side. The counters are read by every operation, written only by sleepers. */
    alignas(CACHE_LINE) atomic_uint push_waiters; /* sleepers on not_full; changed under mutex */
    atomic_uint pop_waiters;                      /* sleepers on not_empty; changed under mutex */
    pthread_mutex_t mutex;                        /* only for sleeping and waking */
    pthread_cond_t not_full;
    pthread_cond_t not_empty;
};

/* Deadlines use CLOCK_MONOTONIC so that a wall-clock jump cannot stretch or cut a wait. */
static struct timespec deadline_after(uint64_t timeout_ns) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns % 1000000000u;
    uint64_t extra_s = timeout_ns / 1000000000u + ns / 1000000000u;
    /* Clamp absurd timeouts instead of overflowing time_t: ~292 years is "forever" enough. */
    const uint64_t max_s = (uint64_t)1 << 33;
    ts.tv_sec += (time_t)(extra_s > max_s ? max_s : extra_s);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

static void backoff(unsigned step) {
    if (step <= SPIN_LIMIT) {
        for (unsigned i = 0; i < 1u << step; i++) cpu_relax();
    } else {
        sched_yield();
    }
}

/* Never sleeps: BQ_OK, BQ_FULL or BQ_CLOSED. It may spin on a pop in flight at its slot. */
static int try_enqueue(bq *q, uint64_t item) {
    uint64_t tail = atomic_load(&q->tail);
    for (unsigned step = 0;;) {
        if (tail & CLOSED) return BQ_CLOSED;
        struct slot *s = &q->slots[tail % q->capacity];
        uint64_t stamp = atomic_load(&s->stamp);
        int64_t diff = (int64_t)(stamp - 2 * tail);
        if (diff == 0) {
            /* The slot is ours if we take the position. The CAS fails (and reloads tail) when
             * another producer took it first or bq_close set the flag. */
            if (atomic_compare_exchange_weak(&q->tail, &tail, tail + 1)) {
                s->item = item;
                atomic_store(&s->stamp, 2 * tail + 1);
                return BQ_OK;
            }
        } else if (diff < 0) {
            /* The slot is not free for this lap yet: it holds position tail - capacity (whose
             * push or pop may be in flight). head is read after tail, and tail - head never
             * exceeds the capacity, so head + capacity == tail means that at this read the
             * queue held capacity items and was open (tail had no flag when read): full.
             * Otherwise the pop of tail - capacity is in flight: wait for it. */
            uint64_t head = atomic_load(&q->head);
            if (head + q->capacity == tail) return BQ_FULL;
            backoff(step);
            if (step < YIELD_LIMIT) step++;
            tail = atomic_load(&q->tail);
        } else {
            tail = atomic_load(&q->tail); /* another producer filled this position: catch up */
        }
    }
}

/* Never sleeps: BQ_OK, BQ_EMPTY or BQ_CLOSED. It may spin on a push in flight at its slot. */
static int try_dequeue(bq *q, uint64_t *item) {
    uint64_t head = atomic_load(&q->head);
    for (unsigned step = 0;;) {
        struct slot *s = &q->slots[head % q->capacity];
        uint64_t stamp = atomic_load(&s->stamp);
        int64_t diff = (int64_t)(stamp - (2 * head + 1));
        if (diff == 0) {
            if (atomic_compare_exchange_weak(&q->head, &head, head + 1)) {
                *item = s->item;
                /* Hand the slot to the push one lap later. */
                atomic_store(&s->stamp, 2 * (head + q->capacity));
                return BQ_OK;
            }
        } else if (diff < 0) {
            /* Nothing published at head yet: empty, or the push at head is in flight. tail is
             * read after head, and head cannot pass tail (a pop at p needs the push at p, which
             * moved tail past p first), so tail == head means nothing was buffered at that
             * read; its flag says whether the queue was closed then (closed and drained).
             * Otherwise wait for the push in flight. */
            uint64_t tail = atomic_load(&q->tail);
            if ((tail & ~CLOSED) == head) return (tail & CLOSED) ? BQ_CLOSED : BQ_EMPTY;
            backoff(step);
            if (step < YIELD_LIMIT) step++;
            head = atomic_load(&q->head);
        } else {
            head = atomic_load(&q->head); /* another consumer took this position: catch up */
        }
    }
}

/* The waking half of an eventcount, called after a push published an item (to wake a pop
 * waiter) or a pop freed a slot (to wake a push waiter), by storing a stamp. The sleeping half
 * (push_waiting, pop_waiting) runs under the mutex: increment the counter, retry
 * the operation, which loads that stamp, and sleep only if it still fails. Dekker's argument,
 * in the seq_cst total order: either our load of the counter comes after the sleeper's
 * increment, and we signal; or it comes before, and then our stamp store (sequenced before our
 * load) comes before the sleeper's retry (sequenced after its increment), which sees the stamp
 * and does not sleep. We signal under the mutex, which the sleeper holds from its increment to
 * its pthread_cond_wait, so the signal cannot fall between its retry and its sleep.
 * One signal per item (per freed slot) is enough: a woken sleeper always retries before it
 * looks at its deadline, so a signal is never spent on a thread that leaves without trying to
 * take what it was signalled for. When nobody sleeps this is one load: no lock, no system
 * call. */
static void wake(bq *q, atomic_uint *waiters, pthread_cond_t *cond) {
    if (atomic_load(waiters) == 0) return;
    pthread_mutex_lock(&q->mutex);
    pthread_cond_signal(cond);
    pthread_mutex_unlock(&q->mutex);
}

static int cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex, const struct timespec *deadline) {
    return deadline ? pthread_cond_timedwait(cond, mutex, deadline) : pthread_cond_wait(cond, mutex);
}

/* bq_push and bq_push_timeout (deadline NULL: no deadline). */
static int push_waiting(bq *q, uint64_t item, const struct timespec *deadline) {
    int rc = try_enqueue(q, item);
    for (unsigned step = 0; rc == BQ_FULL && step < YIELD_LIMIT; step++) {
        backoff(step);
        rc = try_enqueue(q, item);
    }
    if (rc == BQ_FULL) {
        pthread_mutex_lock(&q->mutex);
        atomic_fetch_add(&q->push_waiters, 1); /* see `wake` */
        int waited = 0;
        while ((rc = try_enqueue(q, item)) == BQ_FULL && waited != ETIMEDOUT)
            waited = cond_wait(&q->not_full, &q->mutex, deadline);
        atomic_fetch_sub(&q->push_waiters, 1);
        pthread_mutex_unlock(&q->mutex);
        if (rc == BQ_FULL) rc = BQ_TIMEOUT;
    }
    if (rc == BQ_OK) wake(q, &q->pop_waiters, &q->not_empty);
    return rc;
}

/* bq_pop and bq_pop_timeout: the mirror image of push_waiting. */
static int pop_waiting(bq *q, uint64_t *item, const struct timespec *deadline) {
    int rc = try_dequeue(q, item);
    for (unsigned step = 0; rc == BQ_EMPTY && step < YIELD_LIMIT; step++) {
        backoff(step);
        rc = try_dequeue(q, item);
    }
    if (rc == BQ_EMPTY) {
        pthread_mutex_lock(&q->mutex);
        atomic_fetch_add(&q->pop_waiters, 1);
        int waited = 0;
        while ((rc = try_dequeue(q, item)) == BQ_EMPTY && waited != ETIMEDOUT)
            waited = cond_wait(&q->not_empty, &q->mutex, deadline);
        atomic_fetch_sub(&q->pop_waiters, 1);
        pthread_mutex_unlock(&q->mutex);
        if (rc == BQ_EMPTY) rc = BQ_TIMEOUT;
    }
    if (rc == BQ_OK) wake(q, &q->push_waiters, &q->not_full);
    return rc;
}

bq *bq_new(size_t capacity) {
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(struct slot)) return NULL;
    /* aligned_alloc wants a size that is a multiple of the alignment; sizeof(struct bq) is one. */
    bq *q = aligned_alloc(alignof(struct bq), sizeof *q);
    if (q == NULL) return NULL;
    memset(q, 0, sizeof *q);
    q->slots = malloc(capacity * sizeof *q->slots);
    if (q->slots == NULL) { free(q); return NULL; }
    for (size_t i = 0; i < capacity; i++) atomic_init(&q->slots[i].stamp, 2 * (uint64_t)i);
    q->capacity = capacity;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    atomic_init(&q->push_waiters, 0);
    atomic_init(&q->pop_waiters, 0);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->mutex, NULL);
    pthread_cond_init(&q->not_full, &attr);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_condattr_destroy(&attr);
    return q;
}

int bq_push(bq *q, uint64_t item) {
    return push_waiting(q, item, NULL);
}

int bq_try_push(bq *q, uint64_t item) {
    int rc = try_enqueue(q, item);
    if (rc == BQ_OK) wake(q, &q->pop_waiters, &q->not_empty);
    return rc;
}

int bq_push_timeout(bq *q, uint64_t item, uint64_t timeout_ns) {
    struct timespec deadline = deadline_after(timeout_ns);
    return push_waiting(q, item, &deadline);
}

int bq_pop(bq *q, uint64_t *item) {
    return pop_waiting(q, item, NULL);
}

int bq_try_pop(bq *q, uint64_t *item) {
    int rc = try_dequeue(q, item);
    if (rc == BQ_OK) wake(q, &q->push_waiters, &q->not_full);
    return rc;
}

int bq_pop_timeout(bq *q, uint64_t *item, uint64_t timeout_ns) {
    struct timespec deadline = deadline_after(timeout_ns);
    return pop_waiting(q, item, &deadline);
}

void bq_close(bq *q) {
    /* The linearization point: from here every push's CAS on tail fails and sees the flag. */
    atomic_fetch_or(&q->tail, CLOSED);
    /* Every sleeper retries under the mutex before it sleeps: one that retried before the
     * flag was set is in pthread_cond_wait by the time we hold the mutex. Broadcast: all of
     * them must see the flag, not just one. */
    pthread_mutex_lock(&q->mutex);
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mutex);
}

size_t bq_len(bq *q) {
    /* pushes - pops at one instant: tail, head, then tail again; if tail did not move, the
     * difference held when head was read and lies in [0, capacity]. Each retry means another
     * push succeeded; after a few, settle for an estimate clamped to [0, capacity]. */
    for (int tries = 0;; tries++) {
        uint64_t tail = atomic_load(&q->tail) & ~CLOSED;
        uint64_t head = atomic_load(&q->head);
        uint64_t again = atomic_load(&q->tail) & ~CLOSED;
        if (again == tail) return (size_t)(tail - head);
        if (tries == 8) return again - head > q->capacity ? q->capacity : (size_t)(again - head);
    }
}

size_t bq_capacity(bq *q) {
    return q->capacity; /* immutable after bq_new */
}

void bq_free(bq *q) {
    if (q == NULL) return;
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    pthread_mutex_destroy(&q->mutex);
    free(q->slots);
    free(q);
}
