//! Uploading a file to a presigned S3 URL: streamed, sized, retried, observable.
//!
//! The `upload` URL of a created import takes a `PUT` of the raw file bytes. S3 refuses a chunked
//! body (501), so the body is sent with an explicit `Content-Length`, streamed from the file in
//! 1 MiB chunks: memory stays flat whatever the size of the file. Nothing of Dromo's goes to S3:
//! the request carries `Content-Length`, `Content-Type` and the transfer client's `User-Agent`,
//! never the API key (the transfer client has none).

use crate::error::{classify_transport, read_limited, BoxError, Error};
use crate::presigned::PresignedUrl;
use crate::retry::RetryPolicy;
use crate::s3::{with_watchdog, S3Error, StallWatch};
use crate::Client;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// How many bytes are read from the source at once. Large reads keep the cost per byte low
/// (one read, one hand-over between threads per MiB); memory stays a few of these at most:
/// one being read, [`READ_AHEAD`] waiting, and the ones the connection still holds.
const CHUNK: usize = 1024 * 1024;
/// How many chunks a file's reader thread may read ahead of the connection.
const READ_AHEAD: usize = 2;
/// How many bytes each piece of the streamed body holds at most: the connection asks for the
/// next piece once it has written the last, so smaller pieces make progress (and the stall
/// watchdog) finer-grained on slow links. A piece costs no copy and no system call (pieces
/// share the chunk's buffer; the connection writes many of them in one `writev`).
const SLICE: usize = 32 * 1024;

/// How far an upload has got: `sent` bytes of `total`.
///
/// `sent` goes back to 0 when a failed attempt is retried (every attempt sends the whole file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Bytes handed to the connection so far in this attempt.
    pub sent: u64,
    /// The size of the file.
    pub total: u64,
}

/// A progress callback, called from the task that sends the body. Keep it cheap.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

type BoxReader = Pin<Box<dyn AsyncRead + Send>>;
type Opener = Arc<dyn Fn() -> BoxFuture<'static, io::Result<BoxReader>> + Send + Sync>;

enum Origin {
    Path(PathBuf),
    Reader(Opener),
    Bytes(Bytes),
}

/// What to upload: a file, any async reader of known length that can be reopened, or bytes.
///
/// Each attempt of an upload opens the source again and sends it whole from its first byte, so a
/// retry never sends half a body.
///
/// ```no_run
/// use dromo_client::UploadSource;
///
/// # async fn run() -> Result<(), dromo_client::Error> {
/// let file = UploadSource::from_path("people.csv").await?;
/// assert_eq!(file.content_type(), "text/csv");
///
/// // Any reader: a factory opens it for each attempt.
/// let reader = UploadSource::from_reader("people.tsv", 11, || async {
///     Ok(std::io::Cursor::new(b"a\tb\n1\t2\n3\t4".to_vec()))
/// });
/// assert_eq!(reader.len(), 11);
/// # Ok(()) }
/// ```
pub struct UploadSource {
    name: String,
    len: u64,
    content_type: String,
    origin: Origin,
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadSource")
            .field("name", &self.name)
            .field("len", &self.len)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl UploadSource {
    /// The file at `path`; its size is read now, and checked again at each attempt.
    ///
    /// A missing or unreadable file is an [`Error::File`].
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let metadata = tokio::fs::metadata(&path)
            .await
            .map_err(|source| Error::File {
                path: path.display().to_string(),
                source,
            })?;
        if !metadata.is_file() {
            return Err(Error::File {
                path: path.display().to_string(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file"),
            });
        }
        let name = path.display().to_string();
        Ok(Self {
            content_type: content_type_for(&name).to_owned(),
            name,
            len: metadata.len(),
            origin: Origin::Path(path),
        })
    }

    /// `len` bytes read from the reader that `open` returns; `open` is called once per attempt
    /// and must return a reader positioned at the first byte. `name` is used for messages and
    /// for the content type (by its extension).
    pub fn from_reader<F, Fut, R>(name: impl Into<String>, len: u64, open: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = io::Result<R>> + Send + 'static,
        R: AsyncRead + Send + 'static,
    {
        let name = name.into();
        let open = Arc::new(open);
        let opener: Opener = Arc::new(move || {
            let future = open();
            Box::pin(async move { future.await.map(|reader| Box::pin(reader) as BoxReader) })
        });
        Self {
            content_type: content_type_for(&name).to_owned(),
            name,
            len,
            origin: Origin::Reader(opener),
        }
    }

    /// Bytes already in memory (cheap to clone for each attempt).
    ///
    /// ```
    /// let source = dromo_client::UploadSource::from_bytes("rows.xlsx", vec![0u8; 10]);
    /// assert_eq!(source.content_type(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    /// assert_eq!(source.len(), 10);
    /// ```
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let name = name.into();
        let bytes = bytes.into();
        Self {
            content_type: content_type_for(&name).to_owned(),
            name,
            len: bytes.len() as u64,
            origin: Origin::Bytes(bytes),
        }
    }

    /// Sends this `Content-Type` instead of the one guessed from the name's extension.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// The name used in messages (the path for files).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The number of bytes that will be sent (the `Content-Length`).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the source is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `Content-Type` that will be sent.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    async fn open(&self) -> Result<Chunks, Error> {
        let file_error = |source: io::Error| Error::File {
            path: self.name.clone(),
            source,
        };
        match &self.origin {
            Origin::Path(path) => {
                let file = tokio::fs::File::open(path).await.map_err(file_error)?;
                let len = file.metadata().await.map_err(file_error)?.len();
                if len != self.len {
                    return Err(file_error(io::Error::other(format!(
                        "its size changed from {} to {len} bytes since the upload started",
                        self.len
                    ))));
                }
                Ok(Chunks::from_file(file.into_std().await, self.len))
            }
            Origin::Reader(open) => open().await.map(Chunks::Reader).map_err(file_error),
            Origin::Bytes(bytes) => Ok(Chunks::Bytes(bytes.clone())),
        }
    }
}

/// The `Content-Type` sent for a file name, by extension: `text/csv`, `text/tab-separated-values`,
/// the Excel types, or `application/octet-stream`.
///
/// ```
/// use dromo_client::content_type_for;
///
/// assert_eq!(content_type_for("data/People.CSV"), "text/csv");
/// assert_eq!(content_type_for("a.tsv"), "text/tab-separated-values");
/// assert_eq!(content_type_for("a.xls"), "application/vnd.ms-excel");
/// assert_eq!(content_type_for("notes"), "application/octet-stream");
/// ```
pub fn content_type_for(name: &str) -> &'static str {
    let extension = Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "csv" => "text/csv",
        "tsv" => "text/tab-separated-values",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// How an upload retries and reports progress. The default: the client's
/// [`RetryPolicy`](crate::RetryPolicy) (4 attempts, 1 s backoff doubling up to 30 s), the
/// client's stall timeout, no progress callback.
///
/// ```
/// use dromo_client::{Progress, UploadOptions};
/// use std::time::Duration;
///
/// let (tx, rx) = tokio::sync::watch::channel(Progress::default());
/// let options = UploadOptions::default()
///     .with_max_attempts(6)
///     .with_retry_delay(Duration::from_millis(500))
///     .with_stall_timeout(Duration::from_secs(20))
///     .on_progress(move |p| { tx.send_replace(p); });
/// // `rx.borrow().sent` now follows the upload.
/// # let _ = (options, rx);
/// ```
#[derive(Clone, Default)]
pub struct UploadOptions {
    retry: Option<RetryPolicy>,
    on_progress: Option<ProgressFn>,
    stall: Stall,
}

/// Which stall timeout an upload uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Stall {
    /// The client's ([`ClientBuilder::transfer_stall_timeout`](crate::ClientBuilder::transfer_stall_timeout)).
    #[default]
    Client,
    /// This one.
    Set(Duration),
    /// None: only the transfer client's own timeouts apply.
    Off,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("retry", &self.retry)
            .field("on_progress", &self.on_progress.is_some())
            .field("stall", &self.stall)
            .finish()
    }
}

impl UploadOptions {
    /// Retries failed attempts by `policy` instead of the client's.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    fn policy_mut(&mut self) -> &mut RetryPolicy {
        self.retry.get_or_insert_with(RetryPolicy::default)
    }

    /// How many times the file is sent at most (at least 1); default 4.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        let policy = self.policy_mut();
        *policy = policy.with_max_attempts(attempts);
        self
    }

    /// The delay before the first retry, doubled for each further one (with jitter); default 1 s.
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        let policy = self.policy_mut();
        *policy = policy.with_initial_delay(delay);
        self
    }

    /// The longest delay between two attempts; default 30 s.
    pub fn with_max_retry_delay(mut self, delay: Duration) -> Self {
        let policy = self.policy_mut();
        *policy = policy.with_max_delay(delay);
        self
    }

    /// Fails an attempt when no byte moves, in either direction, for `timeout` (default: the
    /// client's [`transfer_stall_timeout`](crate::ClientBuilder::transfer_stall_timeout), 60 s).
    /// An upload that keeps moving never times out, however long it takes.
    pub fn with_stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall = Stall::Set(timeout);
        self
    }

    /// Turns the stall watchdog off: only the transfer client's own timeouts apply. For a
    /// transfer client with its own policy, or for tests that run with tokio's paused clock,
    /// where an armed watchdog would fire as soon as the runtime idles.
    pub fn without_stall_timeout(mut self) -> Self {
        self.stall = Stall::Off;
        self
    }

    /// Calls `f` with the progress after each slice of the body handed to the connection, and
    /// once at 0 when each attempt starts.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }
}

/// What a successful upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Uploaded {
    /// The bytes sent (the file's size).
    pub bytes: u64,
    /// How many attempts it took (1 when nothing was retried).
    pub attempts: u32,
}

impl Client {
    /// Uploads `source` to a presigned `upload` URL with the default [`UploadOptions`].
    ///
    /// See [`Client::upload_with`].
    ///
    /// ```no_run
    /// use dromo_client::{PresignedUrl, UploadSource};
    ///
    /// # async fn run(client: dromo_client::Client, upload: PresignedUrl) -> Result<(), dromo_client::Error> {
    /// let done = client.upload(&upload, UploadSource::from_path("people.csv").await?).await?;
    /// println!("sent {} bytes", done.bytes);
    /// # Ok(()) }
    /// ```
    pub async fn upload(
        &self,
        url: &PresignedUrl,
        source: UploadSource,
    ) -> Result<Uploaded, Error> {
        self.upload_with(url, source, &UploadOptions::default())
            .await
    }

    /// Uploads `source` to a presigned `upload` URL: one `PUT` of the raw bytes, streamed with a
    /// `Content-Length`, through the transfer client (no API key, no total timeout).
    ///
    /// An attempt fails when no byte moves for the client's transfer stall timeout. Connection
    /// failures, stalls, 5xx and S3's `SlowDown`, `InternalError` and `RequestTimeout` are retried
    /// with backoff, each attempt sending the whole source again from its first byte. S3's other
    /// errors (an expired URL, a bad signature…) fail at once with an [`Error::Upload`] saying
    /// what to do; no message ever contains the URL's signature.
    ///
    /// ```no_run
    /// use dromo_client::{PresignedUrl, UploadOptions, UploadSource};
    ///
    /// # async fn run(client: dromo_client::Client, upload: PresignedUrl) -> Result<(), dromo_client::Error> {
    /// let options = UploadOptions::default().on_progress(|p| eprintln!("{} / {} bytes", p.sent, p.total));
    /// client.upload_with(&upload, UploadSource::from_path("people.csv").await?, &options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_with(
        &self,
        url: &PresignedUrl,
        source: UploadSource,
        options: &UploadOptions,
    ) -> Result<Uploaded, Error> {
        let policy = options.retry.unwrap_or(*self.retry_policy());
        let mut attempts = 0;
        policy
            .run("upload", None, |attempt| {
                attempts = attempt;
                tracing::debug!(file = %source.name, url = %url, attempt, "uploading");
                self.upload_once(url, &source, options)
            })
            .await?;
        Ok(Uploaded {
            bytes: source.len,
            attempts,
        })
    }

    async fn upload_once(
        &self,
        url: &PresignedUrl,
        source: &UploadSource,
        options: &UploadOptions,
    ) -> Result<(), Error> {
        let chunks = source.open().await?;
        let watch = Arc::new(StallWatch::new());
        let local_error = Arc::new(Mutex::new(None));
        if let Some(report) = &options.on_progress {
            report(Progress {
                sent: 0,
                total: source.len,
            });
        }
        let body = body_stream(
            chunks,
            source.len,
            options.on_progress.clone(),
            watch.clone(),
            local_error.clone(),
        );
        let request = self
            .transfer()
            .put(url.as_url().clone())
            .header(reqwest::header::CONTENT_LENGTH, source.len)
            .header(reqwest::header::CONTENT_TYPE, source.content_type.as_str())
            .body(reqwest::Body::wrap_stream(body))
            .send();
        let stall = match options.stall {
            Stall::Client => self.stall_timeout(),
            Stall::Set(timeout) => Some(timeout),
            Stall::Off => None,
        };
        // The watchdog runs from the first byte to the end of the answer: while the body is
        // sent (each slice handed over is progress), while S3 is answering, and while an error
        // body is read.
        let outcome = with_watchdog(&watch, stall, request).await;
        let local = || {
            local_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
        };
        let handed = || {
            let sent = watch.sent();
            if sent >= source.len {
                format!(
                    "after all {} bytes were handed to the network, before S3 answered",
                    source.len
                )
            } else {
                format!("after {sent} of {} bytes were handed to the network (S3 may have received fewer)", source.len)
            }
        };
        let response = match outcome {
            None => {
                return Err(upload_error(
                    source,
                    format!(
                        "no byte moved for {} s {}; the network or S3 is stalled, try again",
                        stall.unwrap_or_default().as_secs_f32(),
                        handed()
                    ),
                    None,
                    None,
                    true,
                    None,
                ))
            }
            Some(Err(error)) => {
                if let Some(io_error) = local() {
                    return Err(Error::File {
                        path: source.name.clone(),
                        source: io_error,
                    });
                }
                let error = error.without_url();
                let kind = classify_transport(&error);
                let host = url.as_url().host_str().unwrap_or("S3").to_owned();
                return Err(upload_error(
                    source,
                    format!(
                        "could not send it to {host}: {kind} {}; try again",
                        handed()
                    ),
                    None,
                    None,
                    true,
                    Some(Box::new(error)),
                ));
            }
            Some(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if response.status().is_success() {
            tracing::debug!(file = %source.name, url = %url, bytes = source.len, status, "upload done");
            return Ok(());
        }
        watch.moved(watch.sent());
        let body = with_watchdog(&watch, stall, read_limited(response))
            .await
            .unwrap_or_default();
        let s3 = S3Error::parse(&body);
        Err(explain_s3_failure(source, url, status, s3))
    }
}

fn explain_s3_failure(
    source: &UploadSource,
    url: &PresignedUrl,
    status: u16,
    s3: S3Error,
) -> Error {
    let (code_str, said, expired) = s3.summary(url);
    let code_str = code_str.as_str();
    let code = (!code_str.is_empty()).then(|| code_str.to_owned());
    let (reason, retryable) = if expired {
        (
            format!("the upload URL has expired (HTTP {status}, {said}); Dromo's upload URLs are valid 30 minutes after the import is created: create a new import and upload within 30 minutes"),
            false,
        )
    } else if code_str == "SignatureDoesNotMatch" {
        (
            format!("S3 refused the URL's signature (HTTP {status}, {said}); the upload URL was altered or copied incompletely: use the `upload` URL exactly as Dromo returned it, or create a new import"),
            false,
        )
    } else if status == 501 || code_str == "NotImplemented" {
        (
            format!("S3 refused the request as not implemented (HTTP {status}, {said}); S3 refuses chunked uploads and needs a Content-Length: a proxy may have re-encoded the body, please report this"),
            false,
        )
    } else if matches!(
        code_str,
        "SlowDown" | "InternalError" | "RequestTimeout" | "ServiceUnavailable"
    ) || status >= 500
    {
        (
            format!("S3 had a temporary failure (HTTP {status}, {said}); try again later"),
            true,
        )
    } else if status == 403 {
        (format!("S3 refused access (HTTP {status}, {said}); the upload URL may have been used for another file or revoked: create a new import"), false)
    } else {
        (format!("S3 answered HTTP {status} ({said}); create a new import and try again, or report this"), false)
    };
    upload_error(source, reason, Some(status), code, retryable, None)
}

fn upload_error(
    source: &UploadSource,
    reason: String,
    status: Option<u16>,
    code: Option<String>,
    retryable: bool,
    cause: Option<BoxError>,
) -> Error {
    Error::Upload {
        file: source.name.clone(),
        reason,
        status,
        code,
        retryable,
        source: cause,
    }
}

/// Where the body's chunks come from, for one attempt.
enum Chunks {
    /// A file, read by a blocking thread up to [`READ_AHEAD`] chunks ahead of the connection:
    /// one read and one hand-over between threads per chunk, no copy.
    File(tokio::sync::mpsc::Receiver<io::Result<Bytes>>),
    /// Any reader, read on the connection's task.
    Reader(BoxReader),
    /// Bytes in memory: sent as they are.
    Bytes(Bytes),
}

impl Chunks {
    /// Starts the thread that reads `file` (`total` bytes) ahead. It stops at the end of the
    /// file, at the first error (sent as the last item), or as soon as the body is dropped.
    fn from_file(mut file: std::fs::File, total: u64) -> Self {
        let (sender, receiver) = tokio::sync::mpsc::channel(READ_AHEAD);
        tokio::task::spawn_blocking(move || {
            let pool = Arc::new(Mutex::new(Vec::new()));
            let mut read = 0;
            loop {
                match read_file_chunk(&mut file, total, read, &pool) {
                    Ok(Some(chunk)) => {
                        read += chunk.len() as u64;
                        if sender.blocking_send(Ok(chunk)).is_err() {
                            return;
                        }
                    }
                    // Dropping the sender ends the stream.
                    Ok(None) => return,
                    Err(error) => {
                        let _ = sender.blocking_send(Err(error));
                        return;
                    }
                }
            }
        });
        Self::File(receiver)
    }
}

/// The source ended before its announced length (`read` of `total` bytes).
fn ended_early(read: u64, total: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("it ended after {read} of the {total} bytes it had when the upload started"),
    )
}

/// The source has more bytes than its announced length.
fn longer_than(total: u64) -> io::Error {
    io::Error::other(format!(
        "it has more than the {total} bytes it had when the upload started"
    ))
}

/// Buffers of [`CHUNK`] bytes given back by the connection once it has written them, for the
/// next reads: a buffer is zeroed and faulted in once, not once per chunk.
type BufferPool = Arc<Mutex<Vec<Vec<u8>>>>;

/// A chunk's buffer; when the connection drops the last piece of it, it goes back to its pool.
struct Recycled {
    buffer: Vec<u8>,
    pool: BufferPool,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buffer
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        // At most as many as can be in flight at once; the rest are freed.
        if pool.len() <= READ_AHEAD + 2 {
            pool.push(std::mem::take(&mut self.buffer));
        }
    }
}

/// The next chunk of a file of `total` bytes of which `read` were read: up to [`CHUNK`] bytes,
/// `None` at its announced end (checked to be its real end).
fn read_file_chunk(
    file: &mut std::fs::File,
    total: u64,
    read: u64,
    pool: &BufferPool,
) -> io::Result<Option<Bytes>> {
    use std::io::Read;
    let remaining = total - read;
    if remaining == 0 {
        let mut probe = [0u8; 1];
        return match file.read(&mut probe)? {
            0 => Ok(None),
            _ => Err(longer_than(total)),
        };
    }
    let want = usize::try_from(remaining).unwrap_or(CHUNK).min(CHUNK);
    // One `read` per chunk (a file in the page cache fills it at once), into a recycled buffer.
    let mut buffer = pool
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop()
        .unwrap_or_default();
    buffer.resize(want, 0);
    let mut filled = 0;
    while filled < want {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if filled == 0 {
        return Err(ended_early(read, total));
    }
    buffer.truncate(filled);
    Ok(Some(Bytes::from_owner(Recycled {
        buffer,
        pool: pool.clone(),
    })))
}

struct BodyState {
    chunks: Chunks,
    /// Bytes read from the source.
    read: u64,
    /// Read but not yet handed to the connection.
    pending: Bytes,
    /// Bytes handed to the connection.
    sent: u64,
    total: u64,
    done: bool,
    on_progress: Option<ProgressFn>,
    watch: Arc<StallWatch>,
    local_error: Arc<Mutex<Option<io::Error>>>,
}

/// The body: `total` bytes of `chunks`, handed over in pieces of at most [`SLICE`], reporting
/// progress; a source that ends early or has more than `total` bytes fails the body (and the
/// attempt).
fn body_stream(
    chunks: Chunks,
    total: u64,
    on_progress: Option<ProgressFn>,
    watch: Arc<StallWatch>,
    local_error: Arc<Mutex<Option<io::Error>>>,
) -> impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static {
    let state = BodyState {
        chunks,
        read: 0,
        pending: Bytes::new(),
        sent: 0,
        total,
        done: false,
        on_progress,
        watch,
        local_error,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let next = if state.pending.is_empty() {
            next_chunk(&mut state).await
        } else {
            Ok(Some(Bytes::new()))
        };
        match next {
            Ok(Some(chunk)) => {
                if !chunk.is_empty() {
                    state.read += chunk.len() as u64;
                    state.pending = chunk;
                }
                let chunk = state.pending.split_to(state.pending.len().min(SLICE));
                state.sent += chunk.len() as u64;
                if state.sent >= state.total {
                    // The connection stops asking for more once it has `Content-Length` bytes.
                    state.watch.body_handed_over(state.sent);
                } else {
                    state.watch.moved(state.sent);
                }
                if let Some(report) = &state.on_progress {
                    report(Progress {
                        sent: state.sent,
                        total: state.total,
                    });
                }
                Some((Ok(chunk), state))
            }
            Ok(None) => None,
            Err(error) => {
                state.done = true;
                let copy = io::Error::new(error.kind(), error.to_string());
                *state
                    .local_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(error);
                Some((Err(copy), state))
            }
        }
    })
}

async fn next_chunk(state: &mut BodyState) -> io::Result<Option<Bytes>> {
    match &mut state.chunks {
        Chunks::File(receiver) => receiver.recv().await.transpose(),
        Chunks::Bytes(bytes) => Ok((!bytes.is_empty()).then(|| std::mem::take(bytes))),
        Chunks::Reader(reader) => read_chunk(reader, state.total, state.read).await,
    }
}

/// The next chunk of a reader of `total` bytes of which `read` were read: up to [`CHUNK`]
/// bytes, `None` at its announced end (checked to be its real end).
async fn read_chunk(reader: &mut BoxReader, total: u64, read: u64) -> io::Result<Option<Bytes>> {
    let remaining = total - read;
    if remaining == 0 {
        let mut probe = [0u8; 1];
        return match reader.read(&mut probe).await? {
            0 => Ok(None),
            _ => Err(longer_than(total)),
        };
    }
    let want = usize::try_from(remaining).unwrap_or(CHUNK).min(CHUNK);
    // `read_buf` fills the spare capacity: no zeroing, no copy.
    let mut buffer = bytes::BytesMut::with_capacity(want);
    while buffer.len() < want {
        let limit = (want - buffer.len()) as u64;
        let n = reader.as_mut().take(limit).read_buf(&mut buffer).await?;
        if n == 0 {
            if buffer.is_empty() {
                return Err(ended_early(read, total));
            }
            break;
        }
    }
    Ok(Some(buffer.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_in_chunks_into_recycled_buffers_and_checked_against_its_length() {
        use std::io::Write;
        let mut file = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..CHUNK + 10).map(|i| (i % 251) as u8).collect();
        file.write_all(&data).unwrap();
        let pool: BufferPool = Arc::new(Mutex::new(Vec::new()));
        let rewind = |f: &mut std::fs::File| {
            use std::io::Seek;
            f.rewind().unwrap();
        };

        rewind(&mut file);
        let total = data.len() as u64;
        let first = read_file_chunk(&mut file, total, 0, &pool)
            .unwrap()
            .unwrap();
        assert_eq!(first.len(), CHUNK);
        let second = read_file_chunk(&mut file, total, CHUNK as u64, &pool)
            .unwrap()
            .unwrap();
        assert_eq!([first.as_ref(), second.as_ref()].concat(), data);
        assert!(read_file_chunk(&mut file, total, total, &pool)
            .unwrap()
            .is_none());
        // Once the connection has dropped every piece of a chunk, its buffer is reused.
        let piece = first.slice(..10);
        drop(first);
        assert!(pool.lock().unwrap().is_empty());
        drop(piece);
        assert_eq!(pool.lock().unwrap().len(), 1);

        // Longer than announced: the probe after the last byte says so.
        rewind(&mut file);
        let short_total = 5;
        assert!(read_file_chunk(&mut file, short_total, 0, &pool)
            .unwrap()
            .is_some());
        let e = read_file_chunk(&mut file, short_total, short_total, &pool).unwrap_err();
        assert!(e.to_string().contains("more than the 5 bytes"), "{e}");

        // Shorter than announced: the end of the file comes first.
        rewind(&mut file);
        let long_total = total + 100;
        let _ = read_file_chunk(&mut file, long_total, 0, &pool).unwrap();
        let _ = read_file_chunk(&mut file, long_total, CHUNK as u64, &pool).unwrap();
        let e = read_file_chunk(&mut file, long_total, total, &pool).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(
            e.to_string().contains(&format!("ended after {total} of")),
            "{e}"
        );
    }

    #[test]
    fn expired_url_message_explains_what_to_do() {
        let url =
            PresignedUrl::parse("https://s3.example.com/k?X-Amz-Signature=sig123456").unwrap();
        let source = UploadSource::from_bytes("a.csv", "x");
        let e = explain_s3_failure(
            &source,
            &url,
            403,
            S3Error {
                code: Some("AccessDenied".into()),
                message: Some("Request has expired".into()),
            },
        );
        let text = e.to_string();
        assert!(
            text.contains("30 minutes") && text.contains("create a new import"),
            "{text}"
        );
        assert!(!e.is_retryable());
        let e = explain_s3_failure(
            &source,
            &url,
            503,
            S3Error {
                code: Some("SlowDown".into()),
                message: None,
            },
        );
        assert!(e.is_retryable(), "{e}");
        let e = explain_s3_failure(
            &source,
            &url,
            400,
            S3Error {
                code: Some("RequestTimeout".into()),
                message: None,
            },
        );
        assert!(e.is_retryable(), "{e}");
    }
}
