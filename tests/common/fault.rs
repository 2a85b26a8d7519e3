//! A fault-injecting HTTP/1.1 server on 127.0.0.1 for the tests: it answers with exactly the
//! bytes, pace, stalls, cuts and resets a test asks for, and records what it received.
//!
//! HTTP/1.1 is written by hand over `tokio::net::TcpListener` (a framework would hide the
//! bytes, resets and timing these tests are about).
//!
//! # Use
//!
//! ```ignore
//! let server = FaultServer::start(|req: &Request| match req.index {
//!     0 => Reply::too_many("2"),                        // first request: 429, Retry-After: 2
//!     1 => Reply::new(200).read_rate(512 * 1024),       // then read the body at 512 KiB/s
//!     _ => Reply::json(200, json!({"ok": true})).cut_after(3),
//! });
//! let url = server.url("/upload?sig=x");
//! // ... drive the client ...
//! let seen = server.requests();
//! assert_eq!(seen[1].body.len(), 1 << 20);
//! assert!(seen[1].body_complete);
//! ```
//!
//! - The handler is called once per request with the request *head* ([`Request`]: method,
//!   target, headers, 0-based index over the whole server, the server's base URL). Its
//!   [`Reply`] says both how to read the request body (pace, stall, reset, or not at all) and
//!   how to answer (delay, status, headers, body, pace, stall, cut, close). The body the
//!   server received is in [`FaultServer::requests`] ([`Recorded`]), filled as it arrives.
//! - Request bodies framed by `Content-Length` or `Transfer-Encoding: chunked` are read;
//!   the recorded body is the decoded payload.
//! - Keep-alive: a connection serves request after request (reqwest pools connections) as long
//!   as each answer is complete and framed by `Content-Length`. A reply that cuts, resets,
//!   skips the body, is close-delimited or asks [`Reply::close`] ends its connection
//!   (`Connection: close` is sent whenever the server will close after a complete answer).
//! - The listener's socket buffers are small (64 KiB asked of the kernel), so a throttled or
//!   stalled read soon stops the client's writes, as on a slow link.
//! - Dropping the [`FaultServer`] stops it and every connection.
//! - [`Flaky`] wraps a handler to fail a deterministic share of requests (soaks).

#![allow(dead_code)] // Each test target uses a different part of this module.

use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// The size asked of the kernel for each socket buffer of the server.
const SOCKET_BUFFER: u32 = 64 * 1024;
/// The largest single read or write, unthrottled.
const MAX_CHUNK: usize = 64 * 1024;
/// A request head larger than this is refused (the connection is closed).
const MAX_HEAD: usize = 1024 * 1024;
/// How long a connection that skipped a request body drains it after answering.
const LINGER: Duration = Duration::from_secs(2);

type Handler = Arc<dyn Fn(&Request) -> Reply + Send + Sync + 'static>;

/// The head of a request, as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// 0-based count of this request among all the server's requests.
    pub index: usize,
    /// 0-based count of the connection it came on (same value: the connection was reused).
    pub connection: usize,
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query, as sent: `/headless/imports/?x=1`.
    pub target: String,
    /// Header names and values, as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The server's base URL (`http://127.0.0.1:PORT`), to build URLs pointing back to it.
    pub base_url: String,
}

impl Request {
    /// The first value of a header (name compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// What the server received for one request (see [`FaultServer::requests`]).
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Same as [`Request::index`].
    pub index: usize,
    /// Same as [`Request::connection`].
    pub connection: usize,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The decoded body bytes actually received so far.
    pub body: Vec<u8>,
    /// True once the whole body, as framed by the request, was received.
    pub body_complete: bool,
    /// When the request head had been read.
    pub started: Instant,
    /// When the server stopped reading the body (complete, reset, or the client went away).
    pub ended: Option<Instant>,
}

impl Recorded {
    /// The first value of a header (name compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// How long reading the body took (`None` while still reading).
    pub fn duration(&self) -> Option<Duration> {
        self.ended.map(|end| end - self.started)
    }
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// How to read the request body and answer; built with [`Reply::new`] and the knobs below.
///
/// Without knobs: read the whole body at full speed, answer at once with the status, the
/// headers, `Content-Length` and the body, and keep the connection open.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    read_rate: Option<u64>,
    write_rate: Option<u64>,
    stall_read: Option<(usize, Duration)>,
    stall_write: Option<(usize, Duration)>,
    delay: Duration,
    cut_after: Option<usize>,
    content_length: bool,
    close: bool,
    skip_body: bool,
    reset_after_body: bool,
    reset_after: Option<usize>,
}

impl Reply {
    /// An answer with this status, no headers and an empty body.
    pub fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            read_rate: None,
            write_rate: None,
            stall_read: None,
            stall_write: None,
            delay: Duration::ZERO,
            cut_after: None,
            content_length: true,
            close: false,
            skip_body: false,
            reset_after_body: false,
            reset_after: None,
        }
    }

    /// `status` with a JSON body and `Content-Type: application/json`.
    pub fn json(status: u16, value: Value) -> Self {
        Reply::new(status)
            .header("Content-Type", "application/json")
            .body(value.to_string())
    }

    /// A 502 HTML error page of exactly `size` bytes, as a proxy or load balancer sends.
    pub fn html_502(size: usize) -> Self {
        let head = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p>\n";
        let tail = "</body></html>\n";
        let padding = " ".repeat(size.saturating_sub(head.len() + tail.len()));
        let mut page = format!("{head}{padding}{tail}").into_bytes();
        page.truncate(size);
        Reply::new(502)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(page)
    }

    /// A JSON error `{"detail": "xxxx…"}` of exactly `n_bytes` bytes (at least 14).
    pub fn huge_json_error(status: u16, n_bytes: usize) -> Self {
        let frame = r#"{"detail": ""}"#.len();
        let detail = "x".repeat(n_bytes.saturating_sub(frame));
        let body = format!(r#"{{"detail": "{detail}"}}"#);
        Reply::new(status)
            .header("Content-Type", "application/json")
            .body(body)
    }

    /// 429 with `Retry-After: <retry_after>` verbatim (seconds, an HTTP date, or nonsense).
    pub fn too_many(retry_after: &str) -> Self {
        Reply::json(429, serde_json::json!({"detail": "Request was throttled."}))
            .header("Retry-After", retry_after)
    }

    /// Adds a header, verbatim (any name, any value, any number of times). A `Content-Length`
    /// given here replaces the one the server would add (it may lie).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The response body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Reads the request body at most at this pace (bytes per second).
    pub fn read_rate(mut self, bytes_per_sec: u64) -> Self {
        self.read_rate = Some(bytes_per_sec.max(1));
        self
    }

    /// Writes the response body at most at this pace (bytes per second).
    pub fn write_rate(mut self, bytes_per_sec: u64) -> Self {
        self.write_rate = Some(bytes_per_sec.max(1));
        self
    }

    /// Stops reading the request body for `duration` once `n_bytes` of it were received.
    pub fn stall_read_after(mut self, n_bytes: usize, duration: Duration) -> Self {
        self.stall_read = Some((n_bytes, duration));
        self
    }

    /// Stops writing the response body for `duration` once `n_bytes` of it were sent.
    pub fn stall_write_after(mut self, n_bytes: usize, duration: Duration) -> Self {
        self.stall_write = Some((n_bytes, duration));
        self
    }

    /// Waits this long (after reading the request body) before sending the status line.
    pub fn delay(mut self, duration: Duration) -> Self {
        self.delay = duration;
        self
    }

    /// Sends the head (with the full body's `Content-Length`, unless
    /// [`without_content_length`](Self::without_content_length)), then only `n_bytes` of the
    /// body, then closes the connection.
    pub fn cut_after(mut self, n_bytes: usize) -> Self {
        self.cut_after = Some(n_bytes);
        self
    }

    /// Sends no `Content-Length`: the body ends when the server closes the connection.
    pub fn without_content_length(mut self) -> Self {
        self.content_length = false;
        self
    }

    /// Sends `Connection: close` and closes the connection after the answer.
    pub fn close(mut self) -> Self {
        self.close = true;
        self
    }

    /// Answers without reading the request body, then closes the connection (as a server
    /// that refuses an upload early does; the client may see its write fail).
    pub fn skip_body(mut self) -> Self {
        self.skip_body = true;
        self
    }

    /// Reads the whole request body, then resets the connection (TCP RST) without answering.
    pub fn reset_after_body(mut self) -> Self {
        self.reset_after_body = true;
        self
    }

    /// Resets the connection (TCP RST) without answering once `n_bytes_read` of the request
    /// body were received (0: right after the head).
    pub fn reset_after(mut self, n_bytes_read: usize) -> Self {
        self.reset_after = Some(n_bytes_read);
        self
    }

    fn body_len(&self) -> usize {
        self.body.len()
    }
}

/// A running fault server; dropping it stops the server and all its connections.
pub struct FaultServer {
    base_url: String,
    records: Arc<Mutex<Vec<Recorded>>>,
    accept: JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        // The accept task owns the connection tasks (a JoinSet): aborting it ends them all.
        self.accept.abort();
    }
}

impl FaultServer {
    /// Starts a server on 127.0.0.1 (a free port) answering with `handler`. Must be called
    /// inside a Tokio runtime; the server's tasks run on it.
    pub fn start<H>(handler: H) -> FaultServer
    where
        H: Fn(&Request) -> Reply + Send + Sync + 'static,
    {
        let socket = TcpSocket::new_v4().expect("create a TCP socket");
        // Small buffers: a throttled reader soon blocks the client's writes.
        socket.set_recv_buffer_size(SOCKET_BUFFER).ok();
        socket.set_send_buffer_size(SOCKET_BUFFER).ok();
        socket.set_reuseaddr(true).ok();
        socket
            .bind(([127, 0, 0, 1], 0).into())
            .expect("bind 127.0.0.1:0");
        let listener = socket.listen(128).expect("listen on 127.0.0.1");
        let addr = listener.local_addr().expect("the listener's address");
        let base_url = format!("http://{addr}");
        let records = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            handler: Arc::new(handler),
            records: records.clone(),
            base_url: base_url.clone(),
        };
        let accept = tokio::spawn(accept_loop(listener, shared));
        FaultServer {
            base_url,
            records,
            accept,
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The base URL followed by `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Every request received so far, in arrival order (bodies as received so far).
    pub fn requests(&self) -> Vec<Recorded> {
        self.records.lock().unwrap().clone()
    }
}

#[derive(Clone)]
struct Shared {
    handler: Handler,
    records: Arc<Mutex<Vec<Recorded>>>,
    base_url: String,
}

async fn accept_loop(listener: TcpListener, shared: Shared) {
    let mut connections = JoinSet::new();
    let mut next_connection = 0;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                stream.set_nodelay(true).ok();
                let id = next_connection;
                next_connection += 1;
                connections.spawn(serve_connection(stream, id, shared.clone()));
            }
            // Reap finished connections so the set does not grow without end.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Waits so that `done` bytes take at least `done / rate` seconds since `since`.
async fn pace(rate: Option<u64>, since: Instant, done: usize) {
    if let Some(rate) = rate {
        let due = since + Duration::from_secs_f64(done as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
    }
}

/// The size of one read or write at `rate` bytes per second (about 50 per second).
fn chunk_for(rate: Option<u64>) -> usize {
    match rate {
        Some(rate) => ((rate / 50) as usize).clamp(1, MAX_CHUNK),
        None => MAX_CHUNK,
    }
}

/// What ended the reading of a request body.
enum BodyEnd {
    Complete,
    /// The reply asked to reset the connection now.
    Reset,
    /// The client closed or broke the connection.
    Gone,
}

struct Connection {
    stream: TcpStream,
    /// Bytes read from the socket and not yet consumed.
    buf: Vec<u8>,
}

impl Connection {
    /// Reads more bytes (at most `max`) into `buf`; false at end of stream or on error.
    async fn fill(&mut self, max: usize) -> bool {
        let mut chunk = vec![0u8; max.max(1)];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Reads a request head; `None` when the connection ends first (or the head is absurd).
    async fn read_head(&mut self) -> Option<(String, String, Vec<(String, String)>)> {
        let end = loop {
            if let Some(pos) = find(&self.buf, b"\r\n\r\n") {
                break pos;
            }
            if self.buf.len() > MAX_HEAD || !self.fill(MAX_CHUNK).await {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next()?.split(' ');
        let method = request_line.next()?.to_owned();
        let target = request_line.next()?.to_owned();
        let headers = lines
            .filter_map(|line| {
                let (name, value) = line.split_once(':')?;
                Some((name.trim().to_owned(), value.trim().to_owned()))
            })
            .collect();
        Some((method, target, headers))
    }

    /// Reads a CRLF-terminated line (of a chunked body), without the CRLF.
    async fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(pos) = find(&self.buf, b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..pos]).into_owned();
                self.buf.drain(..pos + 2);
                return Some(line);
            }
            if self.buf.len() > MAX_HEAD || !self.fill(MAX_CHUNK).await {
                return None;
            }
        }
    }

    /// Takes up to `max` (≥ 1) bytes: buffered ones first, else one socket read.
    async fn take(&mut self, max: usize) -> Option<Vec<u8>> {
        if self.buf.is_empty() && !self.fill(max).await {
            return None;
        }
        let n = max.min(self.buf.len());
        Some(self.buf.drain(..n).collect())
    }

    fn reset(self) {
        // SO_LINGER 0: closing sends RST at once (and does not block).
        self.stream.set_zero_linger().ok();
        drop(self.stream);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// How the request body is framed.
enum Framing {
    Length(usize),
    Chunked,
}

/// Reads the body per the reply's read knobs, recording it as it arrives.
struct BodyReader<'a> {
    reply: &'a Reply,
    records: &'a Mutex<Vec<Recorded>>,
    slot: usize,
    received: usize,
    started: Instant,
    stalled: bool,
}

impl BodyReader<'_> {
    /// The most to take next so that the stall and reset thresholds fall on exact bytes.
    fn limit(&self, want: usize) -> usize {
        let mut limit = want.min(chunk_for(self.reply.read_rate));
        for threshold in [
            self.reply.reset_after,
            self.reply.stall_read.filter(|_| !self.stalled).map(|s| s.0),
        ]
        .into_iter()
        .flatten()
        {
            if threshold > self.received {
                limit = limit.min(threshold - self.received);
            }
        }
        limit.max(1)
    }

    /// Runs the thresholds reached at the current count; true when the reply resets now.
    async fn at_threshold(&mut self) -> bool {
        if let Some((n, duration)) = self.reply.stall_read {
            if !self.stalled && self.received >= n {
                self.stalled = true;
                tokio::time::sleep(duration).await;
                // The pace restarts after a stall (the stall is not made up for).
                self.started = Instant::now() - rate_time(self.reply.read_rate, self.received);
            }
        }
        self.reply.reset_after.is_some_and(|n| self.received >= n)
    }

    fn record(&self, bytes: &[u8]) {
        let mut records = self.records.lock().unwrap();
        records[self.slot].body.extend_from_slice(bytes);
    }

    /// Reads `len` data bytes; `Err` with the end when the body stops before that.
    async fn data(&mut self, conn: &mut Connection, len: usize) -> Result<(), BodyEnd> {
        let mut left = len;
        while left > 0 {
            let limit = self.limit(left);
            let Some(bytes) = conn.take(limit).await else {
                return Err(BodyEnd::Gone);
            };
            self.received += bytes.len();
            left -= bytes.len();
            self.record(&bytes);
            if self.at_threshold().await {
                return Err(BodyEnd::Reset);
            }
            pace(self.reply.read_rate, self.started, self.received).await;
        }
        Ok(())
    }

    async fn read(&mut self, conn: &mut Connection, framing: Framing) -> BodyEnd {
        if self.at_threshold().await {
            return BodyEnd::Reset;
        }
        let result = match framing {
            Framing::Length(len) => self.data(conn, len).await,
            Framing::Chunked => self.chunked(conn).await,
        };
        match result {
            Ok(()) => BodyEnd::Complete,
            Err(end) => end,
        }
    }

    async fn chunked(&mut self, conn: &mut Connection) -> Result<(), BodyEnd> {
        loop {
            let line = conn.read_line().await.ok_or(BodyEnd::Gone)?;
            let size = line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size, 16).map_err(|_| BodyEnd::Gone)?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !conn.read_line().await.ok_or(BodyEnd::Gone)?.is_empty() {}
                return Ok(());
            }
            self.data(conn, size).await?;
            conn.read_line().await.ok_or(BodyEnd::Gone)?;
        }
    }
}

fn rate_time(rate: Option<u64>, bytes: usize) -> Duration {
    rate.map_or(Duration::ZERO, |rate| {
        Duration::from_secs_f64(bytes as f64 / rate as f64)
    })
}

async fn serve_connection(stream: TcpStream, connection: usize, shared: Shared) {
    let mut conn = Connection {
        stream,
        buf: Vec::new(),
    };
    loop {
        let Some((method, target, headers)) = conn.read_head().await else {
            return;
        };
        let started = Instant::now();
        let slot = {
            let mut records = shared.records.lock().unwrap();
            let index = records.len();
            records.push(Recorded {
                index,
                connection,
                method: method.clone(),
                target: target.clone(),
                headers: headers.clone(),
                body: Vec::new(),
                body_complete: false,
                started,
                ended: None,
            });
            records.len() - 1
        };
        let request = Request {
            index: slot,
            connection,
            method,
            target,
            headers,
            base_url: shared.base_url.clone(),
        };
        let reply = (shared.handler)(&request);

        let chunked = request
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        let framing = if chunked {
            Framing::Chunked
        } else {
            Framing::Length(
                request
                    .header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            )
        };
        let end = if reply.skip_body {
            BodyEnd::Gone
        } else {
            let mut reader = BodyReader {
                reply: &reply,
                records: &shared.records,
                slot,
                received: 0,
                started,
                stalled: false,
            };
            reader.read(&mut conn, framing).await
        };
        {
            let mut records = shared.records.lock().unwrap();
            let record = &mut records[slot];
            record.ended = Some(Instant::now());
            record.body_complete = matches!(end, BodyEnd::Complete);
        }
        match end {
            BodyEnd::Reset => return conn.reset(),
            BodyEnd::Gone if !reply.skip_body => return,
            BodyEnd::Complete if reply.reset_after_body => return conn.reset(),
            _ => {}
        }
        let keep_alive = matches!(end, BodyEnd::Complete)
            && !reply.close
            && reply.cut_after.is_none()
            && reply.content_length
            && !request
                .header("connection")
                .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if write_reply(&mut conn.stream, &request, &reply, keep_alive)
            .await
            .is_err()
            || !keep_alive
        {
            conn.stream.shutdown().await.ok();
            if reply.skip_body {
                // Lingering close (as web servers do): closing with unread bytes would send an
                // RST that can destroy the answer before the client reads it.
                let drain = async {
                    while conn.fill(MAX_CHUNK).await {
                        conn.buf.clear()
                    }
                };
                tokio::time::timeout(LINGER, drain).await.ok();
            }
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

async fn write_reply(
    stream: &mut TcpStream,
    request: &Request,
    reply: &Reply,
    keep_alive: bool,
) -> std::io::Result<()> {
    tokio::time::sleep(reply.delay).await;
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let bodiless_status = reply.status < 200 || reply.status == 204 || reply.status == 304;
    let has_length = header_value(&reply.headers, "content-length").is_some();
    if reply.content_length && !has_length && !bodiless_status {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body_len()));
    }
    if !keep_alive && header_value(&reply.headers, "connection").is_none() {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;

    if request.method.eq_ignore_ascii_case("HEAD") || bodiless_status {
        return stream.flush().await;
    }
    let total = reply
        .cut_after
        .map_or(reply.body.len(), |n| n.min(reply.body.len()));
    let mut sent = 0;
    let mut since = Instant::now();
    let mut stalled = false;
    while sent < total {
        let mut n = chunk_for(reply.write_rate).min(total - sent);
        if let Some((at, _)) = reply.stall_write.filter(|_| !stalled) {
            if at > sent {
                n = n.min(at - sent);
            }
        }
        stream.write_all(&reply.body[sent..sent + n]).await?;
        sent += n;
        if let Some((at, duration)) = reply.stall_write.filter(|_| !stalled) {
            if sent >= at {
                stalled = true;
                stream.flush().await?;
                tokio::time::sleep(duration).await;
                since = Instant::now() - rate_time(reply.write_rate, sent);
            }
        }
        pace(reply.write_rate, since, sent).await;
    }
    stream.flush().await
}

/// A fault [`Flaky`] injects in place of the real answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 503 with `Retry-After: 0` and a JSON body.
    Unavailable,
    /// A 502 HTML page of 2 KiB, as a proxy sends.
    BadGateway,
    /// Reset (RST) right after the request head, before reading the body.
    ResetBeforeBody,
    /// Reset after reading the whole request body, without answering.
    ResetAfterBody,
    /// The real answer, cut after half its body (the connection closes).
    CutResponse,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 5] = [
        Fault::Unavailable,
        Fault::BadGateway,
        Fault::ResetBeforeBody,
        Fault::ResetAfterBody,
        Fault::CutResponse,
    ];
}

/// Fails a share of requests with faults, deterministically: whether request `index` fails,
/// and how, depends only on the seed and the index (a run is reproducible whatever the
/// timing). Share it with the handler through an `Arc` to read what it injected.
///
/// ```ignore
/// let flaky = Arc::new(Flaky::new(7, 0.3).faults(&[Fault::Unavailable, Fault::ResetAfterBody]));
/// let server = FaultServer::start(flaky.wrap(|_req: &Request| Reply::new(200)));
/// // ... later: flaky.injected() lists (request index, fault).
/// ```
pub struct Flaky {
    seed: u64,
    probability: f64,
    faults: Vec<Fault>,
    injected: Mutex<Vec<(usize, Fault)>>,
}

impl Flaky {
    /// Fails each request with probability `probability` (0.0..=1.0), with any [`Fault`].
    pub fn new(seed: u64, probability: f64) -> Flaky {
        Flaky {
            seed,
            probability,
            faults: Fault::ALL.to_vec(),
            injected: Mutex::new(Vec::new()),
        }
    }

    /// Injects only these faults (chosen evenly).
    pub fn faults(mut self, faults: &[Fault]) -> Flaky {
        assert!(!faults.is_empty(), "Flaky needs at least one fault");
        self.faults = faults.to_vec();
        self
    }

    /// The fault for request `index`, if it fails.
    pub fn fault_for(&self, index: usize) -> Option<Fault> {
        let draw = splitmix64(self.seed ^ splitmix64(index as u64));
        // The top 53 bits as a number in [0, 1).
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        (unit < self.probability)
            .then(|| self.faults[(splitmix64(draw) % self.faults.len() as u64) as usize])
    }

    /// A handler that injects this `Flaky`'s faults and otherwise answers with `inner`.
    pub fn wrap<H>(self: &Arc<Self>, inner: H) -> impl Fn(&Request) -> Reply + Send + Sync + 'static
    where
        H: Fn(&Request) -> Reply + Send + Sync + 'static,
    {
        let flaky = self.clone();
        move |req: &Request| {
            let Some(fault) = flaky.fault_for(req.index) else {
                return inner(req);
            };
            flaky.injected.lock().unwrap().push((req.index, fault));
            match fault {
                Fault::Unavailable => {
                    Reply::json(503, serde_json::json!({"detail": "Service unavailable."}))
                        .header("Retry-After", "0")
                }
                Fault::BadGateway => Reply::html_502(2048),
                Fault::ResetBeforeBody => Reply::new(200).reset_after(0),
                Fault::ResetAfterBody => Reply::new(200).reset_after_body(),
                Fault::CutResponse => {
                    let reply = inner(req);
                    let half = reply.body_len() / 2;
                    reply.cut_after(half)
                }
            }
        }
    }

    /// The faults injected so far: (request index, fault), in the order they were decided.
    pub fn injected(&self) -> Vec<(usize, Fault)> {
        self.injected.lock().unwrap().clone()
    }
}

/// SplitMix64: a fixed, well-mixed function of its input (no RNG state to share).
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
