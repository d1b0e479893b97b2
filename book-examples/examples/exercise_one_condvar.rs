//! Exercise: keep ONE `Condvar` for both sides, and make the queue correct. Change only the
//! lines marked EXERCISE, then check your answer:
//!
//!     cargo run --release --example exercise_one_condvar
//!
//! It runs three producers and three consumers through a queue of capacity 1, three times, and
//! says whether every item arrived or the threads stalled. As shipped, the queue stalls.
use std::collections::VecDeque;
use std::process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

// ANCHOR: queue
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    changed: Condvar, // producers and consumers sleep here
    capacity: usize,
}

impl<T> Queue<T> {
    pub fn push(&self, x: T) {
        let mut items = self.items.lock().unwrap();
        while items.len() == self.capacity {
            items = self.changed.wait(items).unwrap();
        }
        items.push_back(x);
        self.changed.notify_one(); // EXERCISE
    }

    pub fn pop(&self) -> T {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            items = self.changed.wait(items).unwrap();
        }
        let x = items.pop_front().unwrap();
        self.changed.notify_one(); // EXERCISE
        x
    }
}
// ANCHOR_END: queue

const PRODUCERS: usize = 3;
const CONSUMERS: usize = 3;
const PER_PRODUCER: usize = 20_000;
const ROUNDS: usize = 3;

/// One round: true when every item arrived, false when no item arrived for 1 s.
fn round() -> bool {
    let q = Arc::new(Queue { items: Mutex::new(VecDeque::new()), changed: Condvar::new(), capacity: 1 });
    let delivered = Arc::new(AtomicUsize::new(0));
    for _ in 0..PRODUCERS {
        let producer_q = Arc::clone(&q);
        thread::spawn(move || {
            for i in 0..PER_PRODUCER {
                producer_q.push(i);
            }
        });
    }
    for _ in 0..CONSUMERS {
        let (q, delivered) = (Arc::clone(&q), Arc::clone(&delivered));
        thread::spawn(move || loop {
            let _: usize = q.pop();
            delivered.fetch_add(1, Ordering::Relaxed);
        });
    }
    let (mut last, mut still) = (usize::MAX, 0);
    while still < 10 {
        thread::sleep(Duration::from_millis(100));
        let now = delivered.load(Ordering::Relaxed);
        if now == PRODUCERS * PER_PRODUCER {
            return true; // the consumers stay asleep on the empty queue: fine, it is a test
        }
        still = if now == last { still + 1 } else { 0 };
        last = now;
    }
    false
}

fn main() {
    for _ in 0..ROUNDS {
        if !round() {
            println!("not yet: the threads stalled (no item delivered for 1 s)");
            process::exit(1);
        }
    }
    println!("right: {ROUNDS} rounds of {} items each, no stall", PRODUCERS * PER_PRODUCER);
}
