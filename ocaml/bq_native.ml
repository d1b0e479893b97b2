(* bq_native.ml: the OCaml queue's `native` runner. Producers and consumers are OCaml
   domains (parallel) or systhreads of one domain (they take turns on the runtime lock),
   running the same workload as the harness's Rust threads do in `driven` mode, with the same
   instrumentation: a try first, so that a push or pop that had to wait is counted and its
   blocking time measured, a sampled length, an exact delivery check (every item exactly once,
   per-producer order kept), and the push-to-pop latency of sampled items.

   The same program as the Rust driven runner (crates/engine/src/driven.rs) and the C one
   (c/bq_native.c), in the same order: counted push and pop, the delivery record, producer,
   consumer, run_seq, then the run that starts them behind one gate and merges what they
   counted. Called from Rust (crates/engine/src/impls/ocaml.rs) through the callback
   "bqueue_native_run", with a [spec] record in and a [result] record out. *)

(* The clocks of clock_stubs.c (bqueue.mli does not export Bqueue's): monotonic, and the
   calling thread's CPU time; and pinning the calling thread to a CPU. *)
external now : unit -> int = "bq_ml_monotonic_ns" [@@noalloc]
external thread_cpu : unit -> int = "bq_ml_thread_cpu_ns" [@@noalloc]
external pin_self : int -> bool = "bq_ml_pin_self" [@@noalloc]

(* Field order matters: crates/engine/src/impls/ocaml.rs mirrors both records in this order. *)
type spec = {
  producers : int;
  consumers : int;
  per_producer : int;
  capacity : int;
  work_ns : int;         (* busy work per popped item (slow-consumer), 0 for none *)
  burst_items : int;     (* producers pause after every burst_items pushes; 0: never *)
  burst_pause_ns : int;
  seq : bool;            (* one thread fills to capacity then drains, repeatedly *)
  latency_shift : int;   (* the latency of one item in 2^latency_shift is sampled *)
  occupancy_shift : int; (* consumers sample the length every 2^occupancy_shift pops *)
  observe : bool;        (* false: a throughput slice: plain push and pop, a checksum of what
                            arrived, nothing sampled *)
  domains : bool;        (* domains, or systhreads of one domain *)
  producer_cpu : int;    (* producers pin themselves to this CPU; -1: they stay put *)
  consumer_cpu : int;    (* consumers likewise *)
}

type result = {
  elapsed_ns : int;       (* the earliest worker's start to the latest one's end *)
  threads_cpu_ns : int;   (* CPU time the workers used within their spans *)
  pushes : int;
  push_waits : int;
  pops : int;
  pop_waits : int;
  producer_blocked_ns : int;
  consumer_blocked_ns : int;
  max_len : int;
  latencies : int array;  (* sampled push-to-pop latencies, ns *)
  error : string option;  (* a failed push, or what was lost, duplicated or reordered *)
}

type stats = { mutable ops : int; mutable waits : int; mutable blocked_ns : int }

let new_stats () = { ops = 0; waits = 0; blocked_ns = 0 }

(* One worker's share of the run on its own clocks: after the gate to after its last operation. *)
type span = { start_ns : int; end_ns : int; cpu_ns : int }

let no_span = { start_ns = 0; end_ns = 0; cpu_ns = 0 }

(* Runs [f] and returns its result with its span. *)
(* The wall clock outside the CPU clock at both ends, as in measure.rs's SpanClock: the CPU
   time measured then lies within the span. *)
let timed f =
  let start_ns = now () in
  let cpu0 = thread_cpu () in
  let r = f () in
  let cpu_ns = thread_cpu () - cpu0 in
  (r, { start_ns; end_ns = now (); cpu_ns })

(* A throughput slice's proof of delivery, as crates/engine/src/measure.rs's Checksum: a count,
   a sum and a sum of mixes of the items a consumer took, compared after the run with those of
   the items pushed. OCaml's ints are 63-bit: its sums wrap at 2^63, its own expected ones too. *)
type checksum = { count : int; sum : int; mix : int }

let mix x =
  let x = x lxor (x lsr 33) in
  let x = x * 0x3f51afd7ed558ccd in
  let x = x lxor (x lsr 29) in
  let x = x * 0x04ceb9fe1a85ec53 in
  x lxor (x lsr 32)

(* The words of crates/engine/src/queue.rs's QueueError, so that messages read the same. *)
let error_name : Bqueue.error -> string = function
  | Closed -> "closed" | Full -> "full" | Empty -> "empty" | Timeout -> "timed out"

(* A start gate: workers wait until all exist, then start together. Unlike a barrier, it can
   also be opened with [abort] when a worker could not be started: [gate_wait] says so. *)
type gate = { m : Mutex.t; c : Condition.t; mutable opened : bool; mutable aborted : bool }

let gate_wait g =
  Mutex.protect g.m (fun () -> while not g.opened do Condition.wait g.c g.m done; g.aborted)

let gate_open g ~abort =
  Mutex.protect g.m (fun () -> g.opened <- true; g.aborted <- abort; Condition.broadcast g.c)

let spin ns =
  let until = now () + ns in
  while now () < until do Domain.cpu_relax () done

let push_counted q x st =
  st.ops <- st.ops + 1;
  match Bqueue.try_push q x with
  | Error Bqueue.Full ->
      st.waits <- st.waits + 1;
      let t = now () in
      let r = Bqueue.push q x in
      st.blocked_ns <- st.blocked_ns + (now () - t);
      r
  | r -> r

let pop_counted q st =
  st.ops <- st.ops + 1;
  match Bqueue.try_pop q with
  | Error Bqueue.Empty ->
      st.waits <- st.waits + 1;
      let t = now () in
      let r = Bqueue.pop q in
      st.blocked_ns <- st.blocked_ns + (now () - t);
      r
  | r -> r

(* A throughput slice's calls (observe = false): as a user's program makes them. *)
let push_one s q x st =
  if s.observe then push_counted q x st else (st.ops <- st.ops + 1; Bqueue.push q x)

let pop_one s q st =
  if s.observe then pop_counted q st else (st.ops <- st.ops + 1; Bqueue.pop q)

(* Per consumer: a bitmap of seen items and the next expected sequence per producer. A sole
   consumer needs no bitmap: each producer's items must arrive as 0, 1, 2, ..., so the next
   one expected is the whole check (as in crates/engine/src/measure.rs). *)
type delivery = { sole : bool; seen : Bytes.t; next : int array; mutable error : string option }

let new_delivery s =
  let sole = s.consumers = 1 in
  { sole; seen = (if sole then Bytes.empty else Bytes.make ((s.producers * s.per_producer / 8) + 1) '\000');
    next = Array.make s.producers 0; error = None }

let fail d msg = if d.error = None then d.error <- Some msg

let record s d item =
  let p = item lsr 32 and seq = item land 0xffff_ffff in
  if d.sole && p < s.producers && seq = d.next.(p) && seq < s.per_producer then d.next.(p) <- seq + 1
  else if p >= s.producers || seq >= s.per_producer then fail d (Printf.sprintf "item %#x was never pushed" item)
  else if d.sole then begin
    if seq < d.next.(p) then
      fail d (Printf.sprintf "producer %d's item %d arrived late: reordered or duplicated" p seq)
    else fail d (Printf.sprintf "producer %d's item %d was lost or reordered: its item %d came first" p d.next.(p) seq);
    d.next.(p) <- seq + 1
  end else begin
    if seq < d.next.(p) then
      fail d (Printf.sprintf "producer %d's item %d arrived late: reordered or duplicated" p seq);
    d.next.(p) <- seq + 1;
    let bit = (p * s.per_producer) + seq in
    let byte = Bytes.get_uint8 d.seen (bit / 8) and mask = 1 lsl (bit mod 8) in
    if byte land mask <> 0 then fail d (Printf.sprintf "producer %d's item %d was delivered twice" p seq);
    Bytes.set_uint8 d.seen (bit / 8) (byte lor mask)
  end

(* What the threads share: the spec, the queue, the gate, and each producer's push times of
   its sampled items (by seq lsr latency_shift). A producer writes its slot before the push;
   the queue's mutex makes it visible to the consumer that pops the item. *)
type run = { s : spec; q : int Bqueue.t; start : gate; pushed_at : int array array }

type producer_out = { p_stats : stats; failed : string option; p_span : span }

type consumer_out = {
  c_stats : stats;
  d : delivery;
  mutable max_len : int;
  lat : int array;
  mutable n_lat : int;
  mutable sum : checksum;     (* a throughput slice's *)
  mutable c_failed : string option;
  mutable c_span : span;
}

let new_consumer_out s =
  let slots = if s.observe then (s.per_producer lsr s.latency_shift) + 1 else 0 in
  { c_stats = new_stats (); d = new_delivery s; max_len = 0; lat = Array.make (s.producers * slots) 0; n_lat = 0;
    sum = { count = 0; sum = 0; mix = 0 }; c_failed = None; c_span = no_span }

let producer r id () =
  let s = r.s and st = new_stats () in
  let mask = (1 lsl s.latency_shift) - 1 in
  let pinned = pin_self s.producer_cpu in
  let aborted = gate_wait r.start in
  let rec go seq =
    if seq >= s.per_producer then None
    else begin
      if s.observe && seq land mask = 0 then r.pushed_at.(id).(seq lsr s.latency_shift) <- now ();
      match push_one s r.q ((id lsl 32) lor seq) st with
      | Error e ->
          Some (Printf.sprintf "producer %d: push of item %d returned %s while the queue was open" id seq
                  (error_name e))
      | Ok () ->
          if s.burst_items > 0 && (seq + 1) mod s.burst_items = 0 then
            Thread.delay (float_of_int s.burst_pause_ns *. 1e-9);
          go (seq + 1)
    end
  in
  if not pinned then
    { p_stats = st; failed = Some (Printf.sprintf "producer %d: cannot pin it to CPU %d" id s.producer_cpu); p_span = no_span }
  else if aborted then { p_stats = st; failed = None; p_span = no_span }
  else
    let failed, p_span = timed (fun () -> go 0) in
    { p_stats = st; failed; p_span }

(* A throughput slice's consumer: pop until closed, each item folded into the checksum (and the
   per-item work, if any): what proving delivery needs, and nothing more. *)
let take_all s q =
  let rec take count sum mx =
    match Bqueue.pop q with
    | Ok x ->
        if s.work_ns > 0 then spin s.work_ns;
        take (count + 1) (sum + x) (mx + mix x)
    | Error _ -> { count; sum; mix = mx }
  in
  take 0 0 0

(* An observation run's consumer: counted pops, every item checked exactly, sampled latencies
   and lengths. *)
let observe_all r out =
  let s = r.s in
  let mask = (1 lsl s.latency_shift) - 1 and occupancy_mask = (1 lsl s.occupancy_shift) - 1 in
  let rec loop () =
    match pop_counted r.q out.c_stats with
    | Error _ -> ()
    | Ok item ->
        record s out.d item;
        let p = item lsr 32 and seq = item land 0xffff_ffff in
        if seq land mask = 0 && p < s.producers && seq < s.per_producer then begin
          out.lat.(out.n_lat) <- now () - r.pushed_at.(p).(seq lsr s.latency_shift);
          out.n_lat <- out.n_lat + 1
        end;
        if out.c_stats.ops land occupancy_mask = 0 then out.max_len <- max out.max_len (Bqueue.length r.q);
        if s.work_ns > 0 then spin s.work_ns;
        loop ()
  in
  loop ();
  out.c_stats.ops <- out.c_stats.ops - 1 (* the final pop said closed and delivered nothing *)

let consumer r () =
  let s = r.s and out = new_consumer_out r.s in
  if not (pin_self s.consumer_cpu) then
    out.c_failed <- Some (Printf.sprintf "a consumer: cannot pin it to CPU %d" s.consumer_cpu);
  let aborted = gate_wait r.start in
  if not aborted && out.c_failed = None then begin
    let (), span = timed (fun () ->
        if s.observe then observe_all r out
        else begin
          out.sum <- take_all s r.q;
          out.c_stats.ops <- out.sum.count
        end) in
    out.c_span <- span
  end;
  out

(* One thread fills the queue to capacity, then drains it, until all items went through. *)
let run_seq s q =
  let st = new_stats () and out = new_consumer_out s in
  let rec go next =
    if next >= s.per_producer then None
    else begin
      let batch = min s.capacity (s.per_producer - next) in
      let rec push seq =
        if seq >= next + batch then None
        else match push_one s q seq st with
          | Ok () -> push (seq + 1)
          | Error e ->
              Some (Printf.sprintf "seq: push of item %d returned %s while the queue was open" seq (error_name e))
      in
      let rec pop i =
        if i >= batch then None
        else match pop_one s q st with
          | Ok x -> record s out.d x; pop (i + 1)
          | Error e -> Some (Printf.sprintf "seq: a pop returned %s with items buffered" (error_name e))
      in
      match push next with
      | Some _ as failed -> failed
      | None ->
          if s.observe then out.max_len <- max out.max_len (Bqueue.length q);
          (match pop 0 with Some _ as failed -> failed | None -> go (next + batch))
    end
  in
  let failed, span = timed (fun () -> go 0) in
  ({ p_stats = st; failed; p_span = span }, { out with c_stats = st })

(* Merges the consumers' records: a failed push first, then every item exactly once. *)
let verdict s pouts couts =
  let failed = match List.find_map (fun p -> p.failed) pouts with
    | Some _ as f -> f
    | None -> List.find_map (fun c -> c.c_failed) couts in
  match failed, couts with
  | (Some _ as failed), _ -> failed
  | None, _ when not s.observe && not s.seq ->
      (* A throughput slice: the consumers' checksums against those of the items pushed. *)
      let add a b = { count = a.count + b.count; sum = a.sum + b.sum; mix = a.mix + b.mix } in
      let got = List.fold_left (fun a c -> add a c.sum) { count = 0; sum = 0; mix = 0 } couts in
      let want = ref { count = 0; sum = 0; mix = 0 } in
      for p = 0 to s.producers - 1 do
        for seq = 0 to s.per_producer - 1 do
          let x = (p lsl 32) lor seq in
          want := add !want { count = 1; sum = x; mix = mix x }
        done
      done;
      if got.count <> !want.count then
        Some (Printf.sprintf "%d items arrived where %d were pushed: items lost or duplicated" got.count !want.count)
      else if got <> !want then
        Some (Printf.sprintf "%d items arrived, as many as were pushed, but not the items pushed (their checksums differ)"
                got.count)
      else None
  | None, [ { d = { sole = true; next; error; _ }; _ } ] ->
      let total = s.producers * s.per_producer in
      if error <> None then error
      else begin
        match List.find_opt (fun p -> next.(p) <> s.per_producer) (List.init s.producers Fun.id) with
        | Some p ->
            Some (Printf.sprintf "%d of %d items lost; first: producer %d's item %d"
                    (total - Array.fold_left ( + ) 0 next) total p next.(p))
        | None -> None
      end
  | None, _ ->
      let total = s.producers * s.per_producer in
      let all = Bytes.make ((total / 8) + 1) '\000' in
      let error = ref None in
      List.iter (fun o ->
          (match o.d.error with Some e when !error = None -> error := Some e | _ -> ());
          Bytes.iteri (fun i ch ->
              let a = Bytes.get_uint8 all i and b = Char.code ch in
              if a land b <> 0 && !error = None then error := Some "an item was delivered to two consumers";
              Bytes.set_uint8 all i (a lor b)) o.d.seen) couts;
      if !error = None then begin
        let got = ref 0 in
        Bytes.iter (fun ch -> let b = ref (Char.code ch) in while !b > 0 do incr got; b := !b land (!b - 1) done) all;
        if !got <> total then error := Some (Printf.sprintf "%d of %d items lost" (total - !got) total)
      end;
      !error

let run s =
  let q = Bqueue.create s.capacity in
  let start = { m = Mutex.create (); c = Condition.create (); opened = false; aborted = false } in
  let slots = (s.per_producer lsr s.latency_shift) + 1 in
  let r = { s; q; start; pushed_at = Array.init s.producers (fun _ -> Array.make slots 0) } in
  let pouts, couts =
    if s.seq then begin
      let p, c = run_seq s q in
      ([ p ], [ c ])
    end else begin
      (* Both back-ends behind one pair of spawn/join functions. *)
      let spawn_join f = if s.domains then let d = Domain.spawn f in fun () -> Domain.join d
                         else let v = ref None in
                              let t = Thread.create (fun () -> v := Some (f ())) () in
                              fun () -> Thread.join t; Option.get !v in
      (* A spawn that fails (OCaml 5 runs at most 128 domains at once) must not leave the
         workers already started waiting at the gate forever: open it aborted, join them. *)
      let started = ref [] in
      let spawn f = let j = spawn_join f in started := (fun () -> ignore (j ())) :: !started; j in
      let ps, cs =
        try
          let ps = List.init s.producers (fun id -> spawn (producer r id)) in
          (ps, List.init s.consumers (fun _ -> spawn (consumer r)))
        with e ->
          gate_open start ~abort:true;
          List.iter (fun j -> j ()) !started;
          failwith (Printf.sprintf "could not start %d %s (%d started): %s" (s.producers + s.consumers)
                      (if s.domains then "domains" else "threads") (List.length !started) (Printexc.to_string e))
      in
      (* The run's time comes from the workers' own spans, not from this thread's clock. *)
      gate_open start ~abort:false;
      let pouts =
        try List.map (fun j -> j ()) ps
        with e ->
          (* A producer raised: close so the consumers finish, then pass the exception on. *)
          Bqueue.close q;
          List.iter (fun j -> try ignore (j ()) with _ -> ()) cs;
          raise e
      in
      Bqueue.close q; (* every producer finished: "no more items" *)
      let couts = List.map (fun j -> j ()) cs in
      (pouts, couts)
    end
  in
  (* The earliest start to the latest end: a clock that covers every worker's work. seq keeps
     its one span with its producer's record. *)
  let spans = List.map (fun p -> p.p_span) pouts @ (if s.seq then [] else List.map (fun c -> c.c_span) couts) in
  let first = List.fold_left (fun a sp -> min a sp.start_ns) max_int spans
  and last = List.fold_left (fun a sp -> max a sp.end_ns) 0 spans in
  let sum f l = List.fold_left (fun a x -> a + f x) 0 l in
  let max_len = List.fold_left (fun a o -> max a o.max_len) 0 couts in
  let error = match verdict s pouts couts with
    | None when max_len > s.capacity -> Some (Printf.sprintf "len %d observed above capacity" max_len)
    | e -> e in
  (* run_seq counts pushes and pops in one stats record, and never waits. *)
  { elapsed_ns = max 1 (last - first);
    threads_cpu_ns = List.fold_left (fun a sp -> a + sp.cpu_ns) 0 spans;
    pushes = (if s.seq then s.per_producer else sum (fun p -> p.p_stats.ops) pouts);
    push_waits = (if s.seq then 0 else sum (fun p -> p.p_stats.waits) pouts);
    pops = (if s.seq then s.per_producer else sum (fun o -> o.c_stats.ops) couts);
    pop_waits = (if s.seq then 0 else sum (fun o -> o.c_stats.waits) couts);
    producer_blocked_ns = (if s.seq then 0 else sum (fun p -> p.p_stats.blocked_ns) pouts);
    consumer_blocked_ns = (if s.seq then 0 else sum (fun o -> o.c_stats.blocked_ns) couts);
    max_len;
    latencies = Array.concat (List.map (fun o -> Array.sub o.lat 0 o.n_lat) couts);
    error }

(* The boundary: a [spec] record in, a [result] record out. Rust holds the domain lock while
   this runs; Domain.join and Thread.join release it while they wait. *)
let () = Callback.register "bqueue_native_run" run

(* OCaml's own advice on how many domains to run at once (the machine's CPUs): the comparison
   skips native-domains runs with more producers and consumers than this. *)
let () = Callback.register "bqueue_recommended_domains" Domain.recommended_domain_count
