//! # dromo-client
//!
//! A Rust client for [Dromo](https://dromo.io)'s backend API, built around the **headless
//! import**: create an import from a saved or inline schema, upload the file (or send the rows),
//! wait while Dromo processes it, then fetch the cleaned rows or hand a person the review URL.
//!
//! - [`Client`]: configuration ([`Client::builder`], [`Client::from_env`]) and the workflow:
//!   [`Client::import_file`], [`Client::import_rows`], and each step on its own
//!   ([`Client::create_import`], [`Client::upload`], [`Client::wait_for_import`],
//!   [`Client::fetch_results`]).
//! - [`generated`]: every operation of Dromo's OpenAPI spec, generated at build time by
//!   progenitor from the vendored `openapi.json` (reach it with [`Client::api`]).
//! - Sessions ([`Client::create_session`], [`Client::resume_session`],
//!   [`Client::delete_session`]): Dromo's Sessions API for the widget's save-and-restore, its
//!   `hydrationId` kept secret ([`HydrationToken`]); generated from `sessions-openapi.json`
//!   ([`generated::sessions`], [`Client::sessions_api`]).
//! - [`Error`]: the crate's one error type, with readable messages.
//! - [`RowSchema`] (feature `derive`: `#[derive(dromo_client::Schema)]`): one struct as the
//!   inline schema, the checks before sending ([`RowSchema::check_rows`]) and the result row
//!   ([`Client::import_file_typed`], [`Client::import_rows_typed`]).
//! - `stand_in` (feature `stand-in`): a local stand-in of Dromo's API and of S3, to test your
//!   import code offline.
//!
//! ## Quick start
//!
//! With the `derive` feature, one struct is the inline schema, the checks made before sending and
//! the result row (dependencies: `tokio` with `macros` and `rt-multi-thread`, `serde` with
//! `derive`, `chrono` with `serde`):
//!
//! ```rust,no_run
//! # #[cfg(feature = "derive")] mod typed {
//! use dromo_client::{Client, ImportOutcome, RowSchema};
//!
//! #[derive(Debug, dromo_client::SelectOptions, serde::Serialize, serde::Deserialize)]
//! #[serde(rename_all = "snake_case")]
//! enum Plan { Free, Pro }
//!
//! #[derive(Debug, dromo_client::Schema, serde::Serialize, serde::Deserialize)]
//! #[serde(rename_all = "camelCase")]
//! struct Person {
//!     #[dromo(type = "email", unique_case_insensitive)]
//!     email: String,                       // key `email`, label "Email", required
//!     first_name: Option<String>,          // key `firstName`, label "First name", optional
//!     plan: Plan,                          // a select of `free`, `pro`
//!     #[dromo(number = "usd", min = 0)]
//!     monthly_fee: f64,                    // ["number", {"preset": "usd", "min": 0.0}]
//!     birthday: Option<chrono::NaiveDate>, // a date
//!     #[dromo(regex(pattern = "^[a-z]{2}-\\d+$", flags = "i", error_message = "like AB-12"))]
//!     code: String,
//! }
//!
//! async fn run(client: Client, people: Vec<Person>) -> Result<(), dromo_client::Error> {
//!     Person::check_rows(&people)?; // required, unique, regex, length, options, min/max: every violation
//!     let outcome = client.import_rows_typed(&people).await?; // checks, then imports
//!     println!("import {} ended {}", outcome.import_id(), outcome.status());
//!     let file = client.import_file_typed::<Person>("people.csv").await?;
//!     if let ImportOutcome::Imported { rows, .. } = file {
//!         println!("{} people, the first: {:?}", rows.len(), rows.first()); // rows: Vec<Person>
//!     }
//!     Ok(())
//! }
//! # }
//! ```
//!
//! Without the derive, the whole import in one call, for a file or for rows you hold, with any
//! serde row type and a schema written as values (or saved in Dromo's dashboard):
//!
//! ```rust,no_run
//! use dromo_client::{Client, Field, FieldType, ImportOutcome, Schema};
//!
//! #[derive(Debug, serde::Serialize, serde::Deserialize)]
//! struct Person {
//!     name: String,
//!     email: String,
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), dromo_client::Error> {
//!     let client = Client::from_env()?; // DROMO_API_KEY, optional DROMO_BASE_URL
//!
//!     // A file, with a schema saved in the Dromo dashboard.
//!     let schema = Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604");
//!     match client.import_file::<Person>("people.csv", schema).await? {
//!         ImportOutcome::Imported { rows, .. } => println!("{} rows", rows.len()),
//!         ImportOutcome::NeedsReview { review_url, .. } => println!("a person must review: {review_url:?}"),
//!         other => println!("import {} ended {}", other.import_id(), other.status()),
//!     }
//!
//!     // Rows you already hold (any `Serialize`), with an inline schema.
//!     let people = vec![Person { name: "Ada".into(), email: "ada@example.com".into() }];
//!     let schema = Schema::inline([
//!         Field::new("name", "Name", FieldType::String),
//!         Field::new("email", "Email", FieldType::Email).required(),
//!     ]);
//!     let outcome = client.import_rows::<Person>(&people, schema).await?;
//!     println!("import {} ended {}", outcome.import_id(), outcome.status());
//!     Ok(())
//! }
//! ```
//!
//! ## Testing your import code offline
//!
//! With the `stand-in` feature, `stand_in::StandIn` runs a local stand-in of Dromo in your test's
//! process and `StandIn::client` gives a [`Client`] for it; the stand-in processes an import at the
//! first poll, so a whole import takes milliseconds (the client keeps Dromo's poll limits).
//! `stand_in` exists only where the feature is on: as a dev-dependency's feature, in your tests
//! (`tests/*.rs`, `#[cfg(test)]`), not in `main.rs`. In `tests/import.rs`:
//!
//! ```rust
//! use dromo_client::{stand_in::StandIn, Field, FieldType, ImportOutcome, Schema};
//!
//! #[tokio::test]
//! async fn imports_offline() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = StandIn::start().await?; // on 127.0.0.1, a free port; stops when dropped
//!     let client = server.client()?; // a dromo_client::Client for it: base URL and key set
//!     let schema = Schema::inline([Field::new("email", "Email", FieldType::Email)]);
//!     let outcome = client
//!         .import_rows::<serde_json::Value>([["ada@example.com"]], schema)
//!         .await?; // one poll, no wait: milliseconds
//!     let ImportOutcome::Imported { rows, .. } = outcome else { panic!("{outcome:?}") };
//!     assert_eq!(rows[0]["email"], "ada@example.com");
//!     Ok(())
//! }
//! # fn main() {} // the test above runs as written in tests/readme.rs
//! ```
//!
//! ## Result values
//!
//! Each cleaned row is a JSON object keyed by field key. The JSON type of each value depends on the
//! field's type, as Dromo documents it:
//!
//! | Field type | JSON value |
//! | --- | --- |
//! | `string`, `email`, `phone-number`, `ssn`, `domain`, `url`, `country`, `us-state-territory`, `us-zip-code`, `uuid` | a string, as entered (after Dromo's cleaning) |
//! | `number` | a JSON number (`1234.5`), or a string when the field's `outputFormat` formats it |
//! | `date` | a string, `"2022-03-27"` (ISO 8601) unless `outputFormat` says otherwise |
//! | `datetime` | a string, `"2022-03-27T15:20"` (ISO 8601, no offset; seconds only with `withSeconds`) |
//! | `time` | a string, `"15:20"` (seconds only with `withSeconds`) |
//! | `checkbox` | a boolean |
//! | `select` | the chosen option's `value`, a string |
//! | any field with `manyToOne` | an array of the values above |
//!
//! Any value can be `null`: read optional fields into `Option<T>`. Dromo does not document the
//! shape of `multi-select` values; read them as `serde_json::Value`. A row type that does not match
//! (e.g. `u32` for a number field with an `outputFormat`) fails with the row and the path of the
//! value.
//!
//! The typed imports (`import_file_typed`, `import_rows_typed`, feature `derive`) read these
//! alternatives for you, by each field's type in the row type's schema: a number formatted by an
//! `outputFormat` (`"$1,234.50"`, `"12.5%"`), a checkbox spelled as text (`"no"`, `"true"`), a
//! datetime without seconds, a select's label, a multi-select as delimited text, an empty cell of a
//! typed field. Only a value that still does not fit the Rust type is an `Error::RowMismatch`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod bulk;
mod config;
mod create;
mod error;
mod file_check;
mod ids;
mod pages;
mod presigned;
#[cfg(feature = "redis")]
mod redis_limiter;
mod request;
mod results;
mod retry;
mod s3;
mod scrub;
mod sessions;
mod status;
mod typed;
mod upload;
mod wait;
mod whole_number;
mod workflow;

pub use config::{
    Client, ClientBuilder, API_KEY_ENV, API_KEY_HEADER, BASE_URL_ENV, DEFAULT_BASE_URL,
    DEFAULT_CALL_TIMEOUT, USER_AGENT,
};
pub use create::CreatedImport;
pub use error::{ApiResponse, ConnectionFailure, Error, Step, Violation, Violations};
pub use file_check::check_file;
pub use ids::{ImportId, SchemaId, SessionId, SftpConnectorId, SftpCredentialsId, UploadId};
pub use pages::{Pages, MAX_IMPORTS_PAGE_SIZE, MAX_UPLOADS_PAGE_SIZE};
pub use presigned::PresignedUrl;
pub use request::{
    validate, CreateRequest, Field, FieldType, ImportRequest, RawBody, Rows, Schema, SelectOption,
    Source, User, MAX_INITIAL_DATA_BYTES, NUMBER_PRESETS, SUPPORTED_FILE_EXTENSIONS,
};
pub use results::{RowStream, MAX_ROW_BYTES};
pub use retry::RetryPolicy;
pub use sessions::{
    sessions_base_url_for, HydrationToken, NewSession, ResumedSession, SessionOptions,
    DEFAULT_HYDRATION_TTL, MAX_HYDRATION_TTL, SESSIONS_API_PATH, SESSION_RETENTION,
};
pub use status::ImportStatus;
pub use upload::{content_type_for, Progress, ProgressFn, UploadOptions, UploadSource, Uploaded};
pub use wait::{WaitOptions, WaitOutcome, MIN_POLL_INTERVAL};
pub use whole_number::WholeNumber;
pub use workflow::{ImportOptions, ImportOutcome, StepFn};

/// `#[derive(Schema)]`: a struct with named fields as its own inline schema, see [`RowSchema`].
/// (A derive macro, so it lives beside the [`Schema`](enum@Schema) enum, as serde's derives beside its traits.)
#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use dromo_client_derive::Schema;
/// `#[derive(SelectOptions)]`: a fieldless enum as the options of a select field, see
/// [`SelectOptions`].
#[cfg(feature = "derive")]
#[cfg_attr(docsrs, doc(cfg(feature = "derive")))]
pub use dromo_client_derive::SelectOptions;
#[doc(hidden)]
pub use typed::__private;
pub use typed::{RowSchema, SelectOptions};

/// The client generated from Dromo's OpenAPI spec (`openapi.json`) at build time.
///
/// Nothing here is written by hand: see `build.rs` and `src/codegen/` for how it is made, and
/// `src/codegen/corrections.rs` for where it departs from the upstream spec.
#[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all, unused)]
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));

    /// The client generated from Dromo's Sessions API spec (`sessions-openapi.json`) by the
    /// same pipeline: reach it with [`Client::sessions_api`](crate::Client::sessions_api).
    pub mod sessions {
        include!(concat!(env!("OUT_DIR"), "/generated_sessions.rs"));
    }
}

/// The generated request and response types, re-exported.
pub use generated::types;
#[cfg(feature = "stand-in")]
#[cfg_attr(docsrs, doc(cfg(feature = "stand-in")))]
pub mod stand_in;
pub mod webhooks;
