//! Maintenance commands for dromo-client: `cargo xtask <command>`.
//!
//! - `test`: formatting, clippy, the tests against Prism, the docs, the packaged crate.
//! - `update-spec`: vendor a new `openapi.json` after proving it generates and compiles.
//! - `codegen`: print the generated code; keep `xtask/api-snapshot.txt` current.
//! - `package-check`: only the packaged-crate check of `test`.
//! - `bench-build`: cold-build cost against two baselines, in alternating rounds (not in `test`).
//! - `docs-corpus`: extract the request examples of Dromo's docs into `tests/data/docs-corpus.json`.

// The crate's code-generation pipeline, shared with build.rs. Its lints are the library's
// business (clippy checks it as part of build.rs); here it is only reused.
#[allow(dead_code, clippy::all)]
#[path = "../../src/codegen/mod.rs"]
mod codegen;

mod bench_build;
mod codegen_cmd;
mod docs_corpus;
mod feature_check;
mod package_check;
mod prism;
mod provision;
mod snapshot;
mod spec_diff;
mod test_cmd;
mod update_spec;
mod util;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Maintenance commands for dromo-client")]
struct Cli {
    /// The repository to work on (default: the one this xtask was built from).
    #[arg(long, global = true, value_name = "DIR")]
    repo: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every check CI runs: fmt, clippy, tests against Prism, docs, the packaged crate.
    Test(test_cmd::Args),
    /// Download (or read) a new spec, report what changed, and vendor it if it generates and
    /// compiles.
    UpdateSpec(update_spec::Args),
    /// Print the code generated from the vendored spec, or refresh the public-API snapshot.
    Codegen(codegen_cmd::Args),
    /// Package the crate and build a crate that depends on the package.
    PackageCheck,
    /// Extract the request examples of Dromo's docs (a `dromoio/docs` checkout) into the test
    /// corpus `tests/data/docs-corpus.json`.
    DocsCorpus(docs_corpus::Args),
    /// Build a crate using dromo-client and two baselines from scratch, in alternating rounds,
    /// and print the cpu and wall ratios (a benchmark: not part of `test`).
    BenchBuild(bench_build::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let repo = cli.repo.unwrap_or_else(util::default_repo);
    let result = match &cli.command {
        Command::Test(args) => test_cmd::run(&repo, args).map(|()| ExitCode::SUCCESS),
        Command::UpdateSpec(args) => update_spec::run(&repo, args),
        Command::Codegen(args) => codegen_cmd::run(&repo, args),
        Command::PackageCheck => package_check::run(&repo).map(|()| ExitCode::SUCCESS),
        Command::DocsCorpus(args) => docs_corpus::run(&repo, args).map(|()| ExitCode::SUCCESS),
        Command::BenchBuild(args) => bench_build::run(&repo, args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
