//! The one retry policy of every idempotent request: status polls, the result URL, the result
//! download, upload attempts, and the generated GET/DELETE operations this crate calls.
//!
//! A request is retried only when its error says sending it again may succeed
//! ([`Error::is_retryable`]); the delay is exponential backoff with jitter, or the server's
//! `Retry-After` when that is longer, measured from the moment the answer arrived; and no retry
//! is scheduled past the caller's deadline. All time arithmetic saturates: no server- or
//! caller-given duration can overflow it.

use crate::error::Error;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// How failed idempotent requests are retried: attempts, and the backoff between them.
///
/// The delay before retry `n` (1-based) is drawn at random between half and all of
/// `initial_delay · 2^(n-1)`, capped at `max_delay`; a `Retry-After` from the server that asks
/// for longer wins. Creates are never retried by this policy once their body may have reached
/// Dromo (see [`Error::CreateOutcomeUnknown`]).
///
/// ```
/// use dromo_client::RetryPolicy;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(6)
///     .with_initial_delay(Duration::from_millis(200))
///     .with_max_delay(Duration::from_secs(10));
/// assert_eq!(policy.max_attempts(), 6);
/// assert!(policy.backoff(3) <= Duration::from_millis(800));
/// assert_eq!(RetryPolicy::never().max_attempts(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    /// No delay is shorter (status polls: Dromo's 12-a-minute limit).
    floor: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 1 s backoff doubling up to 30 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            floor: Duration::ZERO,
        }
    }
}

impl RetryPolicy {
    /// A policy that sends each request once.
    pub fn never() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// How many times a request is sent at most (at least 1); default 4.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The delay before the first retry, doubled for each further one; default 1 s.
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self.max_delay = self.max_delay.max(delay);
        self
    }

    /// The longest delay between two attempts (at least `initial_delay`); default 30 s.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay.max(self.initial_delay);
        self
    }

    /// No delay shorter than `floor`, whatever the jitter draws.
    pub(crate) fn floor(mut self, floor: Duration) -> Self {
        self.floor = floor;
        self
    }

    /// How many times a request is sent at most.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delay before the first retry.
    pub fn initial_delay(&self) -> Duration {
        self.initial_delay
    }

    /// The longest delay between two attempts.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The jittered delay before retry `retry` (1-based), without `Retry-After`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_delay);
        let half = exp / 2;
        half.saturating_add(jitter(exp - half))
    }

    /// The delay before retry `retry` after `error`: the backoff, or the server's `Retry-After`
    /// when it asks for longer.
    pub(crate) fn delay_after(&self, retry: u32, error: &Error) -> Duration {
        self.backoff(retry)
            .max(self.floor)
            .max(error.retry_after().unwrap_or_default())
    }

    /// Runs `attempt` (given its 1-based number) until it succeeds, fails with an error that is
    /// not retryable, runs out of attempts, or the next attempt would start after `deadline`.
    /// `what` names the request in logs.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        what: &str,
        deadline: Option<Instant>,
        attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.run_if(what, deadline, Error::is_retryable, attempt)
            .await
    }

    /// [`run`](Self::run), retrying only the errors for which `retry_if` is true (and that
    /// are retryable): for requests that are not idempotent.
    pub(crate) async fn run_if<T, F, Fut>(
        &self,
        what: &str,
        deadline: Option<Instant>,
        retry_if: impl Fn(&Error) -> bool,
        attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.run_within(what, None, deadline, retry_if, attempt)
            .await
    }

    /// [`run_if`](Self::run_if) for an API call: the whole call, retries included, ends
    /// within `bound` (see [`ClientBuilder::call_timeout`](crate::ClientBuilder::call_timeout)).
    /// An attempt still running when the bound passes is dropped, and the call fails with
    /// [`Error::CallTimedOut`]; a retry that would start after it is not made.
    pub(crate) async fn run_bounded<T, F, Fut>(
        &self,
        what: &str,
        bound: Duration,
        deadline: Option<Instant>,
        retry_if: impl Fn(&Error) -> bool,
        attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        self.run_within(what, Some(bound), deadline, retry_if, attempt)
            .await
    }

    async fn run_within<T, F, Fut>(
        &self,
        what: &str,
        bound: Option<Duration>,
        deadline: Option<Instant>,
        retry_if: impl Fn(&Error) -> bool,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        // `None` when the bound is too far to count (`Duration::MAX`): no bound.
        let cut_at = bound.and_then(|b| Instant::now().checked_add(b));
        let deadline = match (deadline, cut_at) {
            (Some(d), Some(c)) => Some(d.min(c)),
            (d, c) => d.or(c),
        };
        let mut number = 1;
        let mut last: Option<Error> = None;
        loop {
            let outcome = match cut_at {
                Some(cut_at) => tokio::time::timeout_at(cut_at, attempt(number)).await.ok(),
                None => Some(attempt(number).await),
            };
            let error = match outcome {
                Some(Ok(value)) => return Ok(value),
                Some(Err(error)) => error,
                None => {
                    tracing::debug!(what, attempt = number, "call bound passed");
                    return Err(Error::CallTimedOut {
                        what: what.to_owned(),
                        bound: bound.unwrap_or_default(),
                        attempts: number,
                        source: last.map(Box::new),
                    });
                }
            };
            if !error.is_retryable() || !retry_if(&error) || number >= self.max_attempts {
                return Err(error);
            }
            // Measured from now, when the answer (or the failure) arrived.
            let delay = self.delay_after(number, &error);
            let Some(wake) = later(Instant::now(), delay, deadline) else {
                tracing::debug!(what, ?delay, error = %format_args!("{error:#}"), "not retrying: past the deadline");
                return Err(error);
            };
            tracing::warn!(what, attempt = number, ?delay, error = %format_args!("{error:#}"), "request failed; retrying");
            tokio::time::sleep_until(wake).await;
            last = Some(error);
            number += 1;
        }
    }
}

/// `now + delay`, unless that overflows or falls after `deadline`.
pub(crate) fn later(now: Instant, delay: Duration, deadline: Option<Instant>) -> Option<Instant> {
    let wake = now.checked_add(delay)?;
    match deadline {
        Some(deadline) if wake > deadline => None,
        _ => Some(wake),
    }
}

/// A random duration in `[0, span]`, from the standard library's per-process random hash keys.
pub(crate) fn jitter(span: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let nanos = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        return Duration::ZERO;
    }
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    Duration::from_nanos(hasher.finish() % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default();
        for retry in 1..40 {
            let d = policy.backoff(retry);
            let exp = Duration::from_secs(1)
                .saturating_mul(2u32.saturating_pow(retry - 1))
                .min(Duration::from_secs(30));
            assert!(d >= exp / 2 && d <= exp, "retry {retry}: {d:?}");
        }
        assert_eq!(
            RetryPolicy::default()
                .with_initial_delay(Duration::ZERO)
                .with_max_delay(Duration::ZERO)
                .backoff(3),
            Duration::ZERO
        );
    }

    #[test]
    fn extreme_durations_do_not_overflow() {
        let policy = RetryPolicy::default()
            .with_initial_delay(Duration::MAX)
            .with_max_delay(Duration::MAX);
        for retry in [1, 2, 64, u32::MAX] {
            let _ = policy.backoff(retry);
        }
        let now = Instant::now();
        assert_eq!(later(now, Duration::MAX, None), None);
        assert_eq!(later(now, Duration::from_secs(5), Some(now)), None);
        assert_eq!(
            later(now, Duration::from_secs(5), None),
            Some(now + Duration::from_secs(5))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn retries_only_retryable_errors_and_stops_at_the_deadline() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy::default().with_max_attempts(5);
        let busy = || Error::Connection {
            host: "h".into(),
            kind: crate::ConnectionFailure::Refused,
            source: "refused".into(),
        };
        let result: Result<(), Error> = policy
            .run("test", None, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(busy()) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 5);

        calls.store(0, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_millis(1);
        let result: Result<(), Error> = policy
            .run("test", Some(deadline), |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(busy()) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "no retry past the deadline"
        );

        calls.store(0, Ordering::SeqCst);
        let result: Result<(), Error> = policy
            .run("test", None, |_| {
                calls.fetch_add(1, Ordering::SeqCst);
                async { Err(Error::config("bad")) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1, "not retryable");
    }
}
