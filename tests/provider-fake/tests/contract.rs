//! The fake answers as the contract (messenger-provider.md) says the provider does.

use provider_fake::{FakeChannel, FakeConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

const KEY: &str = "c8cf90444023482f909520d454368d27";

async fn fake() -> provider_fake::RunningFake {
    let channels = [
        "whatsapp:79990000001:active",
        "telegram:bot:active",
        "viber:79990000003:qr",
    ]
    .iter()
    .map(|s| FakeChannel::parse(s).expect("channel"))
    .collect();
    provider_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(KEY, channels))
        .await
        .expect("starts")
}

async fn send(url: &str, key: &str, body: Value) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{url}/v3/message"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("post");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn send_answers_201_and_the_documented_400s() {
    let f = fake().await;
    let ch = f.fake.channels();
    let (wa, tg, viber) = (&ch[0].channel_id, &ch[1].channel_id, &ch[2].channel_id);
    let ok = json!({"channelId": wa, "chatType": "whatsapp", "chatId": "79164569812", "text": "hi", "crmMessageId": "m1"});
    let (s, v) = send(&f.url, KEY, ok.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["chatId"], "79164569812");
    assert!(uuid::Uuid::parse_str(v["messageId"].as_str().expect("id")).is_ok());

    let (s, v) = send(&f.url, KEY, ok).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("REPEATED_CRM_MESSAGE_ID"))
    );
    assert_eq!(v["data"]["crmMessageId"], "m1");
    assert_eq!(v["status"], 400);
    assert!(v["requestId"].is_string());

    let (s, v) = send(&f.url, "wrong", json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

    let (s, v) = send(
        &f.url,
        KEY,
        json!({"channelId": "nope", "chatType": "whatsapp", "chatId": "+7 916", "text": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "INVALID_MESSAGE_DATA");
    assert_eq!(v["data"]["fields"], json!(["channelId", "chatId"]));

    let (_, v) = send(
        &f.url,
        KEY,
        json!({"channelId": tg, "chatType": "whatsapp", "chatId": "79164569812", "text": "x"}),
    )
    .await;
    assert_eq!(v["error"], "WRONG_TRANSPORT");
    assert_eq!(v["data"]["transport"], "telegram");

    let (_, v) = send(&f.url, KEY, json!({"channelId": uuid::Uuid::new_v4().to_string(), "chatType": "whatsapp", "chatId": "79164569812", "text": "x"})).await;
    assert_eq!(v["error"], "CHANNEL_NOT_FOUND");

    let (_, v) = send(
        &f.url,
        KEY,
        json!({"channelId": viber, "chatType": "viber", "chatId": "79164569812", "text": "x"}),
    )
    .await;
    assert_eq!(v["error"], "MESSAGE_CHANNEL_UNAVAILABLE");

    let (_, v) = send(&f.url, KEY, json!({"channelId": wa, "chatType": "whatsapp", "chatId": "79164569812", "text": "x", "contentUri": "https://x/y.png"})).await;
    assert_eq!(v["error"], "MESSAGE_ONLY_TEXT_OR_CONTENT");
    assert_eq!(f.fake.sent().len(), 1);
}

#[tokio::test]
async fn over_500_requests_in_5_seconds_is_429() {
    let f = fake().await;
    let http = reqwest::Client::new();
    let mut codes = Vec::new();
    for _ in 0..505 {
        let r = http
            .get(format!("{}/v3/channels", f.url))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("get");
        codes.push(r.status().as_u16());
    }
    assert!(codes[..500].iter().all(|c| *c == 200));
    assert!(
        codes[500..].iter().all(|c| *c == 429),
        "{:?}",
        &codes[495..]
    );
}

#[tokio::test]
async fn subscribing_probes_the_uri_first() {
    let f = fake().await;
    let http = reqwest::Client::new();
    let patch = |uri: String| {
        http.patch(format!("{}/v3/webhooks", f.url))
            .bearer_auth(KEY)
            .json(&json!({"webhooksUri": uri, "subscriptions": {"messagesAndStatuses": true}}))
            .send()
    };
    let r = patch("not a uri".into()).await.expect("patch");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "uriNotValid"
    );
    // The fake itself answers 401 to an unauthenticated probe: not 200, so refused.
    let r = patch(format!("{}/v3/channels", f.url))
        .await
        .expect("patch");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "testPostNotPassed");
    assert_eq!(v["data"], 401);
    let v: Value = http
        .get(format!("{}/v3/webhooks", f.url))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["webhooksUri"], Value::Null);
}

/// The way client code in the wild calls it (requests/fetch/axios, as found on GitHub):
/// `Authorization: Bearer`, `channelId`/`chatType`/`chatId`/`text` only, sometimes with a
/// trailing slash — accepted like any other send.
#[tokio::test]
async fn sends_shaped_like_clients_in_the_wild_are_accepted() {
    let f = fake().await;
    let wa = f.fake.channels()[0].channel_id.clone();
    for path in ["/v3/message", "/v3/message/"] {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", f.url))
            .header("Authorization", format!("Bearer {KEY}"))
            .header("Content-Type", "application/json")
            .body(format!(
                r#"{{"channelId":"{wa}","chatType":"whatsapp","chatId":"77766961328","text":"hi"}}"#
            ))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), StatusCode::CREATED, "{path}");
    }
    assert_eq!(f.fake.sent().len(), 2);
}
