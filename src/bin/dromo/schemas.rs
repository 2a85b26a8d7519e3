//! Schemas as code: `dromo schema pull NAME`, `diff FILE`, `push FILE [--dry-run]`. A saved
//! schema is found by its unique name.

use crate::exit::{self, Failure};
use crate::Context;
use dromo_client::{types, Client};
use futures_util::TryStreamExt;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `dromo schema …`.
#[derive(Debug, clap::Subcommand)]
pub enum SchemaCommand {
    /// Print the saved schema named NAME as JSON (redirect it to a file to keep it as code).
    Pull {
        /// The schema's unique name.
        name: String,
    },
    /// Compare a schema file with the saved schema of the same name, field by field. Exit code 7
    /// when a change would break existing integrations (a removed field, a changed type).
    Diff {
        /// The schema file (`dromo schema pull` output).
        file: PathBuf,
    },
    /// Create the saved schema, or update the one with the file's name.
    Push {
        /// The schema file: an object with `name` and `fields` (`settings`, `hooks` optional).
        file: PathBuf,
        /// Say what would happen and send nothing that changes anything.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs a schema command.
pub async fn run(client: &Client, ctx: &Context, command: &SchemaCommand) -> Result<u8, Failure> {
    match command {
        SchemaCommand::Pull { name } => {
            let saved = find(client, name).await?.ok_or_else(|| not_found(name))?;
            let text = serde_json::to_string_pretty(&as_code(&saved)).map_err(internal)?;
            println!("{text}");
            Ok(exit::OK)
        }
        SchemaCommand::Diff { file } => {
            let local = read(file)?;
            let saved = find(client, &local.name)
                .await?
                .ok_or_else(|| not_found(&local.name))?;
            let changes = diff(
                &as_code(&saved),
                &serde_json::to_value(&local).map_err(internal)?,
            );
            print_changes(ctx, &local.name, &changes);
            let breaking = changes.iter().any(|c| c.breaking);
            Ok(if breaking { exit::BREAKING } else { exit::OK })
        }
        SchemaCommand::Push { file, dry_run } => {
            let local = read(file)?;
            let saved = find(client, &local.name).await?;
            let (action, id) = match &saved {
                Some(saved) => ("update", saved.id.clone()),
                None => ("create", None),
            };
            if *dry_run {
                let changes = match &saved {
                    Some(saved) => diff(
                        &as_code(saved),
                        &serde_json::to_value(&local).map_err(internal)?,
                    ),
                    None => Vec::new(),
                };
                if ctx.json {
                    println!(
                        "{}",
                        json!({"name": local.name, "action": action, "id": id, "dry_run": true, "changes": changes.iter().map(Change::to_json).collect::<Vec<_>>()})
                    );
                } else {
                    println!(
                        "would {action} schema `{}` (dry run: nothing sent)",
                        local.name
                    );
                    if saved.is_some() {
                        print_changes(ctx, &local.name, &changes);
                    }
                }
                return Ok(exit::OK);
            }
            let stored = match &id {
                Some(id) => client
                    .api()
                    .update_import_schema()
                    .id(id.as_str())
                    .body(local.clone())
                    .send()
                    .await?
                    .into_inner(),
                None => client
                    .api()
                    .create_import_schema()
                    .body(local.clone())
                    .send()
                    .await?
                    .into_inner(),
            };
            let id = stored.id.clone().unwrap_or_default();
            if ctx.json {
                println!(
                    "{}",
                    json!({"name": local.name, "action": action, "id": id})
                );
            } else {
                println!("{action}d schema `{}` ({id})", local.name);
            }
            Ok(exit::OK)
        }
    }
}

/// The saved schema named `name`, if any.
async fn find(client: &Client, name: &str) -> Result<Option<types::ImportSchema>, Failure> {
    let all: Vec<types::ImportSchema> = client.list_schemas().try_collect().await?;
    Ok(all.into_iter().find(|s| s.name == name))
}

fn not_found(name: &str) -> Failure {
    Failure {
        message: format!("no saved schema is named `{name}`: check the name, or create it with `dromo schema push`"),
        code: exit::API_ERROR,
    }
}

fn internal(e: serde_json::Error) -> Failure {
    Failure {
        message: format!("cannot turn the schema into JSON: {e}"),
        code: exit::API_ERROR,
    }
}

/// A saved schema as kept in a file: without its server-side `id`.
fn as_code(schema: &types::ImportSchema) -> Value {
    let mut value = serde_json::to_value(schema).unwrap_or(Value::Null);
    if let Some(object) = value.as_object_mut() {
        object.remove("id");
    }
    value
}

/// Checks a schema file before anything is sent.
pub fn check(path: &Path) -> Result<(), Failure> {
    read(path).map(drop)
}

/// Reads a schema file to push or compare: bad input unless it is a whole named schema.
fn read(path: &Path) -> Result<types::ImportSchema, Failure> {
    // The field checks (and their messages) are the workflow's.
    crate::schema_file::read(path)?;
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::bad_input(format!("cannot read the schema file {shown}: {e}")))?;
    let mut value: Value = serde_json::from_str(&text).map_err(|e| {
        Failure::bad_input(format!("the schema file {shown} is not valid JSON: {e}"))
    })?;
    let Some(object) = value.as_object_mut() else {
        return Err(Failure::bad_input(format!(
            "the schema file {shown} is an array of fields: push needs an object with `name` and `fields`"
        )));
    };
    object.remove("id");
    object.entry("settings").or_insert_with(|| json!({}));
    serde_path_to_error::deserialize(value).map_err(|e| {
        Failure::bad_input(format!(
            "the schema file {shown} is not a schema: at `{}`: {}",
            e.path(),
            e.inner()
        ))
    })
}

/// One difference between the saved schema and the file.
#[derive(Debug)]
struct Change {
    breaking: bool,
    symbol: char,
    location: String,
    message: String,
}

impl Change {
    fn to_json(&self) -> Value {
        json!({"breaking": self.breaking, "location": self.location, "message": self.message})
    }
}

/// The changes from `saved` to `local`, field by field (by key); then settings and hooks.
fn diff(saved: &Value, local: &Value) -> Vec<Change> {
    let fields = |v: &Value| -> Vec<(String, Map<String, Value>)> {
        v["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| Some((f["key"].as_str()?.to_owned(), f.as_object()?.clone())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (old, new) = (fields(saved), fields(local));
    let mut changes = Vec::new();
    for (key, old_field) in &old {
        match new.iter().find(|(k, _)| k == key) {
            None => changes.push(Change {
                breaking: true,
                symbol: '-',
                location: format!("fields.{key}"),
                message: "field removed: integrations reading it get nothing".to_owned(),
            }),
            Some((_, new_field)) => {
                let mut attributes: Vec<&String> =
                    old_field.keys().chain(new_field.keys()).collect();
                attributes.sort();
                attributes.dedup();
                for attribute in attributes {
                    let (a, b) = (old_field.get(attribute), new_field.get(attribute));
                    if a == b || (is_empty(a) && is_empty(b)) {
                        continue;
                    }
                    changes.push(Change {
                        breaking: attribute == "type",
                        symbol: '~',
                        location: format!("fields.{key}.{attribute}"),
                        message: format!("{} -> {}", shown(a), shown(b)),
                    });
                }
            }
        }
    }
    for (key, _) in &new {
        if !old.iter().any(|(k, _)| k == key) {
            changes.push(Change {
                breaking: false,
                symbol: '+',
                location: format!("fields.{key}"),
                message: "field added".to_owned(),
            });
        }
    }
    for part in ["settings", "hooks"] {
        let (a, b) = (saved.get(part), local.get(part));
        if a != b && !(is_empty(a) && is_empty(b)) {
            changes.push(Change {
                breaking: false,
                symbol: '~',
                location: part.to_owned(),
                message: "changed".to_owned(),
            });
        }
    }
    changes
}

/// Absent, `null`, `[]`, `{}` and `false` all mean "not set".
fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => true,
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "(unset)".to_owned(), Value::to_string)
}

/// The report, in `cargo xtask update-spec`'s style.
fn print_changes(ctx: &Context, name: &str, changes: &[Change]) {
    if ctx.json {
        println!(
            "{}",
            Value::Array(changes.iter().map(Change::to_json).collect())
        );
        return;
    }
    let mut out = String::new();
    if changes.is_empty() {
        let _ = writeln!(out, "No changes: the file matches saved schema `{name}`.");
    } else {
        let _ = writeln!(
            out,
            "Schema `{name}`, saved -> file: {} change(s), {} BREAKING",
            changes.len(),
            changes.iter().filter(|c| c.breaking).count()
        );
        for c in changes {
            let flag = if c.breaking { "BREAKING " } else { "         " };
            let _ = writeln!(out, "  {flag}{} {}: {}", c.symbol, c.location, c.message);
        }
    }
    print!("{out}");
}
