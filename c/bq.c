/* bq.c: a bounded blocking queue: a ring buffer, one mutex, two condition variables
 * (not_empty, not_full) and a closed flag. The same design as ocaml/bqueue.ml and
 * rust/src/lib.rs; the operations appear in the same order in all three files.
 * The ANCHOR comments mark the listings that the book (book/src) includes. */
#define _POSIX_C_SOURCE 200809L
#include "bq.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

/* ANCHOR: struct */
struct bq {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty; /* signalled when an item arrives, broadcast on close */
    pthread_cond_t not_full;  /* signalled when a slot frees up, broadcast on close */
    uint64_t *items;          /* ring of `capacity` slots */
    size_t capacity;
    size_t head;              /* index of the oldest item */
    size_t len;
    bool closed;
};
/* ANCHOR_END: struct */

/* ANCHOR: deadline */
/* Deadlines use CLOCK_MONOTONIC so that a wall-clock jump cannot stretch or cut a wait. */
static struct timespec deadline_after(uint64_t timeout_ns) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns % 1000000000u;
    uint64_t extra_s = timeout_ns / 1000000000u + ns / 1000000000u;
    /* Clamp absurd timeouts instead of overflowing time_t: 2^33 s is about 272 years, "forever" enough. */
    const uint64_t max_s = (uint64_t)1 << 33;
    ts.tv_sec += (time_t)(extra_s > max_s ? max_s : extra_s);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}
/* ANCHOR_END: deadline */

/* ANCHOR: enqueue */
/* Caller holds q->mutex. */
static void enqueue(bq *q, uint64_t item) {
    q->items[(q->head + q->len) % q->capacity] = item;
    q->len++;
    pthread_cond_signal(&q->not_empty);
}
/* ANCHOR_END: enqueue */

/* ANCHOR: dequeue */
/* Caller holds q->mutex. */
static uint64_t dequeue(bq *q) {
    uint64_t item = q->items[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->len--;
    pthread_cond_signal(&q->not_full);
    return item;
}
/* ANCHOR_END: dequeue */

/* ANCHOR: create */
bq *bq_new(size_t capacity) {
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(uint64_t)) return NULL;
    bq *q = calloc(1, sizeof *q);
    if (q == NULL) return NULL;
    q->items = malloc(capacity * sizeof *q->items);
    if (q->items == NULL) { free(q); return NULL; }
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
/* ANCHOR_END: create */

/* ANCHOR: push */
int bq_push(bq *q, uint64_t item) {
    pthread_mutex_lock(&q->mutex);
    while (q->len == q->capacity && !q->closed)
        pthread_cond_wait(&q->not_full, &q->mutex);
    int rc = BQ_CLOSED;
    if (!q->closed) { enqueue(q, item); rc = BQ_OK; }
    pthread_mutex_unlock(&q->mutex);
    return rc;
}
/* ANCHOR_END: push */

/* ANCHOR: try_push */
int bq_try_push(bq *q, uint64_t item) {
    pthread_mutex_lock(&q->mutex);
    int rc = q->closed ? BQ_CLOSED : q->len == q->capacity ? BQ_FULL : BQ_OK;
    if (rc == BQ_OK) enqueue(q, item);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}
/* ANCHOR_END: try_push */

/* ANCHOR: push_timeout */
int bq_push_timeout(bq *q, uint64_t item, uint64_t timeout_ns) {
    struct timespec deadline = deadline_after(timeout_ns);
    pthread_mutex_lock(&q->mutex);
    int waited = 0;
    while (q->len == q->capacity && !q->closed && waited != ETIMEDOUT)
        waited = pthread_cond_timedwait(&q->not_full, &q->mutex, &deadline);
    int rc = q->closed ? BQ_CLOSED : q->len == q->capacity ? BQ_TIMEOUT : BQ_OK;
    if (rc == BQ_OK) enqueue(q, item);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}
/* ANCHOR_END: push_timeout */

/* ANCHOR: pop */
int bq_pop(bq *q, uint64_t *item) {
    pthread_mutex_lock(&q->mutex);
    while (q->len == 0 && !q->closed)
        pthread_cond_wait(&q->not_empty, &q->mutex);
    int rc = BQ_CLOSED; /* closed and drained */
    if (q->len > 0) { *item = dequeue(q); rc = BQ_OK; }
    pthread_mutex_unlock(&q->mutex);
    return rc;
}
/* ANCHOR_END: pop */

/* ANCHOR: try_pop */
int bq_try_pop(bq *q, uint64_t *item) {
    pthread_mutex_lock(&q->mutex);
    int rc = q->len > 0 ? BQ_OK : q->closed ? BQ_CLOSED : BQ_EMPTY;
    if (rc == BQ_OK) *item = dequeue(q);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}
/* ANCHOR_END: try_pop */

/* ANCHOR: pop_timeout */
int bq_pop_timeout(bq *q, uint64_t *item, uint64_t timeout_ns) {
    struct timespec deadline = deadline_after(timeout_ns);
    pthread_mutex_lock(&q->mutex);
    int waited = 0;
    while (q->len == 0 && !q->closed && waited != ETIMEDOUT)
        waited = pthread_cond_timedwait(&q->not_empty, &q->mutex, &deadline);
    int rc = q->len > 0 ? BQ_OK : q->closed ? BQ_CLOSED : BQ_TIMEOUT;
    if (rc == BQ_OK) *item = dequeue(q);
    pthread_mutex_unlock(&q->mutex);
    return rc;
}
/* ANCHOR_END: pop_timeout */

/* ANCHOR: close */
void bq_close(bq *q) {
    pthread_mutex_lock(&q->mutex);
    q->closed = true;
    /* Broadcast, not signal: every waiter must see the flag, not just one. */
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->mutex);
}
/* ANCHOR_END: close */

/* ANCHOR: len */
size_t bq_len(bq *q) {
    pthread_mutex_lock(&q->mutex);
    size_t len = q->len;
    pthread_mutex_unlock(&q->mutex);
    return len;
}
/* ANCHOR_END: len */

size_t bq_capacity(bq *q) {
    return q->capacity; /* immutable after bq_new */
}

void bq_free(bq *q) {
    if (q == NULL) return;
    pthread_cond_destroy(&q->not_full);
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mutex);
    free(q->items);
    free(q);
}
