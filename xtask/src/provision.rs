//! `cargo xtask test` sets up its own machine: the programs the checks need (rustfmt and clippy,
//! Node.js and npm for Prism, `redis-server` for the Redis tests) are looked up first, before
//! anything is built, and installed where we may: rustup components with rustup, system
//! packages with `apt-get` as root (or through `sudo` when it needs no password, or asks on a
//! terminal). Otherwise the run stops at once with the one command to run.

use anyhow::{bail, Context, Result};
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A system program the checks need, and the Debian package that brings it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tool {
    /// The program looked up on `PATH`.
    pub program: &'static str,
    /// The Debian/Ubuntu package that installs it.
    pub package: &'static str,
    /// Why the checks need it.
    pub why: &'static str,
}

pub const NODE: Tool = Tool {
    program: "node",
    package: "nodejs",
    why: "Prism, the tests' mock server, runs on Node.js",
};
pub const NPM: Tool = Tool {
    program: "npm",
    package: "npm",
    why: "installs Prism",
};
pub const REDIS: Tool = Tool {
    program: "redis-server",
    package: "redis-server",
    why: "tests/redis_limiter.rs starts its own",
};

pub const JQ: Tool = Tool {
    program: "jq",
    package: "jq",
    why: "the README's command-line lines pipe into it (tests/cli_readme.rs)",
};
pub const CURL: Tool = Tool {
    program: "curl",
    package: "curl",
    why: "tests/stand_in_server.rs drives a whole import through `dromo stand-in` with curl alone",
};

/// What the machine offers for installing packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host {
    /// We run as root.
    pub root: bool,
    /// `apt-get` is on `PATH` (Debian, Ubuntu).
    pub apt: bool,
    /// `sudo` can be used: it needs no password, or it can ask for one on a terminal.
    pub sudo: bool,
}

/// What to do about the missing system programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Nothing is missing.
    Nothing,
    /// Run these commands (each a program and its arguments), in order.
    Install(Vec<Vec<String>>),
    /// Stop: the user must run `command` (or do what `advice` says).
    Stop {
        command: Option<String>,
        advice: String,
    },
}

/// The plan for the `missing` tools on `host`; `may_install` is false with `--no-install`.
pub fn plan(missing: &[Tool], host: Host, may_install: bool) -> Plan {
    if missing.is_empty() {
        return Plan::Nothing;
    }
    let mut packages: Vec<&str> = Vec::new();
    for tool in missing {
        if !packages.contains(&tool.package) {
            packages.push(tool.package);
        }
    }
    if !host.apt {
        let names: Vec<&str> = missing.iter().map(|t| t.program).collect();
        return Plan::Stop {
            command: None,
            advice: format!(
                "install {} with your system's package manager (e.g. `brew install node redis`), \
                 then run `cargo xtask test` again",
                names.join(", ")
            ),
        };
    }
    let prefix: &[&str] = if host.root { &[] } else { &["sudo"] };
    let install: Vec<String> = prefix
        .iter()
        .copied()
        .chain(["apt-get", "install", "-y"])
        .chain(packages.iter().copied())
        .map(str::to_owned)
        .collect();
    let update: Vec<String> = prefix
        .iter()
        .copied()
        .chain(["apt-get", "update"])
        .map(str::to_owned)
        .collect();
    if may_install && (host.root || host.sudo) {
        return Plan::Install(vec![update, install]);
    }
    let command = format!("{} && {}", update.join(" "), install.join(" "));
    let advice = if may_install {
        "not root, and sudo is not available: run it as root, then `cargo xtask test` again"
    } else {
        "--no-install: run it, then `cargo xtask test` again"
    };
    Plan::Stop {
        command: Some(command),
        advice: advice.to_owned(),
    }
}

/// The first `program` on `path` (a `PATH` value) that is a file.
pub fn find_program(program: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    let candidate = Path::new(program);
    if candidate.components().count() > 1 {
        return candidate.is_file().then(|| candidate.to_path_buf());
    }
    std::env::split_paths(path?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

fn on_path(program: &str) -> bool {
    find_program(program, std::env::var_os("PATH").as_deref()).is_some()
}

fn host() -> Host {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .is_some_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let sudo = !root
        && on_path("sudo")
        && (std::io::stdin().is_terminal()
            || Command::new("sudo")
                .args(["-n", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success()));
    Host {
        root,
        apt: on_path("apt-get"),
        sudo,
    }
}

/// The system programs the run needs.
pub fn needed(prism: bool) -> Vec<Tool> {
    let mut tools = vec![JQ, CURL];
    if prism {
        tools.extend([NODE, NPM]);
    }
    // The Redis tests' own switches (tests/redis_limiter.rs): skipped, or another binary.
    let skip_redis = std::env::var_os("DROMO_SKIP_REDIS").is_some_and(|v| !v.is_empty());
    if !skip_redis && std::env::var_os("DROMO_REDIS_SERVER").is_none() {
        tools.push(REDIS);
    }
    tools
}

/// Makes sure rustfmt, clippy and the `tools` are there, installing what may be installed.
pub fn ensure(tools: &[Tool], may_install: bool) -> Result<()> {
    ensure_rust_components(may_install)?;
    let missing: Vec<Tool> = tools
        .iter()
        .copied()
        .filter(|t| !on_path(t.program))
        .collect();
    for tool in &missing {
        eprintln!("{} not found ({})", tool.program, tool.why);
    }
    match plan(&missing, host(), may_install) {
        Plan::Nothing => Ok(()),
        Plan::Install(commands) => {
            for argv in commands {
                let mut cmd = Command::new(&argv[0]);
                cmd.args(&argv[1..])
                    .env("DEBIAN_FRONTEND", "noninteractive");
                crate::util::run_step("install the missing programs", &mut cmd)?;
            }
            let still: Vec<&str> = missing
                .iter()
                .filter(|t| !on_path(t.program))
                .map(|t| t.program)
                .collect();
            if !still.is_empty() {
                bail!(
                    "{} still not found on PATH after the installation",
                    still.join(", ")
                );
            }
            Ok(())
        }
        Plan::Stop { command, advice } => match command {
            Some(command) => bail!("missing programs; run:\n\n    {command}\n\n({advice})"),
            None => bail!("missing programs: {advice}"),
        },
    }
}

/// `cargo fmt` and `cargo clippy`: added with rustup when missing.
fn ensure_rust_components(may_install: bool) -> Result<()> {
    let works = |sub: &str| {
        crate::util::cargo()
            .args([sub, "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let missing: Vec<&str> = [("fmt", "rustfmt"), ("clippy", "clippy")]
        .into_iter()
        .filter(|(sub, _)| !works(sub))
        .map(|(_, component)| component)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let argv: Vec<OsString> = ["rustup", "component", "add"]
        .into_iter()
        .chain(missing.iter().copied())
        .map(OsString::from)
        .collect();
    let line = argv
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    if !may_install || !on_path("rustup") {
        bail!("{} missing; run:\n\n    {line}\n", missing.join(" and "));
    }
    crate::util::run_step(
        "add the Rust components",
        Command::new(&argv[0]).args(&argv[1..]),
    )
    .with_context(|| format!("{} missing", missing.join(" and ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: Host = Host {
        root: true,
        apt: true,
        sudo: false,
    };

    fn joined(commands: &[Vec<String>]) -> Vec<String> {
        commands.iter().map(|c| c.join(" ")).collect()
    }

    #[test]
    fn nothing_missing_nothing_to_do() {
        assert_eq!(plan(&[], ROOT, true), Plan::Nothing);
        assert_eq!(plan(&[], ROOT, false), Plan::Nothing);
    }

    #[test]
    fn root_with_apt_installs_every_missing_package_in_one_command() {
        let Plan::Install(commands) = plan(&[NODE, NPM, REDIS], ROOT, true) else {
            panic!("expected an installation")
        };
        assert_eq!(
            joined(&commands),
            [
                "apt-get update",
                "apt-get install -y nodejs npm redis-server"
            ]
        );
    }

    #[test]
    fn a_user_with_sudo_installs_through_sudo() {
        let host = Host {
            root: false,
            apt: true,
            sudo: true,
        };
        let Plan::Install(commands) = plan(&[REDIS], host, true) else {
            panic!("expected an installation")
        };
        assert_eq!(
            joined(&commands),
            [
                "sudo apt-get update",
                "sudo apt-get install -y redis-server"
            ]
        );
    }

    #[test]
    fn without_root_nor_sudo_it_stops_with_the_command() {
        let host = Host {
            root: false,
            apt: true,
            sudo: false,
        };
        assert_eq!(
            plan(&[REDIS], host, true),
            Plan::Stop {
                command: Some("sudo apt-get update && sudo apt-get install -y redis-server".into()),
                advice: "not root, and sudo is not available: run it as root, then \
                         `cargo xtask test` again"
                    .into(),
            }
        );
    }

    #[test]
    fn no_install_stops_even_as_root() {
        let Plan::Stop { command, .. } = plan(&[NODE, REDIS], ROOT, false) else {
            panic!("expected a stop")
        };
        assert_eq!(
            command.as_deref(),
            Some("apt-get update && apt-get install -y nodejs redis-server")
        );
    }

    #[test]
    fn without_apt_it_names_the_programs() {
        let host = Host {
            root: true,
            apt: false,
            sudo: false,
        };
        let Plan::Stop { command, advice } = plan(&[NPM, REDIS], host, true) else {
            panic!("expected a stop")
        };
        assert_eq!(command, None);
        assert!(advice.contains("npm, redis-server"), "{advice}");
    }

    #[test]
    fn find_program_searches_the_given_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("redis-server");
        std::fs::write(&fake, "").unwrap();
        let path = std::env::join_paths([dir.path()]).unwrap();
        assert_eq!(find_program("redis-server", Some(&path)), Some(fake));
        let empty = tempfile::tempdir().unwrap();
        let path = std::env::join_paths([empty.path()]).unwrap();
        assert_eq!(find_program("redis-server", Some(&path)), None);
        assert_eq!(find_program("redis-server", None), None);
    }
}
