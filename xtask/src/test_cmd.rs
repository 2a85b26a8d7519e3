//! `cargo xtask test`: everything CI checks, in order, stopping at the first failure.

use crate::{package_check, prism, provision, update_spec, util};
use anyhow::Result;
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
