//! What changed between two OpenAPI documents, in terms a maintainer of the client cares about.
//!
//! Works on the raw JSON (`serde_json::Value`) of both documents, before any conversion, so the
//! report speaks about the spec as Dromo publishes it. `$ref`s are compared by name, not
//! resolved: a change inside a referenced component schema is reported once, under the schema.
//!
//! A change is flagged **BREAKING** when code written against the old client may stop compiling
//! or stop decoding responses: a removed operation, parameter, property, schema or enum value, a
//! property or parameter that became required (or a new required one), a changed type.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Which part of the document a change belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Document,
    Operations,
    Schemas,
}

impl Section {
    fn title(self) -> &'static str {
        match self {
            Self::Document => "Document",
            Self::Operations => "Operations",
            Self::Schemas => "Component schemas",
        }
    }
}

/// Added, removed or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Removed,
    Changed,
}

impl Kind {
    fn symbol(self) -> char {
        match self {
            Self::Added => '+',
            Self::Removed => '-',
            Self::Changed => '~',
        }
    }
}

/// One difference between the two documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub section: Section,
    pub kind: Kind,
    pub breaking: bool,
    /// Where: `GET /schemas/`, `HeadlessImport.status`, `POST /x/ request body`...
    pub location: String,
    /// What, in a few words.
    pub message: String,
}

/// Every difference found, in document order within each section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub changes: Vec<Change>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }

    /// The report as text, one change a line, grouped by section.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if self.is_empty() {
            out.push_str("No API changes (the documents may still differ in formatting).\n");
            return out;
        }
        let _ = writeln!(
            out,
            "Spec changes, vendored -> new: {} change(s), {} BREAKING",
            self.changes.len(),
            self.breaking()
        );
        for section in [Section::Document, Section::Operations, Section::Schemas] {
            let changes: Vec<&Change> = self
                .changes
                .iter()
                .filter(|c| c.section == section)
                .collect();
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{}:", section.title());
            for c in changes {
                let flag = if c.breaking { "BREAKING " } else { "         " };
                let _ = writeln!(
                    out,
                    "  {flag}{} {}: {}",
                    c.kind.symbol(),
                    c.location,
                    c.message
                );
            }
        }
        out
    }
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Keywords whose change alters the generated Rust type.
const TYPE_KEYWORDS: &[&str] = &["format", "nullable"];
/// Keywords that only document.
const DOC_KEYWORDS: &[&str] = &[
    "description",
    "summary",
    "title",
    "example",
    "examples",
    "externalDocs",
    "deprecated",
];
/// Keywords handled by dedicated rules in [`diff_schema`].
const HANDLED_KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "items",
    "oneOf",
    "anyOf",
    "allOf",
];

struct Differ {
    changes: Vec<Change>,
}

impl Differ {
    fn push(
        &mut self,
        section: Section,
        kind: Kind,
        breaking: bool,
        location: &str,
        message: impl Into<String>,
    ) {
        self.changes.push(Change {
            section,
            kind,
            breaking,
            location: location.to_owned(),
            message: message.into(),
        });
    }
}

/// Compares two OpenAPI documents.
pub fn diff(old: &Value, new: &Value) -> Report {
    let mut d = Differ {
        changes: Vec::new(),
    };
    diff_document(&mut d, old, new);
    diff_operations(&mut d, old, new);
    diff_components(&mut d, old, new);
    Report { changes: d.changes }
}

fn short(value: Option<&Value>) -> String {
    match value {
        None => "absent".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 80 {
                let cut: String = s.chars().take(77).collect();
                format!("{cut}...")
            } else {
                s
            }
        }
    }
}

fn diff_document(d: &mut Differ, old: &Value, new: &Value) {
    for (pointer, what) in [
        ("/openapi", "OpenAPI version"),
        (
            "/info/version",
            "API version (sent as the `api-version` header)",
        ),
        ("/servers", "servers"),
        ("/security", "security requirements"),
        ("/components/securitySchemes", "security schemes"),
    ] {
        let (o, n) = (old.pointer(pointer), new.pointer(pointer));
        if o != n {
            let kind = match (o, n) {
                (None, Some(_)) => Kind::Added,
                (Some(_), None) => Kind::Removed,
                _ => Kind::Changed,
            };
            d.push(
                Section::Document,
                kind,
                false,
                what,
                format!("{} -> {}", short(o), short(n)),
            );
        }
    }
}

/// `(METHOD path)` → (operation object, path-level parameters), in document order.
fn operations(doc: &Value) -> Vec<(String, &Map<String, Value>, Vec<&Value>)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let shared: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        for method in METHODS {
            if let Some(Value::Object(op)) = item.get(*method) {
                out.push((
                    format!("{} {path}", method.to_uppercase()),
                    op,
                    shared.clone(),
                ));
            }
        }
    }
    out
}

fn op_label(key: &str, op: &Map<String, Value>) -> String {
    match op.get("operationId").and_then(Value::as_str) {
        Some(id) => format!("{key} ({id})"),
        None => key.to_owned(),
    }
}

fn diff_operations(d: &mut Differ, old: &Value, new: &Value) {
    let old_ops = operations(old);
    let new_ops = operations(new);
    let new_keys: BTreeSet<&str> = new_ops.iter().map(|(k, _, _)| k.as_str()).collect();
    let old_map: BTreeMap<&str, _> = old_ops
        .iter()
        .map(|(k, op, p)| (k.as_str(), (*op, p)))
        .collect();
    for (key, op, _) in &old_ops {
        if !new_keys.contains(key.as_str()) {
            d.push(
                Section::Operations,
                Kind::Removed,
                true,
                &op_label(key, op),
                "operation removed",
            );
        }
    }
    for (key, new_op, new_shared) in &new_ops {
        let Some((old_op, old_shared)) = old_map.get(key.as_str()) else {
            d.push(
                Section::Operations,
                Kind::Added,
                false,
                &op_label(key, new_op),
                "operation added",
            );
            continue;
        };
        diff_operation(d, key, old_op, old_shared, new_op, new_shared);
    }
}

/// Parameters keyed by `(in, name)`, path-level ones first, overridden by the operation's own.
fn parameters<'a>(
    op: &'a Map<String, Value>,
    shared: &[&'a Value],
) -> BTreeMap<(String, String), &'a Value> {
    let own = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    let mut out = BTreeMap::new();
    for p in shared.iter().copied().chain(own) {
        let key = match (
            p.get("in").and_then(Value::as_str),
            p.get("name").and_then(Value::as_str),
        ) {
            (Some(location), Some(name)) => (location.to_owned(), name.to_owned()),
            // A `$ref`ed parameter: keyed by its reference.
            _ => ("$ref".to_owned(), short(p.get("$ref"))),
        };
        out.insert(key, p);
    }
    out
}

fn is_required(v: &Value) -> bool {
    v.get("required").and_then(Value::as_bool).unwrap_or(false)
}

fn diff_operation(
    d: &mut Differ,
    key: &str,
    old: &Map<String, Value>,
    old_shared: &[&Value],
    new: &Map<String, Value>,
    new_shared: &[&Value],
) {
    let s = Section::Operations;
    let (old_id, new_id) = (old.get("operationId"), new.get("operationId"));
    if old_id != new_id {
        d.push(
            s,
            Kind::Changed,
            true,
            key,
            format!(
                "operationId {} -> {} (the generated method is renamed)",
                short(old_id),
                short(new_id)
            ),
        );
    }
    let label = op_label(key, new);

    // Parameters.
    let old_params = parameters(old, old_shared);
    let new_params = parameters(new, new_shared);
    for ((location, name), p) in &old_params {
        if !new_params.contains_key(&(location.clone(), name.clone())) {
            let _ = p;
            d.push(
                s,
                Kind::Removed,
                true,
                &label,
                format!("{location} parameter `{name}` removed"),
            );
        }
    }
    for ((location, name), new_p) in &new_params {
        let param = format!("{location} parameter `{name}`");
        match old_params.get(&(location.clone(), name.clone())) {
            None => {
                let required = is_required(new_p);
                let what = if required {
                    "added (required)"
                } else {
                    "added"
                };
                d.push(s, Kind::Added, required, &label, format!("{param} {what}"));
            }
            Some(old_p) => {
                match (is_required(old_p), is_required(new_p)) {
                    (false, true) => d.push(
                        s,
                        Kind::Changed,
                        true,
                        &label,
                        format!("{param} became required"),
                    ),
                    (true, false) => d.push(
                        s,
                        Kind::Changed,
                        false,
                        &label,
                        format!("{param} became optional"),
                    ),
                    _ => {}
                }
                diff_schema(
                    d,
                    s,
                    &format!("{label} {param}"),
                    old_p.get("schema").unwrap_or(&Value::Null),
                    new_p.get("schema").unwrap_or(&Value::Null),
                );
            }
        }
    }

    // Request body.
    let (old_body, new_body) = (old.get("requestBody"), new.get("requestBody"));
    match (old_body, new_body) {
        (None, None) => {}
        (Some(_), None) => d.push(s, Kind::Removed, true, &label, "request body removed"),
        (None, Some(b)) => {
            d.push(s, Kind::Added, is_required(b), &label, "request body added");
        }
        (Some(o), Some(n)) => {
            if !is_required(o) && is_required(n) {
                d.push(
                    s,
                    Kind::Changed,
                    true,
                    &label,
                    "request body became required",
                );
            }
            diff_content(
                d,
                &format!("{label} request body"),
                o.get("content"),
                n.get("content"),
            );
        }
    }

    // Responses.
    let empty = Map::new();
    let old_responses = old
        .get("responses")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let new_responses = new
        .get("responses")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for status in old_responses.keys() {
        if !new_responses.contains_key(status) {
            d.push(
                s,
                Kind::Removed,
                false,
                &label,
                format!("response {status} removed"),
            );
        }
    }
    for (status, n) in new_responses {
        match old_responses.get(status) {
            None => d.push(
                s,
                Kind::Added,
                false,
                &label,
                format!("response {status} added"),
            ),
            Some(o) => diff_content(
                d,
                &format!("{label} response {status}"),
                o.get("content"),
                n.get("content"),
            ),
        }
    }
}

/// Compares the media types of a request body or response and their schemas.
fn diff_content(d: &mut Differ, location: &str, old: Option<&Value>, new: Option<&Value>) {
    let s = Section::Operations;
    let empty = Map::new();
    let old = old.and_then(Value::as_object).unwrap_or(&empty);
    let new = new.and_then(Value::as_object).unwrap_or(&empty);
    for media in old.keys() {
        if !new.contains_key(media) {
            d.push(
                s,
                Kind::Removed,
                true,
                location,
                format!("content type `{media}` removed"),
            );
        }
    }
    for (media, n) in new {
        match old.get(media) {
            None => d.push(
                s,
                Kind::Added,
                false,
                location,
                format!("content type `{media}` added"),
            ),
            Some(o) => {
                let loc = if old.len() == 1 && new.len() == 1 {
                    location.to_owned()
                } else {
                    format!("{location} ({media})")
                };
                diff_schema(
                    d,
                    s,
                    &loc,
                    o.get("schema").unwrap_or(&Value::Null),
                    n.get("schema").unwrap_or(&Value::Null),
                );
            }
        }
    }
}

fn diff_components(d: &mut Differ, old: &Value, new: &Value) {
    let s = Section::Schemas;
    let empty = Map::new();
    let old_schemas = old
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let new_schemas = new
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    for name in old_schemas.keys() {
        if !new_schemas.contains_key(name) {
            d.push(s, Kind::Removed, true, name, "schema removed");
        }
    }
    for (name, n) in new_schemas {
        match old_schemas.get(name) {
            None => d.push(s, Kind::Added, false, name, "schema added"),
            Some(o) => diff_schema(d, s, name, o, n),
        }
    }
    // Other reusable components, compared whole.
    for kind in ["parameters", "requestBodies", "responses", "headers"] {
        let pointer = format!("/components/{kind}");
        let (o, n) = (old.pointer(&pointer), new.pointer(&pointer));
        if o != n {
            d.push(
                s,
                Kind::Changed,
                false,
                &format!("components/{kind}"),
                "changed",
            );
        }
    }
}

/// A short description of a schema's type: `string`, `string | null`, `$ref HeadlessImport`,
/// `oneOf(string, null)`, or `any`.
fn type_of(schema: &Value) -> String {
    let Some(map) = schema.as_object() else {
        return match schema {
            Value::Bool(true) | Value::Null => "any".to_owned(),
            other => other.to_string(),
        };
    };
    if let Some(Value::String(r)) = map.get("$ref") {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("$ref {name}");
    }
    match map.get("type") {
        Some(Value::String(t)) => return t.clone(),
        Some(Value::Array(ts)) => {
            let mut names: Vec<String> = ts
                .iter()
                .map(|t| t.as_str().map_or_else(|| t.to_string(), str::to_owned))
                .collect();
            names.sort();
            return names.join(" | ");
        }
        _ => {}
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(subs)) = map.get(combinator) {
            let inner: Vec<String> = subs.iter().map(type_of).collect();
            return format!("{combinator}({})", inner.join(", "));
        }
    }
    "any".to_owned()
}

fn string_set(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Compares two schemas, recursing into properties, items and alternatives.
fn diff_schema(d: &mut Differ, s: Section, location: &str, old: &Value, new: &Value) {
    if old == new {
        return;
    }
    let (old_type, new_type) = (type_of(old), type_of(new));
    if old_type != new_type {
        d.push(
            s,
            Kind::Changed,
            true,
            location,
            format!("type changed: {old_type} -> {new_type}"),
        );
    }
    let empty = Map::new();
    let o = old.as_object().unwrap_or(&empty);
    let n = new.as_object().unwrap_or(&empty);

    // Enum values (and `const`, a one-value enum).
    let mut old_values = string_set(o.get("enum"));
    old_values.extend(
        o.get("const")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
    );
    let mut new_values = string_set(n.get("enum"));
    new_values.extend(
        n.get("const")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
    );
    for v in &old_values {
        if !new_values.contains(v) {
            d.push(
                s,
                Kind::Removed,
                true,
                location,
                format!("enum value `{v}` removed"),
            );
        }
    }
    for v in &new_values {
        if !old_values.contains(v) {
            d.push(
                s,
                Kind::Added,
                false,
                location,
                format!("enum value `{v}` added"),
            );
        }
    }

    // Properties and required.
    let old_props = o
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let new_props = n
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let old_required = string_set(o.get("required"));
    let new_required = string_set(n.get("required"));
    for name in old_props.keys() {
        if !new_props.contains_key(name) {
            d.push(
                s,
                Kind::Removed,
                true,
                location,
                format!("property `{name}` removed"),
            );
        }
    }
    for (name, new_prop) in new_props {
        let required = new_required.contains(name);
        match old_props.get(name) {
            None => {
                let what = if required {
                    "added (required)"
                } else {
                    "added"
                };
                d.push(
                    s,
                    Kind::Added,
                    required,
                    location,
                    format!("property `{name}` {what}"),
                );
            }
            Some(old_prop) => {
                match (old_required.contains(name), required) {
                    (false, true) => d.push(
                        s,
                        Kind::Changed,
                        true,
                        location,
                        format!("property `{name}` became required"),
                    ),
                    (true, false) => d.push(
                        s,
                        Kind::Changed,
                        false,
                        location,
                        format!("property `{name}` became optional"),
                    ),
                    _ => {}
                }
                diff_schema(d, s, &format!("{location}.{name}"), old_prop, new_prop);
            }
        }
    }

    // Array items.
    match (o.get("items"), n.get("items")) {
        (Some(oi), Some(ni)) => diff_schema(d, s, &format!("{location}[]"), oi, ni),
        (None, None) => {}
        // A type change already reported above covers items appearing with `type: array`.
        (oi, ni) if old_type == new_type => {
            d.push(
                s,
                Kind::Changed,
                true,
                location,
                format!("items {} -> {}", short(oi), short(ni)),
            );
        }
        _ => {}
    }

    // Alternatives: compared position by position when their number is unchanged (a different
    // number already shows as a type change).
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let (Some(Value::Array(os)), Some(Value::Array(ns))) =
            (o.get(combinator), n.get(combinator))
        {
            if os.len() == ns.len() {
                for (i, (oa, na)) in os.iter().zip(ns).enumerate() {
                    diff_schema(d, s, &format!("{location}.{combinator}[{i}]"), oa, na);
                }
            }
        }
    }

    // Everything else: keywords that change the Rust type, constraints, documentation.
    let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    let mut docs = Vec::new();
    for key in keys {
        let k = key.as_str();
        if HANDLED_KEYWORDS.contains(&k) {
            continue;
        }
        let (ov, nv) = (o.get(k), n.get(k));
        if ov == nv {
            continue;
        }
        if DOC_KEYWORDS.contains(&k) {
            docs.push(k);
        } else {
            let breaking = TYPE_KEYWORDS.contains(&k);
            d.push(
                s,
                Kind::Changed,
                breaking,
                location,
                format!("`{k}` {} -> {}", short(ov), short(nv)),
            );
        }
    }
    if !docs.is_empty() {
        d.push(
            s,
            Kind::Changed,
            false,
            location,
            format!("documentation changed ({})", docs.join(", ")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": { "title": "T", "version": "1.0" },
            "paths": {
                "/things/": {
                    "get": {
                        "operationId": "listThings",
                        "parameters": [
                            { "name": "limit", "in": "query", "schema": { "type": "integer" } }
                        ],
                        "responses": {
                            "200": { "content": { "application/json": { "schema": {
                                "type": "array", "items": { "$ref": "#/components/schemas/Thing" }
                            } } } }
                        }
                    },
                    "post": {
                        "operationId": "createThing",
                        "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Thing" } } } },
                        "responses": { "201": { "description": "created" } }
                    }
                }
            },
            "components": { "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["id"],
                    "properties": {
                        "id": { "type": "string", "format": "uuid" },
                        "name": { "type": "string", "description": "Its name" },
                        "status": { "type": "string", "enum": ["NEW", "DONE"] },
                        "tags": { "type": "array", "items": { "type": "string" } }
                    }
                }
            } }
        })
    }

    fn changes(report: &Report) -> Vec<(bool, String)> {
        report
            .changes
            .iter()
            .map(|c| (c.breaking, format!("{}: {}", c.location, c.message)))
            .collect()
    }

    #[test]
    fn identical_documents_have_no_changes() {
        let r = diff(&base(), &base());
        assert!(r.is_empty());
        assert!(r.render().contains("No API changes"));
    }

    #[test]
    fn added_operation_is_not_breaking() {
        let mut new = base();
        new["paths"]["/widgets/"] =
            json!({ "get": { "operationId": "listWidgets", "responses": {} } });
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![(
                false,
                "GET /widgets/ (listWidgets): operation added".to_owned()
            )]
        );
    }

    #[test]
    fn removed_operation_is_breaking() {
        let mut new = base();
        new["paths"]["/things/"]
            .as_object_mut()
            .map(|m| m.remove("post"));
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![(
                true,
                "POST /things/ (createThing): operation removed".to_owned()
            )]
        );
        assert!(
            r.render()
                .contains("BREAKING - POST /things/ (createThing): operation removed"),
            "{}",
            r.render()
        );
    }

    #[test]
    fn removed_property_is_breaking_added_property_is_not() {
        let mut new = base();
        let props = &mut new["components"]["schemas"]["Thing"]["properties"];
        props.as_object_mut().map(|m| m.remove("name"));
        props["color"] = json!({ "type": "string" });
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![
                (true, "Thing: property `name` removed".to_owned()),
                (false, "Thing: property `color` added".to_owned()),
            ]
        );
        assert_eq!(r.breaking(), 1);
    }

    #[test]
    fn property_that_became_required_is_breaking() {
        let mut new = base();
        new["components"]["schemas"]["Thing"]["required"] = json!(["id", "name"]);
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![(true, "Thing: property `name` became required".to_owned())]
        );
    }

    #[test]
    fn enum_values_added_and_removed() {
        let mut new = base();
        new["components"]["schemas"]["Thing"]["properties"]["status"]["enum"] =
            json!(["NEW", "CANCELLED"]);
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![
                (true, "Thing.status: enum value `DONE` removed".to_owned()),
                (
                    false,
                    "Thing.status: enum value `CANCELLED` added".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn changed_type_and_format_are_breaking_documentation_is_not() {
        let mut new = base();
        let props = &mut new["components"]["schemas"]["Thing"]["properties"];
        props["tags"]["items"] = json!({ "type": "integer" });
        props["id"] = json!({ "type": "string" });
        props["name"]["description"] = json!("The name");
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![
                (true, "Thing.id: `format` \"uuid\" -> absent".to_owned()),
                (
                    false,
                    "Thing.name: documentation changed (description)".to_owned()
                ),
                (
                    true,
                    "Thing.tags[]: type changed: string -> integer".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn nullable_type_array_is_a_type_change() {
        let mut new = base();
        new["components"]["schemas"]["Thing"]["properties"]["name"]["type"] =
            json!(["string", "null"]);
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![(
                true,
                "Thing.name: type changed: string -> null | string".to_owned()
            )]
        );
    }

    #[test]
    fn parameters_request_bodies_and_responses() {
        let mut new = base();
        let get = &mut new["paths"]["/things/"]["get"];
        get["parameters"] = json!([
            { "name": "limit", "in": "query", "required": true, "schema": { "type": "number" } },
            { "name": "cursor", "in": "query", "schema": { "type": "string" } }
        ]);
        get["responses"]["404"] = json!({ "description": "not found" });
        new["paths"]["/things/"]["post"]["requestBody"]["content"]["application/json"]["schema"] =
            json!({ "$ref": "#/components/schemas/NewThing" });
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![
                (false, "GET /things/ (listThings): query parameter `cursor` added".to_owned()),
                (true, "GET /things/ (listThings): query parameter `limit` became required".to_owned()),
                (true, "GET /things/ (listThings) query parameter `limit`: type changed: integer -> number".to_owned()),
                (false, "GET /things/ (listThings): response 404 added".to_owned()),
                (true, "POST /things/ (createThing) request body: type changed: $ref Thing -> $ref NewThing".to_owned()),
            ]
        );
    }

    #[test]
    fn renamed_operation_id_is_breaking_and_document_fields_are_reported() {
        let mut new = base();
        new["paths"]["/things/"]["get"]["operationId"] = json!("getThings");
        new["info"]["version"] = json!("1.1");
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![
                (false, "API version (sent as the `api-version` header): \"1.0\" -> \"1.1\"".to_owned()),
                (true, "GET /things/: operationId \"listThings\" -> \"getThings\" (the generated method is renamed)".to_owned()),
            ]
        );
        let text = r.render();
        assert!(
            text.starts_with("Spec changes, vendored -> new: 2 change(s), 1 BREAKING"),
            "{text}"
        );
        assert!(text.contains("Document:\n"), "{text}");
        assert!(text.contains("Operations:\n"), "{text}");
    }

    #[test]
    fn removed_and_added_schemas() {
        let mut new = base();
        let schemas = new["components"]["schemas"].as_object_mut();
        if let Some(schemas) = schemas {
            let thing = schemas.remove("Thing").unwrap_or(Value::Null);
            schemas.insert("Widget".into(), thing);
        }
        let r = diff(&base(), &new);
        assert_eq!(
            changes(&r),
            vec![
                (true, "Thing: schema removed".to_owned()),
                (false, "Widget: schema added".to_owned())
            ]
        );
    }
}
