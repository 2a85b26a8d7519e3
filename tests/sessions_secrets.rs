//! The Sessions API's hydration token is a credential: it appears in no `Debug`, `Display`, error
//! or log output (TRACE included). In a test binary of its own: `tracing` caches each callsite's
//! interest, and a test running at the same time without a subscriber can make this test's
//! subscriber miss events.

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, RetryPolicy, SessionOptions};
use std::io::Write;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Records everything written by a `tracing` subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An error's `Display`, `Debug` and every cause: what any way of printing it shows.
fn every_rendering(error: &Error) -> String {
    let mut out = format!("{error}\n{error:?}\n");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        out.push_str(&format!("{cause}\n{cause:?}\n"));
        source = cause.source();
    }
    out
}

const CANNED_TOKEN: &str = "hyd.CANNEDSECRETTOKEN0123456789";

#[tokio::test]
async fn the_hydration_token_is_in_no_debug_display_error_or_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let mut tokens = Vec::new();
    let mut shown = String::new();

    // The hand-written calls, and their results printed every way.
    let created = client
        .create_session(SessionOptions::new().import_identifier("contacts"))
        .await
        .unwrap();
    tokens.push(created.hydration_token.expose_for_widget().to_owned());
    shown.push_str(&format!(
        "{created:?}\n{}\n{:?}\n",
        created.hydration_token, created.hydration_token
    ));
    let resumed = client
        .resume_session(created.session_id, None)
        .await
        .unwrap();
    tokens.push(resumed.hydration_token.expose_for_widget().to_owned());
    shown.push_str(&format!("{resumed:?}\n{}\n", resumed.hydration_token));

    // The generated operations: their responses' Debug.
    let raw = client.sessions_api().create_session().send().await.unwrap();
    let raw_token = raw
        .hydration_id
        .as_ref()
        .expect("a hydrationId")
        .expose_for_widget()
        .to_owned();
    tokens.push(raw_token);
    shown.push_str(&format!("{raw:?}\n"));
    shown.push_str(&format!("{:?}\n", raw.into_inner()));
    let raw = client
        .sessions_api()
        .resume_session()
        .session_id(*created.session_id.as_uuid())
        .send()
        .await
        .unwrap();
    tokens.push(
        raw.hydration_id
            .as_ref()
            .expect("a hydrationId")
            .expose_for_widget()
            .to_owned(),
    );
    shown.push_str(&format!("{raw:?}\n"));
    client.delete_session(created.session_id).await.unwrap();

    // Answers that quote the token in ways that fail: a bad id beside it, a bad TTL, an error
    // body echoing it. Their errors, printed every way.
    let canned = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/widget/session/v2/auth/"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "sessionId": "not-a-uuid",
            "hydrationId": CANNED_TOKEN,
            "expiresIn": 60,
        })))
        .mount(&canned)
        .await;
    let resume_path = "/api/widget/session/v2/1b6acf28-8748-4120-8d7a-4b7846d5e487/auth/";
    Mock::given(method("POST"))
        .and(path(resume_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "hydrationId": CANNED_TOKEN,
            "expiresIn": "soon",
        })))
        .mount(&canned)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "detail": "This license key cannot delete this session.",
            "hydrationId": CANNED_TOKEN,
        })))
        .mount(&canned)
        .await;
    let canned_client = Client::builder()
        .api_key("k")
        .base_url(format!("{}/api/v1", canned.uri()))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let id = "1b6acf28-8748-4120-8d7a-4b7846d5e487";
    let errors = vec![
        canned_client
            .create_session(SessionOptions::new())
            .await
            .unwrap_err(),
        canned_client.resume_session(id, None).await.unwrap_err(),
        canned_client.delete_session(id).await.unwrap_err(),
        canned_client
            .sessions_api()
            .create_session()
            .send()
            .await
            .unwrap_err(),
    ];
    assert!(matches!(errors[0], Error::Decode { .. }), "{:?}", errors[0]);
    assert!(matches!(errors[1], Error::Decode { .. }), "{:?}", errors[1]);
    assert!(
        matches!(errors[2], Error::Unauthorized { .. }),
        "{:?}",
        errors[2]
    );
    for error in &errors {
        shown.push_str(&every_rendering(error));
    }
    tokens.push(CANNED_TOKEN.to_owned());

    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("created session") && logs.contains("TRACE"),
        "the log was not captured at TRACE level:\n{logs}"
    );
    for token in &tokens {
        assert!(token.len() > 10, "{token}");
        assert!(!shown.contains(token.as_str()), "token shown in:\n{shown}");
        assert!(!logs.contains(token.as_str()), "token logged in:\n{logs}");
    }
    // The errors still say what went wrong.
    assert!(shown.contains("sessionId"), "{shown}");
    assert!(shown.contains("expiresIn"), "{shown}");
    assert!(shown.contains("HTTP 403"), "{shown}");
}
