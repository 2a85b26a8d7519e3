//! The generated client's documentation (`src/codegen/docs.rs`): no type or builder page that
//! says nothing but its name, the hand-written method to prefer named on the generated
//! operations that have one, and the generated `Client` and `Error` told apart from the crate
//! root's.

#[allow(dead_code)]
#[path = "../src/codegen/mod.rs"]
mod codegen;

const SPEC: &[u8] = include_bytes!("../openapi.json");

fn generated() -> syn::File {
    let code = codegen::generate(SPEC).expect("the vendored spec generates");
    syn::parse_file(&code).expect("the generated client parses")
}

fn docs(attrs: &[syn::Attribute]) -> String {
    codegen::docs::doc_text(attrs)
}

fn module<'a>(items: &'a [syn::Item], name: &str) -> &'a [syn::Item] {
    items
        .iter()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, i)| &i[..]),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no module `{name}`"))
}

/// `(name, docs)` of the structs and enums among `items`.
fn types(items: &[syn::Item]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some((s.ident.to_string(), docs(&s.attrs))),
            syn::Item::Enum(e) => Some((e.ident.to_string(), docs(&e.attrs))),
            _ => None,
        })
        .collect()
}

/// The doc with its name line (typify's "`Name`") and punctuation removed.
fn said(name: &str, doc: &str) -> String {
    doc.replace(&format!("`{name}`"), "")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

#[test]
fn every_generated_type_and_builder_says_what_it_is() {
    let file = generated();
    let type_items = module(&file.items, "types");
    let all = types(type_items);
    assert!(all.len() > 40, "{}", all.len());
    for (name, doc) in &all {
        assert!(
            !said(name, doc).is_empty(),
            "`types::{name}` says nothing but its name"
        );
    }
    let builders = types(module(type_items, "builder"));
    assert!(builders.len() > 30, "{}", builders.len());
    for (name, doc) in &builders {
        assert!(
            doc.contains("Builder for"),
            "`types::builder::{name}`: {doc:?}"
        );
    }
    // What the lines say: an operation's response, a component, a part of another type.
    let doc_of = |wanted: &str| {
        all.iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, doc)| doc.clone())
            .unwrap_or_else(|| panic!("no type {wanted}"))
    };
    assert!(
        doc_of("ListHeadlessImportsResponse")
            .contains("Client::list_headless_imports`](crate::generated::Client::list_headless_imports) (`GET /headless/imports/`)"),
        "{}",
        doc_of("ListHeadlessImportsResponse")
    );
    assert!(doc_of("HeadlessImport").contains("components/schemas/HeadlessImport"));
    assert!(
        doc_of("ImportSchemaFieldsItemSelectOptionsItem")
            .contains("An item of the `select_options` list of [`ImportSchemaFieldsItem`]"),
        "{}",
        doc_of("ImportSchemaFieldsItemSelectOptionsItem")
    );
    // A description the spec has is kept as it is.
    assert!(
        doc_of("SchemaSettings").contains("Import settings."),
        "{}",
        doc_of("SchemaSettings")
    );
}

#[test]
fn generated_operations_name_the_hand_written_method_to_prefer() {
    let file = generated();
    // Every `impl Client` block (progenitor writes `new` and the operations apart).
    let client_impls: Vec<&syn::ItemImpl> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let ty = &imp.self_ty;
                (quote::quote!(#ty).to_string() == "Client").then_some(imp)
            }
            _ => None,
        })
        .collect();
    let method = |name: &str| {
        client_impls
            .iter()
            .flat_map(|imp| &imp.items)
            .find_map(|item| match item {
                syn::ImplItem::Fn(f) if f.sig.ident == name => Some(docs(&f.attrs)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no method {name}"))
    };
    for (operation, preferred) in [
        ("create_headless_import", "crate::Client::create_import"),
        ("retrieve_headless_import", "crate::Client::retrieve_import"),
        ("get_headless_import_url", "crate::Client::result_url"),
        ("list_headless_imports", "crate::Client::list_imports"),
    ] {
        let doc = method(operation);
        assert!(
            doc.contains(&format!("**Prefer [`{preferred}`]**")),
            "{operation}: {doc}"
        );
    }
    // No such note where there is no hand-written counterpart.
    assert!(!method("delete_import_schema").contains("Prefer"));
    // The operation's builder carries it too.
    let builder = types(module(&file.items, "builder"))
        .into_iter()
        .find(|(name, _)| name == "CreateHeadlessImport")
        .expect("builder::CreateHeadlessImport");
    assert!(
        builder.1.contains("crate::Client::create_import"),
        "{}",
        builder.1
    );
}

#[test]
fn the_generated_client_and_error_are_told_apart_from_the_crate_roots() {
    let file = generated();
    let client = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "Client" => Some(docs(&s.attrs)),
            _ => None,
        })
        .expect("struct Client");
    assert!(
        client.contains("Not the crate root's [`Client`](crate::Client)"),
        "{client}"
    );
    let error = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Use(u) if quote::quote!(#u).to_string().ends_with(":: Error ;") => {
                Some(docs(&u.attrs))
            }
            _ => None,
        })
        .expect("pub use progenitor_client::Error, on its own");
    assert!(
        error.contains("Not the crate root's [`Error`](crate::Error)"),
        "{error}"
    );
}

#[test]
fn correction_schema_ids_are_described_as_schema_ids() {
    let doc = codegen::prepare(SPEC).unwrap();
    for method in ["get", "put", "delete"] {
        let pointer = format!("/paths/~1schemas~1{{id}}~1/{method}/parameters/0/description");
        assert_eq!(
            doc.pointer(&pointer),
            Some(&serde_json::json!("Import schema ID")),
            "{pointer}"
        );
    }
}
