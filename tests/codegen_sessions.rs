//! The Sessions API's spec (`sessions-openapi.json`) through the same pipeline as `openapi.json`:
//! vendored byte for byte (its sha256 pinned), converted, corrected in `corrections.rs`, and
//! generated with the same key hook and error adapter; 25 + 3 = 28 operations in all.

#[allow(dead_code)]
#[path = "../src/codegen/mod.rs"]
mod codegen;

use codegen::Spec;
use serde_json::Value;
use sha2::{Digest, Sha256};

const MAIN: &[u8] = include_bytes!("../openapi.json");
const SESSIONS: &[u8] = include_bytes!("../sessions-openapi.json");

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn operation_ids(spec: &[u8]) -> Vec<String> {
    let spec: Value = serde_json::from_slice(spec).unwrap();
    let mut ids = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            ids.push(op["operationId"].as_str().unwrap().to_owned());
        }
    }
    ids
}

fn snake(id: &str) -> String {
    id.chars()
        .flat_map(|c| {
            if c.is_uppercase() {
                vec!['_', c.to_ascii_lowercase()]
            } else {
                vec![c]
            }
        })
        .collect()
}

#[test]
fn vendored_sessions_spec_matches_its_sha256_pin() {
    let pinned = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sessions-openapi.sha256"
    ))
    .expect("tests/sessions-openapi.sha256 exists");
    assert_eq!(
        sha256_hex(SESSIONS),
        pinned.trim(),
        "sessions-openapi.json differs from its pin: it must stay byte-identical to upstream; update it only with `cargo xtask update-spec`"
    );
    // Upstream's bytes, as published at dromoio/docs a5817d47.
    assert_eq!(
        pinned.trim(),
        "2f83276bf0f0dbe7a0a1c1a4655af9d3b07c524ea31c965027cb9c02b77b1d1c"
    );
}

#[test]
fn both_specs_generate_28_operations_with_the_crates_error_and_key_hook() {
    let mut total = 0;
    for (which, bytes, count) in [(Spec::Main, MAIN, 25), (Spec::Sessions, SESSIONS, 3)] {
        let code = codegen::generate_spec(bytes, which, false)
            .unwrap_or_else(|e| panic!("{}: {e}", which.file()));
        let ids = operation_ids(bytes);
        assert_eq!(ids.len(), count, "{}", which.file());
        for id in &ids {
            let snake = snake(id);
            assert!(
                code.contains(&format!("operation_id: \"{snake}\"")),
                "{id} missing"
            );
            assert!(code.contains(&format!("pub fn {snake}(&self)")), "{snake}");
        }
        // The same hooks: the key added by `authenticate`, every `send` returning crate::Error.
        assert!(
            code.contains("crate::config::authenticate"),
            "{}",
            which.file()
        );
        assert_eq!(
            (
                code.matches("pub async fn send(").count(),
                code.matches("pub(crate) async fn send_unchecked(").count()
            ),
            (count, count),
            "one mapped `send` per operation in {}",
            which.file()
        );
        assert!(code.contains("crate::error::from_generated"));
        assert!(
            !code.contains("ErrorResponse"),
            "an error arm drops the body"
        );
        total += ids.len();
    }
    assert_eq!(total, 28);
}

#[test]
fn the_hydration_id_is_generated_as_the_secret_type() {
    let code = codegen::generate_spec(SESSIONS, Spec::Sessions, false).unwrap();
    assert_eq!(
        code.matches("pub hydration_id: ::std::option::Option<crate::HydrationToken>")
            .count(),
        2,
        "SessionCreated and TokenResponse"
    );
    assert!(!code.contains("pub hydration_id: ::std::option::Option<::std::string::String>"));
    // expiresIn is read as the tolerant whole number, as every response integer.
    assert!(code.contains("pub expires_in: ::std::option::Option<crate::WholeNumber>"));
    // Both CLIs generate (feature `cli`).
    codegen::cli::generate_spec_cli(SESSIONS, Spec::Sessions).unwrap();
}

#[test]
fn a_correction_that_no_longer_applies_is_an_error() {
    let mut spec: Value = serde_json::from_slice(SESSIONS).unwrap();
    for schema in ["SessionCreated", "TokenResponse"] {
        spec["components"]["schemas"][schema]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("hydrationId");
    }
    let error = codegen::prepare_spec(&serde_json::to_vec(&spec).unwrap(), Spec::Sessions)
        .unwrap_err()
        .to_string();
    assert!(error.contains("hydration_ids_are_secret"), "{error}");
}
