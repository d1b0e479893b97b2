// The answers the check is tested on: the wrong answers a learner is likely to write, each of
// which it must reject, and right answers that differ from the book's, which it must accept.
// Each is the book's queue (book-examples/examples/step5_queue.rs) with some text replaced:
// every occurrence of `from` becomes `to` (the build script fails when `from` is missing, so an
// answer cannot silently become the solution). build.rs compiles every answer into the test
// tests/answers.rs, which runs the check on each; `caught_by` names the checks that must fail
// (stage/check), every time: the tests that name them are deterministic for that mistake.
// Included by build.rs and by the test, so it uses nothing but core types.

pub struct Answer {
    pub name: &'static str,
    /// The mistake, as the book's answer lists it.
    pub mistake: &'static str,
    pub edits: &'static [(&'static str, &'static str)],
    /// The checks that must reject it; empty for a right answer.
    pub caught_by: &'static [&'static str],
}

// ANCHOR: wrong
pub const WRONG: &[Answer] = &[
    Answer {
        name: "if_not_while_in_pop",
        mistake: "pop waits in an `if`, not a `while`",
        edits: &[(
            "        let mut s = self.not_empty.wait_while(s, empty).unwrap();\n",
            "        let mut s = s;
        if empty(&mut s) {
            s = self.not_empty.wait(s).unwrap();
        }\n",
        )],
        caught_by: &["spurious/empty_queue", "shuttle/stolen_wakeup"],
    },
    Answer {
        name: "if_not_while_in_push",
        mistake: "push waits in an `if`, not a `while`",
        edits: &[(
            "        let mut s = self.not_full.wait_while(s, full).unwrap();\n",
            "        let mut s = s;
        if full(&mut s) {
            s = self.not_full.wait(s).unwrap();
        }\n",
        )],
        caught_by: &["spurious/full_queue"],
    },
    Answer {
        name: "one_condition_variable",
        mistake: "one condition variable for both sides, notify_one",
        edits: &[("self.not_full", "self.not_empty")],
        caught_by: &["shuttle/mixed_sleepers"],
    },
    Answer {
        name: "notify_one_on_close",
        mistake: "close wakes one sleeper per side (notify_one)",
        edits: &[(
            "        self.not_empty.notify_all();
        self.not_full.notify_all();",
            "        self.not_empty.notify_one();
        self.not_full.notify_one();",
        )],
        caught_by: &["std/close_wakes_consumers", "std/close_wakes_producers", "shuttle/close_wakes_consumers"],
    },
    Answer {
        name: "notify_one_twice_on_close",
        mistake: "close calls notify_one twice on each side",
        edits: &[(
            "        self.not_empty.notify_all();
        self.not_full.notify_all();",
            "        self.not_empty.notify_one();
        self.not_empty.notify_one();
        self.not_full.notify_one();
        self.not_full.notify_one();",
        )],
        caught_by: &["std/close_wakes_consumers", "std/close_wakes_producers"],
    },
    Answer {
        name: "close_forgets_producers",
        mistake: "close wakes the consumers only",
        edits: &[("        self.not_full.notify_all();\n", "")],
        caught_by: &["std/close_wakes_producers", "shuttle/close_wakes_producers"],
    },
    Answer {
        name: "push_ignores_close",
        mistake: "push does not look at the flag after its wait",
        edits: &[("        if s.closed {\n            return Err(x);\n        }\n", "")],
        caught_by: &["std/close_drains_in_order"],
    },
    Answer {
        name: "push_sleeps_through_close",
        mistake: "push waits while full, closed or not",
        edits: &[("s.items.len() == self.capacity && !s.closed", "s.items.len() == self.capacity")],
        caught_by: &["std/close_wakes_producers", "shuttle/close_wakes_producers"],
    },
    Answer {
        name: "pop_sleeps_through_close",
        mistake: "pop waits while empty, closed or not",
        edits: &[("s.items.is_empty() && !s.closed", "s.items.is_empty()")],
        caught_by: &["std/close_wakes_consumers", "shuttle/close_wakes_consumers"],
    },
    Answer {
        name: "close_drops_items",
        mistake: "pop says closed while items are still buffered",
        edits: &[(
            "        let x = s.items.pop_front()?; // closed and drained\n",
            "        if s.closed {
            return None;
        }
        let x = s.items.pop_front()?;\n",
        )],
        caught_by: &["std/close_drains_in_order"],
    },
    Answer {
        name: "push_wakes_nobody",
        mistake: "push forgets to wake a consumer",
        edits: &[
            ("        self.not_empty.notify_one();\n        Ok(())", "        Ok(())"),
            ("            self.not_empty.notify_one();\n", ""),
        ],
        caught_by: &["std/empty_queue", "std/sleeping_consumers"],
    },
    Answer {
        name: "push_wakes_producers",
        mistake: "push wakes the wrong side (not_full)",
        edits: &[(
            "        s.items.push_back(x);\n        self.not_empty.notify_one();",
            "        s.items.push_back(x);\n        self.not_full.notify_one();",
        )],
        caught_by: &["std/empty_queue", "std/sleeping_consumers"],
    },
    Answer {
        name: "pop_wakes_nobody",
        mistake: "pop forgets to wake a producer",
        edits: &[
            ("        self.not_full.notify_one();\n        Some(x)", "        Some(x)"),
            ("                self.not_full.notify_one();\n", ""),
        ],
        caught_by: &["std/full_queue", "std/sleeping_producers"],
    },
    Answer {
        name: "capacity_off_by_one",
        mistake: "full is `len > capacity`",
        edits: &[("s.items.len() == self.capacity", "s.items.len() > self.capacity")],
        caught_by: &["std/full_queue"],
    },
    Answer {
        name: "timeout_restarts",
        mistake: "pop_timeout waits the full timeout again after every wake-up",
        edits: &[(
            "        let mut s = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let cv = &self.not_empty;
                cv.wait_timeout_while(s, left, empty).unwrap().0
            }
            None => self.not_empty.wait_while(s, empty).unwrap(),
        };",
            "        let mut s = s;
        while empty(&mut s) {
            let cv = &self.not_empty;
            let (g, r) = cv.wait_timeout(s, timeout).unwrap();
            s = g;
            if r.timed_out() {
                break;
            }
        }",
        )],
        caught_by: &["spurious/timeouts"],
    },
    Answer {
        name: "push_timeout_restarts",
        mistake: "push_timeout waits the full timeout again after every wake-up",
        edits: &[(
            "        let mut s = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let cv = &self.not_full;
                cv.wait_timeout_while(s, left, full).unwrap().0
            }
            None => self.not_full.wait_while(s, full).unwrap(),
        };",
            "        let mut s = s;
        while full(&mut s) {
            let cv = &self.not_full;
            let (g, r) = cv.wait_timeout(s, timeout).unwrap();
            s = g;
            if r.timed_out() {
                break;
            }
        }",
        )],
        caught_by: &["spurious/timeouts"],
    },
    Answer {
        name: "timeout_gives_up_at_first_wakeup",
        mistake: "pop_timeout waits once, in an `if`",
        edits: &[(
            "        let mut s = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                let cv = &self.not_empty;
                cv.wait_timeout_while(s, left, empty).unwrap().0
            }
            None => self.not_empty.wait_while(s, empty).unwrap(),
        };",
            "        let mut s = s;
        if empty(&mut s) {
            let cv = &self.not_empty;
            s = cv.wait_timeout(s, timeout).unwrap().0;
        }",
        )],
        caught_by: &["spurious/timeouts"],
    },
    Answer {
        name: "deadline_overflows",
        mistake: "the deadline is `Instant::now() + timeout`",
        edits: &[("Instant::now().checked_add(timeout)", "Some(Instant::now() + timeout)")],
        caught_by: &["std/extreme_timeouts"],
    },
];
// ANCHOR_END: wrong

// ANCHOR: right
pub const RIGHT: &[Answer] = &[
    Answer {
        name: "notify_after_unlock",
        mistake: "push, pop and close unlock first, then notify",
        edits: &[
            (
                "        s.items.push_back(x);\n        self.not_empty.notify_one();\n        Ok(())",
                "        s.items.push_back(x);\n        drop(s);\n        self.not_empty.notify_one();\n        Ok(())",
            ),
            (
                "        let x = s.items.pop_front()?; // closed and drained\n",
                "        let x = s.items.pop_front()?;\n        drop(s);\n",
            ),
            ("        s.closed = true;\n", "        s.closed = true;\n        drop(s);\n"),
        ],
        caught_by: &[],
    },
    Answer {
        name: "notify_all_everywhere",
        mistake: "every notify is notify_all",
        edits: &[("notify_one()", "notify_all()")],
        caught_by: &[],
    },
    Answer {
        name: "while_loops_by_hand",
        mistake: "push and pop write the while loop out",
        edits: &[
            (
                "        let mut s = self.not_full.wait_while(s, full).unwrap();\n",
                "        let mut s = s;
        while full(&mut s) {
            s = self.not_full.wait(s).unwrap();
        }\n",
            ),
            (
                "        let mut s = self.not_empty.wait_while(s, empty).unwrap();\n",
                "        let mut s = s;
        while empty(&mut s) {
            s = self.not_empty.wait(s).unwrap();
        }\n",
            ),
        ],
        caught_by: &[],
    },
];
// ANCHOR_END: right
