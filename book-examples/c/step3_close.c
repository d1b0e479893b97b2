/* step3_close.c: the C twin of step 3's close, to see why close must broadcast. Three
 * consumers sleep on an empty queue; close wakes them with pthread_cond_broadcast or, as the
 * tempting mistake, with pthread_cond_signal. From the repository's root (the program goes to
 * target/, which git ignores):
 *   mkdir -p target/book-examples
 *   cc -std=c11 -Wall -O2 -pthread -o target/book-examples/step3_close book-examples/c/step3_close.c
 *   target/book-examples/step3_close broadcast
 *   target/book-examples/step3_close signal */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONSUMERS 3

/* ANCHOR: queue */
struct queue {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty;
    size_t len;     /* the items themselves do not matter */
    bool closed;
    int sleeping;   /* consumers in pop's wait (to show) */
};

/* 0 with an item; -1 once the queue is closed and empty. */
static int pop(struct queue *q) {
    pthread_mutex_lock(&q->mutex);
    while (q->len == 0 && !q->closed) {
        q->sleeping++;
        pthread_cond_wait(&q->not_empty, &q->mutex);
        q->sleeping--;
    }
    int rc = -1;
    if (q->len > 0) { q->len--; rc = 0; }
    pthread_mutex_unlock(&q->mutex);
    return rc;
}

static void close_queue(struct queue *q, bool broadcast) {
    pthread_mutex_lock(&q->mutex);
    q->closed = true;
    if (broadcast) /* every sleeper wakes and sees the flag */
        pthread_cond_broadcast(&q->not_empty);
    else           /* one sleeper wakes; the others sleep on */
        pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->mutex);
}
/* ANCHOR_END: queue */

static struct queue q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false, 0};
static pthread_mutex_t done_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER; /* CLOCK_REALTIME, as timedwait below */
static int returned = 0;

static void *consumer(void *arg) {
    (void)arg;
    while (pop(&q) == 0) {}
    pthread_mutex_lock(&done_mutex);
    returned++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_mutex);
    return NULL;
}

int main(int argc, char **argv) {
    bool broadcast = !(argc > 1 && strcmp(argv[1], "signal") == 0);
    pthread_t t;
    for (int i = 0; i < CONSUMERS; i++) {
        pthread_create(&t, NULL, consumer, NULL);
        pthread_detach(t);
    }
    /* Wait until all three sleep in pop, so that close finds them there. */
    for (;;) {
        pthread_mutex_lock(&q.mutex);
        int n = q.sleeping;
        pthread_mutex_unlock(&q.mutex);
        if (n == CONSUMERS) break;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    printf("%d consumers sleep in pop on an empty queue\n", CONSUMERS);
    close_queue(&q, broadcast);
    printf("close with pthread_cond_%s\n", broadcast ? "broadcast" : "signal");

    /* Give them 1 s to return. */
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 1;
    pthread_mutex_lock(&done_mutex);
    while (returned < CONSUMERS && pthread_cond_timedwait(&done_cond, &done_mutex, &deadline) == 0) {}
    int r = returned;
    pthread_mutex_unlock(&done_mutex);
    pthread_mutex_lock(&q.mutex);
    int still = q.sleeping;
    pthread_mutex_unlock(&q.mutex);
    printf("within 1 s: %d returned from pop; %d still asleep\n", r, still);
    return 0; /* exits with the sleepers still asleep: nothing would ever wake them */
}
