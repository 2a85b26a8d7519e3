//! Dromo's Sessions API (`sessions-openapi.json`, under `/api/widget/session/v2/`): sessions
//! of the widget's save-and-restore and their hydration tokens, with their expiry on a clock
//! that tests move ([`StandIn::advance_session_clock`]).
//!
//! | Request | Answer |
//! | --- | --- |
//! | `POST /auth/` | 201 `{sessionId, hydrationId, expiresIn, savedAt}`; 400 for an `expires_in` that is not a positive integer |
//! | `POST /{sessionId}/auth/` | 200 `{hydrationId, expiresIn}`; 404 when the session is unknown, deleted, or not saved within 7 days |
//! | `DELETE /{sessionId}/` | 200 `{"success": true}`, also when the session is already gone; its tokens stop working at once |
//!
//! The widget itself is not served: [`StandIn::widget_status`] answers what the widget would get
//! for a token (200, or 403 once the token expired or its session was deleted), and
//! [`StandIn::save_session`] plays the widget saving progress. Tokens are random and never
//! logged.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::ALLOW;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::http::{bad_request, json, not_found, read_object};
use super::{Inner, StandIn};

/// Where the Sessions API lives on the stand-in (and on Dromo's origin).
pub(crate) const PREFIX: &str = "/api/widget/session/v2/";

/// A token's TTL when the request gives none: 6 hours, as Dromo documents.
const DEFAULT_TTL_SECS: i64 = 6 * 60 * 60;

/// How long a session is kept after its last save: 7 days, as Dromo documents.
fn retention() -> chrono::Duration {
    chrono::Duration::days(7)
}

/// The sessions, their tokens and the clock their expiry is measured on.
#[derive(Default)]
pub(crate) struct Sessions {
    sessions: HashMap<Uuid, Session>,
    /// Every token issued and not invalidated, to its session and expiry.
    tokens: HashMap<String, Token>,
    /// How far the sessions' clock is ahead of the real one.
    offset: chrono::Duration,
}

struct Session {
    saved_at: DateTime<Utc>,
}

struct Token {
    session: Uuid,
    expires_at: DateTime<Utc>,
}

impl Sessions {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }

    /// The session, if it exists and was saved within the last 7 days; an expired one is
    /// forgotten, tokens included.
    fn live(&mut self, id: Uuid) -> Option<&mut Session> {
        let now = self.now();
        let expired = self
            .sessions
            .get(&id)
            .is_some_and(|s| now - s.saved_at > retention());
        if expired {
            self.remove(id);
        }
        self.sessions.get_mut(&id)
    }

    fn remove(&mut self, id: Uuid) {
        self.sessions.remove(&id);
        self.tokens.retain(|_, token| token.session != id);
    }

    /// Issues a token for `session`, valid `ttl` seconds from now.
    fn issue(&mut self, session: Uuid, ttl: i64) -> String {
        let token = format!("hyd.{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let expires_at = self.now() + chrono::Duration::seconds(ttl);
        self.tokens.insert(
            token.clone(),
            Token {
                session,
                expires_at,
            },
        );
        token
    }
}

/// Answers a request under [`PREFIX`] (`rest` is the path after it); the key is checked first.
pub(crate) async fn api(
    inner: &Arc<Inner>,
    rest: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
) -> (Response, u64) {
    if let Err(response) = super::api::authenticate(inner, headers) {
        return (*response, 0);
    }
    let segments: Vec<&str> = match rest.strip_suffix('/') {
        Some(rest) => rest.split('/').collect(),
        None => return (not_found(), 0),
    };
    let post = method == Method::POST;
    let delete = method == Method::DELETE;
    match segments.as_slice() {
        ["auth"] if post => create(inner, headers, body).await,
        [id, "auth"] if post => resume(inner, id, headers, body).await,
        [id] if *id != "auth" && delete => (remove(inner, id), 0),
        ["auth"] => (not_allowed(method, "POST, OPTIONS"), 0),
        [_, "auth"] => (not_allowed(method, "POST, OPTIONS"), 0),
        [_] => (not_allowed(method, "DELETE, OPTIONS"), 0),
        _ => (not_found(), 0),
    }
}

fn not_allowed(method: &Method, allow: &'static str) -> Response {
    let mut response = json(
        StatusCode::METHOD_NOT_ALLOWED,
        json!({ "detail": format!("Method \"{method}\" not allowed.") }),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}

/// `expires_in` as DRF's `IntegerField(min_value=1)` reads it; the default when absent.
fn ttl(body: &Map<String, Value>) -> Result<i64, Box<Response>> {
    match body.get("expires_in") {
        None | Some(Value::Null) => Ok(DEFAULT_TTL_SECS),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(secs) if secs >= 1 => Ok(secs),
            Some(_) => Err(bad_request(json!({
                "expires_in": ["Ensure this value is greater than or equal to 1."]
            }))),
            None => Err(bad_request(json!({
                "expires_in": ["A valid integer is required."]
            }))),
        },
        Some(_) => Err(bad_request(json!({
            "expires_in": ["A valid integer is required."]
        }))),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `POST /auth/`.
async fn create(inner: &Arc<Inner>, headers: &HeaderMap, body: Body) -> (Response, u64) {
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let ttl = match ttl(&body) {
        Ok(ttl) => ttl,
        Err(response) => return (*response, len),
    };
    if let Some(label) = body.get("import_identifier") {
        if !(label.is_string() || label.is_null()) {
            let response = bad_request(json!({"import_identifier": ["Not a valid string."]}));
            return (*response, len);
        }
    }
    let mut sessions = inner.sessions();
    let id = Uuid::new_v4();
    let saved_at = sessions.now();
    sessions.sessions.insert(id, Session { saved_at });
    let token = sessions.issue(id, ttl);
    let answer = json!({
        "sessionId": id,
        "hydrationId": token,
        "expiresIn": ttl,
        "savedAt": timestamp(saved_at),
    });
    (json(StatusCode::CREATED, answer), len)
}

/// `POST /{sessionId}/auth/`.
async fn resume(inner: &Arc<Inner>, id: &str, headers: &HeaderMap, body: Body) -> (Response, u64) {
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let Ok(id) = Uuid::parse_str(id) else {
        return (not_found(), len);
    };
    let ttl = match ttl(&body) {
        Ok(ttl) => ttl,
        Err(response) => return (*response, len),
    };
    let mut sessions = inner.sessions();
    if sessions.live(id).is_none() {
        return (not_found(), len);
    }
    let token = sessions.issue(id, ttl);
    let answer = json!({ "hydrationId": token, "expiresIn": ttl });
    (json(StatusCode::OK, answer), len)
}

/// `DELETE /{sessionId}/`: idempotent.
fn remove(inner: &Inner, id: &str) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found();
    };
    inner.sessions().remove(id);
    json(StatusCode::OK, json!({ "success": true }))
}

/// The Sessions API's state and clock, for tests.
impl StandIn {
    /// The Sessions API's base URL, `http://127.0.0.1:PORT/api/widget/session/v2`, where the
    /// real one is `https://app.dromo.io/api/widget/session/v2`. A [`Client`](crate::Client)
    /// made with [`StandIn::client`] reaches it.
    ///
    /// ```
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = dromo_client::stand_in::StandIn::start().await?;
    /// assert_eq!(server.client()?.sessions_base_url(), server.sessions_base_url());
    /// # Ok(()) }
    /// ```
    pub fn sessions_base_url(&self) -> String {
        format!("{}{}", self.inner.origin, PREFIX.trim_end_matches('/'))
    }

    /// Moves the clock of the Sessions API forward by `by`: token expiry (`expires_in`) and the
    /// 7 days a session is kept after its last save are measured on it. The rest of the
    /// stand-in keeps the real clock.
    ///
    /// ```
    /// use dromo_client::{stand_in::StandIn, Error, SessionOptions};
    /// use std::time::Duration;
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = StandIn::start().await?;
    /// let client = server.client()?;
    /// let session = client.create_session(SessionOptions::new()).await?;
    /// server.advance_session_clock(Duration::from_secs(8 * 24 * 3600));
    /// let gone = client.resume_session(session.session_id, None).await.unwrap_err();
    /// assert!(matches!(gone, Error::SessionGone { .. }));
    /// # Ok(()) }
    /// ```
    pub fn advance_session_clock(&self, by: Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut sessions = self.inner.sessions();
        sessions.offset = sessions
            .offset
            .checked_add(&by)
            .unwrap_or(chrono::Duration::MAX);
    }

    /// Does what the widget does when it saves the user's progress: the session's 7 days start
    /// again from now (on the session clock). Returns whether the session exists (and had not
    /// expired).
    pub fn save_session(&self, session_id: &str) -> bool {
        let Ok(id) = Uuid::parse_str(session_id) else {
            return false;
        };
        let mut sessions = self.inner.sessions();
        let now = sessions.now();
        match sessions.live(id) {
            Some(session) => {
                session.saved_at = now;
                true
            }
            None => false,
        }
    }

    /// The status the widget would get for a call with this `hydrationId`: 200 while the token
    /// is valid, 403 once it expired or its session was deleted (or for a token never issued).
    ///
    /// ```
    /// use dromo_client::{stand_in::StandIn, SessionOptions};
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = StandIn::start().await?;
    /// let client = server.client()?;
    /// let session = client.create_session(SessionOptions::new()).await?;
    /// let token = session.hydration_token.expose_for_widget();
    /// assert_eq!(server.widget_status(token), 200);
    /// client.delete_session(session.session_id).await?;
    /// assert_eq!(server.widget_status(token), 403);
    /// # Ok(()) }
    /// ```
    pub fn widget_status(&self, hydration_id: &str) -> u16 {
        let mut sessions = self.inner.sessions();
        let now = sessions.now();
        let Some(session) = sessions
            .tokens
            .get(hydration_id)
            .filter(|token| token.expires_at > now)
            .map(|token| token.session)
        else {
            return 403;
        };
        if sessions.live(session).is_some() {
            200
        } else {
            403
        }
    }
}

impl Inner {
    /// The sessions, even if a thread panicked while holding the lock (no code path panics
    /// there).
    pub(crate) fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
