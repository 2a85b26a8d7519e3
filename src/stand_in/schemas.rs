//! Saved import schemas (`/schemas/`): list, create, get, replace, delete. Names are unique
//! within the organization (the stand-in is one organization); creates name them by id with
//! `schema_id`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::fields::{hooks_errors, parse_fields};
use super::http::{
    bad_request, dict_errors, given, json, no_content, not_found, read_object, string_errors,
};
use super::state::{SavedSchema, State};
use super::Inner;

/// Checks an `ImportSchema` body and returns the schema to store (without its id). `id` names
/// the schema being replaced, whose own name does not count as taken.
fn validate(
    state: &State,
    body: &Map<String, Value>,
    id: Option<&str>,
) -> Result<Map<String, Value>, Box<Response>> {
    let mut errors = Map::new();
    let required = || json!(["This field is required."]);
    match given(body, "name") {
        None => {
            errors.insert("name".into(), required());
        }
        Some(name) => {
            if let Some(e) = string_errors(name) {
                errors.insert("name".into(), json!(e));
            }
        }
    }
    match given(body, "fields") {
        None => {
            errors.insert("fields".into(), required());
        }
        Some(fields) => {
            if let Err(e) = parse_fields(fields) {
                errors.insert("fields".into(), json!(e));
            }
        }
    }
    match given(body, "settings") {
        None => {
            errors.insert("settings".into(), required());
        }
        Some(settings) => {
            if let Some(e) = dict_errors(settings) {
                errors.insert("settings".into(), json!(e));
            }
        }
    }
    if let Some(e) = given(body, "hooks").and_then(hooks_errors) {
        errors.insert("hooks".into(), json!(e));
    }
    if !errors.is_empty() {
        return Err(bad_request(Value::Object(errors)));
    }
    let name = given(body, "name").cloned().unwrap_or(Value::Null);
    let taken = state
        .schemas
        .iter()
        .any(|(other, schema)| Some(other.as_str()) != id && schema.name() == name.as_str());
    if taken {
        return Err(bad_request(json!({
            "name": ["import schema with this name already exists."]
        })));
    }
    let mut schema = Map::new();
    schema.insert("name".into(), name);
    for key in ["fields", "settings"] {
        schema.insert(key.into(), given(body, key).cloned().unwrap_or(Value::Null));
    }
    schema.insert(
        "hooks".into(),
        given(body, "hooks").cloned().unwrap_or_else(|| json!({})),
    );
    Ok(schema)
}

/// Stores `schema` under `id` (replacing any schema there) and returns its body.
pub(crate) fn store(state: &mut State, id: &str, schema: Map<String, Value>) -> Value {
    let mut body = Map::new();
    body.insert("id".into(), Value::String(id.to_owned()));
    body.extend(schema);
    let seq = match state.schemas.get(id) {
        Some(existing) => existing.seq,
        None => state.next_seq(),
    };
    let answer = Value::Object(body.clone());
    state
        .schemas
        .insert(id.to_owned(), SavedSchema { seq, body });
    answer
}

/// `GET /schemas/`: every saved schema, oldest first, as a bare array.
pub(crate) fn list(inner: &Arc<Inner>) -> Response {
    let state = inner.lock();
    let mut schemas: Vec<&SavedSchema> = state.schemas.values().collect();
    schemas.sort_by_key(|s| s.seq);
    let all: Vec<Value> = schemas
        .into_iter()
        .map(|s| Value::Object(s.body.clone()))
        .collect();
    json(StatusCode::OK, Value::Array(all))
}

/// `POST /schemas/`
pub(crate) async fn create(inner: &Arc<Inner>, headers: &HeaderMap, body: Body) -> (Response, u64) {
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let mut state = inner.lock();
    let schema = match validate(&state, &body, None) {
        Ok(schema) => schema,
        Err(response) => return (*response, len),
    };
    let id = Uuid::new_v4().to_string();
    let answer = store(&mut state, &id, schema);
    (json(StatusCode::CREATED, answer), len)
}

/// `GET /schemas/{id}/`
pub(crate) fn get(inner: &Arc<Inner>, id: &str) -> Response {
    match inner.lock().schemas.get(id) {
        Some(schema) => json(StatusCode::OK, Value::Object(schema.body.clone())),
        None => not_found(),
    }
}

/// `PUT /schemas/{id}/`: replaces name, fields, settings and hooks.
pub(crate) async fn update(
    inner: &Arc<Inner>,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> (Response, u64) {
    if !inner.lock().schemas.contains_key(id) {
        return (not_found(), 0);
    }
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let mut state = inner.lock();
    // Deleted while the body was read.
    if !state.schemas.contains_key(id) {
        return (not_found(), len);
    }
    let schema = match validate(&state, &body, Some(id)) {
        Ok(schema) => schema,
        Err(response) => return (*response, len),
    };
    let answer = store(&mut state, id, schema);
    (json(StatusCode::OK, answer), len)
}

/// `DELETE /schemas/{id}/`
pub(crate) fn delete(inner: &Arc<Inner>, id: &str) -> Response {
    match inner.lock().schemas.remove(id) {
        Some(_) => no_content(),
        None => not_found(),
    }
}
