//! The attributes the derives read: `#[dromo(...)]` and the parts of `#[serde(...)]` that change
//! the keys serde reads back (`rename`, `rename_all`, `skip`, `skip_deserializing`, `flatten`).

use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitStr, Token};

/// The dromo field types a string-like Rust type may be given with `#[dromo(type = "...")]`.
pub const STRING_TYPES: &[&str] = &[
    "string",
    "email",
    "phone-number",
    "url",
    "domain",
    "ssn",
    "uuid",
    "us-zip-code",
    "us-state-territory",
    "country",
];

/// Dromo's number presets (`field-types.mdx`).
pub const NUMBER_PRESETS: &[&str] = &[
    "default",
    "percent",
    "percent_0",
    "percent_1",
    "percent_2",
    "percent_3",
    "percent_4",
    "decimal_0",
    "decimal_1",
    "decimal_2",
    "decimal_3",
    "decimal_4",
    "integer",
    "plain",
    "usd",
    "usd_accounting",
    "eur",
    "gbp",
];

/// The attributes of a field of the serde container.
#[derive(Default)]
pub struct Serde {
    /// `rename = "..."` or `rename(deserialize = "...")`.
    pub rename: Option<String>,
    /// `rename_all = "..."` or `rename_all(deserialize = "...")` (containers).
    pub rename_all: Option<LitStr>,
    /// `skip` or `skip_deserializing`.
    pub skip: bool,
    /// `flatten`.
    pub flatten: Option<proc_macro2::Span>,
}

/// Consumes a serde item this derive does not need (`default = "..."`, `with = "..."`...).
fn skip_item(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_item(&inner))?;
    }
    Ok(())
}

/// `rename = "x"` or `rename(serialize = "y", deserialize = "x")`: the name serde reads back.
fn deserialize_name(meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let mut name = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("deserialize") {
            name = Some(inner.value()?.parse()?);
        } else {
            skip_item(&inner)?;
        }
        Ok(())
    })?;
    Ok(name)
}

/// The serde attributes among `attrs`.
pub fn serde(attrs: &[Attribute]) -> syn::Result<Serde> {
    let mut out = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if let Some(name) = deserialize_name(&meta)? {
                    out.rename = Some(name.value());
                }
            } else if meta.path.is_ident("rename_all") {
                out.rename_all = deserialize_name(&meta)?;
            } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_deserializing") {
                out.skip = true;
            } else if meta.path.is_ident("flatten") {
                out.flatten = Some(
                    meta.path
                        .get_ident()
                        .map_or_else(proc_macro2::Span::call_site, proc_macro2::Ident::span),
                );
            } else {
                skip_item(&meta)?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// One validator given by attribute, with its optional `error_message`.
pub struct Validator {
    /// The Dromo validator name, e.g. `unique`, `regex_match`, `require_with`.
    pub name: String,
    /// `errorMessage`.
    pub error_message: Option<String>,
    /// `regex`, with its flags.
    pub regex: Option<(String, String)>,
    /// `length`'s `min` and `max`.
    pub length: (Option<u64>, Option<u64>),
    /// `require_with...`'s keys (with their spans, to point at an unknown one).
    pub fields: Vec<LitStr>,
}

impl Validator {
    fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            error_message: None,
            regex: None,
            length: (None, None),
            fields: Vec::new(),
        }
    }
}

/// The `#[dromo(...)]` attributes of a field.
#[derive(Default)]
pub struct Dromo {
    pub rename: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    /// `type = "email"`, with the literal to point at.
    pub field_type: Option<LitStr>,
    pub number: Option<LitStr>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// `required(error_message = "...")`.
    pub required_message: Option<String>,
    pub validators: Vec<Validator>,
    pub alternate_matches: Vec<String>,
    pub hidden: bool,
    pub read_only: bool,
    /// The span of the first number option (`number`, `min`, `max`), to point at it.
    pub number_span: Option<proc_macro2::Span>,
}

const FIELD_ATTRIBUTES: &str = "rename, label, description, type, number, min, max, required, unique, unique_case_insensitive, regex, length, required_with, required_without, required_with_all, required_without_all, alternate_matches, hidden, read_only";

fn number(meta: &ParseNestedMeta) -> syn::Result<f64> {
    let expr: syn::Expr = meta.value()?.parse()?;
    let (negative, lit) = match &expr {
        syn::Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => (true, &**expr),
        other => (false, other),
    };
    let value = match lit {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<f64>()?,
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>()?,
        _ => {
            return Err(syn::Error::new_spanned(
                &expr,
                "expected a number literal, e.g. `min = 0` or `max = 99.5`",
            ))
        }
    };
    Ok(if negative { -value } else { value })
}

fn string(meta: &ParseNestedMeta) -> syn::Result<String> {
    Ok(meta.value()?.parse::<LitStr>()?.value())
}

/// `name` or `name(error_message = "...")`.
fn plain_validator(meta: &ParseNestedMeta, name: &str) -> syn::Result<Validator> {
    let mut validator = Validator::named(name);
    if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| {
            if inner.path.is_ident("error_message") {
                validator.error_message = Some(string(&inner)?);
                Ok(())
            } else {
                Err(inner.error(format!(
                    "unknown option of `{name}`: only `error_message = \"...\"` is allowed"
                )))
            }
        })?;
    }
    Ok(validator)
}

/// `regex = "..."` or `regex(pattern = "...", flags = "i", error_message = "...")`.
fn regex_validator(meta: &ParseNestedMeta) -> syn::Result<Validator> {
    let mut validator = Validator::named("regex_match");
    if meta.input.peek(Token![=]) {
        validator.regex = Some((string(meta)?, String::new()));
        return Ok(validator);
    }
    let (mut pattern, mut flags) = (None, String::new());
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("pattern") {
            pattern = Some(string(&inner)?);
        } else if inner.path.is_ident("flags") {
            let lit: LitStr = inner.value()?.parse()?;
            if let Some(bad) = lit.value().chars().find(|c| !"imsu".contains(*c)) {
                return Err(syn::Error::new_spanned(
                    &lit,
                    format!("unknown regex flag `{bad}`: Dromo takes the JavaScript flags i (ignoreCase), m (multiline), s (dotAll) and u (unicode)"),
                ));
            }
            flags = lit.value();
        } else if inner.path.is_ident("exclude") {
            validator.name = "regex_exclude".to_owned();
        } else if inner.path.is_ident("error_message") {
            validator.error_message = Some(string(&inner)?);
        } else {
            return Err(inner.error(
                "unknown option of `regex`: use `pattern = \"...\"`, `flags = \"i\"`, `exclude` or `error_message = \"...\"`",
            ));
        }
        Ok(())
    })?;
    let Some(pattern) = pattern else {
        return Err(meta.error("`regex(...)` needs `pattern = \"...\"`"));
    };
    validator.regex = Some((pattern, flags));
    Ok(validator)
}

/// `length(min = 1, max = 20, error_message = "...")`.
fn length_validator(meta: &ParseNestedMeta) -> syn::Result<Validator> {
    let mut validator = Validator::named("length");
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("min") || inner.path.is_ident("max") {
            let lit: syn::LitInt = inner.value()?.parse()?;
            let value: u64 = lit.base10_parse()?;
            if value == 0 {
                return Err(syn::Error::new_spanned(
                    &lit,
                    "Dromo's length bounds must be above 0: leave the bound out instead",
                ));
            }
            if inner.path.is_ident("min") {
                validator.length.0 = Some(value);
            } else {
                validator.length.1 = Some(value);
            }
        } else if inner.path.is_ident("error_message") {
            validator.error_message = Some(string(&inner)?);
        } else {
            return Err(inner.error(
                "unknown option of `length`: use `min = 1`, `max = 20` or `error_message = \"...\"`",
            ));
        }
        Ok(())
    })?;
    if validator.length == (None, None) {
        return Err(meta.error("`length(...)` needs `min = ..`, `max = ..` or both"));
    }
    Ok(validator)
}

/// `required_with("email", "phone", error_message = "...")`: keys of other fields.
fn require_validator(meta: &ParseNestedMeta, name: &str) -> syn::Result<Validator> {
    let mut validator = Validator::named(name);
    let content;
    syn::parenthesized!(content in meta.input);
    while !content.is_empty() {
        if content.peek(LitStr) {
            validator.fields.push(content.parse()?);
        } else {
            let ident: syn::Ident = content.parse()?;
            if ident != "error_message" {
                return Err(syn::Error::new_spanned(
                    &ident,
                    "expected the keys of other fields (`\"email\"`) or `error_message = \"...\"`",
                ));
            }
            content.parse::<Token![=]>()?;
            validator.error_message = Some(content.parse::<LitStr>()?.value());
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    if validator.fields.is_empty() {
        return Err(meta.error("name at least one other field's key, e.g. `(\"email\")`"));
    }
    Ok(validator)
}

/// The `#[dromo(...)]` attributes of a struct field.
pub fn dromo_field(attrs: &[Attribute]) -> syn::Result<Dromo> {
    let mut out = Dromo::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("dromo")) {
        attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            let name = path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match name.as_str() {
                "rename" => out.rename = Some(string(&meta)?),
                "label" => out.label = Some(string(&meta)?),
                "description" => out.description = Some(string(&meta)?),
                "type" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    if !STRING_TYPES.contains(&lit.value().as_str()) {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            format!(
                                "`{}` is not a string-like Dromo type: use one of {}; numbers, dates, checkboxes and selects come from the Rust type",
                                lit.value(),
                                STRING_TYPES.join(", ")
                            ),
                        ));
                    }
                    out.field_type = Some(lit);
                }
                "number" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    if !NUMBER_PRESETS.contains(&lit.value().as_str()) {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            format!(
                                "`{}` is not a Dromo number preset: use one of {}",
                                lit.value(),
                                NUMBER_PRESETS.join(", ")
                            ),
                        ));
                    }
                    out.number_span.get_or_insert(lit.span());
                    out.number = Some(lit);
                }
                "min" => {
                    out.number_span.get_or_insert(path.segments[0].ident.span());
                    out.min = Some(number(&meta)?);
                }
                "max" => {
                    out.number_span.get_or_insert(path.segments[0].ident.span());
                    out.max = Some(number(&meta)?);
                }
                "required" => {
                    let validator = plain_validator(&meta, "required")?;
                    out.required_message = Some(validator.error_message.unwrap_or_default());
                }
                "unique" | "unique_case_insensitive" => {
                    out.validators.push(plain_validator(&meta, &name)?);
                }
                "regex" => out.validators.push(regex_validator(&meta)?),
                "length" => out.validators.push(length_validator(&meta)?),
                "required_with" | "required_without" | "required_with_all"
                | "required_without_all" => {
                    let dromo_name = name.replacen("required", "require", 1);
                    out.validators.push(require_validator(&meta, &dromo_name)?);
                }
                "alternate_matches" => {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let list = content.parse_terminated(|p| p.parse::<LitStr>(), Token![,])?;
                    out.alternate_matches = list.iter().map(LitStr::value).collect();
                }
                "hidden" => out.hidden = true,
                "read_only" => out.read_only = true,
                _ => {
                    return Err(meta.error(format!(
                        "unknown dromo attribute: use one of {FIELD_ATTRIBUTES}"
                    )))
                }
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// The `#[dromo(label = "...")]` of an enum variant.
pub fn dromo_variant(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let mut label = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("dromo")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("label") {
                label = Some(string(&meta)?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown dromo attribute of a variant: only `label = \"...\"` is allowed",
                ))
            }
        })?;
    }
    Ok(label)
}

/// A `#[dromo(...)]` on the struct or enum itself: none is defined there.
pub fn no_container_attributes(attrs: &[Attribute]) -> syn::Result<()> {
    match attrs.iter().find(|a| a.path().is_ident("dromo")) {
        Some(attr) => Err(syn::Error::new_spanned(
            attr,
            "#[dromo(...)] goes on fields (and on enum variants, for `label`), not on the type: rename keys of every field with #[serde(rename_all = \"...\")]",
        )),
        None => Ok(()),
    }
}
