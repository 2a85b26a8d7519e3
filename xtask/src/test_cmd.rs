//! `cargo xtask test`: everything CI checks, in order, stopping at the first failure.

use crate::{feature_check, package_check, prism, provision, update_spec, util};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not install or start Prism; the tests that need it see no `DROMO_PRISM_URL` nor
    /// `DROMO_PRISM_BIN`.
    #[arg(long)]
    pub no_prism: bool,
    /// Skip the packaged-crate check.
    #[arg(long)]
    pub no_package_check: bool,
    /// Install nothing: when a program the checks need is missing (rustfmt, clippy, Node.js,
    /// npm, redis-server), stop with the command that installs it.
    #[arg(long)]
    pub no_install: bool,
}

/// The features the tests need beyond the ones the library's dev-dependency on itself turns on
/// (`stand-in`, `webhooks`, `derive`): the `[[test]]`s of Cargo.toml that require them run only
/// with them.
pub const TEST_FEATURES: &str = "dromo-client/cli,dromo-client/redis";

pub fn run(repo: &Path, args: &Args) -> Result<()> {
    // Before anything is built: what is missing is installed, or the run stops here.
    eprintln!("==> the programs the checks need");
    provision::ensure(&provision::needed(!args.no_prism), !args.no_install)?;

    util::run_step(
        "formatting",
        util::cargo()
            .args(["fmt", "--all", "--", "--check"])
            .current_dir(repo),
    )?;
    util::run_step(
        "clippy",
        util::cargo()
            .args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--features",
                TEST_FEATURES,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(repo),
    )?;

    // Each feature, and the default set, builds alone (`cargo check` per feature).
    feature_check::run(repo)?;

    {
        // Prism lives exactly as long as this block: the guard stops it on success, on a failed
        // test run and on an early return alike.
        let mut tests = util::cargo();
        // --no-fail-fast: every test target runs and prints its `test result:` line, so one
        // failure does not hide the state of the others.
        tests
            .args([
                "test",
                "--workspace",
                "--no-fail-fast",
                "--features",
                TEST_FEATURES,
            ])
            .current_dir(repo);
        let _prism = if args.no_prism {
            eprintln!("\n==> Prism skipped (--no-prism)");
            tests.env_remove("DROMO_PRISM_URL");
            tests.env_remove("DROMO_PRISM_DYNAMIC_URL");
            tests.env_remove("DROMO_PRISM_BIN");
            None
        } else {
            let bin = prism::ensure_installed(repo)?;
            let prism = prism::start(repo, &bin, &repo.join(update_spec::SPEC_PATH))?;
            tests.env("DROMO_PRISM_URL", &prism.url);
            // The decode sweep's Prism (tests/sweep.rs): random valid answers.
            let dynamic = prism::start_dynamic(repo, &bin)?;
            tests.env("DROMO_PRISM_DYNAMIC_URL", &dynamic.url);
            // tests/fidelity.rs starts its own Prism, as a validating proxy.
            tests.env("DROMO_PRISM_BIN", &bin);
            Some((prism, dynamic))
        };
        util::run_step("tests (all targets and doctests)", &mut tests)?;
    }

    // The README's "run" command, as a user types it on a fresh machine (no key: the stand-in).
    util::run_step(
        "the main job (README)",
        util::cargo()
            .args(["run", "--example", "import", "--", "tests/data/sample.csv"])
            .env_remove("DROMO_API_KEY")
            .env_remove("DROMO_BASE_URL")
            .current_dir(repo),
    )?;

    main_job_is_lean(repo)?;

    // `--help` answers with exit 0 (its text is unit-tested in the example itself).
    util::run_step(
        "the example's --help",
        util::cargo()
            .args(["run", "--quiet", "--example", "import", "--", "--help"])
            .current_dir(repo),
    )?;

    util::run_step(
        "documentation",
        util::cargo()
            .args([
                "doc",
                "--no-deps",
                "-p",
                "dromo-client",
                "--features",
                "stand-in,webhooks,redis",
            ])
            .env("RUSTDOCFLAGS", "-D warnings")
            .current_dir(repo),
    )?;

    if args.no_package_check {
        eprintln!("\n==> package check skipped (--no-package-check)");
    } else {
        package_check::run(repo)?;
    }
    eprintln!("\nAll checks passed.");
    Ok(())
}

/// Crates the main job must not compile: the command-line tool's, Redis's, and the tests' own.
/// (The examples are a package of their own for this; see `tests/examples/Cargo.toml`.)
const NOT_FOR_THE_MAIN_JOB: &[&str] = &[
    "clap",
    "indicatif",
    "anyhow",
    "redis",
    "wiremock",
    "proptest",
    "trybuild",
    "tracing-subscriber",
    "sha2",
    "toml",
    "signal-hook-registry",
];

/// The crates of a `cargo build -v` output (`Fresh NAME v..`, `Compiling NAME v..`).
fn compiled_crates(verbose_output: &str) -> BTreeSet<String> {
    verbose_output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("Fresh" | "Compiling"), Some(name), Some(version))
                    if version.starts_with('v') =>
                {
                    Some(name.to_owned())
                }
                _ => None,
            }
        })
        .collect()
}

/// The crates among `compiled` that the main job must not compile.
fn unwanted(compiled: &BTreeSet<String>) -> Vec<&str> {
    NOT_FOR_THE_MAIN_JOB
        .iter()
        .copied()
        .filter(|name| compiled.contains(*name))
        .collect()
}

/// The main job, just built, compiled none of [`NOT_FOR_THE_MAIN_JOB`] (its units, listed by
/// `cargo build -v`: all fresh, so this takes a second).
fn main_job_is_lean(repo: &Path) -> Result<()> {
    let mut cmd = util::cargo();
    cmd.args(["build", "-v", "--example", "import"])
        .current_dir(repo);
    eprintln!(
        "\n==> what the main job compiles: {}",
        util::display_command(&cmd)
    );
    let output = cmd.output().context("cannot run cargo build")?;
    if !output.status.success() {
        bail!(
            "`cargo build --example import` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let compiled = compiled_crates(&String::from_utf8_lossy(&output.stderr));
    let unwanted = unwanted(&compiled);
    if !unwanted.is_empty() {
        bail!(
            "the main job (`cargo run --example import`) compiles {}: crates the import does not \
             use (a dependency of tests/examples/Cargo.toml, or a feature of the library's \
             dev-dependency on itself, brings them)",
            unwanted.join(", ")
        );
    }
    eprintln!("{} crates, none of the tests' or the CLI's", compiled.len());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crates_of_a_verbose_build() {
        let output = "       Fresh unicode-ident v1.0.18\n   Compiling clap v4.5.1\n     Running `rustc --crate-name clap`\n   Compiling dromo-client v0.1.0 (/work)\n    Finished `dev` profile\n";
        let compiled = compiled_crates(output);
        assert_eq!(
            compiled.iter().map(String::as_str).collect::<Vec<_>>(),
            ["clap", "dromo-client", "unicode-ident"]
        );
        assert_eq!(unwanted(&compiled), ["clap"]);
    }
}
