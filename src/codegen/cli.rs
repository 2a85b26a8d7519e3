//! progenitor's generated `clap` CLI (`Generator::cli`): one subcommand per operation, for the
//! `dromo api` command of the binary (feature `cli`), written to `$OUT_DIR/generated_cli.rs`.
//!
//! The CLI is generated from the same prepared spec and the same settings as the client (with
//! `schemars::JsonSchema` derived, which the CLI's output trait requires), so a spec update
//! brings its commands with it. progenitor's output is then fixed by the syntax passes below,
//! each saying what it fixes and why; the binary implements the generated `CliConfig` trait
//! (JSON on stdout, the crate's one-line errors on stderr).

use crate::codegen::{catch_panics, parse, settings, CodegenError, Spec};
use quote::quote;

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
