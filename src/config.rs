//! Client configuration: API key, base URL, timeouts, HTTP clients.

use crate::error::{Error, RequestContext};
use crate::generated;
use crate::retry::RetryPolicy;
use reqwest::header::{HeaderName, HeaderValue};
use std::fmt;
use std::time::Duration;

/// Dromo's production API.
pub const DEFAULT_BASE_URL: &str = "https://app.dromo.io/api/v1";
/// The header that carries the key.
pub const API_KEY_HEADER: &str = "X-Dromo-License-Key";
/// Environment variable read by [`Client::from_env`] for the key.
pub const API_KEY_ENV: &str = "DROMO_API_KEY";
/// Environment variable read by [`Client::from_env`] for the base URL.
pub const BASE_URL_ENV: &str = "DROMO_BASE_URL";
/// The default total timeout of one API call.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The default bound of one whole API call, retries included ([`ClientBuilder::call_timeout`]):
/// 120 s, or the request timeout when that is set longer.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("dromo-client/", env!("CARGO_PKG_VERSION"));

/// The API key and the one origin it may be sent to. Used by the generated client's request
/// hook ([`authenticate`]); its `Debug` never shows the key.
#[derive(Clone)]
pub struct ApiAuth {
    key: HeaderValue,
    origin: reqwest::Url,
}

impl fmt::Debug for ApiAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiAuth")
            .field("key", &"<redacted>")
            .field("origin", &self.origin.origin().ascii_serialization())
            .finish()
    }
}

/// The generated client's pre-request hook: adds the key, marked sensitive, to requests for
/// the configured API origin, and to nothing else.
pub fn authenticate(auth: &ApiAuth, request: &mut reqwest::Request) {
    if same_origin(request.url(), &auth.origin) {
        request.headers_mut().insert(KEY_HEADER, auth.key.clone());
    }
}

/// With the `rustls-ring` feature alone, reqwest's rustls has no crypto provider of its own:
/// ring becomes the process's default rustls provider, unless the program installed one.
fn install_ring_provider() {
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one meanwhile: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// [`API_KEY_HEADER`], lower-cased as HTTP/2 needs, built once.
const KEY_HEADER: HeaderName = HeaderName::from_static("x-dromo-license-key");

/// `a.origin() == b.origin()` without building (and allocating) the two origins on every
/// request: same scheme, host and port, for the schemes whose origin is that tuple (any other
/// scheme's origin is opaque, equal to no other).
fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    matches!(a.scheme(), "http" | "https" | "ws" | "wss" | "ftp")
        && a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A Dromo API client. Cheap to clone: clones share connections.
///
/// ```no_run
/// # async fn run() -> Result<(), dromo_client::Error> {
/// let client = dromo_client::Client::builder().api_key("backend-key").build()?;
/// let schemas = client.api().list_import_schemas().send().await;
/// # let _ = schemas; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    api: generated::Client,
    /// The Sessions API's generated client: the same HTTP client and key hook, on the same
    /// origin (see `src/sessions.rs`).
    sessions: generated::sessions::Client,
    transfer: reqwest::Client,
    base_url: reqwest::Url,
    transfer_stall_timeout: Option<Duration>,
    retry: RetryPolicy,
    /// The total timeout of API calls, when this crate built the HTTP client.
    request_timeout: Option<Duration>,
    /// The bound of one whole API call, retries included (`None`: no bound of ours).
    call_timeout: Option<Duration>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &"<redacted>")
            .finish()
    }
}

/// Builds a [`Client`]. Get one with [`Client::builder`].
///
/// ```
/// use std::time::Duration;
///
/// let client = dromo_client::Client::builder()
///     .api_key("backend-key")
///     .base_url("https://app.dromo.io/api/v1")
///     .connect_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(30))
///     .build()
///     .expect("valid configuration");
/// assert!(!format!("{client:?}").contains("backend-key"));
/// ```
#[derive(Default)]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: Option<String>,
    sessions_base_url: Option<String>,
    connect_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    transfer_stall_timeout: Option<Option<Duration>>,
    http_client: Option<reqwest::Client>,
    transfer_client: Option<reqwest::Client>,
    retry: Option<RetryPolicy>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("base_url", &self.base_url)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The **Backend** license key from the Dromo dashboard (not the frontend key).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The API base URL; default [`DEFAULT_BASE_URL`]. A trailing `/` is ignored.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The Sessions API's base URL, when the rule that derives it from the base URL
    /// ([`sessions_base_url_for`](crate::sessions_base_url_for)) does not fit your proxy. It
    /// must be on the base URL's origin (scheme, host, port): the key is sent to that origin
    /// only.
    pub fn sessions_base_url(mut self, url: impl Into<String>) -> Self {
        self.sessions_base_url = Some(url.into());
        self
    }

    /// How long to wait for a TCP/TLS connection; default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The total time one API call may take; default 120 s (a create may carry 15 MB of rows).
    /// Uploads and downloads do not use it: they fail only when the transfer stalls.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The bound of one whole API call (a retrieve, a create, the result URL, a page of a
    /// list, one status poll), **retries included**: however slowly an answer drips in and
    /// however often it is retried, the call returns by then, with [`Error::CallTimedOut`]
    /// (or, for a create that may have reached Dromo, [`Error::CreateOutcomeUnknown`]).
    /// Default [`DEFAULT_CALL_TIMEOUT`] (120 s), or the request timeout when that is longer;
    /// with your own [`http_client`](Self::http_client), no bound unless you set one (your
    /// client's timeouts apply).
    /// Uploads and result downloads are bounded by the stall timeout instead
    /// ([`transfer_stall_timeout`](Self::transfer_stall_timeout)); a whole wait by
    /// [`WaitOptions::with_max_wait`](crate::WaitOptions::with_max_wait).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let client = dromo_client::Client::builder()
    ///     .api_key("backend-key")
    ///     .call_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// # let _ = client; Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn call_timeout(mut self, bound: Duration) -> Self {
        self.call_timeout = Some(bound);
        self
    }

    /// How failed idempotent requests (status polls, the result URL and download, upload
    /// attempts, retrieves) are retried; default [`RetryPolicy::default`]. Creates are never
    /// retried once their body may have reached Dromo.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// How long an upload or download may go without a byte moving, in either direction,
    /// before the attempt fails; default 60 s. A transfer that keeps moving never times out,
    /// however long it takes.
    pub fn transfer_stall_timeout(mut self, timeout: Duration) -> Self {
        self.transfer_stall_timeout = Some(Some(timeout));
        self
    }

    /// Turns the stall watchdog of uploads and downloads off: only the transfer client's own
    /// timeouts apply. For a transfer client with its own policy, or for tests on tokio's
    /// paused clock, where an armed watchdog fires as soon as the runtime idles.
    pub fn without_transfer_stall_timeout(mut self) -> Self {
        self.transfer_stall_timeout = Some(None);
        self
    }

    /// Use this `reqwest::Client` for API calls instead of building one. Its own timeouts,
    /// proxy and redirect policy apply; the key is still added only to API-origin requests,
    /// but a redirect policy that follows other origins would carry it there: keep the
    /// default same-origin policy of clients this builder makes, or `Policy::none()`.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Use this `reqwest::Client` for uploads and result downloads (presigned S3 URLs). It
    /// should have no total timeout.
    pub fn transfer_client(mut self, client: reqwest::Client) -> Self {
        self.transfer_client = Some(client);
        self
    }

    /// Builds the client. Never panics; a bad setting is an [`Error::Config`].
    pub fn build(self) -> Result<Client, Error> {
        let key = self
            .api_key
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| Error::config("no API key: set one with `api_key(..)` or the DROMO_API_KEY variable (the Backend license key from the Dromo dashboard)"))?;
        let mut key = HeaderValue::from_str(key.trim())
            .map_err(|_| Error::config("the API key contains characters that cannot go in an HTTP header; copy it again from the Dromo dashboard"))?;
        key.set_sensitive(true);

        let raw_base = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let trimmed = raw_base.trim().trim_end_matches('/').to_owned();
        let base_url = reqwest::Url::parse(&trimmed).map_err(|e| Error::Config {
            message: format!("the base URL `{trimmed}` is not a URL; use e.g. {DEFAULT_BASE_URL}"),
            source: Some(Box::new(e)),
        })?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host_str().is_none() {
            return Err(Error::config(format!(
                "the base URL `{trimmed}` must be an http(s) URL with a host, e.g. {DEFAULT_BASE_URL}"
            )));
        }
        if base_url.query().is_some() || base_url.fragment().is_some() {
            return Err(Error::config(format!(
                "the base URL `{trimmed}` must not have a query or fragment"
            )));
        }

        let sessions_base_url = match &self.sessions_base_url {
            None => crate::sessions::sessions_base_url_for(&base_url),
            Some(raw) => {
                let trimmed = raw.trim().trim_end_matches('/');
                let url = reqwest::Url::parse(trimmed).map_err(|e| Error::Config {
                    message: format!("the sessions base URL `{trimmed}` is not a URL"),
                    source: Some(Box::new(e)),
                })?;
                if url.origin() != base_url.origin()
                    || url.query().is_some()
                    || url.fragment().is_some()
                {
                    return Err(Error::config(format!(
                        "the sessions base URL `{trimmed}` must be on the base URL's origin ({}), without a query: the key is sent to that origin only",
                        base_url.origin().ascii_serialization()
                    )));
                }
                url
            }
        };

        install_ring_provider();
        let connect_timeout = self.connect_timeout.unwrap_or(Duration::from_secs(10));
        let stall = self
            .transfer_stall_timeout
            .unwrap_or(Some(Duration::from_secs(60)));
        let request_timeout = match &self.http_client {
            Some(_) => None,
            None => Some(self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT)),
        };
        let http = match self.http_client {
            Some(client) => client,
            None => {
                let origin = base_url.origin();
                reqwest::Client::builder()
                    .user_agent(USER_AGENT)
                    .connect_timeout(connect_timeout)
                    .timeout(self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT))
                    // Follow redirects only within the API origin: the key must not leave it.
                    .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                        if attempt.previous().len() >= 5 || attempt.url().origin() != origin {
                            attempt.stop()
                        } else {
                            attempt.follow()
                        }
                    }))
                    .build()
                    .map_err(|e| Error::Config {
                        message: "cannot build the HTTP client".to_owned(),
                        source: Some(Box::new(e)),
                    })?
            }
        };
        let transfer = match self.transfer_client {
            Some(client) => client,
            None => reqwest::Client::builder()
                .user_agent(USER_AGENT)
                .connect_timeout(connect_timeout)
                // No total timeout and no read timeout: reqwest's read timeout runs from the
                // moment the request is sent until the response head arrives, so it would fail
                // any upload longer than it while bytes are flowing. The transfers watch for
                // stalls themselves (no byte moved in either direction).
                .build()
                .map_err(|e| Error::Config {
                    message: "cannot build the HTTP client".to_owned(),
                    source: Some(Box::new(e)),
                })?,
        };
        let auth = ApiAuth {
            key,
            origin: base_url.clone(),
        };
        let sessions = generated::sessions::Client::new_with_client(
            sessions_base_url.as_str().trim_end_matches('/'),
            http.clone(),
            auth.clone(),
        );
        let api =
            generated::Client::new_with_client(base_url.as_str().trim_end_matches('/'), http, auth);
        Ok(Client {
            api,
            sessions,
            transfer,
            base_url,
            transfer_stall_timeout: stall,
            retry: self.retry.unwrap_or_default(),
            // A caller's own HTTP client keeps its own timeouts, unless a bound is set.
            call_timeout: self
                .call_timeout
                .or_else(|| request_timeout.map(|t| t.max(DEFAULT_CALL_TIMEOUT))),
            request_timeout,
        })
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: `DROMO_API_KEY` (required) and
    /// `DROMO_BASE_URL` (optional, default [`DEFAULT_BASE_URL`]).
    ///
    /// ```no_run
    /// let client = dromo_client::Client::from_env()?;
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn from_env() -> Result<Client, Error> {
        let key = std::env::var(API_KEY_ENV).map_err(|_| {
            Error::config(
                "DROMO_API_KEY is not set: export the Backend license key from the Dromo dashboard",
            )
        })?;
        if key.trim().is_empty() {
            return Err(Error::config(
                "DROMO_API_KEY is set but empty: export the Backend license key from the Dromo dashboard in it",
            ));
        }
        let mut builder = Client::builder().api_key(key);
        if let Ok(url) = std::env::var(BASE_URL_ENV) {
            if !url.trim().is_empty() {
                builder = builder.base_url(url);
            }
        }
        builder.build()
    }

    /// The generated client: every operation of Dromo's API, with the key added.
    ///
    /// Every operation's `send` returns this crate's [`Error`], like the hand-written calls.
    pub fn api(&self) -> &generated::Client {
        &self.api
    }

    /// The generated client of Dromo's Sessions API (`sessions-openapi.json`): its three
    /// operations, with the key added, on [`sessions_base_url`](Self::sessions_base_url).
    /// [`create_session`](Self::create_session) and its siblings add the checks around them.
    pub fn sessions_api(&self) -> &generated::sessions::Client {
        &self.sessions
    }

    /// The Sessions API's base URL, e.g. `https://app.dromo.io/api/widget/session/v2`.
    ///
    /// ```
    /// let client = dromo_client::Client::builder()
    ///     .api_key("backend-key")
    ///     .base_url("http://127.0.0.1:4010/api/v1")
    ///     .build()?;
    /// assert_eq!(client.sessions_base_url(), "http://127.0.0.1:4010/api/widget/session/v2");
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn sessions_base_url(&self) -> &str {
        &self.sessions.baseurl
    }

    /// The API base URL, e.g. `https://app.dromo.io/api/v1`.
    pub fn base_url(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }

    /// The HTTP client used for presigned URLs (uploads, result downloads): it never carries
    /// the key.
    pub(crate) fn transfer(&self) -> &reqwest::Client {
        &self.transfer
    }

    /// The stall timeout of uploads and downloads (`None`: no watchdog).
    pub(crate) fn stall_timeout(&self) -> Option<Duration> {
        self.transfer_stall_timeout
    }

    /// The retry policy of idempotent requests.
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The bound of one whole API call, retries included (`Duration::MAX`: none).
    pub(crate) fn call_timeout(&self) -> Duration {
        self.call_timeout.unwrap_or(Duration::MAX)
    }

    /// How long one API call may take at most: the configured request timeout, or the default
    /// when the caller supplied the HTTP client (its own timeout is unknown).
    pub(crate) fn request_timeout_or_default(&self) -> Duration {
        self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT)
    }

    /// The context of a request about `resource`, for errors.
    pub(crate) fn context(&self, resource: impl Into<String>) -> RequestContext {
        let host = match (self.base_url.host_str(), self.base_url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => self.base_url.as_str().to_owned(),
        };
        RequestContext {
            host,
            resource: resource.into(),
            schema_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    /// Whatever the TLS feature (`rustls`, `rustls-ring`, `native-tls`), the HTTPS clients
    /// build: with `rustls-ring` alone, reqwest would panic without a crypto provider.
    #[test]
    fn a_client_builds_with_each_tls_feature() {
        let client = crate::Client::builder().api_key("key").build().unwrap();
        assert!(client.base_url().starts_with("https://"));
    }

    #[test]
    fn same_origin_agrees_with_url_origin() {
        let urls = [
            "https://app.dromo.io/api/v1",
            "https://app.dromo.io:443/other",
            "https://APP.dromo.io/x",
            "https://app.dromo.io:8443/api/v1",
            "http://app.dromo.io/api/v1",
            "https://s3.amazonaws.com/k",
            "https://user:pw@app.dromo.io/",
            "http://127.0.0.1:8080/a",
            "http://127.0.0.1:8081/a",
            "http://[::1]:8080/a",
            "file:///etc/passwd",
            "data:text/plain,x",
        ];
        for a in urls {
            for b in urls {
                let (a, b) = (
                    reqwest::Url::parse(a).unwrap(),
                    reqwest::Url::parse(b).unwrap(),
                );
                assert_eq!(same_origin(&a, &b), a.origin() == b.origin(), "{a} vs {b}");
            }
        }
    }
}
