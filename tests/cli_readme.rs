//! Every shell line of the README's "Command-line tool" section, run as written against
//! `dromo stand-in` (started by its own line), in one shell so that `$ID` and `$SCHEMA_ID` carry
//! from line to line. Every file a line names must be in the repository.
//!
//! Two adaptations, both checked: the port `8787` becomes a free one (parallel runs must not
//! collide), and the first line (`dromo stand-in … &`) and the last (`kill %1`) are done by the
//! test itself: it starts the stand-in as the line says, checks that the README's export line is
//! the one the stand-in printed, and stops it with SIGTERM.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const SECTION: &str = "## Command-line tool: `dromo`";
const README_PORT: &str = "8787";

/// The shell lines of the section's ```sh blocks, comments dropped.
fn shell_lines() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find(SECTION)
        .expect("the README has the CLI section");
    let rest = &readme[start + SECTION.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut lines = Vec::new();
    let mut in_sh = false;
    for line in section.lines() {
        if line.starts_with("```") {
            in_sh = !in_sh && line == "```sh";
            continue;
        }
        if in_sh {
            // A `#` after two spaces starts a comment; none of the lines quotes one.
            let code = line.split("  #").next().unwrap_or(line).trim_end();
            if !code.trim().is_empty() {
                lines.push(code.to_owned());
            }
        }
    }
    lines
}

fn have(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}

#[test]
fn every_cli_line_of_the_readme_runs_against_the_stand_in() {
    let lines = shell_lines();
    assert!(lines.len() >= 15, "the CLI section's lines: {lines:#?}");
    for line in &lines {
        let program = line
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .split('=')
            .next_back()
            .unwrap_or_default();
        assert!(
            ["dromo", "export", "kill", "$(dromo"].contains(&program),
            "a line that is not a dromo command: {line}"
        );
    }
    // Every file a line names is in the repository.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for line in &lines {
        for word in line.split_whitespace() {
            if word.starts_with("tests/") {
                assert!(
                    root.join(word).is_file(),
                    "`{line}` names {word}: no such file"
                );
            }
        }
    }
    if !have("jq") {
        eprintln!(
            "SKIPPED: jq is not installed (apt-get install -y jq); the README's lines use it"
        );
        return;
    }

    // The first line: the stand-in, on a free port instead of the README's.
    let first = &lines[0];
    let words: Vec<&str> = first.split_whitespace().collect();
    assert_eq!(words.first(), Some(&"dromo"), "{first}");
    assert_eq!(
        words.last(),
        Some(&"&"),
        "the first line serves in the background: {first}"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let args: Vec<String> = words[1..words.len() - 1]
        .iter()
        .map(|w| w.replace(README_PORT, &port))
        .collect();
    let mut server = Command::new(env!("CARGO_BIN_EXE_dromo"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run dromo stand-in");
    let mut printed = String::new();
    BufReader::new(server.stdout.take().expect("piped"))
        .read_line(&mut printed)
        .expect("read the export line");
    // The second line is the one it printed.
    assert_eq!(
        lines[1].replace(README_PORT, &port),
        printed.trim_end(),
        "the README's export line is not what `dromo stand-in` prints"
    );
    let last = lines.last().expect("lines");
    assert_eq!(last, "kill %1", "the last line stops the stand-in");

    // Every other line, in one shell, from a directory where `tests/` is the repository's.
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("tests"), dir.path().join("tests")).unwrap();
    let script = format!(
        "set -eu\nset -o pipefail\n{}\n",
        lines[1..lines.len() - 1]
            .iter()
            .map(|l| l.replace(README_PORT, &port))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let bin = Path::new(env!("CARGO_BIN_EXE_dromo"))
        .parent()
        .expect("the binary's directory");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["-x", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("DROMO_BASE_URL")
        .env_remove("DROMO_API_KEY")
        .output()
        .expect("run bash");
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let stopped = server.wait().expect("wait for the stand-in");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "a README line failed:\n--- stdout\n{stdout}\n--- stderr (bash -x)\n{stderr}"
    );
    assert_eq!(
        stopped.code(),
        Some(0),
        "the stand-in stops cleanly on SIGTERM"
    );

    // What the lines wrote is what the README says.
    let csv = std::fs::read_to_string(dir.path().join("rows.csv")).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("first_name,last_name,email,company,notes"),
        "CSV columns in the schema's order"
    );
    assert_eq!(csv.lines().count(), 51);
    let jsonl = std::fs::read_to_string(dir.path().join("rows.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 50);
    let pulled = std::fs::read_to_string(dir.path().join("people.json")).unwrap();
    assert!(pulled.contains("\"people\""), "{pulled}");
    // `dromo -q import … --out -` printed the rows and nothing else.
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("{\"first_name\""))
        .collect();
    assert_eq!(rows.len(), 50, "{stdout}");
}
