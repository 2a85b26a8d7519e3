//! Serving the receiver with a header read timeout: hyper's HTTP/1 server, so that a client
//! trickling its headers (or connecting and saying nothing) is cut off. The receiver itself cuts
//! off a body that does not arrive within its body timeout.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long a client may take to send a request's headers by default (also how long an idle
/// connection is kept between requests).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Settings of [`serve`].
///
/// ```
/// use dromo_client::webhooks::ServeOptions;
/// use std::time::Duration;
///
/// let options = ServeOptions::default().with_header_read_timeout(Duration::from_secs(5));
/// assert_eq!(options.header_read_timeout(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct ServeOptions {
    header_read_timeout: Duration,
}

impl Default for ServeOptions {
    /// Headers within [`DEFAULT_HEADER_READ_TIMEOUT`] (10 s).
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

impl ServeOptions {
    /// How long a client may take to send a request's headers, counted from when the server
    /// starts waiting for them (a new connection, or the end of the previous request); past it
    /// the connection is closed. Default [`DEFAULT_HEADER_READ_TIMEOUT`]; at least 1 ms.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a client may take to send a request's headers.
    pub fn header_read_timeout(&self) -> Duration {
        self.header_read_timeout
    }
}

/// Serves `app` (your router, with the [`receiver`](super::receiver) nested in it) on
/// `listener` over HTTP/1.1, closing any connection whose request headers take longer than the
/// header read timeout. The receiver cuts off slow bodies itself
/// ([`ReceiverOptions::with_body_timeout`](super::ReceiverOptions::with_body_timeout)). Runs
/// until the task is dropped; errors accepting a connection (such as too many open files) are
/// logged and the loop goes on.
///
/// Use it instead of `axum::serve`, which reads headers for as long as a client cares to send
/// them.
///
/// ```no_run
/// # async fn run(client: dromo_client::Client) -> std::io::Result<()> {
/// use dromo_client::webhooks::{receiver, serve, ServeOptions};
///
/// let (sink, mut confirmed) = tokio::sync::mpsc::channel(100);
/// let app = axum::Router::new().nest_service("/dromo/webhook", receiver(client, sink));
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// tokio::spawn(serve(listener, app, ServeOptions::default()));
/// while let Some(event) = confirmed.recv().await {
///     println!("import {} is {} (confirmed)", event.import_id(), event.status());
/// }
/// # Ok(()) }
/// ```
pub async fn serve(listener: TcpListener, app: Router, options: ServeOptions) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Such as EMFILE: wait a moment rather than spin.
                tracing::warn!(%error, "webhook server: accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "webhook server: connection closed");
            }
        });
    }
}
