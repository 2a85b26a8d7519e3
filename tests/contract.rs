//! Contract tests: the creates this crate sends, checked by Prism against the vendored
//! `openapi.json` with request validation on (`cargo xtask test` starts Prism and sets
//! `DROMO_PRISM_URL`). Without the variable each test says it is skipped and passes.

use dromo_client::{
    types, ApiResponse, Client, CreatedImport, Error, Field, FieldType, ImportRequest, Schema,
    Source, User,
};
use serde_json::json;

const KEY: &str = "contract-test-key";
const SCHEMA_ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";

/// Prism's base URL, or `None` (after saying so) when the tests run without it.
fn prism_url() -> Option<String> {
    match std::env::var("DROMO_PRISM_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ => {
            eprintln!("contract test skipped: DROMO_PRISM_URL is not set; run `cargo xtask test` (installs and starts Prism)");
            None
        }
    }
}

fn client(url: &str) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(url)
        .build()
        .unwrap()
}

/// Only what the upstream spec documents: Prism forbids anything else in fields and settings.
fn fields() -> Schema {
    Schema::inline([
        Field::new("first_name", "First Name", FieldType::String)
            .required()
            .description("Given name"),
        Field::new("email", "Email", FieldType::Email)
            .alternate_matches(["e-mail", "mail"])
            .unique(),
    ])
}

fn with_everything(request: ImportRequest) -> ImportRequest {
    request
        .build_settings(|s| {
            s.development_mode(true)
                .import_identifier("contacts".to_owned())
                .invalid_data_behavior(Some(types::SchemaSettingsInvalidDataBehavior::BlockSubmit))
        })
        .hooks(types::SchemaHooks::builder().row_hooks(vec![
            "(record, mode) => { return { row: { first_name: { value: \"Updated from row hook\" } } }; }".to_owned(),
        ]))
        .user(
            User::new("jeff_id")
                .name("Jeff")
                .email("jeff@dromo.io")
                .company("dromo_id", "Dromo"),
        )
}

fn assert_created(import: &CreatedImport) {
    assert!(!import.id.as_uuid().is_nil(), "{import:?}");
    assert!(import.upload_url.is_some(), "{import:?}");
    assert!(import.review_url.is_some(), "{import:?}");
}

#[tokio::test]
async fn contract_every_create_form_is_accepted_and_decodes() {
    let Some(url) = prism_url() else { return };
    let client = client(&url);
    let rows =
        || Source::rows([json!({"first_name": "Zeph", "email": "paul.zeph@gmail.com"})]).unwrap();
    let array_rows = || Source::rows([["Zeph", "paul.zeph@gmail.com"]]).unwrap();
    let requests = [
        (
            "saved schema + file",
            ImportRequest::new(Schema::saved(SCHEMA_ID), Source::file("contacts.csv")),
        ),
        (
            "saved schema + rows",
            ImportRequest::new(Schema::saved(SCHEMA_ID), rows()),
        ),
        (
            "inline fields + file",
            ImportRequest::new(fields(), Source::file("contacts.xlsx")),
        ),
        (
            "inline fields + object rows",
            ImportRequest::new(fields(), rows()),
        ),
        (
            "inline fields + array rows",
            ImportRequest::new(fields(), array_rows()),
        ),
    ];
    for (name, request) in requests {
        for request in [request.clone(), with_everything(request)] {
            match client.create_import(request).await {
                Ok(import) => assert_created(&import),
                Err(e) => panic!("{name}: Prism refused a request this crate sends: {e}"),
            }
        }
    }

    // The raw generated body, as a caller builds it (the spec's own example).
    let raw: types::CreateHeadlessImportBody = serde_json::from_value(json!({
        "fields": [
            {"key": "first_name", "type": "string", "label": "First Name", "validators": []},
            {"key": "last_name", "type": "string", "label": "Last Name", "validators": []}
        ],
        "initial_data": [{"first_name": "Zeph", "last_name": "paul.zeph@gmail.com"}],
        "hooks": {"rowHooks": ["(record, mode) => record"]},
        "import_metadata": {"user": {"id": "jeff_id"}}
    }))
    .unwrap();
    let import = client.create_import(raw).await.unwrap();
    assert_created(&import);
}

#[tokio::test]
async fn contract_a_request_without_the_key_is_unauthorized() {
    let Some(url) = prism_url() else { return };
    // A hand-made request without `X-Dromo-License-Key`, mapped like the crate's own calls.
    let response = reqwest::Client::new()
        .post(format!("{url}/headless/imports/"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(json!({"schema_id": SCHEMA_ID, "original_filename": "contacts.csv"}).to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let err = Error::from_api_response(ApiResponse::new(status, &headers, &body));
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    assert!(
        err.to_string()
            .starts_with("Dromo rejected the API key (HTTP 401): use the Backend license key"),
        "{err}"
    );

    // The same request with the key goes through.
    client(&url)
        .create_import(ImportRequest::new(
            Schema::saved(SCHEMA_ID),
            Source::file("contacts.csv"),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn contract_a_body_breaking_the_spec_is_rejected_with_its_violations() {
    let Some(url) = prism_url() else { return };
    // Select options and undocumented settings are real Dromo features the upstream spec
    // forbids (`additionalProperties: false`): Prism refuses them, and says where.
    let mut settings: types::SchemaSettings =
        serde_json::from_value(json!({"developmentMode": true})).unwrap();
    settings
        .extra
        .insert("undocumentedSetting".to_owned(), json!(true));
    let request = ImportRequest::new(
        Schema::inline([Field::select(
            "plan",
            "Plan",
            [("Free", "free"), ("Pro", "pro")],
        )]),
        Source::file("contacts.csv"),
    )
    .settings(settings);
    request.validate().unwrap();
    let err = client(&url).create_import(request).await.unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err:?}");
    assert_eq!((err.status(), err.is_retryable()), (Some(422), false));
    let messages = &err.response().unwrap().messages;
    assert!(
        messages
            .iter()
            .any(|(field, msg)| field == "body.fields.0" && msg.contains("selectOptions")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|(field, msg)| field == "body.settings" && msg.contains("undocumentedSetting")),
        "{messages:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("Dromo refused the request (HTTP 422): body."),
        "{text}"
    );
    assert!(text.ends_with("; fix these and send again"), "{text}");
}

/// The property names the upstream spec allows at `pointer` (Prism refuses any other).
fn spec_keys(spec: &serde_json::Value, pointer: &str) -> Vec<String> {
    spec.pointer(pointer)
        .and_then(serde_json::Value::as_object)
        .map(|props| props.keys().cloned().collect())
        .unwrap_or_default()
}

/// Whether every key of an example is one the upstream spec lists (and every step hook type one
/// of its enum): the part of Dromo's docs the spec can express, so Prism must accept it.
fn fits_the_spec(spec: &serde_json::Value, body: &serde_json::Value) -> bool {
    let schemas = "/components/schemas";
    let field_keys = spec_keys(spec, &format!("{schemas}/SchemaFields/items/properties"));
    let settings_keys = spec_keys(spec, &format!("{schemas}/SchemaSettings/properties"));
    let hook_keys = spec_keys(spec, &format!("{schemas}/SchemaHooks/properties"));
    let step_types = spec
        .pointer(&format!(
            "{schemas}/SchemaHooks/properties/stepHooks/items/properties/type/enum"
        ))
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let keys_in = |value: &serde_json::Value, allowed: &[String]| {
        value
            .as_object()
            .is_none_or(|m| m.keys().all(|k| allowed.contains(k)))
    };
    body["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|f| keys_in(f, &field_keys))
        && keys_in(&body["settings"], &settings_keys)
        && keys_in(&body["hooks"], &hook_keys)
        && body["hooks"]["stepHooks"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|h| step_types.contains(&h["type"]))
}

/// Issue 13: what the client sends for Dromo's documented examples satisfies the spec too (a
/// field without a type goes out as `"type": "string"`, which the spec requires).
#[tokio::test]
async fn contract_dromos_documented_examples_are_accepted() {
    let Some(url) = prism_url() else { return };
    let client = client(&url);
    let spec: serde_json::Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let corpus: serde_json::Value =
        serde_json::from_str(include_str!("data/docs-corpus.json")).unwrap();
    let sample: Vec<&serde_json::Value> = corpus["examples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.get("invalid").is_none() && fits_the_spec(&spec, &e["body"]))
        .collect();
    let untyped = sample
        .iter()
        .filter(|e| {
            e["body"]["fields"]
                .as_array()
                .is_some_and(|f| f.iter().any(|f| f.get("type").is_none()))
        })
        .count();
    assert!(
        sample.len() >= 20,
        "only {} examples in the sample",
        sample.len()
    );
    assert!(untyped >= 5, "only {untyped} examples without a field type");
    for example in sample {
        let id = example["id"].as_str().unwrap();
        let body = example["body"].clone();
        let request = dromo_client::CreateRequest::from_value(body.clone()).unwrap();
        match client.create_import(request).await {
            Ok(import) => assert_created(&import),
            Err(e) => panic!("{id}: Prism refused the docs' example as the client sends it: {e}"),
        }
        let typed: types::CreateHeadlessImportBody = serde_json::from_value(body).unwrap();
        match client.create_import(typed).await {
            Ok(import) => assert_created(&import),
            Err(e) => {
                panic!("{id}: Prism refused the docs' example read into the generated types: {e}")
            }
        }
    }
}
