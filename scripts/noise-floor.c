/* noise-floor.c: what this machine itself can resolve, outside the harness. A producer and a
 * consumer thread hand items to each other through a one-slot mutex-and-condition-variable
 * buffer (a hand-off per item: the costliest path of every queue here), for about 80 ms a
 * round, 31 rounds, in each placement: both threads on one CPU, and one on each of two CPUs.
 * Prints each placement's rounds as hand-offs per second: median, min, max and max/min, and the
 * same for two back-to-back rounds of one thread's arithmetic (the floor of any timing).
 * Build and run: scripts/noise-floor.sh (docs/measurement.md reports a run). */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROUNDS = 31 };

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) { perror("sched_setaffinity"); exit(2); }
}

typedef struct {
    pthread_mutex_t m;
    pthread_cond_t not_full, not_empty;
    int full;
    uint64_t item, items;
    int producer_cpu, consumer_cpu;
} slot;

static void *producer(void *arg) {
    slot *s = arg;
    pin(s->producer_cpu);
    for (uint64_t i = 0; i < s->items; i++) {
        pthread_mutex_lock(&s->m);
        while (s->full) pthread_cond_wait(&s->not_full, &s->m);
        s->item = i, s->full = 1;
        pthread_cond_signal(&s->not_empty);
        pthread_mutex_unlock(&s->m);
    }
    return NULL;
}

static void *consumer(void *arg) {
    slot *s = arg;
    pin(s->consumer_cpu);
    uint64_t sum = 0;
    for (uint64_t i = 0; i < s->items; i++) {
        pthread_mutex_lock(&s->m);
        while (!s->full) pthread_cond_wait(&s->not_empty, &s->m);
        sum += s->item, s->full = 0;
        pthread_cond_signal(&s->not_full);
        pthread_mutex_unlock(&s->m);
    }
    return (void *)(uintptr_t)sum;
}

/* One round: `items` hand-offs; returns hand-offs per second. */
static double handoffs(uint64_t items, int pcpu, int ccpu) {
    slot s = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, items, pcpu, ccpu };
    pthread_t p, c;
    uint64_t t0 = now_ns();
    pthread_create(&c, NULL, consumer, &s);
    pthread_create(&p, NULL, producer, &s);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    return (double)items / ((double)(now_ns() - t0) * 1e-9);
}

/* One thread's arithmetic for about as long: items per second. */
static double arithmetic(uint64_t items) {
    volatile uint64_t x = 1;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < items; i++) x = x * 6364136223846793005u + 1442695040888963407u;
    return (double)items / ((double)(now_ns() - t0) * 1e-9);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, double *v) {
    qsort(v, ROUNDS, sizeof *v, cmp);
    printf("| %-40s | %10.4f | %10.4f | %10.4f | %5.2f |\n", what, v[ROUNDS / 2] / 1e6, v[0] / 1e6, v[ROUNDS - 1] / 1e6,
           v[ROUNDS - 1] / v[0]);
}

int main(void) {
    double v[ROUNDS];
    printf("| %-40s | %10s | %10s | %10s | %5s |\n|---|---|---|---|---|\n", "31 rounds of about 80 ms", "median M/s",
           "min", "max", "max/min");
    /* Items per round from a pilot, so that a round lasts about 80 ms on any machine. */
    for (int apart = 0; apart <= 1; apart++) {
        double rate = handoffs(2000, 0, apart);
        uint64_t items = (uint64_t)(rate * 0.08) + 100;
        for (int i = 0; i < ROUNDS; i++) v[i] = handoffs(items, 0, apart);
        report(apart ? "hand-off, threads on CPUs 0 and 1" : "hand-off, both threads on CPU 0", v);
    }
    pin(0);
    double rate = arithmetic(1000000);
    uint64_t items = (uint64_t)(rate * 0.08);
    for (int i = 0; i < ROUNDS; i++) v[i] = arithmetic(items);
    report("one thread's arithmetic, CPU 0", v);
    return 0;
}
