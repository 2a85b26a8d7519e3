//! `import_many`: bounded concurrency, creates paced within Dromo's limit (the stand-in enforces
//! it with 429s, on a window scaled down), one outcome per file.
//!
//! `DROMO_BULK_FILES=200 cargo test --test bulk -- --nocapture` runs the measurement on 200 files
//! (default 30) and prints the wall time against the ideal the limit allows.

use dromo_client::bulk::{BulkOptions, LocalRateLimiter, RateLimiter};
use dromo_client::stand_in::StandIn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/bulk_files.rs"]
mod bulk_files;
use bulk_files::{files, schema, PERIOD};

fn count() -> usize {
    std::env::var("DROMO_BULK_FILES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_files_within_the_create_limit_and_no_429() {
    let server = StandIn::builder()
        .enforce_rate_limits(PERIOD)
        .start()
        .await
        .unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let n = count();
    let paths = files(&dir, n);
    let seen = Arc::new(AtomicUsize::new(0));
    let progress = seen.clone();
    let options = BulkOptions::default()
        .with_concurrency(8)
        .with_limiter(Arc::new(LocalRateLimiter::dromo_creates_per(PERIOD)))
        .with_on_file(Arc::new(move |_| {
            progress.fetch_add(1, Ordering::SeqCst);
        }));
    let start = Instant::now();
    let summary = client.import_many(&paths, schema(), &options).await;
    let wall = start.elapsed();
    // The ideal the limit allows: one create every PERIOD / 20 (the limiter keeps a 10% margin).
    let ideal = PERIOD / 20 * (n as u32 - 1);
    println!(
        "{n} files: wall {wall:?}, ideal {ideal:?} (creates paced at 20 per {PERIOD:?}), 429s: {}",
        server.rate_limited()
    );
    assert_eq!(summary.imported, n, "{summary:?}");
    assert_eq!(seen.load(Ordering::SeqCst), n);
    assert_eq!(server.rate_limited(), 0, "the stand-in answered 429");
    assert!(
        wall >= ideal,
        "faster than the limit allows: {wall:?} < {ideal:?}"
    );
    // Results come in the order given.
    assert_eq!(summary.files[n - 1].path, paths[n - 1]);
}

#[tokio::test]
async fn one_files_failure_stops_nothing_else() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut paths = files(&dir, 3);
    paths.insert(1, dir.path().join("missing.csv"));
    let options = BulkOptions::default().with_limiter(Arc::new(LocalRateLimiter::evenly(
        1000,
        Duration::from_secs(1),
    )));
    let summary = client.import_many(&paths, schema(), &options).await;
    assert_eq!((summary.imported, summary.errors), (3, 1), "{summary:?}");
    assert!(summary.files[1].outcome.is_err());
    assert!(summary.files[0].outcome.is_ok() && summary.files[3].outcome.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tasks_sharing_a_limiter_share_the_budget() {
    let server = StandIn::builder()
        .enforce_rate_limits(PERIOD)
        .start()
        .await
        .unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = files(&dir, 30);
    let limiter: Arc<dyn RateLimiter> = Arc::new(LocalRateLimiter::dromo_creates_per(PERIOD));
    let options = BulkOptions::default()
        .with_concurrency(8)
        .with_limiter(limiter);
    let (a, b) = tokio::join!(
        client.import_many(&paths[..15], schema(), &options),
        client.import_many(&paths[15..], schema(), &options),
    );
    assert_eq!(a.imported + b.imported, 30);
    assert_eq!(server.rate_limited(), 0, "the stand-in answered 429");
}

/// A limiter whose store fails at its second ask, as a shared one does when its store goes down.
#[derive(Debug, Default)]
struct FailsSecondAsk {
    asks: AtomicUsize,
}

impl RateLimiter for FailsSecondAsk {
    fn acquire(&self) -> futures_util::future::BoxFuture<'_, Result<(), dromo_client::Error>> {
        let ask = self.asks.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if ask == 1 {
                Err(dromo_client::Error::rate_limiter_failed(
                    "test store",
                    "connection refused: check that the store is up",
                    true,
                    Some(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into()),
                ))
            } else {
                Ok(())
            }
        })
    }
}

#[tokio::test]
async fn a_limiter_failure_is_that_files_error_and_nothing_is_created_for_it() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = files(&dir, 4);
    // One file at a time, so the second ask is the second file's.
    let options = BulkOptions::default()
        .with_concurrency(1)
        .with_limiter(Arc::new(FailsSecondAsk::default()));
    let summary = client.import_many(&paths, schema(), &options).await;
    assert_eq!((summary.imported, summary.errors), (3, 1), "{summary:?}");
    let err = summary.files[1].outcome.as_ref().unwrap_err();
    assert_eq!(err.step(), Some(dromo_client::Step::Create));
    assert!(
        matches!(err.kind(), dromo_client::Error::RateLimiterFailed { .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    // Only the three allowed files were created: the limiter's failure sent nothing.
    let creates = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.status == 201)
        .count();
    assert_eq!(creates, 3);
}
