//! Prism, the spec-driven mock server the tests run against (`DROMO_PRISM_URL`).
//!
//! Installed from the npm registry at the version pinned by `xtask/prism/package-lock.json`,
//! started on a free port of 127.0.0.1 with `--errors`: request validation is on (Prism's
//! default), a request without `X-Dromo-License-Key` gets 401 and a body that does not fit the
//! spec gets 422 with the list of violations. `--errors` also turns a response that violates
//! the spec (an example of the spec that does not fit its own schema) into a 500.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `package.json` and `package-lock.json` live, relative to the repository.
pub const PRISM_DIR: &str = "xtask/prism";
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running Prism; dropping it stops the server.
pub struct Prism {
    child: Child,
    pub url: String,
    pub log: PathBuf,
}

impl Drop for Prism {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn tool_version(program: &str) -> Option<String> {
    let output = Command::new(program).arg("--version").output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Fails with install instructions when Node.js or npm is missing.
pub fn require_node() -> Result<()> {
    let node = tool_version("node");
    let npm = tool_version("npm");
    match (node, npm) {
        (Some(node), Some(npm)) => {
            eprintln!("Node.js {node}, npm {npm}");
            Ok(())
        }
        (node, npm) => {
            let missing: Vec<&str> = [("node", node.is_none()), ("npm", npm.is_none())]
                .into_iter()
                .filter_map(|(name, absent)| absent.then_some(name))
                .collect();
            bail!(
                "{} not found: Prism (the mock server of the tests) needs Node.js 18 or later and npm. \
                 Install them (Debian/Ubuntu: `sudo apt-get install -y nodejs npm`; otherwise \
                 https://nodejs.org/en/download), or run `cargo xtask test --no-prism` to skip the \
                 Prism-backed tests.",
                missing.join(" and ")
            )
        }
    }
}

fn pinned_version(dir: &Path) -> Result<String> {
    let lock_path = dir.join("package-lock.json");
    let lock: Value = serde_json::from_slice(
        &std::fs::read(&lock_path)
            .with_context(|| format!("cannot read {}", lock_path.display()))?,
    )
    .with_context(|| format!("{} is not valid JSON", lock_path.display()))?;
    lock.pointer("/packages/node_modules~1@stoplight~1prism-cli/version")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("{} does not pin @stoplight/prism-cli", lock_path.display()))
}

fn installed_version(dir: &Path) -> Option<String> {
    let manifest = dir.join("node_modules/@stoplight/prism-cli/package.json");
    let value: Value = serde_json::from_slice(&std::fs::read(manifest).ok()?).ok()?;
    value
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Installs Prism with `npm ci` unless the pinned version is already there; returns its binary.
pub fn ensure_installed(repo: &Path) -> Result<PathBuf> {
    require_node()?;
    let dir = repo.join(PRISM_DIR);
    let pinned = pinned_version(&dir)?;
    let bin = dir.join("node_modules/.bin/prism");
    if bin.exists() && installed_version(&dir).as_deref() == Some(pinned.as_str()) {
        eprintln!("Prism {pinned} is installed in {}", dir.display());
        return Ok(bin);
    }
    crate::util::run_step(
        &format!("install Prism {pinned}"),
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir),
    )?;
    if !bin.exists() {
        bail!("`npm ci` succeeded but {} is missing", bin.display());
    }
    Ok(bin)
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").context("cannot bind 127.0.0.1:0 to find a free port")?;
    Ok(listener.local_addr()?.port())
}

fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// True once something on `addr` answers an HTTP request.
fn answers_http(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 5];
    stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

/// Starts Prism on a free port of 127.0.0.1 and waits until it answers.
pub fn start(repo: &Path, bin: &Path, spec: &Path) -> Result<Prism> {
    spawn(repo, bin, spec, &["--errors"])
}

/// Starts Prism in dynamic mode (a new random body, valid for the spec, for every call) on the
/// vendored spec, with `--errors` (a generated body that breaks the spec becomes a 500, never
/// a decode failure blamed on the client). The vendored spec, not the corrected one the client
/// is generated from: every answer the upstream spec allows must decode, so a correction that
/// narrows what we accept (as `count` once did, issue 8 finding 10) fails the sweep.
pub fn start_dynamic(repo: &Path, bin: &Path) -> Result<Prism> {
    let spec = repo.join(crate::update_spec::SPEC_PATH);
    spawn(repo, bin, &spec, &["--errors", "--dynamic"])
}

fn spawn(repo: &Path, bin: &Path, spec: &Path, mode: &[&str]) -> Result<Prism> {
    let port = free_port()?;
    // One log per port: two runs sharing a target directory do not truncate each other's.
    let log = crate::util::target_dir(repo).join(format!("prism-{port}.log"));
    if let Some(parent) = log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let out =
        std::fs::File::create(&log).with_context(|| format!("cannot create {}", log.display()))?;
    let err = out.try_clone()?;
    let mut cmd = Command::new(bin);
    cmd.arg("mock")
        .arg(spec)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(mode)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    eprintln!("\n==> start Prism: {}", crate::util::display_command(&cmd));
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let mut prism = Prism {
        child,
        url: format!("http://127.0.0.1:{port}"),
        log,
    };

    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    loop {
        if let Some(status) = prism.child.try_wait()? {
            bail!(
                "Prism exited ({status}) before answering; its output ({}):\n{}",
                prism.log.display(),
                log_tail(&prism.log, 30)
            );
        }
        if answers_http(addr) {
            eprintln!(
                "Prism answers at {} (log: {})",
                prism.url,
                prism.log.display()
            );
            return Ok(prism);
        }
        if started.elapsed() > STARTUP_TIMEOUT {
            bail!(
                "Prism did not answer on {} within {} s; its output ({}):\n{}",
                prism.url,
                STARTUP_TIMEOUT.as_secs(),
                prism.log.display(),
                log_tail(&prism.log, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
