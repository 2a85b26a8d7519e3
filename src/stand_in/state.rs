//! The stand-in's state: saved schemas, imports and their status machine, recorded requests.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use tempfile::TempPath;
use uuid::Uuid;

use super::{Outcome, RecordedRequest};

/// Everything behind the stand-in's mutex. Never held across an `.await`.
pub(crate) struct State {
    pub(crate) outcome: Outcome,
    pub(crate) schemas: HashMap<String, Value>,
    pub(crate) imports: HashMap<Uuid, Import>,
    pub(crate) requests: Vec<RecordedRequest>,
    next_seq: u64,
}

impl State {
    pub(crate) fn new(outcome: Outcome) -> State {
        State {
            outcome,
            schemas: HashMap::new(),
            imports: HashMap::new(),
            requests: Vec::new(),
            next_seq: 0,
        }
    }

    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
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

/// One field of a schema, as far as the stand-in uses it: for matching headers and keying rows.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) key: String,
    /// Lowercased key, label and `alternateMatches`: a header equal to one of them (trimmed and
    /// lowercased) maps to this field.
    pub(crate) names: Vec<String>,
}

/// Reads a schema's `fields` array. The error is DRF's list of messages for the `fields` key.
pub(crate) fn parse_fields(fields: &Value) -> Result<Vec<Field>, Vec<String>> {
    let Value::Array(items) = fields else {
        return Err(vec![format!(
            "Expected a list of items but got type \"{}\".",
            python_type(fields)
        )]);
    };
    if items.is_empty() {
        return Err(vec!["This list may not be empty.".to_owned()]);
    }
    let mut out: Vec<Field> = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(obj) = item.as_object() else {
            errors.push(format!(
                "Item {i}: expected a field object but got type \"{}\".",
                python_type(item)
            ));
            continue;
        };
        let key = match obj.get("key") {
            Some(Value::String(key)) if !key.is_empty() => key.clone(),
            Some(Value::String(_)) => {
                errors.push(format!("Item {i}: \"key\" may not be blank."));
                continue;
            }
            Some(_) => {
                errors.push(format!("Item {i}: \"key\" must be a string."));
                continue;
            }
            None => {
                errors.push(format!("Item {i}: \"key\" is required."));
                continue;
            }
        };
        if out.iter().any(|f| f.key == key) {
            errors.push(format!("Item {i}: duplicate key \"{key}\"."));
            continue;
        }
        let mut names = vec![key.trim().to_lowercase()];
        if let Some(Value::String(label)) = obj.get("label") {
            names.push(label.trim().to_lowercase());
        }
        if let Some(Value::Array(alternates)) = obj.get("alternateMatches") {
            names.extend(
                alternates
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|a| a.trim().to_lowercase()),
            );
        }
        out.push(Field { key, names });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
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
    pub(crate) len: u64,
    pub(crate) num_rows: u64,
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
    pub(crate) import_errors: Option<Value>,
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
