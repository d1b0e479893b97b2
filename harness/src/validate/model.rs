//! The reference semantics every check compares against: a plain model queue (a `VecDeque` and
//! a closed flag), the commands the checks generate, and how a command runs on real handles.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use bq_engine::queue::{Consumer, Impl, Producer, QueueError};

/// One command on the queue. A timed command is short (at most [`SHORT_TIMEOUTS`]' largest)
/// or long (at least [`LONG`]): the checks put a short one where the model says the plain
/// command could wait, and treat a long one like the plain command (it may only be generated
/// where it returns at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Push(u64),
    TryPush(u64),
    PushTimeout(u64, Duration),
    Pop,
    TryPop,
    PopTimeout(Duration),
    Close,
    Len,
}

/// The short timeouts the generators draw: the edges 0 and 1 ns, then up to a millisecond.
pub const SHORT_TIMEOUTS: [Duration; 5] = [
    Duration::ZERO,
    Duration::from_nanos(1),
    Duration::from_micros(1),
    Duration::from_micros(100),
    Duration::from_millis(1),
];

/// From here on a timeout is long: a timed command waits like the plain one.
pub const LONG: Duration = Duration::from_secs(3600);

/// The long timeouts: an hour, and the largest each API can express: OCaml's `max_int`
/// nanoseconds (`bqueue.ml`), `u64::MAX` nanoseconds (`c/bq.h`), `Duration::MAX` (Rust).
pub const LONG_TIMEOUTS: [Duration; 4] =
    [LONG, Duration::from_nanos(bq_engine::queue::MAX_ITEM), Duration::from_nanos(u64::MAX), Duration::MAX];

/// A timeout as the reports show it.
pub fn show_timeout(t: Duration) -> String {
    match t {
        Duration::MAX => "Duration::MAX".into(),
        t if t == Duration::from_nanos(u64::MAX) => "u64::MAX ns".into(),
        t if t == Duration::from_nanos(bq_engine::queue::MAX_ITEM) => "max_int ns".into(),
        t if t >= LONG && t.as_secs() % 3600 == 0 => format!("{}h", t.as_secs() / 3600),
        t if t.subsec_nanos() % 1000 != 0 => format!("{}ns", t.as_nanos()),
        t if t.as_micros() >= 1000 && t.as_micros() % 1000 == 0 => format!("{}ms", t.as_millis()),
        t => format!("{}µs", t.as_micros()),
    }
}

impl Op {
    pub fn is_push(self) -> bool {
        matches!(self, Op::Push(_) | Op::TryPush(_) | Op::PushTimeout(..))
    }
    pub fn is_pop(self) -> bool {
        matches!(self, Op::Pop | Op::TryPop | Op::PopTimeout(_))
    }
    /// The short-timed variant of a command that could wait forever (a plain or long-timed one).
    pub fn timed(self, t: Duration) -> Op {
        match self {
            Op::Push(x) | Op::PushTimeout(x, _) => Op::PushTimeout(x, t),
            Op::Pop | Op::PopTimeout(_) => Op::PopTimeout(t),
            other => other,
        }
    }
    /// A plain blocking command, or a timed one with a [`LONG`] timeout.
    pub fn waits(self) -> bool {
        match self {
            Op::Push(_) | Op::Pop => true,
            Op::PushTimeout(_, t) | Op::PopTimeout(t) => t >= LONG,
            _ => false,
        }
    }
    pub fn item(self) -> Option<u64> {
        match self {
            Op::Push(x) | Op::TryPush(x) | Op::PushTimeout(x, _) => Some(x),
            _ => None,
        }
    }
    pub fn with_item(self, x: u64) -> Op {
        match self {
            Op::Push(_) => Op::Push(x),
            Op::TryPush(_) => Op::TryPush(x),
            Op::PushTimeout(_, t) => Op::PushTimeout(x, t),
            other => other,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Push(x) => write!(f, "push({x})"),
            Op::TryPush(x) => write!(f, "try_push({x})"),
            Op::PushTimeout(x, t) => write!(f, "push_timeout({x}, {})", show_timeout(t)),
            Op::Pop => write!(f, "pop()"),
            Op::TryPop => write!(f, "try_pop()"),
            Op::PopTimeout(t) => write!(f, "pop_timeout({})", show_timeout(t)),
            Op::Close => write!(f, "close()"),
            Op::Len => write!(f, "len()"),
        }
    }
}

/// What a command returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ret {
    Unit(Result<(), QueueError>),
    Item(Result<u64, QueueError>),
    Len(usize),
}

impl fmt::Display for Ret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ret::Unit(Ok(())) => write!(f, "ok"),
            Ret::Item(Ok(x)) => write!(f, "{x}"),
            Ret::Unit(Err(e)) | Ret::Item(Err(e)) => write!(f, "{e}"),
            Ret::Len(n) => write!(f, "{n}"),
        }
    }
}

/// The model queue: a bounded FIFO with a closed flag, one atomic step per command.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Model {
    pub capacity: usize,
    pub items: VecDeque<u64>,
    pub closed: bool,
}

impl Model {
    pub fn new(capacity: usize) -> Model {
        Model { capacity, items: VecDeque::new(), closed: false }
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= self.capacity
    }

    /// True when `op` would wait here (a blocking push on a full open queue, a blocking pop on
    /// an empty open one; a long-timed one counts as blocking, a short-timed one never does).
    pub fn would_block(&self, op: Op) -> bool {
        op.waits() && if op.is_push() { self.is_full() && !self.closed } else { self.items.is_empty() && !self.closed }
    }

    /// Applies `op` atomically. A timed command linearises at a moment when it returns at once,
    /// so it is deterministic: `Timeout` exactly where the plain command would wait.
    pub fn step(&mut self, op: Op) -> Ret {
        match op {
            Op::Push(x) | Op::TryPush(x) | Op::PushTimeout(x, _) => Ret::Unit(if self.closed {
                Err(QueueError::Closed)
            } else if self.is_full() {
                assert!(!op.waits(), "the model was asked to run a push that waits forever");
                Err(if matches!(op, Op::TryPush(_)) { QueueError::Full } else { QueueError::Timeout })
            } else {
                self.items.push_back(x);
                Ok(())
            }),
            Op::Pop | Op::TryPop | Op::PopTimeout(_) => Ret::Item(if let Some(x) = self.items.pop_front() {
                Ok(x)
            } else if self.closed {
                Err(QueueError::Closed)
            } else {
                assert!(!op.waits(), "the model was asked to run a pop that waits forever");
                Err(if op == Op::TryPop { QueueError::Empty } else { QueueError::Timeout })
            }),
            Op::Close => {
                self.closed = true;
                Ret::Unit(Ok(()))
            }
            Op::Len => Ret::Len(self.items.len()),
        }
    }
}

/// What both sides of a comparison support: the checks only generate commands in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Caps {
    /// Both have an explicit close. Without it, `close()` means "drop the producer handle"
    /// (the channel model), and no push follows it.
    pub explicit_close: bool,
    /// Both answer `len()`.
    pub has_len: bool,
    /// Concurrent consumers are allowed in the linearizability check: both sides' `try_pop` is
    /// exact (`Traits::exact_try_pop`; see the note `worker.rs` adds when it is not).
    pub concurrent_consumers: bool,
}

/// The handles of one queue, running commands one at a time.
pub struct Handles<I: Impl> {
    pub tx: Option<I::Tx>,
    pub rx: I::Rx,
    pub explicit_close: bool,
}

impl<I: Impl> Handles<I> {
    pub fn new(imp: &I, tx: I::Tx, rx: I::Rx) -> Self {
        Handles { tx: Some(tx), rx, explicit_close: imp.traits().explicit_close }
    }

    pub fn run(&mut self, op: Op) -> Ret {
        run_op::<I>(self.tx.as_ref(), &self.rx, op, self.explicit_close).unwrap_or_else(|| {
            // Only the channel model's close drops the producer handle; generators never
            // push after it.
            self.tx = None;
            Ret::Unit(Ok(()))
        })
    }
}

/// Runs `op` on a producer/consumer pair. `None` for a close that must drop `tx` (no explicit
/// close): the caller drops it.
pub fn run_op<I: Impl>(tx: Option<&I::Tx>, rx: &I::Rx, op: Op, explicit_close: bool) -> Option<Ret> {
    let tx = || tx.expect("a push after the producer handle was dropped: the generator must not do that");
    Some(match op {
        Op::Push(x) => Ret::Unit(tx().push(x)),
        Op::TryPush(x) => Ret::Unit(tx().try_push(x)),
        Op::PushTimeout(x, t) => Ret::Unit(tx().push_timeout(x, t)),
        Op::Pop => Ret::Item(rx.pop()),
        Op::TryPop => Ret::Item(rx.try_pop()),
        Op::PopTimeout(t) => Ret::Item(rx.pop_timeout(t)),
        Op::Close if explicit_close => {
            rx.close().expect("explicit close");
            Ret::Unit(Ok(()))
        }
        Op::Close => return None,
        Op::Len => Ret::Len(rx.len().unwrap_or(usize::MAX)),
    })
}

/// The one random generator of validation and the contract suite's stress round (SplitMix64):
/// the same seed gives the same cases on every machine, which is what makes `--seed` replay a
/// failure.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    /// Picks an index by weight.
    pub fn weighted(&mut self, weights: &[usize]) -> usize {
        let mut r = self.below(weights.iter().sum());
        for (i, &w) in weights.iter().enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        unreachable!()
    }
    /// A short timeout (see [`SHORT_TIMEOUTS`]).
    pub fn timeout(&mut self) -> Duration {
        SHORT_TIMEOUTS[self.below(SHORT_TIMEOUTS.len())]
    }
    /// A timed command's timeout: short, or one time in four long (see [`LONG_TIMEOUTS`]).
    pub fn any_timeout(&mut self) -> Duration {
        if self.chance(25) {
            LONG_TIMEOUTS[self.below(LONG_TIMEOUTS.len())]
        } else {
            self.timeout()
        }
    }
    /// An item: the next of a dense count, or one time in ten an edge (0 or [`MAX_ITEM`]).
    ///
    /// [`MAX_ITEM`]: bq_engine::queue::MAX_ITEM
    pub fn item(&mut self, next_item: &mut u64) -> u64 {
        match self.below(20) {
            0 => 0,
            1 => bq_engine::queue::MAX_ITEM,
            _ => {
                *next_item += 1;
                *next_item
            }
        }
    }
}

/// A random command, drawn among those `caps` allows; `producers_gone` says the producer handle
/// is gone (channel model after close), so no push or close may follow.
pub fn random_op(rng: &mut Rng, caps: Caps, next_item: &mut u64, producers_gone: bool) -> Op {
    loop {
        let kind = rng.weighted(&[14, 14, 10, 14, 14, 10, 2, 6]);
        let before = *next_item;
        let op = match kind {
            0 => Op::Push(rng.item(next_item)),
            1 => Op::TryPush(rng.item(next_item)),
            2 => Op::PushTimeout(rng.item(next_item), rng.any_timeout()),
            3 => Op::Pop,
            4 => Op::TryPop,
            5 => Op::PopTimeout(rng.any_timeout()),
            6 => Op::Close,
            _ => Op::Len,
        };
        let allowed = match op {
            Op::Len => caps.has_len,
            Op::Close => !producers_gone,
            o if o.is_push() => !producers_gone,
            _ => true,
        };
        if allowed {
            return op;
        }
        *next_item = before; // keep items dense
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_follows_bq_h() {
        let mut m = Model::new(1);
        assert_eq!(m.step(Op::TryPop), Ret::Item(Err(QueueError::Empty)));
        assert_eq!(m.step(Op::PopTimeout(Duration::ZERO)), Ret::Item(Err(QueueError::Timeout)));
        assert!(m.would_block(Op::PopTimeout(Duration::MAX)), "a long timeout waits like pop()");
        assert_eq!(m.step(Op::Push(1)), Ret::Unit(Ok(())));
        assert_eq!(m.step(Op::TryPush(2)), Ret::Unit(Err(QueueError::Full)));
        assert_eq!(m.step(Op::PushTimeout(2, Duration::from_nanos(1))), Ret::Unit(Err(QueueError::Timeout)));
        assert!(m.would_block(Op::Push(3)));
        assert_eq!(m.step(Op::Close), Ret::Unit(Ok(())));
        assert!(!m.would_block(Op::Push(3)));
        assert_eq!(m.step(Op::Push(3)), Ret::Unit(Err(QueueError::Closed)));
        assert_eq!(m.step(Op::Len), Ret::Len(1));
        assert_eq!(m.step(Op::Pop), Ret::Item(Ok(1)));
        assert_eq!(m.step(Op::Pop), Ret::Item(Err(QueueError::Closed)));
    }

    #[test]
    fn rng_is_deterministic() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
    }
}
