//! Waiting for a headless import to finish: polite polling with backoff, jitter and a deadline.

use crate::error::Error;
use crate::ids::{import_id, ImportId};
use crate::retry::{jitter, later, RetryPolicy};
use crate::types::HeadlessImportFull;
use crate::{Client, ImportStatus};
use std::fmt;
use std::time::Duration;
use tokio::time::Instant;

/// The shortest delay between two polls of one import: 5.5 s. Dromo allows 12 status polls per
/// minute per import (one every 5 s); the extra 10 % (as for creates) keeps a 13th poll out of
/// any minute the server counts, even when network jitter brings two polls closer on arrival
/// than they were sent. [`WaitOptions`] never goes below it.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(5_500);

/// How [`Client::wait_for_import`] polls.
///
/// The first poll is immediate; then the delay starts at `min_delay` and doubles up to
/// `max_delay`, each delay drawn at random between half and all of that (never below
/// `min_delay`, never below [`MIN_POLL_INTERVAL`]). When the next poll would come too close to
/// `max_wait`, one last poll is made 2 s before it instead (if the rate limit allows one), and
/// the wait returns by `max_wait` whatever the network does.
///
/// ```
/// use dromo_client::WaitOptions;
/// use std::time::Duration;
///
/// let options = WaitOptions::default()
///     .with_max_wait(Duration::from_secs(600))
///     .with_min_delay(Duration::from_secs(1)) // raised to 5.5 s: Dromo's limit
///     .with_max_delay(Duration::from_secs(60));
/// assert_eq!(options.min_delay(), Duration::from_millis(5_500));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    max_wait: Duration,
    min_delay: Duration,
    max_delay: Duration,
    max_request_retries: u32,
}

impl Default for WaitOptions {
    /// Up to 15 minutes, polls 5.5 s to 30 s apart, 5 retries of a failed poll.
    fn default() -> Self {
        Self {
            max_wait: Duration::from_secs(15 * 60),
            min_delay: MIN_POLL_INTERVAL,
            max_delay: Duration::from_secs(30),
            max_request_retries: 5,
        }
    }
}

impl WaitOptions {
    /// How long to wait at most before giving up (with [`WaitOutcome::GaveUp`]); default 15 min.
    /// The wait returns by then: a poll under way at the deadline is abandoned. A duration too
    /// long to count (`Duration::MAX`) means no limit.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The first delay between polls; default and minimum 5.5 s ([`MIN_POLL_INTERVAL`]).
    pub fn with_min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay.max(MIN_POLL_INTERVAL);
        self.max_delay = self.max_delay.max(self.min_delay);
        self
    }

    /// The longest delay between polls; default 30 s (at least `min_delay`).
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay.max(self.min_delay);
        self
    }

    /// How many times in a row a poll that failed with a retryable error (429, 5xx, timeout,
    /// dropped connection) is retried before the error is returned; default 5.
    pub fn with_max_request_retries(mut self, retries: u32) -> Self {
        self.max_request_retries = retries;
        self
    }

    /// The maximum wait.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// The first delay between polls (at least [`MIN_POLL_INTERVAL`]).
    pub fn min_delay(&self) -> Duration {
        self.min_delay
    }

    /// The longest delay between polls.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// How many times in a row a failed poll is retried.
    pub fn max_request_retries(&self) -> u32 {
        self.max_request_retries
    }

    /// The delay after the `n`-th poll (1-based): `min_delay · 2^(n-1)` capped at `max_delay`,
    /// jittered between half and all of it, and never below `min_delay`.
    fn delay_after(&self, n: u32) -> Duration {
        let exp = self
            .min_delay
            .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
            .min(self.max_delay);
        let half = exp / 2;
        half.saturating_add(jitter(exp - half)).max(self.min_delay)
    }

    /// How a failed poll is retried: no sooner than `min_delay`, backing off to `max_delay`.
    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy::default()
            .with_max_attempts(self.max_request_retries.saturating_add(1))
            .with_initial_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .floor(self.min_delay)
    }
}

/// How waiting for an import ended (request failures are the `Err` of
/// [`Client::wait_for_import`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WaitOutcome {
    /// `SUCCESSFUL`: the rows can be fetched ([`Client::fetch_results`]).
    Succeeded {
        /// The import as last retrieved.
        import: Box<HeadlessImportFull>,
    },
    /// `NEEDS_REVIEW`: a person must fix the data at `review_url` in a browser; the import
    /// becomes `SUCCESSFUL` afterwards.
    NeedsReview {
        /// Where the data can be reviewed (`None` if Dromo did not send one).
        review_url: Option<String>,
        /// The import as last retrieved.
        import: Box<HeadlessImportFull>,
    },
    /// `FAILED`: Dromo could not process the import; it has no results.
    Failed {
        /// Dromo's `import_errors` (their shape is not documented).
        import_errors: Vec<serde_json::Map<String, serde_json::Value>>,
        /// The import as last retrieved.
        import: Box<HeadlessImportFull>,
    },
    /// The maximum wait passed while the import was still being processed.
    GaveUp {
        /// The status of the last successful poll (`PENDING`, `RUNNING`, or a new one).
        last_status: ImportStatus,
        /// How long it waited.
        waited: Duration,
        /// The import as last retrieved, if a poll succeeded.
        import: Option<Box<HeadlessImportFull>>,
    },
}

/// Dromo's `import_errors` as readable lines: each entry's `message` (or `detail`, `error`,
/// `reason`), else the entry as JSON; scrubbed and bounded like any server text.
pub(crate) fn reasons_of(
    import_errors: &[serde_json::Map<String, serde_json::Value>],
) -> Vec<String> {
    use crate::scrub::{scrub, MAX_MESSAGE_CHARS};
    import_errors
        .iter()
        .map(|entry| {
            let text = ["message", "detail", "error", "reason"]
                .iter()
                .find_map(|key| entry.get(*key).and_then(|v| v.as_str()))
                .map(str::to_owned)
                .unwrap_or_else(|| serde_json::Value::Object(entry.clone()).to_string());
            scrub(&text, MAX_MESSAGE_CHARS)
        })
        .collect()
}

impl WaitOutcome {
    /// Every reason Dromo gave for a `NEEDS_REVIEW` or `FAILED` import (its `import_errors`,
    /// as readable lines); empty for the other outcomes, or when Dromo gave none.
    ///
    /// ```
    /// # fn f(outcome: dromo_client::WaitOutcome) {
    /// for reason in outcome.reasons() {
    ///     eprintln!("  {reason}");
    /// }
    /// # }
    /// ```
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Self::NeedsReview { import, .. } | Self::Failed { import, .. } => {
                reasons_of(import.import_errors.as_deref().unwrap_or_default())
            }
            _ => Vec::new(),
        }
    }

    /// The status the wait ended with.
    ///
    /// ```
    /// use dromo_client::{ImportStatus, WaitOutcome};
    /// # fn f(outcome: WaitOutcome) {
    /// if outcome.status() == ImportStatus::Successful { /* fetch the rows */ }
    /// # }
    /// ```
    pub fn status(&self) -> ImportStatus {
        match self {
            Self::Succeeded { .. } => ImportStatus::Successful,
            Self::NeedsReview { .. } => ImportStatus::NeedsReview,
            Self::Failed { .. } => ImportStatus::Failed,
            Self::GaveUp { last_status, .. } => last_status.clone(),
        }
    }
}

impl fmt::Display for WaitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Succeeded { .. } => f.write_str("the import succeeded"),
            Self::NeedsReview {
                review_url: Some(url),
                ..
            } => write!(f, "the import needs a person to review it at {url}"),
            Self::NeedsReview {
                review_url: None, ..
            } => f.write_str("the import needs a person to review it in the Dromo dashboard"),
            Self::Failed { import_errors, .. } => {
                write!(f, "the import failed with {} error(s)", import_errors.len())
            }
            Self::GaveUp {
                last_status,
                waited,
                ..
            } => {
                write!(
                    f,
                    "gave up waiting after {} s; the import is still {last_status}",
                    waited.as_secs()
                )
            }
        }?;
        let reasons = self.reasons();
        if !reasons.is_empty() {
            write!(f, ": {}", reasons.join("; "))?;
        }
        Ok(())
    }
}

impl Client {
    /// Retrieves a headless import once (`GET /headless/imports/{id}/`). Its `upload` URL, if
    /// any, is redacted (the upload is done by then; the signature must not reach logs).
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let import = client.retrieve_import("94187d21-9820-420f-b08c-a80cbbf52604").await?;
    /// println!("{:?}", import.status);
    /// # Ok(()) }
    /// ```
    pub async fn retrieve_import(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
    ) -> Result<HeadlessImportFull, Error> {
        let id = import_id(id)?;
        self.retry_policy()
            .run_bounded(
                "retrieve import",
                self.call_timeout(),
                None,
                Error::is_retryable,
                |_| self.retrieve_once(&id),
            )
            .await
    }

    /// One `GET /headless/imports/{id}/`, not retried.
    async fn retrieve_once(&self, id: &ImportId) -> Result<HeadlessImportFull, Error> {
        let response = self.api().retrieve_headless_import().id(id).send().await?;
        let mut import = response.into_inner();
        redact_upload_url(&mut import);
        Ok(import)
    }

    /// Polls import `id` until it is `SUCCESSFUL`, `NEEDS_REVIEW` or `FAILED`, or until
    /// `options`' maximum wait has passed, never more often than Dromo allows (12 polls a minute
    /// per import): see [`WaitOptions`].
    ///
    /// `PENDING`, `RUNNING`, `AWAITING_UPLOAD` and statuses this crate does not know count as
    /// "still working". A poll that fails with a retryable error (429, 5xx, timeout, dropped
    /// connection) is retried after the backoff delay or the server's `Retry-After`, whichever is
    /// longer, up to `max_request_retries` times in a row; any other failure is returned at once.
    ///
    /// ```no_run
    /// use dromo_client::{WaitOptions, WaitOutcome};
    /// use std::time::Duration;
    ///
    /// # async fn run(client: dromo_client::Client, id: String) -> Result<(), dromo_client::Error> {
    /// let options = WaitOptions::default().with_max_wait(Duration::from_secs(300));
    /// match client.wait_for_import(&id, &options).await? {
    ///     WaitOutcome::Succeeded { .. } => println!("done"),
    ///     WaitOutcome::NeedsReview { review_url, .. } => println!("review at {review_url:?}"),
    ///     WaitOutcome::Failed { import_errors, .. } => println!("failed: {import_errors:?}"),
    ///     other => println!("{other}"),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_import(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
        options: &WaitOptions,
    ) -> Result<WaitOutcome, Error> {
        self.wait(import_id(id)?, options, None, &mut |_| {}).await
    }

    /// [`Client::wait_for_import`], calling `on_status` with the status each poll saw (before
    /// the next delay), for a progress display or a log line.
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client, id: String) -> Result<(), dromo_client::Error> {
    /// let options = dromo_client::WaitOptions::default();
    /// let outcome = client
    ///     .wait_for_import_with_status(&id, &options, |status| eprintln!("import is {status}"))
    ///     .await?;
    /// # let _ = outcome; Ok(()) }
    /// ```
    pub async fn wait_for_import_with_status(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
        options: &WaitOptions,
        mut on_status: impl FnMut(&ImportStatus) + Send,
    ) -> Result<WaitOutcome, Error> {
        self.wait(import_id(id)?, options, None, &mut on_status)
            .await
    }

    /// [`Client::wait_for_import`], woken by a confirmed webhook: when the webhook receiver
    /// delivers import `id`'s confirmed state to `wakeups` (see
    /// [`webhooks::Wakeups`](crate::webhooks::Wakeups)), the wait ends at once with that state,
    /// without another poll. Polling goes on as usual meanwhile, so a lost webhook only costs
    /// time; with webhooks working, an import that takes minutes is polled a few times instead
    /// of dozens (give `options` a long `max_delay` to poll less still).
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client, id: String) -> Result<(), dromo_client::Error> {
    /// let wakeups = dromo_client::webhooks::Wakeups::new(); // shared with the receiver
    /// let options = dromo_client::WaitOptions::default();
    /// let outcome = client.wait_for_import_or_webhook(&id, &options, &wakeups).await?;
    /// # let _ = outcome; Ok(()) }
    /// ```
    pub async fn wait_for_import_or_webhook(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
        options: &WaitOptions,
        wakeups: &crate::webhooks::Wakeups,
    ) -> Result<WaitOutcome, Error> {
        let id = import_id(id)?;
        let woken = wakeups.subscribe(id);
        let outcome = self.wait(id, options, Some(woken), &mut |_| {}).await;
        wakeups.forget(&id);
        outcome
    }

    /// The wait itself; `woken` ends it early with a confirmed webhook's import; `on_status`
    /// hears each poll's status.
    async fn wait(
        &self,
        id: ImportId,
        options: &WaitOptions,
        mut woken: Option<Woken>,
        on_status: &mut (dyn FnMut(&ImportStatus) + Send),
    ) -> Result<WaitOutcome, Error> {
        let start = Instant::now();
        // `None`: a maximum wait too long to count, so no deadline.
        let deadline = start.checked_add(options.max_wait);
        let policy = options.retry_policy();
        let mut polls = 0u32;
        let mut last: Option<Box<HeadlessImportFull>> = None;
        loop {
            let poll_start = Instant::now();
            // Each request ends at the deadline at the latest. The deadline is armed only when
            // a request could outlast it (it is nearer than the request timeout): a timer
            // pending during every request would fire early on tokio's paused clock, where
            // time jumps to the next timer whenever the runtime waits on I/O.
            let horizon = self.request_timeout_or_default();
            let polled = policy
                .run_bounded(
                    "status poll",
                    self.call_timeout(),
                    deadline,
                    Error::is_retryable,
                    |_| async {
                        let request = self.retrieve_once(&id);
                        match deadline {
                            Some(deadline)
                                if deadline.saturating_duration_since(Instant::now())
                                    <= horizon =>
                            {
                                tokio::time::timeout_at(deadline, request)
                                    .await
                                    .unwrap_or_else(|_| Err(self.deadline_passed()))
                            }
                            _ => request.await,
                        }
                    },
                )
                .await;
            let import = match polled {
                Ok(import) => Box::new(import),
                Err(error) => {
                    // The deadline passed during a request, or a retryable failure's retry
                    // would fall after it (a long `Retry-After`, say): the deadline's doing, so
                    // give up with what we know.
                    let now = Instant::now();
                    if deadline.is_some_and(|deadline| now >= deadline) {
                        return Ok(gave_up(last, start));
                    }
                    let past_deadline = error.is_retryable()
                        && later(now, policy.delay_after(1, &error), deadline).is_none();
                    return match last {
                        Some(import) if past_deadline => Ok(gave_up(Some(import), start)),
                        _ => Err(error),
                    };
                }
            };
            polls += 1;
            let status = import
                .status
                .clone()
                .unwrap_or_else(|| ImportStatus::Unknown(String::new()));
            tracing::debug!(import = %id, %status, polls, "polled import");
            on_status(&status);
            match finished(import) {
                Ok(outcome) => return Ok(outcome),
                Err(import) => last = Some(import),
            }
            let Some(next) = next_poll(
                poll_start,
                options.delay_after(polls),
                options.min_delay,
                deadline,
            ) else {
                return Ok(gave_up(last, start));
            };
            let Some(receiver) = woken.as_mut() else {
                tokio::time::sleep_until(next).await;
                continue;
            };
            // A confirmed import delivered before this wait began, or while it sleeps.
            let mut delivered = receiver.borrow_and_update().clone();
            let mut closed = false;
            if delivered.is_none() {
                tokio::select! {
                    () = tokio::time::sleep_until(next) => {}
                    changed = receiver.changed() => match changed {
                        Ok(()) => delivered = receiver.borrow_and_update().clone(),
                        Err(_) => closed = true,
                    },
                }
            }
            if closed {
                // The wakeups were dropped: poll on.
                woken = None;
            }
            match delivered {
                Some(import) => {
                    tracing::debug!(import = %id, polls, "woken by a webhook");
                    match finished(Box::new((*import).clone())) {
                        Ok(outcome) => return Ok(outcome),
                        Err(_) => tokio::time::sleep_until(next).await,
                    }
                }
                None if closed => tokio::time::sleep_until(next).await,
                None => {}
            }
        }
    }
}

impl Client {
    /// The error of a poll cut short by the wait's deadline (turned into
    /// [`WaitOutcome::GaveUp`] by the waiter).
    fn deadline_passed(&self) -> Error {
        Error::Connection {
            host: self.context(String::new()).host,
            kind: crate::ConnectionFailure::Timeout,
            source: "the wait's maximum time passed while a status poll was under way".into(),
        }
    }
}

/// How long before the deadline the last poll is made, so that it can finish in time.
const LAST_POLL_BUDGET: Duration = Duration::from_secs(2);

/// When to poll next, after a poll that started at `poll_start`: `delay` later if that is
/// comfortably before the deadline; else one last poll just before the deadline (but never
/// sooner than `min_delay` after this one); `None` when no poll fits before the deadline.
fn next_poll(
    poll_start: Instant,
    delay: Duration,
    min_delay: Duration,
    deadline: Option<Instant>,
) -> Option<Instant> {
    let Some(deadline) = deadline else {
        // No deadline: the delay is at most `max_delay`, which a clock can always count.
        return poll_start.checked_add(delay);
    };
    let last_call = deadline
        .checked_sub(LAST_POLL_BUDGET)
        .unwrap_or(deadline)
        .max(poll_start);
    match poll_start.checked_add(delay) {
        Some(next) if next <= last_call => Some(next),
        _ => {
            let earliest = poll_start.checked_add(min_delay)?;
            let last = last_call.max(earliest);
            (last < deadline && last > poll_start).then_some(last)
        }
    }
}

/// Replaces the import's `upload` URL (a bearer credential) by its redacted form, so that no
/// `Debug` of an outcome shows a signature.
pub(crate) fn redact_upload_url(import: &mut HeadlessImportFull) {
    if let Some(url) = import.upload.take() {
        import.upload = Some(match crate::PresignedUrl::parse(&url) {
            Ok(parsed) => parsed.redacted(),
            Err(_) => "<redacted>".to_owned(),
        });
    }
}

/// A confirmed webhook's import, as [`crate::webhooks::Wakeups`] hands it over.
type Woken = tokio::sync::watch::Receiver<Option<std::sync::Arc<HeadlessImportFull>>>;

/// The outcome of an import in a final status; the import back while it is still working.
fn finished(import: Box<HeadlessImportFull>) -> Result<WaitOutcome, Box<HeadlessImportFull>> {
    match import.status {
        Some(ImportStatus::Successful) => Ok(WaitOutcome::Succeeded { import }),
        Some(ImportStatus::NeedsReview) => Ok(WaitOutcome::NeedsReview {
            review_url: import.review_url.clone(),
            import,
        }),
        Some(ImportStatus::Failed) => Ok(WaitOutcome::Failed {
            import_errors: import.import_errors.clone().unwrap_or_default(),
            import,
        }),
        _ => Err(import),
    }
}

fn gave_up(import: Option<Box<HeadlessImportFull>>, start: Instant) -> WaitOutcome {
    WaitOutcome::GaveUp {
        last_status: import
            .as_ref()
            .and_then(|import| import.status.clone())
            .unwrap_or_else(|| ImportStatus::Unknown(String::new())),
        waited: start.elapsed(),
        import,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_respect_the_floor_and_the_cap() {
        let options = WaitOptions::default();
        for n in 1..20 {
            let d = options.delay_after(n);
            assert!(
                d >= MIN_POLL_INTERVAL && d <= Duration::from_secs(30),
                "poll {n}: {d:?}"
            );
        }
        assert_eq!(options.delay_after(1), MIN_POLL_INTERVAL);
        let slow = WaitOptions::default()
            .with_min_delay(Duration::from_secs(10))
            .with_max_delay(Duration::from_secs(40));
        assert!((1..20)
            .map(|n| slow.delay_after(n))
            .all(|d| d >= Duration::from_secs(10) && d <= Duration::from_secs(40)));
    }

    #[test]
    fn the_floor_cannot_be_lowered() {
        let options = WaitOptions::default()
            .with_min_delay(Duration::ZERO)
            .with_max_delay(Duration::ZERO);
        assert_eq!(options.min_delay(), MIN_POLL_INTERVAL);
        assert_eq!(options.max_delay(), MIN_POLL_INTERVAL);
        assert!((1..10).all(|n| options.delay_after(n) == MIN_POLL_INTERVAL));
    }
}
