//! Our corrections of the upstream spec: the one place where the crate departs from Dromo's
//! `openapi.json`.
//!
//! The vendored file stays byte-identical to upstream; these functions rewrite the *converted*
//! (3.0) document in memory before progenitor sees it. Each one cites the documented fact that
//! justifies it (`shared/notes/dromo-api.md`, Dromo's quickstart and legacy JSON Schemas). A
//! correction that no longer finds what it corrects fails with a [`CorrectionError`], so a spec
//! update that fixes (or moves) a defect is noticed instead of silently patched twice.

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::fmt;

/// A correction that no longer matches the spec it was written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionError {
    /// Which correction.
    pub correction: &'static str,
    /// Where it looked (JSON pointer into the converted document).
    pub pointer: String,
    /// What it expected to find.
    pub message: String,
}

impl fmt::Display for CorrectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "correction `{}` no longer applies at `{}`: {}; review src/codegen/corrections.rs",
            self.correction, self.pointer, self.message
        )
    }
}

impl std::error::Error for CorrectionError {}

/// The name under which the import status enum is hoisted, and the hand-written type that
/// replaces it in the generated code.
pub const IMPORT_STATUS_SCHEMA: &str = "ImportStatus";
/// Path of the hand-written open status type (see `src/status.rs`).
pub const IMPORT_STATUS_RUST_TYPE: &str = "crate::ImportStatus";

/// Applies every correction, in order.
pub fn apply(doc: &mut Value) -> Result<(), CorrectionError> {
    // Order matters: the status is hoisted before other enums are opened, and fields are
    // added before unknown-field tolerance is decided.
    import_status_is_open(doc)?;
    response_enums_are_open(doc)?;
    fields_carry_select_options(doc)?;
    settings_accept_documented_keys(doc)?;
    unknown_fields_are_tolerated(doc)?;
    pagination_is_integer(doc)?;
    Ok(())
}

/// Types of the generated code that are replaced by hand-written ones:
/// `(schema name, Rust path, impls the replacement provides)`.
pub fn replacements() -> Vec<(&'static str, &'static str, Vec<progenitor::TypeImpl>)> {
    vec![(
        IMPORT_STATUS_SCHEMA,
        IMPORT_STATUS_RUST_TYPE,
        vec![progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr],
    )]
}

fn missing(correction: &'static str, pointer: &str, message: &str) -> CorrectionError {
    CorrectionError {
        correction,
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

fn schemas_mut(doc: &mut Value) -> Option<&mut Map<String, Value>> {
    doc.pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
}

/// Fact: Dromo's quickstart documents the status sequence `AWAITING_UPLOAD → PENDING → RUNNING →
/// SUCCESSFUL | NEEDS_REVIEW | FAILED`, but the spec's enum lacks `PENDING`, and statuses may be
/// added. A closed generated enum fails the whole retrieve response on `PENDING`.
///
/// Correction: the status schema is hoisted to `components/schemas/ImportStatus` with `PENDING`
/// added, and the generated type is replaced by the hand-written open `crate::ImportStatus`,
/// which keeps any unknown value as `ImportStatus::Unknown(String)`.
fn import_status_is_open(doc: &mut Value) -> Result<(), CorrectionError> {
    const NAME: &str = "import_status_is_open";
    let pointer = "/components/schemas/HeadlessImport/properties/status";
    let status = doc
        .pointer_mut(pointer)
        .ok_or_else(|| missing(NAME, pointer, "the import status property is gone"))?;
    let mut hoisted = status.take();
    let values = hoisted
        .get_mut("enum")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| missing(NAME, pointer, "the status is no longer an enum"))?;
    if values.iter().any(|v| v == "PENDING") {
        return Err(missing(
            NAME,
            pointer,
            "upstream now lists PENDING: drop this part",
        ));
    }
    values.insert(1, json!("PENDING"));
    if let Some(map) = hoisted.as_object_mut() {
        map.remove("readOnly");
    }
    *status = json!({ "$ref": format!("#/components/schemas/{IMPORT_STATUS_SCHEMA}") });
    schemas_mut(doc)
        .ok_or_else(|| missing(NAME, "/components/schemas", "no component schemas"))?
        .insert(IMPORT_STATUS_SCHEMA.to_owned(), hoisted);
    Ok(())
}

/// Collects the names of component schemas reachable from any response body.
fn response_schema_names(doc: &Value) -> BTreeSet<String> {
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    if let Some(name) = r.strip_prefix("#/components/schemas/") {
                        out.push(name.to_owned());
                    }
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut pending = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values().filter_map(Value::as_object) {
            for op in item.values().filter_map(Value::as_object) {
                if let Some(responses) = op.get("responses") {
                    refs(responses, &mut pending);
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            if let Some(schema) = doc.pointer(&format!("/components/schemas/{name}")) {
                refs(schema, &mut pending);
            }
        }
    }
    seen
}

/// Applies `f` to every schema object inside `value` (the value itself included), skipping
/// example and default data.
fn for_each_schema(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    if let Value::Object(map) = value {
        f(map);
        for (k, v) in map.iter_mut() {
            match k.as_str() {
                "example" | "default" | "enum" => {}
                "properties" => {
                    if let Value::Object(props) = v {
                        props.values_mut().for_each(|p| for_each_schema(p, f));
                    }
                }
                "items" | "not" | "additionalProperties" | "schema" => for_each_schema(v, f),
                "allOf" | "oneOf" | "anyOf" => {
                    if let Value::Array(subs) = v {
                        subs.iter_mut().for_each(|s| for_each_schema(s, f));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Applies `f` to every schema a response can carry: inline response schemas and the component
/// schemas they reach.
fn for_each_response_schema(doc: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    let names = response_schema_names(doc);
    if let Some(schemas) = schemas_mut(doc) {
        for (name, schema) in schemas.iter_mut() {
            if names.contains(name) && name != IMPORT_STATUS_SCHEMA {
                for_each_schema(schema, f);
            }
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                let Some(Value::Object(responses)) = op.get_mut("responses") else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(Value::Object(content)) = response.get_mut("content") else {
                        continue;
                    };
                    for media in content.values_mut() {
                        if let Some(schema) = media.get_mut("schema") {
                            for_each_schema(schema, f);
                        }
                    }
                }
            }
        }
    }
}

/// Fact: the notes list "every string enum should tolerate unknown values": Dromo adds values
/// (the spec already missed `PENDING`), and a closed enum fails the whole response on one.
///
/// Correction: every string enum a response can carry becomes a plain string; its known values
/// move to the description. Request-only enums stay closed, so what we send is still checked.
fn response_enums_are_open(doc: &mut Value) -> Result<(), CorrectionError> {
    for_each_response_schema(doc, &mut |schema| {
        let is_string = schema.get("type").and_then(Value::as_str) == Some("string");
        if !is_string {
            return;
        }
        let Some(Value::Array(values)) = schema.remove("enum") else {
            return;
        };
        let known: Vec<String> = values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect();
        let note = format!("Known values: {} (others may appear).", known.join(", "));
        let description = match schema.get("description").and_then(Value::as_str) {
            Some(d) => format!("{d} {note}"),
            None => note,
        };
        schema.insert("description".into(), Value::String(description));
    });
    Ok(())
}

/// Is this schema an object with the shape of a Dromo field definition?
fn is_field_definition(schema: &Map<String, Value>) -> bool {
    let required: BTreeSet<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    ["key", "label", "type"]
        .iter()
        .all(|k| required.contains(k))
        && schema
            .get("properties")
            .is_some_and(|p| p.get("alternateMatches").is_some())
}

/// Fact: select and multi-select fields need `selectOptions` (`[{label, value,
/// alternateMatches?}]`, `DeveloperFieldSchema.json`: `SelectFieldSchema`), but the spec's field
/// items forbid extra properties and omit it.
///
/// Correction: every field definition (request and response) gains `selectOptions`.
fn fields_carry_select_options(doc: &mut Value) -> Result<(), CorrectionError> {
    let option = json!({
        "type": "array",
        "description": "Options of a select or multi-select field.",
        "items": {
            "type": "object",
            "properties": {
                "label": { "type": "string" },
                "value": { "type": "string" },
                "alternateMatches": { "type": "array", "items": { "type": "string" } }
            },
            "required": ["label", "value"]
        }
    });
    let mut count = 0;
    if let Some(schemas) = schemas_mut(doc) {
        for schema in schemas.values_mut() {
            for_each_schema(schema, &mut |s| {
                if is_field_definition(s) {
                    if let Some(Value::Object(props)) = s.get_mut("properties") {
                        props
                            .entry("selectOptions")
                            .or_insert_with(|| option.clone());
                        count += 1;
                    }
                }
            });
        }
    }
    if count == 0 {
        return Err(missing(
            "fields_carry_select_options",
            "/components/schemas",
            "no field definitions found",
        ));
    }
    Ok(())
}

/// Is this schema Dromo's settings object?
fn is_settings(schema: &Map<String, Value>) -> bool {
    schema.get("properties").is_some_and(|p| {
        p.get("importIdentifier").is_some() && p.get("invalidDataBehavior").is_some()
    })
}

/// Fact: `DeveloperSettingsSchema.json` (Dromo's precise settings schema) lists settings the
/// spec's `SchemaSettings` omits while forbidding extra properties, so they could not be sent.
///
/// Correction: every settings object gains the documented settings (the nested step objects as
/// free-form objects), and keeps unknown keys in an `extra` map so settings Dromo adds later
/// can be sent and read back.
fn settings_accept_documented_keys(doc: &mut Value) -> Result<(), CorrectionError> {
    let documented = json!({
        "uploadStep": { "type": "object", "additionalProperties": {} },
        "matchingStep": { "type": "object", "additionalProperties": {} },
        "matchValuesStep": { "type": "object", "additionalProperties": {} },
        "reviewStep": { "type": "object", "additionalProperties": {} },
        "backendOverride": { "type": "object", "additionalProperties": {} },
        "autoMapHeaders": { "type": "boolean" },
        "delimiter": { "type": "string" },
        "locale": { "type": "string" },
        "templateDownloadFilename": { "type": "string", "nullable": true },
        "browserExcelParsing": { "type": "boolean" },
        "version": { "type": "string" },
        "alternateDomain": { "type": "string", "nullable": true }
    });
    let Value::Object(documented) = documented else {
        return Ok(());
    };
    let mut count = 0;
    if let Some(schemas) = schemas_mut(doc) {
        for schema in schemas.values_mut() {
            for_each_schema(schema, &mut |s| {
                if is_settings(s) {
                    if let Some(Value::Object(props)) = s.get_mut("properties") {
                        for (k, v) in &documented {
                            props.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                    s.insert("additionalProperties".into(), json!({}));
                    count += 1;
                }
            });
        }
    }
    if count == 0 {
        return Err(missing(
            "settings_accept_documented_keys",
            "/components/schemas",
            "no settings object found",
        ));
    }
    Ok(())
}

/// Fact: responses carry fields the spec does not list (`original_file_download` on retrieve),
/// and `additionalProperties: false` makes typify deny unknown fields, so such a response would
/// fail to decode.
///
/// Correction: `additionalProperties: false` is dropped everywhere; object schemas that
/// responses carry keep unknown fields in an `extra` map, so nothing the server sends is lost.
fn unknown_fields_are_tolerated(doc: &mut Value) -> Result<(), CorrectionError> {
    for_each_response_schema(doc, &mut |schema| {
        if schema.contains_key("properties")
            && matches!(
                schema.get("additionalProperties"),
                None | Some(Value::Bool(false))
            )
        {
            schema.insert("additionalProperties".into(), json!({}));
        }
    });
    let mut allow_extra = |s: &mut Map<String, Value>| {
        if s.get("additionalProperties") == Some(&Value::Bool(false)) {
            s.remove("additionalProperties");
        }
    };
    if let Some(schemas) = schemas_mut(doc) {
        for schema in schemas.values_mut() {
            for_each_schema(schema, &mut allow_extra);
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                let content = op.get_mut("requestBody").and_then(|b| b.get_mut("content"));
                if let Some(Value::Object(content)) = content {
                    for media in content.values_mut() {
                        if let Some(schema) = media.get_mut("schema") {
                            for_each_schema(schema, &mut allow_extra);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Fact: the headless import list is Django REST Framework limit/offset pagination (`limit`
/// defaults to 100, at most 1000; the page is `{count, next, previous, results}`): `offset`,
/// `limit` and `count` are row counts, but the spec types them `number`, which generates `f64`.
///
/// Correction: the two parameters and the page's `count` become non-negative `integer`s.
fn pagination_is_integer(doc: &mut Value) -> Result<(), CorrectionError> {
    const NAME: &str = "pagination_is_integer";
    let pointer = "/paths/~1headless~1imports~1/get/parameters";
    let params = doc
        .pointer_mut(pointer)
        .and_then(Value::as_array_mut)
        .ok_or_else(|| missing(NAME, pointer, "the list operation has no parameters"))?;
    let mut count = 0;
    for param in params {
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if matches!(name, "offset" | "limit") {
            if let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut) {
                schema.insert("type".into(), json!("integer"));
                schema.insert("minimum".into(), json!(0));
                count += 1;
            }
        }
    }
    if count != 2 {
        return Err(missing(NAME, pointer, "expected `offset` and `limit`"));
    }
    let pointer = "/paths/~1headless~1imports~1/get/responses/200/content/application~1json/schema/properties/count";
    let page_count = doc
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| missing(NAME, pointer, "the list page has no `count`"))?;
    page_count.insert("type".into(), json!("integer"));
    page_count.insert("minimum".into(), json!(0));
    Ok(())
}
