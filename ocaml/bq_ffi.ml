(* bq_ffi.ml: the OCaml side of the language boundary. The Rust side is
   crates/engine/src/impls/ocaml.rs; every conversion between the two happens in these two files.

   Encoding (immediate ints only, so no call allocates; the batched calls below excepted):
   - push operations return a status code: 0 ok, 1 closed, 2 full, 4 timeout (c/bq.h's codes);
   - pop operations return the item (always >= 0) or the negated status code.
   Items are OCaml ints, so the harness keeps them in [0, 2^62).

   Locks: the Rust caller holds the OCaml domain lock for the duration of each call; a call that
   blocks in Condition.wait releases it (and the queue's mutex) while it waits. *)

(* c/bq.h's status codes; a test (crates/engine/src/impls/ocaml.rs) checks them against C's and Rust's. *)
(* ANCHOR: encoding *)
let ok = 0 and closed = 1 and full = 2 and empty = 3 and timeout = 4

let code : Bqueue.error -> int = function
  | Closed -> closed | Full -> full | Empty -> empty | Timeout -> timeout

let of_unit = function Ok () -> ok | Error e -> code e
let of_item = function Ok x -> x | Error e -> - code e
(* ANCHOR_END: encoding *)

(* Batched calls, one boundary crossing per batch. [push_many] (benches only) pushes [items] in
   order, waiting while full as [push] does, and returns how many went in (fewer only once the
   queue is closed). [pop_many] (the interface's pop_many) waits for one item as [pop] does,
   then takes what is buffered without waiting, up to [max] (at least 1); the empty array means
   closed and drained. Bqueue's is [pop] then [try_pop]s; Bq_swap's takes the batch in one lock. *)
let push_many q items =
  let n = Array.length items in
  let rec go i =
    if i >= n then i else match Bqueue.push q items.(i) with Ok () -> go (i + 1) | Error _ -> i
  in
  go 0

(* ANCHOR: pop_many *)
let pop_many q max =
  match Bqueue.pop q with
  | Error _ -> [||]
  | Ok first ->
      let out = Array.make max first in
      let rec go i =
        if i >= max then i
        else match Bqueue.try_pop q with Ok x -> out.(i) <- x; go (i + 1) | Error _ -> i
      in
      let n = go 1 in
      if n = max then out else Array.sub out 0 n
(* ANCHOR_END: pop_many *)

let swap_pop_many q max =
  match Bq_swap.pop_many q ~max with Ok items -> Array.of_list items | Error _ -> [||]

let () =
  Callback.register "bqueue_create" (fun capacity ->
      match Bqueue.create capacity with q -> Some q | exception Invalid_argument _ -> None);
  Callback.register "bqueue_push" (fun q x -> of_unit (Bqueue.push q x));
  Callback.register "bqueue_try_push" (fun q x -> of_unit (Bqueue.try_push q x));
  Callback.register "bqueue_push_timeout" (fun q x timeout_ns ->
      of_unit (Bqueue.push_timeout q x ~timeout_ns));
  Callback.register "bqueue_pop" (fun q -> of_item (Bqueue.pop q));
  Callback.register "bqueue_try_pop" (fun q -> of_item (Bqueue.try_pop q));
  Callback.register "bqueue_pop_timeout" (fun q timeout_ns -> of_item (Bqueue.pop_timeout q ~timeout_ns));
  Callback.register "bqueue_close" Bqueue.close;
  Callback.register "bqueue_length" Bqueue.length;
  Callback.register "bqueue_capacity" Bqueue.capacity;
  Callback.register "bqueue_push_many" push_many;
  Callback.register "bqueue_pop_many" pop_many;
  (* The swap buffer (bq_swap.ml): the same operations and encoding, prefix bq_swap_. *)
  Callback.register "bq_swap_create" (fun capacity ->
      match Bq_swap.create capacity with q -> Some q | exception Invalid_argument _ -> None);
  Callback.register "bq_swap_push" (fun q x -> of_unit (Bq_swap.push q x));
  Callback.register "bq_swap_try_push" (fun q x -> of_unit (Bq_swap.try_push q x));
  Callback.register "bq_swap_push_timeout" (fun q x timeout_ns ->
      of_unit (Bq_swap.push_timeout q x ~timeout_ns));
  Callback.register "bq_swap_pop" (fun q -> of_item (Bq_swap.pop q));
  Callback.register "bq_swap_try_pop" (fun q -> of_item (Bq_swap.try_pop q));
  Callback.register "bq_swap_pop_timeout" (fun q timeout_ns -> of_item (Bq_swap.pop_timeout q ~timeout_ns));
  Callback.register "bq_swap_close" Bq_swap.close;
  Callback.register "bq_swap_length" Bq_swap.length;
  Callback.register "bq_swap_capacity" Bq_swap.capacity;
  Callback.register "bq_swap_pop_many" swap_pop_many;
  (* The empty function of the boundary-cost bench: what a call costs with nothing in it. *)
  Callback.register "bqueue_noop" (fun (x : int) -> x);
  Callback.register "bqueue_status_codes" (fun () -> [| ok; closed; full; empty; timeout |]);
  (* For the contract test that an OCaml exception surfaces in Rust as an error. *)
  Callback.register "bqueue_raise" (fun (msg : string) -> failwith msg)
