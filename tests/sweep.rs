//! Decode sweep: every one of the spec's operations, called through the generated client
//! against Prism in dynamic mode (`prism mock -d`), which answers each call with a new random
//! body valid for the spec. Every answer must decode: a failure names the operation, the JSON
//! path where decoding stopped, why, and the body.
//!
//! `cargo xtask test` starts that Prism and sets `DROMO_PRISM_DYNAMIC_URL`. It serves the
//! vendored `openapi.json` (the upstream contract, not our corrected view of it) with
//! `--errors`, so every body is one the upstream spec allows, and a correction that narrows
//! what the client accepts fails here. By hand:
//! `cd xtask/prism && npm ci && node_modules/.bin/prism mock -d --errors -p 4011 ../../openapi.json`,
//! then `DROMO_PRISM_DYNAMIC_URL=http://127.0.0.1:4011 cargo test --test sweep`.
//! `DROMO_SWEEP_DRAWS` sets the calls per operation (default 5).

use dromo_client::generated::ResponseValue;
use dromo_client::{types, Client, Error};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const DEFAULT_DRAWS: usize = 5;
const ID: &str = "66d6300d-1414-4655-83b4-8c80fc527315";

/// The operations swept, by their `operationId` in `openapi.json`.
const OPERATIONS: [&str; 25] = [
    "listImportSchemas",
    "createImportSchema",
    "getImportSchema",
    "updateImportSchema",
    "deleteImportSchema",
    "listUploads",
    "getUploadMetadata",
    "deleteUpload",
    "getUploadUrl",
    "retrieveHeadlessImport",
    "deleteHeadlessImport",
    "getHeadlessImportUrl",
    "listHeadlessImports",
    "createHeadlessImport",
    "listSftpCredentials",
    "createSftpCredentials",
    "retrieveSftpCredentials",
    "updateSftpCredentials",
    "deleteSftpCredentials",
    "testSftpConnection",
    "listSftpConnectors",
    "createSftpConnector",
    "retrieveSftpConnector",
    "updateSftpConnector",
    "deleteSftpConnector",
];

/// Dynamic Prism's base URL, or `None` (after saying so) when the test runs without it.
fn dynamic_prism_url() -> Option<String> {
    match std::env::var("DROMO_PRISM_DYNAMIC_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ => {
            eprintln!(
                "decode sweep skipped: DROMO_PRISM_DYNAMIC_URL is not set; run `cargo xtask test` \
                 (starts Prism in dynamic mode), or see the top of tests/sweep.rs"
            );
            None
        }
    }
}

fn draws() -> usize {
    std::env::var("DROMO_SWEEP_DRAWS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_DRAWS)
}

/// Why one call did not give a decoded answer.
struct Failure {
    /// What kind of failure, and where: the grouping key of the report.
    summary: String,
    /// The details of this one (the decoder's message, which quotes the value).
    detail: String,
    /// The body received (its first characters), if any.
    body: String,
}

/// Checks one call's outcome: decoded, or why not.
async fn outcome<T: DeserializeOwned>(
    result: Result<ResponseValue<T>, Error>,
) -> Result<(), Failure> {
    match result {
        Ok(_) => Ok(()),
        Err(Error::Decode {
            path,
            message,
            snippet,
            ..
        }) => Err(Failure {
            summary: format!(
                "does not decode as {} at `{path}`",
                std::any::type_name::<T>().replace("dromo_client::generated::", ""),
            ),
            detail: message,
            body: snippet,
        }),
        Err(e) => {
            let who = match e.status() {
                Some(422) => "Prism refused the request this test sent (fix the test's request)",
                Some(500) => "Prism could not answer (its generated body broke the spec?)",
                Some(_) => "an answer that is not the success",
                None => "request failed",
            };
            Err(Failure {
                summary: format!("{who}: {e}"),
                detail: String::new(),
                body: e.response().map(|r| r.body.clone()).unwrap_or_default(),
            })
        }
    }
}

fn import_schema() -> types::ImportSchema {
    serde_json::from_value(json!({
        "name": "last - email",
        "fields": [
            {"key": "lastName", "type": "string", "label": "last", "validators": [{"validate": "required"}]},
            {"key": "email", "type": "email", "label": "email", "validators": [{"validate": "required"}]}
        ],
        "settings": {"developmentMode": true, "importIdentifier": "contacts"}
    }))
    .unwrap()
}

fn sftp_credential() -> Value {
    json!({"hostname": "sftp.example.com", "port": 22, "user": "sftpuser",
           "auth_type": "PASSWORD", "password": "secure-password-123"})
}

fn sftp_connector() -> types::SftpConnectorCreate {
    serde_json::from_value(json!({
        "credentials": "ee5d0e45-b098-47bc-8217-e93790243dfa",
        "schema": "f9e8d7c6-b5a4-3210-9876-543210fedcba",
        "schedule": {"type": "every_n_minutes", "minutes": 15},
        "directory": "/uploads",
        "file_regex": ".*\\.csv$"
    }))
    .unwrap()
}

/// Calls one operation once, with valid parameters and body.
async fn call(api: &dromo_client::generated::Client, operation: &str) -> Result<(), Failure> {
    let id = uuid::Uuid::parse_str(ID).unwrap();
    match operation {
        "listImportSchemas" => outcome(api.list_import_schemas().send().await).await,
        "createImportSchema" => {
            outcome(
                api.create_import_schema()
                    .body(import_schema())
                    .send()
                    .await,
            )
            .await
        }
        "getImportSchema" => outcome(api.get_import_schema().id(id).send().await).await,
        "updateImportSchema" => {
            let call = api.update_import_schema().id(id).body(import_schema());
            outcome(call.send().await).await
        }
        "deleteImportSchema" => outcome(api.delete_import_schema().id(id).send().await).await,
        "listUploads" => outcome(api.list_uploads().start(0).end(100).send().await).await,
        "getUploadMetadata" => outcome(api.get_upload_metadata().id(id).send().await).await,
        "deleteUpload" => outcome(api.delete_upload().id(id).send().await).await,
        "getUploadUrl" => outcome(api.get_upload_url().id(id).send().await).await,
        "retrieveHeadlessImport" => {
            outcome(api.retrieve_headless_import().id(id).send().await).await
        }
        "deleteHeadlessImport" => outcome(api.delete_headless_import().id(id).send().await).await,
        "getHeadlessImportUrl" => outcome(api.get_headless_import_url().id(id).send().await).await,
        "listHeadlessImports" => {
            outcome(
                api.list_headless_imports()
                    .offset(0u64)
                    .limit(10u64)
                    .send()
                    .await,
            )
            .await
        }
        "createHeadlessImport" => {
            let body: types::CreateHeadlessImportBody = serde_json::from_value(json!({
                "schema_id": "94187d21-9820-420f-b08c-a80cbbf52604",
                "original_filename": "contacts.csv",
                "import_metadata": {"user": {"id": "jeff_id"}}
            }))
            .unwrap();
            outcome(api.create_headless_import().body(body).send().await).await
        }
        "listSftpCredentials" => outcome(api.list_sftp_credentials().send().await).await,
        "createSftpCredentials" => {
            let body: types::SftpCredentialCreate =
                serde_json::from_value(sftp_credential()).unwrap();
            outcome(api.create_sftp_credentials().body(body).send().await).await
        }
        "retrieveSftpCredentials" => {
            outcome(api.retrieve_sftp_credentials().id(id).send().await).await
        }
        "updateSftpCredentials" => {
            let body: types::SftpCredentialUpdate =
                serde_json::from_value(sftp_credential()).unwrap();
            outcome(api.update_sftp_credentials().id(id).body(body).send().await).await
        }
        "deleteSftpCredentials" => outcome(api.delete_sftp_credentials().id(id).send().await).await,
        "testSftpConnection" => outcome(api.test_sftp_connection().id(id).send().await).await,
        "listSftpConnectors" => outcome(api.list_sftp_connectors().send().await).await,
        "createSftpConnector" => {
            outcome(
                api.create_sftp_connector()
                    .body(sftp_connector())
                    .send()
                    .await,
            )
            .await
        }
        "retrieveSftpConnector" => outcome(api.retrieve_sftp_connector().id(id).send().await).await,
        "updateSftpConnector" => {
            let call = api.update_sftp_connector().id(id).body(sftp_connector());
            outcome(call.send().await).await
        }
        "deleteSftpConnector" => outcome(api.delete_sftp_connector().id(id).send().await).await,
        other => panic!("the sweep does not know how to call {other}"),
    }
}

#[test]
fn the_sweep_covers_every_operation_of_the_spec() {
    let spec: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let mut in_spec: Vec<&str> = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op.get("operationId").and_then(Value::as_str))
        .collect();
    in_spec.sort_unstable();
    let mut swept = OPERATIONS.to_vec();
    swept.sort_unstable();
    assert_eq!(swept, in_spec, "OPERATIONS must list the spec's operations");
}

#[tokio::test]
async fn every_operation_decodes_every_answer_of_dynamic_prism() {
    let Some(url) = dynamic_prism_url() else {
        return;
    };
    let draws = draws();
    let client = Client::builder()
        .api_key("sweep-test-key")
        .base_url(&url)
        .build()
        .unwrap();
    let api = client.api();

    // (operation, summary) -> (count, the first one's detail and body).
    let mut failures: BTreeMap<(&str, String), (usize, String, String)> = BTreeMap::new();
    for operation in OPERATIONS {
        for _ in 0..draws {
            if let Err(failure) = call(api, operation).await {
                let entry = failures.entry((operation, failure.summary)).or_insert((
                    0,
                    failure.detail,
                    failure.body,
                ));
                entry.0 += 1;
            }
        }
    }
    let calls = OPERATIONS.len() * draws;
    let failed: usize = failures.values().map(|(n, _, _)| n).sum();
    eprintln!(
        "decode sweep: {calls} calls ({} operations x {draws} draws) against {url}: {failed} failed",
        OPERATIONS.len()
    );
    if failures.is_empty() {
        return;
    }
    let mut report = String::new();
    for ((operation, summary), (count, detail, body)) in &failures {
        report.push_str(&format!(
            "\n{operation}: {count} of {draws} draws: {summary}\n  first: {detail}\n  its body: {body}\n"
        ));
    }
    let operations: std::collections::BTreeSet<&str> =
        failures.keys().map(|(operation, _)| *operation).collect();
    panic!(
        "{failed} of {calls} answers did not decode, in {} operations ({}):\n{report}",
        operations.len(),
        operations.into_iter().collect::<Vec<_>>().join(", ")
    );
}
