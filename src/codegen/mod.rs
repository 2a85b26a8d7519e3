//! The code-generation pipeline: `openapi.json` → OpenAPI 3.0 → our corrections → progenitor →
//! `syn` → `prettyplease` → Rust source.
//!
//! Dromo publishes two specs ([`Spec`]): the main API (`openapi.json`) and the Sessions API
//! (`sessions-openapi.json`). Both go through the very same steps and settings (the key hook,
//! the error adapter); only the corrections differ, each spec having its own list in
//! `corrections.rs`.
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

/// One of Dromo's two specs: which file it is vendored as, where its generated code goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    /// The main API (`openapi.json`, 25 operations under `/api/v1`).
    Main,
    /// The Sessions API (`sessions-openapi.json`, 3 operations under
    /// `/api/widget/session/v2`): the widget's save-and-restore sessions.
    Sessions,
}

impl Spec {
    /// Both specs, the main one first.
    pub const ALL: [Spec; 2] = [Spec::Main, Spec::Sessions];

    /// The vendored file, relative to the repository (upstream's own name).
    pub fn file(self) -> &'static str {
        match self {
            Spec::Main => "openapi.json",
            Spec::Sessions => "sessions-openapi.json",
        }
    }

    /// The file of `$OUT_DIR` the client is generated into.
    pub fn generated_file(self) -> &'static str {
        match self {
            Spec::Main => "generated.rs",
            Spec::Sessions => "generated_sessions.rs",
        }
    }

    /// The file of `$OUT_DIR` the `dromo api` commands are generated into (feature `cli`).
    pub fn generated_cli_file(self) -> &'static str {
        match self {
            Spec::Main => "generated_cli.rs",
            Spec::Sessions => "generated_sessions_cli.rs",
        }
    }

    /// The module of the library that includes the generated client.
    pub fn module_path(self) -> &'static str {
        match self {
            Spec::Main => "dromo_client::generated",
            Spec::Sessions => "dromo_client::generated::sessions",
        }
    }
}

/// Converts the main spec to 3.0 and applies our corrections: the document progenitor sees.
pub fn prepare(spec: &[u8]) -> Result<Value, CodegenError> {
    prepare_spec(spec, Spec::Main)
}

/// Converts `which` spec to 3.0 and applies its corrections: the document progenitor sees.
pub fn prepare_spec(spec: &[u8], which: Spec) -> Result<Value, CodegenError> {
    let mut doc: Value =
        serde_json::from_slice(spec).map_err(|e| CodegenError::Json(e.to_string()))?;
    convert::to_openapi30(&mut doc).map_err(CodegenError::Convert)?;
    match which {
        Spec::Main => corrections::apply(&mut doc),
        Spec::Sessions => corrections::apply_sessions(&mut doc),
    }
    .map_err(CodegenError::Correction)?;
    Ok(doc)
}

/// Runs the whole pipeline on the main spec and returns formatted Rust source for the generated
/// client.
pub fn generate(spec: &[u8]) -> Result<String, CodegenError> {
    generate_client(spec, false)
}

/// The generated client of the main spec; with `json_schema`, every generated type also derives
/// `schemars::JsonSchema`, which progenitor's generated CLI (`cli.rs`, feature `cli`) requires.
pub fn generate_client(spec: &[u8], json_schema: bool) -> Result<String, CodegenError> {
    generate_spec(spec, Spec::Main, json_schema)
}

/// The generated client of `which` spec (see [`generate_client`]).
pub fn generate_spec(spec: &[u8], which: Spec, json_schema: bool) -> Result<String, CodegenError> {
    let openapi = parse(spec, which)?;
    let mut generator = progenitor::Generator::new(&settings(json_schema));
    let tokens = catch_panics(|| generator.generate_tokens(&openapi))?;
    let mut file =
        syn::parse2::<syn::File>(tokens).map_err(|e| CodegenError::Format(e.to_string()))?;
    // Every operation's `send` returns `crate::Error` (see `errors.rs` for why it is a transform).
    errors::map_send_errors(&mut file).map_err(CodegenError::Generate)?;
    // What the spec leaves undescribed gets a line; the hand-written methods to prefer.
    docs::document(&mut file, &prepare_spec(spec, which)?).map_err(CodegenError::Generate)?;
    Ok(prettyplease::unparse(&file))
}

/// The spec as progenitor sees it: converted, corrected, parsed.
fn parse(spec: &[u8], which: Spec) -> Result<openapiv3::OpenAPI, CodegenError> {
    let doc = prepare_spec(spec, which)?;
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
