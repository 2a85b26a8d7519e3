//! The whole import in one call: every outcome, and a failure in each step naming that step.
//!
//! Flows that poll run with tokio's paused clock against the stand-in on the test's runtime
//! (the 5 s polling floor costs no real time).

use dromo_client::stand_in::{Outcome, StandIn};
use dromo_client::{
    Client, Error, Field, FieldType, ImportOptions, ImportOutcome, ImportRequest, ImportStatus,
    Schema, Source, Step, UploadOptions, WaitOptions,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ID: &str = "66d6300d-1414-4655-83b4-8c80fc527315";
const SIGNATURE: &str = "5ec2e75ec2e75ec2e7abcdef";

#[derive(Debug, serde::Deserialize, serde::Serialize, PartialEq, Clone)]
struct Person {
    name: String,
    email: String,
}

fn schema() -> Schema {
    Schema::inline([
        Field::new("name", "Name", FieldType::String),
        Field::new("email", "Email", FieldType::Email),
    ])
}

fn csv(dir: &tempfile::TempDir, rows: usize) -> std::path::PathBuf {
    let mut text = String::from("Name,Email\n");
    for i in 0..rows {
        text.push_str(&format!("Person {i},p{i}@example.com\n"));
    }
    let file = dir.path().join("people.csv");
    std::fs::write(&file, text).unwrap();
    file
}

/// A client for the paused clock: no HTTP timeouts and no upload stall watchdog, so that no
/// timer is armed while a request is under way (tokio advances a paused clock to the next timer
/// whenever the runtime idles, e.g. while the stand-in reads a file on a blocking thread).
fn stand_in_client(server: &StandIn) -> Client {
    let http = || {
        reqwest::Client::builder()
            .pool_idle_timeout(None)
            .build()
            .unwrap()
    };
    Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .http_client(http())
        .transfer_client(http())
        .without_transfer_stall_timeout()
        .build()
        .unwrap()
}

fn paused() -> ImportOptions {
    ImportOptions::default().with_upload(UploadOptions::default().without_stall_timeout())
}

fn step_of(e: &Error) -> (Step, Option<String>, &Error) {
    let step = e
        .step()
        .unwrap_or_else(|| panic!("not a step error: {e:?}"));
    (step, e.import_id().map(str::to_owned), e.kind())
}

/// Every message of the error's chain, as anyhow's `{:#}` shows it.
fn chain(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[tokio::test(start_paused = true)]
async fn a_streamed_file_import_gives_the_rows_one_by_one() {
    use futures_util::StreamExt;
    let server = StandIn::builder().polls_per_step(1).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = csv(&dir, 2_500);
    let request = ImportRequest::new(schema(), Source::file("people.csv"));
    let outcome = stand_in_client(&server)
        .import_file_stream::<Person>(&file, request, &paused())
        .await
        .unwrap();
    assert_eq!(outcome.status(), ImportStatus::Successful);
    let ImportOutcome::Imported { mut rows, .. } = outcome else {
        panic!("not imported")
    };
    let mut seen = Vec::new();
    while let Some(row) = rows.next().await {
        seen.push(row.unwrap());
    }
    assert_eq!(seen.len(), 2_500);
    assert_eq!(seen[1234].email, "p1234@example.com");
}

#[tokio::test(start_paused = true)]
async fn streamed_rows_import_reports_review_like_the_collected_one() {
    let server = StandIn::builder()
        .outcome(Outcome::NeedsReview)
        .start()
        .await
        .unwrap();
    let request = ImportRequest::new(
        schema(),
        Source::rows([["Ada", "ada@example.com"]]).unwrap(),
    );
    let outcome = stand_in_client(&server)
        .import_rows_stream::<Person>(request, &paused())
        .await
        .unwrap();
    assert_eq!(outcome.status(), ImportStatus::NeedsReview);
    assert!(matches!(
        outcome,
        ImportOutcome::NeedsReview {
            review_url: Some(_),
            ..
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_file_import_gives_the_rows_and_goes_through_every_step() {
    let server = StandIn::builder().polls_per_step(2).start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = csv(&dir, 1_000);
    let steps = Arc::new(Mutex::new(Vec::new()));
    let record = steps.clone();
    let options = paused().on_step(move |step, id| {
        record
            .lock()
            .unwrap()
            .push((step, id.map(ToString::to_string)))
    });
    let request = ImportRequest::new(schema(), Source::file("people.csv"));
    let outcome = stand_in_client(&server)
        .import_file_with::<Person>(&file, request, &options)
        .await
        .unwrap();
    let rows = outcome.rows().unwrap();
    assert_eq!(rows.len(), 1_000);
    assert_eq!(
        rows[999],
        Person {
            name: "Person 999".into(),
            email: "p999@example.com".into()
        }
    );
    assert_eq!(outcome.status(), ImportStatus::Successful);
    let steps = steps.lock().unwrap();
    assert_eq!(
        steps.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        [Step::Create, Step::Upload, Step::Wait, Step::Results]
    );
    assert_eq!(steps[0].1, None);
    assert!(steps[1..]
        .iter()
        .all(|(_, id)| id.as_deref() == Some(outcome.import_id().to_string().as_str())));
    // The key went to the API only.
    for request in server.requests() {
        let to_api = request.path.starts_with("/api/");
        assert_eq!(
            request.header("x-dromo-license-key").is_some(),
            to_api,
            "{} {}",
            request.method,
            request.path
        );
    }
}

#[tokio::test(start_paused = true)]
async fn import_file_with_a_saved_schema() {
    let server = StandIn::start().await.unwrap();
    let schema_id = "94187d21-9820-420f-b08c-a80cbbf52604";
    server.add_schema(schema_id, serde_json::json!([{"key": "name", "label": "Name", "type": "string"}, {"key": "email", "label": "Email", "type": "email"}]));
    let dir = tempfile::tempdir().unwrap();
    let outcome = stand_in_client(&server)
        .import_file_with::<Person>(
            csv(&dir, 3),
            ImportRequest::new(Schema::saved(schema_id), Source::file("people.csv")),
            &paused(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.rows().map(<[_]>::len), Some(3));
}

#[tokio::test(start_paused = true)]
async fn a_rows_import_gives_the_rows() {
    let server = StandIn::start().await.unwrap();
    let people: Vec<Person> = (0..500)
        .map(|i| Person {
            name: format!("N{i}"),
            email: format!("n{i}@example.com"),
        })
        .collect();
    let outcome = stand_in_client(&server)
        .import_rows::<Person>(&people, schema())
        .await
        .unwrap();
    match outcome {
        ImportOutcome::Imported { rows, .. } => assert_eq!(rows, people),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn needs_review_and_failed_are_outcomes() {
    let server = StandIn::builder()
        .outcome(Outcome::NeedsReview)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outcome = stand_in_client(&server)
        .import_file_with::<Person>(
            csv(&dir, 2),
            ImportRequest::new(schema(), Source::file("people.csv")),
            &paused(),
        )
        .await
        .unwrap();
    match &outcome {
        ImportOutcome::NeedsReview {
            review_url,
            import_id,
            ..
        } => {
            assert!(
                review_url
                    .as_deref()
                    .is_some_and(|u| u.contains(&import_id.to_string())),
                "{review_url:?}"
            );
        }
        other => panic!("{other:?}"),
    }

    server.set_outcome(Outcome::Failed);
    let outcome = stand_in_client(&server)
        .import_rows::<Person>([["a", "a@example.com"]], schema())
        .await
        .unwrap();
    match outcome {
        ImportOutcome::Failed { import_errors, .. } => assert!(!import_errors.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_runs_out_is_still_processing() {
    let server = StandIn::builder()
        .polls_per_step(1_000)
        .start()
        .await
        .unwrap();
    let options = ImportOptions::default()
        .with_wait(WaitOptions::default().with_max_wait(Duration::from_secs(60)));
    let request = ImportRequest::new(schema(), Source::rows([["a", "a@example.com"]]).unwrap());
    let outcome = stand_in_client(&server)
        .import_rows_with::<Person>(request, &options)
        .await
        .unwrap();
    match &outcome {
        ImportOutcome::StillProcessing {
            last_status,
            import_id,
        } => {
            assert_eq!(*last_status, ImportStatus::Pending);
            assert_eq!(
                server.import_status(&import_id.to_string()).as_deref(),
                Some("PENDING")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_missing_file_creates_nothing() {
    let server = StandIn::start().await.unwrap();
    let err = stand_in_client(&server)
        .import_file::<Person>("/no/such/people.csv", schema())
        .await
        .unwrap_err();
    let (step, id, source) = step_of(&err);
    assert_eq!((step, id), (Step::Upload, None));
    assert!(matches!(source, Error::File { .. }), "{source:?}");
    assert!(
        err.kind().to_string().contains("/no/such/people.csv"),
        "{err}"
    );
    // No import exists yet: the message must not speak of one.
    assert_eq!(
        err.to_string().split(": ").next().unwrap(),
        "upload step failed, no import was created",
        "{err}"
    );
    assert!(!err.to_string().contains("of import"), "{err}");
    assert!(server.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn an_unknown_saved_schema_fails_the_create_step() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = stand_in_client(&server)
        .import_file::<Person>(
            csv(&dir, 1),
            Schema::saved("00000000-0000-4000-8000-000000000000"),
        )
        .await
        .unwrap_err();
    let (step, id, source) = step_of(&err);
    assert_eq!((step, id), (Step::Create, None));
    assert!(matches!(source, Error::SchemaNotFound { .. }), "{source:?}");
    assert!(err.to_string().starts_with("create step"), "{err}");
}

async fn mock_create(server: &MockServer, status: &str) {
    let upload = format!(
        "{}/s3/upload?X-Amz-Expires=1800&X-Amz-Signature={SIGNATURE}",
        server.uri()
    );
    Mock::given(method("POST"))
        .and(path("/api/v1/headless/imports/"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "id": ID, "status": status, "upload": upload, "review_url": format!("https://app.dromo.io/review/{ID}"),
        })))
        .mount(server)
        .await;
}

fn mock_client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("backend-secret-key")
        .base_url(format!("{}/api/v1", server.uri()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_upload_failure_names_the_step_and_the_import() {
    let server = MockServer::start().await;
    mock_create(&server, "AWAITING_UPLOAD").await;
    Mock::given(method("PUT"))
        .and(path("/s3/upload"))
        .respond_with(ResponseTemplate::new(403).set_body_string(format!(
            "<Error><Code>AccessDenied</Code><Message>Request has expired</Message><SignatureProvided>{SIGNATURE}</SignatureProvided></Error>"
        )))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let err = mock_client(&server)
        .import_file::<Person>(csv(&dir, 1), schema())
        .await
        .unwrap_err();
    let (step, id, source) = step_of(&err);
    assert_eq!((step, id.as_deref()), (Step::Upload, Some(ID)));
    assert!(matches!(source, Error::Upload { .. }), "{source:?}");
    let text = chain(&err);
    assert!(
        // The step is context: its line carries the cause's (issue 18).
        err.to_string()
            .starts_with(&format!("upload step of import {ID} failed: upload of "))
            && err.to_string().contains("30 minutes")
            && text.contains("30 minutes"),
        "{text}"
    );
    assert!(
        !text.contains(SIGNATURE) && !format!("{err:?}").contains(SIGNATURE),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_wait_failure_names_the_step_and_the_import() {
    let server = MockServer::start().await;
    mock_create(&server, "PENDING").await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/headless/imports/{ID}/")))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(serde_json::json!({"detail": "Invalid license key."})),
        )
        .mount(&server)
        .await;
    let err = mock_client(&server)
        .import_rows::<Person>([["a", "b"]], schema())
        .await
        .unwrap_err();
    let (step, id, source) = step_of(&err);
    assert_eq!((step, id.as_deref()), (Step::Wait, Some(ID)));
    assert!(matches!(source, Error::Unauthorized { .. }), "{source:?}");
    assert_eq!(err.status(), Some(403));
}

#[tokio::test]
async fn a_results_failure_names_the_step_and_the_import() {
    let server = MockServer::start().await;
    mock_create(&server, "PENDING").await;
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/headless/imports/{ID}/")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": ID, "status": "SUCCESSFUL"})),
        )
        .mount(&server)
        .await;
    let results = format!(
        "{}/s3/results.json?X-Amz-Signature={SIGNATURE}",
        server.uri()
    );
    Mock::given(method("GET"))
        .and(path(format!("/api/v1/headless/imports/{ID}/url/")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"presigned_url": results})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/s3/results.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"[{"name": "a", "email": null}]"#),
        )
        .mount(&server)
        .await;
    let err = mock_client(&server)
        .import_rows::<Person>([["a", "b"]], schema())
        .await
        .unwrap_err();
    let (step, id, source) = step_of(&err);
    assert_eq!((step, id.as_deref()), (Step::Results, Some(ID)));
    assert!(
        matches!(source, Error::RowMismatch { path, .. } if path == "[0].email"),
        "{source:?}"
    );
    assert!(!format!("{err:?}").contains(SIGNATURE));
}
