//! [`StandInBuilder::state_dir`](super::StandInBuilder::state_dir): the state kept as JSON in a
//! directory, so that a stand-in restarted on it has its saved schemas, imports (with their
//! uploaded files and results), SFTP credentials and connectors back.
//!
//! `DIR/state.json` holds everything but the files, which are copied to `DIR/files/`. It is
//! written after every request (to a temporary file, then renamed, so a crash leaves the last
//! whole state). An import's upload URL is kept as issued: it names the port, so it works again
//! when the stand-in restarts on the same `--port`. Result URLs are not kept (clients ask for new
//! ones, `GET …/url/`); recorded requests, rate-limit windows and poll counts start afresh.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tempfile::{NamedTempFile, TempPath};
use uuid::Uuid;

use super::fields::parse_fields;
use super::state::{
    Connector, Credential, Import, Presigned, Results, SavedSchema, Source, State, Status,
};
use super::validate::Verdict;

const STATE_FILE: &str = "state.json";
const FILES: &str = "files";
/// Bumped when the layout of `state.json` changes; another version is refused, not misread.
const VERSION: u64 = 1;

/// What a save writes: the JSON, and the files to copy (kept alive by their `Arc`s).
pub(crate) struct Snapshot {
    state: Value,
    files: Vec<(Arc<TempPath>, String)>,
}

/// The state as JSON, taken under the lock; the slow part (copying files) is [`write`].
pub(crate) fn snapshot(state: &State) -> Snapshot {
    let mut files = Vec::new();
    let imports: Vec<Value> = state
        .imports
        .values()
        .map(|import| {
            let definitions: Vec<Value> = import
                .fields
                .iter()
                .map(|f| Value::Object(f.definition.clone()))
                .collect();
            let source = match &import.source {
                Source::File {
                    original_filename,
                    upload_url,
                    presigned,
                    file,
                } => {
                    let upload = file.as_ref().map(|file| {
                        let name = format!("{}.upload", import.id);
                        files.push((file.clone(), name.clone()));
                        name
                    });
                    json!({
                        "original_filename": original_filename,
                        "upload_url": upload_url,
                        "upload_params": presigned.params,
                        "upload_issued_at": presigned.issued_at,
                        "upload_ttl_ms": u64::try_from(presigned.ttl.as_millis()).unwrap_or(u64::MAX),
                        "upload": upload,
                    })
                }
                Source::Data { rows } => json!({ "rows": rows.as_ref() }),
            };
            let results = import.results.as_ref().map(|results| {
                let name = format!("{}.results", import.id);
                files.push((results.file.clone(), name.clone()));
                json!({
                    "file": name,
                    "num_rows": results.num_rows,
                    "problems": results.verdict.problems,
                    "problem_count": results.verdict.problem_count,
                })
            });
            json!({
                "id": import.id,
                "seq": import.seq,
                "schema_id": import.schema_id,
                "fields": definitions,
                "source": source,
                "status": import.status.as_str(),
                "created": import.created,
                "modified": import.modified,
                "results": results,
                "import_errors": import.import_errors,
                "user": import.user,
                "import_identifier": import.import_identifier,
                "storage_key": import.storage_key,
            })
        })
        .collect();
    let schemas: Vec<Value> = state
        .schemas
        .iter()
        .map(|(id, schema)| json!({"id": id, "seq": schema.seq, "body": schema.body}))
        .collect();
    let credentials: Vec<Value> = state
        .credentials
        .iter()
        .map(|(id, c)| {
            json!({
                "id": id, "seq": c.seq, "body": c.body,
                "password": c.password, "private_key": c.private_key,
            })
        })
        .collect();
    let connectors: Vec<Value> = state
        .connectors
        .iter()
        .map(|(id, c)| json!({"id": id, "seq": c.seq, "body": c.body}))
        .collect();
    Snapshot {
        state: json!({
            "version": VERSION,
            "next_seq": state.last_seq(),
            "schemas": schemas,
            "imports": imports,
            "credentials": credentials,
            "connectors": connectors,
        }),
        files,
    }
}

/// Writes a snapshot to `dir`: new files copied, files of deleted imports removed, then
/// `state.json` replaced at once.
pub(crate) fn write(snapshot: &Snapshot, dir: &Path) -> io::Result<()> {
    let files_dir = dir.join(FILES);
    std::fs::create_dir_all(&files_dir)?;
    let mut kept = std::collections::HashSet::new();
    for (source, name) in &snapshot.files {
        let target = files_dir.join(name);
        // An import's upload and results never change once made: copied once.
        if !target.exists() {
            let partial = files_dir.join(format!("{name}.partial"));
            std::fs::copy(&**source, &partial)?;
            std::fs::rename(&partial, &target)?;
        }
        kept.insert(std::ffi::OsString::from(name));
    }
    let partial = dir.join(format!("{STATE_FILE}.partial"));
    std::fs::write(&partial, serde_json::to_vec_pretty(&snapshot.state)?)?;
    std::fs::rename(&partial, dir.join(STATE_FILE))?;
    for entry in std::fs::read_dir(&files_dir)? {
        let entry = entry?;
        if !kept.contains(&entry.file_name()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn invalid(dir: &Path, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "{}: {what} (not a stand-in state directory, or from another version)",
            dir.join(STATE_FILE).display()
        ),
    )
}

/// Reads `dir`'s state into `state`; nothing to read (a new directory) is an empty state.
pub(crate) fn load(dir: &Path, state: &mut State) -> io::Result<()> {
    let path = dir.join(STATE_FILE);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let saved: Value = serde_json::from_slice(&text).map_err(|e| invalid(dir, e))?;
    if saved["version"].as_u64() != Some(VERSION) {
        return Err(invalid(dir, format!("version {}", saved["version"])));
    }
    let files_dir = dir.join(FILES);
    let list = |key: &str| saved[key].as_array().cloned().unwrap_or_default();
    for schema in list("schemas") {
        let (Some(id), Some(seq), Some(body)) = (
            schema["id"].as_str(),
            schema["seq"].as_u64(),
            schema["body"].as_object(),
        ) else {
            return Err(invalid(dir, "a schema without id, seq or body"));
        };
        state.schemas.insert(
            id.to_owned(),
            SavedSchema {
                seq,
                body: body.clone(),
            },
        );
    }
    for c in list("credentials") {
        let (Some(id), Some(seq), Some(body)) =
            (uuid(&c["id"]), c["seq"].as_u64(), c["body"].as_object())
        else {
            return Err(invalid(dir, "SFTP credentials without id, seq or body"));
        };
        let secret = |key: &str| c[key].as_str().map(str::to_owned);
        state.credentials.insert(
            id,
            Credential {
                seq,
                body: body.clone(),
                password: secret("password"),
                private_key: secret("private_key"),
            },
        );
    }
    for c in list("connectors") {
        let (Some(id), Some(seq), Some(body)) =
            (uuid(&c["id"]), c["seq"].as_u64(), c["body"].as_object())
        else {
            return Err(invalid(dir, "an SFTP connector without id, seq or body"));
        };
        state.connectors.insert(
            id,
            Connector {
                seq,
                body: body.clone(),
            },
        );
    }
    for saved_import in list("imports") {
        let import = import(&saved_import, &files_dir).ok_or_else(|| {
            invalid(
                dir,
                format!("import {} could not be read back", saved_import["id"]),
            )
        })??;
        state.imports.insert(import.id, import);
    }
    state.resume_seq(saved["next_seq"].as_u64().unwrap_or(0));
    Ok(())
}

fn uuid(value: &Value) -> Option<Uuid> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok())
}

fn time(value: &Value) -> Option<DateTime<Utc>> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A copy of a kept file in a new temporary file (the stand-in deletes its files when done).
fn restore(files_dir: &Path, name: &str) -> io::Result<Arc<TempPath>> {
    let (file, path) = NamedTempFile::new()?.into_parts();
    drop(file);
    std::fs::copy(files_dir.join(name), &path)?;
    Ok(Arc::new(path))
}

/// One import read back; `None` when a part is missing (a damaged file).
fn import(saved: &Value, files_dir: &Path) -> Option<io::Result<Import>> {
    let id = uuid(&saved["id"])?;
    let definitions = saved["fields"].clone();
    let fields = Arc::new(parse_fields(&definitions).ok()?);
    let status = Status::parse(saved["status"].as_str()?)?;
    let source = &saved["source"];
    let source = if let Some(rows) = source["rows"].as_array() {
        Source::Data {
            rows: Arc::new(rows.clone()),
        }
    } else {
        let issued_at = time(&source["upload_issued_at"])?;
        let ttl = Duration::from_millis(source["upload_ttl_ms"].as_u64()?);
        let age = (Utc::now() - issued_at).to_std().unwrap_or_default();
        let presigned = Presigned {
            method: "PUT",
            params: serde_json::from_value::<BTreeMap<String, String>>(
                source["upload_params"].clone(),
            )
            .ok()?,
            issued: Instant::now().checked_sub(age).unwrap_or_else(Instant::now),
            issued_at,
            ttl,
        };
        let file = match source["upload"].as_str() {
            Some(name) => match restore(files_dir, name) {
                Ok(file) => Some(file),
                Err(e) => return Some(Err(e)),
            },
            None => None,
        };
        Source::File {
            original_filename: source["original_filename"].as_str()?.to_owned(),
            upload_url: source["upload_url"].as_str()?.to_owned(),
            presigned,
            file,
        }
    };
    let results = match saved["results"].as_object() {
        Some(results) => {
            let file = match restore(files_dir, results.get("file")?.as_str()?) {
                Ok(file) => file,
                Err(e) => return Some(Err(e)),
            };
            Some(Results {
                file,
                num_rows: results.get("num_rows")?.as_u64()?,
                verdict: Verdict {
                    problems: serde_json::from_value(results.get("problems")?.clone()).ok()?,
                    problem_count: results.get("problem_count")?.as_u64()?,
                },
            })
        }
        None => None,
    };
    let text = |key: &str| saved[key].as_str().map(str::to_owned);
    let optional = |key: &str| Some(saved[key].clone()).filter(|v| !v.is_null());
    Some(Ok(Import {
        id,
        seq: saved["seq"].as_u64()?,
        schema_id: text("schema_id"),
        fields,
        source,
        status,
        polls_in_status: 0,
        throttled: 0,
        processing: false,
        created: time(&saved["created"])?,
        modified: time(&saved["modified"])?,
        results,
        result_urls: Vec::new(),
        raw_urls: Vec::new(),
        import_errors: optional("import_errors"),
        user: optional("user"),
        import_identifier: text("import_identifier"),
        storage_key: uuid(&saved["storage_key"])?,
    }))
}

/// Where a stand-in keeps its state, and one save at a time.
pub(crate) struct Store {
    pub(crate) dir: PathBuf,
    pub(crate) writing: std::sync::Mutex<()>,
}

impl Store {
    /// Saves the state: a snapshot under the state's lock, then the writing outside it.
    pub(crate) fn save(&self, inner: &super::Inner) {
        let _one_at_a_time = self
            .writing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let snapshot = snapshot(&inner.lock());
        if let Err(e) = write(&snapshot, &self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "stand-in: cannot save its state");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_map_is_kept_as_json() {
        // Guard for the layout: a schema body survives a round trip through the snapshot JSON.
        let mut state = super::State::new(super::super::Outcome::Successful);
        let mut body = serde_json::Map::new();
        body.insert("name".into(), super::json!("people"));
        super::super::schemas::store(&mut state, "s1", body);
        let dir = tempfile::tempdir().unwrap();
        super::write(&super::snapshot(&state), dir.path()).unwrap();
        let mut back = super::State::new(super::super::Outcome::Successful);
        super::load(dir.path(), &mut back).unwrap();
        assert_eq!(back.schemas["s1"].name(), Some("people"));
        assert_eq!(back.last_seq(), state.last_seq());
    }
}
