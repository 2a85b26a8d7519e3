//! The stand-in enforcing Dromo's documented rate limits (`enforce_rate_limits`): 20 creates
//! and 12 polls per import in any window, 429 with `Retry-After` beyond.

use dromo_client::stand_in::StandIn;
use std::time::Duration;

async fn create(server: &StandIn) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/headless/imports/", server.base_url()))
        .header(dromo_client::API_KEY_HEADER, server.api_key())
        .json(&serde_json::json!({"fields": [{"key": "email", "label": "Email"}], "initial_data": [["a@example.com"]]}))
        .send()
        .await
        .unwrap()
}

async fn poll(server: &StandIn, id: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/headless/imports/{id}/", server.base_url()))
        .header(dromo_client::API_KEY_HEADER, server.api_key())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn created_id(server: &StandIn) -> String {
    let answer = create(server).await;
    assert_eq!(answer.status(), 201);
    answer.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_21st_create_in_a_minute_is_refused_with_retry_after() {
    let server = StandIn::builder()
        .enforce_rate_limits(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    for _ in 0..20 {
        created_id(&server).await;
    }
    let refused = create(&server).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Request was throttled"),
        "{body}"
    );
    assert_eq!(server.rate_limited(), 1);
    // Nothing was created by the refused request.
    assert_eq!(
        server.requests().iter().filter(|r| r.status == 201).count(),
        20
    );
}

#[tokio::test]
async fn the_13th_poll_of_one_import_is_refused_not_another_imports() {
    let server = StandIn::builder()
        .enforce_rate_limits(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let first = created_id(&server).await;
    let second = created_id(&server).await;
    for _ in 0..12 {
        assert_eq!(poll(&server, &first).await, 200);
    }
    assert_eq!(poll(&server, &first).await, 429);
    assert_eq!(poll(&server, &second).await, 200);
    assert_eq!(server.rate_limited(), 1);
}

#[tokio::test]
async fn a_scaled_window_frees_up_after_its_period() {
    // Long enough for 20 creates on a busy debug build, short enough to wait out.
    let period = Duration::from_secs(3);
    let server = StandIn::builder()
        .enforce_rate_limits(period)
        .start()
        .await
        .unwrap();
    let start = std::time::Instant::now();
    for _ in 0..20 {
        created_id(&server).await;
    }
    assert!(
        start.elapsed() < period,
        "20 creates took {:?}",
        start.elapsed()
    );
    assert_eq!(create(&server).await.status(), 429);
    tokio::time::sleep(period).await;
    created_id(&server).await;
}

#[tokio::test]
async fn without_the_option_nothing_is_limited() {
    let server = StandIn::start().await.unwrap();
    for _ in 0..25 {
        created_id(&server).await;
    }
    assert_eq!(server.rate_limited(), 0);
}
