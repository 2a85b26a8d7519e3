//! The headless import operations: create, retrieve (which moves an import along its status
//! machine), delete, the result URL and the list.

use std::sync::Arc;

use axum::body::Body;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::fields::{hooks_errors, parse_fields, Field};
use super::http::{
    bad_request, detail, dict_errors, field_error, given, json, no_content, not_found, parse_json,
    python_type, read_limited, request_api_base, string_errors,
};
use super::process::{self, Input, Job};
use super::state::{Import, Source, Status};
use super::{s3, Inner, Outcome};

/// The largest create body: Dromo's 15 MB limit on `initial_data`.
pub(crate) const MAX_CREATE_BODY: u64 = 15 * 1024 * 1024;

/// What a valid create asks for.
struct NewImport {
    schema: SchemaChoice,
    source: NewSource,
    /// `import_metadata.user`, if given.
    user: Option<Value>,
    /// `settings.importIdentifier`, if given.
    import_identifier: Option<String>,
}

enum SchemaChoice {
    Saved(String),
    Inline(Vec<Field>),
}

enum NewSource {
    File(String),
    Data(Vec<Value>),
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
    if let Some(e) = given(body, "settings").and_then(dict_errors) {
        errors.insert("settings".into(), json!(e));
    }
    if let Some(e) = given(body, "hooks").and_then(hooks_errors) {
        errors.insert("hooks".into(), json!(e));
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
    let user = given(body, "import_metadata")
        .and_then(|m| m.get("user"))
        .filter(|u| u.is_object())
        .cloned();
    let import_identifier = given(body, "settings")
        .and_then(|s| s.get("importIdentifier"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(NewImport {
        schema,
        source,
        user,
        import_identifier,
    })
}

/// `POST /headless/imports/`
pub(crate) async fn create(inner: &Arc<Inner>, headers: &HeaderMap, body: Body) -> (Response, u64) {
    if let Err(wait) = inner.limit(|limits| limits.create()) {
        return (throttled(super::limits::retry_after_secs(wait)), 0);
    }
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
    let body = match parse_json(headers, &bytes) {
        Ok(body) => body,
        Err(response) => return (*response, body_len),
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
    let mut import_identifier = new.import_identifier;
    let (schema_id, fields) = match new.schema {
        SchemaChoice::Inline(fields) => (None, fields),
        SchemaChoice::Saved(schema_id) => {
            let Some(saved) = state.schemas.get(&schema_id) else {
                return detail(StatusCode::NOT_FOUND, "No schema found with that id");
            };
            // The import's settings are merged over the saved schema's.
            if import_identifier.is_none() {
                import_identifier = saved
                    .settings()
                    .and_then(|s| s.get("importIdentifier"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            match parse_fields(saved.fields()) {
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
        raw_urls: Vec::new(),
        import_errors: None,
        user: new.user,
        import_identifier,
        storage_key: Uuid::new_v4(),
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
pub(crate) async fn retrieve(inner: &Arc<Inner>, id: &str) -> Response {
    advance(inner, id, false).await
}

/// A retrieve; `force`d (the stand-in processing on its own, no poll): not throttled, and a
/// `PENDING` or `RUNNING` import is processed at once. An import that ends sends its webhook.
pub(crate) async fn advance(inner: &Arc<Inner>, id: &str, force: bool) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found();
    };
    if !force {
        if let Err(wait) = inner.limit(|limits| limits.poll(id)) {
            return throttled(super::limits::retry_after_secs(wait));
        }
    }
    let config = &inner.config;
    let (job, outcome) = {
        let mut state = inner.lock();
        let outcome = state.outcome;
        let Some(import) = state.imports.get_mut(&id) else {
            return not_found();
        };
        if !force && import.throttled < config.throttled_polls {
            import.throttled += 1;
            return throttled(config.retry_after_secs);
        }
        let before = import.status;
        let mut job = None;
        // Promptly (no `polls_per_step`): the first retrieve processes the import. Stepwise:
        // each status lasts `polls_per_step` retrieves.
        let moves_on = force
            || config
                .polls_per_step
                .is_none_or(|n| import.polls_in_status >= n);
        if moves_on {
            match import.status {
                Status::Pending if !force && config.polls_per_step.is_some() => {
                    import.set_status(Status::Running)
                }
                Status::Pending | Status::Running if !import.processing => match outcome {
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
                if import.status != before {
                    super::webhooks::announce(inner, import);
                }
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
            // A cell that cannot be typed or a failed validator needs a person, as at Dromo.
            let invalid = results.verdict.problem_count > 0;
            if invalid {
                // Every reason the import needs a person, where the API shows them.
                import.import_errors = Some(review_reasons(&results.verdict));
            }
            import.results = Some(results);
            import.set_status(match outcome {
                Outcome::NeedsReview => Status::NeedsReview,
                _ if invalid => Status::NeedsReview,
                _ => Status::Successful,
            });
        }
        Err(message) => import.fail(message),
    }
    tracing::debug!(%id, status = import.status.as_str(), "stand-in import processed");
    super::webhooks::announce(inner, import);
    import.polls_in_status = 1;
    json(StatusCode::OK, retrieve_body(import, &inner.origin))
}

/// A verdict's problems as `import_errors`: `[{"message": ...}]`, with a last entry counting
/// those not listed.
fn review_reasons(verdict: &super::validate::Verdict) -> Value {
    let mut reasons: Vec<Value> = verdict
        .problems
        .iter()
        .map(|problem| json!({ "message": problem }))
        .collect();
    let more = verdict
        .problem_count
        .saturating_sub(verdict.problems.len() as u64);
    if more > 0 {
        reasons.push(json!({ "message": format!("and {more} more problem(s)") }));
    }
    Value::Array(reasons)
}

/// `DELETE /headless/imports/{id}/`
pub(crate) fn delete(inner: &Arc<Inner>, id: &str) -> Response {
    let Ok(id) = Uuid::parse_str(id) else {
        return not_found();
    };
    if inner.lock().imports.remove(&id).is_none() {
        return not_found();
    }
    no_content()
}

/// `GET /headless/imports/{id}/url/`
pub(crate) fn result_url(inner: &Arc<Inner>, id: &str) -> Response {
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
pub(crate) fn list(inner: &Arc<Inner>, headers: &HeaderMap, query: Option<&str>) -> Response {
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
    let page = format!(
        "{}/headless/imports/",
        request_api_base(headers, &inner.origin)
    );
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
