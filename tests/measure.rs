//! Measurements behind a flag (issue 8): too long for every CI run, run them with
//! `cargo test --release --test measure -- --ignored --nocapture`.

mod common;

use common::fault::{FaultServer, Reply, Request};
use dromo_client::{Client, PresignedUrl, UploadSource};
use std::time::{Duration, Instant};

/// A 100 MiB upload through a server that reads at 4 MiB/s, with the client's defaults:
/// it succeeds, and its wall time is compared with the ideal (size / rate = 25 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a 25-second transfer: run with --ignored"]
async fn upload_of_100_mib_at_4_mib_per_s_with_the_defaults() {
    const SIZE: usize = 100 * 1024 * 1024;
    const RATE: u64 = 4 * 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let data: Vec<u8> = (0..SIZE).map(|i| b"0123456789,\n"[i % 12]).collect();
    std::fs::write(&path, &data).unwrap();
    drop(data);
    let server = FaultServer::start(|_: &Request| Reply::new(200).read_rate(RATE));
    let client = Client::builder()
        .api_key("backend-key")
        .base_url(server.url("/api/v1"))
        .build()
        .unwrap();
    let url = PresignedUrl::parse(&server.url("/bucket/big?X-Amz-Signature=s")).unwrap();
    let started = Instant::now();
    let done = client
        .upload(&url, UploadSource::from_path(&path).await.unwrap())
        .await
        .unwrap();
    let took = started.elapsed();
    let ideal = Duration::from_secs_f64(SIZE as f64 / RATE as f64);
    assert_eq!((done.bytes, done.attempts), (SIZE as u64, 1));
    let seen = server.requests();
    assert!(seen[0].body_complete && seen[0].body.len() == SIZE);
    println!(
        "100 MiB at 4 MiB/s with the defaults: {} attempt(s), wall {:.2} s, ideal {:.2} s, ratio {:.3}",
        done.attempts,
        took.as_secs_f64(),
        ideal.as_secs_f64(),
        took.as_secs_f64() / ideal.as_secs_f64()
    );
}
