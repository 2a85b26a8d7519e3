//! Fidelity: the stand-in, seen through Prism's validating proxy, answers the way `openapi.json`
//! says, for every one of its 25 operations (success and each error status) and for the whole
//! workflow driven by the crate's `Client`.
//!
//! `prism proxy openapi.json <stand-in> --errors` checks each request and each response against
//! the spec. Prism 5 reports a response violation in two ways: an *error* (a body that does not
//! fit its schema, an undocumented 2xx) replaces the answer with a 500 `application/problem+json`
//! whose `type` ends in `#VIOLATIONS` and whose `validation` lists the violations; a *warning*
//! (an undocumented error status) lets the answer through with the list in the `sl-violations`
//! header. A request that breaks the spec is not forwarded: Prism answers 422 (or 401) itself.
//!
//! Every violation fails the test unless it is one of [`DEPARTURES`], the stand-in's deliberate
//! departures from the spec, each with the documented fact that justifies it (the same facts as
//! the spec corrections of `src/codegen/corrections.rs`). Each departure must also be seen at
//! least once, so the list cannot outlive the behaviour it excuses.
//!
//! `cargo xtask test` installs Prism and sets `DROMO_PRISM_BIN`; without it the test says it is
//! skipped and passes. By hand: `cd xtask/prism && npm ci`, then
//! `DROMO_PRISM_BIN=$PWD/xtask/prism/node_modules/.bin/prism cargo test --test fidelity`.
#![cfg(feature = "stand-in")]

use std::collections::BTreeSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[path = "common/prism.rs"]
mod prism;
use prism::{free_port, Prism};

use dromo_client::stand_in::{Outcome, StandIn};
use dromo_client::{
    Client, Field, FieldType, ImportOptions, ImportOutcome, ImportRequest, ImportStatus, Schema,
    Source, UploadOptions, User,
};
use reqwest::Method;
use serde_json::{json, Value};

/// One violation as Prism reports it.
#[derive(Debug, Clone)]
struct Violation {
    location: Vec<String>,
    code: String,
    message: String,
}

impl Violation {
    fn parse(value: &Value) -> Violation {
        let text = |key: &str| match value.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let location = value
            .get("location")
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Violation {
            location,
            code: text("code"),
            message: text("message"),
        }
    }

    fn at(&self, path: &[&str]) -> bool {
        self.location
            .iter()
            .map(String::as_str)
            .eq(path.iter().copied())
    }

    fn is_undocumented_status(&self) -> bool {
        self.message
            .starts_with("Unable to match the returned status code")
    }
}

/// What a violation is seen with: the operation and the status the stand-in answered.
struct Context<'a> {
    operation: &'a str,
    upstream_status: u16,
}

/// A deliberate departure from the spec, and the documented fact that justifies it.
struct Departure {
    name: &'static str,
    reason: &'static str,
    applies: fn(&Context, &Violation) -> bool,
}

fn undocumented(context: &Context, v: &Violation, operations: &[&str], status: u16) -> bool {
    v.is_undocumented_status()
        && context.upstream_status == status
        && (operations.is_empty() || operations.contains(&context.operation))
}

/// The stand-in's departures from `openapi.json`. Extra response fields (`original_file_download`
/// on retrieve, also a correction) need no entry: the spec's response objects allow them.
const DEPARTURES: &[Departure] = &[
    Departure {
        name: "PENDING status",
        reason: "Dromo's quickstart documents AWAITING_UPLOAD -> PENDING -> RUNNING, the spec's \
                 enum lacks PENDING (corrections.rs: import_status_is_open)",
        applies: |_, v| {
            v.location.first().map(String::as_str) == Some("response")
                && v.location.last().map(String::as_str) == Some("status")
                && v.code == "enum"
        },
    },
    Departure {
        name: "null review_url on FAILED",
        reason: "FAILED imports have no review URL (dromo-api.md); the spec types review_url a \
                 plain string",
        applies: |_, v| v.at(&["response", "body", "review_url"]) && v.code == "type",
    },
    Departure {
        name: "401 for a wrong key",
        reason: "the spec declares the X-Dromo-License-Key scheme but no 401 answer; a frontend \
                 key is rejected (dromo-api.md), and Prism only checks that a key is present",
        applies: |c, v| undocumented(c, v, &[], 401),
    },
    Departure {
        name: "400 for the create rules Prism cannot see",
        reason: "schema_id or fields, original_filename or initial_data: exactly one of each \
                 (dromo-api.md); the spec documents only 201 and 404",
        applies: |c, v| undocumented(c, v, &["createHeadlessImport"], 400),
    },
    Departure {
        name: "400 for the result URL before SUCCESSFUL",
        reason: "results exist once SUCCESSFUL (dromo-api.md); the spec documents only 200",
        applies: |c, v| undocumented(c, v, &["getHeadlessImportUrl"], 400),
    },
    Departure {
        name: "404 for unknown ids where the spec lists no 404",
        reason: "the sibling operations on the same ids document 404 (\"Not found.\"); answering \
                 200 for an id that does not exist would be worse",
        applies: |c, v| {
            undocumented(
                c,
                v,
                &[
                    "getHeadlessImportUrl",
                    "deleteImportSchema",
                    "getUploadMetadata",
                    "deleteUpload",
                    "getUploadUrl",
                    "testSftpConnection",
                ],
                404,
            )
        },
    },
    Departure {
        name: "400 for a schema name already taken",
        reason: "saved schema names are unique within an organization (dromo-api.md); the spec \
                 documents no 400 for schemas",
        applies: |c, v| undocumented(c, v, &["createImportSchema", "updateImportSchema"], 400),
    },
    Departure {
        name: "400 on SFTP updates",
        reason: "an update is checked like the create, which documents 400 (credentials and \
                 connectors)",
        applies: |c, v| undocumented(c, v, &["updateSftpCredentials", "updateSftpConnector"], 400),
    },
    Departure {
        name: "429 when polls are throttled",
        reason: "Dromo documents 12 status polls a minute per import; the spec lists no 429 \
                 (DRF's throttling status, with Retry-After)",
        applies: |c, v| undocumented(c, v, &["retrieveHeadlessImport"], 429),
    },
];

/// The Prism binary, or `None` (after saying so) when the tests run without it.
fn prism_bin() -> Option<PathBuf> {
    match std::env::var_os("DROMO_PRISM_BIN") {
        Some(bin) if !bin.is_empty() => Some(PathBuf::from(bin)),
        _ => {
            eprintln!(
                "fidelity test skipped: DROMO_PRISM_BIN is not set; run `cargo xtask test` \
                 (installs Prism and sets it), or `cd xtask/prism && npm ci` and \
                 `DROMO_PRISM_BIN=$PWD/xtask/prism/node_modules/.bin/prism cargo test --test fidelity`"
            );
            None
        }
    }
}

fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

/// The spec's operation ids.
fn spec_operations() -> BTreeSet<String> {
    let spec: Value = serde_json::from_slice(&std::fs::read(spec_path()).unwrap()).unwrap();
    let mut ids = BTreeSet::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                ids.insert(id.to_owned());
            }
        }
    }
    ids
}

/// A fake SSH server on 127.0.0.1: it sends an identification line to whoever connects.
fn fake_ssh_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let _ = stream.write_all(b"SSH-2.0-FidelityTest_1.0\r\n");
        }
    });
    port
}

/// A runtime that may be dropped inside the test's async context (a plain drop would panic).
struct RealTime(Option<tokio::runtime::Runtime>);

impl Drop for RealTime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What the test saw of one call.
struct Answer {
    upstream_status: u16,
    body: Value,
}

/// Runs calls through the proxy and judges every violation.
struct Run<'a> {
    server: &'a StandIn,
    proxy: &'a Prism,
    http: reqwest::Client,
    operations: BTreeSet<String>,
    departures_seen: BTreeSet<&'static str>,
    failures: Vec<String>,
}

impl Run<'_> {
    /// Judges the violations Prism reported for one exchange.
    fn judge(
        &mut self,
        operation: &str,
        what: &str,
        upstream_status: u16,
        violations: &[Violation],
    ) {
        let context = Context {
            operation,
            upstream_status,
        };
        for violation in violations {
            match DEPARTURES.iter().find(|d| (d.applies)(&context, violation)) {
                Some(departure) => {
                    self.departures_seen.insert(departure.name);
                }
                None => self.failures.push(format!(
                    "{what} ({operation}, stand-in answered {upstream_status}): {violation:?}"
                )),
            }
        }
    }

    /// Sends one request through the proxy (with the key unless `key` says otherwise) and
    /// checks that the stand-in answered `expected`.
    async fn call(
        &mut self,
        operation: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Answer {
        let key = self.server.api_key().to_owned();
        self.call_with_key(operation, method, path, body, Some(&key), Some(expected))
            .await
    }

    /// The newest import's id, asked of the stand-in directly (not a call under test).
    async fn newest_import(&self) -> String {
        let page: Value = self
            .http
            .get(format!(
                "{}/headless/imports/?limit=1",
                self.server.base_url()
            ))
            .header("X-Dromo-License-Key", self.server.api_key())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        page["results"][0]["id"]
            .as_str()
            .expect("an import")
            .to_owned()
    }

    /// Polls import `id` through the proxy until it reaches `status`.
    async fn poll_until(&mut self, id: &str, status: &str) {
        for _ in 0..5 {
            self.poll(id).await;
            if self.server.import_status(id).as_deref() == Some(status) {
                return;
            }
        }
        panic!(
            "import {id} never reached {status}: {:?}",
            self.server.import_status(id)
        );
    }

    /// A retrieve while polling: any status the spec (or a departure) allows will do.
    async fn poll(&mut self, id: &str) -> Answer {
        let key = self.server.api_key().to_owned();
        let path = format!("/headless/imports/{id}/");
        self.call_with_key(
            "retrieveHeadlessImport",
            Method::GET,
            &path,
            None,
            Some(&key),
            None,
        )
        .await
    }

    async fn call_with_key(
        &mut self,
        operation: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
        expected: Option<u16>,
    ) -> Answer {
        self.operations.insert(operation.to_owned());
        let what = format!("{method} {path}");
        let before = self.server.requests().len();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.proxy.url));
        if let Some(key) = key {
            request = request.header("X-Dromo-License-Key", key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the proxy answers");
        let status = response.status().as_u16();
        let mut violations: Vec<Violation> = response
            .headers()
            .get("sl-violations")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| serde_json::from_str::<Vec<Value>>(v).ok())
            .unwrap_or_default()
            .iter()
            .map(Violation::parse)
            .collect();
        let bytes = response.bytes().await.expect("a body");
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);

        let upstream: Vec<u16> = self.server.requests()[before..]
            .iter()
            .filter(|r| r.path.starts_with("/api/v1/"))
            .map(|r| r.status)
            .collect();
        let Some(&upstream_status) = upstream.last() else {
            self.failures.push(format!(
                "{what} ({operation}): Prism did not forward it, answered {status} {body}"
            ));
            return Answer {
                upstream_status: status,
                body,
            };
        };
        let problem = body["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("#VIOLATIONS"));
        if status != upstream_status {
            if status == 500 && problem {
                let listed = body["validation"].as_array().cloned().unwrap_or_default();
                let from_body: Vec<Violation> = listed.iter().map(Violation::parse).collect();
                // The header repeats them: judge each once.
                violations.retain(|h| {
                    !from_body
                        .iter()
                        .any(|b| b.location == h.location && b.message == h.message)
                });
                violations.extend(from_body);
            } else {
                self.failures.push(format!(
                    "{what} ({operation}): Prism answered {status}, the stand-in {upstream_status}: {body}"
                ));
            }
        }
        self.judge(operation, &what, upstream_status, &violations);
        if expected.is_some_and(|expected| expected != upstream_status) {
            self.failures.push(format!(
                "{what} ({operation}): the stand-in answered {upstream_status}, expected {expected:?}"
            ));
        }
        // Stop at the first call that breaks the spec, with Prism's own words.
        assert!(
            self.failures.is_empty(),
            "openapi.json violated (Prism log: {}):\n{}",
            self.proxy.log.display(),
            self.failures.join("\n")
        );
        Answer {
            upstream_status,
            body: if status == upstream_status {
                body
            } else {
                Value::Null
            },
        }
    }
}

fn inline_fields() -> Value {
    json!([
        {"key": "name", "label": "Name", "type": "string"},
        {"key": "email", "label": "Email", "type": "email", "validators": [{"validate": "required"}]},
    ])
}

const UNKNOWN: &str = "0b8a3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d";

#[tokio::test(start_paused = true)]
async fn every_operation_and_the_workflow_fit_the_spec() {
    let Some(bin) = prism_bin() else { return };
    // The stand-in runs on a runtime of its own with the real clock (its SFTP connection test
    // has timeouts), the test on a paused one (the client's 5 s polling floor costs nothing).
    let (stand_in_runtime, server) = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(
                StandIn::builder()
                    .polls_per_step(0)
                    .rate_limit_first_polls(1, 0)
                    .start(),
            )
            .unwrap();
        (RealTime(Some(runtime)), server)
    })
    .join()
    .unwrap();
    let _stand_in_runtime = stand_in_runtime;
    let proxy = Prism::start(&bin, &spec_path(), Some(&server.base_url()), "proxy");
    let mut run = Run {
        server: &server,
        proxy: &proxy,
        http: reqwest::Client::builder()
            .pool_idle_timeout(None)
            .build()
            .unwrap(),
        operations: BTreeSet::new(),
        departures_seen: BTreeSet::new(),
        failures: Vec::new(),
    };
    let get = Method::GET;
    let post = Method::POST;
    let put = Method::PUT;
    let delete = Method::DELETE;

    // The key first: a wrong one is refused before the id is looked up.
    run.call_with_key(
        "retrieveHeadlessImport",
        get.clone(),
        &format!("/headless/imports/{UNKNOWN}/"),
        None,
        Some("frontend-key"),
        Some(401),
    )
    .await;

    // Saved schemas.
    let saved = "94187d21-9820-420f-b08c-a80cbbf52604";
    server.add_schema(saved, inline_fields());
    let got = run
        .call(
            "getImportSchema",
            get.clone(),
            &format!("/schemas/{saved}/"),
            None,
            200,
        )
        .await;
    assert_eq!(got.body["id"], saved);
    let schema_body = json!({
        "name": "contacts",
        "fields": inline_fields(),
        "settings": {"importIdentifier": "contacts", "developmentMode": true},
        "hooks": {"rowHooks": ["(record) => record"]},
    });
    let created = run
        .call(
            "createImportSchema",
            post.clone(),
            "/schemas/",
            Some(schema_body.clone()),
            201,
        )
        .await;
    let schema_id = created.body["id"].as_str().expect("schema id").to_owned();
    run.call(
        "createImportSchema",
        post.clone(),
        "/schemas/",
        Some(schema_body.clone()),
        400,
    )
    .await;
    let listed = run
        .call("listImportSchemas", get.clone(), "/schemas/", None, 200)
        .await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(2));
    let mut renamed = schema_body.clone();
    renamed["name"] = json!("contacts v2");
    run.call(
        "updateImportSchema",
        put.clone(),
        &format!("/schemas/{schema_id}/"),
        Some(renamed.clone()),
        200,
    )
    .await;
    let mut taken = renamed.clone();
    taken["name"] = json!(format!("Stand-in schema {saved}"));
    run.call(
        "updateImportSchema",
        put.clone(),
        &format!("/schemas/{schema_id}/"),
        Some(taken),
        400,
    )
    .await;
    run.call(
        "updateImportSchema",
        put.clone(),
        &format!("/schemas/{UNKNOWN}/"),
        Some(renamed),
        404,
    )
    .await;
    run.call(
        "getImportSchema",
        get.clone(),
        &format!("/schemas/{UNKNOWN}/"),
        None,
        404,
    )
    .await;

    // Headless imports, by hand.
    let file_import = json!({
        "schema_id": schema_id,
        "original_filename": "people.csv",
        "import_metadata": {"user": {"id": "u-1", "name": "Ada", "companyId": "c-1"}},
    });
    let created = run
        .call(
            "createHeadlessImport",
            post.clone(),
            "/headless/imports/",
            Some(file_import),
            201,
        )
        .await;
    let file_id = created.body["id"].as_str().expect("import id").to_owned();
    let upload = created.body["upload"]
        .as_str()
        .expect("upload URL")
        .to_owned();
    run.call(
        "getHeadlessImportUrl",
        get.clone(),
        &format!("/headless/imports/{file_id}/url/"),
        None,
        400,
    )
    .await;
    let put_file = run
        .http
        .put(&upload)
        .body("Name,Email\nAda,ada@example.com\nBob,bob@example.com\n")
        .send()
        .await
        .unwrap();
    assert_eq!(put_file.status(), 200);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(run.poll(&file_id).await.upstream_status);
        if server.import_status(&file_id).as_deref() == Some("SUCCESSFUL") {
            break;
        }
    }
    // The first poll is throttled (429), the next ones run the import.
    assert_eq!(statuses.first(), Some(&429), "{statuses:?}");
    assert_eq!(
        server.import_status(&file_id).as_deref(),
        Some("SUCCESSFUL")
    );
    let url = run
        .call(
            "getHeadlessImportUrl",
            get.clone(),
            &format!("/headless/imports/{file_id}/url/"),
            None,
            200,
        )
        .await;
    assert!(url.body["presigned_url"].is_string());

    let rows_import = json!({"fields": inline_fields(), "initial_data": [{"name": "Cy", "email": "cy@example.com"}]});
    // A rows import answers PENDING at once: a departure, so Prism replaces the answer with its
    // 500 and the test finds the new id on the stand-in itself.
    let created = run
        .call(
            "createHeadlessImport",
            post.clone(),
            "/headless/imports/",
            Some(rows_import.clone()),
            201,
        )
        .await;
    assert!(created.body.is_null());
    let rows_id = run.newest_import().await;
    assert_eq!(server.import_status(&rows_id).as_deref(), Some("PENDING"));
    run.poll_until(&rows_id, "SUCCESSFUL").await;

    server.set_outcome(Outcome::Failed);
    run.call(
        "createHeadlessImport",
        post.clone(),
        "/headless/imports/",
        Some(rows_import),
        201,
    )
    .await;
    let failed_id = run.newest_import().await;
    run.poll_until(&failed_id, "FAILED").await;
    server.set_outcome(Outcome::Successful);

    let page = run
        .call(
            "listHeadlessImports",
            get.clone(),
            "/headless/imports/?offset=0&limit=1",
            None,
            200,
        )
        .await;
    assert_eq!(page.body["count"], 3);
    assert_eq!(page.body["results"][0]["id"], failed_id.as_str());
    assert!(page.body["next"]
        .as_str()
        .is_some_and(|n| n.ends_with("/api/v1/headless/imports/?limit=1&offset=1")));
    run.call(
        "listHeadlessImports",
        get.clone(),
        "/headless/imports/?offset=1&limit=1",
        None,
        200,
    )
    .await;

    run.call(
        "createHeadlessImport",
        post.clone(),
        "/headless/imports/",
        Some(json!({"schema_id": UNKNOWN, "original_filename": "people.csv"})),
        404,
    )
    .await;
    run.call(
        "createHeadlessImport",
        post.clone(),
        "/headless/imports/",
        Some(json!({"schema_id": schema_id, "fields": inline_fields(), "original_filename": "people.csv"})),
        400,
    )
    .await;
    run.call(
        "retrieveHeadlessImport",
        get.clone(),
        &format!("/headless/imports/{UNKNOWN}/"),
        None,
        404,
    )
    .await;
    run.call(
        "getHeadlessImportUrl",
        get.clone(),
        &format!("/headless/imports/{UNKNOWN}/url/"),
        None,
        404,
    )
    .await;

    // Uploads: the completed imports (the file import, the rows import, the failed one).
    let uploads = run
        .call(
            "listUploads",
            get.clone(),
            "/uploads/?start=1&end=2",
            None,
            200,
        )
        .await;
    assert_eq!(uploads.body["total_num_uploads"], 3);
    assert_eq!(uploads.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(uploads.body["data"][0]["id"], rows_id.as_str());
    let metadata = run
        .call(
            "getUploadMetadata",
            get.clone(),
            &format!("/upload/{file_id}/metadata/"),
            None,
            200,
        )
        .await;
    assert_eq!(metadata.body["upload_status"], "PROCESSED");
    assert_eq!(metadata.body["user"]["id"], "u-1");
    assert_eq!(metadata.body["import_identifier"], "contacts");
    let raw = metadata.body["raw_upload"]["download_url"]
        .as_str()
        .expect("download_url");
    let raw = run
        .http
        .get(raw)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(raw.starts_with("Name,Email\nAda"), "{raw}");
    let data = run
        .call(
            "getUploadUrl",
            get.clone(),
            &format!("/upload/{file_id}/url/"),
            None,
            200,
        )
        .await;
    let data_url = data.body["presigned_url"].as_str().expect("presigned_url");
    let rows: Value = run
        .http
        .get(data_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows[1]["email"], "bob@example.com");
    for operation in ["getUploadMetadata", "getUploadUrl"] {
        let tail = if operation == "getUploadUrl" {
            "url"
        } else {
            "metadata"
        };
        run.call(
            operation,
            get.clone(),
            &format!("/upload/{UNKNOWN}/{tail}/"),
            None,
            404,
        )
        .await;
    }
    run.call(
        "deleteUpload",
        post.clone(),
        &format!("/upload/{failed_id}/delete/"),
        None,
        200,
    )
    .await;
    run.call(
        "deleteUpload",
        post.clone(),
        &format!("/upload/{failed_id}/delete/"),
        None,
        404,
    )
    .await;

    // SFTP credentials.
    let ssh_port = fake_ssh_server();
    let closed_port = free_port();
    let credentials = json!({"hostname": "127.0.0.1", "port": ssh_port, "user": "sftp", "auth_type": "PASSWORD", "password": "secret-1"});
    let created = run
        .call(
            "createSftpCredentials",
            post.clone(),
            "/headless/sftp/credentials/",
            Some(credentials.clone()),
            201,
        )
        .await;
    let credential_id = created.body["id"]
        .as_str()
        .expect("credential id")
        .to_owned();
    assert!(created.body.get("password").is_none());
    let no_password =
        json!({"hostname": "127.0.0.1", "port": 22, "user": "sftp", "auth_type": "PASSWORD"});
    let refused = run
        .call(
            "createSftpCredentials",
            post.clone(),
            "/headless/sftp/credentials/",
            Some(no_password.clone()),
            400,
        )
        .await;
    assert_eq!(
        refused.body["detail"],
        "Must supply password for password auth"
    );
    run.call(
        "listSftpCredentials",
        get.clone(),
        "/headless/sftp/credentials/",
        None,
        200,
    )
    .await;
    run.call(
        "retrieveSftpCredentials",
        get.clone(),
        &format!("/headless/sftp/credentials/{credential_id}/"),
        None,
        200,
    )
    .await;
    let tested = run
        .call(
            "testSftpConnection",
            post.clone(),
            &format!("/headless/sftp/credentials/{credential_id}/test_connection/"),
            None,
            200,
        )
        .await;
    assert_eq!(tested.body["success"], true, "{}", tested.body);
    // An update without a password keeps the stored one.
    let moved = json!({"hostname": "localhost", "port": closed_port, "user": "sftp", "auth_type": "PASSWORD"});
    run.call(
        "updateSftpCredentials",
        put.clone(),
        &format!("/headless/sftp/credentials/{credential_id}/"),
        Some(moved),
        200,
    )
    .await;
    let tested = run
        .call(
            "testSftpConnection",
            post.clone(),
            &format!("/headless/sftp/credentials/{credential_id}/test_connection/"),
            None,
            200,
        )
        .await;
    assert_eq!(tested.body["success"], false, "{}", tested.body);
    assert!(tested.body["error"].is_string());
    let as_key = json!({"hostname": "localhost", "port": 22, "user": "sftp", "auth_type": "KEY"});
    run.call(
        "updateSftpCredentials",
        put.clone(),
        &format!("/headless/sftp/credentials/{credential_id}/"),
        Some(as_key),
        400,
    )
    .await;
    run.call(
        "retrieveSftpCredentials",
        get.clone(),
        &format!("/headless/sftp/credentials/{UNKNOWN}/"),
        None,
        404,
    )
    .await;
    run.call(
        "updateSftpCredentials",
        put.clone(),
        &format!("/headless/sftp/credentials/{UNKNOWN}/"),
        Some(credentials.clone()),
        404,
    )
    .await;
    run.call(
        "testSftpConnection",
        post.clone(),
        &format!("/headless/sftp/credentials/{UNKNOWN}/test_connection/"),
        None,
        404,
    )
    .await;

    // SFTP connectors.
    let connector = json!({
        "credentials": credential_id,
        "schema": schema_id,
        "schedule": {"type": "every_n_minutes", "minutes": 15},
        "directory": "/uploads",
        "file_regex": ".*\\.csv$",
    });
    let created = run
        .call(
            "createSftpConnector",
            post.clone(),
            "/headless/sftp/connectors/",
            Some(connector.clone()),
            201,
        )
        .await;
    let connector_id = created.body["id"]
        .as_str()
        .expect("connector id")
        .to_owned();
    let mut dangling = connector.clone();
    dangling["credentials"] = json!(UNKNOWN);
    let refused = run
        .call(
            "createSftpConnector",
            post.clone(),
            "/headless/sftp/connectors/",
            Some(dangling.clone()),
            400,
        )
        .await;
    assert!(refused.body["credentials"].is_array(), "{}", refused.body);
    let daily = json!({
        "credentials": credential_id,
        "schema": saved,
        "schedule": {"type": "daily_at_time", "time_utc": "09:00"},
        "directory": "/in",
        "file_regex": null,
    });
    let updated = run
        .call(
            "updateSftpConnector",
            put.clone(),
            &format!("/headless/sftp/connectors/{connector_id}/"),
            Some(daily.clone()),
            200,
        )
        .await;
    assert_eq!(updated.body["schedule"]["time_utc"], "09:00");
    run.call(
        "updateSftpConnector",
        put.clone(),
        &format!("/headless/sftp/connectors/{connector_id}/"),
        Some(dangling),
        400,
    )
    .await;
    run.call(
        "listSftpConnectors",
        get.clone(),
        "/headless/sftp/connectors/",
        None,
        200,
    )
    .await;
    run.call(
        "retrieveSftpConnector",
        get.clone(),
        &format!("/headless/sftp/connectors/{connector_id}/"),
        None,
        200,
    )
    .await;
    run.call(
        "retrieveSftpConnector",
        get.clone(),
        &format!("/headless/sftp/connectors/{UNKNOWN}/"),
        None,
        404,
    )
    .await;
    run.call(
        "updateSftpConnector",
        put.clone(),
        &format!("/headless/sftp/connectors/{UNKNOWN}/"),
        Some(daily),
        404,
    )
    .await;
    run.call(
        "deleteSftpConnector",
        delete.clone(),
        &format!("/headless/sftp/connectors/{connector_id}/"),
        None,
        204,
    )
    .await;
    run.call(
        "deleteSftpConnector",
        delete.clone(),
        &format!("/headless/sftp/connectors/{connector_id}/"),
        None,
        404,
    )
    .await;
    run.call(
        "deleteSftpCredentials",
        delete.clone(),
        &format!("/headless/sftp/credentials/{credential_id}/"),
        None,
        204,
    )
    .await;
    run.call(
        "deleteSftpCredentials",
        delete.clone(),
        &format!("/headless/sftp/credentials/{credential_id}/"),
        None,
        404,
    )
    .await;

    // Cleanup operations.
    run.call(
        "deleteHeadlessImport",
        delete.clone(),
        &format!("/headless/imports/{file_id}/"),
        None,
        204,
    )
    .await;
    run.call(
        "deleteHeadlessImport",
        delete.clone(),
        &format!("/headless/imports/{file_id}/"),
        None,
        404,
    )
    .await;
    run.call(
        "deleteImportSchema",
        delete.clone(),
        &format!("/schemas/{schema_id}/"),
        None,
        204,
    )
    .await;
    run.call(
        "deleteImportSchema",
        delete.clone(),
        &format!("/schemas/{schema_id}/"),
        None,
        404,
    )
    .await;

    // The whole workflow through the crate's Client, pointed at the proxy: create, upload (to
    // the stand-in's S3 URL), wait (its first poll throttled), results.
    let before = server.requests().len();
    let log_offset = std::fs::metadata(&proxy.log).map_or(0, |m| m.len() as usize);
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(&proxy.url)
        .http_client(
            reqwest::Client::builder()
                .pool_idle_timeout(None)
                .build()
                .unwrap(),
        )
        .transfer_client(
            reqwest::Client::builder()
                .pool_idle_timeout(None)
                .build()
                .unwrap(),
        )
        // Paused clock: no watchdog timer pending while the proxy answers.
        .without_transfer_stall_timeout()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("people.csv");
    std::fs::write(&file, "Name,Email\nDee,dee@example.com\n").unwrap();
    let request = ImportRequest::new(
        Schema::inline([
            Field::new("name", "Name", FieldType::String),
            Field::new("email", "Email", FieldType::Email),
        ]),
        Source::file("people.csv"),
    )
    .user(User::new("u-2"));
    let options =
        ImportOptions::default().with_upload(UploadOptions::default().without_stall_timeout());
    let outcome = client
        .import_file_with::<Value>(&file, request, &options)
        .await
        .expect("the workflow through the proxy");
    assert_eq!(outcome.status(), ImportStatus::Successful);
    let ImportOutcome::Imported { rows, .. } = outcome else {
        panic!("not imported")
    };
    assert_eq!(
        rows,
        vec![json!({"name": "Dee", "email": "dee@example.com"})]
    );
    let workflow: Vec<(String, String, u16)> = server.requests()[before..]
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.status))
        .collect();
    assert!(
        workflow
            .iter()
            .any(|(m, p, _)| m == "PUT" && p.starts_with("/s3/uploads/")),
        "{workflow:?}"
    );
    assert!(
        workflow
            .iter()
            .any(|(_, p, s)| p.ends_with("/url/") && *s == 200),
        "{workflow:?}"
    );
    // Prism saw the workflow's API calls: its log has a `Violation:` line for each violation
    // it let through and a `Request terminated with error` line for each answer it replaced.
    // The only one allowed is the throttled first poll's undocumented 429.
    std::thread::sleep(Duration::from_millis(300));
    let log = std::fs::read_to_string(&proxy.log).unwrap_or_default();
    let workflow_log = log.get(log_offset..).unwrap_or_default();
    let throttled = workflow.iter().any(|(_, _, s)| *s == 429);
    for line in workflow_log.lines() {
        let undocumented = line.contains("Unable to match the returned status code");
        if line.contains("Request terminated with error")
            || (line.contains("Violation:") && !(undocumented && throttled))
        {
            run.failures.push(format!("workflow, Prism log: {line}"));
        }
    }

    // Every operation of the spec was exercised, and every departure was seen.
    let missing: Vec<String> = spec_operations()
        .difference(&run.operations)
        .cloned()
        .collect();
    assert!(missing.is_empty(), "operations not exercised: {missing:?}");
    assert_eq!(run.operations.len(), 25);
    let unseen: Vec<&str> = DEPARTURES
        .iter()
        .map(|d| d.name)
        .filter(|name| !run.departures_seen.contains(name))
        .collect();
    assert!(
        unseen.is_empty(),
        "departures listed but never seen: {unseen:?}"
    );
    for departure in DEPARTURES {
        eprintln!("departure seen: {} ({})", departure.name, departure.reason);
    }
    assert!(
        run.failures.is_empty(),
        "{} violation(s) of openapi.json (Prism log: {}):\n{}",
        run.failures.len(),
        proxy.log.display(),
        run.failures.join("\n")
    );
}
