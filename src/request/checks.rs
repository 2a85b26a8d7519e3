//! The checks made before a create is sent (every problem listed at once, each naming the field
//! and the fix) and the one serialization of the body that is measured and sent.

use super::{ImportRequest, Rows, Schema, Source};
use crate::error::{Error, Violation, Violations};
use crate::types;
use serde::Serialize;
use std::collections::HashMap;

/// The file extensions Dromo imports from an uploaded file (JSON goes through `initial_data`).
pub const SUPPORTED_FILE_EXTENSIONS: [&str; 4] = ["csv", "tsv", "xls", "xlsx"];

/// The field types of Dromo's field schema (`DeveloperFieldSchema.json`).
const FIELD_TYPES: [&str; 17] = [
    "string",
    "checkbox",
    "email",
    "select",
    "multi-select",
    "number",
    "date",
    "time",
    "datetime",
    "domain",
    "phone-number",
    "url",
    "ssn",
    "uuid",
    "us-zip-code",
    "us-state-territory",
    "country",
];

/// The validator names of Dromo's field schema (`DeveloperFieldSchema.json`).
const VALIDATORS: [&str; 16] = [
    "required",
    "unique",
    "unique_case_insensitive",
    "unique_with",
    "regex_match",
    "regex_exclude",
    "require_with",
    "require_without",
    "require_with_all",
    "require_without_all",
    "require_with_values",
    "require_without_values",
    "require_with_all_values",
    "require_without_all_values",
    "length",
    "alphabetical",
];

/// The number presets of Dromo's field types page (`field-types.mdx`, Number: "Here are all of
/// the presets that Dromo provides"), usable as `["number", "<preset>"]`.
pub const NUMBER_PRESETS: [&str; 18] = [
    "default",
    "percent",
    "plain",
    "usd",
    "usd_accounting",
    "eur",
    "gbp",
    "decimal_0",
    "integer",
    "decimal_1",
    "decimal_2",
    "decimal_3",
    "decimal_4",
    "percent_0",
    "percent_1",
    "percent_2",
    "percent_3",
    "percent_4",
];

impl ImportRequest {
    pub(crate) fn prepare(&self) -> Result<Prepared, Error> {
        let mut violations = Vec::new();
        let settings = match &self.settings {
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => {
                violations.push(Violation::new(
                    "settings",
                    format!("could not be built: {e}"),
                ));
                None
            }
            None => None,
        };
        let hooks = match &self.hooks {
            Some(Ok(h)) => Some(h),
            Some(Err(e)) => {
                violations.push(Violation::new("hooks", format!("could not be built: {e}")));
                None
            }
            None => None,
        };
        let body = Body {
            schema_id: match &self.schema {
                Schema::Saved(id) => Some(id.as_str()),
                Schema::Inline(_) => None,
            },
            fields: match &self.schema {
                Schema::Inline(fields) => Some(fields.as_slice()),
                Schema::Saved(_) => None,
            },
            settings,
            hooks,
            import_metadata: self.metadata.as_ref(),
            original_filename: match &self.source {
                Source::File { original_filename } => Some(original_filename.as_str()),
                Source::Rows(_) => None,
            },
            initial_data: match &self.source {
                Source::Rows(rows) => Some(rows),
                Source::File { .. } => None,
            },
        };
        body.prepare(violations)
    }
}

/// Checks a raw generated body before it is sent, as
/// [`Client::create_import`](crate::Client::create_import) does: every
/// problem is listed at once in an [`Error::InvalidRequest`], each naming the field and the fix.
///
/// ```
/// use dromo_client::{types, validate, Error};
///
/// let body = types::CreateHeadlessImportBody {
///     schema_id: Some("94187d21-9820-420f-b08c-a80cbbf52604".into()),
///     original_filename: Some("contacts.pdf".into()),
///     initial_data: Some(vec![serde_json::json!({"email": "ada@example.com"})]),
///     ..Default::default()
/// };
/// let Err(Error::InvalidRequest { violations, .. }) = validate(&body) else { panic!("expected violations") };
/// assert_eq!(violations.0.len(), 2); // both a file and rows; not a supported file type
/// ```
pub fn validate(body: &types::CreateHeadlessImportBody) -> Result<(), Error> {
    prepare_raw(body).map(|_| ())
}

pub(crate) fn prepare_raw(body: &types::CreateHeadlessImportBody) -> Result<Prepared, Error> {
    let rows = body.initial_data.as_ref().map(Rows::new).transpose()?;
    let body = Body {
        schema_id: body.schema_id.as_deref(),
        fields: body.fields.as_ref().map(|f| f.0.as_slice()),
        settings: body.settings.as_ref(),
        hooks: body.hooks.as_ref(),
        import_metadata: body.import_metadata.as_ref(),
        original_filename: body.original_filename.as_deref(),
        initial_data: rows.as_ref(),
    };
    body.prepare(Vec::new())
}

/// A checked body, serialized once: the bytes to send.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub body: Vec<u8>,
    pub schema_id: Option<String>,
}

/// The create body, borrowed from the request: serialized once, the rows embedded as the JSON
/// they were serialized to (a `serde_json::value::RawValue`), so the bytes measured are the bytes sent.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a [types::SchemaFieldsItem]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a types::SchemaSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hooks: Option<&'a types::SchemaHooks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    import_metadata: Option<&'a types::ImportMetaData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    original_filename: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "embed_rows")]
    initial_data: Option<&'a Rows>,
}

/// Writes the rows' JSON into the body as it is, through `RawValue`.
fn embed_rows<S: serde::Serializer>(
    rows: &Option<&Rows>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    rows.map(Rows::as_raw).serialize(serializer)
}

impl Body<'_> {
    fn prepare(&self, mut violations: Vec<Violation>) -> Result<Prepared, Error> {
        self.check(&mut violations);
        if !violations.is_empty() {
            return Err(Error::InvalidRequest {
                violations: Violations(violations),
            });
        }
        let body = serde_json::to_vec(self).map_err(|e| Error::InvalidRequest {
            violations: Violations(vec![Violation::new(
                "body",
                format!("cannot be serialized to JSON ({e}); check the settings and hooks"),
            )]),
        })?;
        Ok(Prepared {
            body,
            schema_id: self.schema_id.map(str::to_owned),
        })
    }

    fn check(&self, out: &mut Vec<Violation>) {
        let rows = self.initial_data;
        match (self.schema_id, self.fields) {
            (Some(_), Some(_)) => out.push(Violation::new(
                "schema_id",
                "and `fields` are both set: use a saved schema (`schema_id`) or an inline schema (`fields`), not both",
            )),
            (None, None) => out.push(Violation::new(
                "schema_id",
                "and `fields` are both missing: give the id of a saved schema (`schema_id`) or the fields of an inline schema (`fields`)",
            )),
            _ => {}
        }
        if let Some(id) = self.schema_id {
            if id.trim().is_empty() {
                out.push(Violation::new(
                    "schema_id",
                    "is empty: give the id of a saved schema from the Dromo dashboard",
                ));
            }
        }
        if let Some(fields) = self.fields {
            check_fields(fields, out);
        }
        match (self.original_filename, rows) {
            (Some(_), Some(_)) => out.push(Violation::new(
                "original_filename",
                "and `initial_data` are both set: upload a file (`original_filename`) or send the rows (`initial_data`), not both",
            )),
            (None, None) => out.push(Violation::new(
                "original_filename",
                "and `initial_data` are both missing: name the file you will upload (`original_filename`) or send the rows (`initial_data`)",
            )),
            _ => {}
        }
        if let Some(name) = self.original_filename {
            check_filename(name, out);
        }
        if let Some(rows) = rows {
            rows.check(self.fields.map(<[_]>::len), out);
        }
        if let Some(user) = self
            .import_metadata
            .and_then(|m| m.0.as_ref())
            .and_then(|m| m.user.as_ref())
        {
            if user.id.trim().is_empty() {
                out.push(Violation::new(
                    "import_metadata.user.id",
                    "is empty: give the id of the user the import is for",
                ));
            }
        }
    }
}

fn check_filename(name: &str, out: &mut Vec<Violation>) {
    if name.trim().is_empty() {
        out.push(Violation::new(
            "original_filename",
            "is empty: give the name of the file you will upload, e.g. `contacts.csv`",
        ));
        return;
    }
    // The extension is what follows the last `.` of the file's name, as Dromo reads it: a
    // file named `.csv` is a CSV file too (`Path::extension` sees none there).
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let extension = base
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    match extension {
        Some(ext) if SUPPORTED_FILE_EXTENSIONS.contains(&ext.as_str()) => {}
        Some(ext) if ext == "json" => out.push(Violation::new(
            "original_filename",
            format!("`{name}` is a JSON file: Dromo imports CSV, TSV, XLS and XLSX files; send JSON rows as `initial_data` (Source::rows) instead"),
        )),
        _ if base.trim() != base
            && check_filename_ok(base.trim()) => out.push(Violation::new(
            "original_filename",
            format!("`{name}` has white space around its name: remove it (Dromo reads the extension after the last `.`)"),
        )),
        _ => out.push(Violation::new(
            "original_filename",
            format!("`{name}` does not end in .csv, .tsv, .xls or .xlsx: Dromo imports only these files; rename it if it is one, or convert it"),
        )),
    }
}

/// Whether `base` ends in an extension Dromo imports.
fn check_filename_ok(base: &str) -> bool {
    base.rsplit_once('.').is_some_and(|(_, ext)| {
        SUPPORTED_FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    })
}

fn check_fields(fields: &[types::SchemaFieldsItem], out: &mut Vec<Violation>) {
    if fields.is_empty() {
        out.push(Violation::new(
            "fields",
            "is empty: give at least one field, or use a saved schema (`schema_id`)",
        ));
        return;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, field) in fields.iter().enumerate() {
        if field.key.trim().is_empty() {
            out.push(Violation::new(
                format!("fields[{i}].key"),
                "is empty: give every field a key, the name its values are stored under",
            ));
        } else if let Some(first) = seen.get(field.key.as_str()) {
            out.push(Violation::new(
                format!("fields[{i}].key"),
                format!(
                    "`{}` is also the key of fields[{first}]: field keys must be unique",
                    field.key
                ),
            ));
        } else {
            seen.insert(field.key.as_str(), i);
        }
        if field.label.trim().is_empty() {
            out.push(Violation::new(
                format!("fields[{i}].label"),
                "is empty: give every field a label, the column name people see",
            ));
        }
        let name = check_field_type(i, &field.type_, out);
        if matches!(name, Some("select" | "multi-select")) && field.select_options.is_empty() {
            // Missing and `[]` read the same; Dromo's field-types page shows `selectOptions: []`
            // as a placeholder next to "You must provide an array of valid `selectOptions`".
            let (kind, builder) = match name {
                Some("multi-select") => ("multi-select", "Field::multi_select"),
                _ => ("select", "Field::select"),
            };
            out.push(Violation::new(
                format!("fields[{i}].selectOptions"),
                format!("has no options (it is missing or `[]`): a {kind} field needs at least one, as Dromo's field-types page says (\"You must provide an array of valid `selectOptions`\"; its `selectOptions: []` is a placeholder); e.g. {builder}(key, label, [(\"Yes\", \"yes\")])"),
            ));
        }
        for (j, validator) in field.validators.iter().enumerate() {
            match validator.get("validate").and_then(|v| v.as_str()) {
                Some(v) if VALIDATORS.contains(&v) => {}
                Some(v) => out.push(Violation::new(
                    format!("fields[{i}].validators[{j}].validate"),
                    format!(
                        "`{v}` is not a Dromo validator: use one of {}",
                        VALIDATORS.join(", ")
                    ),
                )),
                None => out.push(Violation::new(
                    format!("fields[{i}].validators[{j}]"),
                    format!(
                        "has no `validate` name: give one of {}",
                        VALIDATORS.join(", ")
                    ),
                )),
            }
        }
    }
}

/// Checks a field's `type` (a name, or `[name, options]`); returns the name if it is known.
fn check_field_type<'a>(
    i: usize,
    field_type: &'a types::SchemaFieldsItemType,
    out: &mut Vec<Violation>,
) -> Option<&'a str> {
    let field = format!("fields[{i}].type");
    let name = match field_type {
        types::SchemaFieldsItemType::String(name) => name.as_str(),
        types::SchemaFieldsItemType::Array(parts) => match parts.as_slice() {
            [serde_json::Value::String(name), serde_json::Value::Object(_)] => name.as_str(),
            [serde_json::Value::String(name), serde_json::Value::String(preset)]
                if name == "number" =>
            {
                if !NUMBER_PRESETS.contains(&preset.as_str()) {
                    out.push(Violation::new(
                        field,
                        format!(
                            "`{preset}` is not a Dromo number preset: use one of {}, or options `[\"number\", {{\"round\": 2}}]`",
                            NUMBER_PRESETS.join(", ")
                        ),
                    ));
                    return None;
                }
                name.as_str()
            }
            _ => {
                out.push(Violation::new(field, "must be a type name, a pair `[name, {options}]` or a number preset `[\"number\", \"usd\"]`, e.g. `[\"date\", {\"outputFormat\": \"YYYY-MM-DD\"}]`"));
                return None;
            }
        },
    };
    if FIELD_TYPES.contains(&name) {
        Some(name)
    } else {
        out.push(Violation::new(
            field,
            format!(
                "`{name}` is not a Dromo field type: use one of {}",
                FIELD_TYPES.join(", ")
            ),
        ));
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::*;
    use serde_json::json;

    fn violations(result: Result<Prepared, Error>) -> Vec<Violation> {
        match result {
            Err(Error::InvalidRequest { violations, .. }) => violations.0,
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    }

    fn fields_of(names: &[&str]) -> types::SchemaFields {
        types::SchemaFields(
            names
                .iter()
                .map(|n| Field::new(*n, n.to_uppercase(), FieldType::String).into())
                .collect(),
        )
    }

    #[test]
    fn typed_body_is_the_documented_json() {
        let request = ImportRequest::new(Schema::saved("s-1"), Source::file("a.csv"))
            .user(User::new("u").name("Ada"));
        let prepared = request.prepare().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&prepared.body).unwrap();
        assert_eq!(
            value,
            json!({"schema_id": "s-1", "original_filename": "a.csv", "import_metadata": {"user": {"id": "u", "name": "Ada"}}})
        );
        assert_eq!(prepared.schema_id.as_deref(), Some("s-1"));

        let rows = Source::rows([json!({"email": "a@b"})]).unwrap();
        let request = ImportRequest::new(
            Schema::inline([Field::new("email", "Email", FieldType::Email)]),
            rows,
        );
        let body = request.prepare().unwrap().body;
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"fields":[{"key":"email","label":"Email","type":"email"}],"initial_data":[{"email":"a@b"}]}"#
        );
    }

    #[test]
    fn raw_body_reports_every_violation_at_once() {
        let body = types::CreateHeadlessImportBody {
            schema_id: Some(" ".into()),
            fields: Some(types::SchemaFields(vec![
                Field::new("a", "A", FieldType::String).into(),
                Field::new("a", "", FieldType::Select).into(),
                types::SchemaFieldsItem {
                    type_: types::SchemaFieldsItemType::String("text".into()),
                    ..Field::new("", "C", FieldType::String).into()
                },
                Field::new("d", "D", FieldType::String)
                    .validator(json!({"validate": "nope"}))
                    .into(),
            ])),
            original_filename: Some("data.json".into()),
            initial_data: Some(vec![
                json!({"a": "1"}),
                json!(["1", 2, "3", "4", "5"]),
                json!(7),
            ]),
            import_metadata: Some(types::ImportMetaData(Some(types::ImportMetaDataInner {
                user: Some(User::new("").into()),
            }))),
            ..Default::default()
        };
        let found = violations(prepare_raw(&body));
        let text = Violations(found.clone()).to_string();
        for needle in [
            "`schema_id` and `fields` are both set",
            "`schema_id` is empty",
            "`fields[1].key` `a` is also the key of fields[0]",
            "`fields[1].label` is empty",
            "`fields[1].selectOptions` has no options",
            "`fields[2].key` is empty",
            "`fields[2].type` `text` is not a Dromo field type",
            "`fields[3].validators[0].validate` `nope` is not a Dromo validator",
            "`original_filename` and `initial_data` are both set",
            "`data.json` is a JSON file",
            "mixes object rows (first: row 0) and array rows (first: row 1)",
            "row 2 is a number",
            "row 1 value 1 is a number",
            "`initial_data[1]` has 5 values but the inline schema has 4 fields",
            "`import_metadata.user.id` is empty",
        ] {
            assert!(text.contains(needle), "missing `{needle}` in {text}");
        }
        assert_eq!(found.len(), 15, "{text}");
    }

    #[test]
    fn neither_choice_is_reported() {
        let found = violations(prepare_raw(&types::CreateHeadlessImportBody::default()));
        let text = Violations(found).to_string();
        assert!(
            text.contains("`schema_id` and `fields` are both missing"),
            "{text}"
        );
        assert!(
            text.contains("`original_filename` and `initial_data` are both missing"),
            "{text}"
        );
        let found = violations(prepare_raw(&types::CreateHeadlessImportBody {
            fields: Some(fields_of(&[])),
            original_filename: Some("x.XLSX".into()),
            ..Default::default()
        }));
        assert_eq!(Violations(found).to_string(), "1 problem: `fields` is empty: give at least one field, or use a saved schema (`schema_id`)");
    }

    #[test]
    fn the_size_limit_is_measured_on_the_serialized_bytes() {
        // One array row with one string: `[["…"]]` is the string's escaped length + 6 bytes.
        let at_limit = "x".repeat(MAX_INITIAL_DATA_BYTES - 6);
        let rows = Rows::new([[at_limit.as_str()]]).unwrap();
        assert_eq!(rows.serialized_len(), MAX_INITIAL_DATA_BYTES);
        let request = ImportRequest::new(
            Schema::inline([Field::new("a", "A", FieldType::String)]),
            Source::Rows(rows),
        );
        let body = request.prepare().unwrap().body;
        assert!(body
            .windows(MAX_INITIAL_DATA_BYTES)
            .any(|w| w.starts_with(b"[[\"x") && w.ends_with(b"x\"]]")));

        let over = Rows::new([[format!("{at_limit}x")]]).unwrap();
        let request = ImportRequest::new(
            Schema::inline([Field::new("a", "A", FieldType::String)]),
            Source::Rows(over),
        );
        let text = Violations(violations(request.prepare())).to_string();
        assert!(
            text.contains(&format!(
                "is {} bytes serialized",
                MAX_INITIAL_DATA_BYTES + 1
            )),
            "{text}"
        );

        // Quotes double when escaped: 8 MiB of them serialize to over 15 MiB.
        let quotes = "\"".repeat(8 * 1024 * 1024);
        let body = types::CreateHeadlessImportBody {
            fields: Some(fields_of(&["a"])),
            initial_data: Some(vec![json!({ "a": quotes })]),
            ..Default::default()
        };
        let text = Violations(violations(prepare_raw(&body))).to_string();
        assert!(
            text.contains("over Dromo's limit of 15728640 bytes"),
            "{text}"
        );
    }

    #[test]
    fn rows_accept_any_serialize() {
        #[derive(Serialize)]
        struct Row<'a> {
            email: &'a str,
            age: u32,
        }
        let rows = Rows::new(&[Row {
            email: "a@b",
            age: 3,
        }])
        .unwrap();
        assert_eq!(rows.as_json(), br#"[{"email":"a@b","age":3}]"#);
        let map = std::collections::BTreeMap::from([(1, "x")]);
        assert_eq!(Rows::new([map]).unwrap().as_json(), br#"[{"1":"x"}]"#);
        let err = Rows::new([std::collections::BTreeMap::from([((1, 2), "x")])]).unwrap_err();
        assert!(
            err.to_string()
                .contains("`initial_data[0]` cannot be serialized to JSON"),
            "{err}"
        );
        assert!(Rows::new(Vec::<[&str; 1]>::new()).unwrap().is_empty());
    }

    #[test]
    fn supported_files_pass_and_builders_report_errors() {
        for name in ["a.csv", "b.TSV", "c.xls", "d.Xlsx"] {
            ImportRequest::new(Schema::saved("s"), Source::file(name))
                .validate()
                .unwrap();
        }
        struct Broken;
        impl TryFrom<Broken> for types::SchemaHooks {
            type Error = &'static str;
            fn try_from(_: Broken) -> Result<Self, Self::Error> {
                Err("no callback")
            }
        }
        let err = ImportRequest::new(Schema::saved("s"), Source::file("a.csv"))
            .hooks(Broken)
            .validate()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("`hooks` could not be built: no callback"),
            "{err}"
        );
    }
}
