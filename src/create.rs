//! `POST /headless/imports/`: create a headless import from either form of request.

use crate::config::{authenticate, Client};
use crate::error::{
    classify_transport, decode_json, read_limited, ApiResponse, Error, RequestContext, ServerText,
};
use crate::generated::ClientInfo;
use crate::ids::ImportId;
use crate::presigned::PresignedUrl;
use crate::request::CreateRequest;
use crate::{generated, types, ImportStatus};
use reqwest::header::{HeaderName, HeaderValue, ACCEPT, CONTENT_TYPE};
use std::fmt;

/// A headless import just created.
///
/// `Debug` shows the upload URL redacted and leaves out [`CreatedImport::raw`], which holds it
/// whole.
#[derive(Clone)]
#[non_exhaustive]
pub struct CreatedImport {
    /// The import's id.
    pub id: ImportId,
    /// Its status: `AWAITING_UPLOAD` for a file import; rows may already be `PENDING` or later.
    pub status: ImportStatus,
    /// Where to `PUT` the file (file imports; valid 30 minutes). Never log
    /// [`PresignedUrl::expose`].
    pub upload_url: Option<PresignedUrl>,
    /// Where a person reviews and fixes the data in a browser.
    pub review_url: Option<String>,
    /// The whole response, as generated from the spec (its `upload` is the unredacted URL).
    pub raw: types::HeadlessImportFull,
}

impl fmt::Debug for CreatedImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedImport")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("upload_url", &self.upload_url)
            .field("review_url", &self.review_url)
            .finish_non_exhaustive()
    }
}

impl CreatedImport {
    fn from_response(status: u16, body: &[u8]) -> Result<Self, Error> {
        let raw: types::HeadlessImportFull = decode_json(status, body)?;
        let missing = |path: &str| Error::Decode {
            status,
            path: path.to_owned(),
            message: format!("the created import has no `{path}`"),
            snippet: crate::error::snippet(body),
            source: format!("missing field `{path}`").into(),
        };
        let id_text = raw.id.as_deref().ok_or_else(|| missing("id"))?;
        let id: ImportId = id_text.parse().map_err(|_| Error::Decode {
            status,
            path: "id".to_owned(),
            message: "the created import's `id` is not a UUID".to_owned(),
            snippet: crate::error::snippet(body),
            source: format!("`id` is not a UUID: {}", crate::scrub::scrub(id_text, 80)).into(),
        })?;
        let import_status = raw.status.clone().ok_or_else(|| missing("status"))?;
        let upload_url = raw
            .upload
            .as_deref()
            .map(PresignedUrl::parse)
            .transpose()
            .map_err(|e| match e {
                Error::BadUrl { reason, source, .. } => Error::BadUrl {
                    what: format!("upload URL for import {id}"),
                    reason,
                    source,
                },
                other => other,
            })?;
        Ok(Self {
            review_url: raw.review_url.clone(),
            id,
            status: import_status,
            upload_url,
            raw,
        })
    }
}

impl Client {
    /// Creates a headless import (`POST /headless/imports/`) from a typed
    /// [`ImportRequest`](crate::ImportRequest) or a raw generated
    /// `types::CreateHeadlessImportBody`.
    ///
    /// The request is checked first ([`crate::validate`]): a broken rule is an
    /// [`Error::InvalidRequest`] listing every problem, and nothing is sent. The body is
    /// serialized once; the `initial_data` bytes checked against the 15 MB limit are the bytes
    /// sent. A 404 for a saved schema is [`Error::SchemaNotFound`]; other failures are the
    /// matching [`Error`] variants.
    ///
    /// ```no_run
    /// use dromo_client::{types, Client, Field, FieldType, ImportRequest, Schema, Source, User};
    ///
    /// # async fn run() -> Result<(), dromo_client::Error> {
    /// let client = Client::from_env()?;
    ///
    /// // A saved schema and a file to upload.
    /// let import = client
    ///     .create_import(
    ///         ImportRequest::new(Schema::saved("94187d21-9820-420f-b08c-a80cbbf52604"), Source::file("contacts.csv"))
    ///             .user(User::new("user-42").name("Ada").email("ada@example.com")),
    ///     )
    ///     .await?;
    /// println!("created {} ({}); upload to {:?}", import.id, import.status, import.upload_url);
    ///
    /// // Inline fields and rows (any `Serialize`), with settings.
    /// #[derive(serde::Serialize)]
    /// struct Contact { email: String, name: String }
    /// let rows = vec![Contact { email: "ada@example.com".into(), name: "Ada".into() }];
    /// let import = client
    ///     .create_import(
    ///         ImportRequest::new(
    ///             Schema::inline([
    ///                 Field::new("email", "Email", FieldType::Email).required(),
    ///                 Field::new("name", "Name", FieldType::String),
    ///             ]),
    ///             Source::rows(&rows)?,
    ///         )
    ///         .build_settings(|s| s.development_mode(true)),
    ///     )
    ///     .await?;
    /// println!("review at {:?}", import.review_url);
    ///
    /// // The raw generated body, checked the same way before sending.
    /// let body = types::CreateHeadlessImportBody {
    ///     schema_id: Some("94187d21-9820-420f-b08c-a80cbbf52604".into()),
    ///     original_filename: Some("contacts.xlsx".into()),
    ///     ..Default::default()
    /// };
    /// let import = client.create_import(body).await?;
    /// # let _ = import; Ok(()) }
    /// ```
    pub async fn create_import(
        &self,
        request: impl Into<CreateRequest>,
    ) -> Result<CreatedImport, Error> {
        let prepared = request.into().prepare()?;
        let mut context = self.context(format!(
            "the endpoint POST {}/headless/imports/",
            self.base_url()
        ));
        context.schema_id = prepared.schema_id;
        let body = bytes::Bytes::from(prepared.body);
        // A create is not idempotent: it is sent again only when Dromo certainly did not act
        // on it (a 429, or no connection could be made), never once its body may have arrived.
        let host = context.host.clone();
        self.retry_policy()
            .run_bounded(
                "create",
                self.call_timeout(),
                None,
                nothing_was_created,
                |_| self.create_once(body.clone(), &context),
            )
            .await
            .map_err(|e| match e {
                // The bound cut an attempt whose body may have reached Dromo.
                Error::CallTimedOut { .. } => Error::CreateOutcomeUnknown {
                    host,
                    kind: Some(crate::ConnectionFailure::Timeout),
                    status: None,
                    import_id: None,
                    response: None,
                    source: Box::new(e),
                },
                other => other,
            })
    }

    async fn create_once(
        &self,
        body: bytes::Bytes,
        context: &RequestContext,
    ) -> Result<CreatedImport, Error> {
        let api = self.api();
        let url = format!("{}/headless/imports/", api.baseurl());
        let body_len = body.len();
        let mut request = api
            .client()
            .post(url)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(
                HeaderName::from_static("api-version"),
                HeaderValue::from_static(generated::Client::api_version()),
            )
            .body(body)
            .build()
            .map_err(|e| Error::Config {
                message: "cannot build the create request".to_owned(),
                source: Some(Box::new(e)),
            })?;
        authenticate(api.inner(), &mut request);
        tracing::debug!(host = %context.host, bytes = body_len, "POST /headless/imports/");

        let response = api
            .client()
            .execute(request)
            .await
            .map_err(|e| sent_but_unanswered(&context.host, e, None, b""))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            let body = read_answer(response).await.map_err(|(e, partial)| {
                sent_but_unanswered(&context.host, e, Some(status), &partial)
            })?;
            // An answer that cannot be read says nothing about whether the import exists.
            let created = CreatedImport::from_response(status, &body)
                .map_err(|e| unreadable_answer(&context.host, status, &body, e))?;
            tracing::debug!(import_id = %created.id, status = %created.status, "created headless import");
            Ok(created)
        } else {
            let headers = response.headers().clone();
            let body = read_limited(response).await;
            let answer = ApiResponse::new(status, &headers, &body);
            if (500..600).contains(&status) {
                // Dromo may fail after it committed the import: nothing proves it was not made.
                return Err(Error::CreateOutcomeUnknown {
                    host: context.host.clone(),
                    kind: None,
                    status: Some(status),
                    import_id: id_in_partial_answer(&body),
                    source: Box::new(ServerText(format!(
                        "Dromo said: {}",
                        answer.messages_or_snippet()
                    ))),
                    response: Some(Box::new(answer)),
                });
            }
            Err(Error::from_response(answer, context))
        }
    }
}

/// The error of a create whose 2xx answer arrived but cannot be read (not the documented
/// shape, no id, an unusable upload URL): the import may exist, with the id the answer shows.
fn unreadable_answer(host: &str, status: u16, body: &[u8], error: Error) -> Error {
    Error::CreateOutcomeUnknown {
        host: host.to_owned(),
        kind: None,
        status: Some(status),
        import_id: id_in_partial_answer(body),
        response: None,
        source: Box::new(error),
    }
}

/// Whether a failed create certainly created nothing: Dromo throttled it (429), or no
/// connection could be made, so the request never left.
fn nothing_was_created(error: &Error) -> bool {
    matches!(error, Error::RateLimited { .. } | Error::Connection { .. })
}

/// Reads a whole answer; on failure, the error and the part that arrived.
async fn read_answer(
    mut response: reqwest::Response,
) -> Result<Vec<u8>, (reqwest::Error, Vec<u8>)> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(body),
            Err(e) => return Err((e, body)),
        }
    }
}

/// The error of a create whose request failed. Before anything was sent (no connection could
/// be made), it is a retryable [`Error::Connection`]; after that, the body may have reached
/// Dromo and the import may exist, so it is [`Error::CreateOutcomeUnknown`], never retryable,
/// with the import's id when the part of the answer that arrived shows it.
fn sent_but_unanswered(
    host: &str,
    error: reqwest::Error,
    status: Option<u16>,
    partial: &[u8],
) -> Error {
    if error.is_connect() && status.is_none() {
        return Error::connection(host, error);
    }
    Error::CreateOutcomeUnknown {
        host: host.to_owned(),
        kind: Some(classify_transport(&error)),
        status,
        import_id: id_in_partial_answer(partial),
        response: None,
        source: Box::new(error),
    }
}

/// The value of the first `"id": "…"` in a JSON answer cut short, if it looks like an id.
fn id_in_partial_answer(partial: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(partial);
    let after_key = &text[text.find("\"id\"")? + 4..];
    let after_colon = after_key.trim_start().strip_prefix(':')?.trim_start();
    let value = after_colon.strip_prefix('"')?;
    let id = &value[..value.find('"')?];
    let plausible = !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    plausible.then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_upload_url() {
        let body = br#"{"id":"94187d21-9820-420f-b08c-a80cbbf52604","status":"AWAITING_UPLOAD","upload":"https://s3.example.com/k?X-Amz-Signature=topsecret","review_url":"https://app.dromo.io/headless/i-1/"}"#;
        let created = CreatedImport::from_response(201, body).unwrap();
        let shown = format!("{created:?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(
            shown.contains("https://s3.example.com/k?<redacted>"),
            "{shown}"
        );
        assert_eq!(created.status, ImportStatus::AwaitingUpload);
    }

    #[test]
    fn ids_are_read_from_cut_answers() {
        assert_eq!(
            id_in_partial_answer(br#"{"id" : "94187d21-9820-420f-b08c-a80cbbf52604", "stat"#)
                .as_deref(),
            Some("94187d21-9820-420f-b08c-a80cbbf52604")
        );
        assert_eq!(
            id_in_partial_answer(br#"{"id": "9418"#),
            None,
            "cut inside the id"
        );
        assert_eq!(id_in_partial_answer(br#"{"id": "a b"}"#), None);
        assert_eq!(id_in_partial_answer(b""), None);
    }

    #[test]
    fn missing_id_and_bad_upload_are_named() {
        let err = CreatedImport::from_response(201, br#"{"status":"PENDING"}"#).unwrap_err();
        assert!(
            matches!(&err, Error::Decode { path, .. } if path == "id"),
            "{err:?}"
        );
        let err =
            CreatedImport::from_response(201, br#"{"id":"i-3","status":"PENDING"}"#).unwrap_err();
        assert!(
            matches!(&err, Error::Decode { path, .. } if path == "id"),
            "a non-UUID id: {err:?}"
        );
        let err = CreatedImport::from_response(
            201,
            br#"{"id":"94187d21-9820-420f-b08c-a80cbbf52604","status":"AWAITING_UPLOAD","upload":"/x?X-Amz-Signature=topsecret"}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("upload URL for import 94187d21-9820-420f-b08c-a80cbbf52604"),
            "{err}"
        );
        assert!(!err.to_string().contains("topsecret"), "{err}");
    }
}
