//! A local stand-in of Dromo's backend API, for tests and offline development.
//!
//! [`StandIn`] runs an HTTP server on `127.0.0.1` (a free port) that answers every operation of
//! Dromo's spec (`openapi.json`, 25 operations under `/api/v1`) the way Dromo documents them,
//! including the presigned S3 URLs for the upload and for the results, which it serves itself.
//! Every API request needs the key first: without it, or with a wrong one, the answer is 401
//! whatever the path.
//!
//! | Request | Answer |
//! | --- | --- |
//! | `POST /headless/imports/` | 201, `AWAITING_UPLOAD` (file) or `PENDING` (`initial_data`); 404 for an unknown `schema_id` |
//! | `PUT` the `upload` URL | 200 with an `ETag`; the import becomes `PENDING` |
//! | `GET /headless/imports/{id}/` | the import; the first poll processes it and answers the outcome (or, with [`StandInBuilder::polls_per_step`], each poll moves it `PENDING → RUNNING → outcome`) |
//! | `GET /headless/imports/{id}/url/` | `{"presigned_url": ...}` once `SUCCESSFUL` (400 before) |
//! | `GET` the `presigned_url` | the cleaned rows: a JSON array of objects keyed by field key |
//! | `DELETE /headless/imports/{id}/` | 204 |
//! | `GET /headless/imports/?offset&limit` | a DRF page `{count, next, previous, results}`, links on the host the client used |
//! | `GET` the `review_url` | a placeholder page; [`StandIn::complete_review`] plays the person |
//! | `GET`, `POST /schemas/`; `GET`, `PUT`, `DELETE /schemas/{id}/` | saved schemas (a bare array for the list); names unique (400) |
//! | `GET /uploads/?start&end` | completed imports (`SUCCESSFUL`, `FAILED`), newest first: `{start, end, total_num_uploads, data}` |
//! | `GET /upload/{id}/metadata/` | the upload, with `raw_upload.download_url` for the uploaded file |
//! | `GET /upload/{id}/url/`, `POST /upload/{id}/delete/` | the data's presigned URL; a permanent delete (200) |
//! | `GET`, `POST /headless/sftp/credentials/`, `GET`, `PUT`, `DELETE .../{id}/` | SFTP credentials; secrets never answered |
//! | `POST .../credentials/{id}/test_connection/` | `{success, error}`: does the server answer SSH (on this machine only; 501 for others) |
//! | `GET`, `POST /headless/sftp/connectors/`, `GET`, `PUT`, `DELETE .../{id}/` | connectors, with Dromo's schedule rules (400 `{"schedule": [...]}`) |
//!
//! Paths above are under `/api/v1`. The Sessions API (`sessions-openapi.json`) is served under
//! `/api/widget/session/v2` (see [`StandIn::sessions_base_url`], [`StandIn::widget_status`]). An upload's id is its headless import's id. Saved schemas
//! named by `schema_id` in a create give the import their fields; [`StandIn::add_schema`]
//! registers one without a request. The stand-in accepts every field form Dromo's docs present
//! (no `type` means `string`, `[type, options]`, number presets, unknown keys) and refuses what
//! cannot be a field definition. What it cannot imitate honestly (reaching an SFTP server on
//! another machine) answers 501 with a body saying so, never a 404 that reads as data.
//!
//! # From other processes and languages
//!
//! `dromo stand-in` (the command-line tool, feature `cli`) serves a stand-in until stopped, on
//! `127.0.0.1` (`--port` fixes the port), and prints
//! `export DROMO_BASE_URL=http://127.0.0.1:PORT/api/v1 DROMO_API_KEY=…`: every `dromo` command,
//! the `import` example, curl or a Python or Node test suite can then use it, and its imports and
//! schemas last until it stops. [`StandInBuilder::address`] does the same from Rust.
//!
//! # Testing your import code offline
//!
//! [`StandIn::client`] gives a [`Client`](crate::Client) for the stand-in (its base URL and key).
//! By default the stand-in finishes promptly: the first retrieve of a `PENDING` import processes
//! it and answers the outcome, so a whole [`import_file`](crate::Client::import_file) or
//! [`import_rows`](crate::Client::import_rows) takes one poll and milliseconds, on a real clock,
//! with the client's real poll limits ([`MIN_POLL_INTERVAL`](crate::MIN_POLL_INTERVAL) is not
//! relaxed).
//!
//! ```
//! use dromo_client::{stand_in::StandIn, ImportOutcome, Schema};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = StandIn::start().await?;
//! server.add_schema(
//!     "94187d21-9820-420f-b08c-a80cbbf52604",
//!     serde_json::json!([{"key": "email", "label": "Email", "type": "email"}]),
//! );
//! let client = server.client()?;
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("people.csv");
//! std::fs::write(&path, "Email\nada@example.com\n")?;
//! let schema = Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604");
//! match client.import_file::<serde_json::Value>(&path, schema).await? {
//!     ImportOutcome::Imported { rows, .. } => assert_eq!(rows[0]["email"], "ada@example.com"),
//!     other => panic!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! To test how your code copes with Dromo's pace, make imports move step by step with
//! [`StandInBuilder::polls_per_step`] (`PENDING → RUNNING → outcome`, each lasting `n` polls);
//! the client then waits its real 5 s between polls, so run such tests on tokio's paused clock
//! (`#[tokio::test(start_paused = true)]`, with the stand-in started on that runtime).
//!
//! # Shapes, keys and pacing
//!
//! Its errors have Dromo's shapes: DRF JSON (`{"detail": ...}` or field maps) on the API, S3 XML
//! on the presigned URLs. The API wants the key of [`StandIn::api_key`] in the
//! `X-Dromo-License-Key` header; the S3 URLs want none (and record whatever they get, so a test
//! can check that a client never sends its key to S3, see [`StandIn::requests`]).
//! [`StandInBuilder::bandwidth`] paces the S3 URLs to a byte rate, as over a slow link.
//!
//! Uploads stream to a temporary file and results stream from one, so memory stays flat whatever
//! the size of the file. The stand-in parses CSV and TSV files: each header is matched to a field
//! key, label or `alternateMatches` entry (case-insensitively), and every row becomes an object
//! with every field key (an empty cell where the file had no column for it: `""` for a string-like
//! field, `null` for a typed one, `false` for a checkbox; see below). XLS/XLSX files make
//! the import `FAILED`, as the stand-in cannot read them.
//!
//! # It follows the schema
//!
//! Each cell (of a file or of `initial_data`) is typed as Dromo documents its result values:
//!
//! | Field type | Result value |
//! | --- | --- |
//! | `number` | a JSON number (`round` applied); with an `outputFormat`, the formatted string (`"$1,234.50"`) |
//! | `checkbox` | `true`/`false`; false for `""`, `0`, `off`, `n`, `no`, `false`, `disabled` (any case), true otherwise |
//! | `date`, `datetime`, `time` | `"2022-03-27"`, `"2022-03-27T15:20"`, `"15:20"` (seconds with `withSeconds`), read from ISO-8601, RFC 2822 or `en-US` short forms (`3/27/2022, 3:20 PM`) |
//! | `select` | the option's `value`, matched by value, label or `alternateMatches` (trimmed, any case) |
//! | `multi-select` | an array of option values, from an array or text split at the `delimiter` (default `,`) |
//! | string and the string-like types | the value as entered |
//!
//! An empty cell of a typed field is `null` (a checkbox's `false`). Then the validators run on the
//! typed rows, with the same code as [`RowSchema::check_rows`](crate::RowSchema::check_rows):
//! `required`, `unique`, `unique_case_insensitive`, `regex_match`/`regex_exclude` (JavaScript
//! semantics), `length`, `require_with` and friends, select values (unless `allowCustom`), number
//! `min`/`max`. A cell that cannot be typed (`"abc"` in a number field) or a failed validator
//! ends the import in `NEEDS_REVIEW` (with its `review_url`); [`StandIn::review_problems`] says
//! why. Not imitated: Dromo's checks of the string-like types (email, phone number, URL...) and
//! their normalisation, a date's `outputFormat`, locales other than `en-US`, the validators
//! `unique_with`, `require_*_values` and `alphabetical`.
//!
//! ```
//! use dromo_client::stand_in::StandIn;
//! use serde_json::json;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = StandIn::start().await?;
//! let http = reqwest::Client::new();
//! let created: serde_json::Value = http
//!     .post(format!("{}/headless/imports/", server.base_url()))
//!     .header("X-Dromo-License-Key", server.api_key())
//!     .json(&json!({
//!         "fields": [{"key": "email", "label": "Email", "type": "email"}],
//!         "original_filename": "people.csv",
//!     }))
//!     .send()
//!     .await?
//!     .error_for_status()?
//!     .json()
//!     .await?;
//! assert_eq!(created["status"], "AWAITING_UPLOAD");
//! let upload = created["upload"].as_str().ok_or("no upload URL")?;
//! http.put(upload).body("Email\nada@example.com\n").send().await?.error_for_status()?;
//! let id = created["id"].as_str().ok_or("no id")?;
//! assert_eq!(server.import_status(id).as_deref(), Some("PENDING"));
//! # Ok(()) }
//! ```

mod api;
mod fields;
mod http;
mod imports;
mod limits;
mod number_format;
mod persist;
mod process;
mod s3;
mod schemas;
mod sessions;
mod sftp;
mod state;
mod throttle;
mod uploads;
mod validate;
mod values;
mod webhooks;

use std::num::NonZeroU64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use self::state::State;

/// The key the stand-in accepts unless [`StandInBuilder::api_key`] says otherwise.
pub const DEFAULT_API_KEY: &str = "stand-in-backend-key";

/// How long presigned URLs stay valid unless [`StandInBuilder::upload_url_ttl`] says otherwise:
/// 30 minutes, as Dromo documents for the upload URL.
pub const DEFAULT_UPLOAD_URL_TTL: Duration = Duration::from_secs(30 * 60);

/// How a stand-in import ends once it has been processed.
///
/// ```
/// use dromo_client::stand_in::Outcome;
///
/// assert_eq!(Outcome::default(), Outcome::Successful);
/// assert_eq!(Outcome::NeedsReview.as_str(), "NEEDS_REVIEW");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Outcome {
    /// The rows are ready: `SUCCESSFUL`, with `result_metadata: {"num_rows": N}`.
    #[default]
    Successful,
    /// A person must look at the data: `NEEDS_REVIEW`, with a `review_url`. The rows are
    /// processed but their URL is refused until [`StandIn::complete_review`] is called.
    NeedsReview,
    /// `FAILED`, with `import_errors: [{"message": ...}]` and no `review_url`.
    Failed,
}

impl Outcome {
    /// The status string Dromo uses for this outcome.
    ///
    /// ```
    /// assert_eq!(dromo_client::stand_in::Outcome::Failed.as_str(), "FAILED");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Successful => "SUCCESSFUL",
            Outcome::NeedsReview => "NEEDS_REVIEW",
            Outcome::Failed => "FAILED",
        }
    }
}

/// One request the stand-in received, API or S3, as [`StandIn::requests`] returns it.
///
/// The path has no query string, so no presigned signatures end up in test output.
///
/// ```
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = dromo_client::stand_in::StandIn::start().await?;
/// reqwest::get(format!("{}/headless/imports/", server.base_url())).await?;
/// let seen = server.requests();
/// assert_eq!(seen[0].method, "GET");
/// assert_eq!(seen[0].path, "/api/v1/headless/imports/");
/// assert_eq!(seen[0].status, 401);
/// assert_eq!(seen[0].header("x-dromo-license-key"), None);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method, e.g. `"PUT"`.
    pub method: String,
    /// The path without the query string, e.g. `"/api/v1/headless/imports/"`.
    pub path: String,
    /// Every header as received: names lowercased, values as text (invalid UTF-8 replaced).
    pub headers: Vec<(String, String)>,
    /// How many body bytes the stand-in read (0 for requests whose body it does not read).
    pub body_len: u64,
    /// The status code the stand-in answered.
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of header `name` (give it in lowercase), if the request had it.
    ///
    /// See [`RecordedRequest`] for an example.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The settings of a stand-in before it starts; see [`StandIn::builder`].
///
/// ```
/// use dromo_client::stand_in::{Outcome, StandIn};
/// use std::time::Duration;
///
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let server = StandIn::builder()
///     .api_key("my-test-key")
///     .outcome(Outcome::NeedsReview)
///     .polls_per_step(2)
///     .upload_url_ttl(Duration::from_secs(60))
///     .rate_limit_first_polls(1, 5)
///     .start()
///     .await?;
/// assert_eq!(server.api_key(), "my-test-key");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct StandInBuilder {
    config: Config,
    outcome: Outcome,
    rate_limit_period: Option<Duration>,
    address: std::net::SocketAddr,
    state_dir: Option<std::path::PathBuf>,
}

/// How many requests [`StandIn::requests`] keeps unless [`StandInBuilder::max_recorded_requests`]
/// says otherwise: enough for any test, and a bound for a stand-in that serves for days.
pub const DEFAULT_MAX_RECORDED_REQUESTS: usize = 100_000;

#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The most recent requests kept for [`StandIn::requests`] (older ones are dropped).
    pub(crate) max_recorded: usize,
    pub(crate) api_key: String,
    /// `None`: the first retrieve processes the import; `Some(n)`: each status lasts n polls.
    pub(crate) polls_per_step: Option<u32>,
    pub(crate) url_ttl: Duration,
    pub(crate) throttled_polls: u32,
    pub(crate) retry_after_secs: u64,
    /// Bytes per second on the presigned URLs, both ways; `None` is as fast as possible.
    pub(crate) bandwidth: Option<NonZeroU64>,
    /// Where each import's event is posted as JSON when it ends.
    pub(crate) webhook_url: Option<String>,
    /// Where the legacy form (`uploadId=…`) is posted when an upload completes.
    pub(crate) legacy_webhook_url: Option<String>,
}

impl Default for StandInBuilder {
    fn default() -> Self {
        StandInBuilder {
            config: Config {
                max_recorded: DEFAULT_MAX_RECORDED_REQUESTS,
                api_key: DEFAULT_API_KEY.to_owned(),
                polls_per_step: None,
                url_ttl: DEFAULT_UPLOAD_URL_TTL,
                throttled_polls: 0,
                retry_after_secs: 0,
                bandwidth: None,
                webhook_url: None,
                legacy_webhook_url: None,
            },
            outcome: Outcome::Successful,
            rate_limit_period: None,
            address: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: None,
        }
    }
}

impl StandInBuilder {
    /// The license key the stand-in accepts in `X-Dromo-License-Key` (default
    /// [`DEFAULT_API_KEY`]).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = key.into();
        self
    }

    /// How imports end (default [`Outcome::Successful`]); [`StandIn::set_outcome`] changes it
    /// later.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Makes imports move step by step, as Dromo's do: each of `PENDING` and `RUNNING` lasts `n`
    /// retrieves before the import moves on (with 1, one poll sees `PENDING`, the next
    /// `RUNNING`, the next the outcome; with 0 every retrieve moves the import one step before
    /// answering).
    ///
    /// Without it (the default) the stand-in finishes promptly: the first retrieve of a
    /// `PENDING` import processes it and answers its outcome, so a whole import through the
    /// client takes one poll and no wait (see [`StandIn::client`]).
    pub fn polls_per_step(mut self, n: u32) -> Self {
        self.config.polls_per_step = Some(n);
        self
    }

    /// How long the presigned upload and result URLs stay valid (default 30 minutes, as Dromo
    /// documents). `X-Amz-Expires` shows it in whole seconds (at least 1), but the stand-in
    /// expires a URL after exactly this duration, so tests can use a few milliseconds.
    pub fn upload_url_ttl(mut self, ttl: Duration) -> Self {
        self.config.url_ttl = ttl;
        self
    }

    /// The first `n` retrieves of each import answer 429 with `Retry-After: retry_after_secs`
    /// and DRF's body (`{"detail": "Request was throttled. Expected available in N seconds."}`),
    /// as Dromo's limit of 12 polls a minute would. Throttled polls do not move the import on.
    pub fn rate_limit_first_polls(mut self, n: u32, retry_after_secs: u64) -> Self {
        self.config.throttled_polls = n;
        self.config.retry_after_secs = retry_after_secs;
        self
    }

    /// Limits the presigned URLs to `bytes_per_sec` bytes a second, both ways: uploads are read
    /// and downloads (results, uploaded files) written no faster, as over a slow link. `0`
    /// means no limit (the default).
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// // About a 1 Mbit/s link.
    /// let server = dromo_client::stand_in::StandIn::builder()
    ///     .bandwidth(125_000)
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn bandwidth(mut self, bytes_per_sec: u64) -> Self {
        self.config.bandwidth = NonZeroU64::new(bytes_per_sec);
        self
    }

    /// Posts a webhook to `url` whenever an import ends, as Dromo's managed webhooks do: JSON
    /// `{"event": "import_completed" | "headless_import_needs_review" | "headless_import_failed",
    /// "data": {id, filename, user (snake_case), created_date, import_type, status, num_data_rows,
    /// development_mode, has_data, headless}}`. One attempt each, in the background.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let server = dromo_client::stand_in::StandIn::builder()
    ///     .webhook_url("http://127.0.0.1:9/dromo/webhook")
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn webhook_url(mut self, url: impl Into<String>) -> Self {
        self.config.webhook_url = Some(url.into());
        self
    }

    /// Posts the legacy `webhookUrl` form, `uploadId=<id>` (URL-encoded), to `url` whenever an
    /// upload completes (`SUCCESSFUL` or `FAILED`).
    pub fn legacy_webhook_url(mut self, url: impl Into<String>) -> Self {
        self.config.legacy_webhook_url = Some(url.into());
        self
    }

    /// Enforces Dromo's documented rate limits: 20 creates and 12 status polls per import in
    /// any window of `period` (a minute for Dromo's own; shorter to scale time down in tests).
    /// A request over a limit gets 429 with `Retry-After` (whole seconds, rounded up) and DRF's
    /// throttle body, and changes nothing. [`StandIn::rate_limited`] counts them.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// use std::time::Duration;
    /// let server = dromo_client::stand_in::StandIn::builder()
    ///     .enforce_rate_limits(Duration::from_secs(60))
    ///     .start()
    ///     .await?;
    /// assert_eq!(server.rate_limited(), 0);
    /// # Ok(()) }
    /// ```
    pub fn enforce_rate_limits(mut self, period: Duration) -> Self {
        self.rate_limit_period = Some(period);
        self
    }

    /// The address to listen on (default `127.0.0.1:0`: loopback, a free port). A fixed port
    /// gives a stand-in whose base URL other programs can be told once (`dromo stand-in --port`).
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let server = dromo_client::stand_in::StandIn::builder()
    ///     .address(([127, 0, 0, 1], 0))
    ///     .start()
    ///     .await?;
    /// assert!(server.base_url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn address(mut self, address: impl Into<std::net::SocketAddr>) -> Self {
        self.address = address.into();
        self
    }

    /// Keeps the state in `dir` (created if needed): saved schemas, imports with their uploaded
    /// files and results, SFTP credentials (their secrets too, as given) and connectors, written
    /// after every request and read back at start, so a stand-in restarted on the same directory
    /// carries on (`dromo stand-in --state-dir DIR`). Upload URLs name the port: restart on the
    /// same [`address`](StandInBuilder::address) for an upload still to be made.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// let first = dromo_client::stand_in::StandIn::builder().state_dir(dir.path()).start().await?;
    /// reqwest::Client::new()
    ///     .post(format!("{}/schemas/", first.base_url()))
    ///     .header("X-Dromo-License-Key", first.api_key())
    ///     .json(&serde_json::json!({
    ///         "name": "people",
    ///         "fields": [{"key": "email", "label": "Email"}],
    ///         "settings": {},
    ///     }))
    ///     .send()
    ///     .await
    ///     .and_then(|r| r.error_for_status())
    ///     .map_err(std::io::Error::other)?;
    /// first.shutdown().await;
    /// let again = dromo_client::stand_in::StandIn::builder().state_dir(dir.path()).start().await?;
    /// let schemas: serde_json::Value = reqwest::Client::new()
    ///     .get(format!("{}/schemas/", again.base_url()))
    ///     .header("X-Dromo-License-Key", again.api_key())
    ///     .send()
    ///     .await
    ///     .and_then(|r| r.error_for_status())
    ///     .map_err(std::io::Error::other)?
    ///     .json()
    ///     .await
    ///     .map_err(std::io::Error::other)?;
    /// assert_eq!(schemas[0]["name"], "people");
    /// # Ok(()) }
    /// ```
    pub fn state_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// How many of the most recent requests [`StandIn::requests`] keeps (default
    /// [`DEFAULT_MAX_RECORDED_REQUESTS`]); older ones are dropped, so a long-lived stand-in's
    /// memory stays bounded.
    pub fn max_recorded_requests(mut self, n: usize) -> Self {
        self.config.max_recorded = n;
        self
    }

    /// Binds the [`address`](StandInBuilder::address) (default `127.0.0.1:0`) and starts
    /// serving on the current tokio runtime.
    ///
    /// # Errors
    /// When the address cannot be bound, or the [`state_dir`](StandInBuilder::state_dir) cannot
    /// be created or read.
    ///
    /// # Panics
    /// When called outside a tokio runtime (as `tokio::spawn` does).
    pub async fn start(self) -> std::io::Result<StandIn> {
        let mut state = State::new(self.outcome);
        let store = match self.state_dir {
            Some(dir) => {
                std::fs::create_dir_all(&dir)?;
                persist::load(&dir, &mut state)?;
                Some(persist::Store {
                    dir,
                    writing: Mutex::new(()),
                })
            }
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(self.address).await?;
        let addr = listener.local_addr()?;
        let origin = format!("http://{addr}");
        let inner = Arc::new(Inner {
            config: self.config,
            origin,
            store,
            state: Mutex::new(state),
            sessions: Mutex::default(),
            limits: self
                .rate_limit_period
                .map(|p| Mutex::new(limits::Limits::new(p))),
        });
        let app = api::router(inner.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    // Either a shutdown signal or a dropped sender: both mean stop.
                    let _ = stopped.await;
                })
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "stand-in server stopped with an error");
            }
        });
        tracing::debug!(%addr, "stand-in listening");
        Ok(StandIn {
            inner,
            task: Some(task),
            stop: Some(stop),
        })
    }
}

pub(crate) struct Inner {
    pub(crate) config: Config,
    /// `http://127.0.0.1:PORT`
    pub(crate) origin: String,
    /// Where the state is kept, with [`StandInBuilder::state_dir`].
    pub(crate) store: Option<persist::Store>,
    pub(crate) state: Mutex<State>,
    /// The Sessions API's sessions and tokens (`sessions.rs`).
    pub(crate) sessions: Mutex<sessions::Sessions>,
    /// Dromo's rate limits, when [`StandInBuilder::enforce_rate_limits`] asked for them.
    pub(crate) limits: Option<Mutex<limits::Limits>>,
}

impl Inner {
    /// The state, even if a thread panicked while holding the lock (no code path panics there,
    /// and the state stays consistent between statements anyway).
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies a rate limit check, if limits are enforced.
    pub(crate) fn limit(
        &self,
        check: impl FnOnce(&mut limits::Limits) -> Result<(), Duration>,
    ) -> Result<(), Duration> {
        match &self.limits {
            Some(limits) => check(
                &mut limits
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            ),
            None => Ok(()),
        }
    }

    pub(crate) fn api_base(&self) -> String {
        format!("{}/api/v1", self.origin)
    }
}

/// A running stand-in of Dromo's API. It stops when dropped, or with [`StandIn::shutdown`].
///
/// See the [module documentation](self) for what it serves.
///
/// ```
/// # #[tokio::main] async fn main() -> std::io::Result<()> {
/// let server = dromo_client::stand_in::StandIn::start().await?;
/// assert!(server.base_url().starts_with("http://127.0.0.1:"));
/// assert!(server.base_url().ends_with("/api/v1"));
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct StandIn {
    inner: Arc<Inner>,
    task: Option<JoinHandle<()>>,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl StandIn {
    /// A builder to change the defaults before starting.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let server = dromo_client::stand_in::StandIn::builder().polls_per_step(3).start().await?;
    /// # Ok(()) }
    /// ```
    pub fn builder() -> StandInBuilder {
        StandInBuilder::default()
    }

    /// Starts a stand-in with the defaults (see [`StandInBuilder`]).
    ///
    /// # Errors
    /// When the port cannot be bound.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let server = dromo_client::stand_in::StandIn::start().await?;
    /// assert_eq!(server.api_key(), dromo_client::stand_in::DEFAULT_API_KEY);
    /// # Ok(()) }
    /// ```
    pub async fn start() -> std::io::Result<StandIn> {
        StandInBuilder::default().start().await
    }

    /// The API base URL, `http://127.0.0.1:PORT/api/v1`, to use where the real one is
    /// `https://app.dromo.io/api/v1`.
    ///
    /// See [`StandIn`] for an example.
    pub fn base_url(&self) -> String {
        self.inner.api_base()
    }

    /// The license key the stand-in accepts.
    ///
    /// See [`StandIn::start`] for an example.
    pub fn api_key(&self) -> &str {
        &self.inner.config.api_key
    }

    /// A [`Client`](crate::Client) for this stand-in: its [`base_url`](StandIn::base_url) and
    /// [`api_key`](StandIn::api_key), the client's defaults otherwise (Dromo's poll limits
    /// included: the stand-in is fast because it finishes promptly, not because the client polls
    /// faster). For other settings, start from [`Client::builder`](crate::Client::builder) with
    /// the same two values.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) when the key given to
    /// [`StandInBuilder::api_key`] cannot go in an HTTP header.
    ///
    /// ```
    /// use dromo_client::{stand_in::StandIn, Field, FieldType, ImportOutcome, Schema};
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = StandIn::start().await?;
    /// let client = server.client()?;
    /// let schema = Schema::inline([Field::new("email", "Email", FieldType::Email)]);
    /// let outcome = client
    ///     .import_rows::<serde_json::Value>([["ada@example.com"]], schema)
    ///     .await?;
    /// let ImportOutcome::Imported { rows, .. } = outcome else { panic!("{outcome:?}") };
    /// assert_eq!(rows[0]["email"], "ada@example.com");
    /// # Ok(()) }
    /// ```
    pub fn client(&self) -> Result<crate::Client, crate::Error> {
        crate::Client::builder()
            .base_url(self.base_url())
            .api_key(self.api_key())
            .build()
    }

    /// Saves a schema that imports can name with `schema_id` and that `GET /schemas/{id}/`
    /// answers. `fields` is the schema's fields array, or a whole schema object
    /// (`{"name", "fields", "settings", "hooks"}`, as `POST /schemas/` takes it). A schema given
    /// by its fields is named `Stand-in schema {id}`, with empty settings. Nothing is checked
    /// here (names need not be unique); an invalid fields array makes creates that use it answer
    /// 400. Adding an id again replaces the schema.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let server = dromo_client::stand_in::StandIn::start().await?;
    /// server.add_schema(
    ///     "94187d21-9820-420f-b08c-a80cbbf52604",
    ///     serde_json::json!([{"key": "first_name", "label": "First Name", "type": "string"}]),
    /// );
    /// # Ok(()) }
    /// ```
    pub fn add_schema(&self, id: &str, fields: serde_json::Value) {
        use serde_json::{json, Map, Value};
        let mut schema = Map::new();
        match fields {
            Value::Object(mut whole) => {
                let name = whole
                    .remove("name")
                    .unwrap_or_else(|| json!(format!("Stand-in schema {id}")));
                schema.insert("name".into(), name);
                for (key, default) in [("fields", Value::Null), ("settings", json!({}))] {
                    schema.insert(key.into(), whole.remove(key).unwrap_or(default));
                }
                schema.insert("hooks".into(), whole.remove("hooks").unwrap_or(json!({})));
            }
            fields => {
                schema.insert("name".into(), json!(format!("Stand-in schema {id}")));
                schema.insert("fields".into(), fields);
                schema.insert("settings".into(), json!({}));
                schema.insert("hooks".into(), json!({}));
            }
        }
        schemas::store(&mut self.inner.lock(), id, schema);
    }

    /// Every request received so far, in the order their answers were made.
    ///
    /// See [`RecordedRequest`] for an example.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.lock().requests.iter().cloned().collect()
    }

    /// The current status of import `id` (e.g. `"PENDING"`), without counting as a poll; `None`
    /// for an unknown (or deleted) import.
    ///
    /// See the [module documentation](self) for an example.
    pub fn import_status(&self, id: &str) -> Option<String> {
        let id = uuid::Uuid::parse_str(id).ok()?;
        self.inner
            .lock()
            .imports
            .get(&id)
            .map(|import| import.status.as_str().to_owned())
    }

    /// What typing the cells and running the validators of import `id` found, the reasons it
    /// ended in `NEEDS_REVIEW` (the first 50, each `rows[<index>].<key>: <what is wrong>`);
    /// empty for an import that found none, is not processed yet, or is unknown.
    ///
    /// ```
    /// use dromo_client::{stand_in::StandIn, Field, FieldType, ImportOutcome, Schema};
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = StandIn::start().await?;
    /// let schema = Schema::inline([Field::new("age", "Age", FieldType::Number).required()]);
    /// let outcome = server
    ///     .client()?
    ///     .import_rows::<serde_json::Value>([["36"], ["old"]], schema)
    ///     .await?;
    /// assert!(matches!(outcome, ImportOutcome::NeedsReview { .. }));
    /// let problems = server.review_problems(&outcome.import_id().to_string());
    /// assert_eq!(problems, ["rows[1].age: `old` is not a number"]);
    /// # Ok(()) }
    /// ```
    pub fn review_problems(&self, id: &str) -> Vec<String> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Vec::new();
        };
        self.inner
            .lock()
            .imports
            .get(&id)
            .and_then(|import| import.results.as_ref())
            .map(|results| results.verdict.problems.clone())
            .unwrap_or_default()
    }

    /// Changes how imports end from now on: imports that have not reached their outcome yet get
    /// this one.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// use dromo_client::stand_in::{Outcome, StandIn};
    /// let server = StandIn::start().await?;
    /// server.set_outcome(Outcome::Failed);
    /// # Ok(()) }
    /// ```
    pub fn set_outcome(&self, outcome: Outcome) {
        self.inner.lock().outcome = outcome;
    }

    /// Does what a person fixing the data at the `review_url` does: a `NEEDS_REVIEW` import
    /// becomes `SUCCESSFUL` and its rows can be fetched. Returns whether import `id` was in
    /// `NEEDS_REVIEW`.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let server = dromo_client::stand_in::StandIn::start().await?;
    /// assert!(!server.complete_review("66d6300d-1414-4655-83b4-8c80fc527315"));
    /// # Ok(()) }
    /// ```
    pub fn complete_review(&self, id: &str) -> bool {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return false;
        };
        let mut state = self.inner.lock();
        match state.imports.get_mut(&id) {
            Some(import) => {
                let completed = import.complete_review();
                if completed {
                    webhooks::announce(&self.inner, import);
                }
                completed
            }
            None => false,
        }
    }

    /// How many requests were answered 429 by [`StandInBuilder::enforce_rate_limits`].
    pub fn rate_limited(&self) -> u64 {
        self.inner.limits.as_ref().map_or(0, |limits| {
            limits
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .refused
        })
    }

    /// Processes import `id` now, as Dromo does on its own, without waiting for a poll: a
    /// `PENDING` or `RUNNING` import reaches its outcome (and its webhook is sent). Returns the
    /// import's status afterwards, `None` if there is no such import.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> std::io::Result<()> {
    /// let server = dromo_client::stand_in::StandIn::start().await?;
    /// assert_eq!(server.process_import("66d6300d-1414-4655-83b4-8c80fc527315").await, None);
    /// # Ok(()) }
    /// ```
    pub async fn process_import(&self, id: &str) -> Option<String> {
        let _ = imports::advance(&self.inner, id, true).await;
        self.import_status(id)
    }

    /// Stops the server: it stops accepting connections, lets the requests under way finish (for
    /// at most 5 seconds) and returns.
    ///
    /// See [`StandIn`] for an example.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the server task has already ended, which is what we want.
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        // The signal makes the connections still open close once idle; aborting the accept loop
        // stops new ones at once.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
