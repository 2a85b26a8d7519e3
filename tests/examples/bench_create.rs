//! Create throughput: one create with ~15 MB of rows (`initial_data`) against the stand-in,
//! through the crate (typed request: serialize, validate, measure, send) or, with `--baseline`,
//! the same pre-built body posted with raw reqwest.
//!
//! ```text
//! cargo run --release --example bench_create                 # the crate
//! cargo run --release --example bench_create -- --baseline   # raw reqwest, same body
//! /usr/bin/time -v target/release/examples/bench_create [--baseline]   # peak RSS
//! ```
//!
//! Options: `--mb N` (default 14.5: just under Dromo's 15 MB limit), `--runs N` (default 3).

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Field, FieldType, ImportRequest, Schema, Source};
use std::time::Instant;

#[derive(serde::Serialize)]
struct Row {
    name: String,
    email: String,
    company: String,
    notes: String,
}

fn rows(target_bytes: usize) -> Vec<Row> {
    let mut out = Vec::new();
    let mut size = 2;
    let mut i = 0usize;
    while size < target_bytes {
        let row = Row {
            name: format!("Person {i}"),
            email: format!("person{i}@example.com"),
            company: format!("Company {}", i % 97),
            notes: "Lorem ipsum dolor sit amet, \"quoted\", and more".to_owned(),
        };
        // {"name":"..","email":"..","company":"..","notes":".."}, plus escapes and a comma.
        size += 43 + row.name.len() + row.email.len() + row.company.len() + row.notes.len() + 4;
        out.push(row);
        i += 1;
    }
    out
}

fn fields() -> Vec<Field> {
    ["name", "email", "company", "notes"]
        .into_iter()
        .map(|k| Field::new(k, k, FieldType::String))
        .collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut baseline = false;
    let mut mb = 14.5f64;
    let mut runs = 3u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--baseline" => baseline = true,
            "--mb" => mb = args.next().ok_or("--mb needs a number")?.parse()?,
            "--runs" => runs = args.next().ok_or("--runs needs a number")?.parse()?,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    let server = StandIn::start().await?;
    let rows = rows((mb * 1024.0 * 1024.0) as usize);
    println!(
        "{} rows, mode: {}",
        rows.len(),
        if baseline {
            "baseline (raw reqwest, pre-built body)"
        } else {
            "dromo-client"
        }
    );

    if baseline {
        let body = serde_json::to_vec(&serde_json::json!({
            "fields": fields().into_iter().map(dromo_client::types::SchemaFieldsItem::from).collect::<Vec<_>>(),
            "initial_data": rows,
            "import_metadata": {"user": {"id": "bench"}},
        }))?;
        println!("body: {:.2} MB", body.len() as f64 / 1e6);
        let http = reqwest::Client::new();
        let body = bytes::Bytes::from(body);
        for run in 1..=runs {
            let start = Instant::now();
            let response = http
                .post(format!("{}/headless/imports/", server.base_url()))
                .header("X-Dromo-License-Key", server.api_key())
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send()
                .await?;
            let status = response.status();
            let _ = response.bytes().await?;
            let secs = start.elapsed().as_secs_f64();
            println!(
                "run {run}: HTTP {status} in {secs:.3} s = {:.1} MB/s",
                body.len() as f64 / 1e6 / secs
            );
        }
    } else {
        let client = Client::builder()
            .api_key(server.api_key())
            .base_url(server.base_url())
            .build()?;
        for run in 1..=runs {
            let start = Instant::now();
            // Includes serializing and validating the rows: the work a caller pays for.
            let request = ImportRequest::new(Schema::inline(fields()), Source::rows(&rows)?);
            let created = client.create_import(request).await?;
            let secs = start.elapsed().as_secs_f64();
            println!(
                "run {run}: {} ({}) in {secs:.3} s",
                created.id, created.status
            );
        }
    }
    Ok(())
}
