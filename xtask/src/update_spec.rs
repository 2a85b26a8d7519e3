//! `cargo xtask update-spec`: fetch Dromo's specs, prove they generate and compile, vendor them.
//!
//! Dromo publishes two specs, vendored side by side under upstream's names: `openapi.json` (the
//! main API) and `sessions-openapi.json` (the Sessions API). Each is fetched (or read from a
//! file), checked and reported on its own; nothing is written unless every check of every
//! candidate passed: the download, the JSON, the OpenAPI shape, the conversion and generation
//! (the very pipeline build.rs runs) and, unless told otherwise, a `cargo check` of a copy of
//! the crate built from the candidates.

use crate::codegen::Spec;
use crate::{codegen, snapshot, spec_diff, util};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// Where Dromo publishes its main spec.
pub const DEFAULT_URL: &str = "https://developer.dromo.io/api-reference/openapi.json";
/// Where Dromo publishes its Sessions API spec (beside the main one, `api-reference/` of
/// `dromoio/docs`).
pub const SESSIONS_DEFAULT_URL: &str =
    "https://developer.dromo.io/api-reference/sessions-openapi.json";

/// The vendored main spec and its pin, relative to the repository.
pub const SPEC_PATH: &str = "openapi.json";
pub const PIN_PATH: &str = "tests/openapi.sha256";
/// The vendored Sessions API spec and its pin.
pub const SESSIONS_SPEC_PATH: &str = "sessions-openapi.json";
pub const SESSIONS_PIN_PATH: &str = "tests/sessions-openapi.sha256";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to download the main spec (`openapi.json`) from [default: Dromo's].
    #[arg(long, conflicts_with = "file")]
    pub url: Option<String>,
    /// Read the candidate main spec from a local file instead (no network).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Where to download the Sessions API spec (`sessions-openapi.json`) from [default:
    /// Dromo's].
    #[arg(long, conflicts_with = "sessions_file")]
    pub sessions_url: Option<String>,
    /// Read the candidate Sessions API spec from a local file instead (no network).
    #[arg(long, value_name = "PATH")]
    pub sessions_file: Option<PathBuf>,
    /// Change nothing; exit 1 with the change report when a candidate differs from its
    /// vendored spec, 0 when all are the same.
    #[arg(long)]
    pub check: bool,
    /// Skip the `cargo check` of a copy of the crate built from the candidates (faster; the
    /// conversion and generation are still checked).
    #[arg(long)]
    pub no_compile_check: bool,
    /// Download timeout, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
}

/// Where a spec's vendored file and pin live.
fn paths(which: Spec) -> (&'static str, &'static str) {
    match which {
        Spec::Main => (SPEC_PATH, PIN_PATH),
        Spec::Sessions => (SESSIONS_SPEC_PATH, SESSIONS_PIN_PATH),
    }
}

/// Where each spec comes from: the ones named by an option; both from Dromo when none is.
fn sources(args: &Args) -> Vec<(Spec, Option<&PathBuf>, String)> {
    let main = (args.url.is_some() || args.file.is_some()).then(|| {
        (
            Spec::Main,
            args.file.as_ref(),
            args.url.clone().unwrap_or_else(|| DEFAULT_URL.to_owned()),
        )
    });
    let sessions = (args.sessions_url.is_some() || args.sessions_file.is_some()).then(|| {
        (
            Spec::Sessions,
            args.sessions_file.as_ref(),
            args.sessions_url
                .clone()
                .unwrap_or_else(|| SESSIONS_DEFAULT_URL.to_owned()),
        )
    });
    match (main, sessions) {
        (None, None) => vec![
            (Spec::Main, None, DEFAULT_URL.to_owned()),
            (Spec::Sessions, None, SESSIONS_DEFAULT_URL.to_owned()),
        ],
        (main, sessions) => main.into_iter().chain(sessions).collect(),
    }
}

/// A candidate that differs from its vendored file.
struct Changed {
    which: Spec,
    source: String,
    bytes: Vec<u8>,
    breaking: usize,
}

pub fn run(repo: &Path, args: &Args) -> Result<ExitCode> {
    let mut changed = Vec::new();
    for (which, file, url) in sources(args) {
        let (vendored, _) = paths(which);
        let (source, candidate) = match file {
            Some(path) => (
                path.display().to_string(),
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
            ),
            None => (url.clone(), download(&url, args.timeout)?),
        };
        let new_doc = parse_openapi(&candidate)
            .with_context(|| format!("refusing the spec from {source}"))?;
        let spec_path = repo.join(vendored);
        let current = std::fs::read(&spec_path)
            .with_context(|| format!("cannot read {}", spec_path.display()))?;
        if current == candidate {
            println!(
                "{vendored} is up to date with {source} (sha256 {}).",
                util::sha256_hex(&current)
            );
            continue;
        }
        let old_doc: Value = serde_json::from_slice(&current)
            .with_context(|| format!("the vendored {} is not valid JSON", spec_path.display()))?;
        let report = spec_diff::diff(&old_doc, &new_doc);
        println!("{vendored}, from {source}:");
        print!("{}", report.render());
        changed.push(Changed {
            which,
            source,
            bytes: candidate,
            breaking: report.breaking(),
        });
    }
    if changed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }

    if args.check {
        for c in &changed {
            println!(
                "\n{} differs from {}: run `cargo xtask update-spec` to update it (nothing was changed).",
                paths(c.which).0,
                c.source
            );
        }
        return Ok(ExitCode::from(1));
    }

    // Every candidate must generate before anything is written.
    for c in &changed {
        codegen::generate_spec(&c.bytes, c.which, false).map_err(|e| {
            anyhow!(
                "refusing the spec from {}: the client cannot be generated from it: {e} ({} left unchanged)",
                c.source,
                vendored_list()
            )
        })?;
    }
    // The specs as they will be: each candidate, or the vendored file.
    let mut specs = Vec::new();
    for which in Spec::ALL {
        let bytes = match changed.iter().find(|c| c.which == which) {
            Some(c) => c.bytes.clone(),
            None => {
                let path = repo.join(paths(which).0);
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?
            }
        };
        specs.push((which, bytes));
    }
    if args.no_compile_check {
        println!("\nSkipping the compile check (--no-compile-check).");
    } else {
        let sources: Vec<&str> = changed.iter().map(|c| c.source.as_str()).collect();
        compile_check(repo, &specs)
            .with_context(|| format!("refusing the spec from {}", sources.join(" and ")))?;
    }
    let mut codes = Vec::new();
    for (which, bytes) in &specs {
        codes.push(codegen::generate_spec(bytes, *which, false).map_err(|e| anyhow!("{e}"))?);
    }
    let listing = snapshot::full_listing(&codes[0], &codes[1])?;

    let mut breaking = 0;
    for c in &changed {
        let (vendored, pin) = paths(c.which);
        write_replacing(&repo.join(vendored), &c.bytes)?;
        let digest = util::sha256_hex(&c.bytes);
        let pin_path = repo.join(pin);
        std::fs::write(&pin_path, format!("{digest}\n"))
            .with_context(|| format!("cannot write {}", pin_path.display()))?;
        println!("\nUpdated {vendored} (sha256 {digest}) and {pin}.");
        breaking += c.breaking;
    }
    let snapshot_path = repo.join(snapshot::SNAPSHOT_PATH);
    std::fs::write(&snapshot_path, listing)
        .with_context(|| format!("cannot write {}", snapshot_path.display()))?;
    println!("Regenerated {}.", snapshot::SNAPSHOT_PATH);
    if breaking > 0 {
        println!(
            "{breaking} BREAKING change(s): review them (and the diff of {}) before releasing.",
            snapshot::SNAPSHOT_PATH
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// "openapi.json and sessions-openapi.json", for refusals.
fn vendored_list() -> String {
    format!("{SPEC_PATH} and {SESSIONS_SPEC_PATH}")
}

/// Downloads the spec, refusing failures, non-2xx answers and HTML pages.
fn download(url: &str, timeout_secs: u64) -> Result<Vec<u8>> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(timeout_secs))
        .user_agent(concat!("dromo-client-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot build the HTTP client")?;
    let response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .map_err(|e| describe_reqwest_error(url, timeout_secs, &e))?;
    let status = response.status();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response
        .bytes()
        .map_err(|e| describe_reqwest_error(url, timeout_secs, &e))?;
    if !status.is_success() {
        bail!("{url} answered {status}{}", body_excerpt(&body));
    }
    if content_type.to_ascii_lowercase().contains("text/html") || looks_like_html(&body) {
        let shown = if content_type.is_empty() {
            "no content-type"
        } else {
            content_type.as_str()
        };
        bail!("{url} answered an HTML page ({shown}), not the JSON spec");
    }
    Ok(body.to_vec())
}

fn describe_reqwest_error(url: &str, timeout_secs: u64, e: &reqwest::Error) -> anyhow::Error {
    if e.is_timeout() {
        return anyhow!("downloading {url} timed out after {timeout_secs} s");
    }
    let mut message = format!("cannot download {url}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    anyhow!(message)
}

fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return String::new();
    }
    let cut: String = one_line.chars().take(120).collect();
    let ellipsis = if one_line.chars().count() > 120 {
        "..."
    } else {
        ""
    };
    format!(": {cut}{ellipsis}")
}

fn looks_like_html(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
}

/// Checks that the bytes are JSON and an OpenAPI document.
pub fn parse_openapi(bytes: &[u8]) -> Result<Value> {
    if looks_like_html(bytes) {
        bail!("it is an HTML page, not JSON");
    }
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| anyhow!("it is not valid JSON: {e}"))?;
    let Some(map) = doc.as_object() else {
        bail!("it is not an OpenAPI document: the JSON is not an object");
    };
    match map.get("openapi") {
        Some(Value::String(v)) if v.starts_with("3.") => {}
        Some(v) => bail!("it is not an OpenAPI 3 document: `openapi` is {v}"),
        None => bail!("it is not an OpenAPI document: no `openapi` field"),
    }
    if !map.get("paths").is_some_and(Value::is_object) {
        bail!("it is not an OpenAPI document: no `paths` object");
    }
    Ok(doc)
}

/// The folder of the derive macro's crate, a path dependency of the library.
const DERIVE_CRATE_DIR: &str = "dromo-client-derive";

/// Builds a copy of the crate (manifest, build.rs, src/, lock file) with the given specs, the
/// way a user's build would, and fails with the compiler's first error if it does not compile.
fn compile_check(repo: &Path, specs: &[(Spec, Vec<u8>)]) -> Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("dromo-client-check-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let copy = dir.path();
    let manifest =
        std::fs::read_to_string(repo.join("Cargo.toml")).context("cannot read Cargo.toml")?;
    std::fs::write(
        copy.join("Cargo.toml"),
        util::standalone_manifest(&manifest),
    )?;
    for file in ["build.rs", "Cargo.lock"] {
        let from = repo.join(file);
        if from.exists() {
            std::fs::copy(&from, copy.join(file))
                .with_context(|| format!("cannot copy {}", from.display()))?;
        }
    }
    util::copy_dir(&repo.join("src"), &copy.join("src"))?;
    // The library's path dependency: the derive macro's crate.
    let derive = repo.join(DERIVE_CRATE_DIR);
    if derive.exists() {
        util::copy_dir(&derive, &copy.join(DERIVE_CRATE_DIR))?;
    }
    for (which, bytes) in specs {
        std::fs::write(copy.join(paths(*which).0), bytes)?;
    }

    let target_dir = util::target_dir(repo).join("xtask-check");
    // The library as users build it, then the `dromo` binary, whose `api` commands are
    // generated from the spec too (feature `cli`).
    let checks: [&[&str]; 2] = [&["--lib"], &["--features", "cli", "--bin", "dromo"]];
    for selection in checks {
        let mut cmd = util::cargo();
        cmd.args(["check", "--offline"])
            .args(selection)
            .args(["--quiet", "--message-format", "short"])
            .current_dir(copy)
            .env("CARGO_TARGET_DIR", &target_dir);
        println!(
            "\nCompile check: `cargo check --offline {}` of a copy of the crate with the new spec(s) (target dir {})...",
            selection.join(" "),
            target_dir.display()
        );
        let output = run_captured(&mut cmd)?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!(
                "the crate does not compile with it ({} left unchanged); first errors:\n{}",
                vendored_list(),
                util::first_error_lines(&stderr, 25)
            );
        }
    }
    println!("Compile check passed.");
    Ok(())
}

fn run_captured(cmd: &mut Command) -> Result<std::process::Output> {
    cmd.output()
        .with_context(|| format!("cannot run `{}`", util::display_command(cmd)))
}

/// Replaces a file atomically, keeping its permissions (the vendored spec is read-only on
/// purpose: it is changed by this command, not by hand).
fn write_replacing(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(tmp.path(), meta.permissions())?;
    }
    tmp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_an_openapi_document() {
        let cases: [(&[u8], &str); 5] = [
            (b"<!doctype html><html>", "HTML page"),
            (b"{\"openapi\": ", "not valid JSON"),
            (b"[1, 2]", "not an object"),
            (
                b"{\"swagger\": \"2.0\", \"paths\": {}}",
                "no `openapi` field",
            ),
            (b"{\"openapi\": \"3.1.0\"}", "no `paths` object"),
        ];
        for (bytes, expected) in cases {
            match parse_openapi(bytes) {
                Ok(_) => panic!("accepted {:?}", String::from_utf8_lossy(bytes)),
                Err(e) => assert!(
                    e.to_string().contains(expected),
                    "{e} (expected {expected})"
                ),
            }
        }
        assert!(parse_openapi(b"{\"openapi\": \"3.1.0\", \"paths\": {}}").is_ok());
    }

    #[test]
    fn body_excerpt_is_one_short_line() {
        assert_eq!(body_excerpt(b""), "");
        assert_eq!(body_excerpt(b"  oops\n  broken \n"), ": oops broken");
        let long = "x".repeat(300);
        assert_eq!(body_excerpt(long.as_bytes()).len(), 2 + 120 + 3);
    }
}
