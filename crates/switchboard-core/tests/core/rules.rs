//! The tables of settings.md, row by row, and the invariants as properties.

use proptest::prelude::*;
use switchboard_core::*;

fn employee(id: &str, role: Role, receives_new_clients: bool) -> Employee {
    Employee {
        id: id.into(),
        name: id.into(),
        role,
        receives_new_clients,
        priority_channel_id: None,
    }
}

fn settings(notify_all: bool) -> Settings {
    Settings {
        notify_supervisors_all: notify_all,
        ..Settings::default()
    }
}

/// How the chat stands to the viewer "me" in a table row.
#[derive(Debug, Clone, Copy)]
enum Chat {
    Mine,
    Unassigned,
    Others,
}

impl Chat {
    fn responsible(self) -> Option<&'static str> {
        match self {
            Chat::Mine => Some("me"),
            Chat::Unassigned => None,
            Chat::Others => Some("someone-else"),
        }
    }
}

/// Escalation, as a table row states it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Escalation {
    Off,
    /// On (30 min), the chat has waited 10 min.
    NotYet,
    /// On (30 min), the chat has waited 45 min.
    Crossed,
}

const NOW: i64 = 1_800_000_000_000;

/// A chat that has waited `waited_min` minutes, escalated as the hub's tick would have decided
/// under a 30-minute setting.
fn facts(responsible: Option<&str>, unanswered: u32, waited_min: i64) -> ChatFacts<'_> {
    let on = Settings {
        escalate_after_minutes: Some(30),
        ..Settings::default()
    };
    let escalated = escalation_due(unanswered, NOW - waited_min * 60_000, NOW, &on);
    ChatFacts {
        responsible,
        unanswered,
        escalated,
    }
}

/// One check: viewer, chat, setting, escalation → (notified, colour with 3 unanswered), or None if not visible.
fn check(
    role: Role,
    receives: bool,
    chat: Chat,
    notify_all: bool,
    esc: Escalation,
    expected: Option<(bool, BadgeColor)>,
) {
    let me = employee("me", role, receives);
    let s = Settings {
        escalate_after_minutes: (esc != Escalation::Off).then_some(30),
        ..settings(notify_all)
    };
    let waited = if esc == Escalation::Crossed { 45 } else { 10 };
    let f = facts(chat.responsible(), 3, waited);
    let got = badge(&me, &f, &s).map(|b| {
        (
            is_notified(&me, &f, &s),
            b.color.expect("count 3 has a colour"),
        )
    });
    assert_eq!(
        got, expected,
        "{role:?} receives_new_clients={receives} chat={chat:?} notify_all={notify_all} {esc:?}"
    );
}

use BadgeColor::{Grey, Red};
const ESCALATIONS: [Escalation; 3] = [Escalation::Off, Escalation::NotYet, Escalation::Crossed];

#[test]
fn setting3_table_seller() {
    for esc in ESCALATIONS {
        for notify_all in [false, true] {
            for receives in [false, true] {
                // seller | responsible → notified, red (both settings)
                check(
                    Role::Seller,
                    receives,
                    Chat::Mine,
                    notify_all,
                    esc,
                    Some((true, Red)),
                );
                // someone else's chat: not visible at all
                check(Role::Seller, receives, Chat::Others, notify_all, esc, None);
            }
            // seller | unassigned, receives new clients → notified, red
            check(
                Role::Seller,
                true,
                Chat::Unassigned,
                notify_all,
                esc,
                Some((true, Red)),
            );
            // unassigned without the flag: not visible
            check(Role::Seller, false, Chat::Unassigned, notify_all, esc, None);
        }
    }
}

#[test]
fn setting3_table_supervisor() {
    for esc in ESCALATIONS {
        for notify_all in [false, true] {
            for receives in [false, true] {
                check(
                    Role::Supervisor,
                    receives,
                    Chat::Mine,
                    notify_all,
                    esc,
                    Some((true, Red)),
                );
            }
            check(
                Role::Supervisor,
                true,
                Chat::Unassigned,
                notify_all,
                esc,
                Some((true, Red)),
            );
            // any other chat: not notified and grey when off, unless escalated; notified and red when on
            let theirs = notify_all || esc == Escalation::Crossed;
            let expected = if theirs {
                Some((true, Red))
            } else {
                Some((false, Grey))
            };
            check(
                Role::Supervisor,
                false,
                Chat::Unassigned,
                notify_all,
                esc,
                expected,
            );
            for receives in [false, true] {
                check(
                    Role::Supervisor,
                    receives,
                    Chat::Others,
                    notify_all,
                    esc,
                    expected,
                );
            }
        }
    }
}

#[test]
fn role_none_sees_nothing() {
    for esc in ESCALATIONS {
        for chat in [Chat::Mine, Chat::Unassigned, Chat::Others] {
            for notify_all in [false, true] {
                check(Role::None, true, chat, notify_all, esc, None);
            }
        }
    }
}

#[test]
fn escalation_notifies_only_the_supervisors_it_turns_red_for() {
    let staff = [
        employee("s1", Role::Seller, false),
        employee("boss", Role::Supervisor, false),
        employee("boss2", Role::Supervisor, false),
    ];
    let on = Settings {
        escalate_after_minutes: Some(30),
        ..Settings::default()
    };
    let f = facts(Some("s1"), 2, 45);
    assert_eq!(escalation_recipients(&staff, &f, &on), ["boss", "boss2"]);
    let boss_own = facts(Some("boss"), 2, 45);
    assert_eq!(
        escalation_recipients(&staff, &boss_own, &on),
        ["boss2"],
        "boss was already notified of their own chat"
    );
    let all = Settings {
        notify_supervisors_all: true,
        ..on
    };
    assert!(
        escalation_recipients(&staff, &f, &all).is_empty(),
        "already notified of every message"
    );
    assert!(
        escalation_recipients(&staff, &f, &Settings::default()).is_empty(),
        "escalation off"
    );
    assert!(
        escalation_recipients(&staff, &facts(Some("s1"), 0, 45), &on).is_empty(),
        "answered"
    );
}

#[test]
fn escalation_is_due_after_n_minutes_of_waiting() {
    let on = Settings {
        escalate_after_minutes: Some(30),
        ..Settings::default()
    };
    assert!(
        escalation_due(1, NOW - 30 * 60_000, NOW, &on),
        "exactly N minutes escalates"
    );
    assert!(!escalation_due(1, NOW - 29 * 60_000, NOW, &on));
    assert!(
        !escalation_due(0, NOW - 45 * 60_000, NOW, &on),
        "answered chats never escalate"
    );
    assert!(
        !escalation_due(1, NOW - 45 * 60_000, NOW, &Settings::default()),
        "setting off"
    );
}

#[test]
fn an_escalated_flag_counts_only_while_the_setting_is_on() {
    let boss = employee("boss", Role::Supervisor, false);
    let chat = ChatFacts {
        responsible: Some("s1"),
        unanswered: 2,
        escalated: true,
    };
    let on = Settings {
        escalate_after_minutes: Some(30),
        ..Settings::default()
    };
    assert_eq!(badge(&boss, &chat, &on).and_then(|b| b.color), Some(Red));
    assert_eq!(
        badge(&boss, &chat, &Settings::default()).and_then(|b| b.color),
        Some(Grey)
    );
}

#[test]
fn notifications_of_one_chat_within_10_s_are_one() {
    let mut g = NotificationGroups::default();
    assert_eq!(g.arrive("a", 0), Grouped::New);
    assert_eq!(g.arrive("a", 4_000), Grouped::Replace { count: 2 });
    assert_eq!(
        g.arrive("b", 5_000),
        Grouped::New,
        "another chat is its own notification"
    );
    assert_eq!(g.arrive("a", 9_999), Grouped::Replace { count: 3 });
    assert_eq!(
        g.arrive("a", 10_000),
        Grouped::New,
        "the window is 10 s from the group's first"
    );
    assert_eq!(g.arrive("b", 14_000), Grouped::Replace { count: 2 });
}

#[test]
fn answered_chat_has_no_colour() {
    let me = employee("me", Role::Supervisor, false);
    let b = badge(&me, &facts(Some("x"), 0, 99), &settings(true)).expect("visible");
    assert_eq!(
        b,
        Badge {
            count: 0,
            color: None
        }
    );
}

#[test]
fn notify_recipients_names_exactly_the_rule() {
    let staff = [
        employee("s1", Role::Seller, false),
        employee("s2", Role::Seller, true),
        employee("boss", Role::Supervisor, false),
        employee("nobody", Role::None, true),
    ];
    assert_eq!(
        notify_recipients(&staff, &facts(Some("s1"), 1, 0), &settings(false)),
        ["s1"]
    );
    assert_eq!(
        notify_recipients(&staff, &facts(Some("s1"), 1, 0), &settings(true)),
        ["s1", "boss"]
    );
    assert_eq!(
        notify_recipients(&staff, &facts(None, 1, 0), &settings(false)),
        ["s2"]
    );
    assert_eq!(
        notify_recipients(&staff, &facts(None, 1, 0), &settings(true)),
        ["s2", "boss"]
    );
}

fn linked(kind: EntityKind, id: &str, responsible: &str, closed: bool) -> LinkedEntity {
    LinkedEntity {
        entity: CrmRef {
            kind,
            id: id.into(),
        },
        responsible_id: Some(responsible.into()),
        closed,
    }
}

#[test]
fn responsible_is_deal_then_contact_then_lead_open_only() {
    use EntityKind::*;
    let lead = linked(Lead, "1", "ann", false);
    let contact = linked(Contact, "2", "bob", false);
    let deal = linked(Deal, "3", "cat", false);
    let closed_deal = linked(Deal, "4", "dan", true);
    assert_eq!(
        responsible(&[lead.clone(), contact.clone(), deal.clone()]).as_deref(),
        Some("cat")
    );
    assert_eq!(
        responsible(&[lead.clone(), contact.clone(), closed_deal.clone()]).as_deref(),
        Some("bob")
    );
    assert_eq!(
        responsible(&[lead.clone(), closed_deal.clone()]).as_deref(),
        Some("ann")
    );
    assert_eq!(responsible(&[closed_deal]), None);
    assert_eq!(responsible(&[]), None);
}

#[test]
fn unanswered_counts_client_messages_since_the_last_reply() {
    let mut n = 0;
    for ev in [
        ChatEvent::ClientMessage,
        ChatEvent::ClientMessage,
        ChatEvent::Read,
    ] {
        n = unanswered_after(n, ev);
    }
    assert_eq!(n, 2, "reading resets nothing");
    assert_eq!(unanswered_after(n, ChatEvent::EmployeeReply), 0);
    assert_eq!(unanswered_after(n, ChatEvent::MarkedAnswered), 0);
    // Marked as unanswered: one owed when none was, what was owed stays.
    assert_eq!(unanswered_after(0, ChatEvent::MarkedUnanswered), 1);
    assert_eq!(unanswered_after(n, ChatEvent::MarkedUnanswered), 2);
    assert_eq!(
        unanswered_after(u32::MAX, ChatEvent::MarkedUnanswered),
        u32::MAX
    );
}

fn channel(id: &str, state: ChannelState, open_lines: bool) -> Channel {
    Channel {
        id: id.into(),
        transport: Transport::Telegram,
        name: id.into(),
        state,
        open_lines,
    }
}

#[test]
fn preselection_for_each_channel_state() {
    let mut me = employee("me", Role::Seller, false);
    let channels = [
        channel("tg", ChannelState::Active, false),
        channel("off", ChannelState::Disabled, false),
        channel("unauth", ChannelState::Unauthorized, false),
        channel("qr", ChannelState::Qr, false),
        channel("gone", ChannelState::Deleted, false),
        channel("weird", ChannelState::Unknown, false),
    ];
    assert_eq!(
        preselect_channel(&me, &channels),
        Err(NoChannelReason::NotSet)
    );
    for (id, expected) in [
        ("tg", Ok("tg".to_string())),
        ("off", Err(NoChannelReason::Disabled)),
        ("unauth", Err(NoChannelReason::Unauthorized)),
        ("qr", Err(NoChannelReason::NotActive)),
        ("gone", Err(NoChannelReason::Deleted)),
        ("weird", Err(NoChannelReason::NotActive)),
        ("missing", Err(NoChannelReason::Deleted)),
    ] {
        me.priority_channel_id = Some(id.into());
        assert_eq!(
            preselect_channel(&me, &channels),
            expected,
            "priority channel {id}"
        );
    }
}

#[test]
fn timeline_writes_follow_setting1_and_open_lines() {
    let deal = CrmRef {
        kind: EntityKind::Deal,
        id: "7".into(),
    };
    let lead = CrmRef {
        kind: EntityKind::Lead,
        id: "1".into(),
    };
    let links = [lead.clone(), deal.clone()];
    let plain = channel("wa", ChannelState::Active, false);
    let ol = channel("ol", ChannelState::Active, true);
    let on = Settings::default();
    let off = Settings {
        save_to_crm_timeline: false,
        ..on
    };
    assert_eq!(
        timeline_writes(&plain, &links, Direction::In, true, &on),
        [
            TimelineWrite::Message(lead.clone()),
            TimelineWrite::Message(deal.clone())
        ]
    );
    assert_eq!(
        timeline_writes(&plain, &links, Direction::Out, false, &on).len(),
        2
    );
    assert!(timeline_writes(&plain, &links, Direction::In, true, &off).is_empty());
    for s in [on, off] {
        assert_eq!(
            timeline_writes(&ol, &links, Direction::In, true, &s),
            [
                TimelineWrite::OpenLinesActivity(lead.clone()),
                TimelineWrite::OpenLinesActivity(deal.clone())
            ]
        );
        assert!(timeline_writes(&ol, &links, Direction::In, false, &s).is_empty());
        assert!(timeline_writes(&ol, &links, Direction::Out, false, &s).is_empty());
    }
}

fn any_employee() -> impl Strategy<Value = Employee> {
    (
        prop_oneof![Just(Role::Seller), Just(Role::Supervisor), Just(Role::None)],
        any::<bool>(),
        0..3u8,
    )
        .prop_map(|(role, receives, n)| employee(&format!("e{n}"), role, receives))
}

fn any_responsible() -> impl Strategy<Value = Option<String>> {
    proptest::option::of((0..4u8).prop_map(|n| format!("e{n}")))
}

fn any_settings() -> impl Strategy<Value = Settings> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(1..90u32),
        any::<bool>(),
    )
        .prop_map(|(a, b, c, d, e)| Settings {
            save_to_crm_timeline: a,
            eight_as_plus7: b,
            notify_supervisors_all: c,
            escalate_after_minutes: d,
            sellers_may_transfer: e,
        })
}

proptest! {
    #[test]
    fn nobody_is_notified_of_a_chat_they_cannot_see(
        staff in proptest::collection::vec(any_employee(), 0..6).prop_map(|v| {
            v.into_iter().enumerate().map(|(i, e)| Employee { id: format!("e{i}"), ..e }).collect::<Vec<_>>()
        }),
        resp in any_responsible(),
        s in any_settings(),
        waited in 0..120i64,
    ) {
        for id in notify_recipients(&staff, &facts(resp.as_deref(), 1, waited), &s) {
            let e = staff.iter().find(|e| e.id == id).expect("recipient is staff");
            prop_assert!(can_see(e, resp.as_deref()));
        }
    }

    #[test]
    fn notified_exactly_when_red(viewer in any_employee(), resp in any_responsible(), s in any_settings(), n in 1..50u32, waited in 0..120i64) {
        let f = facts(resp.as_deref(), n, waited);
        let red = badge(&viewer, &f, &s).and_then(|b| b.color) == Some(BadgeColor::Red);
        prop_assert_eq!(red, is_notified(&viewer, &f, &s));
    }

    #[test]
    fn with_notify_all_no_supervisor_badge_is_grey(viewer in any_employee(), resp in any_responsible(), n in 1..50u32, waited in 0..120i64) {
        let s = Settings { notify_supervisors_all: true, escalate_after_minutes: Some(30), ..Settings::default() };
        prop_assume!(viewer.role == Role::Supervisor);
        let b = badge(&viewer, &facts(resp.as_deref(), n, waited), &s).expect("supervisors see every chat");
        prop_assert_eq!(b.color, Some(BadgeColor::Red));
    }

    #[test]
    fn setting2_never_changes_a_value_with_a_leading_plus(raw in "\\+[0-9 ()-]{0,16}") {
        let on = read_crm_phone(&raw, true).map(|n| n.to_string()).map_err(|e| e.kind);
        let off = read_crm_phone(&raw, false).map(|n| n.to_string()).map_err(|e| e.kind);
        prop_assert_eq!(on, off);
    }

    #[test]
    fn a_read_number_is_e164(raw in "[+]?[0-9 ()-]{1,20}", on in any::<bool>()) {
        if let Ok(n) = read_crm_phone(&raw, on) {
            let s = n.to_string();
            prop_assert!(s.starts_with('+') && s.len() <= 16 && s[1..].bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

#[test]
fn tray_is_red_with_any_red_grey_with_only_grey_calm_at_zero() {
    let c = |red, grey| Counters { red, grey }.tray_state();
    assert_eq!(c(0, 0), TrayState::Calm);
    assert_eq!(c(0, 3), TrayState::Grey);
    assert_eq!(c(1, 0), TrayState::Red);
    assert_eq!(c(2, 5), TrayState::Red);
    let badges = [
        Badge {
            count: 2,
            color: Some(BadgeColor::Red),
        },
        Badge {
            count: 1,
            color: Some(BadgeColor::Grey),
        },
        Badge {
            count: 0,
            color: None,
        },
    ];
    assert_eq!(Counters::of(&badges), Counters { red: 1, grey: 1 });
}

#[test]
fn mirror_skip_names_why_a_message_stays_out_of_the_timeline() {
    let lead = CrmRef {
        kind: EntityKind::Lead,
        id: "1".into(),
    };
    let plain = Channel {
        id: "c".into(),
        transport: Transport::Whatsapp,
        name: "WA".into(),
        state: ChannelState::Active,
        open_lines: false,
    };
    let ol = Channel {
        open_lines: true,
        ..plain.clone()
    };
    let on = Settings::default();
    let off = Settings {
        save_to_crm_timeline: false,
        ..Settings::default()
    };
    assert_eq!(mirror_skip(&plain, std::slice::from_ref(&lead), &on), None);
    assert_eq!(mirror_skip(&plain, &[], &on), Some(MirrorSkip::NotLinked));
    assert_eq!(
        mirror_skip(&plain, std::slice::from_ref(&lead), &off),
        Some(MirrorSkip::SettingOff)
    );
    // Open Lines is named first, whatever the setting.
    for s in [on, off] {
        assert_eq!(
            mirror_skip(&ol, std::slice::from_ref(&lead), &s),
            Some(MirrorSkip::OpenLines)
        );
    }
    // Exactly when the message itself has no timeline write.
    for (ch, links, s) in [
        (&plain, vec![lead.clone()], on),
        (&plain, vec![], on),
        (&plain, vec![lead.clone()], off),
        (&ol, vec![lead.clone()], on),
    ] {
        let writes_message = timeline_writes(ch, &links, Direction::Out, false, &s)
            .iter()
            .any(|w| matches!(w, TimelineWrite::Message(_)));
        assert_eq!(mirror_skip(ch, &links, &s).is_none(), writes_message);
    }
}

/// CRM data: the table of issue 11 (card, timeline, compose by it, search hits).
#[test]
fn crm_entities_are_seen_through_chats_responsibility_or_as_new_clients() {
    let me = employee("me", Role::Seller, false);
    let me_new = employee("me", Role::Seller, true);
    let boss = employee("boss", Role::Supervisor, false);
    let nobody = employee("me", Role::None, true);
    let none: [Option<&str>; 0] = [];
    // Responsible for the entity.
    assert!(can_see_entity(&me, Some("me"), none));
    // Someone else's entity with no chat of mine.
    assert!(!can_see_entity(&me, Some("anna"), none));
    assert!(!can_see_entity(&me, Some("anna"), [Some("anna")]));
    // Someone else's entity, but a chat linked to it is mine.
    assert!(can_see_entity(
        &me,
        Some("anna"),
        [Some("anna"), Some("me")]
    ));
    // Unassigned: only for those who receive new clients.
    assert!(!can_see_entity(&me, None, none));
    assert!(can_see_entity(&me_new, None, none));
    // ... and through an unassigned chat.
    assert!(can_see_entity(&me_new, Some("anna"), [None]));
    assert!(!can_see_entity(&me, Some("anna"), [None]));
    // Supervisors see all; role none nothing, even as "receives new clients".
    assert!(can_see_entity(&boss, Some("anna"), none));
    assert!(!can_see_entity(&nobody, Some("me"), [Some("me"), None]));
}

proptest! {
    /// Whoever sees a chat sees the CRM entities it is linked to.
    #[test]
    fn a_visible_chat_shows_its_entities(viewer in any_employee(), entity in any_responsible(), chat in any_responsible()) {
        if can_see(&viewer, chat.as_deref()) {
            prop_assert!(can_see_entity(&viewer, entity.as_deref(), [chat.as_deref()]));
        }
        if viewer.role == Role::None {
            prop_assert!(!can_see_entity(&viewer, entity.as_deref(), [chat.as_deref()]));
        }
    }
}

#[test]
fn a_badge_colour_reads_back_what_it_writes() {
    for c in [BadgeColor::Red, BadgeColor::Grey] {
        assert_eq!(BadgeColor::parse(c.as_str()), Some(c));
        assert_eq!(
            serde_json::to_value(c).ok(),
            Some(serde_json::Value::from(c.as_str()))
        );
    }
    assert_eq!(BadgeColor::parse("blue"), None);
}

/// Who may hand a chat over, row by row: supervisors any chat; a seller only their own and
/// only when the workspace allows; role `none` nothing. Who may be handed one: all but `none`.
#[test]
fn who_may_hand_a_chat_over() {
    let seller = employee("me", Role::Seller, true);
    let boss = employee("boss", Role::Supervisor, false);
    let nobody = employee("n", Role::None, true);
    let off = Settings::default();
    let on = Settings {
        sellers_may_transfer: true,
        ..Settings::default()
    };
    assert!(
        !off.sellers_may_transfer,
        "off unless a supervisor turns it on"
    );
    for s in [&off, &on] {
        for responsible in [None, Some("me"), Some("anna")] {
            assert!(may_transfer(&boss, responsible, s));
            assert!(!may_transfer(&nobody, responsible, s));
        }
    }
    assert!(!may_transfer(&seller, Some("me"), &off));
    assert!(may_transfer(&seller, Some("me"), &on));
    // Nobody's chat that the seller sees (receives new clients) is still not theirs to hand.
    assert!(!may_transfer(&seller, None, &on));
    assert!(!may_transfer(&seller, Some("anna"), &on));
    assert!(may_receive_chats(&seller) && may_receive_chats(&boss));
    assert!(!may_receive_chats(&nobody));
}

proptest! {
    /// Nobody may hand over a chat they cannot see.
    #[test]
    fn a_hand_over_needs_the_chat_in_sight(viewer in any_employee(), responsible in any_responsible(), s in any_settings()) {
        if may_transfer(&viewer, responsible.as_deref(), &s) {
            prop_assert!(can_see(&viewer, responsible.as_deref()));
        }
    }
}
