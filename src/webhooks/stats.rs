//! What the webhook receiver did, counted where the application can see it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A handle on the receiver's counters: hand a clone to
/// [`ReceiverOptions::with_stats`](super::ReceiverOptions::with_stats) and read them with
/// [`ReceiverStats::snapshot`] (for metrics, logs, alerts on a flood). Cloning shares them.
///
/// ```
/// use dromo_client::webhooks::{ReceiverOptions, ReceiverStats};
///
/// let stats = ReceiverStats::new();
/// let options = ReceiverOptions::default().with_stats(stats.clone());
/// # let _ = options;
/// let counts = stats.snapshot();
/// assert_eq!(counts.lookups, 0);
/// println!("{counts:?}");
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReceiverStats {
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    lookups: AtomicU64,
    delivered: AtomicU64,
    not_confirmed: AtomicU64,
    duplicates: AtomicU64,
    unknown_events: AtomicU64,
    refused_rate: AtomicU64,
    refused_busy: AtomicU64,
    refused_invalid: AtomicU64,
    refused_too_large: AtomicU64,
    refused_slow: AtomicU64,
}

/// The receiver's counters at one moment ([`ReceiverStats::snapshot`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReceiverCounts {
    /// Requests received (every answer below counts once here).
    pub received: u64,
    /// Confirmations sent to Dromo (each one `GET` of an import with the backend key).
    pub lookups: u64,
    /// Confirmed events handed to the sink.
    pub delivered: u64,
    /// Confirmations that did not confirm: an unknown import, a status that disagrees (a
    /// forged or stale webhook), or an error asking Dromo.
    pub not_confirmed: u64,
    /// Copies dropped without asking Dromo: replays of a delivered event, and copies that a
    /// confirmation not yet sent will decide.
    pub duplicates: u64,
    /// Events of a kind this crate does not know, ignored (answered 202).
    pub unknown_events: u64,
    /// Answered 503: the confirmation rate was spent.
    pub refused_rate: u64,
    /// Answered 503: every confirmation slot was taken.
    pub refused_busy: u64,
    /// Answered 400 or 415: not a Dromo webhook.
    pub refused_invalid: u64,
    /// Answered 413: the body was over the limit.
    pub refused_too_large: u64,
    /// Answered 408: the body did not arrive within the body timeout.
    pub refused_slow: u64,
}

/// One counter of [`ReceiverStats`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Count {
    Received,
    Lookup,
    Delivered,
    NotConfirmed,
    Duplicate,
    UnknownEvent,
    RefusedRate,
    RefusedBusy,
    RefusedInvalid,
    RefusedTooLarge,
    RefusedSlow,
}

impl ReceiverStats {
    /// New counters, all zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// The counters now.
    pub fn snapshot(&self) -> ReceiverCounts {
        let c = &self.counters;
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ReceiverCounts {
            received: get(&c.received),
            lookups: get(&c.lookups),
            delivered: get(&c.delivered),
            not_confirmed: get(&c.not_confirmed),
            duplicates: get(&c.duplicates),
            unknown_events: get(&c.unknown_events),
            refused_rate: get(&c.refused_rate),
            refused_busy: get(&c.refused_busy),
            refused_invalid: get(&c.refused_invalid),
            refused_too_large: get(&c.refused_too_large),
            refused_slow: get(&c.refused_slow),
        }
    }

    /// Adds one to `count`.
    pub(super) fn add(&self, count: Count) {
        let c = &self.counters;
        let counter = match count {
            Count::Received => &c.received,
            Count::Lookup => &c.lookups,
            Count::Delivered => &c.delivered,
            Count::NotConfirmed => &c.not_confirmed,
            Count::Duplicate => &c.duplicates,
            Count::UnknownEvent => &c.unknown_events,
            Count::RefusedRate => &c.refused_rate,
            Count::RefusedBusy => &c.refused_busy,
            Count::RefusedInvalid => &c.refused_invalid,
            Count::RefusedTooLarge => &c.refused_too_large,
            Count::RefusedSlow => &c.refused_slow,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
