//! Reading the schema parts of a request (`fields`, `hooks`) as leniently as Dromo's docs allow:
//! every form the docs present as valid is accepted, unknown keys are tolerated, and only what
//! cannot be a field definition is refused.

use serde_json::{Map, Value};

use super::http::python_type;

/// The field types Dromo documents (`dromo-api.md`, "Result values").
pub(crate) const FIELD_TYPES: &[&str] = &[
    "string",
    "number",
    "date",
    "datetime",
    "time",
    "select",
    "multi-select",
    "checkbox",
    "email",
    "country",
    "phone-number",
    "ssn",
    "domain",
    "url",
    "us-state-territory",
    "us-zip-code",
    "uuid",
];

/// One field of a schema, as far as the stand-in uses it: for matching headers, keying rows, and
/// typing and checking their cells.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) key: String,
    /// Lowercased key, label and `alternateMatches`: a header equal to one of them (trimmed and
    /// lowercased) maps to this field.
    pub(crate) names: Vec<String>,
    /// The field's definition as given: its type, options and validators decide how its cells
    /// are typed and checked (`values.rs`, `validate.rs`).
    pub(crate) definition: Map<String, Value>,
}

/// What is wrong with a field's `type`, if anything. No `type` is a `string` field; a type is a
/// documented name or `[name, options]`, the options an object (or, for `number`, a preset
/// name such as `"usd"`).
fn type_error(value: Option<&Value>) -> Option<String> {
    let known = |name: &str| FIELD_TYPES.contains(&name);
    let unknown = |name: &str| {
        format!(
            "\"type\" \"{name}\" is not a field type Dromo documents ({}).",
            FIELD_TYPES.join(", ")
        )
    };
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) if known(name) => None,
        Some(Value::String(name)) => Some(unknown(name)),
        Some(Value::Array(parts)) => match parts.as_slice() {
            [Value::String(name), _] if !known(name) => Some(unknown(name)),
            [Value::String(_), Value::Object(_)] => None,
            [Value::String(name), Value::String(_)] if name == "number" => None,
            _ => Some(
                "\"type\" must be [type name, options]: a documented type name and an options \
                 object (or a number preset name)."
                    .to_owned(),
            ),
        },
        Some(other) => Some(format!(
            "\"type\" must be a type name or [type name, options], not {}.",
            python_type(other)
        )),
    }
}

fn select_options_error(value: Option<&Value>) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Array(options)) if options.iter().all(Value::is_object) => None,
        Some(_) => Some("\"selectOptions\" must be a list of option objects.".to_owned()),
    }
}

/// Reads a schema's `fields` array. The error is DRF's list of messages for the `fields` key.
pub(crate) fn parse_fields(fields: &Value) -> Result<Vec<Field>, Vec<String>> {
    let Value::Array(items) = fields else {
        return Err(vec![format!(
            "Expected a list of items but got type \"{}\".",
            python_type(fields)
        )]);
    };
    if items.is_empty() {
        return Err(vec!["This list may not be empty.".to_owned()]);
    }
    let mut out: Vec<Field> = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errors.push(format!(
                "Item {i}: expected a field object but got type \"{}\".",
                python_type(item)
            ));
            continue;
        };
        let key = match obj.get("key") {
            Some(Value::String(key)) if !key.is_empty() => key.clone(),
            Some(Value::String(_)) => {
                errors.push(format!("Item {i}: \"key\" may not be blank."));
                continue;
            }
            Some(_) => {
                errors.push(format!("Item {i}: \"key\" must be a string."));
                continue;
            }
            None => {
                errors.push(format!("Item {i}: \"key\" is required."));
                continue;
            }
        };
        if out.iter().any(|f| f.key == key) {
            errors.push(format!("Item {i}: duplicate key \"{key}\"."));
            continue;
        }
        let problems: Vec<String> = [
            type_error(obj.get("type")),
            select_options_error(obj.get("selectOptions")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !problems.is_empty() {
            errors.extend(problems.into_iter().map(|p| format!("Item {i}: {p}")));
            continue;
        }
        let mut names = vec![key.trim().to_lowercase()];
        if let Some(Value::String(label)) = obj.get("label") {
            names.push(label.trim().to_lowercase());
        }
        if let Some(Value::Array(alternates)) = obj.get("alternateMatches") {
            names.extend(
                alternates
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|a| a.trim().to_lowercase()),
            );
        }
        out.push(Field {
            key,
            names,
            definition: obj.clone(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks a `hooks` object: hooks are JavaScript source strings; `columnHooks` and `stepHooks`
/// are objects with a `callback` (step types are not restricted: Dromo documents more than the
/// spec lists, e.g. `REVIEW_STEP_PRE_SUBMIT`). Unknown keys are tolerated. The error is the list
/// of messages for the `hooks` key.
pub(crate) fn hooks_errors(hooks: &Value) -> Option<Vec<String>> {
    let Value::Object(hooks) = hooks else {
        return Some(vec![format!(
            "Expected a dictionary of items but got type \"{}\".",
            python_type(hooks)
        )]);
    };
    let mut errors = Vec::new();
    let strings = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    for key in ["rowHooks", "bulkRowHooks", "rowDeleteHooks"] {
        if let Some(value) = hooks.get(key).filter(|v| !v.is_null()) {
            if !strings(value) {
                errors.push(format!(
                    "\"{key}\" must be a list of JavaScript source strings."
                ));
            }
        }
    }
    if let Some(value) = hooks.get("beforeFinishCallback").filter(|v| !v.is_null()) {
        if !value.is_string() {
            errors.push("\"beforeFinishCallback\" must be a JavaScript source string.".into());
        }
    }
    for (key, name) in [("columnHooks", "fieldName"), ("stepHooks", "type")] {
        let Some(value) = hooks.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let valid = value.as_array().is_some_and(|items| {
            items.iter().all(|item| {
                item.get(name).is_some_and(Value::is_string)
                    && item.get("callback").is_some_and(Value::is_string)
            })
        });
        if !valid {
            errors.push(format!(
                "\"{key}\" must be a list of objects with \"{name}\" and \"callback\" strings."
            ));
        }
    }
    (!errors.is_empty()).then_some(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_type_forms_are_accepted() {
        let fields = json!([
            {"key": "a", "label": "A"},
            {"key": "b", "label": "B", "type": "multi-select",
             "selectOptions": [{"label": "X", "value": "x"}]},
            {"key": "c", "label": "C", "type": ["multi-select", {"delimiter": ";"}]},
            {"key": "d", "label": "D", "type": ["number", "usd"]},
            {"key": "e", "label": "E", "type": ["number", {"preset": "usd", "round": 2}]},
            {"key": "f", "label": "F", "type": ["select", {"exactMatchOnly": true}],
             "selectOptions": [{"label": "Y", "value": "y", "exactMatchOnly": true}],
             "somethingNew": 1},
        ]);
        let parsed = parse_fields(&fields).expect("all documented forms");
        assert_eq!(parsed.len(), 6);
    }

    #[test]
    fn impossible_types_are_refused() {
        for bad in [
            json!("strnig"),
            json!(["string"]),
            json!(["email", "usd"]),
            json!(["nope", {}]),
            json!(7),
        ] {
            let fields = json!([{"key": "a", "label": "A", "type": bad}]);
            let errors = parse_fields(&fields).expect_err("refused");
            assert!(errors[0].starts_with("Item 0: \"type\""), "{errors:?}");
        }
    }

    #[test]
    fn hooks() {
        assert!(hooks_errors(&json!({
            "rowHooks": ["(r) => r"],
            "stepHooks": [{"type": "REVIEW_STEP_PRE_SUBMIT", "callback": "() => {}"}],
            "columnHooks": [{"fieldName": "a", "callback": "() => []"}],
            "futureHook": true,
        }))
        .is_none());
        assert!(hooks_errors(&json!({"rowHooks": "x"})).is_some());
        assert!(hooks_errors(&json!({"stepHooks": [{"type": "UPLOAD_STEP"}]})).is_some());
        assert!(hooks_errors(&json!([])).is_some());
    }
}
