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

mod common;

use common::operations::{call, OPERATIONS};
use dromo_client::{Client, Error};
use serde_json::Value;
use std::collections::BTreeMap;

const DEFAULT_DRAWS: usize = 5;

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

/// A failed call as the report shows it.
fn failure(error: Error) -> Failure {
    match error {
        Error::Decode {
            path,
            message,
            snippet,
            ..
        } => Failure {
            summary: format!("does not decode at `{path}`"),
            detail: message,
            body: snippet,
        },
        e => {
            let who = match e.status() {
                Some(422) => "Prism refused the request this test sent (fix the test's request)",
                Some(500) => "Prism could not answer (its generated body broke the spec?)",
                Some(_) => "an answer that is not the success",
                None => "request failed",
            };
            Failure {
                summary: format!("{who}: {e}"),
                detail: String::new(),
                body: e.response().map(|r| r.body.clone()).unwrap_or_default(),
            }
        }
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
            if let Err(failure) = call(api, operation).await.map_err(failure) {
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
