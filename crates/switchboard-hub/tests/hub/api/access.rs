//! Who may call what: tokens and roles at the HTTP surface.

use super::*;

#[tokio::test]
async fn unknown_token_is_401_and_sellers_cannot_administer() {
    let t = T::new().await;
    assert_refused(
        t.client("nope").chats().await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
    let (_, seller) = t.employee("S", Role::Seller, false).await;
    let seller = t.client(&seller);
    assert_refused(
        seller
            .put_settings(&SettingsPatch {
                notify_supervisors_all: Some(true),
                ..SettingsPatch::default()
            })
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_refused(
        seller
            .create_employee(&new_employee("X", Role::Seller))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // Malformed bodies (an unknown role, no name): the typed client cannot send them, so raw.
    let (s, v) = common::call(
        &t.http,
        &t.hub.url,
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
    let (s, v) = common::call(
        &t.http,
        &t.hub.url,
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
