//! `dromo`: Dromo's headless import from the shell (feature `cli`).
//!
//! ```text
//! cargo run --features cli --bin dromo -- --help
//! cargo run --features cli --bin dromo -- --stand-in import people.csv --schema schema.json --out rows.csv
//! cargo run --features cli --bin dromo -- api --help   # every operation, generated (api.rs)
//! ```

#[path = "dromo/api.rs"]
mod api;
#[path = "dromo/commands.rs"]
mod commands;
#[path = "dromo/exit.rs"]
mod exit;
#[path = "dromo/output.rs"]
mod output;
#[path = "dromo/progress.rs"]
mod progress;
#[path = "dromo/schema_file.rs"]
mod schema_file;
#[path = "dromo/schemas.rs"]
mod schemas;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use commands::Context;
use dromo_client::{Client, ImportId};
use exit::Failure;
use std::path::PathBuf;
use std::process::ExitCode;

/// Dromo's headless import from the shell: import files, watch imports, fetch their rows.
///
/// The API key comes from DROMO_API_KEY or --api-key-file; the base URL from DROMO_BASE_URL or
/// --base-url. With --stand-in, commands run against a local stand-in of Dromo started in this
/// process: nothing leaves the machine.
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
    /// Run against a local stand-in of Dromo started in this process (no account needed).
    #[arg(long, global = true)]
    stand_in: bool,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars or progress lines.
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

/// An import id from the command line: a UUID, or bad input.
fn parse_import_id(text: &str) -> Result<ImportId, String> {
    text.parse::<ImportId>()
        .map_err(|_| format!("`{text}` is not an import id: give the import's UUID"))
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
                // The usage error's first paragraph on one line, as the crate's errors are one
                // line (the list of missing arguments follows the first line).
                let text = error.render().to_string();
                let first: Vec<&str> = text
                    .lines()
                    .map(str::trim)
                    .take_while(|line| !line.is_empty())
                    .collect();
                let first = if first.is_empty() {
                    "invalid arguments".to_owned()
                } else {
                    first.join(" ")
                };
                eprintln!("{first} (dromo --help lists the commands and options)");
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
    let (client, _stand_in) = connect(&cli.global).await?;
    match cli.command {
        Command::Import(args) => {
            // `prepared` is Some for Import (set just above).
            let Some(prepared) = prepared else {
                return Err(Failure::bad_input("nothing to import"));
            };
            commands::import(&client, &ctx, &args, prepared).await
        }
        Command::Wait(args) => commands::wait(&client, &ctx, &args).await,
        Command::Results(args) => commands::results(&client, &ctx, &args).await,
        Command::Imports(ImportsCommand::List { limit }) => {
            commands::list_imports(&client, &ctx, limit).await
        }
        Command::Imports(ImportsCommand::Delete { id }) => {
            commands::delete_import(&client, &ctx, &id).await
        }
        Command::Schema(command) => schemas::run(&client, &ctx, &command).await,
        Command::Api(ApiArgs {}) => match matches.subcommand_matches(api::COMMAND) {
            Some(api_matches) => api::run(&client, ctx.json, api_matches).await,
            None => Err(Failure::bad_input("no operation given (dromo api --help)")),
        },
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
