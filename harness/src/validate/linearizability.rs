//! The linearizability check, in the shape of OCaml multicoretests' Lin/STM: a sequential
//! prefix, then 2-3 threads running short command lists at once. Each command's invoke and
//! return times are recorded ([`Instant`]), and the history must have a linearization (a total
//! order consistent with real time) whose results the model reproduces: a Wing-Gong search
//! pruned by the history's structure (each thread's commands take effect in its own order, so
//! only the next command of each thread can come next, and a state is its per-thread
//! positions), memoised on (positions, model state). One case in [`LONG_EVERY`] is a long
//! history ([`LONG_THREADS`] threads of [`LONG_OPS`] commands).
//!
//! As in STM, a blocking command is generated only where the model says it returns in every
//! interleaving of the parallel part; elsewhere it becomes its timed variant.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use super::driver::{Budget, CaseCheck, Check, Described};
use super::model::{random_op, run_op, Caps, Handles, Model, Op, Ret, Rng, SHORT_TIMEOUTS};
use super::report::{History, HistoryOp, Misbehaviour};
use bq_engine::queue::Impl;
use bq_engine::watchdog::within;

const LIMIT: Duration = Duration::from_secs(10);
pub const DEFAULT_REPS: usize = 10;
/// Smaller cases tried while shrinking (each one twice).
const MAX_SHRINK_CASES: usize = 60;
/// The long histories: one case in `LONG_EVERY`, `LONG_THREADS` x `LONG_OPS` commands, all
/// timed ops with the shortest timeouts (so that a run stays short, and no command can wait).
pub const LONG_EVERY: usize = 30;
pub const LONG_THREADS: usize = 4;
pub const LONG_OPS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub capacity: usize,
    pub prefix: Vec<Op>,
    pub threads: Vec<Vec<Op>>,
}

/// One completed parallel command.
#[derive(Debug, Clone, Copy)]
pub struct Event {
    pub thread: usize,
    pub op: Op,
    pub ret: Ret,
    /// Nanoseconds since the run's epoch.
    pub start: u64,
    pub end: u64,
}

pub fn generate(rng: &mut Rng, caps: Caps) -> Case {
    if rng.below(LONG_EVERY) == 0 {
        return generate_long(rng, caps, LONG_THREADS, LONG_OPS);
    }
    // The channel model's close drops the producer handle, which other threads still hold:
    // only an explicit close is generated here.
    let capacity = rng.range(1, 3);
    let mut next_item = 0;
    let mut model = Model::new(capacity);
    let mut prefix = Vec::new();
    for _ in 0..rng.range(0, 5) {
        let mut op = random_op(rng, caps, &mut next_item, false);
        if op == Op::Close && (!caps.explicit_close || rng.chance(50)) {
            continue;
        }
        if model.would_block(op) {
            op = op.timed(rng.timeout());
        }
        model.step(op);
        prefix.push(op);
    }
    let n_threads = if rng.chance(60) { 2 } else { 3 };
    let max_len = if n_threads == 2 { 4 } else { 3 };
    let mut threads = Vec::new();
    for t in 0..n_threads {
        // Without concurrent consumers, only thread 0 pops.
        let pops = caps.concurrent_consumers || t == 0;
        let mut ops = Vec::new();
        let len = rng.range(1, max_len);
        while ops.len() < len {
            let op = random_op(rng, caps, &mut next_item, false);
            if (op.is_pop() && !pops) || (op == Op::Close && !caps.explicit_close) {
                continue;
            }
            ops.push(op);
        }
        threads.push(ops);
    }
    let mut case = Case { capacity, prefix, threads };
    while let Some((t, i)) = blocking_somewhere(&case) {
        case.threads[t][i] = case.threads[t][i].timed(rng.timeout());
    }
    case
}

/// A long case: `threads` threads of `ops` commands, no prefix, every command that could wait
/// made timed with a timeout of 0, 1 ns or 1 µs, and no close but (sometimes) thread 1's last.
pub fn generate_long(rng: &mut Rng, caps: Caps, threads: usize, ops: usize) -> Case {
    let capacity = rng.range(1, 4);
    let mut next_item = 0;
    let mut lanes = Vec::new();
    for t in 0..threads {
        let pops = caps.concurrent_consumers || t == 0;
        let mut lane = Vec::with_capacity(ops);
        while lane.len() < ops {
            let op = random_op(rng, caps, &mut next_item, false);
            if (op.is_pop() && !pops) || op == Op::Close {
                continue;
            }
            let tiny = SHORT_TIMEOUTS[rng.below(3)];
            let timed = matches!(op, Op::PushTimeout(..) | Op::PopTimeout(_)) || op.waits();
            lane.push(if timed { op.timed(tiny) } else { op });
        }
        lanes.push(lane);
    }
    if caps.explicit_close && rng.chance(50) {
        *lanes[0].last_mut().expect("ops > 0") = Op::Close;
    }
    Case { capacity, prefix: vec![], threads: lanes }
}

/// The model state after the prefix.
fn after_prefix(case: &Case) -> Model {
    let mut m = Model::new(case.capacity);
    for &op in &case.prefix {
        m.step(op);
    }
    m
}

/// A blocking command that waits in some interleaving of the parallel part, if any.
pub fn blocking_somewhere(case: &Case) -> Option<(usize, usize)> {
    if !case.threads.iter().flatten().any(|op| op.waits()) {
        return None;
    }
    fn go(
        case: &Case,
        pos: &mut Vec<usize>,
        m: &Model,
        seen: &mut HashSet<(Vec<usize>, Model)>,
    ) -> Option<(usize, usize)> {
        if !seen.insert((pos.clone(), m.clone())) {
            return None;
        }
        for t in 0..case.threads.len() {
            let Some(&op) = case.threads[t].get(pos[t]) else { continue };
            if m.would_block(op) {
                return Some((t, pos[t]));
            }
            let mut next = m.clone();
            next.step(op);
            pos[t] += 1;
            let r = go(case, pos, &next, seen);
            pos[t] -= 1;
            if r.is_some() {
                return r;
            }
        }
        None
    }
    go(case, &mut vec![0; case.threads.len()], &after_prefix(case), &mut HashSet::new())
}

/// Prefix problems (a sequential divergence) or a non-linearizable history.
#[derive(Debug, Clone)]
pub enum Failure {
    Prefix {
        at: usize,
        got: Ret,
        expected: Ret,
    },
    /// The history, and the commands no order could explain (indices into it; see [`check`]).
    NotLinearizable {
        events: Vec<Event>,
        unexplained: Vec<usize>,
    },
    Hung {
        detail: String,
    },
    Panicked(String),
}

/// Runs `case` once on a fresh queue and judges the history.
pub fn run_once<I: Impl>(imp: &'static I, case: &Case) -> Result<(), Failure> {
    let n = case.threads.len();
    let progress: Arc<Vec<AtomicUsize>> = Arc::new((0..n).map(|_| AtomicUsize::new(0)).collect());
    let (c, p) = (case.clone(), progress.clone());
    let r = within(&format!("{}: parallel commands", imp.name()), LIMIT, move || {
        let (tx, rx) = imp.bounded(c.capacity).expect("capacity 1..4");
        let mut h = Handles::new(imp, tx, rx);
        let prefix: Vec<Ret> = c.prefix.iter().map(|&op| h.run(op)).collect();
        let explicit = h.explicit_close;
        let barrier = Arc::new(Barrier::new(n));
        let epoch = Instant::now();
        let workers: Vec<_> = c
            .threads
            .iter()
            .enumerate()
            .map(|(t, ops)| {
                let (tx, rx, ops, barrier, p) = (h.tx.clone(), h.rx.clone(), ops.clone(), barrier.clone(), p.clone());
                thread::spawn(move || {
                    barrier.wait();
                    let mut events = Vec::with_capacity(ops.len());
                    for op in ops {
                        let start = epoch.elapsed().as_nanos() as u64;
                        let ret = run_op::<I>(tx.as_ref(), &rx, op, explicit).expect("explicit close only");
                        let end = epoch.elapsed().as_nanos() as u64;
                        events.push(Event { thread: t, op, ret, start, end });
                        p[t].fetch_add(1, Ordering::SeqCst);
                    }
                    events
                })
            })
            .collect();
        let mut events = Vec::new();
        for w in workers {
            match w.join() {
                Ok(e) => events.extend(e),
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        (prefix, events)
    });
    let (prefix, events) = match r {
        Ok(v) => v,
        Err(bq_engine::watchdog::WatchdogError::Hung { .. }) => {
            let stuck: Vec<String> = (0..n)
                .filter_map(|t| {
                    let done = progress[t].load(Ordering::SeqCst);
                    case.threads[t].get(done).map(|op| format!("thread {} in `{op}`", t + 1))
                })
                .collect();
            return Err(Failure::Hung { detail: format!("still running after {LIMIT:?}: {}", stuck.join(", ")) });
        }
        Err(e) => return Err(Failure::Panicked(e.to_string())),
    };
    let mut m = Model::new(case.capacity);
    for (at, (&op, &got)) in case.prefix.iter().zip(&prefix).enumerate() {
        let expected = m.step(op);
        if got != expected {
            return Err(Failure::Prefix { at, got, expected });
        }
    }
    match check(&m, &events) {
        Ok(()) => Ok(()),
        Err(unexplained) => Err(Failure::NotLinearizable { events, unexplained }),
    }
}

/// Wing & Gong: try every command that may come next (none returned before it was invoked),
/// step the model, recurse. Commands of one thread take effect in that thread's order, so the
/// candidates are the threads' next commands and the done set is a vector of per-thread
/// positions; failed (positions, model) pairs are memoised. Err: the commands that could have
/// come next at the deepest point any order reached, none of which the model explains there.
pub fn check(start: &Model, events: &[Event]) -> Result<(), Vec<usize>> {
    let threads = events.iter().map(|e| e.thread + 1).max().unwrap_or(0);
    let mut lanes: Vec<Vec<usize>> = vec![Vec::new(); threads];
    for (i, e) in events.iter().enumerate() {
        lanes[e.thread].push(i);
    }
    for lane in &mut lanes {
        lane.sort_by_key(|&i| events[i].start);
    }
    let mut search = Search { events, lanes, failed: HashSet::new(), deepest: None };
    let mut pos = vec![0; threads];
    if search.go(&mut pos, 0, start) {
        Ok(())
    } else {
        Err(search.deepest.map(|(_, c)| c).unwrap_or_default())
    }
}

/// Whether some order explains `events` (see [`check`]).
pub fn linearizable(start: &Model, events: &[Event]) -> bool {
    check(start, events).is_ok()
}

struct Search<'a> {
    events: &'a [Event],
    /// Per thread, its events' indices in invocation order.
    lanes: Vec<Vec<usize>>,
    failed: HashSet<(Vec<usize>, Model)>,
    /// The most commands any order explained, and the candidates that failed there.
    deepest: Option<(usize, Vec<usize>)>,
}

impl Search<'_> {
    fn go(&mut self, pos: &mut Vec<usize>, depth: usize, m: &Model) -> bool {
        if depth == self.events.len() {
            return true;
        }
        let key = (pos.clone(), m.clone());
        if self.failed.contains(&key) {
            return false;
        }
        let next: Vec<(usize, usize)> =
            (0..self.lanes.len()).filter_map(|t| self.lanes[t].get(pos[t]).map(|&i| (t, i))).collect();
        let first_end = next.iter().map(|&(_, i)| self.events[i].end).min().unwrap_or(u64::MAX);
        let mut candidates = Vec::new();
        for &(t, i) in &next {
            let e = self.events[i];
            if e.start > first_end {
                continue; // something pending returned before this one was invoked
            }
            candidates.push(i);
            if m.would_block(e.op) {
                continue; // a blocking command cannot take effect here
            }
            let mut after = m.clone();
            if after.step(e.op) == e.ret {
                pos[t] += 1;
                let found = self.go(pos, depth + 1, &after);
                pos[t] -= 1;
                if found {
                    return true;
                }
            }
        }
        if self.deepest.as_ref().is_none_or(|(d, _)| depth > *d) {
            self.deepest = Some((depth, candidates));
        }
        self.failed.insert(key);
        false
    }
}

pub fn render(case: &Case, failure: &Failure) -> Vec<String> {
    let mut lines = vec![format!("capacity {}", case.capacity)];
    let prefix: Vec<String> = case.prefix.iter().map(|op| op.to_string()).collect();
    lines.push(format!("sequential prefix: {}", if prefix.is_empty() { "(none)".into() } else { prefix.join("; ") }));
    match failure {
        Failure::NotLinearizable { events, unexplained } => {
            lines.push("then in parallel (µs since start: invoke..return; * no order explains it):".into());
            let mut ev: Vec<(usize, &Event)> = events.iter().enumerate().collect();
            ev.sort_by_key(|(_, e)| (e.thread, e.start));
            for (i, e) in ev {
                lines.push(format!(
                    "{} thread {}: {:<22} -> {:<10} [{:.1}..{:.1}]",
                    if unexplained.contains(&i) { "*" } else { " " },
                    e.thread + 1,
                    e.op.to_string(),
                    e.ret.to_string(),
                    e.start as f64 / 1e3,
                    e.end as f64 / 1e3
                ));
            }
            lines.push(
                "no order of these commands consistent with their times gives these results on the model queue".into(),
            );
        }
        _ => {
            for (t, ops) in case.threads.iter().enumerate() {
                let ops: Vec<String> = ops.iter().map(|o| o.to_string()).collect();
                lines.push(format!("  thread {}: {}", t + 1, ops.join("; ")));
            }
        }
    }
    lines
}

/// The check: each case run up to `reps` times (more runs, more interleavings), stopping at
/// the first failure.
pub struct Linearizability {
    pub reps: usize,
}

impl CaseCheck for Linearizability {
    type Case = Case;
    type Failure = Failure;
    const CHECK: Check = Check::Linearizability;
    const DEFAULT_CASES: usize = 150;
    const NOUN: &'static str = "linearizability case";
    /// Each smaller case gets two tries of `reps` runs; a hang stops shrinking, since each
    /// further try would cost a whole [`LIMIT`].
    const SHRINK: Budget = Budget { runs: 2 * MAX_SHRINK_CASES, hangs: 1, tries: 2 };

    fn generate(&self, _seed: u64, rng: &mut Rng, caps: Caps) -> Case {
        generate(rng, caps)
    }

    fn run<I: Impl>(&self, imp: &'static I, case: &Case) -> Result<(), Failure> {
        (0..self.reps).try_for_each(|_| run_once(imp, case))
    }

    /// One command less (of the prefix or of a thread), or one capacity less; only cases the
    /// generator could have made (two threads or more, no blocking command that could wait).
    fn smaller(&self, case: &Case, _failure: &Failure) -> Vec<Case> {
        let mut smaller = Vec::new();
        // Long threads first lose half their commands (either half).
        for t in 0..case.threads.len() {
            let n = case.threads[t].len();
            if n > 4 {
                for keep in [0..n / 2, n / 2..n] {
                    let mut c = case.clone();
                    c.threads[t] = case.threads[t][keep].to_vec();
                    smaller.push(c);
                }
            }
        }
        for i in 0..case.prefix.len() {
            let mut c = case.clone();
            c.prefix.remove(i);
            smaller.push(c);
        }
        for t in 0..case.threads.len() {
            for i in 0..case.threads[t].len() {
                let mut c = case.clone();
                c.threads[t].remove(i);
                if c.threads[t].is_empty() {
                    c.threads.remove(t);
                }
                smaller.push(c);
            }
        }
        if case.capacity > 1 {
            smaller.push(Case { capacity: case.capacity - 1, ..case.clone() });
        }
        // The prefix first: `blocking_somewhere` runs it on the model, which must not wait.
        smaller.retain(|c| c.threads.len() >= 2 && !prefix_blocks(c) && blocking_somewhere(c).is_none());
        smaller
    }

    fn same(&self, _was: &Failure, now: &Failure) -> bool {
        !self.hung(now)
    }

    fn hung(&self, failure: &Failure) -> bool {
        matches!(failure, Failure::Hung { .. })
    }

    fn history(&self, case: &Case, failure: &Failure) -> Option<History> {
        let Failure::NotLinearizable { events, unexplained } = failure else { return None };
        let ops = events
            .iter()
            .enumerate()
            .map(|(i, e)| HistoryOp {
                thread: e.thread,
                call: e.op.to_string(),
                result: e.ret.to_string(),
                start_ns: e.start,
                end_ns: e.end,
                unexplained: unexplained.contains(&i),
            })
            .collect();
        let prefix: Vec<String> = case.prefix.iter().map(|op| op.to_string()).collect();
        let prefix = if prefix.is_empty() { "(none)".to_string() } else { prefix.join("; ") };
        let start = format!("capacity {}; sequential prefix: {prefix}", case.capacity);
        Some(History { start, threads: events.iter().map(|e| e.thread + 1).max().unwrap_or(0), ops })
    }

    fn describe<I: Impl>(&self, _imp: &'static I, case: &Case, failure: &Failure) -> Described {
        let (kind, summary) = match failure {
            Failure::Prefix { at, got, expected } => (
                Misbehaviour::Mismatch,
                format!(
                    "prefix command {} `{}` returned {got}; the model returns {expected}",
                    at + 1,
                    case.prefix[*at]
                ),
            ),
            Failure::NotLinearizable { .. } => {
                (Misbehaviour::NotLinearizable, "the parallel history is not linearizable".into())
            }
            Failure::Hung { detail } => {
                (Misbehaviour::Hang, format!("a command the model says returns did not: {detail}"))
            }
            Failure::Panicked(m) => (Misbehaviour::Panic, m.clone()),
        };
        Described {
            kind,
            property: "concurrent histories are linearizable with respect to the model queue".into(),
            summary,
            case: render(case, failure),
        }
    }
}

/// A blocking command in the prefix that waits (the prefix runs alone, before the threads).
fn prefix_blocks(c: &Case) -> bool {
    let mut m = Model::new(c.capacity);
    c.prefix.iter().any(|&op| {
        let b = m.would_block(op);
        if !b {
            m.step(op);
        }
        b
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bq_engine::queue::QueueError;

    fn ev(thread: usize, op: Op, ret: Ret, start: u64, end: u64) -> Event {
        Event { thread, op, ret, start, end }
    }

    #[test]
    fn overlapping_commands_may_take_effect_in_either_order() {
        let m = Model::new(1);
        // push(1) and try_pop overlap: try_pop may see the item.
        let h = [ev(0, Op::Push(1), Ret::Unit(Ok(())), 0, 10), ev(1, Op::TryPop, Ret::Item(Ok(1)), 5, 8)];
        assert!(linearizable(&m, &h));
        let h =
            [ev(0, Op::Push(1), Ret::Unit(Ok(())), 0, 10), ev(1, Op::TryPop, Ret::Item(Err(QueueError::Empty)), 5, 8)];
        assert!(linearizable(&m, &h));
    }

    #[test]
    fn real_time_order_is_respected() {
        let m = Model::new(1);
        // try_pop starts after push returned: Empty is impossible.
        let h =
            [ev(0, Op::Push(1), Ret::Unit(Ok(())), 0, 4), ev(1, Op::TryPop, Ret::Item(Err(QueueError::Empty)), 5, 8)];
        assert!(!linearizable(&m, &h));
        // An item nobody pushed.
        let h = [ev(0, Op::Push(1), Ret::Unit(Ok(())), 0, 10), ev(1, Op::TryPop, Ret::Item(Ok(2)), 5, 8)];
        assert!(!linearizable(&m, &h));
    }

    /// A real history of `threads` x `ops` commands on the port, and the same history with one
    /// pop's item replaced by one nobody pushed (to prove that takes the whole search).
    fn long_history(seed: u64, threads: usize, ops: usize) -> (Model, Vec<Event>, Vec<Event>) {
        let imp: &'static bq_engine::impls::RustPort = &bq_engine::impls::RustPort;
        let caps = Caps { explicit_close: true, has_len: true, concurrent_consumers: true };
        let case = generate_long(&mut Rng::new(seed), caps, threads, ops);
        let events = loop {
            match run_once(imp, &case) {
                Ok(()) => {}
                Err(Failure::NotLinearizable { .. }) => panic!("the port's history is not linearizable"),
                Err(_) => panic!("the run failed"),
            }
            // run_once judged it; run the same case again to keep its events.
            let (tx, rx) = bq_engine::queue::Impl::bounded(imp, case.capacity).unwrap();
            let h = Handles::new(imp, tx, rx);
            let barrier = Arc::new(Barrier::new(threads));
            let epoch = Instant::now();
            let workers: Vec<_> = case
                .threads
                .iter()
                .enumerate()
                .map(|(t, ops)| {
                    let (tx, rx, ops, barrier) = (h.tx.clone(), h.rx.clone(), ops.clone(), barrier.clone());
                    thread::spawn(move || {
                        barrier.wait();
                        ops.into_iter()
                            .map(|op| {
                                let start = epoch.elapsed().as_nanos() as u64;
                                let ret = run_op::<bq_engine::impls::RustPort>(tx.as_ref(), &rx, op, true).unwrap();
                                Event { thread: t, op, ret, start, end: epoch.elapsed().as_nanos() as u64 }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let ev: Vec<Event> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
            if ev.iter().any(|e| matches!(e.ret, Ret::Item(Ok(_)))) {
                break ev;
            }
        };
        let mut broken = events.clone();
        let last_pop = broken.iter().rposition(|e| matches!(e.ret, Ret::Item(Ok(_)))).unwrap();
        broken[last_pop].ret = Ret::Item(Ok(1 << 40));
        (Model::new(case.capacity), events, broken)
    }

    #[test]
    fn long_histories_are_decided() {
        for seed in 0..3 {
            let (m, good, broken) = long_history(seed, LONG_THREADS, LONG_OPS);
            assert!(linearizable(&m, &good), "seed {seed}");
            let unexplained = check(&m, &broken).expect_err("an item nobody pushed");
            assert!(!unexplained.is_empty());
        }
    }

    /// The figures of docs/validate.md: `cargo test --release --lib linearizability_scale --
    /// --ignored --nocapture` prints the search's time for real histories of each size and for
    /// the same histories made non-linearizable (the whole search).
    #[test]
    #[ignore]
    fn linearizability_scale() {
        println!("threads x ops | real history: max ms | broken: max ms (of 5 seeds)");
        for (threads, ops) in [(4, 50), (4, 100), (8, 50), (8, 100)] {
            let (mut good_ms, mut broken_ms) = (0f64, 0f64);
            for seed in 0..5 {
                let (m, good, broken) = long_history(seed, threads, ops);
                let t = Instant::now();
                assert!(linearizable(&m, &good));
                good_ms = good_ms.max(t.elapsed().as_secs_f64() * 1e3);
                let t = Instant::now();
                assert!(!linearizable(&m, &broken));
                broken_ms = broken_ms.max(t.elapsed().as_secs_f64() * 1e3);
            }
            println!("{threads} x {ops} | {good_ms:.1} | {broken_ms:.1}");
        }
    }

    #[test]
    fn blocking_commands_are_made_timed_where_they_could_wait() {
        let caps = Caps { explicit_close: true, has_len: true, concurrent_consumers: true };
        for seed in 0..200 {
            let case = generate(&mut Rng::new(seed), caps);
            assert!(blocking_somewhere(&case).is_none(), "seed {seed}: {case:?}");
        }
        let c = Case { capacity: 1, prefix: vec![], threads: vec![vec![Op::Pop], vec![Op::Push(1)]] };
        assert_eq!(blocking_somewhere(&c), Some((0, 0)));
    }
}
