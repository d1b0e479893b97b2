//! Runs work under a deadline, so that a hang or a panic becomes an error with a name
//! instead of a stuck process or an abort.

use std::any::Any;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WatchdogError {
    #[error("{what}: no answer after {limit:?} (hang or deadlock)")]
    Hung { what: String, limit: Duration },
    #[error("{what}: panicked: {message}")]
    Panicked { what: String, message: String },
}

/// The message of a panic payload (a Rust panic, or an OCaml exception surfaced as one).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Runs `f` on its own thread and waits at most `limit` for it. On a hang the thread is left
/// behind (it cannot be killed safely) and the caller gets `Hung`; on a panic, `Panicked`.
pub fn within<T: Send + 'static>(
    what: &str,
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WatchdogError> {
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name(format!("watchdog: {what}"))
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(r);
        })
        .expect("cannot spawn a thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(p)) => Err(WatchdogError::Panicked { what: what.to_string(), message: panic_message(&*p) }),
        Err(_) => Err(WatchdogError::Hung { what: what.to_string(), limit }),
    }
}

/// Joins every handle; the first panic becomes an error naming the thread.
pub fn join_all<T>(what: &str, handles: Vec<thread::JoinHandle<T>>) -> Result<Vec<T>, WatchdogError> {
    let mut out = Vec::with_capacity(handles.len());
    let mut first_err = None;
    for h in handles {
        let name = h.thread().name().unwrap_or("worker").to_string();
        match h.join() {
            Ok(v) => out.push(v),
            Err(p) => {
                first_err.get_or_insert(WatchdogError::Panicked {
                    what: format!("{what} ({name})"),
                    message: panic_message(&*p),
                });
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}
