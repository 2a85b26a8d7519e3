//! Per-call overhead of a retrieve through the client, against raw reqwest sending the same
//! request to the same loopback server and decoding the same type.
//!
//! ```text
//! cargo build --release --example bench_retrieve
//! target/release/examples/bench_retrieve --serve                 # prints its URL, waits
//! target/release/examples/bench_retrieve --url URL --calls 20000             # the client
//! target/release/examples/bench_retrieve --url URL --calls 20000 --baseline  # raw reqwest
//! ```
//!
//! Time the two side by side with `hyperfine` or `/usr/bin/time -v`; each run also prints its
//! mean time per call.

use dromo_client::{types, Client, ImportId};
use std::convert::Infallible;
use std::time::Instant;

const ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";

/// Answers every request with one import, as `GET /headless/imports/{id}/` does.
async fn server() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let body = bytes::Bytes::from(
        serde_json::json!({
            "id": ID,
            "status": "RUNNING",
            "original_filename": "people.csv",
            "schema_id": "66d6300d-1414-4655-83b4-8c80fc527315",
            "created_date": "2024-01-01T00:00:00Z",
            "review_url": "https://app.dromo.io/review/94187d21/",
        })
        .to_string(),
    );
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let body = body.clone();
                    async move {
                        let response = hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(http_body_util::Full::new(body));
                        Ok::<_, Infallible>(response.unwrap_or_default())
                    }
                });
                let io = hyper_util::rt::TokioIo::new(socket);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}/api/v1"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut url: Option<String> = None;
    let mut calls = 10_000u32;
    let mut baseline = false;
    let mut serve = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = Some(args.next().ok_or("--url needs a URL")?),
            "--calls" => calls = args.next().ok_or("--calls needs a number")?.parse()?,
            "--baseline" => baseline = true,
            "--serve" => serve = true,
            other => return Err(format!("unknown argument `{other}`").into()),
        }
    }
    if serve {
        println!("{}", server().await?);
        // Serves until the process is stopped (Ctrl-C).
        std::future::pending::<()>().await;
        return Ok(());
    }
    let base = match url {
        Some(url) => url,
        None => server().await?,
    };
    let started = Instant::now();
    if baseline {
        let http = reqwest::Client::new();
        let url = format!("{base}/headless/imports/{ID}/");
        for _ in 0..calls {
            let import: types::HeadlessImportFull = http
                .get(&url)
                .header("X-Dromo-License-Key", "bench-key")
                .header("accept", "application/json")
                .header("api-version", "1.0")
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            std::hint::black_box(import);
        }
    } else {
        let client = Client::builder()
            .api_key("bench-key")
            .base_url(&base)
            .build()?;
        let id: ImportId = ID.parse()?;
        for _ in 0..calls {
            std::hint::black_box(client.retrieve_import(&id).await?);
        }
    }
    let took = started.elapsed();
    println!(
        "{} {calls} retrieves: {:.1} µs a call",
        if baseline {
            "raw reqwest"
        } else {
            "dromo-client"
        },
        took.as_secs_f64() * 1e6 / f64::from(calls)
    );
    Ok(())
}
