//! The demo workspace: employees of every role, three channels served by the provider fake
//! in-process (so every send goes through the real provider client over loopback HTTP), a
//! built-in CRM with phones typed the way people type them, a few conversations, and a
//! client simulator that writes through the fake, which posts the real webhook.

use crate::json::{ChannelPatch, NewCrmEntity, NewEmployee};
use crate::store::{self, Inbound};
use crate::Hub;
use provider_fake::{FakeChannel, FakeConfig, FakeMedia, RunningFake};
use switchboard_core::{EntityKind, Role};

/// The demo fake's API key (it listens on loopback only).
pub const PROVIDER_KEY: &str = "demo-provider-key";

/// The demo's channels: fixed ids, so a demo hub restarted on the same directory finds them again.
const CHANNELS: [(&str, &str, &str, &str, bool); 3] = [
    (
        "5b6f6f1e-3c4a-4d0e-9a51-0c1d2e3f4a01",
        "whatsapp",
        "79990000001",
        "WhatsApp · продажи",
        false,
    ),
    (
        "5b6f6f1e-3c4a-4d0e-9a51-0c1d2e3f4a02",
        "telegram",
        "switchboard_demo_bot",
        "Telegram · бот",
        false,
    ),
    (
        "5b6f6f1e-3c4a-4d0e-9a51-0c1d2e3f4a03",
        "viber",
        "79990000003",
        "Viber · Открытые линии",
        true,
    ),
];

/// Starts the demo's provider fake on loopback.
pub async fn start_provider() -> anyhow::Result<RunningFake> {
    let channels = CHANNELS
        .iter()
        .map(|(id, transport, plain, _, _)| FakeChannel {
            channel_id: (*id).to_owned(),
            transport: (*transport).to_owned(),
            plain_id: (*plain).to_owned(),
            state: "active".to_owned(),
        })
        .collect();
    let mut config = FakeConfig::new(PROVIDER_KEY, channels);
    config.status_step = std::time::Duration::from_millis(1500);
    provider_fake::start(([127, 0, 0, 1], 0).into(), config).await
}

/// The demo's clients: name, phone as the messenger reports it (E.164 digits).
const CLIENTS: [(&str, &str); 5] = [
    ("Ирина Соколова", "79164569812"),
    ("Pavel Orlov", "79031234567"),
    ("ООО «Ромашка»", "74951234567"),
    ("Dmitry K.", "79261112233"),
    ("Алина", "79995550011"),
];

const LINES: [&str; 8] = [
    "Здравствуйте! Есть ли у вас доставка в Воронеж?",
    "Good afternoon, is the order ready?",
    "Можно счёт на оплату?",
    "Could you call me back after 5 pm?",
    "Спасибо, получили!",
    "Какая цена при заказе от 10 штук?",
    "Is the discount still valid?",
    "Пришлите, пожалуйста, договор.",
];

/// Captions the demo clients put on a photo or a PDF (a voice note goes without).
const CAPTIONS: [&str; 4] = [
    "Вот счёт, проверьте, пожалуйста",
    "Invoice attached",
    "Фото накладной",
    "Here is the scan",
];

/// The files the demo clients send, in turn (then a location).
const MEDIA: [FakeMedia; 5] = [
    FakeMedia::Photo,
    FakeMedia::VoiceNote,
    FakeMedia::Pdf,
    FakeMedia::Video,
    FakeMedia::Contact,
];

/// Where demo clients say they are: coordinates and the place's name.
const PLACES: [((f64, f64), &str); 2] = [
    ((55.760_186, 37.618_711), "Склад на Петровке"),
    ((59.934_280, 30.335_099), "Office, Nevsky prospekt"),
];

/// Seeds the demo workspace once (a hub restarted on the same directory keeps its data).
pub async fn seed(hub: &Hub) -> anyhow::Result<()> {
    hub.store_write(|c| {
        if !store::employees(c)?.is_empty() {
            return Ok(());
        }
        let emp = |name: &str, role, receives| {
            store::insert_employee(
                c,
                &NewEmployee {
                    name: name.into(),
                    role,
                    receives_new_clients: receives,
                    priority_channel_id: None,
                    crm_user_id: None,
                },
            )
        };
        let anna = emp("Анна Петрова", Role::Seller, true)?;
        let boris = emp("Boris Ivanov", Role::Seller, false)?;
        let _vera = emp("Вера Смирнова", Role::Supervisor, false)?;
        let _none = emp("Бухгалтерия", Role::None, false)?;
        let mut named = Vec::new();
        for (id, _, _, name, open_lines) in CHANNELS {
            let patch = ChannelPatch {
                state: None,
                name: Some(name.to_owned()),
                open_lines: Some(open_lines),
            };
            named
                .push(store::patch_channel(c, id, &patch)?.ok_or_else(|| {
                    store::StoreError::Unavailable("demo channel missing".into())
                })?);
        }
        let (wa, tg) = (&named[0], &named[1]);
        for (who, channel) in [(&anna, tg), (&boris, wa)] {
            let patch = crate::json::EmployeePatch {
                priority_channel_id: Some(Some(channel.id.clone())),
                ..Default::default()
            };
            store::patch_employee(c, &who.id, &patch)?;
        }
        let entity = |kind, title: &str, phones: &[&str], resp: &str, contact: Option<&str>| {
            let stage = match kind {
                EntityKind::Lead => Some("В работе".to_owned()),
                EntityKind::Deal => Some("Подготовка документов".to_owned()),
                EntityKind::Contact => None,
            };
            store::insert_entity(
                c,
                kind,
                &NewCrmEntity {
                    title: title.into(),
                    phones: phones.iter().map(|p| p.to_string()).collect(),
                    responsible_id: Some(resp.to_owned()),
                    contact_id: contact.map(str::to_owned),
                    closed: false,
                    stage,
                },
            )
        };
        let irina = entity(
            EntityKind::Contact,
            "Ирина Соколова",
            &["8 (916) 456-98-12"],
            &anna.id,
            None,
        )?;
        entity(
            EntityKind::Deal,
            "Поставка 40 шт. — Соколова",
            &[],
            &anna.id,
            Some(&irina),
        )?;
        entity(
            EntityKind::Lead,
            "Pavel Orlov — website form",
            &["89031234567"],
            &boris.id,
            None,
        )?;
        let romashka = entity(
            EntityKind::Contact,
            "ООО «Ромашка»",
            &["+7 495 123-45-67"],
            &boris.id,
            None,
        )?;
        entity(
            EntityKind::Deal,
            "Ромашка — годовой контракт",
            &[],
            &boris.id,
            Some(&romashka),
        )?;
        // Dmitry and Alina are not in the CRM: their chats are new clients.
        let at = chrono::Utc::now() - chrono::Duration::minutes(30);
        for (i, (name, phone)) in CLIENTS.iter().enumerate() {
            let channel = if i % 2 == 0 { wa } else { tg };
            let chat_id = if channel.transport.addresses_by_phone() {
                phone.to_string()
            } else {
                format!("tg-{phone}")
            };
            store::ingest(
                c,
                &Inbound {
                    provider_message_id: format!("demo-seed-{i}"),
                    channel_id: channel.id.clone(),
                    chat_type: channel.transport.chat_type().into(),
                    chat_id,
                    at: store::format_time(at + chrono::Duration::minutes(i as i64 * 5)),
                    text: LINES[i].into(),
                    content_uri: None,
                    kind: switchboard_core::MessageKind::Text,
                    is_echo: false,
                    author_id: None,
                    contact_name: Some(name.to_string()),
                    contact_phone: Some(format!("+{phone}")),
                },
                &crate::clock::now(),
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Every 6–20 s a demo client writes: the provider fake posts the webhook to the hub. One
/// message in four is a file instead (photo, voice note, PDF in turn; photo and PDF captioned).
pub fn spawn_simulator(hub: Hub, fake: provider_fake::Fake) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut n: u64 = 0;
        let mut closed = std::pin::pin!(hub.closed());
        loop {
            let wait = rand::random_range(6..=20);
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(wait)) => {}
                _ = &mut closed => return,
            }
            let (name, phone) = CLIENTS[rand::random_range(0..CLIENTS.len())];
            let (id, transport, ..) = CHANNELS[rand::random_range(0..CHANNELS.len())];
            let chat_id = if transport == "telegram" {
                format!("tg-{phone}")
            } else {
                phone.to_string()
            };
            n += 1;
            let i = n as usize;
            let share = (i / 4).saturating_sub(1) % (MEDIA.len() + 1);
            let written = if i.is_multiple_of(4) && share == MEDIA.len() {
                let (at, place) = PLACES[(i / 4) % PLACES.len()];
                fake.client_shares_location(id, &chat_id, name, at, Some(place))
            } else if i.is_multiple_of(4) {
                let media = MEDIA[share];
                let caption = matches!(media, FakeMedia::Photo | FakeMedia::Pdf | FakeMedia::Video)
                    .then(|| CAPTIONS[(i / 4) % CAPTIONS.len()]);
                fake.client_sends_media(id, &chat_id, name, media, caption)
            } else {
                // Counted over the texts only, so every line still comes up in turn.
                fake.client_writes(id, &chat_id, name, LINES[(i - i / 4) % LINES.len()])
            };
            if let Err(e) = written {
                tracing::warn!(error = %e, "demo client could not write");
            }
        }
    })
}
