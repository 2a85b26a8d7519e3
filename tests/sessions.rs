//! The Sessions API (`sessions-openapi.json`) through the hand-written layer, against the
//! stand-in (sessions, tokens, expiry on its clock) and against canned answers: checked TTLs,
//! the resume 404, an idempotent delete, the key on the API origin only, and a hydration token
//! that appears in no `Debug`, `Display`, error or log line (TRACE).

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, RetryPolicy, SessionId, SessionOptions};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn session_requests(server: &StandIn) -> Vec<dromo_client::stand_in::RecordedRequest> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/widget/session/v2/"))
        .collect()
}

#[tokio::test]
async fn create_resume_delete_on_the_stand_in() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    assert_eq!(client.sessions_base_url(), server.sessions_base_url());

    let created = client
        .create_session(
            SessionOptions::new()
                .import_identifier("contacts-import-v1")
                .token_ttl(Duration::from_secs(3600)),
        )
        .await
        .unwrap();
    assert_eq!(created.expires_in, Duration::from_secs(3600));
    assert!(created.saved_at.is_some());
    let first = created.hydration_token.expose_for_widget().to_owned();
    assert_eq!(server.widget_status(&first), 200);

    // The key went with every request, to the sessions path of the same origin.
    let seen = session_requests(&server);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/api/widget/session/v2/auth/");
    assert_eq!(
        seen[0].header("x-dromo-license-key"),
        Some(server.api_key())
    );

    // A resume mints a new token; the first one still works until it expires.
    let resumed = client
        .resume_session(created.session_id, None)
        .await
        .unwrap();
    assert_eq!(resumed.expires_in, dromo_client::DEFAULT_HYDRATION_TTL);
    let second = resumed.hydration_token.expose_for_widget().to_owned();
    assert_ne!(first, second);
    assert_eq!(server.widget_status(&second), 200);
    assert_eq!(server.widget_status(&first), 200);

    // A delete invalidates every token of the session at once, and is idempotent.
    client.delete_session(created.session_id).await.unwrap();
    assert_eq!(server.widget_status(&first), 403);
    assert_eq!(server.widget_status(&second), 403);
    client.delete_session(created.session_id).await.unwrap();
    client
        .delete_session("0b8a3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d")
        .await
        .unwrap();

    // A deleted session cannot be resumed: the documented 404, in words.
    let gone = client
        .resume_session(created.session_id.to_string().as_str(), None)
        .await
        .unwrap_err();
    assert!(matches!(gone, Error::SessionGone { .. }), "{gone:?}");
    assert_eq!(gone.status(), Some(404));
    let shown = gone.to_string();
    assert!(
        shown.starts_with(&format!(
            "session {} is gone or expired (>7 days since its last save)",
            created.session_id
        )),
        "{shown}"
    );
    assert!(shown.contains("create_session"), "{shown}");
}

#[tokio::test]
async fn expiry_follows_the_stand_ins_clock() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let created = client
        .create_session(SessionOptions::new().token_ttl(Duration::from_secs(60)))
        .await
        .unwrap();
    let token = created.hydration_token.expose_for_widget().to_owned();
    server.advance_session_clock(Duration::from_secs(59));
    assert_eq!(server.widget_status(&token), 200);
    server.advance_session_clock(Duration::from_secs(2));
    assert_eq!(server.widget_status(&token), 403, "the token expired");

    // The session outlives its token: a resume gives a working one.
    let resumed = client
        .resume_session(created.session_id, Some(Duration::from_secs(600)))
        .await
        .unwrap();
    assert_eq!(resumed.expires_in, Duration::from_secs(600));

    // Saving restarts the 7 days; 7 days without a save and the session is gone.
    server.advance_session_clock(6 * DAY);
    assert!(server.save_session(&created.session_id.to_string()));
    server.advance_session_clock(6 * DAY);
    client
        .resume_session(created.session_id, None)
        .await
        .unwrap();
    server.advance_session_clock(DAY + Duration::from_secs(1));
    let gone = client
        .resume_session(created.session_id, None)
        .await
        .unwrap_err();
    assert!(matches!(gone, Error::SessionGone { .. }), "{gone:?}");
    assert!(!server.save_session(&created.session_id.to_string()));
}

#[tokio::test]
async fn bad_ttls_and_ids_fail_before_any_request() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let id: SessionId = "1b6acf28-8748-4120-8d7a-4b7846d5e487".parse().unwrap();
    for (ttl, expected) in [
        (Duration::ZERO, "at least 1 second"),
        (Duration::from_millis(2500), "whole seconds"),
        (8 * DAY, "at most 604800 s (7 days)"),
        (Duration::MAX, "at most 604800 s (7 days)"),
    ] {
        let err = client
            .create_session(SessionOptions::new().token_ttl(ttl))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
        assert!(err.to_string().contains(expected), "{err}");
        let err = client.resume_session(id, Some(ttl)).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    let err = client.resume_session("not-a-uuid", None).await.unwrap_err();
    assert!(
        err.to_string().contains("`not-a-uuid` is not a session id"),
        "{err}"
    );
    assert!(client.delete_session("nope").await.is_err());
    assert_eq!(session_requests(&server), vec![], "nothing was sent");
}

#[test]
fn the_sessions_url_stays_on_the_keys_origin() {
    let client = Client::builder()
        .api_key("k")
        .base_url("https://app.dromo.io/api/v1")
        .build()
        .unwrap();
    assert_eq!(
        client.sessions_base_url(),
        "https://app.dromo.io/api/widget/session/v2"
    );
    let proxied = Client::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:8080/dromo/api/v1/")
        .build()
        .unwrap();
    assert_eq!(
        proxied.sessions_base_url(),
        "http://127.0.0.1:8080/dromo/api/widget/session/v2"
    );
    let chosen = Client::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:8080/api/v1")
        .sessions_base_url("http://127.0.0.1:8080/sessions/")
        .build()
        .unwrap();
    assert_eq!(chosen.sessions_base_url(), "http://127.0.0.1:8080/sessions");
    let err = Client::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:8080/api/v1")
        .sessions_base_url("http://127.0.0.1:9090/api/widget/session/v2")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("must be on the base URL's origin (http://127.0.0.1:8080)"),
        "{err}"
    );
}
#[tokio::test]
async fn a_create_is_not_retried_once_it_may_have_arrived_but_a_delete_is() {
    let canned = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&canned)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&canned)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"success": true})),
        )
        .mount(&canned)
        .await;
    let client = Client::builder()
        .api_key("k")
        .base_url(format!("{}/api/v1", canned.uri()))
        .retry_policy(
            RetryPolicy::default()
                .with_initial_delay(Duration::from_millis(1))
                .with_max_delay(Duration::from_millis(2)),
        )
        .build()
        .unwrap();
    let err = client
        .create_session(SessionOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    client
        .delete_session("1b6acf28-8748-4120-8d7a-4b7846d5e487")
        .await
        .unwrap();
    let received = canned.received_requests().await.unwrap();
    let count = |m: &str| received.iter().filter(|r| r.method.as_str() == m).count();
    assert_eq!(
        count("POST"),
        1,
        "a create that may have arrived is not sent again"
    );
    assert_eq!(count("DELETE"), 2, "a delete is retried");
}
