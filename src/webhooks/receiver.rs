//! The webhook receiver (feature `webhooks`): an axum route that answers at once, confirms each
//! webhook with Dromo in the background and hands over only confirmed, first-seen events.
//!
//! What identifies a copy: the import and the event's name, nothing the sender claims. A copy is
//! dropped unasked only when it is a replay of a delivered event, or when a confirmation of the
//! same (import, event) will re-fetch the import after the copy arrived (it is queued, not yet
//! sent): that re-fetch decides for both. A copy arriving while a re-fetch is under way asks for
//! one more, should that one not confirm. So no forged copy, whatever it claims and whenever it
//! comes, can stand in for a genuine event.

use super::body::{self, Unread};
use super::stats::{Count, ReceiverStats};
use super::{ConfirmedEvent, Wakeups, WebhookEvent};
use crate::{Client, ImportId};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::collections::{HashMap, HashSet, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The largest webhook body the receiver reads by default (64 KiB); larger ones get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// How long a webhook's body may take to arrive by default (10 s); slower ones get 408.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many delivered events the receiver remembers to drop their replays.
const DEFAULT_REMEMBERED: usize = 10_000;

/// How many confirmations may run at once by default.
pub const DEFAULT_MAX_CONFIRMING: usize = 32;

/// How many confirmations (each one retrieve with the backend key) the receiver sends a minute
/// by default: 60, one a second. Genuine webhooks cannot come faster for long: Dromo allows 20
/// creates a minute, and an import ends with at most three webhooks (`needs_review`,
/// `import_completed` and the legacy form). Against that, an application waiting for its
/// imports polls each up to 12 times a minute (Dromo's limit per import), so a forger spending
/// this whole rate on unknown ids costs the account a small share of what the application
/// itself sends, and no import more than its [`confirm spacing`](ReceiverOptions::with_confirm_spacing).
pub const DEFAULT_CONFIRMATIONS_PER_MINUTE: u32 = 60;

/// How many confirmations may go at once after a quiet time by default (then the rate).
pub const DEFAULT_CONFIRMATION_BURST: u32 = 20;

/// The `Retry-After` of a 503 answered when every confirmation slot is taken or the rate is
/// spent: a sender that retries comes back after it.
const BUSY_RETRY_AFTER_SECS: u64 = 30;

/// Settings of [`receiver_with`].
///
/// ```
/// use dromo_client::webhooks::{ReceiverOptions, Wakeups};
///
/// let options = ReceiverOptions::default()
///     .with_max_body_bytes(16 * 1024)
///     .with_wakeups(Wakeups::new());
/// assert_eq!(options.max_body_bytes(), 16 * 1024);
/// ```
#[derive(Debug, Clone)]
pub struct ReceiverOptions {
    max_body_bytes: usize,
    body_timeout: Duration,
    remembered: usize,
    max_confirming: usize,
    per_minute: u32,
    burst: u32,
    spacing: Duration,
    wakeups: Option<Wakeups>,
    stats: Option<ReceiverStats>,
}

impl Default for ReceiverOptions {
    /// 64 KiB bodies read within 10 s, 10 000 events remembered, 32 confirmations at once, 60
    /// confirmations a minute (bursts of 20), each import asked about at most once per
    /// [`MIN_POLL_INTERVAL`](crate::MIN_POLL_INTERVAL), no wakeups, no stats handle.
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            remembered: DEFAULT_REMEMBERED,
            max_confirming: DEFAULT_MAX_CONFIRMING,
            per_minute: DEFAULT_CONFIRMATIONS_PER_MINUTE,
            burst: DEFAULT_CONFIRMATION_BURST,
            spacing: crate::MIN_POLL_INTERVAL,
            wakeups: None,
            stats: None,
        }
    }
}

impl ReceiverOptions {
    /// The largest body read; larger ones are answered 413 (with `Connection: close`; the
    /// rest of the body, up to 16 MiB, is read and discarded first so that the client reads the
    /// answer). Default 64 KiB.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// How long a body may take to arrive, from when the headers were read; a slower one is
    /// answered 408 and its connection closed. Default [`DEFAULT_BODY_TIMEOUT`]. (Slow headers
    /// are the server's to cut off: see [`serve`](super::serve).)
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// How many confirmations may be sent to Dromo a minute, and how many at once after a quiet
    /// time (both at least 1); default [`DEFAULT_CONFIRMATIONS_PER_MINUTE`] and
    /// [`DEFAULT_CONFIRMATION_BURST`]. A webhook that needs a confirmation when the rate is
    /// spent is answered 503 with `Retry-After`, so a flood of forged webhooks (random ids
    /// included) sends at most `burst` plus this many lookups a minute.
    pub fn with_confirmation_rate(mut self, per_minute: u32, burst: u32) -> Self {
        self.per_minute = per_minute.max(1);
        self.burst = burst.max(1);
        self
    }

    /// Count what the receiver does (lookups sent, events delivered, refusals by cause) in
    /// `stats`; read them with [`ReceiverStats::snapshot`].
    pub fn with_stats(mut self, stats: ReceiverStats) -> Self {
        self.stats = Some(stats);
        self
    }

    /// How many delivered events (import, event) are remembered to drop replays; default
    /// 10 000 (the oldest are forgotten first).
    pub fn with_remembered(mut self, events: usize) -> Self {
        self.remembered = events.max(1);
        self
    }

    /// How many confirmations may run at once (at least 1); default
    /// [`DEFAULT_MAX_CONFIRMING`]. A webhook that finds every slot taken is answered 503 with
    /// `Retry-After` (a refusal the sender sees, never a silent drop), so a flood of webhooks, forged or not,
    /// cannot pile up requests to Dromo.
    pub fn with_max_confirming(mut self, confirmations: usize) -> Self {
        self.max_confirming = confirmations.max(1);
        self
    }

    /// The shortest time between two confirmations of one import; default and minimum
    /// [`MIN_POLL_INTERVAL`](crate::MIN_POLL_INTERVAL). Each confirmation is a status poll, of
    /// which Dromo allows 12 a minute per import: a forger repeating events about a real import
    /// only delays the next confirmation, it cannot spend the import's budget. Tests against
    /// the stand-in may set it lower with [`ReceiverOptions::with_confirm_spacing_for_tests`].
    pub fn with_confirm_spacing(mut self, spacing: Duration) -> Self {
        self.spacing = spacing.max(crate::MIN_POLL_INTERVAL);
        self
    }

    /// Like [`ReceiverOptions::with_confirm_spacing`] without the floor: for tests against a
    /// server that has no poll limit (the stand-in's default).
    pub fn with_confirm_spacing_for_tests(mut self, spacing: Duration) -> Self {
        self.spacing = spacing;
        self
    }

    /// Also hand each confirmed import to `wakeups`, to wake
    /// [`Client::wait_for_import_or_webhook`].
    pub fn with_wakeups(mut self, wakeups: Wakeups) -> Self {
        self.wakeups = Some(wakeups);
        self
    }

    /// The largest body read.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// How long a body may take to arrive.
    pub fn body_timeout(&self) -> Duration {
        self.body_timeout
    }

    /// Confirmations a minute, and the burst.
    pub fn confirmation_rate(&self) -> (u32, u32) {
        (self.per_minute, self.burst)
    }

    /// How many delivered events are remembered.
    pub fn remembered(&self) -> usize {
        self.remembered
    }

    /// How many confirmations may run at once.
    pub fn max_confirming(&self) -> usize {
        self.max_confirming
    }

    /// The shortest time between two confirmations of one import.
    pub fn confirm_spacing(&self) -> Duration {
        self.spacing
    }
}

/// The receiver with the default [`ReceiverOptions`]: see [`receiver_with`].
///
/// ```no_run
/// # async fn run(client: dromo_client::Client) -> std::io::Result<()> {
/// use dromo_client::webhooks::{receiver, serve, ServeOptions};
///
/// let (sink, mut confirmed) = tokio::sync::mpsc::channel(100);
/// let app = axum::Router::new().nest_service("/dromo/webhook", receiver(client, sink));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// tokio::spawn(serve(listener, app, ServeOptions::default()));
/// while let Some(event) = confirmed.recv().await {
///     println!("import {} is {} (confirmed)", event.import_id(), event.status());
/// }
/// # Ok(()) }
/// ```
pub fn receiver(client: Client, sink: mpsc::Sender<ConfirmedEvent>) -> Router {
    receiver_with(client, sink, ReceiverOptions::default())
}

/// An axum [`Router`] that receives Dromo's webhooks at its root (`POST /`; nest it where your
/// endpoint is). Serve it with [`serve`](super::serve), which cuts off slow headers.
///
/// Each webhook is answered at once: 202 when it parsed (whatever its confirmation says, so
/// that a forger learns nothing), 400 when it is not a Dromo webhook, 408 when its body takes
/// longer than `body_timeout`, 413 when the body exceeds `max_body_bytes`, 415 when it is
/// neither JSON nor a URL-encoded form, 503 with `Retry-After` when the confirmation rate is
/// spent or `max_confirming` confirmations are already running. Parsed events are confirmed
/// with [`Client::confirm_webhook`] in the background, on the import's id and the event's name
/// only (nothing else the sender claims counts); only confirmed events reach `sink`, each
/// (import, event) once. Replays of delivered events, and copies that a confirmation not yet
/// sent will decide, are dropped without asking Dromo; a copy arriving while a confirmation is
/// under way gets one more after it, should that one fail. Each import is asked about at most
/// once per `confirm_spacing`, and all imports together at the confirmation rate, so forged
/// webhooks can neither spend the account's API budget nor hide a genuine event. Unknown events
/// and failed confirmations are logged (`tracing`), counted (`with_stats`) and dropped. When
/// `sink` is full, delivery waits for room.
pub fn receiver_with(
    client: Client,
    sink: mpsc::Sender<ConfirmedEvent>,
    options: ReceiverOptions,
) -> Router {
    let interval = Duration::from_secs(60) / options.per_minute.max(1);
    let quota = governor::Quota::with_period(interval)
        .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MAX))
        .allow_burst(NonZeroU32::new(options.burst).unwrap_or(NonZeroU32::MIN));
    let shared = Arc::new(Shared {
        client,
        sink,
        delivered: Mutex::new(Delivered::new(options.remembered)),
        confirming: Mutex::new(HashMap::new()),
        asked: Mutex::new(Asked::new(options.spacing, options.remembered)),
        slots: Arc::new(Semaphore::new(options.max_confirming)),
        rate: governor::RateLimiter::direct(quota),
        wakeups: options.wakeups,
        stats: options.stats.unwrap_or_default(),
        max_body_bytes: options.max_body_bytes,
        body_timeout: options.body_timeout,
    });
    Router::new().route("/", post(receive)).with_state(shared)
}

type EventKey = (ImportId, String);

struct Shared {
    client: Client,
    sink: mpsc::Sender<ConfirmedEvent>,
    delivered: Mutex<Delivered>,
    /// The events being confirmed now, and where their confirmation is.
    confirming: Mutex<HashMap<EventKey, Phase>>,
    /// When each import was (or will be) last asked about.
    asked: Mutex<Asked>,
    /// One permit per confirmation running.
    slots: Arc<Semaphore>,
    /// The confirmations a minute, across all imports.
    rate: governor::DefaultDirectRateLimiter,
    wakeups: Option<Wakeups>,
    stats: ReceiverStats,
    max_body_bytes: usize,
    body_timeout: Duration,
}

/// Where the confirmation of one (import, event) is.
enum Phase {
    /// Waiting for its turn: its re-fetch starts after every copy received so far, and decides
    /// for them all.
    Queued,
    /// Its re-fetch is under way. `again`: a copy arrived meanwhile, so a failure means one more
    /// re-fetch (the import may have ended since the one under way left).
    Fetching { again: bool },
}

/// Locks `mutex`, whose data stays consistent even if a holder panicked (each update is one
/// collection operation).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// When each import was (or is booked to be) asked about last, so that confirmations of one
/// import are `spacing` apart.
struct Asked {
    at: HashMap<ImportId, Instant>,
    spacing: Duration,
    capacity: usize,
}

impl Asked {
    fn new(spacing: Duration, capacity: usize) -> Self {
        Self {
            at: HashMap::new(),
            spacing,
            capacity,
        }
    }

    /// Books the next time `import` may be asked about (now, or `spacing` after the last).
    fn book(&mut self, import: ImportId, now: Instant) -> Instant {
        let turn = self
            .at
            .get(&import)
            .and_then(|last| last.checked_add(self.spacing))
            .filter(|turn| *turn > now)
            .unwrap_or(now);
        self.at.insert(import, turn);
        if self.at.len() > self.capacity {
            // Imports last asked about over `spacing` ago constrain nothing: forget them.
            let spacing = self.spacing;
            self.at
                .retain(|_, last| last.checked_add(spacing).is_some_and(|end| end > now));
        }
        turn
    }
}

/// Removes its key from the events being confirmed when the confirmation ends, however it ends.
struct Confirming {
    shared: Arc<Shared>,
    key: EventKey,
    _slot: OwnedSemaphorePermit,
}

impl Drop for Confirming {
    fn drop(&mut self) {
        lock(&self.shared.confirming).remove(&self.key);
    }
}

/// The (import, event) pairs already delivered, the oldest forgotten past `capacity`.
struct Delivered {
    seen: HashSet<EventKey>,
    order: VecDeque<EventKey>,
    capacity: usize,
}

impl Delivered {
    fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    fn contains(&self, key: &EventKey) -> bool {
        self.seen.contains(key)
    }

    /// Records `key`; false if it was there already.
    fn insert(&mut self, key: EventKey) -> bool {
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        true
    }
}

/// An answer: status, extra headers, a one-line body.
type Answer = (StatusCode, HeaderMap, &'static str);

fn plain(status: StatusCode, text: &'static str) -> Answer {
    (status, HeaderMap::new(), text)
}

/// An answer after which the connection is closed (its body was not read to the end).
fn closing(status: StatusCode, text: &'static str) -> Answer {
    let mut headers = HeaderMap::new();
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    (status, headers, text)
}

fn busy(text: &'static str) -> Answer {
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, BUSY_RETRY_AFTER_SECS.into());
    (StatusCode::SERVICE_UNAVAILABLE, headers, text)
}

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    shared.stats.add(Count::Received);
    let body = match body::read(&headers, body, shared.max_body_bytes, shared.body_timeout).await {
        Ok(body) => body,
        Err(Unread::TooLarge) => {
            shared.stats.add(Count::RefusedTooLarge);
            tracing::warn!("webhook refused: body over the limit");
            return closing(StatusCode::PAYLOAD_TOO_LARGE, "webhook body too large\n")
                .into_response();
        }
        Err(Unread::TimedOut) => {
            shared.stats.add(Count::RefusedSlow);
            tracing::warn!("webhook refused: body not received within the body timeout");
            return closing(StatusCode::REQUEST_TIMEOUT, "webhook body too slow\n").into_response();
        }
        Err(Unread::Broken) => {
            shared.stats.add(Count::RefusedInvalid);
            return closing(StatusCode::BAD_REQUEST, "webhook body broken off\n").into_response();
        }
    };
    answer(shared, &headers, &body).into_response()
}

fn answer(shared: Arc<Shared>, headers: &HeaderMap, body: &[u8]) -> Answer {
    let accepted = plain(StatusCode::ACCEPTED, "accepted\n");
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let event = match WebhookEvent::parse(content_type, body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(error = %format_args!("{error:#}"), "webhook refused");
            shared.stats.add(Count::RefusedInvalid);
            let media_ok = content_type.is_some_and(|ct| {
                let media = ct.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/json")
                    || media.eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
            return if media_ok {
                plain(StatusCode::BAD_REQUEST, "not a Dromo webhook\n")
            } else {
                plain(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "expected application/json or application/x-www-form-urlencoded\n",
                )
            };
        }
    };
    let Some(import_id) = event.import_id() else {
        tracing::info!(event = event.name(), "unknown webhook event ignored");
        shared.stats.add(Count::UnknownEvent);
        return accepted;
    };
    let key = (import_id, event.name().to_owned());
    if lock(&shared.delivered).contains(&key) {
        tracing::debug!(import = %import_id, event = event.name(), "webhook replay dropped");
        shared.stats.add(Count::Duplicate);
        return accepted;
    }
    let mut confirming = lock(&shared.confirming);
    match confirming.get_mut(&key) {
        Some(Phase::Queued) => {
            tracing::debug!(import = %import_id, event = event.name(), "a confirmation not yet sent will decide this copy");
            shared.stats.add(Count::Duplicate);
            return accepted;
        }
        Some(Phase::Fetching { again }) => {
            tracing::debug!(import = %import_id, event = event.name(), "copy arrived during a confirmation: one more if it fails");
            *again = true;
            shared.stats.add(Count::Duplicate);
            return accepted;
        }
        None => {}
    }
    let Ok(slot) = shared.slots.clone().try_acquire_owned() else {
        tracing::warn!(import = %import_id, event = event.name(), "every confirmation slot taken: webhook answered 503");
        shared.stats.add(Count::RefusedBusy);
        return busy("busy confirming other webhooks; retry later\n");
    };
    if shared.rate.check().is_err() {
        tracing::warn!(import = %import_id, event = event.name(), "confirmation rate spent: webhook answered 503");
        shared.stats.add(Count::RefusedRate);
        return busy("too many webhooks to confirm; retry later\n");
    }
    confirming.insert(key.clone(), Phase::Queued);
    drop(confirming);
    let confirming = Confirming {
        shared,
        key,
        _slot: slot,
    };
    tokio::spawn(confirm_and_deliver(confirming, event.without_claims()));
    accepted
}

/// Confirms `event` (claims already stripped) in its turn, again while copies arrived during a
/// failed attempt, and delivers it once confirmed. The first attempt's rate token was taken on
/// arrival; each further attempt waits for one.
async fn confirm_and_deliver(confirming: Confirming, event: WebhookEvent) {
    let shared = Arc::clone(&confirming.shared);
    let key = confirming.key.clone();
    let mut attempt = 0_u32;
    let confirmed = loop {
        let turn = lock(&shared.asked).book(key.0, Instant::now());
        tokio::time::sleep_until(turn).await;
        if attempt > 0 {
            shared.rate.until_ready().await;
        }
        attempt += 1;
        lock(&shared.confirming).insert(key.clone(), Phase::Fetching { again: false });
        shared.stats.add(Count::Lookup);
        match shared.client.confirm_webhook(&event).await {
            Ok(confirmed) => break confirmed,
            Err(error) => {
                shared.stats.add(Count::NotConfirmed);
                let again = {
                    let mut confirming = lock(&shared.confirming);
                    let again =
                        matches!(confirming.get(&key), Some(Phase::Fetching { again: true }));
                    if again {
                        confirming.insert(key.clone(), Phase::Queued);
                    }
                    again
                };
                if !again {
                    tracing::warn!(error = %format_args!("{error:#}"), "webhook not confirmed, dropped");
                    return;
                }
                tracing::debug!(error = %format_args!("{error:#}"), "webhook not confirmed; a copy came meanwhile: asking again in turn");
            }
        }
    };
    // Checked again: the same event may have been confirmed meanwhile by another request.
    let first = lock(&shared.delivered).insert(key);
    // Recorded as delivered first, then the slot is freed (before waiting for room in `sink`:
    // only calls to Dromo are bounded), so no copy arriving in between is confirmed again.
    drop(confirming);
    if !first {
        shared.stats.add(Count::Duplicate);
        return;
    }
    if let Some(wakeups) = &shared.wakeups {
        wakeups.deliver(&confirmed);
    }
    shared.stats.add(Count::Delivered);
    if shared.sink.send(confirmed).await.is_err() {
        tracing::debug!("webhook sink closed; confirmed event dropped");
    }
}
