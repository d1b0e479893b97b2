(* bq_memory.ml: the memory study's OCaml-native run ("ocaml-native" in
   harness/src/memory/mod.rs). The same run as the study's Rust one (mod.rs, measure), with
   OCaml's own memory: a producer domain makes N payloads with [Bytes.create], writes them and
   pushes them through [Bqueue]; a consumer domain pops each, touches it, spins the time the
   study calibrated, and drops it, so the GC frees it at some later cycle. A sampler domain
   records, every interval: RSS (/proc/self/statm), live payload bytes (an explicit counter, as
   crates/engine/src/memory/payload.rs keeps for malloc'd payloads), the GC's heap and items buffered,
   in the phases of sampler.rs. The phase the study calls after-trim is, here, after
   [Gc.compact ()]: what the GC gives back when asked, as malloc_trim(0) is for glibc.

   The GC's view is [Gc.quick_stat ()]'s heap_words: the major heap (pools and large blocks),
   as of the last minor or major collection, and cheap. [Gc.stat] would force a full major
   collection at every sample and so change what is measured; quick_stat's live_words is
   always 0 in OCaml 5 (it is only counted by a full collection).

   Called from Rust (crates/engine/src/impls/ocaml.rs, module ocaml_memory) through the callbacks
   "bqueue_memory_calibrate" and "bqueue_memory_run", a [spec] record in. *)

external now : unit -> int = "bq_ml_monotonic_ns" [@@noalloc]

(* Field order matters: crates/engine/src/impls/ocaml.rs mirrors both records in this order. *)
type spec = {
  capacity : int;       (* the queue's bound: N for the study's "unbounded" *)
  payload_bytes : int;
  items : int;
  spin_ns : int;        (* the consumer's spin per item; calibrate ignores it *)
  max_send_ns : int;    (* the producer stops sending after this long *)
  hold_ns : int;        (* how long each phase after the drain is watched *)
  interval_ns : int;    (* sampling interval *)
  page_bytes : int;     (* the unit of /proc/self/statm *)
}

type result = {
  sent : int;
  delivered : int;
  peak_live_bytes : int;
  send_ns : int;
  receive_ns : int;
  (* The samples, one column each, in time order. *)
  t_ns : int array;
  rss_bytes : int array;
  live_bytes : int array;
  gc_heap_bytes : int array;
  buffered : int array;  (* -1 once the queue is dropped *)
  phase : int array;     (* the order of Phase in crates/engine/src/memory/sampler.rs *)
  error : string option; (* a failed push, a lost or duplicated payload, bytes left live *)
}

(* Phase codes: sending, done-sending, draining, done-receiving, after-drop, after-trim. *)
let sending = 0 and done_sending = 1 and draining = 2 and done_receiving = 3
and after_drop = 4 and after_compact = 5

let page = 4096

(* Makes a payload of [size] bytes (at least 1) and writes every byte; its first 8 bytes carry
   its sequence number when it has room, so the consumer can check the order. *)
let make size seq =
  let b = Bytes.create (max size 1) in
  Bytes.fill b 0 (Bytes.length b) '\xa5';
  if Bytes.length b >= 8 then Bytes.set_int64_le b 0 (Int64.of_int seq);
  b

(* Reads one byte per page and the last one, as payload.rs's touch. *)
let touch b =
  let n = Bytes.length b in
  let sum = ref 0 and off = ref 0 in
  while !off < n do
    sum := !sum + Bytes.get_uint8 b !off;
    off := !off + page
  done;
  !sum + Bytes.get_uint8 b (n - 1)

let spin ns =
  let until = now () + ns in
  while now () < until do Domain.cpu_relax () done

(* Nanoseconds one item costs on one domain (make, push, pop, touch): the least of five
   rounds of at most 2 ms, as mod.rs calibrates the Rust runs. *)
let calibrate s =
  let q = Bqueue.create s.capacity in
  let best = ref max_int in
  for _ = 1 to 5 do
    let t = now () in
    let k = ref 0 in
    while !k < 4 || (now () - t < 2_000_000 && !k < s.items) do
      ignore (Bqueue.try_push q (make s.payload_bytes !k));
      (match Bqueue.try_pop q with Ok b -> ignore (Sys.opaque_identity (touch b)) | Error _ -> ());
      incr k
    done;
    best := min !best ((now () - t) / !k)
  done;
  !best

let rss s =
  match In_channel.with_open_bin "/proc/self/statm" In_channel.input_all with
  | text -> (match String.split_on_char ' ' (String.trim text) with
             | _ :: resident :: _ -> (try int_of_string resident * s.page_bytes with Failure _ -> 0)
             | _ -> 0)
  | exception Sys_error _ -> 0

type sample = { t : int; r : int; l : int; h : int; b : int; p : int }

let run s =
  let q = Bqueue.create s.capacity in
  let live = Atomic.make 0 in
  let phase = Atomic.make sending in
  (* The sampler's handle on the queue; [None] drops it. *)
  let queue = Atomic.make (Some q) in
  let samples = ref [] and samples_m = Mutex.create () in
  let t0 = now () in
  let record () =
    (* The phase first: a sample in after-drop then never sees the queue, which goes first. *)
    let p = Atomic.get phase in
    let b = match Atomic.get queue with Some q -> Bqueue.length q | None -> -1 in
    let x = { t = now () - t0; r = rss s; l = Atomic.get live;
              h = (Gc.quick_stat ()).heap_words * (Sys.word_size / 8); b; p } in
    Mutex.protect samples_m (fun () -> samples := x :: !samples)
  in
  let mark p = Atomic.set phase p; record () in
  let hold () = Unix.sleepf (float_of_int s.hold_ns *. 1e-9) in
  let stop = Atomic.make false in
  record ();
  let sampler = Domain.spawn (fun () ->
    let next = ref (now () + s.interval_ns) in
    while not (Atomic.get stop) do
      let left = !next - now () in
      if left > 0 then Unix.sleepf (float_of_int left *. 1e-9)
      else begin
        record ();
        (* A late wake-up does not bunch the samples that follow. *)
        next := max (!next + s.interval_ns) (now ())
      end
    done) in
  let consumer = Domain.spawn (fun () ->
    let rec loop n error =
      match Bqueue.pop q with
      | Ok b ->
          ignore (Sys.opaque_identity (touch b));
          let error = match error with
            | None when Bytes.length b >= 8 && Bytes.get_int64_le b 0 <> Int64.of_int n ->
                Some (Printf.sprintf "payload %Ld arrived as the %dth: lost, duplicated or reordered"
                        (Bytes.get_int64_le b 0) n)
            | e -> e in
          spin s.spin_ns;
          ignore (Atomic.fetch_and_add live (- Bytes.length b));
          (* [b] is dropped here: the GC frees it at a later cycle. *)
          loop (n + 1) error
      | Error _ -> (n, error)
    in
    loop 0 None) in
  let start = now () in
  let producer = Domain.spawn (fun () ->
    let deadline = start + s.max_send_ns in
    let size = max s.payload_bytes 1 in
    (* The producer alone raises the counter, so it alone sees its peak. *)
    let rec go i peak =
      if i >= s.items || (i land 15 = 0 && now () > deadline) then (i, peak, None)
      else begin
        let b = make s.payload_bytes i in
        let peak = max peak (Atomic.fetch_and_add live size + size) in
        match Bqueue.push q b with
        | Ok () -> go (i + 1) peak
        | Error _ ->
            ignore (Atomic.fetch_and_add live (- size));
            (i, peak, Some (Printf.sprintf "push %d failed on an open queue" i))
      end
    in
    go 0 0) in
  let sent, peak, push_error = Domain.join producer in
  Bqueue.close q;
  let send_ns = now () - start in
  mark done_sending;
  mark draining;
  let delivered, pop_error = Domain.join consumer in
  let receive_ns = now () - start in
  mark done_receiving;
  hold ();
  Atomic.set queue None;
  mark after_drop;
  hold ();
  Gc.compact ();
  mark after_compact;
  hold ();
  Atomic.set stop true;
  Domain.join sampler;
  record ();
  let error = match push_error, pop_error with
    | (Some _ as e), _ | None, (Some _ as e) -> e
    | None, None when delivered <> sent -> Some (Printf.sprintf "%d of %d payloads sent were delivered" delivered sent)
    | None, None when Atomic.get live <> 0 ->
        Some (Printf.sprintf "%d payload bytes still live after the drain" (Atomic.get live))
    | None, None -> None in
  let v = Array.of_list !samples in
  Array.stable_sort (fun a b -> compare a.t b.t) v;
  let col f = Array.map f v in
  { sent; delivered; peak_live_bytes = peak; send_ns; receive_ns;
    t_ns = col (fun x -> x.t); rss_bytes = col (fun x -> x.r); live_bytes = col (fun x -> x.l);
    gc_heap_bytes = col (fun x -> x.h); buffered = col (fun x -> x.b); phase = col (fun x -> x.p);
    error }

(* The boundary: a [spec] record in. Rust holds the domain lock while these run;
   Domain.join and Unix.sleepf release it while they wait. *)
let () =
  Callback.register "bqueue_memory_calibrate" calibrate;
  Callback.register "bqueue_memory_run" run
