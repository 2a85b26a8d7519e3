//! `cargo xtask codegen`: show the generated code and keep the public-API snapshot current.

use crate::codegen::Spec;
use crate::{codegen, snapshot};
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the generated Rust code to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Regenerate the public-API snapshot `xtask/api-snapshot.txt`.
    #[arg(long, conflicts_with = "check")]
    pub snapshot: bool,
    /// Fail if the public-API snapshot is stale (changes nothing).
    #[arg(long)]
    pub check: bool,
    /// Print (or write) the Sessions API's generated code (`sessions-openapi.json`) instead.
    #[arg(long)]
    pub sessions: bool,
}

/// The generated code for one vendored spec: exactly what build.rs writes.
pub fn generate_vendored_spec(repo: &Path, which: Spec) -> Result<String> {
    let spec_path = repo.join(which.file());
    let spec = std::fs::read(&spec_path)
        .with_context(|| format!("cannot read {}", spec_path.display()))?;
    codegen::generate_spec(&spec, which, false).map_err(|e| {
        anyhow!(
            "cannot generate the client from {}: {e}",
            spec_path.display()
        )
    })
}

/// The snapshot listing of both vendored specs' generated code.
pub fn vendored_listing(repo: &Path) -> Result<String> {
    snapshot::full_listing(
        &generate_vendored_spec(repo, Spec::Main)?,
        &generate_vendored_spec(repo, Spec::Sessions)?,
    )
}

/// Compares the snapshot file with the listing of freshly generated code (both specs).
pub fn snapshot_status(repo: &Path, listing: &str) -> Result<Result<(), String>> {
    let listing = listing.to_owned();
    let path = repo.join(snapshot::SNAPSHOT_PATH);
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    if stored == listing {
        return Ok(Ok(()));
    }
    Ok(Err(format!(
        "{} is stale: the generated public API changed. Review the differences below, then run \
         `cargo xtask codegen --snapshot` and commit the file.\n{}",
        snapshot::SNAPSHOT_PATH,
        snapshot::listing_diff(&stored, &listing, 40)
    )))
}

pub fn run(repo: &Path, args: &Args) -> Result<ExitCode> {
    let which = if args.sessions {
        Spec::Sessions
    } else {
        Spec::Main
    };
    let code = generate_vendored_spec(repo, which)?;
    if args.check {
        return match snapshot_status(repo, &vendored_listing(repo)?)? {
            Ok(()) => {
                println!("{} is up to date.", snapshot::SNAPSHOT_PATH);
                Ok(ExitCode::SUCCESS)
            }
            Err(message) => bail!("{message}"),
        };
    }
    if args.snapshot {
        let path = repo.join(snapshot::SNAPSHOT_PATH);
        let listing = vendored_listing(repo)?;
        std::fs::write(&path, &listing)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "Wrote {} ({} lines).",
            path.display(),
            listing.lines().count()
        );
    }
    match &args.out {
        Some(out) => {
            std::fs::write(out, &code)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("Wrote the generated code to {}.", out.display());
        }
        None if !args.snapshot => print!("{code}"),
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_snapshot_is_up_to_date() {
        let repo = crate::util::default_repo();
        let listing = vendored_listing(&repo).unwrap_or_else(|e| panic!("{e:#}"));
        match snapshot_status(&repo, &listing) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => panic!("{message}"),
            Err(e) => panic!("{e:#}"),
        }
    }

    #[test]
    fn snapshot_lists_the_generated_client() {
        let repo = crate::util::default_repo();
        let code = generate_vendored_spec(&repo, Spec::Main).unwrap_or_else(|e| panic!("{e:#}"));
        let listing = snapshot::api_listing(&code).unwrap_or_else(|e| panic!("{e:#}"));
        assert!(
            listing.lines().any(|l| l.starts_with("struct Client ")),
            "{listing}"
        );
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with("fn Client::list_import_schemas(&self)")),
            "{listing}"
        );
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with("struct types::HeadlessImportFull")),
            "{listing}"
        );
    }

    #[test]
    fn snapshot_lists_the_sessions_client_under_its_module() {
        let repo = crate::util::default_repo();
        let listing = vendored_listing(&repo).unwrap_or_else(|e| panic!("{e:#}"));
        for expected in [
            "fn sessions::Client::create_session(&self) -> builder::CreateSession<'_>",
            "fn sessions::Client::resume_session(&self) -> builder::ResumeSession<'_>",
            "fn sessions::Client::delete_session(&self) -> builder::DeleteSession<'_>",
            "field sessions::types::SessionCreated.hydration_id: ::std::option::Option<crate::HydrationToken>",
        ] {
            assert!(listing.lines().any(|l| l == expected), "{expected}\n{listing}");
        }
    }
}
