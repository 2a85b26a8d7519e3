//! Webhooks: typed events, confirmation against the server (forged ones refused), the stand-in
//! sending them, the receiver (feature `webhooks`) and `wait_for_import_or_webhook`.

use dromo_client::stand_in::{Outcome, StandIn};
use dromo_client::webhooks::WebhookEvent;
use dromo_client::{Client, Error, Field, FieldType, ImportId, ImportRequest, Schema, Source};
use serde_json::json;

const UNKNOWN_ID: &str = "66d6300d-1414-4655-83b4-8c80fc527315";

fn rows_request() -> ImportRequest {
    ImportRequest::new(
        Schema::inline([Field::new("email", "Email", FieldType::Email)]),
        Source::rows([["ada@example.com"], ["bob@example.com"]]).unwrap(),
    )
}

/// An import created on `client`'s stand-in, still unprocessed (`PENDING`).
async fn pending_import(client: &Client) -> ImportId {
    client.create_import(rows_request()).await.unwrap().id
}

fn completed(id: impl std::fmt::Display, status: &str) -> Vec<u8> {
    json!({"event": "import_completed", "data": {"id": id.to_string(), "status": status}})
        .to_string()
        .into_bytes()
}

#[test]
fn documented_json_parses_and_extra_fields_are_tolerated() {
    let body = json!({
        "event": "headless_import_needs_review",
        "data": {
            "id": UNKNOWN_ID, "filename": "people.csv",
            "user": {"id": "u1", "name": "Ada", "email": "ada@example.com", "company_id": "c1", "company_name": "Acme", "extra": 1},
            "created_date": "2024-01-01T00:00:00Z", "import_type": "HEADLESS", "status": "NEEDS_REVIEW",
            "num_data_rows": 2, "development_mode": false, "has_data": true,
            "headless": {"id": UNKNOWN_ID, "status": "NEEDS_REVIEW"}, "something_new": [1, 2]
        },
        "also_new": true
    });
    let event = WebhookEvent::from_json(body.to_string().as_bytes()).unwrap();
    let WebhookEvent::HeadlessImportNeedsReview(data) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(data.id.to_string(), UNKNOWN_ID);
    assert_eq!(
        data.user.as_ref().unwrap().company_id.as_deref(),
        Some("c1")
    );
    assert_eq!(data.num_data_rows, Some(2));
    assert_eq!(event.name(), "headless_import_needs_review");

    let failed = json!({"event": "headless_import_failed", "data": {"id": UNKNOWN_ID}});
    let event = WebhookEvent::parse(
        Some("application/json; charset=utf-8"),
        failed.to_string().as_bytes(),
    )
    .unwrap();
    assert!(matches!(event, WebhookEvent::HeadlessImportFailed(_)));

    let unknown = json!({"event": "import_started", "data": {"id": UNKNOWN_ID}});
    let event = WebhookEvent::from_json(unknown.to_string().as_bytes()).unwrap();
    assert!(matches!(&event, WebhookEvent::Unknown { event, .. } if event == "import_started"));
    assert_eq!(event.import_id(), None);
}

#[test]
fn legacy_form_parses() {
    let body = format!("uploadId={UNKNOWN_ID}&other=x");
    let event =
        WebhookEvent::parse(Some("application/x-www-form-urlencoded"), body.as_bytes()).unwrap();
    assert_eq!(event.import_id().unwrap().to_string(), UNKNOWN_ID);
    assert_eq!(event.name(), "legacy_upload");
}

#[test]
fn bad_bodies_are_clear_errors() {
    let cases: [(Option<&str>, &[u8], &str); 6] = [
        (
            Some("application/json"),
            b"{not json",
            "JSON body is unusable",
        ),
        (
            Some("application/json"),
            br#"{"event": "import_completed", "data": {"id": "nope"}}"#,
            "`data` is unusable",
        ),
        (
            Some("application/json"),
            br#"{"data": {}}"#,
            "JSON body is unusable",
        ),
        (
            Some("application/x-www-form-urlencoded"),
            b"id=1",
            "no `uploadId`",
        ),
        (
            Some("text/plain"),
            b"uploadId=x",
            "content type `text/plain`",
        ),
        (None, b"{}", "no content type"),
    ];
    for (content_type, body, expected) in cases {
        let err = WebhookEvent::parse(content_type, body).unwrap_err();
        assert!(matches!(err, Error::WebhookInvalid { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(expected), "{text}");
        assert!(text.contains("refuse it"), "{text}");
    }
}

#[tokio::test]
async fn confirm_returns_the_servers_state() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let id = pending_import(&client).await;
    assert_eq!(
        server.process_import(&id.to_string()).await.as_deref(),
        Some("SUCCESSFUL")
    );
    let event = WebhookEvent::from_json(&completed(id, "SUCCESSFUL")).unwrap();
    let confirmed = client.confirm_webhook(&event).await.unwrap();
    assert_eq!(confirmed.import_id(), id);
    assert_eq!(confirmed.status(), dromo_client::ImportStatus::Successful);
    assert_eq!(confirmed.event(), "import_completed");
    let legacy = WebhookEvent::from_form(format!("uploadId={id}").as_bytes()).unwrap();
    client.confirm_webhook(&legacy).await.unwrap();
}

/// A stand-in whose imports move only when told (`process_import`): a retrieve (such as a
/// confirmation) does not process them.
async fn still_stand_in() -> StandIn {
    StandIn::builder()
        .polls_per_step(1000)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn forged_events_are_not_confirmed() {
    let server = still_stand_in().await;
    let client = server.client().unwrap();

    // An id the server does not know.
    let event = WebhookEvent::from_json(&completed(UNKNOWN_ID, "SUCCESSFUL")).unwrap();
    let err = client.confirm_webhook(&event).await.unwrap_err();
    assert!(
        matches!(&err, Error::WebhookUnknownImport { import_id, .. } if import_id == UNKNOWN_ID),
        "{err:?}"
    );

    // "Completed" while the import is still pending (and the legacy form too).
    let id = pending_import(&client).await;
    let event = WebhookEvent::from_json(&completed(id, "SUCCESSFUL")).unwrap();
    let err = client.confirm_webhook(&event).await.unwrap_err();
    assert!(
        matches!(&err, Error::WebhookStatusMismatch { actual, .. } if actual == "PENDING"),
        "{err:?}"
    );
    let legacy = WebhookEvent::from_form(format!("uploadId={id}").as_bytes()).unwrap();
    assert!(matches!(
        client.confirm_webhook(&legacy).await,
        Err(Error::WebhookStatusMismatch { .. })
    ));

    // Once it succeeded: a "failed" event, and a "completed" claiming FAILED, disagree.
    server.process_import(&id.to_string()).await;
    let failed = json!({"event": "headless_import_failed", "data": {"id": id.to_string()}});
    let event = WebhookEvent::from_json(failed.to_string().as_bytes()).unwrap();
    let err = client.confirm_webhook(&event).await.unwrap_err();
    assert!(
        matches!(&err, Error::WebhookStatusMismatch { claimed, actual, .. } if claimed == "headless_import_failed" && actual == "SUCCESSFUL"),
        "{err:?}"
    );
    let event = WebhookEvent::from_json(&completed(id, "FAILED")).unwrap();
    let err = client.confirm_webhook(&event).await.unwrap_err();
    assert!(
        matches!(&err, Error::WebhookStatusMismatch { claimed, .. } if claimed == "FAILED"),
        "{err:?}"
    );
    assert!(err.to_string().contains("may be forged"), "{err}");

    // Unknown events cannot be confirmed.
    let unknown = WebhookEvent::from_json(br#"{"event": "x", "data": {}}"#).unwrap();
    assert!(matches!(
        client.confirm_webhook(&unknown).await,
        Err(Error::WebhookInvalid { .. })
    ));
}

/// A plain listener that records what the stand-in posts.
async fn recorder() -> (String, tokio::sync::mpsc::Receiver<(String, String)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let text = String::from_utf8_lossy(&data).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let head = text[..end].to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        if data.len() >= end + 4 + length {
                            let content_type = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-type:"))
                                .unwrap_or("")
                                .trim()
                                .to_owned();
                            let body = String::from_utf8_lossy(&data[end + 4..]).to_string();
                            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                            let _ = tx.send((content_type, body)).await;
                            return;
                        }
                    }
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => data.extend_from_slice(&buf[..n]),
                    }
                }
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn the_stand_in_posts_each_event_as_dromo_does() {
    let (url, mut posted) = recorder().await;
    let server = StandIn::builder()
        .webhook_url(&url)
        .legacy_webhook_url(&url)
        .outcome(Outcome::NeedsReview)
        .start()
        .await
        .unwrap();
    let client = server.client().unwrap();
    let id = pending_import(&client).await;
    server.process_import(&id.to_string()).await;
    // NEEDS_REVIEW: the JSON event only (the upload is not complete yet).
    let (content_type, body) = posted.recv().await.unwrap();
    assert_eq!(content_type, "application/json");
    let event = WebhookEvent::from_json(body.as_bytes()).unwrap();
    let WebhookEvent::HeadlessImportNeedsReview(data) = &event else {
        panic!("{body}")
    };
    assert_eq!(data.id, id);
    assert_eq!(data.num_data_rows, Some(2));
    let headless = data.headless.as_ref().unwrap();
    assert!(!headless.contains_key("review_url"), "{body}");
    client.confirm_webhook(&event).await.unwrap();

    // The review done: import_completed, then the legacy form.
    assert!(server.complete_review(&id.to_string()));
    let mut got = [posted.recv().await.unwrap(), posted.recv().await.unwrap()];
    got.sort();
    assert_eq!(got[0].0, "application/json");
    assert!(WebhookEvent::from_json(got[0].1.as_bytes()).unwrap().name() == "import_completed");
    assert_eq!(
        got[1],
        (
            "application/x-www-form-urlencoded".to_owned(),
            format!("uploadId={id}")
        )
    );
}

#[cfg(feature = "webhooks")]
mod receiver {
    use super::*;
    use dromo_client::webhooks::{receiver_with, ReceiverOptions, Wakeups};
    use dromo_client::{WaitOptions, WaitOutcome};
    use std::time::Duration;
    use tokio::sync::mpsc;

    /// Serves the receiver on 127.0.0.1; returns its URL and the confirmed events.
    async fn serve(
        client: Client,
        options: ReceiverOptions,
    ) -> (
        String,
        mpsc::Receiver<dromo_client::webhooks::ConfirmedEvent>,
    ) {
        let (sink, confirmed) = mpsc::channel(16);
        let app = axum::Router::new().nest_service("/hook", receiver_with(client, sink, options));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url, confirmed)
    }

    async fn post(url: &str, content_type: &str, body: Vec<u8>) -> u16 {
        reqwest::Client::new()
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    #[tokio::test]
    async fn forged_webhooks_are_refused_and_real_ones_delivered_once() {
        let (hook_url, mut posted) = recorder().await; // the stand-in's events, relayed below
        let server = StandIn::builder()
            .polls_per_step(1000)
            .webhook_url(&hook_url)
            .start()
            .await
            .unwrap();
        let client = server.client().unwrap();
        let (url, mut confirmed) = serve(
            client.clone(),
            ReceiverOptions::default().with_max_body_bytes(4096),
        )
        .await;
        let id = pending_import(&client).await;

        // Refused at once: wrong content type, oversized, not a webhook.
        assert_eq!(
            post(&url, "text/plain", completed(id, "SUCCESSFUL")).await,
            415
        );
        assert_eq!(post(&url, "application/json", vec![b' '; 5000]).await, 413);
        assert_eq!(post(&url, "application/json", b"{}".to_vec()).await, 400);
        // Accepted but never delivered: unknown id, and "completed" while still PENDING.
        assert_eq!(
            post(
                &url,
                "application/json",
                completed(UNKNOWN_ID, "SUCCESSFUL")
            )
            .await,
            202
        );
        assert_eq!(
            post(&url, "application/json", completed(id, "SUCCESSFUL")).await,
            202
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            confirmed.try_recv().is_err(),
            "a forged webhook was delivered"
        );

        // The real event, as the stand-in posts it, is confirmed and delivered.
        server.process_import(&id.to_string()).await;
        let (content_type, body) = posted.recv().await.unwrap();
        assert_eq!(
            post(&url, &content_type, body.clone().into_bytes()).await,
            202
        );
        let event = tokio::time::timeout(Duration::from_secs(10), confirmed.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event.import_id(), id);
        assert_eq!(event.event(), "import_completed");
        assert_eq!(event.status(), dromo_client::ImportStatus::Successful);

        // Replays (and the forged copy sent before) are dropped.
        for _ in 0..3 {
            assert_eq!(
                post(&url, &content_type, body.clone().into_bytes()).await,
                202
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(confirmed.try_recv().is_err(), "a replay was delivered");
    }

    /// How many times the stand-in was asked about import `id`.
    fn polls_of(server: &StandIn, id: ImportId) -> usize {
        let path = format!("/api/v1/headless/imports/{id}/");
        server
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path == path)
            .count()
    }

    #[tokio::test]
    async fn a_flood_of_forged_webhooks_cannot_spend_an_imports_poll_budget() {
        let server = StandIn::builder()
            .polls_per_step(1000)
            .start()
            .await
            .unwrap();
        let client = server.client().unwrap();
        let spacing = Duration::from_millis(400);
        let (url, mut confirmed) = serve(
            client.clone(),
            ReceiverOptions::default().with_confirm_spacing_for_tests(spacing),
        )
        .await;
        let id = pending_import(&client).await;
        let started = std::time::Instant::now();
        // 60 forged "completed" webhooks about a real, PENDING import over ~1.2 s.
        for _ in 0..60 {
            assert_eq!(
                post(&url, "application/json", completed(id, "SUCCESSFUL")).await,
                202
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(spacing).await;
        let elapsed = started.elapsed();
        let polls = polls_of(&server, id);
        // At most one confirmation per `spacing`, however many copies came.
        let allowed = (elapsed.as_millis() / spacing.as_millis()) as usize + 1;
        assert!(
            (1..=allowed).contains(&polls),
            "{polls} polls in {elapsed:?}, allowed {allowed}"
        );
        assert!(
            confirmed.try_recv().is_err(),
            "a forged webhook was delivered"
        );

        // The real event after the flood is still confirmed, in its turn.
        server.process_import(&id.to_string()).await;
        assert_eq!(
            post(&url, "application/json", completed(id, "SUCCESSFUL")).await,
            202
        );
        let event = tokio::time::timeout(Duration::from_secs(10), confirmed.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event.import_id(), id);
    }

    #[tokio::test]
    async fn when_every_confirmation_slot_is_taken_the_answer_is_503_with_retry_after() {
        let server = StandIn::builder()
            .polls_per_step(1000)
            .start()
            .await
            .unwrap();
        let client = server.client().unwrap();
        let (url, _confirmed) = serve(
            client.clone(),
            ReceiverOptions::default()
                .with_max_confirming(1)
                .with_confirm_spacing_for_tests(Duration::from_secs(3)),
        )
        .await;
        let id = pending_import(&client).await;
        let other = pending_import(&client).await;
        // The first confirmation of `id` runs at once; the second (another event of the same
        // import) waits its turn holding the only slot.
        assert_eq!(
            post(&url, "application/json", completed(id, "SUCCESSFUL")).await,
            202
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let failed = json!({"event": "headless_import_failed", "data": {"id": id.to_string()}});
        assert_eq!(
            post(&url, "application/json", failed.to_string().into_bytes()).await,
            202
        );
        let response = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .body(completed(other, "SUCCESSFUL"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 503);
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .unwrap()
                .to_str()
                .unwrap(),
            "30"
        );
        // `other` was never asked about.
        assert_eq!(polls_of(&server, other), 0);
    }

    /// A Dromo that accepts connections and never answers: on a stalled network, confirmations
    /// hold their slots until the client's request timeout, new webhooks get 503 meanwhile, and
    /// the slots come back once the stalled requests give up.
    #[tokio::test]
    async fn a_stalled_dromo_fills_the_slots_then_frees_them_at_the_timeout() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}/api/v1", silent.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket); // read nothing, answer nothing
            }
        });
        let client = Client::builder()
            .api_key("backend-key")
            .base_url(base_url)
            .request_timeout(Duration::from_millis(800))
            .retry_policy(dromo_client::RetryPolicy::default().with_max_attempts(1))
            .build()
            .unwrap();
        let (url, mut confirmed) =
            serve(client, ReceiverOptions::default().with_max_confirming(2)).await;
        let event = |id: &str| completed(id, "SUCCESSFUL");
        let ids = [
            "0b7b1d3e-0000-4000-8000-000000000001",
            "0b7b1d3e-0000-4000-8000-000000000002",
            "0b7b1d3e-0000-4000-8000-000000000003",
        ];
        assert_eq!(post(&url, "application/json", event(ids[0])).await, 202);
        assert_eq!(post(&url, "application/json", event(ids[1])).await, 202);
        assert_eq!(post(&url, "application/json", event(ids[2])).await, 503);
        // Past the request timeout the stalled confirmations have failed and freed their slots.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(post(&url, "application/json", event(ids[2])).await, 202);
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert!(
            confirmed.try_recv().is_err(),
            "an unconfirmed event was delivered"
        );
    }

    #[tokio::test]
    async fn the_legacy_form_from_the_stand_in_is_confirmed_and_delivered() {
        let (hook_url, mut posted) = recorder().await;
        let server = StandIn::builder()
            .polls_per_step(1000)
            .legacy_webhook_url(&hook_url)
            .start()
            .await
            .unwrap();
        let client = server.client().unwrap();
        let (url, mut confirmed) = serve(client.clone(), ReceiverOptions::default()).await;
        let id = pending_import(&client).await;
        // Forged before the import ends: accepted, never delivered.
        let form = format!("uploadId={id}").into_bytes();
        assert_eq!(
            post(&url, "application/x-www-form-urlencoded", form).await,
            202
        );
        server.process_import(&id.to_string()).await;
        let (content_type, body) = posted.recv().await.unwrap();
        assert_eq!(content_type, "application/x-www-form-urlencoded");
        assert_eq!(post(&url, &content_type, body.into_bytes()).await, 202);
        let event = tokio::time::timeout(Duration::from_secs(10), confirmed.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((event.import_id(), event.event()), (id, "legacy_upload"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(confirmed.try_recv().is_err(), "delivered twice");
    }

    #[tokio::test]
    async fn a_webhook_wakes_a_waiting_import() {
        // Each status lasts 1000 polls: polling alone would not see the end for hours.
        let wakeups = Wakeups::new();
        let (hook_url, mut posted) = recorder().await;
        let server = StandIn::builder()
            .polls_per_step(1000)
            .webhook_url(&hook_url)
            .start()
            .await
            .unwrap();
        let client = server.client().unwrap();
        let (url, _confirmed) = serve(
            client.clone(),
            ReceiverOptions::default().with_wakeups(wakeups.clone()),
        )
        .await;
        let id = pending_import(&client).await;
        let polls_before = server.requests().len();
        let waiter = {
            let client = client.clone();
            let wakeups = wakeups.clone();
            tokio::spawn(async move {
                let options = WaitOptions::default().with_max_wait(Duration::from_secs(120));
                client
                    .wait_for_import_or_webhook(id, &options, &wakeups)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await; // the first poll: PENDING
        server.process_import(&id.to_string()).await;
        let (content_type, body) = posted.recv().await.unwrap();
        assert_eq!(post(&url, &content_type, body.into_bytes()).await, 202);
        let outcome = tokio::time::timeout(Duration::from_secs(3), waiter)
            .await
            .expect("the webhook did not wake the wait (it would poll every 5 s)")
            .unwrap()
            .unwrap();
        assert!(
            matches!(outcome, WaitOutcome::Succeeded { .. }),
            "{outcome:?}"
        );
        // One poll by the waiter, one GET by the receiver's confirmation: no more.
        let gets = server.requests()[polls_before..]
            .iter()
            .filter(|r| r.method == "GET")
            .count();
        assert_eq!(gets, 2, "{:?}", server.requests());
    }
}
