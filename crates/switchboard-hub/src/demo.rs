//! The demo workspace: employees of every role, three sandbox channels, a built-in CRM with
//! phones typed the way people type them, a few conversations, and a client simulator that
//! writes through the real webhook over loopback HTTP now and then.

use crate::json::{NewChannel, NewCrmEntity, NewEmployee};
use crate::store::{self, Inbound};
use crate::Hub;
use switchboard_core::{EntityKind, Role, Transport};

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

/// Seeds the demo workspace once (a hub restarted on the same directory keeps its data).
pub async fn seed(hub: &Hub) -> anyhow::Result<()> {
    hub.write(|c| {
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
                },
            )
        };
        let anna = emp("Анна Петрова", Role::Seller, true)?;
        let boris = emp("Boris Ivanov", Role::Seller, false)?;
        let _vera = emp("Вера Смирнова", Role::Supervisor, false)?;
        let _none = emp("Бухгалтерия", Role::None, false)?;
        let chan = |t, name: &str, open_lines| {
            store::insert_channel(
                c,
                &NewChannel {
                    transport: t,
                    name: name.into(),
                    open_lines,
                },
            )
        };
        let wa = chan(Transport::Whatsapp, "WhatsApp · продажи", false)?;
        let tg = chan(Transport::Telegram, "Telegram · бот", false)?;
        let _viber = chan(Transport::Viber, "Viber · Открытые линии", true)?;
        for (who, channel) in [(&anna, &tg), (&boris, &wa)] {
            let patch = crate::json::EmployeePatch {
                priority_channel_id: Some(Some(channel.id.clone())),
                ..Default::default()
            };
            store::patch_employee(c, &who.id, &patch)?;
        }
        let entity = |kind, title: &str, phones: &[&str], resp: &str, contact: Option<&str>| {
            store::insert_entity(
                c,
                kind,
                &NewCrmEntity {
                    title: title.into(),
                    phones: phones.iter().map(|p| p.to_string()).collect(),
                    responsible_id: Some(resp.to_owned()),
                    contact_id: contact.map(str::to_owned),
                    closed: false,
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
            let channel = if i % 2 == 0 { &wa } else { &tg };
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
                    is_echo: false,
                    author_id: None,
                    contact_name: Some(name.to_string()),
                    contact_phone: Some(format!("+{phone}")),
                },
            )?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Every 6–20 s a demo client writes, through the real webhook over HTTP.
pub fn spawn_simulator(hub: Hub, webhook_url: String) {
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut n: u64 = 0;
        loop {
            let wait = rand::random_range(6..=20);
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            let Ok(channels) = hub.read(|c| Ok(store::channels(c)?)).await else {
                continue;
            };
            let (name, phone) = CLIENTS[rand::random_range(0..CLIENTS.len())];
            let Some(channel) = channels.get(rand::random_range(0..channels.len().max(1))) else {
                continue;
            };
            let chat_id = if channel.transport.addresses_by_phone() {
                phone.to_string()
            } else {
                format!("tg-{phone}")
            };
            n += 1;
            let body = serde_json::json!({"messages": [{
                "messageId": store::new_id(),
                "channelId": channel.id,
                "chatType": channel.transport.chat_type(),
                "chatId": chat_id,
                "dateTime": store::now(),
                "type": "text",
                "status": "inbound",
                "isEcho": false,
                "text": LINES[(n as usize) % LINES.len()],
                "contact": {"name": name, "phone": format!("+{phone}")},
            }]});
            if let Err(e) = http
                .post(&webhook_url)
                .json(&body)
                .send()
                .await
                .and_then(|r| r.error_for_status())
            {
                tracing::warn!(error = %e.without_url(), "demo client could not write");
            }
        }
    });
}
