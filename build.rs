//! Generates the Dromo client from the vendored `openapi.json` into `$OUT_DIR/generated.rs`,
//! and with the `cli` feature the `dromo api` commands into `$OUT_DIR/generated_cli.rs`.
//!
//! The pipeline itself (3.1 → 3.0 conversion, our corrections, progenitor, prettyplease) lives
//! in `src/codegen/`, shared with `cargo xtask` and the codegen tests. This script only reads
//! the spec, runs it and writes the result. It never touches the network.

#[allow(dead_code)]
#[path = "src/codegen/mod.rs"]
mod codegen;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=openapi.json");
    println!("cargo:rerun-if-changed=src/codegen");
    println!("cargo:rerun-if-changed=build.rs");

    let spec = match std::fs::read("openapi.json") {
        Ok(spec) => spec,
        Err(e) => return fail(&format!("cannot read openapi.json: {e}")),
    };
    // The `dromo` binary's generated commands need `schemars::JsonSchema` on every type; builds
    // without the `cli` feature do not pay for it.
    let cli = std::env::var_os("CARGO_FEATURE_CLI").is_some();
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        return fail("OUT_DIR is not set: build.rs must run under cargo");
    };
    let out_dir = PathBuf::from(out_dir);
    let mut outputs = vec![(
        "the client",
        "generated.rs",
        codegen::generate_client(&spec, cli),
    )];
    if cli {
        outputs.push((
            "the `dromo api` commands",
            "generated_cli.rs",
            codegen::cli::generate_cli(&spec),
        ));
    }
    for (what, file, code) in outputs {
        let code = match code {
            Ok(code) => code,
            Err(e) => return fail(&format!("cannot generate {what} from openapi.json: {e}")),
        };
        let out = out_dir.join(file);
        if let Err(e) = std::fs::write(&out, code) {
            return fail(&format!("cannot write {}: {e}", out.display()));
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
