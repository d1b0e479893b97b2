(* bq_swap.ml: a bounded blocking swap buffer: one Mutex, two Conditions (not_empty, not_full),
   two lists and a closed flag. Producers cons onto [items]; a consumer that finds the batch it
   swapped out last time used up swaps [items] for the empty list (one lock, the list reversed
   into oldest-first order) and takes what it wants from the batch, so one lock moves a whole
   batch to a consumer ([pop_many]). It waits on not_empty only when it found nothing at all.
   The same design as c/bq_swap.c and rust/src/swap.rs; the operations appear in bqueue.ml's
   order, [pop_many] after [pop_timeout].

   The bound counts both lists: producers wait while [capacity] items are buffered, swapped out
   or not. What a consumer does not take of a batch stays in the queue ([batch]), visible to
   every consumer, to [try_pop] and to [length], so several consumers see one FIFO queue.

   Each side is woken only when it has sleepers ([push_waiters], [pop_waiters]): a consumer that
   frees n slots wakes n producers, or all of them with one broadcast when n covers them. *)

type error = Bqueue.error = Closed | Full | Empty | Timeout

type 'a t = {
  mutex : Mutex.t;
  not_empty : Condition.t; (* signalled when an item arrives and a consumer sleeps, broadcast on close *)
  not_full : Condition.t;  (* signalled when slots free up and producers sleep, broadcast on close *)
  mutable items : 'a list; (* producers' side, newest first *)
  mutable len : int;       (* List.length items *)
  mutable batch : 'a list; (* swapped out, the oldest items, oldest first *)
  mutable batch_len : int;
  capacity : int;
  mutable push_waiters : int; (* threads asleep on not_full *)
  mutable pop_waiters : int;  (* threads asleep on not_empty *)
  mutable closed : bool;
}

(* The monotonic clock of clock_stubs.c, as in bqueue.ml: each queue stands alone, so that
   bqueue.ml can be replaced by a user's module behind ocaml/bqueue.mli (bqh validate --reference). *)
external now_ns : unit -> int = "bq_ml_monotonic_ns" [@@noalloc]

(* Saturating, as in bqueue.ml: a timeout up to max_int ns never wraps into the past. *)
let deadline_after timeout_ns =
  let now = now_ns () in
  if timeout_ns > max_int - now then max_int else now + timeout_ns

(* Bqueue's timed wait (a timer thread broadcasts [cond] at the deadline; see bqueue.ml), with
   the waiter counted in [waiting] while it may sleep. Caller holds q.mutex. *)
let wait_until q cond ~deadline ~ready ~waiting =
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
    waiting 1;
    while not (ready ()) && now_ns () < deadline do
      Condition.wait cond q.mutex
    done;
    waiting (-1);
    Atomic.set finished true
  end

(* Caller holds q.mutex. Items buffered, swapped out or not. *)
let buffered q = q.len + q.batch_len

(* Caller holds q.mutex. *)
let enqueue q x =
  q.items <- x :: q.items;
  q.len <- q.len + 1;
  if q.pop_waiters > 0 then Condition.signal q.not_empty

(* Caller holds q.mutex, [buffered q > 0] and [max >= 1]. Takes up to [max] of the oldest
   items, oldest first; when the batch is used up, first swaps in everything the producers
   pushed. *)
let take q max =
  if q.batch_len = 0 then begin
    q.batch <- List.rev q.items;
    q.batch_len <- q.len;
    q.items <- [];
    q.len <- 0
  end;
  let n = min max q.batch_len in
  let rec split k taken rest =
    match rest with
    | x :: rest when k > 0 -> split (k - 1) (x :: taken) rest
    | _ -> (List.rev taken, rest)
  in
  let taken, rest = split n [] q.batch in
  q.batch <- rest;
  q.batch_len <- q.batch_len - n;
  if n >= q.push_waiters then (if q.push_waiters > 0 then Condition.broadcast q.not_full)
  else for _ = 1 to n do Condition.signal q.not_full done;
  taken

(* [take q 1], which holds exactly one item. *)
let take_one q = List.hd (take q 1)

let create capacity =
  if capacity <= 0 then invalid_arg "Bq_swap.create: capacity must be at least 1";
  { mutex = Mutex.create (); not_empty = Condition.create (); not_full = Condition.create ();
    items = []; len = 0; batch = []; batch_len = 0; capacity;
    push_waiters = 0; pop_waiters = 0; closed = false }

let is_full q = buffered q >= q.capacity

let push q x =
  Mutex.protect q.mutex (fun () ->
      while is_full q && not q.closed do
        q.push_waiters <- q.push_waiters + 1;
        Condition.wait q.not_full q.mutex;
        q.push_waiters <- q.push_waiters - 1
      done;
      if q.closed then Error Closed else (enqueue q x; Ok ()))

let try_push q x =
  Mutex.protect q.mutex (fun () ->
      if q.closed then Error Closed
      else if is_full q then Error Full
      else (enqueue q x; Ok ()))

let push_timeout q x ~timeout_ns =
  let deadline = deadline_after timeout_ns in
  Mutex.protect q.mutex (fun () ->
      wait_until q q.not_full ~deadline ~ready:(fun () -> not (is_full q) || q.closed)
        ~waiting:(fun d -> q.push_waiters <- q.push_waiters + d);
      if q.closed then Error Closed
      else if is_full q then Error Timeout
      else (enqueue q x; Ok ()))

let pop q =
  Mutex.protect q.mutex (fun () ->
      while buffered q = 0 && not q.closed do
        q.pop_waiters <- q.pop_waiters + 1;
        Condition.wait q.not_empty q.mutex;
        q.pop_waiters <- q.pop_waiters - 1
      done;
      (* closed and drained *)
      if buffered q = 0 then Error Closed else Ok (take_one q))

let try_pop q =
  Mutex.protect q.mutex (fun () ->
      if buffered q > 0 then Ok (take_one q)
      else if q.closed then Error Closed
      else Error Empty)

let pop_timeout q ~timeout_ns =
  let deadline = deadline_after timeout_ns in
  Mutex.protect q.mutex (fun () ->
      wait_until q q.not_empty ~deadline ~ready:(fun () -> buffered q > 0 || q.closed)
        ~waiting:(fun d -> q.pop_waiters <- q.pop_waiters + d);
      if buffered q > 0 then Ok (take_one q)
      else if q.closed then Error Closed
      else Error Timeout)

(* Waits like [pop] for one item, then takes what else is buffered, up to [max] items in all,
   oldest first; [Ok []] at once when [max <= 0]. *)
let pop_many q ~max =
  if max <= 0 then Ok []
  else
    Mutex.protect q.mutex (fun () ->
        while buffered q = 0 && not q.closed do
          q.pop_waiters <- q.pop_waiters + 1;
          Condition.wait q.not_empty q.mutex;
          q.pop_waiters <- q.pop_waiters - 1
        done;
        (* closed and drained *)
        if buffered q = 0 then Error Closed else Ok (take q max))

let close q =
  Mutex.protect q.mutex (fun () ->
      q.closed <- true;
      (* Broadcast, not signal: every waiter must see the flag, not just one. *)
      Condition.broadcast q.not_empty;
      Condition.broadcast q.not_full)

let length q = Mutex.protect q.mutex (fun () -> buffered q)

let capacity q = q.capacity
