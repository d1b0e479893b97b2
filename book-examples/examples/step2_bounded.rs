//! Step 2: the bound. A second `Condvar`, on which producers sleep while the queue is full.
//! The same fast producer and slow consumer as in step 1:
//!
//!     cargo run --example step2_bounded
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

// ANCHOR: queue
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    not_empty: Condvar, // consumers sleep here while empty
    not_full: Condvar,  // producers sleep here while full
    capacity: usize,
}

impl<T> Queue<T> {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "capacity 0: no item could get in");
        Queue {
            items: Mutex::new(VecDeque::with_capacity(capacity)),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            capacity,
        }
    }

    /// Waits while the queue is full. Returns the length
    /// after the push (for the demonstration).
    pub fn push(&self, x: T) -> usize {
        let mut items = self.items.lock().unwrap();
        while items.len() == self.capacity {
            items = self.not_full.wait(items).unwrap();
        }
        items.push_back(x);
        self.not_empty.notify_one(); // one item: one consumer
        items.len()
    }

    pub fn pop(&self) -> T {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            items = self.not_empty.wait(items).unwrap();
        }
        let x = items.pop_front().unwrap();
        self.not_full.notify_one(); // one slot: one producer
        x
    }
}
// ANCHOR_END: queue

// ANCHOR: main
const ITEM_BYTES: usize = 1024;
const CAPACITY: usize = 16; // the budget: 16 items of 1 KiB
const ITEMS: usize = 64;

fn main() {
    let q = Arc::new(Queue::new(CAPACITY));
    let consumer_q = Arc::clone(&q);
    let consumer = thread::spawn(move || {
        let mut received = Vec::new();
        for _ in 0..ITEMS {
            let item: Vec<u8> = consumer_q.pop();
            thread::sleep(Duration::from_millis(1)); // slow work
            received.push(item[0]);
        }
        received
    });

    let mut most = 0;
    for i in 0..ITEMS {
        most = most.max(q.push(vec![i as u8; ITEM_BYTES]));
    }
    let received = consumer.join().unwrap();
    let kib = |items: usize| items * ITEM_BYTES / 1024;
    println!("capacity {CAPACITY} items of {ITEM_BYTES} bytes: {} KiB", kib(CAPACITY));
    println!("pushed {ITEMS}; the queue held at most {most} ({} KiB)", kib(most));
    let in_order = received.iter().enumerate().all(|(i, &x)| x == i as u8);
    println!("received {} items, in order: {in_order}", received.len());
}
// ANCHOR_END: main
