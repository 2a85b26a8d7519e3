//! Answers and request bodies the way Dromo's Django REST Framework backend shapes them: JSON
//! bodies, `{"detail": ...}` messages, field maps of messages, Python type names.

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};

/// How much of an oversized body is read (and thrown away) before giving up, so the client can
/// still read the 400.
const MAX_DRAIN: u64 = 1024 * 1024 * 1024;

/// The largest JSON body of the operations other than create (schemas, SFTP): 1 MiB is far more
/// than any of them needs.
pub(crate) const MAX_SMALL_BODY: u64 = 1024 * 1024;

pub(crate) fn json(status: StatusCode, value: Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json(status, json!({ "detail": message }))
}

pub(crate) fn not_found() -> Response {
    detail(StatusCode::NOT_FOUND, "Not found.")
}

pub(crate) fn no_content() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// `501 Not Implemented`: something Dromo does that the stand-in cannot imitate honestly. The
/// body says so, so it never reads as data.
pub(crate) fn not_served(what: &str) -> Response {
    detail(
        StatusCode::NOT_IMPLEMENTED,
        &format!("The Dromo stand-in does not serve this: {what}"),
    )
}

pub(crate) fn field_error(field: &str, messages: Vec<String>) -> Response {
    let mut map = Map::new();
    map.insert(field.to_owned(), json!(messages));
    json(StatusCode::BAD_REQUEST, Value::Object(map))
}

pub(crate) fn bad_request(body: Value) -> Box<Response> {
    Box::new(json(StatusCode::BAD_REQUEST, body))
}

/// Python's name for the JSON value's type, as DRF's messages show it.
pub(crate) fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `Some(value)` when `key` is present and not null.
pub(crate) fn given<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

/// DRF's messages for a `CharField` value, `None` when it is a non-blank string.
pub(crate) fn string_errors(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) if s.trim().is_empty() => {
            Some(vec!["This field may not be blank.".into()])
        }
        Value::String(_) => None,
        _ => Some(vec!["Not a valid string.".into()]),
    }
}

/// DRF's messages for a `DictField` value, `None` when it is an object.
pub(crate) fn dict_errors(value: &Value) -> Option<Vec<String>> {
    (!value.is_object()).then(|| {
        vec![format!(
            "Expected a dictionary of items but got type \"{}\".",
            python_type(value)
        )]
    })
}

/// Reads a body of at most `limit` bytes. `Err` has the number of bytes seen when it is larger
/// (the rest is read and dropped, up to [`MAX_DRAIN`]) or when it broke off.
pub(crate) async fn read_limited(body: Body, limit: u64) -> Result<Vec<u8>, u64> {
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

/// Parses a JSON request body as DRF does: no content type means no data (an empty object), a
/// content type other than JSON is 415, malformed JSON is 400. `Err` is the answer to give.
pub(crate) fn parse_json(headers: &HeaderMap, bytes: &[u8]) -> Result<Value, Box<Response>> {
    let Some(content_type) = headers
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    else {
        return Ok(Value::Object(Map::new()));
    };
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_lowercase();
    if media != "application/json" && !media.ends_with("+json") {
        return Err(Box::new(detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Unsupported media type \"{content_type}\" in request."),
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(detail(
            StatusCode::BAD_REQUEST,
            &format!("JSON parse error - {e}"),
        ))
    })
}

/// Reads and parses a JSON object body of at most [`MAX_SMALL_BODY`] bytes. `Err` is the answer
/// to give; both sides carry the number of body bytes read.
pub(crate) async fn read_object(
    headers: &HeaderMap,
    body: Body,
) -> Result<(Map<String, Value>, u64), (Response, u64)> {
    let bytes = match read_limited(body, MAX_SMALL_BODY).await {
        Ok(bytes) => bytes,
        Err(seen) => {
            let response = detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("The request body is larger than the stand-in's {MAX_SMALL_BODY} bytes."),
            );
            return Err((response, seen));
        }
    };
    let len = bytes.len() as u64;
    match parse_json(headers, &bytes) {
        Ok(Value::Object(map)) => Ok((map, len)),
        Ok(other) => Err((
            json(
                StatusCode::BAD_REQUEST,
                json!({"non_field_errors": [format!(
                    "Invalid data. Expected a dictionary, but got {}.",
                    python_type(&other)
                )]}),
            ),
            len,
        )),
        Err(response) => Err((*response, len)),
    }
}

/// The base URL of the API as the client addressed it, for links in answers (DRF's
/// `build_absolute_uri`): `X-Forwarded-Proto`/`X-Forwarded-Host` when a proxy set them, else
/// the `Host` header, else the stand-in's own `origin`. Ends in `/api/v1`.
pub(crate) fn request_api_base(headers: &HeaderMap, origin: &str) -> String {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    // A host is a name or address with an optional port: nothing that could break out of it.
    let valid_host = |host: &&str| {
        host.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    };
    let host = header("x-forwarded-host")
        .filter(valid_host)
        .or_else(|| header(HOST.as_str()).filter(valid_host));
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    match host {
        Some(host) => format!("{scheme}://{host}/api/v1"),
        None => format!("{origin}/api/v1"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_base_follows_the_request() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            request_api_base(&headers, "http://127.0.0.1:1"),
            "http://127.0.0.1:1/api/v1"
        );
        headers.insert(HOST, HeaderValue::from_static("proxy.test:4010"));
        assert_eq!(
            request_api_base(&headers, "http://127.0.0.1:1"),
            "http://proxy.test:4010/api/v1"
        );
        headers.insert("x-forwarded-host", HeaderValue::from_static("api.example"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(
            request_api_base(&headers, "http://127.0.0.1:1"),
            "https://api.example/api/v1"
        );
        headers.insert("x-forwarded-host", HeaderValue::from_static("bad/host"));
        headers.remove("x-forwarded-proto");
        assert_eq!(
            request_api_base(&headers, "http://127.0.0.1:1"),
            "http://proxy.test:4010/api/v1"
        );
    }
}
