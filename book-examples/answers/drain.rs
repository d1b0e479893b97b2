// The answer to exercise 3 of the book's chapter 9 ("Port a small OCaml function"), and the
// test that checks a port of `drain`. Not compiled on its own: book-examples/tests/exercises.rs
// puts `drain` into the port's `impl<T> Queue<T>` (rust/src/lib.rs) and the test into its
// `mod tests`, in a copy of rust/src, and runs the test: it passes with this `drain`, and fails
// (within 5 s, without hanging) with `notify_one` in place of `notify_all`, the wrong answer the
// exercise asks about.

// ANCHOR: drain
    pub fn drain(&self) -> Vec<T> {
        let mut s = self.lock();
        let xs: Vec<T> = s.items.drain(..).collect();
        // Every freed slot may unblock a producer: wake them
        // all, as OCaml's broadcast does.
        self.not_full.notify_all();
        xs
    }
// ANCHOR_END: drain

// ANCHOR: test
    #[test]
    fn drain_wakes_every_parked_producer() {
        use std::sync::{mpsc, Arc};
        use std::thread;
        let q = Arc::new(Queue::new(3).unwrap());
        for i in 0..3 {
            q.push(i).unwrap();
        }
        // Three producers park on the full queue; each one
        // reports its push on a channel.
        let (tx, rx) = mpsc::channel();
        for i in 3..6 {
            let (q, tx) = (Arc::clone(&q), tx.clone());
            thread::spawn(move || tx.send(q.push(i)).unwrap());
        }
        thread::sleep(Duration::from_millis(200)); // to park
        assert_eq!(q.drain(), vec![0, 1, 2]);
        // Three free slots: every producer must get in. A
        // producer left asleep fails the test, not hangs it.
        for _ in 0..3 {
            let pushed = rx.recv_timeout(Duration::from_secs(5));
            assert_eq!(pushed, Ok(Ok(())), "a producer still sleeps");
        }
        assert_eq!(q.len(), 3);
    }
// ANCHOR_END: test
