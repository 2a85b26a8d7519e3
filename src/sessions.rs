//! Dromo's Sessions API (`sessions-openapi.json`): the save-and-restore sessions of the widget
//! (`savePartialSession`), with its two tokens.
//!
//! - The [`SessionId`] is long-lived: keep it server-side, durably, to resume or delete the
//!   session. Dromo keeps a session 7 days after its last save.
//! - The [`HydrationToken`] (`hydrationId`) is short-lived (default 6 hours) and is a credential:
//!   whoever holds it can open the user's saved import in the widget. Hand it to the page that
//!   starts the widget and nowhere else: its `Debug` and `Display` never show it, this crate never
//!   logs it, and [`HydrationToken::expose_for_widget`] is the one way to read it.
//!
//! The generated operations are reachable with [`Client::sessions_api`]; the methods here add
//! the checks and errors around them: [`Client::create_session`], [`Client::resume_session`],
//! [`Client::delete_session`].
//!
//! # Where the Sessions API lives
//!
//! Dromo serves it at `https://app.dromo.io/api/widget/session/v2`, beside (not under) the main
//! API's `https://app.dromo.io/api/v1`. The client derives it from the configured base URL
//! ([`sessions_base_url_for`]): a final `/api/v1` of the base URL's path is replaced by
//! `/api/widget/session/v2`; any other path (a proxy's own prefix, or none) gets
//! `/api/widget/session/v2` appended. So a proxy or the stand-in that serves both APIs under one
//! origin is reached with the one `DROMO_BASE_URL`. The URL always stays on the base URL's
//! origin, the only origin the key is sent to;
//! [`ClientBuilder::sessions_base_url`](crate::ClientBuilder::sessions_base_url) sets another path
//! on that origin.

use crate::error::{Error, ServerText, Violation, Violations};
use crate::generated::sessions::types;
use crate::ids::SessionId;
use crate::Client;
use chrono::{DateTime, Utc};
use std::fmt;
use std::time::Duration;

/// The path of the Sessions API on Dromo's origin.
pub const SESSIONS_API_PATH: &str = "/api/widget/session/v2";

/// The path the main API's base URL ends with, replaced by [`SESSIONS_API_PATH`].
const MAIN_API_PATH: &str = "/api/v1";

/// How long a hydration token lives when no TTL is given: 6 hours, as Dromo documents.
pub const DEFAULT_HYDRATION_TTL: Duration = Duration::from_secs(6 * 60 * 60);

/// How long Dromo keeps a session after its last save: 7 days.
pub const SESSION_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The longest hydration token TTL this client asks for: 7 days, the life of the session it
/// opens (a longer one could only outlive it). Longer is refused before sending.
pub const MAX_HYDRATION_TTL: Duration = SESSION_RETENTION;

/// The Sessions API's base URL for a main API base URL: the rule
/// [`Client`](crate::Client) follows.
///
/// Dromo serves the Sessions API at `https://app.dromo.io/api/widget/session/v2`, beside (not
/// under) the main API's `https://app.dromo.io/api/v1`. A final `/api/v1` of the base URL's
/// path is replaced by `/api/widget/session/v2`; any other path (a proxy's own prefix, or none)
/// gets `/api/widget/session/v2` appended. So a proxy or the stand-in that serves both APIs on
/// one origin is reached with the one `DROMO_BASE_URL`. The result is always on the base URL's
/// origin, the only origin the key is sent to;
/// [`ClientBuilder::sessions_base_url`](crate::ClientBuilder::sessions_base_url) sets another
/// path on that origin.
///
/// ```
/// use dromo_client::sessions_base_url_for;
///
/// let url = |s: &str| reqwest::Url::parse(s).unwrap();
/// assert_eq!(
///     sessions_base_url_for(&url("https://app.dromo.io/api/v1")).as_str(),
///     "https://app.dromo.io/api/widget/session/v2"
/// );
/// assert_eq!(
///     sessions_base_url_for(&url("http://127.0.0.1:4010/dromo/api/v1/")).as_str(),
///     "http://127.0.0.1:4010/dromo/api/widget/session/v2"
/// );
/// assert_eq!(
///     sessions_base_url_for(&url("http://proxy.internal:8080")).as_str(),
///     "http://proxy.internal:8080/api/widget/session/v2"
/// );
/// ```
pub fn sessions_base_url_for(base_url: &reqwest::Url) -> reqwest::Url {
    let path = base_url.path().trim_end_matches('/');
    let prefix = path.strip_suffix(MAIN_API_PATH).unwrap_or(path);
    let mut url = base_url.clone();
    url.set_path(&format!("{prefix}{SESSIONS_API_PATH}"));
    url
}

/// A session's short-lived access token (`hydrationId`), to hand to the widget and nowhere else.
///
/// Its `Debug` and `Display` never show the token, so it cannot end up in a log line, an error
/// or a panic message by accident. [`expose_for_widget`](Self::expose_for_widget) is the one
/// explicit way to read it. Serializing writes the token (that is how a response reaches the
/// page as JSON): serialize it only into what goes to the widget.
///
/// ```
/// use dromo_client::HydrationToken;
///
/// let token = HydrationToken::from("eyJhbGciOi.secret".to_owned());
/// assert_eq!(format!("{token:?}"), "HydrationToken(<redacted>)");
/// assert_eq!(token.to_string(), "<redacted hydration token>");
/// assert_eq!(token.expose_for_widget(), "eyJhbGciOi.secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct HydrationToken(String);

impl HydrationToken {
    /// The token itself, for the widget's `hydrationId` setting: the one way to read it.
    pub fn expose_for_widget(&self) -> &str {
        &self.0
    }
}

impl From<String> for HydrationToken {
    /// A token kept elsewhere (e.g. in the user's server-side session store).
    fn from(token: String) -> Self {
        Self(token)
    }
}

impl fmt::Debug for HydrationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HydrationToken(<redacted>)")
    }
}

impl fmt::Display for HydrationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted hydration token>")
    }
}

impl serde::Serialize for HydrationToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for HydrationToken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// The schema progenitor's generated `dromo api` commands need (feature `cli`): a string.
#[cfg(feature = "cli")]
impl schemars::JsonSchema for HydrationToken {
    fn schema_name() -> String {
        "HydrationToken".to_owned()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        <String as schemars::JsonSchema>::json_schema(generator)
    }
}

/// Settings of a new session: [`Client::create_session`].
///
/// ```
/// use dromo_client::SessionOptions;
/// use std::time::Duration;
///
/// let options = SessionOptions::new()
///     .import_identifier("contacts-import-v1")
///     .token_ttl(Duration::from_secs(3600));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOptions {
    import_identifier: Option<String>,
    token_ttl: Option<Duration>,
}

impl SessionOptions {
    /// Dromo's defaults: no label, a 6-hour token.
    pub fn new() -> Self {
        Self::default()
    }

    /// A label for your own bookkeeping (`import_identifier`, e.g. the widget's
    /// `importIdentifier`); Dromo does not look sessions up by it.
    pub fn import_identifier(mut self, label: impl Into<String>) -> Self {
        self.import_identifier = Some(label.into());
        self
    }

    /// How long the first hydration token lives (`expires_in`): whole seconds, from 1 second to
    /// [`MAX_HYDRATION_TTL`]; default [`DEFAULT_HYDRATION_TTL`].
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = Some(ttl);
        self
    }
}

/// A session just created: keep [`session_id`](Self::session_id) server-side, give
/// [`hydration_token`](Self::hydration_token) to the widget.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewSession {
    /// The session, to store durably: needed to resume or delete it.
    pub session_id: SessionId,
    /// The widget's access token.
    pub hydration_token: HydrationToken,
    /// How long the token is valid from now.
    pub expires_in: Duration,
    /// When the session was last saved, if Dromo said.
    pub saved_at: Option<DateTime<Utc>>,
}

/// A fresh hydration token for an existing session ([`Client::resume_session`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResumedSession {
    /// The widget's new access token.
    pub hydration_token: HydrationToken,
    /// How long the token is valid from now.
    pub expires_in: Duration,
}

/// `expires_in` in whole seconds, or the caller's error (nothing is sent).
fn ttl_seconds(ttl: Option<Duration>) -> Result<Option<i64>, Error> {
    let Some(ttl) = ttl else { return Ok(None) };
    let problem = if ttl.is_zero() {
        Some(
            "must be at least 1 second: a zero TTL would mint a token that is already expired"
                .to_owned(),
        )
    } else if ttl > MAX_HYDRATION_TTL {
        Some(format!(
            "must be at most {} s (7 days), not {} s: a token cannot outlive its session, which Dromo keeps 7 days after its last save; mint a fresh token with `resume_session` when the user returns",
            MAX_HYDRATION_TTL.as_secs(),
            ttl.as_secs()
        ))
    } else if ttl.subsec_nanos() != 0 {
        Some(format!(
            "must be whole seconds (Dromo counts `expires_in` in seconds), not {ttl:?}"
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::InvalidRequest {
            violations: Violations(vec![Violation::new("expires_in", message)]),
        }),
        // At most 7 days: fits an i64.
        None => Ok(Some(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))),
    }
}

/// A response field that is missing or unusable: a decode error naming it.
fn bad_answer(status: u16, path: &str, message: &str) -> Error {
    Error::Decode {
        status,
        path: path.to_owned(),
        message: message.to_owned(),
        // The body is not quoted: it holds the hydration token.
        snippet: "<not shown: it holds the hydration token>".to_owned(),
        source: Box::new(ServerText(message.to_owned())),
    }
}

/// A token's TTL as Dromo answered it.
fn answered_ttl(status: u16, seconds: Option<crate::WholeNumber>) -> Result<Duration, Error> {
    match seconds {
        // Dromo documents `expiresIn` in every answer; without it, the TTL it was asked for
        // (or its default) is the best knowledge, but not knowledge: refuse instead.
        None => Err(bad_answer(
            status,
            "expiresIn",
            "the answer has no `expiresIn`",
        )),
        Some(n) => n.to_u64().map(Duration::from_secs).ok_or_else(|| {
            bad_answer(
                status,
                "expiresIn",
                &format!("`expiresIn` is negative ({n})"),
            )
        }),
    }
}

fn answered_token(status: u16, token: Option<HydrationToken>) -> Result<HydrationToken, Error> {
    token
        .filter(|t| !t.0.is_empty())
        .ok_or_else(|| bad_answer(status, "hydrationId", "the answer has no `hydrationId`"))
}

/// Whether a failed create certainly created nothing: Dromo throttled it (429), or the request
/// never left (no connection could be made).
fn nothing_was_created(error: &Error) -> bool {
    use crate::ConnectionFailure::{Dns, Refused, Tls};
    match error {
        Error::RateLimited { .. } => true,
        Error::Connection { kind, .. } => matches!(kind, Dns | Refused | Tls),
        _ => false,
    }
}

impl Client {
    /// Creates a session for the widget's save-and-restore (`POST /auth/` of the Sessions API):
    /// store its [`session_id`](NewSession::session_id) server-side, give its
    /// [`hydration_token`](NewSession::hydration_token) to the widget (`hydrationId`).
    ///
    /// A TTL that is zero, not whole seconds, or over 7 days is refused before sending
    /// ([`Error::InvalidRequest`]). A create is retried only when it certainly did not reach
    /// Dromo (429, or no connection), so a retry never leaves a second session behind.
    ///
    /// ```no_run
    /// use dromo_client::SessionOptions;
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let session = client
    ///     .create_session(SessionOptions::new().import_identifier("contacts-import-v1"))
    ///     .await?;
    /// println!("store {} for the user", session.session_id);
    /// let for_the_widget: &str = session.hydration_token.expose_for_widget();
    /// # let _ = for_the_widget; Ok(()) }
    /// ```
    pub async fn create_session(&self, options: SessionOptions) -> Result<NewSession, Error> {
        let body = types::SessionCreate {
            expires_in: ttl_seconds(options.token_ttl)?,
            import_identifier: options.import_identifier,
        };
        let answer = self
            .retry_policy()
            .run_if("create session", None, nothing_was_created, |_| {
                self.sessions_api()
                    .create_session()
                    .body(body.clone())
                    .send()
            })
            .await?;
        let status = answer.status().as_u16();
        let created = answer.into_inner();
        let session_id = created
            .session_id
            .map(SessionId::from)
            .ok_or_else(|| bad_answer(status, "sessionId", "the answer has no `sessionId`"))?;
        let new = NewSession {
            session_id,
            hydration_token: answered_token(status, created.hydration_id)?,
            expires_in: answered_ttl(status, created.expires_in)?,
            saved_at: created.saved_at,
        };
        tracing::debug!(session_id = %new.session_id, expires_in = ?new.expires_in, "created session");
        Ok(new)
    }

    /// Mints a fresh hydration token for an existing session (`POST /{sessionId}/auth/`), when
    /// the user comes back after the previous token expired. `token_ttl`: as
    /// [`SessionOptions::token_ttl`]; `None` is Dromo's 6 hours.
    ///
    /// A session that is unknown, deleted, or not saved within the last 7 days fails with
    /// [`Error::SessionGone`]: start a new session. Retried like other idempotent requests (a
    /// retry only mints another token; the unused one expires on its own).
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// use dromo_client::{Error, SessionOptions};
    ///
    /// let stored = "1b6acf28-8748-4120-8d7a-4b7846d5e487";
    /// let token = match client.resume_session(stored, None).await {
    ///     Ok(resumed) => resumed.hydration_token,
    ///     Err(Error::SessionGone { .. }) => {
    ///         client.create_session(SessionOptions::new()).await?.hydration_token
    ///     }
    ///     Err(e) => return Err(e),
    /// };
    /// # let _ = token; Ok(()) }
    /// ```
    pub async fn resume_session(
        &self,
        session_id: impl TryInto<SessionId, Error: Into<Error>>,
        token_ttl: Option<Duration>,
    ) -> Result<ResumedSession, Error> {
        let session_id: SessionId = session_id.try_into().map_err(Into::into)?;
        let body = types::ResumeSessionBody {
            expires_in: ttl_seconds(token_ttl)?,
        };
        let answer = self
            .retry_policy()
            .run("resume session", None, |_| {
                self.sessions_api()
                    .resume_session()
                    .session_id(session_id)
                    .body(body.clone())
                    .send()
            })
            .await?;
        let status = answer.status().as_u16();
        let token = answer.into_inner();
        let resumed = ResumedSession {
            hydration_token: answered_token(status, token.hydration_id)?,
            expires_in: answered_ttl(status, token.expires_in)?,
        };
        tracing::debug!(%session_id, expires_in = ?resumed.expires_in, "resumed session");
        Ok(resumed)
    }

    /// Deletes a session and its saved state (`DELETE /{sessionId}/`): every hydration token of
    /// it stops working at once. Idempotent, as Dromo documents: deleting a session that is
    /// already gone succeeds (a 404 counts as already deleted), and a failed delete is retried.
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// client.delete_session("1b6acf28-8748-4120-8d7a-4b7846d5e487").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_session(
        &self,
        session_id: impl TryInto<SessionId, Error: Into<Error>>,
    ) -> Result<(), Error> {
        let session_id: SessionId = session_id.try_into().map_err(Into::into)?;
        let result = self
            .retry_policy()
            .run("delete session", None, |_| {
                self.sessions_api()
                    .delete_session()
                    .session_id(session_id)
                    .send()
            })
            .await;
        let answer = match result {
            Ok(answer) => answer,
            // Dromo's guide lists a 404 on delete for a session that is gone: already deleted.
            Err(Error::SessionGone { .. } | Error::NotFound { .. }) => {
                tracing::debug!(%session_id, "session already gone");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let status = answer.status().as_u16();
        if answer.success == Some(false) {
            return Err(bad_answer(
                status,
                "success",
                "Dromo answered `success: false` to the delete; the session may still exist: try again",
            ));
        }
        tracing::debug!(%session_id, "deleted session");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_checked_before_sending() {
        assert_eq!(ttl_seconds(None).unwrap(), None);
        assert_eq!(
            ttl_seconds(Some(Duration::from_secs(3600))).unwrap(),
            Some(3600)
        );
        assert_eq!(ttl_seconds(Some(MAX_HYDRATION_TTL)).unwrap(), Some(604_800));
        for (ttl, expected) in [
            (Duration::ZERO, "at least 1 second"),
            (Duration::from_millis(1500), "whole seconds"),
            (
                MAX_HYDRATION_TTL + Duration::from_secs(1),
                "at most 604800 s",
            ),
            (Duration::MAX, "at most 604800 s"),
        ] {
            let err = ttl_seconds(Some(ttl)).unwrap_err();
            assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
            let shown = err.to_string();
            assert!(shown.contains("`expires_in`"), "{shown}");
            assert!(shown.contains(expected), "{shown}");
        }
    }

    #[test]
    fn sessions_url_stays_on_the_base_urls_origin() {
        for (base, expected) in [
            (
                "https://app.dromo.io/api/v1",
                "https://app.dromo.io/api/widget/session/v2",
            ),
            (
                "https://app.dromo.io/api/v1/",
                "https://app.dromo.io/api/widget/session/v2",
            ),
            (
                "http://127.0.0.1:9/prefix/api/v1",
                "http://127.0.0.1:9/prefix/api/widget/session/v2",
            ),
            (
                "http://127.0.0.1:9",
                "http://127.0.0.1:9/api/widget/session/v2",
            ),
            (
                "http://127.0.0.1:9/dromo",
                "http://127.0.0.1:9/dromo/api/widget/session/v2",
            ),
        ] {
            let base = reqwest::Url::parse(base).unwrap();
            let derived = sessions_base_url_for(&base);
            assert_eq!(derived.as_str(), expected);
            assert_eq!(derived.origin(), base.origin());
        }
    }

    #[test]
    fn answers_without_the_documented_fields_are_refused_without_the_token() {
        let err = answered_ttl(201, Some(crate::WholeNumber(-5))).unwrap_err();
        assert!(err.to_string().contains("expiresIn"), "{err}");
        let err = answered_token(201, None).unwrap_err();
        assert!(err.to_string().contains("hydrationId"), "{err}");
        assert!(answered_token(201, Some(HydrationToken(String::new()))).is_err());
        assert_eq!(
            answered_ttl(200, Some(crate::WholeNumber(60))).unwrap(),
            Duration::from_secs(60)
        );
    }
}
