//! The fake answers as the contract (crm-bitrix24.md) says Bitrix24 does.

use bitrix24_fake::{FakeConfig, Fault, RunningFake};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn fake() -> RunningFake {
    bitrix24_fake::start(([127, 0, 0, 1], 0).into(), FakeConfig::new(1, "secretcode"))
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

async fn post(f: &RunningFake, method: &str, body: Value) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{}{method}.json", f.webhook))
        .json(&body)
        .send()
        .await
        .expect("post");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn json_form_and_query_calls_with_and_without_the_suffix() {
    let f = fake().await;
    let http = reqwest::Client::new();
    // JSON body.
    let (s, v) = post(&f, "crm.contact.add", json!({"fields": {"NAME": "Ирина", "ASSIGNED_BY_ID": 7, "PHONE": [{"VALUE": "8 (916) 456-98-12", "VALUE_TYPE": "MOBILE"}]}})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["result"].as_u64().expect("integer id");
    assert!(v["time"]["duration"].is_number());
    // Form-urlencoded body, no suffix, PHP brackets.
    let r = http
        .post(format!("{}crm.contact.get", f.webhook))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("id={id}"))
        .send()
        .await
        .expect("post");
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["result"]["ID"], id.to_string());
    assert_eq!(v["result"]["ASSIGNED_BY_ID"], "7");
    assert_eq!(v["result"]["PHONE"][0]["VALUE"], "8 (916) 456-98-12");
    assert_eq!(v["result"]["PHONE"][0]["TYPE_ID"], "PHONE");
    // GET with a query string, as CRest sends it.
    let v: Value = http
        .get(format!(
            "{}crm.duplicate.findbycomm.json?type=PHONE&values[]=89164569812&values[]=%2B7%20999",
            f.webhook
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(v["result"], json!({"CONTACT": [id]}));
    let (_, v) = post(
        &f,
        "crm.duplicate.findbycomm",
        json!({"type": "PHONE", "values": ["70000000000"]}),
    )
    .await;
    assert_eq!(v["result"], json!([]), "nothing found is an empty array");
    let (s, v) = post(&f, "crm.duplicate.findbycomm", json!({"values": ["1"]})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Communication type is not defined");
}

#[tokio::test]
async fn errors_follow_the_documented_shapes() {
    let f = fake().await;
    let r = reqwest::Client::new()
        .post(format!("{}/rest/1/wrong/crm.deal.get.json", f.url))
        .json(&json!({"id": 1}))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "NO_AUTH_FOUND"
    );
    let (s, v) = post(&f, "crm.deal.get", json!({"id": 999})).await;
    assert_eq!(
        (s, v),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "", "error_description": "Not found"})
        )
    );
    let (s, v) = post(
        &f,
        "crm.timeline.comment.add",
        json!({"FIELDS": {"ENTITY_ID": 1, "ENTITY_TYPE": "deal", "COMMENT": "x"}}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (_, v) = post(
        &f,
        "crm.timeline.comment.add",
        json!({"fields": {"ENTITY_ID": 999, "ENTITY_TYPE": "deal", "COMMENT": "x"}}),
    )
    .await;
    assert_eq!(v["error"], "OWNER_NOT_FOUND");
    let (s, v) = post(&f, "no.such.method", json!({})).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("ERROR_METHOD_NOT_FOUND"))
    );
}

#[tokio::test]
async fn lists_page_by_50_and_multi_fields_only_when_selected() {
    let f = fake().await;
    for i in 0..120 {
        f.fake
            .add("lead", json!({"TITLE": format!("lead {i}"), "PHONE": [{"VALUE": format!("+7916000{i:04}")}]}))
            .expect("add");
    }
    let (_, v) = post(&f, "crm.lead.list", json!({"select": ["ID", "TITLE"]})).await;
    assert_eq!(v["result"].as_array().map(Vec::len), Some(50));
    assert_eq!(
        (v["total"].as_u64(), v["next"].as_u64()),
        (Some(120), Some(50))
    );
    assert!(v["result"][0].get("PHONE").is_none());
    let (_, v) = post(
        &f,
        "crm.lead.list",
        json!({"select": ["ID", "PHONE"], "start": 100}),
    )
    .await;
    assert_eq!(v["result"].as_array().map(Vec::len), Some(20));
    assert!(v.get("next").is_none());
    assert!(v["result"][0]["PHONE"].is_array());
    let (_, v) = post(&f, "crm.lead.list", json!({"filter": {">ID": 115}})).await;
    assert_eq!(v["total"], 5);
}

#[tokio::test]
async fn batch_runs_in_order_reports_errors_and_halts() {
    let f = fake().await;
    let deal = f.fake.add("deal", json!({"TITLE": "D"})).expect("deal");
    let (s, v) = post(&f, "batch", json!({"halt": 0, "cmd": {
        "a": format!("crm.timeline.comment.add?fields[ENTITY_ID]={deal}&fields[ENTITY_TYPE]=deal&fields[COMMENT]=one"),
        "b": "crm.deal.get?id=999",
        "c": format!("crm.timeline.comment.add?fields[ENTITY_ID]={deal}&fields[ENTITY_TYPE]=deal&fields[COMMENT]=two"),
    }})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["result"]["result"]["a"], 1);
    assert_eq!(
        v["result"]["result_error"]["b"]["error_description"],
        "Not found"
    );
    assert_eq!(v["result"]["result"]["c"], 2);
    let (_, v) = post(
        &f,
        "batch",
        json!({"halt": 1, "cmd": ["crm.deal.get?id=999", format!("crm.deal.get?id={deal}")]}),
    )
    .await;
    assert_eq!(v["result"]["result"], json!([]), "halted before the second");
    let texts: Vec<String> = f.fake.comments().into_iter().map(|c| c.comment).collect();
    assert_eq!(texts, ["one", "two"]);
}

/// The bucket holds 50: with nothing draining, exactly the first 50 pass whatever the pace of
/// the requests (a slow machine once let all 60 through a bucket draining 20 a second); one
/// that drains takes requests again after a pause.
#[tokio::test]
async fn the_leaky_bucket_refuses_over_50_and_drains() {
    let mut cfg = FakeConfig::new(1, "secretcode");
    cfg.drain_per_sec = 0.0;
    let full = bitrix24_fake::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("starts");
    let mut codes = Vec::new();
    for _ in 0..60 {
        codes.push(post(&full, "user.get", json!({})).await.0.as_u16());
    }
    assert!(codes[..50].iter().all(|c| *c == 200), "{codes:?}");
    assert!(codes[50..].iter().all(|c| *c == 503), "{codes:?}");

    // Draining 20 a second: 200 requests at once overflow it (150 of them would need 7.5 s to
    // fit), and 300 ms later there is room again.
    let mut cfg = FakeConfig::new(1, "secretcode");
    cfg.drain_per_sec = 20.0;
    let f = bitrix24_fake::start(([127, 0, 0, 1], 0).into(), cfg)
        .await
        .expect("starts");
    let burst =
        futures_util::future::join_all((0..200).map(|_| post(&f, "user.get", json!({})))).await;
    assert!(
        burst
            .iter()
            .any(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE),
        "a burst overflows it"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        post(&f, "user.get", json!({})).await.0,
        StatusCode::OK,
        "drained"
    );
    f.fake.inject([Fault::ServerError]);
    assert_eq!(
        post(&f, "user.get", json!({})).await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

/// The outgoing webhook (§10): every add, update and delete is POSTed form-encoded to the
/// handler, in order, with the application token; deleted entities are gone; stage names
/// come from crm.status.list.
#[tokio::test]
async fn the_outgoing_webhook_posts_form_encoded_events_in_order() {
    use axum::routing::post as route_post;
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/handler",
        route_post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                sink.lock().expect("lock").push((ct, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let handler = format!("http://{}/handler", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let f = fake().await;
    f.fake.set_outgoing(Some(bitrix24_fake::Outgoing {
        handler,
        application_token: "tok-1".into(),
    }));
    let (_, v) = post(&f, "crm.deal.add", json!({"fields": {"TITLE": "Сделка"}})).await;
    let id = v["result"].as_u64().expect("id");
    post(
        &f,
        "crm.deal.update",
        json!({"id": id, "fields": {"STAGE_ID": "PREPARATION"}}),
    )
    .await;
    let (s, _) = post(&f, "crm.deal.delete", json!({"id": id})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = post(&f, "crm.deal.get", json!({"id": id})).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some(""))
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while got.lock().expect("lock").len() < 3 {
        assert!(std::time::Instant::now() < deadline, "three events");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let events: Vec<Value> = got
        .lock()
        .expect("lock")
        .iter()
        .map(|(ct, body)| {
            assert_eq!(ct, "application/x-www-form-urlencoded");
            serde_qs::Config::new()
                .use_form_encoding(true)
                .deserialize_str::<Value>(body)
                .expect("PHP-style form")
        })
        .collect();
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        names,
        ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"]
    );
    for e in &events {
        assert_eq!(e["data"]["FIELDS"]["ID"], id.to_string());
        assert_eq!(e["auth"]["application_token"], "tok-1");
        assert!(e["ts"].as_str().is_some_and(|t| t.parse::<i64>().is_ok()));
    }
    let (_, v) = post(
        &f,
        "crm.status.list",
        json!({"filter": {"ENTITY_ID": "DEAL_STAGE"}}),
    )
    .await;
    let prep = v["result"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["STATUS_ID"] == "PREPARATION"))
        .expect("a stage");
    assert_eq!(prep["NAME"], "Подготовка документов");
    assert!(v["result"]
        .as_array()
        .is_some_and(|a| a.iter().all(|s| s["ENTITY_ID"] == "DEAL_STAGE")));
}
