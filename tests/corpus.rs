//! Dromo's own published examples go through: every request example of Dromo's docs
//! (`tests/data/docs-corpus.json`, extracted by `cargo xtask docs-corpus`) is read, checked and
//! re-serialized as a user pasting it would, on both raw paths (the generated
//! `types::CreateHeadlessImportBody` and `CreateRequest::from_value`). The examples the docs
//! call invalid must be refused.

use dromo_client::{types, validate, CreateRequest, Error};
use serde_json::{json, Value};

const CORPUS: &str = include_str!("data/docs-corpus.json");

struct Example {
    id: String,
    body: Value,
    invalid: Option<String>,
}

fn corpus() -> Vec<Example> {
    let corpus: Value = serde_json::from_str(CORPUS).unwrap();
    corpus["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Example {
            id: e["id"].as_str().unwrap().to_owned(),
            body: e["body"].clone(),
            invalid: e.get("invalid").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()
}

/// Paths of `original` whose value is missing or different in `sent`. Empty arrays may
/// disappear when `allow_empty_arrays`; anything `sent` adds (a filled-in default) is fine.
fn lost(
    original: &Value,
    sent: &Value,
    path: &str,
    allow_empty_arrays: bool,
    out: &mut Vec<String>,
) {
    match (original, sent) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => lost(v, w, &p, allow_empty_arrays, out),
                    None if allow_empty_arrays && v.as_array().is_some_and(Vec::is_empty) => {}
                    None => out.push(format!("{p} disappeared")),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                lost(v, w, &format!("{path}[{i}]"), allow_empty_arrays, out);
            }
        }
        (a, b) if a == b => {}
        // Integers written as floats (`2.0`) are the same number.
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => {}
        (a, b) => out.push(format!("{path}: {a} became {b}")),
    }
}

/// The typed raw path: deserialize, validate, re-serialize. Returns the problem, if any.
fn through_generated_types(body: &Value) -> Result<(), String> {
    let typed: types::CreateHeadlessImportBody =
        serde_json::from_value(body.clone()).map_err(|e| format!("does not deserialize: {e}"))?;
    validate(&typed).map_err(|e| format!("refused by validate(): {e}"))?;
    let again = serde_json::to_value(&typed).unwrap();
    let mut out = Vec::new();
    lost(body, &again, "", true, &mut out);
    if out.is_empty() {
        Ok(())
    } else {
        Err(format!("loses data: {}", out.join("; ")))
    }
}

/// The JSON path: read as written, checked, and the bytes that would be sent.
fn through_json(body: &Value) -> Result<Value, String> {
    let request =
        CreateRequest::from_value(body.clone()).map_err(|e| format!("refused when read: {e}"))?;
    let bytes = request
        .body_bytes()
        .map_err(|e| format!("refused before sending: {e}"))?;
    let sent: Value = serde_json::from_slice(&bytes).unwrap();
    let mut out = Vec::new();
    lost(body, &sent, "", false, &mut out);
    if out.is_empty() {
        Ok(sent)
    } else {
        Err(format!("loses data: {}", out.join("; ")))
    }
}

#[test]
fn the_corpus_is_dromos_docs() {
    let examples = corpus();
    assert!(examples.len() >= 80, "only {} examples", examples.len());
    let mut ids: Vec<&str> = examples.iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), examples.len(), "ids must be unique");
    // The cases the issue names are in it.
    let text = CORPUS;
    for needle in [
        r#""number",
              "eur""#,
        "multi-select",
        "REVIEW_STEP_PRE_SUBMIT",
        "exactMatchOnly",
    ] {
        let compact: String = needle.split_whitespace().collect();
        let haystack: String = text.split_whitespace().collect();
        assert!(haystack.contains(&compact), "corpus lacks {needle}");
    }
}

#[test]
fn every_documented_example_goes_through_both_raw_paths() {
    let mut failures = Vec::new();
    let mut passed = 0;
    for example in corpus().iter().filter(|e| e.invalid.is_none()) {
        if let Err(e) = through_generated_types(&example.body) {
            failures.push(format!(
                "{} (types::CreateHeadlessImportBody): {e}",
                example.id
            ));
        }
        match through_json(&example.body) {
            Ok(sent) => {
                // Every field goes out with a type: the docs' default, which the spec requires.
                for field in sent["fields"].as_array().into_iter().flatten() {
                    assert!(field.get("type").is_some(), "{}: {field}", example.id);
                }
                passed += 1;
            }
            Err(e) => failures.push(format!("{} (CreateRequest::from_value): {e}", example.id)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the docs' examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(passed >= 80, "only {passed} examples checked");
}

#[test]
fn the_examples_the_docs_call_invalid_are_refused() {
    let invalid: Vec<Example> = corpus()
        .into_iter()
        .filter(|e| e.invalid.is_some())
        .collect();
    assert!(!invalid.is_empty());
    for example in invalid {
        let reason = example.invalid.as_deref().unwrap_or_default();
        assert!(
            reason.contains(".mdx"),
            "{}: the reason cites no page",
            example.id
        );
        let typed = through_generated_types(&example.body);
        let json = through_json(&example.body);
        for result in [typed.map(|_| ()), json.map(|_| ())] {
            let err = result.expect_err(&example.id);
            assert!(err.contains("selectOptions"), "{}: {err}", example.id);
        }
    }
}

fn inline(fields: Value) -> Value {
    json!({ "fields": fields, "original_filename": "data.csv" })
}

fn refusal(body: &Value) -> String {
    let result = match CreateRequest::from_value(body.clone()) {
        Ok(request) => request.body_bytes().map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Err(Error::InvalidRequest { violations, .. }) => violations.to_string(),
        other => panic!("expected a refusal of {body}, got {other:?}"),
    }
}

#[test]
fn a_field_without_type_is_a_string_field() {
    let body = inline(json!([{ "key": "firstName", "label": "First name" }]));
    through_generated_types(&body).unwrap();
    let typed: types::CreateHeadlessImportBody = serde_json::from_value(body.clone()).unwrap();
    let field = &typed.fields.unwrap().0[0];
    assert_eq!(
        field.type_,
        types::SchemaFieldsItemType::String("string".into())
    );
    let sent = through_json(&body).unwrap();
    assert_eq!(sent["fields"][0]["type"], "string");
}

#[test]
fn number_presets_multi_select_and_pre_submit_hooks_are_accepted() {
    for ty in [
        json!(["number", "eur"]),
        json!(["number", "usd"]),
        json!(["number", "percent_4"]),
    ] {
        through_generated_types(&inline(
            json!([{ "key": "fee", "label": "Fee", "type": ty }]),
        ))
        .unwrap();
    }
    let options = json!([{ "label": "JavaScript", "value": "js" }]);
    for ty in [
        json!("multi-select"),
        json!(["multi-select", { "delimiter": ";", "trimValues": true }]),
    ] {
        let body = inline(
            json!([{ "key": "skills", "label": "Skills", "type": ty, "selectOptions": options }]),
        );
        through_generated_types(&body).unwrap();
    }
    let hooks = json!({
        "schema_id": "s-1", "original_filename": "a.csv",
        "hooks": { "stepHooks": [{ "type": "REVIEW_STEP_PRE_SUBMIT", "callback": "function (instance, data) {}" }] }
    });
    through_generated_types(&hooks).unwrap();
}

#[test]
fn exact_match_only_survives() {
    let body = inline(json!([{
        "key": "plan", "label": "Plan", "type": ["select", { "allowCustom": true, "exactMatchOnly": true }],
        "selectOptions": [{ "label": "Free", "value": "free", "exactMatchOnly": true }]
    }]));
    through_generated_types(&body).unwrap();
    through_json(&body).unwrap();
}

#[test]
fn still_refused_select_without_options_and_unknown_presets() {
    let text = refusal(&inline(
        json!([{ "key": "a", "label": "A", "type": ["select", { "allowCustom": true }] }]),
    ));
    assert!(
        text.contains(
            "`fields[0].selectOptions` has no options (it is missing or `[]`): a select field"
        ),
        "{text}"
    );
    let text = refusal(&inline(
        json!([{ "key": "a", "label": "A", "type": "multi-select" }]),
    ));
    assert!(
        text.contains("a multi-select field needs at least one"),
        "{text}"
    );
    let text = refusal(&inline(
        json!([{ "key": "a", "label": "A", "type": ["number", "dollars"] }]),
    ));
    assert!(
        text.contains("`dollars` is not a Dromo number preset"),
        "{text}"
    );
    let text = refusal(&inline(
        json!([{ "key": "a", "label": "A", "type": ["date", "de-DE"] }]),
    ));
    assert!(text.contains("must be a type name, a pair"), "{text}");
}

#[test]
fn unknown_keys_are_refused_with_their_path_and_the_likely_key() {
    let body = json!({
        "fields": [{ "key": "a", "lable": "A", "label": "A" }],
        "original_filename": "a.csv",
        "hooks": { "rowHook": ["(record) => record"] },
        "import_metadata": { "user": { "id": "u1", "company_id": "c1" } },
        "sheme_id": "x"
    });
    let text = refusal(&body);
    for needle in [
        "`fields[0].lable` is not a key Dromo knows: did you mean `label`?",
        "`hooks.rowHook` is not a key Dromo knows: did you mean `rowHooks`?",
        "`import_metadata.user.company_id` is not a key Dromo knows: did you mean `companyId`?",
        "`sheme_id` is not a key Dromo knows: did you mean `schema_id`?",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in {text}");
    }
    assert!(text.starts_with("4 problems"), "{text}");
    // Settings are open: keys Dromo adds later are sent, not refused.
    through_json(&json!({ "schema_id": "s", "original_filename": "a.csv", "settings": { "someNewSetting": 1 } })).unwrap();
}

#[test]
fn meaningful_nulls_are_sent_as_null() {
    let body = json!({
        "schema_id": "94187d21-9820-420f-b08c-a80cbbf52604",
        "original_filename": "a.csv",
        "settings": { "maxRecords": null, "webhookUrl": null }
    });
    let sent = through_json(&body).unwrap();
    assert_eq!(
        sent["settings"],
        json!({ "maxRecords": null, "webhookUrl": null })
    );
    let bytes = CreateRequest::from_value(body)
        .unwrap()
        .body_bytes()
        .unwrap();
    assert!(String::from_utf8(bytes)
        .unwrap()
        .contains(r#""maxRecords":null"#));
}

#[test]
fn json_text_that_is_not_a_body_is_refused_clearly() {
    let text = match CreateRequest::from_json("[1]") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted an array"),
    };
    assert!(text.contains("is not a JSON object"), "{text}");
    let text = match CreateRequest::from_json("{\"fields\": 3}") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted fields: 3"),
    };
    assert!(text.contains("does not fit Dromo's create body"), "{text}");
}

#[test]
fn the_typed_api_writes_the_documented_json() {
    use dromo_client::{Field, SelectOption};
    let fields: Vec<types::SchemaFieldsItem> = vec![
        Field::number_preset("fee", "Subscription fee", "eur").into(),
        Field::multi_select(
            "skills",
            "Skills",
            [SelectOption::new("JavaScript", "js").exact_match_only(true)],
        )
        .type_options(json!({ "delimiter": ";", "trimValues": true }))
        .into(),
    ];
    assert_eq!(
        serde_json::to_value(&fields).unwrap(),
        json!([
            { "key": "fee", "label": "Subscription fee", "type": ["number", "eur"] },
            { "key": "skills", "label": "Skills", "type": ["multi-select", { "delimiter": ";", "trimValues": true }],
              "selectOptions": [{ "label": "JavaScript", "value": "js", "exactMatchOnly": true }] }
        ])
    );
}
