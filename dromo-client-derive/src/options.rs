//! `#[derive(SelectOptions)]`: a fieldless enum's variants as the options of a select field.

use crate::{attrs, case};
use quote::quote;
use syn::{Data, DeriveInput, Fields};

pub fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "SelectOptions derives only for enums whose variants have no fields: for a struct, derive `Schema`",
        ));
    };
    attrs::no_container_attributes(&input.attrs)?;
    let rename_all = attrs::serde(&input.attrs)?.rename_all;
    if let Some(rule) = &rename_all {
        check_rule(rule)?;
    }
    let mut options = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                "a select option cannot hold data: make this a variant without fields (Dromo stores the option's value, a string)",
            ));
        }
        let serde = attrs::serde(&variant.attrs)?;
        if serde.skip {
            continue;
        }
        let name = variant.ident.to_string();
        let value = match (serde.rename, &rename_all) {
            (Some(rename), _) => rename,
            (None, Some(rule)) => case::apply(&rule.value(), &name, true),
            (None, None) => name.clone(),
        };
        let label = attrs::dromo_variant(&variant.attrs)?.unwrap_or_else(|| case::label(&name));
        options.push(quote! { ::dromo_client::SelectOption::new(#label, #value) });
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::dromo_client::SelectOptions for #ident #ty_generics #where_clause {
            fn select_options() -> ::std::vec::Vec<::dromo_client::SelectOption> {
                ::std::vec![#(#options),*]
            }
        }
    })
}

/// A `rename_all` rule serde knows, or an error listing them.
pub fn check_rule(rule: &syn::LitStr) -> syn::Result<()> {
    if case::RULES.contains(&rule.value().as_str()) {
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            rule,
            format!(
                "unknown rename_all rule: use one of {}",
                case::RULES.join(", ")
            ),
        ))
    }
}
