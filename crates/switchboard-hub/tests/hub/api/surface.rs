//! The surface itself: every documented route routed, the typed client, OpenAPI, the CLI, the data directory, the demo.

use super::*;

#[tokio::test]
async fn every_documented_route_is_routed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = switchboard_hub::db::open_hub(&dir.path().join("hub.db")).expect("db");
    switchboard_hub::store::ensure_workspace(&conn).expect("workspace");
    let hub = switchboard_hub::Hub::new(conn, "s".into());
    let documented = every_route_answers(switchboard_hub::api::router(hub.clone())).await;
    // A hub without the `openapi` feature (the desktop's demo) routes the same, and answers
    // each route as the documented router does.
    let plain = every_route_answers(switchboard_hub::api::plain_router(hub)).await;
    assert_eq!(plain, documented);
}

/// Each documented operation's answer (method, path, status) to a request without a token,
/// asserting it is routed.
async fn every_route_answers(router: axum::Router) -> Vec<(String, String, StatusCode)> {
    use tower::ServiceExt;
    let doc = switchboard_hub::api::openapi();
    let mut answers = Vec::new();
    for (path, item) in &doc.paths.paths {
        let concrete = path.replace("{kind}", "leads").replace(['{', '}'], "");
        let methods = [
            (item.get.is_some(), "GET"),
            (item.post.is_some(), "POST"),
            (item.put.is_some(), "PUT"),
            (item.patch.is_some(), "PATCH"),
            (item.delete.is_some(), "DELETE"),
        ];
        for (_, m) in methods.iter().filter(|(has, _)| *has) {
            let req = axum::http::Request::builder()
                .method(*m)
                .uri(&concrete)
                .body(axum::body::Body::empty())
                .expect("request");
            let resp = router.clone().oneshot(req).await.expect("response");
            let status = resp.status();
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .expect("body")
                .to_bytes();
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED,
                "{m} {path} is documented but not routed"
            );
            // The router's own 404 (no such route) is "Not Found"; a handler's names what.
            let unrouted = String::from_utf8_lossy(&body).contains("\"message\":\"Not Found\"");
            assert!(
                !(status == StatusCode::NOT_FOUND && (body.is_empty() || unrouted)),
                "{m} {path} is documented but not routed"
            );
            answers.push((m.to_string(), path.clone(), status));
        }
    }
    assert!(
        answers.len() >= 20,
        "only {} operations documented",
        answers.len()
    );
    answers
}

/// The desktop's typed client calls only what the hub documents (and the hub serves).
#[test]
fn the_typed_client_calls_only_documented_operations() {
    let documented = switchboard_hub::api::operations();
    for op in switchboard_client::ops::ALL {
        assert!(
            documented
                .iter()
                .any(|(m, p)| *m == op.method && p == op.path),
            "{} {} is not in the hub's description",
            op.method,
            op.path
        );
    }
}

#[test]
fn openapi_file_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let generated = switchboard_hub::api::openapi()
        .to_pretty_json()
        .expect("json")
        + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/switchboard-hub/openapi.json is stale: run `make bindings`"
    );
}

#[test]
fn normalize_phone_reads_stdin_line_by_line() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-hub"))
        .args(["normalize-phone", "--eight-as-plus7", "on"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all("8 (916) 456-98-12\n9164569812\ntel:+79164569812\n   \n".as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "+79164569812\nerror:invalid_number\nerror:invalid_chars\nerror:empty\n"
    );
}

#[tokio::test]
async fn a_second_hub_on_the_same_directory_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = ServeConfig::new(dir.path().to_owned(), ([127, 0, 0, 1], 0).into(), false);
    let _first = start(cfg.clone()).await.expect("first");
    let err = start(cfg).await.err().expect("second refuses");
    assert!(
        format!("{err:#}").contains("another hub is already serving"),
        "{err:#}"
    );
}

#[tokio::test]
async fn the_demo_workspace_seeds_roles_channels_crm_and_chats() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = start(ServeConfig::new(
        dir.path().to_owned(),
        ([127, 0, 0, 1], 0).into(),
        true,
    ))
    .await
    .expect("demo");
    let http = reqwest::Client::new();
    let call = |method: Method, path: &str, token: &str| {
        let req = http
            .request(method, format!("{}{path}", hub.url))
            .bearer_auth(token);
        async move {
            req.send()
                .await
                .expect("send")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    let employees = call(Method::GET, "/api/v1/employees", &hub.admin_token).await;
    let employees = employees.as_array().expect("array");
    let roles: std::collections::BTreeSet<&str> = employees
        .iter()
        .filter_map(|e| e["role"].as_str())
        .collect();
    assert_eq!(
        roles,
        ["none", "seller", "supervisor"].into_iter().collect()
    );
    let channels = call(Method::GET, "/api/v1/channels", &hub.admin_token).await;
    let transports: std::collections::BTreeSet<&str> = channels
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["transport"].as_str())
        .collect();
    assert!(transports.len() >= 3, "{transports:?}");
    let boss = employees
        .iter()
        .find(|e| e["role"] == "supervisor")
        .expect("supervisor");
    let path = format!(
        "/api/v1/employees/{}/tokens",
        boss["id"].as_str().expect("id")
    );
    let token = call(Method::POST, &path, &hub.admin_token).await;
    let chats = call(
        Method::GET,
        "/api/v1/chats",
        token["token"].as_str().expect("token"),
    )
    .await;
    let chats = chats.as_array().expect("array");
    assert!(chats.len() >= 5, "the supervisor sees every seeded chat");
    assert!(
        chats
            .iter()
            .any(|c| !c["crm"].as_array().expect("crm").is_empty()),
        "some chats are linked to the CRM"
    );
}
