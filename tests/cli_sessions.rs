//! `dromo api create-session | resume-session | delete-session`: the Sessions API's generated
//! commands, run as processes against the stand-in (the sessions base URL derived from
//! `DROMO_BASE_URL`), listed by `dromo api --help`, with the crate's one-line errors.
#![cfg(feature = "cli")]

use dromo_client::stand_in::StandIn;
use serde_json::Value;
use std::process::{Command, Output};

/// The binary's exit code for an error from Dromo or the network.
const API_ERROR: i32 = 6;

/// Runs `dromo ARGS` against the stand-in (blocking, on a thread of its own).
async fn dromo(server: &StandIn, args: &[&str]) -> Output {
    let (url, key) = (server.base_url(), server.api_key().to_owned());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_dromo"))
            .args(&args)
            .env("DROMO_BASE_URL", url)
            .env("DROMO_API_KEY", key)
            .output()
            .expect("run dromo")
    })
    .await
    .expect("join")
}

fn stdout_json(output: &Output) -> Value {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e})"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_session_commands_run_against_the_stand_in() {
    let server = StandIn::start().await.unwrap();

    let help = dromo(&server, &["api", "--help"]).await;
    let listing = String::from_utf8_lossy(&help.stdout);
    for command in ["create-session", "resume-session", "delete-session"] {
        assert!(
            listing.contains(command),
            "{command} missing from:\n{listing}"
        );
    }
    assert!(listing.contains("create-headless-import"), "{listing}");

    // The command prints the response: the token is its output, asked for explicitly.
    let created = stdout_json(
        &dromo(
            &server,
            &[
                "api",
                "create-session",
                "--import-identifier",
                "contacts",
                "--expires-in",
                "120",
            ],
        )
        .await,
    );
    assert_eq!(created["expiresIn"], 120);
    let id = created["sessionId"]
        .as_str()
        .expect("a sessionId")
        .to_owned();
    let token = created["hydrationId"]
        .as_str()
        .expect("a hydrationId")
        .to_owned();
    assert_eq!(server.widget_status(&token), 200);

    let resumed =
        stdout_json(&dromo(&server, &["api", "resume-session", "--session-id", &id]).await);
    assert_eq!(resumed["expiresIn"], 21600);

    let deleted =
        stdout_json(&dromo(&server, &["api", "delete-session", "--session-id", &id]).await);
    assert_eq!(deleted["success"], true);
    assert_eq!(server.widget_status(&token), 403);

    let gone = dromo(&server, &["api", "resume-session", "--session-id", &id]).await;
    assert_eq!(gone.status.code(), Some(API_ERROR));
    let stderr = String::from_utf8_lossy(&gone.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: session {id} is gone or expired (>7 days since its last save)"
        )),
        "{stderr}"
    );
}
