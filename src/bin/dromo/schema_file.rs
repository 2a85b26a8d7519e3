//! Reading a schema from a JSON file: a bare array of fields, or an object with `fields` (what
//! Dromo's saved schemas look like).

use crate::exit::Failure;
use dromo_client::types;
use std::path::Path;

/// A schema file's fields.
#[derive(Debug)]
pub struct SchemaFile {
    /// The fields, checked against the spec's field type.
    pub fields: Vec<types::SchemaFieldsItem>,
}

/// Reads `path`: bad input if it cannot be read, is not JSON, or is not a schema.
pub fn read(path: &Path) -> Result<SchemaFile, Failure> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::bad_input(format!("cannot read the schema file {shown}: {e}")))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Failure::bad_input(format!("the schema file {shown} is not valid JSON: {e}"))
    })?;
    let fields = match value {
        serde_json::Value::Array(_) => value,
        serde_json::Value::Object(mut object) => {
            let fields = object.remove("fields").ok_or_else(|| {
                Failure::bad_input(format!(
                    "the schema file {shown} is not a schema: it has no `fields` array"
                ))
            })?;
            fields
        }
        _ => {
            return Err(Failure::bad_input(format!(
                "the schema file {shown} is not a schema: give an array of fields or an object with `fields`"
            )))
        }
    };
    let written = fields.clone();
    let fields: Vec<types::SchemaFieldsItem> =
        serde_path_to_error::deserialize(fields).map_err(|e| {
            Failure::bad_input(format!(
                "the schema file {shown} is not a schema: at `fields{}`: {}",
                path_suffix(&e.path().to_string()),
                e.inner()
            ))
        })?;
    if fields.is_empty() {
        return Err(Failure::bad_input(format!(
            "the schema file {shown} has no fields: give at least one"
        )));
    }
    // A key the fields do not know (`lable`, `required`) is refused, not dropped.
    if let Err(e) = dromo_client::Schema::inline_from_value(written) {
        return Err(Failure::bad_input(format!(
            "the schema file {shown} is not a schema: {e:#}"
        )));
    }
    Ok(SchemaFile { fields })
}

/// `[0].type` stays, `.` (the root) disappears.
fn path_suffix(path: &str) -> String {
    if path == "." {
        String::new()
    } else if path.starts_with('[') {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}
