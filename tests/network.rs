//! Real networks (issue 8): slow links, stalls, cut bodies, resets and hostile answers, each
//! served by the fault server of `common::fault`. One test (or more) per finding of the issue.
//!
//! Tests on tokio's paused clock use clients without HTTP timers (no timer pending while a
//! request is under way, so virtual time moves only when the client sleeps); the transfer
//! tests run on the real clock with small bodies.

mod common;

use common::fault::{FaultServer, Reply, Request};
use dromo_client::{
    Client, ConnectionFailure, Error, ImportRequest, ImportStatus, PresignedUrl, RetryPolicy,
    Schema, Source, UploadOptions, UploadSource, WaitOptions, WaitOutcome,
};
use serde_json::json;
use std::error::Error as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const KEY: &str = "test-backend-key-7f3a";
const ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";
const SECRET: &str = "SECRETSIG0123456789";

/// A client of `server` (API under `/api/v1`) with reqwest's default timers.
fn client(server: &FaultServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.url("/api/v1"))
        .build()
        .unwrap()
}

/// A client without any timer of its own, for tests on the paused clock.
fn timer_free_client(server: &FaultServer) -> Client {
    let http = || reqwest::Client::builder().build().unwrap();
    Client::builder()
        .api_key(KEY)
        .base_url(server.url("/api/v1"))
        .http_client(http())
        .transfer_client(http())
        .without_transfer_stall_timeout()
        .build()
        .unwrap()
}

fn import_json(status: &str) -> serde_json::Value {
    json!({"id": ID, "status": status, "original_filename": "a.csv"})
}

fn presigned(server: &FaultServer, path: &str) -> PresignedUrl {
    PresignedUrl::parse(&server.url(&format!(
        "{path}?X-Amz-Credential=AKIA{SECRET}&X-Amz-Signature={SECRET}"
    )))
    .unwrap()
}

fn mib(n: usize) -> Vec<u8> {
    (0..n * 1024 * 1024).map(|i| (i % 251) as u8).collect()
}

// Finding 1: an upload longer than the stall timeout succeeds while bytes flow.

#[tokio::test]
async fn an_upload_longer_than_the_stall_timeout_succeeds_while_bytes_flow() {
    let server = FaultServer::start(|_: &Request| Reply::new(200).read_rate(1024 * 1024));
    let short_stall = Client::builder()
        .api_key(KEY)
        .base_url(server.url("/api/v1"))
        .transfer_stall_timeout(Duration::from_millis(1000))
        .build()
        .unwrap();
    let body = mib(3);
    let started = std::time::Instant::now();
    let done = short_stall
        .upload_with(
            &presigned(&server, "/bucket/key"),
            UploadSource::from_bytes("big.csv", body.clone()),
            &UploadOptions::default().with_max_attempts(1),
        )
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!((done.bytes, done.attempts), (body.len() as u64, 1));
    assert!(
        took >= Duration::from_millis(2500),
        "the server read at 1 MiB/s, so the upload took longer than the stall timeout: {took:?}"
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].body_complete && seen[0].body == body);

    // The per-upload option applies too, over a client with the default.
    let server = FaultServer::start(|_: &Request| Reply::new(200).read_rate(1024 * 1024));
    let done = client(&server)
        .upload_with(
            &presigned(&server, "/bucket/key"),
            UploadSource::from_bytes("big.csv", mib(3)),
            &UploadOptions::default()
                .with_max_attempts(1)
                .with_stall_timeout(Duration::from_millis(1000)),
        )
        .await
        .unwrap();
    assert_eq!(done.attempts, 1);
}

#[tokio::test]
async fn a_stalled_upload_fails_after_the_stall_timeout() {
    let server = FaultServer::start(|_: &Request| {
        Reply::new(200).stall_read_after(256 * 1024, Duration::from_secs(30))
    });
    let started = std::time::Instant::now();
    let err = client(&server)
        .upload_with(
            &presigned(&server, "/bucket/key"),
            UploadSource::from_bytes("big.csv", mib(2)),
            &UploadOptions::default()
                .with_max_attempts(1)
                .with_stall_timeout(Duration::from_millis(500)),
        )
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = err.to_string();
    assert!(
        text.contains("no byte moved for 0.5 s") && err.is_retryable(),
        "{text}"
    );
    assert!(!text.contains(SECRET) && !format!("{err:?}").contains(SECRET));
}

// Finding 9: after a failed attempt, the message says what is known, not "received".

#[tokio::test]
async fn a_broken_upload_says_how_far_it_got_without_claiming_what_s3_received() {
    let server = FaultServer::start(|_: &Request| Reply::new(200).reset_after(100 * 1024));
    let err = client(&server)
        .upload_with(
            &presigned(&server, "/bucket/key"),
            UploadSource::from_bytes("big.csv", mib(4)),
            &UploadOptions::default().with_max_attempts(1),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("handed to the network"), "{text}");
    assert!(
        text.contains("S3 may have received fewer") || text.contains("before S3 answered"),
        "{text}"
    );
    assert!(err.is_retryable(), "{text}");
    let received = server.requests()[0].body.len();
    assert!(received < 4 * 1024 * 1024, "{received}");
}

// Finding 2: no panic on absurd durations, from the server or the caller.

#[tokio::test(start_paused = true)]
async fn a_retry_after_of_u64_max_on_a_poll_gives_up_without_panic() {
    let server = FaultServer::start(|req: &Request| match req.index {
        0 => Reply::json(200, import_json("RUNNING")),
        _ => Reply::too_many("18446744073709551615"),
    });
    let outcome = timer_free_client(&server)
        .wait_for_import(ID, &WaitOptions::default())
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
    assert_eq!(
        server.requests().len(),
        2,
        "no retry scheduled past any deadline"
    );

    // The same on a retrieve: the error, at once.
    let server = FaultServer::start(|_: &Request| Reply::too_many("18446744073709551615"));
    let err = timer_free_client(&server)
        .retrieve_import(ID)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn a_max_wait_of_duration_max_means_no_limit() {
    let server = FaultServer::start(|req: &Request| {
        Reply::json(
            200,
            import_json(if req.index < 3 {
                "RUNNING"
            } else {
                "SUCCESSFUL"
            }),
        )
    });
    let options = WaitOptions::default()
        .with_max_wait(Duration::MAX)
        .with_max_delay(Duration::MAX);
    let outcome = timer_free_client(&server)
        .wait_for_import(ID, &options)
        .await
        .unwrap();
    assert!(
        matches!(outcome, WaitOutcome::Succeeded { .. }),
        "{outcome:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn absurd_caller_durations_do_not_panic() {
    let server = FaultServer::start(|_: &Request| Reply::json(503, json!({"detail": "down"})));
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.url("/api/v1"))
        .http_client(reqwest::Client::new())
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(u32::MAX)
                .with_initial_delay(Duration::MAX)
                .with_max_delay(Duration::MAX),
        )
        .transfer_stall_timeout(Duration::MAX)
        .build()
        .unwrap();
    let err = client.retrieve_import(ID).await.unwrap_err();
    assert!(matches!(err, Error::Server { .. }), "{err:?}");
    assert_eq!(
        server.requests().len(),
        1,
        "a retry that far away is not made"
    );
}

// Finding 3: a create that reached Dromo is never retried nor called unreachable.

#[tokio::test]
async fn a_create_whose_answer_broke_off_may_have_created_the_import() {
    let created = json!({"id": ID, "status": "AWAITING_UPLOAD", "upload": "https://s3.example.com/k?X-Amz-Signature=x"});
    let server =
        FaultServer::start(move |_: &Request| Reply::json(201, created.clone()).cut_after(50));
    let err = client(&server)
        .create_import(ImportRequest::new(
            Schema::saved(ID),
            Source::file("people.csv"),
        ))
        .await
        .unwrap_err();
    let Error::CreateOutcomeUnknown {
        status, import_id, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*status, Some(201));
    assert_eq!(
        import_id.as_deref(),
        Some(ID),
        "read from the part that arrived"
    );
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("may have been created") && text.contains("list recent imports"),
        "{text}"
    );
    assert!(!text.starts_with("could not reach"), "{text}");
    assert_eq!(server.requests().len(), 1, "never sent twice");
}

#[tokio::test]
async fn a_create_reset_after_its_body_was_sent_is_not_retried() {
    let server = FaultServer::start(|_: &Request| Reply::new(201).reset_after_body());
    let err = client(&server)
        .create_import(ImportRequest::new(
            Schema::saved(ID),
            Source::file("people.csv"),
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::CreateOutcomeUnknown {
                status: None,
                kind: Some(ConnectionFailure::Broken),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable() && err.source().is_some());
    let seen = server.requests();
    assert_eq!(seen.len(), 1, "never sent twice");
    assert!(seen[0].body_complete);
}

// Finding 4: Retry-After is counted from when the 429 arrived.

#[tokio::test(start_paused = true)]
async fn retry_after_counts_from_the_answer() {
    let polls: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let record = polls.clone();
    let server = FaultServer::start(move |req: &Request| {
        record.lock().unwrap().push(Instant::now());
        match req.index {
            0 => Reply::json(200, import_json("RUNNING")),
            1 => Reply::too_many("7").delay(Duration::from_secs(3)),
            _ => Reply::json(200, import_json("SUCCESSFUL")),
        }
    });
    let outcome = timer_free_client(&server)
        .wait_for_import(ID, &WaitOptions::default())
        .await
        .unwrap();
    assert!(matches!(outcome, WaitOutcome::Succeeded { .. }));
    let polls = polls.lock().unwrap();
    assert_eq!(polls.len(), 3);
    let gap = polls[2] - polls[1];
    assert!(
        gap >= Duration::from_secs(10),
        "the 429 arrived 3 s after its poll and asked for 7 s: {gap:?}"
    );
}

// Finding 5: no signature in any message, from snippets or echoed server text.

#[tokio::test]
async fn presigned_urls_in_server_answers_never_reach_a_message() {
    let url = format!(
        "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA{SECRET}&X-Amz-Signature={SECRET}"
    );
    let short = format!("https://b.s3.amazonaws.com/k?Signature={SECRET}");
    let (bad_status, echo) = (url.clone(), short.clone());
    let server = FaultServer::start(move |req: &Request| match req.index {
        // Decodes badly: `status` is a number; the snippet would show the URL.
        0 => Reply::json(200, json!({"upload": bad_status, "id": ID, "status": 42})),
        // A server message that repeats the URL.
        1 => Reply::json(400, json!({"detail": format!("bad upload {echo}")})),
        _ => Reply::new(502)
            .header("Content-Type", "text/html")
            .body(format!("<html>proxy error for {echo}</html>")),
    });
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.url("/api/v1"))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    for _ in 0..3 {
        let err = client.retrieve_import(ID).await.unwrap_err();
        let mut shown = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}")];
        let mut source = err.source();
        while let Some(s) = source {
            shown.push(s.to_string());
            source = s.source();
        }
        for text in shown {
            assert!(!text.contains(SECRET), "credential shown: {text}");
        }
    }
}

// Finding 6: messages from JSON error bodies are bounded.

#[tokio::test]
async fn a_huge_error_body_gives_a_bounded_message() {
    let server = FaultServer::start(|_: &Request| Reply::huge_json_error(400, 60_000));
    let err = client(&server).retrieve_import(ID).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Rejected { .. }), "{err:?}");
    assert!(
        text.chars().count() < 1_200,
        "{} chars",
        text.chars().count()
    );
    assert!(text.contains('…'), "the cut is visible: {text}");
}

// Finding 7: a results body cut off is retryable with or without Content-Length, and every
// complete row before the cut is yielded.

async fn cut_results(with_length: bool) -> (Vec<serde_json::Value>, Error) {
    let rows = r#"[{"a":1},{"a":2},{"a":3}]"#;
    let server = FaultServer::start(move |req: &Request| {
        if req.path().ends_with("/url/") {
            let url = format!(
                "{}/results/{ID}.json?X-Amz-Signature={SECRET}",
                req.base_url
            );
            Reply::json(200, json!({ "presigned_url": url }))
        } else {
            let reply = Reply::new(200).body(rows).cut_after(20);
            if with_length {
                reply
            } else {
                reply.without_content_length()
            }
        }
    });
    use futures_util::StreamExt;
    let mut stream = client(&server)
        .stream_results::<serde_json::Value>(ID)
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(row) => got.push(row),
            Err(e) => return (got, e),
        }
    }
    panic!("the cut body ended without an error: {got:?}")
}

#[tokio::test]
async fn a_cut_results_body_is_retryable_and_keeps_its_complete_rows() {
    for with_length in [false, true] {
        let (rows, err) = cut_results(with_length).await;
        assert_eq!(
            rows,
            vec![json!({"a": 1}), json!({"a": 2})],
            "Content-Length: {with_length}"
        );
        assert!(err.is_retryable(), "Content-Length: {with_length}: {err}");
        assert!(!err.to_string().contains("please report"), "{err}");
        assert!(!err.to_string().contains(SECRET), "{err}");
    }
}

// Finding 8: max_wait is not overshot by a request that hangs.

#[tokio::test(start_paused = true)]
async fn max_wait_bounds_a_hanging_poll() {
    let server = FaultServer::start(|req: &Request| match req.index {
        0 => Reply::json(200, import_json("RUNNING")),
        _ => Reply::json(200, import_json("SUCCESSFUL")).delay(Duration::from_secs(600)),
    });
    let started = Instant::now();
    let outcome = timer_free_client(&server)
        .wait_for_import(
            ID,
            &WaitOptions::default().with_max_wait(Duration::from_secs(30)),
        )
        .await
        .unwrap();
    let waited = started.elapsed();
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
    assert!(waited <= Duration::from_secs(30), "{waited:?}");
}

// The retry policy over every idempotent request: a result download that fails before any
// byte (a 503, a reset) is fetched again.

#[tokio::test]
async fn result_url_and_download_are_retried() {
    let server = FaultServer::start(|req: &Request| match req.index {
        0 => Reply::json(503, json!({"detail": "busy"})).header("Retry-After", "0"),
        1 => {
            let url = format!("{}/results/x.json?X-Amz-Signature=s", req.base_url);
            Reply::json(200, json!({ "presigned_url": url }))
        }
        2 => Reply::new(200).reset_after(0),
        3 => Reply::html_502(4096),
        _ => Reply::new(200).body(r#"[{"a":1}]"#),
    });
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.url("/api/v1"))
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    let rows: Vec<serde_json::Value> = client.fetch_results(ID).await.unwrap();
    assert_eq!(rows, vec![json!({"a": 1})]);
    assert_eq!(server.requests().len(), 5);
}

// The retry policy as a whole: a server failing 30 % of requests at random (503s, 502 pages,
// resets before and after the body, answers cut in half); creates only ever throttled (429),
// the one failure after which sending a create again is safe.

/// A fake Dromo on the fault server: create, upload, three polls, result URL, 200 rows.
fn fake_dromo(flaky: &Arc<common::fault::Flaky>) -> FaultServer {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let polls = Arc::new(AtomicUsize::new(0));
    let rows: Vec<serde_json::Value> = (0..200)
        .map(|i| json!({"email": format!("p{i}@example.com"), "n": i}))
        .collect();
    let rows = serde_json::to_vec(&rows).unwrap();
    let inner = move |req: &Request| {
        let base = &req.base_url;
        match (req.method.as_str(), req.path()) {
            ("POST", "/api/v1/headless/imports/") => Reply::json(
                201,
                json!({"id": ID, "status": "AWAITING_UPLOAD",
                       "upload": format!("{base}/bucket/upload?X-Amz-Signature={SECRET}"),
                       "review_url": format!("{base}/review/{ID}")}),
            ),
            ("PUT", "/bucket/upload") => Reply::new(200),
            ("GET", p) if p.ends_with("/url/") => Reply::json(
                200,
                json!({"presigned_url": format!("{base}/results/{ID}.json?X-Amz-Signature={SECRET}")}),
            ),
            ("GET", p) if p.starts_with("/api/v1/headless/imports/") => {
                let n = polls.fetch_add(1, Ordering::SeqCst);
                Reply::json(
                    200,
                    import_json(if n < 2 { "RUNNING" } else { "SUCCESSFUL" }),
                )
            }
            ("GET", p) if p.starts_with("/results/") => Reply::new(200).body(rows.clone()),
            _ => Reply::json(404, json!({"detail": "Not found."})),
        }
    };
    let faults = flaky.clone();
    let wrapped = flaky.wrap(inner);
    FaultServer::start(move |req: &Request| {
        let is_create = req.method == "POST" && req.path() == "/api/v1/headless/imports/";
        if is_create && faults.fault_for(req.index).is_some() {
            return Reply::too_many("0");
        }
        wrapped(req)
    })
}

#[tokio::test(start_paused = true)]
async fn a_whole_import_survives_a_server_failing_30_percent_of_requests() {
    use common::fault::Flaky;
    let (mut requests, mut imports) = (0usize, 0usize);
    let ideal_per_import = 7; // create, upload, 3 polls, result URL, download
    for seed in 1..=20u64 {
        let flaky = Arc::new(Flaky::new(seed, 0.3));
        let server = fake_dromo(&flaky);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("people.csv");
        std::fs::write(&file, "email\np0@example.com\n").unwrap();
        let client = Client::builder()
            .api_key(KEY)
            .base_url(server.url("/api/v1"))
            .http_client(reqwest::Client::new())
            .transfer_client(reqwest::Client::new())
            .without_transfer_stall_timeout()
            .retry_policy(RetryPolicy::default().with_max_attempts(6))
            .build()
            .unwrap();
        let outcome = client
            .import_file::<serde_json::Value>(&file, Schema::saved(ID))
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e} (injected {:?})", flaky.injected()));
        assert_eq!(outcome.status(), ImportStatus::Successful, "seed {seed}");
        let rows = outcome.rows().unwrap();
        assert_eq!(rows.len(), 200, "seed {seed}: every row, once");
        assert_eq!(rows[199]["n"], 199, "seed {seed}");
        let seen = server.requests();
        let creates_answered = seen
            .iter()
            .filter(|r| r.method == "POST" && flaky.fault_for(r.index).is_none())
            .count();
        assert_eq!(
            creates_answered, 1,
            "seed {seed}: one import created, never two"
        );
        requests += seen.len();
        imports += 1;
    }
    let ratio = requests as f64 / (imports * ideal_per_import) as f64;
    println!(
        "30 % failures: {imports} whole imports succeeded with {requests} requests, ideal {}: {ratio:.2}x",
        imports * ideal_per_import
    );
    assert!(ratio < 2.0, "{ratio}");
}

#[tokio::test(start_paused = true)]
async fn max_wait_bounds_a_retried_poll_that_hangs() {
    let server = FaultServer::start(|req: &Request| match req.index {
        0 => Reply::json(200, import_json("RUNNING")),
        1 => Reply::json(503, json!({"detail": "busy"})),
        _ => Reply::json(200, import_json("SUCCESSFUL")).delay(Duration::from_secs(600)),
    });
    let started = Instant::now();
    let outcome = timer_free_client(&server)
        .wait_for_import(
            ID,
            &WaitOptions::default().with_max_wait(Duration::from_secs(40)),
        )
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(matches!(outcome, WaitOutcome::GaveUp { .. }), "{outcome:?}");
    assert_eq!(server.requests().len(), 3, "the retry was made, and hung");
    assert!(waited <= Duration::from_secs(40), "{waited:?}");
}
