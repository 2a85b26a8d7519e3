//! The code-generation pipeline, rule by rule: the 3.1 → 3.0 converter, our corrections of the
//! upstream spec, and the whole pipeline on the vendored `openapi.json`.

#[allow(dead_code)]
#[path = "../src/codegen/mod.rs"]
mod codegen;

use codegen::convert::{convert_schema, remaining_31_constructs, to_openapi30, ConvertError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const SPEC: &[u8] = include_bytes!("../openapi.json");

fn convert(mut schema: Value) -> Result<Value, ConvertError> {
    convert_schema(&mut schema, "/s")?;
    Ok(schema)
}

fn doc(schemas: Value) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": { "title": "t", "version": "1", "summary": "3.1 only", "license": { "name": "MIT", "identifier": "MIT" } },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": {},
        "components": { "schemas": schemas }
    })
}

// ---------------------------------------------------------------- the vendored spec

#[test]
fn vendored_spec_matches_its_sha256_pin() {
    let pinned =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/openapi.sha256"))
            .expect("tests/openapi.sha256 exists");
    let actual: String = Sha256::digest(SPEC)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        actual,
        pinned.trim(),
        "openapi.json differs from its pin: it must stay byte-identical to upstream; update it only with `cargo xtask update-spec`"
    );
}

#[test]
fn vendored_spec_is_openapi_31_with_25_operations() {
    let spec: Value = serde_json::from_slice(SPEC).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let operations: usize = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| matches!(k.as_str(), "get" | "put" | "post" | "delete" | "patch"))
                .count()
        })
        .sum();
    assert_eq!(operations, 25);
}

#[test]
fn no_31_construct_survives_conversion_of_the_vendored_spec() {
    let mut spec: Value = serde_json::from_slice(SPEC).unwrap();
    let before = remaining_31_constructs(&spec);
    assert!(
        before.len() > 10,
        "the checker must see the 3.1 constructs of the raw spec: {before:?}"
    );
    assert!(
        before.iter().any(|p| p.ends_with("/type")),
        "null types are 3.1 constructs: {before:?}"
    );
    to_openapi30(&mut spec).unwrap();
    assert_eq!(remaining_31_constructs(&spec), Vec::<String>::new());
    // And openapiv3 (3.0 only) parses the result.
    let _: openapiv3::OpenAPI = serde_json::from_value(spec).expect("converted spec parses as 3.0");
}

#[test]
fn relabelling_the_raw_spec_is_not_enough() {
    // Why the converter exists: progenitor refuses 3.1, and a relabelled 3.1 document makes it
    // panic on `type: null`.
    let mut spec: Value = serde_json::from_slice(SPEC).unwrap();
    let raw: openapiv3::OpenAPI = serde_json::from_value(spec.clone()).unwrap();
    let mut generator = progenitor::Generator::default();
    assert!(
        generator.generate_tokens(&raw).is_err(),
        "progenitor refuses 3.1.0"
    );
    spec["openapi"] = json!("3.0.3");
    let relabelled: openapiv3::OpenAPI = serde_json::from_value(spec).unwrap();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(move || {
        progenitor::Generator::default()
            .generate_tokens(&relabelled)
            .map(|_| ())
    });
    std::panic::set_hook(hook);
    assert!(
        !matches!(outcome, Ok(Ok(()))),
        "a relabelled 3.1 spec must not generate cleanly"
    );
}

#[test]
fn the_pipeline_generates_all_25_operations() {
    let code = codegen::generate(SPEC).expect("the vendored spec generates");
    let spec: Value = serde_json::from_slice(SPEC).unwrap();
    let mut ids = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            ids.push(op["operationId"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(ids.len(), 25);
    for id in ids {
        let snake: String = id
            .chars()
            .flat_map(|c| {
                if c.is_uppercase() {
                    vec!['_', c.to_ascii_lowercase()]
                } else {
                    vec![c]
                }
            })
            .collect();
        assert!(
            code.contains(&format!("operation_id: \"{snake}\"")),
            "operation {id} missing from the generated code"
        );
        assert!(
            code.contains(&format!("pub fn {snake}(&self)")),
            "method {snake} missing"
        );
    }
    // The corrections reached the generated code.
    assert!(
        code.contains("crate::ImportStatus"),
        "the status type is replaced by the open hand-written one"
    );
    assert!(
        code.contains("select_options"),
        "fields carry selectOptions"
    );
    assert!(
        code.contains("auto_map_headers"),
        "documented settings can be sent"
    );
    assert!(
        !code.contains("deny_unknown_fields"),
        "responses tolerate new fields"
    );
    assert!(
        code.contains("crate::config::authenticate"),
        "the key hook is installed"
    );
}

#[test]
fn the_pipeline_names_the_construct_it_cannot_convert() {
    let mut spec: Value = serde_json::from_slice(SPEC).unwrap();
    spec["components"]["schemas"]["ResultData"]["properties"]["data"]["prefixItems"] =
        json!([{ "type": "string" }]);
    let bytes = serde_json::to_vec(&spec).unwrap();
    let message = codegen::generate(&bytes).unwrap_err().to_string();
    assert!(
        message.contains("/components/schemas/ResultData/properties/data/prefixItems"),
        "{message}"
    );
}

#[test]
fn the_pipeline_reports_progenitor_panics_as_errors() {
    // Two different success bodies for one operation make progenitor assert; the pipeline must
    // turn that into an error, not a panic.
    let mut spec: Value = serde_json::from_slice(SPEC).unwrap();
    spec["paths"]["/schemas/"]["get"]["responses"]["202"] = json!({
        "description": "other", "content": { "application/json": { "schema": { "type": "object", "properties": { "x": { "type": "string" } } } } }
    });
    let bytes = serde_json::to_vec(&spec).unwrap();
    let error = codegen::generate(&bytes).unwrap_err();
    assert!(
        matches!(error, codegen::CodegenError::Generate(_)),
        "{error}"
    );
}

#[test]
fn the_pipeline_refuses_non_json_and_non_openapi() {
    assert!(matches!(
        codegen::generate(b"<html>502</html>"),
        Err(codegen::CodegenError::Json(_))
    ));
    let message = codegen::generate(br#"{"swagger": "2.0"}"#)
        .unwrap_err()
        .to_string();
    assert!(message.contains("/openapi"), "{message}");
}

// ---------------------------------------------------------------- converter rules

#[test]
fn rule_oneof_with_null_becomes_nullable() {
    let out =
        convert(json!({ "oneOf": [{ "type": "string", "example": "x" }, { "type": "null" }] }))
            .unwrap();
    assert_eq!(
        out,
        json!({ "type": "string", "example": "x", "nullable": true })
    );
}

#[test]
fn rule_anyof_with_null_becomes_nullable() {
    let out =
        convert(json!({ "anyOf": [{ "type": "integer" }, { "type": "null" }], "readOnly": true }))
            .unwrap();
    assert_eq!(
        out,
        json!({ "type": "integer", "readOnly": true, "nullable": true })
    );
}

#[test]
fn rule_oneof_with_several_alternatives_and_null_keeps_the_alternatives() {
    let out = convert(
        json!({ "oneOf": [{ "type": "string" }, { "type": "array" }, { "type": "null" }] }),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({ "oneOf": [{ "type": "string" }, { "type": "array" }], "nullable": true })
    );
}

#[test]
fn rule_ref_alternative_with_null_is_wrapped_in_allof() {
    let out =
        convert(json!({ "oneOf": [{ "$ref": "#/components/schemas/A" }, { "type": "null" }] }))
            .unwrap();
    assert_eq!(
        out,
        json!({ "allOf": [{ "$ref": "#/components/schemas/A" }], "nullable": true })
    );
}

#[test]
fn rule_ref_beside_nullable_is_wrapped_in_allof() {
    let out = convert(json!({ "$ref": "#/components/schemas/A", "nullable": true })).unwrap();
    assert_eq!(
        out,
        json!({ "allOf": [{ "$ref": "#/components/schemas/A" }], "nullable": true })
    );
    // Annotations alone stay beside the $ref.
    let out = convert(json!({ "$ref": "#/components/schemas/A", "description": "d" })).unwrap();
    assert_eq!(
        out,
        json!({ "$ref": "#/components/schemas/A", "description": "d" })
    );
}

#[test]
fn rule_type_array_with_null() {
    assert_eq!(
        convert(json!({ "type": ["string", "null"] })).unwrap(),
        json!({ "type": "string", "nullable": true })
    );
    assert_eq!(
        convert(json!({ "type": ["integer"] })).unwrap(),
        json!({ "type": "integer" })
    );
}

#[test]
fn rule_type_array_with_several_types_becomes_anyof() {
    let out = convert(json!({ "type": ["string", "integer", "null"] })).unwrap();
    assert_eq!(
        out,
        json!({ "anyOf": [{ "type": "string" }, { "type": "integer" }], "nullable": true })
    );
}

#[test]
fn rule_const_becomes_single_value_enum() {
    assert_eq!(
        convert(json!({ "type": "string", "const": "domain" })).unwrap(),
        json!({ "type": "string", "enum": ["domain"] })
    );
}

#[test]
fn rule_examples_become_example() {
    assert_eq!(
        convert(json!({ "type": "string", "examples": ["a", "b"] })).unwrap(),
        json!({ "type": "string", "example": "a" })
    );
}

#[test]
fn rule_numeric_exclusive_bounds_become_boolean_form() {
    let out = convert(json!({ "type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10 }))
        .unwrap();
    assert_eq!(
        out,
        json!({ "type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": true })
    );
}

#[test]
fn rule_boolean_true_schema_becomes_empty_schema() {
    assert_eq!(convert(json!(true)).unwrap(), json!({}));
    assert!(convert(json!(false)).is_err());
}

#[test]
fn rules_apply_in_nested_schemas() {
    let out = convert(json!({
        "type": "object",
        "properties": { "a": { "type": ["string", "null"] } },
        "items": { "const": 1 },
        "additionalProperties": { "examples": [1] },
        "allOf": [{ "oneOf": [{ "type": "boolean" }, { "type": "null" }] }]
    }))
    .unwrap();
    assert_eq!(
        out["properties"]["a"],
        json!({ "type": "string", "nullable": true })
    );
    assert_eq!(out["items"], json!({ "enum": [1] }));
    assert_eq!(out["additionalProperties"], json!({ "example": 1 }));
    assert_eq!(
        out["allOf"][0],
        json!({ "type": "boolean", "nullable": true })
    );
}

#[test]
fn unconvertible_constructs_fail_with_their_pointer() {
    let cases = [
        (
            json!({ "properties": { "a": { "if": {}, "then": {} } } }),
            "/s/properties/a/if",
        ),
        (
            json!({ "items": { "prefixItems": [] } }),
            "/s/items/prefixItems",
        ),
        (json!({ "type": "null" }), "/s/type"),
        (json!({ "type": ["null"] }), "/s/type"),
        (json!({ "oneOf": [{ "type": "null" }] }), "/s/oneOf"),
        (json!({ "items": [{ "type": "string" }] }), "/s/items"),
        (json!({ "const": null }), "/s/const"),
        (
            json!({ "patternProperties": { "^x": {} } }),
            "/s/patternProperties",
        ),
        (
            json!({ "properties": { "a/b": { "$defs": {} } } }),
            "/s/properties/a~1b/$defs",
        ),
    ];
    for (schema, pointer) in cases {
        let error = convert(schema.clone()).expect_err(&format!("{schema} must fail"));
        assert_eq!(error.pointer, pointer, "{schema}");
        assert!(error.to_string().contains(pointer));
    }
}

#[test]
fn document_level_31_fields_are_dropped_and_version_relabelled() {
    let mut d = doc(json!({ "A": { "type": ["string", "null"] } }));
    to_openapi30(&mut d).unwrap();
    assert_eq!(d["openapi"], "3.0.3");
    assert!(d.get("jsonSchemaDialect").is_none());
    assert!(d["info"].get("summary").is_none());
    assert!(d["info"]["license"].get("identifier").is_none());
    assert_eq!(
        d["components"]["schemas"]["A"],
        json!({ "type": "string", "nullable": true })
    );
    assert!(remaining_31_constructs(&d).is_empty());
}

#[test]
fn schemas_in_parameters_and_bodies_are_converted_but_media_examples_are_not() {
    let mut d = doc(json!({}));
    d["paths"] = json!({
        "/x/": { "post": {
            "parameters": [{ "name": "q", "in": "query", "schema": { "type": ["integer", "null"] } }],
            "requestBody": { "content": { "application/json": {
                "schema": { "const": "a" },
                "examples": { "one": { "value": { "type": ["kept", "as", "data"] } } }
            } } },
            "responses": { "200": { "description": "ok" } }
        } }
    });
    to_openapi30(&mut d).unwrap();
    let op = &d["paths"]["/x/"]["post"];
    assert_eq!(
        op["parameters"][0]["schema"],
        json!({ "type": "integer", "nullable": true })
    );
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"],
        json!({ "enum": ["a"] })
    );
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["examples"]["one"]["value"]["type"],
        json!(["kept", "as", "data"])
    );
}

#[test]
fn unsupported_versions_and_webhooks_are_refused() {
    let mut d = doc(json!({}));
    d["openapi"] = json!("2.0");
    assert_eq!(to_openapi30(&mut d).unwrap_err().pointer, "/openapi");
    let mut d = doc(json!({}));
    d["webhooks"] = json!({ "hook": {} });
    assert_eq!(to_openapi30(&mut d).unwrap_err().pointer, "/webhooks");
    let mut d = doc(json!({}));
    d.as_object_mut().unwrap().remove("paths");
    assert_eq!(to_openapi30(&mut d).unwrap_err().pointer, "/paths");
}

#[test]
fn a_30_document_passes_unchanged() {
    let mut d = json!({ "openapi": "3.0.3", "info": { "title": "t", "version": "1" }, "paths": {}, "x": { "const": 1 } });
    let before = d.clone();
    to_openapi30(&mut d).unwrap();
    assert_eq!(d, before);
}

// ---------------------------------------------------------------- corrections

fn prepared() -> Value {
    codegen::prepare(SPEC).expect("the vendored spec converts and corrects")
}

#[test]
fn correction_status_is_hoisted_with_pending() {
    let d = prepared();
    let status = &d["components"]["schemas"]["ImportStatus"];
    let values: Vec<&str> = status["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        values,
        [
            "AWAITING_UPLOAD",
            "PENDING",
            "RUNNING",
            "SUCCESSFUL",
            "FAILED",
            "NEEDS_REVIEW"
        ]
    );
    assert_eq!(
        d["components"]["schemas"]["HeadlessImport"]["properties"]["status"],
        json!({ "$ref": "#/components/schemas/ImportStatus" })
    );
}

#[test]
fn correction_status_refuses_a_spec_that_already_has_pending() {
    let mut spec: Value = serde_json::from_slice(SPEC).unwrap();
    spec["components"]["schemas"]["HeadlessImport"]["properties"]["status"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("PENDING"));
    let error = codegen::prepare(&serde_json::to_vec(&spec).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("import_status_is_open") && error.contains("PENDING"),
        "{error}"
    );
}

#[test]
fn correction_response_enums_are_open_request_enums_closed() {
    let d = prepared();
    // SftpCredential is a response: its auth type is a plain string now.
    let auth = &d["components"]["schemas"]["SftpCredential"]["properties"]["auth_type"];
    assert!(auth.get("enum").is_none(), "{auth}");
    assert!(auth["description"].as_str().unwrap().contains("PASSWORD"));
    // SchemaSettings is only sent: its enum stays closed.
    assert!(
        d["components"]["schemas"]["SchemaSettings"]["properties"]["invalidDataBehavior"]
            .get("enum")
            .is_some()
    );
}

#[test]
fn correction_fields_carry_select_options() {
    let d = prepared();
    for pointer in [
        "/components/schemas/SchemaFields/items",
        "/components/schemas/ImportSchema/properties/fields/items",
    ] {
        let options = d
            .pointer(&format!("{pointer}/properties/selectOptions"))
            .unwrap_or_else(|| panic!("{pointer}"));
        assert_eq!(options["items"]["required"], json!(["label", "value"]));
    }
}

#[test]
fn correction_settings_accept_documented_keys() {
    let d = prepared();
    let settings = &d["components"]["schemas"]["SchemaSettings"];
    for key in [
        "autoMapHeaders",
        "delimiter",
        "locale",
        "uploadStep",
        "reviewStep",
        "backendOverride",
    ] {
        assert!(settings["properties"].get(key).is_some(), "{key}");
    }
    assert_eq!(settings["additionalProperties"], json!({}));
}

#[test]
fn correction_unknown_fields_are_tolerated() {
    let mut d = prepared();
    // The example of ImportSchema holds a schema as data: not a schema of ours.
    d["components"]["schemas"]["ImportSchema"]
        .as_object_mut()
        .unwrap()
        .remove("example");
    let text = d.to_string();
    assert!(!text.contains("\"additionalProperties\":false"));
    assert_eq!(
        d["components"]["schemas"]["HeadlessImport"]["additionalProperties"],
        json!({})
    );
}

#[test]
fn correction_pagination_is_integer() {
    let d = prepared();
    let params = d
        .pointer("/paths/~1headless~1imports~1/get/parameters")
        .unwrap()
        .as_array()
        .unwrap();
    assert!(params.iter().all(|p| p["schema"]["type"] == "integer"));
    let count = d.pointer("/paths/~1headless~1imports~1/get/responses/200/content/application~1json/schema/properties/count").unwrap();
    // What the server writes keeps the spec's type: any number decodes.
    assert_eq!(count["type"], "number");
    assert!(count.get("minimum").is_none());
}

#[test]
fn correction_response_integers_are_whole_numbers() {
    let d = prepared();
    let s = &d["components"]["schemas"];
    assert_eq!(
        s["SftpCredential"]["properties"]["port"]["$ref"],
        "#/components/schemas/WholeNumber"
    );
    // Request integers stay plain integers.
    assert_eq!(
        s["SftpCredentialCreate"]["properties"]["port"]["type"],
        "integer"
    );
    let text = d.to_string();
    assert!(text.contains("WholeNumber"));
}

#[test]
fn correction_field_type_defaults_to_string() {
    let d = prepared();
    let item = &d["components"]["schemas"]["SchemaFields"]["items"];
    assert!(!item["required"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "type"));
    assert_eq!(item["properties"]["type"]["default"], "string");
    assert!(
        item["properties"]["selectOptions"]["items"]["properties"]["exactMatchOnly"].is_object()
    );
}

#[test]
fn correction_step_hooks_accept_documented_types() {
    let d = prepared();
    let values = d["components"]["schemas"]["SchemaHooks"]["properties"]["stepHooks"]["items"]
        ["properties"]["type"]["enum"]
        .as_array()
        .unwrap();
    assert!(
        values.iter().any(|v| v == "REVIEW_STEP_PRE_SUBMIT"),
        "{values:?}"
    );
}

#[test]
fn corrections_fail_when_their_target_is_gone() {
    let mut spec: Value = serde_json::from_slice(SPEC).unwrap();
    spec["components"]["schemas"]["HeadlessImport"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("status");
    let error = codegen::prepare(&serde_json::to_vec(&spec).unwrap()).unwrap_err();
    assert!(
        matches!(error, codegen::CodegenError::Correction(_)),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("/components/schemas/HeadlessImport/properties/status"),
        "{error}"
    );
}

#[test]
fn every_generated_send_returns_the_crates_error() {
    let code = codegen::generate(SPEC).expect("the vendored spec generates");
    let file = syn::parse_file(&code).unwrap();
    let mut mapped = 0;
    let mut raw = 0;
    for item in &file.items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let Some((_, items)) = &module.content else {
            continue;
        };
        for item in items {
            let syn::Item::Impl(imp) = item else { continue };
            for item in &imp.items {
                let syn::ImplItem::Fn(f) = item else { continue };
                let output = &f.sig.output;
                let output = quote::quote!(#output).to_string();
                match f.sig.ident.to_string().as_str() {
                    "send" => {
                        assert!(output.contains("crate :: Error"), "{output}");
                        mapped += 1;
                    }
                    "send_unchecked" => {
                        assert!(matches!(f.vis, syn::Visibility::Restricted(_)));
                        raw += 1;
                    }
                    _ => {}
                }
            }
        }
    }
    assert_eq!((mapped, raw), (25, 25));
    // Documented error statuses hand their unread answer over, so its body is read.
    assert!(
        !code.contains("ErrorResponse"),
        "an error arm still drops the body"
    );
}
