//! Helpers shared by the integration tests.

use dromo_client::stand_in::StandIn;
use serde_json::{json, Value};

/// Creates a file import on the stand-in with a raw request (not through the client under
/// test), for `fields`, and returns the created import's JSON.
#[allow(dead_code)] // Not every test target uses it.
pub async fn raw_create_file_import(server: &StandIn, fields: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}/headless/imports/", server.base_url()))
        .header("X-Dromo-License-Key", server.api_key())
        .json(&json!({
            "fields": fields,
            "original_filename": "people.csv",
            "import_metadata": {"user": {"id": "u1"}},
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub mod fault;
pub mod operations;
