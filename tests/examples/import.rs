//! Imports a CSV file into Dromo and prints what happens.
//!
//! ```text
//! cargo run --example import -- data.csv [--schema-id ID | --typed]
//! cargo run --example import -- --help
//! ```
//!
//! - With `DROMO_API_KEY` set (and optionally `DROMO_BASE_URL`), it talks to Dromo.
//! - Without it, it starts a local stand-in of Dromo in this process and says so: nothing leaves
//!   the machine. `DROMO_STAND_IN_BANDWIDTH=125000` paces the stand-in's uploads and downloads
//!   to that many bytes a second, to try a slow link.
//! - Without `--schema-id`, the schema is derived from the CSV's header row: one string field
//!   per column, keyed by the header in snake_case.
//!
//! - With `--typed`, the schema is the `Contact` struct below (`#[derive(dromo_client::Schema)]`)
//!   and the rows decode into it.
//!
//! Try it with the sample: `cargo run --example import -- tests/data/sample.csv`.

use dromo_client::stand_in::StandIn;
use dromo_client::{
    Client, Field, FieldType, ImportOptions, ImportOutcome, ImportRequest, RowSchema, Schema,
    Source, UploadOptions, User, WaitOptions,
};
use futures_util::StreamExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: cargo run --example import -- FILE.csv [--schema-id ID | --typed]";

/// The environment variable that paces the stand-in (bytes a second).
const BANDWIDTH_ENV: &str = "DROMO_STAND_IN_BANDWIDTH";

/// What `--help` prints.
const HELP: &str = "\
Imports a CSV (or TSV) file with Dromo's headless import and prints each step, the final status
and the number of rows.

usage: cargo run --example import -- FILE.csv [--schema-id ID | --typed]

Arguments:
  FILE.csv            the file to import (.csv, .tsv, .xls or .xlsx)
  --schema-id ID      a saved schema's id; without it the schema is derived from the header row
                      (one string field per column, keyed by the header in snake_case)
  --typed             the schema is the example's Contact struct (derived, for the sample CSV:
                      first/last name, email, company, notes) and the rows decode into it
  -h, --help          print this help and exit

Environment:
  DROMO_API_KEY             the Backend license key from the Dromo dashboard: import into Dromo
  DROMO_BASE_URL            Dromo's API base URL (default https://app.dromo.io/api/v1)
  DROMO_STAND_IN_BANDWIDTH  stand-in mode only: bytes a second for its uploads and downloads,
                            to try a slow link (default: no limit)

Stand-in mode: without DROMO_API_KEY, the example starts a local stand-in of Dromo's API and of
S3 in this process (dromo_client::stand_in) and imports into it: nothing leaves the machine.";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    /// `-h` / `--help`.
    Help,
    Import(Args),
}

#[derive(Debug, PartialEq)]
struct Args {
    file: PathBuf,
    schema_id: Option<String>,
    /// `--typed`: the schema is [`Contact`], the rows decode into it.
    typed: bool,
}

/// A row of the sample CSV (`tests/data/sample.csv`), its own schema (`--typed`).
#[derive(Debug, dromo_client::Schema, serde::Deserialize)]
struct Contact {
    first_name: String,
    last_name: String,
    #[dromo(type = "email")]
    email: String,
    company: Option<String>,
    notes: Option<String>,
}

/// Reads the arguments after the program name.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut file = None;
    let mut schema_id = None;
    let mut typed = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--schema-id" => schema_id = Some(args.next().ok_or("--schema-id needs a value")?),
            s if s.starts_with("--schema-id=") => {
                schema_id = Some(s["--schema-id=".len()..].to_owned())
            }
            "--typed" => typed = true,
            "-h" | "--help" => return Ok(Command::Help),
            s if s.starts_with('-') => return Err(format!("unknown option `{s}`")),
            s if file.is_none() => file = Some(PathBuf::from(s)),
            s => return Err(format!("unexpected argument `{s}`: give one file")),
        }
    }
    if typed && schema_id.is_some() {
        return Err("give --schema-id or --typed, not both".to_owned());
    }
    Ok(Command::Import(Args {
        file: file.ok_or("no file given")?,
        schema_id,
        typed,
    }))
}

/// The stand-in's bandwidth from `DROMO_STAND_IN_BANDWIDTH` (bytes a second; unset or empty:
/// no limit).
fn stand_in_bandwidth(value: Option<&str>) -> Result<Option<u64>, String> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse::<u64>().map(Some).map_err(|_| {
            format!("{BANDWIDTH_ENV}=`{text}` is not a number of bytes a second, e.g. 125000 for about 1 Mbit/s")
        }),
    }
}

/// The header row of a CSV file: the first record, with quoted fields and a BOM handled.
fn header_row(path: &Path) -> Result<Vec<String>, String> {
    use std::io::BufRead;
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut record = String::new();
    // A quoted header may span lines: read until the quotes balance.
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        record.push_str(&line);
        if n == 0 || record.matches('"').count().is_multiple_of(2) {
            break;
        }
    }
    let record = record
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n']);
    if record.trim().is_empty() {
        return Err(format!(
            "{} is empty: it needs a header row",
            path.display()
        ));
    }
    let delimiter = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"))
    {
        '\t'
    } else {
        ','
    };
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = record.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => fields.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    fields.push(current);
    Ok(fields.into_iter().map(|f| f.trim().to_owned()).collect())
}

/// `First Name` → `first_name`; `E-mail (work)` → `e_mail_work`.
fn snake_case(header: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in header.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower {
                out.push('_');
            }
            out.extend(c.to_lowercase());
            prev_lower = c.is_lowercase() || c.is_numeric();
        } else {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// One string field per column: key = snake_case(header), label = header.
fn schema_from_header(headers: &[String]) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let label = if header.is_empty() {
                format!("Column {}", i + 1)
            } else {
                header.clone()
            };
            let mut key = snake_case(&label);
            if key.is_empty() {
                key = format!("column_{}", i + 1);
            }
            let base = key.clone();
            let mut n = 2;
            while !seen.insert(key.clone()) {
                key = format!("{base}_{n}");
                n += 1;
            }
            (key, label)
        })
        .collect()
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<ExitCode, String> {
    let args = match parse_args(std::env::args().skip(1)).map_err(|e| {
        format!("{e}\n{USAGE}\n(--help lists the options and environment variables)")
    })? {
        Command::Help => {
            println!("{HELP}");
            return Ok(ExitCode::SUCCESS);
        }
        Command::Import(args) => args,
    };
    let meta = std::fs::metadata(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a file", args.file.display()));
    }
    let fields = schema_from_header(&header_row(&args.file)?);

    // Dromo, or the stand-in.
    let mut _stand_in = None;
    let client = if std::env::var_os("DROMO_API_KEY").is_some() {
        let client = Client::from_env().map_err(|e| format!("{e:#}"))?;
        println!(
            "Using Dromo at {} (DROMO_API_KEY is set)",
            client.base_url()
        );
        client
    } else {
        let bandwidth = stand_in_bandwidth(std::env::var(BANDWIDTH_ENV).ok().as_deref())?;
        let mut builder = StandIn::builder();
        if let Some(bytes_per_sec) = bandwidth {
            builder = builder.bandwidth(bytes_per_sec);
        }
        let server = builder
            .start()
            .await
            .map_err(|e| format!("cannot start the local stand-in: {e}"))?;
        println!("DROMO_API_KEY is not set: using a LOCAL STAND-IN of Dromo at {} (nothing leaves this machine).", server.base_url());
        println!("Set DROMO_API_KEY to your Backend license key to import into Dromo for real.");
        if let Some(bytes_per_sec) = bandwidth.filter(|b| *b > 0) {
            println!("The stand-in's transfers are paced to {bytes_per_sec} bytes a second ({BANDWIDTH_ENV}).");
        }
        let client = server.client().map_err(|e| format!("{e:#}"))?;
        if let Some(id) = &args.schema_id {
            // The stand-in knows no saved schemas: save one like the header's.
            let json: Vec<_> = fields
                .iter()
                .map(|(k, l)| serde_json::json!({"key": k, "label": l, "type": "string"}))
                .collect();
            server.add_schema(id, serde_json::Value::Array(json));
        }
        _stand_in = Some(server);
        client
    };

    let schema = match &args.schema_id {
        None if args.typed => {
            let keys: Vec<_> = Contact::fields()
                .into_iter()
                .map(|f| dromo_client::types::SchemaFieldsItem::from(f).key)
                .collect();
            println!(
                "Schema: inline, from the Contact struct: {}",
                keys.join(", ")
            );
            Contact::schema()
        }
        Some(id) => {
            println!("Schema: saved schema {id}");
            Schema::saved(id.clone())
        }
        None => {
            let keys: Vec<_> = fields.iter().map(|(k, _)| k.as_str()).collect();
            println!("Schema: inline, from the header row: {}", keys.join(", "));
            Schema::inline(
                fields
                    .iter()
                    .map(|(key, label)| Field::new(key.clone(), label.clone(), FieldType::String)),
            )
        }
    };
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data.csv".to_owned());
    let request =
        ImportRequest::new(schema, Source::file(file_name)).user(User::new("dromo-client-example"));

    let total = meta.len();
    let last_tenth = Arc::new(AtomicU64::new(u64::MAX));
    let upload = UploadOptions::default().on_progress(move |p| {
        let tenth = (p.sent * 10).checked_div(p.total).unwrap_or(10);
        if last_tenth.swap(tenth, Ordering::Relaxed) != tenth {
            println!(
                "  uploaded {} of {} bytes ({}%)",
                p.sent,
                p.total,
                tenth * 10
            );
        }
    });
    let shown = args.file.display().to_string();
    let options = ImportOptions::default()
        .with_upload(upload)
        .with_wait(WaitOptions::default().with_max_wait(Duration::from_secs(15 * 60)))
        .on_step(move |step, id| match id {
            Some(id) => println!("Step: {step} (import {id})"),
            None => println!("Step: {step} ({total} bytes from {shown})"),
        });

    if args.typed {
        let outcome = client
            .import_file_stream::<Contact>(&args.file, request, &options)
            .await
            .map_err(|e| format!("{e:#}"))?;
        report(outcome, |c: &Contact| {
            format!(
                "{} {} <{}> of {}, notes {:?}",
                c.first_name,
                c.last_name,
                c.email,
                c.company.as_deref().unwrap_or("no company"),
                c.notes
            )
        })
        .await
    } else {
        let outcome = client
            // Streamed: the rows are counted as they download, so memory stays flat however
            // many rows the import has.
            .import_file_stream::<serde_json::Value>(&args.file, request, &options)
            .await
            .map_err(|e| format!("{e:#}"))?;
        report(outcome, ToString::to_string).await
    }
}

/// Prints how the import ended, the first row (as `show` writes it) and the number of rows.
async fn report<T: serde::de::DeserializeOwned + Send + 'static>(
    outcome: ImportOutcome<dromo_client::RowStream<T>>,
    show: impl Fn(&T) -> String,
) -> Result<ExitCode, String> {
    println!("Final status: {}", outcome.status());
    Ok(match outcome {
        ImportOutcome::Imported {
            import_id,
            mut rows,
        } => {
            let mut count = 0u64;
            while let Some(row) = rows.next().await {
                let row = row.map_err(|e| format!("{e:#}"))?;
                if count == 0 {
                    println!("First row: {}", show(&row));
                }
                count += 1;
            }
            println!("Imported {count} rows (import {import_id})");
            ExitCode::SUCCESS
        }
        ImportOutcome::NeedsReview {
            import_id,
            review_url,
            reasons,
            ..
        } => {
            println!(
                "Import {import_id} needs a person to review it at {}",
                review_url.as_deref().unwrap_or("the Dromo dashboard")
            );
            for reason in &reasons {
                println!("  {reason}");
            }
            println!("Imported 0 rows so far");
            ExitCode::SUCCESS
        }
        ImportOutcome::Failed {
            import_id, reasons, ..
        } => {
            println!("Import {import_id} failed:");
            for reason in &reasons {
                println!("  {reason}");
            }
            println!("Imported 0 rows");
            ExitCode::FAILURE
        }
        other => {
            println!(
                "Import {} is still {} after 15 minutes; check it later in the Dromo dashboard",
                other.import_id(),
                other.status()
            );
            ExitCode::FAILURE
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn help_is_a_command_not_an_error() {
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert_eq!(parse(&["-h"]), Ok(Command::Help));
        assert_eq!(parse(&["data.csv", "--help"]), Ok(Command::Help));
        for listed in [
            "DROMO_API_KEY",
            "DROMO_BASE_URL",
            BANDWIDTH_ENV,
            "Stand-in mode",
            "--schema-id",
            "--typed",
        ] {
            assert!(HELP.contains(listed), "--help does not mention {listed}");
        }
    }

    #[test]
    fn arguments_are_read() {
        assert_eq!(
            parse(&["data.csv", "--schema-id", "s-1"]),
            Ok(Command::Import(Args {
                file: "data.csv".into(),
                schema_id: Some("s-1".into()),
                typed: false,
            }))
        );
        assert_eq!(
            parse(&["--schema-id=s-2", "data.csv"]),
            Ok(Command::Import(Args {
                file: "data.csv".into(),
                schema_id: Some("s-2".into()),
                typed: false,
            }))
        );
        assert_eq!(
            parse(&["data.csv", "--typed"]),
            Ok(Command::Import(Args {
                file: "data.csv".into(),
                schema_id: None,
                typed: true,
            }))
        );
        assert!(parse(&["data.csv", "--typed", "--schema-id", "s-1"])
            .unwrap_err()
            .contains("not both"));
        assert_eq!(parse(&[]), Err("no file given".to_owned()));
        assert!(parse(&["--nope"])
            .unwrap_err()
            .contains("unknown option `--nope`"));
        assert!(parse(&["a.csv", "b.csv"])
            .unwrap_err()
            .contains("give one file"));
    }

    #[test]
    fn bandwidth_comes_from_the_environment_value() {
        assert_eq!(stand_in_bandwidth(None), Ok(None));
        assert_eq!(stand_in_bandwidth(Some(" ")), Ok(None));
        assert_eq!(stand_in_bandwidth(Some("125000")), Ok(Some(125_000)));
        let err = stand_in_bandwidth(Some("1 Mbit")).unwrap_err();
        assert!(
            err.contains(BANDWIDTH_ENV) && err.contains("125000"),
            "{err}"
        );
    }

    #[test]
    fn keys_are_snake_case_and_unique() {
        let headers = [
            "First Name",
            "E-mail (work)",
            "firstName",
            "",
            "First Name",
            "ID",
        ]
        .map(String::from);
        let keys: Vec<_> = schema_from_header(&headers)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            [
                "first_name",
                "e_mail_work",
                "first_name_2",
                "column_4",
                "first_name_3",
                "id"
            ]
        );
    }
}
