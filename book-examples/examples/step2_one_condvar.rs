//! Step 2, the tempting shortcut: one `Condvar` for both sides, each operation waking one
//! sleeper. One producer, two consumers, capacity 1; a watchdog reports a stall instead of
//! letting the program hang:
//!
//!     cargo run --example step2_one_condvar
use std::collections::VecDeque;
use std::process;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

// ANCHOR: queue
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    changed: Condvar, // producers AND consumers sleep here
    capacity: usize,
}

impl<T> Queue<T> {
    pub fn push(&self, x: T) {
        let mut items = self.items.lock().unwrap();
        while items.len() == self.capacity {
            items = self.changed.wait(items).unwrap();
        }
        items.push_back(x);
        self.changed.notify_one(); // meant for a consumer: may wake a producer
    }

    pub fn pop(&self) -> T {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            items = self.changed.wait(items).unwrap();
        }
        let x = items.pop_front().unwrap();
        self.changed.notify_one(); // meant for a producer: may wake a consumer
        x
    }
}
// ANCHOR_END: queue

// ANCHOR: main
const ITEMS: usize = 100_000;

fn main() {
    let q = Arc::new(Queue { items: Mutex::new(VecDeque::new()), changed: Condvar::new(), capacity: 1 });
    let delivered = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        let (q, delivered) = (Arc::clone(&q), Arc::clone(&delivered));
        thread::spawn(move || loop {
            let _: usize = q.pop();
            delivered.fetch_add(1, Ordering::Relaxed);
        });
    }
    let pushed = Arc::new(AtomicUsize::new(0));
    let producer_pushed = Arc::clone(&pushed);
    let producer_q = Arc::clone(&q);
    thread::spawn(move || {
        for i in 0..ITEMS {
            producer_q.push(i);
            producer_pushed.fetch_add(1, Ordering::Relaxed);
        }
    });

    println!("one Condvar, notify_one, capacity 1: 1 producer, 2 consumers, {ITEMS} items");
    // The watchdog: every 100 ms, has an item been delivered since the last look?
    let mut last = usize::MAX;
    let mut still = 0;
    loop {
        thread::sleep(Duration::from_millis(100));
        let now = delivered.load(Ordering::Relaxed);
        if now == ITEMS {
            println!("all {ITEMS} items delivered (this time)");
            return;
        }
        still = if now == last { still + 1 } else { 0 };
        last = now;
        if still == 10 {
            let len = q.items.lock().unwrap().len();
            let producer_done = pushed.load(Ordering::Relaxed) == ITEMS;
            println!("stalled: no item delivered for 1 s, before all {ITEMS} arrived");
            println!("the queue holds {len} of 1 items, so there is room for the producer");
            println!("the producer has not finished, so it sleeps in push: {}", !producer_done);
            println!("both consumers sleep in pop, since the queue is empty");
            process::exit(0); // the three threads would sleep forever
        }
    }
}
// ANCHOR_END: main
