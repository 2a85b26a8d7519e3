//! `cargo xtask update-spec` end to end: the built xtask binary works on a copy of the
//! repository (`--repo`), fetching candidate specs from a server the test starts on 127.0.0.1.
//! The real `openapi.json` is never touched.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn real_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("xtask has no parent directory"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()))
    {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", target.display()));
        }
    }
}

/// A copy of what update-spec reads and writes (and what its compile check builds).
/// The compile checks share `target/xtask-check`, where cargo gives every copy of the crate the
/// same build directory (path packages are hashed relative to their workspace root). Run
/// concurrently, one copy's build-script run could look newer than the other's spec and be
/// reused: so the tests that compile take this lock *before* making their copy.
static COMPILE_CHECK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn repo_copy() -> tempfile::TempDir {
    let real = real_repo();
    let dir = tempfile::Builder::new()
        .prefix("xtask-update-spec-")
        .tempdir()
        .unwrap_or_else(|e| panic!("tempdir: {e}"));
    let copy = dir.path();
    for file in [
        "openapi.json",
        "sessions-openapi.json",
        "tests/sessions-openapi.sha256",
        "Cargo.toml",
        "Cargo.lock",
        "build.rs",
        "tests/openapi.sha256",
        "xtask/api-snapshot.txt",
    ] {
        let to = copy.join(file);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::copy(real.join(file), &to).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
    copy_dir(&real.join("src"), &copy.join("src"));
    // The library's path dependency (the derive macro's crate).
    copy_dir(
        &real.join("dromo-client-derive"),
        &copy.join("dromo-client-derive"),
    );
    // The compile check builds in <repo>/target/xtask-check: share the real one, so the
    // dependencies compiled by one run serve the next.
    std::os::unix::fs::symlink(real.join("target"), copy.join("target"))
        .unwrap_or_else(|e| panic!("symlink target: {e}"));
    dir
}

fn vendored(repo: &Path) -> Value {
    let bytes = std::fs::read(repo.join("openapi.json")).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn to_bytes(doc: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(doc).unwrap_or_else(|e| panic!("{e}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The files update-spec may change, to compare before and after.
fn state(repo: &Path) -> (Vec<u8>, String, String) {
    let read = |p: &str| std::fs::read(repo.join(p)).unwrap_or_else(|e| panic!("read {p}: {e}"));
    (
        read("openapi.json"),
        String::from_utf8_lossy(&read("tests/openapi.sha256")).into_owned(),
        String::from_utf8_lossy(&read("xtask/api-snapshot.txt")).into_owned(),
    )
}

/// The Sessions API's vendored files.
fn sessions_state(repo: &Path) -> (Vec<u8>, String) {
    let read = |p: &str| std::fs::read(repo.join(p)).unwrap_or_else(|e| panic!("read {p}: {e}"));
    (
        read("sessions-openapi.json"),
        String::from_utf8_lossy(&read("tests/sessions-openapi.sha256")).into_owned(),
    )
}

fn vendored_sessions(repo: &Path) -> Value {
    let bytes = std::fs::read(repo.join("sessions-openapi.json")).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"))
}

/// Serves one canned HTTP response per connection, `count` times, on 127.0.0.1.
fn serve(status: &'static str, content_type: &'static str, body: Vec<u8>, count: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let url = format!(
        "http://{}/api-reference/openapi.json",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    std::thread::spawn(move || {
        for _ in 0..count {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

fn serve_json(doc: &Value) -> (String, Vec<u8>) {
    let bytes = to_bytes(doc);
    (serve("200 OK", "application/json", bytes.clone(), 1), bytes)
}

fn xtask(repo: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--repo")
        .arg(repo)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run xtask: {e}"))
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs update-spec expecting a refusal: exit 2, the message on stderr, nothing changed.
fn assert_refused(repo: &Path, url: &str, extra: &[&str], expected: &str) -> String {
    let before = state(repo);
    let mut args = vec!["update-spec", "--url", url];
    args.extend_from_slice(extra);
    let output = xtask(repo, &args);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in stderr:\n{stderr}"
    );
    assert!(stderr.starts_with("error: "), "stderr:\n{stderr}");
    assert!(
        state(repo) == before,
        "a refused spec changed the vendored files"
    );
    stderr
}

#[test]
fn added_operation_is_reported_compiled_and_vendored_byte_for_byte() {
    let _serial = COMPILE_CHECK.lock().unwrap_or_else(|e| e.into_inner());
    let repo = repo_copy();
    let mut doc = vendored(repo.path());
    doc["paths"]["/widgets/"] = json!({
        "get": {
            "operationId": "listWidgets",
            "summary": "List widgets",
            "responses": {
                "200": {
                    "description": "The widgets",
                    "content": { "application/json": { "schema": { "type": "array", "items": { "type": "string" } } } }
                }
            }
        }
    });
    let (url, bytes) = serve_json(&doc);
    // The one test that runs the (slow) compile check.
    let output = xtask(repo.path(), &["update-spec", "--url", &url]);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("+ GET /widgets/ (listWidgets): operation added"),
        "{stdout}"
    );
    assert!(stdout.contains("1 change(s), 0 BREAKING"), "{stdout}");
    assert!(stdout.contains("Compile check passed."), "{stdout}");

    let (spec, pin, snapshot) = state(repo.path());
    assert!(
        spec == bytes,
        "openapi.json is not byte-for-byte the served spec"
    );
    assert_eq!(pin, format!("{}\n", sha256_hex(&bytes)));
    assert!(
        snapshot
            .lines()
            .any(|l| l == "fn Client::list_widgets(&self) -> builder::ListWidgets<'_>"),
        "{snapshot}"
    );

    // Once vendored, the same spec is up to date, for --check and for an update alike.
    let url = serve("200 OK", "application/json", bytes.clone(), 2);
    for args in [
        vec!["update-spec", "--check", "--url", &url],
        vec!["update-spec", "--url", &url],
    ] {
        let output = xtask(repo.path(), &args);
        let (stdout, stderr) = text(&output);
        assert_eq!(
            output.status.code(),
            Some(0),
            "stdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(stdout.contains("openapi.json is up to date"), "{stdout}");
    }
}

#[test]
fn spec_that_generates_but_does_not_compile_is_refused_with_the_compiler_error() {
    let _serial = COMPILE_CHECK.lock().unwrap_or_else(|e| e.into_inner());
    let repo = repo_copy();
    let mut doc = vendored(repo.path());
    // Two operation ids that differ only in case generate two `Client::list_widgets` methods
    // and two `builder::ListWidgets` structs: progenitor accepts it, rustc does not.
    doc["paths"]["/widgets/"] = json!({
        "get": { "operationId": "listWidgets", "responses": { "204": { "description": "nothing" } } }
    });
    doc["paths"]["/widgets/{id}/"] = json!({
        "get": {
            "operationId": "list_widgets",
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "responses": { "204": { "description": "nothing" } }
        }
    });
    let (url, _) = serve_json(&doc);
    let stderr = assert_refused(
        repo.path(),
        &url,
        &[],
        "does not compile with it (openapi.json and sessions-openapi.json left unchanged)",
    );
    assert!(
        stderr.contains("error[E0"),
        "no compiler error code in:\n{stderr}"
    );
}

#[test]
fn removed_property_is_breaking_and_still_vendored() {
    let repo = repo_copy();
    let mut doc = vendored(repo.path());
    let removed = doc["components"]["schemas"]["HeadlessImport"]["properties"]
        .as_object_mut()
        .and_then(|p| p.remove("modified_date"));
    assert!(
        removed.is_some(),
        "the vendored spec no longer has HeadlessImport.modified_date"
    );
    let (url, bytes) = serve_json(&doc);
    let output = xtask(
        repo.path(),
        &["update-spec", "--no-compile-check", "--url", &url],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("BREAKING - HeadlessImport: property `modified_date` removed"),
        "{stdout}"
    );
    assert!(stdout.contains("1 BREAKING change(s)"), "{stdout}");
    assert!(stdout.contains("Skipping the compile check"), "{stdout}");
    let (spec, pin, snapshot) = state(repo.path());
    assert!(
        spec == bytes,
        "openapi.json is not byte-for-byte the served spec"
    );
    assert_eq!(pin, format!("{}\n", sha256_hex(&bytes)));
    assert!(
        !snapshot.contains("field types::HeadlessImport.modified_date"),
        "the snapshot still lists the field"
    );
}

#[test]
fn new_enum_value_is_reported_not_breaking() {
    let repo = repo_copy();
    let mut doc = vendored(repo.path());
    let values = doc["components"]["schemas"]["HeadlessImport"]["properties"]["status"]["enum"]
        .as_array_mut();
    values
        .unwrap_or_else(|| panic!("the status is no longer an enum"))
        .push(json!("CANCELLED"));
    let (url, bytes) = serve_json(&doc);
    let output = xtask(
        repo.path(),
        &["update-spec", "--no-compile-check", "--url", &url],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("         + HeadlessImport.status: enum value `CANCELLED` added"),
        "expected a non-breaking addition:\n{stdout}"
    );
    assert!(stdout.contains("0 BREAKING"), "{stdout}");
    assert!(
        state(repo.path()).0 == bytes,
        "openapi.json is not byte-for-byte the served spec"
    );
}

#[test]
fn check_reports_and_changes_nothing() {
    let repo = repo_copy();
    let mut doc = vendored(repo.path());
    doc["paths"]
        .as_object_mut()
        .and_then(|p| p.remove("/headless/sftp/connectors/{id}/"))
        .unwrap_or_else(|| {
            panic!("the vendored spec no longer has /headless/sftp/connectors/{{id}}/")
        });
    let before = state(repo.path());

    let (url, _) = serve_json(&doc);
    let output = xtask(repo.path(), &["update-spec", "--check", "--url", &url]);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("BREAKING - DELETE /headless/sftp/connectors/{id}/ (deleteSftpConnector): operation removed"), "{stdout}");
    assert!(stdout.contains("nothing was changed"), "{stdout}");
    assert!(
        state(repo.path()) == before,
        "--check changed the vendored files"
    );

    // The same from a file: no network at all.
    let file = repo.path().join("candidate.json");
    std::fs::write(&file, to_bytes(&doc)).unwrap_or_else(|e| panic!("{e}"));
    let output = xtask(
        repo.path(),
        &["update-spec", "--check", "--file", &file.to_string_lossy()],
    );
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    assert!(
        state(repo.path()) == before,
        "--check changed the vendored files"
    );

    // The vendored file itself is up to date.
    let vendored_file = repo.path().join("openapi.json");
    let output = xtask(
        repo.path(),
        &[
            "update-spec",
            "--check",
            "--file",
            &vendored_file.to_string_lossy(),
        ],
    );
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert!(stdout.contains("up to date"), "{stdout}");
}

#[test]
fn malformed_json_is_refused() {
    let repo = repo_copy();
    let url = serve(
        "200 OK",
        "application/json",
        b"{\"openapi\": \"3.1.0\", \"paths\": {".to_vec(),
        1,
    );
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "it is not valid JSON: EOF while parsing",
    );
}

#[test]
fn json_that_is_not_an_openapi_document_is_refused() {
    let repo = repo_copy();
    let url = serve(
        "200 OK",
        "application/json",
        b"{\"message\": \"hello\"}".to_vec(),
        1,
    );
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "not an OpenAPI document: no `openapi` field",
    );
}

#[test]
fn html_page_is_refused() {
    let repo = repo_copy();
    let page = b"<!DOCTYPE html><html><body>Docs moved</body></html>".to_vec();
    let url = serve("200 OK", "text/html; charset=utf-8", page.clone(), 1);
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "answered an HTML page (text/html; charset=utf-8)",
    );
    // Also when the server claims it is JSON.
    let url = serve("200 OK", "application/json", page, 1);
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "answered an HTML page (application/json)",
    );
}

#[test]
fn error_status_is_refused_with_the_status() {
    let repo = repo_copy();
    let url = serve(
        "500 Internal Server Error",
        "text/plain",
        b"upstream exploded".to_vec(),
        1,
    );
    let stderr = assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "answered 500 Internal Server Error: upstream exploded",
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not a one-line error:\n{stderr}"
    );
    let url = serve(
        "404 Not Found",
        "text/html",
        b"<html>nope</html>".to_vec(),
        1,
    );
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "answered 404 Not Found",
    );
}

#[test]
fn unreachable_and_silent_servers_are_refused() {
    let repo = repo_copy();
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("{e}"));
    let url = format!("http://127.0.0.1:{port}/openapi.json");
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        &format!("cannot download {url}"),
    );

    // A server that accepts and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let url = format!(
        "http://{}/openapi.json",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    std::thread::spawn(move || {
        let held = listener.accept();
        std::thread::sleep(Duration::from_secs(10));
        drop(held);
    });
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check", "--timeout", "1"],
        "timed out after 1 s",
    );
}

#[test]
fn construct_the_converter_cannot_handle_is_refused_with_its_pointer() {
    let repo = repo_copy();
    let mut doc = vendored(repo.path());
    doc["components"]["schemas"]["HeadlessImport"]["properties"]["original_filename"] =
        json!({ "type": "array", "prefixItems": [{ "type": "string" }, { "type": "integer" }] });
    let (url, _) = serve_json(&doc);
    let stderr = assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "cannot convert `/components/schemas/HeadlessImport/properties/original_filename/prefixItems` to OpenAPI 3.0",
    );
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not a one-line error:\n{stderr}"
    );

    let mut doc = vendored(repo.path());
    doc["components"]["schemas"]["ImportMetaData"]["if"] = json!({ "required": ["user"] });
    let (url, _) = serve_json(&doc);
    assert_refused(
        repo.path(),
        &url,
        &["--no-compile-check"],
        "/components/schemas/ImportMetaData/if",
    );
}

/// A Sessions API spec with a new property, and a new required one (a break for code that
/// builds the type; the hand-written layer only reads it).
fn modified_sessions(repo: &Path) -> Value {
    let mut doc = vendored_sessions(repo);
    let schemas = &mut doc["components"]["schemas"];
    schemas["SessionCreated"]["properties"]["resumeCount"] =
        json!({ "type": "integer", "description": "Times resumed." });
    schemas["TokenResponse"]["properties"]["sessionId"] =
        json!({ "type": "string", "format": "uuid" });
    schemas["TokenResponse"]["required"] = json!(["sessionId"]);
    doc
}

#[test]
fn modified_sessions_spec_is_reported_compiled_and_regenerated() {
    let _serial = COMPILE_CHECK.lock().unwrap_or_else(|e| e.into_inner());
    let repo = repo_copy();
    let (main_before, main_pin_before, _) = state(repo.path());
    let doc = modified_sessions(repo.path());
    let file = repo.path().join("candidate-sessions.json");
    let bytes = to_bytes(&doc);
    std::fs::write(&file, &bytes).unwrap_or_else(|e| panic!("{e}"));

    // The build of a crate copy with the candidate proves it generates and compiles.
    let output = xtask(
        repo.path(),
        &["update-spec", "--sessions-file", &file.to_string_lossy()],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("sessions-openapi.json, from "), "{stdout}");
    assert!(
        stdout.contains("BREAKING + TokenResponse: property `sessionId` added (required)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("         + SessionCreated: property `resumeCount` added"),
        "{stdout}"
    );
    assert!(stdout.contains("2 change(s), 1 BREAKING"), "{stdout}");
    assert!(stdout.contains("Compile check passed."), "{stdout}");
    assert!(stdout.contains("1 BREAKING change(s)"), "{stdout}");

    let (spec, pin) = sessions_state(repo.path());
    assert!(
        spec == bytes,
        "sessions-openapi.json is not byte-for-byte the candidate"
    );
    assert_eq!(pin, format!("{}\n", sha256_hex(&bytes)));
    let (main, main_pin, snapshot) = state(repo.path());
    assert!(
        main == main_before && main_pin == main_pin_before,
        "openapi.json was touched"
    );
    assert!(
        snapshot
            .lines()
            .any(|l| l == "field sessions::types::SessionCreated.resume_count: ::std::option::Option<crate::WholeNumber>"),
        "{snapshot}"
    );
    assert!(
        snapshot
            .lines()
            .any(|l| l == "field sessions::types::TokenResponse.session_id: ::uuid::Uuid"),
        "{snapshot}"
    );
    assert!(
        snapshot.contains("fn Client::list_import_schemas(&self)"),
        "the main API left the snapshot"
    );

    // Once vendored, it is up to date; the main spec too.
    let main_file = repo.path().join("openapi.json");
    let output = xtask(
        repo.path(),
        &[
            "update-spec",
            "--check",
            "--file",
            &main_file.to_string_lossy(),
            "--sessions-file",
            &file.to_string_lossy(),
        ],
    );
    let (stdout, _) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert!(stdout.contains("openapi.json is up to date"), "{stdout}");
    assert!(
        stdout.contains("sessions-openapi.json is up to date"),
        "{stdout}"
    );
}

#[test]
fn a_broken_sessions_spec_is_refused_leaving_both_vendored_specs_untouched() {
    let repo = repo_copy();
    let before = (state(repo.path()), sessions_state(repo.path()));
    // A valid change of the main spec, offered together with a broken sessions spec.
    let mut main = vendored(repo.path());
    main["components"]["schemas"]["HeadlessImport"]["properties"]["status"]["enum"]
        .as_array_mut()
        .unwrap_or_else(|| panic!("the status is no longer an enum"))
        .push(json!("CANCELLED"));
    let main_file = repo.path().join("candidate.json");
    std::fs::write(&main_file, to_bytes(&main)).unwrap_or_else(|e| panic!("{e}"));

    let mut broken = vendored_sessions(repo.path());
    broken["components"]["schemas"]["TokenResponse"]["properties"]["expiresIn"] =
        json!({ "type": "array", "prefixItems": [{ "type": "integer" }] });
    let sessions_file = repo.path().join("candidate-sessions.json");
    std::fs::write(&sessions_file, to_bytes(&broken)).unwrap_or_else(|e| panic!("{e}"));

    let output = xtask(
        repo.path(),
        &[
            "update-spec",
            "--no-compile-check",
            "--file",
            &main_file.to_string_lossy(),
            "--sessions-file",
            &sessions_file.to_string_lossy(),
        ],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // Both were reported; the broken one is named, with the construct's pointer.
    assert!(stdout.contains("openapi.json, from "), "{stdout}");
    assert!(stdout.contains("sessions-openapi.json, from "), "{stdout}");
    assert!(
        stderr.starts_with("error: refusing the spec from "),
        "{stderr}"
    );
    assert!(stderr.contains("candidate-sessions.json"), "{stderr}");
    assert!(
        stderr.contains("/components/schemas/TokenResponse/properties/expiresIn/prefixItems"),
        "{stderr}"
    );
    assert!(
        stderr.contains("openapi.json and sessions-openapi.json left unchanged"),
        "{stderr}"
    );
    assert!(
        (state(repo.path()), sessions_state(repo.path())) == before,
        "a refused spec changed the vendored files"
    );

    // A sessions spec the corrections no longer fit (the token they hide is gone) is refused
    // the same way.
    let mut moved = vendored_sessions(repo.path());
    for schema in ["SessionCreated", "TokenResponse"] {
        moved["components"]["schemas"][schema]["properties"]
            .as_object_mut()
            .and_then(|p| p.remove("hydrationId"));
    }
    std::fs::write(&sessions_file, to_bytes(&moved)).unwrap_or_else(|e| panic!("{e}"));
    let output = xtask(
        repo.path(),
        &[
            "update-spec",
            "--no-compile-check",
            "--sessions-file",
            &sessions_file.to_string_lossy(),
        ],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("correction `hydration_ids_are_secret` no longer applies"),
        "{stderr}"
    );
    assert!(
        (state(repo.path()), sessions_state(repo.path())) == before,
        "a refused spec changed the vendored files"
    );
}

#[test]
fn check_covers_the_sessions_spec() {
    let repo = repo_copy();
    let before = (state(repo.path()), sessions_state(repo.path()));
    let (url, _) = {
        let doc = modified_sessions(repo.path());
        let bytes = to_bytes(&doc);
        (serve("200 OK", "application/json", bytes.clone(), 1), bytes)
    };
    let main_file = repo.path().join("openapi.json");
    let output = xtask(
        repo.path(),
        &[
            "update-spec",
            "--check",
            "--file",
            &main_file.to_string_lossy(),
            "--sessions-url",
            &url,
        ],
    );
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("openapi.json is up to date"), "{stdout}");
    assert!(
        stdout.contains("BREAKING + TokenResponse: property `sessionId` added (required)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("sessions-openapi.json differs from http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("nothing was changed"), "{stdout}");
    assert!(
        (state(repo.path()), sessions_state(repo.path())) == before,
        "--check changed the vendored files"
    );
}

#[test]
fn a_sessions_spec_that_breaks_the_hand_written_layer_is_refused_by_the_compile_check() {
    let _serial = COMPILE_CHECK.lock().unwrap_or_else(|e| e.into_inner());
    let repo = repo_copy();
    let before = (state(repo.path()), sessions_state(repo.path()));
    let mut doc = vendored_sessions(repo.path());
    doc["components"]["schemas"]["SessionCreated"]["properties"]
        .as_object_mut()
        .and_then(|p| p.remove("savedAt"))
        .unwrap_or_else(|| panic!("the vendored sessions spec no longer has savedAt"));
    let (url, _) = serve_json(&doc);
    let output = xtask(repo.path(), &["update-spec", "--sessions-url", &url]);
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("BREAKING - SessionCreated: property `savedAt` removed"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "does not compile with it (openapi.json and sessions-openapi.json left unchanged)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("src/sessions.rs"), "{stderr}");
    assert!(
        (state(repo.path()), sessions_state(repo.path())) == before,
        "a refused spec changed the vendored files"
    );
}
