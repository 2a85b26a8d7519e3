//! Completed imports seen as uploads (`/uploads/`, `/upload/{id}/...`): the list with
//! `start`/`end` paging, the metadata (with a download URL of the uploaded file), the data URL
//! and the permanent delete. An upload's id is its headless import's id.

use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};
use uuid::Uuid;

use super::http::{detail, json, not_found};
use super::state::{Import, Source, Status};
use super::{s3, Inner};

/// The default and largest `end` of the list, as the spec documents it.
const MAX_END: u64 = 10_000;

/// A `start`/`end` query value: a non-negative number (fractions are cut off, as Python's
/// `int()` does).
fn index(value: Option<&String>, default: u64) -> Result<u64, ()> {
    match value.map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some(text) => match text.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(n.trunc().min(u64::MAX as f64) as u64),
            _ => Err(()),
        },
    }
}

/// `GET /uploads/?start&end`: completed uploads, newest first, `data` the slice
/// `[start, end)`.
pub(crate) fn list(inner: &Arc<Inner>, query: Option<&str>) -> Response {
    let params = s3::parse_query(query);
    let (Ok(start), Ok(end)) = (
        index(params.get("start"), 0),
        index(params.get("end"), MAX_END),
    ) else {
        return detail(
            StatusCode::BAD_REQUEST,
            "start and end must be non-negative numbers.",
        );
    };
    let end = end.min(MAX_END);
    let state = inner.lock();
    let mut uploads: Vec<&Import> = state.imports.values().filter(|i| i.is_upload()).collect();
    uploads.sort_by_key(|import| std::cmp::Reverse(import.seq));
    let total = uploads.len();
    let take = usize::try_from(end.saturating_sub(start)).unwrap_or(usize::MAX);
    let skip = usize::try_from(start).unwrap_or(usize::MAX);
    let data: Vec<Value> = uploads
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|import| Value::Object(import.upload()))
        .collect();
    json(
        StatusCode::OK,
        json!({ "start": start, "end": end, "total_num_uploads": total, "data": data }),
    )
}

/// The completed upload `id`, if there is one, for `f`.
fn with_upload<T>(inner: &Inner, id: &str, f: impl FnOnce(&mut Import) -> T) -> Option<T> {
    let id = Uuid::parse_str(id).ok()?;
    let mut state = inner.lock();
    let import = state.imports.get_mut(&id).filter(|i| i.is_upload())?;
    Some(f(import))
}

/// `GET /upload/{id}/metadata/`: the upload, with `raw_upload.download_url` (a presigned URL of
/// the uploaded file) when a file was uploaded.
pub(crate) fn metadata(inner: &Arc<Inner>, id: &str) -> Response {
    let answer = with_upload(inner, id, |import| {
        let mut body = import.upload();
        let uploaded = matches!(&import.source, Source::File { file: Some(_), .. });
        if uploaded {
            let (url, presigned) = s3::presign(inner, "GET", &format!("/s3/raw/{}", import.id));
            import.raw_urls.push(presigned);
            if let Some(Value::Object(raw)) = body.get_mut("raw_upload") {
                raw.insert("download_url".into(), Value::String(url));
            }
        }
        json(StatusCode::OK, Value::Object(body))
    });
    answer.unwrap_or_else(not_found)
}

/// `POST /upload/{id}/delete/`: deletes the upload and its data (the headless import with it).
pub(crate) fn delete(inner: &Arc<Inner>, id: &str) -> Response {
    let Some(id) = Uuid::parse_str(id).ok() else {
        return not_found();
    };
    let mut state = inner.lock();
    if !state.imports.get(&id).is_some_and(Import::is_upload) {
        return not_found();
    }
    state.imports.remove(&id);
    Response::new(Body::empty())
}

/// `GET /upload/{id}/url/`: a presigned URL of the upload's data (its rows, as JSON).
pub(crate) fn url(inner: &Arc<Inner>, id: &str) -> Response {
    let answer = with_upload(inner, id, |import| {
        if import.status != Status::Successful || import.results.is_none() {
            return detail(StatusCode::NOT_FOUND, "This upload has no data: it failed.");
        }
        let (url, presigned) =
            s3::presign(inner, "GET", &format!("/s3/results/{}.json", import.id));
        import.result_urls.push(presigned);
        json(StatusCode::OK, json!({ "presigned_url": url }))
    });
    answer.unwrap_or_else(not_found)
}
