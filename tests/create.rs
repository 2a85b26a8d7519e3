//! `create_import` against wiremock: the exact request sent, and a readable error for
//! every way the create can fail.

use dromo_client::{
    types, Client, ConnectionFailure, Error, Field, FieldType, ImportRequest, ImportStatus,
    RetryPolicy, Schema, Source, User,
};
use serde_json::json;
use std::error::Error as _;
use std::time::Duration;
use wiremock::matchers::{any, body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "test-backend-key-7f3a";
const SCHEMA_ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";
const SIGNATURE: &str = "example1234567890abcdef";

/// A client that sends each request once, so each test sees the answer it scripted.
fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
}

/// A server that fails the test (on drop) if it receives any request no other mock expects.
async fn strict_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .named("catch-all: no request other than the expected ones")
        .expect(0)
        .mount(&server)
        .await;
    server
}

fn created(status: &str) -> serde_json::Value {
    json!({
        "id": "9a1e6b7c-0000-4000-8000-000000000001",
        "schema_id": SCHEMA_ID,
        "status": status,
        "original_filename": "contacts.csv",
        "created_date": "2024-05-01T10:00:00Z",
        "modified_date": "2024-05-01T10:00:00Z",
        "upload": format!("https://dromo-headless-imports-prod.s3.us-west-2.amazonaws.com/9a1e6b7c-0000-4000-8000-000000000001?X-Amz-Date=20240501T100000Z&X-Amz-Expires=1800&X-Amz-Signature={SIGNATURE}"),
        "review_url": "https://app.dromo.io/headless/9a1e6b7c-0000-4000-8000-000000000001/",
        "result_metadata": null,
        "import_errors": null
    })
}

/// Mounts the one expected create: with the key, Dromo's headers and exactly `body`.
async fn expect_create(server: &MockServer, body: serde_json::Value, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/headless/imports/"))
        .and(header("X-Dromo-License-Key", KEY))
        .and(header("api-version", "1.0"))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(body_json(body))
        .respond_with(response)
        .expect(1)
        .named("the create")
        .mount(server)
        .await;
}

fn saved_file() -> ImportRequest {
    ImportRequest::new(Schema::saved(SCHEMA_ID), Source::file("contacts.csv"))
}

fn saved_file_body() -> serde_json::Value {
    json!({"schema_id": SCHEMA_ID, "original_filename": "contacts.csv"})
}

#[tokio::test]
async fn saved_schema_and_file_sends_the_documented_request() {
    let server = strict_server().await;
    expect_create(
        &server,
        json!({
            "schema_id": SCHEMA_ID,
            "original_filename": "contacts.csv",
            "settings": {"developmentMode": true, "importIdentifier": "contacts"},
            "hooks": {"rowHooks": ["(record) => record"]},
            "import_metadata": {"user": {"id": "user-42", "name": "Ada", "email": "ada@example.com", "companyId": "acme", "companyName": "Acme"}}
        }),
        ResponseTemplate::new(201).set_body_json(created("AWAITING_UPLOAD")),
    )
    .await;

    let request = saved_file()
        .build_settings(|s| {
            s.development_mode(true)
                .import_identifier("contacts".to_owned())
        })
        .hooks(types::SchemaHooks::builder().row_hooks(vec!["(record) => record".to_owned()]))
        .user(
            User::new("user-42")
                .name("Ada")
                .email("ada@example.com")
                .company("acme", "Acme"),
        );
    let import = client(&server).create_import(request).await.unwrap();

    assert_eq!(
        import.id.to_string(),
        "9a1e6b7c-0000-4000-8000-000000000001"
    );
    assert_eq!(import.status, ImportStatus::AwaitingUpload);
    assert_eq!(
        import.review_url.as_deref(),
        Some("https://app.dromo.io/headless/9a1e6b7c-0000-4000-8000-000000000001/")
    );
    let upload = import.upload_url.as_ref().unwrap();
    assert_eq!(
        upload.to_string(),
        "https://dromo-headless-imports-prod.s3.us-west-2.amazonaws.com/9a1e6b7c-0000-4000-8000-000000000001?<redacted>"
    );
    assert!(upload.expose().contains(SIGNATURE));
    assert_eq!(upload.expires_after(), Some(Duration::from_secs(1800)));
    assert!(!format!("{import:?}").contains(SIGNATURE));
    assert_eq!(import.raw.schema_id.as_deref(), Some(SCHEMA_ID));
}

#[tokio::test]
async fn inline_fields_and_struct_rows_are_sent_as_serialized() {
    #[derive(serde::Serialize)]
    struct Contact<'a> {
        email: &'a str,
        plan: &'a str,
    }
    let server = strict_server().await;
    expect_create(
        &server,
        json!({
            "fields": [
                {"key": "email", "label": "Email", "type": "email", "validators": [{"validate": "required"}]},
                {"key": "plan", "label": "Plan", "type": "select", "selectOptions": [{"label": "Free", "value": "free"}, {"label": "Pro", "value": "pro"}]}
            ],
            "initial_data": [{"email": "ada@example.com", "plan": "pro"}, {"email": "bob@example.com", "plan": "free"}]
        }),
        ResponseTemplate::new(201).set_body_json(json!({"id": "9a1e6b7c-0000-4000-8000-000000000002", "status": "PENDING", "review_url": "https://app.dromo.io/headless/9a1e6b7c-0000-4000-8000-000000000002/"})),
    )
    .await;

    let rows = [
        Contact {
            email: "ada@example.com",
            plan: "pro",
        },
        Contact {
            email: "bob@example.com",
            plan: "free",
        },
    ];
    let request = ImportRequest::new(
        Schema::inline([
            Field::new("email", "Email", FieldType::Email).required(),
            Field::select("plan", "Plan", [("Free", "free"), ("Pro", "pro")]),
        ]),
        Source::rows(&rows).unwrap(),
    );
    let import = client(&server).create_import(request).await.unwrap();
    assert_eq!(
        (import.id.to_string().as_str(), import.status),
        (
            "9a1e6b7c-0000-4000-8000-000000000002",
            ImportStatus::Pending
        )
    );
    assert!(import.upload_url.is_none());
}

#[tokio::test]
async fn the_raw_generated_body_is_sent_unchanged() {
    let server = strict_server().await;
    let body = json!({
        "fields": [{"key": "first_name", "type": "string", "label": "First Name"}],
        "initial_data": [["Zeph"]],
        "import_metadata": {"user": {"id": "jeff_id"}}
    });
    expect_create(
        &server,
        body.clone(),
        ResponseTemplate::new(201).set_body_json(created("RUNNING")),
    )
    .await;
    let raw: types::CreateHeadlessImportBody = serde_json::from_value(body).unwrap();
    let import = client(&server).create_import(raw).await.unwrap();
    assert_eq!(import.status, ImportStatus::Running);
}

#[tokio::test]
async fn an_invalid_request_lists_every_problem_and_sends_nothing() {
    let server = strict_server().await;
    let client = client(&server);

    let typed = ImportRequest::new(
        Schema::inline([
            Field::new("email", "Email", FieldType::Email),
            Field::new("email", "", FieldType::String),
        ]),
        Source::file("contacts.pdf"),
    )
    .user(User::new(""));
    let err = client.create_import(typed).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid import request, nothing was sent: 4 problems: \
         `fields[1].key` `email` is also the key of fields[0]: field keys must be unique; \
         `fields[1].label` is empty: give every field a label, the column name people see; \
         `original_filename` `contacts.pdf` does not end in .csv, .tsv, .xls or .xlsx: Dromo imports only these files; rename it if it is one, or convert it; \
         `import_metadata.user.id` is empty: give the id of the user the import is for"
    );
    assert_eq!((err.status(), err.is_retryable()), (None, false));

    let raw = types::CreateHeadlessImportBody {
        schema_id: Some(SCHEMA_ID.into()),
        fields: Some(types::SchemaFields(vec![Field::new(
            "a",
            "A",
            FieldType::String,
        )
        .into()])),
        ..Default::default()
    };
    let err = client.create_import(raw).await.unwrap_err();
    let Error::InvalidRequest { violations, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(violations.0.len(), 2, "{err}");
    assert!(
        err.to_string()
            .contains("`schema_id` and `fields` are both set"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("`original_filename` and `initial_data` are both missing"),
        "{err}"
    );
}

#[tokio::test]
async fn a_404_names_the_saved_schema() {
    let server = strict_server().await;
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(404).set_body_json(json!({"detail": "No schema found with that id"})),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::SchemaNotFound { schema_id, .. } if schema_id == SCHEMA_ID),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("no saved schema with id `{SCHEMA_ID}` (HTTP 404): check the id in the Dromo dashboard, or send an inline schema (`fields`) instead (server said: No schema found with that id)")
    );
    assert_eq!((err.status(), err.is_retryable()), (Some(404), false));
}

#[tokio::test]
async fn a_rejected_key_says_which_key_to_use_and_never_shows_it() {
    for status in [401, 403] {
        let server = strict_server().await;
        expect_create(
            &server,
            saved_file_body(),
            ResponseTemplate::new(status).set_body_json(json!({"detail": "Invalid license key."})),
        )
        .await;
        let err = client(&server)
            .create_import(saved_file())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("Dromo rejected the API key (HTTP {status}): use the Backend license key from the Dromo dashboard, not the frontend key (server said: Invalid license key.)")
        );
        assert!(!format!("{err}{err:?}").contains(KEY));
        assert_eq!((err.status(), err.is_retryable()), (Some(status), false));
    }
}

#[tokio::test]
async fn a_refused_body_lists_the_servers_messages_per_field() {
    let server = strict_server().await;
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(400)
            .set_body_json(json!({"detail": "Provide either schema_id or fields."})),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err:?}");
    assert_eq!(err.to_string(), "Dromo refused the request (HTTP 400): Provide either schema_id or fields.; fix these and send again");

    let server = strict_server().await;
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(422).set_body_json(json!({
            "initial_data": ["Ensure this field has no more than 15 MB."],
            "settings": {"maxRecords": ["A valid integer is required.", "Must be positive."]}
        })),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Dromo refused the request (HTTP 422): initial_data: Ensure this field has no more than 15 MB.; \
         settings.maxRecords: A valid integer is required.; settings.maxRecords: Must be positive.; fix these and send again"
    );
    let messages = &err.response().unwrap().messages;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0].0, "initial_data");
    assert_eq!((err.status(), err.is_retryable()), (Some(422), false));
}

#[tokio::test]
async fn a_rate_limit_says_how_long_to_wait() {
    let server = strict_server().await;
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "17")
            .set_body_json(
                json!({"detail": "Request was throttled. Expected available in 17 seconds."}),
            ),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(err.to_string(), "rate limited by Dromo (HTTP 429) (server said: Request was throttled. Expected available in 17 seconds.): retry after 17 s (Retry-After); Dromo allows 20 creates per minute and 12 status polls per minute per import");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(17)));
    assert_eq!((err.status(), err.is_retryable()), (Some(429), true));
}

#[tokio::test]
async fn a_server_error_may_have_created_the_import_and_shows_the_message_or_a_truncated_body() {
    let server = strict_server().await;
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(500).set_body_json(json!({"detail": "Internal error, ref 8812"})),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    // Dromo may fail after it committed the import (issue 18): not "temporary, retry".
    assert!(matches!(err, Error::CreateOutcomeUnknown { .. }), "{err:?}");
    assert_eq!(format!("{err:#}"), "Dromo answered the create with a server error (HTTP 500), which it may send after the import was made: the import may have been created; do not create it again blindly: list recent imports (`client.list_imports()`, or `dromo imports list`) to find it: Dromo said: Internal error, ref 8812");
    assert_eq!((err.status(), err.is_retryable()), (Some(500), false));

    let server = strict_server().await;
    let long = format!("upstream failure {}", "x".repeat(1000));
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(503).set_body_raw(long.clone(), "text/plain"),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    let shown: String = long.chars().take(200).collect();
    assert!(
        format!("{err:#}").ends_with(&format!(
            "to find it: Dromo said: non-JSON body (text/plain) `{shown}…`"
        )),
        "{err:#}"
    );
    assert_eq!((err.status(), err.is_retryable()), (Some(503), false));
}

#[tokio::test]
async fn an_html_page_from_a_proxy_shows_the_status_and_the_start_of_the_page() {
    let server = strict_server().await;
    let page = format!(
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>{}</body></html>",
        "<!-- padding -->".repeat(40)
    );
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(502).set_body_raw(page.clone(), "text/html"),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.starts_with("Dromo answered the create with a server error (HTTP 502)"),
        "{text}"
    );
    assert!(
        text.contains(
            "Dromo said: non-JSON body (text/html) `<html><head><title>502 Bad Gateway</title>"
        ),
        "{text}"
    );
    let start: String = page.chars().take(200).collect();
    assert!(text.contains(&format!("`{start}…`")), "{text}");
    assert!(!text.contains(&page), "the whole page is not kept: {text}");
    assert_eq!(err.response().unwrap().body.chars().count(), 201);
}

#[tokio::test]
async fn a_success_that_does_not_decode_names_the_json_path() {
    let server = strict_server().await;
    expect_create(
        &server,
        saved_file_body(),
        ResponseTemplate::new(201).set_body_json(
            json!({"id": "9a1e6b7c-0000-4000-8000-000000000003", "status": "AWAITING_UPLOAD", "created_date": "yesterday"}),
        ),
    )
    .await;
    let err = client(&server)
        .create_import(saved_file())
        .await
        .unwrap_err();
    // The import may exist (issue 18): the decode failure is the cause, with the id it shows.
    let Error::CreateOutcomeUnknown {
        status: Some(201),
        import_id,
        source,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        import_id.as_deref(),
        Some("9a1e6b7c-0000-4000-8000-000000000003")
    );
    assert!(!err.is_retryable());
    let decode = source.downcast_ref::<Error>().expect("the decode error");
    let Error::Decode { status, path, .. } = decode else {
        panic!("{decode:?}")
    };
    assert_eq!((*status, path.as_str()), (201, "created_date"));
    let err = decode;
    let text = err.to_string();
    assert!(
        text.starts_with(
            "could not read Dromo's answer (HTTP 201): it does not have the documented shape at `created_date`"
        ),
        "{text}"
    );
    // The decoder's message is the source, not repeated in `Display`.
    let cause = err.source().unwrap().to_string();
    assert!(
        !cause.is_empty() && !text.contains(&cause),
        "{cause} / {text}"
    );
    // Key order depends on serde_json's `preserve_order`, which workspace builds may unify in.
    assert!(text.contains("body starts `{"), "{text}");
    assert!(text.contains(r#""created_date":"yesterday""#), "{text}");
    assert!(err.source().is_some());
}

fn assert_connection(err: &Error, host: &str, kind: ConnectionFailure) {
    let Error::Connection {
        host: h, kind: k, ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!((h.as_str(), *k), (host, kind), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("could not reach {host}: {kind}; ")),
        "{err}"
    );
    assert!(err.source().is_some(), "the transport error is the source");
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn a_refused_connection_names_the_host() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .build()
        .unwrap();
    let err = client.create_import(saved_file()).await.unwrap_err();
    assert_connection(&err, &addr.to_string(), ConnectionFailure::Refused);
    assert_eq!(
        err.to_string(),
        format!("could not reach {addr}: connection refused; check the base URL and that the server is up")
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn an_unknown_host_is_a_dns_failure() {
    let client = Client::builder()
        .api_key(KEY)
        .base_url("http://does-not-exist.invalid")
        .build()
        .unwrap();
    let err = client.create_import(saved_file()).await.unwrap_err();
    assert_connection(&err, "does-not-exist.invalid", ConnectionFailure::Dns);
    assert_eq!(err.to_string(), "could not reach does-not-exist.invalid: DNS lookup failed; check the base URL's host name and your DNS");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept connections and hold them open without answering.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.create_import(saved_file()).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    // The body was sent and no answer came: the import may exist, so this is not a plain
    // connection failure and must not be retried (issue 8, finding 3).
    let Error::CreateOutcomeUnknown {
        host, kind, status, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (host.as_str(), *kind, *status),
        (
            addr.to_string().as_str(),
            Some(ConnectionFailure::Timeout),
            None
        )
    );
    let text = err.to_string();
    assert!(
        text.contains("may have been created") && text.contains("list recent imports"),
        "{text}"
    );
    assert!(!err.is_retryable());
    assert!(err.source().is_some());
    holder.abort();
}

#[tokio::test]
async fn rows_over_15_mb_are_refused_before_sending() {
    let server = strict_server().await;
    // 16 rows of 1 MiB strings: the serialized `initial_data` is just over 16 MiB.
    let big = "x".repeat(1024 * 1024);
    let rows: Vec<[&str; 1]> = (0..16).map(|_| [big.as_str()]).collect();
    let request = ImportRequest::new(
        Schema::inline([Field::new("a", "A", FieldType::String)]),
        Source::rows(&rows).unwrap(),
    );
    let err = client(&server).create_import(request).await.unwrap_err();
    let expected = 16 * (1024 * 1024 + 4) + 15 + 2; // `["…"]` per row, commas, brackets
    assert_eq!(
        err.to_string(),
        format!(
            "invalid import request, nothing was sent: 1 problem: `initial_data` is {expected} bytes serialized (16.0 MB), \
             over Dromo's limit of 15728640 bytes (15 MB): split the rows over several imports, or upload them as a CSV file"
        )
    );
}

#[tokio::test]
async fn a_404_without_a_saved_schema_names_the_endpoint() {
    let server = strict_server().await;
    let body = json!({"fields": [{"key": "a", "label": "A", "type": "string"}], "original_filename": "a.csv"});
    expect_create(
        &server,
        body,
        ResponseTemplate::new(404).set_body_json(json!({"detail": "Not found."})),
    )
    .await;
    let request = ImportRequest::new(
        Schema::inline([Field::new("a", "A", FieldType::String)]),
        Source::file("a.csv"),
    );
    let err = client(&server).create_import(request).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("the endpoint POST {}/headless/imports/ not found (HTTP 404): check the id, or whether it was deleted (server said: Not found.)", server.uri())
    );
}

/// A create is sent again only when Dromo certainly did not act on it (issue 8, finding 3):
/// after a 429, yes (its `Retry-After` honoured); after a 500, never.
#[tokio::test]
async fn a_throttled_create_is_sent_again_but_a_failed_one_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "94187d21-9820-420f-b08c-a80cbbf52604", "status": "AWAITING_UPLOAD"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let created = client.create_import(saved_file()).await.unwrap();
    assert_eq!(created.status, ImportStatus::AwaitingUpload);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"detail": "boom"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .build()
        .unwrap();
    let err = client.create_import(saved_file()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::CreateOutcomeUnknown {
                status: Some(500),
                ..
            }
        ),
        "{err:?}"
    );
}
