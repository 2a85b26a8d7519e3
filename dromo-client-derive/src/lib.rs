//! Derive macros of `dromo-client` (feature `derive`): `#[derive(Schema)]` makes a struct the
//! inline schema of an import, `#[derive(SelectOptions)]` makes a fieldless enum the options of a
//! select field. Use them through `dromo_client` (`#[derive(dromo_client::Schema)]`); the
//! attributes are documented on `dromo_client::RowSchema`.

mod attrs;
mod case;
mod options;
mod schema;

use proc_macro::TokenStream;

/// Implements `dromo_client::RowSchema` for a struct with named fields: its inline schema, one
/// field per struct field, keyed as serde reads the struct back.
#[proc_macro_derive(Schema, attributes(dromo))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    schema::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `dromo_client::SelectOptions` for a fieldless enum: one option per variant, its
/// value the name serde writes, its label `#[dromo(label = "...")]` or the variant in words.
#[proc_macro_derive(SelectOptions, attributes(dromo))]
pub fn derive_select_options(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    options::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
