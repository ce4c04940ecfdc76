//! What the hub takes from the network is bounded: bodies (413 with the error body, nothing
//! stored), the time to send request headers (a slowloris socket is closed), and connections
//! at once (the rest wait). Real sockets against a hub serving on port 0.

use std::time::Duration;
use switchboard_hub::api::EdgeHub;
use switchboard_hub::serve::Limits;
use switchboard_hub::{start, RunningHub, ServeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn hub(limits: Limits) -> (RunningHub, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = start(ServeConfig {
        limits,
        ..ServeConfig::new(dir.path().to_owned(), ([127, 0, 0, 1], 0).into(), false)
    })
    .await
    .expect("hub");
    (hub, dir)
}

fn addr(hub: &RunningHub) -> String {
    hub.url.trim_start_matches("http://").to_owned()
}

/// Sends `head` and reads what comes back until the server closes (or 20 s pass).
async fn exchange(hub: &RunningHub, head: &str) -> String {
    let mut s = TcpStream::connect(addr(hub)).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn rows(hub: &RunningHub) -> i64 {
    hub.hub
        .read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM employees) + (SELECT max(seq) FROM changes)",
                [],
                |r| r.get::<_, Option<i64>>(0),
            )?
            .unwrap_or(0))
        })
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_413_with_the_error_body_and_store_nothing() {
    let (hub, _dir) = hub(Limits::default()).await;
    let before = rows(&hub).await;
    for (path, size) in [
        (
            format!("/webhooks/provider/{}", hub.hub.ingress_secret()),
            10 * 1024 * 1024 + 1,
        ),
        ("/api/v1/employees".to_owned(), 1024 * 1024 + 1),
    ] {
        let answer = exchange(
            &hub,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n{{",
                hub.admin_token
            ),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(
            answer.contains("\"code\":\"body_too_large\""),
            "{path}: {answer}"
        );
    }
    // A wrong secret is refused before a byte of the body is read (no 10 MiB per stranger).
    let answer = exchange(
        &hub,
        "POST /webhooks/provider/not-the-secret HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\n{",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    // A body with no declared length is cut at the limit as it is read.
    let mut s = TcpStream::connect(addr(&hub)).await.expect("connect");
    let chunk = "x".repeat(1024 * 1024 + 10);
    s.write_all(
        format!(
            "POST /api/v1/employees HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
            hub.admin_token,
            chunk.len()
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await;
    let answer = String::from_utf8_lossy(&out);
    assert!(answer.starts_with("HTTP/1.1 413"), "chunked: {answer}");
    // A body within the limit is read as usual (here: a 400 naming the problem).
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("{}/api/v1/employees", hub.url))
        .bearer_auth(&hub.admin_token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(1000)))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 400);
    assert_eq!(rows(&hub).await, before, "nothing stored");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let (hub, _dir) = hub(Limits {
        header_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let started = std::time::Instant::now();
    // A slowloris: half a request head, then silence.
    let answer = exchange(&hub, "GET /api/v1/me HTTP/1.1\r\nHost: hub\r\nX-Slow: ").await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the socket was still open after 20 s"
    );
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A socket that never sends a byte is closed on the same clock.
    let started = std::time::Instant::now();
    let answer = exchange(&hub, "").await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "a silent socket was still open after 20 s"
    );
    assert!(
        answer.is_empty() || !answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
    // Others are served all along.
    let resp = reqwest::get(format!("{}/openapi.json", hub.url))
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_past_the_limit_wait_for_a_free_one() {
    let (hub, _dir) = hub(Limits {
        max_connections: 3,
        ..Limits::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(addr(&hub)).await.expect("connect"));
    }
    let http = reqwest::Client::new();
    let url = format!("{}/openapi.json", hub.url);
    let waiting = tokio::spawn(async move { http.get(url).send().await.map(|r| r.status()) });
    // Give the server every chance to (wrongly) serve a fourth connection.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "a fourth connection was served past the limit"
    );
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(20), waiting)
        .await
        .expect("served once a connection closed")
        .expect("task")
        .expect("request");
    assert_eq!(status, 200);
    hub.stop().await;
}
