//! Property tests (issue 8): whatever a server or a caller sends, nothing panics, and every
//! message built from server text is bounded and shows no credential.

use dromo_client::{types, ApiResponse, Error};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use serde_json::{json, Value};

/// The longest `Display` an error built from a server answer may have.
const MAX_DISPLAY: usize = 2_000;

/// A credential a server might quote back, in one of the forms S3 and proxies use.
fn secret_text() -> impl Strategy<Value = (String, String)> {
    ("[0-9]{12}", 0..4usize).prop_map(|(digits, form)| {
        let token = format!("SECRET{digits}");
        let text = match form {
            0 => format!("https://bucket.s3.amazonaws.com/key?X-Amz-Credential=AKIA{token}&X-Amz-Signature={token}"),
            1 => format!("http://h:9000/k?Signature={token}"),
            2 => format!("<StringToSign>X-Amz-Signature={token}</StringToSign>"),
            _ => format!("expected signature Signature={token} for AWSAccessKeyId={token}"),
        };
        (token, text)
    })
}

fn words() -> impl Strategy<Value = String> {
    "[a-z ]{0,40}"
}

/// Error bodies as Dromo, DRF, Prism, proxies and S3 send them, with a credential inside and
/// sometimes very long.
fn error_body() -> impl Strategy<Value = (String, Vec<u8>)> {
    (secret_text(), words(), words(), 0..6usize, 0..70_000usize).prop_map(
        |((token, secret), before, after, shape, pad)| {
            let text = format!("{before}{secret}{after}{}", "x".repeat(pad));
            let body = match shape {
                0 => json!({ "detail": text }).to_string(),
                1 => json!({ "fields": [{ "key": [text] }], "other": [before] }).to_string(),
                2 => json!({"title": "Invalid request", "status": 422, "validation": [
                    {"location": ["body", text.clone()], "message": text}]})
                .to_string(),
                3 => format!("<html><body><h1>502 Bad Gateway</h1>{text}</body></html>"),
                4 => format!("<Error><Code>AccessDenied</Code><Message>{text}</Message></Error>"),
                _ => json!([text, { "nested": { "deeper": [text] } }]).to_string(),
            };
            (token, body.into_bytes())
        },
    )
}

proptest! {
    // No failure files: a failure prints its case, which becomes a unit test of its own (the
    // scrubber's multibyte case did, in src/scrub.rs).
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(200)
    })]

    #[test]
    fn error_messages_are_bounded_and_show_no_credential(
        status in prop_oneof![400u16..=404, Just(422u16), Just(429u16), 500u16..=504, Just(418u16)],
        (token, body) in error_body(),
    ) {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let error = Error::from_api_response(ApiResponse::new(status, &headers, &body));
        let shown = error.to_string();
        prop_assert!(!shown.contains(&token), "credential in Display: {shown}");
        prop_assert!(!format!("{error:?}").contains(&token), "credential in Debug");
        prop_assert!(shown.chars().count() <= MAX_DISPLAY, "{} chars", shown.chars().count());
        prop_assert!(!shown.contains('\n'), "one line: {shown}");
        prop_assert_eq!(error.status(), Some(status));
    }

    #[test]
    fn any_retry_after_is_read_without_panic(value in prop_oneof![
        "[0-9]{1,30}",
        Just(u64::MAX.to_string()),
        Just("-1".to_owned()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
        Just("Thu, 01 Jan 1970 00:00:00 GMT".to_owned()),
        "[ -~]{0,60}",
    ]) {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(RETRY_AFTER, v);
        }
        let error = Error::from_api_response(ApiResponse::new(429, &headers, b"{}"));
        prop_assert!(error.is_retryable());
        let _ = error.retry_after();
        prop_assert!(error.to_string().contains("429"));
    }

    #[test]
    fn any_create_body_is_read_and_checked_without_panic(body in create_body()) {
        if let Ok(body) = serde_json::from_value::<types::CreateHeadlessImportBody>(body) {
            if let Err(error) = dromo_client::validate(&body) {
                prop_assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
                prop_assert!(!error.to_string().is_empty());
            }
        }
    }
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[ -~]{0,20}".prop_map(Value::from),
        Just(Value::from("94187d21-9820-420f-b08c-a80cbbf52604")),
        Just(Value::from("people.csv")),
        Just(Value::from("number")),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("key".to_owned()),
                    Just("label".to_owned()),
                    Just("type".to_owned()),
                    Just("validators".to_owned()),
                    Just("selectOptions".to_owned()),
                    "[a-zA-Z]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Objects with the create body's keys (and others), holding any JSON.
fn create_body() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(
        prop_oneof![
            Just("schema_id".to_owned()),
            Just("fields".to_owned()),
            Just("original_filename".to_owned()),
            Just("initial_data".to_owned()),
            Just("settings".to_owned()),
            Just("hooks".to_owned()),
            Just("import_metadata".to_owned()),
            "[a-z_]{1,10}",
        ],
        json_value(),
        0..6,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
}
