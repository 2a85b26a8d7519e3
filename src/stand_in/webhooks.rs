//! Webhooks from the stand-in: when an import ends, POST its event to the configured URLs as
//! Dromo does (JSON `{"event", "data"}`, and the legacy form `uploadId=…`).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::state::{Import, Source, Status};
use super::Inner;

/// The event of an import that just reached `status`; `None` while it is still working.
fn event_name(status: Status) -> Option<&'static str> {
    match status {
        Status::Successful => Some("import_completed"),
        Status::NeedsReview => Some("headless_import_needs_review"),
        Status::Failed => Some("headless_import_failed"),
        _ => None,
    }
}

/// `fooBar` → `foo_bar`: webhooks carry the user with snake_case keys.
fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The JSON body Dromo posts for `import` (which has ended with `event`).
pub(crate) fn payload(import: &Import, event: &str, origin: &str) -> Value {
    let mut headless = match import.full(origin) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    headless.remove("review_url");
    headless.remove("original_file_download");
    let user = match &import.user {
        Some(Value::Object(user)) => Value::Object(
            user.iter()
                .map(|(key, value)| (snake_case(key), value.clone()))
                .collect(),
        ),
        _ => Value::Null,
    };
    let filename = match &import.source {
        Source::File {
            original_filename, ..
        } => Value::String(original_filename.clone()),
        Source::Data { .. } => Value::Null,
    };
    let num_data_rows = import.results.as_ref().map_or(0, |r| r.num_rows);
    json!({
        "event": event,
        "data": {
            "id": import.id.to_string(),
            "filename": filename,
            "user": user,
            "created_date": super::state::timestamp(import.created),
            "import_type": "HEADLESS",
            "status": import.status.as_str(),
            "num_data_rows": num_data_rows,
            "development_mode": false,
            "has_data": import.results.is_some(),
            "headless": headless,
        }
    })
}

/// Posts `import`'s event to the configured URLs, in the background, if it has just ended.
/// Does nothing outside a tokio runtime or without URLs.
pub(crate) fn announce(inner: &Arc<Inner>, import: &Import) {
    let Some(event) = event_name(import.status) else {
        return;
    };
    let config = &inner.config;
    if config.webhook_url.is_none() && config.legacy_webhook_url.is_none() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let json_body = config
        .webhook_url
        .clone()
        .map(|url| (url, payload(import, event, &inner.origin).to_string()));
    // The legacy form fires once an upload is complete (SUCCESSFUL or FAILED).
    let form_body = config
        .legacy_webhook_url
        .clone()
        .filter(|_| import.is_upload())
        .map(|url| (url, format!("uploadId={}", import.id)));
    runtime.spawn(async move {
        let client = reqwest::Client::new();
        let posts = json_body
            .map(|(url, body)| (url, body, "application/json"))
            .into_iter()
            .chain(form_body.map(|(url, body)| (url, body, "application/x-www-form-urlencoded")));
        for (url, body, content_type) in posts {
            let sent = client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body)
                .send()
                .await;
            match sent {
                Ok(answer) => {
                    tracing::debug!(%url, status = %answer.status(), "stand-in webhook sent")
                }
                Err(error) => tracing::debug!(%url, %error, "stand-in webhook not delivered"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn user_keys_become_snake_case() {
        assert_eq!(snake_case("companyId"), "company_id");
        assert_eq!(snake_case("name"), "name");
    }
}
