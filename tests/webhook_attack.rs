//! The webhook receiver under attack, with the stand-in playing Dromo: forgers claiming every
//! status cannot hide a genuine event, a flood of forged events sends at most the configured
//! lookups, slow clients are cut off after the header and body timeouts, and a chunked body over
//! the limit gets a readable 413.
//!
//! The closing figures (5,000 forged events; 200 slow clients; lookups, connections held, RSS):
//! `cargo test --test webhook_attack figures -- --ignored --nocapture`

use dromo_client::stand_in::StandIn;
use dromo_client::webhooks::{
    receiver_with, serve, ConfirmedEvent, ReceiverOptions, ReceiverStats, ServeOptions,
};
use dromo_client::{Client, Field, FieldType, ImportId, ImportRequest, Schema, Source};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

fn rows_request() -> ImportRequest {
    ImportRequest::new(
        Schema::inline([Field::new("email", "Email", FieldType::Email)]),
        Source::rows([["ada@example.com"], ["bob@example.com"]]).unwrap(),
    )
}

/// A stand-in whose imports move only when told (`process_import`).
async fn still_stand_in(webhook_url: Option<&str>) -> StandIn {
    let mut builder = StandIn::builder().polls_per_step(1000);
    if let Some(url) = webhook_url {
        builder = builder.webhook_url(url);
    }
    builder.start().await.unwrap()
}

/// Serves the receiver with [`serve`] on 127.0.0.1; returns its address, URL and the sink.
async fn start_receiver(
    client: Client,
    options: ReceiverOptions,
    serve_options: ServeOptions,
) -> (std::net::SocketAddr, String, mpsc::Receiver<ConfirmedEvent>) {
    let (sink, confirmed) = mpsc::channel(1000);
    let app = axum::Router::new().nest_service("/hook", receiver_with(client, sink, options));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, app, serve_options));
    (addr, format!("http://{addr}/hook"), confirmed)
}

/// Binds a port for the receiver before the stand-in (which needs its URL) starts.
async fn reserve() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    (listener, url)
}

async fn post(http: &reqwest::Client, url: &str, content_type: &str, body: String) -> u16 {
    http.post(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// How many imports the stand-in was asked about (confirmations are such GETs).
fn lookups(server: &StandIn) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v1/headless/imports/"))
        .count()
}

fn forged(event: &str, id: &str, status: Option<&str>) -> String {
    let mut data = json!({"id": id});
    if let Some(status) = status {
        data["status"] = json!(status);
    }
    json!({"event": event, "data": data}).to_string()
}

// ---------------------------------------------------------------------------------------------
// 1. No event can hide another.

/// One import per claimed status (and one with no status); a forger per import posts
/// `import_completed` and `headless_import_failed` claiming that status every 30 ms, from well
/// before the import ends until well after. The stand-in posts the genuine `import_completed`
/// itself. Every import's completion must reach the application, once; no failure may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgers_claiming_every_status_never_hide_the_genuine_event() {
    let (listener, hook_url) = reserve().await;
    let server = still_stand_in(Some(&hook_url)).await;
    let client = server.client().unwrap();
    let (sink, mut confirmed) = mpsc::channel(1000);
    let options = ReceiverOptions::default()
        .with_confirm_spacing_for_tests(Duration::from_millis(250))
        .with_confirmation_rate(60_000, 1000);
    let app =
        axum::Router::new().nest_service("/hook", receiver_with(client.clone(), sink, options));
    tokio::spawn(serve(listener, app, ServeOptions::default()));

    let claims = [
        Some("AWAITING_UPLOAD"),
        Some("PENDING"),
        Some("RUNNING"),
        Some("NEEDS_REVIEW"),
        Some("FAILED"),
        Some("SUCCESSFUL"),
        Some("SOMETHING_NEW"),
        None,
    ];
    let mut ids = Vec::new();
    for _ in claims {
        ids.push(client.create_import(rows_request()).await.unwrap().id);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut forgers = Vec::new();
    for (id, claim) in ids.iter().zip(claims) {
        let (url, id, stop) = (hook_url.clone(), id.to_string(), stop.clone());
        forgers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                for event in ["import_completed", "headless_import_failed"] {
                    post(&http, &url, "application/json", forged(event, &id, claim)).await;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }));
    }
    // Forged copies before the end (each import has confirmations queued and under way) ...
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // ... the imports end, and the stand-in posts the genuine events, while forgers go on.
    for id in &ids {
        assert_eq!(
            server.process_import(&id.to_string()).await.as_deref(),
            Some("SUCCESSFUL")
        );
    }
    let mut delivered: Vec<(ImportId, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    while delivered.len() < ids.len() && Instant::now() < deadline {
        if let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(200), confirmed.recv()).await
        {
            assert_eq!(event.event(), "import_completed", "{event:?}");
            assert_eq!(event.status(), dromo_client::ImportStatus::Successful);
            delivered.push((event.import_id(), event.event().to_owned()));
        }
    }
    // Forgers keep at it after the genuine events: nothing more is delivered.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, Ordering::Relaxed);
    for forger in forgers {
        forger.await.unwrap();
    }
    while let Ok(event) = confirmed.try_recv() {
        delivered.push((event.import_id(), event.event().to_owned()));
    }
    for (id, claim) in ids.iter().zip(claims) {
        let times = delivered.iter().filter(|(d, _)| d == id).count();
        assert_eq!(
            times, 1,
            "import {id} (forger claiming {claim:?}) was delivered {times} times: {delivered:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Forged events cannot spend the API budget.

/// Posts `count` forged events, `parallel` at a time: random ids (unknown to Dromo), the ids of
/// `real` imports claiming every event, and malformed ids. Returns the answers' statuses.
async fn flood(url: &str, real: &[ImportId], count: usize, parallel: usize) -> Vec<u16> {
    use futures_util::StreamExt;
    let http = reqwest::Client::new();
    let events = [
        "import_completed",
        "headless_import_needs_review",
        "headless_import_failed",
    ];
    futures_util::stream::iter(0..count)
        .map(|i| {
            let body = match i % 10 {
                0 if !real.is_empty() => forged(
                    events[i % 3],
                    &real[i % real.len()].to_string(),
                    Some("SUCCESSFUL"),
                ),
                1 => forged(events[i % 3], &format!("not-a-uuid-{i}"), None),
                _ => forged(events[i % 3], &uuid::Uuid::new_v4().to_string(), None),
            };
            let (http, url) = (http.clone(), url.to_owned());
            async move { post(&http, &url, "application/json", body).await }
        })
        .buffer_unordered(parallel)
        .collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_forged_events_sends_at_most_the_configured_lookups() {
    let server = still_stand_in(None).await;
    let client = server.client().unwrap();
    let real = [
        client.create_import(rows_request()).await.unwrap().id,
        client.create_import(rows_request()).await.unwrap().id,
    ];
    let stats = ReceiverStats::new();
    let (per_minute, burst) = (120, 10);
    let (_, url, mut confirmed) = start_receiver(
        client,
        ReceiverOptions::default()
            .with_confirmation_rate(per_minute, burst)
            .with_stats(stats.clone()),
        ServeOptions::default(),
    )
    .await;
    let started = Instant::now();
    let answers = flood(&url, &real, 3000, 64).await;
    // Let whatever was queued run (the per-import spacing is 5.5 s).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let elapsed = started.elapsed();
    let sent = lookups(&server);
    let allowed =
        burst as usize + (elapsed.as_secs_f64() * f64::from(per_minute) / 60.0).ceil() as usize;
    assert!(
        sent <= allowed,
        "{sent} lookups in {elapsed:?}, at most {allowed} allowed"
    );
    assert!(sent >= 1, "nothing was confirmed at all");
    // Every refusal is an answer, and counted where the application sees it.
    assert!(
        answers.iter().all(|s| [202, 400, 503].contains(s)),
        "{answers:?}"
    );
    let counts = stats.snapshot();
    assert_eq!(counts.received, 3000, "{counts:?}");
    assert_eq!(counts.lookups as usize, sent, "{counts:?}");
    assert_eq!(counts.refused_invalid, 300, "malformed ids: {counts:?}");
    let refused = answers.iter().filter(|s| **s == 503).count() as u64;
    assert_eq!(
        counts.refused_rate + counts.refused_busy,
        refused,
        "{counts:?}"
    );
    assert!(counts.refused_rate > 0, "{counts:?}");
    assert_eq!(counts.delivered, 0, "{counts:?}");
    assert!(
        confirmed.try_recv().is_err(),
        "a forged event was delivered"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Bounded by time: slow clients are cut off.

/// How a slow client behaves.
#[derive(Clone, Copy, Debug)]
enum Slow {
    /// Connects and sends nothing.
    Silent,
    /// Sends its headers a byte at a time.
    Headers,
    /// Sends whole headers, then its body a byte at a time.
    Body,
}

/// A slow client against `addr`: how long until the server closed the connection (or `None`
/// if it was still open at `give_up`), and what the server answered.
async fn slow_client(
    addr: std::net::SocketAddr,
    kind: Slow,
    give_up: Duration,
) -> (Option<Duration>, String) {
    let started = Instant::now();
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let body = forged("import_completed", &uuid::Uuid::new_v4().to_string(), None);
    let head = format!(
        "POST /hook HTTP/1.1\r\nhost: receiver\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len() + 1000
    );
    let trickle: Vec<u8> = match kind {
        Slow::Silent => Vec::new(),
        Slow::Headers => head.clone().into_bytes(),
        Slow::Body => {
            socket.write_all(head.as_bytes()).await.unwrap();
            body.into_bytes()
        }
    };
    let mut answer = Vec::new();
    let mut next = 0;
    let mut buf = [0u8; 1024];
    loop {
        if started.elapsed() > give_up {
            return (None, String::from_utf8_lossy(&answer).into_owned());
        }
        if next < trickle.len() && socket.write_all(&trickle[next..next + 1]).await.is_err() {
            break;
        }
        next += 1;
        match tokio::time::timeout(Duration::from_millis(100), socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    (
        Some(started.elapsed()),
        String::from_utf8_lossy(&answer).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_after_the_timeouts() {
    let server = still_stand_in(None).await;
    let stats = ReceiverStats::new();
    let timeout = Duration::from_millis(800);
    let (addr, url, _confirmed) = start_receiver(
        server.client().unwrap(),
        ReceiverOptions::default()
            .with_body_timeout(timeout)
            .with_stats(stats.clone()),
        ServeOptions::default().with_header_read_timeout(timeout),
    )
    .await;
    let mut clients = Vec::new();
    for i in 0..60 {
        let kind = [Slow::Silent, Slow::Headers, Slow::Body][i % 3];
        clients.push((
            kind,
            tokio::spawn(slow_client(addr, kind, Duration::from_secs(8))),
        ));
    }
    // Meanwhile a genuine-looking webhook is answered at once.
    let http = reqwest::Client::new();
    let body = forged("import_completed", &uuid::Uuid::new_v4().to_string(), None);
    assert_eq!(post(&http, &url, "application/json", body).await, 202);
    for (kind, client) in clients {
        let (closed_after, answer) = client.await.unwrap();
        let closed_after = closed_after
            .unwrap_or_else(|| panic!("a {kind:?} client still held its connection after 8 s"));
        assert!(
            closed_after < timeout + Duration::from_millis(1500),
            "a {kind:?} client was cut off only after {closed_after:?}"
        );
        if let Slow::Body = kind {
            assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
        }
    }
    assert_eq!(stats.snapshot().refused_slow, 20, "{:?}", stats.snapshot());
}

// ---------------------------------------------------------------------------------------------
// 5. Every refusal is a readable status.

/// Sends a chunked body of `size` bytes in full (ignoring write errors), then reads the answer
/// (or what a reset left of it).
async fn send_then_read(addr: std::net::SocketAddr, size: usize) -> String {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let head = "POST /hook HTTP/1.1\r\nhost: receiver\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
    let mut sent = socket.write_all(head.as_bytes()).await.is_ok();
    let mut total = 0;
    while sent && total < size {
        sent = socket.write_all(chunk.as_bytes()).await.is_ok();
        total += 64 * 1024;
    }
    if sent {
        let _ = socket.write_all(b"0\r\n\r\n").await;
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_over_the_limit_gets_a_readable_413() {
    let server = still_stand_in(None).await;
    let stats = ReceiverStats::new();
    let (addr, url, _confirmed) = start_receiver(
        server.client().unwrap(),
        ReceiverOptions::default().with_stats(stats.clone()),
        ServeOptions::default(),
    )
    .await;
    let http = reqwest::Client::new();
    // A reset is a matter of timing: ask several times.
    for round in 0..8 {
        // 10 MB in 64 KiB chunks, no Content-Length (chunked).
        let chunks =
            (0..160).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; 64 * 1024])));
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: no answer to a chunked body, {e:?}"));
        assert_eq!(response.status().as_u16(), 413);
        assert_eq!(response.text().await.unwrap(), "webhook body too large\n");
        // The same with a Content-Length of 10 MB.
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .body(vec![b' '; 10_000_000])
            .send()
            .await
            .unwrap_or_else(|e| panic!("round {round}: no answer to a 10 MB body, {e:?}"));
        assert_eq!(response.status().as_u16(), 413);
        // A client that sends the whole body before reading (as curl does).
        let answer = send_then_read(addr, 10_000_000).await;
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "round {round}: {answer:?}"
        );
    }
    assert_eq!(stats.snapshot().refused_too_large, 24);
}

// ---------------------------------------------------------------------------------------------
// The closing figures, with the default options (about 15 s).

/// This process's resident memory now and at its peak, in KiB (Linux).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "figures for the record: cargo test --test webhook_attack figures -- --ignored --nocapture"]
async fn figures() {
    let server = still_stand_in(None).await;
    let client = server.client().unwrap();
    let real = [
        client.create_import(rows_request()).await.unwrap().id,
        client.create_import(rows_request()).await.unwrap().id,
    ];
    let stats = ReceiverStats::new();
    let (addr, url, _confirmed) = start_receiver(
        client,
        ReceiverOptions::default().with_stats(stats.clone()),
        ServeOptions::default(),
    )
    .await;
    let rss_start = rss_kib();

    let started = Instant::now();
    let answers = flood(&url, &real, 5000, 64).await;
    let flood_took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let counts = stats.snapshot();
    println!(
        "5,000 forged events in {flood_took:.1?}: {} lookups sent (stand-in), {} answered 202, {} 400, {} 503; {counts:?}",
        lookups(&server),
        answers.iter().filter(|s| **s == 202).count(),
        answers.iter().filter(|s| **s == 400).count(),
        answers.iter().filter(|s| **s == 503).count(),
    );
    let rss_flood = rss_kib();

    let (header, body) = (
        ServeOptions::default().header_read_timeout(),
        ReceiverOptions::default().body_timeout(),
    );
    let started = Instant::now();
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let kind = [Slow::Silent, Slow::Headers, Slow::Body][i % 3];
            tokio::spawn(slow_client(addr, kind, Duration::from_secs(30)))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_slow = rss_kib();
    let mut closed = Vec::new();
    for client in clients {
        closed.push(client.await.unwrap().0);
    }
    // Headers sent just in time, then a stalled body: at most both timeouts.
    let limit = header + body + Duration::from_secs(2);
    let held = closed
        .iter()
        .filter(|c| c.is_none_or(|t| t > limit))
        .count();

    let latest = closed.iter().flatten().max().copied().unwrap_or_default();
    println!(
        "200 slow clients (header timeout {header:?}, body timeout {body:?}): {held} connections held past {limit:?}; the last was cut off after {latest:.1?} (all done {:.1?})",
        started.elapsed()
    );
    let rss_end = rss_kib();
    println!(
        "RSS of the test process (receiver, stand-in and clients), KiB (now, peak): start {rss_start:?}, after the flood {rss_flood:?}, with 200 slow clients {rss_slow:?}, end {rss_end:?}"
    );
    println!("{:?}", stats.snapshot());
    assert_eq!(held, 0);
}
