//! [`RedisRateLimiter`]: one create budget in Redis, shared by every worker of a fleet that uses
//! the same Dromo account (feature `redis`).
//!
//! The budget is one key holding GCRA's "theoretical arrival time" (TAT, in microseconds of the
//! Redis server's clock). One Lua script reads the server's `TIME`, decides and moves the TAT in
//! a single atomic step, so workers on machines whose clocks disagree still share one even pace.
//! A refused ask answers how long to wait; the worker sleeps that long and asks again, so a
//! worker that stops (or a future that is dropped) never holds a slot it does not use.

use crate::bulk::{with_margin, RateLimiter, DROMO_CREATES_PER_MINUTE};
use crate::error::Error;
use futures_util::future::BoxFuture;
use std::fmt;
use std::time::Duration;

/// The GCRA step, run atomically by Redis.
///
/// `KEYS[1]`: the budget's key. `ARGV[1]`: the interval between two actions, in µs. `ARGV[2]`:
/// the tolerance, `(burst - 1) × interval`, in µs. Answers 0 when one action is allowed (and
/// counted), or how many µs to wait before asking again. The key expires once its TAT has
/// passed (plus a second), when a missing key means the same as a stale one: nothing owed.
/// Times are whole µs since the epoch (about 1.8e15), exact in Lua's doubles (below 2^53).
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then
  tat = tonumber(stored)
  if tat == nil then
    return redis.error_reply('DROMOLIMIT the key ' .. KEYS[1] .. ' holds something other than a rate budget')
  end
  if tat < now then tat = now end
end
local wait = tat - tolerance - now
if wait > 0 then return wait end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1000)
return 0
";

/// How long one ask (connecting included) may take by default before it fails.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_secs(2);

/// A [`RateLimiter`] whose budget lives in Redis: every process (on any machine) that uses the
/// same key shares one even pace, `count` per `period`, one action every `period / count`, no
/// burst (unless [`RedisRateLimiter::with_burst`]).
///
/// - **Atomic**: one Lua script (sent once, then run by its SHA) decides and counts in one step.
/// - **One clock**: the Redis server's own (`TIME`), so clock skew between workers is harmless.
/// - **Never exceeded blindly**: when Redis cannot answer (down, refused, slow, a wrong
///   password), [`acquire`](RateLimiter::acquire) fails with [`Error::RateLimiterFailed`]
///   within the timeout, and `import_many` creates nothing for that file.
/// - **No stale state**: the key expires about a second after the last action's slot; a worker
///   that dies holds nothing.
///
/// Needs Redis 5 or later (or Valkey). For `rediss://` (TLS) URLs, enable a TLS feature of the
/// `redis` crate in your own `Cargo.toml` (e.g. `tokio-rustls-comp`).
///
/// ```no_run
/// use dromo_client::bulk::{BulkOptions, RedisRateLimiter};
/// use std::sync::Arc;
///
/// # async fn run(client: dromo_client::Client, files: Vec<std::path::PathBuf>) -> Result<(), dromo_client::Error> {
/// // Every worker of the fleet: the same Redis, the same account label.
/// let limiter = RedisRateLimiter::dromo_creates("redis://10.0.0.5:6379/0", "acme")?;
/// assert_eq!(limiter.key(), "dromo:creates:acme");
/// let options = BulkOptions::default().with_limiter(Arc::new(limiter));
/// let schema = dromo_client::Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604");
/// let summary = client.import_many(&files, schema, &options).await;
/// # Ok(()) }
/// ```
pub struct RedisRateLimiter {
    client: redis::Client,
    script: redis::Script,
    key: String,
    interval: Duration,
    burst: u32,
    timeout: Duration,
    /// Where Redis is, for errors and `Debug`: host, port and database, never a password.
    target: String,
    /// One multiplexed connection shared by every task; dropped after a failure, so the next
    /// ask connects again. Never locked across an `.await`.
    connection: std::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
    /// Taken by the one task that connects, so that tasks asking at once share one new
    /// connection; each waits for it within its own deadline.
    connecting: tokio::sync::Mutex<()>,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("redis", &self.target)
            .field("key", &self.key)
            .field("interval", &self.interval)
            .field("burst", &self.burst)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisRateLimiter {
    /// `count` actions per `period`, evenly spaced (`count` 0 counts as 1; the interval is at
    /// least 1 µs), in the Redis at `url` (`redis://[[user]:password@]host[:port][/db]`, or
    /// `redis+unix:///path`), under `key`. Connects at the first
    /// [`acquire`](RateLimiter::acquire), not here.
    ///
    /// Fails with [`Error::Config`] when the URL does not parse (the message never repeats it).
    ///
    /// ```
    /// use dromo_client::bulk::RedisRateLimiter;
    /// use std::time::Duration;
    ///
    /// let limiter = RedisRateLimiter::new("redis://:secret@127.0.0.1:6379/2", "jobs:exports", 10, Duration::from_secs(1))?;
    /// assert_eq!(limiter.interval(), Duration::from_millis(100));
    /// assert!(!format!("{limiter:?}").contains("secret"));
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn new(
        url: &str,
        key: impl Into<String>,
        count: u32,
        period: Duration,
    ) -> Result<Self, Error> {
        let client = redis::Client::open(url).map_err(|e| Error::Config {
            message: format!(
                "the Redis URL is not usable ({}): write it as redis://[[user]:password@]host[:port][/db]{}",
                e.category(),
                if url.starts_with("rediss") {
                    "; for rediss:// enable a TLS feature of the redis crate (e.g. tokio-rustls-comp)"
                } else {
                    ""
                }
            ),
            source: Some(Box::new(e)),
        })?;
        Ok(Self::from_client(client, key, count, period))
    }

    /// [`RedisRateLimiter::new`] with a `redis::Client` you configured yourself (TLS settings,
    /// a custom connection info).
    pub fn from_client(
        client: redis::Client,
        key: impl Into<String>,
        count: u32,
        period: Duration,
    ) -> Self {
        let info = client.get_connection_info();
        let target = format!("{}/{}", info.addr(), info.redis_settings().db());
        Self {
            client,
            script: redis::Script::new(GCRA),
            key: key.into(),
            interval: (period / count.max(1)).max(Duration::from_micros(1)),
            burst: 1,
            timeout: DEFAULT_REDIS_TIMEOUT,
            target,
            connection: std::sync::Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
        }
    }

    /// Dromo's create limit, 20 a minute, with a 10% margin (one create every 3.3 s), as
    /// [`LocalRateLimiter::dromo_creates`](crate::bulk::LocalRateLimiter::dromo_creates), shared
    /// under the key [`RedisRateLimiter::dromo_key`]`(account)`. `account` is any name you give
    /// the Dromo account (never its API key): every worker of that account must use the same.
    ///
    /// ```
    /// use dromo_client::bulk::RedisRateLimiter;
    /// use std::time::Duration;
    ///
    /// let limiter = RedisRateLimiter::dromo_creates("redis://127.0.0.1:6379", "acme")?;
    /// assert_eq!(limiter.interval(), Duration::from_millis(3300));
    /// # Ok::<(), dromo_client::Error>(())
    /// ```
    pub fn dromo_creates(url: &str, account: &str) -> Result<Self, Error> {
        Self::dromo_creates_per(url, account, Duration::from_secs(60))
    }

    /// [`RedisRateLimiter::dromo_creates`] over a window of `period` instead of a minute (for a
    /// stand-in whose time is scaled down).
    pub fn dromo_creates_per(url: &str, account: &str, period: Duration) -> Result<Self, Error> {
        Self::new(
            url,
            Self::dromo_key(account),
            DROMO_CREATES_PER_MINUTE,
            with_margin(period),
        )
    }

    /// The key of an account's create budget: `dromo:creates:<account>`.
    pub fn dromo_key(account: &str) -> String {
        format!("dromo:creates:{account}")
    }

    /// Lets up to `burst` actions go at once after a quiet time (default 1: none). A window of
    /// the period may then hold `burst - 1` actions more than `count`: keep the default for
    /// Dromo's creates.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// How long one ask of Redis may take before [`acquire`](RateLimiter::acquire) fails
    /// (default 2 s): waiting for a connection, connecting, and replacing once a connection
    /// that failed, all within it, however many tasks ask at once. The wait for the budget
    /// itself is not limited.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time between two actions.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The Redis key holding the budget.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Asks Redis once: `Ok(None)` when one action is allowed (and counted), `Ok(Some(wait))`
    /// when the budget is spent until `wait` has passed. Everything happens within one timeout
    /// from now: a connection that fails (Redis restarted, an idle connection was cut) is
    /// replaced once if time remains, then the failure is reported.
    async fn ask(&self) -> Result<Option<Duration>, Error> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        match self.ask_once(deadline).await {
            Ok(answer) => Ok(answer),
            Err(Failure { reused: true, .. }) if tokio::time::Instant::now() < deadline => self
                .ask_once(deadline)
                .await
                .map_err(|failure| self.error(failure.cause)),
            Err(failure) => Err(self.error(failure.cause)),
        }
    }

    /// One ask on the shared connection (made first if there is none), by `deadline`.
    async fn ask_once(&self, deadline: tokio::time::Instant) -> Result<Option<Duration>, Failure> {
        let (mut connection, reused) =
            match tokio::time::timeout_at(deadline, self.connection()).await {
                Ok(Ok(connection)) => connection,
                Ok(Err(cause)) => {
                    return Err(Failure {
                        reused: false,
                        cause,
                    })
                }
                Err(_) => {
                    return Err(Failure {
                        reused: false,
                        cause: Cause::TimedOut,
                    })
                }
            };
        let interval = micros(self.interval);
        let tolerance = interval.saturating_mul(u64::from(self.burst.saturating_sub(1)));
        let mut invocation = self.script.key(&self.key);
        invocation.arg(interval).arg(tolerance);
        let answer =
            tokio::time::timeout_at(deadline, invocation.invoke_async::<u64>(&mut connection))
                .await;
        let cause = match answer {
            Ok(Ok(0)) => return Ok(None),
            Ok(Ok(wait)) => return Ok(Some(Duration::from_micros(wait))),
            Ok(Err(e)) => Cause::Redis(e),
            Err(_) => Cause::TimedOut,
        };
        // Whatever failed, the next ask starts on a new connection.
        *self.slot() = None;
        Err(Failure { reused, cause })
    }

    /// The shared connection's slot (its lock is never held across an `.await`; a panic while
    /// holding it cannot leave it inconsistent: it is one `Option`).
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<redis::aio::MultiplexedConnection>> {
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The shared connection and whether it was already open, or a new one. One task connects
    /// at a time; the others wait for its connection (each caller bounds its own wait).
    async fn connection(&self) -> Result<(redis::aio::MultiplexedConnection, bool), Cause> {
        if let Some(connection) = self.slot().clone() {
            return Ok((connection, true));
        }
        let _turn = self.connecting.lock().await;
        if let Some(connection) = self.slot().clone() {
            return Ok((connection, true));
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let connecting = self
            .client
            .get_multiplexed_async_connection_with_config(&config);
        let connection = match tokio::time::timeout(self.timeout, connecting).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => return Err(Cause::Redis(e)),
            Err(_) => return Err(Cause::TimedOut),
        };
        *self.slot() = Some(connection.clone());
        Ok((connection, false))
    }

    /// The crate's error for a failed ask: what went wrong and what to do.
    fn error(&self, cause: Cause) -> Error {
        let (reason, retryable, source): (String, bool, Option<crate::error::BoxError>) =
            match cause {
                Cause::TimedOut => (
                    format!(
                        "no answer within {:?}: check that Redis is up and reachable (or raise `with_timeout`), then retry",
                        self.timeout
                    ),
                    true,
                    None,
                ),
                Cause::Redis(e) => {
                    let (reason, retryable) = describe(&e);
                    (reason, retryable, Some(Box::new(e)))
                }
            };
        Error::RateLimiterFailed {
            limiter: format!("Redis {}, key {}", self.target, self.key),
            reason,
            retryable,
            source,
        }
    }
}

impl RateLimiter for RedisRateLimiter {
    /// Asks Redis until one action is allowed, sleeping as long as it says between asks. Fails
    /// (nothing counted) when Redis cannot answer within the timeout.
    fn acquire(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async move {
            while let Some(wait) = self.ask().await? {
                tokio::time::sleep(wait).await;
            }
            Ok(())
        })
    }
}

/// Why one ask failed.
enum Cause {
    Redis(redis::RedisError),
    TimedOut,
}

/// A failed ask, and whether it used a connection opened by an earlier ask.
struct Failure {
    reused: bool,
    cause: Cause,
}

/// What a Redis error means and what to do about it, and whether asking again may succeed.
/// Built from the error's kind and code only: nothing the server or the URL said is repeated.
fn describe(error: &redis::RedisError) -> (String, bool) {
    use redis::ErrorKind;
    if error.is_connection_refusal() {
        return (
            "connection refused: check that Redis is up and the URL's host and port, then retry"
                .to_owned(),
            true,
        );
    }
    if error.is_timeout() {
        return (
            "timed out: check that Redis is up and reachable, then retry".to_owned(),
            true,
        );
    }
    let code = error.code().unwrap_or_default();
    if error.kind() == ErrorKind::AuthenticationFailed
        || matches!(code, "NOAUTH" | "WRONGPASS" | "NOPERM")
    {
        return (
            "Redis refused the credentials: check the user and password in the Redis URL"
                .to_owned(),
            false,
        );
    }
    if error.is_io_error() || error.is_connection_dropped() {
        return (
            "the connection to Redis failed: check that Redis is up and reachable, then retry"
                .to_owned(),
            true,
        );
    }
    if matches!(code, "LOADING" | "BUSY" | "TRYAGAIN" | "MASTERDOWN") {
        return (
            format!("Redis is not ready ({code}): retry in a moment"),
            true,
        );
    }
    if !code.is_empty() {
        return (
            format!("Redis refused the rate script ({code}): check that the key holds only this budget and that the server is Redis 5 or later"),
            false,
        );
    }
    (
        format!(
            "Redis answered an error ({}): check the Redis server and URL",
            error.category()
        ),
        false,
    )
}

/// Whole microseconds of `duration`, at least 1 (saturating).
fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros())
        .unwrap_or(u64::MAX)
        .max(1)
}
