//! The `dromo` binary run as a process against the stand-in (started in the test's process):
//! output, exit codes, files written; bad input sends nothing.
#![cfg(feature = "cli")]

use dromo_client::stand_in::{Outcome, StandIn};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SAMPLE: &str = "tests/data/sample.csv";
const SAMPLE_ROWS: usize = 50;

/// Runs `dromo ARGS` against `server` (its URL and key in the environment) and waits for it.
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

/// Runs `dromo ARGS` with no Dromo configured at all.
fn dromo_bare(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dromo"))
        .args(args)
        .env_remove("DROMO_BASE_URL")
        .env_remove("DROMO_API_KEY")
        .output()
        .expect("run dromo")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

/// Piped output is plain: no escape sequences, no carriage returns.
fn assert_plain(output: &Output) {
    for stream in [&output.stdout, &output.stderr] {
        let text = text(stream);
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t'),
            "control characters in piped output: {text:?}"
        );
    }
}

/// A schema file for the sample's columns.
fn schema_file(dir: &Path) -> PathBuf {
    let path = dir.join("schema.json");
    std::fs::write(
        &path,
        r#"[{"key":"email","label":"Email","type":"email"},{"key":"company","label":"Company","type":"string"}]"#,
    )
    .unwrap();
    path
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited with a code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_writes_csv_and_jsonl_files() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let csv_out = dir.path().join("rows.csv");
    let output = dromo(
        &server,
        &[
            "import",
            SAMPLE,
            "--schema",
            schema.to_str().unwrap(),
            "--out",
            csv_out.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_plain(&output);
    assert!(text(&output.stderr).contains(&format!("{SAMPLE_ROWS} rows")));
    let csv = std::fs::read_to_string(&csv_out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // Columns in the schema file's order (email, then company), not alphabetical.
    assert_eq!(lines[0], "email,company");
    assert_eq!(lines.len(), SAMPLE_ROWS + 1);
    assert_eq!(lines[1], "margaret.turing0@example.com,Example Co 0");

    let jsonl_out = dir.path().join("rows.jsonl");
    let output = dromo(
        &server,
        &[
            "--json",
            "import",
            SAMPLE,
            "--schema",
            schema.to_str().unwrap(),
            "--out",
            jsonl_out.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["status"], "SUCCESSFUL");
    assert_eq!(summary["rows"], SAMPLE_ROWS);
    let jsonl = std::fs::read_to_string(&jsonl_out).unwrap();
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), SAMPLE_ROWS);
    assert_eq!(rows[0]["email"], "margaret.turing0@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_to_stdout_is_json_lines_and_quiet_prints_nothing_else() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let output = dromo(
        &server,
        &["-q", "import", SAMPLE, "--schema", schema.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_plain(&output);
    assert_eq!(text(&output.stderr), "");
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), SAMPLE_ROWS);
    for line in stdout.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(row["email"].as_str().unwrap().ends_with("@example.com"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn needs_review_exits_3_with_the_review_url() {
    let server = StandIn::builder()
        .outcome(Outcome::NeedsReview)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let output = dromo(
        &server,
        &["import", SAMPLE, "--schema", schema.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&output), 3, "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).trim().starts_with("http"),
        "{}",
        text(&output.stdout)
    );
    assert_plain(&output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_exits_4_with_the_import_errors() {
    let server = StandIn::builder()
        .outcome(Outcome::Failed)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let output = dromo(
        &server,
        &[
            "--json",
            "import",
            SAMPLE,
            "--schema",
            schema.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code(&output), 4, "{}", text(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["status"], "FAILED");
    assert!(!summary["import_errors"].as_array().unwrap().is_empty());
    let output = dromo(
        &server,
        &["import", SAMPLE, "--schema", schema.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&output), 4);
    assert!(
        text(&output.stderr).contains("failed with 1 error(s)"),
        "{}",
        text(&output.stderr)
    );
    assert!(!text(&output.stdout).trim().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gave_up_waiting_exits_5() {
    let server = StandIn::builder()
        .polls_per_step(100)
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let output = dromo(
        &server,
        &[
            "import",
            SAMPLE,
            "--schema",
            schema.to_str().unwrap(),
            "--max-wait",
            "0",
        ],
    )
    .await;
    assert_eq!(code(&output), 5, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("dromo wait"),
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wait_then_wait_results_list_delete() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let output = dromo(
        &server,
        &[
            "import",
            SAMPLE,
            "--schema",
            schema.to_str().unwrap(),
            "--no-wait",
        ],
    )
    .await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let id = text(&output.stdout).trim().to_owned();
    assert_eq!(server.import_status(&id).as_deref(), Some("PENDING"));

    let output = dromo(&server, &["wait", &id]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains(&format!("dromo results {id}")));
    assert_eq!(server.import_status(&id).as_deref(), Some("SUCCESSFUL"));

    let output = dromo(&server, &["results", &id, "--format", "csv"]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), SAMPLE_ROWS + 1);
    let output = dromo(&server, &["results", &id, "--format", "json"]).await;
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows.len(), SAMPLE_ROWS);

    // A second import, so the limit has something to cut.
    let output = dromo(
        &server,
        &[
            "import",
            SAMPLE,
            "--schema",
            schema.to_str().unwrap(),
            "--no-wait",
        ],
    )
    .await;
    assert_eq!(code(&output), 0);
    let output = dromo(&server, &["imports", "list"]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), 2);
    assert!(text(&output.stdout).contains(&id));
    let output = dromo(&server, &["--json", "imports", "list", "--limit", "1"]).await;
    let list: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(list.len(), 1);

    let output = dromo(&server, &["imports", "delete", &id]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_eq!(server.import_status(&id), None);
    let output = dromo(&server, &["results", &id]).await;
    assert_eq!(code(&output), 6);
    assert_eq!(
        text(&output.stderr).lines().count(),
        1,
        "{}",
        text(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_one_line_exit_2_and_sends_nothing() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let schema = schema.to_str().unwrap();
    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "key,label\n").unwrap();
    let spreadsheet = dir.path().join("book.xlsx");
    std::fs::write(&spreadsheet, b"PK\x03\x04").unwrap();
    let not_schema = dir.path().join("not-schema.json");
    std::fs::write(&not_schema, r#"{"name": "x", "fields": [{"label": 3}]}"#).unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["import", "missing.csv", "--schema", schema],
        vec!["import", SAMPLE, "--schema", not_json.to_str().unwrap()],
        vec!["import", SAMPLE, "--schema", not_schema.to_str().unwrap()],
        vec!["import", SAMPLE, "--schema-id", "not-a-uuid"],
        // No schema and no header row to build one from.
        vec!["import", spreadsheet.to_str().unwrap()],
        vec!["import", SAMPLE, "--schema", schema, "--frobnicate"],
        vec!["wait", "42"],
        vec!["results", "nope"],
        vec!["imports", "delete", "x"],
    ];
    for args in cases {
        let output = dromo(&server, &args).await;
        assert_eq!(code(&output), 2, "{args:?}: {}", text(&output.stderr));
        let stderr = text(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert_eq!(text(&output.stdout), "", "{args:?}");
        assert_plain(&output);
    }
    assert!(
        server.requests().is_empty(),
        "bad input sent {:?}",
        server.requests()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_exits_6_and_no_key_exits_2() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "wrong-key\n").unwrap();
    let output = dromo(
        &server,
        &[
            "--api-key-file",
            key_file.to_str().unwrap(),
            "imports",
            "list",
        ],
    )
    .await;
    assert_eq!(code(&output), 6, "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("wrong-key"), "the key leaked: {stderr}");

    let output = dromo_bare(&["imports", "list"]);
    assert_eq!(code(&output), 2);
    assert!(text(&output.stderr).contains("DROMO_API_KEY"));
}

#[test]
fn stand_in_flag_imports_with_no_account() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let output = dromo_bare(&[
        "--stand-in",
        "-q",
        "import",
        SAMPLE,
        "--schema",
        schema.to_str().unwrap(),
    ]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout).lines().count(), SAMPLE_ROWS);
}

#[test]
fn help_documents_the_exit_codes() {
    let output = dromo_bare(&["--help"]);
    assert_eq!(code(&output), 0);
    let help = text(&output.stdout);
    for line in [
        "0  imported",
        "2  bad input",
        "3  the import needs review",
        "4  the import failed",
        "5  gave up",
        "6  transport",
    ] {
        assert!(help.contains(line), "--help lacks `{line}`");
    }
}

const PEOPLE_SCHEMA: &str = r#"{"name": "people", "fields": [
  {"key": "email", "label": "Email", "type": "email"},
  {"key": "company", "label": "Company", "type": "string"},
  {"key": "age", "label": "Age", "type": "number"}
]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_push_then_pull_round_trips_and_dry_run_sends_nothing() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.json");
    std::fs::write(&file, PEOPLE_SCHEMA).unwrap();
    let file = file.to_str().unwrap();

    let output = dromo(&server, &["schema", "push", file, "--dry-run"]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("would create schema `people`"));
    let changed = |server: &StandIn| {
        server
            .requests()
            .iter()
            .filter(|r| r.method != "GET")
            .count()
    };
    assert_eq!(changed(&server), 0, "a dry run changed something");

    let output = dromo(&server, &["--json", "schema", "push", file]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let pushed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(pushed["action"], "create");

    let output = dromo(&server, &["schema", "pull", "people"]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let pulled: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(pulled["name"], "people");
    let keys: Vec<&str> = pulled["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["email", "company", "age"]);
    assert_eq!(pulled["fields"][2]["type"], "number");
    assert!(
        pulled.get("id").is_none(),
        "pulled schema keeps the server id"
    );

    // The pulled file pushes back as an update of the same schema, and diffs clean.
    let pulled_file = dir.path().join("pulled.json");
    std::fs::write(&pulled_file, &output.stdout).unwrap();
    let pulled_file = pulled_file.to_str().unwrap();
    let output = dromo(&server, &["schema", "diff", pulled_file]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stdout));
    assert!(text(&output.stdout).contains("No changes"));
    let output = dromo(&server, &["--json", "schema", "push", pulled_file]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let updated: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(updated["action"], "update");
    assert_eq!(updated["id"], pushed["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_diff_flags_a_removed_field_and_a_changed_type_as_breaking() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("people.json");
    std::fs::write(&original, PEOPLE_SCHEMA).unwrap();
    let output = dromo(&server, &["schema", "push", original.to_str().unwrap()]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));

    // `company` removed, `age` now a string, `phone` added.
    let edited = dir.path().join("edited.json");
    std::fs::write(
        &edited,
        r#"{"name": "people", "fields": [
          {"key": "email", "label": "Email", "type": "email"},
          {"key": "age", "label": "Age", "type": "string"},
          {"key": "phone", "label": "Phone", "type": "phone-number"}
        ]}"#,
    )
    .unwrap();
    let output = dromo(&server, &["schema", "diff", edited.to_str().unwrap()]).await;
    assert_eq!(code(&output), 7, "{}", text(&output.stderr));
    let report = text(&output.stdout);
    assert!(report.contains("3 change(s), 2 BREAKING"), "{report}");
    assert!(
        report.contains("BREAKING - fields.company: field removed"),
        "{report}"
    );
    assert!(
        report.contains("BREAKING ~ fields.age.type: \"number\" -> \"string\""),
        "{report}"
    );
    let added = report.lines().find(|l| l.contains("fields.phone")).unwrap();
    assert!(
        !added.contains("BREAKING") && added.contains("+ fields.phone: field added"),
        "{report}"
    );

    // Bad schema files are bad input, checked before anything is sent.
    let before = server.requests().len();
    let array = dir.path().join("array.json");
    std::fs::write(
        &array,
        r#"[{"key": "email", "label": "Email", "type": "email"}]"#,
    )
    .unwrap();
    for args in [
        vec!["schema", "push", array.to_str().unwrap()],
        vec!["schema", "diff", "missing.json"],
    ] {
        let output = dromo(&server, &args).await;
        assert_eq!(code(&output), 2, "{args:?}");
        assert_eq!(text(&output.stderr).lines().count(), 1);
    }
    assert_eq!(server.requests().len(), before);
}

#[test]
fn the_readme_lists_the_exit_codes_of_help() {
    let help = text(&dromo_bare(&["--help"]).stdout);
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let codes: Vec<&str> = help.lines().skip_while(|l| *l != "Exit codes:").collect();
    assert!(codes.len() > 6, "--help has no exit code table");
    for line in codes {
        assert!(readme.contains(line), "README lacks `{line}`");
    }
}

/// On a terminal (a pseudo-terminal made by util-linux's `script`), the upload bar draws, reaches
/// the file's size and is replaced by the step's line; piped (the other tests), none of it shows.
#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_the_progress_bar_draws_and_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let schema = schema_file(dir.path());
    let out = dir.path().join("rows.jsonl");
    let command = format!(
        "{} --stand-in import {SAMPLE} --schema {} --out {}",
        env!("CARGO_BIN_EXE_dromo"),
        schema.display(),
        out.display()
    );
    // `script -q -e -c CMD /dev/null`: runs CMD on a new pseudo-terminal, copies what it draws
    // to our stdout, and exits with CMD's code.
    let output = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("DROMO_API_KEY")
        .env_remove("DROMO_BASE_URL")
        .output()
        .expect("util-linux `script` runs the pseudo-terminal");
    let screen = text(&output.stdout);
    assert!(output.status.success(), "{screen}");
    let size = std::fs::metadata(SAMPLE).unwrap().len();
    assert!(screen.contains("\u{1b}[2K"), "no bar was drawn: {screen:?}");
    assert!(screen.contains("uploading ["), "{screen:?}");
    // The bar at its end: full, both sides the file's size (3.05 KiB).
    assert!(
        screen.contains("[==============================] 3.05 KiB/3.05 KiB"),
        "{screen:?}"
    );
    let done = screen
        .find(&format!("uploaded {size} bytes"))
        .expect("the upload's line");
    assert!(
        done > screen.rfind("uploading [").unwrap(),
        "the bar outlived its step"
    );
    assert!(screen.contains(&format!("succeeded: {SAMPLE_ROWS} rows")));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        SAMPLE_ROWS
    );
}

/// On a terminal, `dromo wait` shows the status each poll saw (the stand-in moves one step per
/// poll: PENDING, RUNNING, then SUCCESSFUL, 5.5 s apart as against Dromo).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_wait_spinner_shows_each_status() {
    let server = StandIn::builder().polls_per_step(1).start().await.unwrap();
    let client = server.client().unwrap();
    let request = dromo_client::ImportRequest::new(
        dromo_client::Schema::inline([dromo_client::Field::new(
            "email",
            "Email",
            dromo_client::FieldType::Email,
        )]),
        dromo_client::Source::rows([["ada@example.com"]]).unwrap(),
    );
    let id = client.create_import(request).await.unwrap().id;
    let command = format!("{} wait {id}", env!("CARGO_BIN_EXE_dromo"));
    let (url, key) = (server.base_url(), server.api_key().to_owned());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("script")
            .args(["-q", "-e", "-c", &command, "/dev/null"])
            .env("DROMO_BASE_URL", url)
            .env("DROMO_API_KEY", key)
            .output()
            .expect("util-linux `script` runs the pseudo-terminal")
    })
    .await
    .unwrap();
    let screen = text(&output.stdout);
    assert!(output.status.success(), "{screen}");
    let pending = screen
        .find(&format!("import {id} is PENDING"))
        .expect("the spinner showed PENDING");
    let running = screen
        .find(&format!("import {id} is RUNNING"))
        .expect("the spinner showed RUNNING");
    assert!(pending < running, "{screen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_without_a_schema_builds_one_from_the_header_row() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.csv");
    let output = dromo(&server, &["import", SAMPLE, "--out", out.to_str().unwrap()]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr)
            .contains("schema: inline, from the header row: first_name, last_name, email"),
        "{}",
        text(&output.stderr)
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    // The header's order (First Name,Last Name,Email,Company,Notes), keys in snake_case.
    assert_eq!(lines[0], "first_name,last_name,email,company,notes");
    assert_eq!(lines.len(), SAMPLE_ROWS + 1);
    assert!(lines[1].starts_with("Margaret,Turing,margaret.turing0@example.com,"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_prints_nothing_but_results() {
    let server = StandIn::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rows.csv");
    let output = dromo(
        &server,
        &["-q", "import", SAMPLE, "--out", out.to_str().unwrap()],
    )
    .await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(text(&output.stderr), "", "quiet printed a summary");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap().lines().count(),
        SAMPLE_ROWS + 1
    );
}

#[test]
fn a_bad_id_says_what_an_id_looks_like() {
    for (args, expected) in [
        (
            &["wait", "nope"][..],
            "`nope` is not an import id: ids are UUIDs like ",
        ),
        (
            &["api", "retrieve-headless-import", "--id", "nope"][..],
            "`nope` is not an id: ids are UUIDs like ",
        ),
        (
            &["import", SAMPLE, "--schema-id", "nope"][..],
            "`nope` is not a schema id: ids are UUIDs like ",
        ),
    ] {
        let output = dromo_bare(args);
        assert_eq!(code(&output), 2, "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("invalid character"), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

#[test]
fn a_mistyped_command_gets_a_suggestion() {
    let output = dromo_bare(&["improt", "x.csv"]);
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("tip:") && stderr.contains("'import'"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let output = dromo_bare(&["api", "list-headless-import"]);
    assert!(
        text(&output.stderr).contains("'list-headless-imports'"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn stand_in_flag_says_its_state_ends_with_the_command() {
    let output = dromo_bare(&["--stand-in", "imports", "list"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("its imports and schemas end with the command"),
        "{}",
        text(&output.stderr)
    );
    // An id from another command is unknown to this one's stand-in: the message says why.
    let output = dromo_bare(&["--stand-in", "wait", "94187d21-9820-420f-b08c-a80cbbf52604"]);
    assert_eq!(code(&output), 6);
    let stderr = text(&output.stderr);
    let error = stderr.lines().find(|l| l.starts_with("error:")).unwrap();
    assert!(error.contains("(HTTP 404)"), "{error}");
    assert!(error.contains("state ends with the command"), "{error}");
    assert!(error.contains("dromo stand-in"), "{error}");
    assert!(!error.contains("check the id"), "{error}");
}

#[test]
fn an_empty_list_prints_an_integer_count_and_an_empty_results_array() {
    let output = dromo_bare(&["--stand-in", "api", "list-headless-imports", "--json"]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.trim(), r#"{"count":0,"results":[]}"#);
}

#[test]
fn the_readme_schema_file_creates_a_saved_schema() {
    let output = dromo_bare(&[
        "--stand-in",
        "api",
        "create-import-schema",
        "--json-body",
        "tests/data/schema.json",
    ]);
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let created: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(created["name"], "people");
    assert_eq!(created["fields"][0]["key"], "first_name");
}

#[test]
fn generated_flags_have_descriptions() {
    for (operation, expected) in [
        // The spec's own description.
        ("create-headless-import", "Name of the file being imported"),
        // None in the spec: what the flag sets, from the spec.
        (
            "create-import-schema",
            "Sets `name` in the request body (text)",
        ),
        ("get-upload-metadata", "The `id` path parameter (a UUID)."),
    ] {
        let output = dromo_bare(&["api", operation, "--help"]);
        assert_eq!(code(&output), 0);
        let help = text(&output.stdout);
        assert!(help.contains(expected), "{operation}: {help}");
        // Every flag line is followed by a description line.
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with("--") {
                let next = lines.get(i + 1).map_or("", |l| l.trim());
                assert!(!next.is_empty(), "{operation}: `{line}` has no description");
            }
        }
    }
}
