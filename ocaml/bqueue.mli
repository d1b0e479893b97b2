(** bqueue.mli: the signature of a bounded blocking FIFO queue with an explicit close.

    [ocaml/bqueue.ml] implements it, and so must any module given to
    [bqh validate --reference path/to/your_queue.ml] (or [--candidate]): bqh compiles your file
    as [bqueue.ml] next to this interface, so a missing operation or a different type is reported
    by the compiler, with what to change. Your module may define anything else it needs.

    Semantics (those of c/bq.h, which the model queue of harness/src/validate/model.rs encodes):
    every operation is safe to call from many threads at once; after [close], pushes return
    [Error Closed] and enqueue nothing, pops return what is still buffered, in FIFO order, then
    [Error Closed]; [close] wakes every waiter. Items are OCaml [int]s ([0 .. max_int]). *)

type error = Closed | Full | Empty | Timeout

type 'a t

val create : int -> 'a t
(** [create capacity]; raises [Invalid_argument] when [capacity < 1]. *)

val push : 'a t -> 'a -> (unit, error) result
(** Waits while full and open: [Ok ()] or [Error Closed]. *)

val try_push : 'a t -> 'a -> (unit, error) result
(** [Ok ()], [Error Full] or [Error Closed]; never waits. *)

val push_timeout : 'a t -> 'a -> timeout_ns:int -> (unit, error) result
(** As [push], for at most [timeout_ns] nanoseconds (0 up to [max_int], which must neither
    overflow nor end early): [Ok ()], [Error Timeout] or [Error Closed]. *)

val pop : 'a t -> ('a, error) result
(** Waits while empty and open: an item, or [Error Closed] once closed and drained. *)

val try_pop : 'a t -> ('a, error) result
(** An item, [Error Empty] or [Error Closed]; never waits. *)

val pop_timeout : 'a t -> timeout_ns:int -> ('a, error) result
(** As [pop], for at most [timeout_ns] nanoseconds: an item, [Error Timeout] or [Error Closed]. *)

val close : 'a t -> unit
(** Idempotent; wakes every waiter. *)

val length : 'a t -> int
(** Items buffered now. *)

val capacity : 'a t -> int
