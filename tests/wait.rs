//! Waiting for an import: outcomes, polling rate, backoff, Retry-After, deadline, errors.
//!
//! Time is tokio's paused clock: `sleep` returns at once when the runtime is idle, and
//! `Instant::now()` reads virtual time, so a 10-minute wait runs in milliseconds. The scripted
//! server below runs on the test's own runtime and records the virtual time of every poll; the
//! clients have no HTTP timeouts (no timer pending while a request is under way, so the clock
//! only moves when the waiter sleeps).

mod common;

use dromo_client::stand_in::{Outcome, StandIn};
use dromo_client::{Client, Error, ImportStatus, WaitOptions, WaitOutcome, MIN_POLL_INTERVAL};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

const ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";

/// One scripted answer: status, extra headers, body.
#[derive(Clone)]
struct Answer(u16, Vec<(&'static str, String)>, String);

fn status(s: &str) -> Answer {
    Answer(
        200,
        vec![],
        serde_json::json!({"id": ID, "status": s, "original_filename": "a.csv"}).to_string(),
    )
}

/// A tiny HTTP/1.1 server on the current runtime: answers in script order (the last one
/// repeats) and records when (virtual time) and what each request was.
struct Scripted {
    base_url: String,
    polls: Arc<Mutex<Vec<(Instant, String)>>>,
}

async fn scripted(script: Vec<Answer>) -> Scripted {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let polls = Arc::new(Mutex::new(Vec::new()));
    let record = polls.clone();
    tokio::spawn(async move {
        let mut n = 0usize;
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => head.extend_from_slice(&buf[..k]),
                }
            }
            let text = String::from_utf8_lossy(&head).to_string();
            record.lock().unwrap().push((Instant::now(), text));
            let Answer(code, headers, body) = script[n.min(script.len() - 1)].clone();
            n += 1;
            let mut out = format!("HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            out.push_str(&body);
            let _ = socket.write_all(out.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    Scripted { base_url, polls }
}

impl Scripted {
    fn times(&self) -> Vec<Instant> {
        self.polls.lock().unwrap().iter().map(|(t, _)| *t).collect()
    }
    fn gaps(&self) -> Vec<Duration> {
        self.times().windows(2).map(|w| w[1] - w[0]).collect()
    }
}

/// A client without HTTP timeouts, so that no timer is pending during a request.
fn client(base_url: &str) -> Client {
    client_with_key(base_url, "backend-key")
}

fn client_with_key(base_url: &str, key: &str) -> Client {
    let http = || {
        reqwest::Client::builder()
            .pool_idle_timeout(None)
            .build()
            .unwrap()
    };
    Client::builder()
        .api_key(key)
        .base_url(base_url)
        .http_client(http())
        .transfer_client(http())
        .build()
        .unwrap()
}

fn assert_polite(gaps: &[Duration]) {
    for (i, gap) in gaps.iter().enumerate() {
        assert!(
            *gap >= MIN_POLL_INTERVAL,
            "polls {i} and {} only {gap:?} apart: faster than 12 a minute",
            i + 1
        );
    }
}

#[tokio::test(start_paused = true)]
async fn each_polls_status_is_reported_as_it_comes() {
    let server = scripted(vec![
        status("PENDING"),
        status("RUNNING"),
        status("NEEDS_REVIEW"),
    ])
    .await;
    let mut seen = Vec::new();
    let outcome = client(&server.base_url)
        .wait_for_import_with_status(ID, &WaitOptions::default(), |status| {
            seen.push(status.clone())
        })
        .await
        .unwrap();
    assert_eq!(outcome.status(), ImportStatus::NeedsReview);
    assert_eq!(
        seen,
        [
            ImportStatus::Pending,
            ImportStatus::Running,
            ImportStatus::NeedsReview
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn pending_and_running_lead_to_success() {
    let server = scripted(vec![
        status("PENDING"),
        status("RUNNING"),
        status("RUNNING"),
        status("SUCCESSFUL"),
    ])
    .await;
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(outcome, WaitOutcome::Succeeded { .. }),
        "{outcome:?}"
    );
    assert_eq!(outcome.status(), ImportStatus::Successful);
    let polls = server.polls.lock().unwrap().clone();
    assert_eq!(polls.len(), 4);
    for (_, request) in &polls {
        assert!(
            request.starts_with(&format!("GET /api/v1/headless/imports/{ID}/ ")),
            "{request}"
        );
        assert!(
            request
                .to_ascii_lowercase()
                .contains("x-dromo-license-key: backend-key"),
            "{request}"
        );
    }
    assert_polite(&server.gaps());
}

#[tokio::test(start_paused = true)]
async fn unknown_statuses_keep_waiting_and_needs_review_gives_the_url() {
    let review = Answer(
        200,
        vec![],
        serde_json::json!({"id": ID, "status": "NEEDS_REVIEW", "review_url": "https://app.dromo.io/review/abc",
            "upload": "https://s3.example.com/k?X-Amz-Signature=topsecretsig"})
        .to_string(),
    );
    let server = scripted(vec![
        status("AWAITING_UPLOAD"),
        status("VALIDATING"),
        status("PENDING"),
        review,
    ])
    .await;
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap();
    match &outcome {
        WaitOutcome::NeedsReview { review_url, .. } => assert_eq!(
            review_url.as_deref(),
            Some("https://app.dromo.io/review/abc")
        ),
        other => panic!("{other:?}"),
    }
    assert!(outcome
        .to_string()
        .contains("https://app.dromo.io/review/abc"));
    assert!(
        !format!("{outcome:?}").contains("topsecretsig"),
        "the upload URL's signature must not show"
    );
    assert_eq!(server.times().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn failed_gives_the_import_errors() {
    let failed = Answer(
        200,
        vec![],
        serde_json::json!({"id": ID, "status": "FAILED", "import_errors": [{"message": "bad file"}, {"message": "no rows"}]}).to_string(),
    );
    let server = scripted(vec![status("RUNNING"), failed]).await;
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap();
    match outcome {
        WaitOutcome::Failed { import_errors, .. } => {
            assert_eq!(import_errors.len(), 2);
            assert_eq!(import_errors[0]["message"], "bad file");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_a_last_poll_at_the_deadline() {
    let server = scripted(vec![status("RUNNING")]).await;
    let options = WaitOptions::default().with_max_wait(Duration::from_secs(120));
    let start = Instant::now();
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &options)
        .await
        .unwrap();
    match &outcome {
        WaitOutcome::GaveUp {
            last_status,
            waited,
            import,
        } => {
            assert_eq!(*last_status, ImportStatus::Running);
            // The wait never outlasts max_wait (issue 8, finding 8).
            assert!(
                *waited >= Duration::from_secs(113) && *waited <= Duration::from_secs(120),
                "{waited:?}"
            );
            assert!(import.is_some());
        }
        other => panic!("{other:?}"),
    }
    let times = server.times();
    let last = *times.last().unwrap() - start;
    let before_last = times[times.len() - 2] - start;
    // The last poll is made 2 s before the deadline (or as soon after the one before as the
    // rate limit allows), unless no further poll could fit before the deadline at all.
    assert!(
        last == Duration::from_secs(118).max(before_last + MIN_POLL_INTERVAL)
            || last + MIN_POLL_INTERVAL >= Duration::from_secs(120),
        "last poll at {last:?}, the one before at {before_last:?}"
    );
    assert!(last < Duration::from_secs(120));
    assert_eq!(times[0], start, "the first poll is immediate");
    let gaps = server.gaps();
    assert_polite(&gaps);
    assert!(
        gaps.iter().all(|g| *g <= Duration::from_secs(30)),
        "{gaps:?}"
    );
    // Backoff: 5 s floor doubling to 30 s over 120 s is far fewer than the 25 polls the limit allows.
    assert!(
        times.len() >= 5 && times.len() <= 15,
        "{} polls: {gaps:?}",
        times.len()
    );
    assert!(
        gaps.iter()
            .rev()
            .skip(1)
            .take(2)
            .all(|g| *g >= Duration::from_secs(15)),
        "the delay grows: {gaps:?}"
    );
    assert!(outcome.to_string().contains("RUNNING"));
}

#[tokio::test(start_paused = true)]
async fn a_wait_shorter_than_the_floor_still_polls_politely() {
    let server = scripted(vec![status("PENDING")]).await;
    let options = WaitOptions::default().with_max_wait(Duration::from_secs(2));
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &options)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            WaitOutcome::GaveUp {
                last_status: ImportStatus::Pending,
                ..
            }
        ),
        "{outcome:?}"
    );
    // No second poll fits before the deadline without breaking the 12-a-minute limit, and
    // the wait does not outlast max_wait to make one.
    assert_eq!(server.times().len(), 1, "one poll, at once");
    let WaitOutcome::GaveUp { waited, .. } = outcome else {
        unreachable!()
    };
    assert!(waited <= Duration::from_secs(2), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn rate_limits_honour_retry_after() {
    let limited = Answer(
        429,
        vec![("Retry-After", "20".into())],
        r#"{"detail":"Request was throttled. Expected available in 20 seconds."}"#.into(),
    );
    let server = scripted(vec![status("PENDING"), limited, status("SUCCESSFUL")]).await;
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(outcome, WaitOutcome::Succeeded { .. }),
        "{outcome:?}"
    );
    let gaps = server.gaps();
    assert_eq!(gaps.len(), 2);
    assert!(
        gaps[1] >= Duration::from_secs(20),
        "Retry-After ignored: {gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let boom = Answer(503, vec![], r#"{"detail":"down"}"#.into());
    let server = scripted(vec![boom.clone(), boom.clone(), status("SUCCESSFUL")]).await;
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap();
    assert!(matches!(outcome, WaitOutcome::Succeeded { .. }));
    assert_polite(&server.gaps());

    let server = scripted(vec![boom]).await;
    let options = WaitOptions::default().with_max_request_retries(3);
    let err = client(&server.base_url)
        .wait_for_import(ID, &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert_eq!(server.times().len(), 4, "one poll and three retries");
    assert_polite(&server.gaps());
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_deadline_gives_up() {
    let limited = Answer(
        429,
        vec![("Retry-After", "3600".into())],
        r#"{"detail":"throttled"}"#.into(),
    );
    let server = scripted(vec![status("RUNNING"), limited]).await;
    let options = WaitOptions::default().with_max_wait(Duration::from_secs(60));
    let outcome = client(&server.base_url)
        .wait_for_import(ID, &options)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            WaitOutcome::GaveUp {
                last_status: ImportStatus::Running,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(server.times().len(), 2);

    let server = scripted(vec![Answer(
        429,
        vec![("Retry-After", "3600".into())],
        "{}".into(),
    )])
    .await;
    let err = client(&server.base_url)
        .wait_for_import(ID, &options)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn other_errors_end_the_wait_at_once() {
    let server = scripted(vec![Answer(
        401,
        vec![],
        r#"{"detail":"Invalid license key."}"#.into(),
    )])
    .await;
    let err = client(&server.base_url)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(server.times().len(), 1);

    let server = scripted(vec![Answer(
        404,
        vec![],
        r#"{"detail":"Not found."}"#.into(),
    )])
    .await;
    let err = client(&server.base_url)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(ID), "{err}");
    assert_eq!(server.times().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_malformed_id_sends_nothing() {
    let server = scripted(vec![status("SUCCESSFUL")]).await;
    let err = client(&server.base_url)
        .wait_for_import("not-an-id", &WaitOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(server.times().is_empty());
}

async fn create_file_import(server: &StandIn) -> String {
    let created = common::raw_create_file_import(
        server,
        serde_json::json!([{"key": "name", "label": "Name", "type": "string"}]),
    )
    .await;
    let upload = created["upload"].as_str().unwrap();
    reqwest::Client::new()
        .put(upload)
        .body("Name\nAda\nGrace\n")
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

#[tokio::test(start_paused = true)]
async fn the_stand_in_with_a_rate_limit_and_slow_steps() {
    let server = StandIn::builder()
        .polls_per_step(2)
        .rate_limit_first_polls(2, 7)
        .start()
        .await
        .unwrap();
    let id = create_file_import(&server).await;
    let start = Instant::now();
    let client = client_with_key(&server.base_url(), server.api_key());
    let outcome = client
        .wait_for_import(&id, &WaitOptions::default())
        .await
        .unwrap();
    assert!(
        matches!(outcome, WaitOutcome::Succeeded { .. }),
        "{outcome:?}"
    );
    let polls: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with(&format!("{id}/")))
        .collect();
    // 2 throttled, 2 PENDING, 2 RUNNING, 1 SUCCESSFUL.
    assert_eq!(
        polls.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 429, 200, 200, 200, 200, 200]
    );
    assert!(
        start.elapsed() >= Duration::from_secs(7 * 2 + 5 * 4),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn the_stand_in_outcomes() {
    for (outcome, expected) in [
        (Outcome::NeedsReview, ImportStatus::NeedsReview),
        (Outcome::Failed, ImportStatus::Failed),
    ] {
        let server = StandIn::builder().outcome(outcome).start().await.unwrap();
        let id = create_file_import(&server).await;
        let client = client_with_key(&server.base_url(), server.api_key());
        let waited = client
            .wait_for_import(&id, &WaitOptions::default())
            .await
            .unwrap();
        assert_eq!(waited.status(), expected, "{waited:?}");
        match waited {
            WaitOutcome::NeedsReview { review_url, .. } => assert!(review_url.is_some()),
            WaitOutcome::Failed { import_errors, .. } => assert!(!import_errors.is_empty()),
            other => panic!("{other:?}"),
        }
    }
}
