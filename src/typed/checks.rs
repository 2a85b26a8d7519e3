//! [`RowSchema::check_rows`](super::RowSchema::check_rows): the validators of an inline schema
//! that can be decided without Dromo, run on the rows before they are sent.

use super::spellings::SelectNames;
use crate::error::{Error, Violation, Violations};
use crate::request::Field;
use crate::types;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// One validator, ready to run.
enum Rule {
    Required,
    Unique {
        case_insensitive: bool,
    },
    Regex {
        regex: regress::Regex,
        exclude: bool,
    },
    Length {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// `require_with` (`any_present`, not `all`), `require_with_all`, `require_without`,
    /// `require_without_all`: whether the others must be present (`with`) and whether all of
    /// them decide (`all`).
    RequireWith {
        fields: Vec<String>,
        with: bool,
        all: bool,
    },
}

struct Check {
    rule: Rule,
    error_message: Option<String>,
}

/// One field's checks.
struct FieldChecks {
    key: String,
    checks: Vec<Check>,
    /// The options of a select or multi-select (a cell may name one by value, label or
    /// alternate match, as Dromo matches cells).
    options: Option<SelectNames>,
    number_bounds: (Option<f64>, Option<f64>),
}

/// Whether a value counts as empty for Dromo's `required`.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// The value as the text Dromo's validators see.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().map(text).collect(),
        _ => Vec::new(),
    }
}

fn flags(options: Option<&Value>) -> String {
    let mut flags = String::new();
    if let Some(Value::Object(options)) = options {
        for (key, flag) in [
            ("ignoreCase", 'i'),
            ("multiline", 'm'),
            ("dotAll", 's'),
            ("unicode", 'u'),
        ] {
            if options.get(key) == Some(&Value::Bool(true)) {
                flags.push(flag);
            }
        }
    }
    flags
}

/// A validator's rule, `None` for one decided only by Dromo (`alphabetical`, `unique_with`...),
/// or a violation for a regex JavaScript would refuse.
fn rule(validator: &Map<String, Value>, at: &str) -> Result<Option<Rule>, Violation> {
    let name = validator
        .get("validate")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(Some(match name {
        "required" => Rule::Required,
        "unique" => Rule::Unique {
            case_insensitive: false,
        },
        "unique_case_insensitive" => Rule::Unique {
            case_insensitive: true,
        },
        "regex_match" | "regex_exclude" => {
            let pattern = validator.get("regex").map(text).unwrap_or_default();
            let flags = flags(validator.get("regexOptions"));
            let regex = regress::Regex::with_flags(&pattern, flags.as_str()).map_err(|e| {
                Violation::new(
                    at,
                    format!("the regex `{pattern}` is not a valid JavaScript regex ({e}): fix the pattern"),
                )
            })?;
            Rule::Regex {
                regex,
                exclude: name == "regex_exclude",
            }
        }
        "length" => Rule::Length {
            min: validator.get("min").and_then(Value::as_f64),
            max: validator.get("max").and_then(Value::as_f64),
        },
        "require_with" | "require_with_all" | "require_without" | "require_without_all" => {
            Rule::RequireWith {
                fields: string_list(validator.get("fields")),
                with: !name.starts_with("require_without"),
                all: name.ends_with("_all"),
            }
        }
        _ => return Ok(None),
    }))
}

/// A field definition's type name and options: no `type` is a `string` field.
pub(crate) fn type_parts(field: &Map<String, Value>) -> (&str, Option<&Value>) {
    match field.get("type") {
        Some(Value::String(name)) => (name.as_str(), None),
        Some(Value::Array(parts)) => (
            parts.first().and_then(Value::as_str).unwrap_or(""),
            parts.get(1),
        ),
        _ => ("string", None),
    }
}

/// The checks of field `index`, from its definition as JSON (what is sent as one item of
/// `fields`).
fn field_checks(index: usize, field: &Map<String, Value>) -> Result<FieldChecks, Violation> {
    let (type_name, type_options) = type_parts(field);
    // `allowCustom` makes the options suggestions: any value is valid (Dromo's field types).
    let allow_custom = type_options
        .and_then(|o| o.get("allowCustom"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let options = (matches!(type_name, "select" | "multi-select") && !allow_custom)
        .then(|| SelectNames::of(field));
    let number_bounds = match type_options {
        Some(Value::Object(o)) if type_name == "number" => (
            o.get("min").and_then(Value::as_f64),
            o.get("max").and_then(Value::as_f64),
        ),
        _ => (None, None),
    };
    let mut checks = Vec::new();
    let validators = field.get("validators").and_then(Value::as_array);
    for (v, validator) in validators.into_iter().flatten().enumerate() {
        let Some(validator) = validator.as_object() else {
            continue;
        };
        let at = format!("fields[{index}].validators[{v}]");
        if let Some(rule) = rule(validator, &at)? {
            checks.push(Check {
                rule,
                error_message: validator
                    .get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
    }
    Ok(FieldChecks {
        key: field
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        checks,
        options,
        number_bounds,
    })
}

/// The problem with one value under one check, if any.
fn broken(check: &Check, value: &Value, row: &Map<String, Value>) -> Option<String> {
    let empty = is_empty(value);
    match &check.rule {
        Rule::Required if empty => Some("is required but empty".to_owned()),
        Rule::RequireWith { fields, with, all } if empty => {
            let present = |key: &String| row.get(key).is_some_and(|v| !is_empty(v));
            let triggered = match (with, all) {
                (true, false) => fields.iter().any(present),
                (true, true) => fields.iter().all(present),
                (false, false) => !fields.iter().all(present),
                (false, true) => !fields.iter().any(present),
            };
            triggered.then(|| {
                let others = fields.join(", ");
                match (with, all) {
                    (true, false) => format!("is required when any of {others} is given"),
                    (true, true) => format!("is required when all of {others} are given"),
                    (false, false) => format!("is required when any of {others} is empty"),
                    (false, true) => format!("is required when all of {others} are empty"),
                }
            })
        }
        _ if empty => None,
        Rule::Regex { regex, exclude } => {
            let text = text(value);
            let found = regex.find(&text).is_some();
            match (found, exclude) {
                (false, false) => Some(format!("`{text}` does not match the field's regex")),
                (true, true) => Some(format!("`{text}` matches the field's excluded regex")),
                _ => None,
            }
        }
        Rule::Length { min, max } => {
            // JavaScript counts a string's length in UTF-16 units.
            let length = text(value).encode_utf16().count() as f64;
            if min.is_some_and(|min| length < min) || max.is_some_and(|max| length > max) {
                Some(format!(
                    "has length {length}, outside {}..={}",
                    min.map_or(String::new(), |m| m.to_string()),
                    max.map_or(String::new(), |m| m.to_string())
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The local checks of a schema, run row by row: the same code decides
/// [`RowSchema::check_rows`](super::RowSchema::check_rows) and the stand-in's verdict on an
/// import, so the two agree.
pub(crate) struct RowChecker {
    fields: Vec<FieldChecks>,
    /// (field index, value) → the first row holding it, for `unique`.
    seen: HashMap<(usize, String), usize>,
}

impl RowChecker {
    /// The checker of `fields` (field definitions as JSON objects), and a violation for each
    /// validator that cannot run (a regex JavaScript would refuse), at
    /// `fields[<index>].validators[<index>]`.
    pub(crate) fn new<'a>(
        fields: impl IntoIterator<Item = &'a Map<String, Value>>,
    ) -> (RowChecker, Vec<Violation>) {
        let mut violations = Vec::new();
        let mut prepared = Vec::new();
        for (index, field) in fields.into_iter().enumerate() {
            match field_checks(index, field) {
                Ok(checks) => prepared.push(checks),
                Err(violation) => violations.push(violation),
            }
        }
        let checker = RowChecker {
            fields: prepared,
            seen: HashMap::new(),
        };
        (checker, violations)
    }

    /// Checks row `r` (rows must come in order, for `unique`), adding its violations to `out`
    /// at `rows[<r>].<key>`.
    pub(crate) fn check_row(
        &mut self,
        r: usize,
        row: &Map<String, Value>,
        out: &mut Vec<Violation>,
    ) {
        for (f, field) in self.fields.iter().enumerate() {
            let value = row.get(&field.key).unwrap_or(&Value::Null);
            let at = || format!("rows[{r}].{}", field.key);
            for check in &field.checks {
                let problem = match &check.rule {
                    Rule::Unique { case_insensitive } if !is_empty(value) => {
                        let mut normalized = text(value);
                        if *case_insensitive {
                            normalized = normalized.to_lowercase();
                        }
                        match self.seen.get(&(f, normalized.clone())) {
                            Some(first) => Some(format!(
                                "`{}` is not unique: row {first} has it too",
                                text(value)
                            )),
                            None => {
                                self.seen.insert((f, normalized), r);
                                None
                            }
                        }
                    }
                    _ => broken(check, value, row),
                };
                if let Some(problem) = problem {
                    let message = match &check.error_message {
                        Some(own) => format!("{problem} ({own})"),
                        None => problem,
                    };
                    out.push(Violation::new(at(), message));
                }
            }
            if is_empty(value) {
                continue;
            }
            if let Some(options) = &field.options {
                let values: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    single => vec![single],
                };
                for value in values {
                    let text = text(value);
                    if options.value_of(&text).is_none() {
                        out.push(Violation::new(
                            at(),
                            format!(
                                "`{text}` is not an option: use one of {}",
                                options.values().join(", ")
                            ),
                        ));
                    }
                }
            }
            let (min, max) = field.number_bounds;
            let number = value.as_f64().or_else(|| text(value).trim().parse().ok());
            if let Some(number) = number {
                if let Some(min) = min.filter(|min| number < *min) {
                    out.push(Violation::new(
                        at(),
                        format!("{number} is below the minimum {min}"),
                    ));
                }
                if let Some(max) = max.filter(|max| number > *max) {
                    out.push(Violation::new(
                        at(),
                        format!("{number} is above the maximum {max}"),
                    ));
                }
            }
        }
    }
}

/// Each field's definition as the JSON object sent in `fields`.
pub(crate) fn definitions(fields: &[Field]) -> Vec<Map<String, Value>> {
    fields
        .iter()
        .map(
            |field| match serde_json::to_value(types::SchemaFieldsItem::from(field.clone())) {
                Ok(Value::Object(definition)) => definition,
                // A generated struct always serializes to an object.
                _ => Map::new(),
            },
        )
        .collect()
}

/// Runs the local checks of `fields` on `rows`; see `RowSchema::check_rows`.
pub(crate) fn check_rows<T: Serialize>(fields: &[Field], rows: &[T]) -> Result<(), Error> {
    let mut violations = Vec::new();
    let definitions = definitions(fields);
    let (mut checker, refused) = RowChecker::new(&definitions);
    violations.extend(refused);
    for (r, row) in rows.iter().enumerate() {
        let row = match serde_json::to_value(row) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                violations.push(Violation::new(
                    format!("rows[{r}]"),
                    "a row must serialize to an object keyed by field key (a struct or a map)",
                ));
                continue;
            }
            Err(e) => {
                violations.push(Violation::new(
                    format!("rows[{r}]"),
                    format!("the row could not be serialized: {e}"),
                ));
                continue;
            }
        };
        checker.check_row(r, &row, &mut violations);
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::InvalidRequest {
            violations: Violations(violations),
        })
    }
}
