//! Uploads to presigned URLs: headers, streaming, retries, S3 errors, progress, redaction.

mod common;

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, PresignedUrl, Progress, UploadOptions, UploadSource};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SIGNATURE: &str = "f00dfacecafe0123456789abcdef";

fn presigned(server: &MockServer) -> PresignedUrl {
    PresignedUrl::parse(&format!(
        "{}/bucket/key-1?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDSECRETCRED%2F20240101&X-Amz-Date=20240101T000000Z&X-Amz-Expires=1800&X-Amz-SignedHeaders=host&X-Amz-Signature={SIGNATURE}",
        server.uri()
    ))
    .unwrap()
}

fn client(api: &str) -> Client {
    Client::builder()
        .api_key("backend-secret-key")
        .base_url(api)
        .build()
        .unwrap()
}

fn fast_retries() -> UploadOptions {
    UploadOptions::default()
        .with_retry_delay(Duration::from_millis(1))
        .with_max_retry_delay(Duration::from_millis(5))
}

fn assert_no_secret(e: &Error) {
    for text in [e.to_string(), format!("{e:?}"), format!("{e:#?}")] {
        assert!(!text.contains(SIGNATURE), "signature leaked: {text}");
        assert!(
            !text.contains("AKIDSECRETCRED"),
            "credential leaked: {text}"
        );
        assert!(!text.contains("backend-secret-key"), "key leaked: {text}");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        assert!(
            !s.to_string().contains(SIGNATURE),
            "signature leaked in source: {s}"
        );
        assert!(
            !format!("{s:?}").contains(SIGNATURE),
            "signature leaked in source: {s:?}"
        );
        source = s.source();
    }
    assert!(
        !e.to_string().contains('\n'),
        "Display is not one line: {e}"
    );
}

fn csv_file(rows: usize) -> (tempfile::TempDir, std::path::PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.csv");
    let mut data = b"Name,Email\n".to_vec();
    for i in 0..rows {
        data.extend_from_slice(format!("Person {i},p{i}@example.com\n").as_bytes());
    }
    std::fs::write(&path, &data).unwrap();
    (dir, path, data)
}

#[tokio::test]
async fn sends_raw_bytes_with_content_length_and_only_our_headers() {
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/bucket/key-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&s3)
        .await;
    let (_dir, file, data) = csv_file(20_000); // ~500 KB: several chunks
    let done = client(&s3.uri())
        .upload(
            &presigned(&s3),
            UploadSource::from_path(&file).await.unwrap(),
        )
        .await
        .unwrap();
    assert_eq!((done.bytes, done.attempts), (data.len() as u64, 1));

    let requests = s3.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.body, data, "the body is the raw file");
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(header("content-length"), Some(data.len().to_string()));
    assert_eq!(header("transfer-encoding"), None, "must not be chunked");
    assert_eq!(header("content-type").as_deref(), Some("text/csv"));
    assert_eq!(
        header("x-dromo-license-key"),
        None,
        "the key must not go to S3"
    );
    for (name, _) in request.headers.iter() {
        assert!(
            !name.as_str().starts_with("x-amz-"),
            "unexpected header {name}"
        );
        assert!(
            !name.as_str().starts_with("x-dromo"),
            "unexpected header {name}"
        );
    }
    assert_eq!(
        request
            .url
            .query_pairs()
            .find(|(k, _)| k == "X-Amz-Signature")
            .unwrap()
            .1,
        SIGNATURE
    );
}

#[tokio::test]
async fn content_type_follows_the_extension_or_is_octet_stream() {
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s3)
        .await;
    let client = client(&s3.uri());
    let url = presigned(&s3);
    for (name, expected) in [
        ("a.tsv", "text/tab-separated-values"),
        (
            "a.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("a.XLS", "application/vnd.ms-excel"),
        ("a.json", "application/octet-stream"),
    ] {
        client
            .upload(&url, UploadSource::from_bytes(name, &b"x,y\n"[..]))
            .await
            .unwrap();
        let last = s3.received_requests().await.unwrap().pop().unwrap();
        assert_eq!(
            last.headers.get("content-type").unwrap(),
            expected,
            "{name}"
        );
    }
    client
        .upload(
            &url,
            UploadSource::from_bytes("a.csv", &b"x"[..]).with_content_type("text/plain"),
        )
        .await
        .unwrap();
    let last = s3.received_requests().await.unwrap().pop().unwrap();
    assert_eq!(last.headers.get("content-type").unwrap(), "text/plain");
}

#[tokio::test]
async fn a_server_error_is_retried_with_the_whole_file_reopened() {
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500).set_body_string("<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s3)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&s3)
        .await;

    let data: Arc<Vec<u8>> = Arc::new((0..300_000u32).map(|i| (i % 251) as u8).collect());
    let opens = Arc::new(AtomicU32::new(0));
    let source = {
        let data = data.clone();
        let opens = opens.clone();
        UploadSource::from_reader("generated.csv", data.len() as u64, move || {
            opens.fetch_add(1, Ordering::SeqCst);
            let data = data.clone();
            async move { Ok(std::io::Cursor::new(data.to_vec())) }
        })
    };
    let done = client(&s3.uri())
        .upload_with(&presigned(&s3), source, &fast_retries())
        .await
        .unwrap();
    assert_eq!(done.attempts, 2);
    assert_eq!(
        opens.load(Ordering::SeqCst),
        2,
        "each attempt reopens the source"
    );
    let requests = s3.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.body, *data, "every attempt sends the whole body");
        assert_eq!(
            r.headers.get("content-length").unwrap().to_str().unwrap(),
            data.len().to_string()
        );
    }
}

#[tokio::test]
async fn a_file_is_reopened_for_each_attempt_and_slowdown_is_retried() {
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&s3)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&s3)
        .await;
    let (_dir, file, data) = csv_file(5_000);
    let done = client(&s3.uri())
        .upload_with(
            &presigned(&s3),
            UploadSource::from_path(&file).await.unwrap(),
            &fast_retries(),
        )
        .await
        .unwrap();
    assert_eq!(done.attempts, 3);
    let requests = s3.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r.body == data));
}

#[tokio::test]
async fn retries_are_bounded() {
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&s3)
        .await;
    let err = client(&s3.uri())
        .upload_with(
            &presigned(&s3),
            UploadSource::from_bytes("a.csv", &b"a\n1\n"[..]),
            &fast_retries().with_max_attempts(3),
        )
        .await
        .unwrap_err();
    assert_eq!(s3.received_requests().await.unwrap().len(), 3);
    assert!(
        matches!(
            err,
            Error::Upload {
                status: Some(500),
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_no_secret(&err);
}

#[tokio::test]
async fn an_expired_url_says_what_to_do_without_the_signature() {
    let s3 = MockServer::start().await;
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>1800</X-Amz-Expires><Expires>2024-01-01T00:30:00Z</Expires><ServerTime>2024-01-01T01:00:00Z</ServerTime><RequestId>ABC</RequestId><SignatureProvided>{SIGNATURE}</SignatureProvided></Error>"#
    );
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(403).set_body_string(body))
        .expect(1)
        .mount(&s3)
        .await;
    let err = client(&s3.uri())
        .upload(
            &presigned(&s3),
            UploadSource::from_bytes("people.csv", &b"a\n"[..]),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("expired") && text.contains("30 minutes") && text.contains("new import"),
        "{text}"
    );
    assert!(text.contains("people.csv"), "{text}");
    assert!(
        matches!(&err, Error::Upload { status: Some(403), code: Some(c), retryable: false, .. } if c == "AccessDenied"),
        "{err:?}"
    );
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_bad_signature_says_the_url_was_altered_without_echoing_it() {
    let s3 = MockServer::start().await;
    let body = format!(
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message><AWSAccessKeyId>AKIDSECRETCRED</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20240101T000000Z</StringToSign><SignatureProvided>{SIGNATURE}</SignatureProvided></Error>"
    );
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(403).set_body_string(body))
        .mount(&s3)
        .await;
    let err = client(&s3.uri())
        .upload(
            &presigned(&s3),
            UploadSource::from_bytes("a.csv", &b"a\n"[..]),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("altered or copied"), "{text}");
    assert!(!err.is_retryable());
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_chunked_refusal_is_explained() {
    let s3 = MockServer::start().await;
    let body = "<Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message><Header>Transfer-Encoding</Header></Error>";
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(501).set_body_string(body))
        .expect(1)
        .mount(&s3)
        .await;
    let err = client(&s3.uri())
        .upload(
            &presigned(&s3),
            UploadSource::from_bytes("a.csv", &b"a\n"[..]),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("chunked") && text.contains("Content-Length"),
        "{text}"
    );
    assert_eq!(err.status(), Some(501));
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_missing_file_is_a_file_error() {
    let err = UploadSource::from_path("/definitely/not/here.csv")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::File { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/definitely/not/here.csv"),
        "{err}"
    );
}

#[tokio::test]
async fn a_source_shorter_than_announced_fails_without_retry() {
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s3)
        .await;
    let opens = Arc::new(AtomicU32::new(0));
    let counter = opens.clone();
    let source = UploadSource::from_reader("short.csv", 1000, move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok(std::io::Cursor::new(vec![b'x'; 10])) }
    });
    let err = client(&s3.uri())
        .upload_with(&presigned(&s3), source, &fast_retries())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::File { .. }), "{err:?}");
    assert!(err.to_string().contains("short.csv"), "{err}");
    assert_eq!(
        opens.load(Ordering::SeqCst),
        1,
        "a local read failure is not retried"
    );
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_without_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = PresignedUrl::parse(&format!(
        "http://127.0.0.1:{port}/b/k?X-Amz-Signature={SIGNATURE}"
    ))
    .unwrap();
    let err = client("http://127.0.0.1:1/api/v1")
        .upload_with(
            &url,
            UploadSource::from_bytes("a.csv", &b"a\n"[..]),
            &fast_retries().with_max_attempts(2),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Upload {
                status: None,
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_stalled_upload_fails_instead_of_hanging() {
    // A server that accepts the connection and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            keep.lock().unwrap().push(socket);
        }
    });
    let client = Client::builder()
        .api_key("k")
        .base_url("http://127.0.0.1:1/api/v1")
        .transfer_stall_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = PresignedUrl::parse(&format!(
        "http://127.0.0.1:{port}/b/k?X-Amz-Signature={SIGNATURE}"
    ))
    .unwrap();
    let err = client
        .upload_with(
            &url,
            UploadSource::from_bytes("a.csv", &b"a\n1\n"[..]),
            &fast_retries().with_max_attempts(2),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Upload {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(held.lock().unwrap().len(), 2, "the stall was retried once");
    assert_no_secret(&err);
}

#[tokio::test]
async fn progress_reaches_the_total() {
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s3)
        .await;
    let (_dir, file, data) = csv_file(30_000);
    let seen = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let record = seen.clone();
    let (tx, rx) = tokio::sync::watch::channel(Progress::default());
    let options = UploadOptions::default().on_progress(move |p| {
        record.lock().unwrap().push(p);
        tx.send_replace(p);
    });
    client(&s3.uri())
        .upload_with(
            &presigned(&s3),
            UploadSource::from_path(&file).await.unwrap(),
            &options,
        )
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    let total = data.len() as u64;
    assert!(seen.len() > 2, "several chunks reported: {}", seen.len());
    assert_eq!(seen.first(), Some(&Progress { sent: 0, total }));
    assert_eq!(seen.last(), Some(&Progress { sent: total, total }));
    assert!(
        seen.windows(2).all(|w| w[0].sent <= w[1].sent),
        "progress never goes back within an attempt"
    );
    assert_eq!(*rx.borrow(), Progress { sent: total, total });
}

#[tokio::test]
async fn the_stand_in_accepts_the_streamed_upload_and_sees_no_key() {
    let server = StandIn::start().await.unwrap();
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .build()
        .unwrap();
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/headless/imports/", server.base_url()))
        .header("X-Dromo-License-Key", server.api_key())
        .json(&serde_json::json!({
            "fields": [{"key": "name", "label": "Name", "type": "string"}, {"key": "email", "label": "Email", "type": "string"}],
            "original_filename": "people.csv",
            "import_metadata": {"user": {"id": "u1"}},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = PresignedUrl::parse(created["upload"].as_str().unwrap()).unwrap();
    // ~3 MB: many chunks; the stand-in refuses chunked bodies with 501.
    let (_dir, file, data) = csv_file(100_000);
    let done = client
        .upload(&url, UploadSource::from_path(&file).await.unwrap())
        .await
        .unwrap();
    assert_eq!(done.bytes, data.len() as u64);
    assert_eq!(
        server
            .import_status(created["id"].as_str().unwrap())
            .as_deref(),
        Some("PENDING")
    );
    let put = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.status, 200);
    assert_eq!(put.body_len, data.len() as u64);
    assert_eq!(
        put.header("content-length"),
        Some(data.len().to_string().as_str())
    );
    assert_eq!(put.header("transfer-encoding"), None);
    assert_eq!(put.header("x-dromo-license-key"), None);
    assert!(
        put.headers.iter().all(|(n, _)| !n.starts_with("x-amz-")),
        "{:?}",
        put.headers
    );
}

#[tokio::test]
async fn the_stand_in_expired_url_is_explained() {
    let server = StandIn::builder()
        .upload_url_ttl(Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .build()
        .unwrap();
    let created = common::raw_create_file_import(
        &server,
        serde_json::json!([{"key": "name", "label": "Name", "type": "string"}]),
    )
    .await;
    let raw = created["upload"].as_str().unwrap().to_owned();
    let signature = reqwest::Url::parse(&raw)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "X-Amz-Signature")
        .map(|(_, v)| v.into_owned());
    tokio::time::sleep(Duration::from_millis(20)).await;
    let url = PresignedUrl::parse(&raw).unwrap();
    let err = client
        .upload(
            &url,
            UploadSource::from_bytes("people.csv", &b"Name\nAda\n"[..]),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("30 minutes"), "{text}");
    if let Some(signature) = signature {
        assert!(
            !text.contains(&signature) && !format!("{err:?}").contains(&signature),
            "{err:?}"
        );
    }
}
