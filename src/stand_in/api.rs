//! Routing and authentication: every request is recorded, every API request must carry the key
//! (checked before anything else), and each of the spec's 25 operations goes to its handler.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::json;
use uuid::Uuid;

use super::http::{detail, json, not_found};
use super::{imports, s3, schemas, sessions, sftp, uploads, Inner, RecordedRequest};

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new().fallback(dispatch).with_state(inner)
}

/// Every request comes here: it is routed by hand, so that anything unknown gets DRF's 404 and
/// every request is recorded.
async fn dispatch(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    // Only the method and the path: the query has signatures, the headers the key.
    tracing::debug!(%method, %path, "stand-in request");
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();

    let query = parts.uri.query();
    let (response, body_len) = if let Some(rest) = path.strip_prefix("/api/v1/") {
        api(&inner, rest, &parts.method, &parts.headers, query, body).await
    } else if let Some(rest) = path.strip_prefix(sessions::PREFIX) {
        sessions::api(&inner, rest, &parts.method, &parts.headers, body).await
    } else if let Some(key) = path.strip_prefix("/s3/uploads/") {
        s3::upload(&inner, key, &method, &parts.headers, query, body).await
    } else if let Some(key) = path.strip_prefix("/s3/results/") {
        let stored = s3::Stored::Results;
        (s3::download(&inner, stored, key, &method, query).await, 0)
    } else if let Some(key) = path.strip_prefix("/s3/raw/") {
        let stored = s3::Stored::Raw;
        (s3::download(&inner, stored, key, &method, query).await, 0)
    } else if let Some(id) = path.strip_prefix("/headless/") {
        (review_page(&inner, id), 0)
    } else {
        (not_found(), 0)
    };

    tracing::debug!(%method, %path, status = response.status().as_u16(), "stand-in answer");
    let mut state = inner.lock();
    state.requests.push_back(RecordedRequest {
        method,
        path,
        headers,
        body_len,
        status: response.status().as_u16(),
    });
    while state.requests.len() > inner.config.max_recorded {
        state.requests.pop_front();
    }
    drop(state);
    if let Some(store) = &inner.store {
        store.save(&inner);
    }
    response
}

/// `GET /headless/{id}/`, where `review_url` points: a page saying what a person would do there.
fn review_page(inner: &Inner, id: &str) -> Response {
    let id = id
        .strip_suffix('/')
        .and_then(|id| Uuid::parse_str(id).ok())
        .filter(|id| inner.lock().imports.contains_key(id));
    let Some(id) = id else {
        return not_found();
    };
    // The reasons the import needs a person, as its `import_errors` lists them.
    let reasons: String = inner
        .lock()
        .imports
        .get(&id)
        .and_then(|import| import.import_errors.clone())
        .and_then(|errors| errors.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.get("message").and_then(|m| m.as_str()).map(html_text))
        .map(|m| format!("<li>{m}</li>"))
        .collect();
    let reasons = if reasons.is_empty() {
        String::new()
    } else {
        format!("<h2>Why it needs review</h2><ul>{reasons}</ul>")
    };
    let mut response = Response::new(Body::from(format!(
        "<!doctype html><title>Dromo stand-in review</title><h1>Import {id}</h1>{reasons}\
         <p>This is the review page of a local Dromo stand-in. Where Dromo lets a person fix the \
         data here, the stand-in's <code>StandIn::complete_review</code> does it.</p>"
    )));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// `text` escaped for HTML.
fn html_text(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The API routes, under `/api/v1/`: the paths of `openapi.json`.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Imports,
    Import(&'a str),
    ImportUrl(&'a str),
    Schemas,
    Schema(&'a str),
    Uploads,
    UploadMetadata(&'a str),
    UploadDelete(&'a str),
    UploadUrl(&'a str),
    Credentials,
    Credential(&'a str),
    CredentialTest(&'a str),
    Connectors,
    Connector(&'a str),
}

impl<'a> Route<'a> {
    fn parse(rest: &'a str) -> Option<Route<'a>> {
        let rest = rest.strip_suffix('/')?;
        let segments: Vec<&str> = rest.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        Some(match segments.as_slice() {
            ["headless", "imports"] => Route::Imports,
            ["headless", "imports", id] => Route::Import(id),
            ["headless", "imports", id, "url"] => Route::ImportUrl(id),
            ["schemas"] => Route::Schemas,
            ["schemas", id] => Route::Schema(id),
            ["uploads"] => Route::Uploads,
            ["upload", id, "metadata"] => Route::UploadMetadata(id),
            ["upload", id, "delete"] => Route::UploadDelete(id),
            ["upload", id, "url"] => Route::UploadUrl(id),
            ["headless", "sftp", "credentials"] => Route::Credentials,
            ["headless", "sftp", "credentials", id] => Route::Credential(id),
            ["headless", "sftp", "credentials", id, "test_connection"] => Route::CredentialTest(id),
            ["headless", "sftp", "connectors"] => Route::Connectors,
            ["headless", "sftp", "connectors", id] => Route::Connector(id),
            _ => return None,
        })
    }

    fn allow(&self) -> &'static str {
        match self {
            Route::Imports | Route::Schemas | Route::Credentials | Route::Connectors => {
                "GET, POST, HEAD, OPTIONS"
            }
            Route::Import(_) => "GET, DELETE, HEAD, OPTIONS",
            Route::Schema(_) | Route::Credential(_) | Route::Connector(_) => {
                "GET, PUT, DELETE, HEAD, OPTIONS"
            }
            Route::ImportUrl(_)
            | Route::Uploads
            | Route::UploadMetadata(_)
            | Route::UploadUrl(_) => "GET, HEAD, OPTIONS",
            Route::UploadDelete(_) | Route::CredentialTest(_) => "POST, OPTIONS",
        }
    }
}

async fn api(
    inner: &Arc<Inner>,
    rest: &str,
    method: &Method,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> (Response, u64) {
    // The key first, whatever the path: an unknown path or id tells nothing without it.
    if let Err(response) = authenticate(inner, headers) {
        return (*response, 0);
    }
    let Some(route) = Route::parse(rest) else {
        return (not_found(), 0);
    };
    let get = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    let put = method == Method::PUT;
    let delete = method == Method::DELETE;
    let no_body = |response: Response| (response, 0);
    match route {
        Route::Imports if get => no_body(imports::list(inner, headers, query)),
        Route::Imports if post => imports::create(inner, headers, body).await,
        Route::Import(id) if get => no_body(imports::retrieve(inner, id).await),
        Route::Import(id) if delete => no_body(imports::delete(inner, id)),
        Route::ImportUrl(id) if get => no_body(imports::result_url(inner, id)),
        Route::Schemas if get => no_body(schemas::list(inner)),
        Route::Schemas if post => schemas::create(inner, headers, body).await,
        Route::Schema(id) if get => no_body(schemas::get(inner, id)),
        Route::Schema(id) if put => schemas::update(inner, id, headers, body).await,
        Route::Schema(id) if delete => no_body(schemas::delete(inner, id)),
        Route::Uploads if get => no_body(uploads::list(inner, query)),
        Route::UploadMetadata(id) if get => no_body(uploads::metadata(inner, id)),
        Route::UploadDelete(id) if post => no_body(uploads::delete(inner, id)),
        Route::UploadUrl(id) if get => no_body(uploads::url(inner, id)),
        Route::Credentials if get => no_body(sftp::list_credentials(inner)),
        Route::Credentials if post => sftp::create_credentials(inner, headers, body).await,
        Route::Credential(id) if get => no_body(sftp::get_credentials(inner, id)),
        Route::Credential(id) if put => sftp::update_credentials(inner, id, headers, body).await,
        Route::Credential(id) if delete => no_body(sftp::delete_credentials(inner, id)),
        Route::CredentialTest(id) if post => no_body(sftp::test_connection(inner, id).await),
        Route::Connectors if get => no_body(sftp::list_connectors(inner)),
        Route::Connectors if post => sftp::create_connector(inner, headers, body).await,
        Route::Connector(id) if get => no_body(sftp::get_connector(inner, id)),
        Route::Connector(id) if put => sftp::update_connector(inner, id, headers, body).await,
        Route::Connector(id) if delete => no_body(sftp::delete_connector(inner, id)),
        route => {
            let mut response = json(
                StatusCode::METHOD_NOT_ALLOWED,
                json!({ "detail": format!("Method \"{method}\" not allowed.") }),
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(route.allow()));
            (response, 0)
        }
    }
}

/// Dromo's license key check; the refusal is boxed, a `Response` being large.
///
/// A missing key and a wrong one both answer 401: DRF gives both the same status, decided by
/// whether the authentication class names a `WWW-Authenticate` scheme, and a missing key is
/// 401, so a wrong one is too.
pub(super) fn authenticate(inner: &Inner, headers: &HeaderMap) -> Result<(), Box<Response>> {
    match headers.get("x-dromo-license-key") {
        Some(key) if key.as_bytes() == inner.config.api_key.as_bytes() => Ok(()),
        Some(key) if !key.is_empty() => Err(Box::new(detail(
            StatusCode::UNAUTHORIZED,
            "Invalid license key.",
        ))),
        _ => Err(Box::new(detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(Route::parse("headless/imports/"), Some(Route::Imports));
        assert_eq!(
            Route::parse("headless/imports/x/"),
            Some(Route::Import("x"))
        );
        assert_eq!(
            Route::parse("headless/imports/x/url/"),
            Some(Route::ImportUrl("x"))
        );
        assert_eq!(Route::parse("schemas/"), Some(Route::Schemas));
        assert_eq!(Route::parse("schemas/s/"), Some(Route::Schema("s")));
        assert_eq!(Route::parse("uploads/"), Some(Route::Uploads));
        assert_eq!(
            Route::parse("upload/u/metadata/"),
            Some(Route::UploadMetadata("u"))
        );
        assert_eq!(
            Route::parse("upload/u/delete/"),
            Some(Route::UploadDelete("u"))
        );
        assert_eq!(Route::parse("upload/u/url/"), Some(Route::UploadUrl("u")));
        assert_eq!(
            Route::parse("headless/sftp/credentials/c/test_connection/"),
            Some(Route::CredentialTest("c"))
        );
        assert_eq!(
            Route::parse("headless/sftp/connectors/c/"),
            Some(Route::Connector("c"))
        );
        assert!(Route::parse("headless/imports").is_none());
        assert!(Route::parse("headless/imports//").is_none());
        assert!(Route::parse("headless/imports/x/url").is_none());
        assert!(Route::parse("headless/imports/x/y/").is_none());
        assert!(Route::parse("upload/u/").is_none());
    }
}
