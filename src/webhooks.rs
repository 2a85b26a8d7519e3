//! Dromo's webhooks, typed: parse a webhook body into a [`WebhookEvent`], then confirm it with
//! [`Client::confirm_webhook`] before acting on it.
//!
//! **Never trust a webhook.** Dromo documents no signature: anyone who learns the endpoint can
//! post a fake "completed". Nothing in a [`WebhookEvent`] may be used until
//! [`Client::confirm_webhook`] has re-fetched the import by id with the backend key; act on the
//! [`ConfirmedEvent`] it returns (the server's state), never on the payload.
//!
//! ```no_run
//! use dromo_client::webhooks::WebhookEvent;
//!
//! # async fn run(client: dromo_client::Client, content_type: Option<&str>, body: &[u8]) -> Result<(), dromo_client::Error> {
//! let event = WebhookEvent::parse(content_type, body)?; // a bad body is Error::WebhookInvalid
//! let confirmed = client.confirm_webhook(&event).await?; // a forged one is an error
//! println!("import {} is {}", confirmed.import_id(), confirmed.status());
//! # Ok(()) }
//! ```
//!
//! With the `webhooks` feature, `webhooks::receiver` is a ready-made axum route that does all of
//! this, and `webhooks::serve` serves it with a header read timeout.

use crate::error::Error;
use crate::ids::ImportId;
use crate::types::HeadlessImportFull;
use crate::{Client, ImportStatus};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

#[cfg(feature = "webhooks")]
mod body;
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
mod receiver;
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
mod serve;
#[cfg(feature = "webhooks")]
#[cfg_attr(docsrs, doc(cfg(feature = "webhooks")))]
mod stats;
#[cfg(feature = "webhooks")]
pub use receiver::{
    receiver, receiver_with, ReceiverOptions, DEFAULT_BODY_TIMEOUT,
    DEFAULT_CONFIRMATIONS_PER_MINUTE, DEFAULT_CONFIRMATION_BURST, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_CONFIRMING,
};
#[cfg(feature = "webhooks")]
pub use serve::{serve, ServeOptions, DEFAULT_HEADER_READ_TIMEOUT};
#[cfg(feature = "webhooks")]
pub use stats::{ReceiverCounts, ReceiverStats};

/// The `event` of an import that ended `SUCCESSFUL`.
pub const IMPORT_COMPLETED: &str = "import_completed";
/// The `event` of a headless import that needs a person to review it.
pub const HEADLESS_IMPORT_NEEDS_REVIEW: &str = "headless_import_needs_review";
/// The `event` of a headless import that failed.
pub const HEADLESS_IMPORT_FAILED: &str = "headless_import_failed";
/// The name [`WebhookEvent::name`] gives the legacy `webhookUrl` form (`uploadId=…`).
pub const LEGACY_UPLOAD: &str = "legacy_upload";

/// A webhook as Dromo posts it, **unconfirmed**: see the [module documentation](self).
///
/// ```
/// use dromo_client::webhooks::WebhookEvent;
///
/// let body = br#"{"event": "import_completed", "data": {"id": "66d6300d-1414-4655-83b4-8c80fc527315", "status": "SUCCESSFUL", "new_field": 1}}"#;
/// let event = WebhookEvent::from_json(body).unwrap();
/// assert_eq!(event.name(), "import_completed");
/// let legacy = WebhookEvent::from_form(b"uploadId=66d6300d-1414-4655-83b4-8c80fc527315").unwrap();
/// assert_eq!(legacy.import_id(), event.import_id());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WebhookEvent {
    /// `import_completed`: the import claims to be `SUCCESSFUL`.
    ImportCompleted(WebhookImport),
    /// `headless_import_needs_review`: the import claims to need a person's review.
    HeadlessImportNeedsReview(WebhookImport),
    /// `headless_import_failed`: the import claims to have failed.
    HeadlessImportFailed(WebhookImport),
    /// The legacy `webhookUrl` form, whose one key `uploadId` names a finished upload (the id
    /// of its headless import).
    LegacyUpload {
        /// The `uploadId`.
        upload_id: ImportId,
    },
    /// An event this version of the crate does not know; it cannot be confirmed.
    Unknown {
        /// The `event` value.
        event: String,
        /// The `data` object as sent.
        data: serde_json::Value,
    },
}

/// The `data` of a webhook: what the sender **claims** about an import. Extra fields are
/// ignored. Use it only to log; act on [`Client::confirm_webhook`]'s answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct WebhookImport {
    /// The import's id.
    pub id: ImportId,
    /// The file's name.
    #[serde(default)]
    pub filename: Option<String>,
    /// The user of `import_metadata.user`, with snake_case keys (`company_id`).
    #[serde(default)]
    pub user: Option<WebhookUser>,
    /// When the import was created, as sent.
    #[serde(default)]
    pub created_date: Option<String>,
    /// The kind of import, as sent.
    #[serde(default)]
    pub import_type: Option<String>,
    /// The status claimed.
    #[serde(default)]
    pub status: Option<ImportStatus>,
    /// How many data rows the import has.
    #[serde(default)]
    pub num_data_rows: Option<u64>,
    /// Whether the import was made in development mode.
    #[serde(default)]
    pub development_mode: Option<bool>,
    /// Whether the import has data.
    #[serde(default)]
    pub has_data: Option<bool>,
    /// The headless import, in the shape of a retrieve minus `review_url` and
    /// `original_file_download` (kept untyped: it is unconfirmed anyway).
    #[serde(default)]
    pub headless: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The user of a webhook (snake_case keys); every field optional, extra fields ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct WebhookUser {
    /// The user's id.
    #[serde(default)]
    pub id: Option<String>,
    /// The user's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The user's email.
    #[serde(default)]
    pub email: Option<String>,
    /// The user's company id.
    #[serde(default)]
    pub company_id: Option<String>,
    /// The user's company name.
    #[serde(default)]
    pub company_name: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    event: String,
    data: serde_json::Value,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::WebhookInvalid {
        reason: reason.into(),
    }
}

impl WebhookEvent {
    /// Parses a body by its `Content-Type`: `application/json` or
    /// `application/x-www-form-urlencoded` (parameters such as `charset` are ignored). Any other
    /// type, or none, is [`Error::WebhookInvalid`].
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Self, Error> {
        let media = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        match media.as_deref() {
            Some("application/json") => Self::from_json(body),
            Some("application/x-www-form-urlencoded") => Self::from_form(body),
            Some(other) => Err(invalid(format!("unexpected content type `{other}`"))),
            None => Err(invalid("no content type")),
        }
    }

    /// Parses a JSON body `{"event": …, "data": {…}}`.
    pub fn from_json(body: &[u8]) -> Result<Self, Error> {
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("the JSON body is unusable ({e})")))?;
        let import = |data: serde_json::Value| {
            serde_json::from_value::<WebhookImport>(data)
                .map_err(|e| invalid(format!("its `data` is unusable ({e})")))
        };
        Ok(match envelope.event.as_str() {
            IMPORT_COMPLETED => Self::ImportCompleted(import(envelope.data)?),
            HEADLESS_IMPORT_NEEDS_REVIEW => Self::HeadlessImportNeedsReview(import(envelope.data)?),
            HEADLESS_IMPORT_FAILED => Self::HeadlessImportFailed(import(envelope.data)?),
            _ => Self::Unknown {
                event: envelope.event,
                data: envelope.data,
            },
        })
    }

    /// Parses the legacy URL-encoded form, whose one key is `uploadId` (other keys are ignored).
    pub fn from_form(body: &[u8]) -> Result<Self, Error> {
        let upload_id = form_urlencoded::parse(body)
            .find(|(key, _)| key == "uploadId")
            .map(|(_, value)| value.into_owned())
            .ok_or_else(|| invalid("the form has no `uploadId`"))?;
        let upload_id = upload_id
            .parse()
            .map_err(|_| invalid("its `uploadId` is not a UUID"))?;
        Ok(Self::LegacyUpload { upload_id })
    }

    /// The event's name: `import_completed`, …, [`LEGACY_UPLOAD`] for the form, or the unknown
    /// event's own.
    pub fn name(&self) -> &str {
        match self {
            Self::ImportCompleted(_) => IMPORT_COMPLETED,
            Self::HeadlessImportNeedsReview(_) => HEADLESS_IMPORT_NEEDS_REVIEW,
            Self::HeadlessImportFailed(_) => HEADLESS_IMPORT_FAILED,
            Self::LegacyUpload { .. } => LEGACY_UPLOAD,
            Self::Unknown { event, .. } => event,
        }
    }

    /// The import the event names (unconfirmed); `None` for an unknown event.
    pub fn import_id(&self) -> Option<ImportId> {
        match self {
            Self::ImportCompleted(data)
            | Self::HeadlessImportNeedsReview(data)
            | Self::HeadlessImportFailed(data) => Some(data.id),
            Self::LegacyUpload { upload_id } => Some(*upload_id),
            Self::Unknown { .. } => None,
        }
    }

    /// The claimed data, for the three documented events.
    pub fn data(&self) -> Option<&WebhookImport> {
        match self {
            Self::ImportCompleted(data)
            | Self::HeadlessImportNeedsReview(data)
            | Self::HeadlessImportFailed(data) => Some(data),
            _ => None,
        }
    }

    /// The event with nothing but its name and import id: what a confirmation establishes.
    /// Every claimed field (such as a forged `status`) is gone, so that no claim decides
    /// whether the event is confirmed, nor makes one copy differ from another.
    #[cfg(feature = "webhooks")]
    pub(crate) fn without_claims(&self) -> Self {
        let bare = |data: &WebhookImport| WebhookImport {
            id: data.id,
            filename: None,
            user: None,
            created_date: None,
            import_type: None,
            status: None,
            num_data_rows: None,
            development_mode: None,
            has_data: None,
            headless: None,
        };
        match self {
            Self::ImportCompleted(data) => Self::ImportCompleted(bare(data)),
            Self::HeadlessImportNeedsReview(data) => Self::HeadlessImportNeedsReview(bare(data)),
            Self::HeadlessImportFailed(data) => Self::HeadlessImportFailed(bare(data)),
            other => other.clone(),
        }
    }

    /// Whether the server's `status` agrees with this event. `NEEDS_REVIEW` may have become
    /// `SUCCESSFUL` since (a person reviewed it); the legacy form only says the import ended.
    fn agrees_with(&self, status: &ImportStatus) -> bool {
        match self {
            Self::ImportCompleted(_) => *status == ImportStatus::Successful,
            Self::HeadlessImportNeedsReview(_) => {
                matches!(status, ImportStatus::NeedsReview | ImportStatus::Successful)
            }
            Self::HeadlessImportFailed(_) => *status == ImportStatus::Failed,
            Self::LegacyUpload { .. } => status.is_terminal(),
            Self::Unknown { .. } => false,
        }
    }
}

/// A webhook confirmed by Dromo: the event's name and the import **as the server answered it**.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmedEvent {
    event: String,
    import_id: ImportId,
    status: ImportStatus,
    import: Box<HeadlessImportFull>,
}

impl ConfirmedEvent {
    /// The event's name ([`WebhookEvent::name`]).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The import's id.
    pub fn import_id(&self) -> ImportId {
        self.import_id
    }

    /// The import's status on the server.
    pub fn status(&self) -> ImportStatus {
        self.status.clone()
    }

    /// The import as the server answered it.
    pub fn import(&self) -> &HeadlessImportFull {
        &self.import
    }

    /// The import as the server answered it, by value.
    pub fn into_import(self) -> Box<HeadlessImportFull> {
        self.import
    }
}

impl Client {
    /// Confirms a webhook: re-fetches the import it names (`GET /headless/imports/{id}/`, with
    /// the backend key) and returns the server's state. Nothing of the payload is kept but the
    /// event's name and the id.
    ///
    /// # Errors
    /// [`Error::WebhookUnknownImport`] when Dromo has no such import;
    /// [`Error::WebhookStatusMismatch`] when the server's status disagrees with the event (or
    /// with the payload's `status`); [`Error::WebhookInvalid`] for an unknown event; any error
    /// of [`Client::retrieve_import`].
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client, event: dromo_client::webhooks::WebhookEvent) -> Result<(), dromo_client::Error> {
    /// let confirmed = client.confirm_webhook(&event).await?;
    /// println!("{} {}", confirmed.import_id(), confirmed.status());
    /// # Ok(()) }
    /// ```
    pub async fn confirm_webhook(&self, event: &WebhookEvent) -> Result<ConfirmedEvent, Error> {
        let Some(import_id) = event.import_id() else {
            return Err(invalid(format!(
                "its event `{}` is unknown, so there is nothing to confirm",
                event.name()
            )));
        };
        let import = match self.retrieve_import(import_id).await {
            Ok(import) => import,
            Err(e) if matches!(e.kind(), Error::NotFound { .. }) => {
                return Err(Error::WebhookUnknownImport {
                    import_id: import_id.to_string(),
                })
            }
            Err(e) => return Err(e),
        };
        let actual = import
            .status
            .clone()
            .unwrap_or_else(|| ImportStatus::Unknown(String::new()));
        let mismatch = |claimed: String| Error::WebhookStatusMismatch {
            import_id: import_id.to_string(),
            claimed,
            actual: actual.to_string(),
        };
        if !event.agrees_with(&actual) {
            return Err(mismatch(event.name().to_owned()));
        }
        if let Some(claimed) = event.data().and_then(|data| data.status.as_ref()) {
            if !event.agrees_with(claimed) {
                return Err(mismatch(claimed.to_string()));
            }
        }
        Ok(ConfirmedEvent {
            event: event.name().to_owned(),
            import_id,
            status: actual,
            import: Box::new(import),
        })
    }
}

/// How confirmed webhooks wake [`Client::wait_for_import_or_webhook`]: share one between the
/// receiver (which calls [`Wakeups::deliver`]) and the waiters. Cloning shares it.
///
/// ```
/// let wakeups = dromo_client::webhooks::Wakeups::new();
/// let for_the_receiver = wakeups.clone();
/// # let _ = for_the_receiver;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Wakeups {
    slots: Arc<Mutex<HashMap<ImportId, Slot>>>,
}

/// Where a confirmed import is handed to its waiters.
type Slot = watch::Sender<Option<Arc<HeadlessImportFull>>>;

/// How many imports [`Wakeups`] remembers at most (deliveries for imports nobody waits for are
/// kept until a waiter takes them, or dropped past this).
const MAX_WAKEUP_SLOTS: usize = 10_000;

impl Wakeups {
    /// An empty set of wakeups.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ImportId, Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Hands a confirmed import to whoever waits for it (now or later).
    pub fn deliver(&self, confirmed: &ConfirmedEvent) {
        let mut slots = self.lock();
        if slots.len() >= MAX_WAKEUP_SLOTS && !slots.contains_key(&confirmed.import_id) {
            slots.retain(|_, sender| sender.receiver_count() > 0);
            if slots.len() >= MAX_WAKEUP_SLOTS {
                return;
            }
        }
        let import = Arc::new((*confirmed.import).clone());
        slots
            .entry(confirmed.import_id)
            .or_insert_with(|| watch::channel(None).0)
            .send_replace(Some(import));
    }

    /// A receiver of import `id`'s confirmed state.
    pub(crate) fn subscribe(
        &self,
        id: ImportId,
    ) -> watch::Receiver<Option<Arc<HeadlessImportFull>>> {
        self.lock()
            .entry(id)
            .or_insert_with(|| watch::channel(None).0)
            .subscribe()
    }

    /// Forgets import `id` (its wait ended).
    pub(crate) fn forget(&self, id: &ImportId) {
        self.lock().remove(id);
    }
}
