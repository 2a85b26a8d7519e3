//! Fetching the cleaned rows of a successful import: the result URL, then a streamed download
//! parsed row by row.

use crate::error::{read_limited, BoxError, Error, ServerText};
use crate::ids::{import_id, ImportId};
use crate::presigned::PresignedUrl;
use crate::s3::{countable, with_watchdog, S3Error, StallWatch};
use crate::scrub::{scrub, MAX_MESSAGE_CHARS};
use crate::Client;
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The largest single row the result stream accepts (64 MiB): a guard against a body that is
/// not the documented array of rows.
pub const MAX_ROW_BYTES: usize = 64 * 1024 * 1024;

/// The rows of an import's results, decoded one at a time as they arrive. Each row is a JSON
/// object keyed by field key; the JSON type of each value is in the crate docs'
/// [result values](crate#result-values) table.
///
/// Memory holds one row and the current network chunk, whatever the number of rows. A failure
/// (a broken connection, a row that does not decode into `T`) is yielded as an `Err` and ends
/// the stream.
///
/// ```no_run
/// use futures_util::TryStreamExt;
///
/// #[derive(serde::Deserialize)]
/// struct Person { email: String }
///
/// # async fn run(client: dromo_client::Client, id: String) -> Result<(), dromo_client::Error> {
/// let mut rows = client.stream_results::<Person>(&id).await?;
/// while let Some(person) = rows.try_next().await? {
///     println!("{}", person.email);
/// }
/// # Ok(()) }
/// ```
pub struct RowStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>,
}

impl<T> fmt::Debug for RowStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowStream").finish_non_exhaustive()
    }
}

impl<T> Stream for RowStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Client {
    /// The presigned URL of import `id`'s results (`GET /headless/imports/{id}/url/`). Dromo
    /// gives one only once the import is `SUCCESSFUL`.
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let url = client.result_url("94187d21-9820-420f-b08c-a80cbbf52604").await?;
    /// println!("results at {url}"); // redacted: no signature
    /// # Ok(()) }
    /// ```
    pub async fn result_url(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
    ) -> Result<PresignedUrl, Error> {
        let id = import_id(id)?;
        self.retry_policy()
            .run_bounded(
                "result URL",
                self.call_timeout(),
                None,
                Error::is_retryable,
                |_| self.result_url_once(&id),
            )
            .await
    }

    /// One `GET /headless/imports/{id}/url/`, not retried.
    async fn result_url_once(&self, id: &ImportId) -> Result<PresignedUrl, Error> {
        let response = self
            .api()
            .get_headless_import_url()
            .id(id)
            .send()
            .await?
            .into_inner();
        let raw = response.presigned_url.ok_or_else(|| Error::Decode {
            status: 200,
            path: "presigned_url".to_owned(),
            message: format!("Dromo answered without a `presigned_url` for import {id}"),
            snippet: String::new(),
            source: "missing field `presigned_url`".into(),
        })?;
        PresignedUrl::parse(&raw).map_err(|e| match e {
            Error::BadUrl { reason, source, .. } => Error::BadUrl {
                what: format!("result URL for import {id}"),
                reason,
                source,
            },
            other => other,
        })
    }

    /// Downloads all the rows of successful import `id` into a `Vec` (the JSON type of each
    /// value: [result values](crate#result-values)).
    ///
    /// For many rows prefer [`Client::stream_results`], which holds one row at a time.
    ///
    /// ```no_run
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let rows: Vec<serde_json::Value> = client.fetch_results("94187d21-9820-420f-b08c-a80cbbf52604").await?;
    /// println!("{} rows", rows.len());
    /// # Ok(()) }
    /// ```
    pub async fn fetch_results<T: DeserializeOwned + Send + 'static>(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
    ) -> Result<Vec<T>, Error> {
        self.stream_results(id).await?.try_collect().await
    }

    /// Streams the rows of successful import `id`: fetches the result URL, then downloads the
    /// JSON array through the transfer client (no API key) and decodes each row into `T` as its
    /// bytes arrive. See [`RowStream`].
    ///
    /// A download that fails before the first byte (connection failure, 5xx) is retried; one
    /// that breaks midway ends the stream with an [`Error::Download`]. A row that does not
    /// fit `T` is an [`Error::RowMismatch`] whose path starts with the row's index, e.g. `[41].email`.
    pub async fn stream_results<T: DeserializeOwned + Send + 'static>(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
    ) -> Result<RowStream<T>, Error> {
        let id = import_id(id)?;
        let url = self.result_url(&id).await?;
        self.stream_results_from(&id, &url).await
    }

    /// Streams the rows at a result URL already fetched with [`Client::result_url`].
    pub async fn stream_results_from<T: DeserializeOwned + Send + 'static>(
        &self,
        id: impl TryInto<ImportId, Error: Into<Error>>,
        url: &PresignedUrl,
    ) -> Result<RowStream<T>, Error> {
        let id = import_id(id)?.to_string();
        let stall = self.stall_timeout();
        let response = self.open_download(&id, url, stall).await?;
        let bytes = byte_stream(&id, response);
        // A download that breaks midway is opened again and resumed after the rows already
        // given (the result file does not change), as the retry policy allows.
        let client = self.clone();
        let (resume_id, resume_url) = (id.clone(), url.clone());
        let reopen: Reopen = Box::new(move || {
            let (client, id, url) = (client.clone(), resume_id.clone(), resume_url.clone());
            Box::pin(async move {
                let response = client.open_download(&id, &url, stall).await?;
                Ok(byte_stream(&id, response))
            })
        });
        let resume = Resume {
            reopen,
            policy: *self.retry_policy(),
            done: 0,
        };
        Ok(RowStream {
            inner: Box::pin(rows(id, bytes, stall, Some(resume))),
        })
    }

    /// Sends the download request until S3 answers with a success status (retrying by the
    /// client's policy), each attempt failing when S3 stays silent for `stall`.
    async fn open_download(
        &self,
        id: &str,
        url: &PresignedUrl,
        stall: Option<Duration>,
    ) -> Result<reqwest::Response, Error> {
        self.retry_policy()
            .run("result download", None, |_| async move {
                let watch = StallWatch::new();
                let stalled = || {
                    download_error(
                        id,
                        format!(
                            "the result host sent nothing for {} s; try again",
                            stall.unwrap_or_default().as_secs_f32()
                        ),
                        None,
                        true,
                        None,
                    )
                };
                let sent = self.transfer().get(url.as_url().clone()).send();
                match with_watchdog(&watch, stall, sent).await {
                    None => Err(stalled()),
                    Some(Ok(response)) if response.status().is_success() => Ok(response),
                    Some(Ok(response)) => {
                        let status = response.status().as_u16();
                        watch.moved(0);
                        let body = with_watchdog(&watch, stall, read_limited(response))
                            .await
                            .unwrap_or_default();
                        Err(explain_download_failure(
                            id,
                            url,
                            status,
                            S3Error::parse(&body),
                        ))
                    }
                    Some(Err(e)) => {
                        let e = e.without_url();
                        let kind = crate::error::classify_transport(&e);
                        let host = url
                            .as_url()
                            .host_str()
                            .unwrap_or("the result host")
                            .to_owned();
                        Err(download_error(
                            id,
                            format!("could not reach {host}: {kind}; try again"),
                            None,
                            true,
                            Some(Box::new(e)),
                        ))
                    }
                }
            })
            .await
    }
}

/// The body of a download as a stream of chunks, its failures as [`Error::Download`].
fn byte_stream(id: &str, response: reqwest::Response) -> ByteStream {
    let id = id.to_owned();
    Box::pin(response.bytes_stream().map_err(move |e| {
        download_error(
            &id,
            "the download broke midway; fetch the results again".to_owned(),
            None,
            true,
            Some(Box::new(e.without_url())),
        )
    }))
}

type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;
type Reopen =
    Box<dyn FnMut() -> futures_util::future::BoxFuture<'static, Result<ByteStream, Error>> + Send>;

/// How a broken download is resumed: opened again, the rows already given skipped.
struct Resume {
    reopen: Reopen,
    policy: crate::RetryPolicy,
    /// Resumes made so far.
    done: u32,
}

fn download_error(
    id: &str,
    reason: String,
    status: Option<u16>,
    retryable: bool,
    source: Option<BoxError>,
) -> Error {
    Error::Download {
        import_id: id.to_owned(),
        reason,
        status,
        retryable,
        source,
    }
}

fn explain_download_failure(id: &str, url: &PresignedUrl, status: u16, s3: S3Error) -> Error {
    let (code, said, expired) = s3.summary(url);
    if expired {
        download_error(id, format!("the result URL has expired (HTTP {status}, {said}); fetch the results again: each fetch gets a fresh URL"), Some(status), false, None)
    } else if code == "SignatureDoesNotMatch" {
        download_error(id, format!("S3 refused the URL's signature (HTTP {status}, {said}); the result URL was altered: fetch the results again"), Some(status), false, None)
    } else if status >= 500
        || matches!(
            code.as_str(),
            "SlowDown" | "InternalError" | "RequestTimeout"
        )
    {
        download_error(
            id,
            format!("S3 had a temporary failure (HTTP {status}, {said}); try again later"),
            Some(status),
            true,
            None,
        )
    } else {
        download_error(
            id,
            format!("S3 answered HTTP {status} ({said}); fetch the results again, or report this"),
            Some(status),
            false,
            None,
        )
    }
}

struct RowState {
    id: String,
    bytes: ByteStream,
    stall: Option<Duration>,
    splitter: ArraySplitter,
    ready: VecDeque<Vec<u8>>,
    index: usize,
    /// Rows of a resumed download still to skip (they were given before it broke).
    skip: usize,
    resume: Option<Resume>,
    /// The failure to yield once the rows completed before it are yielded.
    failure: Option<Error>,
    /// The body has ended.
    ended: bool,
    finished: bool,
}

impl RowState {
    /// Opens the download again after `failure`, to skip the rows already given, when the
    /// failure is a retryable download failure and the retry policy has attempts left.
    async fn try_resume(&mut self, failure: Error) -> Result<(), Error> {
        let resumable = matches!(
            failure,
            Error::Download {
                retryable: true,
                ..
            }
        );
        let Some(resume) = self
            .resume
            .as_mut()
            .filter(|r| resumable && r.done.saturating_add(1) < r.policy.max_attempts())
        else {
            return Err(failure);
        };
        resume.done += 1;
        let delay = resume.policy.delay_after(resume.done, &failure);
        tracing::warn!(import = %self.id, rows = self.index, ?delay, error = %format_args!("{failure:#}"), "result download broke; resuming");
        tokio::time::sleep(delay).await;
        self.bytes = (resume.reopen)().await?;
        self.splitter = ArraySplitter::new(MAX_ROW_BYTES);
        self.ready.clear();
        self.skip = self.index;
        self.ended = false;
        Ok(())
    }
}

/// Decodes the rows of `bytes`, a JSON array arriving in chunks, one element at a time. Every
/// complete row is yielded before a failure that follows it; the stream fails when no chunk
/// arrives for `stall`; a download that breaks is resumed by `resume`, if given.
fn rows<T>(
    id: String,
    bytes: ByteStream,
    stall: Option<Duration>,
    resume: Option<Resume>,
) -> impl Stream<Item = Result<T, Error>> + Send
where
    T: DeserializeOwned + Send + 'static,
{
    let state = RowState {
        id,
        bytes,
        stall,
        splitter: ArraySplitter::new(MAX_ROW_BYTES),
        ready: VecDeque::new(),
        index: 0,
        skip: 0,
        resume,
        failure: None,
        ended: false,
        finished: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if state.finished {
                return None;
            }
            if let Some(row) = state.ready.pop_front() {
                if state.skip > 0 {
                    // Given before the download broke and was resumed.
                    state.skip -= 1;
                    continue;
                }
                let index = state.index;
                state.index += 1;
                let decoded = decode_row::<T>(&state.id, index, &row);
                if decoded.is_err() {
                    state.finished = true;
                }
                return Some((decoded, state));
            }
            if let Some(failure) = state.failure.take() {
                match state.try_resume(failure).await {
                    Ok(()) => continue,
                    Err(failure) => {
                        state.finished = true;
                        return Some((Err(failure), state));
                    }
                }
            }
            if state.ended {
                return None;
            }
            let next = match countable(state.stall) {
                Some(stall) => tokio::time::timeout(stall, state.bytes.next()).await,
                None => Ok(state.bytes.next().await),
            };
            state.failure = match next {
                Err(_) => Some(download_error(
                    &state.id,
                    format!(
                        "the result host sent nothing for {} s after {} rows; fetch the results again",
                        state.stall.unwrap_or_default().as_secs_f32(),
                        state.index
                    ),
                    None,
                    true,
                    None,
                )),
                Ok(Some(Ok(chunk))) => match state.splitter.push(&chunk, &mut state.ready) {
                    Ok(()) => None,
                    Err(e) => Some(e.into_error(&state.id)),
                },
                Ok(Some(Err(e))) => Some(match e {
                    Error::Download {
                        import_id,
                        reason,
                        status,
                        retryable,
                        source,
                    } => Error::Download {
                        import_id,
                        reason: format!(
                            "{reason} (after {} rows)",
                            state.index + state.ready.len()
                        ),
                        status,
                        retryable,
                        source,
                    },
                    other => other,
                }),
                Ok(None) => {
                    // The body ended: whatever is left in `ready` is yielded, then the stream.
                    state.ended = true;
                    state.splitter.finish().err().map(|e| e.into_error(&state.id))
                }
            };
        }
    })
}

/// Decodes row `index`; a failure names the row and the path inside it. JSON that does not
/// parse (a syntax error, a lone surrogate) is Dromo's fault, not the row type's:
/// [`Error::MalformedResults`].
fn decode_row<T: DeserializeOwned>(import_id: &str, index: usize, row: &[u8]) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(row);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        if e.inner().is_data() {
            row_mismatch(index, e.path(), e.inner().to_string())
        } else {
            malformed_results(import_id, index, &e.into_inner())
        }
    })
}

/// The results' JSON breaks at row `index`.
fn malformed_results(import_id: &str, index: usize, error: &serde_json::Error) -> Error {
    let message = scrub(
        &format!("row {index}: invalid JSON: {error}"),
        MAX_MESSAGE_CHARS,
    );
    Error::MalformedResults {
        import_id: import_id.to_owned(),
        index,
        source: Box::new(ServerText(message.clone())),
        message,
    }
}

/// Row `index` did not fit the caller's type at `path` (inside the row), for `detail` (serde's
/// message, which quotes the row's value: scrubbed like any server text).
pub(crate) fn row_mismatch(
    index: usize,
    path: &serde_path_to_error::Path,
    detail: String,
) -> Error {
    let path = match path.to_string().as_str() {
        "." => format!("[{index}]"),
        p if p.starts_with('[') => format!("[{index}]{p}"),
        p => format!("[{index}].{p}"),
    };
    let message = scrub(&detail, MAX_MESSAGE_CHARS);
    // The rows are what Dromo sent; the type they must fit is the caller's.
    Error::RowMismatch {
        index,
        source: Box::new(ServerText(message.clone())),
        message,
        path,
    }
}

/// Why the body is not a JSON array of rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitError {
    /// What was wrong.
    pub message: String,
    /// The byte offset in the body.
    pub offset: u64,
    /// The body ended before the array did: the connection was probably cut.
    pub truncated: bool,
}

impl SplitError {
    fn into_error(self, id: &str) -> Error {
        if self.truncated {
            return download_error(
                id,
                format!(
                    "the download ended early: {} at byte {}; the connection was probably cut, fetch the results again",
                    self.message, self.offset
                ),
                Some(200),
                true,
                None,
            );
        }
        download_error(
            id,
            format!(
                "the results are not a JSON array of rows: {} at byte {}; please report this",
                self.message, self.offset
            ),
            Some(200),
            false,
            None,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// Before the opening `[`.
    Start,
    /// After `[`: a value or `]`.
    FirstOrEnd,
    /// After `,`: a value.
    Value,
    /// Inside an element.
    InElement,
    /// After an element: `,` or `]`.
    AfterElement,
    /// After the closing `]`: only whitespace.
    Done,
}

/// Splits a top-level JSON array arriving in arbitrary chunks into the bytes of its elements,
/// tracking strings, escapes and nesting depth; the elements are decoded separately. It checks
/// the array's structure, not the elements' JSON (their decoder does that).
#[derive(Debug)]
pub(crate) struct ArraySplitter {
    state: Split,
    depth: usize,
    in_string: bool,
    escape: bool,
    /// The element is a bare scalar (number, `true`…): it ends at a delimiter.
    scalar: bool,
    element: Vec<u8>,
    offset: u64,
    max_element: usize,
}

impl ArraySplitter {
    pub(crate) fn new(max_element: usize) -> Self {
        Self {
            state: Split::Start,
            depth: 0,
            in_string: false,
            escape: false,
            scalar: false,
            element: Vec::new(),
            offset: 0,
            max_element,
        }
    }

    fn fail<T>(&self, message: String) -> Result<T, SplitError> {
        Err(SplitError {
            message,
            offset: self.offset,
            truncated: false,
        })
    }

    /// Feeds a chunk; complete elements are appended to `out`.
    pub(crate) fn push(
        &mut self,
        chunk: &[u8],
        out: &mut VecDeque<Vec<u8>>,
    ) -> Result<(), SplitError> {
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            match self.state {
                Split::InElement => {
                    // Fast path: copy the run of bytes that cannot change the state.
                    let run = chunk[i..]
                        .iter()
                        .position(|&c| {
                            matches!(c, b'"' | b'\\' | b'{' | b'}' | b'[' | b']' | b',')
                                || c.is_ascii_whitespace()
                        })
                        .unwrap_or(chunk.len() - i);
                    if run > 0 && !self.escape {
                        self.take(&chunk[i..i + run])?;
                        i += run;
                        self.offset += run as u64;
                        continue;
                    }
                    self.element_byte(b, out)?;
                }
                Split::Start => match b {
                    b'[' => self.state = Split::FirstOrEnd,
                    b'\xEF' | b'\xBB' | b'\xBF' if self.offset < 3 => {} // a UTF-8 byte order mark
                    c if c.is_ascii_whitespace() => {}
                    c => {
                        return self.fail(format!(
                            "it starts with `{}` instead of `[`",
                            c.escape_ascii()
                        ))
                    }
                },
                Split::FirstOrEnd | Split::Value => match b {
                    c if c.is_ascii_whitespace() => {}
                    b']' if self.state == Split::FirstOrEnd => self.state = Split::Done,
                    b']' | b',' => {
                        return self.fail(format!("`{}` where a row was expected", b as char))
                    }
                    _ => {
                        self.state = Split::InElement;
                        self.scalar = !matches!(b, b'{' | b'[' | b'"');
                        self.element_byte(b, out)?;
                    }
                },
                Split::AfterElement => match b {
                    b',' => self.state = Split::Value,
                    b']' => self.state = Split::Done,
                    c if c.is_ascii_whitespace() => {}
                    c => {
                        return self.fail(format!(
                            "`{}` after a row, where `,` or `]` was expected",
                            c.escape_ascii()
                        ))
                    }
                },
                Split::Done => {
                    if !b.is_ascii_whitespace() {
                        return self.fail(format!("`{}` after the closing `]`", b.escape_ascii()));
                    }
                }
            }
            i += 1;
            self.offset += 1;
        }
        Ok(())
    }

    fn take(&mut self, bytes: &[u8]) -> Result<(), SplitError> {
        if self.element.len() + bytes.len() > self.max_element {
            return self.fail(format!("a row is larger than {} bytes", self.max_element));
        }
        self.element.extend_from_slice(bytes);
        Ok(())
    }

    /// One byte of an element (possibly its first, possibly the delimiter after a scalar).
    fn element_byte(&mut self, b: u8, out: &mut VecDeque<Vec<u8>>) -> Result<(), SplitError> {
        if self.in_string {
            self.take(&[b])?;
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.depth == 0 {
                    self.complete(out);
                }
            }
            return Ok(());
        }
        if self.scalar {
            if b == b',' || b == b']' || b.is_ascii_whitespace() {
                self.complete(out);
                // The delimiter belongs to the array.
                return match b {
                    b',' => {
                        self.state = Split::Value;
                        Ok(())
                    }
                    b']' => {
                        self.state = Split::Done;
                        Ok(())
                    }
                    _ => Ok(()),
                };
            }
            return self.take(&[b]);
        }
        self.take(&[b])?;
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    self.complete(out);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn complete(&mut self, out: &mut VecDeque<Vec<u8>>) {
        out.push_back(std::mem::take(&mut self.element));
        self.state = Split::AfterElement;
        self.scalar = false;
        self.depth = 0;
    }

    /// Checks the body ended after the closing `]`; a body that ends before it is truncated.
    pub(crate) fn finish(&mut self) -> Result<(), SplitError> {
        let message = match self.state {
            Split::Done => return Ok(()),
            Split::Start if self.offset == 0 => "the body is empty",
            _ => "the body ends before the closing `]`",
        };
        Err(SplitError {
            message: message.to_owned(),
            offset: self.offset,
            truncated: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_in_chunks(body: &[u8], size: usize) -> Result<Vec<String>, SplitError> {
        let mut splitter = ArraySplitter::new(1 << 20);
        let mut out = VecDeque::new();
        for chunk in body.chunks(size.max(1)) {
            splitter.push(chunk, &mut out)?;
        }
        splitter.finish()?;
        Ok(out
            .into_iter()
            .map(|v| String::from_utf8(v).unwrap())
            .collect())
    }

    const TRICKY: &str = r#" [ {"a": "]", "b": ",", "c": "\"", "d": "\\", "e": "\\\"]"},
        {"nested": [[1, 2], {"x": [3, "]]"]}], "u": "\u005d é 😀"} ,
        ["an", "array", ["row"]], "a string, with ] and \" inside", 12.5e3, -3, true, false, null,
        {}, [], "" ]
    "#;

    #[test]
    fn splits_tricky_elements_at_every_chunk_size() {
        let expected: Vec<serde_json::Value> = serde_json::from_str(TRICKY).unwrap();
        for size in 1..=TRICKY.len() {
            let parts = split_in_chunks(TRICKY.as_bytes(), size)
                .unwrap_or_else(|e| panic!("chunk size {size}: {e:?}"));
            let values: Vec<serde_json::Value> = parts
                .iter()
                .map(|p| {
                    serde_json::from_str(p)
                        .unwrap_or_else(|e| panic!("chunk size {size}: `{p}`: {e}"))
                })
                .collect();
            assert_eq!(values, expected, "chunk size {size}");
        }
    }

    #[test]
    fn splits_at_every_boundary_of_two_chunks() {
        let expected: Vec<serde_json::Value> = serde_json::from_str(TRICKY).unwrap();
        for cut in 0..=TRICKY.len() {
            let mut splitter = ArraySplitter::new(1 << 20);
            let mut out = VecDeque::new();
            splitter.push(&TRICKY.as_bytes()[..cut], &mut out).unwrap();
            splitter.push(&TRICKY.as_bytes()[cut..], &mut out).unwrap();
            splitter.finish().unwrap();
            let values: Vec<serde_json::Value> = out
                .iter()
                .map(|p| serde_json::from_slice(p).unwrap())
                .collect();
            assert_eq!(values, expected, "cut at {cut}");
        }
    }

    #[test]
    fn empty_arrays_and_whitespace() {
        assert_eq!(split_in_chunks(b"[]", 1).unwrap(), Vec::<String>::new());
        assert_eq!(
            split_in_chunks(b"\xEF\xBB\xBF \n[ \n ] \n", 1).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(split_in_chunks(b"[1]", 1).unwrap(), vec!["1"]);
        assert_eq!(split_in_chunks(b"[1 , 2]", 2).unwrap(), vec!["1", "2"]);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        for (body, wanted) in [
            (&b""[..], "empty"),
            (b"{\"a\": 1}", "instead of `[`"),
            (b"[{\"a\": 1}", "before the closing"),
            (b"[{\"a\": 1},]", "where a row was expected"),
            (b"[,1]", "where a row was expected"),
            (b"[1] x", "after the closing"),
            (b"[{} {}]", "after a row"),
            (b"[\"unterminated]", "before the closing"),
        ] {
            let e = split_in_chunks(body, 3).unwrap_err();
            assert!(
                e.message.contains(wanted),
                "{}: {e:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn rows_larger_than_the_limit_are_refused() {
        let mut splitter = ArraySplitter::new(10);
        let mut out = VecDeque::new();
        let e = splitter
            .push(br#"[{"a": "0123456789"}]"#, &mut out)
            .unwrap_err();
        assert!(e.message.contains("larger than 10 bytes"), "{e:?}");
    }

    #[test]
    fn decode_errors_name_the_row_and_the_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Person {
            email: String,
        }
        let e = decode_row::<Person>("i", 41, br#"{"email": 3}"#).unwrap_err();
        match &e {
            Error::RowMismatch { path, .. } => assert_eq!(path, "[41].email"),
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("[41].email"), "{e}");
        let e = decode_row::<Person>("i", 7, b"[1]").unwrap_err();
        assert!(
            matches!(&e, Error::RowMismatch { path, .. } if path == "[7][0]"),
            "{e:?}"
        );
        let e = decode_row::<Person>("i", 8, b"true").unwrap_err();
        assert!(
            matches!(&e, Error::RowMismatch { path, .. } if path == "[8]"),
            "{e:?}"
        );
    }

    /// Runs `rows` over `chunks` and collects every item.
    fn run_rows(chunks: Vec<Vec<u8>>) -> Vec<Result<serde_json::Value, Error>> {
        let bytes: ByteStream = Box::pin(futures_util::stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from(c))),
        ));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(rows::<serde_json::Value>("i".into(), bytes, None, None).collect())
    }

    #[test]
    fn rows_before_a_malformed_part_of_the_same_chunk_are_yielded() {
        let items = run_rows(vec![br#"[{"a":1},{"a":2}}, {"a":3}]"#.to_vec()]);
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0].as_ref().unwrap()["a"], 1);
        assert_eq!(items[1].as_ref().unwrap()["a"], 2);
        let e = items[2].as_ref().unwrap_err();
        assert!(
            !e.is_retryable(),
            "a malformed body is not a network fault: {e}"
        );
        assert!(e.to_string().contains("not a JSON array"), "{e}");
    }

    #[test]
    fn a_body_cut_without_content_length_is_retryable() {
        let items = run_rows(vec![br#"[{"a":1},{"a":2},{"a""#.to_vec()]);
        assert_eq!(items.len(), 3, "{items:?}");
        let e = items[2].as_ref().unwrap_err();
        assert!(e.is_retryable(), "{e}");
        assert!(e.to_string().contains("ended early"), "{e}");
        let items = run_rows(vec![]);
        assert!(items[0].as_ref().unwrap_err().is_retryable());
    }

    proptest::proptest! {
        // No failure files: the repository's top level is fixed; a failure prints its case,
        // which becomes a unit test of its own.
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::with_cases(300)
        })]

        /// A valid array cut anywhere yields exactly the rows complete before the cut, then a
        /// retryable error (none when the cut is after the `]`), whatever the chunking.
        #[test]
        fn cut_arrays_yield_the_complete_rows_then_a_retryable_error(
            n in 0usize..12,
            cut in 0usize..400,
            chunk in 1usize..40,
        ) {
            let rows: Vec<serde_json::Value> =
                (0..n).map(|i| serde_json::json!({"i": i, "s": "a,]\"}"})).collect();
            let body = serde_json::to_vec(&rows).unwrap();
            let cut = cut.min(body.len());
            let prefix = &body[..cut];
            let complete = (1..=n)
                .filter(|k| {
                    let mut upto = serde_json::to_vec(&rows[..*k]).unwrap();
                    upto.pop(); // its `]`
                    prefix.len() >= upto.len()
                })
                .count();
            let items = run_rows(prefix.chunks(chunk).map(<[u8]>::to_vec).collect());
            let oks = items.iter().take_while(|i| i.is_ok()).count();
            proptest::prop_assert_eq!(oks, complete);
            if cut == body.len() {
                proptest::prop_assert_eq!(items.len(), n);
            } else {
                proptest::prop_assert_eq!(items.len(), complete + 1);
                let e = items.last().unwrap().as_ref().unwrap_err();
                proptest::prop_assert!(e.is_retryable(), "{}", e);
            }
        }

        /// Any bytes: no panic, at most one error, and it comes last.
        #[test]
        fn any_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), chunk in 1usize..16) {
            let items = run_rows(body.chunks(chunk).map(<[u8]>::to_vec).collect());
            let errors = items.iter().filter(|i| i.is_err()).count();
            proptest::prop_assert!(errors <= 1);
            if errors == 1 {
                proptest::prop_assert!(items.last().unwrap().is_err());
            }
        }
    }
}
