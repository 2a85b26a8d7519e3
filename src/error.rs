//! The crate's one error type, and the translation of HTTP failures into it.

use std::fmt;
use std::time::Duration;

/// A boxed error kept as the `source()` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// How many characters of an unreadable body an error keeps.
pub const SNIPPET_CHARS: usize = 200;
/// How many bytes of an error body are read at most (the rest is dropped unread).
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// How many of the server's messages an error keeps.
const MAX_MESSAGES: usize = 50;

use crate::scrub::{scrub, MAX_MESSAGES_CHARS, MAX_MESSAGE_CHARS};

/// Everything that can go wrong when talking to Dromo.
///
/// **Print it with `{:#}`**: `{}` is one line, what went wrong and what to do about it, and never
/// repeats its `source()` (the Rust convention); `{:#}` adds every cause after it, joined by
/// `: `, on one line; `Debug` prints the same chain one cause a line (what
/// `fn main() -> Result<(), Error>` shows). The HTTP status, the server's messages and a
/// truncated body stay available in the variant's fields (and through [`Error::status`] and
/// [`Error::response`]).
///
/// The steps of a whole import ([`Client::import_file`](crate::Client::import_file), …) wrap the
/// failure in [`Error::Step`], which adds the step and the import id as context: its `{}` is
/// `upload step of import … failed: <the cause's line>`. Match on [`Error::kind`] to see
/// through it: `matches!(e.kind(), Error::SchemaNotFound { .. })` holds whether the error came
/// from `create_import` or from `import_file`.
///
/// Growing without breaking: the enum and each of its variants are `#[non_exhaustive]`, so
/// later versions may add variants and fields; match variants with `{ .. }` and build errors
/// only through this crate.
///
/// ```
/// use dromo_client::Error;
///
/// fn report(e: &Error) -> String {
///     match e.status() {
///         Some(status) if e.is_retryable() => format!("try again later ({status}): {e:#}"),
///         _ => format!("{e:#}"),
///     }
/// }
/// # let _ = report;
/// ```
#[non_exhaustive]
pub enum Error {
    /// The client configuration is unusable (no key, a malformed base URL, TLS set-up failed).
    #[non_exhaustive]
    Config {
        /// What is wrong and how to fix it.
        message: String,
        /// The underlying error, if any.
        source: Option<BoxError>,
    },

    /// The request breaks Dromo's rules; nothing was sent.
    #[non_exhaustive]
    InvalidRequest {
        /// Every rule the request breaks.
        violations: Violations,
    },

    /// Dromo rejected the API key (401 or 403).
    #[non_exhaustive]
    Unauthorized {
        /// What the server answered.
        response: ApiResponse,
    },

    /// Create answered 404: there is no saved schema with this id.
    #[non_exhaustive]
    SchemaNotFound {
        /// The id that was sent.
        schema_id: String,
        /// What the server answered.
        response: ApiResponse,
    },

    /// A resource (import, schema, upload…) does not exist (404).
    #[non_exhaustive]
    NotFound {
        /// What was looked for, e.g. "headless import 94187d21-…".
        resource: String,
        /// What the server answered.
        response: ApiResponse,
    },

    /// Resuming a widget session answered 404: Dromo has no such session, or it was deleted, or
    /// it was not saved within the last 7 days.
    #[non_exhaustive]
    SessionGone {
        /// The session that was asked for.
        session_id: String,
        /// What the server answered.
        response: ApiResponse,
    },

    /// The results of an import that has not finished were asked for (Dromo answers 400
    /// `Import is not complete.`).
    #[non_exhaustive]
    NotReady {
        /// The import, e.g. "headless import 94187d21-…".
        resource: String,
        /// What the server answered.
        response: ApiResponse,
    },

    /// Dromo refused the request's content (400 or 422), with its messages per field.
    #[non_exhaustive]
    Rejected {
        /// What the server answered, messages per field included.
        response: ApiResponse,
    },

    /// Too many requests (429).
    #[non_exhaustive]
    RateLimited {
        /// What the server answered, `Retry-After` included.
        response: ApiResponse,
    },

    /// Dromo failed (5xx): usually temporary.
    #[non_exhaustive]
    Server {
        /// What the server answered.
        response: ApiResponse,
    },

    /// Any other unsuccessful status.
    #[non_exhaustive]
    UnexpectedStatus {
        /// What the server answered.
        response: ApiResponse,
    },

    /// A successful response whose body does not have the documented shape.
    #[non_exhaustive]
    Decode {
        /// The HTTP status of the response.
        status: u16,
        /// Where in the JSON decoding failed (e.g. `results[3].status`); `.` for the root.
        path: String,
        /// The decoder's message.
        message: String,
        /// The first characters of the body.
        snippet: String,
        /// The decoder's error.
        source: BoxError,
    },

    /// A row of the results does not fit the caller's row type (e.g. a `u32` field for a value
    /// Dromo sends as the string `"36"`). The cause (serde's message) is the `source()`.
    #[non_exhaustive]
    RowMismatch {
        /// The row's index in the results.
        index: usize,
        /// Where in the row decoding failed, starting with the row's index, e.g. `[0].age`.
        path: String,
        /// serde's message, e.g. `invalid type: string "36", expected u32`.
        message: String,
        /// serde's message as an error.
        source: BoxError,
    },

    /// A URL Dromo sent (a presigned upload or download URL) is unusable. The message never
    /// contains the URL's query (its signature).
    #[non_exhaustive]
    BadUrl {
        /// Which URL, e.g. "presigned URL".
        what: String,
        /// What is wrong with it.
        reason: String,
        /// The parser's error, if any.
        source: Option<BoxError>,
    },

    /// The request never got an answer: connection refused, DNS failure, timeout, TLS…
    #[non_exhaustive]
    Connection {
        /// The host (and port) the client tried to reach.
        host: String,
        /// What kind of failure.
        kind: ConnectionFailure,
        /// The transport's error.
        source: BoxError,
    },

    /// A create request reached Dromo, but what came back does not prove that nothing was
    /// created: the connection broke or timed out after the body was sent, the answer broke
    /// off or could not be read, or Dromo answered with a server error (5xx; it may fail after
    /// committing). The import may exist: sending the create again could make a duplicate, so
    /// this error is never retryable. Its message says how to find the import (list recent
    /// imports), with the id when any part of the answer carried it.
    #[non_exhaustive]
    CreateOutcomeUnknown {
        /// The host (and port) of the API.
        host: String,
        /// The transport failure, when the answer was lost (`None` when an answer arrived whole
        /// but was a 5xx or unreadable).
        kind: Option<ConnectionFailure>,
        /// The status of the answer, when its head arrived.
        status: Option<u16>,
        /// The import's id, when it could be read from the part of the answer that arrived.
        import_id: Option<String>,
        /// What the server answered, for a 5xx.
        response: Option<Box<ApiResponse>>,
        /// The underlying error: the transport's, the decoder's, or the server's message.
        source: BoxError,
    },

    /// A call did not finish within its bound ([`ClientBuilder::call_timeout`](crate::ClientBuilder::call_timeout),
    /// default [`DEFAULT_CALL_TIMEOUT`](crate::DEFAULT_CALL_TIMEOUT)), retries included: the
    /// server or the network is too slow (an answer dripping in, say). The last attempt's error,
    /// if one had failed before, is the `source()`.
    #[non_exhaustive]
    CallTimedOut {
        /// The call, e.g. "retrieve import".
        what: String,
        /// The bound that passed.
        bound: Duration,
        /// How many attempts had started.
        attempts: u32,
        /// The error of the last attempt that ended, or what the bound cut.
        source: Option<Box<Error>>,
    },

    /// The results Dromo sent are not valid JSON (a syntax error, a lone surrogate, a body cut
    /// short): Dromo's fault, not your row type's. Fetching them again may help.
    #[non_exhaustive]
    MalformedResults {
        /// The import whose results were read.
        import_id: String,
        /// The row being read when the JSON broke, counted from 0.
        index: usize,
        /// The parser's message (line and column included).
        message: String,
        /// The parser's error.
        source: BoxError,
    },

    /// Uploading the file to the presigned URL failed.
    #[non_exhaustive]
    Upload {
        /// The file (or source) being uploaded.
        file: String,
        /// What went wrong and what to do (S3's code and message included).
        reason: String,
        /// HTTP status of S3's answer, when there was one.
        status: Option<u16>,
        /// S3's error code (`AccessDenied`, `SignatureDoesNotMatch`, …), when there was one.
        code: Option<String>,
        /// Whether sending the same request again may succeed.
        retryable: bool,
        /// The underlying error, if any.
        source: Option<BoxError>,
    },

    /// Downloading the results failed.
    #[non_exhaustive]
    Download {
        /// The import whose results were fetched.
        import_id: String,
        /// What went wrong and what to do.
        reason: String,
        /// HTTP status of the answer, when there was one.
        status: Option<u16>,
        /// Whether trying again may succeed.
        retryable: bool,
        /// The underlying error, if any.
        source: Option<BoxError>,
    },

    /// A local file could not be read.
    #[non_exhaustive]
    File {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },

    /// A local file cannot be imported as it is (empty, not UTF-8 CSV/TSV, a header sharing no
    /// column with the schema): refused before anything was created ([`crate::check_file`]).
    #[non_exhaustive]
    UnusableFile {
        /// The path.
        path: String,
        /// What is wrong with it and how to fix it.
        reason: String,
    },

    /// One step of a whole import (`import_file`, `import_rows`) failed.
    #[non_exhaustive]
    Step {
        /// Which step.
        step: Step,
        /// The import, once created.
        import_id: Option<String>,
        /// What went wrong in that step.
        source: Box<Error>,
    },

    /// A webhook body is not a Dromo webhook (bad JSON or form, no import id, wrong content
    /// type): nothing in it can be used.
    #[non_exhaustive]
    WebhookInvalid {
        /// What is wrong with the body.
        reason: String,
    },

    /// A webhook named an import that Dromo does not know: the webhook is forged or stale.
    #[non_exhaustive]
    WebhookUnknownImport {
        /// The id the webhook named.
        import_id: String,
    },

    /// A webhook's event or status disagrees with the import's status on Dromo's side: the
    /// webhook is forged or stale.
    #[non_exhaustive]
    WebhookStatusMismatch {
        /// The import the webhook named.
        import_id: String,
        /// What the webhook claimed (its event, or its `data.status`).
        claimed: String,
        /// The import's status as Dromo answered it.
        actual: String,
    },

    /// The rate limiter (e.g. [`bulk::RedisRateLimiter`](crate::bulk)) could not say whether one
    /// more create is allowed, so nothing was sent: a budget shared with other workers is never
    /// exceeded blindly. `limiter` names it without credentials (a Redis URL's password never
    /// appears); the underlying error is the `source()`.
    #[non_exhaustive]
    RateLimiterFailed {
        /// Which limiter, e.g. `Redis 10.0.0.5:6379/0, key dromo:creates:acme`.
        limiter: String,
        /// What went wrong and what to do, e.g. `connection refused: check that Redis is up
        /// and the URL's host and port`.
        reason: String,
        /// Whether asking again later may succeed (an outage, a timeout), or the set-up must be
        /// fixed first (a wrong password, a key holding something else).
        retryable: bool,
        /// The limiter's error.
        source: Option<BoxError>,
    },
}

impl Error {
    /// This error's own sentence, without its `source()` (what `{}` prints; `{:#}` adds the
    /// chain).
    fn headline(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config { message, .. } => write!(f, "invalid client configuration: {message}"),
            Self::InvalidRequest { violations } => {
                write!(f, "invalid import request, nothing was sent: {violations}")
            }
            Self::Unauthorized { response } => write!(
                f,
                "Dromo rejected the API key (HTTP {}): use the Backend license key from the Dromo dashboard, not the frontend key{}",
                response.status,
                response.said()
            ),
            Self::SchemaNotFound {
                schema_id,
                response,
            } => write!(
                f,
                "no saved schema with id `{schema_id}` (HTTP 404): check the id in the Dromo dashboard, or send an inline schema (`fields`) instead{}",
                response.said()
            ),
            Self::NotFound { resource, response } => write!(
                f,
                "{resource} not found (HTTP 404): check the id, or whether it was deleted{}",
                response.said()
            ),
            Self::SessionGone {
                session_id,
                response,
            } => write!(
                f,
                "session {session_id} is gone or expired (>7 days since its last save) (HTTP 404){}: start a new session with `create_session`, store its new session id and give the widget its token",
                response.said()
            ),
            Self::NotReady { resource, response } => write!(
                f,
                "{resource} has no results yet (HTTP {}{}): wait until its status is SUCCESSFUL (`wait_for_import`), then ask again",
                response.status,
                response.said()
            ),
            Self::Rejected { response } => write!(
                f,
                "Dromo refused the request (HTTP {}): {}; fix these and send again",
                response.status,
                response.messages_or_snippet()
            ),
            Self::RateLimited { response } => write!(
                f,
                "rate limited by Dromo (HTTP 429){}: {}",
                response.said(),
                response.retry_hint()
            ),
            Self::Server { response } => write!(
                f,
                "Dromo had a server error (HTTP {}): {}; this is usually temporary, retry later",
                response.status,
                response.messages_or_snippet()
            ),
            Self::UnexpectedStatus { response } => write!(
                f,
                "Dromo answered HTTP {}: {}",
                response.status,
                response.messages_or_snippet()
            ),
            Self::Decode {
                status,
                path,
                snippet,
                ..
            } => write!(
                f,
                "could not read Dromo's answer (HTTP {status}): it does not have the documented shape at `{path}` (body starts `{snippet}`); please report this"
            ),
            Self::RowMismatch { index, path, .. } => write!(
                f,
                "row {index} of the results does not match your row type at `{path}`: change that field's type to match the JSON the results hold (the cause says what was found), or read rows as `serde_json::Value`"
            ),
            Self::BadUrl { what, reason, .. } => {
                write!(f, "Dromo sent an unusable {what}: {reason}; please report this")
            }
            Self::Connection { host, kind, .. } => {
                write!(f, "could not reach {host}: {kind}; {}", kind.advice())
            }
            Self::CreateOutcomeUnknown {
                host,
                kind,
                status,
                import_id,
                response,
                ..
            } => {
                match (kind, response) {
                    (Some(kind), _) => write!(
                        f,
                        "the create request reached {host} but its answer was lost ({kind}{})",
                        status.map(|s| format!(", after HTTP {s}")).unwrap_or_default()
                    )?,
                    (None, Some(response)) => write!(
                        f,
                        "Dromo answered the create with a server error (HTTP {}), which it may send after the import was made",
                        response.status
                    )?,
                    (None, None) => write!(
                        f,
                        "Dromo answered the create (HTTP {}) but its answer cannot be read",
                        status.map_or_else(|| "?".to_owned(), |s| s.to_string())
                    )?,
                }
                write!(f, ": the import may have been created")?;
                if let Some(id) = import_id {
                    write!(f, " (its id is {id})")?;
                }
                write!(f, "; do not create it again blindly: list recent imports (`client.list_imports()`, or `dromo imports list`) to find it")
            }
            Self::CallTimedOut {
                what,
                bound,
                attempts,
                ..
            } => write!(
                f,
                "{what} did not finish within its bound of {} ({attempts} attempt{} made): the server or the network is too slow (the bound is `ClientBuilder::call_timeout`)",
                crate::error::seconds(*bound),
                if *attempts == 1 { "" } else { "s" }
            ),
            Self::MalformedResults {
                import_id, index, ..
            } => write!(
                f,
                "Dromo sent malformed results for import {import_id} (the JSON breaks at row {index}): this is Dromo's fault, not your row type's; fetch the results again (`fetch_results`), and report it to Dromo if it persists"
            ),
            Self::Upload { file, reason, .. } => write!(f, "upload of {file} failed: {reason}"),
            Self::Download {
                import_id, reason, ..
            } => write!(
                f,
                "download of the results of import {import_id} failed: {reason}"
            ),
            Self::File { path, .. } => write!(
                f,
                "cannot read {path}: check that the file exists and is readable"
            ),
            Self::UnusableFile { path, reason } => {
                write!(f, "cannot import {path}, so nothing was sent: {reason}")
            }
            Self::Step {
                step,
                import_id,
                source,
            } => {
                match import_id {
                    Some(id) => write!(f, "{step} step of import {id} failed")?,
                    None if source.created_nothing() => {
                        write!(f, "{step} step failed, no import was created")?
                    }
                    None => write!(f, "{step} step failed")?,
                }
                // The step is context, not an error of its own: it shows its cause's sentence
                // (and hands on the cause's `source()`, so no chain repeats it).
                write!(f, ": ")?;
                source.headline(f)
            }
            Self::WebhookInvalid { reason } => write!(
                f,
                "not a Dromo webhook: {reason}; refuse it (Dromo sends JSON `{{\"event\", \"data\"}}` or a form with `uploadId`)"
            ),
            Self::WebhookUnknownImport { import_id } => write!(
                f,
                "webhook not confirmed: Dromo has no import {import_id}; ignore the webhook (it may be forged)"
            ),
            Self::WebhookStatusMismatch {
                import_id,
                claimed,
                actual,
            } => write!(
                f,
                "webhook not confirmed: it claims import {import_id} is {claimed} but Dromo says {actual}; ignore the webhook (it may be forged)"
            ),
            Self::RateLimiterFailed {
                limiter, reason, ..
            } => write!(
                f,
                "rate limiter {limiter} failed, so nothing was sent: {reason}"
            ),
        }
    }

    /// Whether this error proves that no import was created by the request that failed: it
    /// was refused before sending, no connection was made, or Dromo refused it (4xx).
    pub fn created_nothing(&self) -> bool {
        match self {
            Self::Config { .. }
            | Self::InvalidRequest { .. }
            | Self::File { .. }
            | Self::UnusableFile { .. }
            | Self::Connection { .. }
            | Self::RateLimiterFailed { .. }
            | Self::Unauthorized { .. }
            | Self::SchemaNotFound { .. }
            | Self::NotFound { .. }
            | Self::SessionGone { .. }
            | Self::Rejected { .. }
            | Self::RateLimited { .. } => true,
            Self::UnexpectedStatus { response } => (400..500).contains(&response.status),
            Self::Step {
                import_id, source, ..
            } => import_id.is_none() && source.created_nothing(),
            _ => false,
        }
    }

    /// Whether the failed request may have created an import (a create whose outcome is
    /// unknown): list recent imports before creating it again.
    pub fn may_have_created_import(&self) -> bool {
        matches!(self.kind(), Self::CreateOutcomeUnknown { .. })
    }
}

/// `{}` prints the error's own sentence (never its `source()`, as is the convention); `{:#}`
/// prints the whole chain on one line, `sentence: cause: cause…`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.headline(f)?;
        if f.alternate() {
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                write!(f, ": {cause}")?;
                source = cause.source();
            }
        }
        Ok(())
    }
}

/// `Debug` prints what a user needs when `main` returns the error: the sentence and every cause
/// (as anyhow does), then the variant's name; never the API key or a presigned signature.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.headline(f)?;
        let mut source = std::error::Error::source(self);
        if source.is_some() {
            f.write_str("\n\nCaused by:")?;
        }
        while let Some(cause) = source {
            write!(f, "\n    {cause}")?;
            source = cause.source();
        }
        write!(
            f,
            "\n\n(dromo_client::Error::{})",
            self.kind().variant_name()
        )
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        fn boxed(e: &BoxError) -> &(dyn std::error::Error + 'static) {
            &**e
        }
        match self {
            Self::Config { source, .. }
            | Self::BadUrl { source, .. }
            | Self::Upload { source, .. }
            | Self::Download { source, .. }
            | Self::RateLimiterFailed { source, .. } => source.as_ref().map(boxed),
            Self::Decode { source, .. }
            | Self::RowMismatch { source, .. }
            | Self::Connection { source, .. }
            | Self::CreateOutcomeUnknown { source, .. }
            | Self::MalformedResults { source, .. } => Some(boxed(source)),
            Self::CallTimedOut { source, .. } => source
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            Self::File { source, .. } => Some(source),
            // The step's sentence already holds its cause's: hand on the cause's cause.
            Self::Step { source, .. } => source.source(),
            Self::InvalidRequest { .. }
            | Self::Unauthorized { .. }
            | Self::SchemaNotFound { .. }
            | Self::NotFound { .. }
            | Self::SessionGone { .. }
            | Self::NotReady { .. }
            | Self::Rejected { .. }
            | Self::RateLimited { .. }
            | Self::Server { .. }
            | Self::UnexpectedStatus { .. }
            | Self::UnusableFile { .. }
            | Self::WebhookInvalid { .. }
            | Self::WebhookUnknownImport { .. }
            | Self::WebhookStatusMismatch { .. } => None,
        }
    }
}

impl Error {
    /// The variant's name, for `Debug`.
    fn variant_name(&self) -> &'static str {
        match self {
            Self::Config { .. } => "Config",
            Self::InvalidRequest { .. } => "InvalidRequest",
            Self::Unauthorized { .. } => "Unauthorized",
            Self::SchemaNotFound { .. } => "SchemaNotFound",
            Self::NotFound { .. } => "NotFound",
            Self::SessionGone { .. } => "SessionGone",
            Self::NotReady { .. } => "NotReady",
            Self::Rejected { .. } => "Rejected",
            Self::RateLimited { .. } => "RateLimited",
            Self::Server { .. } => "Server",
            Self::UnexpectedStatus { .. } => "UnexpectedStatus",
            Self::Decode { .. } => "Decode",
            Self::RowMismatch { .. } => "RowMismatch",
            Self::BadUrl { .. } => "BadUrl",
            Self::Connection { .. } => "Connection",
            Self::CreateOutcomeUnknown { .. } => "CreateOutcomeUnknown",
            Self::CallTimedOut { .. } => "CallTimedOut",
            Self::MalformedResults { .. } => "MalformedResults",
            Self::Upload { .. } => "Upload",
            Self::Download { .. } => "Download",
            Self::File { .. } => "File",
            Self::UnusableFile { .. } => "UnusableFile",
            Self::Step { .. } => "Step",
            Self::WebhookInvalid { .. } => "WebhookInvalid",
            Self::WebhookUnknownImport { .. } => "WebhookUnknownImport",
            Self::WebhookStatusMismatch { .. } => "WebhookStatusMismatch",
            Self::RateLimiterFailed { .. } => "RateLimiterFailed",
        }
    }
}

/// A duration for a message: `1.5 s`, `120 s`.
pub(crate) fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{secs:.1} s")
    }
}

/// The steps of a whole headless import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// `POST /headless/imports/`.
    Create,
    /// `PUT` of the file to the presigned URL.
    Upload,
    /// Polling the import's status.
    Wait,
    /// Fetching the result URL and downloading the rows.
    Results,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Create => "create",
            Step::Upload => "upload",
            Step::Wait => "wait",
            Step::Results => "results",
        })
    }
}

/// The kind of a transport failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionFailure {
    /// The host name did not resolve.
    Dns,
    /// Nothing accepted the connection.
    Refused,
    /// No answer in time.
    Timeout,
    /// TLS handshake or certificate failure.
    Tls,
    /// The connection broke while sending or receiving.
    Broken,
}

impl ConnectionFailure {
    fn advice(self) -> &'static str {
        match self {
            Self::Dns => "check the base URL's host name and your DNS",
            Self::Refused => "check the base URL and that the server is up",
            Self::Timeout => "the server or network is slow; retry, or raise the timeout",
            Self::Tls => "check the base URL's scheme and the server's certificate",
            Self::Broken => "the connection dropped; retry",
        }
    }
}

impl fmt::Display for ConnectionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dns => "DNS lookup failed",
            Self::Refused => "connection refused",
            Self::Timeout => "timed out",
            Self::Tls => "TLS failure",
            Self::Broken => "connection broken",
        })
    }
}

/// What the server answered to a failed request: nothing of it is lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiResponse {
    /// HTTP status code.
    pub status: u16,
    /// The server's messages: `("detail", …)` for `{"detail": …}`, one entry per field for a
    /// Django REST field map (`{"initial_data": ["…"]}`), `("field.sub", …)` when nested; at
    /// most 50, each scrubbed of URL queries and credentials and cut to 300 characters.
    pub messages: Vec<(String, String)>,
    /// The body, truncated to 200 characters, scrubbed of URL queries and credentials.
    pub body: String,
    /// Whether the body was JSON.
    pub json: bool,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Retry-After` delay, if the server sent one (seconds or an HTTP date).
    pub retry_after: Option<Duration>,
}

impl ApiResponse {
    /// Builds the record of a response from its status, headers and (possibly partial) body.
    pub fn new(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> Self {
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
        let mut messages = Vec::new();
        if let Some(value) = &parsed {
            if !problem_details(value, &mut messages) {
                collect_messages(value, "", &mut messages);
            }
        }
        // Server text is scrubbed and bounded before it enters any message.
        messages.truncate(MAX_MESSAGES);
        for (field, message) in &mut messages {
            *field = scrub(field, MAX_MESSAGE_CHARS);
            *message = if crate::scrub::is_secret_field(field) {
                crate::scrub::REDACTED.to_owned()
            } else {
                scrub(message, MAX_MESSAGE_CHARS)
            };
        }
        Self {
            status,
            messages,
            body: snippet(body),
            json: parsed.is_some(),
            content_type,
            retry_after,
        }
    }

    /// The server's messages on one line, `field: message; …`, or the body's first characters
    /// when it is not a JSON error (an HTML page from a proxy, say).
    pub fn messages_or_snippet(&self) -> String {
        if !self.messages.is_empty() {
            let joined = self
                .messages
                .iter()
                .map(|(field, msg)| {
                    if field == "detail" || field.is_empty() {
                        msg.clone()
                    } else {
                        format!("{field}: {msg}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; ");
            return scrub(&joined, MAX_MESSAGES_CHARS);
        }
        if self.body.is_empty() {
            return "empty body".to_owned();
        }
        let kind = if self.json {
            "body".to_owned()
        } else {
            format!(
                "non-JSON body ({})",
                self.content_type.as_deref().unwrap_or("no content type")
            )
        };
        format!("{kind} `{}`", self.body)
    }

    /// `": server said …"` for messages appended to a sentence, or nothing.
    fn said(&self) -> String {
        let text = self.messages_or_snippet();
        if text == "empty body" {
            String::new()
        } else {
            format!(" (server said: {text})")
        }
    }

    fn retry_hint(&self) -> String {
        match self.retry_after {
            Some(d) => format!("retry after {} s (Retry-After); Dromo allows 20 creates per minute and 12 status polls per minute per import", d.as_secs()),
            None => "slow down and retry; Dromo allows 20 creates per minute and 12 status polls per minute per import".to_owned(),
        }
    }
}

/// Reads an RFC 7807 problem (`{"title", "status", "detail", ...}`, as Prism and some proxies
/// answer) into messages: one per entry of its `validation` list (`body.fields.0: must be…`),
/// else its `detail` or `title`. False when the body is not such a problem.
fn problem_details(value: &serde_json::Value, out: &mut Vec<(String, String)>) -> bool {
    let is_problem = value.get("title").is_some_and(serde_json::Value::is_string)
        && value
            .get("status")
            .is_some_and(serde_json::Value::is_number);
    if !is_problem {
        return false;
    }
    let entries = value.get("validation").and_then(|v| v.as_array());
    for entry in entries.into_iter().flatten() {
        let location = entry
            .get("location")
            .and_then(|l| l.as_array())
            .map(|parts| {
                let parts: Vec<String> = parts
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect();
                parts.join(".")
            })
            .unwrap_or_default();
        if let Some(message) = entry.get("message").and_then(|m| m.as_str()) {
            out.push((location, message.to_owned()));
        }
    }
    if out.is_empty() {
        let text = value
            .get("detail")
            .or_else(|| value.get("title"))
            .and_then(|v| v.as_str());
        out.push(("detail".to_owned(), text.unwrap_or_default().to_owned()));
    }
    true
}

fn collect_messages(value: &serde_json::Value, prefix: &str, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match value {
        Value::String(s) => out.push((
            if prefix.is_empty() {
                "detail".into()
            } else {
                prefix.to_owned()
            },
            s.clone(),
        )),
        Value::Array(items) => items.iter().for_each(|v| collect_messages(v, prefix, out)),
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                collect_messages(v, &key, out);
            }
        }
        other => out.push((
            if prefix.is_empty() {
                "detail".into()
            } else {
                prefix.to_owned()
            },
            other.to_string(),
        )),
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// The first [`SNIPPET_CHARS`] characters of a body, lossily decoded, on one line, scrubbed of
/// URL queries and credentials ([`crate::scrub`]).
pub fn snippet(body: &[u8]) -> String {
    // Decode only a bounded prefix: the rest would be cut anyway.
    let prefix = &body[..body.len().min(SNIPPET_CHARS * 4 * 4 + 16 * 1024)];
    let text = String::from_utf8_lossy(prefix);
    let mut out = crate::scrub::scrub(&text, SNIPPET_CHARS);
    if prefix.len() < body.len() && !out.ends_with('…') {
        out.push('…');
    }
    out
}

/// A server's error text, scrubbed, kept as the `source()` of an error in place of an error
/// whose `Display` would quote the server's data verbatim.
#[derive(Debug)]
pub(crate) struct ServerText(pub String);

impl fmt::Display for ServerText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerText {}

impl Error {
    /// The HTTP status of the answer behind this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        if let Some(response) = self.response() {
            return Some(response.status);
        }
        match self {
            Self::Decode { status, .. } => Some(*status),
            Self::Upload { status, .. }
            | Self::Download { status, .. }
            | Self::CreateOutcomeUnknown { status, .. } => *status,
            Self::CallTimedOut {
                source: Some(source),
                ..
            } => source.status(),
            Self::Step { source, .. } => source.status(),
            _ => None,
        }
    }

    /// The server's answer behind this error, if there was one.
    pub fn response(&self) -> Option<&ApiResponse> {
        match self {
            Self::Unauthorized { response }
            | Self::SchemaNotFound { response, .. }
            | Self::NotFound { response, .. }
            | Self::SessionGone { response, .. }
            | Self::Rejected { response }
            | Self::NotReady { response, .. }
            | Self::RateLimited { response }
            | Self::Server { response }
            | Self::UnexpectedStatus { response } => Some(response),
            Self::CreateOutcomeUnknown { response, .. } => response.as_deref(),
            Self::CallTimedOut {
                source: Some(source),
                ..
            } => source.response(),
            Self::Step { source, .. } => source.response(),
            _ => None,
        }
    }

    /// The underlying error, seen through the context of [`Error::Step`]: match on it.
    ///
    /// ```
    /// use dromo_client::Error;
    ///
    /// fn is_missing_schema(e: &Error) -> bool {
    ///     matches!(e.kind(), Error::SchemaNotFound { .. })
    /// }
    /// # let _ = is_missing_schema;
    /// ```
    pub fn kind(&self) -> &Error {
        match self {
            Self::Step { source, .. } => source.kind(),
            other => other,
        }
    }

    /// The step of a whole import that failed, if the error came from one.
    pub fn step(&self) -> Option<Step> {
        match self {
            Self::Step { step, .. } => Some(*step),
            _ => None,
        }
    }

    /// The import the error is about, once it was created: from a step's context, or the
    /// import a download or a lost create answer names.
    pub fn import_id(&self) -> Option<&str> {
        match self {
            Self::Step {
                import_id, source, ..
            } => import_id.as_deref().or_else(|| source.import_id()),
            Self::Download { import_id, .. } | Self::MalformedResults { import_id, .. } => {
                Some(import_id)
            }
            Self::CreateOutcomeUnknown { import_id, .. } => import_id.as_deref(),
            _ => None,
        }
    }

    /// Whether sending the same request again later may succeed (rate limits, server errors,
    /// timeouts, dropped connections). Never for a create that may have created the import
    /// ([`Error::CreateOutcomeUnknown`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. }
            | Self::Server { .. }
            | Self::CallTimedOut { .. }
            | Self::MalformedResults { .. } => true,
            Self::Connection { kind, .. } => {
                matches!(
                    kind,
                    ConnectionFailure::Timeout
                        | ConnectionFailure::Broken
                        | ConnectionFailure::Refused
                )
            }
            Self::Upload { retryable, .. }
            | Self::Download { retryable, .. }
            | Self::RateLimiterFailed { retryable, .. } => *retryable,
            Self::Step { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// Classifies a failed answer by its status, as this crate's own calls do: for requests
    /// made through [`Client::api`](crate::Client::api) or by hand.
    ///
    /// ```
    /// use dromo_client::{ApiResponse, Error};
    ///
    /// let headers = reqwest::header::HeaderMap::new();
    /// let answer = ApiResponse::new(401, &headers, br#"{"detail": "Invalid license key."}"#);
    /// let err = Error::from_api_response(answer);
    /// assert!(matches!(err, Error::Unauthorized { .. }));
    /// assert!(err.to_string().contains("Backend license key"));
    /// ```
    pub fn from_api_response(response: ApiResponse) -> Self {
        let context = RequestContext {
            resource: "the requested resource".to_owned(),
            ..RequestContext::default()
        };
        Self::from_response(response, &context)
    }

    /// How long the server asked to wait before retrying, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.response().and_then(|r| r.retry_after)
    }

    /// The error of a [`RateLimiter`](crate::bulk::RateLimiter) that cannot answer (its store
    /// is down, refuses, times out): for your own implementations of the trait, since the
    /// variants cannot be built outside this crate. `limiter` names it (never with a
    /// password); `reason` says what went wrong and what to do.
    ///
    /// ```
    /// use dromo_client::Error;
    ///
    /// let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let err = Error::rate_limiter_failed("etcd 10.0.0.7:2379", "connection refused: check that etcd is up", true, Some(io.into()));
    /// assert!(err.is_retryable());
    /// assert!(std::error::Error::source(&err).is_some());
    /// assert_eq!(err.to_string(), "rate limiter etcd 10.0.0.7:2379 failed, so nothing was sent: connection refused: check that etcd is up");
    /// ```
    pub fn rate_limiter_failed(
        limiter: impl Into<String>,
        reason: impl Into<String>,
        retryable: bool,
        source: Option<BoxError>,
    ) -> Self {
        Self::RateLimiterFailed {
            limiter: limiter.into(),
            reason: reason.into(),
            retryable,
            source,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config {
            message: message.into(),
            source: None,
        }
    }

    /// Classifies a transport error (no HTTP answer) by what failed, for `host`.
    pub(crate) fn connection(host: &str, error: reqwest::Error) -> Self {
        let kind = classify_transport(&error);
        Self::Connection {
            host: host.to_owned(),
            kind,
            source: Box::new(error),
        }
    }

    /// Classifies an unsuccessful answer by status.
    pub(crate) fn from_response(response: ApiResponse, context: &RequestContext) -> Self {
        match response.status {
            401 | 403 => Self::Unauthorized { response },
            404 => match &context.schema_id {
                Some(schema_id) => Self::SchemaNotFound {
                    schema_id: schema_id.clone(),
                    response,
                },
                None => Self::NotFound {
                    resource: context.resource.clone(),
                    response,
                },
            },
            400 | 422 => Self::Rejected { response },
            429 => Self::RateLimited { response },
            500..=599 => Self::Server { response },
            _ => Self::UnexpectedStatus { response },
        }
    }
}

/// Finds the kind of a transport failure by walking the error's sources.
pub(crate) fn classify_transport(error: &reqwest::Error) -> ConnectionFailure {
    if error.is_timeout() {
        return ConnectionFailure::Timeout;
    }
    let mut text = String::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return ConnectionFailure::Refused,
                std::io::ErrorKind::TimedOut => return ConnectionFailure::Timeout,
                _ => {}
            }
        }
        text.push_str(&e.to_string().to_lowercase());
        text.push(' ');
        source = e.source();
    }
    if text.contains("dns")
        || text.contains("failed to lookup")
        || text.contains("name or service not known")
        || text.contains("resolve")
    {
        ConnectionFailure::Dns
    } else if text.contains("refused") {
        ConnectionFailure::Refused
    } else if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
        ConnectionFailure::Tls
    } else if text.contains("timed out") || text.contains("timeout") {
        ConnectionFailure::Timeout
    } else {
        ConnectionFailure::Broken
    }
}

/// What a request was about, so errors can name it.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestContext {
    /// The API host, for connection errors.
    pub host: String,
    /// What the request addressed, e.g. "headless import 1234".
    pub resource: String,
    /// The saved schema id a create sent, so a 404 names it.
    pub schema_id: Option<String>,
}

/// Every rule a request breaks, each naming the field and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Violations(pub Vec<Violation>);

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Violation {
    /// The field, e.g. `fields[2].key`.
    pub field: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} problem{}: ",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "`{}` {}", v.field, v.message)?;
        }
        Ok(())
    }
}

/// Decodes a JSON body into `T`, reporting the JSON path where decoding failed.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    status: u16,
    body: &[u8],
) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = scrub(&e.path().to_string(), MAX_MESSAGE_CHARS);
        // serde's message quotes the offending value, which may be a presigned URL.
        let message = scrub(&e.into_inner().to_string(), MAX_MESSAGE_CHARS);
        Error::Decode {
            status,
            path,
            source: Box::new(ServerText(message.clone())),
            message,
            snippet: snippet(body),
        }
    })
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a response body.
pub(crate) async fn read_limited(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    body
}

/// Turns progenitor's error for an operation returning `T` into ours.
pub(crate) async fn from_progenitor<T, E>(
    error: progenitor_client::Error<E>,
    context: &RequestContext,
) -> Error
where
    T: serde::de::DeserializeOwned,
    E: fmt::Debug,
{
    use progenitor_client::Error as P;
    match error {
        P::CommunicationError(e) | P::ResponseBodyError(e) => Error::connection(&context.host, e),
        P::ErrorResponse(response) => {
            // A documented error status without a documented body: progenitor did not read it.
            let record = ApiResponse::new(response.status().as_u16(), response.headers(), b"");
            Error::from_response(record, context)
        }
        P::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = read_limited(response).await;
            let record = ApiResponse::new(status, &headers, &body);
            if (200..300).contains(&status) {
                // A success status progenitor did not expect: decode it for the path anyway.
                match decode_json::<T>(status, &body) {
                    Err(e) => e,
                    Ok(_) => Error::UnexpectedStatus { response: record },
                }
            } else {
                Error::from_response(record, context)
            }
        }
        P::InvalidResponsePayload(bytes, json_error) => match decode_json::<T>(200, &bytes) {
            Err(e) => e,
            Ok(_) => {
                let message = scrub(&json_error.to_string(), MAX_MESSAGE_CHARS);
                Error::Decode {
                    status: 200,
                    path: ".".into(),
                    source: Box::new(ServerText(message.clone())),
                    message,
                    snippet: snippet(&bytes),
                }
            }
        },
        P::InvalidRequest(message) => Error::InvalidRequest {
            violations: Violations(vec![Violation::new("request", message)]),
        },
        other => Error::Config {
            message: format!("the request could not be made: {other}"),
            source: None,
        },
    }
}

/// What one generated operation was asked to do: recorded by every generated `send` (see
/// `src/codegen/errors.rs`) before the builder is consumed, so its error can name it.
#[doc(hidden)]
#[derive(Debug)]
pub struct Operation {
    /// progenitor's operation id, e.g. `retrieve_headless_import`.
    pub operation_id: &'static str,
    /// The HTTP method, e.g. `GET`.
    pub method: &'static str,
    /// The path template, e.g. `/headless/imports/{id}/`.
    pub path: &'static str,
    /// The client's base URL.
    pub baseurl: String,
    /// Each path parameter's name and value (or why the builder has none).
    pub params: Vec<(&'static str, Result<String, String>)>,
}

/// A builder field's value as text, for [`Operation::params`].
#[doc(hidden)]
pub fn param_text<V: fmt::Display>(value: &Result<V, String>) -> Result<String, String> {
    value
        .as_ref()
        .map(ToString::to_string)
        .map_err(Clone::clone)
}

impl Operation {
    /// The host (and port) of the base URL, for connection errors.
    fn host(&self) -> String {
        match reqwest::Url::parse(&self.baseurl) {
            Ok(url) => match (url.host_str(), url.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                _ => self.baseurl.clone(),
            },
            Err(_) => self.baseurl.clone(),
        }
    }

    /// What the request addresses, e.g. "saved schema 94187d21-…", derived from the path: the
    /// collection named before the first parameter, with the parameter's value.
    fn resource(&self) -> String {
        let Some((before, _)) = self.path.split_once('{') else {
            if self.operation_id == "create_headless_import" {
                // Create's documented 404: the saved schema it names does not exist.
                return "the saved schema named by `schemaId`".to_owned();
            }
            return format!("`{} {}`", self.method, self.path);
        };
        let segments: Vec<&str> = before.split('/').filter(|s| !s.is_empty()).collect();
        let noun = match segments.as_slice() {
            [.., "schemas"] => "saved schema".to_owned(),
            [.., "headless", "imports"] => "headless import".to_owned(),
            [.., "upload"] | [.., "uploads"] => "upload".to_owned(),
            [.., "sftp", "credentials"] => "SFTP credentials".to_owned(),
            [.., "sftp", "connectors"] => "SFTP connector".to_owned(),
            // The Sessions API: `/{sessionId}/auth/`, `/{sessionId}/`.
            [] if self.operation_id.ends_with("_session") => "session".to_owned(),
            // An operation added by a spec update: its collection, in the singular.
            [.., last] => last.strip_suffix('s').unwrap_or(last).replace('_', " "),
            [] => "resource".to_owned(),
        };
        match self.params.first() {
            Some((_, Ok(value))) => format!("{noun} {value}"),
            _ => noun,
        }
    }

    fn context(&self) -> RequestContext {
        RequestContext {
            host: self.host(),
            resource: self.resource(),
            schema_id: None,
        }
    }
}

/// Maps the outcome of a generated operation's `send` into ours: used by every generated
/// operation (through `src/codegen/errors.rs`), never written per operation.
#[doc(hidden)]
pub async fn from_generated<T, E>(
    result: Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>,
    operation: Operation,
) -> Result<progenitor_client::ResponseValue<T>, Error>
where
    T: serde::de::DeserializeOwned,
    E: fmt::Debug,
{
    let error = match result {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    if let progenitor_client::Error::InvalidRequest(message) = &error {
        // A parameter the builder could not take (a bad id string, or none given).
        let (field, problem) = match operation.params.iter().find(|(_, v)| v.is_err()) {
            Some((name, Err(why))) => ((*name).to_owned(), why.clone()),
            _ => (
                invalid_field(message).unwrap_or_else(|| "request".to_owned()),
                message.clone(),
            ),
        };
        let message = format!(
            "{problem}: give `{field}` a valid value (ids are UUIDs like 94187d21-9820-420f-b08c-a80cbbf52604); `{} {}` was not sent",
            operation.method, operation.path
        );
        return Err(Error::InvalidRequest {
            violations: Violations(vec![Violation::new(
                field,
                scrub(&message, MAX_MESSAGE_CHARS),
            )]),
        });
    }
    let context = operation.context();
    let mapped = from_progenitor::<T, E>(error, &context).await;
    Err(match mapped {
        Error::Rejected { response }
            if operation.operation_id == "get_headless_import_url" && response.status == 400 =>
        {
            // Dromo answers 400 `Import is not complete.` for the results of an unfinished import.
            Error::NotReady {
                resource: context.resource,
                response,
            }
        }
        Error::NotFound { response, .. } if operation.operation_id == "resume_session" => {
            // Dromo's documented 404 of a resume: the session is gone or expired.
            Error::SessionGone {
                session_id: match operation.params.first() {
                    Some((_, Ok(id))) => id.clone(),
                    _ => "(unknown id)".to_owned(),
                },
                response,
            }
        }
        other => other,
    })
}

/// The field progenitor names in an `InvalidRequest` message: "id was not initialized",
/// "conversion to `X` for body failed: …".
fn invalid_field(message: &str) -> Option<String> {
    if let Some(field) = message.strip_suffix(" was not initialized") {
        return Some(field.to_owned());
    }
    let after = message.split(" for ").nth(1)?;
    Some(after.split(' ').next()?.to_owned())
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    /// The messages of an error's chain, outermost first (what anyhow's `{:#}` joins).
    fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut source = e.source();
        while let Some(s) = source {
            out.push(s.to_string());
            source = s.source();
        }
        out
    }

    fn io_error() -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file or directory (os error 2)",
        )
    }

    #[test]
    fn display_never_repeats_the_source() {
        let parse_error = reqwest::Url::parse("::not a url").unwrap_err();
        let file = Error::File {
            path: "/no/such.csv".into(),
            source: io_error(),
        };
        let errors = vec![
            Error::Config {
                message: "the base URL `::not a url` is not a URL; use e.g. https://x".into(),
                source: Some(Box::new(parse_error)),
            },
            Error::BadUrl {
                what: "presigned URL".into(),
                reason: "it does not parse as a URL".into(),
                source: Some(Box::new(parse_error)),
            },
            Error::Decode {
                status: 200,
                path: "status".into(),
                message: "unknown variant `WEIRD`".into(),
                snippet: "{\"status\": \"WEIRD\"}".into(),
                source: Box::new(ServerText("unknown variant `WEIRD`".into())),
            },
            Error::RowMismatch {
                index: 0,
                path: "[0].age".into(),
                message: "invalid type: string \"36\", expected u32".into(),
                source: Box::new(ServerText(
                    "invalid type: string \"36\", expected u32".into(),
                )),
            },
            Error::Step {
                step: Step::Upload,
                import_id: None,
                source: Box::new(file),
            },
            Error::Step {
                step: Step::Results,
                import_id: Some("94187d21-9820-420f-b08c-a80cbbf52604".into()),
                source: Box::new(Error::File {
                    path: "/no/such.csv".into(),
                    source: io_error(),
                }),
            },
        ];
        for error in &errors {
            let messages = chain(error);
            assert!(messages.len() >= 2, "{messages:?}");
            for (i, later) in messages.iter().enumerate().skip(1) {
                for earlier in &messages[..i] {
                    assert!(
                        !earlier.contains(later.as_str()),
                        "`{earlier}` repeats its source `{later}`"
                    );
                }
            }
            let joined = messages.join(": ");
            assert!(
                joined.contains("os error 2")
                    || joined.contains("WEIRD")
                    || joined.contains("\"36\"")
                    || joined.contains("relative URL")
                    || joined.contains("invalid"),
                "the cause is still in the chain: {joined}"
            );
        }
    }

    #[test]
    fn kind_step_and_import_id_see_through_the_step() {
        let headers = reqwest::header::HeaderMap::new();
        let inner = Error::SchemaNotFound {
            schema_id: "s".into(),
            response: ApiResponse::new(404, &headers, b""),
        };
        let wrapped = Error::Step {
            step: Step::Create,
            import_id: None,
            source: Box::new(inner),
        };
        assert!(matches!(wrapped.kind(), Error::SchemaNotFound { .. }));
        assert_eq!(wrapped.step(), Some(Step::Create));
        assert_eq!(wrapped.import_id(), None);
        assert_eq!(wrapped.status(), Some(404));
        let later = Error::Step {
            step: Step::Wait,
            import_id: Some("abc".into()),
            source: Box::new(Error::config("x")),
        };
        assert_eq!(later.import_id(), Some("abc"));
        assert!(matches!(later.kind(), Error::Config { .. }));
        // The step is context: its line carries its cause's.
        assert_eq!(
            later.to_string(),
            "wait step of import abc failed: invalid client configuration: x"
        );
    }
}

#[cfg(test)]
mod truth_tests {
    use super::*;

    /// The text of every cause below: it must show however the README prints an error.
    const CAUSE: &str = "the-cause-7731";

    fn cause() -> BoxError {
        Box::new(ServerText(CAUSE.into()))
    }

    fn answer(status: u16) -> ApiResponse {
        let body = format!(r#"{{"detail": "{CAUSE}"}}"#);
        ApiResponse::new(status, &reqwest::header::HeaderMap::new(), body.as_bytes())
    }

    /// One error of every variant, each with [`CAUSE`] as its underlying cause (its source,
    /// or the server's message, or the reason it carries).
    fn every_variant() -> Vec<Error> {
        let all = vec![
            Error::Config {
                message: "bad".into(),
                source: Some(cause()),
            },
            Error::InvalidRequest {
                violations: Violations(vec![Violation::new("fields", CAUSE)]),
            },
            Error::Unauthorized {
                response: answer(401),
            },
            Error::SchemaNotFound {
                schema_id: "s".into(),
                response: answer(404),
            },
            Error::NotFound {
                resource: "headless import x".into(),
                response: answer(404),
            },
            Error::SessionGone {
                session_id: "s-1".into(),
                response: answer(404),
            },
            Error::NotReady {
                resource: "headless import x".into(),
                response: answer(400),
            },
            Error::Rejected {
                response: answer(422),
            },
            Error::RateLimited {
                response: answer(429),
            },
            Error::Server {
                response: answer(503),
            },
            Error::UnexpectedStatus {
                response: answer(418),
            },
            Error::Decode {
                status: 200,
                path: "status".into(),
                message: CAUSE.into(),
                snippet: "{}".into(),
                source: cause(),
            },
            Error::RowMismatch {
                index: 1,
                path: "[1].age".into(),
                message: CAUSE.into(),
                source: cause(),
            },
            Error::BadUrl {
                what: "presigned URL".into(),
                reason: "it does not parse".into(),
                source: Some(cause()),
            },
            Error::Connection {
                host: "h".into(),
                kind: ConnectionFailure::Broken,
                source: cause(),
            },
            Error::CreateOutcomeUnknown {
                host: "h".into(),
                kind: Some(ConnectionFailure::Broken),
                status: None,
                import_id: None,
                response: None,
                source: cause(),
            },
            Error::CreateOutcomeUnknown {
                host: "h".into(),
                kind: None,
                status: Some(500),
                import_id: None,
                response: Some(Box::new(answer(500))),
                source: cause(),
            },
            Error::CallTimedOut {
                what: "retrieve import".into(),
                bound: Duration::from_secs(1),
                attempts: 2,
                source: Some(Box::new(Error::Server {
                    response: answer(503),
                })),
            },
            Error::MalformedResults {
                import_id: "i".into(),
                index: 2,
                message: CAUSE.into(),
                source: cause(),
            },
            Error::Upload {
                file: "a.csv".into(),
                reason: "S3 refused it".into(),
                status: Some(403),
                code: None,
                retryable: false,
                source: Some(cause()),
            },
            Error::Download {
                import_id: "i".into(),
                reason: "it broke".into(),
                status: None,
                retryable: true,
                source: Some(cause()),
            },
            Error::File {
                path: "/no/such.csv".into(),
                source: std::io::Error::other(CAUSE),
            },
            Error::UnusableFile {
                path: "a.csv".into(),
                reason: CAUSE.into(),
            },
            Error::Step {
                step: Step::Upload,
                import_id: Some("i".into()),
                source: Box::new(Error::Connection {
                    host: "h".into(),
                    kind: ConnectionFailure::Broken,
                    source: cause(),
                }),
            },
            Error::WebhookInvalid {
                reason: CAUSE.into(),
            },
            Error::WebhookUnknownImport {
                import_id: CAUSE.into(),
            },
            Error::WebhookStatusMismatch {
                import_id: "i".into(),
                claimed: "SUCCESSFUL".into(),
                actual: CAUSE.into(),
            },
            Error::RateLimiterFailed {
                limiter: "l".into(),
                reason: "down".into(),
                retryable: true,
                source: Some(cause()),
            },
        ];
        // No wildcard: a new variant does not compile until it is added above.
        for error in &all {
            match error {
                Error::Config { .. }
                | Error::InvalidRequest { .. }
                | Error::Unauthorized { .. }
                | Error::SchemaNotFound { .. }
                | Error::NotFound { .. }
                | Error::SessionGone { .. }
                | Error::NotReady { .. }
                | Error::Rejected { .. }
                | Error::RateLimited { .. }
                | Error::Server { .. }
                | Error::UnexpectedStatus { .. }
                | Error::Decode { .. }
                | Error::RowMismatch { .. }
                | Error::BadUrl { .. }
                | Error::Connection { .. }
                | Error::CreateOutcomeUnknown { .. }
                | Error::CallTimedOut { .. }
                | Error::MalformedResults { .. }
                | Error::Upload { .. }
                | Error::Download { .. }
                | Error::File { .. }
                | Error::UnusableFile { .. }
                | Error::Step { .. }
                | Error::WebhookInvalid { .. }
                | Error::WebhookUnknownImport { .. }
                | Error::WebhookStatusMismatch { .. }
                | Error::RateLimiterFailed { .. } => {}
            }
        }
        all
    }

    #[test]
    fn every_variant_printed_the_readme_way_shows_its_cause() {
        for error in every_variant() {
            let name = error.variant_name();
            // The README's way: `{:#}`, the whole chain on one line.
            let chained = format!("{error:#}");
            assert!(chained.contains(CAUSE), "{name}: {chained}");
            assert!(!chained.contains('\n'), "{name}: one line: {chained}");
            // `main() -> Result<(), Error>` prints `Debug`: the chain too, not a struct dump.
            let debug = format!("{error:?}");
            assert!(debug.contains(CAUSE), "{name}: {debug}");
            assert!(!debug.contains("source:"), "{name}: {debug}");
            // Inside a whole import's step, the same, and `{}` shows the cause's own line.
            let headline = error.to_string();
            let stepped = Error::Step {
                step: Step::Results,
                import_id: Some("i-1".into()),
                source: Box::new(error),
            };
            assert!(
                format!("{stepped:#}").contains(CAUSE),
                "{name}: {stepped:#}"
            );
            assert!(stepped.to_string().contains(&headline), "{name}: {stepped}");
        }
    }

    #[test]
    fn no_chain_repeats_a_line() {
        for error in every_variant() {
            let mut lines = vec![error.to_string()];
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                lines.push(cause.to_string());
                source = cause.source();
            }
            for (i, later) in lines.iter().enumerate().skip(1) {
                for earlier in &lines[..i] {
                    assert!(
                        !earlier.contains(later.as_str()),
                        "{earlier} repeats {later}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_step_says_nothing_was_created_only_when_certain() {
        for error in every_variant() {
            let certain = error.created_nothing();
            let name = error.variant_name();
            let stepped = Error::Step {
                step: Step::Create,
                import_id: None,
                source: Box::new(error),
            };
            let text = stepped.to_string();
            assert_eq!(
                text.contains("no import was created"),
                certain,
                "{name}: {text}"
            );
            assert!(!text.contains("before any import"), "{text}");
            if stepped.may_have_created_import() {
                assert!(!certain && !stepped.is_retryable(), "{name}");
                assert!(text.contains("may have been created"), "{text}");
                assert!(text.contains("client.list_imports()"), "{text}");
            }
        }
    }
}
