//! Quick replies: who keeps which, what each desktop syncs, and what is refused.

use super::T;
use crate::common::assert_refused;
use reqwest::StatusCode;
use switchboard_core::Role;
use switchboard_wire::{Change, CompanyName, NewQuickReply, QuickRepliesView, QuickReplyPatch};

fn new(title: &str, text: &str, personal: bool) -> NewQuickReply {
    NewQuickReply {
        title: title.into(),
        text: text.into(),
        personal,
    }
}

/// The quick replies a sync from `cursor` brings, and the new cursor.
async fn synced(t: &T, token: &str, cursor: i64) -> (Option<QuickRepliesView>, i64) {
    let s = t.client(token).sync(cursor).await.expect("sync");
    let replies = s.changes.into_iter().rev().find_map(|c| match c {
        Change::QuickReplies { quick_replies } => Some(quick_replies),
        _ => None,
    });
    (replies, s.cursor)
}

#[tokio::test]
async fn supervisors_keep_the_workspaces_everyone_their_own_and_each_desktop_hears_of_its_own() {
    let t = T::new().await;
    let (_, sup) = t.employee("Sofia", Role::Supervisor, false).await;
    let (_, anna) = t.employee("Anna", Role::Seller, false).await;
    let (_, boris) = t.employee("Boris", Role::Seller, false).await;
    let (mut anna_at, _) = synced(&t, &anna, 0).await;
    assert_eq!(anna_at.take().map(|r| r.replies.len()), Some(0));
    let anna_cursor = synced(&t, &anna, 0).await.1;
    let boris_cursor = synced(&t, &boris, 0).await.1;

    // A seller may not write the workspace's; a supervisor may.
    assert_refused(
        t.client(&anna)
            .create_quick_reply(&new("Hi", "Hello {client}", false))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let hello = t
        .client(&sup)
        .create_quick_reply(&new("Hello", "Здравствуйте, {клиент}! Я {manager}.", false))
        .await
        .expect("workspace reply");
    assert!(!hello.personal);
    let mine = t
        .client(&anna)
        .create_quick_reply(&new("Price", "Our price list, {client}", true))
        .await
        .expect("personal reply");
    assert!(mine.personal);
    t.client(&sup)
        .put_company_name(&CompanyName {
            company: Some(" ООО Ромашка ".into()),
        })
        .await
        .expect("company");

    // Anna hears of both; Boris of the workspace's only, and never of Anna's own.
    let (a, _) = synced(&t, &anna, anna_cursor).await;
    let a = a.expect("Anna's desktop hears of the change");
    assert_eq!(a.company.as_deref(), Some("ООО Ромашка"));
    let titles: Vec<_> = a.replies.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles, ["Hello", "Price"], "the workspace's first");
    let (b, boris_cursor) = synced(&t, &boris, boris_cursor).await;
    let b = b.expect("Boris hears of the workspace's");
    assert_eq!(b.replies.len(), 1);
    assert_eq!(b.replies[0].id, hello.id);
    // Anna changing her own tells Boris nothing.
    t.client(&anna)
        .patch_quick_reply(
            &mine.id,
            &QuickReplyPatch {
                text: Some("Prices, {client}".into()),
                ..QuickReplyPatch::default()
            },
        )
        .await
        .expect("her own");
    assert_eq!(synced(&t, &boris, boris_cursor).await.0, None);
    // Nobody else may touch hers: to them it does not exist.
    for token in [&boris, &sup] {
        assert_refused(
            t.client(token)
                .patch_quick_reply(&mine.id, &QuickReplyPatch::default())
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_refused(
            t.client(token).delete_quick_reply(&mine.id).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    assert_refused(
        t.admin().delete_quick_reply(&mine.id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The workspace's is the supervisors' to delete.
    assert_refused(
        t.client(&anna).delete_quick_reply(&hello.id).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    t.client(&sup)
        .delete_quick_reply(&hello.id)
        .await
        .expect("deleted");
    let now = t.client(&anna).quick_replies().await.expect("list");
    assert_eq!(now.replies.len(), 1);
    assert_eq!(now.replies[0].text, "Prices, {client}");
    // The administrator sees the workspace's only.
    assert_eq!(
        t.admin().quick_replies().await.expect("list").replies.len(),
        0
    );
}

#[tokio::test]
async fn a_typo_in_braces_an_empty_title_or_too_many_are_refused_saying_why() {
    let t = T::new().await;
    let (_, anna) = t.employee("Anna", Role::Seller, false).await;
    let e = assert_refused(
        t.client(&anna)
            .create_quick_reply(&new("Hi", "Hello {clinet}", true))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    );
    assert!(e.message.contains("{clinet}"), "{}", e.message);
    assert_refused(
        t.client(&anna)
            .create_quick_reply(&new("  ", "Hello", true))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    );
    // The administrator has no replies of their own.
    assert_refused(
        t.admin()
            .create_quick_reply(&new("Hi", "Hello", true))
            .await,
        StatusCode::FORBIDDEN,
        "not_an_employee",
    );
    for n in 0..switchboard_hub::workspace::replies::PERSONAL_MAX {
        t.client(&anna)
            .create_quick_reply(&new(&format!("r{n}"), "x", true))
            .await
            .expect("within the bound");
    }
    assert_refused(
        t.client(&anna)
            .create_quick_reply(&new("one more", "x", true))
            .await,
        StatusCode::CONFLICT,
        "limit_reached",
    );
    let long = CompanyName {
        company: Some("x".repeat(201)),
    };
    assert_refused(
        t.admin().put_company_name(&long).await,
        StatusCode::BAD_REQUEST,
        "invalid_field",
    );
}
