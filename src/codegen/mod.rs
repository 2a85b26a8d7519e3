//! The code-generation pipeline: `openapi.json` → OpenAPI 3.0 → our corrections → progenitor →
//! `syn` → `prettyplease` → Rust source.
//!
//! This module is hand-written but is **not** part of the library: `build.rs`, `xtask` and the
//! codegen tests compile it with `#[path]`, so all three run the very same pipeline.

pub mod cli;
pub mod convert;
pub mod corrections;
pub mod docs;
pub mod errors;

use serde_json::Value;
use std::fmt;

/// Why the pipeline could not produce Rust code from a spec.
#[derive(Debug)]
pub enum CodegenError {
    /// The spec is not JSON.
    Json(String),
    /// A 3.1 construct the converter cannot express in 3.0.
    Convert(convert::ConvertError),
    /// One of our corrections no longer matches the spec it was written for.
    Correction(corrections::CorrectionError),
    /// `openapiv3` refused the converted document.
    Parse(String),
    /// progenitor refused (or panicked on) the document.
    Generate(String),
    /// The generated tokens are not a valid Rust file.
    Format(String),
}

impl fmt::Display for CodegenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(e) => write!(f, "the spec is not valid JSON: {e}"),
            Self::Convert(e) => write!(f, "{e}"),
            Self::Correction(e) => write!(f, "{e}"),
            Self::Parse(e) => write!(
                f,
                "the converted spec is not a valid OpenAPI 3.0 document: {e}"
            ),
            Self::Generate(e) => write!(f, "progenitor could not generate the client: {e}"),
            Self::Format(e) => write!(f, "the generated code does not parse as Rust: {e}"),
        }
    }
}

impl std::error::Error for CodegenError {}

/// Converts the spec to 3.0 and applies our corrections: the document progenitor sees.
pub fn prepare(spec: &[u8]) -> Result<Value, CodegenError> {
    let mut doc: Value =
        serde_json::from_slice(spec).map_err(|e| CodegenError::Json(e.to_string()))?;
    convert::to_openapi30(&mut doc).map_err(CodegenError::Convert)?;
    corrections::apply(&mut doc).map_err(CodegenError::Correction)?;
    Ok(doc)
}

/// Runs the whole pipeline and returns formatted Rust source for the generated client.
pub fn generate(spec: &[u8]) -> Result<String, CodegenError> {
    generate_client(spec, false)
}

/// The generated client; with `json_schema`, every generated type also derives
/// `schemars::JsonSchema`, which progenitor's generated CLI (`cli.rs`, feature `cli`) requires.
pub fn generate_client(spec: &[u8], json_schema: bool) -> Result<String, CodegenError> {
    let openapi = parse(spec)?;
    let mut generator = progenitor::Generator::new(&settings(json_schema));
    let tokens = catch_panics(|| generator.generate_tokens(&openapi))?;
    let mut file =
        syn::parse2::<syn::File>(tokens).map_err(|e| CodegenError::Format(e.to_string()))?;
    // Every operation's `send` returns `crate::Error` (see `errors.rs` for why it is a transform).
    errors::map_send_errors(&mut file).map_err(CodegenError::Generate)?;
    // What the spec leaves undescribed gets a line; the hand-written methods to prefer.
    docs::document(&mut file, &prepare(spec)?).map_err(CodegenError::Generate)?;
    Ok(prettyplease::unparse(&file))
}

/// The spec as progenitor sees it: converted, corrected, parsed.
fn parse(spec: &[u8]) -> Result<openapiv3::OpenAPI, CodegenError> {
    let doc = prepare(spec)?;
    serde_json::from_value(doc).map_err(|e| CodegenError::Parse(e.to_string()))
}

/// progenitor's settings for the client and the CLI (the same types in both).
fn settings(json_schema: bool) -> progenitor::GenerationSettings {
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_derive("PartialEq")
        // The API key is added per request by a hand-written hook (`src/config.rs`), only for
        // the API's own origin: progenitor ignores security schemes, and a key in a reqwest
        // client's default headers would also go to S3 and follow redirects anywhere.
        .with_inner_type(quote::quote!(crate::config::ApiAuth))
        .with_pre_hook(quote::quote!(crate::config::authenticate));
    if json_schema {
        settings.with_derive("schemars::JsonSchema");
    }
    for (name, path, impls) in corrections::replacements() {
        settings.with_replacement(name, path, impls.into_iter());
    }
    settings
}

/// Runs progenitor, turning its panics into errors.
///
/// progenitor reports some problems by panicking (see the codegen notes); a panic becomes an
/// error that names the problem instead of aborting the build with a backtrace.
fn catch_panics<T>(run: impl FnOnce() -> Result<T, progenitor::Error>) -> Result<T, CodegenError> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    std::panic::set_hook(previous_hook);
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(CodegenError::Generate(e.to_string())),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(CodegenError::Generate(format!(
                "progenitor panicked: {message}"
            )))
        }
    }
}
