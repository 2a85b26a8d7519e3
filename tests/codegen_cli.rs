//! The generated `dromo api` commands (`src/codegen/cli.rs`): progenitor's CLI generator on the
//! vendored spec, with each of our fixes checked on its output.

#[allow(dead_code)]
#[path = "../src/codegen/mod.rs"]
mod codegen;

use quote::quote;

const SPEC: &[u8] = include_bytes!("../openapi.json");

fn generated() -> syn::File {
    let code = codegen::cli::generate_cli(SPEC).expect("the vendored spec generates a CLI");
    syn::parse_file(&code).expect("the generated CLI parses")
}

/// The methods of `impl Cli<T>`.
fn cli_methods(file: &syn::File) -> Vec<&syn::ImplItemFn> {
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => Some(imp),
            _ => None,
        })
        .filter(|imp| {
            let ty = &imp.self_ty;
            quote!(#ty).to_string().starts_with("Cli <")
        })
        .flat_map(|imp| &imp.items)
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) => Some(f),
            _ => None,
        })
        .collect()
}

fn spec_operations() -> usize {
    let spec: serde_json::Value = serde_json::from_slice(SPEC).unwrap();
    spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().keys())
        .filter(|key| ["get", "put", "post", "delete", "patch"].contains(&key.as_str()))
        .count()
}

fn spec_operations_with_a_body() -> usize {
    let spec: serde_json::Value = serde_json::from_slice(SPEC).unwrap();
    spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter(|operation| operation.get("requestBody").is_some())
        .count()
}

#[test]
fn every_operation_of_the_spec_is_a_command() {
    let file = generated();
    let methods = cli_methods(&file);
    let count = |prefix: &str| {
        methods
            .iter()
            .filter(|f| {
                let name = f.sig.ident.to_string();
                name.starts_with(prefix) && name != "execute"
            })
            .count()
    };
    assert_eq!(count("cli_"), spec_operations());
    assert_eq!(count("execute_"), spec_operations());
}

#[test]
fn the_error_hooks_take_the_crates_error() {
    let file = generated();
    let config = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Trait(t) if t.ident == "CliConfig" => Some(t),
            _ => None,
        })
        .expect("a CliConfig trait");
    let mut hooks = 0;
    for item in &config.items {
        let syn::TraitItem::Fn(f) = item else {
            continue;
        };
        if f.sig.ident == "error" || f.sig.ident == "list_end_error" {
            let sig = &f.sig;
            assert_eq!(
                quote!(#sig).to_string(),
                format!(
                    "fn {} (& self , value : & dromo_client :: Error)",
                    f.sig.ident
                )
            );
            hooks += 1;
        }
    }
    assert_eq!(hooks, 2);
}

#[test]
fn the_json_body_file_is_read_before_the_field_flags() {
    let file = generated();
    let mut with_body = 0;
    for method in cli_methods(&file) {
        let stmts = &method.block.stmts;
        let Some(index) = stmts.iter().position(|s| {
            let text = quote!(#s).to_string();
            text.starts_with("if let Some (value)") && text.contains("(\"json-body\")")
        }) else {
            continue;
        };
        // Right after `let mut request = ...`: the flags that follow override the file's fields.
        assert_eq!(index, 1, "{}", method.sig.ident);
        with_body += 1;
    }
    assert_eq!(with_body, spec_operations_with_a_body());
}

#[test]
fn no_unread_flag_and_no_todo_is_left() {
    let file = generated();
    let code = quote!(#file).to_string();
    assert!(!code.contains("json-body-template"));
    assert!(!code.contains("todo !"));
    // progenitor's raw error never reaches the output hooks.
    assert!(!code.contains("Error < T >"));
}
