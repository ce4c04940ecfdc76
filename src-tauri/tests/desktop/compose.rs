//! Writing first with the hub out of reach: the synced store and core's rules give the same
//! answer the hub would (setting 2 reads the number, setting 4 preselects or says why not).

use switchboard_core::{ChannelState, Role, Settings, Transport};
use switchboard_desktop::compose::compose_locally;
use switchboard_desktop::local::LocalStore;
use switchboard_wire::{Change, ChannelView, EmployeeView, SyncResponse};

fn synced(eight_as_plus7: bool, tg_state: ChannelState) -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalStore::open(&dir.path().join("local.db")).expect("store");
    let channel = |id: &str, transport, state| ChannelView {
        id: id.into(),
        transport,
        name: id.into(),
        state,
        open_lines: false,
    };
    store
        .apply(&SyncResponse {
            changes: vec![
                Change::Me {
                    employee: EmployeeView {
                        id: "e1".into(),
                        name: "Анна".into(),
                        role: Role::Seller,
                        receives_new_clients: true,
                        priority_channel_id: Some("tg".into()),
                        crm_user_id: None,
                        active: true,
                    },
                },
                Change::Settings {
                    settings: Settings {
                        eight_as_plus7,
                        ..Settings::default()
                    },
                },
                Change::Channels {
                    channels: vec![
                        channel("wa", Transport::Whatsapp, ChannelState::Active),
                        channel("tg", Transport::Telegram, tg_state),
                    ],
                },
            ],
            cursor: 1,
            has_more: false,
            ..SyncResponse::default()
        })
        .expect("apply");
    (dir, store)
}

#[test]
fn offline_compose_reads_the_number_and_preselects_as_the_hub_would() {
    let (_d, store) = synced(true, ChannelState::Active);
    let c = compose_locally(&store, "8 (916) 456-98-12").expect("compose");
    assert_eq!(c.address, "+79164569812");
    assert_eq!(c.display, "+7 916 456-98-12");
    assert_eq!(c.channel_id.as_deref(), Some("tg"));
    assert_eq!(c.channels.len(), 2);

    let (_d, store) = synced(true, ChannelState::Unauthorized);
    let c = compose_locally(&store, "+7 916 456-98-12").expect("compose");
    assert_eq!(c.channel_id, None);
    assert_eq!(c.reason.map(|r| r.as_str()), Some("unauthorized"));
    assert_eq!(
        c.channels
            .iter()
            .find(|ch| ch.id == "tg")
            .map(|ch| ch.usable),
        Some(false)
    );

    let (_d, store) = synced(false, ChannelState::Active);
    let e = compose_locally(&store, "8 (916) 456-98-12").expect_err("setting 2 off");
    assert_eq!(e.code, "invalid_phone");
    assert!(e.message.contains("8 (916) 456-98-12"), "{}", e.message);
}
