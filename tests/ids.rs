//! Typed ids: the created id works with our methods and the generated calls alike, and a bad id
//! is an error before any request.

use dromo_client::stand_in::StandIn;
use dromo_client::{Client, Error, ImportId, ImportRequest, Schema, Source, UploadId};
use serde_json::json;
use wiremock::MockServer;

#[tokio::test]
// `ImportId` is `Copy`, but the point is that the reference form users write compiles too.
#[allow(clippy::needless_borrows_for_generic_args)]
async fn the_created_id_works_with_our_methods_and_the_generated_calls() {
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
    let rows = Source::rows([json!({"email": "ada@example.com"})]).unwrap();
    let created = client
        .create_import(ImportRequest::new(Schema::saved(schema_id), rows))
        .await
        .unwrap();

    // Every argument form: `&ImportId`, `ImportId`, `&str`, `String`, `Uuid`.
    let id: &ImportId = &created.id;
    let text = id.to_string();
    for retrieved in [
        client.retrieve_import(id).await,
        client.retrieve_import(*id).await,
        client.retrieve_import(text.as_str()).await,
        client.retrieve_import(text.clone()).await,
        client.retrieve_import(*id.as_uuid()).await,
    ] {
        assert_eq!(retrieved.unwrap().id.as_deref(), Some(text.as_str()));
    }

    // The generated builders take the id (and a reference to it) directly.
    let fetched = client
        .api()
        .retrieve_headless_import()
        .id(created.id)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.id.as_deref(), Some(text.as_str()));
    client
        .api()
        .delete_headless_import()
        .id(&created.id)
        .send()
        .await
        .unwrap();
    assert_eq!(server.import_status(&text), None, "deleted");

    // An import is an upload under the same UUID.
    assert_eq!(UploadId::from(created.id).to_string(), text);
}

#[tokio::test]
async fn a_bad_id_is_an_error_before_any_request() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .api_key("test-key")
        .base_url(server.uri())
        .build()
        .unwrap();
    let err = client.retrieve_import("not-an-id").await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("`not-an-id` is not an import id"), "{shown}");
    assert!(
        shown.contains("94187d21-9820-420f-b08c-a80cbbf52604"),
        "shows the expected form: {shown}"
    );
    assert!(client.result_url("12").await.is_err());
    assert!(client
        .fetch_results::<serde_json::Value>(String::from("x"))
        .await
        .is_err());
    assert!(server.received_requests().await.unwrap().is_empty());
}
