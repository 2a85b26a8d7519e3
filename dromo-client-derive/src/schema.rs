//! `#[derive(Schema)]`: a struct with named fields as an inline schema.

use crate::attrs::{self, Dromo};
use crate::{case, options};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericArgument, PathArguments, Type};

/// What a Rust type becomes in Dromo.
enum Kind {
    /// A field type without options: its `FieldType` variant and its Dromo name.
    Plain(&'static str, &'static str),
    /// A select of the enum's options.
    Select(Type),
    /// A multi-select of the enum's options.
    MultiSelect(Type),
}

const UNSUPPORTED: &str = "unsupported field type: use String (with #[dromo(type = \"email\")] and friends), an integer or float, bool, chrono::NaiveDate/NaiveDateTime/NaiveTime, uuid::Uuid, an enum deriving dromo_client::SelectOptions, a Vec of such an enum, or an Option of any of these";

/// The one generic argument of `Option<T>` / `Vec<T>`, when `ty` is that wrapper.
fn wrapped<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// The type's last path segment's name, when it has no generic arguments.
fn plain_name(ty: &Type) -> Option<String> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    matches!(last.arguments, PathArguments::None).then(|| last.ident.to_string())
}

fn scalar(name: &str) -> Option<Kind> {
    Some(match name {
        "String" => Kind::Plain("String", "string"),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" | "f32" | "f64" => Kind::Plain("Number", "number"),
        "bool" => Kind::Plain("Checkbox", "checkbox"),
        "NaiveDate" => Kind::Plain("Date", "date"),
        "NaiveDateTime" => Kind::Plain("Datetime", "datetime"),
        "NaiveTime" => Kind::Plain("Time", "time"),
        "Uuid" => Kind::Plain("Uuid", "uuid"),
        _ => return None,
    })
}

/// The Dromo kind of a field's type, and whether it is optional.
fn classify(ty: &Type) -> syn::Result<(Kind, bool)> {
    let (ty, optional) = match wrapped(ty, "Option") {
        Some(inner) => (inner, true),
        None => (ty, false),
    };
    if let Some(kind) = plain_name(ty).as_deref().and_then(scalar) {
        return Ok((kind, optional));
    }
    if let Some(inner) = wrapped(ty, "Vec") {
        return match plain_name(inner) {
            Some(name) if scalar(&name).is_none() => Ok((Kind::MultiSelect(inner.clone()), optional)),
            _ => Err(syn::Error::new_spanned(
                ty,
                "a Vec field is a multi-select: its items must be an enum deriving dromo_client::SelectOptions",
            )),
        };
    }
    if plain_name(ty).is_some() && wrapped(ty, "Option").is_none() {
        return Ok((Kind::Select(ty.clone()), optional));
    }
    Err(syn::Error::new_spanned(ty, UNSUPPORTED))
}

fn variant_of(dromo_name: &str) -> &'static str {
    match dromo_name {
        "email" => "Email",
        "phone-number" => "PhoneNumber",
        "url" => "Url",
        "domain" => "Domain",
        "ssn" => "Ssn",
        "uuid" => "Uuid",
        "us-zip-code" => "UsZipCode",
        "us-state-territory" => "UsStateTerritory",
        "country" => "Country",
        _ => "String",
    }
}

/// One validator as a `json!` object.
fn validator_json(validator: &attrs::Validator) -> TokenStream {
    let name = &validator.name;
    let mut pairs = vec![quote! { "validate": #name }];
    if let Some((pattern, flags)) = &validator.regex {
        pairs.push(quote! { "regex": #pattern });
        if !flags.is_empty() {
            let mut options = Vec::new();
            for (flag, key) in [
                ('i', "ignoreCase"),
                ('m', "multiline"),
                ('s', "dotAll"),
                ('u', "unicode"),
            ] {
                if flags.contains(flag) {
                    options.push(quote! { #key: true });
                }
            }
            pairs.push(quote! { "regexOptions": { #(#options),* } });
        }
    }
    if let Some(min) = validator.length.0 {
        let min = Literal::u64_unsuffixed(min);
        pairs.push(quote! { "min": #min });
    }
    if let Some(max) = validator.length.1 {
        let max = Literal::u64_unsuffixed(max);
        pairs.push(quote! { "max": #max });
    }
    if !validator.fields.is_empty() {
        let fields = &validator.fields;
        pairs.push(quote! { "fields": [#(#fields),*] });
    }
    if let Some(message) = &validator.error_message {
        pairs.push(quote! { "errorMessage": #message });
    }
    quote! { ::dromo_client::__private::serde_json::json!({ #(#pairs),* }) }
}

/// Whether `pattern` with `flags` compiles as a JavaScript regex.
fn check_regex(field: &syn::Field, pattern: &str, flags: &str) -> syn::Result<()> {
    regress::Regex::with_flags(pattern, flags)
        .map(|_| ())
        .map_err(|error| {
            syn::Error::new_spanned(
                field,
                format!("the regex `{pattern}` is not a valid JavaScript regex ({error}): fix the pattern, Dromo runs it in JavaScript"),
            )
        })
}

struct Generated {
    key: String,
    tokens: TokenStream,
}

fn field_tokens(field: &syn::Field, key: String, dromo: Dromo) -> syn::Result<Generated> {
    let ident = field
        .ident
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (kind, optional) = classify(&field.ty)?;
    let label = dromo.label.clone().unwrap_or_else(|| case::label(&ident));
    let span = field.ty.span();
    let is_number = matches!(kind, Kind::Plain("Number", _));
    let is_checkbox = matches!(kind, Kind::Plain("Checkbox", _));
    let kind_name = match kind {
        Kind::Plain(_, name) => name,
        _ => "",
    };
    let mut tokens = match kind {
        Kind::Plain(variant, name) => {
            let variant = match &dromo.field_type {
                Some(lit) if name != "string" => {
                    return Err(syn::Error::new_spanned(
                        lit,
                        format!("#[dromo(type = \"...\")] applies to String fields; this field's Rust type already makes it a `{name}` field: remove the attribute or make the field a String"),
                    ))
                }
                Some(lit) => variant_of(&lit.value()),
                None => variant,
            };
            let variant = syn::Ident::new(variant, Span::call_site());
            quote! { ::dromo_client::Field::new(#key, #label, ::dromo_client::FieldType::#variant) }
        }
        Kind::Select(_) | Kind::MultiSelect(_) if dromo.field_type.is_some() => {
            return Err(syn::Error::new_spanned(
                dromo.field_type.as_ref(),
                "#[dromo(type = \"...\")] applies to String fields; this field is a select of its enum's variants: remove the attribute",
            ));
        }
        Kind::Select(ty) => quote_spanned! { span=>
            ::dromo_client::Field::select(#key, #label, <#ty as ::dromo_client::SelectOptions>::select_options())
        },
        Kind::MultiSelect(ty) => quote_spanned! { span=>
            ::dromo_client::Field::multi_select(#key, #label, <#ty as ::dromo_client::SelectOptions>::select_options())
        },
    };
    if let Some(span) = dromo.number_span {
        if !is_number {
            return Err(syn::Error::new(
                span,
                "`number`, `min` and `max` apply to number fields (integer or float Rust types): remove them or change the field's type",
            ));
        }
        let mut options = Vec::new();
        if let Some(preset) = &dromo.number {
            let preset = preset.value();
            options.push(quote! { "preset": #preset });
        }
        if let Some(min) = dromo.min {
            let min = Literal::f64_unsuffixed(min);
            options.push(quote! { "min": #min });
        }
        if let Some(max) = dromo.max {
            let max = Literal::f64_unsuffixed(max);
            options.push(quote! { "max": #max });
        }
        tokens.extend(quote! {
            .type_options(::dromo_client::__private::serde_json::json!({ #(#options),* }))
        });
    }
    if matches!(kind_name, "datetime") {
        // Dromo writes datetimes without seconds (`2022-03-27T15:20`) unless `withSeconds`,
        // and chrono's `NaiveDateTime` reads only the form with seconds.
        tokens.extend(quote! {
            .type_options(::dromo_client::__private::serde_json::json!({ "withSeconds": true }))
        });
    }
    if let Some(description) = &dromo.description {
        tokens.extend(quote! { .description(#description) });
    }
    if !dromo.alternate_matches.is_empty() {
        let matches = &dromo.alternate_matches;
        tokens.extend(quote! { .alternate_matches([#(#matches),*]) });
    }
    // A checkbox always has a value (unchecked is false), so it is never `required`.
    if (!optional && !is_checkbox) || dromo.required_message.is_some() {
        let required = attrs::Validator {
            name: "required".to_owned(),
            error_message: dromo.required_message.clone().filter(|m| !m.is_empty()),
            regex: None,
            length: (None, None),
            fields: Vec::new(),
        };
        let json = validator_json(&required);
        tokens.extend(quote! { .validator(#json) });
    }
    for validator in &dromo.validators {
        if let Some((pattern, flags)) = &validator.regex {
            check_regex(field, pattern, flags)?;
        }
        let json = validator_json(validator);
        tokens.extend(quote! { .validator(#json) });
    }
    if dromo.hidden {
        tokens.extend(quote! { .hidden(true) });
    }
    if dromo.read_only {
        tokens.extend(quote! { .read_only(true) });
    }
    Ok(Generated { key, tokens })
}

pub fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "Schema derives only for structs with named fields (one Dromo field each): for the options of a select, derive `SelectOptions`",
        ));
    };
    let Fields::Named(named) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "Schema derives only for structs with named fields: each field's name is its Dromo key",
        ));
    };
    attrs::no_container_attributes(&input.attrs)?;
    let container = attrs::serde(&input.attrs)?;
    if let Some(rule) = &container.rename_all {
        options::check_rule(rule)?;
    }
    let mut generated = Vec::new();
    let mut requirements = Vec::new();
    for field in &named.named {
        let serde = attrs::serde(&field.attrs)?;
        if let Some(span) = serde.flatten {
            return Err(syn::Error::new(
                span,
                "#[serde(flatten)] fields are not supported by derive(Schema): list the fields in this struct",
            ));
        }
        let dromo = attrs::dromo_field(&field.attrs)?;
        if serde.skip {
            continue;
        }
        let ident = field
            .ident
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let key = match (&dromo.rename, serde.rename, &container.rename_all) {
            (Some(rename), Some(serde_rename), _) if *rename != serde_rename => {
                return Err(syn::Error::new_spanned(
                    field,
                    format!("#[dromo(rename = \"{rename}\")] and #[serde(rename = \"{serde_rename}\")] disagree: serde would read the key back as `{serde_rename}`; keep one"),
                ))
            }
            (Some(rename), _, _) => rename.clone(),
            (None, Some(serde_rename), _) => serde_rename,
            (None, None, Some(rule)) => case::apply(&rule.value(), &ident, false),
            (None, None, None) => ident.trim_start_matches("r#").to_owned(),
        };
        if generated.iter().any(|g: &Generated| g.key == key) {
            return Err(syn::Error::new_spanned(
                field,
                format!("two fields have the key `{key}`: give one a #[dromo(rename = \"...\")]"),
            ));
        }
        for validator in &dromo.validators {
            requirements.extend(validator.fields.iter().cloned());
        }
        generated.push(field_tokens(field, key, dromo)?);
    }
    for key in requirements {
        if !generated.iter().any(|g| g.key == key.value()) {
            let keys: Vec<&str> = generated.iter().map(|g| g.key.as_str()).collect();
            return Err(syn::Error::new_spanned(
                &key,
                format!(
                    "no field has the key `{}`: use one of {}",
                    key.value(),
                    keys.join(", ")
                ),
            ));
        }
    }
    let fields = generated.iter().map(|g| &g.tokens);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::dromo_client::RowSchema for #ident #ty_generics #where_clause {
            fn fields() -> ::std::vec::Vec<::dromo_client::Field> {
                ::std::vec![#(#fields),*]
            }
        }
    })
}
