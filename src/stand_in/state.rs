//! The stand-in's state: saved schemas, imports and their status machine, SFTP credentials and
//! connectors, recorded requests.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tempfile::TempPath;
use uuid::Uuid;

use super::fields::Field;
use super::{Outcome, RecordedRequest};

/// Everything behind the stand-in's mutex. Never held across an `.await`.
pub(crate) struct State {
    pub(crate) outcome: Outcome,
    pub(crate) schemas: HashMap<String, SavedSchema>,
    pub(crate) imports: HashMap<Uuid, Import>,
    pub(crate) credentials: HashMap<Uuid, Credential>,
    pub(crate) connectors: HashMap<Uuid, Connector>,
    pub(crate) requests: VecDeque<RecordedRequest>,
    next_seq: u64,
}

/// A saved import schema: the `ImportSchema` body it answers, and its creation order.
pub(crate) struct SavedSchema {
    pub(crate) seq: u64,
    /// `{id, name, fields, settings, hooks}`.
    pub(crate) body: Map<String, Value>,
}

impl SavedSchema {
    pub(crate) fn name(&self) -> Option<&str> {
        self.body.get("name").and_then(Value::as_str)
    }

    pub(crate) fn fields(&self) -> &Value {
        self.body.get("fields").unwrap_or(&Value::Null)
    }

    pub(crate) fn settings(&self) -> Option<&Map<String, Value>> {
        self.body.get("settings").and_then(Value::as_object)
    }
}

/// SFTP credentials: the `SftpCredential` body (no secrets) and the secrets, kept apart so that
/// no answer can carry them.
pub(crate) struct Credential {
    pub(crate) seq: u64,
    pub(crate) body: Map<String, Value>,
    pub(crate) password: Option<String>,
    pub(crate) private_key: Option<String>,
}

/// An SFTP connector: its `SftpConnector` body.
pub(crate) struct Connector {
    pub(crate) seq: u64,
    pub(crate) body: Map<String, Value>,
}

impl State {
    pub(crate) fn new(outcome: Outcome) -> State {
        State {
            outcome,
            schemas: HashMap::new(),
            imports: HashMap::new(),
            credentials: HashMap::new(),
            connectors: HashMap::new(),
            requests: VecDeque::new(),
            next_seq: 0,
        }
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// The last sequence number given (kept by `persist.rs`).
    pub(crate) fn last_seq(&self) -> u64 {
        self.next_seq
    }

    /// Continues numbering after `last` (a state read back by `persist.rs`).
    pub(crate) fn resume_seq(&mut self, last: u64) {
        self.next_seq = self.next_seq.max(last);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    AwaitingUpload,
    Pending,
    Running,
    Successful,
    NeedsReview,
    Failed,
}

impl Status {
    /// The status named `text` (as [`Status::as_str`] writes it).
    pub(crate) fn parse(text: &str) -> Option<Status> {
        [
            Status::AwaitingUpload,
            Status::Pending,
            Status::Running,
            Status::Successful,
            Status::NeedsReview,
            Status::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingUpload => "AWAITING_UPLOAD",
            Status::Pending => "PENDING",
            Status::Running => "RUNNING",
            Status::Successful => "SUCCESSFUL",
            Status::NeedsReview => "NEEDS_REVIEW",
            Status::Failed => "FAILED",
        }
    }
}

/// A presigned S3 URL that the stand-in issued.
#[derive(Debug, Clone)]
pub(crate) struct Presigned {
    pub(crate) method: &'static str,
    /// The decoded query parameters exactly as issued: any change is a signature mismatch.
    pub(crate) params: BTreeMap<String, String>,
    pub(crate) issued: Instant,
    pub(crate) issued_at: DateTime<Utc>,
    pub(crate) ttl: Duration,
}

impl Presigned {
    pub(crate) fn expired(&self) -> bool {
        self.issued.elapsed() > self.ttl
    }

    pub(crate) fn expires_at(&self) -> DateTime<Utc> {
        chrono::Duration::from_std(self.ttl)
            .ok()
            .and_then(|ttl| self.issued_at.checked_add_signed(ttl))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Where an import's rows come from.
pub(crate) enum Source {
    File {
        original_filename: String,
        upload_url: String,
        presigned: Presigned,
        file: Option<Arc<TempPath>>,
    },
    Data {
        rows: Arc<Vec<Value>>,
    },
}

/// The processed rows of an import.
pub(crate) struct Results {
    pub(crate) file: Arc<TempPath>,
    pub(crate) num_rows: u64,
    /// What typing the cells and running the validators found: any problem means
    /// `NEEDS_REVIEW`.
    pub(crate) verdict: super::validate::Verdict,
}

pub(crate) struct Import {
    pub(crate) id: Uuid,
    pub(crate) seq: u64,
    pub(crate) schema_id: Option<String>,
    pub(crate) fields: Arc<Vec<Field>>,
    pub(crate) source: Source,
    pub(crate) status: Status,
    /// Retrieves answered in the current status.
    pub(crate) polls_in_status: u32,
    /// Retrieves answered 429 so far.
    pub(crate) throttled: u32,
    /// The rows are being processed by a retrieve; others must not start again.
    pub(crate) processing: bool,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
    pub(crate) results: Option<Results>,
    pub(crate) result_urls: Vec<Presigned>,
    /// Presigned URLs issued for the uploaded file itself (upload metadata's `download_url`).
    pub(crate) raw_urls: Vec<Presigned>,
    pub(crate) import_errors: Option<Value>,
    /// `import_metadata.user` as sent (camelCase keys), if any.
    pub(crate) user: Option<Value>,
    /// `settings.importIdentifier` (the import's, else the saved schema's), if any.
    pub(crate) import_identifier: Option<String>,
    /// The key the upload's data is stored under.
    pub(crate) storage_key: Uuid,
}

pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Import {
    pub(crate) fn set_status(&mut self, status: Status) {
        self.status = status;
        self.polls_in_status = 0;
        self.modified = Utc::now();
    }

    pub(crate) fn complete_review(&mut self) -> bool {
        if self.status == Status::NeedsReview && self.results.is_some() {
            // The person fixed what the reasons named.
            self.import_errors = None;
            self.set_status(Status::Successful);
            true
        } else {
            false
        }
    }

    pub(crate) fn fail(&mut self, message: String) {
        self.import_errors = Some(json!([{ "message": message }]));
        self.results = None;
        self.set_status(Status::Failed);
    }

    /// The `HeadlessImport` shape of the list.
    pub(crate) fn summary(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.to_string()));
        if let Some(schema_id) = &self.schema_id {
            m.insert("schema_id".into(), Value::String(schema_id.clone()));
        }
        m.insert("status".into(), Value::String(self.status.as_str().into()));
        if let Source::File {
            original_filename, ..
        } = &self.source
        {
            m.insert(
                "original_filename".into(),
                Value::String(original_filename.clone()),
            );
        }
        m.insert("created_date".into(), timestamp(self.created).into());
        m.insert("modified_date".into(), timestamp(self.modified).into());
        m
    }

    /// Whether the import is a completed upload (`/uploads/`): it reached `SUCCESSFUL` or
    /// `FAILED`. `NEEDS_REVIEW` is not complete until a person submits it.
    pub(crate) fn is_upload(&self) -> bool {
        matches!(self.status, Status::Successful | Status::Failed)
    }

    /// The `Import` shape of `/uploads/` (the upload's id is the headless import's id).
    pub(crate) fn upload(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), Value::String(self.id.to_string()));
        if let Some(identifier) = &self.import_identifier {
            m.insert(
                "import_identifier".into(),
                Value::String(identifier.clone()),
            );
        }
        if let Source::File {
            original_filename, ..
        } = &self.source
        {
            m.insert(
                "raw_upload".into(),
                json!({
                    "filename": original_filename,
                    "storage_key": format!("{}-{original_filename}", self.storage_key),
                }),
            );
        }
        if let Some(user) = &self.user {
            m.insert("user".into(), user.clone());
        }
        m.insert("created_date".into(), timestamp(self.created).into());
        let (upload_status, rows) = match (&self.results, self.status) {
            (Some(results), Status::Successful) => ("PROCESSED", results.num_rows),
            (_, Status::Failed) => ("FAILED", 0),
            _ => ("PROCESSING", 0),
        };
        m.insert("upload_status".into(), upload_status.into());
        m.insert("total_num_rows".into(), rows.into());
        m.insert("invalid_row_indexes".into(), json!([]));
        let errors = match &self.import_errors {
            Some(Value::Array(errors)) => errors.clone(),
            _ => Vec::new(),
        };
        m.insert("errors".into(), Value::Array(errors));
        m.insert("storage_key".into(), self.storage_key.to_string().into());
        let order: Vec<Value> = self
            .fields
            .iter()
            .map(|f| Value::String(f.key.clone()))
            .collect();
        m.insert("field_order".into(), Value::Array(order));
        m
    }

    /// The `HeadlessImportFull` shape of create and retrieve; `origin` is
    /// `http://127.0.0.1:PORT`.
    pub(crate) fn full(&self, origin: &str) -> Value {
        let mut m = self.summary();
        if let Source::File { upload_url, .. } = &self.source {
            m.insert("upload".into(), Value::String(upload_url.clone()));
        }
        let review_url = if self.status == Status::Failed {
            Value::Null
        } else {
            Value::String(format!("{origin}/headless/{}/", self.id))
        };
        m.insert("review_url".into(), review_url);
        let result_metadata = match (&self.results, self.status) {
            (Some(results), Status::Successful) => json!({ "num_rows": results.num_rows }),
            _ => Value::Null,
        };
        m.insert("result_metadata".into(), result_metadata);
        m.insert(
            "import_errors".into(),
            self.import_errors.clone().unwrap_or(Value::Null),
        );
        Value::Object(m)
    }
}
