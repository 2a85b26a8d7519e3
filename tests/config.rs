//! Client configuration: building never panics, the key goes to the API origin only and never
//! shows in `Debug`, the user agent, the environment.

use dromo_client::{Client, Error};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "sk-backend-secret-0123456789";

#[test]
fn a_missing_or_blank_key_is_a_config_error() {
    for builder in [Client::builder(), Client::builder().api_key("   ")] {
        let error = builder.build().unwrap_err();
        assert!(matches!(error, Error::Config { .. }), "{error:?}");
        assert!(error.to_string().contains("Backend license key"), "{error}");
    }
}

#[test]
fn a_key_that_cannot_be_a_header_is_a_config_error_without_the_key() {
    let error = Client::builder()
        .api_key("bad\nkey-secret")
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config { .. }));
    assert!(
        !error.to_string().contains("key-secret") && !format!("{error:?}").contains("key-secret")
    );
}

#[test]
fn malformed_base_urls_are_config_errors() {
    for url in [
        "not a url",
        "ftp://app.dromo.io/api/v1",
        "file:///tmp",
        "https://app.dromo.io/api/v1?x=1",
        "mailto:a@b.c",
    ] {
        let error = Client::builder()
            .api_key(KEY)
            .base_url(url)
            .build()
            .unwrap_err();
        assert!(matches!(error, Error::Config { .. }), "{url}: {error:?}");
        assert!(error.to_string().contains("base URL"), "{error}");
    }
}

#[test]
fn the_default_base_url_is_dromo_production_and_trailing_slashes_are_ignored() {
    let client = Client::builder().api_key(KEY).build().unwrap();
    assert_eq!(client.base_url(), "https://app.dromo.io/api/v1");
    let client = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9/api/v1//")
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/api/v1");
}

#[test]
fn debug_never_shows_the_key() {
    let builder = Client::builder().api_key(KEY);
    assert!(!format!("{builder:?}").contains(KEY));
    let client = builder.build().unwrap();
    let debug = format!("{client:?} {:?}", client.api());
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("redacted"), "{debug}");
}

#[tokio::test]
async fn the_key_and_user_agent_go_with_every_api_call() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/schemas/"))
        .and(header("x-dromo-license-key", KEY))
        .and(header(
            "user-agent",
            concat!("dromo-client/", env!("CARGO_PKG_VERSION")),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/api/v1", server.uri()))
        .build()
        .unwrap();
    let schemas = client
        .api()
        .list_import_schemas()
        .send()
        .await
        .expect("listed");
    assert!(schemas.into_inner().is_empty());
}

#[tokio::test]
async fn the_key_does_not_follow_a_redirect_to_another_origin() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/schemas/"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/steal/", elsewhere.uri())),
        )
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&elsewhere)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/api/v1", api.uri()))
        .build()
        .unwrap();
    let result = client.api().list_import_schemas().send().await;
    assert!(result.is_err(), "a cross-origin redirect is not followed");
    let leaked: Vec<Request> = elsewhere.received_requests().await.unwrap_or_default();
    assert!(
        leaked
            .iter()
            .all(|r| !r.headers.contains_key("x-dromo-license-key")),
        "the key reached another origin"
    );
    assert!(leaked.is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn a_redirect_within_the_api_origin_is_followed_with_the_key() {
    let api = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/schemas/"))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("location", format!("{}/api/v2/schemas/", api.uri())),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/schemas/"))
        .and(header_exists("x-dromo-license-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .expect(1)
        .mount(&api)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("{}/api/v1", api.uri()))
        .build()
        .unwrap();
    client
        .api()
        .list_import_schemas()
        .send()
        .await
        .expect("followed within the origin");
}

#[tokio::test]
async fn a_caller_supplied_http_client_still_gets_the_key_added() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/schemas/"))
        .and(header("x-dromo-license-key", KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    client
        .api()
        .list_import_schemas()
        .send()
        .await
        .expect("listed");
}

#[test]
fn from_env_reads_key_and_base_url() {
    // One test touches the environment, so no other test races with it.
    std::env::remove_var("DROMO_API_KEY");
    std::env::remove_var("DROMO_BASE_URL");
    let error = Client::from_env().unwrap_err();
    assert!(error.to_string().contains("DROMO_API_KEY"), "{error}");

    // Set but empty: say so, not "set one with `api_key(..)`".
    std::env::set_var("DROMO_API_KEY", " ");
    let error = Client::from_env().unwrap_err().to_string();
    assert!(error.contains("DROMO_API_KEY is set but empty"), "{error}");
    assert!(!error.contains("api_key(..)"), "{error}");

    std::env::set_var("DROMO_API_KEY", KEY);
    assert_eq!(
        Client::from_env().unwrap().base_url(),
        "https://app.dromo.io/api/v1"
    );

    std::env::set_var("DROMO_BASE_URL", "http://127.0.0.1:8080/api/v1");
    let client = Client::from_env().unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:8080/api/v1");
    assert!(!format!("{client:?}").contains(KEY));
    std::env::remove_var("DROMO_API_KEY");
    std::env::remove_var("DROMO_BASE_URL");
}
