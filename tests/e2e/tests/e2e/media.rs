//! A client sends a photo, a voice note, a PDF, a video, a contact and a location (#14): the
//! hub fetches each file from the provider's link, and the seller's real window shows the photo
//! with real pixels, a voice note with a playable duration, the PDF as a card with its name and
//! size, the video's first frame with its player, the contact and the place as text; the list's
//! previews name the files and a voice note's length. The page loads files only through the
//! app's own `media:` scheme.

use anyhow::Result;
use serde_json::json;
use std::time::Duration;
use switchboard_e2e::*;

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_photo_voice_note_and_pdf_show_in_the_conversation() -> Result<()> {
    // The provider fake serves the files its links name (the hub trusts its host's links).
    let (fake, hub, channel, token) = provider_workspace().await?;
    let driver = Driver::start().await?;
    let data = tempfile::tempdir()?;
    let app = driver.launch(data.path()).await?;
    let result = scenario(&app, &hub, &fake, &channel, &token).await;
    finish(app, result, "media").await
}

fn media(
    id: &str,
    channel: &str,
    kind: &str,
    file: &str,
    url: &str,
    text: Option<&str>,
) -> serde_json::Value {
    let mut m = json!({"messageId": id, "channelId": channel, "chatType": "whatsapp",
        "chatId": "79164569812", "dateTime": "2026-12-06T10:00:00.000Z", "type": kind,
        "status": "inbound", "contact": {"name": "Ирина"},
        "contentUri": format!("{url}/_fake/media/{file}?filename={file}")});
    if let Some(t) = text {
        m["text"] = json!(t);
    }
    m
}

async fn number(app: &fantoccini::Client, js: &str) -> Result<f64> {
    Ok(app.execute(js, vec![]).await?.as_f64().unwrap_or(0.0))
}

async fn scenario(
    app: &fantoccini::Client,
    hub: &Hub,
    fake: &ProviderFake,
    channel: &str,
    token: &str,
) -> Result<()> {
    sign_in(app, &hub.url, token, "Selma Seller").await?;
    // Another client's last message is a voice note: the list says how long it is.
    let mut oleg = media(
        "e2e-oleg",
        channel,
        "audio",
        "voice-note.wav",
        &fake.url,
        None,
    );
    oleg["chatId"] = json!("79160000001");
    oleg["contact"] = json!({"name": "Олег"});
    let status = hub
        .webhook(json!({"messages": [
            media("e2e-photo", channel, "image", "invoice-photo.png", &fake.url, Some("Счёт на оплату")),
            media("e2e-voice", channel, "audio", "voice-note.wav", &fake.url, None),
            media("e2e-pdf", channel, "document", "invoice-42.pdf", &fake.url, None),
            media("e2e-video", channel, "video", "clip.webm", &fake.url, Some("Как выглядит упаковка")),
            media("e2e-contact", channel, "vcard", "contact.vcf", &fake.url, None),
            json!({"messageId": "e2e-place", "channelId": channel, "chatType": "whatsapp",
                "chatId": "79164569812", "dateTime": "2026-12-06T10:00:01.000Z", "type": "geo",
                "status": "inbound", "contact": {"name": "Ирина"}, "text": "Склад на Петровке",
                "contentUri": "https://maps.google.com/maps?q=55.760186,37.618711"}),
            oleg,
        ]}))
        .await?;
    assert_eq!(status, 200);
    until("the chat row «Ирина»", WAIT, || async {
        Ok(chat_rows(app).await?.iter().any(|r| r.0 == "Ирина"))
    })
    .await?;
    let previews =
        "return [...document.querySelectorAll('[data-testid=chat-row] .preview')].map(e => e.textContent);";
    until(
        "Oleg's voice note previewed with its length",
        WAIT,
        || async {
            let rows: Vec<String> = serde_json::from_value(app.execute(previews, vec![]).await?)?;
            Ok(rows.iter().any(|p| p.contains("Voice message (0:03)")))
        },
    )
    .await?;
    app.execute(
        "[...document.querySelectorAll('[data-testid=chat-row]')].find(r => r.textContent.includes('Ирина')).click();",
        vec![],
    )
    .await?;
    until("the photo painted with its pixels", WAIT, || async {
        Ok(number(
            app,
            // Photos far from the screen are not loaded: brought into view first.
            "const i = document.querySelector('[data-testid=media-image]'); if (i) i.scrollIntoView(); return i && i.complete ? i.naturalWidth : 0;",
        )
        .await?
            > 0.0)
    })
    .await?;
    let width = number(
        app,
        "return document.querySelector('[data-testid=media-image]').naturalWidth;",
    )
    .await?;
    assert_eq!(width, 480.0, "the client's photo, 480 px wide");
    until("the voice note's duration", WAIT, || async {
        Ok(number(
            app,
            "const a = document.querySelector('[data-testid=media-audio]'); return a && isFinite(a.duration) ? a.duration : 0;",
        )
        .await?
            > 0.0)
    })
    .await?;
    let duration = number(
        app,
        "return document.querySelector('[data-testid=media-audio]').duration;",
    )
    .await?;
    assert!((duration - 3.0).abs() < 0.2, "a 3 s voice note: {duration}");
    until("the PDF's card with its name and size", WAIT, || async {
        let card = app
            .execute(
                "const c = document.querySelector('[data-testid=media-file]'); return c ? c.textContent : '';",
                vec![],
            )
            .await?;
        let card = card.as_str().unwrap_or_default().to_owned();
        Ok(card.contains("invoice-42.pdf") && card.contains("application/pdf") && card.contains("KB"))
    })
    .await?;
    until("the video's first frame and its length", WAIT, || async {
        Ok(number(
            app,
            "const v = document.querySelector('[data-testid=media-video]'); return v && v.readyState >= 2 && isFinite(v.duration) ? v.videoWidth : 0;",
        )
        .await?
            > 0.0)
    })
    .await?;
    let (width, length) = (
        number(
            app,
            "return document.querySelector('[data-testid=media-video]').videoWidth;",
        )
        .await?,
        number(
            app,
            "return document.querySelector('[data-testid=media-video]').duration;",
        )
        .await?,
    );
    assert_eq!(width, 320.0, "the clip's frame, 320 px wide");
    assert!((length - 2.0).abs() < 0.2, "a 2 s clip: {length}");
    let text_of = |id: &'static str| async move {
        let js = format!("const c = document.querySelector('[data-testid={id}]'); return c ? c.textContent : '';");
        Ok::<String, anyhow::Error>(
            app.execute(&js, vec![])
                .await?
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    };
    until("the contact as who and how to reach", WAIT, || async {
        let card = text_of("contact-card").await?;
        Ok(card.contains("Мария Соколова")
            && card.contains("+7 916 555-01-23")
            && card.contains("m.sokolova@vector.example"))
    })
    .await?;
    let place = text_of("place").await?;
    assert!(
        place.contains("Склад на Петровке") && place.contains("55.760186, 37.618711"),
        "{place}"
    );
    app.execute(
        "const l = document.querySelector('.messages'); l.scrollTop = l.scrollHeight;",
        vec![],
    )
    .await?;
    screenshot(app, "media-video-contact-place.png").await?;
    // Nothing remote: every file came through the app's own scheme (a voice note played from
    // the bytes the page read from it).
    let sources = app
        .execute(
            "return [...document.querySelectorAll('img, audio, video')].map(e => e.src);",
            vec![],
        )
        .await?;
    let sources: Vec<String> = serde_json::from_value(sources)?;
    // A photo scrolled far away is unloaded (no source at all).
    let sources: Vec<String> = sources.into_iter().filter(|s| !s.is_empty()).collect();
    assert!(!sources.is_empty());
    assert!(
        sources
            .iter()
            .all(|s| s.starts_with("media://localhost/") || s.starts_with("blob:")),
        "{sources:?}"
    );
    let rows: Vec<String> = serde_json::from_value(app.execute(previews, vec![]).await?)?;
    assert!(
        rows.iter()
            .any(|p| p.contains("Location · Склад на Петровке")),
        "the list's preview names the last message's kind: {rows:?}"
    );
    screenshot(app, "media-conversation.png").await?;
    send_a_photo(app, fake).await?;
    every_other_kind(app, hub, channel).await
}

/// A contact card, a location, a missed call, something the messenger cannot pass on and a type
/// this program does not know: each says what it is instead of an empty bubble.
async fn every_other_kind(app: &fantoccini::Client, hub: &Hub, channel: &str) -> Result<()> {
    let kinds = [
        "vcard",
        "geo",
        "missing_call",
        "unsupported",
        "wapi_template",
    ];
    let messages: Vec<_> = kinds
        .iter()
        .map(|kind| {
            json!({"messageId": format!("e2e-{kind}"), "channelId": channel, "chatType": "whatsapp",
                "chatId": "79164569812", "dateTime": "2026-12-06T11:00:00.000Z", "type": kind,
                "status": "inbound", "contact": {"name": "Ирина"}})
        })
        .collect();
    assert_eq!(hub.webhook(json!({ "messages": messages })).await?, 200);
    let shown =
        "return [...document.querySelectorAll('.message .system')].map(e => e.textContent);";
    until("each kind said in words", WAIT, || async {
        let lines: Vec<String> = serde_json::from_value(app.execute(shown, vec![]).await?)?;
        Ok(lines.len() >= kinds.len())
    })
    .await?;
    let lines: Vec<String> = serde_json::from_value(app.execute(shown, vec![]).await?)?;
    for said in [
        "Contact",
        "Location",
        "Missed call",
        "A message this messenger cannot pass on",
        "A message of a kind Switchboard does not show yet",
    ] {
        assert!(lines.iter().any(|l| l == said), "{said}: {lines:?}");
    }
    app.execute(
        "const l = document.querySelector('.messages'); l.scrollTop = l.scrollHeight;",
        vec![],
    )
    .await?;
    screenshot(app, "media-every-kind.png").await?;
    Ok(())
}

/// The seller attaches a photo with the attach button's file picker and a caption: the photo
/// goes first (the provider downloads exactly its bytes), the caption after it; the window
/// shows the photo from this desktop's copy, then as the hub's message, read.
async fn send_a_photo(app: &fantoccini::Client, fake: &ProviderFake) -> Result<()> {
    let photo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../provider-fake/media/invoice-photo.png")
        .canonicalize()?;
    let size = std::fs::metadata(&photo)?.len();
    let before = number(
        app,
        "return document.querySelectorAll('[data-testid=media-image]').length;",
    )
    .await?;
    app.find(fantoccini::Locator::Css("[data-testid=attach-input]"))
        .await?
        .send_keys(&photo.to_string_lossy())
        .await?;
    until("the photo waits to be sent", WAIT, || async {
        Ok(number(
            app,
            "return document.querySelectorAll('[data-testid=attached-file]').length;",
        )
        .await?
            == 1.0)
    })
    .await?;
    type_into(app, "reply", "Ваш счёт, подписанный").await?;
    click(app, "[data-testid=send]").await?;
    until("the provider downloads the photo", WAIT, || async {
        Ok(!fake.fetched().await?.is_empty())
    })
    .await?;
    let fetched = fake.fetched().await?;
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert_eq!(
        fetched[0]["size"].as_u64(),
        Some(size),
        "exactly the file's bytes"
    );
    assert_eq!(fetched[0]["contentType"], "image/png");
    until(
        "the photo and its caption reach the provider, in order",
        WAIT,
        || async {
            let sent = fake.sent().await?;
            Ok(sent.len() == 2)
        },
    )
    .await?;
    let sent = fake.sent().await?;
    assert!(
        sent[0]["contentUri"]
            .as_str()
            .is_some_and(|u| u.contains("/public/files/")),
        "{sent:?}"
    );
    assert_eq!(sent[1]["text"], "Ваш счёт, подписанный");
    until("the sent photo is read, shown with its pixels", WAIT, || async {
        let shown = number(
            app,
            "return [...document.querySelectorAll('.message.out [data-testid=media-image]')].filter(i => i.complete && i.naturalWidth > 0).length;",
        )
        .await?;
        let read = number(
            app,
            "return [...document.querySelectorAll('.message.out')].filter(m => m.querySelector('[data-testid=media-image]') && m.querySelector('[data-status=read]')).length;",
        )
        .await?;
        Ok(shown >= 1.0 && read >= 1.0)
    })
    .await?;
    let after = number(
        app,
        "return document.querySelectorAll('[data-testid=media-image]').length;",
    )
    .await?;
    assert_eq!(after, before + 1.0);
    screenshot(app, "media-sent.png").await?;
    Ok(())
}
