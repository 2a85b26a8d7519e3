//! Logs never carry secrets: with every `tracing` event of the crate recorded at TRACE level,
//! a whole import (create, an upload that fails once and is retried, polling, a result download
//! that fails once) leaves neither the API key nor a presigned URL's signature or credential in
//! the log.

use dromo_client::stand_in::StandIn;
use dromo_client::{
    Client, ImportOutcome, ImportRequest, PresignedUrl, Schema, Source, UploadOptions, UploadSource,
};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SIGNATURE: &str = "5ec7e75160a7u4e0f00dfacecafe0123456789";
const CREDENTIAL: &str = "AKIDLOGSECRET";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // An upload that fails once (503) and succeeds on the retry: both attempts are logged.
    let s3 = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&s3)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&s3)
        .await;
    let url = PresignedUrl::parse(&format!(
        "{}/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={CREDENTIAL}%2F20260101&X-Amz-Date=20260101T000000Z&X-Amz-Expires=1800&X-Amz-SignedHeaders=host&X-Amz-Signature={SIGNATURE}",
        s3.uri()
    ))
    .unwrap();
    let stand_in = StandIn::start().await.unwrap();
    let client = Client::builder()
        .api_key(stand_in.api_key())
        .base_url(stand_in.base_url())
        .build()
        .unwrap();
    let options = UploadOptions::default()
        .with_retry_delay(Duration::from_millis(1))
        .with_max_retry_delay(Duration::from_millis(2));
    let uploaded = client
        .upload_with(
            &url,
            UploadSource::from_bytes("people.csv", "a,b\n1,2\n"),
            &options,
        )
        .await
        .unwrap();
    assert_eq!(
        uploaded.attempts, 2,
        "the failed attempt was retried, so it was logged"
    );

    // A whole import against the stand-in: create, upload, polls, results.
    let file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
    std::fs::write(file.path(), "Email,Name\nada@example.com,Ada\n").unwrap();
    let request = ImportRequest::new(
        Schema::inline([dromo_client::Field::new(
            "email",
            "Email",
            dromo_client::FieldType::String,
        )]),
        Source::file("people.csv"),
    );
    let outcome = client
        .import_file_with::<serde_json::Value>(
            file.path(),
            request,
            &dromo_client::ImportOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        matches!(outcome, ImportOutcome::Imported { .. }),
        "{outcome:?}"
    );

    let log = captured.text();
    assert!(
        log.contains("request failed; retrying") && log.contains("what=\"upload\""),
        "the retry is logged: {log}"
    );
    assert!(
        log.contains("created headless import"),
        "the create is logged: {log}"
    );
    for secret in [
        SIGNATURE,
        CREDENTIAL,
        stand_in.api_key(),
        "X-Amz-Signature=",
    ] {
        assert!(!log.contains(secret), "`{secret}` reached the log:\n{log}");
    }
}
