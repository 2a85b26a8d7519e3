//! # dromo-client
//!
//! A Rust client for [Dromo](https://dromo.io)'s backend API, built around the **headless
//! import**: create an import from a saved or inline schema, upload the file (or send the rows),
//! wait while Dromo processes it, then fetch the cleaned rows or hand a person the review URL.
//!
//! - [`Client`]: configuration ([`Client::builder`], [`Client::from_env`]).
//! - [`generated`]: every operation of Dromo's OpenAPI spec, generated at build time by
//!   progenitor from the vendored `openapi.json` (reach it with [`Client::api`]).
//! - [`Error`]: the crate's one error type, with readable messages.
//!
//! ```no_run
//! # async fn run() -> Result<(), dromo_client::Error> {
//! let client = dromo_client::Client::from_env()?;
//! let page = client.api().list_headless_imports().limit(10).send().await;
//! # let _ = page; Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod config;
mod create;
mod error;
mod presigned;
mod request;
mod results;
mod retry;
mod scrub;
mod status;
mod upload;
mod wait;
mod whole_number;
mod workflow;

pub use config::{
    Client, ClientBuilder, API_KEY_ENV, API_KEY_HEADER, BASE_URL_ENV, DEFAULT_BASE_URL, USER_AGENT,
};
pub use create::CreatedImport;
pub use error::{ApiResponse, ConnectionFailure, Error, Step, Violation, Violations};
pub use presigned::PresignedUrl;
pub use request::{
    validate, CreateRequest, Field, FieldType, ImportRequest, RawBody, Rows, Schema, SelectOption,
    Source, User, MAX_INITIAL_DATA_BYTES, NUMBER_PRESETS, SUPPORTED_FILE_EXTENSIONS,
};
pub use results::{RowStream, MAX_ROW_BYTES};
pub use retry::RetryPolicy;
pub use status::ImportStatus;
pub use upload::{content_type_for, Progress, ProgressFn, UploadOptions, UploadSource, Uploaded};
pub use wait::{WaitOptions, WaitOutcome, MIN_POLL_INTERVAL};
pub use whole_number::WholeNumber;
pub use workflow::{ImportOptions, ImportOutcome, StepFn};

/// The client generated from Dromo's OpenAPI spec (`openapi.json`) at build time.
///
/// Nothing here is written by hand: see `build.rs` and `src/codegen/` for how it is made, and
/// `src/codegen/corrections.rs` for where it departs from the upstream spec.
#[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all, unused)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}

/// The generated request and response types, re-exported.
pub use generated::types;
#[cfg(feature = "stand-in")]
pub mod stand_in;

/// The README's examples, compiled as doctests so the quick start stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
