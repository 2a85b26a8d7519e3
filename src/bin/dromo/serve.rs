//! `dromo stand-in`: the stand-in as a long-lived local Dromo (API and S3) that any process can
//! use: other `dromo` commands, the example, curl, a Python or Node test suite.

use crate::exit::{self, Failure};
use dromo_client::stand_in::{StandIn, DEFAULT_API_KEY};
use std::net::IpAddr;
use std::path::PathBuf;

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
    /// Keep the state (schemas, imports and their files) in DIR, so that a stand-in restarted on
    /// it carries on; without it, the state ends when the stand-in stops.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
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
    let mut builder = StandIn::builder()
        .address((args.host, args.port))
        .api_key(args.key.clone());
    if let Some(dir) = &args.state_dir {
        builder = builder.state_dir(dir);
    }
    let server = builder.start().await.map_err(|e| Failure {
        message: match &args.state_dir {
            Some(dir) if e.kind() != std::io::ErrorKind::AddrInUse => format!(
                "cannot start the stand-in with --state-dir {}: {e}",
                dir.display()
            ),
            _ => format!(
                "cannot listen on {}:{}: {e} (give another --port, or 0 for a free one)",
                args.host, args.port
            ),
        },
        code: exit::API_ERROR,
    })?;
    let kept = match &args.state_dir {
        Some(dir) => format!("keeps its imports and schemas in {}", dir.display()),
        None => "keeps its imports and schemas until stopped (Ctrl-C)".to_owned(),
    };
    // stdout: the one line to run (or `eval`) in the shell of the programs under test.
    println!("{}", export_line(&server));
    if !quiet {
        eprintln!(
            "Dromo stand-in (API and presigned S3 URLs) serving at {}; it {kept}. Run the line \
             above in another shell, then any `dromo` command or HTTP client talks to it; Ctrl-C \
             stops it.",
            server.base_url()
        );
    }
    stopped().await;
    if !quiet {
        match &args.state_dir {
            Some(dir) => eprintln!("stand-in stopped: its state is kept in {}", dir.display()),
            None => eprintln!("stand-in stopped: its imports and schemas are gone"),
        }
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
