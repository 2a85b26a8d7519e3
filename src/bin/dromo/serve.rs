//! `dromo stand-in`: the stand-in as a long-lived local Dromo (API and S3) that any process can
//! use: other `dromo` commands, the example, curl, a Python or Node test suite.

use crate::exit::{self, Failure};
use dromo_client::stand_in::{StandIn, DEFAULT_API_KEY};
use std::net::IpAddr;

/// `dromo stand-in`.
#[derive(Debug, clap::Args)]
pub struct StandInArgs {
    /// The address to listen on (keep the loopback: the stand-in has no TLS and one fixed key).
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port to listen on (0: a free port, printed at start).
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    port: u16,
    /// The license key the stand-in accepts.
    #[arg(long, value_name = "KEY", default_value = DEFAULT_API_KEY)]
    key: String,
}

/// The shell line that points other programs at `server`.
fn export_line(server: &StandIn) -> String {
    format!(
        "export {}={} {}={}",
        dromo_client::BASE_URL_ENV,
        server.base_url(),
        dromo_client::API_KEY_ENV,
        server.api_key()
    )
}

/// Starts the stand-in, prints how to reach it, and serves until Ctrl-C (or SIGTERM).
pub async fn run(args: &StandInArgs, quiet: bool) -> Result<u8, Failure> {
    let server = StandIn::builder()
        .address((args.host, args.port))
        .api_key(args.key.clone())
        .start()
        .await
        .map_err(|e| Failure {
            message: format!(
                "cannot listen on {}:{}: {e} (give another --port, or 0 for a free one)",
                args.host, args.port
            ),
            code: exit::API_ERROR,
        })?;
    // stdout: the one line to run (or `eval`) in the shell of the programs under test.
    println!("{}", export_line(&server));
    if !quiet {
        eprintln!(
            "Dromo stand-in (API and presigned S3 URLs) serving at {}; it keeps its imports and \
             schemas until stopped (Ctrl-C). Run the line above in another shell, then any \
             `dromo` command or HTTP client talks to it.",
            server.base_url()
        );
    }
    stopped().await;
    if !quiet {
        eprintln!("stand-in stopped: its imports and schemas are gone");
    }
    server.shutdown().await;
    Ok(exit::OK)
}

/// Returns on Ctrl-C, or on SIGTERM where there is one (a service manager's stop).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    // Without a handler, ctrl_c fails at once: serve until killed rather than stop.
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
