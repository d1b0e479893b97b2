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
    state: Mutex<State<T>>, // the flag lives inside the mutex, with the items
    not_empty: Condvar,
    not_full: Condvar,
    capacity: usize,
}
// ANCHOR_END: state

impl<T> Queue<T> {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a queue of capacity 0 could never accept an item");
        Queue {
            state: Mutex::new(State { items: VecDeque::with_capacity(capacity), closed: false }),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
        }
    }

// ANCHOR: push
    /// Waits while the queue is full and open; a closed queue hands the item back.
    pub fn push(&self, x: T) -> Result<(), T> {
        let s = self.state.lock().unwrap();
        let mut s = self.not_full.wait_while(s, |s| s.items.len() == self.capacity && !s.closed).unwrap();
        if s.closed {
            return Err(x);
        }
        s.items.push_back(x);
        self.not_empty.notify_one();
        Ok(())
    }
// ANCHOR_END: push

// ANCHOR: pop
    /// Waits while the queue is empty and open. `None`: closed, and every item taken.
    pub fn pop(&self) -> Option<T> {
        let s = self.state.lock().unwrap();
        let mut s = self.not_empty.wait_while(s, |s| s.items.is_empty() && !s.closed).unwrap();
        let x = s.items.pop_front()?; // empty here means closed and drained
        self.not_full.notify_one();
        Some(x)
    }
// ANCHOR_END: pop

// ANCHOR: close
    pub fn close(&self) {
        let mut s = self.state.lock().unwrap();
        s.closed = true;
        // Every sleeper must wake and see the flag: all of them, not one.
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
// ANCHOR_END: close
}

// ANCHOR: main
fn main() {
    let close = std::env::args().nth(1).as_deref() != Some("no-close");
    let q = Arc::new(Queue::new(2));

    let (finished, consumer_finished) = mpsc::channel();
    let consumer_q = Arc::clone(&q);
    thread::spawn(move || {
        while let Some(x) = consumer_q.pop() {
            println!("consumer: got {x}");
        }
        println!("consumer: pop returned None: closed, and nothing left");
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

    match consumer_finished.recv_timeout(Duration::from_secs(1)) {
        Ok(()) => println!("main: the consumer finished"),
        Err(_) => println!("main: 1 s after the last push the consumer still sleeps in pop"),
    }
    match refused {
        Some(r) => println!("main: push(4) after close returned {r:?}: the item comes back"),
        None => println!("main: nothing will ever wake it: the queue was not closed"),
    }
}
// ANCHOR_END: main
