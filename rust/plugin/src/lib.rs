//! The Rust port (`bq-port`) as a plugin: `cargo build --release -p bq-port-plugin` gives
//! `libbq_port_plugin.so`, which `bqh validate --candidate` loads. It is also the template for
//! a port outside this project (README, "Validating a port"): a newtype around the queue, its
//! errors mapped onto `bq_export::Error`, and `export_bq!`. tests/fixtures/build.sh compiles this
//! same file against each mutated copy of the port.

use std::time::Duration;

use bq_export::{BoundedQueue, Error};

// ANCHOR: export
/// The port's queue of `u64` items (a newtype: the trait and the queue live in other crates).
pub struct Port(bq_port::Queue<u64>);

fn error(e: bq_port::Error) -> Error {
    match e {
        bq_port::Error::Closed => Error::Closed,
        bq_port::Error::Full => Error::Full,
        bq_port::Error::Empty => Error::Empty,
        bq_port::Error::Timeout => Error::Timeout,
    }
}

impl BoundedQueue for Port {
    fn new(capacity: usize) -> Option<Self> {
        bq_port::Queue::new(capacity).map(Port)
    }
    fn push(&self, item: u64) -> Result<(), Error> {
        self.0.push(item).map_err(error)
    }
    fn try_push(&self, item: u64) -> Result<(), Error> {
        self.0.try_push(item).map_err(error)
    }
    fn push_timeout(&self, item: u64, timeout: Duration) -> Result<(), Error> {
        self.0.push_timeout(item, timeout).map_err(error)
    }
    fn pop(&self) -> Result<u64, Error> {
        self.0.pop().map_err(error)
    }
    fn try_pop(&self) -> Result<u64, Error> {
        self.0.try_pop().map_err(error)
    }
    fn pop_timeout(&self, timeout: Duration) -> Result<u64, Error> {
        self.0.pop_timeout(timeout).map_err(error)
    }
    fn close(&self) {
        self.0.close()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

bq_export::export_bq!(Port);
// ANCHOR_END: export
