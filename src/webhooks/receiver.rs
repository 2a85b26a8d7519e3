//! The webhook receiver (feature `webhooks`): an axum route that answers at once, confirms each
//! webhook with Dromo in the background and hands over only confirmed, first-seen events.

use super::{ConfirmedEvent, Wakeups, WebhookEvent};
use crate::{Client, ImportId};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// The largest webhook body the receiver reads by default (64 KiB); larger ones get 413.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// How many delivered events the receiver remembers to drop their replays.
const DEFAULT_REMEMBERED: usize = 10_000;

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
    wakeups: Option<Wakeups>,
}

impl Default for ReceiverOptions {
    /// 64 KiB bodies, 10 000 events remembered, no wakeups.
    fn default() -> Self {
        Self {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            remembered: DEFAULT_REMEMBERED,
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
/// `max_body_bytes`, 415 when it is neither JSON nor a URL-encoded form. Parsed events are
/// confirmed with [`Client::confirm_webhook`] in the background; only confirmed events reach
/// `sink`, each (import, event) once. Unknown events and failed confirmations are logged
/// (`tracing`) and dropped. When `sink` is full, delivery waits for room.
pub fn receiver_with(
    client: Client,
    sink: mpsc::Sender<ConfirmedEvent>,
    options: ReceiverOptions,
) -> Router {
    let shared = Arc::new(Shared {
        client,
        sink,
        delivered: Mutex::new(Delivered::new(options.remembered)),
        wakeups: options.wakeups,
    });
    Router::new()
        .route("/", post(receive))
        .layer(DefaultBodyLimit::max(options.max_body_bytes))
        .with_state(shared)
}

struct Shared {
    client: Client,
    sink: mpsc::Sender<ConfirmedEvent>,
    delivered: Mutex<Delivered>,
    wakeups: Option<Wakeups>,
}

impl Shared {
    fn delivered(&self) -> std::sync::MutexGuard<'_, Delivered> {
        self.delivered
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let event = match WebhookEvent::parse(content_type, &body) {
        Ok(event) => event,
        Err(error) => {
            tracing::warn!(%error, "webhook refused");
            let media_ok = content_type.is_some_and(|ct| {
                let media = ct.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/json")
                    || media.eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
            return if media_ok {
                (StatusCode::BAD_REQUEST, "not a Dromo webhook\n")
            } else {
                (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "expected application/json or application/x-www-form-urlencoded\n",
                )
            };
        }
    };
    let Some(import_id) = event.import_id() else {
        tracing::info!(event = event.name(), "unknown webhook event ignored");
        return (StatusCode::ACCEPTED, "accepted\n");
    };
    let key = (import_id, event.name().to_owned());
    if shared.delivered().contains(&key) {
        tracing::debug!(import = %import_id, event = event.name(), "webhook replay dropped");
        return (StatusCode::ACCEPTED, "accepted\n");
    }
    tokio::spawn(confirm_and_deliver(shared, event, key));
    (StatusCode::ACCEPTED, "accepted\n")
}

async fn confirm_and_deliver(shared: Arc<Shared>, event: WebhookEvent, key: (ImportId, String)) {
    let confirmed = match shared.client.confirm_webhook(&event).await {
        Ok(confirmed) => confirmed,
        Err(error) => {
            tracing::warn!(%error, "webhook not confirmed, dropped");
            return;
        }
    };
    // Checked again: the same event may have been confirmed meanwhile by another request.
    if !shared.delivered().insert(key) {
        return;
    }
    if let Some(wakeups) = &shared.wakeups {
        wakeups.deliver(&confirmed);
    }
    if shared.sink.send(confirmed).await.is_err() {
        tracing::debug!("webhook sink closed; confirmed event dropped");
    }
}
