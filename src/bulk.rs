//! Many files at once within Dromo's limits: [`Client::import_many`] with bounded concurrency,
//! creates paced by a [`RateLimiter`] shared by every task that uses it, and one outcome per
//! file (one file's failure stops nothing else).

use crate::error::{Error, Step};
use crate::request::{ImportRequest, Schema, Source};
use crate::workflow::{ImportOptions, ImportOutcome};
use crate::Client;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Creates Dromo allows per minute.
pub const DROMO_CREATES_PER_MINUTE: u32 = 20;

/// `period` with the 10 % margin every limiter keeps under Dromo's limits: a request delayed on
/// its way would otherwise land in the same window as the ones after it, and be refused.
pub(crate) fn with_margin(period: Duration) -> Duration {
    period.saturating_add(period / 10)
}

/// Paces an action (creating an import) across every task that shares it.
///
/// [`LocalRateLimiter`] is the in-process one; `RedisRateLimiter` (feature `redis`) shares one
/// budget between processes and machines. Implement this trait for any other store.
///
/// A limiter whose store can fail (a network, a database) answers `Err` when it cannot say
/// whether one more action is allowed: the caller then does not act, so a shared budget is never
/// exceeded blindly. Build that error with [`Error::rate_limiter_failed`].
///
/// ```
/// use dromo_client::bulk::{LocalRateLimiter, RateLimiter};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), dromo_client::Error> {
/// let limiter = LocalRateLimiter::dromo_creates();
/// limiter.acquire().await?; // the first create goes at once
/// # Ok(()) }
/// ```
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Resolves `Ok` when one more action is allowed (and counts it), or `Err`
    /// ([`Error::RateLimiterFailed`]) when the limiter cannot tell: then nothing may be sent.
    fn acquire(&self) -> BoxFuture<'_, Result<(), Error>>;
}

/// An in-process [`RateLimiter`] (the `governor` crate's GCRA), spacing actions evenly: `count`
/// per `period` means one every `period / count`, never a burst, so no window of `period` ever
/// holds more than `count`, however the server counts.
///
/// ```
/// use dromo_client::bulk::LocalRateLimiter;
/// use std::time::Duration;
///
/// let dromo = LocalRateLimiter::dromo_creates(); // 20 a minute, with a margin
/// assert_eq!(dromo.interval(), Duration::from_millis(3300));
/// let exact = LocalRateLimiter::evenly(20, Duration::from_secs(60));
/// assert_eq!(exact.interval(), Duration::from_secs(3));
/// ```
pub struct LocalRateLimiter {
    limiter: governor::DefaultDirectRateLimiter,
    interval: Duration,
}

impl fmt::Debug for LocalRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRateLimiter")
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

impl LocalRateLimiter {
    /// Dromo's create limit, 20 a minute, with a 10% margin (one create every 3.3 s): a
    /// request delayed on its way would otherwise land within the same minute as the 20 after
    /// it, and be refused.
    pub fn dromo_creates() -> Self {
        Self::dromo_creates_per(Duration::from_secs(60))
    }

    /// [`LocalRateLimiter::dromo_creates`] over a window of `period` instead of a minute (for a
    /// stand-in whose time is scaled down).
    pub fn dromo_creates_per(period: Duration) -> Self {
        Self::evenly(DROMO_CREATES_PER_MINUTE, with_margin(period))
    }

    /// `count` actions per `period`, evenly spaced (`count` 0 counts as 1; the interval is at
    /// least 1 ns).
    pub fn evenly(count: u32, period: Duration) -> Self {
        let interval = (period / count.max(1)).max(Duration::from_nanos(1));
        // `with_period` is `None` only for a zero period, which `max` above rules out.
        let quota = governor::Quota::with_period(interval)
            .unwrap_or_else(|| governor::Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Self {
            limiter: governor::RateLimiter::direct(quota),
            interval,
        }
    }

    /// The time between two actions.
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

impl RateLimiter for LocalRateLimiter {
    /// Never fails: the budget lives in this process.
    fn acquire(&self) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(async {
            self.limiter.until_ready().await;
            Ok(())
        })
    }
}

/// Called with each file's result as soon as it is known.
pub type FileFn = Arc<dyn Fn(&FileResult) + Send + Sync>;

/// The options of [`Client::import_many`].
///
/// ```
/// use dromo_client::bulk::{BulkOptions, LocalRateLimiter};
/// use std::sync::Arc;
///
/// let options = BulkOptions::default()
///     .with_concurrency(8)
///     .with_limiter(Arc::new(LocalRateLimiter::dromo_creates()))
///     .with_on_file(Arc::new(|result| println!("{}: {:?}", result.path.display(), result.outcome.as_ref().map(|o| o.status()))));
/// assert_eq!(options.concurrency(), 8);
/// ```
#[derive(Clone)]
pub struct BulkOptions {
    concurrency: usize,
    limiter: Arc<dyn RateLimiter>,
    import: ImportOptions,
    on_file: Option<FileFn>,
}

impl fmt::Debug for BulkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkOptions")
            .field("concurrency", &self.concurrency)
            .field("limiter", &self.limiter)
            .field("import", &self.import)
            .finish_non_exhaustive()
    }
}

impl Default for BulkOptions {
    /// 4 files at a time, Dromo's create limit ([`LocalRateLimiter::dromo_creates`], a new one:
    /// share one [`Arc`] between calls to share the budget), default [`ImportOptions`].
    fn default() -> Self {
        Self {
            concurrency: 4,
            limiter: Arc::new(LocalRateLimiter::dromo_creates()),
            import: ImportOptions::default(),
            on_file: None,
        }
    }
}

impl BulkOptions {
    /// How many files are imported at once (at least 1); default 4.
    pub fn with_concurrency(mut self, files: usize) -> Self {
        self.concurrency = files.max(1);
        self
    }

    /// What paces the creates; share one limiter between calls (and tasks) to share the budget.
    pub fn with_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = limiter;
        self
    }

    /// How each file is imported (upload, wait).
    pub fn with_import(mut self, options: ImportOptions) -> Self {
        self.import = options;
        self
    }

    /// Called with each file's result as soon as it is known (progress, or a sink per file).
    pub fn with_on_file(mut self, on_file: FileFn) -> Self {
        self.on_file = Some(on_file);
        self
    }

    /// How many files are imported at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }
}

/// One file's result.
#[derive(Debug)]
#[non_exhaustive]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// How its import ended, or why it could not.
    pub outcome: Result<ImportOutcome<Vec<serde_json::Value>>, Error>,
}

/// Every file's result, in the order given, and the counts.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct BulkSummary {
    /// One per file, in the order given.
    pub files: Vec<FileResult>,
    /// Files imported (`SUCCESSFUL`).
    pub imported: usize,
    /// Files that need a person's review.
    pub needs_review: usize,
    /// Files whose import failed, or was still processing at the maximum wait.
    pub failed: usize,
    /// Files that hit an error (the request, the upload, the network…).
    pub errors: usize,
}

impl Client {
    /// Imports many files with `schema`, `options.concurrency()` at a time, each create waiting
    /// for `options`' [`RateLimiter`] (Dromo allows 20 creates a minute; polls stay within 12 a
    /// minute per import, as in [`Client::wait_for_import`]). One file's failure stops nothing
    /// else; each result goes to `on_file` as soon as it is known. When the limiter fails (e.g.
    /// Redis is down), that file is not created and its outcome is the limiter's error, wrapped
    /// in [`Error::Step`] (create step); the other files go on.
    ///
    /// ```no_run
    /// use dromo_client::bulk::BulkOptions;
    /// use dromo_client::Schema;
    ///
    /// # async fn run(client: dromo_client::Client) {
    /// let files = ["a.csv", "b.csv"];
    /// let summary = client
    ///     .import_many(files, Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604"), &BulkOptions::default())
    ///     .await;
    /// println!("{} imported, {} errors", summary.imported, summary.errors);
    /// # }
    /// ```
    pub async fn import_many(
        &self,
        files: impl IntoIterator<Item = impl AsRef<Path>>,
        schema: Schema,
        options: &BulkOptions,
    ) -> BulkSummary {
        let files: Vec<PathBuf> = files.into_iter().map(|f| f.as_ref().to_owned()).collect();
        let mut results: Vec<(usize, FileResult)> =
            futures_util::stream::iter(files.into_iter().enumerate())
                .map(|(index, path)| {
                    let schema = schema.clone();
                    async move {
                        let name = path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| path.display().to_string());
                        let request = ImportRequest::new(schema, Source::file(name));
                        let outcome = match options.limiter.acquire().await {
                            Ok(()) => self.import_file_with(&path, request, &options.import).await,
                            Err(limiter) => Err(Error::Step {
                                step: Step::Create,
                                import_id: None,
                                source: Box::new(limiter),
                            }),
                        };
                        let result = FileResult { path, outcome };
                        if let Some(on_file) = &options.on_file {
                            on_file(&result);
                        }
                        (index, result)
                    }
                })
                .buffer_unordered(options.concurrency)
                .collect()
                .await;
        results.sort_by_key(|(index, _)| *index);
        let mut summary = BulkSummary::default();
        for (_, result) in results {
            match &result.outcome {
                Ok(ImportOutcome::Imported { .. }) => summary.imported += 1,
                Ok(ImportOutcome::NeedsReview { .. }) => summary.needs_review += 1,
                Ok(_) => summary.failed += 1,
                Err(_) => summary.errors += 1,
            }
            summary.files.push(result);
        }
        summary
    }
}

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use crate::redis_limiter::RedisRateLimiter;
