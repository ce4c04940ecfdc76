//! The hub's search over all history (#15): only what the caller may see, by the beginnings of
//! words in any case and with "е" for "ё", kept to a channel, one's own chats or a period;
//! typed text is never the index's syntax.

use super::T;
use crate::common::assert_refused;
use reqwest::StatusCode;
use switchboard_core::{EntityKind, Role};
use switchboard_wire::NewCrmEntity;

#[tokio::test]
async fn each_caller_finds_only_what_they_may_see() {
    let mut t = T::new().await;
    let (anna, anna_t) = t.employee("Anna", Role::Seller, false).await;
    let (_, boris_t) = t.employee("Boris", Role::Seller, false).await;
    let (_, sofia_t) = t.employee("Sofia", Role::Supervisor, false).await;
    let (_, nina_t) = t.employee("Nina", Role::None, false).await;
    t.admin()
        .crm_create(
            EntityKind::Lead,
            &NewCrmEntity {
                responsible_id: Some(anna),
                ..crate::common::new_entity("Irina", &["+79161111111"])
            },
        )
        .await
        .expect("lead");
    t.client_writes("79161111111", "Пришлите счёт-фактуру №42")
        .await;
    t.client_writes("79162222222", "Нужен счёт на iPhone").await;
    // The index's worker takes new messages within a second or so (not in the webhook's
    // transaction).
    let sofia = t.client(&sofia_t);
    crate::common::until("the search index has both messages", || async {
        sofia
            .search("счет", 50, None, false, None, None)
            .await
            .is_ok_and(|r| r.hits.len() == 2)
    })
    .await;
    let found = |token: String, q: &'static str| {
        let hub = t.client(&token);
        async move {
            let r = hub
                .search(q, 50, None, false, None, None)
                .await
                .expect("search");
            r.hits.len()
        }
    };
    // Anna's client's message, to Anna and the supervisor; nobody's client's, to the
    // supervisor only (Anna and Boris do not receive new clients).
    assert_eq!(found(anna_t.clone(), "СЧЕТ").await, 1);
    assert_eq!(found(sofia_t.clone(), "счет").await, 2);
    assert_eq!(found(boris_t.clone(), "счет").await, 0);
    assert_eq!(found(sofia_t.clone(), "iphone").await, 1);
    let hit = t
        .client(&anna_t)
        .search("фактур", 50, None, false, None, None)
        .await
        .expect("search");
    let marked: Vec<&str> = hit.hits[0]
        .parts
        .iter()
        .filter(|p| p.hit)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, ["фактуру"]);
    // Kept to one's own, to a period.
    let mine = t
        .client(&sofia_t)
        .search("счет", 50, None, true, None, None)
        .await
        .expect("search");
    assert!(mine.hits.is_empty(), "Sofia is responsible for none");
    let later = t
        .client(&sofia_t)
        .search("счет", 50, None, false, Some("2099-01-01T00:00:00Z"), None)
        .await
        .expect("search");
    assert!(later.hits.is_empty());
    // The page older than a message: the older one only; nothing older than that.
    let all = t
        .client(&sofia_t)
        .search("счет", 50, None, false, None, None)
        .await
        .expect("search");
    let (newer, older) = (&all.hits[0].message_id, &all.hits[1].message_id);
    let page = |before: String| {
        let hub = t.client(&sofia_t);
        async move {
            hub.search("счет", 50, None, false, None, Some(&before))
                .await
                .expect("search")
                .hits
                .into_iter()
                .map(|h| h.message_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(newer.clone()).await, std::slice::from_ref(older));
    assert!(page(older.clone()).await.is_empty());
    assert_refused(
        t.client(&sofia_t)
            .search("счет", 50, None, false, Some("yesterday"), None)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    );
    // Role none has no chats to search; hostile text is only ever looked for.
    assert_refused(
        t.client(&nina_t)
            .search("счет", 50, None, false, None, None)
            .await,
        StatusCode::FORBIDDEN,
        "no_chat_access",
    );
    for hostile in [
        "\"",
        "счет*",
        "NEAR(a b)",
        "text:счет",
        "a OR b",
        "-",
        "'); DROP TABLE messages; --",
        "ab\u{0}cd",
    ] {
        t.client(&sofia_t)
            .search(hostile, 50, None, false, None, None)
            .await
            .expect("an answer, not an error");
    }
}
