//! SFTP credentials and connectors (`/headless/sftp/...`): CRUD with Dromo's documented rules,
//! and a connection test that checks an SSH server answers (on this machine only).
//!
//! Secrets (passwords, private keys) are stored apart from the answers and never sent back.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use super::http::{
    bad_request, given, json, no_content, not_found, not_served, python_type, read_object,
    string_errors,
};
use super::state::{Connector, Credential, State};
use super::Inner;

/// How long the connection test waits to connect, and then for the server's SSH banner.
const CONNECTION_TEST_TIMEOUT: Duration = Duration::from_secs(3);

/// The smallest `every_n_minutes` interval Dromo accepts.
const MIN_MINUTES: i64 = 5;

fn required() -> Value {
    json!(["This field is required."])
}

/// A DRF list page of everything, the SFTP lists taking no parameters.
fn page(mut items: Vec<(u64, Map<String, Value>)>) -> Response {
    items.sort_by_key(|(seq, _)| *seq);
    let results: Vec<Value> = items.into_iter().map(|(_, m)| Value::Object(m)).collect();
    json(
        StatusCode::OK,
        json!({"count": results.len(), "next": null, "previous": null, "results": results}),
    )
}

fn parse_id(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

/// A credential as checked, before it is stored.
struct NewCredential {
    body: Map<String, Value>,
    password: Option<String>,
    private_key: Option<String>,
}

/// Checks a create (`existing: None`) or update body. On update an omitted or empty password
/// or key keeps the stored one, as the spec documents.
fn validate_credentials(
    body: &Map<String, Value>,
    existing: Option<&Credential>,
) -> Result<NewCredential, Box<Response>> {
    let mut errors = Map::new();
    for key in ["hostname", "user"] {
        match given(body, key) {
            None => {
                errors.insert(key.into(), required());
            }
            Some(value) => {
                if let Some(e) = string_errors(value) {
                    errors.insert(key.into(), json!(e));
                }
            }
        }
    }
    match given(body, "port") {
        None => {
            errors.insert("port".into(), required());
        }
        Some(port) => match port.as_i64() {
            Some(p) if (1..=65535).contains(&p) => {}
            Some(p) if p < 1 => {
                errors.insert(
                    "port".into(),
                    json!(["Ensure this value is greater than or equal to 1."]),
                );
            }
            Some(_) => {
                errors.insert(
                    "port".into(),
                    json!(["Ensure this value is less than or equal to 65535."]),
                );
            }
            None => {
                errors.insert("port".into(), json!(["A valid integer is required."]));
            }
        },
    }
    let auth_type = given(body, "auth_type");
    match auth_type {
        None => {
            errors.insert("auth_type".into(), required());
        }
        Some(Value::String(t)) if t == "PASSWORD" || t == "KEY" => {}
        Some(other) => {
            let shown = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned);
            errors.insert(
                "auth_type".into(),
                json!([format!("\"{shown}\" is not a valid choice.")]),
            );
        }
    }
    for key in ["password", "private_key"] {
        if let Some(value) = given(body, key) {
            if !value.is_string() {
                errors.insert(key.into(), json!(["Not a valid string."]));
            }
        }
    }
    if !errors.is_empty() {
        return Err(bad_request(Value::Object(errors)));
    }

    let secret = |key: &str| {
        given(body, key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let auth_type = auth_type.and_then(Value::as_str).unwrap_or_default();
    let (password, private_key) = if auth_type == "PASSWORD" {
        let password = secret("password").or_else(|| existing.and_then(|c| c.password.clone()));
        if password.is_none() {
            return Err(bad_request(
                json!({"detail": "Must supply password for password auth"}),
            ));
        }
        (password, None)
    } else {
        let key = secret("private_key").or_else(|| existing.and_then(|c| c.private_key.clone()));
        let Some(key) = key else {
            return Err(bad_request(
                json!({"detail": "Must supply private key for key auth"}),
            ));
        };
        let openssh =
            key.trim_start().starts_with("-----BEGIN ") && key.contains("PRIVATE KEY-----");
        if !openssh {
            return Err(bad_request(
                json!({"detail": "Private key must be in OpenSSH format"}),
            ));
        }
        (None, Some(key))
    };
    let mut out = Map::new();
    for key in ["hostname", "port", "user", "auth_type"] {
        out.insert(key.into(), given(body, key).cloned().unwrap_or(Value::Null));
    }
    // Dromo records the server's host key fingerprint; the stand-in never logs in to learn it.
    out.insert("key_fingerprint".into(), Value::Null);
    Ok(NewCredential {
        body: out,
        password,
        private_key,
    })
}

fn store_credentials(state: &mut State, id: Uuid, new: NewCredential) -> Value {
    let mut body = Map::new();
    body.insert("id".into(), Value::String(id.to_string()));
    body.extend(new.body);
    let seq = match state.credentials.get(&id) {
        Some(existing) => existing.seq,
        None => state.next_seq(),
    };
    let answer = Value::Object(body.clone());
    state.credentials.insert(
        id,
        Credential {
            seq,
            body,
            password: new.password,
            private_key: new.private_key,
        },
    );
    answer
}

/// `GET /headless/sftp/credentials/`
pub(crate) fn list_credentials(inner: &Arc<Inner>) -> Response {
    let state = inner.lock();
    page(
        state
            .credentials
            .values()
            .map(|c| (c.seq, c.body.clone()))
            .collect(),
    )
}

/// `POST /headless/sftp/credentials/`
pub(crate) async fn create_credentials(
    inner: &Arc<Inner>,
    headers: &HeaderMap,
    body: Body,
) -> (Response, u64) {
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let new = match validate_credentials(&body, None) {
        Ok(new) => new,
        Err(response) => return (*response, len),
    };
    let answer = store_credentials(&mut inner.lock(), Uuid::new_v4(), new);
    (json(StatusCode::CREATED, answer), len)
}

/// `GET /headless/sftp/credentials/{id}/`
pub(crate) fn get_credentials(inner: &Arc<Inner>, id: &str) -> Response {
    let state = inner.lock();
    match parse_id(id).and_then(|id| state.credentials.get(&id)) {
        Some(c) => json(StatusCode::OK, Value::Object(c.body.clone())),
        None => not_found(),
    }
}

/// `PUT /headless/sftp/credentials/{id}/`
pub(crate) async fn update_credentials(
    inner: &Arc<Inner>,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> (Response, u64) {
    let Some(id) = parse_id(id).filter(|id| inner.lock().credentials.contains_key(id)) else {
        return (not_found(), 0);
    };
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let mut state = inner.lock();
    let Some(existing) = state.credentials.get(&id) else {
        return (not_found(), len);
    };
    let new = match validate_credentials(&body, Some(existing)) {
        Ok(new) => new,
        Err(response) => return (*response, len),
    };
    let answer = store_credentials(&mut state, id, new);
    (json(StatusCode::OK, answer), len)
}

/// `DELETE /headless/sftp/credentials/{id}/`
pub(crate) fn delete_credentials(inner: &Arc<Inner>, id: &str) -> Response {
    let mut state = inner.lock();
    match parse_id(id).and_then(|id| state.credentials.remove(&id)) {
        Some(_) => no_content(),
        None => not_found(),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Connects to `host:port` and reads the server's identification line: an SSH server sends
/// `SSH-2.0-...` first. `Err` says what went wrong, for the answer's `error`.
async fn ssh_banner(host: &str, port: u16) -> Result<(), String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let connect = tokio::net::TcpStream::connect((host, port));
    let mut stream = match tokio::time::timeout(CONNECTION_TEST_TIMEOUT, connect).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => return Err(format!("Could not connect to {host}:{port}: {e}")),
        Err(_) => return Err(format!("Timed out connecting to {host}:{port}")),
    };
    let mut banner = [0u8; 255];
    let read = tokio::time::timeout(CONNECTION_TEST_TIMEOUT, stream.read(&mut banner)).await;
    match read {
        Ok(Ok(n)) if banner[..n].starts_with(b"SSH-") => Ok(()),
        Ok(Ok(0)) => Err(format!("{host}:{port} closed the connection")),
        Ok(Ok(_)) => Err(format!("{host}:{port} is not an SSH server")),
        Ok(Err(e)) => Err(format!("Reading from {host}:{port} failed: {e}")),
        Err(_) => Err(format!("{host}:{port} sent no SSH identification")),
    }
}

/// `POST /headless/sftp/credentials/{id}/test_connection/`: for a server on this machine,
/// `success` says whether it answers as an SSH server (the stand-in does not log in); any other
/// host is 501, as a test must not reach the network.
pub(crate) async fn test_connection(inner: &Arc<Inner>, id: &str) -> Response {
    let target = {
        let state = inner.lock();
        parse_id(id)
            .and_then(|id| state.credentials.get(&id))
            .map(|c| {
                let host = c.body.get("hostname").and_then(Value::as_str);
                let port = c.body.get("port").and_then(Value::as_u64);
                (host.unwrap_or_default().to_owned(), port.unwrap_or(22))
            })
    };
    let Some((host, port)) = target else {
        return not_found();
    };
    if !is_loopback(&host) {
        return not_served(
            "testing a connection to a server not on this machine (the stand-in connects only \
             to localhost, 127.0.0.1 or ::1)",
        );
    }
    let port = u16::try_from(port).unwrap_or(22);
    match ssh_banner(&host, port).await {
        Ok(()) => json(StatusCode::OK, json!({"success": true})),
        Err(error) => json(StatusCode::OK, json!({"success": false, "error": error})),
    }
}

/// A reference to another object by id: `Ok` when `exists` says it does.
fn reference_error(value: Option<&Value>, exists: impl Fn(&str) -> bool) -> Option<Value> {
    match value {
        None => Some(required()),
        Some(Value::String(id)) if exists(id) => None,
        Some(Value::String(id)) if Uuid::parse_str(id).is_err() => Some(json!([format!(
            "\u{201c}{id}\u{201d} is not a valid UUID."
        )])),
        Some(Value::String(id)) => Some(json!([format!(
            "Invalid pk \"{id}\" - object does not exist."
        )])),
        Some(other) => Some(json!([format!(
            "Incorrect type. Expected pk value, received {}.",
            python_type(other)
        )])),
    }
}

/// `HH:MM`, 24-hour: `^([0-1][0-9]|2[0-3]):[0-5][0-9]$`.
fn is_time_utc(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 5
        && matches!(
            (b[0], b[1]),
            (b'0'..=b'1', b'0'..=b'9') | (b'2', b'0'..=b'3')
        )
        && b[2] == b':'
        && (b'0'..=b'5').contains(&b[3])
        && b[4].is_ascii_digit()
}

/// Checks a schedule; `Ok` is the schedule as stored (its documented keys only).
fn schedule(value: Option<&Value>) -> Result<Value, Value> {
    let Some(value) = value else {
        return Err(required());
    };
    let Value::Object(schedule) = value else {
        return Err(json!([format!(
            "Expected a dictionary of items but got type \"{}\".",
            python_type(value)
        )]));
    };
    match schedule.get("type").and_then(Value::as_str) {
        Some("every_n_minutes") => match schedule.get("minutes") {
            None | Some(Value::Null) => Err(json!(["minutes is required for every_n_minutes"])),
            Some(minutes) => match minutes.as_i64() {
                Some(m) if m >= MIN_MINUTES => Ok(json!({"type": "every_n_minutes", "minutes": m})),
                Some(_) => Err(json!(["minutes must be 5 or greater"])),
                None => Err(json!(["minutes must be an integer"])),
            },
        },
        Some("daily_at_time") => match schedule.get("time_utc") {
            None | Some(Value::Null) => Err(json!(["time_utc is required for daily_at_time"])),
            Some(Value::String(t)) if is_time_utc(t) => {
                Ok(json!({"type": "daily_at_time", "time_utc": t}))
            }
            Some(_) => Err(json!(["time_utc must be HH:MM (24-hour, UTC)"])),
        },
        _ => Err(json!([
            "type must be \"every_n_minutes\" or \"daily_at_time\""
        ])),
    }
}

fn validate_connector(
    state: &State,
    body: &Map<String, Value>,
) -> Result<Map<String, Value>, Box<Response>> {
    let mut errors = Map::new();
    let credential_exists =
        |id: &str| parse_id(id).is_some_and(|id| state.credentials.contains_key(&id));
    if let Some(e) = reference_error(given(body, "credentials"), credential_exists) {
        errors.insert("credentials".into(), e);
    }
    if let Some(e) = reference_error(given(body, "schema"), |id| state.schemas.contains_key(id)) {
        errors.insert("schema".into(), e);
    }
    let checked_schedule = schedule(given(body, "schedule"));
    if let Err(e) = &checked_schedule {
        errors.insert("schedule".into(), e.clone());
    }
    match given(body, "directory") {
        None => {
            errors.insert("directory".into(), required());
        }
        Some(directory) => {
            if let Some(e) = string_errors(directory) {
                errors.insert("directory".into(), json!(e));
            }
        }
    }
    let file_regex = given(body, "file_regex");
    if file_regex.is_some_and(|r| !r.is_string()) {
        errors.insert("file_regex".into(), json!(["Not a valid string."]));
    }
    if !errors.is_empty() {
        return Err(bad_request(Value::Object(errors)));
    }
    let mut out = Map::new();
    for key in ["credentials", "schema"] {
        out.insert(key.into(), given(body, key).cloned().unwrap_or(Value::Null));
    }
    out.insert("schedule".into(), checked_schedule.unwrap_or(Value::Null));
    out.insert(
        "directory".into(),
        given(body, "directory").cloned().unwrap_or(Value::Null),
    );
    out.insert(
        "file_regex".into(),
        file_regex.cloned().unwrap_or(Value::Null),
    );
    Ok(out)
}

fn store_connector(state: &mut State, id: Uuid, connector: Map<String, Value>) -> Value {
    let mut body = Map::new();
    body.insert("id".into(), Value::String(id.to_string()));
    body.extend(connector);
    let seq = match state.connectors.get(&id) {
        Some(existing) => existing.seq,
        None => state.next_seq(),
    };
    let answer = Value::Object(body.clone());
    state.connectors.insert(id, Connector { seq, body });
    answer
}

/// `GET /headless/sftp/connectors/`
pub(crate) fn list_connectors(inner: &Arc<Inner>) -> Response {
    let state = inner.lock();
    page(
        state
            .connectors
            .values()
            .map(|c| (c.seq, c.body.clone()))
            .collect(),
    )
}

/// `POST /headless/sftp/connectors/`
pub(crate) async fn create_connector(
    inner: &Arc<Inner>,
    headers: &HeaderMap,
    body: Body,
) -> (Response, u64) {
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let mut state = inner.lock();
    let connector = match validate_connector(&state, &body) {
        Ok(connector) => connector,
        Err(response) => return (*response, len),
    };
    let answer = store_connector(&mut state, Uuid::new_v4(), connector);
    (json(StatusCode::CREATED, answer), len)
}

/// `GET /headless/sftp/connectors/{id}/`
pub(crate) fn get_connector(inner: &Arc<Inner>, id: &str) -> Response {
    let state = inner.lock();
    match parse_id(id).and_then(|id| state.connectors.get(&id)) {
        Some(c) => json(StatusCode::OK, Value::Object(c.body.clone())),
        None => not_found(),
    }
}

/// `PUT /headless/sftp/connectors/{id}/`
pub(crate) async fn update_connector(
    inner: &Arc<Inner>,
    id: &str,
    headers: &HeaderMap,
    body: Body,
) -> (Response, u64) {
    let Some(id) = parse_id(id).filter(|id| inner.lock().connectors.contains_key(id)) else {
        return (not_found(), 0);
    };
    let (body, len) = match read_object(headers, body).await {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let mut state = inner.lock();
    if !state.connectors.contains_key(&id) {
        return (not_found(), len);
    }
    let connector = match validate_connector(&state, &body) {
        Ok(connector) => connector,
        Err(response) => return (*response, len),
    };
    let answer = store_connector(&mut state, id, connector);
    (json(StatusCode::OK, answer), len)
}

/// `DELETE /headless/sftp/connectors/{id}/`
pub(crate) fn delete_connector(inner: &Arc<Inner>, id: &str) -> Response {
    let mut state = inner.lock();
    match parse_id(id).and_then(|id| state.connectors.remove(&id)) {
        Some(_) => no_content(),
        None => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_utc_pattern() {
        for ok in ["00:00", "09:00", "19:59", "23:59"] {
            assert!(is_time_utc(ok), "{ok}");
        }
        for bad in ["24:00", "9:00", "09:60", "0900", "09:00 ", "ab:cd", "29:00"] {
            assert!(!is_time_utc(bad), "{bad}");
        }
    }

    #[test]
    fn schedules() {
        assert!(schedule(Some(&json!({"type": "every_n_minutes", "minutes": 5}))).is_ok());
        assert_eq!(
            schedule(Some(&json!({"type": "every_n_minutes", "minutes": 4}))),
            Err(json!(["minutes must be 5 or greater"]))
        );
        assert!(schedule(Some(&json!({"type": "daily_at_time", "time_utc": "23:59"}))).is_ok());
        assert!(schedule(Some(&json!({"type": "daily_at_time", "time_utc": "24:00"}))).is_err());
        assert!(schedule(Some(&json!({"type": "weekly"}))).is_err());
        assert!(schedule(Some(&json!("every 5"))).is_err());
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback("localhost"));
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("sftp.example.com"));
        assert!(!is_loopback("10.0.0.1"));
    }
}
