//! Who may call what: tokens and roles at the HTTP surface.

use super::*;

#[tokio::test]
async fn unknown_token_is_401_and_sellers_cannot_administer() {
    let t = T::new().await;
    let (s, v) = t
        .call("nope", Method::GET, "/api/v1/chats", Value::Null)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["code"], "unauthorized");
    let (_, seller) = t.employee("S", "seller", false).await;
    let (s, _) = t
        .call(
            &seller,
            Method::PUT,
            "/api/v1/settings",
            json!({"notify_supervisors_all": true}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = t
        .call(
            &seller,
            Method::POST,
            "/api/v1/employees",
            json!({"name": "X", "role": "seller"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = t
        .call(
            &t.hub.admin_token,
            Method::POST,
            "/api/v1/employees",
            json!({"name": "X", "role": "boss"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("role: unknown variant `boss`"),
        "{v}"
    );
    let (s, v) = t
        .call(
            &t.hub.admin_token,
            Method::POST,
            "/api/v1/employees",
            json!({"role": "seller"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("missing field `name`"),
        "{v}"
    );
}
