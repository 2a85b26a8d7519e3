//! `dromo stand-in` as a long-lived server used from outside the crate: separate `dromo`
//! processes share its state, and plain HTTP (curl) drives a whole import through it.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SAMPLE: &str = "tests/data/sample.csv";
const SCHEMA: &str = "tests/data/schema.json";

/// A `dromo stand-in` process, stopped (SIGTERM) when dropped.
pub struct Server {
    child: Child,
    base_url: String,
    key: String,
}

impl Server {
    /// Starts `dromo stand-in ARGS` and reads the export line it prints first.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dromo"))
            .arg("stand-in")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run dromo stand-in");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the export line");
        let (base_url, key) = parse_export(&line);
        Server {
            child,
            base_url,
            key,
        }
    }

    /// Runs `dromo ARGS` against this server, in its own process.
    pub fn dromo(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_dromo"))
            .args(args)
            .env("DROMO_BASE_URL", &self.base_url)
            .env("DROMO_API_KEY", &self.key)
            .output()
            .expect("run dromo")
    }

    /// Stops it as a service manager would (SIGTERM) and returns its exit status and stderr.
    pub fn stop(mut self) -> (Option<i32>, String) {
        terminate(&self.child);
        let status = wait_at_most(&mut self.child, Duration::from_secs(10));
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            use std::io::Read;
            let _ = err.read_to_string(&mut stderr);
        }
        (status, stderr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

fn wait_at_most(child: &mut Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("dromo stand-in did not stop within {limit:?} of SIGTERM");
}

/// `export DROMO_BASE_URL=URL DROMO_API_KEY=KEY` → (URL, KEY).
pub fn parse_export(line: &str) -> (String, String) {
    let rest = line
        .trim()
        .strip_prefix("export ")
        .unwrap_or_else(|| panic!("not an export line: {line:?}"));
    let mut url = None;
    let mut key = None;
    for pair in rest.split_whitespace() {
        match pair.split_once('=') {
            Some(("DROMO_BASE_URL", value)) => url = Some(value.to_owned()),
            Some(("DROMO_API_KEY", value)) => key = Some(value.to_owned()),
            _ => panic!("unexpected part {pair:?} in {line:?}"),
        }
    }
    (
        url.expect("DROMO_BASE_URL exported"),
        key.expect("DROMO_API_KEY exported"),
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: &Output, what: &str) -> String {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{what}: stdout {} stderr {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

#[test]
fn separate_processes_share_its_state() {
    let server = Server::start(&[]);
    assert!(
        server.base_url.starts_with("http://127.0.0.1:"),
        "{}",
        server.base_url
    );
    assert!(server.base_url.ends_with("/api/v1"), "{}", server.base_url);

    let id = ok(
        &server.dromo(&["import", SAMPLE, "--schema", SCHEMA, "--no-wait"]),
        "import --no-wait",
    );
    let id = id.trim();
    assert_eq!(id.len(), 36, "an id: {id:?}");

    let waited = ok(&server.dromo(&["wait", id]), "wait");
    assert!(waited.contains("succeeded"), "{waited}");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.csv");
    let out_arg = out.to_str().unwrap();
    ok(&server.dromo(&["results", id, "--out", out_arg]), "results");
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    // The schema file's order, not alphabetical.
    assert_eq!(
        lines.next(),
        Some("first_name,last_name,email,company,notes")
    );
    assert_eq!(lines.count(), 50);

    ok(&server.dromo(&["schema", "push", SCHEMA]), "schema push");
    let pulled = ok(&server.dromo(&["schema", "pull", "people"]), "schema pull");
    let pulled: serde_json::Value = serde_json::from_str(&pulled).unwrap();
    assert_eq!(pulled["name"], "people");
    assert_eq!(pulled["fields"][2]["key"], "email");

    let listed = ok(&server.dromo(&["imports", "list"]), "imports list");
    assert!(listed.contains(id), "{listed}");
    assert!(listed.contains("SUCCESSFUL"), "{listed}");

    let (status, stderr) = server.stop();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("stand-in stopped"), "{stderr}");
}

#[test]
fn a_fixed_port_and_key_are_used() {
    // A port that was free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server::start(&["--port", &port.to_string(), "--key", "my-key"]);
    assert_eq!(server.base_url, format!("http://127.0.0.1:{port}/api/v1"));
    assert_eq!(server.key, "my-key");
    ok(&server.dromo(&["imports", "list"]), "imports list");
    let wrong = Command::new(env!("CARGO_BIN_EXE_dromo"))
        .args(["imports", "list"])
        .env("DROMO_BASE_URL", &server.base_url)
        .env("DROMO_API_KEY", "stand-in-backend-key")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(6), "{}", text(&wrong.stderr));
}

/// Runs curl with `args`; its stdout.
fn curl(args: &[&str]) -> String {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--fail-with-body"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        output.status.success(),
        "curl {args:?}: {} {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn curl_drives_a_whole_import() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("SKIPPED: curl is not installed (apt-get install -y curl)");
        return;
    }
    let server = Server::start(&[]);
    let key = format!("X-Dromo-License-Key: {}", server.key);
    let body = r#"{"fields":[{"key":"email","label":"Email","type":"email"},{"key":"first_name","label":"First Name"}],"original_filename":"sample.csv"}"#;
    let created = json(&curl(&[
        "-X",
        "POST",
        "-H",
        &key,
        "-H",
        "Content-Type: application/json",
        "--data",
        body,
        &format!("{}/headless/imports/", server.base_url),
    ]));
    assert_eq!(created["status"], "AWAITING_UPLOAD", "{created}");
    let id = created["id"].as_str().expect("an id");
    let upload = created["upload"].as_str().expect("an upload URL");

    // The presigned PUT, with no key (S3 wants none).
    let sample = Path::new(SAMPLE).canonicalize().unwrap();
    curl(&["--upload-file", sample.to_str().unwrap(), upload]);

    let import_url = format!("{}/headless/imports/{id}/", server.base_url);
    let start = Instant::now();
    let status = loop {
        let import = json(&curl(&["-H", &key, &import_url]));
        let status = import["status"].as_str().unwrap_or_default().to_owned();
        if !matches!(status.as_str(), "AWAITING_UPLOAD" | "PENDING" | "RUNNING") {
            break status;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "still {status}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, "SUCCESSFUL");

    let url = json(&curl(&["-H", &key, &format!("{import_url}url/")]));
    let rows_url = url["presigned_url"].as_str().expect("a presigned URL");
    let rows = json(&curl(&[rows_url]));
    let rows = rows.as_array().expect("an array of rows");
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0]["email"], "margaret.turing0@example.com");
    assert_eq!(rows[0]["first_name"], "Margaret");

    // The list has it.
    let listed = curl(&[
        "-H",
        &key,
        &format!("{}/headless/imports/", server.base_url),
    ]);
    assert_eq!(json(&listed)["count"], 1);
}

#[test]
fn a_state_dir_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let state_arg = state.to_str().unwrap();
    let first = Server::start(&["--state-dir", state_arg]);
    // Created and uploaded, not processed yet: the restarted stand-in processes it.
    let id = ok(
        &first.dromo(&["import", SAMPLE, "--schema", SCHEMA, "--no-wait"]),
        "import --no-wait",
    );
    let id = id.trim().to_owned();
    ok(&first.dromo(&["schema", "push", SCHEMA]), "schema push");
    let (status, stderr) = first.stop();
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("its state is kept in"), "{stderr}");

    let again = Server::start(&["--state-dir", state_arg]);
    let waited = ok(&again.dromo(&["wait", &id]), "wait after the restart");
    assert!(waited.contains("succeeded"), "{waited}");
    let rows = ok(&again.dromo(&["results", &id]), "results after the restart");
    assert_eq!(rows.lines().count(), 50);
    let pulled = ok(&again.dromo(&["schema", "pull", "people"]), "schema pull");
    assert!(pulled.contains("\"people\""), "{pulled}");
    let listed = ok(&again.dromo(&["imports", "list"]), "imports list");
    assert!(listed.contains(&id), "{listed}");
    drop(again);

    // Without the directory, a new stand-in starts empty.
    let fresh = Server::start(&[]);
    let output = fresh.dromo(&["wait", &id]);
    assert_eq!(output.status.code(), Some(6), "{}", text(&output.stderr));
}
