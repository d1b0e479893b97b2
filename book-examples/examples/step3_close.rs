//! Step 3: close. A flag, set under the lock, and a wake-up for every sleeper. Without it a
//! consumer cannot tell "no item yet" from "no item ever":
//!
//!     cargo run --example step3_close -- no-close
//!     cargo run --example step3_close
use std::collections::VecDeque;
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

// ANCHOR: state
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

pub struct Queue<T> {
    state: Mutex<State<T>>, // the flag too: inside the mutex
    not_empty: Condvar,
    not_full: Condvar,
    capacity: usize,
}
// ANCHOR_END: state

impl<T> Queue<T> {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "capacity 0: no item could get in");
        let items = VecDeque::with_capacity(capacity);
        Queue {
            state: Mutex::new(State { items, closed: false }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
        }
    }
}

// ANCHOR: push
impl<T> Queue<T> {
    /// Waits while the queue is full and open. A closed
    /// queue hands the item back.
    pub fn push(&self, x: T) -> Result<(), T> {
        let s = self.state.lock().unwrap();
        let full = |s: &mut State<T>| {
            s.items.len() == self.capacity && !s.closed
        };
        let mut s = self.not_full.wait_while(s, full).unwrap();
        if s.closed {
            return Err(x);
        }
        s.items.push_back(x);
        self.not_empty.notify_one();
        Ok(())
    }
}
// ANCHOR_END: push

// ANCHOR: pop
impl<T> Queue<T> {
    /// Waits while the queue is empty and open. `None`:
    /// closed, and every item taken.
    pub fn pop(&self) -> Option<T> {
        let s = self.state.lock().unwrap();
        let empty = |s: &mut State<T>| {
            s.items.is_empty() && !s.closed
        };
        let mut s = self.not_empty.wait_while(s, empty).unwrap();
        let x = s.items.pop_front()?; // empty: closed, drained
        self.not_full.notify_one();
        Some(x)
    }
}
// ANCHOR_END: pop

// ANCHOR: close
impl<T> Queue<T> {
    pub fn close(&self) {
        let mut s = self.state.lock().unwrap();
        s.closed = true;
        // Every sleeper must wake and see the flag: all.
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
}
// ANCHOR_END: close

// ANCHOR: main
fn main() {
    let arg = std::env::args().nth(1);
    let close = arg.as_deref() != Some("no-close");
    let q = Arc::new(Queue::new(2));

    let (finished, consumer_finished) = mpsc::channel();
    let consumer_q = Arc::clone(&q);
    thread::spawn(move || {
        while let Some(x) = consumer_q.pop() {
            println!("consumer: got {x}");
        }
        println!("consumer: pop returned None: closed, drained");
        finished.send(()).unwrap();
    });

    for x in 1..=3 {
        q.push(x).unwrap();
    }
    let refused = if close {
        q.close();
        Some(q.push(4))
    } else {
        None // the producer returns without closing
    };

    let one_second = Duration::from_secs(1);
    match consumer_finished.recv_timeout(one_second) {
        Ok(()) => println!("main: the consumer finished"),
        Err(_) => println!("main: 1 s later, pop has not returned"),
    }
    match refused {
        Some(r) => println!("main: push(4) after close: {r:?}"),
        None => println!("main: the queue was never closed"),
    }
}
// ANCHOR_END: main
