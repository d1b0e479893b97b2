//! Step 1: an unbounded queue. A `Mutex` around a `VecDeque`, and one `Condvar` on which
//! consumers sleep while the queue is empty. Run it with a fast producer and a slow consumer:
//!
//!     cargo run --example step1_unbounded
// A teaching example: `Default` and `is_empty` would be noise beside what it shows.
#![allow(clippy::new_without_default, clippy::len_without_is_empty)]
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

// ANCHOR: queue
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    item_added: Condvar, // consumers sleep here while empty
}

impl<T> Queue<T> {
    pub fn new() -> Self {
        Queue {
            items: Mutex::new(VecDeque::new()),
            item_added: Condvar::new(),
        }
    }

    pub fn push(&self, x: T) {
        let mut items = self.items.lock().unwrap();
        items.push_back(x);
        self.item_added.notify_one(); // one item: wake one consumer
    }

    pub fn pop(&self) -> T {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            // Unlocks while asleep, locks again to return.
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
const STOP_AT: usize = 8 * REPORT_EVERY; // 64 MiB: stop

fn main() {
    let q = Arc::new(Queue::new());
    let slow = Arc::new(AtomicBool::new(true));
    let consumer = {
        let (q, slow) = (Arc::clone(&q), Arc::clone(&slow));
        thread::spawn(move || {
            let mut in_order = true;
            for i in 1..=STOP_AT {
                let item: Vec<u8> = q.pop();
                in_order &= item[..8] == i.to_le_bytes();
                if slow.load(Ordering::Relaxed) {
                    // slow work: 200 items a second
                    thread::sleep(Duration::from_millis(5));
                }
            }
            in_order
        })
    };

    for i in 1..=STOP_AT {
        // Fast work, as fast as memory allows: a 1 KiB item
        // that starts with its number.
        let mut item = vec![0u8; ITEM_BYTES];
        item[..8].copy_from_slice(&i.to_le_bytes());
        q.push(item);
        if i % REPORT_EVERY == 0 {
            let bytes = q.len() * ITEM_BYTES;
            let mib = (bytes + (1 << 19)) >> 20; // rounded
            println!("pushed {i:>5} items, {mib:>2} MiB in the queue");
        }
    }
    println!("stopped at {STOP_AT}: nothing in the queue stopped it");
    slow.store(false, Ordering::Relaxed); // no more sleeping
    let in_order = consumer.join().unwrap();
    println!("then the consumer took all {STOP_AT}, in order: {in_order}");
}
// ANCHOR_END: main
