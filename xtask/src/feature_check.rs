//! Every feature of `dromo-client` builds alone, and so does the default set: one
//! `cargo check --no-default-features --features F` per feature (read from `cargo metadata`, so a
//! new feature is covered without editing this list), then the defaults.

use crate::util;
use anyhow::{Context, Result};
use std::path::Path;

/// The features of the `dromo-client` package, `default` left out.
fn features(repo: &Path) -> Result<Vec<String>> {
    let out = util::cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(repo)
        .output()
        .context("cannot run cargo metadata")?;
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata's output")?;
    let package = meta["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "dromo-client"))
        .context("no dromo-client package in cargo metadata")?;
    let mut features: Vec<String> = package["features"]
        .as_object()
        .context("no features in cargo metadata")?
        .keys()
        .filter(|f| *f != "default")
        .cloned()
        .collect();
    features.sort();
    Ok(features)
}

pub fn run(repo: &Path) -> Result<()> {
    for feature in features(repo)? {
        util::run_step(
            &format!("feature `{feature}` alone"),
            util::cargo()
                .args([
                    "check",
                    "--quiet",
                    "-p",
                    "dromo-client",
                    "--no-default-features",
                    "--features",
                    &feature,
                ])
                .current_dir(repo),
        )?;
    }
    util::run_step(
        "the default features",
        util::cargo()
            .args(["check", "--quiet", "-p", "dromo-client"])
            .current_dir(repo),
    )
}
