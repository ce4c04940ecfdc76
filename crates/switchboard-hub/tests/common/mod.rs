//! What the hub's integration tests share: waiting for a condition, and calling the hub.
#![allow(dead_code, reason = "each test file uses its own part of it")]

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// Polls `check` every 20 ms until it holds; fails after 30 s naming `what`.
pub async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One call to the hub at `base` as `token`; the status and the JSON answer (null if none).
pub async fn call(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    method: Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = http
        .request(method.clone(), format!("{base}{path}"))
        .bearer_auth(token);
    if method != Method::GET {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}
