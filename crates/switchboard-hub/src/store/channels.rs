//! Channels: sandbox ones, and the provider's list kept in step.

use super::*;
use crate::json::*;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::collections::BTreeSet;
use switchboard_core::{Channel, ChannelState, Transport};

pub(super) fn channel_row(r: &Row) -> rusqlite::Result<Channel> {
    let transport: String = r.get(1)?;
    let state: String = r.get(3)?;
    Ok(Channel {
        id: r.get(0)?,
        transport: Transport::parse(&transport).unwrap_or(Transport::Whatsapp),
        name: r.get(2)?,
        state: ChannelState::parse(&state),
        open_lines: r.get(4)?,
    })
}

pub fn channels(conn: &Connection) -> rusqlite::Result<Vec<Channel>> {
    let mut stmt = conn
        .prepare("SELECT id, transport, name, state, open_lines FROM channels ORDER BY name, id")?;
    let rows = stmt.query_map([], channel_row)?;
    rows.collect()
}

pub fn channel(conn: &Connection, id: &str) -> rusqlite::Result<Option<Channel>> {
    conn.one(
        "SELECT id, transport, name, state, open_lines FROM channels WHERE id = ?1",
        [id],
        channel_row,
    )
    .optional()
}

pub fn insert_channel(conn: &Connection, c: &NewChannel) -> rusqlite::Result<Channel> {
    let channel = Channel {
        id: new_id(),
        transport: c.transport,
        name: c.name.clone(),
        state: ChannelState::Active,
        open_lines: c.open_lines,
    };
    conn.exec(
        "INSERT INTO channels (id, transport, name, state, open_lines, sandbox) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
        params![channel.id, channel.transport.as_str(), channel.name, channel.state.as_str(), channel.open_lines],
    )?;
    record_change(conn, ChangeKind::Channels, &channel.id)?;
    Ok(channel)
}

pub fn patch_channel(
    conn: &Connection,
    id: &str,
    p: &ChannelPatch,
) -> rusqlite::Result<Option<Channel>> {
    let Some(mut c) = channel(conn, id)? else {
        return Ok(None);
    };
    if let Some(s) = p.state {
        c.state = s;
    }
    if let Some(n) = &p.name {
        c.name.clone_from(n);
    }
    if let Some(o) = p.open_lines {
        c.open_lines = o;
    }
    conn.exec(
        "UPDATE channels SET state = ?2, name = ?3, open_lines = ?4 WHERE id = ?1",
        params![c.id, c.state.as_str(), c.name, c.open_lines],
    )?;
    record_change(conn, ChangeKind::Channels, &c.id)?;
    Ok(Some(c))
}

pub fn channel_view(c: &Channel) -> ChannelView {
    ChannelView {
        id: c.id.clone(),
        transport: c.transport,
        name: c.name.clone(),
        state: c.state,
        open_lines: c.open_lines,
    }
}

/// The provider's channel list: new channels are added (named after their transport and
/// account), states are refreshed, and provider channels no longer listed become `deleted`.
pub fn upsert_provider_channels(conn: &Connection, listed: &[ProviderChannel]) -> Db {
    let mut seen = BTreeSet::new();
    for p in listed {
        let Some(transport) = Transport::parse(&p.transport) else {
            tracing::warn!(channel = %p.channel_id, transport = %p.transport, "provider channel of an unknown transport skipped");
            continue;
        };
        seen.insert(p.channel_id.clone());
        let state = ChannelState::parse(&p.state);
        let existing: Option<(String, Option<String>)> = conn
            .query_row(
                "SELECT state, plain_id FROM channels WHERE id = ?1",
                [&p.channel_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match existing {
            None => {
                let name = format!("{} {}", transport_label(transport), p.plain_id)
                    .trim()
                    .to_owned();
                conn.exec(
                    "INSERT INTO channels (id, transport, name, state, open_lines, sandbox, plain_id) VALUES (?1, ?2, ?3, ?4, 0, 0, ?5)",
                    params![p.channel_id, transport.as_str(), name, state.as_str(), p.plain_id],
                )?;
                record_change(conn, ChangeKind::Channels, &p.channel_id)?;
            }
            Some((old_state, old_plain)) => {
                if old_state != state.as_str() || old_plain.as_deref() != Some(&p.plain_id) {
                    conn.exec(
                        "UPDATE channels SET state = ?2, plain_id = ?3 WHERE id = ?1",
                        params![p.channel_id, state.as_str(), p.plain_id],
                    )?;
                    record_change(conn, ChangeKind::Channels, &p.channel_id)?;
                }
            }
        }
    }
    let gone: Vec<String> = {
        let mut stmt = conn
            .prepare_cached("SELECT id FROM channels WHERE sandbox = 0 AND state <> 'deleted'")?;
        let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
        ids.collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect()
    };
    for id in gone {
        conn.exec("UPDATE channels SET state = 'deleted' WHERE id = ?1", [&id])?;
        record_change(conn, ChangeKind::Channels, &id)?;
    }
    Ok(())
}

/// A `channelsUpdates` webhook item: the channel's new state (unknown channels are ignored).
pub fn set_channel_state(conn: &Connection, id: &str, state: &str) -> rusqlite::Result<bool> {
    let state = ChannelState::parse(state);
    let n = conn.exec(
        "UPDATE channels SET state = ?2 WHERE id = ?1 AND sandbox = 0 AND state <> ?2",
        params![id, state.as_str()],
    )?;
    if n > 0 {
        record_change(conn, ChangeKind::Channels, id)?;
    }
    Ok(n > 0)
}

pub(super) fn transport_label(t: Transport) -> &'static str {
    match t {
        Transport::Whatsapp => "WhatsApp",
        Transport::Wapi => "WhatsApp Business",
        Transport::Tgapi => "Telegram",
        Transport::Telegram => "Telegram bot",
        Transport::Viber => "Viber",
        Transport::Instagram => "Instagram",
        Transport::Vk => "VK",
        Transport::Avito => "Avito",
        Transport::Max => "MAX",
    }
}

/// A channel as the provider lists it (`GET /v3/channels`).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProviderChannel {
    pub channel_id: String,
    pub transport: String,
    #[serde(default)]
    pub plain_id: String,
    pub state: String,
}
