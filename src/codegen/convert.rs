//! OpenAPI 3.1 → 3.0 conversion, on the JSON, before anything parses it.
//!
//! progenitor (through `openapiv3`) reads only OpenAPI 3.0. Relabelling the version is not
//! enough: 3.1 schemas are JSON Schema 2020-12, and several of its constructs either panic the
//! generator (`type: "null"`), fail to parse (type arrays, numeric exclusive bounds) or are
//! silently dropped (`const`, nullability next to a `$ref`). Each rule below rewrites one such
//! construct into its 3.0 equivalent. Anything that has no 3.0 equivalent stops the conversion
//! with the JSON pointer of the construct, so a spec change fails loudly instead of generating
//! `serde_json::Value` or panicking deep inside progenitor.

use serde_json::{Map, Value};
use std::fmt;

/// A construct the converter cannot express in OpenAPI 3.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    /// JSON pointer (RFC 6901) of the offending construct in the input document.
    pub pointer: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot convert `{}` to OpenAPI 3.0: {}",
            self.pointer, self.message
        )
    }
}

impl std::error::Error for ConvertError {}

fn err<T>(pointer: &str, message: impl Into<String>) -> Result<T, ConvertError> {
    Err(ConvertError {
        pointer: pointer.to_owned(),
        message: message.into(),
    })
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn child(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape_token(token))
}

/// JSON Schema 2020-12 keywords that have no OpenAPI 3.0 equivalent.
pub const UNSUPPORTED_KEYWORDS: &[&str] = &[
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "patternProperties",
    "propertyNames",
    "$defs",
    "$dynamicRef",
    "$dynamicAnchor",
    "$anchor",
    "contentSchema",
];

/// Annotation keywords that may stand beside a `$ref` without changing what it validates.
const REF_ANNOTATIONS: &[&str] = &[
    "description",
    "summary",
    "title",
    "example",
    "readOnly",
    "writeOnly",
    "deprecated",
];

/// Converts an OpenAPI 3.1 document (or a 3.0 one, which passes through unchanged) to 3.0.3,
/// in place.
pub fn to_openapi30(doc: &mut Value) -> Result<(), ConvertError> {
    let Some(root) = doc.as_object_mut() else {
        return err("", "the document is not a JSON object");
    };
    let version = match root.get("openapi") {
        Some(Value::String(v)) => v.clone(),
        Some(_) => return err("/openapi", "`openapi` is not a string"),
        None => {
            return err(
                "/openapi",
                "no `openapi` version field: not an OpenAPI document",
            )
        }
    };
    if version.starts_with("3.0.") {
        return Ok(());
    }
    if !version.starts_with("3.1.") {
        return err(
            "/openapi",
            format!("unsupported OpenAPI version {version:?} (3.0 and 3.1 are)"),
        );
    }
    root.insert("openapi".into(), Value::String("3.0.3".into()));

    // Document-level fields that exist only in 3.1.
    root.remove("jsonSchemaDialect");
    if let Some(Value::Object(info)) = root.get_mut("info") {
        info.remove("summary");
        if let Some(Value::Object(license)) = info.get_mut("license") {
            license.remove("identifier");
        }
    }
    match root.get("webhooks") {
        Some(Value::Object(w)) if w.is_empty() => {
            root.remove("webhooks");
        }
        Some(_) => return err("/webhooks", "webhooks have no OpenAPI 3.0 equivalent"),
        None => {}
    }
    if !root.contains_key("paths") {
        return err("/paths", "OpenAPI 3.0 requires `paths`");
    }
    if let Some(Value::Object(components)) = root.get("components") {
        if components.contains_key("pathItems") {
            return err(
                "/components/pathItems",
                "path item components have no 3.0 equivalent",
            );
        }
    }

    for (key, value) in root.iter_mut() {
        walk_document(value, &child("", key))?;
    }
    Ok(())
}

/// Walks the non-schema parts of the document, converting every schema it finds.
fn walk_document(value: &mut Value, pointer: &str) -> Result<(), ConvertError> {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let p = child(pointer, k);
                if k == "schema" {
                    convert_schema(v, &p)?;
                } else if k == "schemas" && pointer == "/components" {
                    if let Value::Object(schemas) = v {
                        for (name, schema) in schemas.iter_mut() {
                            convert_schema(schema, &child(&p, name))?;
                        }
                    }
                } else if k == "example" || k == "examples" || k.starts_with("x-") {
                    // Data and extensions, not schemas.
                } else {
                    walk_document(v, &p)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk_document(v, &child(pointer, &i.to_string()))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// True for a schema that allows only `null` (`{"type": "null"}`, possibly annotated).
fn is_null_schema(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    let null_type = match map.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => ts.len() == 1 && ts[0] == "null",
        _ => false,
    };
    let const_null = map.get("const") == Some(&Value::Null) && !map.contains_key("type");
    (null_type || const_null)
        && map
            .keys()
            .all(|k| matches!(k.as_str(), "type" | "const" | "description" | "title"))
}

/// Converts one schema and, recursively, its subschemas.
pub fn convert_schema(schema: &mut Value, pointer: &str) -> Result<(), ConvertError> {
    let map = match schema {
        Value::Object(map) => map,
        // Rule: boolean schemas. `true` accepts anything: the empty schema.
        Value::Bool(true) => {
            *schema = Value::Object(Map::new());
            return Ok(());
        }
        Value::Bool(false) => return err(pointer, "the `false` schema has no 3.0 equivalent"),
        _ => return err(pointer, "a schema must be an object"),
    };

    for keyword in UNSUPPORTED_KEYWORDS {
        if map.contains_key(*keyword) {
            return err(
                &child(pointer, keyword),
                "JSON Schema keyword without 3.0 equivalent",
            );
        }
    }

    // Rule: null alternatives of `oneOf`/`anyOf` become `nullable: true`.
    let mut nullable = false;
    for keyword in ["oneOf", "anyOf"] {
        if let Some(Value::Array(alternatives)) = map.get_mut(keyword) {
            let before = alternatives.len();
            alternatives.retain(|alt| !is_null_schema(alt));
            if alternatives.len() != before {
                nullable = true;
            }
            if alternatives.is_empty() {
                return err(
                    &child(pointer, keyword),
                    "only null alternatives: a schema that allows only null has no 3.0 equivalent",
                );
            }
        }
    }

    // Subschemas first, so the rules below see converted children.
    for keyword in ["properties"] {
        if let Some(Value::Object(props)) = map.get_mut(keyword) {
            let p = child(pointer, keyword);
            for (name, sub) in props.iter_mut() {
                convert_schema(sub, &child(&p, name))?;
            }
        }
    }
    for keyword in ["allOf", "oneOf", "anyOf"] {
        if let Some(value) = map.get_mut(keyword) {
            let p = child(pointer, keyword);
            let Value::Array(subs) = value else {
                return err(&p, "must be an array of schemas");
            };
            for (i, sub) in subs.iter_mut().enumerate() {
                convert_schema(sub, &child(&p, &i.to_string()))?;
            }
        }
    }
    if let Some(items) = map.get_mut("items") {
        if items.is_array() {
            return err(
                &child(pointer, "items"),
                "tuple `items` (an array of schemas) has no 3.0 equivalent",
            );
        }
        convert_schema(items, &child(pointer, "items"))?;
    }
    if let Some(not) = map.get_mut("not") {
        convert_schema(not, &child(pointer, "not"))?;
    }
    if let Some(additional) = map.get_mut("additionalProperties") {
        if additional.is_object() {
            convert_schema(additional, &child(pointer, "additionalProperties"))?;
        }
    }

    // Rule: type arrays. `null` becomes `nullable`; one remaining type stays a type; several
    // become an `anyOf` of single types.
    if let Some(Value::Array(types)) = map.get("type") {
        let mut names = Vec::new();
        for t in types {
            match t.as_str() {
                Some("null") => nullable = true,
                Some(name) => names.push(name.to_owned()),
                None => {
                    return err(
                        &child(pointer, "type"),
                        "type array entries must be strings",
                    )
                }
            }
        }
        match names.len() {
            0 => {
                return err(
                    &child(pointer, "type"),
                    "a schema that allows only null has no 3.0 equivalent",
                )
            }
            1 => {
                map.insert("type".into(), Value::String(names.remove(0)));
            }
            _ => {
                map.remove("type");
                let alternatives = names
                    .into_iter()
                    .map(|n| serde_json::json!({ "type": n }))
                    .collect();
                map.insert("anyOf".into(), Value::Array(alternatives));
            }
        }
    }
    // Rule: a lone `type: "null"` cannot be expressed (it only exists as an alternative).
    if map.get("type") == Some(&Value::String("null".into())) {
        return err(
            &child(pointer, "type"),
            "a schema that allows only null has no 3.0 equivalent",
        );
    }

    // Rule: `const` → one-value `enum` (progenitor drops `const` silently).
    if let Some(value) = map.remove("const") {
        if value.is_null() {
            return err(
                &child(pointer, "const"),
                "`const: null` has no 3.0 equivalent",
            );
        }
        if map.contains_key("enum") {
            return err(&child(pointer, "const"), "`const` beside `enum`");
        }
        map.insert("enum".into(), Value::Array(vec![value]));
    }

    // Rule: `examples` (an array in JSON Schema) → `example` (its first element).
    if let Some(examples) = map.remove("examples") {
        match examples {
            Value::Array(mut list) => {
                if !list.is_empty() && !map.contains_key("example") {
                    map.insert("example".into(), list.remove(0));
                }
            }
            _ => {
                return err(
                    &child(pointer, "examples"),
                    "`examples` in a schema must be an array",
                )
            }
        }
    }

    // Rule: numeric exclusive bounds → `minimum`/`maximum` + boolean `exclusive*`.
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(value) = map.get(exclusive) {
            if value.is_number() {
                let value = value.clone();
                if map.contains_key(bound) {
                    return err(
                        &child(pointer, exclusive),
                        format!("numeric `{exclusive}` beside `{bound}`"),
                    );
                }
                map.insert(bound.into(), value);
                map.insert(exclusive.into(), Value::Bool(true));
            } else if !value.is_boolean() {
                return err(&child(pointer, exclusive), "must be a number");
            }
        }
    }

    // Rule: a single remaining alternative is merged into its parent (`oneOf: [X, null]`
    // → X + nullable). A `$ref` alternative is kept as `allOf: [$ref]` so nullable applies.
    for keyword in ["oneOf", "anyOf"] {
        let single = matches!(map.get(keyword), Some(Value::Array(a)) if a.len() == 1);
        if !single {
            continue;
        }
        let Some(Value::Array(mut alternatives)) = map.remove(keyword) else {
            continue;
        };
        let Some(Value::Object(alternative)) = alternatives.pop() else {
            return err(&child(pointer, keyword), "alternative is not an object");
        };
        if alternative.contains_key("$ref") {
            if map.contains_key("allOf") {
                return err(
                    &child(pointer, keyword),
                    "`$ref` alternative beside `allOf`",
                );
            }
            map.insert(
                "allOf".into(),
                Value::Array(vec![Value::Object(alternative)]),
            );
        } else {
            for (k, v) in alternative {
                match map.get(&k) {
                    None => {
                        map.insert(k, v);
                    }
                    // The parent's annotation wins; the same value is no conflict.
                    Some(existing) if existing == &v => {}
                    Some(_) if REF_ANNOTATIONS.contains(&k.as_str()) => {}
                    Some(_) => {
                        return err(
                            &child(pointer, keyword),
                            format!("alternative's `{k}` conflicts with the parent's"),
                        );
                    }
                }
            }
        }
    }

    if nullable {
        map.insert("nullable".into(), Value::Bool(true));
    }

    // Rule: `$ref` beside non-annotation keywords (3.0 ignores a `$ref`'s siblings, so
    // `nullable` would be lost): wrap it as `allOf: [$ref]`.
    if map.contains_key("$ref")
        && map
            .keys()
            .any(|k| k != "$ref" && !REF_ANNOTATIONS.contains(&k.as_str()))
    {
        if map.contains_key("allOf") {
            return err(&child(pointer, "$ref"), "`$ref` beside `allOf`");
        }
        if let Some(reference) = map.remove("$ref") {
            map.insert("allOf".into(), serde_json::json!([{ "$ref": reference }]));
        }
    }
    Ok(())
}

/// Lists the JSON pointers of 3.1-only constructs left anywhere in a (converted) document.
///
/// Deliberately independent of the converter's own walk: it looks at every object of the
/// document except example data, so a schema location the converter missed is still caught.
pub fn remaining_31_constructs(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(v) = doc.get("openapi").and_then(Value::as_str) {
        if !v.starts_with("3.0.") {
            found.push("/openapi".to_owned());
        }
    }
    visit(doc, "", "", &mut found);
    found
}

fn visit(value: &Value, pointer: &str, parent_key: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            // Inside `properties`, keys are property names, not keywords.
            if parent_key != "properties" {
                match map.get("type") {
                    Some(Value::Array(_)) => found.push(child(pointer, "type")),
                    Some(Value::String(t)) if t == "null" => found.push(child(pointer, "type")),
                    _ => {}
                }
                if map.contains_key("const") {
                    found.push(child(pointer, "const"));
                }
                if map.get("examples").is_some_and(Value::is_array) {
                    found.push(child(pointer, "examples"));
                }
                for k in ["exclusiveMinimum", "exclusiveMaximum"] {
                    if map.get(k).is_some_and(Value::is_number) {
                        found.push(child(pointer, k));
                    }
                }
                for k in UNSUPPORTED_KEYWORDS {
                    if map.contains_key(*k) {
                        found.push(child(pointer, k));
                    }
                }
                if map.contains_key("$ref")
                    && map
                        .keys()
                        .any(|k| k != "$ref" && !REF_ANNOTATIONS.contains(&k.as_str()))
                {
                    found.push(child(pointer, "$ref"));
                }
            }
            for (k, v) in map {
                // Example and default values are data, not schemas.
                if parent_key != "properties"
                    && matches!(k.as_str(), "example" | "default" | "enum")
                {
                    continue;
                }
                visit(v, &child(pointer, k), k, found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                visit(v, &child(pointer, &i.to_string()), parent_key, found);
            }
        }
        _ => {}
    }
}
