//! The fake answers as the contract (messenger-provider.md) says the provider does.

use provider_fake::{FakeChannel, FakeConfig, FakeMedia};
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

/// One client for every request (making one reads the system's certificates), keeping no
/// connection: each test has a runtime of its own.
fn http() -> &'static reqwest::Client {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .expect("an HTTP client")
    })
}

async fn send(url: &str, key: &str, body: Value) -> (StatusCode, Value) {
    let r = http()
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
    let http = http();
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
    let http = http();
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
        let r = http()
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

/// The media store: each sample file with its type, length and exact bytes (as shipped in
/// `media/`), without the API key; 404 for any other name.
#[tokio::test]
async fn the_media_route_serves_the_sample_files_without_the_key() {
    let f = fake().await;
    let http = http();
    for media in FakeMedia::ALL {
        let file = media.file_name();
        let r = http
            .get(format!("{}/_fake/media/{file}?filename={file}", f.url))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::OK, "{file}");
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            header("content-type").as_deref(),
            Some(media.content_type())
        );
        let on_disk = std::fs::read(format!("{}/media/{file}", env!("CARGO_MANIFEST_DIR")))
            .expect("sample file");
        assert_eq!(header("content-length"), Some(on_disk.len().to_string()));
        let body = r.bytes().await.expect("body");
        assert_eq!(body.as_ref(), on_disk.as_slice(), "{file}");
        assert_eq!(media.bytes(), on_disk.as_slice(), "{file}");
    }
    let magic: [(FakeMedia, &[u8]); 5] = [
        (FakeMedia::Photo, b"\x89PNG\r\n\x1a\n"),
        (FakeMedia::VoiceNote, b"RIFF"),
        (FakeMedia::Pdf, b"%PDF-1.4"),
        (FakeMedia::Video, b"\x1a\x45\xdf\xa3"),
        (FakeMedia::Contact, b"BEGIN:VCARD"),
    ];
    for (media, start) in magic {
        assert!(media.bytes().starts_with(start), "{media:?}");
    }
    for name in ["nope.png", "generate.py", "..%2Fsrc%2Flib.rs"] {
        let r = http
            .get(format!("{}/_fake/media/{name}", f.url))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{name}");
    }
}

/// Collects the webhook bodies the fake posts (after answering its `{"test": true}` probe).
async fn webhook_receiver(
    f: &provider_fake::RunningFake,
) -> tokio::sync::mpsc::UnboundedReceiver<Value> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                if body != json!({"test": true}) {
                    let _ = tx.send(body);
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let r = http()
        .patch(format!("{}/v3/webhooks", f.url))
        .bearer_auth(KEY)
        .json(&json!({"webhooksUri": hook, "subscriptions": {"messagesAndStatuses": true}}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status(), StatusCode::OK);
    rx
}

/// A client sending a file: one inbound `messages` item with the media's `type` and a
/// `contentUri` that fetches the very bytes; `text` only when there is a caption.
#[tokio::test]
async fn a_client_sending_media_posts_a_content_uri_that_fetches_the_file() {
    let f = fake().await;
    let mut hooks = webhook_receiver(&f).await;
    let wa = f.fake.channels()[0].channel_id.clone();
    let cases = [
        (FakeMedia::Photo, Some("Счёт за март"), "image"),
        (FakeMedia::VoiceNote, None, "audio"),
        (FakeMedia::Pdf, Some("Invoice attached"), "document"),
    ];
    for (media, caption, kind) in cases {
        let id = f
            .fake
            .client_sends_media(&wa, "79164569812", "Ирина", media, caption)
            .expect("sends");
        let body = tokio::time::timeout(std::time::Duration::from_secs(10), hooks.recv())
            .await
            .expect("webhook in time")
            .expect("webhook");
        let items = body["messages"].as_array().expect("messages");
        assert_eq!(items.len(), 1, "{body}");
        let m = &items[0];
        assert_eq!(m["messageId"], id.as_str());
        assert_eq!(m["channelId"], wa.as_str());
        assert_eq!(m["chatType"], "whatsapp");
        assert_eq!(m["chatId"], "79164569812");
        assert_eq!(m["status"], "inbound");
        assert_eq!(m["isEcho"], false);
        assert_eq!(m["contact"]["name"], "Ирина");
        assert_eq!(m["type"], kind);
        assert_eq!(kind, media.provider_type());
        match caption {
            Some(c) => assert_eq!(m["text"], c),
            None => assert!(m.get("text").is_none(), "{m}"),
        }
        let uri = m["contentUri"].as_str().expect("contentUri");
        let file = media.file_name();
        assert_eq!(uri, format!("{}/_fake/media/{file}?filename={file}", f.url));
        let r = reqwest::get(uri).await.expect("fetch");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.bytes().await.expect("bytes").as_ref(), media.bytes());
    }
    let err = f
        .fake
        .client_sends_media("no-such-channel", "79164569812", "x", FakeMedia::Pdf, None)
        .expect_err("unknown channel");
    assert!(err.contains("no-such-channel"), "{err}");
}
