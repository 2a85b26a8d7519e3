//! progenitor's generated `clap` CLI (`Generator::cli`): one subcommand per operation, for the
//! `dromo api` command of the binary (feature `cli`), written to `$OUT_DIR/generated_cli.rs`.
//!
//! The CLI is generated from the same prepared spec and the same settings as the client (with
//! `schemars::JsonSchema` derived, which the CLI's output trait requires), so a spec update
//! brings its commands with it. progenitor's output is then fixed by the syntax passes below,
//! each saying what it fixes and why; the binary implements the generated `CliConfig` trait
//! (JSON on stdout, the crate's one-line errors on stderr).

use crate::codegen::docs::snake_case;
use crate::codegen::{catch_panics, parse, prepare_spec, settings, CodegenError, Spec};
use quote::quote;
use serde_json::Value;
use std::collections::HashMap;

/// The path under which the CLI reaches the generated client (`Client`, `builder`, `types`).
const CLIENT_PATH: &str = "dromo_client::generated";

/// Runs the pipeline for the CLI of the main spec and returns formatted Rust source.
pub fn generate_cli(spec: &[u8]) -> Result<String, CodegenError> {
    generate_spec_cli(spec, Spec::Main)
}

/// Runs the pipeline for the CLI of `which` spec: the same fixes for both.
pub fn generate_spec_cli(spec: &[u8], which: Spec) -> Result<String, CodegenError> {
    let openapi = parse(spec, which)?;
    let mut generator = progenitor::Generator::new(&settings(true));
    let tokens = catch_panics(|| generator.cli(&openapi, which.module_path()))?;
    let mut file =
        syn::parse2::<syn::File>(tokens).map_err(|e| CodegenError::Format(e.to_string()))?;
    fix(&mut file).map_err(CodegenError::Generate)?;
    every_flag_described(&mut file, &prepare_spec(spec, which)?).map_err(CodegenError::Generate)?;
    Ok(prettyplease::unparse(&file))
}

/// Every fix, in order. Each fails (naming what it expected) if progenitor's output no longer
/// has the shape it was written for, rather than leaving a command silently unfixed.
fn fix(file: &mut syn::File) -> Result<(), String> {
    // The whole file as text, once, for the checks that read it.
    let code = quote!(#file).to_string();
    no_unimplemented_responses(&code)?;
    error_hooks_take_crate_error(file)?;
    json_body_before_field_flags(file)?;
    no_unread_template_flag(file, &code)?;
    Ok(())
}

/// progenitor emits a `todo` macro call for responses it cannot print (a raw byte stream, an
/// upgrade): such a command would panic at run time. None of the spec's operations has one today;
/// if an update brings one, generation stops here so its command gets hand-written handling.
fn no_unimplemented_responses(code: &str) -> Result<(), String> {
    if code.contains("todo !") {
        return Err(
            "progenitor's CLI left a `todo` placeholder (a response that is not JSON): the \
             command would panic; handle that operation by hand"
                .to_owned(),
        );
    }
    Ok(())
}

/// The generated `send` returns `dromo_client::Error` (see `errors.rs`), but progenitor's
/// `CliConfig::error` and `list_end_error` take progenitor's `Error<T>`: the generated code would
/// not compile. Both hooks are rewritten to take the crate's error, so the binary prints its
/// one-line message.
fn error_hooks_take_crate_error(file: &mut syn::File) -> Result<(), String> {
    let crate_error: syn::Path = syn::parse_str(&format!("{}::Error", crate_name()))
        .map_err(|e| format!("bad crate path: {e}"))?;
    let config = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Trait(t) if t.ident == "CliConfig" => Some(t),
            _ => None,
        })
        .ok_or("the generated CLI has no `CliConfig` trait")?;
    let mut rewritten = 0;
    for item in &mut config.items {
        let syn::TraitItem::Fn(hook) = item else {
            continue;
        };
        let name = hook.sig.ident.clone();
        if name == "error" || name == "list_end_error" {
            *hook = syn::parse_quote!(fn #name(&self, value: &#crate_error););
            rewritten += 1;
        }
    }
    if rewritten != 2 {
        return Err(format!(
            "`CliConfig` has {rewritten} of its two error hooks (`error`, `list_end_error`)"
        ));
    }
    Ok(())
}

/// progenitor applies the per-field flags (`--name x`) to the body first and `--json-body FILE`
/// last, replacing the whole body: a flag given with `--json-body` is silently dropped. The
/// `--json-body` statement is moved right after the builder is made, so the file is the base and
/// the flags override its fields.
fn json_body_before_field_flags(file: &mut syn::File) -> Result<(), String> {
    let mut moved = 0;
    for method in cli_methods(file)? {
        if !method.sig.ident.to_string().starts_with("execute_") {
            continue;
        }
        let stmts = &mut method.block.stmts;
        let is_json_body = |stmt: &syn::Stmt| {
            let text = quote!(#stmt).to_string();
            text.starts_with("if let Some (value)") && text.contains("(\"json-body\")")
        };
        let Some(index) = stmts.iter().position(is_json_body) else {
            continue;
        };
        let first = stmts.first().map(|s| quote!(#s).to_string());
        if !first.is_some_and(|s| s.starts_with("let mut request")) {
            return Err(format!(
                "`{}` does not start with `let mut request = ...`",
                method.sig.ident
            ));
        }
        let statement = stmts.remove(index);
        stmts.insert(1, statement);
        moved += 1;
    }
    if moved == 0 {
        return Err("no command reads `--json-body`".to_owned());
    }
    Ok(())
}

/// progenitor registers a `--json-body-template` flag (help text "XXX") on every command with a
/// body, but no generated code reads it: the flag would be accepted and do nothing. It is removed
/// from each command's `clap::Command`.
fn no_unread_template_flag(file: &mut syn::File, code: &str) -> Result<(), String> {
    if code.contains("get_flag (\"json-body-template\")") {
        return Err("progenitor now reads `--json-body-template`: drop this fix".to_owned());
    }
    /// Drops `.arg(<the template flag>)` links from a `clap::Command::new("").arg(..)...` chain.
    fn remove_from_chain(expr: &mut syn::Expr) -> usize {
        let syn::Expr::MethodCall(call) = expr else {
            return 0;
        };
        let mut removed = remove_from_chain(&mut call.receiver);
        let arg = &call.args;
        if call.method == "arg"
            && quote!(#arg)
                .to_string()
                .contains("Arg :: new (\"json-body-template\")")
        {
            *expr = (*call.receiver).clone();
            removed += 1;
        }
        removed
    }
    let mut removed = 0;
    for method in cli_methods(file)? {
        if !method.sig.ident.to_string().starts_with("cli_") {
            continue;
        }
        if let Some(syn::Stmt::Expr(chain, None)) = method.block.stmts.last_mut() {
            removed += remove_from_chain(chain);
        }
    }
    if removed == 0 {
        return Err("no command has a `--json-body-template` flag".to_owned());
    }
    Ok(())
}

/// progenitor gives a flag the spec's description of its parameter or body property, and none
/// where the spec has none (13 flags today, e.g. `create-import-schema --name`): `--help` would
/// list them bare. Each such flag gets a help line saying what it sets, from the spec: where it
/// goes (path, query, body) and its type; a flag the spec cannot be matched to says that the spec
/// does not describe it.
fn every_flag_described(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let fallbacks = fallback_help(doc);
    /// Adds help to the `.arg(..)` links of a `clap::Command::new("")...` chain that have none.
    fn describe(expr: &mut syn::Expr, method: &str, fallbacks: &HashMap<(String, String), String>) {
        let syn::Expr::MethodCall(call) = expr else {
            return;
        };
        describe(&mut call.receiver, method, fallbacks);
        if call.method != "arg" {
            return;
        }
        let Some(arg) = call.args.first_mut() else {
            return;
        };
        let text = quote!(#arg).to_string();
        if text.contains(". help (") {
            return;
        }
        let flag = text
            .split_once("Arg :: new (\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(flag, _)| flag.to_owned())
            .unwrap_or_default();
        let help = fallbacks
            .get(&(method.to_owned(), flag.clone()))
            .cloned()
            .unwrap_or_else(|| format!("`{flag}` (the spec does not describe it)."));
        *arg = syn::parse_quote!(#arg.help(#help));
    }
    let mut found = false;
    for method in cli_methods(file)? {
        let name = method.sig.ident.to_string();
        let Some(operation) = name.strip_prefix("cli_") else {
            continue;
        };
        if let Some(syn::Stmt::Expr(chain, None)) = method.block.stmts.last_mut() {
            describe(chain, operation, &fallbacks);
            found = true;
        }
    }
    if !found {
        return Err("no `cli_*` method ends with its `clap::Command`".to_owned());
    }
    Ok(())
}

/// A help line for every parameter and body property of every operation, keyed by
/// `(operation id in snake_case, flag name)`: `The `id` path parameter (a UUID).`
fn fallback_help(doc: &Value) -> HashMap<(String, String), String> {
    let mut help = HashMap::new();
    let resolve = |value: &Value| -> Option<Value> {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => doc.pointer(reference.trim_start_matches('#')).cloned(),
            None => Some(value.clone()),
        }
    };
    let type_of = |schema: &Value| -> String {
        let schema = resolve(schema).unwrap_or(Value::Null);
        match (
            schema.get("type").and_then(Value::as_str),
            schema.get("format").and_then(Value::as_str),
        ) {
            (_, Some("uuid")) => "a UUID".to_owned(),
            (Some("string"), _) => "text".to_owned(),
            (Some(kind), _) => format!("a {kind}"),
            (None, _) => "JSON".to_owned(),
        }
    };
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return help;
    };
    for item in paths.values() {
        let shared = item.get("parameters").and_then(Value::as_array);
        let Some(item) = item.as_object() else {
            continue;
        };
        for operation in item.values() {
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let id = snake_case(id);
            let own = operation.get("parameters").and_then(Value::as_array);
            for parameter in shared.into_iter().chain(own).flatten() {
                let Some(parameter) = resolve(parameter) else {
                    continue;
                };
                let (Some(name), Some(place)) = (
                    parameter.get("name").and_then(Value::as_str),
                    parameter.get("in").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let kind = type_of(parameter.get("schema").unwrap_or(&Value::Null));
                help.insert(
                    (id.clone(), flag_name(name)),
                    format!("The `{name}` {place} parameter ({kind})."),
                );
            }
            let body = operation
                .pointer("/requestBody/content/application~1json/schema")
                .and_then(resolve);
            let properties = body
                .as_ref()
                .and_then(|body| body.get("properties"))
                .and_then(Value::as_object);
            for (name, schema) in properties.into_iter().flatten() {
                help.insert(
                    (id.clone(), flag_name(name)),
                    format!(
                        "Sets `{name}` in the request body ({}); overrides --json-body's.",
                        type_of(schema)
                    ),
                );
            }
        }
    }
    help
}

/// `original_filename`, `authType` → `original-filename`, `auth-type` (progenitor's flags).
fn flag_name(name: &str) -> String {
    snake_case(name).replace('_', "-")
}

/// The methods of `impl Cli`: `cli_*` (each command's flags) and `execute_*` (each command).
fn cli_methods(file: &mut syn::File) -> Result<Vec<&mut syn::ImplItemFn>, String> {
    let imp = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                let self_ty = &imp.self_ty;
                quote!(#self_ty)
                    .to_string()
                    .starts_with("Cli <")
                    .then_some(imp)
            }
            _ => None,
        })
        .ok_or("the generated CLI has no `impl Cli`")?;
    Ok(imp
        .items
        .iter_mut()
        .filter_map(|item| match item {
            syn::ImplItem::Fn(f) => Some(f),
            _ => None,
        })
        .collect())
}

/// The crate the CLI is compiled against (the first segment of [`CLIENT_PATH`]).
fn crate_name() -> &'static str {
    CLIENT_PATH.split("::").next().unwrap_or(CLIENT_PATH)
}
