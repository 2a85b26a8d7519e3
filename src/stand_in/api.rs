//! Routing, authentication and the headless import operations, answering like Dromo's Django
//! REST Framework backend.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ALLOW, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::process::{self, Input, Job};
use super::state::{parse_fields, python_type, Import, Source, Status};
use super::{s3, Inner, Outcome, RecordedRequest};

/// The largest create body: Dromo's 15 MB limit on `initial_data`.
pub(crate) const MAX_CREATE_BODY: u64 = 15 * 1024 * 1024;

/// How much of an oversized body is read (and thrown away) before giving up, so the client can
/// still read the 400.
const MAX_DRAIN: u64 = 1024 * 1024 * 1024;

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
    } else if let Some(key) = path.strip_prefix("/s3/uploads/") {
        s3::upload(&inner, key, &method, &parts.headers, query, body).await
    } else if let Some(key) = path.strip_prefix("/s3/results/") {
        (s3::download(&inner, key, &method, query).await, 0)
    } else if let Some(id) = path.strip_prefix("/headless/") {
        (review_page(&inner, id), 0)
    } else {
        (not_found(), 0)
    };

    tracing::debug!(%method, %path, status = response.status().as_u16(), "stand-in answer");
    inner.lock().requests.push(RecordedRequest {
        method,
        path,
        headers,
        body_len,
        status: response.status().as_u16(),
    });
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
    let mut response = Response::new(Body::from(format!(
        "<!doctype html><title>Dromo stand-in review</title><h1>Import {id}</h1>\
         <p>This is the review page of a local Dromo stand-in. Where Dromo lets a person fix the \
         data here, the stand-in's <code>StandIn::complete_review</code> does it.</p>"
    )));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The API routes, under `/api/v1/`.
enum Route<'a> {
    Imports,
    Import(&'a str),
    ImportUrl(&'a str),
}

impl<'a> Route<'a> {
    fn parse(rest: &'a str) -> Option<Route<'a>> {
        let rest = rest.strip_suffix('/')?;
        let segments: Vec<&str> = rest.split('/').collect();
        match segments.as_slice() {
            ["headless", "imports"] => Some(Route::Imports),
            ["headless", "imports", id] if !id.is_empty() => Some(Route::Import(id)),
            ["headless", "imports", id, "url"] if !id.is_empty() => Some(Route::ImportUrl(id)),
            _ => None,
        }
    }

    fn allow(&self) -> &'static str {
        match self {
            Route::Imports => "GET, POST, HEAD, OPTIONS",
            Route::Import(_) => "GET, DELETE, HEAD, OPTIONS",
            Route::ImportUrl(_) => "GET, HEAD, OPTIONS",
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
    let Some(route) = Route::parse(rest) else {
        return (not_found(), 0);
    };
    if let Err(response) = authenticate(inner, headers) {
        return (*response, 0);
    }
    let get = method == Method::GET || method == Method::HEAD;
    match route {
        Route::Imports if get => (list(inner, query), 0),
        Route::Imports if method == Method::POST => create(inner, headers, body).await,
        Route::Import(id) if get => (retrieve(inner, id).await, 0),
        Route::Import(id) if method == Method::DELETE => (delete(inner, id), 0),
        Route::ImportUrl(id) if get => (result_url(inner, id), 0),
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

pub(crate) fn json(status: StatusCode, value: Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn detail(status: StatusCode, message: &str) -> Response {
    json(status, json!({ "detail": message }))
}

fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not found.")
}

/// Dromo's license key check; the refusal is boxed, a `Response` being large.
fn authenticate(inner: &Inner, headers: &HeaderMap) -> Result<(), Box<Response>> {
    match headers.get("x-dromo-license-key") {
        None => Err(Box::new(detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ))),
        Some(key) if key.is_empty() => Err(Box::new(detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        ))),
        Some(key) if key.as_bytes() == inner.config.api_key.as_bytes() => Ok(()),
        Some(_) => Err(Box::new(detail(
            StatusCode::FORBIDDEN,
            "Invalid license key.",
        ))),
    }
}

/// Reads a body of at most `limit` bytes. `Err` has the number of bytes seen when it is larger
/// (the rest is read and dropped, up to [`MAX_DRAIN`]) or when it broke off.
async fn read_limited(body: Body, limit: u64) -> Result<Vec<u8>, u64> {
    let mut stream = body.into_data_stream();
    let mut buffer = Vec::new();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return Err(total);
        };
        total += chunk.len() as u64;
        if total > limit {
            buffer = Vec::new();
            if total > MAX_DRAIN {
                break;
            }
        } else {
            buffer.extend_from_slice(&chunk);
        }
    }
    if total > limit {
        Err(total)
    } else {
        Ok(buffer)
    }
}

fn field_error(field: &str, messages: Vec<String>) -> Response {
    let mut map = Map::new();
    map.insert(field.to_owned(), json!(messages));
    json(StatusCode::BAD_REQUEST, Value::Object(map))
}

/// What a valid create asks for.
struct NewImport {
    schema: SchemaChoice,
    source: NewSource,
}

enum SchemaChoice {
    Saved(String),
    Inline(Vec<super::state::Field>),
}

enum NewSource {
    File(String),
    Data(Vec<Value>),
}

/// `Some(value)` when `key` is present and not null.
fn given<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

fn string_errors(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) if s.trim().is_empty() => {
            Some(vec!["This field may not be blank.".into()])
        }
        Value::String(_) => None,
        _ => Some(vec!["Not a valid string.".into()]),
    }
}

fn dict_errors(value: &Value) -> Option<Vec<String>> {
    (!value.is_object()).then(|| {
        vec![format!(
            "Expected a dictionary of items but got type \"{}\".",
            python_type(value)
        )]
    })
}

fn initial_data_errors(value: &Value) -> Option<Vec<String>> {
    let Value::Array(rows) = value else {
        return Some(vec![format!(
            "Expected a list of items but got type \"{}\".",
            python_type(value)
        )]);
    };
    let objects = rows.iter().filter(|row| row.is_object()).count();
    let arrays = rows.iter().filter(|row| row.is_array()).count();
    let mut errors = Vec::new();
    if objects + arrays < rows.len() {
        errors.push("Each row must be an object keyed by field key or an array of strings.".into());
    }
    if objects > 0 && arrays > 0 {
        errors.push("Rows must be all objects or all arrays, not mixed.".into());
    }
    let nested = rows
        .iter()
        .filter_map(Value::as_array)
        .flatten()
        .any(|cell| cell.is_array() || cell.is_object());
    if nested {
        errors.push("Array rows must hold strings, not arrays or objects.".into());
    }
    (!errors.is_empty()).then_some(errors)
}

fn import_metadata_errors(value: &Value) -> Option<Value> {
    let Value::Object(metadata) = value else {
        return dict_errors(value).map(|e| json!(e));
    };
    let user = given(metadata, "user")?;
    let Value::Object(user) = user else {
        return dict_errors(user).map(|e| json!({ "user": e }));
    };
    match user.get("id") {
        None | Some(Value::Null) => Some(json!({"user": {"id": ["This field is required."]}})),
        Some(id) => string_errors(id).map(|e| json!({"user": {"id": e}})),
    }
}

fn bad_request(body: Value) -> Box<Response> {
    Box::new(json(StatusCode::BAD_REQUEST, body))
}

/// Checks a create body as DRF would: each field's own errors first, then the rules between
/// fields.
fn validate(body: &Map<String, Value>) -> Result<NewImport, Box<Response>> {
    let mut errors = Map::new();
    let schema_id = given(body, "schema_id");
    let fields = given(body, "fields");
    let original_filename = given(body, "original_filename");
    let initial_data = given(body, "initial_data");
    let mut inline_fields = None;

    if let Some(e) = schema_id.and_then(string_errors) {
        errors.insert("schema_id".into(), json!(e));
    }
    if let Some(fields) = fields {
        match parse_fields(fields) {
            Ok(parsed) => inline_fields = Some(parsed),
            Err(e) => {
                errors.insert("fields".into(), json!(e));
            }
        }
    }
    if let Some(e) = original_filename.and_then(string_errors) {
        errors.insert("original_filename".into(), json!(e));
    }
    if let Some(e) = initial_data.and_then(initial_data_errors) {
        errors.insert("initial_data".into(), json!(e));
    }
    for key in ["settings", "hooks"] {
        if let Some(e) = given(body, key).and_then(dict_errors) {
            errors.insert(key.into(), json!(e));
        }
    }
    if let Some(e) = given(body, "import_metadata").and_then(import_metadata_errors) {
        errors.insert("import_metadata".into(), e);
    }
    if !errors.is_empty() {
        return Err(bad_request(Value::Object(errors)));
    }

    let mut non_field = Vec::new();
    match (schema_id, fields) {
        (Some(_), Some(_)) => non_field.push("Provide either schema_id or fields, not both."),
        (None, None) => non_field.push("Provide either schema_id or fields."),
        _ => {}
    }
    match (original_filename, initial_data) {
        (Some(_), Some(_)) => {
            non_field.push("Provide either original_filename or initial_data, not both.")
        }
        (None, None) => non_field.push("Provide either original_filename or initial_data."),
        _ => {}
    }
    if !non_field.is_empty() {
        return Err(bad_request(json!({ "non_field_errors": non_field })));
    }

    let schema = match (schema_id.and_then(Value::as_str), inline_fields) {
        (Some(id), _) => SchemaChoice::Saved(id.to_owned()),
        (None, Some(fields)) => SchemaChoice::Inline(fields),
        // Unreachable after the checks above; answered like a missing choice all the same.
        (None, None) => {
            return Err(bad_request(json!({
                "non_field_errors": ["Provide either schema_id or fields."]
            })))
        }
    };
    let source = match (original_filename.and_then(Value::as_str), initial_data) {
        (Some(name), _) => NewSource::File(name.to_owned()),
        (None, Some(Value::Array(rows))) => NewSource::Data(rows.clone()),
        // Unreachable after the checks above, as for the schema.
        _ => {
            return Err(bad_request(json!({
                "non_field_errors": ["Provide either original_filename or initial_data."]
            })))
        }
    };
    Ok(NewImport { schema, source })
}

/// `POST /headless/imports/`
async fn create(inner: &Arc<Inner>, headers: &HeaderMap, body: Body) -> (Response, u64) {
    let bytes = match read_limited(body, MAX_CREATE_BODY).await {
        Ok(bytes) => bytes,
        Err(seen) => {
            let response = field_error(
                "initial_data",
                vec![format!(
                    "The request is too large: initial_data may be at most 15 MB \
                     ({MAX_CREATE_BODY} bytes of request body)."
                )],
            );
            return (response, seen);
        }
    };
    let body_len = bytes.len() as u64;
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let body: Value = match content_type {
        // DRF parses no body without a content type: the data is empty.
        None => Value::Object(Map::new()),
        Some(content_type) => {
            let media = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_lowercase();
            if media != "application/json" && !media.ends_with("+json") {
                let response = detail(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    &format!("Unsupported media type \"{content_type}\" in request."),
                );
                return (response, body_len);
            }
            match serde_json::from_slice(&bytes) {
                Ok(value) => value,
                Err(e) => {
                    let response =
                        detail(StatusCode::BAD_REQUEST, &format!("JSON parse error - {e}"));
                    return (response, body_len);
                }
            }
        }
    };
    let Value::Object(body) = body else {
        let response = json(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": [format!(
                "Invalid data. Expected a dictionary, but got {}.",
                python_type(&body)
            )]}),
        );
        return (response, body_len);
    };
    let new = match validate(&body) {
        Ok(new) => new,
        Err(response) => return (*response, body_len),
    };
    (insert(inner, new), body_len)
}

fn insert(inner: &Arc<Inner>, new: NewImport) -> Response {
    let id = Uuid::new_v4();
    let now = Utc::now();
    let mut state = inner.lock();
    let (schema_id, fields) = match new.schema {
        SchemaChoice::Inline(fields) => (None, fields),
        SchemaChoice::Saved(schema_id) => {
            let Some(saved) = state.schemas.get(&schema_id) else {
                return detail(StatusCode::NOT_FOUND, "No schema found with that id");
            };
            let fields = match saved {
                Value::Object(schema) => schema.get("fields").unwrap_or(&Value::Null),
                fields => fields,
            };
            match parse_fields(fields) {
                Ok(fields) => (Some(schema_id), fields),
                Err(e) => {
                    return field_error(
                        "schema_id",
                        vec![format!(
                            "The saved schema's fields are invalid: {}",
                            e.join(" ")
                        )],
                    )
                }
            }
        }
    };
    let (source, status) = match new.source {
        NewSource::File(original_filename) => {
            let (upload_url, presigned) = s3::presign(inner, "PUT", &format!("/s3/uploads/{id}"));
            let source = Source::File {
                original_filename,
                upload_url,
                presigned,
                file: None,
            };
            (source, Status::AwaitingUpload)
        }
        NewSource::Data(rows) => (
            Source::Data {
                rows: Arc::new(rows),
            },
            Status::Pending,
        ),
    };
    let seq = state.next_seq();
    let import = Import {
        id,
        seq,
        schema_id,
        fields: Arc::new(fields),
        source,
        status,
        polls_in_status: 0,
        throttled: 0,
        processing: false,
        created: now,
        modified: now,
        results: None,
        result_urls: Vec::new(),
        import_errors: None,
    };
    let body = import.full(&inner.origin);
    state.imports.insert(id, import);
    tracing::debug!(%id, status = status.as_str(), "stand-in import created");
    json(StatusCode::CREATED, body)
}

fn retrieve_body(import: &Import, origin: &str) -> Value {
    let mut body = import.full(origin);
    if let Value::Object(map) = &mut body {
        // Dromo sends it though the spec does not list it.
        map.insert("original_file_download".into(), Value::Null);
    }
    body
}

fn throttled(retry_after: u64) -> Response {
    let unit = if retry_after == 1 {
        "second"
    } else {
        "seconds"
    };
    let mut response = detail(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Request was throttled. Expected available in {retry_after} {unit}."),
    );
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// `GET /headless/imports/{id}/`: answers and moves the import along its status machine.
async fn retrieve(inner: &Arc<Inner>, id: &str) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found();
    };
    let config = &inner.config;
    let (job, outcome) = {
        let mut state = inner.lock();
        let outcome = state.outcome;
        let Some(import) = state.imports.get_mut(&id) else {
            return not_found();
        };
        if import.throttled < config.throttled_polls {
            import.throttled += 1;
            return throttled(config.retry_after_secs);
        }
        let mut job = None;
        if import.polls_in_status >= config.polls_per_step {
            match import.status {
                Status::Pending => import.set_status(Status::Running),
                Status::Running if !import.processing => match outcome {
                    Outcome::Failed => import.fail(
                        "The import failed: the stand-in is set to fail imports \
                         (Outcome::Failed)."
                            .to_owned(),
                    ),
                    _ => {
                        let input = match &import.source {
                            Source::File {
                                file: Some(path),
                                original_filename,
                                ..
                            } => Some(Input::File {
                                path: path.clone(),
                                filename: original_filename.clone(),
                            }),
                            Source::File { file: None, .. } => None,
                            Source::Data { rows } => Some(Input::Rows(rows.clone())),
                        };
                        match input {
                            Some(input) => {
                                import.processing = true;
                                job = Some(Job {
                                    input,
                                    fields: import.fields.clone(),
                                });
                            }
                            None => import.fail("No file was uploaded.".to_owned()),
                        }
                    }
                },
                _ => {}
            }
        }
        match job {
            Some(job) => (job, outcome),
            None => {
                import.polls_in_status = import.polls_in_status.saturating_add(1);
                return json(StatusCode::OK, retrieve_body(import, &inner.origin));
            }
        }
    };

    let processed = tokio::task::spawn_blocking(move || process::run(job))
        .await
        .unwrap_or_else(|e| Err(format!("Processing the import stopped: {e}")));

    let mut state = inner.lock();
    let Some(import) = state.imports.get_mut(&id) else {
        // Deleted while it was being processed.
        return not_found();
    };
    import.processing = false;
    match processed {
        Ok(results) => {
            import.results = Some(results);
            import.set_status(match outcome {
                Outcome::NeedsReview => Status::NeedsReview,
                _ => Status::Successful,
            });
        }
        Err(message) => import.fail(message),
    }
    tracing::debug!(%id, status = import.status.as_str(), "stand-in import processed");
    import.polls_in_status = 1;
    json(StatusCode::OK, retrieve_body(import, &inner.origin))
}

/// `DELETE /headless/imports/{id}/`
fn delete(inner: &Arc<Inner>, id: &str) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found();
    };
    if inner.lock().imports.remove(&id).is_none() {
        return not_found();
    }
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// `GET /headless/imports/{id}/url/`
fn result_url(inner: &Arc<Inner>, id: &str) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found();
    };
    let mut state = inner.lock();
    let Some(import) = state.imports.get_mut(&id) else {
        return not_found();
    };
    if import.status != Status::Successful || import.results.is_none() {
        return detail(StatusCode::BAD_REQUEST, "Import is not complete.");
    }
    let (url, presigned) = s3::presign(inner, "GET", &format!("/s3/results/{id}.json"));
    import.result_urls.push(presigned);
    json(StatusCode::OK, json!({ "presigned_url": url }))
}

/// `GET /headless/imports/?offset&limit`: DRF's limit/offset pagination, newest first.
fn list(inner: &Arc<Inner>, query: Option<&str>) -> Response {
    let params = s3::parse_query(query);
    let limit = params
        .get("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(100)
        .min(1000);
    let offset = params
        .get("offset")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let state = inner.lock();
    let mut imports: Vec<&Import> = state.imports.values().collect();
    imports.sort_by_key(|import| std::cmp::Reverse(import.seq));
    let count = imports.len();
    let results: Vec<Value> = imports
        .iter()
        .skip(offset)
        .take(limit)
        .map(|import| Value::Object(import.summary()))
        .collect();
    let page = format!("{}/headless/imports/", inner.api_base());
    let next = (offset.saturating_add(limit) < count)
        .then(|| format!("{page}?limit={limit}&offset={}", offset + limit));
    let previous = (offset > 0).then(|| {
        if offset <= limit {
            format!("{page}?limit={limit}")
        } else {
            format!("{page}?limit={limit}&offset={}", offset - limit)
        }
    });
    json(
        StatusCode::OK,
        json!({ "count": count, "next": next, "previous": previous, "results": results }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            Route::parse("headless/imports/"),
            Some(Route::Imports)
        ));
        assert!(matches!(
            Route::parse("headless/imports/x/"),
            Some(Route::Import("x"))
        ));
        assert!(matches!(
            Route::parse("headless/imports/x/url/"),
            Some(Route::ImportUrl("x"))
        ));
        assert!(Route::parse("headless/imports").is_none());
        assert!(Route::parse("headless/imports//").is_none());
        assert!(Route::parse("headless/imports/x/url").is_none());
        assert!(Route::parse("headless/imports/x/y/").is_none());
    }
}
