//! A backend route for Dromo's save-and-restore (`savePartialSession`): the page asks for a
//! `hydrationId`, the backend creates the user's session the first time, resumes it afterwards,
//! and keeps the `sessionId` on the server.
//!
//! ```text
//! cargo run --example sessions        # serves http://127.0.0.1:3000
//! curl -X POST -H 'X-User-Id: ada' http://127.0.0.1:3000/dromo/hydration
//! curl -X DELETE -H 'X-User-Id: ada' http://127.0.0.1:3000/dromo/session
//! ```
//!
//! - With `DROMO_API_KEY` set (and optionally `DROMO_BASE_URL`) it talks to Dromo; without it, it
//!   starts the local stand-in of Dromo in this process and says so.
//! - `X-User-Id` stands for your own login session: use whatever identifies the user.
//! - The page gets `{"hydrationId": ..., "expiresIn": seconds}` only, and passes the token to
//!   `new DromoUploader(key, fields, { savePartialSession: true, hydrationId, ... })`.
//! - The map of users to session ids is in memory here; keep it in your database.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, HydrationToken, SessionId, SessionOptions};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The widget's `importIdentifier`, recorded with each session for your bookkeeping.
const IMPORT_IDENTIFIER: &str = "contacts-import-v1";

/// The backend's state: the Dromo client and each user's session id (server-side only).
#[derive(Clone)]
struct App {
    client: Client,
    sessions: Arc<Mutex<HashMap<String, SessionId>>>,
}

impl App {
    fn new(client: Client) -> App {
        App {
            client,
            sessions: Arc::default(),
        }
    }

    fn stored(&self, user: &str) -> Option<SessionId> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.get(user).copied()
    }

    fn store(&self, user: &str, session: Option<SessionId>) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        match session {
            Some(id) => sessions.insert(user.to_owned(), id),
            None => sessions.remove(user),
        };
    }

    /// A token for `user`'s session: resumed when there is one, created otherwise (or when
    /// Dromo says the stored one is gone: not saved for 7 days, or deleted).
    async fn hydration_for(&self, user: &str) -> Result<(HydrationToken, Duration), Error> {
        if let Some(id) = self.stored(user) {
            match self.client.resume_session(id, None).await {
                Ok(resumed) => return Ok((resumed.hydration_token, resumed.expires_in)),
                Err(Error::SessionGone { .. }) => self.store(user, None),
                Err(e) => return Err(e),
            }
        }
        let created = self
            .client
            .create_session(SessionOptions::new().import_identifier(IMPORT_IDENTIFIER))
            .await?;
        self.store(user, Some(created.session_id));
        Ok((created.hydration_token, created.expires_in))
    }
}

/// The user the request is for (your login session in a real backend).
fn user(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-user-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// A request without a user: 401.
fn unauthorized() -> Response {
    let body = Json(json!({"error": "sign in first (X-User-Id)"}));
    (StatusCode::UNAUTHORIZED, body).into_response()
}

/// Dromo's failure as the page sees it: the message (it never holds a token), 502.
fn failed(error: &Error) -> Response {
    let body = Json(json!({"error": format!("Dromo: {error}")}));
    (StatusCode::BAD_GATEWAY, body).into_response()
}

/// `POST /dromo/hydration`: `{"hydrationId", "expiresIn"}` for the widget.
async fn hydration(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(user) = user(&headers) else {
        return unauthorized();
    };
    match app.hydration_for(&user).await {
        Ok((token, expires_in)) => Json(json!({
            "hydrationId": token.expose_for_widget(),
            "expiresIn": expires_in.as_secs(),
        }))
        .into_response(),
        Err(e) => failed(&e),
    }
}

/// `DELETE /dromo/session`: the user is done (or starts over); their tokens stop working.
async fn end_session(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(user) = user(&headers) else {
        return unauthorized();
    };
    if let Some(id) = app.stored(&user) {
        if let Err(e) = app.client.delete_session(id).await {
            return failed(&e);
        }
        app.store(&user, None);
    }
    StatusCode::NO_CONTENT.into_response()
}

fn router(app: App) -> Router {
    Router::new()
        .route("/dromo/hydration", post(hydration))
        .route("/dromo/session", delete(end_session))
        .with_state(app)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Without a key: the local stand-in, kept alive while serving.
    let (client, _stand_in) = if std::env::var_os(dromo_client::API_KEY_ENV).is_some() {
        (Client::from_env()?, None)
    } else {
        let server = StandIn::start().await?;
        eprintln!(
            "DROMO_API_KEY is not set: using a local stand-in of Dromo at {}",
            server.sessions_base_url()
        );
        (server.client()?, Some(server))
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    eprintln!(
        "serving http://{}: POST /dromo/hydration, DELETE /dromo/session (header X-User-Id); Ctrl-C stops",
        listener.local_addr()?
    );
    axum::serve(listener, router(App::new(client)))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The route on 127.0.0.1 in front of a stand-in.
    async fn start() -> (StandIn, App, String) {
        let server = StandIn::start().await.unwrap();
        let app = App::new(server.client().unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes = router(app.clone());
        tokio::spawn(async move { axum::serve(listener, routes).await });
        (server, app, url)
    }

    async fn ask(url: &str, user: Option<&str>) -> (u16, String) {
        let mut request = reqwest::Client::new().post(format!("{url}/dromo/hydration"));
        if let Some(user) = user {
            request = request.header("X-User-Id", user);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    fn token_of(body: &str) -> String {
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(
            value.as_object().map(|o| o.len()),
            Some(2),
            "only the token and its TTL: {body}"
        );
        value["hydrationId"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_page_gets_a_token_and_never_the_session_id() {
        let (server, app, url) = start().await;
        assert_eq!(ask(&url, None).await.0, 401);

        let (status, body) = ask(&url, Some("ada")).await;
        assert_eq!(status, 200, "{body}");
        let first = token_of(&body);
        assert_eq!(server.widget_status(&first), 200);
        let session = app.stored("ada").expect("ada's session is stored");
        assert!(!body.contains(&session.to_string()), "{body}");

        // Back again: the same session, resumed, with a fresh token.
        let (status, body) = ask(&url, Some("ada")).await;
        assert_eq!(status, 200, "{body}");
        let second = token_of(&body);
        assert_ne!(first, second);
        assert_eq!(app.stored("ada"), Some(session));
        assert!(server
            .requests()
            .iter()
            .any(|r| r.path == format!("/api/widget/session/v2/{session}/auth/")));

        // Another user: another session.
        let (_, body) = ask(&url, Some("bob")).await;
        token_of(&body);
        assert_ne!(app.stored("bob"), Some(session));

        // Eight days without a save: Dromo forgot the session; a new one is made.
        server.advance_session_clock(Duration::from_secs(8 * 24 * 3600));
        let (status, body) = ask(&url, Some("ada")).await;
        assert_eq!(status, 200, "{body}");
        let third = token_of(&body);
        let renewed = app.stored("ada").expect("a new session");
        assert_ne!(renewed, session);
        assert_eq!(server.widget_status(&third), 200);

        // Done: the session is deleted and its token stops working.
        let response = reqwest::Client::new()
            .delete(format!("{url}/dromo/session"))
            .header("X-User-Id", "ada")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
        assert_eq!(server.widget_status(&third), 403);
        assert_eq!(app.stored("ada"), None);
    }

    #[tokio::test]
    async fn dromos_failure_reaches_the_page_as_a_502_without_a_token() {
        // A key the stand-in refuses.
        let server = StandIn::start().await.unwrap();
        let client = Client::builder()
            .base_url(server.base_url())
            .api_key("frontend-key")
            .build()
            .unwrap();
        let app = App::new(client);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(app)).await });
        let (status, body) = ask(&url, Some("ada")).await;
        assert_eq!(status, 502, "{body}");
        assert!(
            body.contains("Dromo rejected the API key (HTTP 401)"),
            "{body}"
        );
    }
}
