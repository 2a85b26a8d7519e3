//! `RedisRateLimiter` (feature `redis`) against a real `redis-server` that each test starts on
//! 127.0.0.1 (a free port, no persistence, killed when the test ends): even pacing under many
//! tasks, two processes sharing one budget, failures that are errors (never a hang, never a
//! blind create), and `import_many` against the stand-in's enforced limits.
//!
//! redis-server must be installed (`apt-get install -y redis-server`; `cargo xtask test` does it).
//! Without it the tests that need it fail, unless `DROMO_SKIP_REDIS=1` is set (they print that
//! they were skipped). `DROMO_REDIS_SERVER=/path/to/redis-server` picks another binary.
//!
//! The measurement (two processes, 20 creates per 2 s, about 30 s):
//! `DROMO_REDIS_MEASURE_SECS=30 cargo test --test redis_limiter two_processes -- --nocapture`

use dromo_client::bulk::{BulkOptions, RateLimiter, RedisRateLimiter};
use dromo_client::stand_in::StandIn;
use dromo_client::Error;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------------
// The redis-server each test starts.

/// A redis-server on 127.0.0.1, killed on drop.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `DROMO_REDIS_SERVER` (when it names a file), or `redis-server` on the PATH (or where
/// distributions put it).
fn redis_server_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DROMO_REDIS_SERVER") {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/bin", "/usr/sbin", "/usr/local/bin"].map(PathBuf::from))
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

/// A port nothing listens on (at the time of asking).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a Redis answers on `port` (`+PONG`, or `-NOAUTH` when it wants a password).
fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut answer = [0u8; 16];
    match stream.read(&mut answer) {
        Ok(n) => answer[..n].starts_with(b"+PONG") || answer[..n].starts_with(b"-NOAUTH"),
        Err(_) => false,
    }
}

/// Starts redis-server with `extra` arguments; `None` (skipped) only when it is not installed
/// and `DROMO_SKIP_REDIS=1`.
fn start_redis(extra: &[&str]) -> Option<RedisServer> {
    let Some(binary) = redis_server_binary() else {
        if std::env::var("DROMO_SKIP_REDIS").as_deref() == Ok("1") {
            eprintln!("skipped: redis-server is not installed (DROMO_SKIP_REDIS=1)");
            return None;
        }
        panic!(
            "redis-server not found (on the PATH, or at DROMO_REDIS_SERVER): install it (`apt-get install -y redis-server`, \
             or `brew install redis`; `cargo xtask test` installs it), point DROMO_REDIS_SERVER at \
             it, or set DROMO_SKIP_REDIS=1 to skip the Redis tests"
        );
    };
    // Another process may take the free port before redis-server binds it: try a few.
    for _ in 0..3 {
        let port = free_port();
        let mut child = Command::new(&binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if answers(port) {
                return Some(RedisServer { child, port });
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("redis-server ({}) did not start", binary.display());
}

/// A plain connection to `url`, for the tests' own commands.
async fn admin(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// Checks on the times of acquisitions.

/// The most acquisitions (sorted times) in any window `[t, t + period)`.
fn busiest_window(sorted: &[Duration], period: Duration) -> usize {
    let mut most = 0;
    let mut first = 0;
    for (last, time) in sorted.iter().enumerate() {
        while *time - sorted[first] >= period {
            first += 1;
        }
        most = most.max(last + 1 - first);
    }
    most
}

/// Now, on the machine's clock that every process shares.
fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

/// `err`'s Display, Debug and every source's, none of which may hold `secret`.
fn assert_never_printed(err: &Error, secret: &str) {
    let mut texts = vec![err.to_string(), format!("{err:?}"), format!("{err:#?}")];
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        texts.push(cause.to_string());
        texts.push(format!("{cause:?}"));
        source = cause.source();
    }
    for text in texts {
        assert!(!text.contains(secret), "the secret was printed: {text}");
    }
}

// ---------------------------------------------------------------------------------------------
// (a) One process, many tasks.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_in_one_process_share_one_even_pace() {
    let Some(redis) = start_redis(&[]) else {
        return;
    };
    let (count, period) = (20, Duration::from_secs(1));
    // The 10% margin `dromo_creates` keeps, so that the task's own delays (a busy machine) do
    // not push a 21st acquisition into a window of `period`.
    let limiter = Arc::new(
        RedisRateLimiter::new(&redis.url(), "test:one-process", count, period * 11 / 10).unwrap(),
    );
    let interval = limiter.interval();
    let n = 40;
    let start = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter.acquire().await.unwrap();
                start.elapsed()
            })
        })
        .collect();
    let mut times = Vec::new();
    for task in tasks {
        times.push(task.await.unwrap());
    }
    times.sort();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    let smallest = *gaps.iter().min().unwrap();
    let span = times[n - 1] - times[0];
    let busiest = busiest_window(&times, period);
    println!(
        "{n} tasks: span {span:?} (ideal {:?}), smallest gap {smallest:?} (interval {interval:?}), busiest window {busiest}/{count}",
        interval * (n as u32 - 1)
    );
    assert!(busiest <= count as usize, "{busiest} in one window");
    // Atomic: no two tasks got the same slot (a read-then-write race would give gaps near 0).
    assert!(smallest >= interval / 4, "gap {smallest:?}, {gaps:?}");
    // Spaced, not slower than the pace allows (plus a busy machine's delays).
    assert!(span >= interval * (n as u32 - 1) - interval / 2, "{span:?}");
    assert!(
        span <= interval * (n as u32 - 1) * 5 / 4 + Duration::from_millis(300),
        "{span:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_goes_at_once_then_the_pace() {
    let Some(redis) = start_redis(&[]) else {
        return;
    };
    let limiter = RedisRateLimiter::new(&redis.url(), "test:burst", 5, Duration::from_secs(1))
        .unwrap()
        .with_burst(3);
    let start = Instant::now();
    for _ in 0..3 {
        limiter.acquire().await.unwrap();
    }
    let burst = start.elapsed();
    limiter.acquire().await.unwrap();
    let fourth = start.elapsed();
    assert!(burst < Duration::from_millis(150), "{burst:?}");
    assert!(fourth >= Duration::from_millis(180), "{fourth:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_expires_soon_after_the_last_slot() {
    let Some(redis) = start_redis(&[]) else {
        return;
    };
    let limiter =
        RedisRateLimiter::new(&redis.url(), "test:expiry", 10, Duration::from_secs(1)).unwrap();
    limiter.acquire().await.unwrap();
    let mut admin = admin(&redis.url()).await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg("test:expiry")
        .query_async(&mut admin)
        .await
        .unwrap();
    // The slot (100 ms) plus a second.
    assert!((1..=1100).contains(&ttl), "PTTL {ttl}");
    let stored: String = redis::cmd("GET")
        .arg("test:expiry")
        .query_async(&mut admin)
        .await
        .unwrap();
    // The next slot, in µs of the server's clock (a whole number, not 1.7e15).
    let tat: u64 = stored.parse().unwrap();
    let now = since_epoch().as_micros() as u64;
    assert!(tat.abs_diff(now) < 5_000_000, "{tat} vs {now}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_replaced_without_an_error() {
    let Some(redis) = start_redis(&[]) else {
        return;
    };
    let limiter =
        RedisRateLimiter::new(&redis.url(), "test:reconnect", 100, Duration::from_secs(1)).unwrap();
    limiter.acquire().await.unwrap();
    // Cut every client connection but this one (the limiter's among them).
    let mut admin = admin(&redis.url()).await;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("normal")
        .arg("SKIPME")
        .arg("yes")
        .query_async(&mut admin)
        .await
        .unwrap();
    assert!(killed >= 1, "killed {killed}");
    limiter.acquire().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// (b) Two processes, one budget.

const WORKER: &str = "redis_limiter_worker";
const WORKER_URL: &str = "DROMO_TEST_REDIS_WORKER_URL";
const WORKER_KEY: &str = "DROMO_TEST_REDIS_WORKER_KEY";
const WORKER_COUNT: &str = "DROMO_TEST_REDIS_WORKER_COUNT";
const WORKER_PERIOD_MS: &str = "DROMO_TEST_REDIS_WORKER_PERIOD_MS";
const WORKER_PERMITS: &str = "DROMO_TEST_REDIS_WORKER_PERMITS";

/// One worker of `two_processes_share_one_budget`, which runs this test binary twice with only
/// this test and the `DROMO_TEST_REDIS_WORKER_*` variables: 4 tasks take `PERMITS` permits of
/// `COUNT` per `PERIOD_MS` (with `dromo_creates`' 10% margin) and print `ACQUIRED <µs since the
/// epoch>` for each. Run any other way, it does nothing.
#[test]
#[ignore = "a worker process of two_processes_share_one_budget"]
fn redis_limiter_worker() {
    let Ok(url) = std::env::var(WORKER_URL) else {
        eprintln!("not started by two_processes_share_one_budget: nothing to do");
        return;
    };
    let var = |name: &str| -> u64 { std::env::var(name).unwrap().parse().unwrap() };
    let key = std::env::var(WORKER_KEY).unwrap();
    let count = var(WORKER_COUNT) as u32;
    let period = Duration::from_millis(var(WORKER_PERIOD_MS));
    let permits = var(WORKER_PERMITS) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let limiter = Arc::new(RedisRateLimiter::new(&url, key, count, period * 11 / 10).unwrap());
        let left = Arc::new(AtomicUsize::new(permits));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (limiter, left) = (limiter.clone(), left.clone());
                tokio::spawn(async move {
                    while left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        limiter.acquire().await.unwrap();
                        println!("ACQUIRED {}", since_epoch().as_micros());
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn two_processes_share_one_budget() {
    let Some(redis) = start_redis(&[]) else {
        return;
    };
    // By default 20 per second, 20 permits each (about 2.2 s); the measurement: 20 per 2 s for
    // about DROMO_REDIS_MEASURE_SECS.
    let measure: Option<u64> = std::env::var("DROMO_REDIS_MEASURE_SECS")
        .ok()
        .and_then(|s| s.parse().ok());
    let count: u32 = 20;
    let period = match measure {
        Some(_) => Duration::from_secs(2),
        None => Duration::from_secs(1),
    };
    let pace = period * 11 / 10 / count; // the limiter's interval, with the 10% margin
    let permits = match measure {
        Some(secs) => (Duration::from_secs(secs).as_micros() / pace.as_micros() / 2) as usize,
        None => 20,
    };
    let exe = std::env::current_exe().unwrap();
    let spawn = || {
        Command::new(&exe)
            .args([
                WORKER,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WORKER_URL, redis.url())
            .env(WORKER_KEY, "test:two-processes")
            .env(WORKER_COUNT, count.to_string())
            .env(WORKER_PERIOD_MS, period.as_millis().to_string())
            .env(WORKER_PERMITS, permits.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Both at once.
    let workers = [spawn(), spawn()];
    let mut per_worker: Vec<Vec<Duration>> = Vec::new();
    for worker in workers {
        let output = worker.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "worker failed: {}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let times: Vec<Duration> = stdout
            .lines()
            // The first may follow libtest's `test redis_limiter_worker ... ` on its line.
            .filter_map(|line| line.split_once("ACQUIRED ").map(|(_, micros)| micros))
            .map(|micros| Duration::from_micros(micros.trim().parse().unwrap()))
            .collect();
        assert_eq!(times.len(), permits, "{stdout}");
        per_worker.push(times);
    }
    let (a, b) = (&per_worker[0], &per_worker[1]);
    let mut all: Vec<Duration> = a.iter().chain(b).copied().collect();
    all.sort();
    let span = all[all.len() - 1] - all[0];
    let busiest = busiest_window(&all, period);
    let rate = (all.len() - 1) as f64 / span.as_secs_f64();
    let limit = f64::from(count) / period.as_secs_f64();
    let overlap = a
        .iter()
        .max()
        .unwrap()
        .min(b.iter().max().unwrap())
        .saturating_sub(*a.iter().min().unwrap().max(b.iter().min().unwrap()));
    println!(
        "two processes, {} acquisitions in {span:.2?}: {rate:.2}/s combined against a limit of {limit:.2}/s ({:.1}% of it; the limiter's pace with its 10% margin is {:.2}/s); busiest window of {period:?}: {busiest}/{count}; both ran together for {overlap:.2?}",
        all.len(),
        100.0 * rate / limit,
        1.0 / pace.as_secs_f64(),
    );
    // Never more than `count` in any window of `period`, across both processes.
    assert!(busiest <= count as usize, "{busiest} in one window");
    // Atomic across processes: no slot went to both (that would be a gap near 0).
    let smallest = all.windows(2).map(|w| w[1] - w[0]).min().unwrap();
    assert!(smallest >= pace / 5, "gap {smallest:?} (pace {pace:?})");
    // Near the limit: the pace is 1/1.1 of it; a busy machine loses a little more.
    assert!(rate <= limit, "{rate}/s over the limit");
    assert!(rate >= 0.75 * limit, "{rate}/s, far below {limit}/s");
    // They shared the budget at the same time (not one after the other).
    assert!(overlap >= span * 3 / 10, "overlap {overlap:?} of {span:?}");
}

// ---------------------------------------------------------------------------------------------
// (c) Failures are errors: never a hang, never a panic, never a password.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_the_limiters_error_not_a_hang() {
    // Nothing listens on the port: no redis-server needed.
    let port = free_port();
    let url = format!("redis://:hunter2-secret@127.0.0.1:{port}/0");
    let limiter = RedisRateLimiter::new(&url, "test:down", 20, Duration::from_secs(1))
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    assert!(!format!("{limiter:?}").contains("hunter2"));
    let start = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(10), limiter.acquire())
        .await
        .expect("acquire hung")
        .unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(matches!(err, Error::RateLimiterFailed { .. }), "{err:?}");
    assert!(err.is_retryable());
    let text = err.to_string();
    assert_eq!(
        text,
        format!("rate limiter Redis 127.0.0.1:{port}/0, key test:down failed, so nothing was sent: connection refused: check that Redis is up and the URL's host and port, then retry")
    );
    assert!(std::error::Error::source(&err).is_some());
    assert_never_printed(&err, "hunter2-secret");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_never_answers_times_out() {
    // Accepts connections (the kernel's backlog) and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{port}");
    let limiter = RedisRateLimiter::new(&url, "test:silent", 20, Duration::from_secs(1))
        .unwrap()
        .with_timeout(Duration::from_millis(300));
    let start = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(10), limiter.acquire())
        .await
        .expect("acquire hung")
        .unwrap_err();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "{took:?}");
    let Error::RateLimiterFailed {
        reason, retryable, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(*retryable);
    assert!(
        reason.contains("no answer within") || reason.contains("timed out"),
        "{reason}"
    );
    drop(silent);
}

/// A Redis that accepts every connection and never answers: four asks at once each fail within
/// their own timeout (none waits for another's connection attempt to time out first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asks_at_once_on_a_silent_redis_each_fail_within_their_own_timeout() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket); // read nothing, answer nothing
        }
    });
    let timeout = Duration::from_millis(1000);
    let limiter = Arc::new(
        RedisRateLimiter::new(
            &format!("redis://127.0.0.1:{port}"),
            "test:silent-many",
            20,
            Duration::from_secs(1),
        )
        .unwrap()
        .with_timeout(timeout),
    );
    let start = Instant::now();
    let asks: Vec<_> = (0..4)
        .map(|_| {
            let limiter = Arc::clone(&limiter);
            tokio::spawn(async move {
                let result = tokio::time::timeout(Duration::from_secs(10), limiter.acquire()).await;
                (result, start.elapsed())
            })
        })
        .collect();
    let mut took = Vec::new();
    for ask in asks {
        let (result, elapsed) = ask.await.unwrap();
        let err = result.expect("acquire hung").unwrap_err();
        assert!(matches!(err, Error::RateLimiterFailed { .. }), "{err:?}");
        assert!(err.is_retryable(), "{err}");
        took.push(elapsed);
    }
    // Each within its own timeout (plus scheduling slack), not 1×, 2×, 3×, 4× the timeout.
    for elapsed in &took {
        assert!(*elapsed < timeout + Duration::from_millis(600), "{took:?}");
    }
    holder.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_lasting_error_and_never_printed() {
    let Some(redis) = start_redis(&["--requirepass", "right-pass-41c9"]) else {
        return;
    };
    let wrong = format!("redis://:wrong-pass-7f3a@127.0.0.1:{}", redis.port);
    let limiter = RedisRateLimiter::new(&wrong, "test:auth", 20, Duration::from_secs(1)).unwrap();
    let err = limiter.acquire().await.unwrap_err();
    let Error::RateLimiterFailed {
        reason, retryable, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(!*retryable, "{err:?}");
    assert!(reason.contains("credentials"), "{reason}");
    assert_never_printed(&err, "wrong-pass-7f3a");
    // The right password works.
    let right = format!("redis://:right-pass-41c9@127.0.0.1:{}", redis.port);
    let limiter = RedisRateLimiter::new(&right, "test:auth", 20, Duration::from_secs(1)).unwrap();
    limiter.acquire().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_holding_something_else_is_an_error_not_a_fresh_budget() {
    let Some(redis) = start_redis(&[]) else {
        return;
    };
    let mut admin = admin(&redis.url()).await;
    let _: () = redis::cmd("LPUSH")
        .arg("test:a-list")
        .arg("x")
        .query_async(&mut admin)
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("test:a-word")
        .arg("hello")
        .query_async(&mut admin)
        .await
        .unwrap();
    for (key, code) in [("test:a-list", "WRONGTYPE"), ("test:a-word", "DROMOLIMIT")] {
        let limiter = RedisRateLimiter::new(&redis.url(), key, 20, Duration::from_secs(1)).unwrap();
        let err = limiter.acquire().await.unwrap_err();
        assert!(!err.is_retryable(), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("Redis refused the rate script ({code})")),
            "{text}"
        );
        assert!(!text.contains('\n'), "{text}");
    }
}

#[test]
fn a_url_that_does_not_parse_is_a_config_error_without_the_url() {
    let err = RedisRateLimiter::new(
        "redis://:pw-secret-88@127.0.0.1:notaport",
        "k",
        20,
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(
        err.to_string().contains("redis://[[user]:password@]host"),
        "{err}"
    );
    assert_never_printed(&err, "pw-secret-88");
}

// ---------------------------------------------------------------------------------------------
// (d) import_many with the Redis limiter against the stand-in's enforced limits.

#[path = "common/bulk_files.rs"]
mod bulk_files;
use bulk_files::{files, schema, PERIOD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_import_many_on_one_redis_budget_without_a_429() {
    let Some(redis) = start_redis(&[]) else {
        return;
    };
    let server = StandIn::builder()
        .enforce_rate_limits(PERIOD)
        .start()
        .await
        .unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = files(&dir, 30);
    // Two limiters, two connections: as two workers of a fleet, sharing the account's key.
    let worker = || {
        let limiter = RedisRateLimiter::dromo_creates_per(&redis.url(), "acme", PERIOD).unwrap();
        assert_eq!(limiter.key(), "dromo:creates:acme");
        BulkOptions::default()
            .with_concurrency(8)
            .with_limiter(Arc::new(limiter))
    };
    let (first, second) = (worker(), worker());
    let start = Instant::now();
    let (a, b) = tokio::join!(
        client.import_many(&paths[..15], schema(), &first),
        client.import_many(&paths[15..], schema(), &second),
    );
    let wall = start.elapsed();
    let ideal = PERIOD / 20 * 29;
    println!(
        "30 files, two workers on one Redis budget: wall {wall:?}, ideal {ideal:?}, 429s: {}",
        server.rate_limited()
    );
    assert_eq!(a.imported + b.imported, 30, "{a:?} {b:?}");
    assert_eq!(server.rate_limited(), 0, "the stand-in answered 429");
    assert!(wall >= ideal, "faster than the limit allows: {wall:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_many_with_redis_down_creates_nothing_and_reports_each_file() {
    let server = StandIn::start().await.unwrap();
    let client = server.client().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = files(&dir, 3);
    let down = format!("redis://127.0.0.1:{}", free_port());
    let limiter = RedisRateLimiter::dromo_creates(&down, "acme")
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let options = BulkOptions::default().with_limiter(Arc::new(limiter));
    let summary = tokio::time::timeout(
        Duration::from_secs(20),
        client.import_many(&paths, schema(), &options),
    )
    .await
    .expect("import_many hung");
    assert_eq!(summary.errors, 3, "{summary:?}");
    for file in &summary.files {
        let err = file.outcome.as_ref().unwrap_err();
        assert!(
            matches!(err.kind(), Error::RateLimiterFailed { .. }),
            "{err:?}"
        );
    }
    assert!(
        server.requests().iter().all(|r| r.method != "POST"),
        "a create was sent: {:?}",
        server.requests()
    );
}
