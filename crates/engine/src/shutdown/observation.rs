//! What the shutdown probes answer: the rows of `shutdown.csv` and `shutdown-native.csv`.

use serde::{Deserialize, Serialize};

/// The questions of the shutdown matrix, in the order the matrix lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Question {
    /// After the last producer handle drops, consumers get what is buffered, in order.
    DrainAfterClose,
    /// A push after the explicit close fails and enqueues nothing.
    PushAfterClose,
    /// Producers blocked on a full queue wake (with an error) when every consumer goes away.
    ProducersWokenWhenConsumersLeave,
    /// Consumers blocked on an empty queue wake when the last producer handle drops.
    ConsumersWokenOnLastProducerDrop,
    /// Consumers blocked on an empty queue wake on the explicit close.
    ConsumersWokenOnExplicitClose,
    /// Producers blocked on a full queue wake on the explicit close.
    ProducersWokenOnExplicitClose,
    /// Under a concurrent close, every accepted push is delivered.
    NothingLost,
}

impl Question {
    pub const ALL: [Question; 7] = [
        Question::DrainAfterClose,
        Question::PushAfterClose,
        Question::ProducersWokenWhenConsumersLeave,
        Question::ConsumersWokenOnLastProducerDrop,
        Question::ConsumersWokenOnExplicitClose,
        Question::ProducersWokenOnExplicitClose,
        Question::NothingLost,
    ];

    pub fn text(self) -> &'static str {
        match self {
            Question::DrainAfterClose => "consumers drain what is buffered after the last producer handle drops",
            Question::PushAfterClose => "a push after the explicit close fails and enqueues nothing",
            Question::ProducersWokenWhenConsumersLeave => "blocked producers are woken when the consumers go away",
            Question::ConsumersWokenOnLastProducerDrop => {
                "blocked consumers are woken when the last producer handle drops"
            }
            Question::ConsumersWokenOnExplicitClose => "blocked consumers are woken by the explicit close",
            Question::ProducersWokenOnExplicitClose => "blocked producers are woken by the explicit close",
            Question::NothingLost => "nothing accepted is lost when the producers close mid-stream",
        }
    }
}

/// What a probe saw. `Yes`/`No` answer the question; the rest say why there is no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Yes,
    No,
    /// The implementation's native API has no such operation.
    NotApplicable,
    /// The probe hung or panicked: a finding in itself.
    Failed,
}

/// One shutdown probe's result, as a row of `shutdown.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub implementation: String,
    pub question: Question,
    pub verdict: Verdict,
    /// What was seen, in words ("3 of 3 woken", "no explicit close").
    pub detail: String,
    /// For wake-up probes: the median over the probe's repetitions of the time from the
    /// closing action until the slowest waiter returned, in microseconds.
    pub wake_us: Option<f64>,
    /// True when the behaviour comes from the harness adapter (`impls::closing`) rather than
    /// the implementation's own API.
    pub via_adapter: bool,
}

/// The questions of the native shutdown probes (`own_api.rs`): each implementation's
/// own API, without the harness adapter, where the languages really differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NativeQuestion {
    /// Producers blocked on a full queue are released when the consumer panics (raises).
    ProducersReleasedWhenConsumerDies,
    /// A consumer blocked on an empty queue is released when the producer panics (raises).
    ConsumerReleasedWhenProducerDies,
    /// A push refused (closed, or full for the non-blocking push) hands the item back.
    RefusedPushReturnsItem,
    /// Items still buffered are dropped when the last consumer leaves.
    BufferDroppedWhenConsumersLeave,
    /// One holder can close the queue for every holder, apart from dropping its handle.
    OneHolderClosesForAll,
}

impl NativeQuestion {
    pub const ALL: [NativeQuestion; 5] = [
        NativeQuestion::ProducersReleasedWhenConsumerDies,
        NativeQuestion::ConsumerReleasedWhenProducerDies,
        NativeQuestion::RefusedPushReturnsItem,
        NativeQuestion::BufferDroppedWhenConsumersLeave,
        NativeQuestion::OneHolderClosesForAll,
    ];

    pub fn text(self) -> &'static str {
        match self {
            NativeQuestion::ProducersReleasedWhenConsumerDies => {
                "blocked producers are released when the consumer panics (raises)"
            }
            NativeQuestion::ConsumerReleasedWhenProducerDies => {
                "a blocked consumer is released when the producer panics (raises)"
            }
            NativeQuestion::RefusedPushReturnsItem => "a refused push hands the item back to the caller",
            NativeQuestion::BufferDroppedWhenConsumersLeave => {
                "items still buffered are dropped when the last consumer leaves"
            }
            NativeQuestion::OneHolderClosesForAll => {
                "one holder can close the queue for all, apart from dropping its handle"
            }
        }
    }
}

/// One native shutdown probe's result, as a row of `shutdown-native.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NativeObservation {
    pub implementation: String,
    /// The API probed, as its language names it ("std::sync::mpsc::sync_channel", "c/bq.h").
    pub api: String,
    pub question: NativeQuestion,
    pub verdict: Verdict,
    /// What was seen, in words.
    pub detail: String,
}
