/* bq_swap.c: a bounded blocking swap buffer: one mutex, two condition variables (not_empty,
 * not_full), two arrays and a closed flag. Producers append to `items`; a consumer that finds
 * the batch it swapped out last time used up swaps `items` for it (two pointers, one lock) and
 * takes what it wants from the batch, so one lock moves a whole batch to a consumer
 * (bq_pop_many). It waits on not_empty only when it found nothing at all. The same design as
 * ocaml/bq_swap.ml and rust/src/swap.rs; the operations appear in bq.c's order, bq_pop_many
 * after bq_pop_timeout.
 *
 * The bound counts both arrays: producers wait while `capacity` items are buffered, swapped out
 * or not. What a consumer does not take of a batch stays in the queue (batch[head..batch_len)),
 * visible to every consumer, to bq_try_pop and to bq_len, so several consumers see one FIFO
 * queue (the contract suite and `bqh validate` check it as such).
 *
 * Each side is woken only when it has sleepers (push_waiters, pop_waiters): a consumer that
 * frees n slots wakes n producers, or all of them with one broadcast when n covers them.
 *
 * Built two ways from this one source, as bq_vyukov.c is: as a plugin exporting bq.h's names
 *   gcc -shared -fPIC -O2 -I c -o libbqs.so c/bq_swap.c -lpthread
 * and into the harness next to bq.c, renamed bqs_* by the preprocessor (harness/build.rs). */
#define _POSIX_C_SOURCE 200809L
#include "bq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bq {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty; /* signalled when an item arrives and a consumer sleeps, broadcast on close */
    pthread_cond_t not_full;  /* signalled when slots free up and producers sleep, broadcast on close */
    uint64_t *items;          /* producers append: items[0..len) */
    uint64_t *batch;          /* swapped out, the oldest items: batch[head..batch_len) */
    size_t capacity;
    size_t len, head, batch_len;
    unsigned push_waiters, pop_waiters; /* threads asleep on not_full, on not_empty */
    bool closed;
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

/* Caller holds q->mutex. Items buffered, swapped out or not. */
static size_t buffered(const bq *q) {
    return q->len + (q->batch_len - q->head);
}

/* Caller holds q->mutex. */
static void enqueue(bq *q, uint64_t item) {
    q->items[q->len++] = item;
    if (q->pop_waiters > 0) pthread_cond_signal(&q->not_empty);
}

/* Caller holds q->mutex, buffered(q) > 0 and max >= 1. Takes up to max of the oldest items
 * into out; when the batch is used up, first swaps in everything the producers appended. */
static size_t take(bq *q, uint64_t *out, size_t max) {
    if (q->head == q->batch_len) {
        uint64_t *used = q->batch;
        q->batch = q->items;
        q->batch_len = q->len;
        q->head = 0;
        q->items = used;
        q->len = 0;
    }
    size_t n = q->batch_len - q->head < max ? q->batch_len - q->head : max;
    memcpy(out, q->batch + q->head, n * sizeof *out);
    q->head += n;
    if (n >= q->push_waiters) {
        if (q->push_waiters > 0) pthread_cond_broadcast(&q->not_full);
    } else {
        for (size_t i = 0; i < n; i++) pthread_cond_signal(&q->not_full);
    }
    return n;
}

bq *bq_new(size_t capacity) {
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(uint64_t)) return NULL;
    bq *q = calloc(1, sizeof *q);
    if (q == NULL) return NULL;
    q->items = malloc(capacity * sizeof *q->items);
    q->batch = malloc(capacity * sizeof *q->batch);
    if (q->items == NULL || q->batch == NULL) { free(q->items); free(q->batch); free(q); return NULL; }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->mutex, NULL);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    q->capacity = capacity;
    return q;
}

int bq_push(bq *q, uint64_t item) {
    pthread_mutex_lock(&q->mutex);
    while (buffered(q) == q->capacity && !q->closed) {
        q->push_waiters++;
        pthread_cond_wait(&q->not_full, &q->mutex);
        q->push_waiters--;
    }
    int rc = BQ_CLOSED;
    if (!q->closed) { enqueue(q, item); rc = BQ_OK; }
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

int bq_try_push(bq *q, uint64_t item) {
    pthread_mutex_lock(&q->mutex);
    int rc = q->closed ? BQ_CLOSED : buffered(q) == q->capacity ? BQ_FULL : BQ_OK;
    if (rc == BQ_OK) enqueue(q, item);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

int bq_push_timeout(bq *q, uint64_t item, uint64_t timeout_ns) {
    struct timespec deadline = deadline_after(timeout_ns);
    pthread_mutex_lock(&q->mutex);
    int waited = 0;
    while (buffered(q) == q->capacity && !q->closed && waited != ETIMEDOUT) {
        q->push_waiters++;
        waited = pthread_cond_timedwait(&q->not_full, &q->mutex, &deadline);
        q->push_waiters--;
    }
    int rc = q->closed ? BQ_CLOSED : buffered(q) == q->capacity ? BQ_TIMEOUT : BQ_OK;
    if (rc == BQ_OK) enqueue(q, item);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

int bq_pop(bq *q, uint64_t *item) {
    pthread_mutex_lock(&q->mutex);
    while (buffered(q) == 0 && !q->closed) {
        q->pop_waiters++;
        pthread_cond_wait(&q->not_empty, &q->mutex);
        q->pop_waiters--;
    }
    int rc = BQ_CLOSED; /* closed and drained */
    if (buffered(q) > 0) { take(q, item, 1); rc = BQ_OK; }
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

int bq_try_pop(bq *q, uint64_t *item) {
    pthread_mutex_lock(&q->mutex);
    int rc = buffered(q) > 0 ? BQ_OK : q->closed ? BQ_CLOSED : BQ_EMPTY;
    if (rc == BQ_OK) take(q, item, 1);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

int bq_pop_timeout(bq *q, uint64_t *item, uint64_t timeout_ns) {
    struct timespec deadline = deadline_after(timeout_ns);
    pthread_mutex_lock(&q->mutex);
    int waited = 0;
    while (buffered(q) == 0 && !q->closed && waited != ETIMEDOUT) {
        q->pop_waiters++;
        waited = pthread_cond_timedwait(&q->not_empty, &q->mutex, &deadline);
        q->pop_waiters--;
    }
    int rc = buffered(q) > 0 ? BQ_OK : q->closed ? BQ_CLOSED : BQ_TIMEOUT;
    if (rc == BQ_OK) take(q, item, 1);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

int bq_pop_many(bq *q, uint64_t *items, size_t max, size_t *taken) {
    *taken = 0;
    if (max == 0) return BQ_OK;
    pthread_mutex_lock(&q->mutex);
    while (buffered(q) == 0 && !q->closed) {
        q->pop_waiters++;
        pthread_cond_wait(&q->not_empty, &q->mutex);
        q->pop_waiters--;
    }
    int rc = BQ_CLOSED; /* closed and drained */
    if (buffered(q) > 0) { *taken = take(q, items, max); rc = BQ_OK; }
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

void bq_close(bq *q) {
    pthread_mutex_lock(&q->mutex);
    q->closed = true;
    /* Broadcast, not signal: every waiter must see the flag, not just one. */
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mutex);
}

size_t bq_len(bq *q) {
    pthread_mutex_lock(&q->mutex);
    size_t len = buffered(q);
    pthread_mutex_unlock(&q->mutex);
    return len;
}

size_t bq_capacity(bq *q) {
    return q->capacity; /* immutable after bq_new */
}

void bq_free(bq *q) {
    if (q == NULL) return;
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mutex);
    free(q->batch);
    free(q->items);
    free(q);
}
