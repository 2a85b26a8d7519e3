//! The Sessions API against Prism, on the vendored `sessions-openapi.json`: the crate's calls
//! checked by Prism's mock (request validation on), and the stand-in checked by Prism's
//! validating proxy, for the three operations, success and the documented 404.
//!
//! `cargo xtask test` installs Prism and sets `DROMO_PRISM_BIN`; without it each test says it is
//! skipped and passes. By hand: `cd xtask/prism && npm ci`, then
//! `DROMO_PRISM_BIN=$PWD/xtask/prism/node_modules/.bin/prism cargo test --test sessions_prism`.
#![cfg(feature = "stand-in")]

use std::path::{Path, PathBuf};
use std::time::Duration;

#[path = "common/prism.rs"]
mod prism;
use prism::Prism;

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, RetryPolicy, SessionOptions};
use reqwest::Method;
use serde_json::{json, Value};

const UNKNOWN: &str = "0b8a3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";

/// The Prism binary, or `None` (after saying so) when the tests run without it.
fn prism_bin() -> Option<PathBuf> {
    match std::env::var_os("DROMO_PRISM_BIN") {
        Some(bin) if !bin.is_empty() => Some(PathBuf::from(bin)),
        _ => {
            eprintln!(
                "sessions Prism test skipped: DROMO_PRISM_BIN is not set; run `cargo xtask test` \
                 (installs Prism and sets it), or `cd xtask/prism && npm ci` and \
                 `DROMO_PRISM_BIN=$PWD/xtask/prism/node_modules/.bin/prism cargo test --test sessions_prism`"
            );
            None
        }
    }
}

fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sessions-openapi.json")
}

/// Prism on the Sessions API spec: a mock, or a proxy in front of `upstream`.
fn start_prism(bin: &Path, upstream: Option<&str>) -> Prism {
    Prism::start(bin, &spec_path(), upstream, "sessions")
}

/// A client whose Sessions API is Prism's root (where Prism serves the spec's paths).
fn client_of(prism: &Prism, key: &str, http: Option<reqwest::Client>) -> Client {
    let mut builder = Client::builder()
        .api_key(key)
        .base_url(format!("{}/api/v1", prism.url))
        .sessions_base_url(&prism.url)
        .retry_policy(RetryPolicy::never());
    if let Some(http) = http {
        builder = builder.http_client(http);
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_operations_fit_prisms_mock() {
    let Some(bin) = prism_bin() else { return };
    let prism = start_prism(&bin, None);
    let client = client_of(&prism, "mock-key", None);

    // Prism validates each request against the spec (key, body types) and answers the spec's
    // examples: a TTL sent as whole seconds, an optional body, a UUID in the path.
    let created = client
        .create_session(
            SessionOptions::new()
                .import_identifier("user_import_v1")
                .token_ttl(Duration::from_secs(3600)),
        )
        .await
        .unwrap_or_else(|e| panic!("{e} (Prism log: {})", prism.log.display()));
    assert_eq!(
        created.session_id.to_string(),
        "1b6acf28-8748-4120-8d7a-4b7846d5e487"
    );
    assert_eq!(
        created.hydration_token.expose_for_widget(),
        "<signed-token>"
    );
    assert_eq!(created.expires_in, Duration::from_secs(21600));
    client
        .create_session(SessionOptions::new())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let resumed = client
        .resume_session(created.session_id, Some(Duration::from_secs(60)))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        resumed.hydration_token.expose_for_widget(),
        "<new-signed-token>"
    );
    client
        .delete_session(created.session_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // The documented 404 of a resume (Prism answers it when asked with `Prefer: code=404`).
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("prefer", "code=404".parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    let gone = client_of(&prism, "mock-key", Some(http))
        .resume_session(UNKNOWN, None)
        .await
        .unwrap_err();
    assert!(matches!(gone, Error::SessionGone { .. }), "{gone:?}");
    assert!(
        gone.to_string()
            .contains("is gone or expired (>7 days since its last save)"),
        "{gone}"
    );
}

/// One call through the proxy: the proxy's answer must be the stand-in's, with no violation.
async fn through(
    http: &reqwest::Client,
    proxy: &Prism,
    server: &StandIn,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let before = server.requests().len();
    let mut request = http
        .request(method.clone(), format!("{}{path}", proxy.url))
        .header("X-Dromo-License-Key", server.api_key());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the proxy answers");
    let status = response.status().as_u16();
    let violations = response
        .headers()
        .get("sl-violations")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let upstream: Vec<u16> = server.requests()[before..]
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        upstream.len(),
        1,
        "{method} {path}: Prism did not forward it once; it answered {status} {body}"
    );
    assert_eq!(
        status,
        upstream[0],
        "{method} {path}: Prism answered {status}, the stand-in {}: {body} (log {})",
        upstream[0],
        proxy.log.display()
    );
    assert_eq!(
        violations, None,
        "{method} {path}: sessions-openapi.json violated"
    );
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stand_in_fits_the_spec_through_prisms_proxy() {
    let Some(bin) = prism_bin() else { return };
    let server = StandIn::start().await.unwrap();
    let proxy = start_prism(&bin, Some(&server.sessions_base_url()));
    let http = reqwest::Client::new();

    let (status, created) = through(&http, &proxy, &server, Method::POST, "/auth/", None).await;
    assert_eq!(status, 201);
    let id = created["sessionId"]
        .as_str()
        .expect("a sessionId")
        .to_owned();
    let (status, _) = through(
        &http,
        &proxy,
        &server,
        Method::POST,
        "/auth/",
        Some(json!({"import_identifier": "user_import_v1", "expires_in": 3600})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, resumed) = through(
        &http,
        &proxy,
        &server,
        Method::POST,
        &format!("/{id}/auth/"),
        Some(json!({"expires_in": 60})),
    )
    .await;
    assert_eq!((status, resumed["expiresIn"].as_i64()), (200, Some(60)));
    let (status, deleted) = through(
        &http,
        &proxy,
        &server,
        Method::DELETE,
        &format!("/{id}/"),
        None,
    )
    .await;
    assert_eq!((status, deleted), (200, json!({"success": true})));
    let (status, _) = through(
        &http,
        &proxy,
        &server,
        Method::DELETE,
        &format!("/{id}/"),
        None,
    )
    .await;
    assert_eq!(status, 200, "a delete is idempotent");
    let (status, _) = through(
        &http,
        &proxy,
        &server,
        Method::POST,
        &format!("/{id}/auth/"),
        None,
    )
    .await;
    assert_eq!(status, 404, "the documented 404 of a resume");

    // The crate's client through the proxy, end to end.
    let client = client_of(&proxy, server.api_key(), None);
    let session = client.create_session(SessionOptions::new()).await.unwrap();
    let token = session.hydration_token.expose_for_widget().to_owned();
    assert_eq!(server.widget_status(&token), 200);
    client
        .resume_session(session.session_id, None)
        .await
        .unwrap();
    client.delete_session(session.session_id).await.unwrap();
    assert_eq!(server.widget_status(&token), 403);
    let gone = client
        .resume_session(session.session_id, None)
        .await
        .unwrap_err();
    assert!(matches!(gone, Error::SessionGone { .. }), "{gone:?}");
}
