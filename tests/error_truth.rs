//! Errors that tell the whole truth (issue 18): one test (or more) per finding, against the
//! fault server of `common::fault`, the stand-in, or the `dromo` binary. "Printed the README's
//! way" is `{err:#}`: the error and its whole chain on one line.

mod common;

use common::fault::{FaultServer, Reply, Request};
use dromo_client::stand_in::StandIn;
use dromo_client::{
    Client, Error, Field, FieldType, ImportOutcome, ImportRequest, RetryPolicy, Schema, Source,
    Step,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const KEY: &str = "test-backend-key-7f3a";
const ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";
const SECRET: &str = "SECRETSIG0123456789";

fn client(server: &FaultServer) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(server.url("/api/v1"))
        .retry_policy(RetryPolicy::default().with_initial_delay(Duration::from_millis(10)))
        .build()
        .unwrap()
}

fn csv(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn created(server_url: &str) -> Value {
    json!({
        "id": ID,
        "status": "AWAITING_UPLOAD",
        "upload": format!("{server_url}/s3/k?X-Amz-Signature={SECRET}"),
        "review_url": format!("{server_url}/headless/{ID}/"),
    })
}

/// `import_file` of a small CSV against a server whose create answers `create`, whose S3
/// answers `put`, and which answers 404 to anything else.
async fn import_against(
    create: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    put: impl Fn(&Request) -> Reply + Send + Sync + 'static,
) -> (Error, FaultServer) {
    let server = FaultServer::start(
        move |req: &Request| match (req.method.as_str(), req.path()) {
            ("POST", "/api/v1/headless/imports/") => create(req),
            ("PUT", _) => put(req),
            _ => Reply::json(404, json!({"detail": "Not found."})),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = csv(dir.path(), "people.csv", b"email\nada@example.com\n");
    let err = client(&server)
        .import_file::<Value>(&path, Schema::saved(ID))
        .await
        .unwrap_err();
    (err, server)
}

fn creates(server: &FaultServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count()
}

// Finding 1: never "before any import was created" when it may have been.

#[tokio::test]
async fn a_create_that_may_have_succeeded_never_says_nothing_was_created() {
    // (what happened, whether the answer showed the id)
    let cases: Vec<(&str, bool)> = vec![
        ("201 cut mid-way", true),
        ("201 that does not decode", true),
        ("reset after the body was sent", false),
        ("HTTP 500", false),
    ];
    for (case, shows_id) in cases {
        let (err, server) = import_against(
            move |req| match case {
                "201 cut mid-way" => Reply::json(201, created(&req.base_url)).cut_after(50),
                "201 that does not decode" => {
                    Reply::json(201, json!({"id": ID, "status": 7, "upload": 3}))
                }
                "reset after the body was sent" => Reply::new(201).reset_after_body(),
                _ => Reply::json(500, json!({"detail": "Internal error, ref 8812"})),
            },
            |_| Reply::new(200),
        )
        .await;
        let plain = err.to_string();
        let chained = format!("{err:#}");
        for text in [&plain, &chained] {
            assert!(!text.contains("before any import"), "{case}: {text}");
            assert!(!text.contains("no import was created"), "{case}: {text}");
            assert!(text.contains("may have been created"), "{case}: {text}");
            assert!(
                text.contains("client.list_imports()") && text.contains("dromo imports list"),
                "{case}: says how to check: {text}"
            );
            assert!(!text.contains("retry later"), "{case}: {text}");
        }
        if shows_id {
            assert!(plain.contains(ID), "{case}: {plain}");
            assert_eq!(err.import_id(), Some(ID), "{case}");
        }
        assert_eq!(err.step(), Some(Step::Create), "{case}");
        assert!(err.may_have_created_import(), "{case}: {err:?}");
        assert!(!err.is_retryable(), "{case}");
        assert_eq!(creates(&server), 1, "{case}: never sent twice");
    }
}

#[tokio::test]
async fn a_5xx_to_a_create_is_not_called_temporary_nor_retryable() {
    let server = FaultServer::start(|_: &Request| {
        Reply::json(503, json!({"detail": "Internal error, ref 8812"}))
    });
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
                status: Some(503),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.status(), Some(503));
    let text = format!("{err:#}");
    assert!(
        text.contains("HTTP 503") && text.contains("Internal error, ref 8812"),
        "{text}"
    );
    assert!(!text.contains("usually temporary"), "{text}");
    assert!(!err.is_retryable());
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_4xx_to_a_create_does_say_no_import_was_created() {
    let (err, _server) = import_against(
        |_| Reply::json(401, json!({"detail": "Invalid license key."})),
        |_| Reply::new(200),
    )
    .await;
    let text = err.to_string();
    assert!(
        text.starts_with("create step failed, no import was created: Dromo rejected the API key"),
        "{text}"
    );
    assert!(!err.may_have_created_import());
}

// Finding 2: the cause shows however the README prints an error.

#[tokio::test]
async fn a_whole_import_error_prints_its_cause() {
    // A wrong key: the 401 and its advice are on the line.
    let (err, _server) = import_against(
        |_| Reply::json(401, json!({"detail": "Invalid license key."})),
        |_| Reply::new(200),
    )
    .await;
    for text in [err.to_string(), format!("{err:#}"), format!("{err:?}")] {
        assert!(
            text.contains("Backend license key") && text.contains("Invalid license key."),
            "{text}"
        );
    }

    // A missing file: the path, and the OS's reason with `{:#}` and `Debug`.
    let server = FaultServer::start(|_: &Request| Reply::new(500));
    let err = client(&server)
        .import_file::<Value>("/no/such/people.csv", Schema::saved(ID))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot read /no/such/people.csv"),
        "{err}"
    );
    for text in [format!("{err:#}"), format!("{err:?}")] {
        assert!(text.contains("No such file or directory"), "{text}");
    }
    assert!(server.requests().is_empty());

    // An expired upload URL (S3 answers 403): S3's message is on the line.
    let (err, _server) = import_against(
        |req| Reply::json(201, created(&req.base_url)),
        |_| {
            Reply::new(403)
                .header("Content-Type", "application/xml")
                .body(
                "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            )
        },
    )
    .await;
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("upload step of import {ID} failed: ")),
        "{text}"
    );
    assert!(
        text.contains("Request has expired") && text.contains("has expired"),
        "{text}"
    );
    assert!(!text.contains(SECRET), "{text}");
}

#[test]
fn main_returning_the_error_prints_a_readable_chain() {
    // What `fn main() -> Result<(), dromo_client::Error>` prints: `Error: {err:?}`.
    let err = Client::builder().build().unwrap_err();
    let printed = format!("Error: {err:?}");
    assert!(
        printed.starts_with("Error: invalid client configuration: no API key"),
        "{printed}"
    );
    assert!(!printed.contains("source: None"), "{printed}");
    assert!(!printed.contains("Config {"), "{printed}");
}

// Finding 3: every call has a bound, retries included.

#[tokio::test]
async fn a_dripping_answer_cannot_hold_a_retrieve_past_the_call_bound() {
    let body = json!({"id": ID, "status": "RUNNING", "original_filename": "a.csv", "pad": "x".repeat(4000)});
    let server =
        FaultServer::start(move |_: &Request| Reply::json(200, body.clone()).write_rate(200));
    let build = |bound: Option<Duration>| {
        let builder = Client::builder()
            .api_key(KEY)
            .base_url(server.url("/api/v1"))
            .request_timeout(Duration::from_millis(500));
        match bound {
            Some(bound) => builder.call_timeout(bound),
            None => builder,
        }
        .build()
        .unwrap()
    };

    let started = Instant::now();
    let err = build(Some(Duration::from_millis(1500)))
        .retrieve_import(ID)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(2500),
        "the bound held: {took:?}"
    );
    assert!(
        matches!(err, Error::CallTimedOut { .. }) || err.to_string().contains("timed out"),
        "{err:?}"
    );
    let text = format!("{err:#}");
    assert!(text.contains("call_timeout"), "names the setting: {text}");

    // Without a bound of its own (the request timeout of 500 ms alone, retried 4 times with
    // backoff), the same answer holds the call far longer: the bound is what cut it.
    let started = Instant::now();
    let _ = build(Some(Duration::MAX)).retrieve_import(ID).await;
    assert!(
        started.elapsed() > Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
}

// Finding 4: malformed results are Dromo's fault, not the row type's.

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Person {
    email: String,
}

async fn results_of(body: &'static [u8]) -> Result<Vec<Person>, Error> {
    let server = FaultServer::start(move |req: &Request| {
        if req.path().ends_with("/url/") {
            Reply::json(
                200,
                json!({"presigned_url": format!("{}/results/r.json?X-Amz-Signature={SECRET}", req.base_url)}),
            )
        } else {
            Reply::new(200)
                .header("Content-Type", "application/json")
                .body(body)
        }
    });
    client(&server).fetch_results::<Person>(ID).await
}

#[tokio::test]
async fn malformed_results_json_is_blamed_on_dromo() {
    for body in [
        &br#"[{"email": "a@x.io"}, {"email": "b@x.io"}, {"email": "\ud800"}]"#[..],
        &br#"[{"email": "a@x.io"}, {"email": "b@x.io"}, {"email": tru}]"#[..],
    ] {
        let err = results_of(body).await.unwrap_err();
        let text = format!("{err:#}");
        assert!(
            matches!(err.kind(), Error::MalformedResults { .. }),
            "{text}"
        );
        assert!(text.starts_with("Dromo sent malformed results"), "{text}");
        assert!(!text.contains("does not match your row type"), "{text}");
        assert!(!text.contains("change that field's type"), "{text}");
    }
    // A value that does not fit the row type stays a row-type mismatch.
    let err = results_of(br#"[{"email": 3}]"#).await.unwrap_err();
    assert!(matches!(err, Error::RowMismatch { .. }), "{err:#}");
}

// Finding 5: server text is redacted once.

#[tokio::test]
async fn an_echoed_server_message_is_redacted_once() {
    let server = FaultServer::start(|_: &Request| {
        Reply::json(
            400,
            json!({"detail": format!("cannot fetch https://b.s3.amazonaws.com/k?X-Amz-Signature={SECRET} now")}),
        )
    });
    let err = client(&server)
        .create_import(ImportRequest::new(
            Schema::saved(ID),
            Source::file("people.csv"),
        ))
        .await
        .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("https://b.s3.amazonaws.com/k?<redacted> now"),
        "{text}"
    );
    assert!(!text.contains("<redacted><redacted>"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
}

// Finding 6: a true extension message.

#[test]
fn a_csv_name_is_never_called_not_csv() {
    for name in ["x.csv", ".csv", "X.CSV", "dir/.tsv"] {
        ImportRequest::new(Schema::saved(ID), Source::file(name))
            .validate()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let err = ImportRequest::new(Schema::saved(ID), Source::file("x.csv "))
        .validate()
        .unwrap_err()
        .to_string();
    assert!(!err.contains("does not end in .csv"), "{err}");
    assert!(err.contains("white space"), "{err}");
}

// Finding 7: a multi-select written `selectOptions: []`, as the field-types page shows it.

#[test]
fn an_empty_multi_select_is_named_for_what_it_is() {
    let body = json!({
        "fields": [{"key": "skills", "label": "Skills", "type": ["multi-select", {"delimiter": ","}], "selectOptions": []}],
        "original_filename": "a.csv",
    });
    let err = dromo_client::CreateRequest::from_value(body)
        .unwrap()
        .body_bytes()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`fields[0].selectOptions` has no options"),
        "{err}"
    );
    assert!(!err.contains("is missing:"), "{err}");
    assert!(err.contains("Field::multi_select"), "{err}");
    assert!(!err.contains("Field::select("), "{err}");

    let missing = dromo_client::CreateRequest::from_value(json!({
        "fields": [{"key": "plan", "label": "Plan", "type": "select"}],
        "original_filename": "a.csv",
    }))
    .unwrap()
    .body_bytes()
    .unwrap_err()
    .to_string();
    assert!(
        missing.contains("has no options") && missing.contains("Field::select("),
        "{missing}"
    );
}

// Finding 8: bad input is refused before anything is created; reasons reach the caller.

#[tokio::test]
async fn empty_and_utf16_files_create_nothing() {
    let server = FaultServer::start(|req: &Request| Reply::json(201, created(&req.base_url)));
    let dir = tempfile::tempdir().unwrap();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "email\nada@example.com\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    for (name, bytes, says) in [
        ("empty.csv", &b""[..], "it is empty (0 bytes)"),
        ("wide.csv", &utf16[..], "UTF-16"),
        ("latin.csv", &b"name\nJos\xE9\n"[..], "not UTF-8"),
    ] {
        let path = csv(dir.path(), name, bytes);
        let err = client(&server)
            .import_file::<Value>(&path, Schema::saved(ID))
            .await
            .unwrap_err();
        assert!(matches!(err.kind(), Error::UnusableFile { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(says), "{name}: {text}");
        assert!(text.contains("no import was created"), "{name}: {text}");
    }
    assert!(
        server.requests().is_empty(),
        "nothing was created or uploaded"
    );
}

#[cfg(feature = "derive")]
#[tokio::test]
async fn a_typed_import_whose_header_matches_nothing_creates_nothing() {
    #[derive(dromo_client::Schema, serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Contact {
        email: String,
        name: String,
    }
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = csv(
        dir.path(),
        "people.csv",
        b"Nom,Courriel\nAda,ada@example.com\n",
    );
    let err = server
        .client()
        .unwrap()
        .import_file_typed::<Contact>(&path)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("shares no column with the schema"), "{text}");
    assert!(text.contains("`Nom`") && text.contains("`email`"), "{text}");
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn needs_review_carries_every_reason_the_stand_in_gives() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A header that matches no field of the (untyped) schema: every row needs a person.
    let path = csv(
        dir.path(),
        "people.csv",
        b"Nom,Courriel\nAda,ada@example.com\n",
    );
    let schema = Schema::inline([Field::new("email", "Email", FieldType::Email).required()]);
    let outcome = server
        .client()
        .unwrap()
        .import_file::<Value>(&path, schema)
        .await
        .unwrap();
    let ImportOutcome::NeedsReview {
        reasons,
        review_url,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}")
    };
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("no column of \"people.csv\" matches a field")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("email")), "{reasons:?}");
    assert_eq!(outcome.reasons(), &reasons[..]);
    // The stand-in's review page says why, too.
    let page = reqwest::get(review_url.clone().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("matches a field"), "{page}");
}

/// `dromo import FILE --schema SCHEMA` against `server`, the schema written to `dir` first.
#[cfg(feature = "cli")]
async fn dromo_import(
    server: &StandIn,
    dir: &std::path::Path,
    file: &std::path::Path,
    schema_json: &str,
) -> std::process::Output {
    let schema = dir.join("schema.json");
    std::fs::write(&schema, schema_json).unwrap();
    let (url, key) = (server.base_url(), server.api_key().to_owned());
    let args: Vec<String> = vec![
        "import".into(),
        file.display().to_string(),
        "--schema".into(),
        schema.display().to_string(),
    ];
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dromo"))
            .args(&args)
            .env("DROMO_BASE_URL", url)
            .env("DROMO_API_KEY", key)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[cfg(feature = "cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_prints_the_review_reasons_and_url_on_stderr() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = csv(
        dir.path(),
        "people.csv",
        b"Nom,Courriel\nAda,ada@example.com\n",
    );
    let output = dromo_import(
        &server,
        dir.path(),
        &path,
        r#"[{"key":"email","label":"Email","type":"email"}]"#,
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("needs a person to review it at http"),
        "{stderr}"
    );
    assert!(stderr.contains("matches a field"), "{stderr}");
}

#[cfg(feature = "cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_an_empty_file_before_creating_an_import() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = csv(dir.path(), "people.csv", b"");
    let output = dromo_import(
        &server,
        dir.path(),
        &path,
        r#"[{"key":"email","label":"Email","type":"email"}]"#,
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("empty (0 bytes)"), "{stderr}");
    assert!(server.requests().is_empty(), "nothing was created");
}

// Finding 9: every path the crate offers from JSON to a create body reports unknown keys.

#[test]
fn every_json_path_to_a_create_body_reports_unknown_keys() {
    let fields = json!([{"key": "a", "label": "A", "lable": "B", "required": true}]);
    let body = json!({"fields": fields, "hooks": {"rowHook": "x"}, "original_filename": "a.csv"});
    let results = [
        dromo_client::CreateRequest::from_json(&body.to_string()).map(|_| ()),
        dromo_client::CreateRequest::from_value(body.clone()).map(|_| ()),
        Schema::inline_from_value(fields.clone()).map(|_| ()),
    ];
    for result in results {
        let text = result.unwrap_err().to_string();
        assert!(
            text.contains("`fields[0].lable` is not a key Dromo knows"),
            "{text}"
        );
        assert!(text.contains("`fields[0].required`"), "{text}");
    }
    let text = dromo_client::CreateRequest::from_value(body)
        .unwrap_err()
        .to_string();
    assert!(text.contains("`hooks.rowHook`"), "{text}");
}

#[cfg(feature = "cli")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_a_schema_file_with_unknown_keys() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = csv(dir.path(), "people.csv", b"email\nada@example.com\n");
    let output = dromo_import(
        &server,
        dir.path(),
        &path,
        r#"[{"key":"email","label":"Email","type":"email","lable":"E-mail","required":true}]"#,
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`fields[0].lable`"), "{stderr}");
    assert!(stderr.contains("`fields[0].required`"), "{stderr}");
    assert!(server.requests().is_empty(), "nothing was sent");
}
