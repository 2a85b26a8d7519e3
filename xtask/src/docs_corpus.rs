//! `cargo xtask docs-corpus --docs <dromoio/docs checkout>`: extracts the request examples
//! Dromo publishes (whole create bodies, fields, field types, validators, settings, hooks) into
//! `tests/data/docs-corpus.json`, the test data of `tests/corpus.rs`.
//!
//! The docs are MDX written for Dromo's browser SDK as much as for the headless API, so examples
//! come in several forms; each is turned into the create body a user would send:
//! - `curl … -d '<json>'` bodies (the headless quickstart), kept whole;
//! - JSON or JavaScript object literals (read as JSON5), whole blocks or labelled parts
//!   (`fields: [...]`, `const settings = {...}`, `addField({...})`, `validators: [...]`);
//! - inline examples such as `` `type: ["number", "usd"]` `` or `` `{ validate: "unique" }` ``;
//! - hook registrations (`registerStepHook("REVIEW_STEP", function …)`), whose callback source
//!   becomes the string the headless API takes.
//!
//! Literals that are not data (functions, variables, `<placeholder>` templates) are skipped and
//! counted. Each example is tagged with its page, line and a stable id (page + a hash of the
//! example, so unrelated edits to a page keep the ids). Examples the docs themselves call
//! invalid are listed in [`INVALID`], with the reason.

use crate::util::sha256_hex;
use anyhow::{bail, Context, Result};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where the corpus is written, relative to the repository.
pub const CORPUS_PATH: &str = "tests/data/docs-corpus.json";

/// The pages (files or folders of `.mdx` pages) examples are read from.
const PAGES: [&str; 5] = [
    "getting-started/headless.mdx",
    "reference/fields",
    "reference/settings",
    "reference/hooks.mdx",
    "guides",
];

/// The saved schema id and file name used to complete a partial example into a create body.
const SCHEMA_ID: &str = "4eefe3fe-7181-4562-aa28-8cfe1c5bdf1b";
const FILENAME: &str = "data.csv";

/// Examples the docs call invalid, by id, with the documented reason: they must be refused.
const INVALID: [(&str, &str); 2] = [
    (
        "reference/fields/field-types#field-fragment-d1eb36c54c",
        "field-types.mdx, Select: \"You must provide an array of valid `selectOptions`\"; this shows only the `allowCustom` type option",
    ),
    (
        "reference/fields/field-types#field-fragment-b8b5d9b3ab",
        "field-types.mdx, Multi-Select: \"You must provide an array of valid `selectOptions`\"; this shows the type options with an empty placeholder `selectOptions: []`",
    ),
];

/// Settings names (Dromo's `DeveloperSettingsSchema.json` and the settings reference): an
/// object made only of these is a settings example.
const SETTINGS: [&str; 34] = [
    "importIdentifier",
    "title",
    "allowInvalidSubmit",
    "invalidDataBehavior",
    "backendSync",
    "backendSyncMode",
    "manualInputDisabled",
    "manualInputOnly",
    "allowCustomFields",
    "passThroughUnmappedColumns",
    "maxRecords",
    "developmentMode",
    "displayEncoding",
    "styleOverrides",
    "maxFileSize",
    "webhookUrl",
    "needsReviewWebhookUrl",
    "initialData",
    "uploadStep",
    "matchingStep",
    "matchValuesStep",
    "reviewStep",
    "autoMapHeaders",
    "delimiter",
    "backendOverride",
    "locale",
    "templateDownloadFilename",
    "browserExcelParsing",
    "version",
    "alternateDomain",
    "allowEmptySubmit",
    "autoMapSelectValues",
    "dataSizeLimit",
    "headerRowOverride",
];

/// The labelled literals looked for inside JavaScript, and what they are.
const LABELS: [(&str, Kind); 9] = [
    ("fields", Kind::Fields),
    ("schema", Kind::Fields),
    ("settings", Kind::Settings),
    ("uploadStep", Kind::StepSettings),
    ("matchingStep", Kind::StepSettings),
    ("matchValuesStep", Kind::StepSettings),
    ("reviewStep", Kind::StepSettings),
    ("validators", Kind::Validators),
    ("addField", Kind::Field),
];

/// Hook registrations of the SDK and the headless hooks key each corresponds to.
const HOOKS: [(&str, &str); 6] = [
    ("registerStepHook", "stepHooks"),
    ("registerColumnHook", "columnHooks"),
    ("registerRowHook", "rowHooks"),
    ("registerBulkRowHook", "bulkRowHooks"),
    ("registerRowDeleteHook", "rowDeleteHooks"),
    ("beforeFinish", "beforeFinishCallback"),
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A checkout of Dromo's docs repository (`dromoio/docs`).
    #[arg(long, value_name = "DIR")]
    pub docs: PathBuf,
    /// Write the corpus here instead of `tests/data/docs-corpus.json`.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Body,
    Fields,
    Field,
    FieldFragment,
    Validators,
    Settings,
    StepSettings,
    Hooks,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Body => "body",
            Kind::Fields => "fields",
            Kind::Field => "field",
            Kind::FieldFragment => "field-fragment",
            Kind::Validators => "validators",
            Kind::Settings | Kind::StepSettings => "settings",
            Kind::Hooks => "hooks",
        }
    }
}

/// One example found on a page.
struct Found {
    line: usize,
    kind: Kind,
    label: String,
    example: Value,
}

#[derive(Default)]
struct Skipped {
    not_data: usize,
    templates: usize,
}

pub fn run(repo: &Path, args: &Args) -> Result<()> {
    let mut pages = Vec::new();
    for entry in PAGES {
        let path = args.docs.join(entry);
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(&path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "mdx"))
                .collect();
            found.sort();
            pages.extend(found);
        } else if path.is_file() {
            pages.push(path);
        } else {
            bail!(
                "{} not found: is {} a checkout of Dromo's docs repository?",
                path.display(),
                args.docs.display()
            );
        }
    }
    let mut examples = Vec::new();
    let mut seen = BTreeSet::new();
    let mut skipped = Skipped::default();
    for path in &pages {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let page = path
            .strip_prefix(&args.docs)
            .unwrap_or(path)
            .with_extension("")
            .to_string_lossy()
            .replace('\\', "/");
        for found in extract_page(&text, &mut skipped) {
            let canonical = serde_json::to_string(&found.example)?;
            let id = format!(
                "{page}#{}-{}",
                found.kind.name(),
                &sha256_hex(canonical.as_bytes())[..10]
            );
            if !seen.insert(id.clone()) {
                continue; // The same example twice on a page (JavaScript and React tabs).
            }
            let mut entry = Map::new();
            entry.insert("id".into(), json!(id));
            entry.insert("page".into(), json!(format!("{page}.mdx")));
            entry.insert("line".into(), json!(found.line));
            entry.insert("kind".into(), json!(found.kind.name()));
            if !found.label.is_empty() {
                entry.insert("label".into(), json!(found.label));
            }
            entry.insert("example".into(), found.example.clone());
            entry.insert(
                "body".into(),
                body_of(found.kind, &found.label, found.example),
            );
            if let Some((_, reason)) = INVALID.iter().find(|(i, _)| *i == id) {
                entry.insert("invalid".into(), json!(reason));
            }
            examples.push(Value::Object(entry));
        }
    }
    for (id, _) in INVALID {
        if !seen.contains(id) {
            bail!("the example `{id}` listed as invalid in xtask/src/docs_corpus.rs is no longer in the docs: update INVALID");
        }
    }
    let corpus = json!({
        "about": "Request examples published in Dromo's docs (dromoio/docs), extracted by `cargo xtask docs-corpus`; each `body` is the create body a user would send for its `example` (partial examples completed with a saved schema id and a file name). Do not edit by hand: re-run the command.",
        "examples": examples,
    });
    let out = args.out.clone().unwrap_or_else(|| repo.join(CORPUS_PATH));
    let mut text = serde_json::to_string_pretty(&corpus)?;
    text.push('\n');
    std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "{} examples from {} pages written to {} ({} literals skipped as not data, {} as templates)",
        examples.len(),
        pages.len(),
        out.display(),
        skipped.not_data,
        skipped.templates
    );
    Ok(())
}

/// The create body a user would send for an example.
fn body_of(kind: Kind, label: &str, example: Value) -> Value {
    let with_fields = |fields: Value| json!({ "fields": fields, "original_filename": FILENAME });
    match kind {
        Kind::Body => example,
        Kind::Fields => with_fields(example),
        Kind::Field => with_fields(json!([example])),
        Kind::FieldFragment => {
            let mut field = Map::new();
            field.insert("key".into(), json!("example"));
            field.insert("label".into(), json!("Example"));
            if let Value::Object(parts) = example {
                field.extend(parts);
            }
            with_fields(json!([field]))
        }
        Kind::Validators => {
            with_fields(json!([{ "key": "example", "label": "Example", "validators": example }]))
        }
        Kind::Settings => {
            json!({ "schema_id": SCHEMA_ID, "original_filename": FILENAME, "settings": example })
        }
        Kind::StepSettings => {
            json!({ "schema_id": SCHEMA_ID, "original_filename": FILENAME, "settings": { label: example } })
        }
        Kind::Hooks => {
            json!({ "schema_id": SCHEMA_ID, "original_filename": FILENAME, "hooks": example })
        }
    }
}

/// A fenced code block: its first line (1-based) and its text.
struct Block {
    line: usize,
    text: String,
}

/// Strips indentation and blockquote markers (`> `) from a line.
fn unquote(line: &str) -> &str {
    let mut rest = line.trim_start();
    while let Some(r) = rest.strip_prefix('>') {
        rest = r.trim_start();
    }
    rest
}

fn extract_page(text: &str, skipped: &mut Skipped) -> Vec<Found> {
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut found = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = unquote(raw);
        if line.starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => {
                    current = Some(Block {
                        line: index + 1,
                        text: String::new(),
                    })
                }
            }
            continue;
        }
        match &mut current {
            Some(block) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            None => inline_examples(line, index + 1, skipped, &mut found),
        }
    }
    for block in &blocks {
        extract_block(block, skipped, &mut found);
    }
    found.sort_by_key(|f| f.line);
    found
}

/// Inline code spans of prose: `type: …` (a field type) and `{ validate: … }` (a validator).
fn inline_examples(line: &str, number: usize, skipped: &mut Skipped, out: &mut Vec<Found>) {
    for (i, span) in line.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        let span = span.trim();
        let (kind, literal) = if span.starts_with("type:") {
            (Kind::FieldFragment, format!("{{{span}}}"))
        } else if span.starts_with('{') && span.contains("validate") {
            (Kind::Validators, format!("[{span}]"))
        } else {
            continue;
        };
        if let Some(value) = parse_literal(&literal, skipped) {
            out.push(Found {
                line: number,
                kind,
                label: String::new(),
                example: value,
            });
        }
    }
}

fn extract_block(block: &Block, skipped: &mut Skipped, out: &mut Vec<Found>) {
    let text = block.text.as_str();
    let line_of = |offset: usize| block.line + 1 + text[..offset].matches('\n').count();
    // A curl body: everything after `-d '`, with the shell's quote characters removed.
    if let Some(start) = text.find("-d '") {
        let body: String = text[start + 4..].chars().filter(|c| *c != '\'').collect();
        if let Ok(value) = serde_json::from_str::<Value>(body.trim()) {
            out.push(Found {
                line: line_of(start),
                kind: Kind::Body,
                label: String::new(),
                example: value,
            });
        } else {
            skipped.not_data += 1;
        }
        return;
    }
    hook_registrations(text, &line_of, out);
    // The whole block as one literal, after a `const x =` / `x:` label.
    let (label, literal) = strip_label(text);
    if literal.starts_with(['{', '[']) {
        if let Ok(value) = json5::from_str::<Value>(literal.trim_end_matches(';')) {
            if has_template(&value) {
                skipped.templates += 1;
            } else if let Some((kind, value)) = classify(label, value) {
                out.push(Found {
                    line: block.line + 1,
                    kind,
                    label: label.to_owned(),
                    example: value,
                });
            }
            return;
        }
    }
    labelled_literals(text, &line_of, skipped, out);
}

/// Splits `const fields = [...]` or `fields: [...]` into the label and the literal.
fn strip_label(text: &str) -> (&str, &str) {
    let text = text.trim();
    let rest = ["const ", "let ", "var "]
        .iter()
        .find_map(|p| text.strip_prefix(p))
        .unwrap_or(text);
    let name_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(0);
    if name_len > 0 {
        let after = rest[name_len..].trim_start();
        if let Some(literal) = after.strip_prefix('=').or_else(|| after.strip_prefix(':')) {
            return (&rest[..name_len], literal.trim());
        }
    }
    ("", text)
}

/// `fields: [...]`, `const settings = {...}`, `addField({...})`… inside JavaScript.
fn labelled_literals(
    text: &str,
    line_of: &dyn Fn(usize) -> usize,
    skipped: &mut Skipped,
    out: &mut Vec<Found>,
) {
    let mut position = 0;
    while position < text.len() {
        let next = LABELS
            .iter()
            .filter_map(|(name, kind)| {
                let mut from = position;
                while let Some(at) = text[from..].find(name) {
                    let at = from + at;
                    from = at + name.len();
                    let before = text[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"') {
                        continue;
                    }
                    let rest = &text[at + name.len()..];
                    let trimmed = rest.trim_start();
                    let after = trimmed
                        .strip_prefix(':')
                        .or_else(|| trimmed.strip_prefix('='))
                        .or_else(|| trimmed.strip_prefix('('))
                        .map(str::trim_start);
                    if let Some(after) = after {
                        // JSX `settings={{…}}`: the inner braces are the object.
                        let after = match after.strip_prefix('{') {
                            Some(inner) if inner.trim_start().starts_with('{') => {
                                inner.trim_start()
                            }
                            _ => after,
                        };
                        if after.starts_with(['[', '{']) {
                            let start = text.len() - after.len();
                            return Some((start, at, *name, *kind));
                        }
                    }
                }
                None
            })
            .min_by_key(|(start, ..)| *start);
        let Some((start, at, name, kind)) = next else {
            break;
        };
        let Some(end) = balanced_end(text, start) else {
            break;
        };
        match json5::from_str::<Value>(&text[start..end]) {
            Ok(value) if has_template(&value) => {
                skipped.templates += 1;
                position = end;
            }
            Ok(value) => {
                if let Some((kind, value)) = classify_labelled(name, kind, value) {
                    out.push(Found {
                        line: line_of(at),
                        kind,
                        label: name.to_owned(),
                        example: value,
                    });
                }
                position = end;
            }
            Err(_) => {
                skipped.not_data += 1;
                // Look inside: a literal that is not data may hold one that is.
                position = start + 1;
            }
        }
    }
}

/// `registerStepHook("REVIEW_STEP", function (…) {…})` and friends: the headless hooks object.
fn hook_registrations(text: &str, line_of: &dyn Fn(usize) -> usize, out: &mut Vec<Found>) {
    for (call, key) in HOOKS {
        let mut from = 0;
        while let Some(at) = text[from..].find(&format!("{call}(")) {
            let at = from + at;
            let open = at + call.len();
            from = open + 1;
            let Some(end) = balanced_end(text, open) else {
                continue;
            };
            let args = text[open + 1..end - 1].trim();
            let (name, callback) = match key {
                "stepHooks" | "columnHooks" => {
                    let Some(quote) = args.chars().next().filter(|c| *c == '"' || *c == '\'')
                    else {
                        continue;
                    };
                    let Some(close) = args[1..].find(quote) else {
                        continue;
                    };
                    let name = &args[1..1 + close];
                    let rest = args[close + 2..].trim_start();
                    let Some(rest) = rest.strip_prefix(',') else {
                        continue;
                    };
                    (Some(name.to_owned()), rest.trim())
                }
                _ => (None, args),
            };
            let is_function = callback.starts_with("function")
                || callback.starts_with("async")
                || (callback.starts_with('(') && callback.contains("=>"));
            if !is_function {
                continue;
            }
            let hook = match (key, name) {
                ("stepHooks", Some(name)) => {
                    json!({ key: [{ "type": name, "callback": callback }] })
                }
                ("columnHooks", Some(name)) => {
                    json!({ key: [{ "fieldName": name, "callback": callback }] })
                }
                ("beforeFinishCallback", _) => json!({ key: callback }),
                _ => json!({ key: [callback] }),
            };
            out.push(Found {
                line: line_of(at),
                kind: Kind::Hooks,
                label: call.to_owned(),
                example: hook,
            });
        }
    }
}

/// The end (exclusive) of the bracketed text opening at `start`, skipping strings.
fn balanced_end(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (offset, c) in text[start..].char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(start + offset + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Reads a JSON5 literal; a literal that is not data or is a template is counted and skipped.
fn parse_literal(literal: &str, skipped: &mut Skipped) -> Option<Value> {
    match json5::from_str::<Value>(literal) {
        Ok(value) if has_template(&value) => {
            skipped.templates += 1;
            None
        }
        Ok(value) => Some(value),
        Err(_) => {
            skipped.not_data += 1;
            None
        }
    }
}

/// A `<placeholder>` string: the example is a template, not data.
fn has_template(value: &Value) -> bool {
    match value {
        Value::String(s) => s.starts_with('<') && s.ends_with('>'),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map.values().any(has_template),
        _ => false,
    }
}

fn is_field(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|m| m.contains_key("key") && m.contains_key("label"))
}

fn classify_labelled(name: &str, kind: Kind, value: Value) -> Option<(Kind, Value)> {
    match kind {
        Kind::Fields => match &value {
            Value::Array(items) if !items.is_empty() && items.iter().all(is_field) => {
                Some((Kind::Fields, value))
            }
            _ => None,
        },
        Kind::Field => is_field(&value).then_some((Kind::Field, value)),
        Kind::Validators => match &value {
            Value::Array(items)
                if !items.is_empty() && items.iter().all(|v| v.get("validate").is_some()) =>
            {
                Some((Kind::Validators, value))
            }
            _ => None,
        },
        Kind::Settings => classify("", value).filter(|(k, _)| *k == Kind::Settings),
        Kind::StepSettings => value.is_object().then_some((Kind::StepSettings, value)),
        _ => classify(name, value),
    }
}

/// What an unlabelled (or whole-block) literal is, if it is a request example at all.
fn classify(label: &str, value: Value) -> Option<(Kind, Value)> {
    if let Some(kind) = LABELS.iter().find(|(n, _)| *n == label).map(|(_, k)| *k) {
        return classify_labelled(label, kind, value);
    }
    match &value {
        Value::Object(map) => {
            let body_keys = ["schema_id", "original_filename", "initial_data"];
            if body_keys.iter().any(|k| map.contains_key(*k)) {
                Some((Kind::Body, value))
            } else if let Some(fields) = map.get("fields") {
                classify_labelled("fields", Kind::Fields, fields.clone())
            } else if is_field(&value) {
                Some((Kind::Field, value))
            } else if map.contains_key("type") && !map.contains_key("key") {
                Some((Kind::FieldFragment, value))
            } else if !map.is_empty() && map.keys().all(|k| SETTINGS.contains(&k.as_str())) {
                Some((Kind::Settings, value))
            } else {
                None
            }
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(is_field) => {
            Some((Kind::Fields, value))
        }
        _ => None,
    }
}
