//! The fault server of the tests (`tests/common/fault.rs`) does what each knob says, seen
//! through plain reqwest: pace, stalls, cuts, resets, verbatim headers, exact records.

#[allow(dead_code)] // Only the fault server of `common` is used here.
mod common;

use common::fault::{Fault, FaultServer, Flaky, Reply, Request};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

/// A body whose every byte depends on its position: a shifted or dropped byte shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// True when the error comes from a TCP reset (not an orderly close).
fn is_reset(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionReset;
        }
        source = e.source();
    }
    false
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_read_takes_as_long_as_the_rate_says_and_records_every_byte() {
    let server = FaultServer::start(|_: &Request| Reply::new(200).read_rate(512 * 1024));
    let body = pattern(MIB);
    let started = Instant::now();
    let response = client()
        .put(server.url("/upload?X-Amz-Signature=secret"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 200);
    assert!(elapsed >= Duration::from_millis(1900), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(6), "{elapsed:?}");

    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let upload = &seen[0];
    assert_eq!(
        (upload.method.as_str(), upload.target.as_str()),
        ("PUT", "/upload?X-Amz-Signature=secret")
    );
    assert_eq!(upload.header("content-length"), Some("1048576"));
    assert!(upload.body_complete);
    assert!(
        upload.body == body,
        "the recorded body differs from the sent one"
    );
    let reading = upload.duration().unwrap();
    assert!(reading >= Duration::from_millis(1900), "{reading:?}");
}

#[tokio::test]
async fn a_chunked_request_body_is_recorded_decoded() {
    let server = FaultServer::start(|_: &Request| Reply::new(204));
    let parts: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(b"hello ".to_vec()),
        Ok(vec![b'x'; 70_000]),
        Ok(b"!".to_vec()),
    ];
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(parts));
    let response = client()
        .post(server.url("/rows"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let seen = &server.requests()[0];
    assert_eq!(seen.header("transfer-encoding"), Some("chunked"));
    assert!(seen.body_complete);
    assert_eq!(seen.body.len(), 6 + 70_000 + 1);
    assert!(seen.body.starts_with(b"hello x") && seen.body.ends_with(b"x!"));
}

#[tokio::test]
async fn a_cut_body_is_an_error_unless_the_length_is_not_declared() {
    let body = pattern(10_000);
    let answer = body.clone();
    let server = FaultServer::start(move |req: &Request| {
        let reply = Reply::new(200).body(answer.clone()).cut_after(4_000);
        if req.path() == "/close-delimited" {
            reply.without_content_length()
        } else {
            reply
        }
    });
    let response = client().get(server.url("/declared")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some(10_000));
    let err = response.bytes().await.unwrap_err();
    assert!(err.is_body() || err.is_decode(), "{err:?}");

    // Without Content-Length the cut is indistinguishable from the end: 4 000 bytes, "fine".
    let response = client()
        .get(server.url("/close-delimited"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.content_length(), None);
    let got = response.bytes().await.unwrap();
    assert_eq!(&got[..], &body[..4_000]);
}

#[tokio::test]
async fn a_reset_after_the_body_fails_the_request_after_every_byte_arrived() {
    let server = FaultServer::start(|_: &Request| Reply::new(200).reset_after_body());
    let body = pattern(300_000);
    let err = client()
        .put(server.url("/upload"))
        .body(body.clone())
        .send()
        .await
        .unwrap_err();
    assert!(is_reset(&err), "{err:?}");
    let seen = &server.requests()[0];
    assert!(seen.body_complete);
    assert!(seen.body == body);
}

#[tokio::test]
async fn a_reset_after_some_bytes_leaves_exactly_those_bytes_recorded() {
    let server = FaultServer::start(|_: &Request| Reply::new(200).reset_after(100_000));
    let body = pattern(MIB);
    let err = client()
        .put(server.url("/upload"))
        .body(body.clone())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_request() || err.is_body(), "{err:?}");
    let seen = &server.requests()[0];
    assert!(!seen.body_complete);
    assert_eq!(seen.body.len(), 100_000);
    assert!(seen.body[..] == body[..100_000]);
}

#[tokio::test]
async fn a_stalled_read_holds_the_upload_and_then_takes_the_rest() {
    let server = FaultServer::start(|_: &Request| {
        Reply::new(200).stall_read_after(64 * 1024, Duration::from_millis(1500))
    });
    let body = pattern(MIB);
    let started = Instant::now();
    let response = client()
        .put(server.url("/upload"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let seen = &server.requests()[0];
    assert!(seen.body_complete && seen.body == body);
}

#[tokio::test]
async fn a_stalled_write_stops_the_body_midway() {
    let body = pattern(100_000);
    let answer = body.clone();
    let server = FaultServer::start(move |_: &Request| {
        Reply::new(200)
            .body(answer.clone())
            .stall_write_after(50_000, Duration::from_millis(1500))
    });

    // A client that gives up after 500 ms of silence sees the stall as an error mid-body.
    let impatient = reqwest::Client::builder()
        .read_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let response = impatient.get(server.url("/rows")).send().await.unwrap();
    let err = response.bytes().await.unwrap_err();
    assert!(err.is_timeout() || err.is_body(), "{err:?}");

    // A patient one gets every byte, late.
    let started = Instant::now();
    let response = client().get(server.url("/rows")).send().await.unwrap();
    let got = response.bytes().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert!(got[..] == body[..]);
}

#[tokio::test]
async fn a_throttled_write_and_a_delay_take_their_time() {
    let body = pattern(256 * 1024);
    let answer = body.clone();
    let server = FaultServer::start(move |req: &Request| match req.path() {
        "/slow" => Reply::new(200).body(answer.clone()).write_rate(256 * 1024),
        _ => Reply::json(200, serde_json::json!({"ok": true})).delay(Duration::from_secs(1)),
    });
    let started = Instant::now();
    let got = client()
        .get(server.url("/slow"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(got[..] == body[..]);
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");

    let hasty = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = hasty.get(server.url("/late")).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let started = Instant::now();
    let response = client().get(server.url("/late")).send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(response.text().await.unwrap(), r#"{"ok":true}"#);
}

#[tokio::test]
async fn absurd_headers_arrive_verbatim() {
    let huge = "v".repeat(64 * 1024);
    let huge_value = huge.clone();
    let server = FaultServer::start(move |req: &Request| match req.path() {
        "/max" => Reply::too_many("18446744073709551615"),
        "/date" => Reply::too_many("Wed, 21 Oct 2015 07:28:00 GMT"),
        _ => {
            let mut reply = Reply::new(200).header("X-Huge", huge_value.clone());
            for i in 0..90 {
                reply = reply.header(format!("X-Many-{i}"), i.to_string());
            }
            reply
        }
    });
    let response = client().get(server.url("/max")).send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "18446744073709551615");
    assert_eq!(
        response.text().await.unwrap(),
        r#"{"detail":"Request was throttled."}"#
    );
    let response = client().get(server.url("/date")).send().await.unwrap();
    assert_eq!(
        response.headers()["retry-after"],
        "Wed, 21 Oct 2015 07:28:00 GMT"
    );
    let response = client().get(server.url("/many")).send().await.unwrap();
    assert_eq!(response.headers()["x-huge"], huge.as_str());
    assert_eq!(response.headers()["x-many-89"], "89");
    assert_eq!(response.headers().len(), 90 + 2); // + X-Huge, Content-Length
}

#[tokio::test]
async fn error_pages_have_the_size_asked() {
    let server = FaultServer::start(|req: &Request| match req.path() {
        "/html" => Reply::html_502(3_000),
        _ => Reply::huge_json_error(500, 5 * MIB),
    });
    let response = client().get(server.url("/html")).send().await.unwrap();
    assert_eq!(response.status(), 502);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let page = response.text().await.unwrap();
    assert_eq!(page.len(), 3_000);
    assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</body></html>\n"));

    let response = client().get(server.url("/json")).send().await.unwrap();
    assert_eq!(response.status(), 500);
    let error: serde_json::Value = response.json().await.unwrap();
    let detail = error["detail"].as_str().unwrap();
    assert_eq!(detail.len() + r#"{"detail": ""}"#.len(), 5 * MIB);
}

#[tokio::test]
async fn connections_are_kept_alive_unless_a_reply_closes_them() {
    let server = FaultServer::start(|req: &Request| match req.path() {
        "/close" => Reply::new(200).body("bye").close(),
        _ => Reply::new(200).body("hi"),
    });
    let client = client();
    for path in ["/a", "/b", "/close", "/c"] {
        let response = client.get(server.url(path)).send().await.unwrap();
        response.bytes().await.unwrap();
    }
    let connections: Vec<usize> = server.requests().iter().map(|r| r.connection).collect();
    assert_eq!(connections, [0, 0, 0, 1]);
    let indexes: Vec<usize> = server.requests().iter().map(|r| r.index).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
}

#[tokio::test]
async fn skip_body_answers_before_the_upload_ends() {
    let server =
        FaultServer::start(|_: &Request| Reply::json(413, serde_json::json!({})).skip_body());
    let result = client()
        .put(server.url("/upload"))
        .body(pattern(4 * MIB))
        .send()
        .await;
    // Either the early answer or a failed write: never a success, never a hang.
    if let Ok(response) = result {
        assert_eq!(response.status(), 413);
    }
    let seen = &server.requests()[0];
    assert!(!seen.body_complete && seen.body.is_empty());
}

#[test]
fn flaky_is_reproducible_and_fails_the_share_asked() {
    let a = Flaky::new(42, 0.3);
    let b = Flaky::new(42, 0.3);
    let c = Flaky::new(43, 0.3);
    let draws = |f: &Flaky| (0..2_000).map(|i| f.fault_for(i)).collect::<Vec<_>>();
    assert_eq!(draws(&a), draws(&b));
    assert_ne!(draws(&a), draws(&c));
    let failed = draws(&a).iter().filter(|f| f.is_some()).count();
    assert!((500..700).contains(&failed), "{failed} of 2000");
    for fault in Fault::ALL {
        assert!(draws(&a).contains(&Some(fault)), "{fault:?} never drawn");
    }
    let only = Flaky::new(1, 1.0).faults(&[Fault::Unavailable]);
    assert!((0..100).all(|i| only.fault_for(i) == Some(Fault::Unavailable)));
    assert!((0..100).all(|i| Flaky::new(1, 0.0).fault_for(i).is_none()));
}

#[tokio::test]
async fn every_fault_flaky_injects_reaches_the_client() {
    let flaky = Arc::new(Flaky::new(7, 0.3));
    let server = FaultServer::start(
        flaky.wrap(|req: &Request| Reply::new(200).body(format!("answer {}", req.index))),
    );
    let client = client();
    let mut failures = Vec::new();
    for i in 0..60 {
        let result = async {
            let response = client
                .post(server.url("/rows"))
                .body(pattern(10_000))
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
        .await;
        match result {
            Ok((status, body)) if status == 200 => {
                assert_eq!(&body[..], format!("answer {i}").as_bytes());
            }
            _ => failures.push(i),
        }
    }
    let injected: Vec<usize> = flaky.injected().iter().map(|(i, _)| *i).collect();
    assert_eq!(failures, injected);
    assert!(injected.len() >= 8, "{injected:?}");
    assert_eq!(server.requests().len(), 60);
}
