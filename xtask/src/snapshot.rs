//! A stable listing of the public API of the generated code, one item a line.
//!
//! `xtask/api-snapshot.txt` holds the listing for the vendored spec, so a review of a spec or
//! codegen change shows what moved in the public API. Lines are in the generated file's order:
//!
//! ```text
//! struct types::HeadlessImport derive(Clone, Debug, Deserialize, PartialEq, Serialize)
//! field types::HeadlessImport.id: Option<uuid::Uuid>
//! enum types::Foo derive(...)
//! variant types::Foo::Bar(String)
//! fn Client::list_import_schemas(&self) -> builder::ListImportSchemas<'_>
//! impl From<Foo> for String [in types]
//! ```

use anyhow::{Context, Result};
use quote::ToTokens;
use std::fmt::Write as _;

/// Where the snapshot lives, relative to the repository.
pub const SNAPSHOT_PATH: &str = "xtask/api-snapshot.txt";

/// Lists the public items of generated Rust source.
pub fn api_listing(code: &str) -> Result<String> {
    api_listing_in(code, "")
}

/// Lists the public items of generated Rust source included in module `prefix` (`sessions`
/// for the Sessions API's client, `generated::sessions`).
pub fn api_listing_in(code: &str, prefix: &str) -> Result<String> {
    let file = syn::parse_file(code).context("the generated code does not parse as Rust")?;
    let mut out = String::new();
    items(&mut out, prefix, &file.items);
    Ok(out)
}

/// The snapshot of both generated clients: the main API's items, then the Sessions API's
/// under `sessions::`.
pub fn full_listing(main_code: &str, sessions_code: &str) -> Result<String> {
    let mut out = api_listing(main_code)?;
    out.push_str(&api_listing_in(sessions_code, "sessions")?);
    Ok(out)
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn qualified(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}::{name}")
    }
}

/// Renders tokens on one line with Rust's usual spacing (`Option<String>`, `&self`, `a::b`).
pub fn tokens(t: &impl ToTokens) -> String {
    let mut s = t.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        ("& '", "&'"),
        ("& ", "&"),
        (" < ", "<"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("( ", "("),
        (" )", ")"),
        (" (", "("),
        ("[ ", "["),
        (" ]", "]"),
        (" ;", ";"),
        (" : ", ": "),
        (",>", ">"),
        ("' ", "'"),
    ] {
        s = s.replace(from, to);
    }
    // `impl Fn(A) -> B`, `-> T`, `where T: X` keep their spaces; `>=` never occurs in types.
    // `T: ::std::x` (a bound on an absolute path) lost its space to the `::` rule.
    let s = s
        .replace("->", " -> ")
        .replace("  ", " ")
        .replace(":::", ": ::");
    s.trim_end_matches(',').to_owned()
}

fn derives(attrs: &[syn::Attribute]) -> String {
    let mut names = Vec::new();
    for attr in attrs {
        if attr.path().is_ident("derive") {
            let _ = attr.parse_nested_meta(|meta| {
                names.push(tokens(&meta.path));
                Ok(())
            });
        }
    }
    if names.is_empty() {
        String::new()
    } else {
        names.sort();
        format!(" derive({})", names.join(", "))
    }
}

fn generics(g: &syn::Generics) -> String {
    if g.params.is_empty() {
        String::new()
    } else {
        tokens(g)
    }
}

fn signature(sig: &syn::Signature) -> String {
    let mut sig = sig.clone();
    // Parameter patterns (`mut value`) are not part of the API.
    for input in sig.inputs.iter_mut() {
        match input {
            syn::FnArg::Typed(pat) => {
                if let syn::Pat::Ident(ident) = pat.pat.as_mut() {
                    ident.mutability = None;
                }
            }
            // `mut self` is a pattern too; `&mut self` is part of the API and stays.
            syn::FnArg::Receiver(receiver) if receiver.reference.is_none() => {
                receiver.mutability = None
            }
            syn::FnArg::Receiver(_) => {}
        }
    }
    let inputs: Vec<String> = sig.inputs.iter().map(tokens).collect();
    let output = match &sig.output {
        syn::ReturnType::Default => String::new(),
        syn::ReturnType::Type(_, ty) => format!(" -> {}", tokens(ty)),
    };
    let where_clause = sig
        .generics
        .where_clause
        .as_ref()
        .map(|w| format!(" {}", tokens(w)))
        .unwrap_or_default();
    let asyncness = if sig.asyncness.is_some() {
        "async "
    } else {
        ""
    };
    format!(
        "{asyncness}{}{}({}){output}{where_clause}",
        sig.ident,
        generics(&sig.generics),
        inputs.join(", ")
    )
}

fn fields(out: &mut String, owner: &str, sep: &str, fields: &syn::Fields, record: &str) {
    match fields {
        syn::Fields::Named(named) => {
            for f in &named.named {
                if record == "field" && !is_pub(&f.vis) {
                    continue;
                }
                if let Some(ident) = &f.ident {
                    let _ = writeln!(out, "{record} {owner}{sep}{ident}: {}", tokens(&f.ty));
                }
            }
        }
        syn::Fields::Unnamed(unnamed) => {
            for (i, f) in unnamed.unnamed.iter().enumerate() {
                if record == "field" && !is_pub(&f.vis) {
                    continue;
                }
                let _ = writeln!(out, "{record} {owner}{sep}{i}: {}", tokens(&f.ty));
            }
        }
        syn::Fields::Unit => {}
    }
}

fn variant_shape(fields: &syn::Fields) -> String {
    match fields {
        syn::Fields::Unit => String::new(),
        syn::Fields::Unnamed(u) => {
            let types: Vec<String> = u.unnamed.iter().map(|f| tokens(&f.ty)).collect();
            format!("({})", types.join(", "))
        }
        syn::Fields::Named(n) => {
            let named: Vec<String> = n
                .named
                .iter()
                .map(|f| {
                    format!(
                        "{}: {}",
                        f.ident
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        tokens(&f.ty)
                    )
                })
                .collect();
            format!(" {{ {} }}", named.join(", "))
        }
    }
}

fn items(out: &mut String, prefix: &str, list: &[syn::Item]) {
    for item in list {
        match item {
            syn::Item::Mod(m) if is_pub(&m.vis) => {
                let path = qualified(prefix, &m.ident.to_string());
                let _ = writeln!(out, "mod {path}");
                if let Some((_, content)) = &m.content {
                    items(out, &path, content);
                }
            }
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                let path = qualified(prefix, &s.ident.to_string());
                let _ = writeln!(
                    out,
                    "struct {path}{}{}",
                    generics(&s.generics),
                    derives(&s.attrs)
                );
                fields(out, &path, ".", &s.fields, "field");
            }
            syn::Item::Enum(e) if is_pub(&e.vis) => {
                let path = qualified(prefix, &e.ident.to_string());
                let _ = writeln!(
                    out,
                    "enum {path}{}{}",
                    generics(&e.generics),
                    derives(&e.attrs)
                );
                for v in &e.variants {
                    let _ = writeln!(
                        out,
                        "variant {path}::{}{}",
                        v.ident,
                        variant_shape(&v.fields)
                    );
                }
            }
            syn::Item::Fn(f) if is_pub(&f.vis) => {
                let _ = writeln!(out, "fn {}", qualified(prefix, &signature(&f.sig)));
            }
            syn::Item::Type(t) if is_pub(&t.vis) => {
                let path = qualified(prefix, &t.ident.to_string());
                let _ = writeln!(
                    out,
                    "type {path}{} = {}",
                    generics(&t.generics),
                    tokens(&t.ty)
                );
            }
            syn::Item::Const(c) if is_pub(&c.vis) => {
                let _ = writeln!(
                    out,
                    "const {}: {}",
                    qualified(prefix, &c.ident.to_string()),
                    tokens(&c.ty)
                );
            }
            syn::Item::Trait(t) if is_pub(&t.vis) => {
                let _ = writeln!(
                    out,
                    "trait {}{}",
                    qualified(prefix, &t.ident.to_string()),
                    generics(&t.generics)
                );
            }
            syn::Item::Use(u) if is_pub(&u.vis) => {
                let tree = tokens(&u.tree);
                let scope = if prefix.is_empty() {
                    String::new()
                } else {
                    format!(" [in {prefix}]")
                };
                let _ = writeln!(out, "use {tree}{scope}");
            }
            syn::Item::Impl(i) => impl_block(out, prefix, i),
            _ => {}
        }
    }
}

fn impl_block(out: &mut String, prefix: &str, block: &syn::ItemImpl) {
    let self_ty = tokens(&block.self_ty);
    let owner = qualified(prefix, &self_ty);
    if let Some((negative, path, _)) = &block.trait_ {
        let not = if negative.is_some() { "!" } else { "" };
        let scope = if prefix.is_empty() {
            String::new()
        } else {
            format!(" [in {prefix}]")
        };
        let _ = writeln!(
            out,
            "impl{} {not}{} for {self_ty}{scope}",
            generics(&block.generics),
            tokens(path)
        );
        return;
    }
    for item in &block.items {
        match item {
            syn::ImplItem::Fn(f) if is_pub(&f.vis) => {
                let _ = writeln!(out, "fn {owner}::{}", signature(&f.sig));
            }
            syn::ImplItem::Const(c) if is_pub(&c.vis) => {
                let _ = writeln!(out, "const {owner}::{}: {}", c.ident, tokens(&c.ty));
            }
            _ => {}
        }
    }
}

/// A short, readable account of how two listings differ (for a stale snapshot).
pub fn listing_diff(expected: &str, actual: &str, max: usize) -> String {
    let expected_lines: std::collections::BTreeSet<&str> = expected.lines().collect();
    let actual_lines: std::collections::BTreeSet<&str> = actual.lines().collect();
    let mut out = String::new();
    let removed: Vec<&str> = expected
        .lines()
        .filter(|l| !actual_lines.contains(l))
        .collect();
    let added: Vec<&str> = actual
        .lines()
        .filter(|l| !expected_lines.contains(l))
        .collect();
    for (sign, lines) in [("-", &removed), ("+", &added)] {
        for l in lines.iter().take(max) {
            let _ = writeln!(out, "{sign} {l}");
        }
        if lines.len() > max {
            let _ = writeln!(out, "{sign} ... and {} more", lines.len() - max);
        }
    }
    if out.is_empty() {
        out.push_str("(same lines, different order)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_public_items_with_their_signatures() {
        let code = r#"
            pub mod types {
                #[derive(Debug, Clone, serde::Serialize)]
                pub struct Thing {
                    pub id: Option<uuid::Uuid>,
                    pub tags: ::std::vec::Vec<String>,
                    hidden: u8,
                }
                #[derive(Clone, Copy)]
                pub enum Status { New, Other(String), Named { a: u8 } }
                impl ::std::convert::From<Status> for String { fn from(s: Status) -> Self { todo!() } }
                struct Private;
            }
            pub struct Client { pub(crate) baseurl: String }
            impl Client {
                pub fn new(baseurl: &str) -> Self { todo!() }
                pub fn list_things(&self) -> builder::ListThings<'_> { todo!() }
                pub fn body<V>(mut self, value: V) -> Self where V: ::std::convert::TryInto<types::Thing>, { self }
                fn private(&self) {}
            }
            pub use types::Thing;
        "#;
        let listing = api_listing(code).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(
            listing,
            "mod types\n\
             struct types::Thing derive(Clone, Debug, serde::Serialize)\n\
             field types::Thing.id: Option<uuid::Uuid>\n\
             field types::Thing.tags: ::std::vec::Vec<String>\n\
             enum types::Status derive(Clone, Copy)\n\
             variant types::Status::New\n\
             variant types::Status::Other(String)\n\
             variant types::Status::Named { a: u8 }\n\
             impl ::std::convert::From<Status> for String [in types]\n\
             struct Client\n\
             fn Client::new(baseurl: &str) -> Self\n\
             fn Client::list_things(&self) -> builder::ListThings<'_>\n\
             fn Client::body<V>(self, value: V) -> Self where V: ::std::convert::TryInto<types::Thing>\n\
             use types::Thing\n"
        );
    }

    #[test]
    fn listing_diff_shows_removed_and_added_lines() {
        let d = listing_diff("a\nb\nc\n", "a\nc\nd\n", 10);
        assert_eq!(d, "- b\n+ d\n");
    }
}
