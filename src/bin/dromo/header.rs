//! A schema from a file's header row, for `dromo import` without `--schema`/`--schema-id`: one
//! string field per column, keyed by the header in snake_case (as `cargo run --example import`
//! does).

use crate::exit::Failure;
use dromo_client::{types, Field, FieldType};
use std::collections::HashSet;
use std::path::Path;

/// The fields of `path`'s header row (CSV, or TSV by extension); bad input for a spreadsheet,
/// an empty file or one that is not CSV.
pub fn schema(path: &Path) -> Result<Vec<types::SchemaFieldsItem>, Failure> {
    let shown = path.display();
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if extension == "xls" || extension == "xlsx" {
        return Err(Failure::bad_input(format!(
            "{shown} is a spreadsheet: its header row cannot be read here; give --schema FILE.json \
             or --schema-id ID"
        )));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if extension == "tsv" { b'\t' } else { b',' })
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| Failure::bad_input(format!("cannot read {shown}: {e}")))?;
    let mut record = csv::StringRecord::new();
    let read = reader.read_record(&mut record).map_err(|e| {
        Failure::bad_input(format!(
            "cannot read the header row of {shown}: {e} (give --schema FILE.json)"
        ))
    })?;
    let headers: Vec<String> = record
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    if !read || headers.iter().all(String::is_empty) {
        return Err(Failure::bad_input(format!(
            "{shown} has no header row to build a schema from: give --schema FILE.json or \
             --schema-id ID"
        )));
    }
    Ok(fields(&headers)
        .into_iter()
        .map(|(key, label)| {
            types::SchemaFieldsItem::from(Field::new(key, label, FieldType::String))
        })
        .collect())
}

/// One `(key, label)` a column: key = snake_case(header), unique; an empty header is
/// `Column N` / `column_n`.
fn fields(headers: &[String]) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
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

/// `First Name` → `first_name`; `E-mail (work)` → `e_mail_work`; `firstName` → `first_name`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_snake_case_and_unique() {
        let headers: Vec<String> = ["First Name", "E-mail (work)", "firstName", "", "first name"]
            .map(str::to_owned)
            .to_vec();
        let keys: Vec<String> = fields(&headers).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "first_name",
                "e_mail_work",
                "first_name_2",
                "column_4",
                "first_name_3"
            ]
        );
    }
}
