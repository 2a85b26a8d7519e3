//! The generated types, proven against the spec: every example in `openapi.json` decodes into
//! its generated type and re-encodes to equivalent JSON; plus the documented upstream defects
//! our corrections fix (`PENDING`, unknown statuses, extra fields, `selectOptions`).

use dromo_client::types;
use dromo_client::ImportStatus;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

const SPEC: &str = include_str!("../openapi.json");

fn spec() -> Value {
    serde_json::from_str(SPEC).unwrap()
}

/// Follows a local `$ref`.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => spec
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => schema,
    }
}

/// An example for a schema: its own `example`, or one assembled from its parts' examples
/// (properties, `allOf` members, the first non-null alternative, array items). Required
/// properties without an example get a value of their type.
fn example_of(spec: &Value, schema: &Value) -> Option<Value> {
    let schema = resolve(spec, schema);
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for part in all {
            if let Some(Value::Object(m)) = example_of(spec, part) {
                merged.extend(m);
            }
        }
        return Some(Value::Object(merged));
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
            return alternatives
                .iter()
                .filter(|a| a.get("type") != Some(&json!("null")))
                .find_map(|a| example_of(spec, a));
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        for (name, prop) in props {
            match example_of(spec, prop) {
                Some(v) => {
                    out.insert(name.clone(), v);
                }
                None if required.contains(&name.as_str()) => {
                    out.insert(name.clone(), filler(resolve(spec, prop)));
                }
                None => {}
            }
        }
        return Some(Value::Object(out));
    }
    if let Some(items) = schema.get("items") {
        return example_of(spec, items).map(|item| json!([item]));
    }
    None
}

fn filler(schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(true),
        Some("array") => json!([]),
        Some("object") => json!({}),
        _ => json!("x"),
    }
}

/// Drops `null` and `[]` members: the generated types skip `None` and empty lists when
/// encoding, which Dromo reads the same as absent. Integral numbers are written as integers:
/// `75` and `75.0` are the same JSON number (a `number` field decodes to `f64`).
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

fn round_trip<T: DeserializeOwned + Serialize>(what: &str, example: &Value) -> T {
    let decoded: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|e| panic!("{what}: example does not decode: {e}\n{example:#}"));
    let encoded = serde_json::to_value(&decoded).unwrap();
    assert_eq!(
        without_nulls(&encoded),
        without_nulls(example),
        "{what}: re-encoded JSON differs"
    );
    decoded
}

/// The schema at a pointer of the spec.
fn at<'a>(spec: &'a Value, pointer: &str) -> &'a Value {
    spec.pointer(pointer)
        .unwrap_or_else(|| panic!("no schema at {pointer}"))
}

/// Every place of the spec whose examples are checked, with the generated type they decode into.
macro_rules! checks {
    ($spec:ident, $covered:ident; $($pointer:expr => $ty:ty),* $(,)?) => {{
        $(
            let example = example_of(&$spec, at(&$spec, $pointer)).unwrap_or_else(|| panic!("no example under {}", $pointer));
            round_trip::<$ty>($pointer, &example);
            $covered.push($pointer.to_owned());
        )*
    }};
}

const JSON: &str = "content/application~1json/schema";

#[test]
fn every_example_in_the_spec_decodes_and_re_encodes() {
    let spec = spec();
    let mut covered: Vec<String> = Vec::new();
    let p = |path: &str, rest: &str| format!("/paths/{}/{rest}/{JSON}", path.replace('/', "~1"));
    checks!(spec, covered;
        "/components/schemas/HeadlessImport" => types::HeadlessImport,
        "/components/schemas/HeadlessImportFull" => types::HeadlessImportFull,
        "/components/schemas/ImportMetaData" => types::ImportMetaData,
        "/components/schemas/ResultData" => types::ResultData,
        "/components/schemas/SchemaFields" => types::SchemaFields,
        "/components/schemas/SchemaSettings" => types::SchemaSettings,
        "/components/schemas/SchemaHooks" => types::SchemaHooks,
        "/components/schemas/ImportSchema" => types::ImportSchema,
        "/components/schemas/Import" => types::Import,
        "/components/schemas/ImportDetail" => types::ImportDetail,
        "/components/schemas/SftpCredential" => types::SftpCredential,
        "/components/schemas/SftpCredentialCreate" => types::SftpCredentialCreate,
        "/components/schemas/SftpCredentialUpdate" => types::SftpCredentialUpdate,
        "/components/schemas/SftpConnector" => types::SftpConnector,
        "/components/schemas/SftpConnectorCreate" => types::SftpConnectorCreate,
        &p("/headless/imports/", "post/requestBody") => types::CreateHeadlessImportBody,
        &p("/headless/imports/", "get/responses/200") => types::ListHeadlessImportsResponse,
        &p("/headless/imports/{id}/url/", "get/responses/200") => types::GetHeadlessImportUrlResponse,
        &p("/upload/{id}/url/", "get/responses/200") => types::GetUploadUrlResponse,
        &p("/uploads/", "get/responses/200") => types::ListUploadsResponse,
        &p("/headless/sftp/credentials/", "get/responses/200") => types::ListSftpCredentialsResponse,
        &p("/headless/sftp/credentials/", "post/responses/400") => types::CreateSftpCredentialsResponse,
        &p("/headless/sftp/connectors/", "get/responses/200") => types::ListSftpConnectorsResponse,
        &p("/headless/sftp/connectors/", "post/responses/400") => types::CreateSftpConnectorResponse,
        &p("/headless/sftp/credentials/{id}/test_connection/", "post/responses/200") => types::TestSftpConnectionResponse,
    );

    // Every example of the spec lies under a checked schema, or is a path parameter (checked
    // below), so a new example in a spec update cannot go unchecked.
    let mut examples = Vec::new();
    collect_examples(&spec, "", &mut examples);
    assert!(examples.len() > 50, "{}", examples.len());
    for pointer in examples {
        let under_checked = covered.iter().any(|c| pointer.starts_with(c.as_str()));
        let is_parameter = pointer.contains("/parameters/");
        // Schemas reached through `$ref` (list results, body fields) are checked at the component.
        assert!(
            under_checked || is_parameter,
            "example at {pointer} is not checked by any round trip"
        );
    }
}

#[test]
fn every_path_parameter_example_is_a_valid_id() {
    let spec = spec();
    let mut examples = Vec::new();
    collect_examples(&spec, "", &mut examples);
    let params: Vec<_> = examples
        .iter()
        .filter(|p| p.contains("/parameters/"))
        .collect();
    assert!(!params.is_empty());
    for pointer in params {
        let value = spec.pointer(pointer).unwrap();
        // Path ids are `format: uuid`: the generated builders take `uuid::Uuid`.
        let _: uuid::Uuid =
            serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{pointer}: {e}"));
    }
}

fn collect_examples(value: &Value, pointer: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k == "example" || k == "examples" {
                    out.push(p);
                } else {
                    collect_examples(v, &p, out);
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| collect_examples(v, &format!("{pointer}/{i}"), out)),
        _ => {}
    }
}

fn retrieve_example() -> Value {
    let spec = spec();
    example_of(&spec, at(&spec, "/components/schemas/HeadlessImportFull")).unwrap()
}

#[test]
fn retrieve_with_pending_status_decodes() {
    let mut body = retrieve_example();
    body["status"] = json!("PENDING");
    let import: types::HeadlessImportFull = round_trip("pending", &body);
    assert_eq!(import.status, Some(ImportStatus::Pending));
}

#[test]
fn retrieve_with_an_unknown_status_decodes_and_keeps_it() {
    let mut body = retrieve_example();
    body["status"] = json!("VALIDATING");
    let import: types::HeadlessImportFull = round_trip("unknown status", &body);
    assert_eq!(
        import.status,
        Some(ImportStatus::Unknown("VALIDATING".into()))
    );
    assert!(!import.status.unwrap().is_terminal());
}

#[test]
fn retrieve_with_an_extra_field_decodes_and_keeps_it() {
    let mut body = retrieve_example();
    body["original_file_download"] = json!("https://example.invalid/file.csv");
    let import: types::HeadlessImportFull = round_trip("extra field", &body);
    assert_eq!(
        import.extra.get("original_file_download"),
        Some(&json!("https://example.invalid/file.csv"))
    );
}

#[test]
fn all_documented_statuses_decode() {
    for (wire, status) in [
        ("AWAITING_UPLOAD", ImportStatus::AwaitingUpload),
        ("PENDING", ImportStatus::Pending),
        ("RUNNING", ImportStatus::Running),
        ("SUCCESSFUL", ImportStatus::Successful),
        ("NEEDS_REVIEW", ImportStatus::NeedsReview),
        ("FAILED", ImportStatus::Failed),
    ] {
        let mut body = retrieve_example();
        body["status"] = json!(wire);
        let import: types::HeadlessImportFull = round_trip(wire, &body);
        assert_eq!(import.status, Some(status));
    }
}

#[test]
fn a_select_field_with_options_can_be_sent() {
    let body = json!({
        "fields": [{
            "key": "country",
            "label": "Country",
            "type": "select",
            "selectOptions": [
                { "label": "France", "value": "FR", "alternateMatches": ["fr", "République française"] },
                { "label": "Japan", "value": "JP" }
            ]
        }],
        "original_filename": "people.csv"
    });
    let decoded: types::CreateHeadlessImportBody = round_trip("selectOptions", &body);
    let field = &decoded.fields.as_ref().unwrap().0[0];
    assert_eq!(field.select_options.len(), 2);
    assert_eq!(field.select_options[0].value, "FR");
}

#[test]
fn documented_settings_beyond_the_spec_can_be_sent() {
    let body = json!({
        "schema_id": "94187d21-9820-420f-b08c-a80cbbf52604",
        "original_filename": "people.csv",
        "settings": { "importIdentifier": "people", "autoMapHeaders": true, "delimiter": ";", "uploadStep": { "helpText": "hi" }, "somethingNew": 1 }
    });
    let decoded: types::CreateHeadlessImportBody = round_trip("settings", &body);
    let settings = decoded.settings.unwrap();
    assert_eq!(settings.auto_map_headers, Some(true));
    assert_eq!(settings.extra.get("somethingNew"), Some(&json!(1)));
}

#[test]
fn a_response_missing_a_documented_enum_value_elsewhere_decodes() {
    // Response enums are open: a new SFTP auth type does not break listing credentials.
    let spec = spec();
    let mut credential =
        example_of(&spec, at(&spec, "/components/schemas/SftpCredential")).unwrap();
    credential["auth_type"] = json!("CERTIFICATE");
    let decoded: types::SftpCredential = round_trip("auth type", &credential);
    assert_eq!(decoded.auth_type, "CERTIFICATE");
}

/// Issue 8, finding 10: integers in responses decode from any integral JSON number (JSON Schema
/// counts `1000.0` as an integer), and a wrong negative count does not break the page.
#[test]
fn response_integers_accept_integral_floats_and_negative_counts() {
    for (count, expected) in [
        (json!(75.0), 75.0),
        (json!(-1), -1.0),
        (json!(75), 75.0),
        (json!(75.5), 75.5),
    ] {
        let page: types::ListHeadlessImportsResponse = serde_json::from_value(
            json!({"count": count, "next": null, "previous": null, "results": []}),
        )
        .unwrap_or_else(|e| panic!("count {count}: {e}"));
        assert_eq!(page.count, Some(expected));
    }
    let credential: types::SftpCredential = serde_json::from_value(
        json!({"hostname": "sftp.example.com", "port": 22.0, "user": "u", "auth_type": "password"}),
    )
    .unwrap();
    assert_eq!(credential.port.get(), 22);
    let settings: types::ImportSchemaSettings =
        serde_json::from_value(json!({"maxRecords": 1000.0, "maxFileSize": 5.0})).unwrap();
    assert_eq!(settings.max_records.unwrap().get(), 1000);
    let schedule: types::SftpConnectorSchedule =
        serde_json::from_value(json!({"type": "every_n_minutes", "minutes": 10.0})).unwrap();
    assert!(
        matches!(&schedule, types::SftpConnectorSchedule::Variant0 { minutes, .. } if minutes.get() == 10),
        "{schedule:?}"
    );
    // Not whole numbers: still refused.
    assert!(serde_json::from_value::<types::SftpCredential>(
        json!({"hostname": "h", "port": 22.5, "user": "u", "auth_type": "password"})
    )
    .is_err());
    assert!(
        serde_json::from_value::<types::ListHeadlessImportsResponse>(
            json!({"count": "75", "results": []})
        )
        .is_err()
    );
}
