//! Makes every generated operation return `crate::Error` instead of progenitor's error.
//!
//! Why a syntax transform: progenitor's builders end in `send(self) -> Result<ResponseValue<T>,
//! progenitor_client::Error<E>>`, whose `Display` loses the server's message ("Error Response:
//! status: 404…", "Unexpected Response: Response { … }"). progenitor has no setting for the
//! error type, and writing a wrapper per operation would leave out the operations a spec update
//! adds. So, after progenitor and before prettyplease, this pass walks every `impl` of the
//! `builder` module and, for each `send`:
//!
//! - renames progenitor's method to `send_unchecked` (crate-private, body untouched);
//! - adds a `pub async fn send(self) -> Result<ResponseValue<T>, crate::Error>` that records
//!   the operation (id, method, path template, the path parameters' values, taken before the
//!   builder is consumed) and maps the outcome through the one hand-written function
//!   `crate::error::from_generated`.
//!
//! The method and path come from progenitor's doc line (``Sends a `GET` request to `/x/{id}/` ``),
//! the operation id from its `OperationInfo`. If progenitor changes either shape, generation
//! fails with an error naming the builder instead of silently leaving an operation unmapped.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Rewrites every builder's `send` (see the module docs). Errors name the builder that did not
/// have the expected shape.
pub fn map_send_errors(file: &mut syn::File) -> Result<usize, String> {
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "builder" => m.content.as_mut(),
            _ => None,
        })
        .ok_or("the generated code has no `builder` module")?;
    let mut rewritten = 0;
    for item in builder.1.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let type_name = match &*imp.self_ty {
            syn::Type::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default(),
            _ => continue,
        };
        let Some(index) = imp
            .items
            .iter()
            .position(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "send"))
        else {
            continue;
        };
        let syn::ImplItem::Fn(original) = &mut imp.items[index] else {
            continue;
        };
        let wrapper = wrapper_for(original).map_err(|e| format!("builder `{type_name}`: {e}"))?;
        keep_error_bodies(original).map_err(|e| format!("builder `{type_name}`: {e}"))?;
        original.sig.ident = format_ident!("send_unchecked");
        original.vis = syn::parse_quote!(pub(crate));
        original.attrs.retain(|a| !a.path().is_ident("doc"));
        original.attrs.push(syn::parse_quote!(
            #[doc = "progenitor's own `send`, with progenitor's error: used by `send` only."]
        ));
        imp.items
            .insert(index, syn::parse2(wrapper).map_err(|e| e.to_string())?);
        rewritten += 1;
    }
    if rewritten == 0 {
        return Err("no builder has a `send` method".to_owned());
    }
    Ok(rewritten)
}

/// progenitor answers a documented error status with `Error::ErrorResponse`, whose body is
/// either dropped unread (`ResponseValue::empty`) or decoded into the spec's error type (and
/// lost if it does not fit): either way the server's message is gone. The arm is rewritten to
/// hand over the unread response (`Error::UnexpectedResponse`), as for undocumented statuses,
/// so `from_generated` reads and records its body.
fn keep_error_bodies(send: &mut syn::ImplItemFn) -> Result<(), String> {
    let Some(syn::Stmt::Expr(syn::Expr::Match(status_match), None)) = send.block.stmts.last_mut()
    else {
        return Err("`send` does not end with a `match` on the status".to_owned());
    };
    for arm in &mut status_match.arms {
        let body = &arm.body;
        if quote!(#body).to_string().contains("ErrorResponse") {
            *arm.body = syn::parse_quote!(Err(Error::UnexpectedResponse(response)));
        }
    }
    Ok(())
}

/// The `send` that maps progenitor's error into ours.
fn wrapper_for(send: &syn::ImplItemFn) -> Result<TokenStream, String> {
    let doc = send
        .attrs
        .iter()
        .find_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .ok_or("`send` has no doc line naming its method and path")?;
    // "Sends a `PUT` request to `/schemas/{id}/`"
    let quoted: Vec<&str> = doc.split('`').collect();
    let (method, path) = match quoted.as_slice() {
        [_, method, _, path, ..] => (method.to_string(), path.to_string()),
        _ => return Err(format!("unexpected doc line `{doc}`")),
    };

    let body = send.block.to_token_stream_string();
    let operation_id = body
        .split("operation_id :")
        .nth(1)
        .and_then(|rest| rest.split('"').nth(1))
        .ok_or("`send` builds no `OperationInfo { operation_id }`")?
        .to_owned();

    let success = success_type(&send.sig.output)?;

    // The builder's fields, from progenitor's `let Self { client, id, body } = self;`.
    let fields: Vec<String> = body
        .split("let Self {")
        .nth(1)
        .and_then(|rest| rest.split('}').next())
        .ok_or("`send` does not take its builder apart with `let Self { .. } = self`")?
        .split(',')
        .map(|f| f.trim().to_owned())
        .collect();

    // Path parameters: `{name}` in the template, each a field of the builder.
    let mut params = Vec::new();
    for piece in path.split('{').skip(1) {
        let name = piece
            .split('}')
            .next()
            .ok_or_else(|| format!("unclosed parameter in `{path}`"))?;
        let field = format_ident!("{}", snake(name));
        if !fields.contains(&field.to_string()) {
            return Err(format!(
                "path parameter `{name}` is not a field of the builder"
            ));
        }
        params.push(quote!((#name, crate::error::param_text(&self.#field))));
    }

    let doc_line = format!(
        "{doc}\n\nFails with a [`crate::Error`]: the server's message, the resource for a 404, \
         the key hint for 401/403, retry metadata."
    );
    Ok(quote! {
        #[doc = #doc_line]
        pub async fn send(self) -> Result<ResponseValue<#success>, crate::Error> {
            let operation = crate::error::Operation {
                operation_id: #operation_id,
                method: #method,
                path: #path,
                baseurl: self.client.baseurl.clone(),
                params: vec![#(#params),*],
            };
            crate::error::from_generated(self.send_unchecked().await, operation).await
        }
    })
}

/// `T` of `Result<ResponseValue<T>, Error<E>>`.
fn success_type(output: &syn::ReturnType) -> Result<syn::Type, String> {
    let fail = || "`send` does not return `Result<ResponseValue<T>, Error<E>>`".to_owned();
    let syn::ReturnType::Type(_, ty) = output else {
        return Err(fail());
    };
    let first_argument = |ty: &syn::Type| -> Option<syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
            return None;
        };
        match args.args.first()? {
            syn::GenericArgument::Type(t) => Some(t.clone()),
            _ => None,
        }
    };
    let response_value = first_argument(ty).ok_or_else(fail)?;
    first_argument(&response_value).ok_or_else(fail)
}

/// progenitor's field name for a parameter: snake case.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

trait TokenText {
    fn to_token_stream_string(&self) -> String;
}

impl TokenText for syn::Block {
    fn to_token_stream_string(&self) -> String {
        quote!(#self).to_string()
    }
}
