//! Fetching results: the result URL, the keyless download, typed rows, streaming, failures.

mod common;

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, PresignedUrl, RetryPolicy};
use futures_util::{StreamExt, TryStreamExt};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ID: &str = "66d6300d-1414-4655-83b4-8c80fc527315";
const SIGNATURE: &str = "c0ffee0123456789abcdefresult";

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Person {
    name: String,
    email: String,
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("backend-secret-key")
        .base_url(format!("{}/api/v1", server.uri()))
        .build()
        .unwrap()
}

/// Mounts `/url/` answering a presigned URL on the same server, `/results.json`.
async fn mount_url(server: &MockServer) -> String {
    let url = format!(
        "{}/results.json?X-Amz-Expires=3600&X-Amz-Signature={SIGNATURE}",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/headless/imports/{ID}/url/")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({ "presigned_url": url })),
        )
        .mount(server)
        .await;
    url
}

fn people(n: usize) -> String {
    let rows: Vec<_> = (0..n).map(|i| serde_json::json!({"name": format!("Person \"{i}\" [x], y"), "email": format!("p{i}@example.com")})).collect();
    serde_json::to_string(&rows).unwrap()
}

fn assert_no_secret(e: &Error) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(SIGNATURE), "signature leaked: {text}");
        assert!(!text.contains("backend-secret-key"), "key leaked: {text}");
    }
    assert!(!e.to_string().contains('\n'), "{e}");
}

#[tokio::test]
async fn rows_are_fetched_without_the_key() {
    let server = MockServer::start().await;
    mount_url(&server).await;
    Mock::given(method("GET"))
        .and(path("/results.json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(people(3)))
        .expect(1)
        .mount(&server)
        .await;
    let rows: Vec<Person> = client(&server).fetch_results(ID).await.unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[2],
        Person {
            name: "Person \"2\" [x], y".into(),
            email: "p2@example.com".into()
        }
    );

    let requests = server.received_requests().await.unwrap();
    let api = requests
        .iter()
        .find(|r| r.url.path().ends_with("/url/"))
        .unwrap();
    assert_eq!(
        api.headers.get("x-dromo-license-key").unwrap(),
        "backend-secret-key"
    );
    let s3 = requests
        .iter()
        .find(|r| r.url.path() == "/results.json")
        .unwrap();
    assert!(
        s3.headers.get("x-dromo-license-key").is_none(),
        "the key must not go to S3"
    );
    assert!(s3.headers.keys().all(|k| !k.as_str().starts_with("x-amz-")));
}

#[tokio::test]
async fn the_result_url_is_redacted_when_shown() {
    let server = MockServer::start().await;
    mount_url(&server).await;
    let url: PresignedUrl = client(&server).result_url(ID).await.unwrap();
    assert!(url.expose().contains(SIGNATURE));
    assert!(!url.to_string().contains(SIGNATURE) && !format!("{url:?}").contains(SIGNATURE));
}

#[tokio::test]
async fn a_hundred_thousand_rows_stream_one_by_one() {
    let server = MockServer::start().await;
    mount_url(&server).await;
    let body = people(100_000);
    Mock::given(method("GET"))
        .and(path("/results.json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;
    let mut stream = client(&server).stream_results::<Person>(ID).await.unwrap();
    let mut n = 0usize;
    while let Some(person) = stream.try_next().await.unwrap() {
        assert_eq!(person.email, format!("p{n}@example.com"));
        n += 1;
    }
    assert_eq!(n, 100_000);
}

/// Rows are yielded before the body is complete: the server sends half the array, then waits
/// until the test has received rows before sending the rest. A client that buffered the whole
/// body would never see a row (and the guard below would fail the test).
#[tokio::test]
async fn rows_arrive_before_the_body_is_complete() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_on, wait_for_test) = tokio::sync::oneshot::channel::<()>();
    let body = people(2_000);
    let half = body.find("p1000@").unwrap();
    let (first, rest) = (body[..half].to_owned(), body[half..].to_owned());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            head.extend_from_slice(&buf[..n]);
        }
        let header = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            first.len() + rest.len()
        );
        socket.write_all(header.as_bytes()).await.unwrap();
        socket.write_all(first.as_bytes()).await.unwrap();
        socket.flush().await.unwrap();
        let _ = wait_for_test.await;
        socket.write_all(rest.as_bytes()).await.unwrap();
        socket.flush().await.unwrap();
    });
    let api = MockServer::start().await;
    let url =
        PresignedUrl::parse(&format!("http://{addr}/r.json?X-Amz-Signature={SIGNATURE}")).unwrap();
    let mut stream = client(&api)
        .stream_results_from::<Person>(ID, &url)
        .await
        .unwrap();
    let guard = Duration::from_secs(60);
    for i in 0..900 {
        let person = tokio::time::timeout(guard, stream.next())
            .await
            .expect("rows must arrive before the body ends")
            .unwrap()
            .unwrap();
        assert_eq!(person.email, format!("p{i}@example.com"));
    }
    go_on.send(()).unwrap();
    let rest: Vec<Person> = stream.try_collect().await.unwrap();
    assert_eq!(rest.len(), 2_000 - 900);
}

#[tokio::test]
async fn a_row_that_does_not_decode_names_its_index_and_path() {
    let server = MockServer::start().await;
    mount_url(&server).await;
    let body = r#"[{"name":"a","email":"a@x"},{"name":"b","email":"b@x"},{"name":"c","email":"c@x"},{"name":"d","email":42}]"#;
    Mock::given(method("GET"))
        .and(path("/results.json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;
    let mut stream = client(&server).stream_results::<Person>(ID).await.unwrap();
    for _ in 0..3 {
        stream.try_next().await.unwrap().unwrap();
    }
    let err = stream.try_next().await.unwrap_err();
    match &err {
        Error::RowMismatch { path, .. } => assert_eq!(path, "[3].email"),
        other => panic!("{other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("[3].email"), "{err}");
    // The rows are Dromo's, the type is the caller's: not a bug to report.
    assert!(
        text.contains("does not match your row type") && !text.contains("please report"),
        "{err}"
    );
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("invalid type: integer `42`"), "{cause}");
    assert!(
        stream.next().await.is_none(),
        "the stream ends after an error"
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_array_is_reported() {
    let server = MockServer::start().await;
    mount_url(&server).await;
    Mock::given(method("GET"))
        .and(path("/results.json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"rows": []}"#))
        .mount(&server)
        .await;
    let err = client(&server)
        .fetch_results::<Person>(ID)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    assert!(err.to_string().contains("not a JSON array"), "{err}");
}

#[tokio::test]
async fn an_expired_result_url_says_to_fetch_again() {
    let server = MockServer::start().await;
    mount_url(&server).await;
    let xml = format!("<Error><Code>AccessDenied</Code><Message>Request has expired</Message><SignatureProvided>{SIGNATURE}</SignatureProvided></Error>");
    Mock::given(method("GET"))
        .and(path("/results.json"))
        .respond_with(ResponseTemplate::new(403).set_body_string(xml))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server)
        .fetch_results::<Person>(ID)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Download {
                status: Some(403),
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("expired") && err.to_string().contains("fetch the results again"),
        "{err}"
    );
    assert!(err.to_string().contains(ID), "{err}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn a_server_error_before_the_first_byte_is_retried() {
    let server = MockServer::start().await;
    mount_url(&server).await;
    Mock::given(method("GET"))
        .and(path("/results.json"))
        .respond_with(
            ResponseTemplate::new(503).set_body_string("<Error><Code>SlowDown</Code></Error>"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/results.json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(people(2)))
        .with_priority(2)
        .mount(&server)
        .await;
    let rows: Vec<Person> = client(&server).fetch_results(ID).await.unwrap();
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn a_download_that_breaks_midway_is_an_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        // Every attempt gets the same cut body.
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let partial = &people(100)[..2000];
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", 100_000);
            socket.write_all(head.as_bytes()).await.unwrap();
            socket.write_all(partial.as_bytes()).await.unwrap();
            // Then the connection closes: the body is cut.
        }
    });
    let api = MockServer::start().await;
    let url =
        PresignedUrl::parse(&format!("http://{addr}/r.json?X-Amz-Signature={SIGNATURE}")).unwrap();
    let client = Client::builder()
        .api_key("backend-key")
        .base_url(api.uri())
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_delay(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let results: Vec<Result<Person, Error>> = client
        .stream_results_from::<Person>(ID, &url)
        .await
        .unwrap()
        .collect()
        .await;
    let (ok, err): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert!(!ok.is_empty(), "the rows before the break were yielded");
    assert_eq!(err.len(), 1);
    let err = err.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    assert!(err.to_string().contains("midway"), "{err}");
    assert_no_secret(&err);
    assert_eq!(
        connections.load(Ordering::SeqCst),
        3,
        "opened again and resumed, as often as the retry policy allows"
    );
    let mut names: Vec<&str> = ok
        .iter()
        .map(|r| r.as_ref().unwrap().email.as_str())
        .collect();
    let total = names.len();
    names.dedup();
    assert_eq!(names.len(), total, "no row given twice after a resume");
}

/// A download that breaks midway is resumed after the rows already given: every row once.
#[tokio::test]
async fn a_broken_download_is_resumed_after_the_rows_already_given() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut attempt = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            attempt += 1;
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let body = people(100);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            socket.write_all(head.as_bytes()).await.unwrap();
            // The first attempt breaks after 2000 bytes; the second is whole.
            let sent = if attempt == 1 {
                &body[..2000]
            } else {
                &body[..]
            };
            socket.write_all(sent.as_bytes()).await.unwrap();
        }
    });
    let api = MockServer::start().await;
    let url =
        PresignedUrl::parse(&format!("http://{addr}/r.json?X-Amz-Signature={SIGNATURE}")).unwrap();
    let client = Client::builder()
        .api_key("backend-key")
        .base_url(api.uri())
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(10)))
        .build()
        .unwrap();
    let rows: Vec<Person> = client
        .stream_results_from::<Person>(ID, &url)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let emails: Vec<String> = rows.into_iter().map(|p| p.email).collect();
    let expected: Vec<String> = (0..100).map(|i| format!("p{i}@example.com")).collect();
    assert_eq!(emails, expected);
}

#[tokio::test]
async fn results_of_an_unfinished_import_are_refused_readably() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/headless/imports/{ID}/url/")))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"detail": "Import is not complete."})),
        )
        .mount(&server)
        .await;
    let err = client(&server)
        .fetch_results::<Person>(ID)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("Import is not complete."), "{err}");
    // Not "fix these and send again": there is nothing to fix, only to wait.
    assert!(matches!(err, Error::NotReady { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("wait until its status is SUCCESSFUL"),
        "{err}"
    );
    assert!(!err.to_string().contains("fix these"), "{err}");
}

#[tokio::test]
async fn the_stand_in_serves_the_rows_of_an_uploaded_file() {
    let server = StandIn::builder().polls_per_step(0).start().await.unwrap();
    let http = reqwest::Client::new();
    let created = common::raw_create_file_import(
        &server,
        serde_json::json!([{"key": "name", "label": "Name", "type": "string"}, {"key": "email", "label": "Email", "type": "email"}]),
    )
    .await;
    let mut csv = String::from("Name,Email\n");
    for i in 0..5_000 {
        csv.push_str(&format!("\"Person, {i}\",p{i}@example.com\n"));
    }
    http.put(created["upload"].as_str().unwrap())
        .body(csv)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .build()
        .unwrap();
    while !client
        .retrieve_import(id)
        .await
        .unwrap()
        .status
        .unwrap()
        .is_terminal()
    {}
    let rows: Vec<Person> = client.fetch_results(id).await.unwrap();
    assert_eq!(rows.len(), 5_000);
    assert_eq!(
        rows[4_999],
        Person {
            name: "Person, 4999".into(),
            email: "p4999@example.com".into()
        }
    );
    let download = server
        .requests()
        .into_iter()
        .find(|r| r.method == "GET" && r.path.contains("/s3/results/"))
        .unwrap();
    assert_eq!(download.status, 200);
    assert_eq!(download.header("x-dromo-license-key"), None);
}
