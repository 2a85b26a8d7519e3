//! `dromo`: Dromo's headless import from the shell (feature `cli`).
//!
//! ```text
//! cargo run --features cli --bin dromo -- --help
//! cargo run --features cli --bin dromo -- --stand-in import tests/data/sample.csv --out rows.csv
//! cargo run --features cli --bin dromo -- stand-in     # a long-lived stand-in for other programs
//! cargo run --features cli --bin dromo -- api --help   # every operation, generated (api.rs)
//! ```

#[path = "dromo/api.rs"]
mod api;
#[path = "dromo/commands.rs"]
mod commands;
#[path = "dromo/exit.rs"]
mod exit;
#[path = "dromo/header.rs"]
mod header;
#[path = "dromo/output.rs"]
mod output;
#[path = "dromo/progress.rs"]
mod progress;
#[path = "dromo/schema_file.rs"]
mod schema_file;
#[path = "dromo/schemas.rs"]
mod schemas;
#[path = "dromo/serve.rs"]
mod serve;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use commands::Context;
use dromo_client::{Client, ImportId};
use exit::Failure;
use std::path::PathBuf;
use std::process::ExitCode;

/// Dromo's headless import from the shell: import files, watch imports, fetch their rows.
///
/// The API key comes from DROMO_API_KEY or --api-key-file; the base URL from DROMO_BASE_URL or
/// --base-url. With --stand-in, a command runs against a local stand-in of Dromo started in its
/// own process (its state ends with the command); `dromo stand-in` starts one that keeps its state
/// for other commands and programs.
#[derive(Debug, Parser)]
#[command(name = "dromo", version, after_help = exit::HELP)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
struct Global {
    /// A file holding the API key (its first line); otherwise DROMO_API_KEY.
    #[arg(long, global = true, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
    /// Dromo's API base URL.
    #[arg(long, global = true, env = "DROMO_BASE_URL", value_name = "URL")]
    base_url: Option<String>,
    /// Run against a local stand-in of Dromo started for this command only (no account needed;
    /// its imports and schemas end with the command: see `dromo stand-in`).
    #[arg(long, global = true)]
    stand_in: bool,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Print nothing but results and errors: no progress, no summaries.
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import a file: create the import, upload the file, wait, download the rows.
    Import(commands::ImportArgs),
    /// Wait for an import to end and print how it ended.
    Wait(commands::WaitArgs),
    /// Download the rows of a successful import.
    Results(commands::ResultsArgs),
    /// List or delete imports.
    #[command(subcommand)]
    Imports(ImportsCommand),
    /// Schemas as code: pull, diff and push saved schemas by name.
    #[command(subcommand)]
    Schema(schemas::SchemaCommand),
    /// Every operation of Dromo's API, one command each (generated from the spec): JSON out.
    #[command(subcommand_required = true)]
    Api(ApiArgs),
    /// Serve a local stand-in of Dromo (API and S3) until stopped, for other commands and programs.
    StandIn(serve::StandInArgs),
}

/// `dromo api <operation>`: the operations are added at run time from the generated CLI
/// (`api::add_operations`), so they are not listed here.
#[derive(Debug, Args)]
struct ApiArgs {}

#[derive(Debug, Subcommand)]
enum ImportsCommand {
    /// List imports, newest first.
    List {
        /// At most this many imports.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// Delete an import.
    Delete {
        /// The import's id (a UUID).
        #[arg(value_parser = parse_import_id)]
        id: ImportId,
    },
}

/// An id as the examples of `--help` and the errors show it.
pub const EXAMPLE_ID: &str = "94187d21-9820-420f-b08c-a80cbbf52604";

/// An import id from the command line: a UUID, or bad input.
fn parse_import_id(text: &str) -> Result<ImportId, String> {
    text.parse::<ImportId>()
        .map_err(|_| format!("`{text}` is not an import id: ids are UUIDs like {EXAMPLE_ID}"))
}

/// The usage error's first paragraph on one line, as the crate's errors are one line (the list
/// of missing arguments follows the first line), with clap's `tip:` lines (suggestions for a
/// mistyped subcommand or flag) kept.
fn usage_error_line(rendered: &str) -> String {
    let mut lines = rendered.lines().map(str::trim);
    let mut parts: Vec<&str> = lines.by_ref().take_while(|line| !line.is_empty()).collect();
    parts.extend(lines.filter(|line| line.starts_with("tip:")));
    if parts.is_empty() {
        "invalid arguments".to_owned()
    } else {
        parts.join(" ")
    }
}

fn main() -> ExitCode {
    let parsed = api::add_operations(Cli::command())
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(error) => {
            let code = if error.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
            if error.use_stderr() {
                let line = usage_error_line(&error.render().to_string());
                eprintln!("{line} (dromo --help lists the commands and options)");
            } else {
                let _ = error.print();
            }
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::API_ERROR);
        }
    };
    match runtime.block_on(run(cli, &matches)) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            failure.exit_code()
        }
    }
}

async fn run(cli: Cli, matches: &clap::ArgMatches) -> Result<u8, Failure> {
    let ctx = Context {
        json: cli.global.json,
        progress: progress::Mode::detect(cli.global.quiet),
    };
    // Input is checked before any client is made or anything sent.
    let prepared = match &cli.command {
        Command::Import(args) => Some(args.prepare()?),
        Command::Schema(
            schemas::SchemaCommand::Diff { file } | schemas::SchemaCommand::Push { file, .. },
        ) => {
            schemas::check(file)?;
            None
        }
        _ => None,
    };
    if let Command::StandIn(args) = &cli.command {
        if cli.global.stand_in {
            return Err(Failure::bad_input(
                "`dromo stand-in` starts a stand-in itself: drop --stand-in",
            ));
        }
        return serve::run(args, cli.global.quiet).await;
    }
    let (client, stand_in) = connect(&cli.global).await?;
    let result = execute(cli, matches, &client, &ctx, prepared).await;
    match (result, stand_in) {
        (Err(failure), Some(server)) => Err(stand_in_hint(failure, &server)),
        (result, _) => result,
    }
}

/// A 404 under `--stand-in` comes from a stand-in that started empty for this one command: the
/// message says so, rather than asking to check an id that may be right.
fn stand_in_hint(mut failure: Failure, server: &dromo_client::stand_in::StandIn) -> Failure {
    let got_404 = server
        .requests()
        .last()
        .is_some_and(|request| request.status == 404 && request.path.starts_with("/api/"));
    if got_404 {
        if let Some((what, _)) = failure.message.split_once("(HTTP 404)") {
            failure.message = format!(
                "{what}(HTTP 404): --stand-in starts an empty stand-in for each command and its \
                 state ends with the command; to keep imports and schemas between commands, run \
                 `dromo stand-in` and export what it prints"
            );
        }
    }
    failure
}

/// Runs a command that talks to Dromo.
async fn execute(
    cli: Cli,
    matches: &clap::ArgMatches,
    client: &Client,
    ctx: &Context,
    prepared: Option<commands::Prepared>,
) -> Result<u8, Failure> {
    match cli.command {
        Command::Import(args) => {
            // `prepared` is Some for Import (set just above).
            let Some(prepared) = prepared else {
                return Err(Failure::bad_input("nothing to import"));
            };
            commands::import(client, ctx, &args, prepared).await
        }
        Command::Wait(args) => commands::wait(client, ctx, &args).await,
        Command::Results(args) => commands::results(client, ctx, &args).await,
        Command::Imports(ImportsCommand::List { limit }) => {
            commands::list_imports(client, ctx, limit).await
        }
        Command::Imports(ImportsCommand::Delete { id }) => {
            commands::delete_import(client, ctx, &id).await
        }
        Command::Schema(command) => schemas::run(client, ctx, &command).await,
        Command::Api(ApiArgs {}) => match matches.subcommand_matches(api::COMMAND) {
            Some(api_matches) => api::run(client, ctx.json, api_matches).await,
            None => Err(Failure::bad_input("no operation given (dromo api --help)")),
        },
        Command::StandIn(_) => Err(Failure::bad_input("`dromo stand-in` takes no client")),
    }
}

/// The client the options ask for, and the stand-in it talks to (kept alive while it runs).
async fn connect(
    global: &Global,
) -> Result<(Client, Option<dromo_client::stand_in::StandIn>), Failure> {
    if global.stand_in {
        let server = dromo_client::stand_in::StandIn::start()
            .await
            .map_err(|e| Failure {
                message: format!("cannot start the stand-in: {e}"),
                code: exit::API_ERROR,
            })?;
        let client = server.client()?;
        if !global.quiet {
            eprintln!(
                "note: --stand-in: this command runs against a stand-in of Dromo started for it \
                 alone; its imports and schemas end with the command (`dromo stand-in` keeps them)"
            );
        }
        return Ok((client, Some(server)));
    }
    let key = match &global.api_key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::bad_input(format!(
                    "cannot read the API key file {}: {e}",
                    path.display()
                ))
            })?;
            text.lines().next().unwrap_or_default().trim().to_owned()
        }
        None => std::env::var(dromo_client::API_KEY_ENV).unwrap_or_default(),
    };
    if key.is_empty() {
        return Err(Failure::bad_input(
            "no API key: set DROMO_API_KEY, give --api-key-file FILE, or try --stand-in",
        ));
    }
    let mut builder = Client::builder().api_key(key);
    if let Some(url) = &global.base_url {
        builder = builder.base_url(url.clone());
    }
    Ok((builder.build()?, None))
}
