//! Talking to S3 through presigned URLs, for uploads and result downloads alike: S3's XML
//! errors, scrubbing a URL's own query out of S3's text, and the stall watchdog ("no byte moved
//! for N seconds") that replaces any timer over a whole body.

use crate::presigned::PresignedUrl;
use crate::scrub::MAX_MESSAGE_CHARS;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// The most bytes an operating system's socket buffers hold for one connection (send and
/// receive buffers at Linux's default maxima: 4 MiB + 6 MiB, rounded up).
const MAX_IN_FLIGHT: u64 = 12 * 1024 * 1024;
/// The slowest rate at which bytes out of sight, in socket buffers, are assumed to drain
/// before a silence after the whole body was handed over counts as a stall.
const DRAIN_FLOOR_RATE: u64 = 512 * 1024;

/// S3's XML error: `<Error><Code>…</Code><Message>…</Message>…</Error>`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct S3Error {
    pub code: Option<String>,
    pub message: Option<String>,
}

impl S3Error {
    /// Reads `<Code>` and `<Message>` from an S3 error body, tolerantly: anything else is ignored.
    pub(crate) fn parse(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        Self {
            code: xml_element(&text, "Code"),
            message: xml_element(&text, "Message"),
        }
    }

    /// Scrubs code and message of `url`'s query values and summarises them for a message
    /// (`S3 said AccessDenied: Request has expired`): `(code, said, expired)`.
    pub(crate) fn summary(&self, url: &PresignedUrl) -> (String, String, bool) {
        // First this URL's own query values, wherever they appear; then any other URL query
        // or credential, and the length bound every server text gets.
        let clean =
            |text: &str| crate::scrub::scrub(&scrub_query_values(text, url), MAX_MESSAGE_CHARS);
        let code = self.code.as_deref().map(clean);
        let message = self.message.as_deref().map(clean);
        let said = match (&code, &message) {
            (Some(c), Some(m)) => format!("S3 said {c}: {m}"),
            (Some(c), None) => format!("S3 said {c}"),
            (None, Some(m)) => format!("S3 said: {m}"),
            (None, None) => "no S3 error code".to_owned(),
        };
        let code = code.unwrap_or_default();
        let expired = message
            .as_deref()
            .is_some_and(|m| m.to_ascii_lowercase().contains("expired"))
            || matches!(code.as_str(), "ExpiredToken" | "TokenRefreshRequired");
        (code, said, expired)
    }
}

/// The unescaped text of the first `<name>…</name>` element, trimmed, if any and not empty.
fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&close)?;
    let value = text[start..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Removes every value of `url`'s query (the signature, the credential…) from `text`.
pub(crate) fn scrub_query_values(text: &str, url: &PresignedUrl) -> String {
    let mut out = text.to_owned();
    for (_, value) in url.as_url().query_pairs() {
        if value.len() >= 6 {
            out = out.replace(value.as_ref(), "<redacted>");
        }
    }
    if let Some(query) = url.as_url().query() {
        if !query.is_empty() {
            out = out.replace(query, "<redacted>");
        }
    }
    out.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The stall timeout if a clock can count it from now; `None` (no watchdog) for a timeout too
/// long to count, such as `Duration::MAX`.
pub(crate) fn countable(stall: Option<Duration>) -> Option<Duration> {
    stall.filter(|stall| Instant::now().checked_add(*stall).is_some())
}

/// Runs `future` until it completes, or until nothing moved on `watch` for `stall` (then
/// `None`); without a stall timeout, until it completes.
pub(crate) async fn with_watchdog<F: Future>(
    watch: &StallWatch,
    stall: Option<Duration>,
    future: F,
) -> Option<F::Output> {
    match countable(stall) {
        Some(stall) => tokio::select! {
            output = future => Some(output),
            () = watch.stalled(stall) => None,
        },
        None => Some(future.await),
    }
}

/// When the body last moved, and how far it got, for the stall watchdog.
pub(crate) struct StallWatch {
    start: Instant,
    last_nanos: AtomicU64,
    sent: AtomicU64,
    /// Extra silence allowed once the whole body was handed to the connection.
    grace_nanos: AtomicU64,
}

impl StallWatch {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_nanos: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            grace_nanos: AtomicU64::new(0),
        }
    }

    pub(crate) fn moved(&self, sent: u64) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_nanos.store(nanos, Ordering::Relaxed);
        self.sent.store(sent, Ordering::Relaxed);
    }

    /// The whole body of `len` bytes was handed to the connection. From here on the bytes move
    /// inside the operating system, out of sight: its socket buffers may still hold up to a
    /// few MiB, which a slow link drains for a while before the server can answer. So the
    /// silence allowed grows by the time those bytes take at [`DRAIN_FLOOR_RATE`].
    pub(crate) fn body_handed_over(&self, len: u64) {
        let in_flight = len.min(MAX_IN_FLIGHT);
        let grace = Duration::from_secs_f64(in_flight as f64 / DRAIN_FLOOR_RATE as f64);
        let nanos = u64::try_from(grace.as_nanos()).unwrap_or(u64::MAX);
        self.grace_nanos.store(nanos, Ordering::Relaxed);
        self.moved(len);
    }

    pub(crate) fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Completes once nothing moved for `stall` (never, when `stall` is too long to count).
    pub(crate) async fn stalled(&self, stall: Duration) {
        loop {
            let last = self.start.checked_add(Duration::from_nanos(
                self.last_nanos.load(Ordering::Relaxed),
            ));
            let grace = Duration::from_nanos(self.grace_nanos.load(Ordering::Relaxed));
            let Some(deadline) = last
                .and_then(|last| last.checked_add(stall))
                .and_then(|deadline| deadline.checked_add(grace))
            else {
                return std::future::pending().await;
            };
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_errors_are_read_tolerantly() {
        let body = br#"<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>1800</X-Amz-Expires></Error>"#;
        assert_eq!(
            S3Error::parse(body),
            S3Error {
                code: Some("AccessDenied".into()),
                message: Some("Request has expired".into())
            }
        );
        assert_eq!(S3Error::parse(b"<html>oops</html>"), S3Error::default());
        assert_eq!(
            S3Error::parse(b"<Error><Code>A&amp;B</Code>")
                .code
                .as_deref(),
            Some("A&B")
        );
        assert_eq!(S3Error::parse(b"<Error><Code> </Code></Error>").code, None);
    }

    #[test]
    fn scrub_removes_query_values() {
        let url = PresignedUrl::parse(
            "https://s3.example.com/k?X-Amz-Signature=deadbeef1234&X-Amz-Expires=1800",
        )
        .unwrap();
        let text = scrub_query_values(
            "we calculated deadbeef1234 and X-Amz-Signature=deadbeef1234&X-Amz-Expires=1800",
            &url,
        );
        assert!(!text.contains("deadbeef1234"), "{text}");
    }
}
