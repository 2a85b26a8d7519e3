//! The bandwidth knob: paces transfers on the presigned URLs to a byte rate, so that a client
//! can be tried against a slow link.

use std::num::NonZeroU64;
use std::time::Duration;

use axum::body::Body;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

/// Keeps a transfer at or below `rate` bytes per second: after `n` bytes, [`Pace::wait_for`]
/// sleeps until `n / rate` seconds have passed since the start.
pub(crate) struct Pace {
    rate: NonZeroU64,
    start: Instant,
    bytes: u64,
}

impl Pace {
    pub(crate) fn new(rate: NonZeroU64) -> Pace {
        Pace {
            rate,
            start: Instant::now(),
            bytes: 0,
        }
    }

    /// Counts `n` more bytes and waits until the rate allows them.
    pub(crate) async fn wait_for(&mut self, n: u64) {
        self.bytes = self.bytes.saturating_add(n);
        let due = Duration::from_secs_f64(self.bytes as f64 / self.rate.get() as f64);
        if let Some(at) = self.start.checked_add(due) {
            tokio::time::sleep_until(at).await;
        }
    }

    /// A chunk size that keeps the pacing smooth: about a tenth of a second of data, between
    /// 1 byte and 64 KiB.
    pub(crate) fn chunk(&self) -> usize {
        usize::try_from(self.rate.get() / 10)
            .unwrap_or(usize::MAX)
            .clamp(1, 64 * 1024)
    }
}

/// A body that streams `reader`, at most `rate` bytes per second when a rate is given.
pub(crate) fn body<R>(reader: R, rate: Option<NonZeroU64>) -> Body
where
    R: AsyncRead + Send + Unpin + 'static,
{
    let Some(rate) = rate else {
        return Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    };
    let pace = Pace::new(rate);
    // The state is `None` once the reader failed: the error ends the stream.
    let stream = futures_util::stream::unfold(Some((reader, pace)), |state| async {
        let (mut reader, mut pace) = state?;
        let mut buffer = vec![0u8; pace.chunk()];
        match reader.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                pace.wait_for(n as u64).await;
                Some((Ok(bytes::Bytes::from(buffer)), Some((reader, pace))))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(stream)
}
