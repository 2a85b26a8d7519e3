//! The webhook receiver (feature `webhooks`): an axum route that answers at once, confirms each
//! webhook with Dromo in the background and hands over only confirmed, first-seen events.

use super::{ConfirmedEvent, Wakeups, WebhookEvent};
use crate::{Client, ImportId};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The largest webhook body the receiver reads by default (64 KiB); larger ones get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// How many delivered events the receiver remembers to drop their replays.
const DEFAULT_REMEMBERED: usize = 10_000;

/// How many confirmations may run at once by default.
pub const DEFAULT_MAX_CONFIRMING: usize = 32;

/// The `Retry-After` of a 503 answered when every confirmation slot is taken (Dromo retries
/// failed deliveries).
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
    remembered: usize,
    max_confirming: usize,
    spacing: Duration,
    wakeups: Option<Wakeups>,
}

impl Default for ReceiverOptions {
    /// 64 KiB bodies, 10 000 events remembered, 32 confirmations at once, each import asked
    /// about at most once per [`MIN_POLL_INTERVAL`](crate::MIN_POLL_INTERVAL), no wakeups.
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            remembered: DEFAULT_REMEMBERED,
            max_confirming: DEFAULT_MAX_CONFIRMING,
            spacing: crate::MIN_POLL_INTERVAL,
            wakeups: None,
        }
    }
}

impl ReceiverOptions {
    /// The largest body read; larger ones are answered 413 unread. Default 64 KiB.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
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
    /// `Retry-After` (Dromo retries failed deliveries), so a flood of webhooks, forged or not,
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
/// let (sink, mut confirmed) = tokio::sync::mpsc::channel(100);
/// let app = axum::Router::new().nest_service("/dromo/webhook", dromo_client::webhooks::receiver(client, sink));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// tokio::spawn(async move { axum::serve(listener, app).await });
/// while let Some(event) = confirmed.recv().await {
///     println!("import {} is {} (confirmed)", event.import_id(), event.status());
/// }
/// # Ok(()) }
/// ```
pub fn receiver(client: Client, sink: mpsc::Sender<ConfirmedEvent>) -> Router {
    receiver_with(client, sink, ReceiverOptions::default())
}

/// An axum [`Router`] that receives Dromo's webhooks at its root (`POST /`; nest it where your
/// endpoint is).
///
/// Each webhook is answered at once: 202 when it parsed (whatever its confirmation says, so
/// that a forger learns nothing), 400 when it is not a Dromo webhook, 413 when the body exceeds
/// `max_body_bytes`, 415 when it is neither JSON nor a URL-encoded form, 503 with `Retry-After`
/// when `max_confirming` confirmations are already running. Parsed events are confirmed with
/// [`Client::confirm_webhook`] in the background; only confirmed events reach `sink`, each
/// (import, event) once. Replays of delivered events and copies of an event being confirmed are
/// dropped without asking Dromo, and each import is asked about at most once per
/// `confirm_spacing` (later confirmations wait their turn), so forged webhooks cannot spend an
/// import's poll budget nor hide the real event. Unknown events and failed confirmations are logged (`tracing`)
/// and dropped. When `sink` is full, delivery waits for room.
pub fn receiver_with(
    client: Client,
    sink: mpsc::Sender<ConfirmedEvent>,
    options: ReceiverOptions,
) -> Router {
    let shared = Arc::new(Shared {
        client,
        sink,
        delivered: Mutex::new(Delivered::new(options.remembered)),
        confirming: Mutex::new(HashSet::new()),
        asked: Mutex::new(Asked::new(options.spacing, options.remembered)),
        slots: Arc::new(Semaphore::new(options.max_confirming)),
        wakeups: options.wakeups,
    });
    Router::new()
        .route("/", post(receive))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .with_state(shared)
}

type EventKey = (ImportId, String);

struct Shared {
    client: Client,
    sink: mpsc::Sender<ConfirmedEvent>,
    delivered: Mutex<Delivered>,
    /// The events being confirmed now.
    confirming: Mutex<HashSet<EventKey>>,
    /// When each import was (or will be) last asked about.
    asked: Mutex<Asked>,
    /// One permit per confirmation running.
    slots: Arc<Semaphore>,
    wakeups: Option<Wakeups>,
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
    at: std::collections::HashMap<ImportId, Instant>,
    spacing: Duration,
    capacity: usize,
}

impl Asked {
    fn new(spacing: Duration, capacity: usize) -> Self {
        Self {
            at: std::collections::HashMap::new(),
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

/// Removes its key from the set of events being confirmed when the confirmation ends, however
/// it ends.
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
    seen: HashSet<(ImportId, String)>,
    order: VecDeque<(ImportId, String)>,
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

    fn contains(&self, key: &(ImportId, String)) -> bool {
        self.seen.contains(key)
    }

    /// Records `key`; false if it was there already.
    fn insert(&mut self, key: (ImportId, String)) -> bool {
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

async fn receive(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    answer(shared, headers, body).into_response()
}

fn answer(
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, &'static str) {
    let accepted = (StatusCode::ACCEPTED, HeaderMap::new(), "accepted\n");
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let event = match WebhookEvent::parse(content_type, &body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(error = %format_args!("{error:#}"), "webhook refused");
            let media_ok = content_type.is_some_and(|ct| {
                let media = ct.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/json")
                    || media.eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
            return if media_ok {
                (
                    StatusCode::BAD_REQUEST,
                    HeaderMap::new(),
                    "not a Dromo webhook\n",
                )
            } else {
                (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    HeaderMap::new(),
                    "expected application/json or application/x-www-form-urlencoded\n",
                )
            };
        }
    };
    let Some(import_id) = event.import_id() else {
        tracing::info!(event = event.name(), "unknown webhook event ignored");
        return accepted;
    };
    let key = (import_id, event.name().to_owned());
    if lock(&shared.delivered).contains(&key) {
        tracing::debug!(import = %import_id, event = event.name(), "webhook replay dropped");
        return accepted;
    }
    let Ok(slot) = shared.slots.clone().try_acquire_owned() else {
        tracing::warn!(import = %import_id, event = event.name(), "every confirmation slot taken: webhook answered 503");
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, BUSY_RETRY_AFTER_SECS.into());
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            headers,
            "busy confirming other webhooks; retry later\n",
        );
    };
    if !lock(&shared.confirming).insert(key.clone()) {
        tracing::debug!(import = %import_id, event = event.name(), "webhook already being confirmed, copy dropped");
        return accepted;
    }
    let confirming = Confirming {
        shared,
        key,
        _slot: slot,
    };
    tokio::spawn(confirm_and_deliver(confirming, event));
    accepted
}

async fn confirm_and_deliver(confirming: Confirming, event: WebhookEvent) {
    let shared = Arc::clone(&confirming.shared);
    let key = confirming.key.clone();
    let turn = lock(&shared.asked).book(key.0, Instant::now());
    tokio::time::sleep_until(turn).await;
    let confirmed = match shared.client.confirm_webhook(&event).await {
        Ok(confirmed) => confirmed,
        Err(error) => {
            tracing::warn!(error = %format_args!("{error:#}"), "webhook not confirmed, dropped");
            return;
        }
    };
    // Checked again: the same event may have been confirmed meanwhile by another request.
    let first = lock(&shared.delivered).insert(key);
    // Recorded as delivered first, then the slot is freed (before waiting for room in `sink`:
    // only calls to Dromo are bounded), so no copy arriving in between is confirmed again.
    drop(confirming);
    if !first {
        return;
    }
    if let Some(wakeups) = &shared.wakeups {
        wakeups.deliver(&confirmed);
    }
    if shared.sink.send(confirmed).await.is_err() {
        tracing::debug!("webhook sink closed; confirmed event dropped");
    }
}
