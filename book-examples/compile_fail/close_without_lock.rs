// The step-3 queue with a close that forgets the lock. It does not compile: the flag lives
// inside the mutex, and the only way in is the guard that lock() returns.
// tests/outputs.rs compiles it, from the repository's root with the command that
// expected/close_without_lock.txt begins with, and compares the error with that file.
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

pub struct Queue<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
}

// ANCHOR: close
impl<T> Queue<T> {
    pub fn close(&self) {
        self.state.closed = true; // forgot self.state.lock()
        self.not_empty.notify_all();
        self.not_full.notify_all();
    }
}
// ANCHOR_END: close
