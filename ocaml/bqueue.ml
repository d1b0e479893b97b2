(* bqueue.ml: a bounded blocking queue: one Mutex, two Conditions (not_empty, not_full),
   a Stdlib.Queue and a closed flag. The same design as c/bq.c and rust/src/lib.rs; the
   operations appear in the same order in all three files.
   The ANCHOR comments mark the listings that the book (book/src) includes. *)

type error = Closed | Full | Empty | Timeout

(* ANCHOR: struct *)
type 'a t = {
  mutex : Mutex.t;
  not_empty : Condition.t; (* signalled when an item arrives, broadcast on close *)
  not_full : Condition.t;  (* signalled when a slot frees up, broadcast on close *)
  items : 'a Queue.t;
  capacity : int;
  mutable closed : bool;
}
(* ANCHOR_END: struct *)

(* ANCHOR: clock *)
(* Monotonic clock in nanoseconds (clock_stubs.c): the Stdlib has none, and a wall-clock
   jump must not stretch or cut a timed wait. *)
external now_ns : unit -> int = "bq_ml_monotonic_ns" [@@noalloc]
(* ANCHOR_END: clock *)

(* ANCHOR: wait_until *)
(* Stdlib.Condition has no timed wait. A timed waiter starts a timer thread that broadcasts
   [cond] at the deadline; the waiter re-checks its predicate and the clock after every
   wake-up. The timer sleeps in short slices so that it exits soon after the wait ends,
   instead of lingering until the deadline. Caller holds q.mutex. *)
let wait_until q cond ~deadline ~ready =
  let finished = Atomic.make false in
  let rec timer () =
    let left = deadline - now_ns () in
    if left > 0 && not (Atomic.get finished) then begin
      Thread.delay (Float.min (float_of_int left *. 1e-9) 0.01);
      timer ()
    end else if left <= 0 then Mutex.protect q.mutex (fun () -> Condition.broadcast cond)
  in
  if not (ready ()) then begin
    ignore (Thread.create timer ());
    while not (ready ()) && now_ns () < deadline do
      Condition.wait cond q.mutex
    done;
    Atomic.set finished true
  end
(* ANCHOR_END: wait_until *)

(* ANCHOR: enqueue *)
(* Caller holds q.mutex. *)
let enqueue q x =
  Queue.push x q.items;
  Condition.signal q.not_empty
(* ANCHOR_END: enqueue *)

(* ANCHOR: dequeue *)
(* Caller holds q.mutex. *)
let dequeue q =
  let x = Queue.pop q.items in
  Condition.signal q.not_full;
  x
(* ANCHOR_END: dequeue *)

(* ANCHOR: create *)
let create capacity =
  if capacity <= 0 then invalid_arg "Bqueue.create: capacity must be at least 1";
  { mutex = Mutex.create (); not_empty = Condition.create (); not_full = Condition.create ();
    items = Queue.create (); capacity; closed = false }
(* ANCHOR_END: create *)

let is_full q = Queue.length q.items >= q.capacity

(* ANCHOR: push *)
let push q x =
  Mutex.protect q.mutex (fun () ->
      while is_full q && not q.closed do
        Condition.wait q.not_full q.mutex
      done;
      if q.closed then Error Closed else (enqueue q x; Ok ()))
(* ANCHOR_END: push *)

(* ANCHOR: try_push *)
let try_push q x =
  Mutex.protect q.mutex (fun () ->
      if q.closed then Error Closed
      else if is_full q then Error Full
      else (enqueue q x; Ok ()))
(* ANCHOR_END: try_push *)

(* ANCHOR: deadline *)
(* [now + timeout], saturated: the largest timeout must not overflow into the past. *)
let deadline_after timeout_ns =
  let now = now_ns () in
  if timeout_ns > max_int - now then max_int else now + timeout_ns
(* ANCHOR_END: deadline *)

(* ANCHOR: push_timeout *)
let push_timeout q x ~timeout_ns =
  let deadline = deadline_after timeout_ns in
  Mutex.protect q.mutex (fun () ->
      wait_until q q.not_full ~deadline ~ready:(fun () -> not (is_full q) || q.closed);
      if q.closed then Error Closed
      else if is_full q then Error Timeout
      else (enqueue q x; Ok ()))
(* ANCHOR_END: push_timeout *)

(* ANCHOR: pop *)
let pop q =
  Mutex.protect q.mutex (fun () ->
      while Queue.is_empty q.items && not q.closed do
        Condition.wait q.not_empty q.mutex
      done;
      (* closed and drained *)
      if Queue.is_empty q.items then Error Closed else Ok (dequeue q))
(* ANCHOR_END: pop *)

(* ANCHOR: try_pop *)
let try_pop q =
  Mutex.protect q.mutex (fun () ->
      if not (Queue.is_empty q.items) then Ok (dequeue q)
      else if q.closed then Error Closed
      else Error Empty)
(* ANCHOR_END: try_pop *)

(* ANCHOR: pop_timeout *)
let pop_timeout q ~timeout_ns =
  let deadline = deadline_after timeout_ns in
  Mutex.protect q.mutex (fun () ->
      wait_until q q.not_empty ~deadline ~ready:(fun () -> not (Queue.is_empty q.items) || q.closed);
      if not (Queue.is_empty q.items) then Ok (dequeue q)
      else if q.closed then Error Closed
      else Error Timeout)
(* ANCHOR_END: pop_timeout *)

(* ANCHOR: close *)
let close q =
  Mutex.protect q.mutex (fun () ->
      q.closed <- true;
      (* Broadcast, not signal: every waiter must see the flag, not just one. *)
      Condition.broadcast q.not_empty;
      Condition.broadcast q.not_full)
(* ANCHOR_END: close *)

(* ANCHOR: len *)
let length q = Mutex.protect q.mutex (fun () -> Queue.length q.items)
(* ANCHOR_END: len *)

let capacity q = q.capacity
