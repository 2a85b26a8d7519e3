//! The hand-written workflow commands: `import`, `wait`, `results`, `imports list|delete`.

use crate::exit::{self, Failure};
use crate::header;
use crate::output::{Format, Row, RowWriter};
use crate::progress::Mode;
use crate::schema_file;
use dromo_client::{
    Client, ImportId, ImportRequest, Schema, SchemaId, Source, UploadOptions, UploadSource,
    WaitOptions, WaitOutcome,
};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// What every command needs besides the client.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// `--json`: machine-readable output on stdout.
    pub json: bool,
    /// How progress is shown.
    pub progress: Mode,
}

/// `dromo import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to import (.csv, .tsv, .xls or .xlsx).
    file: PathBuf,
    /// A saved schema's id. Without it or --schema, the schema is built from the file's header
    /// row (CSV and TSV): one string field per column, keyed by the header in snake_case.
    #[arg(long, value_name = "ID", conflicts_with = "schema")]
    schema_id: Option<String>,
    /// A schema file: an array of fields, or an object with `fields` (see `dromo schema pull`).
    #[arg(long, value_name = "FILE.json")]
    schema: Option<PathBuf>,
    /// Create and upload, print the import's id, and do not wait.
    #[arg(long)]
    no_wait: bool,
    /// Where to write the rows: FILE.jsonl, FILE.csv, FILE.json, or - for stdout (JSON Lines).
    #[arg(long, value_name = "FILE", default_value = "-")]
    out: String,
    #[command(flatten)]
    wait: WaitFlags,
}

/// How long to wait.
#[derive(Debug, clap::Args)]
pub struct WaitFlags {
    /// Give up waiting after this many seconds (exit code 5).
    #[arg(long, value_name = "SECS")]
    max_wait: Option<u64>,
}

impl WaitFlags {
    fn options(&self) -> WaitOptions {
        let options = WaitOptions::default();
        match self.max_wait {
            Some(secs) => options.with_max_wait(Duration::from_secs(secs)),
            None => options,
        }
    }
}

/// An import's input, checked before anything is sent.
#[derive(Debug)]
pub struct Prepared {
    schema: Schema,
    name: String,
    /// The inline schema's keys, in order (the CSV columns); empty for a saved schema.
    keys: Vec<String>,
    /// Where the schema came from, for the progress line.
    from: &'static str,
}

impl ImportArgs {
    /// Checks the file and the schema: bad input if either is wrong; nothing is sent.
    pub fn prepare(&self) -> Result<Prepared, Failure> {
        let shown = self.file.display();
        let meta = std::fs::metadata(&self.file)
            .map_err(|e| Failure::bad_input(format!("cannot read {shown}: {e}")))?;
        if !meta.is_file() {
            return Err(Failure::bad_input(format!("{shown} is not a file")));
        }
        let (schema, keys, from) = match (&self.schema_id, &self.schema) {
            (Some(id), _) => {
                let id: SchemaId = id.parse().map_err(|_| {
                    Failure::bad_input(format!(
                        "`{id}` is not a schema id: ids are UUIDs like {}",
                        crate::EXAMPLE_ID
                    ))
                })?;
                (Schema::saved(id.to_string()), Vec::new(), "a saved schema")
            }
            (None, Some(path)) => {
                let fields = schema_file::read(path)?.fields;
                let keys = fields.iter().map(|f| f.key.clone()).collect();
                (Schema::inline(fields), keys, "the schema file")
            }
            (None, None) => {
                let fields = header::schema(&self.file)?;
                let keys = fields.iter().map(|f| f.key.clone()).collect();
                (Schema::inline(fields), keys, "the header row")
            }
        };
        let name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.to_string());
        let request = ImportRequest::new(schema.clone(), Source::file(name.clone()));
        request.validate()?;
        Ok(Prepared {
            schema,
            name,
            keys,
            from,
        })
    }
}

/// `dromo import`: create, upload, wait, download.
pub async fn import(
    client: &Client,
    ctx: &Context,
    args: &ImportArgs,
    prepared: Prepared,
) -> Result<u8, Failure> {
    if prepared.keys.is_empty() {
        ctx.progress.line(&format!("schema: {}", prepared.from));
    } else {
        ctx.progress.line(&format!(
            "schema: inline, from {}: {}",
            prepared.from,
            prepared.keys.join(", ")
        ));
    }
    // A missing, empty or non-UTF-8 file is refused before an import is created for it.
    dromo_client::check_file(&args.file, &prepared.name).await?;
    let request = ImportRequest::new(prepared.schema, Source::file(prepared.name));
    let spinner = ctx.progress.spinner("creating the import");
    let created = client.create_import(request).await?;
    spinner.finish_and_clear();
    let id = created.id;
    ctx.progress.line(&format!("created import {id}"));

    let Some(upload_url) = created.upload_url.as_ref() else {
        return Err(Failure {
            message: format!(
                "Dromo gave import {id} no upload URL: check the import in the dashboard"
            ),
            code: exit::API_ERROR,
        });
    };
    let source = UploadSource::from_path(&args.file).await?;
    let bar = ctx.progress.bytes("uploading", source.len());
    let on_bar = bar.clone();
    let options = UploadOptions::default().on_progress(move |p| {
        on_bar.set_length(p.total);
        on_bar.set_position(p.sent);
    });
    let uploaded = client.upload_with(upload_url, source, &options).await;
    bar.finish_and_clear();
    let uploaded = uploaded?;
    ctx.progress
        .line(&format!("uploaded {} bytes", uploaded.bytes));

    if args.no_wait {
        if ctx.json {
            println!("{}", json!({"id": id.to_string(), "status": "uploaded"}));
        } else {
            println!("{id}");
        }
        return Ok(exit::OK);
    }
    let outcome = wait_with_spinner(client, ctx, &id, &args.wait).await?;
    if !matches!(outcome, WaitOutcome::Succeeded { .. }) {
        return Ok(report(ctx, &id, &outcome, None));
    }
    let format = Format::for_path(&args.out);
    let rows = download(client, ctx, &id, &args.out, format, prepared.keys).await?;
    let summary_to_stdout = args.out != "-";
    Ok(report(ctx, &id, &outcome, Some((rows, summary_to_stdout))))
}

/// Polls with a spinner showing the import's id and the status each poll saw.
async fn wait_with_spinner(
    client: &Client,
    ctx: &Context,
    id: &ImportId,
    flags: &WaitFlags,
) -> Result<WaitOutcome, Failure> {
    let spinner = ctx.progress.spinner(&format!("waiting for import {id}"));
    ctx.progress.note(&format!("waiting for import {id}"));
    let outcome = client
        .wait_for_import_with_status(id, &flags.options(), |status| {
            spinner.set_message(format!("import {id} is {status}"));
        })
        .await;
    spinner.finish_and_clear();
    let outcome = outcome?;
    ctx.progress
        .line(&format!("import {id} is {}", outcome.status()));
    Ok(outcome)
}

/// Streams the rows to `out`, with a spinner counting them; returns how many.
async fn download(
    client: &Client,
    ctx: &Context,
    id: &ImportId,
    out: &str,
    format: Format,
    columns: Vec<String>,
) -> Result<u64, Failure> {
    let mut writer = RowWriter::create(out, format, columns)?;
    let spinner = ctx.progress.spinner("downloading the rows");
    let mut rows = client.stream_results::<Row>(id).await?;
    while let Some(row) = rows.next().await {
        writer.write(&row?)?;
        if writer.rows() % 1000 == 0 {
            spinner.set_message(format!("downloaded {} rows", writer.rows()));
        }
    }
    spinner.finish_and_clear();
    let count = writer.finish()?;
    ctx.progress.line(&format!("wrote {count} rows to {out}"));
    Ok(count)
}

/// Prints how an import ended and returns its exit code. `rows`: how many rows were written
/// and whether the summary may go to stdout (not when the rows went there).
fn report(ctx: &Context, id: &ImportId, outcome: &WaitOutcome, rows: Option<(u64, bool)>) -> u8 {
    let id = id.to_string();
    let (code, summary) = match outcome {
        WaitOutcome::Succeeded { .. } => (
            exit::OK,
            json!({"id": id, "status": "SUCCESSFUL", "rows": rows.map(|(n, _)| n)}),
        ),
        WaitOutcome::NeedsReview { review_url, .. } => (
            exit::NEEDS_REVIEW,
            json!({"id": id, "status": "NEEDS_REVIEW", "review_url": review_url, "reasons": outcome.reasons()}),
        ),
        WaitOutcome::Failed { import_errors, .. } => (
            exit::FAILED,
            json!({"id": id, "status": "FAILED", "import_errors": import_errors, "reasons": outcome.reasons()}),
        ),
        other => (
            exit::GAVE_UP,
            json!({"id": id, "status": other.status().to_string(), "gave_up": true}),
        ),
    };
    let stdout_free = rows.is_none_or(|(_, to_stdout)| to_stdout);
    if ctx.json && stdout_free {
        println!("{summary}");
        return code;
    }
    match outcome {
        WaitOutcome::Succeeded { .. } => {
            if let Some((n, _)) = rows {
                // Quiet: the rows are the result; a summary is not.
                if ctx.progress != Mode::Quiet {
                    eprintln!("import {id} succeeded: {n} rows");
                }
            } else {
                println!("import {id} succeeded: fetch its rows with `dromo results {id}`");
            }
        }
        WaitOutcome::NeedsReview { review_url, .. } => {
            let reasons = outcome.reasons();
            eprintln!(
                "import {id} needs a person to review it at {}{}",
                review_url.as_deref().unwrap_or("the Dromo dashboard"),
                if reasons.is_empty() {
                    " (Dromo gave no reason)"
                } else {
                    ", because:"
                }
            );
            for reason in &reasons {
                eprintln!("  {reason}");
            }
            println!(
                "{}",
                review_url
                    .as_deref()
                    .unwrap_or("(no review URL: open the import in the Dromo dashboard)")
            );
        }
        WaitOutcome::Failed { import_errors, .. } => {
            eprintln!("import {id} failed with {} error(s):", import_errors.len());
            for error in import_errors {
                let text = error
                    .get("message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| Value::Object(error.clone()).to_string());
                println!("{text}");
            }
        }
        other => {
            eprintln!("{other}: run `dromo wait {id}` later");
        }
    }
    code
}

/// `dromo wait ID`.
#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// The import's id (a UUID).
    #[arg(value_parser = crate::parse_import_id)]
    id: ImportId,
    #[command(flatten)]
    wait: WaitFlags,
}

/// `dromo wait ID`: waits, prints how the import ended.
pub async fn wait(client: &Client, ctx: &Context, args: &WaitArgs) -> Result<u8, Failure> {
    let outcome = wait_with_spinner(client, ctx, &args.id, &args.wait).await?;
    Ok(report(ctx, &args.id, &outcome, None))
}

/// `dromo results ID`.
#[derive(Debug, clap::Args)]
pub struct ResultsArgs {
    /// The import's id (a UUID).
    #[arg(value_parser = crate::parse_import_id)]
    id: ImportId,
    /// The output format (default: by --out's extension, JSON Lines for stdout).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Where to write the rows (- for stdout).
    #[arg(long, value_name = "FILE", default_value = "-")]
    out: String,
}

/// `dromo results ID`: downloads the rows of a successful import.
pub async fn results(client: &Client, ctx: &Context, args: &ResultsArgs) -> Result<u8, Failure> {
    let format = args.format.unwrap_or_else(|| Format::for_path(&args.out));
    download(client, ctx, &args.id, &args.out, format, Vec::new()).await?;
    Ok(exit::OK)
}

/// `dromo imports list`: one line an import (id, status, created, file), or a JSON array.
pub async fn list_imports(
    client: &Client,
    ctx: &Context,
    limit: Option<u64>,
) -> Result<u8, Failure> {
    let mut pages = client.list_imports();
    if let Some(limit) = limit {
        pages = pages.page_size(u32::try_from(limit.max(1)).unwrap_or(u32::MAX));
    }
    let limit = limit.unwrap_or(u64::MAX);
    let imports: Vec<_> = pages
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .try_collect()
        .await?;
    if ctx.json {
        let list = serde_json::to_value(&imports).map_err(|e| Failure {
            message: format!("cannot print the imports: {e}"),
            code: exit::API_ERROR,
        })?;
        println!("{list}");
        return Ok(exit::OK);
    }
    for import in &imports {
        println!(
            "{}\t{}\t{}\t{}",
            import.id.as_deref().unwrap_or("-"),
            import
                .status
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string),
            import
                .created_date
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string),
            import.original_filename.as_deref().unwrap_or("-"),
        );
    }
    Ok(exit::OK)
}

/// `dromo imports delete ID`.
pub async fn delete_import(client: &Client, ctx: &Context, id: &ImportId) -> Result<u8, Failure> {
    client.api().delete_headless_import().id(id).send().await?;
    if ctx.json {
        println!("{}", json!({"id": id.to_string(), "deleted": true}));
    } else {
        println!("deleted import {id}");
    }
    Ok(exit::OK)
}
