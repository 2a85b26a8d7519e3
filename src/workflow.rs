//! The whole headless import in one call: create → upload → wait → results.

use crate::error::{Error, Step, Violation, Violations};
use crate::ids::ImportId;
use crate::request::{ImportRequest, Schema, Source};
use crate::results::RowStream;
use crate::upload::{UploadOptions, UploadSource};
use crate::wait::{WaitOptions, WaitOutcome};
use crate::{Client, ImportStatus};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// How a whole import ended. Failures of a step are the `Err` ([`Error::Step`]).
///
/// `R` holds the cleaned rows: a `Vec<T>` from [`Client::import_file`] and
/// [`Client::import_rows`], a [`RowStream<T>`] from the `_stream` calls, which keep memory
/// flat whatever the number of rows.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ImportOutcome<R> {
    /// `SUCCESSFUL`: the cleaned rows.
    Imported {
        /// The import's id.
        import_id: ImportId,
        /// The rows: a `Vec<T>`, or a [`RowStream<T>`] to read one by one.
        rows: R,
    },
    /// `NEEDS_REVIEW`: a person must fix the data at `review_url`; fetch the rows with
    /// [`Client::fetch_results`] once they have.
    NeedsReview {
        /// The import's id.
        import_id: ImportId,
        /// Where to review the data (`None` if Dromo did not send one).
        review_url: Option<String>,
        /// Every reason Dromo gave why the data needs review (its `import_errors`, as
        /// readable lines; empty when it gave none).
        reasons: Vec<String>,
    },
    /// `FAILED`: Dromo could not process the import.
    Failed {
        /// The import's id.
        import_id: ImportId,
        /// Dromo's `import_errors`.
        import_errors: Vec<serde_json::Map<String, serde_json::Value>>,
        /// The same errors as readable lines (each one's `message`, else its JSON).
        reasons: Vec<String>,
    },
    /// The maximum wait ([`WaitOptions::with_max_wait`]) passed first; wait again later with
    /// [`Client::wait_for_import`].
    StillProcessing {
        /// The import's id.
        import_id: ImportId,
        /// Its status at the last poll.
        last_status: ImportStatus,
    },
}

impl<R> ImportOutcome<R> {
    /// The import's id.
    pub fn import_id(&self) -> &ImportId {
        match self {
            Self::Imported { import_id, .. }
            | Self::NeedsReview { import_id, .. }
            | Self::Failed { import_id, .. }
            | Self::StillProcessing { import_id, .. } => import_id,
        }
    }

    /// Every reason Dromo gave for a `NEEDS_REVIEW` or `FAILED` outcome; empty otherwise.
    pub fn reasons(&self) -> &[String] {
        match self {
            Self::NeedsReview { reasons, .. } | Self::Failed { reasons, .. } => reasons,
            _ => &[],
        }
    }

    /// The import's final status (for [`ImportOutcome::StillProcessing`], the last one seen).
    pub fn status(&self) -> ImportStatus {
        match self {
            Self::Imported { .. } => ImportStatus::Successful,
            Self::NeedsReview { .. } => ImportStatus::NeedsReview,
            Self::Failed { .. } => ImportStatus::Failed,
            Self::StillProcessing { last_status, .. } => last_status.clone(),
        }
    }
}

impl<R> ImportOutcome<R> {
    /// The same outcome with its rows (if any) turned into others by `f`.
    pub(crate) fn try_map_rows<S, E>(
        self,
        f: impl FnOnce(&ImportId, R) -> Result<S, E>,
    ) -> Result<ImportOutcome<S>, E> {
        Ok(match self {
            Self::Imported { import_id, rows } => {
                let rows = f(&import_id, rows)?;
                ImportOutcome::Imported { import_id, rows }
            }
            Self::NeedsReview {
                import_id,
                review_url,
                reasons,
            } => ImportOutcome::NeedsReview {
                import_id,
                review_url,
                reasons,
            },
            Self::Failed {
                import_id,
                import_errors,
                reasons,
            } => ImportOutcome::Failed {
                import_id,
                import_errors,
                reasons,
            },
            Self::StillProcessing {
                import_id,
                last_status,
            } => ImportOutcome::StillProcessing {
                import_id,
                last_status,
            },
        })
    }
}

impl<T> ImportOutcome<Vec<T>> {
    /// The rows, when the import succeeded.
    pub fn rows(&self) -> Option<&[T]> {
        match self {
            Self::Imported { rows, .. } => Some(rows),
            _ => None,
        }
    }
}

/// Called when a step starts, with the import's id once it exists.
pub type StepFn = Arc<dyn Fn(Step, Option<&ImportId>) + Send + Sync>;

/// The options of [`Client::import_file_with`] and [`Client::import_rows_with`].
///
/// ```
/// use dromo_client::{ImportOptions, WaitOptions};
/// use std::time::Duration;
///
/// let options = ImportOptions::default()
///     .with_wait(WaitOptions::default().with_max_wait(Duration::from_secs(600)))
///     .on_step(|step, id| match id {
///         Some(id) => eprintln!("{step} {id}"),
///         None => eprintln!("{step}"),
///     });
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct ImportOptions {
    upload: UploadOptions,
    wait: WaitOptions,
    on_step: Option<StepFn>,
}

impl fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportOptions")
            .field("upload", &self.upload)
            .field("wait", &self.wait)
            .field("on_step", &self.on_step.is_some())
            .finish()
    }
}

impl ImportOptions {
    /// How the file is uploaded (retries, progress).
    pub fn with_upload(mut self, options: UploadOptions) -> Self {
        self.upload = options;
        self
    }

    /// How long and how often to poll.
    pub fn with_wait(mut self, options: WaitOptions) -> Self {
        self.wait = options;
        self
    }

    /// Calls `f` as each step starts.
    pub fn on_step(mut self, f: impl Fn(Step, Option<&ImportId>) + Send + Sync + 'static) -> Self {
        self.on_step = Some(Arc::new(f));
        self
    }

    fn step(&self, step: Step, id: Option<&ImportId>) {
        if let Some(f) = &self.on_step {
            f(step, id);
        }
    }
}

fn in_step(step: Step, import_id: Option<&ImportId>) -> impl FnOnce(Error) -> Error + '_ {
    move |source| Error::Step {
        step,
        import_id: import_id.map(ImportId::to_string),
        source: Box::new(source),
    }
}

impl Client {
    /// Imports the file at `path` with `schema`: creates the import, uploads the file, waits
    /// (default [`WaitOptions`]) and fetches the rows.
    ///
    /// A failure is an [`Error::Step`] naming the step and, once created, the import.
    ///
    /// ```no_run
    /// use dromo_client::{ImportOutcome, Schema};
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let schema = Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604");
    /// match client.import_file::<serde_json::Value>("people.csv", schema).await? {
    ///     ImportOutcome::Imported { rows, .. } => println!("{} rows", rows.len()),
    ///     ImportOutcome::NeedsReview { review_url, .. } => println!("review at {review_url:?}"),
    ///     other => println!("{:?}: {}", other.status(), other.import_id()),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn import_file<T: DeserializeOwned + Send + 'static>(
        &self,
        path: impl AsRef<Path>,
        schema: Schema,
    ) -> Result<ImportOutcome<Vec<T>>, Error> {
        self.import_file_checked(path.as_ref(), schema, None).await
    }

    /// [`Client::import_file`]; with `header_fields` (a typed import's schema), the file's header
    /// row must also share a column with them before anything is created.
    pub(crate) async fn import_file_checked<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &Path,
        schema: Schema,
        header_fields: Option<&[crate::types::SchemaFieldsItem]>,
    ) -> Result<ImportOutcome<Vec<T>>, Error> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let request = ImportRequest::new(schema, Source::file(name));
        let options = ImportOptions::default();
        let id = self
            .start_file_import(path, request, &options, header_fields)
            .await?;
        self.finish_import(
            id,
            &options,
            |id| async move { self.fetch_results(&id).await },
        )
        .await
    }

    /// Imports the file at `path` as `request` says (its source must be [`Source::File`]; the
    /// file name it gives is the one Dromo sees), with `options`.
    ///
    /// ```no_run
    /// use dromo_client::{ImportOptions, ImportRequest, Schema, Source, User};
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let request = ImportRequest::new(Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604"), Source::file("people.csv"))
    ///     .user(User::new("user-42"));
    /// let outcome = client.import_file_with::<serde_json::Value>("/tmp/upload-1.csv", request, &ImportOptions::default()).await?;
    /// # let _ = outcome; Ok(()) }
    /// ```
    pub async fn import_file_with<T: DeserializeOwned + Send + 'static>(
        &self,
        path: impl AsRef<Path>,
        request: ImportRequest,
        options: &ImportOptions,
    ) -> Result<ImportOutcome<Vec<T>>, Error> {
        let id = self
            .start_file_import(path.as_ref(), request, options, None)
            .await?;
        self.finish_import(
            id,
            options,
            |id| async move { self.fetch_results(&id).await },
        )
        .await
    }

    /// Like [`Client::import_file_with`], but the rows come as a [`RowStream`], read one at a
    /// time as they download: a million-row import does not have to fit in memory.
    ///
    /// ```no_run
    /// use dromo_client::{ImportOptions, ImportOutcome, ImportRequest, Schema, Source};
    /// use futures_util::StreamExt;
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let request = ImportRequest::new(Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604"), Source::file("people.csv"));
    /// let outcome = client.import_file_stream::<serde_json::Value>("/tmp/people.csv", request, &ImportOptions::default()).await?;
    /// if let ImportOutcome::Imported { mut rows, .. } = outcome {
    ///     let mut count = 0;
    ///     while let Some(row) = rows.next().await {
    ///         let _row = row?;
    ///         count += 1;
    ///     }
    ///     println!("{count} rows");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn import_file_stream<T: DeserializeOwned + Send + 'static>(
        &self,
        path: impl AsRef<Path>,
        request: ImportRequest,
        options: &ImportOptions,
    ) -> Result<ImportOutcome<RowStream<T>>, Error> {
        let id = self
            .start_file_import(path.as_ref(), request, options, None)
            .await?;
        self.finish_import(
            id,
            options,
            |id| async move { self.stream_results(&id).await },
        )
        .await
    }

    /// Creates a file import and uploads the file: the first two steps. Returns the id.
    async fn start_file_import(
        &self,
        path: &Path,
        request: ImportRequest,
        options: &ImportOptions,
        header_fields: Option<&[crate::types::SchemaFieldsItem]>,
    ) -> Result<ImportId, Error> {
        if !matches!(request.source(), Source::File { .. }) {
            return Err(in_step(Step::Create, None)(Error::InvalidRequest {
                violations: Violations(vec![Violation::new(
                    "source",
                    "import_file needs a request whose source is `Source::file(..)`; use import_rows for rows",
                )]),
            }));
        }
        // Check and open the file before creating anything: a missing, empty or non-UTF-8
        // file creates no import.
        let name = match request.source() {
            Source::File { original_filename } => original_filename.clone(),
            _ => String::new(),
        };
        match header_fields {
            Some(fields) => crate::file_check::check_header(path, &name, fields).await,
            None => crate::file_check::check_file(path, &name).await,
        }
        .map_err(in_step(Step::Upload, None))?;
        let source = UploadSource::from_path(path)
            .await
            .map_err(in_step(Step::Upload, None))?;
        options.step(Step::Create, None);
        let created = self
            .create_import(request)
            .await
            .map_err(in_step(Step::Create, None))?;
        let id = created.id;
        options.step(Step::Upload, Some(&id));
        let url = created.upload_url.as_ref().ok_or_else(|| {
            in_step(Step::Upload, Some(&id))(Error::BadUrl {
                what: format!("create answer for import {id}"),
                reason: "it has no `upload` URL for the file".to_owned(),
                source: None,
            })
        })?;
        self.upload_with(url, source, &options.upload)
            .await
            .map_err(in_step(Step::Upload, Some(&id)))?;
        Ok(id)
    }

    /// Imports `rows` (anything `Serialize`: structs, maps keyed by field key, or arrays of
    /// strings in field order) with `schema`, sent with the create as `initial_data` (at most
    /// 15 MB), then waits and fetches the cleaned rows.
    ///
    /// ```no_run
    /// use dromo_client::{Field, FieldType, Schema};
    ///
    /// # async fn run(client: dromo_client::Client) -> Result<(), dromo_client::Error> {
    /// let schema = Schema::inline([Field::new("email", "Email", FieldType::Email)]);
    /// let outcome = client.import_rows::<serde_json::Value>([["ada@example.com"]], schema).await?;
    /// println!("{:?}", outcome.status());
    /// # Ok(()) }
    /// ```
    pub async fn import_rows<T: DeserializeOwned + Send + 'static>(
        &self,
        rows: impl IntoIterator<Item = impl Serialize>,
        schema: Schema,
    ) -> Result<ImportOutcome<Vec<T>>, Error> {
        let source = Source::rows(rows).map_err(in_step(Step::Create, None))?;
        self.import_rows_with(
            ImportRequest::new(schema, source),
            &ImportOptions::default(),
        )
        .await
    }

    /// Imports as `request` says (its source must be [`Source::Rows`]), with `options`.
    pub async fn import_rows_with<T: DeserializeOwned + Send + 'static>(
        &self,
        request: ImportRequest,
        options: &ImportOptions,
    ) -> Result<ImportOutcome<Vec<T>>, Error> {
        let id = self.start_rows_import(request, options).await?;
        self.finish_import(
            id,
            options,
            |id| async move { self.fetch_results(&id).await },
        )
        .await
    }

    /// Like [`Client::import_rows_with`], but the cleaned rows come as a [`RowStream`].
    pub async fn import_rows_stream<T: DeserializeOwned + Send + 'static>(
        &self,
        request: ImportRequest,
        options: &ImportOptions,
    ) -> Result<ImportOutcome<RowStream<T>>, Error> {
        let id = self.start_rows_import(request, options).await?;
        self.finish_import(
            id,
            options,
            |id| async move { self.stream_results(&id).await },
        )
        .await
    }

    /// Creates a rows import: the first step. Returns the id.
    async fn start_rows_import(
        &self,
        request: ImportRequest,
        options: &ImportOptions,
    ) -> Result<ImportId, Error> {
        if !matches!(request.source(), Source::Rows(_)) {
            return Err(in_step(Step::Create, None)(Error::InvalidRequest {
                violations: Violations(vec![Violation::new(
                    "source",
                    "import_rows needs a request whose source is `Source::rows(..)`; use import_file for files",
                )]),
            }));
        }
        options.step(Step::Create, None);
        let created = self
            .create_import(request)
            .await
            .map_err(in_step(Step::Create, None))?;
        Ok(created.id)
    }

    /// Waits for the import, then gets its rows with `fetch`: the last two steps.
    async fn finish_import<R, F, Fut>(
        &self,
        id: ImportId,
        options: &ImportOptions,
        fetch: F,
    ) -> Result<ImportOutcome<R>, Error>
    where
        F: FnOnce(ImportId) -> Fut,
        Fut: std::future::Future<Output = Result<R, Error>>,
    {
        options.step(Step::Wait, Some(&id));
        let waited = self
            .wait_for_import(&id, &options.wait)
            .await
            .map_err(in_step(Step::Wait, Some(&id)))?;
        let reasons = waited.reasons();
        match waited {
            WaitOutcome::Succeeded { .. } => {
                options.step(Step::Results, Some(&id));
                let rows = fetch(id).await.map_err(in_step(Step::Results, Some(&id)))?;
                Ok(ImportOutcome::Imported {
                    import_id: id,
                    rows,
                })
            }
            WaitOutcome::NeedsReview { review_url, .. } => Ok(ImportOutcome::NeedsReview {
                import_id: id,
                review_url,
                reasons,
            }),
            WaitOutcome::Failed { import_errors, .. } => Ok(ImportOutcome::Failed {
                import_id: id,
                import_errors,
                reasons,
            }),
            WaitOutcome::GaveUp { last_status, .. } => Ok(ImportOutcome::StillProcessing {
                import_id: id,
                last_status,
            }),
        }
    }
}
