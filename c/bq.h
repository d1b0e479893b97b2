/* bq.h: the C ABI of a bounded blocking queue of uint64_t items.
 *
 * This is the contract of the C queue in bq.c and of any external implementation the
 * harness loads with `make validate PLUGIN=libX.so`. Every function is thread-safe except
 * bq_free, which may only be called after every other caller has returned.
 *
 * Close semantics: after bq_close, pushes return BQ_CLOSED and enqueue nothing; pops return
 * the items still buffered, in FIFO order, then BQ_CLOSED. bq_close wakes every waiter.
 */
#ifndef BQ_H
#define BQ_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bq bq;

enum { BQ_OK = 0, BQ_CLOSED = 1, BQ_FULL = 2, BQ_EMPTY = 3, BQ_TIMEOUT = 4 };

bq     *bq_new(size_t capacity);          /* NULL when capacity == 0 or out of memory */
int     bq_push(bq *q, uint64_t item);    /* waits while full and open: BQ_OK or BQ_CLOSED */
int     bq_try_push(bq *q, uint64_t item);                          /* BQ_OK, BQ_FULL, BQ_CLOSED */
int     bq_push_timeout(bq *q, uint64_t item, uint64_t timeout_ns); /* BQ_OK, BQ_TIMEOUT, BQ_CLOSED */
int     bq_pop(bq *q, uint64_t *item);    /* waits while empty and open: BQ_OK, or BQ_CLOSED once closed and drained */
int     bq_try_pop(bq *q, uint64_t *item);                          /* BQ_OK, BQ_EMPTY, BQ_CLOSED */
int     bq_pop_timeout(bq *q, uint64_t *item, uint64_t timeout_ns); /* BQ_OK, BQ_TIMEOUT, BQ_CLOSED */
/* Optional (a plugin may leave it out; the harness then uses bq_pop, then bq_try_pop until
 * empty): waits like bq_pop for one item, then takes what else is buffered without waiting, up
 * to max items in all, into items[0..*taken), oldest first. BQ_OK (with *taken == 0 at once when
 * max == 0), or BQ_CLOSED once closed and drained. */
int     bq_pop_many(bq *q, uint64_t *items, size_t max, size_t *taken);
void    bq_close(bq *q);                  /* idempotent; wakes every waiting caller */
size_t  bq_len(bq *q);
size_t  bq_capacity(bq *q);
void    bq_free(bq *q);                   /* after every caller has returned */

#ifdef __cplusplus
}
#endif

#endif /* BQ_H */
