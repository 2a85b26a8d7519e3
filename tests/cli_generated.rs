//! `dromo api <operation>`: progenitor's generated commands, run as processes.
//!
//! - Against the stand-in (started in the test's process, or `--stand-in` in the binary's): the
//!   saved-schema commands end to end, output as JSON, the crate's errors and exit codes, bad
//!   input sending nothing, and `dromo api --help` listing every operation of `openapi.json`.
//! - Against Prism (contract: `cargo xtask test` starts it and sets `DROMO_PRISM_URL`; without
//!   the variable each such test says it is skipped and passes): path parameters, query
//!   parameters, JSON bodies from a file and from per-field flags, checked by Prism against the
//!   vendored spec, and a 422 mapped to the crate's error and exit code.
#![cfg(feature = "cli")]

use dromo_client::stand_in::StandIn;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCHEMA_ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";
/// The binary's exit code for bad input (nothing sent), see `src/bin/dromo/exit.rs`.
const BAD_INPUT: i32 = 2;
/// The binary's exit code for an error from Dromo or the network.
const API_ERROR: i32 = 6;

/// Runs `dromo ARGS` with the base URL and key in the environment (blocking: call it from
/// `spawn_blocking` when the server runs in the test's runtime).
fn dromo_at(url: &str, key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dromo"))
        .args(args)
        .env("DROMO_BASE_URL", url)
        .env("DROMO_API_KEY", key)
        .output()
        .expect("run dromo")
}

/// Runs `dromo ARGS` against the stand-in `server`.
async fn dromo(server: &StandIn, args: &[&str]) -> Output {
    let (url, key) = (server.base_url(), server.api_key().to_owned());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        dromo_at(&url, &key, &args)
    })
    .await
    .expect("join")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited with a code")
}

/// The command succeeded and printed one JSON document on stdout: that document.
fn json_out(output: &Output) -> Value {
    assert_eq!(code(output), 0, "stderr: {}", text(&output.stderr));
    let stdout = text(&output.stdout);
    // Piped: compact, one line.
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// The command failed with `exit_code` and one `error: ...` line on stderr, nothing on stdout:
/// that line.
fn one_line_error(output: &Output, exit_code: i32) -> String {
    let stderr = text(&output.stderr);
    assert_eq!(code(output), exit_code, "stderr: {stderr}");
    assert_eq!(text(&output.stdout), "", "stdout of a failed command");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    // Never progenitor's or anyhow's raw output.
    for raw in [
        "Error Response",
        "Unexpected Response",
        "Caused by",
        "Response {",
    ] {
        assert!(!stderr.contains(raw), "{stderr}");
    }
    stderr.trim_end().to_owned()
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// `createHeadlessImport` → `create-headless-import`.
fn kebab(operation_id: &str) -> String {
    let mut out = String::new();
    for c in operation_id.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every operation id of the vendored spec.
fn spec_operation_ids() -> Vec<String> {
    let spec: Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
    let methods = [
        "get", "put", "post", "delete", "patch", "head", "options", "trace",
    ];
    let mut ids = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for (method, operation) in item.as_object().unwrap() {
            if methods.contains(&method.as_str()) {
                ids.push(operation["operationId"].as_str().unwrap().to_owned());
            }
        }
    }
    ids
}

#[test]
fn api_help_lists_every_operation_of_the_spec() {
    let output = Command::new(env!("CARGO_BIN_EXE_dromo"))
        .args(["api", "--help"])
        .output()
        .unwrap();
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let help = text(&output.stdout);
    // The command names of the `Commands:` section (up to the blank line after it).
    let listed: Vec<String> = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section")
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect();
    let mut expected: Vec<String> = spec_operation_ids().iter().map(|id| kebab(id)).collect();
    assert!(expected.len() > 20, "{expected:?}");
    // And the Sessions API's (`sessions-openapi.json`, tests/cli_sessions.rs).
    expected.extend(["create-session", "resume-session", "delete-session"].map(String::from));
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    expected.sort();
    assert_eq!(listed_sorted, expected, "{help}");
    // One line each in the listing (the summary; the description is in `OP --help`).
    assert!(
        help.contains("create-headless-import     Create a new headless import\n"),
        "{help}"
    );
}

#[test]
fn an_operation_help_shows_its_flags_and_description() {
    let output = Command::new(env!("CARGO_BIN_EXE_dromo"))
        .args(["api", "create-sftp-credentials", "--help"])
        .output()
        .unwrap();
    let help = text(&output.stdout);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    for flag in [
        "--auth-type",
        "--hostname",
        "--port",
        "--json-body <JSON-FILE>",
    ] {
        assert!(help.contains(flag), "{flag} missing: {help}");
    }
    assert!(help.contains("[possible values: PASSWORD, KEY]"), "{help}");
    // progenitor's unread `--json-body-template` flag is removed (src/codegen/cli.rs).
    assert!(!help.contains("json-body-template"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_schemas_create_list_retrieve_update_delete_against_the_stand_in() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body = write_json(
        dir.path(),
        "schema.json",
        &json!({
            "name": "from-file",
            "fields": [{"key": "email", "label": "Email", "type": "email"}],
            "settings": {}
        }),
    );
    let body = body.to_str().unwrap();

    // Create: the body from the file, `--name` overriding the file's name.
    let created = json_out(
        &dromo(
            &server,
            &[
                "api",
                "create-import-schema",
                "--json-body",
                body,
                "--name",
                "people",
            ],
        )
        .await,
    );
    assert_eq!(created["name"], "people", "{created}");
    assert_eq!(created["fields"][0]["key"], "email", "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    let sent = server.requests();
    let create = sent.last().unwrap();
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/api/v1/schemas/")
    );

    // List: the new schema is there.
    let listed = json_out(&dromo(&server, &["api", "list-import-schemas"]).await);
    let names: Vec<&Value> = listed
        .as_array()
        .expect("an array")
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, [&json!("people")], "{listed}");

    // Retrieve by id (a path parameter).
    let got = json_out(&dromo(&server, &["api", "get-import-schema", "--id", &id]).await);
    assert_eq!(
        (got["id"].as_str(), &got["name"]),
        (Some(&*id), &json!("people"))
    );

    // Update: the file's body under a new name.
    let updated = json_out(
        &dromo(
            &server,
            &[
                "api",
                "update-import-schema",
                "--id",
                &id,
                "--json-body",
                body,
            ],
        )
        .await,
    );
    assert_eq!(updated["name"], "from-file", "{updated}");

    // Delete: 204, nothing on stdout.
    let deleted = dromo(&server, &["api", "delete-import-schema", "--id", &id]).await;
    assert_eq!(code(&deleted), 0, "{}", text(&deleted.stderr));
    assert_eq!(text(&deleted.stdout), "");

    // Gone: a 404 as the crate's one-line error, with the API error's exit code.
    let gone = dromo(&server, &["api", "get-import-schema", "--id", &id]).await;
    let message = one_line_error(&gone, API_ERROR);
    assert!(message.contains(&id), "{message}");
    assert!(message.contains("not found (HTTP 404)"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_to_a_generated_command_sends_nothing() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let wrong = write_json(dir.path(), "wrong.json", &json!({"name": 3}));
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "api",
                "create-import-schema",
                "--json-body",
                missing.to_str().unwrap(),
            ],
            "failed to read",
        ),
        (
            &[
                "api",
                "create-import-schema",
                "--json-body",
                wrong.to_str().unwrap(),
            ],
            "failed to parse",
        ),
        (&["api", "get-import-schema", "--id", "not-a-uuid"], "--id"),
        // A body that cannot be made from flags needs `--json-body`.
        (
            &["api", "create-import-schema", "--name", "x"],
            "--json-body",
        ),
        (&["api", "no-such-operation"], "no-such-operation"),
    ];
    for (args, expected) in cases {
        let output = dromo(&server, args).await;
        let message = one_line_error(&output, BAD_INPUT);
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    assert!(
        server.requests().is_empty(),
        "sent: {:?}",
        server.requests()
    );
}

#[test]
fn the_binarys_own_stand_in_answers_a_generated_command() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_json(
        dir.path(),
        "schema.json",
        &json!({"name": "people", "fields": [{"key": "email", "label": "Email", "type": "email"}], "settings": {}}),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_dromo"))
        .args(["--stand-in", "api", "create-import-schema", "--json-body"])
        .arg(&body)
        .env_remove("DROMO_BASE_URL")
        .env_remove("DROMO_API_KEY")
        .output()
        .unwrap();
    let created = json_out(&output);
    assert_eq!(created["name"], "people", "{created}");
    assert!(created["id"].as_str().is_some(), "{created}");
}

/// Prism's base URL, or `None` (after saying so) when the tests run without it.
fn prism_url() -> Option<String> {
    match std::env::var("DROMO_PRISM_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ => {
            eprintln!("contract test skipped: DROMO_PRISM_URL is not set; run `cargo xtask test` (installs and starts Prism)");
            None
        }
    }
}

fn prism(url: &str, args: &[&str]) -> Output {
    dromo_at(url, "contract-test-key", args)
}

#[test]
fn contract_generated_commands_with_path_and_query_parameters() {
    let Some(url) = prism_url() else { return };
    // Path parameter.
    let import = json_out(&prism(
        &url,
        &["api", "retrieve-headless-import", "--id", SCHEMA_ID],
    ));
    assert!(import["status"].is_string(), "{import}");
    assert!(import["id"].is_string(), "{import}");
    // Query parameters (Prism checks they are integers where the spec says so).
    let page = json_out(&prism(
        &url,
        &[
            "api",
            "list-headless-imports",
            "--limit",
            "5",
            "--offset",
            "10",
        ],
    ));
    assert!(page["results"].is_array(), "{page}");
    let uploads = json_out(&prism(
        &url,
        &["api", "list-uploads", "--start", "0", "--end", "10"],
    ));
    assert!(uploads.is_object(), "{uploads}");
    // A 204 without a body.
    let deleted = prism(&url, &["api", "delete-headless-import", "--id", SCHEMA_ID]);
    assert_eq!(code(&deleted), 0, "{}", text(&deleted.stderr));
    assert_eq!(text(&deleted.stdout), "");
}

#[test]
fn contract_generated_commands_with_json_bodies() {
    let Some(url) = prism_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The whole body from a file.
    let body = write_json(
        dir.path(),
        "create.json",
        &json!({"schema_id": SCHEMA_ID, "original_filename": "contacts.csv"}),
    );
    let created = json_out(&prism(
        &url,
        &[
            "api",
            "create-headless-import",
            "--json-body",
            body.to_str().unwrap(),
        ],
    ));
    assert!(created["id"].is_string(), "{created}");
    // The body from per-field flags only.
    let created = json_out(&prism(
        &url,
        &[
            "api",
            "create-headless-import",
            "--schema-id",
            SCHEMA_ID,
            "--original-filename",
            "contacts.csv",
        ],
    ));
    assert!(created["id"].is_string(), "{created}");
    // Flags of several types: an enum, an integer, strings.
    let credentials = json_out(&prism(
        &url,
        &[
            "api",
            "create-sftp-credentials",
            "--auth-type",
            "PASSWORD",
            "--hostname",
            "sftp.example.com",
            "--port",
            "22",
            "--user",
            "importer",
            "--password",
            "secret",
        ],
    ));
    assert!(credentials["id"].is_string(), "{credentials}");
}

#[test]
fn contract_a_body_breaking_the_spec_is_the_crates_422_error() {
    let Some(url) = prism_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    // An undocumented setting: the upstream spec forbids it (`additionalProperties: false`).
    let body = write_json(
        dir.path(),
        "create.json",
        &json!({
            "fields": [{"key": "email", "label": "Email", "type": "email"}],
            "original_filename": "contacts.csv",
            "settings": {"undocumentedSetting": true}
        }),
    );
    let output = prism(
        &url,
        &[
            "api",
            "create-headless-import",
            "--json-body",
            body.to_str().unwrap(),
        ],
    );
    let message = one_line_error(&output, API_ERROR);
    assert!(
        message.starts_with("error: Dromo refused the request (HTTP 422): body.settings"),
        "{message}"
    );
    assert!(message.contains("undocumentedSetting"), "{message}");
}
