//! Upload throughput: streams a file to a local S3-style server and prints MB/s.
//!
//! ```text
//! cargo run --release --example bench_upload -- FILE [--server discard|stand-in] [--runs N]
//! cargo run --release --example bench_upload -- --serve          # only run the discard server
//! cargo run --release --example bench_upload -- FILE --url URL    # upload to a server already running
//! ```
//!
//! - `discard` (default): a minimal hyper server on 127.0.0.1 that reads the body, counts it and
//!   discards it, answering 200 (and 501 to a chunked body, as S3 does). It measures the client.
//! - `stand-in`: the crate's stand-in, which writes the upload to a temporary file.
//!
//! Compare with curl against the same server (`--serve` prints its URL and waits):
//!
//! ```text
//! /usr/bin/time -v target/release/examples/bench_upload big.csv          # peak RSS: "Maximum resident set size"
//! curl -s -o /dev/null -w '%{speed_upload}\n' -T big.csv http://127.0.0.1:PORT/bucket/key
//! ```
//!
//! Make a test file with e.g. `head -c 1G /dev/urandom > big.bin` (or any CSV).

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, PresignedUrl, UploadSource};
use http_body_util::BodyExt;
use std::convert::Infallible;
use std::path::PathBuf;
use std::time::Instant;

/// Serves on 127.0.0.1: reads every body to the end, discarding it.
async fn discard_server() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    |request: hyper::Request<hyper::body::Incoming>| async move {
                        let chunked = request
                            .headers()
                            .get(hyper::header::TRANSFER_ENCODING)
                            .is_some();
                        let mut body = request.into_body();
                        let mut received = 0u64;
                        while let Some(frame) = body.frame().await {
                            match frame {
                                Ok(frame) => {
                                    received += frame.data_ref().map_or(0, |d| d.len() as u64)
                                }
                                Err(_) => break,
                            }
                        }
                        let status = if chunked { 501 } else { 200 };
                        let response = hyper::Response::builder()
                            .status(status)
                            .header("x-received-bytes", received.to_string())
                            .body(http_body_util::Full::new(bytes::Bytes::new()));
                        Ok::<_, Infallible>(response.unwrap_or_default())
                    },
                );
                let io = hyper_util::rt::TokioIo::new(socket);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok(format!(
        "http://{addr}/bucket/key?X-Amz-Expires=1800&X-Amz-Signature=bench"
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut file: Option<PathBuf> = None;
    let mut server = "discard".to_owned();
    let mut runs = 3u32;
    let mut serve_only = false;
    let mut external: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server" => server = args.next().ok_or("--server needs discard or stand-in")?,
            "--runs" => runs = args.next().ok_or("--runs needs a number")?.parse()?,
            "--serve" => serve_only = true,
            "--url" => external = Some(args.next().ok_or("--url needs a URL")?),
            other => file = Some(PathBuf::from(other)),
        }
    }
    if serve_only {
        let url = discard_server().await?;
        println!("discard server: {}", url.split('?').next().unwrap_or(&url));
        println!("press Ctrl-C to stop");
        // Serves until the process is stopped (Ctrl-C).
        std::future::pending::<()>().await;
        return Ok(());
    }
    let file = file.ok_or(
        "usage: bench_upload FILE [--server discard|stand-in | --url URL] [--runs N] | --serve",
    )?;

    // The stand-in needs a created import for each upload URL; the discard server takes any.
    let stand_in = if server == "stand-in" {
        Some(StandIn::start().await?)
    } else {
        None
    };
    let discard = match (&stand_in, external) {
        (Some(_), _) => None,
        (None, Some(url)) => Some(url),
        (None, None) => Some(discard_server().await?),
    };
    let client = match &stand_in {
        Some(s) => Client::builder()
            .api_key(s.api_key())
            .base_url(s.base_url())
            .build()?,
        None => Client::builder()
            .api_key("bench")
            .base_url("http://127.0.0.1:9/api/v1")
            .build()?,
    };
    let size = tokio::fs::metadata(&file).await?.len();
    println!(
        "file: {} ({:.1} MB), server: {server}",
        file.display(),
        size as f64 / 1e6
    );
    for run in 1..=runs {
        let url = match (&stand_in, &discard) {
            (Some(s), _) => {
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "bench.csv".into());
                let request = dromo_client::ImportRequest::new(
                    dromo_client::Schema::inline([dromo_client::Field::new(
                        "a",
                        "A",
                        dromo_client::FieldType::String,
                    )]),
                    dromo_client::Source::file(name),
                );
                let _ = s;
                client
                    .create_import(request)
                    .await?
                    .upload_url
                    .ok_or("no upload URL")?
            }
            (None, Some(url)) => PresignedUrl::parse(url)?,
            (None, None) => return Err("no server".into()),
        };
        let start = Instant::now();
        let done = client
            .upload(&url, UploadSource::from_path(&file).await?)
            .await?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "run {run}: {} bytes in {secs:.3} s = {:.1} MB/s",
            done.bytes,
            done.bytes as f64 / 1e6 / secs
        );
    }
    Ok(())
}
