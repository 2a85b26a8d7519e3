//! Our corrections of the upstream specs: the one place where the crate departs from Dromo's
//! `openapi.json` ([`apply`]) and `sessions-openapi.json` ([`apply_sessions`]).
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
/// The name under which integers in responses are hoisted, and the hand-written type that
/// replaces it in the generated code.
pub const WHOLE_NUMBER_SCHEMA: &str = "WholeNumber";
/// Path of the hand-written tolerant integer type (see `src/whole_number.rs`).
pub const WHOLE_NUMBER_RUST_TYPE: &str = "crate::WholeNumber";
/// The name under which the Sessions API's `hydrationId`s are hoisted, and the hand-written
/// secret type that replaces it in the generated code.
pub const HYDRATION_TOKEN_SCHEMA: &str = "HydrationToken";
/// Path of the hand-written secret token type (see `src/sessions.rs`).
pub const HYDRATION_TOKEN_RUST_TYPE: &str = "crate::HydrationToken";

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
    field_type_defaults_to_string(doc)?;
    step_hooks_accept_documented_types(doc)?;
    response_integers_are_whole_numbers(doc)?;
    schema_ids_are_described_as_schema_ids(doc)?;
    Ok(())
}

/// Applies every correction of the Sessions API (`sessions-openapi.json`), in order.
pub fn apply_sessions(doc: &mut Value) -> Result<(), CorrectionError> {
    hydration_ids_are_secret(doc)?;
    response_enums_are_open(doc)?;
    unknown_fields_are_tolerated(doc)?;
    response_integers_are_whole_numbers(doc)?;
    Ok(())
}

/// Types of the generated code that are replaced by hand-written ones (the same list for both
/// specs: a schema a spec does not have replaces nothing):
/// `(schema name, Rust path, impls the replacement provides)`.
pub fn replacements() -> Vec<(&'static str, &'static str, Vec<progenitor::TypeImpl>)> {
    vec![
        (
            IMPORT_STATUS_SCHEMA,
            IMPORT_STATUS_RUST_TYPE,
            vec![progenitor::TypeImpl::Display, progenitor::TypeImpl::FromStr],
        ),
        (
            WHOLE_NUMBER_SCHEMA,
            WHOLE_NUMBER_RUST_TYPE,
            vec![
                progenitor::TypeImpl::Display,
                progenitor::TypeImpl::FromStr,
                progenitor::TypeImpl::Default,
            ],
        ),
        (
            HYDRATION_TOKEN_SCHEMA,
            HYDRATION_TOKEN_RUST_TYPE,
            vec![progenitor::TypeImpl::Display],
        ),
    ]
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
/// items forbid extra properties and omit it. Dromo's field types page (`field-types.mdx`,
/// Select) documents one more option property, `exactMatchOnly` (boolean, default false).
///
/// Correction: every field definition (request and response) gains `selectOptions`, whose
/// options carry `exactMatchOnly`.
fn fields_carry_select_options(doc: &mut Value) -> Result<(), CorrectionError> {
    let option = json!({
        "type": "array",
        "description": "Options of a select or multi-select field.",
        "items": {
            "type": "object",
            "properties": {
                "label": { "type": "string" },
                "value": { "type": "string" },
                "alternateMatches": { "type": "array", "items": { "type": "string" } },
                "exactMatchOnly": { "type": "boolean" }
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
/// defaults to 100, at most 1000): `offset` and `limit` are row counts, but the spec types them
/// `number`, which generates `f64` parameters that would be sent as `10.0`.
///
/// Correction: the two parameters (what we send) become non-negative `integer`s. The page's
/// `count` (what we receive) keeps the spec's `number`: an answer is the server's to write, and
/// any number the spec allows there (`75`, `75.0`, `-1`, even `75.5`) must decode rather than
/// fail the whole page.
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
    Ok(())
}

/// Is this schema the spec's request field definition (`SchemaFields` items)?
fn is_request_field(schema: &Map<String, Value>) -> bool {
    schema.get("properties").is_some_and(|p| {
        p.get("alternateMatches").is_some() && p.get("key").is_some() && p.get("type").is_some()
    })
}

/// Fact: Dromo's docs say a field without a type is a string: "By default (if no field type is
/// specified), all fields in Dromo have the `string` type" (`reference/fields/field-types.mdx`,
/// String), `type` "default: string" (`reference/fields/fields.mdx`, field object reference),
/// and 22 of the docs' own field examples (`{ "key": "firstName", "label": "First name" }`) have
/// no type. The spec's `SchemaFields` lists `type` as required; the documented behaviour of the
/// service wins.
///
/// Correction: `type` is no longer required in field definitions and defaults to `"string"`, so a
/// field read without a type gets `string` and is sent with `"type": "string"` (which satisfies
/// both the docs and the spec).
fn field_type_defaults_to_string(doc: &mut Value) -> Result<(), CorrectionError> {
    let mut count = 0;
    if let Some(schemas) = schemas_mut(doc) {
        for schema in schemas.values_mut() {
            for_each_schema(schema, &mut |s| {
                if !is_request_field(s) {
                    return;
                }
                if let Some(Value::Array(required)) = s.get_mut("required") {
                    required.retain(|r| r != "type");
                }
                let ty = s.get_mut("properties").and_then(|p| p.get_mut("type"));
                if let Some(Value::Object(ty)) = ty {
                    ty.insert("default".into(), json!("string"));
                    count += 1;
                }
            });
        }
    }
    if count == 0 {
        return Err(missing(
            "field_type_defaults_to_string",
            "/components/schemas",
            "no field definition with a `type` found",
        ));
    }
    Ok(())
}

/// Fact: Dromo's hooks reference (`reference/hooks.mdx`, Step hooks) documents four step hook
/// types, `UPLOAD_STEP`, `REVIEW_STEP`, `REVIEW_STEP_POST_HOOKS` and `REVIEW_STEP_PRE_SUBMIT`; the
/// spec's `stepHooks[].type` enum lacks the last, so a documented hook cannot be sent.
///
/// Correction: every step hook type enum gains the documented values it lacks.
fn step_hooks_accept_documented_types(doc: &mut Value) -> Result<(), CorrectionError> {
    const NAME: &str = "step_hooks_accept_documented_types";
    const DOCUMENTED: [&str; 4] = [
        "UPLOAD_STEP",
        "REVIEW_STEP",
        "REVIEW_STEP_POST_HOOKS",
        "REVIEW_STEP_PRE_SUBMIT",
    ];
    let mut found = 0;
    let mut added = 0;
    if let Some(schemas) = schemas_mut(doc) {
        for schema in schemas.values_mut() {
            for_each_schema(schema, &mut |s| {
                let Some(Value::Object(props)) = s.get_mut("properties") else {
                    return;
                };
                let Some(values) = props
                    .get_mut("stepHooks")
                    .and_then(|h| h.pointer_mut("/items/properties/type/enum"))
                    .and_then(Value::as_array_mut)
                else {
                    return;
                };
                found += 1;
                for value in DOCUMENTED {
                    if !values.iter().any(|v| v == value) {
                        values.push(json!(value));
                        added += 1;
                    }
                }
            });
        }
    }
    if found == 0 {
        return Err(missing(
            NAME,
            "/components/schemas",
            "no closed `stepHooks[].type` enum found",
        ));
    }
    if added == 0 {
        return Err(missing(
            NAME,
            "/components/schemas",
            "upstream now lists every documented step hook type: drop this correction",
        ));
    }
    Ok(())
}

/// Fact: JSON Schema (and so OpenAPI) counts `1000.0` as an integer, and the server is not ours:
/// a page `count` of `75.0`, a `port`, `maxRecords` or schedule `minutes` written as a float, or a
/// count the server gets wrong (`-1`), are integers a response may carry. typify maps `integer`
/// to `i64`/`u64`, which refuse `1000.0`, so one such value fails the whole response.
///
/// Correction: every integer a response can carry becomes a reference to one `WholeNumber`
/// schema, replaced by the hand-written `crate::WholeNumber` (a signed 64-bit integer that
/// also decodes integral floats such as `1000.0`, and refuses fractions such as `1.5`). A signed
/// integer is the sound representation: it keeps every value the server can mean, a wrong
/// negative count included, without inventing one. Request integers stay `i64`: what we send is
/// ours to write as integers.
fn response_integers_are_whole_numbers(doc: &mut Value) -> Result<(), CorrectionError> {
    let reference = json!({ "$ref": format!("#/components/schemas/{WHOLE_NUMBER_SCHEMA}") });
    let mut count = 0;
    for_each_response_schema(doc, &mut |schema| {
        let Some(Value::Object(props)) = schema.get_mut("properties") else {
            return;
        };
        for prop in props.values_mut() {
            let Value::Object(map) = prop else { continue };
            if map.get("type").and_then(Value::as_str) != Some("integer") {
                continue;
            }
            let nullable = map.get("nullable") == Some(&Value::Bool(true));
            let mut replaced = Map::new();
            if let Some(description) = map.get("description") {
                replaced.insert("description".into(), description.clone());
            }
            if nullable {
                // A `$ref` beside `nullable` loses it: wrap it (see the codegen notes).
                replaced.insert("allOf".into(), json!([reference.clone()]));
                replaced.insert("nullable".into(), json!(true));
            } else if replaced.is_empty() {
                replaced = reference.as_object().cloned().unwrap_or_default();
            } else {
                replaced.insert("allOf".into(), json!([reference.clone()]));
            }
            *map = replaced;
            count += 1;
        }
    });
    if count == 0 {
        return Err(missing(
            "response_integers_are_whole_numbers",
            "/components/schemas",
            "no integer found in any response",
        ));
    }
    schemas_mut(doc)
        .ok_or_else(|| {
            missing(
                "response_integers_are_whole_numbers",
                "/components/schemas",
                "no component schemas",
            )
        })?
        .insert(
            WHOLE_NUMBER_SCHEMA.to_owned(),
            json!({ "type": "integer", "description": "A whole number; `1000.0` is read as 1000." }),
        );
    Ok(())
}

/// Fact: the operations on `/schemas/{id}/` take a saved import schema's id (their summaries:
/// "Returns one saved import schema by ID", "Updates an existing import schema", …), but the
/// spec describes that `id` as "Headless import ID", copied from `/headless/imports/{id}/`; the
/// generated docs and `dromo api get-import-schema --help` would ask for the wrong id.
///
/// Correction: the description of `id` on the three operations becomes "Import schema ID".
fn schema_ids_are_described_as_schema_ids(doc: &mut Value) -> Result<(), CorrectionError> {
    const NAME: &str = "schema_ids_are_described_as_schema_ids";
    let pointer = "/paths/~1schemas~1{id}~1";
    let item = doc
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .ok_or_else(|| missing(NAME, pointer, "no `/schemas/{id}/` path"))?;
    let mut corrected = 0;
    for operation in item.values_mut() {
        let params = operation
            .get_mut("parameters")
            .and_then(Value::as_array_mut);
        for param in params.into_iter().flatten() {
            let is_id = param.get("name").and_then(Value::as_str) == Some("id");
            let wrong =
                param.get("description").and_then(Value::as_str) == Some("Headless import ID");
            if is_id && wrong {
                param["description"] = json!("Import schema ID");
                corrected += 1;
            }
        }
    }
    if corrected != 3 {
        return Err(missing(
            NAME,
            pointer,
            "expected `id` described as \"Headless import ID\" on get, put and delete",
        ));
    }
    Ok(())
}

/// Fact: Dromo's guide (`guides/saving-progress.mdx`, "Security model — the hydrationId") calls
/// the `hydrationId` an access token: whoever holds it can open the user's saved import in the
/// widget until it expires or the session is deleted. The spec types it a plain string, so the
/// generated response types would show it in their `Debug`, and from there in logs and panics.
///
/// Correction: every `hydrationId` a response can carry becomes a reference to one
/// `HydrationToken` schema, replaced by the hand-written `crate::HydrationToken`, whose `Debug`
/// and `Display` never show the token (one explicit method hands it out, for the widget).
fn hydration_ids_are_secret(doc: &mut Value) -> Result<(), CorrectionError> {
    let reference = json!({ "$ref": format!("#/components/schemas/{HYDRATION_TOKEN_SCHEMA}") });
    let mut count = 0;
    for_each_response_schema(doc, &mut |schema| {
        let Some(Value::Object(props)) = schema.get_mut("properties") else {
            return;
        };
        let Some(Value::Object(token)) = props.get_mut("hydrationId") else {
            return;
        };
        if token.get("type").and_then(Value::as_str) != Some("string") {
            return;
        }
        let mut replaced = Map::new();
        if let Some(description) = token.get("description") {
            replaced.insert("description".into(), description.clone());
            replaced.insert("allOf".into(), json!([reference.clone()]));
        } else {
            replaced = reference.as_object().cloned().unwrap_or_default();
        }
        *token = replaced;
        count += 1;
    });
    if count == 0 {
        return Err(missing(
            "hydration_ids_are_secret",
            "/components/schemas",
            "no string `hydrationId` found in any response",
        ));
    }
    schemas_mut(doc)
        .ok_or_else(|| {
            missing(
                "hydration_ids_are_secret",
                "/components/schemas",
                "no component schemas",
            )
        })?
        .insert(
            HYDRATION_TOKEN_SCHEMA.to_owned(),
            json!({
                "type": "string",
                "description": "A short-lived access token for the widget; never shown by `Debug` or `Display`."
            }),
        );
    Ok(())
}
