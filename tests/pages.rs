//! The list streams: offsets computed across page boundaries, the stop rules (`count`, a short
//! page), the broken documented `next` never followed, retries of a failed page, and every
//! list operation against the stand-in.

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, ImportRequest, RetryPolicy, Schema, Source};
use futures_util::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn uuid(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(server.uri())
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_delay(Duration::from_millis(1)),
        )
        .build()
        .unwrap()
}

fn query(request: &Request, name: &str) -> Option<u64> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse::<f64>().ok())
        .map(|v| v as u64)
}

/// `GET /headless/imports/` over `total` imports, DRF style, with the documented broken `next`.
struct Imports {
    total: usize,
    with_count: bool,
    base: String,
}

impl Respond for Imports {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let offset = query(request, "offset").unwrap_or(0) as usize;
        let limit = query(request, "limit").unwrap_or(100).min(1000) as usize;
        let results: Vec<Value> = (offset..self.total.min(offset + limit))
            .map(|i| json!({"id": uuid(i), "status": "SUCCESSFUL"}))
            .collect();
        let next = (offset + limit < self.total).then(|| {
            format!(
                "{}/api/v1/api/v1/headless/imports/?limit={limit}&offset={}",
                self.base,
                offset + limit
            )
        });
        let mut page = json!({"next": next, "previous": null, "results": results});
        if self.with_count {
            page["count"] = json!(self.total);
        }
        ResponseTemplate::new(200).set_body_json(page)
    }
}

async fn imports_server(total: usize, with_count: bool) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/headless/imports/"))
        .respond_with(Imports {
            total,
            with_count,
            base: server.uri(),
        })
        .mount(&server)
        .await;
    server
}

/// The `(offset, limit)` of every request the server received, and that each was on the list
/// path itself (never on a `next` link).
async fn offsets(server: &MockServer) -> Vec<(u64, u64)> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| {
            assert_eq!(
                r.url.path(),
                "/headless/imports/",
                "followed a link: {}",
                r.url
            );
            (
                query(r, "offset").expect("offset"),
                query(r, "limit").expect("limit"),
            )
        })
        .collect()
}

#[tokio::test]
async fn imports_cross_page_boundaries_once_each_without_following_next() {
    let server = imports_server(2501, true).await;
    let imports: Vec<_> = client(&server)
        .list_imports()
        .page_size(1000)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = imports.iter().map(|i| i.id.clone().unwrap()).collect();
    assert_eq!(ids, (0..2501).map(uuid).collect::<Vec<_>>());
    assert_eq!(
        offsets(&server).await,
        [(0, 1000), (1000, 1000), (2000, 1000)]
    );
}

#[tokio::test]
async fn count_stops_an_exact_multiple_without_an_empty_request() {
    let server = imports_server(2000, true).await;
    let n = client(&server).list_imports().count().await;
    assert_eq!(n, 2000);
    assert_eq!(offsets(&server).await, [(0, 1000), (1000, 1000)]);

    // Without `count`, only an empty (short) page says the list is over.
    let server = imports_server(4, false).await;
    let items: Vec<_> = client(&server)
        .list_imports()
        .page_size(2)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(offsets(&server).await, [(0, 2), (2, 2), (4, 2)]);
}

#[tokio::test]
async fn an_empty_list_is_one_request_and_no_items() {
    let server = imports_server(0, true).await;
    let items: Vec<_> = client(&server).list_imports().try_collect().await.unwrap();
    assert!(items.is_empty());
    assert_eq!(offsets(&server).await, [(0, 1000)]);
}

#[tokio::test]
async fn page_sizes_are_kept_within_the_documented_limit() {
    let server = imports_server(3, true).await;
    let pages = client(&server).list_imports().page_size(5000);
    assert_eq!(pages.page_size_used(), 1000);
    let pages = client(&server).list_imports().page_size(0);
    assert_eq!(pages.page_size_used(), 1);
    assert_eq!(pages.count().await, 3);
    assert_eq!(offsets(&server).await, [(0, 1), (1, 1), (2, 1)]);
}

#[tokio::test]
async fn a_failed_page_is_retried_then_a_lasting_failure_ends_the_stream() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/headless/imports/"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/headless/imports/"))
        .respond_with(Imports {
            total: 3,
            with_count: true,
            base: server.uri(),
        })
        .with_priority(2)
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server).list_imports().try_collect().await.unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/headless/imports/"))
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"detail": "Invalid license key."})),
        )
        .mount(&server)
        .await;
    let results: Vec<Result<_, Error>> = client(&server).list_imports().collect().await;
    assert_eq!(results.len(), 1, "the stream ends at the error");
    let err = results.into_iter().next().unwrap().unwrap_err();
    assert!(
        err.to_string().contains("Invalid license key"),
        "the server's message: {err}"
    );
}

/// `GET /uploads/?start&end`: the slice `[start, end)` of `total` uploads.
struct Uploads {
    total: usize,
}

impl Respond for Uploads {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let start = query(request, "start").unwrap_or(0) as usize;
        let end = query(request, "end").unwrap_or(10_000) as usize;
        let data: Vec<Value> = (start..end.min(self.total))
            .map(|i| json!({"id": uuid(i)}))
            .collect();
        ResponseTemplate::new(200).set_body_json(
            json!({"start": start, "end": end, "total_num_uploads": self.total, "data": data}),
        )
    }
}

#[tokio::test]
async fn uploads_page_by_start_and_end() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/uploads/"))
        .respond_with(Uploads { total: 25 })
        .mount(&server)
        .await;
    let uploads: Vec<_> = client(&server)
        .list_uploads()
        .page_size(10)
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<String> = uploads
        .iter()
        .map(|u| u.id.as_ref().unwrap().to_string())
        .collect();
    assert_eq!(ids, (0..25).map(uuid).collect::<Vec<_>>());
    let ranges: Vec<(u64, u64)> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| (query(r, "start").unwrap(), query(r, "end").unwrap()))
        .collect();
    assert_eq!(ranges, [(0, 10), (10, 20), (20, 30)]);
}

#[tokio::test]
async fn lists_without_paging_are_one_request() {
    let server = MockServer::start().await;
    let connectors: Vec<Value> = (0..3)
        .map(|i| {
            json!({"id": uuid(i), "credentials": uuid(100), "schema": uuid(200),
                   "schedule": {"type": "every_n_minutes", "minutes": 5 + i}, "directory": "/in"})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/headless/sftp/connectors/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            // A `next` is never followed, even here.
            json!({"count": 3, "next": format!("{}/elsewhere/", server.uri()), "previous": null, "results": connectors}),
        ))
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server)
        .list_sftp_connectors()
        .page_size(1)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn every_list_against_the_stand_in() {
    let server = StandIn::start().await.unwrap();
    let client = Client::builder()
        .api_key(server.api_key())
        .base_url(server.base_url())
        .build()
        .unwrap();

    let schema_id = "94187d21-9820-420f-b08c-a80cbbf52604";
    server.add_schema(
        schema_id,
        json!([{"key": "email", "label": "Email", "type": "email"}]),
    );
    let mut created = HashSet::new();
    for i in 0..5 {
        let rows = Source::rows([json!({ "email": format!("p{i}@example.com") })]).unwrap();
        let import = client
            .create_import(ImportRequest::new(Schema::saved(schema_id), rows))
            .await
            .unwrap();
        created.insert(import.id.to_string());
    }
    let listed: HashSet<String> = client
        .list_imports()
        .page_size(2)
        .map_ok(|i| i.id.unwrap())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, created, "every import once, across 3 pages of 2");

    let schemas: Vec<_> = client.list_schemas().try_collect().await.unwrap();
    assert!(
        schemas.iter().any(|s| s.id.as_deref() == Some(schema_id)),
        "{schemas:?}"
    );

    let answer = reqwest::Client::new()
        .post(format!("{}/headless/sftp/credentials/", server.base_url()))
        .header(dromo_client::API_KEY_HEADER, server.api_key())
        .json(
            &json!({"hostname": "sftp.example.com", "port": 22, "user": "ada",
                      "auth_type": "PASSWORD", "password": "pw"}),
        )
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let credentials: Vec<_> = client.list_sftp_credentials().try_collect().await.unwrap();
    assert_eq!(credentials.len(), 1);

    let connectors: Vec<_> = client.list_sftp_connectors().try_collect().await.unwrap();
    assert!(connectors.is_empty());

    // No import has completed: no uploads yet.
    let uploads: Vec<_> = client.list_uploads().try_collect().await.unwrap();
    assert!(uploads.len() <= 5);
}
