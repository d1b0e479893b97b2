(* bq_native.ml: the OCaml queue's `native` runner. Producers and consumers are OCaml
   domains (parallel) or systhreads of one domain (they take turns on the runtime lock),
   running the same workload as the harness's Rust threads do in `driven` mode
   (harness/src/workloads.rs), with the same instrumentation: a try first, so that a push or
   pop that had to wait is counted and its blocking time measured, a sampled length, and an
   exact delivery check (every item exactly once, per-producer order kept), and push-to-pop
   latency of one item in 16, from the start of its push to the end of its pop.

   Called from Rust (harness/src/native.rs) through the callback "bqueue_native_run". *)

let now = Bqueue.now_ns
let occupancy_every = 64
let sample_every = 16 (* the same sampling as the Rust harness *)

type spec = {
  producers : int;
  consumers : int;
  per_producer : int;
  capacity : int;
  work_ns : int;        (* busy work per popped item (slow-consumer), 0 for none *)
  burst_items : int;    (* producers pause after every burst_items pushes; 0: never *)
  burst_pause_ns : int;
  seq : bool;           (* one thread fills to capacity then drains, repeatedly *)
}

type stats = { mutable ops : int; mutable waits : int; mutable blocked_ns : int }

let new_stats () = { ops = 0; waits = 0; blocked_ns = 0 }

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

(* Per consumer: a bitmap of seen items and the next expected sequence per producer. *)
type delivery = { seen : Bytes.t; next : int array; mutable error : string option }

let new_delivery s =
  { seen = Bytes.make ((s.producers * s.per_producer / 8) + 1) '\000';
    next = Array.make s.producers 0; error = None }

let fail d msg = if d.error = None then d.error <- Some msg

let record s d item =
  let p = item lsr 32 and seq = item land 0xffff_ffff in
  if p >= s.producers || seq >= s.per_producer then fail d (Printf.sprintf "item %#x was never pushed" item)
  else begin
    if seq < d.next.(p) then
      fail d (Printf.sprintf "producer %d's item %d arrived late: reordered or duplicated" p seq);
    d.next.(p) <- seq + 1;
    let bit = (p * s.per_producer) + seq in
    let byte = Bytes.get_uint8 d.seen (bit / 8) and mask = 1 lsl (bit mod 8) in
    if byte land mask <> 0 then fail d (Printf.sprintf "producer %d's item %d was delivered twice" p seq);
    Bytes.set_uint8 d.seen (bit / 8) (byte lor mask)
  end

let spin ns =
  let until = now () + ns in
  while now () < until do Domain.cpu_relax () done

(* A start gate: workers wait until all exist, then start together. *)
type gate = { m : Mutex.t; c : Condition.t; mutable opened : bool }

let gate_wait g =
  Mutex.protect g.m (fun () -> while not g.opened do Condition.wait g.c g.m done)

let gate_open g = Mutex.protect g.m (fun () -> g.opened <- true; Condition.broadcast g.c)

type consumer_out = {
  c_stats : stats;
  d : delivery;
  mutable max_len : int;
  lat : int array;        (* sampled latencies, ns *)
  mutable n_lat : int;
}

(* Start time of each sampled push, per producer, by seq / sample_every. A producer writes its
   slot before the push; the queue's mutex makes it visible to the consumer that pops it. *)
let new_pushed_at s = Array.init s.producers (fun _ -> Array.make ((s.per_producer / sample_every) + 1) 0)

let new_consumer_out s =
  { c_stats = new_stats (); d = new_delivery s; max_len = 0;
    lat = Array.make (s.producers * ((s.per_producer / sample_every) + 1)) 0; n_lat = 0 }

let producer s q g pushed_at id () =
  let st = new_stats () in
  gate_wait g;
  for seq = 0 to s.per_producer - 1 do
    if seq mod sample_every = 0 then pushed_at.(id).(seq / sample_every) <- now ();
    (match push_counted q ((id lsl 32) lor seq) st with
     | Ok () -> ()
     | Error _ -> failwith (Printf.sprintf "producer %d: push failed while the queue was open" id));
    if s.burst_items > 0 && (seq + 1) mod s.burst_items = 0 then
      Thread.delay (float_of_int s.burst_pause_ns *. 1e-9)
  done;
  st

let consumer s q g pushed_at () =
  let out = new_consumer_out s in
  gate_wait g;
  let rec loop () =
    match pop_counted q out.c_stats with
    | Error _ -> ()
    | Ok item ->
        record s out.d item;
        let p = item lsr 32 and seq = item land 0xffff_ffff in
        if seq mod sample_every = 0 && p < s.producers && seq < s.per_producer then begin
          out.lat.(out.n_lat) <- now () - pushed_at.(p).(seq / sample_every);
          out.n_lat <- out.n_lat + 1
        end;
        if out.c_stats.ops mod occupancy_every = 0 then out.max_len <- max out.max_len (Bqueue.length q);
        if s.work_ns > 0 then spin s.work_ns;
        loop ()
  in
  loop ();
  out.c_stats.ops <- out.c_stats.ops - 1; (* the final pop said closed *)
  out

let run_seq s q =
  let st = new_stats () and d = new_delivery s in
  let max_len = ref 0 and next = ref 0 in
  while !next < s.per_producer do
    let batch = min s.capacity (s.per_producer - !next) in
    for i = !next to !next + batch - 1 do
      if push_counted q i st <> Ok () then failwith "seq: push failed"
    done;
    max_len := max !max_len (Bqueue.length q);
    for _ = 1 to batch do
      match pop_counted q st with Ok x -> record s d x | Error _ -> failwith "seq: pop failed"
    done;
    next := !next + batch
  done;
  { (new_consumer_out s) with c_stats = st; d; max_len = !max_len }

(* Merges the consumers' records; [None] when every item came exactly once. *)
let verdict s outs =
  let total = s.producers * s.per_producer in
  let all = Bytes.make ((total / 8) + 1) '\000' in
  let error = ref None in
  List.iter (fun o ->
      (match o.d.error with Some e when !error = None -> error := Some e | _ -> ());
      Bytes.iteri (fun i ch ->
          let a = Bytes.get_uint8 all i and b = Char.code ch in
          if a land b <> 0 && !error = None then error := Some "an item was delivered to two consumers";
          Bytes.set_uint8 all i (a lor b)) o.d.seen) outs;
  if !error = None then begin
    let got = ref 0 in
    Bytes.iter (fun ch -> let b = ref (Char.code ch) in while !b > 0 do incr got; b := !b land (!b - 1) done) all;
    if !got <> total then error := Some (Printf.sprintf "%d of %d items lost" (total - !got) total)
  end;
  !error

(* Runs [s] with producers and consumers as domains ([~domains:true]) or systhreads. *)
let run ~domains s =
  let q = Bqueue.create s.capacity in
  let g = { m = Mutex.create (); c = Condition.create (); opened = false } in
  let t0, t1, pstats, outs =
    if s.seq then begin
      let t0 = now () in
      let o = run_seq s q in
      (t0, now (), [], [ o ])
    end else begin
      (* Both back-ends behind one pair of spawn/join functions. *)
      let spawn_join f = if domains then let d = Domain.spawn f in fun () -> Domain.join d
                         else let r = ref None in
                              let t = Thread.create (fun () -> r := Some (f ())) () in
                              fun () -> Thread.join t; Option.get !r in
      let pushed_at = new_pushed_at s in
      let ps = List.init s.producers (fun id -> spawn_join (producer s q g pushed_at id)) in
      let cs = List.init s.consumers (fun _ -> spawn_join (consumer s q g pushed_at)) in
      let t0 = now () in
      gate_open g;
      let pstats =
        try List.map (fun j -> j ()) ps
        with e ->
          (* A producer raised: close so the consumers finish, then report the exception. *)
          Bqueue.close q;
          List.iter (fun j -> try ignore (j ()) with _ -> ()) cs;
          raise e
      in
      Bqueue.close q; (* every producer finished: "no more items" *)
      let outs = List.map (fun j -> j ()) cs in
      (t0, now (), pstats, outs)
    end
  in
  let sum f l = List.fold_left (fun a x -> a + f x) 0 l in
  let pushes, push_waits, p_blocked =
    if s.seq then (s.per_producer, 0, 0)
    else (sum (fun st -> st.ops) pstats, sum (fun st -> st.waits) pstats, sum (fun st -> st.blocked_ns) pstats) in
  let pops = if s.seq then s.per_producer else sum (fun o -> o.c_stats.ops) outs in
  let pop_waits = if s.seq then 0 else sum (fun o -> o.c_stats.waits) outs in
  let c_blocked = if s.seq then 0 else sum (fun o -> o.c_stats.blocked_ns) outs in
  let max_len = List.fold_left (fun a o -> max a o.max_len) 0 outs in
  let error = match verdict s outs with
    | None when max_len > s.capacity -> Some (Printf.sprintf "len %d observed above capacity" max_len)
    | e -> e in
  let latencies = Array.concat (List.map (fun o -> Array.sub o.lat 0 o.n_lat) outs) in
  ( [| t1 - t0; pushes; push_waits; pops; pop_waits; p_blocked; c_blocked; max_len;
       (if error = None then 1 else 0) |],
    latencies,
    Option.value error ~default:"" )

(* The boundary: one int array in (the spec, in native.rs's order); out: the figures (an int
   array in native.rs's order), the sampled latencies in ns, and an error message. Rust holds the domain lock while this runs; Domain.join and
   Thread.join release it while they wait. *)
let () =
  Callback.register "bqueue_native_run" (fun (a : int array) ->
      let s = { producers = a.(0); consumers = a.(1); per_producer = a.(2); capacity = a.(3);
                work_ns = a.(4); burst_items = a.(5); burst_pause_ns = a.(6); seq = a.(7) = 1 } in
      run ~domains:(a.(8) = 1) s)
