//! Generates the Dromo clients from the vendored specs into `$OUT_DIR`: the main API
//! (`openapi.json`) into `generated.rs`, the Sessions API (`sessions-openapi.json`) into
//! `generated_sessions.rs`, and with the `cli` feature the `dromo api` commands of both
//! (`generated_cli.rs`, `generated_sessions_cli.rs`).
//!
//! The pipeline itself (3.1 → 3.0 conversion, our corrections, progenitor, prettyplease) lives
//! in `src/codegen/`, shared with `cargo xtask` and the codegen tests. This script only reads
//! the specs, runs it and writes the result. It never touches the network.

#[allow(dead_code)]
#[path = "src/codegen/mod.rs"]
mod codegen;

use codegen::Spec;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    for spec in Spec::ALL {
        println!("cargo:rerun-if-changed={}", spec.file());
    }
    println!("cargo:rerun-if-changed=src/codegen");
    println!("cargo:rerun-if-changed=build.rs");

    // The `dromo` binary's generated commands need `schemars::JsonSchema` on every type; builds
    // without the `cli` feature do not pay for it.
    let cli = std::env::var_os("CARGO_FEATURE_CLI").is_some();
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        return fail("OUT_DIR is not set: build.rs must run under cargo");
    };
    let out_dir = PathBuf::from(out_dir);
    for which in Spec::ALL {
        let spec = match std::fs::read(which.file()) {
            Ok(spec) => spec,
            Err(e) => return fail(&format!("cannot read {}: {e}", which.file())),
        };
        let mut outputs = vec![(
            "the client",
            which.generated_file(),
            codegen::generate_spec(&spec, which, cli),
        )];
        if cli {
            outputs.push((
                "the `dromo api` commands",
                which.generated_cli_file(),
                codegen::cli::generate_spec_cli(&spec, which),
            ));
        }
        for (what, file, code) in outputs {
            let code = match code {
                Ok(code) => code,
                Err(e) => {
                    return fail(&format!(
                        "cannot generate {what} from {}: {e}",
                        which.file()
                    ))
                }
            };
            let out = out_dir.join(file);
            if let Err(e) = std::fs::write(&out, code) {
                return fail(&format!("cannot write {}: {e}", out.display()));
            }
        }
    }
    ExitCode::SUCCESS
}

fn fail(message: &str) -> ExitCode {
    // `cargo::error=` shows the message in cargo's own output.
    println!("cargo::error={message}");
    eprintln!("error: {message}");
    ExitCode::FAILURE
}
