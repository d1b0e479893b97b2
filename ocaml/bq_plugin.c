/* bq_plugin.c: c/bq.h on top of an OCaml module implementing ocaml/bqueue.mli, through the
 * callbacks ocaml/bq_ffi.ml registers. `bqh validate --reference your_queue.ml` links this file,
 * bq_ffi.ml, your module (as bqueue.ml) and a private OCaml runtime into one shared library
 * (crates/engine/src/impls/ocaml_module.rs), loaded like any plugin.
 *
 * The runtime starts on first use, on a thread of its own that stays parked (so that domain 0's
 * main thread never exits). Every calling thread registers with the runtime once
 * (caml_c_thread_register; unregistered when it exits, by a thread-specific destructor) and
 * holds the runtime lock only during a call: OCaml's Mutex.lock and Condition.wait release it
 * while they wait, as in crates/engine/src/impls/ocaml.rs. Items and codes cross as bq_ffi.ml's
 * immediate ints. */
#define _POSIX_C_SOURCE 200809L
#define CAML_NAME_SPACE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <caml/alloc.h>
#include <caml/callback.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>
#include <caml/printexc.h>
#include <caml/threads.h>

#include "bq.h"
#include "bq_native.h"

struct bq {
    value q; /* the OCaml queue, a generational global root */
};

static pthread_once_t started = PTHREAD_ONCE_INIT;
static pthread_key_t registered;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_done = PTHREAD_COND_INITIALIZER;
static int runtime_up = 0;

static void *runtime_thread(void *arg) {
    (void)arg;
    char *argv[] = { "bq_plugin", NULL };
    caml_startup(argv);
    caml_release_runtime_system();
    pthread_mutex_lock(&start_lock);
    runtime_up = 1;
    pthread_cond_broadcast(&start_done);
    pthread_mutex_unlock(&start_lock);
    for (;;) pause();
    return NULL;
}

static void unregister(void *flag) {
    (void)flag;
    caml_c_thread_unregister();
}

static void start(void) {
    pthread_key_create(&registered, unregister);
    pthread_t t;
    if (pthread_create(&t, NULL, runtime_thread, NULL) != 0) abort();
    pthread_detach(t);
    pthread_mutex_lock(&start_lock);
    while (!runtime_up) pthread_cond_wait(&start_done, &start_lock);
    pthread_mutex_unlock(&start_lock);
}

/* Registers the calling thread (once) and takes the runtime lock. */
static void enter(void) {
    pthread_once(&started, start);
    if (pthread_getspecific(registered) == NULL) {
        caml_c_thread_register();
        pthread_setspecific(registered, (void *)1);
    }
    caml_acquire_runtime_system();
}

static void leave(void) {
    caml_release_runtime_system();
}

static const value *closure(const char *name) {
    const value *f = caml_named_value(name);
    if (f == NULL) abort(); /* bq_ffi.ml not linked: a build error of the plugin */
    return f;
}

/* OCaml ints are 63-bit: a timeout beyond max_int is max_int (bqueue.mli: "forever"). */
static value timeout_val(uint64_t ns) {
    return Val_long(ns > (uint64_t)Max_long ? Max_long : (intnat)ns);
}

static int item_result(value r, uint64_t *item) {
    intnat v = Long_val(r);
    if (v < 0) return (int)-v;
    *item = (uint64_t)v;
    return BQ_OK;
}

bq *bq_new(size_t capacity) {
    if (capacity == 0 || capacity > (size_t)Max_long) return NULL;
    bq *q = malloc(sizeof *q);
    if (q == NULL) return NULL;
    enter();
    value r = caml_callback_exn(*closure("bqueue_create"), Val_long((intnat)capacity));
    if (Is_exception_result(r) || Is_none(r)) {
        leave();
        free(q);
        return NULL;
    }
    q->q = Some_val(r);
    caml_register_generational_global_root(&q->q);
    leave();
    return q;
}

int bq_push(bq *q, uint64_t item) {
    enter();
    int r = (int)Long_val(caml_callback2(*closure("bqueue_push"), q->q, Val_long((intnat)item)));
    leave();
    return r;
}

int bq_try_push(bq *q, uint64_t item) {
    enter();
    int r = (int)Long_val(caml_callback2(*closure("bqueue_try_push"), q->q, Val_long((intnat)item)));
    leave();
    return r;
}

int bq_push_timeout(bq *q, uint64_t item, uint64_t timeout_ns) {
    enter();
    int r = (int)Long_val(
        caml_callback3(*closure("bqueue_push_timeout"), q->q, Val_long((intnat)item), timeout_val(timeout_ns)));
    leave();
    return r;
}

int bq_pop(bq *q, uint64_t *item) {
    enter();
    int r = item_result(caml_callback(*closure("bqueue_pop"), q->q), item);
    leave();
    return r;
}

int bq_try_pop(bq *q, uint64_t *item) {
    enter();
    int r = item_result(caml_callback(*closure("bqueue_try_pop"), q->q), item);
    leave();
    return r;
}

int bq_pop_timeout(bq *q, uint64_t *item, uint64_t timeout_ns) {
    enter();
    int r = item_result(caml_callback2(*closure("bqueue_pop_timeout"), q->q, timeout_val(timeout_ns)), item);
    leave();
    return r;
}

void bq_close(bq *q) {
    enter();
    caml_callback(*closure("bqueue_close"), q->q);
    leave();
}

size_t bq_len(bq *q) {
    enter();
    size_t n = (size_t)Long_val(caml_callback(*closure("bqueue_length"), q->q));
    leave();
    return n;
}

size_t bq_capacity(bq *q) {
    enter();
    size_t n = (size_t)Long_val(caml_callback(*closure("bqueue_capacity"), q->q));
    leave();
    return n;
}

void bq_free(bq *q) {
    if (q == NULL) return;
    enter();
    caml_remove_generational_global_root(&q->q);
    leave();
    free(q);
}

/* ocaml/bq_native.ml's runner on this module, as c/bq_native.h's bq_native_run runs the C
 * queue: the same spec in, the same result out, so a user's OCaml original runs on its own
 * domains (bq_native_run_domains) or systhreads (bq_native_run_systhreads) beside its port.
 * The calling thread holds the runtime lock; Domain.join and Thread.join release it. */
static int native_run(const bq_native_spec *s, bq_native_result *out, int domains) {
    memset(out, 0, sizeof *out);
    enter();
    CAMLparam0();
    CAMLlocal2(spec, r);
    /* bq_native.ml's spec record, field for field in its order. */
    spec = caml_alloc_tuple(14);
    intnat fields[14] = {
        (intnat)s->producers, (intnat)s->consumers, (intnat)s->per_producer, (intnat)s->capacity,
        (intnat)s->consumer_work_ns, (intnat)s->burst_items, (intnat)s->burst_pause_ns, 0,
        (intnat)s->latency_shift, (intnat)s->occupancy_shift, 0, 0, (intnat)s->producer_cpu, (intnat)s->consumer_cpu,
    };
    for (int i = 0; i < 14; i++) Store_field(spec, i, Val_long(fields[i]));
    Store_field(spec, 7, Val_bool(s->seq != 0));
    Store_field(spec, 10, Val_bool(s->observe != 0));
    Store_field(spec, 11, Val_bool(domains));
    r = caml_callback_exn(*closure("bqueue_native_run"), spec);
    int rc = 0;
    if (Is_exception_result(r)) {
        snprintf(out->error, sizeof out->error, "the OCaml runner raised %s", caml_format_exception(Extract_exception(r)));
        rc = -1;
    } else {
        /* bq_native.ml's result record: the counts, the latencies, the error. */
        out->elapsed_ns = (uint64_t)Long_val(Field(r, 0));
        out->threads_cpu_ns = (uint64_t)Long_val(Field(r, 1));
        out->pushes = (uint64_t)Long_val(Field(r, 2));
        out->push_waits = (uint64_t)Long_val(Field(r, 3));
        out->pops = (uint64_t)Long_val(Field(r, 4));
        out->pop_waits = (uint64_t)Long_val(Field(r, 5));
        out->producer_blocked_ns = (uint64_t)Long_val(Field(r, 6));
        out->consumer_blocked_ns = (uint64_t)Long_val(Field(r, 7));
        out->max_len = (uint64_t)Long_val(Field(r, 8));
        value lat = Field(r, 9);
        size_t n = Wosize_val(lat);
        for (size_t i = 0; i < n && s->latency_ns && out->latency_len < s->latency_cap; i++)
            s->latency_ns[out->latency_len++] = (uint64_t)Long_val(Field(lat, i));
        value err = Field(r, 10);
        out->delivery_ok = Is_none(err);
        if (!out->delivery_ok) snprintf(out->error, sizeof out->error, "%s", String_val(Some_val(err)));
    }
    leave();
    CAMLreturnT(int, rc);
}

int bq_native_run_domains(const bq_native_spec *s, bq_native_result *out) { return native_run(s, out, 1); }
int bq_native_run_systhreads(const bq_native_spec *s, bq_native_result *out) { return native_run(s, out, 0); }
