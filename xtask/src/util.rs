//! Small helpers shared by the commands: running programs, hashing, copying.

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository this xtask was built from (the parent of `xtask/`).
pub fn default_repo() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The `cargo` that runs us (so a toolchain chosen by rustup is kept), or `cargo` from PATH.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    Command::new(cargo)
}

/// Cargo's target directory for `repo`, as `cargo metadata` reports it (so `CARGO_TARGET_DIR`,
/// `CARGO_BUILD_TARGET_DIR` and `build.target-dir` of a cargo config are honoured). When cargo
/// cannot read the manifest (a partial copy of the repository), `CARGO_TARGET_DIR` or
/// `<repo>/target`.
pub fn target_dir(repo: &Path) -> PathBuf {
    target_dir_for(repo, std::env::var_os("CARGO_TARGET_DIR"))
}

/// [`target_dir`] with `CARGO_TARGET_DIR` given (`None`: unset).
fn target_dir_for(repo: &Path, cargo_target_dir: Option<OsString>) -> PathBuf {
    let mut cmd = cargo();
    cmd.args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ])
    .current_dir(repo)
    .stderr(std::process::Stdio::null());
    match &cargo_target_dir {
        Some(dir) => cmd.env("CARGO_TARGET_DIR", dir),
        None => cmd.env_remove("CARGO_TARGET_DIR"),
    };
    let from_metadata = cmd
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|meta| meta.get("target_directory")?.as_str().map(PathBuf::from));
    from_metadata.unwrap_or_else(|| match cargo_target_dir {
        // Relative values are relative to where cargo runs: here.
        Some(dir) => std::env::current_dir()
            .map(|cwd| cwd.join(&dir))
            .unwrap_or_else(|_| PathBuf::from(dir)),
        None => repo.join("target"),
    })
}

/// Renders a command line for messages: `cargo clippy --workspace`.
pub fn display_command(cmd: &Command) -> String {
    let mut parts: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs a command with inherited stdout/stderr (the output reaches the console as it comes) and
/// fails with a message naming the step when it does not succeed.
pub fn run_step(step: &str, cmd: &mut Command) -> Result<()> {
    let line = display_command(cmd);
    eprintln!("\n==> {step}: {line}");
    let status = cmd
        .status()
        .with_context(|| format!("{step}: cannot start `{line}`"))?;
    if !status.success() {
        bail!("{step} failed ({status}): `{line}`");
    }
    Ok(())
}

/// Lowercase hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Copies a directory tree (files and directories only; symlinks are followed).
pub fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| {
                format!(
                    "cannot copy {} to {}",
                    entry.path().display(),
                    target.display()
                )
            })?;
        }
    }
    Ok(())
}

/// Removes the `[workspace]` table (and its `[workspace.*]` sub-tables) from a Cargo.toml and
/// declares the package its own, empty workspace, so a copy of the crate builds on its own. The
/// copy holds the library only: the `[[test]]`, `[[example]]` and `[[bench]]` targets go too
/// (cargo refuses a declared target whose file is missing).
pub fn standalone_manifest(manifest: &str) -> String {
    let mut out = String::new();
    let mut dropped = false;
    for line in manifest.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            let header = trimmed.trim_start_matches('[').trim_start();
            dropped = header.starts_with("workspace]")
                || header.starts_with("workspace.")
                || header.starts_with("workspace ")
                || ["test]", "example]", "bench]"]
                    .iter()
                    .any(|target| header.starts_with(target));
        }
        if !dropped {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str("\n[workspace]\n");
    out
}

/// The first lines of a compiler output that show its first error (up to `max` lines).
pub fn first_error_lines(output: &str, max: usize) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            (l.starts_with("error") || l.contains(": error"))
                && !l.starts_with("error: could not compile")
        })
        .unwrap_or(0);
    lines[start..]
        .iter()
        .take(max)
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standalone_manifest_drops_only_the_workspace_tables() {
        let manifest = "[package]\nname = \"a\"\n\n[[test]]\nname = \"cli\"\nrequired-features = [\"cli\"]\n\n[workspace]\nmembers = [\"xtask\"]\n\n[workspace.lints]\nx = 1\n\n[package.metadata.docs.rs]\nall-features = false\n";
        let out = standalone_manifest(manifest);
        assert!(!out.contains("[[test]]"), "{out}");
        assert!(!out.contains("required-features"), "{out}");
        assert!(!out.contains("members"), "{out}");
        assert!(!out.contains("x = 1"), "{out}");
        assert!(out.contains("[package.metadata.docs.rs]"), "{out}");
        assert!(out.contains("all-features = false"), "{out}");
        assert!(out.trim_end().ends_with("[workspace]"), "{out}");
        assert_eq!(out.matches("[workspace]").count(), 1, "{out}");
    }

    #[test]
    fn the_target_directory_follows_cargo_target_dir() {
        let repo = default_repo();
        let elsewhere = tempfile::tempdir().unwrap();
        assert_eq!(
            target_dir_for(&repo, Some(elsewhere.path().into())),
            elsewhere.path()
        );
        // A directory cargo cannot read as a package: the variable, else `<repo>/target`.
        let not_a_crate = tempfile::tempdir().unwrap();
        assert_eq!(
            target_dir_for(not_a_crate.path(), Some(elsewhere.path().into())),
            elsewhere.path()
        );
        assert_eq!(
            target_dir_for(not_a_crate.path(), None),
            not_a_crate.path().join("target")
        );
    }

    /// Finding 13 (xtask) and issue 19 (tests/fidelity.rs): every path into the target
    /// directory comes from cargo ([`target_dir`] here, `CARGO_TARGET_TMPDIR` in integration
    /// tests); a literal `target` directory breaks `cargo xtask test` when `CARGO_TARGET_DIR` is
    /// set.
    #[test]
    fn no_command_nor_test_assumes_a_target_directory_named_target() {
        let repo = default_repo();
        let needle = ["join(", "\"target\")"].concat();
        let mut dirs = vec![repo.join("xtask").join("src"), repo.join("tests")];
        let mut checked = 0;
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("xtask/src/util.rs")
                {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(
                    !text.contains(&needle),
                    "{} joins a literal `target` directory: ask cargo (util::target_dir, \
                     CARGO_TARGET_TMPDIR)",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "only {checked} files checked");
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn first_error_lines_starts_at_the_first_error() {
        let short = "warning: x\nsrc/lib.rs:1:1: error[E0428]: defined twice\nerror: could not compile `a`\n";
        assert_eq!(
            first_error_lines(short, 5),
            "src/lib.rs:1:1: error[E0428]: defined twice\nerror: could not compile `a`"
        );
        let out = "   Compiling a\nerror: could not compile `a`\nwarning: x\nerror[E0425]: cannot find value\n --> src/lib.rs:1:1\nmore\n";
        assert_eq!(
            first_error_lines(out, 2),
            "error[E0425]: cannot find value\n --> src/lib.rs:1:1"
        );
    }
}
