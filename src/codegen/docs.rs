//! The generated client's documentation: what progenitor and typify leave bare is described.
//!
//! typify documents a type with its schema's description, and with nothing but its own name
//! where the spec has none (most of Dromo's schemas); the builders of the types get no doc at
//! all. This pass gives every such item a line saying what it is, from the spec (which
//! operation answers or takes it, which type it is part of), points each generated operation
//! that has a hand-written counterpart at the method to prefer, and tells the generated `Client`
//! and `Error` apart from the crate root's.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Generated operations with a hand-written counterpart: `(operation, method, why)`.
const PREFER: &[(&str, &str, &str)] = &[
    (
        "create_headless_import",
        "create_import",
        "checks the request before sending (`schema_id` or `fields`, a file or rows) and \
         explains the refusals",
    ),
    (
        "retrieve_headless_import",
        "retrieve_import",
        "retries what can be retried; `wait_for_import` polls at Dromo's pace",
    ),
    (
        "get_headless_import_url",
        "result_url",
        "checks the URL; `fetch_results` and `stream_results` fetch the rows themselves",
    ),
    (
        "list_headless_imports",
        "list_imports",
        "pages through the whole list as a stream",
    ),
    (
        "list_uploads",
        "list_uploads",
        "pages through the whole list as a stream",
    ),
    (
        "list_import_schemas",
        "list_schemas",
        "returns a stream like the other lists",
    ),
    (
        "list_sftp_credentials",
        "list_sftp_credentials",
        "returns a stream like the other lists",
    ),
    (
        "list_sftp_connectors",
        "list_sftp_connectors",
        "returns a stream like the other lists",
    ),
];

const CLIENT_NOTE: &str = "\n\n**Not the crate root's [`Client`](crate::Client).** This is \
progenitor's client: one method per operation of the spec, with no checks beyond the types. \
Most code wants [`crate::Client`], which wraps this one (its \
[`api()`](crate::Client::api) returns it) and adds the checks, retries, uploads and waiting.";

const ERROR_NOTE: &str = "progenitor's error type, as the generated code names it. **Not the \
crate root's [`Error`](crate::Error):** every generated `send` returns [`crate::Error`] (see \
`src/codegen/errors.rs`), so user code meets only that one.";

/// Documents the generated client file. `doc` is the prepared spec (as progenitor saw it).
pub fn document(file: &mut syn::File, doc: &Value) -> Result<(), String> {
    let spec = Spec::read(doc);
    let mut found_client = false;
    let mut found_error = false;
    let mut items = Vec::with_capacity(file.items.len());
    for item in std::mem::take(&mut file.items) {
        match item {
            syn::Item::Use(used) if is_progenitor_reexport(&used) => {
                let (error, rest) = split_error(used)?;
                items.push(syn::Item::Use(rest));
                items.push(syn::Item::Use(error));
                found_error = true;
            }
            syn::Item::Struct(mut client) if client.ident == "Client" => {
                append_doc(&mut client.attrs, CLIENT_NOTE);
                found_client = true;
                items.push(syn::Item::Struct(client));
            }
            syn::Item::Impl(mut imp) if is_client_impl(&imp) => {
                for item in &mut imp.items {
                    if let syn::ImplItem::Fn(method) = item {
                        prefer(&method.sig.ident.to_string(), &mut method.attrs);
                    }
                }
                items.push(syn::Item::Impl(imp));
            }
            syn::Item::Mod(mut module) if module.ident == "types" => {
                document_types(&mut module, &spec);
                items.push(syn::Item::Mod(module));
            }
            syn::Item::Mod(mut module) if module.ident == "builder" => {
                for item in module.content.iter_mut().flat_map(|(_, items)| items) {
                    if let syn::Item::Struct(builder) = item {
                        let operation = snake_case(&builder.ident.to_string());
                        prefer(&operation, &mut builder.attrs);
                    }
                }
                items.push(syn::Item::Mod(module));
            }
            other => items.push(other),
        }
    }
    file.items = items;
    if !found_client || !found_error {
        return Err("the generated client has no `Client` struct or no `Error` re-export".into());
    }
    Ok(())
}

/// What the docs need from the spec: the component schemas and each operation's types.
struct Spec {
    /// Component schema names.
    components: BTreeSet<String>,
    /// `OperationIdResponse`/`OperationIdBody` (as typify names them) → `(operation, what)`.
    inline: BTreeMap<String, (String, &'static str)>,
    /// Every operation, as `METHOD /path`, by snake-case id.
    operations: BTreeMap<String, String>,
}

impl Spec {
    fn read(doc: &Value) -> Spec {
        let components = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|schemas| schemas.keys().cloned().collect())
            .unwrap_or_default();
        let mut inline = BTreeMap::new();
        let mut operations = BTreeMap::new();
        let paths = doc.get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, operation) in item {
                let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                let snake = snake_case(id);
                let pascal = pascal_case(&snake);
                inline.insert(
                    format!("{pascal}Response"),
                    (snake.clone(), "The body of a successful response of"),
                );
                inline.insert(
                    format!("{pascal}Body"),
                    (snake.clone(), "The request body of"),
                );
                operations.insert(snake, format!("{} {path}", method.to_uppercase()));
            }
        }
        Spec {
            components,
            inline,
            operations,
        }
    }

    /// A line saying what the type `name` is, for a type the spec does not describe.
    fn describe(&self, name: &str, known: &BTreeSet<String>) -> String {
        if let Some((operation, what)) = self.inline.get(name) {
            let route = self.operations.get(operation).cloned().unwrap_or_default();
            return format!(
                "{what} [`Client::{operation}`](crate::generated::Client::{operation}) \
                 (`{route}`)."
            );
        }
        if self.components.contains(name) {
            return format!(
                "Dromo's `{name}` object: the spec's `components/schemas/{name}`, which has no \
                 description."
            );
        }
        // A type typify made for part of another: the longest known name it starts with.
        let parent = known
            .iter()
            .filter(|other| other.as_str() != name && name.starts_with(other.as_str()))
            .max_by_key(|other| other.len());
        if let Some(parent) = parent {
            let rest = &name[parent.len()..];
            return match rest.strip_suffix("Item") {
                Some(list) => format!(
                    "An item of the `{}` list of [`{parent}`].",
                    snake_case(list)
                ),
                None => format!("The `{}` property of [`{parent}`].", snake_case(rest)),
            };
        }
        format!("The spec's `{name}` type (no description in the spec).")
    }
}

/// The `types` module: bare types and their builders get a line.
fn document_types(module: &mut syn::ItemMod, spec: &Spec) {
    let Some((_, items)) = module.content.as_mut() else {
        return;
    };
    let known: BTreeSet<String> = items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            _ => None,
        })
        .collect();
    for item in items.iter_mut() {
        match item {
            syn::Item::Struct(s) => {
                describe_if_bare(&mut s.attrs, &s.ident.to_string(), spec, &known)
            }
            syn::Item::Enum(e) => {
                describe_if_bare(&mut e.attrs, &e.ident.to_string(), spec, &known)
            }
            syn::Item::Mod(builders) if builders.ident == "builder" => {
                for item in builders.content.iter_mut().flat_map(|(_, items)| items) {
                    if let syn::Item::Struct(builder) = item {
                        if doc_text(&builder.attrs).trim().is_empty() {
                            let name = builder.ident.to_string();
                            let line = format!(
                                "Builder for [`{name}`](super::{name}): set its properties one \
                                 at a time, then convert it with `try_into()` (or \
                                 `{name}::try_from`), which names a property that is missing \
                                 or invalid."
                            );
                            append_doc(&mut builder.attrs, &line);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Adds a description to a type whose doc is empty or only its name.
fn describe_if_bare(
    attrs: &mut Vec<syn::Attribute>,
    name: &str,
    spec: &Spec,
    known: &BTreeSet<String>,
) {
    let text = doc_text(attrs);
    let bare = text.trim().is_empty() || text.trim() == format!("`{name}`");
    if bare {
        append_doc(attrs, &format!("\n\n{}", spec.describe(name, known)));
    }
}

/// Adds "prefer the hand-written method" to the docs of a generated operation (the method or
/// its builder).
fn prefer(operation: &str, attrs: &mut Vec<syn::Attribute>) {
    if let Some((_, method, why)) = PREFER.iter().find(|(op, _, _)| *op == operation) {
        append_doc(
            attrs,
            &format!(
                "\n\n**Prefer [`crate::Client::{method}`]**, which {why}. This generated call \
                 sends the request as given."
            ),
        );
    }
}

/// The item's doc text, all its `#[doc]` attributes joined (also read by the docs' tests).
pub fn doc_text(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value:
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(text),
                        ..
                    }),
                ..
            }) => Some(text.value()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Appends `text` to the item's docs (after any it has), as one more `#[doc]` attribute.
fn append_doc(attrs: &mut Vec<syn::Attribute>, text: &str) {
    let position = attrs
        .iter()
        .rposition(|attr| attr.path().is_ident("doc"))
        .map_or(0, |last| last + 1);
    attrs.insert(position, syn::parse_quote!(#[doc = #text]));
}

fn is_progenitor_reexport(used: &syn::ItemUse) -> bool {
    matches!(used.vis, syn::Visibility::Public(_))
        && quote::quote!(#used)
            .to_string()
            .contains("progenitor_client")
}

/// `pub use progenitor_client::{A, Error, B};` → (`pub use progenitor_client::Error;` with the
/// note, `pub use progenitor_client::{A, B};`).
fn split_error(used: syn::ItemUse) -> Result<(syn::ItemUse, syn::ItemUse), String> {
    let syn::UseTree::Path(path) = &used.tree else {
        return Err("the progenitor re-export is not `progenitor_client::...`".into());
    };
    let syn::UseTree::Group(group) = &*path.tree else {
        return Err("the progenitor re-export is not a group".into());
    };
    let is_error =
        |tree: &syn::UseTree| matches!(tree, syn::UseTree::Name(n) if n.ident == "Error");
    if !group.items.iter().any(is_error) {
        return Err("the progenitor re-export has no `Error`".into());
    }
    let rest: Vec<&syn::UseTree> = group.items.iter().filter(|t| !is_error(t)).collect();
    let crate_name = &path.ident;
    let mut without: syn::ItemUse = syn::parse_quote!(pub use #crate_name::{#(#rest),*};);
    without.attrs = used.attrs.clone();
    let mut error: syn::ItemUse = syn::parse_quote!(pub use #crate_name::Error;);
    append_doc(&mut error.attrs, ERROR_NOTE);
    Ok((error, without))
}

fn is_client_impl(imp: &syn::ItemImpl) -> bool {
    let self_ty = &imp.self_ty;
    imp.trait_.is_none() && quote::quote!(#self_ty).to_string() == "Client"
}

/// `listHeadlessImports`, `ListHeadlessImports` → `list_headless_imports`, `getURLs` →
/// `get_urls` (as heck, which progenitor uses, splits words).
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == '_' || c == ' ' {
            if !out.ends_with('_') {
                out.push('_');
            }
            continue;
        }
        let previous = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let starts_word = c.is_uppercase()
            && previous.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
            });
        if starts_word && !out.ends_with('_') {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// `list_headless_imports` → `ListHeadlessImports`.
fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}
