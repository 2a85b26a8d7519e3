//! The stand-in server, driven with raw `reqwest` requests (not the client layer): it must answer
//! like Dromo's API and S3 do.
#![cfg(feature = "stand-in")]

use std::time::Duration;

use dromo_client::stand_in::{Outcome, StandIn};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

const KEY_HEADER: &str = "X-Dromo-License-Key";

fn fields() -> Value {
    json!([
        {"key": "first_name", "label": "First Name", "type": "string"},
        {"key": "email", "label": "Email", "type": "email"},
    ])
}

struct Api {
    server: StandIn,
    http: Client,
}

impl Api {
    async fn start(server: StandIn) -> Api {
        Api {
            server,
            http: Client::new(),
        }
    }

    /// A stand-in whose imports move step by step (`PENDING → RUNNING → outcome`), as Dromo's do.
    async fn default() -> Api {
        Api::start(
            StandIn::builder()
                .polls_per_step(1)
                .start()
                .await
                .expect("stand-in starts"),
        )
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .header(KEY_HEADER, self.server.api_key())
            .send()
            .await
            .expect("GET answered")
    }

    async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.http
            .post(self.url(path))
            .header(KEY_HEADER, self.server.api_key())
            .json(body)
            .send()
            .await
            .expect("POST answered")
    }

    /// Creates an import, asserting 201.
    async fn create(&self, body: &Value) -> Value {
        let response = self.post_json("/headless/imports/", body).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("JSON body")
    }

    async fn retrieve(&self, id: &str) -> Value {
        let response = self.get(&format!("/headless/imports/{id}/")).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("JSON body")
    }

    /// Polls until the status is none of AWAITING_UPLOAD, PENDING, RUNNING; returns every status
    /// seen and the last body.
    async fn poll_to_end(&self, id: &str) -> (Vec<String>, Value) {
        let mut seen = Vec::new();
        for _ in 0..20 {
            let body = self.retrieve(id).await;
            let status = body["status"].as_str().expect("status").to_owned();
            seen.push(status.clone());
            if !matches!(status.as_str(), "AWAITING_UPLOAD" | "PENDING" | "RUNNING") {
                return (seen, body);
            }
        }
        panic!("import {id} never finished: {seen:?}");
    }

    async fn put(&self, url: &str, body: &'static [u8]) -> Response {
        self.http
            .put(url)
            .header("content-type", "text/csv")
            .body(body)
            .send()
            .await
            .expect("PUT answered")
    }

    async fn result_rows(&self, id: &str) -> Value {
        let response = self.get(&format!("/headless/imports/{id}/url/")).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("JSON");
        let url = body["presigned_url"].as_str().expect("presigned_url");
        let download = self.http.get(url).send().await.expect("download");
        assert_eq!(download.status(), StatusCode::OK);
        assert_eq!(download.headers()["content-type"], "application/json");
        let length: usize = download.headers()["content-length"]
            .to_str()
            .expect("text")
            .parse()
            .expect("number");
        let bytes = download.bytes().await.expect("body");
        assert_eq!(bytes.len(), length);
        serde_json::from_slice(&bytes).expect("rows are JSON")
    }
}

fn file_import() -> Value {
    json!({"fields": fields(), "original_filename": "people.csv"})
}

fn str_field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name} in {body}"))
}

async fn text(response: Response) -> String {
    response.text().await.expect("text body")
}

#[tokio::test]
async fn missing_and_wrong_keys_are_401_before_anything_else() {
    let api = Api::default().await;
    let missing = api
        .http
        .get(api.url("/headless/imports/"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        missing.json::<Value>().await.unwrap(),
        json!({"detail": "Authentication credentials were not provided."})
    );

    let wrong = api
        .http
        .post(api.url("/headless/imports/"))
        .header(KEY_HEADER, "frontend-key")
        .json(&file_import())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json::<Value>().await.unwrap(),
        json!({"detail": "Invalid license key."})
    );
    // The key is checked before the path or the id: no 404 tells anything without it.
    for path in [
        "/schemas/66d6300d-1414-4655-83b4-8c80fc527315/",
        "/upload/66d6300d-1414-4655-83b4-8c80fc527315/metadata/",
        "/headless/sftp/connectors/",
        "/no/such/path/",
    ] {
        let response = api.http.get(api.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    let custom = Api::start(StandIn::builder().api_key("k-123").start().await.unwrap()).await;
    assert_eq!(custom.server.api_key(), "k-123");
    assert_eq!(
        custom.get("/headless/imports/").await.status(),
        StatusCode::OK
    );
    let old = custom
        .http
        .get(custom.url("/headless/imports/"))
        .header(KEY_HEADER, "stand-in-backend-key")
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_things_are_404_not_found() {
    let api = Api::default().await;
    let not_found = json!({"detail": "Not found."});
    for path in [
        "/headless/imports/66d6300d-1414-4655-83b4-8c80fc527315/",
        "/headless/imports/not-a-uuid/",
        "/headless/imports/66d6300d-1414-4655-83b4-8c80fc527315/url/",
        "/headless/imports", // no trailing slash
        "/schemas/nope/",
    ] {
        let response = api.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.json::<Value>().await.unwrap(), not_found, "{path}");
    }
    let delete = api
        .http
        .delete(api.url("/headless/imports/66d6300d-1414-4655-83b4-8c80fc527315/"))
        .header(KEY_HEADER, api.server.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    let outside = api
        .http
        .get(api.url("/").replace("/api/v1/", "/elsewhere/"))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    assert_eq!(outside.json::<Value>().await.unwrap(), not_found);
}

#[tokio::test]
async fn wrong_method_is_405_like_drf() {
    let api = Api::default().await;
    let response = api
        .http
        .patch(api.url("/headless/imports/"))
        .header(KEY_HEADER, api.server.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Method \"PATCH\" not allowed."})
    );
}

#[tokio::test]
async fn create_validation_errors_are_400_field_maps() {
    let api = Api::default().await;
    let cases = [
        (
            json!({"schema_id": "s", "fields": fields(), "original_filename": "a.csv"}),
            json!({"non_field_errors": ["Provide either schema_id or fields, not both."]}),
        ),
        (
            json!({"original_filename": "a.csv"}),
            json!({"non_field_errors": ["Provide either schema_id or fields."]}),
        ),
        (
            json!({"fields": fields(), "original_filename": "a.csv", "initial_data": []}),
            json!({"non_field_errors":
                ["Provide either original_filename or initial_data, not both."]}),
        ),
        (
            json!({"fields": fields()}),
            json!({"non_field_errors": ["Provide either original_filename or initial_data."]}),
        ),
    ];
    for (body, expected) in cases {
        let response = api.post_json("/headless/imports/", &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(response.json::<Value>().await.unwrap(), expected, "{body}");
    }

    // Field-level errors are keyed by the field.
    let mixed = json!({"fields": fields(), "initial_data": [{"email": "a"}, ["b"]]});
    let response = api.post_json("/headless/imports/", &mixed).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["initial_data"].is_array(), "{body}");
    let bad_fields = json!({"fields": [{"label": "no key"}], "original_filename": "a.csv"});
    let response = api.post_json("/headless/imports/", &bad_fields).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["fields"].is_array(), "{body}");

    // Malformed JSON.
    let response = api
        .http
        .post(api.url("/headless/imports/"))
        .header(KEY_HEADER, api.server.api_key())
        .header("content-type", "application/json")
        .body("{\"fields\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        str_field(&body, "detail").starts_with("JSON parse error - "),
        "{body}"
    );

    // Not a JSON object.
    let response = api.post_json("/headless/imports/", &json!([1])).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["non_field_errors"].is_array(), "{body}");

    // An unknown saved schema.
    let response = api
        .post_json(
            "/headless/imports/",
            &json!({"schema_id": "missing", "original_filename": "a.csv"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "No schema found with that id"})
    );
    assert!(api.server.requests().iter().all(|r| r.status != 201));
}

#[tokio::test]
async fn initial_data_over_15_mb_is_400() {
    let api = Api::default().await;
    // One row with a 15 MiB string: the body is just over the limit.
    let big = "x".repeat(15 * 1024 * 1024);
    let body = json!({"fields": fields(), "initial_data": [{"first_name": big}]});
    let response = api.post_json("/headless/imports/", &body).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(body["initial_data"][0].is_string(), "{body}");

    // Just under the limit passes.
    let fits = "x".repeat(15 * 1024 * 1024 - 200);
    let body = json!({"fields": fields(), "initial_data": [{"first_name": fits}]});
    let response = api.post_json("/headless/imports/", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn file_import_from_create_to_rows() {
    let api = Api::default().await;
    let created = api.create(&file_import()).await;
    assert_eq!(created["status"], "AWAITING_UPLOAD");
    assert_eq!(created["original_filename"], "people.csv");
    assert_eq!(created["result_metadata"], Value::Null);
    assert_eq!(created["import_errors"], Value::Null);
    let id = str_field(&created, "id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(str_field(&created, "created_date")).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(str_field(&created, "modified_date")).is_ok());
    let origin = api.server.base_url().replace("/api/v1", "");
    assert_eq!(created["review_url"], format!("{origin}/headless/{id}/"));
    let upload = str_field(&created, "upload").to_owned();
    assert!(
        upload.starts_with(&format!(
            "{origin}/s3/uploads/{id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=STANDIN%2F"
        )),
        "{upload}"
    );
    assert!(upload.contains("&X-Amz-Expires=1800&X-Amz-SignedHeaders=host&X-Amz-Signature="));
    let signature = upload.rsplit_once("X-Amz-Signature=").unwrap().1;
    assert_eq!(signature.len(), 64);
    assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));

    // Not uploaded yet: polls stay AWAITING_UPLOAD and there are no results.
    assert_eq!(api.retrieve(&id).await["status"], "AWAITING_UPLOAD");
    assert_eq!(api.retrieve(&id).await["status"], "AWAITING_UPLOAD");
    let early = api.get(&format!("/headless/imports/{id}/url/")).await;
    assert_eq!(early.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        early.json::<Value>().await.unwrap(),
        json!({"detail": "Import is not complete."})
    );

    let csv =
        b"First Name,EMAIL,Notes\nAda,ada@example.com,x\n\"Lovelace, Jr.\",jr@example.com,y\n";
    let put = api.put(&upload, csv).await;
    assert_eq!(put.status(), StatusCode::OK);
    assert!(put.headers().contains_key("etag"));
    assert_eq!(text(put).await, "");
    assert_eq!(api.server.import_status(&id).as_deref(), Some("PENDING"));

    let (seen, done) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["PENDING", "RUNNING", "SUCCESSFUL"]);
    assert_eq!(done["result_metadata"], json!({"num_rows": 2}));
    assert_eq!(done["import_errors"], Value::Null);
    assert_eq!(
        done["upload"],
        upload.as_str(),
        "retrieve keeps the original upload URL"
    );
    assert_eq!(done["original_file_download"], Value::Null);
    assert!(done
        .as_object()
        .unwrap()
        .contains_key("original_file_download"));
    assert_eq!(done["review_url"], format!("{origin}/headless/{id}/"));
    assert_eq!(api.server.import_status(&id).as_deref(), Some("SUCCESSFUL"));

    let rows = api.result_rows(&id).await;
    assert_eq!(
        rows,
        json!([
            {"first_name": "Ada", "email": "ada@example.com"},
            {"first_name": "Lovelace, Jr.", "email": "jr@example.com"},
        ])
    );

    // The upload was recorded without its query, with its headers and length.
    let requests = api.server.requests();
    let put = requests
        .iter()
        .find(|r| r.method == "PUT")
        .expect("the PUT was recorded");
    assert_eq!(put.path, format!("/s3/uploads/{id}"));
    assert_eq!(put.body_len, csv.len() as u64);
    assert_eq!(put.header("content-type"), Some("text/csv"));
    assert_eq!(put.header("x-dromo-license-key"), None);
    assert!(requests.iter().all(|r| !r.path.contains('?')));
}

#[tokio::test]
async fn saved_schema_and_tsv() {
    let api = Api::default().await;
    api.server.add_schema(
        "94187d21-9820-420f-b08c-a80cbbf52604",
        json!({"fields": fields()}),
    );
    let created = api
        .create(&json!({
            "schema_id": "94187d21-9820-420f-b08c-a80cbbf52604",
            "original_filename": "people.tsv",
            "import_metadata": {"user": {"id": "u1", "name": "Jeff"}},
        }))
        .await;
    assert_eq!(created["schema_id"], "94187d21-9820-420f-b08c-a80cbbf52604");
    let id = str_field(&created, "id").to_owned();
    let put = api
        .put(
            str_field(&created, "upload"),
            b"email\tfirst_name\na@b.c\tA, B\n",
        )
        .await;
    assert_eq!(put.status(), StatusCode::OK);
    let (_, done) = api.poll_to_end(&id).await;
    assert_eq!(done["status"], "SUCCESSFUL");
    assert_eq!(
        api.result_rows(&id).await,
        json!([{"first_name": "A, B", "email": "a@b.c"}])
    );
}

#[tokio::test]
async fn chunked_upload_is_501_not_implemented() {
    let api = Api::default().await;
    let created = api.create(&file_import()).await;
    let chunks: Vec<Result<&'static [u8], std::io::Error>> = vec![Ok(b"email\n"), Ok(b"a@b.c\n")];
    let response = api
        .http
        .put(str_field(&created, "upload"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    let body = text(response).await;
    assert!(body.contains("<Code>NotImplemented</Code>"), "{body}");
    assert!(
        body.contains("<Header>Transfer-Encoding</Header>"),
        "{body}"
    );
    assert_eq!(
        api.server
            .import_status(str_field(&created, "id"))
            .as_deref(),
        Some("AWAITING_UPLOAD")
    );
}

#[tokio::test]
async fn streamed_upload_with_a_length_is_accepted() {
    let api = Api::default().await;
    let created = api.create(&file_import()).await;
    let id = str_field(&created, "id").to_owned();
    // About 6 MB in 64 KiB chunks, with the length declared up front.
    let rows = 200_000usize;
    let mut csv = b"email,first_name\n".to_vec();
    for i in 0..rows {
        csv.extend_from_slice(format!("user{i:06}@example.com,Name{i:06}\n").as_bytes());
    }
    let length = csv.len();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        csv.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let response = api
        .http
        .put(str_field(&created, "upload"))
        .header("content-length", length)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        text(response).await
    );
    let (_, done) = api.poll_to_end(&id).await;
    assert_eq!(done["result_metadata"], json!({"num_rows": rows}));
    let put = api
        .server
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(put.body_len, length as u64);
    let result = api.result_rows(&id).await;
    assert_eq!(result.as_array().map(Vec::len), Some(rows));
    assert_eq!(
        result[rows - 1],
        json!({"email": format!("user{:06}@example.com", rows - 1), "first_name": format!("Name{:06}", rows - 1)})
    );
}

#[tokio::test]
async fn expired_upload_url_is_access_denied() {
    let server = StandIn::builder()
        .upload_url_ttl(Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let api = Api::start(server).await;
    let created = api.create(&file_import()).await;
    let upload = str_field(&created, "upload").to_owned();
    assert!(upload.contains("X-Amz-Expires=1&"), "{upload}");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let response = api.put(&upload, b"email\na@b.c\n").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = text(response).await;
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{body}"
    );
    assert!(
        body.contains("<Code>AccessDenied</Code><Message>Request has expired</Message>"),
        "{body}"
    );
    assert!(
        body.contains("<Expires>") && body.contains("<ServerTime>"),
        "{body}"
    );
    assert!(body.contains("<RequestId>"), "{body}");
    assert_eq!(
        api.server
            .import_status(str_field(&created, "id"))
            .as_deref(),
        Some("AWAITING_UPLOAD")
    );
}

#[tokio::test]
async fn tampered_urls_are_signature_mismatches() {
    let api = Api::default().await;
    let created = api.create(&file_import()).await;
    let upload = str_field(&created, "upload").to_owned();
    let (front, signature) = upload.rsplit_once("X-Amz-Signature=").unwrap();
    let other = if signature.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{front}X-Amz-Signature={other}{}", &signature[1..]);
    let response = api.put(&tampered, b"email\na@b.c\n").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(text(response)
        .await
        .contains("<Code>SignatureDoesNotMatch</Code>"));
    // A changed expiry is signed too.
    let longer = upload.replace("X-Amz-Expires=1800", "X-Amz-Expires=604800");
    let response = api.put(&longer, b"email\na@b.c\n").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // The method is signed: a GET on the upload URL is refused.
    let response = api.http.get(&upload).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(text(response)
        .await
        .contains("<Code>SignatureDoesNotMatch</Code>"));
    // No signature at all.
    let bare = upload.split_once('?').unwrap().0;
    let response = api.put(bare, b"email\na@b.c\n").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(text(response).await.contains("<Code>AccessDenied</Code>"));
    // A key header sent to S3 is not refused, just recorded.
    let response = api
        .http
        .put(&upload)
        .header(KEY_HEADER, api.server.api_key())
        .body("email\na@b.c\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let last_put = api
        .server
        .requests()
        .into_iter()
        .rfind(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(last_put.status, 200);
    assert_eq!(
        last_put.header("x-dromo-license-key"),
        Some(api.server.api_key())
    );

    // Result URLs are checked the same way.
    let id = str_field(&created, "id").to_owned();
    api.poll_to_end(&id).await;
    let body: Value = api
        .get(&format!("/headless/imports/{id}/url/"))
        .await
        .json()
        .await
        .unwrap();
    let url = str_field(&body, "presigned_url");
    assert!(url.contains(&format!("/s3/results/{id}.json?X-Amz-Algorithm=")));
    let (front, _) = url.rsplit_once("X-Amz-Signature=").unwrap();
    let forged = format!("{front}X-Amz-Signature={}", "ab".repeat(32));
    let response = api.http.get(forged).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(text(response)
        .await
        .contains("<Code>SignatureDoesNotMatch</Code>"));
}

#[tokio::test]
async fn needs_review_outcome() {
    let server = StandIn::builder()
        .outcome(Outcome::NeedsReview)
        .polls_per_step(1)
        .start()
        .await
        .unwrap();
    let api = Api::start(server).await;
    let created = api.create(&file_import()).await;
    let id = str_field(&created, "id").to_owned();
    api.put(str_field(&created, "upload"), b"email\na@b.c\n")
        .await;
    let (seen, done) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["PENDING", "RUNNING", "NEEDS_REVIEW"]);
    let origin = api.server.base_url().replace("/api/v1", "");
    assert_eq!(done["review_url"], format!("{origin}/headless/{id}/"));
    assert_eq!(done["import_errors"], Value::Null);
    // The review URL is a page (in a browser, for a person).
    let page = api
        .http
        .get(str_field(&done, "review_url"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(text(page).await.contains(&id));
    // It stays there, and has no results yet.
    assert_eq!(api.retrieve(&id).await["status"], "NEEDS_REVIEW");
    let response = api.get(&format!("/headless/imports/{id}/url/")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // A person completes the review.
    assert!(api.server.complete_review(&id));
    assert!(!api.server.complete_review(&id));
    let done = api.retrieve(&id).await;
    assert_eq!(done["status"], "SUCCESSFUL");
    assert_eq!(done["result_metadata"], json!({"num_rows": 1}));
    assert_eq!(
        api.result_rows(&id).await,
        json!([{"first_name": "", "email": "a@b.c"}])
    );
}

#[tokio::test]
async fn failed_outcome_and_set_outcome() {
    let api = Api::default().await;
    api.server.set_outcome(Outcome::Failed);
    let created = api.create(&file_import()).await;
    let id = str_field(&created, "id").to_owned();
    api.put(str_field(&created, "upload"), b"email\na@b.c\n")
        .await;
    let (seen, done) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["PENDING", "RUNNING", "FAILED"]);
    assert_eq!(done["review_url"], Value::Null);
    assert_eq!(done["result_metadata"], Value::Null);
    assert!(done["import_errors"][0]["message"].is_string(), "{done}");
    let response = api.get(&format!("/headless/imports/{id}/url/")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn spreadsheets_fail_as_the_stand_in_cannot_read_them() {
    let api = Api::default().await;
    let created = api
        .create(&json!({"fields": fields(), "original_filename": "people.xlsx"}))
        .await;
    let id = str_field(&created, "id").to_owned();
    api.put(str_field(&created, "upload"), b"PK\x03\x04not really")
        .await;
    let (_, done) = api.poll_to_end(&id).await;
    assert_eq!(done["status"], "FAILED");
    let message = done["import_errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("stand-in parses only CSV/TSV"),
        "{message}"
    );
}

#[tokio::test]
async fn first_polls_are_throttled_with_retry_after() {
    let server = StandIn::builder()
        .rate_limit_first_polls(2, 7)
        .polls_per_step(1)
        .start()
        .await
        .unwrap();
    let api = Api::start(server).await;
    let created = api
        .create(&json!({"fields": fields(), "initial_data": [{"email": "a@b.c"}]}))
        .await;
    let id = str_field(&created, "id").to_owned();
    for _ in 0..2 {
        let response = api.get(&format!("/headless/imports/{id}/")).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "7");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": "Request was throttled. Expected available in 7 seconds."})
        );
    }
    // Throttled polls did not move the import on.
    assert_eq!(api.server.import_status(&id).as_deref(), Some("PENDING"));
    let (seen, _) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["PENDING", "RUNNING", "SUCCESSFUL"]);
}

#[tokio::test]
async fn polls_per_step_sets_how_long_each_status_lasts() {
    let server = StandIn::builder().polls_per_step(3).start().await.unwrap();
    let api = Api::start(server).await;
    let created = api
        .create(&json!({"fields": fields(), "initial_data": [["Ada", "a@b.c"]]}))
        .await;
    let (seen, _) = api.poll_to_end(str_field(&created, "id")).await;
    assert_eq!(
        seen,
        [
            "PENDING",
            "PENDING",
            "PENDING",
            "RUNNING",
            "RUNNING",
            "RUNNING",
            "SUCCESSFUL"
        ]
    );
}

#[tokio::test]
async fn initial_data_import() {
    let api = Api::default().await;
    let created = api
        .create(&json!({
            "fields": fields(),
            "initial_data": [
                {"first_name": "Zeph", "email": "paul.zeph@gmail.com"},
                {"email": "only@example.com"},
            ],
        }))
        .await;
    assert_eq!(created["status"], "PENDING");
    assert!(created.get("upload").is_none(), "{created}");
    let id = str_field(&created, "id").to_owned();
    let (seen, done) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["PENDING", "RUNNING", "SUCCESSFUL"]);
    assert_eq!(done["result_metadata"], json!({"num_rows": 2}));
    assert_eq!(
        api.result_rows(&id).await,
        json!([
            {"first_name": "Zeph", "email": "paul.zeph@gmail.com"},
            {"first_name": "", "email": "only@example.com"},
        ])
    );

    // Arrays of strings in field order.
    let created = api
        .create(&json!({"fields": fields(), "initial_data": [["Ada", "ada@example.com"]]}))
        .await;
    let id = str_field(&created, "id").to_owned();
    api.poll_to_end(&id).await;
    assert_eq!(
        api.result_rows(&id).await,
        json!([{"first_name": "Ada", "email": "ada@example.com"}])
    );
}

#[tokio::test]
async fn by_default_the_first_poll_sees_the_outcome() {
    let api = Api::start(StandIn::start().await.expect("stand-in starts")).await;
    let created = api
        .create(&json!({"fields": fields(), "initial_data": [{"email": "a@b.c"}]}))
        .await;
    assert_eq!(created["status"], "PENDING");
    let id = str_field(&created, "id").to_owned();
    let (seen, _) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["SUCCESSFUL"]);
    assert_eq!(
        api.result_rows(&id).await,
        json!([{"first_name": "", "email": "a@b.c"}])
    );

    // A file: waiting for the upload, then done at the first poll after it.
    api.server.set_outcome(Outcome::NeedsReview);
    let created = api.create(&file_import()).await;
    let id = str_field(&created, "id").to_owned();
    assert_eq!(api.retrieve(&id).await["status"], "AWAITING_UPLOAD");
    api.put(str_field(&created, "upload"), b"email\na@b.c\n")
        .await;
    assert_eq!(api.server.import_status(&id).as_deref(), Some("PENDING"));
    let (seen, _) = api.poll_to_end(&id).await;
    assert_eq!(seen, ["NEEDS_REVIEW"]);
}

#[tokio::test]
async fn list_pages_and_delete() {
    let api = Api::default().await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created = api.create(&file_import()).await;
        ids.push(str_field(&created, "id").to_owned());
    }
    let page: Value = api
        .get("/headless/imports/?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["count"], 3);
    assert_eq!(page["previous"], Value::Null);
    assert_eq!(
        page["next"],
        format!(
            "{}/headless/imports/?limit=2&offset=2",
            api.server.base_url()
        )
    );
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    // Newest first, in the HeadlessImport shape.
    assert_eq!(results[0]["id"], ids[2].as_str());
    assert_eq!(results[0]["status"], "AWAITING_UPLOAD");
    assert!(results[0].get("upload").is_none());

    let last: Value = api
        .get("/headless/imports/?limit=2&offset=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["next"], Value::Null);
    assert_eq!(
        last["previous"],
        format!("{}/headless/imports/?limit=2", api.server.base_url())
    );
    assert_eq!(last["results"][0]["id"], ids[0].as_str());

    let response = api
        .http
        .delete(api.url(&format!("/headless/imports/{}/", ids[0])))
        .header(KEY_HEADER, api.server.api_key())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("/headless/imports/{}/", ids[0]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.server.import_status(&ids[0]), None);
    let page: Value = api.get("/headless/imports/").await.json().await.unwrap();
    assert_eq!(page["count"], 2);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let server = StandIn::start().await.unwrap();
    let url = format!("{}/headless/imports/", server.base_url());
    assert!(reqwest::get(&url).await.is_ok());
    server.shutdown().await;
    let after = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await;
    assert!(after.is_err(), "still answering after shutdown");
}

/// Sends `method` to the API with the key and a JSON body.
async fn send(api: &Api, method: reqwest::Method, path: &str, body: Option<&Value>) -> Response {
    let mut request = api
        .http
        .request(method, api.url(path))
        .header(KEY_HEADER, api.server.api_key());
    if let Some(body) = body {
        request = request.json(body);
    }
    request.send().await.expect("answered")
}

#[tokio::test]
async fn pagination_links_follow_the_host_the_client_used() {
    let api = Api::default().await;
    for _ in 0..2 {
        api.create(&file_import()).await;
    }
    let page: Value = api
        .http
        .get(api.url("/headless/imports/?limit=1"))
        .header(KEY_HEADER, api.server.api_key())
        .header("host", "imports.example.test:8443")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["next"],
        "http://imports.example.test:8443/api/v1/headless/imports/?limit=1&offset=1"
    );
    let forwarded: Value = api
        .http
        .get(api.url("/headless/imports/?limit=1&offset=1"))
        .header(KEY_HEADER, api.server.api_key())
        .header("x-forwarded-host", "proxy.example.test")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        forwarded["previous"],
        "https://proxy.example.test/api/v1/headless/imports/?limit=1"
    );
}

#[tokio::test]
async fn saved_schemas_crud_unique_names_and_create_by_id() {
    let api = Api::default().await;
    let registered = "94187d21-9820-420f-b08c-a80cbbf52604";
    api.server.add_schema(registered, fields());
    let got: Value = api
        .get(&format!("/schemas/{registered}/"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], registered);
    assert_eq!(got["fields"], fields());
    assert_eq!(got["settings"], json!({}));

    let body = json!({
        "name": "people",
        "fields": [{"key": "full_name", "label": "Full Name", "type": "string"}],
        "settings": {"importIdentifier": "people-import"},
    });
    let created = api.post_json("/schemas/", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = str_field(&created, "id").to_owned();
    assert_eq!(created["name"], "people");

    let duplicate = api.post_json("/schemas/", &body).await;
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        duplicate.json::<Value>().await.unwrap(),
        json!({"name": ["import schema with this name already exists."]})
    );
    let missing = api.post_json("/schemas/", &json!({"name": "x"})).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let missing: Value = missing.json().await.unwrap();
    assert_eq!(missing["fields"], json!(["This field is required."]));
    assert_eq!(missing["settings"], json!(["This field is required."]));

    let list: Value = api.get("/schemas/").await.json().await.unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    // A create naming the schema by id uses its fields (and its import identifier).
    let import = api
        .create(&json!({
            "schema_id": id,
            "initial_data": [["Ada Lovelace"]],
            "import_metadata": {"user": {"id": "u-7"}},
        }))
        .await;
    let import_id = str_field(&import, "id").to_owned();
    assert_eq!(import["schema_id"], id.as_str());
    api.poll_to_end(&import_id).await;
    assert_eq!(
        api.result_rows(&import_id).await,
        json!([{"full_name": "Ada Lovelace"}])
    );
    let upload: Value = api
        .get(&format!("/upload/{import_id}/metadata/"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(upload["import_identifier"], "people-import");
    assert_eq!(upload["user"], json!({"id": "u-7"}));
    assert_eq!(upload["field_order"], json!(["full_name"]));

    let mut renamed = body.clone();
    renamed["name"] = json!("people v2");
    let updated = send(
        &api,
        reqwest::Method::PUT,
        &format!("/schemas/{id}/"),
        Some(&renamed),
    )
    .await;
    assert_eq!(updated.status(), StatusCode::OK);
    assert_eq!(updated.json::<Value>().await.unwrap()["name"], "people v2");
    // Its own name is not taken by itself.
    let same = send(
        &api,
        reqwest::Method::PUT,
        &format!("/schemas/{id}/"),
        Some(&renamed),
    )
    .await;
    assert_eq!(same.status(), StatusCode::OK);

    let deleted = send(
        &api,
        reqwest::Method::DELETE,
        &format!("/schemas/{id}/"),
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&format!("/schemas/{id}/")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_documented_field_form_is_accepted() {
    let api = Api::default().await;
    let documented = json!({
        "fields": [
            {"key": "no_type", "label": "No Type"},
            {"key": "tags", "label": "Tags", "type": "multi-select",
             "selectOptions": [{"label": "A", "value": "a"}]},
            {"key": "tags2", "label": "Tags 2", "type": ["multi-select", {"delimiter": ";"}],
             "selectOptions": [{"label": "B", "value": "b"}]},
            {"key": "price", "label": "Price", "type": ["number", "usd"]},
            {"key": "ratio", "label": "Ratio",
             "type": ["number", {"preset": "percent", "outputFormat": "0.00", "min": 0, "max": 1, "round": 2}]},
            {"key": "plan", "label": "Plan", "type": ["select", {"exactMatchOnly": true}],
             "selectOptions": [{"label": "Pro", "value": "pro", "exactMatchOnly": true,
                                "alternateMatches": ["professional"]}]},
            {"key": "when", "label": "When", "type": ["date", {"outputFormat": "YYYY-MM-DD"}],
             "somethingDromoAddsLater": {"x": 1}},
        ],
        "hooks": {
            "stepHooks": [{"type": "REVIEW_STEP_PRE_SUBMIT", "callback": "async (uploader) => {}"}],
            "rowHooks": ["(record) => record"],
            "futureHooks": [],
        },
        "settings": {"developmentMode": true, "someNewSetting": "tolerated"},
        "initial_data": [{"no_type": "x", "price": 3}],
        "unknownTopLevelKey": true,
    });
    let import = api.create(&documented).await;
    let id = str_field(&import, "id").to_owned();
    let (_, done) = api.poll_to_end(&id).await;
    assert_eq!(done["status"], "SUCCESSFUL");
    let schema = api
        .post_json(
            "/schemas/",
            &json!({"name": "documented", "fields": documented["fields"], "settings": {},
                    "hooks": documented["hooks"]}),
        )
        .await;
    assert_eq!(schema.status(), StatusCode::CREATED);

    // What cannot be a field definition is refused, so the acceptance above means something.
    for (field, hooks) in [
        (
            json!({"key": "a", "label": "A", "type": "strnig"}),
            json!({}),
        ),
        (
            json!({"key": "a", "label": "A", "type": ["email", "usd"]}),
            json!({}),
        ),
        (
            json!({"key": "a", "label": "A"}),
            json!({"stepHooks": [{"type": "UPLOAD_STEP"}]}),
        ),
    ] {
        let response = api
            .post_json(
                "/headless/imports/",
                &json!({"fields": [field], "hooks": hooks, "original_filename": "a.csv"}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "{field} {hooks}"
        );
    }
}

#[tokio::test]
async fn uploads_list_metadata_url_and_delete() {
    let api = Api::default().await;
    let mut ids = Vec::new();
    for name in ["one", "two", "three"] {
        let created = api
            .create(&json!({"fields": fields(), "initial_data": [{"first_name": name}]}))
            .await;
        let id = str_field(&created, "id").to_owned();
        api.poll_to_end(&id).await;
        ids.push(id);
    }
    // Not complete yet: not an upload.
    let waiting = api.create(&file_import()).await;
    let waiting_id = str_field(&waiting, "id");

    let page: Value = api
        .get("/uploads/?start=1&end=3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["start"], 1);
    assert_eq!(page["end"], 3);
    assert_eq!(page["total_num_uploads"], 3);
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["id"], ids[1].as_str());
    assert_eq!(data[0]["upload_status"], "PROCESSED");
    assert_eq!(data[0]["total_num_rows"], 1);
    let all: Value = api.get("/uploads/").await.json().await.unwrap();
    assert_eq!(all["end"], 10_000);
    assert_eq!(all["data"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        api.get("/uploads/?start=abc").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.get(&format!("/upload/{waiting_id}/metadata/"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let url: Value = api
        .get(&format!("/upload/{}/url/", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    let rows: Value = api
        .http
        .get(url["presigned_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows, json!([{"first_name": "one", "email": ""}]));

    let deleted = send(
        &api,
        reqwest::Method::POST,
        &format!("/upload/{}/delete/", ids[0]),
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let again = send(
        &api,
        reqwest::Method::POST,
        &format!("/upload/{}/delete/", ids[0]),
        None,
    )
    .await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let page: Value = api.get("/uploads/").await.json().await.unwrap();
    assert_eq!(page["total_num_uploads"], 2);
    let wrong_method = api.get(&format!("/upload/{}/delete/", ids[1])).await;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn sftp_credentials_keep_secrets_and_test_connections_locally() {
    let api = Api::default().await;
    let path = "/headless/sftp/credentials/";
    let refused = api
        .post_json(
            path,
            &json!({"hostname": "h", "port": 22, "user": "u", "auth_type": "KEY"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"detail": "Must supply private key for key auth"})
    );
    let fields = api
        .post_json(path, &json!({"port": 70000, "auth_type": "TOKEN"}))
        .await;
    let fields: Value = fields.json().await.unwrap();
    assert_eq!(fields["hostname"], json!(["This field is required."]));
    assert_eq!(
        fields["port"],
        json!(["Ensure this value is less than or equal to 65535."])
    );
    assert_eq!(
        fields["auth_type"],
        json!(["\"TOKEN\" is not a valid choice."])
    );

    let created = api
        .post_json(
            path,
            &json!({"hostname": "sftp.example.com", "port": 22, "user": "u",
                    "auth_type": "PASSWORD", "password": "hunter2"}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let answer = text(created).await;
    assert!(!answer.contains("hunter2"), "{answer}");
    let created: Value = serde_json::from_str(&answer).unwrap();
    let id = str_field(&created, "id").to_owned();
    let list: Value = api.get(path).await.json().await.unwrap();
    assert_eq!(list["count"], 1);
    assert_eq!(list["next"], Value::Null);
    assert!(!list.to_string().contains("hunter2"));

    // A server on another machine is never contacted: 501, saying so.
    let remote = api
        .post_json(&format!("{path}{id}/test_connection/"), &json!({}))
        .await;
    assert_eq!(remote.status(), StatusCode::NOT_IMPLEMENTED);
    assert!(text(remote).await.contains("does not serve"));

    // A local server that speaks SSH passes; a closed port fails with the reason.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ssh_port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::Write;
        for mut stream in listener.incoming().flatten() {
            let _ = stream.write_all(b"SSH-2.0-Test\r\n");
        }
    });
    let update = |port: u16| json!({"hostname": "127.0.0.1", "port": port, "user": "u", "auth_type": "PASSWORD"});
    let kept = send(
        &api,
        reqwest::Method::PUT,
        &format!("{path}{id}/"),
        Some(&update(ssh_port)),
    )
    .await;
    assert_eq!(
        kept.status(),
        StatusCode::OK,
        "an update keeps the stored password"
    );
    let ok: Value = api
        .post_json(&format!("{path}{id}/test_connection/"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ok, json!({"success": true}));
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    send(
        &api,
        reqwest::Method::PUT,
        &format!("{path}{id}/"),
        Some(&update(closed)),
    )
    .await;
    let failed: Value = api
        .post_json(&format!("{path}{id}/test_connection/"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(failed["success"], false);
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("Could not connect"),
        "{failed}"
    );
}

#[tokio::test]
async fn sftp_connectors_follow_the_schedule_rules() {
    let api = Api::default().await;
    let schema = "94187d21-9820-420f-b08c-a80cbbf52604";
    api.server.add_schema(schema, fields());
    let credential: Value = api
        .post_json(
            "/headless/sftp/credentials/",
            &json!({"hostname": "h", "port": 22, "user": "u", "auth_type": "KEY",
                    "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let credentials = str_field(&credential, "id").to_owned();
    let connector = |schedule: Value| json!({"credentials": credentials, "schema": schema, "schedule": schedule, "directory": "/in"});
    let path = "/headless/sftp/connectors/";
    for (schedule, message) in [
        (
            json!({"type": "every_n_minutes", "minutes": 4}),
            "minutes must be 5 or greater",
        ),
        (
            json!({"type": "daily_at_time", "time_utc": "24:00"}),
            "time_utc must be HH:MM (24-hour, UTC)",
        ),
        (
            json!({"type": "daily_at_time", "time_utc": "9:00"}),
            "time_utc must be HH:MM (24-hour, UTC)",
        ),
        (
            json!({"type": "hourly"}),
            "type must be \"every_n_minutes\" or \"daily_at_time\"",
        ),
    ] {
        let response = api.post_json(path, &connector(schedule.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{schedule}");
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"schedule": [message]})
        );
    }
    let created = api
        .post_json(
            path,
            &connector(json!({"type": "every_n_minutes", "minutes": 5})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["file_regex"], Value::Null);
    let id = str_field(&created, "id").to_owned();
    let daily = connector(json!({"type": "daily_at_time", "time_utc": "23:59"}));
    let updated = send(
        &api,
        reqwest::Method::PUT,
        &format!("{path}{id}/"),
        Some(&daily),
    )
    .await;
    assert_eq!(updated.status(), StatusCode::OK);
    let got: Value = api.get(&format!("{path}{id}/")).await.json().await.unwrap();
    assert_eq!(
        got["schedule"],
        json!({"type": "daily_at_time", "time_utc": "23:59"})
    );

    let mut dangling = daily.clone();
    dangling["schema"] = json!("0b8a3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d");
    let refused = api.post_json(path, &dangling).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.json::<Value>().await.unwrap()["schema"][0]
        .as_str()
        .unwrap()
        .contains("does not exist"));

    let deleted = send(&api, reqwest::Method::DELETE, &format!("{path}{id}/"), None).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let list: Value = api.get(path).await.json().await.unwrap();
    assert_eq!(list["count"], 0);
}

#[tokio::test]
async fn bandwidth_paces_uploads_and_downloads() {
    // 1000 bytes a second: a 500-byte upload takes at least 0.5 s, and so does the download of
    // the rows it gives (more than 500 bytes of JSON).
    let api = Api::start(StandIn::builder().bandwidth(1_000).start().await.unwrap()).await;
    let mut csv = String::from("First Name,Email\n");
    while csv.len() < 500 {
        csv.push_str("Ada,ada@example.com\n");
    }
    let csv = &csv[..csv.rfind('\n').unwrap() + 1];
    let created = api.create(&file_import()).await;
    let id = str_field(&created, "id").to_owned();
    let started = std::time::Instant::now();
    let response = api
        .http
        .put(str_field(&created, "upload"))
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    let upload_time = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    let minimum = Duration::from_secs_f64(csv.len() as f64 / 1_000.0);
    assert!(
        upload_time >= minimum,
        "{} bytes in {upload_time:?}",
        csv.len()
    );

    api.poll_to_end(&id).await;
    let url: Value = api
        .get(&format!("/headless/imports/{id}/url/"))
        .await
        .json()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let body = api
        .http
        .get(url["presigned_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let download_time = started.elapsed();
    assert!(body.len() >= 500, "{}", body.len());
    let minimum = Duration::from_secs_f64(body.len() as f64 / 1_000.0);
    assert!(
        download_time >= minimum,
        "{} bytes in {download_time:?}",
        body.len()
    );
    assert!(
        download_time < minimum * 3,
        "{} bytes in {download_time:?}",
        body.len()
    );

    // Without the option nothing is paced.
    let fast = Api::default().await;
    let created = fast.create(&file_import()).await;
    let started = std::time::Instant::now();
    fast.put(str_field(&created, "upload"), b"First Name\nAda\n")
        .await;
    assert!(started.elapsed() < Duration::from_millis(400));
}
