/* bq_stress.c: a stress driver for any implementation of c/bq.h, for the sanitizer builds
 * (harness/tests/validate.rs builds it with -fsanitize=thread and -fsanitize=address against
 * c/bq.c, c/bq_vyukov.c, c/bq_swap.c and the mutant fixtures; bq_pop_many too where a queue has it). Many producers and consumers at capacities 1 and 3 with
 * every operation, then blocked waiters and a close. Exit 0: every item delivered exactly once
 * and in order per producer; 1: a delivery error; killed by SIGALRM: a deadlock (some mutants).
 * Usage: bq_stress [deadline in seconds, default 60]
 *
 *   gcc -std=c11 -g -O1 -fsanitize=thread -I c c/tests/bq_stress.c c/bq.c -o /tmp/s -lpthread */
#define _POSIX_C_SOURCE 200809L
#include "bq.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PRODUCERS = 4, CONSUMERS = 4, PER_PRODUCER = 3000, WAITERS = 3, MANY = 4 };

/* bq_pop_many is optional in bq.h: weak, so that a queue without it links (and it is NULL). */
#pragma weak bq_pop_many

static bq *q;
static unsigned char seen[PRODUCERS][PER_PRODUCER];
static pthread_mutex_t seen_mutex = PTHREAD_MUTEX_INITIALIZER;
static int errors;

static uint64_t next_rand(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *producer(void *arg) {
    uint64_t p = (uint64_t)(uintptr_t)arg, rng = p * 0x9E3779B97F4A7C15u + 1;
    for (uint64_t s = 0; s < PER_PRODUCER; s++) {
        uint64_t item = (p << 32) | s;
        int rc;
        switch (next_rand(&rng) % 3) {
        case 0: rc = bq_push(q, item); break;
        case 1: while ((rc = bq_try_push(q, item)) == BQ_FULL) sched_yield(); break;
        default: while ((rc = bq_push_timeout(q, item, 100000)) == BQ_TIMEOUT) {} break;
        }
        if (rc != BQ_OK) {
            fprintf(stderr, "producer %llu: push returned %d\n", (unsigned long long)p, rc);
            __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
            return NULL;
        }
    }
    return NULL;
}

static void *consumer(void *arg) {
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x2545F4914F6CDD1Du + 7;
    uint64_t last[PRODUCERS];
    memset(last, 0xff, sizeof last);
    for (;;) {
        uint64_t items[MANY] = {0};
        size_t n = 1;
        int rc;
        switch (next_rand(&rng) % (bq_pop_many != NULL ? 4 : 3)) {
        case 0: rc = bq_pop(q, &items[0]); break;
        case 1: rc = bq_try_pop(q, &items[0]); break;
        case 2: rc = bq_pop_timeout(q, &items[0], 100000); break;
        default: rc = bq_pop_many(q, items, 1 + next_rand(&rng) % MANY, &n); break;
        }
        if (rc == BQ_CLOSED) return NULL;
        if (rc == BQ_EMPTY) { sched_yield(); continue; }
        if (rc == BQ_TIMEOUT) continue;
        for (size_t i = 0; i < n; i++) {
            uint64_t item = items[i], p = item >> 32, s = item & 0xffffffffu;
            if (rc != BQ_OK || n == 0 || n > MANY || p >= PRODUCERS || s >= PER_PRODUCER ||
                (last[p] != UINT64_MAX && s <= last[p])) {
                fprintf(stderr, "consumer: rc %d, item %llx out of order or unknown\n", rc, (unsigned long long)item);
                __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
                break;
            }
            last[p] = s;
            pthread_mutex_lock(&seen_mutex);
            seen[p][s]++;
            pthread_mutex_unlock(&seen_mutex);
        }
    }
}

/* Lets waiters reach their wait before the close (not needed for correctness). */
static void settle(void) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static void *blocked_pop(void *arg) {
    uint64_t item;
    *(int *)arg = bq_pop(q, &item);
    return NULL;
}

static void *blocked_push(void *arg) {
    *(int *)arg = bq_push(q, 99);
    return NULL;
}

static int round_at(size_t capacity) {
    q = bq_new(capacity);
    if (q == NULL) { fprintf(stderr, "bq_new(%zu) returned NULL\n", capacity); return 1; }
    memset(seen, 0, sizeof seen);
    pthread_t ps[PRODUCERS], cs[CONSUMERS];
    for (uintptr_t i = 0; i < CONSUMERS; i++) pthread_create(&cs[i], NULL, consumer, (void *)i);
    for (uintptr_t i = 0; i < PRODUCERS; i++) pthread_create(&ps[i], NULL, producer, (void *)i);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(ps[i], NULL);
    bq_close(q);
    for (int i = 0; i < CONSUMERS; i++) pthread_join(cs[i], NULL);
    for (int p = 0; p < PRODUCERS; p++)
        for (int s = 0; s < PER_PRODUCER; s++)
            if (seen[p][s] != 1) {
                fprintf(stderr, "capacity %zu: item %d of producer %d delivered %d times\n", capacity, s, p, seen[p][s]);
                errors++;
            }
    bq_free(q);

    /* Waiters blocked on an empty queue, then on a full one, released by close. */
    int rcs[WAITERS];
    pthread_t ws[WAITERS];
    q = bq_new(capacity);
    for (int i = 0; i < WAITERS; i++) pthread_create(&ws[i], NULL, blocked_pop, &rcs[i]);
    settle();
    bq_close(q);
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(ws[i], NULL);
        if (rcs[i] != BQ_CLOSED) { fprintf(stderr, "a blocked pop after close returned %d\n", rcs[i]); errors++; }
    }
    bq_free(q);
    q = bq_new(capacity);
    for (size_t i = 0; i < capacity; i++) bq_push(q, i);
    for (int i = 0; i < WAITERS; i++) pthread_create(&ws[i], NULL, blocked_push, &rcs[i]);
    settle();
    bq_close(q);
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(ws[i], NULL);
        if (rcs[i] != BQ_CLOSED) { fprintf(stderr, "a blocked push after close returned %d\n", rcs[i]); errors++; }
    }
    size_t drained = 0;
    uint64_t item;
    while (bq_pop(q, &item) == BQ_OK) drained++;
    if (drained != capacity) { fprintf(stderr, "drained %zu of %zu items after close\n", drained, capacity); errors++; }
    bq_free(q);
    return 0;
}

int main(int argc, char **argv) {
    /* A deadlocked mutant ends here instead of hanging the test: argv[1] seconds (default 60). */
    alarm(argc > 1 ? (unsigned)atoi(argv[1]) : 60);
    if (round_at(1) || round_at(3)) return 1;
    if (errors) { fprintf(stderr, "bq_stress: %d error(s)\n", errors); return 1; }
    printf("bq_stress: ok\n");
    return 0;
}
