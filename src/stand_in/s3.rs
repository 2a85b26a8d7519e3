//! The presigned S3 URLs: issuing them, and serving them the way S3 does (XML errors, a
//! `Content-Length` required, bodies streamed to and from temporary files).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, TRANSFER_ENCODING};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use super::state::{Presigned, Source, Status};
use super::throttle::{self, Pace};
use super::Inner;

/// S3's largest single PUT: 5 GiB.
const MAX_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// 64 random hex digits, like a SigV4 signature.
fn random_signature() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

/// Percent-encodes everything but RFC 3986's unreserved characters, as SigV4 does.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes; anything malformed is kept as it is.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query's parameters, decoded. A repeated name keeps its last value.
pub(crate) fn parse_query(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// Issues a presigned URL for `method` on `{origin}{path}` and returns it with its record.
pub(crate) fn presign(inner: &Inner, method: &'static str, path: &str) -> (String, Presigned) {
    let ttl = inner.config.url_ttl;
    let issued_at = Utc::now();
    let date = issued_at.format("%Y%m%d").to_string();
    let expires_secs = ttl.as_secs_f64().ceil().max(1.0) as u64;
    let params: BTreeMap<String, String> = [
        ("X-Amz-Algorithm", "AWS4-HMAC-SHA256".to_owned()),
        (
            "X-Amz-Credential",
            format!("STANDIN/{date}/us-west-2/s3/aws4_request"),
        ),
        ("X-Amz-Date", issued_at.format("%Y%m%dT%H%M%SZ").to_string()),
        ("X-Amz-Expires", expires_secs.to_string()),
        ("X-Amz-SignedHeaders", "host".to_owned()),
        ("X-Amz-Signature", random_signature()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    // S3's own order: the signature last.
    let order = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ];
    let query: Vec<String> = order
        .iter()
        .filter_map(|name| params.get(*name).map(|v| format!("{name}={}", encode(v))))
        .collect();
    let url = format!("{}{path}?{}", inner.origin, query.join("&"));
    let presigned = Presigned {
        method,
        params,
        issued: Instant::now(),
        issued_at,
        ttl,
    };
    (url, presigned)
}

fn request_id() -> String {
    format!("{:016X}", Uuid::new_v4().as_u64_pair().0)
}

fn s3_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An S3 error: XML, with a request id in the body and in `x-amz-request-id`.
fn s3_error(status: StatusCode, code: &str, message: &str, extra: &[(&str, String)]) -> Response {
    let id = request_id();
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>"
    );
    for (name, value) in extra {
        body.push_str(&format!("<{name}>{value}</{name}>"));
    }
    body.push_str(&format!("<RequestId>{id}</RequestId></Error>"));
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-amz-request-id", value);
    }
    response
}

fn access_denied() -> Response {
    s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied", &[])
}

fn signature_mismatch() -> Response {
    s3_error(
        StatusCode::FORBIDDEN,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. \
         Check your key and signing method.",
        &[],
    )
}

fn expired(presigned: &Presigned) -> Response {
    s3_error(
        StatusCode::FORBIDDEN,
        "AccessDenied",
        "Request has expired",
        &[
            ("X-Amz-Expires", presigned.ttl.as_secs().to_string()),
            ("Expires", s3_time(presigned.expires_at())),
            ("ServerTime", s3_time(Utc::now())),
        ],
    )
}

fn internal_error() -> Response {
    s3_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "We encountered an internal error. Please try again.",
        &[],
    )
}

/// Checks a request against the presigned URL it claims to use: same method and the same query
/// parameters (S3 signs both), and not expired. The refusal is boxed, a `Response` being large.
fn check(
    presigned: &Presigned,
    method: &str,
    params: &BTreeMap<String, String>,
) -> Result<(), Box<Response>> {
    if !params.contains_key("X-Amz-Signature") {
        return Err(Box::new(access_denied()));
    }
    if method != presigned.method || *params != presigned.params {
        return Err(Box::new(signature_mismatch()));
    }
    if presigned.expired() {
        return Err(Box::new(expired(presigned)));
    }
    Ok(())
}

/// `PUT /s3/uploads/{id}`. Returns the answer and the number of body bytes read.
pub(crate) async fn upload(
    inner: &Arc<Inner>,
    key: &str,
    method: &str,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Body,
) -> (Response, u64) {
    if headers.contains_key(TRANSFER_ENCODING) {
        let response = s3_error(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            &[("Header", "Transfer-Encoding".to_owned())],
        );
        return (response, 0);
    }
    let params = parse_query(query);
    let Ok(id) = Uuid::parse_str(key) else {
        return (access_denied(), 0);
    };
    {
        let state = inner.lock();
        let Some(Source::File { presigned, .. }) = state.imports.get(&id).map(|i| &i.source) else {
            return (access_denied(), 0);
        };
        if let Err(response) = check(presigned, method, &params) {
            return (*response, 0);
        }
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(declared) = declared else {
        let response = s3_error(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header.",
            &[],
        );
        return (response, 0);
    };
    if declared > MAX_PUT {
        let response = s3_error(
            StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
            &[
                ("ProposedSize", declared.to_string()),
                ("MaxSizeAllowed", MAX_PUT.to_string()),
            ],
        );
        return (response, 0);
    }

    // Stream the body to a temporary file, chunk by chunk.
    let Ok(temp) = tempfile::NamedTempFile::new() else {
        return (internal_error(), 0);
    };
    let (file, path) = temp.into_parts();
    let mut file = tokio::fs::File::from_std(file);
    let mut stream = body.into_data_stream();
    let mut received: u64 = 0;
    let mut complete = true;
    let mut pace = inner.config.bandwidth.map(Pace::new);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                received += bytes.len() as u64;
                if file.write_all(&bytes).await.is_err() {
                    return (internal_error(), received);
                }
                // Reading no faster than the rate: the sender's window fills and it slows down.
                if let Some(pace) = &mut pace {
                    pace.wait_for(bytes.len() as u64).await;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "upload body ended early");
                complete = false;
                break;
            }
        }
    }
    if file.flush().await.is_err() {
        return (internal_error(), received);
    }
    drop(file);
    if !complete || received != declared {
        let response = s3_error(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
            &[],
        );
        return (response, received);
    }
    tracing::debug!(%id, bytes = received, "stand-in upload stored");

    {
        let mut state = inner.lock();
        if let Some(import) = state.imports.get_mut(&id) {
            let accepts = !import.processing
                && matches!(
                    import.status,
                    Status::AwaitingUpload | Status::Pending | Status::Running
                );
            if accepts {
                if let Source::File { file, .. } = &mut import.source {
                    *file = Some(Arc::new(path));
                }
                if import.status == Status::AwaitingUpload {
                    import.set_status(Status::Pending);
                }
            }
        }
    }
    let mut response = Response::new(Body::empty());
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", Uuid::new_v4().simple())) {
        response.headers_mut().insert(ETAG, etag);
    }
    (response, received)
}

/// What a download URL serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// `/s3/results/{id}.json`: the import's rows.
    Results,
    /// `/s3/raw/{id}`: the file that was uploaded.
    Raw,
}

/// `GET /s3/results/{id}.json` or `GET /s3/raw/{id}`: the stored file, streamed (at the
/// stand-in's bandwidth, if it has one).
pub(crate) async fn download(
    inner: &Arc<Inner>,
    stored: Stored,
    key: &str,
    method: &str,
    query: Option<&str>,
) -> Response {
    let params = parse_query(query);
    let id = match stored {
        Stored::Results => key.strip_suffix(".json"),
        Stored::Raw => Some(key),
    };
    let Some(id) = id.and_then(|id| Uuid::parse_str(id).ok()) else {
        return access_denied();
    };
    let path = {
        let state = inner.lock();
        let Some(import) = state.imports.get(&id) else {
            return access_denied();
        };
        let (path, issued_urls) = match stored {
            Stored::Results => (
                import.results.as_ref().map(|r| r.file.clone()),
                &import.result_urls,
            ),
            Stored::Raw => match &import.source {
                Source::File { file, .. } => (file.clone(), &import.raw_urls),
                Source::Data { .. } => (None, &import.raw_urls),
            },
        };
        let Some(path) = path else {
            return access_denied();
        };
        let signature = params.get("X-Amz-Signature");
        let issued = issued_urls
            .iter()
            .find(|p| p.params.get("X-Amz-Signature") == signature);
        match issued {
            Some(presigned) => {
                if let Err(response) = check(presigned, method, &params) {
                    return *response;
                }
            }
            None if signature.is_none() => return access_denied(),
            None => return signature_mismatch(),
        }
        path
    };
    let file = match tokio::fs::File::open(&**path).await {
        Ok(file) => file,
        Err(_) => return internal_error(),
    };
    let len = match file.metadata().await {
        Ok(metadata) => metadata.len(),
        Err(_) => return internal_error(),
    };
    // The open file stays readable even if the import is deleted (and its file unlinked) now.
    drop(path);
    let content_type = match stored {
        Stored::Results => "application/json",
        Stored::Raw => "application/octet-stream",
    };
    let mut response = Response::new(throttle::body(file, inner.config.bandwidth));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", Uuid::new_v4().simple())) {
        headers.insert(ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_and_encode_round_trip() {
        let value = "STANDIN/20230227/us-west-2/s3/aws4_request";
        assert_eq!(
            encode(value),
            "STANDIN%2F20230227%2Fus-west-2%2Fs3%2Faws4_request"
        );
        assert_eq!(decode(&encode(value)), value);
        assert_eq!(decode("%2"), "%2");
        assert_eq!(decode("%zz%41"), "%zzA");
        assert_eq!(decode("%"), "%");
    }

    #[test]
    fn query_parsing() {
        let q = parse_query(Some("a=1&b=%2F&c"));
        assert_eq!(q.get("a").map(String::as_str), Some("1"));
        assert_eq!(q.get("b").map(String::as_str), Some("/"));
        assert_eq!(q.get("c").map(String::as_str), Some(""));
        assert!(parse_query(None).is_empty());
    }
}
