//! Step 1: an unbounded queue. A `Mutex` around a `VecDeque`, and one `Condvar` on which
//! consumers sleep while the queue is empty. Run it with a fast producer and a slow consumer:
//!
//!     cargo run --example step1_unbounded
// A teaching example: `Default` and `is_empty` would be noise beside what it shows.
#![allow(clippy::new_without_default, clippy::len_without_is_empty)]
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

// ANCHOR: queue
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    item_added: Condvar, // consumers sleep here while `items` is empty
}

impl<T> Queue<T> {
    pub fn new() -> Self {
        Queue { items: Mutex::new(VecDeque::new()), item_added: Condvar::new() }
    }

    pub fn push(&self, x: T) {
        let mut items = self.items.lock().unwrap();
        items.push_back(x);
        self.item_added.notify_one(); // one item: wake one consumer
    }

    pub fn pop(&self) -> T {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            // Releases the lock while asleep; holds it again on return.
            items = self.item_added.wait(items).unwrap();
        }
        items.pop_front().unwrap()
    }

    pub fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }
}
// ANCHOR_END: queue

// ANCHOR: main
const ITEM_BYTES: usize = 1024; // every item is a 1 KiB buffer
const REPORT_EVERY: usize = 8 * 1024; // 8 MiB of items
const STOP_AT: usize = 8 * REPORT_EVERY; // the demonstration stops at 64 MiB

fn main() {
    let q = Arc::new(Queue::new());
    let consumer_q = Arc::clone(&q);
    thread::spawn(move || loop {
        let item: Vec<u8> = consumer_q.pop();
        thread::sleep(Duration::from_millis(5)); // slow work: 200 items a second
        drop(item);
    });

    for i in 1..=STOP_AT {
        q.push(vec![i as u8; ITEM_BYTES]); // fast work: as fast as memory allows
        if i % REPORT_EVERY == 0 {
            let mib = (q.len() * ITEM_BYTES + (1 << 19)) >> 20; // rounded to a whole MiB
            println!("pushed {i:>5} items, about {mib:>2} MiB wait in the queue");
        }
    }
    println!("stopped at {STOP_AT} items; nothing in the queue itself would have stopped it");
}
// ANCHOR_END: main
