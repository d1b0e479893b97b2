//! Step 4: timeouts. `pop_timeout` waits at most a given time, measured from one deadline
//! computed before the first wait:
//!
//!     cargo run --example step4_timeouts
//!     cargo run --example step4_timeouts -- restart-clock
// A teaching example: `Default` and `is_empty` would be noise beside what it shows.
#![allow(clippy::new_without_default, clippy::len_without_is_empty)]
use std::collections::VecDeque;
use std::panic;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

pub struct Queue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
}

#[derive(Debug)]
pub enum PopError {
    Timeout,
    Closed,
}

impl<T> Queue<T> {
    pub fn new() -> Self {
        let state = Mutex::new(State { items: VecDeque::new(), closed: false });
        Queue { state, not_empty: Condvar::new(), not_full: Condvar::new() }
    }

    // push and close as in step 3 (push here does not wait:
    // these demonstrations never fill the queue)
    pub fn push(&self, x: T) {
        self.state.lock().unwrap().items.push_back(x);
        self.not_empty.notify_one();
    }

    pub fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
}

// ANCHOR: pop_timeout
impl<T> Queue<T> {
    pub fn pop_timeout(
        &self,
        timeout: Duration,
    ) -> Result<T, PopError> {
        // One deadline, before any wait. None: too far to
        // represent, so never.
        let deadline = Instant::now().checked_add(timeout);
        let s = self.state.lock().unwrap();
        let empty = |s: &mut State<T>| {
            s.items.is_empty() && !s.closed
        };
        let mut s = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let cv = &self.not_empty;
                cv.wait_timeout_while(s, left, empty).unwrap().0
            }
            None => self.not_empty.wait_while(s, empty).unwrap(),
        };
        match s.items.pop_front() {
            Some(x) => {
                self.not_full.notify_one();
                Ok(x)
            }
            None if s.closed => Err(PopError::Closed),
            None => Err(PopError::Timeout),
        }
    }
}
// ANCHOR_END: pop_timeout

// ANCHOR: restart_clock
impl<T> Queue<T> {
    /// The same wait written by hand, wrongly: every
    /// wake-up starts the full timeout again.
    pub fn pop_timeout_restarting(
        &self,
        timeout: Duration,
    ) -> Result<T, PopError> {
        let mut s = self.state.lock().unwrap();
        while s.items.is_empty() && !s.closed {
            let cv = &self.not_empty;
            let (guard, r) = cv.wait_timeout(s, timeout).unwrap();
            s = guard;
            if r.timed_out() {
                break;
            }
        }
        match s.items.pop_front() {
            Some(x) => Ok(x),
            None if s.closed => Err(PopError::Closed),
            None => Err(PopError::Timeout),
        }
    }
}
// ANCHOR_END: restart_clock

const TIMEOUT: Duration = Duration::from_millis(200);

// ANCHOR: main
fn main() {
    if std::env::args().nth(1).as_deref() == Some("restart-clock") {
        return restart_clock();
    }
    let q: Arc<Queue<u32>> = Arc::new(Queue::new());

    let start = Instant::now();
    let r = q.pop_timeout(TIMEOUT);
    let waited = start.elapsed() >= TIMEOUT;
    println!("pop_timeout(200 ms), empty: {r:?}, waited 200 ms: {waited}");

    let q2 = Arc::clone(&q);
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        q2.push(42);
    });
    let never = Instant::now().checked_add(Duration::MAX);
    println!("Instant::now().checked_add(Duration::MAX): {never:?}");
    let r = q.pop_timeout(Duration::MAX);
    println!("pop_timeout(Duration::MAX), a push 100 ms later: {r:?}");

    // The panic of `+`, caught and printed (not on stderr).
    panic::set_hook(Box::new(|_| {}));
    let sum = panic::catch_unwind(|| Instant::now() + Duration::MAX);
    let payload = sum.unwrap_err();
    let message = payload.downcast_ref::<&str>().copied();
    let message = message.or(payload.downcast_ref::<String>().map(|s| s.as_str()));
    println!("Instant::now() + Duration::MAX panics: {}", message.unwrap_or("?"));

    let q3 = Arc::clone(&q);
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        q3.close();
    });
    let r = q.pop_timeout(Duration::from_secs(10));
    println!("pop_timeout(10 s), a close 100 ms later: {r:?}");
}
// ANCHOR_END: main

// ANCHOR: restart_main
/// A thread wakes every waiter every 50 ms without pushing
/// anything, as spurious wake-ups and wake-ups stolen by other
/// consumers do. Which pop still returns after 200 ms?
fn restart_clock() {
    let q: Arc<Queue<u32>> = Arc::new(Queue::new());
    let nudger_q = Arc::clone(&q);
    thread::spawn(move || loop {
        thread::sleep(Duration::from_millis(50));
        nudger_q.not_empty.notify_all();
    });

    // Each pop reports on the channel when it returns.
    let (tx, rx) = mpsc::channel();
    let (q1, tx1) = (Arc::clone(&q), tx.clone());
    thread::spawn(move || {
        let r = q1.pop_timeout(TIMEOUT);
        tx1.send(("one deadline", r)).unwrap()
    });
    let (q2, tx2) = (Arc::clone(&q), tx);
    thread::spawn(move || {
        let r = q2.pop_timeout_restarting(TIMEOUT);
        tx2.send(("restarted timeout", r)).unwrap()
    });

    println!("two pops with a 200 ms timeout on an empty queue,");
    println!("and a wake-up every 50 ms");
    let give_up = Instant::now() + Duration::from_secs(1);
    let left = || give_up.saturating_duration_since(Instant::now());
    let mut returned = 0;
    while let Ok((how, r)) = rx.recv_timeout(left()) {
        println!("{how}: {r:?} within 1 s");
        returned += 1;
    }
    println!("1 s later, {} of 2 still waiting", 2 - returned);
}
// ANCHOR_END: restart_main
