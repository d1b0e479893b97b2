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
        self.changed.notify_one(); // for a consumer; may wake a producer
    }

    pub fn pop(&self) -> T {
        let mut items = self.items.lock().unwrap();
        while items.is_empty() {
            items = self.changed.wait(items).unwrap();
        }
        let x = items.pop_front().unwrap();
        self.changed.notify_one(); // for a producer; may wake a consumer
        x
    }
}
// ANCHOR_END: queue

// ANCHOR: main
const ITEMS: usize = 100_000;

fn main() {
    let q = Arc::new(Queue {
        items: Mutex::new(VecDeque::new()),
        changed: Condvar::new(),
        capacity: 1,
    });
    // Counters the threads update around their calls: items
    // delivered, and threads now inside pop and inside push.
    let delivered = Arc::new(AtomicUsize::new(0));
    let in_pop = Arc::new(AtomicUsize::new(0));
    let in_push = Arc::new(AtomicUsize::new(0));
    for _ in 0..2 {
        let q = Arc::clone(&q);
        let delivered = Arc::clone(&delivered);
        let in_pop = Arc::clone(&in_pop);
        thread::spawn(move || loop {
            in_pop.fetch_add(1, Ordering::Relaxed);
            let _: usize = q.pop();
            in_pop.fetch_sub(1, Ordering::Relaxed);
            delivered.fetch_add(1, Ordering::Relaxed);
        });
    }
    let (q2, in_push2) = (Arc::clone(&q), Arc::clone(&in_push));
    thread::spawn(move || {
        for i in 0..ITEMS {
            in_push2.fetch_add(1, Ordering::Relaxed);
            q2.push(i);
            in_push2.fetch_sub(1, Ordering::Relaxed);
        }
    });

    println!("one Condvar, capacity 1, 1 producer, 2 consumers");
    // The watchdog: every 100 ms, was an item delivered?
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
            let pushing = in_push.load(Ordering::Relaxed);
            let popping = in_pop.load(Ordering::Relaxed);
            println!("stalled: no item delivered for 1 s");
            println!("items in the queue: {len} of 1: room for a push");
            println!("producers in push for 1 s: {pushing} of 1");
            println!("consumers in pop for 1 s: {popping} of 2");
            process::exit(0); // all three would wait forever
        }
    }
}
// ANCHOR_END: main
