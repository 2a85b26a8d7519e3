//! Reading a webhook's body: at most `max` bytes, within a time limit. A body over the limit is
//! read on and discarded (up to [`MAX_DRAINED_BYTES`]) so that the client, still sending, reads
//! the 413 instead of a reset connection.

use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderMap;
use futures_util::StreamExt;
use std::time::Duration;

/// How much of a body over the limit is read and discarded before answering 413. Past this the
/// 413 is sent at once and the connection closed (the client may then see a reset).
pub(super) const MAX_DRAINED_BYTES: u64 = 16 * 1024 * 1024;

/// Why a body was not read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unread {
    /// Over the limit (413).
    TooLarge,
    /// Not all there within the time limit (408).
    TimedOut,
    /// The client broke off (nobody is left to answer).
    Broken,
}

/// Reads `body`, at most `max` bytes, all within `timeout`.
pub(super) async fn read(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    timeout: Duration,
) -> Result<Bytes, Unread> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let max_u64 = u64::try_from(max).unwrap_or(u64::MAX);
    if declared.is_some_and(|length| length > max_u64.saturating_add(MAX_DRAINED_BYTES)) {
        // Too big even to discard: refuse unread.
        return Err(Unread::TooLarge);
    }
    match tokio::time::timeout(timeout, read_within(body, max_u64)).await {
        Ok(result) => result,
        Err(_) => Err(Unread::TimedOut),
    }
}

async fn read_within(body: Body, max_u64: u64) -> Result<Bytes, Unread> {
    let mut stream = body.into_data_stream();
    let mut kept: Vec<u8> = Vec::new();
    let mut seen: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| Unread::Broken)?;
        seen = seen.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if seen > max_u64 {
            if seen > max_u64.saturating_add(MAX_DRAINED_BYTES) {
                return Err(Unread::TooLarge);
            }
            continue; // discarded: only the 413 is left to send
        }
        kept.extend_from_slice(&chunk);
    }
    if seen > max_u64 {
        return Err(Unread::TooLarge);
    }
    Ok(Bytes::from(kept))
}
